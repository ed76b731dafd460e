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

typedef struct key_list {
  file_key *keys;
  int n, cap;
} key_list;

static key_list g_inputs, g_replaceable;

/* A note that cannot be kept only loses its check. */
static void note(key_list *l, const struct stat *sb) {
  if (l->n == l->cap) {
    const int cap = l->cap ? 2 * l->cap : 16;
    file_key *k = realloc(l->keys, sizeof *k * (size_t)cap);
    if (!k) return;
    l->keys = k;
    l->cap = cap;
  }
  l->keys[l->n++] = (file_key){sb->st_dev, sb->st_ino};
}

static int listed(const key_list *l, const struct stat *sb) {
  for (int i = 0; i < l->n; i++)
    if (l->keys[i].dev == sb->st_dev && l->keys[i].ino == sb->st_ino) return 1;
  return 0;
}

gr_status gr_input_open(const char *path, FILE **out) {
  FILE *f = fopen(path, "rb");
  if (!f) return gr_fail(GR_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      fclose(f);
      return gr_fail(GR_ERR_IO, "cannot read %s: it is a directory, not a file", path);
    }
    note(&g_inputs, &sb);
  }
  *out = f;
  return GR_OK;
}

int gr_input_was_read(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && listed(&g_inputs, &sb) && !listed(&g_replaceable, &sb);
}

void gr_input_allow_replace(const char *path) {
  struct stat sb;
  if (stat(path, &sb) == 0) note(&g_replaceable, &sb);
}
