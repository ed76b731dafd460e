/* Stands in for the CUDA backend in builds without nvcc (GPUREC_CUDA=OFF or
 * no toolkit found), so the host code links the same way in every build. */
#include "../common/error.h"
#include "backend.h"

gr_status gr_backend_cuda_create(gr_backend **out, int device_index, size_t max_device_mem,
                                 int verbose) {
  (void)device_index;
  (void)max_device_mem;
  (void)verbose;
  *out = NULL;
  return gr_fail(GR_ERR_NO_DEVICE,
                 "this gpurec was built without the CUDA backend (rebuild with nvcc present "
                 "or -DGPUREC_CUDA=ON)");
}
