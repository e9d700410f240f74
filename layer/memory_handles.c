/*
 * memory_handles.c: the two kinds of VkDeviceMemory an app holds.
 *
 * A layer handle is the address of a memory record with a 6-bit generation in
 * its low bits. Records come from one process-wide record pool whose address
 * range nothing else can occupy, so "is this ours?" is a range check, with no
 * lock and no table; the generation catches a stale handle after its record has
 * been reused. Every other value is the driver's handle of a pass-through
 * allocation, kept in a small hash set per device so that frees of foreign or
 * already freed handles never reach the driver.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record_pool.h"

#define GENERATION_MASK ((uint64_t)RECORD_POOL_RECORD_ALIGNMENT - 1)

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
    atomic_store_explicit(&record->placement_fixed, false, memory_order_relaxed);
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

VkDeviceMemory memory_handle_of(const suballoc_memory *record) {
    return (VkDeviceMemory)((uint64_t)(uintptr_t)record | (record->generation & GENERATION_MASK));
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

suballoc_memory *layer_memory_of(suballoc_device *device, const char *caller, VkDeviceMemory memory, bool *invalid) {
    suballoc_memory *record = memory_record_of(memory, invalid);
    if (*invalid) {
        LOG_ERROR(device, "%s: memory 0x%llx is not a live allocation (already freed, or never allocated); the call is ignored",
                  caller, (unsigned long long)memory);
        return NULL;
    }
    if (record != NULL && record->block->pool->device != device) {
        LOG_ERROR(device, "%s: memory 0x%llx belongs to another VkDevice; the call is ignored", caller,
                  (unsigned long long)memory);
        *invalid = true;
        return NULL;
    }
    return record;
}

VkResult slice_translate(suballoc_device *device, const char *caller, suballoc_memory *record, VkDeviceSize offset,
                         uint64_t alignment, VkDeviceMemory *out_memory, VkDeviceSize *out_offset) {
    VkResult result = slice_fix_placement(record, alignment);
    if (result != VK_SUCCESS) {
        LOG_ERROR(device,
                  "%s: memory 0x%llx sits at block offset %llu, which is not aligned to the %llu bytes this use "
                  "needs, and it is already bound or mapped so it cannot move; allocate it again after querying "
                  "this resource's requirements",
                  caller, (unsigned long long)memory_handle_of(record), (unsigned long long)record->offset,
                  (unsigned long long)alignment);
        return result;
    }
    *out_memory = record->block->memory;
    *out_offset = record->offset + offset;
    return VK_SUCCESS;
}

VkResult memory_translate(suballoc_device *device, const char *caller, VkDeviceMemory memory, VkDeviceSize offset,
                          uint64_t alignment, VkDeviceMemory *out_memory, VkDeviceSize *out_offset) {
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, caller, memory, &invalid);
    if (invalid) return VK_ERROR_UNKNOWN;
    if (record == NULL) {
        *out_memory = memory;
        *out_offset = offset;
        return VK_SUCCESS;
    }
    return slice_translate(device, caller, record, offset, alignment, out_memory, out_offset);
}

bool any_layer_memory(const void *items, uint32_t count, size_t stride, size_t member_offset) {
    const unsigned char *bytes = items;
    for (uint32_t i = 0; i < count; i++) {
        VkDeviceMemory memory;
        memcpy(&memory, bytes + (size_t)i * stride + member_offset, sizeof memory);
        bool stale;
        if (memory_record_of(memory, &stale) != NULL || stale) return true;
    }
    return false;
}

/* ---- pass-through set: open addressing over driver handles ----------------------- */

#define SLOT_EMPTY ((VkDeviceMemory)0)
#define SLOT_DELETED ((VkDeviceMemory)1)
#define INITIAL_CAPACITY 64u

static uint32_t slot_of(const passthrough_set *set, VkDeviceMemory memory) {
    uint64_t h = (uint64_t)memory * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    return (uint32_t)(h >> 32) & (set->capacity - 1);
}

bool passthrough_set_init(passthrough_set *set) {
    pthread_mutex_init(&set->lock, NULL);
    set->capacity = INITIAL_CAPACITY;
    set->count = set->tombstones = 0;
    set->slots = calloc(set->capacity, sizeof *set->slots);
    set->sizes = calloc(set->capacity, sizeof *set->sizes);
    return set->slots != NULL && set->sizes != NULL;
}

void passthrough_set_destroy(passthrough_set *set) {
    free(set->slots);
    free(set->sizes);
    set->slots = NULL;
    set->sizes = NULL;
    pthread_mutex_destroy(&set->lock);
}

static void insert_unchecked(passthrough_set *set, VkDeviceMemory memory, uint64_t size) {
    uint32_t i = slot_of(set, memory);
    while (set->slots[i] != SLOT_EMPTY && set->slots[i] != SLOT_DELETED) i = (i + 1) & (set->capacity - 1);
    if (set->slots[i] == SLOT_DELETED) set->tombstones--;
    set->slots[i] = memory;
    set->sizes[i] = size;
    set->count++;
}

static bool rehash(passthrough_set *set, uint32_t capacity) {
    VkDeviceMemory *slots = calloc(capacity, sizeof *slots);
    uint64_t *sizes = calloc(capacity, sizeof *sizes);
    if (slots == NULL || sizes == NULL) {
        free(slots);
        free(sizes);
        return false;
    }
    VkDeviceMemory *old_slots = set->slots;
    uint64_t *old_sizes = set->sizes;
    uint32_t old_capacity = set->capacity;
    set->slots = slots;
    set->sizes = sizes;
    set->capacity = capacity;
    set->count = set->tombstones = 0;
    for (uint32_t i = 0; i < old_capacity; i++)
        if (old_slots[i] != SLOT_EMPTY && old_slots[i] != SLOT_DELETED) insert_unchecked(set, old_slots[i], old_sizes[i]);
    free(old_slots);
    free(old_sizes);
    return true;
}

bool passthrough_set_insert(passthrough_set *set, VkDeviceMemory memory, uint64_t size) {
    bool ok = true;
    pthread_mutex_lock(&set->lock);
    if ((set->count + set->tombstones + 1) * 4 > set->capacity * 3) {
        uint32_t capacity = set->count * 2 + 2 > set->capacity ? set->capacity * 2 : set->capacity;
        ok = rehash(set, capacity);
    }
    if (ok) insert_unchecked(set, memory, size);
    pthread_mutex_unlock(&set->lock);
    return ok;
}

bool passthrough_set_remove(passthrough_set *set, VkDeviceMemory memory, uint64_t *size) {
    bool found = false;
    pthread_mutex_lock(&set->lock);
    if (memory != SLOT_EMPTY && memory != SLOT_DELETED) {
        for (uint32_t i = slot_of(set, memory); set->slots[i] != SLOT_EMPTY; i = (i + 1) & (set->capacity - 1)) {
            if (set->slots[i] != memory) continue;
            set->slots[i] = SLOT_DELETED;
            *size = set->sizes[i];
            set->count--;
            set->tombstones++;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&set->lock);
    return found;
}

void passthrough_set_drain(passthrough_set *set, void (*fn)(void *user, VkDeviceMemory memory), void *user) {
    pthread_mutex_lock(&set->lock);
    for (uint32_t i = 0; i < set->capacity; i++) {
        if (set->slots[i] == SLOT_EMPTY || set->slots[i] == SLOT_DELETED) continue;
        fn(user, set->slots[i]);
        set->slots[i] = SLOT_DELETED;
    }
    set->count = 0;
    set->tombstones = 0;
    for (uint32_t i = 0; i < set->capacity; i++) set->slots[i] = SLOT_EMPTY;
    pthread_mutex_unlock(&set->lock);
}
