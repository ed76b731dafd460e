/* Metric arithmetic (see docs/metrics.md for each definition). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sorted.h"

void gr_metrics_add_user(gr_metric_sums *s, const int32_t *ranked, int k, const int32_t *test,
                         int64_t n_test) {
  const double cap = (double)(n_test < k ? n_test : k);
  double hits = 0, ap = 0, dcg = 0, idcg = 0;
  for (int r = 0; r < k; r++) {
    if (r < cap) idcg += 1.0 / log2(r + 2.0);
    if (ranked[r] < 0 || !gr_sorted_contains(test, n_test, ranked[r])) continue;
    hits += 1;
    ap += hits / (r + 1.0);
    dcg += 1.0 / log2(r + 2.0);
  }
  s->precision += hits / k;
  s->hits += hits;
  s->hit_div += cap;
  s->recall += hits / (double)n_test;
  s->ap += ap / cap;
  s->ndcg += dcg / idcg;
  s->hit_rate += hits > 0;
  s->n_users++;
}

static int cmp_float(const void *a, const void *b) {
  const float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* In sorted a[0..n): how many are <= v, and how many are < v. Branch-free
 * halving (a select per step, not a jump): every negative of the market
 * goes through both, and the jumps mispredicted half the time. */
static inline int64_t count_at_most(const float *a, int64_t n, float v) {
  if (n <= 0) return 0;
  const float *base = a;
  for (int64_t len = n; len > 1;) {
    const int64_t half = len / 2;
    base = base[half - 1] <= v ? base + half : base;
    len -= half;
  }
  return (base - a) + (base[0] <= v);
}

static inline int64_t count_below(const float *a, int64_t n, float v) {
  if (n <= 0) return 0;
  const float *base = a;
  for (int64_t len = n; len > 1;) {
    const int64_t half = len / 2;
    base = base[half - 1] < v ? base + half : base;
    len -= half;
  }
  return (base - a) + (base[0] < v);
}

/* Positives at most this many: counted against every item by a vector
 * compare per positive, instead of two binary searches per item. */
#define GR_AUC_FEW_POSITIVES 32

/* The AUC's wins for a few positives: per positive p, the items below it
 * (or NaN, which ranks below anything, as in the binary searches) and the
 * items equal to it, over all items in a vectorized pass; then the items
 * that are no negatives (excluded or test, each once) taken back out. The
 * counts are integers, so the sum equals the per-negative one exactly. */
static double auc_few(const float *scores, int64_t n_items, const int32_t *excl, int64_t n_excl,
                      const int32_t *test, int64_t n_test, const float *pos, int64_t n_pos,
                      int64_t *n_neg) {
  int64_t below[GR_AUC_FEW_POSITIVES], equal[GR_AUC_FEW_POSITIVES];
  for (int64_t p = 0; p < n_pos; p++) {
    const float v = pos[p];
    int64_t lo = 0, eq = 0;
#pragma omp simd reduction(+ : lo, eq)
    for (int64_t i = 0; i < n_items; i++) {
      lo += !(scores[i] >= v);
      eq += scores[i] == v;
    }
    below[p] = lo;
    equal[p] = eq;
  }
  int64_t a = 0, b = 0, removed = 0, last = -1;
  while (a < n_excl || b < n_test) {
    const int32_t r = b >= n_test || (a < n_excl && excl[a] <= test[b]) ? excl[a++] : test[b++];
    if (r == last) continue; /* in both lists, or repeated */
    last = r;
    removed++;
    const float v = scores[r];
    for (int64_t p = 0; p < n_pos; p++) {
      below[p] -= !(v >= pos[p]);
      equal[p] -= v == pos[p];
    }
  }
  *n_neg = n_items - removed;
  double wins = 0;
  for (int64_t p = 0; p < n_pos; p++)
    wins += (double)below[p] + 0.5 * (double)equal[p];
  return wins;
}

double gr_user_auc(const float *scores, int64_t n_items, const int32_t *excl, int64_t n_excl,
                   const int32_t *test, int64_t n_test) {
  float *pos = malloc(sizeof(float) * (size_t)(n_test ? n_test : 1));
  if (!pos) return NAN;
  int64_t n_pos = 0;
  for (int64_t t = 0; t < n_test; t++)
    if (!gr_sorted_contains(excl, n_excl, test[t])) pos[n_pos++] = scores[test[t]];
  if (n_pos == 0) {
    free(pos);
    return NAN;
  }
  if (n_pos <= GR_AUC_FEW_POSITIVES) {
    int64_t n_neg = 0;
    const double wins = auc_few(scores, n_items, excl, n_excl, test, n_test, pos, n_pos, &n_neg);
    free(pos);
    return n_neg == 0 ? NAN : wins / ((double)n_pos * (double)n_neg);
  }
  qsort(pos, (size_t)n_pos, sizeof(float), cmp_float);
  /* for each negative: positives above it win, equal ones count one half */
  double wins = 0;
  int64_t n_neg = 0, e = 0, t = 0;
  for (int64_t i = 0; i < n_items; i++) {
    while (e < n_excl && excl[e] < i)
      e++;
    while (t < n_test && test[t] < i)
      t++;
    if ((e < n_excl && excl[e] == i) || (t < n_test && test[t] == i)) continue;
    const float v = scores[i];
    const int64_t lo = count_at_most(pos, n_pos, v);  /* the first positive > v */
    const int64_t lo_eq = count_below(pos, n_pos, v); /* the first positive >= v */
    wins += (double)(n_pos - lo) + 0.5 * (double)(lo - lo_eq);
    n_neg++;
  }
  free(pos);
  if (n_pos == 0 || n_neg == 0) return NAN;
  return wins / ((double)n_pos * (double)n_neg);
}

void gr_metrics_finish(const gr_metric_sums *s, int k, gr_metrics *out) {
  memset(out, 0, sizeof *out);
  out->k = k;
  out->n_users = s->n_users;
  out->auc_users = s->n_auc_users;
  if (s->n_users == 0) return;
  const double n = (double)s->n_users;
  out->precision = s->precision / n;
  out->precision_implicit = s->hit_div > 0 ? s->hits / s->hit_div : 0;
  out->recall = s->recall / n;
  out->map = s->ap / n;
  out->ndcg = s->ndcg / n;
  out->hit_rate = s->hit_rate / n;
  out->auc = s->n_auc_users ? s->auc / (double)s->n_auc_users : NAN;
}
