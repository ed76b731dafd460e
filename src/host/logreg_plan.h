/* The per-cluster logistic regressions within a memory budget. A resident
 * fit stages X whole; when that does not fit, the groups go in batches of
 * consecutive groups, each batch with a compact copy of the X rows its
 * training rows refer to (real rows and SMOTE partners), its descriptors
 * renumbered. Every per-group quantity (row chunks, sums, the warm start,
 * the Hessian sampling) depends on the group alone, so the models are the
 * same however the groups are batched. */
#ifndef GR_HOST_LOGREG_PLAN_H
#define GR_HOST_LOGREG_PLAN_H

#include "logreg.h"

/* Splits groups 0..m-1 into batches whose staged bytes (the referenced X
 * rows, descriptors, labels, weights, the warm start's subsample and the
 * per-group state of p's solver; p NULL: the defaults) stay within
 * budget / 2, the rest being left to the
 * backend's own scratch. first (m + 1): batch b is groups first[b] ..
 * first[b + 1] - 1. Returns the number of batches; 0 when group *too_big
 * alone needs *need bytes, more than budget / 2; -1 without memory.
 * Row indices must lie in [0, rows->n_x). */
int gr_logreg_plan_batches(const gr_logreg_rows *rows, const int64_t *seg, int m, int d,
                           const gr_logreg_params *p, size_t budget, int *first, int *too_big,
                           size_t *need);

/* The fit's input checks (logreg_groups.c): parameters, segments, both
 * classes in every group, weights, descriptors in range; cw (2 m) gets C
 * times each group's class weights. Errors name the group or row. */
gr_status gr_logreg_check(const gr_logreg_rows *rows, const uint8_t *y, const float *sw,
                          const int64_t *seg, int m, int d, const gr_logreg_params *p, double *cw);

/* The fit with everything staged at once (logreg_groups.c). binary (d):
 * gr_binary_features (packed_x.h) of the whole X that rows->X is part of, so
 * that every batch packs its rows alike (see cpu/packed_rows.h), or NULL
 * to find them in rows->X; used where the backend packs rows and
 * p->packed does not give X packed already. */
gr_status gr_logreg_fit_resident(gr_context *ctx, const gr_logreg_rows *rows, const uint8_t *y,
                                 const float *sw, const int64_t *seg, int m, int d,
                                 const gr_logreg_params *p, const uint8_t *binary,
                                 gr_logreg_model *out);

#endif
