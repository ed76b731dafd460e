/* The CSV scanner. The whole file is in memory (mapped, or read with one
 * read); a row is one pass that finds field ends 64 bytes at a time, from a
 * bitmask of delimiters, line breaks, quotes and NULs, so parsing runs well
 * above 100 MB/s per core. Readers of row ranges (gr_csv_view, gr_csv_split)
 * let several threads share one read-only text. */
#include "csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../common/decimal.h"
#include "../common/error.h"
#include "decompress.h"
#include "input_file.h"

#ifndef MAP_POPULATE
#define MAP_POPULATE 0 /* Linux: read the file in up front rather than page by page */
#endif

gr_status gr_csv_error(const gr_csv *c, int64_t col, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return gr_fail(GR_ERR_PARSE, "%s:%lld:%lld: %s", c->path, (long long)c->line, (long long)col,
                 msg);
}

static char detect_delimiter(const char *buf, size_t len) {
  size_t counts[3] = {0, 0, 0};
  const char cands[3] = {',', ';', '\t'};
  int quoted = 0;
  for (size_t i = 0; i < len && (quoted || buf[i] != '\n'); i++) {
    if (buf[i] == '"') quoted = !quoted;
    if (quoted) continue;
    for (int d = 0; d < 3; d++)
      counts[d] += buf[i] == cands[d];
  }
  int best = 0;
  for (int d = 1; d < 3; d++)
    if (counts[d] > counts[best]) best = d;
  return cands[best];
}

/* Takes ownership of buf (len bytes plus GR_CSV_PAD zero bytes). */
static void csv_attach(gr_csv *c, char *buf, size_t len, char delim) {
  c->buf = buf;
  c->len = len;
  /* skip a UTF-8 byte order mark */
  if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0) c->pos = 3;
  c->delim = delim ? delim : detect_delimiter(c->buf + c->pos, c->len - c->pos);
}

/* Attaches a file's bytes raw[0..len) (len plus GR_CSV_PAD bytes, or a
 * mapping of span bytes) as they are, or, when they are gzip or zip, the
 * text inflated from them, raw then released. */
static gr_status attach_file(gr_csv *c, char *raw, size_t len, size_t span, const char *path,
                             char delim) {
  if (gr_packing_of(raw, len) == GR_PACKING_NONE) {
    c->mapped = span;
    csv_attach(c, raw, len, delim);
    return GR_OK;
  }
  char *text = NULL;
  size_t text_len = 0;
  const gr_status st = gr_decompress(path, (const uint8_t *)raw, len, GR_CSV_PAD, &text, &text_len);
  if (span)
    munmap(raw, span);
  else
    free(raw);
  GR_TRY(st);
  csv_attach(c, text, text_len, delim);
  return GR_OK;
}

/* Opens path and finds its size; the messages are those of every loader. */
static gr_status open_sized(const char *path, FILE **out, size_t *size) {
  FILE *f;
  GR_TRY(gr_input_open(path, &f));
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return gr_fail(GR_ERR_IO, "cannot seek in %s (not a regular file?)", path);
  }
  long n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return gr_fail(GR_ERR_IO, "cannot determine the size of %s", path);
  }
  *out = f;
  *size = (size_t)n;
  return GR_OK;
}

static gr_status load(gr_csv *c, FILE *f, size_t size, const char *path, char delim) {
  char *buf = calloc(1, size + GR_CSV_PAD);
  if (!buf) {
    fclose(f);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate %zu bytes to read %s", size, path);
  }
  size_t got = fread(buf, 1, size, f);
  int read_error = ferror(f);
  fclose(f);
  if (got != size || read_error) {
    free(buf);
    return gr_fail(GR_ERR_IO, "cannot read %s: short read", path);
  }
  return attach_file(c, buf, size, 0, path, delim);
}

gr_status gr_csv_open(gr_csv *c, const char *path, char delim) {
  memset(c, 0, sizeof *c);
  c->path = path;
  FILE *f = NULL;
  size_t size = 0;
  GR_TRY(open_sized(path, &f, &size));
  return load(c, f, size, path, delim);
}

gr_status gr_csv_open_read_only(gr_csv *c, const char *path, char delim) {
  memset(c, 0, sizeof *c);
  c->path = path;
  c->read_only = 1;
  FILE *f = NULL;
  size_t size = 0;
  GR_TRY(open_sized(path, &f, &size));
  /* the file over an anonymous reservation one page longer, so that the
   * bytes after the text read as zeros */
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t span = (size + page - 1) / page * page + page;
  char *base = size ? mmap(NULL, span, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
  if (base != MAP_FAILED) {
    void *m = mmap(base, size, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fileno(f), 0);
    if (m == MAP_FAILED) {
      munmap(base, span);
      base = MAP_FAILED;
    }
  }
  if (base == MAP_FAILED) return load(c, f, size, path, delim); /* empty or unmappable */
  fclose(f);
  return attach_file(c, base, size, span, path, delim);
}

gr_status gr_csv_open_mem(gr_csv *c, const char *name, const void *data, size_t len, char delim) {
  memset(c, 0, sizeof *c);
  c->path = name;
  if (gr_packing_of(data, len) != GR_PACKING_NONE) {
    char *text = NULL;
    size_t text_len = 0;
    GR_TRY(gr_decompress(name, data, len, GR_CSV_PAD, &text, &text_len));
    csv_attach(c, text, text_len, delim);
    return GR_OK;
  }
  char *buf = calloc(1, len + GR_CSV_PAD);
  if (!buf) return gr_fail(GR_ERR_NOMEM, "cannot allocate %zu bytes for %s", len, name);
  if (len) memcpy(buf, data, len);
  csv_attach(c, buf, len, delim);
  return GR_OK;
}

void gr_csv_view(gr_csv *view, const gr_csv *c, size_t pos, int64_t line) {
  memset(view, 0, sizeof *view);
  view->path = c->path;
  view->buf = c->buf;
  view->len = c->len;
  view->delim = c->delim;
  view->pos = pos;
  view->line = line;
  view->read_only = 1;
  view->borrowed = 1;
}

void gr_csv_close(gr_csv *c) {
  if (c->mapped)
    munmap(c->buf, c->mapped);
  else if (!c->borrowed)
    free(c->buf);
  free(c->fields);
  free(c->scratch);
  c->buf = NULL;
  c->fields = NULL;
  c->scratch = NULL;
}

// ---- scanning ---------------------------------------------------------------

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero where a byte of x is zero; the lowest flag is always exact. */
static inline uint64_t zero_bytes(uint64_t x) { return (x - ONES) & ~x & HIGHS; }

/* The first index >= i whose byte is a, b, c or NUL; the text's zero
 * padding stops it at len at the latest. */
static inline size_t skip_to(const char *buf, size_t i, char a, char b, char c) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t pa = ONES * (unsigned char)a, pb = ONES * (unsigned char)b,
                 pc = ONES * (unsigned char)c;
  for (;; i += 8) {
    uint64_t x;
    memcpy(&x, buf + i, 8);
    const uint64_t m = zero_bytes(x) | zero_bytes(x ^ pa) | zero_bytes(x ^ pb) | zero_bytes(x ^ pc);
    if (m) return i + ((size_t)__builtin_ctzll(m) >> 3);
  }
#else
  for (;; i++)
    if (buf[i] == a || buf[i] == b || buf[i] == c || buf[i] == '\0') return i;
#endif
}

/* Bit b set where p[b] (b < 64) is the delimiter, a line break, a quote or
 * NUL: the bytes that end an unquoted field. */
static inline uint64_t field_ends(const char *p, char delim) {
#if defined(__SSE2__)
  const __m128i d = _mm_set1_epi8(delim), nl = _mm_set1_epi8('\n'), q = _mm_set1_epi8('"'),
                z = _mm_setzero_si128();
  uint64_t bits = 0;
  for (int k = 0; k < 4; k++) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
    const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, nl)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, z)));
    bits |= (uint64_t)(unsigned)_mm_movemask_epi8(m) << (16 * k);
  }
  return bits;
#else
  uint64_t bits = 0;
  for (int b = 0; b < 64; b++)
    bits |= (uint64_t)(p[b] == delim || p[b] == '\n' || p[b] == '"' || p[b] == '\0') << b;
  return bits;
#endif
}

static gr_status grow_fields(gr_csv *c) {
  int cap = c->cap_fields ? c->cap_fields * 2 : 16;
  gr_field *f = realloc(c->fields, (size_t)cap * sizeof *f);
  if (!f) return gr_fail(GR_ERR_NOMEM, "cannot grow the CSV field list");
  c->fields = f;
  c->cap_fields = cap;
  return GR_OK;
}

/* Unescapes quoted text ("" -> ") from src[0..n) into dst; @return its length. */
static size_t unescape(char *dst, const char *src, size_t n) {
  size_t w = 0;
  for (size_t r = 0; r < n; r++) {
    dst[w++] = src[r];
    r += src[r] == '"'; /* the second quote of a pair */
  }
  return w;
}

/* Room for n more unescaped bytes in scratch; fields of this row that point
 * into it follow it when it moves. */
static gr_status reserve_scratch(gr_csv *c, size_t n) {
  if (c->scratch_len + n <= c->scratch_cap) return GR_OK;
  size_t cap = c->scratch_cap ? c->scratch_cap * 2 : 4096;
  while (cap < c->scratch_len + n)
    cap *= 2;
  char *s = malloc(cap);
  if (!s) return gr_fail(GR_ERR_NOMEM, "cannot grow the CSV scratch buffer to %zu bytes", cap);
  if (c->scratch_len) memcpy(s, c->scratch, c->scratch_len);
  for (int f = 0; f < c->n_fields; f++) {
    const uintptr_t p = (uintptr_t)c->fields[f].p, lo = (uintptr_t)c->scratch;
    if (c->scratch && p >= lo && p < lo + c->scratch_len) c->fields[f].p = s + (p - lo);
  }
  free(c->scratch);
  c->scratch = s;
  c->scratch_cap = cap;
  return GR_OK;
}

/* Appends a field; the field list is held in locals (fields, n, cap) in the
 * scanning loop and stored back into c before anything that reads it. */
#define PUSH(p_, len_, col_)                                                                       \
  do {                                                                                             \
    if (n_fields == c->cap_fields) {                                                               \
      c->n_fields = n_fields;                                                                      \
      GR_TRY(grow_fields(c));                                                                      \
      fields = c->fields;                                                                          \
    }                                                                                              \
    fields[n_fields].p = (p_);                                                                     \
    fields[n_fields].len = (len_);                                                                 \
    fields[n_fields].col = (col_);                                                                 \
    n_fields++;                                                                                    \
  } while (0)

gr_status gr_csv_next_before(gr_csv *c, size_t end, int *done) {
  const char *buf = c->buf;
  const size_t n = c->len;
  const char delim = c->delim;
  c->n_fields = 0;
  c->scratch_len = 0;
  size_t i;
  for (;;) { /* blank lines are skipped */
    if (c->pos >= n || c->pos >= end) {
      *done = 1;
      return GR_OK;
    }
    c->line++;
    i = c->pos;
    if (buf[i] == '\n' || (buf[i] == '\r' && i + 1 < n && buf[i + 1] == '\n')) {
      c->pos = i + (buf[i] == '\r' ? 2 : 1);
      continue;
    }
    break;
  }
  gr_field *fields = c->fields;
  int n_fields = 0;
  const char *const line_start = buf + i;
  size_t ends_at = i;
  uint64_t ends = 0;
  for (;;) {
    const int64_t col = (int64_t)(buf + i - line_start) + 1;
    if (buf[i] == delim && delim != '\n' && delim != '"' && i < n) { /* an empty field */
      PUSH(buf + i, 0, col);
      i++;
      continue;
    }
    if (buf[i] == '"' && i < n) {
      /* quoted: the field may span lines; "" stands for one quote */
      size_t r = i + 1;
      int escaped = 0;
      const int64_t quote_line = c->line;
      for (;;) {
        r = skip_to(buf, r, '"', '\n', '\n');
        if (r >= n) {
          c->line = quote_line; /* report where the quote opened */
          return gr_csv_error(c, col, "unterminated quoted field");
        }
        if (buf[r] == '"') {
          if (buf[r + 1] == '"' && r + 1 < n) {
            escaped = 1;
            r += 2;
            continue;
          }
          break;
        }
        if (buf[r] == '\0') return gr_csv_error(c, col, "NUL byte inside a field");
        c->line++; /* a line break inside the quotes */
        r++;
      }
      const char *p = buf + i + 1;
      size_t len = r - (i + 1);
      if (escaped && !c->read_only) {
        len = unescape(c->buf + i + 1, p, len);
      } else if (escaped) {
        c->n_fields = n_fields;
        GR_TRY(reserve_scratch(c, len));
        fields = c->fields;
        char *dst = c->scratch + c->scratch_len;
        len = unescape(dst, p, len);
        c->scratch_len += len;
        p = dst;
      }
      PUSH(p, len, col);
      i = r + 1;
      if (i < n && buf[i] == '\r') i++;
      if (i >= n || buf[i] == '\n') {
        c->pos = i < n ? i + 1 : n;
        break;
      }
      if (buf[i] != delim)
        return gr_csv_error(c, (int64_t)(buf + i - line_start) + 1,
                            "expected a delimiter or end of line after a closing quote");
      i++;
      continue;
    }
    /* unquoted: up to the delimiter or the end of line, found in the bits of
     * the 64 bytes from ends_at (kept while fields start inside them) */
    size_t j;
    const uint64_t ahead = i - ends_at < 64 ? ends >> (i - ends_at) : 0;
    if (ahead) {
      j = i + (size_t)__builtin_ctzll(ahead);
    } else {
      for (j = i;; j += 64) {
        ends = field_ends(buf + j, delim);
        if (ends) break;
      }
      ends_at = j;
      j += (size_t)__builtin_ctzll(ends);
    }
    if (j < n && buf[j] != delim && buf[j] != '\n') {
      if (buf[j] == '"')
        return gr_csv_error(c, (int64_t)(buf + j - line_start) + 1,
                            "unexpected quote inside an unquoted field");
      return gr_csv_error(c, (int64_t)(buf + j - line_start) + 1, "NUL byte");
    }
    if (j >= n || buf[j] == '\n') {
      size_t stop = j;
      if (stop > i && buf[stop - 1] == '\r') stop--;
      PUSH(buf + i, stop - i, col);
      c->pos = j < n ? j + 1 : n;
      break;
    }
    PUSH(buf + i, j - i, col);
    i = j + 1; /* past the delimiter: a trailing delimiter yields an empty field */
  }
  c->n_fields = n_fields;
  *done = 0;
  return GR_OK;
}

#undef PUSH

gr_status gr_csv_next(gr_csv *c, int *done) { return gr_csv_next_before(c, c->len, done); }

// ---- splitting into row ranges ----------------------------------------------

/* Quotes and line breaks in p[0..n). */
static void count_quotes_lines(const char *p, size_t n, size_t *quotes, size_t *lines) {
  size_t q = 0, l = 0, i = 0;
#if defined(__SSE2__)
  const __m128i dq = _mm_set1_epi8('"'), nl = _mm_set1_epi8('\n'), z = _mm_setzero_si128();
  while (i + 16 <= n) {
    __m128i aq = z, al = z; /* per-byte counts, summed before they can wrap */
    for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16) {
      const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
      aq = _mm_sub_epi8(aq, _mm_cmpeq_epi8(v, dq));
      al = _mm_sub_epi8(al, _mm_cmpeq_epi8(v, nl));
    }
    uint64_t s[2];
    _mm_storeu_si128((__m128i *)(void *)s, _mm_sad_epu8(aq, z));
    q += s[0] + s[1];
    _mm_storeu_si128((__m128i *)(void *)s, _mm_sad_epu8(al, z));
    l += s[0] + s[1];
  }
#endif
  for (; i < n; i++) {
    q += p[i] == '"';
    l += p[i] == '\n';
  }
  *quotes = q;
  *lines = l;
}

/* from + floor(span * k / n) without overflow */
static size_t raw_start(size_t from, size_t span, int k, int n) {
  const size_t nn = (size_t)n, kk = (size_t)k;
  return from + span / nn * kk + span % nn * kk / nn;
}

gr_status gr_csv_split(const gr_csv *c, int n, int n_threads, size_t *starts, int64_t *lines) {
  const char *buf = c->buf;
  const size_t from = c->pos < c->len ? c->pos : c->len, span = c->len - from;
  size_t *q = calloc((size_t)n + 1, sizeof *q), *nl = calloc((size_t)n + 1, sizeof *nl);
  if (!q || !nl) {
    free(q);
    free(nl);
    return gr_fail(GR_ERR_NOMEM, "cannot split %s into %d ranges", c->path, n);
  }
  /* raw range k is [from + span*k/n, from + span*(k+1)/n) */
#define RAW(k) raw_start(from, span, (k), n)
#pragma omp parallel for num_threads(n_threads) schedule(static) if (n > 1 && span > (1 << 20))
  for (int k = 0; k < n; k++)
    count_quotes_lines(buf + RAW(k), RAW(k + 1) - RAW(k), &q[k + 1], &nl[k + 1]);
  for (int k = 0; k < n; k++) { /* prefix sums: before raw range k */
    q[k + 1] += q[k];
    nl[k + 1] += nl[k];
  }
  starts[0] = from;
  lines[0] = c->line;
  starts[n] = c->len;
  lines[n] = c->line + (int64_t)nl[n];
  /* backwards, so that a scan never runs past the next range's start */
  for (int k = n - 1; k >= 1; k--) {
    const size_t s = RAW(k), next = starts[k + 1];
    int in_quotes = (int)(q[k] & 1);
    int64_t line = c->line + (int64_t)nl[k];
    starts[k] = next;
    lines[k] = lines[k + 1];
    if (s == from || (!in_quotes && buf[s - 1] == '\n')) {
      starts[k] = s;
      lines[k] = line;
      continue;
    }
    for (size_t j = s; j < next; j++) {
      if (buf[j] == '"') {
        in_quotes = !in_quotes;
      } else if (buf[j] == '\n') {
        line++;
        if (!in_quotes) {
          starts[k] = j + 1;
          lines[k] = line;
          break;
        }
      }
    }
  }
#undef RAW
  free(q);
  free(nl);
  return GR_OK;
}

// ---- values -----------------------------------------------------------------

static inline unsigned digit_at(const char *p, size_t i) { return (unsigned)(p[i] - '0'); }

/* Up to 19 significant digits into *mant from p[i..len); @return the index
 * after the digits. *n_sig counts significant digits (leading zeros are not),
 * also those past 19, which are not added; *n_digits counts all of them. */
static inline size_t scan_digits(const char *p, size_t i, size_t len, uint64_t *mant, int *n_sig,
                                 size_t *n_digits) {
  const size_t i0 = i;
  uint64_t m = *mant;
  int sig = *n_sig;
  for (; i < len && digit_at(p, i) < 10; i++) {
    if (sig < 19) {
      m = m * 10 + digit_at(p, i);
      sig += m != 0;
    } else {
      sig++;
    }
  }
  *mant = m;
  *n_sig = sig;
  *n_digits = i - i0;
  return i;
}

int gr_parse_double(const char *p, size_t len, double *out) {
  /* [+-]digits[.digits][(e|E)[+-]digits] with at least one digit before the
   * exponent and at most 19 significant ones is converted exactly here
   * (gr_decimal_to_double); anything else goes to strtod, which decides
   * alone below 64 bytes, save for what it accepts that a field may not hold:
   * spaces around (a trailing one fails its end check) and hexadecimal. At
   * 64 bytes and more only the plain forms [+-]digits[.digits] with at most
   * 18 significant digits and 18 decimals are numbers: the rule of the reader
   * before this one, kept so that tables read the same. */
  if (len == 0) return 0;
  const int neg = p[0] == '-';
  size_t i = neg || p[0] == '+';
  uint64_t mant = 0;
  int sig = 0;
  size_t int_digits = 0, frac_digits = 0;
  i = scan_digits(p, i, len, &mant, &sig, &int_digits);
  if (i < len && p[i] == '.') i = scan_digits(p, i + 1, len, &mant, &sig, &frac_digits);
  int exp10 = 0, has_exp = 0, exp_ok = 1;
  if (i < len && (p[i] == 'e' || p[i] == 'E') && int_digits + frac_digits > 0) {
    has_exp = 1;
    size_t j = i + 1;
    const int exp_neg = j < len && p[j] == '-';
    j += j < len && (p[j] == '-' || p[j] == '+');
    const size_t j0 = j;
    int e = 0;
    for (; j < len && digit_at(p, j) < 10; j++)
      if (e < 100000) e = e * 10 + (int)digit_at(p, j);
    exp_ok = j > j0 && e < 100000;
    exp10 = exp_neg ? -e : e;
    i = j;
  }
  const int plain = i == len && int_digits + frac_digits > 0 && exp_ok;
  if (len >= 64) /* the earlier reader's rule; the conversion covers it */
    return plain && !has_exp && sig <= 18 && frac_digits <= 18 &&
           gr_decimal_to_double(mant, -(int)frac_digits, neg, out);
  /* sig <= 19: every digit went into mant */
  if (plain && sig <= 19 && gr_decimal_to_double_inline(mant, exp10 - (int)frac_digits, neg, out))
    return 1;
  /* slow path: strtod on a bounded copy, never of "0x10" or " 3" */
  if (isspace((unsigned char)p[0]) || memchr(p, 'x', len) || memchr(p, 'X', len)) return 0;
  char tmp[64];
  memcpy(tmp, p, len);
  tmp[len] = '\0';
  char *end = NULL;
  errno = 0;
  double v = strtod(tmp, &end);
  if (end != tmp + len) return 0;
  *out = v;
  return 1;
}

int64_t gr_utf8_invalid_at(const char *p, size_t len) {
  const unsigned char *s = (const unsigned char *)p;
  size_t i = 0;
  while (i < len) {
    /* ASCII eight bytes at a time: ids and most text are ASCII */
    uint64_t w;
    while (i + 8 <= len && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ULL) == 0))
      i += 8;
    if (i >= len) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t n; /* continuation bytes */
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3, min = 0x10000;
    } else {
      return (int64_t)i;
    }
    unsigned cp = c & (0x3F >> n);
    for (size_t k = 1; k <= n; k++) {
      if (i + k >= len || (s[i + k] & 0xC0) != 0x80) return (int64_t)i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return (int64_t)i;
    i += n + 1;
  }
  return -1;
}

int gr_field_equals(const gr_field *f, const char *s) {
  size_t n = strlen(s);
  if (n != f->len) return 0;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)f->p[i]) != tolower((unsigned char)s[i])) return 0;
  return 1;
}

void gr_csv_row_names(const gr_csv *c, char *out, size_t cap) {
  out[0] = '\0';
  for (int f = 0; f < c->n_fields && strlen(out) + 50 < cap; f++)
    snprintf(out + strlen(out), cap - strlen(out), "%s'%.*s'", f ? ", " : "",
             (int)(c->fields[f].len > 40 ? 40 : c->fields[f].len), c->fields[f].p);
}

gr_status gr_csv_check_utf8(const gr_csv *c, const gr_field *f, const char *what) {
  const int64_t bad = gr_utf8_invalid_at(f->p, f->len);
  if (bad < 0) return GR_OK;
  return gr_csv_error(c, f->col + bad,
                      "the %s is not valid UTF-8 (byte 0x%02X); convert the file to UTF-8", what,
                      (unsigned char)f->p[bad]);
}
