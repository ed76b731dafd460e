/* Fast decimal formatting for the generators' hot loops (printf per field
 * would dominate writing hundreds of megabytes). */
#ifndef GR_COMMON_FMT_H
#define GR_COMMON_FMT_H

#include <stdint.h>

/* Writes v in decimal at s; @return the end of what was written. */
static inline char *gr_put_u64(char *s, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n)
    *s++ = tmp[--n];
  return s;
}

#endif
