/* What a GPU test does where no GPU is usable: skip (exit 77), so that CPU-only
 * machines pass; but on a machine meant to have one (GPUREC_REQUIRE_GPU=1,
 * which bench/gpu_session.sh sets), fail, so that a driver older than the
 * toolkit, or a build without the GPU's architecture, cannot pass as skipped. */
#ifndef GR_TESTS_GPU_REQUIRED_H
#define GR_TESTS_GPU_REQUIRED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int gr_test_no_gpu(const char *why) {
  const char *required = getenv("GPUREC_REQUIRE_GPU");
  if (required && strcmp(required, "1") == 0) {
    printf("FAILED: no usable GPU although GPUREC_REQUIRE_GPU=1: %s\n", why);
    return 1;
  }
  printf("no usable GPU: %s, skipping\n", why);
  return 77;
}

#endif
