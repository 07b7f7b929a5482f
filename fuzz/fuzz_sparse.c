/* libadagrad — differential fuzz harness for the sparse and row-wise steps
 * (the dense step has fuzz_dense.c).
 * SPDX-License-Identifier: MIT
 *
 * LLVMFuzzerTestOneInput decodes arbitrary bytes into one call of a table
 * step, made through v0.1's entry points (adagrad_sparse_with, src/sparse.h:
 * the four sparse / row-wise entry points, int64 or int32 indices, with or
 * without a workspace, for an explicit kernel row; publicly the v0.1
 * function of the call's kind) or through the general API's descriptor
 * (adagrad_sparse_step_with for a row; publicly adagrad_sparse_step,
 * adagrad_sparse_step_mt and adagrad_sparse_workspace), whose type fields,
 * bag inputs, workspace and the descriptor pointer itself are decoded too,
 * and checks, for every row the CPU runs (adagrad_row: the kernel table,
 * then the test-only rows):
 *   - the status is one of those that apply (applicable(), written from
 *     adagrad.h's adagrad_sparse_step block and its v0.1 section; OK when
 *     none does), and an invalid call leaves every byte of every buffer
 *     (and of the memory around them) untouched: all rows or none, so a bad
 *     index anywhere in the list, the last one included, writes nothing;
 *   - a valid call equals a model built here, NaN equal to any NaN:
 *       sparse         the dense step applied row by row, in index-list
 *                      order (sequential duplicates), or once per distinct
 *                      row on the gradient rows summed in list order
 *                      (SUM_DUPLICATES): in EXACT tests/contract.h's
 *                      reference element, in FAST the same row's dense
 *                      step (adagrad_step_f32_with);
 *       row-wise       the header's canonical order (contract_ref_rowwise);
 *       TORCH_SPARSE   torch's rounding order, written here one binary32
 *                      operation at a time;
 *     STOCHASTIC_ROUNDING changes no fp32 bit; in EXACT (and row-wise, and
 *     TORCH_SPARSE) every row also equals the scalar row; in FAST the
 *     accumulator is EXACT's bit for bit, and for a row named once each θ
 *     is EXACT's where contract.h's domain rule says FAST computes EXACT,
 *     elsewhere within the row's fast_ulp by contract_fast_error (as
 *     fuzz_dense.c measures it);
 *   - only the named rows of table and sum / row_sum change; grads,
 *     indices and the bag inputs are never written; the workspace only
 *     inside itself;
 *   - the prefetch distance (decoded: off, auto, 1, 3, huge) changes nothing;
 *   - the public entry point of the call's kind equals the active row;
 *   - on the descriptor path, adagrad_sparse_step_mt returns
 *     adagrad_sparse_step's status when that is an error and
 *     ADAGRAD_ERR_PARAM otherwise (not in this version), writing nothing;
 *     adagrad_sparse_workspace is SIZE_MAX without a descriptor or options,
 *     adagrad_sparse_workspace_bytes with SUM_DUPLICATES, 0 without.
 * Any violation prints what went wrong and calls abort().
 *
 * Input format (every read past the end gives 0 bytes; see gen_corpus.py):
 *   u8 kind (bit 0 row-wise, bit 1 int32 indices, bits 2-3 workspace: exact
 *   size, 64 bytes more, one byte short, NULL; bit 4 the public call gets the
 *   workspace (v0.1: through the _ws entry point); bit 5 the descriptor path)
 *   | u8 rows (mod 25) | u8 dim (mod 41) | u8 n (mod 41) | u8 place[4]
 *   (table, acc, grads, indices: bit 7 = ends at the upper guard page, else
 *   starts (bits 0-3) elements after the lower one) | u8 flags (bits 0-4:
 *   MAXIMIZE, EPS_INSIDE, FAST, SUM_DUPLICATES, TORCH_SPARSE; bit 5: plus
 *   one more bit, u8 which: 5 + which mod 27, so STOCHASTIC_ROUNDING,
 *   ROWWISE, POOL_MEAN or an unknown bit; bits 6-7: ROWWISE, POOL_MEAN;
 *   0xff: raw u32) | hyper lr | hyper eps | hyper wd | u8 ptr_mode | u8 aux
 *   | u8 prefetch [descriptor] | u8 index bytes[n] | u8 value_mode | values
 *   (table, acc, grads)
 * An index byte b < 0xc0 is b mod rows (in range; 0 when rows = 0); 0xc0..0xdf
 * repeats an earlier index; 0xe0..0xff is one of the out-of-range values
 * of bad_index(). hyper and value_mode are fuzz_dense.c's (fuzz_common.h).
 * On v0.1's path kind bit 0 chooses the entry point, and ROWWISE in the
 * flags is an error; on the descriptor's the flag makes the step row-wise
 * (kind bit 0 adds it). The descriptor (kind bit 5): u8 desc (bits 0-1
 * table_type: F32, BF16, F16, or no adagrad_dtype; bits 2-3 grad_type, the
 * same; bit 4 grad_type is table_type; bit 5 index_type no adagrad_itype,
 * else kind bit 1's; bit 6 the descriptor pointer is NULL; bit 7 offsets
 * given) | u8 bags (bit 0 n_bags not 0; bit 1 per_sample_weights given;
 * bits 2-4 the threads argument, -2..5), then a u8 for each type field that
 * names no type (which one, fuzz_common.h) and for n_bags, each only when
 * selected.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "adagrad.h"
#include "dispatch.h"
#include "fuzz_common.h"
#include "sparse.h"


#define MAX_ROWS 24
#define MAX_DIM 40
#define MAX_IDX 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the decoded call ------------------------------------------------------ */

typedef struct {
    bool rowwise, idx32; /* the step's state; the indices' layout */
    float *table, *acc;
    size_t rows, dim;
    const void *indices;
    const float *grads;
    size_t n;
    const adagrad_options *opt;
    void *ws;
    size_t ws_bytes;
    /* the descriptor path: its pointer NULL, and the fields v0.1 fixes */
    bool general, no_desc;
    adagrad_dtype table_type, grad_type;
    adagrad_itype index_type;
    const void *offsets;
    size_t n_bags;
    const float *psw;
    int threads; /* of adagrad_sparse_step_mt and adagrad_sparse_workspace */
} args;

static const char *g_what = "", *g_row = "";
static const args *g_args;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\nfuzz_sparse: VIOLATION [%s, row %s]: ", g_what, g_row);
    vfprintf(stderr, fmt, ap);
    const args *a = g_args;
    if (a) {
        fprintf(stderr, "\n  call: %s %s %s rows=%zu dim=%zu n_indices=%zu ws=%p+%zu", a->general ? "general" : "v0.1",
                a->rowwise ? "rowwise" : "sparse", a->idx32 ? "i32" : "i64", a->rows, a->dim, a->n, a->ws,
                a->ws_bytes);
        if (a->opt)
            fprintf(stderr, " lr=%a eps=%a weight_decay=%a flags=0x%x", (double)a->opt->lr, (double)a->opt->eps,
                    (double)a->opt->weight_decay, a->opt->flags);
        if (a->general)
            fprintf(stderr, "\n  descriptor%s: table_type %u grad_type %u index_type %u offsets %p n_bags %zu "
                            "per_sample_weights %p threads %d",
                    a->no_desc ? " (NULL)" : "", (unsigned)a->table_type, (unsigned)a->grad_type,
                    (unsigned)a->index_type, a->offsets, a->n_bags, (const void *)a->psw, a->threads);
    }
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* ---- guarded memory --------------------------------------------------------- */

/* Six arenas (table, acc, grads, indices, workspace, the bag inputs), two
 * pages of data each between inaccessible pages, sentinel bytes around the
 * buffers. The bag arena holds offsets (first page) and per-sample weights
 * (second page). */
#define PAGE 4096
#define ARENA (2 * PAGE)
enum { A_TABLE, A_ACC, A_GRADS, A_IDX, A_WS, A_BAGS, NARENA };
static uint8_t *arena[NARENA];
static int edge_ok = 1;

static void arenas_init(void)
{
    for (int a = 0; a < NARENA; a++) {
        uint8_t *m = mmap(NULL, ARENA + 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || mprotect(m, PAGE, PROT_NONE) || mprotect(m + PAGE + ARENA, PAGE, PROT_NONE)) {
            perror("fuzz_sparse: mmap");
            abort();
        }
        arena[a] = m + PAGE;
    }
}

static uint8_t sentinel_byte(int a) { return (uint8_t)(0xa5 ^ (a * 0x3c)); }

/* A buffer of `bytes` in arena a: against its upper end (how bit 7), else
 * (how & 15) elements of `align` bytes after its start. */
static void *place(int a, uint8_t how, size_t bytes, size_t align)
{
    if (how & 0x80)
        return arena[a] + ((ARENA - (edge_ok ? 0 : 64) - bytes) & ~(align - 1));
    return arena[a] + (how & 15) * align;
}

static uint8_t snap[NARENA][ARENA];

static void snapshot(void)
{
    for (int i = 0; i < NARENA; i++)
        memcpy(snap[i], arena[i], ARENA);
}

/* Every arena equals the snapshot, except (a valid call) inside table,
 * acc and, with SUM_DUPLICATES, the workspace: wherever they are. */
static void check_writes(const args *a, bool valid_call, const char *what)
{
    static uint8_t expect[ARENA];
    const bool ws = valid_call && a->opt && (a->opt->flags & ADAGRAD_SUM_DUPLICATES);
    const void *const p[3] = {a->table, a->acc, ws ? a->ws : NULL};
    const size_t len[3] = {valid_call ? a->rows * a->dim * 4 : 0,
                           valid_call ? (a->rowwise ? a->rows : a->rows * a->dim) * 4 : 0, ws ? a->ws_bytes : 0};
    for (int ar = 0; ar < NARENA; ar++) {
        memcpy(expect, snap[ar], ARENA);
        for (int i = 0; i < 3; i++) {
            const uintptr_t lo = (uintptr_t)arena[ar], q = (uintptr_t)p[i];
            if (len[i] && q >= lo && q < lo + ARENA) {
                const size_t off = q - lo, n = len[i] < ARENA - off ? len[i] : ARENA - off;
                memcpy(expect + off, arena[ar] + off, n);
            }
        }
        if (memcmp(expect, arena[ar], ARENA) != 0)
            for (size_t b = 0; b < ARENA; b++)
                if (expect[b] != arena[ar][b])
                    fail("%s: arena %d (table, acc, grads, indices, workspace, bags) byte %zu changed 0x%02x -> 0x%02x",
                         what, ar, b, snap[ar][b], arena[ar][b]);
    }
}

/* ---- decoding ------------------------------------------------------------------ */

typedef struct {
    uint8_t kind, place[4], ptr_mode, aux, prefetch;
    bool rowwise, general; /* the step's state; the descriptor path */
    size_t rows, dim, n;
    adagrad_options opt;
    /* the descriptor's fields (v0.1: F32, the layout's index type, no bags) */
    bool no_desc, offsets, psw;
    adagrad_dtype table_type, grad_type;
    adagrad_itype index_type;
    size_t n_bags;
    int threads;
    int64_t idx[MAX_IDX];
    float table[MAX_ROWS * MAX_DIM], acc[MAX_ROWS * MAX_DIM], grads[MAX_IDX * MAX_DIM];
} call;

/* The descriptor fields (kind bit 5; the format is at the top). */
static void rd_descriptor(reader *r, call *c)
{
    static const size_t bag_counts[8] = {1, 2, 7, MAX_IDX, MAX_IDX + 1, (size_t)1 << 32, SIZE_MAX / 2, SIZE_MAX};
    const uint8_t d = rd_u8(r), bags = rd_u8(r);
    c->table_type = rd_dtype(r, d);
    c->grad_type = (d & 0x10) ? c->table_type : rd_dtype(r, d >> 2);
    if (d & 0x20)
        c->index_type = (adagrad_itype)no_itype_bits[rd_u8(r) % 8];
    c->no_desc = (d & 0x40) != 0;
    c->offsets = (d & 0x80) != 0;
    if (bags & 1)
        c->n_bags = bag_counts[rd_u8(r) % 8];
    c->psw = (bags & 2) != 0;
    c->threads = (int)((bags >> 2) % 8) - 2;
}

/* Out-of-range indices (int32 variants take the low 32 bits). */
static int64_t bad_index(uint8_t b, size_t rows)
{
    const int64_t r = (int64_t)rows;
    switch (b & 15) {
    case 0: return -1;
    case 1: return r;
    case 2: return r + 1;
    case 3: return INT64_MIN;
    case 4: return INT32_MIN;
    case 5: return INT32_MAX;
    case 6: return INT64_MAX;
    case 7: return -r;
    case 8: return ((int64_t)1 << 32) + (r ? r - 1 : 0); /* wraps into range if truncated to 32 bits */
    case 9: return (int64_t)1 << 31;                     /* past int32 */
    case 10: return -((int64_t)1 << 32);                 /* 0 if truncated */
    case 11: return r + 255;
    case 12: return (int64_t)UINT32_MAX;                 /* -1 as int32 */
    case 13: return r * 2 + 7;
    case 14: return -2;
    default: return (int64_t)((uint64_t)1 << 63 | (uint64_t)r); /* negative, low bits in range */
    }
}

/* min(x, y), or x when y is 0. */
static size_t min_nz(size_t x, size_t y) { return y && y < x ? y : x; }

static size_t ws_need(size_t n, size_t dim) { return adagrad_sparse_workspace_bytes(n, dim); }

/* The pointers and sizes of the call (ptr_mode: the special ones). */
static args make_args(const call *c)
{
    args a = {.rowwise = c->rowwise, .idx32 = (c->kind & 2) != 0, .rows = c->rows, .dim = c->dim, .n = c->n,
              .opt = &c->opt, .general = c->general, .no_desc = c->no_desc, .table_type = c->table_type,
              .grad_type = c->grad_type, .index_type = c->index_type, .n_bags = c->n_bags, .threads = c->threads};
    a.offsets = c->offsets ? arena[A_BAGS] : NULL;
    a.psw = c->psw ? (const float *)(arena[A_BAGS] + PAGE) : NULL;
    const size_t isz = a.idx32 ? 4 : 8;
    a.table = place(A_TABLE, c->place[0], c->rows * c->dim * 4, 4);
    a.acc = place(A_ACC, c->place[1], (a.rowwise ? c->rows : c->rows * c->dim) * 4, 4);
    a.grads = place(A_GRADS, c->place[2], c->n * c->dim * 4, 4);
    a.indices = place(A_IDX, c->place[3], c->n * isz, isz);
    const size_t need = ws_need(c->n, c->dim);
    switch ((c->kind >> 2) & 3) {
    case 0: a.ws_bytes = need; break;
    case 1: a.ws_bytes = need + 64; break;
    case 2: a.ws_bytes = need - 1; break;
    default: a.ws_bytes = need; break;
    }
    a.ws = ((c->kind >> 2) & 3) == 3 ? NULL : arena[A_WS] + (c->aux & 7);
    const size_t k = c->aux;
    switch (c->ptr_mode) {
    case 0xe0: a.opt = NULL; break;
    case 0xe1: a.table = NULL; break;
    case 0xe2: a.acc = NULL; break;
    case 0xe3: a.indices = NULL; break;
    case 0xe4: a.grads = NULL; break;
    case 0xe5: a.acc = (float *)arena[A_TABLE] + k % 64; break;                       /* acc in table's arena */
    case 0xe6: a.grads = (const float *)arena[A_TABLE] + k % 64; break;
    case 0xe7: a.indices = arena[A_GRADS] + isz * (k % 32); break;
    case 0xe8: a.indices = arena[A_TABLE] + isz * (k % 32); break;
    case 0xe9: a.ws = arena[A_TABLE] + (k % 64); break;
    case 0xea: a.grads = (const float *)arena[A_ACC] + k % 64; break;
    case 0xeb: a.rows = SIZE_MAX / 4 / (c->dim ? c->dim : 1) + 1 + k; break;      /* rows × dim overflows */
    case 0xec: a.n = SIZE_MAX / (c->dim ? 4 * c->dim : isz) + 1 + k; break;       /* n × dim (or n × isz) */
    case 0xed: /* table ends at or past the top of the address space (rows × dim > 0) */
        a.table = (float *)((uintptr_t)0 - 4 * min_nz(k % 16 + 1, c->rows * c->dim));
        break;
    case 0xee: /* n = 0: any pointers */
        a.n = 0;
        a.table = NULL;
        a.grads = (const float *)(UINTPTR_MAX & ~(uintptr_t)15);
        if (k & 1)
            a.opt = NULL;
        break;
    case 0xef: a.dim = SIZE_MAX / 4 / (c->rows ? c->rows : 1) + 1 + k; break;     /* dim huge */
    case 0xf0: a.ws = (void *)(uintptr_t)a.grads; break;                            /* workspace is grads */
    case 0xf1: a.indices = (const void *)((uintptr_t)0 - isz * min_nz(k % 8 + 1, c->n)); break; /* wraps */
    case 0xf2: a.ws = (void *)((uintptr_t)0 - min_nz(k % 64 + 1, a.ws_bytes)); break;           /* wraps */
    case 0xf3: a.ws_bytes = SIZE_MAX; break;                                         /* workspace "huge": wraps */
    case 0xf4: a.acc = c->rows * c->dim != 0 ? a.table : (float *)arena[A_TABLE]; break; /* acc is table */
    default: break;
    }
    if (a.general) /* the state is the options' (the layout stays the decoded one) */
        a.rowwise = a.opt && (a.opt->flags & ADAGRAD_ROWWISE);
    return a;
}

/* Sentinel-fill every arena, then copy the decoded contents to their places. */
static void load_all(const call *c)
{
    for (int a = 0; a < NARENA; a++)
        memset(arena[a], sentinel_byte(a), ARENA);
    const bool rowwise = c->rowwise, idx32 = (c->kind & 2) != 0;
    memcpy(place(A_TABLE, c->place[0], c->rows * c->dim * 4, 4), c->table, c->rows * c->dim * 4);
    const size_t ab = (rowwise ? c->rows : c->rows * c->dim) * 4;
    memcpy(place(A_ACC, c->place[1], ab, 4), c->acc, ab);
    memcpy(place(A_GRADS, c->place[2], c->n * c->dim * 4, 4), c->grads, c->n * c->dim * 4);
    void *ix = place(A_IDX, c->place[3], c->n * (idx32 ? 4 : 8), idx32 ? 4 : 8);
    for (size_t k = 0; k < c->n; k++) {
        if (idx32) {
            const int32_t v = (int32_t)(uint32_t)(uint64_t)c->idx[k];
            memcpy((int32_t *)ix + k, &v, 4);
        } else
            memcpy((int64_t *)ix + k, &c->idx[k], 8);
    }
    /* bag inputs, should a call read them: one bag per index, weights 1 */
    for (size_t k = 0; k <= c->n; k++) {
        const int32_t o32 = (int32_t)k;
        const int64_t o64 = (int64_t)k;
        const float w = 1.0f;
        if (idx32)
            memcpy(arena[A_BAGS] + 4 * k, &o32, 4);
        else
            memcpy(arena[A_BAGS] + 8 * k, &o64, 8);
        if (k < c->n)
            memcpy(arena[A_BAGS] + PAGE + 4 * k, &w, 4);
    }
}

/* ---- expected status --------------------------------------------------------- */

typedef unsigned __int128 u128;

/* As the library counts it: a buffer ending exactly at the top wraps too. */
static int wraps(const void *p, u128 bytes) { return bytes && (u128)(uintptr_t)p + bytes > UINTPTR_MAX; }

static int64_t index_at(const args *a, size_t k)
{
    return a->idx32 ? ((const int32_t *)a->indices)[k] : ((const int64_t *)a->indices)[k];
}

/* Statuses that apply (bit -status); 0: valid. Evaluated on the loaded
 * arenas, before the call (indices are read where they are). From adagrad.h's
 * adagrad_sparse_step block, and for v0.1's entry points its v0.1 section:
 * they take neither ROWWISE (the name says the state) nor POOL_MEAN. The
 * descriptor is required; opt (when given), the types and the bag inputs are
 * validated even for n_indices = 0: bags are not stepped in this version,
 * and n_bags, per_sample_weights and POOL_MEAN need offsets. A buffer of a
 * type field that names no type has no size: the checks of its bytes do not
 * apply (the type is ADAGRAD_ERR_PARAM already). */
static unsigned applicable(const args *a)
{
    const adagrad_options *o = a->opt;
    const unsigned fl = o ? o->flags : 0;
    const int opt_bad = o && (!hyper_ok(o->lr) || !hyper_ok(o->eps) || !hyper_ok(o->weight_decay) ||
                              (fl & ~ADAGRAD_SPARSE_FLAGS) ||
                              ((fl & ADAGRAD_TORCH_SPARSE) && (a->rowwise || (fl & ADAGRAD_FAST))) ||
                              (!a->general && (fl & (ADAGRAD_ROWWISE | ADAGRAD_POOL_MEAN))));
    if (a->general && a->no_desc)
        return 1u << -ADAGRAD_ERR_NULL | (opt_bad ? 1u << -ADAGRAD_ERR_PARAM : 0);
    const size_t isz = a->index_type == ADAGRAD_I64 ? 8 : a->index_type == ADAGRAD_I32 ? 4 : 0;
    const bool bags = a->offsets || a->n_bags || a->psw || (fl & ADAGRAD_POOL_MEAN);
    unsigned set = 0;
    if (opt_bad || !types_stepped(a->table_type, a->grad_type) || !isz || bags)
        set |= 1u << -ADAGRAD_ERR_PARAM;
    if (a->n == 0)
        return set;
    if (!o)
        set |= 1u << -ADAGRAD_ERR_NULL;
    const bool sum_dup = fl & ADAGRAD_SUM_DUPLICATES;
    if (!a->table || !a->acc || !a->indices || !a->grads || (sum_dup && !a->ws))
        set |= 1u << -ADAGRAD_ERR_NULL;
    const size_t tsize = dtype_bytes(a->table_type), gsize = dtype_bytes(a->grad_type);
    if (!tsize || !gsize || !isz)
        return set; /* (buffers without a size) */
    const u128 tb = (u128)a->rows * a->dim * tsize, ab = (u128)a->rows * (a->rowwise ? 1 : a->dim) * 4;
    const u128 gb = (u128)a->n * a->dim * gsize, ib = (u128)a->n * isz;
    const u128 wneed = (2 * (u128)a->n + 256) * sizeof(size_t) + (_Alignof(size_t) - 1) + (u128)a->dim * 4;
    if (tb > SIZE_MAX || ab > SIZE_MAX || gb > SIZE_MAX || ib > SIZE_MAX)
        set |= 1u << -ADAGRAD_ERR_SIZE;
    if (o && sum_dup && (wneed > SIZE_MAX || a->ws_bytes < wneed))
        set |= 1u << -ADAGRAD_ERR_SIZE;
    if (set & (1u << -ADAGRAD_ERR_SIZE | 1u << -ADAGRAD_ERR_NULL) || !o)
        return set; /* (the rest cannot be evaluated) */
    const u128 wb = sum_dup ? a->ws_bytes : 0;
    if (wraps(a->table, tb) || wraps(a->acc, ab) || wraps(a->grads, gb) || wraps(a->indices, ib) ||
        (sum_dup && wraps(a->ws, wb)))
        return set | 1u << -ADAGRAD_ERR_SIZE;
    const uintptr_t p[5] = {(uintptr_t)a->table, (uintptr_t)a->acc, (uintptr_t)a->grads, (uintptr_t)a->indices,
                            (uintptr_t)a->ws};
    const u128 len[5] = {tb, ab, gb, ib, wb};
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            if (len[i] && len[j] && p[i] < p[j] + len[j] && p[j] < p[i] + len[i])
                set |= 1u << -ADAGRAD_ERR_OVERLAP;
    if (set)
        return set; /* the library reads the indices only when nothing else is wrong: they may not be there */
    for (size_t k = 0; k < a->n; k++) {
        const int64_t v = index_at(a, k);
        if (v < 0 || (uint64_t)v >= (uint64_t)a->rows)
            set |= 1u << -ADAGRAD_ERR_RANGE;
    }
    return set;
}

/* ---- the model of a valid call ------------------------------------------------ */


/* ADAGRAD_TORCH_SPARSE, one row. */
static void ref_torch(const adagrad_options *o, float *th, float *s, const float *gr, size_t dim)
{
    for (size_t j = 0; j < dim; j++) {
        volatile float g = (o->flags & ADAGRAD_MAXIMIZE) ? -gr[j] : gr[j];
        if (o->weight_decay != 0.0f)
            g = fmaf(o->weight_decay, th[j], g);
        volatile float sq = g * g;
        volatile float t = s[j] + sq;
        volatile float d;
        if (o->flags & ADAGRAD_EPS_INSIDE) {
            volatile float u = t + o->eps;
            d = sqrtf(u);
        } else {
            volatile float root = sqrtf(t);
            d = root + o->eps;
        }
        volatile float q = g / d;
        th[j] = fmaf(q, -o->lr, th[j]);
        s[j] = t;
    }
}

/* The inputs as the call sees them, and the expected table / accumulator. */
static float in_table[MAX_ROWS * MAX_DIM], in_acc[MAX_ROWS * MAX_DIM], in_grads[MAX_IDX * MAX_DIM];
static int64_t in_idx[MAX_IDX];
static float exp_table[MAX_ROWS * MAX_DIM], exp_acc[MAX_ROWS * MAX_DIM];
static unsigned times[MAX_ROWS]; /* how often each row is named */

static void capture_inputs(const args *a)
{
    memcpy(in_table, a->table, a->rows * a->dim * 4);
    memcpy(in_acc, a->acc, (a->rowwise ? a->rows : a->rows * a->dim) * 4);
    memcpy(in_grads, a->grads, a->n * a->dim * 4);
    memset(times, 0, sizeof times);
    for (size_t k = 0; k < a->n; k++) {
        in_idx[k] = index_at(a, k);
        if (in_idx[k] < MAX_ROWS) /* (a valid call with rows past MAX_ROWS has dim = 0) */
            times[in_idx[k]]++;
    }
}

static void model_step(const args *a, const adagrad_kernels *k, size_t r, const float *g)
{
    const size_t dim = a->dim;
    if (a->rowwise) {
        contract_ref_rowwise(a->opt, exp_table + r * dim, exp_acc + r, g, dim);
    } else if (a->opt->flags & ADAGRAD_TORCH_SPARSE) {
        ref_torch(a->opt, exp_table + r * dim, exp_acc + r * dim, g, dim);
    } else if (!(a->opt->flags & ADAGRAD_FAST)) {
        contract_ref_dense(a->opt, exp_table + r * dim, exp_acc + r * dim, g, dim);
    } else {
        adagrad_options dense = *a->opt;
        dense.flags &= ADAGRAD_ALL_FLAGS;
        if (adagrad_step_f32_with(k, exp_table + r * dim, exp_acc + r * dim, g, dim, &dense) != ADAGRAD_OK)
            fail("the dense step refused a row of a valid call");
    }
}

/* exp_* ← the call's result on row k, by the model (see the top). */
static void model(const args *a, const adagrad_kernels *k)
{
    memcpy(exp_table, in_table, a->rows * a->dim * 4);
    memcpy(exp_acc, in_acc, (a->rowwise ? a->rows : a->rows * a->dim) * 4);
    if (a->dim == 0) /* adagrad.h: checks everything and writes nothing (no row-wise 0/0) */
        return;
    if (!(a->opt->flags & ADAGRAD_SUM_DUPLICATES)) {
        for (size_t i = 0; i < a->n; i++)
            model_step(a, k, (size_t)in_idx[i], in_grads + i * a->dim);
        return;
    }
    static float row[MAX_DIM];
    bool done[MAX_ROWS] = {0};
    for (size_t i = 0; i < a->n; i++) {
        const size_t r = (size_t)in_idx[i];
        if (done[r])
            continue;
        done[r] = true;
        memcpy(row, in_grads + i * a->dim, a->dim * 4);
        for (size_t t = i + 1; t < a->n; t++)
            if ((size_t)in_idx[t] == r)
                for (size_t j = 0; j < a->dim; j++) {
                    volatile float x = row[j] + in_grads[t * a->dim + j];
                    row[j] = x;
                }
        model_step(a, k, r, row);
    }
}

/* ---- checks of a valid call ---------------------------------------------------- */

static void check_result(const args *a, const adagrad_kernels *k, const char *against)
{
    const size_t tn = a->rows * a->dim, an = a->rowwise ? a->rows : tn;
    for (size_t i = 0; i < an; i++)
        if (!same_f32(a->acc[i], exp_acc[i]))
            fail("accumulator %zu (row %zu): 0x%08x, %s 0x%08x (before 0x%08x)", i, a->rowwise ? i : i / a->dim,
                 f32_bits(a->acc[i]), against, f32_bits(exp_acc[i]), f32_bits(in_acc[i]));
    for (size_t i = 0; i < tn; i++)
        if (!same_f32(a->table[i], exp_table[i]))
            fail("table element %zu (row %zu, column %zu, named %u times): 0x%08x, %s 0x%08x (before 0x%08x)", i,
                 i / a->dim, i % a->dim, times[i / a->dim], f32_bits(a->table[i]), against, f32_bits(exp_table[i]),
                 f32_bits(in_table[i]));
    check_writes(a, true, "a write outside table / acc / workspace");
    (void)k;
}

/* FAST: the accumulator is EXACT's (checked against the EXACT model by the
 * caller); θ of a row named once is EXACT's where FAST must be EXACT, else
 * within the row's bound. */
static void check_fast_bounds(const args *a, const adagrad_kernels *k)
{
    adagrad_options ex = *a->opt;
    ex.flags &= ~(unsigned)ADAGRAD_FAST;
    for (size_t i = 0; i < a->n; i++) {
        const size_t r = (size_t)in_idx[i];
        if (r >= MAX_ROWS || times[r] != 1)
            continue;
        for (size_t j = 0; j < a->dim; j++) {
            const size_t e = r * a->dim + j;
            const float gr = in_grads[i * a->dim + j];
            const contract_elem ref = contract_ref_elem(&ex, in_table[e], in_acc[e], gr);
            const float ep = ref.theta, es = ref.s, got = a->table[e];
            if (!same_f32(a->acc[e], es))
                fail("FAST accumulator of row %zu column %zu: 0x%08x, EXACT 0x%08x", r, j, f32_bits(a->acc[e]),
                     f32_bits(es));
            if (same_f32(got, ep))
                continue;
            if (!contract_fast_may_estimate(k->fast_eps_ratio, &ex, in_acc[e], es))
                fail("FAST row %zu column %zu: 0x%08x, EXACT 0x%08x, and FAST must be EXACT here (param 0x%08x sum "
                     "0x%08x grad 0x%08x)",
                     r, j, f32_bits(got), f32_bits(ep), f32_bits(in_table[e]), f32_bits(in_acc[e]),
                     f32_bits(gr));
            const contract_oracle o = contract_oracle_step(&ex, in_table[e], in_acc[e], gr);
            const double err = contract_fast_error(got, &o, in_table[e], ep);
            if (!(err <= k->fast_ulp))
                fail("FAST row %zu column %zu: 0x%08x, EXACT 0x%08x: %g ulp (against %s) > %d", r, j, f32_bits(got),
                     f32_bits(ep), err, o.theta_domain ? "the double formula" : "EXACT", k->fast_ulp);
        }
    }
}

/* ---- the rows (fuzz_rows_init, fuzz_common.h) and qemu ---------------------- */

/* As fuzz_dense.c's probe_edge (qemu-user's masked loads touch whole
 * vectors): every row's dense and row-wise kernels on 3 floats ending at a
 * guard page, catching the fault; if it faults, buffers end 64 bytes before
 * it. */
static void edge_probe_body(void)
{
    for (size_t r = 0; r < fuzz_nrows; r++)
        for (unsigned f = 0; f <= ADAGRAD_FAST; f += ADAGRAD_FAST) {
            const adagrad_options o = {.lr = 0.5f, .flags = f};
            float *t = (float *)(arena[A_TABLE] + ARENA) - 3, *s = (float *)(arena[A_ACC] + ARENA) - 3;
            const float *g = (const float *)(arena[A_GRADS] + ARENA) - 3;
            const int64_t *ix = (const int64_t *)(arena[A_IDX] + ARENA) - 1;
            adagrad_sparse_with(fuzz_rows[r], false, t, s, 1, 3, ix, false, g, 1, &o, NULL, 0);
            adagrad_sparse_with(fuzz_rows[r], true, t, s + 2, 1, 3, ix, false, g, 1, &o, NULL, 0);
        }
}

static void probe_edge(void)
{
    if (!fuzz_runs_without_fault(edge_probe_body)) {
        edge_ok = 0;
        fprintf(stderr, "fuzz_sparse: a masked access next to an inaccessible page faults here (an emulator?): "
                        "buffers end 64 bytes before the guard pages\n");
    }
}

/* The call's descriptor (the general path). */
static adagrad_sparse descriptor(const args *a)
{
    return (adagrad_sparse){.table = a->table, .sum = a->acc, .rows = a->rows, .dim = a->dim,
                            .table_type = a->table_type, .indices = a->indices, .n_indices = a->n,
                            .index_type = a->index_type, .grads = a->grads, .grad_type = a->grad_type,
                            .offsets = a->offsets, .n_bags = a->n_bags, .per_sample_weights = a->psw,
                            .workspace = a->ws, .workspace_bytes = a->ws_bytes};
}

/* The public entry point of the call's kind (active row): adagrad_sparse_step
 * on the descriptor path, else v0.1's function (ws: its _ws form). */
static int call_public(const args *a, bool ws)
{
    if (a->general) {
        const adagrad_sparse d = descriptor(a);
        return adagrad_sparse_step(a->no_desc ? NULL : &d, a->opt);
    }
    const int32_t *i32 = a->indices;
    const int64_t *i64 = a->indices;
    if (ws) {
        if (a->rowwise)
            return a->idx32 ? adagrad_rowwise_step_ws_i32(a->table, a->acc, a->rows, a->dim, i32, a->grads, a->n,
                                                          a->opt, a->ws, a->ws_bytes)
                            : adagrad_rowwise_step_ws_f32(a->table, a->acc, a->rows, a->dim, i64, a->grads, a->n,
                                                          a->opt, a->ws, a->ws_bytes);
        return a->idx32 ? adagrad_sparse_step_ws_i32(a->table, a->acc, a->rows, a->dim, i32, a->grads, a->n, a->opt,
                                                     a->ws, a->ws_bytes)
                        : adagrad_sparse_step_ws_f32(a->table, a->acc, a->rows, a->dim, i64, a->grads, a->n, a->opt,
                                                     a->ws, a->ws_bytes);
    }
    if (a->rowwise)
        return a->idx32 ? adagrad_rowwise_step_i32(a->table, a->acc, a->rows, a->dim, i32, a->grads, a->n, a->opt)
                        : adagrad_rowwise_step_f32(a->table, a->acc, a->rows, a->dim, i64, a->grads, a->n, a->opt);
    return a->idx32 ? adagrad_sparse_step_i32(a->table, a->acc, a->rows, a->dim, i32, a->grads, a->n, a->opt)
                    : adagrad_sparse_step_f32(a->table, a->acc, a->rows, a->dim, i64, a->grads, a->n, a->opt);
}

/* Row k's hook: adagrad_sparse_step_with or v0.1's adagrad_sparse_with. */
static int call_with(const adagrad_kernels *k, const args *a)
{
    if (a->general) {
        const adagrad_sparse d = descriptor(a);
        return adagrad_sparse_step_with(k, a->no_desc ? NULL : &d, a->opt);
    }
    return adagrad_sparse_with(k, a->rowwise, a->table, a->acc, a->rows, a->dim, a->indices, a->idx32, a->grads,
                               a->n, a->opt, a->ws, a->ws_bytes);
}

/* The descriptor path's other public functions, after adagrad_sparse_step
 * returned `status` on the same call: adagrad_sparse_step_mt gives that
 * status when it is an error, else ADAGRAD_ERR_PARAM (not in this version),
 * and writes nothing; adagrad_sparse_workspace is SIZE_MAX without a
 * descriptor or options, else with SUM_DUPLICATES at least n_indices
 * size_t's and dim floats (SIZE_MAX when that overflows), the same as
 * adagrad_sparse_workspace_bytes, and 0 without. */
static void check_general_public(const call *c, const args *a, int status)
{
    g_what = "adagrad_sparse_step_mt";
    load_all(c);
    snapshot();
    const adagrad_sparse d = descriptor(a);
    const adagrad_sparse *t = a->no_desc ? NULL : &d;
    const int st = adagrad_sparse_step_mt(t, a->opt, a->threads);
    const int want = status != ADAGRAD_OK ? status : ADAGRAD_ERR_PARAM;
    if (st != want)
        fail("status %d (%s), expected %d: adagrad_sparse_step gave %d", st, adagrad_strerror(st), want, status);
    check_writes(a, false, "adagrad_sparse_step_mt");

    g_what = "adagrad_sparse_workspace";
    const size_t got = adagrad_sparse_workspace(t, a->opt, a->threads);
    if (!t || !a->opt || !(a->opt->flags & ADAGRAD_SUM_DUPLICATES)) {
        const size_t want_ws = !t || !a->opt ? SIZE_MAX : 0;
        if (got != want_ws)
            fail("adagrad_sparse_workspace %zu, expected %zu", got, want_ws);
        return;
    }
    const u128 least = (u128)a->n * sizeof(size_t) + (u128)a->dim * sizeof(float);
    if (got != adagrad_sparse_workspace_bytes(a->n, a->dim) || (least > SIZE_MAX ? got != SIZE_MAX : got < least))
        fail("adagrad_sparse_workspace %zu for %zu indices of dim %zu (adagrad_sparse_workspace_bytes %zu)", got,
             a->n, a->dim, adagrad_sparse_workspace_bytes(a->n, a->dim));
}

/* ---- the entry point -------------------------------------------------------------- */

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
    c.kind = rd_u8(&r);
    c.rows = rd_u8(&r) % (MAX_ROWS + 1);
    c.dim = rd_u8(&r) % (MAX_DIM + 1);
    c.n = rd_u8(&r) % (MAX_IDX + 1);
    for (int i = 0; i < 4; i++)
        c.place[i] = rd_u8(&r);
    const uint8_t f = rd_u8(&r);
    c.opt.flags = f & (0x1fu | ADAGRAD_ROWWISE | ADAGRAD_POOL_MEAN);
    if (f & 0x20) /* one more bit, 5..31: STOCHASTIC_ROUNDING, ROWWISE, POOL_MEAN, or no flag */
        c.opt.flags |= 1u << (5 + rd_u8(&r) % 27);
    if (f == 0xff)
        c.opt.flags = rd_u32(&r);
    c.opt.lr = rd_hyper(&r);
    c.opt.eps = rd_hyper(&r);
    c.opt.weight_decay = rd_hyper(&r);
    c.ptr_mode = rd_u8(&r);
    c.aux = rd_u8(&r);
    c.prefetch = rd_u8(&r);
    c.index_type = (c.kind & 2) ? ADAGRAD_I32 : ADAGRAD_I64;
    c.general = (c.kind & 0x20) != 0;
    if (c.general) {
        rd_descriptor(&r, &c);
        c.opt.flags |= (c.kind & 1) ? ADAGRAD_ROWWISE : 0u;
    }
    c.rowwise = c.general ? (c.opt.flags & ADAGRAD_ROWWISE) != 0 : (c.kind & 1) != 0;
    for (size_t k = 0; k < c.n; k++) {
        const uint8_t b = rd_u8(&r);
        if (b < 0xc0)
            c.idx[k] = c.rows ? (int64_t)(b % c.rows) : 0;
        else if (b < 0xe0)
            c.idx[k] = k ? c.idx[(b - 0xc0) % k] : 0;
        else
            c.idx[k] = bad_index(b, c.rows);
    }
    const uint8_t vmode = rd_u8(&r);
    rd_values(&r, vmode, c.table, c.rows * c.dim, 0);
    rd_values(&r, vmode >> 2, c.acc, c.rowwise ? c.rows : c.rows * c.dim, 1);
    rd_values(&r, vmode >> 4, c.grads, c.n * c.dim, 0);
    static const size_t distances[8] = {ADAGRAD_PREFETCH_AUTO, 0, 1, 3, 40, SIZE_MAX - 1, 2, ADAGRAD_PREFETCH_AUTO};
    adagrad_set_prefetch_distance(distances[c.prefetch & 7]);

    const args a = make_args(&c);
    g_args = &a;
    g_row = "-";
    g_what = "decoding";
    load_all(&c);
    const unsigned set = applicable(&a);
    const bool valid = set == 0 && a.n > 0;
    if (valid)
        capture_inputs(&a);
    const bool fast = (c.opt.flags & ADAGRAD_FAST) && !a.rowwise;

    /* Every row against the model (and, EXACT, against the scalar row). */
    static float sc_table[MAX_ROWS * MAX_DIM], sc_acc[MAX_ROWS * MAX_DIM];
    for (size_t ri = 0; ri < fuzz_nrows; ri++) {
        const adagrad_kernels *k = fuzz_rows[ri];
        g_row = k->name;
        g_what = c.general ? "adagrad_sparse_step_with" : "adagrad_sparse_with";
        load_all(&c);
        snapshot();
        const int st = call_with(k, &a);
        check_status(st, set);
        if (!valid) {
            check_writes(&a, false, "invalid call");
            continue;
        }
        model(&a, k);
        check_result(&a, k, "the model");
        if (fast)
            check_fast_bounds(&a, k);
        const size_t tn = a.rows * a.dim, an = a.rowwise ? a.rows : tn;
        if (ri == 0) {
            memcpy(sc_table, a.table, tn * 4);
            memcpy(sc_acc, a.acc, an * 4);
        } else if (!fast) {
            for (size_t i = 0; i < tn; i++)
                if (!same_f32(a.table[i], sc_table[i]))
                    fail("table element %zu: 0x%08x, the scalar row 0x%08x", i, f32_bits(a.table[i]), f32_bits(sc_table[i]));
            for (size_t i = 0; i < an; i++)
                if (!same_f32(a.acc[i], sc_acc[i]))
                    fail("accumulator %zu: 0x%08x, the scalar row 0x%08x", i, f32_bits(a.acc[i]), f32_bits(sc_acc[i]));
        }
    }

    /* The public entry point: the active row's status and bits. */
    const adagrad_kernels *active = adagrad_active_kernels();
    g_row = active->name;
    g_what = c.general ? "adagrad_sparse_step" : "the v0.1 entry point";
    const bool use_ws = (c.kind & 0x10) != 0;
    args pa = a;
    if (!use_ws) {
        pa.ws = NULL;
        pa.ws_bytes = 0;
    }
    g_args = &pa;
    load_all(&c);
    snapshot();
    const unsigned pset = applicable(&pa);
    if (pset == 0 && pa.n > 0)
        capture_inputs(&pa);
    const int pst = call_public(&pa, use_ws);
    check_status(pst, pset);
    if (pset != 0 || pa.n == 0) {
        check_writes(&pa, false, "invalid call");
    } else {
        model(&pa, active);
        check_result(&pa, active, "the active row's model");
    }
    if (c.general)
        check_general_public(&c, &pa, pst);
    g_args = NULL;
    return 0;
}
