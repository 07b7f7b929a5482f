/* libadagrad — the sparse and row-wise steps with an explicit kernel row.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAGRAD_SRC_SPARSE_H
#define ADAGRAD_SRC_SPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every public sparse / row-wise entry point is this with the active row:
 * rowwise selects the row-wise step (adagrad_rowwise_step_*; acc is rows
 * floats) or the sparse step (adagrad_sparse_step_*; acc is rows × dim
 * floats); idx32 says whether indices are int32_t (else int64_t).
 * Validation first, then the row's kernels. Tests call it for every row, test-only rows included. */
int adagrad_sparse_with(const adagrad_kernels *k, bool rowwise, float *table, float *acc, size_t rows,
                        size_t dim, const void *indices, bool idx32, const float *grads, size_t n_indices,
                        const adagrad_options *opt, void *workspace, size_t workspace_bytes);

/* The row-wise kernel of a row (the scalar reference's when it has none). */
adagrad_rowwise_fn adagrad_rowwise_kernel(const adagrad_kernels *k);

#ifdef __cplusplus
}
#endif

#endif /* ADAGRAD_SRC_SPARSE_H */
