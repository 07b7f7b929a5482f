/* libadagrad tests — the numerical contract of include/adagrad.h, written
 * once for everything that checks it: the suite (tests/), the fuzzers
 * (fuzz/), the robustness tests (robustness/) and the report (tools/).
 * SPDX-License-Identifier: MIT
 *
 *   bits       f32_bits, f32_from_bits, same_f32 (the contract's bitwise
 *              rule), next_up, next_down
 *   reference  contract_ref_elem: one element, EXACT, in binary32;
 *              contract_ref_dense: a dense step of n elements;
 *              contract_ref_rowwise: one row of a row-wise step, in the
 *              header's canonical order
 *   oracle     contract_oracle_step: the formula in double, rounded once
 *   ulp        ulp_of, ulp_error, contract_theta_error (θ in ulp of
 *              max(|θ_old|, |Δ|)), contract_s_error (s in ulp of s)
 *   bounds     what EXACT's θ and s may be from the oracle, with their
 *              derivations; FAST's bound is the row's fast_ulp
 *   FAST       contract_fast_may_estimate: the domain rule (which elements
 *              a row's FAST kernel may compute with its estimates; every
 *              other one must give EXACT's bits), and contract_fast_error:
 *              how far FAST's θ is from where it must be
 *
 * Everything is static inline and needs only adagrad.h and the C library,
 * so any C file of the project can include it. The reference takes the
 * public options (adagrad_options, not the kernels' resolved
 * adagrad_kparams) and shares no code with the library: it is the contract
 * written out again, so that comparing a row with it tests the scalar row
 * too.
 *
 * The reference is the contract only as compiled here: meson.build gives
 * every C file -ffp-contract=off and none -ffast-math, so each binary32
 * operation below is one IEEE operation, rounded once, in the order
 * written; the two fmas of the contract are explicit fmaf calls. The
 * preprocessor can see two of those conditions, and the checks below
 * refuse a build without them; contraction it cannot see.
 */
#ifndef ADAGRAD_TESTS_CONTRACT_H
#define ADAGRAD_TESTS_CONTRACT_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "adagrad.h"

#if defined(__FAST_MATH__)
#error "contract.h: -ffast-math reassociates and drops IEEE semantics; the reference needs them"
#endif
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "contract.h: binary32 operations must round to binary32 (FLT_EVAL_METHOD 0)"
#endif

/* ======== Bits ======== */

static inline uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float f32_from_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The contract's bitwise rule: identical bits, or both NaN (a NaN's sign
 * and payload are not part of the contract: C does not fix which operand's
 * NaN an operation returns). */
static inline bool same_f32(float a, float b)
{
    return (isnan(a) && isnan(b)) || f32_bits(a) == f32_bits(b);
}

/* The value one binary32 step away from x towards +inf / -inf (finite x). */
static inline float next_up(float x) { return nextafterf(x, INFINITY); }
static inline float next_down(float x) { return nextafterf(x, -INFINITY); }

/* ======== The reference: EXACT in binary32 ======== */

/* One element after one step, and step 2's gradient. */
typedef struct contract_elem {
    float theta; /* θ after the step */
    float s;     /* s after the step */
    float g;     /* g after steps 1-2 */
} contract_elem;

/* The contract's five steps for one element, one binary32 operation each,
 * in its order (adagrad.h): the gradient, negated with MAXIMIZE; with λ ≠ 0
 * fma(λ, θ, g) (λ = 0 skips it: fma(0, θ, g) is NaN for an infinite θ and
 * +0 for g = −0); s = fma(g, g, s_old); d = √s + ε, or √(s + ε) with
 * EPS_INSIDE; θ + (−η·g)/d. ADAGRAD_FAST is ignored: this is EXACT, which
 * FAST gives outside its domain. It raises exactly the flags the contract's
 * operations raise, which adagrad.h promises of every row. */
/* Steps 1-2: the gradient the step uses. */
static inline float contract_grad(const adagrad_options *o, float theta, float grad)
{
    float g = grad;
    if (o->flags & ADAGRAD_MAXIMIZE)
        g = -grad; /* 1 */
    if (o->weight_decay != 0.0f)
        g = fmaf(o->weight_decay, theta, g); /* 2 */
    return g;
}

/* Step 4: the denominator for accumulator s. */
static inline float contract_denominator(const adagrad_options *o, float s)
{
    if (o->flags & ADAGRAD_EPS_INSIDE) {
        const float t = s + o->eps;
        return sqrtf(t);
    }
    const float root = sqrtf(s);
    return root + o->eps;
}

static inline contract_elem contract_ref_elem(const adagrad_options *o, float theta, float s_old, float grad)
{
    const float g = contract_grad(o, theta, grad); /* 1-2 */
    const float s = fmaf(g, g, s_old);             /* 3 */
    const float d = contract_denominator(o, s);    /* 4 */
    const float neg_lr = -o->lr; /* 5: the negation is exact */
    const float x = neg_lr * g;
    const float q = x / d;
    const contract_elem r = {.theta = theta + q, .s = s, .g = g};
    return r;
}

/* A dense EXACT step of n elements, in place, element by element. */
static inline void contract_ref_dense(const adagrad_options *o, float *param, float *sum, const float *grad,
                                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const contract_elem e = contract_ref_elem(o, param[i], sum[i], grad[i]);
        param[i] = e.theta;
        sum[i] = e.s;
    }
}

/* One table row of the row-wise step, in place (adagrad.h,
 * adagrad_rowwise_step_f32): g_j from steps 1-2; m = mean_j g_j² in the
 * canonical order (16 partial sums from +0, p[j mod 16] = fma(g_j, g_j,
 * p[j mod 16]) in index order, the tree p[k] += p[k+8], p[k+4], p[k+2],
 * then p[0] += p[1], one division by (float)dim); s = row_sum + m;
 * d = √s + ε or √(s + ε); θ_j + (−η·g_j)/d. dim = 0 writes nothing, as
 * the library's table steps. ADAGRAD_FAST changes nothing (adagrad.h). */
static inline void contract_ref_rowwise(const adagrad_options *o, float *param, float *row_sum, const float *grad,
                                        size_t dim)
{
    if (dim == 0)
        return;
    float p[16];
    for (int k = 0; k < 16; k++)
        p[k] = 0.0f;
    for (size_t j = 0; j < dim; j++) {
        const float g = contract_grad(o, param[j], grad[j]);
        p[j % 16] = fmaf(g, g, p[j % 16]);
    }
    for (int w = 8; w >= 1; w /= 2)
        for (int k = 0; k < w; k++)
            p[k] = p[k] + p[k + w];
    const float m = p[0] / (float)dim;
    const float s = *row_sum + m;
    const float d = contract_denominator(o, s);
    const float neg_lr = -o->lr;
    for (size_t j = 0; j < dim; j++) {
        const float g = contract_grad(o, param[j], grad[j]);
        const float x = neg_lr * g;
        const float q = x / d;
        param[j] = param[j] + q;
    }
    *row_sum = s;
}

/* ======== The oracle: the formula in double, rounded once ======== */

/* One element of one step, evaluated in binary64 from the binary32 inputs
 * and rounded once to binary32 at the end:
 *
 *     g = ±grad (+ λ·θ)        λ·θ is exact in double (24 × 24 bits)
 *     s = g·g + s_old
 *     d = √s + ε   or   √(s + ε)
 *     Δ = (−η·g) / d,   θ = θ_old + Δ
 *
 * Where the double formula says something the binary32 contract cannot,
 * the θ comparison is meaningless and `theta_domain` is false: the binary32
 * contract rounds g, s and η·g to binary32 on the way, so when one of them
 * leaves the normal range (overflow to inf, or a subnormal that has lost
 * relative precision) the two legitimately part. Those elements are still
 * checked bit for bit against the reference (FAST against EXACT). Special
 * values (inf, NaN, 0/0) follow IEEE in double exactly as in binary32, so
 * they stay in the domain and must give the same class of result.
 *
 * s: binary32 computes fma(g, g, s_old), one rounding of the exact value,
 * and the oracle rounds the double value once more; overflow of g·g + s
 * gives inf in both. Only with weight decay can binary32's g itself
 * overflow (|λ·θ + g| > FLT_MAX) where the double g stays finite: then
 * `s_domain` is false (inf − inf = NaN in binary32, −inf in double). */
typedef struct contract_oracle {
    double g;          /* step 1-2 gradient */
    double s;          /* new accumulator, unrounded */
    double delta;      /* the update Δ, unrounded */
    double theta;      /* new parameter, unrounded */
    float s_ref;       /* s rounded once to binary32 */
    float theta_ref;   /* θ rounded once to binary32 */
    bool s_domain;     /* false where binary32's g overflows and double's does not */
    bool theta_domain; /* false where binary32 intermediates must depart (see above) */
} contract_oracle;

/* 0, or a magnitude in binary32's normal range. Non-finite values pass:
 * they propagate identically in double and binary32. */
static inline bool contract_normal_or_special(double x)
{
    const double a = fabs(x);
    return !isfinite(x) || a == 0.0 || (a >= 0x1p-126 && a <= FLT_MAX);
}

static inline contract_oracle contract_oracle_step(const adagrad_options *o, float theta_old, float s_old, float grad)
{
    contract_oracle r;
    double g = (o->flags & ADAGRAD_MAXIMIZE) ? -(double)grad : (double)grad;
    if (o->weight_decay != 0.0f)
        g = (double)o->weight_decay * (double)theta_old + g;
    const double s = g * g + (double)s_old;
    const double d = (o->flags & ADAGRAD_EPS_INSIDE) ? sqrt(s + (double)o->eps) : sqrt(s) + (double)o->eps;
    const double neg_lr_g = -(double)o->lr * g;
    const double delta = neg_lr_g / d;
    r.g = g;
    r.s = s;
    r.delta = delta;
    r.theta = (double)theta_old + delta;
    r.s_ref = (float)s;
    r.theta_ref = (float)r.theta;
    r.s_domain = !(isfinite(g) && fabs(g) > FLT_MAX);
    r.theta_domain = r.s_domain && contract_normal_or_special(s) && contract_normal_or_special(neg_lr_g) &&
                     (o->weight_decay == 0.0f || contract_normal_or_special(g)) &&
                     !(isfinite(delta) && fabs(delta) > FLT_MAX);
    return r;
}

/* ======== ulp ======== */

/* An error is measured in ulp of a binary32 magnitude: ulp_of(x) is the
 * spacing of binary32 numbers at |x|, 2^(e-23) for |x| in [2^e, 2^(e+1)),
 * 2^-149 in the subnormal range and at 0, and FLT_MAX's 2^104 from 2^127
 * on (x in double, not NaN). */
static inline double ulp_of(double x)
{
    x = fabs(x);
    if (!(x >= 0x1p-126))
        return 0x1p-149;
    if (x >= 0x1p127)
        return 0x1p104;
    int e;
    frexp(x, &e); /* x = m * 2^e, m in [0.5, 1): x in [2^(e-1), 2^e) */
    return ldexp(1.0, e - 1 - 23);
}

/* |got − ref| in ulp of the magnitude `scale`; both finite. */
static inline double ulp_error(float got, double ref, double scale)
{
    return fabs((double)got - ref) / ulp_of(scale);
}

/* θ's scale: max(|θ_old|, |Δ|), in double (an update that cancels θ to
 * near zero would otherwise make any error look huge; docs/design.md). */
static inline double contract_theta_scale(float theta_old, double delta)
{
    return fmax(fabs((double)theta_old), fabs(delta));
}

/* The error of a result `got` against a binary32 reference `ref` (both
 * from the same θ_old), in ulp of `scale`: bits-equal (NaN equal to NaN)
 * is 0; both finite, their distance; ±FLT_MAX next to the infinity of the
 * same sign counts as one step of FLT_MAX's ulp (rounding at the top of
 * the range); any other mismatch of kind (finite against NaN, opposite
 * infinities, ...) is INFINITY, beyond every bound. */
static inline double contract_f32_error(float got, float ref, double scale)
{
    if (same_f32(got, ref))
        return 0.0;
    if (isfinite(got) && isfinite(ref))
        return ulp_error(got, ref, scale);
    if (!isnan(got) && !isnan(ref) && signbit(got) == signbit(ref) &&
        (fabsf(got) == FLT_MAX || fabsf(ref) == FLT_MAX))
        return 0x1p104 / ulp_of(scale);
    return INFINITY;
}

/* θ's error against the oracle (rounded once), in ulp of max(|θ_old|, |Δ|). */
static inline double contract_theta_error(float got, const contract_oracle *o, float theta_old)
{
    return contract_f32_error(got, o->theta_ref, contract_theta_scale(theta_old, o->delta));
}

/* θ's error against the unrounded double θ, in the same ulp: the rounded
 * metric moves in steps of ulp(θ_new), this one shows the margin (for the
 * printed summaries; 0 unless both are finite). */
static inline double contract_theta_error_unrounded(float got, const contract_oracle *o, float theta_old)
{
    if (!isfinite(got) || !isfinite(o->theta_ref))
        return 0.0;
    return ulp_error(got, o->theta, contract_theta_scale(theta_old, o->delta));
}

/* s's error against the oracle, in ulp of s (its unrounded value). */
static inline double contract_s_error(float got, const contract_oracle *o)
{
    return contract_f32_error(got, o->s_ref, o->s);
}

/* ======== Bounds against the oracle ========
 *
 * In ulp, as measured above. u = 2^-24 is the relative error of one
 * binary32 rounding; an error of k·u relative to x is less than k ulp(x).
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
 * elements: 4; against the unrounded double 4.2. The suite prints both.)
 *
 * θ, FAST: the row's documented bound (adagrad_kernels.fast_ulp, from the
 * ADAGRAD_FAST_ULP_* macros of adagrad.h), in the same metric, for the
 * elements contract_fast_may_estimate admits; every other element must give
 * EXACT's bits.
 *
 * All of them hold while η·g, g and s stay in binary32's normal range,
 * which is what theta_domain and s_domain say. */
#define CONTRACT_EXACT_S_ULP 1.0
#define CONTRACT_EXACT_S_ULP_WD 3.0
#define CONTRACT_EXACT_THETA_ULP 8.5

/* s's bound for a call with these options. */
static inline double contract_exact_s_ulp(const adagrad_options *o)
{
    return o->weight_decay != 0.0f ? CONTRACT_EXACT_S_ULP_WD : CONTRACT_EXACT_S_ULP;
}

/* The row-wise step against the same formula in double (m = mean of the
 * double g_j², s = row_sum + m, then as above per element), in ulp of s
 * and of max(|θ_old|, |Δ_j|): the 16-way sum rounds ≤ ⌈dim/16⌉ + 4 times
 * over non-negative terms, g² (with decay) 2 more, the division and the
 * addition 1 each, the oracle ½: ⌈dim/16⌉ + 9 for s. θ_j has EXACT's 8.5
 * plus half of s's (√s halves a relative error). */
static inline double contract_rowwise_s_ulp(size_t dim)
{
    return ceil((double)dim / 16.0) + 9.0;
}

static inline double contract_rowwise_theta_ulp(size_t dim)
{
    return contract_rowwise_s_ulp(dim) / 2.0 + CONTRACT_EXACT_THETA_ULP;
}

/* ======== FAST ======== */

/* FAST's domain (adagrad.h, "FAST's domain"): an element may take a row's
 * estimates only in a call with η < 2^100, when its accumulator before the
 * step is ≥ +0 (sign bit clear, not NaN) and its radicand t (s after the
 * step, or s + ε with EPS_INSIDE, in binary32) lies in [lo, 2^100]:
 *   lo = 2^-100 with EPS_INSIDE;
 *   lo = ratio·ε² with ε outside the root, where ratio is the row's
 *        fast_eps_ratio, rounded once to binary32 and raised to 2^-100
 *        when smaller; above 2^100 no radicand qualifies and the whole
 *        call runs EXACT.
 * ratio = 0 is a row without estimates (the scalar reference): no element
 * qualifies. Every element outside the domain must give EXACT's bits.
 * Inside it t ≥ g², so |Δ| ≤ η(1 + 2^-20) < 2^127 wherever binary32's η·g
 * is finite: FAST cannot overflow on its own there. Where η·g itself
 * overflows (η = 2^99, g = 2^50, s_old = 0 is in the domain), EXACT's θ is
 * infinite, the oracle has no say, and contract_fast_error holds FAST to
 * EXACT's bits.
 *
 * lo is formed in double, where ratio·ε² is exact (a power of two times a
 * 48-bit square), and clamped to [2^-100, 2^100] before its one rounding
 * to binary32, so forming it raises no flag (a test compares flags). */
#define CONTRACT_FAST_MIN 0x1p-100f
#define CONTRACT_FAST_MAX 0x1p100f
#define CONTRACT_FAST_LR_MAX 0x1p100f

/* lo for one call of a row with this ratio; +inf: the call runs EXACT. */
static inline float contract_fast_lo(float ratio, const adagrad_options *o)
{
    if (o->flags & ADAGRAD_EPS_INSIDE)
        return CONTRACT_FAST_MIN;
    const double lo = (double)ratio * (double)o->eps * (double)o->eps;
    const double min = CONTRACT_FAST_MIN, max = CONTRACT_FAST_MAX;
    const float in_range = (float)(lo < min ? min : lo > max ? max : lo);
    return lo > max ? INFINITY : in_range;
}

/* Whether a row with this fast_eps_ratio may compute this element (its
 * accumulator s_old before the step, s_new after it, which FAST computes
 * exactly as EXACT does) with its estimates. */
static inline bool contract_fast_may_estimate(float ratio, const adagrad_options *o, float s_old, float s_new)
{
    if (ratio == 0.0f || !(o->lr < CONTRACT_FAST_LR_MAX))
        return false;
    if (signbit(s_old) || isnan(s_old))
        return false;
    const float lo = contract_fast_lo(ratio, o);
    const float t = (o->flags & ADAGRAD_EPS_INSIDE) ? s_new + o->eps : s_new;
    return t >= lo && t <= CONTRACT_FAST_MAX; /* false for NaN and for lo = inf */
}

/* FAST's θ error for an element contract_fast_may_estimate admits, given
 * the oracle and EXACT's θ (the reference's) from the same inputs: INFINITY
 * when FAST is finite where EXACT is not or the reverse (FAST never
 * overflows where EXACT does not, adagrad.h); against the oracle where it
 * has a say; elsewhere against EXACT, in ulp of max(|θ_old|, |Δ_exact|),
 * non-finite results bit for bit. Compare with the row's fast_ulp. */
static inline double contract_fast_error(float got, const contract_oracle *o, float theta_old, float exact_theta)
{
    if (isfinite(got) != isfinite(exact_theta))
        return INFINITY;
    if (o->theta_domain)
        return contract_theta_error(got, o, theta_old);
    const double delta = (double)exact_theta - (double)theta_old;
    return contract_f32_error(got, exact_theta, contract_theta_scale(theta_old, isfinite(delta) ? delta : 0.0));
}

#endif /* ADAGRAD_TESTS_CONTRACT_H */
