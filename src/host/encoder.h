/* Turns a typed table into a dense float32 feature matrix, with a transform
 * that is fitted once (on the market) and applied again at scoring time:
 * numbers and dates get median imputation, a missing indicator and
 * standardization; booleans become 0/1; categories are one-hot over their
 * most frequent levels plus "other"; mostly-missing and constant columns are
 * dropped, with the reason kept for the report. */
#ifndef GR_HOST_ENCODER_H
#define GR_HOST_ENCODER_H

#include "table.h"

typedef enum gr_enc_action {
  GR_ENC_SKIP = 0,         /* the index or id column */
  GR_ENC_DROP_MISSING = 1, /* missing rate above the threshold */
  GR_ENC_DROP_CONSTANT = 2,
  GR_ENC_NUMERIC = 3, /* numbers, dates (as years before the reference), booleans */
  GR_ENC_ONE_HOT = 4,
} gr_enc_action;

typedef struct gr_enc_column {
  char *name;
  gr_col_kind kind;
  gr_enc_action action;
  double missing_rate;
  double fill;        /* the value that replaces a missing one (median; 0 for booleans) */
  double mean, scale; /* after filling: (x - mean) / scale; 0 and 1 for booleans */
  int indicator;      /* 1: an extra 0/1 feature marks missing values */
  gr_id_map levels;   /* ONE_HOT: the kept levels, most frequent first */
  int other;          /* ONE_HOT: 1 when some levels fall into an "other" feature */
  int offset, width;  /* the features this column produces */
} gr_enc_column;

typedef struct gr_encoder {
  int n_cols;
  gr_enc_column *cols;
  int n_features;
  double reference_day; /* dates become (reference_day - day) / 365.25 */
} gr_encoder;

typedef struct gr_encoder_options {
  double max_missing;   /* drop columns missing more often than this; default 0.8 */
  int max_levels;       /* one-hot levels per category before "other"; default 20 */
  double reference_day; /* days since 1970; NAN = the latest date in the table */
} gr_encoder_options;

void gr_encoder_options_default(gr_encoder_options *o);
gr_status gr_encoder_fit(gr_encoder **out, const gr_table *t, const gr_encoder_options *o);
/* out: (t->n_rows, e->n_features) row-major. Columns are matched by name; a
 * column the table lacks is an error; unseen levels go to "other" (or to no
 * feature when the column had none). */
gr_status gr_encoder_transform(const gr_encoder *e, const gr_table *t, float *out);
/* The kind column `name` had when fitted, for a column the transform reads
 * (a gr_col_kind), or -1: gr_table_options.fixed_kind, so a market to score
 * is read as the model saw it (a handful of rows cannot turn a sparse number
 * column into booleans) and a value that does not fit is an error naming its
 * line and column. `enc` is a const gr_encoder *. */
int gr_encoder_fitted_kind(const void *enc, const char *name);
/* The columns the transform reads that t lacks: with `add`, each is appended
 * to t with every value missing (scored as a company whose value is not
 * known: the fitted fill, and the missing flag where the column has one).
 * @return how many (names: the first five, comma-separated, then ", ..."
 * when there are more; cut to cap). */
int gr_encoder_absent_columns(const gr_encoder *e, gr_table *t, int add, char *names, size_t cap,
                              gr_status *st);
/* binary[j] (e->n_features) = 1 where the transform gives feature j no
 * values but 0 and 1: booleans, missing indicators, one-hot levels. */
void gr_encoder_binary_features(const gr_encoder *e, uint8_t *binary);
/* Writes feature j's name ("col", "col=level", "col=other", "col:missing"). */
void gr_encoder_feature_name(const gr_encoder *e, int j, char *buf, size_t cap);
void gr_encoder_free(gr_encoder *e);

#endif
