/* A seeded synthetic market table with planted client portfolios: the real
 * market's 182 columns (names, kinds, missingness and value distributions
 * modeled on the real sample, see market_schema.h), N companies drawn from
 * latent segments, and portfolios whose clients come mostly from one or two
 * segments and lean towards a few column values, so that lead quality can
 * be measured on held-out clients. */
#ifndef GR_HOST_GEN_MARKET_H
#define GR_HOST_GEN_MARKET_H

#include <stdint.h>

#include "gpurec.h"

#define GR_MARKET_MAX_PORTFOLIOS 8

typedef struct gr_market_gen_params {
  int64_t n_rows;   /* companies; default 462298, the real market's size */
  uint64_t seed;    /* default 42 */
  int n_portfolios; /* 0..GR_MARKET_MAX_PORTFOLIOS; default 3 */
  /* requested client counts; default 555, 566, 265 (the real portfolios) */
  int64_t portfolio_sizes[GR_MARKET_MAX_PORTFOLIOS];
  int n_threads; /* 0 = OpenMP's default; the output does not depend on it */
} gr_market_gen_params;

void gr_market_gen_params_default(gr_market_gen_params *p);

/* The client counts actually written: the requested ones, scaled down
 * together so that none exceeds 1% of the rows, and at least 2 each (1
 * below 100 rows). @return GR_ERR_INVALID_ARG when the params are out of
 * range or the portfolios do not fit in the rows. */
gr_status gr_market_portfolio_sizes(const gr_market_gen_params *p,
                                    int64_t sizes[GR_MARKET_MAX_PORTFOLIOS]);

/* Writes the market CSV (pandas' style: an unnamed index column, `id`, then
 * the columns) and, when portfolio_prefix is not NULL, portfolio k's ids to
 * `<portfolio_prefix><k>.csv` (k = 1..n; an index column and `id`). The same
 * params give byte-identical files whatever n_threads. Every file is written
 * to a temporary file and renamed at the end: all of them, or none (where
 * outputs are held, output_file.h, at the caller's release). market_bytes
 * (may be NULL): the market file's size.
 * @return GR_OK, GR_ERR_INVALID_ARG, GR_ERR_IO or GR_ERR_NOMEM. */
gr_status gr_gen_market_csv(const gr_market_gen_params *p, const char *market_path,
                            const char *portfolio_prefix, int64_t *market_bytes);

/* The 64 lowercase hex digits (plus NUL) of row `row`'s id under `seed`:
 * the first 16 are a bijection of the row, so ids never collide. */
void gr_market_row_id(uint64_t seed, int64_t row, char out[65]);

#endif
