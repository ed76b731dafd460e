/* The training loss terms of implicit ALS, one thread block per row like the
 * CG solver (the same dot products, without the iterations). Per-row values
 * are float dot products widened to double exactly where the CPU twin widens
 * them; thread 0 of each block keeps double sums over its rows and writes
 * them to the block's slot, and the host adds the slots in block order: no
 * atomics, so the loss does not depend on which block finishes first. */
#include <stdlib.h>

#include "../shared_math.h"
#include "cuda_backend.cuh"

#define LOSS_BATCH 8

__global__ void __launch_bounds__(GR_CUDA_MAX_K)
    loss_kernel(double *__restrict__ out,           // (gridDim.x, 3): loss, sum c, sum |x|^2
                const int64_t *__restrict__ indptr, // (n_rows + 1)
                const int32_t *__restrict__ indices, const float *__restrict__ data,
                const float *__restrict__ X, // (n_rows, k)
                const float *__restrict__ Y, // (n_cols, k)
                const float *__restrict__ G, // (k, k) = Y^T Y
                int64_t n_rows, int k) {
  __shared__ float xs[GR_CUDA_MAX_K];
  __shared__ float red[LOSS_BATCH * 32];
  const int j = threadIdx.x;
  const bool active = j < k;
  double loss = 0.0, conf = 0.0, norms = 0.0; /* meaningful in thread 0 */
  for (int64_t u = blockIdx.x; u < n_rows; u += gridDim.x) {
    const float x = active ? X[(size_t)u * k + j] : 0.0f;
    __syncthreads(); /* the previous row is done reading xs */
    xs[j] = x;
    __syncthreads();
    const float gx = active ? gr_sym_matvec(G, xs, k, j) : 0.0f;
    float quad[2] = {gx * x, x * x};
    gr_block_sum<2>(quad, red);
    double row = quad[0];
    norms += quad[1];
    const int64_t begin = indptr[u], end = indptr[u + 1];
    for (int64_t e0 = begin; e0 < end; e0 += LOSS_BATCH) {
      float d[LOSS_BATCH];
#pragma unroll
      for (int t = 0; t < LOSS_BATCH; t++) {
        const int64_t e = e0 + t;
        d[t] = e < end && active ? Y[(size_t)indices[e] * k + j] * x : 0.0f;
      }
      gr_block_sum<LOSS_BATCH>(d, red);
      if (j == 0) {
#pragma unroll
        for (int t = 0; t < LOSS_BATCH; t++) {
          if (e0 + t < end) {
            const float c = gr_conf_at(data, e0 + t);
            row += gr_loss_pair(c, d[t]);
            conf += c;
          }
        }
      }
    }
    loss += row;
  }
  if (j == 0) {
    out[(size_t)blockIdx.x * 3 + 0] = loss;
    out[(size_t)blockIdx.x * 3 + 1] = conf;
    out[(size_t)blockIdx.x * 3 + 2] = norms;
  }
}

extern "C" gr_status gr_cuda_als_loss_terms(gr_backend *be, double out[3], const gr_csr_view *m,
                                            const float *X, const float *Y, const float *G, int k) {
  if (k < 1 || k > GR_CUDA_MAX_K)
    return gr_fail(GR_ERR_INVALID_ARG, "the CUDA loss supports factors 1..%d, got %d",
                   GR_CUDA_MAX_K, k);
  out[0] = out[1] = out[2] = 0.0;
  if (m->n_rows <= 0) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  /* a few blocks per SM, each looping over rows: few slots, balanced enough */
  const int64_t blocks = (int64_t)c->sm_count * 8;
  const unsigned grid = gr_cuda_grid(m->n_rows < blocks ? m->n_rows : blocks);
  const size_t bytes = sizeof(double) * 3 * grid;
  double *part = NULL;
  double *host = (double *)malloc(bytes);
  if (!host) return gr_fail(GR_ERR_NOMEM, "cannot allocate the loss sums");
  gr_status st = gr_cuda_alloc(be, (void **)&part, bytes);
  if (st == GR_OK) {
    loss_kernel<<<grid, gr_cuda_row_threads(k), 0, c->stream>>>(part, m->indptr, m->indices,
                                                                m->data, X, Y, G, m->n_rows, k);
    st = GR_CU_LAUNCHED(c->stream, "loss_kernel");
  }
  if (st == GR_OK)
    st = GR_CU(cudaMemcpyAsync(host, part, bytes, cudaMemcpyDeviceToHost, c->stream));
  if (st == GR_OK) st = GR_CU(cudaStreamSynchronize(c->stream));
  for (unsigned b = 0; st == GR_OK && b < grid; b++)
    for (int i = 0; i < 3; i++)
      out[i] += host[(size_t)b * 3 + i];
  gr_cuda_free(be, part);
  free(host);
  return st;
}
