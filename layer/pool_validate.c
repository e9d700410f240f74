/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pool_validate.c: the invariants of a pool, checked from the inside.
 *
 * A test from the outside sees only what the driver and the app see; this
 * check sees the layer's own bookkeeping: every block's offset allocator is
 * sound (offset_allocator_validate), every live record sits in the block list
 * it claims, inside its block, on the range its allocator id reserved, and no
 * two live slices of a block overlap; the pool's counters agree with its
 * blocks. The sanitizer build runs it after every free (SUBALLOC_EXPENSIVE_CHECKS)
 * and at vkDestroyDevice.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static bool broken(char *why, size_t why_size, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(why, why_size, format, args);
    va_end(args);
    return false;
}

typedef struct slice_range {
    uint64_t start, end;
} slice_range;

static int by_start(const void *a, const void *b) {
    const slice_range *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* The block's live records: where they say they are, and apart. */
static bool block_records_hold(const suballoc_pool *pool, const suballoc_block *block, char *why, size_t why_size) {
    slice_range *ranges = block->live_count > 0 ? malloc(block->live_count * sizeof *ranges) : NULL;
    if (block->live_count > 0 && ranges == NULL) return true; /* no memory to check with: not a broken pool */
    uint32_t count = 0;
    bool ok = true;
    const suballoc_memory *prev = NULL;
    for (const suballoc_memory *r = block->live; r != NULL && ok; prev = r, r = r->next_in_block) {
        if (count == block->live_count) ok = broken(why, why_size, "block holds more records than its count %u", count);
        else if (r->prev_in_block != prev) ok = broken(why, why_size, "record %p links back wrongly", (const void *)r);
        else if (!r->live || r->pool != pool || r->block != block)
            ok = broken(why, why_size, "record %p is not a live slice of this block", (const void *)r);
        else if (r->offset < r->margin_front || r->offset + r->reserved + r->margin_back > block->size ||
                 r->reserved < r->size)
            ok = broken(why, why_size, "record %p: [%llu, +%llu) for %llu bytes in a block of %llu", (const void *)r,
                        (unsigned long long)r->offset, (unsigned long long)r->reserved, (unsigned long long)r->size,
                        (unsigned long long)block->size);
        else if (offset_allocator_allocation_size(block->allocator, r->allocation) !=
                 r->margin_front + r->reserved + r->margin_back)
            ok = broken(why, why_size, "record %p's allocator id does not hold its %llu bytes", (const void *)r,
                        (unsigned long long)r->reserved);
        else ranges[count++] = (slice_range){r->offset - r->margin_front, r->offset + r->reserved + r->margin_back};
    }
    if (ok && count != block->live_count)
        ok = broken(why, why_size, "%u records listed, count says %u", count, block->live_count);
    if (ok && count > 1) qsort(ranges, count, sizeof *ranges, by_start);
    for (uint32_t i = 1; ok && i < count; i++)
        if (ranges[i].start < ranges[i - 1].end)
            ok = broken(why, why_size, "slices [%llu, %llu) and [%llu, %llu) overlap",
                        (unsigned long long)ranges[i - 1].start, (unsigned long long)ranges[i - 1].end,
                        (unsigned long long)ranges[i].start, (unsigned long long)ranges[i].end);
    free(ranges);
    return ok;
}

static bool pool_holds_locked(const suballoc_pool *pool, char *why, size_t why_size) {
    uint64_t live = 0, bytes = 0;
    uint32_t blocks = 0, empty = 0;
    for (const suballoc_block *b = pool->blocks; b != NULL; b = b->next) {
        char inner[192];
        if (b->pool != pool) return broken(why, why_size, "block %p belongs to another pool", (const void *)b);
        if (b->next != NULL && b->next->prev != b) return broken(why, why_size, "block list links back wrongly");
        if (!offset_allocator_validate(b->allocator, inner, sizeof inner))
            return broken(why, why_size, "block %p: %s", (const void *)b, inner);
        if (!block_records_hold(pool, b, why, why_size)) return false;
        live += b->live_count;
        bytes += b->size;
        blocks++;
        empty += b->live_count == 0;
    }
    if (live != pool->counters.live)
        return broken(why, why_size, "%llu live slices, counter says %llu", (unsigned long long)live,
                      (unsigned long long)pool->counters.live);
    if (blocks != pool->block_count || empty != pool->empty_blocks || bytes != pool->block_bytes)
        return broken(why, why_size, "%u blocks (%u empty, %llu bytes); the pool says %u (%u, %llu)", blocks, empty,
                      (unsigned long long)bytes, pool->block_count, pool->empty_blocks,
                      (unsigned long long)pool->block_bytes);
    return true;
}

bool pool_validate(suballoc_pool *pool, char *why, size_t why_size) {
    pool_lock_acquire(&pool->lock);
    bool ok = pool_holds_locked(pool, why, why_size);
    pool_lock_release(&pool->lock);
    return ok;
}

void pool_check_or_abort(suballoc_pool *pool, const char *after) {
    char why[256];
    if (pool_validate(pool, why, sizeof why)) return;
    LOG_ERROR(pool->device, "internal check failed after %s: memory type %u: %s", after, pool->key.memory_type, why);
    abort();
}
