/* libadagrad — every row: the library's kernel table, then the test-only
 * rows, the one place those are registered.
 * SPDX-License-Identifier: MIT
 *
 * Built as a static library of its own (meson: adagrad_rows_dep) for the
 * tests, benchmarks and fuzzers; the installed library contains
 * neither it nor any test-only row, and its dispatch only knows its own
 * table.
 */
#include "dispatch.h"

#ifdef ADAGRAD_HAVE_NEON_SIMDE
/* The NEON source on x86-64 through SIMDe (src/neon/step_neon.c), so an
 * x86 run checks the NEON logic too. */
extern const adagrad_kernels adagrad_kernels_neon_simde;
#endif

/* NULL-terminated: C has no empty arrays, and a build may have no
 * test-only row. */
static const adagrad_kernels *const test_only_rows[] = {
#ifdef ADAGRAD_HAVE_NEON_SIMDE
    &adagrad_kernels_neon_simde,
#endif
    NULL,
};
#define TEST_ONLY_SLOTS (sizeof test_only_rows / sizeof test_only_rows[0]) /* the rows and the NULL */

size_t adagrad_row_count(void) { return adagrad_impl_count() + TEST_ONLY_SLOTS - 1; }

const adagrad_kernels *adagrad_row(size_t index)
{
    const size_t lib = adagrad_impl_count();
    if (index < lib)
        return adagrad_impl(index);
    return index - lib < TEST_ONLY_SLOTS ? test_only_rows[index - lib] : NULL;
}
