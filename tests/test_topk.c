/* Top-k selection against a full-sort reference: ties, k > n, exclusions,
 * an allowed mask, NaN and infinite scores, k = 1 and k = n; scores with
 * many ties, continuous ones, and rising ones (every item displaces the
 * heap's root, so the block scan finds candidates in every block). */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/topk_dots.h"
#include "kernels/shared_math.h"

typedef struct cand {
  float s;
  int32_t i;
} cand;

static int cmp_cand(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (gr_rank_before(x->s, x->i, y->s, y->i)) return -1;
  if (gr_rank_before(y->s, y->i, x->s, x->i)) return 1;
  return 0;
}

enum { FEW_VALUES, CONTINUOUS, RISING };

static void check_select_kind(uint64_t seed, int64_t n, int topk, int with_excl, int with_mask,
                              int kind) {
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  float *scores = malloc(sizeof(float) * (size_t)(n + 1));
  int32_t *excl = malloc(sizeof(int32_t) * (size_t)(n + 1));
  uint8_t *allowed = malloc((size_t)n + 1);
  cand *ref = malloc(sizeof(cand) * (size_t)(n + 1));
  int64_t n_excl = 0, n_ref = 0;
  for (int64_t i = 0; i < n; i++) {
    if (kind == FEW_VALUES) scores[i] = (float)gr_rng_below(&rng, 7); /* many ties */
    if (kind == CONTINUOUS) scores[i] = (float)gr_rng_normal(&rng);
    if (kind == RISING) scores[i] = (float)i + (float)gr_rng_below(&rng, 3);
    if (gr_rng_below(&rng, 50) == 0) scores[i] = NAN;
    if (kind != FEW_VALUES && gr_rng_below(&rng, 97) == 0)
      scores[i] = gr_rng_below(&rng, 2) ? INFINITY : -INFINITY;
    allowed[i] = !with_mask || gr_rng_below(&rng, 3) != 0;
    const int ex = with_excl && gr_rng_below(&rng, 4) == 0;
    if (ex) excl[n_excl++] = (int32_t)i;
    if (!ex && allowed[i] && scores[i] == scores[i]) ref[n_ref++] = (cand){scores[i], (int32_t)i};
  }
  qsort(ref, (size_t)n_ref, sizeof(cand), cmp_cand);
  int32_t *idx = malloc(sizeof(int32_t) * (size_t)topk);
  float *out = malloc(sizeof(float) * (size_t)topk);
  gr_cpu_select_topk(idx, out, scores, n, excl, n_excl, with_mask ? allowed : NULL, topk);
  int ok = 1;
  for (int r = 0; r < topk; r++) {
    if (r < n_ref) {
      ok &= idx[r] == ref[r].i && out[r] == ref[r].s;
    } else {
      ok &= idx[r] == -1 && isinf(out[r]) && out[r] < 0;
    }
  }
  CHECK_MSG(ok, "seed %llu n %lld k %d excl %d mask %d kind %d", (unsigned long long)seed,
            (long long)n, topk, with_excl, with_mask, kind);
  free(scores);
  free(excl);
  free(allowed);
  free(ref);
  free(idx);
  free(out);
}

static void check_select(uint64_t seed, int64_t n, int topk, int with_excl, int with_mask) {
  check_select_kind(seed, n, topk, with_excl, with_mask, FEW_VALUES);
}

/* topk_dot through the backend table: scores Q.Y^T with query rows and an
 * exclusion CSR, checked against the direct selection. */
static void check_topk_dot(void) {
  gr_backend *be;
  CHECK_OK(gr_backend_cpu_create(&be, 2));
  const int k = 5, n_items = 40, n_users = 6, topk = 8;
  gr_rng rng;
  gr_rng_seed(&rng, 99);
  float Q[6 * 5], Y[40 * 5];
  for (int i = 0; i < n_users * k; i++)
    Q[i] = (float)gr_rng_normal(&rng);
  for (int i = 0; i < n_items * k; i++)
    Y[i] = (float)gr_rng_normal(&rng);
  int64_t indptr[7] = {0, 2, 2, 3, 3, 3, 5};
  int32_t indices[5] = {1, 7, 0, 3, 39};
  gr_csr_view ex = {n_users, n_items, 5, indptr, indices, NULL};
  int32_t rows[3] = {5, 0, 2};
  int32_t idx[3 * 8];
  float sc[3 * 8];
  CHECK_OK(be->ops->topk_dot(be, idx, sc, Q, rows, 3, Y, n_items, k, &ex, NULL, topk));
  for (int q = 0; q < 3; q++) {
    const int r = rows[q];
    float s[40];
    for (int i = 0; i < n_items; i++) {
      double d = 0;
      for (int j = 0; j < k; j++)
        d += (double)Q[r * k + j] * Y[i * k + j];
      s[i] = (float)d;
    }
    int32_t ridx[8];
    float rsc[8];
    gr_cpu_select_topk(ridx, rsc, s, n_items, indices + indptr[r], indptr[r + 1] - indptr[r], NULL,
                       topk);
    for (int t = 0; t < topk; t++) {
      CHECK_NEAR(sc[q * topk + t], rsc[t], 1e-4);
      for (int64_t e = indptr[r]; e < indptr[r + 1]; e++)
        CHECK(idx[q * topk + t] != indices[e]);
    }
  }
  CHECK(be->ops->topk_dot(be, idx, sc, Q, rows, 3, Y, n_items, k, &ex, NULL, 0) ==
        GR_ERR_INVALID_ARG);
  be->ops->destroy(be);
}

/* The fused topk_dot against a full sort of every score computed one at a
 * time in the kernel's order (gr_cpu_topk_reference_dot): items, scores and
 * the order among ties bit for bit, on 1 and 2 threads and through chunks
 * down to one panel. Integer factors make exact ties; a few items have NaN
 * or infinite factors. Sizes straddle the panel and the query block; with
 * 256 queries or more the items go by norm and queries stop early, so the
 * item and query norms are spread over decades there. */
static void check_fused(uint64_t seed, int n_users, int n_q, int64_t n_items, int k, int topk,
                        int integers) {
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  float *Q = malloc(sizeof(float) * (size_t)n_users * k);
  float *Y = malloc(sizeof(float) * (size_t)n_items * k);
  for (int64_t i = 0; i < (int64_t)n_users * k; i++)
    Q[i] = integers ? (float)((int)gr_rng_below(&rng, 7) - 3) : (float)gr_rng_normal(&rng);
  for (int64_t i = 0; i < n_items * k; i++)
    Y[i] = integers ? (float)((int)gr_rng_below(&rng, 7) - 3) : (float)gr_rng_normal(&rng);
  if (!integers) /* norms over 4 decades, as ALS gives popular and rare items */
    for (int64_t i = 0; i < n_items; i++) {
      const float scale = powf(10.0f, (float)gr_rng_uniform(&rng) * 4 - 2);
      for (int f = 0; f < k; f++)
        Y[i * k + f] *= scale;
    }
  /* items along a query's direction score its bound |q| |y| exactly:
   * the early stop must leave room for nothing less */
  for (int64_t i = 0; !integers && i < n_items; i += 3) {
    const float *qv = Q + (size_t)gr_rng_below(&rng, (uint64_t)n_users) * k;
    const float scale = powf(10.0f, (float)gr_rng_uniform(&rng) * 2 - 1);
    for (int f = 0; f < k; f++)
      Y[i * k + f] = scale * qv[f];
  }
  for (int64_t i = 0; i < n_items; i++) {
    const uint64_t d = gr_rng_below(&rng, 60);
    if (d == 0) Y[i * k + gr_rng_below(&rng, (uint64_t)k)] = NAN;
    if (d == 1) Y[i * k + gr_rng_below(&rng, (uint64_t)k)] = INFINITY;
  }
  int32_t *rows = malloc(sizeof(int32_t) * (size_t)n_q);
  for (int q = 0; q < n_q; q++)
    rows[q] = (int32_t)gr_rng_below(&rng, (uint64_t)n_users);
  /* exclusions: each user's sorted random items */
  int64_t *indptr = calloc((size_t)n_users + 1, sizeof(int64_t));
  int32_t *indices = malloc(sizeof(int32_t) * (size_t)n_users * (size_t)(n_items + 1));
  uint8_t *allowed = malloc((size_t)n_items + 1);
  for (int u = 0; u < n_users; u++) {
    indptr[u + 1] = indptr[u];
    for (int64_t i = 0; i < n_items; i++)
      if (gr_rng_below(&rng, 5) == 0) indices[indptr[u + 1]++] = (int32_t)i;
  }
  for (int64_t i = 0; i < n_items; i++)
    allowed[i] = gr_rng_below(&rng, 4) != 0;
  const int use_mask = (int)(seed % 2);
  gr_csr_view ex = {n_users, n_items, indptr[n_users], indptr, indices, NULL};
  /* the reference: every kept score, fully sorted */
  cand *ref = malloc(sizeof(cand) * (size_t)n_q * (size_t)(n_items + 1));
  int64_t *n_ref = calloc((size_t)n_q, sizeof(int64_t));
  for (int q = 0; q < n_q; q++) {
    const int u = rows[q];
    cand *c = ref + (size_t)q * (size_t)(n_items + 1);
    int64_t e = indptr[u];
    for (int64_t i = 0; i < n_items; i++) {
      while (e < indptr[u + 1] && indices[e] < i)
        e++;
      if (e < indptr[u + 1] && indices[e] == i) continue;
      if (use_mask && !allowed[i]) continue;
      const float s = gr_cpu_topk_reference_dot(Q + (size_t)u * k, Y + (size_t)i * k, k);
      if (s == s) c[n_ref[q]++] = (cand){s, (int32_t)i};
    }
    qsort(c, (size_t)n_ref[q], sizeof(cand), cmp_cand);
  }
  int32_t *idx = malloc(sizeof(int32_t) * (size_t)n_q * topk);
  float *sc = malloc(sizeof(float) * (size_t)n_q * topk);
  const size_t one_panel = sizeof(float) * GR_TK_PANEL * (size_t)k;
  const size_t limits[3] = {0, one_panel, 3 * one_panel + 5};
  for (int threads = 1; threads <= 2; threads++) {
    gr_backend *be;
    CHECK_OK(gr_backend_cpu_create(&be, threads));
    for (int l = 0; l < 3; l++) {
      be->mem_limit = limits[l];
      CHECK_OK(be->ops->topk_dot(be, idx, sc, Q, rows, n_q, Y, n_items, k, &ex,
                                 use_mask ? allowed : NULL, topk));
      int bad = 0;
      for (int q = 0; q < n_q; q++) {
        const cand *c = ref + (size_t)q * (size_t)(n_items + 1);
        for (int t = 0; t < topk; t++) {
          const int32_t i = idx[(size_t)q * topk + t];
          const float s = sc[(size_t)q * topk + t];
          if (t < n_ref[q])
            bad += i != c[t].i || memcmp(&s, &c[t].s, sizeof s) != 0;
          else
            bad += i != -1 || !(isinf(s) && s < 0);
        }
      }
      CHECK_MSG(bad == 0,
                "fused seed %llu: %d users, %lld items, k %d, top %d, %d threads, limit %zu: "
                "%d slots differ",
                (unsigned long long)seed, n_users, (long long)n_items, k, topk, threads, limits[l],
                bad);
    }
    be->ops->destroy(be);
  }
  free(Q);
  free(Y);
  free(rows);
  free(indptr);
  free(indices);
  free(allowed);
  free(ref);
  free(n_ref);
  free(idx);
  free(sc);
}

/* Ranks COPIES copies of query q against Y (., k) on 2 threads (enough
 * queries for the norm order), and returns how many copies did not keep
 * exactly want_idx with scores want_sc (top each); *first: the first
 * copy's best item. */
enum { COPIES = 300 };
static int copies_off(const float *q, const float *Y, int n_items, int k, int top,
                      const int32_t *want_idx, const float *want_sc, int32_t *first) {
  int32_t *rows = calloc(COPIES, sizeof(int32_t)), *idx = malloc(sizeof(int32_t) * COPIES * top);
  float *sc = malloc(sizeof(float) * COPIES * top);
  gr_backend *be;
  CHECK_OK(gr_backend_cpu_create(&be, 2));
  CHECK_OK(be->ops->topk_dot(be, idx, sc, q, rows, COPIES, Y, n_items, k, NULL, NULL, top));
  int off = 0;
  for (int i = 0; i < COPIES; i++)
    for (int t = 0; t < top; t++)
      if (idx[i * top + t] != want_idx[t] || sc[i * top + t] != want_sc[t]) {
        off++;
        break;
      }
  *first = idx[0];
  be->ops->destroy(be);
  free(rows);
  free(idx);
  free(sc);
  return off;
}

/* The early stop against its tightest case: an item along the query's
 * direction scores |q| |y|, its bound. The heap keeps W (norm 2, score
 * (1 - 1e-5) |q|) from the first panel; the items of norm 1.5 that score
 * below it fill that panel and the next, so X (along q, norm 1, score |q|)
 * opens the third: a query that stopped on a bound short by 1e-5 would
 * keep W. */
static void check_norm_stop_tight(void) {
  enum { K = 16, N_FILL = 2 * GR_TK_PANEL - 1, N_SMALL = 100, N_ITEMS = 2 + N_FILL + N_SMALL };
  gr_rng rng;
  gr_rng_seed(&rng, 77);
  float q[K], qhat[K], perp[K];
  double qq = 0, qp = 0, pp = 0;
  for (int f = 0; f < K; f++) {
    q[f] = (float)gr_rng_normal(&rng);
    perp[f] = (float)gr_rng_normal(&rng);
    qq += (double)q[f] * q[f];
  }
  for (int f = 0; f < K; f++)
    qhat[f] = (float)(q[f] / sqrt(qq));
  for (int f = 0; f < K; f++)
    qp += (double)perp[f] * qhat[f];
  for (int f = 0; f < K; f++)
    perp[f] -= (float)(qp * qhat[f]);
  for (int f = 0; f < K; f++)
    pp += (double)perp[f] * perp[f];
  const double c = (1 - 1e-5) / 2;
  float *Y = malloc(sizeof(float) * N_ITEMS * K);
  for (int f = 0; f < K; f++) {
    Y[0 * K + f] = (float)(2 * (c * qhat[f] + sqrt(1 - c * c) * perp[f] / sqrt(pp))); /* W */
    Y[1 * K + f] = qhat[f];                                                           /* X */
  }
  for (int i = 2; i < 2 + N_FILL; i++)
    for (int f = 0; f < K; f++)
      Y[i * K + f] = -1.5f * qhat[f];
  for (int i = 2 + N_FILL; i < N_ITEMS; i++)
    for (int f = 0; f < K; f++)
      Y[i * K + f] = 0.05f * (float)gr_rng_normal(&rng);
  const int32_t want = 1;
  const float x = gr_cpu_topk_reference_dot(q, Y + K, K);
  int32_t first;
  const int bad = copies_off(q, Y, N_ITEMS, K, 1, &want, &x, &first);
  CHECK_MSG(bad == 0, "the item along the query was missed by %d queries (first got %d)", bad,
            first);
  CHECK(gr_cpu_topk_reference_dot(q, Y, K) < x); /* W really is second */
  free(Y);
}

/* Scores that overflow: |q| and |y| are finite, q . y is +inf for items
 * 1.., and those tie at +inf, so the lowest indices rank first. The norm
 * order meets them highest index first; a bound taken past FLT_MAX would
 * stop the query on a full heap of +inf and keep the wrong ones. */
static void check_overflow_ties(void) {
  enum { K = 4, N_ITEMS = 100, TOP = 2 };
  float q[K] = {1e20f, 0, 0, 0}, *Y = calloc(N_ITEMS * K, sizeof(float));
  Y[0] = 1.0f; /* item 0: a finite score */
  for (int i = 1; i < N_ITEMS; i++)
    Y[i * K] = 1e20f * (1.0f + 1e-3f * (float)i);
  const int32_t want[TOP] = {1, 2};
  const float want_sc[TOP] = {INFINITY, INFINITY};
  int32_t first;
  const int bad = copies_off(q, Y, N_ITEMS, K, TOP, want, want_sc, &first);
  CHECK_MSG(bad == 0, "%d queries kept other items than 1 and 2 (first: %d)", bad, first);
  free(Y);
}

/* Scores that underflow: with q = X = (a, a, a, a), a^2 = 0.78 of the
 * smallest subnormal u, each step of the dot rounds up, so X scores 4u
 * against its bound |q| |X| = 3.125u. W (the larger norm, index 1) also
 * scores 4u and is kept first; X (index 0) ranks before it and opens the
 * third panel, as in check_norm_stop_tight: without the absolute slack the
 * query would stop before X. */
static void check_underflow_bound(void) {
  enum { K = 4, N_FILL = 2 * GR_TK_PANEL - 1, N_ITEMS = 2 + N_FILL };
  const float a = 0x1.4p-75f, c = 0x1.99999ap-73f, d = 0x1p-73f;
  float q[K] = {a, a, a, a}, *Y = calloc(N_ITEMS * K, sizeof(float));
  for (int f = 0; f < K; f++)
    Y[f] = a; /* X, along q */
  Y[K] = c;   /* W */
  for (int i = 2; i < N_ITEMS; i++)
    Y[i * K] = -d;
  const float x = gr_cpu_topk_reference_dot(q, Y, K), w = gr_cpu_topk_reference_dot(q, Y + K, K);
  const double bound = 2.0 * a * 2.0 * a * (1 + (K + 4) * 0x1p-23);
  CHECK_MSG(x == w && (double)w > bound, "the case is not what it tests: x %g w %g bound %g", x, w,
            bound);
  const int32_t want = 0;
  int32_t first;
  const int bad = copies_off(q, Y, N_ITEMS, K, 1, &want, &x, &first);
  CHECK_MSG(bad == 0, "%d queries missed the subnormal item (first kept %d)", bad, first);
  free(Y);
}

/* The batch planner: any memory limit, down to one query per batch, gives
 * the same rankings as one batch. */
static void check_planner_invariance(void) {
  gr_backend *be;
  CHECK_OK(gr_backend_cpu_create(&be, 2));
  const int k = 4, n_items = 300, n_q = 37, topk = 9;
  gr_rng rng;
  gr_rng_seed(&rng, 5);
  float *Q = malloc(sizeof(float) * n_q * k), *Y = malloc(sizeof(float) * n_items * k);
  for (int i = 0; i < n_q * k; i++)
    Q[i] = (float)gr_rng_normal(&rng);
  for (int i = 0; i < n_items * k; i++)
    Y[i] = (float)gr_rng_normal(&rng);
  int32_t ref_idx[37 * 9], idx[37 * 9];
  float ref_sc[37 * 9], sc[37 * 9];
  be->mem_limit = 0;
  CHECK_OK(be->ops->topk_dot(be, ref_idx, ref_sc, Q, NULL, n_q, Y, n_items, k, NULL, NULL, topk));
  const size_t limits[] = {1, sizeof(float) * n_items, sizeof(float) * n_items * 2 + 3,
                           sizeof(float) * n_items * 10, 1u << 30};
  for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
    be->mem_limit = limits[l];
    CHECK_OK(be->ops->topk_dot(be, idx, sc, Q, NULL, n_q, Y, n_items, k, NULL, NULL, topk));
    CHECK_MSG(memcmp(idx, ref_idx, sizeof idx) == 0 && memcmp(sc, ref_sc, sizeof sc) == 0,
              "limit %zu changed the ranking", limits[l]);
  }
  free(Q);
  free(Y);
  be->ops->destroy(be);
}

int main(void) {
  for (uint64_t seed = 1; seed <= 30; seed++) {
    gr_rng rng;
    gr_rng_seed(&rng, seed * 7919);
    const int64_t n = 1 + (int64_t)gr_rng_below(&rng, 500);
    const int topk = 1 + (int)gr_rng_below(&rng, 64);
    check_select(seed, n, topk, (int)(seed % 2), (int)(seed % 3 == 0));
  }
  check_select(100, 50, 1, 1, 1);      /* k = 1 */
  check_select(101, 50, 50, 0, 0);     /* k = n */
  check_select(102, 50, 80, 1, 0);     /* k > n */
  check_select(103, 3000, 1024, 1, 1); /* the largest k */
  check_select(104, 1, 3, 1, 1);
  for (uint64_t seed = 200; seed < 240; seed++) {
    gr_rng rng;
    gr_rng_seed(&rng, seed);
    const int64_t n = 1 + (int64_t)gr_rng_below(&rng, 5000);
    const int topk = 1 + (int)gr_rng_below(&rng, seed % 4 == 0 ? 1024 : 40);
    check_select_kind(seed, n, topk, (int)(seed % 2), (int)(seed % 3 == 0),
                      seed % 5 == 0 ? RISING : CONTINUOUS);
  }
  check_topk_dot();
  check_planner_invariance();
  /* sizes around the panel (GR_TK_PANEL items) and the query block */
  const int64_t item_counts[6] = {1, GR_TK_PANEL - 1, GR_TK_PANEL, GR_TK_PANEL + 1, 200, 1000};
  for (uint64_t seed = 300; seed < 324; seed++) {
    const int64_t n_items = item_counts[seed % 6];
    const int k = (int[]){1, 3, 16, 33}[(seed / 6) % 4];
    const int topk = 1 + (int)((seed * 37) % (seed % 3 == 0 ? 1024 : 12));
    const int n_users = 1 + (int)(seed % 19);
    check_fused(seed, n_users, 1 + (int)((seed * 13) % (n_users + 4)), n_items, k, topk,
                (int)(seed % 4 < 2));
  }
  /* enough queries for the norm order */
  check_fused(400, 40, 300, 1000, 16, 10, 0);
  check_fused(401, 40, 260, 777, 33, 50, 0);
  check_fused(402, 30, 256, 500, 8, 5, 1);
  check_fused(403, 50, 270, 2000, 64, 1, 0);
  check_norm_stop_tight();
  check_overflow_ties();
  check_underflow_bound();
  return gr_test_finish();
}
