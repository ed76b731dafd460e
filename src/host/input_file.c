/* See input_file.h. */
#include "input_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/error.h"

typedef struct file_key {
  dev_t dev;
  ino_t ino;
} file_key;

static file_key *g_inputs;
static int g_n_inputs, g_cap_inputs;

gr_status gr_input_open(const char *path, FILE **out) {
  FILE *f = fopen(path, "rb");
  if (!f) return gr_fail(GR_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      fclose(f);
      return gr_fail(GR_ERR_IO, "cannot read %s: it is a directory, not a file", path);
    }
    if (g_n_inputs == g_cap_inputs) { /* a note that cannot be kept only loses the check */
      const int cap = g_cap_inputs ? 2 * g_cap_inputs : 16;
      file_key *k = realloc(g_inputs, sizeof *k * (size_t)cap);
      if (k) g_inputs = k, g_cap_inputs = cap;
    }
    if (g_n_inputs < g_cap_inputs) g_inputs[g_n_inputs++] = (file_key){sb.st_dev, sb.st_ino};
  }
  *out = f;
  return GR_OK;
}

int gr_input_was_read(const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0) return 0;
  for (int i = 0; i < g_n_inputs; i++)
    if (g_inputs[i].dev == sb.st_dev && g_inputs[i].ino == sb.st_ino) return 1;
  return 0;
}
