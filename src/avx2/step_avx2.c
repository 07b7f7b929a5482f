/* libadagrad — x86-64 AVX2 + FMA dense kernel (compiled with -mavx2 -mfma).
 * SPDX-License-Identifier: MIT
 *
 * EXACT: the contract's five steps on 8 lanes at a time, each one IEEE
 * binary32 operation (vxorps for the sign, or none: kernels.h folds MAXIMIZE
 * into η when λ = 0; vfmadd for the two fmas, vsqrtps,
 * vaddps, vmulps, vdivps), so every lane gives the scalar reference's bits.
 *
 * FAST: the AVX-512 kernel's formula (src/avx512/step_avx512.c has the
 * derivation) from vrsqrtps, whose estimate is coarser (|δ| ≤ 1.5·2^-12):
 *     q = t·r0,  f = 1.5 − r0·(q/2 + ε),  θ' = θ + ((−η)·g)·r0·f (last two fused)
 * The neglected 1.5·δ² is then ~3.4·2^-24, so the ε term is held to
 * ε/√t ≤ 2^-15 (FAST_EPS_RATIO 2^30) to keep δ·ε/√t out of the budget; the
 * measured worst error is ADAGRAD_FAST_ULP_AVX2. Lanes outside FAST's domain
 * (kernels.h) take the EXACT result through a blend; the domain test is
 * max(bits(t), bits(s_old)) − bits(lo) ≤ span as unsigned (kernels.h;
 * vpmaxud, vpsubd, then vpminud + vpcmpeqd for the unsigned compare).
 *
 * Tails: the last n mod 8 elements go through vmaskmovps loads and stores,
 * which neither read nor write past the end of the buffers.
 *
 * Exception flags: every lane computes on values that raise only what the
 * scalar reference raises on the real elements (adagrad.h). Lanes past the
 * end compute on θ = g = 0, s = 1. FAST tests the domain before it
 * estimates: a vector wholly inside runs the estimates on t, one with a
 * lane outside runs them on the radicand clamped into the domain (one
 * vpaddd on the compare's vpminud), so that lane — t = 0 gives rsqrt = inf
 * and 0·inf — raises nothing, and its EXACT result raises exactly the
 * reference's flags.
 */
#include <immintrin.h>
#include <stdbool.h>

#include "../kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define FAST_EPS_RATIO 0x1p30f

typedef struct {
    __m256 neg_lr, eps, wd, sign;
    __m256 half; /* FAST */
    __m256i lo_bits, span_bits;  /* FAST's radicand range, as bit patterns */
} consts_avx2;

/* Steps 1–3: the gradient after sign and decay, and the new accumulator. */
ALWAYS_INLINE __m256 decayed_grad(__m256 g, __m256 p, const consts_avx2 *c, bool wd)
{
    if (!wd) /* the plan folds MAXIMIZE into neg_lr when λ = 0 */
        return g;
    g = _mm256_xor_ps(g, c->sign); /* exact negation when maximizing (sign = -0.0) */
    return _mm256_fmadd_ps(c->wd, p, g);
}

/* Steps 4–5, EXACT. */
ALWAYS_INLINE __m256 update_exact(__m256 p, __m256 g, __m256 s, const consts_avx2 *c, bool inside)
{
    __m256 d = inside ? _mm256_sqrt_ps(_mm256_add_ps(s, c->eps))
                      : _mm256_add_ps(_mm256_sqrt_ps(s), c->eps);
    return _mm256_add_ps(p, _mm256_div_ps(_mm256_mul_ps(c->neg_lr, g), d));
}

/* θ + Δ from the estimate, on radicand t. */
ALWAYS_INLINE __m256 estimate(__m256 p, __m256 g, __m256 t, const consts_avx2 *c, bool inside)
{
    const __m256 r0 = _mm256_rsqrt_ps(t);
    const __m256 q = _mm256_mul_ps(t, r0);
    const __m256 w = inside ? _mm256_mul_ps(q, c->half) : _mm256_fmadd_ps(q, c->half, c->eps); /* q/2 + ε */
    const __m256 f = _mm256_fnmadd_ps(w, r0, _mm256_set1_ps(1.5f));
    return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(c->neg_lr, g), r0), f, p); /* θ + Δ, fused */
}

/* Steps 4–5, FAST; a lane outside FAST's domain takes the EXACT result. */
ALWAYS_INLINE __m256 update_fast(__m256 p, __m256 g, __m256 s_old, __m256 s, const consts_avx2 *c, bool inside)
{
    const __m256 t = inside ? _mm256_add_ps(s, c->eps) : s;
    const __m256i tb = _mm256_max_epu32(_mm256_castps_si256(t), _mm256_castps_si256(s_old)); /* kernels.h */
    const __m256i x = _mm256_sub_epi32(tb, c->lo_bits);
    const __m256i xc = _mm256_min_epu32(x, c->span_bits);
    const __m256 ok = _mm256_castsi256_ps(_mm256_cmpeq_epi32(xc, x));
    if (__builtin_expect(_mm256_movemask_ps(ok) == 0xff, 1))
        return estimate(p, g, t, c, inside); /* every lane in the domain: nothing to raise */
    /* Rare: the lanes out of the domain take the EXACT result, each lane on
     * its own, so an element's FAST result never depends on its neighbours.
     * Their estimates run on t clamped into [lo, 2^100] (t itself in the
     * domain, where xc + lo = bits(t)), a safe value: t = 0 would give
     * rsqrt = inf and 0·inf. */
    const __m256 tc = _mm256_castsi256_ps(_mm256_add_epi32(xc, c->lo_bits));
    return _mm256_blendv_ps(update_exact(p, g, s, c, inside), estimate(p, g, tc, c, inside), ok);
}

ALWAYS_INLINE __m256i tail_mask(size_t rem)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* One full vector of the step. */
ALWAYS_INLINE void step_vector(float *param, float *sum, const float *grad, const consts_avx2 *c, bool fast, bool wd,
                               bool inside)
{
    const __m256 p = _mm256_loadu_ps(param);
    const __m256 g = decayed_grad(_mm256_loadu_ps(grad), p, c, wd);
    const __m256 s_old = _mm256_loadu_ps(sum);
    const __m256 s = _mm256_fmadd_ps(g, g, s_old);
    _mm256_storeu_ps(sum, s);
    _mm256_storeu_ps(param, fast ? update_fast(p, g, s_old, s, c, inside) : update_exact(p, g, s, c, inside));
}

/* The loop, specialised at compile time for each (fast, wd, inside). */
ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum, const float *restrict grad,
                             size_t n, const adagrad_kparams *kp, bool fast, bool wd, bool inside)
{
    const consts_avx2 c = {
        .neg_lr = _mm256_set1_ps(kp->neg_lr),
        .eps = _mm256_set1_ps(kp->eps),
        .wd = _mm256_set1_ps(kp->weight_decay),
        .sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)kp->grad_sign)),
        .half = _mm256_set1_ps(0.5f),
        .lo_bits = _mm256_set1_epi32((int)kp->fast_lo_bits),
        .span_bits = _mm256_set1_epi32((int)kp->fast_span_bits),
    };
    size_t i = 0;
    const size_t pf_end = adagrad_prefetch_end(n); /* kernels.h: a line of 2 vectors a turn up to it */
    for (; i + ADAGRAD_LINE_FLOATS <= pf_end; i += ADAGRAD_LINE_FLOATS) {
        adagrad_prefetch_lines(param + i, sum + i, grad + i);
        step_vector(param + i, sum + i, grad + i, &c, fast, wd, inside);
        step_vector(param + i + 8, sum + i + 8, grad + i + 8, &c, fast, wd, inside);
    }
    for (; i + 8 <= n; i += 8)
        step_vector(param + i, sum + i, grad + i, &c, fast, wd, inside);
    if (i < n) {
        /* Lanes past the end load θ = g = 0 and get s = 1, so their
         * arithmetic is exact and raises no flag (0/0 with ε = 0 would). */
        const __m256i m = tail_mask(n - i);
        const __m256 p = _mm256_maskload_ps(param + i, m);
        const __m256 g = decayed_grad(_mm256_maskload_ps(grad + i, m), p, &c, wd);
        const __m256 s_old = _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_maskload_ps(sum + i, m),
                                              _mm256_castsi256_ps(m));
        const __m256 s = _mm256_fmadd_ps(g, g, s_old);
        _mm256_maskstore_ps(sum + i, m, s);
        _mm256_maskstore_ps(param + i, m, fast ? update_fast(p, g, s_old, s, &c, inside) : update_exact(p, g, s, &c, inside));
    }
}

ALWAYS_INLINE void traffic_vector(float *param, float *sum, const float *grad, __m256 keep)
{
    const __m256 g = _mm256_and_ps(_mm256_loadu_ps(grad), keep);
    _mm256_storeu_ps(param, _mm256_xor_ps(_mm256_loadu_ps(param), g));
    _mm256_storeu_ps(sum, _mm256_xor_ps(_mm256_loadu_ps(sum), g));
}

static void traffic_avx2(float *restrict param, float *restrict sum, const float *restrict grad, size_t n,
                         uint32_t mask)
{
    const __m256 keep = _mm256_castsi256_ps(_mm256_set1_epi32((int)mask));
    const size_t pf_end = adagrad_prefetch_end(n); /* the step's loops, with the xor */
    size_t i = 0;
    for (; i + ADAGRAD_LINE_FLOATS <= pf_end; i += ADAGRAD_LINE_FLOATS) {
        adagrad_prefetch_lines(param + i, sum + i, grad + i);
        traffic_vector(param + i, sum + i, grad + i, keep);
        traffic_vector(param + i + 8, sum + i + 8, grad + i + 8, keep);
    }
    for (; i + 8 <= n; i += 8)
        traffic_vector(param + i, sum + i, grad + i, keep);
    if (i < n) {
        const __m256i m = tail_mask(n - i);
        const __m256 g = _mm256_and_ps(_mm256_maskload_ps(grad + i, m), keep);
        _mm256_maskstore_ps(param + i, m, _mm256_xor_ps(_mm256_maskload_ps(param + i, m), g));
        _mm256_maskstore_ps(sum + i, m, _mm256_xor_ps(_mm256_maskload_ps(sum + i, m), g));
    }
}

/* Row-wise (adagrad.h's canonical order): two accumulators of 8 lanes are
 * p[0..7] and p[8..15], fed 16 columns at a time (masked loads give zeros
 * in a tail, and fma(0, 0, p) = p); the tree is a0 + a1, the two 128-bit
 * halves, lanes {0,1} + {2,3}, lane 0 + lane 1. Then the update on 8 lanes
 * with the row's one d, vmaskmovps for the tail. */
ALWAYS_INLINE void rowwise_body(float *restrict param, float *restrict row_sum, const float *restrict grad, size_t dim,
                         const adagrad_kparams *kp, bool wd, bool inside)
{
    const consts_avx2 c = {
        .neg_lr = _mm256_set1_ps(kp->neg_lr),
        .eps = _mm256_set1_ps(kp->eps),
        .wd = _mm256_set1_ps(kp->weight_decay),
        .sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)kp->grad_sign)),
    };
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= dim; j += 16) {
        const __m256 g0 = decayed_grad(_mm256_loadu_ps(grad + j), _mm256_loadu_ps(param + j), &c, wd);
        const __m256 g1 = decayed_grad(_mm256_loadu_ps(grad + j + 8), _mm256_loadu_ps(param + j + 8), &c, wd);
        a0 = _mm256_fmadd_ps(g0, g0, a0);
        a1 = _mm256_fmadd_ps(g1, g1, a1);
    }
    if (j < dim) {
        /* The second half's address stays within the row: with 8 or fewer
         * columns left its mask is empty and it reads nothing at j. */
        const size_t rem = dim - j, j1 = rem > 8 ? j + 8 : j;
        const __m256i m0 = tail_mask(rem), m1 = tail_mask(rem > 8 ? rem - 8 : 0);
        const __m256 g0 = decayed_grad(_mm256_maskload_ps(grad + j, m0), _mm256_maskload_ps(param + j, m0), &c, wd);
        const __m256 g1 =
            decayed_grad(_mm256_maskload_ps(grad + j1, m1), _mm256_maskload_ps(param + j1, m1), &c, wd);
        a0 = _mm256_fmadd_ps(g0, g0, a0);
        a1 = _mm256_fmadd_ps(g1, g1, a1);
    }
    const __m256 v = _mm256_add_ps(a0, a1);                                               /* p[k] += p[k+8] */
    const __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)); /* p[k] += p[k+4] */
    const __m128 y = _mm_add_ps(x, _mm_movehl_ps(x, x));                                 /* p[k] += p[k+2] */
    const __m128 z = _mm_add_ss(y, _mm_shuffle_ps(y, y, 1));                             /* p[0] += p[1] */
    const float s = *row_sum + _mm_cvtss_f32(z) / (float)dim;
    *row_sum = s;
    const __m128 sv = _mm_set_ss(s);
    const float d = inside ? _mm_cvtss_f32(_mm_sqrt_ss(_mm_add_ss(sv, _mm_set_ss(kp->eps))))
                                                     : _mm_cvtss_f32(_mm_sqrt_ss(sv)) + kp->eps;
    const __m256 dv = _mm256_set1_ps(d);
    for (j = 0; j + 8 <= dim; j += 8) {
        const __m256 p = _mm256_loadu_ps(param + j);
        const __m256 g = decayed_grad(_mm256_loadu_ps(grad + j), p, &c, wd);
        _mm256_storeu_ps(param + j, _mm256_add_ps(p, _mm256_div_ps(_mm256_mul_ps(c.neg_lr, g), dv)));
    }
    if (j < dim) { /* lanes past the end divide 0 by 1, not by a d that may be 0 */
        const __m256i m = tail_mask(dim - j);
        const __m256 p = _mm256_maskload_ps(param + j, m);
        const __m256 g = decayed_grad(_mm256_maskload_ps(grad + j, m), p, &c, wd);
        const __m256 dt = _mm256_blendv_ps(_mm256_set1_ps(1.0f), dv, _mm256_castsi256_ps(m));
        _mm256_maskstore_ps(param + j, m, _mm256_add_ps(p, _mm256_div_ps(_mm256_mul_ps(c.neg_lr, g), dt)));
    }
}

#include "../kernel_variants.h"

const adagrad_kernels adagrad_kernels_avx2 = {
    .isa = ADAGRAD_ISA_AVX2,
    .name = "avx2",
    .cpu_required = ADAGRAD_CPU_AVX2,
    .why_not = "CPU/OS lacks AVX2+FMA",
    .lanes = 8,
    .fast_ulp = ADAGRAD_FAST_ULP_AVX2,
    .fast_eps_ratio = FAST_EPS_RATIO,
    .dense = VARIANTS_DENSE,
    .traffic = traffic_avx2,
    .rowwise = VARIANTS_ROWWISE,
    .torch_sparse = VARIANTS_TORCH_SPARSE,
};
