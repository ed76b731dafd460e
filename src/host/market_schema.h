/* The market table's columns as modeled on the real 555-row sample with every
 * column (estaticos_portfolio1.csv): names in file order, kinds, missingness,
 * category levels with their sample counts, number distributions and the
 * style pandas wrote them in. The table (market_schema.c) is data, derived
 * once from the sample; gen_market.c samples from it. */
#ifndef GR_HOST_MARKET_SCHEMA_H
#define GR_HOST_MARKET_SCHEMA_H

#include <stdint.h>

#define GR_MKT_N_COLUMNS 182
#define GR_MKT_SAMPLE_ROWS 555 /* rows of the sample the counts come from */
#define GR_MKT_N_QUANTILES 17

typedef enum gr_mkt_kind {
  GR_MKT_INDEX,    /* pandas' unnamed index column: 0..n-1 */
  GR_MKT_ID,       /* 64 hex digits */
  GR_MKT_BOOL,     /* True/False, levels {"False", "True"} */
  GR_MKT_NUMBER,   /* decimal numbers */
  GR_MKT_DATE,     /* YYYY-MM-DD; distributions in days since 1970-01-01 */
  GR_MKT_CATEGORY, /* strings */
} gr_mkt_kind;

/* Columns that are missing together. A group is present with probability
 * present / (its parent's present, or GR_MKT_SAMPLE_ROWS at the root), and
 * only where its parent group is present: the sample's masks nest (every
 * company with partner companies also has partners, and so on). */
typedef struct gr_mkt_group {
  int16_t parent;  /* -1: none */
  int16_t present; /* sample rows where the group's columns have values */
  float tilt;      /* how strongly the latent segments shift the presence; 0 = not */
} gr_mkt_group;

typedef struct gr_mkt_column {
  const char *name;
  gr_mkt_kind kind;
  double missing; /* share of empty cells in the sample (1 for never-filled columns) */
  int16_t group;  /* gr_mkt_groups index; -1: always present */
  int16_t parent; /* column whose value conditions this one; -1: none */
  float tilt;     /* how strongly the latent segments shift the values; 0 = not */
  /* BOOL and CATEGORY: levels, most frequent first, with sample counts. */
  int16_t n_levels;
  const char *const *levels;
  const uint16_t *counts;
  /* CATEGORY under a CATEGORY parent: (parent level, level, count) triples,
   * sorted by parent level. */
  int16_t n_pairs;
  const uint16_t (*pairs)[3];
  /* CATEGORY under a NUMBER parent (a bracket of it): each level's lowest
   * parent value in the sample (NAN: never seen with one). */
  const double *bin_lo;
  /* NUMBER and DATE: values seen often, (value, count), and the quantiles of
   * the n_rest other values, interpolated between. */
  int16_t n_atoms;
  const double (*atoms)[2];
  int16_t n_rest;
  const double *rest_q; /* (GR_MKT_N_QUANTILES) */
  int8_t decimals;      /* rounded to this many; -1: 16 significant digits */
  int8_t point;         /* written as a float ("3.0"), as pandas writes float columns */
} gr_mkt_column;

extern const gr_mkt_group gr_mkt_groups[];
extern const int gr_mkt_n_groups;
extern const gr_mkt_column gr_mkt_columns[GR_MKT_N_COLUMNS];

#endif
