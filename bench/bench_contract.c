/* libadagrad — the harness's uses of tests/contract.h, the project's one
 * contract module (C: the suite, the fuzzers and the harness share it).
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "bench.h"
#include "contract.h"

/* A constant the loops below see, so their option tests fold away as in a
 * trainer's own loop. */
static const adagrad_options opt_exact = {.lr = BENCH_LR, .eps = BENCH_EPS};

double bench_worst_ulp(const adagrad_kernels *k, unsigned flags, const float *param0, const float *sum0,
                       const float *grad, size_t n, float *scratch_p, float *scratch_s)
{
    const adagrad_options opt = {.lr = BENCH_LR, .eps = BENCH_EPS, .flags = flags};
    memcpy(scratch_p, param0, n * sizeof(float));
    memcpy(scratch_s, sum0, n * sizeof(float));
    const adagrad_dense t = {.param = scratch_p, .sum = scratch_s, .grad = grad, .n = n};
    if (adagrad_step_with(k, &t, &opt) != ADAGRAD_OK)
        return INFINITY;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        /* The inputs keep every element in the oracle's domain. */
        const contract_oracle o = contract_oracle_step(&opt, param0[i], sum0[i], grad[i]);
        const double e = o.theta_domain ? contract_theta_error(scratch_p[i], &o, param0[i]) : 0.0;
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

void bench_loop_sparse(float *table, float *sum, size_t dim, const int64_t *idx, const float *grads, size_t batch)
{
    for (size_t k = 0; k < batch; k++)
        contract_ref_dense(&opt_exact, table + (size_t)idx[k] * dim, sum + (size_t)idx[k] * dim, grads + k * dim,
                           dim);
}

void bench_loop_rowwise(float *table, float *row_sum, size_t dim, const int64_t *idx, const float *grads,
                        size_t batch)
{
    for (size_t k = 0; k < batch; k++) {
        const size_t r = (size_t)idx[k];
        contract_ref_rowwise(&opt_exact, table + r * dim, row_sum + r, grads + k * dim, dim);
    }
}
