/* libadagrad — internal dispatch interface, shared by the library, the test
 * suite, the benchmarks and the report (which all iterate the same table).
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAGRAD_SRC_DISPATCH_H
#define ADAGRAD_SRC_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CPU features the implementations need, as detected once (CPU *and* OS). */
enum {
    ADAGRAD_CPU_AVX2 = 1u << 0,   /* AVX + AVX2 + FMA, and the OS saves YMM state */
    ADAGRAD_CPU_AVX512 = 1u << 1, /* AVX-512F, and the OS saves opmask + ZMM state */
    ADAGRAD_CPU_NEON = 1u << 2,   /* AArch64 Advanced SIMD (HWCAP_ASIMD) */
    ADAGRAD_CPU_SVE = 1u << 3     /* AArch64 SVE, enabled by the kernel for user space (HWCAP_SVE) */
};
uint32_t adagrad_cpu_flags(void);

/* The CPU features an ISA needs (0 for scalar). */
uint32_t adagrad_isa_requirements(adagrad_isa isa);

/* The implementations compiled into the library, worst to best. */
size_t adagrad_impl_count(void);
const adagrad_kernels *adagrad_impl(size_t index);

/* The kernel row adagrad_step_f32 uses now (initialises dispatch once). */
const adagrad_kernels *adagrad_active_kernels(void);

/* Every check of adagrad_step_f32, nothing written: ADAGRAD_OK or the status. */
int adagrad_validate_dense(float *param, float *sum, const float *grad, size_t n,
                           const adagrad_options *opt);

/* The kernel of row k for validated options, and its parameters in *kp. */
adagrad_dense_fn adagrad_dense_kernel(const adagrad_kernels *k, const adagrad_options *opt,
                                      adagrad_kparams *kp);

/* adagrad_step_f32 with an explicit kernel row: validation, then the
 * row's EXACT or FAST kernel. Tests call it for every row, test-only rows
 * (NEON through SIMDe on x86) included. */
int adagrad_step_f32_with(const adagrad_kernels *k, float *param, float *sum,
                          const float *grad, size_t n,
                          const adagrad_options *opt);

/* How many parts (threads with work) adagrad_step_f32_mt uses for n
 * elements and its `threads` argument; ≤ 1 means the calling thread alone. */
size_t adagrad_mt_parts(size_t n, int threads);

#ifdef __cplusplus
}
#endif

#endif /* ADAGRAD_SRC_DISPATCH_H */
