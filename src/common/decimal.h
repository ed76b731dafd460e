/* Correctly rounded decimal to binary conversion for the short forms that
 * tables hold (up to 19 significant digits, small exponents): the same
 * double as strtod, without its locale, copying or arbitrary precision. */
#ifndef GR_COMMON_DECIMAL_H
#define GR_COMMON_DECIMAL_H

#include <stdint.h>

/* mant * 10^e10, rounded to nearest even, negated with neg (so -0 stays -0).
 * @return 1 with *out, or 0 outside what it covers: |e10| <= 19 always, up
 * to 22 for mant <= 2^53 (then the caller needs another conversion). */
int gr_decimal_to_double(uint64_t mant, int e10, int neg, double *out);

/* The same, with the common case inline: mant <= 2^53 and |e10| <= 22 are
 * one exact IEEE operation on exact operands (Clinger's fast path). */
static inline int gr_decimal_to_double_inline(uint64_t mant, int e10, int neg, double *out) {
  static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  if (mant == 0 || mant > (1ULL << 53) || e10 < -22 || e10 > 22)
    return gr_decimal_to_double(mant, e10, neg, out);
  const double v = e10 < 0 ? (double)mant / pow10[-e10] : (double)mant * pow10[e10];
  *out = neg ? -v : v;
  return 1;
}

#endif
