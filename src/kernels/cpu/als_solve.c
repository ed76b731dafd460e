/* CPU twins of the ALS operations besides the solves (als_cg.c,
 * als_cholesky.c): the Gram matrix Y^T Y + reg I, the loss terms and row
 * norms. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "als_vec.h"
#include "cpu_ops.h"

int gr_cpu_default_threads(void) { return omp_get_num_procs(); }

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
