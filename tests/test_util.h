/* Helpers shared by the tests: temporary files and tiny datasets. */
#ifndef GR_TESTS_TEST_UTIL_H
#define GR_TESTS_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a fresh temporary file; returns its path (static buffer
 * rotation: up to 8 live paths). */
static inline const char *write_temp(const char *text, size_t len) {
  static char paths[8][64];
  static int next = 0;
  char *p = paths[next++ % 8];
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

static inline const char *write_temp_str(const char *text) { return write_temp(text, strlen(text)); }

static inline int contains_text(const char *haystack, const char *needle) {
  return strstr(haystack, needle) != NULL;
}

#endif
