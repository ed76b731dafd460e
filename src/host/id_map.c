/* Open addressing with linear probing over a power-of-two table kept at most
 * half full; hashes are stored so that probes compare strings only on a
 * full 64-bit hash match. Ids live in one growing character arena. */
#include "id_map.h"

#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

uint64_t gr_hash_bytes(const char *p, size_t len) {
  uint64_t h = 0x243f6a8885a308d3ULL ^ (len * 0x9e3779b97f4a7c15ULL);
  while (len >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    p += 8;
    len -= 8;
  }
  uint64_t tail = 0;
  memcpy(&tail, p, len);
  h = (h ^ tail ^ (len << 56)) * 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 29;
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 32);
}

void gr_id_map_init(gr_id_map *m) {
  memset(m, 0, sizeof *m);
  m->max_ids = GR_ID_MAX;
}

void gr_id_map_free(gr_id_map *m) {
  if (!m) return;
  free(m->chars);
  free(m->offsets);
  free(m->slots);
  memset(m, 0, sizeof *m);
}

static uint64_t prefix_of(const char *id, size_t len) {
  uint64_t w = 0;
  memcpy(&w, id, len < 8 ? len : 8);
  return w;
}

static gr_status rehash(gr_id_map *m, size_t n_slots) {
  gr_id_slot *slots = malloc(n_slots * sizeof *slots);
  if (!slots) return gr_fail(GR_ERR_NOMEM, "cannot grow the id table to %zu slots", n_slots);
  for (size_t j = 0; j < n_slots; j++)
    slots[j].index = -1;
  for (size_t s = 0; s < m->n_slots; s++) {
    if (m->slots[s].index < 0) continue;
    size_t j = m->slots[s].hash & (n_slots - 1);
    while (slots[j].index >= 0)
      j = (j + 1) & (n_slots - 1);
    slots[j] = m->slots[s];
  }
  free(m->slots);
  m->slots = slots;
  m->n_slots = n_slots;
  return GR_OK;
}

gr_status gr_id_map_reserve(gr_id_map *m, int32_t n_ids, size_t n_chars) {
  size_t n_slots = m->n_slots ? m->n_slots : 1024;
  while (n_slots < (size_t)n_ids * 2)
    n_slots *= 2;
  if (n_slots > m->n_slots) GR_TRY(rehash(m, n_slots));
  if (n_chars > m->chars_cap) {
    char *c = realloc(m->chars, n_chars);
    if (!c) return gr_fail(GR_ERR_NOMEM, "cannot allocate an id arena of %zu bytes", n_chars);
    m->chars = c;
    m->chars_cap = n_chars;
  }
  if (n_ids > m->offsets_cap) {
    int64_t *o = realloc(m->offsets, (size_t)n_ids * sizeof *o);
    if (!o) return gr_fail(GR_ERR_NOMEM, "cannot allocate an id index of %d entries", n_ids);
    m->offsets = o;
    m->offsets_cap = n_ids;
  }
  return GR_OK;
}

/* @return the index of the id, or -1 with *slot at the empty slot to fill. */
static int32_t probe(const gr_id_map *m, const char *id, size_t len, uint64_t h, size_t *slot) {
  const uint64_t prefix = prefix_of(id, len);
  size_t j = h & (m->n_slots - 1);
  for (;;) {
    const gr_id_slot *s = &m->slots[j];
    if (s->index < 0) break;
    if (s->hash == h && s->len == len && s->prefix == prefix &&
        (len <= 8 || memcmp(m->chars + m->offsets[s->index] + 8, id + 8, len - 8) == 0))
      return s->index;
    j = (j + 1) & (m->n_slots - 1);
  }
  *slot = j;
  return -1;
}

int32_t gr_id_map_find(const gr_id_map *m, const char *id, size_t len) {
  if (!m->n_slots) return -1;
  size_t slot = 0;
  return probe(m, id, len, gr_hash_bytes(id, len), &slot);
}

gr_status gr_id_map_intern(gr_id_map *m, const char *id, size_t len, int32_t *out_index) {
  return gr_id_map_intern_hashed(m, id, len, gr_hash_bytes(id, len), out_index);
}

gr_status gr_id_map_intern_hashed(gr_id_map *m, const char *id, size_t len, uint64_t h,
                                  int32_t *out_index) {
  if ((size_t)(m->count + 1) * 2 > m->n_slots) {
    GR_TRY(rehash(m, m->n_slots ? m->n_slots * 2 : 1024));
  }
  size_t slot = 0;
  int32_t found = probe(m, id, len, h, &slot);
  if (found >= 0) {
    *out_index = found;
    return GR_OK;
  }
  if (memchr(id, '\0', len)) return gr_fail(GR_ERR_PARSE, "an id contains a NUL byte");
  if (len > UINT32_MAX) return gr_fail(GR_ERR_PARSE, "an id is longer than 4 GiB");
  const int32_t max_ids = m->max_ids > 0 ? m->max_ids : GR_ID_MAX;
  if (m->count >= max_ids)
    return gr_fail(GR_ERR_INVALID_ARG,
                   "more than %d distinct ids: gpurec indexes users and items with 32-bit "
                   "integers",
                   max_ids);
  if (m->chars_len + len + 1 > m->chars_cap) {
    size_t cap = m->chars_cap ? m->chars_cap * 2 : 1 << 16;
    while (cap < m->chars_len + len + 1)
      cap *= 2;
    char *c = realloc(m->chars, cap);
    if (!c) return gr_fail(GR_ERR_NOMEM, "cannot grow the id arena to %zu bytes", cap);
    m->chars = c;
    m->chars_cap = cap;
  }
  if (m->count == m->offsets_cap) {
    int32_t cap =
        m->offsets_cap ? (m->offsets_cap > GR_ID_MAX / 2 ? GR_ID_MAX : m->offsets_cap * 2) : 1024;
    int64_t *o = realloc(m->offsets, (size_t)cap * sizeof *o);
    if (!o) return gr_fail(GR_ERR_NOMEM, "cannot grow the id index to %d entries", cap);
    m->offsets = o;
    m->offsets_cap = cap;
  }
  memcpy(m->chars + m->chars_len, id, len);
  m->chars[m->chars_len + len] = '\0';
  m->offsets[m->count] = (int64_t)m->chars_len;
  m->chars_len += len + 1;
  m->slots[slot] = (gr_id_slot){h, prefix_of(id, len), m->count, (uint32_t)len};
  *out_index = m->count++;
  return GR_OK;
}

gr_status gr_id_map_copy(gr_id_map *dst, const gr_id_map *src) {
  gr_id_map_init(dst);
  for (int32_t i = 0; i < src->count; i++) {
    const char *s = gr_id_map_get(src, i);
    int32_t idx;
    gr_status st = gr_id_map_intern(dst, s, strlen(s), &idx);
    if (st != GR_OK) {
      gr_id_map_free(dst);
      return st;
    }
  }
  return GR_OK;
}
