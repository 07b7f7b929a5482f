#!/usr/bin/python3
# libadagrad — libadagrad.torch.Adagrad against torch.optim.Adagrad: the
# optimizer step alone (dense and sparse), and its share of a small DLRM-like
# model's training step. One thread throughout.
# SPDX-License-Identifier: MIT
"""    PYTHONPATH=<build>/python /usr/bin/python3 python/benchmarks/bench_torch.py
        [--sections dense,sparse,dlrm] [--reps 9] [--min-time 0.2] [--quick] [--json FILE]

dense    one float32 parameter of 2^24 elements: optimizer.step() of
         torch.optim.Adagrad(foreach=False), (foreach=True) and ours.
sparse   nn.Embedding(2^20, 64, sparse=True), batches of 16384 indices
         (uniform over the rows; and Zipf(1.05), mostly duplicates):
         optimizer.step() of torch's (foreach=False; foreach=True takes the
         same path for sparse gradients) and ours. Eight batches' gradients
         are made first and the steps cycle through them, so that each step
         touches other rows.
dlrm     a small DLRM-like model (8 nn.EmbeddingBag(2^18, 32, sparse=True)
         tables of 4 indices per bag, a bottom MLP 13-256-128-32, pairwise
         dot interactions, a top MLP 68-256-128-1, BCE loss, batch 2048) trained
         end to end: time per training step, and the optimizer's share.

Method (as tools/torch_compare.py): inputs have the report's distributions
(θ in [-1, 1], s log-uniform in [1e-2, 1e2], g of random sign, magnitude
log-uniform in [1e-4, 1]) and every timed step keeps training them; each
variant grows its batch of steps until one lasts --min-time (also the
warm-up); then --reps repetitions time one batch of every variant, in an
order rotated every repetition, with this thread's CPU time
(time.thread_time), so that noise from other processes falls on all alike.
Figures are medians, with the fastest and slowest repetitions. --quick
shrinks everything (a smoke test, not a measurement).
"""
import argparse
import json
import platform
import statistics
import sys
import time

import torch

import libadagrad
from libadagrad.torch import Adagrad


def report_data(n, gen):
    param = torch.rand(n, generator=gen) * 2 - 1
    state_sum = torch.pow(10.0, torch.rand(n, generator=gen) * 4 - 2)
    grad = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) * torch.pow(10.0, -4 * torch.rand(n, generator=gen))
    return param, state_sum, grad


def calibrated_batch(fn, min_time):
    k = 1
    while True:
        t0 = time.thread_time()
        for _ in range(k):
            fn()
        dt = time.thread_time() - t0
        if dt >= min_time:
            return k
        k = max(k + 1, int(k * min(10.0, 1.2 * min_time / dt if dt > 0 else 10.0)))


def measure(variants, reps, min_time):
    """variants: {name: fn}; returns {name: (median, min, max) seconds per call}."""
    names = list(variants)
    batches = {name: calibrated_batch(variants[name], min_time) for name in names}
    samples = {name: [] for name in names}
    for r in range(reps):
        for j in range(len(names)):
            name = names[(j + r) % len(names)]
            fn, k = variants[name], batches[name]
            t0 = time.thread_time()
            for _ in range(k):
                fn()
            samples[name].append((time.thread_time() - t0) / k)
    return {name: (statistics.median(s), min(s), max(s)) for name, s in samples.items()}


def bench_dense(args):
    n = 1 << (16 if args.quick else 24)
    variants = {}
    for name, make in (("torch foreach=False", lambda ps: torch.optim.Adagrad(ps, lr=1e-3, foreach=False)),
                       ("torch foreach=True", lambda ps: torch.optim.Adagrad(ps, lr=1e-3, foreach=True)),
                       ("libadagrad", lambda ps: Adagrad(ps, lr=1e-3, threads=1))):
        param, state_sum, grad = report_data(n, torch.Generator().manual_seed(1))
        p = torch.nn.Parameter(param)
        p.grad = grad
        opt = make([p])
        opt.state[p]["sum"].copy_(state_sum)
        variants[name] = opt.step
    return {"n": n, "results": measure(variants, args.reps, args.min_time)}


def zipf_indices(gen, rows, n, alpha=1.05):
    ranks = torch.arange(1, rows + 1, dtype=torch.float64)
    weights = ranks.pow(-alpha)
    return torch.multinomial(weights / weights.sum(), n, replacement=True, generator=gen)


def bench_sparse(args):
    rows, dim, batch = (1 << 14, 64, 1024) if args.quick else (1 << 20, 64, 16384)
    out = {"rows": rows, "dim": dim, "batch": batch}
    gen = torch.Generator().manual_seed(2)
    for dist in ("uniform", "zipf"):
        batches = []
        for _ in range(8):
            idx = torch.randint(0, rows, (batch,), generator=gen) if dist == "uniform" else \
                zipf_indices(gen, rows, batch)
            _, _, g = report_data(batch * dim, gen)
            batches.append((idx, g.reshape(batch, dim)))
        variants = {}
        for name, make in (("torch", lambda ps: torch.optim.Adagrad(ps, lr=1e-3, foreach=False)),
                           ("libadagrad", lambda ps: Adagrad(ps, lr=1e-3))):
            emb = torch.nn.Embedding(rows, dim, sparse=True)
            param, state_sum, _ = report_data(rows * dim, torch.Generator().manual_seed(3))
            with torch.no_grad():
                emb.weight.copy_(param.reshape(rows, dim))
            opt = make(emb.parameters())
            opt.state[emb.weight]["sum"].copy_(state_sum.reshape(rows, dim))
            grads = []
            for idx, g in batches:  # the sparse gradients nn.Embedding's backward makes
                emb.weight.grad = None
                emb(idx).backward(g)
                grads.append(emb.weight.grad)
            variants[name] = cycling_step(opt, emb.weight, grads)
        distinct = statistics.mean(len(torch.unique(idx)) for idx, _ in batches)
        out[dist] = {"distinct_rows": distinct, "results": measure(variants, args.reps, args.min_time)}
    return out


def cycling_step(opt, weight, grads):
    state = {"k": 0}

    def step():
        weight.grad = grads[state["k"]]
        state["k"] = (state["k"] + 1) % len(grads)
        opt.step()
    return step


class DLRM(torch.nn.Module):
    def __init__(self, tables, rows, dim):
        super().__init__()
        torch.manual_seed(0)
        self.embs = torch.nn.ModuleList(torch.nn.EmbeddingBag(rows, dim, mode="sum", sparse=True)
                                        for _ in range(tables))
        self.bottom = torch.nn.Sequential(torch.nn.Linear(13, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                          torch.nn.ReLU(), torch.nn.Linear(128, dim), torch.nn.ReLU())
        pairs = (tables + 1) * tables // 2
        self.top = torch.nn.Sequential(torch.nn.Linear(dim + pairs, 256), torch.nn.ReLU(),
                                       torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))
        self.pairs = torch.triu_indices(tables + 1, tables + 1, offset=1)

    def forward(self, dense, sparse):
        x = self.bottom(dense)
        features = torch.stack([x] + [emb(idx, offsets) for emb, (idx, offsets) in zip(self.embs, sparse)], 1)
        dots = torch.bmm(features, features.transpose(1, 2))[:, self.pairs[0], self.pairs[1]]
        return self.top(torch.cat([x, dots], 1)).squeeze(1)


def bench_dlrm(args):
    tables, rows, dim, batch, per_bag = (8, 1 << 12, 32, 256, 4) if args.quick else (8, 1 << 18, 32, 2048, 4)
    gen = torch.Generator().manual_seed(4)
    data = []
    for _ in range(4):
        sparse = [(zipf_indices(gen, rows, batch * per_bag), torch.arange(0, batch * per_bag, per_bag))
                  for _ in range(tables)]
        data.append((torch.randn(batch, 13, generator=gen), sparse,
                     (torch.rand(batch, generator=gen) < 0.25).float()))
    runs = {}
    for name, make in (("torch", lambda ps: torch.optim.Adagrad(ps, lr=0.01, foreach=False)),
                       ("libadagrad", lambda ps: Adagrad(ps, lr=0.01))):
        model = DLRM(tables, rows, dim)
        runs[name] = {"model": model, "opt": make(model.parameters()), "k": 0, "fwd_bwd": [], "step": []}

    def train_step(run):
        dense, sparse, label = data[run["k"] % len(data)]
        run["k"] += 1
        t0 = time.thread_time()
        run["opt"].zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(run["model"](dense, sparse), label)
        loss.backward()
        t1 = time.thread_time()
        run["opt"].step()
        t2 = time.thread_time()
        run["fwd_bwd"].append(t1 - t0)
        run["step"].append(t2 - t1)

    for run in runs.values():  # warm-up
        for _ in range(3):
            train_step(run)
        run["fwd_bwd"].clear()
        run["step"].clear()
    steps = 3 if args.quick else max(args.reps, 15)
    for i in range(steps):
        for name in (list(runs) if i % 2 == 0 else list(runs)[::-1]):
            train_step(runs[name])
    out = {"tables": tables, "rows": rows, "dim": dim, "batch": batch, "per_bag": per_bag, "results": {}}
    for name, run in runs.items():
        fwd_bwd, step = statistics.median(run["fwd_bwd"]), statistics.median(run["step"])
        out["results"][name] = {"forward_backward": fwd_bwd, "step": step, "total": fwd_bwd + step,
                                "share": step / (fwd_bwd + step)}
    return out


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_results(info, dense, sparse, dlrm):
    print("CPU: %s; torch %s (%d thread); libadagrad %s, %s" % (
        info["cpu"], info["torch"], info["threads"], info["libadagrad"], info["isa"]))
    ms = 1e3
    if dense:
        r = dense["results"]
        ours = r["libadagrad"][0]
        print("\ndense: one parameter of %d elements, optimizer.step() (ms: median [min, max])" % dense["n"])
        for name, (med, lo, hi) in r.items():
            ratio = "" if name == "libadagrad" else "   libadagrad is %.1fx faster" % (med / ours)
            print("  %-22s %8.3f [%.3f, %.3f]%s" % (name, med * ms, lo * ms, hi * ms, ratio))
    if sparse:
        print("\nsparse: nn.Embedding(%d, %d, sparse=True), %d indices per batch, optimizer.step() (ms)"
              % (sparse["rows"], sparse["dim"], sparse["batch"]))
        for dist in ("uniform", "zipf"):
            r = sparse[dist]["results"]
            print("  %s indices (%.0f distinct rows per batch)" % (dist, sparse[dist]["distinct_rows"]))
            for name, (med, lo, hi) in r.items():
                ratio = "" if name == "libadagrad" else "   libadagrad is %.1fx faster" % (
                    med / r["libadagrad"][0])
                print("    %-20s %8.3f [%.3f, %.3f]%s" % (name, med * ms, lo * ms, hi * ms, ratio))
    if dlrm:
        print("\ndlrm: %d EmbeddingBag(%d, %d) tables, %d indices per bag, batch %d: one training step (ms, median)"
              % (dlrm["tables"], dlrm["rows"], dlrm["dim"], dlrm["per_bag"], dlrm["batch"]))
        for name, r in dlrm["results"].items():
            print("  %-12s forward+backward %8.2f   optimizer %7.2f   total %8.2f   optimizer share %4.1f %%"
                  % (name, r["forward_backward"] * ms, r["step"] * ms, r["total"] * ms, 100 * r["share"]))
        t, o = dlrm["results"]["torch"], dlrm["results"]["libadagrad"]
        print("  the optimizer step is %.1fx faster; the training step %.2fx" % (t["step"] / o["step"],
                                                                                t["total"] / o["total"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", default="dense,sparse,dlrm")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--min-time", type=float, default=0.2)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.min_time = 3, 0.002
    sections = set(args.sections.split(","))
    if sections - {"dense", "sparse", "dlrm"}:
        parser.error("--sections: dense, sparse, dlrm")
    torch.set_num_threads(1)
    info = {"cpu": cpu_name(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "libadagrad": libadagrad.__version__, "isa": libadagrad.active_isa()}
    dense = bench_dense(args) if "dense" in sections else None
    sparse = bench_sparse(args) if "sparse" in sections else None
    dlrm = bench_dlrm(args) if "dlrm" in sections else None
    print_results(info, dense, sparse, dlrm)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "dense": dense, "sparse": sparse, "dlrm": dlrm}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
