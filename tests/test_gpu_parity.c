/* Parity of the CUDA backend with the CPU reference: every operation of the
 * backend table runs on both with the same seeded inputs (uploaded through
 * each backend's own mem_alloc/upload) and the results are compared with a
 * per-operation bound, stated where it is checked with its reason. Exits 77
 * (skipped) when no GPU is usable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_util.h"
#include "check.h"
#include "common/rng.h"
#include "gpu_required.h"
#include "kernels/backend.h"

static gr_backend *cpu, *gpu;

typedef struct host_csr {
  int64_t n_rows, n_cols, nnz;
  int64_t *indptr;
  int32_t *indices;
  float *data;
} host_csr;

/* Row lengths: every 5th row empty, row 1 long (a power-law head: 80% of
 * the columns), the others 1..20. Columns sorted and distinct per row
 * (selection sampling); confidences in [1, 11). */
static host_csr random_csr(gr_rng *rng, int64_t n_rows, int64_t n_cols, int with_data) {
  host_csr m = {n_rows, n_cols, 0, NULL, NULL, NULL};
  m.indptr = malloc(sizeof(int64_t) * (size_t)(n_rows + 1));
  int64_t *len = malloc(sizeof(int64_t) * (size_t)(n_rows ? n_rows : 1));
  m.indptr[0] = 0;
  for (int64_t r = 0; r < n_rows; r++) {
    int64_t l = r % 5 == 0 ? 0 : r == 1 ? n_cols * 4 / 5 : 1 + (int64_t)gr_rng_below(rng, 20);
    len[r] = l < n_cols ? l : n_cols;
    m.indptr[r + 1] = m.indptr[r] + len[r];
  }
  m.nnz = m.indptr[n_rows];
  m.indices = malloc(sizeof(int32_t) * (size_t)(m.nnz ? m.nnz : 1));
  m.data = with_data ? malloc(sizeof(float) * (size_t)(m.nnz ? m.nnz : 1)) : NULL;
  for (int64_t r = 0; r < n_rows; r++) {
    int64_t e = m.indptr[r], want = len[r];
    for (int64_t j = 0; j < n_cols && want > 0; j++) {
      if (gr_rng_uniform(rng) * (double)(n_cols - j) < (double)want) {
        m.indices[e] = (int32_t)j;
        if (m.data) m.data[e] = 1.0f + 10.0f * (float)gr_rng_uniform(rng);
        e++;
        want--;
      }
    }
  }
  free(len);
  return m;
}

static void free_csr(host_csr *m) {
  free(m->indptr);
  free(m->indices);
  free(m->data);
}

/* The view's arrays live in be's memory; free with drop_csr. */
static gr_csr_view put_csr(gr_backend *be, const host_csr *m) {
  gr_csr_view v = {m->n_rows, m->n_cols, m->nnz, NULL, NULL, NULL};
  v.indptr = put(be, m->indptr, sizeof(int64_t) * (size_t)(m->n_rows + 1));
  v.indices = put(be, m->indices, sizeof(int32_t) * (size_t)m->nnz);
  if (m->data) v.data = put(be, m->data, sizeof(float) * (size_t)m->nnz);
  return v;
}

static void drop_csr(gr_backend *be, gr_csr_view *v) {
  drop(be, (void *)v->indptr);
  drop(be, (void *)v->indices);
  drop(be, (void *)v->data);
}

static float *random_matrix(gr_rng *rng, int64_t n, int k, double scale) {
  float *a = malloc(sizeof(float) * (size_t)(n ? n : 1) * k);
  for (int64_t i = 0; i < n * k; i++)
    a[i] = (float)(scale * gr_rng_normal(rng));
  return a;
}

static double max_abs(const float *a, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs((double)a[i]));
  return m;
}

// ---- gram and row norms ----------------------------------------------------

/* Gram: entries are sums of n products; float rounding in different orders
 * (blocked syrk vs OpenBLAS) differs by ~sqrt(n) eps |G|: 1e-4 of max |G|.
 * Row norms: k products each, 1e-5 relative. */
static void test_gram_and_norms(gr_rng *rng, int64_t n, int k) {
  float *Y = random_matrix(rng, n, k, 0.3);
  const size_t gk = (size_t)k * k;
  float *g_cpu = malloc(sizeof(float) * gk), *g_gpu = malloc(sizeof(float) * gk);
  float *nc = malloc(sizeof(float) * (size_t)(n ? n : 1)),
        *ng = malloc(sizeof(float) * (size_t)(n ? n : 1));
  gr_backend *bes[2] = {cpu, gpu};
  float *outs[2] = {g_cpu, g_gpu}, *norms[2] = {nc, ng};
  for (int b = 0; b < 2; b++) {
    gr_backend *be = bes[b];
    float *dy = put(be, Y, sizeof(float) * (size_t)n * k);
    float *dg = zeros(be, sizeof(float) * gk), *dn = zeros(be, sizeof(float) * (size_t)n);
    CHECK_OK(be->ops->gram(be, dg, dy, n, k, 0.5f));
    CHECK_OK(be->ops->row_sq_norms(be, dn, dy, n, k));
    get(be, outs[b], dg, sizeof(float) * gk);
    get(be, norms[b], dn, sizeof(float) * (size_t)n);
    drop(be, dy);
    drop(be, dg);
    drop(be, dn);
  }
  const double tol = 1e-4 * max_abs(g_cpu, gk);
  int bad = 0;
  for (size_t i = 0; i < gk; i++)
    bad += fabs((double)g_cpu[i] - g_gpu[i]) > tol;
  CHECK_MSG(bad == 0, "gram n=%lld k=%d: %d entries off by more than %g", (long long)n, k, bad,
            tol);
  bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += fabs((double)nc[i] - ng[i]) > 1e-5 * nc[i] + 1e-30;
  CHECK_MSG(bad == 0, "row norms n=%lld k=%d: %d rows differ", (long long)n, k, bad);
  free(Y);
  free(g_cpu);
  free(g_gpu);
  free(nc);
  free(ng);
}

// ---- ALS solvers and loss --------------------------------------------------

enum { SOLVE_CG, SOLVE_CHOLESKY, LOSS };

/* Runs one ALS operation on backend be; X holds the start and gets the
 * result (or terms the loss). G is passed precomputed so that only the
 * operation under test differs between backends. */
static gr_status run_als(gr_backend *be, int op, const host_csr *m, float *X, const float *Y,
                         const float *G, int k, int cg_steps, double terms[3]) {
  gr_csr_view v = put_csr(be, m);
  float *dx = put(be, X, sizeof(float) * (size_t)m->n_rows * k);
  float *dy = put(be, Y, sizeof(float) * (size_t)m->n_cols * k);
  float *dg = put(be, G, sizeof(float) * (size_t)k * k);
  gr_status st = op == SOLVE_CG         ? be->ops->als_solve_cg(be, dx, &v, dy, dg, k, cg_steps)
                 : op == SOLVE_CHOLESKY ? be->ops->als_solve_cholesky(be, dx, &v, dy, dg, k)
                                        : be->ops->als_loss_terms(be, terms, &v, dx, dy, dg, k);
  if (st == GR_OK && op != LOSS) get(be, X, dx, sizeof(float) * (size_t)m->n_rows * k);
  drop_csr(be, &v);
  drop(be, dx);
  drop(be, dy);
  drop(be, dg);
  return st;
}

/* Per-row relative error of the solutions: the systems are well conditioned
 * (reg 1, confidences < 11), so float rounding in another summation order
 * moves x by far less than 1e-3 of |x|. Empty rows must be exactly 0. */
static void compare_rows(const char *what, const host_csr *m, const float *a, const float *b,
                         int k) {
  int bad = 0, bad_empty = 0;
  for (int64_t u = 0; u < m->n_rows; u++) {
    double d = 0.0, nrm = 0.0;
    for (int j = 0; j < k; j++) {
      const double x = a[(size_t)u * k + j], y = b[(size_t)u * k + j];
      d += (x - y) * (x - y);
      nrm += x * x;
      if (m->indptr[u] == m->indptr[u + 1]) bad_empty += x != 0.0 || y != 0.0;
    }
    if (sqrt(d) > 1e-3 * sqrt(nrm) + 1e-6) {
      if (bad < 3)
        fprintf(stderr, "%s k=%d row %lld: |dx| %g, |x| %g\n", what, k, (long long)u, sqrt(d),
                sqrt(nrm));
      bad++;
    }
  }
  CHECK_MSG(bad == 0, "%s k=%d: %d of %lld rows differ", what, k, bad, (long long)m->n_rows);
  CHECK_MSG(bad_empty == 0, "%s k=%d: empty rows not zero", what, k);
}

static void test_als(gr_rng *rng, int64_t n_rows, int64_t n_cols, int k) {
  host_csr m = random_csr(rng, n_rows, n_cols, 1);
  float *Y = random_matrix(rng, n_cols, k, 0.1);
  float *X0 = random_matrix(rng, n_rows, k, 0.1);
  const size_t xs = sizeof(float) * (size_t)n_rows * k, gs = sizeof(float) * (size_t)k * k;
  float *G = malloc(gs), *G0 = malloc(gs), *xc = malloc(xs), *xg = malloc(xs);
  float *dy = put(cpu, Y, sizeof(float) * (size_t)n_cols * k), *dg = zeros(cpu, gs);
  CHECK_OK(cpu->ops->gram(cpu, dg, dy, n_cols, k, 1.0f));
  get(cpu, G, dg, gs);
  CHECK_OK(cpu->ops->gram(cpu, dg, dy, n_cols, k, 0.0f));
  get(cpu, G0, dg, gs);
  drop(cpu, dy);
  drop(cpu, dg);

  const int steps[2] = {3, 8};
  for (int s = 0; s < 2; s++) {
    memcpy(xc, X0, xs);
    memcpy(xg, X0, xs);
    CHECK_OK(run_als(cpu, SOLVE_CG, &m, xc, Y, G, k, steps[s], NULL));
    CHECK_OK(run_als(gpu, SOLVE_CG, &m, xg, Y, G, k, steps[s], NULL));
    compare_rows(steps[s] == 3 ? "cg(3)" : "cg(8)", &m, xc, xg, k);
  }

  /* loss on the CG solution: x^T G x and the pair terms are float dot
   * products summed in double; 1e-4 of (|loss| + sum c) covers the float
   * rounding of s = x.y inside (c-1)s^2 - 2cs + c. sum c and sum |x|^2 are
   * sums of the same floats in another order: 1e-9 and 1e-5. */
  double tc[3] = {0, 0, 0}, tg[3] = {0, 0, 0};
  CHECK_OK(run_als(cpu, LOSS, &m, xc, Y, G0, k, 0, tc));
  CHECK_OK(run_als(gpu, LOSS, &m, xc, Y, G0, k, 0, tg));
  CHECK_NEAR(tg[0], tc[0], 1e-4 * (fabs(tc[0]) + tc[1]) + 1e-9);
  CHECK_NEAR(tg[1], tc[1], 1e-9 * tc[1] + 1e-9);
  CHECK_NEAR(tg[2], tc[2], 1e-5 * tc[2] + 1e-9);

  memcpy(xc, X0, xs);
  memcpy(xg, X0, xs);
  CHECK_OK(run_als(cpu, SOLVE_CHOLESKY, &m, xc, Y, G, k, 0, NULL));
  CHECK_OK(run_als(gpu, SOLVE_CHOLESKY, &m, xg, Y, G, k, 0, NULL));
  compare_rows("cholesky", &m, xc, xg, k);

  free_csr(&m);
  free(Y);
  free(X0);
  free(G);
  free(G0);
  free(xc);
  free(xg);
}

/* A singular system (Y = 0, G = 0, confidence 1 so A_u = 0) must fail with
 * GR_ERR_NUMERIC on both backends. */
static void test_cholesky_failure(gr_rng *rng) {
  const int k = 4;
  host_csr m = random_csr(rng, 10, 12, 1);
  for (int64_t e = 0; e < m.nnz; e++)
    m.data[e] = 1.0f;
  float *Y = calloc((size_t)12 * k, sizeof(float)), *G = calloc((size_t)k * k, sizeof(float));
  float *X = calloc((size_t)10 * k, sizeof(float));
  CHECK(run_als(cpu, SOLVE_CHOLESKY, &m, X, Y, G, k, 0, NULL) == GR_ERR_NUMERIC);
  const gr_status st = run_als(gpu, SOLVE_CHOLESKY, &m, X, Y, G, k, 0, NULL);
  CHECK_MSG(st == GR_ERR_NUMERIC, "got %s: %s", gr_status_str(st), gr_last_error());
  CHECK(strstr(gr_last_error(), "regularization") != NULL);
  free_csr(&m);
  free(Y);
  free(G);
  free(X);
}

// ---- top-k -----------------------------------------------------------------

typedef struct topk_case {
  int64_t n_items, n_qrows, n_queries;
  int k, topk;
  int use_rows, use_exclude, use_allowed;
  int exact; /* integer data: scores are exact, results must be identical */
} topk_case;

static int excluded(const host_csr *ex, int64_t r, int32_t i) {
  if (!ex || r >= ex->n_rows) return 0;
  for (int64_t e = ex->indptr[r]; e < ex->indptr[r + 1]; e++)
    if (ex->indices[e] == i) return 1;
  return 0;
}

static int run_topk(gr_backend *be, const topk_case *tc, const float *Q, const int32_t *rows,
                    const float *Y, const host_csr *ex, const uint8_t *allowed, int32_t *idx,
                    float *score) {
  const size_t out_n = (size_t)tc->n_queries * tc->topk;
  float *dq = put(be, Q, sizeof(float) * (size_t)tc->n_qrows * tc->k);
  float *dy = put(be, Y, sizeof(float) * (size_t)tc->n_items * tc->k);
  int32_t *dr = rows ? put(be, rows, sizeof(int32_t) * (size_t)tc->n_queries) : NULL;
  uint8_t *da = allowed ? put(be, allowed, (size_t)tc->n_items) : NULL;
  gr_csr_view v = {0, 0, 0, NULL, NULL, NULL};
  if (ex) v = put_csr(be, ex);
  int32_t *di = zeros(be, sizeof(int32_t) * out_n);
  float *ds = zeros(be, sizeof(float) * out_n);
  const gr_status st = be->ops->topk_dot(be, di, ds, dq, dr, tc->n_queries, dy, tc->n_items, tc->k,
                                         ex ? &v : NULL, da, tc->topk);
  CHECK_MSG(st == GR_OK, "%s topk: %s", be->ops->name, gr_last_error());
  get(be, idx, di, sizeof(int32_t) * out_n);
  get(be, score, ds, sizeof(float) * out_n);
  drop(be, dq);
  drop(be, dy);
  drop(be, dr);
  drop(be, da);
  drop(be, di);
  drop(be, ds);
  if (ex) drop_csr(be, &v);
  return st == GR_OK;
}

/* Scores are k-term float dot products computed by different sgemms:
 * they agree to ~k eps sum|q_j y_j|; we allow 1e-4 of sum_j |q_j| max|Y|.
 * Indices may differ only among scores tied within that tolerance. */
static void verify_topk(const topk_case *tc, const float *Q, const int32_t *rows, const float *Y,
                        const host_csr *ex, const uint8_t *allowed, const int32_t *ci,
                        const float *cs, const int32_t *gi, const float *gs) {
  const int topk = tc->topk, k = tc->k;
  const double ymax = max_abs(Y, (size_t)tc->n_items * k);
  int64_t *seen = malloc(sizeof(int64_t) * (size_t)tc->n_items);
  for (int64_t i = 0; i < tc->n_items; i++)
    seen[i] = -1;
  int bad = 0;
  for (int64_t q = 0; q < tc->n_queries && bad < 5; q++) {
    const int64_t r = rows ? rows[q] : q;
    const float *qv = Q + (size_t)r * k;
    const int32_t *a = ci + (size_t)q * topk, *b = gi + (size_t)q * topk;
    const float *as = cs + (size_t)q * topk, *bs = gs + (size_t)q * topk;
    int na = 0, nb = 0, ok = 1;
    while (na < topk && a[na] >= 0)
      na++;
    while (nb < topk && b[nb] >= 0)
      nb++;
    ok &= na == nb;
    for (int t = nb; t < topk; t++)
      ok &= b[t] == -1 && bs[t] == -INFINITY;
    if (tc->exact) {
      for (int t = 0; t < topk; t++)
        ok &= a[t] == b[t] && (as[t] == bs[t] || (as[t] != as[t]));
    } else {
      double qs = 0.0;
      for (int j = 0; j < k; j++)
        qs += fabs(qv[j]);
      const double tol = 1e-4 * qs * ymax + 1e-30;
      for (int t = 0; t < nb && ok; t++) {
        const int32_t i = b[t];
        ok &= i < tc->n_items && seen[i] != q && (!allowed || allowed[i]) && !excluded(ex, r, i);
        if (!ok) break;
        seen[i] = q;
        double ref = 0.0;
        for (int j = 0; j < k; j++)
          ref += (double)qv[j] * Y[(size_t)i * k + j];
        ok &= fabs(bs[t] - ref) <= tol && fabs(bs[t] - as[t]) <= tol;
        if (t > 0) ok &= bs[t] <= bs[t - 1];
      }
      /* every CPU pick clearly above the GPU's last kept score is kept */
      for (int t = 0; t < na && ok && nb > 0; t++)
        if (as[t] > bs[nb - 1] + tol) ok &= seen[a[t]] == q;
    }
    if (!ok) {
      bad++;
      fprintf(stderr,
              "topk n=%lld k=%d topk=%d query %lld: cpu %d picks, gpu %d picks;"
              " first cpu %d (%g) gpu %d (%g)\n",
              (long long)tc->n_items, k, topk, (long long)q, na, nb, a[0], as[0], b[0], bs[0]);
    }
  }
  CHECK_MSG(bad == 0, "topk n=%lld k=%d topk=%d: queries differ", (long long)tc->n_items, k, topk);
  free(seen);
}

static void test_topk(gr_rng *rng, gr_backend *dev, topk_case tc) {
  const int k = tc.k;
  float *Q, *Y;
  if (tc.exact) {
    /* small integers: every dot product is exact in any order; item 3 is
     * NaN (never ranks), the last item -inf (ranks -inf, NaN or +inf by
     * the query's signs, the same on both backends); query row 0 is zero
     * (every score ties at 0: index order decides) */
    Q = malloc(sizeof(float) * (size_t)tc.n_qrows * k);
    Y = malloc(sizeof(float) * (size_t)tc.n_items * k);
    for (int64_t i = 0; i < tc.n_qrows * k; i++)
      Q[i] = (float)((int)gr_rng_below(rng, 5) - 2);
    for (int64_t i = 0; i < tc.n_items * k; i++)
      Y[i] = (float)((int)gr_rng_below(rng, 5) - 2);
    for (int j = 0; j < k; j++) {
      Q[j] = 0.0f;
      if (tc.n_items > 3) Y[3 * k + j] = NAN;
      if (tc.n_items > 5) Y[(size_t)(tc.n_items - 1) * k + j] = -INFINITY;
    }
  } else {
    Q = random_matrix(rng, tc.n_qrows, k, 1.0);
    Y = random_matrix(rng, tc.n_items, k, 1.0);
  }
  int32_t *rows = NULL;
  if (tc.use_rows) {
    rows = malloc(sizeof(int32_t) * (size_t)tc.n_queries);
    for (int64_t q = 0; q < tc.n_queries; q++)
      rows[q] = (int32_t)gr_rng_below(rng, tc.n_qrows);
  }
  host_csr ex = {0, 0, 0, NULL, NULL, NULL};
  if (tc.use_exclude) /* fewer rows than queries: the last rows exclude nothing */
    ex = random_csr(rng, tc.n_qrows * 3 / 4, tc.n_items, 0);
  uint8_t *allowed = NULL;
  if (tc.use_allowed) {
    allowed = malloc((size_t)tc.n_items);
    for (int64_t i = 0; i < tc.n_items; i++)
      allowed[i] = gr_rng_uniform(rng) < 0.8;
  }
  const size_t out_n = (size_t)tc.n_queries * tc.topk;
  int32_t *ci = malloc(sizeof(int32_t) * out_n), *gi = malloc(sizeof(int32_t) * out_n);
  float *cs = malloc(sizeof(float) * out_n), *gs = malloc(sizeof(float) * out_n);
  const host_csr *exp = tc.use_exclude ? &ex : NULL;
  if (run_topk(cpu, &tc, Q, rows, Y, exp, allowed, ci, cs) &&
      run_topk(dev, &tc, Q, rows, Y, exp, allowed, gi, gs))
    verify_topk(&tc, Q, rows, Y, exp, allowed, ci, cs, gi, gs);
  free(Q);
  free(Y);
  free(rows);
  if (tc.use_exclude) free_csr(&ex);
  free(allowed);
  free(ci);
  free(gi);
  free(cs);
  free(gs);
}

static void test_topk_all(gr_rng *rng) {
  const int ks[6] = {1, 7, 32, 64, 100, 128};
  const int64_t ns[5] = {1, 5, 100, 1500, 3000};
  for (int a = 0; a < 6; a++) {
    for (int b = 0; b < 5; b++) {
      const int64_t n = ns[b];
      const int cap = n < GR_TOPK_MAX ? (int)n : GR_TOPK_MAX;
      const int sizes[4] = {1, cap, n + 5 <= GR_TOPK_MAX ? (int)n + 5 : GR_TOPK_MAX,
                            1 + (int)gr_rng_below(rng, (uint64_t)cap)};
      for (int s = 0; s < 4; s++) {
        const int flags = (int)gr_rng_below(rng, 8);
        topk_case tc = {n, 40, 37, ks[a], sizes[s], flags & 1, (flags >> 1) & 1, flags >> 2, 0};
        test_topk(rng, gpu, tc);
      }
    }
  }
  /* exact scores, heavy ties, NaN and -inf items, all options */
  const int exact_sizes[4] = {1, 50, 1024, 700};
  for (int s = 0; s < 4; s++) {
    topk_case tc = {s == 3 ? 700 : 3000, 64, 64, 7, exact_sizes[s], 1, 1, 1, 1};
    test_topk(rng, gpu, tc);
    tc.use_rows = tc.use_exclude = tc.use_allowed = 0;
    test_topk(rng, gpu, tc);
  }
}

// ---- memory limit ----------------------------------------------------------

static void test_memory_limit(gr_rng *rng) {
  gr_backend *small = NULL;
  CHECK_OK(gr_backend_cuda_create(&small, 0, (size_t)1 << 20, 0));
  if (!small) return;
  CHECK(small->mem_limit == (size_t)1 << 20);
  void *a = NULL, *b = NULL;
  CHECK(small->ops->mem_alloc(small, &a, (size_t)2 << 20) == GR_ERR_DEVICE_MEM);
  CHECK(strstr(gr_last_error(), "--max-device-mem") != NULL);
  CHECK_OK(small->ops->mem_alloc(small, &a, (size_t)512 << 10));
  CHECK(small->ops->mem_alloc(small, &b, (size_t)600 << 10) == GR_ERR_DEVICE_MEM);
  small->ops->mem_free(small, a);
  CHECK_OK(small->ops->mem_alloc(small, &b, (size_t)600 << 10));
  small->ops->mem_free(small, b);
  small->ops->destroy(small);

  /* a tight budget forces top-k into several query batches */
  CHECK_OK(gr_backend_cuda_create(&small, 0, (size_t)4 << 20, 0));
  if (!small) return;
  topk_case tc = {3000, 200, 500, 32, 20, 1, 1, 1, 0};
  test_topk(rng, small, tc);
  small->ops->destroy(small);
}

int main(void) {
  CHECK_OK(gr_backend_cpu_create(&cpu, 0));
  const gr_status st = gr_backend_cuda_create(&gpu, 0, 0, 0);
  if (st != GR_OK) {
    const int rc = gr_test_no_gpu(gr_last_error());
    if (cpu) cpu->ops->destroy(cpu);
    return rc;
  }
  gr_rng rng;
  gr_rng_seed(&rng, 20240607);

  const int ks[6] = {1, 7, 32, 64, 100, 128};
  const int64_t gram_ns[3] = {0, 1, 2500};
  for (int a = 0; a < 6; a++)
    for (int b = 0; b < 3; b++)
      test_gram_and_norms(&rng, gram_ns[b], ks[a]);

  const int64_t shapes[6][2] = {{1, 5},       {200, 150}, {1000, 800},
                                {3000, 2000}, {500, 400}, {800, 1500}};
  for (int a = 0; a < 6; a++)
    test_als(&rng, shapes[a][0], shapes[a][1], ks[a]);
  test_cholesky_failure(&rng);
  test_topk_all(&rng);
  test_memory_limit(&rng);

  gpu->ops->destroy(gpu);
  cpu->ops->destroy(cpu);
  return gr_test_finish();
}
