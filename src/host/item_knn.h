/* Item-item nearest neighbours: the baseline that tells whether a factor
 * model earns its keep. Each item keeps its K most cosine-similar items
 * (over the users' summed weights; the item itself included, as the
 * `implicit` package's CosineRecommender keeps it), and a user's score for
 * an item is the sum over their history of weight x similarity. Like the
 * popularity baseline it is measured beside a model by `als eval
 * --baseline`, on the same split and with the same metrics. CPU only: it
 * is sparse work that a GPU would not speed up much at these sizes. */
#ifndef GR_HOST_ITEM_KNN_H
#define GR_HOST_ITEM_KNN_H

#include "als_model.h"
#include "csr.h"

#define GR_ITEM_KNN_MAX 1024 /* neighbours per item */

typedef struct gr_item_knn {
  int32_t n_items;
  int K;
  /* (n_items, up to K) as a CSR: each item's neighbours, the most similar
   * first (equal ones by index), similarities in (0, 1] */
  gr_csr sim;
} gr_item_knn;

/* Fits on ui (users x items, summed weights > 0), n_threads threads; the
 * result does not depend on the thread count. */
gr_status gr_item_knn_fit(const gr_csr *ui, int K, int n_threads, gr_item_knn *out);
void gr_item_knn_free(gr_item_knn *knn);

/* Every item's score for one user (history: the user's row of ui) into
 * dense (n_items, zeros first), and the items scored into touched;
 * @return how many were. */
int64_t gr_item_knn_scores(const gr_item_knn *knn, const int32_t *items, const float *weights,
                           int64_t n, double *dense, int32_t *touched);

/* The baseline measured as gr_als_evaluate measures a model: the kNN fitted
 * on train (in like's indices), top k of every user with held-out pairs
 * (seen items excluded; fewer than k when fewer items score), the same
 * metrics, AUC sample and coverage. */
gr_status gr_item_knn_evaluate(gr_context *ctx, const gr_als_model *like,
                               const gr_interactions *train, const gr_interactions *test, int K,
                               int k, gr_metrics *out);

#endif
