#!/usr/bin/env python3
"""libadagrad -- writes the seed corpus of fuzz/fuzz_dense.c into fuzz/corpus/.

    /usr/bin/python3 fuzz/gen_corpus.py [OUT_DIR]

Deterministic: the same files every run. The byte format is the one
documented at the top of fuzz_dense.c (LLVMFuzzerTestOneInput decodes it);
each seed is one kind of call the fuzzer should start from: typical training
steps with every flag combination and lengths around the vector widths,
special values, FAST's range edges, invalid hyper-parameters and flags,
every pointer mode (NULL, overlap, size overflow, address-space wrap, n = 0),
the multi-threaded step, ISA switching, and adagrad_split_range edge cases.
"""
import os
import struct
import sys

MAXIMIZE, EPS_INSIDE, FAST = 1, 2, 4

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
         sum_=('rand', (3, 110, 12)), grad=('rand', (5, 120, 12)), flag_byte=None, raw_flags=None):
    b = struct.pack('<H', n) + bytes(place)
    f = flags if flag_byte is None else flag_byte
    b += bytes([f])
    if f == 0xff:
        b += struct.pack('<I', raw_flags)
    b += hyper(lr) + hyper(eps) + hyper(wd)
    b += bytes([mode, threads]) + struct.pack('<H', split) + bytes([isa])
    b += split_range if split_range is not None else split_args()
    vm, body = 0, b''
    for shift, (kind, arg) in zip((0, 2, 4), (param, sum_, grad)):
        m, v = values(kind, n, arg)
        vm |= m << shift
        body += v
    return b + bytes([vm]) + body


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')
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
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    print(f'{len(seeds)} seeds in {out}')


if __name__ == '__main__':
    main()
