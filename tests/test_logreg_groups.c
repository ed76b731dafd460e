/* gr_logreg_fit_groups on the CPU backend against the double reference
 * gr_logreg_fit run on each group alone: groups of different sizes (one
 * spanning several row chunks), several d and C, balanced and not, with and
 * without sample weights. Integer sample weights are checked by replicating
 * rows for the reference; with balanced weights too, class counts n_neg =
 * k n_pos make the class weights a1 = (k+1)/2, a0 = (k+1)/(2k), i.e. the
 * reference on positives replicated k times more with C a0. Then: the same
 * result on 1 and 2 threads, the input errors, and groups of several chunks.
 * Described training rows (gr_logreg_fit_groups_rows: real rows shared by
 * two groups, SMOTE-style synthetic rows, read by pair) give the model of
 * their materialized float copy within 1e-6, and the reference's within
 * 1e-4; the operations on them match a naive double computation. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/logreg.h"
#include "host/logreg_plan.h"
#include "kernels/shared_math.h"
#include "logreg_groups.h"
#include "logreg_models.h"
#include "logreg_reference.h"
#include "test_util.h"

static void check_against_reference(gr_context *ctx, gr_rng *rng, int d, double C, int with_sw,
                                    int balanced) {
  const group_spec spec[4] = {{60, 3}, {500, 1}, {1200, 4}, {150, 2}}; /* group 2: 6000 rows */
  check_groups_against_reference(ctx, rng, spec, 4, d, C, with_sw, balanced, GR_LOGREG_AUTO, 30);
}

/* 140,000 rows in all: the fit starts from the fit of every 8th row, and
 * must still end at the full data's optimum. */
static void check_warm_start(gr_context *ctx, gr_rng *rng) {
  const group_spec spec[2] = {{35000, 1}, {14000, 4}};
  check_groups_against_reference(ctx, rng, spec, 2, 6, 1.0, 0, 1, GR_LOGREG_AUTO, 30);
  check_groups_against_reference(ctx, rng, spec, 2, 6, 0.5, 1, 0, GR_LOGREG_AUTO, 30);
}

/* Fits one spec with and without warm starts; @return 1 when the two are
 * the same fit (coefficients and steps) bit for bit. */
static int same_as_cold(gr_context *ctx, const groups *G, int balanced, gr_logreg_solver solver) {
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.balanced = balanced;
  p.solver = solver;
  p.tol = 1e-6;
  gr_logreg_model warm[1], cold[1];
  memset(warm, 0, sizeof warm);
  memset(cold, 0, sizeof cold);
  CHECK_OK(gr_logreg_fit_groups(ctx, G->X, G->y, G->sw, G->seg, G->m, G->d, &p, warm));
  p.cold_start = 1;
  CHECK_OK(gr_logreg_fit_groups(ctx, G->X, G->y, G->sw, G->seg, G->m, G->d, &p, cold));
  const int same = warm[0].w && cold[0].w && warm[0].iterations == cold[0].iterations &&
                   memcmp(warm[0].w, cold[0].w, sizeof(double) * (size_t)G->d) == 0 &&
                   warm[0].b == cold[0].b;
  CHECK(gr_logreg_converged(&warm[0]) && gr_logreg_converged(&cold[0]));
  gr_logreg_model_free(&warm[0]);
  gr_logreg_model_free(&cold[0]);
  return same;
}

/* A warm start worse than zero is dropped. The warm start fits every 8th
 * row of a group; here those rows (9000 in the group, a third of them
 * clients, so not a stratified subsample) carry flipped labels, their fit
 * is the planted model reversed, and the whole group's objective there is
 * far above its value at zero. The fit must then be the cold fit bit for
 * bit. The same data unflipped keeps its warm start, and the fit differs
 * from the cold one (in its path, not its optimum: both converge). Both
 * solvers. */
static void check_poor_warm_start(gr_context *ctx, gr_rng *rng) {
  const group_spec spec[1] = {{3000, 2}};
  groups G = make_groups(rng, spec, 1, 9, 0);
  const gr_logreg_solver solvers[2] = {GR_LOGREG_NEWTON, GR_LOGREG_LBFGS};
  for (int s = 0; s < 2; s++)
    CHECK_MSG(!same_as_cold(ctx, &G, 0, solvers[s]), "%s", gr_logreg_solver_name(solvers[s]));
  for (int64_t i = G.seg[0]; i < G.seg[1]; i += 8)
    G.y[i] = !G.y[i];
  for (int s = 0; s < 2; s++) {
    CHECK_MSG(same_as_cold(ctx, &G, 0, solvers[s]), "%s", gr_logreg_solver_name(solvers[s]));
    CHECK_MSG(same_as_cold(ctx, &G, 1, solvers[s]), "%s", gr_logreg_solver_name(solvers[s]));
  }
  free_groups(&G);
}

/* Rare clients (60 among 18,060 rows): the warm start keeps every client
 * and every 8th other row (weighted by 8), so with class weights it lands
 * near the optimum and saves Newton steps; the fits still end at the
 * double reference's optimum. */
static void check_rare_clients(gr_context *ctx, gr_rng *rng) {
  const group_spec spec[1] = {{60, 300}};
  groups G = make_groups(rng, spec, 1, 9, 0);
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.balanced = 1;
  p.tol = 1e-6;
  gr_logreg_model warm = {0}, cold = {0};
  CHECK_OK(gr_logreg_fit_groups(ctx, G.X, G.y, G.sw, G.seg, 1, G.d, &p, &warm));
  p.cold_start = 1;
  CHECK_OK(gr_logreg_fit_groups(ctx, G.X, G.y, G.sw, G.seg, 1, G.d, &p, &cold));
  CHECK(gr_logreg_converged(&warm) && gr_logreg_converged(&cold));
  CHECK(warm.iterations < cold.iterations);
  gr_logreg_model_free(&warm);
  gr_logreg_model_free(&cold);
  free_groups(&G);
  check_groups_against_reference(ctx, rng, spec, 1, 9, 1.0, 0, 1, GR_LOGREG_AUTO, 30);
  check_groups_against_reference(ctx, rng, spec, 1, 9, 1.0, 1, 0, GR_LOGREG_AUTO, 30);
}

/* The CPU operations against a naive double computation: 3 groups (group
 * 0 spans two row chunks, group 2 inactive and left untouched). f and g are
 * double sums in another order: 1e-12 relative to the terms' sizes. H is a
 * float sum over chunks of 4096 rows (~sqrt(4096) eps of the terms' sizes,
 * bounded by sqrt(H_aa H_bb)): 1e-4 of that. With curvature sampling (tau
 * > 0, margins spread wider so that many rows fall below it) f and g stay
 * exact, H is the sum over the rows gr_logreg_hess_scale keeps, and rows
 * must have been left out. */
static void check_ops(gr_context *ctx, gr_rng *rng, double tau) {
  enum { M = 3, d = 7, D = 8 };
  const int64_t seg[M + 1] = {0, 4500, 5300, 5400};
  const int64_t n = seg[M];
  float *X = malloc(sizeof(float) * n * d), *sw = malloc(sizeof(float) * n);
  uint8_t *y = malloc((size_t)n);
  double theta[M * D], cw[2 * M], f[M], g[M * D], H[M * D * D];
  const uint8_t active[M] = {1, 1, 0};
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < d; j++)
      X[i * d + j] = (float)gr_rng_normal(rng);
    y[i] = gr_rng_uniform(rng) < 0.4;
    sw[i] = (float)(0.5 + gr_rng_uniform(rng));
  }
  for (int e = 0; e < M * D; e++)
    theta[e] = (tau > 0 ? 2.0 : 0.5) * gr_rng_normal(rng);
  for (int e = 0; e < 2 * M; e++)
    cw[e] = 0.5 + gr_rng_uniform(rng);
  for (int e = 0; e < M * D * D; e++)
    H[e] = g[e % (M * D)] = f[e % M] = -1.0;
  gr_backend *be = ctx->be;
  CHECK_OK(
      be->ops->logreg_grad_hess(be, g, H, f, theta, X, NULL, y, sw, seg, cw, active, M, d, tau));
  double f_obj[M] = {-1.0, -1.0, -1.0};
  CHECK_OK(be->ops->logreg_objective(be, f_obj, theta, X, NULL, y, sw, seg, cw, active, M, d));
  double worst_h = 0.0;
  int64_t left_out = 0;
  for (int k = 0; k < 2; k++) {
    lr_reference ref;
    lr_reference_init(&ref, theta + k * D, d);
    for (int64_t i = seg[k]; i < seg[k + 1]; i++) {
      double x[d];
      for (int j = 0; j < d; j++)
        x[j] = X[i * d + j];
      lr_reference_add(&ref, x, y[i], cw[2 * k + y[i]] * sw[i], tau, i - seg[k], 0);
    }
    left_out += ref.left_out;
    worst_h = fmax(worst_h, lr_reference_check(&ref, f[k], f_obj[k], g + k * D, H + k * D * D));
  }
  printf("ops (tau %g, %lld rows left out): Hessian off by at most %.1e of sqrt(H_aa H_bb)\n", tau,
         (long long)left_out, worst_h);
  CHECK(tau > 0 ? left_out > 200 : left_out == 0);
  CHECK(f[2] == -1.0 && f_obj[2] == -1.0 && g[2 * D] == -1.0 && H[2 * D * D] == -1.0);
  free(X);
  free(sw);
  free(y);
}

/* Curvature sampling changes the steps, not the optimum: on nearly
 * separable groups (features scaled up) the fits with and without it both
 * stop at max |gradient| <= tol, so their coefficients agree far inside
 * 1e-6; and sampling took effect (the step counts or the models differ). */
static void check_sampled_fit(gr_context *ctx, gr_rng *rng) {
  const group_spec spec[2] = {{1500, 3}, {600, 9}};
  groups G = make_groups(rng, spec, 2, 6, 0);
  for (int64_t e = 0; e < G.seg[2] * G.d; e++)
    G.X[e] *= 3.0f;
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.hessian_sample = 0.0;
  gr_logreg_model *exact = fit(ctx, &G, &p, NULL);
  p.hessian_sample = 0.05;
  gr_logreg_model *sampled = fit(ctx, &G, &p, NULL);
  int differ = 0;
  for (int g = 0; g < 2; g++) {
    double worst = fabs(sampled[g].b - exact[g].b);
    for (int j = 0; j < G.d; j++)
      worst = fmax(worst, fabs(sampled[g].w[j] - exact[g].w[j]) / (1.0 + fabs(exact[g].w[j])));
    CHECK_MSG(worst <= 1e-6, "group %d: sampled Hessians moved the optimum by %g", g, worst);
    differ |= sampled[g].iterations != exact[g].iterations || worst > 0;
    printf("sampled fit, group %d: %d Newton steps (exact Hessians: %d), %.1e apart\n", g,
           sampled[g].iterations, exact[g].iterations, worst);
  }
  CHECK(differ);
  free_models(exact, 2);
  free_models(sampled, 2);
  free_groups(&G);
}

static void check_errors(gr_context *ctx, gr_rng *rng) {
  const group_spec spec[3] = {{20, 1}, {30, 2}, {25, 1}};
  groups G = make_groups(rng, spec, 3, 4, 1);
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  gr_logreg_model out[3];
  for (int64_t i = G.seg[2]; i < G.seg[3]; i++)
    G.y[i] = 0;
  CHECK(gr_logreg_fit_groups(ctx, G.X, G.y, NULL, G.seg, 3, 4, &p, out) == GR_ERR_INVALID_ARG);
  CHECK_MSG(strstr(gr_last_error(), "group 2") && strstr(gr_last_error(), "one class"), "%s",
            gr_last_error());
  G.y[G.seg[2]] = 1;
  G.sw[5] = -1.0f;
  CHECK(gr_logreg_fit_groups(ctx, G.X, G.y, G.sw, G.seg, 3, 4, &p, out) == GR_ERR_INVALID_ARG);
  CHECK_MSG(strstr(gr_last_error(), "row 5") != NULL, "%s", gr_last_error());
  const int64_t bad_seg[4] = {0, 50, 40, 165};
  CHECK(gr_logreg_fit_groups(ctx, G.X, G.y, NULL, bad_seg, 3, 4, &p, out) == GR_ERR_INVALID_ARG);
  CHECK_MSG(strstr(gr_last_error(), "group 1") != NULL, "%s", gr_last_error());
  p.C = 0;
  CHECK(gr_logreg_fit_groups(ctx, G.X, G.y, NULL, G.seg, 3, 4, &p, out) == GR_ERR_INVALID_ARG);
  free_groups(&G);
}

/* Groups that span several row chunks (up to 6000 rows, d = 30) converge in
 * a few Newton steps to finite models. Speed is measured in bench/, not here. */
static void check_multi_chunk(gr_context *ctx, gr_rng *rng) {
  group_spec spec[8];
  for (int g = 0; g < 8; g++)
    spec[g] = (group_spec){6000 / (1 + g % 4), 1 + g % 4};
  groups G = make_groups(rng, spec, 8, 30, 0);
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.balanced = 1;
  gr_logreg_model *ms = fit(ctx, &G, &p, NULL);
  for (int g = 0; g < G.m && ms[g].w; g++)
    CHECK_MSG(ms[g].iterations < 30 && isfinite(ms[g].b) && gr_logreg_converged(&ms[g]),
              "group %d: %d iterations, b %g, stop %s", g, ms[g].iterations, ms[g].b,
              gr_logreg_stop_name(ms[g].stop));
  free_models(ms, G.m);
  /* one Newton step is not enough: every group says so */
  p.max_iter = 1;
  ms = fit(ctx, &G, &p, NULL);
  for (int g = 0; g < G.m && ms[g].w; g++)
    CHECK_MSG(ms[g].iterations == 1 && ms[g].stop == GR_LOGREG_STOP_MAX_ITER &&
                  !gr_logreg_converged(&ms[g]) && ms[g].grad_norm > p.tol,
              "group %d: %d iterations, stop %s, max |gradient| %g", g, ms[g].iterations,
              gr_logreg_stop_name(ms[g].stop), ms[g].grad_norm);
  free_models(ms, G.m);
  free_groups(&G);
}

/* Within a memory budget (max_bytes) the groups are fitted in batches, each
 * with a compact copy of the X rows it needs: for every budget from one
 * that no group fits to one that holds everything, the fit either gives
 * the unbatched models bit for bit or, where even one group does not fit,
 * fails with GR_ERR_DEVICE_MEM naming --max-device-mem. The budgets must
 * cover all of: too small, one group per batch, several per batch (or all
 * in one). */
static void check_budgets(gr_context *ctx, const gr_logreg_rows *rows, const uint8_t *y,
                          const float *sw, const int64_t *seg, int m, int d,
                          const gr_logreg_params *p, const gr_logreg_model *want) {
  int first[8], seen_none = 0, seen_each = 0, seen_fewer = 0;
  for (size_t budget = 4096; budget <= ((size_t)64 << 20); budget *= 2) {
    int too_big = -1;
    size_t need = 0;
    const int nb = gr_logreg_plan_batches(rows, seg, m, d, p, budget, first, &too_big, &need);
    CHECK(nb >= 0 && nb <= m);
    gr_logreg_params q = *p;
    q.max_bytes = (int64_t)budget;
    gr_logreg_model *got = calloc((size_t)m, sizeof *got);
    const gr_status st = gr_logreg_fit_groups_rows(ctx, rows, y, sw, seg, m, d, &q, got);
    if (nb == 0) {
      seen_none = 1;
      CHECK_MSG(st == GR_ERR_DEVICE_MEM && strstr(gr_last_error(), "--max-device-mem") &&
                    need > budget / 2 && too_big >= 0,
                "budget %zu: status %d, %s", budget, (int)st, gr_last_error());
      free(got);
      continue;
    }
    seen_each |= nb == m;
    seen_fewer |= nb < m;
    CHECK_MSG(first[0] == 0 && first[nb] == m, "budget %zu: batches do not cover the groups",
              budget);
    CHECK_OK(st);
    CHECK_MSG(st == GR_OK && same_models(got, want, m, d),
              "budget %zu (%d batches, described %d): other models than unbatched", budget, nb,
              rows->a != NULL);
    free_models(got, m);
  }
  CHECK_MSG(seen_none && seen_each && seen_fewer,
            "budgets: too small %d, one group each %d, fewer "
            "batches %d",
            seen_none, seen_each, seen_fewer);
}

/* Groups over one matrix X (n_x, d) with planted labels: group g takes the
 * real rows [g n_x / 4, g n_x / 4 + n_x / 2) (so neighbouring groups share
 * a quarter of X), plus synthetic positives between two of its positive
 * rows (gap uniform in [0, 1), label 1) until the classes are even, all
 * shuffled so chunks mix both kinds. The backend takes a synthetic row as
 * the exact point between its pair, the materialized copy as SMOTE's float
 * rounding of it (gr_smote_lerp): the two fits agree within 1e-6 (relative
 * to 1 + |coefficient|), and both lie within 1e-4 of the double
 * reference. */
static void check_described(gr_context *ctx, gr_rng *rng, int64_t n_x, int d, int with_sw,
                            int balanced) {
  enum { M = 3 };
  float *X = malloc(sizeof(float) * n_x * d);
  uint8_t *lab = malloc((size_t)n_x);
  double *mu = malloc(sizeof(double) * d);
  for (int j = 0; j < d; j++)
    mu[j] = 0.35 * gr_rng_normal(rng) + (j == 0 ? 1.2 : 0.0);
  for (int64_t r = 0; r < n_x; r++) {
    lab[r] = gr_rng_uniform(rng) < 0.25;
    for (int j = 0; j < d; j++)
      X[r * d + j] = (float)((lab[r] ? 0.5 : -0.5) * mu[j] + gr_rng_normal(rng));
  }
  const int64_t span = n_x / 2;
  int64_t seg[M + 1] = {0}, n_pos[M] = {0};
  for (int g = 0; g < M; g++) {
    for (int64_t r = g * n_x / 4; r < g * n_x / 4 + span; r++)
      n_pos[g] += lab[r];
    seg[g + 1] = seg[g] + span + (span - 2 * n_pos[g]); /* synthetic: negatives - positives */
  }
  const int64_t n = seg[M];
  int32_t *a = malloc(sizeof(int32_t) * n), *b = malloc(sizeof(int32_t) * n);
  int32_t *pos = malloc(sizeof(int32_t) * span);
  float *gap = malloc(sizeof(float) * n), *Xm = malloc(sizeof(float) * n * d);
  float *sw = with_sw ? malloc(sizeof(float) * n) : NULL;
  uint8_t *y = malloc((size_t)n);
  for (int g = 0; g < M; g++) {
    int64_t at = seg[g], np = 0;
    for (int64_t r = g * n_x / 4; r < g * n_x / 4 + span; r++, at++) {
      a[at] = b[at] = (int32_t)r;
      gap[at] = 0.5f; /* not read: b == a */
      y[at] = lab[r];
      if (lab[r]) pos[np++] = (int32_t)r;
    }
    for (; at < seg[g + 1]; at++) {
      a[at] = pos[gr_rng_below(rng, (uint64_t)np)];
      do
        b[at] = pos[gr_rng_below(rng, (uint64_t)np)];
      while (b[at] == a[at]);
      gap[at] = (float)gr_rng_uniform(rng);
      y[at] = 1;
    }
    for (int64_t i = seg[g + 1] - 1; i > seg[g]; i--) { /* Fisher-Yates */
      const int64_t k = seg[g] + (int64_t)gr_rng_below(rng, (uint64_t)(i - seg[g]) + 1);
      const int32_t ta = a[i], tb = b[i];
      const float tg = gap[i];
      const uint8_t ty = y[i];
      a[i] = a[k], b[i] = b[k], gap[i] = gap[k], y[i] = y[k];
      a[k] = ta, b[k] = tb, gap[k] = tg, y[k] = ty;
    }
  }
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < d; j++)
      Xm[i * d + j] =
          a[i] == b[i] ? X[(int64_t)a[i] * d + j]
                       : gr_smote_lerp(X[(int64_t)a[i] * d + j], X[(int64_t)b[i] * d + j], gap[i]);
    if (sw) sw[i] = (float)(1 + gr_rng_below(rng, 3));
  }
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.balanced = balanced;
  const gr_logreg_rows rows = {X, n_x, a, b, gap};
  gr_logreg_model *desc = calloc(M, sizeof *desc), *mat = calloc(M, sizeof *mat);
  CHECK_OK(gr_logreg_fit_groups_rows(ctx, &rows, y, sw, seg, M, d, &p, desc));
  CHECK_OK(gr_logreg_fit_groups(ctx, Xm, y, sw, seg, M, d, &p, mat));
  const double apart = model_distance(desc, mat, M, d);
  printf("described n %lld d %d: %.1e from the fit of the materialized float rows\n", (long long)n,
         d, apart);
  CHECK_MSG(apart <= 1e-6, "n %lld d %d: described rows fit a model %g from their copy's",
            (long long)n, d, apart);
  if (n < 20000) { /* budgets: small case only */
    check_budgets(ctx, &rows, y, sw, seg, M, d, &p, desc);
    const gr_logreg_rows own = {Xm, n, NULL, NULL, NULL};
    check_budgets(ctx, &own, y, sw, seg, M, d, &p, mat);
  } else { /* groups large enough for warm starts: one group per batch, once */
    int first[M + 1], too_big;
    size_t need, budget = (size_t)1 << 20;
    int nb = 0;
    while ((nb = gr_logreg_plan_batches(&rows, seg, M, d, &p, budget, first, &too_big, &need)) !=
               M &&
           budget < ((size_t)1 << 34))
      budget += budget / 16;
    CHECK_MSG(nb == M, "no budget gives one group per batch (%d batches)", nb);
    gr_logreg_params q = p;
    q.max_bytes = (int64_t)budget;
    gr_logreg_model *batched = calloc(M, sizeof *batched);
    CHECK_OK(gr_logreg_fit_groups_rows(ctx, &rows, y, sw, seg, M, d, &q, batched));
    CHECK_MSG(same_models(batched, desc, M, d), "warm-started groups fitted one per batch differ");
    free_models(batched, M);
  }
  gr_context *one = n < 20000 ? cpu_test_context(1) : NULL; /* threads: small case only */
  if (one) {
    gr_logreg_model *alone = calloc(M, sizeof *alone);
    CHECK_OK(gr_logreg_fit_groups_rows(one, &rows, y, sw, seg, M, d, &p, alone));
    CHECK_MSG(same_models(desc, alone, M, d), "described rows: 1 and 2 threads differ");
    free_models(alone, M);
    gr_context_free(one);
  }
  int k[M];
  for (int g = 0; g < M; g++)
    k[g] = 1;
  const groups G = {M, d, seg, Xm, sw, y, k};
  for (int g = 0; g < M && desc[g].w; g++) {
    gr_logreg_model ref = {0};
    CHECK_OK(reference(&G, g, &p, &ref));
    if (!ref.w) continue;
    double wmax;
    const double diff = coef_difference(&desc[g], &ref, d, &wmax);
    printf("described n %lld d %d sw %d balanced %d group %d: %d iterations (reference %d), max "
           "|coef| %.2f, max difference %.2e\n",
           (long long)n, d, with_sw, balanced, g, desc[g].iterations, ref.iterations, wmax, diff);
    CHECK_MSG(diff <= 1e-4, "described group %d differs from the reference by %g", g, diff);
    CHECK(wmax > 0.3 && wmax < 10);
    gr_logreg_model_free(&ref);
  }
  /* descriptors that leave X or a gap outside [0, 1] are refused */
  gr_logreg_model out[M];
  const int32_t keep = a[7];
  a[7] = (int32_t)n_x;
  CHECK(gr_logreg_fit_groups_rows(ctx, &rows, y, sw, seg, M, d, &p, out) == GR_ERR_INVALID_ARG);
  CHECK_MSG(strstr(gr_last_error(), "training row 7") != NULL, "%s", gr_last_error());
  a[7] = keep;
  int64_t syn = 0;
  while (a[syn] == b[syn])
    syn++;
  gap[syn] = -0.25f;
  CHECK(gr_logreg_fit_groups_rows(ctx, &rows, y, sw, seg, M, d, &p, out) == GR_ERR_INVALID_ARG);
  CHECK_MSG(strstr(gr_last_error(), "gap") != NULL, "%s", gr_last_error());
  free_models(desc, M);
  free_models(mat, M);
  free(X);
  free(lab);
  free(mu);
  free(a);
  free(b);
  free(pos);
  free(gap);
  free(Xm);
  free(sw);
  free(y);
}

int main(void) {
  gr_context *ctx = cpu_test_context(2);
  if (!ctx) return gr_test_finish();
  gr_rng rng;
  gr_rng_seed(&rng, 31);
  check_ops(ctx, &rng, 0.0);
  check_ops(ctx, &rng, 0.05);
  check_sampled_fit(ctx, &rng);
  check_against_reference(ctx, &rng, 3, 1.0, 0, 0);
  check_against_reference(ctx, &rng, 17, 0.3, 1, 0);
  check_against_reference(ctx, &rng, 17, 2.0, 0, 1);
  check_against_reference(ctx, &rng, 40, 1.0, 1, 1);
  check_threads_and_weights(&rng, GR_LOGREG_AUTO);
  check_errors(ctx, &rng);
  check_multi_chunk(ctx, &rng);
  check_warm_start(ctx, &rng);
  check_poor_warm_start(ctx, &rng);
  check_rare_clients(ctx, &rng);
  check_described(ctx, &rng, 3000, 19, 1, 0); /* small: no warm start; sample weights */
  check_described(ctx, &rng, 60000, 6, 0, 1); /* 135k rows: a described warm start */
  gr_context_free(ctx);
  return gr_test_finish();
}
