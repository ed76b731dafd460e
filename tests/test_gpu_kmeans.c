/* Parity of the CUDA KMeans steps with the CPU twins, and of a whole fit:
 * the same seeded inputs go through each backend's own mem_alloc/upload,
 * and each comparison states its bound and the reason for it. Exits 77
 * (skipped) when no GPU is usable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_util.h"
#include "check.h"
#include "common/rng.h"
#include "host/kmeans.h"
#include "kernels/backend.h"
#include "test_util.h"

static gr_backend *cpu, *gpu;

/* (n, d) normal entries of the given scale; `integers`: small integers in
 * [-3, 3] instead, whose distances are exact in float in any order. */
static float *random_matrix(gr_rng *rng, int64_t n, int d, double scale, int integers) {
  float *a = malloc(sizeof(float) * (size_t)(n ? n : 1) * d);
  for (int64_t i = 0; i < n * d; i++)
    a[i] = integers ? (float)((int)gr_rng_below(rng, 7) - 3) : (float)(scale * gr_rng_normal(rng));
  return a;
}

// ---- assignment --------------------------------------------------------------

static gr_status run_assign(gr_backend *be, int32_t *labels, float *d2, const float *X, int64_t n,
                            int d, const float *C, int k) {
  float *dx = put(be, X, sizeof(float) * (size_t)n * d), *dc = put(be, C, sizeof(float) * k * d);
  int32_t *dl = put(be, labels, sizeof(int32_t) * (size_t)n);
  float *dd = put(be, d2, sizeof(float) * (size_t)n);
  const gr_status st = be->ops->kmeans_assign(be, dl, dd, dx, n, d, dc, k);
  CHECK_MSG(st == GR_OK, "%s assign: %s", be->ops->name, gr_last_error());
  get(be, labels, dl, sizeof(int32_t) * (size_t)n);
  get(be, d2, dd, sizeof(float) * (size_t)n);
  drop(be, dx);
  drop(be, dc);
  drop(be, dl);
  drop(be, dd);
  return st;
}

/* Exact squared distance in double. */
static double dist2(const float *x, const float *c, int d) {
  double s = 0;
  for (int j = 0; j < d; j++)
    s += ((double)x[j] - c[j]) * ((double)x[j] - c[j]);
  return s;
}

/* Labels must agree except where the two best distances are within 1e-5
 * relative (the twins' dot products round differently, ~d eps |x||c|, far
 * below that when |x|^2 and |c|^2 are O(1)); there either pick must be one
 * of the tied pair. min_d2: 1e-4 relative + 1e-5 absolute, the float
 * cancellation in |x|^2 - 2 x.c + |c|^2 at O(1) norms. `exact`: integer
 * data, every step is exact, so labels (ties to the lower index) and
 * distances must be identical. */
static void compare_assign(const char *what, const float *X, int64_t n, int d, const float *C,
                           int k, const int32_t *la, const float *da, const int32_t *lb,
                           const float *db, int exact) {
  int64_t bad = 0, near_ties = 0, tie_flips = 0, bad_d2 = 0;
  for (int64_t r = 0; r < n; r++) {
    const float *x = X + (size_t)r * d;
    double best = INFINITY, second = INFINITY;
    for (int c = 0; c < k; c++) {
      const double t = dist2(x, C + (size_t)c * d, d);
      if (t < best) {
        second = best;
        best = t;
      } else if (t < second) {
        second = t;
      }
    }
    const int tie = second - best <= 1e-5 * second;
    near_ties += tie;
    if (exact) {
      bad += la[r] != lb[r];
      bad_d2 += da[r] != db[r];
      continue;
    }
    if (la[r] != lb[r]) {
      const double a = dist2(x, C + (size_t)la[r] * d, d), b = dist2(x, C + (size_t)lb[r] * d, d);
      const int ok = tie && a - best <= 1e-5 * second && b - best <= 1e-5 * second;
      tie_flips += ok;
      bad += !ok;
    }
    bad_d2 += fabs((double)da[r] - db[r]) > 1e-4 * fabs((double)da[r]) + 1e-5;
  }
  if (tie_flips) printf("%s: %lld labels differ among near-ties\n", what, (long long)tie_flips);
  CHECK_MSG(bad == 0, "%s n=%lld d=%d k=%d: %lld labels differ (%lld near-ties)", what,
            (long long)n, d, k, (long long)bad, (long long)near_ties);
  CHECK_MSG(bad_d2 == 0, "%s n=%lld d=%d k=%d: %lld distances differ", what, (long long)n, d, k,
            (long long)bad_d2);
}

/* Centroids: half are rows of X (as k-means++ picks them, so some
 * distances are ~0), the rest random; with integer data, centroid 1
 * repeats centroid 0, so rows nearest to it tie exactly. */
static float *make_centroids(gr_rng *rng, const float *X, int64_t n, int d, int k, double scale,
                             int integers) {
  float *C = random_matrix(rng, k, d, scale, integers);
  for (int c = 0; c < k; c += 2)
    memcpy(C + (size_t)c * d, X + (size_t)gr_rng_below(rng, (uint64_t)n) * d,
           sizeof(float) * (size_t)d);
  if (integers && k > 1) memcpy(C + d, C, sizeof(float) * (size_t)d);
  return C;
}

static void test_assign(gr_rng *rng, int64_t n, int d, int k, int integers) {
  const double scale = 2.0 / sqrt((double)d); /* |x|^2 about 4 */
  float *X = random_matrix(rng, n, d, scale, integers);
  float *C = make_centroids(rng, X, n, d, k, scale, integers);
  int32_t *lc = calloc((size_t)n + 1, sizeof(int32_t)), *lg = calloc((size_t)n + 1, 4);
  float *dc = calloc((size_t)n + 1, sizeof(float)), *dg = calloc((size_t)n + 1, sizeof(float));
  CHECK_OK(run_assign(cpu, lc, dc, X, n, d, C, k));
  CHECK_OK(run_assign(gpu, lg, dg, X, n, d, C, k));
  compare_assign(integers ? "assign (exact)" : "assign", X, n, d, C, k, lc, dc, lg, dg, integers);
  if (integers && k > 1) { /* the duplicate never wins: ties go to the lower index */
    int dup = 0;
    for (int64_t r = 0; r < n; r++)
      dup += lg[r] == 1;
    CHECK_MSG(dup == 0, "%d rows took the duplicate centroid 1 over 0", dup);
  }
  free(X);
  free(C);
  free(lc);
  free(lg);
  free(dc);
  free(dg);
}

// ---- update ------------------------------------------------------------------

static gr_status run_update(gr_backend *be, float *C, int64_t *counts, const float *X,
                            const int32_t *labels, int64_t n, int d, int k) {
  float *dx = put(be, X, sizeof(float) * (size_t)n * d), *dc = put(be, C, sizeof(float) * k * d);
  int32_t *dl = put(be, labels, sizeof(int32_t) * (size_t)n);
  int64_t *dn = put(be, counts, sizeof(int64_t) * (size_t)k);
  const gr_status st = be->ops->kmeans_update(be, dc, dn, dx, dl, n, d, k);
  CHECK_MSG(st == GR_OK, "%s update: %s", be->ops->name, gr_last_error());
  get(be, C, dc, sizeof(float) * (size_t)k * d);
  get(be, counts, dn, sizeof(int64_t) * (size_t)k);
  drop(be, dx);
  drop(be, dc);
  drop(be, dl);
  drop(be, dn);
  return st;
}

/* Labels skip clusters 1 and k-1 (they must keep their centroid, count 0);
 * X has a mean offset so that sums are large relative to their spread. */
static void test_update(gr_rng *rng, int64_t n, int d, int k) {
  float *X = random_matrix(rng, n, d, 1.0, 0);
  for (int64_t i = 0; i < n * d; i++)
    X[i] += 5.0f;
  int32_t *labels = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  for (int64_t r = 0; r < n; r++) {
    int32_t l = (int32_t)gr_rng_below(rng, (uint64_t)k);
    labels[r] = k > 2 && (l == 1 || l == k - 1) ? 0 : l;
  }
  float *C0 = random_matrix(rng, k, d, 1.0, 0);
  const size_t kd = (size_t)k * d;
  float *cc = malloc(sizeof(float) * kd), *cg = malloc(sizeof(float) * kd),
        *cg2 = malloc(sizeof(float) * kd);
  int64_t *nc = calloc((size_t)k, sizeof(int64_t)), *ng = calloc((size_t)k, sizeof(int64_t)),
          *ng2 = calloc((size_t)k, sizeof(int64_t));
  memcpy(cc, C0, sizeof(float) * kd);
  memcpy(cg, C0, sizeof(float) * kd);
  memcpy(cg2, C0, sizeof(float) * kd);
  CHECK_OK(run_update(cpu, cc, nc, X, labels, n, d, k));
  CHECK_OK(run_update(gpu, cg, ng, X, labels, n, d, k));
  CHECK_OK(run_update(gpu, cg2, ng2, X, labels, n, d, k));
  /* both sum in double, so the means agree to float rounding: 1e-5 relative */
  int bad_counts = 0, bad_c = 0, bad_empty = 0;
  for (int c = 0; c < k; c++) {
    bad_counts += nc[c] != ng[c];
    for (int j = 0; j < d; j++) {
      const size_t i = (size_t)c * d + j;
      if (nc[c] == 0)
        bad_empty += cc[i] != C0[i] || cg[i] != C0[i];
      else
        bad_c += fabs((double)cc[i] - cg[i]) > 1e-5 * fabs((double)cc[i]) + 1e-12;
    }
  }
  CHECK_MSG(bad_counts == 0, "update n=%lld d=%d k=%d: %d counts differ", (long long)n, d, k,
            bad_counts);
  CHECK_MSG(bad_c == 0, "update n=%lld d=%d k=%d: %d centroid entries differ", (long long)n, d, k,
            bad_c);
  CHECK_MSG(bad_empty == 0, "update k=%d: empty clusters moved", k);
  if (k > 2 && n > 0) CHECK(nc[1] == 0 && ng[1] == 0);
  /* the GPU sums have a fixed shape: a second run is bitwise the same */
  CHECK(memcmp(cg, cg2, sizeof(float) * kd) == 0);
  CHECK(memcmp(ng, ng2, sizeof(int64_t) * (size_t)k) == 0);
  free(X);
  free(labels);
  free(C0);
  free(cc);
  free(cg);
  free(cg2);
  free(nc);
  free(ng);
  free(ng2);
}

// ---- memory limit ------------------------------------------------------------

/* X (n, d) + labels + d2 + C take about 0.9 MiB of the 2 MiB limit; the
 * (tile, k + 1) score buffer of 20000 rows would take 4 MiB, so the
 * assignment runs in several tiles. Tiling changes only how many rows one
 * sgemm takes, so the same bounds as the parity hold (and the update, whose
 * shape ignores the budget, is bitwise the same). */
static void test_memory_limit(gr_rng *rng) {
  gr_backend *small = NULL;
  CHECK_OK(gr_backend_cuda_create(&small, 0, (size_t)2 << 20, 0));
  if (!small) return;
  const int64_t n = 20000;
  const int d = 8, k = 50;
  CHECK((size_t)n * (k + 1) * sizeof(float) > small->mem_limit); /* forces tiles */
  float *X = random_matrix(rng, n, d, 2.0 / sqrt(d), 0);
  float *C = make_centroids(rng, X, n, d, k, 2.0 / sqrt(d), 0);
  int32_t *la = calloc((size_t)n, 4), *lb = calloc((size_t)n, 4);
  float *da = calloc((size_t)n, 4), *db = calloc((size_t)n, 4);
  CHECK_OK(run_assign(gpu, la, da, X, n, d, C, k));
  CHECK_OK(run_assign(small, lb, db, X, n, d, C, k));
  compare_assign("assign, tiled vs one tile", X, n, d, C, k, la, da, lb, db, 0);
  int64_t differ = 0;
  for (int64_t r = 0; r < n; r++)
    differ += la[r] != lb[r] || da[r] != db[r];
  printf("tiled assignment: %lld of %lld rows not bitwise equal to one tile\n", (long long)differ,
         (long long)n);
  const size_t kd = (size_t)k * d;
  float *ca = malloc(sizeof(float) * kd), *cb = malloc(sizeof(float) * kd);
  int64_t *na = calloc((size_t)k, 8), *nb = calloc((size_t)k, 8);
  memcpy(ca, C, sizeof(float) * kd);
  memcpy(cb, C, sizeof(float) * kd);
  CHECK_OK(run_update(gpu, ca, na, X, la, n, d, k));
  CHECK_OK(run_update(small, cb, nb, X, la, n, d, k));
  CHECK(memcmp(ca, cb, sizeof(float) * kd) == 0);
  CHECK(memcmp(na, nb, sizeof(int64_t) * (size_t)k) == 0);
  small->ops->destroy(small);
  free(X);
  free(C);
  free(la);
  free(lb);
  free(da);
  free(db);
  free(ca);
  free(cb);
  free(na);
  free(nb);
}

// ---- a whole fit ---------------------------------------------------------------

/* Well-separated blobs: both backends find the same partition (labels
 * equal up to a permutation) and the same inertia to 1e-4 relative (sums
 * of float distances whose centers agree to float rounding). */
static void test_fit(gr_rng *rng) {
  const int64_t n = 6000;
  const int d = 5, k = 6;
  float *X = malloc(sizeof(float) * (size_t)n * d);
  float centers[6][5];
  for (int b = 0; b < k; b++)
    for (int j = 0; j < d; j++)
      centers[b][j] = (float)(20.0 * gr_rng_normal(rng));
  for (int64_t r = 0; r < n; r++)
    for (int j = 0; j < d; j++)
      X[r * d + j] = centers[(r * 5) % k][j] + (float)gr_rng_normal(rng);
  gr_context *cc = test_context(GR_DEVICE_CPU, 0, 0), *cg = test_context(GR_DEVICE_CUDA, 0, 0);
  gr_kmeans_params p;
  gr_kmeans_params_default(&p);
  p.k = k;
  p.n_init = 3;
  p.seed = 11;
  gr_kmeans_result rc = {0}, rg = {0}, rg2 = {0};
  if (cc) CHECK_OK(gr_kmeans_fit(cc, X, n, d, &p, &rc));
  if (cg) CHECK_OK(gr_kmeans_fit(cg, X, n, d, &p, &rg));
  if (cg) CHECK_OK(gr_kmeans_fit(cg, X, n, d, &p, &rg2));
  if (rc.labels && rg.labels) {
    int map[6] = {-1, -1, -1, -1, -1, -1}, used[6] = {0}, consistent = 1;
    for (int64_t r = 0; r < n; r++) {
      const int a = rc.labels[r], b = rg.labels[r];
      if (map[a] < 0) {
        map[a] = b;
        consistent &= !used[b];
        used[b] = 1;
      }
      consistent &= map[a] == b;
    }
    CHECK_MSG(consistent, "CPU and CUDA partitions differ");
    CHECK_NEAR(rg.inertia, rc.inertia, 1e-4 * rc.inertia);
  }
  if (rg.labels && rg2.labels) { /* the same seed: the same result on the GPU */
    CHECK(memcmp(rg.labels, rg2.labels, sizeof(int32_t) * (size_t)n) == 0);
    CHECK(memcmp(rg.centroids, rg2.centroids, sizeof(float) * (size_t)k * d) == 0);
    CHECK(rg.inertia == rg2.inertia);
  }
  gr_kmeans_result_free(&rc);
  gr_kmeans_result_free(&rg);
  gr_kmeans_result_free(&rg2);
  gr_context_free(cc);
  gr_context_free(cg);

  /* data larger than the device budget is refused up front, naming the option */
  gr_context *tiny = test_context(GR_DEVICE_CUDA, 0, (size_t)1 << 20);
  float *big = calloc((size_t)100000 * 4, sizeof(float));
  gr_kmeans_result rt = {0};
  if (tiny && big) {
    p.k = 2;
    p.n_init = 1;
    CHECK(gr_kmeans_fit(tiny, big, 100000, 4, &p, &rt) == GR_ERR_DEVICE_MEM);
    CHECK(strstr(gr_last_error(), "--max-device-mem") != NULL);
    CHECK(rt.labels == NULL);
  }
  free(big);
  gr_context_free(tiny);
  free(X);
}

int main(void) {
  CHECK_OK(gr_backend_cpu_create(&cpu, 0));
  const gr_status st = gr_backend_cuda_create(&gpu, 0, 0, 0);
  if (st != GR_OK) {
    printf("no usable GPU: %s, skipping\n", gr_last_error());
    if (cpu) cpu->ops->destroy(cpu);
    return 77;
  }
  gr_rng rng;
  gr_rng_seed(&rng, 20240611);
  const int64_t ns[4] = {1, 77, 5000, 30000};
  const int ds[4] = {1, 3, 17, 64};
  const int ks[4] = {1, 2, 9, 300};
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 4; b++) {
      const int k = ks[(a + b) % 4] <= ns[a] ? ks[(a + b) % 4] : (int)ns[a];
      test_assign(&rng, ns[a], ds[b], k, 0);
      test_assign(&rng, ns[a], ds[b], k, 1);
    }
  /* updates: pieces span several blocks (30000 rows, few clusters), many
   * feature tiles (d 70), many clusters (1000), and no rows at all */
  const int64_t un[5] = {0, 1, 5000, 30000, 30000};
  const int ud[5] = {3, 1, 70, 7, 33};
  const int uk[5] = {4, 1, 1000, 3, 40};
  for (int a = 0; a < 5; a++)
    test_update(&rng, un[a], ud[a], uk[a]);
  test_memory_limit(&rng);
  test_fit(&rng);
  gpu->ops->destroy(gpu);
  cpu->ops->destroy(cpu);
  return gr_test_finish();
}
