/* Every metric on hand-computed cases (docs/metrics.md has the definitions),
 * and the AUC against a count over every (positive, negative) pair. */
#include "check.h"
#include "common/rng.h"
#include "host/metrics.h"
#include "test_util.h"

/* Random users, from no positive to more than the vectorized path takes,
 * scores with many ties, test items that are also excluded (neither
 * positive nor negative): the AUC is the pair count's, to rounding. */
static void check_auc_against_pairs(void) {
  gr_rng rng;
  gr_rng_seed(&rng, 2024);
  for (int trial = 0; trial < 60; trial++) {
    const int64_t n = 1 + (int64_t)gr_rng_below(&rng, 3000);
    float *scores = malloc(sizeof(float) * (size_t)n);
    int32_t *excl = malloc(sizeof(int32_t) * (size_t)n),
            *test = malloc(sizeof(int32_t) * (size_t)n);
    uint8_t *is_excl = calloc((size_t)n, 1), *is_test = calloc((size_t)n, 1);
    const int levels = trial % 3 == 0 ? 5 : 1000000; /* ties, or nearly none */
    for (int64_t i = 0; i < n; i++)
      scores[i] = (float)gr_rng_below(&rng, (uint64_t)levels) / (float)levels;
    const int64_t n_excl = draw_sorted(&rng, n, 3 + trial % 7, excl);
    const int64_t n_test = draw_sorted(&rng, n, 1 + (int)(n / (1 + trial % 20 * 5)), test);
    for (int64_t e = 0; e < n_excl; e++)
      is_excl[excl[e]] = 1;
    for (int64_t t = 0; t < n_test; t++)
      is_test[test[t]] = 1;
    double wins = 0;
    int64_t n_pos = 0, n_neg = 0;
    for (int64_t i = 0; i < n; i++) {
      n_pos += is_test[i] && !is_excl[i];
      n_neg += !is_test[i] && !is_excl[i];
    }
    for (int64_t p = 0; p < n; p++)
      for (int64_t i = 0; p < n && is_test[p] && !is_excl[p] && i < n; i++)
        if (!is_test[i] && !is_excl[i])
          wins += scores[p] > scores[i] ? 1.0 : scores[p] == scores[i] ? 0.5 : 0.0;
    const double got = gr_user_auc(scores, n, excl, n_excl, test, n_test);
    if (n_pos == 0 || n_neg == 0) {
      CHECK_MSG(isnan(got), "trial %d: %lld positives, %lld negatives, AUC %g", trial,
                (long long)n_pos, (long long)n_neg, got);
    } else {
      const double want = wins / ((double)n_pos * (double)n_neg);
      CHECK_MSG(fabs(got - want) <= 1e-12,
                "trial %d (n %lld, %lld positives): AUC %.15f, pairs %.15f", trial, (long long)n,
                (long long)n_pos, got, want);
    }
    free(scores);
    free(excl);
    free(test);
    free(is_excl);
    free(is_test);
  }
}

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
  check_auc_against_pairs();
  return gr_test_finish();
}
