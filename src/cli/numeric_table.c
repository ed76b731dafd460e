/* See numeric_table.h. */
#include "numeric_table.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "common/error.h"
#include "host/table_doubts.h"

gr_status gr_numeric_matrix(const gr_table *t, const char *path, int except, float **X, int **cols,
                            int *d) {
  *d = 0;
  *X = NULL;
  *cols = malloc(sizeof(int) * (size_t)t->n_cols);
  if (!*cols) return gr_fail(GR_ERR_NOMEM, "cannot allocate columns");
  for (int c = 0; c < t->n_cols; c++) {
    const gr_column *col = &t->cols[c];
    if (c == except || col->kind == GR_COL_SKIP || col->kind == GR_COL_ID) continue;
    gr_kind_doubt doubt;
    if (col->kind == GR_COL_CATEGORY && gr_table_kind_doubt(t, c, &doubt) &&
        doubt.likely == GR_COL_NUMBER)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "%s: column '%s' has %lld value%s that %s not a finite number, the first in "
                     "data row %lld: '%.40s'",
                     path, col->name, (long long)doubt.n_stray, doubt.n_stray == 1 ? "" : "s",
                     doubt.n_stray == 1 ? "is" : "are", (long long)doubt.first_row + 1,
                     doubt.example);
    if (col->kind == GR_COL_CATEGORY)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "%s: column '%s' is not numeric (force a kind with --kinds, or set it to "
                     "skip)",
                     path, col->name);
    if (col->n_missing) {
      int64_t first = 0;
      while (first < t->n_rows && !isnan(col->num[first]))
        first++;
      return gr_fail(GR_ERR_INVALID_ARG,
                     "%s: column '%s' has %lld missing value%s, the first in data row %lld: "
                     "complete rows are needed (skip the column with --kinds %s=skip)",
                     path, col->name, (long long)col->n_missing, col->n_missing == 1 ? "" : "s",
                     (long long)first + 1, col->name);
    }
    (*cols)[(*d)++] = c;
  }
  if (*d == 0) return gr_fail(GR_ERR_INVALID_ARG, "%s: no numeric column to use", path);
  *X = malloc(sizeof(float) * (size_t)t->n_rows * (size_t)*d + 1);
  if (!*X) return gr_fail(GR_ERR_NOMEM, "cannot allocate the data matrix");
  for (int64_t r = 0; r < t->n_rows; r++)
    for (int j = 0; j < *d; j++) {
      const double v = t->cols[(*cols)[j]].num[r];
      if (fabs(v) > FLT_MAX)
        return gr_fail(GR_ERR_INVALID_ARG,
                       "%s: column '%s', data row %lld: %g is beyond float's range (%g); scale "
                       "the column",
                       path, t->cols[(*cols)[j]].name, (long long)r + 1, v, (double)FLT_MAX);
      (*X)[(size_t)r * *d + j] = (float)v;
    }
  return GR_OK;
}
