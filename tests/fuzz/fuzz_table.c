/* libFuzzer target: the typed table reader (market tables) and the feature
 * encoder behind it. The first byte picks forced kinds, so overrides are
 * explored too. An accepted table must be consistent (ids present, levels in
 * range, numbers finite or NaN-as-missing, missing counts matching), and its
 * encoding, when one can be fitted, must be finite everywhere. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "host/encoder.h"
#include "host/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  static const char *const kinds[4] = {NULL, "b=bool", "n=number,d=date", "c=category,b=skip"};
  gr_table_options o;
  gr_table_options_default(&o);
  o.kinds = kinds[data[0] & 3];
  gr_table *t = NULL;
  if (gr_table_read_csv_mem(&t, "fuzz", data + 1, size - 1, &o) == GR_OK) {
    for (int c = 0; c < t->n_cols; c++) {
      const gr_column *col = &t->cols[c];
      int64_t missing = 0;
      for (int64_t r = 0; r < t->n_rows; r++) {
        if (col->level) {
          if (col->level[r] < -1 || col->level[r] >= col->levels.count) abort();
          missing += col->level[r] < 0;
          if (col->kind == GR_COL_ID && col->level[r] < 0) abort();
        }
        if (col->num) {
          if (isinf(col->num[r])) abort();
          missing += isnan(col->num[r]);
        }
      }
      if (col->kind != GR_COL_SKIP && col->kind != GR_COL_ID && missing != col->n_missing) abort();
    }
    gr_encoder *e = NULL;
    gr_encoder_options eo;
    gr_encoder_options_default(&eo);
    eo.max_levels = 1 + (data[0] >> 4);
    if (gr_encoder_fit(&e, t, &eo) == GR_OK) {
      float *x = malloc(sizeof(float) * (size_t)t->n_rows * (size_t)e->n_features + 1);
      if (x && gr_encoder_transform(e, t, x) == GR_OK) {
        for (size_t i = 0; i < (size_t)t->n_rows * (size_t)e->n_features; i++)
          if (!isfinite(x[i])) abort();
      } else if (x) {
        abort(); /* the table it was fitted on must transform */
      }
      free(x);
    }
    gr_encoder_free(e);
  }
  gr_table_free(t);
  return 0;
}
