/* libadagrad tests — the layout of the data recorded from PyTorch, and what
 * both replays need to regenerate its inputs and compare its states.
 * SPDX-License-Identifier: MIT
 *
 * Two generators run torch and write down what it did, as data only:
 *   tests/gen_torch_trajectories.py -> tests/torch_trajectories.h
 *       torch.optim.Adagrad on one dense tensor (torch_traj_cases[]),
 *       replayed by tests/body_torch.c;
 *   tests/gen_torch_sparse.py -> tests/torch_sparse_trajectories.h
 *       nn.Embedding(sparse=True) trained by it (torch_sparse_cases[]),
 *       replayed by tests/body_torch_sparse.c.
 * Their tables have the types below, filled in with designated initializers.
 *
 * The inputs (initial parameters, every step's gradients) are not stored.
 * Both generators build them from the stateless integer hash mix32 as float32
 * bit patterns, with no float arithmetic, so C builds the same bits with
 * torch_input_bits() on any machine. Recorded states are stored as bit
 * patterns and, for every step, as torch_state_hash() of the whole state.
 */
#ifndef ADAGRAD_TESTS_TORCH_REPLAY_H
#define ADAGRAD_TESTS_TORCH_REPLAY_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ulp.h"

/* How input values are drawn (gen_bits() in gen_torch_trajectories.py).
 * Odds are out of 256: a value is ±0 with odds p_zero, a denormal (random
 * nonzero mantissa) with p_denorm, a "huge" normal with unbiased exponent in
 * [hmin, hmax] with p_huge, otherwise a normal with exponent in [emin, emax];
 * the sign and the mantissa are random. */
typedef struct torch_dist {
    int emin, emax, p_zero, p_denorm, p_huge, hmin, hmax;
} torch_dist;

/* One dense case: torch.optim.Adagrad(foreach=False) on one float32 tensor
 * of n elements for `steps` steps. The hyper-parameters are torch's Python
 * floats (doubles); the replay converts them to float32 the way torch does. */
typedef struct torch_traj_case {
    const char *name;
    uint32_t n, steps, seed;          /* seed: the inputs' (torch_input_bits) */
    double lr, lr_decay, weight_decay, eps, init_acc;
    int maximize;                     /* 0 or 1 */
    torch_dist pdist, gdist;          /* initial param, gradients */
    uint32_t nsample, ncheck;
    const uint32_t *sample_idx;       /* [nsample]: elements sampled at checkpoints */
    const uint32_t *check_step;       /* [ncheck]: checkpoint steps, counted from 1, increasing */
    const uint32_t *check_bits;       /* [ncheck][nsample][param, sum] */
    const uint64_t *step_hash;        /* [steps]: hash of (param, sum) after each step */
    const uint32_t *final_param;      /* [n] */
    const uint32_t *final_sum;        /* [n] */
    uint64_t grad_hash;               /* hash of every step's gradient, in step order */
} torch_traj_case;

/* One sparse case: an nn.Embedding(rows, dim, sparse=True) table trained
 * with torch.optim.Adagrad(foreach=False) for `steps` steps, each step on
 * `batch` looked-up rows (indices from the replay's batch_indices()). */
typedef struct torch_sparse_case {
    const char *name;
    uint32_t seed;
    size_t rows, dim, batch;
    unsigned steps;
    double lr, lr_decay;
    float eps, init_acc;              /* as torch stores them: float32 */
    int maximize;                     /* 0 or 1 */
    torch_dist wdist, gdist;          /* initial weights, gradient rows */
    const uint64_t *step_hash;        /* [steps]: hash of (weight, sum) after each step */
    const uint32_t *final_param;      /* [rows * dim] */
    const uint32_t *final_sum;        /* [rows * dim] */
} torch_sparse_case;

/* lowbias32 (C. Wellons), mix32() in gen_torch_trajectories.py. */
static inline uint32_t torch_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* Bits of input value i at step `step` (0: the initial parameters), as
 * gen_bits() makes them: a picks the sign and the kind of value, b the
 * exponent and the mantissa. */
static inline uint32_t torch_input_bits(const torch_dist *d, uint32_t seed, uint32_t step, uint32_t i)
{
    const uint32_t a = torch_mix32(torch_mix32(seed ^ torch_mix32(step)) + i);
    const uint32_t b = torch_mix32(a ^ 0xa5a5a5a5u);
    const uint32_t sign = (a >> 31) << 31, sel = (a >> 23) & 0xffu, mant = b & 0x7fffffu, er = b >> 23;
    int e;
    if (sel < (uint32_t)d->p_zero)
        return sign;
    if (sel < (uint32_t)(d->p_zero + d->p_denorm))
        return sign | mant | 1u;
    if (sel < (uint32_t)(d->p_zero + d->p_denorm + d->p_huge))
        e = d->hmin + (int)(er % (uint32_t)(d->hmax - d->hmin + 1));
    else
        e = d->emin + (int)(er % (uint32_t)(d->emax - d->emin + 1));
    return sign | ((uint32_t)(e + 127) << 23) | mant;
}

/* x[0..n) = the inputs of step `step`. */
static inline void torch_inputs(const torch_dist *d, uint32_t seed, uint32_t step, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = f32_from_bits(torch_input_bits(d, seed, step, (uint32_t)i));
}

/* The generators' hash_words(): FNV-1a over 32-bit words, h = (h ^ w) * prime,
 * starting from TORCH_HASH_START. Every NaN hashes as 0x7fc00000, since a
 * NaN's sign and payload are not part of the contract. Chained calls hash a
 * whole state: torch_state_hash(torch_state_hash(TORCH_HASH_START, param, n), sum, n). */
#define TORCH_HASH_START 0xcbf29ce484222325u

static inline uint64_t torch_state_hash(uint64_t h, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (isnan(x[i]) ? 0x7fc00000u : f32_bits(x[i]))) * 0x100000001b3u;
    return h;
}

#endif /* ADAGRAD_TESTS_TORCH_REPLAY_H */
