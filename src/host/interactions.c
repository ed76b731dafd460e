/* Storage and output of interaction lists. */
#include "interactions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "output_file.h"

gr_status gr_interactions_create(gr_interactions **out, int with_timestamps) {
  gr_interactions *x = calloc(1, sizeof *x);
  if (!x) return gr_fail(GR_ERR_NOMEM, "cannot allocate an interaction list");
  gr_id_map_init(&x->users);
  gr_id_map_init(&x->items);
  gr_status st = gr_interactions_reserve(x, 1024);
  if (st == GR_OK && with_timestamps) {
    x->timestamp = malloc((size_t)x->cap * sizeof *x->timestamp);
    if (!x->timestamp) st = gr_fail(GR_ERR_NOMEM, "cannot allocate timestamps");
  }
  if (st != GR_OK) {
    gr_interactions_free(x);
    return st;
  }
  *out = x;
  return GR_OK;
}

gr_status gr_interactions_create_like(gr_interactions **out, const gr_interactions *src) {
  gr_interactions *x;
  GR_TRY(gr_interactions_create(&x, src->timestamp != NULL));
  gr_id_map_free(&x->users);
  gr_id_map_free(&x->items);
  gr_status st = gr_id_map_copy(&x->users, &src->users);
  if (st == GR_OK) st = gr_id_map_copy(&x->items, &src->items);
  if (st != GR_OK) {
    gr_interactions_free(x);
    return st;
  }
  *out = x;
  return GR_OK;
}

gr_status gr_interactions_reserve(gr_interactions *x, int64_t cap) {
  if (cap <= x->cap) return GR_OK;
  int32_t *u = realloc(x->user, (size_t)cap * sizeof *u);
  if (u) x->user = u;
  int32_t *i = realloc(x->item, (size_t)cap * sizeof *i);
  if (i) x->item = i;
  float *w = realloc(x->weight, (size_t)cap * sizeof *w);
  if (w) x->weight = w;
  int ok = u && i && w;
  if (ok && x->timestamp) {
    int64_t *t = realloc(x->timestamp, (size_t)cap * sizeof *t);
    if (t) x->timestamp = t;
    ok = t != NULL;
  }
  if (!ok)
    return gr_fail(GR_ERR_NOMEM, "cannot grow the interaction list to %lld events", (long long)cap);
  x->cap = cap;
  return GR_OK;
}

gr_status gr_interactions_push(gr_interactions *x, int32_t user, int32_t item, float weight,
                               int64_t timestamp) {
  if (x->n == x->cap) GR_TRY(gr_interactions_reserve(x, x->cap * 2));
  x->user[x->n] = user;
  x->item[x->n] = item;
  x->weight[x->n] = weight;
  if (x->timestamp) x->timestamp[x->n] = timestamp;
  x->n++;
  return GR_OK;
}

void gr_interactions_free(gr_interactions *x) {
  if (!x) return;
  gr_id_map_free(&x->users);
  gr_id_map_free(&x->items);
  free(x->user);
  free(x->item);
  free(x->weight);
  free(x->timestamp);
  free(x);
}

int64_t gr_interactions_count(const gr_interactions *x) { return x->n; }
int32_t gr_interactions_n_users(const gr_interactions *x) { return x->users.count; }
int32_t gr_interactions_n_items(const gr_interactions *x) { return x->items.count; }
const char *gr_interactions_user_id(const gr_interactions *x, int32_t i) {
  return i >= 0 && i < x->users.count ? gr_id_map_get(&x->users, i) : NULL;
}
const char *gr_interactions_item_id(const gr_interactions *x, int32_t i) {
  return i >= 0 && i < x->items.count ? gr_id_map_get(&x->items, i) : NULL;
}

/* Ids are written quoted only when they need it. */
void gr_write_csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",;\t\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

gr_status gr_interactions_write_csv(const gr_interactions *x, const char *path) {
  gr_output_file out;
  GR_TRY(gr_output_open(&out, path));
  FILE *f = out.f;
  fputs(x->timestamp ? "user,item,weight,timestamp\n" : "user,item,weight\n", f);
  for (int64_t e = 0; e < x->n; e++) {
    gr_write_csv_field(f, gr_id_map_get(&x->users, x->user[e]));
    fputc(',', f);
    gr_write_csv_field(f, gr_id_map_get(&x->items, x->item[e]));
    fprintf(f, ",%.9g", (double)x->weight[e]);
    if (x->timestamp) fprintf(f, ",%lld", (long long)x->timestamp[e]);
    fputc('\n', f);
  }
  return gr_output_commit(&out);
}
