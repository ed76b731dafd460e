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

/* Writes s as a JSON string literal. */
void gr_json_string(FILE *f, const char *s);

#endif
