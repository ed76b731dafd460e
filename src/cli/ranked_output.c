/* Resolves id lists against a model, runs the ranking and writes it. */
#include "ranked_output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "host/als_model.h"
#include "host/input_file.h"
#include "host/item_groups.h"
#include "host/output_file.h"
#include "host/ranking.h"

typedef int32_t (*find_fn)(const gr_als_model *, const char *);
typedef const char *(*name_fn)(const gr_als_model *, int32_t);

/* Collects ids from "a,b,c" and/or a file of one id per line into indices.
 * Unknown ids are an error naming the id (and line), or, with n_unknown,
 * skipped and counted there. */
static gr_status collect_ids(const gr_als_model *m, find_fn find, const char *list,
                             const char *file, const char *what, int32_t **out, int32_t *n_out,
                             int64_t *n_unknown) {
  size_t cap = 64, n = 0;
  int32_t *ids = malloc(cap * sizeof *ids);
  if (!ids) return gr_fail(GR_ERR_NOMEM, "cannot allocate an id list");
  gr_status st = GR_OK;
  char *buf = NULL;
  FILE *f = NULL;
  if (list) buf = strdup(list);
  for (int pass = 0; pass < 2 && st == GR_OK; pass++) {
    if (pass == 0 && !buf) continue;
    if (pass == 1 && !file) continue;
    if (pass == 1 && (st = gr_input_open(file, &f)) != GR_OK) break;
    char line[4096];
    char *save = NULL, *tok = pass == 0 ? strtok_r(buf, ",", &save) : NULL;
    long line_no = 0;
    for (;;) {
      if (pass == 1) {
        if (!fgets(line, sizeof line, f)) break;
        line_no++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) continue;
        tok = line;
      } else if (!tok) {
        break;
      }
      const int32_t idx = find(m, tok);
      if (idx < 0 && n_unknown) {
        (*n_unknown)++;
        if (pass == 0) tok = strtok_r(NULL, ",", &save);
        continue;
      }
      if (idx < 0) {
        st = pass == 1 ? gr_fail(GR_ERR_INVALID_ARG, "%s:%ld:1: unknown %s id '%s'", file, line_no,
                                 what, tok)
                       : gr_fail(GR_ERR_INVALID_ARG, "unknown %s id '%s'", what, tok);
        break;
      }
      if (n == cap) {
        int32_t *g = realloc(ids, (cap *= 2) * sizeof *ids);
        if (!g) {
          st = gr_fail(GR_ERR_NOMEM, "cannot grow an id list");
          break;
        }
        ids = g;
      }
      ids[n++] = idx;
      if (pass == 0) tok = strtok_r(NULL, ",", &save);
    }
  }
  if (f) fclose(f);
  free(buf);
  if (st != GR_OK) {
    free(ids);
    return st;
  }
  *out = ids;
  *n_out = (int32_t)n;
  return GR_OK;
}

/* The groups of the model's items, when the request names a group file. */
typedef struct item_labels {
  gr_item_groups *file;
  gr_item_group_lists lists;
} item_labels;

static gr_status labels_load(item_labels *l, const gr_ranked_request *req, const gr_als_model *m) {
  memset(l, 0, sizeof *l);
  if (!req->groups_path) return GR_OK;
  int64_t mapped;
  return gr_item_groups_load_for(&m->items, req->groups_path, req->group_item_col, req->group_col,
                                 &l->file, &l->lists, &mapped);
}

static void labels_free(item_labels *l) {
  gr_item_groups_free(l->file);
  gr_item_group_lists_free(&l->lists);
}

/* Item i's groups joined by '|' into buf (empty when it has none). */
static const char *labels_of(const item_labels *l, int32_t i, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (int64_t e = l->lists.first[i]; e < l->lists.first[i + 1] && len + 1 < cap; e++) {
    const int w = snprintf(buf + len, cap - len, "%s%s", len ? "|" : "",
                           gr_id_map_get(&l->file->groups, l->lists.group[e]));
    len = w < 0 ? cap : len + (size_t)w;
  }
  return buf;
}

/* Why each ranked item (gr_explain_ranked's arrays), when asked for. */
typedef struct explained {
  int n_top;
  int32_t *because; /* (n, k, n_top) */
  float *shares;    /* (n, k, n_top) */
  double *scores;   /* (n, k) */
} explained;

static void explained_free(explained *e) {
  free(e->because);
  free(e->shares);
  free(e->scores);
}

/* Explains the ranked items of n queries from their histories (rows NULL:
 * query q is row q). */
static gr_status explain_results(explained *e, gr_context *ctx, const gr_ranked_request *req,
                                 const gr_als_model *m, const gr_csr *history, const int32_t *rows,
                                 int32_t n, const int32_t *idx) {
  /* no more slots per item than the longest history has items */
  int64_t longest = 1;
  for (int32_t q = 0; q < n; q++) {
    const int32_t r = rows ? rows[q] : q;
    const int64_t len = history->indptr[r + 1] - history->indptr[r];
    longest = len > longest ? len : longest;
  }
  e->n_top = req->explain < longest ? req->explain : (int)longest;
  const size_t slots = (size_t)n * req->k, cells = slots * (size_t)e->n_top;
  e->because = malloc(sizeof(int32_t) * (cells + 1));
  e->shares = malloc(sizeof(float) * (cells + 1));
  e->scores = malloc(sizeof(double) * (slots + 1));
  if (!e->because || !e->shares || !e->scores)
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the explanations (%zu slots)", cells);
  return gr_explain_ranked(ctx, m, history, rows, n, idx, req->k, e->n_top, e->because, e->shares,
                           e->scores);
}

/* A growing text buffer for one output field. */
typedef struct text {
  char *s;
  size_t len, cap;
} text;

static void text_add(text *t, const char *s) {
  const size_t n = strlen(s);
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + n + 1)
      cap *= 2;
    char *g = realloc(t->s, cap);
    if (!g) return; /* the field is cut short; gr_output_commit still checks the file */
    t->s = g;
    t->cap = cap;
  }
  memcpy(t->s + t->len, s, n + 1);
  t->len += n;
}

/* Slot `at`'s explanation as two '|'-joined CSV fields: items, contributions. */
static void write_because_csv(FILE *f, const explained *e, size_t at, const gr_als_model *m,
                              text *t) {
  char num[32];
  for (int pass = 0; pass < 2; pass++) {
    t->len = 0;
    if (t->s) t->s[0] = '\0';
    for (int s = 0; s < e->n_top; s++) {
      const int32_t j = e->because[at * e->n_top + s];
      if (j < 0) break;
      if (s) text_add(t, "|");
      if (pass == 0) {
        text_add(t, gr_als_model_item_id(m, j));
      } else {
        snprintf(num, sizeof num, "%.6g", (double)e->shares[at * e->n_top + s]);
        text_add(t, num);
      }
    }
    fputc(',', f);
    gr_write_csv_field(f, t->s ? t->s : "");
  }
}

static void write_because_json(FILE *f, const explained *e, size_t at, const gr_als_model *m) {
  fprintf(f, ", \"explained_score\": %.6g, \"because\": [", e->scores[at]);
  for (int s = 0; s < e->n_top; s++) {
    const int32_t j = e->because[at * e->n_top + s];
    if (j < 0) break;
    fputs(s ? ", {\"item\": " : "{\"item\": ", f);
    gr_json_string(f, gr_als_model_item_id(m, j));
    fprintf(f, ", \"contribution\": %.6g}", (double)e->shares[at * e->n_top + s]);
  }
  fputc(']', f);
}

static gr_status write_ranked(const gr_ranked_request *req, const char *const *query_names,
                              int32_t n, const int32_t *idx, const float *score,
                              const gr_als_model *m, const item_labels *labels, const explained *ex,
                              const char *query_col, const char *result_col) {
  const int csv = strcmp(req->format, "csv") == 0;
  char groups[1024];
  text because = {0};
  gr_output_file out;
  GR_TRY(gr_output_open(&out, req->out_path));
  FILE *f = out.f;
  if (csv)
    fprintf(f, "%s,rank,%s,score%s%s\n", query_col, result_col, labels->file ? ",group" : "",
            ex ? ",explained_score,because,contributions" : "");
  for (int32_t q = 0; q < n; q++) {
    if (!csv) {
      fprintf(f, "{\"%s\": ", query_col);
      gr_json_string(f, query_names[q]);
      fprintf(f, ", \"%ss\": [", result_col);
    }
    int written = 0;
    for (int r = 0; r < req->k; r++) {
      const int32_t i = idx[(size_t)q * req->k + r];
      if (i < 0) continue;
      const double s = score[(size_t)q * req->k + r];
      if (csv) {
        gr_write_csv_field(f, query_names[q]);
        fprintf(f, ",%d,", r + 1);
        gr_write_csv_field(f, gr_als_model_item_id(m, i));
        fprintf(f, ",%.6g", s);
        if (labels->file) {
          fputc(',', f);
          gr_write_csv_field(f, labels_of(labels, i, groups, sizeof groups));
        }
        if (ex) {
          const size_t at = (size_t)q * req->k + r;
          if (ex->because[at * ex->n_top] >= 0) /* empty when the user has no history */
            fprintf(f, ",%.6g", ex->scores[at]);
          else
            fputc(',', f);
          write_because_csv(f, ex, at, m, &because);
        }
        fputc('\n', f);
      } else {
        fprintf(f, "%s{\"%s\": ", written ? ", " : "", result_col);
        gr_json_string(f, gr_als_model_item_id(m, i));
        fprintf(f, ", \"score\": %.6g", s);
        if (labels->file) {
          fputs(", \"group\": ", f);
          gr_json_string(f, labels_of(labels, i, groups, sizeof groups));
        }
        if (ex && ex->because[((size_t)q * req->k + r) * ex->n_top] >= 0)
          write_because_json(f, ex, (size_t)q * req->k + r, m);
        else if (ex) /* no history: nothing to explain with */
          fputs(", \"explained_score\": null, \"because\": []", f);
        fputc('}', f);
      }
      written++;
    }
    if (!csv) fprintf(f, "]}\n");
  }
  free(because.s);
  return gr_output_commit(&out);
}

static gr_status check_request(const gr_ranked_request *req) {
  if (strcmp(req->format, "csv") != 0 && strcmp(req->format, "jsonl") != 0)
    return gr_fail(GR_ERR_INVALID_ARG, "--format expects csv or jsonl, got '%s'", req->format);
  if (req->k < 1 || req->k > 1024) return gr_fail(GR_ERR_INVALID_ARG, "--k must be in 1..1024");
  if (req->explain < 0 || req->explain > 1024)
    return gr_fail(GR_ERR_INVALID_ARG, "--explain must be in 0..1024");
  return GR_OK;
}

/* Query indices, from an explicit list or file, or every index below n_all. */
static gr_status select_ids(const gr_als_model *m, find_fn find, int32_t n_all, const char *list,
                            const char *file, const char *what, int32_t **ids, int32_t *n) {
  if (list || file) return collect_ids(m, find, list, file, what, ids, n, NULL);
  *ids = malloc(sizeof(int32_t) * ((size_t)n_all + 1));
  if (!*ids) return gr_fail(GR_ERR_NOMEM, "cannot allocate the %s list", what);
  for (int32_t i = 0; i < n_all; i++)
    (*ids)[i] = i;
  *n = n_all;
  return GR_OK;
}

/* Result arrays for n queries of k entries each. */
typedef struct ranked_results {
  int32_t *idx;
  float *score;
  const char **names;
} ranked_results;

static gr_status results_alloc(ranked_results *r, int32_t n, int k) {
  r->idx = malloc(sizeof(int32_t) * ((size_t)n * k + 1));
  r->score = malloc(sizeof(float) * ((size_t)n * k + 1));
  r->names = malloc(sizeof(char *) * ((size_t)n + 1));
  if (!r->idx || !r->score || !r->names) return gr_fail(GR_ERR_NOMEM, "cannot allocate results");
  return GR_OK;
}

static void results_free(ranked_results *r) {
  free(r->idx);
  free(r->score);
  free(r->names);
}

/* Scores the users of `path` without retraining (see gr_als_recommend_new_users). */
static gr_status recommend_new_users(gr_context *ctx, const gr_ranked_request *req,
                                     const gr_data_args *d, const gr_als_model *m,
                                     const item_labels *labels, const char *path,
                                     const uint8_t *allowed, int include_seen) {
  gr_interactions *x = gr_data_read(d, path, req->command);
  if (!x) return GR_ERR_PARSE;
  const int32_t n_users = gr_interactions_n_users(x);
  ranked_results res = {0};
  gr_status st = results_alloc(&res, n_users, req->k);
  gr_recommend_options o;
  gr_recommend_options_default(&o);
  o.k = req->k;
  o.exclude_seen = !include_seen;
  o.item_allowed = allowed;
  if (st == GR_OK) st = gr_als_recommend_new_users(ctx, m, x, &o, res.idx, res.score);
  for (int32_t u = 0; st == GR_OK && u < n_users; u++)
    res.names[u] = gr_interactions_user_id(x, u);
  explained ex = {0};
  if (st == GR_OK && req->explain) {
    gr_csr history = {0};
    st = gr_history_matrix(m, x, 1, &history);
    if (st == GR_OK) st = explain_results(&ex, ctx, req, m, &history, NULL, n_users, res.idx);
    gr_csr_free(&history);
  }
  if (st == GR_OK)
    st = write_ranked(req, res.names, n_users, res.idx, res.score, m, labels,
                      req->explain ? &ex : NULL, "user", "item");
  explained_free(&ex);
  results_free(&res);
  gr_interactions_free(x);
  return st;
}

/* An (n_items) mask of the items listed in `file`. */
/* An (n_items) mask of the items that may be recommended: those listed in
 * `allow` (every item when NULL), less those listed in `block`. Unknown ids
 * are an error in `allow`; in `block` (an out-of-stock list, say, that may
 * name items the model never saw) they are skipped, and counted on stderr
 * unless quiet. *out stays NULL when there is no filter. */
static gr_status item_mask(const gr_als_model *m, const char *allow, const char *block, int quiet,
                           uint8_t **out) {
  *out = NULL;
  if (!allow && !block) return GR_OK;
  const int32_t n_items = gr_als_model_n_items(m);
  uint8_t *mask = malloc((size_t)n_items + 1);
  if (!mask) return gr_fail(GR_ERR_NOMEM, "cannot allocate the item filter");
  memset(mask, allow ? 0 : 1, (size_t)n_items + 1);
  int32_t *ids = NULL, n = 0;
  gr_status st = GR_OK;
  if (allow) st = collect_ids(m, gr_als_model_find_item, NULL, allow, "item", &ids, &n, NULL);
  for (int32_t i = 0; st == GR_OK && i < n; i++)
    mask[ids[i]] = 1;
  free(ids);
  ids = NULL;
  int64_t unknown = 0;
  if (st == GR_OK && block)
    st = collect_ids(m, gr_als_model_find_item, NULL, block, "item", &ids, &n, &unknown);
  for (int32_t i = 0; st == GR_OK && block && i < n; i++)
    mask[ids[i]] = 0;
  free(ids);
  if (st != GR_OK) {
    free(mask);
    return st;
  }
  if (unknown && !quiet)
    fprintf(stderr, "gpurec: %lld ids of %s are not items of the model (ignored)\n",
            (long long)unknown, block);
  *out = mask;
  return GR_OK;
}

int gr_run_recommend(gr_context *ctx, const gr_ranked_request *req, const gr_data_args *d,
                     const char *seen_path, const char *users, const char *users_file,
                     const char *items_file, const char *new_users, int include_seen) {
  gr_als_model *m = NULL;
  gr_interactions *seen = NULL;
  uint8_t *allowed = NULL;
  int32_t *ids = NULL, n = 0;
  ranked_results res = {0};
  item_labels labels = {0};
  explained ex = {0};
  int reported = 0; /* gr_data_read prints its own error */
  gr_status st = check_request(req);
  if (st == GR_OK && req->explain && !new_users && !seen_path)
    st = gr_fail(GR_ERR_INVALID_ARG,
                 "--explain needs the users' interactions: --input (the training data) or "
                 "--new-users");
  if (st == GR_OK) st = gr_als_model_load(&m, req->model_path);
  if (st == GR_OK) st = labels_load(&labels, req, m);
  if (st == GR_OK) st = item_mask(m, items_file, req->exclude_file, req->quiet, &allowed);
  if (st == GR_OK && new_users) {
    st = recommend_new_users(ctx, req, d, m, &labels, new_users, allowed, include_seen);
    reported = st == GR_ERR_PARSE;
    goto done;
  }
  if (st == GR_OK && seen_path && (!include_seen || req->explain)) {
    seen = gr_data_read(d, seen_path, req->command);
    if (!seen) {
      st = GR_ERR_PARSE;
      reported = 1;
    }
  }
  if (st == GR_OK)
    st = select_ids(m, gr_als_model_find_user, gr_als_model_n_users(m), users, users_file, "user",
                    &ids, &n);
  if (st == GR_OK) st = results_alloc(&res, n, req->k);
  if (st == GR_OK) {
    gr_recommend_options o;
    gr_recommend_options_default(&o);
    o.k = req->k;
    o.exclude_seen = !include_seen;
    o.item_allowed = allowed;
    st = gr_als_recommend(ctx, m, ids, n, seen, &o, res.idx, res.score);
  }
  for (int32_t q = 0; st == GR_OK && q < n; q++)
    res.names[q] = gr_als_model_user_id(m, ids[q]);
  if (st == GR_OK && req->explain) {
    gr_csr history = {0};
    st = gr_history_matrix(m, seen, 0, &history);
    if (st == GR_OK) st = explain_results(&ex, ctx, req, m, &history, ids, n, res.idx);
    gr_csr_free(&history);
  }
  if (st == GR_OK)
    st = write_ranked(req, res.names, n, res.idx, res.score, m, &labels, req->explain ? &ex : NULL,
                      "user", "item");
done:
  explained_free(&ex);
  free(ids);
  results_free(&res);
  labels_free(&labels);
  free(allowed);
  gr_interactions_free(seen);
  gr_als_model_free(m);
  if (st == GR_OK) return 0;
  return reported ? 1 : gr_cli_fail(req->command, st);
}

int gr_run_similar(gr_context *ctx, const gr_ranked_request *req, const char *items,
                   const char *items_file, int include_self) {
  gr_als_model *m = NULL;
  int32_t *ids = NULL, n = 0;
  ranked_results res = {0};
  item_labels labels = {0};
  gr_status st = check_request(req);
  if (st == GR_OK) st = gr_als_model_load(&m, req->model_path);
  if (st == GR_OK) st = labels_load(&labels, req, m);
  if (st == GR_OK)
    st = select_ids(m, gr_als_model_find_item, gr_als_model_n_items(m), items, items_file, "item",
                    &ids, &n);
  if (st == GR_OK) st = results_alloc(&res, n, req->k);
  if (st == GR_OK) st = gr_als_similar(ctx, m, ids, n, req->k, include_self, res.idx, res.score);
  for (int32_t q = 0; st == GR_OK && q < n; q++)
    res.names[q] = gr_als_model_item_id(m, ids[q]);
  if (st == GR_OK)
    st = write_ranked(req, res.names, n, res.idx, res.score, m, &labels, NULL, "item",
                      "similar_item");
  free(ids);
  results_free(&res);
  labels_free(&labels);
  gr_als_model_free(m);
  return st == GR_OK ? 0 : gr_cli_fail(req->command, st);
}
