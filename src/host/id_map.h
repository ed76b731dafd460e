/* Interns string ids into dense indices 0..n-1 in order of first
 * appearance, and maps indices back to strings. */
#ifndef GR_HOST_ID_MAP_H
#define GR_HOST_ID_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"

typedef struct gr_id_map {
  char *chars; /* all ids, each NUL-terminated */
  size_t chars_len;
  size_t chars_cap;
  int64_t *offsets; /* (count) start of id i in chars */
  int32_t count;
  int32_t offsets_cap;
  struct gr_id_slot *slots; /* open-addressing table */
  size_t n_slots;           /* power of two */
  int32_t max_ids;          /* capacity: GR_ID_MAX unless a test lowers it */
} gr_id_map;

/* Dense indices are int32 everywhere (CSR columns, kernels, model files). */
#define GR_ID_MAX 2147483646

/* One table slot: the hash, the id's first 8 bytes and its length, so that
 * most probes and every short id resolve without touching the arena. */
typedef struct gr_id_slot {
  uint64_t hash;
  uint64_t prefix;
  int32_t index; /* -1 = empty */
  uint32_t len;
} gr_id_slot;

void gr_id_map_init(gr_id_map *m);
void gr_id_map_free(gr_id_map *m);

/* Finds or inserts id[0..len); *out_index receives its dense index. */
gr_status gr_id_map_intern(gr_id_map *m, const char *id, size_t len, int32_t *out_index);
/* The same with the hash precomputed by gr_hash_bytes. */
gr_status gr_id_map_intern_hashed(gr_id_map *m, const char *id, size_t len, uint64_t hash,
                                  int32_t *out_index);
/* Room for n_ids ids of n_chars characters in all (each with its NUL) with
 * no growth on the way (bulk loading of a known count). */
gr_status gr_id_map_reserve(gr_id_map *m, int32_t n_ids, size_t n_chars);
/* Hints the cache about the slot a hash will probe first (bulk loading). */
static inline void gr_id_map_prefetch(const gr_id_map *m, uint64_t hash) {
  if (m->n_slots) __builtin_prefetch(&m->slots[hash & (m->n_slots - 1)]);
}
/* @return the index of id[0..len) or -1. */
int32_t gr_id_map_find(const gr_id_map *m, const char *id, size_t len);
static inline const char *gr_id_map_get(const gr_id_map *m, int32_t i) {
  return m->chars + m->offsets[i];
}
/* Deep copy. */
gr_status gr_id_map_copy(gr_id_map *dst, const gr_id_map *src);

uint64_t gr_hash_bytes(const char *p, size_t len);

#endif
