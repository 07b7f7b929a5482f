/* libadagrad — adagrad-report --plot: throughput against size, one line per
 * implementation and mode, with the memory roofline, drawn by gnuplot.
 * SPDX-License-Identifier: MIT
 *
 * gnuplot is looked up on PATH at run time (Debian: gnuplot-nox); without
 * it --plot fails before any measurement with a message naming the package.
 * The data go to gnuplot inline (datablocks), so no temporary file is made.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adagrad.h"
#include "report.h"

const char *report_find_gnuplot(void)
{
    static char found[4096];
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        const size_t len = colon ? (size_t)(colon - path) : strlen(path);
        if (len > 0 && len + sizeof "/gnuplot" < sizeof found) {
            memcpy(found, path, len);
            memcpy(found + len, "/gnuplot", sizeof "/gnuplot");
            if (access(found, X_OK) == 0)
                return found;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return NULL;
}

/* A gnuplot single-quoted string: '' stands for one quote, nothing else is special. */
static void gp_string(FILE *gp, const char *s)
{
    fputc('\'', gp);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', gp);
        if (*s != '\n')
            fputc(*s, gp);
    }
    fputc('\'', gp);
}

/* Distinct (impl, mode) series of the run in first-seen order, roofline rows excluded. */
static size_t list_series(const report_run *run, const report_result **series, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < run->result_count && count < max; i++) {
        const report_result *r = &run->results[i];
        if (strcmp(r->mode, "roofline") == 0)
            continue;
        size_t j = 0;
        while (j < count && !(strcmp(series[j]->impl, r->impl) == 0 && strcmp(series[j]->mode, r->mode) == 0))
            j++;
        if (j == count)
            series[count++] = r;
    }
    return count;
}

/* Sizes of the run, ascending and distinct. */
static size_t list_sizes(const report_run *run, size_t *sizes, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < run->result_count; i++) {
        const size_t n = run->results[i].n;
        size_t j = 0;
        while (j < count && sizes[j] != n)
            j++;
        if (j == count && count < max) {
            size_t k = count++;
            while (k > 0 && sizes[k - 1] > n) {
                sizes[k] = sizes[k - 1];
                k--;
            }
            sizes[k] = n;
        }
    }
    return count;
}

/* One colour per ISA, indexed by its adagrad_isa value, so a row's colour
 * follows from its name without a list of names here: a new ISA takes the
 * next spare colour, and the assertion asks for more when none is left.
 * torch and any other name have colours outside that palette. */
static const char *color_of(const char *impl)
{
    static const char *const isa_colors[] = {"#7f7f7f", "#1f77b4", "#d62728", "#2ca02c",
                                             "#8c564b", "#17becf", "#bcbd22", "#e377c2"};
    _Static_assert(ADAGRAD_ISA_COUNT <= sizeof isa_colors / sizeof isa_colors[0],
                   "report_plot.c: one colour per ISA");
    for (int isa = 0; isa < ADAGRAD_ISA_COUNT; isa++)
        if (strcmp(impl, adagrad_isa_name((adagrad_isa)isa)) == 0)
            return isa_colors[isa];
    return strcmp(impl, "torch") == 0 ? "#9467bd" : "#ff7f0e";
}

static void write_script(FILE *gp, const report_run *run, const char *png_path)
{
    fputs("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) "
          "{ set terminal pngcairo size 1100,700 font ',10' } "
          "else { set terminal png size 1100,700 }\n", gp);
    fputs("set output ", gp);
    gp_string(gp, png_path);
    fputs("\nset title ", gp);
    char title[256];
    snprintf(title, sizeof title, "libadagrad %s on %s: AdaGrad step throughput (median of %u repetitions)",
             run->library_version, run->cpu_model, run->reps);
    gp_string(gp, title);
    fputs(" noenhanced\n", gp);
    fputs("set logscale x 2\nset format x '2^{%L}'\nset logscale y 10\n"
          "set xlabel 'elements per tensor (n)'\n"
          "set ylabel 'G elements / s   (x 20 = GB/s: 20 bytes per element)'\n"
          "set grid xtics ytics mytics\nset key outside right top\nset offsets graph 0.03, graph 0.03, 0, 0\n", gp);

    /* Where each cache level stops holding the working set (12 bytes/element). */
    const long caches[3] = {run->caches.l1d, run->caches.l2, run->caches.l3};
    static const char *const levels[3] = {"L1", "L2", "L3"};
    for (int i = 0; i < 3; i++) {
        if (caches[i] <= 0)
            continue;
        const double n = (double)caches[i] / REPORT_WORKING_SET_PER_ELEMENT;
        fprintf(gp, "set arrow from %.6g, graph 0 to %.6g, graph 1 nohead dt 3 lc rgb '#999999'\n", n, n);
        fprintf(gp, "set label '%s' at %.6g, graph 0.03 offset 0.5,0 tc rgb '#777777'\n", levels[i], n);
    }

    size_t sizes[64];
    const size_t size_count = list_sizes(run, sizes, 64);
    fputs("$roof << EOD\n", gp);
    for (size_t i = 0; i < size_count; i++)
        fprintf(gp, "%zu %.6g\n", sizes[i], report_roofline_gelem(run, sizes[i], NULL));
    fputs("EOD\n", gp);

    const report_result *series[64];
    const size_t series_count = list_series(run, series, 64);
    for (size_t s = 0; s < series_count; s++) {
        fprintf(gp, "$d%zu << EOD\n", s);
        for (size_t i = 0; i < size_count; i++) {
            const report_result *r = report_find(run, sizes[i], series[s]->impl, series[s]->mode);
            if (r)
                fprintf(gp, "%zu %.6g\n", sizes[i], report_gelem(r));
        }
        fputs("EOD\n", gp);
    }

    fputs("plot $roof using 1:2 with linespoints lw 3 pt 7 lc rgb 'black' "
          "title 'memory roofline (fastest traffic loop)'", gp);
    for (size_t s = 0; s < series_count; s++) {
        const report_result *r = series[s];
        const int dashed = strcmp(r->mode, "fast") == 0 || strcmp(r->mode, "foreach") == 0;
        char title[64];
        snprintf(title, sizeof title, "%s %s", r->impl, r->mode);
        fprintf(gp, ", \\\n     $d%zu using 1:2 with linespoints lw 2 pt %d dt %d lc rgb '%s' title ", s,
                dashed ? 6 : 7, dashed ? 2 : 1, color_of(r->impl));
        gp_string(gp, title);
        fputs(" noenhanced", gp);
    }
    fputs("\n", gp);
}

int report_plot(const report_run *run, const char *png_path)
{
    const char *gnuplot = report_find_gnuplot();
    if (!gnuplot) {
        fprintf(stderr, "adagrad-report: --plot needs gnuplot on PATH (Debian: apt-get install gnuplot-nox)\n");
        return 1;
    }
    char command[4200];
    if (report_shell_quote(command, sizeof command, gnuplot) != 0) {
        fprintf(stderr, "adagrad-report: gnuplot path too long\n");
        return 1;
    }
    remove(png_path); /* so a failed plot cannot leave an old picture behind */
    FILE *gp = popen(command, "w");
    if (!gp) {
        fprintf(stderr, "adagrad-report: cannot run %s\n", gnuplot);
        return 1;
    }
    write_script(gp, run, png_path);
    const int status = pclose(gp);
    FILE *check = fopen(png_path, "rb");
    unsigned char sig[8] = {0};
    const size_t got = check ? fread(sig, 1, sizeof sig, check) : 0;
    if (check)
        fclose(check);
    if (status != 0 || got != 8 || memcmp(sig, "\x89PNG\r\n\x1a\n", 8) != 0) {
        fprintf(stderr, "adagrad-report: gnuplot failed to write %s (exit status %d)\n", png_path, status);
        return 1;
    }
    return 0;
}
