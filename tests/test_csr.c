/* CSR building (duplicates summed, columns sorted) and transposition,
 * against a dense reference on random coordinates. */
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/csr.h"

static void test_random(uint64_t seed, int rows, int cols, int n) {
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  int32_t *r = malloc(sizeof(int32_t) * n), *c = malloc(sizeof(int32_t) * n);
  float *v = malloc(sizeof(float) * n);
  double *dense = calloc((size_t)rows * cols, sizeof(double));
  for (int e = 0; e < n; e++) {
    r[e] = (int32_t)gr_rng_below(&rng, rows);
    c[e] = (int32_t)gr_rng_below(&rng, cols);
    v[e] = (float)(1 + gr_rng_below(&rng, 5));
    if (e % 17 == 5) r[e] = -1; /* unknown ids are skipped */
    if (r[e] >= 0) dense[(size_t)r[e] * cols + c[e]] += v[e];
  }
  gr_csr m, t;
  CHECK_OK(gr_csr_from_coo(&m, rows, cols, r, c, v, n));
  CHECK_OK(gr_csr_transpose(&t, &m));
  int64_t nz = 0;
  for (size_t i = 0; i < (size_t)rows * cols; i++)
    nz += dense[i] != 0;
  CHECK(m.nnz == nz);
  CHECK(t.nnz == nz);
  int sorted = 1, match = 1;
  for (int i = 0; i < rows; i++)
    for (int64_t e = m.indptr[i]; e < m.indptr[i + 1]; e++) {
      if (e > m.indptr[i] && m.indices[e] <= m.indices[e - 1]) sorted = 0;
      if (dense[(size_t)i * cols + m.indices[e]] != m.data[e]) match = 0;
    }
  for (int j = 0; j < cols; j++)
    for (int64_t e = t.indptr[j]; e < t.indptr[j + 1]; e++) {
      if (e > t.indptr[j] && t.indices[e] <= t.indices[e - 1]) sorted = 0;
      if (dense[(size_t)t.indices[e] * cols + j] != t.data[e]) match = 0;
    }
  CHECK(sorted);
  CHECK(match);
  gr_csr_affine(&m, 1.0f, 2.0f); /* confidences: 1 + 2 r */
  int affine_ok = 1;
  for (int i = 0; i < rows; i++)
    for (int64_t e = m.indptr[i]; e < m.indptr[i + 1]; e++)
      if (m.data[e] != (float)(1.0 + 2.0 * dense[(size_t)i * cols + m.indices[e]])) affine_ok = 0;
  CHECK(affine_ok);
  gr_csr_free(&m);
  gr_csr_free(&t);
  free(r);
  free(c);
  free(v);
  free(dense);
}

/* One row by sorting equals the counting-sort build bit for bit: the same
 * columns, and repeats summed in the same order (values that round). */
static void test_one_row(uint64_t seed, int cols, int n) {
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  int32_t *r = calloc((size_t)n + 1, sizeof(int32_t)), *c = malloc(sizeof(int32_t) * (n + 1));
  float *v = malloc(sizeof(float) * (n + 1));
  for (int e = 0; e < n; e++) {
    c[e] = (int32_t)gr_rng_below(&rng, cols);
    v[e] = (float)(gr_rng_uniform(&rng) * 1e4 + 1e-3);
  }
  gr_csr a, b;
  CHECK_OK(gr_csr_from_coo(&a, 1, cols, r, c, v, n));
  CHECK_OK(gr_csr_one_row(&b, cols, c, v, n));
  CHECK(a.nnz == b.nnz && b.n_rows == 1 && b.n_cols == cols && b.indptr[0] == 0 &&
        b.indptr[1] == b.nnz);
  CHECK(memcmp(a.indices, b.indices, sizeof(int32_t) * (size_t)a.nnz) == 0);
  CHECK(memcmp(a.data, b.data, sizeof(float) * (size_t)a.nnz) == 0);
  gr_csr_free(&a);
  gr_csr_free(&b);
  if (n > 0) {
    c[n / 2] = cols; /* outside: refused */
    CHECK(gr_csr_one_row(&b, cols, c, v, n) == GR_ERR_INVALID_ARG);
  }
  free(r);
  free(c);
  free(v);
}

int main(void) {
  test_one_row(5, 10, 200); /* many repeats */
  test_one_row(6, 100000, 300);
  test_one_row(7, 4, 0);
  test_random(1, 10, 7, 50);
  test_random(2, 1, 1, 5);
  test_random(3, 300, 200, 5000);
  test_random(4, 50, 3000, 800); /* more columns than rows */
  return gr_test_finish();
}
