/* SMOTE's defining property: every synthetic row lies on the segment from
 * a minority row to one of its k nearest minority neighbours (checked by
 * brute force); determinism; the descriptors-only mode (base, neighbour,
 * gap) rebuilding the very same floats; and the edge cases. */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/smote.h"
#include "kernels/shared_math.h"
#include "test_util.h"

static gr_context *ctx1, *ctx2; /* CPU, 1 and 2 threads */

static void check_property(int64_t n, int d, int k, int64_t n_new, uint64_t seed) {
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  float *P = malloc(sizeof(float) * (size_t)(n * d));
  for (int64_t i = 0; i < n * d; i++)
    P[i] = (float)gr_rng_normal(&rng);
  float *out = malloc(sizeof(float) * (size_t)(n_new * d + 1));
  int64_t *u = malloc(sizeof(int64_t) * (size_t)(n_new + 1)),
          *v = malloc(sizeof(int64_t) * (size_t)(n_new + 1));
  CHECK_OK(gr_smote(ctx2, out, u, v, NULL, P, n, d, k, n_new, seed));
  const int keff = k < n - 1 ? k : (int)(n - 1);
  int on_segment = 1, neighbours = 1;
  for (int64_t s = 0; s < n_new; s++) {
    /* v is among u's keff nearest: fewer than keff others are strictly closer */
    double dv = 0;
    for (int j = 0; j < d; j++)
      dv += pow(P[u[s] * d + j] - P[v[s] * d + j], 2);
    int closer = 0;
    for (int64_t w = 0; w < n; w++) {
      if (w == u[s]) continue;
      double dw = 0;
      for (int j = 0; j < d; j++)
        dw += pow(P[u[s] * d + j] - P[w * d + j], 2);
      closer += dw < dv * (1 - 1e-5);
    }
    neighbours &= closer < keff && v[s] != u[s];
    /* out = P[u] + g (P[v] - P[u]) for one g in [0, 1] shared by all coordinates */
    double g = -1;
    for (int j = 0; j < d; j++) {
      const double delta = P[v[s] * d + j] - P[u[s] * d + j];
      if (fabs(delta) > 1e-3) {
        g = (out[s * d + j] - P[u[s] * d + j]) / delta;
        break;
      }
    }
    on_segment &= g >= -1e-5 && g <= 1 + 1e-5;
    for (int j = 0; j < d && g >= 0; j++) {
      const double want = P[u[s] * d + j] + g * (P[v[s] * d + j] - P[u[s] * d + j]);
      on_segment &= fabs(out[s * d + j] - want) < 1e-4;
    }
  }
  CHECK_MSG(neighbours, "n %lld k %d: a neighbour is not among the k nearest", (long long)n, k);
  CHECK_MSG(on_segment, "n %lld k %d: a synthetic row is off its segment", (long long)n, k);
  /* the same seed gives the same rows */
  float *again = malloc(sizeof(float) * (size_t)(n_new * d + 1));
  CHECK_OK(gr_smote(ctx1, again, NULL, NULL, NULL, P, n, d, k, n_new, seed));
  CHECK(memcmp(out, again, sizeof(float) * (size_t)(n_new * d)) == 0);
  /* descriptors only: the same draws, and they rebuild the rows exactly */
  int64_t *u2 = malloc(sizeof(int64_t) * (size_t)(n_new + 1)),
          *v2 = malloc(sizeof(int64_t) * (size_t)(n_new + 1));
  float *gaps = malloc(sizeof(float) * (size_t)(n_new + 1));
  CHECK_OK(gr_smote(ctx1, NULL, u2, v2, gaps, P, n, d, k, n_new, seed));
  int64_t same = 0;
  for (int64_t s = 0; s < n_new; s++) {
    int row = u2[s] == u[s] && v2[s] == v[s] && gaps[s] >= 0.0f && gaps[s] < 1.0f;
    for (int j = 0; j < d; j++)
      row &= gr_smote_lerp(P[u2[s] * d + j], P[v2[s] * d + j], gaps[s]) == out[s * d + j];
    same += row;
  }
  CHECK_MSG(same == n_new, "n %lld k %d: %lld of %lld described rows differ", (long long)n, k,
            (long long)(n_new - same), (long long)n_new);
  free(u2);
  free(v2);
  free(gaps);
  free(again);
  free(P);
  free(out);
  free(u);
  free(v);
}

int main(void) {
  ctx1 = cpu_test_context(1);
  ctx2 = cpu_test_context(2);
  if (!ctx1 || !ctx2) return gr_test_finish();
  check_property(50, 3, 5, 200, 1);
  check_property(300, 8, 5, 1000, 2);
  check_property(2, 4, 5, 10, 3);     /* k capped at n - 1 */
  check_property(1500, 2, 3, 500, 4); /* more rows than one distance tile */
  float one[2] = {1, 2}, out[2];
  CHECK(gr_smote(ctx1, out, NULL, NULL, NULL, one, 1, 2, 5, 1, 1) == GR_ERR_INVALID_ARG);
  CHECK(gr_smote(ctx1, out, NULL, NULL, NULL, one, 1, 2, 0, 1, 1) == GR_ERR_INVALID_ARG);
  gr_context_free(ctx1);
  gr_context_free(ctx2);
  return gr_test_finish();
}
