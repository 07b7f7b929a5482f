/* libadagrad — a kernel's compile-time specialisations, as a row's tables.
 * SPDX-License-Identifier: MIT
 *
 * Include once from a src/<isa>/ file, after it defines
 *     ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum,
 *                                  const float *restrict grad, size_t n,
 *                                  const adagrad_kparams *kp,
 *                                  bool fast, bool wd, bool inside);
 *     ALWAYS_INLINE void rowwise_body(float *restrict param, float *restrict row_sum,
 *                                     const float *restrict grad, size_t dim,
 *                                     const adagrad_kparams *kp, bool wd, bool inside);
 * It instantiates step_body for the 8 combinations of (FAST, weight decay
 * on, EPS_INSIDE) and rowwise_body for the 4 of (weight decay, EPS_INSIDE),
 * so the loops carry no branch on an option, and torch's sparse rounding
 * order (below) for the same 4, and defines the tables the file's row
 * points at, indexed by the ADAGRAD_V_* bits (kernels.h):
 *     .dense = VARIANTS_DENSE, .rowwise = VARIANTS_ROWWISE,
 *     .torch_sparse = VARIANTS_TORCH_SPARSE
 * The plan (src/api.c) picks one entry per call. MAXIMIZE needs no
 * specialisation: the plan folds it into η or into kp->grad_sign.
 */
#ifndef ADAGRAD_SRC_KERNEL_VARIANTS_H
#define ADAGRAD_SRC_KERNEL_VARIANTS_H

#define ADAGRAD_DENSE_VARIANT(name, fast, wd, inside)                                           \
    static void name(float *restrict p, float *restrict s, const float *restrict g, size_t n, \
                     const adagrad_kparams *kp)                                                 \
    {                                                                                           \
        step_body(p, s, g, n, kp, fast, wd, inside);                                            \
    }
ADAGRAD_DENSE_VARIANT(exact_plain, false, false, false)
ADAGRAD_DENSE_VARIANT(exact_wd, false, true, false)
ADAGRAD_DENSE_VARIANT(exact_inside, false, false, true)
ADAGRAD_DENSE_VARIANT(exact_wd_inside, false, true, true)
ADAGRAD_DENSE_VARIANT(fast_plain, true, false, false)
ADAGRAD_DENSE_VARIANT(fast_wd, true, true, false)
ADAGRAD_DENSE_VARIANT(fast_inside, true, false, true)
ADAGRAD_DENSE_VARIANT(fast_wd_inside, true, true, true)
#undef ADAGRAD_DENSE_VARIANT

#define ADAGRAD_ROWWISE_VARIANT(name, wd, inside)                                                    \
    static void name(float *restrict p, float *restrict rs, const float *restrict g, size_t dim, \
                     const adagrad_kparams *kp)                                                    \
    {                                                                                              \
        rowwise_body(p, rs, g, dim, kp, wd, inside);                                               \
    }
ADAGRAD_ROWWISE_VARIANT(rowwise_plain, false, false)
ADAGRAD_ROWWISE_VARIANT(rowwise_wd, true, false)
ADAGRAD_ROWWISE_VARIANT(rowwise_inside, false, true)
ADAGRAD_ROWWISE_VARIANT(rowwise_wd_inside, true, true)
#undef ADAGRAD_ROWWISE_VARIANT

/* torch 1.13's sparse rounding order (adagrad.h, ADAGRAD_TORCH_SPARSE), per
 * element: s + fl(g·g), √s + ε, fl(g / d), fma(q, −η, θ). Portable C, the
 * same in every folder: each compiles it with its own flags (and
 * -fno-math-errno), so the compiler vectorizes it with the ISA's IEEE
 * operations, which give every element the bits of the scalar loop
 * (-ffp-contract=off: nothing is fused but the written fmas; nothing is
 * reassociated). The plan's folded MAXIMIZE holds here too: with λ = 0, q
 * changes sign exactly and so does η. */
static inline __attribute__((always_inline)) void torch_sparse_body(float *restrict param, float *restrict sum,
                                                                     const float *restrict grad, size_t n,
                                                                     const adagrad_kparams *kp, bool wd,
                                                                     bool inside)
{
    const float neg_lr = kp->neg_lr, eps = kp->eps, lambda = kp->weight_decay;
    const bool negate = kp->grad_sign != 0;
    for (size_t j = 0; j < n; j++) {
        float g = negate ? -grad[j] : grad[j];
        if (wd)
            g = fmaf(lambda, param[j], g);
        const float sq = g * g;
        const float s = sum[j] + sq;
        const float d = inside ? sqrtf(s + eps) : sqrtf(s) + eps;
        const float q = g / d;
        param[j] = fmaf(q, neg_lr, param[j]);
        sum[j] = s;
    }
}

#define ADAGRAD_TORCH_SPARSE_VARIANT(name, wd, inside)                                          \
    static void name(float *restrict p, float *restrict s, const float *restrict g, size_t n, \
                     const adagrad_kparams *kp)                                                 \
    {                                                                                           \
        torch_sparse_body(p, s, g, n, kp, wd, inside);                                          \
    }
ADAGRAD_TORCH_SPARSE_VARIANT(torch_plain, false, false)
ADAGRAD_TORCH_SPARSE_VARIANT(torch_wd, true, false)
ADAGRAD_TORCH_SPARSE_VARIANT(torch_inside, false, true)
ADAGRAD_TORCH_SPARSE_VARIANT(torch_wd_inside, true, true)
#undef ADAGRAD_TORCH_SPARSE_VARIANT

/* In ADAGRAD_V_* order: bit 0 weight decay, bit 1 EPS_INSIDE, bit 2 FAST. */
#define VARIANTS_DENSE \
    {exact_plain, exact_wd, exact_inside, exact_wd_inside, fast_plain, fast_wd, fast_inside, fast_wd_inside}
#define VARIANTS_ROWWISE {rowwise_plain, rowwise_wd, rowwise_inside, rowwise_wd_inside}
#define VARIANTS_TORCH_SPARSE {torch_plain, torch_wd, torch_inside, torch_wd_inside}

#endif /* ADAGRAD_SRC_KERNEL_VARIANTS_H */
