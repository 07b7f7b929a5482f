/* libadagrad tests — replay of trajectories recorded from torch.optim.Adagrad.
 * SPDX-License-Identifier: MIT
 *
 * tests/torch_trajectories.h (data written by tests/gen_torch_trajectories.py,
 * which runs torch) holds, per case, what torch's default single-tensor
 * Adagrad did to one float32 tensor. This body regenerates the same inputs,
 * runs the same steps through the row's EXACT step and requires torch's bits
 * (any NaN equals any NaN): the README's promise that every implementation
 * gives torch.optim.Adagrad's bits, checked without torch. Without the header
 * the body is not built (suite.h decides).
 */
#include "suite.h"

#ifdef ADAGRAD_TEST_HAVE_TORCH
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torch_replay.h"
#include "torch_trajectories.h"
#include "ulp.h"

#define NCASES (sizeof torch_traj_cases / sizeof torch_traj_cases[0])

/* Step `step` (from 1) of case c, with torch's conversions: torch computes
 * clr = lr / (1 + (step - 1) * lr_decay) in double and converts it to
 * float32 when it scales the update; weight decay, eps and the initial sum
 * become float32 tensor scalars. */
static adagrad_options step_options(const torch_traj_case *c, uint32_t step)
{
    return (adagrad_options){
        .lr = (float)adagrad_decayed_lr(c->lr, c->lr_decay, step),
        .eps = (float)c->eps,
        .weight_decay = (float)c->weight_decay,
        .flags = c->maximize ? ADAGRAD_MAXIMIZE : 0u,
    };
}

/* One element, (got_p, got_s) = (param, sum), against torch's bits (want_p,
 * want_s) by the contract's rule: identical bits, or both NaN. When it
 * differs, writes "param|sum expected 0x... (value) got 0x... (value)" into
 * what (param, when both differ) and returns true. */
static bool element_differs(uint32_t want_p, uint32_t want_s, float got_p, float got_s, char *what, size_t len)
{
    const bool bad_p = !same_f32(f32_from_bits(want_p), got_p);
    if (!bad_p && same_f32(f32_from_bits(want_s), got_s))
        return false;
    const uint32_t want = bad_p ? want_p : want_s, got = f32_bits(bad_p ? got_p : got_s);
    snprintf(what, len, "%s expected 0x%08x (%.9g) got 0x%08x (%.9g)", bad_p ? "param" : "sum", (unsigned)want,
             (double)f32_from_bits(want), (unsigned)got, (double)f32_from_bits(got));
    return true;
}

/* Replays case c on kernel table k in param, sum, grad (c->n floats each).
 * Returns 0 when every check matches torch, 1 when one does not (msg says
 * which: case, step, element). Checks, each for a reason:
 *   - every gradient's hash, before any step: the C input generator must
 *     give the Python one's bits, or a difference below would say nothing
 *     about the kernel;
 *   - sample elements at checkpoint steps: the earliest recorded step at
 *     which an element near a vector boundary (or the first, middle, last)
 *     goes wrong, with its index;
 *   - the whole state's hash after every step: a difference in any element
 *     at any step, even one the final state no longer shows, and the first
 *     step it appears at;
 *   - the whole final state, element by element: which element. */
static int run_case(const adagrad_kernels *k, const torch_traj_case *c, float *param, float *sum, float *grad,
                    char *msg, size_t len)
{
    const size_t n = c->n;
    char what[160];

    uint64_t grad_hash = TORCH_HASH_START;
    for (uint32_t step = 1; step <= c->steps; step++) {
        torch_inputs(&c->gdist, c->seed, step, grad, n);
        grad_hash = torch_state_hash(grad_hash, grad, n);
    }
    if (grad_hash != c->grad_hash) {
        snprintf(msg, len, "torch case %s: the C gradient generator differs from the Python one", c->name);
        return 1;
    }

    torch_inputs(&c->pdist, c->seed, 0, param, n);
    for (size_t i = 0; i < n; i++)
        sum[i] = (float)c->init_acc;
    uint32_t hash_step = 0; /* the first step after which the whole state differs */
    uint32_t next_check = 0;
    for (uint32_t step = 1; step <= c->steps; step++) {
        torch_inputs(&c->gdist, c->seed, step, grad, n);
        const adagrad_options opt = step_options(c, step);
        const int st = adagrad_step_f32_with(k, param, sum, grad, n, &opt);
        if (st != ADAGRAD_OK) {
            snprintf(msg, len, "torch case %s: step %u returned %d (%s)", c->name, (unsigned)step, st,
                     adagrad_strerror(st));
            return 1;
        }
        if (next_check < c->ncheck && c->check_step[next_check] == step) {
            for (uint32_t j = 0; j < c->nsample; j++) {
                const uint32_t i = c->sample_idx[j];
                const uint32_t *want = &c->check_bits[((size_t)next_check * c->nsample + j) * 2];
                if (element_differs(want[0], want[1], param[i], sum[i], what, sizeof what)) {
                    snprintf(msg, len, "torch case %s (n=%u): step %u, index %u: %s", c->name, (unsigned)n,
                             (unsigned)step, (unsigned)i, what);
                    return 1;
                }
            }
            next_check++;
        }
        /* A differing hash does not stop the replay: the final state then
         * names an element, which says more than the hash. */
        if (!hash_step && torch_state_hash(torch_state_hash(TORCH_HASH_START, param, n), sum, n) !=
                              c->step_hash[step - 1])
            hash_step = step;
    }

    for (size_t i = 0; i < n; i++)
        if (element_differs(c->final_param[i], c->final_sum[i], param[i], sum[i], what, sizeof what)) {
            char when[96];
            if (hash_step)
                snprintf(when, sizeof when, "the whole state first differs after step %u", (unsigned)hash_step);
            else /* only if the recorded final state and hashes disagree */
                snprintf(when, sizeof when, "yet every step's whole-state hash matches");
            snprintf(msg, len, "torch case %s (n=%u): final state (step %u), index %u: %s; %s", c->name,
                     (unsigned)n, (unsigned)c->steps, (unsigned)i, what, when);
            return 1;
        }
    if (hash_step) {
        snprintf(msg, len,
                 "torch case %s (n=%u): the state after step %u differs from torch (whole-state hash), though the "
                 "final state matches",
                 c->name, (unsigned)n, (unsigned)hash_step);
        return 1;
    }
    return 0;
}

/* run_case on buffers of its own; -1 when out of memory. Odd-numbered cases
 * start one float past malloc's alignment, so every kernel's unaligned head
 * and tail run on torch's data too. */
static int replay_case(const adagrad_kernels *k, const torch_traj_case *c, size_t case_no, char *msg, size_t len)
{
    const size_t off = case_no & 1u;
    float *pbuf = malloc((c->n + 1) * sizeof *pbuf);
    float *sbuf = malloc((c->n + 1) * sizeof *sbuf);
    float *gbuf = malloc((c->n + 1) * sizeof *gbuf);
    int r = -1;
    if (pbuf && sbuf && gbuf)
        r = run_case(k, c, pbuf + off, sbuf + off, gbuf + off, msg, len);
    else
        snprintf(msg, len, "torch case %s: out of memory", c->name);
    free(pbuf);
    free(sbuf);
    free(gbuf);
    return r;
}

/* Every case on this row; all of them run, so the failure counts them and
 * shows the first. */
void body_torch(void **state)
{
    const test_row *row = suite_row(state);
    char first[512] = "";
    int failed = 0;
    for (size_t ci = 0; ci < NCASES; ci++) {
        char msg[512];
        const int r = replay_case(row->k, &torch_traj_cases[ci], ci, msg, sizeof msg);
        if (r < 0)
            fail_msg("torch/%s: %s", row->name, msg);
        if (r > 0 && failed++ == 0)
            memcpy(first, msg, sizeof first);
    }
    if (failed)
        fail_msg("torch/%s: %d of %u cases differ from PyTorch; first: %s", row->name, failed, (unsigned)NCASES,
                 first);
}
#else
typedef int body_torch_unused; /* ISO C: a translation unit must declare something */
#endif
