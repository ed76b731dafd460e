/* CPU twins of the batched logistic-regression operations. The rows of the
 * active groups are cut into chunks of LR_CHUNK rows that never span two
 * groups. Per row, in double: the margin, the terms (shared_math.h) and the
 * gradient sum, while the row is in cache; the sqrt(h)-scaled row goes to a
 * float buffer, and one ssyrk per chunk turns it into the curvature sum;
 * with curvature sampling (hess_tau > 0) only the rows it keeps are
 * written, so the rank update skips the rest.
 * (Float margins and gradients, by sgemv, missed the double reference by
 * 7e-4 on a nearly separable group: H ~ I there, so gradient rounding
 * becomes coefficient error one for one.) Chunks run in parallel, each with
 * single-threaded OpenBLAS (its own threads would split these calls and
 * compete with ours); their partials are added to double sums in chunk
 * order, so no result depends on the thread count. Described rows
 * (gr_lr_rows) are read where they lie: a real row straight from X, a
 * synthetic one rebuilt into the thread's row buffer, so nothing the size of
 * the training set is ever written. The Newton systems are D x D: LAPACKE
 * Cholesky in double, group by group. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../shared_math.h"
#include "cpu_ops.h"

#define LR_CHUNK 4096 /* rows per partial sum */
#define LR_WAVE 16    /* chunks whose partials are held at once */
#define LR_ALIGN 64   /* every scratch buffer: the same alignment on every thread */

typedef struct lr_chunk {
  int g;
  int rows;
  int64_t r0;
  int64_t base; /* the group's first row: sampling draws by the row's place in its group */
} lr_chunk;

/* One pass over the active groups' rows: the objective, and with grad the
 * gradient, and with hess the curvature too. */
typedef struct lr_pass {
  const float *X, *sw;
  const gr_lr_rows *rows; /* NULL: row i is X[i] */
  const uint8_t *y;
  const double *theta, *cw;
  int d, D;
  int grad, hess;      /* g wanted; H wanted (implies g) */
  double tau;          /* curvature sampling, 0 = every row */
  double *loss, *rsum; /* (LR_WAVE) per-chunk sums */
  double *gpart;       /* (LR_WAVE, d): X_c^T r */
  float *Hpart;        /* (LR_WAVE, D, D): upper triangles */
  float *A;            /* (threads, LR_CHUNK, D): sqrt(h)-scaled rows and intercept */
  float *xbuf;         /* (threads, d): a synthetic row, rebuilt */
} lr_pass;

static size_t round_up(size_t bytes) { return (bytes + LR_ALIGN - 1) / LR_ALIGN * LR_ALIGN; }

static void *scratch(size_t bytes) { return aligned_alloc(LR_ALIGN, round_up(bytes ? bytes : 1)); }

static inline double dot_fd(const float *restrict x, const double *restrict w, int d) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int j = 0; j < d; j++)
    s += (double)x[j] * w[j];
  return s;
}

/* Training row i: in X, or rebuilt into buf by SMOTE's formula. */
static inline const float *train_row(const lr_pass *p, int64_t i, float *restrict buf) {
  const int d = p->d;
  if (!p->rows) return p->X + (size_t)i * d;
  const int32_t u = p->rows->a[i];
  const float *xu = p->X + (size_t)u * d;
  if (!p->rows->b || p->rows->b[i] == u) return xu;
  const float *xv = p->X + (size_t)p->rows->b[i] * d;
  const float gap = p->rows->gap[i];
  for (int j = 0; j < d; j++)
    buf[j] = gr_smote_lerp(xu[j], xv[j], gap);
  return buf;
}

static void chunk_work(const lr_pass *p, const lr_chunk *c, int slot, int tid) {
  const int d = p->d, D = p->D, rows = c->rows;
  const uint8_t *yc = p->y + c->r0;
  const double *w = p->theta + (size_t)c->g * D, b = w[d];
  const double cw0 = p->cw[2 * c->g], cw1 = p->cw[2 * c->g + 1];
  double *restrict gp = p->grad ? p->gpart + (size_t)slot * d : NULL;
  float *A = p->hess ? p->A + (size_t)tid * (round_up(sizeof(float) * LR_CHUNK * D) / sizeof(float))
                     : NULL;
  float *xbuf = p->xbuf + (size_t)tid * (round_up(sizeof(float) * d) / sizeof(float));
  if (gp) memset(gp, 0, sizeof(double) * d);
  double loss = 0.0, rsum = 0.0;
  int kept = 0; /* rows of A written */
  for (int i = 0; i < rows; i++) {
    const float *x = train_row(p, c->r0 + i, xbuf);
    const double ci = (yc[i] ? cw1 : cw0) * (p->sw ? (double)p->sw[c->r0 + i] : 1.0);
    const gr_logreg_terms t = gr_logreg_row(dot_fd(x, w, d) + b, yc[i] != 0, ci);
    loss += t.loss;
    if (!p->grad) continue;
    rsum += t.r;
    const double r = t.r;
    /* 0: no curvature from this row (gradient only, or left out by sampling) */
    const float sh =
        p->hess ? (float)gr_logreg_hess_scale(t.h, ci, p->tau, c->r0 - c->base + i) : 0.0f;
    if (sh == 0.0f) {
#pragma omp simd
      for (int j = 0; j < d; j++)
        gp[j] += r * x[j];
      continue;
    }
    float *restrict a = A + (size_t)kept++ * D;
#pragma omp simd
    for (int j = 0; j < d; j++) {
      gp[j] += r * x[j];
      a[j] = sh * x[j];
    }
    a[d] = sh;
  }
  p->loss[slot] = loss;
  if (!p->grad) return;
  p->rsum[slot] = rsum;
  if (!p->hess) return;
  float *Hp = p->Hpart + (size_t)slot * D * D;
  if (kept == 0) {
    memset(Hp, 0, sizeof(float) * D * D);
    return;
  }
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, D, kept, 1.0f, A, D, 0.0f, Hp, D);
}

/* f, and with g and H the gradient and Hessian; see backend.h. */
static gr_status lr_pass_run(gr_backend *be, double *f, double *g, double *H, const double *theta,
                             const float *X, const gr_lr_rows *rows, const uint8_t *y,
                             const float *sw, const int64_t *seg, const double *cw,
                             const uint8_t *active, int m, int d, double tau) {
  if (m < 1 || d < 1) return gr_fail(GR_ERR_INVALID_ARG, "logreg: %d groups of %d features", m, d);
  if (rows && !rows->a) rows = NULL; /* no descriptors: X's own rows */
  if (rows && rows->b && !rows->gap)
    return gr_fail(GR_ERR_INVALID_ARG, "logreg: described rows with partners need their gaps");
  if (H && !g) return gr_fail(GR_ERR_INVALID_ARG, "logreg: a Hessian without its gradient");
  const int D = d + 1, grad = g != NULL, hess = H != NULL;
  const int threads = be->n_threads > 0 ? be->n_threads : 1;
  int64_t n_chunks = 0;
  for (int k = 0; k < m; k++)
    if (!active || active[k]) n_chunks += (seg[k + 1] - seg[k] + LR_CHUNK - 1) / LR_CHUNK;
  lr_chunk *chunks = malloc(sizeof(lr_chunk) * (size_t)(n_chunks ? n_chunks : 1));
  double *fsum = calloc((size_t)m, sizeof(double)), *rsum = calloc((size_t)m, sizeof(double));
  lr_pass p = {.X = X,
               .sw = sw,
               .rows = rows,
               .y = y,
               .theta = theta,
               .cw = cw,
               .d = d,
               .D = D,
               .grad = grad,
               .hess = hess,
               .tau = tau};
  p.loss = malloc(sizeof(double) * LR_WAVE);
  p.xbuf = scratch(round_up(sizeof(float) * d) * threads);
  p.rsum = malloc(sizeof(double) * LR_WAVE);
  if (grad) p.gpart = scratch(sizeof(double) * LR_WAVE * (size_t)d);
  if (hess) {
    p.Hpart = scratch(sizeof(float) * LR_WAVE * (size_t)D * D);
    p.A = scratch(round_up(sizeof(float) * LR_CHUNK * D) * threads);
  }
  gr_status st = GR_OK;
  if (!chunks || !fsum || !rsum || !p.loss || !p.rsum || !p.xbuf || (grad && !p.gpart) ||
      (hess && (!p.Hpart || !p.A))) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate logistic regression scratch (%d features)", d);
    goto done;
  }
  n_chunks = 0;
  for (int k = 0; k < m; k++) {
    if (active && !active[k]) continue;
    for (int64_t r0 = seg[k]; r0 < seg[k + 1]; r0 += LR_CHUNK) {
      const int64_t left = seg[k + 1] - r0;
      chunks[n_chunks++] = (lr_chunk){k, (int)(left < LR_CHUNK ? left : LR_CHUNK), r0, seg[k]};
    }
    if (grad) memset(g + (size_t)k * D, 0, sizeof(double) * D);
    if (hess) memset(H + (size_t)k * D * D, 0, sizeof(double) * D * D);
  }
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    for (int64_t w0 = 0; w0 < n_chunks; w0 += LR_WAVE) {
      const int nw = (int)(n_chunks - w0 < LR_WAVE ? n_chunks - w0 : LR_WAVE);
#pragma omp for schedule(dynamic, 1)
      for (int s = 0; s < nw; s++) {
        chunk_work(&p, &chunks[w0 + s], s, tid);
      }
      /* every sum in chunk order: the same on any number of threads */
#pragma omp single
      for (int s = 0; s < nw; s++) {
        const int k = chunks[w0 + s].g;
        fsum[k] += p.loss[s];
        if (!grad) continue;
        rsum[k] += p.rsum[s];
        double *gk = g + (size_t)k * D;
        const double *gp = p.gpart + (size_t)s * d;
        for (int j = 0; j < d; j++)
          gk[j] += gp[j];
      }
      if (hess) {
#pragma omp for schedule(dynamic, 8)
        for (int a = 0; a < D; a++) {
          for (int s = 0; s < nw; s++) {
            double *h = H + (size_t)chunks[w0 + s].g * D * D + (size_t)a * D;
            const float *hp = p.Hpart + (size_t)s * D * D + (size_t)a * D;
            for (int c = a; c < D; c++)
              h[c] += hp[c];
          }
        }
      }
    }
  }
  openblas_set_num_threads(blas_threads);
  for (int k = 0; k < m; k++) {
    if (active && !active[k]) continue;
    const double *w = theta + (size_t)k * D;
    double reg = 0.0;
    for (int j = 0; j < d; j++)
      reg += w[j] * w[j];
    f[k] = 0.5 * reg + fsum[k];
    if (!grad) continue;
    double *gk = g + (size_t)k * D;
    for (int j = 0; j < d; j++)
      gk[j] += w[j];
    gk[d] = rsum[k];
    if (!hess) continue;
    double *Hk = H + (size_t)k * D * D;
    for (int a = 0; a < D; a++) {
      if (a < d) Hk[(size_t)a * D + a] += 1.0;
      for (int c = a + 1; c < D; c++)
        Hk[(size_t)c * D + a] = Hk[(size_t)a * D + c];
    }
  }
done:
  free(chunks);
  free(fsum);
  free(rsum);
  free(p.loss);
  free(p.rsum);
  free(p.gpart);
  free(p.Hpart);
  free(p.A);
  free(p.xbuf);
  return st;
}

gr_status gr_cpu_logreg_objective(gr_backend *be, double *f, const double *theta, const float *X,
                                  const gr_lr_rows *rows, const uint8_t *y, const float *sw,
                                  const int64_t *seg, const double *cw, const uint8_t *active,
                                  int m, int d) {
  return lr_pass_run(be, f, NULL, NULL, theta, X, rows, y, sw, seg, cw, active, m, d, 0.0);
}

gr_status gr_cpu_logreg_grad_hess(gr_backend *be, double *g, double *H, double *f,
                                  const double *theta, const float *X, const gr_lr_rows *rows,
                                  const uint8_t *y, const float *sw, const int64_t *seg,
                                  const double *cw, const uint8_t *active, int m, int d,
                                  double hess_tau) {
  return lr_pass_run(be, f, g, H, theta, X, rows, y, sw, seg, cw, active, m, d, hess_tau);
}

gr_status gr_cpu_spd_solve_batched(gr_backend *be, double *step, double *H, const double *rhs,
                                   const uint8_t *active, int m, int D) {
  (void)be;
  gr_status st = GR_OK;
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1); /* the factorization then does not depend on threads */
  for (int k = 0; k < m && st == GR_OK; k++) {
    if (active && !active[k]) continue;
    double *Hk = H + (size_t)k * D * D, *s = step + (size_t)k * D;
    memcpy(s, rhs + (size_t)k * D, sizeof(double) * D);
    int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', D, Hk, D);
    if (info == 0) info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', D, 1, Hk, D, s, D);
    if (info > 0)
      st = gr_fail(GR_ERR_NUMERIC,
                   "logreg: the Hessian of group %d is not positive definite (leading minor %d "
                   "of %d); lower C or remove constant features",
                   k, info, D);
    else if (info < 0)
      st =
          gr_fail(GR_ERR_INVALID_ARG, "logreg: LAPACK rejected argument %d for group %d", -info, k);
  }
  openblas_set_num_threads(blas_threads);
  return st;
}
