/* Packed rows for the CPU logistic passes (kernels/cpu/packed_rows.h):
 * the 0/1 features of X as bits, read in a permuted order whose sums go
 * back to X's order.
 * - Layout: floats then bits in X's order, each row's values recovered
 *   exactly; a flagged feature that is not 0 or 1 is refused naming its
 *   row; packing that would save little is declined.
 * - The passes over packed rows (real rows, pairs of synthetic rows, X's
 *   own rows) against the naive double reference (f, g within 1e-12 of the
 *   terms' sizes, H within 1e-4 of sqrt(H_aa H_bb)) and against the same
 *   passes over X (f, g within 1e-12; H 1e-5), with and without curvature
 *   sampling.
 * - Whole fits: with packing against without (1e-8), and bit for bit the
 *   same on 1 and 2 threads and in batches (every batch packs alike). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/logreg.h"
#include "host/logreg_pairs.h"
#include "host/logreg_plan.h"
#include "host/packed_x.h"
#include "kernels/cpu/packed_rows.h"
#include "logreg_models.h"
#include "logreg_reference.h"
#include "test_util.h"

/* X (n, d): flagged features 0/1 (each with its own rate), the others normal. */
static void fill_x(gr_rng *rng, float *X, int64_t n, int d, const uint8_t *binary) {
  double rate[LR_REF_MAX_D];
  for (int j = 0; j < d; j++)
    rate[j] = 0.1 + 0.8 * gr_rng_uniform(rng);
  for (int64_t r = 0; r < n; r++)
    for (int j = 0; j < d; j++)
      X[r * d + j] = binary[j] ? (float)(gr_rng_uniform(rng) < rate[j]) : (float)gr_rng_normal(rng);
}

static void check_layout(gr_backend *be, gr_rng *rng) {
  enum { N = 300, d = 23 };
  float *X = malloc(sizeof(float) * N * d);
  uint8_t binary[d];
  int nb = 0;
  for (int j = 0; j < d; j++)
    nb += binary[j] = j % 5 != 2; /* 18 of 23 */
  fill_x(rng, X, N, d, binary);
  uint8_t found[d];
  int n_found = -1;
  CHECK_OK(gr_binary_features(X, N, d, found, &n_found));
  CHECK(n_found == nb && memcmp(found, binary, d) == 0);
  gr_packed_rows *pk = NULL;
  CHECK_OK(be->ops->pack_rows(be, &pk, X, N, d, binary));
  CHECK(pk && pk->nf == d - nb && pk->nb == nb && pk->n_bytes == 3 && pk->n == N);
  CHECK(pk->stride == gr_packed_rows_stride(d, nb) && pk->stride % GR_PACK_ALIGN == 0 &&
        pk->stride >= sizeof(float) * 5 + 3);
  for (int k = 1; pk && k < d; k++) /* floats first, then bits, each in X's order */
    CHECK(binary[pk->order[k - 1]] < binary[pk->order[k]] ||
          (binary[pk->order[k - 1]] == binary[pk->order[k]] && pk->order[k - 1] < pk->order[k]));
  int64_t wrong = 0;
  for (int64_t r = 0; pk && r < N; r++) {
    const float *f = gr_packed_rows_floats(pk, r);
    const unsigned char *bits = gr_packed_rows_bits(pk, r);
    for (int k = 0; k < pk->nf; k++)
      wrong += f[k] != X[r * d + pk->order[k]];
    for (int t = 0; t < pk->nb; t++)
      wrong += (float)((bits[t / 8] >> (t % 8)) & 1) != X[r * d + pk->order[pk->nf + t]];
    for (size_t e = sizeof(float) * pk->nf + (size_t)(pk->nb + 7) / 8; e < pk->stride; e++)
      wrong += ((const unsigned char *)f)[e] != 0; /* padding, and the last byte's spare bits */
    wrong += (bits[pk->n_bytes - 1] >> (pk->nb % 8 ? pk->nb % 8 : 8)) != 0;
  }
  CHECK_MSG(wrong == 0, "%lld packed values differ from X's", (long long)wrong);
  if (pk) be->ops->pack_rows_free(be, pk);

  X[37 * d + 4] = 0.5f; /* feature 4 is flagged binary */
  CHECK_OK(gr_binary_features(X, N, d, found, &n_found));
  CHECK(n_found == nb - 1 && !found[4]);
  pk = NULL;
  CHECK(be->ops->pack_rows(be, &pk, X, N, d, binary) == GR_ERR_INVALID_ARG && !pk);
  CHECK_MSG(strstr(gr_last_error(), "row 37") != NULL, "%s", gr_last_error());
  X[37 * d + 4] = 1.0f;

  uint8_t none[d], all[d];
  memset(none, 0, sizeof none);
  memset(all, 1, sizeof all);
  CHECK_OK(be->ops->pack_rows(be, &pk, X, N, d, none)); /* saves nothing: declined */
  CHECK(pk == NULL);
  float *B = malloc(sizeof(float) * N * d);
  fill_x(rng, B, N, d, all);
  CHECK_OK(be->ops->pack_rows(be, &pk, B, N, d, all));
  CHECK(pk && pk->nf == 0 && pk->stride == GR_PACK_ALIGN);
  if (pk) be->ops->pack_rows_free(be, pk);
  free(B);
  free(X);
}

/* The passes over packed rows for M groups: described rows (real ones and
 * synthetic pairs between the first 60 rows of X) or X's own rows. */
static void check_ops(gr_backend *be, gr_rng *rng, double tau, int described) {
  enum { M = 3, d = 40, D = d + 1, N_X = 9000 };
  const int64_t seg[M + 1] = {0, described ? 7000 : 5000, described ? 8600 : 8000, 9000};
  const int64_t n = seg[M];
  uint8_t binary[d];
  for (int j = 0; j < d; j++)
    binary[j] = j % 4 != 1; /* 30 of 40: 10 floats and 4 bytes of bits */
  float *X = malloc(sizeof(float) * N_X * d), *sw = malloc(sizeof(float) * n);
  float *gap = malloc(sizeof(float) * n);
  int32_t *a = malloc(sizeof(int32_t) * n), *b = malloc(sizeof(int32_t) * n);
  uint8_t *y = malloc((size_t)n);
  fill_x(rng, X, N_X, d, binary);
  for (int64_t i = 0; i < n; i++) {
    const int syn = described && gr_rng_uniform(rng) < 0.4;
    a[i] = described ? (int32_t)gr_rng_below(rng, syn ? 60 : N_X) : (int32_t)i;
    b[i] = syn ? (int32_t)((a[i] + 1 + gr_rng_below(rng, 5)) % 60) : a[i];
    gap[i] = syn ? (float)gr_rng_uniform(rng) : 0.5f;
    y[i] = gr_rng_uniform(rng) < (syn ? 0.9 : 0.3);
    sw[i] = (float)(0.5 + gr_rng_uniform(rng));
  }
  double theta[M * D], cw[2 * M];
  for (int e = 0; e < M * D; e++)
    theta[e] = (tau > 0 ? 1.0 : 0.3) * gr_rng_normal(rng);
  for (int e = 0; e < 2 * M; e++)
    cw[e] = 0.5 + gr_rng_uniform(rng);
  gr_lr_pairs P;
  memset(&P, 0, sizeof P);
  if (described) CHECK_OK(gr_lr_pairs_build(&P, a, b, seg, M));
  gr_packed_rows *pk = NULL;
  CHECK_OK(be->ops->pack_rows(be, &pk, X, N_X, d, binary));
  CHECK(pk != NULL);
  gr_lr_rows plain = {.a = a, .b = b, .gap = gap};
  if (described) {
    plain.pair_seg = P.seg;
    plain.pair_a = P.a;
    plain.pair_b = P.b;
    plain.pair_start = P.start;
    plain.pair_rows = P.rows;
  } else {
    plain = (gr_lr_rows){0};
  }
  gr_lr_rows packed = plain;
  packed.packed = pk;
  const uint8_t active[M] = {1, 0, 1};
  static double g[M * D], H[M * D * D], g0[M * D], H0[M * D * D];
  double f[M], f_obj[M], f0[M];
  CHECK_OK(
      be->ops->logreg_grad_hess(be, g, H, f, theta, X, &packed, y, sw, seg, cw, active, M, d, tau));
  CHECK_OK(be->ops->logreg_objective(be, f_obj, theta, X, &packed, y, sw, seg, cw, active, M, d));
  CHECK_OK(be->ops->logreg_grad_hess(be, g0, H0, f0, theta, X, described ? &plain : NULL, y, sw,
                                     seg, cw, active, M, d, tau));
  double worst_ref = 0.0, worst_plain = 0.0;
  for (int k = 0; k < M; k++) {
    if (!active[k]) continue;
    lr_reference ref;
    lr_reference_init(&ref, theta + k * D, d);
    for (int64_t i = seg[k]; i < seg[k + 1]; i++) {
      const int syn = a[i] != b[i];
      double x[d];
      for (int j = 0; j < d; j++) {
        const double u = X[a[i] * d + j], v = X[b[i] * d + j];
        x[j] = syn ? u + (double)gap[i] * (v - u) : u;
      }
      lr_reference_add(&ref, x, y[i], cw[2 * k + y[i]] * sw[i], tau, i - seg[k], syn);
    }
    worst_ref = fmax(worst_ref, lr_reference_check(&ref, f[k], f_obj[k], g + k * D, H + k * D * D));
    CHECK_NEAR(f[k], f0[k], 1e-12 * fabs(f0[k]));
    for (int e = 0; e < D; e++)
      CHECK_NEAR(g[k * D + e], g0[k * D + e], 1e-12 * ref.size_g[e]);
    for (int e = 0; e < D * D; e++) {
      const double scale =
          sqrt(H0[k * D * D + (e / D) * (D + 1)] * H0[k * D * D + (e % D) * (D + 1)]);
      worst_plain = fmax(worst_plain, fabs(H[k * D * D + e] - H0[k * D * D + e]) / scale);
    }
  }
  printf("packed ops (tau %g, %s): H %.1e from the reference, %.1e from the passes over X\n", tau,
         described ? "described rows" : "X's own rows", worst_ref, worst_plain);
  CHECK(worst_plain <= 1e-5);
  be->ops->pack_rows_free(be, pk);
  gr_lr_pairs_free(&P);
  free(X);
  free(sw);
  free(gap);
  free(a);
  free(b);
  free(y);
}

/* Fits of groups over planted labels, with a warm start in the large group. */
static void check_fits(gr_rng *rng) {
  enum { M = 3, d = 33, N_X = 40000 };
  uint8_t binary[d];
  for (int j = 0; j < d; j++)
    binary[j] = j >= 5;
  float *X = malloc(sizeof(float) * N_X * d);
  fill_x(rng, X, N_X, d, binary);
  double w[d];
  for (int j = 0; j < d; j++)
    w[j] = 0.6 * gr_rng_normal(rng);
  const int64_t seg[M + 1] = {0, 30000, 36000, 40000};
  int32_t *a = malloc(sizeof(int32_t) * N_X);
  uint8_t *y = malloc(N_X);
  for (int64_t i = 0; i < N_X; i++) {
    a[i] = (int32_t)((i * 7919) % N_X); /* every row once, out of order */
    double z = -1.0;
    for (int j = 0; j < d; j++)
      z += w[j] * X[(int64_t)a[i] * d + j];
    y[i] = gr_rng_uniform(rng) < 1.0 / (1.0 + exp(-z));
  }
  const gr_logreg_rows rows = {X, N_X, a, NULL, NULL};
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  gr_context *two = cpu_test_context(2), *one = cpu_test_context(1);
  gr_context *flat = cpu_test_context(2); /* its backend does not pack */
  if (!two || !one || !flat) {
    CHECK(0);
    return;
  }
  gr_backend_ops ops = *flat->be->ops;
  ops.pack_rows = NULL;
  ops.pack_rows_free = NULL;
  flat->be->ops = &ops;
  gr_logreg_model *packed = calloc(M, sizeof *packed), *alone = calloc(M, sizeof *alone);
  gr_logreg_model *plain = calloc(M, sizeof *plain), *batched = calloc(M, sizeof *batched);
  CHECK_OK(gr_logreg_fit_groups_rows(two, &rows, y, NULL, seg, M, d, &p, packed));
  CHECK_OK(gr_logreg_fit_groups_rows(one, &rows, y, NULL, seg, M, d, &p, alone));
  CHECK_OK(gr_logreg_fit_groups_rows(flat, &rows, y, NULL, seg, M, d, &p, plain));
  int first[M + 1], too_big = -1;
  size_t need = 0, budget = (size_t)1 << 20;
  while (gr_logreg_plan_batches(&rows, seg, M, d, &p, budget, first, &too_big, &need) != M &&
         budget < ((size_t)1 << 34))
    budget += budget / 16;
  gr_logreg_params q = p;
  q.max_bytes = (int64_t)budget;
  CHECK_OK(gr_logreg_fit_groups_rows(two, &rows, y, NULL, seg, M, d, &q, batched));
  const double apart = model_distance(packed, plain, M, d);
  printf("packed fits: %.1e from the fit over X; iterations %d %d %d\n", apart,
         packed[0].iterations, packed[1].iterations, packed[2].iterations);
  CHECK_MSG(apart <= 1e-8, "packing moved the models by %g", apart);
  CHECK_MSG(same_models(packed, alone, M, d), "packed fits differ on 1 and 2 threads");
  CHECK_MSG(same_models(packed, batched, M, d), "packed fits differ in batches");
  flat->be->ops = two->be->ops;
  free_models(packed, M);
  free_models(alone, M);
  free_models(plain, M);
  free_models(batched, M);
  gr_context_free(two);
  gr_context_free(one);
  gr_context_free(flat);
  free(X);
  free(a);
  free(y);
}

int main(void) {
  gr_context *ctx = cpu_test_context(2);
  if (!ctx) return gr_test_finish();
  gr_rng rng;
  gr_rng_seed(&rng, 53);
  check_layout(ctx->be, &rng);
  check_ops(ctx->be, &rng, 0.0, 1);
  check_ops(ctx->be, &rng, 0.05, 1);
  check_ops(ctx->be, &rng, 0.0, 0);
  check_fits(&rng);
  gr_context_free(ctx);
  return gr_test_finish();
}
