/* Staging for the tests that call backend operations directly (the GPU
 * parity tests): every buffer goes through the backend's own mem_alloc,
 * upload and download, and a failure is a CHECK failure. */
#ifndef GR_TESTS_BACKEND_UTIL_H
#define GR_TESTS_BACKEND_UTIL_H

#include <stdlib.h>

#include "check.h"
#include "kernels/backend.h"

/* A backend copy of src[0..bytes) (one byte when empty). */
static inline void *put(gr_backend *be, const void *src, size_t bytes) {
  void *p = NULL;
  CHECK_OK(be->ops->mem_alloc(be, &p, bytes ? bytes : 1));
  if (p && bytes) CHECK_OK(be->ops->upload(be, p, src, bytes));
  return p;
}

/* A zeroed backend buffer. */
static inline void *zeros(gr_backend *be, size_t bytes) {
  void *h = calloc(1, bytes ? bytes : 1);
  void *p = put(be, h, bytes);
  free(h);
  return p;
}

static inline void get(gr_backend *be, void *dst, const void *src, size_t bytes) {
  if (bytes) CHECK_OK(be->ops->download(be, dst, src, bytes));
}

static inline void drop(gr_backend *be, void *p) {
  if (p) be->ops->mem_free(be, p);
}

#endif
