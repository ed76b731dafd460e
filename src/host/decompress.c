/* gzip files and one-file zip archives inflated into memory; see
 * decompress.h. zlib does the inflating; the zip container (end record,
 * central directory, local header) is read here, every offset and size
 * checked against the file before it is used, since the bytes may be
 * anything. */
#include "decompress.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

#if defined(GR_HAVE_ZLIB)
#include <zlib.h>
#endif

gr_packing gr_packing_of(const void *data, size_t len) {
  const uint8_t *b = data;
  if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) return GR_PACKING_GZIP;
  /* a local file header, or the end record of an empty archive */
  if (len >= 4 && b[0] == 'P' && b[1] == 'K' &&
      ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6)))
    return GR_PACKING_ZIP;
  return GR_PACKING_NONE;
}

const char *gr_packing_name(gr_packing p) {
  return p == GR_PACKING_GZIP ? "gzip" : p == GR_PACKING_ZIP ? "zip" : "plain";
}

#if !defined(GR_HAVE_ZLIB)

int gr_decompress_available(void) { return 0; }

gr_status gr_decompress(const char *name, const uint8_t *data, size_t len, size_t pad, char **out,
                        size_t *out_len) {
  (void)pad;
  *out = NULL;
  *out_len = 0;
  return gr_fail(GR_ERR_IO,
                 "%s is a %s file, and this gpurec was built without zlib: unpack it first, or "
                 "install zlib1g-dev and rebuild",
                 name, gr_packing_name(gr_packing_of(data, len)));
}

#else

int gr_decompress_available(void) { return 1; }

/* The most a deflate stream can expand: 258 bytes from about 2 bits. */
#define GR_DEFLATE_MAX_RATIO 1032

/* Growing output: len bytes of text in cap (plus pad bytes kept free). */
typedef struct out_buf {
  char *p;
  size_t len, cap, pad;
} out_buf;

static gr_status out_reserve(out_buf *o, size_t want, const char *name) {
  if (o->p && o->cap - o->len >= want) return GR_OK;
  size_t cap = o->cap ? o->cap : want ? want : 1;
  while (cap - o->len < want) {
    if (cap > (SIZE_MAX - o->pad) / 2)
      return gr_fail(GR_ERR_NOMEM, "%s: the text inside is too large", name);
    cap *= 2;
  }
  char *p = realloc(o->p, cap + o->pad);
  if (!p)
    return gr_fail(GR_ERR_NOMEM, "cannot allocate %zu bytes to unpack %s (%zu unpacked so far)",
                   cap + o->pad, name, o->len);
  o->p = p;
  o->cap = cap;
  return GR_OK;
}

/* What is being inflated, for messages: "gzip data", or a zip entry's
 * data, which starts at byte `base` of the file. */
typedef struct inflate_what {
  int gzip;
  const char *entry; /* zip: the entry's printable name */
  size_t base;
  size_t limit; /* the most text there may be (zip: its directory's size) */
} inflate_what;

/* Inflates data[0..len) into o with z (initialized by the caller for the
 * format). gzip: members follow each other until the input ends, and an
 * all-zero tail (padding) is ignored, as gzip(1) does. */
static gr_status inflate_all(z_stream *z, const uint8_t *data, size_t len, const inflate_what *w,
                             out_buf *o, const char *name) {
  const char *kind = w->gzip ? "gzip data" : "data of ";
  const char *entry = w->gzip ? "" : w->entry;
  size_t at = 0; /* input consumed */
  for (;;) {
    if (o->len > w->limit)
      return gr_fail(GR_ERR_PARSE, "%s: %s%s holds more than the %zu bytes the directory says",
                     name, kind, entry, w->limit);
    GR_TRY(out_reserve(o, (size_t)1 << 16, name));
    const size_t in_left = len - at;
    size_t out_left = o->cap - o->len;
    if (out_left > w->limit + 1 - o->len)
      out_left = w->limit + 1 - o->len; /* a lie shows at once */
    z->next_in = (Bytef *)(data + at);
    z->avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
    z->next_out = (Bytef *)(o->p + o->len);
    z->avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
    const uInt in0 = z->avail_in, out0 = z->avail_out;
    const int rc = inflate(z, Z_NO_FLUSH);
    at += in0 - z->avail_in;
    o->len += out0 - z->avail_out;
    if (rc == Z_STREAM_END) {
      /* gzip: another member may follow (concatenated files) */
      if (w->gzip && len - at >= 2 && data[at] == 0x1f && data[at + 1] == 0x8b) {
        if (inflateReset(z) != Z_OK)
          return gr_fail(GR_ERR_INTERNAL, "%s: cannot restart inflating", name);
        continue;
      }
      size_t tail = at;
      while (w->gzip && tail < len && data[tail] == 0)
        tail++;
      if (w->gzip && tail < len)
        return gr_fail(GR_ERR_PARSE,
                       "%s: what follows the gzip data at byte %zu (%zu bytes) is not gzip", name,
                       at, len - at);
      return GR_OK;
    }
    if (rc == Z_MEM_ERROR) return gr_fail(GR_ERR_NOMEM, "%s: out of memory inflating", name);
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
      return gr_fail(GR_ERR_PARSE, "%s: corrupt %s%s near byte %zu of the file (%s)", name, kind,
                     entry, w->base + at, z->msg ? z->msg : "bad data");
    if (at == len && z->avail_out > 0) /* all input read, output room left, no end */
      return gr_fail(GR_ERR_PARSE, "%s: the %s%s is truncated (it stops at byte %zu of the file)",
                     name, kind, entry, w->base + len);
  }
}

static gr_status gunzip(const char *name, const uint8_t *data, size_t len, out_buf *o) {
  /* the last member's size mod 2^32 is the file's last 4 bytes: a first
   * guess, bounded by what the input can expand to */
  size_t guess = len;
  if (len >= 18)
    guess = (size_t)data[len - 4] | (size_t)data[len - 3] << 8 | (size_t)data[len - 2] << 16 |
            (size_t)data[len - 1] << 24;
  const size_t most = len > (SIZE_MAX >> 11) ? SIZE_MAX >> 1 : len * GR_DEFLATE_MAX_RATIO;
  if (guess > most) guess = most;
  GR_TRY(out_reserve(o, guess + 1, name));
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    return gr_fail(GR_ERR_NOMEM, "%s: cannot start inflating", name);
  const inflate_what w = {1, NULL, 0, SIZE_MAX - 1};
  const gr_status st = inflate_all(&z, data, len, &w, o, name);
  inflateEnd(&z);
  return st;
}

// ---- zip ----------------------------------------------------------------------

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

#define ZIP_END_SIZE 22     /* end of central directory record, without its comment */
#define ZIP_CENTRAL_SIZE 46 /* central directory entry, without name, extra, comment */
#define ZIP_LOCAL_SIZE 30   /* local file header, without name and extra */

/* The end record: the last "PK\5\6" whose comment reaches the file's end. */
static const uint8_t *zip_end(const uint8_t *data, size_t len) {
  if (len < ZIP_END_SIZE) return NULL;
  const size_t lowest = len - ZIP_END_SIZE > 65535 ? len - ZIP_END_SIZE - 65535 : 0;
  for (size_t at = len - ZIP_END_SIZE + 1; at-- > lowest;) {
    const uint8_t *e = data + at;
    if (le32(e) == 0x06054b50 && at + ZIP_END_SIZE + le16(e + 20) == len) return e;
  }
  return NULL;
}

/* name[0..n) for a message: control bytes (a hostile archive's escape
 * sequences, line breaks) become '?', and long names are cut. */
static void printable(char *buf, size_t cap, const uint8_t *name, size_t n) {
  size_t k = 0;
  for (; k < n && k + 1 < cap; k++)
    buf[k] = name[k] < 0x20 || name[k] == 0x7f ? '?' : (char)name[k];
  buf[k] = '\0';
}

/* An entry that is not a file to read: a directory, or macOS' resource
 * forks beside the file (__MACOSX/...). */
static int zip_skipped(const uint8_t *name, size_t n) {
  return (n > 0 && name[n - 1] == '/') || (n >= 9 && memcmp(name, "__MACOSX/", 9) == 0);
}

typedef struct zip_entry {
  uint32_t flags, method, crc, packed, size, local;
  const uint8_t *name;
  size_t name_len;
} zip_entry;

/* The archive's one file (directories and __MACOSX/ aside). */
static gr_status zip_find(const char *name, const uint8_t *data, size_t len, zip_entry *out) {
  const uint8_t *e = zip_end(data, len);
  if (!e)
    return gr_fail(GR_ERR_PARSE,
                   "%s: not a zip archive (no end record): truncated, or with data after its end?",
                   name);
  const uint32_t n_entries = le16(e + 10), cd_size = le32(e + 12), cd_at = le32(e + 16);
  if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != n_entries)
    return gr_fail(GR_ERR_PARSE, "%s: a zip archive split over several files is not supported",
                   name);
  if (n_entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_at == 0xFFFFFFFFu)
    return gr_fail(GR_ERR_PARSE,
                   "%s: zip64 archives (over 4 GB or 65535 files) are not "
                   "supported: unzip it first",
                   name);
  if ((size_t)cd_at > len || (size_t)cd_size > len - cd_at)
    return gr_fail(GR_ERR_PARSE, "%s: corrupt zip archive (its directory lies outside the file)",
                   name);
  int found = 0;
  char names[3][64];
  const uint8_t *p = data + cd_at, *end = data + cd_at + cd_size;
  for (uint32_t i = 0; i < n_entries; i++) {
    if ((size_t)(end - p) < ZIP_CENTRAL_SIZE || le32(p) != 0x02014b50)
      return gr_fail(GR_ERR_PARSE, "%s: corrupt zip archive (directory entry %u)", name, i + 1);
    const size_t n = le16(p + 28), extra = le16(p + 30), comment = le16(p + 32);
    if ((size_t)(end - p) - ZIP_CENTRAL_SIZE < n + extra + comment)
      return gr_fail(GR_ERR_PARSE, "%s: corrupt zip archive (directory entry %u)", name, i + 1);
    const uint8_t *entry_name = p + ZIP_CENTRAL_SIZE;
    if (!zip_skipped(entry_name, n)) {
      if (found < 3) printable(names[found], sizeof names[found], entry_name, n);
      if (found == 0)
        *out = (zip_entry){le16(p + 8),  le16(p + 10), le32(p + 16), le32(p + 20),
                           le32(p + 24), le32(p + 42), entry_name,   n};
      found++;
    }
    p += ZIP_CENTRAL_SIZE + n + extra + comment;
  }
  if (found == 0) return gr_fail(GR_ERR_PARSE, "%s: the zip archive holds no file", name);
  if (found > 1)
    return gr_fail(GR_ERR_PARSE,
                   "%s: the zip archive holds %d files (%s, %s%s); gpurec reads a zip of one file: "
                   "unzip it and name the one to read",
                   name, found, names[0], names[1], found > 2 ? ", ..." : "");
  return GR_OK;
}

static gr_status unzip_one(const char *name, const uint8_t *data, size_t len, out_buf *o) {
  zip_entry f = {0};
  GR_TRY(zip_find(name, data, len, &f));
  char entry[128];
  printable(entry, sizeof entry, f.name, f.name_len);
  if (f.flags & 1) return gr_fail(GR_ERR_PARSE, "%s: %s is encrypted: unzip it first", name, entry);
  if (f.method != 0 && f.method != 8)
    return gr_fail(GR_ERR_PARSE,
                   "%s: %s is compressed with method %u; gpurec reads stored and deflated "
                   "entries: unzip it first",
                   name, entry, f.method);
  if (f.packed == 0xFFFFFFFFu || f.size == 0xFFFFFFFFu || f.local == 0xFFFFFFFFu)
    return gr_fail(GR_ERR_PARSE, "%s: zip64 entries (over 4 GB) are not supported: unzip it first",
                   name);
  if ((size_t)f.local > len || len - f.local < ZIP_LOCAL_SIZE || le32(data + f.local) != 0x04034b50)
    return gr_fail(GR_ERR_PARSE, "%s: corrupt zip archive (no header for %s)", name, entry);
  const size_t at =
      (size_t)f.local + ZIP_LOCAL_SIZE + le16(data + f.local + 26) + le16(data + f.local + 28);
  if (at > len || len - at < f.packed)
    return gr_fail(GR_ERR_PARSE, "%s: the zip archive is truncated (%s)", name, entry);
  const uint8_t *packed = data + at;
  if (f.method == 0) {
    if (f.packed != f.size)
      return gr_fail(GR_ERR_PARSE, "%s: corrupt zip archive (stored %s: %u bytes, not %u)", name,
                     entry, f.packed, f.size);
    GR_TRY(out_reserve(o, f.size, name)); /* a buffer even for an empty file */
    if (f.size) memcpy(o->p, packed, f.size);
    o->len = f.size;
  } else {
    const size_t most = (size_t)f.packed * GR_DEFLATE_MAX_RATIO + 1024;
    GR_TRY(out_reserve(o, (size_t)f.size < most ? (size_t)f.size + 1 : most, name));
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
      return gr_fail(GR_ERR_NOMEM, "%s: cannot start inflating", name);
    const inflate_what w = {0, entry, at, f.size};
    const gr_status st = inflate_all(&z, packed, f.packed, &w, o, name);
    inflateEnd(&z);
    GR_TRY(st);
  }
  if (o->len != f.size)
    return gr_fail(GR_ERR_PARSE,
                   "%s: corrupt zip archive (%s holds %zu bytes, the directory says %u)", name,
                   entry, o->len, f.size);
  if ((uint32_t)crc32_z(0, (const Bytef *)o->p, o->len) != f.crc)
    return gr_fail(GR_ERR_PARSE, "%s: corrupt zip archive (%s fails its CRC check)", name, entry);
  return GR_OK;
}

gr_status gr_decompress(const char *name, const uint8_t *data, size_t len, size_t pad, char **out,
                        size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  out_buf o = {NULL, 0, 0, pad};
  const gr_packing p = gr_packing_of(data, len);
  gr_status st = p == GR_PACKING_GZIP  ? gunzip(name, data, len, &o)
                 : p == GR_PACKING_ZIP ? unzip_one(name, data, len, &o)
                                       : gr_fail(GR_ERR_INVALID_ARG, "%s is not compressed", name);
  if (st == GR_OK && !o.p) st = out_reserve(&o, 1, name); /* an empty file inside */
  if (st != GR_OK) {
    free(o.p);
    return st;
  }
  memset(o.p + o.len, 0, pad);
  *out = o.p;
  *out_len = o.len;
  return GR_OK;
}

#endif
