/* Synthetic training rows read by pair (host/logreg_pairs.c and the CPU
 * logistic-regression operations). gr_lr_pairs_build: every synthetic row
 * in exactly one pair of its own group with its own two X rows, ascending
 * within the pair, pairs in the order of their first row, real rows left
 * out; the same grouping when X is renumbered. The operations on described
 * rows (real rows, and synthetic rows of pairs that span two pair chunks)
 * against a naive double computation over the exact points x_a + gap (x_b
 * - x_a): f and g within 1e-12 of the terms' sizes, H (float sums) within
 * 1e-4 of sqrt(H_aa H_bb), with and without curvature sampling (which
 * leaves out real rows only). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/logreg_pairs.h"
#include "kernels/shared_math.h"
#include "logreg_reference.h"
#include "test_util.h"

/* Descriptors for m groups of seg: about half the rows synthetic, between
 * client c in [0, n_clients) and one of its 5 neighbours, so that pairs
 * repeat; the rest real rows of [0, n_x), some with b == a. */
static void make_rows(gr_rng *rng, const int64_t *seg, int m, int n_x, int n_clients, int32_t *a,
                      int32_t *b, float *gap, uint8_t *y) {
  for (int64_t i = seg[0]; i < seg[m]; i++) {
    if (gr_rng_uniform(rng) < 0.5) {
      a[i] = (int32_t)gr_rng_below(rng, (uint64_t)n_clients);
      b[i] = (int32_t)((a[i] + 1 + (int32_t)gr_rng_below(rng, 5)) % n_clients);
      gap[i] = (float)gr_rng_uniform(rng);
      y[i] = gr_rng_uniform(rng) < 0.9;
    } else {
      a[i] = b[i] = (int32_t)gr_rng_below(rng, (uint64_t)n_x);
      gap[i] = 0.5f; /* not read */
      y[i] = gr_rng_uniform(rng) < 0.3;
    }
  }
}

static void check_build(gr_rng *rng) {
  enum { M = 4, N_X = 500 };
  const int64_t seg[M + 1] = {0, 3000, 3000, 3900, 9000}; /* group 1 empty */
  const int64_t n = seg[M];
  int32_t *a = malloc(sizeof(int32_t) * n), *b = malloc(sizeof(int32_t) * n);
  int32_t *a2 = malloc(sizeof(int32_t) * n), *b2 = malloc(sizeof(int32_t) * n);
  float *gap = malloc(sizeof(float) * n);
  uint8_t *y = malloc((size_t)n), *seen = calloc((size_t)n, 1);
  make_rows(rng, seg, M, N_X, 120, a, b, gap, y);
  gr_lr_pairs P;
  CHECK_OK(gr_lr_pairs_build(&P, a, b, seg, M));
  int64_t n_syn = 0;
  for (int64_t i = 0; i < n; i++)
    n_syn += a[i] != b[i];
  CHECK(P.n_rows == n_syn && P.seg[0] == 0 && P.seg[M] == P.n_pairs && P.start[0] == 0 &&
        P.start[P.n_pairs] == n_syn);
  CHECK(P.n_pairs > 120 && P.n_pairs < 4 * 600); /* pairs repeat, and each group has its own */
  for (int g = 0; g < M; g++) {
    CHECK(P.seg[g] <= P.seg[g + 1]);
    for (int64_t p = P.seg[g]; p < P.seg[g + 1]; p++) {
      CHECK(P.start[p] < P.start[p + 1]);
      if (p > P.seg[g]) CHECK(P.rows[P.start[p - 1]] < P.rows[P.start[p]]); /* first-row order */
      for (int64_t q = P.seg[g]; q < p; q++)
        CHECK(P.a[q] != P.a[p] || P.b[q] != P.b[p]);
      for (int64_t k = P.start[p]; k < P.start[p + 1]; k++) {
        const int64_t i = P.rows[k];
        CHECK(i >= seg[g] && i < seg[g + 1] && a[i] == P.a[p] && b[i] == P.b[p] && !seen[i]);
        if (k > P.start[p]) CHECK(P.rows[k - 1] < i);
        seen[i] = 1;
      }
    }
  }
  int64_t covered = 0;
  for (int64_t i = 0; i < n; i++)
    covered += seen[i];
  CHECK(covered == n_syn);
  /* X renumbered: the same groups, rows and order; the pairs' rows renamed */
  for (int64_t i = 0; i < n; i++) {
    a2[i] = (a[i] * 7 + 3) % N_X;
    b2[i] = (b[i] * 7 + 3) % N_X;
  }
  gr_lr_pairs Q;
  CHECK_OK(gr_lr_pairs_build(&Q, a2, b2, seg, M));
  CHECK(Q.n_pairs == P.n_pairs && Q.n_rows == P.n_rows &&
        memcmp(Q.seg, P.seg, sizeof(int64_t) * (M + 1)) == 0 &&
        memcmp(Q.start, P.start, sizeof(int64_t) * (size_t)(P.n_pairs + 1)) == 0 &&
        memcmp(Q.rows, P.rows, sizeof(int64_t) * (size_t)P.n_rows) == 0);
  for (int64_t p = 0; p < P.n_pairs && Q.n_pairs == P.n_pairs; p++)
    CHECK(Q.a[p] == (P.a[p] * 7 + 3) % N_X && Q.b[p] == (P.b[p] * 7 + 3) % N_X);
  gr_lr_pairs_free(&Q);
  /* no partners: no pairs */
  CHECK_OK(gr_lr_pairs_build(&Q, a, NULL, seg, M));
  CHECK(Q.n_pairs == 0 && Q.n_rows == 0 && Q.seg[M] == 0);
  gr_lr_pairs_free(&Q);
  gr_lr_pairs_free(&P);
  free(a);
  free(b);
  free(a2);
  free(b2);
  free(gap);
  free(y);
  free(seen);
}

static void check_pair_ops(gr_context *ctx, gr_rng *rng, double tau) {
  enum { M = 3, d = 9, D = 10, N_X = 700, CLIENTS = 80 }; /* up to 400 pairs: two pair chunks */
  const int64_t seg[M + 1] = {0, 9000, 10500, 11000};
  const int64_t n = seg[M];
  float *X = malloc(sizeof(float) * N_X * d), *sw = malloc(sizeof(float) * n);
  float *gap = malloc(sizeof(float) * n);
  int32_t *a = malloc(sizeof(int32_t) * n), *b = malloc(sizeof(int32_t) * n);
  uint8_t *y = malloc((size_t)n);
  double theta[M * D], cw[2 * M], f[M], g[M * D], H[M * D * D], f_obj[M];
  const uint8_t active[M] = {1, 1, 0};
  for (int64_t e = 0; e < N_X * d; e++)
    X[e] = (float)gr_rng_normal(rng);
  make_rows(rng, seg, M, N_X, CLIENTS, a, b, gap, y);
  for (int64_t i = 0; i < n; i++)
    sw[i] = (float)(0.5 + gr_rng_uniform(rng));
  for (int e = 0; e < M * D; e++)
    theta[e] = (tau > 0 ? 2.0 : 0.5) * gr_rng_normal(rng);
  for (int e = 0; e < 2 * M; e++)
    cw[e] = 0.5 + gr_rng_uniform(rng);
  for (int e = 0; e < M * D * D; e++)
    H[e] = g[e % (M * D)] = f[e % M] = f_obj[e % M] = -1.0;
  gr_lr_pairs P;
  CHECK_OK(gr_lr_pairs_build(&P, a, b, seg, M));
  CHECK(P.seg[1] - P.seg[0] > 256);
  const gr_lr_rows rows = {a, b, gap, P.seg, P.a, P.b, P.start, P.rows, NULL};
  gr_backend *be = ctx->be;
  CHECK_OK(
      be->ops->logreg_grad_hess(be, g, H, f, theta, X, &rows, y, sw, seg, cw, active, M, d, tau));
  CHECK_OK(be->ops->logreg_objective(be, f_obj, theta, X, &rows, y, sw, seg, cw, active, M, d));
  double worst_h = 0.0;
  int64_t left_out = 0;
  for (int k = 0; k < 2; k++) {
    lr_reference ref;
    lr_reference_init(&ref, theta + k * D, d);
    for (int64_t i = seg[k]; i < seg[k + 1]; i++) {
      const int syn = a[i] != b[i];
      double x[d];
      for (int j = 0; j < d; j++) { /* a synthetic row: the exact point */
        const double u = X[a[i] * d + j], v = X[b[i] * d + j];
        x[j] = syn ? u + (double)gap[i] * (v - u) : u;
      }
      lr_reference_add(&ref, x, y[i], cw[2 * k + y[i]] * sw[i], tau, i - seg[k], syn);
    }
    left_out += ref.left_out;
    worst_h = fmax(worst_h, lr_reference_check(&ref, f[k], f_obj[k], g + k * D, H + k * D * D));
  }
  printf("pair ops (tau %g, %lld pairs, %lld real rows left out): Hessian off by at most %.1e of "
         "sqrt(H_aa H_bb)\n",
         tau, (long long)P.n_pairs, (long long)left_out, worst_h);
  CHECK(tau > 0 ? left_out > 200 : left_out == 0);
  CHECK(f[2] == -1.0 && f_obj[2] == -1.0 && g[2 * D] == -1.0 && H[2 * D * D] == -1.0);
  /* described rows with partners but no pairs are refused */
  const gr_lr_rows bare = {a, b, gap, NULL, NULL, NULL, NULL, NULL, NULL};
  CHECK(be->ops->logreg_objective(be, f_obj, theta, X, &bare, y, sw, seg, cw, active, M, d) ==
        GR_ERR_INVALID_ARG);
  gr_lr_pairs_free(&P);
  free(X);
  free(sw);
  free(gap);
  free(a);
  free(b);
  free(y);
}

int main(void) {
  gr_context *ctx = cpu_test_context(2);
  if (!ctx) return gr_test_finish();
  gr_rng rng;
  gr_rng_seed(&rng, 47);
  check_build(&rng);
  check_pair_ops(ctx, &rng, 0.0);
  check_pair_ops(ctx, &rng, 0.05);
  gr_context_free(ctx);
  return gr_test_finish();
}
