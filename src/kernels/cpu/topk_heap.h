/* One query's bounded top-k heap: fed with a whole score array in index
 * order (gr_cpu_select_topk, gr_topk_heap_offer_run), or item by item in
 * any order as the fused scorer computes them (topk.c,
 * gr_topk_heap_offer_any). The root holds the kept candidate that ranks
 * last (backend.h's order: score descending, index ascending among ties),
 * so most items are rejected by one comparison; the order is total, so
 * the kept items do not depend on the order they came in. */
#ifndef GR_KERNELS_CPU_TOPK_HEAP_H
#define GR_KERNELS_CPU_TOPK_HEAP_H

#include <math.h>
#include <stdint.h>

#include "../../common/sorted.h"
#include "../shared_math.h"

typedef struct gr_topk_heap {
  int32_t *idx; /* (topk) the kept items, a heap until gr_topk_heap_close */
  float *score; /* (topk) their scores */
  int topk, filled;
  const int32_t *excl; /* sorted items never offered, and the next one to pass */
  int64_t n_excl, next_excl;
  const uint8_t *allowed; /* NULL, or allowed[i] == 0: never offered */
} gr_topk_heap;

static inline void gr_topk_heap_open(gr_topk_heap *h, int32_t *idx, float *score, int topk,
                                     const int32_t *excl, int64_t n_excl, const uint8_t *allowed) {
  *h = (gr_topk_heap){idx, score, topk, 0, excl, n_excl, 0, allowed};
  for (int i = 0; i < topk; i++) {
    idx[i] = -1;
    score[i] = -INFINITY;
  }
}

/* Once full, an item enters only with a score of at least this bar (above
 * it, when the items come in index order: a tie then ranks after the
 * root). */
static inline int gr_topk_heap_full(const gr_topk_heap *h) { return h->filled == h->topk; }
static inline float gr_topk_heap_bar(const gr_topk_heap *h) { return h->score[0]; }

static inline void gr_topk_heap_swap(gr_topk_heap *h, int a, int b) {
  const int32_t ti = h->idx[a];
  const float ts = h->score[a];
  h->idx[a] = h->idx[b];
  h->score[a] = h->score[b];
  h->idx[b] = ti;
  h->score[b] = ts;
}

/* Restores the heap below entry i of the first n. */
static inline void gr_topk_heap_sift_down(gr_topk_heap *h, int n, int i) {
  const int32_t *idx = h->idx;
  const float *score = h->score;
  for (;;) {
    int worst = i, l = 2 * i + 1, r = l + 1;
    if (l < n && gr_rank_before(score[worst], idx[worst], score[l], idx[l])) worst = l;
    if (r < n && gr_rank_before(score[worst], idx[worst], score[r], idx[r])) worst = r;
    if (worst == i) return;
    gr_topk_heap_swap(h, i, worst);
    i = worst;
  }
}

static inline void gr_topk_heap_offer(gr_topk_heap *h, float s, int32_t i) {
  if (h->filled < h->topk) { /* grow: append then restore the heap bottom-up */
    int c = h->filled++;
    h->idx[c] = i;
    h->score[c] = s;
    while (c > 0) {
      const int parent = (c - 1) / 2;
      if (!gr_rank_before(h->score[parent], h->idx[parent], h->score[c], h->idx[c])) break;
      gr_topk_heap_swap(h, c, parent);
      c = parent;
    }
  } else if (gr_rank_before(s, i, h->score[0], h->idx[0])) {
    h->idx[0] = i;
    h->score[0] = s;
    gr_topk_heap_sift_down(h, h->topk, 0);
  }
}

/* Offers items i0 .. i0 + n - 1 with scores s[0..n), skipping excluded,
 * masked and NaN ones. Calls must come in increasing item order. */
static inline void gr_topk_heap_offer_run(gr_topk_heap *h, const float *s, int64_t i0, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    const int64_t i = i0 + j;
    while (h->next_excl < h->n_excl && h->excl[h->next_excl] < i)
      h->next_excl++;
    if (h->next_excl < h->n_excl && h->excl[h->next_excl] == i) continue;
    if (h->allowed && !h->allowed[i]) continue;
    if (s[j] != s[j]) continue; /* NaN never ranks */
    gr_topk_heap_offer(h, s[j], (int32_t)i);
  }
}

/* Offers item i (score s) unless it is excluded, masked or NaN; in any order. */
static inline void gr_topk_heap_offer_any(gr_topk_heap *h, float s, int32_t i) {
  if (s != s || (h->allowed && !h->allowed[i])) return;
  if (h->filled == h->topk && !gr_rank_before(s, i, h->score[0], h->idx[0])) return;
  if (gr_sorted_contains(h->excl, h->n_excl, i)) return;
  gr_topk_heap_offer(h, s, i);
}

/* Heap-sorts in place (best first); slots never filled stay -1, -inf. */
static inline void gr_topk_heap_close(gr_topk_heap *h) {
  for (int end = h->filled - 1; end > 0; end--) {
    gr_topk_heap_swap(h, 0, end);
    gr_topk_heap_sift_down(h, end, 0);
  }
}

#endif
