/* libadagrad — CPU detection, the kernel table, and the ISA override.
 * SPDX-License-Identifier: MIT
 *
 * This file is compiled with the baseline flags of the target (no -mavx2):
 * it must run on any CPU, and it is what decides whether the ISA-specific
 * code may run at all. Detection checks the CPU *and* the OS (XGETBV), and
 * the selection can only take features away, never add one the CPU lacks,
 * so no override can lead to SIGILL.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

/* The library's kernel table, worst to best: what selection chooses among.
 * The tests, benchmarks and fuzzers iterate it, then the test-only
 * rows, through adagrad_row (src/test_rows.c). */
static const adagrad_kernels *const kernel_table[] = {
    &adagrad_kernels_scalar,
#ifdef ADAGRAD_HAVE_AVX2
    &adagrad_kernels_avx2,
#endif
#ifdef ADAGRAD_HAVE_AVX512
    &adagrad_kernels_avx512,
#endif
#ifdef ADAGRAD_HAVE_NEON
    &adagrad_kernels_neon,
#endif
#ifdef ADAGRAD_HAVE_SVE
    &adagrad_kernels_sve,
#endif
};
#define KERNEL_TABLE_SIZE (sizeof kernel_table / sizeof kernel_table[0])

size_t adagrad_impl_count(void) { return KERNEL_TABLE_SIZE; }

const adagrad_kernels *adagrad_impl(size_t index)
{
    return index < KERNEL_TABLE_SIZE ? kernel_table[index] : NULL;
}

#if defined(__x86_64__) || defined(__i386__)
/* XGETBV without -mxsave: the bytes of `xgetbv` (0f 01 d0), ECX = 0 selects XCR0. */
static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static uint32_t detect_cpu_flags(void)
{
    unsigned eax, ebx, ecx, edx;
    uint32_t flags = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    const int has_fma = (ecx >> 12) & 1;     /* CPUID.1:ECX.FMA[bit 12] */
    const int has_osxsave = (ecx >> 27) & 1; /* CPUID.1:ECX.OSXSAVE[bit 27]: XGETBV usable */
    const int has_avx = (ecx >> 28) & 1;     /* CPUID.1:ECX.AVX[bit 28] */
    if (!has_osxsave)
        return 0;
    const uint64_t xcr0 = read_xcr0();
    const int os_ymm = (xcr0 & 0x6) == 0x6;   /* XCR0 bits 1 (SSE) and 2 (AVX): XMM + YMM state */
    const int os_zmm = (xcr0 & 0xe6) == 0xe6; /* + bits 5 (opmask), 6 (ZMM0-15 hi), 7 (ZMM16-31) */
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return 0;
    const int has_avx2 = (ebx >> 5) & 1;     /* CPUID.(7,0):EBX.AVX2[bit 5] */
    const int has_avx512f = (ebx >> 16) & 1; /* CPUID.(7,0):EBX.AVX512F[bit 16] */
    if (has_avx && has_avx2 && has_fma && os_ymm)
        flags |= ADAGRAD_CPU_AVX2;
    if ((flags & ADAGRAD_CPU_AVX2) && has_avx512f && os_zmm)
        flags |= ADAGRAD_CPU_AVX512;
    return flags;
}
#elif defined(__aarch64__) && defined(__linux__)
static uint32_t detect_cpu_flags(void)
{
    const unsigned long hwcap = getauxval(AT_HWCAP);
    uint32_t flags = 0;
    if (hwcap & HWCAP_ASIMD) /* AT_HWCAP bit 1: Advanced SIMD (baseline in practice) */
        flags |= ADAGRAD_CPU_NEON;
    if (hwcap & HWCAP_SVE) /* AT_HWCAP bit 22: SVE, set only when the kernel saves the Z/P/FFR state */
        flags |= ADAGRAD_CPU_SVE;
    return flags;
}
#elif defined(__aarch64__)
static uint32_t detect_cpu_flags(void) { return ADAGRAD_CPU_NEON; /* baseline of AArch64; SVE needs getauxval */ }
#else
static uint32_t detect_cpu_flags(void) { return 0; }
#endif

static const char *const isa_names[ADAGRAD_ISA_COUNT] = {
    [ADAGRAD_ISA_SCALAR] = "scalar",
    [ADAGRAD_ISA_AVX2] = "avx2",
    [ADAGRAD_ISA_AVX512] = "avx512",
    [ADAGRAD_ISA_NEON] = "neon",
    [ADAGRAD_ISA_SVE] = "sve",
};

const char *adagrad_isa_name(adagrad_isa isa)
{
    return (unsigned)isa < ADAGRAD_ISA_COUNT ? isa_names[isa] : NULL;
}

/* Detection runs once, on its own: the selection below asks
 * adagrad_row_runnable, which needs the flags, while it runs. */
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static uint32_t cpu_flags;

static void detect(void) { cpu_flags = detect_cpu_flags(); }

uint32_t adagrad_cpu_flags(void)
{
    pthread_once(&detect_once, detect);
    return cpu_flags;
}

bool adagrad_row_runnable(const adagrad_kernels *k, const char **why_not)
{
    const bool ok = (adagrad_cpu_flags() & k->cpu_required) == k->cpu_required;
    if (why_not)
        *why_not = ok ? NULL : k->why_not;
    return ok;
}

unsigned adagrad_row_lanes(const adagrad_kernels *k)
{
    if (k->lanes)
        return k->lanes;
    return adagrad_row_runnable(k, NULL) ? k->lanes_now() : 0;
}

/* The selected row lives in one atomic pointer (no lock on the hot path,
 * no data race when adagrad_use_isa runs concurrently). */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static _Atomic(const adagrad_kernels *) active_kernels;

static const adagrad_kernels *row_for(adagrad_isa isa)
{
    for (size_t i = 0; i < KERNEL_TABLE_SIZE; i++)
        if (kernel_table[i]->isa == isa)
            return kernel_table[i];
    return NULL;
}

static void init_dispatch(void)
{
    const adagrad_kernels *best = kernel_table[0];
    for (size_t i = 0; i < KERNEL_TABLE_SIZE; i++)
        if (adagrad_row_runnable(kernel_table[i], NULL))
            best = kernel_table[i];

    /* ADAGRAD_ISA can only choose among the runnable rows (no SIGILL). */
    const char *forced = getenv("ADAGRAD_ISA");
    if (forced && *forced) {
        int isa = ADAGRAD_ISA_COUNT;
        for (int i = 0; i < ADAGRAD_ISA_COUNT; i++)
            if (strcmp(forced, isa_names[i]) == 0)
                isa = i;
        const adagrad_kernels *k = isa < ADAGRAD_ISA_COUNT ? row_for((adagrad_isa)isa) : NULL;
        const char *why_not = "not compiled into this build";
        if (k && adagrad_row_runnable(k, &why_not)) {
            best = k;
        } else if (isa == ADAGRAD_ISA_COUNT) {
            char expected[8 * ADAGRAD_ISA_COUNT] = ""; /* a name and its "|" take at most 8 bytes */
            for (int i = 0; i < ADAGRAD_ISA_COUNT; i++) {
                const size_t used = strlen(expected);
                snprintf(expected + used, sizeof expected - used, "%s%s", i ? "|" : "", isa_names[i]);
            }
            fprintf(stderr, "libadagrad: unknown ADAGRAD_ISA=%s (expected %s); using %s\n", forced, expected,
                    best->name);
        } else {
            fprintf(stderr, "libadagrad: ADAGRAD_ISA=%s is not available (%s); using %s\n", forced, why_not,
                    best->name);
        }
    }
    atomic_store_explicit(&active_kernels, best, memory_order_release);
}

static void ensure_init(void) { pthread_once(&init_once, init_dispatch); }

bool adagrad_isa_available(adagrad_isa isa)
{
    ensure_init(); /* selection first: it must not undo adagrad_use_isa's switch later */
    if ((unsigned)isa >= ADAGRAD_ISA_COUNT)
        return false;
    const adagrad_kernels *k = row_for(isa);
    return k && adagrad_row_runnable(k, NULL);
}

const adagrad_kernels *adagrad_active_kernels(void)
{
    ensure_init();
    return atomic_load_explicit(&active_kernels, memory_order_acquire);
}

adagrad_isa adagrad_active_isa(void) { return adagrad_active_kernels()->isa; }

int adagrad_use_isa(adagrad_isa isa)
{
    if (!adagrad_isa_available(isa))
        return ADAGRAD_ERR_ISA;
    atomic_store_explicit(&active_kernels, row_for(isa), memory_order_release);
    return ADAGRAD_OK;
}
