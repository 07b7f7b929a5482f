// libadagrad — Google Benchmark harness for the sparse and row-wise steps
// (embedding tables larger than the last-level cache).
// SPDX-License-Identifier: MIT
//
// One benchmark = one step over `batch` indices into a table of `rows` ×
// `dim` floats (2^20 rows up to dim 128, 2^27/dim rows above: every table
// and accumulator is ≥ 64 MiB, past any LLC). Indices are uniform or Zipf
// (s = 1.05; hot rows scattered over the table by a multiplicative hash),
// 16 different batches used in turn so one iteration does not find the
// previous one's rows in cache. Names:
//     sparse/<isa>/<exact|fast>/<uniform|zipf>/<dim>/<batch>
//     rowwise/<isa>/<uniform|zipf>/<dim>/<batch>
//     sparse_roofline/<isa>/<uniform|zipf>/<dim>/<batch>   the same table,
//         access pattern and prefetch with no math: the row's traffic kernel
//         (mask 0) per index
//     sparse_naive/<uniform|zipf>/<dim>/<batch>   a straightforward scalar
//         loop (the contract per element, no prefetch, no SIMD kernel)
// Counters: items_per_second = rows (indices) per second; bytes_per_second
// at 20·dim + 8 bytes per index for sparse (read θ, s, g; write θ, s; the
// index), 12·dim + 16 for row-wise. Rates per CPU time.
// Extra flags: --dims=16,64,... --batches=4096,... --isa=all|best
//              (all: every row this CPU runs, adagrad_row's test-only ones
//              included; best: the one dispatch picked)
//              --prefetch=auto|N (rows ahead; default the library's, auto)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#define restrict __restrict
#include "dispatch.h"
#include "sparse.h"
#undef restrict

namespace {

constexpr size_t kBatches = 16; // distinct index lists, used in turn

struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
};
template <class T> using Buf = std::unique_ptr<T[], FreeDeleter>;

template <class T> Buf<T> alloc(size_t n)
{
    const size_t bytes = ((n * sizeof(T) + 63) / 64) * 64;
    void *p = std::aligned_alloc(64, bytes ? bytes : 64);
    if (!p) {
        std::fprintf(stderr, "bench_sparse: out of memory (%zu bytes)\n", bytes);
        std::exit(1);
    }
    return Buf<T>(static_cast<T *>(p));
}

struct Rng {
    uint64_t state;
    uint64_t next()
    {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 0x2545F4914F6CDD1DULL;
    }
    double uniform() { return (double)(next() >> 11) * 0x1p-53; }
};

size_t rows_for(size_t dim) { return dim <= 128 ? size_t(1) << 20 : (size_t(1) << 27) / dim; }

// The table, its accumulators (both layouts) and gradient rows for one dim.
struct Table {
    size_t rows = 0, dim = 0, max_batch = 0;
    Buf<float> table, sum, row_sum, grads;
};

// One table for every benchmark: the roofline runs on it too, with mask 0
// (every bit kept), so it sees the same pages as the steps.
Table &table_for(size_t dim, size_t max_batch)
{
    static Table t;
    if (t.dim != dim || t.max_batch < max_batch) {
        t = Table();
        t.rows = rows_for(dim);
        t.dim = dim;
        t.max_batch = max_batch;
        t.table = alloc<float>(t.rows * dim);
        t.sum = alloc<float>(t.rows * dim);
        t.row_sum = alloc<float>(t.rows);
        t.grads = alloc<float>(max_batch * dim);
        Rng rng{dim * 0x9E3779B97F4A7C15ULL + 7};
        for (size_t i = 0; i < t.rows * dim; i++) {
            t.table[i] = (float)(2.0 * rng.uniform() - 1.0);
            t.sum[i] = (float)(0.01 + rng.uniform());
        }
        for (size_t r = 0; r < t.rows; r++)
            t.row_sum[r] = (float)(0.01 + rng.uniform());
        for (size_t i = 0; i < max_batch * dim; i++) {
            const double mag = std::exp2(-12.0 * rng.uniform());
            t.grads[i] = (float)((rng.next() & 1) ? mag : -mag);
        }
    }
    return t;
}

// kBatches lists of `batch` indices over `rows`, uniform or Zipf(1.05).
struct Indices {
    size_t rows = 0, batch = 0;
    bool zipf = false;
    Buf<int64_t> idx;
};

Indices &indices_for(size_t rows, size_t batch, bool zipf)
{
    static Indices cache[2];
    Indices &c = cache[zipf];
    if (c.rows != rows || c.batch != batch) {
        c.rows = rows;
        c.batch = batch;
        c.zipf = zipf;
        c.idx = alloc<int64_t>(kBatches * batch);
        Rng rng{rows * 31 + batch + (zipf ? 1000 : 0)};
        std::vector<double> cdf;
        if (zipf) {
            cdf.resize(rows);
            double acc = 0.0;
            for (size_t r = 0; r < rows; r++) {
                acc += std::pow((double)(r + 1), -1.05);
                cdf[r] = acc;
            }
            for (double &x : cdf)
                x /= acc;
        }
        for (size_t i = 0; i < kBatches * batch; i++) {
            size_t r;
            if (zipf) {
                r = (size_t)(std::lower_bound(cdf.begin(), cdf.end(), rng.uniform()) - cdf.begin());
                r = std::min(r, rows - 1);
                // scatter the hot ranks over the table (rows is a power of two:
                // an odd multiplier is a bijection)
                r = (r * 0x9E3779B1u) & (rows - 1);
            } else {
                r = (size_t)(rng.uniform() * (double)rows);
            }
            c.idx[i] = (int64_t)r;
        }
    }
    return c;
}

void counters(benchmark::State &state, size_t batch, double bytes_per_index)
{
    const double n = (double)state.iterations() * (double)batch;
    state.SetItemsProcessed((int64_t)n);
    state.SetBytesProcessed((int64_t)(n * bytes_per_index));
}

const adagrad_options kExact = {0.01f, 1e-10f, 0.0f, 0u, 0, 0};
const adagrad_options kFast = {0.01f, 1e-10f, 0.0f, ADAGRAD_FAST, 0, 0};

void bench_sparse(benchmark::State &state, const adagrad_kernels *k, bool rowwise, adagrad_options opt, size_t dim,
                  bool zipf, size_t batch)
{
    Table &t = table_for(dim, batch);
    Indices &ix = indices_for(t.rows, batch, zipf);
    size_t b = 0;
    for (auto _ : state) {
        const int st = adagrad_sparse_with(k, rowwise, t.table.get(), rowwise ? t.row_sum.get() : t.sum.get(), t.rows,
                                           dim, ix.idx.get() + b * batch, false, t.grads.get(), batch, &opt, nullptr, 0);
        if (st != ADAGRAD_OK) {
            state.SkipWithError(adagrad_strerror(st));
            break;
        }
        b = (b + 1) % kBatches;
        benchmark::ClobberMemory();
    }
    counters(state, batch, rowwise ? 12.0 * (double)dim + 16.0 : 20.0 * (double)dim + 8.0);
}

// The roofline: the sparse step's access pattern (same table, same rows,
// same order, same prefetch) with the row's traffic kernel (loads, xor with
// mask 0, stores) per index instead of the math.
void bench_roofline(benchmark::State &state, const adagrad_kernels *k, size_t dim, bool zipf, size_t batch,
                    size_t dist)
{
    Table &t = table_for(dim, batch);
    Indices &ix = indices_for(t.rows, batch, zipf);
    size_t b = 0;
    if (dist == ADAGRAD_PREFETCH_AUTO) /* the library's rule (src/sparse.c) */
        dist = dim >= 512 ? 1 : dim <= 16 ? 32 : 512 / dim;
    float *table = t.table.get(), *sum = t.sum.get();
    for (auto _ : state) {
        const int64_t *idx = ix.idx.get() + b * batch;
        for (size_t i = 0; i < batch; i++) {
            if (dist != 0 && i + dist < batch) {
                const size_t r = (size_t)idx[i + dist];
                for (size_t o = 0; o < dim; o += 16) {
                    __builtin_prefetch(table + r * dim + o, 1, 3);
                    __builtin_prefetch(sum + r * dim + o, 1, 3);
                }
            }
            const size_t r = (size_t)idx[i];
            k->traffic(table + r * dim, sum + r * dim, t.grads.get() + i * dim, dim, 0u);
        }
        b = (b + 1) % kBatches;
        benchmark::ClobberMemory();
    }
    counters(state, batch, 20.0 * (double)dim + 8.0);
}

// A straightforward scalar loop: what a trainer writes without this library.
void bench_naive(benchmark::State &state, size_t dim, bool zipf, size_t batch)
{
    Table &t = table_for(dim, batch);
    Indices &ix = indices_for(t.rows, batch, zipf);
    const float lr = 0.01f, eps = 1e-10f;
    size_t b = 0;
    for (auto _ : state) {
        const int64_t *idx = ix.idx.get() + b * batch;
        for (size_t i = 0; i < batch; i++) {
            float *p = t.table.get() + (size_t)idx[i] * dim, *s = t.sum.get() + (size_t)idx[i] * dim;
            const float *g = t.grads.get() + i * dim;
            for (size_t j = 0; j < dim; j++) {
                s[j] = std::fma(g[j], g[j], s[j]);
                p[j] = p[j] + (-lr * g[j]) / (std::sqrt(s[j]) + eps);
            }
        }
        b = (b + 1) % kBatches;
        benchmark::ClobberMemory();
    }
    counters(state, batch, 20.0 * (double)dim + 8.0);
}

std::vector<size_t> parse_list(const char *what, const char *list)
{
    std::vector<size_t> v;
    const char *p = list;
    while (*p) {
        char *end = nullptr;
        const unsigned long long x = std::strtoull(p, &end, 10);
        if (end == p || x == 0 || (*end != ',' && *end != '\0')) {
            std::fprintf(stderr, "bench_sparse: bad %s list '%s'\n", what, list);
            std::exit(2);
        }
        v.push_back((size_t)x);
        p = *end ? end + 1 : end;
    }
    return v;
}

} // namespace

int main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    std::vector<size_t> dims = {16, 32, 64, 128, 256, 512};
    std::vector<size_t> batches = {4096, 65536};
    bool all_isas = false;
    for (int i = 1; i < argc; i++) {
        if (std::strncmp(argv[i], "--dims=", 7) == 0) {
            dims = parse_list("--dims", argv[i] + 7);
        } else if (std::strncmp(argv[i], "--batches=", 10) == 0) {
            batches = parse_list("--batches", argv[i] + 10);
        } else if (std::strcmp(argv[i], "--isa=all") == 0) {
            all_isas = true;
        } else if (std::strcmp(argv[i], "--isa=best") == 0) {
            all_isas = false;
        } else if (std::strcmp(argv[i], "--prefetch=auto") == 0) {
            adagrad_set_prefetch_distance(ADAGRAD_PREFETCH_AUTO);
        } else if (std::strncmp(argv[i], "--prefetch=", 11) == 0) {
            adagrad_set_prefetch_distance((size_t)std::strtoull(argv[i] + 11, nullptr, 10));
        } else {
            std::fprintf(stderr, "bench_sparse: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    const size_t dist = adagrad_set_prefetch_distance(ADAGRAD_PREFETCH_AUTO);
    adagrad_set_prefetch_distance(dist);
    if (dist == ADAGRAD_PREFETCH_AUTO)
        std::fprintf(stderr, "bench_sparse: prefetch distance auto (clamp(512 / dim, 1, 32) rows)\n");
    else
        std::fprintf(stderr, "bench_sparse: prefetch distance %zu rows\n", dist);

    std::vector<const adagrad_kernels *> rows;
    for (size_t i = 0; i < adagrad_row_count(); i++) {
        const adagrad_kernels *k = adagrad_row(i);
        const char *why_not;
        if (!(all_isas || k == adagrad_active_kernels()))
            continue;
        if (adagrad_row_runnable(k, &why_not))
            rows.push_back(k);
        else
            std::fprintf(stderr, "bench_sparse: skipping %s: %s\n", k->name, why_not);
    }

    for (size_t dim : dims)
        for (int z = 0; z < 2; z++)
            for (size_t batch : batches) {
                const char *dn = z ? "zipf" : "uniform";
                const std::string tail = std::string("/") + dn + "/" + std::to_string(dim) + "/" + std::to_string(batch);
                const bool zipf = z != 0;
                for (const adagrad_kernels *k : rows) {
                    benchmark::RegisterBenchmark(("sparse/" + std::string(k->name) + "/exact" + tail).c_str(),
                                                 [=](benchmark::State &s) { bench_sparse(s, k, false, kExact, dim, zipf, batch); });
                    benchmark::RegisterBenchmark(("sparse/" + std::string(k->name) + "/fast" + tail).c_str(),
                                                 [=](benchmark::State &s) { bench_sparse(s, k, false, kFast, dim, zipf, batch); });
                    benchmark::RegisterBenchmark(("rowwise/" + std::string(k->name) + tail).c_str(),
                                                 [=](benchmark::State &s) { bench_sparse(s, k, true, kExact, dim, zipf, batch); });
                    benchmark::RegisterBenchmark(("sparse_roofline/" + std::string(k->name) + tail).c_str(),
                                                 [=](benchmark::State &s) { bench_roofline(s, k, dim, zipf, batch, dist); });
                }
                benchmark::RegisterBenchmark(("sparse_naive" + tail).c_str(),
                                             [=](benchmark::State &s) { bench_naive(s, dim, zipf, batch); });
            }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
