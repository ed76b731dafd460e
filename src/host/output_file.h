/* Outputs are written to a temporary file beside the target and renamed
 * over it only when complete, so a failure (disk full, a crash, a bad
 * value found late) never leaves a partial file. "-" means stdout. */
#ifndef GR_HOST_OUTPUT_FILE_H
#define GR_HOST_OUTPUT_FILE_H

#include <stdio.h>

#include "gpurec.h"

typedef struct gr_output_file {
  FILE *f;
  char *path;     /* final path, NULL for stdout */
  char *tmp_path; /* temporary path */
} gr_output_file;

gr_status gr_output_open(gr_output_file *o, const char *path);
/* Flushes, checks every write succeeded, fsyncs and renames. Closes o. */
gr_status gr_output_commit(gr_output_file *o);
/* Closes and deletes the temporary file. Safe to call twice. */
void gr_output_abort(gr_output_file *o);

/* Writes s as one CSV field, quoted when needed. */
void gr_write_csv_field(FILE *f, const char *s);

#endif
