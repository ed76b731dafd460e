/* Packing X's rows with their 0/1 features as bits; see packed_rows.h. */
#include "packed_rows.h"

#include <stdlib.h>
#include <string.h>

#include "cpu_ops.h"

void gr_packed_rows_free(gr_packed_rows *p) {
  if (!p) return;
  free(p->order);
  free(p->rows);
  memset(p, 0, sizeof *p);
}

gr_status gr_packed_rows_build(gr_packed_rows *out, const float *X, int64_t n, int d,
                               const uint8_t *binary) {
  memset(out, 0, sizeof *out);
  if (!X || !binary || n < 0 || d < 1)
    return gr_fail(GR_ERR_INVALID_ARG, "packed rows: nothing to pack (%lld rows, %d features)",
                   (long long)n, d);
  gr_packed_rows p = {.d = d, .n = n};
  p.order = malloc(sizeof(int32_t) * (size_t)d);
  if (!p.order) return gr_fail(GR_ERR_NOMEM, "cannot allocate a packed row layout");
  for (int j = 0; j < d; j++)
    if (!binary[j]) p.order[p.nf++] = j;
  for (int j = 0; j < d; j++)
    if (binary[j]) p.order[p.nf + p.nb++] = j;
  p.n_bytes = (p.nb + 7) / 8;
  p.stride = gr_packed_rows_stride(d, p.nb);
  const size_t bytes = p.stride * (size_t)(n ? n : 1);
  p.rows = aligned_alloc(GR_PACK_ALIGN, bytes);
  if (!p.rows) {
    free(p.order);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate %zu bytes of packed rows", bytes);
  }
  const int32_t *order = p.order;
  const int nf = p.nf, nb = p.nb;
  const size_t stride = p.stride, float_bytes = sizeof(float) * (size_t)nf;
  unsigned char *const rows = p.rows;
  int64_t bad_row = INT64_MAX; /* the first row where a binary feature is not 0 or 1 */
#pragma omp parallel for schedule(static) reduction(min : bad_row)
  for (int64_t r = 0; r < n; r++) {
    const float *x = X + (size_t)r * d;
    unsigned char *row = rows + (size_t)r * stride;
    float *f = (float *)(void *)row;
    for (int k = 0; k < nf; k++)
      f[k] = x[order[k]];
    unsigned char *bits = row + float_bytes;
    memset(bits, 0, stride - float_bytes);
    int bad = 0;
    for (int k0 = 0; k0 < nb; k0 += 64) { /* 64 bits at a time, in a register */
      const int k1 = nb - k0 < 64 ? nb : k0 + 64;
      uint64_t word = 0;
      for (int k = k0; k < k1; k++) {
        const float v = x[order[nf + k]];
        bad |= v != 0.0f && v != 1.0f;
        word |= (uint64_t)(v == 1.0f) << (k - k0);
      }
      for (int q = 0; q < (k1 - k0 + 7) / 8; q++) /* little-endian bytes on any host */
        bits[k0 / 8 + q] = (unsigned char)(word >> (8 * q));
    }
    if (bad && r < bad_row) bad_row = r;
  }
  if (bad_row < INT64_MAX) {
    gr_packed_rows_free(&p);
    return gr_fail(GR_ERR_INVALID_ARG,
                   "packed rows: row %lld has a feature marked binary that is not 0 or 1",
                   (long long)bad_row);
  }
  *out = p;
  return GR_OK;
}

gr_status gr_cpu_pack_rows(gr_backend *be, gr_packed_rows **packed, const float *X, int64_t n_x,
                           int d, const uint8_t *binary) {
  (void)be;
  *packed = NULL;
  int nb = 0;
  for (int j = 0; binary && j < d; j++)
    nb += binary[j] != 0;
  /* worth a copy where the passes then read at most two thirds of the bytes */
  if (d < 1 || 3 * gr_packed_rows_stride(d, nb) > 2 * sizeof(float) * (size_t)d) return GR_OK;
  gr_packed_rows *p = malloc(sizeof *p);
  if (!p) return gr_fail(GR_ERR_NOMEM, "cannot allocate packed rows");
  const gr_status st = gr_packed_rows_build(p, X, n_x, d, binary);
  if (st != GR_OK) {
    free(p);
    return st;
  }
  *packed = p;
  return GR_OK;
}

void gr_cpu_pack_rows_free(gr_backend *be, gr_packed_rows *packed) {
  (void)be;
  gr_packed_rows_free(packed);
  free(packed);
}
