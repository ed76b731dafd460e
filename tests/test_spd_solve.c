/* The CPU batched SPD solve (backend.h: spd_solve_batched), the Newton
 * systems of the logistic regressions: each active system solved against
 * its matrix, inactive ones untouched, and a second right-hand side solved
 * with the factors the first solve left (the lazy Hessian steps of
 * host/logreg_groups.c) while another system is factored anew. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "common/error.h"
#include "common/rng.h"
#include "kernels/backend.h"

#define SENTINEL 7.0

/* max over the active systems of |H x - rhs| / |rhs|, each x (m, D). */
static double worst_residual(const double *H, const double *x, const double *rhs,
                             const uint8_t *active, int m, int D) {
  double worst = 0.0;
  for (int k = 0; k < m; k++) {
    if (!active[k]) continue;
    double res = 0.0, rn = 0.0;
    for (int j = 0; j < D; j++) {
      double s = 0.0;
      for (int t = 0; t < D; t++)
        s += H[(size_t)k * D * D + j * D + t] * x[k * D + t];
      res = fmax(res, fabs(s - rhs[k * D + j]));
      rn = fmax(rn, fabs(rhs[k * D + j]));
    }
    worst = fmax(worst, res / rn);
  }
  return worst;
}

static void test_solve(gr_backend *be, gr_rng *rng, int D) {
  enum { M = 4 };
  const size_t nh = (size_t)M * D * D;
  double *H = malloc(sizeof(double) * nh), *work = malloc(sizeof(double) * nh);
  double *rhs = malloc(sizeof(double) * M * D * 2), *rhs2 = rhs + M * D;
  double *x = malloc(sizeof(double) * M * D);
  for (int k = 0; k < M; k++) { /* B B^T / D + I: condition < 10 */
    double *B = work;
    for (int e = 0; e < D * D; e++)
      B[e] = gr_rng_normal(rng);
    for (int r = 0; r < D; r++)
      for (int c = 0; c < D; c++) {
        double s = r == c ? 1.0 : 0.0;
        for (int t = 0; t < D; t++)
          s += B[r * D + t] * B[c * D + t] / D;
        H[(size_t)k * D * D + r * D + c] = s;
      }
  }
  for (int j = 0; j < 2 * M * D; j++)
    rhs[j] = gr_rng_normal(rng);
  const uint8_t active[M] = {1, 1, 0, 1}, factored[M] = {1, 0, 0, 1};
  memcpy(work, H, sizeof(double) * nh);
  for (int j = 0; j < M * D; j++)
    x[j] = SENTINEL;
  CHECK_OK(be->ops->spd_solve_batched(be, x, work, rhs, active, NULL, M, D));
  CHECK_MSG(worst_residual(H, x, rhs, active, M, D) <= 1e-12 * D, "D %d: first solve", D);
  CHECK(x[2 * D] == SENTINEL && x[3 * D - 1] == SENTINEL);
  /* work now holds the factors of 0, 1 and 3; 1 gets its matrix back */
  memcpy(work + (size_t)D * D, H + (size_t)D * D, sizeof(double) * D * D);
  CHECK_OK(be->ops->spd_solve_batched(be, x, work, rhs2, active, factored, M, D));
  CHECK_MSG(worst_residual(H, x, rhs2, active, M, D) <= 1e-12 * D, "D %d: factors reused", D);
  CHECK(x[2 * D] == SENTINEL);
  /* without the flag the factors would be factored again: a failure or
   * wrong answers, which is what the flag keeps from happening above */
  if (D > 1) {
    const gr_status st = be->ops->spd_solve_batched(be, x, work, rhs2, active, NULL, M, D);
    gr_clear_error();
    CHECK(st != GR_OK || worst_residual(H, x, rhs2, active, M, D) > 1e-6);
  }
  free(H);
  free(work);
  free(rhs);
  free(x);
}

int main(void) {
  gr_backend *be = NULL;
  CHECK_OK(gr_backend_cpu_create(&be, 2));
  if (!be) return gr_test_finish();
  gr_rng rng;
  gr_rng_seed(&rng, 91);
  const int sizes[4] = {1, 2, 7, 40};
  for (int i = 0; i < 4; i++)
    test_solve(be, &rng, sizes[i]);
  be->ops->destroy(be);
  return gr_test_finish();
}
