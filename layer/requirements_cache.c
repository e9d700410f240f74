/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requirements_cache.c: the requirements of resources a thread just asked about.
 *
 * A bind into a layer handle is checked against the resource's requirements
 * (alignment, size, memory type). Asking the driver again on every bind cost
 * more than the bind itself, yet apps ask first: create, query, allocate, bind,
 * often on one thread. So each thread keeps what its recent queries answered,
 * by resource handle, in a small two-way set-associative table on the heap (made on its
 * first query, freed when the thread exits).
 *
 * A handle may be reused after its resource is destroyed, which the layer does
 * not see, so an entry is a hint: a bind the cached requirements accept goes
 * ahead, and one they would refuse is checked again with a fresh query before
 * anything is refused. A stale entry can therefore never refuse a valid bind.
 */
#include <stdlib.h>

#include "layer.h"

#define CACHED_RESOURCES 1024u /* 48 KiB, for threads that ask: a scene's worth of resources */
#define WAYS 2u                /* entries per set: the newest first */
#define SETS (CACHED_RESOURCES / WAYS)

typedef struct cached_requirements {
    const suballoc_device *device;
    uint64_t handle;
    VkObjectType type;
    VkMemoryRequirements requirements;
} cached_requirements;

static __thread cached_requirements *cache __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void make_cache_key(void) { pthread_key_create(&cache_key, free); }

/* Handles are often heap addresses a fixed stride apart. A bare multiply sent
 * some strides to one slot, and with one way per set a scene's create-all,
 * then bind-all pattern evicted one entry in six (layer_bench's bind row), so
 * the high bits are folded in and each set keeps the last two answers. */
static cached_requirements *set_of(uint64_t handle) {
    uint64_t mixed = (handle ^ (handle >> 29)) * 0xBF58476D1CE4E5B9ull;
    mixed ^= mixed >> 32;
    return &cache[(mixed & (SETS - 1)) * WAYS];
}

void requirements_cache_put(const suballoc_device *device, VkObjectType type, uint64_t handle,
                            const VkMemoryRequirements *requirements) {
    if (cache == NULL) {
        pthread_once(&cache_once, make_cache_key);
        cache = calloc(CACHED_RESOURCES, sizeof *cache);
        if (cache == NULL) return; /* binds then ask the driver */
        pthread_setspecific(cache_key, cache);
    }
    cached_requirements *set = set_of(handle);
    if (set[0].handle != handle) set[1] = set[0]; /* the older answer gives way */
    set[0] = (cached_requirements){device, handle, type, *requirements};
}

static bool matches(const cached_requirements *entry, const suballoc_device *device, VkObjectType type,
                    uint64_t handle) {
    return entry->handle == handle && entry->device == device && entry->type == type;
}

bool requirements_cache_get(const suballoc_device *device, VkObjectType type, uint64_t handle,
                            VkMemoryRequirements *out) {
    if (cache == NULL) return false;
    const cached_requirements *set = set_of(handle);
    for (unsigned way = 0; way < WAYS; way++) {
        if (matches(&set[way], device, type, handle)) {
            *out = set[way].requirements;
            return true;
        }
    }
    return false;
}
