// libadagrad — Google Benchmark harness: every row × EXACT/FAST × sizes,
// each next to that row's roofline loop.
// SPDX-License-Identifier: MIT
//
// Benchmarks are registered at run time by iterating the rows (adagrad_row:
// the kernel table, then the test-only rows such as NEON through SIMDe on
// x86), so a new row is benchmarked with no edit here. Names
// follow the project's one-string-per-ISA rule:
//     step_f32/<isa>/<exact|fast>/<n>     one adagrad_step_f32 call
//     roofline/<isa>/<n>                  the row's traffic kernel on the
//                                         steps' own buffers: the same memory
//                                         traffic, only an xor (mask 0)
// Counters: bytes_per_second at 20 bytes per element (read θ, s, g; write
// θ, s: 5 × 4 bytes) and items_per_second in elements.
//
// Rates are per CPU time (Google Benchmark's default), which unlike elapsed
// time stops while another process holds the core: on a shared machine
// that is what keeps the figures steady (adagrad-report does the same).
// Rows this CPU or OS cannot run are listed on stderr, with the reason, and
// skipped.
// Extra flag (after Google Benchmark's own): --sizes=4096,65536,...

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

// src/kernels.h declares its kernel pointer types with C99 `restrict`,
// which C++ spells `__restrict` (GCC, Clang).
#define restrict __restrict
#include "dispatch.h"
#undef restrict

namespace {

constexpr double kBytesPerElement = 20.0; // 3 reads + 2 writes of 4 bytes

// 64-byte aligned float buffers (one cache line; a full AVX-512 vector), so
// no row pays for split loads that another row avoids.
struct FreeDeleter {
    void operator()(float *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], FreeDeleter>;

Buffer make_buffer(size_t n)
{
    const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
    void *p = std::aligned_alloc(64, bytes ? bytes : 64);
    if (!p) {
        std::fprintf(stderr, "bench_adagrad: out of memory (%zu bytes)\n", bytes);
        std::exit(1);
    }
    return Buffer(static_cast<float *>(p));
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

// Realistic, long-lived inputs: θ ∈ [-1, 1]; s > 0, log-uniform in
// [1e-2, 1e2]; g with a random sign and log-uniform magnitude in [1e-4, 1].
// The buffers keep training for as many iterations as the benchmark runs,
// with the same g each time: s then grows by g² ≤ 1 per step (finite for
// any realistic run), and with a tiny η = 1e-3 each θ drifts by at most
// about Σ η·|g|/√(t·g²) ≈ 2η√t — about 6 after ten million steps. So
// nothing overflows, and no value turns into a NaN, an infinity or a
// denormal that would send FAST down its EXACT fallback.
struct Data {
    size_t n;
    Buffer param, sum, grad;
    explicit Data(size_t n_)
        : n(n_), param(make_buffer(n_)), sum(make_buffer(n_)), grad(make_buffer(n_)) {}
    void fill(uint64_t seed)
    {
        Rng rng{seed * 0x9E3779B97F4A7C15ULL + 1};
        const double log2_10 = 3.321928094887362;
        for (size_t i = 0; i < n; i++) {
            param[i] = (float)(2.0 * rng.uniform() - 1.0);
            sum[i] = (float)std::exp2(log2_10 * (4.0 * rng.uniform() - 2.0));
            const double mag = std::exp2(-4.0 * log2_10 * rng.uniform());
            grad[i] = (float)((rng.next() & 1) ? mag : -mag);
        }
    }
};

// Google Benchmark calls a benchmark function several times (to size the
// iteration count), and at 2^24 elements filling the inputs costs more than
// the measurement: the inputs of the current size are made once and shared
// by every row and mode (the step buffers simply keep training). The
// roofline runs on the same buffers with mask 0, which keeps every bit, so
// it streams through the very pages the steps do.
Data &inputs_for(size_t n)
{
    static std::unique_ptr<Data> cached;
    if (!cached || cached->n != n) {
        cached.reset(); // free the previous size first: 2^24 is 192 MiB
        cached.reset(new Data(n));
        cached->fill(n);
    }
    return *cached;
}

constexpr adagrad_options kExact = {1e-3f, 1e-10f, 0.0f, 0u, 0, 0};
constexpr adagrad_options kFast = {1e-3f, 1e-10f, 0.0f, ADAGRAD_FAST, 0, 0};

void set_counters(benchmark::State &state, size_t n)
{
    const double elems = (double)state.iterations() * (double)n;
    state.SetItemsProcessed((int64_t)elems);
    state.SetBytesProcessed((int64_t)(elems * kBytesPerElement));
}

void bench_step(benchmark::State &state, const adagrad_kernels *row, adagrad_options opt, size_t n)
{
    Data &d = inputs_for(n);
    for (auto _ : state) {
        const int status = adagrad_step_f32_with(row, d.param.get(), d.sum.get(), d.grad.get(), n, &opt);
        if (status != ADAGRAD_OK) {
            state.SkipWithError(adagrad_strerror(status));
            break;
        }
        benchmark::ClobberMemory();
    }
    set_counters(state, n);
}

void bench_roofline(benchmark::State &state, const adagrad_kernels *row, size_t n)
{
    Data &d = inputs_for(n);
    for (auto _ : state) {
        row->traffic(d.param.get(), d.sum.get(), d.grad.get(), n, 0u);
        benchmark::ClobberMemory();
    }
    set_counters(state, n);
}

// --sizes=a,b,c (decimal, or 2^k); exits with status 2 on a malformed list.
std::vector<size_t> parse_sizes(const char *list)
{
    std::vector<size_t> sizes;
    const char *p = list;
    while (*p) {
        char *end = nullptr;
        unsigned long long v;
        if (p[0] == '2' && p[1] == '^') {
            const unsigned long long k = std::strtoull(p + 2, &end, 10);
            v = (end != p + 2 && k < 40) ? 1ULL << k : 0;
        } else {
            v = std::strtoull(p, &end, 10);
        }
        if (end == p || v == 0 || (*end != ',' && *end != '\0')) {
            std::fprintf(stderr, "bench_adagrad: bad --sizes list '%s' (expected e.g. 4096,65536,2^20)\n", list);
            std::exit(2);
        }
        sizes.push_back((size_t)v);
        p = *end ? end + 1 : end;
    }
    if (sizes.empty()) {
        std::fprintf(stderr, "bench_adagrad: empty --sizes list\n");
        std::exit(2);
    }
    return sizes;
}

} // namespace

int main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);

    // L1, L2, L3 and DRAM on typical x86-64 and AArch64 cores.
    std::vector<size_t> sizes = {4096, 65536, size_t(1) << 20, size_t(1) << 24};
    for (int i = 1; i < argc; i++) {
        if (std::strncmp(argv[i], "--sizes=", 8) == 0) {
            sizes = parse_sizes(argv[i] + 8);
        } else {
            std::fprintf(stderr, "bench_adagrad: unknown argument '%s' (Google Benchmark flags, or --sizes=LIST)\n",
                         argv[i]);
            return 2;
        }
    }

    // Only rows this CPU and OS can run; the others are named, not silent.
    std::vector<const adagrad_kernels *> rows;
    for (size_t i = 0; i < adagrad_row_count(); i++) {
        const adagrad_kernels *row = adagrad_row(i);
        const char *why_not;
        if (adagrad_row_runnable(row, &why_not))
            rows.push_back(row);
        else
            std::fprintf(stderr, "bench_adagrad: skipping %s: %s\n", row->name, why_not);
    }

    // Size-major order: every row's EXACT, FAST and roofline at one size run
    // back to back, so they see the same machine state.
    for (size_t n : sizes) {
        for (const adagrad_kernels *row : rows) {
            const std::string suffix = "/" + std::to_string(n);
            const std::string base = std::string("step_f32/") + row->name;
            benchmark::RegisterBenchmark((base + "/exact" + suffix).c_str(),
                                         [row, n](benchmark::State &s) { bench_step(s, row, kExact, n); });
            benchmark::RegisterBenchmark((base + "/fast" + suffix).c_str(),
                                         [row, n](benchmark::State &s) { bench_step(s, row, kFast, n); });
            benchmark::RegisterBenchmark((std::string("roofline/") + row->name + suffix).c_str(),
                                         [row, n](benchmark::State &s) { bench_roofline(s, row, n); });
        }
    }

    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
