/* Evaluation of the leads engine on a seeded holdout of the portfolio: fit
 * on the other clients, rank the market without them, and measure how high
 * the held-out clients come (MAP, precision and recall at 5, 10, 25, 50,
 * and the ROC AUC against every non-client). The in-sample figures rank
 * the clients the model was fitted on, as the original notebook did. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "../common/rng.h"
#include "leads.h"
#include "metrics.h"

const int gr_leads_cuts[GR_LEADS_N_CUTS] = {5, 10, 25, 50};

/* Rows with flag[r] set, ascending. */
static int32_t *rows_where(const uint8_t *flag, int64_t n, int64_t *count) {
  int64_t c = 0;
  for (int64_t r = 0; r < n; r++)
    c += flag[r] != 0;
  int32_t *rows = malloc(sizeof(int32_t) * (size_t)(c ? c : 1));
  if (!rows) return NULL;
  c = 0;
  for (int64_t r = 0; r < n; r++)
    if (flag[r]) rows[c++] = (int32_t)r;
  *count = c;
  return rows;
}

/* MAP, precision and recall at each cut of one ranking against `relevant`
 * (sorted rows), and the AUC of prob with `excl` left out of the negatives. */
static gr_status measure(gr_context *ctx, const float *prob, int64_t n, const uint8_t *skip,
                         const uint8_t *relevant_flag, const uint8_t *excl_flag, double *map,
                         double *precision, double *recall, double *auc, double *rank_seconds) {
  const int top = gr_leads_cuts[GR_LEADS_N_CUTS - 1];
  int32_t ranked[64];
  float scores[64];
  int64_t n_rel = 0, n_excl = 0;
  int32_t *rel = rows_where(relevant_flag, n, &n_rel);
  int32_t *excl = rows_where(excl_flag, n, &n_excl);
  gr_status st = rel && excl ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate evaluation rows");
  const double t0 = gr_now_seconds();
  if (st == GR_OK) st = gr_leads_rank(ctx, prob, n, skip, top, ranked, scores);
  if (rank_seconds) *rank_seconds = gr_now_seconds() - t0;
  for (int c = 0; st == GR_OK && c < GR_LEADS_N_CUTS; c++) {
    gr_metric_sums s;
    memset(&s, 0, sizeof s);
    gr_metrics_add_user(&s, ranked, gr_leads_cuts[c], rel, n_rel);
    gr_metrics m;
    gr_metrics_finish(&s, gr_leads_cuts[c], &m);
    map[c] = m.map;
    precision[c] = m.precision;
    recall[c] = m.recall;
  }
  if (st == GR_OK) *auc = gr_user_auc(prob, n, excl, n_excl, rel, n_rel);
  free(rel);
  free(excl);
  return st;
}

/* The clients' rows in a seeded shuffle: every holdout draws from it. */
static int32_t *shuffled_clients(const uint8_t *client, int64_t n, uint64_t seed, int64_t *count) {
  int32_t *clients = rows_where(client, n, count);
  if (!clients) return NULL;
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  for (int64_t i = *count - 1; i > 0; i--) {
    const int64_t j = (int64_t)gr_rng_below(&rng, (uint64_t)i + 1);
    const int32_t t = clients[i];
    clients[i] = clients[j];
    clients[j] = t;
  }
  return clients;
}

gr_status gr_leads_holdout(const uint8_t *client, int64_t n, double test_fraction, int folds,
                           int fold, uint64_t seed, gr_balance balance, uint8_t *train,
                           uint8_t *test, int64_t *n_train, int64_t *n_test) {
  if (folds < 1) return gr_fail(GR_ERR_INVALID_ARG, "--folds must be at least 1");
  if (folds == 1 && !(test_fraction > 0 && test_fraction < 1))
    return gr_fail(GR_ERR_INVALID_ARG, "--test-fraction must be in (0, 1)");
  if (fold < 0 || fold >= folds)
    return gr_fail(GR_ERR_INVALID_ARG, "fold %d of %d does not exist", fold, folds);
  int64_t nc = 0;
  int32_t *clients = shuffled_clients(client, n, seed, &nc);
  if (!clients) return gr_fail(GR_ERR_NOMEM, "cannot allocate the clients");
  /* held out: positions [lo, hi) of the shuffle */
  int64_t lo = 0, hi = (int64_t)llround(test_fraction * (double)nc);
  if (folds > 1) {
    lo = fold * nc / folds;
    hi = (fold + 1) * nc / folds;
  } else if (hi < 1) {
    hi = 1;
  }
  const int64_t min_train = balance == GR_BALANCE_SMOTE ? 2 : 1;
  if (hi - lo < 1 || nc - (hi - lo) < min_train) {
    free(clients);
    if (folds > 1)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "the portfolio has %lld clients in the market: too few for %d folds%s",
                     (long long)nc, folds,
                     balance == GR_BALANCE_SMOTE ? " (SMOTE needs 2 left to fit on)" : "");
    return gr_fail(GR_ERR_INVALID_ARG,
                   "the portfolio has %lld clients in the market: too few to hold some out%s",
                   (long long)nc,
                   balance == GR_BALANCE_SMOTE ? " (SMOTE needs 2 left to fit on)" : "");
  }
  memcpy(train, client, (size_t)n);
  memset(test, 0, (size_t)n);
  for (int64_t i = lo; i < hi; i++) {
    train[clients[i]] = 0;
    test[clients[i]] = 1;
  }
  *n_train = nc - (hi - lo);
  *n_test = hi - lo;
  free(clients);
  return GR_OK;
}

gr_status gr_leads_measure(gr_context *ctx, const gr_leads_model *m, const float *X, int64_t n,
                           const int32_t *cluster, const uint8_t *train, const uint8_t *test,
                           gr_leads_eval *out) {
  float *prob = malloc(sizeof(float) * (size_t)(n ? n : 1));
  if (!prob) return gr_fail(GR_ERR_NOMEM, "cannot allocate the scores");
  double t0 = gr_now_seconds();
  gr_status st = gr_leads_score(ctx, m, X, n, cluster, prob, NULL);
  out->tm.score = gr_now_seconds() - t0;
  /* held out: the training clients are not candidates */
  if (st == GR_OK)
    st = measure(ctx, prob, n, train, test, train, out->map, out->precision, out->recall, &out->auc,
                 &out->tm.rank);
  /* in-sample: the training clients among every company but the held-out ones */
  if (st == GR_OK)
    st = measure(ctx, prob, n, test, train, test, out->in_map, out->in_precision, out->in_recall,
                 &out->in_auc, NULL);
  free(prob);
  return st;
}

gr_status gr_leads_evaluate(gr_context *ctx, const gr_table *market, const uint8_t *client,
                            const gr_leads_params *p, double test_fraction, uint64_t seed,
                            gr_leads_eval *out, uint8_t *test_out) {
  const int64_t n = market->n_rows;
  memset(out, 0, sizeof *out);
  uint8_t *train = malloc((size_t)(n ? n : 1)), *test = malloc((size_t)(n ? n : 1));
  float *X = NULL;
  int32_t *cluster = NULL;
  gr_leads_model *m = NULL;
  gr_status st = train && test ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the split");
  if (st == GR_OK)
    st = gr_leads_holdout(client, n, test_fraction, 1, 0, seed, p->balance, train, test,
                          &out->n_train, &out->n_test);
  if (st == GR_OK) st = gr_leads_fit(ctx, market, train, p, &m, &X, &cluster, &out->tm);
  if (st == GR_OK) {
    out->conv = m->conv;
    st = gr_leads_measure(ctx, m, X, n, cluster, train, test, out);
  }
  if (st == GR_OK && test_out) memcpy(test_out, test, (size_t)n);
  free(train);
  free(test);
  free(X);
  free(cluster);
  gr_leads_model_free(m);
  return st;
}
