/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_threads: eight threads share one device and its pools.
 *
 * Each thread allocates (sometimes exactly a buffer's requirements, as engines
 * do), maps, writes a pattern that belongs to that thread and that allocation,
 * binds buffers (vkBindBufferMemory and vkBindBufferMemory2), unmaps, maps
 * again, and frees in random order, checking every byte before each free. Now
 * and then a thread hands a live allocation to another thread, which checks it
 * and frees it there: records and slices then die on a thread that did not make
 * them. At the end every thread checks and frees what it still holds.
 *
 * Two allocations that overlap, a slice handed out twice, a mapping pointing at
 * the wrong bytes, or a lost flush show up as a pattern mismatch. Data races in
 * the layer show up under ThreadSanitizer (the CI runs the "threads" label in
 * its TSan build, with fewer iterations: ROBUST_THREAD_ITERATIONS).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "robust_vk.h"

#define THREADS 8u
#define DEFAULT_ITERATIONS 2500000u /* per thread: about 58 M Vulkan calls, 20-45 s here */
#define LIVE_PER_THREAD 96u
#define HANDOFF_SLOTS 64u

typedef struct allocation {
    VkDeviceMemory memory;
    VkBuffer buffer;
    VkDeviceSize size;
    uint32_t type;
    uint64_t seed; /* thread << 48 | serial: no two allocations share a pattern */
    unsigned char *mapped;
} allocation;

/* Allocations in flight from one thread to another. */
typedef struct handoff {
    pthread_mutex_t lock;
    allocation slots[HANDOFF_SLOTS];
    uint32_t count;
} handoff;

typedef struct shared {
    const robust_vk *vk;
    VkDevice device;
    uint32_t types[VK_MAX_MEMORY_TYPES]; /* host-visible types the threads use */
    uint32_t type_count;
    uint64_t iterations;
    handoff handoff;
    _Atomic uint64_t operations;
    _Atomic uint64_t bytes_verified;
} shared;

typedef struct worker {
    shared *shared;
    uint32_t index;
    robust_rng rng;
    uint64_t serial;
    allocation live[LIVE_PER_THREAD];
    uint32_t live_count;
    uint64_t operations; /* Vulkan calls made */
    uint64_t bytes_verified;
} worker;

/* ---- one allocation's life ------------------------------------------------------------ */

static bool coherent(const shared *s, uint32_t type) {
    return robust_type_has(s->vk, type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
}

static void sync_range(worker *w, const allocation *a, bool flush) {
    if (coherent(w->shared, a->type)) return;
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = a->memory, .size = VK_WHOLE_SIZE};
    VkResult result = flush ? vkFlushMappedMemoryRanges(w->shared->device, 1, &range)
                            : vkInvalidateMappedMemoryRanges(w->shared->device, 1, &range);
    w->operations++;
    EXPECT(result == VK_SUCCESS, "thread %u: %s returned %s", w->index, flush ? "flush" : "invalidate",
           robust_result_name(result));
}

static bool map(worker *w, allocation *a) {
    if (a->mapped != NULL) return true;
    void *data = NULL;
    VkResult result = vkMapMemory(w->shared->device, a->memory, 0, VK_WHOLE_SIZE, 0, &data);
    w->operations++;
    EXPECT(result == VK_SUCCESS, "thread %u: vkMapMemory returned %s", w->index, robust_result_name(result));
    a->mapped = result == VK_SUCCESS ? data : NULL;
    return a->mapped != NULL;
}

static void unmap(worker *w, allocation *a) {
    if (a->mapped == NULL) return;
    vkUnmapMemory(w->shared->device, a->memory);
    w->operations++;
    a->mapped = NULL;
}

static void verify(worker *w, allocation *a, const char *when) {
    if (!map(w, a)) return;
    sync_range(w, a, false);
    size_t wrong = robust_count_wrong(a->mapped, (size_t)a->size, a->seed);
    EXPECT(wrong == 0, "thread %u, %s: %zu of %llu bytes of allocation %llx (type %u) changed", w->index, when, wrong,
           (unsigned long long)a->size, (unsigned long long)a->seed, a->type);
    w->bytes_verified += a->size;
}

static void release(worker *w, allocation *a) {
    unmap(w, a);
    VkDevice device = w->shared->device;
    if (a->buffer != VK_NULL_HANDLE) {
        vkDestroyBuffer(device, a->buffer, NULL);
        w->operations++;
    }
    vkFreeMemory(device, a->memory, NULL);
    w->operations++;
}

/* A buffer bound at offset 0, through either bind entry point. */
static void bind_buffer(worker *w, allocation *a, VkBuffer buffer) {
    VkResult result;
    if (robust_rng_below(&w->rng, 2) == 0) {
        result = vkBindBufferMemory(w->shared->device, buffer, a->memory, 0);
    } else {
        VkBindBufferMemoryInfo info = {
            .sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, .buffer = buffer, .memory = a->memory};
        result = vkBindBufferMemory2(w->shared->device, 1, &info);
    }
    w->operations++;
    EXPECT(result == VK_SUCCESS, "thread %u: bind returned %s", w->index, robust_result_name(result));
    if (result == VK_SUCCESS) a->buffer = buffer;
    else vkDestroyBuffer(w->shared->device, buffer, NULL);
}

static VkDeviceSize random_size(worker *w) {
    VkDeviceSize base = 64ull << robust_rng_below(&w->rng, 8); /* 64 B .. 8 KiB, and up to twice that */
    return base + robust_rng_below(&w->rng, base);
}

static void allocate(worker *w) {
    shared *s = w->shared;
    allocation a = {.type = s->types[robust_rng_below(&w->rng, s->type_count)]};
    a.size = random_size(w);
    VkBuffer buffer = VK_NULL_HANDLE;
    bool with_buffer = robust_rng_below(&w->rng, 3) == 0;
    if (with_buffer) { /* the engine pattern: requirements first, then exactly that much */
        EXPECT(robust_create_buffer(s->device, a.size, &buffer) == VK_SUCCESS, "thread %u: vkCreateBuffer", w->index);
        VkMemoryRequirements req;
        vkGetBufferMemoryRequirements(s->device, buffer, &req);
        w->operations += 2;
        a.size = req.size;
    }
    VkResult result = robust_allocate(s->device, a.size, a.type, &a.memory);
    w->operations++;
    EXPECT(result == VK_SUCCESS, "thread %u: vkAllocateMemory(%llu) returned %s", w->index, (unsigned long long)a.size,
           robust_result_name(result));
    if (result != VK_SUCCESS) {
        if (with_buffer) vkDestroyBuffer(s->device, buffer, NULL);
        return;
    }
    if (with_buffer) bind_buffer(w, &a, buffer);
    a.seed = (uint64_t)w->index << 48 | ++w->serial;
    if (map(w, &a)) {
        robust_fill(a.mapped, (size_t)a.size, a.seed);
        sync_range(w, &a, true);
    }
    if (robust_rng_below(&w->rng, 2) == 0) unmap(w, &a);
    w->live[w->live_count++] = a;
}

static allocation take_random(worker *w) {
    uint32_t i = (uint32_t)robust_rng_below(&w->rng, w->live_count);
    allocation a = w->live[i];
    w->live[i] = w->live[--w->live_count];
    return a;
}

static void free_one(worker *w) {
    allocation a = take_random(w);
    verify(w, &a, "before its free");
    release(w, &a);
}

static void remap_one(worker *w) {
    allocation *a = &w->live[robust_rng_below(&w->rng, w->live_count)];
    unmap(w, a);
    verify(w, a, "after a remap");
}

/* ---- handing allocations between threads -------------------------------------------------- */

static void give_away(worker *w) {
    handoff *h = &w->shared->handoff;
    allocation a = take_random(w);
    unmap(w, &a);
    pthread_mutex_lock(&h->lock);
    bool placed = h->count < HANDOFF_SLOTS;
    if (placed) h->slots[h->count++] = a;
    pthread_mutex_unlock(&h->lock);
    if (!placed) w->live[w->live_count++] = a;
}

/* Checks and frees one allocation another thread made (or any, at the end). */
static bool adopt_one(worker *w) {
    handoff *h = &w->shared->handoff;
    pthread_mutex_lock(&h->lock);
    bool found = h->count > 0;
    allocation a = found ? h->slots[--h->count] : (allocation){0};
    pthread_mutex_unlock(&h->lock);
    if (!found) return false;
    verify(w, &a, "adopted from another thread");
    release(w, &a);
    return true;
}

/* ---- the threads ------------------------------------------------------------------------- */

static void *work(void *argument) {
    worker *w = argument;
    for (uint64_t i = 0; i < w->shared->iterations; i++) {
        uint64_t dice = robust_rng_below(&w->rng, 100);
        if (w->live_count == 0 || (dice < 45 && w->live_count < LIVE_PER_THREAD)) allocate(w);
        else if (dice < 85) free_one(w);
        else if (dice < 95) remap_one(w);
        else if (dice < 98) give_away(w);
        else adopt_one(w);
    }
    while (w->live_count > 0) {
        allocation a = take_random(w);
        verify(w, &a, "at the end");
        release(w, &a);
    }
    atomic_fetch_add(&w->shared->operations, w->operations);
    atomic_fetch_add(&w->shared->bytes_verified, w->bytes_verified);
    return NULL;
}

static void pick_types(shared *s) {
    VkMemoryPropertyFlags skip = VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT;
    for (uint32_t t = 0; t < s->vk->memory.memoryTypeCount; t++)
        if (robust_type_has(s->vk, t, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            !(s->vk->memory.memoryTypes[t].propertyFlags & skip))
            s->types[s->type_count++] = t;
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) * 1e-9;
}

static void run_threads(shared *s) {
    static worker workers[THREADS];
    pthread_t threads[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        workers[i] = (worker){.shared = s, .index = i, .rng = {0x1234567ull + 7919ull * i}};
        EXPECT(pthread_create(&threads[i], NULL, work, &workers[i]) == 0, "pthread_create %u", i);
    }
    for (uint32_t i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    worker last = {.shared = s, .index = THREADS, .rng = {1}};
    while (adopt_one(&last)) {}
    atomic_fetch_add(&s->operations, last.operations);
    atomic_fetch_add(&s->bytes_verified, last.bytes_verified);
}

int main(void) {
    robust_vk vk;
    robust_device dev;
    if (!robust_instance_create(&vk) || !robust_device_create(&vk, &dev)) return 1;
    shared s = {.vk = &vk, .device = dev.handle};
    s.iterations = robust_env_u64("ROBUST_THREAD_ITERATIONS", DEFAULT_ITERATIONS);
    pthread_mutex_init(&s.handoff.lock, NULL);
    pick_types(&s);
    EXPECT(s.type_count > 0, "no host-visible memory type");

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (s.type_count > 0) run_threads(&s);
    double elapsed = seconds_since(&start);
    uint64_t operations = atomic_load(&s.operations);
    printf("%u threads x %llu iterations: %llu Vulkan calls in %.1f s (%.2f M calls/s), %.1f MB verified\n", THREADS,
           (unsigned long long)s.iterations, (unsigned long long)operations, elapsed,
           (double)operations / elapsed / 1e6, (double)atomic_load(&s.bytes_verified) / 1e6);
    if (robust_has_strict(&dev)) {
        StrictDeviceCounters c = robust_strict_counters(&dev);
        EXPECT(c.violations == 0, "the strict layer saw %llu violations", (unsigned long long)c.violations);
        /* At most one kept (empty) block per pool: one pool per type and core,
         * since threads that collide spread over a pool per core. */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t pools = (uint64_t)s.type_count * (uint64_t)(cores < 1 ? 1 : cores > 16 ? 16 : cores);
        EXPECT(c.live_allocations <= pools, "the driver still holds %llu allocations after every free (%llu pools)",
               (unsigned long long)c.live_allocations, (unsigned long long)pools);
    }
    robust_device_destroy(&dev);
    robust_instance_destroy(&vk);
    pthread_mutex_destroy(&s.handoff.lock);
    printf("threads: %s\n", robust_failures() == 0 ? "passed" : "FAILED");
    return robust_failures() == 0 ? 0 : 1;
}
