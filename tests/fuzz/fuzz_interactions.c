/* libFuzzer target: the interactions CSV reader, with and without event
 * weights and named columns. The first input byte picks the options, so one
 * corpus explores all of them. Any result is fine except a crash, a leak,
 * undefined behaviour, or an accepted file with non-finite weights. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "gpurec.h"
#include "host/interactions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
  gr_interactions_free(x);
  return 0;
}
