/* CPU top-k, scored and selected in one pass: the items go in chunks that
 * stay in a core's L2 (packed into panels, topk_dots.h), and each block of
 * queries scores a panel in registers and offers it to its queries' heaps
 * (topk_heap.h) at once. Nothing the size of queries x items is written:
 * the sgemm-then-select it replaces spent more time writing and reading
 * its 64 MB score tiles (and zeroing them for sgemm) than multiplying.
 *
 * Once a query's heap is full, a panel with no score above its root is
 * passed over with one vector compare; that is most panels. Every score is
 * a fixed-order sum (topk_dots.h) and every heap sees its items in index
 * order, so the rankings do not depend on the chunk size, the memory limit
 * or the number of threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "../../common/aligned.h"
#include "../../common/error.h"
#include "cpu_ops.h"
#include "topk_dots.h"
#include "topk_heap.h"

/* Bytes of packed items per chunk: with a block's queries, well inside L2. */
#define GR_TOPK_CHUNK_BYTES (512u << 10)
/* Items per block of the threshold scan in gr_cpu_select_topk. */
#define GR_SELECT_BLOCK 32

void gr_cpu_select_topk(int32_t *out_idx, float *out_score, const float *scores, int64_t n,
                        const int32_t *excl, int64_t n_excl, const uint8_t *allowed, int topk) {
  gr_topk_heap h;
  gr_topk_heap_open(&h, out_idx, out_score, topk, excl, n_excl, allowed);
  for (int64_t i = 0; i < n; i += GR_SELECT_BLOCK) {
    const int64_t len = n - i < GR_SELECT_BLOCK ? n - i : GR_SELECT_BLOCK;
    /* a full block with no score above the bar (NaN compares false) is
     * passed over without looking at its exclusions or mask */
    if (gr_topk_heap_full(&h) && len == GR_SELECT_BLOCK) {
      const float bar = gr_topk_heap_bar(&h);
      const float *blk = scores + i;
      int above = 0;
#pragma omp simd reduction(| : above)
      for (int j = 0; j < GR_SELECT_BLOCK; j++)
        above |= blk[j] > bar;
      if (!above) continue;
    }
    gr_topk_heap_offer_run(&h, scores + i, i, len);
  }
  gr_topk_heap_close(&h);
}

/* Whether some lane of the panel's two score vectors is above bar. */
static inline int panel_above(const gr_tk_vec s[2], float bar) {
#if defined(__AVX512F__)
  const __m512 b = _mm512_set1_ps(bar);
  return (_mm512_cmp_ps_mask((__m512)s[0], b, _CMP_GT_OQ) |
          _mm512_cmp_ps_mask((__m512)s[1], b, _CMP_GT_OQ)) != 0;
#else
  const float *f = (const float *)s;
  int above = 0;
#pragma omp simd reduction(| : above)
  for (int j = 0; j < GR_TK_PANEL; j++)
    above |= f[j] > bar;
  return above;
#endif
}

/* Queries heaps[0..nu) (rows q, padded to GR_TK_USERS with a zero row)
 * against the chunk's panels: items c0 .. c0 + n_chunk - 1. */
static void score_block(gr_topk_heap *heaps, int nu, const float *const q[GR_TK_USERS],
                        const float *panels, int64_t c0, int64_t n_chunk, int k) {
  gr_tk_vec acc[GR_TK_USERS][2];
  for (int64_t p0 = 0; p0 < n_chunk; p0 += GR_TK_PANEL) {
    const int64_t len = n_chunk - p0 < GR_TK_PANEL ? n_chunk - p0 : GR_TK_PANEL;
    gr_tk_panel_dots(acc, q, panels + p0 * k, k);
    for (int u = 0; u < nu; u++) {
      gr_topk_heap *h = &heaps[u];
      if (gr_topk_heap_full(h) && len == GR_TK_PANEL && !panel_above(acc[u], gr_topk_heap_bar(h)))
        continue;
      gr_topk_heap_offer_run(h, (const float *)acc[u], c0 + p0, len);
    }
  }
}

/* Compiled with the kernels' flags, so that it has fma where they do. */
float gr_cpu_topk_reference_dot(const float *q, const float *y, int k) {
  float s = 0.0f;
  for (int f = 0; f < k; f++)
#if defined(__FMA__)
    s = fmaf(q[f], y[f], s);
#else
    s = s + q[f] * y[f];
#endif
  return s;
}

gr_status gr_cpu_topk_dot(gr_backend *be, int32_t *out_idx, float *out_score, const float *Q,
                          const int32_t *rows, int64_t n_queries, const float *Y, int64_t n_items,
                          int k, const gr_csr_view *exclude, const uint8_t *allowed, int topk) {
  if (topk < 1 || topk > GR_TOPK_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "top-k size %d is outside 1..%d", topk, GR_TOPK_MAX);
  if (n_queries == 0) return GR_OK;
  /* items per chunk: whole panels, within the memory limit when one is set */
  size_t budget = GR_TOPK_CHUNK_BYTES;
  if (be->mem_limit && be->mem_limit < budget) budget = be->mem_limit;
  const size_t panel_bytes = sizeof(float) * GR_TK_PANEL * (size_t)(k > 0 ? k : 1);
  int64_t chunk = (int64_t)(budget / panel_bytes) * GR_TK_PANEL;
  if (chunk < GR_TK_PANEL) chunk = GR_TK_PANEL;
  if (chunk > n_items) chunk = (n_items + GR_TK_PANEL - 1) / GR_TK_PANEL * GR_TK_PANEL;
  if (chunk < GR_TK_PANEL) chunk = GR_TK_PANEL;
  gr_topk_heap *heaps = malloc(sizeof *heaps * (size_t)n_queries);
  float *panels = gr_alloc_aligned(panel_bytes * (size_t)(chunk / GR_TK_PANEL));
  float *zero_row = calloc((size_t)(k > 0 ? k : 1), sizeof(float));
  if (!heaps || !panels || !zero_row) {
    free(heaps);
    free(panels);
    free(zero_row);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the top-k of %lld queries", (long long)n_queries);
  }
  for (int64_t q = 0; q < n_queries; q++) {
    const int64_t r = rows ? rows[q] : q;
    const int32_t *excl = NULL;
    int64_t n_excl = 0;
    if (exclude && r < exclude->n_rows) {
      excl = exclude->indices + exclude->indptr[r];
      n_excl = exclude->indptr[r + 1] - exclude->indptr[r];
    }
    gr_topk_heap_open(&heaps[q], out_idx + (size_t)q * topk, out_score + (size_t)q * topk, topk,
                      excl, n_excl, allowed);
  }
  const int64_t n_blocks = (n_queries + GR_TK_USERS - 1) / GR_TK_USERS;
#pragma omp parallel num_threads(be->n_threads)
  for (int64_t c0 = 0; c0 < n_items; c0 += chunk) {
    const int64_t n_chunk = n_items - c0 < chunk ? n_items - c0 : chunk;
#pragma omp for schedule(static)
    for (int64_t p0 = 0; p0 < n_chunk; p0 += GR_TK_PANEL) {
      const int len = (int)(n_chunk - p0 < GR_TK_PANEL ? n_chunk - p0 : GR_TK_PANEL);
      gr_tk_pack_panel(panels + p0 * k, Y, c0 + p0, len, k);
    }
#pragma omp for schedule(dynamic, 16)
    for (int64_t b = 0; b < n_blocks; b++) {
      const int64_t q0 = b * GR_TK_USERS;
      const int nu = (int)(n_queries - q0 < GR_TK_USERS ? n_queries - q0 : GR_TK_USERS);
      const float *q[GR_TK_USERS];
      for (int u = 0; u < GR_TK_USERS; u++)
        q[u] = u < nu ? Q + (size_t)(rows ? rows[q0 + u] : q0 + u) * k : zero_row;
      score_block(heaps + q0, nu, q, panels, c0, n_chunk, k);
    }
  }
  for (int64_t q = 0; q < n_queries; q++)
    gr_topk_heap_close(&heaps[q]);
  free(heaps);
  free(panels);
  free(zero_row);
  return GR_OK;
}
