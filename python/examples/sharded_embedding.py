#!/usr/bin/python3
# libadagrad — a row-sharded embedding table trained with libadagrad.sparse_step
# across processes: each rank owns some rows and steps only those.
# SPDX-License-Identifier: MIT
"""An embedding table too large for one process is split by rows: rank k of
W owns the rows r with r % W == k (its shard, row r at r // W) and their
AdaGrad accumulators. Every step, each rank takes its slice of the global
batch (examples of two rows, pooled by sum, regressed onto a target):

  1. sends each of its indices to the row's owner (all_to_all_single),
  2. gets the rows back from the owners (all_to_all_single),
  3. computes its examples' gradient rows (numpy, float32),
  4. sends each gradient row to its owner (all_to_all_single), in the order
     of step 1, so an owner holds its rows' gradients in global batch order
     (source ranks in order, each rank's examples in order),
  5. and every owner steps its shard: libadagrad.sparse_step with
     sum_duplicates (a row's gradients summed in that order, then one step:
     PyTorch's semantics) and torch_sparse (torch's rounding).

Because of 4, the result is bitwise the same for any world size:

    PYTHONPATH=<build>/python /usr/bin/python3 python/examples/sharded_embedding.py --world-size 1 --out w1.npz
    PYTHONPATH=<build>/python /usr/bin/python3 python/examples/sharded_embedding.py --world-size 2 --out w2.npz

(python/tests/test_distributed.py compares the two.) The processes are
spawned on this machine and talk over gloo; collectives time out after
--timeout seconds.
"""
import argparse
import datetime
import os
import sys
import tempfile

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import libadagrad

ROWS, DIM, GLOBAL_BATCH, LR = 1000, 16, 256, 0.1


def global_batch(step):
    """The same on every rank: GLOBAL_BATCH examples of two rows (a row may
    repeat within the batch), and the targets of a hidden table."""
    rng = np.random.default_rng(10_000 + step)
    pairs = rng.integers(0, ROWS, size=(GLOBAL_BATCH, 2))
    return pairs, HIDDEN[pairs[:, 0]] + HIDDEN[pairs[:, 1]]


HIDDEN = np.random.default_rng(7).standard_normal((ROWS, DIM)).astype(np.float32)


def exchange(send, counts, recv_counts):
    """all_to_all_single of the rows of a numpy array: counts[k] rows to rank k."""
    out = torch.empty((int(sum(recv_counts)),) + send.shape[1:], dtype=torch.from_numpy(send[:0]).dtype)
    dist.all_to_all_single(out, torch.from_numpy(np.ascontiguousarray(send)),
                           output_split_sizes=list(recv_counts), input_split_sizes=list(counts))
    return out.numpy()


def worker(rank, world, rendezvous, steps, out, timeout):
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # every rank is on this machine
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="file://" + rendezvous, rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=timeout))
    full = np.random.default_rng(1).uniform(-0.1, 0.1, (ROWS, DIM)).astype(np.float32)
    shard = np.ascontiguousarray(full[rank::world])  # row r at r // world
    shard_sum = np.zeros_like(shard)
    per_rank = GLOBAL_BATCH // world
    for step in range(steps):
        pairs, target = global_batch(step)
        mine = slice(rank * per_rank, (rank + 1) * per_rank if rank < world - 1 else GLOBAL_BATCH)
        pairs, target = pairs[mine], target[mine]
        indices = pairs.reshape(-1)  # a0, b0, a1, b1, ...
        owner = indices % world
        order = np.argsort(owner, kind="stable")  # by owner, each owner's in batch order
        counts = np.bincount(owner, minlength=world)
        recv_counts = exchange(counts.astype(np.int64), [1] * world, [1] * world)
        wanted = exchange(indices[order], counts, recv_counts)  # 1: the rows others need from me
        rows = np.empty((indices.size, DIM), np.float32)
        rows[order] = exchange(shard[wanted // world], recv_counts, counts)  # 2
        error = rows[0::2] + rows[1::2] - target  # 3: loss = ½ Σ |e_a + e_b − y|² / GLOBAL_BATCH
        grad_rows = np.repeat(error / np.float32(GLOBAL_BATCH), 2, axis=0)
        grads = exchange(grad_rows[order], counts, recv_counts)  # 4: aligned with `wanted`
        libadagrad.sparse_step(shard, shard_sum, wanted // world, grads, lr=LR,  # 5
                               sum_duplicates=True, torch_sparse=True)
        loss = torch.tensor([0.5 * float(np.square(error, dtype=np.float64).sum()) / GLOBAL_BATCH])
        dist.all_reduce(loss)
        if rank == 0 and (step + 1) % 20 == 0:
            print("step %d: loss %.6f" % (step + 1, loss.item()), flush=True)
    shards = [None] * world
    dist.all_gather_object(shards, (shard, shard_sum))
    if rank == 0 and out:
        table, table_sum = np.empty_like(full), np.empty_like(full)
        for k, (s, ss) in enumerate(shards):
            table[k::world], table_sum[k::world] = s, ss
        np.savez(out, table=table, sum=table_sum, loss=loss.numpy())
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--out", help="save the trained table and accumulators (.npz)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds a collective may wait")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            mp.spawn(worker, args=(args.world_size, os.path.join(tmp, "rendezvous"), args.steps, args.out,
                                   args.timeout), nprocs=args.world_size)
        except mp.ProcessExitedException as e:
            sys.exit("a rank failed: %s" % e)


if __name__ == "__main__":
    main()
