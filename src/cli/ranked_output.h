/* The ranked-output commands (recommend, similar): id lists in, CSV or
 * JSON lines out, written atomically. */
#ifndef GR_CLI_RANKED_OUTPUT_H
#define GR_CLI_RANKED_OUTPUT_H

#include "data_args.h"

typedef struct gr_ranked_request {
  const char *command;
  const char *model_path;
  const char *format; /* csv or jsonl */
  const char *out_path;
  int k;
  /* optional: a CSV of (item, group) pairs; each ranked item then carries
   * its groups (a `group` column, names joined by '|') */
  const char *groups_path, *group_col, *group_item_col;
  /* recommend: the past items that contribute most to each ranked item
   * (Hu et al. 2008, section 5), this many per item; 0 = none */
  int explain;
  /* recommend: never these items (a file of ids, one per line; ids the model
   * does not know are skipped) */
  const char *exclude_file;
  int quiet; /* no notes on stderr */
} gr_ranked_request;

int gr_run_recommend(gr_context *ctx, const gr_ranked_request *req, const gr_data_args *d,
                     const char *seen_path, const char *users, const char *users_file,
                     const char *items_file, const char *new_users, int include_seen);
int gr_run_similar(gr_context *ctx, const gr_ranked_request *req, const char *items,
                   const char *items_file, int include_self);

#endif
