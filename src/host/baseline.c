/* The popularity baseline (baseline.h): what any recommender should beat. */
#include "baseline.h"

#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "als_model.h"
#include "ranking.h"

gr_status gr_popularity_model(const gr_als_model *like, const gr_interactions *train,
                              gr_als_model **out) {
  gr_als_params p;
  gr_als_params_default(&p);
  p.factors = 1;
  p.iterations = 1;
  gr_csr seen = {0};
  gr_als_model *m = NULL;
  gr_status st = gr_seen_matrix(like, train, &seen); /* distinct (user, item) pairs */
  if (st == GR_OK) st = gr_als_model_alloc(&m, &p, like->n_users, like->n_items);
  if (st == GR_OK) st = gr_id_map_copy(&m->users, &like->users);
  if (st == GR_OK) st = gr_id_map_copy(&m->items, &like->items);
  if (st == GR_OK) {
    for (int32_t u = 0; u < m->n_users; u++)
      m->user_factors[u] = 1.0f;
    memset(m->item_factors, 0, sizeof(float) * (size_t)m->n_items);
    for (int64_t e = 0; e < seen.nnz; e++) /* counts below 2^24: exact in float */
      m->item_factors[seen.indices[e]] += 1.0f;
    m->iterations_done = 1;
    st = gr_als_model_update_gram(m);
  }
  gr_csr_free(&seen);
  if (st != GR_OK) {
    gr_als_model_free(m);
    return st;
  }
  *out = m;
  return GR_OK;
}
