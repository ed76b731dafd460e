/* gpurec: the command-line entry point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "common/error.h"
#include "host/build_info.h"
#include "host/output_file.h"
#include "kernels/cpu/blas_tune.h"

static void usage(FILE *f) {
  fprintf(f,
          "gpurec %d.%d.%d: GPU-accelerated training and scoring for recommender systems\n\n"
          "usage: gpurec <command> [options]\n\n"
          "commands:\n"
          "  demo                 generate data, train, evaluate and recommend (a quick tour)\n"
          "  gen interactions     synthetic implicit-feedback events with planted structure\n"
          "  gen market           synthetic market table with planted client portfolios\n"
          "  split                per-user holdout split into train and test CSV files\n"
          "  stats                describe an interactions file (and how fast it reads)\n"
          "  als fit              train implicit-feedback ALS\n"
          "  als recommend        top-k items per user, seen items excluded\n"
          "  als similar          top-k similar items\n"
          "  als eval             precision, recall, MAP, NDCG, hit rate at k, ROC AUC\n"
          "  als tune             a grid of ALS settings on one split, ranked by a metric\n"
          "  als export           factors and ids as NumPy arrays or CSV (for Python)\n"
          "  describe             column kinds and features of a table (market CSV)\n"
          "  kmeans               KMeans on the numeric columns of a CSV\n"
          "  logreg               L2 logistic regression on the numeric columns of a CSV\n"
          "  leads fit            fit the leads model on a market and a client portfolio\n"
          "  leads score          rank a market's companies with a fitted leads model\n"
          "  leads eval           lead quality on a holdout of the portfolio (MAP, AUC)\n"
          "  leads tune           a grid of leads settings on held-out clients, ranked\n"
          "  leads export         coefficients, centroids and the encoded market (for Python)\n\n"
          "Every command has --help. Compute commands take --device auto|cpu|cuda and "
          "--threads N.\n",
          GPUREC_VERSION_MAJOR, GPUREC_VERSION_MINOR, GPUREC_VERSION_PATCH);
}

/* Restarts once with the OpenBLAS settings gpurec wants, which OpenBLAS
 * reads only when it loads (see blas_tune.h):
 * - OPENBLAS_CORETYPE naming this CPU's kernels when it fell back to
 *   generic ones;
 * - OPENBLAS_THREAD_TIMEOUT=4 when it runs threads of its own: they spin
 *   2^28 cycles (about 0.1 s) after it loads and after every threaded call
 *   before they sleep, while gpurec's own (OpenMP) threads do the parallel
 *   work; on 2 cores that spin took 0.1 s of one from the leads read;
 * - OMP_WAIT_POLICY=passive, for the same reason the other way round: idle
 *   OpenMP threads spun beside OpenBLAS's while it ran the evaluation's
 *   AUC products (als eval on the medium bench: 1.20 s -> 1.06 s; the ALS
 *   fit and the leads pipeline measured the same either way).
 * A variable the user set is kept; a failed restart only keeps OpenBLAS's
 * defaults. GPUREC_KEEP_BLAS=1 turns it off. */
static void tune_blas(char **argv) {
  if (getenv("GPUREC_KEEP_BLAS")) return;
  int restart = 0;
  const char *core = getenv("OPENBLAS_CORETYPE") ? NULL : gr_blas_better_coretype();
  if (core && setenv("OPENBLAS_CORETYPE", core, 1) == 0) restart = 1;
  if (!getenv("OPENBLAS_THREAD_TIMEOUT") && gr_blas_threads() > 1 &&
      setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1) == 0)
    restart = 1;
  if (!getenv("OMP_WAIT_POLICY") && gr_blas_threads() > 1 &&
      setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
    restart = 1;
  if (restart) execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
  tune_blas(argv);
  gr_output_guard_signals(); /* killed while writing: no temporary left behind */
  if (argc < 2) {
    usage(stderr);
    return GR_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return GR_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("gpurec %d.%d.%d\n", GPUREC_VERSION_MAJOR, GPUREC_VERSION_MINOR, GPUREC_VERSION_PATCH);
    gr_print_build_info(stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      fprintf(stderr, "gpurec: cannot write to standard output\n");
      return GR_EXIT_FAIL;
    }
    return GR_EXIT_OK;
  }
  /* the demo's steps read what the ones before wrote: its outputs land as
   * they are written */
  if (strcmp(cmd, "demo") == 0) return gr_cmd_demo(argc - 2, argv + 2);
  static const struct {
    const char *name;
    int (*run)(int, char **);
  } commands[] = {{"gen", gr_cmd_gen},     {"split", gr_cmd_split},       {"als", gr_cmd_als},
                  {"stats", gr_cmd_stats}, {"describe", gr_cmd_describe}, {"kmeans", gr_cmd_kmeans},
                  {"leads", gr_cmd_leads}, {"logreg", gr_cmd_logreg}};
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(cmd, commands[i].name) != 0) continue;
    /* a command's outputs land together when it succeeds, or not at all */
    gr_output_hold();
    int rc = commands[i].run(argc - 2, argv + 2);
    if (rc != GR_EXIT_OK) {
      gr_output_drop();
    } else if (gr_output_release() != GR_OK) {
      /* the command words: "als tune", not "als" */
      const int two =
          argc > 2 && argv[2][0] != '-' &&
          (strcmp(cmd, "als") == 0 || strcmp(cmd, "leads") == 0 || strcmp(cmd, "gen") == 0);
      fprintf(stderr, "gpurec %s%s%s: %s\n", cmd, two ? " " : "", two ? argv[2] : "",
              gr_last_error());
      rc = GR_EXIT_FAIL;
    }
    return rc;
  }
  fprintf(stderr, "gpurec: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return GR_EXIT_USAGE;
}
