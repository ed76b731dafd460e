/* The logistic-regression row terms (gr_logreg_row, ../shared_math.h) for
 * 8 rows at a time, in a form the compiler vectorizes: exp and log1p as
 * branch-free polynomials instead of libm calls, which took a third of the
 * CPU passes' arithmetic on the leads bench. Both stay within 2 ulp of
 * libm's (tests/test_logreg_terms.c), so the terms match gr_logreg_row's to
 * about 1e-15 relative. CPU only: the CUDA twin calls the device exp and
 * log1p. */
#ifndef GR_KERNELS_CPU_LOGREG_TERMS_H
#define GR_KERNELS_CPU_LOGREG_TERMS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define GR_LR_LANES 8

/* exp(x) for x <= 0 (exp(-745) and below: 0 or the smallest subnormals).
 * x = k ln2 + r, |r| <= ln2 / 2 (ln2 in two parts, so k ln2 is exact), and
 * exp(r) by its Taylor series to r^13 (truncation below 2e-17). 2^k is
 * built in the exponent bits, in two factors below 2^-1000 so that the
 * result may be subnormal. */
static inline double gr_lr_exp_nonpos(double x) {
  x = x < -745.5 ? -745.5 : x;
  const double shifter = 0x1.8p52; /* adding it rounds to an integer */
  const double kd = (x * 1.4426950408889634 + shifter) - shifter;
  double r = fma(-kd, 0x1.62e42fefa39efp-1, x);
  r = fma(-kd, 0x1.abc9e3b39803fp-56, r);
  double p = 1.0 / 6227020800.0; /* 1/13! */
  p = fma(p, r, 1.0 / 479001600.0);
  p = fma(p, r, 1.0 / 39916800.0);
  p = fma(p, r, 1.0 / 3628800.0);
  p = fma(p, r, 1.0 / 362880.0);
  p = fma(p, r, 1.0 / 40320.0);
  p = fma(p, r, 1.0 / 5040.0);
  p = fma(p, r, 1.0 / 720.0);
  p = fma(p, r, 1.0 / 120.0);
  p = fma(p, r, 1.0 / 24.0);
  p = fma(p, r, 1.0 / 6.0);
  p = fma(p, r, 0.5);
  p = fma(p, r, 1.0);
  p = fma(p, r, 1.0);
  const int64_t k = (int64_t)kd; /* in [-1076, 0] */
  const int tiny = k < -1000;
  const int64_t bits = (k + (tiny ? 100 : 0) + 1023) << 52;
  double scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale * (tiny ? 0x1p-100 : 1.0);
}

/* log1p(t) for t in [0, 1]: 2 atanh(u), u = t / (2 + t) <= 1/3, by its
 * series to u^35 (truncation below 1e-18). */
static inline double gr_lr_log1p_unit(double t) {
  const double u = t / (2.0 + t), u2 = u * u;
  double s = 1.0 / 35;
  s = fma(s, u2, 1.0 / 33);
  s = fma(s, u2, 1.0 / 31);
  s = fma(s, u2, 1.0 / 29);
  s = fma(s, u2, 1.0 / 27);
  s = fma(s, u2, 1.0 / 25);
  s = fma(s, u2, 1.0 / 23);
  s = fma(s, u2, 1.0 / 21);
  s = fma(s, u2, 1.0 / 19);
  s = fma(s, u2, 1.0 / 17);
  s = fma(s, u2, 1.0 / 15);
  s = fma(s, u2, 1.0 / 13);
  s = fma(s, u2, 1.0 / 11);
  s = fma(s, u2, 1.0 / 9);
  s = fma(s, u2, 1.0 / 7);
  s = fma(s, u2, 1.0 / 5);
  s = fma(s, u2, 1.0 / 3);
  const double v = 2.0 * u;
  return fma(v * u2, s, v);
}

/* gr_logreg_row for GR_LR_LANES rows: margins z, labels y (0/1) and
 * weights c in, loss, r and h out (the same formulas). */
static inline void gr_lr_terms8(const double *restrict z, const int *restrict y,
                                const double *restrict c, double *restrict loss, double *restrict r,
                                double *restrict h) {
#pragma omp simd
  for (int k = 0; k < GR_LR_LANES; k++) {
    const double zk = z[k], ck = c[k];
    const double e = gr_lr_exp_nonpos(-fabs(zk)), big = 1.0 / (1.0 + e), small = e * big;
    const double p1 = zk >= 0 ? big : small, p0 = zk >= 0 ? small : big;
    const double m = y[k] ? zk : -zk;
    loss[k] = ck * (gr_lr_log1p_unit(e) + (m < 0 ? -m : 0.0));
    r[k] = y[k] ? -ck * p0 : ck * p1;
    h[k] = ck * p1 * p0;
  }
}

#endif
