/* The typed table reader (market tables): kind inference for every column
 * kind and missing pattern, overrides, and bad input. */
#include <string.h>

#include "check.h"
#include "host/table.h"
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
}

int main(void) {
  test_inference();
  test_overrides_and_errors();
  return gr_test_finish();
}
