/* ALS solved exactly: for a batch of rows, a custom kernel writes
 * A_u = G + sum (c-1) y y^T (column-major, both triangles) and
 * b_u = sum c y (straight into X[u], which cuSOLVER then overwrites with the
 * solution), then cusolverDnSpotrfBatched + SpotrsBatched factor and solve
 * the whole batch. The batch is sized to a quarter of the memory budget
 * (each row costs k*k floats). The build kernel is a small tiled GEMM:
 * block (row, 64x64 lower tile) accumulates Y_tile^T diag(c-1) Y_tile over
 * the row's items, staged 32 items at a time in shared memory. */
#include <stdlib.h>

#include "../shared_math.h"
#include "cuda_backend.cuh"

#define CH_TILE 64
#define CH_THREADS 256
#define CH_ITEMS 32

// grid (batch rows, lower tile pairs); 256 threads, each owning 4x4 entries.
__global__ void __launch_bounds__(CH_THREADS)
    chol_build_kernel(float *__restrict__ A, // (batch, k, k) column-major
                      float *__restrict__ X, // (n_rows, k): b_u of the batch rows
                      const int64_t *__restrict__ indptr, const int32_t *__restrict__ indices,
                      const float *__restrict__ data, const float *__restrict__ Y, // (n_cols, k)
                      const float *__restrict__ G, // (k, k) symmetric
                      int64_t u0, int k) {
  __shared__ float yi[CH_ITEMS][CH_TILE], yj[CH_ITEMS][CH_TILE], w[CH_ITEMS];
  const int64_t r = blockIdx.x, u = u0 + r;
  const int pair = blockIdx.y;
  int ti = 0;
  while ((ti + 1) * (ti + 2) / 2 <= pair)
    ti++;
  const int tj = pair - ti * (ti + 1) / 2; /* tj <= ti */
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int64_t begin = indptr[u], end = indptr[u + 1];
  float acc[4][4] = {};
  for (int64_t e0 = begin; e0 < end; e0 += CH_ITEMS) {
    __syncthreads(); /* the previous chunk is consumed */
    for (int t = tid; t < CH_ITEMS * CH_TILE; t += CH_THREADS) {
      const int it = t / CH_TILE, col = t % CH_TILE;
      const int64_t e = e0 + it;
      const int gi = ti * CH_TILE + col, gj = tj * CH_TILE + col;
      float vi = 0.0f, vj = 0.0f;
      if (e < end) {
        const float *y = Y + (size_t)indices[e] * k;
        if (gi < k) vi = y[gi];
        if (gj < k) vj = y[gj];
      }
      yi[it][col] = vi;
      yj[it][col] = vj;
    }
    if (tid < CH_ITEMS) {
      const int64_t e = e0 + tid;
      w[tid] = e < end ? gr_conf_extra(gr_conf_at(data, e)) : 0.0f;
    }
    __syncthreads();
    const int n_it = end - e0 < CH_ITEMS ? (int)(end - e0) : CH_ITEMS;
    for (int it = 0; it < n_it; it++) {
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; q++) {
        a[q] = yi[it][ty + 16 * q];
        b[q] = w[it] * yj[it][tx + 16 * q];
      }
#pragma unroll
      for (int qa = 0; qa < 4; qa++)
#pragma unroll
        for (int qb = 0; qb < 4; qb++)
          acc[qa][qb] += b[qb] * a[qa];
    }
  }
  float *Au = A + (size_t)r * k * k;
#pragma unroll
  for (int qa = 0; qa < 4; qa++) {
#pragma unroll
    for (int qb = 0; qb < 4; qb++) {
      const int i = ti * CH_TILE + ty + 16 * qa, j = tj * CH_TILE + tx + 16 * qb;
      if (i >= k || j >= k || i < j) continue; /* one writer per symmetric pair */
      /* an empty row solves I x = 0: x = 0 whatever G is */
      const float v = begin == end ? (i == j ? 1.0f : 0.0f) : G[(size_t)i * k + j] + acc[qa][qb];
      Au[(size_t)i + (size_t)j * k] = v;
      Au[(size_t)j + (size_t)i * k] = v;
    }
  }
  if (pair == 0) { /* b_u, same accumulation order as the CPU twin */
    for (int jj = tid; jj < k; jj += CH_THREADS) {
      float s = 0.0f;
      for (int64_t e = begin; e < end; e++)
        s += gr_conf_at(data, e) * Y[(size_t)indices[e] * k + jj];
      X[(size_t)u * k + jj] = s;
    }
  }
}

__global__ void chol_pointers_kernel(float **a_ptr, float **b_ptr, float *A, float *X, int64_t u0,
                                     int batch, int k) {
  for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < batch; r += gridDim.x * blockDim.x) {
    a_ptr[r] = A + (size_t)r * k * k;
    b_ptr[r] = X + (size_t)(u0 + r) * k;
  }
}

extern "C" gr_status gr_cuda_als_solve_cholesky(gr_backend *be, float *X, const gr_csr_view *m,
                                                const float *Y, const float *G, int k) {
  if (k < 1 || k > GR_CUDA_MAX_K)
    return gr_fail(GR_ERR_INVALID_ARG, "the CUDA Cholesky solver supports factors 1..%d, got %d",
                   GR_CUDA_MAX_K, k);
  const int64_t n = m->n_rows;
  if (n <= 0) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  const size_t per_row = sizeof(float) * (size_t)k * k + 2 * sizeof(float *) + sizeof(int);
  int64_t batch = (int64_t)(gr_cuda_mem_available(be) / 4 / per_row);
  if (batch < 1) batch = 1;
  if (batch > n) batch = n;
  if (batch > (1 << 20)) batch = 1 << 20;
  const int n_tiles = (k + CH_TILE - 1) / CH_TILE;
  const unsigned n_pairs = (unsigned)(n_tiles * (n_tiles + 1) / 2);

  float *A = NULL, **a_ptr = NULL, **b_ptr = NULL;
  int *info = NULL;
  int *info_host = (int *)malloc(sizeof(int) * (size_t)batch);
  gr_status st = info_host ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate Cholesky info");
  if (st == GR_OK) st = gr_cuda_alloc(be, (void **)&A, sizeof(float) * (size_t)batch * k * k);
  if (st == GR_OK) st = gr_cuda_alloc(be, (void **)&a_ptr, sizeof(float *) * (size_t)batch);
  if (st == GR_OK) st = gr_cuda_alloc(be, (void **)&b_ptr, sizeof(float *) * (size_t)batch);
  if (st == GR_OK) st = gr_cuda_alloc(be, (void **)&info, sizeof(int) * ((size_t)batch + 1));
  for (int64_t u0 = 0; st == GR_OK && u0 < n; u0 += batch) {
    const int nb = (int)(n - u0 < batch ? n - u0 : batch);
    chol_pointers_kernel<<<(nb + 255) / 256 < 1024 ? (nb + 255) / 256 : 1024, 256, 0, c->stream>>>(
        a_ptr, b_ptr, A, X, u0, nb, k);
    GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "chol_pointers_kernel"), done);
    chol_build_kernel<<<dim3((unsigned)nb, n_pairs), CH_THREADS, 0, c->stream>>>(
        A, X, m->indptr, m->indices, m->data, Y, G, u0, k);
    GR_CHECK_GOTO(st, GR_CU_LAUNCHED(c->stream, "chol_build_kernel"), done);
    GR_CU_GOTO(st,
               cusolverDnSpotrfBatched(c->cusolver, CUBLAS_FILL_MODE_LOWER, k, a_ptr, k, info, nb),
               done);
    GR_CU_GOTO(st,
               cudaMemcpyAsync(info_host, info, sizeof(int) * (size_t)nb, cudaMemcpyDeviceToHost,
                               c->stream),
               done);
    /* the factorizations are checked before the solves, which would only
     * spread a failed one's NaN: the fit stops on the error either way */
    GR_CU_GOTO(st, cudaStreamSynchronize(c->stream), done);
    for (int r = 0; r < nb; r++) {
      if (info_host[r] != 0) {
        st = gr_fail(GR_ERR_NUMERIC,
                     "Cholesky factorization failed on row %lld (cuSOLVER info %d): the normal "
                     "equations are not positive definite; increase --regularization",
                     (long long)(u0 + r), info_host[r]);
        goto done;
      }
    }
    GR_CU_GOTO(st,
               cusolverDnSpotrsBatched(c->cusolver, CUBLAS_FILL_MODE_LOWER, k, 1, a_ptr, k, b_ptr,
                                       k, info + batch, nb),
               done);
    int solve_info = 0;
    GR_CU_GOTO(
        st,
        cudaMemcpyAsync(&solve_info, info + batch, sizeof(int), cudaMemcpyDeviceToHost, c->stream),
        done);
    GR_CU_GOTO(st, cudaStreamSynchronize(c->stream), done);
    if (solve_info != 0) {
      st = gr_fail(GR_ERR_CUDA, "cusolverDnSpotrsBatched rejected its argument %d", -solve_info);
      goto done;
    }
  }
done:
  gr_cuda_free(be, info);
  gr_cuda_free(be, b_ptr);
  gr_cuda_free(be, a_ptr);
  gr_cuda_free(be, A);
  free(info_host);
  return st;
}
