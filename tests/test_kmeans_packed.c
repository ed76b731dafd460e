/* KMeans over packed rows (kernels/cpu/packed_rows.h: the 0/1 features as
 * bits, the dots from nibble sums, kmeans_dots.h). The ops on packed rows
 * against exact double distances: every distance within the rounding
 * bound the bounded step relies on (gr_km_dist_error), every label the
 * nearest center up to such near-ties; the sums are the contract's sums of
 * X's rows, and the thread count changes no bit. The bounded step over
 * packed rows through center moves: kmeans_assign's labels bit for bit,
 * the fixed-point sums exact. And whole fits: packed by the fit or given
 * packed, bit for bit alike; packed or not (a fit in blocks reads X), the
 * same clusters of planted blobs, and gr_kmeans_predict the fit's labels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/kmeans.h"
#include "host/packed_x.h"
#include "kernels/backend.h"
#include "kernels/cpu/packed_rows.h"
#include "kernels/shared_math.h"
#include "kmeans_bounded_run.h"
#include "kmeans_sums.h"
#include "test_util.h"

enum { NR = 9000, ND = 45 };

/* Feature j is binary unless j % 4 == 0 (so the packed order differs from
 * X's): one-hot groups of 5 levels and loose bits; the others normal
 * around `blobs` centers (1: no structure). */
static int is_binary(int j) { return j % 4 != 0; }

static void make_rows(float *X, int n, int blobs, gr_rng *rng) {
  float mu[8][ND];
  for (int b = 0; b < blobs; b++)
    for (int j = 0; j < ND; j++)
      mu[b][j] = (float)(6.0 * gr_rng_normal(rng));
  for (int r = 0; r < n; r++) {
    const int b = r % blobs;
    float *x = X + (size_t)r * ND;
    for (int j = 0; j < ND; j++)
      x[j] = is_binary(j) ? (float)(gr_rng_uniform(rng) < (mu[b][j] > 0 ? 0.8 : 0.2))
                          : mu[b][j] + (float)gr_rng_normal(rng);
    const int hot = 1 + 4 * (int)gr_rng_below(rng, 5); /* features 1, 5, .., 17: one set */
    for (int j = 1; j < 20; j += 4)
      x[j] = j == hot ? 1.0f : 0.0f;
  }
}

static double exact_d2(const float *x, const float *c) {
  double s = 0;
  for (int j = 0; j < ND; j++)
    s += ((double)x[j] - c[j]) * ((double)x[j] - c[j]);
  return s;
}

static gr_packed_rows *pack(gr_backend *be, const float *X, int n) {
  gr_packed_rows *p = NULL;
  CHECK_OK(gr_pack_x(be, &p, X, n, ND, NULL));
  CHECK_MSG(p != NULL, "the CPU backend declined to pack %d rows", n);
  if (p) CHECK(p->nb == ND - (ND + 3) / 4 && p->n == n);
  return p;
}

/* kmeans_assign and kmeans_step over packed rows, k on one lane group (5,
 * 8), two (13) and five (40). */
static void test_ops(int k) {
  static float X[NR * ND], xn[NR], da[NR], d1[NR], d3[NR], dx[NR];
  gr_backend *b1 = NULL, *b3 = NULL;
  CHECK_OK(gr_backend_cpu_create(&b1, 1));
  CHECK_OK(gr_backend_cpu_create(&b3, 3));
  if (!b1 || !b3) return;
  gr_rng rng;
  gr_rng_seed(&rng, 11 + (uint64_t)k);
  make_rows(X, NR, 3, &rng);
  gr_packed_rows *p = pack(b1, X, NR);
  const size_t kd = (size_t)k * ND;
  float *C = malloc(sizeof(float) * kd);
  int32_t *la = malloc(sizeof(int32_t) * NR * 4), *l1 = la + NR, *l3 = l1 + NR, *lx = l3 + NR;
  double *s1 = calloc(kd * 3, sizeof(double)), *s3 = s1 + kd, *ref = s3 + kd;
  int64_t *n1 = calloc((size_t)k * 3, sizeof(int64_t)), *n3 = n1 + k, *cnt = n3 + k;
  if (!p || !C || !la || !s1 || !n1) goto done;
  for (int c = 0; c < k; c++) /* centers on rows, nudged off them */
    for (int j = 0; j < ND; j++)
      C[c * ND + j] = X[(size_t)(c * 211 % NR) * ND + j] + (float)(0.1 * gr_rng_normal(&rng));
  CHECK_OK(b1->ops->kmeans_row_norms(b1, xn, X, NR, ND));
  CHECK_OK(b1->ops->kmeans_assign(b1, la, da, X, xn, NR, ND, C, k, p));
  CHECK_OK(b1->ops->kmeans_step(b1, l1, d1, s1, n1, X, xn, NR, ND, C, k, p));
  CHECK_OK(b3->ops->kmeans_step(b3, l3, d3, s3, n3, X, xn, NR, ND, C, k, p));
  CHECK_OK(b1->ops->kmeans_assign(b1, lx, dx, X, xn, NR, ND, C, k, NULL));
  CHECK(memcmp(la, l1, sizeof(int32_t) * NR) == 0 && memcmp(da, d1, sizeof(float) * NR) == 0);
  CHECK(memcmp(l1, l3, sizeof(int32_t) * NR) == 0 && memcmp(d1, d3, sizeof(float) * NR) == 0);
  CHECK(memcmp(s1, s3, sizeof(double) * kd) == 0 && memcmp(n1, n3, sizeof(int64_t) * k) == 0);
  /* distances and labels against the exact ones */
  float c_max = 0;
  for (int c = 0; c < k; c++) {
    double s = 0;
    for (int j = 0; j < ND; j++)
      s += (double)C[c * ND + j] * C[c * ND + j];
    c_max = fmaxf(c_max, (float)s);
  }
  int64_t off = 0, not_nearest = 0, differ_unpacked = 0;
  for (int r = 0; r < NR; r++) {
    const float *x = X + (size_t)r * ND;
    const double err = gr_km_dist_error(ND, xn[r], c_max);
    double best = INFINITY;
    for (int c = 0; c < k; c++)
      best = fmin(best, exact_d2(x, C + c * ND));
    const double mine = exact_d2(x, C + (size_t)la[r] * ND);
    off += fabs((double)da[r] - mine) > err;
    not_nearest += mine > best + 2 * err;
    /* the unpacked dots round differently: a different label only at a near-tie */
    if (lx[r] != la[r])
      differ_unpacked += fabs(exact_d2(x, C + (size_t)lx[r] * ND) - mine) > 2 * err;
  }
  CHECK_MSG(off == 0, "k=%d: %lld distances outside the rounding bound", k, (long long)off);
  CHECK_MSG(not_nearest == 0, "k=%d: %lld rows not at their nearest center", k,
            (long long)not_nearest);
  CHECK_MSG(differ_unpacked == 0, "k=%d: %lld labels differ from the unpacked ones, not at a tie",
            k, (long long)differ_unpacked);
  /* the contract's sums of X's rows: per chunk in row order, chunks in order */
  double *part = calloc(kd, sizeof(double));
  if (part) km_chunk_sums(ref, cnt, part, X, la, NR, ND, k);
  free(part);
  CHECK_MSG(memcmp(ref, s1, sizeof(double) * kd) == 0, "k=%d: sums differ from the contract", k);
  CHECK(memcmp(cnt, n1, sizeof(int64_t) * k) == 0);
  /* packed rows of another shape are refused */
  CHECK(b1->ops->kmeans_assign(b1, la, da, X, xn, NR - 1, ND, C, k, p) == GR_ERR_INVALID_ARG);
done:
  if (p) b1->ops->pack_rows_free(b1, p);
  free(C);
  free(la);
  free(s1);
  free(n1);
  b1->ops->destroy(b1);
  b3->ops->destroy(b3);
}

/* The bounded step over packed rows: the labels are kmeans_assign's over
 * the same packed rows at every step, bit for bit, and the fixed-point
 * sums kept from the deltas those of X's rows from scratch, exactly. */
static void test_bounded(int k) {
  static float X[NR * ND], xn[NR];
  gr_backend *be = NULL;
  CHECK_OK(gr_backend_cpu_create(&be, 2));
  if (!be) return;
  gr_rng rng;
  gr_rng_seed(&rng, 23 + (uint64_t)k);
  make_rows(X, NR, 4, &rng);
  gr_packed_rows *p = pack(be, X, NR);
  CHECK_OK(be->ops->kmeans_row_norms(be, xn, X, NR, ND));
  km_bounded_run r;
  if (p && km_bounded_open(&r, X, NR, ND, k)) {
    const size_t kd = (size_t)k * ND;
    for (int c = 0; c < k; c++)
      memcpy(r.C + c * ND, X + (size_t)(c * 331) * ND, sizeof(float) * ND);
    for (int step = 0; step < 6; step++) {
      km_bounded_check_step(&r, be, X, xn, p, step);
      if (step >= 2)
        CHECK_MSG(r.b.scored < NR / 2, "k=%d step %d: %lld of %d rows scored after a nudge", k,
                  step, (long long)r.b.scored, NR);
      for (size_t i = 0; i < kd; i++)
        r.C[i] += (float)(0.01 * gr_rng_normal(&rng));
    }
    km_bounded_close(&r);
  }
  if (p) be->ops->pack_rows_free(be, p);
  be->ops->destroy(be);
}

/* Whole fits: packed by the fit and given packed, the same bits; in
 * blocks (which reads X's rows) the same labels of planted blobs and the
 * same iterations, the centers equal within rounding. */
static void test_fits(void) {
  static float X[NR * ND];
  gr_rng rng;
  gr_rng_seed(&rng, 3);
  make_rows(X, NR, 6, &rng);
  gr_context *ctx = cpu_test_context(2);
  if (!ctx) return;
  gr_packed_rows *p = pack(ctx->be, X, NR);
  gr_kmeans_params kp;
  gr_kmeans_params_default(&kp);
  kp.k = 6;
  kp.n_init = 2;
  gr_kmeans_result own = {0}, given = {0}, blocks = {0};
  CHECK_OK(gr_kmeans_fit(ctx, X, NR, ND, &kp, &own));
  kp.packed = p;
  CHECK_OK(gr_kmeans_fit(ctx, X, NR, ND, &kp, &given));
  kp.packed = NULL;
  kp.block_rows = GR_KM_CHUNK;
  CHECK_OK(gr_kmeans_fit(ctx, X, NR, ND, &kp, &blocks));
  if (own.labels && given.labels && blocks.labels) {
    CHECK(own.iterations == given.iterations && own.inertia == given.inertia);
    CHECK(memcmp(own.labels, given.labels, sizeof(int32_t) * NR) == 0);
    CHECK(memcmp(own.centroids, given.centroids, sizeof(float) * 6 * ND) == 0);
    CHECK_MSG(own.iterations == blocks.iterations, "%d and %d iterations", own.iterations,
              blocks.iterations);
    CHECK(memcmp(own.labels, blocks.labels, sizeof(int32_t) * NR) == 0);
    /* each distance rounds differently, within gr_km_dist_error: about
     * 1e-7 of |x|^2 + |c|^2, several times the distances here */
    CHECK_NEAR(own.inertia, blocks.inertia, 1e-5 * blocks.inertia);
    double worst = 0;
    for (int i = 0; i < 6 * ND; i++)
      worst = fmax(worst, fabs((double)own.centroids[i] - blocks.centroids[i]) /
                              (1 + fabs((double)blocks.centroids[i])));
    CHECK_MSG(worst < 1e-6, "centers differ by %g", worst);
    /* a saved model's clusters are the fit's: the last labels come from
     * X's rows, as gr_kmeans_predict reads them */
    int32_t *again = malloc(sizeof(int32_t) * NR);
    if (again) {
      CHECK_OK(gr_kmeans_predict(ctx, X, NR, ND, own.centroids, 6, again));
      CHECK(memcmp(again, own.labels, sizeof(int32_t) * NR) == 0);
    }
    free(again);
    /* the planted blobs: rows r and r + 6 always together */
    int64_t split = 0;
    for (int r = 0; r + 6 < NR; r++)
      split += own.labels[r] != own.labels[r + 6];
    CHECK_MSG(split == 0, "%lld planted pairs split", (long long)split);
  }
  gr_kmeans_result_free(&own);
  gr_kmeans_result_free(&given);
  gr_kmeans_result_free(&blocks);
  if (p) ctx->be->ops->pack_rows_free(ctx->be, p);
  gr_context_free(ctx);
}

int main(void) {
  test_ops(5);
  test_ops(8);
  test_ops(13);
  test_ops(40);
  test_bounded(5);
  test_bounded(8);
  test_bounded(13);
  test_fits();
  return gr_test_finish();
}
