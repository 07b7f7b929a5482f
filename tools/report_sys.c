/* libadagrad — adagrad-report: what the machine is (CPU model, caches) and
 * the default sizes derived from it; and two string helpers the other files
 * share.
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* sysconf(_SC_LEVEL1_DCACHE_SIZE …) is a glibc extension */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

void report_copy(char *dst, size_t size, const char *src)
{
    if (size == 0)
        return;
    size_t len = strlen(src);
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

int report_shell_quote(char *dst, size_t size, const char *src)
{
    size_t w = 0;
    if (size < 3)
        return -1;
    dst[w++] = '\'';
    for (; *src; src++) {
        const char *piece = *src == '\'' ? "'\\''" : NULL;
        const size_t len = piece ? 4 : 1;
        if (w + len + 2 > size)
            return -1;
        if (piece)
            memcpy(dst + w, piece, 4);
        else
            dst[w] = *src;
        w += len;
    }
    dst[w++] = '\'';
    dst[w] = '\0';
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* "model name" on x86; AArch64 kernels print only implementer/part codes. */
void report_cpu_model(char *buf, size_t size)
{
    report_copy(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512], implementer[32] = "", part[32] = "";
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *key = trim(line), *value = trim(colon + 1);
        if (strcmp(key, "model name") == 0 && *value) {
            report_copy(buf, size, value);
            fclose(f);
            return;
        }
        if (strcmp(key, "CPU implementer") == 0)
            report_copy(implementer, sizeof implementer, value);
        else if (strcmp(key, "CPU part") == 0)
            report_copy(part, sizeof part, value);
    }
    fclose(f);
    if (*implementer)
        snprintf(buf, size, "CPU implementer %s, part %s", implementer, *part ? part : "?");
}

/* "48K", "1024K", "32M" (sysfs cache size) → bytes; 0 when unreadable. */
static long read_sysfs_size(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char text[32] = "";
    const int ok = fgets(text, sizeof text, f) != NULL;
    fclose(f);
    if (!ok)
        return 0;
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || v <= 0)
        return 0;
    if (*end == 'K')
        v *= 1024;
    else if (*end == 'M')
        v *= 1024 * 1024;
    else if (*end == 'G')
        v *= 1024L * 1024 * 1024;
    return v;
}

static void read_sysfs_text(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(buf, (int)size, f))
        buf[0] = '\0';
    fclose(f);
    char *t = trim(buf);
    memmove(buf, t, strlen(t) + 1);
}

/* cpu0's data/unified caches from sysfs; levels not found stay 0. */
static void sysfs_caches(long size_by_level[4])
{
    for (int index = 0; index < 16; index++) {
        char path[128], level[16], type[32];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", index);
        read_sysfs_text(path, level, sizeof level);
        if (!*level)
            break;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", index);
        read_sysfs_text(path, type, sizeof type);
        if (strcmp(type, "Instruction") == 0)
            continue;
        const int lv = atoi(level);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
        if (lv >= 1 && lv <= 3)
            size_by_level[lv] = read_sysfs_size(path);
    }
}

/* sysfs first: it describes the caches this CPU sees. glibc's sysconf reads
 * CPUID, which inside a VM can describe the host (a whole socket's L3
 * through sysconf, where sysfs gives the slice the VM really has).
 * Fallbacks are typical of desktop and server cores. */
void report_detect_caches(report_caches *c)
{
    long from_sysfs[4] = {0, 0, 0, 0}, from_sysconf[4] = {0, 0, 0, 0};
    static const long fallback[4] = {0, 32L * 1024, 512L * 1024, 8L * 1024 * 1024};
    sysfs_caches(from_sysfs);
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    from_sysconf[1] = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    from_sysconf[2] = sysconf(_SC_LEVEL2_CACHE_SIZE);
    from_sysconf[3] = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    long size[4];
    int used_sysfs = 0, used_sysconf = 0, used_fallback = 0;
    for (int lv = 1; lv <= 3; lv++) {
        if (from_sysfs[lv] > 0) {
            size[lv] = from_sysfs[lv];
            used_sysfs = 1;
        } else if (from_sysconf[lv] > 0) {
            size[lv] = from_sysconf[lv];
            used_sysconf = 1;
        } else {
            size[lv] = fallback[lv];
            used_fallback = 1;
        }
    }
    c->l1d = size[1];
    c->l2 = size[2];
    c->l3 = size[3];
    static const char *const names[8] = {
        "none", "sysfs", "sysconf", "sysfs+sysconf",
        "fallback", "sysfs+fallback", "sysconf+fallback", "sysfs+sysconf+fallback",
    };
    c->source = names[used_sysfs | (used_sysconf << 1) | (used_fallback << 2)];
}

static size_t floor_pow2(size_t x)
{
    size_t p = 1;
    while (p <= x / 2)
        p *= 2;
    return p;
}

/* L1, L2, L3: the largest power of two whose working set (12 bytes per
 * element) fits the level. DRAM: the smallest power of two whose working
 * set is at least four times the L3, so no cache holds a useful part of
 * it, capped so the report's five buffers (20 bytes per element) take at
 * most a quarter of the memory. */
size_t report_default_sizes(const report_caches *c, size_t sizes[4])
{
    const long levels[3] = {c->l1d, c->l2, c->l3};
    size_t count = 0;
    for (int i = 0; i < 3; i++) {
        const size_t n = floor_pow2((size_t)(levels[i] / REPORT_WORKING_SET_PER_ELEMENT));
        if (n >= 64 && (count == 0 || n > sizes[count - 1]))
            sizes[count++] = n;
    }
    size_t dram = 1;
    while ((double)dram * REPORT_WORKING_SET_PER_ELEMENT < 4.0 * (double)c->l3)
        dram *= 2;
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) {
        const double budget = (double)pages * (double)page / 4.0;
        while (dram > 1024 && (double)dram * 20.0 > budget)
            dram /= 2;
    }
    if (count == 0 || dram > sizes[count - 1])
        sizes[count++] = dram;
    return count;
}

const char *report_level(const report_caches *c, size_t n)
{
    const double ws = (double)n * REPORT_WORKING_SET_PER_ELEMENT;
    if (ws <= (double)c->l1d)
        return "L1";
    if (ws <= (double)c->l2)
        return "L2";
    if (ws <= (double)c->l3)
        return "L3";
    return "DRAM";
}

double report_busy_cpu_seconds(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1.0;
    unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal = 0;
    const int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait,
                           &irq, &softirq, &steal);
    fclose(f);
    const long hz = sysconf(_SC_CLK_TCK);
    if (got < 7 || hz <= 0)
        return -1.0;
    return (double)(user + nice + sys + irq + softirq + steal) / (double)hz;
}

int report_online_cpus(void)
{
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 1000000 ? (int)n : 0;
}
