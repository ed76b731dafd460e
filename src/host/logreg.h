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

#endif
