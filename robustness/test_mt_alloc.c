/* libadagrad — adagrad_step_f32_mt allocates nothing and starts no thread
 * after its first call that splits, whatever n and `threads`; every call
 * gives the bits of one adagrad_step_f32 call. Plain C, not cmocka: cmocka's
 * own bookkeeping allocates.
 * SPDX-License-Identifier: MIT
 *
 * The executable defines the allocation functions (forwarding to glibc's
 * __libc_* entry points) and counts each call, so it sees the allocations
 * of the library, of the OpenMP runtime and of glibc alike. Checks:
 *   part_rule   the documented part count: at most the threads asked for,
 *               every part of adagrad_split_range at least
 *               ADAGRAD_MT_MIN_ELEMENTS, the last part the smallest
 *   bits        every call equals adagrad_step_f32 on a copy (memcmp)
 *   allocation  after one warm-up call, no allocation over calls of many
 *               sizes and thread counts, also after omp_set_num_threads
 *   threads     the same thread ids (/proc/self/task) before and after
 * A sanitizer's or valgrind's runtime owns malloc, so there nothing can be
 * counted: the build defines ADAGRAD_TEST_NO_INTERPOSE under b_sanitize, and
 * a malloc that the counter does not see (valgrind) is detected at run time.
 * Then the bits and the rule are still checked, and the test exits 77 (skip)
 * saying why.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "adagrad.h"
#include "dispatch.h" /* adagrad_mt_parts */

/* ---- counting allocator --------------------------------------------------- */

static atomic_long allocations;

#ifndef ADAGRAD_TEST_NO_INTERPOSE
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static void counted(void)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
}

void *malloc(size_t size)
{
    counted();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    counted();
    return __libc_calloc(count, size);
}

void *realloc(void *ptr, size_t size)
{
    counted();
    return __libc_realloc(ptr, size);
}

void *reallocarray(void *ptr, size_t count, size_t size)
{
    counted();
    if (size && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(ptr, count * size);
}

void free(void *ptr)
{
    __libc_free(ptr);
}

void *memalign(size_t alignment, size_t size)
{
    counted();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    counted();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    counted();
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)))
        return EINVAL;
    void *p = __libc_memalign(alignment, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    counted();
    return __libc_valloc(size);
}

void *pvalloc(size_t size)
{
    counted();
    return __libc_pvalloc(size);
}
#endif

/* Why allocations cannot be counted here, or NULL when they can. */
static const char *why_not_counted(void)
{
#ifdef ADAGRAD_TEST_NO_INTERPOSE
    return "a sanitizer build: its runtime owns malloc";
#else
    /* through a volatile pointer, so the compiler cannot drop the pair */
    void *(*volatile alloc)(size_t) = malloc;
    const long before = atomic_load(&allocations);
    void *p = alloc(24);
    const long after = atomic_load(&allocations);
    free(p);
    return after == before ? "malloc is replaced at run time (valgrind?): the counter misses it" : NULL;
#endif
}

/* ---- the threads of this process ------------------------------------------ */

enum { MAX_TASKS = 256 };

/* The thread ids in /proc/self/task, ascending; -1 if it cannot be read. */
static int read_tasks(long *ids)
{
    DIR *dir = opendir("/proc/self/task");
    if (!dir)
        return -1;
    int count = 0;
    for (struct dirent *e; (e = readdir(dir)) && count < MAX_TASKS;)
        if (e->d_name[0] != '.')
            ids[count++] = strtol(e->d_name, NULL, 10);
    closedir(dir);
    for (int i = 1; i < count; i++) /* insertion sort: a few dozen ids */
        for (int j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            const long t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    return count;
}

/* ---- data ----------------------------------------------------------------- */

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1) times 2^e, e in [lo, lo + span). */
static float rnd(uint64_t *s, int lo, int span)
{
    const uint64_t x = mix(s);
    return ldexpf((float)(x >> 40) * 0x1p-23f - 1.0f, lo + (int)((x >> 8) % (uint64_t)span));
}

static const size_t M = ADAGRAD_MT_MIN_ELEMENTS;
#define MAX_N (16 * ADAGRAD_MT_MIN_ELEMENTS + 15)

static float *param, *sum, *grad, *ref_param, *ref_sum;

static adagrad_options options(int k)
{
    return (adagrad_options){.lr = 0.01f, .eps = 1e-10f, .weight_decay = (k % 3 == 0) ? 1e-4f : 0.0f,
                             .flags = ((k & 1) ? ADAGRAD_FAST : 0) | ((k % 5 == 2) ? ADAGRAD_EPS_INSIDE : 0)};
}

/* One _mt call on the shared state and adagrad_step_f32 on a copy of the
 * same state; the allocations of the _mt call are added to *allocated. */
static void step_and_compare(size_t n, int threads, int k, long *allocated)
{
    memcpy(ref_param, param, n * sizeof(float));
    memcpy(ref_sum, sum, n * sizeof(float));
    const adagrad_options o = options(k);
    const long before = atomic_load(&allocations);
    const int status = adagrad_step_f32_mt(param, sum, grad, n, &o, threads);
    *allocated += atomic_load(&allocations) - before;
    CHECK(status == ADAGRAD_OK, "_mt(n %zu, threads %d): status %d", n, threads, status);
    CHECK(adagrad_step_f32(ref_param, ref_sum, grad, n, &o) == ADAGRAD_OK, "reference step");
    CHECK(!memcmp(param, ref_param, n * sizeof(float)) && !memcmp(sum, ref_sum, n * sizeof(float)),
          "_mt(n %zu, threads %d, flags 0x%x): bits differ from adagrad_step_f32", n, threads, o.flags);
}

/* ---- the part-count rule --------------------------------------------------- */

/* Whether n elements split into `parts` ranges give every one at least M
 * (the header: the last range of adagrad_split_range is the smallest). */
static bool parts_fit(size_t n, size_t parts)
{
    size_t b, c;
    return parts <= 1 || (adagrad_split_range(n, parts, parts - 1, &b, &c) == ADAGRAD_OK && c >= M);
}

/* The library's part count (adagrad_mt_parts, what adagrad_step_f32_mt
 * uses) against the header: at most the parts asked for (the team size for
 * threads ≤ 0 or more), every part at least M elements, and no larger count
 * within those limits would fit. */
static void part_rule(int team)
{
    /* the case the rule exists for: two parts would leave one 65535 elements */
    CHECK(team < 2 || adagrad_mt_parts(2 * M + 15, 2) <= 1, "n 2M + 15: one part");
    CHECK(team < 2 || adagrad_mt_parts(2 * M + 16, 2) == 2, "n 2M + 16: two parts");
    static const long offsets[] = {-17, -16, -15, -1, 0, 1, 15, 16, 17, 31, 4095};
    for (size_t k = 1; k <= 17; k++)
        for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
            const size_t n = (size_t)((long)(k * M) + offsets[o]);
            for (int threads = -1; threads <= 18; threads++) {
                const size_t wanted = threads > 0 && threads < team ? (size_t)threads : (size_t)team;
                const size_t parts = adagrad_mt_parts(n, threads);
                CHECK(parts <= wanted && parts <= n / M, "n %zu, threads %d: %zu parts", n, threads, parts);
                for (size_t more = parts + 1; more <= wanted && more <= n / M; more++)
                    CHECK(!parts_fit(n, more), "n %zu, threads %d: %zu parts, but %zu fit", n, threads, parts, more);
                if (parts < 2)
                    continue;
                size_t next = 0, last = 0;
                for (size_t i = 0; i < parts; i++) {
                    size_t b, c;
                    CHECK(adagrad_split_range(n, parts, i, &b, &c) == ADAGRAD_OK, "split_range");
                    CHECK(b == next && c >= M, "n %zu, %zu parts: part %zu is [%zu, +%zu)", n, parts, i, b, c);
                    CHECK(i == 0 || c <= last, "n %zu, %zu parts: part %zu grows", n, parts, i);
                    next = b + c;
                    last = c;
                }
                CHECK(next == n, "n %zu, %zu parts cover %zu", n, parts, next);
            }
        }
}

/* ---- main ------------------------------------------------------------------ */

int main(void)
{
    const char *skip = why_not_counted();
    /* the first library call fixes the team size */
    const int team = adagrad_max_threads();
#ifdef _OPENMP
    CHECK(team == omp_get_max_threads(), "adagrad_max_threads %d, omp_get_max_threads %d", team,
          omp_get_max_threads());
#else
    CHECK(team == 1, "adagrad_max_threads %d without OpenMP", team);
#endif
    part_rule(team);

    param = malloc(MAX_N * sizeof(float));
    sum = malloc(MAX_N * sizeof(float));
    grad = malloc(MAX_N * sizeof(float));
    ref_param = malloc(MAX_N * sizeof(float));
    ref_sum = malloc(MAX_N * sizeof(float));
    if (!param || !sum || !grad || !ref_param || !ref_sum) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    uint64_t seed = 42;
    for (size_t i = 0; i < MAX_N; i++) {
        param[i] = rnd(&seed, -6, 8);
        sum[i] = (i % 11 == 0) ? 0.0f : fabsf(rnd(&seed, -20, 24));
        grad[i] = rnd(&seed, -12, 12);
    }

    long warmup = 0, allocated = 0;
    int k = 0;
    step_and_compare(4 * M, 0, k++, &warmup);
    long tasks_before[MAX_TASKS], tasks_after[MAX_TASKS];
    const int ntasks_before = read_tasks(tasks_before);

    static const size_t sizes[] = {1, 15, 16, 17, 4097, M - 1, M, M + 1, 2 * M - 1, 2 * M, 2 * M + 1,
                                   2 * M + 15, 2 * M + 16, 3 * M, 3 * M + 77, 4 * M + 15, 8 * M + 1,
                                   16 * M, MAX_N};
    static const int thread_counts[] = {0, 1, 2, 3, 4, 8, 16, 17, -1};
    /* ADAGRAD_TEST_MT_SMALL (set under emulation): sizes up to 4·M + 15,
     * enough for the parts of a small team, and one pass: seconds, not
     * minutes */
    const char *small = getenv("ADAGRAD_TEST_MT_SMALL");
    const size_t nsizes = small && *small ? 16 : sizeof sizes / sizeof sizes[0];
    const size_t ncounts = sizeof thread_counts / sizeof thread_counts[0];
    long calls = 0;
    /* one pass when nothing is counted: the second checks no other bits, and
     * valgrind is slow */
    for (int pass = 0; pass < (skip || (small && *small) ? 1 : 2); pass++) {
#ifdef _OPENMP
        /* the second pass after the caller's default changed: the team
         * keeps the size read at the first call (the call itself may
         * allocate the runtime's per-thread settings, outside the count) */
        if (pass == 1)
            omp_set_num_threads(team + 1);
#endif
        for (size_t s = 0; s < nsizes; s++)
            for (size_t c = 0; c < ncounts; c++) {
                /* sizes and thread counts interleaved, so consecutive calls differ in both */
                step_and_compare(sizes[(s + c) % nsizes], thread_counts[(c + pass) % ncounts], k++, &allocated);
                calls++;
            }
    }
#ifdef _OPENMP
    omp_set_num_threads(team);
#endif
    CHECK(adagrad_max_threads() == team, "adagrad_max_threads changed from %d to %d", team, adagrad_max_threads());

    const int ntasks_after = read_tasks(tasks_after);
    int same_tasks = ntasks_before == ntasks_after;
    for (int i = 0; same_tasks && i < ntasks_before; i++)
        same_tasks = tasks_before[i] == tasks_after[i];

    printf("team of %d; warm-up call: %ld allocation(s); %ld calls after it: %ld allocation(s); threads "
           "%d before, %d after, %s\n",
           team, warmup, calls, allocated, ntasks_before, ntasks_after,
           ntasks_before < 0 ? "not readable" : same_tasks ? "the same ids" : "different ids");
    if (!skip) {
        CHECK(allocated == 0, "%ld allocation(s) after the first call", allocated);
        CHECK(ntasks_before < 0 || same_tasks, "threads were created or ended after the first call");
    }
    free(param);
    free(sum);
    free(grad);
    free(ref_param);
    free(ref_sum);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    if (skip) {
        printf("SKIP allocation check: %s (bits and the part rule passed)\n", skip);
        return 77;
    }
    printf("OK\n");
    return 0;
}
