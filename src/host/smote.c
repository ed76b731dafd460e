/* Neighbours come from one distance tile per block of rows (sgemm, then the
 * shared top-k selection with the row itself excluded, ties to the lower
 * index); samples come from one seeded stream, so the output depends only
 * on the seed and the input. */
#include "smote.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "kernels/cpu/cpu_ops.h"

#define GR_SMOTE_TILE 1024

/* nn (n, k): the k nearest other rows of each row. */
static gr_status nearest(int32_t *nn, const float *P, int64_t n, int d, int k, int n_threads) {
  float *norm = malloc(sizeof(float) * (size_t)n);
  float *S = malloc(sizeof(float) * (size_t)GR_SMOTE_TILE * (size_t)n);
  if (!norm || !S) {
    free(norm);
    free(S);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate SMOTE distances");
  }
  for (int64_t i = 0; i < n; i++) {
    double s = 0;
    for (int j = 0; j < d; j++)
      s += (double)P[i * d + j] * P[i * d + j];
    norm[i] = (float)s;
  }
  for (int64_t r0 = 0; r0 < n; r0 += GR_SMOTE_TILE) {
    const int nb = (int)(n - r0 < GR_SMOTE_TILE ? n - r0 : GR_SMOTE_TILE);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, (int)n, d, 1.0f, P + r0 * d, d, P, d,
                0.0f, S, (int)n);
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int b = 0; b < nb; b++) {
      float *row = S + (size_t)b * n;
      /* rank by -|p_i - p_j|^2 (|p_i|^2 is common to the row, so omitted) */
      for (int64_t j = 0; j < n; j++)
        row[j] = 2.0f * row[j] - norm[j];
      const int32_t self = (int32_t)(r0 + b);
      float best[GR_TOPK_MAX];
      gr_cpu_select_topk(nn + (r0 + b) * k, best, row, n, &self, 1, NULL, k);
    }
  }
  free(norm);
  free(S);
  return GR_OK;
}

gr_status gr_smote(float *out, int64_t *base, int64_t *neighbor, const float *P, int64_t n_pos,
                   int d, int k, int64_t n_new, uint64_t seed, int n_threads) {
  if (n_pos < 2) return gr_fail(GR_ERR_INVALID_ARG, "SMOTE needs at least 2 minority rows");
  if (k < 1 || d < 1 || n_new < 0)
    return gr_fail(GR_ERR_INVALID_ARG, "SMOTE: k >= 1, d >= 1 and n_new >= 0");
  if (k > n_pos - 1) k = (int)(n_pos - 1);
  if (k > GR_TOPK_MAX) k = GR_TOPK_MAX;
  if (n_pos > INT32_MAX) return gr_fail(GR_ERR_INVALID_ARG, "SMOTE: too many minority rows");
  int32_t *nn = malloc(sizeof(int32_t) * (size_t)n_pos * (size_t)k);
  if (!nn) return gr_fail(GR_ERR_NOMEM, "cannot allocate SMOTE neighbours");
  gr_status st = nearest(nn, P, n_pos, d, k, n_threads > 0 ? n_threads : 1);
  if (st == GR_OK) {
    gr_rng rng;
    gr_rng_seed(&rng, seed);
    for (int64_t s = 0; s < n_new; s++) {
      const uint64_t pick = gr_rng_below(&rng, (uint64_t)n_pos * (uint64_t)k);
      const int64_t u = (int64_t)(pick / (uint64_t)k), v = nn[pick];
      const float gap = (float)gr_rng_uniform(&rng);
      for (int j = 0; j < d; j++)
        out[s * d + j] = P[u * d + j] + gap * (P[v * d + j] - P[u * d + j]);
      if (base) base[s] = u;
      if (neighbor) neighbor[s] = v;
    }
  }
  free(nn);
  return st;
}
