/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_thread_lifetimes: threads that come and go, and frees on other threads.
 *
 *   short_lived: 1,000 threads, a few at a time, each allocating, writing and
 *   freeing some memory and handing the rest to the main thread before it
 *   exits. Whatever a thread kept for itself (per-thread caches, shards) must
 *   not outlive it as a leak or as lost memory: at vkDestroyDevice the
 *   statistics line counts every allocation and no leak, and the driver holds
 *   no more than a kept block per pool.
 *
 *   cross_thread: two threads allocate all the time; each frees what the other
 *   made (handed over through a queue) as well as its own, checking every byte
 *   first. A slice freed on a thread that did not allocate it goes back to the
 *   pool it came from.
 *
 * Run with VK_TRANSPARENT_SUBALLOC_STATS_FILE set (the CMake registration does):
 * the test reads the line the layer writes there.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "robust_vk.h"

#define SHORT_LIVED_THREADS 1000u
#define AT_ONCE 4u
#define PER_THREAD 12u
#define CROSS_ITERATIONS 20000u
#define QUEUE_SLOTS 64u

typedef struct allocation {
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint64_t seed;
} allocation;

typedef struct context {
    robust_vk vk;
    robust_device dev;
    uint32_t type; /* host-visible, coherent */
} context;

static bool make(const context *c, robust_rng *rng, uint64_t seed, allocation *out) {
    out->size = 64 + robust_rng_below(rng, 32 * 1024);
    out->seed = seed;
    if (robust_allocate(c->dev.handle, out->size, c->type, &out->memory) != VK_SUCCESS) return false;
    void *data;
    if (vkMapMemory(c->dev.handle, out->memory, 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS) return false;
    robust_fill(data, (size_t)out->size, seed);
    vkUnmapMemory(c->dev.handle, out->memory);
    return true;
}

/* Checks the pattern, then frees; false when a byte changed. */
static bool check_and_free(const context *c, const allocation *a) {
    void *data;
    bool intact = vkMapMemory(c->dev.handle, a->memory, 0, VK_WHOLE_SIZE, 0, &data) == VK_SUCCESS &&
                  robust_count_wrong(data, (size_t)a->size, a->seed) == 0;
    vkUnmapMemory(c->dev.handle, a->memory);
    vkFreeMemory(c->dev.handle, a->memory, NULL);
    return intact;
}

/* ---- short-lived threads ----------------------------------------------------------- */

typedef struct short_lived {
    const context *c;
    uint32_t index;
    allocation handed[PER_THREAD / 2]; /* for the main thread to free after this one is gone */
    uint32_t handed_count;
    uint32_t failures;
} short_lived;

static void *short_lived_main(void *arg) {
    short_lived *s = arg;
    robust_rng rng = {0x5107ull + s->index};
    allocation own[PER_THREAD];
    for (uint32_t i = 0; i < PER_THREAD; i++)
        if (!make(s->c, &rng, (uint64_t)s->index << 32 | i, &own[i])) s->failures++;
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        if (i % 2 == 0) s->failures += !check_and_free(s->c, &own[i]);
        else s->handed[s->handed_count++] = own[i];
    }
    return NULL;
}

static uint64_t run_short_lived(const context *c) {
    static short_lived threads[SHORT_LIVED_THREADS];
    uint64_t made = 0, failures = 0;
    for (uint32_t first = 0; first < SHORT_LIVED_THREADS; first += AT_ONCE) {
        pthread_t ids[AT_ONCE];
        for (uint32_t t = 0; t < AT_ONCE; t++) {
            threads[first + t] = (short_lived){.c = c, .index = first + t};
            pthread_create(&ids[t], NULL, short_lived_main, &threads[first + t]);
        }
        for (uint32_t t = 0; t < AT_ONCE; t++) pthread_join(ids[t], NULL);
        for (uint32_t t = 0; t < AT_ONCE; t++) { /* freed on a thread that outlived the one that allocated */
            short_lived *s = &threads[first + t];
            for (uint32_t i = 0; i < s->handed_count; i++) failures += !check_and_free(c, &s->handed[i]);
            failures += s->failures;
            made += PER_THREAD;
        }
    }
    EXPECT(failures == 0, "short-lived threads: %llu allocations failed or lost bytes", (unsigned long long)failures);
    return made;
}

/* ---- frees across two busy threads ------------------------------------------------- */

typedef struct queue {
    pthread_mutex_t lock;
    allocation slots[QUEUE_SLOTS];
    uint32_t count;
} queue;

typedef struct crosser {
    const context *c;
    uint32_t index;
    queue *inbox, *outbox;
    _Atomic uint32_t *failures;
} crosser;

static bool push(queue *q, const allocation *a) {
    pthread_mutex_lock(&q->lock);
    bool room = q->count < QUEUE_SLOTS;
    if (room) q->slots[q->count++] = *a;
    pthread_mutex_unlock(&q->lock);
    return room;
}

static bool pop(queue *q, allocation *out) {
    pthread_mutex_lock(&q->lock);
    bool any = q->count > 0;
    if (any) *out = q->slots[--q->count];
    pthread_mutex_unlock(&q->lock);
    return any;
}

static void *crosser_main(void *arg) {
    crosser *x = arg;
    robust_rng rng = {0xC7055ull + x->index};
    allocation kept[8];
    uint32_t kept_count = 0;
    for (uint32_t i = 0; i < CROSS_ITERATIONS; i++) {
        allocation a, theirs;
        if (!make(x->c, &rng, (uint64_t)(x->index + 1) << 40 | i, &a)) {
            atomic_fetch_add(x->failures, 1);
            continue;
        }
        /* Every other one goes to the other thread; the rest stay a while here. */
        if (i % 2 == 0 && push(x->outbox, &a)) {
        } else if (kept_count < 8) {
            kept[kept_count++] = a;
        } else {
            if (!check_and_free(x->c, &kept[0])) atomic_fetch_add(x->failures, 1);
            kept[0] = a;
        }
        if (pop(x->inbox, &theirs) && !check_and_free(x->c, &theirs)) atomic_fetch_add(x->failures, 1);
    }
    for (uint32_t i = 0; i < kept_count; i++)
        if (!check_and_free(x->c, &kept[i])) atomic_fetch_add(x->failures, 1);
    return NULL;
}

static uint64_t run_cross_thread(const context *c) {
    queue queues[2] = {{.lock = PTHREAD_MUTEX_INITIALIZER}, {.lock = PTHREAD_MUTEX_INITIALIZER}};
    _Atomic uint32_t failures = 0;
    crosser x[2] = {{c, 0, &queues[0], &queues[1], &failures}, {c, 1, &queues[1], &queues[0], &failures}};
    pthread_t ids[2];
    for (int t = 0; t < 2; t++) pthread_create(&ids[t], NULL, crosser_main, &x[t]);
    for (int t = 0; t < 2; t++) pthread_join(ids[t], NULL);
    allocation left;
    for (int q = 0; q < 2; q++)
        while (pop(&queues[q], &left))
            if (!check_and_free(c, &left)) atomic_fetch_add(&failures, 1);
    EXPECT(atomic_load(&failures) == 0, "cross-thread frees: %u allocations failed or lost bytes",
           (unsigned)atomic_load(&failures));
    return 2ull * CROSS_ITERATIONS;
}

/* ---- the statistics line ------------------------------------------------------------ */

static uint64_t stats_number(const char *line, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, " %s=", key);
    const char *at = strstr(line, pattern);
    return at != NULL ? strtoull(at + strlen(pattern), NULL, 10) : UINT64_MAX;
}

/* The layer's line for the device just destroyed counts every allocation and no leak. */
static void check_stats_line(uint64_t made) {
    const char *path = getenv("VK_TRANSPARENT_SUBALLOC_STATS_FILE");
    if (path == NULL || path[0] == '\0') return; /* a run by hand, without the layer's line */
    FILE *file = fopen(path, "r");
    char line[2048] = "", last[2048] = "";
    while (file != NULL && fgets(line, sizeof line, file) != NULL) memcpy(last, line, sizeof last);
    if (file != NULL) fclose(file);
    EXPECT_OR_RETURN(last[0] != '\0', "no statistics line in %s", path);
    uint64_t allocations = stats_number(last, "app_allocations"), leaked = stats_number(last, "app_leaked");
    EXPECT(allocations == made, "the statistics line counts %llu allocations, the test made %llu",
           (unsigned long long)allocations, (unsigned long long)made);
    EXPECT(leaked == 0, "the statistics line counts %llu leaked allocations", (unsigned long long)leaked);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    if (strcmp(which, "short_lived") != 0 && strcmp(which, "cross_thread") != 0) {
        fprintf(stderr, "usage: %s short_lived|cross_thread\n", argv[0]);
        return 2;
    }
    const char *path = getenv("VK_TRANSPARENT_SUBALLOC_STATS_FILE");
    if (path != NULL && path[0] != '\0') remove(path);
    context c;
    if (!robust_instance_create(&c.vk) || !robust_device_create(&c.vk, &c.dev)) return 1;
    c.type =
        robust_find_memory_type(&c.vk, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
    EXPECT(c.type != UINT32_MAX, "no host-visible coherent memory type");
    uint64_t made = 0;
    if (c.type != UINT32_MAX) made = strcmp(which, "short_lived") == 0 ? run_short_lived(&c) : run_cross_thread(&c);
    if (robust_has_strict(&c.dev)) {
        StrictDeviceCounters counters = robust_strict_counters(&c.dev);
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t pools = (uint64_t)(cores < 1 ? 1 : cores > 16 ? 16 : cores); /* one type, a pool per core at most */
        EXPECT(counters.live_allocations <= pools, "after every free the driver still holds %llu allocations",
               (unsigned long long)counters.live_allocations);
        EXPECT(counters.violations == 0, "the strict device saw %llu violations",
               (unsigned long long)counters.violations);
    }
    robust_device_destroy(&c.dev);
    robust_instance_destroy(&c.vk);
    check_stats_line(made);
    printf("%s: %llu allocations: %s\n", which, (unsigned long long)made, robust_failures() == 0 ? "passed" : "FAILED");
    return robust_failures() == 0 ? 0 : 1;
}
