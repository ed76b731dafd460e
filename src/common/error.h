/* Error reporting shared by the host driver and both backends: a failing
 * call records a formatted message in a thread-local buffer and returns its
 * status, so call sites read `return gr_fail(GR_ERR_IO, "...", ...)`. */
#ifndef GR_COMMON_ERROR_H
#define GR_COMMON_ERROR_H

#include "gpurec.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GR_PRINTF(a, b)
#endif

/* Records the message for gr_last_error() and returns s. */
gr_status gr_fail(gr_status s, const char *fmt, ...) GR_PRINTF(2, 3);

/* Prefixes the current message with context ("while loading x: ..."). */
gr_status gr_fail_context(gr_status s, const char *fmt, ...) GR_PRINTF(2, 3);

void gr_clear_error(void);

#define GR_TRY(expr)                                                                               \
  do {                                                                                             \
    gr_status gr_try_status_ = (expr);                                                             \
    if (gr_try_status_ != GR_OK) return gr_try_status_;                                            \
  } while (0)

/* For `goto cleanup` style: assigns st and jumps on failure. */
#define GR_CHECK_GOTO(st, expr, label)                                                             \
  do {                                                                                             \
    (st) = (expr);                                                                                 \
    if ((st) != GR_OK) goto label;                                                                 \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
