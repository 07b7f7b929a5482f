/* libadagrad tests — the ADAGRAD_ISA override and first use from many threads.
 * SPDX-License-Identifier: MIT
 *
 * Run by meson several times, each in a fresh process with a different
 * environment (ADAGRAD_ISA=scalar, avx2, avx512, neon, sve, bogus, empty, unset).
 * Before anything else touches the library, THREADS threads wait on a
 * barrier and then all make their first call at the same moment: half ask
 * adagrad_active_isa(), half run a step through adagrad_step_f32. All must
 * see the same ISA, and the steps must give the bits of the contract's
 * reference element (tests/contract.h).
 *
 * Expectation: the ISA named by ADAGRAD_ISA when it is available, otherwise
 * the best available one; a non-empty name that is not used must be
 * reported on stderr (captured here through a temporary file; the library's
 * lines start with "libadagrad"), and a used or empty one must not be. ADAGRAD_TEST_EXPECT, when set, names the ISA
 * that must be active, and ADAGRAD_TEST_EXPECT_BEST (the qemu CPU-model
 * setups) the best the CPU allows: both are independent of the library.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contract.h"
#include "dispatch.h"

#define THREADS 8
#define N 19

static pthread_barrier_t barrier;
static adagrad_isa seen[THREADS];
static int step_status[THREADS];
static float params[THREADS][N], sums[THREADS][N];
static float grad[N];

static int failures;
#define CHECK(cond, ...)                                      \
    do {                                                      \
        if (!(cond)) {                                        \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);       \
            printf(__VA_ARGS__);                              \
            printf("\n");                                     \
            failures++;                                       \
        }                                                     \
    } while (0)

static const adagrad_options opt = {.lr = 0.1f, .eps = 1e-10f, .weight_decay = 0.01f, .flags = 0};

static void *first_use(void *arg)
{
    const int id = (int)(size_t)arg;
    pthread_barrier_wait(&barrier);
    if (id % 2 == 0) {
        seen[id] = adagrad_active_isa();
        step_status[id] = adagrad_step_f32(params[id], sums[id], grad, N, &opt);
    } else {
        step_status[id] = adagrad_step_f32(params[id], sums[id], grad, N, &opt);
        seen[id] = adagrad_active_isa();
    }
    return NULL;
}

static int isa_by_name(const char *name)
{
    for (int i = 0; i < ADAGRAD_ISA_COUNT; i++)
        if (strcmp(name, adagrad_isa_name((adagrad_isa)i)) == 0)
            return i;
    return -1;
}

int main(void)
{
    const char *forced = getenv("ADAGRAD_ISA");
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < N; i++) {
            params[t][i] = 0.5f * (float)(i - 9);
            sums[t][i] = (float)i * 0.25f;
        }
    for (int i = 0; i < N; i++)
        grad[i] = 0.1f * (float)(5 - i);

    /* Capture stderr: the library reports a bad ADAGRAD_ISA there at init. */
    fflush(stderr);
    const int saved_stderr = dup(2);
    FILE *captured = tmpfile();
    if (saved_stderr < 0 || !captured || dup2(fileno(captured), 2) < 0) {
        printf("cannot capture stderr\n");
        return 2;
    }

    pthread_barrier_init(&barrier, NULL, THREADS);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        if (pthread_create(&th[t], NULL, first_use, (void *)(size_t)t) != 0) {
            printf("pthread_create failed\n");
            return 2;
        }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&barrier);

    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    /* Keep the library's lines only: under qemu-user the emulator itself
     * warns on stderr (about CPU model features) whenever a thread starts. */
    char warning[1024] = "", line[512];
    rewind(captured);
    while (fgets(line, sizeof line, captured))
        if (strncmp(line, "libadagrad", 10) == 0 && strlen(warning) + strlen(line) < sizeof warning)
            strcat(warning, line);
    fclose(captured);

    /* What should be active. */
    adagrad_isa best = ADAGRAD_ISA_SCALAR;
    for (size_t i = 0; i < adagrad_impl_count(); i++)
        if (adagrad_isa_available(adagrad_impl(i)->isa))
            best = adagrad_impl(i)->isa;
    const int named = forced && *forced ? isa_by_name(forced) : -1;
    const bool honoured = named >= 0 && adagrad_isa_available((adagrad_isa)named);
    const adagrad_isa want = honoured ? (adagrad_isa)named : best;
    const bool want_warning = forced && *forced && !honoured;

    printf("ADAGRAD_ISA=%s%s%s: active %s, best available %s, expected %s\n", forced ? "\"" : "(unset)",
           forced ? forced : "", forced ? "\"" : "", adagrad_isa_name(adagrad_active_isa()), adagrad_isa_name(best),
           adagrad_isa_name(want));
    printf("stderr at init: %s", *warning ? warning : "(nothing)\n");

    for (int t = 0; t < THREADS; t++) {
        CHECK(seen[t] == seen[0], "thread %d saw %s, thread 0 saw %s", t, adagrad_isa_name(seen[t]),
              adagrad_isa_name(seen[0]));
        CHECK(step_status[t] == ADAGRAD_OK, "thread %d: step status %d", t, step_status[t]);
    }
    CHECK(seen[0] == want, "threads saw %s, expected %s", adagrad_isa_name(seen[0]), adagrad_isa_name(want));
    CHECK(adagrad_active_isa() == want, "active %s, expected %s", adagrad_isa_name(adagrad_active_isa()),
          adagrad_isa_name(want));

    const char *expect = getenv("ADAGRAD_TEST_EXPECT");
    if (expect && *expect)
        CHECK(strcmp(adagrad_isa_name(adagrad_active_isa()), expect) == 0, "active %s, ADAGRAD_TEST_EXPECT=%s",
              adagrad_isa_name(adagrad_active_isa()), expect);
    const char *expect_best = getenv("ADAGRAD_TEST_EXPECT_BEST");
    if (expect_best && *expect_best)
        CHECK(strcmp(adagrad_isa_name(best), expect_best) == 0, "best available %s, ADAGRAD_TEST_EXPECT_BEST=%s",
              adagrad_isa_name(best), expect_best);

    if (want_warning)
        CHECK(strstr(warning, "ADAGRAD_ISA") && strstr(warning, forced),
              "ADAGRAD_ISA=%s was not used but not reported on stderr either", forced);
    else
        CHECK(*warning == '\0', "unexpected output on stderr: %s", warning);

    /* The threads' steps: the reference's bits (EXACT is the same everywhere). */
    float rp[N], rs[N]; /* every thread started from this state */
    for (int i = 0; i < N; i++) {
        rp[i] = 0.5f * (float)(i - 9);
        rs[i] = (float)i * 0.25f;
    }
    contract_ref_dense(&opt, rp, rs, grad, N);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < N; i++)
            CHECK(same_f32(params[t][i], rp[i]) && same_f32(sums[t][i], rs[i]),
                  "thread %d element %d: %a/%a, reference %a/%a", t, i, (double)params[t][i], (double)sums[t][i],
                  (double)rp[i], (double)rs[i]);

    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
