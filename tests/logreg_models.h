/* Comparing and freeing arrays of fitted logistic-regression models in the
 * tests of the batched fit. */
#ifndef GR_TESTS_LOGREG_MODELS_H
#define GR_TESTS_LOGREG_MODELS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/logreg.h"

static inline void free_models(gr_logreg_model *ms, int m) {
  for (int g = 0; g < m; g++)
    gr_logreg_model_free(&ms[g]);
  free(ms);
}

/* max over coefficients of |a - b| / (1 + |b|); infinite where a model is missing */
static inline double model_distance(const gr_logreg_model *a, const gr_logreg_model *b, int m,
                                    int d) {
  double worst = 0.0;
  for (int g = 0; g < m; g++) {
    if (!a[g].w || !b[g].w) return INFINITY;
    worst = fmax(worst, fabs(a[g].b - b[g].b) / (1.0 + fabs(b[g].b)));
    for (int j = 0; j < d; j++)
      worst = fmax(worst, fabs(a[g].w[j] - b[g].w[j]) / (1.0 + fabs(b[g].w[j])));
  }
  return worst;
}

/* The same coefficients bit for bit, and the same iterations. */
static inline int same_models(const gr_logreg_model *a, const gr_logreg_model *b, int m, int d) {
  for (int g = 0; g < m; g++)
    if (!a[g].w || !b[g].w || a[g].b != b[g].b || a[g].iterations != b[g].iterations ||
        memcmp(a[g].w, b[g].w, sizeof(double) * d) != 0)
      return 0;
  return 1;
}

#endif
