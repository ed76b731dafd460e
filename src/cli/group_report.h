/* `als eval --item-groups`: the figures per item group, on the terminal
 * and in the JSON report (definitions in docs/metrics.md). */
#ifndef GR_CLI_GROUP_REPORT_H
#define GR_CLI_GROUP_REPORT_H

#include <stdio.h>

#include "host/group_metrics.h"
#include "host/item_groups.h"

typedef struct gr_group_report {
  const char *path;
  gr_item_groups *file;
  gr_item_group_lists lists; /* the groups of each model item */
  int64_t mapped;            /* model items with a group */
  gr_group_sums sums;
  double *cohesion;    /* (n_groups + 1), the last over all items */
  int64_t *n_in_group; /* (n_groups + 1), the last: items without a group */
} gr_group_report;

/* Reads the mapping and assigns the model's items to its groups; fails
 * when no model item has a group. */
gr_status gr_group_report_init(gr_group_report *r, const gr_als_model *m, const char *path,
                               const char *item_col, const char *group_col);
/* After the evaluation: the cohesion of each group's item factors. */
gr_status gr_group_report_finish(gr_group_report *r, const gr_als_model *m);
void gr_group_report_print(FILE *f, const gr_group_report *r, int k);
/* One JSON member, `"groups": {...}`, with no trailing comma. */
void gr_group_report_json(FILE *f, const gr_group_report *r);
void gr_group_report_free(gr_group_report *r);

#endif
