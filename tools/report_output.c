/* libadagrad — adagrad-report: derived figures and the three output forms
 * (a readable table, JSON, CSV).
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adagrad.h"
#include "report.h"

/* ---- The run's result list ---- */

static report_result *add_to(report_result **list, size_t *count, size_t *capacity)
{
    if (*count == *capacity) {
        const size_t cap = *capacity ? 2 * *capacity : 64;
        report_result *p = realloc(*list, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "adagrad-report: out of memory\n");
            exit(1);
        }
        *list = p;
        *capacity = cap;
    }
    report_result *r = &(*list)[(*count)++];
    memset(r, 0, sizeof *r);
    r->ulp_max = NAN;
    r->identical = -1;
    return r;
}

report_result *report_add_result(report_run *run)
{
    return add_to(&run->results, &run->result_count, &run->result_cap);
}

report_result *report_add_mt_result(report_run *run) { return add_to(&run->mt, &run->mt_count, &run->mt_cap); }

const report_result *report_find(const report_run *run, size_t n, const char *impl, const char *mode)
{
    for (size_t i = 0; i < run->result_count; i++) {
        const report_result *r = &run->results[i];
        if (r->n == n && strcmp(r->impl, impl) == 0 && strcmp(r->mode, mode) == 0)
            return r;
    }
    return NULL;
}

void report_run_free(report_run *run)
{
    free(run->results);
    run->results = NULL;
    run->result_count = run->result_cap = 0;
    free(run->mt);
    run->mt = NULL;
    run->mt_count = run->mt_cap = 0;
    free(run->sparse);
    run->sparse = NULL;
    run->sparse_count = run->sparse_cap = 0;
}

void report_sort_results(report_run *run)
{
    for (size_t i = 1; i < run->result_count; i++) { /* insertion sort: stable, and the list is short */
        const report_result r = run->results[i];
        size_t j = i;
        while (j > 0 && run->results[j - 1].n > r.n) {
            run->results[j] = run->results[j - 1];
            j--;
        }
        run->results[j] = r;
    }
}

/* ---- Derived figures ---- */

double report_gelem(const report_result *r)
{
    return r && r->sec_median > 0 ? (double)r->n / r->sec_median * 1e-9 : NAN;
}

double report_gbps(const report_result *r) { return report_gelem(r) * REPORT_BYTES_PER_ELEMENT; }

/* The memory roofline at n: the fastest traffic loop measured at that size
 * (normally the best row's), in G elements/s. */
double report_roofline_gelem(const report_run *run, size_t n, const char **which)
{
    double best = NAN;
    for (size_t i = 0; i < run->result_count; i++) {
        const report_result *r = &run->results[i];
        if (r->n != n || strcmp(r->mode, "roofline") != 0)
            continue;
        const double g = report_gelem(r);
        if (!(g <= best)) {
            best = g;
            if (which)
                *which = r->impl;
        }
    }
    return best;
}

static bool is_torch(const report_result *r) { return strcmp(r->impl, "torch") == 0; }

double report_speedup(const report_run *run, const report_result *r)
{
    if (is_torch(r) || strcmp(r->mode, "roofline") == 0)
        return NAN;
    return report_gelem(r) / report_gelem(report_find(run, r->n, "scalar", r->mode));
}

double report_roofline_pct(const report_run *run, const report_result *r)
{
    return 100.0 * report_gelem(r) / report_roofline_gelem(run, r->n, NULL);
}

double report_vs_torch(const report_run *run, const report_result *r, const char *torch_mode)
{
    if (is_torch(r) || strcmp(r->mode, "roofline") == 0)
        return NAN;
    return report_gelem(r) / report_gelem(report_find(run, r->n, "torch", torch_mode));
}

double report_mt_speedup(const report_run *run, const report_result *r)
{
    for (size_t i = 0; i < run->mt_count; i++) {
        const report_result *one = &run->mt[i];
        if (one->n == r->n && one->threads == 1 && strcmp(one->mode, r->mode) == 0)
            return report_gelem(r) / report_gelem(one);
    }
    return NAN;
}

double report_mt_roofline_pct(const report_run *run, const report_result *r)
{
    return 100.0 * report_gelem(r) / report_roofline_gelem(run, r->n, NULL);
}

/* ---- Table ---- */

static void human_bytes(char *buf, size_t size, double bytes)
{
    if (bytes >= 1024.0 * 1024 * 1024)
        snprintf(buf, size, "%.3g GiB", bytes / (1024.0 * 1024 * 1024));
    else if (bytes >= 1024.0 * 1024)
        snprintf(buf, size, "%.3g MiB", bytes / (1024.0 * 1024));
    else
        snprintf(buf, size, "%.3g KiB", bytes / 1024.0);
}

/* A fixed-width cell, "-" when the figure does not exist. */
static void cell(FILE *f, int width, const char *fmt, double v)
{
    if (isnan(v) || isinf(v)) {
        fprintf(f, " %*s", width, "-");
        return;
    }
    char buf[32];
    snprintf(buf, sizeof buf, fmt, v);
    fprintf(f, " %*s", width, buf);
}

static void print_header(FILE *f, const report_run *run)
{
    char l1[16], l2[16], l3[16];
    human_bytes(l1, sizeof l1, (double)run->caches.l1d);
    human_bytes(l2, sizeof l2, (double)run->caches.l2);
    human_bytes(l3, sizeof l3, (double)run->caches.l3);
    fprintf(f, "libadagrad %s report, %s\n", run->library_version, run->date);
    fprintf(f, "CPU:             %s\n", run->cpu_model);
    fprintf(f, "features:        %s (detected by the library: CPU and OS)\n",
            *run->cpu_features ? run->cpu_features : "none");
    fprintf(f, "caches:          L1d %s, L2 %s, L3 %s (from %s)\n", l1, l2, l3, run->caches.source);
    fprintf(f, "implementations:");
    for (size_t i = 0; i < run->impl_count; i++)
        fprintf(f, "%s %s (%s)", i ? "," : "", run->impls[i].name,
                run->impls[i].available ? "available" : run->impls[i].reason);
    fprintf(f, "\ndispatch:        %s (%s)\n", run->dispatch, run->dispatch_note);
    fprintf(f, "method:          median of %u interleaved repetitions, batches >= %g ms (%s clock) after warm-up;\n"
               "                 GB/s at %g bytes/element; %%roof against the fastest traffic loop at that size;\n"
               "                 ulp: worst theta error of one step vs the double-precision formula\n",
            run->reps, run->batch_ms, run->clock, REPORT_BYTES_PER_ELEMENT);
    if (strcmp(run->torch_status, "off") != 0)
        fprintf(f, "torch:           %s\n", run->torch_note);
}

static const char *yes_no(int v) { return v > 0 ? "yes" : v == 0 ? "no" : "-"; }

/* The multi-threaded section, after the single-thread table. */
static void print_threads(FILE *f, const report_run *run)
{
    if (strcmp(run->mt_status, "ok") != 0 || run->mt_count == 0)
        return;
    fprintf(f, "\nmulti-threaded: adagrad_step_f32_mt, %s (dispatch), adagrad_max_threads() = %d%s\n",
            run->mt_impl, run->mt_max_threads, run->mt_openmp ? "" : " (library built without OpenMP)");
    fprintf(f, "method:          median of %u interleaved repetitions, batches >= %g ms, WALL clock: the\n"
               "                 thread CPU clock of the table above would count only the calling thread's\n"
               "                 share of a multi-threaded call; at least %d elements per thread\n"
               "                 (ADAGRAD_MT_MIN_ELEMENTS); x1: over 1 thread, same mode; %%roof1: of the\n"
               "                 single-thread roofline above at that size\n",
            run->reps, run->batch_ms, ADAGRAD_MT_MIN_ELEMENTS);
    if (!isnan(run->mt_others_cpus) && run->mt_online_cpus > 0)
        fprintf(f, "load:            other processes kept %.2f of the %d online CPUs busy meanwhile%s\n",
                run->mt_others_cpus, run->mt_online_cpus,
                run->mt_others_cpus >= 0.25 ? "\n                 (wall-clock figures, threads waiting for a core: "
                                              "expect noise)" : "");
    if (*run->mt_env)
        fprintf(f, "environment:     %s\n", run->mt_env);
    size_t last_n = 0;
    for (size_t i = 0; i < run->mt_count; i++) {
        const report_result *r = &run->mt[i];
        if (i == 0 || r->n != last_n) {
            last_n = r->n;
            char ws[16];
            human_bytes(ws, sizeof ws, (double)r->n * REPORT_WORKING_SET_PER_ELEMENT);
            fprintf(f, "\nn = %zu (%s, %s working set), multi-threaded\n", r->n, report_level(&run->caches, r->n),
                    ws);
            fprintf(f, "  %7s %4s %-6s %9s %15s %8s %6s %7s %9s\n", "threads", "used", "mode", "G elem/s",
                    "spread min/max", "GB/s", "x1", "%roof1", "same bits");
        }
        char spread[32];
        snprintf(spread, sizeof spread, "%+.1f/%+.1f%%", 100.0 * (r->sec_median / r->sec_max - 1.0),
                 100.0 * (r->sec_median / r->sec_min - 1.0));
        fprintf(f, "  %7u %4u %-6s", r->threads, r->threads_used, r->mode);
        cell(f, 9, "%.3f", report_gelem(r));
        fprintf(f, " %15s", spread);
        cell(f, 8, "%.1f", report_gbps(r));
        cell(f, 6, "%.2f", report_mt_speedup(run, r));
        cell(f, 7, "%.1f%%", report_mt_roofline_pct(run, r));
        fprintf(f, " %9s\n", yes_no(r->identical));
    }
    fprintf(f, "\nbitwise identical to one call: %s (theta and sum after one step from the same inputs, "
               "EXACT and FAST, every thread count above)\n",
            yes_no(run->mt_identical));
}

/* The sparse section, last. */
static void print_sparse(FILE *f, const report_run *run)
{
    if (strcmp(run->sparse_status, "ok") != 0 || run->sparse_count == 0)
        return;
    char pf[64];
    if (run->sparse_prefetch == ADAGRAD_PREFETCH_AUTO)
        report_copy(pf, sizeof pf, "auto, clamp(512/dim, 1, 32) rows ahead");
    else
        snprintf(pf, sizeof pf, "%zu rows ahead", run->sparse_prefetch);
    fprintf(f, "\nsparse: adagrad_sparse_step_f32 / adagrad_rowwise_step_f32, EXACT, %s (dispatch) and scalar;\n"
               "                 table %zu rows x dim, batch %zu indices (uniform, or Zipf s=1.05 scattered),\n"
               "                 16 index lists in turn; prefetch %s\n",
            run->sparse_impl, run->sparse_rows, run->sparse_batch, pf);
    fprintf(f, "method:          median of %u interleaved repetitions, batches >= %g ms (%s clock); M rows/s:\n"
               "                 touched rows (indices) per second; GB/s at 20*dim bytes per row for sparse (table\n"
               "                 row and accumulator row read and written, gradient row read) and 12*dim+8 for\n"
               "                 row-wise (table row read and written, gradient row read, one accumulator float\n"
               "                 read and written), indices not counted;\n"
               "                 roofline: the same rows, order and prefetch with no math (sparse: the dispatched\n"
               "                 traffic kernel; row-wise: a C xor loop), measured in the same run; %%roof: of it;\n"
               "                 loop: a plain C loop applying the contract per element (no prefetch, no SIMD);\n"
               "                 xloop: over it\n",
            run->reps, run->batch_ms, run->clock);
    size_t dims[64], dim_count = 0;
    for (size_t i = 0; i < run->sparse_count && dim_count < 64; i++) {
        size_t j = 0;
        while (j < dim_count && dims[j] != run->sparse[i].dim)
            j++;
        if (j == dim_count)
            dims[dim_count++] = run->sparse[i].dim;
    }
    static const char *const kinds[] = {"sparse", "rowwise"};
    for (size_t d = 0; d < dim_count; d++) {
        char tb[16], ab[16];
        human_bytes(tb, sizeof tb, (double)run->sparse_rows * (double)dims[d] * 4.0);
        human_bytes(ab, sizeof ab, (double)run->sparse_rows * 4.0);
        fprintf(f, "\ndim = %zu (table %s, accumulators as much for sparse, %s for row-wise)\n", dims[d], tb, ab);
        fprintf(f, "  %-7s %-7s %-8s %9s %15s %7s %7s %6s\n", "step", "indices", "impl", "M rows/s", "spread min/max",
                "GB/s", "%roof", "xloop");
        for (size_t k = 0; k < 2; k++)
            for (size_t i = 0; i < run->sparse_count; i++) {
                const report_sparse_result *r = &run->sparse[i];
                if (r->dim != dims[d] || strcmp(r->kind, kinds[k]) != 0)
                    continue;
                char spread[32];
                snprintf(spread, sizeof spread, "%+.1f/%+.1f%%", 100.0 * (r->sec_median / r->sec_max - 1.0),
                         100.0 * (r->sec_median / r->sec_min - 1.0));
                fprintf(f, "  %-7s %-7s %-8s", r->kind, r->dist, r->impl);
                cell(f, 9, "%.2f", report_sparse_rows_s(run, r) * 1e-6);
                fprintf(f, " %15s", spread);
                cell(f, 7, "%.2f", report_sparse_gbps(run, r));
                cell(f, 7, "%.1f%%", report_sparse_roofline_pct(run, r));
                cell(f, 6, "%.2f", report_sparse_vs_loop(run, r));
                fputc('\n', f);
            }
    }
    fprintf(f, "\nplain loop gives the library's bits: %s (one step, dispatch and scalar, sparse and row-wise,\n"
               "uniform and Zipf indices, every dim above)\n",
            yes_no(run->sparse_identical));
}

void report_print_table(FILE *f, const report_run *run)
{
    print_header(f, run);
    const bool torch = strcmp(run->torch_status, "ok") == 0;
    size_t last_n = 0;
    for (size_t i = 0; i < run->result_count; i++) {
        const report_result *r = &run->results[i];
        if (i == 0 || r->n != last_n) {
            last_n = r->n;
            const char *which = "?";
            const double roof = report_roofline_gelem(run, r->n, &which);
            char ws[16];
            human_bytes(ws, sizeof ws, (double)r->n * REPORT_WORKING_SET_PER_ELEMENT);
            fprintf(f, "\nn = %zu (%s, %s working set)   roofline %.2f G elem/s = %.1f GB/s (%s traffic loop)\n",
                    r->n, report_level(&run->caches, r->n), ws, roof, roof * REPORT_BYTES_PER_ELEMENT, which);
            fprintf(f, "  %-8s %-9s %9s %15s %8s %8s %7s %8s", "impl", "mode", "G elem/s", "spread min/max",
                    "GB/s", "xscalar", "%roof", "max ulp");
            if (torch)
                fprintf(f, " %8s %9s", "xtorch", "xtorch-fe");
            fputc('\n', f);
        }
        const double g = report_gelem(r);
        char spread[32];
        snprintf(spread, sizeof spread, "%+.1f/%+.1f%%", 100.0 * (r->sec_median / r->sec_max - 1.0),
                 100.0 * (r->sec_median / r->sec_min - 1.0));
        fprintf(f, "  %-8s %-9s", r->impl, r->mode);
        cell(f, 9, "%.3f", g);
        fprintf(f, " %15s", spread);
        cell(f, 8, "%.1f", report_gbps(r));
        cell(f, 8, "%.2f", report_speedup(run, r));
        cell(f, 7, "%.1f%%", report_roofline_pct(run, r));
        cell(f, 8, "%.2f", r->ulp_max);
        if (torch) {
            cell(f, 8, "%.2f", report_vs_torch(run, r, "single"));
            cell(f, 9, "%.2f", report_vs_torch(run, r, "foreach"));
        }
        fputc('\n', f);
    }
    if (torch)
        fprintf(f, "\nxtorch, xtorch-fe: this row's throughput over torch.optim.Adagrad.step() (foreach=False, "
                   "foreach=True) at the same size\n");
    print_threads(f, run);
    print_sparse(f, run);
}

/* ---- JSON ---- */

void report_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_number(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", f);
    else
        fprintf(f, "%.9g", v);
}

static void json_key_number(FILE *f, const char *key, double v)
{
    fprintf(f, ", \"%s\": ", key);
    json_number(f, v);
}

/* The seconds per call of one timed kernel: median, extremes, quartiles. */
static void json_times(FILE *f, double median, double min, double max, double q1, double q3)
{
    json_key_number(f, "sec_median", median);
    json_key_number(f, "sec_min", min);
    json_key_number(f, "sec_max", max);
    json_key_number(f, "sec_q1", q1);
    json_key_number(f, "sec_q3", q3);
}

void report_print_json(FILE *f, const report_run *run)
{
    fprintf(f, "{\n  \"schema\": \"adagrad-report/1\",\n  \"date\": ");
    report_json_string(f, run->date);
    fprintf(f, ",\n  \"library_version\": ");
    report_json_string(f, run->library_version);
    fprintf(f, ",\n  \"cpu\": {\"model\": ");
    report_json_string(f, run->cpu_model);
    fprintf(f, ", \"features\": [");
    char features[sizeof run->cpu_features];
    report_copy(features, sizeof features, run->cpu_features);
    int first = 1;
    for (char *tok = strtok(features, " "); tok; tok = strtok(NULL, " ")) {
        fprintf(f, "%s", first ? "" : ", ");
        report_json_string(f, tok);
        first = 0;
    }
    fprintf(f, "]},\n  \"caches\": {\"l1d\": %ld, \"l2\": %ld, \"l3\": %ld, \"source\": ", run->caches.l1d,
            run->caches.l2, run->caches.l3);
    report_json_string(f, run->caches.source);
    fprintf(f, "},\n  \"implementations\": [");
    for (size_t i = 0; i < run->impl_count; i++) {
        fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
        report_json_string(f, run->impls[i].name);
        fprintf(f, ", \"available\": %s, \"reason\": ", run->impls[i].available ? "true" : "false");
        report_json_string(f, run->impls[i].reason);
        fputc('}', f);
    }
    fprintf(f, "\n  ],\n  \"dispatch\": ");
    report_json_string(f, run->dispatch);
    fprintf(f, ",\n  \"dispatch_note\": ");
    report_json_string(f, run->dispatch_note);
    fprintf(f, ",\n  \"method\": {\"statistic\": \"median\", \"clock\": \"%s\", \"reps\": %u, \"batch_ms\": %g, \"seed\": %llu, "
               "\"bytes_per_element\": %g, \"lr\": %g, \"eps\": %g, "
               "\"roofline\": \"fastest traffic loop at the same size\"},\n",
            run->clock, run->reps, run->batch_ms, (unsigned long long)run->seed, REPORT_BYTES_PER_ELEMENT, (double)REPORT_LR,
            (double)REPORT_EPS);
    fprintf(f, "  \"torch\": {\"status\": ");
    report_json_string(f, run->torch_status);
    fprintf(f, ", \"note\": ");
    report_json_string(f, run->torch_note);
    fprintf(f, "},\n  \"results\": [");
    for (size_t i = 0; i < run->result_count; i++) {
        const report_result *r = &run->results[i];
        fprintf(f, "%s\n    {\"n\": %zu, \"level\": \"%s\", \"impl\": ", i ? "," : "", r->n,
                report_level(&run->caches, r->n));
        report_json_string(f, r->impl);
        fprintf(f, ", \"mode\": ");
        report_json_string(f, r->mode);
        json_times(f, r->sec_median, r->sec_min, r->sec_max, r->sec_q1, r->sec_q3);
        json_key_number(f, "gelem_s", report_gelem(r));
        json_key_number(f, "gb_s", report_gbps(r));
        json_key_number(f, "speedup_vs_scalar", report_speedup(run, r));
        json_key_number(f, "roofline_pct", report_roofline_pct(run, r));
        json_key_number(f, "ulp_max", r->ulp_max);
        json_key_number(f, "vs_torch", report_vs_torch(run, r, "single"));
        json_key_number(f, "vs_torch_foreach", report_vs_torch(run, r, "foreach"));
        fputc('}', f);
    }
    fprintf(f, "\n  ],\n  \"multithread\": {\"status\": ");
    report_json_string(f, run->mt_status);
    fprintf(f, ", \"function\": \"adagrad_step_f32_mt\", \"impl\": ");
    report_json_string(f, run->mt_impl);
    fprintf(f, ", \"clock\": \"wall\", \"max_threads\": %d, \"openmp\": %s, \"min_elements_per_thread\": %d, "
               "\"roofline\": \"single-thread roofline at the same size\", \"bitwise_identical\": %s, "
               "\"online_cpus\": %d",
            run->mt_max_threads, run->mt_openmp ? "true" : "false", ADAGRAD_MT_MIN_ELEMENTS,
            run->mt_identical < 0 ? "null" : run->mt_identical ? "true" : "false", run->mt_online_cpus);
    json_key_number(f, "other_processes_cpus", run->mt_others_cpus);
    fprintf(f, ", \"environment\": ");
    report_json_string(f, run->mt_env);
    fprintf(f, ",\n    \"results\": [");
    for (size_t i = 0; i < run->mt_count; i++) {
        const report_result *r = &run->mt[i];
        fprintf(f, "%s\n      {\"n\": %zu, \"level\": \"%s\", \"impl\": ", i ? "," : "", r->n,
                report_level(&run->caches, r->n));
        report_json_string(f, r->impl);
        fprintf(f, ", \"mode\": ");
        report_json_string(f, r->mode);
        fprintf(f, ", \"threads\": %u, \"threads_used\": %u", r->threads, r->threads_used);
        json_times(f, r->sec_median, r->sec_min, r->sec_max, r->sec_q1, r->sec_q3);
        json_key_number(f, "gelem_s", report_gelem(r));
        json_key_number(f, "gb_s", report_gbps(r));
        json_key_number(f, "speedup_vs_1_thread", report_mt_speedup(run, r));
        json_key_number(f, "roofline_pct", report_mt_roofline_pct(run, r));
        fprintf(f, ", \"bitwise_identical\": %s}", r->identical < 0 ? "null" : r->identical ? "true" : "false");
    }
    fprintf(f, "%s]},\n  \"sparse\": {\"status\": ", run->mt_count ? "\n    " : "");
    report_json_string(f, run->sparse_status);
    fprintf(f, ", \"impl\": ");
    report_json_string(f, run->sparse_impl);
    fprintf(f, ", \"mode\": \"exact\", \"rows\": %zu, \"batch\": %zu, \"index_lists\": 16, \"zipf_s\": 1.05, "
               "\"prefetch_rows\": ",
            run->sparse_rows, run->sparse_batch);
    if (run->sparse_prefetch == ADAGRAD_PREFETCH_AUTO)
        fputs("\"auto\"", f);
    else
        fprintf(f, "%zu", run->sparse_prefetch);
    fprintf(f, ",\n    \"bytes_per_row\": {\"sparse\": \"20*dim: table row and accumulator row read and written, "
               "gradient row read\", \"rowwise\": \"12*dim+8: table row read and written, gradient row read, one "
               "accumulator float read and written\"},\n"
               "    \"roofline\": \"same rows, order and prefetch, no math\", \"loop\": \"plain C loop, the contract "
               "per element\", \"loop_bitwise_identical\": %s,\n    \"results\": [",
            run->sparse_identical < 0 ? "null" : run->sparse_identical ? "true" : "false");
    for (size_t i = 0; i < run->sparse_count; i++) {
        const report_sparse_result *r = &run->sparse[i];
        fprintf(f, "%s\n      {\"kind\": \"%s\", \"dist\": \"%s\", \"impl\": ", i ? "," : "", r->kind, r->dist);
        report_json_string(f, r->impl);
        fprintf(f, ", \"dim\": %zu", r->dim);
        json_times(f, r->sec_median, r->sec_min, r->sec_max, r->sec_q1, r->sec_q3);
        json_key_number(f, "rows_s", report_sparse_rows_s(run, r));
        json_key_number(f, "gb_s", report_sparse_gbps(run, r));
        json_key_number(f, "bytes_per_row", report_sparse_bytes_per_row(r->kind, r->dim));
        json_key_number(f, "roofline_pct", report_sparse_roofline_pct(run, r));
        json_key_number(f, "speedup_vs_loop", report_sparse_vs_loop(run, r));
        fputc('}', f);
    }
    fprintf(f, "%s]}\n}\n", run->sparse_count ? "\n    " : "");
}

/* ---- CSV: one header line, one line per result, empty fields for n/a ----
 * The multi-threaded rows come last, with mode "exact-mt" / "fast-mt" (so
 * that (n, impl, mode) still names one single-thread row) and the columns
 * after sec_q3 filled in; in the single-thread rows those say threads 1 and
 * the run's clock. */

static void csv_number(FILE *f, double v, const char *fmt)
{
    fputc(',', f);
    if (!isnan(v) && !isinf(v))
        fprintf(f, fmt, v);
}

void report_print_csv(FILE *f, const report_run *run)
{
    fprintf(f, "n,level,impl,mode,gelem_s,gelem_s_min,gelem_s_max,gb_s,speedup_vs_scalar,roofline_pct,"
               "ulp_max,vs_torch,vs_torch_foreach,sec_median,sec_q1,sec_q3,"
               "threads,threads_used,clock,speedup_vs_1_thread,bitwise_identical,"
               "dim,dist,rows_s,table_rows,batch,speedup_vs_loop\n");
    for (size_t i = 0; i < run->result_count; i++) {
        const report_result *r = &run->results[i];
        fprintf(f, "%zu,%s,%s,%s", r->n, report_level(&run->caches, r->n), r->impl, r->mode);
        csv_number(f, report_gelem(r), "%.6g");
        csv_number(f, (double)r->n / r->sec_max * 1e-9, "%.6g");
        csv_number(f, (double)r->n / r->sec_min * 1e-9, "%.6g");
        csv_number(f, report_gbps(r), "%.6g");
        csv_number(f, report_speedup(run, r), "%.6g");
        csv_number(f, report_roofline_pct(run, r), "%.6g");
        csv_number(f, r->ulp_max, "%.6g");
        csv_number(f, report_vs_torch(run, r, "single"), "%.6g");
        csv_number(f, report_vs_torch(run, r, "foreach"), "%.6g");
        csv_number(f, r->sec_median, "%.9g");
        csv_number(f, r->sec_q1, "%.9g");
        csv_number(f, r->sec_q3, "%.9g");
        fprintf(f, ",1,1,%s,,,,,,,,\n", run->clock);
    }
    for (size_t i = 0; i < run->mt_count; i++) {
        const report_result *r = &run->mt[i];
        fprintf(f, "%zu,%s,%s,%s-mt", r->n, report_level(&run->caches, r->n), r->impl, r->mode);
        csv_number(f, report_gelem(r), "%.6g");
        csv_number(f, (double)r->n / r->sec_max * 1e-9, "%.6g");
        csv_number(f, (double)r->n / r->sec_min * 1e-9, "%.6g");
        csv_number(f, report_gbps(r), "%.6g");
        fputc(',', f); /* speedup_vs_scalar */
        csv_number(f, report_mt_roofline_pct(run, r), "%.6g");
        fputs(",,,", f); /* ulp_max, vs_torch, vs_torch_foreach */
        csv_number(f, r->sec_median, "%.9g");
        csv_number(f, r->sec_q1, "%.9g");
        csv_number(f, r->sec_q3, "%.9g");
        fprintf(f, ",%u,%u,wall", r->threads, r->threads_used);
        csv_number(f, report_mt_speedup(run, r), "%.6g");
        fprintf(f, ",%s,,,,,,\n", r->identical < 0 ? "" : r->identical ? "yes" : "no");
    }
    /* The sparse rows: n is dim x batch (elements per step), so gelem_s is
     * elements/s; gb_s at report_sparse_bytes_per_row; roofline_pct of the
     * sparse roofline; mode sparse-exact, rowwise-exact (impl a kernel name or
     * "loop") or sparse-roofline, rowwise-roofline (impl "roofline"). */
    for (size_t i = 0; i < run->sparse_count; i++) {
        const report_sparse_result *r = &run->sparse[i];
        const size_t n = r->dim * run->sparse_batch;
        const bool roof = strcmp(r->impl, "roofline") == 0;
        fprintf(f, "%zu,%s,%s,%s-%s", n, report_level(&run->caches, run->sparse_rows * r->dim), r->impl, r->kind,
                roof ? "roofline" : "exact");
        csv_number(f, (double)n / r->sec_median * 1e-9, "%.6g");
        csv_number(f, (double)n / r->sec_max * 1e-9, "%.6g");
        csv_number(f, (double)n / r->sec_min * 1e-9, "%.6g");
        csv_number(f, report_sparse_gbps(run, r), "%.6g");
        fputc(',', f); /* speedup_vs_scalar */
        csv_number(f, report_sparse_roofline_pct(run, r), "%.6g");
        fputs(",,,", f); /* ulp_max, vs_torch, vs_torch_foreach */
        csv_number(f, r->sec_median, "%.9g");
        csv_number(f, r->sec_q1, "%.9g");
        csv_number(f, r->sec_q3, "%.9g");
        fprintf(f, ",1,1,%s,,", run->clock);
        if (strcmp(r->impl, "loop") == 0 && run->sparse_identical >= 0)
            fputs(run->sparse_identical ? "yes" : "no", f);
        fprintf(f, ",%zu,%s", r->dim, r->dist);
        csv_number(f, report_sparse_rows_s(run, r), "%.6g");
        fprintf(f, ",%zu,%zu", run->sparse_rows, run->sparse_batch);
        csv_number(f, report_sparse_vs_loop(run, r), "%.6g");
        fputc('\n', f);
    }
}
