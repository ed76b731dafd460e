/* Logistic regression (Newton, double): an exactly solvable case, the
 * optimality condition on random data with and without balanced weights,
 * and the errors. */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/logreg.h"

/* Gradient of scikit-learn's objective, recomputed here independently. */
static double max_gradient(const gr_logreg_model *m, const float *X, const uint8_t *y, int64_t n,
                           int d, double C, int balanced) {
  int64_t n_pos = 0;
  for (int64_t i = 0; i < n; i++)
    n_pos += y[i];
  double *g = calloc((size_t)d + 1, sizeof(double));
  for (int j = 0; j < d; j++)
    g[j] = m->w[j];
  for (int64_t i = 0; i < n; i++) {
    double z = m->b;
    for (int j = 0; j < d; j++)
      z += m->w[j] * X[i * d + j];
    const double sw = balanced ? (double)n / (2.0 * (double)(y[i] ? n_pos : n - n_pos)) : 1.0;
    const double r = C * sw * (1.0 / (1.0 + exp(-z)) - y[i]);
    for (int j = 0; j < d; j++)
      g[j] += r * X[i * d + j];
    g[d] += r;
  }
  double gmax = 0;
  for (int j = 0; j <= d; j++)
    gmax = fmax(gmax, fabs(g[j]));
  free(g);
  return gmax;
}

int main(void) {
  /* x = +1: 3 positives, 1 negative; x = -1: 1 positive, 3 negatives. By
   * symmetry b = 0, and w solves w + C (8 sigmoid(w) - 6) = 0. */
  const float X1[8] = {1, 1, 1, 1, -1, -1, -1, -1};
  const uint8_t y1[8] = {1, 1, 1, 0, 1, 0, 0, 0};
  const double C = 0.7;
  double lo = 0, hi = 10;
  for (int it = 0; it < 200; it++) {
    const double mid = 0.5 * (lo + hi);
    if (mid + C * (8 / (1 + exp(-mid)) - 6) > 0) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  p.C = C;
  gr_logreg_model m = {0};
  CHECK_OK(gr_logreg_fit(X1, y1, 8, 1, &p, &m));
  if (m.w) {
    CHECK_NEAR(m.w[0], 0.5 * (lo + hi), 1e-8);
    CHECK_NEAR(m.b, 0, 1e-8);
    float prob[2];
    const float xs[2] = {1, -1};
    gr_logreg_predict(&m, xs, 2, prob);
    CHECK_NEAR(prob[0] + prob[1], 1, 1e-6);
  }
  gr_logreg_model_free(&m);

  /* random, imbalanced data: the solution has a zero gradient */
  const int64_t n = 600;
  const int d = 5;
  float *X = malloc(sizeof(float) * n * d);
  uint8_t *y = malloc((size_t)n);
  gr_rng rng;
  gr_rng_seed(&rng, 8);
  for (int64_t i = 0; i < n; i++) {
    double z = -2.5;
    for (int j = 0; j < d; j++) {
      X[i * d + j] = (float)gr_rng_normal(&rng);
      z += (j + 1) * 0.4 * X[i * d + j];
    }
    y[i] = gr_rng_uniform(&rng) < 1 / (1 + exp(-z));
  }
  for (int balanced = 0; balanced <= 1; balanced++) {
    p.C = 2.0;
    p.balanced = balanced;
    CHECK_OK(gr_logreg_fit(X, y, n, d, &p, &m));
    if (m.w) {
      const double g = max_gradient(&m, X, y, n, d, p.C, balanced);
      CHECK_MSG(g < 1e-6, "gradient %g at the solution (balanced %d)", g, balanced);
      CHECK_MSG(m.iterations < 30, "%d Newton steps, gradient %g", m.iterations, m.grad_norm);
      CHECK(m.stop == GR_LOGREG_STOP_GRADIENT && gr_logreg_converged(&m));
      /* the signal's direction: coefficients grow with j */
      CHECK(m.w[4] > m.w[0] && m.w[0] > 0);
    }
    static double b_unbalanced;
    if (!balanced) b_unbalanced = m.b;
    if (balanced) CHECK(m.b > b_unbalanced); /* up-weighting the rare class raises the intercept */
    gr_logreg_model_free(&m);
  }
  /* one class only, bad C */
  memset(y, 0, (size_t)n);
  CHECK(gr_logreg_fit(X, y, n, d, &p, &m) == GR_ERR_INVALID_ARG);
  y[0] = 1;
  p.C = 0;
  CHECK(gr_logreg_fit(X, y, n, d, &p, &m) == GR_ERR_INVALID_ARG);
  free(X);
  free(y);
  return gr_test_finish();
}
