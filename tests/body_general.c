/* libadagrad tests — the general API (adagrad_dense, adagrad_sparse), run
 * once per row.
 * SPDX-License-Identifier: MIT
 *
 * Through the hooks adagrad_step_with and adagrad_sparse_step_with, and
 * the public steps with the row switched on (a test-only row is reached
 * by the hooks alone):
 *   general_dense   every subset of ADAGRAD_DENSE_FLAGS × weight decay,
 *                   lengths around the row's lanes and the large odd one:
 *                   bitwise the v0.1 path (adagrad_step_f32_with) and, in
 *                   EXACT, tests/contract.h's reference element;
 *                   STOCHASTIC_ROUNDING, grad_type F32 and first_index change
 *                   no f32 bit
 *   general_sparse  element-wise and ROWWISE tables, I64 and I32 indices,
 *                   both duplicate semantics: bitwise the v0.1 path
 *                   (adagrad_sparse_with) and adagrad.h's table step built
 *                   here from contract.h's element and row-wise references
 *                   (and torch's rounding order); adagrad_sparse_workspace
 *   general_errors  every status of the general steps and their _mt forms,
 *                   one defect per case, every buffer byte unchanged; the
 *                   v0.1 table wrappers' flag rules
 * The v0.1 entry points wrap the general ones, so the v0.1 bodies never set
 * a descriptor field themselves; these bodies set every one.
 */
#include <float.h>
#include <math.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "guarded.h"
#include "rng.h"
#include "sparse.h"
#include "suite.h"

/* ---- helpers ---- */

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        abort();
    return p;
}

/* Switches the process to the row for the public entry points; false for a
 * test-only row. */
static bool use_row(const test_row *row)
{
    if (row->k->test_only)
        return false;
    assert_int_equal(adagrad_use_isa(row->k->isa), ADAGRAD_OK);
    return true;
}

static void fill(rng *r, float *x, size_t n, double lo, double hi, int sign)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rng_logu(r, lo, hi, sign);
}

static void expect_bits(const test_row *row, const char *what, const char *buf, const float *got,
                        const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!same_f32(got[i], want[i]))
            fail_msg("%s/%s: %s[%zu] = %a (0x%08x), expected %a (0x%08x)", what, row->name, buf, i,
                     (double)got[i], f32_bits(got[i]), (double)want[i], f32_bits(want[i]));
}

static void expect_fences(const test_row *row, const char *what, const guarded *a, const guarded *b)
{
    long where;
    if (!guarded_intact(a, &where) || !guarded_intact(b, &where))
        fail_msg("%s/%s: a sentinel at %ld was overwritten", what, row->name, where);
}

/* One element in torch's sparse rounding order (adagrad.h,
 * ADAGRAD_TORCH_SPARSE), which contract.h does not model: the contract's
 * gradient (steps 1-2, contract_elem.g), then s + fl(g·g), d = √s + ε or
 * √(s + ε), θ = fma(fl(g / d), −η, θ), one binary32 operation each. */
static void torch_element(const adagrad_options *o, float *theta, float *s, float grad)
{
    const float g = contract_ref_elem(o, *theta, *s, grad).g;
    const float sq = g * g;
    *s = *s + sq;
    float d;
    if (o->flags & ADAGRAD_EPS_INSIDE) {
        const float t = *s + o->eps;
        d = sqrtf(t);
    } else {
        const float root = sqrtf(*s);
        d = root + o->eps;
    }
    const float q = g / d;
    *theta = fmaf(q, -o->lr, *theta);
}

/* ---- general_dense ---- */

enum { VIA_WITH, VIA_STEP, VIA_STEP_MT, VIA_F32, VIA_F32_MT, DENSE_VIAS };
static const char *const dense_via_name[DENSE_VIAS] = {"adagrad_step_with", "adagrad_step", "adagrad_step_mt",
                                                       "adagrad_step_f32", "adagrad_step_f32_mt"};

static int dense_call(const test_row *row, int via, const adagrad_dense *t, const adagrad_options *o)
{
    switch (via) {
    case VIA_WITH: return adagrad_step_with(row->k, t, o);
    case VIA_STEP: return adagrad_step(t, o);
    case VIA_STEP_MT: return adagrad_step_mt(t, o, 0);
    case VIA_F32: return adagrad_step_f32(t->param, t->sum, t->grad, t->n, o);
    default: return adagrad_step_f32_mt(t->param, t->sum, t->grad, t->n, o, 0);
    }
}

/* Every flag subset × weight decay at one length: the v0.1 path (without
 * STOCHASTIC_ROUNDING) against the contract, then each entry point (with
 * the flags as given) against the v0.1 path; at the large length only the
 * hook and adagrad_step_mt (which splits it), to keep the body short. */
static void dense_length(const test_row *row, rng *r, size_t n, int vias)
{
    const bool large = n == suite_large_n;
    float *p0 = xmalloc(n * 4), *s0 = xmalloc(n * 4), *g = xmalloc(n * 4), *gc = xmalloc(n * 4);
    float *wp = xmalloc(n * 4), *ws = xmalloc(n * 4);
    fill(r, p0, n, -6, 2, 1);
    fill(r, g, n, -12, 3, 1);
    for (size_t i = 0; i < n; i++)
        s0[i] = (rng_next(r) & 3) ? rng_logu(r, -20, 2, 0) : 0.0f;
    static const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f}; /* NaN results too */
    for (size_t k = 0; n > 16 && k < 5; k++)
        g[rng_below(r, n)] = specials[k], p0[rng_below(r, n)] = specials[k];
    memcpy(gc, g, n * 4);
    for (unsigned combo = 0; combo < 32; combo++) {
        adagrad_options opt = {.lr = 0.05f, .eps = 1e-8f, .weight_decay = (combo & 16) ? 0.01f : 0.0f,
                               .seed = rng_next(r), .step = rng_next(r)};
        opt.flags = ((combo & 1) ? ADAGRAD_MAXIMIZE : 0u) | ((combo & 2) ? ADAGRAD_EPS_INSIDE : 0u) |
                    ((combo & 4) ? ADAGRAD_FAST : 0u) | ((combo & 8) ? ADAGRAD_STOCHASTIC_ROUNDING : 0u);
        adagrad_options plain = opt;
        plain.flags &= ~ADAGRAD_STOCHASTIC_ROUNDING;
        memcpy(wp, p0, n * 4);
        memcpy(ws, s0, n * 4);
        assert_int_equal(adagrad_step_f32_with(row->k, wp, ws, g, n, &plain), ADAGRAD_OK);
        /* FAST keeps EXACT's s; its θ is EXACT's where the row has no estimates */
        const bool exact_theta = !(opt.flags & ADAGRAD_FAST) || row->k->fast_ulp == 0;
        for (size_t i = 0; i < n; i++) {
            const contract_elem e = contract_ref_elem(&plain, p0[i], s0[i], g[i]);
            if (!same_f32(ws[i], e.s) || (exact_theta && !same_f32(wp[i], e.theta)))
                fail_msg("general_dense/%s: n %zu flags 0x%x wd %g: element %zu (theta %a, s %a, grad %a): "
                         "v0.1 gives theta %a s %a, the contract theta %a s %a",
                         row->name, n, plain.flags, (double)opt.weight_decay, i, (double)p0[i], (double)s0[i],
                         (double)g[i], (double)wp[i], (double)ws[i], (double)e.theta, (double)e.s);
        }
        for (int via = 0; via < vias; via++) {
            if (large && via != VIA_WITH && via != VIA_STEP_MT)
                continue;
            guarded pb = guarded_alloc(n, rng_below(r, GUARD_WORDS)), sb = guarded_alloc(n, rng_below(r, GUARD_WORDS));
            memcpy(pb.data, p0, n * 4);
            memcpy(sb.data, s0, n * 4);
            const adagrad_dense t = {.param = pb.data, .sum = sb.data, .grad = g, .n = n,
                                     .param_type = ADAGRAD_F32, .grad_type = ADAGRAD_F32,
                                     .first_index = ((combo + (unsigned)via) & 1) ? rng_next(r) : 0};
            char what[128];
            snprintf(what, sizeof what, "general_dense %s n %zu flags 0x%x wd %g first_index %llu",
                     dense_via_name[via], n, opt.flags, (double)opt.weight_decay, (unsigned long long)t.first_index);
            const int st = dense_call(row, via, &t, &opt);
            if (st != ADAGRAD_OK)
                fail_msg("%s/%s: status %d (%s)", what, row->name, st, adagrad_strerror(st));
            expect_fences(row, what, &pb, &sb);
            expect_bits(row, what, "param", pb.data, wp, n);
            expect_bits(row, what, "sum", sb.data, ws, n);
            if (memcmp(g, gc, n * 4) != 0)
                fail_msg("%s/%s: grad was written", what, row->name);
            guarded_free(&pb);
            guarded_free(&sb);
        }
    }
    free(p0), free(s0), free(g), free(gc), free(wp), free(ws);
}

void body_general_dense(void **state)
{
    const test_row *row = suite_row(state);
    rng r = rng_for(suite_seed, "general_dense");
    const size_t L = adagrad_row_lanes(row->k), W = L > 16 ? L : 16; /* W: at least AVX-512's width */
    const size_t lengths[] = {1, L, L + 1, 2 * L - 1, 2 * L + 1, 4 * W + 3, 8 * W - 1, suite_large_n};
    const bool pub = use_row(row);
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++)
        dense_length(row, &r, lengths[li], pub ? DENSE_VIAS : 1);
    if (pub)
        assert_int_equal(adagrad_use_isa(suite_initial_isa), ADAGRAD_OK);
}

/* ---- general_sparse ---- */

static void workspace_sizes(void)
{
    adagrad_sparse t = {.n_indices = 40, .dim = 7};
    adagrad_options o = {.flags = ADAGRAD_SPARSE_FLAGS & ~ADAGRAD_SUM_DUPLICATES};
    assert_int_equal(adagrad_sparse_workspace(&t, &o, 1), 0);
    o.flags = ADAGRAD_SUM_DUPLICATES;
    assert_int_equal(adagrad_sparse_workspace(&t, &o, 1), adagrad_sparse_workspace_bytes(40, 7));
    o.flags |= ADAGRAD_ROWWISE, t.n_indices = 0;
    assert_int_equal(adagrad_sparse_workspace(&t, &o, 1), adagrad_sparse_workspace_bytes(0, 7));
    assert_int_equal(adagrad_sparse_workspace(NULL, &o, 1), SIZE_MAX);
    assert_int_equal(adagrad_sparse_workspace(&t, NULL, 1), SIZE_MAX);
    t.n_indices = SIZE_MAX / 4;
    assert_int_equal(adagrad_sparse_workspace(&t, &o, 1), SIZE_MAX);
    t.n_indices = 1, t.dim = SIZE_MAX / 2;
    assert_int_equal(adagrad_sparse_workspace(&t, &o, 1), SIZE_MAX);
}

/* The table step as adagrad.h describes it: per occurrence in list order,
 * or per distinct row with its gradient rows summed in list order; each
 * row by contract.h's reference (contract_ref_dense, or
 * contract_ref_rowwise's canonical order when row-wise) or torch's order,
 * and in FAST by the row's own dense FAST step (an element's FAST result
 * depends on that element alone). */
static void table_ref(const test_row *row, const adagrad_options *o, float *t, float *a, size_t dim,
                      const int64_t *ix, size_t n, const float *g)
{
    const bool summed = o->flags & ADAGRAD_SUM_DUPLICATES, rowwise = o->flags & ADAGRAD_ROWWISE;
    adagrad_options dense = *o;
    dense.flags &= ADAGRAD_MAXIMIZE | ADAGRAD_EPS_INSIDE | ADAGRAD_FAST;
    float *acc = xmalloc(dim * 4);
    for (size_t k = 0; k < n; k++) {
        size_t first = 0;
        while (summed && ix[first] != ix[k])
            first++;
        if (summed && first < k)
            continue; /* summed into the row's first occurrence */
        memcpy(acc, g + k * dim, dim * 4);
        for (size_t e = k + 1; summed && e < n; e++)
            for (size_t j = 0; ix[e] == ix[k] && j < dim; j++)
                acc[j] = acc[j] + g[e * dim + j];
        float *theta = t + (size_t)ix[k] * dim, *s = a + (size_t)ix[k] * (rowwise ? 1 : dim);
        if (rowwise)
            contract_ref_rowwise(o, theta, s, acc, dim);
        else if (o->flags & ADAGRAD_FAST)
            assert_int_equal(adagrad_step_f32_with(row->k, theta, s, acc, dim, &dense), ADAGRAD_OK);
        else if (o->flags & ADAGRAD_TORCH_SPARSE)
            for (size_t j = 0; j < dim; j++)
                torch_element(o, theta + j, s + j, acc[j]);
        else
            contract_ref_dense(o, theta, s, acc, dim);
    }
    free(acc);
}

enum { S_ROWS = 11, S_N = 40 };

/* One table step (mode bit 0: row-wise, 1: int32 indices, 3: weight decay;
 * `flags` carry the rest) through the v0.1 path, the reference and each
 * general entry point. */
static void table_case(const test_row *row, rng *r, size_t dim, unsigned mode, unsigned flags, int vias)
{
    const bool rowwise = mode & 1, i32 = mode & 2;
    const size_t tlen = S_ROWS * dim, alen = rowwise ? S_ROWS : tlen, glen = S_N * dim;
    float *t0 = xmalloc(tlen * 4), *a0 = xmalloc(alen * 4), *g = xmalloc(glen * 4), *gc = xmalloc(glen * 4);
    float *wt = xmalloc(tlen * 4), *wa = xmalloc(alen * 4), *rt = xmalloc(tlen * 4), *ra = xmalloc(alen * 4);
    int64_t ix64[S_N];
    int32_t ix32[S_N];
    fill(r, t0, tlen, -4, 2, 1);
    fill(r, a0, alen, -8, 0, 0);
    fill(r, g, glen, -10, 2, 1);
    memcpy(gc, g, glen * 4);
    for (size_t k = 0; k < S_N; k++) /* many duplicates: half the list over the first 4 rows */
        ix64[k] = ix32[k] = (int32_t)((rng_next(r) & 1) ? rng_below(r, S_ROWS) : rng_below(r, 4));
    const void *ix = i32 ? (const void *)ix32 : (const void *)ix64;
    const adagrad_options opt = {.lr = 0.05f, .eps = 1e-6f, .weight_decay = (mode & 8) ? 0.01f : 0.0f,
                                 .flags = flags | (rowwise ? ADAGRAD_ROWWISE : 0u), .seed = rng_next(r),
                                 .step = rng_next(r)};
    adagrad_options v01 = opt; /* v0.1 says row-wise by its argument, and knows no stochastic rounding */
    v01.flags &= ~(ADAGRAD_ROWWISE | ADAGRAD_STOCHASTIC_ROUNDING);
    const size_t wsb = (flags & ADAGRAD_SUM_DUPLICATES) ? adagrad_sparse_workspace_bytes(S_N, dim) : 0;
    unsigned char *w = xmalloc(wsb);
    memcpy(wt, t0, tlen * 4), memcpy(rt, t0, tlen * 4);
    memcpy(wa, a0, alen * 4), memcpy(ra, a0, alen * 4);
    assert_int_equal(adagrad_sparse_with(row->k, rowwise, wt, wa, S_ROWS, dim, ix, i32, g, S_N, &v01, w, wsb),
                     ADAGRAD_OK);
    table_ref(row, &opt, rt, ra, dim, ix64, S_N, g);
    char what[128];
    snprintf(what, sizeof what, "general_sparse v0.1 path vs reference: dim %zu %s flags 0x%x wd %g", dim,
             i32 ? "I32" : "I64", opt.flags, (double)opt.weight_decay);
    expect_bits(row, what, "table", wt, rt, tlen);
    expect_bits(row, what, "sum", wa, ra, alen);
    for (int via = 0; via < vias; via++) {
        snprintf(what, sizeof what, "general_sparse %s dim %zu %s flags 0x%x wd %g",
                 via ? "adagrad_sparse_step" : "adagrad_sparse_step_with", dim, i32 ? "I32" : "I64", opt.flags,
                 (double)opt.weight_decay);
        guarded tb = guarded_alloc(tlen, rng_below(r, 4)), ab = guarded_alloc(alen, rng_below(r, 4));
        memcpy(tb.data, t0, tlen * 4);
        memcpy(ab.data, a0, alen * 4);
        adagrad_sparse t = {.table = tb.data, .sum = ab.data, .rows = S_ROWS, .dim = dim,
                            .table_type = ADAGRAD_F32, .indices = ix, .n_indices = S_N,
                            .index_type = i32 ? ADAGRAD_I32 : ADAGRAD_I64, .grads = g, .grad_type = ADAGRAD_F32};
        const size_t need = adagrad_sparse_workspace(&t, &opt, 1);
        if (need != wsb)
            fail_msg("%s/%s: adagrad_sparse_workspace %zu, expected %zu", what, row->name, need, wsb);
        for (size_t i = 0; i < wsb; i++) /* garbage in the workspace must not matter */
            w[i] = (unsigned char)rng_next(r);
        t.workspace = wsb ? w : NULL;
        t.workspace_bytes = wsb;
        const int st = via ? adagrad_sparse_step(&t, &opt) : adagrad_sparse_step_with(row->k, &t, &opt);
        if (st != ADAGRAD_OK)
            fail_msg("%s/%s: status %d (%s)", what, row->name, st, adagrad_strerror(st));
        expect_fences(row, what, &tb, &ab);
        expect_bits(row, what, "table", tb.data, wt, tlen);
        expect_bits(row, what, "sum", ab.data, wa, alen);
        if (memcmp(g, gc, glen * 4) != 0)
            fail_msg("%s/%s: grads were written", what, row->name);
        guarded_free(&tb);
        guarded_free(&ab);
    }
    free(t0), free(a0), free(g), free(gc), free(wt), free(wa), free(rt), free(ra), free(w);
}

void body_general_sparse(void **state)
{
    const test_row *row = suite_row(state);
    rng r = rng_for(suite_seed, "general_sparse");
    workspace_sizes();
    static const unsigned flag_sets[] = {
        0u, ADAGRAD_MAXIMIZE, ADAGRAD_EPS_INSIDE, ADAGRAD_FAST, ADAGRAD_FAST | ADAGRAD_EPS_INSIDE | ADAGRAD_MAXIMIZE,
        ADAGRAD_STOCHASTIC_ROUNDING, ADAGRAD_STOCHASTIC_ROUNDING | ADAGRAD_FAST, ADAGRAD_TORCH_SPARSE,
        ADAGRAD_TORCH_SPARSE | ADAGRAD_MAXIMIZE | ADAGRAD_EPS_INSIDE};
    const size_t L = adagrad_row_lanes(row->k);
    const size_t dims[] = {1, L, L + 1, 2 * L + 3, 100};
    const bool pub = use_row(row);
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (unsigned mode = 0; mode < 16; mode++) /* bit 2: SUM_DUPLICATES */
            for (size_t fi = 0; fi < sizeof flag_sets / sizeof flag_sets[0]; fi++) {
                if ((mode & 1) && (flag_sets[fi] & ADAGRAD_TORCH_SPARSE))
                    continue;
                const unsigned flags = flag_sets[fi] | ((mode & 4) ? ADAGRAD_SUM_DUPLICATES : 0u);
                table_case(row, &r, dims[di], mode, flags, pub ? 2 : 1);
            }
    if (pub)
        assert_int_equal(adagrad_use_isa(suite_initial_isa), ADAGRAD_OK);
}

/* ---- general_errors ---- */

enum { EN = 37, ER = 9, ED = 5, EK = 60 }; /* dense length; table rows, dim, indices */

/* Every buffer of the cases. After each call it is compared with `pool_copy`
 * (an error or a no-op must leave every byte) and restored from it. */
static struct pool {
    float d[3 * EN];                  /* dense: param | sum | grad, adjacent */
    float t[ER * ED], a[ER * ED];     /* table, accumulator */
    float g[EK * ED];                 /* gradient rows */
    int64_t i64[EK], o64[2];          /* indices; bag offsets {0, EK} */
    int32_t i32[EK], o32[2];
    float psw[EK];                    /* per-sample weights */
    alignas(8) unsigned char w[4096]; /* workspace */
} pool, pool_copy;

typedef struct ectx {
    const test_row *row;
    int via; /* 0: the row's hook; 1: the public step (or a v0.1 wrapper); 2: its _mt form */
    char kind[32];
} ectx;

static void settle(const ectx *c, const char *what, int want, int got, bool untouched)
{
    static const char *const via_name[] = {"_with(row)", "public", "_mt"};
    if (got != want)
        fail_msg("general_errors/%s %s %s: %s: status %d (%s), expected %d (%s)", c->row->name, c->kind,
                 via_name[c->via], what, got, adagrad_strerror(got), want, adagrad_strerror(want));
    if (untouched && memcmp(&pool, &pool_copy, sizeof pool) != 0)
        fail_msg("general_errors/%s %s %s: %s: returned %d but a buffer was written", c->row->name, c->kind,
                 via_name[c->via], what, got);
    memcpy(&pool, &pool_copy, sizeof pool);
}

static void dense_expect(const ectx *c, const char *what, int want, const adagrad_dense *t,
                         const adagrad_options *o)
{
    const int got = c->via == 0 ? adagrad_step_with(c->row->k, t, o)
                    : c->via == 1 ? adagrad_step(t, o) : adagrad_step_mt(t, o, 3);
    settle(c, what, want, got, want != ADAGRAD_OK || !t || t->n == 0);
}

/* adagrad_sparse_step_mt: every call that passes validation is ERR_PARAM. */
static void sparse_expect(const ectx *c, const char *what, int want, const adagrad_sparse *t,
                          const adagrad_options *o)
{
    if (c->via == 2 && want == ADAGRAD_OK)
        want = ADAGRAD_ERR_PARAM;
    const int got = c->via == 0 ? adagrad_sparse_step_with(c->row->k, t, o)
                    : c->via == 1 ? adagrad_sparse_step(t, o) : adagrad_sparse_step_mt(t, o, 3);
    settle(c, what, want, got, want != ADAGRAD_OK || !t || t->n_indices == 0 || t->dim == 0);
}

/* A copy of descriptor (options) b with some fields changed, in the local t
 * (o); a case's name formatted into the local `what`. */
#define T_WITH(b, ...) (t = (b), __VA_ARGS__, &t)
#define O_WITH(b, ...) (o = (b), __VA_ARGS__, &o)
#define WHAT(...) (snprintf(what, sizeof what, __VA_ARGS__), what)

static const float bad_hyper[] = {NAN, INFINITY, -INFINITY, -1.0f, -FLT_TRUE_MIN};
#define N_BAD (sizeof bad_hyper / sizeof bad_hyper[0])
static const adagrad_dtype no_f32[] = {ADAGRAD_BF16, ADAGRAD_F16, (adagrad_dtype)7}; /* 7: no dtype */

/* o's hyper-parameter f: lr, eps, weight_decay */
static float *hyper(adagrad_options *o, size_t f) { return f == 0 ? &o->lr : f == 1 ? &o->eps : &o->weight_decay; }

static void dense_cases(ectx *c)
{
    const adagrad_options ok = {.lr = 0.01f, .eps = 1e-10f, .weight_decay = 0.01f};
    float *const P = pool.d, *const S = pool.d + EN, *const G = pool.d + 2 * EN;
    const adagrad_dense d = {.param = P, .sum = S, .grad = G, .n = EN}, empty = {0};
    adagrad_dense t;
    adagrad_options o;
    char what[64];
    snprintf(c->kind, sizeof c->kind, "dense");
    dense_expect(c, "valid (adjacent buffers)", ADAGRAD_OK, &d, &ok);
    dense_expect(c, "t NULL", ADAGRAD_ERR_NULL, NULL, &ok);
    dense_expect(c, "t and opt NULL", ADAGRAD_ERR_NULL, NULL, NULL);
    dense_expect(c, "opt NULL", ADAGRAD_ERR_NULL, &d, NULL);
    dense_expect(c, "param NULL", ADAGRAD_ERR_NULL, T_WITH(d, t.param = NULL), &ok);
    dense_expect(c, "sum NULL", ADAGRAD_ERR_NULL, T_WITH(d, t.sum = NULL), &ok);
    dense_expect(c, "grad NULL", ADAGRAD_ERR_NULL, T_WITH(d, t.grad = NULL), &ok);
    for (size_t b = 0; b < 3 * N_BAD; b++)
        dense_expect(c, WHAT("hyper-parameter %zu = %g", b / N_BAD, (double)bad_hyper[b % N_BAD]), ADAGRAD_ERR_PARAM,
                     &d, O_WITH(ok, *hyper(&o, b / N_BAD) = bad_hyper[b % N_BAD]));
    for (unsigned b = 0; b < 32; b++) /* each bit alone: ROWWISE, SUM_DUPLICATES... are no dense flags */
        dense_expect(c, WHAT("flags 0x%x", 1u << b),
                     ((1u << b) & ~ADAGRAD_DENSE_FLAGS) ? ADAGRAD_ERR_PARAM : ADAGRAD_OK, &d,
                     O_WITH(ok, o.flags = 1u << b));
    dense_expect(c, "flags ADAGRAD_DENSE_FLAGS", ADAGRAD_OK, &d, O_WITH(ok, o.flags = ADAGRAD_DENSE_FLAGS));
    for (size_t k = 0; k < 3; k++) {
        const adagrad_dtype x = no_f32[k];
        dense_expect(c, WHAT("param_type = grad_type = %d", (int)x), ADAGRAD_ERR_PARAM,
                     T_WITH(d, t.param_type = t.grad_type = x), &ok);
        dense_expect(c, WHAT("param_type %d, grad_type F32", (int)x), ADAGRAD_ERR_PARAM, T_WITH(d, t.param_type = x),
                     &ok);
        dense_expect(c, WHAT("grad_type %d", (int)x), ADAGRAD_ERR_PARAM, T_WITH(d, t.grad_type = x), &ok);
        dense_expect(c, WHAT("n = 0, param_type %d", (int)x), ADAGRAD_ERR_PARAM, T_WITH(empty, t.param_type = x),
                     &ok);
        dense_expect(c, WHAT("n = 0, opt NULL, grad_type %d", (int)x), ADAGRAD_ERR_PARAM,
                     T_WITH(empty, t.grad_type = x), NULL);
    }
    dense_expect(c, "n = SIZE_MAX / 4 + 1", ADAGRAD_ERR_SIZE, T_WITH(d, t.n = SIZE_MAX / 4 + 1), &ok);
    dense_expect(c, "n = SIZE_MAX", ADAGRAD_ERR_SIZE, T_WITH(d, t.n = SIZE_MAX), &ok);
    dense_expect(c, "param wraps the address space", ADAGRAD_ERR_SIZE,
                 T_WITH(d, t.param = (void *)(uintptr_t)((UINTPTR_MAX - 64) & ~(uintptr_t)63)), &ok);
    dense_expect(c, "sum == param", ADAGRAD_ERR_OVERLAP, T_WITH(d, t.sum = P), &ok);
    dense_expect(c, "sum = param + 1", ADAGRAD_ERR_OVERLAP, T_WITH(d, t.sum = P + 1), &ok);
    dense_expect(c, "grad = sum + n - 1", ADAGRAD_ERR_OVERLAP, T_WITH(d, t.grad = S + EN - 1), &ok);
    dense_expect(c, "param = grad + 1", ADAGRAD_ERR_OVERLAP, T_WITH(d, t.param = G + 1), &ok);
    /* n = 0: a no-op whatever the pointers; t, opt (given) and the types are still checked */
    dense_expect(c, "n = 0, NULL buffers", ADAGRAD_OK, &empty, &ok);
    dense_expect(c, "n = 0, opt NULL", ADAGRAD_OK, &empty, NULL);
    dense_expect(c, "n = 0, aliased", ADAGRAD_OK, T_WITH(d, t.n = 0, t.sum = P, t.grad = P), &ok);
    dense_expect(c, "n = 0, lr NaN", ADAGRAD_ERR_PARAM, &empty, O_WITH(ok, o.lr = NAN));
    dense_expect(c, "n = 0, ROWWISE", ADAGRAD_ERR_PARAM, &empty, O_WITH(ok, o.flags = ADAGRAD_ROWWISE));
}

/* Sets index k of both index lists to v, in the pool and its copy. */
static void set_index(size_t k, int64_t v)
{
    pool.i64[k] = v, pool.i32[k] = (int32_t)v;
    memcpy(&pool_copy, &pool, sizeof pool);
}

static void sparse_cases(ectx *c, bool rowwise, bool i32)
{
    const adagrad_options ok = {.lr = 0.01f, .eps = 1e-10f, .weight_decay = 0.01f,
                                .flags = rowwise ? ADAGRAD_ROWWISE : 0u};
    adagrad_options o, sd = ok;
    sd.flags |= ADAGRAD_SUM_DUPLICATES;
    const adagrad_sparse base = {.table = pool.t, .sum = pool.a, .rows = ER, .dim = ED,
                                 .indices = i32 ? (const void *)pool.i32 : (const void *)pool.i64, .n_indices = EK,
                                 .index_type = i32 ? ADAGRAD_I32 : ADAGRAD_I64, .grads = pool.g};
    const adagrad_sparse empty = {.rows = ER, .dim = ED, .index_type = base.index_type};
    adagrad_sparse t, ws = base;
    ws.workspace = pool.w, ws.workspace_bytes = adagrad_sparse_workspace(&base, &sd, 1);
    assert_true(ws.workspace_bytes <= sizeof pool.w);
    char what[64];
    snprintf(c->kind, sizeof c->kind, "%s %s", rowwise ? "rowwise" : "sparse", i32 ? "I32" : "I64");
    sparse_expect(c, "valid", ADAGRAD_OK, &base, &ok);
    sparse_expect(c, "valid, SUM_DUPLICATES", ADAGRAD_OK, &ws, &sd);
    sparse_expect(c, "an unused workspace on the table", ADAGRAD_OK,
                  T_WITH(base, t.workspace = pool.t, t.workspace_bytes = 16), &ok);
    sparse_expect(c, "t NULL", ADAGRAD_ERR_NULL, NULL, &ok);
    sparse_expect(c, "opt NULL", ADAGRAD_ERR_NULL, &base, NULL);
    sparse_expect(c, "table NULL", ADAGRAD_ERR_NULL, T_WITH(base, t.table = NULL), &ok);
    sparse_expect(c, "sum NULL", ADAGRAD_ERR_NULL, T_WITH(base, t.sum = NULL), &ok);
    sparse_expect(c, "indices NULL", ADAGRAD_ERR_NULL, T_WITH(base, t.indices = NULL), &ok);
    sparse_expect(c, "grads NULL", ADAGRAD_ERR_NULL, T_WITH(base, t.grads = NULL), &ok);
    sparse_expect(c, "SUM_DUPLICATES, workspace NULL", ADAGRAD_ERR_NULL, T_WITH(ws, t.workspace = NULL), &sd);
    sparse_expect(c, "workspace one byte short", ADAGRAD_ERR_SIZE, T_WITH(ws, t.workspace_bytes--), &sd);
    sparse_expect(c, "workspace == table", ADAGRAD_ERR_OVERLAP, T_WITH(ws, t.workspace = pool.t), &sd);
    sparse_expect(c, "workspace overlaps sum", ADAGRAD_ERR_OVERLAP, T_WITH(ws, t.workspace = pool.a + 1), &sd);
    sparse_expect(c, "workspace overlaps the grads' end", ADAGRAD_ERR_OVERLAP,
                  T_WITH(ws, t.workspace = pool.g + EK * ED - 1), &sd);
    sparse_expect(c, "sum == table", ADAGRAD_ERR_OVERLAP, T_WITH(base, t.sum = pool.t), &ok);
    sparse_expect(c, "sum overlaps the table's end", ADAGRAD_ERR_OVERLAP,
                  T_WITH(base, t.sum = pool.t + ER * ED - 1), &ok);
    sparse_expect(c, "rows x dim overflows", ADAGRAD_ERR_SIZE, T_WITH(base, t.rows = SIZE_MAX / 2, t.dim = 4), &ok);
    sparse_expect(c, "n x dim overflows", ADAGRAD_ERR_SIZE, T_WITH(base, t.rows = 1, t.dim = SIZE_MAX / 8), &ok);
    for (size_t f = 0; f < 3; f++)
        sparse_expect(c, WHAT("hyper-parameter %zu = %g", f, (double)bad_hyper[f]), ADAGRAD_ERR_PARAM, &base,
                      O_WITH(ok, *hyper(&o, f) = bad_hyper[f]));
    for (unsigned b = 0; b < 32; b++)
        if (!((1u << b) & ADAGRAD_SPARSE_FLAGS))
            sparse_expect(c, WHAT("flags | 0x%x", 1u << b), ADAGRAD_ERR_PARAM, &base, O_WITH(ok, o.flags |= 1u << b));
    sparse_expect(c, "TORCH_SPARSE | FAST", ADAGRAD_ERR_PARAM, &base,
                  O_WITH(ok, o.flags |= ADAGRAD_TORCH_SPARSE | ADAGRAD_FAST));
    sparse_expect(c, "TORCH_SPARSE | ROWWISE", ADAGRAD_ERR_PARAM, &base,
                  O_WITH(ok, o.flags |= ADAGRAD_TORCH_SPARSE | ADAGRAD_ROWWISE));
    sparse_expect(c, "POOL_MEAN without offsets", ADAGRAD_ERR_PARAM, &base, O_WITH(ok, o.flags |= ADAGRAD_POOL_MEAN));
    for (size_t k = 0; k < 3; k++) {
        const adagrad_dtype x = no_f32[k];
        sparse_expect(c, WHAT("table_type = grad_type = %d", (int)x), ADAGRAD_ERR_PARAM,
                      T_WITH(base, t.table_type = t.grad_type = x), &ok);
        sparse_expect(c, WHAT("table_type %d, grad_type F32", (int)x), ADAGRAD_ERR_PARAM,
                      T_WITH(base, t.table_type = x), &ok);
        sparse_expect(c, WHAT("grad_type %d", (int)x), ADAGRAD_ERR_PARAM, T_WITH(base, t.grad_type = x), &ok);
        sparse_expect(c, WHAT("n = 0, table_type %d", (int)x), ADAGRAD_ERR_PARAM, T_WITH(empty, t.table_type = x),
                      &ok);
    }
    sparse_expect(c, "index_type 5", ADAGRAD_ERR_PARAM, T_WITH(base, t.index_type = (adagrad_itype)5), &ok);
    sparse_expect(c, "n = 0, index_type 5", ADAGRAD_ERR_PARAM, T_WITH(empty, t.index_type = (adagrad_itype)5), &ok);
    /* bags: not in this version, and their inputs need offsets */
    const void *off = i32 ? (const void *)pool.o32 : (const void *)pool.o64;
    sparse_expect(c, "offsets (one bag)", ADAGRAD_ERR_PARAM, T_WITH(base, t.offsets = off, t.n_bags = 1), &ok);
    sparse_expect(c, "n_bags without offsets", ADAGRAD_ERR_PARAM, T_WITH(base, t.n_bags = 1), &ok);
    sparse_expect(c, "per_sample_weights without offsets", ADAGRAD_ERR_PARAM,
                  T_WITH(base, t.per_sample_weights = pool.psw), &ok);
    /* ranges: one bad index at the start, the middle, the end */
    const int64_t bad[] = {-1, ER, INT32_MAX, i32 ? INT32_MIN : INT64_MIN};
    for (size_t b = 0; b < 4 * 3; b++) {
        const size_t at = (b % 3) * (EK - 1) / 2;
        const int64_t keep = pool.i64[at];
        set_index(at, bad[b / 3]);
        sparse_expect(c, WHAT("index %lld at %zu", (long long)bad[b / 3], at), ADAGRAD_ERR_RANGE, &base, &ok);
        sparse_expect(c, what, ADAGRAD_ERR_RANGE, &ws, &sd);
        set_index(at, keep);
    }
    sparse_expect(c, "rows = 0", ADAGRAD_ERR_RANGE, T_WITH(base, t.rows = 0), &ok);
    /* n_indices = 0 and dim = 0: no-ops; t, opt (given) and the types are still checked */
    sparse_expect(c, "n = 0, NULL buffers", ADAGRAD_OK, &empty, &ok);
    sparse_expect(c, "n = 0, opt NULL", ADAGRAD_OK, &empty, NULL);
    sparse_expect(c, "n = 0, eps < 0", ADAGRAD_ERR_PARAM, &empty, O_WITH(ok, o.eps = -1.0f));
    sparse_expect(c, "dim = 0", ADAGRAD_OK, T_WITH(base, t.dim = 0), &ok);
}

/* The v0.1 table wrappers: the name says the state, the flags may not. */
static int v01_table(int which, const adagrad_options *o)
{
    float *T = pool.t, *A = pool.a;
    const float *G = pool.g;
    const size_t wsb = adagrad_sparse_workspace_bytes(EK, ED);
    switch (which) {
    case 0: return adagrad_sparse_step_f32(T, A, ER, ED, pool.i64, G, EK, o);
    case 1: return adagrad_sparse_step_i32(T, A, ER, ED, pool.i32, G, EK, o);
    case 2: return adagrad_sparse_step_ws_f32(T, A, ER, ED, pool.i64, G, EK, o, pool.w, wsb);
    case 3: return adagrad_sparse_step_ws_i32(T, A, ER, ED, pool.i32, G, EK, o, pool.w, wsb);
    case 4: return adagrad_rowwise_step_f32(T, A, ER, ED, pool.i64, G, EK, o);
    case 5: return adagrad_rowwise_step_i32(T, A, ER, ED, pool.i32, G, EK, o);
    case 6: return adagrad_rowwise_step_ws_f32(T, A, ER, ED, pool.i64, G, EK, o, pool.w, wsb);
    default: return adagrad_rowwise_step_ws_i32(T, A, ER, ED, pool.i32, G, EK, o, pool.w, wsb);
    }
}

static void v01_cases(ectx *c)
{
    static const unsigned flags[3] = {0u, ADAGRAD_ROWWISE, ADAGRAD_POOL_MEAN};
    static const char *const flag_name[3] = {"valid", "ROWWISE", "POOL_MEAN"};
    c->via = 1;
    for (int which = 0; which < 8; which++)
        for (int f = 0; f < 3; f++) {
            const adagrad_options o = {.lr = 0.01f, .eps = 1e-10f, .flags = flags[f]};
            snprintf(c->kind, sizeof c->kind, "v0.1 %s%s%s", which < 4 ? "sparse" : "rowwise",
                     (which & 2) ? " ws" : "", (which & 1) ? " i32" : " i64");
            settle(c, flag_name[f], f ? ADAGRAD_ERR_PARAM : ADAGRAD_OK, v01_table(which, &o), f != 0);
        }
}

void body_general_errors(void **state)
{
    ectx c = {.row = suite_row(state)};
    rng r = rng_for(suite_seed, "general_errors");
    memset(&pool, 0x5a, sizeof pool);
    fill(&r, pool.d, 3 * EN, -8, 2, 1);
    fill(&r, pool.t, ER * ED, -4, 2, 1);
    fill(&r, pool.a, ER * ED, -8, 0, 0);
    fill(&r, pool.g, EK * ED, -8, 2, 1);
    fill(&r, pool.psw, EK, -2, 0, 0);
    for (size_t k = 0; k < EK; k++)
        pool.i64[k] = pool.i32[k] = (int32_t)rng_below(&r, ER);
    pool.o64[1] = pool.o32[1] = EK, pool.o64[0] = pool.o32[0] = 0;
    memcpy(&pool_copy, &pool, sizeof pool);
    const bool pub = use_row(c.row);
    for (c.via = 0; c.via < (pub ? 3 : 1); c.via++) {
        dense_cases(&c);
        for (int m = 0; m < 4; m++)
            sparse_cases(&c, m & 1, m & 2);
    }
    if (pub) {
        v01_cases(&c);
        assert_int_equal(adagrad_use_isa(suite_initial_isa), ADAGRAD_OK);
    }
}
