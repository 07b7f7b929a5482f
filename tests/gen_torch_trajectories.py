#!/usr/bin/python3
"""Record PyTorch reference trajectories for libadagrad's EXACT mode.

Writes tests/torch_trajectories.h: float32 trajectories of
torch.optim.Adagrad's default CPU path (foreach=False, the single-tensor
implementation), as data only: tables of uint32 bit patterns and 64-bit
hashes, one torch_traj_case (declared in tests/torch_replay.h) per case.
tests/body_torch.c replays every case on every implementation and compares
bit for bit, so the C test suite proves "EXACT mode == torch" without
needing torch at test time.

Re-running
----------
    cd <repo> && /usr/bin/python3 tests/gen_torch_trajectories.py

Use Debian's interpreter (/usr/bin/python3, which has python3-torch 1.13 and
numpy), not another python3 that may come first on PATH. No network is
needed. Options:
    -o FILE               output (default: torch_trajectories.h next to this script)
    --check               write nothing: record, and fail unless FILE already
                          holds exactly what this run recorded
    --check-capabilities  also record under ATEN_CPU_CAPABILITY=avx2, =avx512
                          and =default in subprocesses: fail unless avx2 and
                          avx512 give the same data as this run; say whether
                          default differs (it does: see below).
The output is deterministic: re-running on the same torch gives the same file.

Which torch path is recorded
----------------------------
torch 1.13 single-tensor Adagrad does, per tensor and step t (counted from 1):
    grad = -grad                                   if maximize
    grad = grad.add(param, alpha=weight_decay)     if weight_decay != 0
    clr  = lr / (1 + (t - 1) * lr_decay)           Python double
    sum.addcmul_(grad, grad, value=1)
    std  = sum.sqrt().add_(eps)
    param.addcdiv_(grad, std, value=-clr)          value converted to float32
Measured (Debian python3-torch 1.13.1): with torch's AVX2 or AVX-512 kernels
(ATEN_CPU_CAPABILITY avx2/avx512; AVX2 is what this build picks by default
on an x86-64 CPU with AVX2), the weight-decay add and the addcmul each round
once, like fma(wd, param, grad) and fma(grad, grad, sum), both in the
vectorized body and in the scalar tail (n < 16 runs entirely in the tail):
exactly libadagrad's contract. (Presumably vec::fmadd in the body, and GCC
contracting `a + alpha * b` / `self + value * t1 * t2` under -mfma in the
tail; only the results were checked, not the machine code.) Torch's
portable kernels (ATEN_CPU_CAPABILITY=default, or a CPU without AVX2) round
the product and the sum separately, do NOT follow the contract, and give
different data; this script refuses to record under them.
The foreach=True path is not recorded: it evaluates the decayed lr with
float32 tensors, as fl(fl(1 / fl(1 + fl(fl(t - 1) * lr_decay))) * lr), so it
differs from foreach=False as soon as lr_decay != 0 (identical without lr
decay). Run through libadagrad with that float32 lr, it matches too.
The replay passes (float)adagrad_decayed_lr(lr, lr_decay, t) as the step's lr,
(float)weight_decay, (float)eps, and starts sum at (float)initial_accumulator_value,
the same conversions torch makes.

What is recorded, per case
--------------------------
Inputs are not stored: the initial parameters and every step's gradient come
from a stateless integer hash (mix32 below; torch_input_bits() in
tests/torch_replay.h is the same generator in C), which builds float32 bit
patterns directly (sign, exponent in a range, random mantissa, or +-0 /
denormal / huge with given odds), so no float arithmetic is involved in
making inputs. A 64-bit hash of all gradient bits is stored so the replay
can tell a generator mismatch from a kernel mismatch.
Stored outputs:
  * every step: a 64-bit hash (FNV-1a style, per 32-bit word, NaN
    canonicalised) of the whole state, param then sum;
  * at checkpoint steps (every step of runs up to 20 steps; else steps 1-10,
    every 20th and the last): param and sum bits at sample indices (first,
    last two, middle, and 7, 8, 15, 16, 31, 32 where they exist: around
    8/16/32-element vector boundaries);
  * after the last step: the whole param and sum arrays.
The replay compares bitwise, except that any NaN equals any NaN (sign and
payload are not compared: they are not part of the contract).
"""

import argparse
import difflib
import os
import subprocess
import sys

import numpy as np
import torch

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def mix32(x):
    """lowbias32 (C. Wellons); uint32 -> uint32. torch_mix32() in tests/torch_replay.h."""
    x &= M32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    x ^= x >> 16
    return x


# A value distribution: (emin, emax, p_zero, p_denorm, p_huge, hmin, hmax).
# Odds are out of 256. Normal values have unbiased exponent in [emin, emax];
# "huge" ones in [hmin, hmax]; denormals have a random nonzero mantissa.
NORMAL = (-8, 2, 0, 0, 0, 0, 0)
PARAMS = (-4, 2, 0, 0, 0, 0, 0)
WITH_ZEROS = (-8, 2, 13, 0, 0, 0, 0)            # ~5 % +-0
MANY_ZEROS = (-8, 2, 102, 0, 0, 0, 0)           # ~40 % +-0
NONZERO_WIDE = (-40, 20, 0, 0, 0, 0, 0)         # no zeros, 60 binades
DENORMAL = (-80, -60, 26, 90, 0, 0, 0)          # 10 % 0, 35 % denormal, rest 2^-80..2^-60 (g*g denormal)
PARAMS_TINY = (-126, -110, 26, 64, 0, 0, 0)     # params near / below FLT_MIN (25 % denormal)
HUGE_FINITE = (-4, 2, 0, 0, 128, 59, 62)        # half 2^59..2^63 (~5.8e17-9.2e18): g*g finite, 3 steps sum finite
HUGE_OVERFLOW = (-4, 2, 0, 0, 154, 63, 65)      # 60 % 2^63..2^66 (~9.2e18-7.4e19): g*g near / past FLT_MAX
WD_HUGE_PARAMS = (60, 66, 0, 0, 0, 0, 0)        # params ~1e18-1e20: weight decay term alone overflows


def gen_bits(dist, seed, k, i):
    """Bit pattern of input value i at step k (k = 0: initial param).
    torch_input_bits() in tests/torch_replay.h; gen_torch_sparse.py uses it too."""
    emin, emax, pz, pd, ph, hmin, hmax = dist
    a = mix32((mix32(seed ^ mix32(k)) + i) & M32)
    b = mix32(a ^ 0xA5A5A5A5)
    sign = a >> 31
    sel = (a >> 23) & 0xFF
    mant = b & 0x7FFFFF
    er = b >> 23
    if sel < pz:
        return sign << 31
    if sel < pz + pd:
        return (sign << 31) | (mant | 1)
    if sel < pz + pd + ph:
        e = hmin + er % (hmax - hmin + 1)
    else:
        e = emin + er % (emax - emin + 1)
    assert -126 <= e <= 127, "exponent %d out of the finite normal range" % e
    return (sign << 31) | ((e + 127) << 23) | mant


def gen_array(dist, seed, k, n):
    return np.array([gen_bits(dist, seed, k, i) for i in range(n)], dtype=np.uint32)


def canon(w):
    w = int(w)
    return 0x7FC00000 if (w & 0x7FFFFFFF) > 0x7F800000 else w


def hash_words(h, words):
    """FNV-1a over 32-bit words, NaN canonicalised; torch_state_hash() in C."""
    for w in words:
        h = ((h ^ canon(w)) * FNV_PRIME) & M64
    return h


class Case:
    def __init__(self, name, n, steps, lr=0.01, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
                 init_acc=0.0, maximize=False, pdist=PARAMS, gdist=NORMAL, seed=None):
        self.name, self.n, self.steps = name, n, steps
        self.lr, self.lr_decay, self.weight_decay = float(lr), float(lr_decay), float(weight_decay)
        self.eps, self.init_acc, self.maximize = float(eps), float(init_acc), maximize
        self.pdist, self.gdist = pdist, gdist
        self.seed = seed if seed is not None else mix32(hash_name(name))


def hash_name(s):
    h = 0x811C9DC5
    for c in s.encode():
        h = ((h ^ c) * 0x01000193) & M32
    return h


def cases():
    c = []
    # Lengths: empty-tail, tails of 16-wide (torch AVX2 loop, libadagrad AVX-512)
    # and 8-wide (AVX2) vectors, several multiples.
    for n in (1, 7, 8, 15, 16, 17, 31, 33, 47, 64, 100, 1029):
        c.append(Case("len%d" % n, n, 4, gdist=WITH_ZEROS))
    c.append(Case("all_n4099", 4099, 3, lr=0.05, lr_decay=0.1, weight_decay=0.02,
                  maximize=True, init_acc=0.25, gdist=WITH_ZEROS))
    c.append(Case("weight_decay", 77, 8, lr=0.1, weight_decay=0.3))
    c.append(Case("weight_decay_small", 45, 8, lr=0.01, weight_decay=1e-4, gdist=WITH_ZEROS))
    c.append(Case("maximize", 77, 8, lr=0.1, maximize=True))
    c.append(Case("maximize_weight_decay", 77, 8, lr=0.1, weight_decay=0.3, maximize=True))
    c.append(Case("lr_decay", 77, 20, lr=0.1, lr_decay=0.05))
    c.append(Case("lr_decay_big", 33, 20, lr=0.03, lr_decay=0.37, weight_decay=0.01))
    c.append(Case("lr_1_eps_big", 40, 6, lr=1.0, eps=0.1))
    c.append(Case("init_acc", 45, 8, lr=0.05, init_acc=0.1))
    c.append(Case("init_acc_big", 23, 5, lr=0.5, init_acc=3.7, eps=1e-6))
    c.append(Case("eps0", 50, 8, eps=0.0, gdist=NONZERO_WIDE))
    c.append(Case("eps0_zero_grads_nan", 40, 6, eps=0.0, gdist=MANY_ZEROS))
    # With weight decay a zero gradient is only zero where the param is +-0 too;
    # the NaN param then feeds back through the decay term into the sum.
    c.append(Case("eps0_zero_grads_nan_wd", 40, 6, eps=0.0, weight_decay=0.1, gdist=MANY_ZEROS,
                  pdist=(-4, 2, 102, 0, 0, 0, 0)))
    c.append(Case("zeros", 40, 6, lr=0.1, gdist=MANY_ZEROS,
                  pdist=(-4, 2, 102, 0, 0, 0, 0)))
    c.append(Case("denormal", 40, 6, lr=0.01, gdist=DENORMAL))
    c.append(Case("denormal_tiny_eps", 40, 6, lr=1e-30, eps=1e-38, gdist=DENORMAL, pdist=PARAMS_TINY))
    c.append(Case("denormal_wd", 40, 6, lr=1e-3, weight_decay=0.5, gdist=DENORMAL, pdist=PARAMS_TINY))
    c.append(Case("huge_finite", 40, 3, lr=0.01, gdist=HUGE_FINITE))
    c.append(Case("huge_overflow", 40, 6, lr=0.01, gdist=HUGE_OVERFLOW))
    c.append(Case("huge_overflow_wd", 40, 6, lr=0.01, weight_decay=0.9, gdist=HUGE_OVERFLOW,
                  pdist=WD_HUGE_PARAMS))
    c.append(Case("long_300", 19, 300, lr=0.01, gdist=WITH_ZEROS))
    c.append(Case("long_400_all", 35, 400, lr=0.02, lr_decay=1e-2, weight_decay=1e-2,
                  maximize=True, init_acc=0.1, gdist=WITH_ZEROS))
    return c


def sample_indices(n):
    if n <= 6:
        return list(range(n))
    cand = [0, 7, 8, 15, 16, 31, 32, n // 2, n - 2, n - 1]
    out = []
    for i in cand:
        if i < n and i not in out:
            out.append(i)
    return sorted(out)


def checkpoint_steps(steps):
    if steps <= 20:
        return list(range(1, steps + 1))
    return sorted(set(list(range(1, 11)) + list(range(20, steps + 1, 20)) + [steps]))


def bits(t):
    return t.detach().numpy().view(np.uint32).copy()


def record(case):
    n = case.n
    p0 = gen_array(case.pdist, case.seed, 0, n)
    param = torch.from_numpy(p0.view(np.float32).copy())
    opt = torch.optim.Adagrad([param], lr=case.lr, lr_decay=case.lr_decay,
                              weight_decay=case.weight_decay, eps=case.eps,
                              initial_accumulator_value=case.init_acc,
                              foreach=False, maximize=case.maximize)
    sidx = sample_indices(n)
    csteps = checkpoint_steps(case.steps)
    gh = FNV_OFFSET
    step_hash, checks = [], []
    for k in range(1, case.steps + 1):
        g = gen_array(case.gdist, case.seed, k, n)
        gh = hash_words(gh, g)
        param.grad = torch.from_numpy(g.view(np.float32).copy())
        with np.errstate(all="ignore"):
            opt.step()
        pb, sb = bits(param), bits(opt.state[param]["sum"])
        step_hash.append(hash_words(hash_words(FNV_OFFSET, pb), sb))
        if k in csteps:
            for i in sidx:
                checks += [int(pb[i]), int(sb[i])]
    st = opt.state[param]
    assert float(st["step"]) == case.steps
    return dict(p0=p0, sidx=sidx, csteps=csteps, checks=checks, step_hash=step_hash,
                final_p=bits(param), final_s=bits(st["sum"]), grad_hash=gh)


def u32_array(name, vals, per_line=8, fmt="0x%08x"):
    lines = ["static const uint32_t %s[%d] = {" % (name, max(len(vals), 1))]
    vals = list(vals) or [0]
    if fmt != "0x%08x":
        per_line = 16
    for j in range(0, len(vals), per_line):
        lines.append("    " + ",".join(fmt % int(v) for v in vals[j:j + per_line]) + ",")
    lines.append("};")
    return "\n".join(lines)


def u64_array(name, vals, per_line=4):
    lines = ["static const uint64_t %s[%d] = {" % (name, len(vals))]
    for j in range(0, len(vals), per_line):
        lines.append("    " + ",".join("0x%016xull" % v for v in vals[j:j + per_line]) + ",")
    lines.append("};")
    return "\n".join(lines)


def dist_c(d):
    return "{%d, %d, %d, %d, %d, %d, %d}" % d


def nan_count(a):
    return sum(1 for w in a if (int(w) & 0x7FFFFFFF) > 0x7F800000)


def inf_count(a):
    return sum(1 for w in a if (int(w) & 0x7FFFFFFF) == 0x7F800000)


HEADER_TOP = r"""/* tests/torch_trajectories.h — GENERATED by tests/gen_torch_trajectories.py; do not edit.
 * SPDX-License-Identifier: MIT
 *
 * Data only: trajectories of torch.optim.Adagrad recorded from PyTorch %(torch)s
 * (CPU, float32, foreach=False: the default single-tensor path; torch CPU
 * capability %(cap)s), as uint32 bit patterns and 64-bit hashes. The types are
 * in tests/torch_replay.h; tests/body_torch.c replays the cases.
 *
 * Per case: a hash of the whole state (param, sum) after every step, param and
 * sum at sample indices at checkpoint steps, the whole final state, and a hash
 * of every gradient. Inputs are not stored: torch_input_bits() makes them.
 *
 * Cases (n elements x steps; lr, lr_decay, weight_decay, eps, init_acc, maximize;
 * NaN / inf elements in the final param, sum):
%(table)s */
"""

# Everything from here on is the recorded data (the top comment names the torch).
DATA_START = "#ifndef ADAGRAD_TESTS_TORCH_TRAJECTORIES_H\n"


def emit(torch_version, capability, recorded):
    """The header's text; recorded: [(Case, record(Case))]."""
    body, table, entries = [], [], []
    for c, r in recorded:
        pre = "torch_traj_" + c.name
        body.append("/* %s */" % c.name)
        body.append(u32_array(pre + "_idx", r["sidx"], fmt="%d"))
        body.append(u32_array(pre + "_cstep", r["csteps"], fmt="%d"))
        body.append(u32_array(pre + "_check", r["checks"]))
        body.append(u64_array(pre + "_hash", r["step_hash"]))
        body.append(u32_array(pre + "_param", r["final_p"]))
        body.append(u32_array(pre + "_sum", r["final_s"]))
        fp, fs = r["final_p"], r["final_s"]
        table.append(" *   %-24s %4d x %3d; %s, %s, %s, %s, %s, %s; NaN %d, %d; inf %d, %d" % (
            c.name, c.n, c.steps, repr(c.lr), repr(c.lr_decay), repr(c.weight_decay),
            repr(c.eps), repr(c.init_acc), "max" if c.maximize else "min",
            nan_count(fp), nan_count(fs), inf_count(fp), inf_count(fs)))
        entries.append(
            '    {.name = "%s", .n = %du, .steps = %du, .seed = 0x%08xu,\n'
            '     .lr = %s, .lr_decay = %s, .weight_decay = %s,\n'
            '     .eps = %s, .init_acc = %s, .maximize = %d,\n'
            '     .pdist = %s, .gdist = %s,\n'
            '     .nsample = %du, .ncheck = %du,\n'
            '     .sample_idx = %s_idx, .check_step = %s_cstep,\n'
            '     .check_bits = %s_check, .step_hash = %s_hash,\n'
            '     .final_param = %s_param, .final_sum = %s_sum,\n'
            '     .grad_hash = 0x%016xull},' % (
                c.name, c.n, c.steps, c.seed, c.lr.hex(), c.lr_decay.hex(), c.weight_decay.hex(),
                c.eps.hex(), c.init_acc.hex(), int(c.maximize), dist_c(c.pdist), dist_c(c.gdist),
                len(r["sidx"]), len(r["csteps"]), pre, pre, pre, pre, pre, pre, r["grad_hash"]))
    out = HEADER_TOP % dict(torch=torch_version, cap=capability, table="\n".join(table))
    out += DATA_START + "#define ADAGRAD_TESTS_TORCH_TRAJECTORIES_H\n\n"
    out += "#include <stdint.h>\n\n#include \"torch_replay.h\"\n\n"
    out += "\n".join(body) + "\n\n"
    out += "static const torch_traj_case torch_traj_cases[] = {\n" + "\n".join(entries) + "\n};\n\n"
    out += "#endif /* ADAGRAD_TESTS_TORCH_TRAJECTORIES_H */\n"
    return out


def cap():
    s = torch.__config__.show()
    return s.split("CPU capability usage: ")[1].split("\n")[0].strip()


def generate(any_capability=False):
    torch.set_num_threads(1)
    capability = cap()
    if capability not in ("AVX2", "AVX512") and not any_capability:
        sys.exit("torch CPU capability is %r: its portable kernels do not fuse the multiply-adds, "
                 "so they do not follow libadagrad's contract; record with "
                 "ATEN_CPU_CAPABILITY=avx2 (the default on an AVX2 CPU)" % capability)
    return emit(torch.__version__, capability, [(c, record(c)) for c in cases()])


def check_file(path, text):
    """Exit 1 unless the file at path holds exactly text."""
    try:
        with open(path) as f:
            old = f.read()
    except OSError as e:
        sys.exit("%s: %s" % (path, e))
    if old == text:
        print("%s: matches this run byte for byte (%d bytes)" % (path, len(text)))
        return
    diff = difflib.unified_diff(old.splitlines(), text.splitlines(), path, "this run", lineterm="", n=1)
    sys.stderr.write("\n".join(list(diff)[:40]) + "\n")
    sys.exit("%s differs from what this run recorded" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("-o", default=os.path.join(here, "torch_trajectories.h"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--stdout", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--check-capabilities", action="store_true")
    ap.add_argument("--any-capability", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.stdout:
        sys.stdout.write(generate(a.any_capability))
        return
    text = generate()
    if a.check_capabilities:
        data = text[text.index(DATA_START):]
        for c in ("avx2", "avx512", "default"):
            env = dict(os.environ, ATEN_CPU_CAPABILITY=c)
            p = subprocess.run([sys.executable, os.path.abspath(__file__), "--stdout",
                                "--any-capability"], env=env, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit("ATEN_CPU_CAPABILITY=%s: the generator failed:\n%s" % (c, p.stderr))
            same = p.stdout[p.stdout.index(DATA_START):] == data
            print("ATEN_CPU_CAPABILITY=%-8s %s" % (c, "same data" if same else "DIFFERENT data"))
            if c != "default" and not same:
                sys.exit("torch's AVX2 and AVX-512 kernels disagree: not recorded")
    if a.check:
        check_file(a.o, text)
        return
    with open(a.o, "w") as f:
        f.write(text)
    print("wrote %s (%d bytes, %d cases, torch %s, capability %s)" % (
        a.o, len(text), len(cases()), torch.__version__, cap()))


if __name__ == "__main__":
    main()
