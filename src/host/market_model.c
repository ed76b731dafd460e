/* Samplers for the market columns and the planted segment structure.
 * Tilts are calibrated against the sample's marginals: a category's level
 * weights per segment are p_l * a_l * exp(tilt * z_sl), with a_l fitted by
 * iterative proportional fitting so that the segments' mixture gives p_l
 * back; a group's presence per segment is logistic(logit(q) + b + tilt * z_s)
 * with b found by bisection; a number is drawn through a normal score whose
 * segment means average to 0 and whose variance stays 1 (a Gaussian copula),
 * so the mixture is close to the sample's distribution. */
#include "market_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

#define S GR_MKT_SEGMENTS
#define MAX_GROUPS 64
#define SIG_LEVEL_P 0.75 /* a client takes its portfolio's signature level this often */
#define SIG_SHIFT 1.5    /* a client's normal score shift on a signature number */
#define MIN_SIG_SHARE 0.02

static const double k_pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

static double phi(double x) { return 0.5 * erfc(-x * 0.7071067811865476); }
static double logistic(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Index of the first cum[i] > u among n (the last when none). */
static int draw_cum(const double *cum, int n, double u) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cum[mid] > u) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

static void to_cumulative(double *w, int n) {
  double total = 0;
  for (int i = 0; i < n; i++)
    total += w[i];
  double acc = 0;
  for (int i = 0; i < n; i++) {
    acc += w[i];
    w[i] = total > 0 ? acc / total : 0;
  }
  if (total > 0) w[n - 1] = 1.0;
}

void gr_market_model_free(gr_market_model *m) {
  if (!m) return;
  free(m->group_p);
  for (int c = 0; c < GR_MKT_N_COLUMNS; c++) {
    free(m->cat_cum[c]);
    free(m->child_cum[c]);
    free(m->bin_lo[c]);
    free(m->bin_level[c]);
    free(m->num[c].cum);
    free(m->num[c].lo);
    free(m->num[c].hi);
    free(m->mu[c]);
  }
  memset(m, 0, sizeof *m);
}

// ---- missingness groups ----------------------------------------------------

/* present_s: (n_groups, S) unconditional presence per segment, filled here. */
static gr_status build_groups(gr_market_model *m, const double *prior, gr_rng *rng,
                              double *present_s) {
  const int ng = gr_mkt_n_groups;
  if (ng > MAX_GROUPS)
    return gr_fail(GR_ERR_INTERNAL, "market schema: %d groups > %d", ng, MAX_GROUPS);
  m->group_p = malloc(sizeof(double) * (size_t)ng * S);
  if (!m->group_p) return gr_fail(GR_ERR_NOMEM, "cannot allocate the market model");
  for (int g = 0; g < ng; g++) {
    const gr_mkt_group *gr = &gr_mkt_groups[g];
    if (gr->parent >= g) return gr_fail(GR_ERR_INTERNAL, "market schema: group %d's parent", g);
    const double base = gr->parent < 0 ? GR_MKT_SAMPLE_ROWS : gr_mkt_groups[gr->parent].present;
    const double q = base > 0 ? gr->present / base : 0;
    double w[S], z[S], *p = m->group_p + (size_t)g * S;
    for (int s = 0; s < S; s++) {
      w[s] = prior[s] * (gr->parent < 0 ? 1.0 : present_s[(size_t)gr->parent * S + s]);
      z[s] = gr_rng_normal(rng);
      p[s] = q;
    }
    if (gr->tilt > 0 && q > 0 && q < 1) {
      double lo = -30, hi = 30, wsum = 0;
      for (int s = 0; s < S; s++)
        wsum += w[s];
      for (int it = 0; it < 100; it++) {
        const double b = 0.5 * (lo + hi);
        double mean = 0;
        for (int s = 0; s < S; s++)
          mean += w[s] * logistic(log(q / (1 - q)) + b + gr->tilt * z[s]);
        if (mean / wsum < q) {
          lo = b;
        } else {
          hi = b;
        }
      }
      for (int s = 0; s < S; s++)
        p[s] = logistic(log(q / (1 - q)) + 0.5 * (lo + hi) + gr->tilt * z[s]);
    }
    for (int s = 0; s < S; s++)
      present_s[(size_t)g * S + s] =
          p[s] * (gr->parent < 0 ? 1.0 : present_s[(size_t)gr->parent * S + s]);
  }
  return GR_OK;
}

// ---- categories --------------------------------------------------------------

/* Level weights per segment whose mixture (weights w) is the sample's. */
static void tilt_levels(const gr_mkt_column *col, const double *w, gr_rng *rng, double *out) {
  const int L = col->n_levels;
  double p[256], a[256], z[S][256], total = 0;
  for (int l = 0; l < L; l++) {
    p[l] = col->counts[l];
    total += p[l];
    a[l] = 1.0;
  }
  for (int l = 0; l < L; l++)
    p[l] /= total;
  for (int s = 0; s < S; s++)
    for (int l = 0; l < L; l++)
      z[s][l] = gr_rng_normal(rng);
  double wsum = 0;
  for (int s = 0; s < S; s++)
    wsum += w[s];
  for (int it = 0; it < 60; it++) {
    double mix[256] = {0};
    for (int s = 0; s < S; s++) {
      double norm = 0, *q = out + (size_t)s * L;
      for (int l = 0; l < L; l++)
        norm += q[l] = p[l] * a[l] * exp(col->tilt * z[s][l]);
      for (int l = 0; l < L; l++) {
        q[l] /= norm;
        mix[l] += w[s] / wsum * q[l];
      }
    }
    for (int l = 0; l < L; l++)
      if (mix[l] > 0) a[l] *= p[l] / mix[l];
  }
  for (int s = 0; s < S; s++)
    to_cumulative(out + (size_t)s * L, L);
}

static gr_status build_category(gr_market_model *m, int c, const double *w, gr_rng *rng) {
  const gr_mkt_column *col = &gr_mkt_columns[c];
  const int L = col->n_levels;
  if (L < 1 || L > 256)
    return gr_fail(GR_ERR_INTERNAL, "market schema: %s has %d levels", col->name, L);
  const int tilted = col->tilt > 0 && col->parent < 0;
  m->cat_cum[c] = malloc(sizeof(double) * (size_t)L * (tilted ? S : 1));
  if (!m->cat_cum[c]) return gr_fail(GR_ERR_NOMEM, "cannot allocate the market model");
  if (tilted) {
    tilt_levels(col, w, rng, m->cat_cum[c]);
  } else {
    for (int l = 0; l < L; l++)
      m->cat_cum[c][l] = col->counts[l];
    to_cumulative(m->cat_cum[c], L);
  }
  if (col->n_pairs > 0) {
    const int PL = gr_mkt_columns[col->parent].n_levels;
    double *t = m->child_cum[c] = calloc((size_t)PL * L, sizeof(double));
    if (!t) return gr_fail(GR_ERR_NOMEM, "cannot allocate the market model");
    for (int i = 0; i < col->n_pairs; i++)
      t[(size_t)col->pairs[i][0] * L + col->pairs[i][1]] += col->pairs[i][2];
    for (int pl = 0; pl < PL; pl++)
      to_cumulative(t + (size_t)pl * L, L);
  }
  if (col->bin_lo) {
    m->bin_lo[c] = malloc(sizeof(double) * (size_t)L);
    m->bin_level[c] = malloc(sizeof(int32_t) * (size_t)L);
    if (!m->bin_lo[c] || !m->bin_level[c])
      return gr_fail(GR_ERR_NOMEM, "cannot allocate the market model");
    int n = 0;
    for (int l = 0; l < L; l++) {
      if (isnan(col->bin_lo[l])) continue;
      int j = n++;
      for (; j > 0 && m->bin_lo[c][j - 1] > col->bin_lo[l]; j--) {
        m->bin_lo[c][j] = m->bin_lo[c][j - 1];
        m->bin_level[c][j] = m->bin_level[c][j - 1];
      }
      m->bin_lo[c][j] = col->bin_lo[l];
      m->bin_level[c][j] = l;
    }
    m->n_bins[c] = n;
  }
  return GR_OK;
}

// ---- numbers ---------------------------------------------------------------

static gr_status build_number(gr_market_model *m, int c, const double *prior, gr_rng *rng) {
  const gr_mkt_column *col = &gr_mkt_columns[c];
  const int nq = col->n_rest > 0 ? GR_MKT_N_QUANTILES - 1 : 0, n = col->n_atoms + nq;
  gr_mkt_sampler *sm = &m->num[c];
  if (n == 0) return GR_OK; /* never filled */
  double *w = malloc(sizeof(double) * (size_t)n);
  sm->cum = malloc(sizeof(double) * (size_t)n);
  sm->lo = malloc(sizeof(double) * (size_t)n);
  sm->hi = malloc(sizeof(double) * (size_t)n);
  if (!w || !sm->cum || !sm->lo || !sm->hi) {
    free(w);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate the market model");
  }
  /* insertion by lower bound keeps the inverse CDF monotone */
  for (int i = 0; i < n; i++) {
    double lo, hi, wt;
    if (i < col->n_atoms) {
      lo = hi = col->atoms[i][0];
      wt = col->atoms[i][1];
    } else {
      lo = col->rest_q[i - col->n_atoms];
      hi = col->rest_q[i - col->n_atoms + 1];
      wt = (double)col->n_rest / nq;
    }
    int j = i;
    for (; j > 0 && sm->lo[j - 1] > lo; j--) {
      sm->lo[j] = sm->lo[j - 1];
      sm->hi[j] = sm->hi[j - 1];
      w[j] = w[j - 1];
    }
    sm->lo[j] = lo;
    sm->hi[j] = hi;
    w[j] = wt;
  }
  memcpy(sm->cum, w, sizeof(double) * (size_t)n);
  free(w);
  to_cumulative(sm->cum, n);
  sm->n = n;
  m->sd[c] = 1.0;
  if (col->tilt > 0) {
    if (!(m->mu[c] = malloc(sizeof(double) * S)))
      return gr_fail(GR_ERR_NOMEM, "cannot allocate the market model");
    double mean = 0, var = 0;
    for (int s = 0; s < S; s++) {
      m->mu[c][s] = gr_rng_normal(rng);
      mean += prior[s] * m->mu[c][s];
    }
    for (int s = 0; s < S; s++)
      var += prior[s] * (m->mu[c][s] - mean) * (m->mu[c][s] - mean);
    const double tau = col->tilt < 0.95 ? col->tilt : 0.95;
    for (int s = 0; s < S; s++)
      m->mu[c][s] = tau * (m->mu[c][s] - mean) / sqrt(var);
    m->sd[c] = sqrt(1 - tau * tau);
  }
  return GR_OK;
}

static double sample_number(const gr_mkt_sampler *sm, double u) {
  const int i = draw_cum(sm->cum, sm->n, u);
  if (sm->lo[i] == sm->hi[i]) return sm->lo[i];
  const double c0 = i > 0 ? sm->cum[i - 1] : 0, width = sm->cum[i] - c0;
  const double f = width > 0 ? (u - c0) / width : 0;
  return sm->lo[i] + (sm->hi[i] - sm->lo[i]) * (f < 1 ? f : 1);
}

// ---- portfolios --------------------------------------------------------------

static int is_informative_level_column(int c) {
  const gr_mkt_column *col = &gr_mkt_columns[c];
  return col->tilt > 0 && col->parent < 0 &&
         (col->kind == GR_MKT_BOOL || col->kind == GR_MKT_CATEGORY);
}

/* A level clients lean to: not the most common, seen in >= 2% of the sample. */
static int signature_level(int c, gr_rng *rng) {
  const gr_mkt_column *col = &gr_mkt_columns[c];
  int cand[256], n = 0;
  double total = 0;
  for (int l = 0; l < col->n_levels; l++)
    total += col->counts[l];
  for (int l = 1; l < col->n_levels; l++) /* levels are most frequent first */
    if (col->counts[l] >= MIN_SIG_SHARE * total) cand[n++] = l;
  return n ? cand[gr_rng_below(rng, (uint64_t)n)] : -1;
}

static void plan_portfolios(gr_market_model *m, int n_portfolios, gr_rng *rng) {
  int perm[S];
  for (int s = 0; s < S; s++)
    perm[s] = s;
  for (int s = S - 1; s > 0; s--) {
    int j = (int)gr_rng_below(rng, (uint64_t)s + 1), t = perm[s];
    perm[s] = perm[j];
    perm[j] = t;
  }
  int levels[GR_MKT_N_COLUMNS], numbers[GR_MKT_N_COLUMNS], nl = 0, nn = 0, next = 0;
  for (int c = 0; c < GR_MKT_N_COLUMNS; c++) {
    if (is_informative_level_column(c)) levels[nl++] = c;
    const gr_mkt_kind k = gr_mkt_columns[c].kind;
    if (gr_mkt_columns[c].tilt > 0 && (k == GR_MKT_NUMBER || k == GR_MKT_DATE)) numbers[nn++] = c;
  }
  m->n_portfolios = n_portfolios;
  for (int k = 0; k < n_portfolios; k++) {
    gr_mkt_portfolio_plan *pl = &m->plan[k];
    pl->n_targets = 1 + (gr_rng_uniform(rng) < 0.5);
    for (int t = 0; t < pl->n_targets; t++)
      pl->target[t] = perm[next++ % S];
    for (int i = 0; i < GR_MKT_SIGNATURE; i++)
      pl->sig[i] = (gr_mkt_signature){-1, -1, 0};
    /* two level columns and one number, distinct */
    for (int i = 0; i < 2 && nl > 0; i++) {
      for (int tries = 0; tries < 32; tries++) {
        const int c = levels[gr_rng_below(rng, (uint64_t)nl)];
        const int l = signature_level(c, rng);
        if (l < 0 || (i == 1 && pl->sig[0].col == c)) continue;
        pl->sig[i] = (gr_mkt_signature){c, l, 0};
        break;
      }
    }
    if (nn > 0)
      pl->sig[2] = (gr_mkt_signature){numbers[gr_rng_below(rng, (uint64_t)nn)], -1,
                                      gr_rng_uniform(rng) < 0.5 ? -SIG_SHIFT : SIG_SHIFT};
  }
}

// ---- building ----------------------------------------------------------------

gr_status gr_market_model_build(gr_market_model *m, uint64_t seed, int n_portfolios) {
  memset(m, 0, sizeof *m);
  if (n_portfolios < 0 || n_portfolios > GR_MKT_MAX_PORTFOLIOS)
    return gr_fail(GR_ERR_INVALID_ARG, "portfolios must be 0..%d, got %d", GR_MKT_MAX_PORTFOLIOS,
                   n_portfolios);
  gr_rng rng;
  gr_rng_seed_stream(&rng, seed, 0x6d61726b6574ULL); /* "market" */
  double prior[S], acc = 0;
  for (int s = 0; s < S; s++)
    acc += prior[s] = exp(0.4 * gr_rng_normal(&rng));
  for (int s = 0; s < S; s++)
    prior[s] /= acc;
  memcpy(m->seg_cum, prior, sizeof prior);
  to_cumulative(m->seg_cum, S);

  double present_s[MAX_GROUPS * S];
  gr_status st = build_groups(m, prior, &rng, present_s);
  /* parents first: roots in file order, then children of placed columns */
  int placed[GR_MKT_N_COLUMNS] = {0}, n = 0;
  while (st == GR_OK && n < GR_MKT_N_COLUMNS) {
    const int before = n;
    for (int c = 0; c < GR_MKT_N_COLUMNS; c++) {
      const int par = gr_mkt_columns[c].parent;
      if (!placed[c] && (par < 0 || placed[par])) {
        placed[c] = 1;
        m->order[n++] = c;
      }
    }
    if (n == before) st = gr_fail(GR_ERR_INTERNAL, "market schema: a cycle of parents");
  }
  for (int c = 0; st == GR_OK && c < GR_MKT_N_COLUMNS; c++) {
    const gr_mkt_column *col = &gr_mkt_columns[c];
    double w[S];
    for (int s = 0; s < S; s++)
      w[s] = prior[s] * (col->group < 0 ? 1.0 : present_s[(size_t)col->group * S + s]);
    if (col->kind == GR_MKT_BOOL || col->kind == GR_MKT_CATEGORY)
      st = build_category(m, c, w, &rng);
    if (col->kind == GR_MKT_NUMBER || col->kind == GR_MKT_DATE) st = build_number(m, c, w, &rng);
  }
  if (st != GR_OK) {
    gr_market_model_free(m);
    return st;
  }
  plan_portfolios(m, n_portfolios, &rng);
  return GR_OK;
}

int gr_market_model_segment(const gr_market_model *m, gr_rng *rng) {
  return draw_cum(m->seg_cum, S, gr_rng_uniform(rng));
}

// ---- sampling a row ------------------------------------------------------------

static const gr_mkt_signature *find_signature(const gr_market_model *m, int portfolio, int c) {
  if (portfolio < 1) return NULL;
  const gr_mkt_portfolio_plan *pl = &m->plan[portfolio - 1];
  for (int i = 0; i < GR_MKT_SIGNATURE; i++)
    if (pl->sig[i].col == c) return &pl->sig[i];
  return NULL;
}

static int32_t sample_level(const gr_market_model *m, int c, int seg, const gr_mkt_row *row,
                            gr_rng *rng) {
  const gr_mkt_column *col = &gr_mkt_columns[c];
  const int L = col->n_levels;
  const double u = gr_rng_uniform(rng);
  if (col->parent >= 0 && m->child_cum[c] && row->level[col->parent] >= 0) {
    const double *t = m->child_cum[c] + (size_t)row->level[col->parent] * L;
    if (t[L - 1] > 0) return draw_cum(t, L, u);
  }
  if (col->parent >= 0 && m->bin_lo[c] && !isnan(row->value[col->parent])) {
    const double v = row->value[col->parent];
    int b = 0;
    while (b + 1 < m->n_bins[c] && m->bin_lo[c][b + 1] <= v)
      b++;
    if (m->n_bins[c] > 0) return m->bin_level[c][b];
  }
  const int tilted = col->tilt > 0 && col->parent < 0;
  return draw_cum(m->cat_cum[c] + (tilted ? (size_t)seg * L : 0), L, u);
}

void gr_market_model_row(const gr_market_model *m, int seg, int portfolio, gr_rng *rng,
                         gr_mkt_row *row) {
  uint8_t present[MAX_GROUPS];
  for (int g = 0; g < gr_mkt_n_groups; g++) {
    const int par = gr_mkt_groups[g].parent;
    present[g] = (par < 0 || present[par]) && gr_rng_uniform(rng) < m->group_p[(size_t)g * S + seg];
  }
  for (int i = 0; i < GR_MKT_N_COLUMNS; i++) {
    const int c = m->order[i];
    const gr_mkt_column *col = &gr_mkt_columns[c];
    row->level[c] = -1;
    row->value[c] = NAN;
    if (col->kind == GR_MKT_INDEX || col->kind == GR_MKT_ID) continue;
    if (col->group >= 0 && !present[col->group]) continue;
    const gr_mkt_signature *sig = find_signature(m, portfolio, c);
    if (col->kind == GR_MKT_BOOL || col->kind == GR_MKT_CATEGORY) {
      row->level[c] = sample_level(m, c, seg, row, rng);
      if (sig && gr_rng_uniform(rng) < SIG_LEVEL_P) row->level[c] = sig->level;
      continue;
    }
    const gr_mkt_sampler *sm = &m->num[c];
    if (sm->n == 0) continue;
    double u;
    if (m->mu[c] || sig) {
      const double x =
          (m->mu[c] ? m->mu[c][seg] : 0) + m->sd[c] * gr_rng_normal(rng) + (sig ? sig->shift : 0);
      u = phi(x);
    } else {
      u = gr_rng_uniform(rng);
    }
    double v = sample_number(sm, u);
    if (col->kind == GR_MKT_DATE) {
      v = floor(v);
    } else if (col->decimals >= 0 && col->decimals <= 9) {
      v = round(v * k_pow10[col->decimals]) / k_pow10[col->decimals];
    }
    row->value[c] = v;
  }
}
