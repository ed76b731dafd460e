/* Many leads settings on one market: the market is encoded once, KMeans
 * runs once per distinct clustering (the clusters do not depend on the
 * clients), and each setting's models are fitted and measured on every
 * fold of the portfolio. A setting's figures on a fold are those
 * gr_leads_evaluate gives for it (folds = 1) or for that fold's holdout. */
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "context.h"
#include "leads.h"

static int same_clustering(const gr_kmeans_params *a, const gr_kmeans_params *b) {
  return a->k == b->k && a->max_iter == b->max_iter && a->tol == b->tol && a->n_init == b->n_init &&
         a->seed == b->seed && a->block_rows == b->block_rows && a->bounds == b->bounds;
}

/* One setting on every fold; the context stays quiet while it runs. */
static gr_status run_setting(gr_context *ctx, const gr_leads_data *dt, const gr_kmeans_result *km,
                             const gr_leads_params *p, int folds, const uint8_t *train,
                             const uint8_t *test, const int64_t *n_train, const int64_t *n_test,
                             gr_leads_eval *evals) {
  const int verbose = ctx->opts.verbose;
  ctx->opts.verbose = 0;
  gr_status st = GR_OK;
  for (int f = 0; f < folds && st == GR_OK; f++) {
    const uint8_t *tr = train + (size_t)f * (size_t)dt->n, *te = test + (size_t)f * (size_t)dt->n;
    gr_leads_eval *e = &evals[f];
    memset(e, 0, sizeof *e);
    e->n_train = n_train[f];
    e->n_test = n_test[f];
    gr_leads_model *m = NULL;
    st = gr_leads_fit_models(ctx, dt, km, tr, p, 0, &m, &e->tm);
    if (st == GR_OK) {
      e->conv = m->conv;
      st = gr_leads_measure(ctx, m, dt->X, dt->n, km->labels, tr, te, e);
    }
    gr_leads_model_free(m);
  }
  ctx->opts.verbose = verbose;
  return st;
}

gr_status gr_leads_tune(gr_context *ctx, const gr_table *market, const uint8_t *client,
                        const gr_leads_params *settings, int n_settings, int folds,
                        double test_fraction, uint64_t eval_seed, gr_leads_eval *evals, int *n_done,
                        void (*progress)(void *user, int setting), void *user) {
  *n_done = 0;
  if (n_settings < 1) return gr_fail(GR_ERR_INVALID_ARG, "no settings to try");
  if (folds < 1) return gr_fail(GR_ERR_INVALID_ARG, "--folds must be at least 1");
  const int64_t n = market->n_rows;
  const size_t plane = (size_t)(n ? n : 1);
  /* every fold's flags, drawn once: the strictest balance decides what is
   * too few clients to hold some out */
  gr_balance strictest = GR_BALANCE_NONE;
  for (int i = 0; i < n_settings; i++)
    if (settings[i].balance == GR_BALANCE_SMOTE) strictest = GR_BALANCE_SMOTE;
  uint8_t *train = malloc(plane * (size_t)folds), *test = malloc(plane * (size_t)folds);
  int64_t *n_train = malloc(sizeof(int64_t) * (size_t)folds);
  int64_t *n_test = malloc(sizeof(int64_t) * (size_t)folds);
  gr_leads_data dt;
  memset(&dt, 0, sizeof dt);
  gr_kmeans_result km = {0};
  const gr_kmeans_params *clustered = NULL; /* the clustering km holds */
  gr_status st =
      train && test && n_train && n_test
          ? GR_OK
          : gr_fail(GR_ERR_NOMEM, "cannot allocate %d folds of %lld rows", folds, (long long)n);
  for (int f = 0; f < folds && st == GR_OK; f++)
    st = gr_leads_holdout(client, n, test_fraction, folds, f, eval_seed, strictest,
                          train + (size_t)f * plane, test + (size_t)f * plane, &n_train[f],
                          &n_test[f]);
  if (st == GR_OK) st = gr_leads_encode(ctx, market, &settings[0].encoder, &dt, NULL);
  for (int i = 0; i < n_settings && st == GR_OK; i++) {
    const gr_leads_params *p = &settings[i];
    double kmeans_s = 0;
    if (!clustered || !same_clustering(clustered, &p->kmeans)) {
      gr_kmeans_result_free(&km);
      memset(&km, 0, sizeof km);
      clustered = NULL;
      st = gr_leads_cluster(ctx, &dt, &p->kmeans, &km, &kmeans_s);
      if (st != GR_OK) break;
      clustered = &p->kmeans;
    }
    gr_leads_eval *e = evals + (size_t)i * (size_t)folds;
    st = run_setting(ctx, &dt, &km, p, folds, train, test, n_train, n_test, e);
    if (st != GR_OK) break;
    e[0].tm.kmeans = kmeans_s; /* paid by the first setting of a clustering */
    *n_done = i + 1;
    if (progress) progress(user, i);
  }
  gr_kmeans_result_free(&km);
  gr_leads_data_free(ctx, &dt);
  free(train);
  free(test);
  free(n_train);
  free(n_test);
  return st;
}
