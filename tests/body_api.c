/* libadagrad tests — the row-independent API: status strings, the decay
 * formula, ISA names, the rows, CPU detection and switching.
 * SPDX-License-Identifier: MIT
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif

#include "contract.h"
#include "guarded.h"
#include "rng.h"
#include "suite.h"

/* ---- adagrad_strerror: a distinct, named string for every status ---- */
void test_strerror(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *name;
    } known[] = {
        {ADAGRAD_OK, "ADAGRAD_OK"},
        {ADAGRAD_ERR_NULL, "ADAGRAD_ERR_NULL"},
        {ADAGRAD_ERR_PARAM, "ADAGRAD_ERR_PARAM"},
        {ADAGRAD_ERR_OVERLAP, "ADAGRAD_ERR_OVERLAP"},
        {ADAGRAD_ERR_RANGE, "ADAGRAD_ERR_RANGE"},
        {ADAGRAD_ERR_SIZE, "ADAGRAD_ERR_SIZE"},
        {ADAGRAD_ERR_ISA, "ADAGRAD_ERR_ISA"},
    };
    enum { K = sizeof known / sizeof known[0] };
    for (size_t i = 0; i < K; i++) {
        const char *s = adagrad_strerror(known[i].status);
        assert_non_null(s);
        if (strncmp(s, known[i].name, strlen(known[i].name)) != 0 || s[strlen(known[i].name)] != ':')
            fail_msg("adagrad_strerror(%d) = \"%s\": does not start with \"%s:\"", known[i].status, s, known[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s, adagrad_strerror(known[j].status)) == 0)
                fail_msg("adagrad_strerror(%d) == adagrad_strerror(%d)", known[i].status, known[j].status);
    }
    static const int unknown[] = {1, 2, -7, -100, 42, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = adagrad_strerror(unknown[i]);
        if (!s)
            fail_msg("adagrad_strerror(%d) is NULL", unknown[i]);
        for (size_t j = 0; j < K; j++)
            if (strcmp(s, adagrad_strerror(known[j].status)) == 0)
                fail_msg("adagrad_strerror(%d) names a known status: \"%s\"", unknown[i], s);
    }
}

/* ---- adagrad_decayed_lr: torch's lr / (1 + (step - 1) * lr_decay) ---- */
static bool same_f64(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

void test_decayed_lr(void **state)
{
    (void)state;
    static const double lrs[] = {0.0, 1e-10, 0.01, 0.1, 1.0, 3.0, 1e30};
    static const double decays[] = {0.0, 1e-6, 1e-3, 0.1, 1.0, 7.5};
    static const uint64_t steps[] = {1, 2, 3, 10, 1000, 123457, UINT64_C(1) << 40, UINT64_MAX};
    for (size_t a = 0; a < sizeof lrs / sizeof lrs[0]; a++)
        for (size_t b = 0; b < sizeof decays / sizeof decays[0]; b++)
            for (size_t c = 0; c < sizeof steps / sizeof steps[0]; c++) {
                const double lr = lrs[a], decay = decays[b];
                const uint64_t step = steps[c];
                /* torch/optim/adagrad.py: clr = lr / (1 + (step - 1) * lr_decay), in Python floats */
                const double want = lr / (1.0 + (double)(step - 1) * decay);
                const double got = adagrad_decayed_lr(lr, decay, step);
                if (!same_f64(got, want))
                    fail_msg("adagrad_decayed_lr(%g, %g, %llu) = %.17g, torch's formula gives %.17g", lr, decay,
                             (unsigned long long)step, got, want);
            }
    assert_true(same_f64(adagrad_decayed_lr(0.5, 0.0, 1), 0.5));
    assert_true(same_f64(adagrad_decayed_lr(0.5, 0.25, 1), 0.5)); /* step 1: no decay yet */
    assert_true(same_f64(adagrad_decayed_lr(1.0, 1.0, 3), 1.0 / 3.0));

    /* invalid: step 0, negative or non-finite lr / lr_decay → NaN */
    static const struct {
        double lr, decay;
        uint64_t step;
    } bad[] = {
        {0.1, 0.0, 0},          {0.1, 0.01, 0},      {-0.1, 0.0, 1},       {0.1, -0.01, 5},
        {-1e-30, 0.0, 1},       {0.1, -1e-300, 2},   {INFINITY, 0.0, 1},   {-INFINITY, 0.0, 1},
        {0.1, INFINITY, 2},     {0.1, -INFINITY, 2}, {NAN, 0.0, 1},        {0.1, NAN, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const double got = adagrad_decayed_lr(bad[i].lr, bad[i].decay, bad[i].step);
        if (!isnan(got))
            fail_msg("adagrad_decayed_lr(%g, %g, %llu) = %g, expected NaN", bad[i].lr, bad[i].decay,
                     (unsigned long long)bad[i].step, got);
    }
    /* ...which adagrad_step_f32 then rejects */
    float p = 1.0f, s = 0.0f, g = 1.0f;
    const adagrad_options o = {.lr = (float)adagrad_decayed_lr(0.1, 0.0, 0)};
    assert_int_equal(adagrad_step_f32(&p, &s, &g, 1, &o), ADAGRAD_ERR_PARAM);
    assert_true(p == 1.0f && s == 0.0f);
}

/* ---- ISA names ---- */
void test_isa_names(void **state)
{
    (void)state;
    assert_string_equal(adagrad_isa_name(ADAGRAD_ISA_SCALAR), "scalar");
    assert_string_equal(adagrad_isa_name(ADAGRAD_ISA_AVX2), "avx2");
    assert_string_equal(adagrad_isa_name(ADAGRAD_ISA_AVX512), "avx512");
    assert_string_equal(adagrad_isa_name(ADAGRAD_ISA_NEON), "neon");
    assert_string_equal(adagrad_isa_name(ADAGRAD_ISA_SVE), "sve");
    assert_null(adagrad_isa_name(ADAGRAD_ISA_COUNT));
    assert_null(adagrad_isa_name((adagrad_isa)(ADAGRAD_ISA_COUNT + 7)));
    assert_null(adagrad_isa_name((adagrad_isa)-1));
}

/* ---- the rows: every fact a row states is consistent, and true here ---- */
static int documented_fast_ulp(adagrad_isa isa)
{
    switch (isa) {
    case ADAGRAD_ISA_AVX2: return ADAGRAD_FAST_ULP_AVX2;
    case ADAGRAD_ISA_AVX512: return ADAGRAD_FAST_ULP_AVX512;
    case ADAGRAD_ISA_NEON: return ADAGRAD_FAST_ULP_NEON;
    case ADAGRAD_ISA_SVE: return ADAGRAD_FAST_ULP_SVE;
    default: return 0;
    }
}

static bool power_of_two(double x)
{
    int e;
    return x > 0.0 && frexp(x, &e) == 0.5;
}

/* Row k, which can run here, really runs: EXACT and FAST steps over more
 * elements than two of its vectors hold, with a tail, give the reference
 * element's s (contract.h), EXACT its θ, FAST its θ outside FAST's domain
 * and θ within the row's fast_ulp inside it, and write nothing past the
 * end. */
static void check_row_steps(const adagrad_kernels *k, unsigned lanes)
{
    const size_t n = 2 * (size_t)lanes + 3;
    float *p0 = malloc(n * sizeof *p0), *s0 = malloc(n * sizeof *s0), *g = malloc(n * sizeof *g);
    float *rp = malloc(n * sizeof *rp), *rs = malloc(n * sizeof *rs);
    assert_true(p0 && s0 && g && rp && rs);
    for (size_t i = 0; i < n; i++) {
        p0[i] = 0.25f * (float)((int)(i % 17) - 8);
        s0[i] = 0.5f * (float)(i % 11);
        g[i] = 0.125f * (float)(7 - (int)(i % 13));
    }
    for (unsigned fast = 0; fast <= ADAGRAD_FAST; fast += ADAGRAD_FAST) {
        const adagrad_options o = {.lr = 0.1f, .eps = 1e-10f, .weight_decay = 0.01f, .flags = fast};
        memcpy(rp, p0, n * sizeof *rp), memcpy(rs, s0, n * sizeof *rs);
        contract_ref_dense(&o, rp, rs, g, n);
        guarded p = guarded_alloc(n, 1), s = guarded_alloc(n, 2);
        memcpy(p.data, p0, n * sizeof *p0), memcpy(s.data, s0, n * sizeof *s0);
        const int st = adagrad_step_f32_with(k, p.data, s.data, g, n, &o);
        long where;
        const bool fenced = guarded_intact(&p, &where) && guarded_intact(&s, &where);
        long bad = -1;
        for (size_t j = 0; j < n && bad < 0; j++) {
            const bool estimates = fast && contract_fast_may_estimate(k->fast_eps_ratio, &o, s0[j], rs[j]);
            const contract_oracle orc = contract_oracle_step(&o, p0[j], s0[j], g[j]);
            if (!same_f32(s.data[j], rs[j]) ||
                (estimates ? !(contract_fast_error(p.data[j], &orc, p0[j], rp[j]) <= k->fast_ulp)
                           : !same_f32(p.data[j], rp[j])))
                bad = (long)j;
        }
        guarded_free(&p), guarded_free(&s);
        if (st != ADAGRAD_OK || !fenced || bad >= 0)
            fail_msg("row %s, %s, n = %zu: status %d, sentinels %s, element %ld differs from the reference", k->name,
                     fast ? "FAST" : "EXACT", n, st, fenced ? "intact" : "overwritten", bad);
    }
    free(p0), free(s0), free(g), free(rp), free(rs);
}

/* Row k's FAST facts are live, not labels. Each FAST variant (weight decay
 * off and on, ε outside and inside the root) steps elements of three
 * kinds, with θ_old = 0 so that every bit of the update shows in θ:
 *   typical   s_old in [2^-8, 2^8], inside FAST's domain;
 *   below     s_old = 0, g² just below the row's lo (contract_fast_lo:
 *             fast_eps_ratio·ε² with ε outside the root; with ε inside,
 *             lo = 2^-100 and t = g² + ε is typical too);
 *   above     g² in [lo, 2·lo).
 * Every element follows contract.h's rule (EXACT's bits outside the domain,
 * the row's fast_ulp inside it), and a row whose fast_ulp is not 0 must
 * give other bits than EXACT on some typical element of every variant (its
 * FAST kernels take estimates) and, outside the root, on some element just
 * above lo (the kernels' lower bound is the row's ratio, not above it; the
 * rule already holds them to EXACT below it). */
static void check_row_fast(const adagrad_kernels *k)
{
    enum { KIND = 1024, N = 3 * KIND };
    static float p[N], s[N], g[N], p0[N], s0[N];
    rng r = rng_for(suite_seed, "kernel_table/fast");
    for (unsigned variant = 0; variant < 4; variant++) {
        const adagrad_options o = {.lr = 0.01f, .eps = 0x1p-20f, .weight_decay = (variant & 1) ? 0.01f : 0.0f,
                                   .flags = ADAGRAD_FAST | ((variant & 2) ? ADAGRAD_EPS_INSIDE : 0u)};
        const double lo = contract_fast_lo(k->fast_eps_ratio, &o);
        for (size_t i = 0; i < N; i++) {
            const size_t kind = i / KIND;
            p0[i] = 0.0f;
            if (kind == 0) {
                s0[i] = rng_logu(&r, -8.0, 8.0, 0);
                g[i] = rng_logu(&r, -8.0, 2.0, 1);
            } else { /* g² in [lo/2, lo) or [lo, 2·lo) */
                s0[i] = 0.0f;
                g[i] = (float)sqrt(lo * (kind == 1 ? 0.5 : 1.0) * exp2(rng_unit(&r)));
            }
        }
        memcpy(p, p0, sizeof p), memcpy(s, s0, sizeof s);
        assert_int_equal(adagrad_step_f32_with(k, p, s, g, N, &o), ADAGRAD_OK);
        size_t differ[3] = {0, 0, 0};
        for (size_t i = 0; i < N; i++) {
            const contract_elem e = contract_ref_elem(&o, p0[i], s0[i], g[i]);
            const bool estimates = contract_fast_may_estimate(k->fast_eps_ratio, &o, s0[i], e.s);
            const contract_oracle orc = contract_oracle_step(&o, p0[i], s0[i], g[i]);
            if (!same_f32(s[i], e.s) ||
                (estimates ? !(contract_fast_error(p[i], &orc, p0[i], e.theta) <= k->fast_ulp)
                           : !same_f32(p[i], e.theta)))
                fail_msg("row %s, FAST flags 0x%x wd %g: element %zu (g %a, s %a): theta %a s %a, EXACT theta %a s %a, "
                         "%s",
                         k->name, o.flags, (double)o.weight_decay, i, (double)g[i], (double)s0[i], (double)p[i],
                         (double)s[i], (double)e.theta, (double)e.s,
                         estimates ? "beyond the row's bound" : "outside FAST's domain: must be EXACT's bits");
            differ[i / KIND] += !same_f32(p[i], e.theta);
        }
        const bool inside = (o.flags & ADAGRAD_EPS_INSIDE) != 0;
        if (k->fast_ulp != 0 && differ[0] == 0)
            fail_msg("row %s, FAST flags 0x%x wd %g: EXACT's bits on all %d typical elements: its FAST kernel takes "
                     "no estimates, yet its fast_ulp is %d",
                     k->name, o.flags, (double)o.weight_decay, KIND, k->fast_ulp);
        if (k->fast_ulp != 0 && !inside && differ[2] == 0)
            fail_msg("row %s, FAST wd %g: EXACT's bits on all %d elements with t in [lo, 2 lo), lo = %a: the "
                     "kernels' lower bound is above fast_eps_ratio %a times eps^2",
                     k->name, (double)o.weight_decay, KIND, lo, (double)k->fast_eps_ratio);
        if (inside) /* lo = 2^-100: all three kinds are typical */
            print_message("row %-10s FAST flags 0x%x wd %g: %zu of %d elements differ from EXACT\n", k->name, o.flags,
                          (double)o.weight_decay, differ[0] + differ[1] + differ[2], N);
        else
            print_message("row %-10s FAST flags 0x%x wd %g: %zu of %d typical, %zu below lo, %zu above lo differ from "
                          "EXACT\n",
                          k->name, o.flags, (double)o.weight_decay, differ[0], KIND, differ[1], differ[2]);
    }
}

void test_kernel_table(void **state)
{
    (void)state;
    const size_t lib = adagrad_impl_count(), all = adagrad_row_count();
    assert_true(lib >= 1 && lib <= ADAGRAD_ISA_COUNT);
    assert_true(all >= lib);
    assert_ptr_equal(adagrad_impl(0), &adagrad_kernels_scalar);
    assert_null(adagrad_impl(lib));
    assert_null(adagrad_impl(SIZE_MAX));
    assert_null(adagrad_row(all));
    assert_null(adagrad_row(SIZE_MAX));
    const uint32_t cpu = adagrad_cpu_flags();
    for (size_t i = 0; i < all; i++) {
        const adagrad_kernels *k = adagrad_row(i);
        assert_non_null(k);
        if (!k->name || !*k->name)
            fail_msg("row %zu has no name", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(adagrad_row(j)->name, k->name) == 0)
                fail_msg("rows %zu and %zu are both named \"%s\"", j, i, k->name);
        if (!adagrad_isa_name(k->isa))
            fail_msg("row %s: ISA %d out of range", k->name, (int)k->isa);
        for (unsigned v = 0; v < ADAGRAD_DENSE_VARIANTS; v++)
            if (!k->dense[v])
                fail_msg("row %s: no dense kernel for variant %u", k->name, v);
        for (unsigned v = 0; v < ADAGRAD_ROWWISE_VARIANTS; v++)
            if (!k->rowwise[v])
                fail_msg("row %s: no row-wise kernel for variant %u", k->name, v);
        assert_non_null(k->traffic);

        /* the library's table first, in its order (worst to best, one row
         * per ISA, named as the ISA), then the test-only rows */
        if (k->test_only != (i >= lib))
            fail_msg("row %s at %zu of %zu library rows: test_only %d", k->name, i, lib, (int)k->test_only);
        if (i < lib) {
            assert_ptr_equal(k, adagrad_impl(i));
            if (strcmp(k->name, adagrad_isa_name(k->isa)) != 0)
                fail_msg("table row %zu: name \"%s\" but ISA \"%s\"", i, k->name, adagrad_isa_name(k->isa));
            if (i > 0 && !(adagrad_impl(i - 1)->isa < k->isa))
                fail_msg("table not ordered worst to best at row %zu (%s)", i, k->name);
            /* dispatch falls back to scalar: it alone may need nothing */
            if ((k->isa == ADAGRAD_ISA_SCALAR) != (k->cpu_required == 0))
                fail_msg("row %s requires CPU features 0x%x", k->name, (unsigned)k->cpu_required);
        }
        if ((k->cpu_required != 0) != (k->why_not != NULL && *k->why_not))
            fail_msg("row %s requires 0x%x but says why not: %s", k->name, (unsigned)k->cpu_required,
                     k->why_not ? k->why_not : "(NULL)");

        /* FAST: adagrad.h's bound for the ISA; a bound of 0 means no
         * estimates (the plan then runs EXACT's kernels); otherwise a
         * ratio that is a power of two (ratio·ε² then is exact in double)
         * of at least 2^26 (adagrad.h: lo is raised to about 2^26·ε² or
         * more) */
        if (k->fast_ulp != documented_fast_ulp(k->isa))
            fail_msg("row %s: fast_ulp %d, adagrad.h documents %d", k->name, k->fast_ulp, documented_fast_ulp(k->isa));
        if ((k->fast_ulp == 0) != (k->fast_eps_ratio == 0.0f))
            fail_msg("row %s: fast_ulp %d, fast_eps_ratio %a", k->name, k->fast_ulp, (double)k->fast_eps_ratio);
        if (k->fast_eps_ratio != 0.0f && !(power_of_two(k->fast_eps_ratio) && k->fast_eps_ratio >= 0x1p26f))
            fail_msg("row %s: fast_eps_ratio %a", k->name, (double)k->fast_eps_ratio);

        /* the one answer to "can it run here", and its reason */
        const char *why = "(not set)";
        const bool ok = adagrad_row_runnable(k, &why);
        if (ok != ((cpu & k->cpu_required) == k->cpu_required))
            fail_msg("row %s: runnable %d, but it requires 0x%x of CPU features 0x%x", k->name, (int)ok,
                     (unsigned)k->cpu_required, (unsigned)cpu);
        if (ok ? why != NULL : why != k->why_not)
            fail_msg("row %s: runnable %d, why not \"%s\"", k->name, (int)ok, why ? why : "(NULL)");
        assert_int_equal(adagrad_row_runnable(k, NULL), ok);
        if (!k->test_only && ok != adagrad_isa_available(k->isa))
            fail_msg("row %s: runnable %d, adagrad_isa_available %d", k->name, (int)ok,
                     (int)adagrad_isa_available(k->isa));

        /* lanes: a fixed power of two, or SVE's run-time count, a whole
         * number of 128-bit granules up to 2048 bits */
        const unsigned lanes = adagrad_row_lanes(k);
        if (k->lanes ? (!power_of_two(k->lanes) || k->lanes_now || lanes != k->lanes) : !k->lanes_now)
            fail_msg("row %s: lanes %u, run-time count %s", k->name, k->lanes, k->lanes_now ? "set" : "NULL");
        if (!k->lanes && (ok ? lanes < 4 || lanes > 64 || lanes % 4 : lanes != 0))
            fail_msg("row %s (runnable %d): %u lanes at run time", k->name, (int)ok, lanes);

        print_message("row %-10s %s%s: %u lanes, FAST bound %d ulp, ratio %a%s%s\n", k->name,
                      k->test_only ? "test-only, " : "", ok ? "runnable" : "not runnable", lanes, k->fast_ulp,
                      (double)k->fast_eps_ratio, ok ? "" : ": ", ok ? "" : why);
        if (ok) {
            check_row_steps(k, lanes);
            check_row_fast(k);
        }
    }

    /* adagrad_use_isa selects library rows only */
    const adagrad_isa before = adagrad_active_isa();
    for (int isa = 0; isa < ADAGRAD_ISA_COUNT; isa++) {
        const int st = adagrad_use_isa((adagrad_isa)isa);
        if (adagrad_active_kernels()->test_only)
            fail_msg("after adagrad_use_isa(%s) = %d the active row is the test-only %s", adagrad_isa_name(isa), st,
                     adagrad_active_kernels()->name);
    }
    assert_int_equal(adagrad_use_isa(before), ADAGRAD_OK);
}

/* ---- CPU detection, against the compiler's own detection ---- */
void test_cpu_flags(void **state)
{
    (void)state;
    const uint32_t flags = adagrad_cpu_flags();
    uint32_t want = 0;
#if defined(__x86_64__) || defined(__i386__)
    /* libgcc checks CPUID and XGETBV (OS support of YMM/ZMM state) as well */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want |= ADAGRAD_CPU_AVX2;
    if ((want & ADAGRAD_CPU_AVX2) && __builtin_cpu_supports("avx512f"))
        want |= ADAGRAD_CPU_AVX512;
#elif defined(__aarch64__) && defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMD)
        want |= ADAGRAD_CPU_NEON;
    if (getauxval(AT_HWCAP) & HWCAP_SVE)
        want |= ADAGRAD_CPU_SVE;
#elif defined(__aarch64__)
    want |= ADAGRAD_CPU_NEON;
#endif
    print_message("cpu flags: 0x%x (expected 0x%x)%s%s%s%s\n", (unsigned)flags, (unsigned)want,
                  (flags & ADAGRAD_CPU_AVX2) ? " avx2" : "", (flags & ADAGRAD_CPU_AVX512) ? " avx512" : "",
                  (flags & ADAGRAD_CPU_NEON) ? " neon" : "", (flags & ADAGRAD_CPU_SVE) ? " sve" : "");
    assert_int_equal(flags, want);
}

static const adagrad_kernels *table_row(adagrad_isa isa)
{
    for (size_t i = 0; i < adagrad_impl_count(); i++)
        if (adagrad_impl(i)->isa == isa)
            return adagrad_impl(i);
    return NULL;
}

/* ---- adagrad_isa_available: compiled in and runnable, nothing else ---- */
void test_isa_available(void **state)
{
    (void)state;
    for (int i = 0; i < ADAGRAD_ISA_COUNT; i++) {
        const adagrad_isa isa = (adagrad_isa)i;
        const adagrad_kernels *k = table_row(isa);
        const char *why_not = "not compiled into this build";
        const bool want = k != NULL && adagrad_row_runnable(k, &why_not);
        print_message("isa %-7s available: %s%s%s\n", adagrad_isa_name(isa), adagrad_isa_available(isa) ? "yes" : "no",
                      want ? "" : ", ", want ? "" : why_not);
        if (adagrad_isa_available(isa) != want)
            fail_msg("adagrad_isa_available(%s) = %d, expected %d", adagrad_isa_name(isa),
                     (int)adagrad_isa_available(isa), (int)want);
    }
    assert_true(adagrad_isa_available(ADAGRAD_ISA_SCALAR));
    assert_false(adagrad_isa_available(ADAGRAD_ISA_COUNT));
    assert_false(adagrad_isa_available((adagrad_isa)(ADAGRAD_ISA_COUNT + 3)));
}

/* ---- SVE's vector length: the sve row's lanes are Linux's vector length
 * (prctl), and under the qemu setups ADAGRAD_TEST_EXPECT_SVE_BITS is the
 * length the setup asked for, 0 for a CPU model without SVE, where the sve
 * row must not run. The length is printed, so every setup's log says which
 * one it ran at. ---- */
void test_sve_length(void **state)
{
    (void)state;
    const adagrad_kernels *sve = table_row(ADAGRAD_ISA_SVE);
    const bool runs = sve != NULL && adagrad_row_runnable(sve, NULL);
    const unsigned bits = runs ? 32u * adagrad_row_lanes(sve) : 0u;
    print_message("sve vector length: %u bits (%s)\n", bits,
                  runs ? "the sve row runs" : sve ? "the sve row does not run here" : "no sve row in this build");
#if defined(__aarch64__) && defined(__linux__) && defined(PR_SVE_GET_VL)
    if (runs) {
        const int vl = prctl(PR_SVE_GET_VL);
        if (vl < 0 || 8u * (unsigned)(vl & PR_SVE_VL_LEN_MASK) != bits)
            fail_msg("prctl(PR_SVE_GET_VL) = %d (bytes), the sve row has %u bits", vl, bits);
    }
#endif
    const char *expect = getenv("ADAGRAD_TEST_EXPECT_SVE_BITS");
    if (expect && *expect) {
        char *end;
        const unsigned long want = strtoul(expect, &end, 0);
        if (*end)
            fail_msg("ADAGRAD_TEST_EXPECT_SVE_BITS=%s is not a number", expect);
        if (want == 0 ? runs : want != bits) {
            if (runs)
                fail_msg("ADAGRAD_TEST_EXPECT_SVE_BITS=%s, but the sve row runs at %u bits", expect, bits);
            fail_msg("ADAGRAD_TEST_EXPECT_SVE_BITS=%s, but the sve row does not run here", expect);
        }
    }
}

/* The best available row of the table (the last one the CPU supports). */
static adagrad_isa best_available(void)
{
    adagrad_isa best = ADAGRAD_ISA_SCALAR;
    for (size_t i = 0; i < adagrad_impl_count(); i++)
        if (adagrad_isa_available(adagrad_impl(i)->isa))
            best = adagrad_impl(i)->isa;
    return best;
}

/* ---- the ISA chosen at start-up: the best, or ADAGRAD_ISA's if available.
 * Under the qemu test setups ADAGRAD_TEST_EXPECT_BEST names the best the
 * emulated CPU model allows, and everything better must be unavailable. ---- */
void test_default_isa(void **state)
{
    (void)state;
    const adagrad_isa best = best_available();
    adagrad_isa want = best;
    const char *forced = getenv("ADAGRAD_ISA");
    if (forced && *forced)
        for (int i = 0; i < ADAGRAD_ISA_COUNT; i++)
            if (strcmp(forced, adagrad_isa_name((adagrad_isa)i)) == 0 && adagrad_isa_available((adagrad_isa)i))
                want = (adagrad_isa)i;
    print_message("start-up ISA: %s (best available: %s, ADAGRAD_ISA=%s)\n", adagrad_isa_name(suite_initial_isa),
                  adagrad_isa_name(best), forced ? forced : "(unset)");
    assert_string_equal(adagrad_isa_name(suite_initial_isa), adagrad_isa_name(want));

    const char *expect_best = getenv("ADAGRAD_TEST_EXPECT_BEST");
    if (expect_best && *expect_best) {
        assert_string_equal(adagrad_isa_name(best), expect_best);
        bool after = false;
        for (size_t i = 0; i < adagrad_impl_count(); i++) {
            const adagrad_isa isa = adagrad_impl(i)->isa;
            if (after && adagrad_isa_available(isa))
                fail_msg("%s is available although the CPU's best should be %s", adagrad_isa_name(isa), expect_best);
            if (strcmp(adagrad_isa_name(isa), expect_best) == 0)
                after = true;
        }
    }
}

/* ---- adagrad_use_isa: switches to every available ISA; refuses the others
 * (and out-of-range values) with ADAGRAD_ERR_ISA, changing nothing ---- */
void test_use_isa(void **state)
{
    (void)state;
    const adagrad_isa before = adagrad_active_isa();
    enum { N = 21 };
    float p0[N], s0[N], g[N];
    for (int i = 0; i < N; i++) {
        p0[i] = 0.25f * (float)(i - 10);
        s0[i] = 0.5f * (float)i;
        g[i] = 0.125f * (float)(7 - i);
    }
    const adagrad_options o = {.lr = 0.1f, .eps = 1e-10f, .weight_decay = 0.01f};
    float rp[N], rs[N];
    memcpy(rp, p0, sizeof rp), memcpy(rs, s0, sizeof rs);
    contract_ref_dense(&o, rp, rs, g, N);

    for (int i = 0; i < ADAGRAD_ISA_COUNT; i++) {
        const adagrad_isa isa = (adagrad_isa)i, was = adagrad_active_isa();
        const int status = adagrad_use_isa(isa);
        if (adagrad_isa_available(isa)) {
            assert_int_equal(status, ADAGRAD_OK);
            assert_int_equal(adagrad_active_isa(), isa);
            assert_ptr_equal(adagrad_active_kernels(), table_row(isa));
            guarded p = guarded_alloc(N, 1), s = guarded_alloc(N, 3);
            memcpy(p.data, p0, sizeof p0), memcpy(s.data, s0, sizeof s0);
            const int st = adagrad_step_f32(p.data, s.data, g, N, &o);
            long where;
            const bool fenced = guarded_intact(&p, &where) && guarded_intact(&s, &where);
            int bad = -1;
            for (int j = 0; j < N && bad < 0; j++)
                if (!same_f32(p.data[j], rp[j]) || !same_f32(s.data[j], rs[j]))
                    bad = j;
            guarded_free(&p), guarded_free(&s);
            if (st != ADAGRAD_OK || !fenced || bad >= 0)
                fail_msg("after adagrad_use_isa(%s): status %d, sentinels %s, element %d differs from the reference",
                         adagrad_isa_name(isa), st, fenced ? "intact" : "overwritten", bad);
        } else {
            assert_int_equal(status, ADAGRAD_ERR_ISA);
            assert_int_equal(adagrad_active_isa(), was);
        }
    }
    const adagrad_isa was = adagrad_active_isa();
    assert_int_equal(adagrad_use_isa(ADAGRAD_ISA_COUNT), ADAGRAD_ERR_ISA);
    assert_int_equal(adagrad_use_isa((adagrad_isa)(ADAGRAD_ISA_COUNT + 100)), ADAGRAD_ERR_ISA);
    assert_int_equal(adagrad_use_isa((adagrad_isa)-1), ADAGRAD_ERR_ISA);
    assert_int_equal(adagrad_active_isa(), was);
    assert_int_equal(adagrad_use_isa(before), ADAGRAD_OK);
    assert_int_equal(adagrad_active_isa(), before);
}
