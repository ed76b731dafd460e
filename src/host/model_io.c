/* The ALS model file. Layout (little-endian, as written by this machine and
 * checked on load by the endianness marker):
 *   "GPURECMD" | u32 version | u32 0x01020304 | u32 kind (1 = ALS)
 *   params: i32 factors, f32 regularization, f32 alpha, f32 confidence_offset,
 *           i32 iterations, i32 solver, i32 cg_steps, u64 random_state
 *   i32 n_users | i32 n_items | i32 iterations done
 *   u64 bytes + user ids (NUL-terminated, concatenated) | same for items
 *   f32 user factors (n_users, factors) | f32 item factors (n_items, factors)
 *   u64 checksum of every byte before it
 * Loading bounds-checks every field before trusting it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "als_model.h"
#include "model_io.h"
#include "output_file.h"

#define GR_MODEL_MAGIC "GPURECMD"
#define GR_MODEL_VERSION 2u
#define GR_MODEL_ENDIAN 0x01020304u
#define GR_MODEL_KIND_ALS 1u

/* Streaming checksum over 8-byte words (order-sensitive). */
typedef struct checksum {
  uint64_t h;
  uint8_t pending[8];
  int n_pending;
} checksum;

static void ck_word(checksum *c, uint64_t w) {
  c->h = (c->h ^ w) * 0x9fb21c651e98df25ULL;
  c->h ^= c->h >> 29;
}

static void ck_update(checksum *c, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len && c->n_pending) {
    c->pending[c->n_pending++] = *p++;
    len--;
    if (c->n_pending == 8) {
      uint64_t w;
      memcpy(&w, c->pending, 8);
      ck_word(c, w);
      c->n_pending = 0;
    }
  }
  for (; len >= 8; len -= 8, p += 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    ck_word(c, w);
  }
  while (len--)
    c->pending[c->n_pending++] = *p++;
}

static uint64_t ck_final(const checksum *c) {
  checksum t = *c;
  uint64_t w = 0;
  memcpy(&w, t.pending, (size_t)t.n_pending);
  ck_word(&t, w ^ ((uint64_t)t.n_pending << 56));
  return t.h;
}

static const checksum k_checksum_start = {0x6a09e667f3bcc908ULL, {0}, 0};

uint64_t gr_model_checksum(const void *data, size_t len) {
  checksum c = k_checksum_start;
  ck_update(&c, data, len);
  return ck_final(&c);
}

typedef struct writer {
  FILE *f;
  checksum ck;
} writer;

static void put(writer *w, const void *p, size_t n) {
  fwrite(p, 1, n, w->f);
  ck_update(&w->ck, p, n);
}

static void put_ids(writer *w, const gr_id_map *ids) {
  uint64_t bytes = ids->chars_len;
  put(w, &bytes, sizeof bytes);
  put(w, ids->chars, ids->chars_len);
}

gr_status gr_als_model_save(const gr_als_model *m, const char *path) {
  gr_output_file out;
  GR_TRY(gr_output_open(&out, path));
  writer w = {out.f, k_checksum_start};
  const uint32_t head[3] = {GR_MODEL_VERSION, GR_MODEL_ENDIAN, GR_MODEL_KIND_ALS};
  put(&w, GR_MODEL_MAGIC, 8);
  put(&w, head, sizeof head);
  const gr_als_params *p = &m->params;
  const int32_t ints[4] = {p->factors, p->iterations, (int32_t)p->solver, p->cg_steps};
  const float floats[3] = {p->regularization, p->alpha, p->confidence_offset};
  put(&w, ints, sizeof ints);
  put(&w, floats, sizeof floats);
  put(&w, &p->random_state, sizeof p->random_state);
  const int32_t counts[3] = {m->n_users, m->n_items, m->iterations_done};
  put(&w, counts, sizeof counts);
  put_ids(&w, &m->users);
  put_ids(&w, &m->items);
  const size_t k = (size_t)p->factors;
  put(&w, m->user_factors, sizeof(float) * (size_t)m->n_users * k);
  put(&w, m->item_factors, sizeof(float) * (size_t)m->n_items * k);
  const uint64_t sum = ck_final(&w.ck);
  fwrite(&sum, 1, sizeof sum, w.f);
  return gr_output_commit(&out);
}

/* ---- loading ------------------------------------------------------------ */

typedef struct reader {
  const uint8_t *p;
  size_t len, pos;
  const char *path;
} reader;

static gr_status take(reader *r, void *dst, size_t n, const char *what) {
  if (n > r->len - r->pos)
    return gr_fail(GR_ERR_FORMAT, "%s: truncated model file (while reading %s at byte %zu)",
                   r->path, what, r->pos);
  memcpy(dst, r->p + r->pos, n);
  r->pos += n;
  return GR_OK;
}

static gr_status take_ids(reader *r, gr_id_map *ids, int32_t expected, const char *what) {
  uint64_t bytes = 0;
  GR_TRY(take(r, &bytes, sizeof bytes, what));
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

static gr_status read_all(const char *path, uint8_t **buf, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return gr_fail(GR_ERR_IO, "cannot open %s: %s", path, strerror(errno));
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

static gr_status parse_model(reader *r, gr_als_model **out) {
  char magic[8];
  uint32_t head[3];
  GR_TRY(take(r, magic, 8, "magic"));
  if (memcmp(magic, GR_MODEL_MAGIC, 8) != 0)
    return gr_fail(GR_ERR_FORMAT, "%s: not a gpurec model file (bad magic)", r->path);
  GR_TRY(take(r, head, sizeof head, "header"));
  if (head[1] != GR_MODEL_ENDIAN)
    return gr_fail(GR_ERR_FORMAT, "%s: written on a machine of other byte order", r->path);
  if (head[0] != GR_MODEL_VERSION)
    return gr_fail(GR_ERR_FORMAT, "%s: model format version %u, this gpurec reads version %u",
                   r->path, head[0], GR_MODEL_VERSION);
  if (head[2] != GR_MODEL_KIND_ALS)
    return gr_fail(GR_ERR_FORMAT, "%s: a model of kind %u, not an ALS model", r->path, head[2]);
  /* the checksum covers everything before the last 8 bytes */
  if (r->len < r->pos + 8) return gr_fail(GR_ERR_FORMAT, "%s: truncated model file", r->path);
  uint64_t stored;
  memcpy(&stored, r->p + r->len - 8, 8);
  if (gr_model_checksum(r->p, r->len - 8) != stored)
    return gr_fail(GR_ERR_FORMAT, "%s: checksum mismatch (the file is corrupt or truncated)",
                   r->path);
  r->len -= 8;

  gr_als_params p;
  int32_t ints[4];
  float floats[3];
  int32_t counts[3];
  GR_TRY(take(r, ints, sizeof ints, "parameters"));
  GR_TRY(take(r, floats, sizeof floats, "parameters"));
  GR_TRY(take(r, &p.random_state, sizeof p.random_state, "parameters"));
  GR_TRY(take(r, counts, sizeof counts, "sizes"));
  p.factors = ints[0];
  p.iterations = ints[1];
  p.solver = (gr_als_solver)ints[2];
  p.cg_steps = ints[3];
  p.regularization = floats[0];
  p.alpha = floats[1];
  p.confidence_offset = floats[2];
  p.calc_loss = 0;
  if (gr_als_params_validate(&p) != GR_OK)
    return gr_fail_context(GR_ERR_FORMAT, "%s: invalid parameters in the model", r->path);
  if (counts[0] < 0 || counts[1] < 0 || counts[2] < 0 || counts[2] > p.iterations)
    return gr_fail(GR_ERR_FORMAT, "%s: invalid sizes in the model", r->path);
  const size_t k = (size_t)p.factors;
  const size_t factor_bytes = sizeof(float) * ((size_t)counts[0] + (size_t)counts[1]) * k;
  if (factor_bytes > r->len)
    return gr_fail(GR_ERR_FORMAT, "%s: sizes exceed the file (truncated?)", r->path);
  gr_als_model *m;
  GR_TRY(gr_als_model_alloc(&m, &p, counts[0], counts[1]));
  m->iterations_done = counts[2];
  gr_status st = take_ids(r, &m->users, counts[0], "user id");
  if (st == GR_OK) st = take_ids(r, &m->items, counts[1], "item id");
  if (st == GR_OK)
    st = take(r, m->user_factors, sizeof(float) * (size_t)counts[0] * k, "user factors");
  if (st == GR_OK)
    st = take(r, m->item_factors, sizeof(float) * (size_t)counts[1] * k, "item factors");
  if (st == GR_OK && r->pos != r->len)
    st = gr_fail(GR_ERR_FORMAT, "%s: %zu unexpected bytes after the factors", r->path,
                 r->len - r->pos);
  for (size_t i = 0; st == GR_OK && i < (size_t)counts[0] * k; i++)
    if (!isfinite(m->user_factors[i]))
      st = gr_fail(GR_ERR_FORMAT, "%s: non-finite user factor", r->path);
  for (size_t i = 0; st == GR_OK && i < (size_t)counts[1] * k; i++)
    if (!isfinite(m->item_factors[i]))
      st = gr_fail(GR_ERR_FORMAT, "%s: non-finite item factor", r->path);
  if (st == GR_OK) st = gr_als_model_update_gram(m);
  if (st != GR_OK) {
    gr_als_model_free(m);
    return st;
  }
  *out = m;
  return GR_OK;
}

gr_status gr_als_model_load_mem(gr_als_model **out, const char *name, const void *data,
                                size_t len) {
  reader r = {data, len, 0, name ? name : "<memory>"};
  return parse_model(&r, out);
}

gr_status gr_als_model_load(gr_als_model **out, const char *path) {
  uint8_t *buf = NULL;
  size_t len = 0;
  GR_TRY(read_all(path, &buf, &len));
  reader r = {buf, len, 0, path};
  gr_status st = parse_model(&r, out);
  free(buf);
  return st;
}
