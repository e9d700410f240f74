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
#include <stddef.h>
#include <stdlib.h>

#include "layer.h"
#include "record_pool.h"

_Static_assert(MEMORY_HANDLE_GENERATION_MASK == RECORD_POOL_RECORD_ALIGNMENT - 1,
               "a handle's generation fills the low bits a record's alignment leaves free");
_Static_assert(sizeof(suballoc_memory) <= MEMORY_RECORD_BYTES, "memory records should stay two cache lines");
_Static_assert(offsetof(suballoc_memory, reserved) == 64, "a bind, map or unmap reads one cache line of its record");

static record_pool *records;
static pthread_once_t records_once = PTHREAD_ONCE_INIT;
memory_record_range memory_records;

static void create_records(void) {
    record_pool_config config = {
        .class_sizes = {MEMORY_RECORD_BYTES},
        .class_count = 1,
    };
    records = record_pool_create(&config);
    record_pool_span span;
    if (!record_pool_class_span(records, 0, &span) || span.record_size != MEMORY_RECORD_BYTES) return;
    memory_records = (memory_record_range){span.base, span.bytes, span.carved_bytes};
}

bool memory_records_init(void) {
    pthread_once(&records_once, create_records);
    return memory_records.bytes != 0;
}

suballoc_memory *memory_record_alloc(void) {
    suballoc_memory *record = record_pool_alloc(records, 0);
    if (record == NULL) return NULL;
    /* A fresh slot has an unspecified generation; a reused one keeps its own. */
    record->live = true;
    record->mapped = false;
    record->has_private_data = false;
    atomic_store_explicit(&record->placement, SLICE_MOVABLE, memory_order_relaxed);
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
