/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requirements_cache.h: the requirements of resources a thread just asked
 * about (requirements_cache.c says why). The lookup is inline: every bind
 * into a layer handle starts with it.
 */
#ifndef SUBALLOC_REQUIREMENTS_CACHE_H
#define SUBALLOC_REQUIREMENTS_CACHE_H

#include "layer.h"

#define REQUIREMENTS_CACHE_ENTRIES 1024u /* 32 KiB, for threads that ask: a scene's worth of resources */
#define REQUIREMENTS_CACHE_WAYS 4u       /* entries per set, the newest first: two cache lines */
#define REQUIREMENTS_CACHE_SETS (REQUIREMENTS_CACHE_ENTRIES / REQUIREMENTS_CACHE_WAYS)

/* 32 bytes: what a bind checks, no more. */
typedef struct cached_requirements {
    uint64_t handle;
    uint64_t size;
    uint32_t device_serial; /* suballoc_device.serial: never reused, unlike a device's address */
    uint32_t memory_type_bits;
    uint32_t destroys;      /* the handle's destroy count when the driver answered */
    uint8_t alignment_log2; /* the alignment, rounded up to a power of two as binds check it */
    uint8_t type;           /* VK_OBJECT_TYPE_BUFFER or _IMAGE */
} cached_requirements;

/* Handles are often heap addresses a fixed stride apart, and a scene creates
 * and queries hundreds of resources before it binds any. One way per set and
 * a bare multiply sent some strides to one slot (two binds in five asked the
 * driver again in layer_bench's bind row); with four ways, Fibonacci hashing
 * of the folded handle misses as rarely as a full mix (splitmix64's
 * finalizer, tried: 13-31 against 18-28 misses in 512 binds) for less work.
 * The set is the product's top 8 bits, the destroy bucket (below) 12 others. */
static inline uint64_t requirements_cache_hash(uint64_t handle) {
    return (handle ^ (handle >> 32)) * 0x9E3779B97F4A7C15ull;
}

/* Buffers and images destroyed, counted by handle bucket, on every thread:
 * the driver hands a destroyed resource's handle to the next one, so an
 * answer holds only while its bucket's count is what it was when the driver
 * gave it. A destroy always comes before its handle's reuse, and the app must
 * order that reuse before the bind (it handed the new handle over), so a bind
 * on any thread sees the count move. Another handle of the bucket destroyed
 * meanwhile costs one needless query, nothing else. */
#define REQUIREMENTS_CACHE_DESTROY_BUCKETS 4096u
extern _Atomic uint32_t requirements_cache_destroys[REQUIREMENTS_CACHE_DESTROY_BUCKETS];

static inline _Atomic uint32_t *requirements_cache_destroys_of(uint64_t handle) {
    return &requirements_cache_destroys[(requirements_cache_hash(handle) >> 32) &
                                        (REQUIREMENTS_CACHE_DESTROY_BUCKETS - 1)];
}

/* Called before the driver destroys a buffer or image (memory_allocate.c). */
static inline void requirements_cache_note_destroy(uint64_t handle) {
    atomic_fetch_add_explicit(requirements_cache_destroys_of(handle), 1, memory_order_relaxed);
}

/* The calling thread's last answer, whichever resource it was for: the
 * resource an allocation right after it is most likely made for. */
extern __thread cached_requirements requirements_last __attribute__((tls_model("initial-exec")));

/* The calling thread's table; NULL until its first query. */
extern __thread cached_requirements *requirements_cache __attribute__((tls_model("initial-exec")));

static inline cached_requirements *requirements_cache_set(uint64_t handle) {
    return &requirements_cache[(requirements_cache_hash(handle) >> 56) * REQUIREMENTS_CACHE_WAYS];
}
_Static_assert(REQUIREMENTS_CACHE_SETS == 256, "the set index is the top 8 bits of the product");

/* A hint, never proof: the handle may have been reused since (memory_bind.c
 * asks the driver again before it refuses a bind on what the table says). */
void requirements_cache_put(const suballoc_device *device, VkObjectType type, uint64_t handle,
                            const VkMemoryRequirements *requirements);

/* This thread's answer for the resource, or NULL. */
static inline const cached_requirements *requirements_cache_find(const suballoc_device *device, VkObjectType type,
                                                                 uint64_t handle) {
    if (requirements_cache == NULL) return NULL;
    const cached_requirements *set = requirements_cache_set(handle);
    for (unsigned way = 0; way < REQUIREMENTS_CACHE_WAYS; way++) {
        const cached_requirements *entry = &set[way];
        if (entry->handle == handle && entry->device_serial == device->serial && entry->type == (uint8_t)type)
            return entry->destroys == atomic_load_explicit(requirements_cache_destroys_of(handle), memory_order_relaxed)
                       ? entry
                       : NULL;
    }
    return NULL;
}

static inline bool requirements_cache_get(const suballoc_device *device, VkObjectType type, uint64_t handle,
                                          VkMemoryRequirements *out) {
    const cached_requirements *entry = requirements_cache_find(device, type, handle);
    if (entry == NULL) return false;
    *out = (VkMemoryRequirements){
        .size = entry->size,
        .alignment = (VkDeviceSize)1 << entry->alignment_log2,
        .memoryTypeBits = entry->memory_type_bits,
    };
    return true;
}

#endif
