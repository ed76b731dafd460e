/* A minimal test harness: CHECK records a failure with its location and
 * keeps going, so one run reports every broken assertion; main returns
 * gr_test_finish(), which prints "N passed, N failed". */
#ifndef GR_TESTS_CHECK_H
#define GR_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gpurec.h"

static int gr_test_passed = 0, gr_test_failed = 0;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (cond) {                                                                                    \
      gr_test_passed++;                                                                            \
    } else {                                                                                       \
      gr_test_failed++;                                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
    }                                                                                              \
  } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
  do {                                                                                             \
    if (cond) {                                                                                    \
      gr_test_passed++;                                                                            \
    } else {                                                                                       \
      gr_test_failed++;                                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                     \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
    }                                                                                              \
  } while (0)

/* A call that must succeed; prints gpurec's message when it does not. */
#define CHECK_OK(expr)                                                                             \
  do {                                                                                             \
    gr_status check_ok_status_ = (expr);                                                           \
    CHECK_MSG(check_ok_status_ == GR_OK, "%s: %s", gr_status_str(check_ok_status_),                \
              gr_last_error());                                                                    \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
  CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g (tol %g)", (double)(a),            \
            (double)(b), (double)(tol))

static inline int gr_test_finish(void) {
  printf("%d passed, %d failed\n", gr_test_passed, gr_test_failed);
  return gr_test_failed ? 1 : 0;
}

#endif
