/* Item groups: reading the mapping CSV (good and bad files), the per-group
 * evaluation sums on a hand-computed case and against a set-based
 * reference on random users, and group cohesion against a loop over every
 * pair of items. */
#include <stdint.h>

#include "check.h"
#include "common/rng.h"
#include "host/group_metrics.h"
#include "host/item_groups.h"
#include "test_util.h"

/* Lists from a per-item bit mask of groups (bit g = group g). */
static gr_item_group_lists lists_from_masks(const uint64_t *mask, int32_t n_items,
                                            int32_t n_groups) {
  gr_item_group_lists l = {n_items, n_groups, calloc((size_t)n_items + 1, sizeof(int64_t)),
                           malloc(sizeof(int32_t) * (size_t)n_items * (size_t)n_groups + 1)};
  for (int32_t i = 0; i < n_items; i++) {
    l.first[i + 1] = l.first[i];
    for (int32_t g = 0; g < n_groups; g++)
      if (mask[i] >> g & 1) l.group[l.first[i + 1]++] = g;
  }
  return l;
}

static void check_read(void) {
  /* pandas' unnamed index first, a quoted item, a repeated pair, an item in two groups */
  const char *path = write_temp_str(",business_unit,page_url\n"
                                    "0,a,p1\n"
                                    "1,b,\"p,2\"\n"
                                    "2,a,p1\n"
                                    "3,c,p1\n"
                                    "4,b,p3\n");
  gr_item_groups *g = NULL;
  CHECK_OK(gr_item_groups_read(&g, path, "page_url", NULL));
  if (!g) return;
  CHECK(g->items.count == 3 && g->groups.count == 3);
  CHECK(strcmp(gr_id_map_get(&g->groups, 0), "a") == 0);
  /* p1: groups a and c, once each; "p,2": b; p3: b */
  CHECK(g->first[1] - g->first[0] == 2 && g->group[0] == 0 && g->group[1] == 2);
  CHECK(g->first[2] - g->first[1] == 1 && g->group[g->first[1]] == 1);

  gr_id_map model;
  gr_id_map_init(&model);
  int32_t idx;
  const char *ids[] = {"p3", "unknown", "p1", "p,2"};
  for (int i = 0; i < 4; i++)
    CHECK_OK(gr_id_map_intern(&model, ids[i], strlen(ids[i]), &idx));
  gr_item_group_lists l;
  int64_t mapped = -1;
  CHECK_OK(gr_item_groups_assign(g, &model, &l, &mapped));
  CHECK(mapped == 3);
  CHECK(l.first[1] - l.first[0] == 1 && l.group[l.first[0]] == 1);     /* p3: b */
  CHECK(l.first[2] == l.first[1]);                                     /* unknown: none */
  CHECK(l.first[3] - l.first[2] == 2 && l.group[l.first[2] + 1] == 2); /* p1: a, c */
  CHECK(l.first[4] - l.first[3] == 1 && l.group[l.first[3]] == 1);     /* p,2: b */
  gr_item_group_lists_free(&l);
  gr_id_map_free(&model);
  gr_item_groups_free(g);

  /* no item column named: the interactions reader's names for it */
  g = NULL;
  CHECK_OK(gr_item_groups_read(&g, write_temp_str("unit,item_id\nu1,x\n"), NULL, NULL));
  CHECK(g && g->items.count == 1 && strcmp(gr_id_map_get(&g->groups, 0), "u1") == 0);
  gr_item_groups_free(g);

  /* the group column named explicitly among several */
  g = NULL;
  CHECK_OK(gr_item_groups_read(&g, write_temp_str("item,unit,region\nx,u1,r1\ny,u2,r1\n"), "item",
                               "region"));
  CHECK(g && g->groups.count == 1);
  gr_item_groups_free(g);
}

/* A bad file fails with GR_ERR_PARSE and a message holding `where`. */
static void check_bad(const char *text, const char *item_col, const char *group_col,
                      const char *where) {
  gr_item_groups *g = NULL;
  const char *path = write_temp_str(text);
  const gr_status st = gr_item_groups_read(&g, path, item_col, group_col);
  CHECK_MSG(st == GR_ERR_PARSE && !g && strstr(gr_last_error(), where),
            "'%s': status %d, message '%s', expected '%s'", text, (int)st, gr_last_error(), where);
  gr_item_groups_free(g);
}

static void check_read_errors(void) {
  check_bad("", "item", NULL, "empty");
  check_bad("item,group\n", "item", NULL, "no item-group rows");
  check_bad("item,group\nx,a\ny\n", "item", NULL, ":3:1: expected 2 fields, found 1");
  check_bad("item,group\nx,a\ny,\n", "item", NULL, ":3:3: empty group for item 'y'");
  check_bad("item,group\nx,a\n,b\n", "item", NULL, ":3:1: empty item id");
  check_bad("page,group\nx,a\n", "item", NULL, ":1:1: no item column 'item'");
  check_bad("item,unit,region\nx,a,b\n", "item", NULL, "--group-col");
  check_bad("item,unit\nx,a\n", "item", "region", "no group column 'region'");
  check_bad("item\nx\n", "item", NULL, "no group column besides");
  check_bad("item,group\nx,\"a\n", "item", NULL, ":2:");
  check_bad("item,group\nx,caf\xe9\n", "item", NULL, ":2:6: the group is not valid UTF-8");
}

/* Five items: 0 {g0}, 1 {g0, g1}, 2 {g1}, 3 {}, 4 {g2}; two users. */
static void check_sums_by_hand(void) {
  const uint64_t mask[5] = {1, 3, 2, 0, 4};
  gr_item_group_lists l = lists_from_masks(mask, 5, 3);
  gr_group_sums s;
  CHECK_OK(gr_group_sums_init(&s, &l));
  {
    /* held-out {1, 3} -> groups {g0, g1}; training {4} -> {g2} */
    const int32_t ranked[4] = {0, 2, 3, -1}, test[2] = {1, 3}, train[1] = {4};
    gr_group_sums_add_user(&s, ranked, 4, test, 2, train, 1);
  }
  {
    /* held-out {3}: no group, so not in group_precision; training {0} -> {g0} */
    const int32_t ranked[2] = {4, 1}, test[1] = {3}, train[1] = {0};
    gr_group_sums_add_user(&s, ranked, 2, test, 1, train, 1);
  }
  /* user 1: items 0 (g0) and 2 (g1) of 4 slots in held-out groups; user 2: none counted */
  CHECK(s.precision_users == 1);
  CHECK_NEAR(s.precision, 0.5, 1e-15);
  /* user 1: nothing in g2; user 2: item 1 (g0, g1) of 2 slots */
  CHECK(s.match_users == 2);
  CHECK_NEAR(s.match, 0.0 + 0.5, 1e-15);
  const int64_t recommended[4] = {2, 2, 1, 1}, hits[4] = {0, 0, 0, 1}, pairs[4] = {1, 1, 0, 2};
  for (int g = 0; g < 4; g++)
    CHECK_MSG(s.recommended[g] == recommended[g] && s.hits[g] == hits[g] &&
                  s.test_pairs[g] == pairs[g],
              "slot %d: recommended %lld hits %lld pairs %lld", g, (long long)s.recommended[g],
              (long long)s.hits[g], (long long)s.test_pairs[g]);
  CHECK(s.total_recommended == 5 && s.total_hits == 1 && s.total_test_pairs == 3);
  gr_group_sums_free(&s);
  gr_item_group_lists_free(&l);
}

/* Random users and groups against a reference built on group bit masks. */
static void check_sums_random(void) {
  gr_rng rng;
  gr_rng_seed(&rng, 77);
  for (int trial = 0; trial < 40; trial++) {
    const int32_t n_items = 1 + (int32_t)gr_rng_below(&rng, 200);
    const int32_t n_groups = 1 + (int32_t)gr_rng_below(&rng, 40);
    uint64_t *mask = calloc((size_t)n_items, sizeof *mask);
    for (int32_t i = 0; i < n_items; i++) /* about a third with none, some with several */
      for (int r = (int)gr_rng_below(&rng, 4); r > 0; r--)
        mask[i] |= 1ull << gr_rng_below(&rng, (uint64_t)n_groups);
    gr_item_group_lists l = lists_from_masks(mask, n_items, n_groups);
    gr_group_sums s;
    CHECK_OK(gr_group_sums_init(&s, &l));
    int64_t rec[41] = {0}, hit[41] = {0}, pairs[41] = {0};
    double precision = 0, match = 0;
    int64_t p_users = 0, m_users = 0;
    int32_t *test = malloc(sizeof(int32_t) * (size_t)n_items),
            *train = malloc(sizeof(int32_t) * (size_t)n_items), ranked[16];
    for (int user = 0; user < 30; user++) {
      const int64_t n_test = draw_sorted(&rng, n_items, 2 + user % 9, test);
      const int64_t n_train = draw_sorted(&rng, n_items, 2 + user % 5, train);
      const int k = 1 + (int)gr_rng_below(&rng, 16);
      for (int r = 0; r < k; r++) /* -1 slots, and repeats the reference must not mind */
        ranked[r] =
            gr_rng_below(&rng, 8) == 0 ? -1 : (int32_t)gr_rng_below(&rng, (uint64_t)n_items);
      gr_group_sums_add_user(&s, ranked, k, test, n_test, train, n_train);
      uint64_t test_groups = 0, train_groups = 0;
      for (int64_t t = 0; t < n_test; t++) {
        test_groups |= mask[test[t]];
        for (int g = 0; g < n_groups; g++)
          pairs[g] += mask[test[t]] >> g & 1;
        pairs[n_groups] += mask[test[t]] == 0;
      }
      for (int64_t t = 0; t < n_train; t++)
        train_groups |= mask[train[t]];
      int in_test = 0, in_train = 0;
      for (int r = 0; r < k; r++) {
        if (ranked[r] < 0) continue;
        const uint64_t m = mask[ranked[r]];
        int is_hit = 0;
        for (int64_t t = 0; t < n_test; t++)
          is_hit |= test[t] == ranked[r];
        for (int g = 0; g < n_groups; g++) {
          rec[g] += m >> g & 1;
          hit[g] += (m >> g & 1) && is_hit;
        }
        rec[n_groups] += m == 0;
        hit[n_groups] += m == 0 && is_hit;
        in_test += (m & test_groups) != 0;
        in_train += (m & train_groups) != 0;
      }
      if (test_groups) precision += (double)in_test / k, p_users++;
      if (train_groups) match += (double)in_train / k, m_users++;
    }
    int same = s.precision_users == p_users && s.match_users == m_users &&
               fabs(s.precision - precision) <= 1e-12 && fabs(s.match - match) <= 1e-12;
    for (int g = 0; g <= n_groups; g++)
      same &= s.recommended[g] == rec[g] && s.hits[g] == hit[g] && s.test_pairs[g] == pairs[g];
    CHECK_MSG(same, "trial %d (%d items, %d groups): precision %g/%lld vs %g/%lld", trial,
              (int)n_items, (int)n_groups, s.precision, (long long)s.precision_users, precision,
              (long long)p_users);
    free(test);
    free(train);
    free(mask);
    gr_group_sums_free(&s);
    gr_item_group_lists_free(&l);
  }
}

/* Cohesion against the mean over every ordered pair of distinct items. */
static void check_cohesion(void) {
  gr_rng rng;
  gr_rng_seed(&rng, 5);
  for (int trial = 0; trial < 20; trial++) {
    const int32_t n_items = 1 + (int32_t)gr_rng_below(&rng, 60), n_groups = 4;
    const int factors = 1 + (int)gr_rng_below(&rng, 12);
    float *y = malloc(sizeof(float) * (size_t)n_items * factors);
    uint64_t *mask = malloc(sizeof(uint64_t) * (size_t)n_items);
    for (int32_t i = 0; i < n_items; i++) {
      mask[i] = gr_rng_below(&rng, 16);
      const int zero = gr_rng_below(&rng, 10) == 0; /* no direction: left out */
      for (int f = 0; f < factors; f++)
        y[(size_t)i * factors + f] = zero ? 0.0f : (float)gr_rng_uniform(&rng) - 0.3f;
    }
    gr_item_group_lists l = lists_from_masks(mask, n_items, n_groups);
    double cohesion[5];
    int64_t n_in[5];
    CHECK_OK(gr_group_cohesion(y, factors, &l, cohesion, n_in));
    for (int g = 0; g <= n_groups; g++) {
      double sum = 0;
      int64_t n_pairs = 0, members = 0;
      for (int32_t i = 0; i < n_items; i++) {
        members += g < n_groups ? (int64_t)(mask[i] >> g & 1) : mask[i] == 0;
        for (int32_t j = 0; j < n_items; j++) {
          const int in_i = g == n_groups || (mask[i] >> g & 1),
                    in_j = g == n_groups || (mask[j] >> g & 1);
          if (i == j || !in_i || !in_j) continue;
          double dot = 0, ni = 0, nj = 0;
          for (int f = 0; f < factors; f++) {
            const double a = y[(size_t)i * factors + f], b = y[(size_t)j * factors + f];
            dot += a * b, ni += a * a, nj += b * b;
          }
          if (ni == 0 || nj == 0) continue;
          sum += dot / sqrt(ni * nj);
          n_pairs++;
        }
      }
      CHECK_MSG(n_in[g] == members, "trial %d group %d: %lld items, expected %lld", trial, g,
                (long long)n_in[g], (long long)members);
      if (n_pairs == 0)
        CHECK_MSG(isnan(cohesion[g]), "trial %d group %d: %g without pairs", trial, g, cohesion[g]);
      else
        CHECK_MSG(fabs(cohesion[g] - sum / (double)n_pairs) <= 1e-9,
                  "trial %d group %d: %.12f vs pairs %.12f", trial, g, cohesion[g],
                  sum / (double)n_pairs);
    }
    free(y);
    free(mask);
    gr_item_group_lists_free(&l);
  }
}

int main(void) {
  check_read();
  check_read_errors();
  check_sums_by_hand();
  check_sums_random();
  check_cohesion();
  return gr_test_finish();
}
