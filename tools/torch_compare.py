#!/usr/bin/python3
# libadagrad — time torch.optim.Adagrad.step() on one float32 tensor, and
# the package's drop-in libadagrad.torch.Adagrad beside it: the reference
# point of `adagrad-report --torch`, which runs this script.
# SPDX-License-Identifier: MIT
"""Time torch.optim.Adagrad.step() for one float32 tensor of n elements.

    /usr/bin/python3 tools/torch_compare.py [--sizes 4096,2^20] [--reps 5] [--min-time 0.05]

(Debian's torch is python3-torch, under /usr/bin/python3.) Two optimizers,
each over its own parameter, lr=1e-3, eps=1e-10, no weight decay, on one
thread: "single" is foreach=False, torch's single-tensor path, whose bits
libadagrad's EXACT mode reproduces (four passes over memory per step, plus
Python's and the dispatcher's overhead); "foreach" is foreach=True, the
multi-tensor path with a one-tensor list; "dropin" is libadagrad.torch.Adagrad
(python/libadagrad, when importable: the library's step plus the package's
Python), the one-line swap a torch user makes. Inputs have bench_adagrad's
distributions. torch is not C++ code Google Benchmark could time, so this is
the one timing loop outside bench/, with its method: each variant grows its
batch of steps until one lasts --min-time (also the warm-up), then --reps
repetitions time one batch of each variant in turn, rotated, with this
thread's CPU time (time.thread_time, like Google Benchmark's default).
Prints one JSON object {"torch_version", "dropin" (null, or why the package
could not be imported), "results": [{"n", "mode", "sec_median", "sec_min",
"sec_max"}]}, or {"error": ...} with exit status 3 when torch cannot be
imported.
"""
import argparse
import json
import statistics
import sys
import time


def make_optimizer(torch, n, foreach, optimizer=None):
    gen = torch.Generator().manual_seed(1)
    param = torch.rand(n, generator=gen, dtype=torch.float32) * 2 - 1
    magnitude = torch.pow(10.0, -4.0 * torch.rand(n, generator=gen, dtype=torch.float64))
    sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
    param.grad = (magnitude * sign).to(torch.float32)
    opt = (optimizer or torch.optim.Adagrad)([param], lr=1e-3, eps=1e-10, foreach=foreach)
    state_sum = torch.pow(10.0, 4.0 * torch.rand(n, generator=gen, dtype=torch.float64) - 2.0)
    opt.state[param]["sum"].copy_(state_sum.to(torch.float32))
    return opt


def time_batch(opt, iters):
    t0 = time.thread_time()
    for _ in range(iters):
        opt.step()
    return time.thread_time() - t0


def measure(torch, dropin, n, reps, min_time):
    opts = [make_optimizer(torch, n, foreach) for foreach in (False, True)]
    modes = ["single", "foreach"]
    if dropin:
        opts.append(make_optimizer(torch, n, False, dropin))
        modes.append("dropin")
    iters = []
    for opt in opts:
        k = 1
        while True:
            dt = time_batch(opt, k)
            if dt >= min_time:
                break
            k = int(k * min(100.0, max(2.0, 1.2 * min_time / dt if dt > 0 else 100.0)))
        iters.append(k)
    samples = [[] for _ in opts]
    for r in range(reps):
        for j in range(len(opts)):
            i = (j + r) % len(opts)
            samples[i].append(time_batch(opts[i], iters[i]) / iters[i])
    return [{"n": n, "mode": mode, "sec_median": statistics.median(s), "sec_min": min(s), "sec_max": max(s)}
            for mode, s in zip(modes, samples)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="4096,65536,1048576,16777216")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.05)
    args = parser.parse_args()
    try:
        sizes = [1 << int(s[2:]) if s.startswith("2^") else int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error("--sizes: expected a list such as 4096,65536,2^20")
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken install
        print(json.dumps({"error": "torch is not importable by %s: %s" % (sys.executable, exc)}))
        return 3
    torch.set_num_threads(1)
    try:
        from libadagrad.torch import Adagrad as dropin
        why_not = None
    except Exception as exc:  # not on the path, or no library: torch alone is still timed
        dropin, why_not = None, "libadagrad.torch is not importable: %s" % exc
    results = [row for n in sizes for row in measure(torch, dropin, n, args.reps, args.min_time)]
    print(json.dumps({"torch_version": torch.__version__, "dropin": why_not, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
