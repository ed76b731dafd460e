/* libFuzzer target: the model loader. Even inputs set the checksum right
 * before loading, so mutations reach the parser behind it; odd ones test
 * the checksum itself. A model it accepts must be usable: ids resolve and
 * every factor is finite. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "gpurec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gr_als_model *m = NULL;
  uint8_t *copy = fuzz_model_copy(data, size);
  if (!copy) return 0;
  if (gr_als_model_load_mem(&m, "fuzz", copy, size) == GR_OK) {
    const int k = gr_als_model_factors(m);
    for (int32_t u = 0; u < gr_als_model_n_users(m); u++)
      if (gr_als_model_find_user(m, gr_als_model_user_id(m, u)) != u) abort();
    const float *y = gr_als_model_item_factors(m);
    for (int64_t i = 0; i < (int64_t)gr_als_model_n_items(m) * k; i++)
      if (!isfinite(y[i])) abort();
  }
  gr_als_model_free(m);
  free(copy);
  return 0;
}
