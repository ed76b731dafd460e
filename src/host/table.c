/* The CSV text is read in parallel over ranges of rows split at row starts
 * (gr_csv_split), in one scan (table_scan.c) that checks the shape, narrows
 * each column's possible kinds (bool, number, date) value by value and
 * stores the values; only the ranges whose values were stored as another
 * kind than the column's final one are read again. The scan stores a
 * range's rows from its first line on, and they are moved down to their
 * rows once the rows before are counted. Categories and ids are interned
 * per range and the ranges' levels merged in file order, so that levels
 * are numbered by first appearance and the first error in file order is
 * the one reported, whatever the number of threads. The text is never
 * written (quoted fields are unescaped into each reader's scratch). */
#include "table.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "csv.h"
#include "table_kinds.h"
#include "table_scan.h"

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

gr_status gr_table_add_missing_column(gr_table *t, const char *name, gr_col_kind kind) {
  if (kind != GR_COL_BOOL && kind != GR_COL_NUMBER && kind != GR_COL_DATE &&
      kind != GR_COL_CATEGORY)
    return gr_fail(GR_ERR_INVALID_ARG, "a missing column is a bool, number, date or category");
  gr_column *cols = realloc(t->cols, sizeof *cols * ((size_t)t->n_cols + 1));
  if (!cols) return gr_fail(GR_ERR_NOMEM, "cannot add column '%s'", name);
  t->cols = cols;
  gr_column *col = &cols[t->n_cols];
  memset(col, 0, sizeof *col);
  gr_id_map_init(&col->levels);
  col->kind = kind;
  col->forced = 1;
  col->n_missing = t->n_rows;
  const size_t n = t->n_rows > 0 ? (size_t)t->n_rows : 1;
  col->name = strdup(name);
  if (kind == GR_COL_CATEGORY)
    col->level = malloc(sizeof(int32_t) * n);
  else
    col->num = malloc(sizeof(double) * n);
  if (!col->name || (!col->level && !col->num)) {
    free(col->name);
    free(col->level);
    free(col->num);
    return gr_fail(GR_ERR_NOMEM, "cannot add column '%s'", name);
  }
  for (int64_t r = 0; r < t->n_rows; r++) {
    if (col->level) col->level[r] = -1;
    if (col->num) col->num[r] = NAN;
  }
  t->n_cols++;
  return GR_OK;
}

int gr_table_find(const gr_table *t, const char *name) {
  for (int c = 0; c < t->n_cols; c++)
    if (strcmp(t->cols[c].name, name) == 0) return c;
  return -1;
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

// ---- merging the ranges -----------------------------------------------------

/* The levels range ki found in column f. */
static gr_id_map *range_levels(const reader *R, int f, int ki) {
  return &R->maps[(size_t)R->slot[f] * (size_t)R->n_chunks + (size_t)ki];
}

/* Merges the ranges' levels of category f, in file order, into its levels
 * and renumbers its rows (with rewrite). */
static gr_status merge_levels(reader *R, int f, int last, int rewrite) {
  gr_column *col = &R->t->cols[f];
  int32_t *remap = NULL;
  int32_t cap = 0;
  gr_status st = GR_OK;
  for (int ki = 0; ki <= last && st == GR_OK; ki++) {
    gr_id_map *m = range_levels(R, f, ki);
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
      st = gr_id_map_intern(&col->levels, s, strlen(s), &remap[l]);
    }
    const chunk *k = &R->chunks[ki];
    if (st == GR_OK && rewrite)
      for (int64_t r = k->row0; r < k->row0 + k->n_rows; r++)
        if (col->level[r] >= 0) col->level[r] = remap[col->level[r]];
  }
  free(remap);
  return st;
}

/* The id levels, in file order, from where the scan found each id, up to
 * range `last` (its first `last_rows` rows there); stops at the first id
 * seen before: *dup_chunk and *dup_row (within the range). */
static gr_status build_ids(reader *R, int last, int64_t last_rows, int *dup_chunk,
                           int64_t *dup_row) {
  gr_column *col = &R->t->cols[R->t->id_col];
  /* one table and arena of the final size (no rehashing on the way), its
   * slots prefetched a few rows ahead */
  int64_t n_ids = 0;
  size_t n_chars = 0;
  for (int ki = 0; ki <= last; ki++) {
    const chunk *k = &R->chunks[ki];
    const int64_t n = ki == last ? last_rows : k->n_rows;
    n_ids += n;
    for (int64_t r = 0; r < n; r++)
      n_chars += R->id_len[k->slot0 + r] + (size_t)1;
  }
  if (n_ids > 0 && n_ids <= GR_ID_MAX)
    GR_TRY(gr_id_map_reserve(&col->levels, (int32_t)n_ids, n_chars));
  for (int ki = 0; ki <= last; ki++) {
    const chunk *k = &R->chunks[ki];
    const int64_t n = ki == last ? last_rows : k->n_rows;
    for (int64_t r = 0; r < n; r++) {
      if (r + 8 < n) gr_id_map_prefetch(&col->levels, R->id_hash[k->slot0 + r + 8]);
      const int64_t s = k->slot0 + r, at = R->id_at[s];
      const char *p = at >= 0 ? R->src->buf + at : k->ids + (-1 - at);
      const int32_t before = col->levels.count;
      int32_t idx;
      GR_TRY(gr_id_map_intern_hashed(&col->levels, p, R->id_len[s], R->id_hash[s], &idx));
      if (col->levels.count == before) {
        *dup_chunk = ki;
        *dup_row = r;
        return GR_OK;
      }
      col->level[k->row0 + r] = idx;
    }
  }
  return GR_OK;
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
  for (int ki = 0; R->chunks && ki < R->n_chunks; ki++)
    free(R->chunks[ki].ids);
  free(R->chunks);
  free(R->id_at);
  free(R->id_len);
  free(R->id_hash);
  free(R->can);
  free(R->used);
  free(R->redo);
  free(R->n_missing);
  free(R->mode);
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
  if (o->n_threads > GR_MAX_THREADS)
    return gr_fail(GR_ERR_INVALID_ARG, "at most %d threads read a table, not %d", GR_MAX_THREADS,
                   o->n_threads);
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
  const size_t cells = (size_t)R->n_chunks * (size_t)t->n_cols, cols = (size_t)t->n_cols + 1;
  R->chunks = calloc((size_t)R->n_chunks, sizeof *R->chunks);
  R->can = calloc(cells + 1, sizeof *R->can);
  R->used = calloc(cells + 1, sizeof *R->used);
  R->redo = calloc(cells + 1, sizeof *R->redo);
  R->n_missing = calloc(cells + 1, sizeof *R->n_missing);
  R->mode = calloc(cols, sizeof *R->mode);
  R->slot = calloc(cols, sizeof *R->slot);
  R->infer = calloc(cols, sizeof *R->infer);
  R->active = calloc(cols, sizeof *R->active);
  size_t *starts = calloc((size_t)R->n_chunks + 1, sizeof *starts);
  int64_t *lines = calloc((size_t)R->n_chunks + 1, sizeof *lines);
  if (!R->chunks || !R->can || !R->used || !R->redo || !R->n_missing || !R->mode || !R->slot ||
      !R->infer || !R->active || !starts || !lines) {
    free(starts);
    free(lines);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the state to read %s", src->path);
  }
  for (size_t i = 0; i < cells; i++)
    R->can[i] = CAN_ALL;
  gr_status st = gr_csv_split(src, R->n_chunks, R->n_threads, starts, lines);
  /* a row ends at a line break of its range (or at the end of the text),
   * so the line breaks before a range bound the rows before it */
  for (int ki = 0; st == GR_OK && ki < R->n_chunks; ki++) {
    chunk *k = &R->chunks[ki];
    k->start = starts[ki];
    k->end = starts[ki + 1];
    k->line0 = lines[ki];
    k->slot0 = lines[ki] - lines[0];
    k->cap_rows = lines[ki + 1] - lines[ki] + (k->end == src->len);
  }
  free(starts);
  free(lines);
  return st;
}

/* Runs pass(R, ki) over every range, in parallel. */
static void for_each_range(reader *R, void (*pass)(reader *, int)) {
  const int nt = R->n_threads;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
  for (int ki = 0; ki < R->n_chunks; ki++)
    pass(R, ki);
}

/* The rows the scan may store: the line breaks after the header, and one
 * more for a last row without one. */
static int64_t row_capacity(const reader *R) {
  const chunk *last = &R->chunks[R->n_chunks - 1];
  return last->slot0 + last->cap_rows;
}

static gr_status alloc_column(gr_column *col, int64_t rows) {
  const size_t n = rows > 0 ? (size_t)rows : 1;
  if (col->kind == GR_COL_ID || col->kind == GR_COL_CATEGORY)
    col->level = malloc(sizeof(int32_t) * n);
  else if (col->kind != GR_COL_SKIP)
    col->num = malloc(sizeof(double) * n);
  if (col->kind != GR_COL_SKIP && !col->num && !col->level)
    return gr_fail(GR_ERR_NOMEM, "cannot allocate column '%s'", col->name);
  return GR_OK;
}

/* Adds slots for columns f with slot[f] == -2 (new categories): each gets
 * the next index and empty levels in every range. */
static gr_status add_slots(reader *R) {
  const gr_table *t = R->t;
  int n = R->n_slots;
  for (int f = 0; f < t->n_cols; f++)
    if (R->slot[f] == -2) R->slot[f] = n++;
  if (n == R->n_slots && R->maps) return GR_OK;
  const size_t per = (size_t)R->n_chunks;
  gr_id_map *maps = realloc(R->maps, sizeof *maps * ((size_t)n * per + 1));
  if (!maps) return gr_fail(GR_ERR_NOMEM, "cannot allocate the levels of %s", R->src->path);
  for (size_t i = (size_t)R->n_slots * per; i < (size_t)n * per; i++)
    gr_id_map_init(&maps[i]);
  R->maps = maps;
  R->n_slots = n;
  return GR_OK;
}

/* Modes, guesses and storage before the scan: the id and forced kinds as
 * they are, inferred columns as the sample of each range suggests. */
static gr_status prepare_scan(reader *R, const int *forced) {
  gr_table *t = R->t;
  for (int f = 0; f < t->n_cols; f++) {
    const int index_col = f == 0 && strcmp(t->cols[f].name, "Unnamed: 0") == 0;
    if (!forced[f] && !index_col && f != t->id_col) R->infer[R->n_infer++] = f;
  }
  for_each_range(R, gr_table_sample_chunk);
  unsigned *guess = calloc((size_t)t->n_cols + 1, sizeof *guess);
  if (!guess) return gr_fail(GR_ERR_NOMEM, "cannot allocate column state");
  for (int f = 0; f < t->n_cols; f++) {
    guess[f] = CAN_ALL;
    for (int ki = 0; ki < R->n_chunks; ki++) {
      unsigned *can = &R->can[(size_t)ki * (size_t)t->n_cols + (size_t)f];
      guess[f] &= *can;
      *can = CAN_ALL;
    }
  }
  for (int j = 0; j < R->n_infer; j++) { /* a category in the sample is one in the whole */
    const int f = R->infer[j];
    t->cols[f].kind = guess[f] ? GR_COL_NUMBER : GR_COL_CATEGORY;
    R->mode[f] = guess[f] ? MODE_INFER : MODE_LEVELS;
  }
  free(guess);
  const int64_t rows = row_capacity(R);
  if (t->id_col >= 0) {
    const size_t n = (size_t)rows + 1;
    R->id_at = malloc(sizeof *R->id_at * n);
    R->id_len = malloc(sizeof *R->id_len * n);
    R->id_hash = malloc(sizeof *R->id_hash * n);
    if (!R->id_at || !R->id_len || !R->id_hash)
      return gr_fail(GR_ERR_NOMEM, "cannot allocate the ids of %s", R->src->path);
  }
  for (int f = 0; f < t->n_cols; f++) {
    gr_column *col = &t->cols[f];
    if (col->kind == GR_COL_SKIP) continue;
    if (!R->mode[f]) R->mode[f] = col->kind == GR_COL_ID ? MODE_ID : MODE_STORE;
    R->active[R->n_active++] = f;
    R->slot[f] = col->kind == GR_COL_CATEGORY ? -2 : -1;
    GR_TRY(alloc_column(col, rows));
  }
  return add_slots(R);
}

/* Final kinds after the scan; marks the (range, column) pairs to read again:
 * every range of a new category, the ranges that stored values as another
 * kind than the final one. @return whether there are any. */
static gr_status settle_kinds(reader *R, int *any_redo) {
  gr_table *t = R->t;
  const int64_t rows = row_capacity(R);
  *any_redo = 0;
  for (int f = 0; f < t->n_cols; f++) {
    if (R->mode[f] != MODE_INFER) continue;
    gr_column *col = &t->cols[f];
    unsigned can = CAN_ALL;
    for (int ki = 0; ki < R->n_chunks; ki++)
      can &= R->can[(size_t)ki * (size_t)t->n_cols + (size_t)f];
    col->kind = kind_from(can);
    const unsigned final = can & (unsigned)-(int)can; /* the lowest: kind_from's choice */
    for (int ki = 0; ki < R->n_chunks; ki++) {
      const size_t cell = (size_t)ki * (size_t)t->n_cols + (size_t)f;
      R->redo[cell] = R->chunks[ki].n_rows > 0 && (!can || (R->used[cell] & ~final));
      *any_redo |= R->redo[cell];
    }
    if (col->kind == GR_COL_CATEGORY) {
      free(col->num);
      col->num = NULL;
      GR_TRY(alloc_column(col, rows));
      R->slot[f] = -2;
    }
  }
  return add_slots(R);
}

/* Moves each range's rows from where the scan stored them to their rows
 * (they differ after blank lines or quoted line breaks). */
static void compact_rows(reader *R) {
  gr_table *t = R->t;
  for (int ki = 1; ki < R->n_chunks; ki++) {
    const chunk *k = &R->chunks[ki];
    if (k->row0 == k->slot0 || k->n_rows == 0) continue;
    for (int f = 0; f < t->n_cols; f++) {
      gr_column *col = &t->cols[f];
      if (col->num)
        memmove(col->num + k->row0, col->num + k->slot0, sizeof(double) * (size_t)k->n_rows);
      if (col->level)
        memmove(col->level + k->row0, col->level + k->slot0, sizeof(int32_t) * (size_t)k->n_rows);
    }
  }
}

/* The first value error of the ranges, in file order: its range or n_chunks. */
static int first_value_error(const reader *R) {
  for (int ki = 0; ki < R->n_chunks; ki++)
    if (R->chunks[ki].vst != GR_OK) return ki;
  return R->n_chunks;
}

/* The merge of levels; the first error in file order wins: a value error
 * of the scan, or a duplicate id across ranges. */
static gr_status merge_all(reader *R) {
  gr_table *t = R->t;
  const int nt = R->n_threads;
  const int first = first_value_error(R), failed = first < R->n_chunks;
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
  if (t->id_col >= 0) tasks[n_tasks++] = -1; /* the id build */
  for (int f = 0; f < t->n_cols && !failed; f++)
    if (t->cols[f].kind == GR_COL_CATEGORY) tasks[n_tasks++] = f;
  int dup_chunk = -1;
  int64_t dup_row = -1;
  const int last = failed ? first : R->n_chunks - 1;
  /* with a value error, the ids before it: in its row, if the id came first */
  const chunk *k = failed ? &R->chunks[first] : NULL;
  const int64_t last_rows =
      !k ? R->chunks[last].n_rows : k->err_row + (t->id_col >= 0 && t->id_col < k->err_col);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1 && n_tasks > 1)
  for (int i = 0; i < n_tasks; i++) {
    sts[i] = tasks[i] < 0 ? build_ids(R, last, last_rows, &dup_chunk, &dup_row)
                          : merge_levels(R, tasks[i], last, !failed);
    if (sts[i] != GR_OK) snprintf(msgs[i], MSG_CAP, "%s", gr_last_error());
  }
  gr_status st = GR_OK;
  if (dup_chunk >= 0 &&
      (!k || R->chunks[dup_chunk].row0 + dup_row < k->row0 + k->err_row ||
       (R->chunks[dup_chunk].row0 + dup_row == k->row0 + k->err_row && t->id_col < k->err_col)))
    st = duplicate_error(R, dup_chunk, dup_row);
  else if (k)
    st = gr_fail(k->vst, "%s", k->vmsg);
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
  /* overrides name the columns that are not inferred; their errors come
   * after the shape errors: without them the scan checks shapes only */
  gr_status override_st = GR_OK;
  char override_msg[MSG_CAP];
  if (st == GR_OK && o->fixed_kind)
    for (int c = 0; c < t->n_cols; c++) {
      const int kind = o->fixed_kind(o->fixed_ctx, t->cols[c].name);
      if (kind < 0 || c == t->id_col) continue;
      t->cols[c].kind = (gr_col_kind)kind;
      forced[c] = 1;
    }
  if (st == GR_OK) {
    override_st = gr_table_apply_kinds(t, o->kinds_file, o->kinds, forced);
    if (override_st != GR_OK) snprintf(override_msg, sizeof override_msg, "%s", gr_last_error());
  }
  if (st == GR_OK) st = reader_init(&R, src, t, o);
  if (st == GR_OK && override_st == GR_OK) st = prepare_scan(&R, forced);
  if (st == GR_OK) {
    for_each_range(&R, gr_table_scan_chunk);
    if (R.first_error < R.n_chunks) {
      const chunk *k = &R.chunks[R.first_error];
      st = gr_fail(k->st, "%s", k->msg);
    }
  }
  for (int ki = 0; st == GR_OK && ki < R.n_chunks; ki++) {
    R.chunks[ki].row0 = t->n_rows;
    t->n_rows += R.chunks[ki].n_rows;
  }
  if (st == GR_OK && t->n_rows == 0)
    st = gr_fail(GR_ERR_PARSE, "%s: no rows after the header", src->path);
  if (st == GR_OK && override_st != GR_OK) st = gr_fail(override_st, "%s", override_msg);
  if (st == GR_OK && first_value_error(&R) == R.n_chunks) {
    int any_redo = 0;
    st = settle_kinds(&R, &any_redo);
    if (st == GR_OK && any_redo) for_each_range(&R, gr_table_redo_chunk);
    if (st == GR_OK) compact_rows(&R);
  }
  if (st == GR_OK) st = merge_all(&R);
  for (int f = 0; st == GR_OK && f < t->n_cols; f++) {
    t->cols[f].forced = forced[f];
    for (int ki = 0; ki < R.n_chunks; ki++)
      t->cols[f].n_missing += R.n_missing[(size_t)ki * (size_t)t->n_cols + (size_t)f];
  }
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
