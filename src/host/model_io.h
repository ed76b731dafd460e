/* Internals of the model file shared with the fuzz target. */
#ifndef GR_HOST_MODEL_IO_H
#define GR_HOST_MODEL_IO_H

#include <stddef.h>
#include <stdint.h>

/* The checksum stored in a model file's last 8 bytes, over the bytes before. */
uint64_t gr_model_checksum(const void *data, size_t len);

#endif
