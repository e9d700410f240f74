/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requirements_cache.c: the requirements of resources a thread just asked about.
 *
 * A bind into a layer handle is checked against the resource's requirements
 * (alignment, size, memory type). Asking the driver again on every bind cost
 * more than the bind itself, yet apps ask first: create, query, allocate, bind,
 * often on one thread. So each thread keeps what its recent queries answered,
 * by resource handle, in a small direct-mapped table on the heap (made on its
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

static cached_requirements *slot_of(uint64_t handle) {
    return &cache[((handle * 0x9E3779B97F4A7C15ull) >> 54) & (CACHED_RESOURCES - 1)];
}

void requirements_cache_put(const suballoc_device *device, VkObjectType type, uint64_t handle,
                            const VkMemoryRequirements *requirements) {
    if (cache == NULL) {
        pthread_once(&cache_once, make_cache_key);
        cache = calloc(CACHED_RESOURCES, sizeof *cache);
        if (cache == NULL) return; /* binds then ask the driver */
        pthread_setspecific(cache_key, cache);
    }
    *slot_of(handle) = (cached_requirements){device, handle, type, *requirements};
}

bool requirements_cache_get(const suballoc_device *device, VkObjectType type, uint64_t handle,
                            VkMemoryRequirements *out) {
    if (cache == NULL) return false;
    const cached_requirements *slot = slot_of(handle);
    if (slot->device != device || slot->handle != handle || slot->type != type) return false;
    *out = slot->requirements;
    return true;
}
