/* libadagrad — the dense entry points, the validators every entry point
 * shares, and the plan.
 * SPDX-License-Identifier: MIT
 *
 * Every check happens before the first write, so an error status always
 * means "nothing was touched". Then the plan turns the options into the
 * one specialised kernel to call and its constants; kernels (src/<isa>/)
 * neither validate nor decide anything.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "dispatch.h"

const char *adagrad_strerror(int status)
{
    switch (status) {
    case ADAGRAD_OK: return "ADAGRAD_OK: success";
    case ADAGRAD_ERR_NULL: return "ADAGRAD_ERR_NULL: a required pointer is NULL";
    case ADAGRAD_ERR_PARAM: return "ADAGRAD_ERR_PARAM: a hyper-parameter is NaN, infinite or negative, or a flag, type or input the call does not take";
    case ADAGRAD_ERR_OVERLAP: return "ADAGRAD_ERR_OVERLAP: two buffers overlap";
    case ADAGRAD_ERR_RANGE: return "ADAGRAD_ERR_RANGE: an index is out of range";
    case ADAGRAD_ERR_SIZE: return "ADAGRAD_ERR_SIZE: a size overflows, or the workspace is too small";
    case ADAGRAD_ERR_ISA: return "ADAGRAD_ERR_ISA: implementation unknown or not available on this CPU";
    default: return "unknown adagrad status";
    }
}

double adagrad_decayed_lr(double lr, double lr_decay, uint64_t step)
{
    if (step == 0 || !(lr >= 0.0) || !(lr_decay >= 0.0) || isinf(lr) || isinf(lr_decay))
        return NAN;
    return lr / (1.0 + (double)(step - 1) * lr_decay); /* torch: lr / (1 + (step - 1) * lr_decay) */
}

/* finite and ≥ 0 (-0 included). The quiet comparisons are false for NaN
 * without raising FE_INVALID, as `>=` would: rejecting an argument leaves
 * the floating-point environment alone too. */
static bool valid_hyper(float x) { return isgreaterequal(x, 0.0f) && islessequal(x, 3.40282347e38f); }

int adagrad_check_options(const adagrad_options *opt, unsigned allowed_flags)
{
    if (!opt)
        return ADAGRAD_ERR_NULL;
    if (!valid_hyper(opt->lr) || !valid_hyper(opt->eps) || !valid_hyper(opt->weight_decay) ||
        (opt->flags & ~allowed_flags) != 0)
        return ADAGRAD_ERR_PARAM;
    return ADAGRAD_OK;
}

int adagrad_check_types(adagrad_dtype data, adagrad_dtype grad)
{
    if (data != ADAGRAD_F32) /* BF16 and F16 are not stepped yet; anything else is no dtype */
        return ADAGRAD_ERR_PARAM;
    return grad == ADAGRAD_F32 || grad == data ? ADAGRAD_OK : ADAGRAD_ERR_PARAM;
}

size_t adagrad_dtype_size(adagrad_dtype type) { return type == ADAGRAD_F32 ? 4 : 2; }

bool adagrad_wraps(const void *p, size_t bytes) { return (uintptr_t)p > UINTPTR_MAX - bytes; }

bool adagrad_overlap(const void *a, size_t a_bytes, const void *b, size_t b_bytes)
{
    const uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return a_bytes != 0 && b_bytes != 0 && x < y + b_bytes && y < x + a_bytes;
}

int adagrad_check_dense(const adagrad_dense *t, const adagrad_options *opt)
{
    if (!t)
        return ADAGRAD_ERR_NULL;
    const size_t n = t->n;
    int status = n == 0 && !opt ? ADAGRAD_OK : adagrad_check_options(opt, ADAGRAD_DENSE_FLAGS);
    if (status == ADAGRAD_OK)
        status = adagrad_check_types(t->param_type, t->grad_type);
    if (status != ADAGRAD_OK || n == 0)
        return status;
    const size_t psize = adagrad_dtype_size(t->param_type), gsize = adagrad_dtype_size(t->grad_type);
    if (n > SIZE_MAX / sizeof(float))
        return ADAGRAD_ERR_SIZE;
    if (!t->param || !t->sum || !t->grad)
        return ADAGRAD_ERR_NULL;
    const size_t pbytes = n * psize, sbytes = n * sizeof(float), gbytes = n * gsize;
    if (adagrad_wraps(t->param, pbytes) || adagrad_wraps(t->sum, sbytes) || adagrad_wraps(t->grad, gbytes))
        return ADAGRAD_ERR_SIZE;
    if (adagrad_overlap(t->param, pbytes, t->sum, sbytes) || adagrad_overlap(t->param, pbytes, t->grad, gbytes) ||
        adagrad_overlap(t->sum, sbytes, t->grad, gbytes))
        return ADAGRAD_ERR_OVERLAP;
    return ADAGRAD_OK;
}

/* FAST's lower radicand bound for one call (kernels.h: FAST's domain).
 * ratio·ε² is formed in double, where it is exact (a power of two times a
 * 48-bit square) and can neither overflow nor underflow, and is clamped to
 * [2^-100, 2^100] before its one rounding to binary32: computing it must
 * not raise a flag, even where a compiler evaluates both arms of the
 * choice. +inf when ε is too large: the call then runs EXACT. */
static float fast_lo(float eps, bool inside, float ratio)
{
    if (inside)
        return ADAGRAD_FAST_MIN;
    const double lo = (double)ratio * (double)eps * (double)eps;
    const double min = ADAGRAD_FAST_MIN, max = ADAGRAD_FAST_MAX;
    const float in_range = (float)(lo < min ? min : lo > max ? max : lo);
    return lo > max ? INFINITY : in_range;
}

/* Inlined into the dense entry point, whose per-call cost it is. */
static inline __attribute__((always_inline)) void make_plan(const adagrad_kernels *k, const adagrad_options *opt,
                                                            adagrad_plan *plan)
{
    const bool wd = opt->weight_decay != 0.0f; /* fma(0, θ, g) ≠ g for θ = ±inf/NaN or g = −0: skip it */
    const bool inside = (opt->flags & ADAGRAD_EPS_INSIDE) != 0;
    const bool maximize = (opt->flags & ADAGRAD_MAXIMIZE) != 0;
    /* MAXIMIZE without a per-element sign flip: with λ = 0, g = −grad gives
     * g·g = grad·grad and (−η)·g = η·grad exactly, zeros included (negation
     * is exact, round-to-nearest is symmetric), so the kernels step with
     * grad itself and +η. With λ on, fma(λ, θ, −grad) and −fma(−λ, θ, grad)
     * can differ in the sign of a zero (θ = −0), so the gradient's sign is
     * flipped first, as the contract says. */
    const bool folded = maximize && !wd;
    unsigned variant = (wd ? ADAGRAD_V_WD : 0u) | (inside ? ADAGRAD_V_INSIDE : 0u);
    plan->kp.neg_lr = folded ? opt->lr : -opt->lr;
    plan->kp.eps = opt->eps;
    plan->kp.weight_decay = opt->weight_decay;
    plan->kp.grad_sign = maximize && wd ? 0x80000000u : 0u;
    plan->kp.fast_lo_bits = 0;
    plan->kp.fast_span_bits = 0;
    /* FAST runs only where the row has estimates and the call is in FAST's
     * domain: η < 2^100, and a radicand range that is not empty. */
    if ((opt->flags & ADAGRAD_FAST) && k->fast_eps_ratio != 0.0f && opt->lr < ADAGRAD_FAST_LR_MAX) {
        const float lo = fast_lo(opt->eps, inside, k->fast_eps_ratio);
        if (lo <= ADAGRAD_FAST_MAX) {
            plan->kp.fast_lo_bits = adagrad_f32_bits(lo);
            plan->kp.fast_span_bits = adagrad_f32_bits(ADAGRAD_FAST_MAX) - plan->kp.fast_lo_bits;
            variant |= ADAGRAD_V_FAST;
        }
    }
    /* validation keeps TORCH_SPARSE (table steps only) apart from FAST */
    plan->dense = (opt->flags & ADAGRAD_TORCH_SPARSE) ? k->torch_sparse[variant] : k->dense[variant];
    plan->rowwise = k->rowwise[variant & (ADAGRAD_V_WD | ADAGRAD_V_INSIDE)];
}

void adagrad_make_plan(const adagrad_kernels *k, const adagrad_options *opt, adagrad_plan *plan)
{
    make_plan(k, opt, plan);
}

int adagrad_step_with(const adagrad_kernels *k, const adagrad_dense *t, const adagrad_options *opt)
{
    const int status = adagrad_check_dense(t, opt);
    if (status != ADAGRAD_OK || t->n == 0)
        return status;
    adagrad_plan plan;
    make_plan(k, opt, &plan);
    plan.dense(t->param, t->sum, t->grad, t->n, &plan.kp);
    return ADAGRAD_OK;
}

int adagrad_step(const adagrad_dense *t, const adagrad_options *opt)
{
    return adagrad_step_with(adagrad_active_kernels(), t, opt);
}

int adagrad_step_f32_with(const adagrad_kernels *k, float *param, float *sum, const float *grad, size_t n,
                          const adagrad_options *opt)
{
    return adagrad_step_with(k, &(adagrad_dense){.param = param, .sum = sum, .grad = grad, .n = n}, opt);
}

int adagrad_step_f32(float *param, float *sum, const float *grad, size_t n, const adagrad_options *opt)
{
    return adagrad_step(&(adagrad_dense){.param = param, .sum = sum, .grad = grad, .n = n}, opt);
}
