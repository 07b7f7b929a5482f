/* libadagrad — x86-64 AVX2 + FMA dense kernel (compiled with -mavx2 -mfma).
 * SPDX-License-Identifier: MIT
 *
 * EXACT: the contract's five steps on 8 lanes at a time, each one IEEE
 * binary32 operation (vxorps for the sign, vfmadd for the two fmas, vsqrtps,
 * vaddps, vmulps, vdivps), so every lane gives the scalar reference's bits.
 *
 * FAST replaces steps 4–5 with estimates (vrsqrtps / vrcpps, relative error
 * ≤ 1.5·2^-12) and one Newton–Raphson step each, written with explicit fmas:
 *   √s:  q = s·r0 (r0 ≈ 1/√s), e = 1 − q·r0, √s ≈ q + q·(e/2)
 *        (Newton on f(x) = x² − s from q; the error squares: ~2^-23)
 *   1/d: r = rcp(d), e = 1 − d·r, 1/d ≈ r + r·e
 *   EPS_INSIDE needs only 1/√(s + ε) ≈ y0 + y0·(e/2), e = 1 − (t·y0)·y0.
 * A lane outside [2^-100, 2^100] (zero, denormal, huge, inf, NaN: where the
 * estimates flush or the refinement breaks) takes the EXACT result instead,
 * so special values match EXACT bit for bit, lane by lane; so does a lane
 * whose update reaches 2^127 (ADAGRAD_FAST_STEP_MAX: overflow stays EXACT's).
 *
 * Tails: the last n mod 8 elements go through vmaskmovps loads and stores,
 * which neither read nor write past the end of the buffers.
 */
#include <immintrin.h>
#include <stdbool.h>

#include "../kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

typedef struct {
    __m256 neg_lr, eps, wd, sign;
} consts_avx2;

/* Steps 1–3: the gradient after sign and decay, and the new accumulator. */
ALWAYS_INLINE __m256 decayed_grad(__m256 g, __m256 p, const consts_avx2 *c, bool wd)
{
    g = _mm256_xor_ps(g, c->sign); /* exact negation when maximizing (sign = -0.0) */
    return wd ? _mm256_fmadd_ps(c->wd, p, g) : g;
}

/* Steps 4–5, EXACT. */
ALWAYS_INLINE __m256 update_exact(__m256 p, __m256 g, __m256 s, const consts_avx2 *c, bool inside)
{
    __m256 d = inside ? _mm256_sqrt_ps(_mm256_add_ps(s, c->eps))
                      : _mm256_add_ps(_mm256_sqrt_ps(s), c->eps);
    return _mm256_add_ps(p, _mm256_div_ps(_mm256_mul_ps(c->neg_lr, g), d));
}

/* Steps 4–5, FAST; a lane outside the estimates' range takes the EXACT result. */
ALWAYS_INLINE __m256 update_fast(__m256 p, __m256 g, __m256 s, const consts_avx2 *c, bool inside)
{
    const __m256 one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f);
    const __m256 t = inside ? _mm256_add_ps(s, c->eps) : s; /* the radicand */
    const __m256 in_range = _mm256_and_ps(_mm256_cmp_ps(t, _mm256_set1_ps(ADAGRAD_FAST_MIN), _CMP_GE_OQ),
                                          _mm256_cmp_ps(t, _mm256_set1_ps(ADAGRAD_FAST_MAX), _CMP_LE_OQ));
    const __m256 r0 = _mm256_rsqrt_ps(t);
    __m256 inv_d;
    if (inside) {
        const __m256 e = _mm256_fnmadd_ps(_mm256_mul_ps(t, r0), r0, one);
        inv_d = _mm256_fmadd_ps(r0, _mm256_mul_ps(half, e), r0);
    } else {
        const __m256 q = _mm256_mul_ps(t, r0);
        const __m256 e = _mm256_fnmadd_ps(q, r0, one);
        const __m256 root = _mm256_fmadd_ps(q, _mm256_mul_ps(half, e), q);
        const __m256 d = _mm256_add_ps(root, c->eps);
        const __m256 r = _mm256_rcp_ps(d);
        inv_d = _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, one), r);
    }
    const __m256 step = _mm256_mul_ps(_mm256_mul_ps(c->neg_lr, g), inv_d);
    const __m256 fast = _mm256_add_ps(p, step);
    const __m256 ok = _mm256_and_ps(in_range, _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), step),
                                                            _mm256_set1_ps(ADAGRAD_FAST_STEP_MAX), _CMP_LT_OQ));
    if (_mm256_movemask_ps(ok) == 0xff)
        return fast;
    /* Rare: the lanes out of range take the EXACT result, each lane on its own,
     * so an element's FAST result never depends on its neighbours. */
    return _mm256_blendv_ps(update_exact(p, g, s, c, inside), fast, ok);
}

ALWAYS_INLINE __m256i tail_mask(size_t rem)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The loop, specialised at compile time for each (fast, wd, inside). */
ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum, const float *restrict grad,
                             size_t n, const adagrad_kparams *kp, bool fast, bool wd, bool inside)
{
    const consts_avx2 c = {
        .neg_lr = _mm256_set1_ps(kp->neg_lr),
        .eps = _mm256_set1_ps(kp->eps),
        .wd = _mm256_set1_ps(kp->weight_decay),
        .sign = _mm256_set1_ps((kp->flags & ADAGRAD_MAXIMIZE) ? -0.0f : 0.0f),
    };
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 p = _mm256_loadu_ps(param + i);
        const __m256 g = decayed_grad(_mm256_loadu_ps(grad + i), p, &c, wd);
        const __m256 s = _mm256_fmadd_ps(g, g, _mm256_loadu_ps(sum + i));
        _mm256_storeu_ps(sum + i, s);
        _mm256_storeu_ps(param + i, fast ? update_fast(p, g, s, &c, inside) : update_exact(p, g, s, &c, inside));
    }
    if (i < n) {
        const __m256i m = tail_mask(n - i);
        const __m256 p = _mm256_maskload_ps(param + i, m);
        const __m256 g = decayed_grad(_mm256_maskload_ps(grad + i, m), p, &c, wd);
        const __m256 s = _mm256_fmadd_ps(g, g, _mm256_maskload_ps(sum + i, m));
        _mm256_maskstore_ps(sum + i, m, s);
        _mm256_maskstore_ps(param + i, m, fast ? update_fast(p, g, s, &c, inside) : update_exact(p, g, s, &c, inside));
    }
}

#include "../kernel_variants.h"

static void traffic_avx2(float *restrict param, float *restrict sum, const float *restrict grad, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(grad + i);
        _mm256_storeu_ps(param + i, _mm256_xor_ps(_mm256_loadu_ps(param + i), g));
        _mm256_storeu_ps(sum + i, _mm256_xor_ps(_mm256_loadu_ps(sum + i), g));
    }
    if (i < n) {
        const __m256i m = tail_mask(n - i);
        const __m256 g = _mm256_maskload_ps(grad + i, m);
        _mm256_maskstore_ps(param + i, m, _mm256_xor_ps(_mm256_maskload_ps(param + i, m), g));
        _mm256_maskstore_ps(sum + i, m, _mm256_xor_ps(_mm256_maskload_ps(sum + i, m), g));
    }
}

const adagrad_kernels adagrad_kernels_avx2 = {
    .isa = ADAGRAD_ISA_AVX2,
    .name = "avx2",
    .step_exact = variants_step_exact,
    .step_fast = variants_step_fast,
    .traffic = traffic_avx2,
    .fast_ulp = ADAGRAD_FAST_ULP_AVX2,
};
