/* libadagrad — splitting one dense step across threads.
 * SPDX-License-Identifier: MIT
 *
 * Every kernel is element-wise (FAST included: an element's result never
 * depends on its neighbours), so any split gives the bits of one call; the
 * split only decides who touches which cache lines.
 */
#include "dispatch.h"

#include <stdatomic.h>

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

/* The size of every parallel region, T: omp_get_max_threads() of the first
 * caller, read once (0 until then). libgomp keeps one cached team per calling
 * thread and rebuilds it (allocating, and creating or ending threads) whenever
 * a region asks for another size than the previous one, so a size that never
 * depends on n or on the call's `threads` keeps the first team for good. */
static atomic_int team_size;

static int fixed_team_size(void)
{
    int t = atomic_load_explicit(&team_size, memory_order_relaxed);
    if (t > 0)
        return t;
#ifdef _OPENMP
    t = omp_get_max_threads();
#endif
    if (t < 1)
        t = 1;
    /* concurrent first callers may read different values: the first store wins */
    int unset = 0;
    if (!atomic_compare_exchange_strong_explicit(&team_size, &unset, t, memory_order_relaxed,
                                                 memory_order_relaxed))
        t = unset;
    return t;
}

int adagrad_max_threads(void)
{
    return fixed_team_size();
}

/* At most `wanted` parts, each of at least ADAGRAD_MT_MIN_ELEMENTS elements;
 * 0 or 1 when n is too small to split. The last range of adagrad_split_range
 * is the smallest, so fewer parts until it has the minimum. */
static size_t part_count(size_t n, size_t wanted)
{
    size_t parts = wanted < n / ADAGRAD_MT_MIN_ELEMENTS ? wanted : n / ADAGRAD_MT_MIN_ELEMENTS;
    for (; parts > 1; parts--) {
        size_t begin, count;
        adagrad_split_range(n, parts, parts - 1, &begin, &count);
        if (count >= ADAGRAD_MT_MIN_ELEMENTS)
            break;
    }
    return parts;
}

size_t adagrad_mt_parts(size_t n, int threads)
{
    const int team = fixed_team_size();
    return part_count(n, threads > 0 && threads < team ? (size_t)threads : (size_t)team);
}

int adagrad_step_mt(const adagrad_dense *t, const adagrad_options *opt, int threads)
{
    const int team = fixed_team_size();
    const int status = adagrad_check_dense(t, opt);
    if (status != ADAGRAD_OK || t->n == 0)
        return status;
    adagrad_plan plan;
    adagrad_make_plan(adagrad_active_kernels(), opt, &plan);
    const adagrad_dense_fn kernel = plan.dense;
    const adagrad_kparams *kp = &plan.kp;
    float *const param = t->param, *const sum = t->sum;
    const float *const grad = t->grad;
    const size_t n = t->n;

    const size_t parts = adagrad_mt_parts(n, threads);
    /* no region at all: libgomp never caches a team of one and would allocate
     * one on every call */
    if (parts <= 1) {
        kernel(param, sum, grad, n, kp);
        return ADAGRAD_OK;
    }
    /* the whole team, whatever `parts`: members beyond the parts idle through
     * the region. The runtime may give fewer threads than asked
     * (OMP_THREAD_LIMIT, OMP_DYNAMIC), so each member takes every stride-th
     * part. */
#ifdef _OPENMP
#pragma omp parallel num_threads(team)
#endif
    {
        size_t self = 0, stride = 1;
#ifdef _OPENMP
        self = (size_t)omp_get_thread_num();
        stride = (size_t)omp_get_num_threads();
#endif
        for (size_t i = self; i < parts; i += stride) {
            size_t begin, count;
            adagrad_split_range(n, parts, i, &begin, &count);
            kernel(param + begin, sum + begin, grad + begin, count, kp);
        }
    }
    return ADAGRAD_OK;
}

int adagrad_step_f32_mt(float *param, float *sum, const float *grad, size_t n, const adagrad_options *opt,
                        int threads)
{
    return adagrad_step_mt(&(adagrad_dense){.param = param, .sum = sum, .grad = grad, .n = n}, opt, threads);
}
