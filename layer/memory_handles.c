/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memory_handles.c: the two kinds of VkDeviceMemory an app holds.
 *
 * A layer handle is the address of a memory record with a 6-bit generation in
 * its low bits. Records come from one process-wide record pool whose address
 * range nothing else can occupy, so "is this ours?" is a range check, with no
 * lock and no table; the generation catches a stale handle after its record has
 * been reused. Every other value is the driver's handle of a pass-through
 * allocation (passthrough_set.c keeps those).
 */
#include <stdlib.h>

#include "layer.h"
#include "record_pool.h"

_Static_assert(MEMORY_HANDLE_GENERATION_MASK == RECORD_POOL_RECORD_ALIGNMENT - 1,
               "a handle's generation fills the low bits a record's alignment leaves free");
#define GENERATION_MASK ((uint64_t)MEMORY_HANDLE_GENERATION_MASK)
_Static_assert(sizeof(suballoc_memory) <= 128, "memory records should stay two cache lines");

static record_pool *records;
static int record_class;
static pthread_once_t records_once = PTHREAD_ONCE_INIT;

static void create_records(void) {
    record_pool_config config = {
        .class_sizes = {sizeof(suballoc_memory)},
        .class_count = 1,
    };
    records = record_pool_create(&config);
    if (records != NULL) record_class = record_pool_class_for_size(records, sizeof(suballoc_memory));
}

bool memory_records_init(void) {
    pthread_once(&records_once, create_records);
    return records != NULL;
}

suballoc_memory *memory_record_alloc(void) {
    suballoc_memory *record = record_pool_alloc(records, record_class);
    if (record == NULL) return NULL;
    /* A fresh slot has an unspecified generation; a reused one keeps its own. */
    record->live = true;
    record->mapped = false;
    record->has_private_data = false;
    atomic_store_explicit(&record->placement, SLICE_MOVABLE, memory_order_relaxed);
    atomic_store_explicit(&record->bound, 0, memory_order_relaxed);
    record->block = NULL;
    record->debug_name = NULL;
    return record;
}

void memory_record_free(suballoc_memory *record) {
    record->live = false;
    record->generation++;
    if (record->debug_name != NULL) {
        free(record->debug_name);
        record->debug_name = NULL;
    }
    record_pool_free(records, record);
}

suballoc_memory *memory_record_of(VkDeviceMemory memory, bool *stale) {
    uint64_t value = (uint64_t)memory;
    *stale = false;
    if (records == NULL || !record_pool_owns(records, value)) return NULL;
    /* Inside the range but not a record's start (forged, or an offset into a
     * record): not a driver handle either, and not safe to read as a record. */
    if (!record_pool_is_record(records, value & ~GENERATION_MASK)) {
        *stale = true;
        return NULL;
    }
    suballoc_memory *record = (suballoc_memory *)(uintptr_t)(value & ~GENERATION_MASK);
    if (!record->live || (record->generation & GENERATION_MASK) != (value & GENERATION_MASK)) {
        *stale = true;
        return NULL;
    }
    return record;
}
