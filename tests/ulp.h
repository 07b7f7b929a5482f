/* libadagrad tests — bit patterns, the NaN-tolerant bitwise comparison, ulp.
 * SPDX-License-Identifier: MIT
 *
 * Bitwise rule of the contract: two results are equal when their bits are
 * identical, except that any NaN equals any NaN (the NaN's sign and payload
 * are not part of the contract).
 *
 * Error metric (docs/design.md): an error is measured in ulp of a binary32
 * magnitude. ulp_of(x) is the spacing of binary32 numbers at |x|: 2^(e-23)
 * for |x| in [2^e, 2^(e+1)), 2^-149 in the subnormal range (and at 0).
 */
#ifndef ADAGRAD_TESTS_ULP_H
#define ADAGRAD_TESTS_ULP_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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

/* Identical bits, or both NaN. */
static inline bool same_f32(float a, float b)
{
    return (isnan(a) && isnan(b)) || f32_bits(a) == f32_bits(b);
}

/* The binary32 ulp at magnitude |x| (x in double, any finite value). */
static inline double ulp_of(double x)
{
    x = fabs(x);
    if (!(x >= 0x1p-126)) /* subnormal, zero (and NaN: callers never pass one) */
        return 0x1p-149;
    if (x >= 0x1p127)
        return 0x1p104; /* the top binade (FLT_MAX's ulp), and beyond */
    int e;
    frexp(x, &e); /* x = m * 2^e, m in [0.5, 1): x in [2^(e-1), 2^e) */
    return ldexp(1.0, e - 1 - 23);
}

/* Error of a float result against a reference value (double), in ulp of
 * the magnitude `scale`. Both must be finite. */
static inline double ulp_error(float got, double ref, double scale)
{
    return fabs((double)got - ref) / ulp_of(scale);
}

/* The value one binary32 step away from x towards +inf / -inf (finite x). */
static inline float next_up(float x) { return nextafterf(x, INFINITY); }
static inline float next_down(float x) { return nextafterf(x, -INFINITY); }

#endif /* ADAGRAD_TESTS_ULP_H */
