/* OpenBLAS chooses its kernels from a table of CPU models it knows; on a
 * newer model it does not know (seen here: family 6, model 207, with
 * AVX-512) the Debian 12 build falls back to its generic Prescott (SSE3)
 * kernels, 4.5x slower at sgemm (32 vs 145 GFLOP/s on one core). It reads
 * OPENBLAS_CORETYPE (and OPENBLAS_THREAD_TIMEOUT, how long its idle
 * threads spin) only when it loads, so the command line restarts itself
 * once with them set (src/cli/main.c). */
#ifndef GR_KERNELS_CPU_BLAS_TUNE_H
#define GR_KERNELS_CPU_BLAS_TUNE_H

/* @return the OPENBLAS_CORETYPE this CPU supports ("SKYLAKEX", "HASWELL")
 * when OpenBLAS runs a generic pre-AVX2 kernel set, else NULL. */
const char *gr_blas_better_coretype(void);

/* The threads OpenBLAS runs its calls on (its own, besides the caller). */
int gr_blas_threads(void);

/* OpenBLAS' build configuration and the kernel set it chose, for people. */
const char *gr_blas_config(void);
const char *gr_blas_core(void);

#endif
