/* CPU top-k, scored and selected in one pass: the items go in chunks that
 * stay in a core's L2 (packed into panels, topk_dots.h), and each block of
 * queries scores a panel in registers and offers it to its queries' heaps
 * (topk_heap.h) at once. Nothing the size of queries x items is written:
 * the sgemm-then-select it replaces spent more time writing and reading
 * its 64 MB score tiles (and zeroing them for sgemm) than multiplying.
 *
 * With many queries the items go largest norm first. A score is at most
 * |q| |y| plus its rounding (relative, and absolute where it underflows),
 * so once a query's heap is full and |q| times the next panel's largest
 * norm is below its last kept score, no later item can enter: the query is
 * done. Past FLT_MAX a score may overflow to +inf, so such a bound stops
 * nothing. On the ALS bench 2% of the items are above that bound for the
 * average user. A panel with no score reaching a query's last kept one is
 * passed over with one vector compare.
 *
 * Every score is a fixed-order sum (topk_dots.h) and the heaps' order is
 * total, so the rankings do not depend on the item order, the chunk size,
 * the memory limit or the number of threads. */
#include <float.h>
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

/* Whether some lane of the panel's two score vectors reaches bar. */
static inline int panel_reaches(const gr_tk_vec sc[2], float bar) {
#if defined(__AVX512F__)
  const __m512 b = _mm512_set1_ps(bar);
  return (_mm512_cmp_ps_mask((__m512)sc[0], b, _CMP_GE_OQ) |
          _mm512_cmp_ps_mask((__m512)sc[1], b, _CMP_GE_OQ)) != 0;
#else
  const float *f = (const float *)sc;
  int reaches = 0;
#pragma omp simd reduction(| : reaches)
  for (int j = 0; j < GR_TK_PANEL; j++)
    reaches |= f[j] >= bar;
  return reaches;
#endif
}

/* What a block of queries needs besides its heaps. */
typedef struct topk_block {
  const float *q[GR_TK_USERS]; /* query rows, padded with a zero row */
  const float *q_norm;         /* (nu) |q|, +inf where unknown */
  uint8_t *live;               /* (nu) 0: the query can gain nothing more */
  int nu;
} topk_block;

/* The chunk's packed items, in scoring order. */
typedef struct topk_chunk {
  const float *panels;     /* (n / GR_TK_PANEL rounded up, k, GR_TK_PANEL) */
  const int32_t *items;    /* (n) the item of each lane */
  const float *panel_norm; /* (panels) an upper bound of its items' norms */
  int64_t n;
  double margin; /* 1 + the relative rounding of a score: k + 4 units, doubled */
  double slack;  /* and its absolute rounding where it underflows: k + 1 subnormal units */
} topk_chunk;

/* Scores the block's live queries against the chunk; a query whose bound
 * falls below its heap's bar stops (the panels' norms never grow). Returns
 * at once when none is live. */
static void score_block(gr_topk_heap *heaps, const topk_block *b, const topk_chunk *c, int k) {
  gr_tk_vec acc[GR_TK_USERS][2];
  for (int64_t p0 = 0; p0 < c->n; p0 += GR_TK_PANEL) {
    const int64_t len = c->n - p0 < GR_TK_PANEL ? c->n - p0 : GR_TK_PANEL;
    const double y_norm = c->panel_norm[p0 / GR_TK_PANEL];
    int n_live = 0;
    for (int u = 0; u < b->nu; u++) {
      if (!b->live[u] || !gr_topk_heap_full(&heaps[u])) {
        n_live += b->live[u];
        continue;
      }
      /* past FLT_MAX a score may overflow to +inf, its bound no longer holds */
      const double bound = (double)b->q_norm[u] * y_norm * c->margin + c->slack;
      if (bound <= FLT_MAX && bound < (double)gr_topk_heap_bar(&heaps[u])) b->live[u] = 0;
      n_live += b->live[u];
    }
    if (n_live == 0) return;
    gr_tk_panel_dots(acc, b->q, c->panels + p0 * k, k);
    for (int u = 0; u < b->nu; u++) {
      gr_topk_heap *h = &heaps[u];
      if (!b->live[u] || (gr_topk_heap_full(h) && len == GR_TK_PANEL &&
                          !panel_reaches(acc[u], gr_topk_heap_bar(h))))
        continue;
      const float *sc = (const float *)acc[u];
      for (int j = 0; j < len; j++)
        gr_topk_heap_offer_any(h, sc[j], c->items[p0 + j]);
    }
  }
}

/* |v| of each row, NaN as +inf (such rows are scored, and never rank). */
static float row_norm(const float *v, int k) {
  double s = 0;
  for (int f = 0; f < k; f++)
    s += (double)v[f] * v[f];
  const float n = (float)sqrt(s);
  return n == n ? n : INFINITY;
}

typedef struct item_key {
  float norm;
  int32_t item;
} item_key;

static int cmp_norm_desc(const void *pa, const void *pb) {
  const item_key *a = pa, *b = pb;
  if (a->norm != b->norm) return a->norm > b->norm ? -1 : 1;
  return (a->item > b->item) - (a->item < b->item);
}

/* Queries per call from which the items are sorted by norm: the sort then
 * costs little beside the scores, and leads' single query (k = 1) keeps
 * its linear scan. */
#define GR_TOPK_SORT_QUERIES 256

/* Compiled with the kernels' flags, so that it has fma where they do. */
/* The panel dots' sum one score at a time, fused where theirs is
 * (GR_TK_FMA: wherever the target has fma, at any optimization level). */
float gr_cpu_topk_reference_dot(const float *q, const float *y, int k) {
  float s = 0.0f;
  for (int f = 0; f < k; f++)
#if GR_TK_FUSED
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
  if (k < 1) return gr_fail(GR_ERR_INVALID_ARG, "top-k: factor dimension %d < 1", k);
  if (n_items > INT32_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "top-k: %lld items exceed the int32 index range",
                   (long long)n_items);
  if (n_queries == 0) return GR_OK;
  /* items per chunk: whole panels, within the memory limit when one is set */
  size_t budget = GR_TOPK_CHUNK_BYTES;
  if (be->mem_limit && be->mem_limit < budget) budget = be->mem_limit;
  const size_t panel_bytes = sizeof(float) * GR_TK_PANEL * (size_t)(k > 0 ? k : 1);
  int64_t chunk = (int64_t)(budget / panel_bytes) * GR_TK_PANEL;
  if (chunk > n_items) chunk = (n_items + GR_TK_PANEL - 1) / GR_TK_PANEL * GR_TK_PANEL;
  if (chunk < GR_TK_PANEL) chunk = GR_TK_PANEL;
  const int64_t n_panels = chunk / GR_TK_PANEL;
  const int sorted = n_queries >= GR_TOPK_SORT_QUERIES;
  gr_topk_heap *heaps = malloc(sizeof *heaps * (size_t)n_queries);
  float *q_norm = malloc(sizeof(float) * (size_t)n_queries);
  uint8_t *live = malloc((size_t)n_queries);
  item_key *keys = malloc(sizeof *keys * (size_t)(n_items > 0 ? n_items : 1));
  int32_t *order = malloc(sizeof(int32_t) * (size_t)(n_items > 0 ? n_items : 1));
  float *panels = gr_alloc_aligned(panel_bytes * (size_t)n_panels);
  float *panel_norm = malloc(sizeof(float) * (size_t)n_panels);
  float *zero_row = calloc((size_t)(k > 0 ? k : 1), sizeof(float));
  gr_status st = GR_OK;
  if (!heaps || !q_norm || !live || !keys || !order || !panels || !panel_norm || !zero_row) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate the top-k of %lld queries over %lld items",
                 (long long)n_queries, (long long)n_items);
    goto done;
  }
#pragma omp parallel for num_threads(be->n_threads) schedule(static)
  for (int64_t i = 0; i < n_items; i++)
    keys[i] = (item_key){sorted ? row_norm(Y + (size_t)i * k, k) : INFINITY, (int32_t)i};
  if (sorted) qsort(keys, (size_t)n_items, sizeof *keys, cmp_norm_desc);
  for (int64_t i = 0; i < n_items; i++)
    order[i] = keys[i].item;
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
    q_norm[q] = sorted ? row_norm(Q + (size_t)r * k, k) : INFINITY;
    live[q] = 1;
  }
  const int64_t n_blocks = (n_queries + GR_TK_USERS - 1) / GR_TK_USERS;
  const double margin = 1.0 + (double)(k + 4) * 0x1p-23, slack = (double)(k + 1) * 0x1p-149;
  int any_live = 1;
#pragma omp parallel num_threads(be->n_threads)
  for (int64_t c0 = 0; c0 < n_items && any_live; c0 += chunk) {
    const topk_chunk c = {
        panels, order + c0, panel_norm, n_items - c0 < chunk ? n_items - c0 : chunk, margin, slack};
#pragma omp for schedule(static)
    for (int64_t p0 = 0; p0 < c.n; p0 += GR_TK_PANEL) {
      const int len = (int)(c.n - p0 < GR_TK_PANEL ? c.n - p0 : GR_TK_PANEL);
      gr_tk_pack_panel(panels + p0 * k, Y, c.items + p0, len, k);
      panel_norm[p0 / GR_TK_PANEL] = keys[c0 + p0].norm; /* the panel's largest */
    }
#pragma omp for schedule(dynamic, 16)
    for (int64_t bi = 0; bi < n_blocks; bi++) {
      const int64_t q0 = bi * GR_TK_USERS;
      topk_block b = {.q_norm = q_norm + q0, .live = live + q0};
      b.nu = (int)(n_queries - q0 < GR_TK_USERS ? n_queries - q0 : GR_TK_USERS);
      for (int u = 0; u < GR_TK_USERS; u++)
        b.q[u] = u < b.nu ? Q + (size_t)(rows ? rows[q0 + u] : q0 + u) * k : zero_row;
      score_block(heaps + q0, &b, &c, k);
    }
#pragma omp single
    {
      any_live = 0;
      for (int64_t q = 0; q < n_queries && !any_live; q++)
        any_live = live[q];
    }
  }
  for (int64_t q = 0; q < n_queries; q++)
    gr_topk_heap_close(&heaps[q]);
done:
  free(heaps);
  free(q_norm);
  free(live);
  free(keys);
  free(order);
  free(panels);
  free(panel_norm);
  free(zero_row);
  return st;
}
