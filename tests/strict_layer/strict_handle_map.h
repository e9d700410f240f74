/*
 * strict_handle_map.h: a map from 64-bit Vulkan handles to records.
 *
 * Open addressing with linear probing; deletion shifts the following entries
 * back, so there are no tombstones and lookups stay short. Not thread-safe:
 * the device lock guards it. Key 0 (VK_NULL_HANDLE) cannot be stored.
 */
#ifndef STRICT_HANDLE_MAP_H
#define STRICT_HANDLE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct StrictHandleMapEntry {
    uint64_t key;
    void *value;
} StrictHandleMapEntry;

typedef struct StrictHandleMap {
    StrictHandleMapEntry *entries;
    size_t capacity; /* a power of two, or 0 before the first insert */
    size_t count;
} StrictHandleMap;

void strict_handle_map_init(StrictHandleMap *map);
void strict_handle_map_free(StrictHandleMap *map);

/* False when the host is out of memory; the map is unchanged then. */
bool strict_handle_map_insert(StrictHandleMap *map, uint64_t key, void *value);
void *strict_handle_map_find(const StrictHandleMap *map, uint64_t key);
/* Removes the key and returns its value, or NULL when it was not there. */
void *strict_handle_map_remove(StrictHandleMap *map, uint64_t key);

/* Calls visit for every value; visit must not change the map. */
void strict_handle_map_for_each(const StrictHandleMap *map, void (*visit)(void *value, void *context), void *context);

#endif
