/* CPU twins of the batched logistic-regression operations. A group's work
 * is cut into chunks that never span two groups: chunks of LR_CHUNK real
 * rows, then chunks of LR_PAIR_CHUNK pairs of its synthetic rows
 * (gr_lr_rows). Per block of real rows, in double: the margins, the terms
 * (shared_math.h) and the gradient sum, while the rows are in cache; the
 * sqrt(h)-scaled row goes to a float buffer, and one ssyrk per chunk turns
 * it into the curvature sum; with curvature sampling (hess_tau > 0) only
 * the rows it keeps are written, so the rank update skips the rest. Per
 * pair: u = x_a.w + b and v = (x_b - x_a).w, then per synthetic row only
 * scalars (z = u + gap v) and six sums over the pair's rows; the pair adds
 * R0 x_a + R1 (x_b - x_a) to the gradient and two rows to the chunk's
 * buffer, the factor of its 2 x 2 curvature sum (see pair_rows_out).
 * (Float margins and gradients, by sgemv, missed the double reference by
 * 7e-4 on a nearly separable group: H ~ I there, so gradient rounding
 * becomes coefficient error one for one.) Chunks run in parallel, each with
 * single-threaded OpenBLAS (its own threads would split these calls and
 * compete with ours); their partials are added to double sums in chunk
 * order, so no result depends on the thread count. The Newton systems are
 * D x D: LAPACKE Cholesky in double, group by group. */
#include <cblas.h>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../logreg_args.h"
#include "../shared_math.h"
#include "cpu_ops.h"
#include "logreg_terms.h"
#include "packed_rows.h"

#define LR_CHUNK 4096     /* real rows per partial sum */
#define LR_PAIR_CHUNK 256 /* pairs per partial sum (two buffer rows each) */
_Static_assert(2 * LR_PAIR_CHUNK <= LR_CHUNK, "a pair chunk's rows fit the row buffer");
#define LR_WAVE 16  /* chunks whose partials are held at once */
#define LR_ALIGN 64 /* every scratch buffer: the same alignment on every thread */
/* The rank updates run on rows padded with zeros to a multiple of LR_PAD
 * floats: OpenBLAS's ssyrk (SkylakeX kernels) takes 0.61 ms at n = 192 and
 * 0.70 ms at n = 191 for 1800 rows, the bench's shape. */
#define LR_PAD 8

typedef struct lr_chunk {
  int g;
  int pairs; /* rows r0.. are pairs r0.. */
  int rows;
  int64_t r0;
  int64_t base; /* the group's first row: sampling draws by the row's place in its group */
} lr_chunk;

/* Where the real rows are read: X's rows (d floats, no bits) or packed
 * rows (nf floats, then nbits bits; packed_rows.h). */
typedef struct lr_rows_src {
  const unsigned char *base;
  size_t stride; /* bytes per row */
  int nf, nbits;
} lr_rows_src;

static inline const float *src_row(const lr_rows_src *s, int64_t row) {
  return (const float *)(const void *)(s->base + (size_t)row * s->stride);
}

/* One pass over the active groups' rows: the objective, and with grad the
 * gradient, and with hess the curvature too. */
typedef struct lr_pass {
  const float *X, *sw;
  const gr_lr_rows *rows; /* NULL: row i is X[i] */
  const uint8_t *y;
  const double *theta, *cw;
  int d, D;
  int Dp;              /* A's and Hpart's row stride: D padded (see LR_PAD) */
  int grad, hess;      /* g wanted; H wanted (implies g) */
  double tau;          /* curvature sampling, 0 = every row */
  double *loss, *rsum; /* (LR_WAVE) per-chunk sums */
  lr_rows_src src;     /* where the real rows are read */
  /* with packed rows: the chunks' sums are in the packed order, order maps
   * it to X's, and wp holds each group's w in it */
  const int32_t *order; /* NULL: X's order */
  int gw;               /* gpart's and wp's row stride: d, or nf + 8 n_bytes */
  double *wp;           /* (m, gw), zeros past d; NULL: w is theta's */
  double *gpart;        /* (LR_WAVE, gw): X_c^T r */
  float *Hpart;         /* (LR_WAVE, Dp, Dp): upper triangles */
  float *A;             /* (threads, LR_CHUNK, Dp): sqrt(h)-scaled rows and intercept, pads 0 */
} lr_pass;

static size_t round_up(size_t bytes) { return (bytes + LR_ALIGN - 1) / LR_ALIGN * LR_ALIGN; }

static void *scratch(size_t bytes) { return aligned_alloc(LR_ALIGN, round_up(bytes ? bytes : 1)); }

/* Row i is synthetic: read through its pair. */
static inline int synthetic(const gr_lr_rows *rows, int64_t i) {
  return rows && rows->b && rows->b[i] != rows->a[i];
}

/* The curvature of a pair's rows, sum_i h_i [x_i; 1][x_i; 1]^T with
 * x_i = x_a + g_i e (e = x_b - x_a), is [x_a; 1], [e; 0] times the 2 x 2
 * matrix M = sum_i h_i [1 g_i; g_i g_i^2] = L L^T: two buffer rows,
 * l11 [x_a; 1] + l21 [e; 0] and l22 [e; 0], whose rank updates add it. */
static void pair_rows_out(float *restrict a1, float *restrict a2, const float *restrict xa,
                          const float *restrict xb, double s0, double s1, double s2, int d,
                          const int32_t *order) {
  const double l11 = sqrt(s0), l21 = l11 > 0 ? s1 / l11 : 0.0;
  const double l22 = sqrt(fmax(s2 - l21 * l21, 0.0));
#pragma omp simd
  for (int jp = 0; jp < d; jp++) { /* position jp holds feature j */
    const int j = order ? order[jp] : jp;
    const double e = (double)xb[j] - (double)xa[j];
    a1[jp] = (float)(l11 * xa[j] + l21 * e);
    a2[jp] = (float)(l22 * e);
  }
  a1[d] = (float)l11;
  a2[d] = 0.0f;
}

/* A chunk of pairs: the terms of their synthetic rows, exact (no sampling:
 * a pair's curvature costs two rows however many rows it has). */
static int pair_chunk_work(const lr_pass *p, const lr_chunk *c, double *restrict gp, float *A,
                           double *loss_out, double *rsum_out) {
  const int d = p->d, D = p->D;
  const gr_lr_rows *rows = p->rows;
  const double *w = p->theta + (size_t)c->g * D, b = w[d];
  const double cw0 = p->cw[2 * c->g], cw1 = p->cw[2 * c->g + 1];
  double loss = 0.0, rsum = 0.0;
  int kept = 0;
  for (int64_t q = c->r0; q < c->r0 + c->rows; q++) {
    const float *xa = p->X + (size_t)rows->pair_a[q] * d, *xb = p->X + (size_t)rows->pair_b[q] * d;
    double u = 0.0, v = 0.0;
#pragma omp simd reduction(+ : u, v)
    for (int j = 0; j < d; j++) {
      u += (double)xa[j] * w[j];
      v += ((double)xb[j] - (double)xa[j]) * w[j];
    }
    u += b;
    double ls = 0.0, r0 = 0.0, r1 = 0.0, s0 = 0.0, s1 = 0.0, s2 = 0.0;
    const int64_t k0 = rows->pair_start[q], k1 = rows->pair_start[q + 1];
    for (int64_t kb = k0; kb < k1; kb += GR_LR_LANES) { /* the terms 8 rows at a time */
      const int nb = (int)(k1 - kb < GR_LR_LANES ? k1 - kb : GR_LR_LANES);
      double gap[GR_LR_LANES], z[GR_LR_LANES], ck[GR_LR_LANES];
      double tl[GR_LR_LANES], tr[GR_LR_LANES], th[GR_LR_LANES];
      int yk[GR_LR_LANES];
      for (int l = 0; l < GR_LR_LANES; l++) { /* extra lanes: the block's first row, unused */
        const int64_t i = rows->pair_rows[kb + (l < nb ? l : 0)];
        gap[l] = (double)rows->gap[i];
        z[l] = u + gap[l] * v;
        yk[l] = p->y[i] != 0;
        ck[l] = (yk[l] ? cw1 : cw0) * (p->sw ? (double)p->sw[i] : 1.0);
      }
      gr_lr_terms8(z, yk, ck, tl, tr, th);
      for (int l = 0; l < nb; l++) { /* in row order, as one row at a time */
        ls += tl[l];
        r0 += tr[l];
        r1 += tr[l] * gap[l];
        s0 += th[l];
        s1 += th[l] * gap[l];
        s2 += th[l] * gap[l] * gap[l];
      }
    }
    loss += ls;
    if (!p->grad) continue;
    rsum += r0;
    const int32_t *order = p->order;
#pragma omp simd
    for (int jp = 0; jp < d; jp++) {
      const int j = order ? order[jp] : jp;
      gp[jp] += r0 * xa[j] + r1 * ((double)xb[j] - (double)xa[j]);
    }
    if (!p->hess || !(s0 > 0)) continue;
    pair_rows_out(A + (size_t)kept * p->Dp, A + (size_t)(kept + 1) * p->Dp, xa, xb, s0, s1, s2, d,
                  order);
    kept += 2;
  }
  *loss_out = loss;
  *rsum_out = rsum;
  return kept;
}

/* X's row behind real training row i. */
static inline int64_t x_row(const lr_pass *p, int64_t i) {
  return p->rows && p->rows->a ? p->rows->a[i] : i;
}

static inline void prefetch_bytes(const void *x, size_t bytes) {
  for (size_t at = 0; at < bytes; at += 64)
    __builtin_prefetch((const char *)x + at);
  __builtin_prefetch((const char *)x + bytes - 1);
}

/* Real rows of a chunk come LR_BLOCK at a time: their margins share each
 * load of w, and their gradient terms each load and store of the sums,
 * while the next block's rows are prefetched (on the bench: the logistic
 * regressions 1.80 s a row at a time, 1.50 s with blocks of 4, 1.44 s with
 * 8, 1.39 s with the prefetch). */
#define LR_BLOCK 8
_Static_assert(LR_BLOCK == GR_LR_LANES, "a block's terms are one gr_lr_terms8 call");

/* The next block of real rows from *i: their training rows in row[];
 * a short block (fewer than LR_BLOCK) pads row[] with its first row. */
static int next_block(const lr_pass *p, int64_t *i, int64_t end, int64_t row[LR_BLOCK]) {
  int nb = 0;
  for (; *i < end && nb < LR_BLOCK; (*i)++)
    if (!synthetic(p->rows, *i)) row[nb++] = *i;
  for (int k = nb; k < LR_BLOCK && nb > 0; k++)
    row[k] = row[0];
  return nb;
}

/* A block's terms from its margins zb: adds their loss and gradient
 * weights to *loss and *rsum, and sets r[k] (0 without a gradient or past
 * nb) and the curvature scale sh[k] (0: the row adds no rank update). */
static void block_terms(const lr_pass *p, const lr_chunk *c, const int64_t row[LR_BLOCK], int nb,
                        const double zb[LR_BLOCK], double r[LR_BLOCK], float sh[LR_BLOCK],
                        double *loss, double *rsum) {
  const double cw0 = p->cw[2 * c->g], cw1 = p->cw[2 * c->g + 1];
  int yk[LR_BLOCK];
  double ck[LR_BLOCK], tl[LR_BLOCK], tr[LR_BLOCK], th[LR_BLOCK];
  for (int k = 0; k < LR_BLOCK; k++) { /* a short block's extra lanes: row 0 again, unused */
    yk[k] = p->y[row[k]] != 0;
    ck[k] = (yk[k] ? cw1 : cw0) * (p->sw ? (double)p->sw[row[k]] : 1.0);
  }
  gr_lr_terms8(zb, yk, ck, tl, tr, th);
  for (int k = 0; k < LR_BLOCK; k++) {
    r[k] = 0.0;
    sh[k] = 0.0f;
    if (k >= nb) continue;
    *loss += tl[k];
    if (!p->grad) continue;
    *rsum += tr[k];
    r[k] = tr[k];
    if (p->hess) sh[k] = (float)gr_logreg_hess_scale(th[k], ck[k], p->tau, row[k] - c->base);
  }
}

/* z[k] += the sum of wb[t] over the set bits t of row k, for 8 rows of
 * nq bytes of bits; wb (8 nq) is 0 past the last feature. Lane l sums
 * bit l of every byte. */
static inline void bit_dots8(const unsigned char *const bits[LR_BLOCK], const double *wb, int nq,
                             double z[LR_BLOCK]) {
#if defined(__AVX512F__)
  __m512d acc[LR_BLOCK];
  for (int k = 0; k < LR_BLOCK; k++)
    acc[k] = _mm512_setzero_pd();
  for (int q = 0; q < nq; q++) {
    const __m512d wq = _mm512_loadu_pd(wb + 8 * q);
    for (int k = 0; k < LR_BLOCK; k++)
      acc[k] = _mm512_mask_add_pd(acc[k], (__mmask8)bits[k][q], acc[k], wq);
  }
  for (int k = 0; k < LR_BLOCK; k++) {
    double lane[8];
    _mm512_storeu_pd(lane, acc[k]);
    z[k] +=
        ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }
#elif defined(__AVX2__)
  /* two halves of 4 lanes; a lane whose bit is clear keeps its value, as
   * the masked add above (a blend, not an add of 0.0: -0.0 + 0.0 is 0.0) */
  __m256d lo[LR_BLOCK], hi[LR_BLOCK];
  const __m256i lanes_lo = _mm256_setr_epi64x(1, 2, 4, 8),
                lanes_hi = _mm256_setr_epi64x(16, 32, 64, 128);
  for (int k = 0; k < LR_BLOCK; k++)
    lo[k] = hi[k] = _mm256_setzero_pd();
  for (int q = 0; q < nq; q++) {
    const __m256d wlo = _mm256_loadu_pd(wb + 8 * q), whi = _mm256_loadu_pd(wb + 8 * q + 4);
    for (int k = 0; k < LR_BLOCK; k++) {
      const __m256i b = _mm256_set1_epi64x(bits[k][q]);
      const __m256d mlo =
          _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(b, lanes_lo), lanes_lo));
      const __m256d mhi =
          _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(b, lanes_hi), lanes_hi));
      lo[k] = _mm256_blendv_pd(lo[k], _mm256_add_pd(lo[k], wlo), mlo);
      hi[k] = _mm256_blendv_pd(hi[k], _mm256_add_pd(hi[k], whi), mhi);
    }
  }
  for (int k = 0; k < LR_BLOCK; k++) {
    double lane[8];
    _mm256_storeu_pd(lane, lo[k]);
    _mm256_storeu_pd(lane + 4, hi[k]);
    z[k] +=
        ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }
#else
  double acc[LR_BLOCK][8] = {{0.0}};
  for (int q = 0; q < nq; q++) {
    const double *wq = wb + 8 * q;
    for (int k = 0; k < LR_BLOCK; k++) {
      const unsigned bk = bits[k][q];
      for (int l = 0; l < 8; l++)
        if ((bk >> l) & 1u) acc[k][l] += wq[l];
    }
  }
  for (int k = 0; k < LR_BLOCK; k++)
    z[k] += ((acc[k][0] + acc[k][1]) + (acc[k][2] + acc[k][3])) +
            ((acc[k][4] + acc[k][5]) + (acc[k][6] + acc[k][7]));
#endif
}

/* gb[t] += the sum of r[k] over the rows k whose bit t is set. */
static inline void bit_grads8(const unsigned char *const bits[LR_BLOCK], const double r[LR_BLOCK],
                              int nq, double *gb) {
#if defined(__AVX512F__)
  __m512d rv[LR_BLOCK];
  for (int k = 0; k < LR_BLOCK; k++)
    rv[k] = _mm512_set1_pd(r[k]);
  for (int q = 0; q < nq; q++) {
    __m512d t[LR_BLOCK];
    for (int k = 0; k < LR_BLOCK; k++)
      t[k] = _mm512_maskz_mov_pd((__mmask8)bits[k][q], rv[k]);
    const __m512d s =
        _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(t[0], t[1]), _mm512_add_pd(t[2], t[3])),
                      _mm512_add_pd(_mm512_add_pd(t[4], t[5]), _mm512_add_pd(t[6], t[7])));
    _mm512_storeu_pd(gb + 8 * q, _mm512_add_pd(_mm512_loadu_pd(gb + 8 * q), s));
  }
#elif defined(__AVX2__)
  const __m256i lanes_lo = _mm256_setr_epi64x(1, 2, 4, 8),
                lanes_hi = _mm256_setr_epi64x(16, 32, 64, 128);
  for (int q = 0; q < nq; q++) {
    __m256d tlo[LR_BLOCK], thi[LR_BLOCK]; /* r[k] where the bit is set, else +0.0 */
    for (int k = 0; k < LR_BLOCK; k++) {
      const __m256i b = _mm256_set1_epi64x(bits[k][q]);
      const __m256d rv = _mm256_set1_pd(r[k]);
      tlo[k] = _mm256_and_pd(
          rv, _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(b, lanes_lo), lanes_lo)));
      thi[k] = _mm256_and_pd(
          rv, _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(b, lanes_hi), lanes_hi)));
    }
    const __m256d slo =
        _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(tlo[0], tlo[1]), _mm256_add_pd(tlo[2], tlo[3])),
                      _mm256_add_pd(_mm256_add_pd(tlo[4], tlo[5]), _mm256_add_pd(tlo[6], tlo[7])));
    const __m256d shi =
        _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(thi[0], thi[1]), _mm256_add_pd(thi[2], thi[3])),
                      _mm256_add_pd(_mm256_add_pd(thi[4], thi[5]), _mm256_add_pd(thi[6], thi[7])));
    _mm256_storeu_pd(gb + 8 * q, _mm256_add_pd(_mm256_loadu_pd(gb + 8 * q), slo));
    _mm256_storeu_pd(gb + 8 * q + 4, _mm256_add_pd(_mm256_loadu_pd(gb + 8 * q + 4), shi));
  }
#else
  for (int q = 0; q < nq; q++)
    for (int l = 0; l < 8; l++) {
      double t[LR_BLOCK];
      for (int k = 0; k < LR_BLOCK; k++)
        t[k] = (bits[k][q] >> l) & 1u ? r[k] : 0.0;
      gb[8 * q + l] += ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
    }
#endif
}

/* a[t] = s where bit t is set, else 0, for t < nbits. */
static inline void bits_out(float *restrict a, const unsigned char *bits, int nbits, float s) {
  int q = 0;
#if defined(__AVX512F__) && defined(__AVX512VL__)
  const __m256 sv = _mm256_set1_ps(s);
  for (; q < nbits / 8; q++)
    _mm256_storeu_ps(a + 8 * q, _mm256_maskz_mov_ps((__mmask8)bits[q], sv));
#elif defined(__AVX2__)
  const __m256 sv = _mm256_set1_ps(s);
  const __m256i lanes = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  for (; q < nbits / 8; q++) {
    const __m256i m =
        _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(bits[q]), lanes), lanes);
    _mm256_storeu_ps(a + 8 * q, _mm256_and_ps(sv, _mm256_castsi256_ps(m))); /* s, or +0.0 */
  }
#endif
  for (int t = 8 * q; t < nbits; t++)
    a[t] = (bits[t >> 3] >> (t & 7)) & 1u ? s : 0.0f;
}

/* The real rows of a chunk, from X or from the packed rows (p->src): the
 * float features' margins and gradient sums as doubles over floats; with
 * packed rows, in the packed order (packed_rows.h), a binary feature
 * adds its weight to the margin where its bit is set, and the row's
 * gradient weight to its sum (w, p->wp, has zeros past d, so the last
 * byte's unused bits add nothing). Returns the rows of A written. */
static int real_rows_work(const lr_pass *p, const lr_chunk *c, double *restrict gp, float *A,
                          double *loss_out, double *rsum_out) {
  const lr_rows_src *src = &p->src;
  const int d = p->d, nf = src->nf, nbits = src->nbits, nq = (src->nbits + 7) / 8;
  const double *w = p->wp ? p->wp + (size_t)c->g * p->gw : p->theta + (size_t)c->g * p->D;
  const double b = p->theta[(size_t)c->g * p->D + d];
  double loss = 0.0, rsum = 0.0;
  int kept = 0;
  for (int64_t i = c->r0, end = c->r0 + c->rows; i < end;) {
    int64_t row[LR_BLOCK];
    const int nb = next_block(p, &i, end, row);
    if (nb == 0) break;
    for (int64_t k = i; k < i + LR_BLOCK && k < end; k++)
      if (!synthetic(p->rows, k)) prefetch_bytes(src_row(src, x_row(p, k)), src->stride);
    const float *x[LR_BLOCK];
    const unsigned char *bits[LR_BLOCK];
    for (int k = 0; k < LR_BLOCK; k++) {
      x[k] = src_row(src, x_row(p, row[k]));
      bits[k] = (const unsigned char *)(x[k] + nf);
    }
    const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
    const float *x4 = x[4], *x5 = x[5], *x6 = x[6], *x7 = x[7];
    double z0 = 0.0, z1 = 0.0, z2 = 0.0, z3 = 0.0, z4 = 0.0, z5 = 0.0, z6 = 0.0, z7 = 0.0;
#pragma omp simd reduction(+ : z0, z1, z2, z3, z4, z5, z6, z7)
    for (int j = 0; j < nf; j++) {
      z0 += (double)x0[j] * w[j];
      z1 += (double)x1[j] * w[j];
      z2 += (double)x2[j] * w[j];
      z3 += (double)x3[j] * w[j];
      z4 += (double)x4[j] * w[j];
      z5 += (double)x5[j] * w[j];
      z6 += (double)x6[j] * w[j];
      z7 += (double)x7[j] * w[j];
    }
    double zb[LR_BLOCK] = {z0, z1, z2, z3, z4, z5, z6, z7};
    if (nq) bit_dots8(bits, w + nf, nq, zb); /* not on X's rows: z + 0.0 is not always z */
    for (int k = 0; k < LR_BLOCK; k++)
      zb[k] += b;
    double r[LR_BLOCK];
    float sh[LR_BLOCK];
    block_terms(p, c, row, nb, zb, r, sh, &loss, &rsum);
    if (!p->grad) continue;
    for (int k = 0; k < nb; k++) {
      if (sh[k] == 0.0f) continue;
      float *restrict a = A + (size_t)kept++ * p->Dp;
      const float *restrict xk = x[k];
      const float s = sh[k];
#pragma omp simd
      for (int j = 0; j < nf; j++)
        a[j] = s * xk[j];
      bits_out(a + nf, bits[k], nbits, s);
      a[d] = s;
    }
    const double r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5], r6 = r[6],
                 r7 = r[7];
#pragma omp simd
    for (int j = 0; j < nf; j++)
      gp[j] += ((r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])) +
               ((r4 * x4[j] + r5 * x5[j]) + (r6 * x6[j] + r7 * x7[j]));
    bit_grads8(bits, r, nq, gp + nf);
  }
  *loss_out = loss;
  *rsum_out = rsum;
  return kept;
}

static void chunk_work(const lr_pass *p, const lr_chunk *c, int slot, int tid) {
  const int Dp = p->Dp;
  double *restrict gp = p->grad ? p->gpart + (size_t)slot * p->gw : NULL;
  float *A = p->hess
                 ? p->A + (size_t)tid * (round_up(sizeof(float) * LR_CHUNK * Dp) / sizeof(float))
                 : NULL;
  if (gp) memset(gp, 0, sizeof(double) * p->gw);
  double loss = 0.0, rsum = 0.0;
  const int kept = c->pairs ? pair_chunk_work(p, c, gp, A, &loss, &rsum) /* rows of A written */
                            : real_rows_work(p, c, gp, A, &loss, &rsum);
  p->loss[slot] = loss;
  if (!p->grad) return;
  p->rsum[slot] = rsum;
  if (!p->hess) return;
  float *Hp = p->Hpart + (size_t)slot * Dp * Dp;
  if (kept == 0) {
    memset(Hp, 0, sizeof(float) * Dp * Dp);
    return;
  }
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Dp, kept, 1.0f, A, Dp, 0.0f, Hp, Dp);
}

/* f, and with g and H the gradient and Hessian; see backend.h. */
static gr_status lr_pass_run(gr_backend *be, double *f, double *g, double *H, const double *theta,
                             const float *X, const gr_lr_rows *rows, const uint8_t *y,
                             const float *sw, const int64_t *seg, const double *cw,
                             const uint8_t *active, int m, int d, double tau) {
  GR_TRY(gr_lr_pass_args(&rows, m, d, g, H)); /* rows NULL: X's own rows */
  if (rows && rows->packed && rows->packed->d != d)
    return gr_fail(GR_ERR_INVALID_ARG, "logreg: packed rows of %d features for %d", rows->packed->d,
                   d);
  const int D = d + 1, Dp = (D + LR_PAD - 1) / LR_PAD * LR_PAD, grad = g != NULL, hess = H != NULL;
  const int64_t *pseg = rows && rows->b ? rows->pair_seg : NULL;
  const int threads = be->n_threads > 0 ? be->n_threads : 1;
  int64_t n_chunks = 0;
  for (int k = 0; k < m; k++) {
    if (active && !active[k]) continue;
    n_chunks += (seg[k + 1] - seg[k] + LR_CHUNK - 1) / LR_CHUNK;
    if (pseg) n_chunks += (pseg[k + 1] - pseg[k] + LR_PAIR_CHUNK - 1) / LR_PAIR_CHUNK;
  }
  lr_chunk *chunks = malloc(sizeof(lr_chunk) * (size_t)(n_chunks ? n_chunks : 1));
  double *fsum = calloc((size_t)m, sizeof(double)), *rsum = calloc((size_t)m, sizeof(double));
  lr_pass p = {.X = X,
               .sw = sw,
               .rows = rows,
               .y = y,
               .theta = theta,
               .cw = cw,
               .d = d,
               .D = D,
               .Dp = Dp,
               .grad = grad,
               .hess = hess,
               .tau = tau,
               .src = {(const unsigned char *)X, sizeof(float) * (size_t)d, d, 0},
               .gw = d};
  const gr_packed_rows *pk = rows ? rows->packed : NULL;
  int32_t *pos = NULL; /* (D) packed position -> X's feature, the intercept last */
  double *Hpk = NULL;  /* (m, D, D) the Hessians' sums in the packed order */
  if (pk) {
    p.src = (lr_rows_src){pk->rows, pk->stride, pk->nf, pk->nb};
    p.order = pk->order;
    p.gw = pk->nf + 8 * pk->n_bytes;
    p.wp = calloc((size_t)m * p.gw, sizeof(double));
    pos = malloc(sizeof(int32_t) * (size_t)D);
    for (int k = 0; p.wp && k < m; k++)
      for (int jp = 0; jp < d; jp++)
        p.wp[(size_t)k * p.gw + jp] = theta[(size_t)k * D + p.order[jp]];
    for (int jp = 0; pos && jp < D; jp++)
      pos[jp] = jp < d ? p.order[jp] : d;
    if (hess) Hpk = malloc(sizeof(double) * (size_t)m * D * D);
  }
  p.loss = malloc(sizeof(double) * LR_WAVE);
  p.rsum = malloc(sizeof(double) * LR_WAVE);
  if (grad) p.gpart = scratch(sizeof(double) * LR_WAVE * (size_t)p.gw);
  if (hess) {
    p.Hpart = scratch(sizeof(float) * LR_WAVE * (size_t)Dp * Dp);
    p.A = scratch(round_up(sizeof(float) * LR_CHUNK * Dp) * threads);
  }
  gr_status st = GR_OK;
  if (!chunks || !fsum || !rsum || !p.loss || !p.rsum || (grad && !p.gpart) ||
      (hess && (!p.Hpart || !p.A)) || (pk && (!p.wp || !pos || (hess && !Hpk)))) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate logistic regression scratch (%d features)", d);
    goto done;
  }
  if (hess && Dp > D) { /* the pad columns stay 0: rows are written up to column D only */
    const size_t stride = round_up(sizeof(float) * LR_CHUNK * Dp) / sizeof(float);
    for (int t = 0; t < threads; t++)
      for (size_t r = 0; r < LR_CHUNK; r++)
        memset(p.A + stride * t + r * Dp + D, 0, sizeof(float) * (size_t)(Dp - D));
  }
  n_chunks = 0;
  for (int k = 0; k < m; k++) {
    if (active && !active[k]) continue;
    for (int64_t r0 = seg[k]; r0 < seg[k + 1]; r0 += LR_CHUNK) {
      const int64_t left = seg[k + 1] - r0;
      chunks[n_chunks++] = (lr_chunk){k, 0, (int)(left < LR_CHUNK ? left : LR_CHUNK), r0, seg[k]};
    }
    for (int64_t q0 = pseg ? pseg[k] : 0; pseg && q0 < pseg[k + 1]; q0 += LR_PAIR_CHUNK) {
      const int64_t left = pseg[k + 1] - q0;
      chunks[n_chunks++] =
          (lr_chunk){k, 1, (int)(left < LR_PAIR_CHUNK ? left : LR_PAIR_CHUNK), q0, seg[k]};
    }
    if (grad) memset(g + (size_t)k * D, 0, sizeof(double) * D);
    if (hess) memset((Hpk ? Hpk : H) + (size_t)k * D * D, 0, sizeof(double) * D * D);
  }
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    for (int64_t w0 = 0; w0 < n_chunks; w0 += LR_WAVE) {
      const int nw = (int)(n_chunks - w0 < LR_WAVE ? n_chunks - w0 : LR_WAVE);
#pragma omp for schedule(dynamic, 1)
      for (int s = 0; s < nw; s++) {
        chunk_work(&p, &chunks[w0 + s], s, tid);
      }
      /* every sum in chunk order: the same on any number of threads */
#pragma omp single
      for (int s = 0; s < nw; s++) {
        const int k = chunks[w0 + s].g;
        fsum[k] += p.loss[s];
        if (!grad) continue;
        rsum[k] += p.rsum[s];
        double *gk = g + (size_t)k * D;
        const double *gp = p.gpart + (size_t)s * p.gw;
        if (pos) {
          for (int jp = 0; jp < d; jp++)
            gk[pos[jp]] += gp[jp];
        } else {
          for (int j = 0; j < d; j++)
            gk[j] += gp[j];
        }
      }
      if (hess) {
#pragma omp for schedule(dynamic, 8)
        for (int a = 0; a < D; a++) {
          for (int s = 0; s < nw; s++) { /* packed rows: the packed order, put back below */
            double *h = (Hpk ? Hpk : H) + (size_t)chunks[w0 + s].g * D * D + (size_t)a * D;
            const float *hp = p.Hpart + (size_t)s * Dp * Dp + (size_t)a * Dp;
            for (int c = a; c < D; c++)
              h[c] += hp[c];
          }
        }
      }
    }
  }
  openblas_set_num_threads(blas_threads);
  for (int k = 0; k < m; k++) {
    if (active && !active[k]) continue;
    const double *w = theta + (size_t)k * D;
    double reg = 0.0;
    for (int j = 0; j < d; j++)
      reg += w[j] * w[j];
    f[k] = 0.5 * reg + fsum[k];
    if (!grad) continue;
    double *gk = g + (size_t)k * D;
    for (int j = 0; j < d; j++)
      gk[j] += w[j];
    gk[d] = rsum[k];
    if (!hess) continue;
    double *Hk = H + (size_t)k * D * D;
    for (int a = 0; Hpk && a < D; a++) { /* packed (a, c) is one pair of X's features */
      const double *h = Hpk + (size_t)k * D * D + (size_t)a * D;
      for (int c = a; c < D; c++) {
        const int i = pos[a] < pos[c] ? pos[a] : pos[c], j = pos[a] ^ pos[c] ^ i;
        Hk[(size_t)i * D + j] = h[c];
      }
    }
    for (int a = 0; a < D; a++) {
      if (a < d) Hk[(size_t)a * D + a] += 1.0;
      for (int c = a + 1; c < D; c++)
        Hk[(size_t)c * D + a] = Hk[(size_t)a * D + c];
    }
  }
done:
  free(chunks);
  free(fsum);
  free(rsum);
  free(p.loss);
  free(p.rsum);
  free(p.gpart);
  free(p.wp);
  free(pos);
  free(Hpk);
  free(p.Hpart);
  free(p.A);
  return st;
}

gr_status gr_cpu_logreg_objective(gr_backend *be, double *f, const double *theta, const float *X,
                                  const gr_lr_rows *rows, const uint8_t *y, const float *sw,
                                  const int64_t *seg, const double *cw, const uint8_t *active,
                                  int m, int d) {
  return lr_pass_run(be, f, NULL, NULL, theta, X, rows, y, sw, seg, cw, active, m, d, 0.0);
}

gr_status gr_cpu_logreg_grad_hess(gr_backend *be, double *g, double *H, double *f,
                                  const double *theta, const float *X, const gr_lr_rows *rows,
                                  const uint8_t *y, const float *sw, const int64_t *seg,
                                  const double *cw, const uint8_t *active, int m, int d,
                                  double hess_tau) {
  return lr_pass_run(be, f, g, H, theta, X, rows, y, sw, seg, cw, active, m, d, hess_tau);
}

gr_status gr_cpu_spd_solve_batched(gr_backend *be, double *step, double *H, const double *rhs,
                                   const uint8_t *active, const uint8_t *factored, int m, int D) {
  (void)be;
  gr_status st = GR_OK;
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1); /* the factorization then does not depend on threads */
  for (int k = 0; k < m && st == GR_OK; k++) {
    if (active && !active[k]) continue;
    double *Hk = H + (size_t)k * D * D, *s = step + (size_t)k * D;
    memcpy(s, rhs + (size_t)k * D, sizeof(double) * D);
    int info = factored && factored[k] ? 0 : LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', D, Hk, D);
    if (info == 0) info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', D, 1, Hk, D, s, D);
    if (info > 0)
      st = gr_fail(GR_ERR_NUMERIC,
                   "logreg: the Hessian of group %d is not positive definite (leading minor %d "
                   "of %d); lower C or remove constant features",
                   k, info, D);
    else if (info == -4 || info == -7) /* LAPACKE's NaN check of H (potrf) or of the rhs (potrs) */
      st = gr_fail(GR_ERR_NUMERIC,
                   "logreg: the Hessian of group %d holds a NaN or an infinity; lower C or scale "
                   "the features",
                   k);
    else if (info < 0)
      st =
          gr_fail(GR_ERR_INVALID_ARG, "logreg: LAPACK rejected argument %d for group %d", -info, k);
  }
  openblas_set_num_threads(blas_threads);
  return st;
}
