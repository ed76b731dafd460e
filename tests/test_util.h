/* Helpers shared by the tests: temporary files and tiny datasets. */
#ifndef GR_TESTS_TEST_UTIL_H
#define GR_TESTS_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/rng.h"

/* Every temporary file a test makes, removed at exit. */
#define GR_TEST_MAX_TEMPS 256
static char gr_test_temps[GR_TEST_MAX_TEMPS][64];
static int gr_test_n_temps = 0;

static void gr_test_remove_temps(void) {
  for (int i = 0; i < gr_test_n_temps; i++)
    unlink(gr_test_temps[i]);
}

/* Writes text to a fresh temporary file; returns its path. */
static inline const char *write_temp(const char *text, size_t len) {
  if (gr_test_n_temps == GR_TEST_MAX_TEMPS) {
    fprintf(stderr, "too many temporary files\n");
    exit(2);
  }
  if (gr_test_n_temps == 0) atexit(gr_test_remove_temps);
  char *p = gr_test_temps[gr_test_n_temps++];
  snprintf(p, 64, "/tmp/gpurec_test_XXXXXX");
  int fd = mkstemp(p);
  if (fd < 0) {
    perror("mkstemp");
    exit(2);
  }
  if (len && write(fd, text, len) != (ssize_t)len) {
    perror("write");
    exit(2);
  }
  close(fd);
  return p;
}

static inline const char *write_temp_str(const char *text) {
  return write_temp(text, strlen(text));
}

/* Sorted distinct draws from 0..n-1, each with probability 1/every: a
 * user's test or training items in the metric tests. */
static inline int64_t draw_sorted(gr_rng *rng, int64_t n, int every, int32_t *out) {
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++)
    if (gr_rng_below(rng, (uint64_t)every) == 0) out[m++] = (int32_t)i;
  return m;
}

static inline int contains_text(const char *haystack, const char *needle) {
  return strstr(haystack, needle) != NULL;
}

/* A quiet context on `device` (threads 0 = all cores; max_device_mem 0 =
 * what is free); NULL after a failed CHECK. */
static inline gr_context *test_context(gr_device device, int threads, size_t max_device_mem) {
  gr_context_options o;
  gr_context_options_default(&o);
  o.device = device;
  o.n_threads = threads;
  o.max_device_mem = max_device_mem;
  o.verbose = 0;
  gr_context *ctx = NULL;
  CHECK_OK(gr_context_init(&ctx, &o));
  return ctx;
}

/* A quiet CPU context (threads 0 = all cores); NULL after a failed CHECK. */
static inline gr_context *cpu_test_context(int threads) {
  return test_context(GR_DEVICE_CPU, threads, 0);
}

#endif
