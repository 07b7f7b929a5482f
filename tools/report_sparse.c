/* libadagrad — adagrad-report: the sparse section.
 * SPDX-License-Identifier: MIT
 *
 * Sparse (adagrad_sparse_step_f32) and row-wise (adagrad_rowwise_step_f32)
 * EXACT steps on an embedding table larger than the last-level cache, with
 * the implementation dispatch picked and with scalar, next to
 *   - the roofline: the same rows in the same order with the same software
 *     prefetch as the library, and no math (sparse: the dispatched row's
 *     traffic kernel per index, as bench/bench_sparse.cc; row-wise: a C loop
 *     xoring the table row with the gradient row and the accumulator float),
 *     with mask 0: every bit is kept, so it runs on the steps' own table and
 *     accumulators, the same physical pages;
 *   - a plain C loop: what a trainer writes without the library, applying
 *     the contract per element (row-wise: the canonical order of the mean)
 *     with tests/contract.h's reference, no prefetch, no SIMD kernel. It
 *     is checked to give the library's bits.
 * Indices are uniform or Zipf(1.05) (hot ranks scattered over the table by a
 * multiplicative hash), 16 lists of `batch` indices used in turn so that a
 * step does not find the previous step's rows in cache. One table of
 * rows × max(dims) floats (and its accumulators) is allocated once and
 * viewed as rows × dim for every dim. Timing is report_measure's: calibrated
 * batches of steps, interleaved repetitions, median and spread, the run's
 * clock.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "dispatch.h"
#include "report.h"
#include "sparse.h"

#define LISTS 16        /* index lists per distribution, used in turn */
#define ZIPF_S 1.05
#define SCATTER 2654435761u /* a prime: r ↦ r·SCATTER mod rows is a bijection for rows < 2^31 */

/* ---- Results and derived figures ---- */

report_sparse_result *report_add_sparse_result(report_run *run)
{
    if (run->sparse_count == run->sparse_cap) {
        const size_t cap = run->sparse_cap ? 2 * run->sparse_cap : 64;
        report_sparse_result *p = realloc(run->sparse, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "adagrad-report: out of memory\n");
            exit(1);
        }
        run->sparse = p;
        run->sparse_cap = cap;
    }
    report_sparse_result *r = &run->sparse[run->sparse_count++];
    memset(r, 0, sizeof *r);
    return r;
}

const report_sparse_result *report_sparse_find(const report_run *run, const char *kind, const char *dist,
                                               const char *impl, size_t dim)
{
    for (size_t i = 0; i < run->sparse_count; i++) {
        const report_sparse_result *r = &run->sparse[i];
        if (r->dim == dim && strcmp(r->kind, kind) == 0 && strcmp(r->dist, dist) == 0 && strcmp(r->impl, impl) == 0)
            return r;
    }
    return NULL;
}

double report_sparse_bytes_per_row(const char *kind, size_t dim)
{
    return strcmp(kind, "rowwise") == 0 ? 12.0 * (double)dim + 8.0 : 20.0 * (double)dim;
}

double report_sparse_rows_s(const report_run *run, const report_sparse_result *r)
{
    return r && r->sec_median > 0 ? (double)run->sparse_batch / r->sec_median : NAN;
}

double report_sparse_gbps(const report_run *run, const report_sparse_result *r)
{
    return report_sparse_rows_s(run, r) * report_sparse_bytes_per_row(r->kind, r->dim) * 1e-9;
}

double report_sparse_roofline_pct(const report_run *run, const report_sparse_result *r)
{
    return 100.0 * report_sparse_rows_s(run, r) /
           report_sparse_rows_s(run, report_sparse_find(run, r->kind, r->dist, "roofline", r->dim));
}

double report_sparse_vs_loop(const report_run *run, const report_sparse_result *r)
{
    if (strcmp(r->impl, "roofline") == 0)
        return NAN;
    return report_sparse_rows_s(run, r) / report_sparse_rows_s(run, report_sparse_find(run, r->kind, r->dist, "loop", r->dim));
}

/* ---- The plain loops and the roofline ---- */

/* The options of every step of the section: the default variant (no
 * weight decay, ε outside the root, minimising). A constant the loops
 * below see, so their option tests fold away as in a trainer's own loop. */
static const adagrad_options opt_exact = {.lr = REPORT_LR, .eps = REPORT_EPS};

/* The contract per element, as a trainer would write it: the reference
 * element of contract.h, s ← fma(g, g, s); θ ← θ + (−η·g)/(√s + ε), over
 * each named row in list order. */
static void loop_sparse(float *table, float *sum, size_t dim, const int64_t *idx, const float *grads, size_t batch)
{
    for (size_t k = 0; k < batch; k++)
        contract_ref_dense(&opt_exact, table + (size_t)idx[k] * dim, sum + (size_t)idx[k] * dim, grads + k * dim,
                           dim);
}

/* Row-wise: the mean of g² in adagrad.h's canonical order (16 partial sums,
 * the fixed tree), then one accumulator and one denominator per row
 * (contract_ref_rowwise). */
static void loop_rowwise(float *table, float *row_sum, size_t dim, const int64_t *idx, const float *grads,
                         size_t batch)
{
    for (size_t k = 0; k < batch; k++) {
        const size_t r = (size_t)idx[k];
        contract_ref_rowwise(&opt_exact, table + r * dim, row_sum + r, grads + k * dim, dim);
    }
}

/* As src/sparse.c: one prefetch for writing per cache line. */
static inline void prefetch_range(const void *p, size_t bytes)
{
    const uintptr_t first = (uintptr_t)p & ~(uintptr_t)63, last = (uintptr_t)p + bytes - 1;
    for (uintptr_t a = first; a <= last; a += 64)
        __builtin_prefetch((const void *)a, 1, 3);
}

static void roofline_sparse(const adagrad_kernels *row, float *table, float *sum, size_t dim, const int64_t *idx,
                            const float *grads, size_t batch, size_t dist)
{
    for (size_t k = 0; k < batch; k++) {
        if (dist != 0 && k + dist < batch) {
            const size_t r = (size_t)idx[k + dist];
            prefetch_range(table + r * dim, dim * sizeof(float));
            prefetch_range(sum + r * dim, dim * sizeof(float));
        }
        const size_t r = (size_t)idx[k];
        row->traffic(table + r * dim, sum + r * dim, grads + k * dim, dim, 0u);
    }
}

static inline void xor_bits(float *p, const float *g, uint32_t mask)
{
    uint32_t a, b;
    memcpy(&a, p, sizeof a);
    memcpy(&b, g, sizeof b);
    a ^= b & mask;
    memcpy(p, &a, sizeof a);
}

/* The row-wise roofline's mask (0), read from a volatile once per batch: a
 * value the compiler cannot see, like the traffic kernels' run-time
 * argument, so it cannot drop the loads and stores that leave the bits as
 * they were. */
static volatile uint32_t roofline_mask = 0;

static void roofline_rowwise(float *table, float *row_sum, size_t dim, const int64_t *idx, const float *grads,
                             size_t batch, size_t dist)
{
    const uint32_t mask = roofline_mask;
    for (size_t k = 0; k < batch; k++) {
        if (dist != 0 && k + dist < batch) {
            const size_t r = (size_t)idx[k + dist];
            prefetch_range(table + r * dim, dim * sizeof(float));
            prefetch_range(row_sum + r, sizeof(float));
        }
        const size_t r = (size_t)idx[k];
        float *restrict p = table + r * dim;
        const float *restrict g = grads + k * dim;
        for (size_t j = 0; j < dim; j++)
            xor_bits(p + j, g + j, mask);
        xor_bits(row_sum + r, g, mask);
    }
}

/* ---- The section ---- */

enum { K_LIBRARY, K_LOOP, K_ROOFLINE };

typedef struct skernel {
    int type;
    bool rowwise;
    const adagrad_kernels *row; /* K_LIBRARY: its steps; K_ROOFLINE: its traffic kernel */
    const char *impl;
} skernel;

typedef struct sbench {
    size_t rows, batch, dim, dist;
    float *table, *sum, *row_sum, *grads; /* the steps' and the roofline's */
    int64_t *idx[2];                      /* LISTS × batch, uniform and zipf */
    const int64_t *cur;
    size_t next;
    skernel ks[8];
    size_t k_count;
} sbench;

static void run_batch(void *ctx, size_t kernel, size_t iters)
{
    sbench *b = ctx;
    const skernel *k = &b->ks[kernel];
    for (size_t i = 0; i < iters; i++) {
        const int64_t *idx = b->cur + b->next * b->batch;
        b->next = (b->next + 1) % LISTS;
        switch (k->type) {
        case K_LIBRARY: /* valid: cannot fail */
            adagrad_sparse_with(k->row, k->rowwise, b->table, k->rowwise ? b->row_sum : b->sum, b->rows, b->dim, idx,
                                false, b->grads, b->batch, &opt_exact, NULL, 0);
            break;
        case K_LOOP:
            if (k->rowwise)
                loop_rowwise(b->table, b->row_sum, b->dim, idx, b->grads, b->batch);
            else
                loop_sparse(b->table, b->sum, b->dim, idx, b->grads, b->batch);
            break;
        default:
            if (k->rowwise)
                roofline_rowwise(b->table, b->row_sum, b->dim, idx, b->grads, b->batch, b->dist);
            else
                roofline_sparse(k->row, b->table, b->sum, b->dim, idx, b->grads, b->batch, b->dist);
            break;
        }
    }
}

static uint64_t rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

static double rng_uniform(uint64_t *state) { return (double)(rng_next(state) >> 11) * 0x1p-53; }

static void *alloc_bytes(size_t count, size_t size)
{
    if (count != 0 && size > (SIZE_MAX - 64) / count)
        return NULL;
    const size_t bytes = ((count * size + 63) / 64) * 64;
    return aligned_alloc(64, bytes ? bytes : 64);
}

static void make_indices(int64_t *idx, size_t rows, size_t n, bool zipf, uint64_t seed, double *cdf)
{
    uint64_t state = (seed ^ (zipf ? 0x5A5A5A5AULL : 0)) * 0x9E3779B97F4A7C15ULL + 3;
    if (zipf) {
        double acc = 0.0;
        for (size_t r = 0; r < rows; r++) {
            acc += pow((double)(r + 1), -ZIPF_S);
            cdf[r] = acc;
        }
        for (size_t r = 0; r < rows; r++)
            cdf[r] /= acc;
    }
    for (size_t i = 0; i < n; i++) {
        size_t r;
        if (zipf) {
            const double u = rng_uniform(&state);
            size_t lo = 0, hi = rows - 1; /* the first rank whose cdf reaches u */
            while (lo < hi) {
                const size_t mid = lo + (hi - lo) / 2;
                if (cdf[mid] < u)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            r = (size_t)(((uint64_t)lo * SCATTER) % rows); /* hot ranks scattered over the table */
        } else {
            r = (size_t)(rng_uniform(&state) * (double)rows);
            if (r >= rows)
                r = rows - 1;
        }
        idx[i] = (int64_t)r;
    }
}

/* The plain loops against the library (dispatch and scalar), one step of
 * up to 1024 indices folded onto 256 rows (many duplicates) from the same
 * inputs: 1 when every table and accumulator bit matches. */
static int check_bits(const sbench *b, const adagrad_kernels *const *rows, size_t row_count)
{
    const size_t r_small = b->rows < 256 ? b->rows : 256, n = b->batch < 1024 ? b->batch : 1024, dim = b->dim;
    float *t0 = alloc_bytes(r_small * dim, sizeof(float)), *t1 = alloc_bytes(r_small * dim, sizeof(float));
    float *s0 = alloc_bytes(r_small * dim, sizeof(float)), *s1 = alloc_bytes(r_small * dim, sizeof(float));
    int64_t *idx = alloc_bytes(n, sizeof *idx);
    int same = 1;
    if (!t0 || !t1 || !s0 || !s1 || !idx) {
        same = -1;
        goto done;
    }
    for (int z = 0; z < 2; z++) {
        for (size_t i = 0; i < n; i++)
            idx[i] = b->idx[z][i] % (int64_t)r_small;
        for (int rowwise = 0; rowwise < 2; rowwise++)
            for (size_t k = 0; k < row_count; k++) {
                const size_t acc_n = rowwise ? r_small : r_small * dim;
                const float *acc_init = rowwise ? b->row_sum : b->sum;
                memcpy(t0, b->table, r_small * dim * sizeof(float));
                memcpy(t1, b->table, r_small * dim * sizeof(float));
                memcpy(s0, acc_init, acc_n * sizeof(float));
                memcpy(s1, acc_init, acc_n * sizeof(float));
                if (adagrad_sparse_with(rows[k], rowwise, t0, s0, r_small, dim, idx, false, b->grads, n, &opt_exact,
                                        NULL, 0) != ADAGRAD_OK) {
                    same = 0;
                    continue;
                }
                if (rowwise)
                    loop_rowwise(t1, s1, dim, idx, b->grads, n);
                else
                    loop_sparse(t1, s1, dim, idx, b->grads, n);
                if (memcmp(t0, t1, r_small * dim * sizeof(float)) != 0 || memcmp(s0, s1, acc_n * sizeof(float)) != 0)
                    same = 0;
            }
    }
done:
    free(t0);
    free(t1);
    free(s0);
    free(s1);
    free(idx);
    return same;
}

int report_measure_sparse(report_run *run, const report_config *cfg, const report_sparse_config *sc)
{
    report_copy(run->sparse_impl, sizeof run->sparse_impl, adagrad_isa_name(adagrad_active_isa()));
    run->sparse_identical = -1;
    if (!sc->enabled || sc->dim_count == 0) {
        report_copy(run->sparse_status, sizeof run->sparse_status, "off");
        return 0;
    }
    report_copy(run->sparse_status, sizeof run->sparse_status, "ok");
    run->sparse_rows = sc->rows;
    run->sparse_batch = sc->batch;
    run->sparse_prefetch = adagrad_set_prefetch_distance(ADAGRAD_PREFETCH_AUTO);
    adagrad_set_prefetch_distance(run->sparse_prefetch);

    size_t max_dim = 0;
    for (size_t i = 0; i < sc->dim_count; i++)
        max_dim = sc->dims[i] > max_dim ? sc->dims[i] : max_dim;
    if (cfg->progress)
        cfg->progress(cfg->progress_ctx, "sparse: preparing the table", false);

    sbench b = {.rows = sc->rows, .batch = sc->batch};
    const size_t cells = sc->rows <= SIZE_MAX / max_dim ? sc->rows * max_dim : SIZE_MAX;
    const size_t grad_cells = sc->batch <= SIZE_MAX / max_dim ? sc->batch * max_dim : SIZE_MAX;
    const size_t lists = sc->batch <= SIZE_MAX / LISTS ? LISTS * sc->batch : SIZE_MAX;
    double *cdf = NULL;
    double *samples = NULL;
    int status = 0;
    b.table = alloc_bytes(cells, sizeof(float));
    b.sum = alloc_bytes(cells, sizeof(float));
    b.row_sum = alloc_bytes(sc->rows, sizeof(float));
    b.grads = alloc_bytes(grad_cells, sizeof(float));
    b.idx[0] = alloc_bytes(lists, sizeof(int64_t));
    b.idx[1] = alloc_bytes(lists, sizeof(int64_t));
    cdf = alloc_bytes(sc->rows, sizeof(double));
    samples = calloc(8 * (size_t)cfg->reps, sizeof *samples);
    if (!b.table || !b.sum || !b.row_sum || !b.grads || !b.idx[0] || !b.idx[1] || !cdf || !samples) {
        fprintf(stderr, "adagrad-report: out of memory for the sparse section (%zu rows x dim %zu: %.0f MiB)\n",
                sc->rows, max_dim, 2.0 * (double)cells * 4.0 / 1048576.0);
        status = -1;
        goto done;
    }

    /* Inputs: θ ∈ [-1, 1], s ∈ [0.01, 1.01], g with a random sign and a
     * log-uniform magnitude in [1e-4, 1]. */
    uint64_t state = (cfg->seed ^ 0x53504152ULL) * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = 0; i < cells; i++) {
        const uint64_t x = rng_next(&state);
        b.table[i] = (float)((double)(x >> 40) * 0x1p-23 - 1.0);
        b.sum[i] = (float)(0.01 + (double)(x & 0xFFFFFF) * 0x1p-24);
    }
    for (size_t r = 0; r < sc->rows; r++)
        b.row_sum[r] = (float)(0.01 + rng_uniform(&state));
    for (size_t i = 0; i < grad_cells; i++) {
        const double mag = exp2(-4.0 * 3.321928094887362 * rng_uniform(&state));
        b.grads[i] = (float)((rng_next(&state) & 1) ? mag : -mag);
    }
    make_indices(b.idx[0], sc->rows, lists, false, cfg->seed, cdf);
    make_indices(b.idx[1], sc->rows, lists, true, cfg->seed, cdf);

    const adagrad_kernels *active = adagrad_active_kernels(), *scalar = NULL;
    for (size_t i = 0; i < adagrad_impl_count(); i++)
        if (adagrad_impl(i)->isa == ADAGRAD_ISA_SCALAR)
            scalar = adagrad_impl(i);
    const adagrad_kernels *rows[2] = {active, scalar};
    const size_t row_count = scalar && scalar != active ? 2 : 1;
    b.k_count = 0;
    for (size_t i = 0; i < row_count; i++)
        for (int rw = 0; rw < 2; rw++)
            b.ks[b.k_count++] = (skernel){K_LIBRARY, rw != 0, rows[i], rows[i]->name};
    for (int rw = 0; rw < 2; rw++)
        b.ks[b.k_count++] = (skernel){K_LOOP, rw != 0, NULL, "loop"};
    for (int rw = 0; rw < 2; rw++)
        b.ks[b.k_count++] = (skernel){K_ROOFLINE, rw != 0, active, "roofline"};

    run->sparse_identical = 1;
    for (size_t d = 0; d < sc->dim_count; d++) {
        b.dim = sc->dims[d];
        b.dist = run->sparse_prefetch; /* the library's rule (src/sparse.c) */
        if (b.dist == ADAGRAD_PREFETCH_AUTO)
            b.dist = b.dim >= 512 ? 1 : b.dim <= 16 ? 32 : 512 / b.dim;
        const int same = check_bits(&b, rows, row_count);
        if (same < 0) {
            fprintf(stderr, "adagrad-report: out of memory\n");
            status = -1;
            goto done;
        }
        if (!same)
            run->sparse_identical = 0;
        for (int z = 0; z < 2; z++) {
            char label[96];
            snprintf(label, sizeof label, "sparse [%zu/%zu] dim %zu %s", 2 * d + (size_t)z + 1, 2 * sc->dim_count,
                     b.dim, z ? "zipf" : "uniform");
            if (cfg->progress)
                cfg->progress(cfg->progress_ctx, label, false);
            b.cur = b.idx[z];
            b.next = 0;
            report_time_interleaved(run_batch, &b, b.k_count, cfg, label, samples);
            for (size_t k = 0; k < b.k_count; k++) {
                report_sparse_result *r = report_add_sparse_result(run);
                report_copy(r->kind, sizeof r->kind, b.ks[k].rowwise ? "rowwise" : "sparse");
                report_copy(r->dist, sizeof r->dist, z ? "zipf" : "uniform");
                report_copy(r->impl, sizeof r->impl, b.ks[k].impl);
                r->dim = b.dim;
                double st[5];
                report_summarize(samples + k * cfg->reps, cfg->reps, st);
                r->sec_median = st[0];
                r->sec_min = st[1];
                r->sec_max = st[2];
                r->sec_q1 = st[3];
                r->sec_q3 = st[4];
            }
        }
    }
done:
    free(b.table);
    free(b.sum);
    free(b.row_sum);
    free(b.grads);
    free(b.idx[0]);
    free(b.idx[1]);
    free(cdf);
    free(samples);
    return status;
}
