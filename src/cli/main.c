/* gpurec: the command-line entry point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
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
          "  describe             column kinds and features of a table (market CSV)\n"
          "  kmeans               KMeans on the numeric columns of a CSV\n"
          "  logreg               L2 logistic regression on the numeric columns of a CSV\n"
          "  leads fit            fit the leads model on a market and a client portfolio\n"
          "  leads score          rank a market's companies with a fitted leads model\n"
          "  leads eval           lead quality on a holdout of the portfolio (MAP, AUC)\n\n"
          "Every command has --help. Compute commands take --device auto|cpu|cuda and "
          "--threads N.\n",
          GPUREC_VERSION_MAJOR, GPUREC_VERSION_MINOR, GPUREC_VERSION_PATCH);
}

/* Restarts once with OPENBLAS_CORETYPE naming this CPU's kernels when
 * OpenBLAS fell back to generic ones (see blas_tune.h); a failed restart
 * only leaves the slower kernels. GPUREC_KEEP_BLAS=1 turns it off. */
static void use_fast_blas(char **argv) {
  if (getenv("OPENBLAS_CORETYPE") || getenv("GPUREC_KEEP_BLAS")) return;
  const char *core = gr_blas_better_coretype();
  if (!core || setenv("OPENBLAS_CORETYPE", core, 1) != 0) return;
  execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
  use_fast_blas(argv);
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
    return GR_EXIT_OK;
  }
  if (strcmp(cmd, "gen") == 0) return gr_cmd_gen(argc - 2, argv + 2);
  if (strcmp(cmd, "split") == 0) return gr_cmd_split(argc - 2, argv + 2);
  if (strcmp(cmd, "als") == 0) return gr_cmd_als(argc - 2, argv + 2);
  if (strcmp(cmd, "demo") == 0) return gr_cmd_demo(argc - 2, argv + 2);
  if (strcmp(cmd, "stats") == 0) return gr_cmd_stats(argc - 2, argv + 2);
  if (strcmp(cmd, "describe") == 0) return gr_cmd_describe(argc - 2, argv + 2);
  if (strcmp(cmd, "kmeans") == 0) return gr_cmd_kmeans(argc - 2, argv + 2);
  if (strcmp(cmd, "leads") == 0) return gr_cmd_leads(argc - 2, argv + 2);
  if (strcmp(cmd, "logreg") == 0) return gr_cmd_logreg(argc - 2, argv + 2);
  fprintf(stderr, "gpurec: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return GR_EXIT_USAGE;
}
