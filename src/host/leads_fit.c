/* Fitting the leads model: encode -> KMeans -> per-cluster training sets
 * (the cluster's rows plus, with SMOTE, synthetic clients up to the number
 * of non-clients) -> every logistic regression in one batched fit. The
 * training sets are groups of described rows over the encoded market (a
 * market row, or SMOTE's two clients and gap: 9 bytes and a label instead
 * of a 4d-byte copy), so the backend fits all clusters (and the global
 * fallback) in one pass without the market being copied. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "../common/rng.h"
#include "context.h"
#include "leads.h"
#include "packed_x.h"
#include "smote.h"

void gr_leads_params_default(gr_leads_params *p) {
  memset(p, 0, sizeof *p);
  gr_encoder_options_default(&p->encoder);
  gr_kmeans_params_default(&p->kmeans);
  p->kmeans.k = 8;
  p->balance = GR_BALANCE_SMOTE;
  p->smote_k = 5;
  gr_logreg_params_default(&p->logreg);
  p->logreg.tol = 1e-6;
  p->seed = 42;
  p->prior_correction = 1;
}

int gr_balance_parse(const char *s, gr_balance *out) {
  static const char *names[] = {"smote", "weight", "none"};
  for (int i = 0; i < 3; i++)
    if (strcmp(s, names[i]) == 0) {
      *out = (gr_balance)i;
      return 0;
    }
  return -1;
}

const char *gr_balance_name(gr_balance b) {
  return b == GR_BALANCE_SMOTE ? "smote" : b == GR_BALANCE_WEIGHT ? "weight" : "none";
}

void gr_leads_model_free(gr_leads_model *m) {
  if (!m) return;
  gr_encoder_free(m->enc);
  free(m->centroids);
  if (m->models)
    for (int c = 0; c <= m->k; c++)
      gr_logreg_model_free(&m->models[c]);
  free(m->models);
  free(m->model_of);
  free(m->cluster_rows);
  free(m->cluster_clients);
  gr_id_map_free(&m->clients);
  free(m);
}

/* One training group: the market rows it draws on (a cluster, or all rows
 * for the global model) and how many synthetic clients SMOTE adds. */
typedef struct group {
  int cluster; /* -1 = every row (the global model) */
  int64_t rows, clients, synthetic;
} group;

static int in_group(const group *g, const int32_t *cluster, int64_t r) {
  return g->cluster < 0 || cluster[r] == g->cluster;
}

/* Describes group g's training rows: its market rows, then its synthetic
 * clients (SMOTE's base and neighbour as market rows, and its gap). */
static gr_status fill_group(gr_context *ctx, const group *g, int gi, const float *X,
                            const uint8_t *client, const int32_t *cluster, int64_t n, int d,
                            const gr_leads_params *p, int32_t *a, int32_t *b, float *gap,
                            uint8_t *yt) {
  int64_t at = 0;
  for (int64_t r = 0; r < n; r++) {
    if (!in_group(g, cluster, r)) continue;
    a[at] = b[at] = (int32_t)r;
    gap[at] = 0.0f;
    yt[at++] = client[r];
  }
  if (g->synthetic == 0) return GR_OK;
  float *P = malloc(sizeof(float) * (size_t)g->clients * d);
  int32_t *row_of = malloc(sizeof(int32_t) * (size_t)g->clients);
  int64_t *u = malloc(sizeof(int64_t) * (size_t)g->synthetic);
  int64_t *v = malloc(sizeof(int64_t) * (size_t)g->synthetic);
  gr_status st = P && row_of && u && v
                     ? GR_OK
                     : gr_fail(GR_ERR_NOMEM, "cannot allocate the clients of a cluster");
  int64_t np = 0;
  for (int64_t r = 0; st == GR_OK && r < n; r++)
    if (client[r] && in_group(g, cluster, r)) {
      memcpy(P + (size_t)np * d, X + (size_t)r * d, sizeof(float) * (size_t)d);
      row_of[np++] = (int32_t)r;
    }
  uint64_t s = p->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(gi + 1));
  if (st == GR_OK)
    st = gr_smote(ctx, NULL, u, v, gap + at, P, np, d, p->smote_k, g->synthetic, gr_splitmix64(&s));
  for (int64_t i = 0; st == GR_OK && i < g->synthetic; i++) {
    a[at + i] = row_of[u[i]];
    b[at + i] = row_of[v[i]];
    yt[at + i] = 1;
  }
  free(P);
  free(row_of);
  free(u);
  free(v);
  return st;
}

/* *n_clients = the rows with client[r] set; none, or all of them, is an error. */
static gr_status count_clients(const uint8_t *client, int64_t n, int64_t *n_clients) {
  int64_t c = 0;
  for (int64_t r = 0; r < n; r++)
    c += client[r] != 0;
  *n_clients = c;
  if (c == 0) return gr_fail(GR_ERR_INVALID_ARG, "no client of the portfolio is in the market");
  if (c == n)
    return gr_fail(GR_ERR_INVALID_ARG, "every market company is a client: nothing to rank");
  return GR_OK;
}

static gr_status check_params(const gr_leads_params *p) {
  if (p->smote_k < 1) return gr_fail(GR_ERR_INVALID_ARG, "--smote-k must be at least 1");
  if (p->balance != GR_BALANCE_SMOTE && p->balance != GR_BALANCE_WEIGHT &&
      p->balance != GR_BALANCE_NONE)
    return gr_fail(GR_ERR_INVALID_ARG, "unknown balance mode %d", (int)p->balance);
  if (!(p->logreg.C > 0)) return gr_fail(GR_ERR_INVALID_ARG, "--C must be positive");
  return GR_OK;
}

/* Fills m->conv from the fitted models; with verbose, their iteration
 * counts (a '*' marks one that did not converge). A model that did not
 * converge is usable but not certified optimal: that is said whether or
 * not verbose, once, for the worst of them. */
static void report_models(gr_leads_model *m, const gr_logreg_params *lp, int n_groups,
                          int need_global, double seconds, int verbose, int warn) {
  const gr_logreg_solver solver = gr_logreg_solver_for(lp, m->d);
  const gr_logreg_model *worst = NULL;
  m->conv.models = n_groups;
  for (int c = 0; c <= m->k; c++) {
    const gr_logreg_model *lm = &m->models[c];
    if (!lm->w) continue;
    m->conv.models_converged += gr_logreg_converged(lm);
    if (lm->grad_norm > m->conv.max_grad_norm) m->conv.max_grad_norm = lm->grad_norm;
    if (!gr_logreg_converged(lm) && (!worst || lm->grad_norm > worst->grad_norm)) worst = lm;
  }
  if (verbose) {
    fprintf(stderr, "leads: %d logistic regressions%s, %s", n_groups,
            need_global ? ", one of them global" : "", gr_logreg_iteration_unit(solver));
    for (int c = 0; c <= m->k; c++)
      if (m->models[c].w)
        fprintf(stderr, " %d%s", m->models[c].iterations,
                gr_logreg_converged(&m->models[c]) ? "" : "*");
    fprintf(stderr, " (%.2f s)\n", seconds);
  }
  if (worst && warn) {
    char why[320];
    gr_logreg_describe_stop(worst, solver, lp->tol, why, sizeof why);
    fprintf(stderr,
            "leads: warning: %d of %d logistic regressions did not converge (the models are "
            "used as they are); the worst %s\n",
            m->conv.models - m->conv.models_converged, m->conv.models, why);
  }
}

/* One line per reason: how many columns the encoder dropped, the first few
 * by name (the market has ~180 columns; describe lists every one). */
static void report_dropped(const gr_encoder *e, const gr_encoder_options *o) {
  enum { SHOWN = 6 };
  for (int pass = 0; pass < 2; pass++) {
    const gr_enc_action why = pass ? GR_ENC_DROP_CONSTANT : GR_ENC_DROP_MISSING;
    int n = 0;
    for (int c = 0; c < e->n_cols; c++)
      n += e->cols[c].action == why;
    if (!n) continue;
    if (pass)
      fprintf(stderr, "leads: dropped %d constant column%s:", n, n == 1 ? "" : "s");
    else
      fprintf(stderr, "leads: dropped %d column%s missing in more than %g%% of rows:", n,
              n == 1 ? "" : "s", 100 * o->max_missing);
    for (int c = 0, shown = 0; c < e->n_cols && shown < SHOWN; c++)
      if (e->cols[c].action == why) fprintf(stderr, "%s %s", shown++ ? "," : "", e->cols[c].name);
    if (n > SHOWN) fprintf(stderr, " and %d more (gpurec describe lists them)", n - SHOWN);
    fputc('\n', stderr);
  }
}

gr_status gr_leads_encode(gr_context *ctx, const gr_table *market, const gr_encoder_options *o,
                          gr_leads_data *out, double *seconds) {
  memset(out, 0, sizeof *out);
  const double t0 = gr_now_seconds();
  const int64_t n = market->n_rows;
  if (n > INT32_MAX) /* training rows refer to market rows by int32 */
    return gr_fail(GR_ERR_INVALID_ARG, "the market has %lld rows; at most %d are supported",
                   (long long)n, INT32_MAX);
  GR_TRY(gr_encoder_fit(&out->enc, market, o));
  const int d = out->enc->n_features;
  out->n = n;
  out->d = d;
  uint8_t *binary = malloc((size_t)d); /* (d) the 0/1 features, packed as bits */
  out->X = malloc(sizeof(float) * (size_t)n * (size_t)d + 1);
  gr_status st = GR_OK;
  if (!out->X || !binary)
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate the encoded market (%lld x %d floats)",
                 (long long)n, d);
  if (st == GR_OK) st = gr_encoder_transform(out->enc, market, out->X);
  if (st == GR_OK) {
    gr_encoder_binary_features(out->enc, binary); /* no scan of X needed */
    st = gr_pack_x(ctx->be, &out->packed, out->X, n, d, binary);
  }
  free(binary);
  if (st != GR_OK) {
    gr_leads_data_free(ctx, out);
    return st;
  }
  if (seconds) *seconds = gr_now_seconds() - t0;
  if (ctx->opts.verbose)
    fprintf(stderr, "leads: encoded %lld companies into %d features (%.2f s)\n", (long long)n, d,
            gr_now_seconds() - t0);
  if (ctx->opts.verbose) report_dropped(out->enc, o);
  return GR_OK;
}

void gr_leads_data_free(gr_context *ctx, gr_leads_data *dt) {
  gr_packed_x_free(ctx->be, dt->packed);
  gr_encoder_free(dt->enc);
  free(dt->X);
  memset(dt, 0, sizeof *dt);
}

gr_status gr_leads_cluster(gr_context *ctx, const gr_leads_data *dt, const gr_kmeans_params *kp,
                           gr_kmeans_result *km, double *seconds) {
  const double t0 = gr_now_seconds();
  gr_kmeans_params kmp = *kp;
  kmp.packed = dt->packed;
  GR_TRY(gr_kmeans_fit(ctx, dt->X, dt->n, dt->d, &kmp, km));
  const double s = gr_now_seconds() - t0;
  if (seconds) *seconds = s;
  if (ctx->opts.verbose)
    fprintf(stderr, "leads: KMeans, %d clusters, inertia %.6g, %d iterations%s (%.2f s)\n", km->k,
            km->inertia, km->iterations, km->converged ? "" : " (--kmeans-max-iter reached)", s);
  return GR_OK;
}

gr_status gr_leads_fit_models(gr_context *ctx, const gr_leads_data *dt, const gr_kmeans_result *km,
                              const uint8_t *client, const gr_leads_params *p, int warn,
                              gr_leads_model **out, gr_leads_timings *tm) {
  GR_TRY(check_params(p));
  const int64_t n = dt->n;
  const int d = dt->d, k = km->k;
  int64_t n_clients = 0;
  GR_TRY(count_clients(client, n, &n_clients));
  const int verbose = ctx->opts.verbose;
  gr_leads_model *m = calloc(1, sizeof *m);
  if (!m) return gr_fail(GR_ERR_NOMEM, "cannot allocate the leads model");
  m->params = *p;
  gr_id_map_init(&m->clients);
  m->d = d;
  m->k = k;
  m->conv.kmeans_iterations = km->iterations;
  m->conv.kmeans_converged = km->converged;
  float *gap = NULL;
  int32_t *a = NULL, *b = NULL;
  uint8_t *yt = NULL;
  int64_t *seg = NULL;
  gr_logreg_model *fitted = NULL;
  int n_groups = 0;
  group *groups = malloc(sizeof *groups * ((size_t)k + 1));
  seg = malloc(sizeof(int64_t) * ((size_t)k + 2));
  m->centroids = malloc(sizeof(float) * (size_t)k * (size_t)d);
  m->models = calloc((size_t)k + 1, sizeof *m->models);
  m->model_of = malloc(sizeof(int32_t) * (size_t)k);
  m->cluster_rows = calloc((size_t)k, sizeof(int64_t));
  m->cluster_clients = calloc((size_t)k, sizeof(int64_t));
  gr_status st = GR_OK;
  if (!m->centroids || !m->models || !m->model_of || !m->cluster_rows || !m->cluster_clients ||
      !groups || !seg) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate the per-cluster models");
    goto done;
  }
  memcpy(m->centroids, km->centroids, sizeof(float) * (size_t)k * (size_t)d);
  for (int64_t r = 0; r < n; r++) {
    m->cluster_rows[km->labels[r]]++;
    m->cluster_clients[km->labels[r]] += client[r] != 0;
  }

  /* SMOTE interpolates between two clients, so it needs two per cluster */
  const int64_t min_clients = p->balance == GR_BALANCE_SMOTE ? 2 : 1;
  int need_global = 0;
  for (int c = 0; c < k; c++) {
    const int64_t rows = m->cluster_rows[c], cl = m->cluster_clients[c];
    if (cl >= min_clients && rows - cl >= 1) {
      groups[n_groups++] = (group){c, rows, cl, 0};
      m->model_of[c] = c;
    } else {
      m->model_of[c] = k;
      need_global = 1;
    }
  }
  if (need_global) groups[n_groups++] = (group){-1, n, n_clients, 0};
  for (int c = 0; verbose && c < k; c++)
    fprintf(stderr, "leads:   cluster %d: %lld companies, %lld clients%s\n", c,
            (long long)m->cluster_rows[c], (long long)m->cluster_clients[c],
            m->model_of[c] == k
                ? ": too few clients for a model of its own, scored by the global model"
                : "");
  seg[0] = 0;
  int64_t n_synthetic = 0;
  for (int g = 0; g < n_groups; g++) {
    const int64_t others = groups[g].rows - groups[g].clients;
    if (p->balance == GR_BALANCE_SMOTE && groups[g].clients >= 2 && others > groups[g].clients)
      groups[g].synthetic = others - groups[g].clients;
    n_synthetic += groups[g].synthetic;
    seg[g + 1] = seg[g] + groups[g].rows + groups[g].synthetic;
  }
  double t0 = gr_now_seconds();
  const size_t n_train = (size_t)seg[n_groups];
  a = malloc(sizeof(int32_t) * n_train);
  b = malloc(sizeof(int32_t) * n_train);
  gap = malloc(sizeof(float) * n_train);
  yt = malloc(n_train);
  fitted = calloc((size_t)n_groups, sizeof *fitted);
  if (!a || !b || !gap || !yt || !fitted) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate the training sets (%lld rows)",
                 (long long)seg[n_groups]);
    goto done;
  }
  for (int g = 0; g < n_groups && st == GR_OK; g++)
    st = fill_group(ctx, &groups[g], g, dt->X, client, km->labels, n, d, p, a + seg[g], b + seg[g],
                    gap + seg[g], yt + seg[g]);
  if (st != GR_OK) goto done;
  const double balance_s = gr_now_seconds() - t0;
  if (verbose)
    fprintf(stderr, "leads: %d training sets, %lld rows (%lld synthetic by %s) (%.2f s)\n",
            n_groups, (long long)seg[n_groups], (long long)n_synthetic, gr_balance_name(p->balance),
            balance_s);

  t0 = gr_now_seconds();
  gr_logreg_params lp = p->logreg;
  lp.balanced = p->balance == GR_BALANCE_WEIGHT;
  lp.packed = dt->packed;
  const gr_logreg_rows rows = {dt->X, n, a, b, gap};
  GR_CHECK_GOTO(st, gr_logreg_fit_groups_rows(ctx, &rows, yt, NULL, seg, n_groups, d, &lp, fitted),
                done);
  const double logreg_s = gr_now_seconds() - t0;
  for (int g = 0; g < n_groups; g++) {
    const int slot = groups[g].cluster < 0 ? k : groups[g].cluster;
    /* balancing raised the clients' odds by others / clients: undo it */
    const int64_t others = groups[g].rows - groups[g].clients;
    if (p->prior_correction && p->balance != GR_BALANCE_NONE && others > groups[g].clients)
      fitted[g].b += log((double)groups[g].clients / (double)others);
    m->models[slot] = fitted[g];
    fitted[g].w = NULL;
  }
  report_models(m, &p->logreg, n_groups, need_global, logreg_s, verbose, warn);
  if (tm) {
    tm->balance = balance_s;
    tm->logreg = logreg_s;
  }

done:
  free(a);
  free(b);
  free(gap);
  free(yt);
  free(groups);
  free(seg);
  if (fitted)
    for (int g = 0; g < n_groups; g++)
      gr_logreg_model_free(&fitted[g]);
  free(fitted);
  if (st != GR_OK) {
    gr_leads_model_free(m);
    return st;
  }
  *out = m;
  return GR_OK;
}

gr_status gr_leads_fit(gr_context *ctx, const gr_table *market, const uint8_t *client,
                       const gr_leads_params *p, gr_leads_model **out, float **X_out,
                       int32_t **cluster_out, gr_leads_timings *tm) {
  GR_TRY(check_params(p));
  if (market->id_col < 0) return gr_fail(GR_ERR_INVALID_ARG, "the market table has no id column");
  const int64_t n = market->n_rows;
  int64_t n_clients = 0; /* refused here, before the encoding and KMeans */
  GR_TRY(count_clients(client, n, &n_clients));
  gr_leads_timings t = {0};
  gr_leads_data dt;
  gr_kmeans_result km = {0};
  gr_leads_model *m = NULL;
  GR_TRY(gr_leads_encode(ctx, market, &p->encoder, &dt, &t.encode));
  gr_status st = gr_leads_cluster(ctx, &dt, &p->kmeans, &km, &t.kmeans);
  if (st == GR_OK) st = gr_leads_fit_models(ctx, &dt, &km, client, p, 1, &m, &t);
  if (st == GR_OK) {
    m->enc = dt.enc; /* scoring applies the same transform */
    dt.enc = NULL;
  }
  const gr_column *id = &market->cols[market->id_col];
  for (int64_t r = 0; r < n && st == GR_OK; r++)
    if (client[r]) {
      const char *s = gr_id_map_get(&id->levels, id->level[r]);
      int32_t idx;
      st = gr_id_map_intern(&m->clients, s, strlen(s), &idx);
    }
  if (st == GR_OK && cluster_out) {
    *cluster_out = km.labels;
    km.labels = NULL;
  }
  gr_kmeans_result_free(&km);
  if (st == GR_OK && X_out) {
    *X_out = dt.X;
    dt.X = NULL;
  }
  gr_leads_data_free(ctx, &dt);
  if (st != GR_OK) {
    gr_leads_model_free(m);
    return st;
  }
  if (tm) {
    tm->encode = t.encode;
    tm->kmeans = t.kmeans;
    tm->balance = t.balance;
    tm->logreg = t.logreg;
  }
  *out = m;
  return GR_OK;
}
