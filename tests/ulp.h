/* libadagrad tests — the bit and ulp helpers, which live in contract.h
 * with the rest of the numerical contract; this name stays for the files
 * that include it.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAGRAD_TESTS_ULP_H
#define ADAGRAD_TESTS_ULP_H

#include "contract.h"

#endif /* ADAGRAD_TESTS_ULP_H */
