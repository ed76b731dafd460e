/* gr_logreg_fit_groups: the per-cluster models of the leads engine, fitted
 * together, by Newton's method (here) or L-BFGS (logreg_lbfgs.c, chosen by
 * gr_logreg_solver_for; the staging, warm starts and batching are shared).
 * X, y and sw are staged once; every Newton iteration is one
 * backend pass for the objectives, gradients and Hessians of all groups
 * still running and one batched Cholesky solve. Only (m, D)-sized vectors
 * come back to the host, where the per-group line search and stopping rules
 * live, as in the double reference (logreg.c): damped Newton, Armijo
 * backtracking, stop at max |gradient| <= tol. A gradient summed over
 * millions of rows cannot reach a tol below its own rounding, and the
 * Hessian is a float sum: so a group also stops after a full Newton step
 * whose decrement g.H^-1 g was below 1e-10 of its objective (the
 * reference's own threshold for skipping the line search), where one more
 * step cannot change the fit. Training rows may be described over one
 * matrix (gr_logreg_rows) instead of copied: X is staged once, the
 * descriptors and labels per run, and the backend rebuilds each row where
 * it reads it.
 *
 * The Hessian is the costly part (a D x D rank update per row, against a
 * dot product per row for the gradient), and on a nearly separable group
 * most rows add almost nothing to it: with hessian_sample > 0 it comes
 * from the rows curvature sampling keeps (gr_logreg_hess_scale), an
 * unbiased estimate. The steps are then inexact Newton steps; the
 * objective, the gradient, the line search and the stopping test use every
 * row exactly, so the optimum reached is the same. Near the optimum a step
 * may also reuse the previous step's Cholesky factor (lazy Hessian, see
 * newton_step), with the same guarantee. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "context.h"
#include "logreg.h"
#include "logreg_pairs.h"
#include "logreg_plan.h"
#include "logreg_solve.h"
#include "packed_x.h"

#define LR_ARMIJO 1e-4         /* sufficient decrease, as in the reference */
#define LR_HALVINGS 50         /* backtracking steps at most */
#define LR_FULL_STEP_EPS 1e-10 /* decrement below this times (1 + |f|): full step, done */
/* Decrement below this times (1 + |f|): the next step reuses the Hessian's
 * factor (see newton_step). On the leads bench 1e-5 took the logistic
 * regressions from 1.45 to 1.29 s; 1e-4 and above cost more steps than
 * they save. */
#define LR_LAZY_EPS 1e-5

/* The descriptors point into X (n_x rows) and a synthetic row's gap is in
 * [0, 1]; NULL rows: X holds the rows themselves. */
static gr_status check_rows(const gr_logreg_rows *rows, const int64_t *seg, int m) {
  for (int64_t i = seg[0]; i < seg[m]; i++) {
    const int32_t a = rows->a[i], b = rows->b ? rows->b[i] : a;
    if (a < 0 || a >= rows->n_x || b < 0 || b >= rows->n_x)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "logreg: training row %lld refers to rows %d and %d of a matrix of %lld",
                     (long long)i, (int)a, (int)b, (long long)rows->n_x);
    if (b != a && !(rows->gap[i] >= 0.0f && rows->gap[i] <= 1.0f))
      return gr_fail(GR_ERR_INVALID_ARG, "logreg: training row %lld has gap %g (not in [0, 1])",
                     (long long)i, (double)rows->gap[i]);
  }
  return GR_OK;
}

static int64_t positives(const uint8_t *y, const int64_t *seg, int g) {
  int64_t n_pos = 0;
  for (int64_t i = seg[g]; i < seg[g + 1]; i++)
    n_pos += y[i] != 0;
  return n_pos;
}

/* cw[0], cw[1]: C times the negatives' and positives' class weights. */
static void class_weights(int64_t n, int64_t n_pos, const gr_logreg_params *p, double *cw) {
  cw[0] = p->C * (p->balanced ? (double)n / (2.0 * (double)(n - n_pos)) : 1.0);
  cw[1] = p->C * (p->balanced ? (double)n / (2.0 * (double)n_pos) : 1.0);
}

static gr_status check_input(const uint8_t *y, const float *sw, const int64_t *seg, int m, int d,
                             const gr_logreg_params *p, double *cw) {
  if (m < 1 || d < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "logreg: %d groups of %d features (need >= 1 of each)", m,
                   d);
  if (!(p->C > 0) || !isfinite(p->C) || p->max_iter < 0 || !(p->tol >= 0) ||
      !(p->hessian_sample >= 0) || !isfinite(p->hessian_sample))
    return gr_fail(GR_ERR_INVALID_ARG,
                   "logreg: C > 0 (got %g), max_iter >= 0 (got %d), tol >= 0 (got %g), "
                   "hessian_sample >= 0 (got %g)",
                   p->C, p->max_iter, p->tol, p->hessian_sample);
  if ((unsigned)p->solver > GR_LOGREG_LBFGS)
    return gr_fail(GR_ERR_INVALID_ARG, "logreg: unknown solver %d", (int)p->solver);
  if (seg[0] < 0) return gr_fail(GR_ERR_INVALID_ARG, "logreg: seg[0] = %lld", (long long)seg[0]);
  for (int g = 0; g < m; g++) {
    const int64_t n = seg[g + 1] - seg[g];
    if (n < 0)
      return gr_fail(GR_ERR_INVALID_ARG, "logreg: group %d ends before it starts (seg %lld, %lld)",
                     g, (long long)seg[g], (long long)seg[g + 1]);
    const int64_t n_pos = positives(y, seg, g);
    if (n_pos == 0 || n_pos == n)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "logreg: group %d holds one class only (%lld of %lld rows positive); every "
                     "group needs both classes",
                     g, (long long)n_pos, (long long)n);
    class_weights(n, n_pos, p, cw + 2 * g);
  }
  for (int64_t i = seg[0]; sw && i < seg[m]; i++)
    if (!(sw[i] >= 0) || !isfinite(sw[i]))
      return gr_fail(GR_ERR_INVALID_ARG, "logreg: sample weight %g of row %lld is not >= 0",
                     (double)sw[i], (long long)i);
  return GR_OK;
}

/* The host side of the iteration: (m, D) vectors and per-group flags. */
typedef struct lr_host {
  double *theta, *trial, *g, *step;   /* (m, D) */
  double *cw;                         /* (m, 2) */
  double *f0, *ft, *slope, *t, *gmax; /* (m) */
  int *iters;                         /* (m) */
  uint8_t *stops;                     /* (m) gr_logreg_stop */
  uint8_t *running, *search, *full;   /* (m) */
  uint8_t *have, *need; /* (m): g and H at theta are on the backend already; to compute */
  uint8_t *lazy;        /* (m): the next solve reuses the factor on the backend, no new H */
  uint8_t *sub;         /* (m): scratch mask */
  uint8_t *spec;        /* (m): the groups whose full step is tried with its gradient and H */
  double *last_slope;   /* (m): the decrement of the last step */
} lr_host;

static void host_free(lr_host *h) {
  free(h->theta);
  free(h->trial);
  free(h->g);
  free(h->step);
  free(h->cw);
  free(h->f0);
  free(h->ft);
  free(h->slope);
  free(h->t);
  free(h->gmax);
  free(h->iters);
  free(h->stops);
  free(h->running);
  free(h->search);
  free(h->full);
  free(h->have);
  free(h->need);
  free(h->lazy);
  free(h->sub);
  free(h->spec);
  free(h->last_slope);
}

static int host_alloc(lr_host *h, int m, int D) {
  const size_t v = sizeof(double) * (size_t)m * D, s = sizeof(double) * (size_t)m;
  h->theta = calloc(1, v);
  h->trial = malloc(v);
  h->g = malloc(v);
  h->step = malloc(v);
  h->cw = malloc(2 * s);
  h->f0 = malloc(s);
  h->ft = malloc(s);
  h->slope = malloc(s);
  h->t = malloc(s);
  h->gmax = malloc(s);
  h->iters = malloc(sizeof(int) * (size_t)m);
  h->stops = malloc((size_t)m);
  h->running = malloc((size_t)m);
  h->search = malloc((size_t)m);
  h->full = malloc((size_t)m);
  h->have = calloc((size_t)m, 1);
  h->need = malloc((size_t)m);
  h->lazy = calloc((size_t)m, 1);
  h->sub = malloc((size_t)m);
  h->spec = malloc((size_t)m);
  h->last_slope = malloc(s);
  return h->theta && h->trial && h->g && h->step && h->cw && h->f0 && h->ft && h->slope && h->t &&
         h->gmax && h->iters && h->stops && h->running && h->search && h->full && h->have &&
         h->need && h->lazy && h->sub && h->spec && h->last_slope;
}

gr_status gr_logreg_check(const gr_logreg_rows *rows, const uint8_t *y, const float *sw,
                          const int64_t *seg, int m, int d, const gr_logreg_params *p, double *cw) {
  GR_TRY(check_input(y, sw, seg, m, d, p, cw));
  return rows->a ? check_rows(rows, seg, m) : GR_OK;
}

/* Every stride-th training row of each group, described over the same X,
 * its sample weight times the stride so that its sums estimate the
 * group's. Host memory; rows->a NULL reads X's own rows (seg[m] must fit
 * the descriptors' int32). */
typedef struct lr_subset {
  int64_t *seg; /* (m + 1) */
  int32_t *a, *b;
  float *gap, *sw;
  uint8_t *y;
  uint8_t *strat; /* (m) 1: the group keeps every client (stratified) */
  gr_logreg_rows rows;
} lr_subset;

static void subset_free(lr_subset *s) {
  free(s->seg);
  free(s->a);
  free(s->b);
  free(s->gap);
  free(s->sw);
  free(s->y);
  free(s->strat);
  memset(s, 0, sizeof *s);
}

/* 1 when a group of n rows, n_pos of them clients, keeps every client in
 * its subsample: clients are rare (at most one in 2 stride rows), so that
 * every stride-th row would leave a handful; the others are then sampled
 * alone. */
static int stratified(int64_t n_pos, int64_t n, int64_t stride) { return n_pos * 2 * stride <= n; }

static int subset_build(lr_subset *s, const gr_logreg_rows *rows, const uint8_t *y, const float *sw,
                        const int64_t *seg, int m, int64_t stride) {
  memset(s, 0, sizeof *s);
  s->strat = malloc((size_t)m);
  if (!s->strat) return 0;
  int64_t n_sub = 0;
  for (int g = 0; g < m; g++) {
    const int64_t n_pos = positives(y, seg, g);
    s->strat[g] = stratified(n_pos, seg[g + 1] - seg[g], stride);
    n_sub += (seg[g + 1] - seg[g] + stride - 1) / stride + (s->strat[g] ? n_pos : 0);
  }
  const size_t ns = (size_t)(n_sub ? n_sub : 1);
  const int synthetic = rows->a && rows->b;
  s->seg = malloc(sizeof(int64_t) * ((size_t)m + 1));
  s->a = malloc(sizeof(int32_t) * ns);
  s->b = synthetic ? malloc(sizeof(int32_t) * ns) : NULL;
  s->gap = synthetic ? malloc(sizeof(float) * ns) : NULL;
  s->sw = malloc(sizeof(float) * ns);
  s->y = malloc(ns);
  if (!s->seg || !s->a || (synthetic && (!s->b || !s->gap)) || !s->sw || !s->y) {
    subset_free(s);
    return 0;
  }
  int64_t at = 0;
  s->seg[0] = 0;
  for (int g = 0; g < m; g++) {
    const int strat = s->strat[g];
    int64_t n_neg = 0; /* stratified: every stride-th negative, and every positive */
    for (int64_t r = seg[g]; r < seg[g + 1]; r += strat ? 1 : stride) {
      const int64_t weight = !strat ? stride : y[r] ? 1 : n_neg++ % stride == 0 ? stride : 0;
      if (weight == 0) continue;
      s->a[at] = rows->a ? rows->a[r] : (int32_t)r;
      if (synthetic) {
        s->b[at] = rows->b[r];
        s->gap[at] = rows->gap[r];
      }
      s->y[at] = y[r];
      s->sw[at++] = (float)weight * (sw ? sw[r] : 1.0f);
    }
    s->seg[g + 1] = at;
  }
  s->rows = (gr_logreg_rows){rows->X, rows->n_x, s->a, s->b, s->gap};
  return 1;
}

/* The objective and gradient at theta_dev for the groups in mask, and the
 * Hessian for those of them whose next solve is not lazy (a lazy group's H
 * on the backend holds the factor it reuses). */
static gr_status grad_pass(gr_backend *be, lr_host *h, double *dev[5], const double *theta_dev,
                           double *f, const gr_lr_data *t, const uint8_t *mask, int m, int d,
                           double tau) {
  for (int g = 0; g < m; g++)
    h->sub[g] = mask[g] && !h->lazy[g];
  if (gr_lr_any(h->sub, m))
    GR_TRY(be->ops->logreg_grad_hess(be, dev[2], dev[4], f, theta_dev, t->X, t->rows, t->y, t->sw,
                                     t->seg, h->cw, h->sub, m, d, tau));
  for (int g = 0; g < m; g++)
    h->sub[g] = mask[g] && h->lazy[g];
  if (gr_lr_any(h->sub, m))
    GR_TRY(be->ops->logreg_grad_hess(be, dev[2], NULL, f, theta_dev, t->X, t->rows, t->y, t->sw,
                                     t->seg, h->cw, h->sub, m, d, tau));
  return GR_OK;
}

/* Backtracking for the groups in h->search, all at once: one objective
 * pass per halving. Groups whose step is accepted leave the search; after
 * LR_HALVINGS halvings the last trial is taken, as the reference does. */
static gr_status line_search(gr_backend *be, lr_host *h, double *trial_dev, const gr_lr_data *t,
                             int m, int d) {
  const int D = d + 1;
  for (int tries = 0; tries < LR_HALVINGS && gr_lr_any(h->search, m); tries++) {
    GR_TRY(be->ops->upload(be, trial_dev, h->trial, sizeof(double) * (size_t)m * D));
    GR_TRY(be->ops->logreg_objective(be, h->ft, trial_dev, t->X, t->rows, t->y, t->sw, t->seg,
                                     h->cw, h->search, m, d));
    for (int g = 0; g < m; g++) {
      if (!h->search[g]) continue;
      if (h->ft[g] <= h->f0[g] - LR_ARMIJO * h->t[g] * h->slope[g]) {
        h->search[g] = 0;
        continue;
      }
      if (tries == LR_HALVINGS - 1) continue;
      h->t[g] *= 0.5;
      for (int j = 0; j < D; j++) {
        const size_t e = (size_t)g * D + j;
        h->trial[e] = h->theta[e] - h->t[g] * h->step[e];
      }
    }
  }
  return GR_OK;
}

/* The full Newton step is almost always accepted, so the trial point's
 * gradient and Hessian are computed in the same pass as its
 * objective: where Armijo accepts, the next iteration has them already
 * (one pass over the rows per iteration instead of two); elsewhere they
 * are dropped and the backtracking goes on from half the step. g and H at
 * theta are spent by now (the host holds g, the solve overwrote H).
 * Not every step is worth it: the objective is >= 0, so a step whose
 * quadratic model promises a decrease (slope / 2) above the objective
 * itself is far too long and will be cut (far from the optimum, with
 * heavily weighted rows: class weights). Its gradient and Hessian would be
 * wasted; the line search tries it with the objective alone, with the
 * same outcome. */
static gr_status speculate(gr_backend *be, lr_host *h, double *dev[5], const gr_lr_data *t, int m,
                           int d, double tau) {
  const int D = d + 1;
  for (int g = 0; g < m; g++) {
    h->have[g] = 0;
    h->spec[g] = h->search[g] && h->slope[g] <= 2.0 * h->f0[g];
  }
  if (!gr_lr_any(h->spec, m)) return GR_OK;
  GR_TRY(be->ops->upload(be, dev[1], h->trial, sizeof(double) * (size_t)m * D));
  GR_TRY(grad_pass(be, h, dev, dev[1], h->ft, t, h->spec, m, d, tau));
  for (int g = 0; g < m; g++) {
    if (!h->spec[g]) continue;
    h->search[g] = 0;
    if (h->ft[g] <= h->f0[g] - LR_ARMIJO * h->slope[g]) {
      h->have[g] = 1;
      h->f0[g] = h->ft[g];
      continue;
    }
    h->search[g] = 1;
    h->t[g] = 0.5;
    for (int j = 0; j < D; j++) {
      const size_t e = (size_t)g * D + j;
      h->trial[e] = h->theta[e] - h->t[g] * h->step[e];
    }
  }
  return GR_OK;
}

/* A warm start worse than no start is dropped: with class weights and
 * few clients, a subsample holds a handful of heavily weighted clients,
 * its fit sets them apart, and the whole group's objective there is above
 * its value at zero (twice it on the leads bench), from where Newton then
 * needs half again the steps it needs from zero. Checked on the first
 * pass's objectives (f_zero, m: each group's objective at zero): the
 * groups dropped restart from zero, flagged in h->need for a new pass.
 * @return 1 when any was. */
static int drop_poor_starts(lr_host *h, int m, int d, const double *f_zero) {
  const int D = d + 1;
  int dropped = 0;
  for (int g = 0; g < m; g++) {
    int warm = 0;
    for (int j = 0; h->running[g] && j < D && !warm; j++)
      warm = h->theta[(size_t)g * D + j] != 0.0;
    h->need[g] = warm && !(h->f0[g] <= f_zero[g]); /* a NaN start too */
    if (h->need[g]) memset(h->theta + (size_t)g * D, 0, sizeof(double) * D);
    dropped |= h->need[g];
  }
  return dropped;
}

/* One Newton iteration of the running groups: gradient and Hessian, the
 * tol test, the step, the line search and the finiteness check. f_zero
 * (the first iteration only): drop_poor_starts. */
static gr_status newton_step(gr_backend *be, lr_host *h, double *dev[5], const gr_lr_data *t, int m,
                             int d, const gr_logreg_params *p, int it, const double *f_zero) {
  const int D = d + 1;
  double *theta_dev = dev[0], *trial_dev = dev[1], *g_dev = dev[2], *step_dev = dev[3];
  double *H_dev = dev[4];
  const size_t vbytes = sizeof(double) * (size_t)m * D;
  for (int g = 0; g < m; g++)
    h->need[g] = h->running[g] && !h->have[g];
  if (gr_lr_any(h->need, m))
    GR_TRY(grad_pass(be, h, dev, theta_dev, h->f0, t, h->need, m, d, p->hessian_sample));
  if (f_zero && drop_poor_starts(h, m, d, f_zero)) {
    GR_TRY(be->ops->upload(be, theta_dev, h->theta, vbytes));
    GR_TRY(grad_pass(be, h, dev, theta_dev, h->f0, t, h->need, m, d, p->hessian_sample));
  }
  GR_TRY(be->ops->download(be, h->g, g_dev, vbytes));
  for (int g = 0; g < m; g++) {
    if (!h->running[g]) continue;
    h->gmax[g] = gr_lr_max_abs(h->g + (size_t)g * D, D);
    if (!isfinite(h->gmax[g]) || !isfinite(h->f0[g]))
      return gr_fail(GR_ERR_NUMERIC,
                     "logreg: Newton step %d, group %d: the objective or its gradient is not "
                     "finite (f %g, max |gradient| %g); lower C or scale the features",
                     it + 1, g, h->f0[g], h->gmax[g]);
    if (h->gmax[g] <= p->tol) {
      h->running[g] = 0;
      h->iters[g] = it;
      h->stops[g] = GR_LOGREG_STOP_GRADIENT;
    }
  }
  if (!gr_lr_any(h->running, m)) return GR_OK;
  const gr_status solved =
      be->ops->spd_solve_batched(be, step_dev, H_dev, g_dev, h->running, h->lazy, m, D);
  if (solved != GR_OK) {
    char why[900];
    snprintf(why, sizeof why, "%s", gr_last_error());
    return gr_fail(solved, "%s (Newton step %d)", why, it + 1);
  }
  GR_TRY(be->ops->download(be, h->step, step_dev, vbytes));
  memcpy(h->trial, h->theta, vbytes);
  for (int g = 0; g < m; g++) {
    h->search[g] = h->full[g] = 0;
    if (!h->running[g]) continue;
    const double *gg = h->g + (size_t)g * D, *s = h->step + (size_t)g * D;
    const double slope = gr_lr_dot(gg, s, D);
    h->slope[g] = slope;
    h->t[g] = 1.0;
    /* near the optimum the decrease is below the objective's rounding: the
     * full Newton step is right, and the search would only stall */
    h->full[g] = slope < LR_FULL_STEP_EPS * (1.0 + fabs(h->f0[g]));
    h->search[g] = !h->full[g];
    /* Near the optimum the Hessian hardly changes from step to step, and
     * the next step can reuse this one's factor: its pass then skips the
     * rank updates, most of a pass's cost. The steps stay descent
     * directions, the line search and stopping rules are unchanged; a lazy
     * step that did not halve the decrement makes the next one fresh. */
    const int was_lazy = h->lazy[g];
    h->lazy[g] = slope < LR_LAZY_EPS * (1.0 + fabs(h->f0[g])) &&
                 (!was_lazy || slope < 0.5 * h->last_slope[g]);
    h->last_slope[g] = slope;
    for (int j = 0; j < D; j++)
      h->trial[(size_t)g * D + j] -= s[j];
  }
  GR_TRY(speculate(be, h, dev, t, m, d, p->hessian_sample));
  GR_TRY(line_search(be, h, trial_dev, t, m, d));
  for (int g = 0; g < m; g++) {
    if (!h->running[g]) continue;
    for (int j = 0; j < D; j++) {
      const double v = h->trial[(size_t)g * D + j];
      if (!isfinite(v))
        return gr_fail(GR_ERR_NUMERIC,
                       "logreg: Newton step %d, group %d: coefficient %d became %g; lower C or "
                       "scale the features",
                       it + 1, g, j, v);
    }
    memcpy(h->theta + (size_t)g * D, h->trial + (size_t)g * D, sizeof(double) * D);
    if (h->full[g]) {
      h->running[g] = 0;
      h->iters[g] = it + 1;
      h->stops[g] = GR_LOGREG_STOP_PRECISION;
    }
  }
  return be->ops->upload(be, theta_dev, h->theta, vbytes);
}

static gr_status write_models(const lr_host *h, int m, int d, gr_logreg_model *out) {
  const int D = d + 1;
  for (int g = 0; g < m; g++) {
    out[g].d = d;
    out[g].w = malloc(sizeof(double) * (size_t)d);
    if (!out[g].w) {
      for (int k = 0; k < g; k++)
        gr_logreg_model_free(&out[k]);
      return gr_fail(GR_ERR_NOMEM, "cannot allocate the coefficients of %d models", m);
    }
    memcpy(out[g].w, h->theta + (size_t)g * D, sizeof(double) * (size_t)d);
    out[g].b = h->theta[(size_t)g * D + d];
    out[g].iterations = h->iters[g];
    out[g].grad_norm = h->gmax[g];
    out[g].stop = (gr_logreg_stop)h->stops[g];
  }
  return GR_OK;
}

/* X on the backend, and where the backend packs rows, its packed copy. */
typedef struct lr_x {
  const float *X;
  const struct gr_packed_rows *packed; /* NULL: the passes read X */
} lr_x;

/* One set of training rows staged to the backend: descriptors (when rows
 * has them), labels and weights; d->seg stays host memory. */
typedef struct lr_staged {
  void *a, *b, *gap, *y, *sw;
  void *pair_a, *pair_b, *pair_start, *pair_rows;
  gr_lr_pairs pairs; /* host */
} lr_staged;

static gr_status stage_rows(gr_backend *be, lr_staged *s, gr_lr_data *out, const float *Xd,
                            const struct gr_packed_rows *packed, const gr_logreg_rows *rows,
                            const uint8_t *y, const float *sw, const int64_t *seg, int m) {
  const int64_t n = seg[m];
  memset(s, 0, sizeof *s);
  memset(out, 0, sizeof *out);
  out->X = Xd;
  out->seg = seg;
  if (rows && rows->a) {
    GR_TRY(gr_stage(be, &s->a, rows->a, sizeof(int32_t) * (size_t)n));
    out->desc = (gr_lr_rows){.a = s->a};
    if (rows->b) {
      GR_TRY(gr_stage(be, &s->b, rows->b, sizeof(int32_t) * (size_t)n));
      GR_TRY(gr_stage(be, &s->gap, rows->gap, sizeof(float) * (size_t)n));
      gr_lr_pairs *q = &s->pairs;
      GR_TRY(gr_lr_pairs_build(q, rows->a, rows->b, seg, m));
      const size_t np = (size_t)q->n_pairs + 1, nr = (size_t)q->n_rows + 1; /* never 0 bytes */
      GR_TRY(gr_stage(be, &s->pair_a, q->a, sizeof(int32_t) * np));
      GR_TRY(gr_stage(be, &s->pair_b, q->b, sizeof(int32_t) * np));
      GR_TRY(gr_stage(be, &s->pair_start, q->start, sizeof(int64_t) * np));
      GR_TRY(gr_stage(be, &s->pair_rows, q->rows, sizeof(int64_t) * nr));
      out->desc = (gr_lr_rows){.a = s->a,
                               .b = s->b,
                               .gap = s->gap,
                               .pair_seg = q->seg,
                               .pair_a = s->pair_a,
                               .pair_b = s->pair_b,
                               .pair_start = s->pair_start,
                               .pair_rows = s->pair_rows};
    }
    out->rows = &out->desc;
  }
  if (packed) { /* the real rows are read from it, X's own rows or not */
    out->desc.packed = packed;
    out->rows = &out->desc;
  }
  GR_TRY(gr_stage(be, &s->y, y, (size_t)n));
  if (sw) GR_TRY(gr_stage(be, &s->sw, sw, sizeof(float) * (size_t)n));
  out->y = s->y;
  out->sw = s->sw;
  return GR_OK;
}

static void unstage_rows(gr_backend *be, lr_staged *s, const gr_logreg_rows *rows, const uint8_t *y,
                         const float *sw) {
  gr_unstage(be, s->sw, sw);
  gr_unstage(be, s->y, y);
  if (rows) {
    gr_unstage(be, s->pair_rows, s->pairs.rows);
    gr_unstage(be, s->pair_start, s->pairs.start);
    gr_unstage(be, s->pair_b, s->pairs.b);
    gr_unstage(be, s->pair_a, s->pairs.a);
    gr_lr_pairs_free(&s->pairs);
    gr_unstage(be, s->gap, rows->gap);
    gr_unstage(be, s->b, rows->b);
    gr_unstage(be, s->a, rows->a);
  }
  memset(s, 0, sizeof *s);
}

/* f_zero[g] (m): each group's objective at theta = 0, where every row's
 * loss is log 2 and the penalty 0 (host y, sw and h->cw). */
static void zero_objectives(const uint8_t *y, const float *sw, const int64_t *seg, int m,
                            const double *cw, double *f_zero) {
  for (int g = 0; g < m; g++) {
    double w[2] = {0.0, 0.0};
    for (int64_t i = seg[g]; i < seg[g + 1]; i++)
      w[y[i] != 0] += sw ? (double)sw[i] : 1.0;
    f_zero[g] = log(2.0) * (cw[2 * g] * w[0] + cw[2 * g + 1] * w[1]);
  }
}

/* Newton's method for the groups flagged in only (NULL: all) from
 * h->theta (or from zero where that is better: f_zero), at most max_iter
 * steps; leaves the models in h. */
static gr_status newton_run(gr_backend *be, lr_host *h, const gr_lr_data *t, int m, int d,
                            const gr_logreg_params *p, const uint8_t *only, int max_iter,
                            const double *f_zero) {
  const int D = d + 1;
  double *dev[5] = {NULL, NULL, NULL, NULL, NULL}; /* theta, trial, g, step, H */
  gr_status st = GR_OK;
  for (int k = 0; k < 5 && st == GR_OK; k++) {
    const size_t bytes = sizeof(double) * (size_t)m * D * (k == 4 ? (size_t)D : 1);
    st = be->ops->mem_alloc(be, (void **)&dev[k], bytes);
  }
  if (st == GR_OK) st = be->ops->upload(be, dev[0], h->theta, sizeof(double) * (size_t)m * D);
  for (int g = 0; g < m; g++) {
    h->running[g] = only ? only[g] : 1;
    h->have[g] = 0;
    h->lazy[g] = 0; /* no factor on the backend yet */
    h->iters[g] = max_iter;
    h->stops[g] = GR_LOGREG_STOP_MAX_ITER;
    h->gmax[g] = INFINITY;
  }
  for (int it = 0; st == GR_OK && it < max_iter && gr_lr_any(h->running, m); it++) {
    st = newton_step(be, h, dev, t, m, d, p, it, it == 0 ? f_zero : NULL);
    if (st == GR_OK && p->stop && *p->stop)
      st = gr_fail(GR_ERR_INTERRUPTED, "logreg: stopped after Newton step %d", it + 1);
  }
  for (int k = 0; k < 5; k++)
    if (dev[k]) be->ops->mem_free(be, dev[k]);
  return st;
}

/* The groups flagged in only (NULL: all) solved from h->theta (zeros or a
 * warm start) by the solver p picks, with h->cw set for these rows; leaves
 * the models in h. x is X in backend memory; rows, y and sw are host
 * memory, staged here. */
static gr_status solve_run(gr_backend *be, lr_host *h, const lr_x *x, const gr_logreg_rows *rows,
                           const uint8_t *y, const float *sw, const int64_t *seg, int m, int d,
                           const gr_logreg_params *p, const uint8_t *only) {
  const gr_logreg_solver solver = gr_logreg_solver_for(p, d);
  const int max_iter = gr_logreg_max_iter(p, solver);
  gr_lr_data t;
  lr_staged ts;
  gr_status st = stage_rows(be, &ts, &t, x->X, x->packed, rows, y, sw, seg, m);
  double *f_zero = malloc(sizeof(double) * (size_t)m);
  if (st == GR_OK && !f_zero) st = gr_fail(GR_ERR_NOMEM, "cannot allocate %d objectives", m);
  if (st == GR_OK) zero_objectives(y, sw, seg, m, h->cw, f_zero);
  if (st == GR_OK && solver == GR_LOGREG_LBFGS) {
    st = gr_logreg_lbfgs(be, &t, rows, y, sw, h->theta, h->cw, only, m, d, p, max_iter, f_zero,
                         h->iters, h->gmax, h->stops);
  } else if (st == GR_OK) {
    st = newton_run(be, h, &t, m, d, p, only, max_iter, f_zero);
  }
  free(f_zero);
  unstage_rows(be, &ts, rows, y, sw);
  return st;
}

/* A large group starts from the fit of its every stride-th row, sample
 * weights multiplied by the stride so that the data term keeps its weight
 * against the penalty: with stride 8 that fit costs an eighth of a pass
 * per step and lands near the optimum, so the full data then needs a few
 * Newton steps instead of a dozen. That fit in turn starts from a few
 * steps (at most LR_WARM_COARSE_STEPS) on every 32nd row: on the leads
 * bench the logistic regressions took 0.90 s instead of 1.00 s, with the
 * same steps on the full data. The optimum is the full data's either way
 * (the same stopping rules). A subsample is described over the same X (a
 * row index, and for a synthetic row its partner and gap), never copied.
 * Decided group by group (at least 1024 rows in the subsample, both
 * classes in it), so that a group's fit does not depend on the groups
 * beside it; if a warm fit fails, its groups start from zero. */
#define LR_WARM_STRIDE 8
#define LR_WARM_COARSE_STRIDE 32
#define LR_WARM_COARSE_STEPS 4
#define LR_WARM_MIN_SUBSAMPLE 1024

static void warm_start(gr_backend *be, lr_host *h, const lr_x *x, const gr_logreg_rows *rows,
                       const uint8_t *y, const float *sw, const int64_t *seg, int m, int d,
                       const gr_logreg_params *params, int64_t stride, int max_steps) {
  if (!rows->a && seg[m] > INT32_MAX) return; /* row numbers past the descriptors' range */
  const int D = d + 1;
  double *cw_full = malloc(sizeof(double) * 2 * (size_t)m);
  uint8_t *warm = calloc((size_t)m, 1);
  lr_subset sub;
  gr_logreg_params lp = *params;
  const gr_logreg_params *p = &lp;
  const gr_logreg_solver solver = gr_logreg_solver_for(p, d);
  if (max_steps > 0 && max_steps < gr_logreg_max_iter(p, solver))
    lp.max_iter = max_steps; /* 0: as the fit's */
  if (cw_full && warm && subset_build(&sub, rows, y, sw, seg, m, stride)) {
    memcpy(cw_full, h->cw, sizeof(double) * 2 * (size_t)m);
    int any_warm = 0;
    for (int g = 0; g < m; g++) {
      const int64_t n = sub.seg[g + 1] - sub.seg[g], n_pos = positives(sub.y, sub.seg, g);
      if (seg[g + 1] - seg[g] < LR_WARM_MIN_SUBSAMPLE * stride || n_pos == 0 || n_pos == n)
        continue;
      /* a stratified subsample's weighted counts are the group's own */
      if (!sub.strat[g]) class_weights(n, n_pos, p, h->cw + 2 * g);
      warm[g] = 1;
      any_warm = 1;
    }
    if (any_warm && solve_run(be, h, x, &sub.rows, sub.y, sub.sw, sub.seg, m, d, p, warm) != GR_OK)
      for (int g = 0; g < m; g++)
        if (warm[g]) memset(h->theta + (size_t)g * D, 0, sizeof(double) * D);
    memcpy(h->cw, cw_full, sizeof(double) * 2 * (size_t)m);
    gr_clear_error();
    subset_free(&sub);
  }
  free(warm);
  free(cw_full);
}

gr_status gr_logreg_fit_resident(gr_context *ctx, const gr_logreg_rows *rows, const uint8_t *y,
                                 const float *sw, const int64_t *seg, int m, int d,
                                 const gr_logreg_params *params, const uint8_t *binary,
                                 gr_logreg_model *out) {
  if (!ctx || !rows || !rows->X || !y || !seg || !out)
    return gr_fail(GR_ERR_INVALID_ARG, "logreg: NULL context, data, segments or output");
  if (rows->a && rows->b && !rows->gap)
    return gr_fail(GR_ERR_INVALID_ARG, "logreg: described rows with partners need their gaps");
  gr_logreg_params p;
  if (params) {
    p = *params;
  } else {
    gr_logreg_params_default(&p);
  }
  if (m >= 1) memset(out, 0, sizeof(gr_logreg_model) * (size_t)m);
  lr_host h = {0};
  if (!host_alloc(&h, m < 1 ? 1 : m, d < 1 ? 2 : d + 1)) {
    host_free(&h);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate logistic regression state for %d groups", m);
  }
  gr_status st = gr_logreg_check(rows, y, sw, seg, m, d, &p, h.cw);
  /* X is staged once for the warm start and the full fit */
  const int64_t n_x = rows->a ? rows->n_x : seg[m];
  void *Xd = NULL;
  lr_x x = {NULL, NULL};
  struct gr_packed_rows *mine = NULL; /* packed here, when not given */
  if (st == GR_OK) st = gr_stage(ctx->be, &Xd, rows->X, sizeof(float) * (size_t)n_x * d);
  x.X = Xd;
  if (st == GR_OK && !p.packed) st = gr_pack_x(ctx->be, &mine, rows->X, n_x, d, binary);
  /* a backend that packs no rows reads X (as kmeans, a given copy is ignored) */
  x.packed = !ctx->be->ops->pack_rows ? NULL : p.packed ? p.packed : mine;
  if (st == GR_OK && !p.cold_start) {
    warm_start(ctx->be, &h, &x, rows, y, sw, seg, m, d, &p, LR_WARM_COARSE_STRIDE,
               LR_WARM_COARSE_STEPS);
    warm_start(ctx->be, &h, &x, rows, y, sw, seg, m, d, &p, LR_WARM_STRIDE, 0);
  }
  if (st == GR_OK) {
    st = p.stop && *p.stop ? gr_fail(GR_ERR_INTERRUPTED, "logreg: stopped in the warm start")
                           : solve_run(ctx->be, &h, &x, rows, y, sw, seg, m, d, &p, NULL);
  }
  gr_packed_x_free(ctx->be, mine);
  gr_unstage(ctx->be, Xd, rows->X);
  if (st == GR_OK) st = write_models(&h, m, d, out);
  host_free(&h);
  return st;
}

gr_status gr_logreg_fit_groups(gr_context *ctx, const float *X, const uint8_t *y, const float *sw,
                               const int64_t *seg, int m, int d, const gr_logreg_params *params,
                               gr_logreg_model *out) {
  const gr_logreg_rows rows = {X, seg && m >= 1 ? seg[m] : 0, NULL, NULL, NULL};
  return gr_logreg_fit_groups_rows(ctx, &rows, y, sw, seg, m, d, params, out);
}
