/* Parity of the CUDA KMeans ops with the CPU twins, and of a whole fit:
 * the same seeded inputs go through each backend's own mem_alloc/upload,
 * and each comparison states its bound and the reason for it. The step's
 * sums have one fixed shape on both backends, so for the same labels they
 * are bitwise equal. Streaming X through a small device budget gives the
 * same fit, bit for bit, as keeping it resident. Exits 77 (skipped) when
 * no GPU is usable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_util.h"
#include "check.h"
#include "common/rng.h"
#include "gpu_required.h"
#include "host/kmeans.h"
#include "kernels/backend.h"
#include "kernels/shared_math.h"
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

/* Row norms, then the assignment, or with sums (host, k * d, zeroed by
 * the caller) and counts the step; everything staged on `be`. */
static gr_status run_ops(gr_backend *be, int32_t *labels, float *d2, double *sums, int64_t *counts,
                         const float *X, int64_t n, int d, const float *C, int k) {
  const size_t kd = (size_t)k * d;
  float *dx = put(be, X, sizeof(float) * (size_t)n * d), *dc = put(be, C, sizeof(float) * kd);
  int32_t *dl = put(be, labels, sizeof(int32_t) * (size_t)n);
  float *dd = put(be, d2, sizeof(float) * (size_t)n), *dn = zeros(be, sizeof(float) * (size_t)n);
  double *ds = sums ? put(be, sums, sizeof(double) * kd) : NULL;
  int64_t *dk = counts ? put(be, counts, sizeof(int64_t) * (size_t)k) : NULL;
  gr_status st = be->ops->kmeans_row_norms(be, dn, dx, n, d);
  if (st == GR_OK && sums)
    st = be->ops->kmeans_step(be, dl, dd, ds, dk, dx, dn, n, d, dc, k, NULL);
  else if (st == GR_OK)
    st = be->ops->kmeans_assign(be, dl, dd, dx, dn, n, d, dc, k, NULL);
  CHECK_MSG(st == GR_OK, "%s %s: %s", be->ops->name, sums ? "step" : "assign", gr_last_error());
  get(be, labels, dl, sizeof(int32_t) * (size_t)n);
  get(be, d2, dd, sizeof(float) * (size_t)n);
  if (sums) get(be, sums, ds, sizeof(double) * kd);
  if (counts) get(be, counts, dk, sizeof(int64_t) * (size_t)k);
  drop(be, dx);
  drop(be, dc);
  drop(be, dl);
  drop(be, dd);
  drop(be, dn);
  drop(be, ds);
  drop(be, dk);
  return st;
}

static gr_status run_assign(gr_backend *be, int32_t *labels, float *d2, const float *X, int64_t n,
                            int d, const float *C, int k) {
  return run_ops(be, labels, d2, NULL, NULL, X, n, d, C, k);
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

// ---- step ------------------------------------------------------------------

/* The step on both backends. Integer data: every distance is exact, so
 * the labels are identical and the sums (same labels, same fixed shape)
 * must be bitwise equal. Normal data: labels may differ among near-ties
 * (as in the assignment); where none differ the sums are still bitwise
 * equal, else they agree to 1e-9 relative per moved row. A far centroid
 * (cluster 1) gets no rows: count 0, sums 0. `small`: a second GPU
 * backend with a small budget, so the step runs in several tiles; its
 * labels and sums must equal the one-tile GPU run bitwise on integer data. */
static void test_step(gr_rng *rng, gr_backend *small, int64_t n, int d, int k, int integers) {
  const double scale = integers ? 1.0 : 2.0 / sqrt((double)d);
  float *X = random_matrix(rng, n, d, scale, integers);
  float *C = make_centroids(rng, X, n, d, k, scale, integers);
  if (k > 2)
    for (int j = 0; j < d; j++)
      C[(size_t)d + j] = 1000.0f;
  const size_t kd = (size_t)k * d;
  int32_t *lc = calloc((size_t)n + 1, 4), *lg = calloc((size_t)n + 1, 4),
          *ls = calloc((size_t)n + 1, 4);
  float *dc = calloc((size_t)n + 1, 4), *dg = calloc((size_t)n + 1, 4),
        *ds = calloc((size_t)n + 1, 4);
  double *sc = calloc(kd, 8), *sg = calloc(kd, 8), *ss = calloc(kd, 8);
  int64_t *nc = calloc((size_t)k, 8), *ng = calloc((size_t)k, 8), *ns = calloc((size_t)k, 8);
  CHECK_OK(run_ops(cpu, lc, dc, sc, nc, X, n, d, C, k));
  CHECK_OK(run_ops(gpu, lg, dg, sg, ng, X, n, d, C, k));
  compare_assign(integers ? "step labels (exact)" : "step labels", X, n, d, C, k, lc, dc, lg, dg,
                 integers);
  int64_t moved = 0;
  for (int64_t r = 0; r < n; r++)
    moved += lc[r] != lg[r];
  if (moved == 0) {
    CHECK_MSG(memcmp(sc, sg, sizeof(double) * kd) == 0, "step n=%lld d=%d k=%d: sums differ",
              (long long)n, d, k);
    CHECK(memcmp(nc, ng, sizeof(int64_t) * (size_t)k) == 0);
  } else {
    int64_t diff = 0;
    for (int c = 0; c < k; c++)
      diff += nc[c] > ng[c] ? nc[c] - ng[c] : ng[c] - nc[c];
    CHECK(diff <= 2 * moved);
  }
  if (k > 2) CHECK(nc[1] == 0 && ng[1] == 0 && sg[d] == 0.0);
  if (small) {
    CHECK_OK(run_ops(small, ls, ds, ss, ns, X, n, d, C, k));
    if (integers) {
      CHECK(memcmp(lg, ls, sizeof(int32_t) * (size_t)n) == 0);
      CHECK_MSG(memcmp(sg, ss, sizeof(double) * kd) == 0, "tiled step sums differ");
      CHECK(memcmp(ng, ns, sizeof(int64_t) * (size_t)k) == 0);
    }
  }
  free(X);
  free(C);
  free(lc);
  free(lg);
  free(ls);
  free(dc);
  free(dg);
  free(ds);
  free(sc);
  free(sg);
  free(ss);
  free(nc);
  free(ng);
  free(ns);
}

// ---- memory limit ------------------------------------------------------------

/* X (n, d) + labels + d2 + norms + C take about 1 MiB of the 2 MiB limit;
 * the (tile, k) score buffer of 20000 rows would take 4 MiB, so the
 * assignment runs in tiles of one chunk. The sgemm is issued per chunk in
 * either case, so the results must be bitwise those of one tile (which
 * the fit's block invariance relies on); the parity bounds are checked
 * too, so that a failure says which. */
static void test_memory_limit(gr_rng *rng, gr_backend *small) {
  const int64_t n = 20000;
  const int d = 8, k = 50;
  CHECK((size_t)n * k * sizeof(float) > small->mem_limit); /* forces tiles */
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
  /* one sgemm per chunk whatever the tile: the rows are bitwise the same */
  CHECK_MSG(differ == 0, "tiled assignment: %lld of %lld rows not bitwise equal to one tile",
            (long long)differ, (long long)n);
  free(X);
  free(C);
  free(la);
  free(lb);
  free(da);
  free(db);
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

  free(X);
}

static int same_fit(const gr_kmeans_result *a, const gr_kmeans_result *b, int64_t n) {
  return a->labels && b->labels && a->inertia == b->inertia && a->iterations == b->iterations &&
         memcmp(a->centroids, b->centroids, sizeof(float) * (size_t)a->k * a->d) == 0 &&
         memcmp(a->labels, b->labels, sizeof(int32_t) * (size_t)n) == 0;
}

/* Streaming on the GPU: X of 40000 x 16 floats (2.4 MiB) through budgets
 * of 64, 1.5 and 0.7 MiB (resident, then blocks of 3 chunks and 1 chunk) and
 * through forced blocks gives the same fit and prediction bit for bit;
 * a budget under one block is refused naming --max-device-mem. */
static void test_streaming(gr_rng *rng) {
  const int64_t n = 40000;
  const int d = 16, k = 7;
  float *X = malloc(sizeof(float) * (size_t)n * d);
  for (int64_t r = 0; r < n; r++)
    for (int j = 0; j < d; j++)
      X[r * d + j] = (float)(((r * 3) % k) * 3.0 * ((j + r % k) % 2) + gr_rng_normal(rng));
  gr_kmeans_params p;
  gr_kmeans_params_default(&p);
  p.k = k;
  p.n_init = 2;
  gr_kmeans_result ref = {0}, r = {0};
  int32_t *pl = malloc(sizeof(int32_t) * (size_t)n);
  const size_t budgets[3] = {(size_t)64 << 20, (size_t)3 << 19, 700000};
  for (int b = 0; b < 3; b++) {
    gr_context *g = test_context(GR_DEVICE_CUDA, 0, budgets[b]);
    if (!g) continue;
    CHECK_OK(gr_kmeans_fit(g, X, n, d, &p, b == 0 ? &ref : &r));
    if (b > 0)
      CHECK_MSG(same_fit(&ref, &r, n), "a budget of %zu bytes changes the fit", budgets[b]);
    gr_kmeans_result_free(&r);
    if (ref.labels) {
      memset(pl, 0xff, sizeof(int32_t) * (size_t)n);
      CHECK_OK(gr_kmeans_predict(g, X, n, d, ref.centroids, k, pl));
      CHECK(memcmp(pl, ref.labels, sizeof(int32_t) * (size_t)n) == 0);
    }
    if (b == 0 && ref.labels) { /* forced blocks on the roomy budget */
      p.block_rows = 2 * GR_KM_CHUNK;
      CHECK_OK(gr_kmeans_fit(g, X, n, d, &p, &r));
      CHECK_MSG(same_fit(&ref, &r, n), "blocks of 8192 rows change the fit");
      gr_kmeans_result_free(&r);
      p.block_rows = 0;
    }
    gr_context_free(g);
  }
  gr_context *tiny = test_context(GR_DEVICE_CUDA, 0, (size_t)100 << 10);
  if (tiny) {
    CHECK(gr_kmeans_fit(tiny, X, n, d, &p, &r) == GR_ERR_DEVICE_MEM);
    CHECK(strstr(gr_last_error(), "--max-device-mem") != NULL);
    CHECK(r.labels == NULL);
    if (ref.labels)
      CHECK(gr_kmeans_predict(tiny, X, n, d, ref.centroids, k, pl) == GR_ERR_DEVICE_MEM);
  }
  gr_context_free(tiny);
  gr_kmeans_result_free(&ref);
  free(pl);
  free(X);
}

int main(void) {
  CHECK_OK(gr_backend_cpu_create(&cpu, 0));
  const gr_status st = gr_backend_cuda_create(&gpu, 0, 0, 0);
  if (st != GR_OK) {
    const int rc = gr_test_no_gpu(gr_last_error());
    if (cpu) cpu->ops->destroy(cpu);
    return rc;
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
  gr_backend *small = NULL;
  CHECK_OK(gr_backend_cuda_create(&small, 0, (size_t)2 << 20, 0));
  /* steps: one row; several chunks with few clusters; many features
   * (several feature tiles); clusters past the shared accumulators (300);
   * several tiles; each on normal and integer data */
  const int64_t sn[6] = {1, 30000, 9000, 20000, 5000, 20000};
  const int sd[6] = {3, 7, 70, 33, 5, 4};
  const int sk[6] = {1, 3, 9, 40, 300, 40};
  for (int a = 0; a < 6; a++) /* the last also in tiles of 8192 rows on the 2 MiB backend */
    for (int integers = 0; integers < 2; integers++)
      test_step(&rng, a == 5 ? small : NULL, sn[a], sd[a], sk[a], integers);
  if (small) test_memory_limit(&rng, small);
  test_fit(&rng);
  test_streaming(&rng);
  if (small) small->ops->destroy(small);
  gpu->ops->destroy(gpu);
  cpu->ops->destroy(cpu);
  return gr_test_finish();
}
