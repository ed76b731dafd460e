/* KMeans on the CPU twin: planted separable blobs are recovered exactly,
 * the result is a Lloyd fixed point (nearest-center labels, centers are
 * means), seeds and thread counts behave, degenerate inputs are handled. */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/kmeans.h"
#include "kernels/backend.h"
#include "kernels/shared_math.h"
#include "test_util.h"

#define N_PER 200
#define N_BLOBS 4
#define D 3

static void make_blobs(float *X, int *truth, double *truth_inertia) {
  static const float centers[N_BLOBS][D] = {
      {10, 10, 0}, {-10, 10, 0}, {10, -10, 5}, {-10, -10, -5}};
  gr_rng rng;
  gr_rng_seed(&rng, 17);
  *truth_inertia = 0;
  for (int i = 0; i < N_BLOBS * N_PER; i++) {
    const int b = (int)((i * 7) % N_BLOBS); /* interleaved, not sorted by blob */
    truth[i] = b;
    for (int j = 0; j < D; j++) {
      const double noise = 0.5 * gr_rng_normal(&rng);
      X[i * D + j] = centers[b][j] + (float)noise;
      *truth_inertia += noise * noise;
    }
  }
}

/* The rules both twins share (kernels/shared_math.h). */
static void test_shared_rules(void) {
  /* |x|^2 - 2 x.c + |c|^2: x = (1, 2), c = (3, 1): 5 - 2 * 5 + 10 = 5 */
  CHECK(gr_km_dist(5.0f, 5.0f, 10.0f) == 5.0f);
  /* rounding may leave the expansion below 0; the reported distance is 0 */
  CHECK(gr_km_clamp(-1e-6f) == 0.0f);
  CHECK(gr_km_clamp(NAN) == 0.0f);
  CHECK(gr_km_clamp(2.5f) == 2.5f);
  int32_t best = 0;
  float best_d = INFINITY;
  gr_km_consider(NAN, 0, &best_d, &best); /* NaN never wins */
  CHECK(best == 0 && best_d == INFINITY);
  gr_km_consider(3.0f, 1, &best_d, &best);
  gr_km_consider(3.0f, 2, &best_d, &best); /* a tie keeps the lower cluster */
  CHECK(best == 1 && best_d == 3.0f);
  gr_km_consider(2.0f, 3, &best_d, &best);
  CHECK(best == 3 && best_d == 2.0f);
  CHECK(gr_km_mean(7.0, 2) == 3.5f);
}

/* The CPU twin through the backend table: exact ties go to the lower
 * cluster, a distance on a center is 0, an empty cluster keeps its
 * centroid with count 0, and the update is the same for 1 and 3 threads. */
static void test_steps(void) {
  gr_backend *b1 = NULL, *b3 = NULL;
  CHECK_OK(gr_backend_cpu_create(&b1, 1));
  CHECK_OK(gr_backend_cpu_create(&b3, 3));
  if (!b1 || !b3) return;
  CHECK(b1->ops->kmeans_assign != NULL && b1->ops->kmeans_update != NULL);
  /* centroids 0 and 1 coincide; row 2 is equidistant from all three */
  const float C[3 * 2] = {0, 0, 0, 0, 4, 0};
  const float Xs[3 * 2] = {0, 0, 1, 0, 2, 0};
  int32_t labels[3];
  float d2[3];
  CHECK_OK(b1->ops->kmeans_assign(b1, labels, d2, Xs, 3, 2, C, 3));
  CHECK(labels[0] == 0 && labels[1] == 0 && labels[2] == 0);
  CHECK(d2[0] == 0.0f && d2[1] == 1.0f && d2[2] == 4.0f);
  const float C2[2 * 2] = {4, 0, 0, 0}; /* the tie between clusters 0 and 1 */
  CHECK_OK(b1->ops->kmeans_assign(b1, labels, NULL, Xs, 3, 2, C2, 2));
  CHECK(labels[0] == 1 && labels[1] == 1 && labels[2] == 0);

  /* 10000 rows span three of the update's 4096-row chunks */
  enum { NR = 10000, ND = 3, NK = 5 };
  static float Xr[NR * ND];
  static int32_t lr[NR];
  gr_rng rng;
  gr_rng_seed(&rng, 5);
  for (int i = 0; i < NR * ND; i++)
    Xr[i] = (float)(3.0 + gr_rng_normal(&rng));
  for (int r = 0; r < NR; r++) {
    lr[r] = (int32_t)gr_rng_below(&rng, NK);
    if (lr[r] == 2) lr[r] = 4; /* cluster 2 stays empty */
  }
  float ca[NK * ND], cb[NK * ND];
  int64_t na[NK], nb[NK];
  for (int i = 0; i < NK * ND; i++)
    ca[i] = cb[i] = (float)i;
  CHECK_OK(b1->ops->kmeans_update(b1, ca, na, Xr, lr, NR, ND, NK));
  CHECK_OK(b3->ops->kmeans_update(b3, cb, nb, Xr, lr, NR, ND, NK));
  CHECK(memcmp(ca, cb, sizeof ca) == 0 && memcmp(na, nb, sizeof na) == 0);
  CHECK(na[2] == 0 && ca[2 * ND] == 2 * ND && ca[2 * ND + 2] == 2 * ND + 2);
  int64_t total = 0;
  double err = 0;
  for (int c = 0; c < NK; c++) {
    total += na[c];
    if (na[c] == 0) continue;
    double s[ND] = {0};
    for (int r = 0; r < NR; r++)
      if (lr[r] == c)
        for (int j = 0; j < ND; j++)
          s[j] += Xr[r * ND + j];
    for (int j = 0; j < ND; j++)
      err = fmax(err, fabs(s[j] / (double)na[c] - ca[c * ND + j]));
  }
  CHECK(total == NR);
  CHECK_MSG(err < 1e-6, "update means off by %g", err);
  b1->ops->destroy(b1);
  b3->ops->destroy(b3);
}

int main(void) {
  test_shared_rules();
  test_steps();
  static float X[N_BLOBS * N_PER * D];
  static int truth[N_BLOBS * N_PER];
  double truth_inertia;
  make_blobs(X, truth, &truth_inertia);
  const int64_t n = N_BLOBS * N_PER;
  gr_context *c1 = cpu_test_context(1), *c2 = cpu_test_context(2);
  gr_kmeans_params p;
  gr_kmeans_params_default(&p);
  p.k = N_BLOBS;
  p.n_init = 3;
  gr_kmeans_result r = {0}, r2 = {0};
  CHECK_OK(gr_kmeans_fit(c2, X, n, D, &p, &r));
  if (r.labels) {
    /* each planted blob maps onto exactly one cluster, and back */
    int map[N_BLOBS];
    for (int b = 0; b < N_BLOBS; b++)
      map[b] = -1;
    int pure = 1;
    for (int64_t i = 0; i < n; i++) {
      if (map[truth[i]] < 0) map[truth[i]] = r.labels[i];
      pure &= map[truth[i]] == r.labels[i];
    }
    for (int a = 0; a < N_BLOBS; a++)
      for (int b = a + 1; b < N_BLOBS; b++)
        pure &= map[a] != map[b];
    CHECK(pure);
    /* the planted partition at its own means can only beat the true centers */
    CHECK_MSG(r.inertia <= truth_inertia * (1 + 1e-4), "inertia %g vs planted %g", r.inertia,
              truth_inertia);
    /* a Lloyd fixed point: every label is the nearest center, centers are means */
    int nearest = 1;
    double mean_err = 0;
    for (int c = 0; c < N_BLOBS; c++) {
      double s[D] = {0};
      int64_t cnt = 0;
      for (int64_t i = 0; i < n; i++) {
        if (r.labels[i] != c) continue;
        cnt++;
        for (int j = 0; j < D; j++)
          s[j] += X[i * D + j];
      }
      for (int j = 0; j < D; j++)
        mean_err = fmax(mean_err, fabs(s[j] / (double)cnt - r.centroids[c * D + j]));
    }
    for (int64_t i = 0; i < n; i++) {
      double best = INFINITY;
      int arg = -1;
      for (int c = 0; c < N_BLOBS; c++) {
        double dist = 0;
        for (int j = 0; j < D; j++) {
          const double t = X[i * D + j] - r.centroids[c * D + j];
          dist += t * t;
        }
        if (dist < best) best = dist, arg = c;
      }
      nearest &= arg == r.labels[i];
    }
    CHECK(nearest);
    CHECK_MSG(mean_err < 1e-4, "centers differ from means by %g", mean_err);
  }
  /* the same seed gives the same result, whatever the thread count */
  CHECK_OK(gr_kmeans_fit(c1, X, n, D, &p, &r2));
  if (r.labels && r2.labels) {
    CHECK(memcmp(r.centroids, r2.centroids, sizeof(float) * N_BLOBS * D) == 0);
    CHECK(memcmp(r.labels, r2.labels, sizeof(int32_t) * (size_t)n) == 0);
    CHECK(r.inertia == r2.inertia);
  }
  gr_kmeans_result_free(&r2);
  /* duplicates: more clusters than distinct points still give valid labels */
  const float dup[5 * 2] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2};
  p.k = 3;
  p.n_init = 1;
  CHECK_OK(gr_kmeans_fit(c1, dup, 5, 2, &p, &r2));
  if (r2.labels) {
    CHECK(r2.inertia == 0);
    for (int i = 0; i < 5; i++)
      CHECK(r2.labels[i] >= 0 && r2.labels[i] < 3);
    CHECK(r2.labels[0] == r2.labels[1] && r2.labels[3] == r2.labels[4]);
    CHECK(r2.labels[0] != r2.labels[3]);
  }
  gr_kmeans_result_free(&r2);
  /* errors */
  gr_kmeans_result bad = {0};
  p.k = 6;
  CHECK(gr_kmeans_fit(c1, dup, 5, 2, &p, &bad) == GR_ERR_INVALID_ARG);
  float with_nan[4] = {1, 2, NAN, 4};
  p.k = 1;
  CHECK(gr_kmeans_fit(c1, with_nan, 2, 2, &p, &bad) == GR_ERR_INVALID_ARG);
  CHECK(contains_text(gr_last_error(), "row 1"));
  gr_kmeans_result_free(&r);
  gr_context_free(c1);
  gr_context_free(c2);
  return gr_test_finish();
}
