/* libadagrad tests — one checked step: run a row, compare it with the scalar
 * reference and the double oracle, and look at every sentinel.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAGRAD_TESTS_CHECK_H
#define ADAGRAD_TESTS_CHECK_H

#include <fenv.h>
#include <stddef.h>

#include "oracle.h"
#include "suite.h"

/* Bounds against the double oracle rounded once to binary32 (ulp; see
 * ulp.h and oracle.h). u = 2^-24 is the relative error of one binary32
 * rounding; an error of k·u relative to x is less than k ulp(x).
 *
 * s, no weight decay: binary32 rounds g·g + s once (fma); the oracle rounds
 * the double value once more, which can differ from a single rounding only
 * by that double rounding: ≤ 1 ulp.
 *
 * s, weight decay: the contract rounds g = fma(λ, θ, ±grad) to binary32
 * before squaring it (|δg| ≤ u·|g|), which moves g·g by up to 2u·g·g ≤
 * 2u·s; with the fma's and the oracle's roundings: < 3.5 ulp of s, so ≤ 3
 * in whole steps. (Measured: 2. Any implementation of the contract, torch
 * included, is that far from the unrounded formula.)
 *
 * θ, EXACT: relative errors add up along the contract's operations: g ≤ u
 * (decay only), s ≤ 3u, √s ≤ 2.5u, d = √s + ε ≤ 3.5u (√(s + ε): 3u), η·g ≤
 * 2u, Δ = η·g / d ≤ 6.5u, so < 6.5 ulp(Δ) ≤ 6.5 ulp(max(|θ_old|, |Δ|));
 * the final addition and the oracle's own rounding add ½ ulp(θ_new) each,
 * and ulp(θ_new) ≤ 2 ulp(max): ≤ 8.5 ulp. (Measured over ~10^8 random
 * elements: 4; against the unrounded double 4.2. The summary prints both.)
 *
 * θ, FAST: the row's documented bound (adagrad_kernels.fast_ulp, from the
 * ADAGRAD_FAST_ULP_* macros of adagrad.h), in the same metric. A row whose
 * fast_ulp is 0 (the scalar reference) must give EXACT's bits in FAST. */
#define EXACT_S_ULP 1.0
#define EXACT_S_ULP_WD 3.0
#define EXACT_THETA_ULP 8.5

/* Which elements row k's FAST kernel must compute the EXACT way (bitwise
 * equal to EXACT), from FAST's domain in adagrad.h: every element of a call
 * with η ≥ 2^100 (or ε > 2^99 outside the root); an accumulator before the
 * step that is not ≥ +0 (negative, −0, NaN); a radicand t (s, or s + ε)
 * outside [2^-100, 2^100] (zero, subnormal, huge, inf, NaN) or, with ε
 * outside the root, below half the row's fast_eps_ratio·ε²; a non-finite
 * θ, gradient or η·g; an update |Δ| that reaches 2^127. */
bool fast_must_match_exact(const adagrad_kernels *k, float theta_old, float s_old, float s_new, float grad,
                           const adagrad_options *opt);

/* The row whose FAST bits row k's FAST gives, lane for lane, or NULL:
 * sve's FAST is NEON's formula on the same architectural FRSQRTE/FRSQRTS
 * with the same fused operations (src/sve/step_sve.c), at every vector
 * length. */
const adagrad_kernels *fast_twin(const adagrad_kernels *k);

/* θ's error against the oracle in ulp of max(|θ_old|, |Δ|) (±FLT_MAX next
 * to an infinity of the same sign counts as one step); negative when the
 * two differ in kind (finite against NaN, opposite infinities...). */
double theta_error(float got, const oracle_result *o, float theta_old);

/* The exception flags a step may raise only where the scalar reference
 * raises them on the same elements (adagrad.h); FE_INEXACT and
 * FE_UNDERFLOW are not part of the promise. */
#define CHECKED_FP_FLAGS (FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW)

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
 * checked against everything the contract promises:
 *   - status ADAGRAD_OK; no sentinel word changed; grad untouched;
 *   - the CHECKED_FP_FLAGS raised equal those of the scalar reference;
 *   - s bitwise equal to the scalar reference (EXACT and FAST alike);
 *   - EXACT: θ bitwise equal to the scalar reference;
 *   - FAST: θ bitwise equal to EXACT where fast_must_match_exact, else
 *     finite exactly where EXACT's is (no overflow of its own) and within
 *     the row's fast_ulp of the oracle (or of EXACT where the oracle has no
 *     say); on a row with a FAST twin (fast_twin), θ bitwise the twin's;
 *   - s and θ within the bounds above of the double oracle.
 * Fails the running test with a description of the first bad element (and
 * the count of bad ones). The row's results are copied to out_param /
 * out_sum when those are not NULL. */
void check_step(const test_row *row, const step_case *c, const float *param0, const float *sum0,
                const float *grad, float *out_param, float *out_sum);

#endif /* ADAGRAD_TESTS_CHECK_H */
