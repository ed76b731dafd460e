/* Neighbours come from the backend's shared top-k (CPU or CUDA): with
 * q_i = [2 p_i, -1] and y_j = [p_j, |p_j|^2], q_i . y_j = 2 p_i.p_j - |p_j|^2
 * ranks the rows j by -|p_i - p_j|^2 (|p_i|^2 is common to row i), the row
 * itself excluded, ties to the lower index. Samples come from one seeded
 * stream, so the output depends only on the seed, the input and the
 * backend. */
#include "smote.h"

#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "csr.h"
#include "kernels/shared_math.h"
#include "ranking.h"

/* nn (n, k): the k nearest other rows of each row. */
static gr_status nearest(gr_context *ctx, int32_t *nn, const float *P, int64_t n, int d, int k) {
  const int e = d + 1;
  float *Q = malloc(sizeof(float) * (size_t)n * e), *Y = malloc(sizeof(float) * (size_t)n * e);
  float *scores = malloc(sizeof(float) * (size_t)n * k);
  gr_csr self = {
      n,   n, n, malloc(sizeof(int64_t) * (size_t)(n + 1)), malloc(sizeof(int32_t) * (size_t)n),
      NULL};
  gr_status st = Q && Y && scores && self.indptr && self.indices
                     ? GR_OK
                     : gr_fail(GR_ERR_NOMEM, "cannot allocate SMOTE neighbour search");
  for (int64_t i = 0; st == GR_OK && i < n; i++) {
    const float *p = P + (size_t)i * d;
    double norm = 0;
    for (int j = 0; j < d; j++) {
      Q[(size_t)i * e + j] = 2.0f * p[j];
      Y[(size_t)i * e + j] = p[j];
      norm += (double)p[j] * p[j];
    }
    Q[(size_t)i * e + d] = -1.0f;
    Y[(size_t)i * e + d] = (float)norm;
    self.indptr[i] = i;
    self.indices[i] = (int32_t)i;
  }
  if (st == GR_OK) {
    self.indptr[n] = n;
    st = gr_rank_items(ctx, Q, n, NULL, n, Y, n, e, &self, NULL, k, nn, scores);
  }
  free(Q);
  free(Y);
  free(scores);
  free(self.indptr);
  free(self.indices);
  return st;
}

gr_status gr_smote(gr_context *ctx, float *out, int64_t *base, int64_t *neighbor, float *gaps,
                   const float *P, int64_t n_pos, int d, int k, int64_t n_new, uint64_t seed) {
  if (n_pos < 2) return gr_fail(GR_ERR_INVALID_ARG, "SMOTE needs at least 2 minority rows");
  if (k < 1 || d < 1 || n_new < 0)
    return gr_fail(GR_ERR_INVALID_ARG, "SMOTE: k >= 1, d >= 1 and n_new >= 0");
  if (k > n_pos - 1) k = (int)(n_pos - 1);
  if (k > GR_TOPK_MAX) k = GR_TOPK_MAX;
  if (n_pos > INT32_MAX) return gr_fail(GR_ERR_INVALID_ARG, "SMOTE: too many minority rows");
  int32_t *nn = malloc(sizeof(int32_t) * (size_t)n_pos * (size_t)k);
  if (!nn) return gr_fail(GR_ERR_NOMEM, "cannot allocate SMOTE neighbours");
  gr_status st = nearest(ctx, nn, P, n_pos, d, k);
  if (st == GR_OK) {
    gr_rng rng;
    gr_rng_seed(&rng, seed);
    for (int64_t s = 0; s < n_new; s++) {
      const uint64_t pick = gr_rng_below(&rng, (uint64_t)n_pos * (uint64_t)k);
      const int64_t u = (int64_t)(pick / (uint64_t)k), v = nn[pick];
      const float gap = (float)gr_rng_uniform(&rng);
      for (int j = 0; out && j < d; j++)
        out[s * d + j] = gr_smote_lerp(P[u * d + j], P[v * d + j], gap);
      if (base) base[s] = u;
      if (neighbor) neighbor[s] = v;
      if (gaps) gaps[s] = gap;
    }
  }
  free(nn);
  return st;
}
