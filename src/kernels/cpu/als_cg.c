/* CPU twin of the ALS conjugate-gradient solve (cuda/als_cg.cu): a few CG
 * steps per row, warm-started from the row's current factors, without ever
 * forming the row's matrix. Rows are independent; every row's arithmetic
 * is sequential, so the result does not depend on the thread count. */
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "als_vec.h"
#include "contract.h"
#include "cpu_ops.h"

/* ---- the CG's product with a row's matrix --------------------------------
 * out = s G v + sum_e w_e y_e over the row's items, with
 *   residual: s = -1, w_e = c_e - (c_e - 1)(y_e . v)   (r = b - A x)
 *   step:     s = +1, w_e = (c_e - 1)(y_e . v)         (A p)
 * Most of ALS's time is here: each item's dot feeds its update. */

/* The register version: v and the sum stay in NV vectors for the whole
 * row, each item is loaded once per product (its second read hits L1), and
 * its dot is one vector of products summed across lanes. A call per item
 * to a dot and an axpy, with the sum in memory, made a whole fit at 64
 * factors 1.65 times as long. */
#define GR_CG_GATHER_REG(NV)                                                                       \
  GR_CONTRACT static void cg_gather_reg_##NV(                                                      \
      float *restrict out, const float *restrict G, const float *restrict v,                       \
      const float *restrict Y, const int32_t *restrict idx, const float *restrict conf, int64_t n, \
      int k, int residual, const float *restrict gv) {                                             \
    GR_CONTRACT_BODY                                                                               \
    enum { NW = NV * GR_VPB }; /* vectors per row */                                               \
    gr_vn acc[NW], vv[NW];                                                                         \
    memcpy(vv, v, sizeof vv);                                                                      \
    if (gv) {                                                                                      \
      memcpy(acc, gv, sizeof acc);                                                                 \
    } else {                                                                                       \
      for (int j = 0; j < NW; j++)                                                                 \
        acc[j] = (gr_vn){0};                                                                       \
      for (int r = 0; r < k; r++) {                                                                \
        const gr_vn *g = (const gr_vn *)(G + (size_t)r * k);                                       \
        const float vr = v[r];                                                                     \
        for (int j = 0; j < NW; j++)                                                               \
          acc[j] += vr * g[j];                                                                     \
      }                                                                                            \
    }                                                                                              \
    if (residual)                                                                                  \
      for (int j = 0; j < NW; j++)                                                                 \
        acc[j] = -acc[j];                                                                          \
    for (int64_t e = 0; e < n; e++) {                                                              \
      if (residual && e + 4 < n) { /* the first pass misses the cache: fetch ahead */              \
        const float *next = Y + (size_t)idx[e + 4] * k;                                            \
        for (int j = 0; j < k; j += 16)                                                            \
          __builtin_prefetch(next + j);                                                            \
      }                                                                                            \
      const gr_vn *y = (const gr_vn *)(Y + (size_t)idx[e] * k);                                    \
      gr_vn t[GR_VPB]; /* one block: lane l sums lane l of every block */                          \
      for (int h = 0; h < GR_VPB; h++)                                                             \
        t[h] = y[h] * vv[h];                                                                       \
      for (int blk = 1; blk < NV; blk++)                                                           \
        for (int h = 0; h < GR_VPB; h++)                                                           \
          t[h] += y[blk * GR_VPB + h] * vv[blk * GR_VPB + h];                                      \
      const float c = conf[e], d = hsum_block(t);                                                  \
      const float w = residual ? c - gr_conf_extra(c) * d : gr_conf_extra(c) * d;                  \
      for (int j = 0; j < NW; j++)                                                                 \
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
    enum { TW = TV * GR_VPB }; /* vectors per tile */                                              \
    gr_vn acc[GR_CG_BATCH][TW];                                                                    \
    for (int b = 0; b < GR_CG_BATCH; b++)                                                          \
      for (int j = 0; j < TW; j++)                                                                 \
        acc[b][j] = (gr_vn){0};                                                                    \
    for (int r = 0; r < k; r++) {                                                                  \
      const gr_vn *g = (const gr_vn *)(G + (size_t)r * k + c0);                                    \
      for (int b = 0; b < GR_CG_BATCH; b++) {                                                      \
        const float vr = v[b][r];                                                                  \
        for (int j = 0; j < TW; j++)                                                               \
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

/* Blocks of 16 columns per tile: the GR_CG_BATCH x tile sums must fit the
 * registers (32 with AVX-512, 16 before it). Each output's sum runs over
 * G's rows in order whatever the tile, so the tiling changes no bit. */
#if GR_VL == 16
#define GR_CG_TILE_BLOCKS 4
#else
#define GR_CG_TILE_BLOCKS 1
#endif

/* out[b] = G v[b] for b < GR_CG_BATCH; k a multiple of 16. */
static void matvec_batch(float *const *out, const float *G, const float *const *v, int k) {
  for (int c0 = 0; c0 < k; c0 += 16 * GR_CG_TILE_BLOCKS) {
    const int left = (k - c0) / 16;
    switch (left < GR_CG_TILE_BLOCKS ? left : GR_CG_TILE_BLOCKS) {
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

/* The CG's own dots (r.r, p.Ap): for k a multiple of 16 summed in one
 * vector and then across it, where the generic reduction summed 16 lanes
 * one by one through memory, a long chain per dot. */
GR_CONTRACT static float cg_dot(const float *restrict a, const float *restrict b, int k) {
  GR_CONTRACT_BODY
  if (k % 16 != 0) return dot_k(a, b, k);
  gr_vn t[GR_VPB];
  for (int h = 0; h < GR_VPB; h++)
    t[h] = (gr_vn){0};
  for (int j = 0; j < k; j += 16)
    GR_UNROLL_VPB
  for (int h = 0; h < GR_VPB; h++) /* h constant once unrolled: t stays in registers */
    t[h] += *(const gr_vn *)(a + j + h * GR_VL) * *(const gr_vn *)(b + j + h * GR_VL);
  return hsum_block(t);
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

/* cg_start: r = b - A x, with b = sum c y_i and A x = G x + sum (c-1)(y_i.x)
 * y_i, and p = r. cg_step: one step, from A p. gv is G x (start) or G p
 * (step) computed by the caller, or NULL to compute it here. Both @return 0
 * once the residual is below GR_CG_EPS (the row is done), else 1. */
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
