/* The leads commands' shared options (fit, score, eval, tune): the market,
 * the model settings, and reading the market and the portfolio. */
#ifndef GR_CLI_LEADS_ARGS_H
#define GR_CLI_LEADS_ARGS_H

#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "host/leads.h"
#include "host/table.h"

typedef struct leads_args {
  const char *market, *portfolio, *model, *leads, *scores, *columns, *json, *holdout_out;
  const char *exclude, *only; /* id lists that narrow the leads file */
  const char *balance, *solver;
  int top, uncalibrated, explain;
  float C, test_fraction, max_missing, kmeans_tol;
  uint64_t eval_seed;
  gr_table_options table;
  gr_leads_params p;
  gr_common_args common;
} leads_args;

/* leads tune's lists, given in place of one --k, --C and --balance. */
typedef struct gr_leads_grid {
  const char *k, *C, *balance;
} gr_leads_grid;

void gr_leads_args_default(leads_args *a);
/* Append the options (the market and how to read it; the model settings:
 * with grid, --k, --C and --balance go to its lists). @return the new count. */
int gr_leads_table_opts(gr_opt *o, int n, leads_args *a);
int gr_leads_fit_opts(gr_opt *o, int n, leads_args *a, gr_leads_grid *grid);
/* Validates and copies the option values that need converting.
 * @return GR_EXIT_OK or GR_EXIT_USAGE (message printed). */
int gr_leads_args_finish(leads_args *a, const char *cmd);
/* Reads a table, saying how fast when verbose. */
gr_status gr_leads_read_table(const char *path, const gr_table_options *o, const char *what,
                              int verbose, gr_table **out);
/* client[r] (malloc'ed) for the portfolio's ids; ids absent from the market are reported. */
/* flags[r] (malloc'ed) = 1 for the market rows whose id is in the id CSV at
 * path (`what` names it in messages); *n_found: the distinct ids found,
 * *n_ids the file's rows. Says how fast it read when verbose, and names ids
 * absent from the market when tell_missing. */
gr_status gr_leads_read_id_flags(const leads_args *a, const char *path, const char *what,
                                 const gr_table *market, int verbose, int tell_missing,
                                 uint8_t **flags, int64_t *n_found, int64_t *n_ids);
gr_status gr_leads_read_clients(const leads_args *a, const gr_table *market, int verbose,
                                uint8_t **client);
/* Writes "name": {"5": v[0], "10": v[1], ...}, one figure per cut, as JSON. */
void gr_leads_json_cuts(FILE *f, const char *name, const double *v);

#endif
