/* The KMeans driver: seeding, iteration and restarts around the backend's
 * assign and update steps. Each restart draws from its own stream of the
 * seed, so the result depends on the seed alone. */
#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "context.h"
#include "kernels/cpu/cpu_ops.h"

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

/* k-means++: the first center uniformly, each next one with probability
 * proportional to the squared distance to the nearest center so far. */
static gr_status seed_plus_plus(gr_backend *be, float *C, const float *X, int64_t n, int d, int k,
                                gr_rng *rng, int32_t *labels, float *d2) {
  memcpy(C, X + (size_t)gr_rng_below(rng, (uint64_t)n) * d, sizeof(float) * (size_t)d);
  for (int c = 1; c < k; c++) {
    GR_TRY(gr_cpu_kmeans_assign(be, labels, d2, X, n, d, C, c));
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
    memcpy(C + (size_t)c * d, X + (size_t)pick * d, sizeof(float) * (size_t)d);
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
  double total = 0;
  for (int j = 0; j < d; j++) {
    double s = 0, s2 = 0;
    for (int64_t r = 0; r < n; r++) {
      s += X[(size_t)r * d + j];
      s2 += (double)X[(size_t)r * d + j] * X[(size_t)r * d + j];
    }
    const double m = s / (double)n;
    total += s2 / (double)n - m * m;
  }
  return total / d;
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
  gr_backend *be = NULL;
  GR_TRY(gr_backend_cpu_create(&be, ctx->be->n_threads));
  const size_t kd = (size_t)p.k * d;
  float *C = malloc(sizeof(float) * kd), *prev = malloc(sizeof(float) * kd);
  float *d2 = malloc(sizeof(float) * (size_t)n);
  int32_t *labels = malloc(sizeof(int32_t) * (size_t)n);
  int64_t *counts = malloc(sizeof(int64_t) * (size_t)p.k);
  memset(out, 0, sizeof *out);
  out->centroids = malloc(sizeof(float) * kd);
  out->labels = malloc(sizeof(int32_t) * (size_t)n);
  gr_status st = C && prev && d2 && labels && counts && out->centroids && out->labels
                     ? GR_OK
                     : gr_fail(GR_ERR_NOMEM, "cannot allocate KMeans buffers");
  const double tol = p.tol * mean_variance(X, n, d);
  out->inertia = INFINITY;
  out->k = p.k;
  out->d = d;
  for (int run = 0; st == GR_OK && run < p.n_init; run++) {
    gr_rng rng;
    gr_rng_seed_stream(&rng, p.seed, (uint64_t)run);
    st = seed_plus_plus(be, C, X, n, d, p.k, &rng, labels, d2);
    int it = 0;
    for (; st == GR_OK && it < p.max_iter; it++) {
      st = gr_cpu_kmeans_assign(be, labels, d2, X, n, d, C, p.k);
      memcpy(prev, C, sizeof(float) * kd);
      if (st == GR_OK) st = gr_cpu_kmeans_update(be, C, counts, X, labels, n, d, p.k);
      if (st != GR_OK) break;
      relocate_empty(C, counts, X, d2, n, d, p.k);
      double shift = 0;
      for (size_t i = 0; i < kd; i++)
        shift += ((double)C[i] - prev[i]) * ((double)C[i] - prev[i]);
      if (shift <= tol) {
        it++;
        break;
      }
    }
    if (st != GR_OK) break;
    /* final labels and inertia against the final centers */
    st = gr_cpu_kmeans_assign(be, labels, d2, X, n, d, C, p.k);
    double inertia = 0;
    for (int64_t r = 0; r < n; r++)
      inertia += d2[r];
    if (st == GR_OK && inertia < out->inertia) {
      out->inertia = inertia;
      out->iterations = it;
      memcpy(out->centroids, C, sizeof(float) * kd);
      memcpy(out->labels, labels, sizeof(int32_t) * (size_t)n);
    }
  }
  free(C);
  free(prev);
  free(d2);
  free(labels);
  free(counts);
  be->ops->destroy(be);
  if (st != GR_OK) gr_kmeans_result_free(out);
  return st;
}
