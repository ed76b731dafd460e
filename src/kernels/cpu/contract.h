/* Fused multiply-adds for the CPU kernels' vector code: C11 mode leaves
 * floating-point contraction off, and a multiply and an add are twice the
 * arithmetic of one fma. Put GR_CONTRACT before such a function (GCC) and
 * GR_CONTRACT_BODY at the top of its body (clang). Where the target has no
 * fma the code still builds, as a multiply and an add. */
#ifndef GR_KERNELS_CPU_CONTRACT_H
#define GR_KERNELS_CPU_CONTRACT_H

#if defined(__GNUC__) && !defined(__clang__)
#define GR_CONTRACT __attribute__((optimize("fp-contract=fast")))
#else
#define GR_CONTRACT
#endif

#ifdef __clang__
#define GR_CONTRACT_BODY _Pragma("clang fp contract(fast)")
#else
#define GR_CONTRACT_BODY
#endif

#endif
