/* The leads engine end to end on a planted market: clients concentrate in
 * one region and sector, so held-out clients must rank high (a broken
 * pipeline ranks at chance); determinism by seed, the model file round
 * trip (identical scores), the global fallback for clusters without
 * clients, ranking exclusions, portfolio matching, and bad model files; and
 * that the fit over described training rows is the fit of the training
 * sets materialized as matrices (market rows copied, SMOTE rows written
 * out in float), within 1e-6. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/leads.h"
#include "host/logreg.h"
#include "host/model_io.h"
#include "host/smote.h"
#include "kernels/backend.h" /* GR_TOPK_MAX */
#include "leads_fixture.h"
#include "test_util.h"

static int same_file(const char *a, const char *b) {
  uint8_t *x = NULL, *y = NULL;
  size_t nx = 0, ny = 0;
  int same = gr_read_file(a, &x, &nx) == GR_OK && gr_read_file(b, &y, &ny) == GR_OK && nx == ny &&
             memcmp(x, y, nx) == 0;
  free(x);
  free(y);
  return same;
}

static void test_quality_and_determinism(gr_context *ctx, const gr_table *market,
                                         const uint8_t *client) {
  for (int b = 0; b < 3; b++) {
    gr_leads_params p;
    gr_leads_params_default(&p);
    p.kmeans.k = 4;
    p.balance = (gr_balance)b;
    gr_leads_eval e;
    uint8_t *test = malloc((size_t)market->n_rows);
    CHECK_OK(gr_leads_evaluate(ctx, market, client, &p, 0.25, 7, &e, test));
    int64_t n_test = 0, overlap = 0;
    for (int64_t r = 0; r < market->n_rows; r++) {
      n_test += test[r];
      overlap += test[r] && !client[r];
    }
    CHECK(n_test == e.n_test && overlap == 0 && e.n_train + e.n_test > 100);
    /* planted: held-out clients rank far above chance (AUC 0.5, precision ~ 4%) */
    CHECK_MSG(e.auc > 0.85, "%s: AUC %.3f", gr_balance_name(p.balance), e.auc);
    CHECK_MSG(e.precision[1] >= 0.3, "%s: precision@10 %.3f", gr_balance_name(p.balance),
              e.precision[1]);
    CHECK(e.in_auc > 0.85 && e.map[0] >= 0 && e.map[0] <= 1 && e.recall[3] <= 1);
    free(test);
  }
  /* the same seed gives the same model, byte for byte; another seed another */
  const char *paths[3];
  for (int i = 0; i < 3; i++) {
    gr_leads_params p;
    gr_leads_params_default(&p);
    p.kmeans.k = 4;
    p.kmeans.seed = p.seed = i < 2 ? 11 : 12;
    gr_leads_model *m = NULL;
    CHECK_OK(gr_leads_fit(ctx, market, client, &p, &m, NULL, NULL, NULL));
    paths[i] = write_temp("", 0);
    CHECK_OK(gr_leads_model_save(m, paths[i]));
    gr_leads_model_free(m);
  }
  CHECK(same_file(paths[0], paths[1]));
  CHECK(!same_file(paths[0], paths[2]));
}

static void test_round_trip(gr_context *ctx, const gr_table *market, const uint8_t *client) {
  gr_leads_params p;
  gr_leads_params_default(&p);
  p.kmeans.k = 3;
  gr_leads_model *m = NULL, *back = NULL;
  float *X = NULL;
  int32_t *cl = NULL;
  CHECK_OK(gr_leads_fit(ctx, market, client, &p, &m, &X, &cl, NULL));
  if (!m) return;
  const int64_t n = market->n_rows;
  const char *path = write_temp("", 0);
  CHECK_OK(gr_leads_model_save(m, path));
  CHECK_OK(gr_leads_model_load(&back, path));
  float *p1 = malloc(sizeof(float) * (size_t)n), *p2 = malloc(sizeof(float) * (size_t)n);
  float *X2 = malloc(sizeof(float) * (size_t)n * (size_t)m->d);
  int32_t *c1 = malloc(sizeof(int32_t) * (size_t)n), *c2 = malloc(sizeof(int32_t) * (size_t)n);
  CHECK_OK(gr_leads_score(ctx, m, X, n, cl, p1, c1));
  if (back) {
    CHECK(back->k == m->k && back->d == m->d && back->clients.count == m->clients.count);
    /* the loaded model re-encodes the table and assigns clusters itself */
    CHECK_OK(gr_encoder_transform(back->enc, market, X2));
    CHECK(memcmp(X, X2, sizeof(float) * (size_t)n * (size_t)m->d) == 0);
    CHECK_OK(gr_leads_score(ctx, back, X2, n, NULL, p2, c2));
    CHECK(memcmp(c1, c2, sizeof(int32_t) * (size_t)n) == 0);
    CHECK(memcmp(p1, p2, sizeof(float) * (size_t)n) == 0);
  }
  /* ranking: descending, no skipped row, ties by row */
  int32_t rows[50];
  float scores[50];
  CHECK_OK(gr_leads_rank(ctx, p1, n, client, 50, rows, scores));
  int ok = 1;
  for (int i = 0; i < 50; i++) {
    ok &= rows[i] >= 0 && !client[rows[i]] && scores[i] == p1[rows[i]];
    if (i) ok &= scores[i] < scores[i - 1] || (scores[i] == scores[i - 1] && rows[i] > rows[i - 1]);
  }
  CHECK(ok);
  int64_t better = 0; /* nothing unskipped outside the list beats its last entry */
  for (int64_t r = 0; r < n; r++)
    better += !client[r] && p1[r] > scores[49];
  CHECK(better <= 49);

  /* corrupt, truncated and foreign files are refused with a reason */
  uint8_t *buf = NULL;
  size_t len = 0;
  CHECK_OK(gr_read_file(path, &buf, &len));
  gr_leads_model *bad = NULL;
  CHECK(gr_leads_model_load_mem(&bad, "t", buf, len / 2) == GR_ERR_FORMAT);
  buf[len / 3] ^= 0x40;
  CHECK(gr_leads_model_load_mem(&bad, "t", buf, len) == GR_ERR_FORMAT);
  CHECK(contains_text(gr_last_error(), "checksum"));
  buf[len / 3] ^= 0x40;
  buf[16] = 1; /* the kind: an ALS model */
  CHECK(gr_leads_model_load_mem(&bad, "t", buf, len) == GR_ERR_FORMAT);
  CHECK(contains_text(gr_last_error(), "not a leads model"));
  CHECK(bad == NULL);
  free(buf);
  free(p1);
  free(p2);
  free(X);
  free(X2);
  free(cl);
  free(c1);
  free(c2);
  gr_leads_model_free(m);
  gr_leads_model_free(back);
}

/* Clients only in one of two far-apart groups: the other cluster has none
 * and scores with the global model. */
static void test_global_fallback(gr_context *ctx) {
  char csv[8192];
  size_t len = (size_t)snprintf(csv, sizeof csv, "id,x,y\n");
  gr_rng rng;
  gr_rng_seed(&rng, 3);
  for (int r = 0; r < 120; r++)
    len += (size_t)snprintf(csv + len, sizeof csv - len, "r%d,%.4f,%.4f\n", r,
                            (r < 60 ? 0 : 100) + gr_rng_normal(&rng), gr_rng_normal(&rng));
  gr_table *t = read_csv_text(csv);
  uint8_t client[120] = {0};
  for (int r = 0; r < 60; r += 6)
    client[r] = 1;
  gr_leads_params p;
  gr_leads_params_default(&p);
  p.kmeans.k = 2;
  gr_leads_model *m = NULL;
  CHECK_OK(gr_leads_fit(ctx, t, client, &p, &m, NULL, NULL, NULL));
  if (m) {
    const int empty = m->cluster_clients[0] == 0 ? 0 : 1;
    CHECK(m->cluster_clients[empty] == 0 && m->cluster_clients[1 - empty] == 10);
    CHECK(m->model_of[empty] == 2 && m->model_of[1 - empty] == 1 - empty);
    CHECK(m->models[2].w != NULL && m->models[1 - empty].w != NULL && m->models[empty].w == NULL);
  }
  gr_leads_model_free(m);
  /* no client at all, or only clients: clear errors */
  memset(client, 0, sizeof client);
  CHECK(gr_leads_fit(ctx, t, client, &p, &m, NULL, NULL, NULL) == GR_ERR_INVALID_ARG);
  CHECK(contains_text(gr_last_error(), "no client"));
  memset(client, 1, sizeof client);
  CHECK(gr_leads_fit(ctx, t, client, &p, &m, NULL, NULL, NULL) == GR_ERR_INVALID_ARG);
  gr_table_free(t);
}

/* The training sets gr_leads_fit describes, built here the long way (each
 * cluster's rows copied, then gr_smote's rows written out with the seed
 * leads_fit gives group gi), fitted with gr_logreg_fit_groups: the same
 * models, prior correction included, within 1e-6 relative to 1 +
 * |coefficient| (the described fit takes a synthetic row as the exact
 * point between its pair, the copy as its float rounding). One cluster in
 * three is
 * stripped of its clients so that the global model is in the fit too. */
static void test_matches_materialized(gr_context *ctx, const gr_table *market,
                                      const uint8_t *client_in, int k) {
  const int64_t n = market->n_rows;
  gr_leads_params p;
  gr_leads_params_default(&p);
  p.kmeans.k = k;
  gr_leads_model *m = NULL;
  float *X = NULL;
  int32_t *cl = NULL;
  CHECK_OK(gr_leads_fit(ctx, market, client_in, &p, &m, &X, &cl, NULL));
  if (!m) return;
  uint8_t *client = malloc((size_t)n);
  for (int64_t r = 0; r < n; r++)
    client[r] = client_in[r] && cl[r] % 3 != 1;
  gr_leads_model_free(m);
  free(X);
  free(cl);
  m = NULL;
  X = NULL;
  cl = NULL;
  CHECK_OK(gr_leads_fit(ctx, market, client, &p, &m, &X, &cl, NULL));
  if (!m) {
    free(client);
    free(X);
    free(cl);
    return;
  }
  const int d = m->d;
  int slot[9], n_groups = 0, global = 0;
  for (int c = 0; c < m->k; c++) {
    if (m->model_of[c] == c) slot[n_groups++] = c;
    global |= m->model_of[c] == m->k;
  }
  if (global) slot[n_groups++] = m->k;
  CHECK(global && n_groups >= 2);
  int64_t seg[10] = {0}, rows[9], clients[9], synth[9];
  for (int g = 0; g < n_groups; g++) {
    rows[g] = clients[g] = 0;
    for (int64_t r = 0; r < n; r++)
      if (slot[g] == m->k || cl[r] == slot[g]) {
        rows[g]++;
        clients[g] += client[r];
      }
    const int64_t others = rows[g] - clients[g];
    synth[g] = clients[g] >= 2 && others > clients[g] ? others - clients[g] : 0;
    seg[g + 1] = seg[g] + rows[g] + synth[g];
  }
  float *Xt = malloc(sizeof(float) * (size_t)seg[n_groups] * d);
  float *P = malloc(sizeof(float) * (size_t)n * d);
  uint8_t *yt = malloc((size_t)seg[n_groups]);
  for (int g = 0; g < n_groups; g++) {
    int64_t at = seg[g], np = 0;
    for (int64_t r = 0; r < n; r++) {
      if (slot[g] != m->k && cl[r] != slot[g]) continue;
      memcpy(Xt + at * d, X + r * d, sizeof(float) * d);
      yt[at++] = client[r];
      if (client[r]) memcpy(P + np++ * d, X + r * d, sizeof(float) * d);
    }
    uint64_t s = p.seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(g + 1));
    if (synth[g])
      CHECK_OK(gr_smote(ctx, Xt + at * d, NULL, NULL, NULL, P, np, d, p.smote_k, synth[g],
                        gr_splitmix64(&s)));
    memset(yt + at, 1, (size_t)synth[g]);
  }
  gr_logreg_model *ref = calloc((size_t)n_groups, sizeof *ref);
  CHECK_OK(gr_logreg_fit_groups(ctx, Xt, yt, NULL, seg, n_groups, d, &p.logreg, ref));
  int same = 0;
  double worst = 0.0;
  for (int g = 0; g < n_groups && ref[g].w; g++) {
    const int64_t others = rows[g] - clients[g];
    if (others > clients[g]) ref[g].b += log((double)clients[g] / (double)others);
    const gr_logreg_model *got = &m->models[slot[g]];
    if (!got->w) continue;
    double apart = fabs(got->b - ref[g].b) / (1.0 + fabs(ref[g].b));
    for (int j = 0; j < d; j++)
      apart = fmax(apart, fabs(got->w[j] - ref[g].w[j]) / (1.0 + fabs(ref[g].w[j])));
    worst = fmax(worst, apart);
    same += apart <= 1e-6;
    gr_logreg_model_free(&ref[g]);
  }
  CHECK_MSG(same == n_groups, "k %d: %d of %d models differ from the materialized fit (by %g)", k,
            n_groups - same, n_groups, worst);
  free(ref);
  free(Xt);
  free(P);
  free(yt);
  free(client);
  free(X);
  free(cl);
  gr_leads_model_free(m);
}

static void test_portfolio_matching(void) {
  gr_table *market = read_csv_text("id,x\na,1\nb,2\nc,3\nd,4\n");
  gr_table *pt = read_csv_text(",id\n0,c\n1,zz\n2,a\n3,yy\n");
  uint8_t client[4];
  int64_t found = 0, missing = 0;
  char some[64];
  CHECK_OK(gr_leads_mark_clients(market, pt, client, &found, &missing, some, sizeof some));
  CHECK(found == 2 && missing == 2 && client[0] && !client[1] && client[2] && !client[3]);
  CHECK(strcmp(some, "zz, yy") == 0);
  /* an empty portfolio: the reader refuses a header alone; a table of no
   * rows (as a library caller might build) is refused here */
  gr_table *empty = NULL;
  CHECK(gr_table_read_csv_mem(&empty, "p.csv", ",id\n", 4, NULL) == GR_ERR_PARSE);
  CHECK(contains_text(gr_last_error(), "p.csv") && contains_text(gr_last_error(), "no rows"));
  gr_table none = *pt;
  none.n_rows = 0;
  CHECK(gr_leads_mark_clients(market, &none, client, &found, &missing, NULL, 0) ==
        GR_ERR_INVALID_ARG);
  CHECK(contains_text(gr_last_error(), "empty"));
  gr_table_free(pt);
  gr_table_free(market);
}

/* gr_feature_means against a plain sum, on several thread counts; the
 * reasons against w_j (x_j - mean_j) computed here, with each row read
 * through its cluster's model (cluster 1 uses the global one). */
static void test_reasons(void) {
  enum { N = 9000, D = 7, TOP = 3 };
  float *X = malloc(sizeof(float) * N * D);
  gr_rng rng;
  gr_rng_seed(&rng, 17);
  for (int i = 0; i < N * D; i++)
    X[i] = (float)gr_rng_normal(&rng) + (i % D == 2 ? 5.0f : 0.0f);
  double mean[D], mean1[D], ref[D] = {0};
  for (int r = 0; r < N; r++)
    for (int j = 0; j < D; j++)
      ref[j] += X[r * D + j];
  gr_context *c1 = cpu_test_context(1), *c2 = cpu_test_context(2);
  CHECK_OK(gr_feature_means(c2, X, N, D, mean));
  CHECK_OK(gr_feature_means(c1, X, N, D, mean1));
  int close = 1;
  for (int j = 0; j < D; j++)
    close &= fabs(mean[j] - ref[j] / N) < 1e-9 && mean[j] == mean1[j];
  CHECK(close);
  double w[3][D];
  gr_logreg_model models[3];
  for (int g = 0; g < 3; g++) {
    for (int j = 0; j < D; j++)
      w[g][j] = gr_rng_normal(&rng);
    models[g] = (gr_logreg_model){.d = D, .w = w[g], .b = 0.3};
  }
  int32_t model_of[2] = {0, 2}, cluster[N];
  for (int r = 0; r < N; r++)
    cluster[r] = r % 2;
  gr_leads_model m = {.k = 2, .d = D, .models = models, .model_of = model_of};
  int32_t rows[40], feat[40 * TOP];
  float share[40 * TOP];
  for (int q = 0; q < 40; q++)
    rows[q] = q == 5 ? -1 : (int32_t)gr_rng_below(&rng, N);
  CHECK_OK(gr_leads_explain(&m, X, mean, rows, 40, cluster, TOP, feat, share));
  int right = 1;
  for (int q = 0; q < 40; q++) {
    if (rows[q] < 0) {
      right &= feat[q * TOP] == -1 && share[q * TOP] == 0;
      continue;
    }
    const double *wq = w[model_of[cluster[rows[q]]]];
    double v[D];
    int positive = 0;
    for (int j = 0; j < D; j++) {
      v[j] = wq[j] * ((double)X[rows[q] * D + j] - mean[j]);
      positive += v[j] > 0;
    }
    const int expect = positive < TOP ? positive : TOP;
    for (int s = 0; s < TOP; s++) {
      const int32_t f = feat[q * TOP + s];
      if (s >= expect) {
        right &= f == -1 && share[q * TOP + s] == 0;
        continue;
      }
      right &= f >= 0 && f < D && share[q * TOP + s] == (float)v[f] && v[f] > 0;
      if (s > 0) right &= v[f] <= v[feat[q * TOP + s - 1]];
      for (int j = 0; j < D; j++) /* nothing left out beats the last listed */
        if (s == expect - 1 && v[j] > v[f]) {
          int listed = 0;
          for (int t = 0; t < expect; t++)
            listed |= feat[q * TOP + t] == j;
          right &= listed;
        }
    }
  }
  CHECK(right);
  CHECK(gr_leads_explain(&m, X, mean, rows, 40, cluster, GR_LEADS_EXPLAIN_MAX + 1, feat, share) ==
        GR_ERR_INVALID_ARG);
  gr_context_free(c1);
  gr_context_free(c2);
  free(X);
}

/* More leads than the backend's top-k holds are ranked by a host sort: on
 * scores with many ties, skipped rows and NaN, the sort gives the top-k's
 * rows and scores exactly up to GR_TOPK_MAX, and beyond it a ranking in
 * which no candidate left out beats the last one kept. */
static void test_rank_beyond_topk(gr_context *ctx) {
  enum { N = 5000, BIG = 3000, ALL = 6000 };
  float *prob = malloc(sizeof(float) * N);
  uint8_t *skip = malloc(N);
  int32_t *rows = malloc(sizeof(int32_t) * ALL), *rows2 = malloc(sizeof(int32_t) * ALL);
  float *sc = malloc(sizeof(float) * ALL), *sc2 = malloc(sizeof(float) * ALL);
  gr_rng rng;
  gr_rng_seed(&rng, 99);
  int64_t candidates = 0;
  for (int r = 0; r < N; r++) {
    prob[r] = (float)gr_rng_below(&rng, 64) / 64.0f; /* about 78 rows per value */
    if (r % 613 == 5) prob[r] = NAN;
    skip[r] = r % 7 == 3;
    candidates += !skip[r] && !isnan(prob[r]);
  }
  const int tops[] = {1, 37, GR_TOPK_MAX};
  for (int t = 0; t < 3; t++) {
    CHECK_OK(gr_leads_rank(ctx, prob, N, skip, tops[t], rows, sc));
    CHECK_OK(gr_leads_rank_sorted(prob, N, skip, tops[t], rows2, sc2));
    CHECK_MSG(memcmp(rows, rows2, sizeof(int32_t) * (size_t)tops[t]) == 0 &&
                  memcmp(sc, sc2, sizeof(float) * (size_t)tops[t]) == 0,
              "top %d: the sort and the top-k differ", tops[t]);
  }
  /* rows2 still holds the top-k's first GR_TOPK_MAX */
  CHECK_OK(gr_leads_rank(ctx, prob, N, skip, BIG, rows, sc));
  CHECK(memcmp(rows, rows2, sizeof(int32_t) * GR_TOPK_MAX) == 0);
  uint8_t *kept = calloc(N, 1);
  int ok = 1;
  for (int i = 0; i < BIG; i++) {
    const int32_t r = rows[i];
    ok &= r >= 0 && r < N && !skip[r] && !kept[r] && sc[i] == prob[r];
    if (ok) kept[r] = 1;
    if (i) ok &= sc[i] < sc[i - 1] || (sc[i] == sc[i - 1] && r > rows[i - 1]);
  }
  CHECK_MSG(ok, "the sorted ranking is not best first, or repeats or keeps a skipped row");
  int64_t beaten = 0; /* a candidate left out that should have been kept */
  for (int r = 0; r < N; r++)
    beaten += !kept[r] && !skip[r] && !isnan(prob[r]) &&
              (prob[r] > sc[BIG - 1] || (prob[r] == sc[BIG - 1] && r < rows[BIG - 1]));
  CHECK(beaten == 0);
  /* more slots than candidates: every candidate, then -1 and -inf */
  CHECK_OK(gr_leads_rank(ctx, prob, N, skip, ALL, rows, sc));
  int64_t filled = 0, tail_ok = 1;
  for (int i = 0; i < ALL; i++) {
    filled += rows[i] >= 0;
    if (i >= candidates) tail_ok &= rows[i] == -1 && sc[i] == -INFINITY;
  }
  CHECK_MSG(filled == candidates && tail_ok, "%lld of %lld candidates ranked", (long long)filled,
            (long long)candidates);
  CHECK(gr_leads_rank(ctx, prob, N, skip, 0, rows, sc) == GR_ERR_INVALID_ARG);
  free(kept);
  free(prob);
  free(skip);
  free(rows);
  free(rows2);
  free(sc);
  free(sc2);
}

/* More than 2^31 companies: every entry point that numbers rows in int32 says
 * so before touching the data (checked by the size alone: the pointers are
 * never read). */
static void test_too_many_rows(gr_context *ctx) {
  const int64_t n = (int64_t)INT32_MAX + 1;
  float prob = 0;
  int32_t rows[2];
  float scores[2];
  CHECK(gr_leads_rank(ctx, &prob, n, NULL, 2, rows, scores) == GR_ERR_INVALID_ARG);
  CHECK(strstr(gr_last_error(), "more than 2^31 rows") != NULL);
  CHECK(gr_leads_rank_sorted(&prob, n, NULL, 2, rows, scores) == GR_ERR_INVALID_ARG);
  CHECK(strstr(gr_last_error(), "more than 2^31 rows") != NULL);
  gr_table huge = {.n_rows = n, .n_cols = 0, .cols = NULL, .id_col = -1};
  gr_encoder_options eo;
  gr_encoder_options_default(&eo);
  gr_leads_data dt;
  CHECK(gr_leads_encode(ctx, &huge, &eo, &dt, NULL) == GR_ERR_INVALID_ARG);
  CHECK(strstr(gr_last_error(), "at most 2147483647 are supported") != NULL);
}

int main(void) {
  test_reasons();
  gr_context *ctx = cpu_test_context(2);
  planted_leads pl;
  planted_leads_make(&pl, 3000, 120, 5);
  const gr_table *market = pl.market;
  const uint8_t *client = pl.client;
  CHECK(pl.found >= 100);
  if (ctx) test_too_many_rows(ctx);
  if (ctx && client) {
    test_quality_and_determinism(ctx, market, client);
    test_round_trip(ctx, market, client);
    test_global_fallback(ctx);
    test_rank_beyond_topk(ctx);
    test_matches_materialized(ctx, market, client, 3);
    test_matches_materialized(ctx, market, client, 8);
  }
  test_portfolio_matching();
  planted_leads_free(&pl);
  gr_context_free(ctx);
  return gr_test_finish();
}
