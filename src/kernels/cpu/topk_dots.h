/* The fused CPU top-k's scores (topk.c): GR_TK_USERS queries against a
 * panel of GR_TK_PANEL items at a time, the dots held in registers until
 * the heaps have looked at them, so no score is ever written to memory.
 * A panel is its items' factors feature-major, (k, GR_TK_PANEL), zero
 * padded past the last item: per feature one vector load serves all the
 * queries of the block, each a broadcast multiply-add.
 *
 * Every score is q_0 y_0 + q_1 y_1 + ... added in feature order, one
 * (fused where the target has fma) multiply-add per feature from 0, so a
 * score depends on its query and item alone: not on the panel, the block
 * or the thread that computes it. gr_cpu_topk_reference_dot (cpu_ops.h)
 * is the same sum, one at a time, for the tests. */
#ifndef GR_KERNELS_CPU_TOPK_DOTS_H
#define GR_KERNELS_CPU_TOPK_DOTS_H

#include <stdint.h>

#include "contract.h"

#if defined(__AVX512F__)
#define GR_TK_LANES 16 /* floats per vector */
#define GR_TK_USERS 8  /* 16 accumulators of the 32 registers */
#else
#define GR_TK_LANES 8
#define GR_TK_USERS 4 /* 8 accumulators of the 16 registers */
#endif
#define GR_TK_PANEL (2 * GR_TK_LANES)

typedef float gr_tk_vec __attribute__((vector_size(4 * GR_TK_LANES)));

/* panel (k, GR_TK_PANEL) = the n <= GR_TK_PANEL rows items[0..n) of Y (., k),
 * transposed, the lanes past n zero. */
static inline void gr_tk_pack_panel(float *panel, const float *Y, const int32_t *items, int n,
                                    int k) {
  for (int f = 0; f < k; f++)
    for (int j = 0; j < GR_TK_PANEL; j++)
      panel[(int64_t)f * GR_TK_PANEL + j] = j < n ? Y[(int64_t)items[j] * k + f] : 0.0f;
}

/* acc[u][h] lane l = q[u] . (item h * GR_TK_LANES + l of the panel). */
GR_CONTRACT static inline void gr_tk_panel_dots(gr_tk_vec acc[GR_TK_USERS][2],
                                                const float *const q[GR_TK_USERS],
                                                const float *panel, int k) {
  GR_CONTRACT_BODY
  gr_tk_vec a[GR_TK_USERS][2];
#pragma GCC unroll 8
  for (int u = 0; u < GR_TK_USERS; u++)
    a[u][0] = a[u][1] = (gr_tk_vec){0};
  for (int f = 0; f < k; f++) {
    const gr_tk_vec y0 = *(const gr_tk_vec *)(panel + (int64_t)f * GR_TK_PANEL);
    const gr_tk_vec y1 = *(const gr_tk_vec *)(panel + (int64_t)f * GR_TK_PANEL + GR_TK_LANES);
#pragma GCC unroll 8
    for (int u = 0; u < GR_TK_USERS; u++) {
      const float s = q[u][f];
      a[u][0] += s * y0;
      a[u][1] += s * y1;
    }
  }
#pragma GCC unroll 8
  for (int u = 0; u < GR_TK_USERS; u++) {
    acc[u][0] = a[u][0];
    acc[u][1] = a[u][1];
  }
}

#endif
