/* libadagrad — internal dispatch interface, shared by the library, the test
 * suite, the benchmarks, the report and the fuzzers (which all iterate the
 * same rows).
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

/* The ADAGRAD_CPU_* bits (kernels.h) of this CPU and OS, detected once. */
uint32_t adagrad_cpu_flags(void);

/* Whether row k can run on this CPU and OS; when not, *why_not (if
 * why_not is not NULL) is the human-readable reason ("CPU/OS lacks
 * AVX2+FMA"), else NULL. The one answer to the question: dispatch,
 * adagrad_isa_available, the tests, benchmarks, report and fuzzers all ask
 * it. */
bool adagrad_row_runnable(const adagrad_kernels *k, const char **why_not);

/* Floats per vector of row k: its fixed lanes, else the run-time count
 * (SVE's vector length) if k can run here, else 0. */
unsigned adagrad_row_lanes(const adagrad_kernels *k);

/* The library's rows, worst to best: what dispatch and adagrad_use_isa
 * choose among. */
size_t adagrad_impl_count(void);
const adagrad_kernels *adagrad_impl(size_t index);

/* Every row: the library's (adagrad_impl, in order), then the test-only
 * rows (test_only set; the NEON source through SIMDe on x86). Registered
 * in src/test_rows.c, a static library of its own that meson's
 * adagrad_rows_dep links into the tests, benchmarks, report and fuzzers;
 * the installed library has neither these two functions nor the rows.
 * NULL past the end. */
size_t adagrad_row_count(void);
const adagrad_kernels *adagrad_row(size_t index);

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
