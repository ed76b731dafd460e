/* A planted problem for the ALS tests: T topics, items split evenly among
 * them, each user likes exactly one topic and interacts with a random half
 * of its items. The truth is known, so recovery can be measured. */
#ifndef GR_TESTS_PLANTED_H
#define GR_TESTS_PLANTED_H

#include <stdio.h>

#include "common/rng.h"
#include "host/interactions.h"

typedef struct planted {
  int n_users, n_items, n_topics;
  gr_interactions *x;
} planted;

static inline int planted_user_topic(const planted *p, int u) { return u % p->n_topics; }
static inline int planted_item_topic(const planted *p, int i) { return i % p->n_topics; }

static inline int planted_build(planted *p, int n_users, int n_items, int n_topics, uint64_t seed) {
  p->n_users = n_users;
  p->n_items = n_items;
  p->n_topics = n_topics;
  if (gr_interactions_create(&p->x, 0) != GR_OK) return 0;
  char name[32];
  int32_t idx;
  for (int u = 0; u < n_users; u++) {
    snprintf(name, sizeof name, "u%d", u);
    gr_id_map_intern(&p->x->users, name, strlen(name), &idx);
  }
  for (int i = 0; i < n_items; i++) {
    snprintf(name, sizeof name, "i%d", i);
    gr_id_map_intern(&p->x->items, name, strlen(name), &idx);
  }
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  for (int u = 0; u < n_users; u++)
    for (int i = planted_user_topic(p, u); i < n_items; i += n_topics)
      if (gr_rng_below(&rng, 2) == 0)
        gr_interactions_push(p->x, u, i, (float)(1 + gr_rng_below(&rng, 3)), 0);
  return 1;
}

#endif
