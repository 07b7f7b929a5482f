/* libadagrad — adagrad-report: the types its files share.
 * SPDX-License-Identifier: MIT
 *
 *   adagrad-report.c   command line, the order of the work
 *   report_sys.c       what the machine is: CPU model, caches, default sizes
 *   report_measure.c   inputs, timing (warm-up, interleaved repetitions), ulp;
 *                      the multi-threaded section (adagrad_step_f32_mt)
 *   report_output.c    derived figures; table, JSON and CSV writers
 *   report_json.c      a small JSON reader (--compare, the torch script)
 *   report_compare.c   two JSON runs side by side
 *   report_plot.c      throughput vs size through gnuplot
 *   report_torch.c     torch.optim.Adagrad through tools/torch_compare.py
 *   report_sparse.c    the sparse section: sparse and row-wise steps on an
 *                      embedding table past the LLC, roofline, plain loop
 */
#ifndef ADAGRAD_TOOLS_REPORT_H
#define ADAGRAD_TOOLS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The memory traffic of one element of a step: read θ, s, g; write θ, s. */
#define REPORT_BYTES_PER_ELEMENT 20.0
/* Its working set (θ, s, g resident): what must fit in a cache level. */
#define REPORT_WORKING_SET_PER_ELEMENT 12.0

/* Hyper-parameters of every timed step: the default variant (no weight
 * decay, ε outside the root, minimising), with a tiny η so that many steps
 * on the same buffers stay finite (see report_measure.c). */
#define REPORT_LR 1e-3f
#define REPORT_EPS 1e-10f

/* ---- The machine (report_sys.c) ---- */
typedef struct report_caches {
    long l1d, l2, l3;   /* bytes; 0 when unknown */
    const char *source; /* "sysfs", "sysconf", "fallback", or a mix */
} report_caches;

void report_cpu_model(char *buf, size_t size);
void report_detect_caches(report_caches *c);
/* Default sizes, one per level (L1, L2, L3, DRAM); returns how many (≤ 4). */
size_t report_default_sizes(const report_caches *c, size_t sizes[4]);
/* CPU seconds all CPUs have spent busy since boot (/proc/stat), -1 when
 * unknown; and how many CPUs are online (0 when unknown). */
double report_busy_cpu_seconds(void);
int report_online_cpus(void);
/* "L1", "L2", "L3" or "DRAM": the smallest level the working set fits in. */
const char *report_level(const report_caches *c, size_t n);

/* ---- Results ---- */
typedef struct report_result {
    char impl[32];  /* kernel-table name, or "torch" */
    char mode[16];  /* "exact", "fast", "roofline"; torch: "single", "foreach" */
    size_t n;
    double sec_median, sec_min, sec_max, sec_q1, sec_q3; /* seconds per call */
    double ulp_max; /* worst θ error in ulp (docs/design.md's metric); NaN: not measured */
    /* Multi-threaded rows only (report_run.mt); 0 in the others. */
    unsigned threads;      /* the thread count asked of adagrad_step_f32_mt */
    unsigned threads_used; /* what it can use at n (ADAGRAD_MT_MIN_ELEMENTS per thread) */
    int identical;         /* after one step, the bits of one adagrad_step_f32 call: 1 yes, 0 no, -1 unknown */
} report_result;

typedef struct report_impl_status {
    char name[32];
    bool available;
    char reason[96]; /* why not, when not */
} report_impl_status;

/* One run, as measured or as read back from --json output. */
typedef struct report_run {
    char date[32];
    char library_version[16];
    char cpu_model[128];
    char cpu_features[96]; /* space-separated: the SIMD rows of this build whose CPU features the CPU and OS have */
    report_caches caches;
    char dispatch[32];
    char dispatch_note[96];
    report_impl_status impls[8];
    size_t impl_count;
    unsigned reps;
    double batch_ms;
    uint64_t seed;
    char clock[16];         /* "thread-cpu" or "wall" */
    char torch_status[16];  /* "off", "ok", "skipped" */
    char torch_note[320];
    report_result *results;
    size_t result_count, result_cap;
    /* The multi-threaded section: adagrad_step_f32_mt with the dispatched
     * implementation, wall clock, at the run's DRAM size(s). */
    char mt_status[16];     /* "off" (--threads 0, or an older file), "ok" */
    char mt_impl[32];       /* the implementation it ran (dispatch) */
    int mt_max_threads;     /* adagrad_max_threads() */
    bool mt_openmp;         /* the library was built with OpenMP */
    int mt_identical;       /* every row's check: 1 yes, 0 no, -1 not checked */
    int mt_online_cpus;     /* 0: unknown */
    double mt_others_cpus;  /* CPUs other processes kept busy during the section, on average; NaN: unknown */
    char mt_env[128];       /* OMP_NUM_THREADS, OMP_WAIT_POLICY, ... as set; "" when none */
    report_result *mt;      /* ordered by n, mode (exact, fast), threads */
    size_t mt_count, mt_cap;
    /* The sparse section (report_sparse.c): sparse and row-wise EXACT steps
     * on an embedding table, dispatched implementation and scalar. */
    char sparse_status[16];     /* "off" (--sparse none, or an older file), "ok" */
    char sparse_impl[32];       /* the implementation dispatch picked */
    size_t sparse_rows, sparse_batch;
    size_t sparse_prefetch;     /* the library's prefetch setting (ADAGRAD_PREFETCH_AUTO: auto) */
    int sparse_identical;       /* the plain loop gives the library's bits: 1 yes, 0 no, -1 not checked */
    struct report_sparse_result *sparse;
    size_t sparse_count, sparse_cap;
} report_run;

/* One row of the sparse section. */
typedef struct report_sparse_result {
    char kind[8];  /* "sparse" (adagrad_sparse_step_f32) or "rowwise" (adagrad_rowwise_step_f32), EXACT */
    char dist[8];  /* "uniform" or "zipf" (s = 1.05) */
    char impl[32]; /* kernel-table name; "loop": the report's plain C loop; "roofline": no math */
    size_t dim;
    double sec_median, sec_min, sec_max, sec_q1, sec_q3; /* seconds per step of sparse_batch indices */
} report_sparse_result;

/* Useful bytes per touched row: table row and accumulator row read and
 * written plus the gradient row read, 20·dim (sparse); table row read and
 * written, gradient row read, one accumulator float read and written,
 * 12·dim + 8 (row-wise). The indices are not counted. */
double report_sparse_bytes_per_row(const char *kind, size_t dim);
report_sparse_result *report_add_sparse_result(report_run *run);
const report_sparse_result *report_sparse_find(const report_run *run, const char *kind, const char *dist,
                                               const char *impl, size_t dim);
double report_sparse_rows_s(const report_run *run, const report_sparse_result *r); /* touched rows / s */
double report_sparse_gbps(const report_run *run, const report_sparse_result *r);
double report_sparse_roofline_pct(const report_run *run, const report_sparse_result *r);
double report_sparse_vs_loop(const report_run *run, const report_sparse_result *r);

/* Appends a zeroed result; exits on out-of-memory. */
report_result *report_add_result(report_run *run);
report_result *report_add_mt_result(report_run *run); /* the same, to run->mt */
const report_result *report_find(const report_run *run, size_t n, const char *impl, const char *mode);
void report_run_free(report_run *run);
/* Stable sort by n: the table groups rows by size, torch rows come last. */
void report_sort_results(report_run *run);

/* ---- Derived figures (report_output.c); NaN when not available ---- */
double report_gelem(const report_result *r);            /* 1e9 elements / s */
double report_gbps(const report_result *r);             /* GB/s at 20 bytes/element */
double report_roofline_gelem(const report_run *run, size_t n, const char **which);
double report_speedup(const report_run *run, const report_result *r); /* over scalar, same mode */
double report_roofline_pct(const report_run *run, const report_result *r);
double report_vs_torch(const report_run *run, const report_result *r, const char *torch_mode);
/* Multi-threaded rows: over the 1-thread row of the same n and mode (NaN
 * when 1 thread was not timed), and % of the single-thread roofline at n. */
double report_mt_speedup(const report_run *run, const report_result *r);
double report_mt_roofline_pct(const report_run *run, const report_result *r);

void report_print_table(FILE *f, const report_run *run);
void report_print_json(FILE *f, const report_run *run);
void report_print_csv(FILE *f, const report_run *run);
void report_json_string(FILE *f, const char *s);

/* ---- Measurement (report_measure.c) ---- */
/* A progress message; detail messages (each repetition) are for terminals. */
typedef void (*report_progress_fn)(void *ctx, const char *what, bool detail);

typedef struct report_config {
    const size_t *sizes;
    size_t size_count;
    unsigned reps;
    double batch_ms;
    uint64_t seed;
    bool cpu_clock; /* time batches with the thread's CPU clock, not the wall clock */
    const unsigned *threads; /* thread counts of the multi-threaded section; none: skip it */
    size_t thread_count;
    report_progress_fn progress;
    void *progress_ctx;
} report_config;

struct adagrad_kernels;
typedef struct report_rows {
    const struct adagrad_kernels *step[16];     /* rows whose EXACT and FAST steps are timed */
    size_t step_count;
    const struct adagrad_kernels *roofline[16]; /* rows whose traffic loops are timed */
    size_t roofline_count;
} report_rows;
/* Measures the rows at every size into run. Returns 0, or -1 (message
 * printed) when memory runs out. */
int report_measure(report_run *run, const report_rows *rows, const report_config *cfg);
/* The sizes the multi-threaded section runs at: those whose working set is
 * at least 4x the L3 (DRAM), or else the largest. Returns how many. */
size_t report_mt_sizes(const report_run *run, const report_config *cfg, size_t *out);
/* Times adagrad_step_f32_mt (dispatched implementation, EXACT and FAST, each
 * of cfg->threads, wall clock) and checks its bits against one call. Fills
 * run->mt*. Returns 0, or -1 (message printed) when memory runs out. */
int report_measure_threads(report_run *run, const report_config *cfg);
/* The measurement method of report_measure for any set of kernels (the
 * sparse section): fn(ctx, k, iters) runs kernel k iters times. Calibration
 * (the warm-up) and interleaved repetitions as above, with cfg's clock,
 * batch_ms and reps; samples[k * reps + r] gets seconds per call. */
typedef void (*report_batch_fn)(void *ctx, size_t kernel, size_t iters);
void report_time_interleaved(report_batch_fn fn, void *ctx, size_t count, const report_config *cfg,
                             const char *label, double *samples);
/* Sorts samples[0..n) and gives median, min, max, q1, q3 in stats. */
void report_summarize(double *samples, size_t n, double stats[5]);
/* The sparse section's shape (--sparse, --sparse-rows, --sparse-dims,
 * --sparse-batch). */
typedef struct report_sparse_config {
    bool enabled;
    size_t rows, batch;
    const size_t *dims;
    size_t dim_count;
} report_sparse_config;
/* Times the sparse section and fills run->sparse*. Returns 0, or -1
 * (message printed) when memory runs out. */
int report_measure_sparse(report_run *run, const report_config *cfg, const report_sparse_config *sc);

/* ---- A small JSON reader (report_json.c) ---- */
typedef enum { RJSON_NULL, RJSON_BOOL, RJSON_NUMBER, RJSON_STRING, RJSON_ARRAY, RJSON_OBJECT } rjson_type;
typedef struct rjson {
    rjson_type type;
    double number;       /* RJSON_NUMBER; RJSON_BOOL: 0 or 1 */
    char *string;        /* RJSON_STRING */
    struct rjson *items; /* RJSON_ARRAY, RJSON_OBJECT: count values */
    char **keys;         /* RJSON_OBJECT: count keys */
    size_t count;
} rjson;
/* Parses text[0..len) into *out. Returns 0, or -1 with a message in err. */
int rjson_parse(const char *text, size_t len, rjson *out, char *err, size_t err_size);
void rjson_free(rjson *v);
const rjson *rjson_get(const rjson *object, const char *key); /* NULL: no such key */
double rjson_number(const rjson *v);                           /* NaN unless a number */
const char *rjson_string(const rjson *v);                      /* "" unless a string */
/* The whole file, NUL-terminated (free it); NULL with errno set on failure. */
char *report_read_file(const char *path, size_t *len);

/* ---- Reading runs back (report_compare.c) ---- */
/* Reads a file written by --json. Returns 0, or -1 with a message in err. */
int report_read_json_run(const char *path, report_run *run, char *err, size_t err_size);
int report_compare(FILE *f, const char *path_a, const char *path_b);

/* ---- Plot (report_plot.c) ---- */
/* The gnuplot executable on PATH, or NULL. */
const char *report_find_gnuplot(void);
int report_plot(const report_run *run, const char *png_path);

/* ---- torch (report_torch.c) ---- */
#define REPORT_PYTHON "/usr/bin/python3"
/* Runs tools/torch_compare.py on the run's sizes; fills run->torch_status /
 * torch_note and adds "torch" results. script may be NULL (search). */
void report_run_torch(report_run *run, const char *script, const report_config *cfg, unsigned threads,
                      bool quiet);

/* ---- Small helpers shared by the files ---- */
void report_copy(char *dst, size_t size, const char *src); /* truncating, always terminated */
double report_now(void);                                    /* monotonic seconds */
double report_thread_cpu(void);                             /* this thread's CPU seconds */
/* src as one POSIX shell word ('…', quotes escaped); -1 when it does not fit. */
int report_shell_quote(char *dst, size_t size, const char *src);

#endif /* ADAGRAD_TOOLS_REPORT_H */
