/* libadagrad tests — the SVE row at the vector length this process runs at.
 * SPDX-License-Identifier: MIT
 *
 * Built for AArch64 only, and only this file with -march=armv8-a+sve (it
 * calls svcntw() only after getauxval reports SVE). It prints the vector
 * length, so every qemu setup's log says which length it ran at, and:
 *   - ADAGRAD_TEST_EXPECT_SVE_BITS, when set, is the length the setup asked
 *     qemu for (0: a CPU model without SVE); it must be the real one;
 *   - at that length, every n from 0 to three vectors + 2 (the shared
 *     suite's tails stop at 49 elements: less than one 2048-bit vector),
 *     the sve row's EXACT must give the scalar row's bits and its FAST the
 *     neon row's bits (the same FRSQRTE/FRSQRTS and fused operations, lane
 *     for lane), with nothing written past n.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arm_sve.h>
#include <asm/hwcap.h>
#include <sys/auxv.h>

#include "dispatch.h"
#include "ulp.h"

static const adagrad_kernels *row(adagrad_isa isa)
{
    for (size_t i = 0; i < adagrad_impl_count(); i++)
        if (adagrad_impl(i)->isa == isa)
            return adagrad_impl(i);
    return NULL;
}

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);
static uint32_t next(void)
{
    rng_state = rng_state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (uint32_t)(rng_state >> 32);
}

/* A value of random sign and magnitude 2^lo .. 2^hi, now and then a special. */
static float value(int lo, int hi, bool positive)
{
    static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 0x1p-149f, 0x1p-126f};
    if (next() % 23 == 0)
        return specials[next() % 7];
    const float m = 1.0f + (float)(next() >> 9) * 0x1p-23f;
    const float x = ldexpf(m, lo + (int)(next() % (unsigned)(hi - lo + 1)));
    return positive || (next() & 1) ? x : -x;
}

#define SENTINEL 0x1.2345p+77f
#define SLACK 8

int main(void)
{
    const char *expect = getenv("ADAGRAD_TEST_EXPECT_SVE_BITS");
    const bool has_sve = (getauxval(AT_HWCAP) & HWCAP_SVE) != 0;
    const unsigned bits = has_sve ? (unsigned)svcntw() * 32u : 0u;
    if (has_sve)
        printf("SVE vector length: %u bits (%u floats); active ISA %s\n", bits, bits / 32u,
               adagrad_isa_name(adagrad_active_isa()));
    else
        printf("no SVE (HWCAP_SVE clear); active ISA %s\n", adagrad_isa_name(adagrad_active_isa()));
    int failures = 0;
    if (expect && *expect && strtoul(expect, NULL, 0) != bits) {
        printf("FAIL: ADAGRAD_TEST_EXPECT_SVE_BITS=%s, but the vector length is %u bits\n", expect, bits);
        failures++;
    }
    const adagrad_kernels *sve = row(ADAGRAD_ISA_SVE), *neon = row(ADAGRAD_ISA_NEON),
                          *scalar = row(ADAGRAD_ISA_SCALAR);
    if (!has_sve || !sve || !neon || !adagrad_isa_available(ADAGRAD_ISA_SVE)) {
        printf("%s: the sve row is not run here\n", failures ? "FAILED" : "ok");
        return failures ? 1 : 0;
    }

    const size_t lanes = bits / 32u, max_n = 3 * lanes + 2;
    float *p0 = malloc((max_n + SLACK) * sizeof(float)), *s0 = malloc((max_n + SLACK) * sizeof(float));
    float *g = malloc((max_n + SLACK) * sizeof(float));
    float *pa = malloc((max_n + SLACK) * sizeof(float)), *sa = malloc((max_n + SLACK) * sizeof(float));
    float *pb = malloc((max_n + SLACK) * sizeof(float)), *sb = malloc((max_n + SLACK) * sizeof(float));
    if (!p0 || !s0 || !g || !pa || !sa || !pb || !sb)
        return 2;
    size_t checked = 0;
    for (unsigned flags = 0; flags < 8; flags++) /* MAXIMIZE, EPS_INSIDE, FAST */
        for (size_t n = 0; n <= max_n; n++) {
            for (size_t i = 0; i < max_n + SLACK; i++) {
                p0[i] = value(-20, 20, false);
                s0[i] = value(-60, 40, true);
                g[i] = value(-30, 10, false);
            }
            const adagrad_options o = {.lr = 0.01f, .eps = (n % 3) ? 1e-10f : 0.0f,
                                       .weight_decay = (n & 1) ? 0.01f : 0.0f, .flags = flags};
            const adagrad_kernels *ref = (flags & ADAGRAD_FAST) ? neon : scalar;
            for (size_t i = 0; i < max_n + SLACK; i++) {
                pa[i] = pb[i] = i < n ? p0[i] : SENTINEL;
                sa[i] = sb[i] = i < n ? s0[i] : SENTINEL;
            }
            if (adagrad_step_f32_with(ref, pa, sa, g, n, &o) != ADAGRAD_OK ||
                adagrad_step_f32_with(sve, pb, sb, g, n, &o) != ADAGRAD_OK) {
                printf("FAIL: a step was refused (flags 0x%x, n %zu)\n", flags, n);
                return 1;
            }
            for (size_t i = 0; i < max_n + SLACK; i++)
                if (!same_f32(pa[i], pb[i]) || !same_f32(sa[i], sb[i])) {
                    if (failures++ < 10)
                        printf("FAIL: flags 0x%x n %zu element %zu: sve %a/%a, %s %a/%a%s\n", flags, n, i,
                               (double)pb[i], (double)sb[i], ref->name, (double)pa[i], (double)sa[i],
                               i >= n ? " (past the end)" : "");
                }
            checked += n;
        }
    printf("%zu elements, every n from 0 to %zu: sve EXACT == scalar, sve FAST == neon FAST, bit for bit%s\n",
           checked, max_n, failures ? ": FAILED" : "");
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
