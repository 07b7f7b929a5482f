/* libadagrad — x86-64 AVX-512F dense kernel (compiled with -mavx512f).
 * SPDX-License-Identifier: MIT
 *
 * EXACT: the contract's five steps on 16 lanes at a time, each one IEEE
 * binary32 operation (xor for the sign, or none: kernels.h folds MAXIMIZE
 * into η when λ = 0; vfmadd for the two fmas, vsqrtps,
 * vaddps, vmulps, vdivps), so every lane gives the scalar reference's bits.
 * When the data sit in L1, the throughput of vsqrtps and vdivps is its limit.
 *
 * FAST computes steps 4–5 from one estimate r0 ≈ r = 1/√t (vrsqrt14ps,
 * relative error |δ| ≤ 2^-14), t the radicand, in 5 multiply-class
 * operations instead of a square root, a division and an add:
 *     q = t·r0                          ≈ √t
 *     f = 1.5 − r0·(q/2 + ε)            = 1 + e/2, e = −2δ − δ² − 2ε·r0
 *     θ' = θ + ((−η)·g)·r0·f            the last product and the add fused
 * since 1/(√t + ε) = r/(1 + εr) and r0(1 + e/2) = r(1 − εr) + O(δ², δ·εr):
 * one Newton–Raphson step on 1/√t fused with the first-order term of ε.
 * The neglected terms are below 2^-26 relative when ε·r ≤ 2^-13, which the
 * domain guarantees (t ≥ 2^26·ε², FAST_EPS_RATIO); the roundings bring the
 * measured worst error to ADAGRAD_FAST_ULP_AVX512. (−η)·g is EXACT's own
 * numerator, bit for bit (so a product that underflows loses the same bits
 * in both), and f ≈ 1 > 0 keeps the sign of a zero update (fma(±0, f, θ)
 * is θ + ±0, as EXACT's add is). With EPS_INSIDE, t = s + ε and ε drops
 * out of f. 5 multiply-class operations + vrsqrt14ps replace vsqrtps +
 * vdivps + vaddps, whose throughput is far lower: FAST is faster than
 * EXACT where the arithmetic is the limit (in L1), the same where memory is.
 * Lanes outside FAST's domain (kernels.h: negative accumulator, radicand
 * outside [lo, 2^100], i.e. zeros, denormals, infinities, NaN, ε too large)
 * take the EXACT result through a masked blend; the domain test is
 * vpmaxud + vpsubd + one unsigned compare (kernels.h:
 * max(bits(t), bits(s_old)) − bits(lo) ≤ bits(2^100) − bits(lo)).
 * In L1 the loop is bound by how many vector operations it issues (a core
 * issues only a few a cycle, fewer of them multiply-class), so every one
 * counts: hence the fused add, the max in place of an or-with-sign
 * (vpternlogd), and plain loads (load_lanes), which GCC can fold into the
 * arithmetic as memory operands.
 *
 * Tails are one masked iteration (zero-masked loads, masked stores): no
 * scalar loop, no access past the end of a buffer.
 *
 * Exception flags: a lane raises only what the scalar reference raises on
 * its element (adagrad.h). Every lane computes on values chosen for it:
 * the tail's lanes past the end load θ = g = 0, s = 1 (merge-masked
 * loads); FAST tests the domain before it estimates, and a vector with a
 * lane outside runs the estimates on 2^100 there (one vblendmps), whose
 * EXACT result then raises the reference's flags.
 */
#include <immintrin.h>
#include <stdbool.h>

#include "../kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define FAST_EPS_RATIO 0x1p26f

typedef struct {
    __m512 neg_lr, eps, wd, sign;
    __m512 half; /* FAST */
    __m512i lo_bits, span_bits;  /* FAST's radicand range, as bit patterns */
} consts_avx512;

ALWAYS_INLINE __m512 decayed_grad(__m512 g, __m512 p, const consts_avx512 *c, bool wd)
{
    if (!wd) /* the plan folds MAXIMIZE into neg_lr when λ = 0 */
        return g;
    g = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(g), _mm512_castps_si512(c->sign)));
    return _mm512_fmadd_ps(c->wd, p, g);
}

ALWAYS_INLINE __m512 update_exact(__m512 p, __m512 g, __m512 s, const consts_avx512 *c, bool inside)
{
    __m512 d = inside ? _mm512_sqrt_ps(_mm512_add_ps(s, c->eps))
                      : _mm512_add_ps(_mm512_sqrt_ps(s), c->eps);
    return _mm512_add_ps(p, _mm512_div_ps(_mm512_mul_ps(c->neg_lr, g), d));
}

/* θ + Δ from the estimate, on radicand t. */
ALWAYS_INLINE __m512 estimate(__m512 p, __m512 g, __m512 t, const consts_avx512 *c, bool inside)
{
    const __m512 r0 = _mm512_rsqrt14_ps(t);
    const __m512 q = _mm512_mul_ps(t, r0);
    const __m512 w = inside ? _mm512_mul_ps(q, c->half) : _mm512_fmadd_ps(q, c->half, c->eps); /* q/2 + ε */
    const __m512 f = _mm512_fnmadd_ps(w, r0, _mm512_set1_ps(1.5f));
    return _mm512_fmadd_ps(_mm512_mul_ps(_mm512_mul_ps(c->neg_lr, g), r0), f, p); /* θ + Δ, fused */
}

/* m selects the lanes that hold elements (all but the tail: 0xffff); the
 * others hold θ = g = 0, s = 1, whose estimate raises nothing, and need not
 * take the EXACT path. */
ALWAYS_INLINE __m512 update_fast(__m512 p, __m512 g, __m512 s_old, __m512 s, const consts_avx512 *c,
                                 bool inside, __mmask16 m)
{
    const __m512 t = inside ? _mm512_add_ps(s, c->eps) : s;
    /* kernels.h: max(bits(t), bits(s_old)) − bits(lo) ≤ span, as unsigned */
    const __m512i x = _mm512_max_epu32(_mm512_castps_si512(t), _mm512_castps_si512(s_old));
    const __mmask16 ok = _mm512_cmple_epu32_mask(_mm512_sub_epi32(x, c->lo_bits), c->span_bits);
    if (__builtin_expect((ok | (__mmask16)~m) == 0xffff, 1))
        return estimate(p, g, t, c, inside); /* every element in the domain: nothing to raise */
    /* Rare: the estimates run on t in the domain and on 2^100 outside it
     * (vblendmps), so those lanes raise nothing: t = 0 would give
     * rsqrt = inf, then 0·inf. (A zero-masked chain would do with GCC, but
     * clang treats masked arithmetic as the whole operation and a select,
     * and may compute every lane.) */
    const __m512 tc = _mm512_mask_blend_ps(ok, _mm512_set1_ps(ADAGRAD_FAST_MAX), t);
    return _mm512_mask_blend_ps(ok, update_exact(p, g, s, c, inside), estimate(p, g, tc, c, inside)); /* lane by lane */
}

/* Loads and stores of the lanes m selects; the others load `rest`. The
 * loop's m is the constant 0xffff, so the ternary folds to a plain access,
 * which GCC can also fold into an arithmetic instruction's memory operand:
 * a masked load, even with an all-ones mask, cannot be, and costs a
 * register copy per vector. */
ALWAYS_INLINE __m512 load_lanes(const float *x, __mmask16 m, __m512 rest)
{
    return m == 0xffff ? _mm512_loadu_ps(x) : _mm512_mask_loadu_ps(rest, m, x);
}

ALWAYS_INLINE void store_lanes(float *x, __mmask16 m, __m512 v)
{
    if (m == 0xffff)
        _mm512_storeu_ps(x, v);
    else
        _mm512_mask_storeu_ps(x, m, v);
}

/* One vector of the step; m selects the lanes (all but the tail: 0xffff). */
ALWAYS_INLINE void step_vector(float *param, float *sum, const float *grad, __mmask16 m,
                               const consts_avx512 *c, bool fast, bool wd, bool inside)
{
    /* lanes past the end: θ = g = 0, s = 1, whose arithmetic raises no flag
     * (zeros would give 0/0 with ε = 0) */
    const __m512 p = load_lanes(param, m, _mm512_setzero_ps());
    const __m512 g = decayed_grad(load_lanes(grad, m, _mm512_setzero_ps()), p, c, wd);
    const __m512 s_old = load_lanes(sum, m, _mm512_set1_ps(1.0f));
    const __m512 s = _mm512_fmadd_ps(g, g, s_old);
    store_lanes(sum, m, s);
    store_lanes(param, m, fast ? update_fast(p, g, s_old, s, c, inside, m) : update_exact(p, g, s, c, inside));
}

ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum, const float *restrict grad,
                             size_t n, const adagrad_kparams *kp, bool fast, bool wd, bool inside)
{
    const consts_avx512 c = {
        .neg_lr = _mm512_set1_ps(kp->neg_lr),
        .eps = _mm512_set1_ps(kp->eps),
        .wd = _mm512_set1_ps(kp->weight_decay),
        .sign = _mm512_castsi512_ps(_mm512_set1_epi32((int)kp->grad_sign)),
        .half = _mm512_set1_ps(0.5f),
        .lo_bits = _mm512_set1_epi32((int)kp->fast_lo_bits),
        .span_bits = _mm512_set1_epi32((int)kp->fast_span_bits),
    };
    size_t i = 0;
    const size_t pf_end = adagrad_prefetch_end(n); /* kernels.h */
    for (; i + 16 <= pf_end; i += 16) {
        adagrad_prefetch_lines(param + i, sum + i, grad + i);
        step_vector(param + i, sum + i, grad + i, 0xffff, &c, fast, wd, inside);
    }
    for (; i + 16 <= n; i += 16)
        step_vector(param + i, sum + i, grad + i, 0xffff, &c, fast, wd, inside);
    if (i < n)
        step_vector(param + i, sum + i, grad + i, (__mmask16)((1u << (n - i)) - 1), &c, fast, wd, inside);
}

/* Plain loads and stores in the loop (masked ones, even with an all-ones
 * mask, can cost bandwidth at DRAM sizes), one masked tail. Unlike
 * step_vector, this keeps the masked intrinsics: with the constant mask
 * GCC emits plain vmovups, exactly one load per buffer, the traffic of a
 * step. With load_lanes GCC folds grad's load into both vpxord: grad would
 * be loaded twice, and the roofline would measure more than a step's
 * traffic (and run slower in L1). */
ALWAYS_INLINE void traffic_vector(float *param, float *sum, const float *grad, __mmask16 m, __m512i keep)
{
    const __m512i g = _mm512_and_si512(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, grad)), keep);
    const __m512i p = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, param));
    const __m512i s = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, sum));
    _mm512_mask_storeu_ps(param, m, _mm512_castsi512_ps(_mm512_xor_si512(p, g)));
    _mm512_mask_storeu_ps(sum, m, _mm512_castsi512_ps(_mm512_xor_si512(s, g)));
}

static void traffic_avx512(float *restrict param, float *restrict sum, const float *restrict grad, size_t n,
                           uint32_t mask)
{
    const __m512i keep = _mm512_set1_epi32((int)mask);
    const size_t pf_end = adagrad_prefetch_end(n); /* the step's loops, with the xor */
    size_t i = 0;
    for (; i + 16 <= pf_end; i += 16) {
        adagrad_prefetch_lines(param + i, sum + i, grad + i);
        traffic_vector(param + i, sum + i, grad + i, 0xffff, keep);
    }
    for (; i + 16 <= n; i += 16)
        traffic_vector(param + i, sum + i, grad + i, 0xffff, keep);
    if (i < n)
        traffic_vector(param + i, sum + i, grad + i, (__mmask16)((1u << (n - i)) - 1), keep);
}

/* Row-wise (adagrad.h's canonical order): one accumulator of 16 lanes is
 * p[0..15] (a masked tail loads zeros, and fma(0, 0, p) = p); the tree is
 * the two 256-bit halves, the two 128-bit halves, lanes {0,1} + {2,3},
 * lane 0 + lane 1. Then the update on 16 lanes with the row's one d. */
ALWAYS_INLINE void rowwise_body(float *restrict param, float *restrict row_sum, const float *restrict grad,
                           size_t dim, const adagrad_kparams *kp, bool wd, bool inside)
{
    const consts_avx512 c = {
        .neg_lr = _mm512_set1_ps(kp->neg_lr),
        .eps = _mm512_set1_ps(kp->eps),
        .wd = _mm512_set1_ps(kp->weight_decay),
        .sign = _mm512_castsi512_ps(_mm512_set1_epi32((int)kp->grad_sign)),
    };
    __m512 a = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= dim; j += 16) {
        const __m512 g = decayed_grad(_mm512_loadu_ps(grad + j), _mm512_loadu_ps(param + j), &c, wd);
        a = _mm512_fmadd_ps(g, g, a);
    }
    if (j < dim) {
        const __mmask16 m = (__mmask16)((1u << (dim - j)) - 1);
        const __m512 g = decayed_grad(_mm512_maskz_loadu_ps(m, grad + j), _mm512_maskz_loadu_ps(m, param + j), &c, wd);
        a = _mm512_fmadd_ps(g, g, a);
    }
    const __m256 v = _mm256_add_ps(_mm512_castps512_ps256(a),
                                   _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))); /* k+8 */
    const __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));            /* k+4 */
    const __m128 y = _mm_add_ps(x, _mm_movehl_ps(x, x));                                            /* k+2 */
    const __m128 z = _mm_add_ss(y, _mm_shuffle_ps(y, y, 1));                                        /* k+1 */
    const float s = *row_sum + _mm_cvtss_f32(z) / (float)dim;
    *row_sum = s;
    const __m128 sv = _mm_set_ss(s);
    const float d = inside ? _mm_cvtss_f32(_mm_sqrt_ss(_mm_add_ss(sv, _mm_set_ss(kp->eps))))
                                                     : _mm_cvtss_f32(_mm_sqrt_ss(sv)) + kp->eps;
    const __m512 dv = _mm512_set1_ps(d);
    for (j = 0; j < dim; j += 16) { /* lanes past the end divide 0 by 1, not by a d that may be 0 */
        const __mmask16 m = dim - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (dim - j)) - 1);
        const __m512 p = _mm512_maskz_loadu_ps(m, param + j);
        const __m512 g = decayed_grad(_mm512_maskz_loadu_ps(m, grad + j), p, &c, wd);
        const __m512 dt = _mm512_mask_blend_ps(m, _mm512_set1_ps(1.0f), dv);
        _mm512_mask_storeu_ps(param + j, m, _mm512_add_ps(p, _mm512_div_ps(_mm512_mul_ps(c.neg_lr, g), dt)));
    }
}

#include "../kernel_variants.h"

const adagrad_kernels adagrad_kernels_avx512 = {
    .isa = ADAGRAD_ISA_AVX512,
    .name = "avx512",
    .cpu_required = ADAGRAD_CPU_AVX512,
    .why_not = "CPU/OS lacks AVX-512F",
    .lanes = 16,
    .fast_ulp = ADAGRAD_FAST_ULP_AVX512,
    .fast_eps_ratio = FAST_EPS_RATIO,
    .dense = VARIANTS_DENSE,
    .traffic = traffic_avx512,
    .rowwise = VARIANTS_ROWWISE,
    .torch_sparse = VARIANTS_TORCH_SPARSE,
};
