/* SMOTE (Chawla et al. 2002): synthetic minority rows on the segments
 * between a minority row and one of its k nearest minority neighbours. */
#ifndef GR_HOST_SMOTE_H
#define GR_HOST_SMOTE_H

#include <stdint.h>

#include "gpurec.h"

/* P (n_pos, d): the minority rows. Writes n_new synthetic rows to out
 * (n_new, d): each picks a row u and one of its k nearest neighbours v
 * uniformly (as imbalanced-learn does), and a gap g in [0, 1):
 * out = P[u] + g (P[v] - P[u]). base/neighbor (n_new, may be NULL) receive
 * u and v. k is capped at n_pos - 1; n_pos must be at least 2. The
 * neighbour search runs on the context's backend (its shared top-k). */
gr_status gr_smote(gr_context *ctx, float *out, int64_t *base, int64_t *neighbor, const float *P,
                   int64_t n_pos, int d, int k, int64_t n_new, uint64_t seed);

#endif
