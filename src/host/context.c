/* Backend selection and host-to-backend staging. */
#include "context.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

void gr_context_options_default(gr_context_options *o) {
  memset(o, 0, sizeof *o);
  o->device = GR_DEVICE_AUTO;
  o->verbose = 1;
}

gr_status gr_context_init(gr_context **out, const gr_context_options *opts) {
  gr_context_options defaults;
  if (!opts) {
    gr_context_options_default(&defaults);
    opts = &defaults;
  }
  if (opts->n_threads < 0 || opts->n_threads > GR_MAX_THREADS)
    return gr_fail(GR_ERR_INVALID_ARG, "--threads must be in 0..%d (0 = all cores), got %d",
                   GR_MAX_THREADS, opts->n_threads);
  gr_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return gr_fail(GR_ERR_NOMEM, "cannot allocate a context");
  ctx->opts = *opts;
  gr_status st = GR_OK;
  if (opts->device != GR_DEVICE_CPU) {
    st = gr_backend_cuda_create(&ctx->be, opts->cuda_device_index, opts->max_device_mem,
                                opts->verbose);
    if (st != GR_OK && opts->device == GR_DEVICE_CUDA) {
      free(ctx);
      return st;
    }
    if (st != GR_OK && opts->verbose)
      fprintf(stderr, "gpurec: no usable GPU (%s); running on the CPU\n", gr_last_error());
  }
  if (!ctx->be) st = gr_backend_cpu_create(&ctx->be, opts->n_threads);
  if (st != GR_OK) {
    free(ctx);
    return st;
  }
  ctx->be->n_threads = opts->n_threads > 0 ? opts->n_threads : ctx->be->n_threads;
  ctx->be->verbose = opts->verbose;
  gr_clear_error();
  *out = ctx;
  return GR_OK;
}

void gr_context_free(gr_context *ctx) {
  if (!ctx) return;
  if (ctx->be) ctx->be->ops->destroy(ctx->be);
  free(ctx);
}

const char *gr_context_backend_name(const gr_context *ctx) { return ctx->be->ops->name; }

gr_status gr_stage(gr_backend *be, void **dev, const void *src, size_t bytes) {
  if (be->host_memory) {
    *dev = (void *)src;
    return GR_OK;
  }
  GR_TRY(be->ops->mem_alloc(be, dev, bytes));
  gr_status st = be->ops->upload(be, *dev, src, bytes);
  if (st != GR_OK) {
    be->ops->mem_free(be, *dev);
    *dev = NULL;
  }
  return st;
}

void gr_unstage(gr_backend *be, void *dev, const void *src) {
  if (dev && dev != src) be->ops->mem_free(be, dev);
}

gr_status gr_stage_csr(gr_backend *be, gr_staged_csr *out, const gr_csr_view *host) {
  memset(out, 0, sizeof *out);
  out->view = *host;
  out->host_indptr = host->indptr;
  out->host_indices = host->indices;
  out->host_data = host->data;
  void *p = NULL, *i = NULL, *d = NULL;
  gr_status st = gr_stage(be, &p, host->indptr, sizeof(int64_t) * (size_t)(host->n_rows + 1));
  if (st == GR_OK)
    st = gr_stage(be, &i, host->indices, sizeof(int32_t) * (size_t)(host->nnz ? host->nnz : 1));
  if (st == GR_OK && host->data)
    st = gr_stage(be, &d, host->data, sizeof(float) * (size_t)(host->nnz ? host->nnz : 1));
  out->view.indptr = p;
  out->view.indices = i;
  out->view.data = d;
  if (st != GR_OK) gr_unstage_csr(be, out);
  return st;
}

void gr_unstage_csr(gr_backend *be, gr_staged_csr *s) {
  gr_unstage(be, (void *)s->view.indptr, s->host_indptr);
  gr_unstage(be, (void *)s->view.indices, s->host_indices);
  gr_unstage(be, (void *)s->view.data, s->host_data);
  memset(s, 0, sizeof *s);
}

int gr_context_host_threads(const gr_context *ctx) {
  if (ctx->opts.n_threads > 0) return ctx->opts.n_threads;
  return ctx->be->host_memory ? ctx->be->n_threads : omp_get_max_threads();
}
