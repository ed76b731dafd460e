/* The KMeans driver: seeding, iteration and restarts around the context
 * backend's KMeans ops (CPU or CUDA). X reaches the backend in row blocks,
 * each a multiple of GR_KM_CHUNK rows: all of X when it fits the memory
 * budget (staged once, resident for the fit), else one block after the
 * other on every pass. On a host-memory backend the blocks are pointers
 * into X. The ops sum rows in fixed chunks, so no result depends on the
 * block size. The row norms are computed once per fit. The host keeps the
 * small state (centers, sums, counts) and does the sequential parts
 * (k-means++ draws, empty-cluster relocation, the stopping test). Each
 * restart draws from its own stream of the seed, so the result depends on
 * the seed alone. On the CPU the Lloyd steps go through Elkan's bounds
 * (kmeans_step_bounded): a row whose label cannot change is not read, and
 * the sums follow the rows that move, in fixed point. The labels are those
 * of the plain steps. */
#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "../kernels/shared_math.h"
#include "context.h"
#include "packed_x.h"

/* Above this many clusters the fit runs plain Lloyd steps: the bounds
 * (k floats a row) would cost memory on the scale of X. */
#define GR_KM_BOUNDED_MAX_K 32

void gr_kmeans_params_default(gr_kmeans_params *p) {
  p->k = 8;
  p->max_iter = 300;
  p->tol = 1e-4;
  p->n_init = 1;
  p->seed = 42;
  p->block_rows = 0;
  p->bounds = 1;
  p->stop = NULL;
  p->progress = NULL;
  p->progress_user = NULL;
  p->packed = NULL;
}

void gr_kmeans_result_free(gr_kmeans_result *r) {
  free(r->centroids);
  free(r->labels);
  r->centroids = NULL;
  r->labels = NULL;
}

// ---- blocks of X on the backend ---------------------------------------------

/* X as the backend sees it. Resident: the backend arrays cover all n rows
 * and block b is a window at row b * rows. Staged: they cover one block,
 * refilled each pass. On a host-memory backend (alias) the backend arrays
 * are the host ones and X itself. */
typedef struct km_blocks {
  gr_backend *be;
  const float *X; /* (n, d) host */
  int64_t n;
  int d;
  int64_t rows; /* per block */
  int staged, alias;
  float *dX, *dnorm, *dd2; /* backend: (n or rows, d), (n or rows) */
  int32_t *dlabels;        /* backend: (n or rows) */
  float *norm, *d2;        /* host (n) or NULL: norm is the cache when staged */
  int32_t *labels;         /* host (n) or NULL */
  /* X packed (one host block only), for the dots; or NULL */
  const struct gr_packed_rows *packed;
} km_blocks;

enum { KM_NORMS = 1, KM_LABELS = 2, KM_D2 = 4 };

/* Backend bytes one row of a block costs (X, norm, label, d2, the (rows, k)
 * score tile, and with sums the per-chunk (k, d + 1) double partials), and
 * the bytes of the rest (centers and their norms, sums, counts, the score
 * tile's rounding up to a whole chunk, allocation rounding). */
static double bytes_per_row(int d, int k, int fit) {
  return 4.0 * d + 8 + (fit ? 4 : 0) + 4.0 * k + (fit ? 8.0 * k * (d + 1) / GR_KM_CHUNK : 0);
}
static double bytes_fixed(int d, int k) {
  return 12.0 * k * d + 12.0 * k + 4.0 * k * GR_KM_CHUNK + 65536;
}

/* Rows per block: `asked` when given, else all rows when they fit the
 * backend's free memory, else the most whole chunks that fit. */
static gr_status plan_rows(km_blocks *bl, int k, int fit, int64_t asked) {
  gr_backend *be = bl->be;
  const int64_t n = bl->n;
  bl->alias = be->host_memory;
  if (asked > 0) {
    bl->rows = asked < n ? asked : n;
  } else if (bl->alias) {
    bl->rows = n;
  } else {
    const double per_row = bytes_per_row(bl->d, k, fit), fixed = bytes_fixed(bl->d, k);
    const double avail = (double)be->ops->mem_available(be);
    const double fit_rows = (avail - fixed) / per_row;
    if (fit_rows >= (double)n) {
      bl->rows = n;
    } else if (fit_rows >= GR_KM_CHUNK) {
      bl->rows = (int64_t)(fit_rows / GR_KM_CHUNK) * GR_KM_CHUNK;
    } else {
      return gr_fail(GR_ERR_DEVICE_MEM,
                     "kmeans: a block of %d rows of %d features (%d clusters) needs about %.2f "
                     "MiB of device memory, more than the %.2f MiB free under the limit (raise "
                     "--max-device-mem, or run with --device cpu)",
                     GR_KM_CHUNK, bl->d, k, (fixed + per_row * GR_KM_CHUNK) / 1048576.0,
                     avail / 1048576.0);
    }
  }
  bl->staged = !bl->alias && bl->rows < n;
  return GR_OK;
}

/* Backend arrays for the plan; labels, d2 and norm are the host arrays
 * (NULL when not kept; d2 NULL: no distances are computed). */
static gr_status blocks_open(km_blocks *bl, int32_t *labels, float *d2, float *norm) {
  gr_backend *be = bl->be;
  bl->labels = labels;
  bl->d2 = d2;
  bl->norm = norm;
  if (bl->alias) {
    bl->dX = (float *)bl->X;
    bl->dlabels = labels;
    bl->dd2 = d2;
    bl->dnorm = norm;
    return GR_OK;
  }
  const size_t rows = (size_t)(bl->staged ? bl->rows : bl->n);
  if (bl->staged)
    GR_TRY(be->ops->mem_alloc(be, (void **)&bl->dX, sizeof(float) * rows * bl->d));
  else
    GR_TRY(gr_stage(be, (void **)&bl->dX, bl->X, sizeof(float) * rows * bl->d));
  GR_TRY(be->ops->mem_alloc(be, (void **)&bl->dnorm, sizeof(float) * rows));
  GR_TRY(be->ops->mem_alloc(be, (void **)&bl->dlabels, sizeof(int32_t) * rows));
  if (d2) GR_TRY(be->ops->mem_alloc(be, (void **)&bl->dd2, sizeof(float) * rows));
  return GR_OK;
}

static void blocks_close(km_blocks *bl) {
  gr_backend *be = bl->be;
  if (!bl->alias) {
    if (bl->staged && bl->dX) be->ops->mem_free(be, bl->dX);
    if (!bl->staged) gr_unstage(be, bl->dX, bl->X);
    if (bl->dnorm) be->ops->mem_free(be, bl->dnorm);
    if (bl->dlabels) be->ops->mem_free(be, bl->dlabels);
    if (bl->dd2) be->ops->mem_free(be, bl->dd2);
  }
  bl->dX = bl->dnorm = bl->dd2 = NULL;
  bl->dlabels = NULL;
}

/* Host copies of the resident arrays named in `want`. */
static gr_status blocks_fetch(km_blocks *bl, int want) {
  gr_backend *be = bl->be;
  const size_t n = (size_t)bl->n;
  if (bl->alias || bl->staged) return GR_OK; /* already there */
  if ((want & KM_NORMS) && bl->norm)
    GR_TRY(be->ops->download(be, bl->norm, bl->dnorm, sizeof(float) * n));
  if (want & KM_LABELS) GR_TRY(be->ops->download(be, bl->labels, bl->dlabels, sizeof(int32_t) * n));
  if (want & KM_D2) GR_TRY(be->ops->download(be, bl->d2, bl->dd2, sizeof(float) * n));
  return GR_OK;
}

/* One pass over X, block by block: with KM_NORMS the rows' norms first;
 * then, when kc > 0, the assignment against the kc centers dC, or with
 * dsums the Lloyd step that adds the rows to dsums and dcounts. Afterwards
 * the host arrays named in `want` hold the pass's results. */
static gr_status blocks_pass(km_blocks *bl, int want, const float *dC, int kc, double *dsums,
                             int64_t *dcounts) {
  gr_backend *be = bl->be;
  const int d = bl->d;
  for (int64_t r0 = 0; r0 < bl->n; r0 += bl->rows) {
    const int64_t nb = bl->n - r0 < bl->rows ? bl->n - r0 : bl->rows;
    const size_t at = bl->staged ? 0 : (size_t)r0; /* the block's row in the backend arrays */
    float *x = bl->dX + at * d, *norm = bl->dnorm + at, *d2 = bl->dd2 ? bl->dd2 + at : NULL;
    int32_t *labels = bl->dlabels + at;
    if (bl->staged) {
      GR_TRY(be->ops->upload(be, x, bl->X + (size_t)r0 * d, sizeof(float) * (size_t)nb * d));
      if (!(want & KM_NORMS))
        GR_TRY(be->ops->upload(be, norm, bl->norm + r0, sizeof(float) * (size_t)nb));
    }
    if (want & KM_NORMS) GR_TRY(be->ops->kmeans_row_norms(be, norm, x, nb, d));
    if (kc > 0 && dsums)
      GR_TRY(
          be->ops->kmeans_step(be, labels, d2, dsums, dcounts, x, norm, nb, d, dC, kc, bl->packed));
    else if (kc > 0)
      GR_TRY(be->ops->kmeans_assign(be, labels, d2, x, norm, nb, d, dC, kc, bl->packed));
    if (!bl->staged) continue;
    if ((want & KM_NORMS) && bl->norm)
      GR_TRY(be->ops->download(be, bl->norm + r0, norm, sizeof(float) * (size_t)nb));
    if (want & KM_LABELS)
      GR_TRY(be->ops->download(be, bl->labels + r0, labels, sizeof(int32_t) * (size_t)nb));
    if (want & KM_D2) GR_TRY(be->ops->download(be, bl->d2 + r0, d2, sizeof(float) * (size_t)nb));
  }
  return blocks_fetch(bl, want);
}

// ---- the fit ------------------------------------------------------------------

typedef struct km_fit {
  km_blocks bl;
  int k;
  float *dC;        /* backend (k, d) */
  double *dsums;    /* backend (k, d) */
  int64_t *dcounts; /* backend (k) */
  float *C, *prev;  /* host (k, d) */
  double *sums;     /* host (k, d) */
  int64_t *counts;  /* host (k) */
  float *norm, *d2; /* host (n) */
  int32_t *labels;  /* host (n) */
  /* the bounded steps (host-memory backends), else all NULL */
  gr_km_bounds bounds;
  float *upper, *lower;          /* (n), (n, k) */
  double *drift, *gap;           /* (k), (k, k) */
  double *scale;                 /* (d) fixed point of the sums (gr_km_fixed) */
  int64_t *qsums;                /* (k, 2 d) whole parts, then fractions */
  int64_t *delta;                /* (k, 2 d) sums, then (k) counts */
  struct gr_packed_rows *packed; /* packed by the fit (p->packed not given), or NULL */
} km_fit;

// ---- the bounded steps ----------------------------------------------------------

static double center_distance(const float *a, const float *b, int d) {
  double s = 0;
  for (int j = 0; j < d; j++)
    s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
  return sqrt(s);
}

/* The fixed point of the sums (gr_km_fixed): scale[j] = 2^e with n *
 * max_abs[j] * 2^e <= 2^61, so any sum of rows, and any difference of
 * two, fits in int64; converts max_abs (d) into the scales in place.
 * @return the fractions' scale, 2^L with n 2^L <= 2^61. */
static double fixed_point_scales(double *scale, int64_t n, int d) {
  for (int j = 0; j < d; j++) {
    int e = 0;
    frexp(scale[j] * (double)n, &e); /* n max < 2^e */
    const int shift = scale[j] > 0 ? 61 - e : 0;
    scale[j] = ldexp(1.0, shift < 1000 ? shift : 1000);
  }
  int e = 0;
  frexp((double)n, &e); /* n < 2^e */
  return ldexp(1.0, 61 - e);
}

/* The inputs of a bounded step: how far each center moved since the last
 * step (rounded up; 0 on the `first`), and the distances between centers
 * (rounded down; a center's own infinite, so that the row test needs no
 * exception for it), (k, k). */
static void bounded_inputs(km_fit *f, int first) {
  const int d = f->bl.d, k = f->k;
  for (int c = 0; c < k; c++) {
    const size_t at = (size_t)c * d;
    f->drift[c] = first ? 0 : center_distance(f->C + at, f->prev + at, d) * (1 + 0x1p-40);
  }
  for (int c = 0; c < k; c++)
    for (int o = 0; o <= c; o++) {
      const double g = center_distance(f->C + (size_t)c * d, f->C + (size_t)o * d, d);
      f->gap[(size_t)c * k + o] = f->gap[(size_t)o * k + c] = o == c ? INFINITY : g * (1 - 0x1p-40);
    }
}

/* Center c of the host copy takes row r of X, and goes to the backend. */
static gr_status set_center(km_fit *f, int c, int64_t r) {
  const int d = f->bl.d;
  const size_t row = sizeof(float) * (size_t)d;
  memcpy(f->C + (size_t)c * d, f->bl.X + (size_t)r * d, row);
  return f->bl.be->ops->upload(f->bl.be, f->dC + (size_t)c * d, f->C + (size_t)c * d, row);
}

/* k-means++: the first center uniformly, each next one with probability
 * proportional to the squared distance to the nearest center so far. */
static gr_status seed_plus_plus(km_fit *f, gr_rng *rng) {
  const int64_t n = f->bl.n;
  GR_TRY(set_center(f, 0, (int64_t)gr_rng_below(rng, (uint64_t)n)));
  for (int c = 1; c < f->k; c++) {
    GR_TRY(blocks_pass(&f->bl, KM_D2, f->dC, c, NULL, NULL));
    const float *d2 = f->d2;
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
static void relocate_empty(float *C, const int64_t *counts, const float *X, float *d2, int64_t n,
                           int d, int k) {
  for (int c = 0; c < k; c++) {
    if (counts[c] > 0) continue;
    int64_t far = 0;
    for (int64_t r = 1; r < n; r++)
      if (d2[r] > d2[far]) far = r;
    memcpy(C + (size_t)c * d, X + (size_t)far * d, sizeof(float) * (size_t)d);
    d2[far] = 0; /* the next empty cluster takes another point */
  }
}

/* Mean over features of the per-feature variance: the scale of tol; with
 * max_abs (d, may be NULL) each feature's largest magnitude; with norms (n,
 * may be NULL) the row norms as kmeans_row_norms gives them on the CPU, in
 * the same pass over X. Rows are summed per GR_KM_CHUNK chunk in parallel
 * and the chunks added in order, so the value does not depend on the
 * thread count. */
static double mean_variance(const float *X, int64_t n, int d, int threads, double *max_abs,
                            float *norms) {
  if (threads < 1) threads = 1;
  const int64_t n_chunks = (n + GR_KM_CHUNK - 1) / GR_KM_CHUNK;
  double *part = calloc((size_t)n_chunks * 3 * d, sizeof(double));
  if (!part) return 1.0; /* only scales tol; the allocations after it fail loudly */
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t ch = 0; ch < n_chunks; ch++) {
    double *s = part + (size_t)ch * 3 * d, *s2 = s + d, *top = s2 + d;
    const int64_t end = (ch + 1) * GR_KM_CHUNK < n ? (ch + 1) * GR_KM_CHUNK : n;
    for (int64_t r = ch * GR_KM_CHUNK; r < end; r++) {
      const float *x = X + (size_t)r * d;
#pragma omp simd
      for (int j = 0; j < d; j++) {
        const double v = x[j];
        s[j] += v;
        s2[j] += v * v;
        const double a = fabs(v);
        top[j] = a > top[j] ? a : top[j];
      }
      if (norms) norms[r] = gr_km_row_norm(x, d);
    }
  }
  double total = 0;
  for (int j = 0; j < d; j++) {
    double s = 0, s2 = 0, top = 0;
    for (int64_t ch = 0; ch < n_chunks; ch++) {
      const double *p = part + (size_t)ch * 3 * d;
      s += p[j];
      s2 += p[d + j];
      top = fmax(top, p[2 * d + j]);
    }
    const double m = s / (double)n;
    total += s2 / (double)n - m * m;
    if (max_abs) max_abs[j] = top;
  }
  free(part);
  return total / d;
}

/* The norms of every row (unless `have` them already), and with them the
 * check that X is finite: a row with a value that is not finite (or too
 * large to square in float) has a norm that is not finite. */
static gr_status norms_and_check(km_fit *f, int have) {
  if (!have) GR_TRY(blocks_pass(&f->bl, KM_NORMS, NULL, 0, NULL, NULL));
  const int d = f->bl.d;
  for (int64_t r = 0; r < f->bl.n; r++) {
    if (isfinite(f->norm[r])) continue;
    const float *x = f->bl.X + (size_t)r * d;
    for (int j = 0; j < d; j++)
      if (!isfinite(x[j]))
        return gr_fail(GR_ERR_INVALID_ARG, "kmeans: row %lld (from 1), feature %d is %g",
                       (long long)r + 1, j + 1, (double)x[j]);
    return gr_fail(GR_ERR_INVALID_ARG,
                   "kmeans: row %lld (from 1) has values so large that their squares overflow "
                   "float; scale the features",
                   (long long)r + 1);
  }
  return GR_OK;
}

/* The end of either Lloyd step: the new centers to the backend, and their
 * squared shift from the step's centers (prev). */
static gr_status publish_centers(km_fit *f, double *shift) {
  const size_t kd = (size_t)f->k * f->bl.d;
  GR_TRY(f->bl.be->ops->upload(f->bl.be, f->dC, f->C, sizeof(float) * kd));
  double s = 0;
  for (size_t i = 0; i < kd; i++)
    s += ((double)f->C[i] - f->prev[i]) * ((double)f->C[i] - f->prev[i]);
  *shift = s;
  return GR_OK;
}

/* One Lloyd step (assign and sum in one pass, means, relocation) and the
 * squared center shift. */
static gr_status lloyd_step(km_fit *f, double *shift) {
  gr_backend *be = f->bl.be;
  const int d = f->bl.d, k = f->k;
  const size_t kd = (size_t)k * d;
  memset(f->sums, 0, sizeof(double) * kd);
  memset(f->counts, 0, sizeof(int64_t) * (size_t)k);
  GR_TRY(be->ops->upload(be, f->dsums, f->sums, sizeof(double) * kd));
  GR_TRY(be->ops->upload(be, f->dcounts, f->counts, sizeof(int64_t) * (size_t)k));
  /* staged blocks are gone after the pass: keep the distances in case a
   * cluster empties (resident ones can be fetched then) */
  GR_TRY(blocks_pass(&f->bl, f->bl.staged ? KM_D2 : 0, f->dC, k, f->dsums, f->dcounts));
  GR_TRY(be->ops->download(be, f->sums, f->dsums, sizeof(double) * kd));
  GR_TRY(be->ops->download(be, f->counts, f->dcounts, sizeof(int64_t) * (size_t)k));
  memcpy(f->prev, f->C, sizeof(float) * kd);
  int empty = 0;
  for (int c = 0; c < k; c++) {
    empty |= f->counts[c] == 0;
    if (f->counts[c] == 0) continue; /* relocated below */
    for (int j = 0; j < d; j++)
      f->C[(size_t)c * d + j] = gr_km_mean(f->sums[(size_t)c * d + j], f->counts[c]);
  }
  if (empty) {
    GR_TRY(blocks_fetch(&f->bl, KM_D2));
    relocate_empty(f->C, f->counts, f->bl.X, f->d2, f->bl.n, d, k);
  }
  return publish_centers(f, shift);
}

/* One Lloyd step through the bounds: the rows that change label move
 * between the fixed-point sums, and the means come from those. The labels
 * are those of lloyd_step; the centers may differ from its double sums in
 * the last bit of a float. */
static gr_status lloyd_step_bounded(km_fit *f, int first, double *shift) {
  gr_backend *be = f->bl.be;
  const int d = f->bl.d, k = f->k;
  const int64_t n = f->bl.n;
  const size_t kd = (size_t)k * d;
  bounded_inputs(f, first);
  GR_TRY(be->ops->kmeans_step_bounded(be, f->labels, &f->bounds, f->bl.X, f->norm, n, d, f->C, k,
                                      f->bl.packed));
  for (size_t i = 0; i < 2 * kd; i++)
    f->qsums[i] = first ? f->delta[i] : f->qsums[i] + f->delta[i];
  for (int c = 0; c < k; c++)
    f->counts[c] = first ? f->delta[2 * kd + c] : f->counts[c] + f->delta[2 * kd + c];
  memcpy(f->prev, f->C, sizeof(float) * kd);
  int empty = 0;
  for (int c = 0; c < k; c++) {
    empty |= f->counts[c] == 0;
    if (f->counts[c] == 0) continue; /* relocated below */
    const int64_t *q = f->qsums + (size_t)c * 2 * d;
    for (int j = 0; j < d; j++)
      f->C[(size_t)c * d + j] = gr_km_mean(
          gr_km_fixed_value(q[j], q[d + j], f->scale[j], f->bounds.frac_scale), f->counts[c]);
  }
  if (empty) { /* the distances the plain step would have had */
    GR_TRY(be->ops->kmeans_assign(be, f->labels, f->d2, f->bl.X, f->norm, n, d, f->prev, k,
                                  f->bl.packed));
    relocate_empty(f->C, f->counts, f->bl.X, f->d2, n, d, k);
  }
  return publish_centers(f, shift);
}

/* The bounded steps' arrays, when the backend has them and k is small
 * enough for a lower bound per center. */
static gr_status bounded_open(km_fit *f, const gr_kmeans_params *p) {
  gr_backend *be = f->bl.be;
  const int d = f->bl.d, k = f->k;
  const int64_t n = f->bl.n;
  if (!p->bounds || !be->ops->kmeans_step_bounded || !f->bl.alias || k > GR_KM_BOUNDED_MAX_K)
    return GR_OK;
  f->upper = malloc(sizeof(float) * (size_t)n);
  f->lower = malloc(sizeof(float) * (size_t)n * k);
  f->drift = malloc(sizeof(double) * (size_t)k * (k + 1));
  f->scale = malloc(sizeof(double) * (size_t)d);
  f->qsums = malloc(sizeof(int64_t) * (size_t)k * 2 * d);
  f->delta = malloc(sizeof(int64_t) * ((size_t)k * 2 * d + k));
  if (!f->upper || !f->lower || !f->drift || !f->scale || !f->qsums || !f->delta)
    return gr_fail(GR_ERR_NOMEM, "cannot allocate KMeans bounds (%lld rows)", (long long)n);
  f->gap = f->drift + k;
  f->bounds = (gr_km_bounds){.upper = f->upper,
                             .lower = f->lower,
                             .drift = f->drift,
                             .gap = f->gap,
                             .scale = f->scale,
                             .sum_delta = f->delta,
                             .count_delta = f->delta + (size_t)k * 2 * d};
  return GR_OK;
}

/* X packed for the dots, when it is one host block and the backend packs
 * rows: p->packed, or packed here. */
static gr_status pack_blocks(km_fit *f, const gr_kmeans_params *p) {
  km_blocks *bl = &f->bl;
  if (!bl->alias || bl->rows < bl->n || !bl->be->ops->pack_rows) return GR_OK;
  if (!p->packed) GR_TRY(gr_pack_x(bl->be, &f->packed, bl->X, bl->n, bl->d, NULL));
  bl->packed = p->packed ? p->packed : f->packed;
  return GR_OK;
}

static gr_status check_block_rows(int64_t block_rows) {
  if (block_rows >= 0 && block_rows % GR_KM_CHUNK == 0) return GR_OK;
  return gr_fail(GR_ERR_INVALID_ARG, "kmeans: block_rows %lld must be 0 or a multiple of %d",
                 (long long)block_rows, GR_KM_CHUNK);
}

static void fit_free(km_fit *f) {
  gr_backend *be = f->bl.be;
  blocks_close(&f->bl);
  if (f->dC) be->ops->mem_free(be, f->dC);
  if (f->dsums) be->ops->mem_free(be, f->dsums);
  if (f->dcounts) be->ops->mem_free(be, f->dcounts);
  free(f->C);
  free(f->prev);
  free(f->sums);
  free(f->counts);
  free(f->norm);
  free(f->d2);
  free(f->labels);
  free(f->upper);
  free(f->lower);
  free(f->drift);
  free(f->scale);
  free(f->qsums);
  free(f->delta);
  gr_packed_x_free(be, f->packed);
}

/* Runs restart `run`; keeps it in out when its inertia is the lowest. */
static gr_status fit_run(km_fit *f, const gr_kmeans_params *p, int run, double variance,
                         gr_kmeans_result *out) {
  const double tol = p->tol * variance; /* tol is relative to the data's mean variance */
  const int64_t n = f->bl.n;
  gr_rng rng;
  gr_rng_seed_stream(&rng, p->seed, (uint64_t)run);
  GR_TRY(seed_plus_plus(f, &rng));
  if (f->upper) /* bounded: every label unknown */
    for (int64_t r = 0; r < n; r++)
      f->labels[r] = -1;
  int it = 0, converged = 0;
  while (it < p->max_iter) {
    double shift = 0;
    GR_TRY(f->upper ? lloyd_step_bounded(f, it == 0, &shift) : lloyd_step(f, &shift));
    it++;
    if (p->progress)
      p->progress(p->progress_user, run + 1, it, variance > 0 ? shift / variance : shift);
    if (p->stop && *p->stop)
      return gr_fail(GR_ERR_INTERRUPTED, "kmeans: stopped after Lloyd step %d of restart %d", it,
                     run + 1);
    if (shift <= tol) {
      converged = 1;
      break;
    }
  }
  /* final labels and inertia against the final centers, from X's rows as
   * gr_kmeans_predict reads them: a saved model puts every row in the
   * cluster the fit gave it, near-ties included (packed dots round
   * differently) */
  const struct gr_packed_rows *packed = f->bl.packed;
  f->bl.packed = NULL;
  const gr_status st = blocks_pass(&f->bl, KM_LABELS | KM_D2, f->dC, f->k, NULL, NULL);
  f->bl.packed = packed;
  GR_TRY(st);
  double inertia = 0;
  for (int64_t r = 0; r < n; r++)
    inertia += f->d2[r];
  if (inertia < out->inertia) {
    out->inertia = inertia;
    out->iterations = it;
    out->converged = converged;
    memcpy(out->centroids, f->C, sizeof(float) * (size_t)f->k * f->bl.d);
    memcpy(out->labels, f->labels, sizeof(int32_t) * (size_t)n);
  }
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
  memset(out, 0, sizeof *out);
  if (p.k < 1 || p.max_iter < 1 || p.n_init < 1 || !(p.tol >= 0) || d < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans: k, max_iter, n_init >= 1, tol >= 0 and d >= 1");
  if (n < p.k)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans: %lld rows cannot make %d clusters", (long long)n,
                   p.k);
  GR_TRY(check_block_rows(p.block_rows));
  gr_backend *be = ctx->be;
  km_fit f;
  memset(&f, 0, sizeof f);
  f.bl.be = be;
  f.bl.X = X;
  f.bl.n = n;
  f.bl.d = d;
  f.k = p.k;
  GR_TRY(plan_rows(&f.bl, p.k, 1, p.block_rows));
  const size_t kd = (size_t)p.k * d;
  f.C = malloc(sizeof(float) * kd);
  f.prev = malloc(sizeof(float) * kd);
  f.sums = malloc(sizeof(double) * kd);
  f.counts = malloc(sizeof(int64_t) * (size_t)p.k);
  f.norm = malloc(sizeof(float) * (size_t)n);
  f.d2 = malloc(sizeof(float) * (size_t)n);
  f.labels = malloc(sizeof(int32_t) * (size_t)n);
  out->centroids = malloc(sizeof(float) * kd);
  out->labels = malloc(sizeof(int32_t) * (size_t)n);
  gr_status st =
      f.C && f.prev && f.sums && f.counts && f.norm && f.d2 && f.labels && out->centroids &&
              out->labels
          ? GR_OK
          : gr_fail(GR_ERR_NOMEM, "cannot allocate KMeans buffers (%lld rows)", (long long)n);
  if (st == GR_OK) st = blocks_open(&f.bl, f.labels, f.d2, f.norm);
  if (st == GR_OK) st = be->ops->mem_alloc(be, (void **)&f.dC, sizeof(float) * kd);
  if (st == GR_OK) st = be->ops->mem_alloc(be, (void **)&f.dsums, sizeof(double) * kd);
  if (st == GR_OK) st = be->ops->mem_alloc(be, (void **)&f.dcounts, sizeof(int64_t) * (size_t)p.k);
  /* on the host, the norms come with the statistics: one pass over X */
  if (st == GR_OK) st = bounded_open(&f, &p);
  if (st == GR_OK) st = pack_blocks(&f, &p);
  double variance = 0;
  if (st == GR_OK && f.bl.alias) {
    variance = mean_variance(X, n, d, be->n_threads, f.scale, f.norm);
    st = norms_and_check(&f, 1);
  } else if (st == GR_OK) {
    st = norms_and_check(&f, 0);
    if (st == GR_OK) variance = mean_variance(X, n, d, be->n_threads, f.scale, NULL);
  }
  if (st == GR_OK && f.scale) f.bounds.frac_scale = fixed_point_scales(f.scale, n, d);
  out->inertia = INFINITY;
  out->k = p.k;
  out->d = d;
  for (int run = 0; st == GR_OK && run < p.n_init; run++)
    st = fit_run(&f, &p, run, variance, out);
  fit_free(&f);
  if (st != GR_OK) gr_kmeans_result_free(out);
  return st;
}

// ---- prediction ---------------------------------------------------------------

gr_status gr_kmeans_predict_blocks(gr_context *ctx, const float *X, int64_t n, int d,
                                   const float *C, int k, int64_t block_rows, int32_t *labels) {
  if (k < 1 || d < 1 || n < 0) return gr_fail(GR_ERR_INVALID_ARG, "kmeans: k, d >= 1");
  GR_TRY(check_block_rows(block_rows));
  if (n == 0) return GR_OK;
  gr_backend *be = ctx->be;
  km_blocks bl;
  memset(&bl, 0, sizeof bl);
  bl.be = be;
  bl.X = X;
  bl.n = n;
  bl.d = d;
  GR_TRY(plan_rows(&bl, k, 0, block_rows));
  /* norms live only as long as their block here: a host-memory backend
   * still needs an array for them */
  float *norm = bl.alias ? malloc(sizeof(float) * (size_t)n) : NULL;
  void *dC = NULL;
  gr_status st = !bl.alias || norm ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate row norms");
  if (st == GR_OK) st = blocks_open(&bl, labels, NULL, norm);
  if (st == GR_OK) st = gr_stage(be, &dC, C, sizeof(float) * (size_t)k * d);
  if (st == GR_OK) st = blocks_pass(&bl, KM_NORMS | KM_LABELS, dC, k, NULL, NULL);
  gr_unstage(be, dC, C);
  blocks_close(&bl);
  free(norm);
  return st;
}

gr_status gr_kmeans_predict(gr_context *ctx, const float *X, int64_t n, int d, const float *C,
                            int k, int32_t *labels) {
  return gr_kmeans_predict_blocks(ctx, X, n, d, C, k, 0, labels);
}
