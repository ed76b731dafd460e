/* The CPU twins of the backend operations (see backend.h for contracts). */
#ifndef GR_KERNELS_CPU_OPS_H
#define GR_KERNELS_CPU_OPS_H

#include "../backend.h"

int gr_cpu_default_threads(void);

gr_status gr_cpu_gram(gr_backend *be, float *G, const float *Y, int64_t n, int k, float reg);
gr_status gr_cpu_als_solve_cg(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                              const float *G, int k, int cg_steps);
/* One CG product over a row's n items idx (confidences conf): out = s G v
 * + sum_e w_e y_e, with residual: s = -1, w_e = c_e - (c_e - 1)(y_e . v);
 * else s = 1, w_e = (c_e - 1)(y_e . v). gv: G v computed already, or NULL.
 * any_k forces the path taken for k that are not a multiple of 16 (tests
 * compare both). out, v, gv: (k). */
void gr_cpu_cg_gather(float *out, const float *G, const float *v, const float *Y,
                      const int32_t *idx, const float *conf, int64_t n, int k, int residual,
                      const float *gv, int any_k);
/* out[b] = G v[b] for 4 vectors, k a multiple of 16 (the CG's batched
 * product: the same sums as gr_cpu_cg_gather's own). */
void gr_cpu_matvec_batch(float *const *out, const float *G, const float *const *v, int k);
gr_status gr_cpu_als_solve_cholesky(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                                    const float *G, int k);
gr_status gr_cpu_als_loss_terms(gr_backend *be, double out[3], const gr_csr_view *m, const float *X,
                                const float *Y, const float *G, int k);
gr_status gr_cpu_row_sq_norms(gr_backend *be, float *out, const float *Y, int64_t n, int k);
gr_status gr_cpu_topk_dot(gr_backend *be, int32_t *out_idx, float *out_score, const float *Q,
                          const int32_t *rows, int64_t n_queries, const float *Y, int64_t n_items,
                          int k, const gr_csr_view *exclude, const uint8_t *allowed, int topk);

/* KMeans (see backend.h): row norms, assignment, and the one-pass Lloyd
 * step that also adds the rows to the running per-cluster sums. */
gr_status gr_cpu_kmeans_row_norms(gr_backend *be, float *out, const float *X, int64_t n, int d);
gr_status gr_cpu_kmeans_assign(gr_backend *be, int32_t *labels, float *min_d2, const float *X,
                               const float *x_norm, int64_t n, int d, const float *C, int k,
                               const struct gr_packed_rows *packed);
gr_status gr_cpu_kmeans_step(gr_backend *be, int32_t *labels, float *min_d2, double *sums,
                             int64_t *counts, const float *X, const float *x_norm, int64_t n, int d,
                             const float *C, int k, const struct gr_packed_rows *packed);
gr_status gr_cpu_kmeans_step_bounded(gr_backend *be, int32_t *labels, gr_km_bounds *b,
                                     const float *X, const float *x_norm, int64_t n, int d,
                                     const float *C, int k, const struct gr_packed_rows *packed);

/* Batched logistic regression terms and Newton solves (see backend.h). */
gr_status gr_cpu_logreg_objective(gr_backend *be, double *f, const double *theta, const float *X,
                                  const gr_lr_rows *rows, const uint8_t *y, const float *sw,
                                  const int64_t *seg, const double *cw, const uint8_t *active,
                                  int m, int d);
gr_status gr_cpu_logreg_grad_hess(gr_backend *be, double *g, double *H, double *f,
                                  const double *theta, const float *X, const gr_lr_rows *rows,
                                  const uint8_t *y, const float *sw, const int64_t *seg,
                                  const double *cw, const uint8_t *active, int m, int d,
                                  double hess_tau);
gr_status gr_cpu_pack_rows(gr_backend *be, struct gr_packed_rows **packed, const float *X,
                           int64_t n_x, int d, const uint8_t *binary);
void gr_cpu_pack_rows_free(gr_backend *be, struct gr_packed_rows *packed);
gr_status gr_cpu_spd_solve_batched(gr_backend *be, double *step, double *H, const double *rhs,
                                   const uint8_t *active, const uint8_t *factored, int m, int D);

/* Selects the best `topk` of scores[0..n) (see backend.h for the order),
 * skipping the sorted indices excl[0..n_excl) and items with allowed[i] == 0.
 * Exposed for the host (ranking a single user) and the tests. */
void gr_cpu_select_topk(int32_t *out_idx, float *out_score, const float *scores, int64_t n,
                        const int32_t *excl, int64_t n_excl, const uint8_t *allowed, int topk);

/* One score of topk_dot, q . y as the CPU twin computes it (the same
 * operations in the same order), for the tests. */
float gr_cpu_topk_reference_dot(const float *q, const float *y, int k);

#endif
