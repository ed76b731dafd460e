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
  int slot;       /* 1 + its place among the live temporaries, 0 if none */
} gr_output_file;

gr_status gr_output_open(gr_output_file *o, const char *path);
/* Whether path can be written (its temporary can be made; it is removed
 * again), for a command to find a bad output path before its work. */
gr_status gr_output_probe(const char *path);
/* Flushes, checks every write succeeded, fsyncs and renames. Closes o. */
gr_status gr_output_commit(gr_output_file *o);
/* Closes and deletes the temporary file. Safe to call twice. */
void gr_output_abort(gr_output_file *o);

/* Outputs that belong together (a model and its report, train and test):
 * after gr_output_hold, gr_output_commit finishes each file (flushed,
 * checked, fsynced, closed) but leaves it under its temporary name;
 * gr_output_release renames them all, in the order they were committed, and
 * gr_output_drop deletes them. The CLI holds a command's outputs until the
 * command succeeds, so a failure leaves none of them, not only none half
 * written. Between gr_output_at_once_begin and _end, commits rename at once
 * (a checkpoint, which must survive an interruption; the files of a staging
 * directory). A temporary held is still removed by a fatal signal. */
void gr_output_hold(void);
int gr_output_holding(void); /* 1 between gr_output_hold and release or drop */
gr_status gr_output_release(void);
void gr_output_drop(void);
void gr_output_at_once_begin(void);
void gr_output_at_once_end(void);

/* An output that is a file this process read (input_file.h), by the same
 * path or a link, is refused when it is opened and again before it is
 * renamed: no command replaces what it reads. A checkpoint, written at once,
 * may replace the one it resumed from. */

/* A process killed by a signal while writing would leave its temporary
 * files behind. gr_output_guard_signals (for programs, not libraries: it
 * installs handlers) makes SIGINT, SIGTERM, SIGHUP and SIGPIPE, where their
 * action is still the default, remove every live temporary and then die of
 * the signal as before. gr_output_on_fatal_signal is that handler, for a
 * program's own SIGINT handler to hand a second Ctrl-C to. Both are
 * async-signal-safe. */
void gr_output_guard_signals(void);
/* Another path for the handler to remove (a staging directory, which it
 * removes after the files, or a finished file inside one); @return a guard
 * for gr_output_unguard (0: none, when every slot is taken). */
int gr_output_guard(const char *path, int is_dir);
void gr_output_unguard(int guard);
void gr_output_on_fatal_signal(int sig);

/* Writes s as one CSV field, quoted when needed. */
void gr_write_csv_field(FILE *f, const char *s);

#endif
