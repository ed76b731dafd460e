/* KMeans reference sums and bounded-step inputs written out, shared by
 * the tests of the plain, bounded and packed steps. */
#ifndef GR_TESTS_KMEANS_SUMS_H
#define GR_TESTS_KMEANS_SUMS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/shared_math.h"

/* The kmeans_step contract's sums of X (n, d) by labels: per GR_KM_CHUNK
 * chunk in row order, the chunks added in order. ref (k, d) and cnt (k)
 * accumulate; part: k d doubles of scratch. */
static inline void km_chunk_sums(double *ref, int64_t *cnt, double *part, const float *X,
                                 const int32_t *labels, int n, int d, int k) {
  const size_t kd = (size_t)k * d;
  for (int r0 = 0; r0 < n; r0 += GR_KM_CHUNK) {
    memset(part, 0, sizeof(double) * kd);
    for (int r = r0; r < n && r < r0 + GR_KM_CHUNK; r++) {
      cnt[labels[r]]++;
      for (int j = 0; j < d; j++)
        part[(size_t)labels[r] * d + j] += X[(size_t)r * d + j];
    }
    for (size_t i = 0; i < kd; i++)
      ref[i] += part[i];
  }
}

/* The fit's fixed point (host/kmeans.c): scale[j] = 2^(61 - e) with n
 * max|x_j| < 2^e; returns the fractions' scale, 2^(61 - e) with n < 2^e. */
static inline double km_fixed_scales(double *scale, const float *X, int n, int d) {
  for (int j = 0; j < d; j++) {
    double top = 0;
    for (int r = 0; r < n; r++)
      top = fmax(top, fabs(X[(size_t)r * d + j]));
    int e;
    frexp(top * n, &e);
    scale[j] = ldexp(1.0, 61 - e);
  }
  int e_n;
  (void)frexp((double)n, &e_n);
  return ldexp(1.0, 61 - e_n);
}

/* The fixed-point sums from scratch: ref (k, 2 d), whole parts then
 * fractions, and ref_count (k), both overwritten. */
static inline void km_fixed_sums(int64_t *ref, int64_t *ref_count, const float *X,
                                 const int32_t *labels, int n, int d, int k, const double *scale,
                                 double frac_scale) {
  memset(ref, 0, sizeof(int64_t) * 2 * (size_t)k * d);
  memset(ref_count, 0, sizeof(int64_t) * (size_t)k);
  for (int r = 0; r < n; r++) {
    ref_count[labels[r]]++;
    for (int j = 0; j < d; j++) {
      int64_t hi, lo;
      gr_km_fixed(X[(size_t)r * d + j], scale[j], frac_scale, &hi, &lo);
      ref[(size_t)labels[r] * 2 * d + j] += hi;
      ref[(size_t)labels[r] * 2 * d + d + j] += lo;
    }
  }
}

static inline double km_center_distance(const float *a, const float *b, int d) {
  double s = 0;
  for (int j = 0; j < d; j++)
    s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
  return sqrt(s);
}

/* A bounded step's inputs as the fit computes them (host/kmeans.c): the
 * centers' drift since prev (0 on the first step), rounded up, and their
 * gaps, rounded down, a center's own infinite. */
static inline void km_step_inputs(double *drift, double *gap, const float *C, const float *prev,
                                  int k, int d, int first) {
  for (int c = 0; c < k; c++)
    drift[c] = first ? 0 : km_center_distance(C + c * d, prev + c * d, d) * (1 + 0x1p-40);
  for (int c = 0; c < k; c++)
    for (int o = 0; o < k; o++)
      gap[c * k + o] =
          o == c ? INFINITY : km_center_distance(C + c * d, C + o * d, d) * (1 - 0x1p-40);
}

#endif
