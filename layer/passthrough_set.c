/*
 * passthrough_set.c: the driver allocations an app holds directly.
 *
 * Pass-through memory keeps the driver's own handle, so the layer cannot tell
 * it from a foreign or freed one by looking at it. This small hash set per
 * device (open addressing over the driver's handles) lets frees of handles the
 * device never gave out be refused, and lets vkDestroyDevice release what the
 * app leaked.
 */
#include <stdlib.h>

#include "layer.h"

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

void passthrough_set_drain(passthrough_set *set, void (*fn)(void *user, VkDeviceMemory memory, uint64_t size), void *user) {
    pthread_mutex_lock(&set->lock);
    for (uint32_t i = 0; i < set->capacity; i++) {
        if (set->slots[i] == SLOT_EMPTY || set->slots[i] == SLOT_DELETED) continue;
        fn(user, set->slots[i], set->sizes[i]);
        set->slots[i] = SLOT_DELETED;
    }
    set->count = 0;
    set->tombstones = 0;
    for (uint32_t i = 0; i < set->capacity; i++) set->slots[i] = SLOT_EMPTY;
    pthread_mutex_unlock(&set->lock);
}
