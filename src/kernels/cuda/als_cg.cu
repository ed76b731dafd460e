/* ALS by conjugate gradient, one thread block per row (user or item), as in
 * `implicit`'s GPU solver: thread j owns coordinate j of x, r, p and Ap, so
 * the k x k per-row matrix is never formed. A p = G p + sum (c-1)(y.p) y:
 * G p reads G column-wise from global memory (L2-resident, coalesced), and
 * the row's items are taken CG_BATCH at a time so one block reduction
 * (two barriers) serves CG_BATCH dot products. Same steps, guards and
 * early exit as the CPU twin (cpu/als_solve.c), in float. */
#include "../shared_math.h"
#include "cuda_backend.cuh"

#define CG_BATCH 8

// One block per row; blockDim.x = k rounded up to a warp multiple (<= 1024).
__global__ void __launch_bounds__(GR_CUDA_MAX_K)
    als_cg_kernel(float *__restrict__ X,              // (n_rows, k), in: start, out: solution
                  const int64_t *__restrict__ indptr, // (n_rows + 1)
                  const int32_t *__restrict__ indices, const float *__restrict__ data,
                  const float *__restrict__ Y, // (n_cols, k)
                  const float *__restrict__ G, // (k, k) = Y^T Y + reg I
                  int64_t n_rows, int k, int cg_steps) {
  __shared__ float vec[GR_CUDA_MAX_K]; /* x, then p: the operand of G v */
  __shared__ float red[CG_BATCH * 32];
  const int j = threadIdx.x;
  const bool active = j < k; /* guard lanes keep x = r = p = Ap = 0 */
  for (int64_t u = blockIdx.x; u < n_rows; u += gridDim.x) {
    float *xrow = X + (size_t)u * k;
    const int64_t begin = indptr[u], end = indptr[u + 1];
    if (begin == end) { /* block-uniform */
      if (active) xrow[j] = 0.0f;
      continue;
    }
    float x = active ? xrow[j] : 0.0f;
    __syncthreads(); /* the previous row is done reading vec */
    vec[j] = x;
    __syncthreads();
    /* r = b - A x = sum_i (c - (c-1) y_i.x) y_i - G x */
    float r = active ? -gr_sym_matvec(G, vec, k, j) : 0.0f;
    for (int64_t e0 = begin; e0 < end; e0 += CG_BATCH) {
      float y[CG_BATCH], c[CG_BATCH], d[CG_BATCH];
#pragma unroll
      for (int t = 0; t < CG_BATCH; t++) {
        const int64_t e = e0 + t;
        c[t] = e < end ? gr_conf_at(data, e) : 0.0f;
        y[t] = e < end && active ? Y[(size_t)indices[e] * k + j] : 0.0f;
        d[t] = y[t] * x;
      }
      gr_block_sum<CG_BATCH>(d, red);
#pragma unroll
      for (int t = 0; t < CG_BATCH; t++)
        r += (c[t] - gr_conf_extra(c[t]) * d[t]) * y[t];
    }
    float p = r;
    float rs[1] = {r * r};
    gr_block_sum<1>(rs, red);
    float rs_old = rs[0];
    if (rs_old < GR_CG_EPS) continue; /* already solved: x stays as is */
    for (int it = 0; it < cg_steps; it++) {
      __syncthreads(); /* everyone is done reading vec */
      vec[j] = p;
      __syncthreads();
      float ap = active ? gr_sym_matvec(G, vec, k, j) : 0.0f;
      for (int64_t e0 = begin; e0 < end; e0 += CG_BATCH) {
        float y[CG_BATCH], w[CG_BATCH], d[CG_BATCH];
#pragma unroll
        for (int t = 0; t < CG_BATCH; t++) {
          const int64_t e = e0 + t;
          w[t] = e < end ? gr_conf_extra(gr_conf_at(data, e)) : 0.0f;
          y[t] = e < end && active ? Y[(size_t)indices[e] * k + j] : 0.0f;
          d[t] = y[t] * p;
        }
        gr_block_sum<CG_BATCH>(d, red);
#pragma unroll
        for (int t = 0; t < CG_BATCH; t++)
          ap += w[t] * d[t] * y[t];
      }
      float pap[1] = {p * ap};
      gr_block_sum<1>(pap, red);
      const float alpha = gr_cg_step(rs_old, pap[0]);
      x += alpha * p;
      r -= alpha * ap;
      float rn[1] = {r * r};
      gr_block_sum<1>(rn, red);
      const float rs_new = rn[0];
      if (rs_new < GR_CG_EPS) break; /* block-uniform: rs_new is bitwise equal everywhere */
      const float beta = rs_new / rs_old;
      p = r + beta * p;
      rs_old = rs_new;
    }
    if (active) xrow[j] = x;
  }
}

extern "C" gr_status gr_cuda_als_solve_cg(gr_backend *be, float *X, const gr_csr_view *m,
                                          const float *Y, const float *G, int k, int cg_steps) {
  if (k < 1 || k > GR_CUDA_MAX_K)
    return gr_fail(GR_ERR_INVALID_ARG, "the CUDA CG solver supports factors 1..%d, got %d",
                   GR_CUDA_MAX_K, k);
  if (m->n_rows <= 0) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  als_cg_kernel<<<gr_cuda_grid(m->n_rows), gr_cuda_row_threads(k), 0, c->stream>>>(
      X, m->indptr, m->indices, m->data, Y, G, m->n_rows, k, cg_steps);
  return GR_CU_LAUNCHED(c->stream, "als_cg_kernel");
}
