/* libadagrad tests — the suite's driver: rows, registration, the summary.
 * SPDX-License-Identifier: MIT
 *
 * One test body per behaviour (body_*.c), registered at run time once for
 * every row: each row of the library's kernel table plus the test-only rows,
 * named "<body>/<row>" ("tails/avx2"). A row this CPU or OS cannot run is
 * registered too and skips itself with the reason, so it shows in the
 * output; the rows that will run are listed first. Row-independent bodies
 * (status strings, dispatch) are registered once.
 *
 * Environment:
 *   ADAGRAD_TEST_SEED        the PRNG seed (printed at start; default fixed)
 *   ADAGRAD_TEST_LARGE_N     the large odd length (default 1000003)
 *   ADAGRAD_TEST_TRAJ_STEPS  steps per trajectory (default 300)
 *   ADAGRAD_TEST_SWEEP       rounds of the sweep body, 2^19 elements each
 *                            (default 1; a few hundred measure the worst ulp)
 *   ADAGRAD_TEST_EXPECT_BEST the best ISA the CPU (model) should allow
 *   ADAGRAD_TEST_EXPECT_SVE_BITS
 *                            the SVE vector length it should run at (0: none)
 *   ADAGRAD_TEST_FILTER      run only the tests whose names match this
 *                            cmocka pattern (* and ?), e.g. "fp_*"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "suite.h"

uint64_t suite_seed = UINT64_C(0x5eed0fada9a7ad11);
size_t suite_large_n = 1000003;
unsigned suite_traj_steps = 300;
unsigned suite_sweep_rounds = 1;
adagrad_isa suite_initial_isa;

#define MAX_ROWS 8

/* ---- statistics: the worst errors, and where ---- */
typedef struct worst {
    double ulp, unrounded;
    char where[400];
} worst;
static worst theta_stats[MAX_ROWS][MODE_COUNT], s_stats[MAX_ROWS][2];

static void note(worst *w, double ulp, const char *where)
{
    if (ulp > w->ulp) {
        w->ulp = ulp;
        snprintf(w->where, sizeof w->where, "%s", where);
    }
}

void stats_note_theta(const test_row *row, int mode, double ulp, double ulp_unrounded, const char *where)
{
    worst *w = &theta_stats[row->slot][mode];
    note(w, ulp, where);
    if (ulp_unrounded > w->unrounded)
        w->unrounded = ulp_unrounded;
}

void stats_note_s(const test_row *row, bool weight_decay, double ulp, const char *where)
{
    note(&s_stats[row->slot][weight_decay], ulp, where);
}

const test_row *suite_row(void **state)
{
    const test_row *row = *state;
    if (!row->supported) {
        print_message("skipped %s: %s\n", row->name, row->skip_reason);
        skip();
    }
    return row;
}

/* ---- the rows ---- */
static size_t make_rows(test_row *rows)
{
    const size_t n = adagrad_row_count();
    if (n > MAX_ROWS) {
        fprintf(stderr, "test_adagrad: %zu rows, MAX_ROWS is %d\n", n, MAX_ROWS);
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        const adagrad_kernels *k = adagrad_row(i);
        const char *why_not;
        const bool ok = adagrad_row_runnable(k, &why_not);
        rows[i] = (test_row){.k = k, .name = k->name, .supported = ok, .skip_reason = why_not, .slot = i};
    }
    return n;
}

/* ---- registration ---- */
typedef struct body {
    const char *name;
    CMUnitTestFunction fn;
} body;

static const body per_row[] = {
    {"tails", body_tails},
    {"misaligned", body_misaligned},
    {"flags", body_flags},
    {"magnitudes", body_magnitudes},
    {"specials", body_specials},
    {"lone_specials", body_lone_specials},
    {"fast_lanes", body_fast_lanes},
    {"sweep", body_sweep},
    {"fast_worst", body_fast_worst},
    {"large", body_large},
    {"trajectory", body_trajectory},
    {"errors", body_errors},
    {"sparse_dense", body_sparse_dense},
    {"sparse_duplicates", body_sparse_duplicates},
    {"rowwise", body_rowwise},
    {"sparse_errors", body_sparse_errors},
    {"torch_sparse", body_torch_sparse},
    {"fp_flags", body_fp_flags},
    {"fp_traps", body_fp_traps},
    {"traffic", body_traffic},
    {"general_dense", body_general_dense},
    {"general_sparse", body_general_sparse},
    {"general_errors", body_general_errors},
#ifdef ADAGRAD_TEST_HAVE_TORCH
    {"torch", body_torch},
#endif
};

static const body once[] = {
    {"strerror", test_strerror},
    {"decayed_lr", test_decayed_lr},
    {"dispatch/isa_names", test_isa_names},
    {"dispatch/kernel_table", test_kernel_table},
    {"dispatch/cpu_flags", test_cpu_flags},
    {"dispatch/isa_available", test_isa_available},
    {"dispatch/sve_length", test_sve_length},
    {"dispatch/default_isa", test_default_isa},
    {"dispatch/use_isa", test_use_isa},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static unsigned long long env_u64(const char *name, unsigned long long fallback)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return fallback;
    char *end;
    const unsigned long long x = strtoull(v, &end, 0);
    if (*end) {
        fprintf(stderr, "%s=%s is not a number; using %llu\n", name, v, fallback);
        return fallback;
    }
    return x;
}

int main(void)
{
    /* First call into the library: dispatch picks its ISA now. */
    suite_initial_isa = adagrad_active_isa();

    suite_seed = env_u64("ADAGRAD_TEST_SEED", suite_seed);
    suite_large_n = (size_t)env_u64("ADAGRAD_TEST_LARGE_N", suite_large_n);
    suite_traj_steps = (unsigned)env_u64("ADAGRAD_TEST_TRAJ_STEPS", suite_traj_steps);
    suite_sweep_rounds = (unsigned)env_u64("ADAGRAD_TEST_SWEEP", suite_sweep_rounds);
    printf("libadagrad tests: seed 0x%016" PRIx64 " (ADAGRAD_TEST_SEED=0x%" PRIx64 " reproduces this run), "
           "large n = %zu, trajectory steps = %u, sweep rounds = %u\n",
           suite_seed, suite_seed, suite_large_n, suite_traj_steps, suite_sweep_rounds);

    static test_row rows[MAX_ROWS];
    const size_t nrows = make_rows(rows);
    printf("implementations that will run:");
    for (size_t r = 0; r < nrows; r++)
        if (rows[r].supported)
            printf(" %s%s", rows[r].name, rows[r].k->test_only ? " (test-only)" : "");
    printf("\n");
    for (size_t r = 0; r < nrows; r++)
        if (!rows[r].supported)
            printf("skipped %s: %s\n", rows[r].name, rows[r].skip_reason);
#ifndef ADAGRAD_TEST_HAVE_TORCH
    printf("torch: tests/torch_trajectories.h not present, no torch/<row> tests\n");
#endif
    fflush(stdout);

    const size_t ntests = COUNT(per_row) * nrows + COUNT(once);
    struct CMUnitTest *tests = calloc(ntests, sizeof *tests);
    char **names = calloc(ntests, sizeof *names);
    if (!tests || !names)
        return 2;
    /* The row-independent tests first, then body by body, row by row (the
     * torch replay last: its buffers are plain allocations, unfenced, so a
     * kernel that writes past the end can abort the process there). */
    size_t t = 0;
    for (size_t b = 0; b < COUNT(once); b++, t++)
        tests[t] = (struct CMUnitTest){.name = once[b].name, .test_func = once[b].fn};
    for (size_t b = 0; b < COUNT(per_row); b++)
        for (size_t r = 0; r < nrows; r++, t++) {
            const size_t len = strlen(per_row[b].name) + strlen(rows[r].name) + 2;
            names[t] = malloc(len);
            if (!names[t])
                return 2;
            snprintf(names[t], len, "%s/%s", per_row[b].name, rows[r].name);
            tests[t] = (struct CMUnitTest){.name = names[t], .test_func = per_row[b].fn, .initial_state = &rows[r]};
        }

    const char *filter = getenv("ADAGRAD_TEST_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    const int failed = _cmocka_run_group_tests("libadagrad", tests, ntests, NULL, NULL);

    printf("\nworst error against the double oracle, in ulp (bounds: EXACT theta %g, s %g, s with weight decay %g;"
           " FAST theta: the row's fast_ulp):\n",
           CONTRACT_EXACT_THETA_ULP, CONTRACT_EXACT_S_ULP, CONTRACT_EXACT_S_ULP_WD);
    for (size_t r = 0; r < nrows; r++) {
        if (!rows[r].supported) {
            printf("  %-11s skipped: %s\n", rows[r].name, rows[r].skip_reason);
            continue;
        }
        const worst *e = &theta_stats[r][MODE_EXACT], *f = &theta_stats[r][MODE_FAST];
        printf("  %-11s EXACT theta %.3f (unrounded %.3f) | FAST theta %.3f (unrounded %.3f; bound %d) | "
               "s %.3f, with weight decay %.3f\n",
               rows[r].name, e->ulp, e->unrounded, f->ulp, f->unrounded, rows[r].k->fast_ulp, s_stats[r][0].ulp,
               s_stats[r][1].ulp);
    }
    if (getenv("ADAGRAD_TEST_VERBOSE")) {
        for (size_t r = 0; r < nrows; r++) {
            printf("  %s EXACT theta worst at %s\n", rows[r].name, theta_stats[r][MODE_EXACT].where);
            printf("  %s FAST theta worst at %s\n", rows[r].name, theta_stats[r][MODE_FAST].where);
            printf("  %s s worst at %s\n", rows[r].name, s_stats[r][0].where);
            printf("  %s s (decay) worst at %s\n", rows[r].name, s_stats[r][1].where);
        }
    }
    for (size_t i = 0; i < t; i++)
        free(names[i]);
    free(names);
    free(tests);
    return failed ? 1 : 0;
}
