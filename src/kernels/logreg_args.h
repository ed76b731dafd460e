/* The argument checks both twins of the logistic-regression passes
 * (logreg_objective, logreg_grad_hess; backend.h) make before any work, so
 * that a bad call fails with the same message on either backend. Host code. */
#ifndef GR_KERNELS_LOGREG_ARGS_H
#define GR_KERNELS_LOGREG_ARGS_H

#include "../common/error.h"
#include "backend.h"

/* Checks a pass over m groups of d features; *rows becomes NULL when it
 * has neither descriptors nor packed rows (X's own rows). g NULL:
 * objective only; H needs g. */
static inline gr_status gr_lr_pass_args(const gr_lr_rows **rows, int m, int d, const double *g,
                                        const double *H) {
  if (m < 1 || d < 1) return gr_fail(GR_ERR_INVALID_ARG, "logreg: %d groups of %d features", m, d);
  const gr_lr_rows *r = *rows;
  if (r && !r->a && !r->packed) *rows = r = NULL;
  if (r && r->b &&
      (!r->gap || !r->pair_seg || !r->pair_a || !r->pair_b || !r->pair_start ||
       (r->pair_seg[m] > r->pair_seg[0] && !r->pair_rows)))
    return gr_fail(GR_ERR_INVALID_ARG,
                   "logreg: described rows with partners need their gaps and pairs");
  if (H && !g) return gr_fail(GR_ERR_INVALID_ARG, "logreg: a Hessian without its gradient");
  return GR_OK;
}

#endif
