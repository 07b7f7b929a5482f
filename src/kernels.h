/* libadagrad — the internal kernel interface every implementation fills in.
 * SPDX-License-Identifier: MIT
 *
 * Kernels never validate: the public entry points (src/api.c) have checked
 * every pointer, size, overlap and hyper-parameter before a kernel runs.
 */
#ifndef ADAGRAD_SRC_KERNELS_H
#define ADAGRAD_SRC_KERNELS_H

#include <stddef.h>

#include "adagrad.h"

/* Hyper-parameters as the kernels consume them, already validated. */
typedef struct adagrad_kparams {
    float neg_lr;       /* −η: the negation is exact, so (−η)·g is torch's value·t1 */
    float eps;          /* ε */
    float weight_decay; /* λ; 0 means step 2 is skipped (fma(0, θ, g) ≠ g for θ = ±inf/NaN, g = −0) */
    unsigned flags;     /* ADAGRAD_MAXIMIZE | ADAGRAD_EPS_INSIDE; FAST is resolved to the kernel choice */
} adagrad_kparams;

/* One dense step over n elements; the buffers do not overlap. */
typedef void (*adagrad_dense_fn)(float *restrict param, float *restrict sum,
                                 const float *restrict grad, size_t n,
                                 const adagrad_kparams *kp);

/* The roofline: the same memory traffic as a dense step (read param, sum,
 * grad; write param, sum) with no arithmetic, only a bitwise xor so that the
 * stores cannot be elided. It scrambles the buffers' bits: benchmarks only. */
typedef void (*adagrad_traffic_fn)(float *restrict param, float *restrict sum,
                                   const float *restrict grad, size_t n);

/* One implementation: a row of the kernel table. */
typedef struct adagrad_kernels {
    adagrad_isa isa;           /* which ISA (a test-only row reuses its ISA's value) */
    const char *name;          /* the same string everywhere: tests, benchmarks, report */
    adagrad_dense_fn step_exact;
    adagrad_dense_fn step_fast;
    adagrad_traffic_fn traffic;
    int fast_ulp;              /* documented FAST bound, ulp (see adagrad.h) */
} adagrad_kernels;

/* One row per ISA folder; each is defined only when that folder is built. */
extern const adagrad_kernels adagrad_kernels_scalar;
extern const adagrad_kernels adagrad_kernels_avx2;
extern const adagrad_kernels adagrad_kernels_avx512;
extern const adagrad_kernels adagrad_kernels_neon;

/* A FAST lane takes the EXACT result when its s (or s + ε) lies outside
 * [2^-100, 2^100]: inside it, the estimate instructions see no denormal,
 * zero, infinity or NaN, and no intermediate over- or underflows. */
#define ADAGRAD_FAST_MIN 0x1p-100f
#define ADAGRAD_FAST_MAX 0x1p100f
/* With ε outside the root, s ∈ [2^-100, 2^100] gives √s ∈ [2^-50, 2^50], so
 * d = √s + ε stays inside the range too whenever ε ≤ 2^99: the per-vector
 * check then only needs s, and a larger ε runs the whole call EXACT. */
#define ADAGRAD_FAST_EPS_MAX 0x1p99f
/* A FAST lane whose update |(−η·g)·(1/d)| is not below 2^127 takes the EXACT
 * result too: FAST's few-ulp error would otherwise overflow to ±inf where
 * EXACT's Δ is finite (η near FLT_MAX), or stay finite where EXACT's is not. */
#define ADAGRAD_FAST_STEP_MAX 0x1p127f

#endif /* ADAGRAD_SRC_KERNELS_H */
