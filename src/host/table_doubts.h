/* Columns read as categories that look like a narrower kind with a few
 * stray values: one "Maybe" among thousands of True/False, or "abc" among
 * numbers, turns the column into a category (as pandas reads it as object)
 * and changes the features silently. The reader keeps the category; these
 * are reported so that a person can fix the values or force the kind. */
#ifndef GR_HOST_TABLE_DOUBTS_H
#define GR_HOST_TABLE_DOUBTS_H

#include <stdio.h>

#include "table.h"

typedef struct gr_kind_doubt {
  gr_col_kind likely;  /* the kind of most of the column's values */
  int64_t n_values;    /* values present */
  int64_t n_stray;     /* values present that are not of that kind */
  int64_t first_row;   /* the first stray value's row (0-based) */
  const char *example; /* its text (one of the column's levels) */
} gr_kind_doubt;

/* 1 and *out filled when column c is an inferred category whose present
 * values all but at most 1% (and at most GR_DOUBT_MAX_STRAY distinct
 * texts) parse as one kind (bool, number or date); 0 otherwise. */
enum { GR_DOUBT_MAX_STRAY = 8 };
int gr_table_kind_doubt(const gr_table *t, int c, gr_kind_doubt *out);

/* A warning line on f for each such column of the table read from `path`:
 * the kind, how many values stray, the first (data row and text), and the
 * --kinds that turns them into errors. @return how many were written. */
int gr_table_warn_doubts(const gr_table *t, const char *path, const char *prefix, FILE *f);

#endif
