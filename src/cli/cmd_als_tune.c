/* gpurec als tune: a grid of ALS settings on one holdout split. The data is
 * read and split once; each setting is fitted and evaluated in turn, with
 * the same seed, so the table compares settings and nothing else. Results
 * are ranked by one metric; the best setting's fit command is printed, and
 * with --model it is trained on all the data and saved. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "common/clock.h"
#include "common/error.h"
#include "data_args.h"
#include "grid_args.h"
#include "host/als_model.h"
#include "host/baseline.h"
#include "host/item_knn.h"
#include "host/output_file.h"

#define MAX_SETTINGS 4096 /* the whole grid */
#define TUNE_KNN 20       /* neighbours per item of the item kNN baseline (as als eval) */

typedef struct setting {
  gr_als_params p;
  gr_metrics m;
  double fit_seconds, eval_seconds;
} setting;

/* The ranking metric, by its JSON name. */
static const char *const METRICS[] = {
    "map", "precision", "precision_implicit", "recall", "ndcg", "hit_rate", "auc"};
#define N_METRICS (int)(sizeof METRICS / sizeof METRICS[0])

static double metric_of(const gr_metrics *m, int which) {
  switch (which) {
  case 0: return m->map;
  case 1: return m->precision;
  case 2: return m->precision_implicit;
  case 3: return m->recall;
  case 4: return m->ndcg;
  case 5: return m->hit_rate;
  default: return isnan(m->auc) ? 0.0 : m->auc;
  }
}

static int g_metric; /* for the sort */
static const setting *g_settings;

/* Best first; equal figures keep the grid's order. */
static int by_metric(const void *pa, const void *pb) {
  const int a = *(const int *)pa, b = *(const int *)pb;
  const double x = metric_of(&g_settings[a].m, g_metric), y = metric_of(&g_settings[b].m, g_metric);
  if (x != y) return x < y ? 1 : -1;
  return (a > b) - (a < b);
}

static void print_table(const setting *s, const int *order, int n) {
  printf("%4s %7s %10s %10s %14s %9s  %9s %9s %9s %9s %9s %9s %9s  %8s %8s\n", "rank", "factors",
         "confidence", "iterations", "regularization", "alpha", "map", "precision", "recall",
         "ndcg", "hit_rate", "auc", "coverage", "fit s", "eval s");
  for (int r = 0; r < n; r++) {
    const setting *x = &s[order[r]];
    printf("%4d %7d %10s %10d %14g %9g  %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f  %8.2f %8.2f\n",
           r + 1, x->p.factors, x->p.log_epsilon > 0 ? "log" : "linear", x->p.iterations,
           (double)x->p.regularization, (double)x->p.alpha, x->m.map, x->m.precision, x->m.recall,
           x->m.ndcg, x->m.hit_rate, isnan(x->m.auc) ? 0.0 : x->m.auc, x->m.coverage,
           x->fit_seconds, x->eval_seconds);
  }
}

static void write_csv(FILE *f, const setting *s, int n) {
  fprintf(f, "factors,iterations,regularization,alpha,confidence_offset,log_epsilon,k,users,map,"
             "precision,precision_implicit,recall,ndcg,hit_rate,auc,coverage,fit_seconds,"
             "eval_seconds\n");
  for (int i = 0; i < n; i++) {
    const setting *x = &s[i];
    fprintf(f, "%d,%d,%g,%g,%g,%g,%d,%lld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.3f\n",
            x->p.factors, x->p.iterations, (double)x->p.regularization, (double)x->p.alpha,
            (double)x->p.confidence_offset, (double)x->p.log_epsilon, x->m.k,
            (long long)x->m.n_users, x->m.map, x->m.precision, x->m.precision_implicit, x->m.recall,
            x->m.ndcg, x->m.hit_rate, isnan(x->m.auc) ? 0.0 : x->m.auc, x->m.coverage,
            x->fit_seconds, x->eval_seconds);
  }
}

/* A baseline's figures as a JSON member (and its comma). */
static void write_baseline(FILE *f, const char *name, const gr_metrics *b) {
  fprintf(f,
          "  \"%s\": {\"map\": %.6f, \"precision\": %.6f, \"precision_implicit\": %.6f, "
          "\"recall\": %.6f, \"ndcg\": %.6f, \"hit_rate\": %.6f, \"auc\": %.6f, \"coverage\": "
          "%.6f},\n",
          name, b->map, b->precision, b->precision_implicit, b->recall, b->ndcg, b->hit_rate,
          isnan(b->auc) ? 0.0 : b->auc, b->coverage);
}

static void write_json(FILE *f, const setting *s, int n, int best, int metric,
                       const gr_metrics *pop, const gr_metrics *knn) {
  fprintf(f, "{\n  \"metric\": \"%s\",\n  \"best\": %d,\n", METRICS[metric], best);
  write_baseline(f, "baseline_popular", pop);
  write_baseline(f, "baseline_item_knn", knn);
  fprintf(f, "  \"baseline_item_knn_neighbours\": %d,\n  \"settings\": [\n", TUNE_KNN);
  for (int i = 0; i < n; i++) {
    const setting *x = &s[i];
    fprintf(f,
            "    {\"factors\": %d, \"iterations\": %d, \"regularization\": %g, \"alpha\": %g, "
            "\"confidence_offset\": %g, \"log_epsilon\": %g, \"solver\": \"%s\", \"cg_steps\": %d, "
            "\"random_state\": %llu, \"metrics\": {\"k\": %d, \"n_users\": %lld, \"map\": %.6f, "
            "\"precision\": %.6f, \"precision_implicit\": %.6f, \"recall\": %.6f, \"ndcg\": %.6f, "
            "\"hit_rate\": %.6f, \"auc\": %.6f, \"coverage\": %.6f}, \"fit_seconds\": %.6f, "
            "\"eval_seconds\": %.6f}%s\n",
            x->p.factors, x->p.iterations, (double)x->p.regularization, (double)x->p.alpha,
            (double)x->p.confidence_offset, (double)x->p.log_epsilon,
            x->p.solver == GR_SOLVER_CG ? "cg" : "cholesky", x->p.cg_steps,
            (unsigned long long)x->p.random_state, x->m.k, (long long)x->m.n_users, x->m.map,
            x->m.precision, x->m.precision_implicit, x->m.recall, x->m.ndcg, x->m.hit_rate,
            isnan(x->m.auc) ? 0.0 : x->m.auc, x->m.coverage, x->fit_seconds, x->eval_seconds,
            i + 1 < n ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
}

/* The grid's options, as given. */
typedef struct grid_args {
  const char *factors, *iterations, *regularization, *alpha, *solver, *metric, *confidence;
  float confidence_offset, epsilon;
  int cg_steps;
  uint64_t random_state;
} grid_args;

/* Every combination, factors slowest, then the confidence form, alpha
 * fastest; validated up front. */
static int build_grid(const grid_args *g, setting **out, int *n_out, int *metric) {
  gr_value_list f, it, reg, al;
  int rc = gr_value_list_parse(g->factors, "--factors", 1, 1, 4096, "als tune", &f);
  if (rc == GR_EXIT_OK)
    rc = gr_value_list_parse(g->iterations, "--iterations", 1, 1, 10000, "als tune", &it);
  if (rc == GR_EXIT_OK)
    rc = gr_value_list_parse(g->regularization, "--regularization", 0, 0, 1e30, "als tune", &reg);
  if (rc == GR_EXIT_OK)
    rc = gr_value_list_parse(g->alpha, "--alpha", 0, 1e-30, 1e30, "als tune", &al);
  if (rc != GR_EXIT_OK) return rc;
  *metric = -1;
  for (int i = 0; i < N_METRICS; i++)
    if (strcmp(g->metric, METRICS[i]) == 0) *metric = i;
  if (*metric < 0) {
    fprintf(stderr,
            "gpurec als tune: --metric expects map, precision, precision_implicit, recall, ndcg, "
            "hit_rate or auc, got '%s'\n",
            g->metric);
    return GR_EXIT_USAGE;
  }
  gr_als_params base;
  gr_als_params_default(&base);
  if (strcmp(g->solver, "cg") == 0 || strcmp(g->solver, "cholesky") == 0) {
    base.solver = g->solver[1] == 'g' ? GR_SOLVER_CG : GR_SOLVER_CHOLESKY;
  } else {
    fprintf(stderr, "gpurec als tune: --solver expects cg or cholesky, got '%s'\n", g->solver);
    return GR_EXIT_USAGE;
  }
  base.confidence_offset = g->confidence_offset;
  /* --confidence: linear, log or both, "linear,log" */
  float forms[2];
  int n_forms = 0;
  char word[16];
  for (const char *p = g->confidence;
       rc == GR_EXIT_OK && gr_list_next_word(&p, word, sizeof word);) {
    gr_als_params one = base;
    /* each form alone: linear, or log with --epsilon (validated there) */
    rc = strcmp(word, "linear") == 0 ? GR_EXIT_OK
                                     : gr_confidence_arg(word, g->epsilon, "als tune", &one);
    if (rc == GR_EXIT_OK && n_forms < 2) forms[n_forms++] = one.log_epsilon;
  }
  if (rc != GR_EXIT_OK) return rc;
  if (n_forms == 2 && forms[0] == forms[1]) n_forms = 1;
  int any_log = 0;
  for (int i = 0; i < n_forms; i++)
    any_log |= forms[i] > 0;
  if (!any_log && g->epsilon != 1.0f) {
    fprintf(stderr, "gpurec als tune: --epsilon applies to --confidence log only\n");
    return GR_EXIT_USAGE;
  }
  base.cg_steps = g->cg_steps;
  base.random_state = g->random_state;
  const long total = (long)f.n * n_forms * it.n * reg.n * al.n;
  if (total > MAX_SETTINGS) {
    fprintf(stderr, "gpurec als tune: %ld settings; at most %d in one grid\n", total, MAX_SETTINGS);
    return GR_EXIT_USAGE;
  }
  setting *s = calloc((size_t)total, sizeof *s);
  if (!s) {
    fprintf(stderr, "gpurec als tune: cannot allocate %ld settings\n", total);
    return GR_EXIT_FAIL;
  }
  int n = 0;
  for (int a = 0; a < f.n; a++)
    for (int e = 0; e < n_forms; e++)
      for (int b = 0; b < it.n; b++)
        for (int c = 0; c < reg.n; c++)
          for (int d = 0; d < al.n; d++) {
            gr_als_params p = base;
            p.factors = (int)f.v[a];
            p.log_epsilon = forms[e];
            p.iterations = (int)it.v[b];
            p.regularization = (float)reg.v[c];
            p.alpha = (float)al.v[d];
            s[n++].p = p;
          }
  for (int i = 0; i < n; i++)
    if (gr_als_params_validate(&s[i].p) != GR_OK) {
      fprintf(stderr, "gpurec als tune: %s\n", gr_last_error());
      free(s);
      return GR_EXIT_USAGE;
    }
  *out = s;
  *n_out = n;
  return GR_EXIT_OK;
}

/* Fits and evaluates setting s; the fit stops on Ctrl-C. With `popular`
 * and `knn`, also measures the baselines (on the fitted model's ids). */
static gr_status run_setting(gr_context *ctx, setting *s, const gr_interactions *train,
                             const gr_interactions *test, int k, gr_metrics *popular,
                             gr_metrics *knn) {
  gr_als_train_options o;
  gr_als_train_options_default(&o);
  o.stop = &gr_cli_interrupted;
  gr_als_model *m = NULL;
  double t0 = gr_now_seconds();
  gr_status st = gr_als_train(ctx, &s->p, train, &o, &m);
  s->fit_seconds = gr_now_seconds() - t0;
  t0 = gr_now_seconds();
  if (st == GR_OK) st = gr_als_evaluate(ctx, m, train, test, k, &s->m);
  s->eval_seconds = gr_now_seconds() - t0;
  if (st == GR_OK && popular) {
    gr_als_model *pop = NULL;
    st = gr_popularity_model(m, train, &pop);
    if (st == GR_OK) st = gr_als_evaluate(ctx, pop, train, test, k, popular);
    gr_als_model_free(pop);
    if (st == GR_OK) st = gr_item_knn_evaluate(ctx, m, train, test, TUNE_KNN, k, knn);
  }
  gr_als_model_free(m);
  return st;
}

/* The command that trains setting p, every parameter named, so that it
 * gives the model tune measured (with the same data options). */
static void print_fit_command(FILE *f, const char *input, const gr_als_params *p) {
  fputs("gpurec als fit --input ", f);
  gr_print_shell_word(f, input);
  fprintf(f,
          " --model model.gpurec --factors %d --iterations %d --regularization %g --alpha %g "
          "--confidence-offset %g",
          p->factors, p->iterations, (double)p->regularization, (double)p->alpha,
          (double)p->confidence_offset);
  if (p->log_epsilon > 0) fprintf(f, " --confidence log --epsilon %g", (double)p->log_epsilon);
  fprintf(f, " --solver %s", p->solver == GR_SOLVER_CG ? "cg" : "cholesky");
  if (p->solver == GR_SOLVER_CG) fprintf(f, " --cg-steps %d", p->cg_steps);
  fprintf(f, " --random-state %llu\n", (unsigned long long)p->random_state);
}

int gr_cmd_als_tune(int argc, char **argv) {
  const char *cmd = "als tune";
  const char *model_path = NULL, *json = NULL, *csv = NULL;
  grid_args g = {.factors = "64",
                 .iterations = "15",
                 .regularization = "0.01,0.1,1,10,100",
                 .alpha = "1,10,40",
                 .solver = "cg",
                 .metric = "map",
                 .confidence = "linear",
                 .confidence_offset = 0.0f,
                 .epsilon = 1.0f,
                 .cg_steps = 3,
                 .random_state = 42};
  gr_holdout_args h;
  gr_holdout_args_default(&h);
  const gr_eval_options *eo = &h.eo;
  gr_common_args common;
  gr_common_args_default(&common);
  gr_data_args d;
  gr_data_args_default(&d);
  gr_opt opts[48] = {
      {"--factors", OPT_STR, &g.factors, "latent factors, a comma-separated list"},
      {"--iterations", OPT_STR, &g.iterations, "ALS iterations, a list"},
      {"--regularization", OPT_STR, &g.regularization, "L2 regularization, a list"},
      {"--alpha", OPT_STR, &g.alpha, "confidence scale (c = offset + alpha * r), a list"},
      {"--confidence-offset", OPT_FLOAT, &g.confidence_offset,
       "0 = the implicit package's confidence, 1 = the paper's 1 + alpha * r"},
      {"--confidence", OPT_STR, &g.confidence,
       "linear (offset + alpha * r), log (offset + alpha * log(1 + r / epsilon)), or both: "
       "linear,log"},
      {"--epsilon", OPT_FLOAT, &g.epsilon, "epsilon of --confidence log"},
      {"--solver", OPT_STR, &g.solver, "cg or cholesky"},
      {"--cg-steps", OPT_INT, &g.cg_steps, "conjugate gradient steps per row"},
      {"--random-state", OPT_U64, &g.random_state, "seed of the initial factors (every setting)"},
      {"--metric", OPT_STR, &g.metric,
       "rank settings by map, precision, precision_implicit, recall, ndcg, hit_rate or auc"},
      {"--out", OPT_OUT, &csv, "also write every setting's figures as CSV"},
      {"--json", OPT_OUT, &json, "also write every setting's figures as JSON"},
      {"--model", OPT_OUT, &model_path,
       "then train the best setting on all the data (--input, or --train) and save it here"},
  };
  int n = gr_holdout_args_add(opts, 14, &h, "all interactions: split once, then every setting");
  n = gr_data_args_add(opts, n, &d);
  n = gr_common_args_add(opts, n, &common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Fits and evaluates every combination of the listed ALS settings on one "
                         "holdout split,\nand ranks them by --metric at --k. Either --input (split "
                         "here) or --train and --test.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if ((rc = gr_holdout_args_check(&h, cmd)) != GR_EXIT_OK) return rc;
  setting *s = NULL;
  int n_settings = 0, metric = 0;
  if ((rc = build_grid(&g, &s, &n_settings, &metric)) != GR_EXIT_OK) return rc;
  int *order = malloc(sizeof(int) * (size_t)n_settings);
  gr_interactions *all = NULL, *train = NULL, *test = NULL;
  gr_als_model *best_model = NULL;
  gr_status st = GR_OK;
  rc = GR_EXIT_FAIL;
  gr_context *ctx = NULL;
  if (!order) {
    fprintf(stderr, "gpurec %s: cannot allocate the ranking of %d settings\n", cmd, n_settings);
    goto done;
  }
  if (!(ctx = gr_common_context(&common, cmd))) goto done;
  if ((st = gr_holdout_read(&h, &d, cmd, &all, &train, &test)) == GR_ERR_PARSE) goto done;
  if (st == GR_OK && !common.quiet)
    fprintf(stderr, "gpurec: %d settings on %s: %d users, %d items, %lld training events\n",
            n_settings, gr_context_backend_name(ctx), gr_interactions_n_users(train),
            gr_interactions_n_items(train), (long long)gr_interactions_count(train));
  int done_settings = 0;
  gr_metrics popular = {0}, knn = {0}; /* the baselines, measured with the first setting */
  gr_cli_catch_sigint();
  for (int i = 0; st == GR_OK && i < n_settings; i++) {
    st =
        run_setting(ctx, &s[i], train, test, eo->k, i == 0 ? &popular : NULL, i == 0 ? &knn : NULL);
    if (st == GR_OK) done_settings++;
    if (st == GR_OK && !common.quiet)
      fprintf(stderr,
              "gpurec: [%d/%d] factors %d, iterations %d, regularization %g, alpha %g: "
              "%s@%d %.4f (fit %.2f s, eval %.2f s)\n",
              i + 1, n_settings, s[i].p.factors, s[i].p.iterations, (double)s[i].p.regularization,
              (double)s[i].p.alpha, METRICS[metric], eo->k, metric_of(&s[i].m, metric),
              s[i].fit_seconds, s[i].eval_seconds);
  }
  if (st == GR_OK && gr_cli_interrupted) /* during the last evaluation: not forgotten */
    st = gr_fail(GR_ERR_INTERRUPTED, "interrupted after the last setting");
  gr_cli_release_sigint();
  for (int i = 0; i < done_settings; i++)
    order[i] = i;
  g_metric = metric;
  g_settings = s;
  qsort(order, (size_t)done_settings, sizeof *order, by_metric);
  if (done_settings > 0) {
    printf("%d settings ranked by %s@%d on %lld test users\n", done_settings, METRICS[metric],
           eo->k, (long long)s[0].m.n_users);
    print_table(s, order, done_settings);
    printf("popularity baseline (the most popular unseen items): %s@%d %.4f\n", METRICS[metric],
           eo->k, metric_of(&popular, metric));
    printf("item kNN baseline (cosine, %d neighbours per item): %s@%d %.4f\n", TUNE_KNN,
           METRICS[metric], eo->k, metric_of(&knn, metric));
  }
  if (st != GR_OK) { /* interrupted or failed: the table so far, no files */
    rc = gr_cli_fail(cmd, st);
    goto done;
  }
  const setting *best = &s[order[0]];
  printf("\nbest: %s@%d %.4f. To train it (with this command's data options):\n", METRICS[metric],
         eo->k, metric_of(&best->m, metric));
  print_fit_command(stdout, h.input ? h.input : h.train, &best->p);
  if (model_path) { /* trained before any file is written: a failure leaves none */
    gr_als_train_options o;
    gr_als_train_options_default(&o);
    gr_cli_catch_sigint();
    o.stop = &gr_cli_interrupted;
    st = gr_als_train(ctx, &best->p, all ? all : train, &o, &best_model);
    gr_cli_release_sigint();
  }
  /* every output or none: the CSV and JSON go to temporaries, committed
   * once the model is saved */
  gr_output_file csv_out = {0}, json_out = {0};
  if (st == GR_OK && csv && (st = gr_output_open(&csv_out, csv)) == GR_OK)
    write_csv(csv_out.f, s, n_settings);
  if (st == GR_OK && json && (st = gr_output_open(&json_out, json)) == GR_OK)
    write_json(json_out.f, s, n_settings, order[0], metric, &popular, &knn);
  if (st == GR_OK && model_path) st = gr_als_model_save(best_model, model_path);
  if (st == GR_OK && csv) st = gr_output_commit(&csv_out);
  if (st == GR_OK && json) st = gr_output_commit(&json_out);
  gr_output_abort(&csv_out);
  gr_output_abort(&json_out);
  if (st == GR_OK && model_path && !common.quiet)
    fprintf(stderr, "gpurec: the best setting, trained on all %lld events, written to %s\n",
            (long long)gr_interactions_count(all ? all : train), model_path);
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
done:
  gr_als_model_free(best_model);
  gr_context_free(ctx);
  gr_interactions_free(all);
  gr_interactions_free(train);
  gr_interactions_free(test);
  free(order);
  free(s);
  return rc;
}
