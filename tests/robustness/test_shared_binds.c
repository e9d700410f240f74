/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_shared_binds: threads bind into the same allocations at once, while the
 * layer moves those allocations' slices.
 *
 * Binding several resources into one VkDeviceMemory from several threads is
 * valid (the memory is not externally synchronised for binds). The layer may
 * still move a slice nobody has bound or mapped when the first bind needs a
 * stronger alignment than the slice has: here every allocation is as small as
 * an optimal image that needs more alignment than the allocation's size gives
 * (the strict device with STRICT_DEVICE_UNTILED_IMAGES=1: 1 KiB images aligned
 * to 64 KiB; elsewhere, such as on lavapipe, nothing moves), and it is allocated by a
 * thread that never asked for that size's requirements (the layer remembers a
 * thread's queries), so the first bind moves it. Every
 * thread binds its own image at offset 0 of every allocation of the round (the
 * images alias, which is valid), through vkBindImageMemory or vkBindImageMemory2.
 * (A buffer bound first would pin the slice at the buffer's weaker alignment:
 * placement.c says why that one case is refused.)
 *
 * Every bind must succeed, and reach the driver aligned (the strict device
 * aborts on a misaligned one); ThreadSanitizer (CI's "threads" label) checks
 * that no thread reads a slice while another moves it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robust_vk.h"

#define THREADS 4u
#define ALLOCATIONS_PER_ROUND 16u
#define DEFAULT_ROUNDS 300u

typedef struct shared {
    VkDevice device;
    uint32_t type;
    VkDeviceSize size; /* of each allocation: one image's requirements */
    VkDeviceMemory memory[ALLOCATIONS_PER_ROUND];
    uint64_t rounds;
    pthread_barrier_t start, done;
    _Atomic uint64_t binds, failures;
} shared;

typedef struct worker {
    shared *shared;
    uint32_t index;
} worker;

static VkImageCreateInfo small_image(void) {
    return robust_image_info(16, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT);
}

static void count_bind(shared *s, VkResult result, const char *what) {
    atomic_fetch_add(&s->binds, 1);
    if (result == VK_SUCCESS) return;
    if (atomic_fetch_add(&s->failures, 1) < 5) fprintf(stderr, "%s returned %s\n", what, robust_result_name(result));
}

/* One round: an image at 0 of every allocation, in an order of the worker's own. */
static void bind_round(worker *w, uint64_t round, VkImage *images) {
    shared *s = w->shared;
    for (uint32_t k = 0; k < ALLOCATIONS_PER_ROUND; k++) {
        uint32_t i = (k + w->index * 5) % ALLOCATIONS_PER_ROUND;
        VkImageCreateInfo info = small_image();
        if (vkCreateImage(s->device, &info, NULL, &images[i]) != VK_SUCCESS) {
            images[i] = VK_NULL_HANDLE;
            continue;
        }
        VkBindImageMemoryInfo bind = {.sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO,
                                      .image = images[i],
                                      .memory = s->memory[i],
                                      .memoryOffset = 0};
        if (round % 3 == 0) count_bind(s, vkBindImageMemory2(s->device, 1, &bind), "vkBindImageMemory2");
        else count_bind(s, vkBindImageMemory(s->device, images[i], s->memory[i], 0), "vkBindImageMemory");
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    shared *s = w->shared;
    for (uint64_t round = 0; round < s->rounds; round++) {
        VkImage images[ALLOCATIONS_PER_ROUND] = {0};
        pthread_barrier_wait(&s->start);
        bind_round(w, round, images);
        for (uint32_t i = 0; i < ALLOCATIONS_PER_ROUND; i++) vkDestroyImage(s->device, images[i], NULL);
        pthread_barrier_wait(&s->done);
    }
    return NULL;
}

/* The allocations of a round, made after a query that matches none of them, so
 * the layer learns their use only at the first bind. */
static bool allocate_round(shared *s) {
    VkBuffer unrelated;
    if (robust_create_buffer(s->device, 3 * s->size + 12, &unrelated) != VK_SUCCESS) return false;
    VkMemoryRequirements ignored;
    vkGetBufferMemoryRequirements(s->device, unrelated, &ignored);
    vkDestroyBuffer(s->device, unrelated, NULL);
    for (uint32_t i = 0; i < ALLOCATIONS_PER_ROUND; i++)
        if (robust_allocate(s->device, s->size, s->type, &s->memory[i]) != VK_SUCCESS) return false;
    return true;
}

static bool learn_sizes(shared *s, const robust_vk *vk) {
    VkImageCreateInfo info = small_image();
    VkImage image;
    if (vkCreateImage(s->device, &info, NULL, &image) != VK_SUCCESS) return false;
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(s->device, image, &needs);
    vkDestroyImage(s->device, image, NULL);
    s->type = UINT32_MAX;
    for (uint32_t t = 0; t < vk->memory.memoryTypeCount && s->type == UINT32_MAX; t++)
        if ((needs.memoryTypeBits & (1u << t)) && !robust_type_has(vk, t, VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT))
            s->type = t;
    s->size = needs.size;
    printf("allocations of %llu bytes (type %u); each image needs %llu-byte alignment\n", (unsigned long long)s->size,
           s->type, (unsigned long long)needs.alignment);
    return s->type != UINT32_MAX;
}

typedef struct learning {
    shared *shared;
    const robust_vk *vk;
    bool learned;
} learning;

static void *learn_main(void *arg) {
    learning *l = arg;
    l->learned = learn_sizes(l->shared, l->vk);
    return NULL;
}

int main(void) {
    robust_vk vk;
    robust_device dev;
    if (!robust_instance_create(&vk) || !robust_device_create(&vk, &dev)) return 1;
    shared s = {.device = dev.handle, .rounds = robust_env_u64("ROBUST_SHARED_BIND_ROUNDS", DEFAULT_ROUNDS)};
    /* On a thread of its own: the allocating thread must not have asked. */
    learning l = {.shared = &s, .vk = &vk};
    pthread_t learner;
    pthread_create(&learner, NULL, learn_main, &l);
    pthread_join(learner, NULL);
    EXPECT(l.learned, "no memory type takes the image");
    pthread_barrier_init(&s.start, NULL, THREADS + 1);
    pthread_barrier_init(&s.done, NULL, THREADS + 1);
    worker workers[THREADS];
    pthread_t threads[THREADS];
    for (uint32_t t = 0; t < THREADS; t++) {
        workers[t] = (worker){.shared = &s, .index = t};
        pthread_create(&threads[t], NULL, worker_main, &workers[t]);
    }
    for (uint64_t round = 0; round < s.rounds; round++) {
        bool allocated = robust_failures() == 0 && allocate_round(&s);
        EXPECT(allocated || robust_failures() > 0, "round %llu: allocation failed", (unsigned long long)round);
        if (!allocated) memset(s.memory, 0, sizeof s.memory); /* the threads' binds then fail and are counted */
        pthread_barrier_wait(&s.start);
        pthread_barrier_wait(&s.done);
        for (uint32_t i = 0; i < ALLOCATIONS_PER_ROUND; i++) vkFreeMemory(s.device, s.memory[i], NULL);
    }
    for (uint32_t t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);

    uint64_t binds = atomic_load(&s.binds), failures = atomic_load(&s.failures);
    printf("%u threads, %llu rounds: %llu binds into shared allocations, %llu refused\n", THREADS,
           (unsigned long long)s.rounds, (unsigned long long)binds, (unsigned long long)failures);
    EXPECT(binds > 0, "no bind was made");
    EXPECT(failures == 0, "%llu valid binds were refused", (unsigned long long)failures);
    if (robust_has_strict(&dev)) {
        StrictDeviceCounters c = robust_strict_counters(&dev);
        EXPECT(c.violations == 0, "the strict layer saw %llu violations", (unsigned long long)c.violations);
    }
    pthread_barrier_destroy(&s.start);
    pthread_barrier_destroy(&s.done);
    robust_device_destroy(&dev);
    robust_instance_destroy(&vk);
    printf("shared binds: %s\n", robust_failures() == 0 ? "passed" : "FAILED");
    return robust_failures() == 0 ? 0 : 1;
}
