/* libadagrad tests — the sparse and row-wise steps (embedding tables), run
 * once per row.
 * SPDX-License-Identifier: MIT
 *
 *   sparse_dense       sparse EXACT == the contract's reference element
 *                      (contract.h) applied row by row, bitwise (duplicates
 *                      in order); FAST == the row's own dense FAST row by
 *                      row, and on rows named once EXACT's bits outside
 *                      FAST's domain, within the row's fast_ulp inside it
 *   sparse_duplicates  both duplicate semantics, sparse and row-wise,
 *                      against references built here
 *   rowwise            bitwise against the canonical order of adagrad.h
 *                      (contract_ref_rowwise), and within contract.h's
 *                      bound of the double formula; FAST gives EXACT's bits
 *   sparse_errors      every bad input: its status, and every byte of
 *                      every buffer (workspace included) untouched
 * Each runs the int64 and the int32 entry points, through the row
 * (adagrad_sparse_with) and, for rows of the kernel table, the public API.
 * Tables and accumulators live in fenced buffers (guarded.h).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "contract.h"
#include "guarded.h"
#include "rng.h"
#include "sparse.h"
#include "suite.h"

/* ---- helpers ---- */

typedef struct idx_list {
    int64_t *i64;
    int32_t *i32;
    size_t n;
} idx_list;

static idx_list idx_make(size_t n)
{
    idx_list l = {malloc((n ? n : 1) * sizeof(int64_t)), malloc((n ? n : 1) * sizeof(int32_t)), n};
    if (!l.i64 || !l.i32)
        abort();
    return l;
}

static void idx_set(idx_list *l, size_t k, int64_t v)
{
    l->i64[k] = v;
    l->i32[k] = (int32_t)v;
}

static void idx_free(idx_list *l)
{
    free(l->i64);
    free(l->i32);
}

/* One call through the row, or through the public API (the row switched on). */
static int call(const test_row *row, bool public_api, bool rowwise, bool i32, float *table, float *acc, size_t rows,
                size_t dim, const idx_list *ix, const float *grads, const adagrad_options *opt, void *ws,
                size_t wsb)
{
    if (!public_api)
        return adagrad_sparse_with(row->k, rowwise, table, acc, rows, dim, i32 ? (const void *)ix->i32 : ix->i64,
                                   i32, grads, ix->n, opt, ws, wsb);
    if (rowwise)
        return i32 ? adagrad_rowwise_step_ws_i32(table, acc, rows, dim, ix->i32, grads, ix->n, opt, ws, wsb)
                   : adagrad_rowwise_step_ws_f32(table, acc, rows, dim, ix->i64, grads, ix->n, opt, ws, wsb);
    return i32 ? adagrad_sparse_step_ws_i32(table, acc, rows, dim, ix->i32, grads, ix->n, opt, ws, wsb)
               : adagrad_sparse_step_ws_f32(table, acc, rows, dim, ix->i64, grads, ix->n, opt, ws, wsb);
}

static void fill(rng *r, float *x, size_t n, double lo, double hi, int sign)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rng_logu(r, lo, hi, sign);
}

static void check_fences(const test_row *row, const char *what, const guarded *t, const guarded *a)
{
    long where;
    if (!guarded_intact(t, &where))
        fail_msg("%s/%s: table sentinel at %ld overwritten", what, row->name, where);
    if (!guarded_intact(a, &where))
        fail_msg("%s/%s: accumulator sentinel at %ld overwritten", what, row->name, where);
}

static void expect_same(const test_row *row, const char *what, const char *buf, const float *got,
                        const float *want, size_t n, size_t dim)
{
    for (size_t i = 0; i < n; i++)
        if (!same_f32(got[i], want[i]))
            fail_msg("%s/%s: %s[row %zu, col %zu] = %a (0x%08x), expected %a (0x%08x)", what, row->name, buf,
                     i / dim, i % dim, (double)got[i], f32_bits(got[i]), (double)want[i], f32_bits(want[i]));
}

static const unsigned flag_sets[] = {0u,
                                     ADAGRAD_MAXIMIZE,
                                     ADAGRAD_EPS_INSIDE,
                                     ADAGRAD_FAST,
                                     ADAGRAD_FAST | ADAGRAD_EPS_INSIDE,
                                     ADAGRAD_FAST | ADAGRAD_MAXIMIZE};
#define NFLAGS (sizeof flag_sets / sizeof flag_sets[0])

static const size_t dims[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 100, 129};
#define NDIMS (sizeof dims / sizeof dims[0])

static adagrad_options make_opt(unsigned flags, bool wd)
{
    return (adagrad_options){.lr = 0.05f, .eps = 1e-6f, .weight_decay = wd ? 0.01f : 0.0f, .flags = flags};
}

/* ---- sparse_dense ---- */

void body_sparse_dense(void **state)
{
    const test_row *row = suite_row(state);
    rng r = rng_for(suite_seed, "sparse_dense");
    const size_t rows = 23, n = 41;
    double worst_fast = 0.0;
    size_t checked = 0;
    for (size_t di = 0; di < NDIMS; di++) {
        const size_t dim = dims[di];
        for (size_t fi = 0; fi < NFLAGS * 2; fi++) {
            const adagrad_options opt = make_opt(flag_sets[fi / 2], fi & 1);
            const bool fast = (opt.flags & ADAGRAD_FAST) != 0;
            for (int via = 0; via < (row->k->test_only ? 2 : 4); via++) {
                const bool i32 = via & 1, pub = via >= 2;
                float *t0 = malloc(rows * dim * sizeof(float)), *s0 = malloc(rows * dim * sizeof(float));
                float *g = malloc(n * dim * sizeof(float)), *g_copy = malloc(n * dim * sizeof(float));
                float *rt = malloc(rows * dim * sizeof(float)), *rs = malloc(rows * dim * sizeof(float));
                unsigned *count = calloc(rows, sizeof(unsigned));
                if (!t0 || !s0 || !g || !g_copy || !rt || !rs || !count)
                    abort();
                fill(&r, t0, rows * dim, -6, 2, 1);
                for (size_t i = 0; i < rows * dim; i++)
                    s0[i] = (rng_next(&r) & 3) ? rng_logu(&r, -20, 2, 0) : 0.0f;
                fill(&r, g, n * dim, -12, 3, 1);
                memcpy(g_copy, g, n * dim * sizeof(float));
                idx_list ix = idx_make(n);
                for (size_t k = 0; k < n; k++) /* many duplicates: 41 indices over 23 rows, biased low */
                    idx_set(&ix, k, (int64_t)((rng_next(&r) & 1) ? rng_below(&r, rows) : rng_below(&r, 5)));
                for (size_t k = 0; k < n; k++)
                    count[ix.i64[k]]++;

                guarded tb = guarded_alloc(rows * dim, rng_below(&r, 4)), sb = guarded_alloc(rows * dim, rng_below(&r, 4));
                memcpy(tb.data, t0, rows * dim * sizeof(float));
                memcpy(sb.data, s0, rows * dim * sizeof(float));
                if (pub)
                    assert_int_equal(adagrad_use_isa(row->k->isa), ADAGRAD_OK);
                const int st = call(row, pub, false, i32, tb.data, sb.data, rows, dim, &ix, g, &opt, NULL, 0);
                if (pub)
                    assert_int_equal(adagrad_use_isa(suite_initial_isa), ADAGRAD_OK);
                assert_int_equal(st, ADAGRAD_OK);
                check_fences(row, "sparse_dense", &tb, &sb);
                if (memcmp(g, g_copy, n * dim * sizeof(float)) != 0)
                    fail_msg("sparse_dense/%s: grads written", row->name);

                /* the reference: the dense step row by row, in list order (EXACT:
                 * the reference element's; FAST: this row's own dense kernel) */
                memcpy(rt, t0, rows * dim * sizeof(float));
                memcpy(rs, s0, rows * dim * sizeof(float));
                for (size_t k = 0; k < n; k++) {
                    const size_t q = (size_t)ix.i64[k];
                    if (fast)
                        assert_int_equal(
                            adagrad_step_f32_with(row->k, rt + q * dim, rs + q * dim, g + k * dim, dim, &opt),
                            ADAGRAD_OK);
                    else
                        contract_ref_dense(&opt, rt + q * dim, rs + q * dim, g + k * dim, dim);
                }
                char what[96];
                snprintf(what, sizeof what, "sparse_dense dim %zu flags 0x%x wd %d %s%s", dim, opt.flags, (int)(fi & 1),
                         i32 ? "i32" : "i64", pub ? " public" : "");
                expect_same(row, what, "table", tb.data, rt, rows * dim, dim);
                expect_same(row, what, "sum", sb.data, rs, rows * dim, dim);

                /* FAST: rows touched once against the reference element and
                 * the double oracle (contract.h) */
                if (fast) {
                    for (size_t k = 0; k < n; k++) {
                        const size_t q = (size_t)ix.i64[k];
                        if (count[q] != 1)
                            continue;
                        for (size_t j = 0; j < dim; j++) {
                            const size_t e = q * dim + j;
                            const float got = tb.data[e], gr = g[k * dim + j];
                            const contract_elem ex = contract_ref_elem(&opt, t0[e], s0[e], gr);
                            if (!contract_fast_may_estimate(row->k->fast_eps_ratio, &opt, s0[e], ex.s)) {
                                if (!same_f32(got, ex.theta))
                                    fail_msg("%s/%s: FAST theta %a at row %zu col %zu, EXACT %a (must be bitwise here)",
                                             what, row->name, (double)got, q, j, (double)ex.theta);
                                continue;
                            }
                            const contract_oracle o = contract_oracle_step(&opt, t0[e], s0[e], gr);
                            const double err = contract_fast_error(got, &o, t0[e], ex.theta);
                            checked++;
                            if (o.theta_domain && err > worst_fast)
                                worst_fast = err;
                            if (!(err <= row->k->fast_ulp))
                                fail_msg("%s/%s: FAST theta error %.3f ulp at row %zu col %zu (bound %d)", what,
                                         row->name, err, q, j, row->k->fast_ulp);
                        }
                    }
                }
                guarded_free(&tb);
                guarded_free(&sb);
                idx_free(&ix);
                free(t0), free(s0), free(g), free(g_copy), free(rt), free(rs), free(count);
            }
        }
    }
    print_message("sparse_dense/%s: bitwise == dense row by row; FAST worst %.3f ulp over %zu elements (bound %d)\n",
                  row->name, worst_fast, checked, row->k->fast_ulp);
}

/* ---- rowwise: the canonical order (contract_ref_rowwise) ---- */

static const size_t row_dims[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,  17,  18,
                                  19, 20, 23, 24, 25, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65, 127, 128, 129,
                                  255, 256, 257, 300, 512, 1000};
#define NROWDIMS (sizeof row_dims / sizeof row_dims[0])

void body_rowwise(void **state)
{
    const test_row *row = suite_row(state);
    rng r = rng_for(suite_seed, "rowwise");
    const size_t rows = 11, n = 17;
    double worst_s = 0.0, worst_theta = 0.0;
    for (size_t di = 0; di < NROWDIMS; di++) {
        const size_t dim = row_dims[di];
        for (size_t fi = 0; fi < NFLAGS * 2; fi++) {
            const adagrad_options opt = make_opt(flag_sets[fi / 2], fi & 1);
            for (int via = 0; via < (row->k->test_only ? 2 : 4); via++) {
                const bool i32 = via & 1, pub = via >= 2;
                float *t0 = malloc(rows * dim * sizeof(float)), *s0 = malloc(rows * sizeof(float));
                float *g = malloc(n * dim * sizeof(float));
                float *rt = malloc(rows * dim * sizeof(float)), *rs = malloc(rows * sizeof(float));
                if (!t0 || !s0 || !g || !rt || !rs)
                    abort();
                fill(&r, t0, rows * dim, -4, 2, 1);
                for (size_t i = 0; i < rows; i++)
                    s0[i] = (rng_next(&r) & 1) ? rng_logu(&r, -10, 0, 0) : 0.0f;
                fill(&r, g, n * dim, -10, 4, 1);
                idx_list ix = idx_make(n);
                for (size_t k = 0; k < n; k++)
                    idx_set(&ix, k, (int64_t)rng_below(&r, rows));
                idx_set(&ix, n - 1, ix.i64[0]); /* at least one duplicate */

                guarded tb = guarded_alloc(rows * dim, rng_below(&r, 4)), sb = guarded_alloc(rows, rng_below(&r, 4));
                memcpy(tb.data, t0, rows * dim * sizeof(float));
                memcpy(sb.data, s0, rows * sizeof(float));
                if (pub)
                    assert_int_equal(adagrad_use_isa(row->k->isa), ADAGRAD_OK);
                const int st = call(row, pub, true, i32, tb.data, sb.data, rows, dim, &ix, g, &opt, NULL, 0);
                if (pub)
                    assert_int_equal(adagrad_use_isa(suite_initial_isa), ADAGRAD_OK);
                assert_int_equal(st, ADAGRAD_OK);
                check_fences(row, "rowwise", &tb, &sb);

                /* bitwise against the canonical order, in list order; the
                 * double oracle for each occurrence on the state before it */
                memcpy(rt, t0, rows * dim * sizeof(float));
                memcpy(rs, s0, rows * sizeof(float));
                for (size_t k = 0; k < n; k++) {
                    const size_t q = (size_t)ix.i64[k];
                    const float *gk = g + k * dim;
                    double m = 0.0;
                    for (size_t j = 0; j < dim; j++) {
                        double gj = (opt.flags & ADAGRAD_MAXIMIZE) ? -(double)gk[j] : (double)gk[j];
                        gj += (double)opt.weight_decay * (double)rt[q * dim + j];
                        m += gj * gj;
                    }
                    const double s = (double)rs[q] + m / (double)dim;
                    const double d = (opt.flags & ADAGRAD_EPS_INSIDE) ? sqrt(s + (double)opt.eps)
                                                                      : sqrt(s) + (double)opt.eps;
                    float old[1024];
                    memcpy(old, rt + q * dim, dim * sizeof(float));
                    contract_ref_rowwise(&opt, rt + q * dim, &rs[q], gk, dim);
                    const float s_new = rs[q];
                    const double bound_s = contract_rowwise_s_ulp(dim), bound_t = contract_rowwise_theta_ulp(dim);
                    const double es = ulp_error(s_new, s, s);
                    if (es > worst_s)
                        worst_s = es;
                    if (es > bound_s)
                        fail_msg("rowwise/%s dim %zu: row_sum error %.2f ulp > %.0f", row->name, dim, es, bound_s);
                    for (size_t j = 0; j < dim; j++) {
                        double gj = (opt.flags & ADAGRAD_MAXIMIZE) ? -(double)gk[j] : (double)gk[j];
                        gj += (double)opt.weight_decay * (double)old[j];
                        const double delta = -(double)opt.lr * gj / d;
                        const double et =
                            ulp_error(rt[q * dim + j], (double)old[j] + delta, contract_theta_scale(old[j], delta));
                        if (et > worst_theta)
                            worst_theta = et;
                        if (et > bound_t)
                            fail_msg("rowwise/%s dim %zu: theta error %.2f ulp > %.1f", row->name, dim, et, bound_t);
                    }
                }
                char what[96];
                snprintf(what, sizeof what, "rowwise dim %zu flags 0x%x wd %d %s%s", dim, opt.flags, (int)(fi & 1),
                         i32 ? "i32" : "i64", pub ? " public" : "");
                expect_same(row, what, "table", tb.data, rt, rows * dim, dim);
                expect_same(row, what, "row_sum", sb.data, rs, rows, 1);
                guarded_free(&tb);
                guarded_free(&sb);
                idx_free(&ix);
                free(t0), free(s0), free(g), free(rt), free(rs);
            }
        }
    }
    print_message("rowwise/%s: bitwise == canonical order; worst vs double: row_sum %.3f ulp, theta %.3f ulp\n",
                  row->name, worst_s, worst_theta);
}

/* ---- sparse_duplicates ---- */

/* The reference for ADAGRAD_SUM_DUPLICATES: per distinct row (in first
 * occurrence order), the gradient rows summed in list order, one step of
 * the reference element (contract.h). */
static void summed_reference(bool rowwise, float *t, float *a, size_t dim, const idx_list *ix, const float *g,
                             const adagrad_options *opt)
{
    float *acc = malloc(dim * sizeof(float));
    if (!acc)
        abort();
    for (size_t k = 0; k < ix->n; k++) {
        bool first = true;
        for (size_t e = 0; e < k; e++)
            first = first && ix->i64[e] != ix->i64[k];
        if (!first)
            continue;
        memcpy(acc, g + k * dim, dim * sizeof(float));
        for (size_t e = k + 1; e < ix->n; e++)
            if (ix->i64[e] == ix->i64[k])
                for (size_t j = 0; j < dim; j++)
                    acc[j] = acc[j] + g[e * dim + j];
        const size_t q = (size_t)ix->i64[k];
        if (rowwise)
            contract_ref_rowwise(opt, t + q * dim, a + q, acc, dim);
        else
            contract_ref_dense(opt, t + q * dim, a + q * dim, acc, dim);
    }
    free(acc);
}

void body_sparse_duplicates(void **state)
{
    const test_row *row = suite_row(state);
    rng r = rng_for(suite_seed, "sparse_duplicates");
    /* explicit lists: a row three times (summing order matters), interleaved
     * duplicates, all the same row, all distinct; then random long lists */
    static const int64_t l0[] = {5, 5, 5, 2, 5};
    static const int64_t l1[] = {1, 3, 1, 0, 3, 1, 6, 0};
    static const int64_t l2[] = {4, 4, 4, 4, 4, 4, 4};
    static const int64_t l3[] = {0, 1, 2, 3, 4, 5, 6};
    const int64_t *lists[] = {l0, l1, l2, l3, NULL, NULL};
    const size_t lens[] = {5, 8, 7, 7, 200, 1000};
    const size_t rows = 7;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const size_t n = lens[li];
        for (size_t di = 0; di < NDIMS; di += 3) {
            const size_t dim = dims[di];
            for (int mode = 0; mode < 4; mode++) { /* bit 0: row-wise, bit 1: summed */
                const bool rowwise = mode & 1, summed = mode & 2;
                for (int via = 0; via < (row->k->test_only ? 2 : 4); via++) {
                    const bool i32 = via & 1, pub = via >= 2;
                    const size_t alen = rowwise ? rows : rows * dim;
                    adagrad_options opt = make_opt(li & 1 ? ADAGRAD_MAXIMIZE : 0u, li >= 4);
                    if (summed)
                        opt.flags |= ADAGRAD_SUM_DUPLICATES;
                    float *t0 = malloc(rows * dim * sizeof(float)), *a0 = malloc(alen * sizeof(float));
                    float *g = malloc(n * dim * sizeof(float));
                    if (!t0 || !a0 || !g)
                        abort();
                    fill(&r, t0, rows * dim, -4, 2, 1);
                    fill(&r, a0, alen, -8, 0, 0);
                    fill(&r, g, n * dim, -10, 2, 1);
                    idx_list ix = idx_make(n);
                    for (size_t k = 0; k < n; k++)
                        idx_set(&ix, k, lists[li] ? lists[li][k] : (int64_t)rng_below(&r, rows));
                    const size_t wsb = adagrad_sparse_workspace_bytes(n, dim) + 3;
                    unsigned char *ws = malloc(wsb);
                    if (!ws)
                        abort();
                    for (size_t i = 0; i < wsb; i++) /* garbage in the workspace must not matter */
                        ws[i] = (unsigned char)rng_next(&r);

                    guarded tb = guarded_alloc(rows * dim, 1), ab = guarded_alloc(alen, 2);
                    memcpy(tb.data, t0, rows * dim * sizeof(float));
                    memcpy(ab.data, a0, alen * sizeof(float));
                    if (pub)
                        assert_int_equal(adagrad_use_isa(row->k->isa), ADAGRAD_OK);
                    /* an unaligned workspace pointer too */
                    const int st = call(row, pub, rowwise, i32, tb.data, ab.data, rows, dim, &ix, g, &opt,
                                        summed ? ws + 3 : NULL, summed ? wsb - 3 : 0);
                    if (pub)
                        assert_int_equal(adagrad_use_isa(suite_initial_isa), ADAGRAD_OK);
                    assert_int_equal(st, ADAGRAD_OK);
                    check_fences(row, "sparse_duplicates", &tb, &ab);

                    float *rt = malloc(rows * dim * sizeof(float)), *ra = malloc(alen * sizeof(float));
                    if (!rt || !ra)
                        abort();
                    memcpy(rt, t0, rows * dim * sizeof(float));
                    memcpy(ra, a0, alen * sizeof(float));
                    if (summed) {
                        summed_reference(rowwise, rt, ra, dim, &ix, g, &opt);
                    } else {
                        for (size_t k = 0; k < n; k++) {
                            const size_t q = (size_t)ix.i64[k];
                            if (rowwise)
                                contract_ref_rowwise(&opt, rt + q * dim, ra + q, g + k * dim, dim);
                            else
                                contract_ref_dense(&opt, rt + q * dim, ra + q * dim, g + k * dim, dim);
                        }
                    }
                    char what[128];
                    snprintf(what, sizeof what, "sparse_duplicates list %zu dim %zu %s %s %s%s", li, dim,
                             rowwise ? "rowwise" : "sparse", summed ? "summed" : "sequential", i32 ? "i32" : "i64",
                             pub ? " public" : "");
                    expect_same(row, what, "table", tb.data, rt, rows * dim, dim);
                    expect_same(row, what, "accumulator", ab.data, ra, alen, rowwise ? 1 : dim);
                    guarded_free(&tb);
                    guarded_free(&ab);
                    idx_free(&ix);
                    free(t0), free(a0), free(g), free(rt), free(ra), free(ws);
                }
            }
        }
    }
}

/* ---- sparse_errors ---- */

enum { E_ROWS = 9, E_DIM = 5, E_N = 300 };

typedef struct ectx {
    const test_row *row;
    bool pub, rowwise, i32;
    unsigned char *pool, *copy;
    size_t pool_bytes;
} ectx;

static void eexpect(ectx *c, const char *what, int want, float *t, float *a, size_t rows, size_t dim,
                    const idx_list *ix, size_t n, const float *g, const adagrad_options *o, void *ws, size_t wsb)
{
    memcpy(c->copy, c->pool, c->pool_bytes);
    adagrad_options ocopy = {0};
    if (o)
        ocopy = *o;
    idx_list view = *ix;
    view.n = n;
    if (c->pub)
        assert_int_equal(adagrad_use_isa(c->row->k->isa), ADAGRAD_OK);
    const int got = call(c->row, c->pub, c->rowwise, c->i32, t, a, rows, dim, &view, g, o, ws, wsb);
    if (c->pub)
        assert_int_equal(adagrad_use_isa(suite_initial_isa), ADAGRAD_OK);
    const char *kind = c->rowwise ? "rowwise" : "sparse";
    if (got != want)
        fail_msg("sparse_errors/%s %s %s%s: %s: status %d (%s), expected %d (%s)", c->row->name, kind,
                 c->i32 ? "i32" : "i64", c->pub ? " public" : "", what, got, adagrad_strerror(got), want,
                 adagrad_strerror(want));
    if (want != ADAGRAD_OK && memcmp(c->copy, c->pool, c->pool_bytes) != 0)
        fail_msg("sparse_errors/%s %s %s%s: %s: returned %d but a buffer was written", c->row->name, kind,
                 c->i32 ? "i32" : "i64", c->pub ? " public" : "", what, got);
    if (o && memcmp(&ocopy, o, sizeof ocopy) != 0)
        fail_msg("sparse_errors/%s: %s: the options were written", c->row->name, what);
}

static void error_cases(ectx *c, rng *r)
{
    /* one pool: table | acc | grads | indices (int64 and int32) | workspace */
    const size_t tf = E_ROWS * E_DIM, gf = E_N * E_DIM;
    const size_t wsb = adagrad_sparse_workspace_bytes(E_N, E_DIM);
    const size_t off_a = tf * 4 + 64, off_g = off_a + tf * 4 + 64, off_i = off_g + gf * 4 + 64;
    const size_t off_i32 = off_i + E_N * 8 + 64, off_w = off_i32 + E_N * 4 + 64;
    c->pool_bytes = off_w + wsb + 64;
    c->pool = aligned_alloc(64, (c->pool_bytes + 63) / 64 * 64);
    c->copy = malloc(c->pool_bytes);
    if (!c->pool || !c->copy)
        abort();
    memset(c->pool, 0x5a, c->pool_bytes);
    float *T = (float *)(void *)c->pool, *A = (float *)(void *)(c->pool + off_a);
    float *G = (float *)(void *)(c->pool + off_g);
    void *W = c->pool + off_w;
    fill(r, T, tf, -4, 2, 1);
    fill(r, A, tf, -8, 0, 0);
    fill(r, G, gf, -8, 2, 1);
    idx_list ix = {(int64_t *)(void *)(c->pool + off_i), (int32_t *)(void *)(c->pool + off_i32), E_N};
    for (size_t k = 0; k < E_N; k++)
        idx_set(&ix, k, (int64_t)rng_below(r, E_ROWS));

    const adagrad_options ok = {.lr = 0.01f, .eps = 1e-10f, .weight_decay = 0.01f, .flags = 0};
    adagrad_options sum_dup = ok;
    sum_dup.flags = ADAGRAD_SUM_DUPLICATES;
    const size_t R = E_ROWS, D = E_DIM, N = E_N;

    /* NULLs */
    eexpect(c, "NULL table", ADAGRAD_ERR_NULL, NULL, A, R, D, &ix, N, G, &ok, NULL, 0);
    eexpect(c, "NULL acc", ADAGRAD_ERR_NULL, T, NULL, R, D, &ix, N, G, &ok, NULL, 0);
    eexpect(c, "NULL grads", ADAGRAD_ERR_NULL, T, A, R, D, &ix, N, NULL, &ok, NULL, 0);
    {
        idx_list null_ix = {NULL, NULL, N};
        eexpect(c, "NULL indices", ADAGRAD_ERR_NULL, T, A, R, D, &null_ix, N, G, &ok, NULL, 0);
    }
    eexpect(c, "NULL opt", ADAGRAD_ERR_NULL, T, A, R, D, &ix, N, G, NULL, NULL, 0);
    eexpect(c, "SUM_DUPLICATES, NULL workspace", ADAGRAD_ERR_NULL, T, A, R, D, &ix, N, G, &sum_dup, NULL, wsb);
    eexpect(c, "n = 0, NULL everything", ADAGRAD_OK, NULL, NULL, R, D, &ix, 0, NULL, NULL, NULL, 0);
    eexpect(c, "dim = 0", ADAGRAD_OK, T, A, R, 0, &ix, N, G, &ok, NULL, 0);
    if (memcmp(c->copy, c->pool, c->pool_bytes) != 0)
        fail_msg("sparse_errors/%s: dim = 0 wrote a buffer", c->row->name);

    /* hyper-parameters and flags */
    {
        adagrad_options o = ok;
        o.lr = NAN;
        eexpect(c, "lr NaN", ADAGRAD_ERR_PARAM, T, A, R, D, &ix, N, G, &o, NULL, 0);
        o = ok;
        o.eps = -1.0f;
        eexpect(c, "eps < 0", ADAGRAD_ERR_PARAM, T, A, R, D, &ix, N, G, &o, NULL, 0);
        o = ok;
        o.weight_decay = INFINITY;
        eexpect(c, "weight_decay inf", ADAGRAD_ERR_PARAM, T, A, R, D, &ix, N, G, &o, NULL, 0);
        o = ok;
        o.lr = -0.5f;
        eexpect(c, "n = 0, lr < 0", ADAGRAD_ERR_PARAM, T, A, R, D, &ix, 0, G, &o, NULL, 0);
        for (unsigned b = 0; b < 32; b++) {
            o = ok;
            o.flags = 1u << b;
            if (o.flags & ADAGRAD_SPARSE_FLAGS)
                continue;
            char what[48];
            snprintf(what, sizeof what, "flags 0x%x", o.flags);
            eexpect(c, what, ADAGRAD_ERR_PARAM, T, A, R, D, &ix, N, G, &o, NULL, 0);
        }
        o = ok;
        o.flags = ADAGRAD_TORCH_SPARSE | ADAGRAD_FAST;
        eexpect(c, "TORCH_SPARSE | FAST", ADAGRAD_ERR_PARAM, T, A, R, D, &ix, N, G, &o, NULL, 0);
        o.flags = ADAGRAD_TORCH_SPARSE;
        eexpect(c, "TORCH_SPARSE", c->rowwise ? ADAGRAD_ERR_PARAM : ADAGRAD_OK, T, A, R, D, &ix, N, G, &o, NULL, 0);
        memcpy(c->pool, c->copy, c->pool_bytes); /* undo a successful step */
    }

    /* sizes */
    eexpect(c, "rows x dim overflows", ADAGRAD_ERR_SIZE, T, A, SIZE_MAX / 2, 4, &ix, N, G, &ok, NULL, 0);
    eexpect(c, "n x dim overflows", ADAGRAD_ERR_SIZE, T, A, 1, SIZE_MAX / 8, &ix, N, G, &ok, NULL, 0);
    eexpect(c, "n_indices x 8 overflows", ADAGRAD_ERR_SIZE, T, A, R, 1, &ix, SIZE_MAX / 2, G, &ok, NULL, 0);
    eexpect(c, "workspace one byte short", ADAGRAD_ERR_SIZE, T, A, R, D, &ix, N, G, &sum_dup, W, wsb - 1);
    eexpect(c, "workspace size 0", ADAGRAD_ERR_SIZE, T, A, R, D, &ix, N, G, &sum_dup, W, 0);

    /* overlaps: every pair, partial and whole */
    const size_t abytes = c->rowwise ? R * 4 : tf * 4;
    eexpect(c, "acc == table", ADAGRAD_ERR_OVERLAP, T, T, R, D, &ix, N, G, &ok, NULL, 0);
    eexpect(c, "acc overlaps the table's end", ADAGRAD_ERR_OVERLAP, T, T + tf - 1, R, D, &ix, N, G, &ok, NULL, 0);
    eexpect(c, "grads overlap the table", ADAGRAD_ERR_OVERLAP, T, A, R, D, &ix, N, T + 3, &ok, NULL, 0);
    eexpect(c, "grads overlap acc", ADAGRAD_ERR_OVERLAP, T, A, R, D, &ix, N,
            (const float *)(const void *)((const unsigned char *)A + abytes - 4), &ok, NULL, 0);
    {
        /* the indices inside the grads / the table (their values are not
         * valid rows: the overlap must be reported first) */
        idx_list in_g = {(int64_t *)(void *)(G + 2), (int32_t *)(void *)(G + 2), 4}; /* grads: 4 x D floats */
        eexpect(c, "indices overlap grads", ADAGRAD_ERR_OVERLAP, T, A, R, D, &in_g, 4, G, &ok, NULL, 0);
        idx_list in_t = {(int64_t *)(void *)T, (int32_t *)(void *)T, 2};
        eexpect(c, "indices overlap the table", ADAGRAD_ERR_OVERLAP, T, A, R, D, &in_t, 2, G, &ok, NULL, 0);
    }
    eexpect(c, "workspace == table", ADAGRAD_ERR_OVERLAP, T, A, R, D, &ix, N, G, &sum_dup, T, wsb);
    eexpect(c, "workspace overlaps the indices", ADAGRAD_ERR_OVERLAP, T, A, R, D, &ix, N, G, &sum_dup,
            c->i32 ? (void *)ix.i32 : (void *)ix.i64, wsb);
    eexpect(c, "workspace overlaps grads", ADAGRAD_ERR_OVERLAP, T, A, R, D, &ix, N, G, &sum_dup, G + gf - 1, wsb);

    /* ranges: one bad index, at the start, the middle, and the END of a long list */
    const int64_t bad64[] = {-1, (int64_t)R, INT64_MAX, INT64_MIN, (int64_t)R + 1000};
    const int32_t bad32[] = {-1, (int32_t)R, INT32_MAX, INT32_MIN, (int32_t)R + 1000};
    const size_t at[] = {0, N / 2, N - 1};
    for (size_t b = 0; b < 5; b++)
        for (size_t p = 0; p < 3; p++)
            for (int dup = 0; dup < 2; dup++) {
                const int64_t keep64 = ix.i64[at[p]];
                const int32_t keep32 = ix.i32[at[p]];
                ix.i64[at[p]] = bad64[b];
                ix.i32[at[p]] = bad32[b];
                char what[96];
                snprintf(what, sizeof what, "index %lld at %zu of %zu%s",
                         c->i32 ? (long long)bad32[b] : (long long)bad64[b], at[p], (size_t)N,
                         dup ? " (SUM_DUPLICATES)" : "");
                eexpect(c, what, ADAGRAD_ERR_RANGE, T, A, R, D, &ix, N, G, dup ? &sum_dup : &ok, dup ? W : NULL,
                        dup ? wsb : 0);
                ix.i64[at[p]] = keep64;
                ix.i32[at[p]] = keep32;
            }
    eexpect(c, "rows = 0", ADAGRAD_ERR_RANGE, T, A, 0, D, &ix, N, G, &ok, NULL, 0);
    eexpect(c, "rows = 0, dim = 0", ADAGRAD_ERR_RANGE, T, A, 0, 0, &ix, N, G, &ok, NULL, 0);
    /* the same valid call succeeds (the cases above were the only defects) */
    eexpect(c, "valid", ADAGRAD_OK, T, A, R, D, &ix, N, G, &ok, NULL, 0);
    eexpect(c, "valid, SUM_DUPLICATES", ADAGRAD_OK, T, A, R, D, &ix, N, G, &sum_dup, W, wsb);
    free(c->pool);
    free(c->copy);
}

void body_sparse_errors(void **state)
{
    const test_row *row = suite_row(state);
    rng r = rng_for(suite_seed, "sparse_errors");
    for (int via = 0; via < (row->k->test_only ? 4 : 8); via++) {
        ectx c = {.row = row, .rowwise = via & 1, .i32 = (via >> 1) & 1, .pub = via >= 4};
        error_cases(&c, &r);
    }
}
