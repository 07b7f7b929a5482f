/* libadagrad — the internal API: the rows, dispatch, validation and the
 * plan, shared by the library, the test suite, the benchmarks (the
 * report's engine) and the fuzzers, which all iterate the same rows.
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
 * adagrad_isa_available, the tests, benchmarks and fuzzers all ask
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
 * adagrad_rows_dep links into the tests, benchmarks and fuzzers;
 * the installed library has neither these two functions nor the rows.
 * NULL past the end. */
size_t adagrad_row_count(void);
const adagrad_kernels *adagrad_row(size_t index);

/* The kernel row the public steps use now (initialises dispatch once). */
const adagrad_kernels *adagrad_active_kernels(void);

/* ---- Validation (src/api.c), shared by every entry point ---- */

/* opt: ADAGRAD_ERR_NULL, ADAGRAD_ERR_PARAM (a hyper-parameter, or a flag
 * outside allowed_flags) or ADAGRAD_OK. */
int adagrad_check_options(const adagrad_options *opt, unsigned allowed_flags);

/* The element types of a parameter or table and its gradient:
 * ADAGRAD_ERR_PARAM unless the library steps that pair. */
int adagrad_check_types(adagrad_dtype data, adagrad_dtype grad);

/* Bytes per element of a dtype. */
size_t adagrad_dtype_size(adagrad_dtype type);

/* The end of [p, p + bytes) is not representable. */
bool adagrad_wraps(const void *p, size_t bytes);

/* [a, a + a_bytes) and [b, b + b_bytes) share a byte (neither wraps). */
bool adagrad_overlap(const void *a, size_t a_bytes, const void *b, size_t b_bytes);

/* Every check of adagrad_step, nothing written: ADAGRAD_OK or the status. */
int adagrad_check_dense(const adagrad_dense *t, const adagrad_options *opt);

/* ---- The plan: options resolved once ---- */

/* What a validated call runs: one kernel of the row and its constants. */
typedef struct adagrad_plan {
    adagrad_kparams kp;
    adagrad_dense_fn dense;     /* dense steps and element-wise table rows (TORCH_SPARSE: torch's order) */
    adagrad_rowwise_fn rowwise; /* ADAGRAD_ROWWISE table rows */
} adagrad_plan;

/* The plan of row k for validated options: the variant for weight decay,
 * EPS_INSIDE and FAST (FAST only where the row has estimates and the call
 * is in FAST's domain, kernels.h), MAXIMIZE folded into η or the sign. */
void adagrad_make_plan(const adagrad_kernels *k, const adagrad_options *opt, adagrad_plan *plan);

/* adagrad_step with an explicit row; adagrad_step_f32_with is it for fp32
 * buffers. Tests call them for every row, test-only rows (NEON through
 * SIMDe on x86) included. */
int adagrad_step_with(const adagrad_kernels *k, const adagrad_dense *t, const adagrad_options *opt);
int adagrad_step_f32_with(const adagrad_kernels *k, float *param, float *sum, const float *grad, size_t n,
                          const adagrad_options *opt);

/* How many parts (threads with work) adagrad_step_mt uses for n
 * elements and its `threads` argument; ≤ 1 means the calling thread alone. */
size_t adagrad_mt_parts(size_t n, int threads);

#ifdef __cplusplus
}
#endif

#endif /* ADAGRAD_SRC_DISPATCH_H */
