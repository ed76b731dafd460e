/* A seeded generator of implicit-feedback events with planted structure:
 * items belong to topics and have power-law popularity within them; each
 * user prefers a few topics. An event picks a user (power-law activity),
 * then a topic (one of the user's favourites, or any topic as noise), then
 * an item by popularity within the topic, and an event type that is
 * stronger on favourite topics. The user x item preference matrix therefore
 * has rank about n_topics, which ALS should recover.
 * Events are generated in fixed blocks, each from its own random stream,
 * so the output depends on the seed alone, not on the thread count. */
#include "gen_interactions.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/fmt.h"
#include "../common/rng.h"
#include "output_file.h"

#define GR_GEN_BLOCK 65536
#define GR_GEN_FAVOURITES 3

static const char *const k_event_names[3] = {"view", "cart", "purchase"};

gr_status gr_gen_scale(const char *name, gr_gen_params *p) {
  struct {
    const char *name;
    int32_t users, items, topics;
    int64_t events;
  } scales[] = {{"tiny", 1000, 500, 8, 20000},
                {"small", 20000, 10000, 32, 500000},
                {"medium", 100000, 50000, 64, 3000000},
                {"lastfm", 360000, 290000, 128, 17500000}};
  for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++) {
    if (strcmp(scales[i].name, name) != 0) continue;
    p->n_users = scales[i].users;
    p->n_items = scales[i].items;
    p->n_topics = scales[i].topics;
    p->n_events = scales[i].events;
    return GR_OK;
  }
  return gr_fail(GR_ERR_INVALID_ARG, "unknown scale '%s' (tiny, small, medium, lastfm)", name);
}

void gr_gen_params_default(gr_gen_params *p) {
  memset(p, 0, sizeof *p);
  gr_gen_scale("small", p);
  p->noise = 0.1;
  p->popularity_exponent = 1.0;
  p->seed = 42;
  p->days = 60;
}

/* Index of the first cdf entry > u (cdf ascending, last entry 1). */
static int64_t sample_cdf(const double *cdf, int64_t n, double u) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (cdf[mid] > u) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

typedef struct world {
  int32_t n_topics;
  int32_t *fav;         /* (n_users, GR_GEN_FAVOURITES) favourite topics */
  double *user_cdf;     /* (n_users) activity */
  int32_t *topic_items; /* items grouped by topic */
  int64_t *topic_start; /* (n_topics + 1) */
  double *item_cdf;     /* per topic, cumulative popularity of its items */
} world;

static void world_free(world *w) {
  free(w->fav);
  free(w->user_cdf);
  free(w->topic_items);
  free(w->topic_start);
  free(w->item_cdf);
}

static gr_status world_build(world *w, const gr_gen_params *p) {
  memset(w, 0, sizeof *w);
  const int32_t T = p->n_topics;
  w->n_topics = T;
  w->fav = malloc(sizeof(int32_t) * (size_t)p->n_users * GR_GEN_FAVOURITES);
  w->user_cdf = malloc(sizeof(double) * (size_t)p->n_users);
  w->topic_items = malloc(sizeof(int32_t) * (size_t)p->n_items);
  w->topic_start = calloc((size_t)T + 1, sizeof(int64_t));
  w->item_cdf = malloc(sizeof(double) * (size_t)p->n_items);
  int32_t *topic_of = malloc(sizeof(int32_t) * (size_t)p->n_items);
  if (!w->fav || !w->user_cdf || !w->topic_items || !w->topic_start || !w->item_cdf || !topic_of) {
    free(topic_of);
    world_free(w);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the generator's world");
  }
  gr_rng rng;
  gr_rng_seed_stream(&rng, p->seed, 0xC0FFEE);
  /* users: favourite topics and Pareto-like activity */
  double total = 0;
  for (int32_t u = 0; u < p->n_users; u++) {
    for (int f = 0; f < GR_GEN_FAVOURITES; f++)
      w->fav[(size_t)u * GR_GEN_FAVOURITES + f] = (int32_t)gr_rng_below(&rng, (uint64_t)T);
    total += pow(1.0 - gr_rng_uniform(&rng), -1.0 / 1.5);
    w->user_cdf[u] = total;
  }
  for (int32_t u = 0; u < p->n_users; u++)
    w->user_cdf[u] /= total;
  w->user_cdf[p->n_users - 1] = 1.0;
  /* items: a topic each; popularity by a Zipf law over a random rank */
  for (int32_t i = 0; i < p->n_items; i++) {
    topic_of[i] = (int32_t)gr_rng_below(&rng, (uint64_t)T);
    w->topic_start[topic_of[i] + 1]++;
  }
  for (int32_t t = 0; t < T; t++)
    w->topic_start[t + 1] += w->topic_start[t];
  int64_t *fill = malloc(sizeof(int64_t) * (size_t)T);
  if (!fill) {
    free(topic_of);
    world_free(w);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the generator's world");
  }
  memcpy(fill, w->topic_start, sizeof(int64_t) * (size_t)T);
  for (int32_t i = 0; i < p->n_items; i++)
    w->topic_items[fill[topic_of[i]]++] = i;
  free(fill);
  free(topic_of);
  for (int32_t t = 0; t < T; t++) {
    const int64_t b = w->topic_start[t], e = w->topic_start[t + 1];
    double acc = 0;
    for (int64_t j = b; j < e; j++) {
      acc += pow((double)(j - b) + 1.0, -p->popularity_exponent);
      w->item_cdf[j] = acc;
    }
    for (int64_t j = b; j < e; j++)
      w->item_cdf[j] /= acc;
    if (e > b) w->item_cdf[e - 1] = 1.0;
  }
  return GR_OK;
}

typedef struct event {
  int32_t user, item;
  int8_t type;
  int64_t time;
} event;

static void gen_block(const world *w, const gr_gen_params *p, int64_t block, event *out,
                      int64_t n) {
  gr_rng rng;
  gr_rng_seed_stream(&rng, p->seed, (uint64_t)block + 1);
  const int64_t t0 = 1700000000; /* 2023-11-14 */
  for (int64_t e = 0; e < n; e++) {
    const int32_t u = (int32_t)sample_cdf(w->user_cdf, p->n_users, gr_rng_uniform(&rng));
    int32_t topic;
    int favourite = gr_rng_uniform(&rng) >= p->noise;
    do {
      topic = favourite
                  ? w->fav[(size_t)u * GR_GEN_FAVOURITES + gr_rng_below(&rng, GR_GEN_FAVOURITES)]
                  : (int32_t)gr_rng_below(&rng, (uint64_t)w->n_topics);
      if (w->topic_start[topic + 1] == w->topic_start[topic]) favourite = 0; /* empty topic */
    } while (w->topic_start[topic + 1] == w->topic_start[topic]);
    const int64_t b = w->topic_start[topic], len = w->topic_start[topic + 1] - b;
    const int64_t j = b + sample_cdf(w->item_cdf + b, len, gr_rng_uniform(&rng));
    const double r = gr_rng_uniform(&rng);
    const int8_t type = favourite ? (r < 0.6    ? 0
                                     : r < 0.85 ? 1
                                                : 2)
                                  : (r < 0.9    ? 0
                                     : r < 0.98 ? 1
                                                : 2);
    out[e] = (event){u, w->topic_items[j], type,
                     t0 + (int64_t)(gr_rng_uniform(&rng) * 86400.0 * p->days)};
  }
}

gr_status gr_gen_interactions_csv(const gr_gen_params *p, const char *path) {
  if (p->n_users < 1 || p->n_items < 1 || p->n_events < 1 || p->n_topics < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "users, items, events and topics must be >= 1");
  if (!(p->noise >= 0 && p->noise <= 1))
    return gr_fail(GR_ERR_INVALID_ARG, "noise must be in [0, 1]");
  world w;
  GR_TRY(world_build(&w, p));
  gr_output_file out;
  gr_status st = gr_output_open(&out, path);
  event *ev = NULL;
  char *text = NULL;
  const int threads = omp_get_max_threads();
  const int64_t chunk_blocks = 8 * (int64_t)threads; /* blocks generated per round */
  if (st == GR_OK) {
    ev = malloc(sizeof(event) * (size_t)GR_GEN_BLOCK * (size_t)chunk_blocks);
    text = malloc((size_t)GR_GEN_BLOCK * 64);
    if (!ev || !text) st = gr_fail(GR_ERR_NOMEM, "cannot allocate generator buffers");
  }
  if (st == GR_OK) fputs("user,item,event,timestamp\n", out.f);
  const int64_t n_blocks = (p->n_events + GR_GEN_BLOCK - 1) / GR_GEN_BLOCK;
  for (int64_t b0 = 0; st == GR_OK && b0 < n_blocks; b0 += chunk_blocks) {
    const int64_t nb = n_blocks - b0 < chunk_blocks ? n_blocks - b0 : chunk_blocks;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < nb; b++) {
      const int64_t first = (b0 + b) * GR_GEN_BLOCK;
      const int64_t n = p->n_events - first < GR_GEN_BLOCK ? p->n_events - first : GR_GEN_BLOCK;
      gen_block(&w, p, b0 + b, ev + (size_t)b * GR_GEN_BLOCK, n);
    }
    for (int64_t b = 0; b < nb; b++) {
      const int64_t first = (b0 + b) * GR_GEN_BLOCK;
      const int64_t n = p->n_events - first < GR_GEN_BLOCK ? p->n_events - first : GR_GEN_BLOCK;
      char *s = text;
      for (int64_t e = 0; e < n; e++) {
        const event *x = ev + (size_t)b * GR_GEN_BLOCK + e;
        *s++ = 'u';
        s = gr_put_u64(s, (uint64_t)x->user);
        *s++ = ',';
        *s++ = 'i';
        s = gr_put_u64(s, (uint64_t)x->item);
        *s++ = ',';
        const char *name = k_event_names[x->type];
        const size_t len = strlen(name);
        memcpy(s, name, len);
        s += len;
        *s++ = ',';
        s = gr_put_u64(s, (uint64_t)x->time);
        *s++ = '\n';
      }
      fwrite(text, 1, (size_t)(s - text), out.f);
    }
  }
  free(ev);
  free(text);
  world_free(&w);
  if (st != GR_OK) {
    gr_output_abort(&out);
    return st;
  }
  return gr_output_commit(&out);
}

gr_status gr_gen_item_topics_csv(const gr_gen_params *p, const char *path) {
  if (p->n_items < 1 || p->n_topics < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "items and topics must be >= 1");
  world w;
  GR_TRY(world_build(&w, p));
  gr_output_file out;
  gr_status st = gr_output_open(&out, path);
  if (st == GR_OK) {
    fputs("item,topic\n", out.f);
    for (int32_t t = 0; t < w.n_topics; t++)
      for (int64_t j = w.topic_start[t]; j < w.topic_start[t + 1]; j++)
        fprintf(out.f, "i%d,topic%d\n", (int)w.topic_items[j], (int)t);
    st = gr_output_commit(&out);
  }
  world_free(&w);
  return st;
}
