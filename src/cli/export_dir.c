/* Export directories; see export_dir.h. */
#include "export_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

gr_status gr_export_dir_open(gr_export_dir *e, const char *dir) {
  memset(e, 0, sizeof *e);
  e->dir = dir;
  struct stat sb;
  if (stat(dir, &sb) == 0) {
    if (!S_ISDIR(sb.st_mode)) return gr_fail(GR_ERR_IO, "%s exists and is not a directory", dir);
    return GR_OK;
  }
  if (mkdir(dir, 0777) != 0)
    return gr_fail(GR_ERR_IO, "cannot make the directory %s: %s", dir, strerror(errno));
  e->made = 1;
  return GR_OK;
}

FILE *gr_export_file(gr_export_dir *e, const char *name, gr_status *st) {
  if (e->n == GR_EXPORT_MAX_FILES) {
    *st = gr_fail(GR_ERR_INTERNAL, "too many export files");
    return NULL;
  }
  const size_t len = strlen(e->dir) + strlen(name) + 2;
  char *path = malloc(len);
  if (!path) {
    *st = gr_fail(GR_ERR_NOMEM, "cannot allocate a path");
    return NULL;
  }
  snprintf(path, len, "%s/%s", e->dir, name);
  *st = gr_output_open(&e->files[e->n], path);
  free(path); /* the output keeps its own copy */
  if (*st != GR_OK) return NULL;
  return e->files[e->n++].f;
}

gr_status gr_export_dir_commit(gr_export_dir *e) {
  gr_status st = GR_OK;
  /* every file's writes checked (a full disk shows here) before any is renamed */
  for (int i = 0; i < e->n && st == GR_OK; i++)
    if (fflush(e->files[i].f) != 0 || ferror(e->files[i].f))
      st = gr_fail(GR_ERR_IO, "cannot write %s: %s", e->files[i].path, strerror(errno));
  if (st != GR_OK) {
    gr_export_dir_abort(e);
    return st;
  }
  for (int i = 0; i < e->n; i++) {
    if (st == GR_OK)
      st = gr_output_commit(&e->files[i]);
    else
      gr_output_abort(&e->files[i]);
  }
  e->n = 0;
  return st;
}

void gr_export_dir_abort(gr_export_dir *e) {
  for (int i = 0; i < e->n; i++)
    gr_output_abort(&e->files[i]);
  e->n = 0;
  if (e->made) rmdir(e->dir); /* only when empty: fails harmlessly otherwise */
}
