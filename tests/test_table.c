/* The typed table reader (market tables): kind inference for every column
 * kind and missing pattern, overrides, and bad input; and the parallel
 * reading: any thread count and any split into ranges of rows give the
 * table, or the first error in file order, of a reading in one range. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "host/table.h"
#include "host/table_doubts.h"
#include "test_util.h"

/* pandas-style: an unnamed index column, 64-hex ids, booleans, a category
 * with quoted commas and accents, numbers with gaps, dates, a mostly
 * numeric column with one word (so a category), an all-empty column. */
static const char *k_market =
    ",id,fl_matriz,de_faixa,vl_total,dt_situacao,qt_mixed,empty\n"
    "0,a6984c3ae395090e3bee8ad63c3758b110de096d5d819583a784a113726db849,True,"
    "\"DE R$ 81.000,01 A R$ 360.000,00\",1.5,2005-03-25,1,\n"
    "1,6178f41ade1365e44bc2c46654c2c8c0eaae27dcb476c47fdef50b33f4f56f05,False,"
    "S\xc3\xa3o Paulo,,2017-05-12,x,\n"
    "2,4a7e5069a397f12fdd7fd57111d6dc5d3ba558958efc02edc5147bc2a2535b08,true,"
    "\"DE R$ 81.000,01 A R$ 360.000,00\",-2e3,,3,\n";

static void test_inference(void) {
  gr_table *t = NULL;
  CHECK_OK(gr_table_read_csv(&t, write_temp_str(k_market), NULL));
  if (!t) return;
  CHECK(t->n_rows == 3 && t->n_cols == 8);
  const struct {
    const char *name;
    gr_col_kind kind;
    int64_t missing;
  } want[] = {{"Unnamed: 0", GR_COL_SKIP, 0},   {"id", GR_COL_ID, 0},
              {"fl_matriz", GR_COL_BOOL, 0},    {"de_faixa", GR_COL_CATEGORY, 0},
              {"vl_total", GR_COL_NUMBER, 1},   {"dt_situacao", GR_COL_DATE, 1},
              {"qt_mixed", GR_COL_CATEGORY, 0}, {"empty", GR_COL_BOOL, 3}};
  for (int c = 0; c < 8; c++) {
    CHECK_MSG(strcmp(t->cols[c].name, want[c].name) == 0, "column %d is '%s'", c, t->cols[c].name);
    CHECK_MSG(t->cols[c].kind == want[c].kind, "column %s: %s", want[c].name,
              gr_col_kind_name(t->cols[c].kind));
    CHECK_MSG(t->cols[c].n_missing == want[c].missing, "column %s: %lld missing", want[c].name,
              (long long)t->cols[c].n_missing);
  }
  CHECK(t->id_col == 1 && gr_table_find(t, "vl_total") == 4);
  const gr_column *b = &t->cols[2], *cat = &t->cols[3], *num = &t->cols[4], *dt = &t->cols[5];
  CHECK(b->num[0] == 1 && b->num[1] == 0 && b->num[2] == 1);
  CHECK(cat->levels.count == 2 && cat->level[0] == cat->level[2] && cat->level[0] != cat->level[1]);
  CHECK(strcmp(gr_id_map_get(&cat->levels, cat->level[0]), "DE R$ 81.000,01 A R$ 360.000,00") == 0);
  CHECK(num->num[0] == 1.5 && isnan(num->num[1]) && num->num[2] == -2000);
  CHECK(dt->num[0] == 12867 && isnan(dt->num[2])); /* 2005-03-25: days since 1970 */
  gr_table_free(t);
}

static void test_overrides_and_errors(void) {
  gr_table_options o;
  gr_table_options_default(&o);
  o.kinds = "qt_mixed=number";
  gr_table *t = NULL;
  const char *path = write_temp_str(k_market);
  CHECK(gr_table_read_csv(&t, path, &o) == GR_ERR_PARSE);
  CHECK_MSG(contains_text(gr_last_error(), ":3:") && contains_text(gr_last_error(), "'x'"), "%s",
            gr_last_error());
  o.kinds = "fl_matriz=category,empty=skip";
  CHECK_OK(gr_table_read_csv(&t, path, &o));
  if (t) {
    CHECK(t->cols[2].kind == GR_COL_CATEGORY && t->cols[7].kind == GR_COL_SKIP);
    CHECK(t->cols[2].levels.count == 3); /* True, False, true */
    gr_table_free(t);
    t = NULL;
  }
  o.kinds = "nope=number";
  CHECK(gr_table_read_csv(&t, path, &o) == GR_ERR_INVALID_ARG);
  o.kinds = "vl_total=weird";
  CHECK(gr_table_read_csv(&t, path, &o) == GR_ERR_INVALID_ARG);
  /* a bad override still lets a ragged row be found first */
  CHECK(gr_table_read_csv(&t, write_temp_str("id,x\n1,2\n2\n"), &o) == GR_ERR_PARSE);
  CHECK(contains_text(gr_last_error(), ":3:1: expected 2 fields, found 1"));
  /* an unknown boolean in a column forced to bool */
  o.kinds = "b=bool";
  CHECK(gr_table_read_csv(&t, write_temp_str("id,b\n1,True\n2,Maybe\n"), &o) == GR_ERR_PARSE);
  CHECK(contains_text(gr_last_error(), ":3:3: expected True or False"));
  /* ragged rows, duplicate and empty ids, header only, empty file */
  CHECK(gr_table_read_csv(&t, write_temp_str("id,x\n1,2\n2\n"), NULL) == GR_ERR_PARSE);
  CHECK(contains_text(gr_last_error(), ":3:1: expected 2 fields, found 1"));
  CHECK(gr_table_read_csv(&t, write_temp_str("id,x\n1,2\n1,3\n"), NULL) == GR_ERR_PARSE);
  CHECK(contains_text(gr_last_error(), ":3:1: duplicate id '1'"));
  CHECK(gr_table_read_csv(&t, write_temp_str("id,x\n,2\n"), NULL) == GR_ERR_PARSE);
  CHECK(gr_table_read_csv(&t, write_temp_str("id,x\n"), NULL) == GR_ERR_PARSE);
  CHECK(gr_table_read_csv(&t, write_temp_str(""), NULL) == GR_ERR_PARSE);
  CHECK(gr_table_read_csv(&t, write_temp_str("id,x,x\n1,2,3\n"), NULL) == GR_ERR_PARSE);
  /* unnamed columns past the first are named, not confused (found by fuzzing) */
  CHECK_OK(gr_table_read_csv(&t, write_temp_str(",id,,x\n0,a,5,1\n1,b,6,2\n"), NULL));
  if (t) {
    CHECK(strcmp(t->cols[2].name, "Unnamed: 2") == 0 && t->cols[2].kind == GR_COL_NUMBER);
    CHECK(t->cols[0].kind == GR_COL_SKIP && gr_table_find(t, "Unnamed: 2") == 2);
    gr_table_free(t);
    t = NULL;
  }
  /* impossible dates make a column a category, and fail a forced date */
  o.kinds = "d=date";
  CHECK(gr_table_read_csv(&t, write_temp_str("id,d\n1,2020-02-29\n2,2019-02-29\n"), &o) ==
        GR_ERR_PARSE);
  CHECK(contains_text(gr_last_error(), ":3:3: expected a date"));
  CHECK(t == NULL);
  /* text that is not UTF-8 (a Latin-1 export): in an id, in a category */
  CHECK(gr_table_read_csv(&t, write_temp_str("id,city\nr1,Natal\nS\xe3o,Rio\n"), NULL) ==
        GR_ERR_PARSE);
  CHECK_MSG(contains_text(gr_last_error(), ":3:2: the id is not valid UTF-8 (byte 0xE3)"), "%s",
            gr_last_error());
  CHECK(gr_table_read_csv(&t, write_temp_str("id,city\nr1,Natal\nr2,S\xe3o Paulo\nr3,Rio\n"),
                          NULL) == GR_ERR_PARSE);
  CHECK_MSG(contains_text(gr_last_error(),
                          ":3:5: the value in column 'city' is not valid UTF-8 (byte 0xE3)"),
            "%s", gr_last_error());
  CHECK(t == NULL);
}

// ---- parallel reading ---------------------------------------------------------

typedef struct text {
  char *p;
  size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char tmp[8192];
  const int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (t->len + (size_t)n + 1 > t->cap) {
    t->cap = (t->len + (size_t)n + 1) * 2;
    t->p = realloc(t->p, t->cap);
    if (!t->p) abort();
  }
  memcpy(t->p + t->len, tmp, (size_t)n + 1);
  t->len += (size_t)n;
}

/* A market-like table with the awkward parts: quoted line breaks and quotes,
 * CRLF and blank lines, missing spellings, 300 category levels first seen
 * all through the file, epoch-like numbers that a late date turns into a
 * date column, and a numeric column that a late word turns into a category. */
static text make_market(int rows) {
  text t = {0};
  put(&t, ",id,num,flag,dt,cat,note,epoch,late_word\n");
  for (int i = 0; i < rows; i++) {
    put(&t, "%d,r%d,", i, i);
    if (i % 7 == 3)
      put(&t, "%s,", i % 2 ? "nan" : "NULL");
    else
      put(&t, "%.2f,", i * 0.25 - 3);
    put(&t, "%s,", i % 5 == 0 ? "" : i % 3 ? "True" : "false");
    put(&t, "2020-%02d-%02d,", 1 + i % 12, 1 + i % 28);
    put(&t, "L%d,", (i * 37) % 300);
    if (i % 4 == 1)
      put(&t, "\"line %d\nnext \"\"q\"\", a\r\nthird\",", i);
    else
      put(&t, "plain %d,", i % 9);
    put(&t, i == rows - 3 ? "2001-09-09," : "%d,", 1000000000 + i);
    put(&t, i == rows - 2 ? "word" : "%d", i % 4);
    put(&t, i % 6 == 2 ? "\r\n" : "\n");
    if (i % 11 == 5) put(&t, i % 2 ? "\n" : "\r\n"); /* a blank line */
  }
  return t;
}

static gr_status read_with(gr_table **t, const char *path, int threads, size_t chunk,
                           const char *kinds) {
  gr_table_options o;
  gr_table_options_default(&o);
  o.n_threads = threads;
  o.chunk_bytes = chunk;
  o.kinds = kinds;
  *t = NULL;
  return gr_table_read_csv(t, path, &o);
}

/* Every column's kind, values (bit for bit), levels in order and missing count. */
static int same_table(const gr_table *a, const gr_table *b) {
  if (a->n_rows != b->n_rows || a->n_cols != b->n_cols || a->id_col != b->id_col) return 0;
  for (int c = 0; c < a->n_cols; c++) {
    const gr_column *x = &a->cols[c], *y = &b->cols[c];
    if (strcmp(x->name, y->name) != 0 || x->kind != y->kind || x->n_missing != y->n_missing ||
        !x->num != !y->num || !x->level != !y->level || x->levels.count != y->levels.count)
      return 0;
    const size_t n = (size_t)a->n_rows;
    if (x->num && memcmp(x->num, y->num, n * sizeof(double)) != 0) return 0;
    if (x->level && memcmp(x->level, y->level, n * sizeof(int32_t)) != 0) return 0;
    for (int32_t l = 0; l < x->levels.count; l++)
      if (strcmp(gr_id_map_get(&x->levels, l), gr_id_map_get(&y->levels, l)) != 0) return 0;
  }
  return 1;
}

static const size_t k_chunks[] = {1, 2, 3, 5, 7, 13, 64, 100, 999, 0};
#define N_CHUNKS (sizeof k_chunks / sizeof k_chunks[0])

static void test_parallel_same_table(void) {
  text m = make_market(400);
  const char *path = write_temp(m.p, m.len);
  gr_table *ref = NULL;
  CHECK_OK(read_with(&ref, path, 1, (size_t)1 << 30, NULL)); /* one range: the sequential reading */
  if (!ref) return;
  CHECK(ref->n_rows == 400 && ref->n_cols == 9);
  const gr_column *num = &ref->cols[2], *dt = &ref->cols[4], *cat = &ref->cols[5];
  const gr_column *note = &ref->cols[6], *epoch = &ref->cols[7], *late = &ref->cols[8];
  CHECK(num->kind == GR_COL_NUMBER && num->n_missing == 57 && num->num[1] == -2.75);
  CHECK(ref->cols[3].kind == GR_COL_BOOL && ref->cols[3].n_missing == 80);
  CHECK(dt->kind == GR_COL_DATE && cat->kind == GR_COL_CATEGORY && cat->levels.count == 300);
  CHECK(strcmp(gr_id_map_get(&cat->levels, 1), "L37") == 0 && cat->level[399] == 99);
  CHECK(note->kind == GR_COL_CATEGORY && strcmp(gr_id_map_get(&note->levels, note->level[1]),
                                                "line 1\nnext \"q\", a\r\nthird") == 0);
  /* "1000000000" is a number and an epoch date; the late ISO date decides */
  CHECK(epoch->kind == GR_COL_DATE && epoch->num[0] == 11574 && epoch->num[397] == 11574);
  CHECK(late->kind == GR_COL_CATEGORY && late->levels.count == 5 &&
        strcmp(gr_id_map_get(&late->levels, 4), "word") == 0);
  for (int threads = 1; threads <= 3; threads++)
    for (size_t k = 0; k < N_CHUNKS; k++) {
      gr_table *t = NULL;
      CHECK_OK(read_with(&t, path, threads, k_chunks[k], NULL));
      CHECK_MSG(t && same_table(ref, t), "%d threads, ranges of %zu bytes", threads, k_chunks[k]);
      gr_table_free(t);
    }
  /* from memory (an allocated copy instead of a mapped file) */
  gr_table_options o;
  gr_table_options_default(&o);
  o.chunk_bytes = 50;
  o.n_threads = 2;
  gr_table *t = NULL;
  CHECK_OK(gr_table_read_csv_mem(&t, "mem", m.p, m.len, &o));
  CHECK(t && same_table(ref, t));
  gr_table_free(t);
  gr_table_free(ref);
  free(m.p);
}

/* The first error in file order, word for word, however the rows are split. */
static void expect_same_error(const char *what, const text *m, const char *kinds,
                              const char *want) {
  const char *path = write_temp(m->p, m->len);
  gr_table *t = NULL;
  const gr_status ref_st = read_with(&t, path, 1, (size_t)1 << 30, kinds);
  char ref[1024];
  snprintf(ref, sizeof ref, "%s", gr_last_error());
  CHECK_MSG(ref_st != GR_OK && t == NULL, "%s: read", what);
  CHECK_MSG(contains_text(ref, want), "%s: '%s' lacks '%s'", what, ref, want);
  for (int threads = 1; threads <= 2; threads++)
    for (size_t k = 0; k < N_CHUNKS; k++) {
      const gr_status st = read_with(&t, path, threads, k_chunks[k], kinds);
      CHECK_MSG(st == ref_st && strcmp(gr_last_error(), ref) == 0,
                "%s, %d threads, ranges of %zu bytes: '%s' instead of '%s'", what, threads,
                k_chunks[k], gr_last_error(), ref);
      gr_table_free(t);
    }
}

/* make_market(60) with `tail` appended; lines: the header is line 1, and rows
 * add 1, 2 with a quoted note and 1 with a blank line after them. */
static text market_plus(const char *tail) {
  text m = make_market(60);
  put(&m, "%s", tail);
  return m;
}

static int market_lines(int rows) {
  int lines = 1;
  for (int i = 0; i < rows; i++)
    lines += 1 + 2 * (i % 4 == 1) + (i % 11 == 5);
  return lines;
}

static void test_parallel_errors(void) {
  char want[128];
  const int last = market_lines(60) + 1; /* the line of an appended row */
  text m = market_plus("60,r60,1,True,2020-01-01,L1,x,3,0,extra\n");
  snprintf(want, sizeof want, ":%d:", last);
  expect_same_error("ragged row at the end", &m, NULL, want);
  CHECK(contains_text(gr_last_error(), "expected 9 fields, found 10"));
  free(m.p);
  /* a duplicate of an early id, after a quoted note with line breaks */
  m = market_plus("60,r60,1,True,2020-01-01,L1,\"a\nb\",3,0\n61,r2,1,True,2020-01-01,L1,x,3,0\n");
  snprintf(want, sizeof want, ":%d:4: duplicate id 'r2'", last + 2);
  expect_same_error("duplicate id", &m, NULL, want);
  free(m.p);
  /* an empty id before a duplicate one, and the reverse */
  m = market_plus("60,,1,True,2020-01-01,L1,x,3,0\n61,r2,1,True,2020-01-01,L1,x,3,0\n");
  expect_same_error("empty id first", &m, NULL, "expected an id, found an empty field");
  free(m.p);
  m = market_plus("60,r2,1,True,2020-01-01,L1,x,3,0\n61,,1,True,2020-01-01,L1,x,3,0\n");
  expect_same_error("duplicate id first", &m, NULL, "duplicate id 'r2'");
  free(m.p);
  /* a value that breaks a forced kind late, then a duplicate id in a later column order */
  m = market_plus("60,r60,seven,True,2020-01-01,L1,x,3,0\n61,r2,1,Maybe,2020-01-01,L1,x,3,0\n");
  snprintf(want, sizeof want, ":%d:8: expected a number in column 'num', found 'seven'", last);
  expect_same_error("forced kind", &m, "num=number,flag=bool", want);
  /* shape errors (the first pass) come before value errors, wherever they are */
  put(&m, "62,r62\n");
  snprintf(want, sizeof want, ":%d:4: expected 9 fields, found 2", last + 2);
  expect_same_error("shape before values", &m, "num=number", want);
  free(m.p);
  /* text errors late in the file */
  m = market_plus("60,r60,1,True,2020-01-01,L1,\"open\n");
  snprintf(want, sizeof want, ":%d:29: unterminated quoted field", last);
  expect_same_error("unterminated quote", &m, NULL, want);
  free(m.p);
  m = market_plus("60,r60,1,True,2020-01-01,L1,x\"y,3,0\n");
  expect_same_error("stray quote", &m, NULL, "unexpected quote inside an unquoted field");
  free(m.p);
  m = market_plus("60,r60,1,True,2020-01-01,L1,\"x\"y,3,0\n");
  expect_same_error("text after a closing quote", &m, NULL, "after a closing quote");
  free(m.p);
  m = market_plus("60,r60,1,True,2020-01-01,L1,x");
  put(&m, "%c,3,0\n", 'Q');
  m.p[m.len - 5] = '\0'; /* a NUL byte in place of Q */
  expect_same_error("NUL byte", &m, NULL, "NUL byte");
  free(m.p);
}

/* Ranges that start at every kind of place: inside quotes, on CRLF, on blank
 * lines; escaped fields longer than the scratch buffer; file sizes that are
 * whole pages (the text is mapped and read past its end). */
static void test_split_edges(void) {
  text m = {0};
  put(&m, "id,\"a \"\"quoted\"\" name\",b\r\n\r\n");
  for (int i = 0; i < 30; i++) {
    put(&m, "%d,\"", i);
    for (int k = 0; k < 700; k++)
      put(&m, "%s", k % 100 == 0 ? "\"\"" : k % 50 == 0 ? "\n" : "x");
    put(&m, "\",\"%d\"\"\"\r\n\n", i % 3);
  }
  const char *path = write_temp(m.p, m.len);
  gr_table *ref = NULL;
  CHECK_OK(read_with(&ref, path, 1, 0, NULL));
  if (ref) {
    CHECK(ref->n_rows == 30 && strcmp(ref->cols[1].name, "a \"quoted\" name") == 0);
    const char *v = gr_id_map_get(&ref->cols[1].levels, 0);
    CHECK(strlen(v) == 700 && v[0] == '"' && v[50] == '\n' && v[1] == 'x');
    CHECK(ref->cols[2].levels.count == 3 &&
          strcmp(gr_id_map_get(&ref->cols[2].levels, 2), "2\"") == 0);
    for (size_t chunk = 1; chunk < 900; chunk += 37) {
      gr_table *t = NULL;
      CHECK_OK(read_with(&t, path, 2, chunk, NULL));
      CHECK_MSG(t && same_table(ref, t), "ranges of %zu bytes", chunk);
      gr_table_free(t);
    }
    gr_table_free(ref);
  }
  free(m.p);
  /* a last row without a line break, in a range that the split ends at the
   * end of the text (the ranges after it are empty) */
  const char *no_break = "id,c0,c1\nr0,False,2005-03-25\nr1,True,";
  const char *nb_path = write_temp_str(no_break);
  gr_table *nb_ref = NULL;
  CHECK_OK(read_with(&nb_ref, nb_path, 1, (size_t)1 << 30, NULL));
  CHECK(nb_ref && nb_ref->n_rows == 2 && nb_ref->cols[2].kind == GR_COL_DATE);
  for (size_t chunk = 1; nb_ref && chunk < 40; chunk++) {
    gr_table *t = NULL;
    CHECK_OK(read_with(&t, nb_path, 2, chunk, NULL));
    CHECK_MSG(t && same_table(nb_ref, t), "no final line break, ranges of %zu bytes", chunk);
    gr_table_free(t);
  }
  gr_table_free(nb_ref);
  for (size_t size = 4096; size <= 8192; size += 4096) {
    text p = {0};
    put(&p, "id,x\n");
    int i = 0;
    for (; p.len < size - 20; i++)
      put(&p, "%d,%d\n", i, i % 10);
    put(&p, "%d,", i);
    while (p.len < size - 1)
      put(&p, "%d", 7);
    put(&p, "\n"); /* exactly `size` bytes: the last row's x is 7...7 */
    gr_table *t = NULL;
    CHECK_OK(read_with(&t, write_temp(p.p, p.len), 2, 100, NULL));
    CHECK(p.len == size && t && t->cols[1].kind == GR_COL_NUMBER && t->cols[1].num[0] == 0);
    gr_table_free(t);
    free(p.p);
  }
}

/* Stray values: a category whose values but a few are of one kind is
 * reported with that kind, the count and the first stray row; a true
 * category, a forced one, or one with too many strays is not. */
static void test_kind_doubts(void) {
  text m = {0};
  put(&m, "id,flag,amount,day,city,half,few,many\n");
  for (int r = 0; r < 1000; r++) {
    /* few: 8 distinct strays (the most reported), many: 9 (each under 1%) */
    char few[16], many[16];
    snprintf(few, sizeof few, r % 100 == 7 && r < 800 ? "w%d" : "%d", r);
    snprintf(many, sizeof many, r % 100 == 7 && r < 900 ? "w%d" : "%d", r);
    put(&m, "r%d,%s,%s,%s,%s,%s,%s,%s\n", r,
        r == 41 ? "Maybe"
        : r % 2 ? "True"
                : "False",
        r == 250   ? "abc"
        : r == 120 ? ""
        : r % 3    ? "12.5"
                   : "-3",
        r == 5 || r == 9 ? "soon" : "2015-06-01", r % 2 ? "Rio" : "Natal", r % 2 ? "1" : "x", few,
        many);
  }
  gr_table *t = NULL;
  CHECK_OK(gr_table_read_csv(&t, write_temp_str(m.p), NULL));
  if (!t) return;
  const struct {
    const char *name;
    int doubt;
    gr_col_kind likely;
    int64_t n_values, n_stray, first_row;
    const char *example;
  } want[] = {{"flag", 1, GR_COL_BOOL, 1000, 1, 41, "Maybe"},
              {"amount", 1, GR_COL_NUMBER, 999, 1, 250, "abc"},
              {"day", 1, GR_COL_DATE, 1000, 2, 5, "soon"},
              {"city", 0, 0, 0, 0, 0, NULL},
              {"half", 0, 0, 0, 0, 0, NULL},
              {"few", 1, GR_COL_NUMBER, 1000, 8, 7, "w7"},
              {"many", 0, 0, 0, 0, 0, NULL}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const int c = gr_table_find(t, want[i].name);
    gr_kind_doubt d;
    memset(&d, 0, sizeof d);
    const int got = c >= 0 && gr_table_kind_doubt(t, c, &d);
    CHECK_MSG(got == want[i].doubt, "%s: doubt %d", want[i].name, got);
    if (!got || !want[i].doubt) continue;
    CHECK_MSG(d.likely == want[i].likely && d.n_values == want[i].n_values &&
                  d.n_stray == want[i].n_stray && d.first_row == want[i].first_row &&
                  strcmp(d.example, want[i].example) == 0,
              "%s: %s, %lld of %lld, row %lld '%s'", want[i].name, gr_col_kind_name(d.likely),
              (long long)d.n_stray, (long long)d.n_values, (long long)d.first_row, d.example);
  }
  char warn[4096] = {0};
  FILE *f = fmemopen(warn, sizeof warn - 1, "w");
  CHECK(f && gr_table_warn_doubts(t, "m.csv", "x: ", f) == 4);
  if (f) fclose(f);
  CHECK_MSG(strstr(warn, "x: warning: m.csv: column 'flag' is read as a category because 1 of its "
                         "1000 values is not True or False (the first, data row 42: 'Maybe'); "
                         "--kinds flag=bool makes them errors\n") != NULL,
            "%s", warn);
  gr_table_free(t);
  /* forced to a category: the person has decided, nothing to report */
  gr_table_options o;
  gr_table_options_default(&o);
  o.kinds = "flag=category";
  CHECK_OK(gr_table_read_csv(&t, write_temp_str(m.p), &o));
  gr_kind_doubt d;
  if (t) CHECK(!gr_table_kind_doubt(t, gr_table_find(t, "flag"), &d));
  gr_table_free(t);
  free(m.p);
}

int main(void) {
  test_inference();
  test_overrides_and_errors();
  test_parallel_same_table();
  test_parallel_errors();
  test_split_edges();
  test_kind_doubts();
  return gr_test_finish();
}
