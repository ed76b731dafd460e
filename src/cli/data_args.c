/* Interactions CSV options and output helpers. */
#include "data_args.h"

#include <string.h>

#include "kernels/backend.h" /* GR_TOPK_MAX */

void gr_data_args_default(gr_data_args *d) { memset(d, 0, sizeof *d); }

int gr_data_args_add(gr_opt *opts, int n, gr_data_args *d) {
  opts[n++] = (gr_opt){"--delimiter", OPT_STR, &d->delimiter,
                       "field delimiter: ',', ';' or 'tab' (default: detected)"};
  opts[n++] = (gr_opt){"--no-header", OPT_FLAG, &d->no_header,
                       "the file has no header row (columns: user,item[,weight[,timestamp]])"};
  opts[n++] = (gr_opt){"--user-col", OPT_STR, &d->user_col, "header name of the user id column"};
  opts[n++] = (gr_opt){"--item-col", OPT_STR, &d->item_col, "header name of the item id column"};
  opts[n++] = (gr_opt){"--weight-col", OPT_STR, &d->weight_col, "header name of the weight column"};
  opts[n++] =
      (gr_opt){"--event-col", OPT_STR, &d->event_col, "header name of the event type column"};
  opts[n++] = (gr_opt){"--timestamp-col", OPT_STR, &d->timestamp_col,
                       "header name of the timestamp column"};
  opts[n++] = (gr_opt){
      "--event-weights", OPT_STR, &d->event_weights,
      "weight of each event type, *=w for the rest, 0 drops one (default " GR_DEFAULT_EVENT_WEIGHTS
      ")"};
  return n;
}

gr_interactions *gr_data_read(const gr_data_args *d, const char *path, const char *command) {
  if (!path) {
    fprintf(stderr, "gpurec %s: an input file is required (--input FILE)\n", command);
    return NULL;
  }
  gr_csv_options o;
  gr_csv_options_default(&o);
  if (d->delimiter) {
    if (strcmp(d->delimiter, "tab") == 0 || strcmp(d->delimiter, "\\t") == 0) {
      o.delimiter = '\t';
    } else if (strlen(d->delimiter) == 1 && strchr(",;\t|", d->delimiter[0])) {
      o.delimiter = d->delimiter[0];
    } else {
      fprintf(stderr, "gpurec %s: --delimiter expects ',', ';', '|' or 'tab', got '%s'\n", command,
              d->delimiter);
      return NULL;
    }
  }
  o.has_header = d->no_header ? 0 : -1;
  o.user_col = d->user_col;
  o.item_col = d->item_col;
  o.weight_col = d->weight_col;
  o.event_col = d->event_col;
  o.timestamp_col = d->timestamp_col;
  o.event_weights = d->event_weights;
  o.default_event_weights = GR_DEFAULT_EVENT_WEIGHTS;
  gr_interactions *x = NULL;
  gr_status st = gr_interactions_read_csv(&x, path, &o);
  if (st != GR_OK) {
    gr_cli_fail(command, st);
    return NULL;
  }
  return x;
}

void gr_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      fputc('\\', f);
      fputc(*p, f);
    } else if (*p < 0x20) {
      fprintf(f, "\\u%04x", *p);
    } else {
      fputc(*p, f);
    }
  }
  fputc('"', f);
}

void gr_holdout_args_default(gr_holdout_args *h) {
  memset(h, 0, sizeof *h);
  gr_eval_options_default(&h->eo);
}

int gr_holdout_args_add(gr_opt *opts, int n, gr_holdout_args *h, const char *input_help) {
  opts[n++] = (gr_opt){"--input", OPT_STR, &h->input, input_help};
  opts[n++] = (gr_opt){"--train", OPT_STR, &h->train,
                       "training interactions (with --test; instead of --input)"};
  opts[n++] = (gr_opt){"--test", OPT_STR, &h->test, "held-out interactions"};
  opts[n++] = (gr_opt){"--k", OPT_INT, &h->eo.k, "cut-off of the ranking metrics"};
  opts[n++] = (gr_opt){"--test-fraction", OPT_FLOAT, &h->eo.test_fraction,
                       "share of each user's items held out"};
  opts[n++] = (gr_opt){"--by-time", OPT_FLAG, &h->eo.by_time, "hold out each user's latest items"};
  opts[n++] = (gr_opt){"--seed", OPT_U64, &h->eo.seed, "seed of the split"};
  return n;
}

int gr_holdout_args_check(const gr_holdout_args *h, const char *command) {
  if (!h->input == !(h->train && h->test) || (h->input && (h->train || h->test))) {
    fprintf(stderr, "gpurec %s: give either --input FILE, or --train FILE --test FILE\n", command);
    return GR_EXIT_USAGE;
  }
  if (h->eo.k < 1 || h->eo.k > GR_TOPK_MAX) {
    fprintf(stderr, "gpurec %s: --k must be in 1..%d\n", command, GR_TOPK_MAX);
    return GR_EXIT_USAGE;
  }
  return GR_EXIT_OK;
}

gr_status gr_holdout_read(const gr_holdout_args *h, const gr_data_args *d, const char *command,
                          gr_interactions **all, gr_interactions **train, gr_interactions **test) {
  *train = *test = NULL;
  if (all) *all = NULL;
  if (!h->input) {
    if (!(*train = gr_data_read(d, h->train, command))) return GR_ERR_PARSE;
    if (!(*test = gr_data_read(d, h->test, command))) return GR_ERR_PARSE;
    return GR_OK;
  }
  gr_interactions *whole = gr_data_read(d, h->input, command);
  if (!whole) return GR_ERR_PARSE;
  const gr_status st = gr_split(whole, &h->eo, train, test);
  if (all)
    *all = whole;
  else
    gr_interactions_free(whole);
  return st;
}
