/* The compute backend interface: a table of operations that the host driver
 * calls without knowing where they run. Each backend (cpu/, cuda/) fills one
 * table; each operation exists twice with the same name and argument order
 * (outputs, inputs, sizes), and tests/test_parity.c runs every one on both.
 *
 * Memory: every pointer an operation takes lives in the backend's memory
 * space (device memory for CUDA), obtained with mem_alloc and filled with
 * upload. When `host_memory` is set, host pointers may be passed directly. */
#ifndef GR_KERNELS_BACKEND_H
#define GR_KERNELS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "gpurec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A compressed sparse row matrix: row r holds indices[indptr[r]..indptr[r+1])
 * with values (confidences) in `data`. Column indices are sorted per row. */
typedef struct gr_csr_view {
  int64_t n_rows;
  int64_t n_cols;
  int64_t nnz;
  const int64_t *indptr;  /* (n_rows + 1) */
  const int32_t *indices; /* (nnz) */
  const float *data;      /* (nnz); NULL only for the top-k's exclusions (a pattern) */
} gr_csr_view;

struct gr_packed_rows; /* cpu/packed_rows.h */

/* Logistic-regression training rows described instead of copied (the
 * leads engine's per-cluster sets and SMOTE clients over one market matrix
 * X). Row i is real, X[a[i]], when b is NULL or b[i] == a[i]; else it is
 * synthetic, the point x_a + gap[i] (x_b - x_a) between two rows of X, taken
 * exactly (in double), not rounded to float. The ops read the synthetic
 * rows by pair: a pair's rows share x_a and x_b, so their margins are
 * u + gap v from two dot products per pair, and their gradient and Hessian
 * terms are a few sums over gap per pair (docs/leads_internals.md). The
 * pairs come from gr_lr_pairs_build (host/logreg_pairs.h) and are required
 * whenever b is given. Arrays in backend memory unless said otherwise. */
typedef struct gr_lr_rows {
  const int32_t *a; /* (n) rows of X */
  const int32_t *b; /* (n) rows of X, or NULL */
  const float *gap; /* (n), read where b[i] != a[i] */
  /* the synthetic rows grouped by pair */
  const int64_t *pair_seg;   /* (m + 1) host: group g's pairs are pair_seg[g]..pair_seg[g+1) */
  const int32_t *pair_a;     /* (n_pairs) */
  const int32_t *pair_b;     /* (n_pairs) */
  const int64_t *pair_start; /* (n_pairs + 1): pair p's rows are pair_rows[pair_start[p]..) */
  const int64_t *pair_rows;  /* training rows, ascending within a pair */
  /* CPU only, or NULL: X's rows with the 0/1 features as bits
   * (cpu/packed_rows.h), which the real rows are then read from; a may
   * be NULL with it (X's own rows) */
  const struct gr_packed_rows *packed;
} gr_lr_rows;

/* The state of a bounded KMeans fit (Elkan 2003) between its steps.
 * Bounds are on the exact Euclidean distance between a row and a center
 * (both as stored, in float); each step first moves them by the centers'
 * drift. Sums are fixed point, two integers per value (gr_km_fixed in
 * shared_math.h), scaled so that no sum of n rows overflows: they add
 * exactly in any order. */
typedef struct gr_km_bounds {
  float *upper;         /* (n) >= distance to the row's center */
  float *lower;         /* (n, k) <= distance to center c, for c != the row's label */
  const double *drift;  /* (k) how far center c moved since the last step */
  const double *gap;    /* (k, k) distance between centers a and c */
  const double *scale;  /* (d) gr_km_fixed's scale of each feature */
  double frac_scale;    /* gr_km_fixed's scale of the fractions */
  int64_t *sum_delta;   /* (k, 2 d) out: rows gained minus lost, whole parts then fractions */
  int64_t *count_delta; /* (k) out */
  int64_t scored;       /* out: rows whose distances were computed */
} gr_km_bounds;

typedef struct gr_backend gr_backend;

typedef struct gr_backend_ops {
  const char *name;
  void (*destroy)(gr_backend *be);

  /* -- memory --------------------------------------------------------- */
  gr_status (*mem_alloc)(gr_backend *be, void **ptr, size_t bytes);
  void (*mem_free)(gr_backend *be, void *ptr);
  gr_status (*upload)(gr_backend *be, void *dst, const void *src, size_t bytes);
  gr_status (*download)(gr_backend *be, void *dst, const void *src, size_t bytes);
  gr_status (*sync)(gr_backend *be);
  /* Bytes the backend may still allocate (SIZE_MAX when unlimited). */
  size_t (*mem_available)(gr_backend *be);

  /* -- ALS ------------------------------------------------------------- */
  /* G = Y^T Y + reg * I.  G (k, k) row-major; Y (n, k). */
  gr_status (*gram)(gr_backend *be, float *G, const float *Y, int64_t n, int k, float reg);

  /* For every row u of m: X[u] = argmin of the implicit-ALS objective with
   * Y fixed, approximately by `cg_steps` conjugate-gradient steps that start
   * from the current X[u]. G = Y^T Y + reg * I. Empty rows get X[u] = 0.
   * Never forms the per-row k x k matrix. */
  gr_status (*als_solve_cg)(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                            const float *G, int k, int cg_steps);

  /* Same, solved exactly: A_u = G + sum_i (c_ui - 1) y_i y_i^T,
   * b_u = sum_i c_ui y_i, X[u] = A_u^{-1} b_u by Cholesky. A failed
   * factorization returns GR_ERR_NUMERIC naming the row. */
  gr_status (*als_solve_cholesky)(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                                  const float *G, int k);

  /* The `implicit` package's training loss terms, summed over rows of m:
   * out[0] = sum_u (x_u^T G x_u + sum_i ((c-1)(x_u.y_i)^2 - 2 c x_u.y_i + c)),
   * out[1] = sum of confidences, out[2] = sum_u |x_u|^2.
   * Here G = Y^T Y without regularization. out is host memory. */
  gr_status (*als_loss_terms)(gr_backend *be, double out[3], const gr_csr_view *m, const float *X,
                              const float *Y, const float *G, int k);

  /* Sum of squares of each row: out[r] = |Y[r]|^2, out (n). */
  gr_status (*row_sq_norms)(gr_backend *be, float *out, const float *Y, int64_t n, int k);

  /* -- ranking ----------------------------------------------------------- */
  /* For each query q < n_queries with row r = rows ? rows[q] : q:
   * the `topk` items i of Y with the highest Q[r] . Y[i], ordered by score
   * descending and index ascending among ties, skipping the items in row r
   * of `exclude` (may be NULL) and items with allowed[i] == 0 (allowed may be
   * NULL). Missing slots get index -1 and score -INFINITY.
   * out_idx, out_score: (n_queries, topk). topk <= GR_TOPK_MAX. */
  gr_status (*topk_dot)(gr_backend *be, int32_t *out_idx, float *out_score, const float *Q,
                        const int32_t *rows, int64_t n_queries, const float *Y, int64_t n_items,
                        int k, const gr_csr_view *exclude, const uint8_t *allowed, int topk);

  /* -- KMeans ------------------------------------------------------------ */
  /* The fit streams X through these in row blocks (host/kmeans.c); a block
   * starts at a multiple of GR_KM_CHUNK rows (kernels/shared_math.h). */
  /* out[r] = |X[r]|^2 summed in double, rounded to float: the row norms the
   * fit computes once and passes to every assignment. out (n); X (n, d). */
  gr_status (*kmeans_row_norms)(gr_backend *be, float *out, const float *X, int64_t n, int d);
  /* labels[r] = the nearest centroid of row r by |x|^2 - 2 x.c + |c|^2
   * (ties: lower index), min_d2[r] that distance clamped at 0 (min_d2 may be
   * NULL). labels, min_d2, x_norm (n); X (n, d); C (k, d). packed: NULL, or
   * on a backend with pack_rows X's n rows packed (X stays valid): the dots
   * are then taken from them, a fifth of the bytes on the bench, in the
   * packed order; the same packed rows give the same labels in every op. */
  gr_status (*kmeans_assign)(gr_backend *be, int32_t *labels, float *min_d2, const float *X,
                             const float *x_norm, int64_t n, int d, const float *C, int k,
                             const struct gr_packed_rows *packed);
  /* One Lloyd pass over a block: kmeans_assign, and the block's rows added
   * to the running sums. Each GR_KM_CHUNK-row chunk of the block is summed
   * per cluster in row order in double, and the chunk sums are added to
   * sums (k, d) and counts (k, int64) in chunk order: for the same labels,
   * any split of X into chunk-aligned blocks gives bit-identical sums on
   * either backend. sums and counts accumulate (the caller zeroes them). */
  gr_status (*kmeans_step)(gr_backend *be, int32_t *labels, float *min_d2, double *sums,
                           int64_t *counts, const float *X, const float *x_norm, int64_t n, int d,
                           const float *C, int k, const struct gr_packed_rows *packed);
  /* A Lloyd assignment that skips the rows whose label cannot change
   * (Elkan's bounds), for host-memory backends only (NULL on the others,
   * where the fit runs kmeans_step). labels[r] < 0: unknown, the row is
   * scored. The labels come out exactly as kmeans_assign gives them: a row
   * is skipped only when its bounds leave room for the rounding of the
   * distances (gr_km_dist_error). The rows that change label are taken out
   * of their old cluster's sums and added to their new one's, in fixed
   * point (gr_km_bounds), so the sums are exact and no order matters. */
  gr_status (*kmeans_step_bounded)(gr_backend *be, int32_t *labels, gr_km_bounds *b, const float *X,
                                   const float *x_norm, int64_t n, int d, const float *C, int k,
                                   const struct gr_packed_rows *packed);

  /* -- logistic regression (per-group Newton, host/logreg_groups.c) ------ */
  /* Group g holds training rows seg[g]..seg[g+1) (n = seg[m]), row i being
   * x_i = X[i] when rows is NULL, else as gr_lr_rows describes it over X
   * (n_x, d); labels y (n) in {0, 1} and sample weights sw (n, NULL = 1)
   * are per training row; row i of group g weighs c_i = cw[2 g + y_i] *
   * sw_i (cw: C times the class weights). theta (m, D) in double, D = d + 1:
   * the weights w, then the intercept b. Only groups with active[g] (NULL =
   * all) are computed; the others' outputs are left as they are. rows (the
   * struct; its arrays are backend memory), seg (m + 1), cw (2 m), active
   * (m) and f (m) are host memory. Margins z_i = x_i.w + b, the per-row
   * terms and all sums are double.
   * f[g] = 1/2 |w|^2 + sum_i c_i log(1 + exp(-(2 y_i - 1) z_i)). */
  gr_status (*logreg_objective)(gr_backend *be, double *f, const double *theta, const float *X,
                                const gr_lr_rows *rows, const uint8_t *y, const float *sw,
                                const int64_t *seg, const double *cw, const uint8_t *active, int m,
                                int d);
  /* The same f, plus the gradient g (m, D) = [w; 0] + sum_i r_i [x_i; 1] and
   * the Hessian H (m, D, D) = diag(1,..,1, 0) + sum_i h_i [x_i; 1][x_i; 1]^T
   * (both triangles), r and h as in shared_math.h. The real rows' part of
   * H is summed in float over row chunks (sgemm-class work), the chunks
   * added in double; the synthetic rows' part is exact, in double, two
   * rank-one terms per pair. hess_tau > 0: the real rows' part from the
   * rows gr_logreg_hess_scale keeps (row index: the row's place in its
   * group, i - seg[g]; an unbiased estimate that skips most rows of a
   * nearly separable group; the CPU leaves them out of its rank updates),
   * 0: every row. f and g are exact either way. */
  gr_status (*logreg_grad_hess)(gr_backend *be, double *g, double *H, double *f,
                                const double *theta, const float *X, const gr_lr_rows *rows,
                                const uint8_t *y, const float *sw, const int64_t *seg,
                                const double *cw, const uint8_t *active, int m, int d,
                                double hess_tau);
  /* Optional (NULL: the passes read X's rows as they are). *packed: a copy
   * of X (n_x, d) in backend memory with the features flagged in binary
   * (d, host memory; each must be 0 or 1 in every row) stored as bits, or
   * NULL where that would save little; the passes read the real rows from
   * it when gr_lr_rows.packed points at it. Released by pack_rows_free. */
  gr_status (*pack_rows)(gr_backend *be, struct gr_packed_rows **packed, const float *X,
                         int64_t n_x, int d, const uint8_t *binary);
  void (*pack_rows_free)(gr_backend *be, struct gr_packed_rows *packed);
  /* step[g] = H[g]^{-1} rhs[g] by Cholesky in double for each active group
   * (active host memory, NULL = all); H (m, D, D) symmetric is overwritten
   * by its factor. Groups with factored[g] (host memory, NULL = none) hold
   * that factor from an earlier call already and are only solved with it.
   * A matrix that is not positive definite: GR_ERR_NUMERIC naming the
   * group; the other groups' H and step are then unspecified (the CPU stops
   * there, cuSOLVER factors the whole batch at once), as is the triangle
   * above a factor, which cuSOLVER may use as workspace. step, rhs (m, D). */
  gr_status (*spd_solve_batched)(gr_backend *be, double *step, double *H, const double *rhs,
                                 const uint8_t *active, const uint8_t *factored, int m, int D);
} gr_backend_ops;

#define GR_TOPK_MAX 1024

struct gr_backend {
  const gr_backend_ops *ops;
  void *impl;       /* the backend's own state */
  int n_threads;    /* CPU threads */
  int host_memory;  /* 1: backend memory is host memory */
  size_t mem_limit; /* bytes this backend may allocate; 0 = no limit */
  int verbose;
  char device[384]; /* the device it runs on, for people ("" when not said) */
};

/* Constructors. The CUDA one returns GR_ERR_NO_DEVICE (with a message saying
 * why) when the build has no CUDA backend or no GPU is usable. */
gr_status gr_backend_cpu_create(gr_backend **out, int n_threads);
gr_status gr_backend_cuda_create(gr_backend **out, int device_index, size_t max_device_mem,
                                 int verbose);

#ifdef __cplusplus
}
#endif
#endif /* GR_KERNELS_BACKEND_H */
