/* The generative model behind `gpurec gen market`: the column table of
 * market_schema.h turned into samplers, plus the planted structure. Every
 * company belongs to one of GR_MKT_SEGMENTS latent segments; a segment tilts
 * the distributions of the informative columns (those with a tilt in the
 * schema) and the presence of some missingness groups, calibrated so that
 * the market's marginals stay those of the sample. Each portfolio targets one
 * or two segments, and its clients lean further towards a "signature" of a
 * few column values. Built once from a seed; sampling a row is thread-safe. */
#ifndef GR_HOST_MARKET_MODEL_H
#define GR_HOST_MARKET_MODEL_H

#include <stdint.h>

#include "../common/rng.h"
#include "gpurec.h"
#include "market_schema.h"

#define GR_MKT_SEGMENTS 12
#define GR_MKT_MAX_PORTFOLIOS 8
#define GR_MKT_SIGNATURE 3

/* Inverse CDF of a number column: pieces sorted by value, an atom when
 * lo == hi, else an interval interpolated linearly. */
typedef struct gr_mkt_sampler {
  int n;
  double *cum; /* (n) cumulative weight, last = 1 */
  double *lo, *hi;
} gr_mkt_sampler;

typedef struct gr_mkt_signature {
  int col;      /* -1: unused */
  int level;    /* BOOL and CATEGORY: the level clients lean to */
  double shift; /* NUMBER and DATE: shift of the client's normal score */
} gr_mkt_signature;

typedef struct gr_mkt_portfolio_plan {
  int n_targets;
  int target[2]; /* segments most clients come from */
  gr_mkt_signature sig[GR_MKT_SIGNATURE];
} gr_mkt_portfolio_plan;

typedef struct gr_market_model {
  double seg_cum[GR_MKT_SEGMENTS]; /* the segments' prior, cumulative */
  int order[GR_MKT_N_COLUMNS];     /* generation order: parents first */
  double *group_p;                 /* (n_groups, SEGMENTS) presence given the parent's */
  /* BOOL and CATEGORY: cumulative level weights, (SEGMENTS, n_levels) when
   * tilted, else (1, n_levels); under a CATEGORY parent also
   * child_cum (n_parent_levels, n_levels), a row of zeros where the parent
   * level was never seen with this column. */
  double *cat_cum[GR_MKT_N_COLUMNS];
  double *child_cum[GR_MKT_N_COLUMNS];
  /* CATEGORY under a NUMBER parent: brackets sorted by lower bound. */
  int n_bins[GR_MKT_N_COLUMNS];
  double *bin_lo[GR_MKT_N_COLUMNS];
  int32_t *bin_level[GR_MKT_N_COLUMNS];
  gr_mkt_sampler num[GR_MKT_N_COLUMNS];
  double *mu[GR_MKT_N_COLUMNS]; /* (SEGMENTS) mean normal score of tilted numbers */
  double sd[GR_MKT_N_COLUMNS];  /* the normal score's within-segment deviation */
  int n_portfolios;
  gr_mkt_portfolio_plan plan[GR_MKT_MAX_PORTFOLIOS];
} gr_market_model;

/* One generated row: level (BOOL, CATEGORY; -1 missing) or value (NUMBER,
 * DATE in days; NaN missing) per column. */
typedef struct gr_mkt_row {
  int32_t level[GR_MKT_N_COLUMNS];
  double value[GR_MKT_N_COLUMNS];
} gr_mkt_row;

/* Builds the samplers, segments and portfolio plans from `seed`. */
gr_status gr_market_model_build(gr_market_model *m, uint64_t seed, int n_portfolios);
void gr_market_model_free(gr_market_model *m);

/* A segment drawn from the prior. */
int gr_market_model_segment(const gr_market_model *m, gr_rng *rng);

/* Fills `row` for a company of segment `seg`; `portfolio` is 1..n for a
 * client of that portfolio, 0 for others. */
void gr_market_model_row(const gr_market_model *m, int seg, int portfolio, gr_rng *rng,
                         gr_mkt_row *row);

#endif
