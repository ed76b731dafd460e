/* Cache-line aligned host memory: the CPU kernels read rows with 64-byte
 * vector loads, and with malloc's 16-byte alignment every such load of a
 * 128-float row straddled two lines (an ALS CG iteration took 25% longer
 * whenever the heap placed the Gram matrix so). Released with free(). */
#ifndef GR_COMMON_ALIGNED_H
#define GR_COMMON_ALIGNED_H

#include <stdint.h>
#include <stdlib.h>

#define GR_CACHE_LINE 64

/* bytes (0 allowed) rounded up to whole lines; NULL when that fails. */
static inline void *gr_alloc_aligned(size_t bytes) {
  if (bytes > SIZE_MAX - GR_CACHE_LINE) return NULL;
  void *p = NULL;
  const size_t rounded = (bytes + GR_CACHE_LINE) & ~(size_t)(GR_CACHE_LINE - 1);
  return posix_memalign(&p, GR_CACHE_LINE, rounded) == 0 ? p : NULL;
}

#endif
