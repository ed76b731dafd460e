/* The KMeans driver: seeding, iteration and restarts around the context
 * backend's assign and update steps (CPU or CUDA). X is staged once; the
 * host keeps the small state (centers, counts) and does the sequential
 * parts (k-means++ draws, empty-cluster relocation, the stopping test).
 * Each restart draws from its own stream of the seed, so the result
 * depends on the seed alone. */
#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "context.h"

void gr_kmeans_params_default(gr_kmeans_params *p) {
  p->k = 8;
  p->max_iter = 300;
  p->tol = 1e-4;
  p->n_init = 1;
  p->seed = 42;
}

void gr_kmeans_result_free(gr_kmeans_result *r) {
  free(r->centroids);
  free(r->labels);
  r->centroids = NULL;
  r->labels = NULL;
}

/* The fit's buffers. X, C, counts and d2 have host copies (X is the
 * caller's); the backend holds X, C, labels, d2 and counts, and the host
 * downloads only what it reads: counts and C every iteration, d2 for the
 * k-means++ draws, relocation and the inertia. */
typedef struct km_fit {
  gr_backend *be;
  const float *X; /* (n, d) host */
  int64_t n;
  int d, k;
  float *dX, *dC, *dd2; /* backend: (n, d), (k, d), (n) */
  int32_t *dlabels;     /* backend: (n) */
  int64_t *dcounts;     /* backend: (k) */
  float *C, *d2;        /* host: (k, d), (n) */
  int64_t *counts;      /* host: (k) */
} km_fit;

/* The distances of the last assignment, readable on the host: the backend's
 * own buffer when it is host memory, else a download into f->d2. */
static gr_status host_d2(km_fit *f, float **d2) {
  if (f->be->host_memory) {
    *d2 = f->dd2;
    return GR_OK;
  }
  *d2 = f->d2;
  return f->be->ops->download(f->be, f->d2, f->dd2, sizeof(float) * (size_t)f->n);
}

/* Center c of the host copy takes row r of X, and goes to the backend. */
static gr_status set_center(km_fit *f, int c, int64_t r) {
  const size_t row = sizeof(float) * (size_t)f->d;
  memcpy(f->C + (size_t)c * f->d, f->X + (size_t)r * f->d, row);
  return f->be->ops->upload(f->be, f->dC + (size_t)c * f->d, f->C + (size_t)c * f->d, row);
}

/* k-means++: the first center uniformly, each next one with probability
 * proportional to the squared distance to the nearest center so far. */
static gr_status seed_plus_plus(km_fit *f, gr_rng *rng) {
  gr_backend *be = f->be;
  const int64_t n = f->n;
  GR_TRY(set_center(f, 0, (int64_t)gr_rng_below(rng, (uint64_t)n)));
  for (int c = 1; c < f->k; c++) {
    GR_TRY(be->ops->kmeans_assign(be, f->dlabels, f->dd2, f->dX, n, f->d, f->dC, c));
    float *d2 = NULL;
    GR_TRY(host_d2(f, &d2));
    double total = 0;
    for (int64_t r = 0; r < n; r++)
      total += d2[r];
    int64_t pick = (int64_t)gr_rng_below(rng, (uint64_t)n); /* all points on centers: any */
    if (total > 0) {
      const double u = gr_rng_uniform(rng) * total;
      double acc = 0;
      for (pick = 0; pick < n - 1; pick++) {
        acc += d2[pick];
        if (acc > u) break;
      }
    }
    GR_TRY(set_center(f, c, pick));
  }
  return GR_OK;
}

/* An empty cluster takes the point farthest from its center (the lowest
 * index among equals), as scikit-learn relocates them. */
static void relocate_empty(float *C, int64_t *counts, const float *X, float *d2, int64_t n, int d,
                           int k) {
  for (int c = 0; c < k; c++) {
    if (counts[c] > 0) continue;
    int64_t far = 0;
    for (int64_t r = 1; r < n; r++)
      if (d2[r] > d2[far]) far = r;
    memcpy(C + (size_t)c * d, X + (size_t)far * d, sizeof(float) * (size_t)d);
    d2[far] = 0; /* the next empty cluster takes another point */
  }
}

/* Mean over features of the per-feature variance: the scale of tol. */
static double mean_variance(const float *X, int64_t n, int d) {
  double *s = calloc((size_t)d * 2, sizeof(double)), *s2 = s + d;
  if (!s) return 1.0;             /* only scales tol; the allocation below will fail loudly */
  for (int64_t r = 0; r < n; r++) /* row-major pass; each column summed in row order */
    for (int j = 0; j < d; j++) {
      const double x = X[(size_t)r * d + j];
      s[j] += x;
      s2[j] += x * x;
    }
  double total = 0;
  for (int j = 0; j < d; j++) {
    const double m = s[j] / (double)n;
    total += s2[j] / (double)n - m * m;
  }
  free(s);
  return total / d;
}

/* Device memory a fit needs beyond C and counts: X, labels, d2 and the
 * update's sort buffers (two key and two index arrays). */
static gr_status check_device_budget(const gr_backend *be, int64_t n, int d) {
  if (be->host_memory || be->mem_limit == 0) return GR_OK;
  const double per_row = 4.0 * d + 4 + 4 + 16;
  const double need = per_row * (double)n;
  if (need <= (double)be->mem_limit) return GR_OK;
  return gr_fail(GR_ERR_DEVICE_MEM,
                 "kmeans: %lld rows of %d features need about %.1f MiB of device memory (the "
                 "data is %.1f MiB), more than the limit of %.1f MiB (raise --max-device-mem, "
                 "or run with --device cpu)",
                 (long long)n, d, need / 1048576.0, 4.0 * d * (double)n / 1048576.0,
                 (double)be->mem_limit / 1048576.0);
}

/* One Lloyd step (assign, update, relocate) and the squared center shift. */
static gr_status lloyd_step(km_fit *f, float *prev, double *shift) {
  gr_backend *be = f->be;
  const size_t kd = (size_t)f->k * f->d;
  GR_TRY(be->ops->kmeans_assign(be, f->dlabels, f->dd2, f->dX, f->n, f->d, f->dC, f->k));
  memcpy(prev, f->C, sizeof(float) * kd);
  GR_TRY(be->ops->kmeans_update(be, f->dC, f->dcounts, f->dX, f->dlabels, f->n, f->d, f->k));
  GR_TRY(be->ops->download(be, f->counts, f->dcounts, sizeof(int64_t) * (size_t)f->k));
  GR_TRY(be->ops->download(be, f->C, f->dC, sizeof(float) * kd));
  int empty = 0;
  for (int c = 0; c < f->k; c++)
    empty |= f->counts[c] == 0;
  if (empty) {
    float *d2 = NULL;
    GR_TRY(host_d2(f, &d2));
    relocate_empty(f->C, f->counts, f->X, d2, f->n, f->d, f->k);
    GR_TRY(be->ops->upload(be, f->dC, f->C, sizeof(float) * kd));
  }
  double s = 0;
  for (size_t i = 0; i < kd; i++)
    s += ((double)f->C[i] - prev[i]) * ((double)f->C[i] - prev[i]);
  *shift = s;
  return GR_OK;
}

gr_status gr_kmeans_fit(gr_context *ctx, const float *X, int64_t n, int d,
                        const gr_kmeans_params *params, gr_kmeans_result *out) {
  gr_kmeans_params p;
  if (params) {
    p = *params;
  } else {
    gr_kmeans_params_default(&p);
  }
  if (p.k < 1 || p.max_iter < 1 || p.n_init < 1 || !(p.tol >= 0) || d < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans: k, max_iter, n_init >= 1, tol >= 0 and d >= 1");
  if (n < p.k)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans: %lld rows cannot make %d clusters", (long long)n,
                   p.k);
  for (size_t i = 0; i < (size_t)n * d; i++)
    if (!isfinite(X[i]))
      return gr_fail(GR_ERR_INVALID_ARG, "kmeans: row %lld has a value that is not finite",
                     (long long)(i / (size_t)d));
  gr_backend *be = ctx->be;
  GR_TRY(check_device_budget(be, n, d));
  const size_t kd = (size_t)p.k * d;
  km_fit f = {be, X, n, d, p.k, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  float *prev = malloc(sizeof(float) * kd);
  f.C = malloc(sizeof(float) * kd);
  f.d2 = malloc(sizeof(float) * (size_t)n);
  f.counts = malloc(sizeof(int64_t) * (size_t)p.k);
  memset(out, 0, sizeof *out);
  out->centroids = malloc(sizeof(float) * kd);
  out->labels = malloc(sizeof(int32_t) * (size_t)n);
  gr_status st = f.C && prev && f.d2 && f.counts && out->centroids && out->labels
                     ? GR_OK
                     : gr_fail(GR_ERR_NOMEM, "cannot allocate KMeans buffers");
  if (st == GR_OK) st = gr_stage(be, (void **)&f.dX, X, sizeof(float) * (size_t)n * d);
  if (st == GR_OK) st = be->ops->mem_alloc(be, (void **)&f.dC, sizeof(float) * kd);
  if (st == GR_OK) st = be->ops->mem_alloc(be, (void **)&f.dd2, sizeof(float) * (size_t)n);
  if (st == GR_OK) st = be->ops->mem_alloc(be, (void **)&f.dlabels, sizeof(int32_t) * (size_t)n);
  if (st == GR_OK) st = be->ops->mem_alloc(be, (void **)&f.dcounts, sizeof(int64_t) * (size_t)p.k);
  const double tol = p.tol * mean_variance(X, n, d);
  out->inertia = INFINITY;
  out->k = p.k;
  out->d = d;
  for (int run = 0; st == GR_OK && run < p.n_init; run++) {
    gr_rng rng;
    gr_rng_seed_stream(&rng, p.seed, (uint64_t)run);
    st = seed_plus_plus(&f, &rng);
    int it = 0;
    for (; st == GR_OK && it < p.max_iter; it++) {
      double shift = 0;
      st = lloyd_step(&f, prev, &shift);
      if (st == GR_OK && shift <= tol) {
        it++;
        break;
      }
    }
    if (st != GR_OK) break;
    /* final labels and inertia against the final centers */
    float *d2 = NULL;
    st = be->ops->kmeans_assign(be, f.dlabels, f.dd2, f.dX, n, d, f.dC, p.k);
    if (st == GR_OK) st = host_d2(&f, &d2);
    if (st != GR_OK) break;
    double inertia = 0;
    for (int64_t r = 0; r < n; r++)
      inertia += d2[r];
    if (inertia < out->inertia) {
      out->inertia = inertia;
      out->iterations = it;
      memcpy(out->centroids, f.C, sizeof(float) * kd);
      st = be->ops->download(be, out->labels, f.dlabels, sizeof(int32_t) * (size_t)n);
    }
  }
  be->ops->mem_free(be, f.dcounts);
  be->ops->mem_free(be, f.dlabels);
  be->ops->mem_free(be, f.dd2);
  be->ops->mem_free(be, f.dC);
  gr_unstage(be, f.dX, X);
  free(prev);
  free(f.C);
  free(f.d2);
  free(f.counts);
  if (st != GR_OK) gr_kmeans_result_free(out);
  return st;
}

gr_status gr_kmeans_predict(gr_context *ctx, const float *X, int64_t n, int d, const float *C,
                            int k, int32_t *labels) {
  if (k < 1 || d < 1 || n < 0) return gr_fail(GR_ERR_INVALID_ARG, "kmeans: k, d >= 1");
  if (n == 0) return GR_OK;
  gr_backend *be = ctx->be;
  GR_TRY(check_device_budget(be, n, d));
  void *dX = NULL, *dC = NULL, *dlabels = labels;
  gr_status st;
  GR_CHECK_GOTO(st, gr_stage(be, &dX, X, sizeof(float) * (size_t)n * d), done);
  GR_CHECK_GOTO(st, gr_stage(be, &dC, C, sizeof(float) * (size_t)k * d), done);
  if (!be->host_memory)
    GR_CHECK_GOTO(st, be->ops->mem_alloc(be, &dlabels, sizeof(int32_t) * (size_t)n), done);
  GR_CHECK_GOTO(st, be->ops->kmeans_assign(be, dlabels, NULL, dX, n, d, dC, k), done);
  if (!be->host_memory) st = be->ops->download(be, labels, dlabels, sizeof(int32_t) * (size_t)n);
done:
  gr_unstage(be, dX, X);
  gr_unstage(be, dC, C);
  gr_unstage(be, dlabels, labels);
  return st;
}
