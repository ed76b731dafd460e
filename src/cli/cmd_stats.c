/* gpurec stats: reads an interactions file and describes it (counts,
 * density, weights) with the read throughput. */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "data_args.h"

int gr_cmd_stats(int argc, char **argv) {
  const char *cmd = "stats";
  const char *input = NULL;
  gr_data_args d;
  gr_data_args_default(&d);
  gr_opt opts[16] = {{"--input", OPT_STR, &input, "interactions CSV"}};
  int n = gr_data_args_add(opts, 1, &d);
  int rc = gr_args_parse(argc, argv, cmd,
                         "Reads an interactions file and prints its size, users, items, events "
                         "and read speed.",
                         opts, n);
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  gr_interactions *x = gr_data_read(&d, input, cmd);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (!x) return GR_EXIT_FAIL;
  struct stat sb;
  const double bytes = stat(input, &sb) == 0 ? (double)sb.st_size : 0;
  const double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  const double users = gr_interactions_n_users(x), items = gr_interactions_n_items(x);
  const double events = (double)gr_interactions_count(x);
  printf("file      %s (%.1f MB)\n", input, bytes / 1e6);
  printf("events    %.0f\nusers     %.0f\nitems     %.0f\n", events, users, items);
  printf("density   %.3g (events / users x items)\n", events / (users * items));
  printf("read      %.3f s, %.1f MB/s on one core\n", secs, secs > 0 ? bytes / 1e6 / secs : 0);
  gr_interactions_free(x);
  return GR_EXIT_OK;
}
