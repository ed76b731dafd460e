/* The model file container shared by every kind of model (ALS, leads):
 *   "GPURECMD" | u32 version | u32 0x01020304 | u32 kind | payload |
 *   u64 checksum of every byte before it
 * little-endian as written by this machine, checked on load by the
 * endianness marker. Writers stream the payload through a checksum into a
 * temporary file that is renamed into place; readers verify magic,
 * version, kind and checksum before the payload is parsed, and every take
 * is bounds-checked, so a corrupt file is refused and never trusted. */
#ifndef GR_HOST_MODEL_IO_H
#define GR_HOST_MODEL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"
#include "id_map.h"
#include "output_file.h"

#define GR_MODEL_VERSION 3u     /* written */
#define GR_MODEL_VERSION_MIN 2u /* still read: 3 added the ALS log confidence */
#define GR_MODEL_KIND_ALS 1u
#define GR_MODEL_KIND_LEADS 2u

/* The checksum stored in a model file's last 8 bytes, over the bytes before. */
uint64_t gr_model_checksum(const void *data, size_t len);

/* ---- writing ------------------------------------------------------------ */

typedef struct gr_model_writer {
  gr_output_file out;
  uint64_t h; /* streaming checksum state */
  uint8_t pending[8];
  int n_pending;
} gr_model_writer;

/* Opens path's temporary file and writes the container header. */
gr_status gr_model_write_begin(gr_model_writer *w, const char *path, uint32_t kind);
void gr_model_put(gr_model_writer *w, const void *p, size_t n);
/* A length-prefixed string (u32 bytes, then the bytes). */
void gr_model_put_str(gr_model_writer *w, const char *s);
/* An id table: u64 bytes, then the NUL-terminated ids concatenated. */
void gr_model_put_ids(gr_model_writer *w, const gr_id_map *ids);
/* Appends the checksum and renames the file into place (or removes it). */
gr_status gr_model_write_end(gr_model_writer *w);

/* ---- reading ------------------------------------------------------------ */

typedef struct gr_model_reader {
  const uint8_t *p;
  size_t len, pos; /* len excludes the checksum once opened */
  const char *path;
  uint32_t version; /* of the file, GR_MODEL_VERSION_MIN..GR_MODEL_VERSION */
} gr_model_reader;

/* Checks magic, byte order, version, kind (`what` names it in messages:
 * "an ALS model") and checksum of data[0..len); positions r at the payload. */
gr_status gr_model_read_begin(gr_model_reader *r, const void *data, size_t len, const char *name,
                              uint32_t kind, const char *what);
gr_status gr_model_take(gr_model_reader *r, void *dst, size_t n, const char *what);
/* A string written by gr_model_put_str, at most max_len bytes; *out is
 * malloc'ed and NUL-terminated. */
gr_status gr_model_take_str(gr_model_reader *r, char **out, size_t max_len, const char *what);
/* An id table of exactly `expected` distinct ids. */
gr_status gr_model_take_ids(gr_model_reader *r, gr_id_map *ids, int32_t expected, const char *what);
/* Fails unless the payload was consumed exactly. */
gr_status gr_model_read_end(const gr_model_reader *r);
/* Reads a whole file into a malloc'ed buffer. */
gr_status gr_read_file(const char *path, uint8_t **buf, size_t *len);

#endif
