/* The CPU backend: host memory, OpenMP over rows, OpenBLAS/LAPACKE for the
 * dense parts. It is the reference every CUDA operation is tested against. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/aligned.h"
#include "../../common/error.h"
#include "../backend.h"
#include "cpu_ops.h"

static void cpu_destroy(gr_backend *be) { free(be); }

/* Cache-line aligned (common/aligned.h says why). */
static gr_status cpu_mem_alloc(gr_backend *be, void **ptr, size_t bytes) {
  (void)be;
  *ptr = gr_alloc_aligned(bytes);
  if (!*ptr) return gr_fail(GR_ERR_NOMEM, "cannot allocate %zu bytes of host memory", bytes);
  return GR_OK;
}

static void cpu_mem_free(gr_backend *be, void *ptr) {
  (void)be;
  free(ptr);
}

static gr_status cpu_copy(gr_backend *be, void *dst, const void *src, size_t bytes) {
  (void)be;
  if (bytes) memmove(dst, src, bytes);
  return GR_OK;
}

static gr_status cpu_sync(gr_backend *be) {
  (void)be;
  return GR_OK;
}

/* Host memory has no budget of its own; a limit set on the backend (tests
 * that plan as if it were a device) is reported as is. */
static size_t cpu_mem_available(gr_backend *be) { return be->mem_limit ? be->mem_limit : SIZE_MAX; }

static const gr_backend_ops cpu_ops = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .mem_alloc = cpu_mem_alloc,
    .mem_free = cpu_mem_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .sync = cpu_sync,
    .mem_available = cpu_mem_available,
    .gram = gr_cpu_gram,
    .als_solve_cg = gr_cpu_als_solve_cg,
    .als_solve_cholesky = gr_cpu_als_solve_cholesky,
    .als_loss_terms = gr_cpu_als_loss_terms,
    .row_sq_norms = gr_cpu_row_sq_norms,
    .topk_dot = gr_cpu_topk_dot,
    .kmeans_row_norms = gr_cpu_kmeans_row_norms,
    .kmeans_assign = gr_cpu_kmeans_assign,
    .kmeans_step = gr_cpu_kmeans_step,
    .kmeans_step_bounded = gr_cpu_kmeans_step_bounded,
    .logreg_objective = gr_cpu_logreg_objective,
    .logreg_grad_hess = gr_cpu_logreg_grad_hess,
    .pack_rows = gr_cpu_pack_rows,
    .pack_rows_free = gr_cpu_pack_rows_free,
    .spd_solve_batched = gr_cpu_spd_solve_batched,
};

gr_status gr_backend_cpu_create(gr_backend **out, int n_threads) {
  gr_backend *be = calloc(1, sizeof *be);
  if (!be) return gr_fail(GR_ERR_NOMEM, "cannot allocate the CPU backend");
  be->ops = &cpu_ops;
  be->n_threads = n_threads > 0 ? n_threads : gr_cpu_default_threads();
  be->host_memory = 1;
  *out = be;
  return GR_OK;
}
