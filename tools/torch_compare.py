#!/usr/bin/python3
# libadagrad — time torch.optim.Adagrad.step() on one float32 tensor, the
# reference point of `adagrad-report --torch`.
# SPDX-License-Identifier: MIT
"""Time torch.optim.Adagrad.step() for one float32 tensor of n elements.

Usage (Debian's torch is under /usr/bin/python3, not the first python3 on PATH):

    /usr/bin/python3 tools/torch_compare.py [--sizes 4096,65536,1048576,16777216]
        [--reps 9] [--batch-ms 10] [--threads 1] [--seed 1] [--clock cpu|wall]
        [--json] [--quiet]

What is timed: two optimizers, each over its own parameter of n float32
elements, lr=1e-3, eps=1e-10, no weight decay (the variant adagrad-report
times):
  single   foreach=False: torch's single-tensor path, whose bits libadagrad's
           EXACT mode reproduces. Per step it makes four passes over memory
           (sum.addcmul_, sum.sqrt() into a new tensor, .add_(eps),
           param.addcdiv_), plus the Python and dispatcher overhead of a step.
  foreach  foreach=True: the multi-tensor path (torch._foreach_* ops), here
           with a one-tensor list.
Inputs have the same distributions as the report's: θ uniform in [-1, 1],
sum log-uniform in [1e-2, 1e2] (written into the optimizer's state), grad
with a random sign and a log-uniform magnitude in [1e-4, 1].

Method, the same as adagrad-report's: each variant first runs batches of
growing length until one lasts --batch-ms (which is also the warm-up); then
--reps repetitions time one batch of each variant, in an order rotated every
repetition so noise hits both alike. Reported: the median time per step, with
min, max and quartiles. torch.set_num_threads(--threads) is set first; the
default 1 is the single-thread figure to hold against the single-threaded
library. --clock cpu (the default) times with this thread's CPU clock
(time.thread_time, like adagrad-report), which ignores the time other
processes hold the core; it is only meaningful with --threads 1. --clock
wall uses time.perf_counter.

Output: a table, or with --json one object
  {"torch_version", "threads", "results": [{"n", "mode", "sec_median",
   "sec_min", "sec_max", "sec_q1", "sec_q3"}]}.
Exit status: 0 on success, 2 for bad arguments, 3 when torch cannot be
imported (with --json, {"error": "..."} is printed first).
"""
import argparse
import json
import statistics
import sys
import time

MODES = (("single", False), ("foreach", True))


def parse_sizes(text):
    sizes = []
    for item in text.split(","):
        item = item.strip()
        if item.startswith("2^"):
            value = 1 << int(item[2:])
        else:
            value = int(item)
        if value <= 0:
            raise ValueError
        sizes.append(value)
    if not sizes:
        raise ValueError
    return sizes


def quantile(sorted_values, q):
    pos = q * (len(sorted_values) - 1)
    i = int(pos)
    if i + 1 < len(sorted_values):
        return sorted_values[i] + (pos - i) * (sorted_values[i + 1] - sorted_values[i])
    return sorted_values[-1]


def make_optimizer(torch, n, foreach, seed):
    gen = torch.Generator().manual_seed(seed)
    param = torch.rand(n, generator=gen, dtype=torch.float32) * 2 - 1
    magnitude = torch.pow(10.0, -4.0 * torch.rand(n, generator=gen, dtype=torch.float64))
    sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
    param.grad = (magnitude * sign).to(torch.float32)
    opt = torch.optim.Adagrad([param], lr=1e-3, eps=1e-10, foreach=foreach)
    state_sum = torch.pow(10.0, 4.0 * torch.rand(n, generator=gen, dtype=torch.float64) - 2.0)
    opt.state[param]["sum"].copy_(state_sum.to(torch.float32))
    return opt


def time_batch(opt, iters, clock):
    t0 = clock()
    for _ in range(iters):
        opt.step()
    return clock() - t0


def calibrate(opt, target, clock):
    iters = 1
    while True:
        dt = time_batch(opt, iters, clock)
        if dt >= target:
            return iters
        grow = 1.2 * target / dt if dt > 0 else 100.0
        iters = int(iters * min(100.0, max(2.0, grow)))


def measure(torch, n, args):
    opts = [make_optimizer(torch, n, foreach, args.seed) for _, foreach in MODES]
    target = args.batch_ms * 1e-3
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    iters = [calibrate(opt, target, clock) for opt in opts]
    samples = [[] for _ in opts]
    for r in range(args.reps):
        for j in range(len(opts)):
            k = (j + r) % len(opts)
            samples[k].append(time_batch(opts[k], iters[k], clock) / iters[k])
    results = []
    for (mode, _), values in zip(MODES, samples):
        values.sort()
        results.append({
            "n": n, "mode": mode,
            "sec_median": statistics.median(values),
            "sec_min": values[0], "sec_max": values[-1],
            "sec_q1": quantile(values, 0.25), "sec_q3": quantile(values, 0.75),
        })
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="4096,65536,1048576,16777216",
                        help="comma-separated element counts (decimal or 2^k)")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--batch-ms", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="this thread's CPU time (default) or elapsed time")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError:
        parser.error("--sizes: expected positive integers such as 4096,65536,2^20")
    if args.reps < 1 or args.batch_ms <= 0 or args.threads < 1:
        parser.error("--reps and --threads must be >= 1, --batch-ms > 0")

    try:
        import torch
    except Exception as exc:  # ImportError, or a broken install
        message = "torch is not importable by %s: %s" % (sys.executable, exc)
        if args.json:
            print(json.dumps({"error": message}))
        print(message, file=sys.stderr)
        return 3

    if args.threads > 1 and args.clock == "cpu":
        args.clock = "wall"  # one thread's CPU clock would miss the others' work
    torch.set_num_threads(args.threads)
    results = []
    for index, n in enumerate(sizes):
        if not args.quiet:
            print("torch_compare: [%d/%d] n=%d" % (index + 1, len(sizes), n), file=sys.stderr)
        results.extend(measure(torch, n, args))

    if args.json:
        print(json.dumps({"torch_version": torch.__version__, "threads": args.threads,
                          "clock": args.clock, "results": results}, indent=1))
    else:
        print("torch %s, %d thread(s); median of %d repetitions, %s clock"
              % (torch.__version__, args.threads, args.reps, args.clock))
        print("%12s %-8s %12s %10s %8s" % ("n", "mode", "us/step", "G elem/s", "GB/s*"))
        for r in results:
            gelem = r["n"] / r["sec_median"] * 1e-9
            print("%12d %-8s %12.2f %10.3f %8.1f"
                  % (r["n"], r["mode"], r["sec_median"] * 1e6, gelem, 20 * gelem))
        print("* at 20 bytes/element, the traffic of one fused step (torch moves more)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
