/* The table reader's state and its passes over ranges of rows (internal to
 * table.c and table_scan.c). One scan reads every range once: it checks the
 * shape, narrows each inferred column's kinds and stores the values as the
 * kind the column is guessed to be; a second reading, only of the (range,
 * column) pairs whose guess proved wrong, stores them again. */
#ifndef GR_HOST_TABLE_SCAN_H
#define GR_HOST_TABLE_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "table.h"

enum { CAN_BOOL = 1, CAN_NUMBER = 2, CAN_DATE = 4, CAN_ALL = 7 };

/* The kinds (CAN_* bits) the text p[0..len) parses as; 0: only a category. */
unsigned gr_table_value_can(const char *p, size_t len);
enum { MSG_CAP = 1024, CACHE_BITS = 6, SAMPLE_ROWS = 64, TILE_ROWS = 64 };

/* How the scan treats a column. */
enum {
  MODE_SKIP = 0,   /* not stored */
  MODE_STORE = 1,  /* a forced kind: values that do not fit are errors */
  MODE_LEVELS = 2, /* inferred and already known to be a category: interned */
  MODE_INFER = 3,  /* inferred, stored as numbers while its values allow one kind */
  MODE_ID = 4,     /* the id: where each one is, for one ordered build after the scan */
};

typedef struct chunk {
  size_t start, end;  /* the rows that start in [start, end) */
  int64_t line0;      /* line breaks before start */
  int64_t slot0;      /* the scan stores its rows from this row on: line breaks before start, */
  int64_t cap_rows;   /* after the header, so that no range can reach the next one's rows */
  int64_t n_rows;     /* rows read */
  int64_t row0;       /* rows of the ranges before it */
  gr_status st;       /* the range's first shape error: bad CSV, a ragged row */
  char msg[MSG_CAP];  /* its message */
  gr_status vst;      /* its first value error: a forced kind, an id */
  int64_t err_row;    /* at this row within the range */
  int err_col;        /* and this column */
  char vmsg[MSG_CAP]; /* its message */
  char *ids;          /* the range's ids that were unescaped (quoted, with "") */
  size_t ids_len, ids_cap;
} chunk;

typedef struct reader {
  const gr_csv *src;
  gr_table *t;
  int n_chunks, n_threads;
  chunk *chunks;
  unsigned *can;         /* (n_chunks, n_cols) kinds each range allows */
  unsigned char *used;   /* (n_chunks, n_cols) kinds the scan stored values as */
  unsigned char *redo;   /* (n_chunks, n_cols) 1: store this range's values again */
  int64_t *n_missing;    /* (n_chunks, n_cols) */
  unsigned char *mode;   /* (n_cols) MODE_* */
  int *slot;             /* (n_cols) ID and CATEGORY columns: their index in maps, else -1 */
  int n_slots;           /* slots in maps */
  gr_id_map *maps;       /* (n_slots, n_chunks) the levels each range found */
  int *infer, n_infer;   /* the columns whose kind is inferred */
  int *active, n_active; /* the columns the scan stores (mode != MODE_SKIP) */
  int first_error;       /* the first range with a shape error: later ones need not be read */
  /* (rows the scan may store) each id: >= 0 its offset in the text, else
   * -1 - its offset in its range's ids; its length and hash */
  int64_t *id_at;
  uint32_t *id_len;
  uint64_t *id_hash;
} reader;

/* Narrows can[ki] over the first SAMPLE_ROWS rows of range ki (errors are
 * left to the scan). */
void gr_table_sample_chunk(reader *R, int ki);
/* Reads range ki: shapes, kinds, values. */
void gr_table_scan_chunk(reader *R, int ki);
/* Stores again the values of range ki's columns with redo set, as their
 * final kinds. */
void gr_table_redo_chunk(reader *R, int ki);

#endif
