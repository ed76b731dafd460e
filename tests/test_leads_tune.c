/* leads tune's library side: the folds partition the portfolio; with one
 * fold every setting's figures are exactly gr_leads_evaluate's for it, and
 * with several each fold's are those of a fit on that fold's training
 * clients, whatever order the settings come in (KMeans is shared between
 * settings of one clustering and redone when it changes). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "leads_fixture.h"
#include "test_util.h"

static void test_folds_partition(const uint8_t *client, int64_t n) {
  int64_t nc = 0;
  for (int64_t r = 0; r < n; r++)
    nc += client[r] != 0;
  uint8_t *train = malloc((size_t)n), *test = malloc((size_t)n), *seen = calloc((size_t)n, 1);
  int64_t n_train = 0, n_test = 0;
  /* one fold: the holdout of --test-fraction */
  CHECK_OK(
      gr_leads_holdout(client, n, 0.2, 1, 0, 7, GR_BALANCE_SMOTE, train, test, &n_train, &n_test));
  CHECK(n_test == llround(0.2 * (double)nc) && n_train == nc - n_test);
  const int folds_list[] = {2, 3, 5};
  for (int fi = 0; fi < 3; fi++) {
    const int folds = folds_list[fi];
    memset(seen, 0, (size_t)n);
    int64_t total = 0, lo = nc, hi = 0;
    for (int f = 0; f < folds; f++) {
      CHECK_OK(gr_leads_holdout(client, n, 0.2, folds, f, 7, GR_BALANCE_SMOTE, train, test,
                                &n_train, &n_test));
      int64_t counted = 0, bad = 0;
      for (int64_t r = 0; r < n; r++) {
        counted += test[r] != 0;
        bad += test[r] && (!client[r] || seen[r] || train[r]); /* a held-out client, once */
        bad += train[r] != (client[r] && !test[r]);
        seen[r] |= test[r];
      }
      CHECK(bad == 0 && counted == n_test && n_train + n_test == nc);
      total += n_test;
      if (n_test < lo) lo = n_test;
      if (n_test > hi) hi = n_test;
    }
    CHECK(total == nc);  /* every client held out once */
    CHECK(hi - lo <= 1); /* near-equal folds */
  }
  /* a fold that does not exist, more folds than clients, zero folds */
  CHECK(gr_leads_holdout(client, n, 0.2, 3, 3, 7, GR_BALANCE_SMOTE, train, test, &n_train,
                         &n_test) == GR_ERR_INVALID_ARG);
  CHECK(gr_leads_holdout(client, n, 0.2, (int)nc + 1, 0, 7, GR_BALANCE_SMOTE, train, test, &n_train,
                         &n_test) == GR_ERR_INVALID_ARG);
  CHECK(gr_leads_holdout(client, n, 0.2, 0, 0, 7, GR_BALANCE_SMOTE, train, test, &n_train,
                         &n_test) == GR_ERR_INVALID_ARG);
  CHECK(gr_leads_holdout(client, n, 1.5, 1, 0, 7, GR_BALANCE_SMOTE, train, test, &n_train,
                         &n_test) == GR_ERR_INVALID_ARG);
  free(train);
  free(test);
  free(seen);
}

static int same_figures(const gr_leads_eval *a, const gr_leads_eval *b) {
  return a->n_train == b->n_train && a->n_test == b->n_test &&
         memcmp(a->map, b->map, sizeof a->map) == 0 &&
         memcmp(a->precision, b->precision, sizeof a->precision) == 0 &&
         memcmp(a->recall, b->recall, sizeof a->recall) == 0 && a->auc == b->auc &&
         memcmp(a->in_map, b->in_map, sizeof a->in_map) == 0 && a->in_auc == b->in_auc &&
         a->conv.models == b->conv.models && a->conv.kmeans_iterations == b->conv.kmeans_iterations;
}

/* Settings whose clusterings change back and forth: k 1, 3, 3, 1, 5. */
static int make_settings(gr_leads_params *s) {
  const int ks[] = {1, 3, 3, 1, 5};
  const gr_balance bal[] = {GR_BALANCE_SMOTE, GR_BALANCE_NONE, GR_BALANCE_WEIGHT, GR_BALANCE_NONE,
                            GR_BALANCE_SMOTE};
  const double C[] = {1.0, 0.1, 1.0, 0.01, 0.5};
  for (int i = 0; i < 5; i++) {
    gr_leads_params_default(&s[i]);
    s[i].kmeans.k = ks[i];
    s[i].balance = bal[i];
    s[i].logreg.C = C[i];
  }
  return 5;
}

static void test_one_fold_is_evaluate(gr_context *ctx, const gr_table *market,
                                      const uint8_t *client) {
  gr_leads_params s[5];
  const int n = make_settings(s);
  gr_leads_eval evals[5];
  int done = -1;
  CHECK_OK(gr_leads_tune(ctx, market, client, s, n, 1, 0.25, 11, evals, &done, NULL, NULL));
  CHECK(done == n);
  for (int i = 0; i < n; i++) {
    gr_leads_eval e;
    CHECK_OK(gr_leads_evaluate(ctx, market, client, &s[i], 0.25, 11, &e, NULL));
    CHECK(same_figures(&evals[i], &e));
  }
  /* a planted market: the held-out clients rank far above chance */
  CHECK(evals[1].auc > 0.8 && evals[1].map[1] > 0.3);
}

static void test_folds_are_fits(gr_context *ctx, const gr_table *market, const uint8_t *client) {
  enum { FOLDS = 3 };
  gr_leads_params s[5];
  const int n = make_settings(s);
  gr_leads_eval evals[5 * FOLDS];
  int done = -1;
  CHECK_OK(gr_leads_tune(ctx, market, client, s, n, FOLDS, 0.2, 3, evals, &done, NULL, NULL));
  CHECK(done == n);
  const int64_t rows = market->n_rows;
  uint8_t *train = malloc((size_t)rows), *test = malloc((size_t)rows);
  int differ = 0;
  for (int i = 0; i < n; i++)
    for (int f = 0; f < FOLDS; f++) {
      gr_leads_eval e;
      memset(&e, 0, sizeof e);
      CHECK_OK(gr_leads_holdout(client, rows, 0.2, FOLDS, f, 3, GR_BALANCE_SMOTE, train, test,
                                &e.n_train, &e.n_test));
      gr_leads_model *m = NULL;
      float *X = NULL;
      int32_t *cluster = NULL;
      CHECK_OK(gr_leads_fit(ctx, market, train, &s[i], &m, &X, &cluster, NULL));
      if (m) {
        e.conv = m->conv;
        CHECK_OK(gr_leads_measure(ctx, m, X, rows, cluster, train, test, &e));
      }
      CHECK(same_figures(&evals[i * FOLDS + f], &e));
      differ += evals[i * FOLDS + f].auc != evals[i * FOLDS].auc;
      gr_leads_model_free(m);
      free(X);
      free(cluster);
    }
  CHECK(differ > 0); /* the folds hold out different clients */
  free(train);
  free(test);
}

static int g_calls;
static void count_progress(void *user, int i) {
  (void)user;
  CHECK(i == g_calls);
  g_calls++;
}

static void test_progress_and_errors(gr_context *ctx, const gr_table *market,
                                     const uint8_t *client) {
  gr_leads_params s[5];
  const int n = make_settings(s);
  gr_leads_eval evals[5];
  int done = -1;
  g_calls = 0;
  CHECK_OK(gr_leads_tune(ctx, market, client, s, 2, 1, 0.2, 1, evals, &done, count_progress, NULL));
  CHECK(g_calls == 2 && done == 2);
  s[2].logreg.C = -1; /* the third setting fails: two done */
  CHECK(gr_leads_tune(ctx, market, client, s, n, 1, 0.2, 1, evals, &done, NULL, NULL) ==
        GR_ERR_INVALID_ARG);
  CHECK(done == 2);
  CHECK(gr_leads_tune(ctx, market, client, s, 0, 1, 0.2, 1, evals, &done, NULL, NULL) ==
        GR_ERR_INVALID_ARG);
}

int main(void) {
  gr_context *ctx = cpu_test_context(2);
  planted_leads pl;
  planted_leads_make(&pl, 2000, 90, 9);
  const gr_table *market = pl.market;
  const uint8_t *client = pl.client;
  CHECK(pl.found >= 60);
  if (ctx && client) {
    test_folds_partition(client, market->n_rows);
    test_one_fold_is_evaluate(ctx, market, client);
    test_folds_are_fits(ctx, market, client);
    test_progress_and_errors(ctx, market, client);
  }
  planted_leads_free(&pl);
  gr_context_free(ctx);
  return gr_test_finish();
}
