/* Compressed inputs: gzip (one member or several) and one-file zip archives
 * (stored or deflated, beside directories and macOS' __MACOSX/ entries)
 * give back exactly the text inside, and the readers read them as the
 * plain text; truncated, corrupt, trailing and unsupported data is refused
 * with a message that says which. The compressed bytes are made here with
 * zlib, the zip container written field by field. */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "gpurec.h"
#include "host/decompress.h"
#include "host/interactions.h"

#if !defined(GR_HAVE_ZLIB)
int main(void) {
  /* without zlib a compressed file is refused, clearly */
  const uint8_t gz[20] = {0x1f, 0x8b, 8};
  char *out = NULL;
  size_t n = 0;
  CHECK(gr_decompress("x.gz", gz, sizeof gz, 8, &out, &n) == GR_ERR_IO);
  CHECK(strstr(gr_last_error(), "without zlib") != NULL);
  return gr_test_finish();
}
#else
#include <zlib.h>

/* A growing byte string. */
typedef struct bytes {
  uint8_t *p;
  size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  if (!n) return;
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

static void put16(bytes *b, uint32_t v) {
  const uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  put(b, x, 2);
}

static void put32(bytes *b, uint32_t v) {
  put16(b, v & 0xFFFF);
  put16(b, v >> 16);
}

/* text deflated: windowBits 31 = a gzip member, -15 = raw deflate. */
static bytes deflated(const char *text, size_t len, int window_bits) {
  bytes b = {0};
  z_stream z;
  memset(&z, 0, sizeof z);
  CHECK(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  b.cap = deflateBound(&z, len) + 64;
  b.p = malloc(b.cap);
  z.next_in = (Bytef *)text;
  z.avail_in = (uInt)len;
  z.next_out = b.p;
  z.avail_out = (uInt)b.cap;
  CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
  b.n = b.cap - z.avail_out;
  deflateEnd(&z);
  return b;
}

/* An interactions CSV with quoted fields: user,item,event,timestamp. */
static char *make_csv(size_t rows, size_t *len) {
  gr_rng rng;
  gr_rng_seed(&rng, 5);
  const char *events[3] = {"view", "cart", "purchase"};
  char *text = malloc(rows * 64 + 64);
  size_t at = (size_t)sprintf(text, "user,item,event,timestamp\n");
  for (size_t r = 0; r < rows; r++)
    at += (size_t)sprintf(text + at, "u%u,\"i,%u\",%s,%u\n", (unsigned)gr_rng_below(&rng, 300),
                          (unsigned)gr_rng_below(&rng, 900), events[gr_rng_below(&rng, 3)],
                          (unsigned)(1600000000 + r));
  *len = at;
  return text;
}

/* gr_decompress gives back text[0..len) exactly, and pad zero bytes. */
static int inflates_to(const bytes *b, const char *text, size_t len) {
  char *out = NULL;
  size_t n = 0;
  const gr_status st = gr_decompress("t", b->p, b->n, 64, &out, &n);
  int same = st == GR_OK && n == len && memcmp(out, text, len) == 0;
  for (size_t i = 0; same && i < 64; i++)
    same = out[n + i] == 0;
  if (st != GR_OK) fprintf(stderr, "  %s\n", gr_last_error());
  free(out);
  return same;
}

/* gr_decompress refuses b with GR_ERR_PARSE and a message holding `what`. */
static int refused(const bytes *b, const char *what) {
  char *out = NULL;
  size_t n = 0;
  const gr_status st = gr_decompress("t", b->p, b->n, 8, &out, &n);
  const int ok = st == GR_ERR_PARSE && out == NULL && strstr(gr_last_error(), what) != NULL;
  if (!ok) fprintf(stderr, "  expected '%s', got status %d: %s\n", what, st, gr_last_error());
  free(out);
  return ok;
}

static void test_gzip(const char *text, size_t len) {
  bytes one = deflated(text, len, 31);
  CHECK(gr_packing_of(one.p, one.n) == GR_PACKING_GZIP);
  CHECK(inflates_to(&one, text, len));
  /* two members, as `cat a.gz b.gz` makes */
  bytes a = deflated(text, len / 3, 31), b = deflated(text + len / 3, len - len / 3, 31);
  bytes two = {0};
  put(&two, a.p, a.n);
  put(&two, b.p, b.n);
  CHECK(inflates_to(&two, text, len));
  /* cut anywhere: truncated (or, inside the trailer, its check fails) */
  const size_t cuts[4] = {10, one.n / 2, one.n - 5, one.n - 1};
  for (int i = 0; i < 4; i++) {
    bytes cut = {one.p, cuts[i], 0};
    CHECK_MSG(refused(&cut, "truncated") || refused(&cut, "corrupt"), "cut at %zu", cuts[i]);
  }
  /* a flipped byte in the data: the gzip CRC catches what inflate does not */
  one.p[one.n / 2] ^= 0x10;
  CHECK(refused(&one, "corrupt"));
  one.p[one.n / 2] ^= 0x10;
  /* something else after the data */
  bytes tail = {0};
  put(&tail, one.p, one.n);
  put(&tail, "junk", 4);
  CHECK(refused(&tail, "follows the gzip data"));
  /* zeros after it (tape or block padding) are not data: gzip(1) reads past them too */
  bytes padded = {0};
  put(&padded, one.p, one.n);
  put(&padded, "\0\0\0\0\0\0\0\0", 8);
  CHECK(inflates_to(&padded, text, len));
  free(padded.p);
  free(one.p);
  free(a.p);
  free(b.p);
  free(two.p);
  free(tail.p);
}

typedef struct zip_file {
  const char *name;
  const char *data;
  size_t len;
  int method;     /* 0 stored, 8 deflated, others as given */
  uint32_t flags; /* general purpose flags (bit 0: encrypted) */
} zip_file;

/* A zip archive of files, each with a local header, then the central
 * directory and the end record. bad_crc adds 1 to the first CRC. */
static bytes make_zip(const zip_file *files, int n, int bad_crc) {
  bytes z = {0}, cd = {0};
  for (int i = 0; i < n; i++) {
    const zip_file *f = &files[i];
    bytes packed = {0};
    if (f->method == 8)
      packed = deflated(f->data, f->len, -15);
    else
      put(&packed, f->data, f->len);
    const uint32_t crc = (uint32_t)crc32(0, (const Bytef *)f->data, (uInt)f->len) + (bad_crc && !i);
    const uint32_t local = (uint32_t)z.n, name_len = (uint32_t)strlen(f->name);
    put32(&z, 0x04034b50);
    put16(&z, 20);
    put16(&z, f->flags);
    put16(&z, (uint32_t)f->method);
    put32(&z, 0); /* time, date */
    put32(&z, crc);
    put32(&z, (uint32_t)packed.n);
    put32(&z, (uint32_t)f->len);
    put16(&z, name_len);
    put16(&z, 0);
    put(&z, f->name, name_len);
    if (packed.n) put(&z, packed.p, packed.n);
    put32(&cd, 0x02014b50);
    put16(&cd, 20);
    put16(&cd, 20);
    put16(&cd, f->flags);
    put16(&cd, (uint32_t)f->method);
    put32(&cd, 0);
    put32(&cd, crc);
    put32(&cd, (uint32_t)packed.n);
    put32(&cd, (uint32_t)f->len);
    put16(&cd, name_len);
    put32(&cd, 0); /* extra and comment lengths */
    put32(&cd, 0); /* disk, internal attributes */
    put32(&cd, 0); /* external attributes */
    put32(&cd, local);
    put(&cd, f->name, name_len);
    free(packed.p);
  }
  const uint32_t cd_at = (uint32_t)z.n;
  put(&z, cd.p, cd.n);
  put32(&z, 0x06054b50);
  put32(&z, 0); /* disks */
  put16(&z, (uint32_t)n);
  put16(&z, (uint32_t)n);
  put32(&z, (uint32_t)cd.n);
  put32(&z, cd_at);
  put16(&z, 7);
  put(&z, "comment", 7);
  free(cd.p);
  return z;
}

static void test_zip(const char *text, size_t len) {
  for (int method = 0; method <= 8; method += 8) {
    const zip_file one[4] = {{"dir/", "", 0, 0, 0},
                             {"__MACOSX/._data.csv", "resource fork", 13, 0, 0},
                             {"data.csv", text, len, method, 0},
                             {"__MACOSX/", "", 0, 0, 0}};
    bytes z = make_zip(one, 4, 0);
    CHECK(gr_packing_of(z.p, z.n) == GR_PACKING_ZIP);
    CHECK_MSG(inflates_to(&z, text, len), "method %d", method);
    bytes cut = {z.p, z.n - 30, 0};
    CHECK(refused(&cut, "no end record"));
    free(z.p);
    z = make_zip(one + 2, 1, 1);
    CHECK(refused(&z, "CRC"));
    free(z.p);
  }
  /* an empty file, stored or deflated, is an empty text */
  for (int method = 0; method <= 8; method += 8) {
    const zip_file empty[1] = {{"empty.csv", "", 0, method, 0}};
    bytes ze = make_zip(empty, 1, 0);
    CHECK_MSG(inflates_to(&ze, "", 0), "empty, method %d", method);
    free(ze.p);
  }
  /* a directory that understates the size: refused as soon as the text
   * passes it, not after inflating it all */
  const zip_file big[1] = {{"big.csv", text, len, 8, 0}};
  bytes zb = make_zip(big, 1, 0);
  size_t at = 0;
  while (at + 4 < zb.n && memcmp(zb.p + at, "PK\1\2", 4) != 0)
    at++;
  memset(zb.p + at + 24, 0, 4);
  zb.p[at + 24] = 10; /* the entry's uncompressed size: 10 */
  CHECK(refused(&zb, "holds more than the 10 bytes the directory says"));
  free(zb.p);
  /* control bytes in a name are not printed */
  const zip_file odd[2] = {{"\x1b[31mred.csv", text, 10, 0, 0}, {"b\nc.csv", text, 10, 0, 0}};
  bytes zo = make_zip(odd, 2, 0);
  CHECK(refused(&zo, "(?[31mred.csv, b?c.csv)"));
  free(zo.p);
  const zip_file two[2] = {{"a.csv", text, 100, 8, 0}, {"b.csv", text, 50, 0, 0}};
  bytes z = make_zip(two, 2, 0);
  CHECK(refused(&z, "holds 2 files (a.csv, b.csv)"));
  free(z.p);
  const zip_file none[1] = {{"dir/", "", 0, 0, 0}};
  z = make_zip(none, 1, 0);
  CHECK(refused(&z, "holds no file"));
  free(z.p);
  const zip_file locked[1] = {{"a.csv", text, 100, 0, 1}};
  z = make_zip(locked, 1, 0);
  CHECK(refused(&z, "encrypted"));
  free(z.p);
  const zip_file bzip[1] = {{"a.csv", text, 100, 12, 0}};
  z = make_zip(bzip, 1, 0);
  CHECK(refused(&z, "method 12"));
  free(z.p);
  /* the directory says the data runs past the archive */
  const zip_file stored[1] = {{"a.csv", text, 100, 0, 0}};
  z = make_zip(stored, 1, 0);
  size_t cd = 0;
  while (cd + 4 < z.n && memcmp(z.p + cd, "PK\1\2", 4) != 0)
    cd++;
  z.p[cd + 20 + 3] = 0x7F; /* the entry's compressed size */
  CHECK(refused(&z, "truncated"));
  free(z.p);
  /* a zip64 end record's markers */
  z = make_zip(two, 1, 0);
  memset(z.p + z.n - 7 - 22 + 16, 0xFF, 4);
  CHECK(refused(&z, "zip64"));
  free(z.p);
}

/* The interactions reader reads the gzip and the zip as the plain text. */
static void test_readers(const char *text, size_t len) {
  gr_csv_options o;
  gr_csv_options_default(&o);
  o.event_weights = "view=1,cart=4,purchase=10";
  gr_interactions *plain = NULL, *gz = NULL, *zp = NULL;
  CHECK_OK(gr_interactions_read_csv_mem(&plain, "plain", text, len, &o));
  bytes g = deflated(text, len, 31);
  CHECK_OK(gr_interactions_read_csv_mem(&gz, "gz", g.p, g.n, &o));
  const zip_file f[1] = {{"events.csv", text, len, 8, 0}};
  bytes z = make_zip(f, 1, 0);
  CHECK_OK(gr_interactions_read_csv_mem(&zp, "zip", z.p, z.n, &o));
  const gr_interactions *got[2] = {gz, zp};
  for (int i = 0; plain && i < 2; i++) {
    const gr_interactions *x = got[i];
    CHECK(x && x->n == plain->n && x->users.count == plain->users.count &&
          memcmp(x->user, plain->user, sizeof(int32_t) * (size_t)x->n) == 0 &&
          memcmp(x->item, plain->item, sizeof(int32_t) * (size_t)x->n) == 0 &&
          memcmp(x->weight, plain->weight, sizeof(float) * (size_t)x->n) == 0 &&
          memcmp(x->timestamp, plain->timestamp, sizeof(int64_t) * (size_t)x->n) == 0);
  }
  CHECK(plain && plain->n == 4000);
  /* a parse error inside names the compressed file and the line of the text */
  char bad[] = "user,item\nu1,i1\nu2,\"i2\nu3,i3\n";
  bytes b = deflated(bad, strlen(bad), 31);
  gr_interactions *x = NULL;
  o.event_weights = NULL;
  CHECK(gr_interactions_read_csv_mem(&x, "bad.csv.gz", b.p, b.n, &o) == GR_ERR_PARSE);
  CHECK_MSG(strstr(gr_last_error(), "bad.csv.gz:3:") != NULL, "%s", gr_last_error());
  gr_interactions_free(plain);
  gr_interactions_free(gz);
  gr_interactions_free(zp);
  free(g.p);
  free(z.p);
  free(b.p);
}

int main(void) {
  CHECK(gr_decompress_available());
  /* text that starts like neither stays plain */
  CHECK(gr_packing_of("PK,item\n", 8) == GR_PACKING_NONE);
  CHECK(gr_packing_of("\x1f", 1) == GR_PACKING_NONE);
  size_t len = 0;
  char *text = make_csv(4000, &len);
  test_gzip(text, len);
  test_zip(text, len);
  test_readers(text, len);
  free(text);
  return gr_test_finish();
}
#endif
