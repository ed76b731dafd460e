/* Temp-file-and-rename output. */
#include "output_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/error.h"

gr_status gr_output_open(gr_output_file *o, const char *path) {
  memset(o, 0, sizeof *o);
  if (strcmp(path, "-") == 0) {
    o->f = stdout;
    return GR_OK;
  }
  size_t n = strlen(path);
  o->path = malloc(n + 1);
  o->tmp_path = malloc(n + 32);
  if (!o->path || !o->tmp_path) {
    gr_output_abort(o);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate a path");
  }
  memcpy(o->path, path, n + 1);
  snprintf(o->tmp_path, n + 32, "%s.tmp.%ld", path, (long)getpid());
  o->f = fopen(o->tmp_path, "wb");
  if (!o->f) {
    gr_status st = gr_fail(GR_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    gr_output_abort(o);
    return st;
  }
  return GR_OK;
}

gr_status gr_output_commit(gr_output_file *o) {
  if (!o->path) {
    if (fflush(stdout) != 0 || ferror(stdout))
      return gr_fail(GR_ERR_IO, "cannot write to standard output: %s", strerror(errno));
    o->f = NULL;
    return GR_OK;
  }
  int failed = fflush(o->f) != 0 || ferror(o->f);
  int saved_errno = errno;
  if (!failed) failed = fsync(fileno(o->f)) != 0 && errno != EINVAL;
  if (fclose(o->f) != 0) failed = 1;
  o->f = NULL;
  if (failed) {
    gr_status st = gr_fail(GR_ERR_IO, "cannot write %s: %s", o->path,
                           strerror(saved_errno ? saved_errno : errno));
    gr_output_abort(o);
    return st;
  }
  if (rename(o->tmp_path, o->path) != 0) {
    gr_status st =
        gr_fail(GR_ERR_IO, "cannot rename %s to %s: %s", o->tmp_path, o->path, strerror(errno));
    gr_output_abort(o);
    return st;
  }
  free(o->path);
  free(o->tmp_path);
  o->path = o->tmp_path = NULL;
  return GR_OK;
}

void gr_output_abort(gr_output_file *o) {
  if (o->f && o->f != stdout) fclose(o->f);
  o->f = NULL;
  if (o->tmp_path) remove(o->tmp_path);
  free(o->path);
  free(o->tmp_path);
  o->path = o->tmp_path = NULL;
}
