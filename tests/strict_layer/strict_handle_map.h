/* SPDX-License-Identifier: Apache-2.0 */
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

typedef struct strict_handle_map_entry {
    uint64_t key;
    void *value;
} strict_handle_map_entry;

typedef struct strict_handle_map {
    strict_handle_map_entry *entries;
    size_t capacity; /* a power of two, or 0 before the first insert */
    size_t count;
} strict_handle_map;

void strict_handle_map_init(strict_handle_map *map);
void strict_handle_map_free(strict_handle_map *map);

/* False when the host is out of memory; the map is unchanged then. */
bool strict_handle_map_insert(strict_handle_map *map, uint64_t key, void *value);
void *strict_handle_map_find(const strict_handle_map *map, uint64_t key);
/* Removes the key and returns its value, or NULL when it was not there. */
void *strict_handle_map_remove(strict_handle_map *map, uint64_t key);

/* Calls visit for every value; visit must not change the map. */
void strict_handle_map_for_each(const strict_handle_map *map, void (*visit)(void *value, void *context), void *context);

#endif
