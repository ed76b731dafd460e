/* A run of bounded KMeans steps (backend.h: kmeans_step_bounded) checked
 * step by step against the plain assignment and the fixed-point sums from
 * scratch, shared by the tests of the bounded step over X's rows and over
 * packed rows. The caller places the centers, moves them between steps,
 * and checks what is its own (ties, rows scored). */
#ifndef GR_TESTS_KMEANS_BOUNDED_RUN_H
#define GR_TESTS_KMEANS_BOUNDED_RUN_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/backend.h"
#include "kmeans_sums.h"

typedef struct km_bounded_run {
  int n, d, k;
  float *C, *prev;  /* (k, d): the centers, and those of the last step */
  float *upper;     /* (n) */
  float *lower;     /* (n, k) */
  int32_t *lb, *la; /* (n): labels of the bounded step and of kmeans_assign */
  double *drift, *gap, *scale;
  /* (k, 2 d) sums kept from the deltas, the deltas, the sums from scratch;
   * (k) the same for the counts */
  int64_t *qsum, *delta, *ref, *count, *count_delta, *ref_count;
  gr_km_bounds b;
} km_bounded_run;

static inline void km_bounded_close(km_bounded_run *r) {
  free(r->C);
  free(r->upper);
  free(r->lower);
  free(r->lb);
  free(r->drift);
  free(r->scale);
  free(r->qsum);
  memset(r, 0, sizeof *r);
}

/* Buffers for n rows of X (n, d) and k centers, every label unknown, the
 * kept sums zero. @return 0 when an allocation failed (closed). */
static inline int km_bounded_open(km_bounded_run *r, const float *X, int n, int d, int k) {
  memset(r, 0, sizeof *r);
  r->n = n;
  r->d = d;
  r->k = k;
  const size_t kd = (size_t)k * d, kq = 2 * kd; /* whole parts and fractions */
  r->C = malloc(sizeof(float) * kd * 2);
  r->upper = malloc(sizeof(float) * (size_t)n);
  r->lower = malloc(sizeof(float) * (size_t)n * k);
  r->lb = malloc(sizeof(int32_t) * (size_t)n * 2);
  r->drift = malloc(sizeof(double) * (size_t)k * (k + 1));
  r->scale = malloc(sizeof(double) * (size_t)d);
  r->qsum = calloc(kq * 3 + 3 * (size_t)k, sizeof(int64_t));
  if (!r->C || !r->upper || !r->lower || !r->lb || !r->drift || !r->scale || !r->qsum) {
    CHECK_MSG(0, "cannot allocate a bounded run of %d rows and %d centers", n, k);
    km_bounded_close(r);
    return 0;
  }
  r->prev = r->C + kd;
  r->la = r->lb + n;
  r->gap = r->drift + k;
  r->delta = r->qsum + kq;
  r->ref = r->delta + kq;
  r->count = r->ref + kq;
  r->count_delta = r->count + k;
  r->ref_count = r->count_delta + k;
  for (int i = 0; i < n; i++)
    r->lb[i] = -1;
  r->b = (gr_km_bounds){.upper = r->upper,
                        .lower = r->lower,
                        .drift = r->drift,
                        .gap = r->gap,
                        .scale = r->scale,
                        .frac_scale = km_fixed_scales(r->scale, X, n, d),
                        .sum_delta = r->delta,
                        .count_delta = r->count_delta};
  return 1;
}

/* One bounded step from r->C (over `packed` where given): its labels are
 * kmeans_assign's, bit for bit, and the sums kept from its deltas equal
 * the sums from scratch, exactly. Leaves r->prev = r->C, for the caller to
 * move r->C. */
static inline void km_bounded_check_step(km_bounded_run *r, gr_backend *be, const float *X,
                                         const float *xn, const struct gr_packed_rows *packed,
                                         int step) {
  const int n = r->n, d = r->d, k = r->k;
  const size_t kd = (size_t)k * d, kq = 2 * kd;
  km_step_inputs(r->drift, r->gap, r->C, r->prev, k, d, step == 0);
  CHECK_OK(be->ops->kmeans_step_bounded(be, r->lb, &r->b, X, xn, n, d, r->C, k, packed));
  CHECK_OK(be->ops->kmeans_assign(be, r->la, NULL, X, xn, n, d, r->C, k, packed));
  int64_t differ = 0;
  for (int i = 0; i < n; i++)
    differ += r->la[i] != r->lb[i];
  CHECK_MSG(differ == 0, "k=%d step %d: %lld labels differ from kmeans_assign", k, step,
            (long long)differ);
  for (size_t i = 0; i < kq; i++)
    r->qsum[i] += r->delta[i];
  for (int c = 0; c < k; c++)
    r->count[c] += r->count_delta[c];
  km_fixed_sums(r->ref, r->ref_count, X, r->la, n, d, k, r->scale, r->b.frac_scale);
  CHECK_MSG(memcmp(r->qsum, r->ref, sizeof(int64_t) * kq) == 0, "k=%d step %d: sums drift", k,
            step);
  CHECK(memcmp(r->count, r->ref_count, sizeof(int64_t) * k) == 0);
  memcpy(r->prev, r->C, sizeof(float) * kd);
}

#endif
