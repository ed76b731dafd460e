/* A CSV reader over a file loaded whole into memory: RFC 4180 quoting,
 * delimiter detection, CRLF, and positions (line, column) for messages.
 * Fields point into the buffer. Quoted fields are unescaped in place, or,
 * for a read-only text (mapped, or shared by several readers that each
 * read a range of rows), into the reader's own scratch memory. */
#ifndef GR_HOST_CSV_H
#define GR_HOST_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"

typedef struct gr_field {
  const char *p;
  size_t len;
  int64_t col; /* 1-based byte column where the field starts */
} gr_field;

typedef struct gr_csv {
  const char *path;
  char *buf; /* len bytes, then at least GR_CSV_PAD zero bytes */
  size_t len;
  size_t pos;
  int64_t line; /* 1-based line of the row last returned */
  char delim;
  gr_field *fields;
  int n_fields;
  int cap_fields;
  int read_only; /* 1: buf is never written; unescaped fields live in scratch */
  int borrowed;  /* 1: a view (gr_csv_view); buf belongs to another reader */
  size_t mapped; /* bytes mapped with mmap; 0 when buf was allocated */
  char *scratch; /* read_only: this row's unescaped quoted fields */
  size_t scratch_len, scratch_cap;
} gr_csv;

/* Zero bytes after the text, so that scans may read a 64-byte block past the end. */
#define GR_CSV_PAD 64

/* Loads path; delim 0 = detect from the first line. */
gr_status gr_csv_open(gr_csv *c, const char *path, char delim);
/* The same over a copy of data[0..len); name stands for the path in messages. */
gr_status gr_csv_open_mem(gr_csv *c, const char *name, const void *data, size_t len, char delim);
/* Opens path read-only: mapped with mmap where it can be (the file must not
 * be truncated while it is read), loaded like gr_csv_open otherwise. */
gr_status gr_csv_open_read_only(gr_csv *c, const char *path, char delim);
/* A reader over the same text starting at pos, a row start after `line`
 * lines; it never writes the text. Close it with gr_csv_close. */
void gr_csv_view(gr_csv *view, const gr_csv *c, size_t pos, int64_t line);
void gr_csv_close(gr_csv *c);

/* Reads the next non-empty row into c->fields / c->n_fields.
 * @return GR_OK with *done = 0 for a row, *done = 1 at end of file, or
 * GR_ERR_PARSE (unterminated quote, stray quote, NUL byte). */
gr_status gr_csv_next(gr_csv *c, int *done);
/* The same, but *done = 1 once the next row would start at or after `end`. */
gr_status gr_csv_next_before(gr_csv *c, size_t end, int *done);

/* Splits the rows from c->pos (a row start, after c->line lines) to the end
 * into n ranges of about equal size: starts[0..n] (starts[n] = c->len) are
 * row starts as the reader would find them, found by quote parity so that
 * quoted line breaks are respected, and lines[k] counts the line breaks
 * before starts[k]. Up to n_threads threads count quotes and lines. On text
 * that is not well formed the ranges after the first error may be wrong;
 * the rows before it are split exactly as a sequential reading splits them. */
gr_status gr_csv_split(const gr_csv *c, int n, int n_threads, size_t *starts, int64_t *lines);

/* Builds "path:line:col: " + message as a GR_ERR_PARSE failure. */
gr_status gr_csv_error(const gr_csv *c, int64_t col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* GR_OK when the current row has n_expected fields; else the error that
 * names its last field. Inline: every row of every reader passes here. */
static inline gr_status gr_csv_check_width(const gr_csv *c, int n_expected) {
  if (c->n_fields == n_expected) return GR_OK;
  return gr_csv_error(c, c->fields[c->n_fields - 1].col, "expected %d fields, found %d", n_expected,
                      c->n_fields);
}

/* GR_OK when field f is valid UTF-8; else the error at its first bad byte,
 * "the <what> is not valid UTF-8". */
gr_status gr_csv_check_utf8(const gr_csv *c, const gr_field *f, const char *what);

/* The current row's fields quoted and comma-separated into out (cut short
 * to fit), for messages that list a header's columns. */
void gr_csv_row_names(const gr_csv *c, char *out, size_t cap);

/* Parses a whole field as a finite or non-finite number; 1 on success. */
int gr_parse_double(const char *p, size_t len, double *out);

/* @return the offset of the first byte that breaks UTF-8 in p[0..len), or -1. */
int64_t gr_utf8_invalid_at(const char *p, size_t len);

/* Equality of a field with a C string, ASCII case-insensitive. */
int gr_field_equals(const gr_field *f, const char *s);

#endif
