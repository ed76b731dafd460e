/* ALS training, backend-agnostic: the interaction matrix is staged once in
 * both orientations (users x items and items x users), the factors stay in
 * backend memory across iterations, and only per-row squared norms come
 * back each iteration, to catch NaN/inf early and name the row. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "als_model.h"
#include "context.h"
#include "csr.h"
#include "interactions.h"
#include "output_file.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct fit_state {
  gr_backend *be;
  int k;
  float *X, *Y, *G;  /* backend memory: (n_users, k), (n_items, k), (k, k) */
  float *norms_dev;  /* backend memory: (max(n_users, n_items)) */
  float *norms_host; /* host: (max(n_users, n_items)) */
  gr_staged_csr cui, ciu;
} fit_state;

/* Fails with the first row whose factors are not finite (or so large that
 * their squared norm overflows float), naming its id. */
static gr_status check_finite(fit_state *s, const float *F, int64_t n, const char *what,
                              const gr_id_map *ids, int iteration) {
  gr_backend *be = s->be;
  GR_TRY(be->ops->row_sq_norms(be, s->norms_dev, F, n, s->k));
  const float *norms = s->norms_dev;
  if (!be->host_memory) {
    GR_TRY(be->ops->download(be, s->norms_host, s->norms_dev, sizeof(float) * (size_t)n));
    norms = s->norms_host;
  }
  for (int64_t r = 0; r < n; r++) {
    if (!isfinite(norms[r]))
      return gr_fail(GR_ERR_NUMERIC,
                     "iteration %d: the factors of %s '%.100s' (row %lld) are not finite (NaN, "
                     "inf, or too large to square in float); lower --alpha, raise "
                     "--regularization, or check the weights",
                     iteration, what, r < ids->count ? gr_id_map_get(ids, (int32_t)r) : "?",
                     (long long)r);
  }
  return GR_OK;
}

/* One half-iteration: the rows of `what` (users or items) solved against
 * the fixed side; a failure names the iteration and the side. */
static gr_status solve_side(fit_state *s, const gr_als_params *p, float *target,
                            const gr_csr_view *m, const float *fixed, int64_t n_fixed,
                            int iteration, const char *what) {
  gr_backend *be = s->be;
  gr_status st = be->ops->gram(be, s->G, fixed, n_fixed, s->k, p->regularization);
  if (st == GR_OK)
    st = p->solver == GR_SOLVER_CHOLESKY
             ? be->ops->als_solve_cholesky(be, target, m, fixed, s->G, s->k)
             : be->ops->als_solve_cg(be, target, m, fixed, s->G, s->k, p->cg_steps);
  if (st == GR_OK || st == GR_ERR_NOMEM) return st; /* memory errors say what to change */
  char why[900];
  snprintf(why, sizeof why, "%s", gr_last_error());
  return gr_fail(st, "iteration %d, solving the %s factors: %s", iteration, what, why);
}

/* The `implicit` package's normalized loss. */
static gr_status training_loss(fit_state *s, const gr_als_params *p, int64_t n_users,
                               int64_t n_items, double *loss) {
  gr_backend *be = s->be;
  double terms[3];
  GR_TRY(be->ops->gram(be, s->G, s->Y, n_items, s->k, 0.0f));
  GR_TRY(be->ops->als_loss_terms(be, terms, &s->cui.view, s->X, s->Y, s->G, s->k));
  GR_TRY(be->ops->row_sq_norms(be, s->norms_dev, s->Y, n_items, s->k));
  const float *norms = s->norms_dev;
  if (!be->host_memory) {
    GR_TRY(be->ops->download(be, s->norms_host, s->norms_dev, sizeof(float) * (size_t)n_items));
    norms = s->norms_host;
  }
  double item_norm = 0.0;
  for (int64_t i = 0; i < n_items; i++)
    item_norm += norms[i];
  const double denom = terms[1] + (double)n_users * (double)n_items - (double)s->cui.view.nnz;
  *loss = (terms[0] + p->regularization * (terms[2] + item_norm)) / (denom > 0 ? denom : 1.0);
  return GR_OK;
}

static void fit_state_release(fit_state *s, gr_als_model *m) {
  gr_backend *be = s->be;
  gr_unstage_csr(be, &s->cui);
  gr_unstage_csr(be, &s->ciu);
  gr_unstage(be, s->X, m ? m->user_factors : NULL);
  gr_unstage(be, s->Y, m ? m->item_factors : NULL);
  if (s->G) be->ops->mem_free(be, s->G);
  if (s->norms_dev) be->ops->mem_free(be, s->norms_dev);
  free(s->norms_host);
}

void gr_als_train_options_default(gr_als_train_options *o) {
  memset(o, 0, sizeof *o);
  o->checkpoint_every = 1;
}

/* Items of m whose id w knows take w's factors (same factor count). Only
 * the items: each iteration first solves every user from the item factors,
 * so starting user factors would never be read. */
static void warm_start(gr_als_model *m, const gr_als_model *w) {
  const size_t k = (size_t)m->params.factors;
  for (int32_t i = 0; i < m->items.count; i++) {
    const char *id = gr_id_map_get(&m->items, i);
    const int32_t j = gr_id_map_find(&w->items, id, strlen(id));
    if (j >= 0)
      memcpy(m->item_factors + (size_t)i * k, w->item_factors + (size_t)j * k, sizeof(float) * k);
  }
}

/* A checkpoint must continue the same problem: same ids in the same order,
 * and parameters that shape the factors. */
static gr_status check_resumable(const gr_als_model *r, const gr_als_params *p,
                                 const gr_interactions *data) {
  if (r->params.factors != p->factors)
    return gr_fail(GR_ERR_INVALID_ARG, "the checkpoint has %d factors, training asks for %d",
                   r->params.factors, p->factors);
  if (r->iterations_done > p->iterations)
    return gr_fail(GR_ERR_INVALID_ARG, "the checkpoint has done %d iterations, more than %d",
                   r->iterations_done, p->iterations);
  /* the rest of the objective and the solver: else the result is no longer
   * the uninterrupted run's */
  const gr_als_params *q = &r->params;
  const char *differs = q->regularization != p->regularization         ? "regularization"
                        : q->alpha != p->alpha                         ? "alpha"
                        : q->confidence_offset != p->confidence_offset ? "confidence offset"
                        : q->log_epsilon != p->log_epsilon             ? "confidence (log epsilon)"
                        : q->solver != p->solver                       ? "solver"
                        : q->cg_steps != p->cg_steps                   ? "cg steps"
                        : q->random_state != p->random_state           ? "random state"
                                                                       : NULL;
  if (differs)
    return gr_fail(GR_ERR_INVALID_ARG,
                   "the checkpoint was trained with another %s: resume with the same flags",
                   differs);
  const gr_id_map *mine[2] = {&r->users, &r->items}, *theirs[2] = {&data->users, &data->items};
  for (int side = 0; side < 2; side++) {
    int same = mine[side]->count == theirs[side]->count;
    for (int32_t i = 0; same && i < mine[side]->count; i++)
      same = strcmp(gr_id_map_get(mine[side], i), gr_id_map_get(theirs[side], i)) == 0;
    if (!same)
      return gr_fail(GR_ERR_INVALID_ARG,
                     "the checkpoint was trained on other %s ids (or another order): resume "
                     "with the same input file",
                     side ? "item" : "user");
  }
  return GR_OK;
}

/* Copies the current factors into the model and writes it. */
static gr_status write_checkpoint(fit_state *s, gr_als_model *m, int iterations_done,
                                  const char *path) {
  gr_backend *be = s->be;
  const size_t k = (size_t)s->k;
  if (!be->host_memory) {
    GR_TRY(be->ops->download(be, m->user_factors, s->X, sizeof(float) * m->n_users * k));
    GR_TRY(be->ops->download(be, m->item_factors, s->Y, sizeof(float) * m->n_items * k));
  }
  m->iterations_done = iterations_done;
  gr_output_at_once_begin(); /* an interrupted fit resumes from it: it lands now */
  const gr_status st = gr_als_model_save(m, path);
  gr_output_at_once_end();
  return st;
}

/* Reports an iteration; @return non-zero when training should stop. */
static int progress_stop(const gr_als_train_options *o, int it, double seconds, double loss) {
  int stop = o->progress ? o->progress(it, seconds, loss, o->progress_user) : 0;
  return stop || (o->stop && *o->stop);
}

gr_status gr_als_fit(gr_context *ctx, const gr_als_params *params, const gr_interactions *data,
                     gr_als_progress_fn progress, void *progress_user, gr_als_model **out) {
  gr_als_train_options o;
  gr_als_train_options_default(&o);
  o.progress = progress;
  o.progress_user = progress_user;
  return gr_als_train(ctx, params, data, &o, out);
}

gr_status gr_als_train(gr_context *ctx, const gr_als_params *params, const gr_interactions *data,
                       const gr_als_train_options *opts, gr_als_model **out) {
  gr_als_train_options defaults;
  if (!opts) {
    gr_als_train_options_default(&defaults);
    opts = &defaults;
  }
  gr_als_params p;
  if (params) {
    p = *params;
  } else {
    gr_als_params_default(&p);
  }
  GR_TRY(gr_als_params_validate(&p));
  if (!data || data->n == 0) return gr_fail(GR_ERR_INVALID_ARG, "no interactions to train on");
  if (opts->checkpoint_every < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "checkpoint_every must be >= 1");
  if (opts->resume) GR_TRY(check_resumable(opts->resume, &p, data));
  if (opts->warm_start && opts->resume)
    return gr_fail(GR_ERR_INVALID_ARG, "a warm start and a resume cannot be combined");
  if (opts->warm_start && opts->warm_start->params.factors != p.factors)
    return gr_fail(GR_ERR_INVALID_ARG, "the warm-start model has %d factors, training asks for %d",
                   opts->warm_start->params.factors, p.factors);
  const int32_t n_users = data->users.count, n_items = data->items.count;
  const int k = p.factors;

  gr_als_model *m = NULL;
  gr_csr cui = {0}, ciu = {0};
  fit_state s = {0};
  s.be = ctx->be;
  s.k = k;
  gr_status st;
  GR_CHECK_GOTO(st, gr_als_model_alloc(&m, &p, n_users, n_items), done);
  GR_CHECK_GOTO(st, gr_id_map_copy(&m->users, &data->users), done);
  GR_CHECK_GOTO(st, gr_id_map_copy(&m->items, &data->items), done);

  /* confidences (gr_als_confidences), duplicates summed first */
  GR_CHECK_GOTO(
      st, gr_csr_from_coo(&cui, n_users, n_items, data->user, data->item, data->weight, data->n),
      done);
  gr_als_confidences(&cui, &p);
  GR_CHECK_GOTO(st, gr_csr_transpose(&ciu, &cui), done);

  int first = 1;
  if (opts->resume) {
    const size_t k_sz = (size_t)k;
    memcpy(m->user_factors, opts->resume->user_factors, sizeof(float) * n_users * k_sz);
    memcpy(m->item_factors, opts->resume->item_factors, sizeof(float) * n_items * k_sz);
    first = opts->resume->iterations_done + 1;
  } else {
    /* initial factors: uniform [0, 0.01), users then items, from one seed */
    gr_rng rng;
    gr_rng_seed(&rng, p.random_state);
    for (size_t i = 0; i < (size_t)n_users * k; i++)
      m->user_factors[i] = (float)(gr_rng_uniform(&rng) * 0.01);
    for (size_t i = 0; i < (size_t)n_items * k; i++)
      m->item_factors[i] = (float)(gr_rng_uniform(&rng) * 0.01);
    if (opts->warm_start) warm_start(m, opts->warm_start);
  }
  m->iterations_done = first - 1;

  gr_backend *be = ctx->be;
  const int64_t n_max = n_users > n_items ? n_users : n_items;
  gr_csr_view vui = gr_csr_view_of(&cui), viu = gr_csr_view_of(&ciu);
  GR_CHECK_GOTO(st, gr_stage_csr(be, &s.cui, &vui), done);
  GR_CHECK_GOTO(st, gr_stage_csr(be, &s.ciu, &viu), done);
  GR_CHECK_GOTO(
      st, gr_stage(be, (void **)&s.X, m->user_factors, sizeof(float) * (size_t)n_users * k), done);
  GR_CHECK_GOTO(
      st, gr_stage(be, (void **)&s.Y, m->item_factors, sizeof(float) * (size_t)n_items * k), done);
  GR_CHECK_GOTO(st, be->ops->mem_alloc(be, (void **)&s.G, sizeof(float) * (size_t)k * k), done);
  GR_CHECK_GOTO(st, be->ops->mem_alloc(be, (void **)&s.norms_dev, sizeof(float) * (size_t)n_max),
                done);
  s.norms_host = malloc(sizeof(float) * (size_t)n_max);
  if (!s.norms_host) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate norm buffer");
    goto done;
  }

  for (int it = first; it <= p.iterations; it++) {
    const double t0 = now_seconds();
    GR_CHECK_GOTO(st, solve_side(&s, &p, s.X, &s.cui.view, s.Y, n_items, it, "user"), done);
    GR_CHECK_GOTO(st, solve_side(&s, &p, s.Y, &s.ciu.view, s.X, n_users, it, "item"), done);
    GR_CHECK_GOTO(st, be->ops->sync(be), done);
    const double seconds = now_seconds() - t0;
    GR_CHECK_GOTO(st, check_finite(&s, s.X, n_users, "user", &m->users, it), done);
    GR_CHECK_GOTO(st, check_finite(&s, s.Y, n_items, "item", &m->items, it), done);
    m->iterations_done = it;
    double loss = NAN;
    if (p.calc_loss) GR_CHECK_GOTO(st, training_loss(&s, &p, n_users, n_items, &loss), done);
    const int stop_asked = progress_stop(opts, it, seconds, loss);
    if (opts->checkpoint_path && it < p.iterations &&
        (stop_asked || it % opts->checkpoint_every == 0))
      GR_CHECK_GOTO(st, write_checkpoint(&s, m, it, opts->checkpoint_path), done);
    if (stop_asked && it < p.iterations) {
      st = gr_fail(GR_ERR_INTERRUPTED, "training stopped after iteration %d of %d%s%s", it,
                   p.iterations, opts->checkpoint_path ? "; checkpoint written to " : "",
                   opts->checkpoint_path ? opts->checkpoint_path : "");
      goto done;
    }
  }
  if (!be->host_memory) {
    GR_CHECK_GOTO(
        st, be->ops->download(be, m->user_factors, s.X, sizeof(float) * (size_t)n_users * k), done);
    GR_CHECK_GOTO(
        st, be->ops->download(be, m->item_factors, s.Y, sizeof(float) * (size_t)n_items * k), done);
  }
  GR_CHECK_GOTO(st, gr_als_model_update_gram(m), done);

done:
  fit_state_release(&s, m);
  gr_csr_free(&cui);
  gr_csr_free(&ciu);
  if (st != GR_OK) {
    gr_als_model_free(m);
    return st;
  }
  *out = m;
  return GR_OK;
}
