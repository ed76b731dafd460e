/* The CPU bounded Lloyd step (backend.h: kmeans_step_bounded). Elkan
 * (2003) keeps per row an upper bound on the distance to its center and a
 * lower bound on the distance to each other center; after the centers
 * move, the bounds move by the drift, and a row whose upper bound stays
 * below every other center's lower bound (or half the gap between the two
 * centers) keeps its label without being read. On the bench's market a
 * step then costs a pass over the bounds (40 bytes a row at k = 8) and the
 * few rows near a boundary, instead of a pass over X (760 bytes a row).
 *
 * The rows that are scored get exactly the distances kmeans_assign
 * computes (the same dot kernel, kmeans_dots.h), and a row is skipped only
 * with room for their rounding (gr_km_dist_error), so the labels are those
 * of the plain step. Rows go to threads in chunks; each thread keeps its
 * own fixed-point sum deltas, added up after, exactly. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "cpu_ops.h"
#include "kmeans_dots.h"
#include "packed_rows.h"

#define GR_KMB_CHUNK 4096 /* rows per task */

typedef struct kmb_job {
  int32_t *labels;
  gr_km_bounds *b;
  const float *X, *x_norm, *Ct, *c_norm;
  const gr_packed_rows *packed; /* X's rows packed, read for the dots; or NULL */
  const float *T;               /* with packed: Ct's nibble sums (kmeans_dots.h) */
  /* the fixed point in the rows' order (X's, or the packed one): the
   * scales (d), and with packed rows each binary feature's 1 (nb whole
   * parts, then nb fractions) */
  const double *scale;
  const int64_t *one;
  float c_norm_max;
  int d, k, kp;
} kmb_job;

/* A float at or above v >= 0, and one at or below it: float rounding is
 * within 2^-24 of v, less than the nudge. */
static inline float up_f(double v) { return (float)(v * (1.0 + 0x1p-20)); }
static inline float down_f(double v) { return (float)(v * (1.0 - 0x1p-20)); }

/* Moves row r's bounds by the drift of the centers. @return 1 when its
 * label stands, 0 when it has to be scored. The row's own center counts
 * too, harmlessly: its gap is infinite (bounded_inputs), and its lower
 * bound is not used. */
static inline __attribute__((always_inline)) int row_stands(const kmb_job *jb, int64_t r,
                                                            const int k) {
  const int32_t a = jb->labels[r];
  if (a < 0) return 0;
  const gr_km_bounds *b = jb->b;
  const double u = (double)b->upper[r] + b->drift[a];
  const double margin = u * u + 2.0 * gr_km_dist_error(jb->d, jb->x_norm[r], jb->c_norm_max);
  const double *gap = b->gap + (size_t)a * k, *drift = b->drift;
  float *lower = b->lower + (size_t)r * k;
  int stands = 1;
#pragma omp simd reduction(& : stands)
  for (int c = 0; c < k; c++) {
    const double l = (double)lower[c] - drift[c];
    const double other = l > gap[c] - u ? l : gap[c] - u;
    stands &= (other > 0) & (margin < other * other);
    lower[c] = down_f(l > 0 ? l : 0);
  }
  b->upper[r] = up_f(u);
  return stands;
}

/* A thread's sum deltas: sd (k, 2 d) in the rows' order, each cluster's
 * whole parts, then its fractions (gr_km_fixed); cd (k) the counts; with
 * packed rows bits (k, 8 n_bytes) how many rows with each binary feature
 * set came in, less those that went (the fixed-point 1 times that is
 * added to sd at the end); scored, the rows scored. */
typedef struct kmb_acc {
  int64_t *sd, *cd, *bits, *scored;
} kmb_acc;

typedef int64_t kmb_i64x8 __attribute__((vector_size(64), aligned(8)));

/* Row r added to (sign 1) or taken out of (sign -1) cluster c. A packed
 * row is read from the packed copy (in cache: it was just scored), its
 * bits counted 8 at a time with no branches. */
static inline void move_row(const kmb_job *jb, const kmb_acc *acc, int64_t r, int32_t c,
                            int64_t sign) {
  const int d = jb->d;
  const gr_packed_rows *p = jb->packed;
  const int nf = p ? p->nf : d;
  const float *x = p ? gr_packed_rows_floats(p, r) : jb->X + (size_t)r * d;
  const double *scale = jb->scale, frac = jb->b->frac_scale;
  int64_t *to = acc->sd + (size_t)c * 2 * d;
#pragma omp simd
  for (int j = 0; j < nf; j++) {
    int64_t hi, lo;
    gr_km_fixed(x[j], scale[j], frac, &hi, &lo);
    to[j] += sign * hi;
    to[d + j] += sign * lo;
  }
  acc->cd[c] += sign;
  if (!p) return;
  const unsigned char *bits = gr_packed_rows_bits(p, r);
  int64_t *count = acc->bits + (size_t)c * 8 * p->n_bytes;
  const kmb_i64x8 lane = {1, 2, 4, 8, 16, 32, 64, 128}, zero = {0};
  for (int q = 0; q < p->n_bytes; q++) {
    kmb_i64x8 v;
    memcpy(&v, count + 8 * q, sizeof v);
    const kmb_i64x8 set = ((zero + bits[q]) & lane) != 0; /* -1 where set, else 0 */
    v += set & (zero + sign);
    memcpy(count + 8 * q, &v, sizeof v);
  }
}

/* Row r from its dots: the label (gr_km_consider's order, as
 * kmeans_assign), fresh bounds, and when the label changed the row moved
 * between the clusters' sum deltas. */
static inline __attribute__((always_inline)) void
score_row(const kmb_job *jb, int64_t r, const float *dot, const kmb_acc *acc, const int k) {
  const int d = jb->d;
  const float xn = jb->x_norm[r];
  gr_km_bounds *b = jb->b;
  float *lower = b->lower + (size_t)r * k;
  int32_t best = 0;
  float best_d = INFINITY;
  for (int c = 0; c < k; c++)
    gr_km_consider(gr_km_dist(xn, dot[c], jb->c_norm[c]), c, &best_d, &best);
  const double e = gr_km_dist_error(d, xn, jb->c_norm_max);
#pragma omp simd
  for (int c = 0; c < k; c++) {
    const double lo = (double)gr_km_dist(xn, dot[c], jb->c_norm[c]) - e;
    lower[c] = down_f(sqrt(lo > 0 ? lo : 0));
  }
  const double hi = (double)best_d + e;
  b->upper[r] = hi > 0 ? up_f(sqrt(hi)) : 0.0f;
  const int32_t old = jb->labels[r];
  if (old == best) return;
  jb->labels[r] = best;
  move_row(jb, acc, r, best, 1);
  if (old >= 0) move_row(jb, acc, r, old, -1); /* not a first label */
}

/* Rows [r0, r1): the drift test, then the rows it leaves (idx) scored 8 at
 * a time, the group two ahead prefetched. Inlined with k a constant for the
 * common k = 8, where the per-center loops become a few vector operations. */
static inline __attribute__((always_inline)) void bounded_rows_k(const kmb_job *jb, int64_t r0,
                                                                 int64_t r1, int64_t *idx,
                                                                 float *scores, const kmb_acc *acc,
                                                                 const int k) {
  const int d = jb->d, kp = jb->kp;
  int64_t m = 0;
  for (int64_t r = r0; r < r1; r++) { /* no branch: which rows stand is hard to predict */
    const int stands = row_stands(jb, r, k);
    idx[m] = r;
    m += !stands;
  }
  *acc->scored += m;
  for (int64_t t = 0; t < m; t += GR_KM_ROWS) {
    const int nb = (int)(m - t < GR_KM_ROWS ? m - t : GR_KM_ROWS);
    const int prefetch = t + 3 * GR_KM_ROWS <= m; /* two groups ahead, as kmeans.c */
    const gr_packed_rows *p = jb->packed;
    if (p) {
      const unsigned char *x[GR_KM_ROWS], *next[GR_KM_ROWS];
      for (int i = 0; i < GR_KM_ROWS; i++) {
        x[i] = p->rows + (size_t)idx[t + (i < nb ? i : 0)] * p->stride;
        next[i] = prefetch ? p->rows + (size_t)idx[t + 2 * GR_KM_ROWS + i] * p->stride : NULL;
      }
      for (int g = 0; g < kp / 8; g++)
        gr_km_packed_dots8(scores, x, jb->Ct, jb->T, p->nf, p->n_bytes, p->stride, kp, g,
                           g == 0 && prefetch ? next : NULL);
    } else {
      const float *x[GR_KM_ROWS], *next[GR_KM_ROWS];
      for (int i = 0; i < GR_KM_ROWS; i++) { /* a short group repeats its first row */
        x[i] = jb->X + (size_t)idx[t + (i < nb ? i : 0)] * d;
        next[i] = prefetch ? jb->X + (size_t)idx[t + 2 * GR_KM_ROWS + i] * d : NULL;
      }
      for (int g = 0; g < kp / 8; g++)
        gr_km_rows_dots8(scores, x, jb->Ct, d, kp, g, g == 0 && prefetch ? next : NULL);
    }
    for (int i = 0; i < nb; i++)
      score_row(jb, idx[t + i], scores + (size_t)i * kp, acc, k);
  }
}

static void bounded_rows(const kmb_job *jb, int64_t r0, int64_t r1, int64_t *idx, float *scores,
                         const kmb_acc *acc) {
  if (jb->k == 8)
    bounded_rows_k(jb, r0, r1, idx, scores, acc, 8);
  else
    bounded_rows_k(jb, r0, r1, idx, scores, acc, jb->k);
}

gr_status gr_cpu_kmeans_step_bounded(gr_backend *be, int32_t *labels, gr_km_bounds *b,
                                     const float *X, const float *x_norm, int64_t n, int d,
                                     const float *C, int k, const gr_packed_rows *packed) {
  if (k < 1 || d < 1 || !b)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans: k = %d and d = %d must be >= 1, with bounds", k, d);
  GR_TRY(gr_packed_rows_check(packed, n, d));
  const size_t kd = (size_t)k * 2 * d; /* the sums' integers */
  memset(b->sum_delta, 0, sizeof(int64_t) * kd);
  memset(b->count_delta, 0, sizeof(int64_t) * (size_t)k);
  b->scored = 0;
  if (n <= 0) return GR_OK;
  const int threads = be->n_threads > 0 ? be->n_threads : 1;
  const int kp = gr_km_direct_lanes(k);
  float *Ct = calloc((size_t)d * kp, sizeof(float)), *c_norm = malloc(sizeof(float) * (size_t)k);
  float *scores = malloc(sizeof(float) * GR_KM_ROWS * (size_t)kp * threads);
  int64_t *idx = malloc(sizeof(int64_t) * GR_KMB_CHUNK * (size_t)threads);
  /* per thread: kmb_acc's sum deltas (k, 2 d), count deltas (k), bit
   * counts (k, 8 n_bytes), rows scored */
  const size_t n_bits = packed ? (size_t)8 * packed->n_bytes : 0;
  const size_t per = kd + (size_t)k * (1 + n_bits) + 1;
  int64_t *part = calloc(per * (size_t)threads, sizeof(int64_t));
  /* the fixed point in the packed order: scales (d), then the 1s (2 nb) */
  const int nb = packed ? packed->nb : 0;
  double *scale = packed ? malloc(sizeof(double) * (size_t)d) : NULL;
  int64_t *one = packed ? malloc(sizeof(int64_t) * (2 * (size_t)nb + 1)) : NULL;
  float *T = packed ? malloc(sizeof(float) * gr_km_nibble_floats(packed->n_bytes, kp)) : NULL;
  if (!Ct || !c_norm || !scores || !idx || !part || (packed && (!scale || !one || !T))) {
    free(T);
    free(Ct);
    free(c_norm);
    free(scores);
    free(idx);
    free(part);
    free(scale);
    free(one);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate KMeans scratch (%d clusters, %d features)", k, d);
  }
  for (int j = 0; packed && j < d; j++)
    scale[j] = b->scale[packed->order[j]];
  for (int t = 0; t < nb; t++)
    gr_km_fixed(1.0f, scale[packed->nf + t], b->frac_scale, &one[t], &one[nb + t]);
  gr_km_prepare_centers(Ct, c_norm, C, k, d, packed ? packed->order : NULL);
  if (packed) gr_km_prepare_nibbles(T, Ct, packed->nf, nb, packed->n_bytes, kp);
  float c_norm_max = 0;
  for (int c = 0; c < k; c++)
    c_norm_max = c_norm[c] > c_norm_max ? c_norm[c] : c_norm_max;
  const kmb_job jb = {
      labels, b,          X, x_norm, Ct, c_norm, packed, T, packed ? scale : b->scale,
      one,    c_norm_max, d, k,      kp};
  const int64_t n_chunks = (n + GR_KMB_CHUNK - 1) / GR_KMB_CHUNK;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    int64_t *sd = part + per * (size_t)t;
    const kmb_acc acc = {sd, sd + kd, sd + kd + k, sd + per - 1};
#pragma omp for schedule(dynamic, 1)
    for (int64_t ch = 0; ch < n_chunks; ch++) {
      const int64_t r0 = ch * GR_KMB_CHUNK, r1 = r0 + GR_KMB_CHUNK < n ? r0 + GR_KMB_CHUNK : n;
      bounded_rows(&jb, r0, r1, idx + (size_t)GR_KMB_CHUNK * t,
                   scores + (size_t)GR_KM_ROWS * kp * t, &acc);
    }
  }
  for (int t = 0; t < threads; t++) { /* integers: any order gives the same */
    const int64_t *sd = part + per * (size_t)t, *bits = sd + kd + k;
    for (size_t i = 0; i < kd; i++) { /* from the rows' order to X's */
      const int j = (int)(i % (size_t)d);
      b->sum_delta[i - (size_t)j + (size_t)(packed ? packed->order[j] : j)] += sd[i];
    }
    for (int c = 0; c < k; c++) {
      int64_t *to = b->sum_delta + (size_t)c * 2 * d;
      for (int u = 0; u < nb; u++) { /* the bits counted: whole parts and fractions of 1 */
        const int64_t times = bits[(size_t)c * n_bits + (size_t)u];
        to[packed->order[packed->nf + u]] += times * one[u];
        to[d + packed->order[packed->nf + u]] += times * one[nb + u];
      }
      b->count_delta[c] += sd[kd + c];
    }
    b->scored += sd[per - 1];
  }
  free(Ct);
  free(c_norm);
  free(scores);
  free(idx);
  free(part);
  free(scale);
  free(one);
  free(T);
  return GR_OK;
}
