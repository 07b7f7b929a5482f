/* libadagrad — example: logistic regression on sparse features whose
 * frequencies follow a Zipf law, trained with AdaGrad (the sparse kernel)
 * and with plain SGD, each at its best learning rate on a held-out set.
 * SPDX-License-Identifier: MIT
 *
 * Each example has K active binary features out of F, drawn Zipf(1.1): a
 * few features occur in most examples, most occur a handful of times. The
 * label is Bernoulli(sigmoid(Σ w*_f)) for hidden weights w*. A model is one
 * weight per feature: an F × 1 embedding table. Each minibatch's gradient
 * names the active features of its examples, duplicates included, so the
 * AdaGrad step is adagrad_sparse_step_ws_i32 with ADAGRAD_SUM_DUPLICATES
 * (the minibatch gradient is the sum over occurrences) and a workspace.
 * SGD takes the same gradients (a scatter-add of −lr·g).
 *
 * What it shows: one SGD learning rate must be small enough for the
 * features in every minibatch, so the rare ones barely move; AdaGrad's
 * per-feature step size lets the rare ones learn. Printed: the held-out
 * log loss of both, and the mean |w − w*| over frequent and rare features.
 * Deterministic (its own PRNG); exits 1 unless AdaGrad beats SGD on the
 * held-out loss and on the rare features, so meson runs it as a test.
 */
#include <adagrad.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F = 1 << 14, K = 8, N_TRAIN = 40000, N_TEST = 10000, BATCH = 64, EPOCHS = 3 };

static uint64_t rng_state = 0x5eed5eed5eedULL;
static uint64_t next_u64(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
static double unit(void) { return (double)(next_u64() >> 11) * 0x1p-53; }

static double cdf[F];
static int32_t feat[N_TRAIN + N_TEST][K];
static float label[N_TRAIN + N_TEST];
static float w_true[F];
static unsigned count[F]; /* occurrences in the training set */

static int32_t zipf_feature(void)
{
    const double u = unit();
    size_t lo = 0, hi = F - 1;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int32_t)((lo * 0x9e3779b1u) & (F - 1)); /* scatter ranks over ids */
}

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

static double logit(const float *w, const int32_t *x)
{
    double z = 0.0;
    for (int k = 0; k < K; k++)
        z += w[x[k]];
    return z;
}

static double log_loss(const float *w, size_t from, size_t to)
{
    double l = 0.0;
    for (size_t i = from; i < to; i++) {
        const double p = sigmoid(logit(w, feat[i]));
        l -= label[i] ? log(p + 1e-12) : log(1.0 - p + 1e-12);
    }
    return l / (double)(to - from);
}

/* Train from zero; adagrad selects the method. Returns the held-out loss. */
static double train(float *w, int adagrad, float lr)
{
    static float sum[F];
    static int32_t idx[BATCH * K];
    static float grads[BATCH * K];
    /* the radix sort's positions and counts: adagrad_sparse_workspace_bytes */
    static unsigned char ws[(2 * BATCH * K + 256) * sizeof(size_t) + 64];
    memset(w, 0, F * sizeof(float));
    for (int f = 0; f < F; f++)
        sum[f] = 0.0f;
    const adagrad_options opt = {.lr = lr, .eps = 1e-10f, .flags = ADAGRAD_SUM_DUPLICATES};
    if (adagrad_sparse_workspace_bytes(BATCH * K, 1) > sizeof ws)
        abort();
    for (int e = 0; e < EPOCHS; e++) {
        for (size_t b = 0; b + BATCH <= N_TRAIN; b += BATCH) {
            size_t n = 0;
            for (size_t i = b; i < b + BATCH; i++) {
                const float g = (float)((sigmoid(logit(w, feat[i])) - label[i]) / BATCH); /* ∂loss/∂z */
                for (int k = 0; k < K; k++, n++) {
                    idx[n] = feat[i][k];
                    grads[n] = g;
                }
            }
            if (adagrad) {
                const int st = adagrad_sparse_step_ws_i32(w, sum, F, 1, idx, grads, n, &opt, ws, sizeof ws);
                if (st != ADAGRAD_OK) {
                    fprintf(stderr, "adagrad_sparse_step_ws_i32: %s\n", adagrad_strerror(st));
                    exit(2);
                }
            } else {
                for (size_t k = 0; k < n; k++)
                    w[idx[k]] -= lr * grads[k];
            }
        }
    }
    return log_loss(w, N_TRAIN, N_TRAIN + N_TEST);
}

/* Mean |w − w*| over features seen in training between lo and hi times. */
static double weight_error(const float *w, unsigned lo, unsigned hi, int *nf)
{
    double e = 0.0;
    *nf = 0;
    for (int f = 0; f < F; f++)
        if (count[f] >= lo && count[f] <= hi) {
            e += fabs((double)w[f] - (double)w_true[f]);
            ++*nf;
        }
    return *nf ? e / *nf : 0.0;
}

int main(void)
{
    double acc = 0.0;
    for (int r = 0; r < F; r++) {
        acc += pow(r + 1.0, -1.1);
        cdf[r] = acc;
    }
    for (int r = 0; r < F; r++)
        cdf[r] /= acc;
    for (int f = 0; f < F; f++)
        w_true[f] = (float)(3.0 * unit() - 1.5);
    for (size_t i = 0; i < N_TRAIN + N_TEST; i++) {
        for (int k = 0; k < K; k++) {
            feat[i][k] = zipf_feature();
            if (i < N_TRAIN)
                count[feat[i][k]]++;
        }
        label[i] = unit() < sigmoid(logit(w_true, feat[i])) ? 1.0f : 0.0f;
    }

    static const float grid[] = {0.01f, 0.03f, 0.1f, 0.3f, 1.0f, 3.0f, 10.0f, 30.0f};
    static float w[F], best_w[2][F];
    double best[2] = {INFINITY, INFINITY};
    float best_lr[2] = {0, 0};
    for (int m = 0; m < 2; m++)
        for (size_t g = 0; g < sizeof grid / sizeof grid[0]; g++) {
            const double l = train(w, m, grid[g]);
            if (l < best[m]) {
                best[m] = l;
                best_lr[m] = grid[g];
                memcpy(best_w[m], w, sizeof w);
            }
        }

    int seen = 0;
    for (int f = 0; f < F; f++)
        seen += count[f] > 0;
    printf("logistic regression, %d features (Zipf 1.1, %d seen in training), %d active per example,\n"
           "%d training / %d held-out examples, minibatch %d, %d epochs; learning rate picked from\n"
           "{0.01 ... 30} by held-out log loss. Implementation: %s\n\n",
           F, seen, K, N_TRAIN, N_TEST, BATCH, EPOCHS, adagrad_isa_name(adagrad_active_isa()));
    int n_freq, n_rare, n_mid;
    printf("              best lr   held-out log loss   mean |w - w*|: frequent (>= 1000)  middle (51-999)  rare (5-50)\n");
    double rare[2];
    for (int m = 0; m < 2; m++) {
        const double ef = weight_error(best_w[m], 1000, UINT32_MAX, &n_freq);
        const double em = weight_error(best_w[m], 51, 999, &n_mid);
        rare[m] = weight_error(best_w[m], 5, 50, &n_rare);
        printf("%-12s  %7g   %17.4f   %32.3f  %15.3f  %11.3f\n", m ? "AdaGrad" : "SGD", (double)best_lr[m], best[m],
               ef, em, rare[m]);
    }
    printf("(features per group: frequent %d, middle %d, rare %d)\n", n_freq, n_mid, n_rare);
    printf("Bayes (true weights) held-out log loss: %.4f\n", log_loss(w_true, N_TRAIN, N_TRAIN + N_TEST));
    return (best[1] < best[0] && rare[1] < rare[0]) ? 0 : 1;
}
