/* libadagrad — the public entry points: validation, then one kernel call.
 * SPDX-License-Identifier: MIT
 *
 * Every check happens before the first write, so an error status always
 * means "nothing was touched". Kernels (src/<isa>/) never validate.
 */
#include <math.h>
#include <stdint.h>

#include "dispatch.h"

const char *adagrad_strerror(int status)
{
    switch (status) {
    case ADAGRAD_OK: return "ADAGRAD_OK: success";
    case ADAGRAD_ERR_NULL: return "ADAGRAD_ERR_NULL: a required pointer is NULL";
    case ADAGRAD_ERR_PARAM: return "ADAGRAD_ERR_PARAM: a hyper-parameter is NaN, infinite or negative, or a flag is unknown";
    case ADAGRAD_ERR_OVERLAP: return "ADAGRAD_ERR_OVERLAP: two buffers overlap";
    case ADAGRAD_ERR_RANGE: return "ADAGRAD_ERR_RANGE: an index is out of range";
    case ADAGRAD_ERR_SIZE: return "ADAGRAD_ERR_SIZE: a size overflows";
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
static int valid_hyper(float x) { return isgreaterequal(x, 0.0f) && islessequal(x, 3.40282347e38f); }

static int validate_options(const adagrad_options *opt)
{
    if (!opt)
        return ADAGRAD_ERR_NULL;
    if (!valid_hyper(opt->lr) || !valid_hyper(opt->eps) || !valid_hyper(opt->weight_decay) ||
        (opt->flags & ~ADAGRAD_ALL_FLAGS) != 0)
        return ADAGRAD_ERR_PARAM;
    return ADAGRAD_OK;
}

/* [a, a + bytes) and [b, b + bytes) share a byte (neither wraps: checked before). */
static int ranges_overlap(const void *a, const void *b, size_t bytes)
{
    const uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + bytes && y < x + bytes;
}

/* The end of [p, p + bytes) must be representable. */
static int wraps(const void *p, size_t bytes) { return (uintptr_t)p > UINTPTR_MAX - bytes; }

int adagrad_validate_dense(float *param, float *sum, const float *grad, size_t n,
                           const adagrad_options *opt)
{
    if (n == 0)
        return opt ? validate_options(opt) : ADAGRAD_OK;
    int status = validate_options(opt);
    if (status != ADAGRAD_OK)
        return status;
    if (n > SIZE_MAX / sizeof(float))
        return ADAGRAD_ERR_SIZE;
    if (!param || !sum || !grad)
        return ADAGRAD_ERR_NULL;
    const size_t bytes = n * sizeof(float);
    if (wraps(param, bytes) || wraps(sum, bytes) || wraps(grad, bytes))
        return ADAGRAD_ERR_SIZE;
    if (ranges_overlap(param, sum, bytes) || ranges_overlap(param, grad, bytes) ||
        ranges_overlap(sum, grad, bytes))
        return ADAGRAD_ERR_OVERLAP;
    return ADAGRAD_OK;
}

adagrad_dense_fn adagrad_dense_kernel(const adagrad_kernels *k, const adagrad_options *opt,
                                      adagrad_kparams *kp)
{
    *kp = (adagrad_kparams){
        .neg_lr = -opt->lr,
        .eps = opt->eps,
        .weight_decay = opt->weight_decay,
        .flags = opt->flags & (ADAGRAD_MAXIMIZE | ADAGRAD_EPS_INSIDE),
    };
    return (opt->flags & ADAGRAD_FAST) ? k->step_fast : k->step_exact;
}

int adagrad_step_f32_with(const adagrad_kernels *k, float *param, float *sum,
                          const float *grad, size_t n, const adagrad_options *opt)
{
    const int status = adagrad_validate_dense(param, sum, grad, n, opt);
    if (status != ADAGRAD_OK || n == 0)
        return status;
    adagrad_kparams kp;
    adagrad_dense_kernel(k, opt, &kp)(param, sum, grad, n, &kp);
    return ADAGRAD_OK;
}

int adagrad_step_f32(float *param, float *sum, const float *grad, size_t n,
                     const adagrad_options *opt)
{
    return adagrad_step_f32_with(adagrad_active_kernels(), param, sum, grad, n, opt);
}
