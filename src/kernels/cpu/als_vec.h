/* Vector helpers shared by the CPU ALS kernels (als_cg.c, als_cholesky.c,
 * als_solve.c): loops over the factor dimension that the compiler
 * vectorizes, and blocks of 16 floats in vectors of the target's width for
 * the kernels that keep a row in registers. */
#ifndef GR_KERNELS_CPU_ALS_VEC_H
#define GR_KERNELS_CPU_ALS_VEC_H

#include <stddef.h>
#include <string.h>

static inline float dot_k(const float *restrict a, const float *restrict b, int k) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int j = 0; j < k; j++)
    s += a[j] * b[j];
  return s;
}

static inline void axpy_k(float *restrict y, float a, const float *restrict x, int k) {
#pragma omp simd
  for (int j = 0; j < k; j++)
    y[j] += a * x[j];
}

/* The kernels below work on blocks of 16 floats, each held as GR_VPB
 * vectors of the target's width (GR_VL lanes): one 512-bit vector with
 * AVX-512, two with AVX, four with SSE. Every lane does the same
 * arithmetic in the same order whatever the width, and a block's sum
 * (hsum_block) adds the same halves as a 16-lane tree, so an AVX2 build
 * and an AVX-512 build give the same bits (checked on a medium-data fit;
 * a target without fma rounds its products apart and differs). A 64-byte
 * vector type on a target without 512-bit registers made GCC lower every
 * operation piecewise through the stack: ALS took 8 times as long on an
 * AVX2 build. Vectors are loaded through pointers, not memcpy'd: GCC split
 * those copies into 16-byte stores that the 32-byte load then waited on. */
#if defined(__AVX512F__)
#define GR_VL 16
#elif defined(__AVX__)
#define GR_VL 8
#else
#define GR_VL 4
#endif
#define GR_VPB (16 / GR_VL) /* vectors per block of 16 floats */
typedef float gr_vn __attribute__((vector_size(4 * GR_VL), aligned(4)));
/* Before a loop over a block's vectors: unrolled, its index is a constant
 * and the vectors it indexes stay in registers. */
#define GR_UNROLL_VPB _Pragma("GCC unroll 4")

/* y = G x for a symmetric (k, k) G, as the sum of G's rows scaled by x with
 * y held in NV blocks of registers throughout: one load per multiply-add
 * and no horizontal sums. This product is most of the CG work at 128
 * factors. One function per NV, so the compiler can keep the accumulators
 * in registers. */
#define GR_MATVEC_REG(NV)                                                                          \
  static inline void matvec_reg_##NV(float *restrict y, const float *restrict G,                   \
                                     const float *restrict x, int k) {                             \
    gr_vn acc[NV * GR_VPB];                                                                        \
    for (int v = 0; v < NV * GR_VPB; v++)                                                          \
      acc[v] = (gr_vn){0};                                                                         \
    for (int r = 0; r < k; r++) {                                                                  \
      const gr_vn *g = (const gr_vn *)(G + (size_t)r * k);                                         \
      const float xr = x[r];                                                                       \
      for (int v = 0; v < NV * GR_VPB; v++)                                                        \
        acc[v] += xr * g[v];                                                                       \
    }                                                                                              \
    memcpy(y, acc, sizeof acc);                                                                    \
  }
GR_MATVEC_REG(1)
GR_MATVEC_REG(2)
GR_MATVEC_REG(3)
GR_MATVEC_REG(4)
GR_MATVEC_REG(5)
GR_MATVEC_REG(6)
GR_MATVEC_REG(7)
GR_MATVEC_REG(8)

static inline void matvec_k(float *restrict y, const float *restrict G, const float *restrict x,
                            int k) {
  switch (k % 16 == 0 ? k / 16 : 0) {
  case 1: matvec_reg_1(y, G, x, k); return;
  case 2: matvec_reg_2(y, G, x, k); return;
  case 3: matvec_reg_3(y, G, x, k); return;
  case 4: matvec_reg_4(y, G, x, k); return;
  case 5: matvec_reg_5(y, G, x, k); return;
  case 6: matvec_reg_6(y, G, x, k); return;
  case 7: matvec_reg_7(y, G, x, k); return;
  case 8: matvec_reg_8(y, G, x, k); return;
  default:
    for (int r = 0; r < k; r++)
      y[r] = dot_k(G + (size_t)r * k, x, k);
  }
}

/* The sum of a block's 16 lanes (t: GR_VPB vectors), as a tree of halves:
 * lanes 0-7 plus 8-15, then 0-3 plus 4-7, then (0 + 2) + (1 + 3). */
static inline float hsum_block(const gr_vn *t) {
  typedef float v4 __attribute__((vector_size(16)));
#if GR_VL == 16
  typedef float v8 __attribute__((vector_size(32)));
  const v8 a = __builtin_shufflevector(t[0], t[0], 0, 1, 2, 3, 4, 5, 6, 7) +
               __builtin_shufflevector(t[0], t[0], 8, 9, 10, 11, 12, 13, 14, 15);
  const v4 b =
      __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
#elif GR_VL == 8
  const gr_vn a = t[0] + t[1];
  const v4 b =
      __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
#else
  const v4 b = (t[0] + t[2]) + (t[1] + t[3]);
#endif
  return (b[0] + b[2]) + (b[1] + b[3]);
}

/* Lane l (0..15) of a block held as GR_VPB vectors, read and written. */
static inline float block_lane(const gr_vn *t, int l) {
  float v;
  memcpy(&v, (const char *)t + sizeof(float) * (size_t)l, sizeof v);
  return v;
}

static inline void block_set_lane(gr_vn *t, int l, float v) {
  memcpy((char *)t + sizeof(float) * (size_t)l, &v, sizeof v);
}

#endif
