/* Newton's method with a backtracking line search on the (strictly convex)
 * objective; the Hessian [X 1]^T D [X 1] + diag(1, .., 1, 0) is solved by
 * Cholesky (LAPACK dposv). Accumulation is in double, row by row in a fixed
 * order, so the result does not depend on threads. */
#include "logreg.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../kernels/shared_math.h"

void gr_logreg_params_default(gr_logreg_params *p) {
  p->C = 1.0;
  p->max_iter = 0;
  p->tol = 1e-8;
  p->solver = GR_LOGREG_AUTO;
  p->balanced = 0;
  p->hessian_sample = 0.003;
  p->stop = NULL;
  p->max_bytes = 0;
  p->packed = NULL;
  p->cold_start = 0;
}

gr_logreg_solver gr_logreg_solver_for(const gr_logreg_params *p, int d) {
  if (p->solver != GR_LOGREG_AUTO) return p->solver;
  return d <= GR_LOGREG_NEWTON_MAX_D ? GR_LOGREG_NEWTON : GR_LOGREG_LBFGS;
}

int gr_logreg_max_iter(const gr_logreg_params *p, gr_logreg_solver solver) {
  if (p->max_iter > 0) return p->max_iter;
  return solver == GR_LOGREG_LBFGS ? 1000 : 100;
}

static const char *const solver_names[] = {"auto", "newton", "lbfgs"};

int gr_logreg_solver_parse(const char *name, gr_logreg_solver *out) {
  for (int s = 0; s < 3; s++)
    if (name && strcmp(name, solver_names[s]) == 0) {
      *out = (gr_logreg_solver)s;
      return 0;
    }
  return -1;
}

const char *gr_logreg_solver_name(gr_logreg_solver solver) {
  return (unsigned)solver < 3 ? solver_names[solver] : "unknown";
}

const char *gr_logreg_iteration_unit(gr_logreg_solver solver) {
  return solver == GR_LOGREG_LBFGS ? "L-BFGS iterations" : "Newton steps";
}

int gr_logreg_converged(const gr_logreg_model *m) {
  return m->stop == GR_LOGREG_STOP_GRADIENT || m->stop == GR_LOGREG_STOP_PRECISION;
}

const char *gr_logreg_stop_name(gr_logreg_stop stop) {
  static const char *const names[] = {"unknown", "gradient", "precision", "no_decrease",
                                      "max_iter"};
  return (unsigned)stop < sizeof names / sizeof names[0] ? names[stop] : "unknown";
}

void gr_logreg_describe_stop(const gr_logreg_model *m, gr_logreg_solver solver, double tol,
                             char *buf, size_t cap) {
  const int lbfgs = solver == GR_LOGREG_LBFGS;
  const char *unit = gr_logreg_iteration_unit(solver);
  if (gr_logreg_converged(m)) {
    snprintf(buf, cap, "converged");
  } else if (m->stop == GR_LOGREG_STOP_MAX_ITER) {
    snprintf(buf, cap,
             "stopped at the limit of %d %s with max |gradient| %.3g above tol %.3g: raise "
             "--max-iter%s",
             m->iterations, unit, m->grad_norm, tol,
             lbfgs ? ", or use --solver newton (ill-conditioned data needs far fewer Newton "
                     "steps)"
                   : "");
  } else if (m->stop == GR_LOGREG_STOP_NO_DECREASE) {
    snprintf(buf, cap,
             "stopped after %d %s: no step lowered the objective, with max |gradient| %.3g above "
             "tol %.3g (flat to rounding): use --solver newton, or raise --tol",
             m->iterations, unit, m->grad_norm, tol);
  } else {
    snprintf(buf, cap, "stop unknown");
  }
}

void gr_logreg_model_free(gr_logreg_model *m) {
  free(m->w);
  m->w = NULL;
}

/* theta = (w, b): objective value */
static double objective(const double *theta, const float *X, const double *sy, const double *sw,
                        int64_t n, int d, double C) {
  double f = 0;
  for (int j = 0; j < d; j++)
    f += 0.5 * theta[j] * theta[j];
  for (int64_t i = 0; i < n; i++) {
    double z = theta[d];
    for (int j = 0; j < d; j++)
      z += theta[j] * X[(size_t)i * d + j];
    f += C * sw[i] * gr_log1pexp_neg(sy[i] * z);
  }
  return f;
}

gr_status gr_logreg_fit(const float *X, const uint8_t *y, int64_t n, int d,
                        const gr_logreg_params *params, gr_logreg_model *out) {
  gr_logreg_params p;
  if (params) {
    p = *params;
  } else {
    gr_logreg_params_default(&p);
  }
  if (!(p.C > 0) || p.max_iter < 0 || d < 1 || n < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "logreg: C > 0, max_iter >= 0, and a non-empty X");
  const int max_iter = gr_logreg_max_iter(&p, GR_LOGREG_NEWTON);
  int64_t n_pos = 0;
  for (int64_t i = 0; i < n; i++)
    n_pos += y[i] != 0;
  if (n_pos == 0 || n_pos == n)
    return gr_fail(GR_ERR_INVALID_ARG,
                   "logreg: the labels hold one class only (%lld of %lld positive)",
                   (long long)n_pos, (long long)n);
  const int D = d + 1; /* weights and intercept */
  double *theta = calloc((size_t)D, sizeof(double)), *g = malloc(sizeof(double) * D);
  double *H = malloc(sizeof(double) * (size_t)D * D), *step = malloc(sizeof(double) * D);
  double *trial = malloc(sizeof(double) * D), *sy = malloc(sizeof(double) * (size_t)n);
  double *sw = malloc(sizeof(double) * (size_t)n);
  gr_status st = theta && g && H && step && trial && sy && sw
                     ? GR_OK
                     : gr_fail(GR_ERR_NOMEM, "cannot allocate the logistic regression");
  for (int64_t i = 0; st == GR_OK && i < n; i++) {
    sy[i] = y[i] ? 1.0 : -1.0;
    sw[i] = !p.balanced ? 1.0 : (double)n / (2.0 * (double)(y[i] ? n_pos : n - n_pos));
  }
  int it = 0;
  double gmax = INFINITY;
  for (; st == GR_OK && it < max_iter; it++) {
    /* gradient and Hessian at theta */
    for (int j = 0; j < D; j++)
      g[j] = j < d ? theta[j] : 0.0;
    memset(H, 0, sizeof(double) * (size_t)D * D);
    for (int j = 0; j < d; j++)
      H[(size_t)j * D + j] = 1.0;
    for (int64_t i = 0; i < n; i++) {
      const float *x = X + (size_t)i * d;
      double z = theta[d];
      for (int j = 0; j < d; j++)
        z += theta[j] * x[j];
      const gr_logreg_terms t = gr_logreg_row(z, sy[i] > 0, p.C * sw[i]);
      const double r = t.r, h = t.h;
      for (int a = 0; a < D; a++) {
        const double xa = a < d ? x[a] : 1.0;
        g[a] += r * xa;
        const double hx = h * xa;
        for (int c = a; c < D; c++)
          H[(size_t)a * D + c] += hx * (c < d ? x[c] : 1.0);
      }
    }
    gmax = 0;
    for (int j = 0; j < D; j++)
      gmax = fmax(gmax, fabs(g[j]));
    if (gmax <= p.tol) break;
    /* Newton direction: H step = g (H upper triangle, row-major = column-major lower) */
    memcpy(step, g, sizeof(double) * D);
    const int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', D, 1, H, D, step, D);
    if (info != 0) {
      st = gr_fail(GR_ERR_NUMERIC, "logreg: the Hessian is not positive definite (info %d)", info);
      break;
    }
    /* backtracking: halve until the objective decreases enough (Armijo) */
    const double f0 = objective(theta, X, sy, sw, n, d, p.C);
    double slope = 0;
    for (int j = 0; j < D; j++)
      slope += g[j] * step[j];
    /* near the optimum the decrease is below the objective's rounding: the
     * full Newton step is then right, and the search would only stall */
    const int full_step = slope < 1e-10 * (1.0 + fabs(f0));
    double t = 1.0;
    for (int tries = 0; tries < 50; tries++, t *= 0.5) {
      for (int j = 0; j < D; j++)
        trial[j] = theta[j] - t * step[j];
      if (full_step || objective(trial, X, sy, sw, n, d, p.C) <= f0 - 1e-4 * t * slope) break;
    }
    memcpy(theta, trial, sizeof(double) * D);
  }
  if (st == GR_OK) {
    out->d = d;
    out->w = malloc(sizeof(double) * (size_t)d);
    if (!out->w) {
      st = gr_fail(GR_ERR_NOMEM, "cannot allocate coefficients");
    } else {
      memcpy(out->w, theta, sizeof(double) * (size_t)d);
      out->b = theta[d];
      out->iterations = it;
      out->grad_norm = gmax;
      out->stop = gmax <= p.tol ? GR_LOGREG_STOP_GRADIENT : GR_LOGREG_STOP_MAX_ITER;
    }
  }
  free(theta);
  free(g);
  free(H);
  free(step);
  free(trial);
  free(sy);
  free(sw);
  return st;
}

/* The margin in double over 8 running sums, added in a fixed order, so
 * that the loop vectorizes (one sum is a chain of dependent additions). */
void gr_logreg_predict(const gr_logreg_model *m, const float *X, int64_t n, float *prob) {
  const int d = m->d;
  for (int64_t i = 0; i < n; i++) {
    const float *x = X + (size_t)i * d;
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= d; j += 8)
      for (int l = 0; l < 8; l++)
        s[l] += m->w[j + l] * x[j + l];
    for (; j < d; j++)
      s[j % 8] += m->w[j] * x[j];
    const double z = m->b + (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
    prob[i] = (float)gr_sigmoid(z);
  }
}
