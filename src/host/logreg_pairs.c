/* gr_lr_pairs_build: one pass per group with an open-addressing table from
 * (a, b) to the pair's number, then a counting sort of the rows by pair. */
#include "logreg_pairs.h"

#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

typedef struct pair_table {
  uint64_t *key; /* (a << 32 | b) + 1; 0 = empty */
  int64_t *id;
  int64_t cap; /* a power of two */
} pair_table;

static uint64_t slot_of(uint64_t key, int64_t cap) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull; /* murmur3's finalizer */
  key ^= key >> 33;
  return key & (uint64_t)(cap - 1);
}

static int table_init(pair_table *t, int64_t cap) {
  t->cap = cap;
  t->key = calloc((size_t)cap, sizeof(uint64_t));
  t->id = malloc(sizeof(int64_t) * (size_t)cap);
  return t->key && t->id;
}

static void table_free(pair_table *t) {
  free(t->key);
  free(t->id);
  memset(t, 0, sizeof *t);
}

/* Doubles the table, keeping its entries. */
static int table_grow(pair_table *t) {
  pair_table bigger;
  if (!table_init(&bigger, t->cap * 2)) {
    table_free(&bigger);
    return 0;
  }
  for (int64_t s = 0; s < t->cap; s++) {
    if (!t->key[s]) continue;
    uint64_t at = slot_of(t->key[s], bigger.cap);
    while (bigger.key[at])
      at = (at + 1) & (uint64_t)(bigger.cap - 1);
    bigger.key[at] = t->key[s];
    bigger.id[at] = t->id[s];
  }
  table_free(t);
  *t = bigger;
  return 1;
}

/* The slot holding key, or the empty one where it belongs. */
static uint64_t table_find(const pair_table *t, uint64_t key) {
  uint64_t at = slot_of(key, t->cap);
  while (t->key[at] && t->key[at] != key)
    at = (at + 1) & (uint64_t)(t->cap - 1);
  return at;
}

void gr_lr_pairs_free(gr_lr_pairs *p) {
  if (!p) return;
  free(p->seg);
  free(p->a);
  free(p->b);
  free(p->start);
  free(p->rows);
  memset(p, 0, sizeof *p);
}

gr_status gr_lr_pairs_build(gr_lr_pairs *out, const int32_t *a, const int32_t *b,
                            const int64_t *seg, int m) {
  memset(out, 0, sizeof *out);
  if (m < 1 || !seg) return gr_fail(GR_ERR_INVALID_ARG, "pairs: %d groups", m);
  out->seg = calloc((size_t)m + 1, sizeof(int64_t));
  if (!out->seg) return gr_fail(GR_ERR_NOMEM, "cannot allocate the pairs of %d groups", m);
  if (!a || !b) {
    out->start = calloc(1, sizeof(int64_t));
    if (out->start) return GR_OK;
    gr_lr_pairs_free(out);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the pairs of %d groups", m);
  }
  int64_t n_syn = 0;
  for (int64_t i = seg[0]; i < seg[m]; i++)
    n_syn += b[i] != a[i];
  /* pair_of[j]: the pair of the j-th synthetic row, in row order */
  int64_t *pair_of = malloc(sizeof(int64_t) * (size_t)(n_syn ? n_syn : 1));
  int64_t cap_pairs = 1024, n_pairs = 0;
  out->a = malloc(sizeof(int32_t) * (size_t)cap_pairs);
  out->b = malloc(sizeof(int32_t) * (size_t)cap_pairs);
  out->rows = malloc(sizeof(int64_t) * ((size_t)n_syn + 1));
  pair_table t = {0};
  int ok = pair_of && out->a && out->b && out->rows && table_init(&t, 2048);
  int64_t j = 0;
  for (int g = 0; g < m && ok; g++) {
    out->seg[g] = n_pairs;
    memset(t.key, 0, sizeof(uint64_t) * (size_t)t.cap); /* holds this group's pairs only */
    for (int64_t i = seg[g]; i < seg[g + 1] && ok; i++) {
      if (b[i] == a[i]) continue;
      const uint64_t key = ((uint64_t)(uint32_t)a[i] << 32 | (uint32_t)b[i]) + 1;
      uint64_t at = table_find(&t, key);
      if (!t.key[at]) {
        if (n_pairs + 1 == cap_pairs) { /* one spare entry: callers may copy n_pairs + 1 */
          cap_pairs *= 2;
          int32_t *na = realloc(out->a, sizeof(int32_t) * (size_t)cap_pairs);
          if (na) out->a = na;
          int32_t *nb = realloc(out->b, sizeof(int32_t) * (size_t)cap_pairs);
          if (nb) out->b = nb;
          if (!na || !nb) {
            ok = 0;
            break;
          }
        }
        if (2 * (n_pairs - out->seg[g] + 1) > t.cap) {
          if (!table_grow(&t)) {
            ok = 0;
            break;
          }
          at = table_find(&t, key);
        }
        t.key[at] = key;
        t.id[at] = n_pairs;
        out->a[n_pairs] = a[i];
        out->b[n_pairs] = b[i];
        n_pairs++;
      }
      pair_of[j++] = t.id[at];
    }
  }
  if (ok) {
    out->seg[m] = n_pairs;
    out->start = calloc((size_t)n_pairs + 1, sizeof(int64_t));
    ok = out->start != NULL;
  }
  if (ok) {
    /* counting sort: rows keep their order within a pair */
    for (int64_t s = 0; s < n_syn; s++)
      out->start[pair_of[s] + 1]++;
    for (int64_t p = 0; p < n_pairs; p++)
      out->start[p + 1] += out->start[p];
    int64_t s = 0;
    for (int64_t i = seg[0]; i < seg[m]; i++) {
      if (b[i] == a[i]) continue;
      const int64_t p = pair_of[s++];
      out->rows[out->start[p]++] = i;
    }
    for (int64_t p = n_pairs; p > 0; p--)
      out->start[p] = out->start[p - 1];
    out->start[0] = 0;
    out->n_pairs = n_pairs;
    out->n_rows = n_syn;
  }
  free(pair_of);
  table_free(&t);
  if (ok) return GR_OK;
  gr_lr_pairs_free(out);
  return gr_fail(GR_ERR_NOMEM, "cannot group %lld synthetic rows by pair", (long long)n_syn);
}
