/* libadagrad — adagrad-report: read --json runs back, and --compare two of
 * them side by side (throughput ratio B/A per size, implementation, mode).
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static void copy_string(char *dst, size_t size, const rjson *v) { report_copy(dst, size, rjson_string(v)); }

/* A JSON number as a whole count; 0 when absent, negative or absurd (casting
 * an out-of-range double to an integer would be undefined). */
static double whole(const rjson *v)
{
    const double x = rjson_number(v);
    return x >= 0 && x <= 0x1p52 ? x : 0;
}

/* The spread of one timed kernel, as report_output.c writes it (json_times). */
static void read_spread(const rjson *o, double *min, double *max, double *q1, double *q3)
{
    *min = rjson_number(rjson_get(o, "sec_min"));
    *max = rjson_number(rjson_get(o, "sec_max"));
    *q1 = rjson_number(rjson_get(o, "sec_q1"));
    *q3 = rjson_number(rjson_get(o, "sec_q3"));
}

static int from_json(const rjson *root, report_run *run, char *err, size_t err_size)
{
    if (strcmp(rjson_string(rjson_get(root, "schema")), "adagrad-report/1") != 0) {
        snprintf(err, err_size, "not an adagrad-report --json file (no \"schema\": \"adagrad-report/1\")");
        return -1;
    }
    copy_string(run->date, sizeof run->date, rjson_get(root, "date"));
    copy_string(run->library_version, sizeof run->library_version, rjson_get(root, "library_version"));
    const rjson *cpu = rjson_get(root, "cpu");
    copy_string(run->cpu_model, sizeof run->cpu_model, rjson_get(cpu, "model"));
    const rjson *features = rjson_get(cpu, "features");
    for (size_t i = 0; features && features->type == RJSON_ARRAY && i < features->count; i++) {
        const size_t used = strlen(run->cpu_features);
        snprintf(run->cpu_features + used, sizeof run->cpu_features - used, "%s%s", used ? " " : "",
                 rjson_string(&features->items[i]));
    }
    const rjson *caches = rjson_get(root, "caches");
    run->caches.l1d = (long)whole(rjson_get(caches, "l1d"));
    run->caches.l2 = (long)whole(rjson_get(caches, "l2"));
    run->caches.l3 = (long)whole(rjson_get(caches, "l3"));
    run->caches.source = "file";
    copy_string(run->dispatch, sizeof run->dispatch, rjson_get(root, "dispatch"));
    const rjson *method = rjson_get(root, "method");
    const double reps = whole(rjson_get(method, "reps"));
    run->reps = reps <= 1e6 ? (unsigned)reps : 0;
    run->batch_ms = rjson_number(rjson_get(method, "batch_ms"));
    copy_string(run->clock, sizeof run->clock, rjson_get(method, "clock"));
    const rjson *results = rjson_get(root, "results");
    if (!results || results->type != RJSON_ARRAY) {
        snprintf(err, err_size, "no \"results\" array");
        return -1;
    }
    for (size_t i = 0; i < results->count; i++) {
        const rjson *o = &results->items[i];
        const double n = whole(rjson_get(o, "n")), sec = rjson_number(rjson_get(o, "sec_median"));
        if (!(n >= 1) || !(sec > 0)) {
            snprintf(err, err_size, "result %zu has no valid \"n\" and \"sec_median\"", i);
            return -1;
        }
        report_result *r = report_add_result(run);
        r->n = (size_t)n;
        copy_string(r->impl, sizeof r->impl, rjson_get(o, "impl"));
        copy_string(r->mode, sizeof r->mode, rjson_get(o, "mode"));
        r->sec_median = sec;
        read_spread(o, &r->sec_min, &r->sec_max, &r->sec_q1, &r->sec_q3);
        r->ulp_max = rjson_number(rjson_get(o, "ulp_max"));
    }
    /* The multi-threaded section: absent from files written before it. */
    const rjson *mt = rjson_get(root, "multithread");
    report_copy(run->mt_status, sizeof run->mt_status, mt ? rjson_string(rjson_get(mt, "status")) : "off");
    copy_string(run->mt_impl, sizeof run->mt_impl, rjson_get(mt, "impl"));
    const double max_threads = whole(rjson_get(mt, "max_threads"));
    run->mt_max_threads = max_threads <= 1e6 ? (int)max_threads : 0;
    const rjson *same = rjson_get(mt, "bitwise_identical");
    run->mt_identical = same && same->type == RJSON_BOOL ? (int)same->number : -1;
    run->mt_others_cpus = rjson_number(rjson_get(mt, "other_processes_cpus"));
    const rjson *mt_results = rjson_get(mt, "results");
    for (size_t i = 0; mt_results && mt_results->type == RJSON_ARRAY && i < mt_results->count; i++) {
        const rjson *o = &mt_results->items[i];
        const double n = whole(rjson_get(o, "n")), sec = rjson_number(rjson_get(o, "sec_median"));
        const double threads = whole(rjson_get(o, "threads")), used = whole(rjson_get(o, "threads_used"));
        if (!(n >= 1) || !(sec > 0) || !(threads >= 1 && threads <= 1e6) || !(used <= 1e6)) {
            snprintf(err, err_size, "multithread result %zu has no valid \"n\", \"threads\" and \"sec_median\"", i);
            return -1;
        }
        report_result *r = report_add_mt_result(run);
        r->n = (size_t)n;
        copy_string(r->impl, sizeof r->impl, rjson_get(o, "impl"));
        copy_string(r->mode, sizeof r->mode, rjson_get(o, "mode"));
        r->threads = (unsigned)threads;
        r->threads_used = (unsigned)used;
        r->sec_median = sec;
        read_spread(o, &r->sec_min, &r->sec_max, &r->sec_q1, &r->sec_q3);
        const rjson *id = rjson_get(o, "bitwise_identical");
        r->identical = id && id->type == RJSON_BOOL ? (int)id->number : -1;
    }
    /* The sparse section: absent from files written before it. */
    const rjson *sp = rjson_get(root, "sparse");
    report_copy(run->sparse_status, sizeof run->sparse_status, sp ? rjson_string(rjson_get(sp, "status")) : "off");
    copy_string(run->sparse_impl, sizeof run->sparse_impl, rjson_get(sp, "impl"));
    run->sparse_rows = (size_t)whole(rjson_get(sp, "rows"));
    run->sparse_batch = (size_t)whole(rjson_get(sp, "batch"));
    const rjson *sp_results = rjson_get(sp, "results");
    for (size_t i = 0; sp_results && sp_results->type == RJSON_ARRAY && i < sp_results->count; i++) {
        const rjson *o = &sp_results->items[i];
        const double dim = whole(rjson_get(o, "dim")), sec = rjson_number(rjson_get(o, "sec_median"));
        if (!(dim >= 1) || !(sec > 0) || run->sparse_batch == 0) {
            snprintf(err, err_size, "sparse result %zu has no valid \"dim\" and \"sec_median\"", i);
            return -1;
        }
        report_sparse_result *r = report_add_sparse_result(run);
        r->dim = (size_t)dim;
        copy_string(r->kind, sizeof r->kind, rjson_get(o, "kind"));
        copy_string(r->dist, sizeof r->dist, rjson_get(o, "dist"));
        copy_string(r->impl, sizeof r->impl, rjson_get(o, "impl"));
        r->sec_median = sec;
        read_spread(o, &r->sec_min, &r->sec_max, &r->sec_q1, &r->sec_q3);
    }
    return 0;
}

static const report_result *find_mt(const report_run *run, size_t n, const char *mode, unsigned threads)
{
    for (size_t i = 0; i < run->mt_count; i++) {
        const report_result *r = &run->mt[i];
        if (r->n == n && r->threads == threads && strcmp(r->mode, mode) == 0)
            return r;
    }
    return NULL;
}

int report_read_json_run(const char *path, report_run *run, char *err, size_t err_size)
{
    size_t len;
    char *text = report_read_file(path, &len);
    if (!text) {
        snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    rjson root;
    char perr[160];
    int status = rjson_parse(text, len, &root, perr, sizeof perr);
    free(text);
    if (status != 0) {
        snprintf(err, err_size, "%s: invalid JSON: %s", path, perr);
        return -1;
    }
    char ferr[160];
    status = from_json(&root, run, ferr, sizeof ferr);
    rjson_free(&root);
    if (status != 0)
        snprintf(err, err_size, "%s: %s", path, ferr);
    return status;
}

static void print_cell(FILE *f, int width, const char *fmt, double v)
{
    char buf[32] = "-";
    if (!isnan(v) && !isinf(v))
        snprintf(buf, sizeof buf, fmt, v);
    fprintf(f, " %*s", width, buf);
}

int report_compare(FILE *f, const char *path_a, const char *path_b)
{
    report_run a = {0}, b = {0};
    char err[256];
    if (report_read_json_run(path_a, &a, err, sizeof err) != 0 ||
        report_read_json_run(path_b, &b, err, sizeof err) != 0) {
        fprintf(stderr, "adagrad-report: %s\n", err);
        report_run_free(&a);
        report_run_free(&b);
        return 1;
    }
    fprintf(f, "A: %s\n   %s, %s, dispatch %s, %u reps, %s clock\n", path_a, a.cpu_model, a.date, a.dispatch,
            a.reps, a.clock);
    fprintf(f, "B: %s\n   %s, %s, dispatch %s, %u reps, %s clock\n\n", path_b, b.cpu_model, b.date, b.dispatch,
            b.reps, b.clock);
    fprintf(f, "%-10s %-8s %-9s %10s %10s %7s %8s %8s\n", "n", "impl", "mode", "A G el/s", "B G el/s", "B/A",
            "A %roof", "B %roof");
    double log_sum = 0.0;
    size_t common = 0;
    for (size_t i = 0; i < a.result_count; i++) {
        const report_result *ra = &a.results[i];
        const report_result *rb = report_find(&b, ra->n, ra->impl, ra->mode);
        const double ga = report_gelem(ra), gb = report_gelem(rb), ratio = gb / ga;
        fprintf(f, "%-10zu %-8s %-9s", ra->n, ra->impl, ra->mode);
        print_cell(f, 10, "%.3f", ga);
        print_cell(f, 10, "%.3f", gb);
        print_cell(f, 7, "%.2fx", ratio);
        print_cell(f, 8, "%.1f%%", report_roofline_pct(&a, ra));
        print_cell(f, 8, "%.1f%%", rb ? report_roofline_pct(&b, rb) : NAN);
        fputc('\n', f);
        if (ratio > 0 && !isinf(ratio) && strcmp(ra->mode, "roofline") != 0) {
            log_sum += log(ratio);
            common++;
        }
    }
    for (size_t i = 0; i < b.result_count; i++) {
        const report_result *rb = &b.results[i];
        if (!report_find(&a, rb->n, rb->impl, rb->mode)) {
            fprintf(f, "%-10zu %-8s %-9s %10s", rb->n, rb->impl, rb->mode, "-");
            print_cell(f, 10, "%.3f", report_gelem(rb));
            fprintf(f, " %7s %8s", "-", "-");
            print_cell(f, 8, "%.1f%%", report_roofline_pct(&b, rb));
            fputc('\n', f);
        }
    }
    if (common > 0)
        fprintf(f, "\ngeometric mean of B/A over the %zu step rows in both runs: %.3fx\n", common,
                exp(log_sum / (double)common));
    else
        fprintf(f, "\nno step row appears in both runs\n");

    /* The multi-threaded rows (wall clock; not in the geometric mean). */
    if (a.mt_count > 0 || b.mt_count > 0) {
        fprintf(f, "\nmulti-threaded (adagrad_step_f32_mt, wall clock): A %s, B %s\n", *a.mt_impl ? a.mt_impl : "-",
                *b.mt_impl ? b.mt_impl : "-");
        fprintf(f, "%-10s %7s %-6s %10s %10s %7s %7s %7s\n", "n", "threads", "mode", "A G el/s", "B G el/s", "B/A",
                "A x1", "B x1");
        for (int pass = 0; pass < 2; pass++) {
            const report_run *run = pass ? &b : &a, *other = pass ? &a : &b;
            for (size_t i = 0; i < run->mt_count; i++) {
                const report_result *r = &run->mt[i];
                const report_result *o = find_mt(other, r->n, r->mode, r->threads);
                if (pass && o)
                    continue; /* printed with A's rows */
                const report_result *ra = pass ? o : r, *rb = pass ? r : o;
                const double ga = report_gelem(ra), gb = report_gelem(rb);
                fprintf(f, "%-10zu %7u %-6s", r->n, r->threads, r->mode);
                print_cell(f, 10, "%.3f", ga);
                print_cell(f, 10, "%.3f", gb);
                print_cell(f, 7, "%.2fx", gb / ga);
                print_cell(f, 7, "%.2fx", ra ? report_mt_speedup(&a, ra) : NAN);
                print_cell(f, 7, "%.2fx", rb ? report_mt_speedup(&b, rb) : NAN);
                fputc('\n', f);
            }
        }
    }
    /* The sparse rows (not in the geometric mean: a different workload). */
    if (a.sparse_count > 0 || b.sparse_count > 0) {
        fprintf(f, "\nsparse (touched rows/s): A %s, %zu rows, batch %zu; B %s, %zu rows, batch %zu\n",
                *a.sparse_impl ? a.sparse_impl : "-", a.sparse_rows, a.sparse_batch,
                *b.sparse_impl ? b.sparse_impl : "-", b.sparse_rows, b.sparse_batch);
        fprintf(f, "%-7s %-7s %5s %-8s %10s %10s %7s %8s %8s\n", "step", "indices", "dim", "impl", "A M row/s",
                "B M row/s", "B/A", "A %roof", "B %roof");
        for (int pass = 0; pass < 2; pass++) {
            const report_run *run = pass ? &b : &a, *other = pass ? &a : &b;
            for (size_t i = 0; i < run->sparse_count; i++) {
                const report_sparse_result *r = &run->sparse[i];
                const report_sparse_result *o = report_sparse_find(other, r->kind, r->dist, r->impl, r->dim);
                if (pass && o)
                    continue; /* printed with A's rows */
                const report_sparse_result *ra = pass ? o : r, *rb = pass ? r : o;
                const double ga = ra ? report_sparse_rows_s(&a, ra) * 1e-6 : NAN;
                const double gb = rb ? report_sparse_rows_s(&b, rb) * 1e-6 : NAN;
                fprintf(f, "%-7s %-7s %5zu %-8s", r->kind, r->dist, r->dim, r->impl);
                print_cell(f, 10, "%.2f", ga);
                print_cell(f, 10, "%.2f", gb);
                print_cell(f, 7, "%.2fx", gb / ga);
                print_cell(f, 8, "%.1f%%", ra ? report_sparse_roofline_pct(&a, ra) : NAN);
                print_cell(f, 8, "%.1f%%", rb ? report_sparse_roofline_pct(&b, rb) : NAN);
                fputc('\n', f);
            }
        }
    }
    report_run_free(&a);
    report_run_free(&b);
    return 0;
}
