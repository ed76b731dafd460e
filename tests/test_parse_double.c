/* gr_parse_double against strtod: the same accept/reject decision and the
 * same double, bit for bit, over edge cases and over 1.2 million random
 * strings of the shapes market tables hold (Python's float reprs, fixed
 * decimals, integers, long and short mantissas, exponents, values halfway
 * between two doubles), plus random junk; fields with spaces in front and
 * hexadecimal ones are refused. At 64 bytes and more a field is a
 * number only in the plain forms [+-]digits[.digits] with at most 18
 * significant digits and 18 decimals (the rule kept from the earlier reader). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/decimal.h"
#include "common/rng.h"
#include "host/csv.h"

/* The long-field rule, written out plainly. */
static int long_plain_number(const char *p, size_t len) {
  size_t i = p[0] == '-' || p[0] == '+';
  int sig = 0, digits = 0, frac = 0, seen_dot = 0, nonzero = 0;
  for (; i < len; i++) {
    if (p[i] == '.' && !seen_dot) {
      seen_dot = 1;
    } else if (p[i] >= '0' && p[i] <= '9') {
      nonzero |= p[i] != '0';
      sig += nonzero;
      digits++;
      frac += seen_dot;
    } else {
      return 0;
    }
  }
  return digits > 0 && sig <= 18 && frac <= 18;
}

/* The decision and value gr_parse_double must give: strtod's, less a field
 * with white space in front (after, it already fails strtod's end) and
 * hexadecimal forms ("0x10" is not a weight of 16). */
static int reference(const char *p, size_t len, double *out) {
  char *tmp = malloc(len + 1);
  if (!tmp) abort();
  memcpy(tmp, p, len);
  tmp[len] = '\0';
  char *end = NULL;
  *out = strtod(tmp, &end);
  int ok = len > 0 && end == tmp + len && !isspace((unsigned char)p[0]) && !memchr(p, 'x', len) &&
           !memchr(p, 'X', len);
  if (len >= 64) ok = long_plain_number(p, len);
  free(tmp);
  return ok;
}

static int64_t n_cases, n_bad;

static void expect_same(const char *p, size_t len) {
  double got = 0, want = 0;
  const int ok = gr_parse_double(p, len, &got), want_ok = reference(p, len, &want);
  n_cases++;
  if (ok == want_ok && (!ok || memcmp(&got, &want, sizeof got) == 0)) return;
  if (n_bad++ < 10)
    fprintf(stderr, "'%.*s': %s %.17g, strtod: %s %.17g\n", (int)len, p, ok ? "ok" : "rejected",
            got, want_ok ? "ok" : "rejected", want);
}

static void expect_str(const char *s) { expect_same(s, strlen(s)); }

static void test_edge_cases(void) {
  static const char *const cases[] = {"",
                                      "+",
                                      "-",
                                      ".",
                                      "-.",
                                      "+.",
                                      "e",
                                      "e5",
                                      ".e5",
                                      "1e",
                                      "1e+",
                                      "1e-",
                                      "1E5",
                                      "1e+5",
                                      "1e-5",
                                      "5.",
                                      ".5",
                                      "-.5",
                                      "+.5",
                                      "5.e3",
                                      ".5e-3",
                                      "-0",
                                      "+0",
                                      "0",
                                      "-0.0",
                                      "0.000",
                                      "00012",
                                      "-00.0100",
                                      "0e0",
                                      "0e999999",
                                      "1e999999",
                                      "1e-999999",
                                      "1e400",
                                      "1e-400",
                                      "4.9e-324",
                                      "2.4703282292062327e-324",
                                      "2.4703282292062328e-324",
                                      "5e-324",
                                      "1e-310",
                                      "2.2250738585072011e-308",
                                      "2.2250738585072014e-308",
                                      "1.7976931348623157e308",
                                      "1.7976931348623158e308",
                                      "1.7976931348623159e308",
                                      "9007199254740992",
                                      "9007199254740993",
                                      "9007199254740994",
                                      "9007199254740995",
                                      "9007199254740993.0",
                                      "18446744073709551615",
                                      "18446744073709551616",
                                      "9999999999999999999",
                                      "10000000000000000000",
                                      "1234567890123456789",
                                      "12345678901234567890",
                                      "1234567890123456789012345",
                                      "0.1234567890123456789",
                                      "0.12345678901234567890",
                                      "1.00000000000000000000000001",
                                      "8.892197990301824",
                                      "0.9333333333333334",
                                      "476341.7027313092",
                                      "1e22",
                                      "1e23",
                                      "1e-22",
                                      "1e-23",
                                      "9007199254740993e-19",
                                      "9007199254740993e19",
                                      "123e-20",
                                      "123e20",
                                      " 1",
                                      "1 ",
                                      "\t1",
                                      "\v1",
                                      "\f1",
                                      "\n1",
                                      "\r1",
                                      "1\n",
                                      "inf",
                                      "-inf",
                                      "Infinity",
                                      "nan",
                                      "NaN",
                                      "nan(1)",
                                      "0x10",
                                      "0x1p3",
                                      "1,5",
                                      "1.5.2",
                                      "--1",
                                      "+-1",
                                      "-+1",
                                      "1e5.5",
                                      "1e--5",
                                      "1.5e",
                                      "1.5E+",
                                      "True",
                                      "2005-11-03",
                                      "1_000",
                                      "\xd9\xa1",
                                      "1\0002"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_str(cases[i]);
  expect_same("1\0002", 3); /* a NUL byte inside */
  /* long fields: plain forms with leading zeros are numbers, the rest not */
  char buf[256];
  for (int zeros = 58; zeros <= 120; zeros += 31)
    for (int shape = 0; shape < 6; shape++) {
      int n = snprintf(buf, sizeof buf, "%s", shape % 2 ? "-" : "");
      for (int z = 0; z < zeros; z++)
        buf[n++] = '0';
      static const char *const tails[] = {"123456789012345678.5",  "1.25",
                                          "1234567890123456789",   "1.123456789012345678",
                                          "1.1234567890123456789", "1e5"};
      snprintf(buf + n, sizeof buf - (size_t)n, "%s", tails[shape]);
      expect_str(buf);
    }
  /* the conversion itself: the exact range, and what it leaves to others */
  double v;
  CHECK(gr_decimal_to_double(0, 400, 1, &v) && v == 0 && signbit(v));
  CHECK(gr_decimal_to_double(5, -1, 0, &v) && v == 0.5);
  CHECK(!gr_decimal_to_double(1, 23, 0, &v) && !gr_decimal_to_double(1, -23, 0, &v));
  CHECK(!gr_decimal_to_double(UINT64_MAX, 20, 0, &v) &&
        !gr_decimal_to_double(UINT64_MAX, -20, 0, &v));
  CHECK(gr_decimal_to_double(UINT64_MAX, 19, 0, &v) && v == 18446744073709551615e19);
}

// ---- random strings -----------------------------------------------------------

static size_t put_digits(char *b, gr_rng *r, int n, int first_nonzero) {
  for (int i = 0; i < n; i++)
    b[i] = (char)('0' + (i == 0 && first_nonzero ? 1 + gr_rng_below(r, 9) : gr_rng_below(r, 10)));
  return (size_t)n;
}

/* A double with random bits (finite), as Python would print it or close. */
static size_t random_repr(char *b, size_t cap, gr_rng *r) {
  double d;
  do {
    const uint64_t bits = gr_rng_next(r);
    memcpy(&d, &bits, sizeof d);
  } while (!isfinite(d));
  static const char *const fmts[] = {"%.17g", "%.16g", "%.15g", "%.17e", "%.3g", "%.18g"};
  return (size_t)snprintf(b, cap, fmts[gr_rng_below(r, 6)], d);
}

/* A market-like value: magnitudes 1e-6 to 1e9, fixed decimals up to 20. */
static size_t random_fixed(char *b, size_t cap, gr_rng *r) {
  const double mag = pow(10, -6 + 15 * gr_rng_uniform(r));
  const double d = (gr_rng_below(r, 4) ? 1 : -1) * mag * gr_rng_uniform(r);
  const int decimals = (int)gr_rng_below(r, 21);
  if (gr_rng_below(r, 2)) return (size_t)snprintf(b, cap, "%.*f", decimals, d);
  return (size_t)snprintf(b, cap, "%.17g", d); /* Python's repr of such a value, or longer */
}

/* Random digits with a sign, a point and an exponent at random. */
static size_t random_digits(char *b, gr_rng *r) {
  size_t n = 0;
  const uint64_t sign = gr_rng_below(r, 4);
  if (sign == 1) b[n++] = '-';
  if (sign == 2) b[n++] = '+';
  const int int_len = (int)gr_rng_below(r, 22), frac_len = (int)gr_rng_below(r, 22);
  n += put_digits(b + n, r, int_len, gr_rng_below(r, 3) != 0);
  if (frac_len || gr_rng_below(r, 2)) b[n++] = '.';
  n += put_digits(b + n, r, frac_len, 0);
  if (gr_rng_below(r, 3) == 0) {
    b[n++] = gr_rng_below(r, 2) ? 'e' : 'E';
    const uint64_t es = gr_rng_below(r, 3);
    if (es) b[n++] = es == 1 ? '-' : '+';
    n += put_digits(b + n, r, (int)gr_rng_below(r, 4), 0);
  }
  return n;
}

/* A decimal close to halfway between two neighbouring doubles: the exact
 * midpoint cut to 16-19 significant digits, nudged in its last digit. */
static size_t random_halfway(char *b, size_t cap, gr_rng *r) {
  const double d = pow(10, -30 + 60 * gr_rng_uniform(r)) * (1 + gr_rng_uniform(r));
  const double up = nextafter(d, INFINITY);
  const long double mid = ((long double)d + (long double)up) / 2; /* exact: 64-bit mantissa */
  char tmp[64];
  const int digits = 16 + (int)gr_rng_below(r, 4);
  snprintf(tmp, sizeof tmp, "%.*Le", digits - 1, mid);
  char *e = strchr(tmp, 'e');
  if (e && gr_rng_below(r, 2)) { /* nudge the last digit down or up, staying a digit */
    char *last = e - 1;
    if (*last > '0' && *last < '9') *last = (char)(*last + (gr_rng_below(r, 2) ? 1 : -1));
  }
  return (size_t)snprintf(b, cap, "%s", tmp);
}

/* Bytes from the number alphabet and a few others, 0 to 70 of them. */
static size_t random_junk(char *b, gr_rng *r) {
  static const char alphabet[] = "0123456789012345678901234567890123456789.-+eE xn,";
  const size_t n = gr_rng_below(r, 71);
  for (size_t i = 0; i < n; i++)
    b[i] = alphabet[gr_rng_below(r, sizeof alphabet - 1)];
  return n;
}

static void test_random(void) {
  gr_rng r;
  gr_rng_seed(&r, 20261124);
  char b[512];
  for (int i = 0; i < 1200000; i++) {
    size_t n = 0;
    switch (i % 6) {
    case 0: n = random_repr(b, sizeof b, &r); break;
    case 1:
    case 2: n = random_fixed(b, sizeof b, &r); break;
    case 3: n = random_digits(b, &r); break;
    case 4: n = random_halfway(b, sizeof b, &r); break;
    default: n = random_junk(b, &r); break;
    }
    expect_same(b, n);
  }
}

int main(void) {
  test_edge_cases();
  test_random();
  CHECK_MSG(n_bad == 0, "%lld of %lld strings differ from strtod", (long long)n_bad,
            (long long)n_cases);
  CHECK(n_cases > 1200000);
  return gr_test_finish();
}
