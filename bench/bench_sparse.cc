// libadagrad — the table steps in the one engine: sparse and row-wise steps
// on an embedding table (by default larger than most last-level caches).
// SPDX-License-Identifier: MIT
//
// One step = `batch` indices into a table of `rows` x dim floats (one table
// of rows x max(dims) floats and its accumulators, allocated once and
// viewed as rows x dim for every dim). Indices are uniform or Zipf(1.05)
// (hot ranks scattered over the table by a multiplicative hash), 16 lists
// of `batch` indices used in turn so that a step does not find the previous
// one's rows in cache. Names (<dist>: uniform | zipf):
//   sparse/<row>/<exact|fast>/<dist>/<dim>/<batch>   adagrad_sparse_step_with
//   rowwise/<row>/<dist>/<dim>/<batch>               the same, ADAGRAD_ROWWISE
//   sparse_roofline/<row>/<dist>/<dim>/<batch>       the same rows, order and
//       prefetch with no math: the row's traffic kernel (mask 0) per index
//   rowwise_roofline/<row>/<dist>/<dim>/<batch>      row-wise's traffic, same
//       prefetch, no math: the row's traffic kernel on the table and gradient
//       rows (its second operand a row that stays in L1), and the accumulator
//   sparse_naive/<dist>/<dim>/<batch>, rowwise_naive/...   a plain C loop,
//       tests/contract.h's reference per element, no prefetch, no SIMD
// Counters: bench_adagrad.cc (items = indices, bytes 20·dim + 8 and
// 12·dim + 16 per index).

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "bench.h"

namespace {

using bench::Buf;

constexpr size_t kLists = 16;

struct Table {
    size_t rows = 0, max_dim = 0, max_batch = 0;
    Buf<float> table, sum, row_sum, grads;
};
Table g_table;

void make_table()
{
    Table &t = g_table;
    if (t.table)
        return;
    const size_t cells = t.rows * t.max_dim, period = 4096 * 16;
    t.table = bench::alloc<float>(cells);
    t.sum = bench::alloc<float>(cells);
    t.row_sum = bench::alloc<float>(t.rows);
    t.grads = bench::alloc<float>(t.max_batch * t.max_dim);
    bench::Rng rng{0x5DEECE66DULL};
    for (size_t i = 0; i < std::min(period, cells); i++) {
        t.table[i] = (float)(2.0 * rng.uniform() - 1.0);
        t.sum[i] = (float)(0.01 + rng.uniform());
    }
    for (size_t at = period; at < cells; at += period) { // repeat the pattern: cheap for a GiB
        std::memcpy(&t.table[at], &t.table[0], std::min(period, cells - at) * sizeof(float));
        std::memcpy(&t.sum[at], &t.sum[0], std::min(period, cells - at) * sizeof(float));
    }
    for (size_t r = 0; r < t.rows; r++)
        t.row_sum[r] = t.sum[r % std::min(period, cells)];
    for (size_t i = 0; i < t.max_batch * t.max_dim; i++) {
        const double mag = std::exp2(-12.0 * rng.uniform());
        t.grads[i] = (float)((rng.next() & 1) ? mag : -mag);
    }
}

// kLists lists of `batch` indices over the table's rows, uniform or Zipf.
const int64_t *indices_for(bool zipf, size_t batch)
{
    static std::map<std::pair<bool, size_t>, Buf<int64_t>> all;
    Buf<int64_t> &idx = all[{zipf, batch}];
    if (idx)
        return idx.get();
    const size_t rows = g_table.rows;
    idx = bench::alloc<int64_t>(kLists * batch);
    bench::Rng rng{rows * 31 + batch + (zipf ? 1000 : 0)};
    std::vector<double> cdf;
    if (zipf) {
        cdf.resize(rows);
        double acc = 0.0;
        for (size_t r = 0; r < rows; r++)
            cdf[r] = acc += std::pow((double)(r + 1), -1.05);
        for (double &x : cdf)
            x /= acc;
    }
    for (size_t i = 0; i < kLists * batch; i++) {
        size_t r;
        if (zipf) {
            r = std::min((size_t)(std::lower_bound(cdf.begin(), cdf.end(), rng.uniform()) - cdf.begin()), rows - 1);
            r = (size_t)((uint64_t)r * 2654435761u % rows); // a prime: a bijection unless it divides rows
        } else {
            r = (size_t)(rng.uniform() * (double)rows);
        }
        idx[i] = (int64_t)r;
    }
    return idx.get();
}

// As src/sparse.c: the rows `dist` indices ahead, one prefetch for writing
// per cache line; its automatic distance.
inline void prefetch_range(const void *p, size_t bytes)
{
    const uintptr_t first = (uintptr_t)p & ~(uintptr_t)63, last = (uintptr_t)p + bytes - 1;
    for (uintptr_t a = first; a <= last; a += 64)
        __builtin_prefetch((const void *)a, 1, 3);
}
size_t prefetch_distance(size_t dim)
{
    const size_t dist = adagrad_set_prefetch_distance(ADAGRAD_PREFETCH_AUTO);
    adagrad_set_prefetch_distance(dist);
    return dist != ADAGRAD_PREFETCH_AUTO ? dist : dim >= 512 ? 1 : dim <= 16 ? 32 : 512 / dim;
}

volatile uint32_t g_mask = 0; // read once per benchmark: the xor cannot be elided

enum Kind { kSparse, kRowwise, kSparseRoofline, kRowwiseRoofline, kSparseNaive, kRowwiseNaive };

void bench_table(benchmark::State &state, Kind kind, const adagrad_kernels *k, unsigned flags, bool zipf,
                 size_t dim, size_t batch)
{
    make_table();
    Table &t = g_table;
    const int64_t *lists = indices_for(zipf, batch);
    const bool rowwise = kind == kRowwise || kind == kRowwiseRoofline || kind == kRowwiseNaive;
    const adagrad_options opt = {BENCH_LR, BENCH_EPS, 0.0f, flags | (rowwise ? ADAGRAD_ROWWISE : 0u), 0, 0};
    float *table = t.table.get(), *sum = t.sum.get(), *row_sum = t.row_sum.get();
    const float *grads = t.grads.get();
    const size_t dist = prefetch_distance(dim);
    const uint32_t mask = g_mask;
    Buf<float> scratch_row = bench::alloc<float>(dim);
    std::memset(scratch_row.get(), 0, dim * sizeof(float));
    float *scratch = scratch_row.get();
    size_t list = 0;
    for (auto _ : state) {
        const int64_t *idx = lists + list * batch;
        if (kind == kSparse || kind == kRowwise) {
            adagrad_sparse s = {};
            s.table = table;
            s.sum = rowwise ? row_sum : sum;
            s.rows = t.rows;
            s.dim = dim;
            s.indices = idx;
            s.n_indices = batch;
            s.grads = grads;
            const int status = adagrad_sparse_step_with(k, &s, &opt);
            if (status != ADAGRAD_OK) {
                state.SkipWithError(adagrad_strerror(status));
                break;
            }
        } else if (kind == kSparseNaive) {
            bench_loop_sparse(table, sum, dim, idx, grads, batch);
        } else if (kind == kRowwiseNaive) {
            bench_loop_rowwise(table, row_sum, dim, idx, grads, batch);
        } else {
            for (size_t i = 0; i < batch; i++) {
                if (dist != 0 && dist < batch - i) {
                    const size_t r = (size_t)idx[i + dist];
                    prefetch_range(table + r * dim, dim * sizeof(float));
                    prefetch_range(rowwise ? row_sum + r : sum + r * dim, (rowwise ? 1 : dim) * sizeof(float));
                }
                const size_t r = (size_t)idx[i];
                if (kind == kSparseRoofline) {
                    k->traffic(table + r * dim, sum + r * dim, grads + i * dim, dim, 0u);
                    continue;
                }
                // The table row and the gradient row through the row's traffic
                // kernel (its accumulator operand: one row that stays in L1),
                // then the row's accumulator float.
                k->traffic(table + r * dim, scratch, grads + i * dim, dim, 0u);
                uint32_t s;
                std::memcpy(&s, &row_sum[r], 4);
                s ^= mask;
                std::memcpy(&row_sum[r], &s, 4);
            }
        }
        list = (list + 1) % kLists;
        benchmark::ClobberMemory();
    }
    bench::set_rates(state, (double)batch, rowwise ? 12.0 * (double)dim + 16.0 : 20.0 * (double)dim + 8.0);
}

} // namespace

void bench::register_sparse(const std::vector<const adagrad_kernels *> &rows, const std::vector<size_t> &dims,
                            const std::vector<size_t> &batches, size_t table_rows)
{
    g_table.rows = table_rows;
    g_table.max_dim = *std::max_element(dims.begin(), dims.end());
    g_table.max_batch = *std::max_element(batches.begin(), batches.end());
    auto add = [](const std::string &name, Kind kind, const adagrad_kernels *k, unsigned flags, bool zipf,
                  size_t dim, size_t batch) {
        bench::with_stats(benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State &s) {
            bench_table(s, kind, k, flags, zipf, dim, batch);
        }));
    };
    for (size_t dim : dims)
        for (bool zipf : {false, true})
            for (size_t batch : batches) {
                const std::string tail =
                    std::string(zipf ? "/zipf/" : "/uniform/") + std::to_string(dim) + "/" + std::to_string(batch);
                for (const adagrad_kernels *k : rows) {
                    const std::string row = k->name;
                    add("sparse/" + row + "/exact" + tail, kSparse, k, 0u, zipf, dim, batch);
                    add("sparse/" + row + "/fast" + tail, kSparse, k, ADAGRAD_FAST, zipf, dim, batch);
                    add("rowwise/" + row + tail, kRowwise, k, 0u, zipf, dim, batch);
                    add("sparse_roofline/" + row + tail, kSparseRoofline, k, 0u, zipf, dim, batch);
                    add("rowwise_roofline/" + row + tail, kRowwiseRoofline, k, 0u, zipf, dim, batch);
                }
                add("sparse_naive" + tail, kSparseNaive, nullptr, 0u, zipf, dim, batch);
                add("rowwise_naive" + tail, kRowwiseNaive, nullptr, 0u, zipf, dim, batch);
            }
}
