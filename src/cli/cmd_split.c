/* gpurec split: a seeded per-user holdout written as two CSV files, so that
 * gpurec and other tools can be compared on exactly the same split. */
#include <stdio.h>

#include "args.h"
#include "commands.h"
#include "data_args.h"

int gr_cmd_split(int argc, char **argv) {
  const char *cmd = "split";
  const char *input = NULL, *train_path = NULL, *test_path = NULL;
  gr_eval_options eo;
  gr_eval_options_default(&eo);
  gr_data_args d;
  gr_data_args_default(&d);
  gr_opt opts[24] = {
      {"--input", OPT_STR, &input, "interactions CSV"},
      {"--train", OPT_OUT, &train_path, "output: training interactions CSV"},
      {"--test", OPT_OUT, &test_path, "output: held-out interactions CSV"},
      {"--test-fraction", OPT_FLOAT, &eo.test_fraction, "share of each user's items held out"},
      {"--by-time", OPT_FLAG, &eo.by_time,
       "hold out each user's latest items instead of random ones"},
      {"--seed", OPT_U64, &eo.seed, "random seed of the split"},
  };
  int n = gr_data_args_add(opts, 6, &d);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Splits interactions per user into train and test files (distinct "
                         "user-item pairs,\nweights summed). Users with one item stay in train.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!train_path || !test_path) {
    fprintf(stderr, "gpurec %s: --train FILE and --test FILE are required\n", cmd);
    return GR_EXIT_USAGE;
  }
  gr_interactions *all = gr_data_read(&d, input, cmd);
  if (!all) return GR_EXIT_FAIL;
  gr_interactions *train = NULL, *test = NULL;
  gr_status st = gr_split(all, &eo, &train, &test);
  if (st == GR_OK) st = gr_interactions_write_csv(train, train_path);
  if (st == GR_OK) st = gr_interactions_write_csv(test, test_path);
  if (st == GR_OK)
    fprintf(stderr, "gpurec: %lld training and %lld test pairs\n",
            (long long)gr_interactions_count(train), (long long)gr_interactions_count(test));
  gr_interactions_free(all);
  gr_interactions_free(train);
  gr_interactions_free(test);
  return st == GR_OK ? GR_EXIT_OK : gr_cli_fail(cmd, st);
}
