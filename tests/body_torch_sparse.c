/* libadagrad tests — replay of nn.Embedding(sparse=True) + torch.optim.Adagrad.
 * SPDX-License-Identifier: MIT
 *
 * tests/torch_sparse_trajectories.h (data written by tests/gen_torch_sparse.py,
 * which runs torch) holds, per case, a hash of (weight, sum) after every
 * torch step and the final state. Each row replays every case through the
 * sparse step with ADAGRAD_SUM_DUPLICATES | ADAGRAD_TORCH_SPARSE (int64
 * indices on even cases, int32 on odd ones) and must give torch's bits at
 * every step. The same replay with ADAGRAD_SUM_DUPLICATES alone (the
 * contract's rounding) is measured against torch's final state and the
 * distance printed: that is how far torch's sparse rounding order is from
 * the contract.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sparse.h"
#include "suite.h"
#include "torch_replay.h"
#include "torch_sparse_trajectories.h"
#include "ulp.h"

/* The rows one step looks up, as batch_indices() in gen_torch_sparse.py
 * makes them: half the draws fall on rows 0-3, so rows repeat within a
 * batch, but never more than twice. (Torch sums a row named three times or
 * more in an order of its own, not list order: see the generator.) */
static void batch_indices(uint32_t seed, uint32_t step, size_t batch, size_t rows, int64_t *out, unsigned *count)
{
    memset(count, 0, rows * sizeof *count);
    for (size_t b = 0; b < batch; b++) {
        const uint32_t a = torch_mix32(seed ^ torch_mix32(step * 7919u + (uint32_t)b + 0x1000u));
        size_t r = (a & 1) ? (a >> 1) % rows : (a >> 1) % (rows < 4 ? rows : 4);
        while (count[r] == 2)
            r = (r + 1) % rows;
        count[r]++;
        out[b] = (int64_t)r;
    }
}

/* One case through one row; torch_order selects ADAGRAD_TORCH_SPARSE.
 * Returns the first mismatching step (0: none) and leaves the final state
 * in param / sum. */
static unsigned replay(const test_row *row, const torch_sparse_case *c, bool torch_order, bool i32, float *param,
                       float *sum)
{
    const size_t n = c->rows * c->dim;
    torch_inputs(&c->wdist, c->seed, 0, param, n);
    for (size_t i = 0; i < n; i++)
        sum[i] = c->init_acc;
    int64_t *ix = malloc(c->batch * sizeof *ix);
    int32_t *ix32 = malloc(c->batch * sizeof *ix32);
    unsigned *count = malloc(c->rows * sizeof *count);
    float *g = malloc(c->batch * c->dim * sizeof *g);
    const size_t wsb = adagrad_sparse_workspace_bytes(c->batch, c->dim);
    void *ws = malloc(wsb);
    if (!ix || !ix32 || !count || !g || !ws)
        abort();
    unsigned bad = 0;
    for (unsigned k = 1; k <= c->steps; k++) {
        batch_indices(c->seed, k, c->batch, c->rows, ix, count);
        for (size_t b = 0; b < c->batch; b++)
            ix32[b] = (int32_t)ix[b];
        torch_inputs(&c->gdist, c->seed, k, g, c->batch * c->dim);
        const adagrad_options opt = {
            .lr = (float)adagrad_decayed_lr(c->lr, c->lr_decay, k),
            .eps = c->eps,
            .flags = ADAGRAD_SUM_DUPLICATES | (torch_order ? ADAGRAD_TORCH_SPARSE : 0u) |
                     (c->maximize ? ADAGRAD_MAXIMIZE : 0u),
        };
        const int st = adagrad_sparse_with(row->k, false, param, sum, c->rows, c->dim, i32 ? (const void *)ix32 : ix,
                                           i32, g, c->batch, &opt, ws, wsb);
        if (st != ADAGRAD_OK)
            fail_msg("torch_sparse/%s %s: step %u returned %s", row->name, c->name, k, adagrad_strerror(st));
        const uint64_t h = torch_state_hash(torch_state_hash(TORCH_HASH_START, param, n), sum, n);
        if (!bad && h != c->step_hash[k - 1])
            bad = k;
    }
    free(ix), free(ix32), free(count), free(g), free(ws);
    return bad;
}

void body_torch_sparse(void **state)
{
    const test_row *row = suite_row(state);
    double worst_theta = 0.0, worst_s = 0.0;
    size_t differ = 0, total = 0;
    for (size_t ci = 0; ci < sizeof torch_sparse_cases / sizeof torch_sparse_cases[0]; ci++) {
        const torch_sparse_case *c = &torch_sparse_cases[ci];
        const size_t n = c->rows * c->dim;
        float *param = malloc(n * sizeof *param), *sum = malloc(n * sizeof *sum);
        if (!param || !sum)
            abort();
        const unsigned bad = replay(row, c, true, ci & 1, param, sum);
        for (size_t i = 0; i < n; i++)
            if (f32_bits(param[i]) != c->final_param[i] || f32_bits(sum[i]) != c->final_sum[i])
                fail_msg("torch_sparse/%s %s: final state [%zu]: param 0x%08x (torch 0x%08x), sum 0x%08x (torch 0x%08x)",
                         row->name, c->name, i, f32_bits(param[i]), c->final_param[i], f32_bits(sum[i]),
                         c->final_sum[i]);
        if (bad)
            fail_msg("torch_sparse/%s %s: state differs from torch after step %u", row->name, c->name, bad);

        /* the contract's rounding against torch's, for the record */
        replay(row, c, false, ci & 1, param, sum);
        for (size_t i = 0; i < n; i++) {
            const float tp = f32_from_bits(c->final_param[i]), ts = f32_from_bits(c->final_sum[i]);
            const double et = fabs((double)param[i] - (double)tp) / ulp_of(tp);
            const double es = fabs((double)sum[i] - (double)ts) / ulp_of(ts);
            differ += f32_bits(param[i]) != c->final_param[i] || f32_bits(sum[i]) != c->final_sum[i];
            total++;
            worst_theta = et > worst_theta ? et : worst_theta;
            worst_s = es > worst_s ? es : worst_s;
        }
        free(param), free(sum);
    }
    print_message("torch_sparse/%s: TORCH_SPARSE bitwise == torch on every step; the contract's rounding instead: "
                  "%zu of %zu final elements differ, worst %.0f ulp (theta), %.0f ulp (sum)\n",
                  row->name, differ, total, worst_theta, worst_s);
}
