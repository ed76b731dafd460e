/* Vector helpers shared by the CPU ALS kernels (als_cg.c, als_cholesky.c,
 * als_solve.c): loops over the factor dimension that the compiler
 * vectorizes, and 16-float vectors for the kernels that keep a row in
 * registers. */
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

/* y = G x for a symmetric (k, k) G, as the sum of G's rows scaled by x with
 * y held in NV 16-float registers throughout: one load per multiply-add and
 * no horizontal sums. This product is most of the CG work at 128 factors.
 * One function per NV, so the compiler can keep the accumulators in registers. */
typedef float gr_v16 __attribute__((vector_size(64), aligned(4)));

#define GR_MATVEC_REG(NV)                                                                          \
  static inline void matvec_reg_##NV(float *restrict y, const float *restrict G,                   \
                                     const float *restrict x, int k) {                             \
    gr_v16 acc[NV];                                                                                \
    for (int v = 0; v < NV; v++)                                                                   \
      acc[v] = (gr_v16){0};                                                                        \
    for (int r = 0; r < k; r++) {                                                                  \
      const gr_v16 *g = (const gr_v16 *)(G + (size_t)r * k);                                       \
      const float xr = x[r];                                                                       \
      for (int v = 0; v < NV; v++)                                                                 \
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

/* The sum of a vector's 16 lanes, as a tree of halves. */
static inline float hsum_v16(gr_v16 t) {
  typedef float v8 __attribute__((vector_size(32)));
  typedef float v4 __attribute__((vector_size(16)));
  const v8 a = __builtin_shufflevector(t, t, 0, 1, 2, 3, 4, 5, 6, 7) +
               __builtin_shufflevector(t, t, 8, 9, 10, 11, 12, 13, 14, 15);
  const v4 b =
      __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  return (b[0] + b[2]) + (b[1] + b[3]);
}

#endif
