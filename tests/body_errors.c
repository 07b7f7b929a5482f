/* libadagrad tests — the error rules, run once per row.
 * SPDX-License-Identifier: MIT
 *
 * Every bad input must return its exact status and leave every buffer
 * byte-for-byte untouched (the three buffers live in one pool, compared
 * whole against a copy), and the options struct too. Each case has exactly
 * one defect. The same cases run through adagrad_step_f32_with(row) and,
 * for rows of the kernel table, through the public adagrad_step_f32 with
 * that row switched on.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"
#include "suite.h"

typedef int (*step_fn)(const adagrad_kernels *k, float *param, float *sum, const float *grad, size_t n,
                       const adagrad_options *opt);

static int via_public(const adagrad_kernels *k, float *param, float *sum, const float *grad, size_t n,
                      const adagrad_options *opt)
{
    (void)k; /* whatever adagrad_use_isa switched on */
    return adagrad_step_f32(param, sum, grad, n, opt);
}

enum { N = 37, POOL = 4 * N + 8 };

typedef struct ctx {
    const test_row *row;
    step_fn fn;
    const char *via;
    float pool[POOL];
    float copy[POOL];
} ctx;

/* One call, its status, and (for an error or n = 0) an untouched pool. */
static void expect(ctx *c, const char *what, int want, float *p, float *s, const float *g, size_t n,
                   const adagrad_options *o)
{
    memcpy(c->copy, c->pool, sizeof c->pool);
    adagrad_options ocopy = {0};
    if (o)
        ocopy = *o;
    const int got = c->fn(c->row->k, p, s, g, n, o);
    if (got != want)
        fail_msg("errors/%s via %s: %s: status %d (%s), expected %d (%s)", c->row->name, c->via, what, got,
                 adagrad_strerror(got), want, adagrad_strerror(want));
    if ((want != ADAGRAD_OK || n == 0) && memcmp(c->copy, c->pool, sizeof c->pool) != 0)
        fail_msg("errors/%s via %s: %s: returned %d but a buffer was written", c->row->name, c->via, what, got);
    if (o && memcmp(&ocopy, o, sizeof ocopy) != 0)
        fail_msg("errors/%s via %s: %s: the options were written", c->row->name, c->via, what);
}

static void run_cases(ctx *c)
{
    float *const P = c->pool, *const S = c->pool + N + 2, *const G = c->pool + 2 * N + 4;
    const adagrad_options ok = {.lr = 0.01f, .eps = 1e-10f, .weight_decay = 0.01f, .flags = 0};
    char what[96];

    /* NULL pointers */
    expect(c, "NULL param", ADAGRAD_ERR_NULL, NULL, S, G, N, &ok);
    expect(c, "NULL sum", ADAGRAD_ERR_NULL, P, NULL, G, N, &ok);
    expect(c, "NULL grad", ADAGRAD_ERR_NULL, P, S, NULL, N, &ok);
    expect(c, "all NULL", ADAGRAD_ERR_NULL, NULL, NULL, NULL, N, &ok);
    expect(c, "NULL opt", ADAGRAD_ERR_NULL, P, S, G, N, NULL);
    expect(c, "NULL opt, n = 1", ADAGRAD_ERR_NULL, P, S, G, 1, NULL);

    /* n = 0: a no-op whatever the pointers; the options are still checked */
    expect(c, "n = 0, NULL buffers", ADAGRAD_OK, NULL, NULL, NULL, 0, &ok);
    expect(c, "n = 0, all NULL", ADAGRAD_OK, NULL, NULL, NULL, 0, NULL);
    expect(c, "n = 0, NULL opt", ADAGRAD_OK, P, S, G, 0, NULL);
    expect(c, "n = 0, aliased", ADAGRAD_OK, P, P, P, 0, &ok);
    {
        adagrad_options bad = ok;
        bad.lr = NAN;
        expect(c, "n = 0, lr NaN", ADAGRAD_ERR_PARAM, NULL, NULL, NULL, 0, &bad);
        bad = ok;
        bad.flags = 0x80u;
        expect(c, "n = 0, unknown flag", ADAGRAD_ERR_PARAM, P, S, G, 0, &bad);
    }

    /* hyper-parameters: NaN, ±inf and negatives are rejected, each field */
    static const char *const field_names[3] = {"lr", "eps", "weight_decay"};
    const float bad_values[] = {NAN, -NAN, INFINITY, -INFINITY, -1.0f, -FLT_TRUE_MIN, -FLT_MIN, -FLT_MAX};
    const float good_values[] = {0.0f, -0.0f, FLT_TRUE_MIN, 1.0f, FLT_MAX};
    for (int f = 0; f < 3; f++) {
        for (size_t k = 0; k < sizeof bad_values / sizeof bad_values[0]; k++) {
            for (unsigned fast = 0; fast < 2; fast++) {
                adagrad_options o = ok;
                float *field = f == 0 ? &o.lr : f == 1 ? &o.eps : &o.weight_decay;
                *field = bad_values[k];
                o.flags = fast ? ADAGRAD_FAST : 0u;
                snprintf(what, sizeof what, "%s = %g%s", field_names[f], (double)bad_values[k], fast ? " (FAST)" : "");
                expect(c, what, ADAGRAD_ERR_PARAM, P, S, G, N, &o);
            }
        }
        for (size_t k = 0; k < sizeof good_values / sizeof good_values[0]; k++) {
            adagrad_options o = ok;
            float *field = f == 0 ? &o.lr : f == 1 ? &o.eps : &o.weight_decay;
            *field = good_values[k];
            snprintf(what, sizeof what, "%s = %g (valid)", field_names[f], (double)good_values[k]);
            expect(c, what, ADAGRAD_OK, P, S, G, N, &o);
        }
    }

    /* flags: every unknown bit alone, and all of them */
    for (unsigned b = 0; b < 32; b++) {
        adagrad_options o = ok;
        o.flags = 1u << b;
        snprintf(what, sizeof what, "flags = 0x%x", o.flags);
        expect(c, what, (o.flags & ~ADAGRAD_ALL_FLAGS) ? ADAGRAD_ERR_PARAM : ADAGRAD_OK, P, S, G, N, &o);
    }
    {
        adagrad_options o = ok;
        o.flags = ~0u;
        expect(c, "flags = ~0", ADAGRAD_ERR_PARAM, P, S, G, N, &o);
        o.flags = ~ADAGRAD_ALL_FLAGS;
        expect(c, "flags = ~ALL", ADAGRAD_ERR_PARAM, P, S, G, N, &o);
        o.flags = ADAGRAD_ALL_FLAGS;
        expect(c, "flags = ALL (valid)", ADAGRAD_OK, P, S, G, N, &o);
    }

    /* overlap: aliasing and partial overlap of every pair */
    expect(c, "sum == param", ADAGRAD_ERR_OVERLAP, P, P, G, N, &ok);
    expect(c, "grad == param", ADAGRAD_ERR_OVERLAP, P, S, P, N, &ok);
    expect(c, "grad == sum", ADAGRAD_ERR_OVERLAP, P, S, S, N, &ok);
    expect(c, "all three the same", ADAGRAD_ERR_OVERLAP, P, P, P, N, &ok);
    expect(c, "sum = param + 1", ADAGRAD_ERR_OVERLAP, P, P + 1, G, N, &ok);
    expect(c, "param = sum + 1", ADAGRAD_ERR_OVERLAP, S + 1, S, G, N, &ok);
    expect(c, "grad = param + n - 1", ADAGRAD_ERR_OVERLAP, P, S, P + N - 1, N, &ok);
    expect(c, "param = grad + n - 1", ADAGRAD_ERR_OVERLAP, G + N - 1, S, G, N, &ok);
    expect(c, "grad = sum + n - 1", ADAGRAD_ERR_OVERLAP, P, S, S + N - 1, N, &ok);
    expect(c, "sum = grad + 1", ADAGRAD_ERR_OVERLAP, P, G + 1, G, N, &ok);
    expect(c, "sum = param - (n - 1)", ADAGRAD_ERR_OVERLAP, S + N - 1, S, G + N, N, &ok);
    /* adjacent is not overlapping */
    expect(c, "adjacent (valid)", ADAGRAD_OK, c->pool, c->pool + N, c->pool + 2 * N, N, &ok);
    expect(c, "adjacent, reversed (valid)", ADAGRAD_OK, c->pool + 2 * N, c->pool + N, c->pool, N, &ok);

    /* size: n * 4 overflows, or a buffer's end wraps the address space.
     * The pointers are never dereferenced: validation fails first. */
    expect(c, "n = SIZE_MAX / 4 + 1", ADAGRAD_ERR_SIZE, P, S, G, SIZE_MAX / 4 + 1, &ok);
    expect(c, "n = SIZE_MAX", ADAGRAD_ERR_SIZE, P, S, G, SIZE_MAX, &ok);
    expect(c, "n = SIZE_MAX / 4 (wraps)", ADAGRAD_ERR_SIZE, P, S, G, SIZE_MAX / 4, &ok);
    float *const top = (float *)(uintptr_t)((UINTPTR_MAX - 64) & ~(uintptr_t)63); /* 128 bytes below the top */
    expect(c, "param near UINTPTR_MAX", ADAGRAD_ERR_SIZE, top, S, G, N, &ok);
    expect(c, "sum near UINTPTR_MAX", ADAGRAD_ERR_SIZE, P, top, G, N, &ok);
    expect(c, "grad near UINTPTR_MAX", ADAGRAD_ERR_SIZE, P, S, top, N, &ok);
}

void body_errors(void **state)
{
    const test_row *row = suite_row(state);
    static ctx c; /* big arrays: not on the stack */
    rng r = rng_for(suite_seed, "errors");
    for (size_t i = 0; i < POOL; i++)
        c.pool[i] = rng_logu(&r, -10.0, 5.0, 1);
    c.row = row;
    c.fn = adagrad_step_f32_with;
    c.via = "adagrad_step_f32_with";
    run_cases(&c);

    if (!row->k->test_only) {
        const adagrad_isa before = adagrad_active_isa();
        assert_int_equal(adagrad_use_isa(row->k->isa), ADAGRAD_OK);
        assert_ptr_equal(adagrad_active_kernels(), row->k);
        c.fn = via_public;
        c.via = "adagrad_step_f32";
        run_cases(&c);
        assert_int_equal(adagrad_use_isa(before), ADAGRAD_OK);
    }
}
