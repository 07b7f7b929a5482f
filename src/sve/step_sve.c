/* libadagrad — AArch64 SVE dense kernel (compiled with -march=armv8-a+sve).
 * SPDX-License-Identifier: MIT
 *
 * One source for every vector length: the lanes per vector are svcntw()
 * (4 at 128 bits … 64 at 2048 bits), read at run time, never assumed.
 *
 * EXACT: the contract's five steps, each one IEEE binary32 operation per
 * lane (eor with a sign mask for MAXIMIZE, folded into η by kernels.h when
 * λ = 0; svmla, i.e. FMLA/FMAD, for the
 * two fmas: svmla(a, b, c) = a + b·c with one rounding, so
 * g ← svmla(g, λ, θ) is fma(λ, θ, g) and s ← svmla(s, g, g) is
 * fma(g, g, s); svsqrt, svadd, svmul, svdiv), so every lane gives the
 * scalar reference's bits at every vector length.
 *
 * FAST: the AVX-512 kernel's formula (src/avx512/step_avx512.c has the
 * derivation) from FRSQRTE's 8-bit estimate refined once with FRSQRTS, as
 * in the NEON kernel:
 *     r1 = r0·(3 − (t·r0)·r0)/2             svrsqrts: 2^-8.2 → 2^-15.9
 *     q = t·r1,  f = 1.5 − r1·(q/2 + ε),  θ' = θ + ((−η)·g)·r1·f (last two fused)
 * SVE's FRSQRTE/FRSQRTS are the same architectural functions as Advanced
 * SIMD's, and "1.5 − w·r1" is one fused FMLS here as it is one fused
 * vfmaq_f32(1.5, −w, r1) there (the negation is exact), and the fused
 * θ + Δ is FMLA here and vfmaq_f32 there: FAST gives NEON's
 * FAST bits, lane for lane, at every vector length, so its bound is
 * NEON's (ADAGRAD_FAST_ULP_SVE, measured at 128, 256, 512 and 2048 bits).
 * Lanes outside FAST's domain (kernels.h: accumulator sign bit set,
 * radicand t outside [lo, 2^100]) take the EXACT result (svsel), lane by
 * lane; the domain test is one unsigned compare,
 * max(bits(t), bits(s_old)) − bits(lo) > span (kernels.h), whose predicate also tells
 * (svptest_any) whether the rare EXACT path is needed at all.
 *
 * Loops are predicated (svwhilelt): the last, partial vector is one more
 * iteration under a shorter predicate, loads of inactive lanes give zero
 * and never fault, stores of inactive lanes write nothing. No scalar tail,
 * no access past the end of a buffer; inactive lanes are also excluded
 * from the domain test, so they never force the EXACT path.
 *
 * Exception flags: a lane raises only what the scalar reference raises on
 * its element (adagrad.h). Inactive lanes of a predicated instruction raise
 * nothing, but _x forms let the compiler compute them, so the division is
 * the merging form, and the unpredicated estimate instructions get a safe
 * radicand outside the domain.
 *
 * The sparse step (src/sparse.c) runs this dense kernel row by row; the
 * row-wise step has its own kernel below (rowwise_sve).
 *
 * SVE's types are sizeless (no struct members): the per-call constants
 * are kept as scalars and broadcast in the loop body, which the compiler
 * hoists out of the loop.
 */
#include <arm_sve.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

#define FAST_EPS_RATIO 0x1p26f

typedef struct {
    float neg_lr, eps, wd;
    uint32_t sign;               /* 0x80000000 with MAXIMIZE and weight decay, else 0 */
    uint32_t lo_bits, span_bits; /* FAST's radicand range, as bit patterns */
} consts_sve;

/* Steps 1–2: the gradient after sign and decay. */
ALWAYS_INLINE svfloat32_t decayed_grad(svbool_t pg, svfloat32_t g, svfloat32_t p, const consts_sve *c, bool wd)
{
    if (!wd) /* the plan folds MAXIMIZE into neg_lr when λ = 0 */
        return g;
    g = svreinterpret_f32_u32(sveor_n_u32_x(pg, svreinterpret_u32_f32(g), c->sign)); /* exact negation */
    return svmla_n_f32_x(pg, g, p, c->wd); /* g + θ·λ = fma(λ, θ, g), one rounding */
}

/* Steps 4–5, EXACT. */
ALWAYS_INLINE svfloat32_t update_exact(svbool_t pg, svfloat32_t p, svfloat32_t g, svfloat32_t s,
                                       const consts_sve *c, bool inside)
{
    const svfloat32_t d = inside ? svsqrt_f32_x(pg, svadd_n_f32_x(pg, s, c->eps))
                                 : svadd_n_f32_x(pg, svsqrt_f32_x(pg, s), c->eps);
    /* _m: the division must be the predicated FDIV, so inactive lanes (0/0
     * when ε = 0) are not computed and raise nothing. */
    return svadd_f32_x(pg, p, svdiv_f32_m(pg, svmul_n_f32_x(pg, g, c->neg_lr), d));
}

/* The rare path of update_fast: the lanes in `out` take the EXACT result,
 * each lane on its own, so an element's FAST result never depends on its
 * neighbours. Out of line on purpose: inlined, GCC 12 if-converts it and
 * runs FSQRT and FDIV on every vector (it does not treat the predicated
 * SVE operations as trapping, so it hoists them above the branch). */
static __attribute__((noinline, cold)) svfloat32_t fast_fallback(svbool_t pg, svbool_t out, svfloat32_t p,
                                                                 svfloat32_t g, svfloat32_t s, svfloat32_t fast,
                                                                 const consts_sve *c, bool inside)
{
    return svsel_f32(out, update_exact(pg, p, g, s, c, inside), fast);
}

/* Steps 4–5, FAST; a lane outside FAST's domain takes the EXACT result. */
ALWAYS_INLINE svfloat32_t update_fast(svbool_t pg, svfloat32_t p, svfloat32_t g, svfloat32_t s_old,
                                      svfloat32_t s, const consts_sve *c, bool inside)
{
    const svfloat32_t t = inside ? svadd_n_f32_x(pg, s, c->eps) : s; /* the radicand */
    const svuint32_t tb = svmax_u32_x(pg, svreinterpret_u32_f32(t), svreinterpret_u32_f32(s_old)); /* kernels.h */
    const svbool_t in = svcmple_n_u32(pg, svsub_n_u32_x(pg, tb, c->lo_bits), c->span_bits);
    const svbool_t out = svnot_b_z(pg, in);
    /* FRSQRTE and FRSQRTS are unpredicated: they run on every lane, so
     * lanes outside the domain, inactive ones included, get t = 2^100
     * (FRSQRTE(0) raises FE_DIVBYZERO; a small r would let (−η·g)·r
     * overflow where EXACT does not). */
    const svfloat32_t tc = svsel_f32(in, t, svdup_n_f32(ADAGRAD_FAST_MAX));

    const svfloat32_t r0 = svrsqrte_f32(tc);
    const svfloat32_t r1 = svmul_f32_x(pg, r0, svrsqrts_f32(svmul_f32_x(pg, tc, r0), r0));
    const svfloat32_t q = svmul_f32_x(pg, tc, r1);
    const svfloat32_t w = inside ? svmul_n_f32_x(pg, q, 0.5f)
                                 : svmla_n_f32_x(pg, svdup_n_f32(c->eps), q, 0.5f); /* ε + q·0.5, fused */
    const svfloat32_t f = svmls_f32_x(pg, svdup_n_f32(1.5f), w, r1);                 /* 1.5 − w·r1, fused */
    const svfloat32_t fast = svmla_f32_x(pg, p, svmul_f32_x(pg, svmul_n_f32_x(pg, g, c->neg_lr), r1), f); /* θ + Δ, fused */
    if (__builtin_expect(!svptest_any(pg, out), 1))
        return fast;
    return fast_fallback(pg, out, p, g, s, fast, c, inside); /* rare */
}

/* One vector of the step, on the lanes pg selects. */
ALWAYS_INLINE void step_vector(svbool_t pg, float *param, float *sum, const float *grad, const consts_sve *c,
                               bool fast, bool wd, bool inside)
{
    const svfloat32_t p = svld1_f32(pg, param);
    const svfloat32_t g = decayed_grad(pg, svld1_f32(pg, grad), p, c, wd);
    const svfloat32_t s_old = svld1_f32(pg, sum);
    const svfloat32_t s = svmla_f32_x(pg, s_old, g, g); /* step 3: s + g·g, one rounding */
    svst1_f32(pg, sum, s);
    svst1_f32(pg, param, fast ? update_fast(pg, p, g, s_old, s, c, inside) : update_exact(pg, p, g, s, c, inside));
}

/* The loop, specialised at compile time for each (fast, wd, inside). */
ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum, const float *restrict grad,
                             size_t n, const adagrad_kparams *kp, bool fast, bool wd, bool inside)
{
    const consts_sve c = {
        .neg_lr = kp->neg_lr,
        .eps = kp->eps,
        .wd = kp->weight_decay,
        .sign = kp->grad_sign,
        .lo_bits = kp->fast_lo_bits,
        .span_bits = kp->fast_span_bits,
    };
    const size_t lanes = svcntw();
    for (size_t i = 0; i < n; i += lanes)
        step_vector(svwhilelt_b32_u64(i, n), param + i, sum + i, grad + i, &c, fast, wd, inside);
}

static void traffic_sve(float *restrict param, float *restrict sum, const float *restrict grad, size_t n,
                        uint32_t mask)
{
    const size_t lanes = svcntw();
    for (size_t i = 0; i < n; i += lanes) {
        const svbool_t pg = svwhilelt_b32_u64(i, n);
        const svuint32_t g = svand_n_u32_x(pg, svreinterpret_u32_f32(svld1_f32(pg, grad + i)), mask);
        const svuint32_t p = svreinterpret_u32_f32(svld1_f32(pg, param + i));
        const svuint32_t s = svreinterpret_u32_f32(svld1_f32(pg, sum + i));
        svst1_f32(pg, param + i, svreinterpret_f32_u32(sveor_u32_x(pg, p, g)));
        svst1_f32(pg, sum + i, svreinterpret_f32_u32(sveor_u32_x(pg, s, g)));
    }
}

/* Row-wise (adagrad.h's canonical order). The 16 partial sums p[0..15]
 * live in the first w lanes of 16/w accumulators, w = 16, 8 or 4 (the
 * largest that fits the vector: 16 from 512 bits up, so a 2048-bit vector
 * uses a quarter of its lanes here), accumulator q holding p[q·w ..]: each
 * block of 16 columns adds column j·16 + k into p[k] with one FMLA, the
 * canonical fma(g, g, p[k]) in index order. Columns past dim are inactive
 * lanes of a merging FMLA (svmla_m), so p[k] is left as it was, as in the
 * canonical loop. The fixed tree and the division are 15 scalar additions
 * on a stack copy, then the update runs on whole vectors with the row's
 * one d (svdiv), predicated like the dense loop. Row-wise work per row is
 * one pass over its dim elements twice: memory bound, not lane bound. */
ALWAYS_INLINE svfloat32_t rowwise_part(svfloat32_t acc, const float *param, const float *grad, size_t base,
                                       size_t end, const consts_sve *c, bool wd)
{
    const svbool_t pg = svwhilelt_b32_u64(base, end); /* none when base >= end */
    const size_t at = base < end ? base : end;         /* the address stays within the row */
    const svfloat32_t g = decayed_grad(pg, svld1_f32(pg, grad + at), svld1_f32(pg, param + at), c, wd);
    return svmla_f32_m(pg, acc, g, g); /* active lanes: fma(g, g, p); the others keep p */
}

ALWAYS_INLINE void rowwise_body(float *restrict param, float *restrict row_sum, const float *restrict grad, size_t dim,
                        const adagrad_kparams *kp, bool wd, bool inside)
{
    const consts_sve c = {
        .neg_lr = kp->neg_lr,
        .eps = kp->eps,
        .wd = kp->weight_decay,
        .sign = kp->grad_sign,
    };
    const size_t lanes = svcntw();
    const size_t w = lanes >= 16 ? 16 : lanes >= 8 ? 8 : 4; /* 16 % w == 0; lanes ≥ 4 always */
    svfloat32_t a0 = svdup_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t j = 0; j < dim; j += 16) {
        const size_t end = dim - j < 16 ? dim : j + 16;
        a0 = rowwise_part(a0, param, grad, j, end < j + w ? end : j + w, &c, wd);
        if (w < 16)
            a1 = rowwise_part(a1, param, grad, j + w, end < j + 2 * w ? end : j + 2 * w, &c, wd);
        if (w < 8) {
            a2 = rowwise_part(a2, param, grad, j + 8, end < j + 12 ? end : j + 12, &c, wd);
            a3 = rowwise_part(a3, param, grad, j + 12, end, &c, wd);
        }
    }
    float ps[16];
    const svbool_t first_w = svwhilelt_b32_u64(0, w);
    svst1_f32(first_w, ps, a0);
    if (w < 16)
        svst1_f32(first_w, ps + w, a1);
    if (w < 8) {
        svst1_f32(first_w, ps + 8, a2);
        svst1_f32(first_w, ps + 12, a3);
    }
    for (int k = 0; k < 8; k++)
        ps[k] += ps[k + 8];
    for (int k = 0; k < 4; k++)
        ps[k] += ps[k + 4];
    for (int k = 0; k < 2; k++)
        ps[k] += ps[k + 2];
    ps[0] += ps[1];
    const float s = *row_sum + ps[0] / (float)dim;
    *row_sum = s;
    const float d = inside ? sqrtf(s + kp->eps) : sqrtf(s) + kp->eps;
    for (size_t j = 0; j < dim; j += lanes) {
        const svbool_t pg = svwhilelt_b32_u64(j, dim);
        const svfloat32_t p = svld1_f32(pg, param + j);
        const svfloat32_t g = decayed_grad(pg, svld1_f32(pg, grad + j), p, &c, wd);
        svst1_f32(pg, param + j, svadd_f32_x(pg, p, svdiv_n_f32_m(pg, svmul_n_f32_x(pg, g, c.neg_lr), d)));
    }
}

/* The vector length is the CPU's (and the OS's) choice, known at run time. */
static unsigned lanes_sve(void) { return (unsigned)svcntw(); }

#include "../kernel_variants.h"

const adagrad_kernels adagrad_kernels_sve = {
    .isa = ADAGRAD_ISA_SVE,
    .name = "sve",
    .cpu_required = ADAGRAD_CPU_SVE,
    .why_not = "CPU/OS lacks SVE (HWCAP_SVE)",
    .lanes = 0,
    .lanes_now = lanes_sve,
    .fast_ulp = ADAGRAD_FAST_ULP_SVE,
    .fast_eps_ratio = FAST_EPS_RATIO,
    .dense = VARIANTS_DENSE,
    .traffic = traffic_sve,
    .rowwise = VARIANTS_ROWWISE,
    .torch_sparse = VARIANTS_TORCH_SPARSE,
};
