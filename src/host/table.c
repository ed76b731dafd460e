/* Two passes over the CSV text, each in parallel over ranges of rows split
 * at row starts (gr_csv_split): the first checks the shape and narrows each
 * column's possible kinds (bool, number, date) value by value, the second
 * parses into the typed arrays. Categories and ids are interned per range
 * and the ranges' levels merged in file order, so that levels are numbered
 * by first appearance and the first error in file order is the one reported,
 * whatever the number of threads. The text is never written (quoted fields
 * are unescaped into each reader's scratch), so both passes read the same
 * mapped file. */
#include "table.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "csv.h"
#include "timestamp.h"

enum { CAN_BOOL = 1, CAN_NUMBER = 2, CAN_DATE = 4, CAN_ALL = 7 };
enum { MSG_CAP = 1024, CACHE_BITS = 6 };
#define MIN_CHUNK ((size_t)256 << 10)
#define MAX_CHUNK ((size_t)4 << 20)
#define MAX_CELLS ((size_t)1 << 20) /* ranges x columns */

void gr_table_options_default(gr_table_options *o) {
  memset(o, 0, sizeof *o);
  o->id_name = "id";
}

const char *gr_col_kind_name(gr_col_kind k) {
  static const char *const names[] = {"skip", "id", "bool", "number", "date", "category"};
  return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

// ---- values -----------------------------------------------------------------

/* The first four bytes of p, ASCII letters lowered (bit 5 set: compared
 * only with lower-case letters, which have it). */
static inline uint32_t lower4(const char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w | 0x20202020u;
}

static inline int parse_bool(const gr_field *f, double *out) {
  static const char t[4] = {'t', 'r', 'u', 'e'}, fa[4] = {'f', 'a', 'l', 's'};
  if (f->len == 4 && lower4(f->p) == lower4(t)) {
    *out = 1;
    return 1;
  }
  if (f->len == 5 && lower4(f->p) == lower4(fa) && (f->p[4] | 0x20) == 'e') {
    *out = 0;
    return 1;
  }
  return 0;
}

static inline int parse_number(const gr_field *f, double *out) {
  return gr_parse_double(f->p, f->len, out) && isfinite(*out);
}

static inline int parse_date(const gr_field *f, double *out) {
  int64_t seconds;
  if (f->len != 10 || !gr_parse_timestamp(f->p, f->len, &seconds)) return 0;
  *out = (double)(seconds / 86400);
  return 1;
}

/* Empty fields and pandas' NaN spellings are missing values. */
static inline int is_missing(const gr_field *f) {
  static const char nul[4] = {'n', 'u', 'l', 'l'};
  if (f->len == 0) return 1;
  if (f->len == 3)
    return (f->p[0] | 0x20) == 'n' && (f->p[1] | 0x20) == 'a' && (f->p[2] | 0x20) == 'n';
  return f->len == 4 && lower4(f->p) == lower4(nul);
}

// ---- the table and its header -----------------------------------------------

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

static gr_col_kind kind_from(unsigned can) {
  if (can & CAN_BOOL) return GR_COL_BOOL;
  if (can & CAN_NUMBER) return GR_COL_NUMBER;
  if (can & CAN_DATE) return GR_COL_DATE;
  return GR_COL_CATEGORY;
}

// ---- ranges of rows ---------------------------------------------------------

typedef struct chunk {
  size_t start, end; /* the rows that start in [start, end) */
  int64_t line0;     /* line breaks before start */
  int64_t n_rows, row0;
  gr_status st;    /* the range's first error */
  int64_t err_row; /* its row within the range */
  int err_col;     /* and its column (pass 2) */
  char msg[MSG_CAP];
} chunk;

typedef struct reader {
  const gr_csv *src;
  gr_table *t;
  int n_chunks, n_threads;
  chunk *chunks;
  unsigned *can;      /* (n_chunks, n_cols) kinds each range allows */
  int64_t *n_missing; /* (n_chunks, n_cols) */
  int *slot;          /* (n_cols) ID and CATEGORY columns: their index in maps, else -1 */
  int n_slots;
  gr_id_map *maps;       /* (n_chunks, n_slots) the levels each range found */
  int *infer, n_infer;   /* the columns whose kind is inferred */
  int *active, n_active; /* the columns that are stored (not SKIP) */
  int first_error;       /* ranges after a failed one need not be read */
} reader;

static void fail_chunk(reader *R, int ki, gr_status st, int64_t row, int col) {
  chunk *k = &R->chunks[ki];
  k->st = st;
  k->err_row = row;
  k->err_col = col;
  snprintf(k->msg, sizeof k->msg, "%s", gr_last_error()); /* messages are per thread */
#pragma omp critical(gr_table_first_error)
  if (ki < R->first_error) R->first_error = ki;
}

static int after_error(const reader *R, int ki) {
  int first;
#pragma omp atomic read
  first = R->first_error;
  return ki > first;
}

/* Pass 1 over one range: the shape of every row and the kinds it allows. */
static void infer_chunk(reader *R, int ki) {
  chunk *k = &R->chunks[ki];
  const gr_table *t = R->t;
  unsigned *can = R->can + (size_t)ki * (size_t)t->n_cols;
  for (int f = 0; f < t->n_cols; f++)
    can[f] = CAN_ALL;
  if (after_error(R, ki)) return;
  int *live = malloc(sizeof(int) * ((size_t)R->n_infer + 1));
  if (!live) {
    fail_chunk(R, ki, gr_fail(GR_ERR_NOMEM, "cannot allocate column state"), 0, 0);
    return;
  }
  int n_live = R->n_infer;
  memcpy(live, R->infer, sizeof(int) * (size_t)n_live);
  gr_csv view, *c = &view; /* this range's reader over the shared text */
  gr_csv_view(c, R->src, k->start, k->line0);
  for (;;) {
    int done = 0;
    gr_status st = gr_csv_next_before(c, k->end, &done);
    if (st != GR_OK) {
      fail_chunk(R, ki, st, k->n_rows, 0);
      break;
    }
    if (done) break;
    if (c->n_fields != t->n_cols) {
      st = gr_csv_error(c, c->fields[c->n_fields - 1].col, "expected %d fields, found %d",
                        t->n_cols, c->n_fields);
      fail_chunk(R, ki, st, k->n_rows, 0);
      break;
    }
    for (int j = 0; j < n_live; j++) {
      const int f = live[j];
      const gr_field *v = &c->fields[f];
      if (is_missing(v)) continue;
      unsigned m = can[f];
      double x;
      if ((m & CAN_BOOL) && !parse_bool(v, &x)) m &= ~(unsigned)CAN_BOOL;
      if ((m & CAN_NUMBER) && !parse_number(v, &x)) m &= ~(unsigned)CAN_NUMBER;
      if ((m & CAN_DATE) && !parse_date(v, &x)) m &= ~(unsigned)CAN_DATE;
      can[f] = m;
      if (!m) live[j--] = live[--n_live]; /* a category: nothing left to learn */
    }
    k->n_rows++;
  }
  free(live);
  gr_csv_close(c);
}

/* A category's level through a small cache of recent levels (most columns
 * have a handful), so that most values skip hashing; levels are the range's. */
typedef struct level_cache {
  int32_t level; /* -1: empty */
  uint32_t len;
} level_cache;

static gr_status intern_level(gr_id_map *levels, level_cache *cache, const gr_field *v,
                              int32_t *out) {
  uint64_t w = 0;
  memcpy(&w, v->p, v->len < 8 ? v->len : 8);
  level_cache *e = &cache[((w ^ v->len) * 0x9E3779B97F4A7C15ULL) >> (64 - CACHE_BITS)];
  if (e->level >= 0 && e->len == v->len &&
      memcmp(gr_id_map_get(levels, e->level), v->p, v->len) == 0) {
    *out = e->level;
    return GR_OK;
  }
  GR_TRY(gr_id_map_intern(levels, v->p, v->len, out));
  if (v->len <= UINT32_MAX) *e = (level_cache){*out, (uint32_t)v->len};
  return GR_OK;
}

/* Pass 2: one value into its column; levels are the range's own. */
static gr_status store(gr_csv *c, gr_column *col, gr_id_map *levels, level_cache *cache,
                       int64_t *n_missing, const gr_field *v, int64_t row) {
  if (col->kind == GR_COL_ID) {
    if (v->len == 0) return gr_csv_error(c, v->col, "expected an id, found an empty field");
    const int32_t before = levels->count;
    int32_t idx;
    GR_TRY(gr_id_map_intern(levels, v->p, v->len, &idx));
    if (levels->count == before)
      return gr_csv_error(c, v->col, "duplicate id '%.*s'", (int)(v->len > 80 ? 80 : v->len), v->p);
    col->level[row] = idx;
    return GR_OK;
  }
  if (is_missing(v)) {
    (*n_missing)++;
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
    GR_TRY(intern_level(levels, cache, v, &idx));
    col->level[row] = idx;
    return GR_OK;
  }
  default: return GR_OK;
  }
  col->num[row] = x;
  return GR_OK;
}

/* Pass 2 over one range. */
static void parse_chunk(reader *R, int ki) {
  chunk *k = &R->chunks[ki];
  gr_table *t = R->t;
  int64_t *n_missing = R->n_missing + (size_t)ki * (size_t)t->n_cols;
  gr_id_map *maps = R->maps + (size_t)ki * (size_t)R->n_slots;
  if (after_error(R, ki)) return;
  const size_t n_cache = ((size_t)R->n_slots << CACHE_BITS) + 1;
  level_cache *caches = malloc(sizeof *caches * n_cache);
  if (!caches) {
    fail_chunk(R, ki, gr_fail(GR_ERR_NOMEM, "cannot allocate column state"), 0, 0);
    return;
  }
  for (size_t i = 0; i < n_cache; i++)
    caches[i].level = -1;
  gr_csv view, *c = &view;
  gr_csv_view(c, R->src, k->start, k->line0);
  for (int64_t r = 0; r < k->n_rows; r++) {
    int done = 0;
    gr_status st = gr_csv_next_before(c, k->end, &done);
    if (st == GR_OK && (done || c->n_fields != t->n_cols))
      st = gr_fail(GR_ERR_INTERNAL, "%s: the rows changed between two readings", c->path);
    if (st != GR_OK) {
      fail_chunk(R, ki, st, r, 0);
      break;
    }
    const int64_t row = k->row0 + r;
    for (int j = 0; j < R->n_active; j++) {
      const int f = R->active[j];
      const int s = R->slot[f] >= 0 ? R->slot[f] : 0; /* unused by other kinds */
      st = store(c, &t->cols[f], &maps[s], caches + ((size_t)s << CACHE_BITS), &n_missing[f],
                 &c->fields[f], row);
      if (st != GR_OK) {
        fail_chunk(R, ki, st, r, f);
        goto done;
      }
    }
  }
done:
  free(caches);
  gr_csv_close(c);
}

/* Merges the ranges' levels of column f, in file order, into its levels and
 * renumbers its rows (with rewrite). For the id column, stops at the first id
 * seen in an earlier range: *dup_chunk and *dup_row (within the range). */
static gr_status merge_levels(reader *R, int f, int last, int rewrite, int *dup_chunk,
                              int64_t *dup_row) {
  gr_column *col = &R->t->cols[f];
  int32_t *remap = NULL;
  int32_t cap = 0;
  gr_status st = GR_OK;
  for (int ki = 0; ki <= last && st == GR_OK; ki++) {
    gr_id_map *m = &R->maps[(size_t)ki * (size_t)R->n_slots + (size_t)R->slot[f]];
    if (m->count == 0) continue;
    if (col->levels.count == 0) { /* the first levels keep their numbers */
      gr_id_map_free(&col->levels);
      col->levels = *m;
      gr_id_map_init(m);
      continue;
    }
    if (m->count > cap) {
      free(remap);
      cap = m->count;
      remap = malloc(sizeof(int32_t) * (size_t)cap);
      if (!remap) st = gr_fail(GR_ERR_NOMEM, "cannot merge the levels of '%s'", col->name);
    }
    for (int32_t l = 0; l < m->count && st == GR_OK; l++) {
      const char *s = gr_id_map_get(m, l);
      const int32_t before = col->levels.count;
      st = gr_id_map_intern(&col->levels, s, strlen(s), &remap[l]);
      if (st == GR_OK && col->kind == GR_COL_ID && col->levels.count == before) {
        *dup_chunk = ki; /* level l of a range's ids is its row l */
        *dup_row = l;
        free(remap);
        return GR_OK;
      }
    }
    const chunk *k = &R->chunks[ki];
    if (st == GR_OK && rewrite)
      for (int64_t r = k->row0; r < k->row0 + k->n_rows; r++)
        if (col->level[r] >= 0) col->level[r] = remap[col->level[r]];
  }
  free(remap);
  return st;
}

/* The message for a duplicate id found by the merge: reads its row again. */
static gr_status duplicate_error(const reader *R, int ki, int64_t row) {
  const chunk *k = &R->chunks[ki];
  gr_csv c;
  gr_csv_view(&c, R->src, k->start, k->line0);
  gr_status st = GR_OK;
  int done = 0;
  for (int64_t r = 0; r <= row && st == GR_OK && !done; r++)
    st = gr_csv_next_before(&c, k->end, &done);
  if (st == GR_OK && !done) {
    const gr_field *v = &c.fields[R->t->id_col];
    st = gr_csv_error(&c, v->col, "duplicate id '%.*s'", (int)(v->len > 80 ? 80 : v->len), v->p);
  } else if (st == GR_OK) {
    st = gr_fail(GR_ERR_INTERNAL, "%s: the rows changed between two readings", c.path);
  }
  gr_csv_close(&c);
  return st;
}

// ---- reading ----------------------------------------------------------------

static void reader_free(reader *R) {
  if (R->maps)
    for (size_t i = 0; i < (size_t)R->n_chunks * (size_t)R->n_slots; i++)
      gr_id_map_free(&R->maps[i]);
  free(R->chunks);
  free(R->can);
  free(R->n_missing);
  free(R->maps);
  free(R->slot);
  free(R->infer);
  free(R->active);
}

/* Splits the rows after the header into ranges. */
static gr_status reader_init(reader *R, const gr_csv *src, gr_table *t, const gr_table_options *o) {
  R->src = src;
  R->t = t;
  const size_t span = src->len > src->pos ? src->len - src->pos : 0;
  /* by default, small texts are read by one thread: starting others costs more */
  R->n_threads = o->n_threads;
  if (R->n_threads <= 0) {
    const size_t useful = span / MAX_CHUNK + 1;
    R->n_threads = omp_get_max_threads();
    if ((size_t)R->n_threads > useful) R->n_threads = (int)useful;
  }
  /* by default a few ranges per thread, from MIN_CHUNK to MAX_CHUNK bytes */
  size_t chunk_bytes = span / (4 * (size_t)R->n_threads);
  chunk_bytes = chunk_bytes < MIN_CHUNK   ? MIN_CHUNK
                : chunk_bytes > MAX_CHUNK ? MAX_CHUNK
                                          : chunk_bytes;
  if (o->chunk_bytes) chunk_bytes = o->chunk_bytes;
  /* per-range state grows with ranges x columns */
  const size_t max_chunks = MAX_CELLS / (size_t)t->n_cols;
  size_t n = span / chunk_bytes + 1;
  n = n < max_chunks ? n : max_chunks;
  R->n_chunks = n > 1 ? (int)n : 1;
  if (R->n_threads > R->n_chunks) R->n_threads = R->n_chunks;
  R->first_error = R->n_chunks;
  const size_t cells = (size_t)R->n_chunks * (size_t)t->n_cols;
  R->chunks = calloc((size_t)R->n_chunks, sizeof *R->chunks);
  R->can = calloc(cells + 1, sizeof *R->can);
  R->n_missing = calloc(cells + 1, sizeof *R->n_missing);
  R->slot = calloc((size_t)t->n_cols + 1, sizeof *R->slot);
  R->infer = calloc((size_t)t->n_cols + 1, sizeof *R->infer);
  R->active = calloc((size_t)t->n_cols + 1, sizeof *R->active);
  size_t *starts = calloc((size_t)R->n_chunks + 1, sizeof *starts);
  int64_t *lines = calloc((size_t)R->n_chunks + 1, sizeof *lines);
  if (!R->chunks || !R->can || !R->n_missing || !R->slot || !R->infer || !R->active || !starts ||
      !lines) {
    free(starts);
    free(lines);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the state to read %s", src->path);
  }
  gr_status st = gr_csv_split(src, R->n_chunks, R->n_threads, starts, lines);
  for (int ki = 0; st == GR_OK && ki < R->n_chunks; ki++) {
    R->chunks[ki].start = starts[ki];
    R->chunks[ki].end = starts[ki + 1];
    R->chunks[ki].line0 = lines[ki];
  }
  free(starts);
  free(lines);
  return st;
}

/* The first error of the ranges, in file order, as this thread's message. */
static gr_status first_chunk_error(const reader *R) {
  const chunk *k = &R->chunks[R->first_error];
  return gr_fail(k->st, "%s", k->msg);
}

/* Pass 2 and the merge of levels; the first error in file order wins. */
static gr_status parse_rows(reader *R) {
  gr_table *t = R->t;
  const int nt = R->n_threads;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
  for (int ki = 0; ki < R->n_chunks; ki++)
    parse_chunk(R, ki);
  /* the id column first: with many levels, it is the longest merge */
  int n_tasks = 0;
  int *tasks = malloc(sizeof(int) * ((size_t)t->n_cols + 1));
  gr_status *sts = calloc((size_t)t->n_cols + 1, sizeof *sts);
  char(*msgs)[MSG_CAP] = calloc((size_t)t->n_cols + 1, sizeof *msgs);
  if (!tasks || !sts || !msgs) {
    free(tasks);
    free(sts);
    free(msgs);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the merge of levels");
  }
  const int failed = R->first_error < R->n_chunks;
  if (t->id_col >= 0) tasks[n_tasks++] = t->id_col;
  for (int f = 0; f < t->n_cols && !failed; f++)
    if (t->cols[f].kind == GR_COL_CATEGORY) tasks[n_tasks++] = f;
  int dup_chunk = -1;
  int64_t dup_row = -1;
  const int last = failed ? R->first_error : R->n_chunks - 1;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1 && n_tasks > 1)
  for (int i = 0; i < n_tasks; i++) {
    sts[i] = merge_levels(R, tasks[i], last, !failed, &dup_chunk, &dup_row);
    if (sts[i] != GR_OK) snprintf(msgs[i], MSG_CAP, "%s", gr_last_error());
  }
  gr_status st = GR_OK;
  const chunk *k = failed ? &R->chunks[R->first_error] : NULL;
  if (dup_chunk >= 0 &&
      (!k || R->chunks[dup_chunk].row0 + dup_row < k->row0 + k->err_row ||
       (R->chunks[dup_chunk].row0 + dup_row == k->row0 + k->err_row && t->id_col < k->err_col)))
    st = duplicate_error(R, dup_chunk, dup_row);
  else if (k)
    st = first_chunk_error(R);
  for (int i = 0; i < n_tasks && st == GR_OK; i++)
    if (sts[i] != GR_OK) st = gr_fail(sts[i], "%s", msgs[i]);
  free(tasks);
  free(sts);
  free(msgs);
  return st;
}

static gr_status read_table(gr_table **out, gr_csv *src, const gr_table_options *o) {
  reader R;
  memset(&R, 0, sizeof R);
  gr_table *t = calloc(1, sizeof *t);
  int *forced = NULL;
  gr_status st = t ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate a table");
  if (st == GR_OK) st = read_header(src, t, o);
  if (st == GR_OK) {
    forced = calloc((size_t)t->n_cols, sizeof *forced);
    if (!forced) st = gr_fail(GR_ERR_NOMEM, "cannot allocate column state");
  }
  /* overrides name the columns pass 1 need not infer; their errors come
   * after those of pass 1 */
  gr_status override_st = GR_OK;
  char override_msg[MSG_CAP];
  if (st == GR_OK) {
    override_st = apply_overrides(t, o->kinds, forced);
    if (override_st != GR_OK) snprintf(override_msg, sizeof override_msg, "%s", gr_last_error());
  }
  if (st == GR_OK) st = reader_init(&R, src, t, o);
  if (st == GR_OK) {
    for (int f = 0; f < t->n_cols; f++) {
      const int index_col = f == 0 && strcmp(t->cols[f].name, "Unnamed: 0") == 0;
      if (!forced[f] && !index_col && f != t->id_col) R.infer[R.n_infer++] = f;
    }
    const int nt = R.n_threads;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int ki = 0; ki < R.n_chunks; ki++)
      infer_chunk(&R, ki);
    if (R.first_error < R.n_chunks) st = first_chunk_error(&R);
  }
  for (int ki = 0; st == GR_OK && ki < R.n_chunks; ki++) {
    R.chunks[ki].row0 = t->n_rows;
    t->n_rows += R.chunks[ki].n_rows;
  }
  if (st == GR_OK && t->n_rows == 0)
    st = gr_fail(GR_ERR_PARSE, "%s: no rows after the header", src->path);
  if (st == GR_OK && override_st != GR_OK) st = gr_fail(override_st, "%s", override_msg);
  for (int f = 0; st == GR_OK && f < t->n_cols; f++) {
    gr_column *col = &t->cols[f];
    unsigned can = CAN_ALL;
    for (int ki = 0; ki < R.n_chunks; ki++)
      can &= R.can[(size_t)ki * (size_t)t->n_cols + (size_t)f];
    const int index_col = f == 0 && strcmp(col->name, "Unnamed: 0") == 0;
    if (!forced[f] && !index_col && f != t->id_col) col->kind = kind_from(can);
    if (col->kind == GR_COL_ID || col->kind == GR_COL_CATEGORY) {
      col->level = malloc(sizeof(int32_t) * (size_t)t->n_rows);
      if (!col->level) st = gr_fail(GR_ERR_NOMEM, "cannot allocate column '%s'", col->name);
    } else if (col->kind != GR_COL_SKIP) {
      col->num = malloc(sizeof(double) * (size_t)t->n_rows);
      if (!col->num) st = gr_fail(GR_ERR_NOMEM, "cannot allocate column '%s'", col->name);
    }
    if (col->kind != GR_COL_SKIP) R.active[R.n_active++] = f;
    R.slot[f] = col->kind == GR_COL_ID || col->kind == GR_COL_CATEGORY ? R.n_slots++ : -1;
  }
  if (st == GR_OK) { /* each range's levels of each ID and CATEGORY column */
    const size_t n = (size_t)R.n_chunks * (size_t)R.n_slots;
    R.maps = calloc(n + 1, sizeof *R.maps);
    if (!R.maps) st = gr_fail(GR_ERR_NOMEM, "cannot allocate the levels of %s", src->path);
    for (size_t i = 0; i < n && st == GR_OK; i++)
      gr_id_map_init(&R.maps[i]);
  }
  if (st == GR_OK) st = parse_rows(&R);
  for (int f = 0; st == GR_OK && f < t->n_cols; f++)
    for (int ki = 0; ki < R.n_chunks; ki++)
      t->cols[f].n_missing += R.n_missing[(size_t)ki * (size_t)t->n_cols + (size_t)f];
  reader_free(&R);
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
  GR_TRY(gr_csv_open_read_only(&c, path, opts->delimiter));
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
  c.read_only = 1; /* both passes read the same text */
  return read_table(out, &c, opts);
}
