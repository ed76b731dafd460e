/* Internal ranking helpers shared by recommend, similar and evaluation. */
#ifndef GR_HOST_RANKING_H
#define GR_HOST_RANKING_H

#include "csr.h"
#include "gpurec.h"

/* Top-k of queries[rows[q]] . items[i] on the context's backend; stages the
 * inputs, runs topk_dot, and returns results in host arrays (n_queries, topk).
 * rows may be NULL (query q is row q). exclude rows are indexed like rows. */
gr_status gr_rank_items(gr_context *ctx, const float *queries, int64_t n_query_rows,
                        const int32_t *rows, int64_t n_queries, const float *items, int64_t n_items,
                        int k, const gr_csr *exclude, const uint8_t *allowed, int topk,
                        int32_t *out_idx, float *out_score);

/* The (n_users, n_items) pattern of `seen` in the model's indices; ids the
 * model does not know are dropped. */
gr_status gr_seen_matrix(const gr_als_model *m, const gr_interactions *seen, gr_csr *out);

#endif
