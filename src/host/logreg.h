/* L2-regularized logistic regression with scikit-learn's objective
 * (LogisticRegression(C=..., fit_intercept=True)):
 *   min_w,b  1/2 |w|^2 + C sum_i s_i log(1 + exp(-y_i (x_i . w + b)))
 * with y_i in {-1, +1}, sample weights s_i, and the intercept b not
 * penalized. gr_logreg_fit is the double-precision Newton reference;
 * gr_logreg_fit_groups solves by Newton's method or by L-BFGS. */
#ifndef GR_HOST_LOGREG_H
#define GR_HOST_LOGREG_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"

struct gr_packed_rows; /* kernels/cpu/packed_rows.h */

/* How gr_logreg_fit_groups solves. Newton's method costs a D x D Hessian
 * per group (memory, and a rank update per row) and converges in a dozen
 * steps; L-BFGS keeps GR_LOGREG_LBFGS_HISTORY pairs of D-vectors per group
 * and needs only the gradient, over many more iterations. Both stop at the
 * same optimum. AUTO: Newton up to GR_LOGREG_NEWTON_MAX_D features, else
 * L-BFGS. */
typedef enum gr_logreg_solver {
  GR_LOGREG_AUTO = 0,
  GR_LOGREG_NEWTON = 1,
  GR_LOGREG_LBFGS = 2,
} gr_logreg_solver;

#define GR_LOGREG_LBFGS_HISTORY 10
#define GR_LOGREG_NEWTON_MAX_D 1024

typedef struct gr_logreg_params {
  double C; /* inverse regularization strength, default 1 */
  /* iterations at most; 0 (default): 100 Newton steps or 1000 L-BFGS
   * iterations (gr_logreg_max_iter) */
  int max_iter;
  double tol;              /* stop when max |gradient| <= tol, default 1e-8 */
  gr_logreg_solver solver; /* default GR_LOGREG_AUTO */
  int balanced;            /* 1: sample weights n / (2 n_class), as class_weight="balanced" */
  /* gr_logreg_fit_groups: the Newton Hessians from the rows curvature
   * sampling keeps, a row whose p (1 - p) is below hessian_sample with
   * probability p (1 - p) / hessian_sample (backend.h); 0: from every row.
   * The optimum is the same either way. Default 0.003 (the leads fits keep
   * their Newton step counts and spend a fifth less time). */
  double hessian_sample;
  /* gr_logreg_fit_groups: when set and *stop becomes non-zero (a SIGINT
   * handler's flag), the fit stops after the Newton step in progress with
   * GR_ERR_INTERRUPTED. */
  volatile sig_atomic_t *stop;
  /* gr_logreg_fit_groups: bytes the fit may stage on the backend (X, the
   * training rows' descriptors, labels and weights); 0 = what the backend
   * has (for the CUDA backend, within --max-device-mem; the CPU backend
   * reads host memory in place). Past it, the groups are fitted in
   * batches, each with its own copy of the X rows it needs; a group's
   * model does not depend on the batching (bit for bit on the CPU). */
  int64_t max_bytes;
  /* gr_logreg_fit_groups: X (the whole of it) packed by gr_pack_x
   * (packed_x.h), for the passes to read instead of packing X again;
   * NULL (default): packed by the fit where the backend packs rows. Not
   * owned; a fit in batches packs each batch's rows itself. */
  const struct gr_packed_rows *packed;
  /* gr_logreg_fit_groups, Newton: 1 = every group starts from zero, no
   * warm start from a subsample (the optimum is the same). Default 0. */
  int cold_start;
} gr_logreg_params;

/* Why a fit stopped. The first two are convergence; the last two are not:
 * the model is usable, but not certified optimal (the CLI warns). */
typedef enum gr_logreg_stop {
  GR_LOGREG_STOP_UNKNOWN = 0,     /* not fitted in this process (a loaded model) */
  GR_LOGREG_STOP_GRADIENT = 1,    /* max |gradient| <= tol */
  GR_LOGREG_STOP_PRECISION = 2,   /* the last step changed the objective below its rounding */
  GR_LOGREG_STOP_NO_DECREASE = 3, /* L-BFGS: the line search found no lower objective */
  GR_LOGREG_STOP_MAX_ITER = 4,    /* the iteration limit came first */
} gr_logreg_stop;

typedef struct gr_logreg_model {
  int d;
  double *w; /* (d) */
  double b;
  int iterations;
  /* max |gradient| where it was last computed: at the solution, except
   * after a PRECISION stop of Newton's method, where it is the gradient the
   * final full step started from (that step's result is not re-measured) */
  double grad_norm;
  gr_logreg_stop stop; /* not saved in model files */
} gr_logreg_model;

void gr_logreg_params_default(gr_logreg_params *p);
/* The solver p picks for d features (AUTO resolved). */
gr_logreg_solver gr_logreg_solver_for(const gr_logreg_params *p, int d);
/* p->max_iter, or the solver's default when it is 0. */
int gr_logreg_max_iter(const gr_logreg_params *p, gr_logreg_solver solver);
/* "auto", "newton", "lbfgs" <-> the enum; parse returns -1 on anything else. */
int gr_logreg_solver_parse(const char *name, gr_logreg_solver *out);
const char *gr_logreg_solver_name(gr_logreg_solver solver);
/* What the solver's iterations are called in messages: "Newton steps" or
 * "L-BFGS iterations" (solver resolved, not AUTO). */
const char *gr_logreg_iteration_unit(gr_logreg_solver solver);
/* 1 when m stopped by convergence (GRADIENT or PRECISION). */
int gr_logreg_converged(const gr_logreg_model *m);
/* A token for the stop, as JSON reports it: "gradient", "precision",
 * "no_decrease", "max_iter" or "unknown". */
const char *gr_logreg_stop_name(gr_logreg_stop stop);
/* For a model that did not converge, what happened and what to change, in
 * one phrase ("stopped at the limit of 1000 L-BFGS iterations with max
 * |gradient| 0.031 above tol 1e-06: raise --max-iter ..."), written to buf;
 * for a converged one, "converged". solver: the one that fitted m. */
void gr_logreg_describe_stop(const gr_logreg_model *m, gr_logreg_solver solver, double tol,
                             char *buf, size_t cap);
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
 * released with gr_logreg_model_free.
 * @return GR_OK, GR_ERR_INVALID_ARG (bad segments, labels or weights),
 * GR_ERR_NOMEM, GR_ERR_NUMERIC (a fit diverged) or a backend error. */
gr_status gr_logreg_fit_groups(gr_context *ctx, const float *X, const uint8_t *y, const float *sw,
                               const int64_t *seg, int m, int d, const gr_logreg_params *p,
                               gr_logreg_model *out);

/* Training rows described over a matrix instead of copied into one: row i
 * is the point X[a[i]] + gap[i] (X[b[i]] - X[a[i]]), taken exactly (the
 * row gr_smote writes for the same base, neighbour and gap is its float
 * rounding); a row with b[i] == a[i] (or b NULL: every row) is X[a[i]]
 * itself. The synthetic rows are read by pair (backend.h, gr_lr_rows), so
 * they cost far less than real ones. A row of X may
 * serve any number of training rows and groups. a NULL: row i is X[i]
 * (what gr_logreg_fit_groups passes). All host memory; nothing is kept. */
typedef struct gr_logreg_rows {
  const float *X;   /* (n_x, d) row-major */
  int64_t n_x;      /* rows of X; a and b must lie in [0, n_x) */
  const int32_t *a; /* (n) or NULL */
  const int32_t *b; /* (n) or NULL */
  const float *gap; /* (n), in [0, 1]; needed when b is given */
} gr_logreg_rows;

/* gr_logreg_fit_groups over described training rows: group g is training
 * rows seg[g]..seg[g+1) of `rows`, y and sw (NULL = 1) are per training
 * row (n = seg[m]). The model of the materialized rows up to their float
 * rounding (1e-6 relative in the tests).
 * @return as gr_logreg_fit_groups; GR_ERR_INVALID_ARG also for a row
 * index outside X or a gap outside [0, 1]. */
gr_status gr_logreg_fit_groups_rows(gr_context *ctx, const gr_logreg_rows *rows, const uint8_t *y,
                                    const float *sw, const int64_t *seg, int m, int d,
                                    const gr_logreg_params *p, gr_logreg_model *out);

#endif
