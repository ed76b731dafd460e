/* A CSV reader over a file loaded whole into memory: RFC 4180 quoting,
 * delimiter detection, CRLF, and positions (line, column) for messages.
 * Fields point into the buffer; quoted fields are unescaped in place. */
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
  char *buf;
  size_t len;
  size_t pos;
  int64_t line; /* 1-based line of the row last returned */
  char delim;
  gr_field *fields;
  int n_fields;
  int cap_fields;
} gr_csv;

/* Loads path; delim 0 = detect from the first line. */
gr_status gr_csv_open(gr_csv *c, const char *path, char delim);
/* The same over a copy of data[0..len); name stands for the path in messages. */
gr_status gr_csv_open_mem(gr_csv *c, const char *name, const void *data, size_t len, char delim);
void gr_csv_close(gr_csv *c);

/* Reads the next non-empty row into c->fields / c->n_fields.
 * @return GR_OK with *done = 0 for a row, *done = 1 at end of file, or
 * GR_ERR_PARSE (unterminated quote, stray quote, NUL byte). */
gr_status gr_csv_next(gr_csv *c, int *done);

/* Builds "path:line:col: " + message as a GR_ERR_PARSE failure. */
gr_status gr_csv_error(const gr_csv *c, int64_t col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Parses a whole field as a finite or non-finite number; 1 on success. */
int gr_parse_double(const char *p, size_t len, double *out);

/* @return the offset of the first byte that breaks UTF-8 in p[0..len), or -1. */
int64_t gr_utf8_invalid_at(const char *p, size_t len);

/* Equality of a field with a C string, ASCII case-insensitive. */
int gr_field_equals(const gr_field *f, const char *s);

#endif
