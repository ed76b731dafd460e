/* A typed, column-oriented table read from CSV (the market table of the
 * leads engine): each column's kind is inferred from its values, or forced
 * by an override, and stored as numbers (NaN = missing) or as category
 * levels (-1 = missing). */
#ifndef GR_HOST_TABLE_H
#define GR_HOST_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"
#include "id_map.h"

typedef enum gr_col_kind {
  GR_COL_SKIP = 0,     /* an unnamed index column (pandas' to_csv): ignored */
  GR_COL_ID = 1,       /* the row key: non-empty and unique */
  GR_COL_BOOL = 2,     /* True/False (any case): 1/0 */
  GR_COL_NUMBER = 3,   /* finite decimal numbers */
  GR_COL_DATE = 4,     /* YYYY-MM-DD: days since 1970-01-01 */
  GR_COL_CATEGORY = 5, /* anything else: levels in order of first appearance */
} gr_col_kind;

const char *gr_col_kind_name(gr_col_kind k);

typedef struct gr_column {
  char *name;
  gr_col_kind kind;
  double *num;      /* (n_rows) for BOOL, NUMBER, DATE; NaN = missing */
  int32_t *level;   /* (n_rows) for ID and CATEGORY; -1 = missing */
  gr_id_map levels; /* ID values or CATEGORY levels */
  int64_t n_missing;
  int forced; /* 1: the kind was given (--kinds, a kinds file, a model), not inferred */
} gr_column;

typedef struct gr_table {
  int64_t n_rows;
  int n_cols;
  gr_column *cols;
  int id_col; /* index of the ID column, -1 when there is none */
} gr_table;

typedef struct gr_table_options {
  char delimiter;      /* 0 = detect */
  const char *id_name; /* the id column's header name; default "id" */
  /* Forced kinds, "name=kind,name=kind" with kind one of skip, bool, number,
   * date, category; a value that does not fit a forced kind is an error. */
  const char *kinds;
  /* A kinds file (table_kinds.h): one name=kind per line; --kinds wins. */
  const char *kinds_file;
  /* Kinds a fitted model fixes (scoring a market with the kinds it was fitted
   * with, however few its rows): fixed_kind(fixed_ctx, name) is a
   * gr_col_kind, or -1 for a column left to inference. Applied before
   * kinds_file and kinds, which still win. */
  int (*fixed_kind)(const void *ctx, const char *name);
  const void *fixed_ctx;
  int n_threads;      /* 0 = all cores (or OMP_NUM_THREADS); the table does not depend on it */
  size_t chunk_bytes; /* rows are read in ranges of about this size; 0 = 256 KiB to 4 MiB */
} gr_table_options;

void gr_table_options_default(gr_table_options *o);

/* Reads a CSV with a header row. Errors name file:line:column: ragged rows,
 * duplicate or empty ids, values that do not fit a forced kind. */
gr_status gr_table_read_csv(gr_table **out, const char *path, const gr_table_options *opts);
gr_status gr_table_read_csv_mem(gr_table **out, const char *name, const void *data, size_t len,
                                const gr_table_options *opts);
void gr_table_free(gr_table *t);

/* @return the index of the column named `name`, or -1. */
int gr_table_find(const gr_table *t, const char *name);

/* Appends a column of the given kind (bool, number, date or category) with
 * every value missing, as if the CSV had it empty. */
gr_status gr_table_add_missing_column(gr_table *t, const char *name, gr_col_kind kind);

#endif
