/* L2-regularized logistic regression with scikit-learn's objective
 * (LogisticRegression(C=..., fit_intercept=True)):
 *   min_w,b  1/2 |w|^2 + C sum_i s_i log(1 + exp(-y_i (x_i . w + b)))
 * with y_i in {-1, +1}, sample weights s_i, and the intercept b not
 * penalized. This is the double-precision Newton reference solver. */
#ifndef GR_HOST_LOGREG_H
#define GR_HOST_LOGREG_H

#include <stdint.h>

#include "gpurec.h"

typedef struct gr_logreg_params {
  double C;     /* inverse regularization strength, default 1 */
  int max_iter; /* Newton steps at most, default 100 */
  double tol;   /* stop when max |gradient| <= tol, default 1e-8 */
  int balanced; /* 1: sample weights n / (2 n_class), as class_weight="balanced" */
} gr_logreg_params;

typedef struct gr_logreg_model {
  int d;
  double *w; /* (d) */
  double b;
  int iterations;
  double grad_norm; /* max |gradient| at the solution */
} gr_logreg_model;

void gr_logreg_params_default(gr_logreg_params *p);
/* X (n, d) row-major, y (n) with 0/1 labels. Both classes must occur. */
gr_status gr_logreg_fit(const float *X, const uint8_t *y, int64_t n, int d,
                        const gr_logreg_params *p, gr_logreg_model *out);
/* P(y = 1 | x) for each row. */
void gr_logreg_predict(const gr_logreg_model *m, const float *X, int64_t n, float *prob);
void gr_logreg_model_free(gr_logreg_model *m);

/* Fits m independent models in one batched pass on the context's backend
 * (the per-cluster models of the leads engine): model g on rows
 * seg[g]..seg[g+1) of X (n = seg[m] rows, d features) with labels y (0/1)
 * and optional sample weights sw (NULL = 1), multiplied by the balanced
 * class weights of group g when p->balanced. Same objective as
 * gr_logreg_fit; every group must hold both classes. out: m models, each
 * released with gr_logreg_model_free. */
gr_status gr_logreg_fit_groups(gr_context *ctx, const float *X, const uint8_t *y, const float *sw,
                               const int64_t *seg, int m, int d, const gr_logreg_params *p,
                               gr_logreg_model *out);

#endif
