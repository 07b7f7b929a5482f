/* libadagrad — the C layout of the structures the Python package declares
 * with ctypes (python/libadagrad/_lib.py), one line per field
 * ("struct field offset size", and "struct sizeof 0 size"), for
 * python/tests/test_package.py to compare: a mismatch would make every call
 * read the wrong fields.
 * SPDX-License-Identifier: MIT */
#include <adagrad.h>
#include <stddef.h>
#include <stdio.h>

#define SIZE(type) printf("%s sizeof 0 %zu\n", #type, sizeof(type))
#define FIELD(type, field) \
    printf("%s %s %zu %zu\n", #type, #field, offsetof(type, field), sizeof(((type *)0)->field))

int main(void)
{
    SIZE(adagrad_options);
    FIELD(adagrad_options, lr);
    FIELD(adagrad_options, eps);
    FIELD(adagrad_options, weight_decay);
    FIELD(adagrad_options, flags);
    FIELD(adagrad_options, seed);
    FIELD(adagrad_options, step);
    SIZE(adagrad_dense);
    FIELD(adagrad_dense, param);
    FIELD(adagrad_dense, sum);
    FIELD(adagrad_dense, grad);
    FIELD(adagrad_dense, n);
    FIELD(adagrad_dense, param_type);
    FIELD(adagrad_dense, grad_type);
    FIELD(adagrad_dense, first_index);
    SIZE(adagrad_sparse);
    FIELD(adagrad_sparse, table);
    FIELD(adagrad_sparse, sum);
    FIELD(adagrad_sparse, rows);
    FIELD(adagrad_sparse, dim);
    FIELD(adagrad_sparse, table_type);
    FIELD(adagrad_sparse, indices);
    FIELD(adagrad_sparse, n_indices);
    FIELD(adagrad_sparse, index_type);
    FIELD(adagrad_sparse, grads);
    FIELD(adagrad_sparse, grad_type);
    FIELD(adagrad_sparse, offsets);
    FIELD(adagrad_sparse, n_bags);
    FIELD(adagrad_sparse, per_sample_weights);
    FIELD(adagrad_sparse, workspace);
    FIELD(adagrad_sparse, workspace_bytes);
    return 0;
}
