/* Squared row norms: one warp per row (rows are short, k floats), lanes
 * striding over the factors, so a warp reads its row in coalesced pieces. */
#include "cuda_backend.cuh"

#define NORM_THREADS 256

__global__ void row_sq_norms_kernel(float *__restrict__ out,     // (n)
                                    const float *__restrict__ Y, // (n, k)
                                    int64_t n, int k) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (int64_t)gridDim.x * (NORM_THREADS / 32);
  for (int64_t r = (int64_t)blockIdx.x * (NORM_THREADS / 32) + threadIdx.x / 32; r < n;
       r += warps) {
    const float *y = Y + (size_t)r * k;
    float s = 0.0f;
    for (int j = lane; j < k; j += 32)
      s += y[j] * y[j];
    s = gr_warp_sum(s);
    if (lane == 0) out[r] = s;
  }
}

extern "C" gr_status gr_cuda_row_sq_norms(gr_backend *be, float *out, const float *Y, int64_t n,
                                          int k) {
  if (n <= 0) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  const int64_t rows_per_block = NORM_THREADS / 32;
  int64_t blocks = (n + rows_per_block - 1) / rows_per_block;
  if (blocks > (int64_t)c->sm_count * 64) blocks = (int64_t)c->sm_count * 64;
  row_sq_norms_kernel<<<(unsigned)blocks, NORM_THREADS, 0, c->stream>>>(out, Y, n, k);
  return GR_CU_LAUNCHED(c->stream, "row_sq_norms_kernel");
}
