/* Options that describe an interactions CSV, shared by every command that
 * reads one, and small output helpers. */
#ifndef GR_CLI_DATA_ARGS_H
#define GR_CLI_DATA_ARGS_H

#include <stdio.h>

#include "args.h"

typedef struct gr_data_args {
  const char *delimiter;
  const char *user_col, *item_col, *weight_col, *event_col, *timestamp_col;
  const char *event_weights;
  int no_header;
} gr_data_args;

#define GR_DEFAULT_EVENT_WEIGHTS "view=1,cart=4,purchase=10"

void gr_data_args_default(gr_data_args *d);
/* Appends the CSV options (room for 8 more entries). */
int gr_data_args_add(gr_opt *opts, int n, gr_data_args *d);
/* Reads `path` as the options say; prints the error and returns NULL on failure. */
gr_interactions *gr_data_read(const gr_data_args *d, const char *path, const char *command);

/* The held-out evaluation of als eval and als tune: --input split here
 * (--test-fraction, --by-time, --seed), or --train and --test files; --k. */
typedef struct gr_holdout_args {
  const char *input, *train, *test;
  gr_eval_options eo;
} gr_holdout_args;

void gr_holdout_args_default(gr_holdout_args *h);
/* Appends --input (described by input_help), --train, --test, --k,
 * --test-fraction, --by-time and --seed (room for 7 more entries). */
int gr_holdout_args_add(gr_opt *opts, int n, gr_holdout_args *h, const char *input_help);
/* Either --input, or --train with --test, and --k in range; @return
 * GR_EXIT_OK or GR_EXIT_USAGE (message printed). */
int gr_holdout_args_check(const gr_holdout_args *h, const char *command);
/* Reads the training and test sets; *all (optional) keeps --input's whole
 * data (NULL with --train/--test). @return GR_ERR_PARSE when a file could
 * not be read (gr_data_read printed why), else gr_split's status. */
gr_status gr_holdout_read(const gr_holdout_args *h, const gr_data_args *d, const char *command,
                          gr_interactions **all, gr_interactions **train, gr_interactions **test);

/* Writes s as a JSON string literal. */
void gr_json_string(FILE *f, const char *s);

#endif
