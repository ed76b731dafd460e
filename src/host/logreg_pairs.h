/* The synthetic training rows of a logistic-regression run grouped by the
 * pair of X rows they lie between (gr_lr_rows in kernels/backend.h): SMOTE
 * draws hundreds of thousands of rows from a few thousand pairs (clients
 * times k neighbours), and a pass then costs two dot products per pair
 * instead of one rebuilt row per synthetic row. */
#ifndef GR_HOST_LOGREG_PAIRS_H
#define GR_HOST_LOGREG_PAIRS_H

#include <stdint.h>

#include "gpurec.h"

typedef struct gr_lr_pairs {
  int64_t n_pairs;
  int64_t n_rows; /* synthetic rows */
  int64_t *seg;   /* (m + 1): group g's pairs are seg[g]..seg[g+1) */
  int32_t *a, *b; /* (n_pairs): the pair's rows of X; (n_pairs + 1) allocated */
  int64_t *start; /* (n_pairs + 1): pair p's rows are rows[start[p]..start[p+1]) */
  int64_t
      *rows; /* (n_rows): training row numbers, ascending within a pair; (n_rows + 1) allocated */
} gr_lr_pairs;

/* Groups the synthetic rows (b[i] != a[i]) of training rows seg[0]..seg[m)
 * by pair, group by group. A group's pairs are numbered in the order of
 * their first row, so the result depends only on the group's own rows (not
 * on how X is numbered or on the groups beside it). b NULL: no pairs.
 * @return GR_OK, or GR_ERR_NOMEM. */
gr_status gr_lr_pairs_build(gr_lr_pairs *out, const int32_t *a, const int32_t *b,
                            const int64_t *seg, int m);

void gr_lr_pairs_free(gr_lr_pairs *p);

#endif
