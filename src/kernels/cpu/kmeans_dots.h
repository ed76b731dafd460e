/* The CPU KMeans dot products, shared by the plain Lloyd pass (kmeans.c)
 * and the bounded one (kmeans_bounds.c), so that both compute every
 * distance with the same operations in the same order. */
#ifndef GR_KERNELS_CPU_KMEANS_DOTS_H
#define GR_KERNELS_CPU_KMEANS_DOTS_H

#include <stddef.h>
#include <string.h>

/* The direct path scores GR_KM_ROWS rows at a time against 8 clusters at
 * a time: one 8-float vector per row holds the 8 dots (C transposed and
 * zero padded: Ct (d, kp), kp a multiple of 8), x_r[j] * Ct[j] added for j
 * in order. The rows are independent accumulator chains that hide the
 * add latency, and no horizontal sums are needed; a row's dots do not
 * depend on the rows beside it. */
#define GR_KM_ROWS 8
typedef float gr_km_v8 __attribute__((vector_size(32), aligned(4)));

/* Fused multiply-adds for the vector code below (C11 mode leaves
 * contraction off): half the arithmetic of a multiply and an add. */
#if defined(__GNUC__) && !defined(__clang__)
#define GR_KM_CONTRACT __attribute__((optimize("fp-contract=fast")))
#else
#define GR_KM_CONTRACT
#endif

/* Lanes per row for k clusters on the direct path. */
static inline int gr_km_direct_lanes(int k) { return (k + 7) / 8 * 8; }

/* c_norm[c] = |C[c]|^2 summed in double; with Ct (NULL: not wanted) also
 * Ct (d, kp) = C (k, d) transposed, zero padded to kp = gr_km_direct_lanes(k)
 * lanes (Ct zeroed by the caller). */
static inline void gr_km_prepare_centers(float *Ct, float *c_norm, const float *C, int k, int d) {
  const int kp = gr_km_direct_lanes(k);
  for (int c = 0; c < k; c++) {
    double s = 0;
    for (int j = 0; j < d; j++) {
      const float v = C[(size_t)c * d + j];
      s += (double)v * v;
      if (Ct) Ct[(size_t)j * kp + c] = v;
    }
    c_norm[c] = (float)s;
  }
}

/* out[r * kp + g * 8 + l] = x_r . C[g * 8 + l] for the 8 clusters of group g.
 * next (NULL: none): the GR_KM_ROWS rows read later, prefetched a line per
 * 16 columns. The 8 row streams alone leave the loop waiting on memory half
 * the time (6.7 of 12 GB/s on one core); prefetching two groups ahead took
 * a pass over the bench's X from 50 to 33 ms. */
GR_KM_CONTRACT static inline void gr_km_rows_dots8(float *out, const float *const *x,
                                                   const float *Ct, int d, int kp, int g,
                                                   const float *const *next) {
#ifdef __clang__
#pragma clang fp contract(fast)
#endif
  const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3], *x4 = x[4], *x5 = x[5], *x6 = x[6],
              *x7 = x[7];
  gr_km_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
  const float *ct = Ct + (size_t)g * 8;
  for (int j = 0; j < d; j++, ct += kp) {
    if (next && (j & 15) == 0)
      for (int b = 0; b < GR_KM_ROWS; b++)
        __builtin_prefetch(next[b] + j);
    const gr_km_v8 c = *(const gr_km_v8 *)ct;
    a0 += x0[j] * c;
    a1 += x1[j] * c;
    a2 += x2[j] * c;
    a3 += x3[j] * c;
    a4 += x4[j] * c;
    a5 += x5[j] * c;
    a6 += x6[j] * c;
    a7 += x7[j] * c;
  }
  const gr_km_v8 acc[GR_KM_ROWS] = {a0, a1, a2, a3, a4, a5, a6, a7};
  for (int r = 0; r < GR_KM_ROWS; r++)
    memcpy(out + (size_t)r * kp + (size_t)g * 8, &acc[r], sizeof acc[r]);
}

#endif
