/* gr_logreg_fit_groups with the L-BFGS solver on the CPU backend: every
 * group within 1e-4 of the double Newton reference (several d and C,
 * balanced and not, sample weights); features on scales from 10^-2 to
 * 10^3 cost about the iterations of unit ones (the diagonal
 * preconditioner) and still reach the reference; the same models on 1 and
 * 2 threads (and with unit weights as with none) and in any batching; described rows with
 * SMOTE-style synthetic ones reach Newton's optimum; iteration limits, interruption, and the solver
 * choice. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/logreg.h"
#include "host/logreg_plan.h"
#include "host/logreg_solve.h"
#include "logreg_groups.h"
#include "logreg_models.h"
#include "test_util.h"

static void lbfgs_params(gr_logreg_params *p) {
  gr_logreg_params_default(p);
  p->solver = GR_LOGREG_LBFGS;
}

static void check_against_reference(gr_context *ctx, gr_rng *rng) {
  const group_spec spec[4] = {{60, 3}, {500, 1}, {1200, 4}, {150, 2}};
  check_groups_against_reference(ctx, rng, spec, 4, 3, 1.0, 0, 0, GR_LOGREG_LBFGS, 200);
  check_groups_against_reference(ctx, rng, spec, 4, 17, 0.3, 1, 0, GR_LOGREG_LBFGS, 200);
  check_groups_against_reference(ctx, rng, spec, 4, 17, 2.0, 0, 1, GR_LOGREG_LBFGS, 200);
  check_groups_against_reference(ctx, rng, spec, 4, 40, 1.0, 1, 1, GR_LOGREG_LBFGS, 200);
  /* large groups: the warm start on every 8th row, then the full data */
  const group_spec big[2] = {{35000, 1}, {14000, 4}};
  check_groups_against_reference(ctx, rng, big, 2, 6, 1.0, 0, 1, GR_LOGREG_LBFGS, 200);
}

/* Feature j multiplied by 10^(j % 6 - 2): the fit still reaches the
 * reference on the scaled data, in at most twice the iterations of the
 * unscaled fit plus 10 (without the preconditioner, several hundred). */
static void check_scales(gr_context *ctx, gr_rng *rng) {
  const group_spec spec[2] = {{800, 2}, {400, 3}};
  const int d = 12;
  groups G = make_groups(rng, spec, 2, d, 0);
  gr_logreg_params p;
  lbfgs_params(&p);
  gr_logreg_model *plain = fit(ctx, &G, &p, NULL);
  for (int64_t i = 0; i < G.seg[2]; i++)
    for (int j = 0; j < d; j++)
      G.X[i * d + j] *= (float)pow(10.0, j % 6 - 2);
  gr_logreg_model *scaled = fit(ctx, &G, &p, NULL);
  for (int g = 0; g < 2 && plain[g].w && scaled[g].w; g++) {
    gr_logreg_model ref = {0};
    CHECK_OK(reference(&G, g, &p, &ref));
    const double apart = model_distance(&scaled[g], &ref, 1, d);
    printf("scaled features, group %d: %d iterations (unscaled %d), %.1e from the reference\n", g,
           scaled[g].iterations, plain[g].iterations, apart);
    CHECK_MSG(apart <= 1e-4, "group %d: %g from the reference", g, apart);
    CHECK_MSG(scaled[g].iterations <= 2 * plain[g].iterations + 10,
              "group %d: %d iterations on scaled features, %d on unit ones", g,
              scaled[g].iterations, plain[g].iterations);
    gr_logreg_model_free(&ref);
  }
  free_models(plain, 2);
  free_models(scaled, 2);
  free_groups(&G);
}

/* Training rows described over one X: each group's real rows and, as
 * SMOTE makes them, synthetic rows between two of its positives. L-BFGS
 * and Newton reach the same optimum (1e-6 relative); 1 and 2 threads give
 * the same L-BFGS models; and batches of one group each (a budget the
 * planner sizes for L-BFGS) give them bit for bit. Groups 0 and 2 are
 * large enough for the warm start. */
static void check_described(gr_rng *rng) {
  enum { M = 3, d = 9 };
  const int64_t n_x = 26000;
  /* sizes such that no two neighbours fit a batch that one of them fills */
  const int64_t real[M] = {9000, 8000, 9000}, synth[M] = {3000, 2500, 3000};
  float *X = malloc(sizeof(float) * n_x * d);
  uint8_t *lab = malloc((size_t)n_x);
  for (int64_t x = 0; x < n_x; x++) {
    lab[x] = gr_rng_uniform(rng) < 0.2;
    for (int j = 0; j < d; j++)
      X[x * d + j] = (float)(gr_rng_normal(rng) + (lab[x] ? 0.4 * (j % 3) : 0.0));
  }
  int64_t seg[M + 1] = {0};
  for (int g = 0; g < M; g++)
    seg[g + 1] = seg[g] + real[g] + synth[g];
  const int64_t n = seg[M];
  int32_t *a = malloc(sizeof(int32_t) * n), *b = malloc(sizeof(int32_t) * n);
  float *gap = malloc(sizeof(float) * n);
  uint8_t *y = malloc((size_t)n);
  int64_t first = 0;
  for (int g = 0; g < M; g++) {
    int64_t i = seg[g];
    for (int64_t r = 0; r < real[g]; r++, i++) { /* consecutive rows of X, groups apart */
      a[i] = b[i] = (int32_t)(first + r);
      gap[i] = 0.0f;
      y[i] = lab[first + r];
    }
    for (int64_t s = 0; s < synth[g]; s++, i++) { /* between two positives of the group */
      int32_t u, v;
      do
        u = (int32_t)(first + (int64_t)gr_rng_below(rng, (uint64_t)real[g]));
      while (!lab[u]);
      do
        v = (int32_t)(first + (int64_t)gr_rng_below(rng, (uint64_t)real[g]));
      while (!lab[v]);
      a[i] = u;
      b[i] = v;
      gap[i] = (float)gr_rng_uniform(rng);
      y[i] = 1;
    }
    first += real[g];
  }
  const gr_logreg_rows rows = {X, n_x, a, b, gap};
  gr_context *one = cpu_test_context(1), *two = cpu_test_context(2);
  gr_logreg_model *lb = calloc(M, sizeof *lb), *nt = calloc(M, sizeof *nt);
  gr_logreg_model *alone = calloc(M, sizeof *alone), *batched = calloc(M, sizeof *batched);
  gr_logreg_params p;
  lbfgs_params(&p);
  p.balanced = 1;
  gr_logreg_params q = p;
  q.solver = GR_LOGREG_NEWTON;
  if (one && two) {
    CHECK_OK(gr_logreg_fit_groups_rows(two, &rows, y, NULL, seg, M, d, &p, lb));
    CHECK_OK(gr_logreg_fit_groups_rows(two, &rows, y, NULL, seg, M, d, &q, nt));
    CHECK_OK(gr_logreg_fit_groups_rows(one, &rows, y, NULL, seg, M, d, &p, alone));
    const double apart = model_distance(lb, nt, M, d);
    printf("described rows: L-BFGS iterations %d %d %d, Newton steps %d %d %d, %.1e apart\n",
           lb[0].iterations, lb[1].iterations, lb[2].iterations, nt[0].iterations, nt[1].iterations,
           nt[2].iterations, apart);
    CHECK_MSG(apart <= 1e-6, "described rows: L-BFGS and Newton optima %g apart", apart);
    CHECK_MSG(same_models(lb, alone, M, d), "described rows: 1 and 2 threads differ");
    int firsts[M + 1], too_big = -1, nb = 0;
    size_t need = 0, budget = (size_t)1 << 16;
    while ((nb = gr_logreg_plan_batches(&rows, seg, M, d, &p, budget, firsts, &too_big, &need)) !=
               M &&
           budget < ((size_t)1 << 34))
      budget += budget / 16;
    CHECK_MSG(nb == M, "no budget gives one group per batch (%d batches)", nb);
    gr_logreg_params r = p;
    r.max_bytes = (int64_t)budget;
    CHECK_OK(gr_logreg_fit_groups_rows(two, &rows, y, NULL, seg, M, d, &r, batched));
    CHECK_MSG(same_models(batched, lb, M, d), "L-BFGS: one group per batch differs");
  }
  free_models(lb, M);
  free_models(nt, M);
  free_models(alone, M);
  free_models(batched, M);
  gr_context_free(one);
  gr_context_free(two);
  free(X);
  free(lab);
  free(a);
  free(b);
  free(gap);
  free(y);
}

/* max_iter stops every group there with a finite model; a stop flag set
 * before the solver runs stops it after one iteration. (A tol above the
 * starting gradient: check_threads_and_weights.) */
static void check_limits(gr_context *ctx, gr_rng *rng) {
  const group_spec spec[2] = {{900, 3}, {500, 2}};
  groups G = make_groups(rng, spec, 2, 10, 0);
  gr_logreg_params p;
  lbfgs_params(&p);
  p.max_iter = 3;
  gr_logreg_model *ms = fit(ctx, &G, &p, NULL);
  for (int g = 0; g < 2 && ms[g].w; g++)
    CHECK_MSG(ms[g].iterations == 3 && isfinite(ms[g].grad_norm) && ms[g].grad_norm > p.tol &&
                  ms[g].stop == GR_LOGREG_STOP_MAX_ITER && !gr_logreg_converged(&ms[g]),
              "group %d: %d iterations, max |gradient| %g, stop %s", g, ms[g].iterations,
              ms[g].grad_norm, gr_logreg_stop_name(ms[g].stop));
  free_models(ms, 2);
  /* the solver itself (the fit checks the flag before it too), on the CPU
   * backend's host memory */
  volatile sig_atomic_t stop = 1;
  p.max_iter = 0;
  p.stop = &stop;
  const int D = G.d + 1;
  double *theta = calloc(2 * D, sizeof(double)), cw[4] = {1.0, 1.0, 1.0, 1.0}, gmax[2];
  int iters[2];
  uint8_t stops[2];
  const gr_lr_data t = {G.X, NULL, {0}, G.y, NULL, G.seg};
  const gr_logreg_rows rows = {G.X, G.seg[2], NULL, NULL, NULL};
  CHECK(gr_logreg_lbfgs(ctx->be, &t, &rows, G.y, NULL, theta, cw, NULL, 2, G.d, &p, 1000, NULL,
                        iters, gmax, stops) == GR_ERR_INTERRUPTED);
  CHECK_MSG(strstr(gr_last_error(), "L-BFGS iteration 1") != NULL, "%s", gr_last_error());
  CHECK(theta[0] != 0.0 && isfinite(theta[0])); /* one step was taken */
  free(theta);
  free_groups(&G);
}

/* AUTO takes Newton up to GR_LOGREG_NEWTON_MAX_D features, L-BFGS beyond;
 * the names round-trip; max_iter 0 is each solver's default; the planner
 * counts a Hessian per group for Newton only; an unknown solver is an
 * error. */
static void check_choice(gr_context *ctx, gr_rng *rng) {
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  CHECK(gr_logreg_solver_for(&p, GR_LOGREG_NEWTON_MAX_D) == GR_LOGREG_NEWTON);
  CHECK(gr_logreg_solver_for(&p, GR_LOGREG_NEWTON_MAX_D + 1) == GR_LOGREG_LBFGS);
  CHECK(gr_logreg_max_iter(&p, GR_LOGREG_NEWTON) == 100);
  CHECK(gr_logreg_max_iter(&p, GR_LOGREG_LBFGS) == 1000);
  p.max_iter = 7;
  CHECK(gr_logreg_max_iter(&p, GR_LOGREG_LBFGS) == 7);
  p.solver = GR_LOGREG_NEWTON;
  CHECK(gr_logreg_solver_for(&p, 100000) == GR_LOGREG_NEWTON);
  p.solver = GR_LOGREG_LBFGS;
  CHECK(gr_logreg_solver_for(&p, 2) == GR_LOGREG_LBFGS);
  const char *names[3] = {"auto", "newton", "lbfgs"};
  for (int s = 0; s < 3; s++) {
    gr_logreg_solver got = GR_LOGREG_AUTO;
    CHECK(gr_logreg_solver_parse(names[s], &got) == 0 && (int)got == s);
    CHECK(strcmp(gr_logreg_solver_name(got), names[s]) == 0);
  }
  gr_logreg_solver got = GR_LOGREG_NEWTON;
  CHECK(gr_logreg_solver_parse("bfgs", &got) == -1 && got == GR_LOGREG_NEWTON);
  /* the plan: one group of 2000 rows, d = 600 */
  const int d = 600;
  const int64_t seg[2] = {0, 2000};
  const gr_logreg_rows rows = {NULL, 2000, NULL, NULL, NULL};
  int first[2], too_big = -1;
  size_t need_newton = 0, need_lbfgs = 0;
  gr_logreg_params_default(&p);
  p.solver = GR_LOGREG_NEWTON;
  CHECK(gr_logreg_plan_batches(&rows, seg, 1, d, &p, 1024, first, &too_big, &need_newton) == 0);
  p.solver = GR_LOGREG_LBFGS;
  CHECK(gr_logreg_plan_batches(&rows, seg, 1, d, &p, 1024, first, &too_big, &need_lbfgs) == 0);
  CHECK_MSG(need_newton - need_lbfgs == sizeof(double) * (d + 1) * (d + 1),
            "Newton needs %zu bytes, L-BFGS %zu", need_newton, need_lbfgs);
  const group_spec spec[1] = {{50, 1}};
  groups G = make_groups(rng, spec, 1, 3, 0);
  p.solver = (gr_logreg_solver)3;
  gr_logreg_model out[1];
  CHECK(gr_logreg_fit_groups(ctx, G.X, G.y, NULL, G.seg, 1, 3, &p, out) == GR_ERR_INVALID_ARG);
  CHECK_MSG(strstr(gr_last_error(), "solver") != NULL, "%s", gr_last_error());
  free_groups(&G);
}

int main(void) {
  gr_context *ctx = cpu_test_context(2);
  if (!ctx) return gr_test_finish();
  gr_rng rng;
  gr_rng_seed(&rng, 57);
  check_against_reference(ctx, &rng);
  check_scales(ctx, &rng);
  check_threads_and_weights(&rng, GR_LOGREG_LBFGS);
  check_described(&rng);
  check_limits(ctx, &rng);
  check_choice(ctx, &rng);
  gr_context_free(ctx);
  return gr_test_finish();
}
