/* The batched logistic-regression tests' fixture: groups of class-
 * conditional Gaussians with planted models, the double reference run on
 * one group alone (integer sample weights and balanced class weights by
 * replicating rows), and the check of a batched fit against it. */
#ifndef GR_TESTS_LOGREG_GROUPS_H
#define GR_TESTS_LOGREG_GROUPS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/logreg.h"
#include "logreg_models.h"
#include "test_util.h"

typedef struct group_spec {
  int n_pos, k; /* n_neg = k n_pos */
} group_spec;

typedef struct groups {
  int m, d;
  int64_t *seg;
  float *X, *sw; /* sw: integers 1..3, or NULL */
  uint8_t *y;
  int *k;
} groups;

/* Class-conditional Gaussians x = o_g + (y ? mu_g : -mu_g) / 2 + N(0, I):
 * a logistic model with planted w = mu_g holds exactly. Labels shuffled. */
static inline groups make_groups(gr_rng *rng, const group_spec *spec, int m, int d, int with_sw) {
  groups G = {m, d, malloc(sizeof(int64_t) * (m + 1)), NULL, NULL, NULL, malloc(sizeof(int) * m)};
  G.seg[0] = 0;
  for (int g = 0; g < m; g++) {
    G.seg[g + 1] = G.seg[g] + (int64_t)spec[g].n_pos * (1 + spec[g].k);
    G.k[g] = spec[g].k;
  }
  const int64_t n = G.seg[m];
  G.X = malloc(sizeof(float) * n * d);
  G.y = malloc((size_t)n);
  G.sw = with_sw ? malloc(sizeof(float) * n) : NULL;
  double *mu = malloc(sizeof(double) * d), *o = malloc(sizeof(double) * d);
  for (int g = 0; g < m; g++) {
    for (int j = 0; j < d; j++) {
      mu[j] = 0.35 * gr_rng_normal(rng) + (j == 0 ? 1.0 : 0.0);
      o[j] = 0.5 * gr_rng_normal(rng);
    }
    const int64_t s = G.seg[g], len = G.seg[g + 1] - s;
    for (int64_t i = 0; i < len; i++)
      G.y[s + i] = i < spec[g].n_pos;
    for (int64_t i = len - 1; i > 0; i--) { /* Fisher-Yates */
      const int64_t j = (int64_t)gr_rng_below(rng, (uint64_t)i + 1);
      const uint8_t t = G.y[s + i];
      G.y[s + i] = G.y[s + j];
      G.y[s + j] = t;
    }
    for (int64_t i = s; i < s + len; i++) {
      for (int j = 0; j < d; j++)
        G.X[i * d + j] = (float)(o[j] + (G.y[i] ? 0.5 : -0.5) * mu[j] + gr_rng_normal(rng));
      if (G.sw) G.sw[i] = (float)(1 + gr_rng_below(rng, 3));
    }
  }
  free(mu);
  free(o);
  return G;
}

static inline void free_groups(groups *G) {
  free(G->seg);
  free(G->X);
  free(G->sw);
  free(G->y);
  free(G->k);
}

/* The reference on group g alone; see the file comment for the weights. */
static inline gr_status reference(const groups *G, int g, const gr_logreg_params *p,
                                  gr_logreg_model *out) {
  const int d = G->d;
  const int64_t s = G->seg[g], len = G->seg[g + 1] - s;
  gr_logreg_params q = *p;
  if (!G->sw) return gr_logreg_fit(G->X + s * d, G->y + s, len, d, &q, out);
  const int k = G->k[g];
  int64_t total = 0;
  for (int64_t i = s; i < s + len; i++)
    total += (int64_t)G->sw[i] * (p->balanced && G->y[i] ? k : 1);
  float *X = malloc(sizeof(float) * total * d);
  uint8_t *y = malloc((size_t)total);
  int64_t r = 0;
  for (int64_t i = s; i < s + len; i++) {
    const int64_t rep = (int64_t)G->sw[i] * (p->balanced && G->y[i] ? k : 1);
    for (int64_t t = 0; t < rep; t++, r++) {
      memcpy(X + r * d, G->X + i * d, sizeof(float) * d);
      y[r] = G->y[i];
    }
  }
  if (p->balanced) q.C = p->C * (k + 1) / (2.0 * k);
  q.balanced = 0;
  const gr_status st = gr_logreg_fit(X, y, total, d, &q, out);
  free(X);
  free(y);
  return st;
}

static inline gr_logreg_model *fit(gr_context *ctx, const groups *G, const gr_logreg_params *p,
                                   const float *sw) {
  gr_logreg_model *out = calloc(G->m, sizeof *out);
  CHECK_OK(gr_logreg_fit_groups(ctx, G->X, G->y, sw, G->seg, G->m, G->d, p, out));
  return out;
}

/* max |a - ref| over the coefficients and the intercept; *ref_max gets
 * max |ref|, the scale that makes the difference meaningful. */
static inline double coef_difference(const gr_logreg_model *a, const gr_logreg_model *ref, int d,
                                     double *ref_max) {
  double diff = fabs(a->b - ref->b), wmax = fabs(ref->b);
  for (int j = 0; j < d; j++) {
    diff = fmax(diff, fabs(a->w[j] - ref->w[j]));
    wmax = fmax(wmax, fabs(ref->w[j]));
  }
  *ref_max = wmax;
  return diff;
}

/* Every group within 1e-4 of the reference (the coefficients are O(1)). */
static inline void check_groups_against_reference(gr_context *ctx, gr_rng *rng,
                                                  const group_spec *spec, int m, int d, double C,
                                                  int with_sw, int balanced,
                                                  gr_logreg_solver solver, int max_iterations) {
  groups G = make_groups(rng, spec, m, d, with_sw);
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.C = C;
  p.balanced = balanced;
  p.solver = solver;
  gr_logreg_model *ms = fit(ctx, &G, &p, G.sw);
  for (int g = 0; g < G.m && ms[0].w; g++) {
    gr_logreg_model ref = {0};
    CHECK_OK(reference(&G, g, &p, &ref));
    if (!ref.w) continue;
    double wmax;
    const double diff = coef_difference(&ms[g], &ref, d, &wmax);
    printf("%s d %2d C %.1f sw %d balanced %d group %d: %3d iterations (reference %2d), max "
           "|coef| %.2f, max difference %.2e\n",
           gr_logreg_solver_name(gr_logreg_solver_for(&p, d)), d, C, with_sw, balanced, g,
           ms[g].iterations, ref.iterations, wmax, diff);
    CHECK_MSG(diff <= 1e-4, "group %d differs from the reference by %g", g, diff);
    CHECK_MSG(ms[g].iterations < max_iterations, "group %d: %d iterations", g, ms[g].iterations);
    CHECK_MSG(gr_logreg_converged(&ms[g]) && ref.stop == GR_LOGREG_STOP_GRADIENT,
              "group %d stopped on %s (reference %s)", g, gr_logreg_stop_name(ms[g].stop),
              gr_logreg_stop_name(ref.stop));
    CHECK(wmax > 0.3 && wmax < 10); /* coefficients of order 1: the bound is meaningful */
    gr_logreg_model_free(&ref);
  }
  free_models(ms, G.m);
  free_groups(&G);
}

/* The solver's models on 1 and 2 threads are the same bit for bit; unit
 * sample weights are the same as none; a tol above the starting gradient
 * takes no step. */
static inline void check_threads_and_weights(gr_rng *rng, gr_logreg_solver solver) {
  const group_spec spec[3] = {{2000, 4}, {300, 1}, {700, 2}}; /* 10000, 600, 2100 rows */
  groups G = make_groups(rng, spec, 3, 23, 1);
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.solver = solver;
  p.balanced = 1;
  gr_context *one = cpu_test_context(1), *two = cpu_test_context(2);
  if (!one || !two) return;
  gr_logreg_model *a = fit(one, &G, &p, G.sw), *b = fit(two, &G, &p, G.sw);
  CHECK_MSG(same_models(a, b, G.m, G.d), "%s: 1 and 2 threads give different models",
            gr_logreg_solver_name(solver));
  free_models(a, G.m);
  free_models(b, G.m);
  /* unit sample weights are the same as none */
  for (int64_t i = 0; i < G.seg[G.m]; i++)
    G.sw[i] = 1.0f;
  a = fit(two, &G, &p, G.sw);
  b = fit(two, &G, &p, NULL);
  CHECK_MSG(same_models(a, b, G.m, G.d), "sw = 1 differs from sw = NULL");
  free_models(a, G.m);
  free_models(b, G.m);
  /* a tol above the starting gradient: no step, zero coefficients */
  p.tol = 1e9;
  a = fit(two, &G, &p, NULL);
  for (int g = 0; g < G.m && a[g].w; g++)
    CHECK(a[g].iterations == 0 && a[g].w[0] == 0.0 && a[g].b == 0.0 &&
          a[g].stop == GR_LOGREG_STOP_GRADIENT);
  free_models(a, G.m);
  gr_context_free(one);
  gr_context_free(two);
  free_groups(&G);
}

#endif
