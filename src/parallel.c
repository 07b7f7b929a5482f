/* libadagrad — splitting one dense step across threads.
 * SPDX-License-Identifier: MIT
 *
 * Every kernel is element-wise (FAST included: an element's result never
 * depends on its neighbours), so any split gives the bits of one call; the
 * split only decides who touches which cache lines.
 */
#include "dispatch.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int adagrad_split_range(size_t n, size_t parts, size_t index, size_t *begin, size_t *count)
{
    if (!begin || !count)
        return ADAGRAD_ERR_NULL;
    if (parts == 0 || index >= parts)
        return ADAGRAD_ERR_PARAM;
    /* Blocks of ADAGRAD_SPLIT_ALIGN elements, dealt out as evenly as possible:
     * the first (blocks % parts) ranges get one block more. No product can
     * overflow: every term is at most `blocks`. */
    const size_t blocks = n / ADAGRAD_SPLIT_ALIGN + (n % ADAGRAD_SPLIT_ALIGN != 0);
    const size_t q = blocks / parts, r = blocks % parts;
    const size_t first = index * q + (index < r ? index : r);
    const size_t nblocks = q + (index < r);
    const size_t lo = first > n / ADAGRAD_SPLIT_ALIGN ? n : first * ADAGRAD_SPLIT_ALIGN;
    const size_t hi_blocks = first + nblocks;
    const size_t hi = hi_blocks > n / ADAGRAD_SPLIT_ALIGN ? n : hi_blocks * ADAGRAD_SPLIT_ALIGN;
    *begin = lo;
    *count = hi - lo;
    return ADAGRAD_OK;
}

int adagrad_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int adagrad_step_f32_mt(float *param, float *sum, const float *grad, size_t n,
                        const adagrad_options *opt, int threads)
{
    const int status = adagrad_validate_dense(param, sum, grad, n, opt);
    if (status != ADAGRAD_OK || n == 0)
        return status;
    adagrad_kparams kp;
    const adagrad_dense_fn kernel = adagrad_dense_kernel(adagrad_active_kernels(), opt, &kp);

    size_t parts = threads > 0 ? (size_t)threads : (size_t)adagrad_max_threads();
    if (parts > n / ADAGRAD_MT_MIN_ELEMENTS)
        parts = n / ADAGRAD_MT_MIN_ELEMENTS;
    if (parts <= 1) {
        kernel(param, sum, grad, n, &kp);
        return ADAGRAD_OK;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads((int)parts) schedule(static, 1)
#endif
    for (size_t i = 0; i < parts; i++) {
        size_t begin, count;
        adagrad_split_range(n, parts, i, &begin, &count);
        kernel(param + begin, sum + begin, grad + begin, count, &kp);
    }
    return ADAGRAD_OK;
}
