/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passthrough_set.c: the driver allocations an app holds directly.
 *
 * Pass-through memory keeps the driver's own handle, so the layer cannot tell
 * it from a foreign or freed one by looking at it. This small hash set per
 * device (open addressing over the driver's handles) lets frees of handles the
 * device never gave out be refused, lets vkDestroyDevice release what the
 * app leaked, and gives the JSON dump each one's size, type and debug name.
 */
#include <stdlib.h>
#include <string.h>

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
    set->entries = calloc(set->capacity, sizeof *set->entries);
    return set->slots != NULL && set->entries != NULL;
}

static bool is_member(VkDeviceMemory slot) { return slot != SLOT_EMPTY && slot != SLOT_DELETED; }

void passthrough_set_destroy(passthrough_set *set) {
    for (uint32_t i = 0; set->slots != NULL && set->entries != NULL && i < set->capacity; i++)
        if (is_member(set->slots[i])) free(set->entries[i].name);
    free(set->slots);
    free(set->entries);
    set->slots = NULL;
    set->entries = NULL;
    pthread_mutex_destroy(&set->lock);
}

static void insert_unchecked(passthrough_set *set, VkDeviceMemory memory, const passthrough_entry *entry) {
    uint32_t i = slot_of(set, memory);
    while (is_member(set->slots[i])) i = (i + 1) & (set->capacity - 1);
    if (set->slots[i] == SLOT_DELETED) set->tombstones--;
    set->slots[i] = memory;
    set->entries[i] = *entry;
    set->count++;
}

static bool rehash(passthrough_set *set, uint32_t capacity) {
    VkDeviceMemory *slots = calloc(capacity, sizeof *slots);
    passthrough_entry *entries = calloc(capacity, sizeof *entries);
    if (slots == NULL || entries == NULL) {
        free(slots);
        free(entries);
        return false;
    }
    VkDeviceMemory *old_slots = set->slots;
    passthrough_entry *old_entries = set->entries;
    uint32_t old_capacity = set->capacity;
    set->slots = slots;
    set->entries = entries;
    set->capacity = capacity;
    set->count = set->tombstones = 0;
    for (uint32_t i = 0; i < old_capacity; i++)
        if (is_member(old_slots[i])) insert_unchecked(set, old_slots[i], &old_entries[i]);
    free(old_slots);
    free(old_entries);
    return true;
}

bool passthrough_set_insert(passthrough_set *set, VkDeviceMemory memory, uint64_t size, uint32_t memory_type) {
    bool ok = true;
    pthread_mutex_lock(&set->lock);
    if ((set->count + set->tombstones + 1) * 4 > set->capacity * 3) {
        uint32_t capacity = set->count * 2 + 2 > set->capacity ? set->capacity * 2 : set->capacity;
        ok = rehash(set, capacity);
    }
    if (ok) insert_unchecked(set, memory, &(passthrough_entry){.size = size, .memory_type = memory_type});
    pthread_mutex_unlock(&set->lock);
    return ok;
}

/* The slot holding memory, or UINT32_MAX. Lock held. */
static uint32_t find_locked(const passthrough_set *set, VkDeviceMemory memory) {
    if (!is_member(memory)) return UINT32_MAX;
    for (uint32_t i = slot_of(set, memory); set->slots[i] != SLOT_EMPTY; i = (i + 1) & (set->capacity - 1))
        if (set->slots[i] == memory) return i;
    return UINT32_MAX;
}

bool passthrough_set_remove(passthrough_set *set, VkDeviceMemory memory, uint64_t *size) {
    char *name = NULL;
    pthread_mutex_lock(&set->lock);
    uint32_t i = find_locked(set, memory);
    if (i != UINT32_MAX) {
        set->slots[i] = SLOT_DELETED;
        *size = set->entries[i].size;
        name = set->entries[i].name;
        set->entries[i].name = NULL;
        set->count--;
        set->tombstones++;
    }
    pthread_mutex_unlock(&set->lock);
    free(name);
    return i != UINT32_MAX;
}

bool passthrough_set_name(passthrough_set *set, VkDeviceMemory memory, const char *name) {
    char *copy = (name != NULL && name[0] != '\0') ? strdup(name) : NULL;
    char *old = copy;
    pthread_mutex_lock(&set->lock);
    uint32_t i = find_locked(set, memory);
    if (i != UINT32_MAX) {
        old = set->entries[i].name;
        set->entries[i].name = copy;
    }
    pthread_mutex_unlock(&set->lock);
    free(old); /* the replaced name, or the unused copy */
    return i != UINT32_MAX;
}

void passthrough_set_visit(passthrough_set *set,
                           void (*fn)(void *user, VkDeviceMemory memory, const passthrough_entry *entry), void *user) {
    pthread_mutex_lock(&set->lock);
    for (uint32_t i = 0; i < set->capacity; i++)
        if (is_member(set->slots[i])) fn(user, set->slots[i], &set->entries[i]);
    pthread_mutex_unlock(&set->lock);
}

void passthrough_set_drain(passthrough_set *set, void (*fn)(void *user, VkDeviceMemory memory, uint64_t size),
                           void *user) {
    pthread_mutex_lock(&set->lock);
    for (uint32_t i = 0; i < set->capacity; i++) {
        if (!is_member(set->slots[i])) continue;
        fn(user, set->slots[i], set->entries[i].size);
        free(set->entries[i].name);
        set->entries[i].name = NULL;
        set->slots[i] = SLOT_DELETED;
    }
    set->count = 0;
    set->tombstones = 0;
    for (uint32_t i = 0; i < set->capacity; i++) set->slots[i] = SLOT_EMPTY;
    pthread_mutex_unlock(&set->lock);
}
