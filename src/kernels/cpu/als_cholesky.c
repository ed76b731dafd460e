/* CPU twin of the ALS exact solve (cuda/als_cholesky.cu): each row's
 * normal equations formed and solved by Cholesky. Rows are independent;
 * every row's arithmetic is sequential, so the result does not depend on
 * the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "als_vec.h"
#include "contract.h"
#include "cpu_ops.h"

/* ---- exact solves --------------------------------------------------------
 * A row's matrix A = G + sum_e (c_e - 1) y_e y_e^T and b = sum_e c_e y_e,
 * then A = U^T U (U upper, row-major) and two triangular solves. Written
 * here rather than as LAPACK's sposv per row: at 64 factors sposv and an
 * update of A one item and one partial row at a time shared 1.6 s per
 * iteration on the medium bench (now 0.66 s), and at 128 factors sposv ran
 * OpenBLAS's threaded kernels inside gpurec's OpenMP threads: 315 s per
 * iteration (now 2.7 s). */

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
    enum { NW = NV * GR_VPB }; /* vectors per row */                                               \
    gr_vn acc[NW];                                                                                 \
    memcpy(acc, A + (size_t)i * k + a, sizeof acc);                                                \
    for (int p = 0; p < i; p++) {                                                                  \
      const float f = A[(size_t)p * k + i];                                                        \
      const gr_vn *up = (const gr_vn *)(A + (size_t)p * k + a);                                    \
      for (int v = 0; v < NW; v++)                                                                 \
        acc[v] -= f * up[v];                                                                       \
    }                                                                                              \
    const float d = block_lane(acc, i - a);                                                        \
    if (!(d > 0.0f) || !isfinite(d)) return i + 1;                                                 \
    const float root = sqrtf(d), inv = 1.0f / root;                                                \
    dinv[i] = inv;                                                                                 \
    for (int v = 0; v < NW; v++)                                                                   \
      acc[v] *= inv;                                                                               \
    for (int l = 0; l < i - a; l++)                                                                \
      block_set_lane(acc, l, 0.0f);                                                                \
    block_set_lane(acc, i - a, root);                                                              \
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
    gr_vn t[GR_VPB];
    for (int h = 0; h < GR_VPB; h++)
      t[h] = (gr_vn){0};
    for (int c = j & ~15; c < k; c += 16) /* x[j] and left of it are still 0 */
      GR_UNROLL_VPB
    for (int h = 0; h < GR_VPB; h++)
      t[h] += *(const gr_vn *)(uj + c + h * GR_VL) * *(const gr_vn *)(x + c + h * GR_VL);
    x[j] = (z[j] - hsum_block(t)) * dinv[j];
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
