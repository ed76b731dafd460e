/* KMeans on the CPU twin: planted separable blobs are recovered exactly,
 * the result is a Lloyd fixed point (nearest-center labels, centers are
 * means), seeds and thread counts behave, degenerate inputs are handled. */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/kmeans.h"
#include "kernels/backend.h"
#include "kernels/shared_math.h"
#include "kmeans_sums.h"
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
 * cluster and a distance on a center is 0. */
static void test_assign_ties(void) {
  gr_backend *b1 = NULL;
  CHECK_OK(gr_backend_cpu_create(&b1, 1));
  if (!b1) return;
  CHECK(b1->ops->kmeans_row_norms && b1->ops->kmeans_assign && b1->ops->kmeans_step);
  /* centroids 0 and 1 coincide; row 2 is equidistant from all three */
  const float C[3 * 2] = {0, 0, 0, 0, 4, 0};
  const float Xs[3 * 2] = {0, 0, 1, 0, 2, 0};
  float xn[3];
  int32_t labels[3];
  float d2[3];
  CHECK_OK(b1->ops->kmeans_row_norms(b1, xn, Xs, 3, 2));
  CHECK(xn[0] == 0.0f && xn[1] == 1.0f && xn[2] == 4.0f);
  CHECK_OK(b1->ops->kmeans_assign(b1, labels, d2, Xs, xn, 3, 2, C, 3, NULL));
  CHECK(labels[0] == 0 && labels[1] == 0 && labels[2] == 0);
  CHECK(d2[0] == 0.0f && d2[1] == 1.0f && d2[2] == 4.0f);
  const float C2[2 * 2] = {4, 0, 0, 0}; /* the tie between clusters 0 and 1 */
  CHECK_OK(b1->ops->kmeans_assign(b1, labels, NULL, Xs, xn, 3, 2, C2, 2, NULL));
  CHECK(labels[0] == 1 && labels[1] == 1 && labels[2] == 0);
  b1->ops->destroy(b1);
}

/* kmeans_step against its contract, for k on the direct path (5: one
 * padded lane group, 12: two, 40: five) and the sgemm path (150): the labels are the
 * assignment's, the sums are the chunked row-order sums bit for bit, a far
 * centroid gets no rows, and neither the thread count nor a split into
 * chunk-aligned blocks changes a bit. 10000 rows span three chunks. */
static void test_step(int k) {
  enum { NR = 10000, ND = 7 };
  static float X[NR * ND], xn[NR];
  gr_backend *b1 = NULL, *b3 = NULL;
  CHECK_OK(gr_backend_cpu_create(&b1, 1));
  CHECK_OK(gr_backend_cpu_create(&b3, 3));
  if (!b1 || !b3) return;
  gr_rng rng;
  gr_rng_seed(&rng, 5 + (uint64_t)k);
  for (int i = 0; i < NR * ND; i++)
    X[i] = (float)(3.0 + gr_rng_normal(&rng));
  const size_t kd = (size_t)k * ND;
  float *C = malloc(sizeof(float) * kd);
  for (int c = 0; c < k; c++)
    for (int j = 0; j < ND; j++)
      C[c * ND + j] = c == 1 ? 1000.0f : X[(size_t)(c * 97 % NR) * ND + j] + 0.25f;
  int32_t *la = malloc(sizeof(int32_t) * NR * 4), *l1 = la + NR, *l3 = l1 + NR, *lb = l3 + NR;
  float *da = malloc(sizeof(float) * NR * 4), *d1 = da + NR, *d3 = d1 + NR, *db = d3 + NR;
  double *ref = calloc(kd * 5, sizeof(double)), *part = ref + kd, *s1 = part + kd, *s3 = s1 + kd,
         *sb = s3 + kd;
  int64_t *n1 = calloc((size_t)k * 3, sizeof(int64_t)), *n3 = n1 + k, *nb = n3 + k;
  CHECK_OK(b1->ops->kmeans_row_norms(b1, xn, X, NR, ND));
  CHECK_OK(b1->ops->kmeans_assign(b1, la, da, X, xn, NR, ND, C, k, NULL));
  CHECK_OK(b1->ops->kmeans_step(b1, l1, d1, s1, n1, X, xn, NR, ND, C, k, NULL));
  CHECK_OK(b3->ops->kmeans_step(b3, l3, d3, s3, n3, X, xn, NR, ND, C, k, NULL));
  CHECK_OK(b3->ops->kmeans_step(b3, lb, db, sb, nb, X, xn, 8192, ND, C, k, NULL));
  CHECK_OK(b3->ops->kmeans_step(b3, lb + 8192, db + 8192, sb, nb, X + (size_t)8192 * ND, xn + 8192,
                                NR - 8192, ND, C, k, NULL));
  CHECK(memcmp(la, l1, sizeof(int32_t) * NR) == 0 && memcmp(da, d1, sizeof(float) * NR) == 0);
  CHECK(memcmp(l1, l3, sizeof(int32_t) * NR) == 0 && memcmp(l1, lb, sizeof(int32_t) * NR) == 0);
  CHECK(memcmp(s1, s3, sizeof(double) * kd) == 0 && memcmp(s1, sb, sizeof(double) * kd) == 0);
  CHECK(memcmp(n1, n3, sizeof(int64_t) * k) == 0 && memcmp(n1, nb, sizeof(int64_t) * k) == 0);
  /* the contract's sums, written out: per chunk in row order, chunks in order */
  int64_t *cnt = calloc((size_t)k, sizeof(int64_t));
  km_chunk_sums(ref, cnt, part, X, la, NR, ND, k);
  CHECK_MSG(memcmp(ref, s1, sizeof(double) * kd) == 0, "k=%d: sums differ from the contract", k);
  CHECK(memcmp(cnt, n1, sizeof(int64_t) * k) == 0);
  CHECK(n1[1] == 0 && s1[ND] == 0.0);
  free(cnt);
  /* the labels are the nearest centers (exact distances, up to near-ties) */
  int64_t far = 0;
  for (int r = 0; r < NR; r++) {
    double best = INFINITY, mine = 0;
    for (int c = 0; c < k; c++) {
      double t = 0;
      for (int j = 0; j < ND; j++)
        t += ((double)X[r * ND + j] - C[c * ND + j]) * ((double)X[r * ND + j] - C[c * ND + j]);
      if (c == la[r]) mine = t;
      if (t < best) best = t;
    }
    far += mine > best + 1e-4 * (1 + best) || fabs(da[r] - mine) > 1e-4 * (1 + mine);
  }
  CHECK_MSG(far == 0, "k=%d: %lld rows not at their nearest center", k, (long long)far);
  free(C);
  free(la);
  free(da);
  free(ref);
  free(n1);
  b1->ops->destroy(b1);
  b3->ops->destroy(b3);
}

static int same_result(const gr_kmeans_result *a, const gr_kmeans_result *b, int64_t n) {
  return a->labels && b->labels && a->k == b->k && a->d == b->d && a->inertia == b->inertia &&
         a->iterations == b->iterations &&
         memcmp(a->centroids, b->centroids, sizeof(float) * (size_t)a->k * a->d) == 0 &&
         memcmp(a->labels, b->labels, sizeof(int32_t) * (size_t)n) == 0;
}

/* Row blocks: the same fit and prediction with blocks of 1, 2 and 3
 * chunks, all at once, and through a "device" (the CPU backend treated as
 * one that needs copies, with a memory limit) at budgets from resident
 * down to one block, are bit for bit the same; a budget under one block is
 * refused naming the option. `dups`: three points repeated, more clusters
 * than points, so empty clusters are relocated in every step. */
static void test_blocks(int dups) {
  const int64_t n = 30000;
  const int d = 6;
  float *X = malloc(sizeof(float) * (size_t)n * d);
  gr_rng rng;
  gr_rng_seed(&rng, 23);
  for (int64_t r = 0; r < n; r++)
    for (int j = 0; j < d; j++)
      X[r * d + j] =
          dups ? (float)((r % 3) * 2 - j) : (float)(((r * 7) % 5) * 4.0 + gr_rng_normal(&rng));
  gr_kmeans_params p;
  gr_kmeans_params_default(&p);
  p.k = 5;
  p.n_init = 2;
  gr_context *ctx = cpu_test_context(2), *dev = cpu_test_context(2);
  if (!ctx || !dev) return;
  gr_kmeans_result ref = {0}, r = {0};
  CHECK_OK(gr_kmeans_fit(ctx, X, n, d, &p, &ref));
  if (dups && ref.labels) CHECK(ref.inertia == 0);
  int32_t *pl = malloc(sizeof(int32_t) * (size_t)n);
  const int64_t blocks[3] = {4096, 8192, 3 * 4096};
  for (int b = 0; b < 3; b++) {
    p.block_rows = blocks[b];
    CHECK_OK(gr_kmeans_fit(ctx, X, n, d, &p, &r));
    CHECK_MSG(same_result(&ref, &r, n), "dups=%d: blocks of %lld rows change the fit", dups,
              (long long)blocks[b]);
    gr_kmeans_result_free(&r);
    memset(pl, 0xff, sizeof(int32_t) * (size_t)n);
    if (ref.labels)
      CHECK_OK(gr_kmeans_predict_blocks(ctx, X, n, d, ref.centroids, p.k, blocks[b], pl));
    CHECK(ref.labels && memcmp(pl, ref.labels, sizeof(int32_t) * (size_t)n) == 0);
  }
  p.block_rows = 0;
  /* about 56 bytes per row (X, norm, label, distance, scores) and 145 KiB
   * besides: 2 MiB holds all rows, the others blocks of 3, 2 and 1 chunks */
  gr_backend *be = dev->be;
  be->host_memory = 0;
  const size_t budgets[4] = {(size_t)2 << 20, 900000, 650000, 400000};
  for (int b = 0; b < 4; b++) {
    be->mem_limit = budgets[b];
    CHECK_OK(gr_kmeans_fit(dev, X, n, d, &p, &r));
    CHECK_MSG(same_result(&ref, &r, n), "dups=%d: a budget of %zu bytes changes the fit", dups,
              budgets[b]);
    gr_kmeans_result_free(&r);
    memset(pl, 0xff, sizeof(int32_t) * (size_t)n);
    if (ref.labels) CHECK_OK(gr_kmeans_predict(dev, X, n, d, ref.centroids, p.k, pl));
    CHECK(ref.labels && memcmp(pl, ref.labels, sizeof(int32_t) * (size_t)n) == 0);
  }
  be->mem_limit = 200000; /* under one block of 4096 rows */
  CHECK(gr_kmeans_fit(dev, X, n, d, &p, &r) == GR_ERR_DEVICE_MEM);
  CHECK(r.labels == NULL && r.centroids == NULL);
  CHECK(contains_text(gr_last_error(), "--max-device-mem"));
  CHECK(contains_text(gr_last_error(), "4096 rows"));
  if (ref.labels)
    CHECK(gr_kmeans_predict(dev, X, n, d, ref.centroids, p.k, pl) == GR_ERR_DEVICE_MEM);
  CHECK(contains_text(gr_last_error(), "--max-device-mem"));
  be->host_memory = 1;
  be->mem_limit = 0;
  p.block_rows = 1000; /* not a multiple of the chunk */
  CHECK(gr_kmeans_fit(ctx, X, n, d, &p, &r) == GR_ERR_INVALID_ARG);
  gr_kmeans_result_free(&ref);
  free(pl);
  free(X);
  gr_context_free(ctx);
  gr_context_free(dev);
}

int main(void) {
  test_shared_rules();
  test_assign_ties();
  test_step(5);
  test_step(12);
  test_step(40);
  test_step(150);
  test_blocks(0);
  test_blocks(1);
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
  CHECK(contains_text(gr_last_error(), "row 2 (from 1), feature 1 is nan"));
  gr_kmeans_result_free(&r);
  gr_context_free(c1);
  gr_context_free(c2);
  return gr_test_finish();
}
