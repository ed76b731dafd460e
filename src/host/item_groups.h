/* Items mapped to groups (business units, categories) from a CSV such as
 * the clickstream write-up's `business_unit,page_url` mapping, so that an
 * evaluation can be reported per group (docs/metrics.md). */
#ifndef GR_HOST_ITEM_GROUPS_H
#define GR_HOST_ITEM_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"
#include "id_map.h"

/* An item may be in several groups (the clickstream mapping lists a few
 * pages under two business units), so groups are kept per item as a
 * sorted list, CSR-style. */
typedef struct gr_item_groups {
  gr_id_map items;  /* item ids of the file, in order of first appearance */
  gr_id_map groups; /* group names, in order of first appearance */
  int64_t *first;   /* (items.count + 1) item i's groups: group[first[i]..first[i+1]) */
  int32_t *group;   /* sorted and distinct per item */
} gr_item_groups;

/* The groups of a set of items (a model's), in the same CSR shape. */
typedef struct gr_item_group_lists {
  int32_t n_items, n_groups;
  int64_t *first; /* (n_items + 1) */
  int32_t *group;
} gr_item_group_lists;

/* Reads a mapping CSV with a header, one (item, group) pair per row.
 * item_col names the item column (NULL: item, item_id or itemid, as for
 * interactions); group_col the group column, or NULL:
 * the one named column besides the item column (an unnamed first column,
 * pandas' index, is ignored). A repeated pair counts once. An empty item
 * or group, or a ragged row, is an error naming file:line:column.
 * @return GR_OK and *out (free with gr_item_groups_free). */
gr_status gr_item_groups_read(gr_item_groups **out, const char *path, const char *item_col,
                              const char *group_col);
/* The same over data[0..len); name stands for the path in messages. */
gr_status gr_item_groups_read_mem(gr_item_groups **out, const char *name, const void *data,
                                  size_t len, const char *item_col, const char *group_col);
void gr_item_groups_free(gr_item_groups *g);

/* The groups of each id of `ids` (a model's item map); an id that the file
 * does not list has none. *mapped counts the ids with at least one.
 * @return GR_OK, or GR_ERR_NOMEM; free the lists with gr_item_group_lists_free. */
gr_status gr_item_groups_assign(const gr_item_groups *g, const gr_id_map *ids,
                                gr_item_group_lists *out, int64_t *mapped);
void gr_item_group_lists_free(gr_item_group_lists *l);

/* gr_item_groups_read, then gr_item_groups_assign to `ids`; a file that
 * lists none of them is an error (most likely the wrong item column).
 * On success *file and *lists are the caller's to free. */
gr_status gr_item_groups_load_for(const gr_id_map *ids, const char *path, const char *item_col,
                                  const char *group_col, gr_item_groups **file,
                                  gr_item_group_lists *lists, int64_t *mapped);

#endif
