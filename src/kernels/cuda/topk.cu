/* Top-k by dot product: queries are taken in batches sized to the memory
 * budget; for each batch one cuBLAS sgemm writes the score tile
 * (batch, n_items), a kernel overwrites the excluded items' scores with NaN
 * (NaN never ranks, exactly as in the CPU twin), and a selection kernel
 * picks each query's top k with one thread block per query:
 *  - scores become order-preserving 32-bit keys (0 = not a candidate:
 *    NaN, excluded, or allowed[i] == 0);
 *  - a 4-pass, 8-bit radix select finds the k-th largest key T and how
 *    many items with key == T are needed;
 *  - one more pass gathers keys > T and the lowest-indexed needed ties (in
 *    index order), as (key << 32 | ~index) so that one descending bitonic
 *    sort in shared memory yields score desc, index asc (gr_rank_before).
 * The cost is five reads of the tile row, independent of k and of ties. */
#include <math.h>

#include "../shared_math.h"
#include "cuda_backend.cuh"

#define SEL_THREADS 512
#define SEL_WARPS (SEL_THREADS / 32)
/* Bytes of score tile per batch at most: more buys no gemm efficiency. */
#define TOPK_TILE_CAP ((size_t)1 << 30)

/* Larger key = ranks first; -0 ranks as +0; NaN is 0 (never a candidate).
 * Every non-NaN float, -inf included, gets a key >= 0x007FFFFF. */
__device__ __forceinline__ uint32_t score_key(float s) {
  if (s != s) return 0u;
  if (s == 0.0f) s = 0.0f;
  const uint32_t b = __float_as_uint(s);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ uint32_t item_key(const float *row, const uint8_t *allowed, int64_t i) {
  if (allowed && !allowed[i]) return 0u;
  return score_key(row[i]);
}

/* Descending order of these is gr_rank_before's order: key, then index asc. */
__device__ __forceinline__ unsigned long long cand_of(uint32_t key, int64_t i) {
  return ((unsigned long long)key << 32) | (unsigned long long)(0xFFFFFFFFu - (uint32_t)i);
}

// One block of SEL_THREADS per query of the batch.
__global__ void __launch_bounds__(SEL_THREADS)
    select_topk_kernel(int32_t *__restrict__ out_idx,       // (batch, topk)
                       float *__restrict__ out_score,       // (batch, topk)
                       const float *__restrict__ tile,      // (batch, n)
                       const uint8_t *__restrict__ allowed, // (n) or NULL
                       int64_t n, int topk) {
  __shared__ int hist[256];
  __shared__ unsigned long long cand[GR_TOPK_MAX];
  __shared__ int warp_count[SEL_WARPS];
  __shared__ int s_bin, s_above, s_total, s_eq, s_count;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const unsigned full = 0xffffffffu;
  const float *row = tile + (size_t)blockIdx.x * n;
  out_idx += (size_t)blockIdx.x * topk;
  out_score += (size_t)blockIdx.x * topk;

  // ---- radix select: the topk-th largest key, 8 bits at a time
  uint32_t prefix = 0, mask_hi = 0;
  int need = topk; /* how many are still to take at or below the prefix */
  int n_eq = 0;
  bool take_all = false;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = tid; b < 256; b += SEL_THREADS)
      hist[b] = 0;
    __syncthreads();
    for (int64_t base = 0; base < n; base += SEL_THREADS) { /* block-uniform trip count */
      const int64_t i = base + tid;
      int bin = -1;
      if (i < n) {
        const uint32_t key = item_key(row, allowed, i);
        if (key != 0u && (key & mask_hi) == prefix) bin = (int)((key >> shift) & 255u);
      }
      /* warp-aggregated: scores crowd into few bins (the exponent byte) */
      if (__any_sync(full, bin >= 0)) { /* later passes: most warps match nothing */
        const unsigned peers = __match_any_sync(full, bin);
        if (bin >= 0 && lane == __ffs(peers) - 1) atomicAdd(&hist[bin], __popc(peers));
      }
    }
    __syncthreads();
    if (warp == 0) {
      /* lane l holds bins 255-8l down to 248-8l: lanes run from the top */
      const int hi = 255 - 8 * lane;
      int own = 0;
      for (int t = 0; t < 8; t++)
        own += hist[hi - t];
      int incl = own;
      for (int o = 1; o < 32; o <<= 1) {
        const int v = __shfl_up_sync(full, incl, o);
        if (lane >= o) incl += v;
      }
      const int total = __shfl_sync(full, incl, 31);
      const unsigned hit = __ballot_sync(full, incl >= need);
      if (lane == 0) s_total = total;
      if (hit != 0u && lane == __ffs(hit) - 1) {
        int cum = incl - own;
        for (int t = 0; t < 8; t++) {
          const int h = hist[hi - t];
          if (cum + h >= need) {
            s_bin = hi - t;
            s_above = cum;
            s_eq = h;
            break;
          }
          cum += h;
        }
      }
    }
    __syncthreads();
    if (shift == 24 && s_total <= need) { /* block-uniform; at most topk candidates */
      take_all = true;
      break;
    }
    need -= s_above;
    prefix |= (uint32_t)s_bin << shift;
    mask_hi |= 255u << shift;
    n_eq = s_eq;
  }
  const uint32_t T = prefix; /* when !take_all: a valid key, > 0 */

  // ---- gather: keys > T (any order) and the `need` lowest-indexed ties
  if (tid == 0) s_count = 0;
  __syncthreads();
  if (take_all || need == n_eq) {
    const uint32_t lo = take_all ? 1u : T;
    for (int64_t i = tid; i < n; i += SEL_THREADS) {
      const uint32_t key = item_key(row, allowed, i);
      if (key >= lo) cand[atomicAdd(&s_count, 1)] = cand_of(key, i);
    }
  } else {
    const int n_gt = topk - need; /* atomics fill cand[0, n_gt), ties go after */
    int taken = 0;                /* ties seen so far, in index order */
    for (int64_t base = 0; base < n; base += SEL_THREADS) {
      const int64_t i = base + tid;
      const uint32_t key = i < n ? item_key(row, allowed, i) : 0u;
      if (key > T) cand[atomicAdd(&s_count, 1)] = cand_of(key, i);
      if (taken < need) { /* block-uniform */
        const bool tie = key == T;
        const unsigned ballot = __ballot_sync(full, tie);
        if (lane == 0) warp_count[warp] = __popc(ballot);
        __syncthreads();
        int before = 0, chunk = 0;
        for (int w = 0; w < SEL_WARPS; w++) {
          const int cnt = warp_count[w];
          before += w < warp ? cnt : 0;
          chunk += cnt;
        }
        const int pos = taken + before + __popc(ballot & ((1u << lane) - 1u));
        if (tie && pos < need) cand[n_gt + pos] = cand_of(T, i);
        taken += chunk;
        __syncthreads(); /* warp_count is rewritten next chunk */
      }
    }
  }
  __syncthreads();
  const int m = take_all ? s_count : topk;

  // ---- sort the m candidates, descending, padded to a power of two with 0
  int n2 = 1;
  while (n2 < m)
    n2 <<= 1;
  for (int t = m + tid; t < n2; t += SEL_THREADS)
    cand[t] = 0ull;
  __syncthreads();
  for (int size = 2; size <= n2; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      for (int i = tid; i < n2; i += SEL_THREADS) {
        const int partner = i ^ stride;
        if (partner > i) {
          const unsigned long long a = cand[i], b = cand[partner];
          const bool descending = (i & size) == 0;
          if (descending ? a < b : a > b) {
            cand[i] = b;
            cand[partner] = a;
          }
        }
      }
      __syncthreads();
    }
  }
  for (int t = tid; t < topk; t += SEL_THREADS) {
    if (t < m) {
      const int32_t idx = (int32_t)(0xFFFFFFFFu - (uint32_t)(cand[t] & 0xFFFFFFFFull));
      out_idx[t] = idx;
      out_score[t] = row[idx];
    } else {
      out_idx[t] = -1;
      out_score[t] = -INFINITY;
    }
  }
}

// One block per query of the batch: its excluded items' scores become NaN.
__global__ void mask_excluded_kernel(float *__restrict__ tile, // (batch, n_items)
                                     int64_t n_items, const int32_t *__restrict__ rows, int64_t q0,
                                     const int64_t *__restrict__ ex_indptr,
                                     const int32_t *__restrict__ ex_indices, int64_t ex_rows) {
  const int64_t q = blockIdx.x;
  const int64_t r = rows ? rows[q0 + q] : q0 + q;
  if (r < 0 || r >= ex_rows) return;
  float *t = tile + (size_t)q * n_items;
  for (int64_t e = ex_indptr[r] + threadIdx.x; e < ex_indptr[r + 1]; e += blockDim.x) {
    const int32_t i = ex_indices[e];
    if (i >= 0 && i < n_items) t[i] = __int_as_float(0x7fc00000); /* NaN */
  }
}

__global__ void gather_rows_kernel(float *__restrict__ dst, // (batch, k)
                                   const float *__restrict__ Q, const int32_t *__restrict__ rows,
                                   int64_t q0, int64_t batch, int k) {
  const int64_t total = batch * k;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t q = t / k;
    dst[t] = Q[(size_t)rows[q0 + q] * k + (size_t)(t % k)];
  }
}

__global__ void fill_empty_kernel(int32_t *out_idx, float *out_score, int64_t total) {
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    out_idx[t] = -1;
    out_score[t] = -INFINITY;
  }
}

extern "C" gr_status gr_cuda_topk_dot(gr_backend *be, int32_t *out_idx, float *out_score,
                                      const float *Q, const int32_t *rows, int64_t n_queries,
                                      const float *Y, int64_t n_items, int k,
                                      const gr_csr_view *exclude, const uint8_t *allowed,
                                      int topk) {
  if (topk < 1 || topk > GR_TOPK_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "top-k size %d is outside 1..%d", topk, GR_TOPK_MAX);
  if (k < 1) return gr_fail(GR_ERR_INVALID_ARG, "top-k: factor dimension %d < 1", k);
  if (n_items > INT32_MAX)
    return gr_fail(GR_ERR_INVALID_ARG, "top-k: %lld items exceed the int32 index range",
                   (long long)n_items);
  if (n_queries <= 0) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  if (n_items == 0) {
    const int64_t total = n_queries * topk;
    const int64_t blocks = (total + 255) / 256 < 4096 ? (total + 255) / 256 : 4096;
    fill_empty_kernel<<<(unsigned)blocks, 256, 0, c->stream>>>(out_idx, out_score, total);
    return GR_CU_LAUNCHED(c->stream, "fill_empty_kernel");
  }
  /* half the remaining budget for the tile (and gathered queries) */
  const size_t per_query = sizeof(float) * ((size_t)n_items + (rows ? (size_t)k : 0));
  int64_t batch = (int64_t)(gr_cuda_mem_available(be) / 2 / per_query);
  const int64_t cap = (int64_t)(TOPK_TILE_CAP / per_query);
  if (batch > cap) batch = cap;
  if (batch > n_queries) batch = n_queries;
  if (batch > INT32_MAX) batch = INT32_MAX;
  if (batch < 1) batch = 1;
  float *tile = NULL, *qbuf = NULL;
  gr_status st = gr_cuda_alloc(be, (void **)&tile, sizeof(float) * (size_t)batch * n_items);
  if (st == GR_OK && rows)
    st = gr_cuda_alloc(be, (void **)&qbuf, sizeof(float) * (size_t)batch * k);
  for (int64_t q0 = 0; st == GR_OK && q0 < n_queries; q0 += batch) {
    const int64_t nb = n_queries - q0 < batch ? n_queries - q0 : batch;
    const float *qptr = Q + (size_t)q0 * k;
    if (rows) {
      const int64_t blocks = (nb * k + 255) / 256 < 4096 ? (nb * k + 255) / 256 : 4096;
      gather_rows_kernel<<<(unsigned)blocks, 256, 0, c->stream>>>(qbuf, Q, rows, q0, nb, k);
      GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "gather_rows_kernel"), done);
      qptr = qbuf;
    }
    /* column-major: tile^T (n_items, nb) = (Y^T)^T (n_items, k) x qbuf^T (k, nb) */
    const float one = 1.0f, zero = 0.0f;
    GR_CU_GOTO(st,
               cublasSgemm(c->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_items, (int)nb, k, &one, Y,
                           k, qptr, k, &zero, tile, (int)n_items),
               done);
    if (exclude && exclude->n_rows > 0) {
      mask_excluded_kernel<<<(unsigned)nb, 256, 0, c->stream>>>(
          tile, n_items, rows, q0, exclude->indptr, exclude->indices, exclude->n_rows);
      GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "mask_excluded_kernel"), done);
    }
    select_topk_kernel<<<(unsigned)nb, SEL_THREADS, 0, c->stream>>>(
        out_idx + (size_t)q0 * topk, out_score + (size_t)q0 * topk, tile, allowed, n_items, topk);
    GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "select_topk_kernel"), done);
  }
done:
  gr_cuda_free(be, qbuf);
  gr_cuda_free(be, tile);
  return st;
}
