/* Synthetic implicit-feedback data with planted topic structure. */
#ifndef GR_HOST_GEN_INTERACTIONS_H
#define GR_HOST_GEN_INTERACTIONS_H

#include <stdint.h>

#include "gpurec.h"

typedef struct gr_gen_params {
  int32_t n_users, n_items, n_topics;
  int64_t n_events;
  double noise;               /* share of events outside the user's topics */
  double popularity_exponent; /* Zipf exponent of item popularity */
  double days;                /* timestamps spread over this many days */
  uint64_t seed;
} gr_gen_params;

void gr_gen_params_default(gr_gen_params *p);
/* Sets users, items, topics and events for a named scale. */
gr_status gr_gen_scale(const char *name, gr_gen_params *p);
/* Writes `user,item,event,timestamp` rows (temp file + rename). */
gr_status gr_gen_interactions_csv(const gr_gen_params *p, const char *path);
/* Writes the planted topic of every item of the same parameters as
 * `item,topic` rows (`i7,topic3`): an item-group file for evaluation. */
gr_status gr_gen_item_topics_csv(const gr_gen_params *p, const char *path);

#endif
