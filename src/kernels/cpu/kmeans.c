/* CPU twins of the KMeans steps. Assignment scores rows against centroids
 * with one sgemm per tile (|x - c|^2 = |x|^2 - 2 x.c + |c|^2); the update
 * sums rows per cluster in double over fixed chunks, combined in chunk
 * order, so centroids do not depend on the thread count. The distance, tie
 * and mean rules are shared with the CUDA twin (../shared_math.h). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "cpu_ops.h"

#define GR_KM_TILE 2048  /* rows per sgemm tile */
#define GR_KM_CHUNK 4096 /* rows per partial sum in the update */

gr_status gr_cpu_kmeans_assign(gr_backend *be, int32_t *labels, float *min_d2, const float *X,
                               int64_t n, int d, const float *C, int k) {
  const int threads = be->n_threads > 0 ? be->n_threads : 1;
  float *c_norm = malloc(sizeof(float) * (size_t)k);
  float *S = malloc(sizeof(float) * (size_t)GR_KM_TILE * k * threads); /* a tile per thread */
  if (!c_norm || !S) {
    free(c_norm);
    free(S);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate KMeans scores");
  }
  for (int c = 0; c < k; c++) {
    double s = 0;
    for (int j = 0; j < d; j++)
      s += (double)C[(size_t)c * d + j] * C[(size_t)c * d + j];
    c_norm[c] = (float)s;
  }
  /* each thread scores whole tiles with a one-thread sgemm: no barrier per
   * tile, and a tile's scores do not depend on the thread count */
  const int64_t n_tiles = (n + GR_KM_TILE - 1) / GR_KM_TILE;
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t t = 0; t < n_tiles; t++) {
    float *St = S + (size_t)omp_get_thread_num() * GR_KM_TILE * k;
    const int64_t r0 = t * GR_KM_TILE;
    const int nb = (int)(n - r0 < GR_KM_TILE ? n - r0 : GR_KM_TILE);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, 1.0f, X + (size_t)r0 * d, d, C,
                d, 0.0f, St, k);
    for (int b = 0; b < nb; b++) {
      const float *x = X + (size_t)(r0 + b) * d;
      double xn = 0;
      for (int j = 0; j < d; j++)
        xn += (double)x[j] * x[j];
      int32_t best = 0;
      float best_d = INFINITY;
      for (int c = 0; c < k; c++)
        gr_km_consider(gr_km_dist((float)xn, St[(size_t)b * k + c], c_norm[c]), c, &best_d, &best);
      labels[r0 + b] = best;
      if (min_d2) min_d2[r0 + b] = gr_km_clamp(best_d);
    }
  }
  openblas_set_num_threads(blas_threads);
  free(c_norm);
  free(S);
  return GR_OK;
}

gr_status gr_cpu_kmeans_update(gr_backend *be, float *C, int64_t *counts, const float *X,
                               const int32_t *labels, int64_t n, int d, int k) {
  const int64_t n_chunks = (n + GR_KM_CHUNK - 1) / GR_KM_CHUNK;
  const size_t kd = (size_t)k * d;
  double *part = calloc((size_t)(n_chunks ? n_chunks : 1) * kd, sizeof(double));
  int64_t *part_n = calloc((size_t)(n_chunks ? n_chunks : 1) * k, sizeof(int64_t));
  if (!part || !part_n) {
    free(part);
    free(part_n);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate KMeans partial sums");
  }
#pragma omp parallel for num_threads(be->n_threads) schedule(dynamic, 1)
  for (int64_t ch = 0; ch < n_chunks; ch++) {
    double *sum = part + (size_t)ch * kd;
    int64_t *cnt = part_n + (size_t)ch * k;
    const int64_t end = (ch + 1) * GR_KM_CHUNK < n ? (ch + 1) * GR_KM_CHUNK : n;
    for (int64_t r = ch * GR_KM_CHUNK; r < end; r++) {
      const int c = labels[r];
      const float *x = X + (size_t)r * d;
      double *s = sum + (size_t)c * d;
      for (int j = 0; j < d; j++)
        s[j] += x[j];
      cnt[c]++;
    }
  }
  for (int c = 0; c < k; c++) {
    int64_t total = 0;
    for (int64_t ch = 0; ch < n_chunks; ch++)
      total += part_n[(size_t)ch * k + c];
    counts[c] = total;
    if (total == 0) continue; /* the caller relocates empty clusters */
    for (int j = 0; j < d; j++) {
      double s = 0;
      for (int64_t ch = 0; ch < n_chunks; ch++)
        s += part[(size_t)ch * kd + (size_t)c * d + j];
      C[(size_t)c * d + j] = gr_km_mean(s, total);
    }
  }
  free(part);
  free(part_n);
  return GR_OK;
}
