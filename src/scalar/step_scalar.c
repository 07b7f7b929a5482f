/* libadagrad — the scalar reference: the contract of include/adagrad.h
 * (docs/design.md) written out.
 * SPDX-License-Identifier: MIT
 *
 * Every operation is one binary32 operation in the contract's order; the
 * two fmas are explicit fmaf calls and the build uses -ffp-contract=off, so
 * no other a·b+c is fused. This file is the oracle every SIMD
 * implementation is compared against bit for bit.
 *
 * FAST: plain C has no reciprocal(-square-root) estimate instruction, so the
 * scalar FAST kernel computes the EXACT result (its error bound is 0 ulp).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Step 1: the gradient's sign. The plan folds MAXIMIZE into η when λ = 0
 * (exact: kernels.h's kparams), so grad_sign is set only with λ ≠ 0. */
ALWAYS_INLINE float signed_grad(float grad, const adagrad_kparams *kp)
{
    return kp->grad_sign ? -grad : grad;
}

/* `fast` is ignored: plain C has no estimate instruction, and the row's
 * fast_eps_ratio of 0 makes the plan choose EXACT for FAST calls. */
ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum, const float *restrict grad, size_t n,
                             const adagrad_kparams *kp, bool fast, bool wd, bool inside)
{
    (void)fast;
    const float neg_lr = kp->neg_lr, eps = kp->eps, lambda = kp->weight_decay;
    for (size_t i = 0; i < n; i++) {
        const float p = param[i];
        float g = signed_grad(grad[i], kp);            /* 1 */
        if (wd)
            g = fmaf(lambda, p, g);                    /* 2 */
        const float s = fmaf(g, g, sum[i]);            /* 3 */
        const float d = inside ? sqrtf(s + eps)        /* 4 */
                               : sqrtf(s) + eps;
        param[i] = p + (neg_lr * g) / d;               /* 5 */
        sum[i] = s;
    }
}

/* Row-wise: adagrad.h's canonical order written out (16 partial sums, the
 * fixed tree, one division), then the row's one d for every element. */
ALWAYS_INLINE void rowwise_body(float *restrict param, float *restrict row_sum, const float *restrict grad,
                                size_t dim, const adagrad_kparams *kp, bool wd, bool inside)
{
    const float neg_lr = kp->neg_lr, eps = kp->eps, lambda = kp->weight_decay;
    float p[16] = {0};
    for (size_t j = 0; j < dim; j++) {
        float g = signed_grad(grad[j], kp);
        if (wd)
            g = fmaf(lambda, param[j], g);
        p[j % 16] = fmaf(g, g, p[j % 16]);
    }
    for (int k = 0; k < 8; k++)
        p[k] += p[k + 8];
    for (int k = 0; k < 4; k++)
        p[k] += p[k + 4];
    for (int k = 0; k < 2; k++)
        p[k] += p[k + 2];
    p[0] += p[1];
    const float s = *row_sum + p[0] / (float)dim;
    *row_sum = s;
    const float d = inside ? sqrtf(s + eps) : sqrtf(s) + eps;
    for (size_t j = 0; j < dim; j++) {
        float g = signed_grad(grad[j], kp);
        if (wd)
            g = fmaf(lambda, param[j], g);
        param[j] = param[j] + (neg_lr * g) / d;
    }
}

#include "../kernel_variants.h"

/* Plain loads and stores with an xor, so nothing can be elided (see kernels.h). */
static void traffic_scalar(float *restrict param, float *restrict sum,
                           const float *restrict grad, size_t n, uint32_t mask)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t p, s, g; /* memcpy: the bit pattern without breaking aliasing rules */
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

const adagrad_kernels adagrad_kernels_scalar = {
    .isa = ADAGRAD_ISA_SCALAR,
    .name = "scalar",
    .cpu_required = 0, /* runs everywhere */
    .why_not = NULL,
    .lanes = 1,
    .fast_ulp = 0, /* FAST is EXACT: no estimates */
    .fast_eps_ratio = 0.0f,
    .dense = VARIANTS_DENSE,
    .rowwise = VARIANTS_ROWWISE,
    .torch_sparse = VARIANTS_TORCH_SPARSE,
    .traffic = traffic_scalar,
};
