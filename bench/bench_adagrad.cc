// libadagrad — the one measurement engine (Google Benchmark): every kernel
// the report shows, and the data it reads (adagrad-report runs it).
// SPDX-License-Identifier: MIT
//
// Benchmarks are registered at run time by iterating the rows (adagrad_row:
// the kernel table, then the test-only rows such as NEON through SIMDe on
// x86), so a new row is benchmarked with no edit here; rows this CPU or OS
// cannot run are named on stderr with the reason and skipped. Names:
//   step_f32/<row>/<exact|fast>/<n>   one adagrad_step_with call on n elements
//   roofline/<row>/<n>                the row's traffic kernel on the steps'
//                                     own buffers with mask 0: the same loads
//                                     and stores (and prefetch), only an xor
//   step_mt/<row>/<exact|fast>/<n>/<t>  adagrad_step_mt(.., t) (the row is
//                                     dispatch's), timed by the wall clock
//   sparse/..., rowwise/..., sparse_roofline/..., rowwise_roofline/...,
//   sparse_naive/..., rowwise_naive/...   the table steps: bench_sparse.cc
// Counters, per second of the benchmark's clock and in powers of 1000:
//   items_per_second   elements (dense), indices = touched rows (tables)
//   bytes_per_second   the useful traffic, counted once for the project:
//                      dense 20 bytes per element (read θ, s, g; write θ, s);
//                      sparse 20·dim + 8 per index (table and accumulator
//                      rows read and written, gradient row read, the int64
//                      index); row-wise 12·dim + 16 per index (table row read
//                      and written, gradient row read, one accumulator float
//                      read and written, the index)
//   max_ulp            the worst θ error of one step from the initial inputs
//                      against the double oracle (tests/contract.h), over
//                      their first min(n, 2^20) elements (they repeat with
//                      that period)
//   identical, parts   step_mt: 1 when one multi-threaded step gives exactly
//                      the bits of one adagrad_step call (checked once per
//                      benchmark; 0 makes the program exit 1), the parts
//                      adagrad_step_mt splits n into
// Single-thread rates are per CPU time of the calling thread (Google
// Benchmark's default), which ignores the time another process holds the
// core on a shared machine; step_mt's are per wall time (UseRealTime), since
// the calling thread's CPU time misses the other threads' work.
// Context (JSON "context"): adagrad_version, adagrad_dispatch,
// adagrad_cpu_features, adagrad_rows, adagrad_rows_skipped,
// adagrad_max_threads, adagrad_omp_env, adagrad_sparse, adagrad_table_rows,
// adagrad_inputs, adagrad_build, cpu_model. The idle check (how many CPUs other processes kept busy during
// the run, from /proc/stat, less this process's own CPU time) is measured
// over the whole run, so it comes at the end: a last top-level JSON object
// "adagrad_run" {"others_busy_cpus", "wall_seconds", "num_cpus"}, and one
// line on stderr.
//
// Flags, after Google Benchmark's own (adagrad-report passes
// --benchmark_filter, _repetitions, _enable_random_interleaving, _min_time):
//   --sizes=LIST      dense sizes (decimal or 2^k; default: the largest power
//                     of two whose 12-byte-per-element working set fits each
//                     cache level, and one at least 4x the last level, at
//                     most 2^27 and within a quarter of the memory)
//   --mt-sizes=LIST   step_mt sizes (default: the sizes past 4x the last
//                     cache level, else the largest)
//   --threads=LIST    step_mt thread counts, or none (default 1, 2, 4, ... up
//                     to adagrad_max_threads(), and it)
//   --dims=, --batches=, --rows=, --prefetch=auto|N   the table steps
//   --list-rows       print every row (name, library|test-only, runnable or
//                     why not, dispatch) and exit
// Exit status: 0; 1 when a step fails or step_mt is not bitwise one call;
// 2 for a bad flag.

#include <cinttypes>
#include <cmath>
#include <cstring>
#include <ctime>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <unistd.h>

#include "bench.h"

namespace {

using bench::Buf;

#ifdef BENCH_SPARSE_ONLY
constexpr bool kSparseOnly = true; // bench_sparse: the table steps only
#else
constexpr bool kSparseOnly = false;
#endif
constexpr size_t kPattern = size_t(1) << 20; // the inputs' period, in elements
bool g_failed = false;

// The initial inputs, one period: θ ∈ [-1, 1]; s > 0, log-uniform in
// [1e-2, 1e2]; g with a random sign and log-uniform magnitude in [1e-4, 1].
// The buffers keep training as long as a run lasts, with the same g each
// time: s grows by g² ≤ 1 a step, and with η = 1e-3 each θ drifts by at
// most about 2η√t after t steps. Nothing overflows, and no value becomes a
// NaN, an infinity or a denormal that would send FAST down its EXACT path.
struct Pattern {
    Buf<float> param = bench::alloc<float>(kPattern), sum = bench::alloc<float>(kPattern),
               grad = bench::alloc<float>(kPattern);
    Pattern()
    {
        bench::Rng rng{0x9E3779B97F4A7C15ULL};
        const double log2_10 = 3.321928094887362;
        for (size_t i = 0; i < kPattern; i++) {
            param[i] = (float)(2.0 * rng.uniform() - 1.0);
            sum[i] = (float)std::exp2(log2_10 * (4.0 * rng.uniform() - 2.0));
            const double mag = std::exp2(-4.0 * log2_10 * rng.uniform());
            grad[i] = (float)((rng.next() & 1) ? mag : -mag);
        }
    }
};
const Pattern &pattern()
{
    static const Pattern p;
    return p;
}

void tile(float *dst, const float *src, size_t n)
{
    for (size_t at = 0; at < n; at += kPattern)
        std::memcpy(dst + at, src, std::min(kPattern, n - at) * sizeof(float));
}

// The buffers of one size, made at first use and kept: with random
// interleaving every size's benchmarks alternate. Every row and mode (and
// the roofline, mask 0: every bit kept) trains the same buffers, so they
// all stream through the same physical pages.
struct Data {
    size_t n;
    Buf<float> param, sum, grad, check_p, check_s; // check_*: step_mt's bit check, made at its first use
    explicit Data(size_t n_)
        : n(n_), param(bench::alloc<float>(n_)), sum(bench::alloc<float>(n_)), grad(bench::alloc<float>(n_))
    {
        tile(param.get(), pattern().param.get(), n);
        tile(sum.get(), pattern().sum.get(), n);
        tile(grad.get(), pattern().grad.get(), n);
    }
};
Data &data_for(size_t n)
{
    static std::map<size_t, std::unique_ptr<Data>> all;
    auto &d = all[n];
    if (!d)
        d.reset(new Data(n));
    return *d;
}

double worst_ulp(const adagrad_kernels *row, unsigned flags, size_t n)
{
    static std::map<std::tuple<const adagrad_kernels *, unsigned, size_t>, double> done;
    const auto key = std::make_tuple(row, flags, n);
    auto it = done.find(key);
    if (it != done.end())
        return it->second;
    const Pattern &p = pattern();
    const size_t m = std::min(n, kPattern);
    Buf<float> sp = bench::alloc<float>(m), ss = bench::alloc<float>(m);
    const double ulp = bench_worst_ulp(row, flags, p.param.get(), p.sum.get(), p.grad.get(), m, sp.get(), ss.get());
    done[key] = ulp;
    return ulp;
}

adagrad_options options(unsigned flags) { return adagrad_options{BENCH_LR, BENCH_EPS, 0.0f, flags, 0, 0}; }

void bench_step(benchmark::State &state, const adagrad_kernels *row, unsigned flags, size_t n)
{
    Data &d = data_for(n);
    const double ulp = worst_ulp(row, flags, n);
    const adagrad_options opt = options(flags);
    const adagrad_dense t = {d.param.get(), d.sum.get(), d.grad.get(), n, ADAGRAD_F32, ADAGRAD_F32, 0};
    for (auto _ : state) {
        const int status = adagrad_step_with(row, &t, &opt);
        if (status != ADAGRAD_OK) {
            state.SkipWithError(adagrad_strerror(status));
            g_failed = true;
            break;
        }
        benchmark::ClobberMemory();
    }
    bench::set_rates(state, (double)n, 20.0);
    state.counters["max_ulp"] = ulp;
}

void bench_roofline(benchmark::State &state, const adagrad_kernels *row, size_t n)
{
    Data &d = data_for(n);
    for (auto _ : state) {
        row->traffic(d.param.get(), d.sum.get(), d.grad.get(), n, 0u);
        benchmark::ClobberMemory();
    }
    bench::set_rates(state, (double)n, 20.0);
}

// Once per (mode, n, threads): one multi-threaded step on the current
// buffers against one adagrad_step call on a copy of them.
bool mt_identical(Data &d, unsigned flags, int threads)
{
    static std::map<std::tuple<unsigned, size_t, int>, bool> done;
    const auto key = std::make_tuple(flags, d.n, threads);
    auto it = done.find(key);
    if (it != done.end())
        return it->second;
    const size_t n = d.n;
    if (!d.check_p) {
        d.check_p = bench::alloc<float>(n);
        d.check_s = bench::alloc<float>(n);
    }
    float *p = d.check_p.get(), *s = d.check_s.get();
    std::memcpy(p, d.param.get(), n * sizeof(float));
    std::memcpy(s, d.sum.get(), n * sizeof(float));
    const adagrad_options opt = options(flags);
    const adagrad_dense mt = {d.param.get(), d.sum.get(), d.grad.get(), n, ADAGRAD_F32, ADAGRAD_F32, 0};
    const adagrad_dense one = {p, s, d.grad.get(), n, ADAGRAD_F32, ADAGRAD_F32, 0};
    const bool same = adagrad_step_mt(&mt, &opt, threads) == ADAGRAD_OK && adagrad_step(&one, &opt) == ADAGRAD_OK &&
                      std::memcmp(p, d.param.get(), n * sizeof(float)) == 0 &&
                      std::memcmp(s, d.sum.get(), n * sizeof(float)) == 0;
    if (!same) {
        std::fprintf(stderr, "bench_adagrad: step_mt n=%zu threads=%d is NOT bitwise one adagrad_step call\n", n,
                     threads);
        g_failed = true;
    }
    done[key] = same;
    return same;
}

void bench_mt(benchmark::State &state, unsigned flags, size_t n, int threads)
{
    Data &d = data_for(n);
    const bool same = mt_identical(d, flags, threads);
    const adagrad_options opt = options(flags);
    const adagrad_dense t = {d.param.get(), d.sum.get(), d.grad.get(), n, ADAGRAD_F32, ADAGRAD_F32, 0};
    for (auto _ : state) {
        adagrad_step_mt(&t, &opt, threads); // validated by the check above: cannot fail
        benchmark::ClobberMemory();
    }
    bench::set_rates(state, (double)n, 20.0);
    state.counters["identical"] = same ? 1.0 : 0.0;
    state.counters["parts"] = (double)adagrad_mt_parts(n, threads);
}

// ---- The machine ----

std::string cpu_model()
{
    std::string model = "unknown CPU", implementer, part;
    if (FILE *f = std::fopen("/proc/cpuinfo", "r")) {
        char line[512];
        while (std::fgets(line, sizeof line, f)) {
            const char *colon = std::strchr(line, ':');
            if (!colon)
                continue;
            std::string key(line, (size_t)(colon - line)), value(colon + 1);
            key.erase(key.find_last_not_of(" \t") + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            value.erase(value.find_last_not_of(" \t\n") + 1);
            if (key == "model name" && !value.empty()) { // x86
                model = value;
                break;
            }
            if (key == "CPU implementer") // AArch64 kernels print only codes
                implementer = value;
            else if (key == "CPU part")
                part = value;
        }
        std::fclose(f);
    }
    if (model == "unknown CPU" && !implementer.empty())
        model = "CPU implementer " + implementer + ", part " + part;
    return model;
}

// Seconds all CPUs spent busy since boot (/proc/stat: user, nice, system,
// irq, softirq, steal), -1 when unknown; this process's CPU seconds.
double busy_seconds()
{
    unsigned long long v[8] = {0};
    FILE *f = std::fopen("/proc/stat", "r");
    if (!f)
        return -1.0;
    const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                                &v[5], &v[6], &v[7]);
    std::fclose(f);
    const long hz = sysconf(_SC_CLK_TCK);
    return got < 7 || hz <= 0 ? -1.0 : (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)hz;
}
double clock_seconds(clockid_t id)
{
    timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct Idle {
    double busy0 = busy_seconds(), self0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID),
           wall0 = clock_seconds(CLOCK_MONOTONIC);
    double wall() const { return clock_seconds(CLOCK_MONOTONIC) - wall0; }
    double others() const // NaN: unknown
    {
        const double busy = busy_seconds(), self = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - self0;
        if (busy0 < 0 || busy < 0 || wall() < 0.2)
            return NAN;
        return std::max(0.0, (busy - busy0 - self) / wall()); // jiffies are coarse
    }
};
Idle *g_idle = nullptr;

// Google Benchmark's JSON, closed by the idle check of the whole run.
class RunJSONReporter : public benchmark::JSONReporter {
  public:
    void Finalize() override
    {
        const double others = g_idle->others();
        char end[256];
        std::snprintf(end, sizeof end,
                      "\n  ],\n  \"adagrad_run\": {\n    \"others_busy_cpus\": %s,\n    \"wall_seconds\": %.3f,\n"
                      "    \"num_cpus\": %ld\n  }\n}\n",
                      std::isnan(others) ? "null" : std::to_string(others).c_str(), g_idle->wall(),
                      sysconf(_SC_NPROCESSORS_ONLN));
        GetOutputStream() << end;
    }
};

std::string flag_value(int argc, char **argv, const char *name) // "--name=value" of Google Benchmark's flags
{
    const size_t len = std::strlen(name);
    std::string value;
    for (int i = 1; i < argc; i++)
        if (std::strncmp(argv[i], name, len) == 0 && argv[i][len] == '=')
            value = argv[i] + len + 1;
    return value;
}

size_t cache_bytes(int level)
{
    size_t bytes = 0;
    for (const auto &c : benchmark::CPUInfo::Get().caches)
        if (c.level == level && c.type != "Instruction")
            bytes = (size_t)c.size;
    return bytes;
}

size_t floor_pow2(size_t x)
{
    size_t p = 1;
    while (p <= x / 2)
        p *= 2;
    return p;
}

// The default DRAM size is at most 2^27 elements (1.6 GB of buffers): a
// virtual machine may report its host's whole L3, and the default report
// must stay under a minute.
constexpr size_t kMaxDefault = size_t(1) << 27;

std::vector<size_t> default_sizes()
{
    std::vector<size_t> sizes;
    size_t last = 0;
    for (int level = 1; level <= 3; level++) {
        const size_t bytes = cache_bytes(level);
        const size_t n = floor_pow2(bytes / 12);
        if (bytes && n >= 64 && (sizes.empty() || n > sizes.back()))
            sizes.push_back(n);
        last = bytes ? bytes : last;
    }
    size_t dram = 1;
    while ((double)dram * 12.0 < 4.0 * (double)(last ? last : 8u << 20) && dram < kMaxDefault)
        dram *= 2;
    const double budget = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / 4.0;
    while (dram > 1024 && budget > 0 && (double)dram * 20.0 > budget) // the buffers and step_mt's check
        dram /= 2;
    if (sizes.empty() || dram > sizes.back())
        sizes.push_back(dram);
    return sizes;
}

} // namespace

std::vector<size_t> bench::parse_list(const char *flag, const char *list)
{
    std::vector<size_t> v;
    for (const char *p = list; *p;) {
        char *end = nullptr;
        unsigned long long x;
        if (p[0] == '2' && p[1] == '^') {
            const unsigned long long k = std::strtoull(p + 2, &end, 10);
            x = end != p + 2 && k < 40 ? 1ULL << k : 0;
        } else {
            x = std::strtoull(p, &end, 10);
        }
        if (end == p || x == 0 || (*end != ',' && *end != '\0')) {
            std::fprintf(stderr, "bench_adagrad: bad %s list '%s' (expected e.g. 4096,65536,2^20)\n", flag, list);
            std::exit(2);
        }
        v.push_back((size_t)x);
        p = *end ? end + 1 : end;
    }
    if (v.empty()) {
        std::fprintf(stderr, "bench_adagrad: empty %s list\n", flag);
        std::exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const bool json_out = flag_value(argc, argv, "--benchmark_format") == "json";
    const bool json_file = !flag_value(argc, argv, "--benchmark_out").empty() &&
                           flag_value(argc, argv, "--benchmark_out_format") != "console" &&
                           flag_value(argc, argv, "--benchmark_out_format") != "csv";
    benchmark::Initialize(&argc, argv);

    std::vector<size_t> sizes, mt_sizes, threads, dims = {16, 64, 128}, batches = {16384};
    size_t table_rows = size_t(1) << 20;
    bool no_threads = false, list_rows = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (std::strncmp(a, "--sizes=", 8) == 0)
            sizes = bench::parse_list("--sizes", a + 8);
        else if (std::strncmp(a, "--mt-sizes=", 11) == 0)
            mt_sizes = bench::parse_list("--mt-sizes", a + 11);
        else if (std::strcmp(a, "--threads=none") == 0)
            no_threads = true;
        else if (std::strncmp(a, "--threads=", 10) == 0)
            threads = bench::parse_list("--threads", a + 10);
        else if (std::strncmp(a, "--dims=", 7) == 0)
            dims = bench::parse_list("--dims", a + 7);
        else if (std::strncmp(a, "--batches=", 10) == 0)
            batches = bench::parse_list("--batches", a + 10);
        else if (std::strncmp(a, "--rows=", 7) == 0)
            table_rows = bench::parse_list("--rows", a + 7)[0];
        else if (std::strcmp(a, "--prefetch=auto") == 0)
            adagrad_set_prefetch_distance(ADAGRAD_PREFETCH_AUTO);
        else if (std::strncmp(a, "--prefetch=", 11) == 0 && a[11] >= '0' && a[11] <= '9')
            adagrad_set_prefetch_distance((size_t)std::strtoull(a + 11, nullptr, 10));
        else if (std::strcmp(a, "--list-rows") == 0)
            list_rows = true;
        else {
            std::fprintf(stderr,
                         "bench_adagrad: unknown argument '%s' (Google Benchmark's flags, or --sizes= --mt-sizes= "
                         "--threads= --dims= --batches= --rows= --prefetch= --list-rows)\n",
                         a);
            return 2;
        }
    }

    // Only rows this CPU and OS can run; the others are named, not silent.
    std::vector<const adagrad_kernels *> rows;
    std::string row_names, skipped;
    for (size_t i = 0; i < adagrad_row_count(); i++) {
        const adagrad_kernels *row = adagrad_row(i);
        const char *why_not = nullptr;
        const bool runnable = adagrad_row_runnable(row, &why_not);
        if (list_rows)
            std::printf("%s\t%s\t%s\n", row->name, row->test_only ? "test-only" : "library",
                        runnable ? "runnable" : why_not);
        if (runnable) {
            rows.push_back(row);
            row_names += std::string(row_names.empty() ? "" : " ") + row->name + (row->test_only ? "(test-only)" : "");
        } else {
            std::fprintf(stderr, "bench_adagrad: skipping %s: %s\n", row->name, why_not);
            skipped += std::string(skipped.empty() ? "" : "; ") + row->name + ": " + why_not;
        }
    }
    const char *dispatch = adagrad_isa_name(adagrad_active_isa());
    if (list_rows) {
        std::printf("dispatch\t%s\n", dispatch);
        return 0;
    }

    const uint32_t cpu = adagrad_cpu_flags();
    static const struct {
        uint32_t bit;
        const char *name;
    } features[] = {{ADAGRAD_CPU_AVX2, "avx2+fma"}, {ADAGRAD_CPU_AVX512, "avx512f"}, {ADAGRAD_CPU_NEON, "neon"},
                    {ADAGRAD_CPU_SVE, "sve"}};
    std::string feature_names;
    for (const auto &f : features)
        if (cpu & f.bit)
            feature_names += std::string(feature_names.empty() ? "" : " ") + f.name;
    std::string omp_env;
    for (const char *name : {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND", "OMP_PLACES"})
        if (const char *v = std::getenv(name))
            omp_env += std::string(omp_env.empty() ? "" : " ") + name + "=" + v;
    const size_t dist = adagrad_set_prefetch_distance(ADAGRAD_PREFETCH_AUTO);
    adagrad_set_prefetch_distance(dist);
    char version[32], sparse[256];
    std::snprintf(version, sizeof version, "%d.%d.%d", ADAGRAD_VERSION_MAJOR, ADAGRAD_VERSION_MINOR,
                  ADAGRAD_VERSION_PATCH);
    std::snprintf(sparse, sizeof sparse,
                  "table %zu rows x dim floats; 16 index lists of each batch used in turn; uniform, or Zipf s=1.05 "
                  "scattered; prefetch %s rows ahead",
                  table_rows,
                  dist == ADAGRAD_PREFETCH_AUTO ? "auto, clamp(512/dim, 1, 32)" : std::to_string(dist).c_str());
    benchmark::AddCustomContext("adagrad_version", version);
    benchmark::AddCustomContext("adagrad_dispatch", dispatch);
    benchmark::AddCustomContext("adagrad_cpu_features", feature_names.empty() ? "none" : feature_names);
    benchmark::AddCustomContext("adagrad_rows", row_names);
    benchmark::AddCustomContext("adagrad_rows_skipped", skipped);
    benchmark::AddCustomContext("adagrad_max_threads", std::to_string(adagrad_max_threads()));
    benchmark::AddCustomContext("adagrad_omp_env", omp_env);
    benchmark::AddCustomContext("adagrad_sparse", sparse);
    benchmark::AddCustomContext("adagrad_inputs",
                                "theta in [-1, 1], s log-uniform in [1e-2, 1e2], g of random sign, log-uniform in "
                                "[1e-4, 1]; period 2^20 elements; lr 1e-3, eps 1e-10");
    benchmark::AddCustomContext("adagrad_table_rows", std::to_string(table_rows));
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    benchmark::AddCustomContext("adagrad_build", "optimized");
#else
    benchmark::AddCustomContext("adagrad_build", "NOT an optimized build: sanitizers or -O0");
#endif
    benchmark::AddCustomContext("cpu_model", cpu_model());

    if (sizes.empty() && !kSparseOnly)
        sizes = default_sizes();
    // Size-major order: without random interleaving every row's EXACT, FAST
    // and roofline at one size run back to back, so they see the same
    // machine state.
    for (size_t n : sizes)
        for (const adagrad_kernels *row : rows) {
            const std::string tail = std::string(row->name) + "/" + std::to_string(n);
            const std::string base = std::string("step_f32/") + row->name;
            bench::with_stats(benchmark::RegisterBenchmark((base + "/exact/" + std::to_string(n)).c_str(),
                                                           [row, n](benchmark::State &s) { bench_step(s, row, 0u, n); }));
            bench::with_stats(benchmark::RegisterBenchmark(
                (base + "/fast/" + std::to_string(n)).c_str(),
                [row, n](benchmark::State &s) { bench_step(s, row, ADAGRAD_FAST, n); }));
            bench::with_stats(benchmark::RegisterBenchmark(("roofline/" + tail).c_str(),
                                                           [row, n](benchmark::State &s) { bench_roofline(s, row, n); }));
        }
    if (mt_sizes.empty() && !sizes.empty()) {
        const size_t last = cache_bytes(3) ? cache_bytes(3) : cache_bytes(2);
        for (size_t n : sizes)
            if (last && (double)n * 12.0 >= 4.0 * (double)last)
                mt_sizes.push_back(n);
        if (mt_sizes.empty())
            mt_sizes.push_back(*std::max_element(sizes.begin(), sizes.end()));
    }
    if (threads.empty()) {
        const size_t max = (size_t)std::max(1, adagrad_max_threads());
        for (size_t t = 1; t < max; t *= 2)
            threads.push_back(t);
        threads.push_back(max);
    }
    for (size_t n : no_threads || kSparseOnly ? std::vector<size_t>() : mt_sizes)
        for (unsigned flags : {0u, (unsigned)ADAGRAD_FAST})
            for (size_t t : threads) {
                const std::string name = std::string("step_mt/") + dispatch + (flags ? "/fast/" : "/exact/") +
                                         std::to_string(n) + "/" + std::to_string(t);
                bench::with_stats(benchmark::RegisterBenchmark(name.c_str(), [flags, n, t](benchmark::State &s) {
                                      bench_mt(s, flags, n, (int)t);
                                  }))->UseRealTime();
            }
    bench::register_sparse(rows, dims, batches, table_rows);

    Idle idle;
    g_idle = &idle;
    RunJSONReporter display, file;
    benchmark::RunSpecifiedBenchmarks(json_out ? &display : nullptr, json_file ? &file : nullptr);
    const double others = idle.others();
    if (!std::isnan(others))
        std::fprintf(stderr, "bench_adagrad: idle check: other processes kept %.2f of %ld CPUs busy during the run\n",
                     others, sysconf(_SC_NPROCESSORS_ONLN));
    benchmark::Shutdown();
    return g_failed ? 1 : 0;
}
