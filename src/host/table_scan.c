/* The passes over one range of rows. Every range is read once by the scan,
 * which stores each inferred column's values as the one kind (bool, number
 * or date) they parse as: a value parses as at most one of them, save the
 * 10-character numbers that are also epoch seconds (a date), so the stored
 * numbers are right unless the column turns out a category or a date; the
 * ranges that stored them otherwise are read again (gr_table_redo_chunk).
 * Whether a column is a category is guessed from a sample of each range's
 * first rows, so that its levels are interned in the same reading. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "table_scan.h"
#include "timestamp.h"

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

/* Drops from *can the kinds v does not parse as. @return the first kind
 * (in the order bool, number, date) that it parses as, its value in *x,
 * or 0 with *can = 0. */
static inline unsigned narrow(unsigned *can, const gr_field *v, double *x) {
  unsigned m = *can, as = 0;
  double y;
  if (m & CAN_BOOL) {
    if (parse_bool(v, &y))
      *x = y, as = CAN_BOOL;
    else
      m &= ~(unsigned)CAN_BOOL;
  }
  if (m & CAN_NUMBER) {
    if (!parse_number(v, &y))
      m &= ~(unsigned)CAN_NUMBER;
    else if (!as)
      *x = y, as = CAN_NUMBER;
  }
  if (m & CAN_DATE) {
    if (!parse_date(v, &y))
      m &= ~(unsigned)CAN_DATE;
    else if (!as)
      *x = y, as = CAN_DATE;
  }
  *can = m;
  return as;
}

unsigned gr_table_value_can(const char *p, size_t len) {
  const gr_field f = {.p = p, .len = len};
  unsigned can = CAN_ALL;
  double x;
  narrow(&can, &f, &x);
  return can;
}

// ---- levels and stores ------------------------------------------------------

/* A category's level through a small cache of recent levels (most columns
 * have a handful), so that most values skip hashing; levels are the range's. */
typedef struct level_cache {
  int32_t level; /* -1: empty */
  uint32_t len;
} level_cache;

/* Text is checked for UTF-8 where the cache misses: a level is checked when
 * first seen in a range, and often again after eviction, never per value. */
static gr_status intern_level(const gr_csv *c, const char *col_name, gr_id_map *levels,
                              level_cache *cache, const gr_field *v, int32_t *out) {
  uint64_t w = 0;
  memcpy(&w, v->p, v->len < 8 ? v->len : 8);
  level_cache *e = &cache[((w ^ v->len) * 0x9E3779B97F4A7C15ULL) >> (64 - CACHE_BITS)];
  if (e->level >= 0 && e->len == v->len &&
      memcmp(gr_id_map_get(levels, e->level), v->p, v->len) == 0) {
    *out = e->level;
    return GR_OK;
  }
  if (gr_utf8_invalid_at(v->p, v->len) >= 0) {
    char what[320];
    snprintf(what, sizeof what, "value in column '%.256s'", col_name);
    return gr_csv_check_utf8(c, v, what);
  }
  GR_TRY(gr_id_map_intern(levels, v->p, v->len, out));
  if (v->len <= UINT32_MAX) *e = (level_cache){*out, (uint32_t)v->len};
  return GR_OK;
}

/* One value into its column as the column's kind (not the id: note_id);
 * levels are the range's. */
static gr_status store(gr_csv *c, gr_column *col, gr_id_map *levels, level_cache *cache,
                       int64_t *n_missing, const gr_field *v, int64_t row) {
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
    GR_TRY(intern_level(c, col->name, levels, cache, v, &idx));
    col->level[row] = idx;
    return GR_OK;
  }
  default: return GR_OK;
  }
  col->num[row] = x;
  return GR_OK;
}

// ---- errors -----------------------------------------------------------------

static void fail_shape(reader *R, int ki, gr_status st) {
  chunk *k = &R->chunks[ki];
  k->st = st;
  snprintf(k->msg, sizeof k->msg, "%s", gr_last_error()); /* messages are per thread */
#pragma omp critical(gr_table_first_error)
  if (ki < R->first_error) R->first_error = ki;
}

static void fail_value(reader *R, int ki, gr_status st, int64_t row, int col) {
  chunk *k = &R->chunks[ki];
  k->vst = st;
  k->err_row = row;
  k->err_col = col;
  snprintf(k->vmsg, sizeof k->vmsg, "%s", gr_last_error());
}

/* Where the id v of the row stored at `row` is, its length and hash; an
 * unescaped one (in the reader's scratch, reused row after row) is kept in
 * the range's ids. */
static gr_status note_id(reader *R, chunk *k, const gr_csv *c, const gr_field *v, int64_t row) {
  if (v->len > UINT32_MAX) return gr_fail(GR_ERR_PARSE, "an id is longer than 4 GiB");
  GR_TRY(gr_csv_check_utf8(c, v, "id"));
  if (v->p >= c->buf && v->p < c->buf + c->len) {
    R->id_at[row] = (int64_t)(v->p - c->buf);
  } else {
    if (k->ids_len + v->len > k->ids_cap) {
      size_t cap = k->ids_cap ? k->ids_cap * 2 : 4096;
      while (cap < k->ids_len + v->len)
        cap *= 2;
      char *ids = realloc(k->ids, cap);
      if (!ids) return gr_fail(GR_ERR_NOMEM, "cannot keep the ids of %s", c->path);
      k->ids = ids;
      k->ids_cap = cap;
    }
    if (v->len) memcpy(k->ids + k->ids_len, v->p, v->len);
    R->id_at[row] = -1 - (int64_t)k->ids_len;
    k->ids_len += v->len;
  }
  R->id_len[row] = (uint32_t)v->len;
  R->id_hash[row] = gr_hash_bytes(v->p, v->len);
  return GR_OK;
}

static int after_error(const reader *R, int ki) {
  int first;
#pragma omp atomic read
  first = R->first_error;
  return ki > first;
}

/* Level caches for every slot, all empty; NULL when out of memory. */
static level_cache *new_caches(const reader *R) {
  const size_t n = ((size_t)R->n_slots << CACHE_BITS) + 1;
  level_cache *caches = malloc(sizeof *caches * n);
  if (caches)
    for (size_t i = 0; i < n; i++)
      caches[i].level = -1;
  return caches;
}

/* Range ki's levels of column f and their cache; NULL for columns without levels. */
static gr_id_map *levels_of(const reader *R, int f, int ki) {
  const int s = R->slot[f];
  return s >= 0 ? &R->maps[(size_t)s * (size_t)R->n_chunks + (size_t)ki] : NULL;
}

static level_cache *cache_of(const reader *R, level_cache *caches, int f) {
  return R->slot[f] >= 0 ? caches + ((size_t)R->slot[f] << CACHE_BITS) : NULL;
}

// ---- the passes -------------------------------------------------------------

void gr_table_sample_chunk(reader *R, int ki) {
  const chunk *k = &R->chunks[ki];
  const gr_table *t = R->t;
  unsigned *can = R->can + (size_t)ki * (size_t)t->n_cols;
  gr_csv view, *c = &view;
  gr_csv_view(c, R->src, k->start, k->line0);
  for (int r = 0; r < SAMPLE_ROWS; r++) {
    int done = 0;
    if (gr_csv_next_before(c, k->end, &done) != GR_OK || done || c->n_fields != t->n_cols) break;
    for (int j = 0; j < R->n_infer; j++) {
      const int f = R->infer[j];
      double x;
      if (can[f] && !is_missing(&c->fields[f])) narrow(&can[f], &c->fields[f], &x);
    }
  }
  gr_csv_close(c);
}

/* Writes rows [row0, row0 + n) of the inferred columns from the tile. */
static void flush_tile(const reader *R, const double *tile, int64_t row0, int64_t n) {
  for (int j = 0; j < R->n_active && n > 0; j++) {
    const int f = R->active[j];
    if (R->mode[f] == MODE_INFER)
      memcpy(R->t->cols[f].num + row0, tile + (size_t)j * TILE_ROWS, sizeof(double) * (size_t)n);
  }
}

void gr_table_scan_chunk(reader *R, int ki) {
  chunk *k = &R->chunks[ki];
  gr_table *t = R->t;
  const size_t cell0 = (size_t)ki * (size_t)t->n_cols;
  unsigned *can = R->can + cell0;
  unsigned char *used = R->used + cell0;
  int64_t *n_missing = R->n_missing + cell0;
  if (after_error(R, ki)) return;
  level_cache *caches = new_caches(R);
  if (!caches) {
    fail_shape(R, ki, gr_fail(GR_ERR_NOMEM, "cannot allocate column state"));
    return;
  }
  /* inferred columns' values go through a tile of TILE_ROWS rows, written
   * out a column at a time: a row's values land on as many pages as there
   * are columns, more than the TLB holds */
  double *tile = malloc(sizeof *tile * TILE_ROWS * ((size_t)R->n_active + 1));
  if (!tile) {
    free(caches);
    fail_shape(R, ki, gr_fail(GR_ERR_NOMEM, "cannot allocate column state"));
    return;
  }
  int64_t tile_row0 = k->slot0; /* the row of the tile's first */
  gr_csv view, *c = &view;      /* this range's reader over the shared text */
  gr_csv_view(c, R->src, k->start, k->line0);
  int storing = 1; /* until the range's first value error: then only shapes are checked */
  for (;;) {
    int done = 0;
    gr_status st = gr_csv_next_before(c, k->end, &done);
    if (st != GR_OK) {
      fail_shape(R, ki, st);
      break;
    }
    if (done) break;
    if ((st = gr_csv_check_width(c, t->n_cols)) != GR_OK) {
      fail_shape(R, ki, st);
      break;
    }
    if (k->n_rows == k->cap_rows) { /* only after a misread split, itself after an error */
      fail_shape(R, ki, gr_fail(GR_ERR_INTERNAL, "%s: more rows than lines in a range", c->path));
      break;
    }
    const int64_t row = k->slot0 + k->n_rows;
    if (row - tile_row0 == TILE_ROWS) {
      flush_tile(R, tile, tile_row0, TILE_ROWS);
      tile_row0 = row;
    }
    double *tile_row = tile + (row - tile_row0);
    for (int j = 0; j < R->n_active && storing; j++) {
      const int f = R->active[j];
      const gr_field *v = &c->fields[f];
      gr_column *col = &t->cols[f];
      if (R->mode[f] == MODE_INFER) {
        double x = NAN;
        if (is_missing(v))
          n_missing[f]++;
        else if (can[f])
          used[f] |= (unsigned char)narrow(&can[f], v, &x);
        tile_row[(size_t)j * TILE_ROWS] = x; /* a category's are stored again */
        continue;
      }
      if (R->mode[f] == MODE_ID) {
        st = v->len ? note_id(R, k, c, v, row)
                    : gr_csv_error(c, v->col, "expected an id, found an empty field");
        if (st != GR_OK) {
          fail_value(R, ki, st, k->n_rows, f);
          storing = 0;
        }
        continue;
      }
      st = store(c, col, levels_of(R, f, ki), cache_of(R, caches, f), &n_missing[f], v, row);
      if (st != GR_OK) {
        fail_value(R, ki, st, k->n_rows, f);
        storing = 0;
      }
    }
    k->n_rows++;
  }
  flush_tile(R, tile, tile_row0, k->slot0 + k->n_rows - tile_row0);
  free(tile);
  free(caches);
  gr_csv_close(c);
}

void gr_table_redo_chunk(reader *R, int ki) {
  chunk *k = &R->chunks[ki];
  gr_table *t = R->t;
  const size_t cell0 = (size_t)ki * (size_t)t->n_cols;
  const unsigned char *redo = R->redo + cell0;
  int64_t *n_missing = R->n_missing + cell0;
  int any = 0;
  for (int f = 0; f < t->n_cols; f++) {
    any |= redo[f];
    if (redo[f]) n_missing[f] = 0; /* counted again */
  }
  if (!any) return;
  level_cache *caches = new_caches(R);
  if (!caches) {
    fail_value(R, ki, gr_fail(GR_ERR_NOMEM, "cannot allocate column state"), 0, 0);
    return;
  }
  gr_csv view, *c = &view;
  gr_csv_view(c, R->src, k->start, k->line0);
  for (int64_t r = 0; r < k->n_rows; r++) {
    int done = 0;
    gr_status st = gr_csv_next_before(c, k->end, &done);
    if (st == GR_OK && (done || c->n_fields != t->n_cols))
      st = gr_fail(GR_ERR_INTERNAL, "%s: the rows changed between two readings", c->path);
    for (int f = 0; f < t->n_cols && st == GR_OK; f++) {
      if (!redo[f]) continue;
      st = store(c, &t->cols[f], levels_of(R, f, ki), cache_of(R, caches, f), &n_missing[f],
                 &c->fields[f], k->slot0 + r);
    }
    if (st != GR_OK) {
      fail_value(R, ki, st, r, 0);
      break;
    }
  }
  free(caches);
  gr_csv_close(c);
}
