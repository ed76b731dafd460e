/* Per-group evaluation arithmetic (see group_metrics.h, docs/metrics.md). */
#include "group_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/sorted.h"

gr_status gr_group_sums_init(gr_group_sums *s, const gr_item_group_lists *lists) {
  memset(s, 0, sizeof *s);
  s->lists = lists;
  s->n_groups = lists->n_groups;
  const size_t slots = (size_t)lists->n_groups + 1;
  s->recommended = calloc(slots, sizeof(int64_t));
  s->hits = calloc(slots, sizeof(int64_t));
  s->test_pairs = calloc(slots, sizeof(int64_t));
  s->test_mark = calloc(slots, sizeof(int64_t));
  s->train_mark = calloc(slots, sizeof(int64_t));
  if (s->recommended && s->hits && s->test_pairs && s->test_mark && s->train_mark) return GR_OK;
  gr_group_sums_free(s);
  return gr_fail(GR_ERR_NOMEM, "cannot allocate per-group sums for %d groups",
                 (int)lists->n_groups);
}

void gr_group_sums_free(gr_group_sums *s) {
  free(s->recommended);
  free(s->hits);
  free(s->test_pairs);
  free(s->test_mark);
  free(s->train_mark);
  memset(s, 0, sizeof *s);
}

/* Marks the groups of items[0..n) with the current stamp; 1 if any. */
static int mark_groups(const gr_group_sums *s, const int32_t *items, int64_t n, int64_t *mark) {
  const gr_item_group_lists *l = s->lists;
  int any = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t e = l->first[items[i]]; e < l->first[items[i] + 1]; e++) {
      mark[l->group[e]] = s->stamp;
      any = 1;
    }
  return any;
}

/* Adds 1 to counts[g] for each group g of item, or to counts[n_groups]. */
static void count_item(const gr_group_sums *s, int64_t *counts, int32_t item) {
  const gr_item_group_lists *l = s->lists;
  if (l->first[item] == l->first[item + 1]) counts[s->n_groups]++;
  for (int64_t e = l->first[item]; e < l->first[item + 1]; e++)
    counts[l->group[e]]++;
}

/* 1 if one of item's groups carries the current stamp in mark. */
static int in_marked(const gr_group_sums *s, const int64_t *mark, int32_t item) {
  const gr_item_group_lists *l = s->lists;
  for (int64_t e = l->first[item]; e < l->first[item + 1]; e++)
    if (mark[l->group[e]] == s->stamp) return 1;
  return 0;
}

void gr_group_sums_add_user(gr_group_sums *s, const int32_t *ranked, int k, const int32_t *test,
                            int64_t n_test, const int32_t *train, int64_t n_train) {
  s->stamp++; /* marks start at 0, so stamps from 1 never match a stale mark */
  const int any_test = mark_groups(s, test, n_test, s->test_mark);
  const int any_train = mark_groups(s, train, n_train, s->train_mark);
  for (int64_t t = 0; t < n_test; t++)
    count_item(s, s->test_pairs, test[t]);
  s->total_test_pairs += n_test;
  int64_t in_test_groups = 0, in_train_groups = 0;
  for (int r = 0; r < k; r++) {
    if (ranked[r] < 0) continue;
    count_item(s, s->recommended, ranked[r]);
    s->total_recommended++;
    if (gr_sorted_contains(test, n_test, ranked[r])) {
      count_item(s, s->hits, ranked[r]);
      s->total_hits++;
    }
    in_test_groups += in_marked(s, s->test_mark, ranked[r]);
    in_train_groups += in_marked(s, s->train_mark, ranked[r]);
  }
  if (any_test) {
    s->precision += (double)in_test_groups / k;
    s->precision_users++;
  }
  if (any_train) {
    s->match += (double)in_train_groups / k;
    s->match_users++;
  }
}

/* The mean cosine over the n(n - 1) ordered pairs of n unit vectors with
 * sum S is (|S|^2 - n) / (n (n - 1)): one pass, no pair loop. */
gr_status gr_group_cohesion(const float *item_factors, int factors,
                            const gr_item_group_lists *lists, double *cohesion,
                            int64_t *n_in_group) {
  const int32_t n_groups = lists->n_groups;
  const size_t slots = (size_t)n_groups + 1; /* the last: all items */
  double *sum = calloc(slots * (size_t)factors, sizeof(double));
  int64_t *n_unit = calloc(slots, sizeof(int64_t));
  if (!sum || !n_unit) {
    free(sum);
    free(n_unit);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate group cohesion sums");
  }
  memset(n_in_group, 0, sizeof(int64_t) * slots);
  for (int32_t i = 0; i < lists->n_items; i++) {
    const int64_t e0 = lists->first[i], e1 = lists->first[i + 1];
    if (e0 == e1) n_in_group[n_groups]++;
    for (int64_t e = e0; e < e1; e++)
      n_in_group[lists->group[e]]++;
    const float *y = item_factors + (size_t)i * factors;
    double norm2 = 0;
    for (int f = 0; f < factors; f++)
      norm2 += (double)y[f] * y[f];
    if (!(norm2 > 0) || !isfinite(norm2)) continue; /* a zero row has no direction */
    const double inv = 1.0 / sqrt(norm2);
    for (int64_t e = e0 - 1; e < e1; e++) { /* e0 - 1 stands for "all items" */
      const size_t g = e < e0 ? (size_t)n_groups : (size_t)lists->group[e];
      for (int f = 0; f < factors; f++)
        sum[g * factors + f] += y[f] * inv;
      n_unit[g]++;
    }
  }
  for (size_t g = 0; g < slots; g++) {
    const double n = (double)n_unit[g];
    double s2 = 0;
    for (int f = 0; f < factors; f++)
      s2 += sum[g * factors + f] * sum[g * factors + f];
    cohesion[g] = n_unit[g] < 2 ? NAN : (s2 - n) / (n * (n - 1));
  }
  free(sum);
  free(n_unit);
  return GR_OK;
}
