/* Forced column kinds: the inline "name=kind,name=kind" list of --kinds and
 * the kinds file of --kinds-file (one name=kind per line, # comments), which
 * `gpurec describe --kinds-out` writes from what it inferred, so a table's
 * kinds can be reviewed, edited and pinned for every later run. */
#ifndef GR_HOST_TABLE_KINDS_H
#define GR_HOST_TABLE_KINDS_H

#include "table.h"

/* Applies the file's kinds (path may be NULL), then the inline list's (spec
 * may be NULL), so the list wins over the file; forced[c] = 1 for every
 * column given a kind. A line of the file that names no column, no known
 * kind, or the id column is an error naming file:line:column. */
gr_status gr_table_apply_kinds(gr_table *t, const char *path, const char *spec, int *forced);

/* Writes every column's kind but the id's as a kinds file (temporary file,
 * then rename). */
gr_status gr_table_write_kinds(const gr_table *t, const char *path);

#endif
