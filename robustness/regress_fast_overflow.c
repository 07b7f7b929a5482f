/* libadagrad — regression test for a fuzzer finding, cmocka.
 * SPDX-License-Identifier: MIT
 *
 * fuzz/regress/fast-overflow-lr-flt-max: η = FLT_MAX, λ = 2^-123,
 * ε = 2^-149, θ = 0x756c6176 (≈ 3.4e32), s = g = 0, FAST. EXACT (and the
 * double formula) give θ = -0x1.ffffep+127: the update (−η·g)/d is within
 * an ulp of FLT_MAX, so an estimate of 1/d a few ulp off would push
 * (−η·g)·(1/d) past it, to −inf. FAST never computes such an update: its
 * domain (tests/contract.h, contract_fast_may_estimate) admits only calls
 * with η < 2^100 and elements whose accumulator is ≥ +0 before the step,
 * where |Δ| ≤ η(1 + 2^-20) stays far below FLT_MAX; every other call and
 * element takes the EXACT result.
 *
 * Checked here for every row the CPU runs (adagrad_row, test-only rows
 * included), over a grid of huge learning rates (1e30, below 2^100, runs
 * FAST; the others run EXACT), parameters, gradients and accumulators
 * (negative ones too, where g/d exceeds 1): FAST's θ is finite exactly when
 * EXACT's is, equals it bit for bit outside FAST's domain and wherever
 * EXACT's is not finite, and inside the domain is within the row's
 * fast_ulp (contract_fast_error).
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "adagrad.h"
#include "contract.h"
#include "dispatch.h"

static void check_row(const adagrad_kernels *k)
{
    static const float lrs[] = {FLT_MAX, 0x1p127f, 3e38f, 1e38f, 1e30f};
    static const float thetas[] = {0.0f, 0x1.d8c2ecp107f, -0x1.d8c2ecp107f, 0x1p120f, -0x1p126f, 0x1p127f,
                                   -FLT_MAX, 1.0f};
    static const float grads[] = {1.0f, -1.0f, 0x1p-20f, 1e10f, -3.5f, 0x1p-30f};
    static const float sums[] = {0.0f, 1e-30f, -0.25f, -0.999f, 2.0f};
    static const float epss[] = {0.0f, 0x1p-149f, 1e-10f};
    enum { N = sizeof thetas / sizeof thetas[0] * sizeof grads / sizeof grads[0] * sizeof sums / sizeof sums[0] };
    static float p0[N], s0[N], g[N], pe[N], se[N], pf[N], sf[N];
    size_t checked = 0, at_top = 0, in_domain = 0;
    for (size_t l = 0; l < sizeof lrs / sizeof lrs[0]; l++)
        for (size_t e = 0; e < sizeof epss / sizeof epss[0]; e++)
            for (unsigned flags = 0; flags < 4; flags++) { /* MAXIMIZE, EPS_INSIDE */
                size_t n = 0;
                for (size_t a = 0; a < sizeof thetas / sizeof thetas[0]; a++)
                    for (size_t b = 0; b < sizeof grads / sizeof grads[0]; b++)
                        for (size_t c = 0; c < sizeof sums / sizeof sums[0]; c++, n++) {
                            p0[n] = thetas[a];
                            g[n] = grads[b];
                            s0[n] = sums[c] * grads[b] * grads[b];
                        }
                /* the fuzzer's case itself: g comes from weight decay alone */
                for (float wd = 0.0f; wd <= 0x1p-123f; wd += 0x1p-123f) {
                    adagrad_options exact = {.lr = lrs[l], .eps = epss[e], .weight_decay = wd, .flags = flags};
                    adagrad_options fast = exact;
                    fast.flags |= ADAGRAD_FAST;
                    if (wd != 0.0f) {
                        memset(g, 0, sizeof g);
                        memset(s0, 0, sizeof s0);
                        p0[0] = f32_from_bits(0x756c6176);
                    }
                    memcpy(pe, p0, sizeof p0);
                    memcpy(se, s0, sizeof s0);
                    memcpy(pf, p0, sizeof p0);
                    memcpy(sf, s0, sizeof s0);
                    contract_ref_dense(&exact, pe, se, g, N);
                    assert_int_equal(adagrad_step_f32_with(k, pf, sf, g, N, &fast), ADAGRAD_OK);
                    for (size_t i = 0; i < N; i++) {
                        const bool estimates = contract_fast_may_estimate(k->fast_eps_ratio, &fast, s0[i], se[i]);
                        const contract_oracle o = contract_oracle_step(&fast, p0[i], s0[i], g[i]);
                        const double delta = (double)pe[i] - (double)p0[i];
                        checked++;
                        at_top += !isfinite(pe[i]) || fabs(delta) >= 0x1p127;
                        in_domain += estimates;
                        if (!same_f32(sf[i], se[i]) || isfinite(pf[i]) != isfinite(pe[i]) ||
                            (estimates ? !(contract_fast_error(pf[i], &o, p0[i], pe[i]) <= k->fast_ulp)
                                       : !same_f32(pf[i], pe[i])))
                            fail_msg("%s: lr=%a eps=%a wd=%a flags=%u theta=%a s=%a g=%a: FAST %a (0x%08x), "
                                     "EXACT %a (0x%08x)%s",
                                     k->name, (double)exact.lr, (double)exact.eps, (double)wd, flags,
                                     (double)p0[i], (double)s0[i], (double)g[i], (double)pf[i], f32_bits(pf[i]),
                                     (double)pe[i], f32_bits(pe[i]),
                                     estimates ? ", beyond the row's bound" : ", outside FAST's domain");
                    }
                }
            }
    print_message("%s: %zu elements, %zu with |update| >= 2^127 or non-finite, %zu in FAST's domain\n", k->name,
                  checked, at_top, in_domain);
}

static void fast_never_overflows_alone(void **state)
{
    (void)state;
    for (size_t i = 0; i < adagrad_row_count(); i++) {
        const adagrad_kernels *k = adagrad_row(i);
        const char *why_not;
        if (adagrad_row_runnable(k, &why_not))
            check_row(k);
        else
            print_message("%s: skipped: %s\n", k->name, why_not);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(fast_never_overflows_alone)};
    return cmocka_run_group_tests_name("regress_fast_overflow", tests, NULL, NULL);
}
