/* Reading an item-to-group mapping CSV (see item_groups.h). */
#include "item_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "csv.h"

void gr_item_groups_free(gr_item_groups *g) {
  if (!g) return;
  gr_id_map_free(&g->items);
  gr_id_map_free(&g->groups);
  free(g->first);
  free(g->group);
  free(g);
}

static int find_column(const gr_csv *c, const char *name) {
  for (int f = 0; f < c->n_fields; f++)
    if (gr_field_equals(&c->fields[f], name)) return f;
  return -1;
}

/* The item and group columns of the header row. */
static gr_status resolve_columns(const gr_csv *c, const char *item_col, const char *group_col,
                                 int *item, int *group) {
  char names[512];
  gr_csv_row_names(c, names, sizeof names);
  /* unnamed: the names the interactions reader takes for its item column */
  static const char *const k_item_names[] = {"item", "item_id", "itemid"};
  *item = -1;
  for (int a = 0; a < 3 && *item < 0; a++)
    *item = find_column(c, item_col ? item_col : k_item_names[a]);
  if (*item < 0)
    return gr_csv_error(c, 1, "no item column '%s' in the header (columns: %s); name it with %s",
                        item_col ? item_col : "item", names, "--group-item-col");
  if (group_col) {
    *group = find_column(c, group_col);
    if (*group < 0)
      return gr_csv_error(c, 1, "no group column '%s' in the header (columns: %s)", group_col,
                          names);
  } else {
    *group = -1;
    for (int f = 0; f < c->n_fields; f++) {
      if (f == *item || c->fields[f].len == 0) continue;
      if (*group >= 0)
        return gr_csv_error(c, 1,
                            "more than one column could name the group (columns: %s); choose "
                            "one with --group-col",
                            names);
      *group = f;
    }
    if (*group < 0)
      return gr_csv_error(c, 1, "no group column besides the item column (columns: %s)", names);
  }
  if (*group == *item)
    return gr_csv_error(c, 1, "the item and the group column are the same column");
  return GR_OK;
}

/* The rows' (item, group) pairs before they are sorted into lists. */
typedef struct pair_list {
  int32_t (*pair)[2];
  int64_t n, cap;
} pair_list;

static gr_status read_row(gr_csv *c, gr_item_groups *g, pair_list *pairs, int n_expected, int item,
                          int group) {
  GR_TRY(gr_csv_check_width(c, n_expected));
  const gr_field *fi = &c->fields[item], *fg = &c->fields[group];
  if (fi->len == 0) return gr_csv_error(c, fi->col, "empty item id");
  if (fg->len == 0)
    return gr_csv_error(c, fg->col, "empty group for item '%.*s'",
                        (int)(fi->len > 60 ? 60 : fi->len), fi->p);
  GR_TRY(gr_csv_check_utf8(c, fi, "item id"));
  GR_TRY(gr_csv_check_utf8(c, fg, "group"));
  if (pairs->n == pairs->cap) {
    const int64_t grown = pairs->cap < 1024 ? 1024 : pairs->cap * 2;
    void *p = realloc(pairs->pair, sizeof pairs->pair[0] * (size_t)grown);
    if (!p) return gr_fail(GR_ERR_NOMEM, "cannot grow the item-group pairs");
    pairs->pair = p;
    pairs->cap = grown;
  }
  int32_t *pair = pairs->pair[pairs->n++];
  GR_TRY(gr_id_map_intern(&g->items, fi->p, fi->len, &pair[0]));
  return gr_id_map_intern(&g->groups, fg->p, fg->len, &pair[1]);
}

static int cmp_pair(const void *a, const void *b) {
  const int32_t *x = a, *y = b;
  if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
  return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Sorted, distinct pairs into per-item lists. */
static gr_status build_lists(gr_item_groups *g, pair_list *pairs) {
  qsort(pairs->pair, (size_t)pairs->n, sizeof pairs->pair[0], cmp_pair);
  g->first = calloc((size_t)g->items.count + 1, sizeof(int64_t));
  g->group = malloc(sizeof(int32_t) * (size_t)pairs->n);
  if (!g->first || !g->group) return gr_fail(GR_ERR_NOMEM, "cannot allocate the item-group lists");
  int64_t w = 0;
  for (int64_t p = 0; p < pairs->n; p++) {
    if (p > 0 && cmp_pair(pairs->pair[p - 1], pairs->pair[p]) == 0) continue;
    g->group[w++] = pairs->pair[p][1];
    g->first[pairs->pair[p][0] + 1] = w;
  }
  for (int32_t i = 0; i < g->items.count; i++) /* every item has a pair, but be total */
    if (g->first[i + 1] < g->first[i]) g->first[i + 1] = g->first[i];
  return GR_OK;
}

/* Reads the opened c (closed here) into *out. */
static gr_status read_groups(gr_item_groups **out, gr_csv *c, const char *path,
                             const char *item_col, const char *group_col) {
  gr_item_groups *g = calloc(1, sizeof *g);
  pair_list pairs = {0};
  gr_status st = g ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the item-group map");
  if (st != GR_OK) goto fail;
  gr_id_map_init(&g->items);
  gr_id_map_init(&g->groups);
  int done = 0, item = -1, group = -1;
  GR_CHECK_GOTO(st, gr_csv_next(c, &done), fail);
  if (done) {
    st = gr_fail(GR_ERR_PARSE, "%s: the file is empty (expected a header, then item,group rows)",
                 path);
    goto fail;
  }
  GR_CHECK_GOTO(st, resolve_columns(c, item_col, group_col, &item, &group), fail);
  const int n_expected = c->n_fields;
  for (;;) {
    GR_CHECK_GOTO(st, gr_csv_next(c, &done), fail);
    if (done) break;
    GR_CHECK_GOTO(st, read_row(c, g, &pairs, n_expected, item, group), fail);
  }
  if (pairs.n == 0) {
    st = gr_fail(GR_ERR_PARSE, "%s: no item-group rows after the header", path);
    goto fail;
  }
  GR_CHECK_GOTO(st, build_lists(g, &pairs), fail);
  free(pairs.pair);
  gr_csv_close(c);
  *out = g;
  return GR_OK;
fail:
  free(pairs.pair);
  gr_csv_close(c);
  gr_item_groups_free(g);
  return st;
}

gr_status gr_item_groups_read(gr_item_groups **out, const char *path, const char *item_col,
                              const char *group_col) {
  gr_csv c;
  GR_TRY(gr_csv_open(&c, path, 0));
  return read_groups(out, &c, path, item_col, group_col);
}

gr_status gr_item_groups_read_mem(gr_item_groups **out, const char *name, const void *data,
                                  size_t len, const char *item_col, const char *group_col) {
  gr_csv c;
  GR_TRY(gr_csv_open_mem(&c, name, data, len, 0));
  return read_groups(out, &c, name, item_col, group_col);
}

gr_status gr_item_groups_assign(const gr_item_groups *g, const gr_id_map *ids,
                                gr_item_group_lists *out, int64_t *mapped) {
  memset(out, 0, sizeof *out);
  out->n_items = ids->count;
  out->n_groups = g->groups.count;
  int32_t *at = malloc(sizeof(int32_t) * (size_t)(ids->count ? ids->count : 1));
  out->first = malloc(sizeof(int64_t) * ((size_t)ids->count + 1));
  if (!at || !out->first) {
    free(at);
    gr_item_group_lists_free(out);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the items' group lists");
  }
  *mapped = 0;
  out->first[0] = 0;
  for (int32_t i = 0; i < ids->count; i++) {
    const char *id = gr_id_map_get(ids, i);
    at[i] = gr_id_map_find(&g->items, id, strlen(id));
    const int64_t n = at[i] < 0 ? 0 : g->first[at[i] + 1] - g->first[at[i]];
    out->first[i + 1] = out->first[i] + n;
    *mapped += n > 0;
  }
  out->group =
      malloc(sizeof(int32_t) * (size_t)(out->first[ids->count] ? out->first[ids->count] : 1));
  if (!out->group) {
    free(at);
    gr_item_group_lists_free(out);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the items' group lists");
  }
  for (int32_t i = 0; i < ids->count; i++)
    if (at[i] >= 0)
      memcpy(out->group + out->first[i], g->group + g->first[at[i]],
             sizeof(int32_t) * (size_t)(out->first[i + 1] - out->first[i]));
  free(at);
  return GR_OK;
}

void gr_item_group_lists_free(gr_item_group_lists *l) {
  free(l->first);
  free(l->group);
  memset(l, 0, sizeof *l);
}

gr_status gr_item_groups_load_for(const gr_id_map *ids, const char *path, const char *item_col,
                                  const char *group_col, gr_item_groups **file,
                                  gr_item_group_lists *lists, int64_t *mapped) {
  gr_item_groups *g = NULL;
  GR_TRY(gr_item_groups_read(&g, path, item_col, group_col));
  gr_status st = gr_item_groups_assign(g, ids, lists, mapped);
  if (st == GR_OK && *mapped == 0) {
    gr_item_group_lists_free(lists);
    st = gr_fail(GR_ERR_INVALID_ARG,
                 "%s: none of the model's %d items is listed (is the item column right? "
                 "--group-item-col names it)",
                 path, (int)ids->count);
  }
  if (st != GR_OK) {
    gr_item_groups_free(g);
    return st;
  }
  *file = g;
  return GR_OK;
}
