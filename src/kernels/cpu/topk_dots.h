/* The fused CPU top-k's scores (topk.c): GR_TK_USERS queries against a
 * panel of GR_TK_PANEL items at a time, the dots held in registers until
 * the heaps have looked at them, so no score is ever written to memory.
 * A panel is its items' factors feature-major, (k, GR_TK_PANEL), zero
 * padded past the last item: per feature one vector load serves all the
 * queries of the block, each a broadcast multiply-add.
 *
 * Every score is q_0 y_0 + q_1 y_1 + ... added in feature order, one
 * multiply-add per feature from 0 (GR_TK_FMA: fused where the target has
 * fma), so a
 * score depends on its query and item alone: not on the panel, the block
 * or the thread that computes it. gr_cpu_topk_reference_dot (cpu_ops.h)
 * is the same sum, one at a time, for the tests. */
#ifndef GR_KERNELS_CPU_TOPK_DOTS_H
#define GR_KERNELS_CPU_TOPK_DOTS_H

#include <stdint.h>
#if defined(__FMA__) && (defined(__AVX512F__) || defined(__AVX__))
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define GR_TK_LANES 16 /* floats per vector */
#define GR_TK_USERS 8  /* 16 accumulators of the 32 registers */
#else
#define GR_TK_LANES 8
#define GR_TK_USERS 4 /* 8 accumulators of the 16 registers */
#endif
#define GR_TK_PANEL (2 * GR_TK_LANES)

typedef float gr_tk_vec __attribute__((vector_size(4 * GR_TK_LANES)));

/* a * b + c, fused where the target has fma. By intrinsic, not by the
 * compiler's contraction, which an unoptimized (or -O1) build does not do:
 * the scores, and the tests' bit-exact reference, must not depend on the
 * optimization level. (Macros: a function returning a vector by value is
 * an ABI warning in files built without AVX that include this header.) */
#if defined(__FMA__) && defined(__AVX512F__)
#define GR_TK_FUSED 1
#define GR_TK_FMA(a, b, c) ((gr_tk_vec)_mm512_fmadd_ps((__m512)(a), (__m512)(b), (__m512)(c)))
#elif defined(__FMA__) && defined(__AVX__)
#define GR_TK_FUSED 1
#define GR_TK_FMA(a, b, c) ((gr_tk_vec)_mm256_fmadd_ps((__m256)(a), (__m256)(b), (__m256)(c)))
#else
#define GR_TK_FUSED 0
#define GR_TK_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* panel (k, GR_TK_PANEL) = the n <= GR_TK_PANEL rows items[0..n) of Y (., k),
 * transposed, the lanes past n zero. */
static inline void gr_tk_pack_panel(float *panel, const float *Y, const int32_t *items, int n,
                                    int k) {
  for (int f = 0; f < k; f++)
    for (int j = 0; j < GR_TK_PANEL; j++)
      panel[(int64_t)f * GR_TK_PANEL + j] = j < n ? Y[(int64_t)items[j] * k + f] : 0.0f;
}

/* acc[u][h] lane l = q[u] . (item h * GR_TK_LANES + l of the panel). */
static inline void gr_tk_panel_dots(gr_tk_vec acc[GR_TK_USERS][2],
                                    const float *const q[GR_TK_USERS], const float *panel, int k) {
  gr_tk_vec a[GR_TK_USERS][2];
#pragma GCC unroll 8
  for (int u = 0; u < GR_TK_USERS; u++)
    a[u][0] = a[u][1] = (gr_tk_vec){0};
  for (int f = 0; f < k; f++) {
    const gr_tk_vec y0 = *(const gr_tk_vec *)(panel + (int64_t)f * GR_TK_PANEL);
    const gr_tk_vec y1 = *(const gr_tk_vec *)(panel + (int64_t)f * GR_TK_PANEL + GR_TK_LANES);
#pragma GCC unroll 8
    for (int u = 0; u < GR_TK_USERS; u++) {
      const gr_tk_vec s = (gr_tk_vec){0} + q[u][f]; /* broadcast */
      a[u][0] = GR_TK_FMA(s, y0, a[u][0]);
      a[u][1] = GR_TK_FMA(s, y1, a[u][1]);
    }
  }
#pragma GCC unroll 8
  for (int u = 0; u < GR_TK_USERS; u++) {
    acc[u][0] = a[u][0];
    acc[u][1] = a[u][1];
  }
}

#endif
