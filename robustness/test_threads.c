/* libadagrad — thread-safety tests, cmocka; run natively, under TSan
 * (scripts/test-all.sh's tsan build) and under valgrind.
 * SPDX-License-Identifier: MIT
 *
 * What the library guarantees, and what each test checks:
 *   first_use_concurrent     the first calls, from many threads at once, pick
 *                            one implementation once (an unknown ADAGRAD_ISA
 *                            is reported exactly once) and every thread sees it
 *   disjoint_buffers         concurrent steps on disjoint buffers give the bits
 *                            of the same steps run one after the other, also
 *                            when the buffers are ranges of one tensor
 *                            (adagrad_split_range)
 *   use_isa_while_stepping   adagrad_use_isa in a loop while other threads
 *                            step: an EXACT trajectory keeps the bits of
 *                            tests/contract.h's reference element; each
 *                            FAST call gives the bits of exactly one
 *                            implementation (a call runs with the row it
 *                            started with, never a mix)
 *   mt_concurrent            adagrad_step_f32_mt from two threads at once,
 *                            while the ISA switches: the bits of one call
 * Worker threads never call cmocka (not thread-safe): they count failures,
 * and the main thread asserts on the counts.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "adagrad.h"
#include "contract.h"
#include "dispatch.h"

/* ---- helpers -------------------------------------------------------------- */

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A finite value in [2^lo_exp, 2^(lo_exp + span)), random sign if sign. */
static float rnd(uint64_t *s, double lo_exp, double span, int sign)
{
    const uint64_t x = mix(s);
    const double u = (double)(x >> 11) * 0x1p-53;
    const double v = ldexp(1.0 + u, (int)(lo_exp + span * u));
    return (float)((sign && (x & 1)) ? -v : v);
}

typedef struct {
    size_t n;
    float *param, *sum, *grad;
} tensor;

static tensor tensor_new(size_t n, uint64_t seed)
{
    tensor t = {n, malloc(n * sizeof(float)), malloc(n * sizeof(float)), malloc(n * sizeof(float))};
    assert_non_null(t.param);
    assert_non_null(t.sum);
    assert_non_null(t.grad);
    for (size_t i = 0; i < n; i++) {
        t.param[i] = rnd(&seed, -10, 14, 1);
        t.sum[i] = (i % 7 == 0) ? 0.0f : rnd(&seed, -20, 20, 0);
        t.grad[i] = rnd(&seed, -14, 14, 1);
    }
    return t;
}

static tensor tensor_copy(const tensor *a)
{
    tensor t = {a->n, malloc(a->n * sizeof(float)), malloc(a->n * sizeof(float)), a->grad};
    assert_non_null(t.param);
    assert_non_null(t.sum);
    memcpy(t.param, a->param, a->n * sizeof(float));
    memcpy(t.sum, a->sum, a->n * sizeof(float));
    return t;
}

static void tensor_free_state(tensor *t)
{
    free(t->param);
    free(t->sum);
}

static int same_bits(const tensor *a, const tensor *b)
{
    return !memcmp(a->param, b->param, a->n * sizeof(float)) && !memcmp(a->sum, b->sum, a->n * sizeof(float));
}

/* The rows this CPU runs, and the ISA active before a test switches it. */
static const adagrad_kernels *rows[8];
static size_t nrows;

static void find_rows(void)
{
    nrows = 0;
    for (size_t i = 0; i < adagrad_impl_count(); i++)
        if (adagrad_isa_available(adagrad_impl(i)->isa))
            rows[nrows++] = adagrad_impl(i);
}

/* Options of step number k of a trajectory. */
static adagrad_options step_options(int k, unsigned extra)
{
    adagrad_options o = {.lr = 0.05f, .eps = 1e-10f, .weight_decay = (k % 3 == 0) ? 1e-3f : 0.0f,
                         .flags = extra | ((k % 5 == 0) ? ADAGRAD_EPS_INSIDE : 0) | ((k % 4 == 1) ? ADAGRAD_MAXIMIZE : 0)};
    return o;
}

static void run_threads(int count, void *(*fn)(void *), void *args, size_t arg_size)
{
    pthread_t th[32];
    assert_true(count <= 32);
    for (int i = 0; i < count; i++)
        assert_int_equal(pthread_create(&th[i], NULL, fn, (char *)args + (size_t)i * arg_size), 0);
    for (int i = 0; i < count; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
}

/* ---- first use from many threads ------------------------------------------ */

#define FIRST_THREADS 16
static pthread_barrier_t first_barrier;

typedef struct {
    int id;
    int seen_isa;
    int status;
} first_arg;

static void *first_use(void *p)
{
    first_arg *a = p;
    float param[37] = {0}, sum[37] = {0}, grad[37];
    for (int i = 0; i < 37; i++)
        grad[i] = (float)(i - 18) / 8.0f;
    const adagrad_options o = {.lr = 0.1f, .eps = 1e-10f};
    pthread_barrier_wait(&first_barrier);
    /* every entry point that initialises the dispatch, at the same moment */
    switch (a->id % 6) {
    case 0: a->status = adagrad_step_f32(param, sum, grad, 37, &o); break;
    case 1: (void)adagrad_isa_available(ADAGRAD_ISA_AVX2); a->status = 0; break;
    case 2: a->status = adagrad_cpu_flags() == UINT32_MAX; break;
    case 3: a->status = adagrad_step_f32_mt(param, sum, grad, 37, &o, 2); break;
    case 4: a->status = adagrad_active_kernels() == NULL; break;
    default: a->status = 0; break;
    }
    a->seen_isa = (int)adagrad_active_isa();
    return NULL;
}

static void first_use_concurrent(void **state)
{
    (void)state;
    /* An unknown ADAGRAD_ISA must be reported once, however many threads race
     * through the first use. A name the caller set is kept (the valgrind run
     * forces one). */
    const char *given = getenv("ADAGRAD_ISA");
    if (!given || !*given)
        assert_int_equal(setenv("ADAGRAD_ISA", "no-such-isa", 1), 0);
    char *forced = strdup(getenv("ADAGRAD_ISA"));
    assert_non_null(forced);

    /* stderr into a temporary file while the threads run */
    fflush(stderr);
    FILE *capture = tmpfile();
    assert_non_null(capture);
    const int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(capture), 2) >= 0);

    assert_int_equal(pthread_barrier_init(&first_barrier, NULL, FIRST_THREADS), 0);
    first_arg args[FIRST_THREADS];
    for (int i = 0; i < FIRST_THREADS; i++)
        args[i] = (first_arg){.id = i};
    run_threads(FIRST_THREADS, first_use, args, sizeof args[0]);
    pthread_barrier_destroy(&first_barrier);

    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    /* all of it: an emulator or a sanitizer may write there too (qemu-user
     * warns on each new thread), only the library's own lines count */
    rewind(capture);
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t got; (got = fread(text + len, 1, cap - len - 1, capture)) > 0;) {
        len += got;
        if (cap - len - 1 == 0) {
            text = realloc(text, cap *= 2);
            assert_non_null(text);
        }
    }
    text[len] = '\0';
    fclose(capture);
    int lines = 0;
    const char *first_line = NULL;
    for (const char *q = text; (q = strstr(q, "libadagrad:")); q++)
        if (lines++ == 0)
            first_line = q;

    /* the expected choice: the named ISA if available, else the best row */
    find_rows();
    int expect = (int)rows[nrows - 1]->isa, named_ok = 0;
    for (int i = 0; i < ADAGRAD_ISA_COUNT; i++)
        if (strcmp(forced, adagrad_isa_name((adagrad_isa)i)) == 0 && adagrad_isa_available((adagrad_isa)i)) {
            expect = i;
            named_ok = 1;
        }
    print_message("ADAGRAD_ISA=%s: %d libadagrad warning(s), every thread saw %s\n", forced, lines,
                  adagrad_isa_name((adagrad_isa)expect));
    if (first_line)
        print_message("  %.*s\n", (int)strcspn(first_line, "\n"), first_line);
    for (int i = 0; i < FIRST_THREADS; i++) {
        assert_int_equal(args[i].status, 0);
        assert_int_equal(args[i].seen_isa, expect);
    }
    assert_int_equal(lines, named_ok ? 0 : 1);
    if (!named_ok)
        assert_non_null(strstr(first_line, forced));
    free(text);
    free(forced);
    if (!given || !*given)
        unsetenv("ADAGRAD_ISA");
}

/* ---- concurrent steps on disjoint buffers ---------------------------------- */

#define STEPS 24

typedef struct {
    tensor t;
    unsigned flags;
    int steps;
    atomic_int *failures;
} own_arg;

static void *own_steps(void *p)
{
    own_arg *a = p;
    for (int k = 0; k < a->steps; k++) {
        const adagrad_options o = step_options(k, a->flags);
        if (adagrad_step_f32(a->t.param, a->t.sum, a->t.grad, a->t.n, &o) != ADAGRAD_OK)
            atomic_fetch_add(a->failures, 1);
    }
    return NULL;
}

typedef struct {
    tensor whole;
    size_t parts, index;
    unsigned flags;
    pthread_barrier_t *barrier;
    atomic_int *failures;
} range_arg;

static void *range_steps(void *p)
{
    range_arg *a = p;
    size_t b, c;
    if (adagrad_split_range(a->whole.n, a->parts, a->index, &b, &c) != ADAGRAD_OK)
        atomic_fetch_add(a->failures, 1);
    for (int k = 0; k < STEPS; k++) {
        const adagrad_options o = step_options(k, a->flags);
        if (adagrad_step_f32(a->whole.param + b, a->whole.sum + b, a->whole.grad + b, c, &o) != ADAGRAD_OK)
            atomic_fetch_add(a->failures, 1);
        pthread_barrier_wait(a->barrier); /* every range finishes step k before step k + 1 */
    }
    return NULL;
}

static void disjoint_buffers(void **state)
{
    (void)state;
    for (unsigned fast = 0; fast <= ADAGRAD_FAST; fast += ADAGRAD_FAST) {
        /* eight threads, each its own tensor */
        enum { T = 8 };
        atomic_int failures = 0;
        own_arg args[T];
        tensor expect[T];
        for (int i = 0; i < T; i++) {
            args[i] = (own_arg){tensor_new(257 + 61 * (size_t)i, 100 + (uint64_t)i), fast, STEPS, &failures};
            expect[i] = tensor_copy(&args[i].t);
            own_arg seq = args[i];
            seq.t = expect[i];
            own_steps(&seq); /* the same steps, on this thread, first */
        }
        run_threads(T, own_steps, args, sizeof args[0]);
        assert_int_equal(atomic_load(&failures), 0);
        for (int i = 0; i < T; i++) {
            assert_true(same_bits(&args[i].t, &expect[i]));
            tensor_free_state(&expect[i]);
            free(args[i].t.grad);
            tensor_free_state(&args[i].t);
        }

        /* four threads, one tensor, split with adagrad_split_range */
        enum { P = 4 };
        tensor whole = tensor_new(4 * 1024 + 13, 7), seq = tensor_copy(&whole);
        for (int k = 0; k < STEPS; k++) {
            const adagrad_options o = step_options(k, fast);
            assert_int_equal(adagrad_step_f32(seq.param, seq.sum, seq.grad, seq.n, &o), ADAGRAD_OK);
        }
        pthread_barrier_t barrier;
        assert_int_equal(pthread_barrier_init(&barrier, NULL, P), 0);
        range_arg ra[P];
        for (size_t i = 0; i < P; i++)
            ra[i] = (range_arg){whole, P, i, fast, &barrier, &failures};
        run_threads(P, range_steps, ra, sizeof ra[0]);
        pthread_barrier_destroy(&barrier);
        assert_int_equal(atomic_load(&failures), 0);
        assert_true(same_bits(&whole, &seq));
        tensor_free_state(&seq);
        free(whole.grad);
        tensor_free_state(&whole);
    }
}

/* ---- adagrad_use_isa while other threads step --------------------------------- */

static atomic_int stop_switching;
static atomic_long switches;

static void *switcher(void *p)
{
    (void)p;
    for (size_t i = 0; !atomic_load(&stop_switching); i++) {
        if (adagrad_use_isa(rows[i % nrows]->isa) != ADAGRAD_OK)
            abort();
        atomic_fetch_add(&switches, 1);
        if (i % 64 == 63)
            sched_yield();
    }
    return NULL;
}

typedef struct {
    uint64_t seed;
    atomic_int *failures;
    unsigned long rows_seen; /* bit i: some FAST call gave row i's bits */
} stepper_arg;

/* An EXACT trajectory (checked against the reference element of
 * tests/contract.h at the end), and after
 * each step a FAST step whose bits must be those of one of the rows. */
static void *stepper(void *p)
{
    stepper_arg *a = p;
    const size_t n = 4099;
    tensor t = tensor_new(n, a->seed), ref = tensor_copy(&t);
    tensor fast = tensor_copy(&t), cand[8];
    for (size_t r = 0; r < nrows; r++)
        cand[r] = tensor_copy(&t);
    for (int k = 0; k < 40; k++) {
        const adagrad_options o = step_options(k, 0), of = step_options(k, ADAGRAD_FAST);
        if (adagrad_step_f32(t.param, t.sum, t.grad, n, &o) != ADAGRAD_OK)
            atomic_fetch_add(a->failures, 1);
        contract_ref_dense(&o, ref.param, ref.sum, ref.grad, n);
        /* FAST from the current state, by the public entry and by every row */
        memcpy(fast.param, t.param, n * sizeof(float));
        memcpy(fast.sum, t.sum, n * sizeof(float));
        if (adagrad_step_f32(fast.param, fast.sum, fast.grad, n, &of) != ADAGRAD_OK)
            atomic_fetch_add(a->failures, 1);
        int matched = 0;
        for (size_t r = 0; r < nrows; r++) {
            memcpy(cand[r].param, t.param, n * sizeof(float));
            memcpy(cand[r].sum, t.sum, n * sizeof(float));
            adagrad_step_f32_with(rows[r], cand[r].param, cand[r].sum, cand[r].grad, n, &of);
            if (same_bits(&fast, &cand[r])) {
                matched = 1;
                a->rows_seen |= 1ul << r;
            }
        }
        if (!matched)
            atomic_fetch_add(a->failures, 1);
    }
    if (!same_bits(&t, &ref))
        atomic_fetch_add(a->failures, 1);
    for (size_t r = 0; r < nrows; r++)
        tensor_free_state(&cand[r]);
    tensor_free_state(&fast);
    tensor_free_state(&ref);
    free(t.grad);
    tensor_free_state(&t);
    return NULL;
}

static void use_isa_while_stepping(void **state)
{
    (void)state;
    find_rows();
    const adagrad_isa before = adagrad_active_isa();
    enum { S = 3 };
    atomic_int failures = 0;
    stepper_arg args[S];
    for (int i = 0; i < S; i++)
        args[i] = (stepper_arg){1000 + (uint64_t)i, &failures, 0};
    atomic_store(&stop_switching, 0);
    atomic_store(&switches, 0);
    pthread_t sw;
    assert_int_equal(pthread_create(&sw, NULL, switcher, NULL), 0);
    run_threads(S, stepper, args, sizeof args[0]);
    atomic_store(&stop_switching, 1);
    assert_int_equal(pthread_join(sw, NULL), 0);
    unsigned long seen = 0;
    for (int i = 0; i < S; i++)
        seen |= args[i].rows_seen;
    print_message("%ld switches among %zu rows; FAST results matched rows 0x%lx\n", atomic_load(&switches),
                  nrows, seen);
    assert_int_equal(atomic_load(&failures), 0);
    assert_int_equal(adagrad_use_isa(before), ADAGRAD_OK);
}

/* ---- adagrad_step_f32_mt from several threads ------------------------------ */

typedef struct {
    tensor t;
    int threads;
    unsigned flags;
    atomic_int *failures;
} mt_arg;

static void *mt_steps(void *p)
{
    mt_arg *a = p;
    for (int k = 0; k < 3; k++) {
        const adagrad_options o = step_options(k, a->flags);
        if (adagrad_step_f32_mt(a->t.param, a->t.sum, a->t.grad, a->t.n, &o, a->threads) != ADAGRAD_OK)
            atomic_fetch_add(a->failures, 1);
    }
    return NULL;
}

static void mt_concurrent(void **state)
{
    (void)state;
    find_rows();
    const adagrad_isa before = adagrad_active_isa();
    enum { M = 2 };
    const size_t n = 3 * ADAGRAD_MT_MIN_ELEMENTS + 77;
    atomic_int failures = 0;
    mt_arg args[M];
    tensor expect[M];
    for (int i = 0; i < M; i++) {
        args[i] = (mt_arg){tensor_new(n, 50 + (uint64_t)i), i == 0 ? 3 : 0, 0, &failures};
        expect[i] = tensor_copy(&args[i].t);
        for (int k = 0; k < 3; k++) { /* EXACT: the reference's bits whatever the ISA */
            const adagrad_options o = step_options(k, 0);
            contract_ref_dense(&o, expect[i].param, expect[i].sum, expect[i].grad, n);
        }
    }
    atomic_store(&stop_switching, 0);
    pthread_t sw;
    assert_int_equal(pthread_create(&sw, NULL, switcher, NULL), 0);
    run_threads(M, mt_steps, args, sizeof args[0]);
    atomic_store(&stop_switching, 1);
    assert_int_equal(pthread_join(sw, NULL), 0);
    assert_int_equal(adagrad_use_isa(before), ADAGRAD_OK);
    assert_int_equal(atomic_load(&failures), 0);
    for (int i = 0; i < M; i++) {
        assert_true(same_bits(&args[i].t, &expect[i]));
        tensor_free_state(&expect[i]);
    }

    /* FAST, the ISA fixed: the bits of one adagrad_step_f32 call */
    for (int i = 0; i < M; i++) {
        args[i].flags = ADAGRAD_FAST;
        expect[i] = tensor_copy(&args[i].t);
        for (int k = 0; k < 3; k++) {
            const adagrad_options o = step_options(k, ADAGRAD_FAST);
            assert_int_equal(adagrad_step_f32(expect[i].param, expect[i].sum, expect[i].grad, n, &o), ADAGRAD_OK);
        }
    }
    run_threads(M, mt_steps, args, sizeof args[0]);
    assert_int_equal(atomic_load(&failures), 0);
    for (int i = 0; i < M; i++) {
        assert_true(same_bits(&args[i].t, &expect[i]));
        tensor_free_state(&expect[i]);
        free(args[i].t.grad);
        tensor_free_state(&args[i].t);
    }
}

int main(void)
{
    /* first_use_concurrent must be the first call into the library. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_use_concurrent),
        cmocka_unit_test(disjoint_buffers),
        cmocka_unit_test(use_isa_while_stepping),
        cmocka_unit_test(mt_concurrent),
    };
    return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
