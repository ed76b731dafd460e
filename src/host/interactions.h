/* The in-memory interaction list behind gr_interactions: coordinate form
 * (user, item, weight[, timestamp]) plus the two id maps. */
#ifndef GR_HOST_INTERACTIONS_H
#define GR_HOST_INTERACTIONS_H

#include "gpurec.h"
#include "id_map.h"

struct gr_interactions {
  gr_id_map users;
  gr_id_map items;
  int64_t n;
  int64_t cap;
  int32_t *user;      /* (n) */
  int32_t *item;      /* (n) */
  float *weight;      /* (n) */
  int64_t *timestamp; /* (n) or NULL when the input had none */
};

gr_status gr_interactions_create(gr_interactions **out, int with_timestamps);
gr_status gr_interactions_reserve(gr_interactions *x, int64_t cap);
/* Appends one event (indices already interned in x's maps). */
gr_status gr_interactions_push(gr_interactions *x, int32_t user, int32_t item, float weight,
                               int64_t timestamp);
/* An empty list with copies of src's id maps. */
gr_status gr_interactions_create_like(gr_interactions **out, const gr_interactions *src);

#endif
