/* libadagrad — sparse and row-wise steps for embedding tables.
 * SPDX-License-Identifier: MIT
 *
 * Portable C at baseline flags: validation (everything before the first
 * write), then a loop over the index list that calls the kernel row's dense
 * kernel (sparse) or row-wise kernel once per touched row. The SIMD work is
 * in those kernels; what this file adds is the order of rows, software
 * prefetch of upcoming rows (__builtin_prefetch: the same on every ISA) and
 * duplicate summing (ADAGRAD_SUM_DUPLICATES). With ADAGRAD_TORCH_SPARSE the
 * plan's kernel is the row's torch-order one (kernel_variants.h).
 *
 * Sparse EXACT is the dense kernel on each row, so it is bitwise the dense
 * step row by row by construction. Summed duplicates: a stable radix sort
 * of the positions by index in the caller's workspace, then each group
 * of equal indices is summed in position order into the workspace's row
 * buffer and stepped once; a row named once is stepped straight from the
 * caller's gradient row.
 */
#include <math.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "dispatch.h"
#include "sparse.h"

static atomic_size_t prefetch_distance = ADAGRAD_PREFETCH_AUTO;

size_t adagrad_set_prefetch_distance(size_t rows)
{
    return atomic_exchange_explicit(&prefetch_distance, rows, memory_order_relaxed);
}

static inline int64_t index_at(const void *indices, bool idx32, size_t k)
{
    return idx32 ? (int64_t)((const int32_t *)indices)[k] : ((const int64_t *)indices)[k];
}

/* The buckets of one radix-sort pass (a byte of the index). */
#define RADIX_BUCKETS 256

size_t adagrad_sparse_workspace_bytes(size_t n_indices, size_t dim)
{
    /* two arrays of n_indices positions and the radix sort's counts (as
     * size_t), one summed gradient row, and slack to align the start */
    const size_t slack = alignof(size_t) - 1;
    if (n_indices > (SIZE_MAX / sizeof(size_t) - RADIX_BUCKETS - 1) / 2)
        return SIZE_MAX;
    const size_t a = (2 * n_indices + RADIX_BUCKETS) * sizeof(size_t) + slack;
    if (dim > (SIZE_MAX - a) / sizeof(float))
        return SIZE_MAX;
    return a + dim * sizeof(float);
}

/* ---- validation ---- */

/* x * y > limit */
static bool mul_over(size_t x, size_t y, size_t limit) { return y != 0 && x > limit / y; }

/* The flags, types and inputs; then, with indices, every size, pointer,
 * overlap and index. */
static int check_sparse(const adagrad_sparse *t, const adagrad_options *opt)
{
    if (!t)
        return ADAGRAD_ERR_NULL;
    const size_t n = t->n_indices, rows = t->rows, dim = t->dim;
    int status = n == 0 && !opt ? ADAGRAD_OK : adagrad_check_options(opt, ADAGRAD_SPARSE_FLAGS);
    if (status != ADAGRAD_OK)
        return status;
    const unsigned flags = opt ? opt->flags : 0u;
    const bool rowwise = (flags & ADAGRAD_ROWWISE) != 0, sum_dup = (flags & ADAGRAD_SUM_DUPLICATES) != 0;
    if ((flags & ADAGRAD_TORCH_SPARSE) && (flags & (ADAGRAD_ROWWISE | ADAGRAD_FAST)))
        return ADAGRAD_ERR_PARAM;
    status = adagrad_check_types(t->table_type, t->grad_type);
    if (status != ADAGRAD_OK)
        return status;
    if (t->index_type != ADAGRAD_I64 && t->index_type != ADAGRAD_I32)
        return ADAGRAD_ERR_PARAM;
    /* Bags are not stepped yet; their inputs without offsets are a mistake. */
    if (t->offsets || t->n_bags != 0 || t->per_sample_weights || (flags & ADAGRAD_POOL_MEAN))
        return ADAGRAD_ERR_PARAM;
    if (n == 0)
        return ADAGRAD_OK;

    const size_t tsize = adagrad_dtype_size(t->table_type), gsize = adagrad_dtype_size(t->grad_type);
    const size_t isz = t->index_type == ADAGRAD_I32 ? sizeof(int32_t) : sizeof(int64_t);
    const size_t fmax = SIZE_MAX / sizeof(float);
    if (mul_over(rows, dim, fmax) || mul_over(n, dim, fmax) || (rowwise && rows > fmax) || n > SIZE_MAX / isz)
        return ADAGRAD_ERR_SIZE;
    if (!t->table || !t->sum || !t->indices || !t->grads || (sum_dup && !t->workspace))
        return ADAGRAD_ERR_NULL;
    const size_t tbytes = rows * dim * tsize;
    const size_t sbytes = rowwise ? rows * sizeof(float) : rows * dim * sizeof(float);
    const size_t gbytes = n * dim * gsize;
    const size_t ibytes = n * isz;
    const size_t wbytes = sum_dup ? adagrad_sparse_workspace_bytes(n, dim) : 0;
    if (sum_dup && (wbytes == SIZE_MAX || t->workspace_bytes < wbytes))
        return ADAGRAD_ERR_SIZE;
    const void *const buf[5] = {t->table, t->sum, t->grads, t->indices, t->workspace};
    const size_t len[5] = {tbytes, sbytes, gbytes, ibytes, sum_dup ? t->workspace_bytes : 0};
    for (int a = 0; a < 5; a++)
        if (adagrad_wraps(buf[a], len[a]))
            return ADAGRAD_ERR_SIZE;
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++)
            if (adagrad_overlap(buf[a], len[a], buf[b], len[b]))
                return ADAGRAD_ERR_OVERLAP;
    /* Every index, before any row is written: all rows or none. */
    int bad = 0;
    if (t->index_type == ADAGRAD_I32) {
        const int32_t *ix = t->indices;
        for (size_t k = 0; k < n; k++)
            bad |= ix[k] < 0 || (uint64_t)ix[k] >= (uint64_t)rows;
    } else {
        const int64_t *ix = t->indices;
        for (size_t k = 0; k < n; k++)
            bad |= ix[k] < 0 || (uint64_t)ix[k] >= (uint64_t)rows;
    }
    return bad ? ADAGRAD_ERR_RANGE : ADAGRAD_OK;
}

/* ---- kernels ---- */

/* Prefetch [p, p + bytes) for writing, one touch per cache line. */
static inline void prefetch_range(const void *p, size_t bytes)
{
    const uintptr_t first = (uintptr_t)p & ~(uintptr_t)63, last = (uintptr_t)p + bytes - 1;
    for (uintptr_t a = first; a <= last; a += 64)
        __builtin_prefetch((const void *)a, 1, 3);
}

typedef struct job {
    float *table, *acc;
    size_t dim, acc_stride; /* acc_stride: dim (sparse) or 1 (row-wise) */
    const float *grads;
    adagrad_dense_fn dense;   /* sparse */
    adagrad_rowwise_fn rowfn; /* row-wise */
    adagrad_kparams kp;
    size_t dist;
} job;

static inline void step_row(const job *j, size_t r, const float *g)
{
    if (j->rowfn)
        j->rowfn(j->table + r * j->dim, j->acc + r, g, j->dim, &j->kp);
    else
        j->dense(j->table + r * j->dim, j->acc + r * j->dim, g, j->dim, &j->kp);
}

static inline void prefetch_row(const job *j, size_t r)
{
    prefetch_range(j->table + r * j->dim, j->dim * sizeof(float));
    prefetch_range(j->acc + r * j->acc_stride, j->acc_stride * sizeof(float));
}

/* Sequential semantics: one full step per occurrence, in list order. */
static inline __attribute__((always_inline)) void run_sequential(const job *j, const void *indices, bool idx32,
                                                                 size_t n)
{
    const size_t dist = j->dist;
    for (size_t k = 0; k < n; k++) {
        if (dist != 0 && dist < n - k) /* k + dist < n, without wrapping for a huge distance */
            prefetch_row(j, (size_t)index_at(indices, idx32, k + dist));
        step_row(j, (size_t)index_at(indices, idx32, k), j->grads + k * j->dim);
    }
}

/* The duplicates' grouping: a stable LSD radix sort of the positions
 * 0..n-1 by their index, one byte of the index a pass, as many passes as
 * rows − 1 has bytes. Stable, so equal indices stay in list order, which
 * is the order their gradient rows are summed in. Returns the sorted
 * positions: perm or spare, whichever the last pass filled. */
static size_t *radix_sort(size_t *perm, size_t *spare, size_t *count, size_t n, const void *ind, bool idx32,
                          size_t rows)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (unsigned shift = 0; shift < 64 && ((rows - 1) >> shift) != 0; shift += 8) {
        memset(count, 0, RADIX_BUCKETS * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[((uint64_t)index_at(ind, idx32, perm[i]) >> shift) & (RADIX_BUCKETS - 1)]++;
        size_t start = 0;
        for (size_t d = 0; d < RADIX_BUCKETS; d++) {
            const size_t c = count[d];
            count[d] = start;
            start += c;
        }
        for (size_t i = 0; i < n; i++)
            spare[count[((uint64_t)index_at(ind, idx32, perm[i]) >> shift) & (RADIX_BUCKETS - 1)]++] = perm[i];
        size_t *t = perm;
        perm = spare;
        spare = t;
    }
    return perm;
}

/* PyTorch's semantics: duplicates summed in list order, one step per row. */
static void run_summed(const job *j, const void *indices, bool idx32, size_t n, size_t rows, void *ws)
{
    const uintptr_t a = ((uintptr_t)ws + alignof(size_t) - 1) & ~(uintptr_t)(alignof(size_t) - 1);
    size_t *const buf = (size_t *)a;
    float *row = (float *)(void *)(buf + 2 * n + RADIX_BUCKETS);
    const size_t *perm = radix_sort(buf, buf + n, buf + 2 * n, n, indices, idx32, rows);
    const size_t dim = j->dim, dist = j->dist;
    for (size_t b = 0; b < n;) {
        const int64_t r = index_at(indices, idx32, perm[b]);
        size_t e = b + 1;
        while (e < n && index_at(indices, idx32, perm[e]) == r)
            e++;
        if (dist != 0 && dist < n - e) /* e + dist < n (e ≤ n), without wrapping */
            prefetch_row(j, (size_t)index_at(indices, idx32, perm[e + dist]));
        const float *g = j->grads + perm[b] * dim;
        if (e - b > 1) {
            memcpy(row, g, dim * sizeof(float));
            for (size_t t = b + 1; t < e; t++) {
                const float *h = j->grads + perm[t] * dim;
                for (size_t c = 0; c < dim; c++)
                    row[c] += h[c];
            }
            g = row;
        }
        step_row(j, (size_t)r, g);
        b = e;
    }
}

int adagrad_sparse_step_with(const adagrad_kernels *k, const adagrad_sparse *t, const adagrad_options *opt)
{
    const int status = check_sparse(t, opt);
    if (status != ADAGRAD_OK || t->n_indices == 0 || t->dim == 0)
        return status;
    adagrad_plan plan;
    adagrad_make_plan(k, opt, &plan);
    const bool rowwise = (opt->flags & ADAGRAD_ROWWISE) != 0, idx32 = t->index_type == ADAGRAD_I32;
    const size_t dim = t->dim;
    job j = {.table = t->table, .acc = t->sum, .dim = dim, .acc_stride = rowwise ? 1 : dim, .grads = t->grads,
             .kp = plan.kp};
    if (rowwise)
        j.rowfn = plan.rowwise;
    else
        j.dense = plan.dense;
    j.dist = atomic_load_explicit(&prefetch_distance, memory_order_relaxed);
    if (j.dist == ADAGRAD_PREFETCH_AUTO) /* about 2 KiB of table rows ahead */
        j.dist = dim >= 512 ? 1 : dim <= 16 ? 32 : 512 / dim;
    if (opt->flags & ADAGRAD_SUM_DUPLICATES)
        run_summed(&j, t->indices, idx32, t->n_indices, t->rows, t->workspace);
    else if (idx32)
        run_sequential(&j, t->indices, true, t->n_indices);
    else
        run_sequential(&j, t->indices, false, t->n_indices);
    return ADAGRAD_OK;
}

int adagrad_sparse_step(const adagrad_sparse *t, const adagrad_options *opt)
{
    return adagrad_sparse_step_with(adagrad_active_kernels(), t, opt);
}

int adagrad_sparse_step_mt(const adagrad_sparse *t, const adagrad_options *opt, int threads)
{
    (void)threads;
    const int status = check_sparse(t, opt);
    return status != ADAGRAD_OK ? status : ADAGRAD_ERR_PARAM; /* threaded table steps: not in this version */
}

size_t adagrad_sparse_workspace(const adagrad_sparse *t, const adagrad_options *opt, int threads)
{
    (void)threads;
    if (!t || !opt)
        return SIZE_MAX;
    return (opt->flags & ADAGRAD_SUM_DUPLICATES) ? adagrad_sparse_workspace_bytes(t->n_indices, t->dim) : 0;
}

/* ---- the v0.1 entry points ---- */

int adagrad_sparse_with(const adagrad_kernels *k, bool rowwise, float *table, float *acc, size_t rows, size_t dim,
                        const void *indices, bool idx32, const float *grads, size_t n_indices,
                        const adagrad_options *opt, void *workspace, size_t workspace_bytes)
{
    if (opt && (opt->flags & (ADAGRAD_ROWWISE | ADAGRAD_POOL_MEAN))) /* the entry point's name decides */
        return ADAGRAD_ERR_PARAM;
    adagrad_options o;
    if (opt) {
        o = *opt;
        o.flags |= rowwise ? ADAGRAD_ROWWISE : 0u;
    }
    const adagrad_sparse t = {
        .table = table, .sum = acc, .rows = rows, .dim = dim,
        .indices = indices, .n_indices = n_indices, .index_type = idx32 ? ADAGRAD_I32 : ADAGRAD_I64,
        .grads = grads, .workspace = workspace, .workspace_bytes = workspace_bytes,
    };
    return adagrad_sparse_step_with(k, &t, opt ? &o : NULL);
}

int adagrad_sparse_step_ws_f32(float *table, float *sum, size_t rows, size_t dim, const int64_t *indices,
                               const float *grads, size_t n_indices, const adagrad_options *opt, void *workspace,
                               size_t workspace_bytes)
{
    return adagrad_sparse_with(adagrad_active_kernels(), false, table, sum, rows, dim, indices, false, grads,
                               n_indices, opt, workspace, workspace_bytes);
}

int adagrad_sparse_step_ws_i32(float *table, float *sum, size_t rows, size_t dim, const int32_t *indices,
                               const float *grads, size_t n_indices, const adagrad_options *opt, void *workspace,
                               size_t workspace_bytes)
{
    return adagrad_sparse_with(adagrad_active_kernels(), false, table, sum, rows, dim, indices, true, grads,
                               n_indices, opt, workspace, workspace_bytes);
}

int adagrad_rowwise_step_ws_f32(float *table, float *row_sum, size_t rows, size_t dim, const int64_t *indices,
                                const float *grads, size_t n_indices, const adagrad_options *opt, void *workspace,
                                size_t workspace_bytes)
{
    return adagrad_sparse_with(adagrad_active_kernels(), true, table, row_sum, rows, dim, indices, false, grads,
                               n_indices, opt, workspace, workspace_bytes);
}

int adagrad_rowwise_step_ws_i32(float *table, float *row_sum, size_t rows, size_t dim, const int32_t *indices,
                                const float *grads, size_t n_indices, const adagrad_options *opt, void *workspace,
                                size_t workspace_bytes)
{
    return adagrad_sparse_with(adagrad_active_kernels(), true, table, row_sum, rows, dim, indices, true, grads,
                               n_indices, opt, workspace, workspace_bytes);
}

int adagrad_sparse_step_f32(float *table, float *sum, size_t rows, size_t dim, const int64_t *indices,
                            const float *grads, size_t n_indices, const adagrad_options *opt)
{
    return adagrad_sparse_step_ws_f32(table, sum, rows, dim, indices, grads, n_indices, opt, NULL, 0);
}

int adagrad_sparse_step_i32(float *table, float *sum, size_t rows, size_t dim, const int32_t *indices,
                            const float *grads, size_t n_indices, const adagrad_options *opt)
{
    return adagrad_sparse_step_ws_i32(table, sum, rows, dim, indices, grads, n_indices, opt, NULL, 0);
}

int adagrad_rowwise_step_f32(float *table, float *row_sum, size_t rows, size_t dim, const int64_t *indices,
                             const float *grads, size_t n_indices, const adagrad_options *opt)
{
    return adagrad_rowwise_step_ws_f32(table, row_sum, rows, dim, indices, grads, n_indices, opt, NULL, 0);
}

int adagrad_rowwise_step_i32(float *table, float *row_sum, size_t rows, size_t dim, const int32_t *indices,
                             const float *grads, size_t n_indices, const adagrad_options *opt)
{
    return adagrad_rowwise_step_ws_i32(table, row_sum, rows, dim, indices, grads, n_indices, opt, NULL, 0);
}
