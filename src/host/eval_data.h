/* What an evaluation reads, built once for the model and shared by the
 * baselines that rank the same users: the training pairs (seen, the
 * model's indices), the held-out pairs not among them, and the users
 * with at least one such pair. The ROC AUC averages over an even sample
 * of those users when users x items is large (GR_AUC_BUDGET scores). */
#ifndef GR_HOST_EVAL_DATA_H
#define GR_HOST_EVAL_DATA_H

#include "als_model.h"
#include "csr.h"

#define GR_AUC_BUDGET 4e8 /* user x item scores computed for the AUC */

typedef struct gr_eval_data {
  gr_csr seen;    /* (users, items) training pairs, no values */
  gr_csr test;    /* (users, items) held-out pairs not seen */
  int32_t *users; /* (n_users) the users with a held-out pair, ascending */
  int64_t n_users;
} gr_eval_data;

gr_status gr_eval_data_build(const gr_als_model *m, const gr_interactions *train,
                             const gr_interactions *test, gr_eval_data *out);
void gr_eval_data_free(gr_eval_data *d);

/* How many of the n_eval users the AUC averages over with n_items items;
 * the i-th of them is users[i * n_eval / n_auc]. */
int64_t gr_eval_auc_users(int64_t n_items, int64_t n_eval);

#endif
