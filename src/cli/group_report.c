/* Per-group evaluation output (see group_report.h). */
#include "group_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "data_args.h"
#include "host/als_model.h"

gr_status gr_group_report_init(gr_group_report *r, const gr_als_model *m, const char *path,
                               const char *item_col, const char *group_col) {
  memset(r, 0, sizeof *r);
  r->path = path;
  GR_TRY(gr_item_groups_load_for(&m->items, path, item_col, group_col, &r->file, &r->lists,
                                 &r->mapped));
  const size_t slots = (size_t)r->file->groups.count + 1;
  r->cohesion = malloc(sizeof(double) * slots);
  r->n_in_group = malloc(sizeof(int64_t) * slots);
  gr_status st = r->cohesion && r->n_in_group
                     ? gr_group_sums_init(&r->sums, &r->lists)
                     : gr_fail(GR_ERR_NOMEM, "cannot allocate the per-group report");
  if (st != GR_OK) gr_group_report_free(r);
  return st;
}

gr_status gr_group_report_finish(gr_group_report *r, const gr_als_model *m) {
  return gr_group_cohesion(m->item_factors, m->params.factors, &r->lists, r->cohesion,
                           r->n_in_group);
}

static double ratio(int64_t num, int64_t den) { return den ? (double)num / (double)den : NAN; }
static double mean(double sum, int64_t n) { return n ? sum / (double)n : NAN; }

/* A name in a column of `width` characters: cut at a character boundary
 * (never inside a UTF-8 sequence, such as an accented business unit) and
 * padded by characters, not bytes. */
static void print_name(FILE *f, const char *name, int width) {
  size_t len = 0;
  int chars = 0;
  while (name[len] && chars < width) {
    len++;
    while ((name[len] & 0xC0) == 0x80) /* continuation bytes of this character */
      len++;
    chars++;
  }
  fprintf(f, "%.*s%*s", (int)len, name, width - chars, "");
}

static void print_row(FILE *f, const char *name, int64_t items, int64_t held_out,
                      int64_t recommended, int64_t hits, double cohesion) {
  fputs("  ", f);
  print_name(f, name, 20);
  fprintf(f, " %8lld %9lld %12lld %7lld", (long long)items, (long long)held_out,
          (long long)recommended, (long long)hits);
  const double cols[3] = {ratio(hits, recommended), ratio(hits, held_out), cohesion};
  for (int c = 0; c < 3; c++)
    isnan(cols[c]) ? fprintf(f, " %9s", "-") : fprintf(f, " %9.4f", cols[c]);
  fputc('\n', f);
}

void gr_group_report_print(FILE *f, const gr_group_report *r, int k) {
  const gr_group_sums *s = &r->sums;
  const int32_t n = s->n_groups;
  const int64_t n_items = r->lists.n_items;
  fprintf(f, "%-21s %d from %s (%lld of %lld items have one)\n", "item groups", (int)n, r->path,
          (long long)r->mapped, (long long)n_items);
  char label[48];
  snprintf(label, sizeof label, "group_precision@%d", k);
  fprintf(f,
          "%-21s %.4f   (share of the top %d in a group of the user's held-out items; %lld "
          "users)\n",
          label, mean(s->precision, s->precision_users), k, (long long)s->precision_users);
  snprintf(label, sizeof label, "group_match@%d", k);
  fprintf(f,
          "%-21s %.4f   (share of the top %d in a group of the user's training items; %lld "
          "users)\n",
          label, mean(s->match, s->match_users), k, (long long)s->match_users);
  fprintf(f, "  %-20s %8s %9s %12s %7s %9s %9s %9s\n", "group", "items", "held_out", "recommended",
          "hits", "precision", "recall", "cohesion");
  for (int32_t g = 0; g < n; g++)
    print_row(f, gr_id_map_get(&r->file->groups, g), r->n_in_group[g], s->test_pairs[g],
              s->recommended[g], s->hits[g], r->cohesion[g]);
  if (r->n_in_group[n] > 0)
    print_row(f, "(no group)", r->n_in_group[n], s->test_pairs[n], s->recommended[n], s->hits[n],
              NAN);
  print_row(f, "(all)", n_items, s->total_test_pairs, s->total_recommended, s->total_hits,
            r->cohesion[n]);
}

static void json_number(FILE *f, double v) { isnan(v) ? fputs("null", f) : fprintf(f, "%.6f", v); }

static void json_group(FILE *f, const gr_group_report *r, int32_t g) {
  const gr_group_sums *s = &r->sums;
  fprintf(f, "\"items\": %lld, \"held_out\": %lld, \"recommended\": %lld, \"hits\": %lld, ",
          (long long)r->n_in_group[g], (long long)s->test_pairs[g], (long long)s->recommended[g],
          (long long)s->hits[g]);
  fputs("\"precision\": ", f);
  json_number(f, ratio(s->hits[g], s->recommended[g]));
  fputs(", \"recall\": ", f);
  json_number(f, ratio(s->hits[g], s->test_pairs[g]));
}

void gr_group_report_json(FILE *f, const gr_group_report *r) {
  const gr_group_sums *s = &r->sums;
  const int32_t n = s->n_groups;
  fputs("  \"groups\": {\"file\": ", f);
  gr_json_string(f, r->path);
  fprintf(f, ", \"n_groups\": %d, \"mapped_items\": %lld,\n    \"group_precision\": ", (int)n,
          (long long)r->mapped);
  json_number(f, mean(s->precision, s->precision_users));
  fprintf(f, ", \"group_precision_users\": %lld, \"group_match\": ", (long long)s->precision_users);
  json_number(f, mean(s->match, s->match_users));
  fprintf(f, ", \"group_match_users\": %lld, \"cohesion_all\": ", (long long)s->match_users);
  json_number(f, r->cohesion[n]);
  fputs(",\n    \"per_group\": [", f);
  for (int32_t g = 0; g < n; g++) {
    fputs(g ? ",\n      {\"name\": " : "\n      {\"name\": ", f);
    gr_json_string(f, gr_id_map_get(&r->file->groups, g));
    fputs(", ", f);
    json_group(f, r, g);
    fputs(", \"cohesion\": ", f);
    json_number(f, r->cohesion[g]);
    fputc('}', f);
  }
  fputs("],\n    \"no_group\": {", f);
  json_group(f, r, n);
  fprintf(f,
          "},\n    \"all\": {\"items\": %lld, \"held_out\": %lld, \"recommended\": %lld, "
          "\"hits\": %lld}}",
          (long long)r->lists.n_items, (long long)s->total_test_pairs,
          (long long)s->total_recommended, (long long)s->total_hits);
}

void gr_group_report_free(gr_group_report *r) {
  gr_item_groups_free(r->file);
  gr_item_group_lists_free(&r->lists);
  free(r->cohesion);
  free(r->n_in_group);
  if (r->sums.recommended) gr_group_sums_free(&r->sums);
  memset(r, 0, sizeof *r);
}
