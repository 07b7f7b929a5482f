/* libadagrad tests — the numerical bodies, each run once per row.
 * SPDX-License-Identifier: MIT
 *
 * Every body draws its inputs from its own stream (rng_for(seed, body)), so
 * each row sees exactly the same inputs (a row with wider vectors runs more
 * lengths, and sees the same inputs at the lengths it shares with the
 * others), and hands each step to check_step (check.c), which compares the
 * row with the contract's reference element (bitwise in EXACT) and double
 * oracle (ulp bounds; contract.h), and checks the sentinels.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "contract.h"
#include "guarded.h"
#include "rng.h"
#include "suite.h"

#define WIDEST_FIXED 16 /* floats in the widest fixed vector (AVX-512) */

/* The vector width the lengths and offsets of a body scale with: the row's
 * lanes (SVE's at the length it runs at), but at least WIDEST_FIXED, so
 * the scalar row and every narrower row get AVX-512's lengths and offsets. */
static size_t row_width(const test_row *row)
{
    const size_t lanes = adagrad_row_lanes(row->k);
    return lanes > WIDEST_FIXED ? lanes : WIDEST_FIXED;
}

static float *alloc_floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p)
        abort();
    return p;
}

/* Values a trainer sees: parameters around 1e-3..10, gradients 1e-6..10 with
 * some zeros, accumulators 1e-9..1e3 with some zeros (fresh state). */
static void fill_typical(rng *r, float *p, float *s, float *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = rng_logu(r, -10.0, 3.5, 1);
        g[i] = (rng_next(r) % 20 == 0) ? 0.0f : rng_logu(r, -20.0, 3.5, 1);
        s[i] = (rng_next(r) % 20 == 0) ? 0.0f : rng_logu(r, -30.0, 10.0, 0);
    }
}

/* ---- tails: every length from 0 to three vectors + 1 ---- */
void body_tails(void **state)
{
    const test_row *row = suite_row(state);
    const size_t w = row_width(row), max_n = 3 * w + 1;
    rng r = rng_for(suite_seed, "tails");
    float *p = alloc_floats(max_n), *s = alloc_floats(max_n), *g = alloc_floats(max_n);
    for (size_t n = 0; n <= max_n; n++) {
        fill_typical(&r, p, s, g, n);
        /* A row of WIDEST_FIXED runs every combination at every length. A
         * wider one has more lengths, each longer: it runs EXACT and FAST at
         * every length with one of the eight others (MAXIMIZE, EPS_INSIDE,
         * decay), which moves on by one per length and once more per vector,
         * so a tail length meets a different one in each vector. */
        const unsigned pick = (unsigned)((n + n / w) % 8);
        const unsigned others = (pick & 3u) | (pick & 4u) << 1; /* bits 0, 1 and 3 */
        for (unsigned combo = 0; combo < COMBOS; combo++) {
            if (w > WIDEST_FIXED && (combo & ~4u) != others)
                continue;
            const step_case c = {.what = "tails", .n = n, .opt = combo_options(combo, 0.01f, 1e-10f, 0.01f)};
            check_step(row, &c, p, s, g, NULL, NULL);
        }
    }
    free(p), free(s), free(g);
}

/* ---- misaligned: param, sum and grad each up to a vector off a 64-byte
 * boundary, at lengths around one to four vectors ---- */
void body_misaligned(void **state)
{
    const test_row *row = suite_row(state);
    const size_t w = row_width(row);
    const size_t lengths[] = {1, 5, 8, w - 1, w, w + 1, 2 * w - 1, 2 * w, 2 * w + 1, 3 * w - 1, 3 * w + 1, 4 * w + 3};
    const size_t max_n = 4 * w + 3;
    rng r = rng_for(suite_seed, "misaligned");
    float *p = alloc_floats(max_n), *s = alloc_floats(max_n), *g = alloc_floats(max_n);
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        const size_t n = lengths[li];
        fill_typical(&r, p, s, g, n);
        for (unsigned m = 0; m < 64; m++) {
            /* m's three base-4 digits, rotated one place per buffer: for each
             * buffer m ↦ its offset is a bijection of 0..63, so at 64 lanes
             * it takes every offset in a vector, and the offsets modulo 4
             * run through the whole 4 × 4 × 4 cube (at 16 lanes: 64 distinct
             * triples, every offset in a 64-byte line for each buffer). */
            const unsigned d0 = m & 3, d1 = (m >> 2) & 3, d2 = (m >> 4) & 3;
            const size_t mis[3] = {(d0 + 4 * d1 + 16 * d2) % w, (d1 + 4 * d2 + 16 * d0) % w,
                                   (d2 + 4 * d0 + 16 * d1) % w};
            for (unsigned fast = 0; fast < 2; fast++) {
                /* a row wider than WIDEST_FIXED has longer lengths: it runs
                 * each offset in one mode, EXACT and FAST swapping per length */
                if (w > WIDEST_FIXED && fast != (((m >> 1) ^ li) & 1))
                    continue;
                const unsigned combo = (fast ? 4u : 0u) | ((m & 1) ? 8u : 0u) | ((m >> 3) & 1u);
                const step_case c = {.what = "misaligned",
                                     .n = n,
                                     .mis = {mis[0], mis[1], mis[2]},
                                     .opt = combo_options(combo, 0.05f, 1e-10f, 0.1f)};
                check_step(row, &c, p, s, g, NULL, NULL);
            }
        }
    }
    free(p), free(s), free(g);
}

/* ---- flags: every flag combination × decay, over several η and ε; plus the
 * flags' meaning as identities that must hold bit for bit ---- */
void body_flags(void **state)
{
    const test_row *row = suite_row(state);
    static const float lrs[] = {0.0f, 1e-3f, 1.0f, 100.0f};
    static const float epss[] = {0.0f, 1e-10f, 0.1f, 1e30f}; /* 1e30 > 2^99: FAST runs EXACT */
    static const float wds[] = {0.01f, 2.0f};
    enum { N = 103 };
    rng r = rng_for(suite_seed, "flags");
    float p[N], s[N], g[N], neg_g[N];
    fill_typical(&r, p, s, g, N);
    for (size_t i = 0; i < N; i++)
        neg_g[i] = -g[i];
    for (unsigned combo = 0; combo < COMBOS; combo++)
        for (size_t li = 0; li < 4; li++)
            for (size_t ei = 0; ei < 4; ei++)
                for (size_t wi = 0; wi < ((combo & 8) ? 2u : 1u); wi++) {
                    const step_case c = {.what = "flags", .n = N, .opt = combo_options(combo, lrs[li], epss[ei], wds[wi])};
                    check_step(row, &c, p, s, g, NULL, NULL);
                }

    /* MAXIMIZE on g is the plain step on −g (identical bits, in EXACT and in
     * FAST); EPS_INSIDE with ε = 0 is the plain step with ε = 0 (identical
     * bits in EXACT; FAST computes the two differently: 1/√t against √t
     * then a reciprocal). */
    guarded ap = guarded_alloc(N, 1), as = guarded_alloc(N, 2), bp = guarded_alloc(N, 3), bs = guarded_alloc(N, 0);
    for (unsigned combo = 0; combo < COMBOS; combo++) {
        adagrad_options o = combo_options(combo, 0.1f, 1e-8f, 0.05f);
        o.flags &= ~ADAGRAD_MAXIMIZE;
        adagrad_options om = o;
        om.flags |= ADAGRAD_MAXIMIZE;
        adagrad_options oi = o, oo = o;
        oi.eps = oo.eps = 0.0f;
        oi.flags |= ADAGRAD_EPS_INSIDE;
        oo.flags &= ~ADAGRAD_EPS_INSIDE;
        for (int identity = 0; identity < 2; identity++) {
            if (identity == 1 && (o.flags & ADAGRAD_FAST))
                continue;
            memcpy(ap.data, p, sizeof p), memcpy(as.data, s, sizeof s);
            memcpy(bp.data, p, sizeof p), memcpy(bs.data, s, sizeof s);
            const int sa = adagrad_step_f32_with(row->k, ap.data, as.data, g, N, identity ? &oi : &om);
            const int sb = adagrad_step_f32_with(row->k, bp.data, bs.data, identity ? g : neg_g, N, identity ? &oo : &o);
            long where;
            const bool fenced = guarded_intact(&ap, &where) && guarded_intact(&as, &where) &&
                                guarded_intact(&bp, &where) && guarded_intact(&bs, &where);
            size_t bad = N;
            for (size_t i = 0; i < N && bad == N; i++)
                if (!same_f32(ap.data[i], bp.data[i]) || !same_f32(as.data[i], bs.data[i]))
                    bad = i;
            if (sa != ADAGRAD_OK || sb != ADAGRAD_OK || !fenced || bad != N) {
                guarded_free(&ap), guarded_free(&as), guarded_free(&bp), guarded_free(&bs);
                fail_msg("flags/%s combo %u: %s: status %d/%d, sentinels %s, first differing element %zu", row->name,
                         combo, identity ? "EPS_INSIDE with eps=0 != outside with eps=0" : "MAXIMIZE(g) != plain(-g)",
                         sa, sb, fenced ? "intact" : "overwritten", bad);
            }
        }
    }
    guarded_free(&ap), guarded_free(&as), guarded_free(&bp), guarded_free(&bs);
}

/* ---- magnitudes: from the smallest subnormal to 1e38 ---- */
void body_magnitudes(void **state)
{
    const test_row *row = suite_row(state);
    enum { N = 1031 };
    rng r = rng_for(suite_seed, "magnitudes");
    float *p = alloc_floats(N), *s = alloc_floats(N), *g = alloc_floats(N);
    static const float lrs[] = {1e-3f, 1e3f};
    static const float epss[] = {0.0f, 1e-10f};

    /* Wide: θ, g and s each anywhere in the binary32 range, independently
     * (overflow, underflow and 0/0 galore: mostly a bitwise test). */
    for (size_t i = 0; i < N; i++) {
        p[i] = rng_any_finite(&r);
        g[i] = rng_any_finite(&r);
        s[i] = fabsf(rng_any_finite(&r));
    }
    for (unsigned combo = 0; combo < COMBOS; combo++)
        for (size_t k = 0; k < 4; k++) {
            const step_case c = {.what = "magnitudes", .n = N, .opt = combo_options(combo, lrs[k & 1], epss[k >> 1], 1e-3f)};
            check_step(row, &c, p, s, g, NULL, NULL);
        }

    /* Banded: per element one scale 2^e, e in [-62, 62], for θ and g and
     * 2^2e for s, so the intermediates stay representable and the oracle
     * judges every magnitude (and s crosses FAST's [2^-100, 2^100] range). */
    for (size_t i = 0; i < N; i++) {
        const double e = -62.0 + 124.0 * rng_unit(&r);
        p[i] = rng_logu(&r, e - 2.0, e + 2.0, 1);
        g[i] = rng_logu(&r, e - 3.0, e + 1.0, 1);
        s[i] = rng_logu(&r, 2.0 * e - 4.0, 2.0 * e + 4.0, 0);
    }
    for (unsigned combo = 0; combo < COMBOS; combo++)
        for (size_t k = 0; k < 2; k++) {
            const step_case c = {.what = "magnitudes", .n = N, .opt = combo_options(combo, k ? 1.0f : 1e-2f, 0.0f, 0.5f)};
            check_step(row, &c, p, s, g, NULL, NULL);
        }

    /* Huge steps: η up to FLT_MAX, so that Δ = η·g/d lands around the top of
     * the range (|Δ| ≤ η, = η when s_old = 0): FAST must overflow exactly
     * where EXACT does. */
    static const float huge_lrs[] = {1e30f, 1e36f, 0x1p126f, 0x1.fffffep126f, 0x1p127f, FLT_MAX};
    for (size_t i = 0; i < N; i++) {
        p[i] = (i % 3 == 0) ? 0.0f : rng_logu(&r, 100.0, 128.0, 1);
        g[i] = rng_logu(&r, -3.0, 3.0, 1);
        s[i] = rng_logu(&r, -6.0, 6.0, 0);
    }
    for (size_t i = 0; i < 512; i++) { /* s = 0 or tiny: |Δ| within a few ulp of η */
        p[i] = (i & 1) ? 0.0f : -0x1p100f;
        g[i] = ldexpf((i & 2) ? 1.0f + (float)(i / 8) * 0x1p-23f : -1.0f - (float)(i / 8) * 0x1p-23f, (int)(i % 5) - 2);
        s[i] = (i & 4) ? 0.0f : g[i] * g[i] * 0x1p-30f;
    }
    for (unsigned combo = 0; combo < COMBOS; combo++)
        for (size_t k = 0; k < sizeof huge_lrs / sizeof huge_lrs[0]; k++) {
            const step_case c = {.what = "magnitudes", .n = N, .opt = combo_options(combo, huge_lrs[k], 1e-10f, 1e-3f)};
            check_step(row, &c, p, s, g, NULL, NULL);
        }
    free(p), free(s), free(g);
}

/* The special inputs: signed zeros, infinities, NaNs, subnormals, the
 * binary32 limits, and values on both sides of FAST's range [2^-100, 2^100]. */
static const float *special_values(size_t *count)
{
    static float v[24];
    size_t k = 0;
    v[k++] = 0.0f;
    v[k++] = -0.0f;
    v[k++] = INFINITY;
    v[k++] = -INFINITY;
    v[k++] = NAN;
    v[k++] = -NAN;
    v[k++] = f32_from_bits(0x7fa00001u); /* a signalling NaN */
    v[k++] = FLT_TRUE_MIN;
    v[k++] = -FLT_TRUE_MIN;
    v[k++] = 0x1p-140f;
    v[k++] = next_down(FLT_MIN); /* the largest subnormal */
    v[k++] = FLT_MIN;
    v[k++] = 1e-20f;
    v[k++] = next_down(0x1p-100f);
    v[k++] = 0x1p-100f;
    v[k++] = 1.0f;
    v[k++] = -1.0f;
    v[k++] = 3.5f;
    v[k++] = 0x1p100f;
    v[k++] = next_up(0x1p100f);
    v[k++] = 1e30f;
    v[k++] = FLT_MAX;
    v[k++] = -FLT_MAX;
    *count = k;
    return v;
}

/* ---- specials: every (θ, s, g) triple of special values ---- */
void body_specials(void **state)
{
    const test_row *row = suite_row(state);
    size_t nv;
    const float *v = special_values(&nv);
    const size_t n = nv * nv * nv;
    float *p = alloc_floats(n), *s = alloc_floats(n), *g = alloc_floats(n);
    size_t i = 0;
    for (size_t a = 0; a < nv; a++)
        for (size_t b = 0; b < nv; b++)
            for (size_t c = 0; c < nv; c++, i++)
                p[i] = v[a], s[i] = v[b], g[i] = v[c];
    static const float lrs[] = {0.0f, 0.01f};
    static const float epss[] = {0.0f, 1e-10f};
    for (unsigned combo = 0; combo < COMBOS; combo++)
        for (size_t k = 0; k < 4; k++) {
            const step_case c = {.what = "specials", .n = n, .opt = combo_options(combo, lrs[k & 1], epss[k >> 1], 0.25f)};
            check_step(row, &c, p, s, g, NULL, NULL);
        }
    free(p), free(s), free(g);
}

/* ---- lone specials: one special value in a vector of ordinary ones, at
 * several lanes and in the tail; FAST must fall back for that vector ---- */
void body_lone_specials(void **state)
{
    const test_row *row = suite_row(state);
    enum { N = 53 };
    static const size_t lanes[] = {0, 7, 15, 16, 31, 47, 48, 52};
    size_t nv;
    const float *v = special_values(&nv);
    rng r = rng_for(suite_seed, "lone_specials");
    float p0[N], s0[N], g0[N], p[N], s[N], g[N];
    fill_typical(&r, p0, s0, g0, N);
    for (size_t k = 0; k < nv; k++)
        for (unsigned field = 0; field < 3; field++)
            for (size_t li = 0; li < sizeof lanes / sizeof lanes[0]; li++) {
                memcpy(p, p0, sizeof p), memcpy(s, s0, sizeof s), memcpy(g, g0, sizeof g);
                float *target = field == 0 ? p : field == 1 ? s : g;
                target[lanes[li]] = v[k];
                const unsigned combo = 4u | (unsigned)((k + li) & 3) | (field == 0 ? 8u : 0u);
                const step_case c = {.what = "lone_specials", .n = N, .opt = combo_options(combo, 0.01f, (li & 1) ? 0.0f : 1e-10f, 0.01f)};
                check_step(row, &c, p, s, g, NULL, NULL);
                step_case e = c;
                e.opt.flags &= ~ADAGRAD_FAST;
                check_step(row, &e, p, s, g, NULL, NULL);
            }
}

/* ---- fast_lanes: an element's FAST result depends on that element only,
 * never on its neighbours (special or not) or on where the call starts
 * (adagrad.h; what lets a step split across threads) ---- */
void body_fast_lanes(void **state)
{
    const test_row *row = suite_row(state);
    enum { N = 83 };
    size_t nv;
    const float *v = special_values(&nv);
    rng r = rng_for(suite_seed, "fast_lanes");
    float p[N], s[N], g[N], full_p[N], full_s[N], part_p[N], part_s[N];
    fill_typical(&r, p, s, g, N);
    for (size_t i = 3, k = 0; i < N; i += 5, k++) { /* a special value every 5th element */
        float *target = k % 3 == 0 ? p : k % 3 == 1 ? s : g;
        target[i] = v[k % nv];
    }
    for (unsigned combo = 4; combo < COMBOS; combo++) {
        if (!(combo & 4))
            continue; /* FAST combinations only */
        step_case c = {.what = "fast_lanes", .n = N, .opt = combo_options(combo, 0.02f, 1e-10f, 0.01f)};
        check_step(row, &c, p, s, g, full_p, full_s);
        /* every start offset up to an AVX-512 vector and a bit, and every
         * element alone */
        for (size_t start = 1; start <= N; start++) {
            const bool alone = start > WIDEST_FIXED + 1;
            const size_t first = alone ? start - 1 : start;
            c.n = alone ? 1 : N - start;
            check_step(row, &c, p + first, s + first, g + first, part_p, part_s);
            for (size_t i = 0; i < c.n; i++)
                if (!same_f32(part_p[i], full_p[first + i]) || !same_f32(part_s[i], full_s[first + i]))
                    fail_msg("fast_lanes/%s flags=0x%x: element %zu gives %a/%a in a call over [%zu, %zu) but %a/%a "
                             "in the call over [0, %d)",
                             row->name, c.opt.flags, first + i, (double)part_p[i], (double)part_s[i], first,
                             first + c.n, (double)full_p[first + i], (double)full_s[first + i], N);
        }
    }
}

/* ---- sweep: many elements where the θ error peaks (|Δ| comparable to
 * |θ_old|, s_old from far below to above g·g), EXACT and FAST, so the
 * printed worst ulp is a measurement; ADAGRAD_TEST_SWEEP multiplies it ---- */
void body_sweep(void **state)
{
    const test_row *row = suite_row(state);
    const size_t n = 65536;
    rng r = rng_for(suite_seed, "sweep");
    float *p = alloc_floats(n), *s = alloc_floats(n), *g = alloc_floats(n);
    for (unsigned round = 0; round < suite_sweep_rounds; round++)
        for (unsigned combo = 0; combo < 8; combo++) {
            for (size_t i = 0; i < n; i++) {
                const double e = -20.0 + 30.0 * rng_unit(&r);
                g[i] = rng_logu(&r, e - 1.0, e + 1.0, 1);
                s[i] = rng_logu(&r, 2.0 * e - 8.0, 2.0 * e + 4.0, 0);
                p[i] = rng_logu(&r, -12.0, 2.0, 1);
            }
            const float lr = (float)(1e-3 * exp2(10.0 * rng_unit(&r)));
            for (unsigned fast = 0; fast < 2; fast++) {
                /* combo bit 0: ε = 1e-10, bit 1: decay 0.01, bit 2: EPS_INSIDE */
                adagrad_options o = {.lr = lr, .eps = (combo & 1) ? 1e-10f : 0.0f,
                                     .weight_decay = (combo & 2) ? 0.01f : 0.0f,
                                     .flags = ((combo & 4) ? ADAGRAD_EPS_INSIDE : 0u) | (fast ? ADAGRAD_FAST : 0u)};
                const step_case c = {.what = "sweep", .n = n, .opt = o};
                check_step(row, &c, p, s, g, NULL, NULL);
            }
        }
    free(p), free(s), free(g);
}

/* ---- fast_worst: hard inputs for an estimate-based FAST. Random searches
 * over elements of sweep's kind (ADAGRAD_TEST_SWEEP) find these as the
 * worst cases of a FAST built on a reciprocal estimate of d refined by
 * Newton–Raphson: 5 and 6 ulp of max(|θ_old|, |Δ|) against the double
 * formula rounded once, above the documented 4 (AVX2's estimates are the
 * CPU's own; AVX-512's rcp14/rsqrt14 are the same on every CPU). EXACT
 * gives 1 to 2 ulp on them. Every row's FAST must stay within its bound
 * here. ---- */
void body_fast_worst(void **state)
{
    const test_row *row = suite_row(state);
    static const struct {
        float theta, s, g, lr, eps, wd;
        const char *found; /* where, and the error it gave */
    } worst[] = {
        {-0x1.58791ep-12f, 0x1.aa40fp-19f, -0x1.7ef626p-10f, 0x1.6b095p-10f, 0.0f, 0x1.47ae14p-7f, "found on avx2: 5 ulp"},
        {0x1.c6763p-12f, 0x1.319552p-32f, -0x1.f9c844p-16f, 0x1.26f866p-2f, 0x1.b7cdfep-34f, 0x1.47ae14p-7f,
         "found on avx2: 5 ulp"},
        {0x1.9436cp-11f, 0x1.50bb28p-19f, -0x1.8816bap-10f, 0x1.65658ep-10f, 0x1.b7cdfep-34f, 0x1.47ae14p-7f,
         "found on avx512: 6 ulp"},
        {-0x1.c6975ap-5f, 0x1.b7c31ep-21f, 0x1.a6e00ap-9f, 0x1.fd4fb6p-5f, 0x1.b7cdfep-34f, 0x1.47ae14p-7f,
         "found on avx2: 6 ulp"},
    };
    /* Each case alone and in every lane of a vector + 1 (fenced buffers);
     * every case is measured and printed before the test fails. */
    const size_t N = row_width(row) + 1;
    const int bound = row->k->fast_ulp; /* 0: FAST must give EXACT's bits */
    int over = 0;
    for (size_t k = 0; k < sizeof worst / sizeof worst[0]; k++) {
        const adagrad_options o = {.lr = worst[k].lr, .eps = worst[k].eps, .weight_decay = worst[k].wd,
                                   .flags = ADAGRAD_FAST};
        const float ep = contract_ref_elem(&o, worst[k].theta, worst[k].s, worst[k].g).theta; /* EXACT */
        const contract_oracle orc = contract_oracle_step(&o, worst[k].theta, worst[k].s, worst[k].g);
        guarded P = guarded_alloc(N, 0), S = guarded_alloc(N, 0);
        float *g = alloc_floats(N);
        double err = 0.0, unrounded = 0.0;
        bool bitwise = true;
        for (size_t n = 1; n <= N; n += N - 1) {
            for (size_t i = 0; i < n; i++)
                P.data[i] = worst[k].theta, S.data[i] = worst[k].s, g[i] = worst[k].g;
            assert_int_equal(adagrad_step_f32_with(row->k, P.data, S.data, g, n, &o), ADAGRAD_OK);
            for (size_t i = 0; i < n; i++) {
                err = fmax(err, contract_theta_error(P.data[i], &orc, worst[k].theta));
                unrounded = fmax(unrounded, contract_theta_error_unrounded(P.data[i], &orc, worst[k].theta));
                bitwise = bitwise && same_f32(P.data[i], ep);
            }
        }
        long where;
        const bool fenced = guarded_intact(&P, &where) && guarded_intact(&S, &where);
        guarded_free(&P), guarded_free(&S), free(g);
        assert_true(fenced);
        const bool bad = bound == 0 ? !bitwise : err > bound;
        if (bound > 0)
            stats_note_theta(row, MODE_FAST, err, unrounded, worst[k].found);
        char limit[32] = "EXACT's bits";
        if (bound > 0)
            snprintf(limit, sizeof limit, "%d ulp", bound);
        print_message("fast_worst/%s: case %zu (%s): %.0f ulp (unrounded %.3f), bound %s%s\n", row->name, k,
                      worst[k].found, err, unrounded, limit, bad ? "  EXCEEDED" : "");
        over += bad;
    }
    if (over)
        fail_msg("fast_worst/%s: %d case(s) beyond the documented FAST bound (%d ulp)", row->name, over, bound);
}

/* ---- large: one large odd length, misaligned ---- */
void body_large(void **state)
{
    const test_row *row = suite_row(state);
    const size_t n = suite_large_n;
    rng r = rng_for(suite_seed, "large");
    float *p = alloc_floats(n), *s = alloc_floats(n), *g = alloc_floats(n);
    fill_typical(&r, p, s, g, n);
    static const unsigned combos[] = {0u | 8u | 1u, 4u | 8u, 4u | 2u};
    for (size_t k = 0; k < sizeof combos / sizeof combos[0]; k++) {
        const step_case c = {.what = "large", .n = n, .mis = {1, 2, 3}, .opt = combo_options(combos[k], 0.01f, 1e-10f, 1e-4f)};
        check_step(row, &c, p, s, g, NULL, NULL);
    }
    free(p), free(s), free(g);
}

/* ---- trajectory: hundreds of steps on a quadratic loss ----
 * Each step is checked from the row's own state (so the oracle's per-step
 * error does not accumulate); in EXACT, an independent trajectory of the
 * reference element (contract.h) must stay bitwise identical to the row's
 * the whole way. */
void body_trajectory(void **state)
{
    const test_row *row = suite_row(state);
    enum { N = 67 };
    rng r = rng_for(suite_seed, "trajectory");
    float target[N], curv[N], p0[N], s0[N];
    for (size_t i = 0; i < N; i++) {
        target[i] = rng_logu(&r, -8.0, 3.0, 1);
        curv[i] = rng_logu(&r, -12.0, 12.0, 0); /* ∂²f/∂θ²: very flat to very steep */
        p0[i] = rng_logu(&r, -8.0, 3.0, 1);
        s0[i] = 0.0f;
    }
    for (unsigned combo = 0; combo < COMBOS; combo++) {
        const int fast = (combo & 4) != 0;
        float p[N], s[N], sp[N], ss[N], g[N], sg[N];
        memcpy(p, p0, sizeof p), memcpy(s, s0, sizeof s), memcpy(sp, p0, sizeof sp), memcpy(ss, s0, sizeof ss);
        rng noise = rng_for(suite_seed, "trajectory/noise");
        for (unsigned step = 1; step <= suite_traj_steps; step++) {
            const float lr = (float)adagrad_decayed_lr(0.1, 1e-3, step);
            step_case c = {.what = "trajectory", .n = N, .opt = combo_options(combo, lr, 1e-10f, 1e-3f)};
            for (size_t i = 0; i < N; i++) {
                const float e = (float)(1e-3 * (rng_unit(&noise) - 0.5));
                g[i] = curv[i] * (p[i] - target[i]) + e;
                sg[i] = curv[i] * (sp[i] - target[i]) + e;
            }
            check_step(row, &c, p, s, g, p, s);
            if (!fast) {
                contract_ref_dense(&c.opt, sp, ss, sg, N);
                for (size_t i = 0; i < N; i++)
                    if (!same_f32(p[i], sp[i]) || !same_f32(s[i], ss[i]))
                        fail_msg("trajectory/%s combo %u: step %u element %zu: theta %a s %a, reference theta %a s %a",
                                 row->name, combo, step, i, (double)p[i], (double)s[i], (double)sp[i], (double)ss[i]);
            }
        }
    }
}
