/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer_bench_threads.c: allocation throughput as threads are added.
 *
 * T threads share one device. Each holds 256 live allocations of 256 B to
 * 64 KiB that it made itself and, per step, frees one at random and allocates
 * a new one of a new size: a pair. The threads live for the whole row, as an
 * engine's workers do (threads that come and go are the robustness tests'
 * business): a round starts them together at a barrier, runs a fixed number
 * of steps on each and counts pairs per second of wall time until the last
 * one is done. Rounds alternate between the sides; the table shows each
 * side's median and its slowest percentile (p99 of the time per pair, as
 * pairs per second).
 *
 * T is 1, 2, 4 and 8 whatever the machine has: more threads than cores is what
 * apps do too, and the layer must not fall over then.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_bench.h"

#define LIVE_PER_THREAD 256u
#define STEPS_PER_ROUND 20000u
#define MAX_THREADS 8u

/* The threads of one side for one row, and the barriers that run their rounds. */
typedef struct crew {
    side *side;
    pthread_barrier_t start, done; /* the threads and the timing thread */
    bool quit;                     /* read after start: the row is over */
} crew;

typedef struct worker {
    crew *crew;
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
    side *s = w->crew->side;
    for (uint32_t i = 0; i < LIVE_PER_THREAD; i++) w->live[i] = allocate_random(s, &w->seed);
    for (;;) {
        pthread_barrier_wait(&w->crew->start);
        if (w->crew->quit) break;
        for (uint32_t step = 0; step < STEPS_PER_ROUND; step++) {
            uint32_t victim = (uint32_t)(next_random(&w->seed) % LIVE_PER_THREAD);
            s->free(s->device, w->live[victim], NULL);
            w->live[victim] = allocate_random(s, &w->seed);
        }
        pthread_barrier_wait(&w->crew->done);
    }
    for (uint32_t i = 0; i < LIVE_PER_THREAD; i++) s->free(s->device, w->live[i], NULL);
    return NULL;
}

static void crew_start(crew *c, side *s, uint32_t threads, worker *workers, pthread_t *ids) {
    *c = (crew){.side = s, .quit = false};
    pthread_barrier_init(&c->start, NULL, threads + 1);
    pthread_barrier_init(&c->done, NULL, threads + 1);
    for (uint32_t t = 0; t < threads; t++) {
        workers[t] = (worker){.crew = c, .seed = 0x9E3779B97F4A7C15ull * (t + 1)};
        if (pthread_create(&ids[t], NULL, worker_main, &workers[t]) != 0)
            fail("pthread_create", VK_ERROR_OUT_OF_HOST_MEMORY);
    }
}

/* Pairs per second of one round of the crew's threads. */
static double crew_round(crew *c, uint32_t threads) {
    uint64_t begin = now_ns();
    pthread_barrier_wait(&c->start);
    pthread_barrier_wait(&c->done);
    uint64_t elapsed = now_ns() - begin;
    return (double)threads * STEPS_PER_ROUND / ((double)elapsed / 1e9);
}

static void crew_stop(crew *c, uint32_t threads, pthread_t *ids) {
    c->quit = true;
    pthread_barrier_wait(&c->start);
    for (uint32_t t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    pthread_barrier_destroy(&c->start);
    pthread_barrier_destroy(&c->done);
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

threads_result print_threads_table(side sides[SIDE_COUNT], uint32_t rounds) {
    static const uint32_t thread_counts[THREAD_ROWS] = {1, 2, 4, 8};
    threads_result result;
    rounds = rounds / 4 + 1; /* a round here is thousands of pairs per thread */
    printf("| threads (M pairs/s: median, p99) |");
    for (int k = 0; k < SIDE_COUNT; k++) printf(" %s | p99 |", sides[k].label);
    printf("\n|---|");
    for (int k = 0; k < SIDE_COUNT; k++) printf("---:|---:|");
    printf("\n");
    for (size_t c = 0; c < THREAD_ROWS; c++) {
        uint32_t threads = thread_counts[c];
        static worker workers[SIDE_COUNT][MAX_THREADS];
        static pthread_t ids[SIDE_COUNT][MAX_THREADS];
        static crew crews[SIDE_COUNT];
        double *samples[SIDE_COUNT];
        for (int k = 0; k < SIDE_COUNT; k++) {
            samples[k] = calloc(rounds, sizeof(double));
            if (samples[k] == NULL) fail("calloc", VK_ERROR_OUT_OF_HOST_MEMORY);
            crew_start(&crews[k], &sides[k], threads, workers[k], ids[k]);
            crew_round(&crews[k], threads); /* warm-up: blocks, caches, shards */
        }
        for (uint32_t r = 0; r < rounds; r++)
            for (int k = 0; k < SIDE_COUNT; k++) {
                int i = (int)((r + (uint32_t)k) % SIDE_COUNT);
                samples[i][r] = crew_round(&crews[i], threads);
            }
        printf("| %u |", threads);
        for (int k = 0; k < SIDE_COUNT; k++) {
            crew_stop(&crews[k], threads, ids[k]);
            qsort(samples[k], rounds, sizeof(double), compare_double);
            size_t slow = rounds / 100; /* the slowest percentile: lowest throughput */
            printf(" %.2f | %.2f |", samples[k][rounds / 2] / 1e6, samples[k][slow] / 1e6);
            result.threads[c] = threads;
            result.median[c][k] = samples[k][rounds / 2];
            free(samples[k]);
        }
        printf("\n");
        fflush(stdout);
    }
    return result;
}
