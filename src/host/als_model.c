/* ALS model storage, accessors and id lookup. */
#include "als_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/aligned.h"
#include "../common/error.h"
#include "interactions.h"
#include "kernels/cpu/cpu_ops.h"

#define GR_MAX_FACTORS 1024

void gr_als_params_default(gr_als_params *p) {
  memset(p, 0, sizeof *p);
  p->factors = 64;
  p->regularization = 0.01f;
  p->alpha = 1.0f;
  p->confidence_offset = 0.0f;
  p->log_epsilon = 0.0f;
  p->iterations = 15;
  p->solver = GR_SOLVER_CG;
  p->cg_steps = 3;
  p->random_state = 42;
}

gr_status gr_als_params_validate(const gr_als_params *p) {
  if (p->factors < 1 || p->factors > GR_MAX_FACTORS)
    return gr_fail(GR_ERR_INVALID_ARG, "--factors must be in 1..%d, got %d", GR_MAX_FACTORS,
                   p->factors);
  if (!isfinite(p->regularization) || p->regularization < 0)
    return gr_fail(GR_ERR_INVALID_ARG, "--regularization must be a finite number >= 0");
  if (!isfinite(p->alpha) || p->alpha <= 0)
    return gr_fail(GR_ERR_INVALID_ARG, "--alpha must be a finite number > 0");
  if (!isfinite(p->confidence_offset) || p->confidence_offset < 0)
    return gr_fail(GR_ERR_INVALID_ARG, "--confidence-offset must be a finite number >= 0");
  if (!isfinite(p->log_epsilon) || p->log_epsilon < 0)
    return gr_fail(GR_ERR_INVALID_ARG,
                   "log_epsilon must be a finite number >= 0 (0: linear confidence)");
  if (p->iterations < 0 || p->iterations > 100000)
    return gr_fail(GR_ERR_INVALID_ARG, "--iterations must be in 0..100000");
  if (p->solver != GR_SOLVER_CG && p->solver != GR_SOLVER_CHOLESKY)
    return gr_fail(GR_ERR_INVALID_ARG, "unknown solver");
  if (p->cg_steps < 1 || p->cg_steps > 1000)
    return gr_fail(GR_ERR_INVALID_ARG, "--cg-steps must be in 1..1000");
  return GR_OK;
}

gr_status gr_als_model_alloc(gr_als_model **out, const gr_als_params *p, int32_t n_users,
                             int32_t n_items) {
  gr_als_model *m = calloc(1, sizeof *m);
  if (!m) return gr_fail(GR_ERR_NOMEM, "cannot allocate a model");
  m->params = *p;
  m->n_users = n_users;
  m->n_items = n_items;
  const size_t k = (size_t)p->factors;
  /* cache-line aligned rows (a 128-factor row spans two lines, not three) */
  m->user_factors = gr_alloc_aligned(sizeof(float) * (size_t)n_users * k);
  m->item_factors = gr_alloc_aligned(sizeof(float) * (size_t)n_items * k);
  m->yty_reg = gr_alloc_aligned(sizeof(float) * k * k);
  gr_id_map_init(&m->users);
  gr_id_map_init(&m->items);
  if (!m->user_factors || !m->item_factors || !m->yty_reg) {
    gr_als_model_free(m);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate factors for %d users and %d items", n_users,
                   n_items);
  }
  *out = m;
  return GR_OK;
}

void gr_als_model_free(gr_als_model *m) {
  if (!m) return;
  gr_id_map_free(&m->users);
  gr_id_map_free(&m->items);
  free(m->user_factors);
  free(m->item_factors);
  free(m->yty_reg);
  free(m);
}

gr_status gr_als_model_update_gram(gr_als_model *m) {
  gr_backend *cpu;
  GR_TRY(gr_backend_cpu_create(&cpu, 0));
  gr_status st = gr_cpu_gram(cpu, m->yty_reg, m->item_factors, m->n_items, m->params.factors,
                             m->params.regularization);
  cpu->ops->destroy(cpu);
  return st;
}

int32_t gr_als_model_n_users(const gr_als_model *m) { return m->n_users; }
int32_t gr_als_model_n_items(const gr_als_model *m) { return m->n_items; }
int gr_als_model_factors(const gr_als_model *m) { return m->params.factors; }
int gr_als_model_iterations_done(const gr_als_model *m) { return m->iterations_done; }
const gr_als_params *gr_als_model_params(const gr_als_model *m) { return &m->params; }
const float *gr_als_model_user_factors(const gr_als_model *m) { return m->user_factors; }
const float *gr_als_model_item_factors(const gr_als_model *m) { return m->item_factors; }

const char *gr_als_model_user_id(const gr_als_model *m, int32_t i) {
  return i >= 0 && i < m->n_users ? gr_id_map_get(&m->users, i) : NULL;
}
const char *gr_als_model_item_id(const gr_als_model *m, int32_t i) {
  return i >= 0 && i < m->n_items ? gr_id_map_get(&m->items, i) : NULL;
}
int32_t gr_als_model_find_user(const gr_als_model *m, const char *id) {
  return gr_id_map_find(&m->users, id, strlen(id));
}
int32_t gr_als_model_find_item(const gr_als_model *m, const char *id) {
  return gr_id_map_find(&m->items, id, strlen(id));
}

/* Translates one id map into another's indices. */
static gr_status translate(const gr_id_map *from, const gr_id_map *to, int32_t **out) {
  int32_t *t = malloc(sizeof(int32_t) * (size_t)(from->count ? from->count : 1));
  if (!t) return gr_fail(GR_ERR_NOMEM, "cannot allocate an id translation");
  for (int32_t i = 0; i < from->count; i++) {
    const char *s = gr_id_map_get(from, i);
    t[i] = gr_id_map_find(to, s, strlen(s));
  }
  *out = t;
  return GR_OK;
}

gr_status gr_als_model_index(const gr_als_model *m, const gr_interactions *x, int32_t **users,
                             int32_t **items, int64_t *n_unknown) {
  int32_t *tu = NULL, *ti = NULL;
  int32_t *u = malloc(sizeof(int32_t) * (size_t)(x->n ? x->n : 1));
  int32_t *it = malloc(sizeof(int32_t) * (size_t)(x->n ? x->n : 1));
  gr_status st = (u && it) ? GR_OK : gr_fail(GR_ERR_NOMEM, "cannot allocate index arrays");
  if (st == GR_OK) st = translate(&x->users, &m->users, &tu);
  if (st == GR_OK) st = translate(&x->items, &m->items, &ti);
  if (st != GR_OK) {
    free(u);
    free(it);
    free(tu);
    free(ti);
    return st;
  }
  int64_t unknown = 0;
  for (int64_t e = 0; e < x->n; e++) {
    u[e] = tu[x->user[e]];
    it[e] = ti[x->item[e]];
    unknown += u[e] < 0 || it[e] < 0;
  }
  free(tu);
  free(ti);
  *users = u;
  *items = it;
  if (n_unknown) *n_unknown = unknown;
  return GR_OK;
}

void gr_als_confidences(gr_csr *m, const gr_als_params *p) {
  if (p->log_epsilon > 0) {
    const double inv = 1.0 / p->log_epsilon;
    for (int64_t e = 0; e < m->nnz; e++)
      m->data[e] = (float)(p->confidence_offset + p->alpha * log1p(m->data[e] * inv));
    return;
  }
  gr_csr_affine(m, p->confidence_offset, p->alpha);
}

gr_status gr_als_history_row(const gr_als_model *m, const int32_t *items, const float *weights,
                             int32_t n, gr_csr *row) {
  for (int32_t e = 0; e < n; e++) {
    if (items[e] < 0 || items[e] >= m->n_items)
      return gr_fail(GR_ERR_INVALID_ARG, "item index %d is outside the model", items[e]);
    if (!isfinite(weights[e]) || weights[e] <= 0)
      return gr_fail(GR_ERR_INVALID_ARG, "weight %g of item %d is not a finite number > 0",
                     (double)weights[e], items[e]);
  }
  GR_TRY(gr_csr_one_row(row, m->n_items, items, weights, n));
  gr_als_confidences(row, &m->params);
  return GR_OK;
}
