/* Interns string ids into dense indices 0..n-1 in order of first
 * appearance, and maps indices back to strings. */
#ifndef GR_HOST_ID_MAP_H
#define GR_HOST_ID_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"

typedef struct gr_id_map {
  char *chars;        /* all ids, each NUL-terminated */
  size_t chars_len;
  size_t chars_cap;
  int64_t *offsets;   /* (count) start of id i in chars */
  int32_t count;
  int32_t offsets_cap;
  int32_t *slots;     /* open-addressing table of index+1, 0 = empty */
  uint64_t *slot_hash;
  size_t n_slots;     /* power of two */
} gr_id_map;

void gr_id_map_init(gr_id_map *m);
void gr_id_map_free(gr_id_map *m);

/* Finds or inserts id[0..len); *out_index receives its dense index. */
gr_status gr_id_map_intern(gr_id_map *m, const char *id, size_t len, int32_t *out_index);
/* @return the index of id[0..len) or -1. */
int32_t gr_id_map_find(const gr_id_map *m, const char *id, size_t len);
static inline const char *gr_id_map_get(const gr_id_map *m, int32_t i) {
  return m->chars + m->offsets[i];
}
/* Deep copy. */
gr_status gr_id_map_copy(gr_id_map *dst, const gr_id_map *src);

uint64_t gr_hash_bytes(const char *p, size_t len);

#endif
