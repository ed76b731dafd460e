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

#endif
