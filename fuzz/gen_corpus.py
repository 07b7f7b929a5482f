#!/usr/bin/env python3
"""libadagrad -- writes the seed corpora of fuzz/fuzz_dense.c into fuzz/corpus/
and of fuzz/fuzz_sparse.c into fuzz/corpus-sparse/.

    /usr/bin/python3 fuzz/gen_corpus.py [OUT_DIR [SPARSE_OUT_DIR]]

Deterministic: the same files every run. The byte format is the one
documented at the top of fuzz_dense.c (LLVMFuzzerTestOneInput decodes it);
each seed is one kind of call the fuzzer should start from: typical training
steps with every flag combination and lengths around the vector widths,
special values, FAST's range edges, invalid hyper-parameters and flags,
every pointer mode (NULL, overlap, size overflow, address-space wrap, n = 0),
the multi-threaded step, ISA switching, and adagrad_split_range edge cases;
then the same through the general API's descriptor (general-*): valid fp32
descriptors with first_index, seed and step, every kind of type field
(BF16, F16, values that name no type), a NULL descriptor.
The sparse seeds (format at the top of fuzz_sparse.c): sparse and row-wise,
int64 and int32 indices, every flag combination (SUM_DUPLICATES,
TORCH_SPARSE, STOCHASTIC_ROUNDING, unknown bits), duplicated indices, every
kind of bad index (first, middle, last), dim = 0, rows = 0, workspace sizes,
every pointer mode; v0.1's table entry points with ROWWISE and POOL_MEAN
(v01-*); then the descriptor path (general-*): valid descriptors, row-wise
by the flag, every kind of type and index type field, bag inputs, a NULL
descriptor, the threads argument, the workspace in the descriptor.
"""
import os
import struct
import sys

MAXIMIZE, EPS_INSIDE, FAST = 1, 2, 4
STOCH = 0x20  # ADAGRAD_STOCHASTIC_ROUNDING
ROWWISE, POOL_MEAN = 0x40, 0x80

# type field selectors (fuzz_common.h rd_dtype): ('none', k) is no_dtype_bits[k] / no_itype_bits[k]
DTYPE = {'f32': 0, 'bf16': 1, 'f16': 2}


def type_sel(t):
    """A type field's two selector bits and the byte that follows them."""
    if isinstance(t, tuple):
        return 3, bytes([t[1]])
    return DTYPE[t], b''


def dense_desc(param='f32', grad='f32', same=False, null=False, first_index=None, seed_step=None):
    """fuzz_dense.c's descriptor fields (after the threads byte, whose bit 3 says they are there)."""
    ps, pb = type_sel(param)
    gs, gb = (0, b'') if same else type_sel(grad)
    d = (ps | gs << 2 | int(same) << 4 | int(null) << 5 | int(first_index is not None) << 6 |
         int(seed_step is not None) << 7)
    b = bytes([d]) + pb + gb
    if first_index is not None:
        b += struct.pack('<Q', first_index)
    if seed_step is not None:
        b += struct.pack('<QQ', *seed_step)
    return b


def sparse_desc(table='f32', grad='f32', same=False, index_type=None, null=False, offsets=False, n_bags=None,
                psw=False, threads=0):
    """fuzz_sparse.c's descriptor fields (after the prefetch byte, kind bit 5). index_type, n_bags: the byte
    choosing the value (no_itype_bits, bag_counts), or None for the layout's type and no bags."""
    ts, tb = type_sel(table)
    gs, gb = (0, b'') if same else type_sel(grad)
    d = (ts | gs << 2 | int(same) << 4 | int(index_type is not None) << 5 | int(null) << 6 |
         int(offsets) << 7)
    bags = int(n_bags is not None) | int(psw) << 1 | ((threads + 2) % 8) << 2
    b = bytes([d, bags]) + tb + gb
    if index_type is not None:
        b += bytes([index_type])
    if n_bags is not None:
        b += bytes([n_bags])
    return b

# indices into hyper_bits[] of fuzz_dense.c
H = {'0': 0, '0.01': 1, '0.1': 2, '1': 3, '1e-3': 4, '1e-10': 5, '1e-8': 6, '0.5': 7, '2': 8,
     '10': 9, '100': 10, '1e10': 11, '2^99': 12, '2^99+': 13, '2^100': 14, 'max': 15,
     'denorm': 16, 'min': 17, '-0': 18, '2^-100': 19, '1e-5': 20, '1e-4': 21, '0.25': 22,
     '2^64': 23, '-1': 24, 'nan': 25, 'inf': 26, '-inf': 27, '-denorm': 28, '-nan': 29,
     'snan': 30, '2^99-': 31}


def hyper(v):
    if isinstance(v, str):
        return bytes([H[v]])
    kind, bits = v  # ('pos', bits): sign cleared; ('raw', bits): as is
    return bytes([0x80 if kind == 'pos' else 0xf0]) + struct.pack('<I', bits)


def size_arg(v):
    if isinstance(v, tuple):  # ('max-', k): SIZE_MAX - k
        return bytes([3 | v[1] << 2])
    if v < 64:
        return bytes([v << 2])
    if v < 65536:
        return bytes([1]) + struct.pack('<H', v)
    return bytes([2]) + struct.pack('<Q', v)


def split_args(how=0, n=100, parts=3, index=1):
    b = bytes([how]) + size_arg(n) + size_arg(parts)
    if (how & 3) == 0 and (parts if not isinstance(parts, tuple) else 1):
        b += struct.pack('<Q', index)
    elif (how & 3) != 1:
        b += size_arg(index)
    return b


def values(kind, n, arg=None):
    """kind: 'raw' (arg: list of u32), 'table' (arg: list of indices),
    'rand' (arg: (seed, center, width)), 'mixed' (arg: (seed, center, width, [(pos, idx)]))."""
    if kind == 'raw':
        return 0, b''.join(struct.pack('<I', arg[i % len(arg)]) for i in range(n))
    if kind == 'table':
        return 1, bytes(arg[i % len(arg)] for i in range(n))
    if kind == 'rand':
        seed, center, width = arg
        return 2, struct.pack('<IBB', seed, center, width)
    seed, center, width, specials = arg
    b = struct.pack('<IBB', seed, center, width) + bytes([len(specials)])
    for pos, idx in specials:
        b += struct.pack('<HB', pos, idx)
    return 3, b


def seed(n=100, place=(0, 0, 0), flags=0, lr='0.01', eps='1e-10', wd='0', mode=0, threads=2,
         split=37, isa=0, split_range=None, param=('rand', (1, 127, 8)),
         sum_=('rand', (3, 110, 12)), grad=('rand', (5, 120, 12)), flag_byte=None, raw_flags=None, desc=None):
    """desc: dense_desc(...) for the general API, None for v0.1's entry points."""
    b = struct.pack('<H', n) + bytes(place)
    f = flags if flag_byte is None else flag_byte
    b += bytes([f])
    if f == 0xff:
        b += struct.pack('<I', raw_flags)
    b += hyper(lr) + hyper(eps) + hyper(wd)
    b += bytes([mode, threads | (0x08 if desc is not None else 0)]) + (desc or b'')
    b += struct.pack('<H', split) + bytes([isa])
    b += split_range if split_range is not None else split_args()
    vm, body = 0, b''
    for shift, (kind, arg) in zip((0, 2, 4), (param, sum_, grad)):
        m, v = values(kind, n, arg)
        vm |= m << shift
        body += v
    return b + bytes([vm]) + body


SUM_DUP, TORCH = 8, 16


def sparse_seed(rowwise=False, idx32=False, ws=0, public_ws=False, rows=8, dim=20, idx=(1, 3, 5),
                place=(0, 0, 0, 0), flags=0, extra_bit=None, raw_flags=None, lr='0.01', eps='1e-10', wd='0',
                ptr_mode=0, aux=0, prefetch=0, table=('rand', (1, 127, 8)), acc=('rand', (3, 110, 12)),
                grads=('rand', (5, 120, 12)), desc=None):
    """idx: index bytes (< 0xc0 in range mod rows, 0xc0+k repeats an earlier one, 0xe0+ bad).
    desc: sparse_desc(...) for the descriptor path, None for v0.1's entry points."""
    kind = int(rowwise) | int(idx32) << 1 | ws << 2 | int(public_ws) << 4 | (0x20 if desc is not None else 0)
    n = len(idx)
    b = bytes([kind, rows, dim, n]) + bytes(place)
    f = 0xff if raw_flags is not None else flags | (0x20 if extra_bit is not None else 0)
    b += bytes([f])
    if extra_bit is not None:
        b += bytes([extra_bit])
    if raw_flags is not None:
        b += struct.pack('<I', raw_flags)
    b += hyper(lr) + hyper(eps) + hyper(wd) + bytes([ptr_mode, aux, prefetch]) + (desc or b'') + bytes(idx)
    # the accumulator's layout: row-wise by kind bit 0, and on the descriptor path by the flag too
    all_flags = raw_flags if raw_flags is not None else (flags | (1 << (5 + extra_bit % 27) if extra_bit is not None else 0))
    acc_n = rows if rowwise or (desc is not None and all_flags & ROWWISE) else rows * dim
    vm, body = 0, b''
    for shift, (kind_, arg), cnt in zip((0, 2, 4), (table, acc, grads), (rows * dim, acc_n, n * dim)):
        m, v = values(kind_, cnt, arg)
        vm |= m << shift
        body += v
    return b + bytes([vm]) + body


def sparse_seeds():
    seeds = {}
    dup = (2, 5, 0xc0, 7, 2, 0xc1, 1)  # 2 and 5 named again
    for rowwise in (False, True):
        w = 'rowwise' if rowwise else 'sparse'
        for fl in range(32):
            if fl & TORCH and (rowwise or fl & FAST):
                continue
            if rowwise and fl & FAST and fl & MAXIMIZE:
                continue
            dim = (1, 3, 8, 15, 16, 17, 31, 33, 40)[fl % 9]
            seeds[f'{w}-flags{fl:02x}-dim{dim}'] = sparse_seed(
                rowwise=rowwise, idx32=bool(fl & 1), dim=dim, rows=11, idx=dup, flags=fl,
                wd=('0', '1e-4')[fl % 2], eps=('1e-10', '0', '0.1', '1e-8')[fl % 4], lr=('0.01', '0.1', '1')[fl % 3],
                place=(fl % 16, (3 * fl) % 16, 0x80 if fl & 4 else 1, 0x80 if fl & 2 else 0),
                public_ws=bool(fl & SUM_DUP), prefetch=fl % 8)
        # bad indices: first, in the middle, last (all rows or none), int64 and int32
        for i32 in (False, True):
            t = 'i32' if i32 else 'i64'
            for b in range(16):
                seeds[f'{w}-bad-index-{b:x}-last-{t}'] = sparse_seed(
                    rowwise=rowwise, idx32=i32, idx=(0, 1, 2, 3, 0xe0 | b), rows=5, dim=9)
            seeds[f'{w}-bad-index-first-{t}'] = sparse_seed(rowwise=rowwise, idx32=i32, idx=(0xe1, 1, 2), rows=5)
            seeds[f'{w}-bad-index-middle-sumdup-{t}'] = sparse_seed(rowwise=rowwise, idx32=i32, idx=(1, 0xe0, 1),
                                                                     flags=SUM_DUP, public_ws=True)
        # special values, FAST edges, sizes
        seeds[f'{w}-specials'] = sparse_seed(rowwise=rowwise, rows=4, dim=16, idx=(0, 1, 2, 3, 0xc0), flags=FAST,
                                             table=('table', list(range(64))),
                                             acc=('table', [(7 * i + 3) % 64 for i in range(64)]),
                                             grads=('table', [(13 * i + 5) % 64 for i in range(64)]))
        seeds[f'{w}-wide-values'] = sparse_seed(rowwise=rowwise, rows=6, dim=24, idx=(5, 4, 0xc1, 3), flags=FAST,
                                                lr='100', wd='0.5', table=('rand', (21, 127, 63)),
                                                acc=('rand', (23, 127, 63)),
                                                grads=('mixed', (25, 127, 63, [(0, 10), (50, 12), (70, 13)])))
        seeds[f'{w}-dim0'] = sparse_seed(rowwise=rowwise, dim=0, idx=(1, 2, 0xc0))
        seeds[f'{w}-dim0-bad-index'] = sparse_seed(rowwise=rowwise, dim=0, idx=(1, 2, 0xe1))
        seeds[f'{w}-rows0'] = sparse_seed(rowwise=rowwise, rows=0, idx=(0,))
        seeds[f'{w}-n0-bad-lr'] = sparse_seed(rowwise=rowwise, idx=(), lr='nan')
        seeds[f'{w}-max'] = sparse_seed(rowwise=rowwise, rows=24, dim=40, idx=tuple(range(0, 80, 2)),
                                        place=(0x80, 0x80, 0x80, 0x80), flags=SUM_DUP, public_ws=True)
        # workspace: exact, larger, one byte short, NULL
        for wsm, name in enumerate(('exact', 'more', 'short', 'null')):
            seeds[f'{w}-ws-{name}'] = sparse_seed(rowwise=rowwise, ws=wsm, flags=SUM_DUP, idx=dup, public_ws=True,
                                                  aux=wsm * 3)
        seeds[f'{w}-sumdup-plain-entry'] = sparse_seed(rowwise=rowwise, flags=SUM_DUP, idx=dup)
        # invalid options
        seeds[f'{w}-bad-eps'] = sparse_seed(rowwise=rowwise, eps='-1')
        seeds[f'{w}-bad-wd'] = sparse_seed(rowwise=rowwise, wd='inf')
        seeds[f'{w}-bad-lr-raw'] = sparse_seed(rowwise=rowwise, lr=('raw', 0xff800001))
        seeds[f'{w}-unknown-flag'] = sparse_seed(rowwise=rowwise, extra_bit=3)
        seeds[f'{w}-raw-flags'] = sparse_seed(rowwise=rowwise, raw_flags=0x80000000 | SUM_DUP)
        seeds[f'{w}-torch-fast'] = sparse_seed(rowwise=rowwise, flags=TORCH | FAST)
        # every pointer mode
        modes = {0xe0: 'opt-null', 0xe1: 'table-null', 0xe2: 'acc-null', 0xe3: 'indices-null', 0xe4: 'grads-null',
                 0xe5: 'acc-in-table', 0xe6: 'grads-in-table', 0xe7: 'indices-in-grads', 0xe8: 'indices-in-table',
                 0xe9: 'ws-in-table', 0xea: 'grads-in-acc', 0xeb: 'rows-huge', 0xec: 'n-huge', 0xed: 'table-wraps',
                 0xee: 'n0-any-pointers', 0xef: 'dim-huge', 0xf0: 'ws-is-grads', 0xf1: 'indices-wrap',
                 0xf2: 'ws-wraps', 0xf3: 'ws-bytes-max', 0xf4: 'acc-is-table'}
        for m, name in modes.items():
            seeds[f'{w}-ptr-{name}'] = sparse_seed(rowwise=rowwise, ptr_mode=m, aux=3,
                                                   flags=SUM_DUP if m in (0xe9, 0xf0, 0xf2, 0xf3) else 0,
                                                   public_ws=m in (0xe9, 0xf0, 0xf2, 0xf3))
        seeds[f'{w}-ptr-rows-huge-dim0'] = sparse_seed(rowwise=rowwise, ptr_mode=0xeb, dim=0, idx=(0, 1, 0xe5))
        # v0.1's table entry points: STOCHASTIC_ROUNDING is ignored; ROWWISE and POOL_MEAN are errors, n = 0 too
        seeds[f'v01-{w}-stochastic-rounding'] = sparse_seed(rowwise=rowwise, extra_bit=0, idx=dup)
        seeds[f'v01-{w}-rowwise-flag'] = sparse_seed(rowwise=rowwise, flags=ROWWISE)
        seeds[f'v01-{w}-rowwise-flag-n0'] = sparse_seed(rowwise=rowwise, flags=ROWWISE, idx=())
        seeds[f'v01-{w}-pool-mean'] = sparse_seed(rowwise=rowwise, flags=POOL_MEAN, public_ws=True)
        seeds[f'v01-{w}-pool-mean-opt-null-n0'] = sparse_seed(rowwise=rowwise, flags=POOL_MEAN, idx=(),
                                                             ptr_mode=0xee, aux=1)
        seeds.update(general_sparse_seeds(rowwise, dup))
    # the descriptor path: the state by the flag alone
    seeds['general-rowwise-by-flag'] = sparse_seed(flags=ROWWISE, idx=(2, 5, 0xc0, 7), desc=sparse_desc())
    seeds['general-rowwise-by-flag-sumdup'] = sparse_seed(flags=ROWWISE | SUM_DUP, idx=(2, 5, 0xc0, 7),
                                                          public_ws=True, desc=sparse_desc())
    seeds['general-rowwise-by-flag-torch'] = sparse_seed(flags=ROWWISE | TORCH, desc=sparse_desc())
    return seeds


def general_sparse_seeds(rowwise, dup):
    """The descriptor path (kind bit 5), sparse or row-wise."""
    w = 'rowwise' if rowwise else 'sparse'
    seeds = {}
    g = f'general-{w}'
    # valid fp32 descriptors: flag combinations, int64 / int32, STOCHASTIC_ROUNDING, the threads argument
    for fl in range(0, 32, 3):
        if fl & TORCH and (rowwise or fl & FAST):
            continue
        dim = (1, 4, 8, 16, 17, 33, 40)[fl % 7]
        seeds[f'{g}-flags{fl:02x}-dim{dim}'] = sparse_seed(
            rowwise=rowwise, idx32=bool(fl & 2), dim=dim, rows=11, idx=dup, flags=fl,
            extra_bit=0 if fl & 1 else None, wd=('0', '1e-4')[fl % 2], eps=('1e-10', '0', '0.1')[fl % 3],
            place=(fl % 16, (5 * fl) % 16, 0x80 if fl & 4 else 2, 0x80 if fl & 8 else 1),
            public_ws=bool(fl & SUM_DUP), prefetch=fl % 8, desc=sparse_desc(threads=fl % 8 - 2))
    seeds[f'{g}-specials'] = sparse_seed(rowwise=rowwise, rows=4, dim=16, idx=(0, 1, 2, 3, 0xc0), flags=FAST,
                                         table=('table', list(range(64))),
                                         acc=('table', [(7 * i + 3) % 64 for i in range(64)]),
                                         grads=('table', [(13 * i + 5) % 64 for i in range(64)]),
                                         desc=sparse_desc(same=True))
    seeds[f'{g}-i32-bad-index-last'] = sparse_seed(rowwise=rowwise, idx32=True, idx=(0, 1, 2, 0xe0), rows=5,
                                                   desc=sparse_desc())
    seeds[f'{g}-dim0'] = sparse_seed(rowwise=rowwise, dim=0, idx=(1, 2, 0xc0), desc=sparse_desc())
    seeds[f'{g}-rows0'] = sparse_seed(rowwise=rowwise, rows=0, idx=(0,), desc=sparse_desc())
    seeds[f'{g}-n0'] = sparse_seed(rowwise=rowwise, idx=(), desc=sparse_desc(threads=3))
    # type fields: BF16 and F16 tables, gradients of another type, values that name no type (n = 0 too)
    for t in ('bf16', 'f16', ('none', 0), ('none', 7)):
        name = t if isinstance(t, str) else f'none{t[1]}'
        seeds[f'{g}-table-{name}'] = sparse_seed(rowwise=rowwise, desc=sparse_desc(table=t))
        seeds[f'{g}-grad-{name}'] = sparse_seed(rowwise=rowwise, desc=sparse_desc(grad=t))
        seeds[f'{g}-both-{name}'] = sparse_seed(rowwise=rowwise, desc=sparse_desc(table=t, same=True))
        seeds[f'{g}-n0-table-{name}'] = sparse_seed(rowwise=rowwise, idx=(), desc=sparse_desc(table=t))
    seeds[f'{g}-table-bf16-wraps'] = sparse_seed(rowwise=rowwise, ptr_mode=0xed, aux=5, desc=sparse_desc(table='bf16'))
    seeds[f'{g}-grad-f16-in-table'] = sparse_seed(rowwise=rowwise, ptr_mode=0xe6, aux=3, desc=sparse_desc(grad='f16'))
    for k in (0, 1, 6):
        seeds[f'{g}-index-type-none{k}'] = sparse_seed(rowwise=rowwise, idx32=bool(k & 1),
                                                       desc=sparse_desc(index_type=k))
    seeds[f'{g}-n0-index-type-none'] = sparse_seed(rowwise=rowwise, idx=(), desc=sparse_desc(index_type=2))
    # bag inputs: not in this version; n_bags, weights and POOL_MEAN need offsets
    seeds[f'{g}-offsets'] = sparse_seed(rowwise=rowwise, desc=sparse_desc(offsets=True, n_bags=0))
    seeds[f'{g}-offsets-only'] = sparse_seed(rowwise=rowwise, desc=sparse_desc(offsets=True))
    seeds[f'{g}-offsets-n0'] = sparse_seed(rowwise=rowwise, idx=(), desc=sparse_desc(offsets=True, n_bags=1))
    seeds[f'{g}-offsets-weights-mean'] = sparse_seed(rowwise=rowwise, flags=POOL_MEAN,
                                                     desc=sparse_desc(offsets=True, n_bags=3, psw=True))
    seeds[f'{g}-n-bags'] = sparse_seed(rowwise=rowwise, desc=sparse_desc(n_bags=7))
    seeds[f'{g}-n0-n-bags'] = sparse_seed(rowwise=rowwise, idx=(), desc=sparse_desc(n_bags=5))
    seeds[f'{g}-weights'] = sparse_seed(rowwise=rowwise, desc=sparse_desc(psw=True))
    seeds[f'{g}-pool-mean'] = sparse_seed(rowwise=rowwise, flags=POOL_MEAN, desc=sparse_desc())
    seeds[f'{g}-n0-pool-mean'] = sparse_seed(rowwise=rowwise, flags=POOL_MEAN, idx=(), desc=sparse_desc())
    # the descriptor pointer NULL
    seeds[f'{g}-t-null'] = sparse_seed(rowwise=rowwise, desc=sparse_desc(null=True))
    seeds[f'{g}-t-null-n0-opt-null'] = sparse_seed(rowwise=rowwise, idx=(), ptr_mode=0xee, aux=1,
                                                   desc=sparse_desc(null=True))
    seeds[f'{g}-t-null-bad-lr'] = sparse_seed(rowwise=rowwise, lr='nan', desc=sparse_desc(null=True))
    # the workspace in the descriptor: exact, larger, one byte short, NULL; the public call without it
    for wsm, name in enumerate(('exact', 'more', 'short', 'null')):
        seeds[f'{g}-ws-{name}'] = sparse_seed(rowwise=rowwise, ws=wsm, flags=SUM_DUP, idx=dup, public_ws=True,
                                              aux=wsm * 3, desc=sparse_desc())
    seeds[f'{g}-ws-public-none'] = sparse_seed(rowwise=rowwise, flags=SUM_DUP, idx=dup, desc=sparse_desc())
    # every pointer mode
    for m in range(0xe0, 0xf5):
        sd = m in (0xe9, 0xf0, 0xf2, 0xf3)
        seeds[f'{g}-ptr-{m:02x}'] = sparse_seed(rowwise=rowwise, ptr_mode=m, aux=3, flags=SUM_DUP if sd else 0,
                                                public_ws=sd, desc=sparse_desc(threads=m % 8 - 2))
    return seeds


def general_dense_seeds(ptr_names):
    """The general API (threads bit 3): adagrad_step_with, adagrad_step, adagrad_step_mt."""
    seeds = {}
    # valid fp32 descriptors: every flag combination with STOCHASTIC_ROUNDING on half, first_index, seed and step
    lengths = (1, 8, 17, 33, 64, 100, 255, 300)
    for flags in range(8):
        n = lengths[flags]
        fi = (None, 5, 1 << 63, (1 << 64) - 1)[flags % 4]
        seeds[f'general-flags{flags}-n{n}'] = seed(
            n=n, flags=flags | (STOCH if flags & 1 else 0), wd=('0', '1e-4')[flags % 2],
            place=(flags, 15 - flags, (2 * flags) % 16), split=11 * flags + 3,
            desc=dense_desc(first_index=fi, seed_step=(flags, 1000 + flags) if flags & 2 else None))
    seeds['general-specials-fast'] = seed(n=64, flags=FAST | STOCH, param=('table', list(range(64))),
                                          sum_=('table', [(7 * i + 3) % 64 for i in range(64)]),
                                          grad=('table', [(13 * i + 5) % 64 for i in range(64)]),
                                          desc=dense_desc(same=True, first_index=1 << 40))
    seeds['general-fast-mixed'] = seed(n=200, flags=FAST, sum_=('mixed', (17, 100, 60, [(5, 20), (77, 23)])),
                                       desc=dense_desc(first_index=7))
    seeds['general-n0'] = seed(n=0, desc=dense_desc())
    seeds['general-bad-flag-rowwise'] = seed(n=20, flag_byte=0x08 | 3 << 4, desc=dense_desc())  # bit 6
    seeds['general-bad-lr'] = seed(n=20, lr='-1', desc=dense_desc(param='bf16'))
    # type fields: BF16 and F16 parameters, gradients of another type, values that name no type
    for t in ('bf16', 'f16', ('none', 0), ('none', 5), ('none', 7)):
        name = t if isinstance(t, str) else f'none{t[1]}'
        seeds[f'general-param-{name}'] = seed(n=20, desc=dense_desc(param=t))
        seeds[f'general-grad-{name}'] = seed(n=20, desc=dense_desc(grad=t))
        seeds[f'general-both-{name}'] = seed(n=20, desc=dense_desc(param=t, same=True))
        seeds[f'general-n0-param-{name}'] = seed(n=0, desc=dense_desc(param=t))
        seeds[f'general-n0-opt-null-grad-{name}'] = seed(n=0, mode=0xef, split=2, desc=dense_desc(grad=t))
    seeds['general-param-bf16-grad-f16'] = seed(n=20, desc=dense_desc(param='bf16', grad='f16'))
    seeds['general-param-bf16-wraps'] = seed(n=33, mode=0xee, split=30, desc=dense_desc(param='bf16'))
    seeds['general-grad-f16-in-param'] = seed(n=33, mode=0xe6, split=5, desc=dense_desc(grad='f16'))
    # the descriptor pointer NULL
    seeds['general-t-null'] = seed(n=20, desc=dense_desc(null=True))
    seeds['general-t-null-opt-null'] = seed(n=20, mode=0xe0, desc=dense_desc(null=True))
    seeds['general-t-null-n0'] = seed(n=0, desc=dense_desc(null=True))
    seeds['general-t-null-bad-eps'] = seed(n=20, eps='nan', desc=dense_desc(null=True))
    # every pointer mode, the split step, ISA switching
    for mode, name in ptr_names.items():
        seeds[f'general-ptr-{name}'] = seed(n=33, mode=mode, split=5 if mode != 0xef else 2,
                                            desc=dense_desc(first_index=mode))
    seeds['general-mt-big'] = seed(n=5, mode=0xf0, threads=4, desc=dense_desc(first_index=3))
    seeds['general-mt-big-bf16'] = seed(n=5, mode=0xf0, threads=3, desc=dense_desc(param='bf16'))
    for isa in range(4):
        seeds[f'general-use-isa-{isa}'] = seed(n=21, isa=0x80 | isa, flags=FAST if isa & 1 else 0,
                                               desc=dense_desc(first_index=isa))
    return seeds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')
    sparse_out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), 'corpus-sparse')
    os.makedirs(out, exist_ok=True)
    seeds = {}
    # typical steps: every flag combination, with and without weight decay, lengths around the vectors
    lengths = [1, 7, 8, 9, 15, 16, 17, 33, 63, 100, 255, 300, 3, 31, 47, 64]
    for flags in range(8):
        for j, wd in enumerate(('0', '1e-4')):
            n = lengths[2 * flags + j]
            seeds[f'step-flags{flags}-wd{j}-n{n}'] = seed(
                n=n, flags=flags, wd=wd, place=(flags, 15 - flags, 3 * j),
                lr=('0.01', '0.1', '1', '1e-3')[flags % 4], eps=('1e-10', '1e-8', '0', '0.1')[flags % 4])
    # special values everywhere (table bytes), EXACT and FAST, ε = 0 and not
    for fl, e in ((0, '1e-10'), (FAST, '1e-10'), (EPS_INSIDE | FAST, '0'), (MAXIMIZE, '0')):
        seeds[f'specials-flags{fl}-eps{e}'] = seed(
            n=64, flags=fl, eps=e, wd='0.01' if fl & MAXIMIZE else '0',
            param=('table', list(range(64))), sum_=('table', [(7 * i + 3) % 64 for i in range(64)]),
            grad=('table', [(13 * i + 5) % 64 for i in range(64)]))
    # raw bit patterns: denormals, ±0, NaN payloads, ±inf
    raw = [0x00000001, 0x80000000, 0x7fc00001, 0xff800000, 0x007fffff, 0x3f800000, 0x7f7fffff, 0x80400000]
    seeds['raw-bits-fast'] = seed(n=24, flags=FAST, param=('raw', raw), sum_=('raw', raw[::-1]),
                                  grad=('raw', raw[3:] + raw[:3]))
    # FAST's range edges: s around 2^±100, ε at 2^99 and just above
    seeds['fast-edges-eps2^99'] = seed(n=40, flags=FAST, eps='2^99', sum_=('rand', (9, 227, 2)),
                                       grad=('rand', (11, 177, 2)))
    seeds['fast-edges-eps2^99+'] = seed(n=40, flags=FAST, eps='2^99+', lr='1')
    seeds['fast-edges-small'] = seed(n=40, flags=FAST | EPS_INSIDE, eps='0', sum_=('rand', (13, 27, 2)),
                                     grad=('rand', (15, 77, 2)))
    seeds['fast-mixed'] = seed(n=200, flags=FAST, sum_=('mixed', (17, 100, 60, [(5, 20), (77, 23), (150, 0)])),
                               grad=('mixed', (19, 127, 63, [(0, 10), (199, 12)])))
    seeds['fast-wide'] = seed(n=300, flags=FAST | MAXIMIZE, wd='0.5', lr='100',
                              param=('rand', (21, 127, 63)), sum_=('rand', (23, 127, 63)),
                              grad=('rand', (25, 127, 63)))
    seeds['fast-max-lr'] = seed(n=50, flags=FAST, lr='max', eps='0', grad=('rand', (27, 160, 30)))
    # invalid hyper-parameters and flags
    seeds['bad-lr-nan'] = seed(n=20, lr='nan')
    seeds['bad-eps-neg'] = seed(n=20, eps='-1')
    seeds['bad-wd-inf'] = seed(n=20, wd='inf')
    seeds['bad-lr-raw'] = seed(n=20, lr=('raw', 0xff800001))
    seeds['bad-flag-bit'] = seed(n=20, flag_byte=0x08 | 0x50 | FAST)
    seeds['bad-flags-raw'] = seed(n=20, flag_byte=0xff, raw_flags=0x80000000)
    seeds['ok-denorm-hypers'] = seed(n=20, lr='denorm', eps='min', wd='-0')
    # every pointer mode
    names = {0xe0: 'opt-null', 0xe1: 'param-null', 0xe2: 'sum-null', 0xe3: 'grad-null', 0xe4: 'all-null',
             0xe5: 'sum-in-param', 0xe6: 'grad-in-param', 0xe7: 'grad-in-sum', 0xe8: 'param-is-sum',
             0xe9: 'grad-is-sum', 0xea: 'one-float-shared', 0xeb: 'n-overflow', 0xec: 'n-max',
             0xed: 'n-wraps', 0xee: 'param-wraps', 0xef: 'n0-any-pointers'}
    for mode, name in names.items():
        seeds[f'ptr-{name}'] = seed(n=33, mode=mode, split=5 if mode != 0xef else 2)
    seeds['ptr-n0-null-opt'] = seed(n=0, mode=0xef, split=3)
    seeds['n0-bad-opt'] = seed(n=0, lr='-1')
    # buffers against the guard pages
    seeds['guard-ends'] = seed(n=300, place=(0x80, 0x80, 0x80), flags=FAST)
    seeds['guard-ends-tail'] = seed(n=13, place=(0x80, 0x81, 0x80))
    # adagrad_step_f32_mt over more than one thread's share
    seeds['mt-big-2'] = seed(n=5, mode=0xf0, threads=4)
    seeds['mt-big-default'] = seed(n=0, mode=0xf0, threads=1, flags=FAST)
    # adagrad_use_isa
    for isa in range(4):
        seeds[f'use-isa-{isa}'] = seed(n=21, isa=0x80 | isa, flags=FAST if isa & 1 else 0)
    seeds['use-isa-invalid'] = seed(n=21, isa=0xc0 | 0x3f)
    # adagrad_split_range edge cases
    seeds['split-huge'] = seed(n=4, split_range=split_args(how=0, n=('max-', 0), parts=(1 << 63) + 5,
                                                           index=(1 << 63) + 1))
    seeds['split-last'] = seed(n=4, split_range=split_args(how=1, n=1000, parts=7))
    seeds['split-parts0'] = seed(n=4, split_range=split_args(how=2, n=100, parts=0, index=0))
    seeds['split-null'] = seed(n=4, split_range=split_args(how=4 | 8, n=100, parts=2, index=1))
    seeds['split-many-parts'] = seed(n=4, split_range=split_args(how=2, n=17, parts=60, index=59))
    seeds.update(general_dense_seeds(names))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    print(f'{len(seeds)} seeds in {out}')
    os.makedirs(sparse_out, exist_ok=True)
    sparse = sparse_seeds()
    for name, data in sorted(sparse.items()):
        with open(os.path.join(sparse_out, name), 'wb') as f:
            f.write(data)
    print(f'{len(sparse)} seeds in {sparse_out}')


if __name__ == '__main__':
    main()
