/* L-BFGS (Nocedal 1980; Nocedal and Wright, Numerical Optimization,
 * algorithm 7.4) for the per-group logistic regressions, all groups at
 * once: every iteration is one backend pass computing the objectives and
 * gradients at all running groups' trial points (the passes of backend.h
 * with no Hessian), and the rest is (m, D)-sized host work: the two-loop
 * recursion, the line search and the stopping rules, group by group.
 *
 * The objective is strictly convex, so every step the Armijo backtracking
 * accepts has s.y > 0 and the update keeps the inverse-Hessian estimate
 * positive definite; a pair with s.y too small to trust is skipped. The
 * steps are preconditioned by the Hessian's diagonal at zero (see
 * preconditioner): the first step of a run, and any step after the history
 * had to be dropped, is -P^-1 g. A group stops when
 * max |gradient| <= tol, or when an accepted step lowered its objective
 * by at most 64 machine epsilons relative (scikit-learn's choice for its
 * own L-BFGS runs), or when backtracking finds no decrease at all: the
 * objective is then flat to within its rounding around the point. */
#include <float.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "logreg_solve.h"

#define LB_M GR_LOGREG_LBFGS_HISTORY
#define LB_ARMIJO 1e-4
#define LB_HALVINGS 40
#define LB_FTOL (64.0 * DBL_EPSILON)

typedef struct lb_state {
  double *S, *Y;                 /* (m, LB_M, D): the last steps and gradient changes */
  double *rho;                   /* (m, LB_M): 1 / s.y */
  int *count, *head;             /* (m): pairs held, the slot the next one goes to */
  double *g, *gt, *dir, *trial;  /* (m, D) */
  double *f, *ft, *slope, *step; /* (m) */
  const double *P;               /* (m, D): the diagonal preconditioner */
  uint8_t *running, *search;     /* (m) */
  double *trial_dev, *g_dev;     /* (m, D) backend memory */
} lb_state;

static void lb_free(gr_backend *be, lb_state *s) {
  free(s->S);
  free(s->Y);
  free(s->rho);
  free(s->count);
  free(s->head);
  free(s->g);
  free(s->gt);
  free(s->dir);
  free(s->trial);
  free(s->f);
  free(s->ft);
  free(s->slope);
  free(s->step);
  free(s->running);
  free(s->search);
  if (s->trial_dev) be->ops->mem_free(be, s->trial_dev);
  if (s->g_dev) be->ops->mem_free(be, s->g_dev);
}

static gr_status lb_alloc(gr_backend *be, lb_state *s, int m, int D) {
  memset(s, 0, sizeof *s);
  const size_t v = sizeof(double) * (size_t)m * D, h = v * LB_M, sc = sizeof(double) * (size_t)m;
  s->S = malloc(h);
  s->Y = malloc(h);
  s->rho = malloc(sc * LB_M);
  s->count = calloc((size_t)m, sizeof(int));
  s->head = calloc((size_t)m, sizeof(int));
  s->g = malloc(v);
  s->gt = calloc(1, v);
  s->dir = malloc(v);
  s->trial = malloc(v);
  s->f = malloc(sc);
  s->ft = calloc(1, sc);
  s->slope = malloc(sc);
  s->step = malloc(sc);
  s->running = malloc((size_t)m);
  s->search = calloc((size_t)m, 1);
  if (!s->S || !s->Y || !s->rho || !s->count || !s->head || !s->g || !s->gt || !s->dir ||
      !s->trial || !s->f || !s->ft || !s->slope || !s->step || !s->running || !s->search)
    return gr_fail(GR_ERR_NOMEM, "L-BFGS: cannot allocate %.1f MiB of history for %d groups",
                   2.0 * (double)h / 1048576.0, m);
  GR_TRY(be->ops->mem_alloc(be, (void **)&s->trial_dev, v));
  GR_TRY(be->ops->mem_alloc(be, (void **)&s->g_dev, v));
  /* zeroed (gt is): only active groups' gradients are computed, but the
   * whole buffer is downloaded, and a sanitizer flags unwritten bytes */
  return be->ops->upload(be, s->g_dev, s->gt, v);
}

/* Rows per chunk of the preconditioner's sums, and chunks per group at
 * most: the sums are added chunk by chunk in a fixed order, so they do not
 * depend on the threads. */
#define LB_CHUNK_ROWS 1024
#define LB_MAX_CHUNKS 64

/* P (m, D): the Hessian diagonal at theta = 0, where every row's curvature
 * is 1/4: 1 + 1/4 sum_i c_i x_ij^2 for a weight, 1/4 sum_i c_i for the
 * intercept. Scaling the steps by P^-1 makes the iterations blind to the
 * features' scales: a column in euros and one in millions of euros need
 * the same iterations (on 500 Gaussian features scaled by 10^-2..10^4,
 * 18 iterations; without it, 1000 did not converge). Host memory, from the
 * host rows. */
static gr_status preconditioner(double *P, const gr_logreg_rows *rows, const uint8_t *y,
                                const float *sw, const int64_t *seg, const double *cw,
                                const uint8_t *only, int m, int d) {
  const int D = d + 1;
  double *part = malloc(sizeof(double) * LB_MAX_CHUNKS * D);
  if (!part)
    return gr_fail(GR_ERR_NOMEM, "L-BFGS: cannot allocate %d x %d preconditioner sums",
                   LB_MAX_CHUNKS, D);
  for (int k = 0; k < m; k++) {
    if (only && !only[k]) continue;
    const int64_t n = seg[k + 1] - seg[k];
    int64_t chunks = (n + LB_CHUNK_ROWS - 1) / LB_CHUNK_ROWS;
    if (chunks > LB_MAX_CHUNKS) chunks = LB_MAX_CHUNKS;
    if (chunks < 1) chunks = 1;
    const int64_t per = (n + chunks - 1) / chunks;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t c = 0; c < chunks; c++) {
      double *acc = part + (size_t)c * D;
      memset(acc, 0, sizeof(double) * D);
      const int64_t end = seg[k] + (c + 1) * per < seg[k + 1] ? seg[k] + (c + 1) * per : seg[k + 1];
      for (int64_t i = seg[k] + c * per; i < end; i++) {
        const double ci = cw[2 * k + (y[i] != 0)] * (sw ? sw[i] : 1.0);
        const int64_t a = rows->a ? rows->a[i] : i, b = rows->a && rows->b ? rows->b[i] : a;
        const float *xa = rows->X + (size_t)a * d, *xb = rows->X + (size_t)b * d;
        const double gap = b != a ? rows->gap[i] : 0.0;
        for (int j = 0; j < d; j++) {
          const double x = (double)xa[j] + gap * ((double)xb[j] - (double)xa[j]);
          acc[j] += ci * x * x;
        }
        acc[d] += ci;
      }
    }
    double *Pk = P + (size_t)k * D;
    for (int j = 0; j < D; j++) {
      double sum = 0.0;
      for (int64_t c = 0; c < chunks; c++)
        sum += part[(size_t)c * D + j];
      Pk[j] = (j < d ? 1.0 : 0.0) + 0.25 * sum;
      if (!(Pk[j] > 0.0) || !isfinite(Pk[j])) Pk[j] = 1.0; /* an unweighted intercept */
    }
  }
  free(part);
  return GR_OK;
}

/* The objectives ft and gradients gt at the trial points of the groups in
 * mask: one backend pass. */
static gr_status evaluate(gr_backend *be, lb_state *s, const gr_lr_data *t, const double *cw,
                          const uint8_t *mask, int m, int d) {
  const size_t v = sizeof(double) * (size_t)m * (d + 1);
  GR_TRY(be->ops->upload(be, s->trial_dev, s->trial, v));
  GR_TRY(be->ops->logreg_grad_hess(be, s->g_dev, NULL, s->ft, s->trial_dev, t->X, t->rows, t->y,
                                   t->sw, t->seg, cw, mask, m, d, 0.0));
  return be->ops->download(be, s->gt, s->g_dev, v);
}

/* dir = -(the inverse-Hessian estimate) g of group k, by the two-loop
 * recursion over its pairs, newest first, from H0 = gamma P^-1 (gamma
 * from the newest pair, Nocedal and Wright eq. 7.20 in P's metric); with
 * no pairs, -P^-1 g. */
static void direction(lb_state *s, int k, int D) {
  const double *g = s->g + (size_t)k * D, *P = s->P + (size_t)k * D;
  double *q = s->dir + (size_t)k * D;
  const double *S = s->S + (size_t)k * LB_M * D, *Y = s->Y + (size_t)k * LB_M * D;
  const double *rho = s->rho + (size_t)k * LB_M;
  const int n = s->count[k];
  double alpha[LB_M];
  memcpy(q, g, sizeof(double) * D);
  for (int i = 0; i < n; i++) {
    const int slot = (s->head[k] - 1 - i + LB_M) % LB_M;
    alpha[slot] = rho[slot] * gr_lr_dot(S + (size_t)slot * D, q, D);
    const double *y = Y + (size_t)slot * D;
    for (int j = 0; j < D; j++)
      q[j] -= alpha[slot] * y[j];
  }
  double gamma = 1.0;
  if (n > 0) {
    const int newest = (s->head[k] - 1 + LB_M) % LB_M;
    const double *yn = Y + (size_t)newest * D;
    double yPy = 0.0;
    for (int j = 0; j < D; j++)
      yPy += yn[j] * yn[j] / P[j];
    gamma = 1.0 / (rho[newest] * yPy);
  }
  for (int j = 0; j < D; j++)
    q[j] *= gamma / P[j];
  for (int i = n - 1; i >= 0; i--) {
    const int slot = (s->head[k] - 1 - i + LB_M) % LB_M;
    const double beta = rho[slot] * gr_lr_dot(Y + (size_t)slot * D, q, D);
    const double *sv = S + (size_t)slot * D;
    for (int j = 0; j < D; j++)
      q[j] += (alpha[slot] - beta) * sv[j];
  }
  for (int j = 0; j < D; j++)
    q[j] = -q[j];
}

/* Keeps the pair (trial - theta, gt - g) of group k when s.y is positive
 * beyond rounding. */
static void remember(lb_state *s, int k, const double *theta, int D) {
  double *sv = s->S + ((size_t)k * LB_M + s->head[k]) * D;
  double *yv = s->Y + ((size_t)k * LB_M + s->head[k]) * D;
  const double *x1 = s->trial + (size_t)k * D, *g0 = s->g + (size_t)k * D;
  const double *g1 = s->gt + (size_t)k * D;
  for (int j = 0; j < D; j++) {
    sv[j] = x1[j] - theta[j];
    yv[j] = g1[j] - g0[j];
  }
  const double sy = gr_lr_dot(sv, yv, D), yy = gr_lr_dot(yv, yv, D);
  if (!(sy > DBL_EPSILON * yy) || !isfinite(sy)) return;
  s->rho[(size_t)k * LB_M + s->head[k]] = 1.0 / sy;
  s->head[k] = (s->head[k] + 1) % LB_M;
  if (s->count[k] < LB_M) s->count[k]++;
}

static void set_trial(lb_state *s, const double *theta, int k, int D) {
  const double *x = theta + (size_t)k * D, *dv = s->dir + (size_t)k * D;
  double *tr = s->trial + (size_t)k * D;
  for (int j = 0; j < D; j++)
    tr[j] = x[j] + s->step[k] * dv[j];
}

/* Picks each running group's direction and first trial point; stops the
 * groups whose gradient is within tol. */
static gr_status start_iteration(lb_state *s, double *theta, int m, int D, double tol, int it,
                                 int *iters, double *gmax, uint8_t *stops) {
  for (int k = 0; k < m; k++) {
    if (!s->running[k]) continue;
    const double *g = s->g + (size_t)k * D;
    gmax[k] = gr_lr_max_abs(g, D);
    if (!isfinite(gmax[k]) || !isfinite(s->f[k]))
      return gr_fail(GR_ERR_NUMERIC,
                     "logreg (L-BFGS): iteration %d, group %d: the objective or its gradient is "
                     "not finite (f %g, max |gradient| %g); lower C or scale the features",
                     it, k, s->f[k], gmax[k]);
    if (gmax[k] <= tol) {
      s->running[k] = 0;
      iters[k] = it;
      stops[k] = GR_LOGREG_STOP_GRADIENT;
      continue;
    }
    direction(s, k, D);
    s->slope[k] = gr_lr_dot(g, s->dir + (size_t)k * D, D);
    if (!(s->slope[k] < 0.0)) { /* rounding spoilt the estimate: start it afresh */
      s->count[k] = 0;
      direction(s, k, D);
      s->slope[k] = gr_lr_dot(g, s->dir + (size_t)k * D, D);
    }
    s->step[k] = 1.0;
    set_trial(s, theta, k, D);
    s->search[k] = 1;
  }
  return GR_OK;
}

/* Backtracking from the full step for the searching groups, one pass per
 * halving; an accepted trial becomes the group's point, with the gradient
 * the same pass computed. */
static gr_status line_search(gr_backend *be, lb_state *s, const gr_lr_data *t, double *theta,
                             const double *cw, int m, int d, int it, int *iters, uint8_t *stops) {
  const int D = d + 1;
  for (int tries = 0; tries < LB_HALVINGS && gr_lr_any(s->search, m); tries++) {
    GR_TRY(evaluate(be, s, t, cw, s->search, m, d));
    for (int k = 0; k < m; k++) {
      if (!s->search[k]) continue;
      if (!(s->ft[k] <= s->f[k] + LB_ARMIJO * s->step[k] * s->slope[k])) {
        s->step[k] *= 0.5;
        if (tries < LB_HALVINGS - 1) {
          set_trial(s, theta, k, D);
        } else { /* no decrease at any step: flat to within rounding */
          s->search[k] = s->running[k] = 0;
          iters[k] = it;
          stops[k] = GR_LOGREG_STOP_NO_DECREASE;
        }
        continue;
      }
      s->search[k] = 0;
      double *x = theta + (size_t)k * D;
      remember(s, k, x, D);
      const double f0 = s->f[k], f1 = s->ft[k];
      memcpy(x, s->trial + (size_t)k * D, sizeof(double) * D);
      memcpy(s->g + (size_t)k * D, s->gt + (size_t)k * D, sizeof(double) * D);
      s->f[k] = f1;
      if (f0 - f1 <= LB_FTOL * fmax(fmax(fabs(f0), fabs(f1)), 1.0)) {
        s->running[k] = 0;
        iters[k] = it + 1;
        stops[k] = GR_LOGREG_STOP_PRECISION;
      }
    }
  }
  return GR_OK;
}

/* A warm start worse than no start is dropped, as Newton's runs do (see
 * drop_poor_starts in logreg_groups.c): the groups whose start is not zero
 * and whose objective there (s->f) is above f_zero restart from zero, with
 * their objective and gradient there from one more pass. */
static gr_status drop_poor_starts(gr_backend *be, lb_state *s, const gr_lr_data *t, double *theta,
                                  const double *cw, const double *f_zero, int m, int d) {
  const int D = d + 1;
  int dropped = 0;
  for (int k = 0; k < m; k++) {
    double *x = theta + (size_t)k * D;
    int warm = 0;
    for (int j = 0; s->running[k] && j < D && !warm; j++)
      warm = x[j] != 0.0;
    s->search[k] = warm && !(s->f[k] <= f_zero[k]); /* a NaN start too; the mask below */
    if (s->search[k]) memset(x, 0, sizeof(double) * D);
    dropped |= s->search[k];
  }
  if (!dropped) return GR_OK;
  memcpy(s->trial, theta, sizeof(double) * (size_t)m * D);
  GR_TRY(evaluate(be, s, t, cw, s->search, m, d));
  for (int k = 0; k < m; k++) {
    if (!s->search[k]) continue;
    s->f[k] = s->ft[k];
    memcpy(s->g + (size_t)k * D, s->gt + (size_t)k * D, sizeof(double) * D);
    s->search[k] = 0;
  }
  return GR_OK;
}

gr_status gr_logreg_lbfgs(gr_backend *be, const gr_lr_data *t, const gr_logreg_rows *rows,
                          const uint8_t *y, const float *sw, double *theta, const double *cw,
                          const uint8_t *only, int m, int d, const gr_logreg_params *p,
                          int max_iter, const double *f_zero, int *iters, double *gmax,
                          uint8_t *stops) {
  const int D = d + 1;
  lb_state s = {0};
  double *P = malloc(sizeof(double) * (size_t)m * D);
  gr_status st = P ? lb_alloc(be, &s, m, D)
                   : gr_fail(GR_ERR_NOMEM, "L-BFGS: cannot allocate %d x %d scales", m, D);
  s.P = P;
  if (st == GR_OK) st = preconditioner(P, rows, y, sw, t->seg, cw, only, m, d);
  for (int k = 0; st == GR_OK && k < m; k++) {
    s.running[k] = only ? only[k] : 1;
    iters[k] = max_iter;
    stops[k] = GR_LOGREG_STOP_MAX_ITER;
    gmax[k] = INFINITY;
  }
  if (st == GR_OK) {
    memcpy(s.trial, theta, sizeof(double) * (size_t)m * D);
    st = evaluate(be, &s, t, cw, s.running, m, d);
  }
  if (st == GR_OK) {
    memcpy(s.f, s.ft, sizeof(double) * (size_t)m);
    memcpy(s.g, s.gt, sizeof(double) * (size_t)m * D);
    if (f_zero) st = drop_poor_starts(be, &s, t, theta, cw, f_zero, m, d);
  }
  for (int it = 0; st == GR_OK && it < max_iter && gr_lr_any(s.running, m); it++) {
    st = start_iteration(&s, theta, m, D, p->tol, it, iters, gmax, stops);
    if (st == GR_OK) st = line_search(be, &s, t, theta, cw, m, d, it, iters, stops);
    if (st == GR_OK && p->stop && *p->stop)
      st = gr_fail(GR_ERR_INTERRUPTED, "logreg: stopped after L-BFGS iteration %d", it + 1);
  }
  /* the final gradients of the groups that stopped on a step or max_iter */
  for (int k = 0; st == GR_OK && k < m; k++) {
    if (only && !only[k]) continue;
    gmax[k] = gr_lr_max_abs(s.g + (size_t)k * D, D);
    if (!isfinite(gmax[k]))
      st = gr_fail(GR_ERR_NUMERIC,
                   "logreg (L-BFGS): iteration %d, group %d: the gradient is not finite; lower C "
                   "or scale the features",
                   iters[k], k);
  }
  lb_free(be, &s);
  free(P);
  return st;
}
