/* libadagrad — x86-64 AVX-512F dense kernel (compiled with -mavx512f).
 * SPDX-License-Identifier: MIT
 *
 * The AVX2 kernel's structure on 16 lanes (see src/avx2/step_avx2.c for the
 * derivation of the Newton–Raphson steps); what differs:
 * - FAST starts from vrsqrt14ps / vrcp14ps (relative error ≤ 2^-14), so one
 *   refinement step each lands within a few ulp; unlike the 12-bit AVX
 *   estimates they also handle denormal inputs, but the per-vector range
 *   check is kept so that special values stay bitwise equal to EXACT.
 * - The range check is compares into a mask register (the radicand, and
 *   |update| < ADAGRAD_FAST_STEP_MAX); out-of-range lanes take the EXACT
 *   result through a masked blend.
 * - Tails are one masked iteration (zero-masked loads, masked stores): no
 *   scalar loop, no access past the end of a buffer.
 */
#include <immintrin.h>
#include <stdbool.h>

#include "../kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

typedef struct {
    __m512 neg_lr, eps, wd, sign;
} consts_avx512;

ALWAYS_INLINE __m512 decayed_grad(__m512 g, __m512 p, const consts_avx512 *c, bool wd)
{
    g = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(g), _mm512_castps_si512(c->sign)));
    return wd ? _mm512_fmadd_ps(c->wd, p, g) : g;
}

ALWAYS_INLINE __m512 update_exact(__m512 p, __m512 g, __m512 s, const consts_avx512 *c, bool inside)
{
    __m512 d = inside ? _mm512_sqrt_ps(_mm512_add_ps(s, c->eps))
                      : _mm512_add_ps(_mm512_sqrt_ps(s), c->eps);
    return _mm512_add_ps(p, _mm512_div_ps(_mm512_mul_ps(c->neg_lr, g), d));
}

ALWAYS_INLINE __m512 update_fast(__m512 p, __m512 g, __m512 s, const consts_avx512 *c, bool inside)
{
    const __m512 one = _mm512_set1_ps(1.0f), half = _mm512_set1_ps(0.5f);
    const __m512 t = inside ? _mm512_add_ps(s, c->eps) : s;
    const __mmask16 in_range = _mm512_cmp_ps_mask(t, _mm512_set1_ps(ADAGRAD_FAST_MIN), _CMP_GE_OQ) &
                               _mm512_cmp_ps_mask(t, _mm512_set1_ps(ADAGRAD_FAST_MAX), _CMP_LE_OQ);
    const __m512 r0 = _mm512_rsqrt14_ps(t);
    __m512 inv_d;
    if (inside) {
        const __m512 e = _mm512_fnmadd_ps(_mm512_mul_ps(t, r0), r0, one);
        inv_d = _mm512_fmadd_ps(r0, _mm512_mul_ps(half, e), r0);
    } else {
        const __m512 q = _mm512_mul_ps(t, r0);
        const __m512 e = _mm512_fnmadd_ps(q, r0, one);
        const __m512 root = _mm512_fmadd_ps(q, _mm512_mul_ps(half, e), q);
        const __m512 d = _mm512_add_ps(root, c->eps);
        const __m512 r = _mm512_rcp14_ps(d);
        inv_d = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, one), r);
    }
    const __m512 step = _mm512_mul_ps(_mm512_mul_ps(c->neg_lr, g), inv_d);
    const __m512 fast = _mm512_add_ps(p, step);
    const __mmask16 ok = _mm512_mask_cmp_ps_mask(in_range, _mm512_abs_ps(step),
                                                 _mm512_set1_ps(ADAGRAD_FAST_STEP_MAX), _CMP_LT_OQ);
    if (ok == 0xffff)
        return fast;
    return _mm512_mask_blend_ps(ok, update_exact(p, g, s, c, inside), fast); /* lane by lane */
}

/* One vector of the step; m selects the lanes (all but the tail: 0xffff). */
ALWAYS_INLINE void step_vector(float *param, float *sum, const float *grad, __mmask16 m,
                               const consts_avx512 *c, bool fast, bool wd, bool inside)
{
    const __m512 p = _mm512_maskz_loadu_ps(m, param);
    const __m512 g = decayed_grad(_mm512_maskz_loadu_ps(m, grad), p, c, wd);
    const __m512 s = _mm512_fmadd_ps(g, g, _mm512_maskz_loadu_ps(m, sum));
    _mm512_mask_storeu_ps(sum, m, s);
    _mm512_mask_storeu_ps(param, m, fast ? update_fast(p, g, s, c, inside) : update_exact(p, g, s, c, inside));
}

ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum, const float *restrict grad,
                             size_t n, const adagrad_kparams *kp, bool fast, bool wd, bool inside)
{
    const consts_avx512 c = {
        .neg_lr = _mm512_set1_ps(kp->neg_lr),
        .eps = _mm512_set1_ps(kp->eps),
        .wd = _mm512_set1_ps(kp->weight_decay),
        .sign = _mm512_set1_ps((kp->flags & ADAGRAD_MAXIMIZE) ? -0.0f : 0.0f),
    };
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        step_vector(param + i, sum + i, grad + i, 0xffff, &c, fast, wd, inside);
    if (i < n)
        step_vector(param + i, sum + i, grad + i, (__mmask16)((1u << (n - i)) - 1), &c, fast, wd, inside);
}

#include "../kernel_variants.h"

static void traffic_avx512(float *restrict param, float *restrict sum, const float *restrict grad, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512i g = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, grad + i));
        const __m512i p = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, param + i));
        const __m512i s = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, sum + i));
        _mm512_mask_storeu_ps(param + i, m, _mm512_castsi512_ps(_mm512_xor_si512(p, g)));
        _mm512_mask_storeu_ps(sum + i, m, _mm512_castsi512_ps(_mm512_xor_si512(s, g)));
    }
}

const adagrad_kernels adagrad_kernels_avx512 = {
    .isa = ADAGRAD_ISA_AVX512,
    .name = "avx512",
    .step_exact = variants_step_exact,
    .step_fast = variants_step_fast,
    .traffic = traffic_avx512,
    .fast_ulp = ADAGRAD_FAST_ULP_AVX512,
};
