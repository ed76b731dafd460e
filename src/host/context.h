/* The context behind gr_context: the chosen backend and its options. */
#ifndef GR_HOST_CONTEXT_H
#define GR_HOST_CONTEXT_H

#include "gpurec.h"
#include "kernels/backend.h"

struct gr_context {
  gr_context_options opts;
  gr_backend *be;
};

/* Threads for work done on the host whatever the backend (explanations,
 * new users' solves): --threads when given, else the CPU backend's, else
 * (a GPU backend) every core. */
int gr_context_host_threads(const gr_context *ctx);

/* Stages host data into backend memory: on a host-memory backend *dev is
 * src itself (nothing allocated); otherwise a copy. Release with unstage. */
gr_status gr_stage(gr_backend *be, void **dev, const void *src, size_t bytes);
void gr_unstage(gr_backend *be, void *dev, const void *src);

/* Stages a CSR's three arrays; view receives backend pointers. */
typedef struct gr_staged_csr {
  gr_csr_view view;
  const void *host_indptr, *host_indices, *host_data;
} gr_staged_csr;
gr_status gr_stage_csr(gr_backend *be, gr_staged_csr *out, const gr_csr_view *host);
void gr_unstage_csr(gr_backend *be, gr_staged_csr *s);

#endif
