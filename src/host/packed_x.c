/* Packing X once for the passes that read it; see packed_x.h. */
#include "packed_x.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

gr_status gr_binary_features(const float *X, int64_t n, int d, uint8_t *binary, int *n_binary) {
  const int threads = omp_get_max_threads();
  uint8_t *flags = malloc((size_t)threads * (size_t)d); /* each thread's, ANDed at the end */
  if (!flags) return gr_fail(GR_ERR_NOMEM, "cannot allocate %d x %d feature flags", threads, d);
  memset(flags, 1, (size_t)threads * (size_t)d);
#pragma omp parallel num_threads(threads)
  {
    uint8_t *mine = flags + (size_t)omp_get_thread_num() * (size_t)d;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < n; r++) {
      const float *x = X + (size_t)r * d;
      for (int j = 0; j < d; j++)
        mine[j] &= x[j] == 0.0f || x[j] == 1.0f;
    }
  }
  int nb = 0;
  for (int j = 0; j < d; j++) {
    binary[j] = 1;
    for (int t = 0; t < threads; t++)
      binary[j] &= flags[(size_t)t * (size_t)d + (size_t)j];
    nb += binary[j];
  }
  free(flags);
  if (n_binary) *n_binary = nb;
  return GR_OK;
}

gr_status gr_pack_x(gr_backend *be, struct gr_packed_rows **out, const float *X, int64_t n, int d,
                    const uint8_t *binary) {
  *out = NULL;
  if (!be->ops->pack_rows || n < 1 || d < 1) return GR_OK;
  uint8_t *mine = binary ? NULL : malloc((size_t)d);
  if (!binary && !mine) return gr_fail(GR_ERR_NOMEM, "cannot allocate %d feature flags", d);
  gr_status st = mine ? gr_binary_features(X, n, d, mine, NULL) : GR_OK;
  if (st == GR_OK) st = be->ops->pack_rows(be, out, X, n, d, binary ? binary : mine);
  free(mine);
  return st;
}

void gr_packed_x_free(gr_backend *be, struct gr_packed_rows *packed) {
  if (packed) be->ops->pack_rows_free(be, packed);
}
