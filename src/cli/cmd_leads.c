/* gpurec leads fit|score|eval: the leads engine from the command line.
 * fit reads a market and a portfolio and writes a model (and, with
 * --leads, the ranked leads at once); score applies a saved model to a
 * market; eval measures lead quality on a seeded holdout of the portfolio. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "common/clock.h"
#include "common/error.h"
#include "data_args.h"
#include "host/leads.h"
#include "host/output_file.h"
#include "leads_args.h"

/* ---- outputs -------------------------------------------------------------- */

static int add_output_opts(gr_opt *o, int n, leads_args *a) {
  o[n++] = (gr_opt){"--leads", OPT_OUT, &a->leads,
                    "output: rank,id,score,cluster[,columns][,because] CSV"};
  o[n++] = (gr_opt){"--top", OPT_INT, &a->top, "number of leads (at most the market's rows)"};
  o[n++] = (gr_opt){"--columns", OPT_STR, &a->columns, "market columns to add to the leads, a,b,c"};
  o[n++] = (gr_opt){"--scores", OPT_OUT, &a->scores, "output: id,score,cluster of every company"};
  o[n++] = (gr_opt){"--explain", OPT_INT, &a->explain,
                    "add to each lead the N features that lift it most above the market's "
                    "average company (0..64)"};
  o[n++] = (gr_opt){"--exclude", OPT_STR, &a->exclude,
                    "CSV with an id column: companies never to list as leads (e.g. already "
                    "contacted)"};
  o[n++] = (gr_opt){"--only", OPT_STR, &a->only,
                    "CSV with an id column: list leads among these companies only (e.g. a "
                    "territory)"};
  return n;
}

/* The rows the leads file leaves out: the clients (skip, may be NULL),
 * then --exclude's companies, and with --only every company it does not
 * list. *out (malloc'ed) is NULL when nothing is left out. */
static gr_status lead_skips(const leads_args *a, const gr_table *market, const uint8_t *skip,
                            uint8_t **out) {
  const int64_t n = market->n_rows;
  const int verbose = !a->common.quiet;
  *out = NULL;
  uint8_t *s = calloc((size_t)(n ? n : 1), 1);
  if (!s) return gr_fail(GR_ERR_NOMEM, "cannot allocate the excluded rows");
  if (skip) memcpy(s, skip, (size_t)n);
  const char *paths[2] = {a->exclude, a->only};
  for (int w = 0; w < 2; w++) {
    if (!paths[w]) continue;
    uint8_t *listed = NULL;
    int64_t found = 0, n_ids = 0;
    const gr_status st = gr_leads_read_id_flags(a, paths[w], w ? "--only" : "--exclude", market,
                                                verbose, verbose, &listed, &found, &n_ids);
    if (st == GR_OK && w == 1 && found == 0) {
      free(listed);
      free(s);
      return gr_fail(GR_ERR_INVALID_ARG, "%s (--only): none of its %lld ids is in the market",
                     paths[w], (long long)n_ids);
    }
    if (st != GR_OK) {
      free(s);
      return st;
    }
    for (int64_t r = 0; r < n; r++)
      s[r] |= w ? !listed[r] : listed[r];
    free(listed);
    if (verbose)
      fprintf(stderr, "leads: %s %lld companies (%s)\n", w ? "only among" : "excluding",
              (long long)found, paths[w]);
  }
  *out = s;
  return GR_OK;
}

static void write_cell(FILE *f, const gr_column *col, int64_t r) {
  char buf[64];
  switch (col->kind) {
  case GR_COL_BOOL:
    if (!isnan(col->num[r])) fputs(col->num[r] != 0 ? "True" : "False", f);
    return;
  case GR_COL_NUMBER:
    if (!isnan(col->num[r])) fprintf(f, "%.15g", col->num[r]);
    return;
  case GR_COL_DATE: {
    if (isnan(col->num[r])) return;
    /* civil date from days since 1970 (Hinnant's algorithm) */
    const int64_t z = (int64_t)col->num[r] + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", (long long)(yoe + era * 400 + (month <= 2)),
             (long long)month, (long long)day);
    fputs(buf, f);
    return;
  }
  case GR_COL_ID:
  case GR_COL_CATEGORY:
    if (col->level[r] >= 0) gr_write_csv_field(f, gr_id_map_get(&col->levels, col->level[r]));
    return;
  case GR_COL_SKIP: return;
  }
}

/* Column indices of a comma-separated list of names. */
static gr_status parse_columns(const gr_table *t, const char *list, int **cols, int *n) {
  *n = 0;
  *cols = NULL;
  if (!list || !*list) return GR_OK;
  *cols = malloc(sizeof(int) * (strlen(list) + 1));
  if (!*cols) return gr_fail(GR_ERR_NOMEM, "cannot allocate columns");
  const char *p = list;
  while (*p) {
    const char *e = strchr(p, ',');
    const size_t len = e ? (size_t)(e - p) : strlen(p);
    char name[512];
    snprintf(name, sizeof name, "%.*s", (int)(len < 511 ? len : 511), p);
    const int c = gr_table_find(t, name);
    if (c < 0) return gr_fail(GR_ERR_INVALID_ARG, "--columns: the market has no column '%s'", name);
    (*cols)[(*n)++] = c;
    p += len + (e ? 1 : 0);
  }
  return GR_OK;
}

/* A lead's reasons (gr_leads_explain) as one CSV field, "sg_uf=SP +0.83|...".
 * A lift is positive either way the feature departs from the average, so
 * each reason says which way: a 0/1 feature the company has is named as it
 * is and one it lacks as "not ..." (a level clients avoid); a number is
 * "high" or "low". The direction is the sign of the feature's weight in the
 * lead's cluster model (w_j (x_j - mean_j) > 0). */
static void write_reasons(FILE *f, const gr_leads_model *m, const uint8_t *binary, int cluster,
                          const int32_t *feat, const float *share, int n_top) {
  const double *w = m->models[m->model_of[cluster]].w;
  char name[512], text[GR_LEADS_EXPLAIN_MAX * 560];
  size_t len = 0;
  text[0] = '\0';
  for (int s = 0; s < n_top && feat[s] >= 0 && len < sizeof text; s++) {
    const int j = feat[s], up = w[j] > 0;
    gr_encoder_feature_name(m->enc, j, name, sizeof name);
    const char *sep = s ? "|" : "";
    const int n = binary[j] ? snprintf(text + len, sizeof text - len, "%s%s%s %+.3g", sep,
                                       up ? "" : "not ", name, (double)share[s])
                            : snprintf(text + len, sizeof text - len, "%s%s %s %+.3g", sep, name,
                                       up ? "high" : "low", (double)share[s]);
    len = n < 0 ? sizeof text : len + (size_t)n;
  }
  fputc(',', f);
  gr_write_csv_field(f, text);
}

static gr_status write_leads(const leads_args *a, gr_context *ctx, const gr_table *market,
                             const float *prob, const int32_t *cluster, const uint8_t *skip,
                             const gr_leads_model *m, const float *X) {
  const gr_column *id = &market->cols[market->id_col];
  if (a->scores) {
    gr_output_file out;
    GR_TRY(gr_output_open(&out, a->scores));
    fputs("id,score,cluster\n", out.f);
    for (int64_t r = 0; r < market->n_rows; r++) {
      gr_write_csv_field(out.f, gr_id_map_get(&id->levels, id->level[r]));
      fprintf(out.f, ",%.7g,%d\n", (double)prob[r], cluster[r]);
    }
    GR_TRY(gr_output_commit(&out));
  }
  if (!a->leads) return GR_OK;
  /* no more slots than companies: --top 1000000 on a small market is all of it */
  const int top = market->n_rows < a->top ? (int)(market->n_rows ? market->n_rows : 1) : a->top;
  int *cols = NULL, n_cols = 0;
  int32_t *rows = malloc(sizeof(int32_t) * (size_t)top);
  float *scores = malloc(sizeof(float) * (size_t)top);
  gr_status st = rows && scores ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the leads");
  if (st == GR_OK) st = parse_columns(market, a->columns, &cols, &n_cols);
  uint8_t *left_out = NULL;
  if (st == GR_OK && (a->exclude || a->only)) st = lead_skips(a, market, skip, &left_out);
  if (st == GR_OK)
    st = gr_leads_rank(ctx, prob, market->n_rows, left_out ? left_out : skip, top, rows, scores);
  free(left_out);
  /* the reasons: against the average company of this market */
  double *mean = NULL;
  int32_t *feat = NULL;
  float *share = NULL;
  uint8_t *binary = NULL;
  if (st == GR_OK && a->explain) {
    binary = malloc((size_t)m->d);
    if (binary) gr_encoder_binary_features(m->enc, binary);
    mean = malloc(sizeof(double) * (size_t)m->d);
    feat = malloc(sizeof(int32_t) * (size_t)top * a->explain);
    share = malloc(sizeof(float) * (size_t)top * a->explain);
    st = mean && feat && share && binary ? GR_OK
                                         : gr_fail(GR_ERR_NOMEM, "cannot allocate the reasons");
    if (st == GR_OK) st = gr_feature_means(ctx, X, market->n_rows, m->d, mean);
    if (st == GR_OK) st = gr_leads_explain(m, X, mean, rows, top, cluster, a->explain, feat, share);
  }
  gr_output_file out;
  if (st == GR_OK) st = gr_output_open(&out, a->leads);
  if (st == GR_OK) {
    fputs("rank,id,score,cluster", out.f);
    for (int j = 0; j < n_cols; j++) {
      fputc(',', out.f);
      gr_write_csv_field(out.f, market->cols[cols[j]].name);
    }
    fputs(a->explain ? ",because\n" : "\n", out.f);
    for (int i = 0; i < top && rows[i] >= 0; i++) {
      fprintf(out.f, "%d,", i + 1);
      gr_write_csv_field(out.f, gr_id_map_get(&id->levels, id->level[rows[i]]));
      fprintf(out.f, ",%.7g,%d", (double)scores[i], cluster[rows[i]]);
      for (int j = 0; j < n_cols; j++) {
        fputc(',', out.f);
        write_cell(out.f, &market->cols[cols[j]], rows[i]);
      }
      if (a->explain)
        write_reasons(out.f, m, binary, cluster[rows[i]], feat + (size_t)i * a->explain,
                      share + (size_t)i * a->explain, a->explain);
      fputc('\n', out.f);
    }
    st = gr_output_commit(&out);
  }
  free(mean);
  free(feat);
  free(share);
  free(binary);
  free(cols);
  free(rows);
  free(scores);
  return st;
}

/* Scores the (encoded) market with m and writes the requested outputs. */
static gr_status score_and_write(const leads_args *a, gr_context *ctx, const gr_leads_model *m,
                                 const gr_table *market, const float *X, const int32_t *cluster_in,
                                 const uint8_t *skip) {
  const int64_t n = market->n_rows;
  float *prob = malloc(sizeof(float) * (size_t)(n ? n : 1));
  int32_t *cluster = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  gr_status st = prob && cluster ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the scores");
  const double t0 = gr_now_seconds();
  if (st == GR_OK) st = gr_leads_score(ctx, m, X, n, cluster_in, prob, cluster);
  if (st == GR_OK && !a->common.quiet)
    fprintf(stderr, "leads: scored %lld companies (%.2f s)\n", (long long)n, gr_now_seconds() - t0);
  if (st == GR_OK) st = write_leads(a, ctx, market, prob, cluster, skip, m, X);
  free(prob);
  free(cluster);
  return st;
}

/* ---- subcommands ------------------------------------------------------------ */

static int leads_fit(int argc, char **argv) {
  const char *cmd = "leads fit";
  leads_args a;
  gr_leads_args_default(&a);
  gr_opt opts[40];
  int n = gr_leads_table_opts(opts, 0, &a);
  n = gr_leads_fit_opts(opts, n, &a, NULL);
  n = add_output_opts(opts, n, &a);
  opts[n++] = (gr_opt){"--model", OPT_OUT, &a.model, "output: the fitted model"};
  n = gr_common_args_add(opts, n, &a.common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Fits the leads model: encodes the market, clusters it with KMeans and "
                         "fits one\nlogistic regression per cluster on the portfolio's clients "
                         "against the rest.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if ((rc = gr_leads_args_finish(&a, cmd)) != GR_EXIT_OK) return rc;
  if (!a.portfolio || (!a.model && !a.leads && !a.scores)) {
    fprintf(stderr,
            "gpurec %s: --portfolio and at least one of --model, --leads, --scores are "
            "required\n",
            cmd);
    return GR_EXIT_USAGE;
  }
  gr_context *ctx = gr_common_context(&a.common, cmd);
  if (!ctx) return GR_EXIT_FAIL;
  const int verbose = !a.common.quiet;
  gr_table *market = NULL;
  uint8_t *client = NULL;
  gr_leads_model *m = NULL;
  float *X = NULL;
  int32_t *cluster = NULL;
  const double t0 = gr_now_seconds();
  gr_status st = gr_leads_read_table(a.market, &a.table, "market", verbose, &market);
  if (st == GR_OK) st = gr_leads_read_clients(&a, market, verbose, &client);
  a.p.kmeans.stop = a.p.logreg.stop = &gr_cli_interrupted;
  gr_cli_catch_sigint(); /* Ctrl-C: the fit stops after its current iteration, nothing written */
  if (st == GR_OK) st = gr_leads_fit(ctx, market, client, &a.p, &m, &X, &cluster, NULL);
  gr_cli_release_sigint();
  if (st == GR_OK && a.model) st = gr_leads_model_save(m, a.model);
  if (st == GR_OK) st = score_and_write(&a, ctx, m, market, X, cluster, client);
  if (st == GR_OK && verbose) fprintf(stderr, "leads: done in %.2f s\n", gr_now_seconds() - t0);
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
  free(X);
  free(cluster);
  free(client);
  gr_leads_model_free(m);
  gr_table_free(market);
  gr_context_free(ctx);
  return rc;
}

/* The columns the model reads that the market lacks: an error naming them,
 * or (fill) added with every value missing, and said even with --quiet. */
static gr_status absent_columns(const gr_leads_model *m, gr_table *market, const char *path,
                                int fill) {
  char names[512];
  gr_status st = GR_OK;
  const int n = gr_encoder_absent_columns(m->enc, market, fill, names, sizeof names, &st);
  if (st != GR_OK || n == 0) return st;
  if (!fill)
    return gr_fail(GR_ERR_INVALID_ARG,
                   "%s lacks %d column%s the model uses (%s); --absent-columns missing scores "
                   "as if their every value were missing",
                   path, n, n == 1 ? "" : "s", names);
  fprintf(stderr,
          "leads: warning: %s lacks %d column%s the model uses (%s): scored as if every value "
          "were missing\n",
          path, n, n == 1 ? "" : "s", names);
  return GR_OK;
}

static int leads_score(int argc, char **argv) {
  const char *cmd = "leads score";
  leads_args a;
  gr_leads_args_default(&a);
  gr_opt opts[24];
  int n = gr_leads_table_opts(opts, 0, &a);
  n = add_output_opts(opts, n, &a);
  opts[n++] = (gr_opt){"--model", OPT_STR, &a.model, "a model written by gpurec leads fit"};
  opts[n++] = (gr_opt){"--portfolio", OPT_STR, &a.portfolio,
                       "clients to leave out (default: the model's portfolio)"};
  const char *absent = "error";
  opts[n++] = (gr_opt){"--absent-columns", OPT_STR, &absent,
                       "error, or missing: a column the model uses that the market lacks is "
                       "scored as if its every value were missing"};
  n = gr_common_args_add(opts, n, &a.common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Scores every company of a market with a fitted leads model and writes "
                         "the top leads\n(the portfolio's clients left out).",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if ((rc = gr_leads_args_finish(&a, cmd)) != GR_EXIT_OK) return rc;
  const int fill_absent = strcmp(absent, "missing") == 0;
  if (!fill_absent && strcmp(absent, "error") != 0) {
    fprintf(stderr, "gpurec %s: --absent-columns expects error or missing, got '%s'\n", cmd,
            absent);
    return GR_EXIT_USAGE;
  }
  if (!a.model || (!a.leads && !a.scores)) {
    fprintf(stderr, "gpurec %s: --model and one of --leads, --scores are required\n", cmd);
    return GR_EXIT_USAGE;
  }
  gr_context *ctx = gr_common_context(&a.common, cmd);
  if (!ctx) return GR_EXIT_FAIL;
  const int verbose = !a.common.quiet;
  gr_table *market = NULL;
  gr_leads_model *m = NULL;
  uint8_t *skip = NULL;
  float *X = NULL;
  gr_status st = gr_leads_model_load(&m, a.model);
  if (st == GR_OK) {
    a.table.fixed_kind = gr_encoder_fitted_kind;
    a.table.fixed_ctx = m->enc;
    st = gr_leads_read_table(a.market, &a.table, "market", verbose, &market);
  }
  if (st == GR_OK) st = absent_columns(m, market, a.market, fill_absent);
  if (st == GR_OK && a.portfolio) st = gr_leads_read_clients(&a, market, verbose, &skip);
  if (st == GR_OK && !a.portfolio) {
    skip = calloc((size_t)market->n_rows + 1, 1);
    if (!skip) st = gr_fail(GR_ERR_NOMEM, "cannot allocate client flags");
    const gr_column *id = &market->cols[market->id_col];
    for (int64_t r = 0; st == GR_OK && r < market->n_rows; r++) {
      const char *s = gr_id_map_get(&id->levels, id->level[r]);
      skip[r] = gr_id_map_find(&m->clients, s, strlen(s)) >= 0;
    }
  }
  if (st == GR_OK) {
    X = malloc(sizeof(float) * (size_t)market->n_rows * (size_t)m->d + 1);
    st = X ? gr_encoder_transform(m->enc, market, X)
           : gr_fail(GR_ERR_NOMEM, "cannot allocate the encoded market");
  }
  if (st == GR_OK) st = score_and_write(&a, ctx, m, market, X, NULL, skip);
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
  free(X);
  free(skip);
  gr_leads_model_free(m);
  gr_table_free(market);
  gr_context_free(ctx);
  return rc;
}

static void print_eval(FILE *f, const gr_leads_eval *e) {
  fprintf(f, "held out %lld of %lld clients; ranked among the market without the other %lld\n",
          (long long)e->n_test, (long long)(e->n_test + e->n_train), (long long)e->n_train);
  fprintf(f, "%-10s %10s %10s %10s\n", "cut", "MAP", "precision", "recall");
  for (int c = 0; c < GR_LEADS_N_CUTS; c++)
    fprintf(f, "@%-9d %10.4f %10.4f %10.4f\n", gr_leads_cuts[c], e->map[c], e->precision[c],
            e->recall[c]);
  fprintf(f, "ROC AUC    %10.4f\n", e->auc);
  fprintf(f, "in-sample (the %lld training clients ranked among the market):\n",
          (long long)e->n_train);
  for (int c = 0; c < GR_LEADS_N_CUTS; c++)
    fprintf(f, "@%-9d %10.4f %10.4f %10.4f\n", gr_leads_cuts[c], e->in_map[c], e->in_precision[c],
            e->in_recall[c]);
  fprintf(f, "ROC AUC    %10.4f\n", e->in_auc);
}

static gr_status write_json(const leads_args *a, const gr_leads_eval *e, double read_s,
                            double total_s, const char *backend) {
  gr_output_file out;
  GR_TRY(gr_output_open(&out, a->json));
  FILE *f = out.f;
  fprintf(f,
          "{\n  \"backend\": \"%s\", \"k\": %d, \"balance\": \"%s\", \"C\": %g, "
          "\"solver\": \"%s\", \"prior_correction\": %d,\n",
          backend, a->p.kmeans.k, gr_balance_name(a->p.balance), a->p.logreg.C,
          gr_logreg_solver_name(a->p.logreg.solver), a->p.prior_correction);
  fprintf(f, "  \"n_train\": %lld, \"n_test\": %lld,\n  ", (long long)e->n_train,
          (long long)e->n_test);
  gr_leads_json_cuts(f, "map", e->map);
  fputs(",\n  ", f);
  gr_leads_json_cuts(f, "precision", e->precision);
  fputs(",\n  ", f);
  gr_leads_json_cuts(f, "recall", e->recall);
  fprintf(f, ",\n  \"auc\": %.6f,\n  \"in_sample\": {", e->auc);
  gr_leads_json_cuts(f, "map", e->in_map);
  fputs(", ", f);
  gr_leads_json_cuts(f, "precision", e->in_precision);
  fputs(", ", f);
  gr_leads_json_cuts(f, "recall", e->in_recall);
  fprintf(f, ", \"auc\": %.6f},\n", e->in_auc);
  fprintf(f,
          "  \"convergence\": {\"kmeans_iterations\": %d, \"kmeans_converged\": %s, "
          "\"models\": %d, \"models_converged\": %d, \"max_grad_norm\": %.6g},\n",
          e->conv.kmeans_iterations, e->conv.kmeans_converged ? "true" : "false", e->conv.models,
          e->conv.models_converged, e->conv.max_grad_norm);
  fprintf(f,
          "  \"seconds\": {\"read\": %.4f, \"encode\": %.4f, \"kmeans\": %.4f, \"balance\": %.4f, "
          "\"logreg\": %.4f, \"score\": %.4f, \"rank\": %.4f, \"total\": %.4f}\n}\n",
          read_s, e->tm.encode, e->tm.kmeans, e->tm.balance, e->tm.logreg, e->tm.score, e->tm.rank,
          total_s);
  return gr_output_commit(&out);
}

static gr_status write_holdout(const char *path, const gr_table *market, const uint8_t *test) {
  gr_output_file out;
  GR_TRY(gr_output_open(&out, path));
  const gr_column *id = &market->cols[market->id_col];
  fputs("id\n", out.f);
  for (int64_t r = 0; r < market->n_rows; r++)
    if (test[r]) {
      gr_write_csv_field(out.f, gr_id_map_get(&id->levels, id->level[r]));
      fputc('\n', out.f);
    }
  return gr_output_commit(&out);
}

static int leads_eval(int argc, char **argv) {
  const char *cmd = "leads eval";
  leads_args a;
  gr_leads_args_default(&a);
  gr_opt opts[40];
  int n = gr_leads_table_opts(opts, 0, &a);
  n = gr_leads_fit_opts(opts, n, &a, NULL);
  opts[n++] = (gr_opt){"--test-fraction", OPT_FLOAT, &a.test_fraction, "share of clients held out"};
  opts[n++] = (gr_opt){"--eval-seed", OPT_U64, &a.eval_seed, "seed of the holdout"};
  opts[n++] = (gr_opt){"--json", OPT_OUT, &a.json, "output: the metrics and stage timings as JSON"};
  opts[n++] = (gr_opt){"--holdout-out", OPT_OUT, &a.holdout_out, "output: the held-out ids"};
  n = gr_common_args_add(opts, n, &a.common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Holds out a seeded share of the portfolio, fits on the rest and "
                         "measures how high\nthe held-out clients rank: MAP, precision and "
                         "recall at 5, 10, 25, 50 and ROC AUC.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if ((rc = gr_leads_args_finish(&a, cmd)) != GR_EXIT_OK) return rc;
  if (!a.portfolio) {
    fprintf(stderr, "gpurec %s: --portfolio FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  gr_context *ctx = gr_common_context(&a.common, cmd);
  if (!ctx) return GR_EXIT_FAIL;
  const int verbose = !a.common.quiet;
  gr_table *market = NULL;
  uint8_t *client = NULL, *test = NULL;
  gr_leads_eval e;
  const double t0 = gr_now_seconds();
  gr_status st = gr_leads_read_table(a.market, &a.table, "market", verbose, &market);
  const double read_s = gr_now_seconds() - t0;
  if (st == GR_OK) st = gr_leads_read_clients(&a, market, verbose, &client);
  if (st == GR_OK && !(test = malloc((size_t)market->n_rows)))
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate the holdout");
  if (st == GR_OK) {
    a.p.kmeans.stop = a.p.logreg.stop = &gr_cli_interrupted;
    gr_cli_catch_sigint(); /* Ctrl-C: the fit stops after its current iteration, nothing written */
    st = gr_leads_evaluate(ctx, market, client, &a.p, a.test_fraction, a.eval_seed, &e, test);
    gr_cli_release_sigint();
  }
  const double total_s = gr_now_seconds() - t0;
  if (st == GR_OK) print_eval(stdout, &e);
  if (st == GR_OK && a.json) st = write_json(&a, &e, read_s, total_s, gr_context_backend_name(ctx));
  if (st == GR_OK && a.holdout_out) st = write_holdout(a.holdout_out, market, test);
  if (st == GR_OK && verbose) fprintf(stderr, "leads: done in %.2f s\n", total_s);
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
  free(client);
  free(test);
  gr_table_free(market);
  gr_context_free(ctx);
  return rc;
}

int gr_cmd_leads(int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "fit") == 0) return leads_fit(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "score") == 0) return leads_score(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "eval") == 0) return leads_eval(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "tune") == 0) return gr_cmd_leads_tune(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "export") == 0) return gr_cmd_leads_export(argc - 1, argv + 1);
  if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
    printf("usage: gpurec leads fit|score|eval|tune|export [options]\n\n"
           "  fit    fit the model on a market and a client portfolio (and write leads)\n"
           "  score  rank a market with a saved model\n"
           "  eval   MAP, precision, recall at 5/10/25/50 and ROC AUC on a holdout\n"
           "  tune   a grid of settings (k, balance, C) on held-out clients, ranked\n"
           "  export coefficients, centroids and the encoded market for other tools\n\n"
           "Each has --help.\n");
    return GR_EXIT_OK;
  }
  fprintf(stderr,
          "gpurec leads: expected fit, score, eval, tune or export (see gpurec leads --help)\n");
  return GR_EXIT_USAGE;
}
