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

/* The weights of `x` as an (n_rows, n_items) matrix in the model's item
 * indices: rows are the model's users, or with own_users x's own users
 * (new users); ids the model does not know are dropped, repeats summed. */
gr_status gr_history_matrix(const gr_als_model *m, const gr_interactions *x, int own_users,
                            gr_csr *out);

/* gr_als_explain for ranked results: query q's history is row rows[q] of
 * `history` (rows NULL: row q), its k ranked items idx[q k ..] (-1 skipped).
 * because and shares are (n, k, n_top), scores (n, k); a query whose row is
 * empty, and unused slots, get because -1, share 0 and score 0. Queries run
 * in parallel on the context's CPU threads; the first failing query's
 * error is reported. */
gr_status gr_explain_ranked(gr_context *ctx, const gr_als_model *m, const gr_csr *history,
                            const int32_t *rows, int32_t n, const int32_t *idx, int k, int n_top,
                            int32_t *because, float *shares, double *scores);

#endif
