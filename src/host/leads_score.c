/* Scoring and ranking with a fitted leads model, and matching a portfolio's
 * ids to market rows. Every row scores with its cluster's model (or the
 * global one); the ranking is the backend's shared top-k over the scores
 * as a one-column item matrix, with the portfolio as the excluded set (more
 * leads than the top-k holds: a sort of every candidate on the host). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../kernels/shared_math.h"
#include "context.h"
#include "csr.h"
#include "leads.h"
#include "ranking.h"

gr_status gr_leads_score(gr_context *ctx, const gr_leads_model *m, const float *X, int64_t n,
                         const int32_t *cluster_in, float *prob, int32_t *cluster_out) {
  const int d = m->d;
  int32_t *cl = cluster_out;
  if (cluster_in) {
    for (int64_t r = 0; r < n; r++)
      if (cluster_in[r] < 0 || cluster_in[r] >= m->k)
        return gr_fail(GR_ERR_INVALID_ARG, "row %lld: cluster %d outside 0..%d", (long long)r,
                       cluster_in[r], m->k - 1);
    if (cl) memcpy(cl, cluster_in, sizeof(int32_t) * (size_t)n);
  } else {
    int32_t *tmp = cl ? NULL : malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    if (!cl && !tmp) return gr_fail(GR_ERR_NOMEM, "cannot allocate cluster labels");
    gr_status st = gr_kmeans_predict(ctx, X, n, d, m->centroids, m->k, cl ? cl : tmp);
    if (st != GR_OK) {
      free(tmp);
      return st;
    }
    cluster_in = cl ? cl : tmp;
    cl = tmp; /* freed below when it is ours */
  }
#pragma omp parallel for num_threads(ctx->be->n_threads) schedule(static, 1024)
  for (int64_t r = 0; r < n; r++) /* each row with its cluster's model */
    gr_logreg_predict(&m->models[m->model_of[cluster_in[r]]], X + (size_t)r * d, 1, prob + r);
  if (cl != cluster_out) free(cl);
  return GR_OK;
}

typedef struct scored_row {
  float score;
  int32_t row;
} scored_row;

/* Best first, in the top-k's own order (gr_rank_before: the higher score,
 * then the lower row); NaN never gets here. */
static int best_first(const void *pa, const void *pb) {
  const scored_row *a = pa, *b = pb;
  if (gr_rank_before(a->score, a->row, b->score, b->row)) return -1;
  return gr_rank_before(b->score, b->row, a->score, a->row);
}

gr_status gr_leads_rank_sorted(const float *prob, int64_t n, const uint8_t *skip, int n_top,
                               int32_t *out_rows, float *out_scores) {
  if (n_top < 1) return gr_fail(GR_ERR_INVALID_ARG, "the number of leads must be positive");
  if (n > INT32_MAX) return gr_fail(GR_ERR_INVALID_ARG, "the market has more than 2^31 rows");
  scored_row *all = malloc(sizeof(scored_row) * (size_t)(n ? n : 1));
  if (!all) return gr_fail(GR_ERR_NOMEM, "cannot allocate the ranking of %lld rows", (long long)n);
  int64_t m = 0;
  for (int64_t r = 0; r < n; r++) /* NaN never ranks, as in the top-k */
    if (!(skip && skip[r]) && !isnan(prob[r])) all[m++] = (scored_row){prob[r], (int32_t)r};
  qsort(all, (size_t)m, sizeof *all, best_first);
  for (int i = 0; i < n_top; i++) {
    out_rows[i] = i < m ? all[i].row : -1;
    out_scores[i] = i < m ? all[i].score : -INFINITY;
  }
  free(all);
  return GR_OK;
}

gr_status gr_leads_rank(gr_context *ctx, const float *prob, int64_t n, const uint8_t *skip,
                        int n_top, int32_t *out_rows, float *out_scores) {
  if (n_top < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "the number of leads must be positive, got %d", n_top);
  if (n > INT32_MAX) return gr_fail(GR_ERR_INVALID_ARG, "the market has more than 2^31 rows");
  if (n_top > GR_TOPK_MAX) return gr_leads_rank_sorted(prob, n, skip, n_top, out_rows, out_scores);
  gr_csr excl = {0};
  int64_t n_skip = 0;
  if (skip)
    for (int64_t r = 0; r < n; r++)
      n_skip += skip[r] != 0;
  if (n_skip) {
    excl.n_rows = 1;
    excl.n_cols = n;
    excl.nnz = n_skip;
    excl.indptr = malloc(sizeof(int64_t) * 2);
    excl.indices = malloc(sizeof(int32_t) * (size_t)n_skip);
    if (!excl.indptr || !excl.indices) {
      gr_csr_free(&excl);
      return gr_fail(GR_ERR_NOMEM, "cannot allocate the excluded rows");
    }
    excl.indptr[0] = 0;
    excl.indptr[1] = n_skip;
    int64_t at = 0;
    for (int64_t r = 0; r < n; r++)
      if (skip[r]) excl.indices[at++] = (int32_t)r;
  }
  /* scores as a one-column item matrix, ranked by a query of 1 */
  const float one = 1.0f;
  gr_status st = gr_rank_items(ctx, &one, 1, NULL, 1, prob, n, 1, n_skip ? &excl : NULL, NULL,
                               n_top, out_rows, out_scores);
  gr_csr_free(&excl);
  return st;
}

gr_status gr_feature_means(gr_context *ctx, const float *X, int64_t n, int d, double *mean) {
  enum { BLOCK = 4096 };
  const int64_t n_blocks = (n + BLOCK - 1) / BLOCK;
  double *part = calloc((size_t)(n_blocks ? n_blocks : 1) * (size_t)d, sizeof(double));
  if (!part) return gr_fail(GR_ERR_NOMEM, "cannot allocate feature sums");
#pragma omp parallel for num_threads(gr_context_host_threads(ctx)) schedule(static)
  for (int64_t b = 0; b < n_blocks; b++) {
    double *s = part + (size_t)b * d;
    const int64_t r1 = (b + 1) * BLOCK < n ? (b + 1) * BLOCK : n;
    for (int64_t r = b * BLOCK; r < r1; r++) {
      const float *x = X + (size_t)r * d;
#pragma omp simd
      for (int j = 0; j < d; j++)
        s[j] += x[j];
    }
  }
  for (int j = 0; j < d; j++)
    mean[j] = 0.0;
  for (int64_t b = 0; b < n_blocks; b++)
    for (int j = 0; j < d; j++)
      mean[j] += part[(size_t)b * d + j];
  for (int j = 0; j < d; j++)
    mean[j] = n ? mean[j] / (double)n : 0.0;
  free(part);
  return GR_OK;
}

gr_status gr_leads_explain(const gr_leads_model *m, const float *X, const double *mean,
                           const int32_t *rows, int n_rows, const int32_t *cluster, int n_top,
                           int32_t *out_feat, float *out_share) {
  if (n_top < 1 || n_top > GR_LEADS_EXPLAIN_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "explain: n_top must be in 1..%d", GR_LEADS_EXPLAIN_MAX);
  const int d = m->d;
  for (int q = 0; q < n_rows; q++) {
    int32_t *feat = out_feat + (size_t)q * n_top;
    float *share = out_share + (size_t)q * n_top;
    for (int s = 0; s < n_top; s++) {
      feat[s] = -1;
      share[s] = 0.0f;
    }
    if (rows[q] < 0) continue;
    const int c = cluster[rows[q]];
    if (c < 0 || c >= m->k)
      return gr_fail(GR_ERR_INVALID_ARG, "explain: cluster %d outside 0..%d", c, m->k - 1);
    const gr_logreg_model *lr = &m->models[m->model_of[c]];
    const float *x = X + (size_t)rows[q] * d;
    double best[GR_LEADS_EXPLAIN_MAX]; /* feat[0..kept)'s shares, largest first */
    int kept = 0;
    for (int j = 0; j < d; j++) {
      const double v = lr->w[j] * ((double)x[j] - mean[j]);
      if (!(v > 0) || (kept == n_top && v <= best[kept - 1])) continue;
      int at = kept < n_top ? kept++ : n_top - 1;
      for (; at > 0 && v > best[at - 1]; at--) {
        best[at] = best[at - 1];
        feat[at] = feat[at - 1];
      }
      best[at] = v;
      feat[at] = j;
    }
    for (int s = 0; s < kept; s++)
      share[s] = (float)best[s];
  }
  return GR_OK;
}

gr_status gr_leads_mark_clients(const gr_table *market, const gr_table *portfolio, uint8_t *client,
                                int64_t *n_found, int64_t *n_missing, char *missing_ids,
                                size_t cap) {
  if (market->id_col < 0) return gr_fail(GR_ERR_INVALID_ARG, "the market table has no id column");
  if (portfolio->id_col < 0) return gr_fail(GR_ERR_INVALID_ARG, "the portfolio has no id column");
  if (portfolio->n_rows == 0)
    return gr_fail(GR_ERR_INVALID_ARG, "the portfolio is empty: it lists no client id");
  const gr_column *mid = &market->cols[market->id_col];
  const gr_column *pid = &portfolio->cols[portfolio->id_col];
  /* market ids are unique, so each id level is one row */
  int64_t *row_of = malloc(sizeof(int64_t) * ((size_t)mid->levels.count + 1));
  if (!row_of) return gr_fail(GR_ERR_NOMEM, "cannot allocate the id index");
  for (int64_t r = 0; r < market->n_rows; r++)
    row_of[mid->level[r]] = r;
  memset(client, 0, (size_t)market->n_rows);
  *n_found = *n_missing = 0;
  if (missing_ids && cap) missing_ids[0] = '\0';
  int listed = 0;
  for (int64_t r = 0; r < portfolio->n_rows; r++) {
    const char *s = gr_id_map_get(&pid->levels, pid->level[r]);
    const int32_t l = gr_id_map_find(&mid->levels, s, strlen(s));
    if (l >= 0) {
      client[row_of[l]] = 1;
      (*n_found)++;
      continue;
    }
    (*n_missing)++;
    if (missing_ids && listed < 5) {
      const size_t used = strlen(missing_ids);
      snprintf(missing_ids + used, cap - used, "%s%s", listed ? ", " : "", s);
      listed++;
    }
  }
  free(row_of);
  return GR_OK;
}
