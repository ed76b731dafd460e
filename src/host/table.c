/* Two passes over the CSV text: the first narrows each column's possible
 * kinds (bool, number, date) value by value, the second parses into typed
 * arrays. Tokenizing unescapes quoted fields in place, so the first pass
 * runs over a copy of the buffer and the second over the original. */
#include "table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "csv.h"
#include "timestamp.h"

enum { CAN_BOOL = 1, CAN_NUMBER = 2, CAN_DATE = 4 };

void gr_table_options_default(gr_table_options *o) {
  memset(o, 0, sizeof *o);
  o->id_name = "id";
}

const char *gr_col_kind_name(gr_col_kind k) {
  static const char *const names[] = {"skip", "id", "bool", "number", "date", "category"};
  return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static int parse_bool(const gr_field *f, double *out) {
  if (gr_field_equals(f, "true")) {
    *out = 1;
    return 1;
  }
  if (gr_field_equals(f, "false")) {
    *out = 0;
    return 1;
  }
  return 0;
}

static int parse_number(const gr_field *f, double *out) {
  return gr_parse_double(f->p, f->len, out) && isfinite(*out);
}

static int parse_date(const gr_field *f, double *out) {
  int64_t seconds;
  if (f->len != 10 || !gr_parse_timestamp(f->p, f->len, &seconds)) return 0;
  *out = (double)(seconds / 86400);
  return 1;
}

/* Empty fields and pandas' NaN spellings are missing values. */
static int is_missing(const gr_field *f) {
  return f->len == 0 || gr_field_equals(f, "nan") || gr_field_equals(f, "null");
}

void gr_table_free(gr_table *t) {
  if (!t) return;
  for (int c = 0; c < t->n_cols; c++) {
    free(t->cols[c].name);
    free(t->cols[c].num);
    free(t->cols[c].level);
    gr_id_map_free(&t->cols[c].levels);
  }
  free(t->cols);
  free(t);
}

int gr_table_find(const gr_table *t, const char *name) {
  for (int c = 0; c < t->n_cols; c++)
    if (strcmp(t->cols[c].name, name) == 0) return c;
  return -1;
}

/* Applies "name=kind,..." overrides; forced[c] = 1 where one applies. */
static gr_status apply_overrides(gr_table *t, const char *spec, int *forced) {
  const char *p = spec;
  while (p && *p) {
    const char *comma = strchr(p, ',');
    const size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    if (!eq)
      return gr_fail(GR_ERR_INVALID_ARG, "--kinds: expected name=kind, found '%.*s'", (int)len, p);
    const size_t name_len = (size_t)(eq - p), kind_len = len - name_len - 1;
    int col = -1;
    for (int c = 0; c < t->n_cols && col < 0; c++)
      if (strlen(t->cols[c].name) == name_len && strncmp(t->cols[c].name, p, name_len) == 0)
        col = c;
    if (col < 0) return gr_fail(GR_ERR_INVALID_ARG, "--kinds: no column '%.*s'", (int)name_len, p);
    int kind = -1;
    for (int k = GR_COL_SKIP; k <= GR_COL_CATEGORY; k++)
      if (k != GR_COL_ID && strlen(gr_col_kind_name((gr_col_kind)k)) == kind_len &&
          strncmp(gr_col_kind_name((gr_col_kind)k), eq + 1, kind_len) == 0)
        kind = k;
    if (kind < 0)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "--kinds: unknown kind '%.*s' (skip, bool, number, date, category)",
                     (int)kind_len, eq + 1);
    if (col == t->id_col)
      return gr_fail(GR_ERR_INVALID_ARG, "--kinds: the id column is always an id");
    t->cols[col].kind = (gr_col_kind)kind;
    forced[col] = 1;
    p = comma ? comma + 1 : NULL;
  }
  return GR_OK;
}

/* Reads the header into t's columns. */
static gr_status read_header(gr_csv *c, gr_table *t, const gr_table_options *o) {
  int done = 0;
  GR_TRY(gr_csv_next(c, &done));
  if (done) return gr_fail(GR_ERR_PARSE, "%s: the file is empty (expected a header row)", c->path);
  t->n_cols = c->n_fields;
  t->cols = calloc((size_t)t->n_cols, sizeof *t->cols);
  if (!t->cols) return gr_fail(GR_ERR_NOMEM, "cannot allocate %d columns", t->n_cols);
  t->id_col = -1;
  for (int f = 0; f < t->n_cols; f++) {
    gr_column *col = &t->cols[f];
    gr_id_map_init(&col->levels);
    const gr_field *h = &c->fields[f];
    /* unnamed columns are called as pandas calls them, so names stay unique */
    col->name = malloc(h->len + 24);
    if (!col->name) return gr_fail(GR_ERR_NOMEM, "cannot allocate a column name");
    if (h->len == 0) {
      snprintf(col->name, 24, "Unnamed: %d", f);
    } else {
      memcpy(col->name, h->p, h->len);
      col->name[h->len] = '\0';
    }
    for (int g = 0; g < f; g++)
      if (strcmp(t->cols[g].name, col->name) == 0)
        return gr_csv_error(c, h->col, "duplicate column name '%s'", col->name);
    if (f == 0 && h->len == 0) {
      col->kind = GR_COL_SKIP;
    } else if (strcmp(col->name, o->id_name) == 0) {
      col->kind = GR_COL_ID;
      t->id_col = f;
    }
  }
  return GR_OK;
}

/* Pass 1: which kinds each column's values allow, and the row count. */
static gr_status infer(gr_csv *c, gr_table *t, unsigned *can) {
  for (int f = 0; f < t->n_cols; f++)
    can[f] = CAN_BOOL | CAN_NUMBER | CAN_DATE;
  int done = 0;
  for (;;) {
    GR_TRY(gr_csv_next(c, &done));
    if (done) return GR_OK;
    if (c->n_fields != t->n_cols)
      return gr_csv_error(c, c->fields[c->n_fields - 1].col, "expected %d fields, found %d",
                          t->n_cols, c->n_fields);
    for (int f = 0; f < t->n_cols; f++) {
      const gr_field *v = &c->fields[f];
      if (!can[f] || is_missing(v)) continue;
      double x;
      if ((can[f] & CAN_BOOL) && !parse_bool(v, &x)) can[f] &= ~(unsigned)CAN_BOOL;
      if ((can[f] & CAN_NUMBER) && !parse_number(v, &x)) can[f] &= ~(unsigned)CAN_NUMBER;
      if ((can[f] & CAN_DATE) && !parse_date(v, &x)) can[f] &= ~(unsigned)CAN_DATE;
    }
    t->n_rows++;
  }
}

static gr_col_kind kind_from(unsigned can) {
  if (can & CAN_BOOL) return GR_COL_BOOL;
  if (can & CAN_NUMBER) return GR_COL_NUMBER;
  if (can & CAN_DATE) return GR_COL_DATE;
  return GR_COL_CATEGORY;
}

/* Pass 2: one value into its column. */
static gr_status store(gr_csv *c, gr_column *col, const gr_field *v, int64_t row) {
  if (col->kind == GR_COL_SKIP) return GR_OK;
  if (col->kind == GR_COL_ID) {
    if (v->len == 0) return gr_csv_error(c, v->col, "expected an id, found an empty field");
    const int32_t before = col->levels.count;
    int32_t idx;
    GR_TRY(gr_id_map_intern(&col->levels, v->p, v->len, &idx));
    if (col->levels.count == before)
      return gr_csv_error(c, v->col, "duplicate id '%.*s'", (int)(v->len > 80 ? 80 : v->len), v->p);
    col->level[row] = idx;
    return GR_OK;
  }
  if (is_missing(v)) {
    col->n_missing++;
    if (col->num) col->num[row] = NAN;
    if (col->level) col->level[row] = -1;
    return GR_OK;
  }
  double x = 0;
  switch (col->kind) {
  case GR_COL_BOOL:
    if (!parse_bool(v, &x))
      return gr_csv_error(c, v->col, "expected True or False in column '%s', found '%.*s'",
                          col->name, (int)(v->len > 40 ? 40 : v->len), v->p);
    break;
  case GR_COL_NUMBER:
    if (!parse_number(v, &x))
      return gr_csv_error(c, v->col, "expected a number in column '%s', found '%.*s'", col->name,
                          (int)(v->len > 40 ? 40 : v->len), v->p);
    break;
  case GR_COL_DATE:
    if (!parse_date(v, &x))
      return gr_csv_error(c, v->col, "expected a date YYYY-MM-DD in column '%s', found '%.*s'",
                          col->name, (int)(v->len > 40 ? 40 : v->len), v->p);
    break;
  case GR_COL_CATEGORY: {
    int32_t idx;
    GR_TRY(gr_id_map_intern(&col->levels, v->p, v->len, &idx));
    col->level[row] = idx;
    return GR_OK;
  }
  default: return GR_OK;
  }
  col->num[row] = x;
  return GR_OK;
}

static gr_status read_table(gr_table **out, gr_csv *src, const gr_table_options *o) {
  gr_table *t = calloc(1, sizeof *t);
  unsigned *can = NULL;
  int *forced = NULL;
  gr_csv copy = {0};
  gr_status st = t ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate a table");
  if (st == GR_OK) st = gr_csv_open_mem(&copy, src->path, src->buf, src->len, src->delim);
  if (st == GR_OK) st = read_header(&copy, t, o);
  if (st == GR_OK) {
    can = calloc((size_t)t->n_cols, sizeof *can);
    forced = calloc((size_t)t->n_cols, sizeof *forced);
    if (!can || !forced) st = gr_fail(GR_ERR_NOMEM, "cannot allocate column state");
  }
  if (st == GR_OK) st = infer(&copy, t, can);
  gr_csv_close(&copy);
  if (st == GR_OK && t->n_rows == 0)
    st = gr_fail(GR_ERR_PARSE, "%s: no rows after the header", src->path);
  if (st == GR_OK) st = apply_overrides(t, o->kinds, forced);
  for (int f = 0; st == GR_OK && f < t->n_cols; f++) {
    gr_column *col = &t->cols[f];
    const int index_col = f == 0 && strcmp(col->name, "Unnamed: 0") == 0;
    if (!forced[f] && !index_col && f != t->id_col) col->kind = kind_from(can[f]);
    if (col->kind == GR_COL_ID || col->kind == GR_COL_CATEGORY) {
      col->level = malloc(sizeof(int32_t) * (size_t)t->n_rows);
      if (!col->level) st = gr_fail(GR_ERR_NOMEM, "cannot allocate column '%s'", col->name);
    } else if (col->kind != GR_COL_SKIP) {
      col->num = malloc(sizeof(double) * (size_t)t->n_rows);
      if (!col->num) st = gr_fail(GR_ERR_NOMEM, "cannot allocate column '%s'", col->name);
    }
  }
  /* pass 2 over the original text */
  int done = 0;
  if (st == GR_OK) st = gr_csv_next(src, &done); /* the header again */
  for (int64_t row = 0; st == GR_OK && row < t->n_rows; row++) {
    st = gr_csv_next(src, &done);
    for (int f = 0; st == GR_OK && f < t->n_cols; f++)
      st = store(src, &t->cols[f], &src->fields[f], row);
  }
  free(can);
  free(forced);
  gr_csv_close(src);
  if (st != GR_OK) {
    gr_table_free(t);
    return st;
  }
  *out = t;
  return GR_OK;
}

gr_status gr_table_read_csv(gr_table **out, const char *path, const gr_table_options *opts) {
  gr_table_options defaults;
  if (!opts) {
    gr_table_options_default(&defaults);
    opts = &defaults;
  }
  gr_csv c;
  GR_TRY(gr_csv_open(&c, path, opts->delimiter));
  return read_table(out, &c, opts);
}

gr_status gr_table_read_csv_mem(gr_table **out, const char *name, const void *data, size_t len,
                                const gr_table_options *opts) {
  gr_table_options defaults;
  if (!opts) {
    gr_table_options_default(&defaults);
    opts = &defaults;
  }
  gr_csv c;
  GR_TRY(gr_csv_open_mem(&c, name ? name : "<memory>", data, len, opts->delimiter));
  return read_table(out, &c, opts);
}
