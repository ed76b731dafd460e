/* gpurec gen interactions|market: synthetic data with planted structure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "commands.h"
#include "common/clock.h"
#include "host/gen_interactions.h"
#include "host/gen_market.h"
#include "host/market_schema.h"

static int gen_interactions(int argc, char **argv) {
  const char *cmd = "gen interactions";
  gr_gen_params p;
  gr_gen_params_default(&p);
  const char *scale = "small", *out = NULL, *topics_out = NULL;
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
      {"--out", OPT_OUT, &out, "output CSV (user,item,event,timestamp); - = stdout"},
      {"--topics-out", OPT_OUT, &topics_out,
       "also write each item's planted topic (item,topic), for als eval --item-groups"},
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
  if (st == GR_OK && topics_out) st = gr_gen_item_topics_csv(&p, topics_out);
  if (st != GR_OK) return gr_cli_fail(cmd, st);
  if (strcmp(out, "-") != 0)
    fprintf(stderr, "gpurec: wrote %lld events (%d users, %d items, %d topics) to %s\n",
            (long long)p.n_events, p.n_users, p.n_items, p.n_topics, out);
  return GR_EXIT_OK;
}

/* "555,566,265" into sizes; @return the count, or -1. */
static int parse_sizes(const char *s, int64_t *sizes, int cap) {
  int n = 0;
  while (*s) {
    char *end;
    errno = 0;
    const long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 1 || n == cap || (*end && *end != ',')) return -1;
    sizes[n++] = v;
    s = *end ? end + 1 : end;
  }
  return n;
}

static int gen_market(int argc, char **argv) {
  const char *cmd = "gen market";
  gr_market_gen_params p;
  gr_market_gen_params_default(&p);
  /* string defaults, so that a value given on the command line is told apart */
  static const char default_count[] = "3", default_sizes[] = "555,566,265";
  const char *out = NULL, *prefix = NULL, *sizes_arg = default_sizes, *count_arg = default_count;
  gr_opt opts[] = {
      {"--rows", OPT_I64, &p.n_rows, "companies, as many as the real market by default"},
      {"--seed", OPT_U64, &p.seed, "random seed"},
      {"--portfolios", OPT_STR, &count_arg,
       "client portfolios, 0..8 (past the sizes given, the last size repeats)"},
      {"--portfolio-sizes", OPT_STR, &sizes_arg,
       "clients per portfolio (scaled down to <= 1% of the rows)"},
      {"--threads", OPT_INT, &p.n_threads, "threads (the output does not depend on them)"},
      {"--out", OPT_OUT, &out, "output market CSV"},
      {"--portfolio-prefix", OPT_STR, &prefix,
       "write portfolio k's ids to PREFIXk.csv (,id with an index column)"},
  };
  int rc = gr_args_parse(argc, argv, cmd,
                         "Writes a seeded synthetic market table with the real market's 182 "
                         "columns (kinds,\nmissing rates and value distributions modeled on the "
                         "real sample) and client\nportfolios planted in latent segments of it, "
                         "for measuring lead quality.",
                         opts, (int)(sizeof opts / sizeof opts[0]));
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!out) {
    fprintf(stderr, "gpurec %s: --out FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  const int n = parse_sizes(sizes_arg, p.portfolio_sizes, GR_MARKET_MAX_PORTFOLIOS);
  if (n < 1) {
    fprintf(stderr, "gpurec %s: --portfolio-sizes: expected 1 to %d counts >= 1, got '%s'\n", cmd,
            GR_MARKET_MAX_PORTFOLIOS, sizes_arg);
    return GR_EXIT_USAGE;
  }
  for (int k = n; k < GR_MARKET_MAX_PORTFOLIOS; k++)
    p.portfolio_sizes[k] = p.portfolio_sizes[n - 1];
  p.n_portfolios = n;
  if (count_arg != default_count) {
    char *end;
    const long v = strtol(count_arg, &end, 10);
    if (end == count_arg || *end || v < 0 || v > GR_MARKET_MAX_PORTFOLIOS) {
      fprintf(stderr, "gpurec %s: --portfolios expects 0..%d, got '%s'\n", cmd,
              GR_MARKET_MAX_PORTFOLIOS, count_arg);
      return GR_EXIT_USAGE;
    }
    p.n_portfolios = (int)v;
  }
  int64_t sizes[GR_MARKET_MAX_PORTFOLIOS];
  gr_status st = gr_market_portfolio_sizes(&p, sizes);
  const double t0 = gr_now_seconds();
  int64_t bytes = 0;
  if (st == GR_OK) st = gr_gen_market_csv(&p, out, prefix, &bytes);
  if (st != GR_OK) return gr_cli_fail(cmd, st);
  const double secs = gr_now_seconds() - t0;
  const double mb = (double)bytes / 1e6;
  char list[160] = "none";
  for (int k = 0, len = 0; k < p.n_portfolios; k++)
    len += snprintf(list + len, sizeof list - (size_t)len, "%s%lld", k ? "," : "",
                    (long long)sizes[k]);
  fprintf(stderr,
          "gpurec: wrote %lld rows x %d columns to %s (%.1f MB) in %.2f s (%.0f MB/s); "
          "portfolios %s%s\n",
          (long long)p.n_rows, GR_MKT_N_COLUMNS, out, mb, secs, secs > 0 ? mb / secs : 0, list,
          prefix ? "" : " (not written: no --portfolio-prefix)");
  return GR_EXIT_OK;
}

int gr_cmd_gen(int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "interactions") == 0)
    return gen_interactions(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "market") == 0) return gen_market(argc - 1, argv + 1);
  if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
    printf("usage: gpurec gen interactions|market [options]\n\nGenerates synthetic datasets:\n"
           "  interactions  implicit-feedback events (see gpurec gen interactions --help)\n"
           "  market        a market table with client portfolios (see gpurec gen market "
           "--help)\n");
    return GR_EXIT_OK;
  }
  fprintf(stderr, "gpurec gen: expected 'interactions' or 'market' (see gpurec gen --help)\n");
  return GR_EXIT_USAGE;
}
