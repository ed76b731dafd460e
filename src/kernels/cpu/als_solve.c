/* CPU twins of the ALS operations. Rows are independent, so OpenMP splits
 * them dynamically (row lengths follow a power law); every row's arithmetic
 * is sequential, which makes the result independent of the thread count.
 * The inner loops over the factor dimension are written so the compiler
 * vectorizes them: small BLAS calls per item cost more than they compute. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "contract.h"
#include "cpu_ops.h"

int gr_cpu_default_threads(void) { return omp_get_num_procs(); }

static inline float dot_k(const float *restrict a, const float *restrict b, int k) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int j = 0; j < k; j++)
    s += a[j] * b[j];
  return s;
}

static inline void axpy_k(float *restrict y, float a, const float *restrict x, int k) {
#pragma omp simd
  for (int j = 0; j < k; j++)
    y[j] += a * x[j];
}

/* y = G x for a symmetric (k, k) G, as the sum of G's rows scaled by x with
 * y held in NV 16-float registers throughout: one load per multiply-add and
 * no horizontal sums. This product is most of the CG work at 128 factors.
 * One function per NV, so the compiler can keep the accumulators in registers. */
typedef float gr_v16 __attribute__((vector_size(64), aligned(4)));

#define GR_MATVEC_REG(NV)                                                                          \
  static void matvec_reg_##NV(float *restrict y, const float *restrict G, const float *restrict x, \
                              int k) {                                                             \
    gr_v16 acc[NV];                                                                                \
    for (int v = 0; v < NV; v++)                                                                   \
      acc[v] = (gr_v16){0};                                                                        \
    for (int r = 0; r < k; r++) {                                                                  \
      const gr_v16 *g = (const gr_v16 *)(G + (size_t)r * k);                                       \
      const float xr = x[r];                                                                       \
      for (int v = 0; v < NV; v++)                                                                 \
        acc[v] += xr * g[v];                                                                       \
    }                                                                                              \
    memcpy(y, acc, sizeof acc);                                                                    \
  }
GR_MATVEC_REG(1)
GR_MATVEC_REG(2)
GR_MATVEC_REG(3)
GR_MATVEC_REG(4)
GR_MATVEC_REG(5)
GR_MATVEC_REG(6)
GR_MATVEC_REG(7)
GR_MATVEC_REG(8)

static inline void matvec_k(float *restrict y, const float *restrict G, const float *restrict x,
                            int k) {
  switch (k % 16 == 0 ? k / 16 : 0) {
  case 1: matvec_reg_1(y, G, x, k); return;
  case 2: matvec_reg_2(y, G, x, k); return;
  case 3: matvec_reg_3(y, G, x, k); return;
  case 4: matvec_reg_4(y, G, x, k); return;
  case 5: matvec_reg_5(y, G, x, k); return;
  case 6: matvec_reg_6(y, G, x, k); return;
  case 7: matvec_reg_7(y, G, x, k); return;
  case 8: matvec_reg_8(y, G, x, k); return;
  default:
    for (int r = 0; r < k; r++)
      y[r] = dot_k(G + (size_t)r * k, x, k);
  }
}

/* ---- the CG's product with a row's matrix --------------------------------
 * out = s G v + sum_e w_e y_e over the row's items, with
 *   residual: s = -1, w_e = c_e - (c_e - 1)(y_e . v)   (r = b - A x)
 *   step:     s = +1, w_e = (c_e - 1)(y_e . v)         (A p)
 * Most of ALS's time is here: each item's dot feeds its update. */

/* The register version: v and the sum stay in NV vectors for the whole
 * row, each item is loaded once per product (its second read hits L1), and
 * its dot is one vector of products summed across lanes. A call per item
 * to a dot and an axpy, with the sum in memory, took three times as long. */
static inline float hsum_v16(gr_v16 t) {
  typedef float v8 __attribute__((vector_size(32)));
  typedef float v4 __attribute__((vector_size(16)));
  const v8 a = __builtin_shufflevector(t, t, 0, 1, 2, 3, 4, 5, 6, 7) +
               __builtin_shufflevector(t, t, 8, 9, 10, 11, 12, 13, 14, 15);
  const v4 b =
      __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  return (b[0] + b[2]) + (b[1] + b[3]);
}

#define GR_CG_GATHER_REG(NV)                                                                       \
  GR_CONTRACT static void cg_gather_reg_##NV(                                                      \
      float *restrict out, const float *restrict G, const float *restrict v,                       \
      const float *restrict Y, const int32_t *restrict idx, const float *restrict conf, int64_t n, \
      int k, int residual, const float *restrict gv) {                                             \
    GR_CONTRACT_BODY                                                                               \
    gr_v16 acc[NV], vv[NV];                                                                        \
    memcpy(vv, v, sizeof vv);                                                                      \
    if (gv) {                                                                                      \
      memcpy(acc, gv, sizeof acc);                                                                 \
    } else {                                                                                       \
      for (int j = 0; j < NV; j++)                                                                 \
        acc[j] = (gr_v16){0};                                                                      \
      for (int r = 0; r < k; r++) {                                                                \
        const gr_v16 *g = (const gr_v16 *)(G + (size_t)r * k);                                     \
        const float vr = v[r];                                                                     \
        for (int j = 0; j < NV; j++)                                                               \
          acc[j] += vr * g[j];                                                                     \
      }                                                                                            \
    }                                                                                              \
    if (residual)                                                                                  \
      for (int j = 0; j < NV; j++)                                                                 \
        acc[j] = -acc[j];                                                                          \
    for (int64_t e = 0; e < n; e++) {                                                              \
      if (residual && e + 4 < n) { /* the first pass misses the cache: fetch ahead */              \
        const float *next = Y + (size_t)idx[e + 4] * k;                                            \
        for (int j = 0; j < k; j += 16)                                                            \
          __builtin_prefetch(next + j);                                                            \
      }                                                                                            \
      const gr_v16 *y = (const gr_v16 *)(Y + (size_t)idx[e] * k);                                  \
      gr_v16 t = y[0] * vv[0];                                                                     \
      for (int j = 1; j < NV; j++)                                                                 \
        t += y[j] * vv[j];                                                                         \
      const float c = conf[e], d = hsum_v16(t);                                                    \
      const float w = residual ? c - gr_conf_extra(c) * d : gr_conf_extra(c) * d;                  \
      for (int j = 0; j < NV; j++)                                                                 \
        acc[j] += w * y[j];                                                                        \
    }                                                                                              \
    memcpy(out, acc, sizeof acc);                                                                  \
  }
GR_CG_GATHER_REG(1)
GR_CG_GATHER_REG(2)
GR_CG_GATHER_REG(3)
GR_CG_GATHER_REG(4)
GR_CG_GATHER_REG(5)
GR_CG_GATHER_REG(6)
GR_CG_GATHER_REG(7)
GR_CG_GATHER_REG(8)

/* Any k: the product and the per-item dots and updates through memory. */
static void cg_gather_any(float *restrict out, const float *restrict G, const float *restrict v,
                          const float *restrict Y, const int32_t *restrict idx,
                          const float *restrict conf, int64_t n, int k, int residual,
                          const float *restrict gv) {
  if (gv)
    memcpy(out, gv, sizeof(float) * (size_t)k);
  else
    matvec_k(out, G, v, k);
  if (residual)
    for (int j = 0; j < k; j++)
      out[j] = -out[j];
  for (int64_t e = 0; e < n; e++) {
    if (residual && e + 4 < n) {
      const float *next = Y + (size_t)idx[e + 4] * k;
      for (int j = 0; j < k; j += 16)
        __builtin_prefetch(next + j);
    }
    const float *y = Y + (size_t)idx[e] * k;
    const float c = conf[e], d = dot_k(y, v, k);
    axpy_k(out, residual ? c - gr_conf_extra(c) * d : gr_conf_extra(c) * d, y, k);
  }
}

void gr_cpu_cg_gather(float *out, const float *G, const float *v, const float *Y,
                      const int32_t *idx, const float *conf, int64_t n, int k, int residual,
                      const float *gv, int any_k) {
  switch (any_k || k % 16 != 0 ? 0 : k / 16) {
  case 1: cg_gather_reg_1(out, G, v, Y, idx, conf, n, k, residual, gv); return;
  case 2: cg_gather_reg_2(out, G, v, Y, idx, conf, n, k, residual, gv); return;
  case 3: cg_gather_reg_3(out, G, v, Y, idx, conf, n, k, residual, gv); return;
  case 4: cg_gather_reg_4(out, G, v, Y, idx, conf, n, k, residual, gv); return;
  case 5: cg_gather_reg_5(out, G, v, Y, idx, conf, n, k, residual, gv); return;
  case 6: cg_gather_reg_6(out, G, v, Y, idx, conf, n, k, residual, gv); return;
  case 7: cg_gather_reg_7(out, G, v, Y, idx, conf, n, k, residual, gv); return;
  case 8: cg_gather_reg_8(out, G, v, Y, idx, conf, n, k, residual, gv); return;
  default: cg_gather_any(out, G, v, Y, idx, conf, n, k, residual, gv);
  }
}

/* G v for GR_CG_BATCH vectors at once, G read once for all of them: at 128
 * factors G (64 KiB) outgrows L1, and reading it once per vector was most
 * of the CG's time. Each output is summed in the same order, with the same
 * fma, as cg_gather_reg's own product, so the result does not depend on
 * which rows share a batch. Columns go in tiles of TV vectors of 16, so
 * that the GR_CG_BATCH x TV sums stay in registers. */
#define GR_CG_BATCH 4
#define GR_MATVEC_BATCH_TILE(TV)                                                                   \
  GR_CONTRACT static void matvec_batch_tile_##TV(float *const *out, const float *restrict G,       \
                                                 const float *const *v, int k, int c0) {           \
    GR_CONTRACT_BODY                                                                               \
    gr_v16 acc[GR_CG_BATCH][TV];                                                                   \
    for (int b = 0; b < GR_CG_BATCH; b++)                                                          \
      for (int j = 0; j < TV; j++)                                                                 \
        acc[b][j] = (gr_v16){0};                                                                   \
    for (int r = 0; r < k; r++) {                                                                  \
      const gr_v16 *g = (const gr_v16 *)(G + (size_t)r * k + c0);                                  \
      for (int b = 0; b < GR_CG_BATCH; b++) {                                                      \
        const float vr = v[b][r];                                                                  \
        for (int j = 0; j < TV; j++)                                                               \
          acc[b][j] += vr * g[j];                                                                  \
      }                                                                                            \
    }                                                                                              \
    for (int b = 0; b < GR_CG_BATCH; b++)                                                          \
      memcpy(out[b] + c0, acc[b], sizeof acc[b]);                                                  \
  }
GR_MATVEC_BATCH_TILE(1)
GR_MATVEC_BATCH_TILE(2)
GR_MATVEC_BATCH_TILE(3)
GR_MATVEC_BATCH_TILE(4)

/* out[b] = G v[b] for b < GR_CG_BATCH; k a multiple of 16. */
static void matvec_batch(float *const *out, const float *G, const float *const *v, int k) {
  for (int c0 = 0; c0 < k; c0 += 64) {
    switch ((k - c0) / 16 < 4 ? (k - c0) / 16 : 4) {
    case 1: matvec_batch_tile_1(out, G, v, k, c0); break;
    case 2: matvec_batch_tile_2(out, G, v, k, c0); break;
    case 3: matvec_batch_tile_3(out, G, v, k, c0); break;
    default: matvec_batch_tile_4(out, G, v, k, c0); break;
    }
  }
}

void gr_cpu_matvec_batch(float *const *out, const float *G, const float *const *v, int k) {
  matvec_batch(out, G, v, k);
}

gr_status gr_cpu_gram(gr_backend *be, float *G, const float *Y, int64_t n, int k, float reg) {
  (void)be;
  if (n > 0) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, (int)n, 1.0f, Y, k, 0.0f, G, k);
  } else {
    memset(G, 0, sizeof(float) * (size_t)k * k);
  }
  for (int r = 0; r < k; r++) {
    for (int c = 0; c < r; c++)
      G[(size_t)r * k + c] = G[(size_t)c * k + r];
    G[(size_t)r * k + r] += reg;
  }
  return GR_OK;
}

/* The CG's own dots (r.r, p.Ap): for k a multiple of 16 summed in one
 * vector and then across it, where the generic reduction summed 16 lanes
 * one by one through memory, a long chain per dot. */
GR_CONTRACT static float cg_dot(const float *restrict a, const float *restrict b, int k) {
  GR_CONTRACT_BODY
  if (k % 16 != 0) return dot_k(a, b, k);
  gr_v16 t = (gr_v16){0};
  for (int j = 0; j < k; j += 16) {
    gr_v16 x, y;
    memcpy(&x, a + j, sizeof x);
    memcpy(&y, b + j, sizeof y);
    t += x * y;
  }
  return hsum_v16(t);
}

/* One row's CG state in the batched solver. */
typedef struct cg_row {
  float *x, *r, *p, *ap, *gv; /* (k) each; x points into X */
  const int32_t *idx;
  const float *conf;
  int64_t n;
  float rs_old;
  int live;
} cg_row;

/* G times each live row's x (use_p 0) or p into its gv; the batch's free
 * slots multiply a zero vector into a spare buffer. */
static void batch_products(cg_row *rows, int nb, int use_p, const float *G, int k,
                           const float *zero, float *spare) {
  const float *v[GR_CG_BATCH];
  float *out[GR_CG_BATCH];
  for (int b = 0; b < GR_CG_BATCH; b++) {
    const int on = b < nb && rows[b].live;
    v[b] = on ? (use_p ? rows[b].p : rows[b].x) : zero;
    out[b] = on ? rows[b].gv : spare;
  }
  matvec_batch(out, G, v, k);
}

/* r = b - A x, with b = sum c y_i and A x = G x + sum (c-1)(y_i.x) y_i;
 * then up to cg_steps steps, each after an A p. `gv` holds G x, then G p,
 * computed by the caller (NULL: computed here). @return 0 once converged. */
static int cg_start(cg_row *w, const float *G, const float *Y, int k, const float *gv) {
  gr_cpu_cg_gather(w->r, G, w->x, Y, w->idx, w->conf, w->n, k, 1, gv, 0);
  memcpy(w->p, w->r, sizeof(float) * (size_t)k);
  w->rs_old = cg_dot(w->r, w->r, k);
  return !(w->rs_old < GR_CG_EPS);
}

static int cg_step(cg_row *w, const float *G, const float *Y, int k, const float *gv) {
  gr_cpu_cg_gather(w->ap, G, w->p, Y, w->idx, w->conf, w->n, k, 0, gv, 0);
  const float alpha = gr_cg_step(w->rs_old, cg_dot(w->p, w->ap, k));
  axpy_k(w->x, alpha, w->p, k);
  axpy_k(w->r, -alpha, w->ap, k);
  const float rs_new = cg_dot(w->r, w->r, k);
  if (rs_new < GR_CG_EPS) return 0;
  const float beta = rs_new / w->rs_old;
  for (int j = 0; j < k; j++)
    w->p[j] = w->r[j] + beta * w->p[j];
  w->rs_old = rs_new;
  return 1;
}

/* CG for up to GR_CG_BATCH consecutive rows in lockstep, so that G is read
 * once per step for all of them (k a multiple of 16). Each row's arithmetic
 * is that of the row-at-a-time solver, bit for bit, so the result does not
 * depend on the batching. */
static void solve_cg_batch(cg_row *rows, int nb, const float *G, const float *Y, int k,
                           int cg_steps, const float *zero, float *spare) {
  for (int b = 0; b < nb; b++) {
    rows[b].live = rows[b].n > 0;
    if (!rows[b].live) memset(rows[b].x, 0, sizeof(float) * (size_t)k);
  }
  batch_products(rows, nb, 0, G, k, zero, spare);
  for (int b = 0; b < nb; b++)
    if (rows[b].live) rows[b].live = cg_start(&rows[b], G, Y, k, rows[b].gv);
  for (int it = 0; it < cg_steps; it++) {
    batch_products(rows, nb, 1, G, k, zero, spare);
    for (int b = 0; b < nb; b++)
      if (rows[b].live) rows[b].live = cg_step(&rows[b], G, Y, k, rows[b].gv);
  }
}

gr_status gr_cpu_als_solve_cg(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                              const float *G, int k, int cg_steps) {
  const int64_t n = m->n_rows;
  const int batched = k % 16 == 0 && k <= 128;
  int failed = 0;
#pragma omp parallel num_threads(be->n_threads)
  {
    /* per batch row r, p, ap and gv; then a zero vector and a spare output */
    float *scratch = calloc((size_t)k * (4 * GR_CG_BATCH + 2), sizeof(float));
    if (!scratch) {
#pragma omp atomic write
      failed = 1;
    }
    cg_row rows[GR_CG_BATCH];
    const int64_t n_batches = (n + GR_CG_BATCH - 1) / GR_CG_BATCH;
#pragma omp for schedule(dynamic, 8)
    for (int64_t t = 0; t < n_batches; t++) {
      if (!scratch) continue;
      const int64_t u0 = t * GR_CG_BATCH;
      const int nb = n - u0 < GR_CG_BATCH ? (int)(n - u0) : GR_CG_BATCH;
      for (int b = 0; b < nb; b++) {
        const int64_t u = u0 + b, begin = m->indptr[u];
        float *s = scratch + (size_t)4 * k * b;
        rows[b] = (cg_row){.x = X + (size_t)u * k,
                           .r = s,
                           .p = s + k,
                           .ap = s + 2 * (size_t)k,
                           .gv = s + 3 * (size_t)k,
                           .idx = m->indices + begin,
                           .conf = m->data + begin,
                           .n = m->indptr[u + 1] - begin};
      }
      if (batched) {
        float *zero = scratch + (size_t)4 * k * GR_CG_BATCH;
        solve_cg_batch(rows, nb, G, Y, k, cg_steps, zero, zero + k);
        continue;
      }
      for (int b = 0; b < nb; b++) { /* one row at a time, G v inside each product */
        cg_row *w = &rows[b];
        if (w->n == 0) {
          memset(w->x, 0, sizeof(float) * (size_t)k);
          continue;
        }
        for (int it = 0, live = cg_start(w, G, Y, k, NULL); live && it < cg_steps; it++)
          live = cg_step(w, G, Y, k, NULL);
      }
    }
    free(scratch);
  }
  if (failed) return gr_fail(GR_ERR_NOMEM, "cannot allocate CG scratch");
  return GR_OK;
}

/* ---- exact solves --------------------------------------------------------
 * A row's matrix A = G + sum_e (c_e - 1) y_e y_e^T and b = sum_e c_e y_e,
 * then A = U^T U (U upper, row-major) and two triangular solves. Written
 * here rather than through LAPACK: at these sizes (k <= a few hundred)
 * sposv spent most of its time in blocking overhead, and updating A one item
 * and one partial row at a time most of the rest. */

/* The upper triangle of A (row r from column r & ~15, so that rows start
 * on a vector boundary), four items per pass over A. */
GR_CONTRACT static void chol_accumulate(float *restrict A, float *restrict b,
                                        const float *restrict G, const float *restrict Y,
                                        const int32_t *restrict idx, const float *restrict conf,
                                        int64_t n, int k) {
  GR_CONTRACT_BODY
  memcpy(A, G, sizeof(float) * (size_t)k * k);
  memset(b, 0, sizeof(float) * (size_t)k);
  int64_t e = 0;
  for (; e + 4 <= n; e += 4) {
    for (int64_t q = e + 4; q < e + 8 && q < n; q++) /* the next items' rows miss the cache */
      for (int j = 0; j < k; j += 16)
        __builtin_prefetch(Y + (size_t)idx[q] * k + j);
    const float *y0 = Y + (size_t)idx[e] * k, *y1 = Y + (size_t)idx[e + 1] * k,
                *y2 = Y + (size_t)idx[e + 2] * k, *y3 = Y + (size_t)idx[e + 3] * k;
    const float w0 = gr_conf_extra(conf[e]), w1 = gr_conf_extra(conf[e + 1]),
                w2 = gr_conf_extra(conf[e + 2]), w3 = gr_conf_extra(conf[e + 3]);
    for (int q = 0; q < 4; q++)
      axpy_k(b, conf[e + q], Y + (size_t)idx[e + q] * k, k);
    for (int r = 0; r < k; r++) {
      const float s0 = w0 * y0[r], s1 = w1 * y1[r], s2 = w2 * y2[r], s3 = w3 * y3[r];
      float *restrict ar = A + (size_t)r * k;
#pragma omp simd
      for (int c = r & ~15; c < k; c++)
        ar[c] += (s0 * y0[c] + s1 * y1[c]) + (s2 * y2[c] + s3 * y3[c]);
    }
  }
  for (; e < n; e++) {
    const float *y = Y + (size_t)idx[e] * k;
    const float w = gr_conf_extra(conf[e]);
    axpy_k(b, conf[e], y, k);
    for (int r = 0; r < k; r++) {
      const float s0 = w * y[r];
      float *restrict ar = A + (size_t)r * k;
#pragma omp simd
      for (int c = r & ~15; c < k; c++)
        ar[c] += s0 * y[c];
    }
  }
}

/* A = U^T U in place (the upper triangle; the lower is left as it was, and
 * row r left of column r & ~15 may be scratch). @return 0, or j + 1 when
 * the j-th pivot is not positive (LAPACK's info). */
GR_CONTRACT static int chol_factor_upper(float *A, int k) {
  GR_CONTRACT_BODY
  for (int j = 0; j < k; j++) {
    float *restrict uj = A + (size_t)j * k;
    const float d = uj[j];
    if (!(d > 0.0f) || !isfinite(d)) return j + 1;
    const float root = sqrtf(d), inv = 1.0f / root;
    uj[j] = root;
#pragma omp simd
    for (int c = j + 1; c < k; c++)
      uj[c] *= inv;
    for (int i = j + 1; i < k; i++) {
      const float f = uj[i];
      float *restrict ai = A + (size_t)i * k;
#pragma omp simd
      for (int c = i; c < k; c++)
        ai[c] -= f * uj[c];
    }
  }
  return 0;
}

/* For k a multiple of 16 up to 128: U row by row (left-looking), row i
 * from column i & ~15 held in NV vectors while every earlier row's
 * multiple is taken off, so each row is stored once; the lanes left of the
 * diagonal are set to 0, so that U is upper triangular from each row's
 * vector boundary on, which the solve below relies on. */
#define GR_CHOL_ROW_REG(NV)                                                                        \
  GR_CONTRACT static int chol_row_reg_##NV(float *A, float *dinv, int k, int i) {                  \
    GR_CONTRACT_BODY                                                                               \
    const int a = i & ~15;                                                                         \
    gr_v16 acc[NV];                                                                                \
    memcpy(acc, A + (size_t)i * k + a, sizeof acc);                                                \
    for (int p = 0; p < i; p++) {                                                                  \
      const float f = A[(size_t)p * k + i];                                                        \
      const gr_v16 *up = (const gr_v16 *)(A + (size_t)p * k + a);                                  \
      for (int v = 0; v < NV; v++)                                                                 \
        acc[v] -= f * up[v];                                                                       \
    }                                                                                              \
    const float d = acc[0][i - a];                                                                 \
    if (!(d > 0.0f) || !isfinite(d)) return i + 1;                                                 \
    const float root = sqrtf(d), inv = 1.0f / root;                                                \
    dinv[i] = inv;                                                                                 \
    for (int v = 0; v < NV; v++)                                                                   \
      acc[v] *= inv;                                                                               \
    for (int l = 0; l < i - a; l++)                                                                \
      acc[0][l] = 0.0f;                                                                            \
    acc[0][i - a] = root;                                                                          \
    memcpy(A + (size_t)i * k + a, acc, sizeof acc);                                                \
    return 0;                                                                                      \
  }
GR_CHOL_ROW_REG(1)
GR_CHOL_ROW_REG(2)
GR_CHOL_ROW_REG(3)
GR_CHOL_ROW_REG(4)
GR_CHOL_ROW_REG(5)
GR_CHOL_ROW_REG(6)
GR_CHOL_ROW_REG(7)
GR_CHOL_ROW_REG(8)

static int chol_factor_reg(float *A, float *dinv, int k) {
  for (int i = 0; i < k; i++) {
    int info;
    switch ((k - (i & ~15)) / 16) {
    case 1: info = chol_row_reg_1(A, dinv, k, i); break;
    case 2: info = chol_row_reg_2(A, dinv, k, i); break;
    case 3: info = chol_row_reg_3(A, dinv, k, i); break;
    case 4: info = chol_row_reg_4(A, dinv, k, i); break;
    case 5: info = chol_row_reg_5(A, dinv, k, i); break;
    case 6: info = chol_row_reg_6(A, dinv, k, i); break;
    case 7: info = chol_row_reg_7(A, dinv, k, i); break;
    default: info = chol_row_reg_8(A, dinv, k, i); break;
    }
    if (info) return info;
  }
  return 0;
}

/* The solve for chol_factor_reg's U (zeros left of each diagonal within
 * the row's vector): whole vectors from each row's boundary. z and x are
 * separate from b, and x starts at 0, so the extra lanes add nothing. */
GR_CONTRACT static void chol_solve_reg(float *restrict x, const float *restrict A,
                                       const float *restrict dinv, float *restrict b,
                                       float *restrict z, int k) {
  GR_CONTRACT_BODY
  for (int j = 0; j < k; j++) {
    const float *uj = A + (size_t)j * k;
    z[j] = b[j] * dinv[j];
#pragma omp simd
    for (int c = j & ~15; c < k; c++) /* lane j changes b[j], which is used up */
      b[c] -= uj[c] * z[j];
  }
  memset(x, 0, sizeof(float) * (size_t)k);
  for (int j = k - 1; j >= 0; j--) {
    const float *uj = A + (size_t)j * k;
    gr_v16 t = (gr_v16){0};
    for (int c = j & ~15; c < k; c += 16) { /* x[j] and left of it are still 0 */
      gr_v16 u, xv;
      memcpy(&u, uj + c, sizeof u);
      memcpy(&xv, x + c, sizeof xv);
      t += u * xv;
    }
    x[j] = (z[j] - hsum_v16(t)) * dinv[j];
  }
}

/* x = (U^T U)^{-1} b: U^T z = b by rows of U, then U x = z. b is consumed. */
static void chol_solve_upper(float *restrict x, const float *restrict A, float *restrict b, int k) {
  for (int j = 0; j < k; j++) {
    const float *uj = A + (size_t)j * k;
    const float z = b[j] / uj[j];
    b[j] = z;
#pragma omp simd
    for (int c = j + 1; c < k; c++)
      b[c] -= uj[c] * z;
  }
  for (int j = k - 1; j >= 0; j--) {
    const float *uj = A + (size_t)j * k;
    float s = b[j];
    for (int c = j + 1; c < k; c++)
      s -= uj[c] * x[c];
    x[j] = s / uj[j];
  }
}

gr_status gr_cpu_als_solve_cholesky(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                                    const float *G, int k) {
  const int64_t n = m->n_rows;
  int failed_alloc = 0;
  int64_t failed_row = -1;
  int failed_info = 0;
  const int reg = k % 16 == 0 && k <= 128;
#pragma omp parallel num_threads(be->n_threads)
  {
    /* A, then b, the solution, z and the inverse pivots */
    float *A = malloc(sizeof(float) * ((size_t)k * k + 4 * (size_t)k));
    if (!A) {
#pragma omp atomic write
      failed_alloc = 1;
    }
    float *b = A ? A + (size_t)k * k : NULL, *sol = A ? b + k : NULL;
#pragma omp for schedule(dynamic, 16)
    for (int64_t u = 0; u < n; u++) {
      if (!A) continue;
      float *x = X + (size_t)u * k;
      const int64_t begin = m->indptr[u], end = m->indptr[u + 1];
      if (begin == end) {
        memset(x, 0, sizeof(float) * (size_t)k);
        continue;
      }
      chol_accumulate(A, b, G, Y, m->indices + begin, m->data + begin, end - begin, k);
      const int info = reg ? chol_factor_reg(A, sol + 2 * k, k) : chol_factor_upper(A, k);
      if (info != 0) {
#pragma omp critical
        {
          if (failed_row < 0 || u < failed_row) {
            failed_row = u;
            failed_info = info;
          }
        }
        continue;
      }
      if (reg)
        chol_solve_reg(sol, A, sol + 2 * k, b, sol + k, k);
      else
        chol_solve_upper(sol, A, b, k);
      memcpy(x, sol, sizeof(float) * (size_t)k);
    }
    free(A);
  }
  if (failed_alloc) return gr_fail(GR_ERR_NOMEM, "cannot allocate Cholesky scratch");
  if (failed_row >= 0)
    return gr_fail(GR_ERR_NUMERIC,
                   "Cholesky factorization failed on row %lld (pivot %d is not positive): the "
                   "normal equations are not positive definite; increase --regularization",
                   (long long)failed_row, failed_info);
  return GR_OK;
}

gr_status gr_cpu_als_loss_terms(gr_backend *be, double out[3], const gr_csr_view *m, const float *X,
                                const float *Y, const float *G, int k) {
  double loss = 0.0, total_conf = 0.0, norms = 0.0;
  int failed = 0;
  const int64_t n = m->n_rows;
#pragma omp parallel num_threads(be->n_threads) reduction(+ : loss, total_conf, norms)
  {
    float *gx = malloc(sizeof(float) * (size_t)k);
    if (!gx) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 64)
    for (int64_t u = 0; u < n; u++) {
      if (!gx) continue;
      const float *x = X + (size_t)u * k;
      matvec_k(gx, G, x, k);
      double row = dot_k(gx, x, k);
      for (int64_t e = m->indptr[u]; e < m->indptr[u + 1]; e++) {
        const float c = m->data[e];
        const double s = dot_k(Y + (size_t)m->indices[e] * k, x, k);
        row += gr_loss_pair(c, s);
        total_conf += c;
      }
      loss += row;
      norms += dot_k(x, x, k);
    }
    free(gx);
  }
  if (failed) return gr_fail(GR_ERR_NOMEM, "cannot allocate loss scratch");
  out[0] = loss;
  out[1] = total_conf;
  out[2] = norms;
  return GR_OK;
}

gr_status gr_cpu_row_sq_norms(gr_backend *be, float *out, const float *Y, int64_t n, int k) {
#pragma omp parallel for num_threads(be->n_threads) schedule(static)
  for (int64_t i = 0; i < n; i++)
    out[i] = dot_k(Y + (size_t)i * k, Y + (size_t)i * k, k);
  return GR_OK;
}
