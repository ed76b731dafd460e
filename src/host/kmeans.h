/* KMeans as scikit-learn defines it: k-means++ seeding, Lloyd iterations
 * until the centers move less than tol (relative to the data's mean
 * per-feature variance) or max_iter, n_init restarts keeping the lowest
 * inertia (sum of squared distances to the nearest center). */
#ifndef GR_HOST_KMEANS_H
#define GR_HOST_KMEANS_H

#include <stdint.h>

#include "gpurec.h"

struct gr_packed_rows; /* kernels/cpu/packed_rows.h */

typedef struct gr_kmeans_params {
  int k;         /* clusters */
  int max_iter;  /* default 300 */
  double tol;    /* default 1e-4 */
  int n_init;    /* restarts, default 1 */
  uint64_t seed; /* default 42 */
  /* Rows of X per block on the backend: 0 (default) = planned from the
   * memory budget (all of X when it fits); else a multiple of 4096
   * (GR_KM_CHUNK). Results do not depend on it. */
  int64_t block_rows;
  /* 1 (default): on the CPU, Lloyd steps skip the rows whose label cannot
   * change (Elkan's bounds) and keep exact fixed-point sums; the labels
   * are those of plain steps, the centers equal to them but for the last
   * bit of a float. 0: plain steps, every row every time. */
  int bounds;
  /* When set and *stop becomes non-zero (a SIGINT handler's flag), the fit
   * stops after the Lloyd step in progress with GR_ERR_INTERRUPTED. */
  volatile sig_atomic_t *stop;
  /* Called after every Lloyd step: the restart and step (from 1), and the
   * centers' squared shift over the data's mean variance (the measure tol
   * bounds). NULL (default): none. */
  void (*progress)(void *user, int restart, int step, double rel_shift);
  void *progress_user;
  /* X packed by gr_pack_x (packed_x.h), for the dots to read instead of
   * packing X again; NULL (default): packed by the fit where the backend
   * packs rows and X is one block. Not owned. */
  const struct gr_packed_rows *packed;
} gr_kmeans_params;

typedef struct gr_kmeans_result {
  int k, d;
  float *centroids; /* (k, d) */
  int32_t *labels;  /* (n) */
  double inertia;
  int iterations; /* of the kept run */
  int converged;  /* 1: the kept run's centers moved within tol; 0: max_iter came first */
} gr_kmeans_result;

void gr_kmeans_params_default(gr_kmeans_params *p);
/* X (n, d) row-major, finite. The result's arrays are owned by the caller
 * (gr_kmeans_result_free). Runs on the context's backend (CPU or CUDA); X
 * larger than the device budget streams through it in row blocks, and a
 * budget too small for one block of 4096 rows is GR_ERR_DEVICE_MEM. */
gr_status gr_kmeans_fit(gr_context *ctx, const float *X, int64_t n, int d,
                        const gr_kmeans_params *p, gr_kmeans_result *out);
void gr_kmeans_result_free(gr_kmeans_result *r);

/* labels[r] = the nearest of the k centroids C (k, d) to row r of X (n, d),
 * ties to the lower index, on the context's backend (the assignment step of
 * the fit, so scoring labels rows exactly as fitting did). */
gr_status gr_kmeans_predict(gr_context *ctx, const float *X, int64_t n, int d, const float *C,
                            int k, int32_t *labels);
/* The same with block_rows as in gr_kmeans_params (0 = planned). */
gr_status gr_kmeans_predict_blocks(gr_context *ctx, const float *X, int64_t n, int d,
                                   const float *C, int k, int64_t block_rows, int32_t *labels);

#endif
