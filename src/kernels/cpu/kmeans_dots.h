/* The CPU KMeans dot products, shared by the plain Lloyd pass (kmeans.c)
 * and the bounded one (kmeans_bounds.c), so that both compute every
 * distance with the same operations in the same order. */
#ifndef GR_KERNELS_CPU_KMEANS_DOTS_H
#define GR_KERNELS_CPU_KMEANS_DOTS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "contract.h"

/* The direct path scores GR_KM_ROWS rows at a time against 8 clusters at
 * a time: one 8-float vector per row holds the 8 dots (C transposed and
 * zero padded: Ct (d, kp), kp a multiple of 8), x_r[j] * Ct[j] added for j
 * in order. The rows are independent accumulator chains that hide the
 * add latency, and no horizontal sums are needed; a row's dots do not
 * depend on the rows beside it. */
#define GR_KM_ROWS 8
typedef float gr_km_v8 __attribute__((vector_size(32), aligned(4)));

/* Lanes per row for k clusters on the direct path. */
static inline int gr_km_direct_lanes(int k) { return (k + 7) / 8 * 8; }

/* c_norm[c] = |C[c]|^2 summed in double; with Ct (NULL: not wanted) also
 * Ct (d, kp) = C (k, d) transposed, zero padded to kp = gr_km_direct_lanes(k)
 * lanes (Ct zeroed by the caller), its rows in the packed order of packed
 * rows (row p is feature order[p]) when order is not NULL. */
static inline void gr_km_prepare_centers(float *Ct, float *c_norm, const float *C, int k, int d,
                                         const int32_t *order) {
  const int kp = gr_km_direct_lanes(k);
  for (int c = 0; c < k; c++) {
    double s = 0;
    for (int j = 0; j < d; j++) {
      const float v = C[(size_t)c * d + j];
      s += (double)v * v;
    }
    c_norm[c] = (float)s;
    if (Ct)
      for (int p = 0; p < d; p++)
        Ct[(size_t)p * kp + c] = C[(size_t)c * d + (order ? order[p] : p)];
  }
}

/* acc[r] += x_r[j] * Ct[j] (lanes g * 8 ..) for j < d in order; next as in
 * gr_km_rows_dots8. */
GR_CONTRACT static inline __attribute__((always_inline)) void
gr_km_float_dots8(gr_km_v8 acc[GR_KM_ROWS], const float *const *x, const float *Ct, int d, int kp,
                  int g, const float *const *next) {
  GR_CONTRACT_BODY
  const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3], *x4 = x[4], *x5 = x[5], *x6 = x[6],
              *x7 = x[7];
  gr_km_v8 a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4], a5 = acc[5],
           a6 = acc[6], a7 = acc[7];
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
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
  acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
}

static inline void gr_km_store8(float *out, const gr_km_v8 acc[GR_KM_ROWS], int kp, int g) {
  for (int r = 0; r < GR_KM_ROWS; r++)
    memcpy(out + (size_t)r * kp + (size_t)g * 8, &acc[r], sizeof acc[r]);
}

/* out[r * kp + g * 8 + l] = x_r . C[g * 8 + l] for the 8 clusters of group g.
 * next (NULL: none): the GR_KM_ROWS rows read later, prefetched a line per
 * 16 columns. The 8 row streams alone leave the loop waiting on memory half
 * the time (6.7 of 12 GB/s on one core); prefetching two groups ahead took
 * a pass over the bench's X from 50 to 33 ms. */
static inline void gr_km_rows_dots8(float *out, const float *const *x, const float *Ct, int d,
                                    int kp, int g, const float *const *next) {
  gr_km_v8 acc[GR_KM_ROWS] = {{0}};
  gr_km_float_dots8(acc, x, Ct, d, kp, g, next);
  gr_km_store8(out, acc, kp, g);
}

/* Packed rows' binary features are summed a nibble at a time: T (2
 * n_bytes, 16, kp) holds for nibble q (binary features 4 q .. 4 q + 3) and
 * each value v of it the sum of the center rows Ct[nf + 4 q + t] of its set
 * bits t (none past nb), so a row costs one load and add per nibble, with
 * no branches, instead of one per set bit. 16 entries per nibble keep T
 * in L1 (20 KiB at k = 8 on the bench). */
static inline size_t gr_km_nibble_floats(int n_bytes, int kp) {
  return (size_t)2 * n_bytes * 16 * kp;
}

/* T from Ct (packed order, d = nf + nb rows): an entry is the entry
 * without its lowest bit plus that bit's center row. */
static inline void gr_km_prepare_nibbles(float *T, const float *Ct, int nf, int nb, int n_bytes,
                                         int kp) {
  for (int q = 0; q < 2 * n_bytes; q++) {
    float *tq = T + (size_t)q * 16 * kp;
    for (int l = 0; l < kp; l++)
      tq[l] = 0.0f;
    for (int v = 1; v < 16; v++) {
      const int f = 4 * q + __builtin_ctz((unsigned)v);
      const float *rest = tq + (size_t)(v & (v - 1)) * kp;
      const float *c = Ct + (size_t)(nf + f) * kp;
      for (int l = 0; l < kp; l++)
        tq[(size_t)v * kp + l] = rest[l] + (f < nb ? c[l] : 0.0f);
    }
  }
}

/* The same dots over packed rows (packed_rows.h: nf floats, then n_bytes
 * bytes of bits): x[r] is packed row r, Ct is in the packed order (row p
 * is feature order[p]) and T its nibble sums (gr_km_prepare_nibbles). The
 * float features are taken as above, then the nibbles' sums added in
 * order, the low nibbles' to one sum and the high ones' to another (two
 * chains of adds), and the two added. next (NULL: none): the rows read
 * later, each prefetched whole (stride bytes). */
GR_CONTRACT static inline void gr_km_packed_dots8(float *out, const unsigned char *const *x,
                                                  const float *Ct, const float *T, int nf,
                                                  int n_bytes, size_t stride, int kp, int g,
                                                  const unsigned char *const *next) {
  if (next)
    for (int b = 0; b < GR_KM_ROWS; b++)
      for (size_t at = 0; at < stride; at += 64)
        __builtin_prefetch(next[b] + at);
  const float *xf[GR_KM_ROWS];
  const unsigned char *bits[GR_KM_ROWS];
  for (int b = 0; b < GR_KM_ROWS; b++) {
    xf[b] = (const float *)(const void *)x[b];
    bits[b] = x[b] + sizeof(float) * (size_t)nf;
  }
  gr_km_v8 lo[GR_KM_ROWS] = {{0}}, hi[GR_KM_ROWS] = {{0}};
  gr_km_float_dots8(lo, xf, Ct, nf, kp, g, NULL);
  const size_t nib = (size_t)16 * kp; /* floats per nibble of T */
  const float *t = T + (size_t)g * 8;
  for (int q = 0; q < n_bytes; q++, t += 2 * nib)
    for (int b = 0; b < GR_KM_ROWS; b++) {
      const unsigned v = bits[b][q];
      lo[b] += *(const gr_km_v8 *)(t + (v & 15u) * kp);
      hi[b] += *(const gr_km_v8 *)(t + nib + (v >> 4) * kp);
    }
  for (int b = 0; b < GR_KM_ROWS; b++)
    lo[b] += hi[b];
  gr_km_store8(out, lo, kp, g);
}

#endif
