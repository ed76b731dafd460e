/* Holdout split and evaluation of a trained model. The split works on
 * distinct (user, item) pairs, so that a pair never lands in both sets;
 * each user's share is drawn from a stream seeded by (seed, user), which
 * makes the split independent of row order and thread count. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "als_model.h"
#include "context.h"
#include "csr.h"
#include "eval_data.h"
#include "group_metrics.h"
#include "interactions.h"
#include "metrics.h"
#include "ranking.h"

#define GR_EVAL_BATCH 4096

void gr_eval_options_default(gr_eval_options *o) {
  memset(o, 0, sizeof *o);
  o->k = 10;
  o->test_fraction = 0.2f;
  o->seed = 42;
}

/* One user's distinct pairs: item, summed weight, latest timestamp. */
typedef struct pair {
  int32_t item;
  float weight;
  int64_t time;
} pair;

static int cmp_pair_item(const void *a, const void *b) {
  const pair *x = a, *y = b;
  return (x->item > y->item) - (x->item < y->item);
}

static int cmp_pair_time(const void *a, const void *b) {
  const pair *x = a, *y = b;
  if (x->time != y->time) return (x->time > y->time) - (x->time < y->time);
  return (x->item > y->item) - (x->item < y->item);
}

gr_status gr_split(const gr_interactions *all, const gr_eval_options *opts,
                   gr_interactions **train_out, gr_interactions **test_out) {
  gr_eval_options defaults;
  if (!opts) {
    gr_eval_options_default(&defaults);
    opts = &defaults;
  }
  if (!(opts->test_fraction > 0 && opts->test_fraction < 1))
    return gr_fail(GR_ERR_INVALID_ARG, "--test-fraction must be in (0, 1)");
  if (opts->by_time && !all->timestamp)
    return gr_fail(GR_ERR_INVALID_ARG, "a split by time needs a timestamp column");
  const int32_t n_users = all->users.count;
  int64_t *start = calloc((size_t)n_users + 1, sizeof *start);
  pair *pairs = malloc(sizeof(pair) * (size_t)(all->n ? all->n : 1));
  gr_interactions *train = NULL, *test = NULL;
  gr_status st = (start && pairs) ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the split");
  if (st == GR_OK) st = gr_interactions_create_like(&train, all);
  if (st == GR_OK) st = gr_interactions_create_like(&test, all);
  if (st != GR_OK) goto done;
  /* group events by user (counting sort), keeping input order */
  for (int64_t e = 0; e < all->n; e++)
    start[all->user[e] + 1]++;
  for (int32_t u = 0; u < n_users; u++)
    start[u + 1] += start[u];
  {
    int64_t *fill = malloc(sizeof(int64_t) * (size_t)(n_users ? n_users : 1));
    if (!fill) {
      st = gr_fail(GR_ERR_NOMEM, "cannot allocate the split");
      goto done;
    }
    memcpy(fill, start, sizeof(int64_t) * (size_t)n_users);
    for (int64_t e = 0; e < all->n; e++) {
      const int64_t at = fill[all->user[e]]++;
      pairs[at] = (pair){all->item[e], all->weight[e], all->timestamp ? all->timestamp[e] : 0};
    }
    free(fill);
  }
  for (int32_t u = 0; u < n_users && st == GR_OK; u++) {
    pair *p = pairs + start[u];
    int64_t n = start[u + 1] - start[u];
    /* merge duplicates: sum weights, keep the latest time */
    qsort(p, (size_t)n, sizeof *p, cmp_pair_item);
    int64_t w = 0;
    for (int64_t i = 0; i < n; i++) {
      if (w > 0 && p[w - 1].item == p[i].item) {
        p[w - 1].weight += p[i].weight;
        if (p[i].time > p[w - 1].time) p[w - 1].time = p[i].time;
      } else {
        p[w++] = p[i];
      }
    }
    n = w;
    int64_t n_test = 0;
    if (n >= 2) {
      n_test = (int64_t)llround(opts->test_fraction * (double)n);
      if (n_test < 1) n_test = 1;
      if (n_test > n - 1) n_test = n - 1;
      if (opts->by_time) {
        qsort(p, (size_t)n, sizeof *p, cmp_pair_time); /* latest last */
      } else {
        gr_rng rng;
        gr_rng_seed_stream(&rng, opts->seed, (uint64_t)u);
        for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
          int64_t j = (int64_t)gr_rng_below(&rng, (uint64_t)i + 1);
          pair t = p[i];
          p[i] = p[j];
          p[j] = t;
        }
      }
    }
    for (int64_t i = 0; i < n && st == GR_OK; i++)
      st = gr_interactions_push(i >= n - n_test ? test : train, u, p[i].item, p[i].weight,
                                p[i].time);
  }
done:
  free(start);
  free(pairs);
  if (st != GR_OK) {
    gr_interactions_free(train);
    gr_interactions_free(test);
    return st;
  }
  *train_out = train;
  *test_out = test;
  return GR_OK;
}

/* Removes from `test` the entries present in `train` (same shape). */
static void drop_seen(gr_csr *test, const gr_csr *train) {
  int64_t w = 0;
  for (int64_t r = 0; r < test->n_rows; r++) {
    const int64_t begin = test->indptr[r], end = test->indptr[r + 1];
    int64_t t = train->indptr[r];
    test->indptr[r] = w;
    for (int64_t e = begin; e < end; e++) {
      while (t < train->indptr[r + 1] && train->indices[t] < test->indices[e])
        t++;
      if (t < train->indptr[r + 1] && train->indices[t] == test->indices[e]) continue;
      test->indices[w] = test->indices[e];
      test->data[w++] = test->data[e];
    }
  }
  test->indptr[test->n_rows] = w;
  test->nnz = w;
}

int64_t gr_eval_auc_users(int64_t n_items, int64_t n_eval) {
  int64_t n_auc = (int64_t)(GR_AUC_BUDGET / (double)(n_items ? n_items : 1));
  if (n_auc < 1) n_auc = 1;
  return n_auc > n_eval ? n_eval : n_auc;
}

gr_status gr_eval_data_build(const gr_als_model *m, const gr_interactions *train,
                             const gr_interactions *test, gr_eval_data *out) {
  memset(out, 0, sizeof *out);
  GR_TRY(gr_seen_matrix(m, train, &out->seen));
  int32_t *u, *it;
  gr_status st = gr_als_model_index(m, test, &u, &it, NULL);
  if (st == GR_OK) {
    st = gr_csr_from_coo(&out->test, m->n_users, m->n_items, u, it, test->weight, test->n);
    free(u);
    free(it);
  }
  if (st == GR_OK) {
    drop_seen(&out->test, &out->seen);
    out->users = malloc(sizeof(int32_t) * (size_t)(m->n_users ? m->n_users : 1));
    if (!out->users) st = gr_fail(GR_ERR_NOMEM, "cannot allocate the evaluated users");
  }
  for (int32_t r = 0; st == GR_OK && r < m->n_users; r++)
    if (out->test.indptr[r + 1] > out->test.indptr[r]) out->users[out->n_users++] = r;
  if (st != GR_OK) gr_eval_data_free(out);
  return st;
}

void gr_eval_data_free(gr_eval_data *d) {
  gr_csr_free(&d->seen);
  gr_csr_free(&d->test);
  free(d->users);
  memset(d, 0, sizeof *d);
}

/* Exact per-user ROC AUC for an even sample of the evaluated users. */
static gr_status add_auc(const gr_als_model *m, const gr_csr *train, const gr_csr *test,
                         const int32_t *users, int64_t n_eval, int n_threads,
                         gr_metric_sums *sums) {
  const int k = m->params.factors;
  const int64_t n_items = m->n_items;
  const int64_t n_auc = gr_eval_auc_users(n_items, n_eval);
  const int64_t batch = 256;
  float *scores = malloc(sizeof(float) * (size_t)batch * (size_t)n_items);
  float *q = malloc(sizeof(float) * (size_t)batch * k);
  double *auc = malloc(sizeof(double) * (size_t)batch);
  if (!scores || !q || !auc) {
    free(scores);
    free(q);
    free(auc);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate AUC scores");
  }
  for (int64_t b0 = 0; b0 < n_auc; b0 += batch) {
    const int64_t nb = n_auc - b0 < batch ? n_auc - b0 : batch;
    for (int64_t j = 0; j < nb; j++) {
      const int32_t u = users[(b0 + j) * n_eval / n_auc]; /* evenly spaced */
      memcpy(q + (size_t)j * k, m->user_factors + (size_t)u * k, sizeof(float) * (size_t)k);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)n_items, k, 1.0f, q, k,
                m->item_factors, k, 0.0f, scores, (int)n_items);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (int64_t j = 0; j < nb; j++) {
      const int32_t u = users[(b0 + j) * n_eval / n_auc];
      auc[j] = gr_user_auc(scores + (size_t)j * n_items, n_items, train->indices + train->indptr[u],
                           train->indptr[u + 1] - train->indptr[u], test->indices + test->indptr[u],
                           test->indptr[u + 1] - test->indptr[u]);
    }
    for (int64_t j = 0; j < nb; j++) {
      if (isnan(auc[j])) continue;
      sums->auc += auc[j];
      sums->n_auc_users++;
    }
  }
  free(scores);
  free(q);
  free(auc);
  return GR_OK;
}

gr_status gr_als_evaluate(gr_context *ctx, const gr_als_model *m, const gr_interactions *train,
                          const gr_interactions *test, int k, gr_metrics *out) {
  return gr_als_evaluate_grouped(ctx, m, train, test, k, NULL, out);
}

gr_status gr_als_evaluate_grouped(gr_context *ctx, const gr_als_model *m,
                                  const gr_interactions *train, const gr_interactions *test, int k,
                                  gr_group_sums *groups, gr_metrics *out) {
  if (k < 1 || k > GR_TOPK_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "--k must be in 1..%d", GR_TOPK_MAX);
  gr_eval_data ed = {0};
  int32_t *ranked = NULL;
  float *scores = NULL;
  uint8_t *shown = NULL; /* (n_items) in some top k */
  gr_metric_sums sums = {0};
  gr_status st;
  GR_CHECK_GOTO(st, gr_eval_data_build(m, train, test, &ed), done);
  const gr_csr tr = ed.seen, te = ed.test;
  const int32_t *users = ed.users;
  const int64_t n_eval = ed.n_users;
  ranked = malloc(sizeof(int32_t) * (size_t)GR_EVAL_BATCH * k);
  scores = malloc(sizeof(float) * (size_t)GR_EVAL_BATCH * k);
  shown = calloc((size_t)m->n_items + 1, 1);
  if (!ranked || !scores || !shown) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate evaluation buffers");
    goto done;
  }
  for (int64_t b0 = 0; b0 < n_eval; b0 += GR_EVAL_BATCH) {
    const int64_t nb = n_eval - b0 < GR_EVAL_BATCH ? n_eval - b0 : GR_EVAL_BATCH;
    GR_CHECK_GOTO(st,
                  gr_rank_items(ctx, m->user_factors, m->n_users, users + b0, nb, m->item_factors,
                                m->n_items, m->params.factors, &tr, NULL, k, ranked, scores),
                  done);
    for (int64_t j = 0; j < nb; j++) {
      const int32_t u = users[b0 + j];
      for (int r = 0; r < k; r++)
        if (ranked[(size_t)j * k + r] >= 0) shown[ranked[(size_t)j * k + r]] = 1;
      gr_metrics_add_user(&sums, ranked + (size_t)j * k, k, te.indices + te.indptr[u],
                          te.indptr[u + 1] - te.indptr[u]);
      if (groups)
        gr_group_sums_add_user(groups, ranked + (size_t)j * k, k, te.indices + te.indptr[u],
                               te.indptr[u + 1] - te.indptr[u], tr.indices + tr.indptr[u],
                               tr.indptr[u + 1] - tr.indptr[u]);
    }
  }
  if (n_eval > 0)
    GR_CHECK_GOTO(st, add_auc(m, &tr, &te, users, n_eval, ctx->be->n_threads, &sums), done);
  gr_metrics_finish(&sums, k, out);
  int64_t n_shown = 0;
  for (int32_t i = 0; i < m->n_items; i++)
    n_shown += shown[i];
  out->coverage = m->n_items ? (double)n_shown / m->n_items : 0.0;
done:
  gr_eval_data_free(&ed);
  free(ranked);
  free(scores);
  free(shown);
  return st;
}
