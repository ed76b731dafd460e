/* gpurec leads tune: a grid of leads settings (clusters, class balance,
 * regularization) measured on held-out clients of one portfolio. The
 * market is read and encoded once, KMeans runs once per cluster count, and
 * each setting is fitted on every fold; settings are ranked by one metric,
 * the best one's fit command is printed, and with --model it is fitted on
 * the whole portfolio and saved. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common/clock.h"
#include "common/error.h"
#include "grid_args.h"
#include "host/output_file.h"
#include "leads_args.h"

#define MAX_SETTINGS 4096
#define MAX_FOLDS 100

typedef struct setting {
  gr_leads_params p;
  gr_leads_eval mean; /* the folds' figures averaged */
  double se;          /* standard error of the ranking metric over the folds (0 for one) */
  double seconds;     /* fit and measure, all folds */
  int models, converged;
} setting;

static const char *const METRICS[] = {"map", "precision", "recall", "auc"};
#define N_METRICS (int)(sizeof METRICS / sizeof METRICS[0])

static double metric_of(const gr_leads_eval *e, int metric, int cut) {
  switch (metric) {
  case 0: return e->map[cut];
  case 1: return e->precision[cut];
  case 2: return e->recall[cut];
  default: return isnan(e->auc) ? 0.0 : e->auc;
  }
}

/* The ranking: the metric and the cut it is taken at. */
typedef struct ranking {
  int metric, cut;
} ranking;

static char g_name[32]; /* "map@10", "auc" */

static const char *ranking_name(const ranking *r) {
  if (r->metric == 3)
    snprintf(g_name, sizeof g_name, "auc");
  else
    snprintf(g_name, sizeof g_name, "%s@%d", METRICS[r->metric], gr_leads_cuts[r->cut]);
  return g_name;
}

static ranking g_rank; /* for the sort */
static const setting *g_settings;

/* Best first; equal figures keep the grid's order. */
static int by_metric(const void *pa, const void *pb) {
  const int a = *(const int *)pa, b = *(const int *)pb;
  const double x = metric_of(&g_settings[a].mean, g_rank.metric, g_rank.cut);
  const double y = metric_of(&g_settings[b].mean, g_rank.metric, g_rank.cut);
  if (x != y) return x < y ? 1 : -1;
  return (a > b) - (a < b);
}

/* ---- the grid ----------------------------------------------------------------- */

/* Every combination of --k (slowest: settings of one k share a clustering),
 * --balance and --C (fastest) over the base parameters. */
static int build_grid(const gr_leads_grid *g, const gr_leads_params *base, setting **out,
                      int *n_out) {
  const char *cmd = "leads tune";
  gr_value_list k, C;
  int rc = gr_value_list_parse(g->k, "--k", 1, 1, 4096, cmd, &k);
  if (rc == GR_EXIT_OK) rc = gr_value_list_parse(g->C, "--C", 0, 1e-30, 1e30, cmd, &C);
  if (rc != GR_EXIT_OK) return rc;
  gr_balance balances[3];
  int n_bal = 0;
  char word[16];
  for (const char *p = g->balance; gr_list_next_word(&p, word, sizeof word);) {
    gr_balance b;
    if (gr_balance_parse(word, &b) != 0) {
      fprintf(stderr, "gpurec %s: --balance expects a list of smote, weight and none, got '%s'\n",
              cmd, g->balance);
      return GR_EXIT_USAGE;
    }
    for (int i = 0; i < n_bal; i++)
      if (balances[i] == b) {
        fprintf(stderr, "gpurec %s: --balance lists %s twice\n", cmd, word);
        return GR_EXIT_USAGE;
      }
    balances[n_bal++] = b;
  }
  /* the same setting twice would only be fitted twice */
  for (int i = 0; i < k.n; i++)
    for (int j = 0; j < i; j++)
      if (k.v[i] == k.v[j]) {
        fprintf(stderr, "gpurec %s: --k lists %g twice\n", cmd, k.v[i]);
        return GR_EXIT_USAGE;
      }
  for (int i = 0; i < C.n; i++)
    for (int j = 0; j < i; j++)
      if ((float)C.v[i] == (float)C.v[j]) {
        fprintf(stderr, "gpurec %s: --C lists %g twice (as leads fit reads it)\n", cmd, C.v[i]);
        return GR_EXIT_USAGE;
      }
  const long total = (long)k.n * n_bal * C.n;
  if (total > MAX_SETTINGS) {
    fprintf(stderr, "gpurec %s: %ld settings; at most %d in one grid\n", cmd, total, MAX_SETTINGS);
    return GR_EXIT_USAGE;
  }
  setting *s = calloc((size_t)total, sizeof *s);
  if (!s) {
    fprintf(stderr, "gpurec %s: cannot allocate %ld settings\n", cmd, total);
    return GR_EXIT_FAIL;
  }
  int n = 0;
  for (int a = 0; a < k.n; a++)
    for (int b = 0; b < n_bal; b++)
      for (int c = 0; c < C.n; c++) {
        gr_leads_params p = *base;
        p.kmeans.k = (int)k.v[a];
        p.balance = balances[b];
        p.logreg.C = (double)(float)C.v[c]; /* as leads fit reads --C: a float */
        s[n++].p = p;
      }
  *out = s;
  *n_out = n;
  return GR_EXIT_OK;
}

/* Averages a setting's folds into s->mean and the metric's standard error. */
static void summarize(setting *s, const gr_leads_eval *folds, int n_folds, const ranking *r) {
  gr_leads_eval *m = &s->mean;
  memset(m, 0, sizeof *m);
  double sum = 0, sum2 = 0;
  for (int f = 0; f < n_folds; f++) {
    const gr_leads_eval *e = &folds[f];
    for (int c = 0; c < GR_LEADS_N_CUTS; c++) {
      m->map[c] += e->map[c] / n_folds;
      m->precision[c] += e->precision[c] / n_folds;
      m->recall[c] += e->recall[c] / n_folds;
      m->in_map[c] += e->in_map[c] / n_folds;
      m->in_precision[c] += e->in_precision[c] / n_folds;
      m->in_recall[c] += e->in_recall[c] / n_folds;
    }
    m->auc += e->auc / n_folds;
    m->in_auc += e->in_auc / n_folds;
    s->seconds += e->tm.balance + e->tm.logreg + e->tm.score + e->tm.rank;
    s->models += e->conv.models;
    s->converged += e->conv.models_converged;
    const double v = metric_of(e, r->metric, r->cut);
    sum += v;
    sum2 += v * v;
  }
  const double mean = sum / n_folds,
               var = n_folds > 1 ? (sum2 - n_folds * mean * mean) / (n_folds - 1) : 0;
  s->se = n_folds > 1 && var > 0 ? sqrt(var / n_folds) : 0;
}

/* ---- outputs ------------------------------------------------------------------- */

/* C as leads fit reads it back (a float), in the fewest digits. */
static const char *c_text(const setting *x, char buf[40]) {
  gr_format_shortest(buf, 40, x->p.logreg.C, 1);
  return buf;
}

static void print_table(const setting *s, const int *order, int n, const ranking *r, int folds) {
  const int cut = gr_leads_cuts[r->cut];
  char head[4][24];
  snprintf(head[0], sizeof head[0], "map@%d", cut);
  snprintf(head[1], sizeof head[1], "precision@%d", cut);
  snprintf(head[2], sizeof head[2], "recall@%d", cut);
  printf("%4s %5s %7s %10s  %12s %12s %12s %8s", "rank", "k", "balance", "C", head[0], head[1],
         head[2], "auc");
  if (folds > 1) printf(" %10s", "std err");
  printf(" %10s %8s\n", "converged", "fit s");
  for (int i = 0; i < n; i++) {
    const setting *x = &s[order[i]];
    char C[40];
    printf("%4d %5d %7s %10s  %12.4f %12.4f %12.4f %8.4f", i + 1, x->p.kmeans.k,
           gr_balance_name(x->p.balance), c_text(x, C), x->mean.map[r->cut],
           x->mean.precision[r->cut], x->mean.recall[r->cut], x->mean.auc);
    if (folds > 1) printf(" %10.4f", x->se);
    char conv[24];
    snprintf(conv, sizeof conv, "%d/%d", x->converged, x->models);
    printf(" %10s %8.2f\n", conv, x->seconds);
  }
}

static void csv_cuts(FILE *f, const double *v) {
  for (int c = 0; c < GR_LEADS_N_CUTS; c++)
    fprintf(f, ",%.6f", v[c]);
}

static void write_csv(FILE *f, const setting *s, int n) {
  fputs("k,balance,C", f);
  const char *names[] = {"map", "precision", "recall"};
  for (int m = 0; m < 3; m++)
    for (int c = 0; c < GR_LEADS_N_CUTS; c++)
      fprintf(f, ",%s@%d", names[m], gr_leads_cuts[c]);
  fputs(",auc,std_err,in_sample_map@10,in_sample_auc,models,models_converged,seconds\n", f);
  for (int i = 0; i < n; i++) {
    const setting *x = &s[i];
    char C[40];
    fprintf(f, "%d,%s,%s", x->p.kmeans.k, gr_balance_name(x->p.balance), c_text(x, C));
    csv_cuts(f, x->mean.map);
    csv_cuts(f, x->mean.precision);
    csv_cuts(f, x->mean.recall);
    fprintf(f, ",%.6f,%.6f,%.6f,%.6f,%d,%d,%.3f\n", x->mean.auc, x->se, x->mean.in_map[1],
            x->mean.in_auc, x->models, x->converged, x->seconds);
  }
}

static void write_json(FILE *f, const setting *s, const gr_leads_eval *evals, int n, int folds,
                       int best, const ranking *r) {
  fprintf(f, "{\n  \"metric\": \"%s\",\n  \"folds\": %d,\n  \"best\": %d,\n  \"settings\": [\n",
          ranking_name(r), folds, best);
  for (int i = 0; i < n; i++) {
    const setting *x = &s[i];
    char C[40];
    fprintf(f, "    {\"k\": %d, \"balance\": \"%s\", \"C\": %s, \"std_err\": %.6f, ", x->p.kmeans.k,
            gr_balance_name(x->p.balance), c_text(x, C), x->se);
    gr_leads_json_cuts(f, "map", x->mean.map);
    fputs(", ", f);
    gr_leads_json_cuts(f, "precision", x->mean.precision);
    fputs(", ", f);
    gr_leads_json_cuts(f, "recall", x->mean.recall);
    fprintf(f,
            ", \"auc\": %.6f, \"in_sample_auc\": %.6f, \"models\": %d, \"models_converged\": %d, "
            "\"seconds\": %.4f, \"folds\": [",
            x->mean.auc, x->mean.in_auc, x->models, x->converged, x->seconds);
    for (int fo = 0; fo < folds; fo++) {
      const gr_leads_eval *e = &evals[(size_t)i * (size_t)folds + (size_t)fo];
      fprintf(f, "%s{\"n_train\": %lld, \"n_test\": %lld, ", fo ? ", " : "", (long long)e->n_train,
              (long long)e->n_test);
      gr_leads_json_cuts(f, "map", e->map);
      fprintf(f, ", \"auc\": %.6f}", e->auc);
    }
    fprintf(f, "]}%s\n", i + 1 < n ? "," : "");
  }
  fputs("  ]\n}\n", f);
}

/* The leads fit command of setting p, every model parameter named. */
static void print_fit_command(FILE *f, const leads_args *a, const gr_leads_params *p) {
  char C[40], ktol[40], tol[40], hs[40], mm[40];
  gr_format_shortest(C, sizeof C, p->logreg.C, 1);
  gr_format_shortest(ktol, sizeof ktol, p->kmeans.tol, 1);
  gr_format_shortest(tol, sizeof tol, p->logreg.tol, 0);
  gr_format_shortest(hs, sizeof hs, p->logreg.hessian_sample, 0);
  gr_format_shortest(mm, sizeof mm, p->encoder.max_missing, 1);
  fputs("gpurec leads fit --market ", f);
  gr_print_shell_word(f, a->market);
  fputs(" --portfolio ", f);
  gr_print_shell_word(f, a->portfolio);
  if (a->table.id_name && strcmp(a->table.id_name, "id") != 0) {
    fputs(" --id-col ", f);
    gr_print_shell_word(f, a->table.id_name);
  }
  if (a->table.kinds) {
    fputs(" --kinds ", f);
    gr_print_shell_word(f, a->table.kinds);
  }
  if (a->table.kinds_file) {
    fputs(" --kinds-file ", f);
    gr_print_shell_word(f, a->table.kinds_file);
  }
  fprintf(f,
          " --model leads.gpurec --leads leads.csv --k %d --balance %s --C %s --n-init %d "
          "--kmeans-max-iter %d --kmeans-tol %s --seed %llu --smote-k %d --solver %s --max-iter %d "
          "--tol %s --hessian-sample %s --max-missing %s --max-levels %d%s\n",
          p->kmeans.k, gr_balance_name(p->balance), C, p->kmeans.n_init, p->kmeans.max_iter, ktol,
          (unsigned long long)p->kmeans.seed, p->smote_k, gr_logreg_solver_name(p->logreg.solver),
          p->logreg.max_iter, tol, hs, mm, p->encoder.max_levels,
          p->prior_correction ? "" : " --uncalibrated");
}

/* ---- the command ----------------------------------------------------------------- */

typedef struct progress_state {
  setting *s;
  const gr_leads_eval *evals;
  int n, folds, quiet;
  ranking r;
} progress_state;

static void on_setting(void *user, int i) {
  progress_state *ps = user;
  setting *x = &ps->s[i];
  summarize(x, ps->evals + (size_t)i * (size_t)ps->folds, ps->folds, &ps->r);
  char C[40];
  if (!ps->quiet)
    fprintf(stderr, "leads: [%d/%d] k %d, balance %s, C %s: %s %.4f (%.2f s)\n", i + 1, ps->n,
            x->p.kmeans.k, gr_balance_name(x->p.balance), c_text(x, C), ranking_name(&ps->r),
            metric_of(&x->mean, ps->r.metric, ps->r.cut), x->seconds);
}

static int parse_ranking(const char *metric, int at, ranking *r) {
  r->metric = -1;
  for (int i = 0; i < N_METRICS; i++)
    if (strcmp(metric, METRICS[i]) == 0) r->metric = i;
  r->cut = -1;
  for (int c = 0; c < GR_LEADS_N_CUTS; c++)
    if (gr_leads_cuts[c] == at) r->cut = c;
  if (r->metric < 0) {
    fprintf(stderr, "gpurec leads tune: --metric expects map, precision, recall or auc, got '%s'\n",
            metric);
    return GR_EXIT_USAGE;
  }
  if (r->cut < 0) {
    fprintf(stderr, "gpurec leads tune: --at expects 5, 10, 25 or 50, got %d\n", at);
    return GR_EXIT_USAGE;
  }
  return GR_EXIT_OK;
}

int gr_cmd_leads_tune(int argc, char **argv) {
  const char *cmd = "leads tune";
  leads_args a;
  gr_leads_args_default(&a);
  gr_leads_grid grid = {.k = "1,4,8,16", .C = "0.01,0.1,1", .balance = "smote,weight,none"};
  const char *metric = "map", *csv = NULL;
  int at = 10, folds = 1;
  gr_opt opts[48];
  int n = gr_leads_table_opts(opts, 0, &a);
  n = gr_leads_fit_opts(opts, n, &a, &grid);
  opts[n++] = (gr_opt){"--folds", OPT_INT, &folds,
                       "1: one holdout of --test-fraction (as leads eval); N > 1: every client "
                       "held out once, in N folds, figures averaged"};
  opts[n++] = (gr_opt){"--test-fraction", OPT_FLOAT, &a.test_fraction,
                       "share of clients held out (--folds 1)"};
  opts[n++] = (gr_opt){"--eval-seed", OPT_U64, &a.eval_seed, "seed of the holdout or folds"};
  opts[n++] =
      (gr_opt){"--metric", OPT_STR, &metric, "rank settings by map, precision, recall or auc"};
  opts[n++] = (gr_opt){"--at", OPT_INT, &at, "the cut of --metric: 5, 10, 25 or 50"};
  opts[n++] = (gr_opt){"--out", OPT_OUT, &csv, "also write every setting's figures as CSV"};
  opts[n++] = (gr_opt){"--json", OPT_OUT, &a.json,
                       "also write every setting's figures (and each fold's) as JSON"};
  opts[n++] = (gr_opt){"--model", OPT_OUT, &a.model,
                       "then fit the best setting on the whole portfolio and save it here"};
  n = gr_common_args_add(opts, n, &a.common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Fits and evaluates every combination of the listed --k, --balance and "
                         "--C on held-out\nclients of the portfolio (the market is read and "
                         "encoded once, KMeans runs once per k),\nand ranks them by --metric at "
                         "--at.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if ((rc = gr_leads_args_finish(&a, cmd)) != GR_EXIT_OK) return rc;
  ranking r;
  if ((rc = parse_ranking(metric, at, &r)) != GR_EXIT_OK) return rc;
  if (!a.portfolio) {
    fprintf(stderr, "gpurec %s: --portfolio FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  if (folds < 1 || folds > MAX_FOLDS) {
    fprintf(stderr, "gpurec %s: --folds must be in 1..%d\n", cmd, MAX_FOLDS);
    return GR_EXIT_USAGE;
  }
  if (folds > 1 && a.test_fraction != 0.2f) { /* 0.2 is the default: another value was given */
    fprintf(stderr,
            "gpurec %s: --test-fraction applies to --folds 1 only (each of N folds holds out "
            "1/N of the clients)\n",
            cmd);
    return GR_EXIT_USAGE;
  }
  if (!(a.test_fraction > 0 && a.test_fraction < 1)) {
    fprintf(stderr, "gpurec %s: --test-fraction must be in (0, 1)\n", cmd);
    return GR_EXIT_USAGE;
  }
  setting *s = NULL;
  int n_settings = 0;
  if ((rc = build_grid(&grid, &a.p, &s, &n_settings)) != GR_EXIT_OK) return rc;
  int *order = malloc(sizeof(int) * (size_t)n_settings);
  gr_leads_eval *evals = calloc((size_t)n_settings * (size_t)folds, sizeof *evals);
  gr_leads_params *params = malloc(sizeof *params * (size_t)n_settings);
  gr_table *market = NULL;
  uint8_t *client = NULL;
  gr_leads_model *best_model = NULL;
  gr_context *ctx = NULL;
  gr_status st = GR_OK;
  double t0 = 0;
  int verbose = !a.common.quiet, caught = 0;
  rc = GR_EXIT_FAIL;
  if (!order || !evals || !params) {
    fprintf(stderr, "gpurec %s: cannot allocate the results of %d settings\n", cmd, n_settings);
    goto done;
  }
  if (!(ctx = gr_common_context(&a.common, cmd))) goto done;
  t0 = gr_now_seconds();
  st = gr_leads_read_table(a.market, &a.table, "market", verbose, &market);
  if (st == GR_OK) st = gr_leads_read_clients(&a, market, verbose, &client);
  if (st == GR_OK && verbose)
    fprintf(stderr, "leads: %d settings, %d fold%s, on %s\n", n_settings, folds,
            folds > 1 ? "s" : "", gr_context_backend_name(ctx));
  for (int i = 0; i < n_settings; i++) {
    s[i].p.kmeans.stop = s[i].p.logreg.stop = &gr_cli_interrupted;
    params[i] = s[i].p;
  }
  progress_state ps = {s, evals, n_settings, folds, !verbose, r};
  int n_done = 0;
  /* Ctrl-C: the table so far, no files (one handler to the end, so that
   * no signal is forgotten between the grid and the --model fit) */
  gr_cli_catch_sigint();
  caught = 1;
  if (st == GR_OK)
    st = gr_leads_tune(ctx, market, client, params, n_settings, folds, a.test_fraction, a.eval_seed,
                       evals, &n_done, on_setting, &ps);
  if (st == GR_OK && gr_cli_interrupted) /* after the last setting's last check */
    st = gr_fail(GR_ERR_INTERRUPTED, "interrupted after the last setting");
  for (int i = 0; i < n_done; i++)
    order[i] = i;
  g_rank = r;
  g_settings = s;
  qsort(order, (size_t)n_done, sizeof *order, by_metric);
  if (n_done > 0) {
    const gr_leads_eval *e0 = &evals[0];
    const long long clients = (long long)(e0->n_train + e0->n_test);
    if (folds > 1)
      printf("%d settings ranked by %s, the mean of %d folds of the %lld clients (each held out "
             "once)\n",
             n_done, ranking_name(&r), folds, clients);
    else
      printf("%d settings ranked by %s on %lld held-out clients (of %lld)\n", n_done,
             ranking_name(&r), (long long)e0->n_test, clients);
    print_table(s, order, n_done, &r, folds);
  }
  if (st != GR_OK) { /* interrupted or failed: the table so far, no files */
    rc = gr_cli_fail(cmd, st);
    goto done;
  }
  const setting *best = &s[order[0]];
  printf("\nbest: %s %.4f. To fit it:\n", ranking_name(&r),
         metric_of(&best->mean, r.metric, r.cut));
  print_fit_command(stdout, &a, &best->p);
  if (folds == 1)
    printf("(one holdout of %lld clients; --folds 5 holds every client out once and averages)\n",
           (long long)evals[0].n_test);
  /* every output or none: the CSV and JSON go to temporaries, committed
   * once the model is fitted and saved */
  gr_output_file csv_out = {0}, json_out = {0};
  if (a.model) {
    gr_leads_params bp = best->p;
    st = gr_leads_fit(ctx, market, client, &bp, &best_model, NULL, NULL, NULL);
  }
  if (st == GR_OK && csv && (st = gr_output_open(&csv_out, csv)) == GR_OK)
    write_csv(csv_out.f, s, n_settings);
  if (st == GR_OK && a.json && (st = gr_output_open(&json_out, a.json)) == GR_OK)
    write_json(json_out.f, s, evals, n_settings, folds, order[0], &r);
  if (st == GR_OK && gr_cli_interrupted) st = gr_fail(GR_ERR_INTERRUPTED, "interrupted");
  if (st == GR_OK && a.model) st = gr_leads_model_save(best_model, a.model);
  if (st == GR_OK && csv) st = gr_output_commit(&csv_out);
  if (st == GR_OK && a.json) st = gr_output_commit(&json_out);
  gr_output_abort(&csv_out);
  gr_output_abort(&json_out);
  if (st == GR_OK && a.model && verbose)
    fprintf(stderr, "leads: the best setting, fitted on all %lld clients, written to %s\n",
            (long long)(evals[0].n_test + evals[0].n_train), a.model);
  if (st == GR_OK && verbose) fprintf(stderr, "leads: done in %.2f s\n", gr_now_seconds() - t0);
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
done:
  if (caught) gr_cli_release_sigint();
  gr_leads_model_free(best_model);
  gr_table_free(market);
  free(client);
  gr_context_free(ctx);
  free(order);
  free(evals);
  free(params);
  free(s);
  return rc;
}
