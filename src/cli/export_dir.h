/* A directory of export files written together: every file goes to a
 * temporary beside its target, and all are renamed into place only once
 * every one is complete, so a failure leaves none of them (and removes the
 * directory if it was made for them). */
#ifndef GR_CLI_EXPORT_DIR_H
#define GR_CLI_EXPORT_DIR_H

#include <stdio.h>

#include "gpurec.h"
#include "host/output_file.h"

#define GR_EXPORT_MAX_FILES 8

typedef struct gr_export_dir {
  const char *dir;
  int made; /* 1: the directory did not exist before */
  gr_output_file files[GR_EXPORT_MAX_FILES];
  int n;
} gr_export_dir;

/* Uses dir, making it when it does not exist (its parent must). */
gr_status gr_export_dir_open(gr_export_dir *e, const char *dir);
/* Opens dir/name for writing; NULL with *st set on failure. */
FILE *gr_export_file(gr_export_dir *e, const char *name, gr_status *st);
/* Commits every file (or, after a failure, removes the ones not yet renamed). */
gr_status gr_export_dir_commit(gr_export_dir *e);
/* Removes every temporary, and the directory when it was made here and is empty. */
void gr_export_dir_abort(gr_export_dir *e);

#endif
