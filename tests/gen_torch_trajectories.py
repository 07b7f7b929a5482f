#!/usr/bin/python3
"""Record PyTorch reference trajectories for libadagrad's EXACT mode.

Writes tests/torch_trajectories.h: float32 trajectories of
torch.optim.Adagrad's default CPU path (foreach=False, the single-tensor
implementation), stored as uint32 bit patterns, plus a static C replay
function, torch_replay_all(), that runs every recorded case through a
caller-supplied step function and compares bit for bit. The C test suite
thus proves "EXACT mode == torch" without needing torch at test time.

Re-running
----------
    cd <repo> && /usr/bin/python3 tests/gen_torch_trajectories.py

Use Debian's interpreter (/usr/bin/python3, which has python3-torch 1.13 and
numpy), not another python3 that may come first on PATH. No network is
needed. Options:
    -o FILE               output (default: torch_trajectories.h next to this script)
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
The C side passes (float)adagrad_decayed_lr(lr, lr_decay, t) as the step's lr,
(float)weight_decay, (float)eps, and starts sum at (float)initial_accumulator_value,
the same conversions torch makes.

What is recorded, per case
--------------------------
Inputs are not stored: the initial parameters and every step's gradient come
from a stateless integer hash (mix32 below, written identically in C), which
builds float32 bit patterns directly (sign, exponent in a range, random
mantissa, or +-0 / denormal / huge with given odds), so no float arithmetic
is involved in making inputs. A 64-bit hash of all gradient bits is stored so
the C side can tell a generator mismatch from a kernel mismatch.
Stored outputs:
  * every step: a 64-bit hash (FNV-1a style, per 32-bit word, NaN
    canonicalised) of the whole state, param then sum;
  * at checkpoint steps (every step of runs up to 20 steps; else steps 1-10,
    every 20th and the last): param and sum bits at sample indices (first,
    last two, middle, and 7, 8, 15, 16, 31, 32 where they exist: around
    8/16/32-element vector boundaries);
  * after the last step: the whole param and sum arrays.
Comparison is bitwise, except that any NaN equals any NaN (sign and payload
are not compared: they are not part of the contract).
"""

import argparse
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
    """lowbias32 (C. Wellons); uint32 -> uint32. Mirrored in the header."""
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
    """Bit pattern of input value i at step k (k = 0: initial param)."""
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
    return int(np.count_nonzero((a & 0x7FFFFFFF) > 0x7F800000))


def inf_count(a):
    return int(np.count_nonzero((a & 0x7FFFFFFF) == 0x7F800000))


HEADER_TOP = r"""/* tests/torch_trajectories.h — GENERATED by tests/gen_torch_trajectories.py; do not edit.
 * SPDX-License-Identifier: MIT
 *
 * Reference trajectories of torch.optim.Adagrad (PyTorch %(torch)s, CPU, float32,
 * foreach=False: the default single-tensor path; torch CPU capability %(cap)s)
 * as uint32 bit patterns, and a replay function:
 *
 *   static int torch_replay_all(int (*step)(void *ctx, float *param, float *sum,
 *                                           const float *grad, size_t n,
 *                                           const adagrad_options *opt),
 *                               void *ctx, char *msg, size_t msglen);
 *
 * It runs every case through step() (EXACT mode: flags are only
 * ADAGRAD_MAXIMIZE or 0), with buffers it mallocs (odd-numbered cases are
 * offset by one float, so unaligned), and compares bitwise: the whole state
 * (param, sum) after every step through a 64-bit hash, sample elements at
 * checkpoint steps, and the whole final state element by element. Any NaN
 * equals any NaN. It returns the number of mismatching cases (0 = all match;
 * -1 if malloc failed) and writes a description of the first mismatch (case,
 * step, index, expected / got bits) into msg (msg may be NULL).
 *
 * Each step's lr is (float)adagrad_decayed_lr(lr, lr_decay, step): torch
 * computes lr / (1 + (step - 1) * lr_decay) in double and converts -clr to
 * float32. Inputs are regenerated by torch_traj_mix32() exactly as the Python
 * generator makes them; the stored gradient hash tells a generator mismatch
 * from a kernel mismatch.
 *
 * Cases (n elements x steps; lr, lr_decay, weight_decay, eps, init_acc, maximize;
 * NaN / inf elements in the final param, sum):
%(table)s */
#ifndef LIBADAGRAD_TESTS_TORCH_TRAJECTORIES_H
#define LIBADAGRAD_TESTS_TORCH_TRAJECTORIES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <adagrad.h>

#if defined(__GNUC__)
#define TORCH_TRAJ_UNUSED __attribute__((unused))
#else
#define TORCH_TRAJ_UNUSED
#endif

/* A value distribution: odds out of 256; see gen_bits() in the generator. */
typedef struct torch_traj_dist {
    int emin, emax, p_zero, p_denorm, p_huge, hmin, hmax;
} torch_traj_dist;

typedef struct torch_traj_case {
    const char *name;
    uint32_t n, steps, seed;
    double lr, lr_decay, weight_decay, eps, init_acc;
    unsigned flags;                /* 0 or ADAGRAD_MAXIMIZE */
    torch_traj_dist pdist, gdist;  /* initial param, gradients */
    uint32_t nsample, ncheck;
    const uint32_t *sample_idx;    /* [nsample] */
    const uint32_t *check_step;    /* [ncheck], steps counted from 1 */
    const uint32_t *check_bits;    /* [ncheck][nsample][param, sum] */
    const uint64_t *step_hash;     /* [steps]: hash(param bits, sum bits) after each step */
    const uint32_t *final_param;   /* [n] */
    const uint32_t *final_sum;     /* [n] */
    uint64_t grad_hash;            /* hash of every gradient, steps in order */
} torch_traj_case;
"""

HEADER_BOTTOM = r"""
static inline uint32_t torch_traj_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Bit pattern of input value i at step k (k = 0: the initial param). */
static inline uint32_t torch_traj_gen_bits(const torch_traj_dist *d, uint32_t seed, uint32_t k,
                                           uint32_t i)
{
    const uint32_t a = torch_traj_mix32(torch_traj_mix32(seed ^ torch_traj_mix32(k)) + i);
    const uint32_t b = torch_traj_mix32(a ^ 0xa5a5a5a5U);
    const uint32_t sign = a >> 31, sel = (a >> 23) & 0xffU, mant = b & 0x7fffffU, er = b >> 23;
    int e;
    if (sel < (uint32_t)d->p_zero)
        return sign << 31;
    if (sel < (uint32_t)(d->p_zero + d->p_denorm))
        return (sign << 31) | (mant | 1U);
    if (sel < (uint32_t)(d->p_zero + d->p_denorm + d->p_huge))
        e = d->hmin + (int)(er % (uint32_t)(d->hmax - d->hmin + 1));
    else
        e = d->emin + (int)(er % (uint32_t)(d->emax - d->emin + 1));
    return (sign << 31) | ((uint32_t)(e + 127) << 23) | mant;
}

static inline uint32_t torch_traj_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float torch_traj_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline int torch_traj_isnan(uint32_t u) { return (u & 0x7fffffffU) > 0x7f800000U; }

/* Equal bits, or both NaN. */
static inline int torch_traj_same(uint32_t want, uint32_t got)
{
    return want == got || (torch_traj_isnan(want) && torch_traj_isnan(got));
}

static inline uint64_t torch_traj_hash(uint64_t h, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t w = torch_traj_bits(x[i]);
        if (torch_traj_isnan(w))
            w = 0x7fc00000U;
        h = (h ^ w) * 0x100000001b3ULL;
    }
    return h;
}

#define TORCH_TRAJ_FNV_OFFSET 0xcbf29ce484222325ULL

/* Replays one case; 0 when it matches, 1 (description in msg) when not, -1 on malloc failure. */
static inline int torch_replay_case(const torch_traj_case *c, size_t case_no,
                                    int (*step)(void *ctx, float *param, float *sum,
                                                const float *grad, size_t n,
                                                const adagrad_options *opt),
                                    void *ctx, char *msg, size_t msglen)
{
    const size_t n = c->n, off = case_no & 1U;
    float *pbuf = (float *)malloc((n + 1) * sizeof(float));
    float *sbuf = (float *)malloc((n + 1) * sizeof(float));
    float *gbuf = (float *)malloc((n + 1) * sizeof(float));
    int bad = 0;
    uint32_t hash_step = 0; /* first step whose whole-state hash differs */
    if (!pbuf || !sbuf || !gbuf) {
        free(pbuf);
        free(sbuf);
        free(gbuf);
        if (msg && msglen)
            snprintf(msg, msglen, "torch case %s: out of memory", c->name);
        return -1;
    }
    float *param = pbuf + off, *sum = sbuf + off, *grad = gbuf + off;

    /* The inputs first: a generator mismatch is not a kernel mismatch. */
    uint64_t gh = TORCH_TRAJ_FNV_OFFSET;
    for (uint32_t k = 1; k <= c->steps; k++) {
        for (size_t i = 0; i < n; i++)
            grad[i] = torch_traj_float(torch_traj_gen_bits(&c->gdist, c->seed, k, (uint32_t)i));
        gh = torch_traj_hash(gh, grad, n);
    }
    if (gh != c->grad_hash) {
        if (msg && msglen)
            snprintf(msg, msglen,
                     "torch case %s: the C gradient generator differs from the Python one",
                     c->name);
        bad = 1;
    }

    const float init = (float)c->init_acc;
    for (size_t i = 0; i < n; i++) {
        param[i] = torch_traj_float(torch_traj_gen_bits(&c->pdist, c->seed, 0, (uint32_t)i));
        sum[i] = init;
    }
    uint32_t ci = 0;
    for (uint32_t k = 1; k <= c->steps && !bad; k++) {
        for (size_t i = 0; i < n; i++)
            grad[i] = torch_traj_float(torch_traj_gen_bits(&c->gdist, c->seed, k, (uint32_t)i));
        adagrad_options opt;
        memset(&opt, 0, sizeof opt);
        opt.lr = (float)adagrad_decayed_lr(c->lr, c->lr_decay, k);
        opt.eps = (float)c->eps;
        opt.weight_decay = (float)c->weight_decay;
        opt.flags = c->flags;
        const int st = step(ctx, param, sum, grad, n, &opt);
        if (st != 0) {
            if (msg && msglen)
                snprintf(msg, msglen, "torch case %s: step %u returned %d (%s)", c->name,
                         (unsigned)k, st, adagrad_strerror(st));
            bad = 1;
            break;
        }
        if (ci < c->ncheck && c->check_step[ci] == k) {
            for (uint32_t j = 0; j < c->nsample && !bad; j++) {
                const uint32_t i = c->sample_idx[j];
                const uint32_t *w = &c->check_bits[((size_t)ci * c->nsample + j) * 2];
                const uint32_t gp = torch_traj_bits(param[i]), gs = torch_traj_bits(sum[i]);
                const int isp = !torch_traj_same(w[0], gp);
                if (isp || !torch_traj_same(w[1], gs)) {
                    const uint32_t want = isp ? w[0] : w[1], got = isp ? gp : gs;
                    if (msg && msglen)
                        snprintf(msg, msglen,
                                 "torch case %s (n=%u): step %u, index %u: %s expected 0x%08x "
                                 "(%.9g) got 0x%08x (%.9g)",
                                 c->name, (unsigned)n, (unsigned)k, (unsigned)i,
                                 isp ? "param" : "sum", (unsigned)want,
                                 (double)torch_traj_float(want), (unsigned)got,
                                 (double)torch_traj_float(got));
                    bad = 1;
                }
            }
            ci++;
        }
        if (!bad && !hash_step &&
            torch_traj_hash(torch_traj_hash(TORCH_TRAJ_FNV_OFFSET, param, n), sum, n) !=
                c->step_hash[k - 1])
            hash_step = k; /* keep going: the final state tells which element */
    }
    for (size_t i = 0; i < n && !bad; i++) {
        const uint32_t gp = torch_traj_bits(param[i]), gs = torch_traj_bits(sum[i]);
        const int isp = !torch_traj_same(c->final_param[i], gp);
        if (isp || !torch_traj_same(c->final_sum[i], gs)) {
            const uint32_t want = isp ? c->final_param[i] : c->final_sum[i], got = isp ? gp : gs;
            if (msg && msglen)
                snprintf(msg, msglen,
                         "torch case %s (n=%u): final state (step %u), index %u: %s expected "
                         "0x%08x (%.9g) got 0x%08x (%.9g); the whole state first differs "
                         "after step %u",
                         c->name, (unsigned)n, (unsigned)c->steps, (unsigned)i,
                         isp ? "param" : "sum", (unsigned)want, (double)torch_traj_float(want),
                         (unsigned)got, (double)torch_traj_float(got), (unsigned)hash_step);
            bad = 1;
        }
    }
    if (!bad && hash_step) {
        if (msg && msglen)
            snprintf(msg, msglen,
                     "torch case %s (n=%u): the state after step %u differs from torch "
                     "(whole-state hash), though the final state matches",
                     c->name, (unsigned)n, (unsigned)hash_step);
        bad = 1;
    }
    free(pbuf);
    free(sbuf);
    free(gbuf);
    return bad;
}

/* Replays every recorded case through step(); returns the number of
 * mismatching cases (0 = all bitwise equal to torch), -1 on malloc failure.
 * msg (if not NULL) receives the first mismatch, or a summary when all match. */
TORCH_TRAJ_UNUSED static int torch_replay_all(int (*step)(void *ctx, float *param, float *sum,
                                                          const float *grad, size_t n,
                                                          const adagrad_options *opt),
                                              void *ctx, char *msg, size_t msglen)
{
    const size_t ncases = sizeof torch_traj_cases / sizeof torch_traj_cases[0];
    int failed = 0;
    char first[512];
    first[0] = '\0';
    for (size_t c = 0; c < ncases; c++) {
        char buf[512];
        buf[0] = '\0';
        const int r = torch_replay_case(&torch_traj_cases[c], c, step, ctx, buf, sizeof buf);
        if (r < 0) {
            if (msg && msglen)
                snprintf(msg, msglen, "%s", buf);
            return -1;
        }
        if (r && !failed++)
            memcpy(first, buf, sizeof first);
    }
    if (msg && msglen) {
        if (failed)
            snprintf(msg, msglen, "%d of %u torch cases differ; first: %s", failed,
                     (unsigned)ncases, first);
        else
            snprintf(msg, msglen, "all %u torch cases match bitwise", (unsigned)ncases);
    }
    return failed;
}

#endif /* LIBADAGRAD_TESTS_TORCH_TRAJECTORIES_H */
"""


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
    body, table, entries = [], [], []
    for ci, c in enumerate(cases()):
        r = record(c)
        pre = "torch_traj_%d" % ci
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
            '    {"%s", %du, %du, 0x%08xu, %s, %s, %s, %s, %s, %s,\n'
            '     %s, %s, %du, %du, %s_idx, %s_cstep, %s_check, %s_hash, %s_param, %s_sum,\n'
            '     0x%016xull},' % (
                c.name, c.n, c.steps, c.seed, c.lr.hex(), c.lr_decay.hex(),
                c.weight_decay.hex(), c.eps.hex(), c.init_acc.hex(),
                "ADAGRAD_MAXIMIZE" if c.maximize else "0u", dist_c(c.pdist), dist_c(c.gdist),
                len(r["sidx"]), len(r["csteps"]), pre, pre, pre, pre, pre, pre, r["grad_hash"]))
    out = HEADER_TOP % dict(torch=torch.__version__, cap=capability, table="\n".join(table))
    out += "\n" + "\n".join(body) + "\n\n"
    out += "static const torch_traj_case torch_traj_cases[] = {\n" + "\n".join(entries) + "\n};\n"
    out += HEADER_BOTTOM
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("-o", default=os.path.join(here, "torch_trajectories.h"))
    ap.add_argument("--stdout", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--check-capabilities", action="store_true")
    ap.add_argument("--any-capability", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.stdout:
        sys.stdout.write(generate(a.any_capability))
        return
    text = generate()
    if a.check_capabilities:
        data = text[text.index("#ifndef LIBADAGRAD_TESTS"):]
        for c in ("avx2", "avx512", "default"):
            env = dict(os.environ, ATEN_CPU_CAPABILITY=c)
            p = subprocess.run([sys.executable, os.path.abspath(__file__), "--stdout",
                                "--any-capability"], env=env, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit("ATEN_CPU_CAPABILITY=%s: the generator failed:\n%s" % (c, p.stderr))
            same = p.stdout[p.stdout.index("#ifndef LIBADAGRAD_TESTS"):] == data
            print("ATEN_CPU_CAPABILITY=%-8s %s" % (c, "same data" if same else "DIFFERENT data"))
            if c != "default" and not same:
                sys.exit("torch's AVX2 and AVX-512 kernels disagree: not recorded")
    with open(a.o, "w") as f:
        f.write(text)
    print("wrote %s (%d bytes, %d cases, torch %s, capability %s)" % (
        a.o, len(text), len(cases()), torch.__version__, cap()))


if __name__ == "__main__":
    main()
