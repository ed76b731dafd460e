/* Shared by the model-loader fuzz targets. */
#ifndef GR_TESTS_FUZZ_UTIL_H
#define GR_TESTS_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/model_io.h"

/* A copy of the input; even-sized ones get their last 8 bytes set to the
 * right checksum, so mutations reach the parser behind the checksum, while
 * odd-sized ones test the checksum itself. NULL when out of memory. */
static inline uint8_t *fuzz_model_copy(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size + 1);
  if (!copy) return NULL;
  memcpy(copy, data, size);
  if (size >= 8 && size % 2 == 0) {
    const uint64_t sum = gr_model_checksum(copy, size - 8);
    memcpy(copy + size - 8, &sum, 8);
  }
  return copy;
}

#endif
