/* libadagrad — adagrad-report: inputs, timing and accuracy.
 * SPDX-License-Identifier: MIT
 *
 * Methodology, per size:
 *   1. Inputs: θ ∈ [-1, 1]; s log-uniform in [1e-2, 1e2]; g with a random
 *      sign and log-uniform magnitude in [1e-4, 1] (seeded, reproducible).
 *      Every timed step trains the same buffers on (η = 1e-3: θ drifts by
 *      about 2η√t after t steps, s grows by g² ≤ 1 a step), so the data stay
 *      finite and normal however long the run.
 *   2. Accuracy: each row's EXACT and FAST kernel does one step on a copy
 *      of the initial inputs; the worst θ error against the double-precision
 *      formula is kept (tests/contract.h's oracle and metric, as the test
 *      suite measures it).
 *   3. Calibration, which is also the warm-up: each kernel (the EXACT and
 *      FAST step of every row timed, and the roofline loop of every row the
 *      CPU supports, --impl or not, so %roof means the same in every run) runs batches of growing length until
 *      one batch lasts at least batch_ms; that length is kept.
 *   4. Repetitions: each repetition times one batch of every kernel, in an
 *      order rotated by one each time, so that a burst of noise from the
 *      shared machine hits all kernels alike instead of one of them.
 *   5. Per kernel, the median of the per-call times is the figure; min,
 *      max and the quartiles are the spread.
 * Clock: by default the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which
 * stops while another process has the core: on a shared machine with more
 * runnable processes than cores, wall-clock batches of 10 ms are nearly all
 * interrupted, so their median measures the scheduler, not the kernel. What
 * the CPU clock cannot remove (caches and memory bandwidth shared with the
 * other processes) is left to the interleaving and the median. --clock wall
 * measures elapsed time instead (on an idle machine the two agree).
 * The roofline loops (kernels.h: the same traffic as a step, only an xor)
 * run on the steps' own buffers with mask 0, which keeps every bit: they
 * stream through the same physical pages as the steps, so page placement
 * cannot move the roofline against the steps it is compared with.
 *
 * The multi-threaded section (report_measure_threads) times the public
 * adagrad_step_f32_mt with the dispatched implementation, EXACT and FAST,
 * for each thread count, at the run's DRAM size(s), the same way (warm-up,
 * calibrated batches, interleaved repetitions, median) but always with the
 * wall clock: a thread's CPU clock counts only the calling thread's share of
 * a call that other threads help with (and the process CPU clock would add
 * up every thread's time). The calibration also pays for the creation of
 * the OpenMP thread pool. Before timing, it checks that one step from the
 * initial inputs on each thread count leaves θ and s with exactly the bits
 * of one adagrad_step_f32 call over the whole tensor.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contract.h"
#include "dispatch.h"
#include "report.h"

double report_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double report_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Every thread's CPU time (for the multi-threaded section's load figure). */
static double process_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- Inputs ---- */

typedef struct buffers {
    size_t n;
    float *param, *sum, *grad;    /* the step's inputs, trained on by every timed step */
    float *scratch_p, *scratch_s; /* copies for the accuracy and bitwise checks */
} buffers;

static float *alloc_floats(size_t n)
{
    const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64; /* 64-byte aligned: no split lines */
    return aligned_alloc(64, bytes ? bytes : 64);
}

static void free_buffers(buffers *b)
{
    free(b->param);
    free(b->sum);
    free(b->grad);
    free(b->scratch_p);
    free(b->scratch_s);
}

/* xorshift64*: fast and reproducible. */
static uint64_t rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

static double rng_uniform(uint64_t *state) { return (double)(rng_next(state) >> 11) * 0x1p-53; }

static int make_buffers(buffers *b, size_t n, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->n = n;
    b->param = alloc_floats(n);
    b->sum = alloc_floats(n);
    b->grad = alloc_floats(n);
    b->scratch_p = alloc_floats(n);
    b->scratch_s = alloc_floats(n);
    if (!b->param || !b->sum || !b->grad || !b->scratch_p || !b->scratch_s) {
        free_buffers(b);
        return -1;
    }
    uint64_t state = (seed ^ (uint64_t)n) * 0x9E3779B97F4A7C15ULL + 1;
    const double log2_10 = 3.321928094887362;
    for (size_t i = 0; i < n; i++) {
        b->param[i] = (float)(2.0 * rng_uniform(&state) - 1.0);
        b->sum[i] = (float)exp2(log2_10 * (4.0 * rng_uniform(&state) - 2.0));
        const double mag = exp2(-4.0 * log2_10 * rng_uniform(&state));
        b->grad[i] = (float)((rng_next(&state) & 1) ? mag : -mag);
    }
    return 0;
}

/* ---- Timing ---- */

static const adagrad_options opt_exact = {.lr = REPORT_LR, .eps = REPORT_EPS};
static const adagrad_options opt_fast = {.lr = REPORT_LR, .eps = REPORT_EPS, .flags = ADAGRAD_FAST};

typedef struct timed {
    const adagrad_kernels *row; /* NULL: adagrad_step_f32_mt on `threads` threads */
    unsigned threads;
    const char *mode; /* "exact", "fast", "roofline" */
    size_t iters;     /* calls per batch */
    double *samples;  /* seconds per call, one per repetition */
    double ulp;       /* worst θ error of one step; NaN for the roofline */
} timed;

static double time_batch(const timed *t, const buffers *b, size_t iters, bool cpu_clock)
{
    double (*const clock)(void) = cpu_clock && t->row ? report_thread_cpu : report_now;
    const double t0 = clock();
    if (!t->row) {
        const adagrad_options *opt = strcmp(t->mode, "fast") == 0 ? &opt_fast : &opt_exact;
        for (size_t i = 0; i < iters; i++) /* valid: cannot fail */
            adagrad_step_f32_mt(b->param, b->sum, b->grad, b->n, opt, (int)t->threads);
    } else if (strcmp(t->mode, "roofline") == 0) {
        for (size_t i = 0; i < iters; i++)
            t->row->traffic(b->param, b->sum, b->grad, b->n, 0u);
    } else {
        const adagrad_options *opt = strcmp(t->mode, "fast") == 0 ? &opt_fast : &opt_exact;
        for (size_t i = 0; i < iters; i++)
            adagrad_step_f32_with(t->row, b->param, b->sum, b->grad, b->n, opt); /* valid: cannot fail */
    }
    return clock() - t0;
}

/* Grows the batch until it lasts target seconds (this is the warm-up too). */
static void calibrate(timed *t, const buffers *b, double target, bool cpu_clock)
{
    size_t iters = 1;
    for (;;) {
        const double dt = time_batch(t, b, iters, cpu_clock);
        if (dt >= target || iters > ((size_t)1 << 40))
            break;
        double grow = dt > 0 ? 1.2 * target / dt : 100.0;
        grow = grow < 2.0 ? 2.0 : grow > 100.0 ? 100.0 : grow;
        iters = (size_t)((double)iters * grow);
    }
    t->iters = iters;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n), linear between neighbours. */
static double quantile(const double *v, size_t n, double q)
{
    const double pos = q * (double)(n - 1);
    const size_t i = (size_t)pos;
    return i + 1 < n ? v[i] + (pos - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

static void fill_stats(report_result *r, double *samples, size_t n)
{
    qsort(samples, n, sizeof *samples, cmp_double);
    r->sec_min = samples[0];
    r->sec_max = samples[n - 1];
    r->sec_median = quantile(samples, n, 0.5);
    r->sec_q1 = quantile(samples, n, 0.25);
    r->sec_q3 = quantile(samples, n, 0.75);
}

void report_summarize(double *samples, size_t n, double stats[5])
{
    report_result r;
    fill_stats(&r, samples, n);
    stats[0] = r.sec_median;
    stats[1] = r.sec_min;
    stats[2] = r.sec_max;
    stats[3] = r.sec_q1;
    stats[4] = r.sec_q3;
}

static void progress(const report_config *cfg, const char *what, bool detail)
{
    if (cfg->progress)
        cfg->progress(cfg->progress_ctx, what, detail);
}

/* docs/design.md's metric after one step of `row` from the initial inputs:
 * the worst θ error, in ulp of max(|θ_old|, |Δ|), against the formula in
 * double rounded once (contract.h). The inputs keep every element in the
 * oracle's domain; an element outside it would have no oracle and is not
 * counted. */
static double worst_error(const adagrad_kernels *row, const adagrad_options *opt, const buffers *b)
{
    memcpy(b->scratch_p, b->param, b->n * sizeof(float));
    memcpy(b->scratch_s, b->sum, b->n * sizeof(float));
    adagrad_step_f32_with(row, b->scratch_p, b->scratch_s, b->grad, b->n, opt);
    double worst = 0.0;
    for (size_t i = 0; i < b->n; i++) {
        const contract_oracle o = contract_oracle_step(opt, b->param[i], b->sum[i], b->grad[i]);
        const double e = o.theta_domain ? contract_theta_error(b->scratch_p[i], &o, b->param[i]) : 0.0;
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

static int measure_size(report_run *run, const report_rows *rows, const report_config *cfg, size_t index)
{
    const size_t n = cfg->sizes[index];
    char what[160];
    snprintf(what, sizeof what, "[%zu/%zu] n=%zu (%s): preparing inputs", index + 1, cfg->size_count, n,
             report_level(&run->caches, n));
    progress(cfg, what, false);

    buffers b;
    if (make_buffers(&b, n, cfg->seed) != 0) {
        fprintf(stderr, "adagrad-report: out of memory for n=%zu (%.0f MiB)\n", n,
                (double)n * 20.0 / 1048576.0);
        return -1;
    }
    const size_t k_count = 2 * rows->step_count + rows->roofline_count;
    timed *ks = calloc(k_count, sizeof *ks);
    double *samples = calloc(k_count * cfg->reps, sizeof *samples);
    if (!ks || !samples) {
        free(ks);
        free(samples);
        free_buffers(&b);
        fprintf(stderr, "adagrad-report: out of memory\n");
        return -1;
    }
    /* Each step row's EXACT and FAST, then the roofline loops. */
    for (size_t i = 0; i < k_count; i++) {
        const size_t r = i / 2;
        ks[i].row = r < rows->step_count ? rows->step[r] : rows->roofline[i - 2 * rows->step_count];
        ks[i].mode = r < rows->step_count ? (i % 2 ? "fast" : "exact") : "roofline";
        ks[i].samples = samples + i * cfg->reps;
    }

    /* Accuracy first, on the initial inputs. */
    snprintf(what, sizeof what, "[%zu/%zu] n=%zu: accuracy", index + 1, cfg->size_count, n);
    progress(cfg, what, true);
    for (size_t i = 0; i < k_count; i++)
        ks[i].ulp = strcmp(ks[i].mode, "roofline") == 0
                        ? NAN
                        : worst_error(ks[i].row, strcmp(ks[i].mode, "fast") == 0 ? &opt_fast : &opt_exact, &b);

    const double target = cfg->batch_ms * 1e-3;
    snprintf(what, sizeof what, "[%zu/%zu] n=%zu: warm-up", index + 1, cfg->size_count, n);
    progress(cfg, what, true);
    for (size_t i = 0; i < k_count; i++)
        calibrate(&ks[i], &b, target, cfg->cpu_clock);

    for (unsigned r = 0; r < cfg->reps; r++) {
        snprintf(what, sizeof what, "[%zu/%zu] n=%zu: repetition %u/%u", index + 1, cfg->size_count, n, r + 1,
                 cfg->reps);
        progress(cfg, what, true);
        for (size_t j = 0; j < k_count; j++) {
            timed *t = &ks[(j + r) % k_count]; /* rotated order: noise spreads over all kernels */
            t->samples[r] = time_batch(t, &b, t->iters, cfg->cpu_clock) / (double)t->iters;
        }
    }

    for (size_t i = 0; i < k_count; i++) {
        report_result *res = report_add_result(run);
        report_copy(res->impl, sizeof res->impl, ks[i].row->name);
        report_copy(res->mode, sizeof res->mode, ks[i].mode);
        res->n = n;
        res->ulp_max = ks[i].ulp;
        fill_stats(res, ks[i].samples, cfg->reps);
    }
    free(ks);
    free(samples);
    free_buffers(&b);
    return 0;
}

int report_measure(report_run *run, const report_rows *rows, const report_config *cfg)
{
    for (size_t i = 0; i < cfg->size_count; i++)
        if (measure_size(run, rows, cfg, i) != 0)
            return -1;
    return 0;
}

/* ---- The same method for other sections (report_sparse.c) ---- */

/* Calibrates each of count kernels (batches of growing length until one
 * lasts cfg->batch_ms: the warm-up), then times cfg->reps repetitions, each
 * one batch of every kernel in an order rotated by one per repetition.
 * samples[k * reps + r]: seconds per call of kernel k in repetition r. */
void report_time_interleaved(report_batch_fn fn, void *ctx, size_t count, const report_config *cfg,
                             const char *label, double *samples)
{
    double (*const clock)(void) = cfg->cpu_clock ? report_thread_cpu : report_now;
    const double target = cfg->batch_ms * 1e-3;
    size_t *iters = calloc(count ? count : 1, sizeof *iters);
    if (!iters) {
        fprintf(stderr, "adagrad-report: out of memory\n");
        exit(1);
    }
    char what[200];
    snprintf(what, sizeof what, "%s: warm-up", label);
    progress(cfg, what, true);
    for (size_t k = 0; k < count; k++) {
        size_t n = 1;
        for (;;) {
            const double t0 = clock();
            fn(ctx, k, n);
            const double dt = clock() - t0;
            if (dt >= target || n > ((size_t)1 << 40))
                break;
            double grow = dt > 0 ? 1.2 * target / dt : 100.0;
            grow = grow < 2.0 ? 2.0 : grow > 100.0 ? 100.0 : grow;
            n = (size_t)((double)n * grow);
        }
        iters[k] = n;
    }
    for (unsigned r = 0; r < cfg->reps; r++) {
        snprintf(what, sizeof what, "%s: repetition %u/%u", label, r + 1, cfg->reps);
        progress(cfg, what, true);
        for (size_t j = 0; j < count; j++) {
            const size_t k = (j + r) % count; /* rotated order: noise spreads over all kernels */
            const double t0 = clock();
            fn(ctx, k, iters[k]);
            samples[k * cfg->reps + r] = (clock() - t0) / (double)iters[k];
        }
    }
    free(iters);
}

/* ---- The multi-threaded section ---- */

size_t report_mt_sizes(const report_run *run, const report_config *cfg, size_t *out)
{
    size_t count = 0, largest = 0;
    for (size_t i = 0; i < cfg->size_count; i++) {
        const size_t n = cfg->sizes[i];
        int seen = 0;
        for (size_t j = 0; j < count; j++)
            seen |= out[j] == n;
        if (!seen && run->caches.l3 > 0 &&
            (double)n * REPORT_WORKING_SET_PER_ELEMENT >= 4.0 * (double)run->caches.l3)
            out[count++] = n;
        if (n > largest)
            largest = n;
    }
    if (count == 0 && cfg->size_count > 0)
        out[count++] = largest;
    return count;
}

/* What adagrad_step_f32_mt can use at n (parallel.c: at least
 * ADAGRAD_MT_MIN_ELEMENTS elements per thread; one thread without OpenMP). */
static unsigned threads_used(const report_run *run, unsigned threads, size_t n)
{
    if (!run->mt_openmp)
        return 1;
    const size_t parts = adagrad_mt_parts(n, (int)threads);
    return parts > 1 ? (unsigned)parts : 1;
}

/* One step from the initial inputs on `threads` threads against one
 * adagrad_step_f32 call (ref_p, ref_s): 1 when θ and s match bit for bit. */
static int same_bits(const buffers *b, const float *ref_p, const float *ref_s, const adagrad_options *opt,
                     unsigned threads)
{
    memcpy(b->scratch_p, b->param, b->n * sizeof(float));
    memcpy(b->scratch_s, b->sum, b->n * sizeof(float));
    if (adagrad_step_f32_mt(b->scratch_p, b->scratch_s, b->grad, b->n, opt, (int)threads) != ADAGRAD_OK)
        return 0;
    return memcmp(b->scratch_p, ref_p, b->n * sizeof(float)) == 0 &&
           memcmp(b->scratch_s, ref_s, b->n * sizeof(float)) == 0;
}

static int measure_threads_at(report_run *run, const report_config *cfg, size_t n, size_t index, size_t count)
{
    char what[160];
    snprintf(what, sizeof what, "threads [%zu/%zu] n=%zu: preparing inputs", index + 1, count, n);
    progress(cfg, what, false);
    buffers b;
    float *ref_p = NULL, *ref_s = NULL;
    const size_t k_count = 2 * cfg->thread_count;
    timed *ks = calloc(k_count, sizeof *ks);
    double *samples = calloc(k_count * cfg->reps, sizeof *samples);
    const int made = make_buffers(&b, n, cfg->seed);
    if (made == 0) {
        ref_p = alloc_floats(n);
        ref_s = alloc_floats(n);
    }
    if (made != 0 || !ks || !samples || !ref_p || !ref_s) {
        fprintf(stderr, "adagrad-report: out of memory for the multi-threaded step at n=%zu\n", n);
        if (made == 0)
            free_buffers(&b);
        free(ks);
        free(samples);
        free(ref_p);
        free(ref_s);
        return -1;
    }
    for (size_t i = 0; i < k_count; i++) {
        ks[i].row = NULL;
        ks[i].mode = i < cfg->thread_count ? "exact" : "fast";
        ks[i].threads = cfg->threads[i % cfg->thread_count];
        ks[i].samples = samples + i * cfg->reps;
    }

    /* The check first, on the initial inputs: per mode, one call is the reference. */
    snprintf(what, sizeof what, "threads [%zu/%zu] n=%zu: bitwise check", index + 1, count, n);
    progress(cfg, what, true);
    int identical[2 * 64];
    for (size_t i = 0; i < k_count; i++) {
        const adagrad_options *opt = strcmp(ks[i].mode, "fast") == 0 ? &opt_fast : &opt_exact;
        if (i % cfg->thread_count == 0) {
            memcpy(ref_p, b.param, n * sizeof(float));
            memcpy(ref_s, b.sum, n * sizeof(float));
            adagrad_step_f32(ref_p, ref_s, b.grad, n, opt); /* valid: cannot fail */
        }
        identical[i] = same_bits(&b, ref_p, ref_s, opt, ks[i].threads);
    }

    const double target = cfg->batch_ms * 1e-3;
    snprintf(what, sizeof what, "threads [%zu/%zu] n=%zu: warm-up", index + 1, count, n);
    progress(cfg, what, true);
    for (size_t i = 0; i < k_count; i++)
        calibrate(&ks[i], &b, target, false);
    for (unsigned r = 0; r < cfg->reps; r++) {
        snprintf(what, sizeof what, "threads [%zu/%zu] n=%zu: repetition %u/%u", index + 1, count, n, r + 1,
                 cfg->reps);
        progress(cfg, what, true);
        for (size_t j = 0; j < k_count; j++) {
            timed *t = &ks[(j + r) % k_count];
            t->samples[r] = time_batch(t, &b, t->iters, false) / (double)t->iters;
        }
    }

    for (size_t i = 0; i < k_count; i++) {
        report_result *res = report_add_mt_result(run);
        report_copy(res->impl, sizeof res->impl, run->mt_impl);
        report_copy(res->mode, sizeof res->mode, ks[i].mode);
        res->n = n;
        res->threads = ks[i].threads;
        res->threads_used = threads_used(run, ks[i].threads, n);
        res->identical = identical[i];
        if (!identical[i])
            run->mt_identical = 0;
        fill_stats(res, ks[i].samples, cfg->reps);
    }
    free(ks);
    free(samples);
    free(ref_p);
    free(ref_s);
    free_buffers(&b);
    return 0;
}

int report_measure_threads(report_run *run, const report_config *cfg)
{
    report_copy(run->mt_impl, sizeof run->mt_impl, adagrad_isa_name(adagrad_active_isa()));
    run->mt_max_threads = adagrad_max_threads();
    run->mt_others_cpus = NAN;
#ifdef ADAGRAD_REPORT_OPENMP
    run->mt_openmp = true;
#else
    run->mt_openmp = false;
#endif
    if (cfg->thread_count == 0 || cfg->size_count == 0) {
        report_copy(run->mt_status, sizeof run->mt_status, "off");
        run->mt_identical = -1;
        return 0;
    }
    report_copy(run->mt_status, sizeof run->mt_status, "ok");
    run->mt_identical = 1;
    run->mt_online_cpus = report_online_cpus();
    static const char *const env[] = {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND",
                                      "OMP_PLACES", "OMP_DYNAMIC", "OMP_THREAD_LIMIT"};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
        const char *v = getenv(env[i]);
        const size_t used = strlen(run->mt_env);
        if (v)
            snprintf(run->mt_env + used, sizeof run->mt_env - used, "%s%s=%.24s", used ? " " : "", env[i], v);
    }
    /* How busy the other processes kept the CPUs meanwhile: every CPU's busy
     * time, less this process's own CPU time, over the elapsed time. */
    const double busy0 = report_busy_cpu_seconds(), self0 = process_cpu(), wall0 = report_now();
    size_t *sizes = malloc(cfg->size_count * sizeof *sizes);
    if (!sizes) {
        fprintf(stderr, "adagrad-report: out of memory\n");
        return -1;
    }
    const size_t count = report_mt_sizes(run, cfg, sizes);
    int status = 0;
    for (size_t i = 0; i < count && status == 0; i++)
        status = measure_threads_at(run, cfg, sizes[i], i, count);
    free(sizes);
    const double busy1 = report_busy_cpu_seconds(), self1 = process_cpu(), wall1 = report_now();
    if (busy0 >= 0 && busy1 >= 0 && wall1 - wall0 > 0.2) {
        const double others = (busy1 - busy0 - (self1 - self0)) / (wall1 - wall0);
        run->mt_others_cpus = others < 0 ? 0 : others; /* the jiffy counts are coarse */
    }
    return status;
}
