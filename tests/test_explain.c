/* gr_als_explain against an independent reference: the user's matrix A
 * inverted by Gauss-Jordan in double, each share c_j y_t^T A^-1 y_j; the
 * shares adding up to the score of the exact user factors (which come from
 * the float Cholesky of gr_als_user_factors); order, duplicates, unused
 * slots and refusals. Models are random factors, not fits: the identity
 * holds for any item factors. */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/als_model.h"
#include "test_util.h"

#define MAX_K 24
#define N_ITEMS 60

static gr_als_model *random_model(int k, float reg, float alpha, float offset, float log_eps,
                                  uint64_t seed) {
  gr_als_params p;
  gr_als_params_default(&p);
  p.factors = k;
  p.regularization = reg;
  p.alpha = alpha;
  p.confidence_offset = offset;
  p.log_epsilon = log_eps;
  gr_als_model *m = NULL;
  if (gr_als_model_alloc(&m, &p, 1, N_ITEMS) != GR_OK) return NULL;
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  for (int i = 0; i < N_ITEMS * k; i++)
    m->item_factors[i] = (float)(0.3 * gr_rng_normal(&rng));
  if (gr_als_model_update_gram(m) != GR_OK) {
    gr_als_model_free(m);
    return NULL;
  }
  return m;
}

/* inv = A^-1 by Gauss-Jordan with partial pivoting; 0 when singular. */
static int invert(double *inv, const double *A0, int k) {
  double A[MAX_K * MAX_K];
  memcpy(A, A0, sizeof(double) * k * k);
  for (int i = 0; i < k * k; i++)
    inv[i] = i % (k + 1) == 0;
  for (int c = 0; c < k; c++) {
    int piv = c;
    for (int r = c + 1; r < k; r++)
      if (fabs(A[r * k + c]) > fabs(A[piv * k + c])) piv = r;
    if (A[piv * k + c] == 0) return 0;
    for (int j = 0; j < k; j++) {
      double t = A[c * k + j];
      A[c * k + j] = A[piv * k + j];
      A[piv * k + j] = t;
      t = inv[c * k + j];
      inv[c * k + j] = inv[piv * k + j];
      inv[piv * k + j] = t;
    }
    const double d = A[c * k + c];
    for (int j = 0; j < k; j++) {
      A[c * k + j] /= d;
      inv[c * k + j] /= d;
    }
    for (int r = 0; r < k; r++) {
      if (r == c) continue;
      const double f = A[r * k + c];
      for (int j = 0; j < k; j++) {
        A[r * k + j] -= f * A[c * k + j];
        inv[r * k + j] -= f * inv[c * k + j];
      }
    }
  }
  return 1;
}

/* The model's confidence of a summed weight, computed here on its own. */
static double confidence(const gr_als_model *m, float w) {
  const gr_als_params *p = &m->params;
  const double r = p->log_epsilon > 0 ? log1p((double)w / p->log_epsilon) : (double)w;
  return p->confidence_offset + (double)p->alpha * r;
}

/* A random history of n distinct items; returns the shares' reference. */
static void reference_shares(const gr_als_model *m, const int32_t *items, const float *w, int n,
                             int32_t target, double *shares) {
  const int k = m->params.factors;
  double A[MAX_K * MAX_K], inv[MAX_K * MAX_K];
  for (int i = 0; i < k * k; i++)
    A[i] = m->yty_reg[i];
  for (int e = 0; e < n; e++) {
    const double c = confidence(m, w[e]);
    const float *y = m->item_factors + (size_t)items[e] * k;
    for (int a = 0; a < k; a++)
      for (int b = 0; b < k; b++)
        A[a * k + b] += (c - 1.0) * y[a] * y[b];
  }
  CHECK(invert(inv, A, k));
  const float *yt = m->item_factors + (size_t)target * k;
  for (int e = 0; e < n; e++) {
    const double c = confidence(m, w[e]);
    const float *y = m->item_factors + (size_t)items[e] * k;
    double s = 0;
    for (int a = 0; a < k; a++)
      for (int b = 0; b < k; b++)
        s += yt[a] * inv[a * k + b] * y[b];
    shares[e] = c * s;
  }
}

static void test_against_reference(void) {
  const int ks[3] = {3, 8, 24};
  gr_rng rng;
  gr_rng_seed(&rng, 11);
  int trials = 0;
  for (int ki = 0; ki < 3; ki++) {
    const int k = ks[ki];
    gr_als_model *m = random_model(k, 0.5f, 2.0f, ki == 1 ? 1.0f : 0.0f, ki == 2 ? 2.0f : 0.0f,
                                   100 + (uint64_t)k);
    CHECK(m != NULL);
    if (!m) continue;
    for (int trial = 0; trial < 12; trial++, trials++) {
      int32_t items[N_ITEMS], perm[N_ITEMS], targets[4], out_items[4 * N_ITEMS];
      float w[N_ITEMS], out_shares[4 * N_ITEMS], x[MAX_K];
      double scores[4], ref[N_ITEMS];
      for (int i = 0; i < N_ITEMS; i++)
        perm[i] = i;
      for (int i = N_ITEMS - 1; i > 0; i--) { /* shuffle: the first n are the history */
        const int j = (int)gr_rng_below(&rng, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      const int n = 1 + (int)gr_rng_below(&rng, 40);
      for (int e = 0; e < n; e++) {
        items[e] = perm[e];
        w[e] = (float)(0.5 + 10.0 * gr_rng_uniform(&rng));
      }
      for (int t = 0; t < 4; t++) /* unseen items, and one seen */
        targets[t] = t < 3 ? perm[n + t] : items[0];
      CHECK_OK(gr_als_explain(m, items, w, n, targets, 4, n, out_items, out_shares, scores));
      CHECK_OK(gr_als_user_factors(m, items, w, n, x));
      /* a short list is the full list's head (a bounded selection when n > 8 n_top) */
      for (int top = 1; top <= 3; top += 2) {
        int32_t head_items[4 * 3];
        float head_shares[4 * 3];
        double head_scores[4];
        CHECK_OK(
            gr_als_explain(m, items, w, n, targets, 4, top, head_items, head_shares, head_scores));
        int same = 1;
        for (int t = 0; t < 4; t++)
          for (int r = 0; r < top; r++)
            same &= head_items[t * top + r] == (r < n ? out_items[t * n + r] : -1) &&
                    head_shares[t * top + r] == (r < n ? out_shares[t * n + r] : 0.0f);
        CHECK_MSG(same, "k %d trial %d: top %d differs from the full list's head", k, trial, top);
      }
      for (int t = 0; t < 4; t++) {
        reference_shares(m, items, w, n, targets[t], ref);
        double scale = 0, sum = 0, dot = 0, yn = 0, xn = 0;
        for (int e = 0; e < n; e++)
          scale = fmax(scale, fabs(ref[e]));
        const float *yt = m->item_factors + (size_t)targets[t] * k;
        for (int c = 0; c < k; c++) {
          dot += (double)yt[c] * x[c];
          yn += (double)yt[c] * yt[c];
          xn += (double)x[c] * x[c];
        }
        /* the score is y_t . x for the exact factors (float solve: 1e-4) */
        CHECK_MSG(fabs(scores[t] - dot) <= 1e-4 * sqrt(yn * xn) + 1e-7, "k %d: score %g vs %g", k,
                  scores[t], dot);
        int seen[N_ITEMS] = {0}, ordered = 1, matched = 1;
        for (int r = 0; r < n; r++) {
          const int32_t it = out_items[t * n + r];
          const float s = out_shares[t * n + r];
          sum += s;
          if (r > 0) {
            const float prev = out_shares[t * n + r - 1];
            ordered &= prev > s || (prev == s && out_items[t * n + r - 1] < it);
          }
          int e = 0;
          while (e < n && items[e] != it)
            e++;
          if (e == n || seen[e]++) {
            matched = 0;
            continue;
          }
          matched &= fabs(s - ref[e]) <= 1e-5 * scale + 1e-9;
        }
        CHECK_MSG(matched, "k %d trial %d target %d: shares differ from the reference", k, trial,
                  t);
        CHECK_MSG(ordered, "k %d trial %d target %d: shares out of order", k, trial, t);
        CHECK_MSG(fabs(sum - scores[t]) <= 1e-5 * (scale * n + 1e-9), "sum %g vs score %g", sum,
                  scores[t]);
      }
    }
    gr_als_model_free(m);
  }
  CHECK(trials == 36);
}

/* A repeated item counts once with its weights summed; slots past the
 * history are -1 and 0; the top n_top are the first n_top of the full list. */
static void test_duplicates_and_slots(void) {
  gr_als_model *m = random_model(8, 0.5f, 1.0f, 1.0f, 0.0f, 7);
  CHECK(m != NULL);
  if (!m) return;
  const int32_t dup[4] = {5, 9, 5, 2}, merged[3] = {5, 9, 2}, target = 30;
  const float wd[4] = {1.5f, 2.0f, 2.5f, 1.0f}, wm[3] = {4.0f, 2.0f, 1.0f};
  int32_t ia[6], ib[6], ic[2];
  float sa[6], sb[6], sc[2];
  double ca, cb, cc;
  CHECK_OK(gr_als_explain(m, dup, wd, 4, &target, 1, 6, ia, sa, &ca));
  CHECK_OK(gr_als_explain(m, merged, wm, 3, &target, 1, 6, ib, sb, &cb));
  CHECK(memcmp(ia, ib, sizeof ia) == 0 && memcmp(sa, sb, sizeof sa) == 0 && ca == cb);
  CHECK(ia[3] == -1 && ia[4] == -1 && ia[5] == -1 && sa[3] == 0 && sa[5] == 0);
  CHECK(ia[0] >= 0 && ia[1] >= 0 && ia[2] >= 0);
  CHECK_OK(gr_als_explain(m, merged, wm, 3, &target, 1, 2, ic, sc, &cc));
  CHECK(ic[0] == ib[0] && ic[1] == ib[1] && sc[0] == sb[0] && sc[1] == sb[1] && cc == cb);
  /* two items with the same factors and weight share equally: the lower
   * index first, whatever the history's order */
  memcpy(m->item_factors + 4 * 8, m->item_factors + 10 * 8, sizeof(float) * 8);
  CHECK_OK(gr_als_model_update_gram(m));
  const int32_t twins[2] = {10, 4};
  const float wt[2] = {3.0f, 3.0f};
  CHECK_OK(gr_als_explain(m, twins, wt, 2, &target, 1, 2, ic, sc, &cc));
  CHECK(ic[0] == 4 && ic[1] == 10 && sc[0] == sc[1]);
  gr_als_model_free(m);
}

static void test_refusals(void) {
  gr_als_model *m = random_model(4, 0.5f, 1.0f, 0.0f, 0.0f, 3);
  CHECK(m != NULL);
  if (!m) return;
  const int32_t items[2] = {1, 2}, target = 3, outside = N_ITEMS;
  const float w[2] = {1, 1}, zero[2] = {1, 0}, nan[2] = {NAN, 1};
  int32_t oi[2];
  float os[2];
  double sc;
  CHECK(gr_als_explain(m, items, w, 0, &target, 1, 2, oi, os, &sc) == GR_ERR_INVALID_ARG);
  CHECK(gr_als_explain(m, items, w, 2, &target, 1, 0, oi, os, &sc) == GR_ERR_INVALID_ARG);
  CHECK(gr_als_explain(m, items, zero, 2, &target, 1, 2, oi, os, &sc) == GR_ERR_INVALID_ARG);
  CHECK(gr_als_explain(m, items, nan, 2, &target, 1, 2, oi, os, &sc) == GR_ERR_INVALID_ARG);
  CHECK(gr_als_explain(m, items, w, 2, &outside, 1, 2, oi, os, &sc) == GR_ERR_INVALID_ARG);
  CHECK(gr_als_explain(m, &outside, w, 1, &target, 1, 2, oi, os, &sc) == GR_ERR_INVALID_ARG);
  for (int i = 0; i < 16; i++) /* an indefinite system is refused, with its pivot */
    m->yty_reg[i] = i % 5 == 0 ? (i == 10 ? -1.0f : 1.0f) : 0.0f;
  CHECK(gr_als_explain(m, items, w, 2, &target, 1, 2, oi, os, &sc) == GR_ERR_NUMERIC);
  CHECK(contains_text(gr_last_error(), "pivot 3 of 4"));
  gr_als_model_free(m);
}

int main(void) {
  test_against_reference();
  test_duplicates_and_slots();
  test_refusals();
  return gr_test_finish();
}
