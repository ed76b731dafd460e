/* The .npy writer; see npy.h. The header is a Python dict literal padded
 * with spaces so that the data starts on a 64-byte boundary (what NumPy
 * itself writes), and the values are written in the host's byte order,
 * which the header's descr names. */
#include "npy.h"

#include <string.h>

void gr_npy_write(FILE *f, gr_npy_type type, const void *data, int64_t rows, int64_t cols) {
  const uint16_t probe = 1;
  const char order = *(const uint8_t *)&probe ? '<' : '>';
  char dict[160];
  int len =
      cols >= 0
          ? snprintf(dict, sizeof dict,
                     "{'descr': '%c%s', 'fortran_order': False, 'shape': (%lld, %lld), }", order,
                     type == GR_NPY_F32 ? "f4" : "i4", (long long)rows, (long long)cols)
          : snprintf(dict, sizeof dict,
                     "{'descr': '%c%s', 'fortran_order': False, 'shape': (%lld,), }", order,
                     type == GR_NPY_F32 ? "f4" : "i4", (long long)rows);
  /* magic (6), version (2), header length (2), dict, spaces, '\n' */
  const int total = (10 + len + 1 + 63) / 64 * 64, header = total - 10;
  const uint8_t pre[10] = {
      0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(header & 0xFF), (uint8_t)(header >> 8)};
  fwrite(pre, 1, sizeof pre, f);
  fwrite(dict, 1, (size_t)len, f);
  for (int i = 10 + len; i < total - 1; i++)
    fputc(' ', f);
  fputc('\n', f);
  const size_t n = (size_t)rows * (size_t)(cols >= 0 ? cols : 1);
  if (n) fwrite(data, 4, n, f);
}
