/* SMOTE (Chawla et al. 2002): synthetic minority rows on the segments
 * between a minority row and one of its k nearest minority neighbours. */
#ifndef GR_HOST_SMOTE_H
#define GR_HOST_SMOTE_H

#include <stdint.h>

#include "gpurec.h"

/* P (n_pos, d): the minority rows. Makes n_new synthetic rows: each picks
 * a row u and one of its k nearest neighbours v uniformly (as
 * imbalanced-learn does), and a gap g in [0, 1):
 * row = P[u] + g (P[v] - P[u]), coordinate by coordinate as gr_smote_lerp
 * (kernels/shared_math.h) computes it. Each output may be NULL: out
 * (n_new, d) receives the rows; base, neighbor and gaps (n_new) receive
 * u, v and g, which describe the rows without writing them (the leads
 * engine's training sets). k is capped at n_pos - 1; n_pos must be at
 * least 2. The neighbour search runs on the context's backend (its shared
 * top-k); the draws depend only on the seed. */
gr_status gr_smote(gr_context *ctx, float *out, int64_t *base, int64_t *neighbor, float *gaps,
                   const float *P, int64_t n_pos, int d, int k, int64_t n_new, uint64_t seed);

#endif
