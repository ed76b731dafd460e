/* The model behind gr_als_model. */
#ifndef GR_HOST_ALS_MODEL_H
#define GR_HOST_ALS_MODEL_H

#include "csr.h"
#include "gpurec.h"
#include "id_map.h"

struct gr_als_model {
  gr_als_params params;
  gr_id_map users, items;
  int32_t n_users, n_items;
  float *user_factors; /* (n_users, factors) */
  float *item_factors; /* (n_items, factors) */
  float *yty_reg;      /* (factors, factors): Y^T Y + reg I, for new users */
  int iterations_done; /* ALS iterations the factors have been through */
};

gr_status gr_als_model_alloc(gr_als_model **out, const gr_als_params *p, int32_t n_users,
                             int32_t n_items);
/* Recomputes yty_reg from the item factors (CPU). */
gr_status gr_als_model_update_gram(gr_als_model *m);
gr_status gr_als_params_validate(const gr_als_params *p);
/* Turns summed weights r into confidences in place: offset + alpha * r, or
 * with log_epsilon > 0, offset + alpha * log(1 + r / log_epsilon). */
void gr_als_confidences(gr_csr *m, const gr_als_params *p);
/* One user's history (model item indices, raw weights; repeats summed) as a
 * one-row CSR of confidences, as training would see it. GR_ERR_INVALID_ARG
 * for an index outside the model or a weight that is not finite and > 0. */
gr_status gr_als_history_row(const gr_als_model *m, const int32_t *items, const float *weights,
                             int32_t n, gr_csr *row);

/* Maps the interactions' ids onto the model's indices (-1 where unknown).
 * users/items arrays have x->n entries, owned by the caller. */
gr_status gr_als_model_index(const gr_als_model *m, const gr_interactions *x, int32_t **users,
                             int32_t **items, int64_t *n_unknown);

#endif
