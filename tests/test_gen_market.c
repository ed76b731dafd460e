/* The synthetic market: the same seed gives the same bytes whatever the
 * thread count; the header, kinds and missing rates are the schema's; the
 * cells are written as pandas writes them; ids are unique hex; portfolios
 * hold market ids at the documented sizes; and the planted structure shows:
 * clients over-represent some informative level, a random set of companies
 * does not. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "host/gen_market.h"
#include "host/market_schema.h"
#include "host/table.h"

static char g_dir[64];

static const char *path_in(char *buf, const char *name) {
  snprintf(buf, 256, "%s/%s", g_dir, name);
  return buf;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  if (s) s[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return s;
}

static int same_file(const char *a, const char *b) {
  size_t na = 0, nb = 0;
  char *x = slurp(a, &na), *y = slurp(b, &nb);
  const int same = x && y && na == nb && memcmp(x, y, na) == 0;
  free(x);
  free(y);
  return same;
}

static gr_status gen(int64_t rows, uint64_t seed, int threads, const char *market,
                     const char *prefix) {
  gr_market_gen_params p;
  gr_market_gen_params_default(&p);
  p.n_rows = rows;
  p.seed = seed;
  p.n_threads = threads;
  return gr_gen_market_csv(&p, market, prefix, NULL);
}

static void test_sizes(void) {
  gr_market_gen_params p;
  gr_market_gen_params_default(&p);
  int64_t s[GR_MARKET_MAX_PORTFOLIOS];
  CHECK_OK(gr_market_portfolio_sizes(&p, s));
  CHECK(s[0] == 555 && s[1] == 566 && s[2] == 265 && s[3] == 0);
  p.n_rows = 5000; /* 1% = 50 for the largest, the others in proportion */
  CHECK_OK(gr_market_portfolio_sizes(&p, s));
  CHECK(s[0] == 49 && s[1] == 50 && s[2] == 23);
  p.n_rows = 150;
  CHECK_OK(gr_market_portfolio_sizes(&p, s));
  CHECK(s[0] == 2 && s[1] == 2 && s[2] == 2);
  p.n_rows = 5;
  CHECK_OK(gr_market_portfolio_sizes(&p, s));
  CHECK(s[0] == 1 && s[1] == 1 && s[2] == 1);
  p.n_rows = 2;
  CHECK(gr_market_portfolio_sizes(&p, s) == GR_ERR_INVALID_ARG);
  p.n_rows = 1000;
  p.n_portfolios = 9;
  CHECK(gr_market_portfolio_sizes(&p, s) == GR_ERR_INVALID_ARG);
}

static void test_determinism(void) {
  char a[256], b[256], c[256], pa[256], pb[256], f1[320], f2[320];
  CHECK_OK(gen(9000, 7, 1, path_in(a, "a.csv"), path_in(pa, "pa")));
  CHECK_OK(gen(9000, 7, 2, path_in(b, "b.csv"), path_in(pb, "pb")));
  CHECK_OK(gen(9000, 8, 2, path_in(c, "c.csv"), NULL));
  CHECK_MSG(same_file(a, b), "1 and 2 threads differ");
  CHECK(!same_file(a, c));
  for (int k = 1; k <= 3; k++) {
    snprintf(f1, sizeof f1, "%s%d.csv", pa, k);
    snprintf(f2, sizeof f2, "%s%d.csv", pb, k);
    CHECK_MSG(same_file(f1, f2), "portfolio %d differs", k);
    unlink(f1);
    unlink(f2);
  }
  unlink(a);
  unlink(b);
  unlink(c);
}

/* The i-th field of a CSV line (quotes kept); *end set past it. */
static const char *next_field(const char *s, const char **end) {
  const char *p = s;
  int quoted = 0;
  while (*p && (quoted || (*p != ',' && *p != '\n'))) {
    if (*p == '"') quoted = !quoted;
    p++;
  }
  *end = p;
  return s;
}

/* Cells as pandas writes them, on the raw text of the first rows. */
static void check_text(const char *text) {
  const char *line = strchr(text, '\n');
  int bad = 0;
  for (int r = 0; r < 2000 && line && line[1]; r++) {
    const char *s = line + 1, *e;
    for (int c = 0; c < GR_MKT_N_COLUMNS; c++) {
      next_field(s, &e);
      const size_t n = (size_t)(e - s);
      const gr_mkt_column *col = &gr_mkt_columns[c];
      int ok = 1;
      if (n == 0) {
        ok = col->kind != GR_MKT_INDEX && col->kind != GR_MKT_ID && col->missing > 0;
      } else if (col->kind == GR_MKT_ID) {
        ok = n == 64 && strspn(s, "0123456789abcdef") >= 64;
      } else if (col->kind == GR_MKT_BOOL) {
        ok = (n == 4 && !strncmp(s, "True", 4)) || (n == 5 && !strncmp(s, "False", 5));
      } else if (col->kind == GR_MKT_DATE) {
        ok = n == 10 && s[4] == '-' && s[7] == '-';
      } else if (col->kind == GR_MKT_NUMBER || col->kind == GR_MKT_INDEX) {
        const char *dot = memchr(s, '.', n);
        ok = strspn(s, "-0123456789.") >= n && (col->point ? dot && dot < e - 1 : !dot);
        if (ok && dot && col->decimals >= 0)
          ok = e - dot - 1 <= (col->decimals ? col->decimals : 1);
      } else if (memchr(s, ',', n)) {
        ok = s[0] == '"' && s[n - 1] == '"';
      }
      if (!ok && bad++ < 5) fprintf(stderr, "row %d column %s: '%.*s'\n", r, col->name, (int)n, s);
      s = *e ? e + 1 : e;
    }
    CHECK_MSG(*e == '\n', "row %d is not %d fields", r, GR_MKT_N_COLUMNS);
    line = e;
  }
  CHECK_MSG(bad == 0, "%d badly written cells", bad);
}

static double enrichment(const gr_column *col, const uint8_t *chosen, int64_t n_rows,
                         int64_t n_chosen, int *best_level) {
  const int is_bool = col->kind == GR_COL_BOOL; /* booleans are numbers 0/1 */
  const int L = is_bool ? 2 : col->levels.count;
  int64_t *all = calloc((size_t)L, sizeof(int64_t)), *in = calloc((size_t)L, sizeof(int64_t));
  double best = 0;
  for (int64_t r = 0; all && in && r < n_rows; r++) {
    const int l = is_bool ? (isnan(col->num[r]) ? -1 : (int)col->num[r]) : col->level[r];
    if (l < 0) continue;
    all[l]++;
    if (chosen[r]) in[l]++;
  }
  for (int l = 0; all && in && l < L; l++) {
    if (in[l] < 10) continue; /* too few to say */
    const double ratio = ((double)in[l] / (double)n_chosen) / ((double)all[l] / (double)n_rows);
    if (ratio > best) {
      best = ratio;
      *best_level = l;
    }
  }
  free(all);
  free(in);
  return best;
}

static void test_market(void) {
  char m[256], pre[256], pf[320];
  const int64_t n = 20000;
  CHECK_OK(gen(n, 42, 0, path_in(m, "m.csv"), path_in(pre, "p")));
  size_t len = 0;
  char *text = slurp(m, &len);
  CHECK(text != NULL);
  if (!text) return;
  /* the header, byte for byte */
  char header[8192] = "";
  for (int c = 0; c < GR_MKT_N_COLUMNS; c++) {
    strcat(header, c ? "," : "");
    strcat(header, gr_mkt_columns[c].name);
  }
  strcat(header, "\n");
  CHECK(strncmp(text, header, strlen(header)) == 0);
  check_text(text);
  free(text);

  gr_table *t = NULL;
  CHECK_OK(gr_table_read_csv(&t, m, NULL)); /* also refuses duplicate ids */
  if (!t) return;
  CHECK(t->n_rows == n && t->n_cols == GR_MKT_N_COLUMNS && t->id_col == 1);
  static const gr_col_kind want[] = {
      [GR_MKT_INDEX] = GR_COL_SKIP, [GR_MKT_ID] = GR_COL_ID,
      [GR_MKT_BOOL] = GR_COL_BOOL,  [GR_MKT_NUMBER] = GR_COL_NUMBER,
      [GR_MKT_DATE] = GR_COL_DATE,  [GR_MKT_CATEGORY] = GR_COL_CATEGORY};
  for (int c = 0; c < t->n_cols && c < GR_MKT_N_COLUMNS; c++) {
    const gr_mkt_column *col = &gr_mkt_columns[c];
    const double miss = (double)t->cols[c].n_missing / (double)n;
    if (col->missing >= 1) { /* never filled: nothing to infer a kind from */
      CHECK_MSG(t->cols[c].n_missing == n, "%s has values", col->name);
      continue;
    }
    CHECK_MSG(t->cols[c].kind == want[col->kind], "%s read as %s", col->name,
              gr_col_kind_name(t->cols[c].kind));
    CHECK_MSG(fabs(miss - col->missing) < 0.02, "%s: %.3f missing, the sample %.3f", col->name,
              miss, col->missing);
    if (col->kind == GR_MKT_CATEGORY) /* the sample's levels and no others */
      CHECK_MSG(t->cols[c].levels.count <= col->n_levels, "%s: %d levels", col->name,
                t->cols[c].levels.count);
  }
  CHECK(t->cols[1].levels.count == n);

  /* portfolios: market ids, unique, the documented sizes; and enriched */
  const int64_t sizes[3] = {196, 200, 94}; /* 555, 566, 265 scaled to 1% of 20000 */
  static const char *const informative[] = {"nm_divisao",
                                            "sg_uf",
                                            "de_natureza_juridica",
                                            "fl_matriz",
                                            "fl_email",
                                            "fl_telefone",
                                            "fl_rm",
                                            "de_saude_tributaria",
                                            "de_nivel_atividade",
                                            "fl_mei",
                                            "idade_emp_cat",
                                            "de_faixa_faturamento_estimado"};
  const int n_inf = (int)(sizeof informative / sizeof informative[0]);
  uint8_t *chosen = calloc((size_t)n, 1), *seen = calloc((size_t)n, 1);
  for (int k = 1; k <= 3 && chosen && seen; k++) {
    snprintf(pf, sizeof pf, "%s%d.csv", pre, k);
    gr_table *p = NULL;
    CHECK_OK(gr_table_read_csv(&p, pf, NULL));
    if (!p) continue;
    CHECK_MSG(p->n_rows == sizes[k - 1], "portfolio %d: %lld clients", k, (long long)p->n_rows);
    CHECK(p->n_cols == 2 && p->id_col == 1 && p->cols[0].kind == GR_COL_SKIP);
    memset(chosen, 0, (size_t)n);
    int64_t found = 0, again = 0;
    for (int64_t i = 0; p->id_col == 1 && i < p->n_rows; i++) {
      const char *id = gr_id_map_get(&p->cols[1].levels, p->cols[1].level[i]);
      const int32_t r = gr_id_map_find(&t->cols[1].levels, id, strlen(id));
      if (r < 0) continue;
      found++;
      again += seen[r]; /* portfolios do not share clients */
      chosen[r] = seen[r] = 1;
    }
    CHECK_MSG(found == p->n_rows, "portfolio %d: %lld of %lld ids in the market", k,
              (long long)found, (long long)p->n_rows);
    CHECK(again == 0);
    double best = 0;
    const char *best_col = "";
    for (int i = 0; i < n_inf; i++) {
      const int c = gr_table_find(t, informative[i]);
      int level = -1;
      const double e = c >= 0 ? enrichment(&t->cols[c], chosen, n, found, &level) : 0;
      if (e > best) {
        best = e;
        best_col = informative[i];
      }
    }
    printf("portfolio %d: the most enriched level is in %s, x%.2f\n", k, best_col, best);
    CHECK_MSG(best > 2, "portfolio %d: best enrichment %.2f", k, best);
    gr_table_free(p);
    unlink(pf);
  }
  /* a control: the same number of companies in file order are not enriched */
  if (chosen) {
    memset(chosen, 0, (size_t)n);
    for (int64_t r = 0; r < 200; r++)
      chosen[r] = 1;
    double best = 0;
    for (int i = 0; i < n_inf; i++) {
      const int c = gr_table_find(t, informative[i]);
      int level = -1;
      const double e = c >= 0 ? enrichment(&t->cols[c], chosen, n, 200, &level) : 0;
      if (e > best) best = e;
    }
    printf("control: x%.2f\n", best);
    CHECK_MSG(best < 2, "the first 200 companies are enriched x%.2f", best);
  }
  free(chosen);
  free(seen);
  gr_table_free(t);
  unlink(m);
}

static void test_all_or_none(void) {
  char pre[256], pf[320];
  path_in(pre, "q");
  CHECK(gen(500, 1, 0, "/nonexistent_dir/market.csv", pre) == GR_ERR_IO);
  for (int k = 1; k <= 3; k++) {
    snprintf(pf, sizeof pf, "%s%d.csv", pre, k);
    CHECK_MSG(access(pf, F_OK) != 0, "%s left behind", pf);
  }
  char m[256];
  CHECK(gen(500, 1, 0, path_in(m, "m2.csv"), "/nonexistent_dir/p") == GR_ERR_IO);
  CHECK(access(m, F_OK) != 0);
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/gpurec_gen_market_XXXXXX");
  if (!mkdtemp(g_dir)) {
    perror("mkdtemp");
    return 2;
  }
  test_sizes();
  test_determinism();
  test_market();
  test_all_or_none();
  rmdir(g_dir);
  return gr_test_finish();
}
