/* X's rows with their 0/1 features as bits, for the CPU passes that wait
 * on memory for the rows they read: the logistic passes (logreg.c) and
 * the KMeans dots (kmeans_dots.h). On the leads bench 158 of the encoded
 * market's 190 features are 0 or 1 in every row (one-hot levels, missing
 * indicators, booleans), so a row packs into 160 bytes instead of 764.
 *
 * A packed row holds its nf other features as floats, then nb bits (byte
 * q, bit l: binary feature 8 q + l), padded with zeros to a multiple of 32
 * bytes. The passes work in the packed order (the float features, then the
 * binary ones, each in X's order; `order` maps a packed position to its
 * feature) and map their sums back to X's order at the end. Which
 * features are binary is the caller's choice (gr_packed_rows_build's
 * `binary`), so that every batch of a fit packs alike and sums alike.
 * CPU only. */
#ifndef GR_KERNELS_CPU_PACKED_ROWS_H
#define GR_KERNELS_CPU_PACKED_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/error.h"

#define GR_PACK_ALIGN 32

typedef struct gr_packed_rows {
  int d, nf, nb;
  int n_bytes;    /* bytes of bits per row: ceil(nb / 8) */
  size_t stride;  /* bytes per row */
  int32_t *order; /* (d) packed position -> feature */
  int64_t n;
  unsigned char *rows; /* (n, stride), GR_PACK_ALIGN-aligned */
} gr_packed_rows;

/* Bytes per packed row for nb of d features binary. */
static inline size_t gr_packed_rows_stride(int d, int nb) {
  const size_t bytes = sizeof(float) * (size_t)(d - nb) + ((size_t)nb + 7) / 8;
  return (bytes + GR_PACK_ALIGN - 1) / GR_PACK_ALIGN * GR_PACK_ALIGN;
}

/* Packs X (n, d) with the features flagged in binary (d), each of which
 * must be 0 or 1 in every row (GR_ERR_INVALID_ARG otherwise). Threads:
 * OpenMP's. On failure *out is left empty. */
gr_status gr_packed_rows_build(gr_packed_rows *out, const float *X, int64_t n, int d,
                               const uint8_t *binary);
void gr_packed_rows_free(gr_packed_rows *p);

static inline const float *gr_packed_rows_floats(const gr_packed_rows *p, int64_t row) {
  return (const float *)(const void *)(p->rows + (size_t)row * p->stride);
}

static inline const unsigned char *gr_packed_rows_bits(const gr_packed_rows *p, int64_t row) {
  return p->rows + (size_t)row * p->stride + sizeof(float) * (size_t)p->nf;
}

/* GR_OK when p is NULL or packs n rows of d features; else why not. */
static inline gr_status gr_packed_rows_check(const gr_packed_rows *p, int64_t n, int d) {
  if (!p || (p->d == d && p->n == n && (p->rows || n == 0))) return GR_OK;
  return gr_fail(GR_ERR_INVALID_ARG, "packed rows of %lld x %d features given for %lld x %d",
                 (long long)p->n, p->d, (long long)n, d);
}

#endif
