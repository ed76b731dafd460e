/* CPU twins of the ALS operations. Rows are independent, so OpenMP splits
 * them dynamically (row lengths follow a power law); every row's arithmetic
 * is sequential, which makes the result independent of the thread count.
 * The inner loops over the factor dimension are written so the compiler
 * vectorizes them: small BLAS calls per item cost more than they compute. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
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

gr_status gr_cpu_als_solve_cg(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                              const float *G, int k, int cg_steps) {
  const int64_t n = m->n_rows;
  int failed = 0;
#pragma omp parallel num_threads(be->n_threads)
  {
    float *scratch = malloc(sizeof(float) * 3 * (size_t)k);
    if (!scratch) {
#pragma omp atomic write
      failed = 1;
    }
    float *r = scratch, *p = scratch + k, *ap = scratch + 2 * k;
#pragma omp for schedule(dynamic, 32)
    for (int64_t u = 0; u < n; u++) {
      if (!scratch) continue;
      float *x = X + (size_t)u * k;
      const int64_t begin = m->indptr[u], end = m->indptr[u + 1];
      if (begin == end) {
        memset(x, 0, sizeof(float) * (size_t)k);
        continue;
      }
      /* r = b - A x, with b = sum c y_i and A x = G x + sum (c-1)(y_i.x) y_i */
      matvec_k(r, G, x, k);
      for (int j = 0; j < k; j++)
        r[j] = -r[j];
      for (int64_t e = begin; e < end; e++) {
        /* the first pass over the row's items misses the cache: fetch ahead */
        if (e + 4 < end) {
          const float *next = Y + (size_t)m->indices[e + 4] * k;
          for (int j = 0; j < k; j += 16)
            __builtin_prefetch(next + j);
        }
        const float *y = Y + (size_t)m->indices[e] * k;
        const float c = m->data[e];
        axpy_k(r, c - gr_conf_extra(c) * dot_k(y, x, k), y, k);
      }
      memcpy(p, r, sizeof(float) * (size_t)k);
      float rs_old = dot_k(r, r, k);
      if (rs_old < GR_CG_EPS) continue;
      for (int it = 0; it < cg_steps; it++) {
        matvec_k(ap, G, p, k);
        for (int64_t e = begin; e < end; e++) {
          const float *y = Y + (size_t)m->indices[e] * k;
          axpy_k(ap, gr_conf_extra(m->data[e]) * dot_k(y, p, k), y, k);
        }
        const float alpha = gr_cg_step(rs_old, dot_k(p, ap, k));
        axpy_k(x, alpha, p, k);
        axpy_k(r, -alpha, ap, k);
        const float rs_new = dot_k(r, r, k);
        if (rs_new < GR_CG_EPS) break;
        const float beta = rs_new / rs_old;
        for (int j = 0; j < k; j++)
          p[j] = r[j] + beta * p[j];
        rs_old = rs_new;
      }
    }
    free(scratch);
  }
  if (failed) return gr_fail(GR_ERR_NOMEM, "cannot allocate CG scratch");
  return GR_OK;
}

gr_status gr_cpu_als_solve_cholesky(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                                    const float *G, int k) {
  const int64_t n = m->n_rows;
  int failed_alloc = 0;
  int64_t failed_row = -1;
  int failed_info = 0;
#pragma omp parallel num_threads(be->n_threads)
  {
    float *A = malloc(sizeof(float) * ((size_t)k * k + k));
    if (!A) {
#pragma omp atomic write
      failed_alloc = 1;
    }
    float *b = A ? A + (size_t)k * k : NULL;
#pragma omp for schedule(dynamic, 16)
    for (int64_t u = 0; u < n; u++) {
      if (!A) continue;
      float *x = X + (size_t)u * k;
      const int64_t begin = m->indptr[u], end = m->indptr[u + 1];
      if (begin == end) {
        memset(x, 0, sizeof(float) * (size_t)k);
        continue;
      }
      memcpy(A, G, sizeof(float) * (size_t)k * k);
      memset(b, 0, sizeof(float) * (size_t)k);
      for (int64_t e = begin; e < end; e++) {
        const float *y = Y + (size_t)m->indices[e] * k;
        const float c = m->data[e];
        const float w = gr_conf_extra(c);
        axpy_k(b, c, y, k);
        /* upper triangle only: row r, columns r..k-1 */
        for (int r = 0; r < k; r++)
          axpy_k(A + (size_t)r * k + r, w * y[r], y + r, k - r);
      }
      /* Row-major upper is column-major lower: no transposed copy needed. */
      int info = LAPACKE_sposv_work(LAPACK_COL_MAJOR, 'L', k, 1, A, k, b, k);
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
      memcpy(x, b, sizeof(float) * (size_t)k);
    }
    free(A);
  }
  if (failed_alloc) return gr_fail(GR_ERR_NOMEM, "cannot allocate Cholesky scratch");
  if (failed_row >= 0)
    return gr_fail(GR_ERR_NUMERIC,
                   "Cholesky factorization failed on row %lld (LAPACK info %d): the normal "
                   "equations are not positive definite; increase --regularization",
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
