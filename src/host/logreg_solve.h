/* What the per-group solvers of gr_logreg_fit_groups share: the staged
 * training data they pass to the backend's logistic-regression passes, and
 * the L-BFGS solver (logreg_lbfgs.c; Newton's method is in
 * logreg_groups.c, beside the staging). Internal to the host. */
#ifndef GR_HOST_LOGREG_SOLVE_H
#define GR_HOST_LOGREG_SOLVE_H

#include <math.h>
#include <stdint.h>

#include "../kernels/backend.h"
#include "logreg.h"

/* One run's training data in backend memory: rows (NULL = X's own rows)
 * points at desc when the rows are described; seg is host memory. */
typedef struct gr_lr_data {
  const float *X;
  const gr_lr_rows *rows;
  gr_lr_rows desc;
  const uint8_t *y;
  const float *sw;
  const int64_t *seg;
} gr_lr_data;

/* whether any of the m per-group flags is set */
static inline int gr_lr_any(const uint8_t *flags, int m) {
  for (int g = 0; g < m; g++)
    if (flags[g]) return 1;
  return 0;
}

/* a . b, summed in order */
static inline double gr_lr_dot(const double *a, const double *b, int n) {
  double s = 0.0;
  for (int j = 0; j < n; j++)
    s += a[j] * b[j];
  return s;
}

/* max |v_j|, NaN if any v_j is NaN (fmax would drop it) */
static inline double gr_lr_max_abs(const double *v, int n) {
  double a = 0.0;
  for (int j = 0; j < n; j++) {
    if (isnan(v[j])) return NAN;
    a = fmax(a, fabs(v[j]));
  }
  return a;
}

/* L-BFGS for the m groups of t (only those flagged in only, NULL = all)
 * from theta (m, D = d + 1; host; in: the start, out: the solution).
 * rows, y and sw (NULL = 1) are the same training rows in host memory, for
 * the preconditioner; cw (2 m) holds C times each group's class weights.
 * iters, gmax and stops (m) get each group's iterations, final max
 * |gradient| and gr_logreg_stop; max_iter is the resolved limit. Stops a
 * group at max |gradient| <= p->tol, when a step lowers its objective by
 * less than its rounding can tell, or when no step lowers it. f_zero (m,
 * may be NULL): each group's objective at zero; a group whose start is
 * not zero and whose objective there is above it starts from zero instead.
 * @return GR_OK, GR_ERR_NUMERIC (a non-finite objective or gradient, naming
 * the iteration and group), GR_ERR_INTERRUPTED (p->stop), GR_ERR_NOMEM or
 * a backend error. */
gr_status gr_logreg_lbfgs(gr_backend *be, const gr_lr_data *t, const gr_logreg_rows *rows,
                          const uint8_t *y, const float *sw, double *theta, const double *cw,
                          const uint8_t *only, int m, int d, const gr_logreg_params *p,
                          int max_iter, const double *f_zero, int *iters, double *gmax,
                          uint8_t *stops);

#endif
