/* The ALS model file: the container of model_io.h with this payload:
 *   params: i32 factors, i32 iterations, i32 solver, i32 cg_steps,
 *           f32 regularization, f32 alpha, f32 confidence_offset,
 *           f32 log_epsilon (version 3 on; 0 in version 2), u64 random_state
 *   i32 n_users | i32 n_items | i32 iterations done
 *   user ids | item ids (id tables)
 *   f32 user factors (n_users, factors) | f32 item factors (n_items, factors)
 * Loading bounds-checks every field before trusting it. */
#include <math.h>
#include <stdlib.h>

#include "../common/error.h"
#include "als_model.h"
#include "model_io.h"

gr_status gr_als_model_save(const gr_als_model *m, const char *path) {
  gr_model_writer w;
  GR_TRY(gr_model_write_begin(&w, path, GR_MODEL_KIND_ALS));
  const gr_als_params *p = &m->params;
  const int32_t ints[4] = {p->factors, p->iterations, (int32_t)p->solver, p->cg_steps};
  const float floats[4] = {p->regularization, p->alpha, p->confidence_offset, p->log_epsilon};
  gr_model_put(&w, ints, sizeof ints);
  gr_model_put(&w, floats, sizeof floats);
  gr_model_put(&w, &p->random_state, sizeof p->random_state);
  const int32_t counts[3] = {m->n_users, m->n_items, m->iterations_done};
  gr_model_put(&w, counts, sizeof counts);
  gr_model_put_ids(&w, &m->users);
  gr_model_put_ids(&w, &m->items);
  const size_t k = (size_t)p->factors;
  gr_model_put(&w, m->user_factors, sizeof(float) * (size_t)m->n_users * k);
  gr_model_put(&w, m->item_factors, sizeof(float) * (size_t)m->n_items * k);
  return gr_model_write_end(&w);
}

static gr_status check_finite(const gr_model_reader *r, const float *x, size_t n,
                              const char *what) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return gr_fail(GR_ERR_FORMAT, "%s: non-finite %s", r->path, what);
  return GR_OK;
}

static gr_status parse_model(gr_model_reader *r, gr_als_model **out) {
  gr_als_params p;
  int32_t ints[4];
  float floats[4] = {0};
  int32_t counts[3];
  GR_TRY(gr_model_take(r, ints, sizeof ints, "parameters"));
  GR_TRY(gr_model_take(r, floats, sizeof(float) * (r->version >= 3 ? 4 : 3), "parameters"));
  GR_TRY(gr_model_take(r, &p.random_state, sizeof p.random_state, "parameters"));
  GR_TRY(gr_model_take(r, counts, sizeof counts, "sizes"));
  p.factors = ints[0];
  p.iterations = ints[1];
  p.solver = (gr_als_solver)ints[2];
  p.cg_steps = ints[3];
  p.regularization = floats[0];
  p.alpha = floats[1];
  p.confidence_offset = floats[2];
  p.log_epsilon = floats[3];
  p.calc_loss = 0;
  if (gr_als_params_validate(&p) != GR_OK)
    return gr_fail_context(GR_ERR_FORMAT, "%s: invalid parameters in the model", r->path);
  if (counts[0] < 0 || counts[1] < 0 || counts[2] < 0 || counts[2] > p.iterations)
    return gr_fail(GR_ERR_FORMAT, "%s: invalid sizes in the model", r->path);
  const size_t k = (size_t)p.factors;
  const size_t factor_bytes = sizeof(float) * ((size_t)counts[0] + (size_t)counts[1]) * k;
  if (factor_bytes > r->len)
    return gr_fail(GR_ERR_FORMAT, "%s: sizes exceed the file (truncated?)", r->path);
  gr_als_model *m;
  GR_TRY(gr_als_model_alloc(&m, &p, counts[0], counts[1]));
  m->iterations_done = counts[2];
  gr_status st = gr_model_take_ids(r, &m->users, counts[0], "user id");
  if (st == GR_OK) st = gr_model_take_ids(r, &m->items, counts[1], "item id");
  if (st == GR_OK)
    st = gr_model_take(r, m->user_factors, sizeof(float) * (size_t)counts[0] * k, "user factors");
  if (st == GR_OK)
    st = gr_model_take(r, m->item_factors, sizeof(float) * (size_t)counts[1] * k, "item factors");
  if (st == GR_OK) st = gr_model_read_end(r);
  if (st == GR_OK) st = check_finite(r, m->user_factors, (size_t)counts[0] * k, "user factor");
  if (st == GR_OK) st = check_finite(r, m->item_factors, (size_t)counts[1] * k, "item factor");
  if (st == GR_OK) st = gr_als_model_update_gram(m);
  if (st != GR_OK) {
    gr_als_model_free(m);
    return st;
  }
  *out = m;
  return GR_OK;
}

gr_status gr_als_model_load_mem(gr_als_model **out, const char *name, const void *data,
                                size_t len) {
  gr_model_reader r;
  GR_TRY(gr_model_read_begin(&r, data, len, name, GR_MODEL_KIND_ALS, "an ALS model"));
  return parse_model(&r, out);
}

gr_status gr_als_model_load(gr_als_model **out, const char *path) {
  uint8_t *buf = NULL;
  size_t len = 0;
  GR_TRY(gr_read_file(path, &buf, &len));
  gr_status st = gr_als_model_load_mem(out, path, buf, len);
  free(buf);
  return st;
}
