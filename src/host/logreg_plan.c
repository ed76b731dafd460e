/* gr_logreg_fit_groups_rows: the resident fit when it fits the budget, else
 * batches of groups with compact copies of X; see logreg_plan.h. */
#include "logreg_plan.h"

#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "context.h"
#include "packed_x.h"

/* What a resident fit of M groups stages for R rows of X and N training
 * rows, S of them synthetic: X, descriptors (a, b, gap), labels and weights
 * for the rows, the synthetic rows' pairs (logreg_pairs.h: a row number per
 * row, 16 bytes per pair, bounded as if each row had a pair of its own),
 * the same for the warm start's eighth, and the per-group vectors and
 * (for Newton's method) Hessians. */
static size_t staged_bytes(int64_t R, int64_t N, int64_t S, int M, int d, int hessians) {
  const size_t D = (size_t)d + 1, per_row = 4 + 4 + 4 + 1 + 4, per_synthetic = 8 + 16;
  const size_t rows = (size_t)N * per_row + (size_t)S * per_synthetic;
  return (size_t)R * (size_t)d * sizeof(float) + rows + rows / 8 +
         (size_t)M * (per_row + per_synthetic) +
         (size_t)M * (6 * D + (hessians ? D * D : 0)) * sizeof(double);
}

int gr_logreg_plan_batches(const gr_logreg_rows *rows, const int64_t *seg, int m, int d,
                           const gr_logreg_params *p, size_t budget, int *first, int *too_big,
                           size_t *need) {
  gr_logreg_params defaults;
  if (!p) {
    gr_logreg_params_default(&defaults);
    p = &defaults;
  }
  const int hessians = gr_logreg_solver_for(p, d) == GR_LOGREG_NEWTON;
  const size_t cap = budget / 2;
  const int described = rows->a != NULL;
  int64_t longest = 0;
  for (int g = 0; g < m; g++)
    if (seg[g + 1] - seg[g] > longest) longest = seg[g + 1] - seg[g];
  /* stamp[x]: the batch that refers to row x; fresh: the rows the group
   * being tried stamped first, to undo when it goes to the next batch */
  int32_t *stamp = described ? malloc(sizeof(int32_t) * (size_t)(rows->n_x ? rows->n_x : 1)) : NULL;
  int64_t *fresh = described ? malloc(sizeof(int64_t) * (size_t)(2 * longest + 1)) : NULL;
  if (described && (!stamp || !fresh)) {
    free(stamp);
    free(fresh);
    return -1;
  }
  for (int64_t x = 0; described && x < rows->n_x; x++)
    stamp[x] = -1;
  int nb = 0, g = 0;
  while (g < m) {
    first[nb] = g;
    int64_t R = 0, N = 0, S = 0;
    int M = 0;
    while (g < m) {
      const int64_t n_g = seg[g + 1] - seg[g];
      int64_t added = described ? 0 : n_g, n_fresh = 0, s_g = 0;
      for (int64_t i = seg[g]; described && i < seg[g + 1]; i++) {
        const int32_t ends[2] = {rows->a[i], rows->b ? rows->b[i] : rows->a[i]};
        s_g += ends[1] != ends[0];
        for (int e = 0; e < 2; e++)
          if (stamp[ends[e]] != nb) {
            stamp[ends[e]] = nb;
            fresh[n_fresh++] = ends[e];
            added++;
          }
      }
      if (staged_bytes(R + added, N + n_g, S + s_g, M + 1, d, hessians) <= cap) {
        R += added;
        N += n_g;
        S += s_g;
        M++;
        g++;
        continue;
      }
      for (int64_t k = 0; k < n_fresh; k++)
        stamp[fresh[k]] = -1;
      if (M == 0) { /* alone, and still too big */
        *too_big = g;
        *need = staged_bytes(added, n_g, s_g, 1, d, hessians);
        free(stamp);
        free(fresh);
        return 0;
      }
      break;
    }
    nb++;
  }
  first[nb] = m;
  free(stamp);
  free(fresh);
  return nb;
}

/* Groups g0..g1-1 on their own: a slice of X's rows, or for described rows
 * a compact copy of the rows they refer to (in X's order) with the
 * descriptors renumbered; models to out[g0..g1). */
static gr_status fit_batch(gr_context *ctx, const gr_logreg_rows *rows, const uint8_t *y,
                           const float *sw, const int64_t *seg, int g0, int g1, int d,
                           const gr_logreg_params *p, const uint8_t *binary, gr_logreg_model *out) {
  const int mb = g1 - g0;
  const int64_t r0 = seg[g0], n = seg[g1] - r0;
  int64_t *bseg = malloc(sizeof(int64_t) * ((size_t)mb + 1));
  if (!bseg) return gr_fail(GR_ERR_NOMEM, "cannot allocate a batch of %d groups", mb);
  for (int k = 0; k <= mb; k++)
    bseg[k] = seg[g0 + k] - r0;
  const uint8_t *by = y + r0;
  const float *bsw = sw ? sw + r0 : NULL;
  gr_status st;
  if (!rows->a) {
    const gr_logreg_rows slice = {rows->X + (size_t)r0 * d, n, NULL, NULL, NULL};
    st = gr_logreg_fit_resident(ctx, &slice, by, bsw, bseg, mb, d, p, binary, out + g0);
    free(bseg);
    return st;
  }
  int32_t *map = malloc(sizeof(int32_t) * (size_t)rows->n_x);
  int32_t *ab = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  int32_t *bb = rows->b ? malloc(sizeof(int32_t) * (size_t)(n ? n : 1)) : NULL;
  float *Xb = NULL;
  if (!map || !ab || (rows->b && !bb)) {
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate a batch of %lld training rows", (long long)n);
    goto done;
  }
  for (int64_t x = 0; x < rows->n_x; x++)
    map[x] = -1;
  for (int64_t i = r0; i < r0 + n; i++) {
    map[rows->a[i]] = 0;
    if (rows->b) map[rows->b[i]] = 0;
  }
  int32_t R = 0;
  for (int64_t x = 0; x < rows->n_x; x++)
    if (map[x] == 0) map[x] = ++R; /* 1-based while counting */
  Xb = malloc(sizeof(float) * (size_t)(R ? R : 1) * (size_t)d);
  if (!Xb) {
    st = gr_fail(GR_ERR_NOMEM, "cannot copy %d rows of X for a batch", (int)R);
    goto done;
  }
  for (int64_t x = 0; x < rows->n_x; x++)
    if (map[x] > 0) {
      map[x]--;
      memcpy(Xb + (size_t)map[x] * d, rows->X + (size_t)x * d, sizeof(float) * (size_t)d);
    }
  for (int64_t i = 0; i < n; i++) {
    ab[i] = map[rows->a[r0 + i]];
    if (bb) bb[i] = map[rows->b[r0 + i]];
  }
  const gr_logreg_rows compact = {Xb, R, ab, bb, rows->gap ? rows->gap + r0 : NULL};
  st = gr_logreg_fit_resident(ctx, &compact, by, bsw, bseg, mb, d, p, binary, out + g0);
done:
  free(Xb);
  free(bb);
  free(ab);
  free(map);
  free(bseg);
  return st;
}

gr_status gr_logreg_fit_groups_rows(gr_context *ctx, const gr_logreg_rows *rows, const uint8_t *y,
                                    const float *sw, const int64_t *seg, int m, int d,
                                    const gr_logreg_params *params, gr_logreg_model *out) {
  if (!ctx || !rows || !rows->X || !y || !seg || !out || m < 1 || d < 1 ||
      (rows->a && rows->b && !rows->gap))
    return gr_logreg_fit_resident(ctx, rows, y, sw, seg, m, d, params, NULL, out);
  gr_logreg_params p;
  if (params) {
    p = *params;
  } else {
    gr_logreg_params_default(&p);
  }
  gr_backend *be = ctx->be;
  const size_t budget = p.max_bytes > 0   ? (size_t)p.max_bytes
                        : be->host_memory ? 0 /* read in place */
                                          : be->ops->mem_available(be);
  /* without descriptors, row numbers past int32 are the resident fit's to handle */
  if (budget == 0 || (!rows->a && seg[m] > INT32_MAX))
    return gr_logreg_fit_resident(ctx, rows, y, sw, seg, m, d, &p, NULL, out);
  /* checked here, as a batch's errors would name its own group and row numbers */
  int *first = malloc(sizeof(int) * ((size_t)m + 1));
  double *cw = malloc(sizeof(double) * 2 * (size_t)m);
  gr_status st = first && cw ? gr_logreg_check(rows, y, sw, seg, m, d, &p, cw)
                             : gr_fail(GR_ERR_NOMEM, "cannot plan %d logistic regressions", m);
  free(cw);
  if (st != GR_OK) {
    free(first);
    return st;
  }
  int too_big = 0;
  size_t need = 0;
  const int nb = gr_logreg_plan_batches(rows, seg, m, d, &p, budget, first, &too_big, &need);
  if (nb < 0) {
    st = gr_fail(GR_ERR_NOMEM, "cannot plan %d logistic regressions", m);
  } else if (nb == 0) {
    st = gr_fail(GR_ERR_DEVICE_MEM,
                 "logreg: group %d alone stages %.1f MiB, more than half of the %.1f MiB the "
                 "backend may use; raise --max-device-mem",
                 too_big, (double)need / 1048576.0, (double)budget / 1048576.0);
  } else if (nb == 1) {
    st = gr_logreg_fit_resident(ctx, rows, y, sw, seg, m, d, &p, NULL, out);
  } else {
    memset(out, 0, sizeof(gr_logreg_model) * (size_t)m);
    p.packed = NULL; /* each batch packs its own rows */
    /* the whole X's binary features, so that every batch packs alike */
    uint8_t *binary = be->ops->pack_rows ? malloc((size_t)d) : NULL;
    if (binary) {
      st = gr_binary_features(rows->X, rows->a ? rows->n_x : seg[m], d, binary, NULL);
    } else if (be->ops->pack_rows) {
      st = gr_fail(GR_ERR_NOMEM, "cannot allocate %d feature flags", d);
    }
    for (int b = 0; b < nb && st == GR_OK; b++) {
      st = fit_batch(ctx, rows, y, sw, seg, first[b], first[b + 1], d, &p, binary, out);
      if (st != GR_OK)
        for (int g = 0; g < first[b]; g++)
          gr_logreg_model_free(&out[g]);
    }
    free(binary);
  }
  free(first);
  return st;
}
