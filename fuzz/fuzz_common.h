/* libadagrad — what the fuzz harnesses share (fuzz_dense.c, fuzz_sparse.c):
 * the statuses, the rows, the input reader and the decoding of
 * hyper-parameters and float arrays. The reference element, the double
 * oracle, the ulp measure and FAST's domain are tests/contract.h's (see
 * fuzz_dense.c's header comment for what the harnesses check). Everything
 * is static inline: each harness is one translation unit and uses what it
 * needs.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAGRAD_FUZZ_COMMON_H
#define ADAGRAD_FUZZ_COMMON_H

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "adagrad.h"
#include "contract.h"
#include "dispatch.h"

/* Each harness defines fail(): report the violation with its call, abort. */
__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...);

/* ---- statuses and rows -------------------------------------------------- */

#define NSTATUS 7 /* statuses 0 .. -6 */

/* `set` holds bit -s for every status s that applies to the call (0: valid). */
static inline void check_status(int st, unsigned set)
{
    if (set == 0) {
        if (st != ADAGRAD_OK)
            fail("valid call returned %d (%s)", st, adagrad_strerror(st));
        return;
    }
    if (st >= 0 || st <= -NSTATUS || !(set & (1u << -st)))
        fail("invalid call (applicable status set 0x%x) returned %d (%s)", set, st, adagrad_strerror(st));
}

/* Every row this CPU runs (adagrad_row: the kernel table, scalar first,
 * then the test-only rows). */
static const adagrad_kernels *fuzz_rows[8];
static size_t fuzz_nrows;

static inline void fuzz_rows_init(void)
{
    if (fuzz_nrows)
        return;
    for (size_t i = 0; i < adagrad_row_count(); i++)
        if (adagrad_row_runnable(adagrad_row(i), NULL)) {
            if (fuzz_nrows == sizeof fuzz_rows / sizeof fuzz_rows[0])
                fail("more than %zu runnable rows", fuzz_nrows);
            fuzz_rows[fuzz_nrows++] = adagrad_row(i);
        }
    if (fuzz_rows[0] != &adagrad_kernels_scalar)
        fail("the first row is %s, not scalar", fuzz_rows[0]->name);
}


/* ---- input reader ------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t left;
} reader;

static inline uint8_t rd_u8(reader *r)
{
    if (!r->left)
        return 0;
    r->left--;
    return *r->p++;
}
static inline uint16_t rd_u16(reader *r) { return (uint16_t)(rd_u8(r) | (unsigned)rd_u8(r) << 8); }
static inline uint32_t rd_u32(reader *r) { return rd_u16(r) | (uint32_t)rd_u16(r) << 16; }
static inline uint64_t rd_u64(reader *r) { return rd_u32(r) | (uint64_t)rd_u32(r) << 32; }

/* splitmix64: the values a seed expands into. */
static inline uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Interesting binary32 values: signed zeros, denormals, the normal range's
 * ends, infinities, NaNs (quiet, signalling, negative, payloads), and the
 * edges of FAST's [2^-100, 2^100] window and of g·g's over/underflow. */
static const uint32_t special_bits[64] = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000,
    0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fffffff,
    0x3f800000, 0xbf800000, 0x3f000000, 0x40000000, 0x0d800000, 0x0d7fffff, 0x0d800001, 0x71800000,
    0x717fffff, 0x71800001, 0x58800000, 0xd8800000, 0x26800000, 0xa6800000, 0x71000000, 0x5f800000,
    0x1f800000, 0x2edbe6ff, 0x3c23d70a, 0x3dcccccd, 0x501502f9, 0x7e967699, 0x006ce3ee, 0x7f000000,
    0x00400000, 0x1a000000, 0x1a000001, 0x19ffffff, 0x7f7ffffe, 0x5f7fffff, 0x5f800001, 0x3f800001,
    0x3f7fffff, 0xc0400000, 0x42c80000, 0xc2c80000, 0x3a83126f, 0xba83126f, 0x322bcc77, 0x2b8cbccc,
    0x0c800000, 0x72000000, 0x58ffffff, 0x267fffff, 0x40490fdb, 0xc0490fdb, 0x7fa00000, 0xff800001,
};

/* Hyper-parameters: mostly typical (and a few invalid) values, else raw bits. */
static const uint32_t hyper_bits[32] = {
    0x00000000, 0x3c23d70a /* 0.01 */, 0x3dcccccd /* 0.1 */, 0x3f800000 /* 1 */,
    0x3a83126f /* 1e-3 */, 0x2edbe6ff /* 1e-10 */, 0x322bcc77 /* 1e-8 */, 0x3f000000 /* 0.5 */,
    0x40000000, 0x41200000 /* 10 */, 0x42c80000 /* 100 */, 0x501502f9 /* 1e10 */,
    0x71000000 /* 2^99 */, 0x71000001, 0x71800000 /* 2^100 */, 0x7f7fffff /* FLT_MAX */,
    0x00000001, 0x00800000, 0x80000000 /* -0 */, 0x0d800000 /* 2^-100 */,
    0x3727c5ac /* 1e-5 */, 0x38d1b717 /* 1e-4 */, 0x3e800000, 0x5f800000 /* 2^64 */,
    0xbf800000 /* -1: invalid */, 0x7fc00000 /* NaN */, 0x7f800000 /* inf */, 0xff800000,
    0x80000001, 0xffc00000, 0x7f800001, 0x70ffffff /* 2^99 - ulp */,
};

static inline float rd_hyper(reader *r)
{
    const uint8_t sel = rd_u8(r);
    if (sel < 0x80)
        return f32_from_bits(hyper_bits[sel % 32]);
    if (sel < 0xf0)
        return f32_from_bits(rd_u32(r) & 0x7fffffffu);
    return f32_from_bits(rd_u32(r));
}

/* A random float: random sign (unless nonneg), exponent field in a window,
 * random mantissa. */
static inline float rand_float(uint64_t *s, unsigned center, unsigned width, int nonneg)
{
    const uint64_t x = mix(s);
    int e = (int)center - (int)width + (int)((x >> 32) % (2 * width + 1));
    if (e < 0)
        e = 0;
    if (e > 254)
        e = 254;
    const uint32_t sign = nonneg ? 0 : (uint32_t)(x >> 63) << 31;
    return f32_from_bits(sign | (uint32_t)e << 23 | (uint32_t)(x & 0x7fffff));
}

static inline void rd_values(reader *r, unsigned mode, float *v, size_t n, int nonneg_hint)
{
    switch (mode & 3) {
    case 0: /* raw bit patterns */
        for (size_t i = 0; i < n; i++)
            v[i] = f32_from_bits(rd_u32(r));
        break;
    case 1: /* one table byte each */
        for (size_t i = 0; i < n; i++)
            v[i] = f32_from_bits(special_bits[rd_u8(r) % 64]);
        break;
    default: { /* random over an exponent window, then (mode 3) special values sprinkled */
        uint64_t seed = rd_u32(r);
        const unsigned center = rd_u8(r), width = rd_u8(r) % 64;
        const int nonneg = nonneg_hint && (seed & 1);
        for (size_t i = 0; i < n; i++)
            v[i] = rand_float(&seed, center, width, nonneg);
        if ((mode & 3) == 3 && n) {
            const unsigned k = rd_u8(r) % 16;
            for (unsigned j = 0; j < k; j++) {
                const size_t at = rd_u16(r) % n;
                v[at] = f32_from_bits(special_bits[rd_u8(r) % 64]);
            }
        }
    }
    }
}

static inline int hyper_ok(float x) { return x >= 0.0f && x <= FLT_MAX; }

/* ---- descriptor fields (the general API) --------------------------------- */

/* Values of a type field that name no type. adagrad_dtype and adagrad_itype
 * have no negative members, so GCC and clang make them unsigned int and
 * each value is representable. */
static const uint32_t no_dtype_bits[8] = {3, 4, 7, 0xff, 0x100, 0x7fffffffu, 0x80000000u, 0xffffffffu};
static const uint32_t no_itype_bits[8] = {2, 3, 7, 0xff, 0x100, 0x7fffffffu, 0x80000000u, 0xffffffffu};

/* A type field from two selector bits: F32, BF16, F16, or (3) a value that
 * is no adagrad_dtype, whose u8 follows. */
static inline adagrad_dtype rd_dtype(reader *r, unsigned sel)
{
    switch (sel & 3) {
    case 0: return ADAGRAD_F32;
    case 1: return ADAGRAD_BF16;
    case 2: return ADAGRAD_F16;
    default: return (adagrad_dtype)no_dtype_bits[rd_u8(r) % 8];
    }
}

/* Bytes per element of each adagrad_dtype (fp32, bf16, f16); 0 for a value
 * that is none, whose buffers have no size. */
static inline size_t dtype_bytes(adagrad_dtype t)
{
    return t == ADAGRAD_F32 ? 4 : t == ADAGRAD_BF16 || t == ADAGRAD_F16 ? 2 : 0;
}

/* adagrad.h's type rule in this version: a parameter or table steps only as
 * F32, and its gradient is F32 or the parameter's type. */
static inline bool types_stepped(adagrad_dtype data, adagrad_dtype grad)
{
    return data == ADAGRAD_F32 && (grad == ADAGRAD_F32 || grad == data);
}

/* Whether fn() runs without a SIGSEGV or SIGBUS, tried in this process: a
 * fault jumps back here. (A child process would isolate it better, but
 * qemu-aarch64 7.2 on some hosts never runs a forked child.) fn only
 * computes and writes the harness's own arenas, so leaving it half-way
 * leaves nothing behind. */
static sigjmp_buf fuzz_probe_jump;

static void fuzz_probe_fault(int sig)
{
    (void)sig;
    siglongjmp(fuzz_probe_jump, 1);
}

static inline bool fuzz_runs_without_fault(void (*fn)(void))
{
    struct sigaction sa, old_segv, old_bus;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fuzz_probe_fault;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    volatile bool ok = true;
    if (sigsetjmp(fuzz_probe_jump, 1) == 0)
        fn();
    else
        ok = false;
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    return ok;
}

#endif /* ADAGRAD_FUZZ_COMMON_H */
