/* Ranked outputs from a trained model: recommendations (items seen in
 * training excluded), similar items (cosine), and factors for a new user. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "als_model.h"
#include "context.h"
#include "csr.h"
#include "interactions.h"
#include "kernels/cpu/cpu_ops.h"
#include "ranking.h"

void gr_recommend_options_default(gr_recommend_options *o) {
  memset(o, 0, sizeof *o);
  o->k = 10;
  o->exclude_seen = 1;
}

gr_status gr_rank_items(gr_context *ctx, const float *queries, int64_t n_query_rows,
                        const int32_t *rows, int64_t n_queries, const float *items, int64_t n_items,
                        int k, const gr_csr *exclude, const uint8_t *allowed, int topk,
                        int32_t *out_idx, float *out_score) {
  gr_backend *be = ctx->be;
  if (topk < 1 || topk > GR_TOPK_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "k must be in 1..%d, got %d", GR_TOPK_MAX, topk);
  if (n_queries == 0) return GR_OK;
  void *dq = NULL, *dy = NULL, *drows = NULL, *dallowed = NULL;
  void *didx = NULL, *dscore = NULL;
  gr_staged_csr dex = {0};
  const size_t out_n = (size_t)n_queries * topk;
  gr_status st;
  GR_CHECK_GOTO(st, gr_stage(be, &dq, queries, sizeof(float) * (size_t)n_query_rows * k), done);
  GR_CHECK_GOTO(st, gr_stage(be, &dy, items, sizeof(float) * (size_t)(n_items ? n_items : 1) * k),
                done);
  if (rows)
    GR_CHECK_GOTO(st, gr_stage(be, &drows, rows, sizeof(int32_t) * (size_t)n_queries), done);
  if (allowed) GR_CHECK_GOTO(st, gr_stage(be, &dallowed, allowed, (size_t)n_items), done);
  if (exclude) {
    gr_csr_view v = gr_csr_view_of(exclude);
    v.data = NULL; /* pattern only */
    GR_CHECK_GOTO(st, gr_stage_csr(be, &dex, &v), done);
  }
  if (be->host_memory) {
    didx = out_idx;
    dscore = out_score;
  } else {
    GR_CHECK_GOTO(st, be->ops->mem_alloc(be, &didx, sizeof(int32_t) * out_n), done);
    GR_CHECK_GOTO(st, be->ops->mem_alloc(be, &dscore, sizeof(float) * out_n), done);
  }
  GR_CHECK_GOTO(st,
                be->ops->topk_dot(be, didx, dscore, dq, drows, n_queries, dy, n_items, k,
                                  exclude ? &dex.view : NULL, dallowed, topk),
                done);
  if (!be->host_memory) {
    GR_CHECK_GOTO(st, be->ops->download(be, out_idx, didx, sizeof(int32_t) * out_n), done);
    GR_CHECK_GOTO(st, be->ops->download(be, out_score, dscore, sizeof(float) * out_n), done);
  }
done:
  gr_unstage(be, dq, queries);
  gr_unstage(be, dy, items);
  gr_unstage(be, drows, rows);
  gr_unstage(be, dallowed, allowed);
  gr_unstage(be, didx, out_idx);
  gr_unstage(be, dscore, out_score);
  if (exclude) gr_unstage_csr(be, &dex);
  return st;
}

gr_status gr_seen_matrix(const gr_als_model *m, const gr_interactions *seen, gr_csr *out) {
  int32_t *u, *it;
  GR_TRY(gr_als_model_index(m, seen, &u, &it, NULL));
  gr_status st = gr_csr_from_coo(out, m->n_users, m->n_items, u, it, NULL, seen->n);
  free(u);
  free(it);
  return st;
}

gr_status gr_history_matrix(const gr_als_model *m, const gr_interactions *x, int own_users,
                            gr_csr *out) {
  int32_t *u, *it;
  GR_TRY(gr_als_model_index(m, x, &u, &it, NULL));
  for (int64_t e = 0; own_users && e < x->n; e++)
    u[e] = it[e] >= 0 ? x->user[e] : -1;
  gr_status st = gr_csr_from_coo(out, own_users ? x->users.count : m->n_users, m->n_items, u, it,
                                 x->weight, x->n);
  free(u);
  free(it);
  return st;
}

gr_status gr_als_recommend(gr_context *ctx, const gr_als_model *m, const int32_t *users,
                           int32_t n_users, const gr_interactions *seen,
                           const gr_recommend_options *opts, int32_t *out_items,
                           float *out_scores) {
  gr_recommend_options defaults;
  if (!opts) {
    gr_recommend_options_default(&defaults);
    opts = &defaults;
  }
  for (int32_t q = 0; q < n_users; q++)
    if (users[q] < 0 || users[q] >= m->n_users)
      return gr_fail(GR_ERR_INVALID_ARG, "user index %d is outside the model (0..%d)", users[q],
                     m->n_users - 1);
  gr_csr excl = {0};
  if (opts->exclude_seen && seen) GR_TRY(gr_seen_matrix(m, seen, &excl));
  gr_status st = gr_rank_items(ctx, m->user_factors, m->n_users, users, n_users, m->item_factors,
                               m->n_items, m->params.factors, excl.indptr ? &excl : NULL,
                               opts->item_allowed, opts->k, out_items, out_scores);
  gr_csr_free(&excl);
  return st;
}

gr_status gr_als_similar(gr_context *ctx, const gr_als_model *m, const int32_t *items,
                         int32_t n_items, int k_top, int include_self, int32_t *out_items,
                         float *out_scores) {
  const int k = m->params.factors;
  for (int32_t q = 0; q < n_items; q++)
    if (items[q] < 0 || items[q] >= m->n_items)
      return gr_fail(GR_ERR_INVALID_ARG, "item index %d is outside the model (0..%d)", items[q],
                     m->n_items - 1);
  /* cosine = dot of unit vectors; zero vectors stay zero */
  float *unit = malloc(sizeof(float) * ((size_t)m->n_items * k + 1));
  if (!unit) return gr_fail(GR_ERR_NOMEM, "cannot allocate normalized item factors");
  for (int64_t i = 0; i < m->n_items; i++) {
    const float *y = m->item_factors + (size_t)i * k;
    double n2 = 0;
    for (int j = 0; j < k; j++)
      n2 += (double)y[j] * y[j];
    const float inv = n2 > 0 ? (float)(1.0 / sqrt(n2)) : 0.0f;
    for (int j = 0; j < k; j++)
      unit[(size_t)i * k + j] = y[j] * inv;
  }
  gr_csr self = {0};
  gr_status st = GR_OK;
  if (!include_self) {
    /* exclusion matrix: row i holds item i */
    int32_t *diag = malloc(sizeof(int32_t) * ((size_t)m->n_items + 1));
    if (!diag) st = gr_fail(GR_ERR_NOMEM, "cannot allocate the self-exclusion list");
    for (int32_t i = 0; st == GR_OK && i < m->n_items; i++)
      diag[i] = i;
    if (st == GR_OK)
      st = gr_csr_from_coo(&self, m->n_items, m->n_items, diag, diag, NULL, m->n_items);
    free(diag);
  }
  if (st == GR_OK)
    st = gr_rank_items(ctx, unit, m->n_items, items, n_items, unit, m->n_items, k,
                       include_self ? NULL : &self, NULL, k_top, out_items, out_scores);
  gr_csr_free(&self);
  free(unit);
  return st;
}

gr_status gr_als_user_factors(const gr_als_model *m, const int32_t *items, const float *weights,
                              int32_t n, float *out) {
  const int k = m->params.factors;
  gr_csr row = {0};
  gr_backend *cpu = NULL;
  gr_status st = gr_als_history_row(m, items, weights, n, &row);
  if (st == GR_OK) st = gr_backend_cpu_create(&cpu, 1);
  if (st == GR_OK) {
    gr_csr_view v = gr_csr_view_of(&row);
    st = gr_cpu_als_solve_cholesky(cpu, out, &v, m->item_factors, m->yty_reg, k);
  }
  if (cpu) cpu->ops->destroy(cpu);
  gr_csr_free(&row);
  return st;
}

/* Row u's factors into factors[u]: zeros for an empty row. */
static gr_status fold_in(const gr_als_model *m, const gr_csr *rows, int32_t u, float *factors) {
  const int k = m->params.factors;
  const int64_t b = rows->indptr[u], n = rows->indptr[u + 1] - b;
  if (n == 0) {
    memset(factors + (size_t)u * k, 0, sizeof(float) * (size_t)k);
    return GR_OK;
  }
  return gr_als_user_factors(m, rows->indices + b, rows->data + b, (int32_t)n,
                             factors + (size_t)u * k);
}

gr_status gr_als_recommend_new_users(gr_context *ctx, const gr_als_model *m,
                                     const gr_interactions *x, const gr_recommend_options *opts,
                                     int32_t *out_items, float *out_scores) {
  gr_recommend_options defaults;
  if (!opts) {
    gr_recommend_options_default(&defaults);
    opts = &defaults;
  }
  const int k = m->params.factors;
  const int32_t n_users = x->users.count;
  int32_t *u_idx = NULL, *i_idx = NULL;
  GR_TRY(gr_als_model_index(m, x, &u_idx, &i_idx, NULL));
  /* rows are x's own users; only the item side maps onto the model */
  for (int64_t e = 0; e < x->n; e++)
    u_idx[e] = i_idx[e] >= 0 ? x->user[e] : -1;
  gr_csr rows = {0};
  float *factors = malloc(sizeof(float) * ((size_t)n_users * k + 1));
  gr_status st = factors ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate new-user factors");
  if (st == GR_OK) st = gr_csr_from_coo(&rows, n_users, m->n_items, u_idx, i_idx, x->weight, x->n);
  /* users in parallel, each solve on one thread: the same factors on any
   * number of threads; the first failing user is solved again here, since
   * error messages are per thread */
  int32_t failed = n_users;
  const int threads = gr_context_host_threads(ctx);
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads) if (st == GR_OK)
  for (int32_t u = 0; u < n_users; u++) {
    int32_t first;
#pragma omp atomic read
    first = failed;
    if (st != GR_OK || u > first) continue;
    if (fold_in(m, &rows, u, factors) != GR_OK) {
#pragma omp critical(gr_fold_in_failed)
      if (u < failed) {
#pragma omp atomic write
        failed = u; /* read atomically above, outside the critical section */
      }
    }
  }
  if (st == GR_OK && failed < n_users) st = fold_in(m, &rows, failed, factors);
  if (st == GR_OK)
    st = gr_rank_items(ctx, factors, n_users, NULL, n_users, m->item_factors, m->n_items, k,
                       opts->exclude_seen ? &rows : NULL, opts->item_allowed, opts->k, out_items,
                       out_scores);
  gr_csr_free(&rows);
  free(factors);
  free(u_idx);
  free(i_idx);
  return st;
}
