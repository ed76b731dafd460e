/* Fitting and applying the feature encoder (see encoder.h for the rules).
 * Statistics are computed in double, column by column in row order; columns
 * are fitted in parallel and rows are transformed in parallel blocks, so the
 * fitted transform and the features depend only on the table's values, not
 * on the number of threads. Medians come from selection, not sorting. */
#include "encoder.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

enum { MSG_CAP = 1024, BLOCK_ROWS = 256, PARALLEL_ROWS = 4096 };

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

/* Moves the k-th smallest of x[0..n) (no NaN) to x[k], with nothing larger
 * before it and nothing smaller after it: quickselect on a median of three,
 * sorting the rest should the ranges stop shrinking. */
static void select_kth(double *x, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1;
  int budget = 64;
  while (hi > lo) {
    if (budget-- == 0) {
      qsort(x + lo, (size_t)(hi - lo + 1), sizeof(double), cmp_double);
      return;
    }
    const int64_t mid = lo + (hi - lo) / 2;
    double t;
#define SORT2(a, b)                                                                                \
  if (x[b] < x[a]) t = x[a], x[a] = x[b], x[b] = t
    SORT2(lo, mid);
    SORT2(mid, hi);
    SORT2(lo, mid);
#undef SORT2
    const double pivot = x[mid];
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (x[i] < pivot)
        i++;
      while (x[j] > pivot)
        j--;
      if (i <= j) {
        t = x[i], x[i] = x[j], x[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return; /* x(j..i) all equal the pivot */
  }
}

/* The median of x[0..m) (m >= 1; x is reordered). A zero median is +0. */
static double median(double *x, int64_t m) {
  select_kth(x, m, m / 2);
  double med = x[m / 2];
  if (m % 2 == 0) {
    double below = x[0]; /* the largest before m/2 */
    for (int64_t i = 1; i < m / 2; i++)
      if (x[i] > below) below = x[i];
    med = 0.5 * (below + med);
  }
  return med + 0.0;
}

/* The value a numeric column's cell stands for (dates become years). */
static double numeric_value(double reference_day, const gr_column *col, int64_t r) {
  const double v = col->num[r];
  return col->kind == GR_COL_DATE ? (reference_day - v) / 365.25 : v;
}

/* The value a cell stands for after imputation (the median where missing). */
static double filled_value(const gr_encoder *e, const gr_enc_column *ec, const gr_column *col,
                           int64_t r) {
  return isnan(col->num[r]) ? ec->fill : numeric_value(e->reference_day, col, r);
}

/* scratch: 2 n doubles, the present values (for the median), then every
 * row's value after imputation, so that the passes after it are plain
 * loops over an array. */
static gr_status fit_numeric(const gr_encoder *e, gr_enc_column *ec, const gr_column *col,
                             int64_t n, double *scratch) {
  int64_t m = 0;
  for (int64_t r = 0; r < n; r++)
    if (!isnan(col->num[r])) scratch[m++] = numeric_value(e->reference_day, col, r);
  ec->fill = col->kind == GR_COL_BOOL || m == 0 ? 0 : median(scratch, m);
  double *filled = scratch + n;
  for (int64_t r = 0; r < n; r++)
    filled[r] = filled_value(e, ec, col, r);
  /* Any finite values, up to DBL_MAX: the mean as a sum of v / n, the
   * spread from halves (v / 2 - mean / 2 cannot overflow) scaled by their
   * largest, so that nothing overflows on the way. Values are finite (the
   * table holds no others), so a compare is fmax. */
  double mean = 0, top = 0, sq = 0;
  for (int64_t r = 0; r < n; r++)
    mean += filled[r] / (double)n;
  for (int64_t r = 0; r < n; r++) {
    const double a = fabs(filled[r] / 2 - mean / 2);
    top = a > top ? a : top;
  }
  for (int64_t r = 0; top > 0 && r < n; r++) {
    const double u = (filled[r] / 2 - mean / 2) / top;
    sq += u * u;
  }
  ec->mean = mean;
  const double sd = 2 * top * sqrt(sq / (double)n); /* <= (max - min) / 2: finite */
  ec->indicator = m < n;
  if (!(sd > 1e-6 * hypot(1, mean)) && !ec->indicator) {
    ec->action = GR_ENC_DROP_CONSTANT;
    return GR_OK;
  }
  if (!isfinite(sd))
    return gr_fail(GR_ERR_PARSE, "column '%s': values spread past the double range (%g to %g)",
                   col->name, -2 * top + mean, 2 * top + mean);
  ec->scale = sd > 0 ? sd : 1.0;
  if (col->kind == GR_COL_BOOL) { /* booleans stay 0/1 */
    ec->mean = 0;
    ec->scale = 1;
  }
  ec->action = GR_ENC_NUMERIC;
  ec->width = 1 + ec->indicator;
  return GR_OK;
}

/* (v - mean) / scale without overflow (halves; exact scalings by 2 in the
 * normal range), clipped to +-GR_ENC_CLIP: a value far outside the fitted
 * spread cannot become an infinite feature or margin. */
#define GR_ENC_CLIP 1e6
static float standardized(double v, const gr_enc_column *ec) {
  const double z = (v / 2 - ec->mean / 2) / (ec->scale / 2);
  return (float)(z > GR_ENC_CLIP ? GR_ENC_CLIP : z < -GR_ENC_CLIP ? -GR_ENC_CLIP : z);
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

/* One column's fit; *fitted = 1 when it was looked at (it then takes an offset). */
static gr_status fit_column(gr_encoder *e, int c, const gr_table *t, const gr_encoder_options *o,
                            double *scratch, int *fitted) {
  const gr_column *col = &t->cols[c];
  gr_enc_column *ec = &e->cols[c];
  ec->name = strdup(col->name);
  if (!ec->name) return gr_fail(GR_ERR_NOMEM, "cannot allocate a column name");
  ec->kind = col->kind;
  ec->missing_rate = (double)col->n_missing / (double)t->n_rows;
  if (col->kind == GR_COL_SKIP || col->kind == GR_COL_ID) return GR_OK;
  if (ec->missing_rate > o->max_missing) {
    ec->action = GR_ENC_DROP_MISSING;
    return GR_OK;
  }
  *fitted = 1;
  if (col->kind == GR_COL_CATEGORY) return fit_one_hot(ec, col, t->n_rows, o->max_levels);
  if (!scratch) return gr_fail(GR_ERR_NOMEM, "cannot allocate the encoder");
  return fit_numeric(e, ec, col, t->n_rows, scratch);
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
  gr_status *sts = calloc((size_t)t->n_cols + 1, sizeof *sts);
  int *fitted = calloc((size_t)t->n_cols + 1, sizeof *fitted);
  char(*msgs)[MSG_CAP] = calloc((size_t)t->n_cols + 1, sizeof *msgs);
  gr_status st =
      e && sts && fitted && msgs ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the encoder");
  if (st == GR_OK) {
    e->cols = calloc((size_t)t->n_cols, sizeof *e->cols);
    if (!e->cols) st = gr_fail(GR_ERR_NOMEM, "cannot allocate the encoder");
  }
  if (st == GR_OK) {
    e->n_cols = t->n_cols;
    for (int c = 0; c < t->n_cols; c++)
      gr_id_map_init(&e->cols[c].levels);
    e->reference_day = opts->reference_day;
    if (isnan(e->reference_day)) { /* the latest date anywhere in the table */
      e->reference_day = 0;
      for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].kind == GR_COL_DATE)
          for (int64_t r = 0; r < t->n_rows; r++)
            if (t->cols[c].num[r] > e->reference_day) e->reference_day = t->cols[c].num[r];
    }
    const int parallel = t->n_rows >= PARALLEL_ROWS && t->n_cols > 1;
#pragma omp parallel if (parallel)
    {
      double *scratch = malloc(sizeof(double) * 2 * (size_t)t->n_rows);
#pragma omp for schedule(dynamic, 1)
      for (int c = 0; c < t->n_cols; c++) {
        sts[c] = fit_column(e, c, t, opts, scratch, &fitted[c]);
        if (sts[c] != GR_OK) snprintf(msgs[c], MSG_CAP, "%s", gr_last_error());
      }
      free(scratch);
    }
    /* offsets in column order; the first failure in column order is reported */
    for (int c = 0; c < t->n_cols && st == GR_OK; c++) {
      if (sts[c] != GR_OK) {
        st = gr_fail(sts[c], "%s", msgs[c]);
      } else if (fitted[c]) {
        e->cols[c].offset = e->n_features;
        e->n_features += e->cols[c].width;
      }
    }
  }
  free(sts);
  free(fitted);
  free(msgs);
  if (st == GR_OK && e->n_features == 0)
    st = gr_fail(GR_ERR_INVALID_ARG, "encoder: every column was dropped (missing or constant)");
  if (st != GR_OK) {
    gr_encoder_free(e);
    return st;
  }
  *out = e;
  return GR_OK;
}

void gr_encoder_binary_features(const gr_encoder *e, uint8_t *binary) {
  memset(binary, 0, (size_t)e->n_features);
  for (int c = 0; c < e->n_cols; c++) {
    const gr_enc_column *ec = &e->cols[c];
    if (ec->action == GR_ENC_ONE_HOT) {
      memset(binary + ec->offset, 1, (size_t)ec->width);
    } else if (ec->action == GR_ENC_NUMERIC) {
      binary[ec->offset] = ec->kind == GR_COL_BOOL; /* fill 0, mean 0, scale 1 */
      if (ec->indicator) binary[ec->offset + 1] = 1;
    }
  }
}

// ---- transform ----------------------------------------------------------------

/* A fitted column matched to a table column, with its level translation. */
typedef struct plan {
  const gr_enc_column *ec;
  const gr_column *col;
  int32_t *map; /* ONE_HOT: table level -> kept level or -1 */
} plan;

static void transform_rows(const gr_encoder *e, const plan *plans, int n_plans, int64_t r0,
                           int64_t r1, float *out) {
  const size_t F = (size_t)e->n_features;
  memset(out + (size_t)r0 * F, 0, sizeof(float) * F * (size_t)(r1 - r0));
  for (int p = 0; p < n_plans; p++) {
    const gr_enc_column *ec = plans[p].ec;
    const gr_column *col = plans[p].col;
    float *o = out + ec->offset;
    if (ec->action == GR_ENC_NUMERIC) {
      for (int64_t r = r0; r < r1; r++) {
        o[(size_t)r * F] = standardized(filled_value(e, ec, col, r), ec);
        if (ec->indicator) o[(size_t)r * F + 1] = (float)isnan(col->num[r]);
      }
      continue;
    }
    const int32_t *map = plans[p].map;
    const int n_kept = ec->levels.count;
    for (int64_t r = r0; r < r1; r++) {
      float *row = o + (size_t)r * F;
      const int32_t l = col->level[r];
      if (l < 0) {
        if (ec->indicator) row[n_kept + ec->other] = 1;
      } else if (map[l] >= 0) {
        row[map[l]] = 1;
      } else if (ec->other) {
        row[n_kept] = 1;
      }
    }
  }
}

gr_status gr_encoder_transform(const gr_encoder *e, const gr_table *t, float *out) {
  plan *plans = calloc((size_t)e->n_cols + 1, sizeof *plans);
  if (!plans) return gr_fail(GR_ERR_NOMEM, "cannot allocate the transform");
  int n_plans = 0;
  gr_status st = GR_OK;
  for (int c = 0; c < e->n_cols && st == GR_OK; c++) {
    const gr_enc_column *ec = &e->cols[c];
    if (ec->action != GR_ENC_NUMERIC && ec->action != GR_ENC_ONE_HOT) continue;
    const int tc = gr_table_find(t, ec->name);
    if (tc < 0) {
      st = gr_fail(GR_ERR_INVALID_ARG, "the table has no column '%s'", ec->name);
      break;
    }
    const gr_column *col = &t->cols[tc];
    const int want_levels = ec->action == GR_ENC_ONE_HOT;
    if (want_levels != (col->kind == GR_COL_CATEGORY) || (!want_levels && col->kind != ec->kind)) {
      st = gr_fail(GR_ERR_INVALID_ARG, "column '%s' is %s here but was %s when fitted", ec->name,
                   gr_col_kind_name(col->kind), gr_col_kind_name(ec->kind));
      break;
    }
    plan *p = &plans[n_plans++];
    p->ec = ec;
    p->col = col;
    if (!want_levels) continue;
    /* one-hot: translate this table's levels into the fitted ones once */
    p->map = malloc(sizeof(int32_t) * ((size_t)col->levels.count + 1));
    if (!p->map) {
      st = gr_fail(GR_ERR_NOMEM, "cannot allocate a level map");
      break;
    }
    for (int32_t l = 0; l < col->levels.count; l++) {
      const char *s = gr_id_map_get(&col->levels, l);
      p->map[l] = gr_id_map_find(&ec->levels, s, strlen(s));
    }
  }
  if (st == GR_OK) {
    const int64_t n_blocks = (t->n_rows + BLOCK_ROWS - 1) / BLOCK_ROWS;
#pragma omp parallel for schedule(static) if (t->n_rows >= PARALLEL_ROWS)
    for (int64_t b = 0; b < n_blocks; b++) {
      const int64_t r0 = b * BLOCK_ROWS;
      transform_rows(e, plans, n_plans, r0,
                     r0 + BLOCK_ROWS < t->n_rows ? r0 + BLOCK_ROWS : t->n_rows, out);
    }
  }
  for (int p = 0; p < n_plans; p++)
    free(plans[p].map);
  free(plans);
  return st;
}
int gr_encoder_fitted_kind(const void *enc, const char *name) {
  const gr_encoder *e = enc;
  for (int c = 0; c < e->n_cols; c++) {
    const gr_enc_column *ec = &e->cols[c];
    if (strcmp(ec->name, name) != 0) continue;
    if (ec->action == GR_ENC_ONE_HOT) return GR_COL_CATEGORY;
    return ec->action == GR_ENC_NUMERIC ? (int)ec->kind : -1;
  }
  return -1;
}

int gr_encoder_absent_columns(const gr_encoder *e, gr_table *t, int add, char *names, size_t cap,
                              gr_status *st) {
  int n = 0;
  *st = GR_OK;
  if (cap) names[0] = '\0';
  for (int c = 0; c < e->n_cols && *st == GR_OK; c++) {
    const gr_enc_column *ec = &e->cols[c];
    if (ec->action != GR_ENC_NUMERIC && ec->action != GR_ENC_ONE_HOT) continue;
    if (gr_table_find(t, ec->name) >= 0) continue;
    const size_t used = cap ? strlen(names) : 0;
    if (n < 5 && used + 1 < cap)
      snprintf(names + used, cap - used, "%s'%s'", n ? ", " : "", ec->name);
    n++;
    if (add)
      *st = gr_table_add_missing_column(t, ec->name,
                                        ec->action == GR_ENC_ONE_HOT ? GR_COL_CATEGORY : ec->kind);
  }
  const size_t used = cap ? strlen(names) : 0;
  if (n > 5 && used + 1 < cap) snprintf(names + used, cap - used, ", ...");
  return n;
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
