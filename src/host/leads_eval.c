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

gr_status gr_leads_evaluate(gr_context *ctx, const gr_table *market, const uint8_t *client,
                            const gr_leads_params *p, double test_fraction, uint64_t seed,
                            gr_leads_eval *out, uint8_t *test_out) {
  if (!(test_fraction > 0 && test_fraction < 1))
    return gr_fail(GR_ERR_INVALID_ARG, "--test-fraction must be in (0, 1)");
  const int64_t n = market->n_rows;
  memset(out, 0, sizeof *out);
  int64_t n_clients = 0;
  int32_t *clients = rows_where(client, n, &n_clients);
  if (!clients) return gr_fail(GR_ERR_NOMEM, "cannot allocate the clients");
  const int64_t min_train = p->balance == GR_BALANCE_SMOTE ? 2 : 1;
  int64_t n_test = (int64_t)llround(test_fraction * (double)n_clients);
  if (n_test < 1) n_test = 1;
  if (n_clients - n_test < min_train) {
    free(clients);
    return gr_fail(GR_ERR_INVALID_ARG,
                   "the portfolio has %lld clients in the market: too few to hold some out",
                   (long long)n_clients);
  }
  /* a seeded shuffle of the clients: the first n_test are held out */
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  for (int64_t i = n_clients - 1; i > 0; i--) {
    const int64_t j = (int64_t)gr_rng_below(&rng, (uint64_t)i + 1);
    const int32_t t = clients[i];
    clients[i] = clients[j];
    clients[j] = t;
  }
  uint8_t *train = malloc((size_t)n), *test = calloc((size_t)n, 1);
  float *prob = malloc(sizeof(float) * (size_t)n);
  float *X = NULL;
  int32_t *cluster = NULL;
  gr_leads_model *m = NULL;
  gr_status st = train && test && prob ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the split");
  if (st == GR_OK) {
    memcpy(train, client, (size_t)n);
    for (int64_t i = 0; i < n_test; i++) {
      train[clients[i]] = 0;
      test[clients[i]] = 1;
    }
    out->n_train = n_clients - n_test;
    out->n_test = n_test;
    st = gr_leads_fit(ctx, market, train, p, &m, &X, &cluster, &out->tm);
    if (st == GR_OK) out->conv = m->conv;
  }
  if (st == GR_OK) {
    const double t0 = gr_now_seconds();
    st = gr_leads_score(ctx, m, X, n, cluster, prob, NULL);
    out->tm.score = gr_now_seconds() - t0;
  }
  /* held out: the training clients are not candidates */
  if (st == GR_OK)
    st = measure(ctx, prob, n, train, test, train, out->map, out->precision, out->recall, &out->auc,
                 &out->tm.rank);
  /* in-sample: the training clients among every company but the held-out ones */
  if (st == GR_OK)
    st = measure(ctx, prob, n, test, train, test, out->in_map, out->in_precision, out->in_recall,
                 &out->in_auc, NULL);
  if (st == GR_OK && test_out) memcpy(test_out, test, (size_t)n);
  free(clients);
  free(train);
  free(test);
  free(prob);
  free(X);
  free(cluster);
  gr_leads_model_free(m);
  return st;
}
