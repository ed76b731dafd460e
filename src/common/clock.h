/* Wall-clock seconds for stage timings and progress lines. */
#ifndef GR_COMMON_CLOCK_H
#define GR_COMMON_CLOCK_H

#include <time.h>

static inline double gr_now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
