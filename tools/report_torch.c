/* libadagrad — adagrad-report --torch: torch.optim.Adagrad.step() at the same
 * sizes, through tools/torch_compare.py run by /usr/bin/python3.
 * SPDX-License-Identifier: MIT
 *
 * The script is looked for in this order: --torch-script PATH, the
 * environment variable ADAGRAD_TORCH_SCRIPT, the source tree the report was
 * built from, the installed data directory. Whatever goes wrong (no python,
 * no torch, no script, a failed run) becomes a note in the report, never a
 * failure of the report itself.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

#ifndef ADAGRAD_REPORT_SOURCE_DIR
#define ADAGRAD_REPORT_SOURCE_DIR "."
#endif
#ifndef ADAGRAD_REPORT_DATA_DIR
#define ADAGRAD_REPORT_DATA_DIR "/usr/local/share/libadagrad"
#endif

static const char *find_script(const char *explicit_path)
{
    if (explicit_path)
        return access(explicit_path, R_OK) == 0 ? explicit_path : NULL;
    const char *env = getenv("ADAGRAD_TORCH_SCRIPT");
    if (env && *env)
        return access(env, R_OK) == 0 ? env : NULL;
    static const char *const candidates[] = {
        ADAGRAD_REPORT_SOURCE_DIR "/torch_compare.py",
        ADAGRAD_REPORT_DATA_DIR "/torch_compare.py",
    };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    return NULL;
}

/* Runs command; its stdout into a malloc'd string, its exit status in *status. */
static char *run_capture(const char *command, int *status)
{
    FILE *p = popen(command, "r");
    if (!p)
        return NULL;
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    while (buf) {
        const size_t got = fread(buf + used, 1, cap - used - 1, p);
        used += got;
        if (got == 0)
            break;
        if (cap - used - 1 == 0) {
            char *bigger = realloc(buf, 2 * cap);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    const int raw = pclose(p);
    *status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    if (buf)
        buf[used] = '\0';
    return buf;
}

static void skip(report_run *run, const char *why)
{
    report_copy(run->torch_status, sizeof run->torch_status, "skipped");
    snprintf(run->torch_note, sizeof run->torch_note, "comparison skipped: %.280s", why);
}

void report_run_torch(report_run *run, const char *script_arg, const report_config *cfg, unsigned threads,
                      bool quiet)
{
    if (access(REPORT_PYTHON, X_OK) != 0) {
        skip(run, REPORT_PYTHON " not found (Debian: apt-get install python3 python3-torch)");
        return;
    }
    const char *script = find_script(script_arg);
    if (!script) {
        skip(run, script_arg ? "the --torch-script file is not readable" : "tools/torch_compare.py not found "
                                                                           "(set ADAGRAD_TORCH_SCRIPT)");
        return;
    }
    char quoted[2048], sizes[1024] = "", command[4096];
    if (report_shell_quote(quoted, sizeof quoted, script) != 0) {
        skip(run, "script path too long");
        return;
    }
    for (size_t i = 0; i < cfg->size_count; i++) {
        const size_t used = strlen(sizes);
        snprintf(sizes + used, sizeof sizes - used, "%s%zu", i ? "," : "", cfg->sizes[i]);
    }
    snprintf(command, sizeof command, "%s %s --json --sizes %s --reps %u --batch-ms %g --threads %u --seed %llu --clock %s%s",
             REPORT_PYTHON, quoted, sizes, cfg->reps, cfg->batch_ms, threads, (unsigned long long)cfg->seed,
             cfg->cpu_clock ? "cpu" : "wall", quiet ? " --quiet" : "");

    int status = -1;
    char *out = run_capture(command, &status);
    if (!out) {
        skip(run, "could not run " REPORT_PYTHON);
        return;
    }
    rjson root;
    char err[160];
    if (rjson_parse(out, strlen(out), &root, err, sizeof err) != 0) {
        char why[256];
        snprintf(why, sizeof why, "torch_compare.py exited with %d and printed no valid JSON (%s)", status, err);
        skip(run, why);
        free(out);
        return;
    }
    free(out);
    const rjson *error = rjson_get(&root, "error");
    const rjson *results = rjson_get(&root, "results");
    if (error || status != 0 || !results || results->type != RJSON_ARRAY) {
        skip(run, error ? rjson_string(error) : "torch_compare.py failed");
        rjson_free(&root);
        return;
    }
    for (size_t i = 0; i < results->count; i++) {
        const rjson *o = &results->items[i];
        const double n = rjson_number(rjson_get(o, "n"));
        if (!(n >= 1 && n <= 0x1p52))
            continue;
        report_result *r = report_add_result(run);
        report_copy(r->impl, sizeof r->impl, "torch");
        report_copy(r->mode, sizeof r->mode, rjson_string(rjson_get(o, "mode")));
        r->n = (size_t)n;
        r->sec_median = rjson_number(rjson_get(o, "sec_median"));
        r->sec_min = rjson_number(rjson_get(o, "sec_min"));
        r->sec_max = rjson_number(rjson_get(o, "sec_max"));
        r->sec_q1 = rjson_number(rjson_get(o, "sec_q1"));
        r->sec_q3 = rjson_number(rjson_get(o, "sec_q3"));
    }
    report_copy(run->torch_status, sizeof run->torch_status, "ok");
    snprintf(run->torch_note, sizeof run->torch_note,
             "torch %s, %u thread(s), %s clock: torch.optim.Adagrad.step() on one float32 tensor, "
             "foreach=False (single) and foreach=True (foreach)",
             rjson_string(rjson_get(&root, "torch_version")), threads, rjson_string(rjson_get(&root, "clock")));
    rjson_free(&root);
}
