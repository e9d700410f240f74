/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer_bench_threads.c: allocation throughput as threads are added.
 *
 * T threads share one device. Each holds 256 live allocations of 256 B to
 * 64 KiB that it made itself and, per step, frees one at random and allocates
 * a new one of a new size: a pair. The threads live for the whole table (every
 * row's threads at once, each row's idle while another's run), as an engine's
 * workers do (threads that come and go are the robustness tests'
 * business): a round starts them together at a barrier, runs a fixed number
 * of steps on each and counts pairs per second of wall time until the last
 * one is done. Rounds alternate between the sides and the rows (below); the
 * table shows each side's median and its slowest percentile (p99 of the time
 * per pair, as pairs per second).
 *
 * A round is long (200,000 pairs a thread, about 20 ms for the layer at two
 * threads). With rounds of 20,000 pairs (about 3 ms) the two threads' CPU
 * time came to only 1.3-1.7 times a round's wall time on this 2-core VM: the
 * threads start and wake at different moments, and in a short round that
 * skew, not the layer, set the 2-thread rate. At 100,000 pairs it still cost
 * the layer, whose rounds are the shortest, 1.65-1.85 cores busy against
 * 1.8-1.9 without it. Each thread's CPU time is summed, and the line under
 * the table says how many cores each side's threads kept busy: near 1 and 2
 * for one and two threads when a row measures what it says.
 *
 * T is 1, 2, 4 and 8 whatever the machine has: more threads than cores is what
 * apps do too, and the layer must not fall over then.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "layer_bench.h"

#define LIVE_PER_THREAD 256u
#define STEPS_PER_ROUND 200000u
#define MAX_THREADS 8u

/* The threads of one side for one row, and the barriers that run their rounds. */
typedef struct crew {
    side *side;
    pthread_barrier_t start, done; /* the threads and the timing thread */
    bool quit;                     /* read after start: the row is over */
    _Atomic uint64_t cpu_ns;       /* the threads' CPU time in timed rounds */
    uint64_t wall_ns;              /* the timed rounds' wall time */
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

static uint64_t thread_cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    side *s = w->crew->side;
    for (uint32_t i = 0; i < LIVE_PER_THREAD; i++) w->live[i] = allocate_random(s, &w->seed);
    for (;;) {
        pthread_barrier_wait(&w->crew->start);
        if (w->crew->quit) break;
        uint64_t cpu_start = thread_cpu_ns();
        for (uint32_t step = 0; step < STEPS_PER_ROUND; step++) {
            uint32_t victim = (uint32_t)(next_random(&w->seed) % LIVE_PER_THREAD);
            s->free(s->device, w->live[victim], NULL);
            w->live[victim] = allocate_random(s, &w->seed);
        }
        atomic_fetch_add_explicit(&w->crew->cpu_ns, thread_cpu_ns() - cpu_start, memory_order_relaxed);
        pthread_barrier_wait(&w->crew->done);
    }
    for (uint32_t i = 0; i < LIVE_PER_THREAD; i++) s->free(s->device, w->live[i], NULL);
    return NULL;
}

static void crew_start(crew *c, side *s, uint32_t threads, worker *workers, pthread_t *ids) {
    *c = (crew){.side = s, .quit = false, .wall_ns = 0};
    atomic_init(&c->cpu_ns, 0);
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
    c->wall_ns += elapsed;
    return (double)threads * STEPS_PER_ROUND / ((double)elapsed / 1e9);
}

/* How many cores the crew's threads kept busy in its timed rounds. */
static double crew_cores_busy(crew *c) {
    return c->wall_ns == 0 ? 0.0 : (double)atomic_load(&c->cpu_ns) / (double)c->wall_ns;
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

/* Every row's crews start before the first timed round, and each round runs
 * every row and side in turn (the order shifting from round to round): this
 * VM's speed drifts by tens of percent within a minute, and rows timed one
 * after another turned that drift into the 2-thread/1-thread ratio (one
 * thread at 10.7 M pairs/s in one run, 7.8 in the next, two threads steady). */
threads_result print_threads_table(side sides[SIDE_COUNT], uint32_t rounds) {
    static const uint32_t thread_counts[THREAD_ROWS] = {1, 2, 4, 8};
    static worker workers[THREAD_ROWS][SIDE_COUNT][MAX_THREADS];
    static pthread_t ids[THREAD_ROWS][SIDE_COUNT][MAX_THREADS];
    static crew crews[THREAD_ROWS][SIDE_COUNT];
    double *samples[THREAD_ROWS][SIDE_COUNT];
    threads_result result;
    rounds = rounds / 16 + 1; /* a round here is 200,000 pairs a thread: 13 rounds by default */
    for (size_t c = 0; c < THREAD_ROWS; c++)
        for (int k = 0; k < SIDE_COUNT; k++) {
            samples[c][k] = calloc(rounds, sizeof(double));
            if (samples[c][k] == NULL) fail("calloc", VK_ERROR_OUT_OF_HOST_MEMORY);
            crew_start(&crews[c][k], &sides[k], thread_counts[c], workers[c][k], ids[c][k]);
            crew_round(&crews[c][k], thread_counts[c]); /* warm-up: blocks, caches, shards */
            atomic_store(&crews[c][k].cpu_ns, 0);
            crews[c][k].wall_ns = 0;
        }
    for (uint32_t r = 0; r < rounds; r++)
        for (size_t step = 0; step < THREAD_ROWS * SIDE_COUNT; step++) {
            size_t c = (step / SIDE_COUNT + r) % THREAD_ROWS;
            int k = (int)((step + r) % SIDE_COUNT);
            samples[c][k][r] = crew_round(&crews[c][k], thread_counts[c]);
        }
    printf("| threads (M pairs/s: median, p99) |");
    for (int k = 0; k < SIDE_COUNT; k++) printf(" %s | p99 |", sides[k].label);
    printf("\n|---|");
    for (int k = 0; k < SIDE_COUNT; k++) printf("---:|---:|");
    printf("\n");
    for (size_t c = 0; c < THREAD_ROWS; c++) {
        printf("| %u |", thread_counts[c]);
        result.threads[c] = thread_counts[c];
        for (int k = 0; k < SIDE_COUNT; k++) {
            result.cores_busy[c][k] = crew_cores_busy(&crews[c][k]);
            crew_stop(&crews[c][k], thread_counts[c], ids[c][k]);
            qsort(samples[c][k], rounds, sizeof(double), compare_double);
            size_t slow = rounds / 100; /* the slowest percentile: lowest throughput */
            printf(" %.2f | %.2f |", samples[c][k][rounds / 2] / 1e6, samples[c][k][slow] / 1e6);
            result.median[c][k] = samples[c][k][rounds / 2];
            free(samples[c][k]);
        }
        printf("\n");
    }
    fflush(stdout);
    return result;
}
