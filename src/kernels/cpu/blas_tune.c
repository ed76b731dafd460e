/* See blas_tune.h. */
#include "blas_tune.h"

#include <cblas.h>
#include <strings.h>

int gr_blas_threads(void) { return openblas_get_num_threads(); }

const char *gr_blas_config(void) { return openblas_get_config(); }

const char *gr_blas_core(void) { return openblas_get_corename(); }

const char *gr_blas_better_coretype(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const char *generic[] = {"prescott", "core2",       "penryn", "dunnington",
                                  "nehalem",  "sandybridge", "atom",   "katmai"};
  const char *core = openblas_get_corename();
  int is_generic = 0;
  for (unsigned i = 0; core && i < sizeof generic / sizeof generic[0]; i++)
    is_generic |= strcasecmp(core, generic[i]) == 0;
  if (!is_generic) return NULL;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SKYLAKEX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "HASWELL";
#endif
  return NULL;
}
