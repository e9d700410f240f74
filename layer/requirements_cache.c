/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requirements_cache.c: the requirements of resources a thread just asked about.
 *
 * A bind into a layer handle is checked against the resource's requirements
 * (alignment, size, memory type). Asking the driver again on every bind cost
 * more than the bind itself, yet apps ask first: create, query, allocate, bind,
 * often on one thread. So each thread keeps what its recent queries answered,
 * by resource handle, in a small four-way set-associative table on the heap
 * (32 bytes an answer, four a set; made on the thread's first query,
 * freed when it exits).
 *
 * A handle may be reused after its resource is destroyed: every destroy of a
 * buffer or image counts in its handle's bucket, and an answer whose bucket
 * moved since is not used (requirements_cache.h says why that reaches every
 * thread). A bind the cached requirements accept goes ahead; one they would
 * refuse is checked again with a fresh query before anything is refused.
 *
 * The thread's very last answer is also kept on its own: an allocation that
 * follows it is checked against it at once (memory_allocate.c), so that the
 * bind that usually comes next needs no lookup at all (memory_bind.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cache_lines.h"
#include "requirements_cache.h"

_Static_assert(sizeof(cached_requirements) == 32, "two answers a cache line");

__thread cached_requirements *requirements_cache __attribute__((tls_model("initial-exec")));
__thread cached_requirements requirements_last __attribute__((tls_model("initial-exec")));
_Atomic uint32_t requirements_cache_destroys[REQUIREMENTS_CACHE_DESTROY_BUCKETS];
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void make_cache_key(void) { pthread_key_create(&cache_key, free); }

void requirements_cache_put(const suballoc_device *device, VkObjectType type, uint64_t handle,
                            const VkMemoryRequirements *requirements) {
    requirements_last = (cached_requirements){
        .handle = handle,
        .device_serial = device->serial,
        .destroys = atomic_load_explicit(requirements_cache_destroys_of(handle), memory_order_relaxed),
        .size = requirements->size,
        .memory_type_bits = requirements->memoryTypeBits,
        .alignment_log2 = (uint8_t)__builtin_ctzll(pow2_at_least(requirements->alignment)),
        .type = (uint8_t)type,
    };
    if (requirements_cache == NULL) {
        pthread_once(&cache_once, make_cache_key);
        requirements_cache = cache_lines_calloc(REQUIREMENTS_CACHE_ENTRIES * sizeof *requirements_cache);
        if (requirements_cache == NULL) return; /* binds then ask the driver */
        pthread_setspecific(cache_key, requirements_cache);
    }
    cached_requirements *set = requirements_cache_set(handle);
    unsigned way = 0;
    while (way < REQUIREMENTS_CACHE_WAYS - 1 && set[way].handle != handle) way++;
    memmove(&set[1], &set[0], way * sizeof *set); /* the oldest answer, or this handle's old one, gives way */
    set[0] = requirements_last;
}
