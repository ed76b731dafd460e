/* Fitting and applying the feature encoder (see encoder.h for the rules).
 * Statistics are computed in double; the fitted transform depends only on
 * the table's values, so the same table gives the same features. */
#include "encoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

void gr_encoder_options_default(gr_encoder_options *o) {
  o->max_missing = 0.8;
  o->max_levels = 20;
  o->reference_day = NAN;
}

void gr_encoder_free(gr_encoder *e) {
  if (!e) return;
  for (int c = 0; c < e->n_cols; c++) {
    free(e->cols[c].name);
    gr_id_map_free(&e->cols[c].levels);
  }
  free(e->cols);
  free(e);
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The value a numeric column's cell stands for (dates become years). */
static double numeric_value(const gr_encoder *e, const gr_column *col, int64_t r) {
  const double v = col->num[r];
  return col->kind == GR_COL_DATE ? (e->reference_day - v) / 365.25 : v;
}

static gr_status fit_numeric(gr_encoder *e, gr_enc_column *ec, const gr_column *col, int64_t n,
                             double *scratch) {
  int64_t m = 0;
  for (int64_t r = 0; r < n; r++)
    if (!isnan(col->num[r])) scratch[m++] = numeric_value(e, col, r);
  if (col->kind == GR_COL_BOOL || m == 0) {
    ec->fill = 0;
  } else {
    qsort(scratch, (size_t)m, sizeof(double), cmp_double);
    ec->fill = m % 2 ? scratch[m / 2] : 0.5 * (scratch[m / 2 - 1] + scratch[m / 2]);
  }
  double sum = 0, sq = 0;
  for (int64_t r = 0; r < n; r++) {
    const double v = isnan(col->num[r]) ? ec->fill : numeric_value(e, col, r);
    sum += v;
    sq += v * v;
  }
  ec->mean = sum / (double)n;
  const double var = sq / (double)n - ec->mean * ec->mean;
  ec->indicator = m < n;
  if (!(var > 1e-12 * (1 + ec->mean * ec->mean)) && !ec->indicator) {
    ec->action = GR_ENC_DROP_CONSTANT;
    return GR_OK;
  }
  ec->scale = var > 0 ? sqrt(var) : 1.0;
  if (col->kind == GR_COL_BOOL) { /* booleans stay 0/1 */
    ec->mean = 0;
    ec->scale = 1;
  }
  ec->action = GR_ENC_NUMERIC;
  ec->width = 1 + ec->indicator;
  return GR_OK;
}

typedef struct level_count {
  int64_t count;
  int32_t level;
} level_count;

static int cmp_level(const void *a, const void *b) {
  const level_count *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return (x->level > y->level) - (x->level < y->level); /* ties: first seen first */
}

static gr_status fit_one_hot(gr_enc_column *ec, const gr_column *col, int64_t n, int max_levels) {
  const int32_t L = col->levels.count;
  level_count *lc = calloc((size_t)L + 1, sizeof *lc);
  if (!lc) return gr_fail(GR_ERR_NOMEM, "cannot count levels of '%s'", col->name);
  for (int32_t l = 0; l < L; l++)
    lc[l].level = l;
  for (int64_t r = 0; r < n; r++)
    if (col->level[r] >= 0) lc[col->level[r]].count++;
  qsort(lc, (size_t)L, sizeof *lc, cmp_level);
  ec->indicator = col->n_missing > 0;
  if (L <= 1 && !ec->indicator) {
    free(lc);
    ec->action = GR_ENC_DROP_CONSTANT;
    return GR_OK;
  }
  const int32_t kept = L < max_levels ? L : max_levels;
  gr_status st = GR_OK;
  for (int32_t l = 0; l < kept && st == GR_OK; l++) {
    const char *s = gr_id_map_get(&col->levels, lc[l].level);
    int32_t idx;
    st = gr_id_map_intern(&ec->levels, s, strlen(s), &idx);
  }
  free(lc);
  ec->other = L > kept;
  ec->action = GR_ENC_ONE_HOT;
  ec->width = kept + ec->other + ec->indicator;
  return st;
}

gr_status gr_encoder_fit(gr_encoder **out, const gr_table *t, const gr_encoder_options *opts) {
  gr_encoder_options defaults;
  if (!opts) {
    gr_encoder_options_default(&defaults);
    opts = &defaults;
  }
  if (!(opts->max_missing >= 0 && opts->max_missing <= 1) || opts->max_levels < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "encoder: max_missing in [0, 1] and max_levels >= 1");
  if (t->n_rows < 1) return gr_fail(GR_ERR_INVALID_ARG, "encoder: the table has no rows");
  gr_encoder *e = calloc(1, sizeof *e);
  double *scratch = malloc(sizeof(double) * (size_t)t->n_rows);
  gr_status st = e && scratch ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the encoder");
  if (st == GR_OK) {
    e->cols = calloc((size_t)t->n_cols, sizeof *e->cols);
    if (!e->cols) st = gr_fail(GR_ERR_NOMEM, "cannot allocate the encoder");
  }
  if (st == GR_OK) {
    e->n_cols = t->n_cols;
    e->reference_day = opts->reference_day;
    if (isnan(e->reference_day)) { /* the latest date anywhere in the table */
      e->reference_day = 0;
      for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].kind == GR_COL_DATE)
          for (int64_t r = 0; r < t->n_rows; r++)
            if (t->cols[c].num[r] > e->reference_day) e->reference_day = t->cols[c].num[r];
    }
  }
  for (int c = 0; st == GR_OK && c < t->n_cols; c++) {
    const gr_column *col = &t->cols[c];
    gr_enc_column *ec = &e->cols[c];
    gr_id_map_init(&ec->levels);
    ec->name = strdup(col->name);
    if (!ec->name) st = gr_fail(GR_ERR_NOMEM, "cannot allocate a column name");
    ec->kind = col->kind;
    ec->missing_rate = (double)col->n_missing / (double)t->n_rows;
    if (st != GR_OK || col->kind == GR_COL_SKIP || col->kind == GR_COL_ID) continue;
    if (ec->missing_rate > opts->max_missing) {
      ec->action = GR_ENC_DROP_MISSING;
      continue;
    }
    st = col->kind == GR_COL_CATEGORY ? fit_one_hot(ec, col, t->n_rows, opts->max_levels)
                                      : fit_numeric(e, ec, col, t->n_rows, scratch);
    ec->offset = e->n_features;
    e->n_features += ec->width;
  }
  free(scratch);
  if (st == GR_OK && e->n_features == 0)
    st = gr_fail(GR_ERR_INVALID_ARG, "encoder: every column was dropped (missing or constant)");
  if (st != GR_OK) {
    gr_encoder_free(e);
    return st;
  }
  *out = e;
  return GR_OK;
}

gr_status gr_encoder_transform(const gr_encoder *e, const gr_table *t, float *out) {
  const size_t F = (size_t)e->n_features;
  memset(out, 0, sizeof(float) * F * (size_t)t->n_rows);
  for (int c = 0; c < e->n_cols; c++) {
    const gr_enc_column *ec = &e->cols[c];
    if (ec->action != GR_ENC_NUMERIC && ec->action != GR_ENC_ONE_HOT) continue;
    const int tc = gr_table_find(t, ec->name);
    if (tc < 0) return gr_fail(GR_ERR_INVALID_ARG, "the table has no column '%s'", ec->name);
    const gr_column *col = &t->cols[tc];
    const int want_levels = ec->action == GR_ENC_ONE_HOT;
    if (want_levels != (col->kind == GR_COL_CATEGORY) || (!want_levels && col->kind != ec->kind))
      return gr_fail(GR_ERR_INVALID_ARG, "column '%s' is %s here but was %s when fitted", ec->name,
                     gr_col_kind_name(col->kind), gr_col_kind_name(ec->kind));
    if (ec->action == GR_ENC_NUMERIC) {
      for (int64_t r = 0; r < t->n_rows; r++) {
        const int missing = isnan(col->num[r]);
        const double v = missing ? ec->fill : numeric_value(e, col, r);
        out[(size_t)r * F + ec->offset] = (float)((v - ec->mean) / ec->scale);
        if (ec->indicator) out[(size_t)r * F + ec->offset + 1] = (float)missing;
      }
      continue;
    }
    /* one-hot: translate this table's levels into the fitted ones once */
    int32_t *map = malloc(sizeof(int32_t) * ((size_t)col->levels.count + 1));
    if (!map) return gr_fail(GR_ERR_NOMEM, "cannot allocate a level map");
    for (int32_t l = 0; l < col->levels.count; l++) {
      const char *s = gr_id_map_get(&col->levels, l);
      map[l] = gr_id_map_find(&ec->levels, s, strlen(s));
    }
    const int n_kept = ec->levels.count;
    for (int64_t r = 0; r < t->n_rows; r++) {
      float *row = out + (size_t)r * F + ec->offset;
      const int32_t l = col->level[r];
      if (l < 0) {
        if (ec->indicator) row[n_kept + ec->other] = 1;
      } else if (map[l] >= 0) {
        row[map[l]] = 1;
      } else if (ec->other) {
        row[n_kept] = 1;
      }
    }
    free(map);
  }
  return GR_OK;
}

void gr_encoder_feature_name(const gr_encoder *e, int j, char *buf, size_t cap) {
  for (int c = 0; c < e->n_cols; c++) {
    const gr_enc_column *ec = &e->cols[c];
    if (ec->width == 0 || j < ec->offset || j >= ec->offset + ec->width) continue;
    const int i = j - ec->offset;
    if (ec->action == GR_ENC_NUMERIC) {
      snprintf(buf, cap, i == 0 ? "%s" : "%s:missing", ec->name);
    } else if (i < ec->levels.count) {
      snprintf(buf, cap, "%s=%s", ec->name, gr_id_map_get(&ec->levels, i));
    } else if (ec->other && i == ec->levels.count) {
      snprintf(buf, cap, "%s=other", ec->name);
    } else {
      snprintf(buf, cap, "%s:missing", ec->name);
    }
    return;
  }
  snprintf(buf, cap, "?");
}
