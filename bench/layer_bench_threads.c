/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer_bench_threads.c: allocation throughput as threads are added.
 *
 * T threads share one device. Each holds 256 live allocations of 256 B to
 * 64 KiB and, per step, frees one at random and allocates a new one of a new
 * size: a pair. A round runs every thread for a fixed number of steps, started
 * together at a barrier, and counts pairs per second of wall time. Rounds
 * alternate between the sides; the table shows each side's median and its
 * slowest percentile (p99 of the time per pair, as pairs per second).
 *
 * T is 1, 2, 4 and 8 whatever the machine has: more threads than cores is what
 * apps do too, and the layer must not fall over then.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_bench.h"

#define LIVE_PER_THREAD 256u
#define STEPS_PER_ROUND 20000u
#define MAX_THREADS 8u

typedef struct worker {
    side *side;
    pthread_barrier_t *start;
    uint64_t seed;
    VkDeviceMemory live[LIVE_PER_THREAD];
} worker;

static uint64_t next_random(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static VkDeviceMemory allocate_random(side *s, uint64_t *state) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = 256u << (next_random(state) % 9), /* 256 B .. 64 KiB */
        .memoryTypeIndex = s->memory_type,
    };
    info.allocationSize += (next_random(state) % 4) * (info.allocationSize / 4); /* not only powers of two */
    VkDeviceMemory memory;
    VkResult result = s->allocate(s->device, &info, NULL, &memory);
    if (result != VK_SUCCESS) fail("vkAllocateMemory in a bench thread", result);
    return memory;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    side *s = w->side;
    pthread_barrier_wait(w->start);
    for (uint32_t step = 0; step < STEPS_PER_ROUND; step++) {
        uint32_t victim = (uint32_t)(next_random(&w->seed) % LIVE_PER_THREAD);
        s->free(s->device, w->live[victim], NULL);
        w->live[victim] = allocate_random(s, &w->seed);
    }
    return NULL;
}

/* Pairs per second of one round of `threads` threads (on their side). */
static double round_threads(uint32_t threads, worker *workers) {
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, threads + 1);
    pthread_t ids[MAX_THREADS];
    for (uint32_t t = 0; t < threads; t++) {
        workers[t].start = &start;
        pthread_create(&ids[t], NULL, worker_main, &workers[t]);
    }
    uint64_t begin = now_ns();
    pthread_barrier_wait(&start);
    for (uint32_t t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    uint64_t elapsed = now_ns() - begin;
    pthread_barrier_destroy(&start);
    return (double)threads * STEPS_PER_ROUND / ((double)elapsed / 1e9);
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void print_threads_table(side sides[SIDE_COUNT], uint32_t rounds) {
    static const uint32_t thread_counts[] = {1, 2, 4, 8};
    rounds = rounds / 4 + 1; /* a round here is thousands of pairs per thread */
    printf("| threads (M pairs/s: median, p99) |");
    for (int k = 0; k < SIDE_COUNT; k++) printf(" %s | p99 |", sides[k].label);
    printf("\n|---|");
    for (int k = 0; k < SIDE_COUNT; k++) printf("---:|---:|");
    printf("\n");
    for (size_t c = 0; c < sizeof thread_counts / sizeof *thread_counts; c++) {
        uint32_t threads = thread_counts[c];
        static worker workers[SIDE_COUNT][MAX_THREADS];
        double *samples[SIDE_COUNT];
        for (int k = 0; k < SIDE_COUNT; k++) {
            samples[k] = calloc(rounds, sizeof(double));
            for (uint32_t t = 0; t < threads; t++) {
                workers[k][t] = (worker){.side = &sides[k], .seed = 0x9E3779B97F4A7C15ull * (t + 1)};
                for (uint32_t i = 0; i < LIVE_PER_THREAD; i++)
                    workers[k][t].live[i] = allocate_random(&sides[k], &workers[k][t].seed);
            }
            round_threads(threads, workers[k]); /* warm-up: blocks, caches, shards */
        }
        for (uint32_t r = 0; r < rounds; r++)
            for (int k = 0; k < SIDE_COUNT; k++) {
                int i = (int)((r + (uint32_t)k) % SIDE_COUNT);
                samples[i][r] = round_threads(threads, workers[i]);
            }
        printf("| %u |", threads);
        for (int k = 0; k < SIDE_COUNT; k++) {
            qsort(samples[k], rounds, sizeof(double), compare_double);
            size_t slow = rounds / 100; /* the slowest percentile: lowest throughput */
            printf(" %.2f | %.2f |", samples[k][rounds / 2] / 1e6, samples[k][slow] / 1e6);
            free(samples[k]);
            for (uint32_t t = 0; t < threads; t++)
                for (uint32_t i = 0; i < LIVE_PER_THREAD; i++)
                    sides[k].free(sides[k].device, workers[k][t].live[i], NULL);
        }
        printf("\n");
        fflush(stdout);
    }
}
