/* The feature encoder on a fixture with every column kind and missing
 * pattern: widths, imputation, standardization, one-hot with "other",
 * dropped columns, the features reported 0/1, and transform of a table
 * with another column order. */
#include <string.h>

#include "check.h"
#include "host/encoder.h"
#include "host/packed_x.h"
#include "test_util.h"

/* 6 rows. num: 1,2,3,4,<missing>,10 (median 3); flag: bool with a gap;
 * cat: a a a b c <missing>; dt: dates; constant: 7 everywhere; sparse: 5/6 missing. */
static const char *k_fit = ",id,num,flag,cat,dt,constant,sparse\n"
                           "0,r1,1,True,a,2020-01-01,7,\n"
                           "1,r2,2,False,a,2019-01-01,7,\n"
                           "2,r3,3,True,a,2018-01-01,7,\n"
                           "3,r4,4,,b,2020-01-01,7,\n"
                           "4,r5,,False,c,,7,3\n"
                           "5,r6,10,True,,2010-01-01,7,\n";

static int feature(const gr_encoder *e, const char *name) {
  char buf[128];
  for (int j = 0; j < e->n_features; j++) {
    gr_encoder_feature_name(e, j, buf, sizeof buf);
    if (strcmp(buf, name) == 0) return j;
  }
  return -1;
}

/* Numbers anywhere in the double range (found by fuzzing: 4e240 squared
 * overflowed the variance, and the feature became inf): the spread is
 * still computed, every feature is finite, standardized like small ones,
 * and an outlier at scoring time is clipped instead of overflowing float. */
static void check_huge_numbers(void) {
  gr_table *t = NULL;
  CHECK_OK(
      gr_table_read_csv(&t, write_temp_str("id,v\na,4.4444e240\nb,\nc,4e44\nd,-1e300\n"), NULL));
  if (!t) return;
  gr_encoder_options o;
  gr_encoder_options_default(&o);
  gr_encoder *e = NULL;
  CHECK_OK(gr_encoder_fit(&e, t, &o));
  if (e) {
    CHECK(e->n_features == 2); /* v and v:missing */
    float X[4 * 2];
    CHECK_OK(gr_encoder_transform(e, t, X));
    /* filled: the median of 4.4e240, 4e44, -1e300 is 4e44 */
    const double v[4] = {4.4444e240, 4e44, 4e44, -1e300};
    double mean = 0, var = 0;
    for (int r = 0; r < 4; r++)
      mean += v[r] / 4;
    for (int r = 0; r < 4; r++)
      var += (v[r] / 1e300 - mean / 1e300) * (v[r] / 1e300 - mean / 1e300) / 4;
    for (int r = 0; r < 4; r++) {
      CHECK(isfinite(X[r * 2]));
      CHECK_NEAR(X[r * 2], (v[r] - mean) / (sqrt(var) * 1e300), 1e-5);
    }
    gr_table *t2 = NULL;
    CHECK_OK(gr_table_read_csv(&t2, write_temp_str("id,v\nz,1.7e308\n"), NULL));
    if (t2) {
      float Z[2];
      CHECK_OK(gr_encoder_transform(e, t2, Z));
      CHECK_MSG(Z[0] == 1e6f, "an outlier far past the spread gives %g", (double)Z[0]);
      gr_table_free(t2);
    }
    gr_encoder_free(e);
  }
  gr_table_free(t);
  /* the widest spread there is (the standard deviation is at most half
   * of it, so it is finite): -1 and +1 */
  CHECK_OK(gr_table_read_csv(&t, write_temp_str("id,v\na,1.79e308\nb,-1.79e308\n"), NULL));
  if (t) {
    CHECK_OK(gr_encoder_fit(&e, t, &o));
    float Y[2];
    if (e) CHECK_OK(gr_encoder_transform(e, t, Y));
    CHECK(e && Y[0] == 1.0f && Y[1] == -1.0f);
    gr_encoder_free(e);
    gr_table_free(t);
  }
}

int main(void) {
  check_huge_numbers();
  gr_table *t = NULL;
  CHECK_OK(gr_table_read_csv(&t, write_temp_str(k_fit), NULL));
  if (!t) return gr_test_finish();
  gr_encoder_options o;
  gr_encoder_options_default(&o);
  o.max_levels = 2;
  gr_encoder *e = NULL;
  CHECK_OK(gr_encoder_fit(&e, t, &o));
  if (!e) return gr_test_finish();
  /* num(+missing) 2, flag(+missing) 2, cat a,b,other,missing 4, dt(+missing) 2 */
  CHECK_MSG(e->n_features == 10, "%d features", e->n_features);
  CHECK(e->cols[6].action == GR_ENC_DROP_CONSTANT);
  CHECK(e->cols[7].action == GR_ENC_DROP_MISSING);
  CHECK(e->cols[1].action == GR_ENC_SKIP && e->cols[0].action == GR_ENC_SKIP);
  const int num = feature(e, "num"), num_missing = feature(e, "num:missing");
  const int cat_a = feature(e, "cat=a"), cat_b = feature(e, "cat=b");
  const int cat_other = feature(e, "cat=other"), cat_missing = feature(e, "cat:missing");
  const int dt = feature(e, "dt"), flag = feature(e, "flag");
  CHECK(num >= 0 && num_missing >= 0 && cat_a >= 0 && cat_b >= 0 && cat_other >= 0 &&
        cat_missing >= 0 && dt >= 0 && flag >= 0);
  float X[6 * 10];
  CHECK_OK(gr_encoder_transform(e, t, X));
  /* the median fills the gap, then every numeric feature has mean 0, variance 1 */
  const double filled[6] = {1, 2, 3, 4, 3, 10};
  double mean = 0, var = 0;
  for (int r = 0; r < 6; r++)
    mean += filled[r] / 6;
  for (int r = 0; r < 6; r++)
    var += (filled[r] - mean) * (filled[r] - mean) / 6;
  for (int r = 0; r < 6; r++)
    CHECK_NEAR(X[r * 10 + num], (filled[r] - mean) / sqrt(var), 1e-5);
  CHECK(X[4 * 10 + num_missing] == 1 && X[0 * 10 + num_missing] == 0);
  double s = 0, s2 = 0;
  for (int r = 0; r < 6; r++) {
    s += X[r * 10 + dt];
    s2 += X[r * 10 + dt] * X[r * 10 + dt];
  }
  CHECK_NEAR(s / 6, 0, 1e-5);
  CHECK_NEAR(s2 / 6, 1, 1e-4);
  /* booleans stay 0/1, a gap is 0 with its flag */
  CHECK(X[0 * 10 + flag] == 1 && X[1 * 10 + flag] == 0 && X[3 * 10 + flag] == 0);
  CHECK(X[3 * 10 + flag + 1] == 1);
  /* dates are years before the latest date: 2010-01-01 is ~10 years, the largest */
  CHECK(X[5 * 10 + dt] > X[1 * 10 + dt] && X[1 * 10 + dt] > X[0 * 10 + dt]);
  /* one-hot: a, b kept (most frequent first), c is other, the gap is missing */
  CHECK(X[0 * 10 + cat_a] == 1 && X[0 * 10 + cat_b] == 0);
  CHECK(X[3 * 10 + cat_b] == 1);
  CHECK(X[4 * 10 + cat_other] == 1 && X[4 * 10 + cat_a] == 0);
  CHECK(X[5 * 10 + cat_missing] == 1 && X[5 * 10 + cat_other] == 0);
  /* the 0/1 features it reports: flag, every missing indicator, the
   * one-hot levels; exactly those of the fixture's X that are 0 or 1 */
  uint8_t binary[10], seen[10];
  gr_encoder_binary_features(e, binary);
  CHECK_OK(gr_binary_features(X, 6, 10, seen, NULL));
  for (int j = 0; j < 10; j++) {
    const int want = j != num && j != dt;
    CHECK_MSG(binary[j] == want && seen[j] == want, "feature %d: %d, %d in X, want %d", j,
              binary[j], seen[j], want);
  }
  /* scoring data: other column order, an unseen level, still the same features */
  gr_table *t2 = NULL;
  CHECK_OK(gr_table_read_csv(
      &t2,
      write_temp_str("id,cat,num,flag,dt,constant,sparse\ns1,z,2,True,2020-01-01,7,\ns2,a,1,False,"
                     "2020-01-01,7,\n"),
      NULL));
  if (t2) {
    float Z[2 * 10];
    CHECK_OK(gr_encoder_transform(e, t2, Z));
    CHECK(Z[0 * 10 + cat_other] == 1 && Z[1 * 10 + cat_a] == 1);
    CHECK_NEAR(Z[1 * 10 + num], X[0 * 10 + num], 1e-6);
    gr_table_free(t2);
  }
  /* a missing column, or one of another kind, is a clear error */
  CHECK_OK(gr_table_read_csv(&t2, write_temp_str("id,num\ns1,x\n"), NULL));
  if (t2) {
    float Z[10];
    CHECK(gr_encoder_transform(e, t2, Z) == GR_ERR_INVALID_ARG);
    gr_table_free(t2);
  }
  gr_encoder_free(e);
  gr_table_free(t);
  return gr_test_finish();
}
