/* SMOTE on the CUDA backend against the CPU one: the neighbour search is
 * the backend's top-k, the sampling is on the host, so with the same seed
 * both pick the same base rows and gaps; a neighbour may differ only where
 * two candidates are equally near (float rounding of the distances), and
 * every synthetic row must still lie on a segment to one of its k nearest.
 * Exits 77 (skipped) when no GPU is usable. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "gpu_required.h"
#include "host/smote.h"
#include "kernels/backend.h"
#include "test_util.h"

static double dist2(const float *a, const float *b, int d) {
  double s = 0;
  for (int j = 0; j < d; j++)
    s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
  return s;
}

int main(void) {
  gr_backend *probe = NULL;
  if (gr_backend_cuda_create(&probe, 0, 0, 0) != GR_OK) {
    return gr_test_no_gpu(gr_last_error());
  }
  probe->ops->destroy(probe);
  gr_context *cpu = test_context(GR_DEVICE_CPU, 0, 0), *gpu = test_context(GR_DEVICE_CUDA, 0, 0);
  CHECK(cpu && gpu);
  const int64_t ns[3] = {2, 300, 3000};
  const int ds[3] = {3, 17, 190};
  for (int c = 0; c < 3 && cpu && gpu; c++) {
    const int64_t n = ns[c], n_new = 4 * n;
    const int d = ds[c], k = 5;
    gr_rng rng;
    gr_rng_seed(&rng, (uint64_t)c + 1);
    float *P = malloc(sizeof(float) * (size_t)n * d);
    for (int64_t i = 0; i < n * d; i++)
      P[i] = (float)gr_rng_normal(&rng);
    float *oc = malloc(sizeof(float) * (size_t)n_new * d),
          *og = malloc(sizeof(float) * (size_t)n_new * d);
    int64_t *uc = malloc(sizeof(int64_t) * (size_t)n_new),
            *ug = malloc(sizeof(int64_t) * (size_t)n_new);
    int64_t *vc = malloc(sizeof(int64_t) * (size_t)n_new),
            *vg = malloc(sizeof(int64_t) * (size_t)n_new);
    CHECK_OK(gr_smote(cpu, oc, uc, vc, NULL, P, n, d, k, n_new, 9));
    CHECK_OK(gr_smote(gpu, og, ug, vg, NULL, P, n, d, k, n_new, 9));
    int64_t differ = 0, bad = 0;
    const int keff = k < n - 1 ? k : (int)(n - 1);
    for (int64_t s = 0; s < n_new; s++) {
      CHECK(uc[s] == ug[s]);
      if (vc[s] == vg[s]) {
        /* same pick: the same row, up to float rounding of the gap */
        for (int j = 0; j < d; j++)
          bad += fabsf(oc[s * d + j] - og[s * d + j]) > 1e-5f * (1 + fabsf(oc[s * d + j]));
        continue;
      }
      differ++;
      /* a different neighbour must be as near as the CPU's, within float
       * rounding of |p|^2 sums (relative 1e-4), and among the k nearest */
      const float *u = P + ug[s] * d;
      const double dg = dist2(u, P + vg[s] * d, d), dc = dist2(u, P + vc[s] * d, d);
      int closer = 0;
      for (int64_t w = 0; w < n; w++)
        closer += w != ug[s] && dist2(u, P + w * d, d) < dg * (1 - 1e-4);
      bad += closer >= keff || fabs(dg - dc) > 1e-4 * (1 + dc) * 10;
    }
    CHECK_MSG(bad == 0, "n %lld d %d: %lld rows out of bounds", (long long)n, d, (long long)bad);
    printf("n %lld d %d: %lld of %lld neighbours differ (near ties)\n", (long long)n, d,
           (long long)differ, (long long)n_new);
    free(P);
    free(oc);
    free(og);
    free(uc);
    free(ug);
    free(vc);
    free(vg);
  }
  gr_context_free(cpu);
  gr_context_free(gpu);
  return gr_test_finish();
}
