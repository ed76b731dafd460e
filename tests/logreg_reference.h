/* A naive double reference for one group of the batched logistic-regression
 * operations (backend.h): f, g and H summed row by row from the definitions,
 * and the checks of an operation's outputs against it. Shared by the tests
 * of X's own rows and of described rows. */
#ifndef GR_TESTS_LOGREG_REFERENCE_H
#define GR_TESTS_LOGREG_REFERENCE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "kernels/shared_math.h"

#define LR_REF_MAX_D 64 /* D = d + 1 at most */

typedef struct lr_reference {
  int d, D;
  const double *w;             /* (D): the weights, then the intercept */
  double f;                    /* 1/2 |w|^2 + the data terms */
  double g[LR_REF_MAX_D];      /* [w; 0] + sum r_i x_i */
  double size_g[LR_REF_MAX_D]; /* sum c_i |x_ij|: the scale of g's rounding */
  double H[LR_REF_MAX_D * LR_REF_MAX_D];
  int64_t left_out; /* rows curvature sampling left out */
} lr_reference;

/* The penalty's terms; rows come with lr_reference_add. */
static inline void lr_reference_init(lr_reference *r, const double *w, int d) {
  memset(r, 0, sizeof *r);
  r->d = d;
  r->D = d + 1;
  r->w = w;
  for (int j = 0; j < d; j++) {
    r->f += 0.5 * w[j] * w[j];
    r->g[j] = w[j];
    r->H[j * r->D + j] = 1.0;
  }
}

/* Row x (d coordinates, double) with label y and weight c. Its curvature
 * enters whole when exact, else as gr_logreg_hess_scale draws it (tau, the
 * row's place in its group). */
static inline void lr_reference_add(lr_reference *r, const double *x, int y, double c, double tau,
                                    int64_t place, int exact) {
  const int d = r->d, D = r->D;
  double xi[LR_REF_MAX_D], z = r->w[d];
  for (int j = 0; j < D; j++) {
    xi[j] = j < d ? x[j] : 1.0;
    if (j < d) z += r->w[j] * xi[j];
  }
  const double p = 1.0 / (1.0 + exp(-z)), h = c * p * (1 - p);
  const double sh = exact ? sqrt(h) : gr_logreg_hess_scale(h, c, tau, place);
  r->left_out += sh == 0.0;
  r->f += c * log1p(exp(y ? -z : z));
  for (int a = 0; a < D; a++) {
    r->g[a] += c * (p - y) * xi[a];
    r->size_g[a] += c * fabs(xi[a]);
    for (int b = 0; b < D; b++)
      r->H[a * D + b] += sh * sh * xi[a] * xi[b];
  }
}

/* An operation's f (and f_obj from the objective-only pass, the same sums),
 * g and H (D x D) against the reference: f and g within 1e-12 of the terms'
 * sizes, H (float sums over row chunks) within 1e-4 of sqrt(H_aa H_bb).
 * @return the worst H error in those units. */
static inline double lr_reference_check(const lr_reference *r, double f, double f_obj,
                                        const double *g, const double *H) {
  const int D = r->D;
  CHECK_NEAR(f, r->f, 1e-12 * r->f);
  CHECK(f_obj == f);
  double worst = 0.0;
  for (int a = 0; a < D; a++) {
    CHECK_NEAR(g[a], r->g[a], 1e-12 * r->size_g[a]);
    for (int b = 0; b < D; b++) {
      const double scale = sqrt(r->H[a * D + a] * r->H[b * D + b]);
      worst = fmax(worst, fabs(H[a * D + b] - r->H[a * D + b]) / scale);
      CHECK_NEAR(H[a * D + b], r->H[a * D + b], 1e-4 * scale);
    }
  }
  return worst;
}

#endif
