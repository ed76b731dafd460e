/* What this gpurec was built with and what it finds at run time (`gpurec
 * --version`): the CPU backend's BLAS, the CUDA backend and a usable GPU,
 * and the input formats, so that a report of a problem says it all. */
#ifndef GR_HOST_BUILD_INFO_H
#define GR_HOST_BUILD_INFO_H

#include <stdio.h>

/* Prints one "name: value" line per item; probes the GPU (quietly). */
void gr_print_build_info(FILE *f);

#endif
