/* NumPy's .npy format (version 1.0), for handing arrays to Python users:
 * np.load reads them without gpurec, as float32 or int32 matrices. */
#ifndef GR_HOST_NPY_H
#define GR_HOST_NPY_H

#include <stdint.h>
#include <stdio.h>

#include "gpurec.h"

typedef enum gr_npy_type { GR_NPY_F32, GR_NPY_I32 } gr_npy_type;

/* Writes the header of a C-order array of the given type and shape (rows,
 * cols), then its rows * cols values from data; cols < 0 makes it a vector
 * of rows values. Write errors surface when the file is committed. */
void gr_npy_write(FILE *f, gr_npy_type type, const void *data, int64_t rows, int64_t cols);

#endif
