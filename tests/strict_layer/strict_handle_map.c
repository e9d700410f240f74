/* SPDX-License-Identifier: Apache-2.0 */
/* strict_handle_map.c: linear probing, backward-shift deletion. */
#include "strict_handle_map.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t capacity) {
    /* Handles are often aligned pointers: mix the bits before masking. */
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & (capacity - 1);
}

void strict_handle_map_init(strict_handle_map *map) { *map = (strict_handle_map){0}; }

void strict_handle_map_free(strict_handle_map *map) {
    free(map->entries);
    *map = (strict_handle_map){0};
}

static void place(strict_handle_map_entry *entries, size_t capacity, uint64_t key, void *value) {
    size_t slot = slot_of(key, capacity);
    while (entries[slot].key != 0) slot = (slot + 1) & (capacity - 1);
    entries[slot] = (strict_handle_map_entry){key, value};
}

static bool grow(strict_handle_map *map) {
    size_t capacity = map->capacity ? map->capacity * 2 : 64;
    strict_handle_map_entry *entries = calloc(capacity, sizeof(*entries));
    if (!entries) return false;
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->entries[i].key != 0) place(entries, capacity, map->entries[i].key, map->entries[i].value);
    }
    free(map->entries);
    map->entries = entries;
    map->capacity = capacity;
    return true;
}

bool strict_handle_map_insert(strict_handle_map *map, uint64_t key, void *value) {
    if (key == 0) return false;
    /* Keep the load under one half so probe runs stay short. */
    if ((map->count + 1) * 2 > map->capacity && !grow(map)) return false;
    place(map->entries, map->capacity, key, value);
    map->count++;
    return true;
}

static size_t find_slot(const strict_handle_map *map, uint64_t key) {
    if (map->capacity == 0 || key == 0) return SIZE_MAX;
    for (size_t slot = slot_of(key, map->capacity);; slot = (slot + 1) & (map->capacity - 1)) {
        if (map->entries[slot].key == key) return slot;
        if (map->entries[slot].key == 0) return SIZE_MAX;
    }
}

void *strict_handle_map_find(const strict_handle_map *map, uint64_t key) {
    size_t slot = find_slot(map, key);
    return slot == SIZE_MAX ? NULL : map->entries[slot].value;
}

/* Whether an entry whose home is `home` may move back into the hole. */
static bool may_fill_hole(size_t hole, size_t home, size_t slot) {
    if (hole <= slot) return home <= hole || home > slot;
    return home <= hole && home > slot;
}

void *strict_handle_map_remove(strict_handle_map *map, uint64_t key) {
    size_t hole = find_slot(map, key);
    if (hole == SIZE_MAX) return NULL;
    void *value = map->entries[hole].value;
    size_t mask = map->capacity - 1;
    for (size_t slot = (hole + 1) & mask; map->entries[slot].key != 0; slot = (slot + 1) & mask) {
        if (may_fill_hole(hole, slot_of(map->entries[slot].key, map->capacity), slot)) {
            map->entries[hole] = map->entries[slot];
            hole = slot;
        }
    }
    map->entries[hole] = (strict_handle_map_entry){0};
    map->count--;
    return value;
}

void strict_handle_map_for_each(const strict_handle_map *map, void (*visit)(void *value, void *context),
                                void *context) {
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->entries[i].key != 0) visit(map->entries[i].value, context);
    }
}
