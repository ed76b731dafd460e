/* CUDA twins of the batched logistic-regression operations. Each active
 * group's rows go through in chunks of at most LR_MAX_CHUNK rows, fewer when
 * the memory budget is tight. One kernel (a warp per row) computes the
 * margin and the per-row terms in double (shared_math.h), writes r and the
 * sqrt(h)-scaled row, and leaves per-block double sums of the loss and r;
 * a column kernel sums r_i x_i in double per block of rows; cuBLAS ssyrk
 * turns the scaled rows into the chunk's float curvature sum (a row that
 * curvature sampling leaves out is written as zeros: the same sum as the
 * CPU's, which skips it, without a compaction). Small kernels
 * add every partial to the double outputs in a fixed order, so no result
 * depends on timing. (Margins and gradients are double for the same reason
 * as on the CPU: float ones miss the reference on nearly separable groups.)
 * Described rows (gr_lr_rows) are read where they lie: both row kernels
 * look each real row up through lr_src and pass over the synthetic ones,
 * which go by pair: a warp per pair takes u = x_a.w + b and v = (x_b -
 * x_a).w, then its rows' margins u + gap v and six sums over them
 * (cub::WarpReduce), and writes the pair's two rows of the curvature
 * factor (as the CPU's pair_rows_out) for the same ssyrk, and its two
 * gradient coefficients for a column kernel. The Newton systems are solved in double by
 * cusolverDnDpotrfBatched and DpotrsBatched over the active groups, every info checked. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cub/warp/warp_reduce.cuh>

#include "../logreg_args.h"
#include "../shared_math.h"
#include "cuda_backend.cuh"

#define LR_THREADS 256
#define LR_WARPS (LR_THREADS / 32)
#define LR_MAX_BLOCKS 1024
#define LR_MAX_CHUNK 16384 /* rows per float curvature partial */
#define LR_GRAD_ROWS 128   /* rows per gradient partial */
#define LR_GRAD_COLS 128   /* columns per gradient block */
#define LR_PAIR_CHUNK 1024 /* pairs per curvature partial, at most (two rows each) */

// ---- kernels -----------------------------------------------------------------

/* Where a chunk's training rows are: row i is X[i] when a is NULL, else
 * X[a[i]], or between X[a[i]] and X[b[i]] at gap[i] (gr_lr_rows). Passed by
 * value, already offset to the chunk's first row. */
struct lr_src {
  const float *X;
  const int32_t *a, *b;
  const float *gap;
};

/* Training row i of the chunk in X, or NULL for a synthetic row (read by
 * pair, not here). */
__device__ __forceinline__ const float *lr_real_row(const lr_src &s, int64_t i, int d) {
  if (!s.a) return s.X + (size_t)i * d;
  const int32_t u = __ldg(s.a + i);
  if (s.b && __ldg(s.b + i) != u) return NULL;
  return s.X + (size_t)u * d;
}

__device__ __forceinline__ double lr_warp_sum(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

/* part[2 blockIdx.x + 0, 1] = the block's sums of lane 0's loss and r, in
 * warp order. Every thread of the block calls it. */
__device__ __forceinline__ void lr_block_sums(double *__restrict__ part, double loss, double rsum) {
  __shared__ double red[LR_WARPS][2];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    red[warp][0] = loss;
    red[warp][1] = rsum;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double s0 = 0.0, s1 = 0.0;
    for (int w = 0; w < LR_WARPS; w++) {
      s0 += red[w][0];
      s1 += red[w][1];
    }
    part[2 * blockIdx.x] = s0;
    part[2 * blockIdx.x + 1] = s1;
  }
}

/* One warp per row of the chunk: the lanes share the margin's dot product
 * (every lane ends with the same sum), then each computes the row's terms,
 * lane 0 keeps the sums, and the lanes write the scaled row. part
 * (gridDim.x, 2): the block's loss and r sums, in warp order. r and A may
 * be NULL (objective only). */
__global__ void __launch_bounds__(LR_THREADS)
    lr_rows_kernel(double *__restrict__ part, double *__restrict__ r,           // (rows)
                   float *__restrict__ A,                                       // (rows, d + 1)
                   const lr_src src,                                            // (rows, d)
                   const uint8_t *__restrict__ y, const float *__restrict__ sw, // (rows)
                   const double *__restrict__ theta_g,                          // (d + 1)
                   double cw0, double cw1, int rows, int d, double tau, int64_t row0) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, D = d + 1;
  const double b = theta_g[d];
  double loss = 0.0, rsum = 0.0;
  for (int64_t i = (int64_t)blockIdx.x * LR_WARPS + warp; i < rows;
       i += (int64_t)gridDim.x * LR_WARPS) {
    const float *x = lr_real_row(src, i, d);
    if (!x) { /* synthetic: its pair adds its terms; a zero row here */
      if (r && lane == 0) r[i] = 0.0;
      if (A) {
        float *a = A + (size_t)i * D;
        for (int j = lane; j < D; j += 32)
          a[j] = 0.0f;
      }
      continue;
    }
    double zp = 0.0;
    for (int j = lane; j < d; j += 32)
      zp += (double)__ldg(x + j) * theta_g[j];
    const double ci = (y[i] ? cw1 : cw0) * (sw ? (double)sw[i] : 1.0);
    const gr_logreg_terms t = gr_logreg_row(lr_warp_sum(zp) + b, y[i] != 0, ci);
    loss += t.loss;
    rsum += t.r;
    if (r && lane == 0) r[i] = t.r;
    if (A) {
      const float sh = (float)gr_logreg_hess_scale(t.h, ci, tau, row0 + i);
      float *a = A + (size_t)i * D;
      for (int j = lane; j < d; j += 32)
        a[j] = sh * __ldg(x + j);
      if (lane == 0) a[d] = sh;
    }
  }
  lr_block_sums(part, loss, rsum);
}

/* One chunk of pairs (pairs p0.. of gr_lr_rows), passed by value. */
struct lr_pair_src {
  const float *X, *gap;
  const int32_t *a, *b;        /* the pairs' rows of X, from p0 */
  const int64_t *start, *rows; /* pair_start from p0; pair_rows */
  const uint8_t *y;            /* the whole run's labels */
  const float *sw;             /* the whole run's weights, or NULL */
};

/* The synthetic rows of a chunk of pairs, a warp per pair: u and v (lanes
 * split the columns), then the pair's rows (lanes split them) and their six
 * sums, reduced by cub::WarpReduce in a fixed tree. r2 (pairs, 2): the
 * gradient coefficients R0 = sum r_i and R1 = sum r_i gap_i; A (2 pairs,
 * d + 1): the curvature factor's rows (zeros where the pair has no
 * curvature); part (gridDim.x, 2): the block's loss and R0 sums, in warp
 * order. r2 and A may be NULL. */
__global__ void __launch_bounds__(LR_THREADS)
    lr_pair_kernel(double *__restrict__ part, double *__restrict__ r2, float *__restrict__ A,
                   const lr_pair_src src, const double *__restrict__ theta_g, double cw0,
                   double cw1, int pairs, int d) {
  typedef cub::WarpReduce<double> warp_reduce;
  __shared__ typename warp_reduce::TempStorage tmp[LR_WARPS];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, D = d + 1;
  double loss_sum = 0.0, r_sum = 0.0; /* lane 0's */
  for (int q = blockIdx.x * LR_WARPS + warp; q < pairs; q += gridDim.x * LR_WARPS) {
    const float *xa = src.X + (size_t)__ldg(src.a + q) * d;
    const float *xb = src.X + (size_t)__ldg(src.b + q) * d;
    double u = 0.0, v = 0.0;
    for (int j = lane; j < d; j += 32) {
      const double ua = (double)__ldg(xa + j);
      u += ua * theta_g[j];
      v += ((double)__ldg(xb + j) - ua) * theta_g[j];
    }
    u = lr_warp_sum(u) + theta_g[d];
    v = lr_warp_sum(v);
    double sum[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}; /* loss, R0, R1, S0, S1, S2 */
    for (int64_t k = __ldg(src.start + q) + lane; k < __ldg(src.start + q + 1); k += 32) {
      const int64_t i = __ldg(src.rows + k);
      const double gap = (double)__ldg(src.gap + i);
      const double ci = (src.y[i] ? cw1 : cw0) * (src.sw ? (double)__ldg(src.sw + i) : 1.0);
      const gr_logreg_terms t = gr_logreg_row(u + gap * v, src.y[i] != 0, ci);
      sum[0] += t.loss;
      sum[1] += t.r;
      sum[2] += t.r * gap;
      sum[3] += t.h;
      sum[4] += t.h * gap;
      sum[5] += t.h * gap * gap;
    }
#pragma unroll
    for (int e = 0; e < 6; e++) {
      sum[e] = warp_reduce(tmp[warp]).Sum(sum[e]); /* lane 0 holds it */
      __syncwarp();
      sum[e] = __shfl_sync(0xffffffffu, sum[e], 0);
    }
    if (lane == 0) {
      loss_sum += sum[0];
      r_sum += sum[1];
      if (r2) {
        r2[2 * (size_t)q] = sum[1];
        r2[2 * (size_t)q + 1] = sum[2];
      }
    }
    if (!A) continue;
    const double l11 = sqrt(sum[3]), l21 = l11 > 0 ? sum[4] / l11 : 0.0;
    const double l22 = sqrt(fmax(sum[5] - l21 * l21, 0.0));
    float *a1 = A + (size_t)(2 * q) * D, *a2 = a1 + D;
    for (int j = lane; j < d; j += 32) {
      const double ua = (double)__ldg(xa + j), e = (double)__ldg(xb + j) - ua;
      a1[j] = (float)(l11 * ua + l21 * e);
      a2[j] = (float)(l22 * e);
    }
    if (lane == 0) {
      a1[d] = (float)l11;
      a2[d] = 0.0f;
    }
  }
  lr_block_sums(part, loss_sum, r_sum);
}

/* grid (column tiles, pair blocks): gpart[pb][j] = sum over the
 * LR_GRAD_ROWS pairs of block pb of R0 x_a[j] + R1 (x_b[j] - x_a[j]). */
__global__ void __launch_bounds__(LR_GRAD_COLS)
    lr_pair_grad_kernel(double *__restrict__ gpart, const double *__restrict__ r2,
                        const lr_pair_src src, int pairs, int d) {
  const int j = blockIdx.x * LR_GRAD_COLS + threadIdx.x;
  const int q0 = blockIdx.y * LR_GRAD_ROWS;
  const int q1 = q0 + LR_GRAD_ROWS < pairs ? q0 + LR_GRAD_ROWS : pairs;
  if (j >= d) return;
  double s = 0.0;
  for (int q = q0; q < q1; q++) {
    const double ua = (double)__ldg(src.X + (size_t)__ldg(src.a + q) * d + j);
    const double ub = (double)__ldg(src.X + (size_t)__ldg(src.b + q) * d + j);
    s += r2[2 * (size_t)q] * ua + r2[2 * (size_t)q + 1] * (ub - ua);
  }
  gpart[(size_t)blockIdx.y * d + j] = s;
}

/* acc[0..1] += the sums of part (n_blocks, 2), in a fixed order: lane l
 * sums blocks l, l + 32, ...; then a butterfly over the lanes. One warp. */
__global__ void lr_accumulate_kernel(double *__restrict__ acc, const double *__restrict__ part,
                                     int n_blocks) {
  double s0 = 0.0, s1 = 0.0;
  for (int k = threadIdx.x; k < n_blocks; k += 32) {
    s0 += part[2 * k];
    s1 += part[2 * k + 1];
  }
  s0 = lr_warp_sum(s0);
  s1 = lr_warp_sum(s1);
  if (threadIdx.x == 0) {
    acc[0] += s0;
    acc[1] += s1;
  }
}

/* grid (column tiles, row blocks): gpart[rb][j] = sum of r_i x_ij over the
 * LR_GRAD_ROWS rows of block rb. A warp reads a row's columns together (a
 * described row's indices and gap: one broadcast load per warp). */
__global__ void __launch_bounds__(LR_GRAD_COLS)
    lr_grad_kernel(double *__restrict__ gpart,                     // (row blocks, d)
                   const double *__restrict__ r, const lr_src src, // (rows), (rows, d)
                   int rows, int d) {
  const int j = blockIdx.x * LR_GRAD_COLS + threadIdx.x;
  const int64_t i0 = (int64_t)blockIdx.y * LR_GRAD_ROWS;
  const int64_t i1 = i0 + LR_GRAD_ROWS < rows ? i0 + LR_GRAD_ROWS : rows;
  if (j >= d) return;
  double s = 0.0;
  for (int64_t i = i0; i < i1; i++) {
    const float *x = lr_real_row(src, i, d);
    if (x) s += r[i] * (double)__ldg(x + j);
  }
  gpart[(size_t)blockIdx.y * d + j] = s;
}

/* g (d) += the column sums of gpart (n_blocks, d), blocks in order. */
__global__ void lr_grad_reduce_kernel(double *__restrict__ g, const double *__restrict__ gpart,
                                      int n_blocks, int d) {
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < d; j += gridDim.x * blockDim.x) {
    double s = 0.0;
    for (int k = 0; k < n_blocks; k++)
      s += gpart[(size_t)k * d + j];
    g[j] += s;
  }
}

/* H (D, D) += the lower triangle of P (column-major, as ssyrk fills it). */
__global__ void lr_add_lower_kernel(double *__restrict__ H, const float *__restrict__ P, int D) {
  const int64_t total = (int64_t)D * D;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x)
    if (t % D >= t / D) H[t] += P[t];
}

/* H (D, D): mirrors the lower triangle and adds the regularization to the
 * weights' diagonal (not the intercept's). Reads only the lower triangle. */
__global__ void lr_finish_hess_kernel(double *H, int D) {
  const int64_t total = (int64_t)D * D;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    const int i = (int)(t % D), j = (int)(t / D);
    if (i < j)
      H[t] = H[(size_t)j + (size_t)i * D];
    else if (i == j && i < D - 1)
      H[t] += 1.0;
  }
}

/* One warp per group: f = 1/2 |w|^2 + the loss sum; with g, g += [w; 0]
 * and g[d] = the r sum. acc (2): the loss and r sums. */
__global__ void lr_finish_kernel(double *__restrict__ f, double *__restrict__ g,
                                 const double *__restrict__ theta_g, const double *__restrict__ acc,
                                 int d) {
  double s = 0.0;
  for (int j = threadIdx.x; j < d; j += 32) {
    s += theta_g[j] * theta_g[j];
    if (g) g[j] += theta_g[j];
  }
  s = lr_warp_sum(s);
  if (threadIdx.x == 0) {
    *f = 0.5 * s + acc[0];
    if (g) g[d] = acc[1];
  }
}

static unsigned grid_for(int64_t n) {
  const int64_t b = (n + 255) / 256;
  return (unsigned)(b < 1 ? 1 : b < 4096 ? b : 4096);
}

// ---- the pass ----------------------------------------------------------------

typedef struct lr_scratch {
  double *r, *gpart;       /* (chunk), (chunk / LR_GRAD_ROWS, d) */
  float *A, *P;            /* (chunk, D), (D, D) */
  double *part, *acc, *fd; /* (LR_MAX_BLOCKS, 2), (m, 2), (m) */
} lr_scratch;

static void scratch_free(gr_backend *be, lr_scratch *s) {
  gr_cuda_free(be, s->r);
  gr_cuda_free(be, s->gpart);
  gr_cuda_free(be, s->A);
  gr_cuda_free(be, s->P);
  gr_cuda_free(be, s->part);
  gr_cuda_free(be, s->acc);
  gr_cuda_free(be, s->fd);
}

static int64_t grad_blocks(int64_t rows) { return (rows + LR_GRAD_ROWS - 1) / LR_GRAD_ROWS; }

/* Rows per chunk: the most that leave half the budget to cuBLAS. */
static int64_t chunk_rows(const gr_backend *be, int64_t longest, int d, int grad, int hess) {
  if (!grad) return longest < (1 << 30) ? longest : (1 << 30); /* no per-row scratch */
  const size_t D = (size_t)d + 1;
  const size_t fixed = (hess ? sizeof(float) * D * D : 0) + sizeof(double) * (size_t)d + (64 << 10);
  const size_t per_row = sizeof(double) +
                         (sizeof(double) * (size_t)d + LR_GRAD_ROWS - 1) / LR_GRAD_ROWS +
                         (hess ? sizeof(float) * D : 0);
  const size_t avail = gr_cuda_mem_available(be) / 2;
  int64_t rows = avail > fixed ? (int64_t)((avail - fixed) / per_row) : 0;
  if (rows > LR_MAX_CHUNK) rows = LR_MAX_CHUNK;
  if (rows > longest) rows = longest;
  return rows < LR_GRAD_ROWS ? LR_GRAD_ROWS : rows; /* the allocation then names the budget */
}

static gr_status scratch_alloc(gr_backend *be, lr_scratch *s, int m, int d, int64_t chunk, int grad,
                               int hess) {
  const size_t D = (size_t)d + 1;
  GR_TRY(gr_cuda_alloc(be, (void **)&s->part, sizeof(double) * 2 * LR_MAX_BLOCKS));
  GR_TRY(gr_cuda_alloc(be, (void **)&s->acc, sizeof(double) * 2 * (size_t)m));
  GR_TRY(gr_cuda_alloc(be, (void **)&s->fd, sizeof(double) * (size_t)m));
  if (!grad) return GR_OK;
  GR_TRY(gr_cuda_alloc(be, (void **)&s->r, sizeof(double) * (size_t)chunk));
  GR_TRY(gr_cuda_alloc(be, (void **)&s->gpart, sizeof(double) * grad_blocks(chunk) * (size_t)d));
  if (!hess) return GR_OK;
  GR_TRY(gr_cuda_alloc(be, (void **)&s->A, sizeof(float) * (size_t)chunk * D));
  return gr_cuda_alloc(be, (void **)&s->P, sizeof(float) * D * D);
}

/* Hk (D, D) += the float rank update of the first n rows of s->A, in
 * double (the lower triangle). */
static gr_status add_curvature(gr_backend *be, const lr_scratch *s, double *Hk, int n, int D) {
  gr_cuda *c = gr_cuda_of(be);
  const float one = 1.0f, zero = 0.0f;
  /* row-major A (n, D) is column-major (D, n): op N gives A^T A */
  GR_CU_TRY(cublasSsyrk(c->cublas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, D, n, &one, s->A, D, &zero,
                        s->P, D));
  lr_add_lower_kernel<<<grid_for((int64_t)D * D), 256, 0, c->stream>>>(Hk, s->P, D);
  return GR_CU_LAUNCHED(c->stream, "lr_add_lower_kernel");
}

/* The synthetic rows of group k, by pair, in chunks of LR_PAIR_CHUNK pairs
 * (with grad, the scratch holds two rows per pair: lr_pass_run sizes it
 * so). A fixed chunk keeps the float curvature sums of a group the same
 * whatever groups run beside it and whatever the memory budget. */
static gr_status group_pairs(gr_backend *be, const lr_scratch *s, double *g, double *H,
                             const double *theta, const float *X, const gr_lr_rows *desc,
                             const uint8_t *y, const float *sw, const double *cw, int k, int d,
                             int grad, int hess) {
  gr_cuda *c = gr_cuda_of(be);
  const int D = d + 1;
  const int64_t most = LR_PAIR_CHUNK;
  for (int64_t p0 = desc->pair_seg[k]; p0 < desc->pair_seg[k + 1]; p0 += most) {
    const int pairs = (int)(desc->pair_seg[k + 1] - p0 < most ? desc->pair_seg[k + 1] - p0 : most);
    lr_pair_src src;
    src.X = X;
    src.gap = desc->gap;
    src.a = desc->pair_a + p0;
    src.b = desc->pair_b + p0;
    src.start = desc->pair_start + p0;
    src.rows = desc->pair_rows;
    src.y = y;
    src.sw = sw;
    const int64_t want = ((int64_t)pairs + LR_WARPS - 1) / LR_WARPS;
    const int blocks = (int)(want < LR_MAX_BLOCKS ? want : LR_MAX_BLOCKS);
    lr_pair_kernel<<<blocks, LR_THREADS, 0, c->stream>>>(
        s->part, grad ? s->r : NULL, hess ? s->A : NULL, src, theta + (size_t)k * D, cw[2 * k],
        cw[2 * k + 1], pairs, d);
    GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_pair_kernel"));
    lr_accumulate_kernel<<<1, 32, 0, c->stream>>>(s->acc + 2 * k, s->part, blocks);
    GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_accumulate_kernel"));
    if (!grad) continue;
    const unsigned gb = (unsigned)grad_blocks(pairs);
    lr_pair_grad_kernel<<<dim3((unsigned)((d + LR_GRAD_COLS - 1) / LR_GRAD_COLS), gb), LR_GRAD_COLS,
                          0, c->stream>>>(s->gpart, s->r, src, pairs, d);
    GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_pair_grad_kernel"));
    lr_grad_reduce_kernel<<<grid_for(d), 256, 0, c->stream>>>(g + (size_t)k * D, s->gpart, (int)gb,
                                                              d);
    GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_grad_reduce_kernel"));
    if (!hess) continue;
    GR_TRY(add_curvature(be, s, H + (size_t)k * D * D, 2 * pairs, D));
  }
  return GR_OK;
}

/* The chunks of group k: row terms, with grad the gradient partials, with
 * hess the curvature partials too. */
static gr_status group_pass(gr_backend *be, const lr_scratch *s, double *g, double *H,
                            const double *theta, const float *X, const gr_lr_rows *desc,
                            const uint8_t *y, const float *sw, const int64_t *seg, const double *cw,
                            int k, int d, int64_t chunk, int grad, int hess, double tau) {
  gr_cuda *c = gr_cuda_of(be);
  const int D = d + 1;
  for (int64_t r0 = seg[k]; r0 < seg[k + 1]; r0 += chunk) {
    const int rows = (int)(seg[k + 1] - r0 < chunk ? seg[k + 1] - r0 : chunk);
    lr_src src;
    src.X = desc ? X : X + (size_t)r0 * d;
    src.a = desc ? desc->a + r0 : NULL;
    src.b = desc && desc->b ? desc->b + r0 : NULL;
    src.gap = desc && desc->b ? desc->gap + r0 : NULL;
    const int64_t want = ((int64_t)rows + LR_WARPS - 1) / LR_WARPS;
    const int blocks = (int)(want < LR_MAX_BLOCKS ? want : LR_MAX_BLOCKS);
    lr_rows_kernel<<<blocks, LR_THREADS, 0, c->stream>>>(
        s->part, grad ? s->r : NULL, hess ? s->A : NULL, src, y + r0, sw ? sw + r0 : NULL,
        theta + (size_t)k * D, cw[2 * k], cw[2 * k + 1], rows, d, tau, r0 - seg[k]);
    GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_rows_kernel"));
    lr_accumulate_kernel<<<1, 32, 0, c->stream>>>(s->acc + 2 * k, s->part, blocks);
    GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_accumulate_kernel"));
    if (!grad) continue;
    const unsigned gb = (unsigned)grad_blocks(rows);
    lr_grad_kernel<<<dim3((unsigned)((d + LR_GRAD_COLS - 1) / LR_GRAD_COLS), gb), LR_GRAD_COLS, 0,
                     c->stream>>>(s->gpart, s->r, src, rows, d);
    GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_grad_kernel"));
    lr_grad_reduce_kernel<<<grid_for(d), 256, 0, c->stream>>>(g + (size_t)k * D, s->gpart, (int)gb,
                                                              d);
    GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_grad_reduce_kernel"));
    if (!hess) continue;
    GR_TRY(add_curvature(be, s, H + (size_t)k * D * D, rows, D));
  }
  if (desc && desc->b)
    GR_TRY(group_pairs(be, s, g, H, theta, X, desc, y, sw, cw, k, d, grad, hess));
  lr_finish_kernel<<<1, 32, 0, c->stream>>>(s->fd + k, grad ? g + (size_t)k * D : NULL,
                                            theta + (size_t)k * D, s->acc + 2 * k, d);
  GR_TRY(GR_CU_LAUNCHED(c->stream, "lr_finish_kernel"));
  if (!hess) return GR_OK;
  lr_finish_hess_kernel<<<grid_for((int64_t)D * D), 256, 0, c->stream>>>(H + (size_t)k * D * D, D);
  return GR_CU_LAUNCHED(c->stream, "lr_finish_hess_kernel");
}

static gr_status lr_pass_run(gr_backend *be, double *f, double *g, double *H, const double *theta,
                             const float *X, const gr_lr_rows *rows, const uint8_t *y,
                             const float *sw, const int64_t *seg, const double *cw,
                             const uint8_t *active, int m, int d, double tau) {
  GR_TRY(gr_lr_pass_args(&rows, m, d, g, H)); /* rows NULL: X's own rows */
  if (rows && rows->packed) /* pack_rows is NULL here: packed rows come from another backend */
    return gr_fail(GR_ERR_INVALID_ARG, "logreg: the CUDA backend takes no packed rows");
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  const int grad = g != NULL, hess = H != NULL, D = d + 1;
  int64_t longest = 1;
  for (int k = 0; k < m; k++)
    if ((!active || active[k]) && seg[k + 1] - seg[k] > longest) longest = seg[k + 1] - seg[k];
  const int64_t chunk = chunk_rows(be, longest, d, grad, hess);
  /* the scratch rows also hold a pair chunk's two rows per pair */
  const int64_t scratch_rows =
      grad && rows && rows->b && chunk < 2 * LR_PAIR_CHUNK ? 2 * LR_PAIR_CHUNK : chunk;
  lr_scratch s;
  memset(&s, 0, sizeof s);
  double *f_host = (double *)malloc(sizeof(double) * (size_t)m);
  gr_status st = f_host ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate %d objective values", m);
  if (st == GR_OK) st = scratch_alloc(be, &s, m, d, scratch_rows, grad, hess);
  if (st == GR_OK) st = GR_CU(cudaMemsetAsync(s.acc, 0, sizeof(double) * 2 * m, c->stream));
  /* inactive groups' objectives are never written but are copied back */
  if (st == GR_OK) st = GR_CU(cudaMemsetAsync(s.fd, 0, sizeof(double) * m, c->stream));
  for (int k = 0; k < m && st == GR_OK; k++) {
    if (active && !active[k]) continue;
    if (grad) st = GR_CU(cudaMemsetAsync(g + (size_t)k * D, 0, sizeof(double) * D, c->stream));
    if (hess && st == GR_OK)
      st = GR_CU(
          cudaMemsetAsync(H + (size_t)k * D * D, 0, sizeof(double) * (size_t)D * D, c->stream));
    if (st == GR_OK)
      st = group_pass(be, &s, g, H, theta, X, rows, y, sw, seg, cw, k, d, chunk, grad, hess, tau);
  }
  if (st == GR_OK)
    st = GR_CU(cudaMemcpyAsync(f_host, s.fd, sizeof(double) * (size_t)m, cudaMemcpyDeviceToHost,
                               c->stream));
  if (st == GR_OK) st = GR_CU(cudaStreamSynchronize(c->stream));
  for (int k = 0; k < m && st == GR_OK; k++)
    if (!active || active[k]) f[k] = f_host[k];
  scratch_free(be, &s);
  free(f_host);
  return st;
}

extern "C" gr_status gr_cuda_logreg_objective(gr_backend *be, double *f, const double *theta,
                                              const float *X, const gr_lr_rows *rows,
                                              const uint8_t *y, const float *sw, const int64_t *seg,
                                              const double *cw, const uint8_t *active, int m,
                                              int d) {
  return lr_pass_run(be, f, NULL, NULL, theta, X, rows, y, sw, seg, cw, active, m, d, 0.0);
}

extern "C" gr_status gr_cuda_logreg_grad_hess(gr_backend *be, double *g, double *H, double *f,
                                              const double *theta, const float *X,
                                              const gr_lr_rows *rows, const uint8_t *y,
                                              const float *sw, const int64_t *seg, const double *cw,
                                              const uint8_t *active, int m, int d,
                                              double hess_tau) {
  return lr_pass_run(be, f, g, H, theta, X, rows, y, sw, seg, cw, active, m, d, hess_tau);
}

// ---- the batched solve -------------------------------------------------------

extern "C" gr_status gr_cuda_spd_solve_batched(gr_backend *be, double *step, double *H,
                                               const double *rhs, const uint8_t *active,
                                               const uint8_t *factored, int m, int D) {
  if (m < 1 || D < 1) return gr_fail(GR_ERR_INVALID_ARG, "spd solve: %d systems of size %d", m, D);
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  int *group = (int *)malloc(sizeof(int) * (size_t)m);
  double **a_host = (double **)malloc(sizeof(double *) * (size_t)m);
  double **b_host = (double **)malloc(sizeof(double *) * (size_t)m);
  int *info_host = (int *)malloc(sizeof(int) * ((size_t)m + 1));
  double **a_ptr = NULL, **b_ptr = NULL;
  int *info = NULL, na = 0, nf = 0; /* systems; the first nf of them to factor */
  gr_status st = group && a_host && b_host && info_host
                     ? GR_OK
                     : gr_fail(GR_ERR_NOMEM, "cannot allocate the batched solve of %d systems", m);
  for (int pass = 0; pass < 2; pass++) /* the ones to factor first, then those factored */
    for (int k = 0; k < m && st == GR_OK; k++) {
      const int given = factored && factored[k];
      if ((active && !active[k]) || given != pass) continue;
      group[na] = k;
      a_host[na] = H + (size_t)k * D * D;
      b_host[na] = step + (size_t)k * D;
      na++;
      nf += !given;
      st = GR_CU(cudaMemcpyAsync(step + (size_t)k * D, rhs + (size_t)k * D, sizeof(double) * D,
                                 cudaMemcpyDeviceToDevice, c->stream));
    }
  if (st != GR_OK || na == 0) goto done;
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&a_ptr, sizeof(double *) * (size_t)na), done);
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&b_ptr, sizeof(double *) * (size_t)na), done);
  GR_CHECK_GOTO(st, gr_cuda_alloc(be, (void **)&info, sizeof(int) * ((size_t)na + 1)), done);
  GR_CU_GOTO(st,
             cudaMemcpyAsync(a_ptr, a_host, sizeof(double *) * (size_t)na, cudaMemcpyHostToDevice,
                             c->stream),
             done);
  GR_CU_GOTO(st,
             cudaMemcpyAsync(b_ptr, b_host, sizeof(double *) * (size_t)na, cudaMemcpyHostToDevice,
                             c->stream),
             done);
  if (nf > 0) {
    GR_CU_GOTO(st,
               cusolverDnDpotrfBatched(c->cusolver, CUBLAS_FILL_MODE_LOWER, D, a_ptr, D, info, nf),
               done);
    GR_CU_GOTO(st,
               cudaMemcpyAsync(info_host, info, sizeof(int) * (size_t)nf, cudaMemcpyDeviceToHost,
                               c->stream),
               done);
    GR_CU_GOTO(st, cudaStreamSynchronize(c->stream), done);
  }
  for (int q = 0; q < nf; q++) {
    if (info_host[q] > 0) {
      st = gr_fail(GR_ERR_NUMERIC,
                   "logreg: the Hessian of group %d is not positive definite (cuSOLVER info %d "
                   "of %d); lower C or remove constant features",
                   group[q], info_host[q], D);
      goto done;
    }
    if (info_host[q] < 0) {
      st = gr_fail(GR_ERR_CUDA, "cusolverDnDpotrfBatched rejected argument %d (group %d)",
                   -info_host[q], group[q]);
      goto done;
    }
  }
  GR_CU_GOTO(st,
             cusolverDnDpotrsBatched(c->cusolver, CUBLAS_FILL_MODE_LOWER, D, 1, a_ptr, D, b_ptr, D,
                                     info + na, na),
             done);
  GR_CU_GOTO(
      st,
      cudaMemcpyAsync(info_host + na, info + na, sizeof(int), cudaMemcpyDeviceToHost, c->stream),
      done);
  GR_CU_GOTO(st, cudaStreamSynchronize(c->stream), done);
  if (info_host[na] != 0)
    st = gr_fail(GR_ERR_CUDA, "cusolverDnDpotrsBatched rejected argument %d", -info_host[na]);
done:
  if (st == GR_OK && na == 0) st = GR_CU(cudaStreamSynchronize(c->stream));
  gr_cuda_free(be, info);
  gr_cuda_free(be, b_ptr);
  gr_cuda_free(be, a_ptr);
  free(group);
  free(a_host);
  free(b_host);
  free(info_host);
  return st;
}
