/* libadagrad tests — the floating-point environment, run once per row.
 * SPDX-License-Identifier: MIT
 *
 *   fp_flags  a step raises FE_INVALID, FE_DIVBYZERO and FE_OVERFLOW exactly
 *             where the contract's operations, one element at a time (the
 *             reference of contract.h), raise them on the same elements:
 *             dense tails of every length up to one of the widest vectors
 *             (SVE's 64 lanes) + 2, and around two and three of them; fresh rows (s = 0, g = 0) with ε > 0, ε = 0
 *             with s ≥ 1, and ε = 0 with zeros (where the reference itself
 *             raises FE_INVALID); sparse and row-wise steps on fresh and on
 *             trained rows. Every flag combination, EXACT and FAST.
 *   fp_traps  the same valid inputs (the reference raises nothing) with
 *             FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW trapping, in a child
 *             process: a spurious flag is a SIGFPE there.
 * Every other numerical body checks the flags too (check_step).
 */
#define _GNU_SOURCE /* feenableexcept */
#include <fenv.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "contract.h"
#include "rng.h"
#include "sparse.h"
#include "suite.h"

#define LANES_MAX 64                 /* floats in the widest vector: SVE at 2048 bits */
#define DENSE_MAX (3 * LANES_MAX + 2) /* the longest dense step */
#define DIM_MAX (2 * LANES_MAX + 3)  /* table rows of every width up to LANES_MAX + 2... */
#define DIM_STEP 7                   /* ...then in steps of 7 */

/* The dense lengths: all up to one widest vector + 2, then around two and
 * three of them (every tail length of every narrower vector is among the
 * first). */
static size_t next_length(size_t n)
{
    if (n < LANES_MAX + 2)
        return n + 1;
    if (n == LANES_MAX + 2)
        return 2 * LANES_MAX - 1;
    if (n < 2 * LANES_MAX + 1)
        return n + 1;
    if (n == 2 * LANES_MAX + 1)
        return 3 * LANES_MAX - 1;
    return n + 1;
}

/* The input families, all drawn from one stream. */
enum family {
    FRESH,      /* s = 0 and g = 0 in about half the elements, ε > 0: FAST's out-of-domain lanes */
    EPS_ZERO,   /* ε = 0, s ≥ 1: every tail lane past the end would be 0/0 */
    ZEROS_RAISE /* ε = 0 with s = g = 0: the reference raises FE_INVALID itself */
};

static float family_eps(enum family f) { return f == FRESH ? 1e-10f : 0.0f; }

static void fill(rng *r, enum family f, float *p, float *s, float *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = rng_logu(r, -10.0, 3.0, 1);
        g[i] = rng_logu(r, -15.0, 3.0, 1);
        s[i] = f == EPS_ZERO ? rng_logu(r, 0.0, 10.0, 0) : rng_logu(r, -20.0, 10.0, 0);
        if (f != EPS_ZERO && (rng_next(r) & 1))
            s[i] = g[i] = 0.0f;
    }
}

/* check.h's flag combinations, at this body's η and λ. */
static adagrad_options options(unsigned combo, float eps) { return combo_options(combo, 0.01f, eps, 0.01f); }

/* Each length runs every combo_step-th flag combination, starting at a
 * different one for each length, so all of them meet every tail. */
static void dense_cases(const test_row *row, enum family f, unsigned combo_step)
{
    rng r = rng_for(suite_seed, "fp_flags");
    float p[DENSE_MAX], s[DENSE_MAX], g[DENSE_MAX];
    for (size_t n = 0; n <= DENSE_MAX; n = next_length(n)) {
        fill(&r, f, p, s, g, n);
        for (unsigned combo = n % combo_step; combo < COMBOS; combo += combo_step) {
            const step_case c = {.what = "fp_flags", .n = n, .opt = options(combo, family_eps(f))};
            check_step(row, &c, p, s, g, NULL, NULL);
        }
    }
}

/* One table step through `k` on copies of the inputs: the flags it raised. */
static int table_flags(const adagrad_kernels *k, bool rowwise, const float *table0, const float *acc0,
                       size_t rows, size_t dim, const int64_t *ix, const float *grads, size_t n,
                       const adagrad_options *opt, int *status)
{
    float *table = malloc(rows * dim * sizeof(float)), *acc = malloc(rows * dim * sizeof(float));
    if (!table || !acc)
        abort();
    memcpy(table, table0, rows * dim * sizeof(float));
    memcpy(acc, acc0, (rowwise ? rows : rows * dim) * sizeof(float));
    feclearexcept(FE_ALL_EXCEPT);
    *status = adagrad_sparse_with(k, rowwise, table, acc, rows, dim, ix, false, grads, n, opt, NULL, 0);
    const int flags = fetestexcept(CHECKED_FP_FLAGS);
    feclearexcept(FE_ALL_EXCEPT);
    free(table);
    free(acc);
    return flags;
}

/* The flags the reference raises on the same table step: per index in list
 * order, contract_ref_dense on the row (sparse, sequential duplicates) or
 * contract_ref_rowwise. Not inlined, as reference_flags (check.h). */
__attribute__((noinline)) static int reference_table_flags(bool rowwise, float *table, float *acc, size_t dim,
                                                           const int64_t *ix, const float *grads, size_t n,
                                                           const adagrad_options *opt)
{
    feclearexcept(FE_ALL_EXCEPT);
    for (size_t k = 0; k < n; k++) {
        const size_t q = (size_t)ix[k];
        if (rowwise)
            contract_ref_rowwise(opt, table + q * dim, acc + q, grads + k * dim, dim);
        else
            contract_ref_dense(opt, table + q * dim, acc + q * dim, grads + k * dim, dim);
    }
    const int flags = fetestexcept(CHECKED_FP_FLAGS);
    feclearexcept(FE_ALL_EXCEPT);
    return flags;
}

/* Sparse and row-wise steps over 4 rows, each index named once or twice.
 * With `check` the flags are compared with the reference's; without, the
 * step just runs (fp_traps: a spurious flag traps). */
static void table_cases(const test_row *row, enum family f, bool check)
{
    enum { ROWS = 4, NIDX = 6 };
    static const int64_t ix[NIDX] = {2, 0, 3, 2, 1, 0};
    rng r = rng_for(suite_seed, "fp_flags_table");
    static float table[ROWS * DIM_MAX], acc[ROWS * DIM_MAX], grads[NIDX * DIM_MAX], unused[NIDX * DIM_MAX];
    static float ref_table[ROWS * DIM_MAX], ref_acc[ROWS * DIM_MAX];
    for (size_t dim = 1; dim <= DIM_MAX; dim += dim < LANES_MAX + 2 ? 1 : DIM_STEP) {
        fill(&r, f, table, acc, unused, ROWS * dim);
        fill(&r, f, unused, unused, grads, NIDX * dim);
        if (f != EPS_ZERO) /* fresh rows: zero accumulators and zero gradients */
            for (size_t j = 0; j < dim; j++)
                acc[j] = acc[3 * dim + j] = grads[j] = grads[3 * dim + j] = 0.0f;
        for (unsigned rowwise = 0; rowwise < 2; rowwise++)
            for (unsigned combo = 0; combo < COMBOS; combo++) {
                const adagrad_options opt = options(combo, family_eps(f));
                int st;
                const int flags = table_flags(row->k, rowwise, table, acc, ROWS, dim, ix, grads, NIDX, &opt, &st);
                if (!check)
                    continue;
                memcpy(ref_table, table, ROWS * dim * sizeof(float));
                memcpy(ref_acc, acc, (rowwise ? ROWS : ROWS * dim) * sizeof(float));
                const int ref = reference_table_flags(rowwise, ref_table, ref_acc, dim, ix, grads, NIDX, &opt);
                if (st != ADAGRAD_OK || flags != ref)
                    fail_msg("fp_flags/%s %s dim=%zu flags=0x%x eps=%g: status %d, raised %s where the reference "
                             "raised %s",
                             row->name, rowwise ? "rowwise" : "sparse", dim, opt.flags, (double)opt.eps, st,
                             fp_flags_name(flags), fp_flags_name(ref));
            }
    }
}

/* A rejected call leaves the flags alone too (no signalling comparison of a NaN). */
static void rejected_cases(const test_row *row)
{
    float p[4] = {1, 2, 3, 4}, s[4] = {1, 1, 1, 1}, g[4] = {1, 1, 1, 1};
    const int64_t ix[1] = {0};
    const float bad[3] = {NAN, INFINITY, -1.0f};
    for (int b = 0; b < 3; b++)
        for (int field = 0; field < 3; field++) {
            adagrad_options opt = {.lr = 0.01f, .eps = 1e-10f, .weight_decay = 0.0f, .flags = 0};
            *(field == 0 ? &opt.lr : field == 1 ? &opt.eps : &opt.weight_decay) = bad[b];
            feclearexcept(FE_ALL_EXCEPT);
            const int dense = adagrad_step_f32_with(row->k, p, s, g, 4, &opt);
            const int sparse = adagrad_sparse_with(row->k, false, p, s, 1, 4, ix, false, g, 1, &opt, NULL, 0);
            const int raised = fetestexcept(FE_ALL_EXCEPT);
            feclearexcept(FE_ALL_EXCEPT);
            if (dense != ADAGRAD_ERR_PARAM || sparse != ADAGRAD_ERR_PARAM || raised != 0)
                fail_msg("fp_flags/%s: hyper-parameter %d = %g: statuses %d, %d (want %d), raised flags 0x%x "
                         "(want none)",
                         row->name, field, (double)bad[b], dense, sparse, ADAGRAD_ERR_PARAM, (unsigned)raised);
        }
}

void body_fp_flags(void **state)
{
    const test_row *row = suite_row(state);
    rejected_cases(row);
    dense_cases(row, FRESH, 2);
    dense_cases(row, EPS_ZERO, 2);
    dense_cases(row, ZEROS_RAISE, 3);
    table_cases(row, FRESH, true);
    table_cases(row, EPS_ZERO, true);
    table_cases(row, ZEROS_RAISE, true);
}

/* The valid inputs of fp_flags, run with traps on; the reference raises
 * nothing on them (fp_flags checks that the row raises what it raises). */
static void run_trapped(const test_row *row)
{
    for (enum family f = FRESH; f <= EPS_ZERO; f++) {
        rng r = rng_for(suite_seed, "fp_traps");
        float p[DENSE_MAX], s[DENSE_MAX], g[DENSE_MAX];
        for (size_t n = 0; n <= DENSE_MAX; n = next_length(n)) {
            fill(&r, f, p, s, g, n);
            for (unsigned combo = 0; combo < COMBOS; combo++) {
                const adagrad_options opt = options(combo, family_eps(f));
                if (adagrad_step_f32_with(row->k, p, s, g, n, &opt) != ADAGRAD_OK)
                    _exit(3);
                fill(&r, f, p, s, g, n); /* fresh inputs: keep them valid */
            }
        }
        table_cases(row, f, false);
    }
}

#define TRAPPED (FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW)

void body_fp_traps(void **state)
{
    const test_row *row = suite_row(state);
    /* Whether this CPU (or emulator) can trap at all, asked here before any
     * fork: qemu-aarch64, which cannot, never runs a forked child on some
     * hosts. Nothing computes while the traps are on. */
    if (feenableexcept(TRAPPED) == -1) {
        print_message("skipped fp_traps/%s: this CPU (or emulator) cannot trap floating-point exceptions\n",
                      row->name);
        skip();
    }
    fedisableexcept(TRAPPED);
    fflush(NULL);
    const pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork failed");
    if (pid == 0) {
        signal(SIGFPE, SIG_DFL); /* die of it: cmocka's handler would go on running tests in the child */
        if (feenableexcept(TRAPPED) == -1)
            _exit(77);
        run_trapped(row);
        _exit(0);
    }
    int ws = 0;
    if (waitpid(pid, &ws, 0) != pid)
        fail_msg("waitpid failed");
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 77) {
        print_message("skipped fp_traps/%s: this CPU (or emulator) cannot trap floating-point exceptions\n",
                      row->name);
        skip();
    }
    if (WIFSIGNALED(ws))
        fail_msg("fp_traps/%s: the step died of signal %d (%s) on valid inputs", row->name, WTERMSIG(ws),
                 WTERMSIG(ws) == SIGFPE ? "SIGFPE: a trapped floating-point exception" : "not SIGFPE");
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        fail_msg("fp_traps/%s: the child exited with status %d", row->name, WEXITSTATUS(ws));
}
