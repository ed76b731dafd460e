/* gpurec describe: reads a table (a market CSV), infers each column's kind
 * and shows how the encoder would turn it into features, with the columns
 * it drops and why. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "host/encoder.h"
#include "host/table_doubts.h"
#include "host/table_kinds.h"

static const char *action_text(const gr_enc_column *ec, int forced, char *buf, size_t cap) {
  switch (ec->action) {
  case GR_ENC_SKIP:
    return ec->kind == GR_COL_ID ? "the row id" : forced ? "skipped (--kinds)" : "ignored (index)";
  case GR_ENC_DROP_MISSING:
    snprintf(buf, cap, "dropped: %.0f%% missing", 100 * ec->missing_rate);
    return buf;
  case GR_ENC_DROP_CONSTANT: return "dropped: constant";
  case GR_ENC_NUMERIC:
    snprintf(buf, cap, "%s%s",
             ec->kind == GR_COL_DATE   ? "years before the reference, standardized"
             : ec->kind == GR_COL_BOOL ? "0/1"
                                       : "standardized",
             ec->indicator ? " + missing flag" : "");
    return buf;
  case GR_ENC_ONE_HOT:
    snprintf(buf, cap, "one-hot: %d levels%s%s", ec->levels.count, ec->other ? " + other" : "",
             ec->indicator ? " + missing flag" : "");
    return buf;
  }
  return "";
}

int gr_cmd_describe(int argc, char **argv) {
  const char *cmd = "describe";
  const char *input = NULL, *kinds_out = NULL;
  gr_table_options to;
  gr_table_options_default(&to);
  gr_encoder_options eo;
  gr_encoder_options_default(&eo);
  float max_missing = (float)eo.max_missing;
  gr_opt opts[] = {
      {"--input", OPT_STR, &input, "table CSV with a header row (e.g. a market table)"},
      {"--id-col", OPT_STR, &to.id_name, "name of the row id column"},
      {"--kinds", OPT_STR, &to.kinds,
       "forced kinds, e.g. cep=category,fl_x=bool (skip, bool, number, date, category)"},
      {"--kinds-file", OPT_STR, &to.kinds_file,
       "forced kinds from a file, one name=kind per line (--kinds wins over it)"},
      {"--kinds-out", OPT_OUT, &kinds_out,
       "output: every column's kind as a kinds file, to edit and pass back with --kinds-file"},
      {"--max-missing", OPT_FLOAT, &max_missing, "drop columns missing more often than this"},
      {"--max-levels", OPT_INT, &eo.max_levels, "one-hot levels per category before 'other'"},
      {"--threads", OPT_INT, &to.n_threads, "threads reading the table (0 = OMP_NUM_THREADS)"},
  };
  int rc = gr_args_parse(argc, argv, cmd,
                         "Reads a table, infers column kinds (bool, number, date, category, id) "
                         "and shows\nthe features the encoder makes of each column.",
                         opts, (int)(sizeof opts / sizeof opts[0]));
  if (rc != GR_EXIT_OK) return rc == GR_EXIT_HELP ? GR_EXIT_OK : rc;
  if (!input) {
    fprintf(stderr, "gpurec %s: --input FILE is required\n", cmd);
    return GR_EXIT_USAGE;
  }
  if (to.n_threads < 0 || to.n_threads > GR_MAX_THREADS) {
    fprintf(stderr, "gpurec %s: --threads must be in 0..%d\n", cmd, GR_MAX_THREADS);
    return GR_EXIT_USAGE;
  }
  eo.max_missing = max_missing;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  gr_table *t = NULL;
  gr_status st = gr_table_read_csv(&t, input, &to);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  gr_encoder *e = NULL;
  if (st == GR_OK) st = gr_encoder_fit(&e, t, &eo);
  if (st == GR_OK && kinds_out) st = gr_table_write_kinds(t, kinds_out);
  if (st != GR_OK) {
    gr_table_free(t);
    return gr_cli_fail(cmd, st);
  }
  struct stat sb;
  const double mb = stat(input, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
  const double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  printf("%s: %lld rows, %d columns, read in %.3f s (%.0f MB/s)\n", input, (long long)t->n_rows,
         t->n_cols, secs, secs > 0 ? mb / secs : 0);
  printf("%-40s %-9s %8s %7s  %s\n", "column", "kind", "missing", "levels", "encoding");
  int dropped = 0, dates = 0;
  char buf[128];
  for (int c = 0; c < t->n_cols; c++) {
    const gr_enc_column *ec = &e->cols[c];
    dropped += ec->action == GR_ENC_DROP_MISSING || ec->action == GR_ENC_DROP_CONSTANT;
    printf("%-40.40s %-9s %7.1f%% %7d  %s\n", t->cols[c].name, gr_col_kind_name(t->cols[c].kind),
           100 * ec->missing_rate, t->cols[c].levels.count,
           action_text(ec, t->cols[c].forced && strcmp(t->cols[c].name, "Unnamed: 0") != 0, buf,
                       sizeof buf));
    dates += ec->action == GR_ENC_NUMERIC && ec->kind == GR_COL_DATE;
  }
  printf("%d features from %d columns; %d columns dropped\n", e->n_features, t->n_cols, dropped);
  if (dates && isfinite(e->reference_day)) {
    const time_t day = (time_t)e->reference_day * 86400;
    struct tm tm;
    char ymd[16];
    strftime(ymd, sizeof ymd, "%Y-%m-%d", gmtime_r(&day, &tm));
    printf("dates are in years before %s, the latest date in the table\n", ymd);
  }
  gr_table_warn_doubts(t, input, "", stdout);
  gr_encoder_free(e);
  gr_table_free(t);
  return GR_EXIT_OK;
}
