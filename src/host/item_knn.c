/* Item-item cosine neighbours and their evaluation; see item_knn.h.
 *
 * The similarities of item i are the dot products of its user column with
 * every other column, found through i's users' rows (sum over users of the
 * squared history length in all), accumulated in a dense array per thread
 * in a fixed order (users ascending, then their items), so every value is
 * the same on any number of threads. The best K (or k) of a list are kept
 * in a small heap whose root is the worst kept: the lower value, and of
 * equal values the higher index. */
#include "item_knn.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "context.h"
#include "eval_data.h"
#include "metrics.h"
#include "ranking.h"

// ---- the best n of a stream of (value, index) --------------------------------

typedef struct best_heap {
  double *v;
  int32_t *idx;
  int size, cap;
} best_heap;

/* a is worse than b: lower, or equal and later */
static int worse(double va, int32_t ia, double vb, int32_t ib) {
  return va < vb || (va == vb && ia > ib);
}

static void sift_down(best_heap *h, int at) {
  for (;;) {
    int w = at;
    const int l = 2 * at + 1, r = l + 1;
    if (l < h->size && worse(h->v[l], h->idx[l], h->v[w], h->idx[w])) w = l;
    if (r < h->size && worse(h->v[r], h->idx[r], h->v[w], h->idx[w])) w = r;
    if (w == at) return;
    const double tv = h->v[at];
    const int32_t ti = h->idx[at];
    h->v[at] = h->v[w];
    h->idx[at] = h->idx[w];
    h->v[w] = tv;
    h->idx[w] = ti;
    at = w;
  }
}

static void offer(best_heap *h, double v, int32_t idx) {
  if (h->size < h->cap) {
    int at = h->size++;
    while (at > 0) { /* sift up */
      const int up = (at - 1) / 2;
      if (!worse(v, idx, h->v[up], h->idx[up])) break;
      h->v[at] = h->v[up];
      h->idx[at] = h->idx[up];
      at = up;
    }
    h->v[at] = v;
    h->idx[at] = idx;
  } else if (h->cap > 0 && worse(h->v[0], h->idx[0], v, idx)) {
    h->v[0] = v;
    h->idx[0] = idx;
    sift_down(h, 0);
  }
}

/* Empties the heap into out (best first); @return how many. */
static int drain(best_heap *h, int32_t *out_idx, double *out_v) {
  const int n = h->size;
  for (int end = n - 1; end >= 0; end--) { /* the worst comes out first */
    out_idx[end] = h->idx[0];
    if (out_v) out_v[end] = h->v[0];
    h->v[0] = h->v[h->size - 1];
    h->idx[0] = h->idx[h->size - 1];
    h->size--;
    sift_down(h, 0);
  }
  return n;
}

// ---- fitting -----------------------------------------------------------------

gr_status gr_item_knn_fit(const gr_csr *ui, int K, int n_threads, gr_item_knn *out) {
  memset(out, 0, sizeof *out);
  if (K < 1 || K > GR_ITEM_KNN_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "item kNN: neighbours must be in 1..%d, got %d",
                   GR_ITEM_KNN_MAX, K);
  if (n_threads < 1) n_threads = 1;
  const int32_t n_items = (int32_t)ui->n_cols;
  gr_csr iu = {0};
  GR_TRY(gr_csr_transpose(&iu, ui));
  double *norm = malloc(sizeof(double) * (size_t)(n_items ? n_items : 1));
  int32_t *kept_idx = malloc(sizeof(int32_t) * (size_t)(n_items ? n_items : 1) * K);
  float *kept_sim = malloc(sizeof(float) * (size_t)(n_items ? n_items : 1) * K);
  int *n_kept = calloc((size_t)(n_items ? n_items : 1), sizeof(int));
  gr_status st =
      norm && kept_idx && kept_sim && n_kept
          ? GR_OK
          : gr_fail(GR_ERR_NOMEM, "item kNN: cannot allocate %d x %d neighbours", n_items, K);
  for (int32_t i = 0; st == GR_OK && i < n_items; i++) {
    double s = 0.0;
    for (int64_t e = iu.indptr[i]; e < iu.indptr[i + 1]; e++)
      s += (double)iu.data[e] * iu.data[e];
    norm[i] = sqrt(s);
  }
  int failed = 0;
  if (st == GR_OK) {
#pragma omp parallel num_threads(n_threads) reduction(| : failed)
    {
      double *acc = calloc((size_t)(n_items ? n_items : 1), sizeof(double));
      int32_t *touched = malloc(sizeof(int32_t) * (size_t)(n_items ? n_items : 1));
      best_heap h = {malloc(sizeof(double) * K), malloc(sizeof(int32_t) * K), 0, K};
      double *best_v = malloc(sizeof(double) * K);
      failed = !acc || !touched || !h.v || !h.idx || !best_v;
#pragma omp for schedule(dynamic, 64)
      for (int32_t i = 0; i < n_items; i++) {
        if (failed || norm[i] == 0.0) continue;
        int64_t n_touched = 0;
        for (int64_t e = iu.indptr[i]; e < iu.indptr[i + 1]; e++) {
          const int64_t u = iu.indices[e];
          const double w = iu.data[e];
          for (int64_t f = ui->indptr[u]; f < ui->indptr[u + 1]; f++) {
            const int32_t j = ui->indices[f];
            if (acc[j] == 0.0) touched[n_touched++] = j;
            acc[j] += w * ui->data[f];
          }
        }
        for (int64_t t = 0; t < n_touched; t++) {
          const int32_t j = touched[t];
          if (norm[j] > 0.0) offer(&h, acc[j] / (norm[i] * norm[j]), j);
          acc[j] = 0.0;
        }
        n_kept[i] = drain(&h, kept_idx + (size_t)i * K, best_v);
        for (int q = 0; q < n_kept[i]; q++)
          kept_sim[(size_t)i * K + q] = (float)best_v[q];
      }
      free(acc);
      free(touched);
      free(h.v);
      free(h.idx);
      free(best_v);
    }
  }
  if (st == GR_OK && failed) st = gr_fail(GR_ERR_NOMEM, "item kNN: cannot allocate thread buffers");
  int64_t nnz = 0;
  for (int32_t i = 0; st == GR_OK && i < n_items; i++)
    nnz += n_kept[i];
  if (st == GR_OK) {
    gr_csr *s = &out->sim;
    s->n_rows = s->n_cols = n_items;
    s->nnz = nnz;
    s->indptr = malloc(sizeof(int64_t) * ((size_t)n_items + 1));
    s->indices = malloc(sizeof(int32_t) * (size_t)(nnz ? nnz : 1));
    s->data = malloc(sizeof(float) * (size_t)(nnz ? nnz : 1));
    if (!s->indptr || !s->indices || !s->data) {
      st = gr_fail(GR_ERR_NOMEM, "item kNN: cannot allocate %lld similarities", (long long)nnz);
    } else {
      s->indptr[0] = 0;
      for (int32_t i = 0; i < n_items; i++) {
        const int64_t at = s->indptr[i];
        memcpy(s->indices + at, kept_idx + (size_t)i * K, sizeof(int32_t) * (size_t)n_kept[i]);
        memcpy(s->data + at, kept_sim + (size_t)i * K, sizeof(float) * (size_t)n_kept[i]);
        s->indptr[i + 1] = at + n_kept[i];
      }
    }
  }
  out->n_items = n_items;
  out->K = K;
  gr_csr_free(&iu);
  free(norm);
  free(kept_idx);
  free(kept_sim);
  free(n_kept);
  if (st != GR_OK) gr_item_knn_free(out);
  return st;
}

void gr_item_knn_free(gr_item_knn *knn) {
  if (!knn) return;
  gr_csr_free(&knn->sim);
  memset(knn, 0, sizeof *knn);
}

int64_t gr_item_knn_scores(const gr_item_knn *knn, const int32_t *items, const float *weights,
                           int64_t n, double *dense, int32_t *touched) {
  const gr_csr *s = &knn->sim;
  int64_t n_touched = 0;
  for (int64_t e = 0; e < n; e++) {
    const int32_t j = items[e];
    const double w = weights ? weights[e] : 1.0;
    for (int64_t f = s->indptr[j]; f < s->indptr[j + 1]; f++) {
      const int32_t c = s->indices[f];
      if (dense[c] == 0.0) touched[n_touched++] = c;
      dense[c] += w * s->data[f];
    }
  }
  return n_touched;
}

// ---- evaluation --------------------------------------------------------------

#define KNN_EVAL_BATCH 1024

/* One user's top k (ranked, -1 padded) from the scores of their history,
 * seen items left out; dense is left as it was found (zeros), or, with
 * auc_scores, also copied there as floats for the AUC. */
static void rank_user(const gr_item_knn *knn, const gr_csr *hist, const gr_csr *seen, int32_t u,
                      int k, double *dense, int32_t *touched, best_heap *h, int32_t *ranked,
                      float *auc_scores) {
  const int64_t n_t =
      gr_item_knn_scores(knn, hist->indices + hist->indptr[u], hist->data + hist->indptr[u],
                         hist->indptr[u + 1] - hist->indptr[u], dense, touched);
  const int32_t *sv = seen->indices + seen->indptr[u];
  const int64_t n_seen = seen->indptr[u + 1] - seen->indptr[u];
  for (int64_t t = 0; t < n_t; t++) {
    const int32_t c = touched[t];
    /* seen items are sorted: a binary search */
    int64_t lo = 0, hi = n_seen;
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (sv[mid] < c)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (!(lo < n_seen && sv[lo] == c)) offer(h, dense[c], c);
    if (auc_scores) auc_scores[c] = (float)dense[c];
  }
  const int got = drain(h, ranked, NULL);
  for (int r = got; r < k; r++)
    ranked[r] = -1;
  for (int64_t t = 0; t < n_t; t++)
    dense[touched[t]] = 0.0;
}

gr_status gr_item_knn_evaluate(gr_context *ctx, const gr_als_model *like,
                               const gr_interactions *train, const gr_interactions *test, int K,
                               int k, gr_metrics *out) {
  if (k < 1 || k > GR_ITEM_KNN_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "--k must be in 1..%d", GR_ITEM_KNN_MAX);
  const int n_threads = gr_context_host_threads(ctx);
  const int32_t n_items = like->n_items;
  gr_eval_data ed = {0};
  gr_csr hist = {0};
  gr_item_knn knn = {0};
  int32_t *ranked = malloc(sizeof(int32_t) * KNN_EVAL_BATCH * (size_t)k);
  uint8_t *shown = calloc((size_t)n_items + 1, 1);
  gr_metric_sums sums = {0};
  gr_status st = ranked && shown ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate the ranking");
  if (st == GR_OK) st = gr_eval_data_build(like, train, test, &ed);
  if (st == GR_OK) st = gr_history_matrix(like, train, 0, &hist);
  if (st == GR_OK) st = gr_item_knn_fit(&hist, K, n_threads, &knn);
  const int64_t n_eval = ed.n_users, n_auc = gr_eval_auc_users(n_items, n_eval);
  double *auc = malloc(sizeof(double) * KNN_EVAL_BATCH);
  if (st == GR_OK && !auc) st = gr_fail(GR_ERR_NOMEM, "cannot allocate the AUCs");
  int failed = 0;
  for (int64_t b0 = 0; st == GR_OK && b0 < n_eval; b0 += KNN_EVAL_BATCH) {
    const int64_t nb = n_eval - b0 < KNN_EVAL_BATCH ? n_eval - b0 : KNN_EVAL_BATCH;
#pragma omp parallel num_threads(n_threads) reduction(| : failed)
    {
      double *dense = calloc((size_t)(n_items ? n_items : 1), sizeof(double));
      int32_t *touched = malloc(sizeof(int32_t) * (size_t)(n_items ? n_items : 1));
      float *scores = calloc((size_t)(n_items ? n_items : 1), sizeof(float));
      best_heap h = {malloc(sizeof(double) * k), malloc(sizeof(int32_t) * k), 0, k};
      failed = !dense || !touched || !scores || !h.v || !h.idx;
#pragma omp for schedule(dynamic, 16)
      for (int64_t j = 0; j < nb; j++) {
        if (failed) continue;
        const int64_t i = b0 + j;
        const int32_t u = ed.users[i];
        /* the AUC's even sample, as the model's evaluation draws it */
        const int64_t first =
            (i * n_auc + n_eval - 1) / n_eval; /* smallest q: q * n_eval / n_auc >= i */
        const int in_auc = first < n_auc && first * n_eval / n_auc == i;
        rank_user(&knn, &hist, &ed.seen, u, k, dense, touched, &h, ranked + (size_t)j * k,
                  in_auc ? scores : NULL);
        auc[j] = NAN;
        if (in_auc) {
          auc[j] = gr_user_auc(scores, n_items, ed.seen.indices + ed.seen.indptr[u],
                               ed.seen.indptr[u + 1] - ed.seen.indptr[u],
                               ed.test.indices + ed.test.indptr[u],
                               ed.test.indptr[u + 1] - ed.test.indptr[u]);
          memset(scores, 0, sizeof(float) * (size_t)n_items);
        }
      }
      free(dense);
      free(touched);
      free(scores);
      free(h.v);
      free(h.idx);
    }
    if (failed) st = gr_fail(GR_ERR_NOMEM, "item kNN: cannot allocate thread buffers");
    for (int64_t j = 0; st == GR_OK && j < nb; j++) { /* in user order: the same sums anywhere */
      const int32_t u = ed.users[b0 + j];
      for (int r = 0; r < k; r++)
        if (ranked[(size_t)j * k + r] >= 0) shown[ranked[(size_t)j * k + r]] = 1;
      gr_metrics_add_user(&sums, ranked + (size_t)j * k, k, ed.test.indices + ed.test.indptr[u],
                          ed.test.indptr[u + 1] - ed.test.indptr[u]);
      if (!isnan(auc[j])) {
        sums.auc += auc[j];
        sums.n_auc_users++;
      }
    }
  }
  if (st == GR_OK) {
    gr_metrics_finish(&sums, k, out);
    int64_t n_shown = 0;
    for (int32_t i = 0; i < n_items; i++)
      n_shown += shown[i];
    out->coverage = n_items ? (double)n_shown / n_items : 0.0;
  }
  free(auc);
  free(ranked);
  free(shown);
  gr_item_knn_free(&knn);
  gr_csr_free(&hist);
  gr_eval_data_free(&ed);
  return st;
}
