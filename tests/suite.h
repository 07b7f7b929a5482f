/* libadagrad tests — what the suite's files share: the rows under test, the
 * run's seed and sizes, the error statistics, and the test bodies.
 * SPDX-License-Identifier: MIT
 *
 * A "row" is one implementation the suite runs every per-row body against:
 * every adagrad_row (dispatch.h), the library's kernel table and then the
 * test-only rows (the NEON source compiled through SIMDe on x86). A row the
 * CPU or OS cannot run is still registered, and its tests report themselves
 * skipped with adagrad_row_runnable's reason.
 */
#ifndef ADAGRAD_TESTS_SUITE_H
#define ADAGRAD_TESTS_SUITE_H

#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>

#include "dispatch.h"

#if defined(__has_include)
#if __has_include("torch_trajectories.h")
#define ADAGRAD_TEST_HAVE_TORCH 1
#endif
#endif

typedef struct test_row {
    const adagrad_kernels *k; /* k->test_only: adagrad_use_isa cannot select it */
    const char *name;         /* k->name: the suffix of every test name ("tails/avx2") */
    bool supported;           /* adagrad_row_runnable(k) */
    const char *skip_reason;  /* its why_not, when !supported */
    size_t slot;              /* index into the statistics */
} test_row;

/* The run's parameters, set once by main(). */
extern uint64_t suite_seed;           /* ADAGRAD_TEST_SEED, or a fixed default */
extern size_t suite_large_n;          /* the one large odd length (ADAGRAD_TEST_LARGE_N) */
extern unsigned suite_traj_steps;     /* steps per trajectory (ADAGRAD_TEST_TRAJ_STEPS) */
extern unsigned suite_sweep_rounds;   /* rounds of the sweep body (ADAGRAD_TEST_SWEEP) */
extern adagrad_isa suite_initial_isa; /* the ISA dispatch chose at start-up */

/* The row a per-row body runs on; skips the test (visibly, with the reason)
 * when the CPU cannot run it. */
const test_row *suite_row(void **state);

/* The worst errors against the double oracle, printed at the end of every
 * run even when passing (with where they happened), so drift shows before
 * it fails: θ per row and mode (FAST: only elements the estimates may have
 * computed), s per row with weight decay off and on. For θ also the error
 * against the unrounded double value: the checked metric (against the
 * rounded oracle) moves in steps of ulp(θ_new), this one shows the margin. */
enum { MODE_EXACT, MODE_FAST, MODE_COUNT };
void stats_note_theta(const test_row *row, int mode, double ulp, double ulp_unrounded, const char *where);
void stats_note_s(const test_row *row, bool weight_decay, double ulp, const char *where);

/* Per-row bodies (body_numerics.c, body_errors.c). */
void body_tails(void **state);
void body_misaligned(void **state);
void body_flags(void **state);
void body_magnitudes(void **state);
void body_specials(void **state);
void body_lone_specials(void **state);
void body_fast_lanes(void **state);
void body_sweep(void **state);
void body_fast_worst(void **state);
void body_large(void **state);
void body_trajectory(void **state);
void body_errors(void **state);
/* body_sparse.c: the sparse and row-wise steps */
void body_sparse_dense(void **state);
void body_sparse_duplicates(void **state);
void body_rowwise(void **state);
void body_sparse_errors(void **state);
void body_torch_sparse(void **state); /* body_torch_sparse.c */
/* body_fpenv.c: exception flags and traps */
void body_fp_flags(void **state);
void body_fp_traps(void **state);
void body_traffic(void **state); /* body_traffic.c */
/* body_general.c: the general API (adagrad_dense, adagrad_sparse) */
void body_general_dense(void **state);
void body_general_sparse(void **state);
void body_general_errors(void **state);
#ifdef ADAGRAD_TEST_HAVE_TORCH
void body_torch(void **state);
#endif

/* Bodies run once (body_api.c). */
void test_strerror(void **state);
void test_decayed_lr(void **state);
void test_isa_names(void **state);
void test_kernel_table(void **state);
void test_cpu_flags(void **state);
void test_isa_available(void **state);
void test_sve_length(void **state);
void test_default_isa(void **state);
void test_use_isa(void **state);

#endif /* ADAGRAD_TESTS_SUITE_H */
