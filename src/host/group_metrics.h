/* Evaluation figures per item group (docs/metrics.md, "Per group"): how
 * many of a user's top k fall in the groups of the user's held-out items
 * or of the user's training items, the hits, recommendations and held-out
 * pairs of each group, and how close each group's item factors are. */
#ifndef GR_HOST_GROUP_METRICS_H
#define GR_HOST_GROUP_METRICS_H

#include <stdint.h>

#include "gpurec.h"
#include "item_groups.h"

/* An item in several groups counts in each; the totals count it once. */
typedef struct gr_group_sums {
  const gr_item_group_lists *lists; /* the groups of each model item */
  int32_t n_groups;
  /* (n_groups + 1), the last for items without a group */
  int64_t *recommended, *hits, *test_pairs;
  int64_t total_recommended, total_hits, total_test_pairs;
  int64_t *test_mark, *train_mark; /* (n_groups) last user stamp seen there */
  int64_t stamp;
  double precision, match;              /* sums over users, see docs */
  int64_t precision_users, match_users; /* users with a grouped test / train item */
} gr_group_sums;

/* lists stay the caller's and must outlive the sums. */
gr_status gr_group_sums_init(gr_group_sums *s, const gr_item_group_lists *lists);
void gr_group_sums_free(gr_group_sums *s);

/* ranked: k item indices (-1 = empty slot); test and train: the user's
 * sorted held-out and training items. */
void gr_group_sums_add_user(gr_group_sums *s, const int32_t *ranked, int k, const int32_t *test,
                            int64_t n_test, const int32_t *train, int64_t n_train);

/* Mean cosine between the factors of two distinct items of each group:
 * cohesion[g] for g < n_groups, cohesion[n_groups] over all items (the
 * baseline), NaN where fewer than two items have nonzero finite factors.
 * n_in_group[g] counts the items of each group, n_in_group[n_groups]
 * those without one. Both have n_groups + 1 entries.
 * @return GR_ERR_NOMEM or GR_OK. */
gr_status gr_group_cohesion(const float *item_factors, int factors,
                            const gr_item_group_lists *lists, double *cohesion,
                            int64_t *n_in_group);

/* gr_als_evaluate that also adds every evaluated user to `groups` (NULL:
 * none), whose lists are indexed by the model's items. */
gr_status gr_als_evaluate_grouped(gr_context *ctx, const gr_als_model *m,
                                  const gr_interactions *train, const gr_interactions *test, int k,
                                  gr_group_sums *groups, gr_metrics *out);

#endif
