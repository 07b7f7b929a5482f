// libadagrad — what the two files of the Google Benchmark harness share.
// SPDX-License-Identifier: MIT
//
//   bench_adagrad.cc   main: the flags, the machine context, the dense steps,
//                      their roofline and the multi-threaded step
//   bench_sparse.cc    the sparse and row-wise table steps
//   bench_contract.c   what tests/contract.h answers (C): the worst ulp
//                      against the double oracle, the plain loops
#ifndef ADAGRAD_BENCH_H
#define ADAGRAD_BENCH_H

#include <stddef.h>
#include <stdint.h>

// src/kernels.h declares its kernel pointer types with C99 `restrict`,
// which C++ spells `__restrict` (GCC, Clang).
#ifdef __cplusplus
#define restrict __restrict
#endif
#include "dispatch.h"
#include "sparse.h"
#ifdef __cplusplus
#undef restrict
#endif

// The hyper-parameters of every timed step: the default variant (no
// weight decay, ε outside the root, minimising), with a tiny η so that
// steps on the same buffers, as many as a run makes, stay finite and normal.
#define BENCH_LR 1e-3f
#define BENCH_EPS 1e-10f

#ifdef __cplusplus
extern "C" {
#endif

// The worst θ error, in ulp of max(|θ_old|, |Δ|), of one step of row k with
// flags (0 or ADAGRAD_FAST) from param0/sum0/grad (n elements) against the
// formula in double rounded once (tests/contract.h: the suite's metric).
// scratch_p and scratch_s hold n floats each.
double bench_worst_ulp(const adagrad_kernels *k, unsigned flags, const float *param0, const float *sum0,
                       const float *grad, size_t n, float *scratch_p, float *scratch_s);

// What a trainer writes without the library: tests/contract.h's reference
// element over each named row in list order (row-wise: its canonical
// order), no prefetch, no SIMD kernel; EXACT with BENCH_LR and BENCH_EPS.
void bench_loop_sparse(float *table, float *sum, size_t dim, const int64_t *idx, const float *grads, size_t batch);
void bench_loop_rowwise(float *table, float *row_sum, size_t dim, const int64_t *idx, const float *grads,
                        size_t batch);

#ifdef __cplusplus
}

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

namespace bench {

// 64-byte aligned buffers (a cache line, a whole AVX-512 vector), so no row
// pays for split loads that another avoids.
struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
};
template <class T> using Buf = std::unique_ptr<T[], FreeDeleter>;

template <class T> Buf<T> alloc(size_t n)
{
    const size_t bytes = ((n * sizeof(T) + 63) / 64) * 64;
    void *p = std::aligned_alloc(64, bytes ? bytes : 64);
    if (!p) {
        std::fprintf(stderr, "bench_adagrad: out of memory (%zu bytes)\n", bytes);
        std::exit(1);
    }
    return Buf<T>(static_cast<T *>(p));
}

// xorshift64*: fast, reproducible, good enough for benchmark inputs.
struct Rng {
    uint64_t state;
    uint64_t next()
    {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 0x2545F4914F6CDD1DULL;
    }
    double uniform() { return (double)(next() >> 11) * 0x1p-53; } // [0, 1)
};

// items_per_second and bytes_per_second in powers of 1000 (Google
// Benchmark's SetBytesProcessed counts in 1024s), per second of the
// benchmark's clock: CPU time, or wall time with UseRealTime.
inline void set_rates(benchmark::State &state, double items_per_iter, double bytes_per_item)
{
    using benchmark::Counter;
    state.counters["items_per_second"] = Counter(items_per_iter, Counter::kIsIterationInvariantRate);
    state.counters["bytes_per_second"] =
        Counter(items_per_iter * bytes_per_item, Counter::kIsIterationInvariantRate, Counter::kIs1000);
}

// Median, min and max over the repetitions, next to the mean, stddev and
// cv Google Benchmark computes anyway: the report's figure and spread.
inline benchmark::internal::Benchmark *with_stats(benchmark::internal::Benchmark *b)
{
    b->ComputeStatistics("min", [](const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); });
    b->ComputeStatistics("max", [](const std::vector<double> &v) { return *std::max_element(v.begin(), v.end()); });
    return b;
}

std::vector<size_t> parse_list(const char *flag, const char *list); // decimal or 2^k; exits 2 when malformed
void register_sparse(const std::vector<const adagrad_kernels *> &rows, const std::vector<size_t> &dims,
                     const std::vector<size_t> &batches, size_t table_rows);

} // namespace bench
#endif // __cplusplus

#endif // ADAGRAD_BENCH_H
