/* See build_info.h. */
#include "build_info.h"

#include "../common/error.h"
#include "../kernels/backend.h"
#include "../kernels/cpu/blas_tune.h"
#include "decompress.h"

#if defined(GR_HAVE_ZLIB)
#include <zlib.h>
#endif

#ifndef GPUREC_CUDA_ARCHS
#define GPUREC_CUDA_ARCHS "?"
#endif

void gr_print_build_info(FILE *f) {
  gr_backend *cpu = NULL;
  if (gr_backend_cpu_create(&cpu, 0) == GR_OK) {
    fprintf(f, "cpu:    %d threads; %s, kernels for %s\n", cpu->n_threads, gr_blas_config(),
            gr_blas_core());
    cpu->ops->destroy(cpu);
  } else {
    fprintf(f, "cpu:    unusable (%s)\n", gr_last_error());
  }
#if defined(GPUREC_HAVE_CUDA)
  fprintf(f, "cuda:   built, for architectures %s\n", GPUREC_CUDA_ARCHS);
#else
  fprintf(f, "cuda:   not built (rebuild with nvcc present or -DGPUREC_CUDA=ON)\n");
#endif
  gr_backend *gpu = NULL;
  if (gr_backend_cuda_create(&gpu, 0, 0, 0) == GR_OK) {
    fprintf(f, "gpu:    %s\n", gpu->device);
    gpu->ops->destroy(gpu);
  } else {
#if defined(GPUREC_HAVE_CUDA)
    fprintf(f, "gpu:    none usable (%s)\n", gr_last_error());
#else
    fprintf(f, "gpu:    none (no CUDA backend)\n");
#endif
  }
  gr_clear_error();
#if defined(GR_HAVE_ZLIB)
  fprintf(f, "inputs: CSV files, plain%s (zlib %s)\n",
          gr_decompress_available() ? ", gzip or zip" : "", zlibVersion());
#else
  fprintf(f, "inputs: CSV files, plain only (built without zlib)\n");
#endif
}
