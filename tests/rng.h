/* libadagrad tests — a deterministic PRNG and the value generators.
 * SPDX-License-Identifier: MIT
 *
 * splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, good enough for
 * test inputs, and the same sequence on every platform. Each test body seeds
 * its own stream from the run's seed and the body's name, so every row sees
 * the same inputs and a body's inputs do not depend on which others ran.
 */
#ifndef ADAGRAD_TESTS_RNG_H
#define ADAGRAD_TESTS_RNG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rng {
    uint64_t state;
} rng;

static inline uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A stream for (seed, name): FNV-1a of the name mixed into the seed. */
static inline rng rng_for(uint64_t seed, const char *name)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 0x100000001b3u;
    rng r = {seed ^ h};
    rng_next(&r);
    return r;
}

/* Uniform in [0, 1). */
static inline double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * 0x1p-53; }

/* Uniform integer in [0, n). */
static inline size_t rng_below(rng *r, size_t n) { return (size_t)(rng_unit(r) * (double)n); }

/* Magnitude log-uniform over [2^lo, 2^hi), random sign when `sign`. The
 * result is rounded to binary32 (subnormal when lo < -126). */
static inline float rng_logu(rng *r, double lo, double hi, int sign)
{
    float x = (float)exp2(lo + (hi - lo) * rng_unit(r));
    if (sign && (rng_next(r) & 1))
        x = -x;
    return x;
}

/* A random finite binary32 bit pattern of either sign, over the whole range
 * from the smallest subnormal to FLT_MAX (uniform over exponents). */
static inline float rng_any_finite(rng *r)
{
    for (;;) {
        const float x = rng_logu(r, -149.0, 128.0, 1);
        if (isfinite(x))
            return x;
    }
}

#endif /* ADAGRAD_TESTS_RNG_H */
