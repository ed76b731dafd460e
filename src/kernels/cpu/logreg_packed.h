/* X's rows for the CPU logistic passes with their 0/1 features as bits.
 * On the leads bench 158 of the encoded market's 190 features are 0 or 1
 * in every row (one-hot levels, missing indicators, booleans), so a row
 * packs into 160 bytes instead of 764: the passes, which wait on memory
 * for the rows they gather, read a fifth of the bytes.
 *
 * A packed row holds its nf other features as floats, then nb bits (byte
 * q, bit l: binary feature 8 q + l), padded to a multiple of 32 bytes.
 * The passes work in the packed order (the float features, then the
 * binary ones, each in X's order; `order` maps a packed position to its
 * feature) and map their sums back to X's order at the end. Which
 * features are binary is the caller's choice (gr_lr_packed_build's
 * `binary`), so that every batch of a fit packs alike and sums alike.
 * CPU only. */
#ifndef GR_KERNELS_CPU_LOGREG_PACKED_H
#define GR_KERNELS_CPU_LOGREG_PACKED_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/error.h"

#define GR_LR_PACK_ALIGN 32

typedef struct gr_lr_packed {
  int d, nf, nb;
  int n_bytes;    /* bytes of bits per row: ceil(nb / 8) */
  size_t stride;  /* bytes per row */
  int32_t *order; /* (d) packed position -> feature */
  int64_t n;
  unsigned char *rows; /* (n, stride), GR_LR_PACK_ALIGN-aligned */
} gr_lr_packed;

/* Bytes per packed row for nb of d features binary. */
static inline size_t gr_lr_packed_stride(int d, int nb) {
  const size_t bytes = sizeof(float) * (size_t)(d - nb) + ((size_t)nb + 7) / 8;
  return (bytes + GR_LR_PACK_ALIGN - 1) / GR_LR_PACK_ALIGN * GR_LR_PACK_ALIGN;
}

/* Packs X (n, d) with the features flagged in binary (d), each of which
 * must be 0 or 1 in every row (GR_ERR_INVALID_ARG otherwise). Threads:
 * OpenMP's. On failure *out is left empty. */
gr_status gr_lr_packed_build(gr_lr_packed *out, const float *X, int64_t n, int d,
                             const uint8_t *binary);
void gr_lr_packed_free(gr_lr_packed *p);

static inline const float *gr_lr_packed_floats(const gr_lr_packed *p, int64_t row) {
  return (const float *)(const void *)(p->rows + (size_t)row * p->stride);
}

static inline const unsigned char *gr_lr_packed_bits(const gr_lr_packed *p, int64_t row) {
  return p->rows + (size_t)row * p->stride + sizeof(float) * (size_t)p->nf;
}

#endif
