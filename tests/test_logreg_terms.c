/* The CPU's vectorized logistic terms (kernels/cpu/logreg_terms.h): its
 * exp and log1p within 2 ulp of libm's over their whole ranges, edges
 * included, and the 8-row terms within rounding of gr_logreg_row. */
#include <math.h>

#include "check.h"
#include "common/rng.h"
#include "kernels/cpu/logreg_terms.h"
#include "kernels/shared_math.h"

/* |a - b| in units of b's last place (0 when equal). */
static double ulps(double a, double b) {
  if (a == b) return 0;
  const double b_abs = fabs(b), ulp = nextafter(b_abs, INFINITY) - b_abs;
  return fabs(a - b) / ulp;
}

static void test_exp(gr_rng *rng) {
  double worst = 0, at = 0;
  const double spans[5] = {1e-12, 1e-3, 1.0, 40.0, 708.0}; /* the normal range */
  for (int i = 0; i < 1000000; i++) {
    const double x = -gr_rng_uniform(rng) * spans[i % 5];
    const double u = ulps(gr_lr_exp_nonpos(x), exp(x));
    if (u > worst) worst = u, at = x;
  }
  CHECK_MSG(worst <= 2, "exp: %.2f ulp at %.17g", worst, at);
  CHECK(gr_lr_exp_nonpos(0.0) == 1.0 && gr_lr_exp_nonpos(-0.0) == 1.0);
  CHECK(gr_lr_exp_nonpos(-800.0) == 0.0 && gr_lr_exp_nonpos(-INFINITY) == 0.0);
  /* subnormal results: within one of the smallest subnormal */
  for (double x = -708.5; x > -745.0; x -= 0.37) {
    const double a = gr_lr_exp_nonpos(x), b = exp(x);
    CHECK_MSG(b >= 0x1p-1022 ? ulps(a, b) <= 2 : fabs(a - b) <= 0x1p-1074, "exp(%g): %g vs %g", x,
              a, b);
  }
}

static void test_log1p(gr_rng *rng) {
  double worst = 0, at = 0;
  for (int i = 0; i < 1000000; i++) {
    double t = gr_rng_uniform(rng);
    if (i % 3 == 1) t *= 1e-9;
    if (i % 3 == 2) t = exp(-40 * gr_rng_uniform(rng)); /* as the terms use it */
    const double u = ulps(gr_lr_log1p_unit(t), log1p(t));
    if (u > worst) worst = u, at = t;
  }
  CHECK_MSG(worst <= 2, "log1p: %.2f ulp at %.17g", worst, at);
  CHECK(gr_lr_log1p_unit(0.0) == 0.0);
  CHECK(ulps(gr_lr_log1p_unit(1.0), log1p(1.0)) <= 2);
}

static void test_terms(gr_rng *rng) {
  double worst = 0;
  for (int i = 0; i < 20000; i++) {
    double z[GR_LR_LANES], c[GR_LR_LANES], loss[GR_LR_LANES], r[GR_LR_LANES], h[GR_LR_LANES];
    int y[GR_LR_LANES];
    for (int k = 0; k < GR_LR_LANES; k++) {
      const double scale = k < 2 ? 800.0 : k < 5 ? 30.0 : 1e-3; /* past exp's range too */
      z[k] = (2 * gr_rng_uniform(rng) - 1) * scale;
      y[k] = gr_rng_uniform(rng) < 0.5;
      c[k] = 0.1 + 10 * gr_rng_uniform(rng);
    }
    gr_lr_terms8(z, y, c, loss, r, h);
    for (int k = 0; k < GR_LR_LANES; k++) {
      const gr_logreg_terms t = gr_logreg_row(z[k], y[k], c[k]);
      const double got[3] = {loss[k], r[k], h[k]}, want[3] = {t.loss, t.r, t.h};
      for (int q = 0; q < 3; q++) {
        const double e = fabs(got[q] - want[q]) / (fabs(want[q]) + 1e-300);
        worst = e > worst ? e : worst;
        CHECK_MSG(e <= 2e-15 || (want[q] == 0 && got[q] == 0),
                  "z %g y %d c %g term %d: %.17g vs %.17g", z[k], y[k], c[k], q, got[q], want[q]);
      }
    }
  }
  CHECK(worst > 0); /* the two are computed differently: not a copy of one another */
}

int main(void) {
  gr_rng rng;
  gr_rng_seed(&rng, 2024);
  test_exp(&rng);
  test_log1p(&rng);
  test_terms(&rng);
  return gr_test_finish();
}
