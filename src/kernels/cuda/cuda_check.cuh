/* One check family for every CUDA-side status type (cudart, cuBLAS,
 * cuSOLVER): each failure becomes a gr_status with a message naming the
 * call, file and line, so no caller ever inspects a library enum. Allocation
 * failures map to GR_ERR_DEVICE_MEM, everything else to GR_ERR_CUDA.
 * Kernel launches are checked with GR_CU_LAUNCHED, which also synchronizes
 * the stream when GPUREC_CUDA_SYNC=1 so an asynchronous fault is reported
 * at the kernel that caused it. */
#ifndef GR_KERNELS_CUDA_CHECK_CUH
#define GR_KERNELS_CUDA_CHECK_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include "../../common/error.h"

static inline gr_status gr_cu_check(cudaError_t e, const char *call, const char *file, int line) {
  if (e == cudaSuccess) return GR_OK;
  const gr_status s = e == cudaErrorMemoryAllocation ? GR_ERR_DEVICE_MEM : GR_ERR_CUDA;
  return gr_fail(s, "%s failed at %s:%d: %s (%s)", call, file, line, cudaGetErrorString(e),
                 cudaGetErrorName(e));
}

static inline gr_status gr_cu_check(cublasStatus_t e, const char *call, const char *file,
                                    int line) {
  if (e == CUBLAS_STATUS_SUCCESS) return GR_OK;
  const gr_status s = e == CUBLAS_STATUS_ALLOC_FAILED ? GR_ERR_DEVICE_MEM : GR_ERR_CUDA;
  return gr_fail(s, "%s failed at %s:%d: cuBLAS status %d (%s)", call, file, line, (int)e,
                 cublasGetStatusString(e));
}

static inline const char *gr_cusolver_status_name(cusolverStatus_t e) {
  switch (e) {
  case CUSOLVER_STATUS_NOT_INITIALIZED: return "not initialized";
  case CUSOLVER_STATUS_ALLOC_FAILED: return "allocation failed";
  case CUSOLVER_STATUS_INVALID_VALUE: return "invalid value";
  case CUSOLVER_STATUS_ARCH_MISMATCH: return "architecture mismatch";
  case CUSOLVER_STATUS_EXECUTION_FAILED: return "execution failed";
  case CUSOLVER_STATUS_INTERNAL_ERROR: return "internal error";
  case CUSOLVER_STATUS_NOT_SUPPORTED: return "not supported";
  default: return "unknown cuSOLVER status";
  }
}

static inline gr_status gr_cu_check(cusolverStatus_t e, const char *call, const char *file,
                                    int line) {
  if (e == CUSOLVER_STATUS_SUCCESS) return GR_OK;
  const gr_status s = e == CUSOLVER_STATUS_ALLOC_FAILED ? GR_ERR_DEVICE_MEM : GR_ERR_CUDA;
  return gr_fail(s, "%s failed at %s:%d: cuSOLVER status %d (%s)", call, file, line, (int)e,
                 gr_cusolver_status_name(e));
}

/* After a kernel launch: the launch error, and with GPUREC_CUDA_SYNC=1 the
 * kernel's execution error too (defined in backend_cuda.cu). */
gr_status gr_cu_after_launch(cudaStream_t stream, const char *kernel, const char *file, int line);

#define GR_CU(expr) gr_cu_check((expr), #expr, __FILE__, __LINE__)
#define GR_CU_TRY(expr) GR_TRY(GR_CU(expr))
#define GR_CU_GOTO(st, expr, label) GR_CHECK_GOTO(st, GR_CU(expr), label)
#define GR_CU_LAUNCHED(stream, kernel) gr_cu_after_launch((stream), (kernel), __FILE__, __LINE__)

#endif
