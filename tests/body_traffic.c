/* libadagrad tests — the roofline's traffic kernel, run once per row.
 * SPDX-License-Identifier: MIT
 *
 * The benchmarks and the report run traffic(param, sum, grad, n, 0) on a
 * step's own buffers, so mask 0 must keep every bit: of NaNs (payloads,
 * signalling ones) and infinities too, which is why the inputs are random
 * bit patterns with many all-ones exponents. With any other mask param and
 * sum must become param ^ (grad & mask) and sum ^ (grad & mask) bit for
 * bit: every element is loaded and stored, in its own place, and only the
 * masked bits move. Lengths go up to three of the widest vectors (SVE: 64
 * floats) + 2; at every length each buffer takes every misalignment from 0
 * to 15 floats, against the others at offsets that change with the length;
 * nothing outside the n floats may change.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "guarded.h"
#include "rng.h"
#include "suite.h"

#define WIDEST_SVE 64             /* floats in the widest SVE vector (2048 bits) */
#define NMAX (3 * WIDEST_SVE + 2) /* every length up to here */
#define MIS 16                    /* misalignments 0..15 floats: every offset in a 64-byte line */

/* Random bit patterns; one word in four gets an all-ones exponent (a NaN
 * with a random payload and sign, or an infinity). */
static void fill_bits(rng *r, uint32_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t x = rng_next(r);
        w[i] = (uint32_t)x | ((x >> 32) % 4 == 0 ? 0x7f800000u : 0u);
    }
}

/* Index of the first word of got[0..n) that differs from want, or n. */
static size_t first_diff(const float *got, const uint32_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, got + i, sizeof w);
        if (w != want[i])
            return i;
    }
    return n;
}

void body_traffic(void **state)
{
    const test_row *row = suite_row(state);
    static const uint32_t masks[] = {0u, 0xffffffffu, 0x80000000u, 0x007fffffu};
    rng r = rng_for(suite_seed, "traffic");
    uint32_t p0[NMAX + 1], s0[NMAX + 1], g0[NMAX + 1], want_p[NMAX + 1], want_s[NMAX + 1];
    for (size_t n = 0; n <= NMAX; n++) {
        for (size_t m = 0; m < MIS; m++) {
            /* m ↦ m + n and m ↦ 3m + n + n/16 (mod 16) are bijections, so at
             * each n every buffer takes every misalignment; over the lengths
             * each pair of buffers meets in all 16 × 16 misalignments. */
            const size_t mis[3] = {m, (m + n) % MIS, (3 * m + n + n / MIS) % MIS};
            guarded P = guarded_alloc(n, mis[0]), S = guarded_alloc(n, mis[1]), G = guarded_alloc(n, mis[2]);
            for (size_t k = 0; k < sizeof masks / sizeof masks[0]; k++) {
                const uint32_t mask = masks[k];
                fill_bits(&r, p0, n);
                fill_bits(&r, s0, n);
                fill_bits(&r, g0, n);
                for (size_t i = 0; i < n; i++) {
                    want_p[i] = p0[i] ^ (g0[i] & mask);
                    want_s[i] = s0[i] ^ (g0[i] & mask);
                }
                memcpy(P.data, p0, n * sizeof(float));
                memcpy(S.data, s0, n * sizeof(float));
                memcpy(G.data, g0, n * sizeof(float));
                row->k->traffic(P.data, S.data, G.data, n, mask);

                const struct {
                    const char *name;
                    const guarded *b;
                    const uint32_t *want;
                } out[3] = {{"param", &P, want_p}, {"sum", &S, want_s}, {"grad", &G, g0}};
                for (size_t j = 0; j < 3; j++) {
                    char what[96];
                    const size_t i = first_diff(out[j].b->data, out[j].want, n);
                    long where;
                    if (i < n) {
                        uint32_t got;
                        memcpy(&got, out[j].b->data + i, sizeof got);
                        snprintf(what, sizeof what, "element %zu is 0x%08x, expected 0x%08x", i, (unsigned)got,
                                 (unsigned)out[j].want[i]);
                    } else if (!guarded_intact(out[j].b, &where)) {
                        snprintf(what, sizeof what, "the sentinel at element %ld changed", where);
                    } else {
                        continue;
                    }
                    guarded_free(&P), guarded_free(&S), guarded_free(&G);
                    fail_msg("traffic/%s n=%zu misalignment %zu/%zu/%zu mask 0x%08x: %s: %s", row->name, n, mis[0],
                             mis[1], mis[2], (unsigned)mask, out[j].name, what);
                }
            }
            guarded_free(&P), guarded_free(&S), guarded_free(&G);
        }
    }
}
