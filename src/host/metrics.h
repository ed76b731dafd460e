/* Ranking metrics, one user at a time, so they can be checked by hand
 * (tests/test_metrics.c) apart from any model. Definitions in docs/metrics.md. */
#ifndef GR_HOST_METRICS_H
#define GR_HOST_METRICS_H

#include <stdint.h>

#include "gpurec.h"

typedef struct gr_metric_sums {
  double precision, hits, hit_div, recall, ap, ndcg, hit_rate, auc;
  int64_t n_users, n_auc_users;
} gr_metric_sums;

/* ranked: k item indices (-1 = empty slot); test: sorted, n_test > 0. */
void gr_metrics_add_user(gr_metric_sums *s, const int32_t *ranked, int k, const int32_t *test,
                         int64_t n_test);

/* ROC AUC of one user: positives are `test` items, negatives every other
 * item not in `excl` (both sorted); ties count one half.
 * @return NAN when there is no negative or no positive. */
double gr_user_auc(const float *scores, int64_t n_items, const int32_t *excl, int64_t n_excl,
                   const int32_t *test, int64_t n_test);

void gr_metrics_finish(const gr_metric_sums *s, int k, gr_metrics *out);

#endif
