/* libFuzzer target: the leads model loader. Even inputs set the checksum
 * right before loading, so mutations reach the parser behind it; odd ones
 * test the checksum itself. A model it accepts must be usable: it scores a
 * row of zeros (nearest centroid, then that cluster's model) to a finite
 * probability, and every cluster points at a fitted model. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "gpurec.h"
#include "host/leads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gr_context *fuzz_context(void) {
  static gr_context *ctx = NULL;
  if (!ctx) {
    gr_context_options o;
    gr_context_options_default(&o);
    o.device = GR_DEVICE_CPU;
    o.n_threads = 1;
    o.verbose = 0;
    if (gr_context_init(&ctx, &o) != GR_OK) abort();
  }
  return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gr_leads_model *m = NULL;
  uint8_t *copy = fuzz_model_copy(data, size);
  if (!copy) return 0;
  if (gr_leads_model_load_mem(&m, "fuzz", copy, size) == GR_OK) {
    if (m->d != m->enc->n_features || m->k < 1) abort();
    for (int c = 0; c < m->k; c++)
      if (!m->models[m->model_of[c]].w) abort();
    float *x = calloc((size_t)m->d, sizeof(float));
    float prob = NAN;
    int32_t cluster = -1;
    if (x && gr_leads_score(fuzz_context(), m, x, 1, NULL, &prob, &cluster) == GR_OK &&
        (!(prob >= 0 && prob <= 1) || cluster < 0 || cluster >= m->k))
      abort();
    free(x);
  }
  gr_leads_model_free(m);
  free(copy);
  return 0;
}
