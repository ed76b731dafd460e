/* See table_doubts.h. */
#include "table_doubts.h"

#include <stdlib.h>
#include <string.h>

#include "table_scan.h"

int gr_table_kind_doubt(const gr_table *t, int c, gr_kind_doubt *out) {
  const gr_column *col = &t->cols[c];
  const int32_t n_levels = col->levels.count;
  if (col->kind != GR_COL_CATEGORY || col->forced || n_levels == 0) return 0;
  /* a column of names has no level of a narrower kind: decided on levels */
  unsigned *can = malloc(sizeof *can * (size_t)n_levels);
  int64_t *count = calloc((size_t)n_levels, sizeof *count);
  int64_t *first = malloc(sizeof *first * (size_t)n_levels);
  int found = 0;
  if (!can || !count || !first) goto done; /* a warning is not worth failing over */
  unsigned any = 0;
  for (int32_t l = 0; l < n_levels; l++) {
    const char *s = gr_id_map_get(&col->levels, l);
    can[l] = gr_table_value_can(s, strlen(s));
    any |= can[l];
  }
  if (!any) goto done;
  for (int64_t r = t->n_rows - 1; r >= 0; r--) {
    const int32_t l = col->level[r];
    if (l < 0) continue;
    count[l]++;
    first[l] = r;
  }
  static const struct {
    unsigned bit;
    gr_col_kind kind;
  } kinds[] = {{CAN_BOOL, GR_COL_BOOL}, {CAN_NUMBER, GR_COL_NUMBER}, {CAN_DATE, GR_COL_DATE}};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && !found; k++) {
    int64_t n_values = 0, n_stray = 0, first_row = -1;
    int32_t stray_levels = 0, example = -1;
    for (int32_t l = 0; l < n_levels; l++) {
      n_values += count[l];
      if (can[l] & kinds[k].bit || count[l] == 0) continue;
      n_stray += count[l];
      stray_levels++;
      if (first_row < 0 || first[l] < first_row) first_row = first[l], example = l;
    }
    if (n_stray == 0 || n_stray == n_values || stray_levels > GR_DOUBT_MAX_STRAY ||
        n_stray * 100 > n_values)
      continue;
    *out = (gr_kind_doubt){kinds[k].kind, n_values, n_stray, first_row,
                           gr_id_map_get(&col->levels, example)};
    found = 1;
  }
done:
  free(can);
  free(count);
  free(first);
  return found;
}

int gr_table_warn_doubts(const gr_table *t, const char *path, const char *prefix, FILE *f) {
  int n = 0;
  for (int c = 0; c < t->n_cols; c++) {
    gr_kind_doubt d;
    if (!gr_table_kind_doubt(t, c, &d)) continue;
    const int one = d.n_stray == 1;
    const char *what = d.likely == GR_COL_BOOL
                           ? (one ? "is not True or False" : "are not True or False")
                       : d.likely == GR_COL_NUMBER
                           ? (one ? "is not a number" : "are not numbers")
                           : (one ? "is not a date YYYY-MM-DD" : "are not dates YYYY-MM-DD");
    fprintf(f,
            "%swarning: %s: column '%s' is read as a category because %lld of its %lld values "
            "%s (the first, data row %lld: '%.40s'); --kinds %s=%s makes them errors\n",
            prefix, path, t->cols[c].name, (long long)d.n_stray, (long long)d.n_values, what,
            (long long)d.first_row + 1, d.example, t->cols[c].name, gr_col_kind_name(d.likely));
    n++;
  }
  return n;
}
