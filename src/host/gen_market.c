/* gpurec gen market: the driver. Rows come in fixed chunks, each from its own
 * random stream, so the bytes depend on the seed alone. Three passes: each
 * row's segment (cheap, kept), the portfolios (sequential: clients are chosen
 * before their rows are drawn, so their values can lean to the signature),
 * then the rows, drawn and formatted per chunk in parallel into per-thread
 * buffers and written in chunk order (an ordered loop: one thread writes
 * while the others generate). Numbers are formatted by hand, as pandas
 * writes them, because snprintf would dominate the time. */
#include "gen_market.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/fmt.h"
#include "../common/rng.h"
#include "market_model.h"
#include "output_file.h"
#include "timestamp.h"

#define CHUNK_ROWS 4096
#define NOISE_SHARE 0.15 /* clients drawn from the whole market, not the target segments */
#define NUM_WIDTH 32     /* the longest number field */
#define STREAM_SEGMENTS 0x5345470000000000ULL
#define STREAM_PORTFOLIOS 0x504f525400000000ULL

void gr_market_gen_params_default(gr_market_gen_params *p) {
  memset(p, 0, sizeof *p);
  p->n_rows = 462298;
  p->seed = 42;
  p->n_portfolios = 3;
  p->portfolio_sizes[0] = 555;
  p->portfolio_sizes[1] = 566;
  p->portfolio_sizes[2] = 265;
}

gr_status gr_market_portfolio_sizes(const gr_market_gen_params *p,
                                    int64_t sizes[GR_MARKET_MAX_PORTFOLIOS]) {
  if (p->n_rows < 1 || p->n_rows > INT32_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "rows must be 1..%d, got %lld", INT32_MAX,
                   (long long)p->n_rows);
  if (p->n_portfolios < 0 || p->n_portfolios > GR_MARKET_MAX_PORTFOLIOS)
    return gr_fail(GR_ERR_INVALID_ARG, "portfolios must be 0..%d, got %d", GR_MARKET_MAX_PORTFOLIOS,
                   p->n_portfolios);
  int64_t largest = 0, total = 0;
  for (int k = 0; k < p->n_portfolios; k++) {
    if (p->portfolio_sizes[k] < 1)
      return gr_fail(GR_ERR_INVALID_ARG, "portfolio %d's size must be >= 1, got %lld", k + 1,
                     (long long)p->portfolio_sizes[k]);
    if (p->portfolio_sizes[k] > largest) largest = p->portfolio_sizes[k];
  }
  const int64_t cap = p->n_rows / 100, least = p->n_rows >= 100 ? 2 : 1;
  const double scale = largest > cap ? (double)cap / (double)largest : 1.0;
  for (int k = 0; k < GR_MARKET_MAX_PORTFOLIOS; k++) {
    sizes[k] = 0;
    if (k >= p->n_portfolios) continue;
    sizes[k] = (int64_t)llround((double)p->portfolio_sizes[k] * scale);
    if (sizes[k] < least) sizes[k] = least;
    total += sizes[k];
  }
  if (total > p->n_rows)
    return gr_fail(GR_ERR_INVALID_ARG, "%lld clients in %d portfolios do not fit in %lld rows",
                   (long long)total, p->n_portfolios, (long long)p->n_rows);
  return GR_OK;
}

void gr_market_row_id(uint64_t seed, int64_t row, char out[65]) {
  static const char hex[] = "0123456789abcdef";
  uint64_t key = seed ^ 0x1d1d1d1d1d1d1d1dULL;
  key = gr_splitmix64(&key);
  /* row -> x is a bijection, and so is splitmix64's first output of x */
  uint64_t x = key + (uint64_t)row * 0xd1342543de82ef95ULL;
  for (int w = 0; w < 4; w++) {
    const uint64_t v = gr_splitmix64(&x);
    for (int i = 0; i < 16; i++)
      out[w * 16 + i] = hex[(v >> (60 - 4 * i)) & 15];
  }
  out[64] = '\0';
}

// ---- formatting ------------------------------------------------------------

static const double k_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
// clang-format off
static const uint64_t k_pow10u[] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL};
// clang-format on

/* v with `decimals` digits after the point (-1: 16 significant digits),
 * trailing zeros dropped; with `point`, always a point and a digit after it
 * ("3.0"), as Python's repr writes floats. Never an exponent: magnitudes
 * below 1e-4 are written as 0, as the sample has none. */
static char *put_number(char *s, double v, int decimals, int point) {
  double a = fabs(v);
  int d = decimals;
  if (d < 0) {
    int e = 0; /* a in [10^e, 10^(e+1)) */
    if (a < 1e-4) {
      a = 0;
    } else if (a >= 1) {
      while (e < 17 && a >= k_pow10[e + 1])
        e++;
    } else {
      for (e = -1; a < 1.0 / k_pow10[-e]; e--) {
      }
    }
    d = 15 - e;
  }
  if (d > 18) d = 18;
  while (d > 0 && a * k_pow10[d] >= 9e18)
    d--;
  if (a >= 9e18) a = 9e18;
  const uint64_t m = (uint64_t)llround(a * k_pow10[d]);
  if (v < 0 && m != 0) *s++ = '-';
  s = gr_put_u64(s, m / k_pow10u[d]);
  uint64_t frac = m % k_pow10u[d];
  if (d > 0 && frac == 0) d = 0; /* x.000 */
  if (d > 0) {
    while (frac % 10 == 0) {
      frac /= 10;
      d--;
    }
    *s++ = '.';
    for (int i = d - 1; i >= 0; i--)
      *s++ = (char)('0' + (frac / k_pow10u[i]) % 10);
  } else if (point) {
    *s++ = '.';
    *s++ = '0';
  }
  return s;
}

static char *put_date(char *s, double days) {
  const int64_t z = (int64_t)days;
  int64_t y = 1970 + (int64_t)floor((double)z / 365.2425);
  while (gr_days_from_civil(y, 1, 1) > z)
    y--;
  while (gr_days_from_civil(y + 1, 1, 1) <= z)
    y++;
  int m = 1;
  while (m < 12 && gr_days_from_civil(y, m + 1, 1) <= z)
    m++;
  const int d = (int)(z - gr_days_from_civil(y, m, 1)) + 1;
  const int yy = (int)(y < 0 ? 0 : y > 9999 ? 9999 : y);
  s[0] = (char)('0' + yy / 1000);
  s[1] = (char)('0' + yy / 100 % 10);
  s[2] = (char)('0' + yy / 10 % 10);
  s[3] = (char)('0' + yy % 10);
  s[4] = '-';
  s[5] = (char)('0' + m / 10);
  s[6] = (char)('0' + m % 10);
  s[7] = '-';
  s[8] = (char)('0' + d / 10);
  s[9] = (char)('0' + d % 10);
  return s + 10;
}

/* CSV text of every level, quoted per RFC 4180 where needed. */
typedef struct level_text {
  char **text[GR_MKT_N_COLUMNS];
  int *len[GR_MKT_N_COLUMNS];
  size_t max_row; /* bytes of the longest possible row */
} level_text;

static size_t quote_field(char *out, const char *s) {
  const int quote = strpbrk(s, ",\"\r\n") != NULL;
  size_t n = 0;
  if (quote) out[n++] = '"';
  for (; *s; s++) {
    if (*s == '"') out[n++] = '"';
    out[n++] = *s;
  }
  if (quote) out[n++] = '"';
  out[n] = '\0';
  return n;
}

static void level_text_free(level_text *t) {
  for (int c = 0; c < GR_MKT_N_COLUMNS; c++) {
    const int L = gr_mkt_columns[c].n_levels;
    for (int l = 0; t->text[c] && l < L; l++)
      free(t->text[c][l]);
    free(t->text[c]);
    free(t->len[c]);
  }
}

static gr_status level_text_build(level_text *t) {
  memset(t, 0, sizeof *t);
  t->max_row = 24 + 1 + 64 + 1; /* index, id, newline */
  for (int c = 2; c < GR_MKT_N_COLUMNS; c++) {
    const gr_mkt_column *col = &gr_mkt_columns[c];
    size_t widest = NUM_WIDTH;
    if (col->kind == GR_MKT_BOOL || col->kind == GR_MKT_CATEGORY) {
      const int L = col->n_levels;
      t->text[c] = calloc((size_t)L, sizeof(char *));
      t->len[c] = calloc((size_t)L, sizeof(int));
      if (!t->text[c] || !t->len[c]) goto nomem;
      for (int l = 0; l < L; l++) {
        if (!(t->text[c][l] = malloc(2 * strlen(col->levels[l]) + 3))) goto nomem;
        t->len[c][l] = (int)quote_field(t->text[c][l], col->levels[l]);
        if ((size_t)t->len[c][l] > widest) widest = (size_t)t->len[c][l];
      }
    }
    t->max_row += 1 + widest;
  }
  return GR_OK;
nomem:
  level_text_free(t);
  return gr_fail(GR_ERR_NOMEM, "cannot allocate the market's level strings");
}

static char *put_row(char *s, const level_text *t, const gr_mkt_row *row, uint64_t seed,
                     int64_t r) {
  s = gr_put_u64(s, (uint64_t)r);
  *s++ = ',';
  char id[65];
  gr_market_row_id(seed, r, id);
  memcpy(s, id, 64);
  s += 64;
  for (int c = 2; c < GR_MKT_N_COLUMNS; c++) {
    const gr_mkt_column *col = &gr_mkt_columns[c];
    *s++ = ',';
    switch (col->kind) {
    case GR_MKT_BOOL:
    case GR_MKT_CATEGORY:
      if (row->level[c] >= 0) {
        memcpy(s, t->text[c][row->level[c]], (size_t)t->len[c][row->level[c]]);
        s += t->len[c][row->level[c]];
      }
      break;
    case GR_MKT_NUMBER:
      if (!isnan(row->value[c])) s = put_number(s, row->value[c], col->decimals, col->point);
      break;
    case GR_MKT_DATE:
      if (!isnan(row->value[c])) s = put_date(s, row->value[c]);
      break;
    default: break;
    }
  }
  *s++ = '\n';
  return s;
}

// ---- segments and portfolios ---------------------------------------------------

static void draw_segments(const gr_market_model *m, uint64_t seed, int64_t n_rows, int threads,
                          uint8_t *seg) {
  const int64_t n_chunks = (n_rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t ch = 0; ch < n_chunks; ch++) {
    gr_rng rng;
    gr_rng_seed_stream(&rng, seed, STREAM_SEGMENTS + (uint64_t)ch);
    const int64_t end = (ch + 1) * CHUNK_ROWS < n_rows ? (ch + 1) * CHUNK_ROWS : n_rows;
    for (int64_t r = ch * CHUNK_ROWS; r < end; r++)
      seg[r] = (uint8_t)gr_market_model_segment(m, &rng);
  }
}

/* Picks n of the rows in pool[0..n_pool) (partial Fisher-Yates, pool reordered). */
static void pick(int32_t *pool, int64_t n_pool, int64_t n, gr_rng *rng) {
  for (int64_t i = 0; i < n; i++) {
    const int64_t j = i + (int64_t)gr_rng_below(rng, (uint64_t)(n_pool - i));
    const int32_t t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
}

/* client_of[r] = k (1..n) for portfolio k's clients, members[k] their rows
 * in a random order. */
static gr_status choose_clients(const gr_market_model *m, const gr_market_gen_params *p,
                                const int64_t *sizes, const uint8_t *seg, uint8_t *client_of,
                                int32_t **members) {
  int32_t *pool = malloc(sizeof(int32_t) * (size_t)p->n_rows);
  if (!pool) return gr_fail(GR_ERR_NOMEM, "cannot allocate %lld rows", (long long)p->n_rows);
  gr_rng rng;
  gr_rng_seed_stream(&rng, p->seed, STREAM_PORTFOLIOS);
  for (int k = 0; k < p->n_portfolios; k++) {
    const gr_mkt_portfolio_plan *pl = &m->plan[k];
    int64_t want_target = sizes[k] - (int64_t)llround(NOISE_SHARE * (double)sizes[k]), n = 0;
    int64_t n_pool = 0;
    for (int64_t r = 0; r < p->n_rows; r++)
      if (!client_of[r] &&
          (seg[r] == pl->target[0] || (pl->n_targets > 1 && seg[r] == pl->target[1])))
        pool[n_pool++] = (int32_t)r;
    if (want_target > n_pool) want_target = n_pool;
    pick(pool, n_pool, want_target, &rng);
    for (int64_t i = 0; i < want_target; i++) {
      members[k][n++] = pool[i];
      client_of[pool[i]] = (uint8_t)(k + 1);
    }
    n_pool = 0;
    for (int64_t r = 0; r < p->n_rows; r++)
      if (!client_of[r]) pool[n_pool++] = (int32_t)r;
    const int64_t rest = sizes[k] - n; /* fits: the sizes were checked against the rows */
    pick(pool, n_pool, rest, &rng);
    for (int64_t i = 0; i < rest; i++) {
      members[k][n++] = pool[i];
      client_of[pool[i]] = (uint8_t)(k + 1);
    }
    pick(members[k], n, n, &rng); /* the file's order says nothing */
  }
  free(pool);
  return GR_OK;
}

// ---- writing -------------------------------------------------------------------

static gr_status write_market(const gr_market_model *m, const level_text *lt,
                              const gr_market_gen_params *p, int threads, const uint8_t *seg,
                              const uint8_t *client_of, FILE *f) {
  for (int c = 0; c < GR_MKT_N_COLUMNS; c++) {
    char name[256];
    quote_field(name, gr_mkt_columns[c].name);
    fprintf(f, "%s%s", c ? "," : "", name);
  }
  fputc('\n', f);
  const int64_t n_chunks = (p->n_rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
  int failed = 0;
#pragma omp parallel num_threads(threads)
  {
    char *buf = malloc(lt->max_row * CHUNK_ROWS);
    gr_mkt_row *row = malloc(sizeof *row);
#pragma omp for ordered schedule(static, 1)
    for (int64_t ch = 0; ch < n_chunks; ch++) {
      char *s = buf;
      if (buf && row) {
        gr_rng rng;
        gr_rng_seed_stream(&rng, p->seed, (uint64_t)ch);
        const int64_t end = (ch + 1) * CHUNK_ROWS < p->n_rows ? (ch + 1) * CHUNK_ROWS : p->n_rows;
        for (int64_t r = ch * CHUNK_ROWS; r < end; r++) {
          gr_market_model_row(m, seg[r], client_of[r], &rng, row);
          s = put_row(s, lt, row, p->seed, r);
        }
      }
#pragma omp ordered
      {
        if (!buf || !row) {
          failed = 1;
        } else if (!failed && fwrite(buf, 1, (size_t)(s - buf), f) != (size_t)(s - buf)) {
          failed = 2;
        }
      }
    }
    free(buf);
    free(row);
  }
  if (failed == 1) return gr_fail(GR_ERR_NOMEM, "cannot allocate the market's row buffers");
  /* a failed write is reported by gr_output_commit, with the path */
  return GR_OK;
}

static void write_portfolio(FILE *f, uint64_t seed, const int32_t *rows, int64_t n) {
  char id[65];
  fputs(",id\n", f);
  for (int64_t i = 0; i < n; i++) {
    gr_market_row_id(seed, rows[i], id);
    fprintf(f, "%lld,%s\n", (long long)i, id);
  }
}

/* File k: the market (0) or portfolio k. @return the length snprintf wanted. */
static size_t output_path(char *buf, size_t cap, const char *market, const char *prefix, int k) {
  const int n =
      k == 0 ? snprintf(buf, cap, "%s", market) : snprintf(buf, cap, "%s%d.csv", prefix, k);
  return n < 0 ? cap : (size_t)n;
}

gr_status gr_gen_market_csv(const gr_market_gen_params *p, const char *market_path,
                            const char *portfolio_prefix, int64_t *market_bytes) {
  int64_t sizes[GR_MARKET_MAX_PORTFOLIOS];
  GR_TRY(gr_market_portfolio_sizes(p, sizes));
  if (!market_path) return gr_fail(GR_ERR_INVALID_ARG, "no market path");
  if (p->n_threads > GR_MAX_THREADS)
    return gr_fail(GR_ERR_INVALID_ARG, "--threads must be at most %d", GR_MAX_THREADS);
  const int threads = p->n_threads > 0 ? p->n_threads : omp_get_max_threads();
  const int n_files = 1 + (portfolio_prefix ? p->n_portfolios : 0);
  gr_output_file out[1 + GR_MARKET_MAX_PORTFOLIOS];
  memset(out, 0, sizeof out);
  gr_market_model m;
  level_text lt;
  memset(&lt, 0, sizeof lt);
  uint8_t *seg = NULL, *client_of = NULL;
  int32_t *members[GR_MARKET_MAX_PORTFOLIOS] = {0};
  int opened = 0, committed = 0;
  gr_status st = gr_market_model_build(&m, p->seed, p->n_portfolios);
  if (st != GR_OK) return st;
  GR_CHECK_GOTO(st, level_text_build(&lt), cleanup);
  seg = malloc((size_t)p->n_rows);
  client_of = calloc((size_t)p->n_rows, 1);
  int nomem = !seg || !client_of;
  for (int k = 0; k < p->n_portfolios; k++)
    if (!(members[k] = malloc(sizeof(int32_t) * (size_t)sizes[k]))) nomem = 1;
  if (nomem) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate %lld rows", (long long)p->n_rows);
    goto cleanup;
  }
  /* every output opened first, so a bad path fails before the work */
  for (; opened < n_files; opened++) {
    char path[4096];
    if (output_path(path, sizeof path, market_path, portfolio_prefix, opened) >= sizeof path) {
      st = gr_fail(GR_ERR_INVALID_ARG, "output path too long: %s",
                   opened ? portfolio_prefix : market_path);
      goto cleanup;
    }
    GR_CHECK_GOTO(st, gr_output_open(&out[opened], path), cleanup);
  }
  draw_segments(&m, p->seed, p->n_rows, threads, seg);
  GR_CHECK_GOTO(st, choose_clients(&m, p, sizes, seg, client_of, members), cleanup);
  GR_CHECK_GOTO(st, write_market(&m, &lt, p, threads, seg, client_of, out[0].f), cleanup);
  for (int k = 1; k < n_files; k++)
    write_portfolio(out[k].f, p->seed, members[k - 1], sizes[k - 1]);
  if (market_bytes) *market_bytes = out[0].f == stdout ? 0 : (int64_t)ftello(out[0].f);
  /* the market first: the big one is the likeliest to fail, and then there is nothing to undo */
  for (int k = 0; k < n_files; k++) {
    GR_CHECK_GOTO(st, gr_output_commit(&out[k]), cleanup);
    committed++;
  }
cleanup:
  if (st != GR_OK) {
    for (int k = 0; k < opened; k++)
      gr_output_abort(&out[k]);
    /* undo the commits already made: all files or none (held commits are
     * not files yet: the path may still name the user's older file) */
    for (int k = 0; k < committed && !gr_output_holding(); k++) {
      char path[4096];
      output_path(path, sizeof path, market_path, portfolio_prefix, k);
      remove(path);
    }
  }
  for (int k = 0; k < p->n_portfolios; k++)
    free(members[k]);
  free(seg);
  free(client_of);
  level_text_free(&lt);
  gr_market_model_free(&m);
  return st;
}
