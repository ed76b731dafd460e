/* Compressed input files. Event logs are often kept gzipped, and the leads
 * market is distributed as a zip holding one CSV; reading them as they are
 * saves a step and the disk space of the unpacked copy. Both are
 * recognized by their first bytes (not the file name), and inflated whole
 * into memory, where the CSV scanner reads them as any other text. */
#ifndef GR_HOST_DECOMPRESS_H
#define GR_HOST_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"

typedef enum gr_packing {
  GR_PACKING_NONE, /* plain text */
  GR_PACKING_GZIP, /* one or more gzip members, as gzip and `cat a.gz b.gz` write */
  GR_PACKING_ZIP,  /* a zip archive */
} gr_packing;

/* What data[0..len) starts like. */
gr_packing gr_packing_of(const void *data, size_t len);

/* "gzip", "zip" or "plain". */
const char *gr_packing_name(gr_packing p);

/* 1 when this build can inflate (it was built with zlib). */
int gr_decompress_available(void);

/* The text inside data[0..len), a gzip file or a zip archive holding one
 * file (directories and macOS' __MACOSX/ entries aside): a new buffer of
 * *out_len bytes followed by pad zero bytes, released with free(). name
 * stands for the file in messages.
 * @return GR_OK; GR_ERR_PARSE for corrupt, truncated or unsupported data
 * (zip64, encryption, a method other than stored or deflate, several
 * files), saying which; GR_ERR_NOMEM; GR_ERR_IO in a build without zlib. */
gr_status gr_decompress(const char *name, const uint8_t *data, size_t len, size_t pad, char **out,
                        size_t *out_len);

#endif
