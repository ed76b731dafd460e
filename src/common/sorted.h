/* Membership in a sorted int32 list (a CSR row's columns, a user's test
 * items), by binary search. */
#ifndef GR_COMMON_SORTED_H
#define GR_COMMON_SORTED_H

#include <stdint.h>

static inline int gr_sorted_contains(const int32_t *sorted, int64_t n, int32_t v) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (sorted[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && sorted[lo] == v;
}

#endif
