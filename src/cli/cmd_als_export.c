/* gpurec als export: a model's factors and ids as files that Python and
 * other tools read without gpurec (NumPy .npy arrays with id lists, or
 * CSV), and its parameters as JSON. The factors are the model's own floats:
 * a user's score for an item is the dot product of their rows. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "common/error.h"
#include "data_args.h"
#include "export_dir.h"
#include "grid_args.h"
#include "host/als_model.h"
#include "host/npy.h"

/* ids as a CSV of (index, id), the row order of the factor arrays */
static void write_ids(FILE *f, const char *column, const gr_id_map *ids, int32_t n) {
  fprintf(f, "index,%s\n", column);
  for (int32_t i = 0; i < n; i++) {
    fprintf(f, "%d,", i);
    gr_write_csv_field(f, gr_id_map_get(ids, i));
    fputc('\n', f);
  }
}

/* id,f0,f1,... one row per id, each float in 9 significant digits (exact) */
static void write_factor_csv(FILE *f, const char *column, const gr_id_map *ids,
                             const float *factors, int32_t n, int k) {
  fputs(column, f);
  for (int j = 0; j < k; j++)
    fprintf(f, ",f%d", j);
  fputc('\n', f);
  for (int32_t i = 0; i < n; i++) {
    gr_write_csv_field(f, gr_id_map_get(ids, i));
    for (int j = 0; j < k; j++)
      fprintf(f, ",%.9g", (double)factors[(size_t)i * k + j]);
    fputc('\n', f);
  }
}

static void write_params(FILE *f, const gr_als_model *m) {
  const gr_als_params *p = &m->params;
  char reg[32], alpha[32], eps[32], offset[32]; /* as the options read them back */
  gr_format_shortest(reg, sizeof reg, p->regularization, 1);
  gr_format_shortest(alpha, sizeof alpha, p->alpha, 1);
  gr_format_shortest(eps, sizeof eps, p->log_epsilon > 0 ? p->log_epsilon : 0, 1);
  gr_format_shortest(offset, sizeof offset, p->confidence_offset, 1);
  fprintf(f,
          "{\n  \"kind\": \"als\",\n  \"users\": %d,\n  \"items\": %d,\n  \"factors\": %d,\n"
          "  \"regularization\": %s,\n  \"alpha\": %s,\n  \"confidence\": \"%s\",\n"
          "  \"epsilon\": %s,\n  \"confidence_offset\": %s,\n  \"iterations\": %d,\n"
          "  \"solver\": \"%s\",\n  \"cg_steps\": %d,\n  \"random_state\": %llu\n}\n",
          m->n_users, m->n_items, p->factors, reg, alpha, p->log_epsilon > 0 ? "log" : "linear",
          eps, offset, m->iterations_done, p->solver == GR_SOLVER_CG ? "cg" : "cholesky",
          p->cg_steps, (unsigned long long)p->random_state);
}

static gr_status export_model(const gr_als_model *m, const char *dir, int npy) {
  gr_export_dir e;
  GR_TRY(gr_export_dir_open(&e, dir));
  const int k = m->params.factors;
  gr_status st = GR_OK;
  FILE *f;
  if (npy) {
    if ((f = gr_export_file(&e, "user_factors.npy", &st)))
      gr_npy_write(f, GR_NPY_F32, m->user_factors, m->n_users, k);
    if (st == GR_OK && (f = gr_export_file(&e, "item_factors.npy", &st)))
      gr_npy_write(f, GR_NPY_F32, m->item_factors, m->n_items, k);
    if (st == GR_OK && (f = gr_export_file(&e, "users.csv", &st)))
      write_ids(f, "user", &m->users, m->n_users);
    if (st == GR_OK && (f = gr_export_file(&e, "items.csv", &st)))
      write_ids(f, "item", &m->items, m->n_items);
  } else {
    if ((f = gr_export_file(&e, "user_factors.csv", &st)))
      write_factor_csv(f, "user", &m->users, m->user_factors, m->n_users, k);
    if (st == GR_OK && (f = gr_export_file(&e, "item_factors.csv", &st)))
      write_factor_csv(f, "item", &m->items, m->item_factors, m->n_items, k);
  }
  if (st == GR_OK && (f = gr_export_file(&e, "model.json", &st))) write_params(f, m);
  if (st == GR_OK) return gr_export_dir_commit(&e);
  gr_export_dir_abort(&e);
  return st;
}

int gr_cmd_als_export(int argc, char **argv) {
  const char *cmd = "als export";
  const char *model_path = NULL, *out = NULL, *format = "npy";
  int quiet = 0;
  const gr_opt opts[] = {
      {"--model", OPT_STR, &model_path, "model file from gpurec als fit"},
      {"--out", OPT_STR, &out, "directory to write (made if missing)"},
      {"--format", OPT_STR, &format,
       "npy (user_factors.npy, item_factors.npy, users.csv, items.csv) or csv "
       "(user_factors.csv, item_factors.csv: id,f0,f1,...)"},
      {"--quiet", OPT_FLAG, &quiet, "no summary on stderr"},
  };
  int rc = gr_args_parse(argc, argv, cmd,
                         "Writes a model's user and item factors and ids for other tools, with "
                         "its parameters\nin model.json. In Python: "
                         "np.load(\"user_factors.npy\") @ np.load(\"item_factors.npy\").T\n"
                         "are the model's scores.",
                         opts, (int)(sizeof opts / sizeof opts[0]));
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!model_path || !out) {
    fprintf(stderr, "gpurec %s: --model and --out are required\n", cmd);
    return GR_EXIT_USAGE;
  }
  if (strcmp(format, "npy") != 0 && strcmp(format, "csv") != 0) {
    fprintf(stderr, "gpurec %s: --format expects npy or csv, got '%s'\n", cmd, format);
    return GR_EXIT_USAGE;
  }
  gr_als_model *m = NULL;
  gr_status st = gr_als_model_load(&m, model_path);
  if (st == GR_OK) st = export_model(m, out, format[0] == 'n');
  if (st == GR_OK && !quiet)
    fprintf(stderr, "als export: %d users and %d items, %d factors each, written to %s/ (%s)\n",
            m->n_users, m->n_items, m->params.factors, out, format);
  gr_als_model_free(m);
  return st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
}
