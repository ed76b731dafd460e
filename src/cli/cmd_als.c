/* gpurec als fit | recommend | similar | eval (tune: cmd_als_tune.c). */
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "common/clock.h"
#include "common/error.h"
#include "data_args.h"
#include "group_report.h"
#include "host/baseline.h"
#include "host/item_knn.h"
#include "host/output_file.h"
#include "host/ranking.h"
#include "ranked_output.h"

/* ---- hyperparameters ------------------------------------------------------ */

typedef struct als_args {
  gr_als_params p;
  const char *solver;
  const char *confidence; /* linear or log */
  float epsilon;
  const char *checkpoint, *resume, *warm_start;
  int checkpoint_every;
} als_args;

static int als_args_add(gr_opt *o, int n, als_args *a) {
  gr_als_params_default(&a->p);
  a->solver = "cg";
  a->confidence = "linear";
  a->epsilon = 1.0f;
  o[n++] = (gr_opt){"--factors", OPT_INT, &a->p.factors, "latent factors"};
  o[n++] = (gr_opt){"--regularization", OPT_FLOAT, &a->p.regularization, "L2 regularization"};
  o[n++] = (gr_opt){"--alpha", OPT_FLOAT, &a->p.alpha, "confidence scale: c = offset + alpha * r"};
  o[n++] = (gr_opt){"--confidence-offset", OPT_FLOAT, &a->p.confidence_offset,
                    "0 = the implicit package's confidence, 1 = the paper's 1 + alpha * r"};
  o[n++] = (gr_opt){"--confidence", OPT_STR, &a->confidence,
                    "linear (offset + alpha * r) or log (offset + alpha * log(1 + r / epsilon))"};
  o[n++] = (gr_opt){"--epsilon", OPT_FLOAT, &a->epsilon, "epsilon of --confidence log"};
  o[n++] = (gr_opt){"--iterations", OPT_INT, &a->p.iterations, "ALS iterations"};
  o[n++] = (gr_opt){"--solver", OPT_STR, &a->solver, "cg or cholesky"};
  o[n++] = (gr_opt){"--cg-steps", OPT_INT, &a->p.cg_steps, "conjugate gradient steps per row"};
  o[n++] = (gr_opt){"--random-state", OPT_U64, &a->p.random_state, "seed of the initial factors"};
  o[n++] = (gr_opt){"--calc-loss", OPT_FLAG, &a->p.calc_loss, "report the training loss"};
  a->checkpoint = a->resume = a->warm_start = NULL;
  a->checkpoint_every = 1;
  o[n++] = (gr_opt){"--checkpoint", OPT_OUT, &a->checkpoint,
                    "write the model here as training goes, and when Ctrl-C stops it"};
  o[n++] = (gr_opt){"--checkpoint-every", OPT_INT, &a->checkpoint_every,
                    "iterations between checkpoints"};
  o[n++] = (gr_opt){"--resume", OPT_STR, &a->resume,
                    "continue from this checkpoint (same input, same seed: same model)"};
  o[n++] = (gr_opt){"--warm-start", OPT_STR, &a->warm_start,
                    "start from this model's item factors, by id (retraining on new data: "
                    "fewer iterations)"};
  return n;
}

static int als_args_finish(als_args *a, const char *cmd) {
  if (strcmp(a->solver, "cg") == 0) {
    a->p.solver = GR_SOLVER_CG;
  } else if (strcmp(a->solver, "cholesky") == 0) {
    a->p.solver = GR_SOLVER_CHOLESKY;
  } else {
    fprintf(stderr, "gpurec %s: --solver expects cg or cholesky, got '%s'\n", cmd, a->solver);
    return GR_EXIT_USAGE;
  }
  return gr_confidence_arg(a->confidence, a->epsilon, cmd, &a->p);
}

/* ---- training with progress ---------------------------------------------- */

typedef struct fit_log {
  int quiet, total;
  double seconds[4096];
  double last_loss;
  int n;
} fit_log;

static int on_iteration(int it, double seconds, double loss, void *user) {
  fit_log *log = user;
  if (log->n < (int)(sizeof log->seconds / sizeof log->seconds[0]))
    log->seconds[log->n++] = seconds;
  log->last_loss = loss;
  if (!log->quiet) {
    if (isnan(loss)) {
      fprintf(stderr, "gpurec: iteration %d/%d  %.3f s\n", it, log->total, seconds);
    } else {
      fprintf(stderr, "gpurec: iteration %d/%d  %.3f s  loss %.6g\n", it, log->total, seconds,
              loss);
    }
  }
  return 0;
}

static double mean_seconds(const fit_log *log) {
  double s = 0;
  for (int i = 0; i < log->n; i++)
    s += log->seconds[i];
  return log->n ? s / log->n : 0;
}

static gr_status fit(gr_context *ctx, const als_args *a, const gr_interactions *data,
                     const gr_common_args *common, fit_log *log, gr_als_model **model) {
  memset(log, 0, sizeof *log);
  log->quiet = common->quiet;
  log->total = a->p.iterations;
  log->last_loss = NAN;
  if (!common->quiet)
    fprintf(stderr, "gpurec: ALS on %s: %d users, %d items, %lld events; %d factors, %s solver\n",
            gr_context_backend_name(ctx), gr_interactions_n_users(data),
            gr_interactions_n_items(data), (long long)gr_interactions_count(data), a->p.factors,
            a->p.solver == GR_SOLVER_CG ? "cg" : "cholesky");
  gr_als_model *resume = NULL, *warm = NULL;
  if (a->resume) GR_TRY(gr_als_model_load(&resume, a->resume));
  if (a->warm_start) {
    gr_status st = gr_als_model_load(&warm, a->warm_start);
    if (st != GR_OK) {
      gr_als_model_free(resume);
      return st;
    }
    if (!common->quiet) {
      int32_t items = 0;
      for (int32_t i = 0; i < gr_interactions_n_items(data); i++)
        items += gr_als_model_find_item(warm, gr_interactions_item_id(data, i)) >= 0;
      fprintf(stderr, "gpurec: warm start from %s: %d of %d items start from its factors\n",
              a->warm_start, items, gr_interactions_n_items(data));
    }
  }
  if (resume && !common->quiet)
    fprintf(stderr, "gpurec: resuming from %s after iteration %d\n", a->resume,
            gr_als_model_iterations_done(resume));
  gr_als_train_options o;
  gr_als_train_options_default(&o);
  o.progress = on_iteration;
  o.progress_user = log;
  o.resume = resume;
  o.warm_start = warm;
  o.checkpoint_path = a->checkpoint;
  o.checkpoint_every = a->checkpoint_every;
  o.stop = &gr_cli_interrupted;
  /* the first Ctrl-C finishes the iteration in progress; a second one kills */
  gr_cli_catch_sigint();
  gr_status st = gr_als_train(ctx, &a->p, data, &o, model);
  gr_cli_release_sigint();
  gr_als_model_free(resume);
  gr_als_model_free(warm);
  return st;
}

/* "key": {...the figures...}, */
static void write_metrics_json(FILE *f, const char *key, const gr_metrics *m) {
  fprintf(f,
          "  \"%s\": {\"k\": %d, \"n_users\": %lld, \"precision\": %.6f, "
          "\"precision_implicit\": %.6f, \"recall\": %.6f, \"map\": %.6f, \"ndcg\": %.6f, "
          "\"hit_rate\": %.6f, \"auc\": %.6f, \"auc_users\": %lld, \"coverage\": %.6f},\n",
          key, m->k, (long long)m->n_users, m->precision, m->precision_implicit, m->recall, m->map,
          m->ndcg, m->hit_rate, isnan(m->auc) ? 0.0 : m->auc, (long long)m->auc_users, m->coverage);
}

/* The JSON report of a fit (and optionally an evaluation, which took
 * eval_seconds: ranking every test user, the metrics and the AUC; and the
 * popularity baseline's figures, when measured). */
static gr_status write_report(const char *path, gr_context *ctx, const gr_common_args *common,
                              const gr_interactions *train, const gr_als_model *m,
                              const fit_log *log, const gr_metrics *metrics, double eval_seconds,
                              const gr_metrics *baseline, const gr_metrics *knn, int knn_k,
                              const gr_group_report *groups) {
  /* nnz counts distinct (user, item) pairs; events counts input rows */
  gr_csr pairs = {0};
  if (train) GR_TRY(gr_seen_matrix(m, train, &pairs));
  const long long nnz = (long long)pairs.nnz;
  gr_csr_free(&pairs);
  gr_output_file out;
  GR_TRY(gr_output_open(&out, path));
  FILE *f = out.f;
  const gr_als_params *p = gr_als_model_params(m);
  fprintf(f, "{\n  \"backend\": \"%s\",\n  \"threads\": %d,\n", gr_context_backend_name(ctx),
          common->threads);
  fprintf(f, "  \"n_users\": %d,\n  \"n_items\": %d,\n  \"nnz\": %lld,\n  \"events\": %lld,\n",
          gr_als_model_n_users(m), gr_als_model_n_items(m), nnz,
          (long long)(train ? gr_interactions_count(train) : 0));
  fprintf(f,
          "  \"params\": {\"factors\": %d, \"regularization\": %g, \"alpha\": %g, "
          "\"confidence_offset\": %g, \"log_epsilon\": %g, \"iterations\": %d, \"solver\": "
          "\"%s\", \"cg_steps\": %d, \"random_state\": %llu},\n",
          p->factors, (double)p->regularization, (double)p->alpha, (double)p->confidence_offset,
          (double)p->log_epsilon, p->iterations, p->solver == GR_SOLVER_CG ? "cg" : "cholesky",
          p->cg_steps, (unsigned long long)p->random_state);
  if (log) {
    double total = 0;
    fprintf(f, "  \"iteration_seconds\": [");
    for (int i = 0; i < log->n; i++) {
      fprintf(f, "%s%.6f", i ? ", " : "", log->seconds[i]);
      total += log->seconds[i];
    }
    fprintf(f, "],\n  \"fit_seconds\": %.6f,\n  \"seconds_per_iteration\": %.6f,\n", total,
            mean_seconds(log));
    if (!isnan(log->last_loss)) fprintf(f, "  \"loss\": %.9g,\n", log->last_loss);
  }
  if (metrics) {
    write_metrics_json(f, "metrics", metrics);
    fprintf(f, "  \"eval_seconds\": %.6f,\n", eval_seconds);
  }
  if (baseline) write_metrics_json(f, "baseline_popular", baseline);
  if (knn) {
    write_metrics_json(f, "baseline_item_knn", knn);
    fprintf(f, "  \"baseline_item_knn_neighbours\": %d,\n", knn_k);
  }
  if (groups) {
    gr_group_report_json(f, groups);
    fputs(",\n", f);
  }
  fprintf(f, "  \"version\": \"%d.%d.%d\"\n}\n", GPUREC_VERSION_MAJOR, GPUREC_VERSION_MINOR,
          GPUREC_VERSION_PATCH);
  return gr_output_commit(&out);
}

/* ---- als fit -------------------------------------------------------------- */

static int als_fit_cmd(int argc, char **argv) {
  const char *cmd = "als fit";
  const char *input = NULL, *model_path = NULL, *json = NULL;
  als_args a;
  gr_common_args common;
  gr_common_args_default(&common);
  gr_data_args d;
  gr_data_args_default(&d);
  gr_opt opts[40] = {{"--input", OPT_STR, &input, "interactions CSV"},
                     {"--model", OPT_OUT, &model_path, "output model file"},
                     {"--json", OPT_OUT, &json, "also write a JSON report (timings, parameters)"}};
  int n = als_args_add(opts, 3, &a);
  n = gr_data_args_add(opts, n, &d);
  n = gr_common_args_add(opts, n, &common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Trains implicit-feedback ALS (Hu, Koren, Volinsky 2008) with the "
                         "`implicit` package's\nobjective and parameter names.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if ((rc = als_args_finish(&a, cmd)) != GR_EXIT_OK) return rc;
  if (!model_path) {
    fprintf(stderr, "gpurec %s: --model FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  gr_context *ctx = gr_common_context(&common, cmd);
  if (!ctx) return GR_EXIT_FAIL;
  gr_interactions *data = gr_data_read(&d, input, cmd);
  if (!data) {
    gr_context_free(ctx);
    return GR_EXIT_FAIL;
  }
  gr_als_model *m = NULL;
  fit_log log;
  gr_status st = fit(ctx, &a, data, &common, &log, &m);
  if (st == GR_OK) st = gr_als_model_save(m, model_path);
  if (st == GR_OK && json)
    st = write_report(json, ctx, &common, data, m, &log, NULL, 0.0, NULL, NULL, 0, NULL);
  if (st == GR_OK && !common.quiet)
    fprintf(stderr, "gpurec: %.3f s per iteration; model written to %s\n", mean_seconds(&log),
            model_path);
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
  gr_als_model_free(m);
  gr_context_free(ctx);
  gr_interactions_free(data);
  return rc;
}

/* ---- als recommend -------------------------------------------------------- */

static int als_recommend_cmd(int argc, char **argv) {
  const char *cmd = "als recommend";
  const char *model_path = NULL, *seen_path = NULL, *users = NULL, *users_file = NULL;
  const char *items_file = NULL, *new_users = NULL, *format = "csv", *out_path = "-";
  int k = 10, include_seen = 0;
  gr_ranked_request req = {0};
  gr_common_args common;
  gr_common_args_default(&common);
  gr_data_args d;
  gr_data_args_default(&d);
  gr_opt opts[40] = {
      {"--model", OPT_STR, &model_path, "model file from gpurec als fit"},
      {"--input", OPT_STR, &seen_path,
       "interactions whose items are excluded (usually the training data)"},
      {"--users", OPT_STR, &users, "comma-separated user ids (default: every user)"},
      {"--users-file", OPT_STR, &users_file, "file with one user id per line"},
      {"--new-users", OPT_STR, &new_users,
       "CSV of new or changed users' interactions: scored without retraining"},
      {"--items-file", OPT_STR, &items_file, "only recommend items listed in this file"},
      {"--exclude-items", OPT_STR, &req.exclude_file,
       "never recommend the items listed in this file (e.g. out of stock; one id per line)"},
      {"--k", OPT_INT, &k, "items per user (1..1024)"},
      {"--include-seen", OPT_FLAG, &include_seen, "do not exclude items the user interacted with"},
      {"--format", OPT_STR, &format, "csv (user,rank,item,score) or jsonl"},
      {"--out", OPT_OUT, &out_path, "output file (- = stdout)"},
      {"--item-groups", OPT_STR, &req.groups_path,
       "CSV mapping items to groups: adds each item's groups (a group column)"},
      {"--group-col", OPT_STR, &req.group_col, "group column of --item-groups"},
      {"--group-item-col", OPT_STR, &req.group_item_col,
       "item column of --item-groups (default: --item-col, else item or item_id)"},
      {"--explain", OPT_INT, &req.explain,
       "also the N past items that contribute most to each ranked item (0 = none)"},
  };
  int n = gr_data_args_add(opts, 15, &d);
  n = gr_common_args_add(opts, n, &common);
  int rc = gr_args_parse(argc, argv, cmd, "Top-k items per user, seen items excluded.", opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  req.command = cmd;
  req.model_path = model_path;
  req.format = format;
  req.out_path = out_path;
  req.k = k;
  req.quiet = common.quiet;
  if (!req.group_item_col) req.group_item_col = d.item_col;
  if (!model_path) {
    fprintf(stderr, "gpurec %s: --model FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  gr_context *ctx = gr_common_context(&common, cmd);
  if (!ctx) return GR_EXIT_FAIL;
  rc = gr_run_recommend(ctx, &req, &d, seen_path, users, users_file, items_file, new_users,
                        include_seen);
  gr_context_free(ctx);
  return rc;
}

/* ---- als similar ---------------------------------------------------------- */

static int als_similar_cmd(int argc, char **argv) {
  const char *cmd = "als similar";
  const char *model_path = NULL, *items = NULL, *items_file = NULL, *format = "csv",
             *out_path = "-";
  int k = 10, include_self = 0;
  gr_ranked_request req = {0};
  gr_common_args common;
  gr_common_args_default(&common);
  gr_opt opts[16] = {
      {"--model", OPT_STR, &model_path, "model file from gpurec als fit"},
      {"--items", OPT_STR, &items, "comma-separated item ids (default: every item)"},
      {"--items-file", OPT_STR, &items_file, "file with one item id per line"},
      {"--k", OPT_INT, &k, "similar items per item (1..1024)"},
      {"--include-self", OPT_FLAG, &include_self, "keep the query item in its own list"},
      {"--format", OPT_STR, &format, "csv (item,rank,similar_item,score) or jsonl"},
      {"--out", OPT_OUT, &out_path, "output file (- = stdout)"},
      {"--item-groups", OPT_STR, &req.groups_path,
       "CSV mapping items to groups: adds each similar item's groups"},
      {"--group-col", OPT_STR, &req.group_col, "group column of --item-groups"},
      {"--group-item-col", OPT_STR, &req.group_item_col,
       "item column of --item-groups (default: item or item_id)"},
  };
  int n = gr_common_args_add(opts, 10, &common);
  int rc = gr_args_parse(argc, argv, cmd, "Top-k most similar items by cosine of item factors.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!model_path) {
    fprintf(stderr, "gpurec %s: --model FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  req.command = cmd;
  req.model_path = model_path;
  req.format = format;
  req.out_path = out_path;
  req.k = k;
  gr_context *ctx = gr_common_context(&common, cmd);
  if (!ctx) return GR_EXIT_FAIL;
  rc = gr_run_similar(ctx, &req, items, items_file, include_self);
  gr_context_free(ctx);
  return rc;
}

/* ---- als eval ------------------------------------------------------------- */

/* One figure per line: name@k padded to a column, the model's value, the
 * baselines' (when measured: b[0] popularity, b[1] item kNN), a note. */
static void print_figure(const char *name, int k, const gr_metrics *const *col, int n_cols,
                         size_t at, const char *note) {
  char label[48];
  snprintf(label, sizeof label, k > 0 ? "%s@%d" : "%s", name, k);
  printf("%-21s", label);
  for (int c = 0; c < n_cols; c++)
    printf("%s%.4f", c ? "   " : " ", *(const double *)((const char *)col[c] + at));
  printf("%s%s\n", note ? "   " : "", note ? note : "");
}

/* The figures; b (may be NULL) the popularity baseline's and knn the item
 * kNN baseline's, in more columns. */
static void print_metrics(const gr_metrics *m, const gr_metrics *b, const gr_metrics *knn) {
  const int k = m->k;
  const gr_metrics *col[3] = {m, b, knn};
  const int n = b ? 3 : 1;
  char auc_note[64];
  snprintf(auc_note, sizeof auc_note, "(over %lld users)", (long long)m->auc_users);
  printf("%-21s %lld\n", "users evaluated", (long long)m->n_users);
  if (b) printf("%-21s %-6s   %-6s  %s\n", "", "model", "popular", "item_knn");
  print_figure("precision", k, col, n, offsetof(gr_metrics, precision), NULL);
  print_figure("precision_implicit", k, col, n, offsetof(gr_metrics, precision_implicit),
               "(hits / min(k, test items), as the implicit package)");
  print_figure("recall", k, col, n, offsetof(gr_metrics, recall), NULL);
  print_figure("map", k, col, n, offsetof(gr_metrics, map), NULL);
  print_figure("ndcg", k, col, n, offsetof(gr_metrics, ndcg), NULL);
  print_figure("hit_rate", k, col, n, offsetof(gr_metrics, hit_rate), NULL);
  print_figure("roc_auc", 0, col, n, offsetof(gr_metrics, auc), auc_note);
  print_figure("coverage", k, col, n, offsetof(gr_metrics, coverage),
               "(share of the items in some user's top k)");
}

static int als_eval_cmd(int argc, char **argv) {
  const char *cmd = "als eval";
  const char *model_path = NULL, *json = NULL;
  const char *groups_path = NULL, *group_col = NULL, *group_item_col = NULL;
  int baseline = 0, knn_k = 20;
  als_args a;
  gr_holdout_args h;
  gr_holdout_args_default(&h);
  const gr_eval_options *eo = &h.eo;
  gr_common_args common;
  gr_common_args_default(&common);
  gr_data_args d;
  gr_data_args_default(&d);
  gr_opt opts[48] = {
      {"--model", OPT_STR, &model_path, "evaluate this model instead of training one"},
      {"--json", OPT_OUT, &json, "also write the metrics and timings as JSON"},
      {"--item-groups", OPT_STR, &groups_path,
       "CSV mapping items to groups (e.g. business units): adds figures per group"},
      {"--group-col", OPT_STR, &group_col,
       "group column of --item-groups (default: the other one)"},
      {"--group-item-col", OPT_STR, &group_item_col,
       "item column of --item-groups (default: --item-col, else item or item_id)"},
      {"--baseline", OPT_FLAG, &baseline,
       "also measure two baselines beside the model: popularity (the most popular unseen "
       "items) and item kNN (cosine neighbours of the user's items)"},
      {"--knn-neighbours", OPT_INT, &knn_k, "neighbours per item of the item kNN baseline"},
  };
  int n = gr_holdout_args_add(opts, 7, &h, "all interactions: split, train, evaluate");
  n = als_args_add(opts, n, &a);
  n = gr_data_args_add(opts, n, &d);
  n = gr_common_args_add(opts, n, &common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Evaluates ALS on held-out interactions: precision, recall, MAP, NDCG, "
                         "hit rate at k,\nand ROC AUC. Either --input (split here) or --train and "
                         "--test.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if ((rc = als_args_finish(&a, cmd)) != GR_EXIT_OK) return rc;
  if (knn_k < 1 || knn_k > GR_ITEM_KNN_MAX) {
    fprintf(stderr, "gpurec %s: --knn-neighbours must be in 1..%d\n", cmd, GR_ITEM_KNN_MAX);
    return GR_EXIT_USAGE;
  }
  if (model_path && h.input) {
    fprintf(stderr,
            "gpurec %s: give either --input FILE, or --train FILE --test FILE "
            "(optionally with --model)\n",
            cmd);
    return GR_EXIT_USAGE;
  }
  if ((rc = gr_holdout_args_check(&h, cmd)) != GR_EXIT_OK) return rc;
  gr_interactions *train = NULL, *test = NULL;
  gr_als_model *m = NULL;
  gr_context *ctx = NULL;
  gr_group_report groups = {0};
  fit_log log;
  gr_status st = GR_OK;
  rc = GR_EXIT_FAIL;
  if (!(ctx = gr_common_context(&common, cmd))) goto done;
  if ((st = gr_holdout_read(&h, &d, cmd, NULL, &train, &test)) == GR_ERR_PARSE) goto done;
  if (st == GR_OK)
    st = model_path ? gr_als_model_load(&m, model_path) : fit(ctx, &a, train, &common, &log, &m);
  if (st == GR_OK && groups_path)
    st = gr_group_report_init(&groups, m, groups_path, group_item_col ? group_item_col : d.item_col,
                              group_col);
  gr_metrics metrics;
  const double t0 = gr_now_seconds();
  if (st == GR_OK)
    st = gr_als_evaluate_grouped(ctx, m, train, test, eo->k, groups_path ? &groups.sums : NULL,
                                 &metrics);
  if (st == GR_OK && groups_path) st = gr_group_report_finish(&groups, m);
  const double eval_seconds = gr_now_seconds() - t0;
  if (st == GR_OK && !common.quiet)
    fprintf(stderr, "gpurec: evaluated %lld users in %.2f s\n", (long long)metrics.n_users,
            eval_seconds);
  gr_metrics popular, knn;
  if (st == GR_OK && baseline) {
    gr_als_model *pop = NULL;
    st = gr_popularity_model(m, train, &pop);
    if (st == GR_OK) st = gr_als_evaluate(ctx, pop, train, test, eo->k, &popular);
    gr_als_model_free(pop);
    const double t1 = gr_now_seconds();
    if (st == GR_OK) st = gr_item_knn_evaluate(ctx, m, train, test, knn_k, eo->k, &knn);
    if (st == GR_OK && !common.quiet)
      fprintf(stderr, "gpurec: item kNN baseline (%d neighbours) in %.2f s\n", knn_k,
              gr_now_seconds() - t1);
  }
  if (st == GR_OK) print_metrics(&metrics, baseline ? &popular : NULL, baseline ? &knn : NULL);
  if (st == GR_OK && groups_path) gr_group_report_print(stdout, &groups, eo->k);
  if (st == GR_OK && json)
    st = write_report(json, ctx, &common, train, m, model_path ? NULL : &log, &metrics,
                      eval_seconds, baseline ? &popular : NULL, baseline ? &knn : NULL, knn_k,
                      groups_path ? &groups : NULL);
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
done:
  gr_group_report_free(&groups);
  gr_als_model_free(m);
  gr_context_free(ctx);
  gr_interactions_free(train);
  gr_interactions_free(test);
  return rc;
}

int gr_cmd_als(int argc, char **argv) {
  if (argc >= 1) {
    if (strcmp(argv[0], "fit") == 0) return als_fit_cmd(argc - 1, argv + 1);
    if (strcmp(argv[0], "recommend") == 0) return als_recommend_cmd(argc - 1, argv + 1);
    if (strcmp(argv[0], "similar") == 0) return als_similar_cmd(argc - 1, argv + 1);
    if (strcmp(argv[0], "eval") == 0) return als_eval_cmd(argc - 1, argv + 1);
    if (strcmp(argv[0], "tune") == 0) return gr_cmd_als_tune(argc - 1, argv + 1);
    if (strcmp(argv[0], "export") == 0) return gr_cmd_als_export(argc - 1, argv + 1);
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
      printf("usage: gpurec als fit|recommend|similar|eval|tune|export [options]\n\n"
             "  fit        train a model from interactions\n"
             "  recommend  top-k items per user (seen items excluded)\n"
             "  similar    top-k similar items\n"
             "  eval       holdout evaluation: precision, recall, MAP, NDCG, hit rate, AUC\n"
             "  tune       a grid of settings on one holdout split, ranked by a metric\n"
             "  export     factors and ids as NumPy arrays or CSV, parameters as JSON\n\n"
             "Each has --help.\n");
      return GR_EXIT_OK;
    }
  }
  fprintf(stderr,
          "gpurec als: expected fit, recommend, similar, eval, tune or export (see gpurec als "
          "--help)\n");
  return GR_EXIT_USAGE;
}
