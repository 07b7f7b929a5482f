/* libadagrad — the run-time choice among a SIMD kernel's specialisations.
 * SPDX-License-Identifier: MIT
 *
 * Include once from a src/<isa>/ file, after defining FAST_EPS_RATIO (the
 * ISA's ratio for adagrad_fast_lo, kernels.h, which the file's row also
 * gives as its fast_eps_ratio, so tests see the kernels' value) and
 *     ALWAYS_INLINE void step_body(float *restrict param, float *restrict sum,
 *                                  const float *restrict grad, size_t n,
 *                                  const adagrad_kparams *kp,
 *                                  bool fast, bool wd, bool inside);
 * It instantiates step_body for the 8 compile-time combinations of (FAST,
 * weight decay on, EPS_INSIDE), so the loops carry no per-element branch on
 * them, and defines the two kernels a table row points at:
 *     static void variants_step_exact(...), variants_step_fast(...)
 * MAXIMIZE needs no specialisation: it is an xor with a sign mask.
 */
#ifndef ADAGRAD_SRC_KERNEL_VARIANTS_H
#define ADAGRAD_SRC_KERNEL_VARIANTS_H

#define ADAGRAD_VARIANT(name, fast, wd, inside)                                                 \
    static void name(float *restrict p, float *restrict s, const float *restrict g, size_t n, \
                     const adagrad_kparams *kp)                                                 \
    {                                                                                           \
        step_body(p, s, g, n, kp, fast, wd, inside);                                            \
    }
ADAGRAD_VARIANT(exact_plain, false, false, false)
ADAGRAD_VARIANT(exact_wd, false, true, false)
ADAGRAD_VARIANT(exact_inside, false, false, true)
ADAGRAD_VARIANT(exact_wd_inside, false, true, true)
ADAGRAD_VARIANT(fast_plain, true, false, false)
ADAGRAD_VARIANT(fast_wd, true, true, false)
ADAGRAD_VARIANT(fast_inside, true, false, true)
ADAGRAD_VARIANT(fast_wd_inside, true, true, true)
#undef ADAGRAD_VARIANT

/* Index into a variant row: bit 0 weight decay on, bit 1 EPS_INSIDE. */
static inline unsigned variant_index(const adagrad_kparams *kp)
{
    return (kp->weight_decay != 0.0f ? 1u : 0u) | ((kp->flags & ADAGRAD_EPS_INSIDE) ? 2u : 0u);
}

static void variants_step_exact(float *restrict p, float *restrict s, const float *restrict g, size_t n,
                                const adagrad_kparams *kp)
{
    static const adagrad_dense_fn row[4] = {exact_plain, exact_wd, exact_inside, exact_wd_inside};
    row[variant_index(kp)](p, s, g, n, kp);
}

static void variants_step_fast(float *restrict p, float *restrict s, const float *restrict g, size_t n,
                               const adagrad_kparams *kp)
{
    static const adagrad_dense_fn row[4] = {fast_plain, fast_wd, fast_inside, fast_wd_inside};
    if (adagrad_fast_call(kp, adagrad_fast_lo(kp, FAST_EPS_RATIO)))
        row[variant_index(kp)](p, s, g, n, kp);
    else /* η or ε out of FAST's domain (kernels.h) */
        variants_step_exact(p, s, g, n, kp);
}

#endif /* ADAGRAD_SRC_KERNEL_VARIANTS_H */
