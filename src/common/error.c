/* Thread-local last-error message and the status names. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define GR_ERROR_CAP 1024

static _Thread_local char g_message[GR_ERROR_CAP];

const char *gr_status_str(gr_status s) {
  switch (s) {
  case GR_OK: return "ok";
  case GR_ERR_INVALID_ARG: return "invalid argument";
  case GR_ERR_IO: return "i/o error";
  case GR_ERR_PARSE: return "parse error";
  case GR_ERR_NOMEM: return "out of host memory";
  case GR_ERR_DEVICE_MEM: return "out of device memory";
  case GR_ERR_NO_DEVICE: return "no usable GPU";
  case GR_ERR_CUDA: return "CUDA error";
  case GR_ERR_NUMERIC: return "numerical error";
  case GR_ERR_FORMAT: return "bad model file";
  case GR_ERR_INTERNAL: return "internal error";
  case GR_ERR_INTERRUPTED: return "interrupted";
  }
  return "unknown status";
}

const char *gr_last_error(void) { return g_message; }

void gr_clear_error(void) { g_message[0] = '\0'; }

gr_status gr_fail(gr_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_message, sizeof g_message, fmt, ap);
  va_end(ap);
  return s;
}

gr_status gr_fail_context(gr_status s, const char *fmt, ...) {
  char prefix[GR_ERROR_CAP];
  char old[GR_ERROR_CAP];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, g_message, sizeof old);
  snprintf(g_message, sizeof g_message, "%.400s: %.600s", prefix, old);
  return s;
}
