/* gpurec leads export: a leads model as files a person or another tool
 * reads without gpurec: the encoded features' names, each cluster's
 * coefficients and centroid (one column per cluster, one row per feature),
 * the clusters' sizes and models, the parameters as JSON; and, given a
 * market, that market encoded as the model encodes it (a NumPy array) with
 * each company's cluster and score. With them, sigmoid(intercept + w . x)
 * of a row of X.npy and its cluster's column is the company's score. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "common/error.h"
#include "data_args.h"
#include "export_dir.h"
#include "grid_args.h"
#include "host/leads.h"
#include "host/npy.h"
#include "leads_args.h"

static void write_features(FILE *f, const gr_leads_model *m) {
  char name[512];
  fputs("index,feature\n", f);
  for (int j = 0; j < m->d; j++) {
    gr_encoder_feature_name(m->enc, j, name, sizeof name);
    fprintf(f, "%d,", j);
    gr_write_csv_field(f, name);
    fputc('\n', f);
  }
}

/* feature,cluster_0,...: the intercept row first (coefficients only), then
 * one row per feature; each cluster's column is the model it scores with. */
static void write_by_cluster(FILE *f, const gr_leads_model *m, int coefficients) {
  char name[512];
  fputs("feature", f);
  for (int c = 0; c < m->k; c++)
    fprintf(f, ",cluster_%d", c);
  fputc('\n', f);
  if (coefficients) {
    fputs("(intercept)", f);
    for (int c = 0; c < m->k; c++)
      fprintf(f, ",%.17g", m->models[m->model_of[c]].b);
    fputc('\n', f);
  }
  for (int j = 0; j < m->d; j++) {
    gr_encoder_feature_name(m->enc, j, name, sizeof name);
    gr_write_csv_field(f, name);
    for (int c = 0; c < m->k; c++) {
      if (coefficients)
        fprintf(f, ",%.17g", m->models[m->model_of[c]].w[j]);
      else
        fprintf(f, ",%.9g", (double)m->centroids[(size_t)c * m->d + j]);
    }
    fputc('\n', f);
  }
}

static void write_clusters(FILE *f, const gr_leads_model *m) {
  fputs("cluster,model,companies,clients\n", f);
  for (int c = 0; c < m->k; c++)
    fprintf(f, "%d,%s,%lld,%lld\n", c, m->model_of[c] == c ? "own" : "global",
            (long long)(m->cluster_rows ? m->cluster_rows[c] : -1),
            (long long)(m->cluster_clients ? m->cluster_clients[c] : -1));
}

static void write_params(FILE *f, const gr_leads_model *m) {
  const gr_leads_params *p = &m->params;
  char C[32], missing[32]; /* as the options read them back */
  gr_format_shortest(C, sizeof C, p->logreg.C, 1);
  gr_format_shortest(missing, sizeof missing, p->encoder.max_missing, 1);
  fprintf(f,
          "{\n  \"kind\": \"leads\",\n  \"clusters\": %d,\n  \"features\": %d,\n"
          "  \"clients\": %d,\n  \"balance\": \"%s\",\n  \"smote_k\": %d,\n  \"C\": %s,\n"
          "  \"prior_correction\": %s,\n  \"seed\": %llu,\n  \"max_missing\": %s,\n"
          "  \"max_levels\": %d\n}\n",
          m->k, m->d, m->clients.count, gr_balance_name(p->balance), p->smote_k, C,
          p->prior_correction ? "true" : "false", (unsigned long long)p->seed, missing,
          p->encoder.max_levels);
}

/* X.npy and market.csv (row,id,cluster,score) of the market as the model
 * encodes and scores it. */
static gr_status write_market(gr_export_dir *e, gr_context *ctx, const gr_leads_model *m,
                              const gr_table *market) {
  const int64_t n = market->n_rows;
  float *X = malloc(sizeof(float) * (size_t)n * (size_t)m->d + 1);
  float *prob = malloc(sizeof(float) * (size_t)(n ? n : 1));
  int32_t *cluster = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  gr_status st =
      X && prob && cluster ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the encoded market");
  if (st == GR_OK) st = gr_encoder_transform(m->enc, market, X);
  if (st == GR_OK) st = gr_leads_score(ctx, m, X, n, NULL, prob, cluster);
  FILE *f = NULL;
  if (st == GR_OK && (f = gr_export_file(e, "X.npy", &st))) gr_npy_write(f, GR_NPY_F32, X, n, m->d);
  if (st == GR_OK && (f = gr_export_file(e, "market.csv", &st))) {
    const gr_column *id = &market->cols[market->id_col];
    fputs("row,id,cluster,score\n", f);
    for (int64_t r = 0; r < n; r++) {
      fprintf(f, "%lld,", (long long)r);
      gr_write_csv_field(f, gr_id_map_get(&id->levels, id->level[r]));
      fprintf(f, ",%d,%.9g\n", cluster[r], (double)prob[r]);
    }
  }
  free(X);
  free(prob);
  free(cluster);
  return st;
}

static gr_status export_model(const gr_leads_model *m, const char *dir, gr_context *ctx,
                              const gr_table *market) {
  gr_export_dir e;
  GR_TRY(gr_export_dir_open(&e, dir));
  gr_status st = GR_OK;
  FILE *f;
  if ((f = gr_export_file(&e, "features.csv", &st))) write_features(f, m);
  if (st == GR_OK && (f = gr_export_file(&e, "coefficients.csv", &st))) write_by_cluster(f, m, 1);
  if (st == GR_OK && (f = gr_export_file(&e, "centroids.csv", &st))) write_by_cluster(f, m, 0);
  if (st == GR_OK && (f = gr_export_file(&e, "clusters.csv", &st))) write_clusters(f, m);
  if (st == GR_OK && (f = gr_export_file(&e, "model.json", &st))) write_params(f, m);
  if (st == GR_OK && market) st = write_market(&e, ctx, m, market);
  if (st == GR_OK) return gr_export_dir_commit(&e);
  gr_export_dir_abort(&e);
  return st;
}

int gr_cmd_leads_export(int argc, char **argv) {
  const char *cmd = "leads export";
  leads_args a;
  gr_leads_args_default(&a);
  const char *out = NULL;
  gr_opt opts[16];
  int n = 0;
  opts[n++] = (gr_opt){"--model", OPT_STR, &a.model, "a model written by gpurec leads fit"};
  opts[n++] = (gr_opt){"--out", OPT_STR, &out, "directory to write (made if missing)"};
  const int market_opt = n; /* gr_leads_table_opts' first: --market, optional here */
  n = gr_leads_table_opts(opts, n, &a);
  opts[market_opt].help = "also this market, encoded (X.npy) and scored (market.csv)";
  n = gr_common_args_add(opts, n, &a.common);
  int rc = gr_args_parse(
      argc, argv, cmd,
      "Writes a leads model for other tools: features.csv, coefficients.csv and centroids.csv\n"
      "(a row per feature, a column per cluster), clusters.csv and model.json; with --market,\n"
      "X.npy (the market encoded as the model encodes it) and market.csv "
      "(row,id,cluster,score).",
      opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!a.model || !out) {
    fprintf(stderr, "gpurec %s: --model and --out are required\n", cmd);
    return GR_EXIT_USAGE;
  }
  gr_context *ctx = a.market ? gr_common_context(&a.common, cmd) : NULL;
  if (a.market && !ctx) return GR_EXIT_FAIL;
  gr_leads_model *m = NULL;
  gr_table *market = NULL;
  gr_status st = gr_leads_model_load(&m, a.model);
  if (st == GR_OK && a.market) {
    a.table.fixed_kind = gr_encoder_fitted_kind;
    a.table.fixed_ctx = m->enc;
    st = gr_leads_read_table(a.market, &a.table, "market", !a.common.quiet, &market);
  }
  if (st == GR_OK) st = export_model(m, out, ctx, market);
  if (st == GR_OK && !a.common.quiet)
    fprintf(stderr, "leads export: %d clusters, %d features%s, written to %s/\n", m->k, m->d,
            market ? " and the encoded market" : "", out);
  gr_table_free(market);
  gr_leads_model_free(m);
  gr_context_free(ctx);
  return st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
}
