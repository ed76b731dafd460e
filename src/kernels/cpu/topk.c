/* CPU top-k: score a batch of queries against all items with one sgemm
 * (batch sized to a memory budget), then select per query with a bounded
 * heap in parallel. The heap keeps the worst kept candidate at its root, so
 * most items are rejected by a single comparison. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "cpu_ops.h"

/* Bytes of score tile per batch of queries. */
#define GR_CPU_TOPK_TILE_BYTES (64u << 20)

static inline void swap_entries(int32_t *idx, float *score, int a, int b) {
  const int32_t ti = idx[a];
  const float ts = score[a];
  idx[a] = idx[b];
  score[a] = score[b];
  idx[b] = ti;
  score[b] = ts;
}

/* Root holds the candidate that ranks last. */
static void heap_sift_down(int32_t *idx, float *score, int n, int i) {
  for (;;) {
    int worst = i, l = 2 * i + 1, r = l + 1;
    if (l < n && gr_rank_before(score[worst], idx[worst], score[l], idx[l])) worst = l;
    if (r < n && gr_rank_before(score[worst], idx[worst], score[r], idx[r])) worst = r;
    if (worst == i) return;
    swap_entries(idx, score, i, worst);
    i = worst;
  }
}

/* Offers item i (score s) to the heap of `filled` of topk entries. */
static inline void offer(int32_t *idx, float *score, int *filled, int topk, float s, int64_t i) {
  if (*filled < topk) { /* grow: append then restore the heap bottom-up */
    int c = (*filled)++;
    idx[c] = (int32_t)i;
    score[c] = s;
    while (c > 0) {
      const int parent = (c - 1) / 2;
      if (!gr_rank_before(score[parent], idx[parent], score[c], idx[c])) break;
      swap_entries(idx, score, c, parent);
      c = parent;
    }
  } else if (gr_rank_before(s, (int32_t)i, score[0], idx[0])) {
    idx[0] = (int32_t)i;
    score[0] = s;
    heap_sift_down(idx, score, topk, 0);
  }
}

/* Items per block of the threshold scan: one vector compare decides most. */
#define GR_SELECT_BLOCK 32

void gr_cpu_select_topk(int32_t *out_idx, float *out_score, const float *scores, int64_t n,
                        const int32_t *excl, int64_t n_excl, const uint8_t *allowed, int topk) {
  int filled = 0;
  int64_t e = 0;
  for (int i = 0; i < topk; i++) {
    out_idx[i] = -1;
    out_score[i] = -INFINITY;
  }
  int64_t i = 0;
  while (i < n) {
    /* Once the heap is full, an item enters only above the root's score:
     * the root's index is below i, so a tie ranks after it. A block with
     * no score above that (NaN compares false) is skipped whole, without
     * looking at its exclusions or mask, which is where most of the time
     * went (the scores of a block are in cache either way). */
    if (filled == topk && i + GR_SELECT_BLOCK <= n) {
      const float bar = out_score[0];
      const float *blk = scores + i;
      int above = 0;
#pragma omp simd reduction(| : above)
      for (int j = 0; j < GR_SELECT_BLOCK; j++)
        above |= blk[j] > bar;
      if (!above) {
        i += GR_SELECT_BLOCK;
        continue;
      }
    }
    const int64_t stop = i + GR_SELECT_BLOCK < n ? i + GR_SELECT_BLOCK : n;
    for (; i < stop; i++) {
      while (e < n_excl && excl[e] < i)
        e++;
      if (e < n_excl && excl[e] == i) continue;
      if (allowed && !allowed[i]) continue;
      const float s = scores[i];
      if (s != s) continue; /* NaN never ranks */
      offer(out_idx, out_score, &filled, topk, s, i);
    }
  }
  /* heap-sort in place: repeatedly move the last-ranked root to the end */
  for (int end = filled - 1; end > 0; end--) {
    swap_entries(out_idx, out_score, 0, end);
    heap_sift_down(out_idx, out_score, end, 0);
  }
}

gr_status gr_cpu_topk_dot(gr_backend *be, int32_t *out_idx, float *out_score, const float *Q,
                          const int32_t *rows, int64_t n_queries, const float *Y, int64_t n_items,
                          int k, const gr_csr_view *exclude, const uint8_t *allowed, int topk) {
  if (topk < 1 || topk > GR_TOPK_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "top-k size %d is outside 1..%d", topk, GR_TOPK_MAX);
  if (n_queries == 0) return GR_OK;
  /* the tile follows the backend's memory limit when one is set */
  const size_t budget = be->mem_limit ? be->mem_limit : GR_CPU_TOPK_TILE_BYTES;
  int64_t batch = (int64_t)(budget / sizeof(float)) / (n_items > 0 ? n_items : 1);
  if (batch < 1) batch = 1;
  if (batch > n_queries) batch = n_queries;
  float *tile = malloc(sizeof(float) * (size_t)batch * (size_t)(n_items > 0 ? n_items : 1));
  float *qbuf = malloc(sizeof(float) * (size_t)batch * (size_t)k);
  if (!tile || !qbuf) {
    free(tile);
    free(qbuf);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate a %lld x %lld score tile", (long long)batch,
                   (long long)n_items);
  }
  for (int64_t q0 = 0; q0 < n_queries; q0 += batch) {
    const int64_t nb = n_queries - q0 < batch ? n_queries - q0 : batch;
    for (int64_t q = 0; q < nb; q++) {
      const int64_t r = rows ? rows[q0 + q] : q0 + q;
      memcpy(qbuf + (size_t)q * k, Q + (size_t)r * k, sizeof(float) * (size_t)k);
    }
    if (n_items > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)n_items, k, 1.0f, qbuf, k,
                  Y, k, 0.0f, tile, (int)n_items);
#pragma omp parallel for num_threads(be->n_threads) schedule(dynamic, 4)
    for (int64_t q = 0; q < nb; q++) {
      const int64_t r = rows ? rows[q0 + q] : q0 + q;
      const int32_t *excl = NULL;
      int64_t n_excl = 0;
      if (exclude && r < exclude->n_rows) {
        excl = exclude->indices + exclude->indptr[r];
        n_excl = exclude->indptr[r + 1] - exclude->indptr[r];
      }
      gr_cpu_select_topk(out_idx + (size_t)(q0 + q) * topk, out_score + (size_t)(q0 + q) * topk,
                         tile + (size_t)q * n_items, n_items, excl, n_excl, allowed, topk);
    }
  }
  free(tile);
  free(qbuf);
  return GR_OK;
}
