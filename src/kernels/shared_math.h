/* Math shared by the CPU and CUDA twins, so that the CPU tests exercise the
 * exact rules the GPU kernels follow: the ranking order, the CG step
 * guards and the per-entry terms of the ALS objective. */
#ifndef GR_KERNELS_SHARED_MATH_H
#define GR_KERNELS_SHARED_MATH_H

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

#endif
