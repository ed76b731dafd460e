/* Reading interactions from CSV: column resolution (by header name or
 * position), event-type weights, weights and timestamps validated with
 * file:line:column messages. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "csv.h"
#include "interactions.h"
#include "timestamp.h"

#define GR_MAX_EVENT_TYPES 64
#define GR_MAX_WEIGHT 1e9

void gr_csv_options_default(gr_csv_options *o) {
  memset(o, 0, sizeof *o);
  o->has_header = -1;
}

/* Named weights, and with `*=w` in the list a weight for any other type. */
typedef struct event_table {
  int n;
  char names[GR_MAX_EVENT_TYPES][64];
  double weights[GR_MAX_EVENT_TYPES];
  int has_other;
  double other;
} event_table;

static gr_status parse_event_weights(event_table *t, const char *spec) {
  t->n = 0;
  t->has_other = 0;
  const char *p = spec;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    if (!eq || eq == p)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "--event-weights: expected name=weight, found '%.*s' (e.g. "
                     "view=1,cart=4,purchase=10)",
                     (int)len, p);
    size_t name_len = (size_t)(eq - p);
    double w;
    if (name_len >= sizeof t->names[0])
      return gr_fail(GR_ERR_INVALID_ARG, "--event-weights: event name too long");
    if (!gr_parse_double(eq + 1, len - name_len - 1, &w) || !isfinite(w) || w < 0 ||
        w > GR_MAX_WEIGHT)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "--event-weights: weight of '%.*s' must be a number in [0, 1e9] (0 drops "
                     "the type)",
                     (int)name_len, p);
    if (name_len == 1 && p[0] == '*') {
      if (t->has_other) return gr_fail(GR_ERR_INVALID_ARG, "--event-weights: '*' is given twice");
      t->has_other = 1;
      t->other = w;
      p += len + (comma != NULL);
      continue;
    }
    if (t->n == GR_MAX_EVENT_TYPES)
      return gr_fail(GR_ERR_INVALID_ARG, "--event-weights: more than %d event types",
                     GR_MAX_EVENT_TYPES);
    memcpy(t->names[t->n], p, name_len);
    t->names[t->n][name_len] = '\0';
    t->weights[t->n++] = w;
    p += len + (comma != NULL);
  }
  if (t->n == 0 && !t->has_other) return gr_fail(GR_ERR_INVALID_ARG, "--event-weights is empty");
  return GR_OK;
}

/* Column positions, -1 = absent. */
typedef struct columns {
  int user, item, weight, event, timestamp;
  int n_expected;
} columns;

static int find_named(const gr_csv *c, const char *explicit_name, const char *const *aliases) {
  for (int f = 0; f < c->n_fields; f++) {
    if (explicit_name) {
      if (gr_field_equals(&c->fields[f], explicit_name)) return f;
      continue;
    }
    for (const char *const *a = aliases; *a; a++)
      if (gr_field_equals(&c->fields[f], *a)) return f;
  }
  return -1;
}

static const char *const k_user_names[] = {"user", "user_id", "userid", NULL};
static const char *const k_item_names[] = {"item", "item_id", "itemid", NULL};
static const char *const k_weight_names[] = {"weight", "rating", "count", "value", NULL};
static const char *const k_event_names[] = {"event", "event_type", NULL};
static const char *const k_time_names[] = {"timestamp", "time", "ts", NULL};

static int looks_like_header(const gr_csv *c, const gr_csv_options *o) {
  const char *const *lists[] = {k_user_names, k_item_names, k_weight_names, k_event_names,
                                k_time_names};
  const char *named[] = {o->user_col, o->item_col, o->weight_col, o->event_col, o->timestamp_col};
  for (int l = 0; l < 5; l++) {
    const char *const one[] = {named[l], NULL};
    if (find_named(c, NULL, named[l] ? one : lists[l]) >= 0) return 1;
  }
  return 0;
}

static gr_status resolve_header(const gr_csv *c, const gr_csv_options *o, columns *cols) {
  cols->user = find_named(c, o->user_col, k_user_names);
  cols->item = find_named(c, o->item_col, k_item_names);
  cols->weight = find_named(c, o->weight_col, k_weight_names);
  cols->event = find_named(c, o->event_col, k_event_names);
  cols->timestamp = find_named(c, o->timestamp_col, k_time_names);
  const struct {
    int pos;
    const char *given, *what, *flag;
  } need[] = {
      {cols->user, o->user_col, "user", "--user-col"},
      {cols->item, o->item_col, "item", "--item-col"},
      {o->weight_col ? cols->weight : 0, o->weight_col, "weight", "--weight-col"},
      {o->event_col ? cols->event : 0, o->event_col, "event", "--event-col"},
      {o->timestamp_col ? cols->timestamp : 0, o->timestamp_col, "timestamp", "--timestamp-col"}};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
    if (need[i].pos >= 0) continue;
    char names[512];
    gr_csv_row_names(c, names, sizeof names);
    return gr_csv_error(c, 1, "no %s column '%s' in the header (columns: %s); name it with %s",
                        need[i].what, need[i].given ? need[i].given : need[i].what, names,
                        need[i].flag);
  }
  /* a name used twice leaves which column is meant to chance; one column
   * in two roles (--user-col a --item-col a) is a mistake */
  const int used[5] = {cols->user, cols->item, cols->weight, cols->event, cols->timestamp};
  static const char *const roles[5] = {"user", "item", "weight", "event", "timestamp"};
  for (int u = 0; u < 5; u++)
    for (int v = u + 1; v < 5; v++)
      if (used[u] >= 0 && used[u] == used[v])
        return gr_csv_error(c, c->fields[used[u]].col, "column %d is both the %s and the %s column",
                            used[u] + 1, roles[u], roles[v]);
  for (int u = 0; u < 5; u++) {
    if (used[u] < 0) continue;
    const gr_field *a = &c->fields[used[u]];
    for (int j = 0; j < c->n_fields; j++) {
      const gr_field *b = &c->fields[j];
      if (j != used[u] && b->len == a->len && memcmp(a->p, b->p, a->len) == 0)
        return gr_csv_error(c, (j > used[u] ? b : a)->col,
                            "the header names column '%.*s' twice (fields %d and %d)",
                            (int)(a->len > 200 ? 200 : a->len), a->p,
                            (j < used[u] ? j : used[u]) + 1, (j > used[u] ? j : used[u]) + 1);
    }
  }
  cols->n_expected = c->n_fields;
  return GR_OK;
}

/* Rows are parsed into a block first and interned afterwards, prefetching
 * the hash slots a few rows ahead: the id tables outgrow the caches on big
 * files, and overlapping those misses is what keeps reading fast. */
#define GR_BLOCK_ROWS 2048
#define GR_PREFETCH_AHEAD 12

typedef struct pending_row {
  const char *user, *item;
  uint32_t user_len, item_len;
  uint64_t user_hash, item_hash;
  float weight;
  int64_t time;
} pending_row;

typedef struct row_block {
  pending_row rows[GR_BLOCK_ROWS];
  int n;
} row_block;

static gr_status flush_block(row_block *b, gr_interactions *x) {
  for (int r = 0; r < b->n; r++) {
    if (r + GR_PREFETCH_AHEAD < b->n) {
      gr_id_map_prefetch(&x->users, b->rows[r + GR_PREFETCH_AHEAD].user_hash);
      gr_id_map_prefetch(&x->items, b->rows[r + GR_PREFETCH_AHEAD].item_hash);
    }
    const pending_row *p = &b->rows[r];
    int32_t u, i;
    GR_TRY(gr_id_map_intern_hashed(&x->users, p->user, p->user_len, p->user_hash, &u));
    GR_TRY(gr_id_map_intern_hashed(&x->items, p->item, p->item_len, p->item_hash, &i));
    GR_TRY(gr_interactions_push(x, u, i, p->weight, p->time));
  }
  b->n = 0;
  return GR_OK;
}

static gr_status read_row(gr_csv *c, gr_interactions *x, row_block *block, const columns *cols,
                          const event_table *events) {
  GR_TRY(gr_csv_check_width(c, cols->n_expected));
  const gr_field *fu = &c->fields[cols->user], *fi = &c->fields[cols->item];
  if (fu->len == 0) return gr_csv_error(c, fu->col, "expected a user id, found an empty field");
  if (fi->len == 0) return gr_csv_error(c, fi->col, "expected an item id, found an empty field");
  GR_TRY(gr_csv_check_utf8(c, fu, "user id"));
  GR_TRY(gr_csv_check_utf8(c, fi, "item id"));
  double w = 1.0;
  if (cols->weight >= 0) {
    const gr_field *fw = &c->fields[cols->weight];
    if (!gr_parse_double(fw->p, fw->len, &w))
      return gr_csv_error(c, fw->col, "expected a number (weight), found '%.*s'",
                          (int)(fw->len > 40 ? 40 : fw->len), fw->p);
    if (!isfinite(w)) return gr_csv_error(c, fw->col, "weight is not finite");
    if (w < 0) return gr_csv_error(c, fw->col, "weight is negative (%g); weights must be >= 0", w);
    if (w > GR_MAX_WEIGHT)
      return gr_csv_error(c, fw->col, "weight %g is too large (at most 1e9)", w);
  }
  if (cols->event >= 0 && events) {
    const gr_field *fe = &c->fields[cols->event];
    int found = -1;
    for (int e = 0; e < events->n && found < 0; e++)
      if (gr_field_equals(fe, events->names[e])) found = e;
    if (found < 0 && !events->has_other)
      return gr_csv_error(c, fe->col,
                          "event '%.*s' has no weight in --event-weights (add it, or '*=w' for "
                          "every type not listed)",
                          (int)(fe->len > 40 ? 40 : fe->len), fe->p);
    w *= found >= 0 ? events->weights[found] : events->other;
  }
  int64_t ts = 0;
  if (cols->timestamp >= 0) {
    const gr_field *ft = &c->fields[cols->timestamp];
    if (!gr_parse_timestamp(ft->p, ft->len, &ts))
      return gr_csv_error(c, ft->col,
                          "expected a timestamp (seconds since 1970 or YYYY-MM-DD[ HH:MM:SS]), "
                          "found '%.*s'",
                          (int)(ft->len > 40 ? 40 : ft->len), ft->p);
  }
  if (w == 0) return GR_OK; /* no information: skipped, as the README says */
  /* weights are stored as float: a tiny positive one must not become 0 */
  if ((float)w < FLT_MIN) {
    const gr_field *fw = &c->fields[cols->weight >= 0 ? cols->weight : cols->event];
    return gr_csv_error(c, fw->col, "weight %g is too small (at least %g, or exactly 0)", w,
                        (double)FLT_MIN);
  }
  if (fu->len > UINT32_MAX || fi->len > UINT32_MAX)
    return gr_csv_error(c, fu->col, "an id is longer than 4 GiB");
  block->rows[block->n++] = (pending_row){fu->p,
                                          fi->p,
                                          (uint32_t)fu->len,
                                          (uint32_t)fi->len,
                                          gr_hash_bytes(fu->p, fu->len),
                                          gr_hash_bytes(fi->p, fi->len),
                                          (float)w,
                                          ts};
  return block->n == GR_BLOCK_ROWS ? flush_block(block, x) : GR_OK;
}

/* Reads every row of an opened CSV; closes it. */
static gr_status read_interactions(gr_interactions **out, gr_csv *opened, const char *path,
                                   const gr_csv_options *opts) {
  gr_csv c = *opened;
  event_table events;
  gr_status st0 = opts->event_weights ? parse_event_weights(&events, opts->event_weights) : GR_OK;
  if (st0 != GR_OK) {
    gr_csv_close(&c);
    return st0;
  }
  const event_table *ev = opts->event_weights ? &events : NULL;
  gr_interactions *x = NULL;
  row_block *block = NULL;
  gr_status st;
  int done = 0;
  GR_CHECK_GOTO(st, gr_csv_next(&c, &done), fail);
  if (done) {
    st = gr_fail(GR_ERR_PARSE, "%s: the file is empty (expected user,item[,weight] rows)", path);
    goto fail;
  }
  columns cols = {0, 1, -1, -1, -1, 0};
  const int header = opts->has_header >= 0 ? opts->has_header : looks_like_header(&c, opts);
  if (header) {
    GR_CHECK_GOTO(st, resolve_header(&c, opts, &cols), fail);
  } else {
    if (opts->user_col || opts->item_col || opts->weight_col || opts->event_col ||
        opts->timestamp_col) {
      st = gr_csv_error(&c, 1, "column names were given but the file has no header row");
      goto fail;
    }
    cols.n_expected = c.n_fields;
    if (c.n_fields >= 3) cols.weight = 2;
    if (c.n_fields >= 4) cols.timestamp = 3;
  }
  if (cols.n_expected < 2) {
    st = gr_csv_error(&c, 1, "expected at least two columns (user, item), found %d",
                      cols.n_expected);
    goto fail;
  }
  if (opts->event_weights && cols.event < 0) {
    st = gr_csv_error(&c, 1, "--event-weights was given but there is no event column");
    goto fail;
  }
  if (!ev && cols.event >= 0) {
    if (!opts->default_event_weights) {
      st = gr_csv_error(&c, 1,
                        "the file has an event column; give the weight of each event "
                        "type with --event-weights (e.g. view=1,cart=4,purchase=10)");
      goto fail;
    }
    GR_CHECK_GOTO(st, parse_event_weights(&events, opts->default_event_weights), fail);
    ev = &events;
  }
  GR_CHECK_GOTO(st, gr_interactions_create(&x, cols.timestamp >= 0), fail);
  /* a rough size hint avoids repeated growth on big files */
  GR_CHECK_GOTO(st, gr_interactions_reserve(x, (int64_t)(c.len / 24) + 16), fail);
  block = malloc(sizeof *block);
  if (!block) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate a row block");
    goto fail;
  }
  block->n = 0;
  int64_t rows = 0;
  if (!header) GR_CHECK_GOTO(st, read_row(&c, x, block, &cols, ev), fail);
  rows += !header;
  for (;;) {
    GR_CHECK_GOTO(st, gr_csv_next(&c, &done), fail);
    if (done) break;
    GR_CHECK_GOTO(st, read_row(&c, x, block, &cols, ev), fail);
    rows++;
  }
  GR_CHECK_GOTO(st, flush_block(block, x), fail);
  if (rows == 0) {
    st = gr_fail(GR_ERR_PARSE, "%s:2: expected a row after the header, found the end of the file",
                 path);
    goto fail;
  }
  if (x->n == 0) {
    st = gr_fail(GR_ERR_PARSE, "%s: no interactions: every one of its %lld rows has weight 0", path,
                 (long long)rows);
    goto fail;
  }
  gr_csv_close(&c);
  free(block);
  *out = x;
  return GR_OK;
fail:
  free(block);
  gr_csv_close(&c);
  gr_interactions_free(x);
  return st;
}

gr_status gr_interactions_read_csv(gr_interactions **out, const char *path,
                                   const gr_csv_options *opts) {
  gr_csv_options defaults;
  if (!opts) {
    gr_csv_options_default(&defaults);
    opts = &defaults;
  }
  gr_csv c;
  GR_TRY(gr_csv_open(&c, path, opts->delimiter));
  return read_interactions(out, &c, path, opts);
}

gr_status gr_interactions_read_csv_mem(gr_interactions **out, const char *name, const void *data,
                                       size_t len, const gr_csv_options *opts) {
  gr_csv_options defaults;
  if (!opts) {
    gr_csv_options_default(&defaults);
    opts = &defaults;
  }
  gr_csv c;
  GR_TRY(gr_csv_open_mem(&c, name ? name : "<memory>", data, len, opts->delimiter));
  return read_interactions(out, &c, name ? name : "<memory>", opts);
}
