/* gpurec kmeans: KMeans on the numeric columns of any CSV with a header,
 * printing the inertia and writing labels and centroids. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "commands.h"
#include "common/clock.h"
#include "common/error.h"
#include "host/kmeans.h"
#include "host/output_file.h"
#include "host/table.h"
#include "numeric_table.h"

static gr_status write_outputs(const gr_table *t, const gr_kmeans_result *r, const int *cols,
                               const char *labels_path, const char *centroids_path) {
  if (labels_path) {
    gr_output_file out;
    GR_TRY(gr_output_open(&out, labels_path));
    fprintf(out.f, "%s,cluster\n", t->id_col >= 0 ? t->cols[t->id_col].name : "row");
    for (int64_t i = 0; i < t->n_rows; i++) {
      if (t->id_col >= 0) {
        const gr_column *id = &t->cols[t->id_col];
        gr_write_csv_field(out.f, gr_id_map_get(&id->levels, id->level[i]));
      } else {
        fprintf(out.f, "%lld", (long long)i);
      }
      fprintf(out.f, ",%d\n", r->labels[i]);
    }
    GR_TRY(gr_output_commit(&out));
  }
  if (centroids_path) {
    gr_output_file out;
    GR_TRY(gr_output_open(&out, centroids_path));
    fputs("cluster", out.f);
    for (int j = 0; j < r->d; j++) {
      fputc(',', out.f);
      gr_write_csv_field(out.f, t->cols[cols[j]].name);
    }
    fputc('\n', out.f);
    for (int c = 0; c < r->k; c++) {
      fprintf(out.f, "%d", c);
      for (int j = 0; j < r->d; j++)
        fprintf(out.f, ",%.9g", (double)r->centroids[c * r->d + j]);
      fputc('\n', out.f);
    }
    GR_TRY(gr_output_commit(&out));
  }
  return GR_OK;
}

/* Progress on stderr: the first three Lloyd steps of each restart, then a
 * line a second at most. */
typedef struct km_progress {
  double last, tol;
} km_progress;

static void print_progress(void *user, int restart, int step, double rel_shift) {
  km_progress *pr = user;
  const double now = gr_now_seconds();
  if (step > 3 && now - pr->last < 1.0) return;
  pr->last = now;
  fprintf(stderr,
          "kmeans: restart %d, step %d: the centers moved %.3g (squared, relative to the "
          "variance; stops at --tol %g)\n",
          restart, step, rel_shift, pr->tol);
}

int gr_cmd_kmeans(int argc, char **argv) {
  const char *cmd = "kmeans";
  const char *input = NULL, *labels_path = NULL, *centroids_path = NULL;
  gr_kmeans_params p;
  gr_kmeans_params_default(&p);
  gr_table_options to;
  gr_table_options_default(&to);
  gr_common_args common;
  gr_common_args_default(&common);
  float tol = (float)p.tol;
  gr_opt opts[16] = {
      {"--input", OPT_STR, &input, "CSV with a header; its numeric and boolean columns are used"},
      {"--k", OPT_INT, &p.k, "clusters"},
      {"--max-iter", OPT_INT, &p.max_iter, "Lloyd iterations at most"},
      {"--tol", OPT_FLOAT, &tol, "stop when centers move less (relative to the data's variance)"},
      {"--n-init", OPT_INT, &p.n_init, "restarts; the lowest inertia wins"},
      {"--seed", OPT_U64, &p.seed, "random seed of the k-means++ seeding"},
      {"--labels", OPT_OUT, &labels_path, "output: id,cluster per row"},
      {"--centroids", OPT_OUT, &centroids_path, "output: one row per cluster"},
      {"--id-col", OPT_STR, &to.id_name, "name of the row id column"},
      {"--kinds", OPT_STR, &to.kinds, "forced column kinds, e.g. notes=skip"},
      {"--kinds-file", OPT_STR, &to.kinds_file, "forced kinds from a file, one name=kind a line"},
  };
  int n = gr_common_args_add(opts, 11, &common);
  int rc = gr_args_parse(argc, argv, cmd,
                         "KMeans (k-means++ seeding, Lloyd iterations, restarts) on the numeric "
                         "columns of a CSV.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!input) {
    fprintf(stderr, "gpurec %s: --input FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  p.tol = tol;
  gr_context *ctx = gr_common_context(&common, cmd);
  if (!ctx) return GR_EXIT_FAIL;
  gr_table *t = NULL;
  float *X = NULL;
  int *cols = NULL, d = 0;
  gr_kmeans_result r = {0};
  gr_status st = gr_table_read_csv(&t, input, &to);
  if (st == GR_OK) st = gr_numeric_matrix(t, input, -1, &X, &cols, &d);
  p.stop = &gr_cli_interrupted;
  km_progress progress = {0, p.tol};
  if (!common.quiet) {
    p.progress = print_progress;
    p.progress_user = &progress;
  }
  gr_cli_catch_sigint(); /* Ctrl-C: stop after the Lloyd step in progress, nothing written */
  if (st == GR_OK) st = gr_kmeans_fit(ctx, X, t->n_rows, d, &p, &r);
  gr_cli_release_sigint();
  if (st == GR_OK) st = write_outputs(t, &r, cols, labels_path, centroids_path);
  if (st == GR_OK) {
    printf("rows %lld, features %d, clusters %d\ninertia %.9g\niterations %d%s\n",
           (long long)t->n_rows, d, p.k, r.inertia, r.iterations,
           r.converged ? "" : " (--max-iter reached before the centers settled within --tol)");
    for (int c = 0; c < p.k; c++) {
      int64_t size = 0;
      for (int64_t i = 0; i < t->n_rows; i++)
        size += r.labels[i] == c;
      printf("cluster %d: %lld rows\n", c, (long long)size);
    }
  }
  rc = st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
  gr_kmeans_result_free(&r);
  free(X);
  free(cols);
  gr_table_free(t);
  gr_context_free(ctx);
  return rc;
}
