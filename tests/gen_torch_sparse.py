#!/usr/bin/python3
"""Record nn.Embedding(sparse=True) + torch.optim.Adagrad trajectories.

Writes tests/torch_sparse_trajectories.h, data only: for a few small
embedding tables, the state (weight and Adagrad's `sum`) after every step of
training with sparse gradients, as a 64-bit hash per step and the whole
final state as uint32 bit patterns, one torch_sparse_case (declared in
tests/torch_replay.h) per case. tests/body_torch_sparse.c replays every case
through adagrad_sparse_step with ADAGRAD_SUM_DUPLICATES | ADAGRAD_TORCH_SPARSE
on every implementation and compares bit for bit, without torch.

    cd <repo> && /usr/bin/python3 tests/gen_torch_sparse.py [-o FILE] [--check]

Use Debian's interpreter (/usr/bin/python3 with python3-torch 1.13 and
numpy). The output is deterministic; --check writes nothing and fails
unless FILE already holds exactly what this run recorded.

What torch 1.13 does (torch/optim/adagrad.py, _single_tensor_adagrad, sparse
branch; foreach=False):
    grad = grad.coalesce()          duplicates summed: first copy, then += in
                                    the order of the (sorted) occurrences
    state_sum.add_(values.pow(2))   fl(g*g), then fl(s + that): NOT an fma
    std = state_sum.sparse_mask(grad)._values().sqrt_().add_(eps)
    param.add_(values / std, alpha=-clr)   fl(g / std), then one fused
                                    multiply-add with -clr (measured: the
                                    dense add_ with alpha is vec::fmadd)
That is ADAGRAD_TORCH_SPARSE's order (adagrad.h). coalesce's sum of a row
named twice is a + b whatever the order (IEEE addition commutes, and
copy-then-add treats -0 the same either way), but a row named three times
or more is summed in the order of coalesce's index sort, which is neither
list order nor stable (measured on 1.13: 4 occurrences were summed as
(21, 22, 6, 18) for list positions (6, 18, 21, 22)); libadagrad sums in
list order, so there the summed gradient may differ in its last bits. The
recorded batches therefore name each row at most twice per step. This script checks the measured
order on every case before writing anything (a numpy re-implementation must
give torch's bits), so a torch that rounds differently is reported here.

Inputs are not stored: the initial table, every step's indices and
gradient rows come from a stateless integer hash (mix32), building float32
bit patterns directly: values with gen_bits() of the dense generator
(torch_input_bits() in tests/torch_replay.h), indices with batch_indices()
below (mirrored in tests/body_torch_sparse.c). Indices are skewed (half of
them fall on rows 0-3), capped at two occurrences per row per batch.
"""

import argparse
import os
import sys

import numpy as np
import torch

# The dense generator's integer hash, value generator, state hash and C
# array writers; this folder is on sys.path when the script runs.
from gen_torch_trajectories import (FNV_OFFSET, M32, check_file, dist_c, gen_bits,  # noqa: E402
                                    hash_words, mix32, u32_array, u64_array)

# Value distributions (see gen_bits): initial weights, exponent in [-4, 1];
# gradients, exponent in [-10, 2], +-0 with odds 8/256.
WEIGHTS = (-4, 1, 0, 0, 0, 0, 0)
GRADS = (-10, 2, 8, 0, 0, 0, 0)


def batch_indices(seed, step, batch, rows):
    """Skewed indices (half on rows 0-3), each row at most twice per batch:
    a row already taken twice moves on to the next row (mod rows)."""
    count = [0] * rows
    out = []
    for b in range(batch):
        a = mix32(seed ^ mix32((step * 7919 + b + 0x1000) & M32))
        r = (a >> 1) % rows if (a & 1) else (a >> 1) % min(4, rows)
        while count[r] == 2:
            r = (r + 1) % rows
        count[r] += 1
        out.append(r)
    return out


CASES = [
    # name, rows, dim, batch, steps, lr, lr_decay, eps, init_acc, maximize
    ("dim1", 16, 1, 24, 12, 0.5, 0.0, 1e-10, 0.0, False),
    ("dim7", 20, 7, 24, 12, 0.1, 0.0, 1e-10, 0.1, False),
    ("dim16_decay", 20, 16, 24, 12, 0.05, 0.01, 1e-10, 0.0, False),
    ("dim37_eps", 24, 37, 32, 10, 0.3, 0.0, 1e-3, 0.05, False),
    ("dim64_maximize", 24, 64, 32, 10, 0.01, 0.0, 1e-10, 0.0, True),
]


def record(case):
    name, rows, dim, batch, steps, lr, lr_decay, eps, init_acc, maximize = case
    seed = mix32(sum(ord(c) * (i + 1) for i, c in enumerate(name)))
    w0 = np.array([gen_bits(WEIGHTS, seed, 0, i) for i in range(rows * dim)], dtype=np.uint32)
    emb = torch.nn.Embedding(rows, dim, sparse=True)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(w0.view(np.float32).reshape(rows, dim).copy()))
    opt = torch.optim.Adagrad(emb.parameters(), lr=lr, lr_decay=lr_decay, eps=eps,
                              initial_accumulator_value=init_acc, maximize=maximize, foreach=False)
    # numpy model of the order documented above, checked against torch every step
    P = w0.view(np.float32).reshape(rows, dim).copy()
    S = np.full((rows, dim), np.float32(init_acc), dtype=np.float32)
    f32 = np.float32
    hashes = []
    for k in range(1, steps + 1):
        idx = batch_indices(seed, k, batch, rows)
        g = np.array([gen_bits(GRADS, seed, k, i) for i in range(batch * dim)],
                     dtype=np.uint32).view(np.float32).reshape(batch, dim)
        opt.zero_grad()
        out = emb(torch.tensor(idx, dtype=torch.int64))
        out.backward(torch.from_numpy(g.copy()))
        opt.step()
        clr = lr / (1 + (k - 1) * lr_decay)
        neg = f32(-clr)
        for r in sorted(set(idx)):
            occ = [b for b in range(batch) if idx[b] == r]
            v = g[occ[0]].copy()
            for b in occ[1:]:
                v = (v + g[b]).astype(f32)
            if maximize:
                v = -v
            s = (S[r] + (v * v).astype(f32)).astype(f32)
            d = (np.sqrt(s).astype(f32) + f32(eps)).astype(f32)
            q = (v / d).astype(f32)
            P[r] = (P[r].astype(np.float64) + q.astype(np.float64) * np.float64(neg)).astype(f32)  # fma
            S[r] = s
        tw = emb.weight.detach().numpy().view(np.uint32)
        ts = opt.state[emb.weight]["sum"].numpy().view(np.uint32)
        if not (np.array_equal(tw, P.view(np.uint32)) and np.array_equal(ts, S.view(np.uint32))):
            sys.exit("%s step %d: torch does not round as documented (weight %d, sum %d elements differ)"
                     % (name, k, int((tw != P.view(np.uint32)).sum()), int((ts != S.view(np.uint32)).sum())))
        hashes.append(hash_words(hash_words(FNV_OFFSET, tw.ravel()), ts.ravel()))
    return seed, hashes, tw.ravel().copy(), ts.ravel().copy()


HEADER = """/* tests/torch_sparse_trajectories.h — GENERATED by tests/gen_torch_sparse.py; do not edit.
 * SPDX-License-Identifier: MIT
 *
 * Data only: nn.Embedding(sparse=True) trained by torch.optim.Adagrad, as
 * recorded from PyTorch %s (CPU, float32, foreach=False): per
 * case, a 64-bit hash of (weight, sum) after every step and the whole final
 * state as uint32 bit patterns. The types are in tests/torch_replay.h;
 * tests/body_torch_sparse.c replays the cases. Inputs are not stored: the
 * replay makes them again from each case's seed.
 */
#ifndef ADAGRAD_TESTS_TORCH_SPARSE_TRAJECTORIES_H
#define ADAGRAD_TESTS_TORCH_SPARSE_TRAJECTORIES_H

#include <stdint.h>

#include "torch_replay.h"

%s

static const torch_sparse_case torch_sparse_cases[] = {
%s
};

#endif /* ADAGRAD_TESTS_TORCH_SPARSE_TRAJECTORIES_H */
"""


def emit(torch_version, recorded):
    """The header's text; recorded: [(CASES entry, record(entry))]."""
    parts, entries = [], []
    for c, (seed, hashes, w, s) in recorded:
        name, rows, dim, batch, steps, lr, lr_decay, eps, init_acc, maximize = c
        pre = "tsp_" + name
        parts.append("/* %s */\n%s\n%s\n%s" % (name, u64_array(pre + "_hash", hashes),
                                                u32_array(pre + "_param", w), u32_array(pre + "_sum", s)))
        entries.append(
            '    {.name = "%s", .seed = 0x%08xu, .rows = %d, .dim = %d, .batch = %d, .steps = %d,\n'
            '     .lr = %s, .lr_decay = %s,\n'
            '     .eps = %s, .init_acc = %s, .maximize = %d,\n'
            '     .wdist = %s, .gdist = %s,\n'
            '     .step_hash = %s_hash,\n'
            '     .final_param = %s_param, .final_sum = %s_sum},' % (
                name, seed, rows, dim, batch, steps, float(lr).hex(), float(lr_decay).hex(),
                float(np.float32(eps)).hex() + "f", float(np.float32(init_acc)).hex() + "f",
                int(maximize), dist_c(WEIGHTS), dist_c(GRADS), pre, pre, pre))
    return HEADER % (torch_version, "\n\n".join(parts), "\n".join(entries))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               "torch_sparse_trajectories.h"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    text = emit(torch.__version__, [(c, record(c)) for c in CASES])
    if a.check:
        check_file(a.o, text)
        return
    with open(a.o, "w") as f:
        f.write(text)
    print("wrote %s (%d cases)" % (a.o, len(CASES)))


if __name__ == "__main__":
    main()
