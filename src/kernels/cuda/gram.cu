/* G = Y^T Y + reg I by one cuBLAS syrk (the only O(n k^2) part) and a tiny
 * kernel that mirrors the computed triangle and adds reg on the diagonal.
 * cuBLAS is column-major: row-major Y (n, k) is column-major Y^T (k, n), so
 * syrk with op N computes (Y^T)(Y^T)^T = Y^T Y. G is symmetric, so its
 * row-major and column-major layouts coincide once both triangles are full. */
#include "cuda_backend.cuh"

/* The syrk fills the column-major lower triangle G[i + j k], i >= j. */
__global__ void gram_finish_kernel(float *G, int k, float reg) { // G (k, k)
  const int64_t total = (int64_t)k * k;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    const int i = (int)(t % k), j = (int)(t / k);
    if (i < j)
      G[t] = G[(size_t)j + (size_t)i * k]; /* reads only the lower triangle */
    else if (i == j)
      G[t] += reg;
  }
}

extern "C" gr_status gr_cuda_gram(gr_backend *be, float *G, const float *Y, int64_t n, int k,
                                  float reg) {
  if (k < 1) return gr_fail(GR_ERR_INVALID_ARG, "gram: factor dimension %d < 1", k);
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  if (n <= 0) GR_CU_TRY(cudaMemsetAsync(G, 0, sizeof(float) * (size_t)k * k, c->stream));
  /* syrk takes int sizes: accumulate chunks of rows for huge n */
  const int64_t chunk = (int64_t)1 << 30;
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int rows = (int)(n - r0 < chunk ? n - r0 : chunk);
    const float one = 1.0f, beta = r0 == 0 ? 0.0f : 1.0f;
    GR_CU_TRY(cublasSsyrk(c->cublas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, k, rows, &one,
                          Y + (size_t)r0 * k, k, &beta, G, k));
  }
  const int64_t total = (int64_t)k * k;
  const unsigned blocks = (unsigned)((total + 255) / 256 < 4096 ? (total + 255) / 256 : 4096);
  gram_finish_kernel<<<blocks, 256, 0, c->stream>>>(G, k, reg);
  return GR_CU_LAUNCHED(c->stream, "gram_finish_kernel");
}
