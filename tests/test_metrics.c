/* Every metric on hand-computed cases (docs/metrics.md has the definitions). */
#include "check.h"
#include "host/metrics.h"

int main(void) {
  /* user A: ranked [5, 1, 7, 3], test {1, 3, 9}; k = 4
   * hits at ranks 2 and 4: precision 2/4, recall 2/3,
   * AP = (1/2 + 2/4) / min(4, 3) = 1/3,
   * DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4) */
  gr_metric_sums s = {0};
  const int32_t ranked_a[4] = {5, 1, 7, 3}, test_a[3] = {1, 3, 9};
  gr_metrics_add_user(&s, ranked_a, 4, test_a, 3);
  /* user B: ranked [2, -1, -1, -1] (one candidate), test {4}: no hit */
  const int32_t ranked_b[4] = {2, -1, -1, -1}, test_b[1] = {4};
  gr_metrics_add_user(&s, ranked_b, 4, test_b, 1);
  gr_metrics m;
  gr_metrics_finish(&s, 4, &m);
  const double dcg = 1 / log2(3.0) + 1 / log2(5.0), idcg = 1 + 1 / log2(3.0) + 0.5;
  CHECK(m.n_users == 2);
  CHECK_NEAR(m.precision, (0.5 + 0.0) / 2, 1e-12);
  CHECK_NEAR(m.precision_implicit, 2.0 / (3 + 1), 1e-12);
  CHECK_NEAR(m.recall, (2.0 / 3 + 0) / 2, 1e-12);
  CHECK_NEAR(m.map, (1.0 / 3 + 0) / 2, 1e-12);
  CHECK_NEAR(m.ndcg, (dcg / idcg + 0) / 2, 1e-12);
  CHECK_NEAR(m.hit_rate, 0.5, 1e-12);

  /* AUC: items 0..5, item 0 excluded (train), positives {2, 4}
   * scores: 1:0.1 2:0.9 3:0.5 4:0.5 5:0.7 -> negatives 1 (0.1), 3 (0.5), 5 (0.7)
   * item 2 beats all 3; item 4 beats 1, ties 3, loses to 5: 1.5
   * AUC = (3 + 1.5) / (2 * 3) = 0.75 */
  const float scores[6] = {5.0f, 0.1f, 0.9f, 0.5f, 0.5f, 0.7f};
  const int32_t excl[1] = {0}, pos[2] = {2, 4};
  CHECK_NEAR(gr_user_auc(scores, 6, excl, 1, pos, 2), 0.75, 1e-12);
  /* no negatives: undefined */
  const int32_t all_pos[5] = {1, 2, 3, 4, 5};
  CHECK(isnan(gr_user_auc(scores, 6, excl, 1, all_pos, 5)));
  return gr_test_finish();
}
