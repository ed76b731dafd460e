/* gpurec gen interactions: synthetic data with planted structure. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "host/gen_interactions.h"

static int gen_interactions(int argc, char **argv) {
  const char *cmd = "gen interactions";
  gr_gen_params p;
  gr_gen_params_default(&p);
  const char *scale = "small", *out = NULL;
  int users = 0, items = 0, topics = 0;
  int64_t events = 0;
  float noise = (float)p.noise, popularity = (float)p.popularity_exponent;
  gr_opt opts[] = {
      {"--scale", OPT_STR, &scale,
       "tiny, small, medium or lastfm (360k users, 290k items, 17.5M events)"},
      {"--users", OPT_INT, &users, "number of users (overrides the scale)"},
      {"--items", OPT_INT, &items, "number of items (overrides the scale)"},
      {"--events", OPT_I64, &events, "number of events (overrides the scale)"},
      {"--topics", OPT_INT, &topics, "planted rank: topics that items belong to"},
      {"--noise", OPT_FLOAT, &noise, "share of events outside a user's favourite topics"},
      {"--popularity", OPT_FLOAT, &popularity, "Zipf exponent of item popularity"},
      {"--seed", OPT_U64, &p.seed, "random seed"},
      {"--out", OPT_STR, &out, "output CSV (user,item,event,timestamp); - = stdout"},
  };
  int rc = gr_args_parse(argc, argv, cmd,
                         "Writes seeded implicit-feedback events with planted user and item "
                         "preferences,\npower-law item popularity and event types "
                         "(view, cart, purchase).",
                         opts, (int)(sizeof opts / sizeof opts[0]));
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!out) {
    fprintf(stderr, "gpurec %s: --out FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  gr_status st = gr_gen_scale(scale, &p);
  if (st != GR_OK) return gr_cli_fail(cmd, st);
  if (users) p.n_users = users;
  if (items) p.n_items = items;
  if (events) p.n_events = events;
  if (topics) p.n_topics = topics;
  p.noise = noise;
  p.popularity_exponent = popularity;
  st = gr_gen_interactions_csv(&p, out);
  if (st != GR_OK) return gr_cli_fail(cmd, st);
  if (strcmp(out, "-") != 0)
    fprintf(stderr, "gpurec: wrote %lld events (%d users, %d items, %d topics) to %s\n",
            (long long)p.n_events, p.n_users, p.n_items, p.n_topics, out);
  return GR_EXIT_OK;
}

int gr_cmd_gen(int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "interactions") == 0)
    return gen_interactions(argc - 1, argv + 1);
  if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
    printf("usage: gpurec gen interactions [options]\n\nGenerates synthetic datasets. See "
           "gpurec gen interactions --help.\n");
    return GR_EXIT_OK;
  }
  fprintf(stderr, "gpurec gen: expected 'interactions' (see gpurec gen --help)\n");
  return GR_EXIT_USAGE;
}
