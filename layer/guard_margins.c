/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard_margins.c: finding the app allocation that wrote past its end.
 *
 * Without the layer each small allocation sits alone on a driver page, and a
 * few bytes written past a mapping usually damage nothing; packed into a block,
 * the same bug damages a neighbour. With the debug_margin setting, every slice
 * of a host-visible pool has that many guard bytes before and after it (placed
 * by pools.c, which keeps the app's bytes aligned). They hold a pattern that
 * depends on their position in the block, so that an overrun that copies a
 * neighbour's bytes is caught too. The layer checks them when the app unmaps
 * and frees the allocation and at vkDestroyDevice, and reports damage once per
 * check, naming the allocation (handle, size, debug name) and the side.
 *
 * Margins start and end on the pool's unit, which covers nonCoherentAtomSize,
 * so flushing and invalidating them never touches another slice's bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static uint8_t pattern_at(uint64_t block_offset) {
    return (uint8_t)(0xA5u ^ (uint8_t)(block_offset * 0x9Du) ^ (uint8_t)(block_offset >> 8));
}

typedef struct margin {
    uint64_t offset; /* in the block */
    uint64_t size;
    const char *side;
} margin;

static int margins_of(const suballoc_memory *record, margin out[2]) {
    if (record->margin_front == 0 && record->margin_back == 0) return 0;
    out[0] = (margin){record->offset - record->margin_front, record->margin_front, "before"};
    out[1] = (margin){record->offset + record->reserved, record->margin_back, "after"};
    return 2;
}

static bool coherent(const suballoc_memory *record) {
    return record->pool->device->types[record->memory_type].flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
}

/* Makes the pattern the host wrote visible to the device, for non-coherent memory. */
static void flush_margins(suballoc_memory *record, const margin *m, int count) {
    if (coherent(record)) return;
    suballoc_device *device = record->pool->device;
    VkMappedMemoryRange ranges[2];
    for (int i = 0; i < count; i++)
        ranges[i] = (VkMappedMemoryRange){.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                                          .memory = record->block->memory,
                                          .offset = m[i].offset,
                                          .size = m[i].size};
    device->next.FlushMappedMemoryRanges(device->handle, (uint32_t)count, ranges);
}

static void write_pattern(uint8_t *base, const margin *m) {
    for (uint64_t i = 0; i < m->size; i++) base[m->offset + i] = pattern_at(m->offset + i);
}

void margins_fill(suballoc_memory *record) {
    margin m[2];
    int count = margins_of(record, m);
    uint8_t *base;
    if (count == 0 || block_map(record->block, &base) != VK_SUCCESS) return;
    for (int i = 0; i < count; i++) write_pattern(base, &m[i]);
    flush_margins(record, m, count);
}

/* The app's name for the allocation, copied under its pool's lock (names change under it). */
static void copy_name(suballoc_memory *record, char *out, size_t out_size) {
    out[0] = '\0';
    pool_lock_acquire(&record->pool->lock);
    if (record->debug_name != NULL) snprintf(out, out_size, "%s", record->debug_name);
    pool_lock_release(&record->pool->lock);
}

void margins_check_guarded(suballoc_memory *record, const char *when) {
    margin m[2];
    int count = margins_of(record, m);
    uint8_t *base;
    /* No invalidate first: an overrun is a host write, which the host's own
     * view shows at once; invalidating non-coherent memory would throw exactly
     * that away. (So a device that writes past a slice is not caught.) */
    if (count == 0 || block_map(record->block, &base) != VK_SUCCESS) return;
    bool rewritten = false;
    for (int i = 0; i < count; i++) {
        uint64_t damaged = 0, first = 0;
        for (uint64_t b = 0; b < m[i].size; b++) {
            if (base[m[i].offset + b] == pattern_at(m[i].offset + b)) continue;
            if (damaged++ == 0) first = b;
        }
        if (damaged == 0) continue;
        char name[96];
        copy_name(record, name, sizeof name);
        /* Where the first damaged byte is, seen from the app's allocation. */
        long long from_start = i == 0 ? -(long long)(m[i].size - first) : (long long)(record->reserved + first);
        LOG_ERROR(record->pool->device,
                  "%s: debug_margin: %llu guard bytes %s memory 0x%llx (%llu bytes%s%s%s) were overwritten, the first "
                  "at byte %lld of the allocation: the app wrote %s its allocation",
                  when, (unsigned long long)damaged, m[i].side, (unsigned long long)memory_handle_of(record),
                  (unsigned long long)record->size, name[0] ? ", named \"" : "", name, name[0] ? "\"" : "", from_start,
                  i == 0 ? "before the start of" : "past the end of");
        write_pattern(base, &m[i]); /* later checks report only new damage */
        rewritten = true;
    }
    if (rewritten) flush_margins(record, m, count);
}
