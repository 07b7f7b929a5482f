/* libadagrad — AArch64 Advanced SIMD (NEON) dense kernel.
 * SPDX-License-Identifier: MIT
 *
 * EXACT: the contract's five steps on 4 lanes at a time, each one IEEE
 * binary32 operation (eor with a sign mask for MAXIMIZE, folded into η by
 * kernels.h when λ = 0; vfmaq_f32 for the
 * two fmas, vsqrtq_f32, vaddq_f32, vmulq_f32, vdivq_f32), so every lane
 * gives the scalar reference's bits.
 *
 * FAST: the AVX-512 kernel's formula (src/avx512/step_avx512.c has the
 * derivation), from an estimate refined once more first, since FRSQRTE is
 * only good to about 8 bits (measured under qemu, which implements the
 * architecture's table: relative error ≤ 2^-8.2):
 *     r1 = r0·(3 − (t·r0)·r0)/2             vrsqrtsq_f32, fused: → 2^-15.9
 *     q = t·r1,  f = 1.5 − r1·(q/2 + ε),  θ' = θ + ((−η)·g)·r1·f (last two fused)
 * The "1.5 − a·b" is written vfmaq_f32(1.5, −a, b) (the negation is exact):
 * SIMDe 0.7.4 has no vfmsq_f32. Lanes outside FAST's domain (kernels.h)
 * take the EXACT result (vbslq_f32), lane by lane; the domain test is
 * max(bits(t), bits(s_old)) − bits(lo) ≤ span, one unsigned compare
 * (kernels.h).
 *
 * Tails: NEON has no masked loads or stores. The last n mod 4 elements are
 * copied into a 4-lane stack vector, one vector iteration runs on it, and
 * only those elements are copied back: one code path, the same bits as a
 * full vector, and no access past the end of a buffer. The unused lanes
 * repeat the tail's first element rather than zeros (s = 0 is out of FAST's
 * range), so a FAST tail of in-range elements skips the EXACT blend, and
 * they raise exactly the flags of that element (with ε = 0, zeros would
 * divide 0 by 0); the results do not depend on the padding either way.
 *
 * Exception flags: a lane raises only what the scalar reference raises on
 * its element (adagrad.h): FAST tests the domain first, and a vector with
 * a lane outside it runs the estimates on the radicand clamped into the
 * domain, so that lane computes on a safe value.
 *
 * The same source builds on x86-64 through SIMDe (-DADAGRAD_NEON_SIMDE, with
 * -mavx2 -mfma so that SIMDe's vfmaq_f32 is one fused operation) as the
 * test-only row adagrad_kernels_neon_simde, never part of the dispatch.
 * EXACT is bitwise the same on both routes; FAST is not (SIMDe's estimate
 * is SSE's 12-bit rsqrtps), but stays within the same bound.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../kernels.h"

#include <math.h>

#ifdef ADAGRAD_NEON_SIMDE
#include <simde/arm/neon.h>

/* SIMDe 0.7.4 lacks these two AArch64 intrinsics. Lane-wise sqrtf and `/`
 * are correctly rounded IEEE operations, so the shims give native NEON's
 * bits. A SIMDe that has them defines the alias macro and the shim steps
 * aside. */
#ifndef vsqrtq_f32
static inline float32x4_t adagrad_shim_vsqrtq_f32(float32x4_t a)
{
    float x[4];
    vst1q_f32(x, a);
    for (int i = 0; i < 4; i++)
        x[i] = sqrtf(x[i]);
    return vld1q_f32(x);
}
#define vsqrtq_f32 adagrad_shim_vsqrtq_f32
#endif
#ifndef vdivq_f32
static inline float32x4_t adagrad_shim_vdivq_f32(float32x4_t a, float32x4_t b)
{
    float x[4], y[4];
    vst1q_f32(x, a);
    vst1q_f32(y, b);
    for (int i = 0; i < 4; i++)
        x[i] = x[i] / y[i];
    return vld1q_f32(x);
}
#define vdivq_f32 adagrad_shim_vdivq_f32
#endif
#else
#include <arm_neon.h>
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

#define FAST_EPS_RATIO 0x1p26f

typedef struct {
    float32x4_t neg_lr, eps, wd;
    uint32x4_t sign;
    float32x4_t half; /* FAST */
    uint32x4_t lo_bits, span_bits;    /* FAST's radicand range, as bit patterns */
} consts_neon;

/* Steps 1–2: the gradient after sign and decay. */
ALWAYS_INLINE float32x4_t decayed_grad(float32x4_t g, float32x4_t p, const consts_neon *c, bool wd)
{
    if (!wd) /* the plan folds MAXIMIZE into neg_lr when λ = 0 */
        return g;
    g = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(g), c->sign)); /* exact negation */
    return vfmaq_f32(g, c->wd, p); /* vfmaq_f32(a, b, c) = a + b·c, one rounding */
}

/* Steps 4–5, EXACT. */
ALWAYS_INLINE float32x4_t update_exact(float32x4_t p, float32x4_t g, float32x4_t s, const consts_neon *c,
                                       bool inside)
{
    const float32x4_t d = inside ? vsqrtq_f32(vaddq_f32(s, c->eps)) : vaddq_f32(vsqrtq_f32(s), c->eps);
    return vaddq_f32(p, vdivq_f32(vmulq_f32(c->neg_lr, g), d));
}

/* θ + Δ from the estimate, on radicand t. */
ALWAYS_INLINE float32x4_t estimate(float32x4_t p, float32x4_t g, float32x4_t t, const consts_neon *c, bool inside)
{
    const float32x4_t r0 = vrsqrteq_f32(t);
    const float32x4_t r1 = vmulq_f32(r0, vrsqrtsq_f32(vmulq_f32(t, r0), r0));
    const float32x4_t q = vmulq_f32(t, r1);
    const float32x4_t w = inside ? vmulq_f32(q, c->half) : vfmaq_f32(c->eps, q, c->half); /* q/2 + ε */
    const float32x4_t f = vfmaq_f32(vdupq_n_f32(1.5f), vnegq_f32(w), r1);
    return vfmaq_f32(p, vmulq_f32(vmulq_f32(c->neg_lr, g), r1), f); /* θ + Δ, fused */
}

/* Steps 4–5, FAST; a lane outside FAST's domain takes the EXACT result. */
ALWAYS_INLINE float32x4_t update_fast(float32x4_t p, float32x4_t g, float32x4_t s_old, float32x4_t s,
                                      const consts_neon *c, bool inside)
{
    const float32x4_t t = inside ? vaddq_f32(s, c->eps) : s; /* the radicand */
    const uint32x4_t tb = vmaxq_u32(vreinterpretq_u32_f32(t), vreinterpretq_u32_f32(s_old)); /* kernels.h */
    const uint32x4_t x = vsubq_u32(tb, c->lo_bits);
    const uint32x4_t ok = vcleq_u32(x, c->span_bits);
    if (vminvq_u32(ok) == UINT32_MAX)
        return estimate(p, g, t, c, inside); /* every lane in the domain: nothing to raise */
    /* Rare: the lanes out of the domain take the EXACT result, each lane on
     * its own, so an element's FAST result never depends on its neighbours.
     * Their estimates run on t clamped into [lo, 2^100] (t itself in the
     * domain, where min(x, span) + lo = bits(t)): FRSQRTE(0) raises
     * FE_DIVBYZERO, and 0·inf FE_INVALID, where EXACT's result raises
     * neither. */
    const float32x4_t tc = vreinterpretq_f32_u32(vaddq_u32(vminq_u32(x, c->span_bits), c->lo_bits));
    return vbslq_f32(ok, estimate(p, g, tc, c, inside), update_exact(p, g, s, c, inside));
}

/* One 4-lane vector of the step. */
ALWAYS_INLINE void step_vector(float *param, float *sum, const float *grad, const consts_neon *c, bool fast,
                               bool wd, bool inside)
{
    const float32x4_t p = vld1q_f32(param);
    const float32x4_t g = decayed_grad(vld1q_f32(grad), p, c, wd);
    const float32x4_t s_old = vld1q_f32(sum);
    const float32x4_t s = vfmaq_f32(s_old, g, g); /* step 3: s + g·g, one rounding */
    vst1q_f32(sum, s);
    vst1q_f32(param, fast ? update_fast(p, g, s_old, s, c, inside) : update_exact(p, g, s, c, inside));
}

/* The loop, specialised at compile time for each (fast, wd, inside). */
ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum, const float *restrict grad,
                             size_t n, const adagrad_kparams *kp, bool fast, bool wd, bool inside)
{
    const consts_neon c = {
        .neg_lr = vdupq_n_f32(kp->neg_lr),
        .eps = vdupq_n_f32(kp->eps),
        .wd = vdupq_n_f32(kp->weight_decay),
        .sign = vdupq_n_u32(kp->grad_sign),
        .half = vdupq_n_f32(0.5f),
        .lo_bits = vdupq_n_u32(kp->fast_lo_bits),
        .span_bits = vdupq_n_u32(kp->fast_span_bits),
    };
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        step_vector(param + i, sum + i, grad + i, &c, fast, wd, inside);
    if (i < n) {
        /* 1–3 elements: run them as one vector on a stack copy (see the top). */
        const size_t rem = n - i;
        float tp[4], ts[4], tg[4];
        memcpy(tp, param + i, rem * sizeof(float));
        memcpy(ts, sum + i, rem * sizeof(float));
        memcpy(tg, grad + i, rem * sizeof(float));
        for (size_t j = rem; j < 4; j++) {
            memcpy(&tp[j], &tp[0], sizeof(float));
            memcpy(&ts[j], &ts[0], sizeof(float));
            memcpy(&tg[j], &tg[0], sizeof(float));
        }
        step_vector(tp, ts, tg, &c, fast, wd, inside);
        memcpy(param + i, tp, rem * sizeof(float));
        memcpy(sum + i, ts, rem * sizeof(float));
    }
}

static void traffic_neon(float *restrict param, float *restrict sum, const float *restrict grad, size_t n,
                         uint32_t mask)
{
    const uint32x4_t keep = vdupq_n_u32(mask);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32x4_t g = vandq_u32(vreinterpretq_u32_f32(vld1q_f32(grad + i)), keep);
        const uint32x4_t p = vreinterpretq_u32_f32(vld1q_f32(param + i));
        const uint32x4_t s = vreinterpretq_u32_f32(vld1q_f32(sum + i));
        vst1q_f32(param + i, vreinterpretq_f32_u32(veorq_u32(p, g)));
        vst1q_f32(sum + i, vreinterpretq_f32_u32(veorq_u32(s, g)));
    }
    for (; i < n; i++) { /* tail: the bit patterns, element by element */
        uint32_t p, s, g;
        memcpy(&p, &param[i], 4);
        memcpy(&s, &sum[i], 4);
        memcpy(&g, &grad[i], 4);
        g &= mask;
        p ^= g;
        s ^= g;
        memcpy(&param[i], &p, 4);
        memcpy(&sum[i], &s, 4);
    }
}

/* Row-wise (adagrad.h's canonical order): four accumulators of 4 lanes are
 * p[0..3], p[4..7], p[8..11], p[12..15], fed 16 columns at a time; a tail
 * of 1–15 columns runs as one block on zero-padded stack copies
 * (fma(0, 0, p) = p). Tree: a0 += a2, a1 += a3 (k+8); a0 += a1 (k+4);
 * low + high halves (k+2); lane 0 + lane 1. Then the update on 4 lanes
 * with the row's one d, and the last dim mod 4 elements in plain C (the
 * same IEEE operations, so the same bits). */
ALWAYS_INLINE void rowwise_block(const float *param, const float *grad, float32x4_t a[4], const consts_neon *c,
                                 bool wd)
{
    for (int q = 0; q < 4; q++) {
        const float32x4_t g = decayed_grad(vld1q_f32(grad + 4 * q), vld1q_f32(param + 4 * q), c, wd);
        a[q] = vfmaq_f32(a[q], g, g);
    }
}

ALWAYS_INLINE void rowwise_body(float *restrict param, float *restrict row_sum, const float *restrict grad, size_t dim,
                         const adagrad_kparams *kp, bool wd, bool inside)
{
    const consts_neon c = {
        .neg_lr = vdupq_n_f32(kp->neg_lr),
        .eps = vdupq_n_f32(kp->eps),
        .wd = vdupq_n_f32(kp->weight_decay),
        .sign = vdupq_n_u32(kp->grad_sign),
    };
    float32x4_t a[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    size_t j = 0;
    for (; j + 16 <= dim; j += 16)
        rowwise_block(param + j, grad + j, a, &c, wd);
    if (j < dim) {
        float tp[16] = {0}, tg[16] = {0};
        memcpy(tp, param + j, (dim - j) * sizeof(float));
        memcpy(tg, grad + j, (dim - j) * sizeof(float));
        rowwise_block(tp, tg, a, &c, wd);
    }
    a[0] = vaddq_f32(a[0], a[2]); /* p[k] += p[k+8] */
    a[1] = vaddq_f32(a[1], a[3]);
    a[0] = vaddq_f32(a[0], a[1]); /* p[k] += p[k+4] */
    const float32x2_t h = vadd_f32(vget_low_f32(a[0]), vget_high_f32(a[0])); /* p[k] += p[k+2] */
    const float total = vget_lane_f32(h, 0) + vget_lane_f32(h, 1);          /* p[0] += p[1] */
    const float s = *row_sum + total / (float)dim;
    *row_sum = s;
    const float d = inside ? sqrtf(s + kp->eps) : sqrtf(s) + kp->eps;
    const float32x4_t dv = vdupq_n_f32(d);
    for (j = 0; j + 4 <= dim; j += 4) {
        const float32x4_t p = vld1q_f32(param + j);
        const float32x4_t g = decayed_grad(vld1q_f32(grad + j), p, &c, wd);
        vst1q_f32(param + j, vaddq_f32(p, vdivq_f32(vmulq_f32(c.neg_lr, g), dv)));
    }
    for (; j < dim; j++) { /* the contract written out, as the scalar reference */
        float g = kp->grad_sign ? -grad[j] : grad[j];
        if (wd)
            g = fmaf(kp->weight_decay, param[j], g);
        param[j] = param[j] + (kp->neg_lr * g) / d;
    }
}

#ifdef ADAGRAD_NEON_SIMDE
/* Test-only (src/test_rows.c registers it): SIMDe maps vfmaq_f32 to
 * _mm_fmadd_ps, one rounding as on AArch64, so the row needs AVX2+FMA. */
#define NEON_ROW adagrad_kernels_neon_simde
#define NEON_NAME "neon-simde"
#define NEON_CPU ADAGRAD_CPU_AVX2
#define NEON_WHY_NOT "CPU/OS lacks AVX2+FMA (SIMDe maps vfmaq_f32 to _mm_fmadd_ps)"
#define NEON_TEST_ONLY true
#else
#define NEON_ROW adagrad_kernels_neon
#define NEON_NAME "neon"
#define NEON_CPU ADAGRAD_CPU_NEON
#define NEON_WHY_NOT "CPU lacks AArch64 Advanced SIMD"
#define NEON_TEST_ONLY false
#endif

#include "../kernel_variants.h"

const adagrad_kernels NEON_ROW = {
    .isa = ADAGRAD_ISA_NEON,
    .name = NEON_NAME,
    .cpu_required = NEON_CPU,
    .why_not = NEON_WHY_NOT,
    .lanes = 4,
    .fast_ulp = ADAGRAD_FAST_ULP_NEON,
    .fast_eps_ratio = FAST_EPS_RATIO,
    .test_only = NEON_TEST_ONLY,
    .dense = VARIANTS_DENSE,
    .traffic = traffic_neon,
    .rowwise = VARIANTS_ROWWISE,
    .torch_sparse = VARIANTS_TORCH_SPARSE,
};
