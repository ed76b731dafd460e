/* Owned compressed sparse row matrices, built from coordinates. */
#ifndef GR_HOST_CSR_H
#define GR_HOST_CSR_H

#include <stdint.h>

#include "kernels/backend.h"

typedef struct gr_csr {
  int64_t n_rows, n_cols, nnz;
  int64_t *indptr;  /* (n_rows + 1) */
  int32_t *indices; /* (nnz), sorted within each row */
  float *data;      /* (nnz) */
} gr_csr;

/* Builds a CSR of (n_rows, n_cols) from n coordinates; entries with the same
 * (row, col) are summed. Rows or columns < 0 are skipped (unknown ids). */
gr_status gr_csr_from_coo(gr_csr *out, int64_t n_rows, int64_t n_cols, const int32_t *rows,
                          const int32_t *cols, const float *vals, int64_t n);
/* One row of n_cols columns from n (col, value) pairs, repeats summed in
 * their order, as gr_csr_from_coo would, but in O(n log n): no work per
 * column (a new user's items against a model's catalogue). Columns must be
 * in 0..n_cols-1. */
gr_status gr_csr_one_row(gr_csr *out, int64_t n_cols, const int32_t *cols, const float *vals,
                         int64_t n);
gr_status gr_csr_transpose(gr_csr *out, const gr_csr *in);
/* Applies v -> offset + scale * v to every stored value. */
void gr_csr_affine(gr_csr *m, float offset, float scale);
void gr_csr_free(gr_csr *m);

static inline gr_csr_view gr_csr_view_of(const gr_csr *m) {
  gr_csr_view v = {m->n_rows, m->n_cols, m->nnz, m->indptr, m->indices, m->data};
  return v;
}

#endif
