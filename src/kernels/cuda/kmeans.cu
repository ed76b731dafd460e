/* CUDA twins of the KMeans ops (see backend.h).
 *
 * Assignment: rows are taken in tiles sized to the memory budget (whole
 * GR_KM_CHUNK chunks); per tile one cuBLAS sgemm for the (tile, k) dot
 * products, and an argmin kernel, one thread per row, that visits clusters
 * in increasing order with the CPU twin's shared rules (gr_km_dist,
 * gr_km_consider, gr_km_clamp). The score tile is column-major (tile, k)
 * so that the threads of a warp read consecutive rows. The row norms are
 * the caller's (kmeans_row_norms, computed once per fit: a warp per row,
 * reduced by cub::WarpReduce).
 *
 * Step: float atomics would make centroids depend on scheduling, so the
 * sums have the CPU twin's fixed shape instead: one thread per (chunk,
 * feature) walks the chunk's rows in order and adds each row's value to
 * its cluster's double accumulator (in shared memory when the k
 * accumulators of a warp fit, else in the partial buffer itself); a second
 * kernel, one thread per (cluster, feature), adds the chunk partials to the
 * running sums in chunk order. For the same labels the CPU and the GPU sums
 * are bitwise equal, and no launch shape or timing changes them. Counts
 * ride along as feature d, a column of ones (exact in double). */
#include <math.h>

#include <cub/warp/warp_reduce.cuh>

#include "../shared_math.h"
#include "cuda_backend.cuh"

#define KM_THREADS 256
#define KM_LANES 32 /* feature lanes (threads) per block of the chunk sums */
/* Shared accumulators per block at most: k * KM_LANES doubles. */
#define KM_SHARED_BYTES (48 << 10)
/* Bytes of score tile per gemm at most: more buys no gemm efficiency. */
#define KM_TILE_CAP ((size_t)256 << 20)

static unsigned blocks_for(int64_t work, int threads) {
  const int64_t b = (work + threads - 1) / threads;
  return (unsigned)(b < 1 ? 1 : b < 65535 ? b : 65535);
}

// ---- assignment -------------------------------------------------------------

/* out[r] = |A[r]|^2 summed in double, rounded to float; one warp per row,
 * its lanes' partial sums reduced by cub::WarpReduce (a fixed tree). */
__global__ void __launch_bounds__(KM_THREADS) km_norms_kernel(float *__restrict__ out,     // (n)
                                                              const float *__restrict__ A, // (n, d)
                                                              int64_t n, int d) {
  typedef cub::WarpReduce<double> warp_reduce;
  __shared__ typename warp_reduce::TempStorage tmp[KM_THREADS / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t warps = (int64_t)gridDim.x * (KM_THREADS / 32);
  /* every lane of a warp takes the same rows: the reduction is warp-wide */
  for (int64_t r = (int64_t)blockIdx.x * (KM_THREADS / 32) + warp; r < n; r += warps) {
    const float *a = A + (size_t)r * d;
    double s = 0.0;
    for (int j = lane; j < d; j += 32)
      s += (double)a[j] * a[j];
    s = warp_reduce(tmp[warp]).Sum(s);
    if (lane == 0) out[r] = (float)s;
    __syncwarp(); /* tmp[warp] is reused by the next row */
  }
}

/* S holds the scores chunk by chunk: chunk q's (GR_KM_CHUNK, k) column-major
 * block at S + q * GR_KM_CHUNK * k. */
__global__ void km_argmin_kernel(int32_t *__restrict__ labels, // (nb)
                                 float *__restrict__ min_d2,   // (nb) or NULL
                                 const float *__restrict__ S,  // (chunks, k, GR_KM_CHUNK)
                                 const float *__restrict__ xn, // (nb)
                                 const float *__restrict__ cn, // (k)
                                 int64_t nb, int k) {
  for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b < nb;
       b += (int64_t)gridDim.x * blockDim.x) {
    const float x_norm = xn[b];
    const float *s = S + (size_t)(b / GR_KM_CHUNK) * GR_KM_CHUNK * k + b % GR_KM_CHUNK;
    int32_t best = 0;
    float best_d = INFINITY;
    for (int c = 0; c < k; c++)
      gr_km_consider(gr_km_dist(x_norm, s[(size_t)c * GR_KM_CHUNK], cn[c]), c, &best_d, &best);
    labels[b] = best;
    if (min_d2) min_d2[b] = gr_km_clamp(best_d);
  }
}

static gr_status launch_norms(gr_cuda *c, float *out, const float *A, int64_t n, int d) {
  if (n <= 0) return GR_OK;
  int64_t blocks = (n + KM_THREADS / 32 - 1) / (KM_THREADS / 32);
  if (blocks > (int64_t)c->sm_count * 64) blocks = (int64_t)c->sm_count * 64;
  km_norms_kernel<<<(unsigned)blocks, KM_THREADS, 0, c->stream>>>(out, A, n, d);
  return GR_CU_LAUNCHED(c->stream, "km_norms_kernel");
}

extern "C" gr_status gr_cuda_kmeans_row_norms(gr_backend *be, float *out, const float *X, int64_t n,
                                              int d) {
  if (d < 1) return gr_fail(GR_ERR_INVALID_ARG, "kmeans row norms: d = %d must be >= 1", d);
  GR_TRY(gr_cuda_enter(be));
  return launch_norms(gr_cuda_of(be), out, X, n, d);
}

// ---- chunk sums -----------------------------------------------------------------

/* Grid (feature tiles, chunks), KM_LANES threads: thread (ch, j) walks the
 * rows of chunk ch in order and adds X[r][j] (j == d: 1, the count) to its
 * cluster's accumulator, then writes partial[ch][c][j] for every cluster.
 * The accumulators: shared (k, KM_LANES) when `shared`, else the thread's
 * own entries of partial. No thread touches another's entries, so there
 * is no synchronization. */
__global__ void km_chunk_sums_kernel(double *__restrict__ partial,       // (chunks, k, d + 1)
                                     const float *__restrict__ X,        // (nb, d)
                                     const int32_t *__restrict__ labels, // (nb)
                                     int64_t nb, int d, int k, int shared) {
  extern __shared__ double km_acc[];
  const int j = blockIdx.x * KM_LANES + threadIdx.x;
  const int64_t ch = blockIdx.y;
  const int d1 = d + 1;
  if (j >= d1) return;
  double *out = partial + (size_t)ch * k * d1 + j;
  double *acc = shared ? km_acc + threadIdx.x : out;
  const size_t stride = shared ? KM_LANES : (size_t)d1;
  for (int c = 0; c < k; c++)
    acc[c * stride] = 0.0;
  const int64_t r0 = ch * GR_KM_CHUNK;
  const int64_t r1 = r0 + GR_KM_CHUNK < nb ? r0 + GR_KM_CHUNK : nb;
  for (int64_t r = r0; r < r1; r++) {
    const int c = labels[r];
    acc[c * stride] += j < d ? (double)X[(size_t)r * d + j] : 1.0;
  }
  if (shared)
    for (int c = 0; c < k; c++)
      out[(size_t)c * d1] = acc[c * stride];
}

/* One thread per (cluster, feature or count): the chunk partials added to
 * the running sums in chunk order. */
__global__ void km_combine_kernel(double *__restrict__ sums,          // (k, d)
                                  int64_t *__restrict__ counts,       // (k)
                                  const double *__restrict__ partial, // (chunks, k, d + 1)
                                  int64_t chunks, int d, int k) {
  const int d1 = d + 1;
  const int64_t total = (int64_t)k * d1;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    const int c = (int)(t / d1), j = (int)(t % d1);
    const double *p = partial + (size_t)c * d1 + j;
    const size_t step = (size_t)k * d1;
    if (j < d) {
      double s = sums[(size_t)c * d + j];
      for (int64_t ch = 0; ch < chunks; ch++)
        s += p[(size_t)ch * step];
      sums[(size_t)c * d + j] = s;
    } else {
      int64_t cnt = counts[c];
      for (int64_t ch = 0; ch < chunks; ch++)
        cnt += (int64_t)p[(size_t)ch * step];
      counts[c] = cnt;
    }
  }
}

// ---- the ops ----------------------------------------------------------------------

/* Assignment of all rows, tile by tile; with sums, each tile's chunk sums
 * are added to sums and counts. The step's tiles are whole chunks (except
 * the last), so the chunk boundaries are the caller's. */
static gr_status assign_tiles(gr_backend *be, int32_t *labels, float *min_d2, double *sums,
                              int64_t *counts, const float *X, const float *x_norm, int64_t n,
                              int d, const float *C, int k) {
  if (k < 1 || d < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans: k = %d and d = %d must be >= 1", k, d);
  if (n <= 0) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  const int d1 = d + 1;
  const size_t part_chunk = sizeof(double) * (size_t)k * d1; /* one chunk's partials */
  const int shared = (size_t)k * KM_LANES * sizeof(double) <= KM_SHARED_BYTES;
  float *cn = NULL, *S = NULL;
  double *partial = NULL;
  gr_status st = GR_OK;
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&cn, sizeof(float) * (size_t)k), done);
  {
    /* the (tile, k) scores and the tile's chunk partials take what is left */
    const double per_row =
        sizeof(float) * (double)k + (sums ? (double)part_chunk / GR_KM_CHUNK : 0.0);
    const size_t avail = gr_cuda_mem_available(be);
    double rows = (double)(avail > 4096 ? avail - 4096 : 0) / per_row; /* 4096: rounding */
    const double cap = (double)KM_TILE_CAP / (sizeof(float) * (double)k);
    if (rows > cap) rows = cap;
    if (rows > (double)INT32_MAX) rows = (double)INT32_MAX;
    if (rows > 65535.0 * GR_KM_CHUNK) rows = 65535.0 * GR_KM_CHUNK; /* grid.y of the sums */
    int64_t tile = (int64_t)(rows / GR_KM_CHUNK) * GR_KM_CHUNK;
    if (tile < GR_KM_CHUNK) tile = GR_KM_CHUNK; /* the allocation below then names the shortfall */
    if (tile > n) tile = n;
    const int64_t tile_chunks = (tile + GR_KM_CHUNK - 1) / GR_KM_CHUNK;
    GR_CHECK_GOTO(
        st, gr_cuda_alloc(be, (void **)&S, sizeof(float) * (size_t)tile_chunks * GR_KM_CHUNK * k),
        done);
    if (sums)
      GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&partial, part_chunk * (size_t)tile_chunks),
                    done);
    GR_CHECK_GOTO(st, launch_norms(c, cn, C, k, d), done);
    for (int64_t r0 = 0; r0 < n; r0 += tile) {
      const int64_t nb = n - r0 < tile ? n - r0 : tile;
      const float *Xt = X + (size_t)r0 * d;
      /* one sgemm per chunk, always of the same shape (the last chunk of X
       * aside, which is the same whatever the blocks): a row's scores then
       * do not depend on the tile or block it came in. Column-major:
       * S_q (m, k) = (chunk q of X as (d, m))^T x (C as (d, k)) */
      const float one = 1.0f, zero = 0.0f;
      for (int64_t q0 = 0; q0 < nb; q0 += GR_KM_CHUNK) {
        const int m = (int)(nb - q0 < GR_KM_CHUNK ? nb - q0 : GR_KM_CHUNK);
        GR_CU_GOTO(st,
                   cublasSgemm(c->cublas, CUBLAS_OP_T, CUBLAS_OP_N, m, k, d, &one,
                               Xt + (size_t)q0 * d, d, C, d, &zero, S + (size_t)q0 * k,
                               GR_KM_CHUNK),
                   done);
      }
      km_argmin_kernel<<<blocks_for(nb, KM_THREADS), KM_THREADS, 0, c->stream>>>(
          labels + r0, min_d2 ? min_d2 + r0 : NULL, S, x_norm + r0, cn, nb, k);
      GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_argmin_kernel"), done);
      if (!sums) continue;
      const int64_t chunks = (nb + GR_KM_CHUNK - 1) / GR_KM_CHUNK;
      const dim3 grid((unsigned)((d1 + KM_LANES - 1) / KM_LANES), (unsigned)chunks);
      const size_t smem = shared ? (size_t)k * KM_LANES * sizeof(double) : 0;
      km_chunk_sums_kernel<<<grid, KM_LANES, smem, c->stream>>>(partial, Xt, labels + r0, nb, d, k,
                                                                shared);
      GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_chunk_sums_kernel"), done);
      km_combine_kernel<<<blocks_for((int64_t)k * d1, KM_THREADS), KM_THREADS, 0, c->stream>>>(
          sums, counts, partial, chunks, d, k);
      GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_combine_kernel"), done);
    }
  }
done:
  gr_cuda_free(be, partial);
  gr_cuda_free(be, S);
  gr_cuda_free(be, cn);
  return st;
}

/* The GPU reads X as it is: packed rows are a host-memory form. */
static gr_status refuse_packed(const struct gr_packed_rows *packed) {
  if (!packed) return GR_OK;
  return gr_fail(GR_ERR_INVALID_ARG, "kmeans: the CUDA backend takes no packed rows");
}

extern "C" gr_status gr_cuda_kmeans_assign(gr_backend *be, int32_t *labels, float *min_d2,
                                           const float *X, const float *x_norm, int64_t n, int d,
                                           const float *C, int k,
                                           const struct gr_packed_rows *packed) {
  GR_TRY(refuse_packed(packed));
  return assign_tiles(be, labels, min_d2, NULL, NULL, X, x_norm, n, d, C, k);
}

extern "C" gr_status gr_cuda_kmeans_step(gr_backend *be, int32_t *labels, float *min_d2,
                                         double *sums, int64_t *counts, const float *X,
                                         const float *x_norm, int64_t n, int d, const float *C,
                                         int k, const struct gr_packed_rows *packed) {
  GR_TRY(refuse_packed(packed));
  if (!sums || !counts)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans step: sums and counts are needed");
  return assign_tiles(be, labels, min_d2, sums, counts, X, x_norm, n, d, C, k);
}
