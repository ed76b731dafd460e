/* ALS on the CPU backend: recovery of planted structure, exactness of the
 * Cholesky solve, CG converging to it, monotone loss, reproducibility, and
 * new-user fold-in. */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/als_model.h"
#include "kernels/cpu/cpu_ops.h"
#include "planted.h"
#include "test_util.h"

/* With one liked topic per user, a user's top-10 unseen items should all
 * come from that topic: chance alone gives 1 / n_topics = 12.5%. We ask
 * for at least 95% of all recommendations. */
static void test_recovers_planted_topics(void) {
  planted p;
  CHECK(planted_build(&p, 400, 400, 8, 7));
  gr_context *ctx = cpu_test_context(0);
  gr_als_params prm;
  gr_als_params_default(&prm);
  prm.factors = 16;
  prm.iterations = 10;
  prm.regularization = 0.1f;
  gr_als_model *m = NULL;
  CHECK_OK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &m));
  if (!m) return;
  int32_t users[400];
  for (int u = 0; u < 400; u++)
    users[u] = u;
  int32_t *items = malloc(sizeof(int32_t) * 400 * 10);
  float *scores = malloc(sizeof(float) * 400 * 10);
  CHECK_OK(gr_als_recommend(ctx, m, users, 400, p.x, NULL, items, scores));
  int in_topic = 0, total = 0;
  for (int u = 0; u < 400; u++)
    for (int r = 0; r < 10; r++) {
      const int32_t i = items[u * 10 + r];
      if (i < 0) continue;
      const int item_number = atoi(gr_als_model_item_id(m, i) + 1);
      in_topic += planted_item_topic(&p, item_number) == planted_user_topic(&p, u);
      total++;
    }
  CHECK_MSG(total == 4000, "only %d recommendations", total);
  CHECK_MSG(in_topic >= 0.95 * total, "%d of %d recommendations in the planted topic", in_topic,
            total);
  free(items);
  free(scores);
  gr_als_model_free(m);
  gr_context_free(ctx);
  gr_interactions_free(p.x);
}

/* One user half-step on a random problem: the Cholesky solution satisfies
 * (Y^T C_u Y + reg I) x = Y^T C_u p_u, checked in double; CG with k steps
 * reaches the same x (exact arithmetic would need exactly k steps). */
static void test_solvers_agree(int k) {
  const int n_items = 60, n_rows = 20;
  gr_rng rng;
  gr_rng_seed(&rng, 3);
  float *Y = malloc(sizeof(float) * n_items * k), *G = malloc(sizeof(float) * k * k);
  float *Xc = calloc((size_t)n_rows * k, sizeof(float)),
        *Xg = calloc((size_t)n_rows * k, sizeof(float));
  double *A = malloc(sizeof(double) * k * k), *b = malloc(sizeof(double) * k);
  for (int i = 0; i < n_items * k; i++)
    Y[i] = (float)gr_rng_normal(&rng) * 0.3f;
  int64_t indptr[21];
  int32_t indices[20 * 60];
  float data[20 * 60];
  int64_t nnz = 0;
  for (int u = 0; u < n_rows; u++) {
    indptr[u] = nnz;
    for (int i = 0; i < n_items; i++)
      if (u != 4 && gr_rng_below(&rng, 3) == 0) { /* row 4 stays empty */
        indices[nnz] = i;
        data[nnz++] = 1.0f + (float)gr_rng_below(&rng, 20);
      }
  }
  indptr[n_rows] = nnz;
  gr_csr_view m = {n_rows, n_items, nnz, indptr, indices, data};
  gr_backend *be;
  CHECK_OK(gr_backend_cpu_create(&be, 2));
  const float reg = 0.1f;
  CHECK_OK(be->ops->gram(be, G, Y, n_items, k, reg));
  CHECK_OK(be->ops->als_solve_cholesky(be, Xc, &m, Y, G, k));
  CHECK_OK(be->ops->als_solve_cg(be, Xg, &m, Y, G, k, 3 * k));
  double worst_residual = 0, worst_diff = 0;
  for (int u = 0; u < n_rows; u++) {
    memset(A, 0, sizeof(double) * k * k);
    memset(b, 0, sizeof(double) * k);
    for (int i = 0; i < n_items; i++)
      for (int a = 0; a < k; a++)
        for (int c = 0; c < k; c++)
          A[a * k + c] += (double)Y[i * k + a] * Y[i * k + c];
    for (int a = 0; a < k; a++)
      A[a * k + a] += reg;
    for (int64_t e = indptr[u]; e < indptr[u + 1]; e++) {
      const float *y = Y + indices[e] * k;
      for (int a = 0; a < k; a++) {
        b[a] += data[e] * y[a];
        for (int c = 0; c < k; c++)
          A[a * k + c] += (data[e] - 1.0) * y[a] * y[c];
      }
    }
    double bn = 0, rn = 0;
    for (int a = 0; a < k; a++) {
      double ax = 0;
      for (int c = 0; c < k; c++)
        ax += A[a * k + c] * Xc[u * k + c];
      rn += (ax - b[a]) * (ax - b[a]);
      bn += b[a] * b[a];
      const double d = fabs((double)Xc[u * k + a] - Xg[u * k + a]);
      if (d > worst_diff) worst_diff = d;
    }
    if (bn > 0 && sqrt(rn / bn) > worst_residual) worst_residual = sqrt(rn / bn);
  }
  CHECK_MSG(worst_residual < 1e-4, "k %d: relative residual %g", k, worst_residual);
  CHECK_MSG(worst_diff < 1e-3, "k %d: CG differs from Cholesky by %g", k, worst_diff);
  int empty_zero = 1;
  for (int a = 0; a < k; a++)
    empty_zero &= Xc[4 * k + a] == 0 && Xg[4 * k + a] == 0;
  CHECK(empty_zero);
  be->ops->destroy(be);
  free(Y);
  free(G);
  free(Xc);
  free(Xg);
  free(A);
  free(b);
}

typedef struct losses {
  double v[64];
  int n;
} losses;

static int record_loss(int it, double seconds, double loss, void *user) {
  (void)it;
  (void)seconds;
  losses *l = user;
  l->v[l->n++] = loss;
  return 0;
}

/* Exact ALS never increases the objective; the loss reported is it
 * (normalized), so it must be non-increasing up to float rounding. */
static void test_loss_decreases_and_reproducible(void) {
  planted p;
  CHECK(planted_build(&p, 150, 120, 5, 11));
  gr_als_params prm;
  gr_als_params_default(&prm);
  prm.factors = 10;
  prm.iterations = 8;
  prm.solver = GR_SOLVER_CHOLESKY;
  prm.calc_loss = 1;
  gr_context *c1 = cpu_test_context(1), *c2 = cpu_test_context(2);
  gr_als_model *m1 = NULL, *m2 = NULL;
  losses l = {{0}, 0};
  CHECK_OK(gr_als_fit(c1, &prm, p.x, record_loss, &l, &m1));
  CHECK(l.n == 8);
  for (int i = 1; i < l.n; i++)
    CHECK_MSG(l.v[i] <= l.v[i - 1] * (1 + 1e-5), "loss rose at %d: %g -> %g", i, l.v[i - 1],
              l.v[i]);
  CHECK(l.v[l.n - 1] < l.v[0]);
  CHECK_OK(gr_als_fit(c2, &prm, p.x, NULL, NULL, &m2));
  if (m1 && m2) {
    CHECK(memcmp(m1->user_factors, m2->user_factors, sizeof(float) * 150 * 10) == 0);
    CHECK(memcmp(m1->item_factors, m2->item_factors, sizeof(float) * 120 * 10) == 0);
  }
  gr_als_model_free(m2);
  prm.random_state = 1234;
  CHECK_OK(gr_als_fit(c2, &prm, p.x, NULL, NULL, &m2));
  if (m1 && m2) CHECK(memcmp(m1->user_factors, m2->user_factors, sizeof(float) * 150 * 10) != 0);

  /* fold-in: a user's factors from their items solve their normal equations
   * against the final item factors; ranking them equals recommending them */
  if (m1) {
    const int32_t items[3] = {0, 5, 10};
    const float w[3] = {1, 2, 3};
    float x[10];
    CHECK_OK(gr_als_user_factors(m1, items, w, 3, x));
    double A[100], b[10] = {0}, rn = 0, bn = 0;
    for (int a = 0; a < 100; a++)
      A[a] = m1->yty_reg[a];
    for (int e = 0; e < 3; e++) {
      const float *y = m1->item_factors + items[e] * 10;
      for (int a = 0; a < 10; a++) {
        b[a] += w[e] * y[a];
        for (int c = 0; c < 10; c++)
          A[a * 10 + c] += (w[e] - 1.0) * y[a] * y[c];
      }
    }
    for (int a = 0; a < 10; a++) {
      double ax = 0;
      for (int c = 0; c < 10; c++)
        ax += A[a * 10 + c] * x[c];
      rn += (ax - b[a]) * (ax - b[a]);
      bn += b[a] * b[a];
    }
    CHECK_MSG(sqrt(rn / bn) < 1e-4, "fold-in residual %g", sqrt(rn / bn));
    const int32_t bad_item = 999;
    CHECK(gr_als_user_factors(m1, &bad_item, w, 1, x) == GR_ERR_INVALID_ARG);
  }
  gr_als_model_free(m1);
  gr_als_model_free(m2);
  gr_context_free(c1);
  gr_context_free(c2);
  gr_interactions_free(p.x);
}

static void test_bad_params(void) {
  planted p;
  CHECK(planted_build(&p, 20, 20, 2, 1));
  gr_context *ctx = cpu_test_context(1);
  gr_als_params prm;
  gr_als_params_default(&prm);
  gr_als_model *m = NULL;
  prm.factors = 0;
  CHECK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &m) == GR_ERR_INVALID_ARG);
  prm.factors = 4;
  prm.regularization = NAN;
  CHECK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &m) == GR_ERR_INVALID_ARG);
  prm.regularization = 0.1f;
  prm.alpha = -1;
  CHECK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &m) == GR_ERR_INVALID_ARG);
  CHECK(m == NULL);
  /* the CUDA backend, asked for explicitly without a GPU, is a clear error */
  gr_context_options o;
  gr_context_options_default(&o);
  o.device = GR_DEVICE_CUDA;
  o.verbose = 0;
  gr_context *gpu = NULL;
  gr_status st = gr_context_init(&gpu, &o);
  if (st != GR_OK) {
    CHECK(st == GR_ERR_NO_DEVICE);
    CHECK(strlen(gr_last_error()) > 0);
  }
  gr_context_free(gpu);
  gr_context_free(ctx);
  gr_interactions_free(p.x);
}

static int stop_at_three(int it, double seconds, double loss, void *user) {
  (void)seconds;
  (void)loss;
  (void)user;
  return it == 3;
}

/* Stopping after iteration 3 with a checkpoint, then resuming from it, gives
 * the model of an uninterrupted run bit for bit (same seed, same backend). */
static void test_checkpoint_resume(void) {
  planted p;
  CHECK(planted_build(&p, 120, 90, 4, 21));
  gr_context *ctx = cpu_test_context(2);
  gr_als_params prm;
  gr_als_params_default(&prm);
  prm.factors = 8;
  prm.iterations = 6;
  gr_als_model *straight = NULL, *partial = NULL, *ck = NULL, *resumed = NULL;
  CHECK_OK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &straight));
  const char *path = write_temp_str("");
  gr_als_train_options o;
  gr_als_train_options_default(&o);
  o.progress = stop_at_three;
  o.checkpoint_path = path;
  o.checkpoint_every = 100; /* only the stop writes one */
  CHECK(gr_als_train(ctx, &prm, p.x, &o, &partial) == GR_ERR_INTERRUPTED);
  CHECK(partial == NULL);
  CHECK(contains_text(gr_last_error(), "after iteration 3 of 6"));
  CHECK_OK(gr_als_model_load(&ck, path));
  if (ck && straight) {
    CHECK(gr_als_model_iterations_done(ck) == 3);
    gr_als_train_options_default(&o);
    o.resume = ck;
    CHECK_OK(gr_als_train(ctx, &prm, p.x, &o, &resumed));
    if (resumed) {
      CHECK(gr_als_model_iterations_done(resumed) == 6);
      CHECK(memcmp(resumed->user_factors, straight->user_factors, sizeof(float) * 120 * 8) == 0);
      CHECK(memcmp(resumed->item_factors, straight->item_factors, sizeof(float) * 90 * 8) == 0);
    }
    /* a checkpoint of other data, or other factors, is refused */
    planted q;
    CHECK(planted_build(&q, 121, 90, 4, 21));
    gr_als_model *bad = NULL;
    CHECK(gr_als_train(ctx, &prm, q.x, &o, &bad) == GR_ERR_INVALID_ARG);
    CHECK(contains_text(gr_last_error(), "user ids"));
    prm.factors = 9;
    CHECK(gr_als_train(ctx, &prm, p.x, &o, &bad) == GR_ERR_INVALID_ARG);
    CHECK(bad == NULL);
    prm.factors = 8; /* and one of other flags: here another confidence */
    prm.log_epsilon = 1.0f;
    CHECK(gr_als_train(ctx, &prm, p.x, &o, &bad) == GR_ERR_INVALID_ARG && !bad);
    CHECK(contains_text(gr_last_error(), "another confidence (log epsilon)"));
    prm.log_epsilon = 0.0f;
    prm.alpha *= 2;
    CHECK(gr_als_train(ctx, &prm, p.x, &o, &bad) == GR_ERR_INVALID_ARG && !bad);
    CHECK(contains_text(gr_last_error(), "another alpha"));
    gr_interactions_free(q.x);
  }
  gr_als_model_free(straight);
  gr_als_model_free(ck);
  gr_als_model_free(resumed);
  gr_context_free(ctx);
  gr_interactions_free(p.x);
}

/* The CG's row product in registers (k a multiple of 16, up to 128) against
 * the path for any k, on random rows: the same sums in another order, so
 * they agree to float rounding relative to the terms' magnitude. */
static void test_cg_gather_paths_agree(void) {
  gr_rng rng;
  gr_rng_seed(&rng, 99);
  for (int k = 16; k <= 128; k += 16) {
    for (int trial = 0; trial < 6; trial++) {
      const int32_t n_items = 1 + (int32_t)gr_rng_below(&rng, 300);
      const int64_t n = trial == 0 ? 0 : (int64_t)gr_rng_below(&rng, 60);
      float *Y = malloc(sizeof(float) * (size_t)n_items * k), *G = malloc(sizeof(float) * k * k);
      float *v = malloc(sizeof(float) * k), *conf = malloc(sizeof(float) * (size_t)(n + 1));
      float *fast = malloc(sizeof(float) * k), *any = malloc(sizeof(float) * k);
      double *scale = calloc((size_t)k, sizeof(double));
      int32_t *idx = malloc(sizeof(int32_t) * (size_t)(n + 1));
      for (int64_t i = 0; i < (int64_t)n_items * k; i++)
        Y[i] = (float)gr_rng_uniform(&rng) - 0.5f;
      for (int i = 0; i < k * k; i++)
        G[i] = (float)gr_rng_uniform(&rng) - 0.5f;
      for (int j = 0; j < k; j++)
        v[j] = (float)gr_rng_uniform(&rng) - 0.5f;
      for (int64_t e = 0; e < n; e++) {
        idx[e] = (int32_t)gr_rng_below(&rng, (uint64_t)n_items); /* repeats are fine here */
        conf[e] = 1.0f + 40.0f * (float)gr_rng_uniform(&rng);
      }
      /* each output's scale: the sum of its terms' magnitudes */
      for (int r = 0; r < k; r++)
        for (int j = 0; j < k; j++)
          scale[j] += fabs((double)G[r * k + j] * v[r]);
      for (int64_t e = 0; e < n; e++)
        for (int j = 0; j < k; j++)
          scale[j] += 50.0 * k * fabs((double)Y[(size_t)idx[e] * k + j]);
      for (int residual = 0; residual <= 1; residual++) {
        gr_cpu_cg_gather(fast, G, v, Y, idx, conf, n, k, residual, NULL, 0);
        gr_cpu_cg_gather(any, G, v, Y, idx, conf, n, k, residual, NULL, 1);
        double worst = 0;
        for (int j = 0; j < k; j++) {
          const double err = fabs((double)fast[j] - any[j]) / (scale[j] + 1e-30);
          if (!(err <= worst)) worst = err;
        }
        CHECK_MSG(worst <= 1e-6, "k %d, %lld items, residual %d: relative error %g", k,
                  (long long)n, residual, worst);
      }
      free(Y);
      free(G);
      free(v);
      free(conf);
      free(fast);
      free(any);
      free(scale);
      free(idx);
    }
  }
}

/* The batched product G v equals, bit for bit, the one a row's own CG
 * product computes: the batched solver relies on it to give every row the
 * same arithmetic whatever rows share its batch. */
static void test_matvec_batch_matches_row_product(void) {
  gr_rng rng;
  gr_rng_seed(&rng, 17);
  for (int k = 16; k <= 128; k += 16) {
    float *G = malloc(sizeof(float) * k * k), *v[4], *out[4], *one = malloc(sizeof(float) * k);
    for (int i = 0; i < k * k; i++)
      G[i] = (float)gr_rng_normal(&rng);
    for (int b = 0; b < 4; b++) {
      v[b] = malloc(sizeof(float) * k);
      out[b] = malloc(sizeof(float) * k);
      for (int j = 0; j < k; j++)
        v[b][j] = (float)gr_rng_normal(&rng);
    }
    gr_cpu_matvec_batch(out, G, (const float *const *)v, k);
    for (int b = 0; b < 4; b++) {
      gr_cpu_cg_gather(one, G, v[b], NULL, NULL, NULL, 0, k, 0, NULL, 0);
      CHECK_MSG(memcmp(one, out[b], sizeof(float) * k) == 0, "k %d, vector %d differs", k, b);
      free(v[b]);
      free(out[b]);
    }
    free(G);
    free(one);
  }
}

/* The CG solver takes rows four at a time in lockstep (k a multiple of 16):
 * each row must come out bit for bit as when solved alone, with empty rows,
 * a one-item row and rows that converge at different steps in the batches;
 * and after 3k steps it must reach the exact (Cholesky) solution. */
static void test_cg_batches(void) {
  gr_backend *be;
  CHECK_OK(gr_backend_cpu_create(&be, 2));
  gr_rng rng;
  gr_rng_seed(&rng, 23);
  for (int k = 16; k <= 48; k += 32) {
    const int n_rows = 23, n_items = 90;
    float *Y = malloc(sizeof(float) * n_items * k), *G = malloc(sizeof(float) * k * k);
    float *X0 = malloc(sizeof(float) * n_rows * k), *Xall = malloc(sizeof(float) * n_rows * k);
    float *Xone = malloc(sizeof(float) * k), *Xc = calloc((size_t)n_rows * k, sizeof(float));
    int64_t indptr[24], nnz = 0;
    int32_t *indices = malloc(sizeof(int32_t) * n_rows * n_items);
    float *data = malloc(sizeof(float) * n_rows * n_items);
    for (int i = 0; i < n_items * k; i++)
      Y[i] = (float)gr_rng_normal(&rng) * 0.3f;
    for (int i = 0; i < n_rows * k; i++)
      X0[i] = (float)gr_rng_uniform(&rng) * 0.01f;
    for (int u = 0; u < n_rows; u++) {
      indptr[u] = nnz;
      const int every = u == 9 ? n_items : 2 + u % 5; /* row 9: one item */
      for (int i = 0; i < n_items; i++)
        if (u != 0 && u != 5 && u != 6 && (u == 9 ? i == 7 : gr_rng_below(&rng, every) == 0)) {
          indices[nnz] = i;
          data[nnz++] = 1.0f + (float)gr_rng_below(&rng, 30);
        }
    }
    indptr[n_rows] = nnz;
    const gr_csr_view m = {n_rows, n_items, nnz, indptr, indices, data};
    CHECK_OK(be->ops->gram(be, G, Y, n_items, k, 0.5f));
    for (int steps = 2; steps <= 3 * k; steps += 3 * k - 2) {
      memcpy(Xall, X0, sizeof(float) * n_rows * k);
      CHECK_OK(be->ops->als_solve_cg(be, Xall, &m, Y, G, k, steps));
      int same = 1;
      for (int u = 0; u < n_rows; u++) {
        const int64_t one_ptr[2] = {0, indptr[u + 1] - indptr[u]};
        const gr_csr_view row = {
            1, n_items, one_ptr[1], one_ptr, indices + indptr[u], data + indptr[u]};
        memcpy(Xone, X0 + (size_t)u * k, sizeof(float) * k);
        CHECK_OK(be->ops->als_solve_cg(be, Xone, &row, Y, G, k, steps));
        same &= memcmp(Xone, Xall + (size_t)u * k, sizeof(float) * k) == 0;
      }
      CHECK_MSG(same, "k %d, %d steps: a row differs when solved alone", k, steps);
      int zero_rows = 1; /* rows with no items are exactly 0, as Cholesky gives */
      for (int j = 0; j < k; j++)
        zero_rows &= Xall[0 * k + j] == 0 && Xall[5 * k + j] == 0 && Xall[6 * k + j] == 0;
      CHECK_MSG(zero_rows, "k %d, %d steps: an empty row is not 0", k, steps);
    }
    /* 3k steps: the exact solution, to float accuracy */
    CHECK_OK(be->ops->als_solve_cholesky(be, Xc, &m, Y, G, k));
    double worst = 0, norm = 0;
    for (int i = 0; i < n_rows * k; i++) {
      worst = fmax(worst, fabs((double)Xall[i] - Xc[i]));
      norm = fmax(norm, fabs((double)Xc[i]));
    }
    CHECK_MSG(worst <= 1e-3 * norm && norm > 0, "k %d: CG vs Cholesky %g (scale %g)", k, worst,
              norm);
    free(Y);
    free(G);
    free(X0);
    free(Xall);
    free(Xone);
    free(Xc);
    free(indices);
    free(data);
  }
  be->ops->destroy(be);
}

/* A row whose normal equations are not positive definite is refused with
 * the row named, on the register path (k = 16, 32) and the generic one
 * (k = 8): G = -I plus one item's small confidence cannot be factored. */
static void test_cholesky_refuses_indefinite(void) {
  gr_backend *be;
  CHECK_OK(gr_backend_cpu_create(&be, 1));
  const int ks[3] = {8, 16, 32};
  for (int t = 0; t < 3; t++) {
    const int k = ks[t];
    float *G = calloc((size_t)k * k, sizeof(float)), *Y = calloc((size_t)2 * k, sizeof(float));
    float X[2 * 32] = {0};
    for (int j = 0; j < k; j++) {
      G[j * k + j] = j == k - 1 ? -1.0f : 1.0f; /* the last pivot fails */
      Y[j] = Y[k + j] = 0.1f;
    }
    const int64_t indptr[3] = {0, 1, 2};
    const int32_t indices[2] = {0, 1};
    const float data[2] = {2.0f, 3.0f};
    const gr_csr_view m = {2, 2, 2, indptr, indices, data};
    const gr_status st = be->ops->als_solve_cholesky(be, X, &m, Y, G, k);
    CHECK_MSG(st == GR_ERR_NUMERIC && strstr(gr_last_error(), "row 0") &&
                  strstr(gr_last_error(), "not positive"),
              "k %d: status %d, '%s'", k, (int)st, gr_last_error());
    free(G);
    free(Y);
  }
  be->ops->destroy(be);
}

/* --confidence log: c = offset + alpha log(1 + r / eps) on each pair's
 * summed weight r. A fit equals the linear fit on weights log(1 + r / eps)
 * (up to the rounding of two float confidences), and splitting each event
 * in two changes nothing, since the log comes after the sum. */
static void test_log_confidence(void) {
  planted p;
  CHECK(planted_build(&p, 120, 90, 4, 21));
  gr_interactions *logw = NULL, *halves = NULL;
  CHECK_OK(gr_interactions_create_like(&logw, p.x));
  CHECK_OK(gr_interactions_create_like(&halves, p.x));
  const float eps = 0.5f;
  for (int64_t e = 0; e < p.x->n; e++) { /* planted pairs are distinct */
    const float r = p.x->weight[e];
    gr_interactions_push(logw, p.x->user[e], p.x->item[e], (float)log1p((double)r / eps), 0);
    gr_interactions_push(halves, p.x->user[e], p.x->item[e], r / 2, 0);
    gr_interactions_push(halves, p.x->user[e], p.x->item[e], r / 2, 0);
  }
  gr_context *ctx = cpu_test_context(2);
  gr_als_params prm;
  gr_als_params_default(&prm);
  prm.factors = 8;
  prm.iterations = 5;
  prm.alpha = 3.0f;
  prm.confidence_offset = 1.0f;
  prm.solver = GR_SOLVER_CHOLESKY;
  gr_als_model *lin = NULL, *lg = NULL, *split = NULL;
  CHECK_OK(gr_als_fit(ctx, &prm, logw, NULL, NULL, &lin));
  prm.log_epsilon = eps;
  CHECK_OK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &lg));
  CHECK_OK(gr_als_fit(ctx, &prm, halves, NULL, NULL, &split));
  if (lin && lg && split) {
    double diff = 0, norm = 0;
    for (int i = 0; i < 90 * 8; i++) {
      diff = fmax(diff, fabs((double)lin->item_factors[i] - lg->item_factors[i]));
      norm = fmax(norm, fabs((double)lin->item_factors[i]));
    }
    CHECK_MSG(diff <= 1e-4 * norm, "log fit vs linear on log weights: %g of %g", diff, norm);
    CHECK(memcmp(lg->item_factors, split->item_factors, sizeof(float) * 90 * 8) == 0);
    CHECK(memcmp(lg->user_factors, split->user_factors, sizeof(float) * 120 * 8) == 0);
    /* and it is not the linear model on the raw weights */
    gr_als_model *raw = NULL;
    prm.log_epsilon = 0;
    CHECK_OK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &raw));
    if (raw) CHECK(memcmp(raw->item_factors, lg->item_factors, sizeof(float) * 90 * 8) != 0);
    gr_als_model_free(raw);
  }
  prm.log_epsilon = -1;
  gr_als_model *bad = NULL;
  CHECK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &bad) == GR_ERR_INVALID_ARG && !bad);
  gr_als_model_free(lin);
  gr_als_model_free(lg);
  gr_als_model_free(split);
  gr_interactions_free(logw);
  gr_interactions_free(halves);
  gr_interactions_free(p.x);
  gr_context_free(ctx);
}

/* Warm start: items take the warm model's factors by id, not by index (the
 * same events with items interned in reverse give each user the same
 * factors after one iteration, up to the order of the sums: a user's solve
 * depends only on the item factors and its own items); one iteration from a
 * converged model stays near it where a cold one does not; refusals. */
static void test_warm_start(void) {
  planted p;
  CHECK(planted_build(&p, 120, 90, 4, 33));
  gr_interactions *rev = NULL;
  CHECK_OK(gr_interactions_create(&rev, 0));
  int32_t idx;
  for (int32_t i = p.x->items.count - 1; i >= 0; i--) {
    const char *id = gr_id_map_get(&p.x->items, i);
    gr_id_map_intern(&rev->items, id, strlen(id), &idx);
  }
  for (int32_t u = 0; u < p.x->users.count; u++) {
    const char *id = gr_id_map_get(&p.x->users, u);
    gr_id_map_intern(&rev->users, id, strlen(id), &idx);
  }
  for (int64_t e = 0; e < p.x->n; e++)
    gr_interactions_push(rev, p.x->user[e], p.x->items.count - 1 - p.x->item[e], p.x->weight[e], 0);
  gr_context *ctx = cpu_test_context(2);
  gr_als_params prm;
  gr_als_params_default(&prm);
  prm.factors = 8;
  prm.iterations = 12;
  prm.regularization = 1.0f;
  prm.solver = GR_SOLVER_CHOLESKY;
  gr_als_model *base = NULL, *warm = NULL, *warm_rev = NULL, *cold = NULL, *again = NULL;
  CHECK_OK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &base));
  gr_als_train_options o;
  gr_als_train_options_default(&o);
  o.warm_start = base;
  prm.iterations = 1;
  CHECK_OK(gr_als_train(ctx, &prm, p.x, &o, &warm));
  CHECK_OK(gr_als_train(ctx, &prm, p.x, &o, &again));
  CHECK_OK(gr_als_train(ctx, &prm, rev, &o, &warm_rev));
  CHECK_OK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &cold));
  if (base && warm && warm_rev && cold && again) {
    double diff = 0, norm = 0;
    for (int32_t u = 0; u < 120; u++) /* users in the same order in both */
      for (int c = 0; c < 8; c++) {
        diff = fmax(
            diff, fabs((double)warm->user_factors[u * 8 + c] - warm_rev->user_factors[u * 8 + c]));
        norm = fmax(norm, fabs((double)warm->user_factors[u * 8 + c]));
      }
    const int same = diff <= 1e-4 * norm;
    CHECK_MSG(same, "warm start matched rows by index, not by id");
    CHECK(memcmp(warm->item_factors, again->item_factors, sizeof(float) * 90 * 8) == 0);
    double dw = 0, dc = 0, nb = 0;
    for (int i = 0; i < 90 * 8; i++) {
      dw += pow((double)warm->item_factors[i] - base->item_factors[i], 2);
      dc += pow((double)cold->item_factors[i] - base->item_factors[i], 2);
      nb += pow((double)base->item_factors[i], 2);
    }
    CHECK_MSG(sqrt(dw / nb) < 0.05 && sqrt(dc / nb) > 0.2,
              "one iteration from the model moved %g, a cold one is %g away", sqrt(dw / nb),
              sqrt(dc / nb));
  }
  gr_als_model *bad = NULL;
  prm.factors = 6;
  CHECK(gr_als_train(ctx, &prm, p.x, &o, &bad) == GR_ERR_INVALID_ARG && !bad);
  CHECK(contains_text(gr_last_error(), "warm-start model has 8 factors"));
  prm.factors = 8;
  prm.iterations = 20; /* a resumable checkpoint, but not with a warm start */
  o.resume = base;
  CHECK(gr_als_train(ctx, &prm, p.x, &o, &bad) == GR_ERR_INVALID_ARG && !bad);
  CHECK(contains_text(gr_last_error(), "cannot be combined"));
  gr_als_model_free(base);
  gr_als_model_free(warm);
  gr_als_model_free(again);
  gr_als_model_free(warm_rev);
  gr_als_model_free(cold);
  gr_interactions_free(rev);
  gr_interactions_free(p.x);
  gr_context_free(ctx);
}

int main(void) {
  test_warm_start();
  test_log_confidence();
  test_recovers_planted_topics();
  test_solvers_agree(8);
  test_solvers_agree(64); /* the register and batched paths */
  test_cg_gather_paths_agree();
  test_matvec_batch_matches_row_product();
  test_cg_batches();
  test_cholesky_refuses_indefinite();
  test_loss_decreases_and_reproducible();
  test_bad_params();
  test_checkpoint_resume();
  return gr_test_finish();
}
