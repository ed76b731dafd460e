/* The numeric columns of a typed table as a dense matrix, for the commands
 * that work on "any numeric CSV" (kmeans, logreg). */
#ifndef GR_CLI_NUMERIC_TABLE_H
#define GR_CLI_NUMERIC_TABLE_H

#include "host/table.h"

/* X (n_rows, *d) row-major from the bool, number and date columns of t,
 * except column `except` (-1 = none); errors name `path`. cols[j] is feature j's column. A
 * category column or a missing value is an error that says how to skip it.
 * X and cols are malloc'ed, owned by the caller (also on failure). */
gr_status gr_numeric_matrix(const gr_table *t, const char *path, int except, float **X, int **cols,
                            int *d);

#endif
