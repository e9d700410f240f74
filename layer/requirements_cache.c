/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requirements_cache.c: the requirements of resources a thread just asked about.
 *
 * A bind into a layer handle is checked against the resource's requirements
 * (alignment, size, memory type). Asking the driver again on every bind cost
 * more than the bind itself, yet apps ask first: create, query, allocate, bind,
 * often on one thread. So each thread keeps what its recent queries answered,
 * by resource handle, in a small two-way set-associative table on the heap
 * (32 bytes an answer, four a set; made on the thread's first query,
 * freed when it exits).
 *
 * A handle may be reused after its resource is destroyed, which the layer does
 * not see, so an entry is a hint: a bind the cached requirements accept goes
 * ahead, and one they would refuse is checked again with a fresh query before
 * anything is refused. A stale entry can therefore never refuse a valid bind.
 */
#include <stdlib.h>
#include <string.h>

#include "layer.h"

#define CACHED_RESOURCES 1024u /* 32 KiB, for threads that ask: a scene's worth of resources */
#define WAYS 4u                /* entries per set, the newest first: two cache lines */
#define SETS (CACHED_RESOURCES / WAYS)

typedef struct cached_requirements {
    uint64_t handle;
    const suballoc_device *device;
    uint64_t size;
    uint32_t memory_type_bits;
    uint8_t alignment_log2; /* the alignment, rounded up to a power of two as binds check it */
    uint8_t type;           /* VK_OBJECT_TYPE_BUFFER or _IMAGE */
} cached_requirements;
_Static_assert(sizeof(cached_requirements) == 32, "two answers a cache line");

static __thread cached_requirements *cache __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void make_cache_key(void) { pthread_key_create(&cache_key, free); }

/* Handles are often heap addresses a fixed stride apart, and a scene creates
 * and queries hundreds of resources before it binds any: a bare multiply sent
 * some strides to one slot (two binds in five asked the driver again in
 * layer_bench's bind row), so the handle is mixed fully (splitmix64's
 * finalizer) and a set keeps four answers. */
static cached_requirements *set_of(uint64_t handle) {
    uint64_t x = handle;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return &cache[(x & (SETS - 1)) * WAYS];
}

void requirements_cache_put(const suballoc_device *device, VkObjectType type, uint64_t handle,
                            const VkMemoryRequirements *requirements) {
    if (cache == NULL) {
        pthread_once(&cache_once, make_cache_key);
        cache = aligned_alloc(64, CACHED_RESOURCES * sizeof *cache);
        if (cache == NULL) return; /* binds then ask the driver */
        memset(cache, 0, CACHED_RESOURCES * sizeof *cache);
        pthread_setspecific(cache_key, cache);
    }
    cached_requirements *set = set_of(handle);
    unsigned way = 0;
    while (way < WAYS - 1 && set[way].handle != handle) way++;
    memmove(&set[1], &set[0], way * sizeof *set); /* the oldest answer, or this handle's old one, gives way */
    set[0] = (cached_requirements){
        .handle = handle,
        .device = device,
        .size = requirements->size,
        .memory_type_bits = requirements->memoryTypeBits,
        .alignment_log2 = (uint8_t)__builtin_ctzll(pow2_at_least(requirements->alignment)),
        .type = (uint8_t)type,
    };
}

static bool matches(const cached_requirements *entry, const suballoc_device *device, VkObjectType type,
                    uint64_t handle) {
    return entry->handle == handle && entry->device == device && entry->type == (uint8_t)type;
}

bool requirements_cache_get(const suballoc_device *device, VkObjectType type, uint64_t handle,
                            VkMemoryRequirements *out) {
    if (cache == NULL) return false;
    const cached_requirements *set = set_of(handle);
    for (unsigned way = 0; way < WAYS; way++) {
        if (matches(&set[way], device, type, handle)) {
            *out = (VkMemoryRequirements){
                .size = set[way].size,
                .alignment = (VkDeviceSize)1 << set[way].alignment_log2,
                .memoryTypeBits = set[way].memory_type_bits,
            };
            return true;
        }
    }
    return false;
}
