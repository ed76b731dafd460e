/* The leads engine: given a market table of companies and the ids of a
 * client portfolio, rank the rest of the market by how likely each company
 * is to become a client. The pipeline follows the notebook it replaces:
 * encode the table (encoder.h), cluster it with KMeans (kmeans.h), fit one
 * L2 logistic regression per cluster on clients vs the rest (balanced by
 * SMOTE or class weights), score every company with its cluster's model,
 * and rank with the shared top-k. A cluster with too few clients (or too
 * few others) scores with a global model fitted on the whole market. */
#ifndef GR_HOST_LEADS_H
#define GR_HOST_LEADS_H

#include <stdint.h>

#include "encoder.h"
#include "gpurec.h"
#include "id_map.h"
#include "kmeans.h"
#include "logreg.h"
#include "table.h"

typedef enum gr_balance {
  GR_BALANCE_SMOTE = 0,  /* synthetic clients until both classes are equal */
  GR_BALANCE_WEIGHT = 1, /* class_weight="balanced" */
  GR_BALANCE_NONE = 2,
} gr_balance;

/* @return 0 and *out for "smote", "weight" or "none"; -1 otherwise. */
int gr_balance_parse(const char *s, gr_balance *out);
const char *gr_balance_name(gr_balance b);

typedef struct gr_leads_params {
  gr_encoder_options encoder;
  gr_kmeans_params kmeans; /* default k = 8, n_init = 1 */
  gr_balance balance;      /* default SMOTE */
  int smote_k;             /* SMOTE neighbours, default 5 */
  gr_logreg_params logreg; /* default C = 1 */
  uint64_t seed;           /* SMOTE's samples; default 42 */
  /* 1 (default): after balancing, shift each model's intercept by
   * log(clients / others) of its training rows (King and Zeng's prior
   * correction), so that probabilities keep each cluster's own base rate
   * and compare across clusters; 0: every balanced model assumes 50%. */
  int prior_correction;
} gr_leads_params;

void gr_leads_params_default(gr_leads_params *p);

/* Seconds spent per stage (filled by fit and score). */
typedef struct gr_leads_timings {
  double encode, kmeans, balance, logreg, score, rank;
} gr_leads_timings;

/* How the fit's iterations ended: filled by gr_leads_fit, zeros in a model
 * loaded from a file. */
typedef struct gr_leads_convergence {
  int kmeans_iterations;
  int kmeans_converged; /* 1: the centers moved within tol; 0: --kmeans-max-iter came first */
  int models;           /* logistic regressions fitted */
  int models_converged; /* of them, those that stopped by convergence (gr_logreg_converged) */
  double max_grad_norm; /* the largest final max |gradient| among them */
} gr_leads_convergence;

typedef struct gr_leads_model {
  gr_leads_params params;
  gr_encoder *enc;
  int k, d;                /* clusters, features */
  float *centroids;        /* (k, d) */
  gr_logreg_model *models; /* (k + 1): per cluster, then the global one (w NULL if unused) */
  int32_t *model_of;       /* (k): the model cluster c scores with: c, or k for the global one */
  int64_t *cluster_rows;   /* (k) market rows per cluster when fitted */
  int64_t *cluster_clients;
  gr_id_map clients; /* the portfolio ids the model was fitted with */
  gr_leads_convergence conv;
} gr_leads_model;

void gr_leads_model_free(gr_leads_model *m);

/* Fits on a market table whose rows with client[r] = 1 are the portfolio.
 * X_out (optional) receives the encoded market (n, d), cluster_out (optional)
 * each row's cluster: both malloc'ed, owned by the caller, for scoring the
 * same table without encoding it again. */
gr_status gr_leads_fit(gr_context *ctx, const gr_table *market, const uint8_t *client,
                       const gr_leads_params *p, gr_leads_model **out, float **X_out,
                       int32_t **cluster_out, gr_leads_timings *tm);

/* ---- the stages of gr_leads_fit, for many fits on one market (leads tune) -- */

/* The market encoded once: X and its packed copy, which KMeans and every
 * logistic fit read. */
typedef struct gr_leads_data {
  gr_encoder *enc;
  float *X; /* (n, d) */
  int64_t n;
  int d;
  struct gr_packed_rows *packed;
} gr_leads_data;

/* Fits the encoder on the market and encodes it (the fit's "encode" stage). */
gr_status gr_leads_encode(gr_context *ctx, const gr_table *market, const gr_encoder_options *o,
                          gr_leads_data *out, double *seconds);
void gr_leads_data_free(gr_context *ctx, gr_leads_data *dt);

/* KMeans on the encoded market (the clusters do not depend on the clients,
 * so one clustering serves every portfolio, holdout and model setting). */
gr_status gr_leads_cluster(gr_context *ctx, const gr_leads_data *dt, const gr_kmeans_params *kp,
                           gr_kmeans_result *km, double *seconds);

/* The per-cluster models for the clients client[r] = 1 on one clustering:
 * the model has no encoder (enc NULL) and no client ids; p->kmeans is not
 * read. warn: say when a model did not converge (once, on stderr). */
gr_status gr_leads_fit_models(gr_context *ctx, const gr_leads_data *dt, const gr_kmeans_result *km,
                              const uint8_t *client, const gr_leads_params *p, int warn,
                              gr_leads_model **out, gr_leads_timings *tm);

/* Probabilities (n) and clusters (n) of the encoded rows X (n, d); when
 * `cluster` is given it is used, else each row's nearest centroid. */
gr_status gr_leads_score(gr_context *ctx, const gr_leads_model *m, const float *X, int64_t n,
                         const int32_t *cluster_in, float *prob, int32_t *cluster_out);

/* The top `n_top` rows by prob (ties: lower row first), skipping rows with
 * skip[r] = 1 (skip may be NULL) and NaN scores. Missing slots get row -1
 * and score -inf. Up to GR_TOPK_MAX through the backend's top-k, beyond it
 * by gr_leads_rank_sorted. */
gr_status gr_leads_rank(gr_context *ctx, const float *prob, int64_t n, const uint8_t *skip,
                        int n_top, int32_t *out_rows, float *out_scores);

/* The same ranking for any n_top, by sorting every candidate on the host:
 * the path for more leads than the top-k holds. */
gr_status gr_leads_rank_sorted(const float *prob, int64_t n, const uint8_t *skip, int n_top,
                               int32_t *out_rows, float *out_scores);

/* mean (d) = the column means of X (n, d), summed in blocks of fixed rows
 * added in order: the same on any number of threads. */
gr_status gr_feature_means(gr_context *ctx, const float *X, int64_t n, int d, double *mean);

/* Why rows score as they do: with w the row's cluster model and mean the
 * market's average encoded company, each feature's share of the logit is
 * w_j (x_j - mean_j) (exact for a linear model: the shares add up to the
 * row's logit minus the average company's). For each of rows[0..n_rows),
 * the n_top largest positive shares, largest first (equal ones by feature
 * index): out_feat and out_share (n_rows, n_top), unused slots -1 and 0;
 * rows[q] = -1 gives an empty row. n_top <= GR_LEADS_EXPLAIN_MAX. */
#define GR_LEADS_EXPLAIN_MAX 64
gr_status gr_leads_explain(const gr_leads_model *m, const float *X, const double *mean,
                           const int32_t *rows, int n_rows, const int32_t *cluster, int n_top,
                           int32_t *out_feat, float *out_share);

/* Marks client[r] for the market rows whose id is in `ids`; *n_found and
 * *n_missing count the distinct ids found and absent (missing_ids, when not
 * NULL, receives up to 5 of the absent ones, comma separated). */
gr_status gr_leads_mark_clients(const gr_table *market, const gr_table *portfolio, uint8_t *client,
                                int64_t *n_found, int64_t *n_missing, char *missing_ids,
                                size_t cap);

/* ---- evaluation ------------------------------------------------------------ */

#define GR_LEADS_N_CUTS 4
extern const int gr_leads_cuts[GR_LEADS_N_CUTS]; /* 5, 10, 25, 50 */

typedef struct gr_leads_eval {
  int64_t n_train, n_test; /* clients fitted on and held out */
  double map[GR_LEADS_N_CUTS], precision[GR_LEADS_N_CUTS], recall[GR_LEADS_N_CUTS];
  double auc; /* held-out clients against every non-client market row */
  /* In-sample, as the original notebook reported: the clients the model was
   * fitted on, ranked among the whole market. */
  double in_map[GR_LEADS_N_CUTS], in_precision[GR_LEADS_N_CUTS], in_recall[GR_LEADS_N_CUTS];
  double in_auc;
  gr_leads_timings tm;
  gr_leads_convergence conv; /* of the fit on the training clients */
} gr_leads_eval;

/* Holds out test_fraction of the clients (seeded), fits on the rest, and
 * ranks the market without the training clients. test_out (optional, n)
 * receives 1 for the held-out rows. */
gr_status gr_leads_evaluate(gr_context *ctx, const gr_table *market, const uint8_t *client,
                            const gr_leads_params *p, double test_fraction, uint64_t seed,
                            gr_leads_eval *out, uint8_t *test_out);

/* The clients held out of one evaluation: folds = 1, the first
 * llround(test_fraction x clients) (at least 1) of a seeded shuffle of the
 * clients (gr_leads_evaluate's holdout); folds > 1, the fold-th of `folds`
 * near-equal slices of the same shuffle (test_fraction unused), so the
 * folds partition the portfolio. train and test (n) receive the flags;
 * at least one client must be held out and enough left to fit (two with
 * SMOTE). */
gr_status gr_leads_holdout(const uint8_t *client, int64_t n, double test_fraction, int folds,
                           int fold, uint64_t seed, gr_balance balance, uint8_t *train,
                           uint8_t *test, int64_t *n_train, int64_t *n_test);

/* Scores the encoded market X (n, d) with m (rows' clusters given) and fills
 * out's figures, held out and in-sample, and its score and rank seconds. */
gr_status gr_leads_measure(gr_context *ctx, const gr_leads_model *m, const float *X, int64_t n,
                           const int32_t *cluster, const uint8_t *train, const uint8_t *test,
                           gr_leads_eval *out);

/* Fits and evaluates every settings[i] on each fold of the portfolio
 * (gr_leads_holdout: folds = 1 is gr_leads_evaluate's holdout, with
 * test_fraction and eval_seed). The market is encoded once, with
 * settings[0].encoder for all; KMeans runs again only when a setting's
 * clustering differs from the previous setting's, so order settings by
 * clustering. evals (n_settings x folds) receives each fold's figures, with
 * tm.kmeans set on the fold-0 entry of the setting that clustered; n_done
 * counts the settings finished (all of them on GR_OK; fewer when the fit
 * was interrupted or failed), progress (optional) is called after each. */
gr_status gr_leads_tune(gr_context *ctx, const gr_table *market, const uint8_t *client,
                        const gr_leads_params *settings, int n_settings, int folds,
                        double test_fraction, uint64_t eval_seed, gr_leads_eval *evals, int *n_done,
                        void (*progress)(void *user, int setting), void *user);

/* ---- model file ------------------------------------------------------------ */

gr_status gr_leads_model_save(const gr_leads_model *m, const char *path);
gr_status gr_leads_model_load(gr_leads_model **out, const char *path);
gr_status gr_leads_model_load_mem(gr_leads_model **out, const char *name, const void *data,
                                  size_t len);

#endif
