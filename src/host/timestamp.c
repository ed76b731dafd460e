/* Calendar arithmetic without the C library's time zone state. */
#include "timestamp.h"

int64_t gr_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int digits(const char *p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return 0;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return 1;
}

int gr_parse_timestamp(const char *p, size_t len, int64_t *out) {
  if (len == 0) return 0;
  if (len >= 10 && p[4] == '-' && p[7] == '-') {
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!digits(p, 4, &y) || !digits(p + 5, 2, &mo) || !digits(p + 8, 2, &d)) return 0;
    static const int days_in[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > days_in[mo - 1]) return 0;
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return 0;
    if (len > 10) {
      if (len < 19 || (p[10] != ' ' && p[10] != 'T') || p[13] != ':' || p[16] != ':') return 0;
      if (!digits(p + 11, 2, &h) || !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &s)) return 0;
      if (h > 23 || mi > 59 || s > 60) return 0;
      /* fractional seconds and a trailing Z are accepted and ignored */
      size_t i = 19;
      if (i < len && p[i] == '.') {
        i++;
        while (i < len && p[i] >= '0' && p[i] <= '9')
          i++;
      }
      if (i < len && p[i] == 'Z') i++;
      if (i != len) return 0;
    }
    *out = gr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 1;
  }
  size_t i = 0;
  int neg = 0;
  if (p[0] == '-') {
    neg = 1;
    i = 1;
  }
  if (i == len || len - i > 18) return 0;
  int64_t v = 0;
  for (; i < len; i++) {
    if (p[i] == '.') { /* fractional epoch seconds: truncate */
      for (size_t j = i + 1; j < len; j++)
        if (p[j] < '0' || p[j] > '9') return 0;
      break;
    }
    if (p[i] < '0' || p[i] > '9') return 0;
    v = v * 10 + (p[i] - '0');
  }
  *out = neg ? -v : v;
  return 1;
}
