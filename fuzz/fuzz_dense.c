/* libadagrad — differential fuzz harness for the dense step.
 * SPDX-License-Identifier: MIT
 *
 * LLVMFuzzerTestOneInput decodes arbitrary bytes into one call of the dense
 * step, made through v0.1's fp32 entry points (adagrad_step_f32_with,
 * adagrad_step_f32, adagrad_step_f32_mt) or through the general API's
 * descriptor (adagrad_step_with, adagrad_step, adagrad_step_mt), whose
 * param_type, grad_type, first_index, the descriptor pointer itself and
 * opt's seed and step are decoded too, and checks, for that call:
 *   - every implementation row the CPU runs (adagrad_row: the kernel table,
 *     then the test-only rows, such as NEON through SIMDe on x86) through
 *     the row's hook (adagrad_step_f32_with or adagrad_step_with), against
 *     tests/contract.h, which shares no code with the library: in EXACT its
 *     reference element (the contract's five binary32 operations) bit for
 *     bit, any NaN equal to any NaN; in FAST the accumulator bit for bit, θ
 *     bit for bit where contract.h's domain rule says FAST computes EXACT,
 *     elsewhere θ equal to EXACT or within the row's fast_ulp by
 *     contract_fast_error (the double-precision formula rounded once, in
 *     ulp of max(|θ_old|, |Δ|), or EXACT where binary32 must leave the
 *     formula; finite exactly where EXACT is); STOCHASTIC_ROUNDING, seed,
 *     step and first_index change no fp32 bit;
 *   - the error rules: the status is one of the statuses that apply
 *     (applicable(), written from adagrad.h's adagrad_step block: OK when
 *     none does) and an invalid call leaves every byte of every buffer, and
 *     of the memory around them, untouched; a valid call writes only param
 *     and sum (sentinel bytes around each buffer, and guard pages: buffers can
 *     touch an inaccessible page at either end, so a read or write past an
 *     end faults);
 *   - splitting: the row run as two calls [0, k) + [k, n) (the second with
 *     first_index advanced by k) gives the bits of one call (an element's
 *     result depends only on that element);
 *   - the public step (adagrad_step_f32 or adagrad_step) equals the active
 *     row; after adagrad_use_isa(x) it equals row x (and unavailable ISAs
 *     are refused);
 *   - its _mt form gives the bits and the status of one call, on the
 *     decoded call and, for one pointer mode, on a tensor big enough to be
 *     split across threads;
 *   - adagrad_split_range: the ranges tile [0, n) in order, on block
 *     boundaries, balanced; invalid arguments are refused, nothing written.
 * Any violation prints what went wrong and calls abort(), so libFuzzer (or
 * the replay driver, fuzz/replay.c) reports the input.
 *
 * Input format (every read past the end gives 0 bytes; see gen_corpus.py):
 *   u16 n (mod 301) | u8 place[3] (param, sum, grad: bit 7 = buffer ends at
 *   the upper guard page, else starts (bits 0-3) floats after the lower one)
 *   | u8 flags | hyper lr | hyper eps | hyper wd | u8 ptr_mode | u8 threads
 *   [descriptor] | u16 split | u8 isa_switch | split_range args
 *   | u8 value_mode | values
 * where hyper = u8 selector (< 0x80: a table of typical values; < 0xf0: raw
 * u32 bits with the sign cleared; else raw u32 bits) and the values of the
 * three arrays follow value_mode (2 bits per array: raw u32 each, one table
 * byte each, seeded random over an exponent window, random + sprinkled
 * special values). threads: bits 0-2 the _mt thread count (-2..5), bit 3
 * the descriptor path, whose fields follow it: u8 desc (bits 0-1 param_type:
 * F32, BF16, F16, or no adagrad_dtype; bits 2-3 grad_type, the same; bit 4
 * grad_type is param_type; bit 5 the descriptor pointer is NULL; bit 6 a
 * first_index; bit 7 opt.seed and opt.step), then a u8 for each type field
 * that is no adagrad_dtype (which one, fuzz_common.h), u64 first_index, u64
 * seed and u64 step, each only when selected.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "adagrad.h"
#include "dispatch.h"
#include "fuzz_common.h"


#define MAX_N 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the decoded call ---------------------------------------------------- */

typedef struct {
    size_t n;
    float param[MAX_N], sum[MAX_N], grad[MAX_N];
    adagrad_options opt;
    uint8_t place[3];
    bool general, no_desc; /* the descriptor path; its descriptor pointer NULL */
    adagrad_dtype param_type, grad_type;
    uint64_t first_index;
} call;

/* The descriptor fields (threads bit 3; the format is at the top). */
static void rd_descriptor(reader *r, call *c)
{
    const uint8_t d = rd_u8(r);
    c->general = true;
    c->param_type = rd_dtype(r, d);
    c->grad_type = (d & 0x10) ? c->param_type : rd_dtype(r, d >> 2);
    c->no_desc = (d & 0x20) != 0;
    if (d & 0x40)
        c->first_index = rd_u64(r);
    if (d & 0x80) {
        c->opt.seed = rd_u64(r);
        c->opt.step = rd_u64(r);
    }
}

/* The pointers and count a pointer mode turns the call into, and the
 * descriptor's other fields. */
typedef struct args {
    float *p, *s;
    const float *g;
    size_t n;
    const adagrad_options *o;
    bool general, no_desc;
    adagrad_dtype param_type, grad_type;
    uint64_t first_index;
} args;

/* ---- failure ------------------------------------------------------------ */

static const char *g_what = "";      /* the check being run, for the report */
static const char *g_row = "";
static const adagrad_options *g_opt; /* the decoded call's options */
static size_t g_n;
static const args *g_args;           /* its pointers and descriptor fields */

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\nfuzz_dense: VIOLATION [%s, row %s]: ", g_what, g_row);
    vfprintf(stderr, fmt, ap);
    if (g_opt)
        fprintf(stderr, "\n  call: n=%zu lr=%a eps=%a weight_decay=%a flags=0x%x", g_n, (double)g_opt->lr,
                (double)g_opt->eps, (double)g_opt->weight_decay, g_opt->flags);
    if (g_args && g_args->general)
        fprintf(stderr, "\n  descriptor%s: param_type %u grad_type %u first_index %llu", g_args->no_desc ? " (NULL)" : "",
                (unsigned)g_args->param_type, (unsigned)g_args->grad_type, (unsigned long long)g_args->first_index);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* ---- guarded memory ------------------------------------------------------ */

/* Three arenas (param, sum, grad), each one page of data between two
 * inaccessible pages: a buffer placed against either end faults on any
 * access past that end. Bytes of the data page outside the buffer hold a
 * sentinel pattern. */
#define PAGE 4096
static uint8_t *arena[3]; /* the data page of each */

static void arenas_init(void)
{
    if (arena[0])
        return;
    for (int a = 0; a < 3; a++) {
        uint8_t *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || mprotect(m, PAGE, PROT_NONE) || mprotect(m + 2 * PAGE, PAGE, PROT_NONE)) {
            perror("fuzz_dense: mmap");
            abort();
        }
        arena[a] = m + PAGE;
    }
}

/* Whether a buffer may end right at an inaccessible page (see probe_edge). */
static int edge_ok = 1;

static float *place(int a, uint8_t how, size_t n)
{
    if (how & 0x80)
        return (float *)(arena[a] + PAGE - (edge_ok ? 0 : 64) - n * sizeof(float));
    return (float *)arena[a] + (how & 15);
}

static uint8_t sentinel_byte(int a) { return (uint8_t)(0xa5 ^ (a * 0x3c)); }

/* Sentinel-fill arena a, then copy v[0..n) to buf (inside it). */
static void arena_load(int a, float *buf, const float *v, size_t n)
{
    memset(arena[a], sentinel_byte(a), PAGE);
    if (n)
        memcpy(buf, v, n * sizeof(float));
}

/* Every byte of arena a outside [buf, buf + n) still the sentinel. */
static void arena_check_outside(int a, const float *buf, size_t n)
{
    static uint8_t clean[3][PAGE];
    if (!clean[a][0])
        memset(clean[a], sentinel_byte(a), PAGE);
    const size_t lo = (size_t)((const uint8_t *)buf - arena[a]), hi = lo + n * sizeof(float);
    if (memcmp(arena[a], clean[a], lo) == 0 && memcmp(arena[a] + hi, clean[a], PAGE - hi) == 0)
        return;
    for (size_t q = 0; q < PAGE; q++)
        if ((q < lo || q >= hi) && arena[a][q] != sentinel_byte(a))
            fail("arena %d byte %zu (buffer at %zu, %zu floats) changed to 0x%02x", a, q, lo, n, arena[a][q]);
}

/* ---- expected status ---------------------------------------------------- */

/* Statuses that apply to a call (bit -status); 0 means the call is valid.
 * From adagrad.h's adagrad_step block: the descriptor is required; its types
 * and opt (when given) are validated even for n = 0; with elements, opt and
 * the buffers are required, their bytes (n elements of each buffer's type)
 * must neither overflow nor wrap the address space, and the buffers must
 * not share a byte. A buffer of a type field that names no type has no size:
 * those checks do not apply to it (the type is ADAGRAD_ERR_PARAM already). */
static unsigned applicable(const args *a)
{
    const adagrad_options *o = a->o;
    const int opt_bad = o && (!hyper_ok(o->lr) || !hyper_ok(o->eps) || !hyper_ok(o->weight_decay) ||
                              (o->flags & ~ADAGRAD_DENSE_FLAGS));
    if (a->general && a->no_desc)
        return 1u << -ADAGRAD_ERR_NULL | (opt_bad ? 1u << -ADAGRAD_ERR_PARAM : 0);
    unsigned set = 0;
    if (opt_bad || !types_stepped(a->param_type, a->grad_type))
        set |= 1u << -ADAGRAD_ERR_PARAM;
    const size_t n = a->n;
    if (n == 0)
        return set;
    if (!o)
        set |= 1u << -ADAGRAD_ERR_NULL;
    const float *p = a->p, *s = a->s, *g = a->g;
    if (n > SIZE_MAX / sizeof(float)) { /* the sum's bytes, whatever the types */
        set |= 1u << -ADAGRAD_ERR_SIZE;
        if (!p || !s || !g)
            set |= 1u << -ADAGRAD_ERR_NULL;
        return set;
    }
    if (!p || !s || !g)
        return set | 1u << -ADAGRAD_ERR_NULL;
    const size_t psize = dtype_bytes(a->param_type), gsize = dtype_bytes(a->grad_type);
    if (!psize || !gsize)
        return set;
    const uintptr_t at[3] = {(uintptr_t)p, (uintptr_t)s, (uintptr_t)g};
    const uintptr_t bytes[3] = {n * psize, n * sizeof(float), n * gsize};
    for (int i = 0; i < 3; i++)
        if (at[i] > UINTPTR_MAX - bytes[i])
            return set | 1u << -ADAGRAD_ERR_SIZE;
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (at[i] < at[j] + bytes[j] && at[j] < at[i] + bytes[i])
                set |= 1u << -ADAGRAD_ERR_OVERLAP;
    return set;
}

/* ---- the rows (fuzz_rows_init, fuzz_common.h) and qemu ---------------------- */

/* Real CPUs never fault on the masked-off lanes of a masked load or store
 * (VMASKMOVPS, AVX-512 masks), but qemu-user 7.2 emulates VMASKMOVPS by
 * touching all 32 bytes: a buffer ending against an inaccessible page then
 * faults under `meson test --setup haswell`. Probe once, catching the fault,
 * with every row on 3 floats ending at a guard page; if that dies, buffers
 * end 64 bytes before it instead (the sentinels still catch writes past the
 * end; reads past it go unseen there). */
static void edge_probe_body(void)
{
    for (size_t r = 0; r < fuzz_nrows; r++)
        for (unsigned fast = 0; fast <= ADAGRAD_FAST; fast += ADAGRAD_FAST) {
            const adagrad_options o = {.lr = 0.5f, .flags = fast};
            float *p = (float *)(arena[0] + PAGE) - 3, *s = (float *)(arena[1] + PAGE) - 3;
            const float *g = (const float *)(arena[2] + PAGE) - 3;
            adagrad_step_f32_with(fuzz_rows[r], p, s, g, 3, &o);
        }
}

static void probe_edge(void)
{
    if (!fuzz_runs_without_fault(edge_probe_body)) {
        edge_ok = 0;
        fprintf(stderr, "fuzz_dense: a masked access next to an inaccessible page faults here (an emulator?): "
                        "buffers end 64 bytes before the guard pages\n");
    }
}

/* ---- one decoded call ---------------------------------------------------- */

static args make_args(const call *c, uint8_t mode, size_t split)
{
    float *p = place(0, c->place[0], c->n), *s = place(1, c->place[1], c->n);
    const float *g = place(2, c->place[2], c->n);
    args a = {p, s, g, c->n, &c->opt, c->general, c->no_desc, c->param_type, c->grad_type, c->first_index};
    const size_t n = c->n, k = n ? split % n : 0;
    switch (mode) {
    case 0xe0: a.o = NULL; break;
    case 0xe1: a.p = NULL; break;
    case 0xe2: a.s = NULL; break;
    case 0xe3: a.g = NULL; break;
    case 0xe4: a.p = a.s = NULL; a.g = NULL; break;
    case 0xe5: a.s = a.p + k; break;                                               /* sum inside param */
    case 0xe6: a.g = a.p + k; break;                                               /* grad inside param */
    case 0xe7: a.g = a.s + k; break;                                               /* grad inside sum */
    case 0xe8: a.s = a.p; break;
    case 0xe9: a.g = a.s; break;
    case 0xea: if (n) a.s = (float *)arena[0] + n - 1; a.p = (float *)arena[0]; break; /* one float shared */
    case 0xeb: a.n = SIZE_MAX / sizeof(float) + 1; break;
    case 0xec: a.n = SIZE_MAX; break;
    case 0xed: a.n = SIZE_MAX / sizeof(float); break;
    case 0xee: /* param's end wraps past the top of the address space */
        if (n)
            a.p = (float *)((uintptr_t)0 - n * sizeof(float) + sizeof(float) * k);
        break;
    case 0xef: /* n = 0: any pointers at all */
        a.n = 0;
        a.p = (float *)(uintptr_t)(split & 1 ? 0 : 16);
        a.s = (float *)(UINTPTR_MAX & ~(uintptr_t)15); /* the top of the address space */
        a.g = a.p;
        if (split & 2)
            a.o = NULL;
        break;
    default: break;
    }
    return a;
}

/* The call's descriptor (the general path). */
static adagrad_dense descriptor(const args *a)
{
    return (adagrad_dense){.param = a->p, .sum = a->s, .grad = a->g, .n = a->n, .param_type = a->param_type,
                           .grad_type = a->grad_type, .first_index = a->first_index};
}

/* The call through row k's hook, the public step and its _mt form: v0.1's
 * fp32 entry points or the descriptor's. */
static int step_row(const adagrad_kernels *k, const args *a)
{
    if (!a->general)
        return adagrad_step_f32_with(k, a->p, a->s, a->g, a->n, a->o);
    const adagrad_dense d = descriptor(a);
    return adagrad_step_with(k, a->no_desc ? NULL : &d, a->o);
}

static int step_public(const args *a)
{
    if (!a->general)
        return adagrad_step_f32(a->p, a->s, a->g, a->n, a->o);
    const adagrad_dense d = descriptor(a);
    return adagrad_step(a->no_desc ? NULL : &d, a->o);
}

static int step_public_mt(const args *a, int threads)
{
    if (!a->general)
        return adagrad_step_f32_mt(a->p, a->s, a->g, a->n, a->o, threads);
    const adagrad_dense d = descriptor(a);
    return adagrad_step_mt(a->no_desc ? NULL : &d, a->o, threads);
}

/* Elements [at, at + count) of a valid call through row k; on the
 * descriptor, first_index advances by at (adagrad_split_range). */
static int step_part(const adagrad_kernels *k, const args *a, size_t at, size_t count)
{
    args part = *a;
    part.p += at;
    part.s += at;
    part.g += at;
    part.n = count;
    part.first_index += at;
    return step_row(k, &part);
}

static uint8_t snap[3][PAGE];

static void snapshot(void)
{
    for (int i = 0; i < 3; i++)
        memcpy(snap[i], arena[i], PAGE);
}

static void check_untouched(void)
{
    for (int i = 0; i < 3; i++)
        if (memcmp(snap[i], arena[i], PAGE) != 0)
            for (size_t b = 0; b < PAGE; b++)
                if (snap[i][b] != arena[i][b])
                    fail("invalid call wrote arena %d byte %zu: 0x%02x -> 0x%02x", i, b, snap[i][b], arena[i][b]);
}

static void load_all(const call *c, const args *a)
{
    arena_load(0, place(0, c->place[0], c->n), c->param, c->n);
    arena_load(1, place(1, c->place[1], c->n), c->sum, c->n);
    arena_load(2, place(2, c->place[2], c->n), c->grad, c->n);
    (void)a;
}

/* Expected EXACT outputs of a valid call. */
static float exp_param[MAX_N], exp_sum[MAX_N];

static void check_outputs(const call *c, const args *a, const adagrad_kernels *k)
{
    const size_t n = c->n;
    arena_check_outside(0, a->p, n);
    arena_check_outside(1, a->s, n);
    arena_check_outside(2, a->g, n);
    if (memcmp(a->g, c->grad, n * sizeof(float)) != 0)
        fail("grad was written");
    const int fast = (c->opt.flags & ADAGRAD_FAST) != 0;
    for (size_t i = 0; i < n; i++) {
        if (!same_f32(a->s[i], exp_sum[i]))
            fail("element %zu of %zu: sum 0x%08x, expected 0x%08x (param 0x%08x sum 0x%08x grad 0x%08x)", i, n,
                 f32_bits(a->s[i]), f32_bits(exp_sum[i]), f32_bits(c->param[i]), f32_bits(c->sum[i]),
                 f32_bits(c->grad[i]));
        if (same_f32(a->p[i], exp_param[i]))
            continue;
        if (!fast)
            fail("EXACT element %zu of %zu: param 0x%08x, expected 0x%08x (param 0x%08x sum 0x%08x grad 0x%08x)",
                 i, n, f32_bits(a->p[i]), f32_bits(exp_param[i]), f32_bits(c->param[i]), f32_bits(c->sum[i]),
                 f32_bits(c->grad[i]));
        if (!contract_fast_may_estimate(k->fast_eps_ratio, &c->opt, c->sum[i], exp_sum[i]))
            fail("FAST element %zu of %zu: param 0x%08x, EXACT 0x%08x, and FAST must be EXACT here "
                 "(param 0x%08x sum 0x%08x grad 0x%08x)",
                 i, n, f32_bits(a->p[i]), f32_bits(exp_param[i]), f32_bits(c->param[i]), f32_bits(c->sum[i]),
                 f32_bits(c->grad[i]));
        const contract_oracle o = contract_oracle_step(&c->opt, c->param[i], c->sum[i], c->grad[i]);
        const double err = contract_fast_error(a->p[i], &o, c->param[i], exp_param[i]);
        if (!(err <= k->fast_ulp))
            fail("FAST element %zu of %zu: param 0x%08x (%a), EXACT 0x%08x: %g ulp (against %s) > %d "
                 "(param 0x%08x sum 0x%08x grad 0x%08x)",
                 i, n, f32_bits(a->p[i]), (double)a->p[i], f32_bits(exp_param[i]), err,
                 o.theta_domain ? "the double formula" : "EXACT, the formula being out of its domain", k->fast_ulp,
                 f32_bits(c->param[i]), f32_bits(c->sum[i]), f32_bits(c->grad[i]));
    }
}

/* The result of the last valid row call, to compare others against. */
static float got_param[MAX_N], got_sum[MAX_N];

static void keep(const args *a, size_t n)
{
    memcpy(got_param, a->p, n * sizeof(float));
    memcpy(got_sum, a->s, n * sizeof(float));
}

/* Bitwise, but any NaN equal to any NaN (same_f32, contract.h): NaN
 * payloads and signs are not part of the contract. */
static void check_same_values(const args *a, size_t n, const char *against)
{
    for (size_t i = 0; i < n; i++)
        if (!same_f32(got_param[i], a->p[i]) || !same_f32(got_sum[i], a->s[i]))
            fail("element %zu of %zu differs from %s: param 0x%08x vs 0x%08x, sum 0x%08x vs 0x%08x", i, n,
                 against, f32_bits(a->p[i]), f32_bits(got_param[i]), f32_bits(a->s[i]), f32_bits(got_sum[i]));
}

static void check_same_bits(const args *a, size_t n, const char *against)
{
    if (memcmp(got_param, a->p, n * sizeof(float)) || memcmp(got_sum, a->s, n * sizeof(float)))
        for (size_t i = 0; i < n; i++)
            if (f32_bits(got_param[i]) != f32_bits(a->p[i]) || f32_bits(got_sum[i]) != f32_bits(a->s[i]))
                fail("element %zu of %zu differs from %s: param 0x%08x vs 0x%08x, sum 0x%08x vs 0x%08x", i, n,
                     against, f32_bits(a->p[i]), f32_bits(got_param[i]), f32_bits(a->s[i]), f32_bits(got_sum[i]));
}

/* ---- adagrad_step_f32_mt on a tensor big enough to split ------------------ */

/* Fill v[0..n) with the pattern src[0..m) repeated (doubling copies). */
static void tile(float *v, size_t n, const float *src, size_t m)
{
    size_t have = m < n ? m : n;
    memcpy(v, src, have * sizeof(float));
    while (have < n) {
        const size_t more = have < n - have ? have : n - have;
        memcpy(v + have, v, more * sizeof(float));
        have += more;
    }
}

static void check_mt_big(const call *c, const args *shape, int threads)
{
    enum { BIG = 4 * ADAGRAD_MT_MIN_ELEMENTS + MAX_N };
    static float *buf; /* allocated once: this runs often enough to matter */
    if (!buf && !(buf = malloc(5 * (size_t)BIG * sizeof(float))))
        abort();
    const int t = threads < 2 ? 2 : threads > 4 ? 4 : threads;
    const size_t n = (size_t)t * ADAGRAD_MT_MIN_ELEMENTS + c->n;
    float *p1 = buf, *s1 = buf + BIG, *g = buf + 2 * BIG, *p2 = buf + 3 * BIG, *s2 = buf + 4 * BIG;
    static const float fallback[3][5] = {{1.0f, -0.5f, 3e-3f, 7.0f, -2e-5f},
                                         {0.0f, 1e-3f, 2.0f, 1e-30f, 5e5f},
                                         {0.1f, -1e-4f, 0.0f, -3.0f, 1e-9f}};
    tile(p1, n, c->n ? c->param : fallback[0], c->n ? c->n : 5);
    tile(s1, n, c->n ? c->sum : fallback[1], c->n ? c->n : 5);
    tile(g, n, c->n ? c->grad : fallback[2], c->n ? c->n : 5);
    memcpy(p2, p1, n * sizeof(float));
    memcpy(s2, s1, n * sizeof(float));
    g_what = shape->general ? "adagrad_step_mt (big)" : "adagrad_step_f32_mt (big)";
    args one = *shape, two;
    one.p = p1, one.s = s1, one.g = g, one.n = n, one.o = &c->opt;
    two = one;
    two.p = p2, two.s = s2;
    const unsigned set = applicable(&one);
    const int st1 = step_public(&one);
    const int st2 = step_public_mt(&two, threads);
    check_status(st1, set);
    if (st1 != st2)
        fail("status %d, one call gave %d", st2, st1);
    if (memcmp(p1, p2, n * sizeof(float)) || memcmp(s1, s2, n * sizeof(float)))
        fail("%s(%zu elements, %d threads) differs from one call", g_what, n, threads);
}

/* ---- adagrad_split_range -------------------------------------------------- */

static size_t rd_size(reader *r)
{
    const uint8_t sel = rd_u8(r);
    switch (sel & 3) {
    case 0: return sel >> 2;          /* 0..63 */
    case 1: return rd_u16(r);
    case 2: return (size_t)rd_u64(r);
    default: return SIZE_MAX - (sel >> 2);
    }
}

/* The range of an independent computation in 128-bit arithmetic. */
static void split_model(size_t n, size_t parts, size_t i, size_t *b, size_t *e)
{
    typedef unsigned __int128 u128;
    const u128 blocks = ((u128)n + ADAGRAD_SPLIT_ALIGN - 1) / ADAGRAD_SPLIT_ALIGN;
    const u128 q = blocks / parts, r = blocks % parts;
    const u128 first = (u128)i * q + (i < r ? i : r), last = first + q + (i < r);
    const u128 lo = first * ADAGRAD_SPLIT_ALIGN, hi = last * ADAGRAD_SPLIT_ALIGN;
    *b = (size_t)(lo < n ? lo : n);
    *e = (size_t)(hi < n ? hi : n);
}

static void check_split(reader *r)
{
    g_what = "adagrad_split_range";
    g_row = "-";
    const uint8_t how = rd_u8(r);
    const size_t n = rd_size(r), parts = rd_size(r);
    size_t index;
    if ((how & 3) == 0 && parts)
        index = (size_t)(rd_u64(r) % parts);
    else if ((how & 3) == 1)
        index = parts ? parts - 1 : 0;
    else
        index = rd_size(r);

    const size_t sentinel = (size_t)0x5a5a5a5a5a5a5a5au;
    size_t b = sentinel, cnt = sentinel;
    if (how & 4) {
        const int st = adagrad_split_range(n, parts, index, (how & 8) ? NULL : &b, (how & 8) ? &cnt : NULL);
        if (st != ADAGRAD_ERR_NULL || b != sentinel || cnt != sentinel)
            fail("split_range with a NULL output: %d, outputs %zx %zx", st, b, cnt);
        return;
    }
    const int st = adagrad_split_range(n, parts, index, &b, &cnt);
    if (parts == 0 || index >= parts) {
        if (st != ADAGRAD_ERR_PARAM || b != sentinel || cnt != sentinel)
            fail("split_range(%zu, %zu, %zu): %d, outputs %zx %zx", n, parts, index, st, b, cnt);
        return;
    }
    if (st != ADAGRAD_OK)
        fail("split_range(%zu, %zu, %zu) returned %d", n, parts, index, st);
    size_t mb, me;
    split_model(n, parts, index, &mb, &me);
    if (b != mb || cnt != me - mb)
        fail("split_range(%zu, %zu, %zu) = [%zu, +%zu), expected [%zu, %zu)", n, parts, index, b, cnt, mb, me);
    if (b > n || cnt > n - b || (b % ADAGRAD_SPLIT_ALIGN && b != n) ||
        ((b + cnt) % ADAGRAD_SPLIT_ALIGN && b + cnt != n))
        fail("split_range(%zu, %zu, %zu) = [%zu, +%zu): out of range or off a block boundary", n, parts, index, b,
             cnt);
    if (index == 0 && b != 0)
        fail("split_range: part 0 starts at %zu", b);
    if (index == parts - 1 && b + cnt != n)
        fail("split_range: the last part ends at %zu, not %zu", b + cnt, n);
    size_t b2, c2;
    if (index + 1 < parts) {
        if (adagrad_split_range(n, parts, index + 1, &b2, &c2) != ADAGRAD_OK || b2 != b + cnt)
            fail("split_range(%zu, %zu, %zu + 1) starts at %zu, not %zu", n, parts, index, b2, b + cnt);
        if (c2 > cnt || cnt - c2 >= 2 * ADAGRAD_SPLIT_ALIGN)
            fail("split_range: unbalanced, %zu then %zu", cnt, c2);
    }
    /* balanced: at most one block more than the average */
    const size_t blocks = n / ADAGRAD_SPLIT_ALIGN + (n % ADAGRAD_SPLIT_ALIGN != 0);
    const size_t most = blocks / parts + (blocks % parts != 0);
    if (cnt / ADAGRAD_SPLIT_ALIGN + (cnt % ADAGRAD_SPLIT_ALIGN != 0) > most)
        fail("split_range: %zu elements > %zu blocks", cnt, most);
    /* a small n: every part, tiling in order */
    if (n <= 4096 && parts <= 64) {
        size_t at = 0;
        for (size_t i = 0; i < parts; i++) {
            if (adagrad_split_range(n, parts, i, &b2, &c2) != ADAGRAD_OK || b2 != at)
                fail("split_range(%zu, %zu, %zu) starts at %zu, not %zu", n, parts, i, b2, at);
            at += c2;
        }
        if (at != n)
            fail("split_range(%zu, %zu, *) covers %zu elements", n, parts, at);
    }
}

/* ---- the entry point ------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_nrows) {
        arenas_init();
        fuzz_rows_init();
        probe_edge();
    }
    reader r = {data, size};
    static call c;
    memset(&c, 0, sizeof c);
    c.n = rd_u16(&r) % (MAX_N + 1);
    for (int i = 0; i < 3; i++)
        c.place[i] = rd_u8(&r);
    const uint8_t f = rd_u8(&r);
    c.opt.flags = f & ADAGRAD_DENSE_FLAGS;
    if (f & 0x08)
        c.opt.flags |= 1u << (3 + (f >> 4)); /* one more bit, 3..18: STOCHASTIC_ROUNDING (5) or no dense flag */
    if (f == 0xff)
        c.opt.flags = rd_u32(&r);
    c.opt.lr = rd_hyper(&r);
    c.opt.eps = rd_hyper(&r);
    c.opt.weight_decay = rd_hyper(&r);
    const uint8_t mode = rd_u8(&r);
    const uint8_t th = rd_u8(&r);
    const int threads = (int)(th % 8) - 2; /* -2..5; ≤ 0: the OpenMP default */
    if (th & 0x08)
        rd_descriptor(&r, &c);
    const size_t split = rd_u16(&r);
    const uint8_t isa_switch = rd_u8(&r);
    check_split(&r);
    const uint8_t vmode = rd_u8(&r);
    rd_values(&r, vmode, c.param, c.n, 0);
    rd_values(&r, vmode >> 2, c.sum, c.n, 1);
    rd_values(&r, vmode >> 4, c.grad, c.n, 0);

    const args a = make_args(&c, mode, split);
    g_opt = &c.opt;
    g_n = a.n;
    g_args = &a;
    const unsigned set = applicable(&a);
    /* (no special pointer mode gives a valid call with n > 0) */
    const int valid = set == 0 && a.n == c.n && a.n > 0;
    if (valid)
        for (size_t i = 0; i < c.n; i++) {
            const contract_elem e = contract_ref_elem(&c.opt, c.param[i], c.sum[i], c.grad[i]);
            exp_param[i] = e.theta;
            exp_sum[i] = e.s;
        }

    /* Every row, then the public entry points, on the same call. */
    const char *const row_hook = c.general ? "adagrad_step_with" : "adagrad_step_f32_with";
    g_what = row_hook;
    for (size_t ri = 0; ri < fuzz_nrows; ri++) {
        const adagrad_kernels *k = fuzz_rows[ri];
        g_row = k->name;
        load_all(&c, &a);
        snapshot();
        const int st = step_row(k, &a);
        check_status(st, set);
        if (!valid) {
            check_untouched();
            continue;
        }
        check_outputs(&c, &a, k);
        keep(&a, c.n);
        /* the same row as two calls, split at k: the same bits */
        g_what = "split call";
        const size_t at = split % (c.n + 1);
        load_all(&c, &a);
        if (step_part(k, &a, 0, at) != ADAGRAD_OK || step_part(k, &a, at, c.n - at) != ADAGRAD_OK)
            fail("a split call failed");
        check_same_values(&a, c.n, "one call");
        g_what = row_hook;
    }

    /* The public step (the active row), then its _mt form: the same. */
    const adagrad_kernels *active = adagrad_active_kernels();
    g_row = active->name;
    g_what = c.general ? "adagrad_step" : "adagrad_step_f32";
    load_all(&c, &a);
    snapshot();
    const int st = step_public(&a);
    check_status(st, set);
    if (!valid)
        check_untouched();
    else {
        keep(&a, c.n);
        load_all(&c, &a);
        step_row(active, &a);
        check_same_bits(&a, c.n, "the active row");
    }
    g_what = c.general ? "adagrad_step_mt" : "adagrad_step_f32_mt";
    load_all(&c, &a);
    snapshot();
    const int st_mt = step_public_mt(&a, threads);
    if (st_mt != st)
        fail("status %d, the one-thread step gave %d", st_mt, st);
    if (!valid)
        check_untouched();
    else
        check_same_bits(&a, c.n, "the one-thread step");

    /* adagrad_use_isa: refuses what is unavailable; the public step then uses the row chosen. */
    if (isa_switch & 0x80) {
        g_what = "adagrad_use_isa";
        const int isa = (isa_switch & 0x40) ? (int)(int8_t)(isa_switch << 2) : (isa_switch & 7);
        const bool avail = adagrad_isa_available((adagrad_isa)isa);
        const int ust = adagrad_use_isa((adagrad_isa)isa);
        if (ust != (avail ? ADAGRAD_OK : ADAGRAD_ERR_ISA))
            fail("adagrad_use_isa(%d) returned %d (available: %d)", isa, ust, avail);
        const adagrad_kernels *row = NULL;
        for (size_t i = 0; i < adagrad_impl_count(); i++)
            if ((int)adagrad_impl(i)->isa == isa)
                row = adagrad_impl(i);
        if (avail != (row && adagrad_row_runnable(row, NULL)))
            fail("adagrad_isa_available(%d) = %d, but the table's row is %s", isa, avail,
                 row ? (avail ? "not runnable" : "runnable") : "missing");
        const adagrad_kernels *now = adagrad_active_kernels();
        if (avail ? now->isa != (adagrad_isa)isa : now != active)
            fail("active row %s after adagrad_use_isa(%d) = %d", now->name, isa, ust);
        if (valid) {
            g_row = now->name;
            load_all(&c, &a);
            step_public(&a);
            keep(&a, c.n);
            load_all(&c, &a);
            step_row(now, &a);
            check_same_bits(&a, c.n, "the row adagrad_use_isa chose");
        }
        if (adagrad_use_isa(active->isa) != ADAGRAD_OK)
            fail("cannot switch back to %s", active->name);
    }

    if (mode == 0xf0)
        check_mt_big(&c, &a, threads);
    g_args = NULL;
    return 0;
}
