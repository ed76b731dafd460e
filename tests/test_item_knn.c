/* The item kNN baseline: similarities against a brute-force double cosine
 * (the K kept are the K best, ties by index), the same neighbours on 1 and
 * 3 threads, a hand-checked small case, and its evaluation against a
 * brute-force ranking of every user fed to the same metric code, plus
 * planted topics that it must find (far above chance). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/context.h"
#include "host/csr.h"
#include "host/eval_data.h"
#include "host/item_knn.h"
#include "host/metrics.h"
#include "host/ranking.h"
#include "planted.h"
#include "test_util.h"

/* ui as a dense (users, items) double matrix */
static double *dense_of(const gr_csr *ui) {
  double *d = calloc((size_t)ui->n_rows * ui->n_cols, sizeof(double));
  for (int64_t u = 0; u < ui->n_rows; u++)
    for (int64_t e = ui->indptr[u]; e < ui->indptr[u + 1]; e++)
      d[u * ui->n_cols + ui->indices[e]] = ui->data[e];
  return d;
}

/* cos(i, j) of the item columns of dense (users, items) */
static double cosine(const double *d, int64_t n_users, int64_t n_items, int64_t i, int64_t j) {
  double dot = 0, ni = 0, nj = 0;
  for (int64_t u = 0; u < n_users; u++) {
    dot += d[u * n_items + i] * d[u * n_items + j];
    ni += d[u * n_items + i] * d[u * n_items + i];
    nj += d[u * n_items + j] * d[u * n_items + j];
  }
  return ni > 0 && nj > 0 ? dot / sqrt(ni * nj) : 0;
}

static void test_hand(void) {
  /* users x items: u0 {0,1}, u1 {1,2}, u2 {0,2,3}, u3 {3: 2} */
  const int32_t rows[] = {0, 0, 1, 1, 2, 2, 2, 3}, cols[] = {0, 1, 1, 2, 0, 2, 3, 3};
  const float vals[] = {1, 1, 1, 1, 1, 1, 1, 2};
  gr_csr ui = {0};
  CHECK_OK(gr_csr_from_coo(&ui, 4, 4, rows, cols, vals, 8));
  gr_item_knn knn;
  CHECK_OK(gr_item_knn_fit(&ui, 2, 1, &knn));
  /* item 0: itself (1), then items 1 and 2 tie at 0.5: the lower index */
  CHECK(knn.sim.indptr[1] == 2 && knn.sim.indices[0] == 0 && knn.sim.indices[1] == 1);
  CHECK(fabsf(knn.sim.data[0] - 1.0f) < 1e-6f && fabsf(knn.sim.data[1] - 0.5f) < 1e-6f);
  /* item 3: itself, then item 2 (1 / sqrt(2 * 5)), above item 0 (the same: lower index wins) */
  const int64_t a = knn.sim.indptr[3];
  CHECK(knn.sim.indices[a] == 3 && knn.sim.indices[a + 1] == 0);
  CHECK(fabsf(knn.sim.data[a + 1] - (float)(1 / sqrt(10.0))) < 1e-6f);
  /* u0's scores: item 2 gets w(0) sim(0,2) + w(1) sim(1,2) */
  double dense[4] = {0};
  int32_t touched[4];
  const int32_t hist[2] = {0, 1};
  const float w[2] = {1, 1};
  const int64_t n = gr_item_knn_scores(&knn, hist, w, 2, dense, touched);
  CHECK(n >= 2 && dense[0] > 0 && dense[1] > 0);
  gr_item_knn_free(&knn);
  gr_item_knn none;
  CHECK(gr_item_knn_fit(&ui, 0, 1, &none) == GR_ERR_INVALID_ARG);
  CHECK(gr_item_knn_fit(&ui, GR_ITEM_KNN_MAX + 1, 1, &none) == GR_ERR_INVALID_ARG);
  gr_csr_free(&ui);
}

/* random sparse data with repeated weights (many exact ties) */
static void test_against_brute_force(void) {
  enum { U = 300, I = 120, NNZ = 2500, K = 7 };
  gr_rng rng;
  gr_rng_seed(&rng, 3);
  int32_t rows[NNZ], cols[NNZ];
  float vals[NNZ];
  for (int e = 0; e < NNZ; e++) {
    rows[e] = (int32_t)gr_rng_below(&rng, U);
    cols[e] = (int32_t)gr_rng_below(&rng, I - 5); /* the last 5 items have no user */
    vals[e] = (float)(1 + gr_rng_below(&rng, 3));
  }
  gr_csr ui = {0};
  CHECK_OK(gr_csr_from_coo(&ui, U, I, rows, cols, vals, NNZ));
  gr_item_knn one, three;
  CHECK_OK(gr_item_knn_fit(&ui, K, 1, &one));
  CHECK_OK(gr_item_knn_fit(&ui, K, 3, &three));
  CHECK(one.sim.nnz == three.sim.nnz &&
        memcmp(one.sim.indptr, three.sim.indptr, sizeof(int64_t) * (I + 1)) == 0 &&
        memcmp(one.sim.indices, three.sim.indices, sizeof(int32_t) * one.sim.nnz) == 0 &&
        memcmp(one.sim.data, three.sim.data, sizeof(float) * one.sim.nnz) == 0);
  double *d = dense_of(&ui);
  int bad = 0;
  for (int i = 0; i < I; i++) {
    const int64_t b = one.sim.indptr[i], e = one.sim.indptr[i + 1];
    if (i >= I - 5) {
      bad += e != b; /* no users: no neighbours */
      continue;
    }
    /* the K kept are in order, match the cosine, and no other item beats the last */
    int64_t n_pos = 0;
    for (int j = 0; j < I; j++)
      n_pos += cosine(d, U, I, i, j) > 0;
    bad += e - b != (n_pos < K ? n_pos : K);
    for (int64_t q = b; q < e; q++) {
      const double c = cosine(d, U, I, i, one.sim.indices[q]);
      bad += fabs(c - one.sim.data[q]) > 1e-6;
      if (q > b)
        bad +=
            one.sim.data[q] > one.sim.data[q - 1] ||
            (one.sim.data[q] == one.sim.data[q - 1] && one.sim.indices[q] < one.sim.indices[q - 1]);
    }
    if (e - b == K) {
      const double last = cosine(d, U, I, i, one.sim.indices[e - 1]);
      for (int j = 0; j < I; j++) {
        int kept = 0;
        for (int64_t q = b; q < e; q++)
          kept |= one.sim.indices[q] == j;
        const double c = cosine(d, U, I, i, j);
        bad += !kept && (c > last + 1e-9 || (fabs(c - last) <= 1e-9 && j < one.sim.indices[e - 1]));
      }
    }
  }
  CHECK_MSG(bad == 0, "%d differences from the brute-force neighbours", bad);
  free(d);
  gr_item_knn_free(&one);
  gr_item_knn_free(&three);
  gr_csr_free(&ui);
}

/* The evaluation against a brute-force ranking through the same metrics:
 * every user's dense scores, seen items out, sorted (score desc, index). */
static void test_evaluate(void) {
  planted p;
  CHECK(planted_build(&p, 240, 150, 5, 4));
  gr_eval_options o;
  gr_eval_options_default(&o);
  gr_interactions *tr = NULL, *te = NULL;
  CHECK_OK(gr_split(p.x, &o, &tr, &te));
  gr_context *ctx = cpu_test_context(2);
  gr_als_params prm;
  gr_als_params_default(&prm);
  prm.factors = 4;
  prm.iterations = 1;
  gr_als_model *m = NULL;
  CHECK_OK(gr_als_fit(ctx, &prm, tr, NULL, NULL, &m));
  if (!m) return;
  const int k = 10, K = 15;
  gr_metrics got;
  CHECK_OK(gr_item_knn_evaluate(ctx, m, tr, te, K, k, &got));
  /* by hand */
  gr_eval_data ed;
  gr_csr hist = {0};
  gr_item_knn knn;
  CHECK_OK(gr_eval_data_build(m, tr, te, &ed));
  CHECK_OK(gr_history_matrix(m, tr, 0, &hist));
  CHECK_OK(gr_item_knn_fit(&hist, K, 1, &knn));
  const int32_t n_items = m->n_items;
  gr_metric_sums sums = {0};
  double *dense = calloc((size_t)n_items, sizeof(double));
  float *f = malloc(sizeof(float) * (size_t)n_items);
  int32_t *touched = malloc(sizeof(int32_t) * (size_t)n_items), ranked[10];
  for (int64_t q = 0; q < ed.n_users; q++) {
    const int32_t u = ed.users[q];
    memset(dense, 0, sizeof(double) * (size_t)n_items);
    gr_item_knn_scores(&knn, hist.indices + hist.indptr[u], hist.data + hist.indptr[u],
                       hist.indptr[u + 1] - hist.indptr[u], dense, touched);
    for (int64_t e = ed.seen.indptr[u]; e < ed.seen.indptr[u + 1]; e++)
      dense[ed.seen.indices[e]] = -1; /* never ranked */
    for (int r = 0; r < k; r++) {
      int32_t best = -1;
      for (int32_t i = 0; i < n_items; i++)
        if (dense[i] > 0 && (best < 0 || dense[i] > dense[best])) best = i;
      ranked[r] = best;
      if (best >= 0) dense[best] = -2;
    }
    gr_metrics_add_user(&sums, ranked, k, ed.test.indices + ed.test.indptr[u],
                        ed.test.indptr[u + 1] - ed.test.indptr[u]);
    memset(dense, 0, sizeof(double) * (size_t)n_items);
    gr_item_knn_scores(&knn, hist.indices + hist.indptr[u], hist.data + hist.indptr[u],
                       hist.indptr[u + 1] - hist.indptr[u], dense, touched);
    for (int32_t i = 0; i < n_items; i++)
      f[i] = (float)dense[i];
    sums.auc += gr_user_auc(
        f, n_items, ed.seen.indices + ed.seen.indptr[u], ed.seen.indptr[u + 1] - ed.seen.indptr[u],
        ed.test.indices + ed.test.indptr[u], ed.test.indptr[u + 1] - ed.test.indptr[u]);
    sums.n_auc_users++;
  }
  gr_metrics want;
  gr_metrics_finish(&sums, k, &want);
  CHECK(got.n_users == want.n_users && got.n_users == 240);
  CHECK_MSG(got.precision == want.precision && got.map == want.map && got.ndcg == want.ndcg &&
                got.recall == want.recall && got.hit_rate == want.hit_rate,
            "precision %g vs %g, map %g vs %g", got.precision, want.precision, got.map, want.map);
  CHECK_MSG(fabs(got.auc - want.auc) < 1e-12 && got.auc_users == 240, "auc %g vs %g", got.auc,
            want.auc);
  /* planted topics: the neighbours are the topic's items, far above chance */
  CHECK_MSG(got.hit_rate > 0.8 && got.auc > 0.9, "hit rate %g, auc %g", got.hit_rate, got.auc);
  CHECK(got.coverage > 0 && got.coverage <= 1);
  free(dense);
  free(f);
  free(touched);
  gr_item_knn_free(&knn);
  gr_csr_free(&hist);
  gr_eval_data_free(&ed);
  gr_als_model_free(m);
  gr_interactions_free(tr);
  gr_interactions_free(te);
  gr_interactions_free(p.x);
  gr_context_free(ctx);
}

int main(void) {
  test_hand();
  test_against_brute_force();
  test_evaluate();
  return gr_test_finish();
}
