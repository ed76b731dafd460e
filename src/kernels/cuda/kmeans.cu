/* CUDA twins of the KMeans steps.
 *
 * Assignment: rows are taken in tiles sized to the memory budget; per tile
 * the row norms (double sums, as the CPU twin), one cuBLAS sgemm for the
 * (tile, k) dot products, and an argmin kernel, one thread per row, that
 * visits clusters in increasing order with the CPU twin's shared rules
 * (gr_km_dist, gr_km_consider, gr_km_clamp). The score tile is column-major
 * (tile, k) so that the threads of a warp read consecutive rows.
 *
 * Update: float atomics would make centroids depend on scheduling, so the
 * sums have a fixed shape instead. A stable CUB radix sort of the row
 * indices by label makes each cluster a contiguous segment in row order;
 * each segment is cut into pieces of PIECE_ROWS rows, one block sums a
 * piece in double in a fixed order, and one thread per (cluster, feature)
 * adds its pieces in order. The result depends on the data alone, never on
 * the launch or the timing. */
#include <math.h>

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "../shared_math.h"
#include "cuda_backend.cuh"

#define KM_THREADS 256
#define PIECE_ROWS 2048 /* rows summed by one block in the update */
/* Bytes of score tile per gemm at most: more buys no gemm efficiency. */
#define KM_TILE_CAP ((size_t)256 << 20)

static unsigned blocks_for(int64_t work, int threads) {
  const int64_t b = (work + threads - 1) / threads;
  return (unsigned)(b < 1 ? 1 : b < 65535 ? b : 65535);
}

__device__ __forceinline__ double warp_sum_double(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// ---- assignment -------------------------------------------------------------

/* out[r] = |A[r]|^2 summed in double, rounded to float; one warp per row. */
__global__ void km_norms_kernel(float *__restrict__ out,     // (n)
                                const float *__restrict__ A, // (n, d)
                                int64_t n, int d) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (int64_t)gridDim.x * (KM_THREADS / 32);
  for (int64_t r = (int64_t)blockIdx.x * (KM_THREADS / 32) + threadIdx.x / 32; r < n; r += warps) {
    const float *a = A + (size_t)r * d;
    double s = 0.0;
    for (int j = lane; j < d; j += 32)
      s += (double)a[j] * a[j];
    s = warp_sum_double(s);
    if (lane == 0) out[r] = (float)s;
  }
}

__global__ void km_argmin_kernel(int32_t *__restrict__ labels, // (nb)
                                 float *__restrict__ min_d2,   // (nb) or NULL
                                 const float *__restrict__ S,  // (nb, k) column-major
                                 const float *__restrict__ xn, // (nb)
                                 const float *__restrict__ cn, // (k)
                                 int64_t nb, int k) {
  for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b < nb;
       b += (int64_t)gridDim.x * blockDim.x) {
    const float x_norm = xn[b];
    int32_t best = 0;
    float best_d = INFINITY;
    for (int c = 0; c < k; c++)
      gr_km_consider(gr_km_dist(x_norm, S[(size_t)c * nb + b], cn[c]), c, &best_d, &best);
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

extern "C" gr_status gr_cuda_kmeans_assign(gr_backend *be, int32_t *labels, float *min_d2,
                                           const float *X, int64_t n, int d, const float *C,
                                           int k) {
  if (k < 1 || d < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans assign: k = %d and d = %d must be >= 1", k, d);
  if (n <= 0) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  float *cn = NULL, *xn = NULL, *S = NULL;
  gr_status st = GR_OK;
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&cn, sizeof(float) * (size_t)k), done);
  {
    /* the (tile, k) scores and the tile's norms take the budget that is left */
    const size_t per_row = sizeof(float) * ((size_t)k + 1);
    const size_t avail = gr_cuda_mem_available(be);
    int64_t tile = (int64_t)((avail > 1024 ? avail - 1024 : 0) / per_row); /* 1024: rounding */
    const int64_t cap = (int64_t)(KM_TILE_CAP / per_row);
    if (tile > cap) tile = cap;
    if (tile > n) tile = n;
    if (tile > INT32_MAX) tile = INT32_MAX;
    if (tile < 1) tile = 1; /* the allocation below then names the shortfall */
    GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&S, sizeof(float) * (size_t)tile * k), done);
    GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&xn, sizeof(float) * (size_t)tile), done);
    GR_CHECK_GOTO(st, launch_norms(c, cn, C, k, d), done);
    for (int64_t r0 = 0; r0 < n; r0 += tile) {
      const int64_t nb = n - r0 < tile ? n - r0 : tile;
      const float *Xt = X + (size_t)r0 * d;
      GR_CHECK_GOTO(st, launch_norms(c, xn, Xt, nb, d), done);
      /* column-major: S (nb, k) = (X tile as (d, nb))^T x (C as (d, k)) */
      const float one = 1.0f, zero = 0.0f;
      GR_CU_GOTO(st,
                 cublasSgemm(c->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)nb, k, d, &one, Xt, d, C, d,
                             &zero, S, (int)nb),
                 done);
      km_argmin_kernel<<<blocks_for(nb, KM_THREADS), KM_THREADS, 0, c->stream>>>(
          labels + r0, min_d2 ? min_d2 + r0 : NULL, S, xn, cn, nb, k);
      GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_argmin_kernel"), done);
    }
  }
done:
  gr_cuda_free(be, xn);
  gr_cuda_free(be, S);
  gr_cuda_free(be, cn);
  return st;
}

// ---- update -------------------------------------------------------------------

__global__ void km_iota_kernel(int32_t *__restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x)
    out[i] = (int32_t)i;
}

/* Segment bounds of each label in the sorted keys; seg_begin and seg_end
 * start at 0, so a label that never occurs keeps an empty segment. */
__global__ void km_segments_kernel(int64_t *__restrict__ seg_begin,  // (k)
                                   int64_t *__restrict__ seg_end,    // (k)
                                   const int32_t *__restrict__ keys, // (n) sorted
                                   int64_t n, int k) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const int32_t key = keys[i];
    if (key < 0 || key >= k) continue;
    if (i == 0 || keys[i - 1] != key) seg_begin[key] = i;
    if (i == n - 1 || keys[i + 1] != key) seg_end[key] = i + 1;
  }
}

/* counts[c] and the number of pieces of each segment; pieces[k] = 0 so
 * that the exclusive scan's last entry is the total. */
__global__ void km_counts_kernel(int64_t *__restrict__ counts, // (k)
                                 int64_t *__restrict__ pieces, // (k + 1)
                                 const int64_t *__restrict__ seg_begin,
                                 const int64_t *__restrict__ seg_end, int k) {
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c <= k; c += gridDim.x * blockDim.x) {
    if (c == k) {
      pieces[k] = 0;
      continue;
    }
    const int64_t cnt = seg_end[c] - seg_begin[c];
    counts[c] = cnt;
    pieces[c] = (cnt + PIECE_ROWS - 1) / PIECE_ROWS;
  }
}

/* One block per piece: partial[g] (d doubles) = the sum of the piece's
 * rows. The block's threads form (row_lanes, fw): fw feature lanes, each
 * row lane summing a fixed stride of the piece's rows; then the row lanes
 * are added in order. */
__global__ void km_piece_sums_kernel(double *__restrict__ partial,          // (pieces, d)
                                     const float *__restrict__ X,           // (n, d)
                                     const int32_t *__restrict__ rows,      // (n) sorted by label
                                     const int64_t *__restrict__ seg_begin, // (k)
                                     const int64_t *__restrict__ seg_end,   // (k)
                                     const int64_t *__restrict__ piece_off, // (k + 1)
                                     int d, int k, int fw) {
  __shared__ double red[KM_THREADS];
  const int64_t g = blockIdx.x;
  if (g >= piece_off[k]) return; /* block-uniform: the grid is an upper bound */
  int lo = 0, hi = k;            /* the cluster with piece_off[lo] <= g < piece_off[lo + 1] */
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (piece_off[mid] <= g)
      lo = mid;
    else
      hi = mid;
  }
  const int64_t start = seg_begin[lo] + (g - piece_off[lo]) * PIECE_ROWS;
  const int64_t left = seg_end[lo] - start;
  const int64_t len = left < PIECE_ROWS ? left : PIECE_ROWS;
  const int row_lanes = KM_THREADS / fw;
  const int f = threadIdx.x % fw, rl = threadIdx.x / fw;
  for (int j0 = 0; j0 < d; j0 += fw) {
    const int j = j0 + f;
    double s = 0.0;
    if (j < d)
      for (int64_t i = rl; i < len; i += row_lanes)
        s += (double)X[(size_t)rows[start + i] * d + j];
    red[threadIdx.x] = s;
    __syncthreads();
    if (rl == 0 && j < d) {
      double t = red[f];
      for (int r = 1; r < row_lanes; r++)
        t += red[r * fw + f];
      partial[(size_t)g * d + j] = t;
    }
    __syncthreads(); /* red is rewritten by the next feature tile */
  }
}

/* One thread per (cluster, feature): the cluster's pieces added in order.
 * Empty clusters keep their centroid. */
__global__ void km_finish_kernel(float *__restrict__ C,                 // (k, d)
                                 const double *__restrict__ partial,    // (pieces, d)
                                 const int64_t *__restrict__ counts,    // (k)
                                 const int64_t *__restrict__ piece_off, // (k + 1)
                                 int d, int k) {
  const int64_t total = (int64_t)k * d;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    const int cl = (int)(t / d), j = (int)(t % d);
    if (counts[cl] == 0) continue;
    double s = 0.0;
    for (int64_t g = piece_off[cl]; g < piece_off[cl + 1]; g++)
      s += partial[(size_t)g * d + j];
    C[t] = gr_km_mean(s, counts[cl]);
  }
}

/* Feature lanes per block: d rounded up to a power of two, at most 32, so
 * small d leaves few threads idle and large d reads whole warps of a row. */
static int feature_lanes(int d) {
  int fw = 1;
  while (fw < d && fw < 32)
    fw <<= 1;
  return fw;
}

extern "C" gr_status gr_cuda_kmeans_update(gr_backend *be, float *C, int64_t *counts,
                                           const float *X, const int32_t *labels, int64_t n, int d,
                                           int k) {
  if (k < 1 || d < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans update: k = %d and d = %d must be >= 1", k, d);
  if (n > INT32_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "kmeans update: %lld rows exceed the int32 row index",
                   (long long)n);
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  if (n <= 0) return GR_CU(cudaMemsetAsync(counts, 0, sizeof(int64_t) * (size_t)k, c->stream));
  int end_bit = 1; /* labels are < k: sort only the bits that can be set */
  while (end_bit < 31 && ((int64_t)1 << end_bit) < k)
    end_bit++;
  const int64_t max_pieces = (n + PIECE_ROWS - 1) / PIECE_ROWS + k;
  const size_t kb = sizeof(int64_t) * (size_t)k, kb1 = sizeof(int64_t) * ((size_t)k + 1);
  int32_t *keys[2] = {NULL, NULL}, *rows[2] = {NULL, NULL};
  int64_t *seg = NULL, *pieces = NULL, *piece_off = NULL;
  double *partial = NULL;
  void *temp = NULL;
  gr_status st = GR_OK;
  for (int b = 0; b < 2; b++) {
    GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&keys[b], sizeof(int32_t) * (size_t)n), done);
    GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&rows[b], sizeof(int32_t) * (size_t)n), done);
  }
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&seg, 2 * kb), done); /* begin, end */
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&pieces, kb1), done);
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&piece_off, kb1), done);
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&partial, sizeof(double) * (size_t)max_pieces * d),
                done);
  {
    /* the sort leaves its output in whichever buffer Current() names */
    cub::DoubleBuffer<int32_t> dkeys(keys[0], keys[1]), drows(rows[0], rows[1]);
    size_t sort_bytes = 0, scan_bytes = 0;
    {
      cub::DoubleBuffer<int32_t> qkeys(keys[0], keys[1]), qrows(rows[0], rows[1]);
      GR_CU_GOTO(st,
                 cub::DeviceRadixSort::SortPairs(NULL, sort_bytes, qkeys, qrows, (int)n, 0, end_bit,
                                                 c->stream),
                 done);
    }
    GR_CU_GOTO(st,
               cub::DeviceScan::ExclusiveSum(NULL, scan_bytes, pieces, piece_off, k + 1, c->stream),
               done);
    const size_t temp_bytes = sort_bytes > scan_bytes ? sort_bytes : scan_bytes;
    GR_CHECK_GOTO(st, gr_cuda_alloc(be, &temp, temp_bytes), done);

    GR_CU_GOTO(st,
               cudaMemcpyAsync(keys[0], labels, sizeof(int32_t) * (size_t)n,
                               cudaMemcpyDeviceToDevice, c->stream),
               done);
    km_iota_kernel<<<blocks_for(n, KM_THREADS), KM_THREADS, 0, c->stream>>>(rows[0], n);
    GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_iota_kernel"), done);
    /* stable: within a cluster, rows stay in increasing order */
    size_t bytes = sort_bytes;
    GR_CU_GOTO(
        st,
        cub::DeviceRadixSort::SortPairs(temp, bytes, dkeys, drows, (int)n, 0, end_bit, c->stream),
        done);
    GR_CU_GOTO(st, cudaMemsetAsync(seg, 0, 2 * kb, c->stream), done);
    km_segments_kernel<<<blocks_for(n, KM_THREADS), KM_THREADS, 0, c->stream>>>(
        seg, seg + k, dkeys.Current(), n, k);
    GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_segments_kernel"), done);
    km_counts_kernel<<<blocks_for((int64_t)k + 1, KM_THREADS), KM_THREADS, 0, c->stream>>>(
        counts, pieces, seg, seg + k, k);
    GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_counts_kernel"), done);
    bytes = scan_bytes;
    GR_CU_GOTO(st, cub::DeviceScan::ExclusiveSum(temp, bytes, pieces, piece_off, k + 1, c->stream),
               done);
    km_piece_sums_kernel<<<(unsigned)max_pieces, KM_THREADS, 0, c->stream>>>(
        partial, X, drows.Current(), seg, seg + k, piece_off, d, k, feature_lanes(d));
    GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_piece_sums_kernel"), done);
    km_finish_kernel<<<blocks_for((int64_t)k * d, KM_THREADS), KM_THREADS, 0, c->stream>>>(
        C, partial, counts, piece_off, d, k);
    GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "km_finish_kernel"), done);
  }
done:
  gr_cuda_free(be, temp);
  gr_cuda_free(be, partial);
  gr_cuda_free(be, piece_off);
  gr_cuda_free(be, pieces);
  gr_cuda_free(be, seg);
  for (int b = 0; b < 2; b++) {
    gr_cuda_free(be, rows[b]);
    gr_cuda_free(be, keys[b]);
  }
  return st;
}
