/* Input files are opened through gr_input_open, which remembers each one
 * (device and inode), so that outputs can refuse to replace a file the
 * command reads (output_file.h), and which names a directory as such
 * instead of failing later on its size. */
#ifndef GR_HOST_INPUT_FILE_H
#define GR_HOST_INPUT_FILE_H

#include <stdio.h>

#include "gpurec.h"

/* Opens path for reading ("rb"); an error names the path and the cause. */
gr_status gr_input_open(const char *path, FILE **out);

/* 1 when path (followed through links) is a file opened by gr_input_open
 * and not allowed to be replaced. */
int gr_input_was_read(const char *path);

/* The file path names (now) may be replaced by an output although it is
 * read: a model retrained in place, a checkpoint resumed and kept. */
void gr_input_allow_replace(const char *path);

#endif
