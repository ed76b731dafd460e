/* The leads commands' shared options and inputs. */
#include "leads_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/error.h"
#include "host/table_doubts.h"

void gr_leads_args_default(leads_args *a) {
  memset(a, 0, sizeof *a);
  gr_leads_params_default(&a->p);
  gr_table_options_default(&a->table);
  gr_common_args_default(&a->common);
  a->balance = "smote";
  a->solver = "auto";
  a->top = 100;
  a->C = (float)a->p.logreg.C;
  a->test_fraction = 0.2f;
  a->eval_seed = 42;
  a->max_missing = (float)a->p.encoder.max_missing;
  a->kmeans_tol = (float)a->p.kmeans.tol;
}

/* The options every subcommand shares (the market and how to read it). */
int gr_leads_table_opts(gr_opt *o, int n, leads_args *a) {
  o[n++] =
      (gr_opt){"--market", OPT_STR, &a->market, "market CSV: one company per row, an id column"};
  o[n++] = (gr_opt){"--id-col", OPT_STR, &a->table.id_name, "name of the id column"};
  o[n++] = (gr_opt){"--kinds", OPT_STR, &a->table.kinds, "forced column kinds, e.g. cep=category"};
  o[n++] = (gr_opt){"--kinds-file", OPT_STR, &a->table.kinds_file,
                    "forced kinds from a file (gpurec describe --kinds-out writes one)"};
  return n;
}

int gr_leads_fit_opts(gr_opt *o, int n, leads_args *a, gr_leads_grid *grid) {
  o[n++] = (gr_opt){"--portfolio", OPT_STR, &a->portfolio, "CSV with an id column: the clients"};
  if (grid)
    o[n++] = (gr_opt){"--k", OPT_STR, &grid->k, "KMeans clusters (one model each), a list"};
  else
    o[n++] = (gr_opt){"--k", OPT_INT, &a->p.kmeans.k, "KMeans clusters (one model each)"};
  o[n++] = (gr_opt){"--n-init", OPT_INT, &a->p.kmeans.n_init, "KMeans restarts"};
  o[n++] =
      (gr_opt){"--kmeans-max-iter", OPT_INT, &a->p.kmeans.max_iter, "Lloyd iterations at most"};
  o[n++] = (gr_opt){"--kmeans-tol", OPT_FLOAT, &a->kmeans_tol, "KMeans tolerance"};
  o[n++] = (gr_opt){"--seed", OPT_U64, &a->p.kmeans.seed, "seed of KMeans and SMOTE"};
  o[n++] = (gr_opt){"--balance", OPT_STR, grid ? &grid->balance : &a->balance,
                    grid ? "smote, weight or none, a list" : "smote, weight or none"};
  o[n++] = (gr_opt){"--smote-k", OPT_INT, &a->p.smote_k, "SMOTE nearest neighbours"};
  if (grid)
    o[n++] = (gr_opt){"--C", OPT_STR, &grid->C, "inverse L2 strength, as scikit-learn's C, a list"};
  else
    o[n++] = (gr_opt){"--C", OPT_FLOAT, &a->C, "inverse L2 strength, as scikit-learn's C"};
  o[n++] = (gr_opt){"--solver", OPT_STR, &a->solver,
                    "logistic regression solver: newton, lbfgs or auto (newton up to 1024 "
                    "features)"};
  o[n++] = (gr_opt){"--max-iter", OPT_INT, &a->p.logreg.max_iter,
                    "solver iterations at most (0: 100 Newton steps or 1000 L-BFGS iterations)"};
  o[n++] = (gr_opt){"--tol", OPT_DOUBLE, &a->p.logreg.tol,
                    "logistic regressions stop at max |gradient| <= tol"};
  o[n++] = (gr_opt){"--hessian-sample", OPT_DOUBLE, &a->p.logreg.hessian_sample,
                    "curvature sampling of the Newton Hessians (0: exact; same optimum)"};
  o[n++] = (gr_opt){"--uncalibrated", OPT_FLAG, &a->uncalibrated,
                    "keep the balanced 50% prior in every cluster (no prior correction)"};
  o[n++] = (gr_opt){"--max-missing", OPT_FLOAT, &a->max_missing, "drop columns missing more"};
  o[n++] = (gr_opt){"--max-levels", OPT_INT, &a->p.encoder.max_levels, "one-hot levels per column"};
  return n;
}

/* Validates and copies the option values that need converting. */
int gr_leads_args_finish(leads_args *a, const char *cmd) {
  if (gr_balance_parse(a->balance, &a->p.balance) != 0) {
    fprintf(stderr, "gpurec %s: --balance expects smote, weight or none, got '%s'\n", cmd,
            a->balance);
    return GR_EXIT_USAGE;
  }
  if (gr_logreg_solver_parse(a->solver, &a->p.logreg.solver) != 0) {
    fprintf(stderr, "gpurec %s: --solver expects newton, lbfgs or auto, got '%s'\n", cmd,
            a->solver);
    return GR_EXIT_USAGE;
  }
  a->p.logreg.C = a->C;
  a->p.encoder.max_missing = a->max_missing;
  a->p.kmeans.tol = a->kmeans_tol;
  a->p.seed = a->p.kmeans.seed;
  a->p.prior_correction = !a->uncalibrated;
  if (!a->market) {
    fprintf(stderr, "gpurec %s: --market FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  if (a->top < 1) {
    fprintf(stderr, "gpurec %s: --top must be at least 1 (--scores writes every company)\n", cmd);
    return GR_EXIT_USAGE;
  }
  if (a->explain < 0 || a->explain > GR_LEADS_EXPLAIN_MAX) {
    fprintf(stderr, "gpurec %s: --explain must be in 0..%d\n", cmd, GR_LEADS_EXPLAIN_MAX);
    return GR_EXIT_USAGE;
  }
  if ((a->exclude || a->only) && !a->leads) {
    fprintf(stderr, "gpurec %s: --exclude and --only narrow the --leads file; give --leads FILE\n",
            cmd);
    return GR_EXIT_USAGE;
  }
  if (a->explain && !a->leads) {
    fprintf(stderr, "gpurec %s: --explain adds reasons to the --leads file; give --leads FILE\n",
            cmd);
    return GR_EXIT_USAGE;
  }
  return GR_EXIT_OK;
}

gr_status gr_leads_read_table(const char *path, const gr_table_options *o, const char *what,
                              int verbose, gr_table **out) {
  const double t0 = gr_now_seconds();
  GR_TRY(gr_table_read_csv(out, path, o));
  if ((*out)->id_col < 0) { /* the market, portfolios and id lists are keyed by id */
    gr_table_free(*out);
    *out = NULL;
    return gr_fail(GR_ERR_INVALID_ARG, "%s: the header has no id column '%s' (--id-col names it)",
                   path, o->id_name ? o->id_name : "id");
  }
  const double s = gr_now_seconds() - t0;
  /* where an encoder is fitted on the market (not with a model's kinds, not
   * for id lists), a stray value changes the features: said even with --quiet */
  if (strcmp(what, "market") == 0 && !o->fixed_kind)
    gr_table_warn_doubts(*out, path, "leads: ", stderr);
  struct stat sb;
  const double mb = stat(path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
  if (verbose)
    fprintf(stderr, "leads: read %s %s: %lld rows, %d columns (%.2f s, %.0f MB/s)\n", what, path,
            (long long)(*out)->n_rows, (*out)->n_cols, s, s > 0 ? mb / s : 0);
  return GR_OK;
}

/* client[r] for the portfolio's ids; ids absent from the market are reported. */
gr_status gr_leads_read_id_flags(const leads_args *a, const char *path, const char *what,
                                 const gr_table *market, int verbose, int tell_missing,
                                 uint8_t **flags, int64_t *n_found, int64_t *n_ids) {
  gr_table_options po;
  gr_table_options_default(&po);
  po.id_name = a->table.id_name;
  po.kinds = NULL;
  gr_table *pt = NULL;
  GR_TRY(gr_leads_read_table(path, &po, what, verbose, &pt));
  *flags = malloc((size_t)(market->n_rows ? market->n_rows : 1));
  int64_t missing = 0;
  char some[512];
  gr_status st = *flags ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate %s flags", what);
  if (st == GR_OK)
    st = gr_leads_mark_clients(market, pt, *flags, n_found, &missing, some, sizeof some);
  if (st == GR_OK && missing && tell_missing)
    fprintf(stderr, "leads: %lld of %lld %s ids are not in the market (e.g. %s)\n",
            (long long)missing, (long long)pt->n_rows, what, some);
  *n_ids = pt->n_rows;
  gr_table_free(pt);
  if (st != GR_OK) {
    free(*flags);
    *flags = NULL;
  }
  return st;
}

gr_status gr_leads_read_clients(const leads_args *a, const gr_table *market, int verbose,
                                uint8_t **client) {
  int64_t found = 0, n_ids = 0;
  /* missing ids are always reported for the portfolio: they change the model */
  GR_TRY(gr_leads_read_id_flags(a, a->portfolio, "portfolio", market, verbose, 1, client, &found,
                                &n_ids));
  if (found == 0) {
    free(*client);
    *client = NULL;
    return gr_fail(GR_ERR_INVALID_ARG, "%s: none of its %lld ids is in the market %s", a->portfolio,
                   (long long)n_ids, a->market);
  }
  return GR_OK;
}

void gr_leads_json_cuts(FILE *f, const char *name, const double *v) {
  fprintf(f, "\"%s\": {", name);
  for (int c = 0; c < GR_LEADS_N_CUTS; c++)
    fprintf(f, "%s\"%d\": %.6f", c ? ", " : "", gr_leads_cuts[c], v[c]);
  fputs("}", f);
}
