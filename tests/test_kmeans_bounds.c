/* The bounded KMeans step (backend.h: kmeans_step_bounded) against the
 * plain assignment, through a sequence of center moves, small and large:
 * the labels are kmeans_assign's at every step, bit for bit; the
 * fixed-point sums kept from the deltas equal the sums recomputed from
 * scratch, exactly; small moves skip most rows, a jump fewer. And whole
 * fits with and without the bounds, on planted and on random shapes: the
 * same labels and iterations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/kmeans.h"
#include "kernels/backend.h"
#include "kernels/shared_math.h"
#include "kmeans_bounded_run.h"
#include "test_util.h"

enum { NR = 20000, ND = 24 };

/* Rows around `blobs` random centers, close enough to overlap, so that
 * many rows sit near a boundary. */
static void make_rows(float *X, int blobs, gr_rng *rng) {
  float mu[8][ND];
  for (int b = 0; b < blobs; b++)
    for (int j = 0; j < ND; j++)
      mu[b][j] = (float)(2.0 * gr_rng_normal(rng));
  for (int r = 0; r < NR; r++)
    for (int j = 0; j < ND; j++)
      X[(size_t)r * ND + j] = mu[r % blobs][j] + (float)gr_rng_normal(rng);
}

static void test_steps(int k) {
  static float X[NR * ND], xn[NR];
  gr_backend *be = NULL;
  CHECK_OK(gr_backend_cpu_create(&be, 2));
  if (!be) return;
  CHECK(be->ops->kmeans_step_bounded != NULL);
  gr_rng rng;
  gr_rng_seed(&rng, 31 + (uint64_t)k);
  make_rows(X, 4, &rng);
  CHECK_OK(be->ops->kmeans_row_norms(be, xn, X, NR, ND));
  km_bounded_run r;
  if (!km_bounded_open(&r, X, NR, ND, k)) {
    be->ops->destroy(be);
    return;
  }
  const size_t kd = (size_t)k * ND;
  float *C = r.C;
  for (int c = 0; c < k; c++) /* centers on rows; center 1 duplicates center 0 (ties) */
    memcpy(C + c * ND, X + (size_t)(c == 1 ? 0 : c * 331) * ND, sizeof(float) * ND);
  for (int step = 0; step < 8; step++) {
    km_bounded_check_step(&r, be, X, xn, NULL, step);
    CHECK(r.ref_count[1] == 0); /* the duplicate loses every tie */
    /* even steps move one center far, odd ones nudge every center a little;
     * the rows of the duplicate centers are scored every time */
    if (step >= 2 && step % 2 == 0)
      CHECK_MSG(r.b.scored < NR / 2, "k=%d step %d: %lld of %d rows scored after a nudge", k, step,
                (long long)r.b.scored, NR);
    if (step >= 1 && step % 2 == 1)
      CHECK_MSG(r.b.scored > NR / 20, "k=%d step %d: a jump rescored only %lld rows", k, step,
                (long long)r.b.scored);
    if (step % 2 == 0) {
      const int c = 2 + step % (k - 2);
      memcpy(C + c * ND, X + (size_t)(7919 * (step + 1) % NR) * ND, sizeof(float) * ND);
    } else {
      for (size_t i = 0; i < kd; i++)
        C[i] += (float)(0.01 * gr_rng_normal(&rng));
      memcpy(C + ND, C, sizeof(float) * ND); /* still a duplicate */
    }
  }
  km_bounded_close(&r);
  be->ops->destroy(be);
}

/* A fit with the bounds and one without: the same labels and iterations,
 * inertia within rounding (the sums differ in the last bits). `wide`: one
 * column's values near 1, but a few near 1e9, which one int64 per value
 * would have kept to about 1e-4. */
static void test_fit(int k, int wide) {
  static float X[NR * ND];
  gr_rng rng;
  gr_rng_seed(&rng, 77 + (uint64_t)k);
  make_rows(X, 6, &rng);
  for (int r = 0; wide && r < NR; r++)
    X[(size_t)r * ND + 3] = r % 2000 == 0 ? 1e9f + (float)r : 1.0f + 0.001f * (float)(r % 7);
  gr_context *ctx = cpu_test_context(2);
  if (!ctx) return;
  gr_kmeans_params p;
  gr_kmeans_params_default(&p);
  p.k = k;
  p.n_init = 2;
  gr_kmeans_result with = {0}, without = {0};
  CHECK_OK(gr_kmeans_fit(ctx, X, NR, ND, &p, &with));
  p.bounds = 0;
  CHECK_OK(gr_kmeans_fit(ctx, X, NR, ND, &p, &without));
  if (with.labels && without.labels) {
    CHECK_MSG(with.iterations == without.iterations && with.iterations >= 1,
              "k=%d wide=%d: %d and %d iterations", k, wide, with.iterations, without.iterations);
    CHECK_NEAR(with.inertia, without.inertia, 1e-9 * without.inertia);
    CHECK(memcmp(with.labels, without.labels, sizeof(int32_t) * NR) == 0);
    double worst = 0;
    for (int i = 0; i < k * ND; i++)
      worst = fmax(worst, fabs((double)with.centroids[i] - without.centroids[i]) /
                              (1 + fabs((double)without.centroids[i])));
    CHECK_MSG(worst < 1e-6, "k=%d wide=%d: centers differ by %g", k, wide, worst);
  }
  gr_kmeans_result_free(&with);
  gr_kmeans_result_free(&without);
  gr_context_free(ctx);
}

/* Random shapes, including the corners: one cluster, as many clusters as
 * rows, one feature, many ties (values in {0, 1, 2}: empty clusters are
 * relocated), and features a million times larger than others. Each fit
 * with the bounds against one without. */
static void test_random_shapes(void) {
  gr_context *ctx = cpu_test_context(2);
  if (!ctx) return;
  gr_rng rng;
  gr_rng_seed(&rng, 5);
  int differ = 0;
  for (int t = 0; t < 60; t++) {
    const int n = 1 + (int)gr_rng_below(&rng, 2000), d = 1 + (int)gr_rng_below(&rng, 20);
    int k = 1 + (int)gr_rng_below(&rng, 12);
    k = k > n ? n : k;
    float *X = malloc(sizeof(float) * (size_t)n * d);
    for (int i = 0; i < n * d; i++) {
      const double z = gr_rng_normal(&rng);
      X[i] = t % 3 == 0   ? (float)z
             : t % 3 == 1 ? (float)gr_rng_below(&rng, 3)
                          : (float)(z * (i % 5 == 0 ? 1e6 : 1));
    }
    gr_kmeans_params p;
    gr_kmeans_params_default(&p);
    p.k = k;
    p.n_init = 2;
    p.seed = (uint64_t)t;
    gr_kmeans_result a = {0}, b = {0};
    CHECK_OK(gr_kmeans_fit(ctx, X, n, d, &p, &a));
    p.bounds = 0;
    CHECK_OK(gr_kmeans_fit(ctx, X, n, d, &p, &b));
    if (a.labels && b.labels) {
      double worst = 0;
      for (int i = 0; i < k * d; i++)
        worst = fmax(worst, fabs((double)a.centroids[i] - b.centroids[i]) /
                                (1 + fabs((double)b.centroids[i])));
      const int same = memcmp(a.labels, b.labels, sizeof(int32_t) * (size_t)n) == 0 &&
                       a.iterations == b.iterations && worst <= 1e-5 &&
                       fabs(a.inertia - b.inertia) <= 1e-6 * (1 + b.inertia);
      CHECK_MSG(same, "n=%d d=%d k=%d shape %d: the bounded fit differs", n, d, k, t % 3);
      differ += !same;
    }
    gr_kmeans_result_free(&a);
    gr_kmeans_result_free(&b);
    free(X);
  }
  CHECK(differ == 0);
  gr_context_free(ctx);
}

int main(void) {
  test_steps(5);
  test_steps(8);
  test_steps(13);
  test_fit(5, 0);
  test_fit(8, 0);
  test_fit(20, 0);
  test_fit(8, 1);
  test_random_shapes();
  return gr_test_finish();
}
