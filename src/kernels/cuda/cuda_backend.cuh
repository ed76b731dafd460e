/* State shared by the CUDA backend's files: the backend's stream and library
 * handles, the tracked-allocation helpers every temporary buffer goes
 * through (so the --max-device-mem budget covers scratch too), the
 * operation entry points the vtable in backend_cuda.cu points at, and the
 * few device helpers (warp and block sums) several kernels use. */
#ifndef GR_KERNELS_CUDA_BACKEND_CUH
#define GR_KERNELS_CUDA_BACKEND_CUH

#include <stdint.h>

#include "../backend.h"
#include "cuda_check.cuh"

/* The largest factor dimension the one-block-per-row kernels support. */
#define GR_CUDA_MAX_K 1024

struct gr_cuda {
  int device;
  int sm_count;
  cudaStream_t stream;
  cublasHandle_t cublas;
  cusolverDnHandle_t cusolver;
  size_t in_use; /* bytes handed out by gr_cuda_alloc */
  void *allocs;  /* std::unordered_map<void *, size_t>, owned by backend_cuda.cu */
};

static inline gr_cuda *gr_cuda_of(gr_backend *be) { return (gr_cuda *)be->impl; }

/* Tracked device allocation: refuses (GR_ERR_DEVICE_MEM) past be->mem_limit. */
gr_status gr_cuda_alloc(gr_backend *be, void **ptr, size_t bytes);
/* Waits for the stream, then frees; NULL is ignored. */
void gr_cuda_free(gr_backend *be, void *ptr);
/* Bytes still allowed under the limit. */
size_t gr_cuda_mem_available(const gr_backend *be);
/* Makes the backend's device current on the calling thread. */
gr_status gr_cuda_enter(gr_backend *be);

/* Blocks for a one-block-per-row kernel: k rounded up to whole warps. */
static inline int gr_cuda_row_threads(int k) { return (k + 31) / 32 * 32; }
/* Grid size for n independent blocks (grid-stride beyond the limit). */
static inline unsigned gr_cuda_grid(int64_t n) {
  const int64_t cap = 1 << 30;
  return (unsigned)(n < 1 ? 1 : n < cap ? n : cap);
}

#ifdef __cplusplus
extern "C" {
#endif
gr_status gr_cuda_gram(gr_backend *be, float *G, const float *Y, int64_t n, int k, float reg);
gr_status gr_cuda_als_solve_cg(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                               const float *G, int k, int cg_steps);
gr_status gr_cuda_als_solve_cholesky(gr_backend *be, float *X, const gr_csr_view *m, const float *Y,
                                     const float *G, int k);
gr_status gr_cuda_als_loss_terms(gr_backend *be, double out[3], const gr_csr_view *m,
                                 const float *X, const float *Y, const float *G, int k);
gr_status gr_cuda_row_sq_norms(gr_backend *be, float *out, const float *Y, int64_t n, int k);
gr_status gr_cuda_topk_dot(gr_backend *be, int32_t *out_idx, float *out_score, const float *Q,
                           const int32_t *rows, int64_t n_queries, const float *Y, int64_t n_items,
                           int k, const gr_csr_view *exclude, const uint8_t *allowed, int topk);
gr_status gr_cuda_kmeans_row_norms(gr_backend *be, float *out, const float *X, int64_t n, int d);
gr_status gr_cuda_kmeans_assign(gr_backend *be, int32_t *labels, float *min_d2, const float *X,
                                const float *x_norm, int64_t n, int d, const float *C, int k,
                                const struct gr_packed_rows *packed);
gr_status gr_cuda_kmeans_step(gr_backend *be, int32_t *labels, float *min_d2, double *sums,
                              int64_t *counts, const float *X, const float *x_norm, int64_t n,
                              int d, const float *C, int k, const struct gr_packed_rows *packed);
gr_status gr_cuda_logreg_objective(gr_backend *be, double *f, const double *theta, const float *X,
                                   const gr_lr_rows *rows, const uint8_t *y, const float *sw,
                                   const int64_t *seg, const double *cw, const uint8_t *active,
                                   int m, int d);
gr_status gr_cuda_logreg_grad_hess(gr_backend *be, double *g, double *H, double *f,
                                   const double *theta, const float *X, const gr_lr_rows *rows,
                                   const uint8_t *y, const float *sw, const int64_t *seg,
                                   const double *cw, const uint8_t *active, int m, int d,
                                   double hess_tau);
gr_status gr_cuda_spd_solve_batched(gr_backend *be, double *step, double *H, const double *rhs,
                                    const uint8_t *active, const uint8_t *factored, int m, int D);
#ifdef __cplusplus
}
#endif

/* ---- device helpers ------------------------------------------------------ */

/* Confidence of entry e (the ALS ops' matrices always have data, as the CPU
 * twins read it). */
__device__ __forceinline__ float gr_conf_at(const float *data, int64_t e) { return data[e]; }

/* XOR butterfly: every lane ends with the bitwise-same sum (each step adds
 * the same two values in either order), which keeps block-uniform branches
 * on reduced values uniform. */
__device__ __forceinline__ float gr_warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

/* Sums NV values over the whole block; every thread gets the NV sums, all
 * bitwise equal across threads (each warp reduces the same partials in the
 * same order). blockDim.x must be a multiple of 32 and every thread of the
 * block must call it. red: shared scratch of NV * 32 floats. */
template <int NV> __device__ __forceinline__ void gr_block_sum(float (&v)[NV], float *red) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
#pragma unroll
  for (int t = 0; t < NV; t++)
    v[t] = gr_warp_sum(v[t]);
  if (lane == 0) {
#pragma unroll
    for (int t = 0; t < NV; t++)
      red[t * 32 + warp] = v[t];
  }
  __syncthreads();
#pragma unroll
  for (int t = 0; t < NV; t++)
    v[t] = gr_warp_sum(lane < n_warps ? red[t * 32 + lane] : 0.0f);
  __syncthreads(); /* red may be reused right away */
}

/* (G v)_j for a symmetric row-major G (k, k) and v in shared memory: reads
 * column j (G[c][j] == G[j][c]) so a warp's loads are contiguous. */
__device__ __forceinline__ float gr_sym_matvec(const float *__restrict__ G,
                                               const float *__restrict__ v_shared, int k, int j) {
  float s0 = 0.0f, s1 = 0.0f;
  int c = 0;
  for (; c + 1 < k; c += 2) {
    s0 += G[(size_t)c * k + j] * v_shared[c];
    s1 += G[(size_t)(c + 1) * k + j] * v_shared[c + 1];
  }
  if (c < k) s0 += G[(size_t)c * k + j] * v_shared[c];
  return s0 + s1;
}

#endif
