/* mant * 10^e10 with one rounding. Mantissas up to 2^53 times or over a
 * power of ten up to 10^22 are one exact IEEE operation on exact operands
 * (Clinger's fast path). Larger mantissas use 128-bit integers: the exact
 * product with 10^e10 (e10 <= 19), or the quotient by 10^-e10 (>= 55 bits)
 * with a sticky bit for the remainder; either is cut to 64 bits keeping a
 * sticky bit below the rounding position, converted by the hardware (one
 * rounding to nearest even) and scaled by an exact power of two. */
#include "decimal.h"

#include <math.h>

static const double k_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const uint64_t k_pow10_u64[20] = {1ULL,
                                         10ULL,
                                         100ULL,
                                         1000ULL,
                                         10000ULL,
                                         100000ULL,
                                         1000000ULL,
                                         10000000ULL,
                                         100000000ULL,
                                         1000000000ULL,
                                         10000000000ULL,
                                         100000000000ULL,
                                         1000000000000ULL,
                                         10000000000000ULL,
                                         100000000000000ULL,
                                         1000000000000000ULL,
                                         10000000000000000ULL,
                                         100000000000000000ULL,
                                         1000000000000000000ULL,
                                         10000000000000000000ULL};

#if !defined(__SIZEOF_INT128__)
#error "gr_decimal_to_double needs unsigned __int128 (64-bit GCC or Clang)"
#endif
typedef unsigned __int128 u128;

/* n rounded to a double (n < 2^128: no overflow). */
static double round_u128(u128 n) {
  const uint64_t hi = (uint64_t)(n >> 64);
  if (!hi) return (double)(uint64_t)n;
  const int shift = 64 - __builtin_clzll(hi); /* bits above the top 64 */
  const uint64_t top = (uint64_t)(n >> shift);
  const uint64_t rest = shift == 64 ? (uint64_t)n : (uint64_t)n & ((1ULL << shift) - 1);
  /* top has 64 bits, so its bit 0 lies below the rounding position */
  return ldexp((double)(top | (rest != 0)), shift);
}

int gr_decimal_to_double(uint64_t mant, int e10, int neg, double *out) {
  double v;
  if (mant == 0) {
    v = 0;
  } else if (mant <= (1ULL << 53) && e10 >= -22 && e10 <= 22) {
    v = e10 < 0 ? (double)mant / k_pow10[-e10] : (double)mant * k_pow10[e10];
  } else if (e10 >= 0 && e10 <= 19) {
    v = round_u128((u128)mant * k_pow10_u64[e10]);
  } else if (e10 < 0 && e10 >= -19) {
    const uint64_t d = k_pow10_u64[-e10];
    /* mant * 2^s / d with 55 to 56 bits (s may be 0 when mant is large):
     * mant < 2^bm, d < 2^bd, so the quotient is at least 2^(bm - 1 + s - bd) */
    const int bm = 64 - __builtin_clzll(mant), bd = 64 - __builtin_clzll(d);
    int s = 55 + bd - bm;
    if (s < 0) s = 0;
    const u128 num = (u128)mant << s; /* < 2^(55 + bd) <= 2^119 */
    const uint64_t q = (uint64_t)(num / d);
    const uint64_t rem = (uint64_t)(num - (u128)q * d);
    /* q >= 2^54: its bit 0 lies below the rounding position; q * 2^-s is
     * at least 2^-65, a normal number, so the scaling is exact */
    v = ldexp((double)(q | (rem != 0)), -s);
  } else {
    return 0;
  }
  *out = neg ? -v : v;
  return 1;
}
