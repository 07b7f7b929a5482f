/* libadagrad tests — one checked step: run a row, compare it with the
 * contract's reference element and double oracle (contract.h), and look at
 * every sentinel.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAGRAD_TESTS_CHECK_H
#define ADAGRAD_TESTS_CHECK_H

#include <fenv.h>
#include <stddef.h>

#include "contract.h"
#include "suite.h"

/* The row whose FAST bits row k's FAST gives, lane for lane, or NULL:
 * sve's FAST is NEON's formula on the same architectural FRSQRTE/FRSQRTS
 * with the same fused operations (src/sve/step_sve.c), at every vector
 * length. */
const adagrad_kernels *fast_twin(const adagrad_kernels *k);

/* The exception flags a step may raise only where the contract's
 * operations, one element at a time, raise them (adagrad.h; measured on
 * contract.h's reference); FE_INEXACT and FE_UNDERFLOW are not part of the
 * promise. */
#define CHECKED_FP_FLAGS (FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW)

/* The CHECKED_FP_FLAGS the reference raises: contract_ref_dense over
 * (param, sum, grad), in place, between clearing and reading the flags.
 * It is not inlined, so no compiler (none models the floating-point
 * environment) moves the arithmetic out from between the two. */
int reference_flags(const adagrad_options *opt, float *param, float *sum, const float *grad, size_t n);

/* "FE_INVALID|FE_OVERFLOW", or "none": a static string per combination. */
const char *fp_flags_name(int flags);

/* The COMBOS combinations of (MAXIMIZE, EPS_INSIDE, FAST) × weight decay
 * on/off: bits 0–2 of `combo` select the flags, bit 3 the decay (wd). */
#define COMBOS 16
adagrad_options combo_options(unsigned combo, float lr, float eps, float wd);

typedef struct step_case {
    const char *what;     /* the body's name, for messages */
    size_t n;
    size_t mis[3];        /* misalignment of param, sum, grad, in floats (guarded.h) */
    adagrad_options opt;
} step_case;

/* One step of `row` on copies of (param0, sum0, grad) in fenced buffers,
 * checked against everything the contract promises (contract.h):
 *   - status ADAGRAD_OK; no sentinel word changed; grad untouched;
 *   - the CHECKED_FP_FLAGS raised equal those of the reference element
 *     (contract_ref_elem, EXACT) over the same inputs;
 *   - s bitwise equal to the reference's (EXACT and FAST alike);
 *   - EXACT: θ bitwise equal to the reference's;
 *   - FAST: θ bitwise equal to EXACT's where contract_fast_may_estimate
 *     says no, else within the row's fast_ulp by contract_fast_error (the
 *     oracle, or EXACT where the oracle has no say; finite exactly where
 *     EXACT is); on a row with a FAST twin (fast_twin), θ bitwise the
 *     twin's;
 *   - s and θ within contract.h's bounds of the double oracle.
 * Fails the running test with a description of the first bad element (and
 * the count of bad ones). The row's results are copied to out_param /
 * out_sum when those are not NULL. */
void check_step(const test_row *row, const step_case *c, const float *param0, const float *sum0,
                const float *grad, float *out_param, float *out_sum);

#endif /* ADAGRAD_TESTS_CHECK_H */
