/* The model file container (see model_io.h): header, checksum, and the
 * bounds-checked primitives both model kinds are written and read with. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "input_file.h"
#include "model_io.h"
#include "output_file.h"

#define GR_MODEL_MAGIC "GPURECMD"
#define GR_MODEL_ENDIAN 0x01020304u
#define GR_CHECKSUM_START 0x6a09e667f3bcc908ULL

/* ---- checksum: a streaming hash over 8-byte words (order-sensitive) ------ */

static uint64_t ck_word(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x9fb21c651e98df25ULL;
  return h ^ (h >> 29);
}

static void ck_update(gr_model_writer *c, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len && c->n_pending) {
    c->pending[c->n_pending++] = *p++;
    len--;
    if (c->n_pending == 8) {
      uint64_t w;
      memcpy(&w, c->pending, 8);
      c->h = ck_word(c->h, w);
      c->n_pending = 0;
    }
  }
  for (; len >= 8; len -= 8, p += 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    c->h = ck_word(c->h, w);
  }
  while (len--)
    c->pending[c->n_pending++] = *p++;
}

static uint64_t ck_final(const gr_model_writer *c) {
  uint64_t w = 0;
  memcpy(&w, c->pending, (size_t)c->n_pending);
  return ck_word(c->h, w ^ ((uint64_t)c->n_pending << 56));
}

uint64_t gr_model_checksum(const void *data, size_t len) {
  gr_model_writer c = {.h = GR_CHECKSUM_START};
  ck_update(&c, data, len);
  return ck_final(&c);
}

/* ---- writing --------------------------------------------------------------- */

gr_status gr_model_write_begin(gr_model_writer *w, const char *path, uint32_t kind) {
  memset(w, 0, sizeof *w);
  w->h = GR_CHECKSUM_START;
  GR_TRY(gr_output_open(&w->out, path));
  const uint32_t head[3] = {GR_MODEL_VERSION, GR_MODEL_ENDIAN, kind};
  gr_model_put(w, GR_MODEL_MAGIC, 8);
  gr_model_put(w, head, sizeof head);
  return GR_OK;
}

void gr_model_put(gr_model_writer *w, const void *p, size_t n) {
  if (n == 0) return;
  fwrite(p, 1, n, w->out.f); /* errors surface in gr_output_commit */
  ck_update(w, p, n);
}

void gr_model_put_str(gr_model_writer *w, const char *s) {
  const uint32_t n = (uint32_t)strlen(s);
  gr_model_put(w, &n, sizeof n);
  gr_model_put(w, s, n);
}

void gr_model_put_ids(gr_model_writer *w, const gr_id_map *ids) {
  const uint64_t bytes = ids->chars_len;
  gr_model_put(w, &bytes, sizeof bytes);
  gr_model_put(w, ids->chars, ids->chars_len);
}

gr_status gr_model_write_end(gr_model_writer *w) {
  const uint64_t sum = ck_final(w);
  fwrite(&sum, 1, sizeof sum, w->out.f);
  return gr_output_commit(&w->out);
}

/* ---- reading --------------------------------------------------------------- */

gr_status gr_model_take(gr_model_reader *r, void *dst, size_t n, const char *what) {
  if (n > r->len - r->pos)
    return gr_fail(GR_ERR_FORMAT, "%s: truncated model file (while reading %s at byte %zu)",
                   r->path, what, r->pos);
  if (n) memcpy(dst, r->p + r->pos, n);
  r->pos += n;
  return GR_OK;
}

gr_status gr_model_read_begin(gr_model_reader *r, const void *data, size_t len, const char *name,
                              uint32_t kind, const char *what) {
  *r = (gr_model_reader){data, len, 0, name ? name : "<memory>", 0};
  char magic[8];
  uint32_t head[3];
  GR_TRY(gr_model_take(r, magic, 8, "magic"));
  if (memcmp(magic, GR_MODEL_MAGIC, 8) != 0)
    return gr_fail(GR_ERR_FORMAT, "%s: not a gpurec model file (bad magic)", r->path);
  GR_TRY(gr_model_take(r, head, sizeof head, "header"));
  if (head[1] != GR_MODEL_ENDIAN)
    return gr_fail(GR_ERR_FORMAT, "%s: written on a machine of other byte order", r->path);
  if (head[0] < GR_MODEL_VERSION_MIN || head[0] > GR_MODEL_VERSION)
    return gr_fail(GR_ERR_FORMAT,
                   "%s: model format version %u, this gpurec reads versions %u to %u", r->path,
                   head[0], GR_MODEL_VERSION_MIN, GR_MODEL_VERSION);
  r->version = head[0];
  if (head[2] != kind) {
    const char *found = head[2] == GR_MODEL_KIND_ALS     ? "an ALS model"
                        : head[2] == GR_MODEL_KIND_LEADS ? "a leads model"
                                                         : "a model of unknown kind";
    return gr_fail(GR_ERR_FORMAT, "%s: %s (kind %u), not %s", r->path, found, head[2], what);
  }
  /* the checksum covers everything before the last 8 bytes */
  if (r->len < r->pos + 8) return gr_fail(GR_ERR_FORMAT, "%s: truncated model file", r->path);
  uint64_t stored;
  memcpy(&stored, r->p + r->len - 8, 8);
  if (gr_model_checksum(r->p, r->len - 8) != stored)
    return gr_fail(GR_ERR_FORMAT, "%s: checksum mismatch (the file is corrupt or truncated)",
                   r->path);
  r->len -= 8;
  return GR_OK;
}

gr_status gr_model_take_str(gr_model_reader *r, char **out, size_t max_len, const char *what) {
  uint32_t n = 0;
  GR_TRY(gr_model_take(r, &n, sizeof n, what));
  if (n > max_len || n > r->len - r->pos)
    return gr_fail(GR_ERR_FORMAT, "%s: corrupt %s (length %u)", r->path, what, n);
  if (memchr(r->p + r->pos, '\0', n))
    return gr_fail(GR_ERR_FORMAT, "%s: corrupt %s (NUL byte)", r->path, what);
  char *s = malloc((size_t)n + 1);
  if (!s) return gr_fail(GR_ERR_NOMEM, "cannot allocate %s", what);
  memcpy(s, r->p + r->pos, n);
  s[n] = '\0';
  r->pos += n;
  *out = s;
  return GR_OK;
}

gr_status gr_model_take_ids(gr_model_reader *r, gr_id_map *ids, int32_t expected,
                            const char *what) {
  uint64_t bytes = 0;
  GR_TRY(gr_model_take(r, &bytes, sizeof bytes, what));
  if (bytes > r->len - r->pos)
    return gr_fail(GR_ERR_FORMAT, "%s: truncated model file (%s)", r->path, what);
  const char *s = (const char *)r->p + r->pos;
  if (bytes && s[bytes - 1] != '\0')
    return gr_fail(GR_ERR_FORMAT, "%s: corrupt %s table", r->path, what);
  size_t at = 0;
  while (at < bytes) {
    const size_t len = strlen(s + at);
    int32_t idx;
    GR_TRY(gr_id_map_intern(ids, s + at, len, &idx));
    if (idx != ids->count - 1)
      return gr_fail(GR_ERR_FORMAT, "%s: duplicate id '%s' in the %s table", r->path, s + at, what);
    at += len + 1;
  }
  if (ids->count != expected)
    return gr_fail(GR_ERR_FORMAT, "%s: %s table has %d ids, header says %d", r->path, what,
                   ids->count, expected);
  r->pos += bytes;
  return GR_OK;
}

gr_status gr_model_read_end(const gr_model_reader *r) {
  if (r->pos != r->len)
    return gr_fail(GR_ERR_FORMAT, "%s: %zu unexpected bytes at the end of the model", r->path,
                   r->len - r->pos);
  return GR_OK;
}

gr_status gr_read_file(const char *path, uint8_t **buf, size_t *len) {
  FILE *f;
  GR_TRY(gr_input_open(path, &f));
  size_t cap = 1 << 20, n = 0;
  uint8_t *b = malloc(cap);
  while (b) {
    n += fread(b + n, 1, cap - n, f);
    if (n < cap) break;
    uint8_t *nb = realloc(b, cap * 2);
    if (!nb) {
      free(b);
      b = NULL;
      break;
    }
    b = nb;
    cap *= 2;
  }
  int err = ferror(f);
  fclose(f);
  if (!b) return gr_fail(GR_ERR_NOMEM, "cannot read %s into memory", path);
  if (err) {
    free(b);
    return gr_fail(GR_ERR_IO, "cannot read %s", path);
  }
  *buf = b;
  *len = n;
  return GR_OK;
}
