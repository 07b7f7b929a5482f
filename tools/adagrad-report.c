/* libadagrad — adagrad-report: how fast and how accurate is each
 * implementation on this machine, and how close to the hardware limit?
 * SPDX-License-Identifier: MIT
 *
 * This file: the command line and the order of the work. The measurement
 * method is described in report_measure.c, the figures in report_output.c;
 * report.h lists every file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "report.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fputs("Usage: adagrad-report [OPTIONS]\n"
          "       adagrad-report --compare A.json B.json\n"
          "\n"
          "How fast and how accurate is each libadagrad implementation on this machine, and\n"
          "how close to the hardware limit? Every implementation the CPU supports is timed in\n"
          "EXACT and FAST mode at one size per cache level (L1, L2, L3) and one in DRAM, next\n"
          "to the memory roofline (a loop with a step's memory traffic and only an xor), and\n"
          "its worst error against the double-precision formula is measured on the same data.\n"
          "\n"
          "Options:\n"
          "  --sizes LIST        element counts, comma-separated: 4096,65536,2^20 (default: from\n"
          "                      the cache sizes the machine reports, plus one size in DRAM)\n"
          "  --impl LIST         time the steps of these implementations only, e.g. scalar,avx2\n"
          "                      (the roofline loops of all of them are timed anyway); test-only\n"
          "                      ones (neon-simde on x86) are timed only when named here\n"
          "  --reps N            timed repetitions per kernel, interleaved (default 9)\n"
          "  --batch-ms MS       minimum duration of one timed batch of calls (default 10)\n"
          "  --seed N            seed of the random inputs (default 1)\n"
          "  --clock cpu|wall    time with this thread's CPU clock (default: robust when other\n"
          "                      processes share the cores) or with the wall clock\n"
          "  --threads LIST      thread counts of the multi-threaded section, e.g. 1,2,4 (default:\n"
          "                      1, 2, 4, ... up to adagrad_max_threads(), and that number itself);\n"
          "                      0 or none: skip it. Include 1 for the speed-up column\n"
          "  --sparse on|none    the sparse section (default on); none: skip it\n"
          "  --sparse-rows N     rows of its embedding table (default 2^20)\n"
          "  --sparse-dims LIST  its row widths, e.g. 16,64,128 (the default)\n"
          "  --sparse-batch N    indices per step (default 16384)\n"
          "  --json, --csv       machine-readable output instead of the table\n"
          "  -o, --output FILE   write the table, JSON or CSV to FILE instead of stdout\n"
          "  --plot FILE.png     also draw throughput against size, with the roofline (gnuplot)\n"
          "  --torch             also time torch.optim.Adagrad.step() (foreach=False and True)\n"
          "                      through tools/torch_compare.py and /usr/bin/python3\n"
          "  --torch-threads N   torch.set_num_threads for that comparison (default 1)\n"
          "  --torch-script FILE the torch_compare.py to run\n"
          "  --compare A B       print two --json runs side by side (ratios B/A); measures nothing\n"
          "  -q, --quiet         no progress messages on stderr\n"
          "  -h, --help          this text\n"
          "      --version       the library version\n"
          "\n"
          "Figures: G elem/s and GB/s (20 bytes per element: read theta, sum, grad; write theta,\n"
          "sum) of the median repetition, its spread (slowest/fastest repetition), the speed-up\n"
          "over scalar, the percentage of the roofline at that size, and the worst theta error\n"
          "in ulp of max(|theta_old|, |update|) after one step (docs/design.md's metric).\n"
          "ADAGRAD_ISA in the environment changes what dispatch picks (shown), not what is timed.\n"
          "\n"
          "Multi-threaded section: adagrad_step_f32_mt with the implementation dispatch picked,\n"
          "EXACT and FAST, at the sizes in DRAM (working set >= 4x L3; if none, the largest size),\n"
          "on each thread count, timed with the WALL clock (a thread's CPU clock would count only\n"
          "the calling thread's share); speed-up over 1 thread and % of the single-thread roofline.\n"
          "It also checks that one multi-threaded step leaves theta and sum with exactly the bits\n"
          "of one adagrad_step_f32 call (\"bitwise identical to one call: yes/no\"; no: exit 1).\n"
          "OMP_NUM_THREADS sets adagrad_max_threads(). In --csv those rows have mode exact-mt and\n"
          "fast-mt; in --json they are under \"multithread\".\n"
          "\n"
          "Sparse section: adagrad_sparse_step_f32 and adagrad_rowwise_step_f32, EXACT, with the\n"
          "implementation dispatch picked and scalar, on a table of --sparse-rows x dim floats (past\n"
          "the LLC by default), uniform and Zipf(1.05) indices: touched rows/s, GB/s (20*dim bytes per\n"
          "row for sparse: table and accumulator rows read and written, gradient row read; 12*dim+8\n"
          "for row-wise: one accumulator float), % of the roofline (the same access pattern and\n"
          "prefetch with no math, same run) and the speed-up over a plain C loop applying the\n"
          "contract per element (checked to give the library's bits; no: exit 1). In --json it is\n"
          "under \"sparse\"; in --csv its rows have mode sparse-exact, rowwise-exact, sparse-roofline,\n"
          "rowwise-roofline and the columns dim, dist, rows_s, table_rows, batch, speedup_vs_loop.\n"
          "\n"
          "Exit status: 0 success, 1 failure at run time (or a multi-threaded step that is not\n"
          "bitwise identical to one call, or a plain sparse loop that does not give the library's\n"
          "bits), 2 bad arguments.\n",
          f);
}

static int bad_usage(const char *fmt, const char *arg)
{
    fputs("adagrad-report: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(try adagrad-report --help)\n", stderr);
    return EXIT_USAGE;
}

/* Decimal or 2^k; 1 ≤ n ≤ 2^31 (the report's five buffers then take 40 GiB). */
static int parse_size(const char *text, const char *end, size_t *out)
{
    char buf[32];
    const size_t len = (size_t)(end - text);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    const int power = buf[0] == '2' && buf[1] == '^';
    const char *digits = power ? buf + 2 : buf;
    if (*digits < '0' || *digits > '9')
        return -1;
    char *stop;
    errno = 0;
    const unsigned long long v = strtoull(digits, &stop, 10);
    if (*stop || errno)
        return -1;
    const unsigned long long n = power ? (v <= 31 ? 1ULL << v : 0) : v;
    if (n < 1 || n > (1ULL << 31))
        return -1;
    *out = (size_t)n;
    return 0;
}

static int parse_sizes(const char *list, size_t **sizes, size_t *count)
{
    *count = 0;
    *sizes = malloc((strlen(list) / 2 + 1) * sizeof **sizes);
    if (!*sizes)
        return -1;
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        if (parse_size(p, end, &(*sizes)[*count]) != 0)
            return -1;
        (*count)++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* --threads: 0 or none (skip), or a list of counts from 1 to 1024, kept
 * sorted and without repeats. */
static int parse_threads(const char *list, unsigned *threads, size_t *count)
{
    *count = 0;
    if (strcmp(list, "0") == 0 || strcmp(list, "none") == 0)
        return 0;
    for (const char *p = list;;) {
        char *end;
        if (*p < '0' || *p > '9')
            return -1;
        errno = 0;
        const unsigned long v = strtoul(p, &end, 10);
        if (errno || v < 1 || v > 1024 || (*end != ',' && *end != '\0'))
            return -1;
        size_t at = 0;
        while (at < *count && threads[at] < v)
            at++;
        if (at == *count || threads[at] != v) {
            if (*count == 64)
                return -1;
            memmove(threads + at + 1, threads + at, (*count - at) * sizeof *threads);
            threads[at] = (unsigned)v;
            (*count)++;
        }
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

/* The default: 1, 2, 4, ... up to max, and max itself. */
static size_t default_threads(unsigned *threads)
{
    const int max_threads = adagrad_max_threads();
    const unsigned max = max_threads < 1 ? 1 : max_threads > 1024 ? 1024 : (unsigned)max_threads;
    size_t count = 0;
    for (unsigned t = 1; t < max; t *= 2)
        threads[count++] = t;
    threads[count++] = max;
    return count;
}

static int parse_uint(const char *text, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (*text < '0' || *text > '9')
        return -1;
    const unsigned long long v = strtoull(text, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

typedef struct options {
    size_t *sizes;
    size_t size_count;
    const char *impl_list;
    unsigned reps;
    double batch_ms;
    unsigned long long seed;
    int wall_clock;
    int json, csv, quiet, torch;
    unsigned torch_threads;
    unsigned threads[64];
    size_t thread_count;
    int threads_given;
    int sparse_off;
    size_t sparse_rows, sparse_batch;
    size_t sparse_dims[64];
    size_t sparse_dim_count;
    const char *torch_script, *output, *plot, *compare_a, *compare_b;
    int measuring_option; /* an option that only makes sense with a measurement */
} options;

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        char name[32];
        /* --name=value and --name value are both accepted. */
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        if (eq && (size_t)(eq - arg) < sizeof name) {
            memcpy(name, arg, (size_t)(eq - arg));
            name[eq - arg] = '\0';
            value = eq + 1;
            arg = name;
        }
#define TAKES_VALUE()                                                               \
    do {                                                                            \
        if (!value) {                                                               \
            if (i + 1 >= argc)                                                      \
                return bad_usage("option %s needs a value", arg);                   \
            value = argv[++i];                                                      \
        }                                                                           \
    } while (0)
#define NO_VALUE()                                                                  \
    do {                                                                            \
        if (value)                                                                  \
            return bad_usage("option %s takes no value", arg);                      \
    } while (0)
        unsigned long long v;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            printf("adagrad-report (libadagrad) %d.%d.%d\n", ADAGRAD_VERSION_MAJOR, ADAGRAD_VERSION_MINOR,
                   ADAGRAD_VERSION_PATCH);
            return 0;
        } else if (strcmp(arg, "--sizes") == 0) {
            TAKES_VALUE();
            free(o->sizes);
            if (parse_sizes(value, &o->sizes, &o->size_count) != 0)
                return bad_usage("--sizes: '%s' is not a list of element counts from 1 to 2^31 "
                                 "(e.g. 4096,65536,2^20)", value);
            o->measuring_option = 1;
        } else if (strcmp(arg, "--impl") == 0) {
            TAKES_VALUE();
            o->impl_list = value;
            o->measuring_option = 1;
        } else if (strcmp(arg, "--reps") == 0) {
            TAKES_VALUE();
            if (parse_uint(value, 1, 1000, &v) != 0)
                return bad_usage("--reps: '%s' is not a whole number from 1 to 1000", value);
            o->reps = (unsigned)v;
            o->measuring_option = 1;
        } else if (strcmp(arg, "--batch-ms") == 0) {
            TAKES_VALUE();
            char *end;
            errno = 0;
            o->batch_ms = strtod(value, &end);
            if (end == value || *end || errno || !(o->batch_ms >= 0.01 && o->batch_ms <= 10000))
                return bad_usage("--batch-ms: '%s' is not a duration from 0.01 to 10000 ms", value);
            o->measuring_option = 1;
        } else if (strcmp(arg, "--seed") == 0) {
            TAKES_VALUE();
            if (parse_uint(value, 0, UINT64_MAX, &o->seed) != 0)
                return bad_usage("--seed: '%s' is not a non-negative whole number", value);
            o->measuring_option = 1;
        } else if (strcmp(arg, "--clock") == 0) {
            TAKES_VALUE();
            if (strcmp(value, "cpu") != 0 && strcmp(value, "wall") != 0)
                return bad_usage("--clock: '%s' is neither cpu nor wall", value);
            o->wall_clock = strcmp(value, "wall") == 0;
            o->measuring_option = 1;
        } else if (strcmp(arg, "--threads") == 0) {
            TAKES_VALUE();
            if (parse_threads(value, o->threads, &o->thread_count) != 0)
                return bad_usage("--threads: '%s' is neither 0, none, nor a list of up to 64 thread counts "
                                 "from 1 to 1024 (e.g. 1,2,4)", value);
            o->threads_given = 1;
            o->measuring_option = 1;
        } else if (strcmp(arg, "--sparse") == 0) {
            TAKES_VALUE();
            if (strcmp(value, "on") == 0)
                o->sparse_off = 0;
            else if (strcmp(value, "none") == 0 || strcmp(value, "off") == 0 || strcmp(value, "0") == 0)
                o->sparse_off = 1;
            else
                return bad_usage("--sparse: '%s' is neither on nor none", value);
            o->measuring_option = 1;
        } else if (strcmp(arg, "--sparse-rows") == 0) {
            TAKES_VALUE();
            if (parse_size(value, value + strlen(value), &o->sparse_rows) != 0)
                return bad_usage("--sparse-rows: '%s' is not a row count from 1 to 2^31 (e.g. 2^20)", value);
            o->measuring_option = 1;
        } else if (strcmp(arg, "--sparse-batch") == 0) {
            TAKES_VALUE();
            if (parse_size(value, value + strlen(value), &o->sparse_batch) != 0 || o->sparse_batch > (1u << 24))
                return bad_usage("--sparse-batch: '%s' is not an index count from 1 to 2^24", value);
            o->measuring_option = 1;
        } else if (strcmp(arg, "--sparse-dims") == 0) {
            TAKES_VALUE();
            o->sparse_dim_count = 0;
            for (const char *p = value;;) {
                const char *comma = strchr(p, ',');
                const char *end = comma ? comma : p + strlen(p);
                size_t dim;
                if (o->sparse_dim_count == 64 || parse_size(p, end, &dim) != 0 || dim > 65536)
                    return bad_usage("--sparse-dims: '%s' is not a list of up to 64 row widths from 1 to 65536 "
                                     "(e.g. 16,64,128)", value);
                o->sparse_dims[o->sparse_dim_count++] = dim;
                if (!comma)
                    break;
                p = comma + 1;
            }
            o->measuring_option = 1;
        } else if (strcmp(arg, "--json") == 0) {
            NO_VALUE();
            o->json = 1;
        } else if (strcmp(arg, "--csv") == 0) {
            NO_VALUE();
            o->csv = 1;
        } else if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
            TAKES_VALUE();
            o->output = value;
        } else if (strcmp(arg, "--plot") == 0) {
            TAKES_VALUE();
            o->plot = value;
            o->measuring_option = 1;
        } else if (strcmp(arg, "--torch") == 0) {
            NO_VALUE();
            o->torch = 1;
            o->measuring_option = 1;
        } else if (strcmp(arg, "--torch-threads") == 0) {
            TAKES_VALUE();
            if (parse_uint(value, 1, 1024, &v) != 0)
                return bad_usage("--torch-threads: '%s' is not a whole number from 1 to 1024", value);
            o->torch_threads = (unsigned)v;
            o->measuring_option = 1;
        } else if (strcmp(arg, "--torch-script") == 0) {
            TAKES_VALUE();
            o->torch_script = value;
            o->measuring_option = 1;
        } else if (strcmp(arg, "--compare") == 0) {
            NO_VALUE();
            if (i + 2 >= argc)
                return bad_usage("%s needs two files: --compare A.json B.json", arg);
            o->compare_a = argv[++i];
            o->compare_b = argv[++i];
        } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            NO_VALUE();
            o->quiet = 1;
        } else {
            return bad_usage(arg[0] == '-' ? "unknown option %s" : "unexpected argument '%s'", argv[i]);
        }
#undef TAKES_VALUE
#undef NO_VALUE
    }
    if (o->json && o->csv)
        return bad_usage("%s", "--json and --csv exclude each other");
    if (o->compare_a && (o->measuring_option || o->json || o->csv))
        return bad_usage("%s", "--compare reads two runs and measures nothing: it takes no other option but -o");
    return -1;
}

/* ---- Progress on stderr, once the run has lasted a second ---- */

typedef struct progress_state {
    double start;
    int tty, shown;
} progress_state;

static void show_progress(void *ctx, const char *what, bool detail)
{
    progress_state *p = ctx;
    if (report_now() - p->start < 1.0 || (detail && !p->tty))
        return;
    if (p->tty)
        fprintf(stderr, "\radagrad-report: %s\033[K", what);
    else
        fprintf(stderr, "adagrad-report: %s\n", what);
    p->shown = 1;
}

static void end_progress(progress_state *p)
{
    if (p->tty && p->shown)
        fputs("\r\033[K", stderr);
}

/* ---- What the machine and the library are ---- */

static void describe(report_run *run)
{
    const time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(run->date, sizeof run->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(run->library_version, sizeof run->library_version, "%d.%d.%d", ADAGRAD_VERSION_MAJOR,
             ADAGRAD_VERSION_MINOR, ADAGRAD_VERSION_PATCH);
    report_cpu_model(run->cpu_model, sizeof run->cpu_model);
    report_detect_caches(&run->caches);

    /* The CPU features, named after the library's rows that need them:
     * the SIMD ISAs this CPU and OS run. */
    for (size_t i = 0; i < adagrad_impl_count(); i++) {
        const adagrad_kernels *k = adagrad_impl(i);
        if (k->cpu_required && adagrad_row_runnable(k, NULL)) {
            const size_t used = strlen(run->cpu_features);
            snprintf(run->cpu_features + used, sizeof run->cpu_features - used, "%s%s", used ? " " : "", k->name);
        }
    }

    /* Every ISA the API knows: compiled in or not, runnable or not. */
    for (int isa = 0; isa < ADAGRAD_ISA_COUNT && run->impl_count < 8; isa++) {
        report_impl_status *s = &run->impls[run->impl_count++];
        report_copy(s->name, sizeof s->name, adagrad_isa_name((adagrad_isa)isa));
        const adagrad_kernels *k = NULL;
        for (size_t i = 0; i < adagrad_impl_count(); i++)
            if (adagrad_impl(i)->isa == (adagrad_isa)isa)
                k = adagrad_impl(i);
        const char *why_not = "not compiled into this build";
        s->available = k && adagrad_row_runnable(k, &why_not);
        if (!s->available)
            report_copy(s->reason, sizeof s->reason, why_not);
    }

    report_copy(run->dispatch, sizeof run->dispatch, adagrad_isa_name(adagrad_active_isa()));
    const char *forced = getenv("ADAGRAD_ISA");
    if (forced && *forced && strcmp(forced, run->dispatch) == 0)
        snprintf(run->dispatch_note, sizeof run->dispatch_note, "forced by ADAGRAD_ISA=%.40s", forced);
    else if (forced && *forced)
        snprintf(run->dispatch_note, sizeof run->dispatch_note, "best available; ADAGRAD_ISA=%.40s was refused",
                 forced);
    else
        report_copy(run->dispatch_note, sizeof run->dispatch_note, "best available");
    report_copy(run->torch_status, sizeof run->torch_status, "off");
}

static int named_in(const char *list, const char *name)
{
    const size_t len = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
            return 1;
    return 0;
}

/* The rows to time: every runnable library row's steps, or those --impl
 * names (test-only rows only so); the roofline loops of every runnable
 * library row in any case, so %roof means the same in every run. */
static int select_rows(const char *list, report_rows *rows)
{
    rows->step_count = rows->roofline_count = 0;
    for (size_t i = 0; i < adagrad_row_count(); i++) {
        const adagrad_kernels *k = adagrad_row(i);
        if (!adagrad_row_runnable(k, NULL))
            continue;
        if (!k->test_only && rows->roofline_count < 16)
            rows->roofline[rows->roofline_count++] = k;
        if ((list ? named_in(list, k->name) : !k->test_only) && rows->step_count < 16)
            rows->step[rows->step_count++] = k;
    }
    if (!list)
        return 0;
    /* Every name in the list must be an available row. */
    char name[64];
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        const size_t len = comma ? (size_t)(comma - p) : strlen(p);
        snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), p);
        int found = 0;
        for (size_t i = 0; i < rows->step_count; i++)
            found |= strcmp(rows->step[i]->name, name) == 0;
        if (!found) {
            const char *why_not = "not an implementation of this build", *why;
            for (size_t i = 0; i < adagrad_row_count(); i++)
                if (strcmp(adagrad_row(i)->name, name) == 0 && !adagrad_row_runnable(adagrad_row(i), &why))
                    why_not = why;
            fprintf(stderr, "adagrad-report: --impl: '%s' is not available: %s\n", name, why_not);
            return -1;
        }
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int main(int argc, char **argv)
{
    options o = {.reps = 9, .batch_ms = 10.0, .seed = 1, .torch_threads = 1, .sparse_rows = (size_t)1 << 20,
                 .sparse_batch = 16384, .sparse_dims = {16, 64, 128}, .sparse_dim_count = 3};
    const int parsed = parse_args(argc, argv, &o);
    if (parsed >= 0) {
        free(o.sizes);
        return parsed;
    }

    FILE *out = stdout;
    if (o.output && !(out = fopen(o.output, "w"))) {
        fprintf(stderr, "adagrad-report: cannot write %s: %s\n", o.output, strerror(errno));
        free(o.sizes);
        return 1;
    }
    if (o.compare_a) {
        const int status = report_compare(out, o.compare_a, o.compare_b);
        if (out != stdout)
            fclose(out);
        return status;
    }

    /* Fail before a minute of measuring, not after. */
    if (o.plot && !report_find_gnuplot()) {
        fprintf(stderr, "adagrad-report: --plot needs gnuplot on PATH (Debian: apt-get install gnuplot-nox)\n");
        free(o.sizes);
        return 1;
    }

    report_run run = {0};
    describe(&run);
    report_rows rows;
    if (select_rows(o.impl_list, &rows) != 0) {
        free(o.sizes);
        return EXIT_USAGE;
    }
    size_t default_sizes[4];
    if (!o.sizes) {
        o.size_count = report_default_sizes(&run.caches, default_sizes);
        o.sizes = malloc(sizeof default_sizes);
        if (!o.sizes)
            return 1;
        memcpy(o.sizes, default_sizes, sizeof default_sizes);
    }
    run.reps = o.reps;
    run.batch_ms = o.batch_ms;
    run.seed = o.seed;
    report_copy(run.clock, sizeof run.clock, o.wall_clock ? "wall" : "thread-cpu");

    if (!o.threads_given)
        o.thread_count = default_threads(o.threads);

    progress_state prog = {report_now(), isatty(STDERR_FILENO), 0};
    const report_config cfg = {o.sizes,      o.size_count, o.reps,           o.batch_ms,
                               o.seed,       !o.wall_clock, o.threads,       o.thread_count,
                               o.quiet ? NULL : show_progress, &prog};
    int status = report_measure(&run, &rows, &cfg) == 0 ? 0 : 1;
    if (status == 0)
        status = report_measure_threads(&run, &cfg) == 0 ? 0 : 1;
    const report_sparse_config sparse = {!o.sparse_off, o.sparse_rows, o.sparse_batch, o.sparse_dims,
                                         o.sparse_dim_count};
    if (status == 0)
        status = report_measure_sparse(&run, &cfg, &sparse) == 0 ? 0 : 1;
    if (status == 0 && o.torch) {
        if (!o.quiet)
            show_progress(&prog, "torch.optim.Adagrad (tools/torch_compare.py)", false);
        report_run_torch(&run, o.torch_script, &cfg, o.torch_threads, o.quiet);
        report_sort_results(&run);
    }
    end_progress(&prog);

    if (status == 0) {
        if (o.json)
            report_print_json(out, &run);
        else if (o.csv)
            report_print_csv(out, &run);
        else
            report_print_table(out, &run);
        if (fflush(out) != 0 || ferror(out)) {
            fprintf(stderr, "adagrad-report: write error: %s\n", strerror(errno));
            status = 1;
        }
    }
    if (status == 0 && o.plot)
        status = report_plot(&run, o.plot);
    if (status == 0 && run.mt_identical == 0) {
        fprintf(stderr, "adagrad-report: adagrad_step_f32_mt did NOT give the bits of one adagrad_step_f32 call\n");
        status = 1;
    }
    if (status == 0 && run.sparse_identical == 0) {
        fprintf(stderr, "adagrad-report: the plain sparse loop did NOT give the library's bits\n");
        status = 1;
    }
    if (out != stdout)
        fclose(out);
    report_run_free(&run);
    free(o.sizes);
    return status;
}
