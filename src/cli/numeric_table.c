/* See numeric_table.h. */
#include "numeric_table.h"

#include <stdlib.h>

#include "common/error.h"

gr_status gr_numeric_matrix(const gr_table *t, int except, float **X, int **cols, int *d) {
  *d = 0;
  *X = NULL;
  *cols = malloc(sizeof(int) * (size_t)t->n_cols);
  if (!*cols) return gr_fail(GR_ERR_NOMEM, "cannot allocate columns");
  for (int c = 0; c < t->n_cols; c++) {
    const gr_column *col = &t->cols[c];
    if (c == except || col->kind == GR_COL_SKIP || col->kind == GR_COL_ID) continue;
    if (col->kind == GR_COL_CATEGORY)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "column '%s' is not numeric (force a kind with --kinds, or set it to skip)",
                     col->name);
    if (col->n_missing)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "column '%s' has %lld missing values: complete rows are needed "
                     "(skip it with --kinds %s=skip)",
                     col->name, (long long)col->n_missing, col->name);
    (*cols)[(*d)++] = c;
  }
  if (*d == 0) return gr_fail(GR_ERR_INVALID_ARG, "no numeric column to use");
  *X = malloc(sizeof(float) * (size_t)t->n_rows * (size_t)*d + 1);
  if (!*X) return gr_fail(GR_ERR_NOMEM, "cannot allocate the data matrix");
  for (int64_t r = 0; r < t->n_rows; r++)
    for (int j = 0; j < *d; j++)
      (*X)[(size_t)r * *d + j] = (float)t->cols[(*cols)[j]].num[r];
  return GR_OK;
}
