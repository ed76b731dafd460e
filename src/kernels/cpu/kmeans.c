/* CPU twins of the KMeans steps. One Lloyd step is one pass over X: each
 * GR_KM_CHUNK-row chunk is assigned and summed while its rows are in cache.
 * Up to GR_KM_DIRECT_K clusters, rows are scored 8 at a time against 8
 * clusters at a time held in vector registers (sgemm's packing costs more
 * than it saves at k = 8); above it a one-thread sgemm scores tiles of a
 * chunk. Chunks go to
 * threads dynamically, but each chunk sums into its own slot and the slots
 * are added to the running sums in chunk order, so nothing depends on the
 * thread count. The distance, tie and chunk rules are shared with the CUDA
 * twin (../shared_math.h). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "cpu_ops.h"
#include "kmeans_dots.h"
#include "packed_rows.h"

/* Up to this many clusters: dot products row by row. On the 2-core test VM
 * (OpenBLAS on its generic kernels) they beat sgemm 1.6-2x at k = 64-256. */
#define GR_KM_DIRECT_K 128
#define GR_KM_TILE 1024 /* rows per sgemm tile above it; divides GR_KM_CHUNK */
/* Chunk partial sums held at once (at least one chunk per thread). */
#define GR_KM_PART_BYTES ((size_t)32 << 20)

gr_status gr_cpu_kmeans_row_norms(gr_backend *be, float *out, const float *X, int64_t n, int d) {
#pragma omp parallel for num_threads(be->n_threads) schedule(static)
  for (int64_t r = 0; r < n; r++)
    out[r] = gr_km_row_norm(X + (size_t)r * d, d);
  return GR_OK;
}

/* What every chunk of one call shares. */
typedef struct km_job {
  int32_t *labels;
  float *min_d2;       /* may be NULL */
  const float *X;      /* (n, d) */
  const float *x_norm; /* (n) */
  const float *C;      /* (k, d) */
  const float *Ct;     /* direct path: C transposed, (d, gr_km_direct_lanes(k)), zero padded */
  const float *c_norm; /* (k) */
  const gr_packed_rows *packed; /* direct path: X's rows packed, read for the dots; or NULL */
  const float *T;               /* with packed: Ct's nibble sums (kmeans_dots.h) */
  int d, k;
} km_job;

/* One row's label and distance from its dots, and with sum its addition
 * to sum (k, d) and cnt (k). */
static inline void finish_row(const km_job *jb, int64_t r, const float *dot, double *sum,
                              int64_t *cnt) {
  const int d = jb->d, k = jb->k;
  const float xn = jb->x_norm[r];
  int32_t best = 0;
  float best_d = INFINITY;
  for (int c = 0; c < k; c++)
    gr_km_consider(gr_km_dist(xn, dot[c], jb->c_norm[c]), c, &best_d, &best);
  jb->labels[r] = best;
  if (jb->min_d2) jb->min_d2[r] = gr_km_clamp(best_d);
  if (!sum) return;
  const float *x = jb->X + (size_t)r * d;
  double *s = sum + (size_t)best * d;
#pragma omp simd
  for (int j = 0; j < d; j++)
    s[j] += x[j];
  cnt[best]++;
}

/* assign_rows on the direct path over packed rows: the dots from them
 * (kmeans_dots.h), the sums from X (any order of a row's features gives
 * the same double sums: the binary ones add 0 or 1 exactly). */
static void packed_rows(const km_job *jb, int64_t r0, int64_t r1, float *scores, double *sum,
                        int64_t *cnt) {
  const gr_packed_rows *p = jb->packed;
  const int kp = gr_km_direct_lanes(jb->k);
  for (int64_t t0 = r0; t0 < r1; t0 += GR_KM_ROWS) {
    const int nb = (int)(r1 - t0 < GR_KM_ROWS ? r1 - t0 : GR_KM_ROWS);
    const unsigned char *x[GR_KM_ROWS], *next[GR_KM_ROWS];
    for (int b = 0; b < GR_KM_ROWS; b++) /* a short group repeats its first row */
      x[b] = p->rows + (size_t)(t0 + (b < nb ? b : 0)) * p->stride;
    const int64_t ahead = t0 + 2 * GR_KM_ROWS;
    const int prefetch = ahead + GR_KM_ROWS <= r1;
    for (int b = 0; b < GR_KM_ROWS; b++)
      next[b] = prefetch ? p->rows + (size_t)(ahead + b) * p->stride : NULL;
    for (int g = 0; g < kp / 8; g++)
      gr_km_packed_dots8(scores, x, jb->Ct, jb->T, p->nf, p->n_bytes, p->stride, kp, g,
                         g == 0 && prefetch ? next : NULL);
    for (int b = 0; b < nb; b++)
      finish_row(jb, t0 + b, scores + (size_t)b * kp, sum, cnt);
  }
}

/* Rows [r0, r1): labels, min_d2 and, when sum is not NULL, the rows added
 * to sum (k, d) and cnt (k) in row order. scores: GR_KM_TILE * k floats
 * (sgemm path) or GR_KM_ROWS * gr_km_direct_lanes(k) (direct path). */
static void assign_rows(const km_job *jb, int64_t r0, int64_t r1, float *scores, double *sum,
                        int64_t *cnt) {
  const int d = jb->d, k = jb->k;
  if (k <= GR_KM_DIRECT_K) {
    const int kp = gr_km_direct_lanes(k);
    if (jb->packed) {
      packed_rows(jb, r0, r1, scores, sum, cnt);
      return;
    }
    for (int64_t t0 = r0; t0 < r1; t0 += GR_KM_ROWS) {
      const int nb = (int)(r1 - t0 < GR_KM_ROWS ? r1 - t0 : GR_KM_ROWS);
      const float *x[GR_KM_ROWS];
      for (int b = 0; b < GR_KM_ROWS; b++) /* a short group repeats its first row */
        x[b] = jb->X + (size_t)(t0 + (b < nb ? b : 0)) * d;
      /* the rows two groups ahead, when they are in this range */
      const int64_t ahead = t0 + 2 * GR_KM_ROWS;
      const int prefetch = ahead + GR_KM_ROWS <= r1;
      const float *next[GR_KM_ROWS];
      for (int b = 0; b < GR_KM_ROWS; b++)
        next[b] = prefetch ? jb->X + (size_t)(ahead + b) * d : NULL;
      for (int g = 0; g < kp / 8; g++)
        gr_km_rows_dots8(scores, x, jb->Ct, d, kp, g, g == 0 && prefetch ? next : NULL);
      for (int b = 0; b < nb; b++)
        finish_row(jb, t0 + b, scores + (size_t)b * kp, sum, cnt);
    }
    return;
  }
  for (int64_t t0 = r0; t0 < r1; t0 += GR_KM_TILE) {
    const int nb = (int)(r1 - t0 < GR_KM_TILE ? r1 - t0 : GR_KM_TILE);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, 1.0f, jb->X + (size_t)t0 * d, d,
                jb->C, d, 0.0f, scores, k);
    for (int b = 0; b < nb; b++)
      finish_row(jb, t0 + b, scores + (size_t)b * k, sum, cnt);
  }
}

/* Assignment, and with sums the chunked accumulation (see backend.h). */
static gr_status assign_and_sum(gr_backend *be, int32_t *labels, float *min_d2, double *sums,
                                int64_t *counts, const float *X, const float *x_norm, int64_t n,
                                int d, const float *C, int k, const gr_packed_rows *packed) {
  if (k < 1 || d < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans: k = %d and d = %d must be >= 1", k, d);
  GR_TRY(gr_packed_rows_check(packed, n, d));
  if (n <= 0) return GR_OK;
  const int threads = be->n_threads > 0 ? be->n_threads : 1;
  const int direct = k <= GR_KM_DIRECT_K;
  const size_t kd = (size_t)k * d;
  const int kp = direct ? gr_km_direct_lanes(k) : 0;
  const size_t per_thread = direct ? (size_t)GR_KM_ROWS * kp : (size_t)GR_KM_TILE * k;
  const int64_t n_chunks = (n + GR_KM_CHUNK - 1) / GR_KM_CHUNK;
  int64_t wave = 0; /* chunks whose partial sums are held at once */
  if (sums) {
    wave = (int64_t)(GR_KM_PART_BYTES / (sizeof(double) * kd));
    if (wave < threads) wave = threads;
    if (wave > n_chunks) wave = n_chunks;
  }
  if (!direct) packed = NULL; /* sgemm reads X */
  float *c_norm = malloc(sizeof(float) * (size_t)k);
  float *Ct = direct ? calloc((size_t)d * kp, sizeof(float)) : NULL;
  float *T = packed ? malloc(sizeof(float) * gr_km_nibble_floats(packed->n_bytes, kp)) : NULL;
  float *scores = malloc(sizeof(float) * per_thread * threads);
  double *part = sums ? malloc(sizeof(double) * kd * (size_t)wave) : NULL;
  int64_t *part_n = sums ? malloc(sizeof(int64_t) * (size_t)k * (size_t)wave) : NULL;
  if (!c_norm || !scores || (direct && !Ct) || (packed && !T) || (sums && (!part || !part_n))) {
    free(c_norm);
    free(Ct);
    free(T);
    free(scores);
    free(part);
    free(part_n);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate KMeans scratch (%d clusters, %d features)", k, d);
  }
  gr_km_prepare_centers(Ct, c_norm, C, k, d, packed ? packed->order : NULL); /* Ct NULL: sgemm */
  if (packed) gr_km_prepare_nibbles(T, Ct, packed->nf, packed->nb, packed->n_bytes, kp);
  const km_job jb = {labels, min_d2, X, x_norm, C, Ct, c_norm, packed, T, d, k};
  const int blas_threads = direct ? 0 : openblas_get_num_threads();
  if (!direct) openblas_set_num_threads(1); /* one sgemm per thread, a fixed shape */
  for (int64_t w0 = 0; w0 < n_chunks; w0 += (wave ? wave : n_chunks)) {
    const int64_t w1 = wave && w0 + wave < n_chunks ? w0 + wave : n_chunks;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t ch = w0; ch < w1; ch++) {
      double *s = NULL;
      int64_t *cnt = NULL;
      if (sums) {
        s = part + kd * (size_t)(ch - w0);
        cnt = part_n + (size_t)k * (size_t)(ch - w0);
        memset(s, 0, sizeof(double) * kd);
        memset(cnt, 0, sizeof(int64_t) * (size_t)k);
      }
      const int64_t r1 = (ch + 1) * GR_KM_CHUNK < n ? (ch + 1) * GR_KM_CHUNK : n;
      assign_rows(&jb, ch * GR_KM_CHUNK, r1, scores + per_thread * (size_t)omp_get_thread_num(), s,
                  cnt);
    }
    if (!sums) continue;
    for (int64_t ch = w0; ch < w1; ch++) { /* chunk order */
      const double *s = part + kd * (size_t)(ch - w0);
      const int64_t *cnt = part_n + (size_t)k * (size_t)(ch - w0);
      for (size_t i = 0; i < kd; i++)
        sums[i] += s[i];
      for (int c = 0; c < k; c++)
        counts[c] += cnt[c];
    }
  }
  if (!direct) openblas_set_num_threads(blas_threads);
  free(c_norm);
  free(Ct);
  free(T);
  free(scores);
  free(part);
  free(part_n);
  return GR_OK;
}

gr_status gr_cpu_kmeans_assign(gr_backend *be, int32_t *labels, float *min_d2, const float *X,
                               const float *x_norm, int64_t n, int d, const float *C, int k,
                               const gr_packed_rows *packed) {
  return assign_and_sum(be, labels, min_d2, NULL, NULL, X, x_norm, n, d, C, k, packed);
}

gr_status gr_cpu_kmeans_step(gr_backend *be, int32_t *labels, float *min_d2, double *sums,
                             int64_t *counts, const float *X, const float *x_norm, int64_t n, int d,
                             const float *C, int k, const gr_packed_rows *packed) {
  if (!sums || !counts) return gr_fail(GR_ERR_INVALID_ARG, "kmeans step: sums and counts needed");
  return assign_and_sum(be, labels, min_d2, sums, counts, X, x_norm, n, d, C, k, packed);
}
