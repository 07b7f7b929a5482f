/* libadagrad — the README's usage example: minimise f(θ) = Σ (θ_i − i)² / 2.
 * SPDX-License-Identifier: MIT
 * Built (and run as a test) by meson, so the README's code cannot rot. */
#include <adagrad.h>
#include <stdio.h>

int main(void)
{
    enum { N = 8 };
    float param[N] = {0}, sum[N] = {0}, grad[N];
    adagrad_options opt = {.lr = 1.0f, .eps = 1e-10f}; /* weight_decay 0, flags 0: EXACT */
    adagrad_dense t = {.param = param, .sum = sum, .grad = grad, .n = N}; /* fp32: the zero types */

    for (int step = 1; step <= 500; step++) {
        for (int i = 0; i < N; i++)
            grad[i] = param[i] - (float)i; /* ∂f/∂θ_i */
        int status = adagrad_step(&t, &opt);
        if (status != ADAGRAD_OK) {
            fprintf(stderr, "adagrad_step: %s\n", adagrad_strerror(status));
            return 1;
        }
    }
    printf("implementation: %s\n", adagrad_isa_name(adagrad_active_isa()));
    for (int i = 0; i < N; i++)
        printf("theta[%d] = %.4f (target %d)\n", i, param[i], i);
    for (int i = 0; i < N; i++)
        if (param[i] < i - 0.01f || param[i] > i + 0.01f)
            return 1; /* not converged: the test fails */
    return 0;
}
