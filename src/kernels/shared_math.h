/* Math shared by the CPU and CUDA twins, so that the CPU tests exercise the
 * exact rules the GPU kernels follow: the ranking order, the CG step
 * guards and the per-entry terms of the ALS objective. */
#ifndef GR_KERNELS_SHARED_MATH_H
#define GR_KERNELS_SHARED_MATH_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define GR_HD __host__ __device__ __forceinline__
#else
#define GR_HD static inline
#endif

/* CG stops early once the squared residual norm falls below this. */
#define GR_CG_EPS 1e-20f

/* Ranking order: higher score first; among equal scores, lower index first.
 * A valid candidate always beats an empty slot (index -1). */
GR_HD int gr_rank_before(float score_a, int32_t idx_a, float score_b, int32_t idx_b) {
  if (idx_b < 0) return idx_a >= 0;
  if (idx_a < 0) return 0;
  return score_a > score_b || (score_a == score_b && idx_a < idx_b);
}

/* Weight of y_i y_i^T beyond the shared Y^T Y in the normal equations:
 * (c - 1) with c the confidence of an observed pair. */
GR_HD float gr_conf_extra(float c) { return c - 1.0f; }

/* The loss contribution of one observed pair with prediction s = x.y:
 * c (1 - s)^2 - s^2, i.e. the observed term minus the term that the
 * Y^T Y part already counted with confidence 1 and preference 0. Written
 * as (c-1) s^2 - 2 c s + c, the `implicit` package's expansion. */
GR_HD double gr_loss_pair(double c, double s) { return (c - 1.0) * s * s - 2.0 * c * s + c; }

/* CG step length; 0 when the direction has no curvature (keeps x finite). */
GR_HD float gr_cg_step(float rs_old, float p_ap) { return p_ap > 0.0f ? rs_old / p_ap : 0.0f; }

/* KMeans sums rows per cluster in chunks of this many rows (counted from
 * row 0 of X), each in row order, the chunks added in order; blocks of X
 * are multiples of it, so sums do not depend on the block size. */
#define GR_KM_CHUNK 4096

/* KMeans squared distance from the row norm, the dot product x.c and the
 * centroid norm, in float and in this order (2 * dot is exact, so a fused
 * multiply-add gives the same value). It may round below 0. */
GR_HD float gr_km_dist(float x_norm, float dot, float c_norm) {
  return x_norm - 2.0f * dot + c_norm;
}

/* One argmin step, clusters visited in increasing order: only a strictly
 * smaller distance wins, so ties keep the lower cluster and NaN never wins. */
GR_HD void gr_km_consider(float dist, int32_t c, float *best_dist, int32_t *best) {
  if (dist < *best_dist) {
    *best_dist = dist;
    *best = c;
  }
}

#ifndef __CUDACC__
/* A KMeans row norm, |x|^2 summed in double and rounded to float, as the
 * CPU twin's kmeans_row_norms computes it; also the CPU fit's pass that
 * takes the norms with the features' statistics (host/kmeans.c), so that
 * the two give the same bits. */
static inline float gr_km_row_norm(const float *x, int d) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int j = 0; j < d; j++)
    s += (double)x[j] * x[j];
  return (float)s;
}
#endif

/* The bounded KMeans fit's fixed point (kernels/cpu/kmeans_bounds.c): a
 * row value x of feature j counts as hi = (int64_t)(x s), s = scale[j] a
 * power of two with n max|x_j| s <= 2^61, and lo = (int64_t)((x s - hi)
 * frac_scale), frac_scale = 2^L with n 2^L <= 2^61: 61 bits below the
 * column's largest magnitude and L more, so that a column of values near 1
 * with a few near 1e9 loses nothing a double sum would keep. x s and
 * x s - hi are exact in double (x is a float), so a value always splits the
 * same way, and integer sums of the parts are exact in any order. The sum
 * is (hi_sum + lo_sum / frac_scale) / s. */
GR_HD void gr_km_fixed(float x, double scale, double frac_scale, int64_t *hi, int64_t *lo) {
  const double t = (double)x * scale;
  const int64_t h = (int64_t)t;
  *hi = h;
  *lo = (int64_t)((t - (double)h) * frac_scale);
}

/* A sum of gr_km_fixed parts back to a double. */
GR_HD double gr_km_fixed_value(int64_t hi, int64_t lo, double scale, double frac_scale) {
  return ((double)hi + (double)lo / frac_scale) / scale;
}

/* A bound on how far gr_km_dist, computed in float over d features, can
 * be from the exact squared distance: the dot product's rounding is at most
 * d u sum |x_j c_j| <= d u (|x|^2 + |c|^2) / 2 (u = 2^-24, fused or not),
 * doubled in 2 * dot, plus the norms' and the two additions' roundings;
 * twice that, for margin. c_norm: the largest center norm. */
GR_HD double gr_km_dist_error(int d, float x_norm, float c_norm) {
  return ((double)d + 8.0) * 0x1p-23 * ((double)x_norm + (double)c_norm);
}

/* The reported squared distance: the expansion's rounding clamped at 0. */
GR_HD float gr_km_clamp(float dist) { return dist > 0.0f ? dist : 0.0f; }

/* A centroid coordinate from its double sum over count > 0 rows. */
GR_HD float gr_km_mean(double sum, int64_t count) { return (float)(sum / (double)count); }

/* ---- SMOTE rows -------------------------------------------------------------
 * One coordinate of a synthetic row u + gap (v - u), in float. Written once
 * here for SMOTE (host/smote.c) and for the logistic regression passes that
 * rebuild its rows from descriptors, so both give the same floats: one
 * rounding per operation, never fused (separate statements keep host
 * compilers from contracting; the device uses the _rn intrinsics, which
 * nvcc never fuses). */
GR_HD float gr_smote_lerp(float u, float v, float gap) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(u, __fmul_rn(gap, __fsub_rn(v, u)));
#else
  const float diff = v - u;
  const float step = gap * diff;
  return u + step;
#endif
}

/* ---- logistic regression -------------------------------------------------
 * One row's terms of C s_i log(1 + exp(-(2 y_i - 1) z_i)) in double, in
 * forms that neither overflow nor cancel for large |z|. */

/* log(1 + exp(-t)) */
GR_HD double gr_log1pexp_neg(double t) { return t > 0 ? log1p(exp(-t)) : -t + log1p(exp(t)); }

/* 1 / (1 + exp(-t)) */
GR_HD double gr_sigmoid(double t) {
  if (t >= 0) return 1.0 / (1.0 + exp(-t));
  const double e = exp(t);
  return e / (1.0 + e);
}

typedef struct gr_logreg_terms {
  double loss; /* c log(1 + exp(-(2y - 1) z)) */
  double r;    /* c (sigmoid(z) - y): the row's gradient weight */
  double h;    /* c sigmoid(z) sigmoid(-z): the row's curvature */
} gr_logreg_terms;

/* Margin z = x.w + b, label y (0/1), weight c (C times the sample weight). */
GR_HD gr_logreg_terms gr_logreg_row(double z, int y, double c) {
  const double e = exp(-fabs(z)), big = 1.0 / (1.0 + e), small = e * big;
  const double p1 = z >= 0 ? big : small, p0 = z >= 0 ? small : big; /* P(y=1), P(y=0) */
  const double m = y ? z : -z;
  gr_logreg_terms t;
  t.loss = c * (log1p(e) + (m < 0 ? -m : 0.0));
  t.r = y ? -c * p0 : c * p1;
  t.h = c * p1 * p0;
  return t;
}

/* Curvature sampling for the Newton Hessian (logreg_grad_hess, tau > 0).
 * On a nearly separable fit most rows have p (1 - p) near 0 and add almost
 * nothing to the Hessian, yet each costs a rank-one update. A row with
 * p (1 - p) = h / c below tau enters with probability h / (c tau) and then
 * with the curvature c tau (Poisson sampling: the sum stays unbiased); the
 * others enter as they are. The draw is a hash of the row's place in its
 * group, so the same rows are kept on either backend, any thread count and
 * whatever other groups are fitted alongside.
 * Returns the row's scale sqrt(curvature), 0 for a row left out. */
GR_HD double gr_logreg_hess_scale(double h, double c, double tau, int64_t row) {
  if (!(tau > 0) || !(c > 0) || h >= c * tau) return sqrt(h);
  uint64_t x = (uint64_t)row * 0x9E3779B97F4A7C15ull; /* splitmix64's finalizer */
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  const double u = (double)(x >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
  return u * c * tau < h ? sqrt(c * tau) : 0.0;
}

#endif
