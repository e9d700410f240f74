/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_lines.h: heap memory that shares no cache line with anything else.
 *
 * Bookkeeping that one thread writes on every allocation (a block's live
 * count, an offset allocator's bins, a thread's record cache) must not share
 * a cache line with bookkeeping another thread writes: malloc hands
 * neighbouring chunks to threads that allocate at the same moment (two
 * shards growing together), and every write would then pull the line from
 * the other core.
 */
#ifndef SUBALLOC_CACHE_LINES_H
#define SUBALLOC_CACHE_LINES_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LINE_BYTES 64u

static inline size_t cache_lines_round(size_t bytes) {
    return (bytes + CACHE_LINE_BYTES - 1) & ~(size_t)(CACHE_LINE_BYTES - 1);
}

/* Zeroed, on whole cache lines of its own; free() releases it. NULL when out
 * of memory, or when bytes rounded up to a line would overflow. */
static inline void *cache_lines_calloc(size_t bytes) {
    size_t rounded = cache_lines_round(bytes);
    if (rounded < bytes) return NULL;
    void *memory = aligned_alloc(CACHE_LINE_BYTES, rounded);
    if (memory != NULL) memset(memory, 0, rounded);
    return memory;
}

#endif
