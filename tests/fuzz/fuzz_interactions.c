/* libFuzzer target: the interactions CSV reader, with and without event
 * weights and named columns, and the item-group reader over the same bytes
 * (`als eval --item-groups`). The first input byte picks the options, so one
 * corpus explores all of them. Any result is fine except a crash, a leak,
 * undefined behaviour, an accepted file with non-finite weights, or group
 * lists that are out of range, unsorted or repeated. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "gpurec.h"
#include "host/interactions.h"
#include "host/item_groups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each item's groups in range, sorted and distinct. */
static void check_lists(const int64_t *first, const int32_t *group, int32_t n_items,
                        int32_t n_groups) {
  if (first[0] != 0) abort();
  for (int32_t i = 0; i < n_items; i++) {
    if (first[i + 1] < first[i]) abort();
    for (int64_t e = first[i]; e < first[i + 1]; e++)
      if (group[e] < 0 || group[e] >= n_groups || (e > first[i] && group[e] <= group[e - 1]))
        abort();
  }
}

/* The bytes as an item-group file; its groups assigned to x's items. */
static void fuzz_groups(const uint8_t *data, size_t size, const gr_interactions *x, uint8_t mode) {
  gr_item_groups *g = NULL;
  if (gr_item_groups_read_mem(&g, "fuzz", data, size, "item", mode & 128 ? "group" : NULL) != GR_OK)
    return;
  check_lists(g->first, g->group, g->items.count, g->groups.count);
  if (g->first[g->items.count] < g->items.count) abort(); /* every listed item has a group */
  if (x) {
    gr_item_group_lists l;
    int64_t mapped = 0;
    if (gr_item_groups_assign(g, &x->items, &l, &mapped) == GR_OK) {
      check_lists(l.first, l.group, l.n_items, l.n_groups);
      if (mapped < 0 || mapped > x->items.count) abort();
      gr_item_group_lists_free(&l);
    }
  }
  gr_item_groups_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  gr_csv_options o;
  gr_csv_options_default(&o);
  if (mode & 1) o.event_weights = "view=1,cart=4,purchase=10";
  if (mode & 2) o.default_event_weights = "view=1,click=2";
  if (mode & 4) o.has_header = (mode >> 3) & 1;
  if (mode & 16) o.delimiter = ';';
  if (mode & 32) o.weight_col = "w";
  gr_interactions *x = NULL;
  if (gr_interactions_read_csv_mem(&x, "fuzz", data + 1, size - 1, &o) == GR_OK) {
    for (int64_t e = 0; e < x->n; e++) {
      if (!isfinite(x->weight[e]) || x->weight[e] <= 0) abort();
      if (x->user[e] < 0 || x->user[e] >= x->users.count) abort();
      if (x->item[e] < 0 || x->item[e] >= x->items.count) abort();
    }
  }
  if (mode & 64) fuzz_groups(data + 1, size - 1, x, mode);
  gr_interactions_free(x);
  return 0;
}
