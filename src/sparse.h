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

/* adagrad_sparse_step with an explicit kernel row. Tests call it for every
 * row, test-only rows included. */
int adagrad_sparse_step_with(const adagrad_kernels *k, const adagrad_sparse *t, const adagrad_options *opt);

/* The v0.1 table steps with an explicit row: rowwise selects the row-wise
 * step (acc is rows floats) or the element-wise one (acc is rows × dim
 * floats); idx32 says whether indices are int32_t (else int64_t). Every
 * public v0.1 table entry point is this with the active row. */
int adagrad_sparse_with(const adagrad_kernels *k, bool rowwise, float *table, float *acc, size_t rows,
                        size_t dim, const void *indices, bool idx32, const float *grads, size_t n_indices,
                        const adagrad_options *opt, void *workspace, size_t workspace_bytes);

#ifdef __cplusplus
}
#endif

#endif /* ADAGRAD_SRC_SPARSE_H */
