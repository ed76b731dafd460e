/* CSR construction by two stable counting sorts (by column, then by row),
 * which leaves every row's columns sorted without a comparison sort, then
 * one pass that sums duplicates. Linear time and deterministic. */
#include "csr.h"

#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

void gr_csr_free(gr_csr *m) {
  if (!m) return;
  free(m->indptr);
  free(m->indices);
  free(m->data);
  memset(m, 0, sizeof *m);
}

static gr_status csr_alloc(gr_csr *m, int64_t n_rows, int64_t n_cols, int64_t nnz) {
  memset(m, 0, sizeof *m);
  m->n_rows = n_rows;
  m->n_cols = n_cols;
  m->nnz = nnz;
  m->indptr = calloc((size_t)n_rows + 1, sizeof *m->indptr);
  m->indices = malloc((size_t)(nnz ? nnz : 1) * sizeof *m->indices);
  m->data = malloc((size_t)(nnz ? nnz : 1) * sizeof *m->data);
  if (!m->indptr || !m->indices || !m->data) {
    gr_csr_free(m);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate a sparse matrix with %lld entries",
                   (long long)nnz);
  }
  return GR_OK;
}

gr_status gr_csr_from_coo(gr_csr *out, int64_t n_rows, int64_t n_cols, const int32_t *rows,
                          const int32_t *cols, const float *vals, int64_t n) {
  int64_t valid = 0;
  for (int64_t e = 0; e < n; e++)
    valid += rows[e] >= 0 && cols[e] >= 0;
  int64_t *col_start = calloc((size_t)n_cols + 1, sizeof *col_start);
  int64_t *by_col = malloc((size_t)(valid ? valid : 1) * sizeof *by_col);
  gr_csr tmp;
  gr_status st = csr_alloc(&tmp, n_rows, n_cols, valid);
  if (!col_start || !by_col || st != GR_OK) {
    free(col_start);
    free(by_col);
    if (st == GR_OK) gr_csr_free(&tmp);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate CSR construction buffers");
  }
  /* 1: order entries by column */
  for (int64_t e = 0; e < n; e++)
    if (rows[e] >= 0 && cols[e] >= 0) col_start[cols[e] + 1]++;
  for (int64_t c = 0; c < n_cols; c++)
    col_start[c + 1] += col_start[c];
  for (int64_t e = 0; e < n; e++)
    if (rows[e] >= 0 && cols[e] >= 0) by_col[col_start[cols[e]]++] = e;
  /* 2: stable by row */
  for (int64_t e = 0; e < n; e++)
    if (rows[e] >= 0 && cols[e] >= 0) tmp.indptr[rows[e] + 1]++;
  for (int64_t r = 0; r < n_rows; r++)
    tmp.indptr[r + 1] += tmp.indptr[r];
  free(col_start);
  int64_t *fill = malloc((size_t)(n_rows ? n_rows : 1) * sizeof *fill); /* row cursors */
  if (!fill) {
    free(by_col);
    gr_csr_free(&tmp);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate CSR row cursors");
  }
  memcpy(fill, tmp.indptr, sizeof(int64_t) * (size_t)n_rows);
  for (int64_t s = 0; s < valid; s++) {
    const int64_t e = by_col[s];
    const int64_t at = fill[rows[e]]++;
    tmp.indices[at] = cols[e];
    tmp.data[at] = vals ? vals[e] : 1.0f;
  }
  free(fill);
  free(by_col);
  /* 3: sum duplicates in place */
  int64_t w = 0;
  for (int64_t r = 0; r < n_rows; r++) {
    const int64_t begin = tmp.indptr[r], end = tmp.indptr[r + 1];
    tmp.indptr[r] = w;
    for (int64_t e = begin; e < end; e++) {
      if (e > begin && tmp.indices[e] == tmp.indices[w - 1]) {
        tmp.data[w - 1] += tmp.data[e];
      } else {
        tmp.indices[w] = tmp.indices[e];
        tmp.data[w++] = tmp.data[e];
      }
    }
  }
  tmp.indptr[n_rows] = w;
  tmp.nnz = w;
  *out = tmp;
  return GR_OK;
}

typedef struct col_entry {
  int32_t col;
  int64_t at; /* place in the input: equal columns keep their order */
} col_entry;

static int by_col_then_place(const void *pa, const void *pb) {
  const col_entry *a = pa, *b = pb;
  if (a->col != b->col) return a->col < b->col ? -1 : 1;
  return (a->at > b->at) - (a->at < b->at);
}

gr_status gr_csr_one_row(gr_csr *out, int64_t n_cols, const int32_t *cols, const float *vals,
                         int64_t n) {
  for (int64_t e = 0; e < n; e++)
    if (cols[e] < 0 || cols[e] >= n_cols)
      return gr_fail(GR_ERR_INVALID_ARG, "column %d is outside 0..%lld", cols[e],
                     (long long)n_cols - 1);
  col_entry *order = malloc(sizeof *order * (size_t)(n ? n : 1));
  gr_csr tmp;
  gr_status st = csr_alloc(&tmp, 1, n_cols, n);
  if (!order || st != GR_OK) {
    free(order);
    if (st == GR_OK) gr_csr_free(&tmp);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate a row of %lld entries", (long long)n);
  }
  for (int64_t e = 0; e < n; e++)
    order[e] = (col_entry){cols[e], e};
  qsort(order, (size_t)n, sizeof *order, by_col_then_place);
  int64_t w = 0;
  for (int64_t s = 0; s < n; s++) {
    const float v = vals ? vals[order[s].at] : 1.0f;
    if (w > 0 && tmp.indices[w - 1] == order[s].col) {
      tmp.data[w - 1] += v;
    } else {
      tmp.indices[w] = order[s].col;
      tmp.data[w++] = v;
    }
  }
  free(order);
  tmp.indptr[1] = w;
  tmp.nnz = w;
  *out = tmp;
  return GR_OK;
}

gr_status gr_csr_transpose(gr_csr *out, const gr_csr *in) {
  GR_TRY(csr_alloc(out, in->n_cols, in->n_rows, in->nnz));
  for (int64_t e = 0; e < in->nnz; e++)
    out->indptr[in->indices[e] + 1]++;
  for (int64_t c = 0; c < in->n_cols; c++)
    out->indptr[c + 1] += out->indptr[c];
  int64_t *fill = malloc((size_t)(in->n_cols ? in->n_cols : 1) * sizeof *fill);
  if (!fill) {
    gr_csr_free(out);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate transpose cursors");
  }
  memcpy(fill, out->indptr, sizeof(int64_t) * (size_t)in->n_cols);
  for (int64_t r = 0; r < in->n_rows; r++) {
    for (int64_t e = in->indptr[r]; e < in->indptr[r + 1]; e++) {
      const int64_t at = fill[in->indices[e]]++;
      out->indices[at] = (int32_t)r;
      out->data[at] = in->data[e];
    }
  }
  free(fill);
  return GR_OK;
}

void gr_csr_affine(gr_csr *m, float offset, float scale) {
  for (int64_t e = 0; e < m->nnz; e++)
    m->data[e] = offset + scale * m->data[e];
}
