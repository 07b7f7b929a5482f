#!/usr/bin/python3
# libadagrad — DistributedDataParallel with dense and sparse parameters,
# trained by libadagrad.torch.Adagrad: the optimizer runs on every rank.
# SPDX-License-Identifier: MIT
"""Trains a small recommender-like model (an nn.Embedding with sparse
gradients and a dense MLP) under DistributedDataParallel, on this machine:
--world-size processes, spawned, talking over gloo.

    PYTHONPATH=<build>/python /usr/bin/python3 python/examples/ddp_adagrad.py [--world-size 2]
        [--steps 50] [--check]

The swap is one line: the optimizer is libadagrad.torch.Adagrad instead of
torch.optim.Adagrad; DDP averages the gradients (coalescing the sparse
ones) and every rank steps its replica. With --check every rank also trains
an identical replica with torch.optim.Adagrad(foreach=False) on the same
data, and the run fails unless, on every rank, both end bit for bit equal,
and equal to rank 0's. Collectives time out after --timeout seconds, so a
lost rank ends the run instead of hanging it.
"""
import argparse
import datetime
import os
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from libadagrad.torch import Adagrad

ROWS, DIM, BATCH = 1000, 16, 64


class Recommender(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)  # every rank and both replicas start from the same weights
        self.emb = torch.nn.Embedding(ROWS, DIM, sparse=True)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(DIM, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))

    def forward(self, idx):
        return self.mlp(self.emb(idx)).squeeze(1)


# What the model learns: a hidden score per row, seen through noise.
HIDDEN = torch.randn(ROWS, generator=torch.Generator().manual_seed(7))


def batch(gen):
    # Each rank names a row at most once per batch (at most world-size times
    # in the averaged gradient, whose sum order DDP's coalesce fixes).
    idx = torch.randperm(ROWS, generator=gen)[:BATCH]
    return idx, HIDDEN[idx] + 0.1 * torch.randn(BATCH, generator=gen)


def flat_bits(model):
    return torch.cat([p.detach().reshape(-1).view(torch.int32) for p in model.parameters()])


def worker(rank, world, rendezvous, steps, check, timeout):
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # every rank is on this machine
    torch.set_num_threads(1)  # the ranks share this machine's cores
    dist.init_process_group("gloo", init_method="file://" + rendezvous, rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=timeout))
    models = [torch.nn.parallel.DistributedDataParallel(Recommender())]
    optimizers = [Adagrad(models[0].parameters(), lr=0.05)]
    if check:
        models.append(torch.nn.parallel.DistributedDataParallel(Recommender()))
        optimizers.append(torch.optim.Adagrad(models[1].parameters(), lr=0.05, foreach=False))
    gen = torch.Generator().manual_seed(1000 + rank)  # each rank its own data
    for step in range(steps):
        idx, target = batch(gen)
        for model, opt in zip(models, optimizers):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(idx), target)
            loss.backward()
            opt.step()
        if rank == 0 and (step + 1) % 10 == 0:
            print("step %d: loss %.5f" % (step + 1, loss.item()), flush=True)
    ours = flat_bits(models[0].module)
    gathered = [torch.empty_like(ours) for _ in range(world)]
    dist.all_gather(gathered, ours)
    if any(not torch.equal(g, ours) for g in gathered):
        raise SystemExit("rank %d: the ranks' parameters differ" % rank)
    if check:
        differ = int((ours != flat_bits(models[1].module)).sum())
        if differ:
            raise SystemExit("rank %d: %d of %d parameters differ from torch.optim.Adagrad's"
                             % (rank, differ, ours.numel()))
        print("rank %d: %d parameters bitwise equal to torch.optim.Adagrad's and to every rank's"
              % (rank, ours.numel()), flush=True)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--check", action="store_true", help="compare with torch.optim.Adagrad on every rank")
    parser.add_argument("--timeout", type=float, default=60, help="seconds a collective may wait")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            mp.spawn(worker, args=(args.world_size, os.path.join(tmp, "rendezvous"), args.steps, args.check,
                                   args.timeout), nprocs=args.world_size)
        except mp.ProcessExitedException as e:
            sys.exit("a rank failed: %s" % e)


if __name__ == "__main__":
    main()
