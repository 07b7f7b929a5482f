/* libadagrad — the internal kernel interface every implementation fills in.
 * SPDX-License-Identifier: MIT
 *
 * Kernels never validate: the public entry points (src/api.c) have checked
 * every pointer, size, overlap and hyper-parameter before a kernel runs.
 */
#ifndef ADAGRAD_SRC_KERNELS_H
#define ADAGRAD_SRC_KERNELS_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "adagrad.h"

/* A call's constants, resolved once by the plan (src/api.c): kernels use
 * them as they are and decide nothing. */
typedef struct adagrad_kparams {
    float neg_lr;           /* −η; +η when MAXIMIZE is folded into it (λ = 0, below) */
    float eps;              /* ε */
    float weight_decay;     /* λ; only the weight-decay variants read it */
    uint32_t grad_sign;     /* 0x80000000 to negate the gradient (MAXIMIZE with λ ≠ 0), else 0 */
    uint32_t fast_lo_bits;  /* FAST variants: the radicand range [lo, 2^100] as bit patterns */
    uint32_t fast_span_bits;
} adagrad_kparams;

/* A kernel's compile-time specialisation: an index into a row's tables.
 * Each is its own loop, so no loop branches on an option per element. */
enum {
    ADAGRAD_V_WD = 1u,     /* weight decay on: step 2 of the contract */
    ADAGRAD_V_INSIDE = 2u, /* ADAGRAD_EPS_INSIDE */
    ADAGRAD_V_FAST = 4u,   /* the estimates (dense kernels only) */
    ADAGRAD_DENSE_VARIANTS = 8,
    ADAGRAD_ROWWISE_VARIANTS = 4
};

/* One dense step over n elements; the buffers do not overlap. */
typedef void (*adagrad_dense_fn)(float *restrict param, float *restrict sum,
                                 const float *restrict grad, size_t n,
                                 const adagrad_kparams *kp);

/* The roofline: the same memory traffic as a dense step (read param, sum,
 * grad; write param, sum) with no arithmetic: param and sum each get
 * xor (grad & mask). The mask is a run-time argument, so the loads and
 * stores cannot be elided; with mask = 0 every buffer keeps its bits, so
 * the roofline can run on a step's own buffers (the same pages). */
typedef void (*adagrad_traffic_fn)(float *restrict param, float *restrict sum,
                                   const float *restrict grad, size_t n, uint32_t mask);

/* One row-wise step of one table row (adagrad.h: adagrad_rowwise_step_f32):
 * m = mean_j g_j² in the header's canonical order (16 partial sums by fma
 * in index order, the fixed tree, one division by (float)dim), *row_sum +=
 * m, then θ_j ← θ_j + (−η·g_j)/d. dim ≥ 1; the buffers do not overlap.
 * Bitwise identical on every implementation. */
typedef void (*adagrad_rowwise_fn)(float *restrict param, float *restrict row_sum,
                                   const float *restrict grad, size_t dim,
                                   const adagrad_kparams *kp);

/* CPU features a row requires (cpu_required) and dispatch detects, CPU *and*
 * OS (dispatch.h: adagrad_cpu_flags). */
enum {
    ADAGRAD_CPU_AVX2 = 1u << 0,   /* AVX + AVX2 + FMA, and the OS saves YMM state */
    ADAGRAD_CPU_AVX512 = 1u << 1, /* AVX-512F, and the OS saves opmask + ZMM state */
    ADAGRAD_CPU_NEON = 1u << 2,   /* AArch64 Advanced SIMD (HWCAP_ASIMD) */
    ADAGRAD_CPU_SVE = 1u << 3     /* AArch64 SVE, enabled by the kernel for user space (HWCAP_SVE) */
};

/* One implementation: a row of the kernel table, and every fact about it.
 * Whether it can run here is adagrad_row_runnable's answer (dispatch.h),
 * from cpu_required and why_not. */
typedef struct adagrad_kernels {
    adagrad_isa isa;             /* which ISA (a test-only row reuses its ISA's value) */
    const char *name;            /* the same string everywhere: tests, benchmarks, the report */
    uint32_t cpu_required;       /* the ADAGRAD_CPU_* bits it needs; 0: runs anywhere */
    const char *why_not;         /* the reason it cannot run when one of them is missing */
    unsigned lanes;              /* floats per vector; 0: known only at run time */
    unsigned (*lanes_now)(void); /* that run-time count (lanes 0 only); call it on a runnable row */
    int fast_ulp;                /* FAST's bound, ulp: adagrad.h's ADAGRAD_FAST_ULP_<ISA>; 0: FAST is EXACT */
    float fast_eps_ratio;        /* the ratio of FAST's lower radicand bound (below); 0: no estimates */
    bool test_only;              /* never dispatched: only adagrad_row (dispatch.h) reaches it */
    adagrad_dense_fn dense[ADAGRAD_DENSE_VARIANTS];        /* by ADAGRAD_V_* bits */
    adagrad_rowwise_fn rowwise[ADAGRAD_ROWWISE_VARIANTS];  /* by ADAGRAD_V_WD | ADAGRAD_V_INSIDE */
    adagrad_dense_fn torch_sparse[ADAGRAD_ROWWISE_VARIANTS]; /* ADAGRAD_TORCH_SPARSE's order, the same bits everywhere */
    adagrad_traffic_fn traffic;
} adagrad_kernels;

/* One row per ISA folder; each is defined only when that folder is built.
 * Test-only rows are reached through adagrad_row (dispatch.h), by no name. */
extern const adagrad_kernels adagrad_kernels_scalar;
extern const adagrad_kernels adagrad_kernels_avx2;
extern const adagrad_kernels adagrad_kernels_avx512;
extern const adagrad_kernels adagrad_kernels_neon;
extern const adagrad_kernels adagrad_kernels_sve;

/* FAST's domain (adagrad.h states it for users). A call runs FAST only
 * when η < 2^100: then, for an accumulator that was ≥ +0 (so t ≥ g²),
 * |Δ| ≤ η(1 + 2^-20) cannot overflow where EXACT's does not. Within such a
 * call a lane takes the estimates when
 *   - its accumulator before the step has its sign bit clear (s_old ≥ +0),
 *   - its radicand t (s, or s + ε with EPS_INSIDE) lies in [lo, 2^100], where
 *     lo = 2^-100, raised with ε outside the root to ratio·ε² so that
 *     ε/√t ≤ ratio^-1/2 is small enough for the series 1/(√t + ε) ≈
 *     (1 − ε/√t)/√t (see the x86 kernels' derivation);
 * inside it the estimate instructions see no zero, denormal, infinity or
 * NaN and nothing over- or underflows. Every other lane, and every other
 * call, gives the EXACT result. */
#define ADAGRAD_FAST_MIN 0x1p-100f
#define ADAGRAD_FAST_MAX 0x1p100f
#define ADAGRAD_FAST_LR_MAX 0x1p100f

/* Software prefetch in the x86 dense loops: from ADAGRAD_PREFETCH_MIN_N
 * elements on (a working set past L2), each cache line of the three
 * buffers is prefetched ADAGRAD_PREFETCH_FLOATS elements (4 KiB) ahead. A
 * streaming step is memory-bound there, and how far ahead the hardware
 * prefetchers and the out-of-order window reach depends on the loop's
 * instruction count: without it FAST, which issues more instructions per
 * cache line than EXACT, streams a little slower than EXACT does. The last
 * ADAGRAD_PREFETCH_FLOATS elements run without (no address past the end).
 * It never changes a result; the traffic loops do the same, so the
 * roofline stays the same traffic. */
#define ADAGRAD_PREFETCH_MIN_N (1u << 18)
#define ADAGRAD_PREFETCH_FLOATS 1024
#define ADAGRAD_LINE_FLOATS 16 /* floats per 64-byte cache line */

/* The elements [0, end) of a call run with prefetch: 0 below the threshold. */
static inline size_t adagrad_prefetch_end(size_t n)
{
    return n >= ADAGRAD_PREFETCH_MIN_N ? n - ADAGRAD_PREFETCH_FLOATS : 0;
}

/* The cache lines ADAGRAD_PREFETCH_FLOATS ahead of one line of each buffer,
 * for reading into every cache level (prefetcht0 on x86); the caller keeps
 * them within the buffers (i + ADAGRAD_LINE_FLOATS ≤ adagrad_prefetch_end). */
static inline void adagrad_prefetch_lines(const float *param, const float *sum, const float *grad)
{
    __builtin_prefetch(param + ADAGRAD_PREFETCH_FLOATS, 0, 3);
    __builtin_prefetch(sum + ADAGRAD_PREFETCH_FLOATS, 0, 3);
    __builtin_prefetch(grad + ADAGRAD_PREFETCH_FLOATS, 0, 3);
}

/* The bit pattern of a float. Positive floats order like their bits,
 * which is how the SIMD kernels test FAST's radicand range: a lane is in
 * the domain iff max(bits(t), bits(s_old)) − fast_lo_bits ≤ fast_span_bits,
 * as unsigned. The max is one operation where "bits(t) | sign bit of
 * s_old" takes two (or a three-input vpternlogd, which issues at a lower
 * rate on some cores), and the two tests agree on every input: an s_old
 * with its sign bit set has bits ≥ 2^31 > bits(2^100), so the lane is out
 * either way; an s_old ≥ +0 gives t = fma(g, g, s_old) (+ ε ≥ 0) ≥ s_old,
 * so bits(t) ≥ bits(s_old) and the max is bits(t), unless t is NaN, whose
 * bits are out of range too. */
static inline uint32_t adagrad_f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

#endif /* ADAGRAD_SRC_KERNELS_H */
