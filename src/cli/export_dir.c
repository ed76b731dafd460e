/* Export directories; see export_dir.h. */
#include "export_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

/* 1 when dir holds nothing but . and .. */
static int is_empty_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int empty = 1;
  for (struct dirent *ent; empty && (ent = readdir(d));)
    empty = strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0;
  closedir(d);
  return empty;
}

gr_status gr_export_dir_open(gr_export_dir *e, const char *dir) {
  memset(e, 0, sizeof *e);
  e->dir = dir;
  struct stat sb;
  if (stat(dir, &sb) == 0) {
    if (!S_ISDIR(sb.st_mode)) return gr_fail(GR_ERR_IO, "%s exists and is not a directory", dir);
    if (!is_empty_dir(dir))
      return gr_fail(GR_ERR_IO,
                     "%s exists and is not empty: export to a new directory (an earlier "
                     "export's files would be mixed with this one's)",
                     dir);
  }
  const size_t len = strlen(dir) + 32;
  e->stage = malloc(len);
  if (!e->stage) return gr_fail(GR_ERR_NOMEM, "cannot allocate a path");
  snprintf(e->stage, len, "%s.tmp.%ld", dir, (long)getpid());
  e->stage_guard = gr_output_guard(e->stage, 1); /* before it exists: never unguarded */
  if (mkdir(e->stage, 0777) != 0) {
    const gr_status st =
        gr_fail(GR_ERR_IO, "cannot make the directory %s: %s", e->stage, strerror(errno));
    gr_output_unguard(e->stage_guard);
    free(e->stage);
    e->stage = NULL;
    return st;
  }
  return GR_OK;
}

FILE *gr_export_file(gr_export_dir *e, const char *name, gr_status *st) {
  if (e->n == GR_EXPORT_MAX_FILES) {
    *st = gr_fail(GR_ERR_INTERNAL, "too many export files");
    return NULL;
  }
  const size_t len = strlen(e->stage) + strlen(name) + 2;
  char *path = malloc(len);
  if (!path) {
    *st = gr_fail(GR_ERR_NOMEM, "cannot allocate a path");
    return NULL;
  }
  snprintf(path, len, "%s/%s", e->stage, name);
  *st = gr_output_open(&e->files[e->n], path);
  if (*st != GR_OK) {
    free(path);
    return NULL;
  }
  e->names[e->n] = path;
  e->name_guards[e->n] = gr_output_guard(path, 0); /* once renamed in the stage */
  return e->files[e->n++].f;
}

gr_status gr_export_dir_commit(gr_export_dir *e) {
  gr_status st = GR_OK;
  gr_output_at_once_begin(); /* the directory's rename is the one that makes them whole */
  for (int i = 0; i < e->n; i++) {
    if (st == GR_OK)
      st = gr_output_commit(&e->files[i]);
    else
      gr_output_abort(&e->files[i]);
  }
  gr_output_at_once_end();
  /* an empty directory in the way is replaced; anything else stops it */
  if (st == GR_OK && rename(e->stage, e->dir) != 0)
    st = gr_fail(GR_ERR_IO, "cannot rename %s to %s: %s", e->stage, e->dir, strerror(errno));
  if (st != GR_OK) {
    gr_export_dir_abort(e);
    return st;
  }
  for (int i = 0; i < e->n; i++) {
    gr_output_unguard(e->name_guards[i]);
    free(e->names[i]);
  }
  gr_output_unguard(e->stage_guard);
  free(e->stage);
  memset(e, 0, sizeof *e);
  return GR_OK;
}

void gr_export_dir_abort(gr_export_dir *e) {
  for (int i = 0; i < e->n; i++) {
    gr_output_abort(&e->files[i]);
    unlink(e->names[i]); /* renamed into the staging directory already, or never made */
    gr_output_unguard(e->name_guards[i]);
    free(e->names[i]);
  }
  if (e->stage) rmdir(e->stage);
  gr_output_unguard(e->stage_guard);
  free(e->stage);
  memset(e, 0, sizeof *e);
}
