/* gpurec demo: the README's first command. Generates a default dataset,
 * trains, evaluates and prints recommendations for a few users, so a new
 * user sees the whole path in well under a minute on 2 cores. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "commands.h"
#include "common/error.h"
#include "data_args.h"
#include "host/gen_interactions.h"
#include "host/gen_market.h"
#include "host/ranking.h"

static gr_status make_dir(const char *path) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
      return gr_fail(GR_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    *p = '/';
  }
  if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
    return gr_fail(GR_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
  return GR_OK;
}

static void print_user(gr_context *ctx, const gr_als_model *m, const gr_interactions *train,
                       const gr_csr *history, const char *user) {
  const int32_t u = gr_als_model_find_user(m, user);
  if (u < 0) return;
  gr_recommend_options o;
  gr_recommend_options_default(&o);
  o.k = 5;
  int32_t items[5];
  float scores[5];
  if (gr_als_recommend(ctx, m, &u, 1, train, &o, items, scores) != GR_OK) return;
  printf("  %-8s", user);
  for (int r = 0; r < 5; r++)
    if (items[r] >= 0) printf("  %s (%.3f)", gr_als_model_item_id(m, items[r]), scores[r]);
  printf("\n");
  /* the first, explained by the user's own items (als recommend --explain) */
  const int64_t b = history->indptr[u], n = history->indptr[u + 1] - b;
  int32_t because[2];
  float share[2];
  double total;
  if (items[0] < 0 || n < 1 ||
      gr_als_explain(m, history->indices + b, history->data + b, (int32_t)n, items, 1, 2, because,
                     share, &total) != GR_OK)
    return;
  printf("  %-8s  %s mostly because of", "", gr_als_model_item_id(m, items[0]));
  for (int s = 0; s < 2 && because[s] >= 0; s++)
    printf("%s %s (%+.3f)", s ? "," : "", gr_als_model_item_id(m, because[s]), share[s]);
  printf(" of %.3f\n", total);
}

/* The leads half of the tour: a generated market with planted clients,
 * evaluated on a holdout, a few settings tried, and the best one's leads,
 * through the leads commands themselves. */
static int leads_tour(const char *dir, const gr_common_args *common, int64_t rows) {
  char market[1100], prefix[1100], portfolio[1100], model[1100], leads[1100];
  snprintf(market, sizeof market, "%s/market.csv", dir);
  snprintf(prefix, sizeof prefix, "%s/portfolio", dir);
  snprintf(portfolio, sizeof portfolio, "%s/portfolio1.csv", dir);
  snprintf(model, sizeof model, "%s/leads.gpurec", dir);
  snprintf(leads, sizeof leads, "%s/leads.csv", dir);
  gr_market_gen_params mp;
  gr_market_gen_params_default(&mp);
  mp.n_rows = rows;
  mp.n_portfolios = 1;
  int64_t sizes[GR_MARKET_MAX_PORTFOLIOS];
  gr_status st = gr_market_portfolio_sizes(&mp, sizes);
  if (st == GR_OK) {
    printf("\n6. generating a market of %lld companies (182 columns, as the real one) and a "
           "portfolio of %lld clients\n",
           (long long)rows, (long long)sizes[0]);
    fflush(stdout);
    st = gr_gen_market_csv(&mp, market, prefix, NULL);
  }
  if (st != GR_OK) return gr_cli_fail("demo", st);
  char threads[16];
  snprintf(threads, sizeof threads, "%d", common->threads);
  printf("7. leads eval: encode, KMeans (8 clusters), SMOTE, a logistic regression per cluster; "
         "20%% of the clients held out\n");
  fflush(stdout);
  char *eval[] = {"eval",
                  "--market",
                  market,
                  "--portfolio",
                  portfolio,
                  "--device",
                  (char *)common->device,
                  "--threads",
                  threads,
                  "--quiet"};
  int rc = gr_cmd_leads((int)(sizeof eval / sizeof eval[0]), eval);
  if (rc != GR_EXIT_OK) return rc;
  printf("\n8. leads tune: 8 settings (clusters, balance, C) on the same holdout, the best one "
         "fitted on the whole portfolio\n");
  fflush(stdout);
  char *tune[] = {"tune",      "--market", market,      "--portfolio", portfolio,
                  "--k",       "1,8",      "--balance", "smote,none",  "--C",
                  "0.1,1",     "--model",  model,       "--device",    (char *)common->device,
                  "--threads", threads,    "--quiet"};
  rc = gr_cmd_leads((int)(sizeof tune / sizeof tune[0]), tune);
  if (rc != GR_EXIT_OK) return rc;
  printf("\n9. the top 5 leads by the tuned model, with their two strongest reasons (%s, model "
         "in %s):\n",
         leads, model);
  fflush(stdout);
  char *score[] = {"score",
                   "--market",
                   market,
                   "--model",
                   model,
                   "--leads",
                   leads,
                   "--top",
                   "5",
                   "--columns",
                   "setor,sg_uf,de_ramo",
                   "--explain",
                   "2",
                   "--device",
                   (char *)common->device,
                   "--threads",
                   threads,
                   "--quiet"};
  rc = gr_cmd_leads((int)(sizeof score / sizeof score[0]), score);
  if (rc != GR_EXIT_OK) return rc;
  FILE *f = fopen(leads, "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    printf("   %s", line);
  if (f) fclose(f);
  printf("\nnext: gpurec leads tune --market %s --portfolio %s --folds 5 (the default grid, "
         "every client held out once)\n",
         market, portfolio);
  return GR_EXIT_OK;
}

int gr_cmd_demo(int argc, char **argv) {
  const char *cmd = "demo";
  const char *dir = "out/demo", *scale = "small";
  int64_t market_rows = 20000;
  gr_common_args common;
  gr_common_args_default(&common);
  gr_als_params p;
  gr_als_params_default(&p);
  p.factors = 64;
  p.regularization = 0.05f;
  p.iterations = 15;
  gr_opt opts[16] = {
      {"--dir", OPT_STR, &dir, "where the data, split and model are written"},
      {"--scale", OPT_STR, &scale, "dataset size: tiny, small, medium or lastfm"},
      {"--factors", OPT_INT, &p.factors, "latent factors"},
      {"--iterations", OPT_INT, &p.iterations, "ALS iterations"},
      {"--market-rows", OPT_I64, &market_rows, "companies in the leads part's market (0 = skip)"},
  };
  int n = gr_common_args_add(opts, 5, &common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "A tour: generate interactions, split, train ALS, evaluate, recommend;\n"
                         "then generate a market, evaluate and rank leads for a portfolio.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;

  char data_path[1100], model_path[1100], topics_path[1100];
  snprintf(data_path, sizeof data_path, "%s/interactions.csv", dir);
  snprintf(topics_path, sizeof topics_path, "%s/topics.csv", dir);
  snprintf(model_path, sizeof model_path, "%s/model.gpurec", dir);
  gr_gen_params gp;
  gr_gen_params_default(&gp);
  gr_status st = gr_gen_scale(scale, &gp);
  if (st == GR_OK) st = make_dir(dir);
  if (st == GR_OK) {
    printf("1. generating %s: %lld events, %d users, %d items, %d planted topics\n", data_path,
           (long long)gp.n_events, gp.n_users, gp.n_items, gp.n_topics);
    fflush(stdout);
    st = gr_gen_interactions_csv(&gp, data_path);
    if (st == GR_OK) st = gr_gen_item_topics_csv(&gp, topics_path); /* for --item-groups */
  }
  if (st != GR_OK) return gr_cli_fail(cmd, st);

  gr_data_args d;
  gr_data_args_default(&d);
  gr_interactions *all = gr_data_read(&d, data_path, cmd);
  if (!all) return GR_EXIT_FAIL;
  gr_interactions *train = NULL, *test = NULL;
  gr_als_model *m = NULL;
  gr_context *ctx = NULL;
  gr_eval_options eo;
  gr_eval_options_default(&eo);
  st = gr_split(all, &eo, &train, &test);
  if (st == GR_OK) {
    printf("2. split per user: %lld training pairs, %lld held out (event weights %s)\n",
           (long long)gr_interactions_count(train), (long long)gr_interactions_count(test),
           GR_DEFAULT_EVENT_WEIGHTS);
    fflush(stdout);
    ctx = gr_common_context(&common, cmd);
    if (!ctx) st = GR_ERR_INVALID_ARG;
  }
  if (st == GR_OK) {
    printf("3. training ALS on %s: %d factors, %d iterations, conjugate gradient\n",
           gr_context_backend_name(ctx), p.factors, p.iterations);
    fflush(stdout);
    st = gr_als_fit(ctx, &p, train, NULL, NULL, &m);
  }
  if (st == GR_OK) st = gr_als_model_save(m, model_path);
  gr_metrics mt;
  if (st == GR_OK) st = gr_als_evaluate(ctx, m, train, test, 10, &mt);
  if (st == GR_OK) {
    printf("4. evaluation on %lld users (model saved to %s)\n", (long long)mt.n_users, model_path);
    printf("   precision@10 %.4f  recall@10 %.4f  map@10 %.4f  ndcg@10 %.4f  hit_rate@10 %.4f  "
           "auc %.4f\n",
           mt.precision, mt.recall, mt.map, mt.ndcg, mt.hit_rate, mt.auc);
    printf("5. top 5 recommendations (seen items excluded), the first explained:\n");
    gr_csr history = {0};
    if (gr_history_matrix(m, train, 0, &history) == GR_OK) {
      print_user(ctx, m, train, &history, "u0");
      print_user(ctx, m, train, &history, "u1");
      print_user(ctx, m, train, &history, "u2");
    }
    gr_csr_free(&history);
    printf("\nnext: gpurec als recommend --model %s --input %s --users u0 --k 10 --explain 3\n",
           model_path, data_path);
    printf("      gpurec als eval --input %s --item-groups %s   # figures per planted topic\n",
           data_path, topics_path);
  }
  if (st == GR_OK && market_rows > 0) {
    rc = leads_tour(dir, &common, market_rows);
    if (rc != GR_EXIT_OK) st = GR_ERR_INVALID_ARG; /* already reported */
  }
  if (rc == GR_EXIT_OK) rc = st == GR_OK ? GR_EXIT_OK : (ctx ? gr_cli_fail(cmd, st) : GR_EXIT_FAIL);
  gr_als_model_free(m);
  gr_context_free(ctx);
  gr_interactions_free(all);
  gr_interactions_free(train);
  gr_interactions_free(test);
  return rc;
}
