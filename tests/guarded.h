/* libadagrad tests — output buffers fenced by sentinel words.
 * SPDX-License-Identifier: MIT
 *
 * Layout of one buffer (64-byte aligned block of 4-byte words):
 *
 *     [ GUARD_WORDS sentinels | `mis` sentinels | n data floats | GUARD_WORDS sentinels ]
 *
 * `mis` (0 to GUARD_WORDS − 1) misaligns the data by that many floats from
 * a 64-byte boundary: up to a whole vector of the widest row (SVE at 2048
 * bits, 64 floats). Every word outside the data holds SENTINEL_BITS; a
 * kernel that writes one element too many (a tail mask off by one, a
 * full-width store on the last vector) changes one, and guarded_intact()
 * says so. The guard is as wide as that vector, so a stray vector store
 * that starts within a vector of the data lands inside it too. All access
 * to the sentinels goes through memcpy.
 */
#ifndef ADAGRAD_TESTS_GUARDED_H
#define ADAGRAD_TESTS_GUARDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GUARD_WORDS 64 /* floats in the widest vector */
#define SENTINEL_BITS 0xA5A5A5A5u /* -2.87e-16f: not a value any step produces here by accident */

typedef struct guarded {
    unsigned char *block; /* the allocation */
    size_t words;         /* its size in 4-byte words */
    size_t lead;          /* words before the data: GUARD_WORDS + mis */
    float *data;          /* n floats */
    size_t n;
} guarded;

static inline guarded guarded_alloc(size_t n, size_t mis)
{
    guarded b = {0};
    b.n = n;
    b.lead = GUARD_WORDS + mis;
    b.words = b.lead + n + GUARD_WORDS;
    const size_t bytes = (b.words * 4 + 63) / 64 * 64;
    b.block = aligned_alloc(64, bytes);
    if (!b.block)
        abort(); /* the suite cannot run without memory */
    const uint32_t s = SENTINEL_BITS;
    for (size_t i = 0; i < b.words; i++)
        memcpy(b.block + 4 * i, &s, 4);
    b.data = (float *)(void *)(b.block + 4 * b.lead);
    return b;
}

static inline void guarded_free(guarded *b)
{
    free(b->block);
    b->block = NULL;
    b->data = NULL;
}

/* Whether every sentinel word is intact; if not, *where is the index of the
 * first changed word relative to the data (negative: before it). */
static inline bool guarded_intact(const guarded *b, long *where)
{
    for (size_t i = 0; i < b->words; i++) {
        if (i >= b->lead && i < b->lead + b->n)
            continue;
        uint32_t w;
        memcpy(&w, b->block + 4 * i, 4);
        if (w != SENTINEL_BITS) {
            *where = (long)i - (long)b->lead;
            return false;
        }
    }
    *where = 0;
    return true;
}

#endif /* ADAGRAD_TESTS_GUARDED_H */
