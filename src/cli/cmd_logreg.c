/* gpurec logreg: L2-regularized logistic regression (scikit-learn's
 * objective) on the numeric columns of any CSV with a 0/1 or True/False
 * label column; prints the coefficients and the training log-loss, and
 * writes them (and the probabilities) on request. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "common/error.h"
#include "host/logreg.h"
#include "host/output_file.h"
#include "numeric_table.h"

/* y from a bool or 0/1 number column, with no gaps. */
static gr_status labels_of(const gr_table *t, const char *path, int c, uint8_t *y) {
  const gr_column *col = &t->cols[c];
  if (col->kind != GR_COL_BOOL && col->kind != GR_COL_NUMBER)
    return gr_fail(GR_ERR_INVALID_ARG, "%s: label column '%s' must hold 0/1 or True/False", path,
                   col->name);
  for (int64_t r = 0; r < t->n_rows; r++) {
    const double v = col->num[r];
    if (isnan(v))
      return gr_fail(GR_ERR_INVALID_ARG,
                     "%s: label column '%s', data row %lld: the label is missing", path, col->name,
                     (long long)r + 1);
    if (v != 0 && v != 1)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "%s: label column '%s', data row %lld: expected 0 or 1, found %.17g", path,
                     col->name, (long long)r + 1, v);
    y[r] = (uint8_t)v;
  }
  return GR_OK;
}

static gr_status write_coef(const char *path, const gr_table *t, const int *cols,
                            const gr_logreg_model *m) {
  gr_output_file out;
  GR_TRY(gr_output_open(&out, path));
  fputs("feature,coefficient\n", out.f);
  for (int j = 0; j < m->d; j++) {
    gr_write_csv_field(out.f, t->cols[cols[j]].name);
    fprintf(out.f, ",%.10g\n", m->w[j]);
  }
  fprintf(out.f, "(intercept),%.10g\n", m->b);
  return gr_output_commit(&out);
}

static gr_status write_prob(const char *path, const gr_table *t, const float *p) {
  gr_output_file out;
  GR_TRY(gr_output_open(&out, path));
  fputs("row,probability\n", out.f);
  for (int64_t r = 0; r < t->n_rows; r++)
    fprintf(out.f, "%lld,%.7g\n", (long long)r, (double)p[r]);
  return gr_output_commit(&out);
}

int gr_cmd_logreg(int argc, char **argv) {
  const char *cmd = "logreg";
  const char *input = NULL, *label = NULL, *coef_path = NULL, *prob_path = NULL;
  const char *solver = "auto";
  int balanced = 0;
  gr_logreg_params p;
  gr_logreg_params_default(&p);
  float C = (float)p.C;
  gr_table_options to;
  gr_table_options_default(&to);
  gr_common_args common;
  gr_common_args_default(&common);
  gr_opt opts[17] = {
      {"--input", OPT_STR, &input, "CSV with a header; its numeric and boolean columns are used"},
      {"--label", OPT_STR, &label, "the 0/1 (or True/False) column to predict"},
      {"--C", OPT_FLOAT, &C, "inverse L2 strength, as scikit-learn's C"},
      {"--balanced", OPT_FLAG, &balanced, "class_weight=\"balanced\""},
      {"--solver", OPT_STR, &solver, "newton, lbfgs or auto (newton up to 1024 features)"},
      {"--max-iter", OPT_INT, &p.max_iter,
       "iterations at most (0: 100 Newton steps or 1000 L-BFGS iterations)"},
      {"--tol", OPT_DOUBLE, &p.tol, "stop at max |gradient| <= tol"},
      {"--hessian-sample", OPT_DOUBLE, &p.hessian_sample,
       "curvature sampling of the Newton Hessian (0: exact; same optimum)"},
      {"--coef", OPT_OUT, &coef_path, "output: feature,coefficient (intercept last)"},
      {"--predict", OPT_OUT, &prob_path, "output: row,probability"},
      {"--id-col", OPT_STR, &to.id_name, "name of the row id column"},
      {"--kinds", OPT_STR, &to.kinds, "forced column kinds, e.g. notes=skip"},
      {"--kinds-file", OPT_STR, &to.kinds_file, "forced kinds from a file, one name=kind a line"},
  };
  int n = gr_common_args_add(opts, 13, &common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "L2 logistic regression (scikit-learn's LogisticRegression objective, "
                         "Newton's method or L-BFGS)\non the numeric columns of a CSV.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!input || !label) {
    fprintf(stderr, "gpurec %s: --input FILE and --label COLUMN are required\n", cmd);
    return GR_EXIT_USAGE;
  }
  if (gr_logreg_solver_parse(solver, &p.solver) != 0) {
    fprintf(stderr, "gpurec %s: --solver expects newton, lbfgs or auto, got '%s'\n", cmd, solver);
    return GR_EXIT_USAGE;
  }
  p.C = C;
  p.balanced = balanced;
  gr_context *ctx = gr_common_context(&common, cmd);
  if (!ctx) return GR_EXIT_FAIL;
  gr_table *t = NULL;
  float *X = NULL, *prob = NULL;
  int *cols = NULL, d = 0;
  uint8_t *y = NULL;
  gr_logreg_model m = {0};
  gr_status st = gr_table_read_csv(&t, input, &to);
  const int lc = st == GR_OK ? gr_table_find(t, label) : -1;
  if (st == GR_OK && lc < 0)
    st = gr_fail(GR_ERR_INVALID_ARG, "%s has no column '%s'", input, label);
  if (st == GR_OK) st = gr_numeric_matrix(t, input, lc, &X, &cols, &d);
  if (st == GR_OK) {
    y = malloc((size_t)t->n_rows + 1);
    prob = malloc(sizeof(float) * ((size_t)t->n_rows + 1));
    if (!y || !prob) st = gr_fail(GR_ERR_NOMEM, "cannot allocate labels");
  }
  if (st == GR_OK) st = labels_of(t, input, lc, y);
  const int64_t seg[2] = {0, t ? t->n_rows : 0};
  p.stop = &gr_cli_interrupted;
  gr_cli_catch_sigint(); /* Ctrl-C: stop after the Newton step in progress, nothing written */
  if (st == GR_OK) st = gr_logreg_fit_groups(ctx, X, y, NULL, seg, 1, d, &p, &m);
  gr_cli_release_sigint();
  if (st == GR_OK) {
    gr_logreg_predict(&m, X, t->n_rows, prob);
    double loss = 0;
    for (int64_t r = 0; r < t->n_rows; r++) {
      const double q = y[r] ? prob[r] : 1.0 - prob[r];
      loss -= log(q > 1e-300 ? q : 1e-300);
    }
    const gr_logreg_solver used = gr_logreg_solver_for(&p, d);
    printf("rows %lld, features %d, %s %d, max |gradient| %.3g, %s\n", (long long)t->n_rows, d,
           gr_logreg_iteration_unit(used), m.iterations, m.grad_norm,
           gr_logreg_converged(&m) ? "converged" : "NOT converged");
    if (!gr_logreg_converged(&m)) {
      char why[320];
      gr_logreg_describe_stop(&m, used, p.tol, why, sizeof why);
      fprintf(stderr, "%s: warning: not converged: %s\n", cmd, why);
    }
    printf("log-loss %.6f\n", loss / (double)t->n_rows);
    for (int j = 0; j < d; j++)
      printf("%-32s %12.6f\n", t->cols[cols[j]].name, m.w[j]);
    printf("%-32s %12.6f\n", "(intercept)", m.b);
  }
  if (st == GR_OK && coef_path) st = write_coef(coef_path, t, cols, &m);
  if (st == GR_OK && prob_path) st = write_prob(prob_path, t, prob);
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
  gr_logreg_model_free(&m);
  free(X);
  free(prob);
  free(cols);
  free(y);
  gr_table_free(t);
  gr_context_free(ctx);
  return rc;
}
