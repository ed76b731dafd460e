/* The CUDA backend: one device, one non-blocking stream, one cuBLAS and one
 * cuSOLVER handle bound to it. Every device buffer (caller's or scratch) goes
 * through gr_cuda_alloc, which keeps a byte count against mem_limit so that
 * a run fails early with a clear message instead of deep inside cuBLAS.
 * Copies are synchronous from the caller's view (the host buffers may be
 * pageable and may be freed right after). No managed memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mutex>
#include <new>
#include <unordered_map>

#include "cuda_backend.cuh"

typedef std::unordered_map<void *, size_t> gr_alloc_map;

/* Left free for cuBLAS/cuSOLVER workspaces and the CUDA context's own use. */
static size_t safety_margin(size_t total) { return ((size_t)256 << 20) + total / 50; }

static std::mutex alloc_mutex; /* guards the allocation maps of all backends */

// ---- launch checks -----------------------------------------------------------

static int debug_sync_enabled(void) {
  static const int on = [] {
    const char *v = getenv("GPUREC_CUDA_SYNC");
    return v && strcmp(v, "1") == 0;
  }();
  return on;
}

gr_status gr_cu_after_launch(cudaStream_t stream, const char *kernel, const char *file, int line) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess && debug_sync_enabled()) e = cudaStreamSynchronize(stream);
  if (e == cudaSuccess) return GR_OK;
  const gr_status s = e == cudaErrorMemoryAllocation ? GR_ERR_DEVICE_MEM : GR_ERR_CUDA;
  return gr_fail(s, "kernel %s failed at %s:%d: %s (%s)", kernel, file, line, cudaGetErrorString(e),
                 cudaGetErrorName(e));
}

// ---- memory ----------------------------------------------------------------

gr_status gr_cuda_enter(gr_backend *be) { return GR_CU(cudaSetDevice(gr_cuda_of(be)->device)); }

size_t gr_cuda_mem_available(const gr_backend *be) {
  const gr_cuda *c = (const gr_cuda *)be->impl;
  std::lock_guard<std::mutex> lock(alloc_mutex);
  return c->in_use < be->mem_limit ? be->mem_limit - c->in_use : 0;
}

gr_status gr_cuda_alloc(gr_backend *be, void **ptr, size_t bytes) {
  gr_cuda *c = gr_cuda_of(be);
  *ptr = NULL;
  if (bytes > SIZE_MAX - 512) /* the rounding below would wrap */
    return gr_fail(GR_ERR_DEVICE_MEM, "device allocation of %zu bytes refused: beyond any device",
                   bytes);
  const size_t rounded = (bytes + 255) / 256 * 256 + (bytes == 0 ? 256 : 0);
  {
    std::lock_guard<std::mutex> lock(alloc_mutex);
    if (rounded > be->mem_limit || c->in_use > be->mem_limit - rounded)
      return gr_fail(GR_ERR_DEVICE_MEM,
                     "device allocation of %zu bytes refused: %zu bytes in use, limit %zu bytes "
                     "(use --max-device-mem to change the limit, or reduce the problem size)",
                     bytes, c->in_use, be->mem_limit);
    c->in_use += rounded; /* reserved now, released below on failure */
  }
  void *p = NULL;
  gr_status st = gr_cuda_enter(be);
  if (st == GR_OK) st = GR_CU(cudaMalloc(&p, rounded));
  /* a refused cudaMalloc stays the runtime's last error: cleared here, or the
   * next kernel's launch check would report it as its own */
  if (st != GR_OK) (void)cudaGetLastError();
  std::lock_guard<std::mutex> lock(alloc_mutex);
  if (st == GR_OK) {
    try {
      (*(gr_alloc_map *)c->allocs)[p] = rounded;
    } catch (...) {
      cudaFree(p);
      st = gr_fail(GR_ERR_NOMEM, "cannot record a device allocation");
    }
  }
  if (st != GR_OK) {
    c->in_use -= rounded;
    return st;
  }
  *ptr = p;
  return GR_OK;
}

void gr_cuda_free(gr_backend *be, void *ptr) {
  if (!ptr) return;
  gr_cuda *c = gr_cuda_of(be);
  /* kernels still queued may read ptr; cudaFree alone is not ordered with
   * a non-blocking stream */
  const cudaError_t e[3] = {cudaSetDevice(c->device), cudaStreamSynchronize(c->stream),
                            cudaFree(ptr)};
  /* a free cannot report; its error must not become the next launch's (an
   * error of the kernels before is sticky and surfaces again anyway) */
  if (e[0] != cudaSuccess || e[1] != cudaSuccess || e[2] != cudaSuccess) (void)cudaGetLastError();
  std::lock_guard<std::mutex> lock(alloc_mutex);
  gr_alloc_map *m = (gr_alloc_map *)c->allocs;
  auto it = m->find(ptr);
  if (it != m->end()) {
    c->in_use -= it->second;
    m->erase(it);
  }
}

static gr_status cuda_mem_alloc(gr_backend *be, void **ptr, size_t bytes) {
  return gr_cuda_alloc(be, ptr, bytes);
}

static void cuda_mem_free(gr_backend *be, void *ptr) { gr_cuda_free(be, ptr); }

static gr_status cuda_upload(gr_backend *be, void *dst, const void *src, size_t bytes) {
  if (!bytes) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  GR_CU_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
  /* the caller may free or reuse src as soon as we return */
  return GR_CU(cudaStreamSynchronize(c->stream));
}

static gr_status cuda_download(gr_backend *be, void *dst, const void *src, size_t bytes) {
  if (!bytes) return GR_OK;
  gr_cuda *c = gr_cuda_of(be);
  GR_TRY(gr_cuda_enter(be));
  GR_CU_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream));
  return GR_CU(cudaStreamSynchronize(c->stream));
}

static gr_status cuda_sync(gr_backend *be) {
  GR_TRY(gr_cuda_enter(be));
  return GR_CU(cudaStreamSynchronize(gr_cuda_of(be)->stream));
}

// ---- lifetime --------------------------------------------------------------

static void cuda_destroy(gr_backend *be) {
  if (!be) return;
  gr_cuda *c = gr_cuda_of(be);
  if (c) {
    cudaSetDevice(c->device);
    if (c->stream) cudaStreamSynchronize(c->stream);
    gr_alloc_map *m = (gr_alloc_map *)c->allocs;
    if (m) {
      /* buffers the caller forgot: release them with the backend */
      for (auto &kv : *m)
        cudaFree(kv.first);
      delete m;
    }
    if (c->cusolver) cusolverDnDestroy(c->cusolver);
    if (c->cublas) cublasDestroy(c->cublas);
    if (c->stream) cudaStreamDestroy(c->stream);
    delete c;
  }
  free(be);
}

static size_t cuda_mem_available(gr_backend *be) { return gr_cuda_mem_available(be); }

static const gr_backend_ops cuda_ops = {
    .name = "cuda",
    .destroy = cuda_destroy,
    .mem_alloc = cuda_mem_alloc,
    .mem_free = cuda_mem_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .sync = cuda_sync,
    .mem_available = cuda_mem_available,
    .gram = gr_cuda_gram,
    .als_solve_cg = gr_cuda_als_solve_cg,
    .als_solve_cholesky = gr_cuda_als_solve_cholesky,
    .als_loss_terms = gr_cuda_als_loss_terms,
    .row_sq_norms = gr_cuda_row_sq_norms,
    .topk_dot = gr_cuda_topk_dot,
    .kmeans_row_norms = gr_cuda_kmeans_row_norms,
    .kmeans_assign = gr_cuda_kmeans_assign,
    .kmeans_step = gr_cuda_kmeans_step,
    .kmeans_step_bounded = NULL, /* the plain steps are fast enough on a GPU */
    .logreg_objective = gr_cuda_logreg_objective,
    .logreg_grad_hess = gr_cuda_logreg_grad_hess,
    .pack_rows = NULL, /* the GPU reads X's rows at full bandwidth */
    .pack_rows_free = NULL,
    .spd_solve_batched = gr_cuda_spd_solve_batched,
};

/* A kernel to ask whether this build has machine code (or PTX) for the GPU. */
__global__ void gr_cuda_probe_kernel(int *p) {
  if (p) *p = 0;
}

static gr_status open_device(gr_backend *be, gr_cuda *c, int device_index, size_t max_device_mem,
                             int verbose) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError(); /* clear it: the CPU path goes on in this process */
    return gr_fail(GR_ERR_NO_DEVICE, "cudaGetDeviceCount failed: %s (%s)", cudaGetErrorString(e),
                   cudaGetErrorName(e));
  }
  if (count == 0) return gr_fail(GR_ERR_NO_DEVICE, "no CUDA device found");
  if (device_index < 0 || device_index >= count)
    return gr_fail(GR_ERR_NO_DEVICE, "CUDA device %d does not exist (%d device%s found)",
                   device_index, count, count == 1 ? "" : "s");
  c->device = device_index;
  cudaDeviceProp prop;
  e = cudaGetDeviceProperties(&prop, device_index);
  if (e == cudaSuccess) e = cudaSetDevice(device_index);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return gr_fail(GR_ERR_NO_DEVICE, "CUDA device %d is not usable: %s (%s)", device_index,
                   cudaGetErrorString(e), cudaGetErrorName(e));
  }
  cudaFuncAttributes attr;
  e = cudaFuncGetAttributes(&attr, gr_cuda_probe_kernel);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return gr_fail(GR_ERR_NO_DEVICE,
                   "GPU %d (%s, compute capability %d.%d) cannot run this build's kernels: %s "
                   "(rebuild with CMAKE_CUDA_ARCHITECTURES including %d%d)",
                   device_index, prop.name, prop.major, prop.minor, cudaGetErrorString(e),
                   prop.major, prop.minor);
  }
  c->sm_count = prop.multiProcessorCount;
  size_t free_b = 0, total_b = 0;
  GR_CU_TRY(cudaMemGetInfo(&free_b, &total_b));
  const size_t margin = safety_margin(total_b);
  size_t limit = free_b > margin ? free_b - margin : free_b / 2;
  if (max_device_mem && max_device_mem < limit) limit = max_device_mem;
  if (limit == 0) limit = 1;
  be->mem_limit = limit;
  GR_CU_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
  GR_CU_TRY(cublasCreate(&c->cublas));
  GR_CU_TRY(cublasSetStream(c->cublas, c->stream));
  /* no TF32: results must match the CPU twins to float accuracy */
  GR_CU_TRY(cublasSetMathMode(c->cublas, CUBLAS_DEFAULT_MATH));
  GR_CU_TRY(cusolverDnCreate(&c->cusolver));
  GR_CU_TRY(cusolverDnSetStream(c->cusolver, c->stream));
  snprintf(be->device, sizeof be->device,
           "CUDA device %d: %s (compute capability %d.%d, %d SMs), %.1f of %.1f GiB free, using "
           "at most %.1f GiB",
           device_index, prop.name, prop.major, prop.minor, prop.multiProcessorCount,
           free_b / 1073741824.0, total_b / 1073741824.0, limit / 1073741824.0);
  if (verbose) fprintf(stderr, "gpurec: %s\n", be->device);
  return GR_OK;
}

extern "C" gr_status gr_backend_cuda_create(gr_backend **out, int device_index,
                                            size_t max_device_mem, int verbose) {
  *out = NULL;
  gr_backend *be = (gr_backend *)calloc(1, sizeof *be);
  gr_cuda *c = new (std::nothrow) gr_cuda();
  gr_alloc_map *m = new (std::nothrow) gr_alloc_map();
  if (!be || !c || !m) {
    free(be);
    delete c;
    delete m;
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the CUDA backend");
  }
  c->allocs = m;
  be->ops = &cuda_ops;
  be->impl = c;
  be->n_threads = 1;
  be->host_memory = 0;
  be->verbose = verbose;
  const gr_status st = open_device(be, c, device_index, max_device_mem, verbose);
  if (st != GR_OK) {
    if (c->stream || c->cublas || c->cusolver) {
      cuda_destroy(be);
    } else {
      delete m;
      delete c;
      free(be);
    }
    return st;
  }
  *out = be;
  return GR_OK;
}
