/* X's rows packed by the backend (pack_rows: the 0/1 features as bits,
 * kernels/cpu/packed_rows.h) for the passes that read X again and again:
 * the KMeans dots and the logistic passes. The leads fit packs the
 * encoded market once and hands the copy to both. */
#ifndef GR_HOST_PACKED_X_H
#define GR_HOST_PACKED_X_H

#include <stdint.h>

#include "../kernels/backend.h"

/* binary[j] (d) = 1 where feature j is 0 or 1 in every row of X (n, d);
 * *n_binary (unless NULL): how many are. */
gr_status gr_binary_features(const float *X, int64_t n, int d, uint8_t *binary, int *n_binary);

/* *out = X (n, d) packed with the features flagged in binary (d; NULL:
 * gr_binary_features of X) as bits, where the backend packs rows and
 * finds that worth a copy; else *out = NULL and the passes read X.
 * Released by gr_packed_x_free. */
gr_status gr_pack_x(gr_backend *be, struct gr_packed_rows **out, const float *X, int64_t n, int d,
                    const uint8_t *binary);
void gr_packed_x_free(gr_backend *be, struct gr_packed_rows *packed);

#endif
