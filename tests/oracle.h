/* libadagrad tests — the independent oracle: the contract's formula in double.
 * SPDX-License-Identifier: MIT
 *
 * One element of one step, evaluated in binary64 from the binary32 inputs and
 * rounded once to binary32 at the end (docs/design.md, "How error is
 * measured"):
 *
 *     g = ±grad (+ λ·θ)        λ·θ is exact in double (24 × 24 bits)
 *     s = g·g + s_old
 *     d = √s + ε   or   √(s + ε)
 *     Δ = (−η·g) / d,   θ = θ_old + Δ
 *
 * The test file is built with -ffp-contract=off, so none of these is fused.
 *
 * Where the double formula says something the binary32 contract cannot, the
 * θ comparison is meaningless and `theta_domain` is false: the binary32
 * contract rounds g, s and η·g to binary32 on the way, so when one of them
 * leaves the normal range (overflow to inf, or a subnormal that has lost
 * relative precision) the two legitimately part. Those elements are still
 * checked bit for bit against the scalar reference. Special values (inf,
 * NaN, 0/0) follow IEEE in double exactly as in binary32, so they stay in
 * the domain and must give the same class of result.
 *
 * s: binary32 computes fma(g, g, s_old), one rounding of the exact value,
 * and the oracle rounds the double value once more; overflow of g·g + s
 * gives inf in both. Only with weight decay can binary32's g itself
 * overflow (|λ·θ + g| > FLT_MAX) where the double g stays finite: then
 * `s_domain` is false (inf − inf = NaN in binary32, −inf in double).
 */
#ifndef ADAGRAD_TESTS_ORACLE_H
#define ADAGRAD_TESTS_ORACLE_H

#include <float.h>
#include <math.h>
#include <stdbool.h>

#include "adagrad.h"

typedef struct oracle_result {
    double g;            /* step 1–2 gradient */
    double s;            /* new accumulator, unrounded */
    double delta;        /* the update Δ, unrounded */
    double theta;        /* new parameter, unrounded */
    float s_ref;         /* s rounded once to binary32 */
    float theta_ref;     /* θ rounded once to binary32 */
    bool s_domain;       /* false where binary32's g overflows and double's does not */
    bool theta_domain;   /* false where binary32 intermediates must depart (see above) */
} oracle_result;

/* 0, or a magnitude in binary32's normal range. Non-finite values pass:
 * they propagate identically in double and binary32. */
static inline bool normal_or_special(double x)
{
    const double a = fabs(x);
    return !isfinite(x) || a == 0.0 || (a >= 0x1p-126 && a <= FLT_MAX);
}

static inline oracle_result oracle_step(float theta_old, float s_old, float grad,
                                        const adagrad_options *opt)
{
    oracle_result r;
    double g = (opt->flags & ADAGRAD_MAXIMIZE) ? -(double)grad : (double)grad;
    if (opt->weight_decay != 0.0f)
        g = (double)opt->weight_decay * (double)theta_old + g;
    const double s = g * g + (double)s_old;
    const double d = (opt->flags & ADAGRAD_EPS_INSIDE) ? sqrt(s + (double)opt->eps)
                                                       : sqrt(s) + (double)opt->eps;
    const double neg_lr_g = -(double)opt->lr * g;
    const double delta = neg_lr_g / d;
    r.g = g;
    r.s = s;
    r.delta = delta;
    r.theta = (double)theta_old + delta;
    r.s_ref = (float)s;
    r.theta_ref = (float)r.theta;
    r.s_domain = !(isfinite(g) && fabs(g) > FLT_MAX);
    r.theta_domain = r.s_domain && normal_or_special(s) && normal_or_special(neg_lr_g) &&
                     (opt->weight_decay == 0.0f || normal_or_special(g)) &&
                     !(isfinite(delta) && fabs(delta) > FLT_MAX);
    return r;
}

#endif /* ADAGRAD_TESTS_ORACLE_H */
