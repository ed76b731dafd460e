/* The leads model file: the container of model_io.h (kind 2) with this
 * payload, so that scoring applies exactly the transform and models fitted:
 *   params: i32 k, max_iter, n_init, balance, smote_k, logreg max_iter,
 *           encoder max_levels, prior_correction | f64 kmeans tol, C, logreg tol, max_missing,
 *           reference_day | u64 kmeans seed, smote seed
 *   encoder: i32 n_cols, n_features | f64 reference_day | per column:
 *           str name | i32 kind, action, indicator, other, offset, width,
 *           n_levels | f64 missing_rate, fill, mean, scale | level ids
 *   i32 k, d | f32 centroids (k, d) | i32 model_of (k) |
 *   i64 cluster rows (k), cluster clients (k) |
 *   per model (k + 1): u8 present | f64 w (d), b, grad_norm | i32 iterations
 *   i32 n_clients | client ids
 * Loading checks every count, offset and value before it is used. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "leads.h"
#include "model_io.h"

#define GR_LEADS_MAX_K 65536
#define GR_LEADS_MAX_NAME 65536
#define GR_LEADS_MAX_LEVELS (1 << 24) /* one-hot levels of a column */

static void put_i32(gr_model_writer *w, int32_t v) { gr_model_put(w, &v, sizeof v); }
static void put_f64(gr_model_writer *w, double v) { gr_model_put(w, &v, sizeof v); }

static void put_encoder(gr_model_writer *w, const gr_encoder *e) {
  put_i32(w, e->n_cols);
  put_i32(w, e->n_features);
  put_f64(w, e->reference_day);
  for (int c = 0; c < e->n_cols; c++) {
    const gr_enc_column *ec = &e->cols[c];
    gr_model_put_str(w, ec->name);
    const int32_t ints[7] = {ec->kind,   ec->action, ec->indicator,   ec->other,
                             ec->offset, ec->width,  ec->levels.count};
    gr_model_put(w, ints, sizeof ints);
    const double dbl[4] = {ec->missing_rate, ec->fill, ec->mean, ec->scale};
    gr_model_put(w, dbl, sizeof dbl);
    gr_model_put_ids(w, &ec->levels);
  }
}

gr_status gr_leads_model_save(const gr_leads_model *m, const char *path) {
  gr_model_writer w;
  GR_TRY(gr_model_write_begin(&w, path, GR_MODEL_KIND_LEADS));
  const gr_leads_params *p = &m->params;
  const int32_t ints[8] = {p->kmeans.k,           p->kmeans.max_iter, p->kmeans.n_init,
                           (int32_t)p->balance,   p->smote_k,         p->logreg.max_iter,
                           p->encoder.max_levels, p->prior_correction};
  const double dbl[5] = {p->kmeans.tol, p->logreg.C, p->logreg.tol, p->encoder.max_missing,
                         p->encoder.reference_day};
  const uint64_t seeds[2] = {p->kmeans.seed, p->seed};
  gr_model_put(&w, ints, sizeof ints);
  gr_model_put(&w, dbl, sizeof dbl);
  gr_model_put(&w, seeds, sizeof seeds);
  put_encoder(&w, m->enc);
  put_i32(&w, m->k);
  put_i32(&w, m->d);
  gr_model_put(&w, m->centroids, sizeof(float) * (size_t)m->k * m->d);
  gr_model_put(&w, m->model_of, sizeof(int32_t) * (size_t)m->k);
  gr_model_put(&w, m->cluster_rows, sizeof(int64_t) * (size_t)m->k);
  gr_model_put(&w, m->cluster_clients, sizeof(int64_t) * (size_t)m->k);
  for (int c = 0; c <= m->k; c++) {
    const gr_logreg_model *lm = &m->models[c];
    const uint8_t present = lm->w != NULL;
    gr_model_put(&w, &present, 1);
    if (!present) continue;
    gr_model_put(&w, lm->w, sizeof(double) * (size_t)m->d);
    put_f64(&w, lm->b);
    put_f64(&w, lm->grad_norm);
    put_i32(&w, lm->iterations);
  }
  put_i32(&w, m->clients.count);
  gr_model_put_ids(&w, &m->clients);
  return gr_model_write_end(&w);
}

/* ---- loading -------------------------------------------------------------- */

static gr_status bad(const gr_model_reader *r, const char *what) {
  return gr_fail(GR_ERR_FORMAT, "%s: corrupt leads model (%s)", r->path, what);
}

static gr_status take_encoder(gr_model_reader *r, gr_encoder **out) {
  int32_t head[2];
  double ref;
  GR_TRY(gr_model_take(r, head, sizeof head, "encoder"));
  GR_TRY(gr_model_take(r, &ref, sizeof ref, "encoder"));
  /* every column takes at least 64 bytes, which bounds n_cols by the file */
  if (head[0] < 1 || (size_t)head[0] > (r->len - r->pos) / 64 || head[1] < 1 || !isfinite(ref))
    return bad(r, "encoder sizes");
  gr_encoder *e = calloc(1, sizeof *e);
  if (!e || !(e->cols = calloc((size_t)head[0], sizeof *e->cols))) {
    free(e);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the encoder");
  }
  e->n_cols = head[0];
  e->reference_day = ref;
  for (int c = 0; c < e->n_cols; c++)
    gr_id_map_init(&e->cols[c].levels);
  gr_status st = GR_OK;
  int64_t next = 0; /* features are laid out column after column */
  for (int c = 0; c < e->n_cols && st == GR_OK; c++) {
    gr_enc_column *ec = &e->cols[c];
    int32_t ints[7];
    double dbl[4];
    st = gr_model_take_str(r, &ec->name, GR_LEADS_MAX_NAME, "column name");
    if (st == GR_OK) st = gr_model_take(r, ints, sizeof ints, "encoder column");
    if (st == GR_OK) st = gr_model_take(r, dbl, sizeof dbl, "encoder column");
    if (st != GR_OK) break;
    ec->kind = (gr_col_kind)ints[0];
    ec->action = (gr_enc_action)ints[1];
    ec->indicator = ints[2];
    ec->other = ints[3];
    ec->offset = ints[4];
    ec->width = ints[5];
    ec->missing_rate = dbl[0];
    ec->fill = dbl[1];
    ec->mean = dbl[2];
    ec->scale = dbl[3];
    const int encoded = ec->action == GR_ENC_NUMERIC || ec->action == GR_ENC_ONE_HOT;
    if (ints[0] < GR_COL_SKIP || ints[0] > GR_COL_CATEGORY || ints[1] < GR_ENC_SKIP ||
        ints[1] > GR_ENC_ONE_HOT || (ints[2] | ints[3]) & ~1 || ints[6] < 0 ||
        ints[6] > GR_LEADS_MAX_LEVELS || ints[5] < 0 || ints[5] > GR_LEADS_MAX_LEVELS + 2)
      st = bad(r, "column kind or action");
    else if (ec->action == GR_ENC_NUMERIC &&
             (!isfinite(dbl[1]) || !isfinite(dbl[2]) || !(dbl[3] > 0) || !isfinite(dbl[3])))
      st = bad(r, "column statistics");
    else if (encoded ? ec->offset != next || ec->width < 1 : ec->width != 0)
      st = bad(r, "feature layout");
    else if (ec->action == GR_ENC_NUMERIC &&
             (ec->kind == GR_COL_CATEGORY || ec->width != 1 + ec->indicator))
      st = bad(r, "numeric column");
    else if (ec->action == GR_ENC_ONE_HOT &&
             (ec->kind != GR_COL_CATEGORY || ec->width != ints[6] + ec->other + ec->indicator))
      st = bad(r, "one-hot column");
    if (st == GR_OK) st = gr_model_take_ids(r, &ec->levels, ints[6], "category level");
    if (encoded) next += ec->width;
  }
  if (st == GR_OK && next != head[1]) st = bad(r, "feature count");
  e->n_features = head[1];
  if (st != GR_OK) {
    gr_encoder_free(e);
    return st;
  }
  *out = e;
  return GR_OK;
}

static gr_status take_models(gr_model_reader *r, gr_leads_model *m) {
  const int k = m->k, d = m->d;
  GR_TRY(gr_model_take(r, m->centroids, sizeof(float) * (size_t)k * d, "centroids"));
  GR_TRY(gr_model_take(r, m->model_of, sizeof(int32_t) * (size_t)k, "cluster models"));
  GR_TRY(gr_model_take(r, m->cluster_rows, sizeof(int64_t) * (size_t)k, "cluster sizes"));
  GR_TRY(gr_model_take(r, m->cluster_clients, sizeof(int64_t) * (size_t)k, "cluster sizes"));
  for (size_t i = 0; i < (size_t)k * d; i++)
    if (!isfinite(m->centroids[i])) return bad(r, "non-finite centroid");
  for (int c = 0; c <= k; c++) {
    uint8_t present;
    GR_TRY(gr_model_take(r, &present, 1, "model flag"));
    if (present > 1) return bad(r, "model flag");
    if (!present) continue;
    gr_logreg_model *lm = &m->models[c];
    if (sizeof(double) * (size_t)d > r->len - r->pos) return bad(r, "coefficients");
    lm->w = malloc(sizeof(double) * (size_t)d);
    if (!lm->w) return gr_fail(GR_ERR_NOMEM, "cannot allocate coefficients");
    lm->d = d;
    GR_TRY(gr_model_take(r, lm->w, sizeof(double) * (size_t)d, "coefficients"));
    GR_TRY(gr_model_take(r, &lm->b, sizeof lm->b, "intercept"));
    GR_TRY(gr_model_take(r, &lm->grad_norm, sizeof lm->grad_norm, "model"));
    GR_TRY(gr_model_take(r, &lm->iterations, sizeof lm->iterations, "model"));
    for (int j = 0; j < d; j++)
      if (!isfinite(lm->w[j])) return bad(r, "non-finite coefficient");
    if (!isfinite(lm->b)) return bad(r, "non-finite intercept");
  }
  for (int c = 0; c < k; c++)
    if ((m->model_of[c] != c && m->model_of[c] != k) || !m->models[m->model_of[c]].w ||
        m->cluster_rows[c] < 0 || m->cluster_clients[c] < 0 ||
        m->cluster_clients[c] > m->cluster_rows[c])
      return bad(r, "cluster table");
  return GR_OK;
}

static gr_status parse(gr_model_reader *r, gr_leads_model *m) {
  gr_leads_params *p = &m->params;
  gr_leads_params_default(p);
  int32_t ints[8];
  double dbl[5];
  uint64_t seeds[2];
  GR_TRY(gr_model_take(r, ints, sizeof ints, "parameters"));
  GR_TRY(gr_model_take(r, dbl, sizeof dbl, "parameters"));
  GR_TRY(gr_model_take(r, seeds, sizeof seeds, "parameters"));
  p->kmeans.k = ints[0];
  p->kmeans.max_iter = ints[1];
  p->kmeans.n_init = ints[2];
  p->balance = (gr_balance)ints[3];
  p->smote_k = ints[4];
  p->logreg.max_iter = ints[5];
  p->encoder.max_levels = ints[6];
  p->prior_correction = ints[7];
  p->kmeans.tol = dbl[0];
  p->logreg.C = dbl[1];
  p->logreg.tol = dbl[2];
  p->encoder.max_missing = dbl[3];
  p->encoder.reference_day = dbl[4];
  p->kmeans.seed = seeds[0];
  p->seed = seeds[1];
  if (ints[3] < 0 || ints[3] > GR_BALANCE_NONE || (ints[7] & ~1) || !(p->logreg.C > 0))
    return bad(r, "parameters");
  GR_TRY(take_encoder(r, &m->enc));
  int32_t kd[2];
  GR_TRY(gr_model_take(r, kd, sizeof kd, "sizes"));
  if (kd[0] < 1 || kd[0] > GR_LEADS_MAX_K || kd[1] != m->enc->n_features ||
      (size_t)kd[0] * (size_t)kd[1] * sizeof(float) > r->len - r->pos)
    return bad(r, "cluster count or feature count");
  m->k = kd[0];
  m->d = kd[1];
  m->centroids = malloc(sizeof(float) * (size_t)m->k * m->d);
  m->models = calloc((size_t)m->k + 1, sizeof *m->models);
  m->model_of = malloc(sizeof(int32_t) * (size_t)m->k);
  m->cluster_rows = malloc(sizeof(int64_t) * (size_t)m->k);
  m->cluster_clients = malloc(sizeof(int64_t) * (size_t)m->k);
  if (!m->centroids || !m->models || !m->model_of || !m->cluster_rows || !m->cluster_clients)
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the leads model");
  GR_TRY(take_models(r, m));
  int32_t n_clients;
  GR_TRY(gr_model_take(r, &n_clients, sizeof n_clients, "client count"));
  if (n_clients < 0) return bad(r, "client count");
  GR_TRY(gr_model_take_ids(r, &m->clients, n_clients, "client id"));
  return gr_model_read_end(r);
}

gr_status gr_leads_model_load_mem(gr_leads_model **out, const char *name, const void *data,
                                  size_t len) {
  gr_model_reader r;
  GR_TRY(gr_model_read_begin(&r, data, len, name, GR_MODEL_KIND_LEADS, "a leads model"));
  gr_leads_model *m = calloc(1, sizeof *m);
  if (!m) return gr_fail(GR_ERR_NOMEM, "cannot allocate the leads model");
  gr_id_map_init(&m->clients);
  gr_status st = parse(&r, m);
  if (st != GR_OK) {
    gr_leads_model_free(m);
    return st;
  }
  *out = m;
  return GR_OK;
}

gr_status gr_leads_model_load(gr_leads_model **out, const char *path) {
  uint8_t *buf = NULL;
  size_t len = 0;
  GR_TRY(gr_read_file(path, &buf, &len));
  gr_status st = gr_leads_model_load_mem(out, path, buf, len);
  free(buf);
  return st;
}
