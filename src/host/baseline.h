/* The popularity baseline, as a model the evaluation can rank. */
#ifndef GR_HOST_BASELINE_H
#define GR_HOST_BASELINE_H

#include "gpurec.h"

/* A one-factor model of like's users and items: every user factor is 1 and
 * every item factor the number of distinct users that item has in `train`,
 * so its ranking is "the most popular items the user has not seen" (equal
 * counts: lower item index first) and gr_als_evaluate measures it with the
 * same code, AUC and coverage included. *out: gr_als_model_free. */
gr_status gr_popularity_model(const gr_als_model *like, const gr_interactions *train,
                              gr_als_model **out);

#endif
