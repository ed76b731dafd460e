/* Why an item is recommended: Hu, Koren and Volinsky (2008), section 5.
 * With A = Y^T C^u Y + reg I and the user's exact factors x = A^-1 Y^T C^u p,
 * the score of item i is y_i . x = sum_j c_j (y_i^T A^-1 y_j) over the
 * user's items j: each past item's share of the recommendation. One
 * Cholesky factor of A per user, then per explained item w = A^-1 y_i (two
 * triangular solves) and one dot c_j y_j . w per past item: the cost grows
 * with the history only through those dots. In double: the terms of a sum
 * may cancel. CPU only, like the new-user solve it explains. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "als_model.h"
#include "context.h"
#include "csr.h"
#include "ranking.h"

/* A = U^T U in place (upper triangle, row-major), right-looking: each row
 * of U, once known, updates the rows below it by contiguous axpys, which
 * vectorize. @return 0, or j + 1 when the j-th pivot is not positive. */
static int cholesky_upper(double *A, int k) {
  for (int j = 0; j < k; j++) {
    double *uj = A + (size_t)j * k;
    const double d = uj[j];
    if (!(d > 0.0) || !isfinite(d)) return j + 1;
    const double root = sqrt(d), inv = 1.0 / root;
    uj[j] = root;
#pragma omp simd
    for (int c = j + 1; c < k; c++)
      uj[c] *= inv;
    for (int i = j + 1; i < k; i++) {
      double *ai = A + (size_t)i * k;
      const double f = uj[i];
#pragma omp simd
      for (int c = i; c < k; c++)
        ai[c] -= f * uj[c];
    }
  }
  return 0;
}

/* W = A^-1 Y_t for nt targets at once, A = U^T U, Ut = U^T (row-major):
 * U^T Z = Y, then U W = Z, both as axpys over rows (of U, then of Ut),
 * every step applied to all targets before the next, so that the targets'
 * independent chains overlap instead of each waiting on its last
 * division. W is (nt, k). */
static void chol_solve_many(double *W, const double *U, const double *Ut, const float *Y,
                            const int32_t *targets, int nt, int k) {
  for (int t = 0; t < nt; t++)
    for (int c = 0; c < k; c++)
      W[(size_t)t * k + c] = Y[(size_t)targets[t] * k + c];
  for (int r = 0; r < k; r++) {
    const double *ur = U + (size_t)r * k, inv = 1.0 / ur[r];
    for (int t = 0; t < nt; t++) {
      double *w = W + (size_t)t * k;
      const double z = w[r] * inv;
      w[r] = z;
#pragma omp simd
      for (int c = r + 1; c < k; c++)
        w[c] -= ur[c] * z;
    }
  }
  for (int i = k - 1; i >= 0; i--) {
    const double *li = Ut + (size_t)i * k, inv = 1.0 / li[i]; /* column i of U */
    for (int t = 0; t < nt; t++) {
      double *w = W + (size_t)t * k;
      const double x = w[i] * inv;
      w[i] = x;
#pragma omp simd
      for (int c = 0; c < i; c++)
        w[c] -= li[c] * x;
    }
  }
}

typedef struct share {
  double value;
  int32_t item;
} share;

/* Largest first; equal shares by item index, so the order is one order. */
static int by_share(const void *pa, const void *pb) {
  const share *a = pa, *b = pb;
  if (a->value != b->value) return a->value < b->value ? 1 : -1;
  return (a->item > b->item) - (a->item < b->item);
}

/* The first min(n_top, n) of sh in by_share order, in place: a bounded
 * insertion when few are wanted of many (a long history), else a sort. */
static void top_shares(share *sh, int64_t n, int n_top) {
  if ((int64_t)n_top * 8 >= n) {
    qsort(sh, (size_t)n, sizeof *sh, by_share);
    return;
  }
  int kept = 0; /* sh[0..kept) sorted, the best so far */
  for (int64_t e = 0; e < n; e++) {
    const share v = sh[e];
    if (kept == n_top && by_share(&v, &sh[kept - 1]) >= 0) continue;
    int at = kept < n_top ? kept++ : n_top - 1;
    for (; at > 0 && by_share(&v, &sh[at - 1]) < 0; at--)
      sh[at] = sh[at - 1];
    sh[at] = v;
  }
}

static gr_status check_request(const gr_als_model *m, int32_t n, const int32_t *targets,
                               int32_t n_targets, int n_top) {
  if (n < 1) return gr_fail(GR_ERR_INVALID_ARG, "explain: the user has no items to explain with");
  if (n_top < 1) return gr_fail(GR_ERR_INVALID_ARG, "explain: n_top must be at least 1");
  for (int32_t t = 0; t < n_targets; t++)
    if (targets[t] < 0 || targets[t] >= m->n_items)
      return gr_fail(GR_ERR_INVALID_ARG, "item index %d to explain is outside the model",
                     targets[t]);
  return GR_OK;
}

gr_status gr_als_explain(const gr_als_model *m, const int32_t *items, const float *weights,
                         int32_t n, const int32_t *targets, int32_t n_targets, int n_top,
                         int32_t *out_items, float *out_shares, double *out_scores) {
  GR_TRY(check_request(m, n, targets, n_targets, n_top));
  const int k = m->params.factors;
  gr_csr row = {0}; /* duplicate items summed, weights turned into confidences */
  GR_TRY(gr_als_history_row(m, items, weights, n, &row));
  const int64_t nu = row.nnz;
  double *U = malloc(sizeof(double) * (size_t)k * k);             /* (k, k): A, then U */
  double *Ut = malloc(sizeof(double) * (size_t)k * k);            /* (k, k): U^T */
  double *W = malloc(sizeof(double) * (size_t)n_targets * k + 1); /* (n_targets, k) */
  share *sh = malloc(sizeof(share) * (size_t)nu);                 /* one target's shares */
  gr_status st = GR_OK;
  if (!U || !Ut || !W || !sh) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate the explanation of %lld items", (long long)nu);
    goto done;
  }
  for (size_t e = 0; e < (size_t)k * k; e++)
    U[e] = m->yty_reg[e];
  /* the upper triangle of A, two items per pass over it */
  for (int64_t e = 0; e < nu; e += 2) {
    const int two = e + 1 < nu;
    const float *y0 = m->item_factors + (size_t)row.indices[e] * k;
    const float *y1 = two ? m->item_factors + (size_t)row.indices[e + 1] * k : y0;
    const double x0 = (double)row.data[e] - 1.0, x1 = two ? (double)row.data[e + 1] - 1.0 : 0.0;
    for (int i = 0; i < k; i++) {
      const double s0 = x0 * y0[i], s1 = x1 * y1[i];
      double *ai = U + (size_t)i * k;
#pragma omp simd
      for (int c = i; c < k; c++)
        ai[c] += s0 * y0[c] + s1 * y1[c];
    }
  }
  const int info = cholesky_upper(U, k);
  if (info) {
    st = gr_fail(GR_ERR_NUMERIC,
                 "explain: the user's system is not positive definite (pivot %d of %d); "
                 "confidences below 1 (--confidence-offset 0 with small weights) can cause it",
                 info, k);
    goto done;
  }
  for (int i = 0; i < k; i++)
    for (int c = i; c < k; c++)
      Ut[(size_t)c * k + i] = U[(size_t)i * k + c];
  chol_solve_many(W, U, Ut, m->item_factors, targets, n_targets, k);
  for (int32_t t = 0; t < n_targets; t++) {
    const double *w = W + (size_t)t * k;
    double total = 0.0;
    for (int64_t e = 0; e < nu; e++) {
      const float *y = m->item_factors + (size_t)row.indices[e] * k;
      double dot = 0.0;
#pragma omp simd reduction(+ : dot)
      for (int c = 0; c < k; c++)
        dot += y[c] * w[c];
      sh[e] = (share){row.data[e] * dot, row.indices[e]};
      total += sh[e].value;
    }
    top_shares(sh, nu, n_top);
    for (int r = 0; r < n_top; r++) {
      const size_t slot = (size_t)t * n_top + r;
      out_items[slot] = r < nu ? sh[r].item : -1;
      out_shares[slot] = r < nu ? (float)sh[r].value : 0.0f;
    }
    out_scores[t] = total;
  }
done:
  free(U);
  free(Ut);
  free(W);
  free(sh);
  gr_csr_free(&row);
  return st;
}

/* One query of gr_explain_ranked; its slots are set whatever happens. */
static gr_status explain_query(const gr_als_model *m, const gr_csr *history, int32_t row,
                               const int32_t *idx, int k, int n_top, int32_t *because,
                               float *shares, double *scores) {
  int32_t targets[GR_TOPK_MAX], slot_of[GR_TOPK_MAX];
  int32_t n_targets = 0;
  for (int r = 0; r < k; r++) {
    scores[r] = 0.0;
    for (int s = 0; s < n_top; s++) {
      because[(size_t)r * n_top + s] = -1;
      shares[(size_t)r * n_top + s] = 0.0f;
    }
    if (idx[r] >= 0) {
      slot_of[n_targets] = r;
      targets[n_targets++] = idx[r];
    }
  }
  const int64_t b = history->indptr[row], n = history->indptr[row + 1] - b;
  if (n == 0 || n_targets == 0) return GR_OK;
  if (n > INT32_MAX) return gr_fail(GR_ERR_INVALID_ARG, "a user has more than 2^31 items");
  int32_t *ti = malloc(sizeof(int32_t) * (size_t)n_targets * n_top);
  float *ts = malloc(sizeof(float) * (size_t)n_targets * n_top);
  double *tc = malloc(sizeof(double) * (size_t)n_targets);
  gr_status st = ti && ts && tc ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate an explanation");
  if (st == GR_OK)
    st = gr_als_explain(m, history->indices + b, history->data + b, (int32_t)n, targets, n_targets,
                        n_top, ti, ts, tc);
  for (int32_t t = 0; st == GR_OK && t < n_targets; t++) {
    const int r = slot_of[t];
    memcpy(because + (size_t)r * n_top, ti + (size_t)t * n_top, sizeof(int32_t) * n_top);
    memcpy(shares + (size_t)r * n_top, ts + (size_t)t * n_top, sizeof(float) * n_top);
    scores[r] = tc[t];
  }
  free(ti);
  free(ts);
  free(tc);
  return st;
}

gr_status gr_explain_ranked(gr_context *ctx, const gr_als_model *m, const gr_csr *history,
                            const int32_t *rows, int32_t n, const int32_t *idx, int k, int n_top,
                            int32_t *because, float *shares, double *scores) {
  if (k < 1 || k > GR_TOPK_MAX || n_top < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "explain: k must be in 1..%d and n_top at least 1",
                   GR_TOPK_MAX);
  for (int32_t q = 0; q < n; q++) {
    const int32_t row = rows ? rows[q] : q;
    if (row < 0 || row >= history->n_rows)
      return gr_fail(GR_ERR_INVALID_ARG, "explain: row %d is outside the history", row);
  }
  int32_t failed = n; /* the first failing query */
  const int threads = gr_context_host_threads(ctx);
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (int32_t q = 0; q < n; q++) {
    int32_t first;
#pragma omp atomic read
    first = failed;
    if (q > first) continue;
    const size_t at = (size_t)q * k;
    if (explain_query(m, history, rows ? rows[q] : q, idx + at, k, n_top, because + at * n_top,
                      shares + at * n_top, scores + at) != GR_OK) {
#pragma omp critical(gr_explain_failed)
      if (q < failed) {
#pragma omp atomic write
        failed = q; /* read atomically above, outside the critical section */
      }
    }
  }
  if (failed == n) return GR_OK;
  /* again on this thread: the message is per thread */
  const size_t at = (size_t)failed * k;
  return explain_query(m, history, rows ? rows[failed] : failed, idx + at, k, n_top,
                       because + at * n_top, shares + at * n_top, scores + at);
}
