/* The batched logistic-regression operations on the CUDA backend against
 * the CPU twins, with seeded random inputs and the bounds stated where they
 * are checked, over X's own rows and over described rows (gr_lr_rows: real
 * rows picked from X, SMOTE-style synthetic rows between two of them, read
 * by pair: pairs of many rows, and groups of more than one pair chunk); then
 * gr_logreg_fit_groups and gr_logreg_fit_groups_rows through a CUDA
 * context against a CPU context (Newton and L-BFGS), also under a
 * device-memory budget small enough to force small row chunks. Exits 77 (skipped) when no GPU is
 * usable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_util.h"
#include "check.h"
#include "common/rng.h"
#include "gpu_required.h"
#include "host/logreg.h"
#include "host/logreg_pairs.h"
#include "host/logreg_plan.h"
#include "kernels/backend.h"
#include "kernels/shared_math.h"
#include "test_util.h"

static gr_backend *cpu, *gpu;

#define SENTINEL 7.0 /* outputs of inactive groups must keep it */

static double *filled(size_t n, double v) {
  double *a = malloc(sizeof(double) * (n ? n : 1));
  for (size_t i = 0; i < n; i++)
    a[i] = v;
  return a;
}

typedef struct lr_data {
  int m, d;
  int64_t *seg;
  float *X, *sw;
  uint8_t *y;
  double *theta, *cw;
  uint8_t *active;
  int64_t n_x;      /* rows of X */
  int32_t *ra, *rb; /* described rows (gr_lr_rows), or NULL */
  float *rgap;
} lr_data;

/* Training row i, coordinate j, as both backends must see it. */
static double x_at(const lr_data *a, int64_t i, int j) {
  const int d = a->d;
  if (!a->ra) return a->X[i * d + j];
  const double u = a->X[(int64_t)a->ra[i] * d + j];
  if (!a->rb || a->rb[i] == a->ra[i]) return u;
  return u + (double)a->rgap[i] * (a->X[(int64_t)a->rb[i] * d + j] - u);
}

/* Groups of 20000 rows (past one GPU chunk), 37, 5000 and 35000; x ~ N(0,1),
 * theta such that margins are O(1); group 1 inactive. described 0: X holds
 * the rows; 1: the rows are described over 4000 rows of X, 40% synthetic
 * (a uniform gap between one of 600 "clients" and one of its 5
 * neighbours: up to 3000 pairs per group, a few rows each, so more than
 * one pair chunk), the rest real
 * (b = a, the gap set but not to be read); 2: real rows only, b NULL. */
static lr_data random_data(gr_rng *rng, int d, int with_sw, int described) {
  const int64_t sizes[4] = {20000, 37, 5000, 35000};
  lr_data a = {4,    d,   malloc(sizeof(int64_t) * 5), NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
               NULL, NULL};
  a.seg[0] = 0;
  for (int g = 0; g < 4; g++)
    a.seg[g + 1] = a.seg[g] + sizes[g];
  const int64_t n = a.seg[4];
  const int D = d + 1;
  a.n_x = described ? 4000 : n;
  a.X = malloc(sizeof(float) * a.n_x * d);
  a.y = malloc((size_t)n);
  a.sw = with_sw ? malloc(sizeof(float) * n) : NULL;
  for (int64_t i = 0; i < a.n_x * d; i++)
    a.X[i] = (float)gr_rng_normal(rng);
  if (described) {
    a.ra = malloc(sizeof(int32_t) * n);
    a.rb = described == 1 ? malloc(sizeof(int32_t) * n) : NULL;
    a.rgap = described == 1 ? malloc(sizeof(float) * n) : NULL;
    for (int64_t i = 0; i < n; i++) {
      a.ra[i] = (int32_t)gr_rng_below(rng, (uint64_t)a.n_x);
      if (!a.rb) continue;
      a.rb[i] = a.ra[i];
      a.rgap[i] = (float)gr_rng_uniform(rng);
      if (gr_rng_uniform(rng) < 0.4) {
        a.ra[i] = (int32_t)gr_rng_below(rng, 600);
        a.rb[i] = (a.ra[i] + 1 + (int32_t)gr_rng_below(rng, 5)) % 600;
      }
    }
  }
  for (int64_t i = 0; i < n; i++) {
    a.y[i] = gr_rng_uniform(rng) < 0.3;
    if (a.sw) a.sw[i] = (float)(0.5 + 1.5 * gr_rng_uniform(rng));
  }
  a.theta = malloc(sizeof(double) * 4 * D);
  a.cw = malloc(sizeof(double) * 8);
  a.active = malloc(4);
  for (int g = 0; g < 4; g++) {
    for (int j = 0; j < d; j++)
      a.theta[g * D + j] = gr_rng_normal(rng) / sqrt((double)d);
    a.theta[g * D + d] = 0.3 * (g - 1.5);
    a.cw[2 * g] = 0.5 + gr_rng_uniform(rng);
    a.cw[2 * g + 1] = 1.0 + 2.0 * gr_rng_uniform(rng);
    a.active[g] = g != 1;
  }
  return a;
}

static void free_data(lr_data *a) {
  free(a->seg);
  free(a->X);
  free(a->sw);
  free(a->y);
  free(a->theta);
  free(a->cw);
  free(a->active);
  free(a->ra);
  free(a->rb);
  free(a->rgap);
}

/* Both passes on backend be: f from the objective, f2, g, H from grad_hess
 * (curvature sampling at tau; hess 0: no H, which must stay as it was);
 * the outputs start at SENTINEL. */
static void run_passes(gr_backend *be, const lr_data *a, double *f, double *f2, double *g,
                       double *H, double tau, int hess) {
  const int m = a->m, d = a->d, D = d + 1;
  const int64_t n = a->seg[m];
  float *X = put(be, a->X, sizeof(float) * a->n_x * d);
  int32_t *ra = a->ra ? put(be, a->ra, sizeof(int32_t) * n) : NULL;
  int32_t *rb = a->rb ? put(be, a->rb, sizeof(int32_t) * n) : NULL;
  float *rgap = a->rgap ? put(be, a->rgap, sizeof(float) * n) : NULL;
  gr_lr_pairs P = {0};
  if (a->rb) CHECK_OK(gr_lr_pairs_build(&P, a->ra, a->rb, a->seg, m));
  int32_t *pa = a->rb ? put(be, P.a, sizeof(int32_t) * (size_t)(P.n_pairs + 1)) : NULL;
  int32_t *pb = a->rb ? put(be, P.b, sizeof(int32_t) * (size_t)(P.n_pairs + 1)) : NULL;
  int64_t *ps = a->rb ? put(be, P.start, sizeof(int64_t) * (size_t)(P.n_pairs + 1)) : NULL;
  int64_t *pr = a->rb ? put(be, P.rows, sizeof(int64_t) * (size_t)(P.n_rows + 1)) : NULL;
  const gr_lr_rows desc = {ra, rb, rgap, a->rb ? P.seg : NULL, pa, pb, ps, pr, NULL};
  const gr_lr_rows *rows = a->ra ? &desc : NULL;
  uint8_t *y = put(be, a->y, (size_t)n);
  float *sw = a->sw ? put(be, a->sw, sizeof(float) * n) : NULL;
  double *theta = put(be, a->theta, sizeof(double) * m * D);
  double *gd = put(be, g, sizeof(double) * m * D);
  double *Hd = hess ? put(be, H, sizeof(double) * m * D * D) : NULL;
  CHECK_OK(be->ops->logreg_objective(be, f, theta, X, rows, y, sw, a->seg, a->cw, a->active, m, d));
  CHECK_OK(be->ops->logreg_grad_hess(be, gd, Hd, f2, theta, X, rows, y, sw, a->seg, a->cw,
                                     a->active, m, d, tau));
  get(be, g, gd, sizeof(double) * m * D);
  if (hess) get(be, H, Hd, sizeof(double) * m * D * D);
  drop(be, X);
  drop(be, ra);
  drop(be, rb);
  drop(be, rgap);
  drop(be, pa);
  drop(be, pb);
  drop(be, ps);
  drop(be, pr);
  gr_lr_pairs_free(&P);
  drop(be, y);
  drop(be, sw);
  drop(be, theta);
  drop(be, gd);
  drop(be, Hd);
}

/* The same rows are kept by curvature sampling on both backends (one hash
 * of the row index), so a sampled H is compared like an exact one. */
static void test_passes(gr_rng *rng, int d, int with_sw, int described, double tau, int hess) {
  lr_data a = random_data(rng, d, with_sw, described);
  const int m = a.m, D = d + 1;
  const size_t nh = (size_t)m * D * D;
  double *fc = filled(m, SENTINEL), *fc2 = filled(m, SENTINEL), *gc = filled(m * D, SENTINEL);
  double *fg = filled(m, SENTINEL), *fg2 = filled(m, SENTINEL), *gg = filled(m * D, SENTINEL);
  double *Hc = filled(nh, SENTINEL), *Hg = filled(nh, SENTINEL);
  run_passes(cpu, &a, fc, fc2, gc, Hc, tau, hess);
  run_passes(gpu, &a, fg, fg2, gg, Hg, tau, hess);
  for (int k = 0; k < m; k++) {
    const double *gk = gg + (size_t)k * D, *Hk = Hg + (size_t)k * D * D;
    if (!a.active[k]) {
      int kept = fg[k] == SENTINEL && fg2[k] == SENTINEL && fc[k] == SENTINEL && fc2[k] == SENTINEL;
      for (int j = 0; j < D; j++)
        kept &= gk[j] == SENTINEL && gc[(size_t)k * D + j] == SENTINEL;
      for (int e = 0; e < D * D; e++)
        kept &= Hk[e] == SENTINEL && Hc[(size_t)k * D * D + e] == SENTINEL;
      CHECK_MSG(kept, "d %d: inactive group %d was written", d, k);
      continue;
    }
    /* f: double sums of the same positive terms in another order, margins
     * as double dot products: 1e-10 relative is far above their rounding */
    CHECK_NEAR(fg[k], fc[k], 1e-10 * fabs(fc[k]));
    CHECK_NEAR(fg2[k], fc[k], 1e-10 * fabs(fc[k]));
    CHECK_NEAR(fc2[k], fc[k], 1e-12 * fabs(fc[k]));
    /* g: double sums of r_i x_ij in another order; the bound scales with
     * the sum of the terms' sizes c_i |x_ij|, of which the rounding of any
     * order is a tiny fraction (n eps) */
    int bad_g = 0, bad_h = 0;
    for (int j = 0; j < D; j++) {
      double scale = j < d ? fabs(a.theta[k * D + j]) : 0.0;
      for (int64_t i = a.seg[k]; i < a.seg[k + 1]; i++) {
        const double c = a.cw[2 * k + a.y[i]] * (a.sw ? a.sw[i] : 1.0);
        scale += c * (j < d ? fabs(x_at(&a, i, j)) : 1.0);
      }
      bad_g += !(fabs(gk[j] - gc[(size_t)k * D + j]) <= 1e-10 * scale);
    }
    /* H: float sums over chunks of <= 16384 rows (sgemm-class rounding,
     * ~sqrt(rows) eps of the terms' sizes), chunks added in double; every
     * term h x_a x_b is bounded by the diagonals: 1e-4 of sqrt(H_aa H_bb) */
    const double *Hck = Hc + (size_t)k * D * D;
    for (int r = 0; r < D; r++)
      for (int c = 0; c < D; c++) {
        if (!hess) { /* gradient only: H untouched */
          bad_h += Hk[r * D + c] != SENTINEL || Hck[r * D + c] != SENTINEL;
          continue;
        }
        const double tol = 1e-4 * sqrt(Hck[r * D + r] * Hck[c * D + c]);
        bad_h += !(fabs(Hk[r * D + c] - Hck[r * D + c]) <= tol);
        bad_h += Hk[r * D + c] != Hk[c * D + r]; /* both triangles, symmetric */
      }
    CHECK_MSG(bad_g == 0, "d %d sw %d described %d group %d: %d gradient entries differ", d,
              with_sw, described, k, bad_g);
    CHECK_MSG(bad_h == 0, "d %d sw %d described %d group %d: %d Hessian entries differ", d, with_sw,
              described, k, bad_h);
  }
  free(fc);
  free(fc2);
  free(gc);
  free(fg);
  free(fg2);
  free(gg);
  free(Hc);
  free(Hg);
  free_data(&a);
}

// ---- the batched solve -------------------------------------------------------

/* Well-conditioned SPD systems (B B^T / D + I, condition < 10): a double
 * Cholesky solve is backward stable, so any two agree to ~D eps; 1e-10 of
 * |x| is far above that. Group 2 inactive (step keeps SENTINEL). */
static void test_solve(gr_rng *rng, int D) {
  const int m = 4;
  const size_t nh = (size_t)m * D * D;
  double *H = malloc(sizeof(double) * nh), *B = malloc(sizeof(double) * D * D);
  double *rhs = malloc(sizeof(double) * m * D);
  for (int k = 0; k < m; k++) {
    for (int e = 0; e < D * D; e++)
      B[e] = gr_rng_normal(rng);
    double *Hk = H + (size_t)k * D * D;
    for (int r = 0; r < D; r++)
      for (int c = 0; c < D; c++) {
        double s = r == c ? 1.0 : 0.0;
        for (int t = 0; t < D; t++)
          s += B[r * D + t] * B[c * D + t] / D;
        Hk[r * D + c] = s;
      }
    for (int j = 0; j < D; j++)
      rhs[k * D + j] = gr_rng_normal(rng);
  }
  const uint8_t active[4] = {1, 1, 0, 1};
  /* then a second right-hand side: groups 0 and 3 reuse their factors,
   * group 1 gets its matrix again and is factored anew */
  const uint8_t factored[4] = {1, 0, 0, 1};
  double *rhs2 = malloc(sizeof(double) * m * D);
  for (int j = 0; j < m * D; j++)
    rhs2[j] = gr_rng_normal(rng);
  double *out[2], *out2[2];
  gr_backend *bes[2] = {cpu, gpu};
  for (int b = 0; b < 2; b++) {
    gr_backend *be = bes[b];
    out[b] = filled(m * D, SENTINEL);
    out2[b] = filled(m * D, SENTINEL);
    double *Hd = put(be, H, sizeof(double) * nh), *rd = put(be, rhs, sizeof(double) * m * D);
    double *sd = put(be, out[b], sizeof(double) * m * D);
    CHECK_OK(be->ops->spd_solve_batched(be, sd, Hd, rd, active, NULL, m, D));
    get(be, out[b], sd, sizeof(double) * m * D);
    CHECK_OK(be->ops->upload(be, Hd + (size_t)D * D, H + (size_t)D * D, sizeof(double) * D * D));
    CHECK_OK(be->ops->upload(be, rd, rhs2, sizeof(double) * m * D));
    CHECK_OK(be->ops->upload(be, sd, out2[b], sizeof(double) * m * D));
    CHECK_OK(be->ops->spd_solve_batched(be, sd, Hd, rd, active, factored, m, D));
    get(be, out2[b], sd, sizeof(double) * m * D);
    drop(be, Hd);
    drop(be, rd);
    drop(be, sd);
  }
  for (int k = 0; k < m; k++) { /* the second solve against H itself */
    double res = 0.0, rn = 0.0, diff = 0.0, norm = 0.0;
    for (int j = 0; j < D; j++) {
      diff = fmax(diff, fabs(out2[0][k * D + j] - out2[1][k * D + j]));
      norm = fmax(norm, fabs(out2[0][k * D + j]));
      for (int b = 0; b < 2 && active[k]; b++) {
        double s = 0.0;
        for (int t = 0; t < D; t++)
          s += H[(size_t)k * D * D + j * D + t] * out2[b][k * D + t];
        res = fmax(res, fabs(s - rhs2[k * D + j]));
      }
      rn = fmax(rn, fabs(rhs2[k * D + j]));
    }
    if (!active[k]) {
      CHECK(out2[0][k * D] == SENTINEL && out2[1][k * D] == SENTINEL);
      continue;
    }
    CHECK_MSG(diff <= 1e-10 * norm, "D %d system %d, factor reused: cpu and gpu differ by %g", D, k,
              diff);
    CHECK_MSG(res <= 1e-10 * rn * D, "D %d system %d, factor reused: residual %g", D, k, res);
  }
  free(out2[0]);
  free(out2[1]);
  free(rhs2);
  for (int k = 0; k < m; k++) {
    const double *xc = out[0] + k * D, *xg = out[1] + k * D;
    double diff = 0.0, norm = 0.0, res = 0.0, rn = 0.0;
    for (int j = 0; j < D; j++) {
      diff = fmax(diff, fabs(xc[j] - xg[j]));
      norm = fmax(norm, fabs(xc[j]));
      if (!active[k]) continue;
      double s = 0.0;
      for (int t = 0; t < D; t++)
        s += H[(size_t)k * D * D + j * D + t] * xg[t];
      res = fmax(res, fabs(s - rhs[k * D + j]));
      rn = fmax(rn, fabs(rhs[k * D + j]));
    }
    if (!active[k]) {
      CHECK_MSG(xc[0] == SENTINEL && xg[0] == SENTINEL && xg[D - 1] == SENTINEL,
                "D %d: inactive system %d was solved", D, k);
      continue;
    }
    CHECK_MSG(diff <= 1e-10 * norm, "D %d system %d: cpu and gpu differ by %g", D, k, diff);
    CHECK_MSG(res <= 1e-10 * rn * D, "D %d system %d: residual %g", D, k, res);
  }
  /* system 3 not positive definite: both backends name it */
  for (int e = 0; e < D * D; e++)
    H[(size_t)3 * D * D + e] = e % (D + 1) == 0 ? -1.0 : 0.0;
  for (int b = 0; b < 2; b++) {
    gr_backend *be = bes[b];
    double *Hd = put(be, H, sizeof(double) * nh), *rd = put(be, rhs, sizeof(double) * m * D);
    double *sd = put(be, out[b], sizeof(double) * m * D);
    const gr_status st = be->ops->spd_solve_batched(be, sd, Hd, rd, NULL, NULL, m, D);
    CHECK_MSG(st == GR_ERR_NUMERIC && strstr(gr_last_error(), "group 3"), "%s D %d: %s: %s",
              be->ops->name, D, gr_status_str(st), gr_last_error());
    drop(be, Hd);
    drop(be, rd);
    drop(be, sd);
  }
  free(out[0]);
  free(out[1]);
  free(H);
  free(B);
  free(rhs);
}

// ---- the whole fit -----------------------------------------------------------

/* Class-conditional Gaussians per group (a planted logistic model); the
 * backends differ only in summation order and in the float Hessian, which
 * moves Newton's path but not its fixed point: 1e-4 as for the reference. */
static void test_fit(gr_rng *rng, int d, gr_logreg_solver solver) {
  const int m = 5;
  int64_t seg[6] = {0};
  const int64_t sizes[5] = {30000, 900, 12000, 250, 40000};
  for (int g = 0; g < m; g++)
    seg[g + 1] = seg[g] + sizes[g];
  const int64_t n = seg[m];
  float *X = malloc(sizeof(float) * n * d), *sw = malloc(sizeof(float) * n);
  uint8_t *y = malloc((size_t)n);
  double *mu = malloc(sizeof(double) * d);
  for (int g = 0; g < m; g++) {
    for (int j = 0; j < d; j++)
      mu[j] = 1.5 * gr_rng_normal(rng) / sqrt((double)d);
    for (int64_t i = seg[g]; i < seg[g + 1]; i++) {
      y[i] = gr_rng_uniform(rng) < 0.2 + 0.1 * g;
      sw[i] = (float)(0.5 + gr_rng_uniform(rng));
      for (int j = 0; j < d; j++)
        X[i * d + j] = (float)((y[i] ? 0.5 : -0.5) * mu[j] + gr_rng_normal(rng));
    }
  }
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.solver = solver;
  p.balanced = 1;
  p.C = 0.5;
  /* the budget holds X and a few thousand scaled rows: several chunks */
  const size_t small = sizeof(float) * n * d + ((size_t)8 << 20);
  gr_context *ctxs[3] = {test_context(GR_DEVICE_CPU, 2, 0), test_context(GR_DEVICE_CUDA, 2, 0),
                         test_context(GR_DEVICE_CUDA, 2, small)};
  gr_logreg_model *out[3];
  for (int c = 0; c < 3; c++) {
    out[c] = calloc(m, sizeof(gr_logreg_model));
    if (ctxs[c]) CHECK_OK(gr_logreg_fit_groups(ctxs[c], X, y, sw, seg, m, d, &p, out[c]));
  }
  for (int c = 1; c < 3; c++) {
    for (int g = 0; g < m && out[0][g].w && out[c][g].w; g++) {
      double diff = fabs(out[c][g].b - out[0][g].b);
      for (int j = 0; j < d; j++)
        diff = fmax(diff, fabs(out[c][g].w[j] - out[0][g].w[j]));
      printf("%s d %d group %d (%s budget): %d iterations (cpu %d), max difference %.2e\n",
             gr_logreg_solver_name(gr_logreg_solver_for(&p, d)), d, g, c == 1 ? "full" : "small",
             out[c][g].iterations, out[0][g].iterations, diff);
      CHECK_MSG(diff <= 1e-4, "d %d group %d: cuda differs from cpu by %g", d, g, diff);
    }
  }
  for (int c = 0; c < 3; c++) {
    for (int g = 0; g < m; g++)
      gr_logreg_model_free(&out[c][g]);
    free(out[c]);
    gr_context_free(ctxs[c]);
  }
  free(X);
  free(sw);
  free(y);
  free(mu);
}

/* The same over described rows: 141,150 training rows (so the described
 * warm start runs too) over 20,000 market-like rows of X with planted
 * labels; each group draws real rows anywhere in X (rows shared between
 * groups) and synthetic positives between two of X's positives. */
static void test_fit_described(gr_rng *rng, int d, gr_logreg_solver solver) {
  enum { M = 5 };
  const int64_t n_x = 20000, sizes[M] = {60000, 900, 30000, 250, 50000};
  int64_t seg[M + 1] = {0};
  for (int g = 0; g < M; g++)
    seg[g + 1] = seg[g] + sizes[g];
  const int64_t n = seg[M];
  float *X = malloc(sizeof(float) * n_x * d), *gap = malloc(sizeof(float) * n);
  float *sw = malloc(sizeof(float) * n);
  int32_t *a = malloc(sizeof(int32_t) * n), *b = malloc(sizeof(int32_t) * n);
  int32_t *pos = malloc(sizeof(int32_t) * n_x);
  uint8_t *lab = malloc((size_t)n_x), *y = malloc((size_t)n);
  double *mu = malloc(sizeof(double) * d);
  for (int j = 0; j < d; j++)
    mu[j] = 1.5 * gr_rng_normal(rng) / sqrt((double)d);
  int64_t np = 0, n_syn = 0;
  for (int64_t r = 0; r < n_x; r++) {
    lab[r] = gr_rng_uniform(rng) < 0.2;
    if (lab[r]) pos[np++] = (int32_t)r;
    for (int j = 0; j < d; j++)
      X[r * d + j] = (float)((lab[r] ? 0.5 : -0.5) * mu[j] + gr_rng_normal(rng));
  }
  for (int64_t i = 0; i < n; i++) {
    sw[i] = (float)(0.5 + gr_rng_uniform(rng));
    gap[i] = (float)gr_rng_uniform(rng);
    if (gr_rng_uniform(rng) < 0.3) { /* synthetic */
      a[i] = pos[gr_rng_below(rng, (uint64_t)np)];
      do
        b[i] = pos[gr_rng_below(rng, (uint64_t)np)];
      while (b[i] == a[i]);
      y[i] = 1;
      n_syn++;
    } else {
      a[i] = b[i] = (int32_t)gr_rng_below(rng, (uint64_t)n_x);
      y[i] = lab[a[i]];
    }
  }
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.solver = solver;
  p.balanced = 1;
  p.C = 0.5;
  /* X, the descriptors, labels and weights, the pairs, and a few thousand
   * scaled rows */
  const size_t small =
      sizeof(float) * n_x * d + (size_t)17 * n + (size_t)24 * n_syn + ((size_t)8 << 20);
  gr_context *ctxs[3] = {test_context(GR_DEVICE_CPU, 2, 0), test_context(GR_DEVICE_CUDA, 2, 0),
                         test_context(GR_DEVICE_CUDA, 2, small)};
  const gr_logreg_rows rows = {X, n_x, a, b, gap};
  gr_logreg_model *out[3];
  for (int c = 0; c < 3; c++) {
    out[c] = calloc(M, sizeof(gr_logreg_model));
    if (ctxs[c]) CHECK_OK(gr_logreg_fit_groups_rows(ctxs[c], &rows, y, sw, seg, M, d, &p, out[c]));
  }
  for (int c = 1; c < 3; c++) {
    for (int g = 0; g < M && out[0][g].w && out[c][g].w; g++) {
      double diff = fabs(out[c][g].b - out[0][g].b);
      for (int j = 0; j < d; j++)
        diff = fmax(diff, fabs(out[c][g].w[j] - out[0][g].w[j]));
      printf("%s described d %d group %d (%s budget): %d iterations (cpu %d), max difference "
             "%.2e\n",
             gr_logreg_solver_name(gr_logreg_solver_for(&p, d)), d, g, c == 1 ? "full" : "small",
             out[c][g].iterations, out[0][g].iterations, diff);
      CHECK_MSG(diff <= 1e-4, "described d %d group %d: cuda differs from cpu by %g", d, g, diff);
    }
  }
  /* batches of groups under max_bytes, the device memory ample: the op's
   * row chunks are the group's own, so the models are the resident fit's
   * bit for bit */
  if (ctxs[1]) {
    /* the budget giving the most batches: the two small groups (900 and
     * 250 rows) share a batch with a neighbour at any budget the steps
     * of 1/16 reach, so 3 batches at most (the planner's own arithmetic,
     * checked on the CPU) */
    int first[M + 1], too_big, nb = 0;
    size_t need, budget = 0;
    for (size_t bb = (size_t)1 << 16; bb < ((size_t)1 << 34) && nb < M; bb += bb / 16) {
      const int got = gr_logreg_plan_batches(&rows, seg, M, d, &p, bb, first, &too_big, &need);
      if (got > nb) {
        nb = got;
        budget = bb;
      }
    }
    gr_logreg_params q = p;
    q.max_bytes = (int64_t)budget;
    gr_logreg_model *batched = calloc(M, sizeof(gr_logreg_model));
    CHECK_OK(gr_logreg_fit_groups_rows(ctxs[1], &rows, y, sw, seg, M, d, &q, batched));
    for (int g = 0; g < M && batched[g].w && out[1][g].w; g++) {
      int same = batched[g].b == out[1][g].b && batched[g].iterations == out[1][g].iterations;
      for (int j = 0; j < d; j++)
        same &= batched[g].w[j] == out[1][g].w[j];
      CHECK_MSG(same, "described d %d group %d: %d batches differ from resident", d, g, nb);
    }
    CHECK_MSG(nb >= 3, "%d batches at most", nb);
    for (int g = 0; g < M; g++)
      gr_logreg_model_free(&batched[g]);
    free(batched);
  }
  for (int c = 0; c < 3; c++) {
    for (int g = 0; g < M; g++)
      gr_logreg_model_free(&out[c][g]);
    free(out[c]);
    gr_context_free(ctxs[c]);
  }
  free(X);
  free(gap);
  free(sw);
  free(a);
  free(b);
  free(pos);
  free(lab);
  free(y);
  free(mu);
}

int main(void) {
  CHECK_OK(gr_backend_cpu_create(&cpu, 2));
  if (gr_backend_cuda_create(&gpu, 0, 0, 0) != GR_OK) {
    const int rc = gr_test_no_gpu(gr_last_error());
    if (cpu) cpu->ops->destroy(cpu);
    return rc;
  }
  gr_rng rng;
  gr_rng_seed(&rng, 20240611);
  const int ds[4] = {1, 45, 64, 300};
  for (int t = 0; t < 4; t++)
    test_passes(&rng, ds[t], t % 2, 0, 0.0, 1);
  for (int t = 0; t < 4; t++)
    test_passes(&rng, ds[t], (t + 1) % 2, 1 + (t == 2), 0.0, 1);
  for (int t = 0; t < 4; t++) /* curvature sampling; gradient-only passes */
    test_passes(&rng, ds[t], t % 2, t % 3, 0.05, 1);
  test_passes(&rng, 45, 1, 1, 0.0, 0);
  test_passes(&rng, 300, 0, 2, 0.0, 0);
  const int Ds[4] = {1, 7, 64, 301};
  for (int t = 0; t < 4; t++)
    test_solve(&rng, Ds[t]);
  test_fit(&rng, 30, GR_LOGREG_AUTO);
  test_fit(&rng, 129, GR_LOGREG_AUTO);
  test_fit(&rng, 129, GR_LOGREG_LBFGS);
  test_fit_described(&rng, 30, GR_LOGREG_AUTO);
  test_fit_described(&rng, 190, GR_LOGREG_AUTO);
  test_fit_described(&rng, 190, GR_LOGREG_LBFGS);
  cpu->ops->destroy(cpu);
  gpu->ops->destroy(gpu);
  return gr_test_finish();
}
