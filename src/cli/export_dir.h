/* A directory of export files written together: the files go to a staging
 * directory beside the target (DIR.tmp.<pid>), which is renamed to DIR only
 * once every file in it is complete. So DIR appears whole or not at all,
 * and a failure removes the staging directory. DIR must not exist or be
 * empty: files of an earlier export are never mixed with a new one. */
#ifndef GR_CLI_EXPORT_DIR_H
#define GR_CLI_EXPORT_DIR_H

#include <stdio.h>

#include "gpurec.h"
#include "host/output_file.h"

#define GR_EXPORT_MAX_FILES 8

typedef struct gr_export_dir {
  const char *dir;
  char *stage; /* the staging directory */
  gr_output_file files[GR_EXPORT_MAX_FILES];
  char *names[GR_EXPORT_MAX_FILES]; /* paths in stage, for the clean-up */
  /* guards (output_file.h): a fatal signal removes the files in the stage,
   * then the stage itself */
  int name_guards[GR_EXPORT_MAX_FILES], stage_guard;
  int n;
} gr_export_dir;

/* Checks dir (absent, or an empty directory) and makes the staging one. */
gr_status gr_export_dir_open(gr_export_dir *e, const char *dir);
/* Opens name in the staging directory for writing; NULL with *st set on failure. */
FILE *gr_export_file(gr_export_dir *e, const char *name, gr_status *st);
/* Completes every file and renames the staging directory to dir; on a
 * failure, removes everything as gr_export_dir_abort does. */
gr_status gr_export_dir_commit(gr_export_dir *e);
/* Removes every file written and the staging directory. */
void gr_export_dir_abort(gr_export_dir *e);

#endif
