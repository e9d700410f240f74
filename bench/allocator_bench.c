/* SPDX-License-Identifier: Apache-2.0 */
/*
 * allocator_bench: what the allocator library costs per operation, next to
 * malloc/free doing the same work in the same run.
 *
 * The clock costs about 30 ns here, so nothing is timed alone: each sample
 * times a batch of BATCH operations and divides; a row is the median, the
 * 99th percentile and the fastest of SAMPLES such batches (the fastest shows
 * the cost when no other process disturbs the caches).
 *
 *   allocator_bench            full run (a few seconds)
 *   allocator_bench --quick    fewer samples, for a smoke test
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offset_allocator.h"
#include "record_pool.h"
#include "scratch_arena.h"

enum { BATCH = 1000, MAX_SAMPLES = 2000 };

static int samples = MAX_SAMPLES;

/* Tells the compiler the pointer is used, so malloc+free pairs are not elided. */
static inline void escape(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

typedef struct row {
    char name[96];
    double best; /* the fastest batch: the cost with nothing else in the way */
    double median;
    double p99;
} row;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static row summarise(const char *name, double *ns_per_op, int count) {
    row r;
    snprintf(r.name, sizeof r.name, "%s", name);
    qsort(ns_per_op, (size_t)count, sizeof *ns_per_op, compare_doubles);
    r.best = ns_per_op[0];
    r.median = ns_per_op[count / 2];
    r.p99 = ns_per_op[(count * 99) / 100];
    return r;
}

static void print_row(const row *r) { printf("  %-58s %8.1f %8.1f %8.1f\n", r->name, r->median, r->p99, r->best); }

/* Fills ns[0..count) with timings of BATCH calls of body(state), after a
 * short warm-up. */
static void sample(void (*body)(void *), void *state, double *ns, int count) {
    for (int i = 0; i < count / 10; i++) body(state);
    for (int i = 0; i < count; i++) {
        double start = now_ns();
        body(state);
        ns[i] = (now_ns() - start) / BATCH;
    }
}

static row measure(const char *name, void (*body)(void *), void *state) {
    static double ns[MAX_SAMPLES];
    sample(body, state, ns, samples);
    row r = summarise(name, ns, samples);
    print_row(&r);
    return r;
}

static uint64_t next_random(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* ---- offset allocator ---------------------------------------------------------- */

#define UNIT 256u
#define SPAN (64ull << 30)

typedef struct offset_state {
    offset_allocator *allocator;
    uint64_t size;
} offset_state;

static void offset_pairs(void *arg) {
    offset_state *s = arg;
    for (int i = 0; i < BATCH; i++) {
        offset_allocation a;
        offset_allocator_allocate(s->allocator, s->size, 0, &a);
        offset_allocator_free(s->allocator, a.id);
    }
}

/* An allocator holding `live` allocations of 256 B .. 64 KiB, with the holes
 * left by freeing a third of a larger population spread over many bins. */
static offset_allocator *offset_with_live(uint32_t live) {
    offset_allocator *a = offset_allocator_create(SPAN, UNIT);
    uint32_t total = live + live / 2;
    offset_allocation_id *ids = malloc(total * sizeof *ids);
    uint64_t random = 0xA110Cull;
    for (uint32_t i = 0; i < total; i++) {
        offset_allocation x;
        uint64_t size = UNIT << (next_random(&random) % 9);
        if (offset_allocator_allocate(a, size, 0, &x) != OFFSET_ALLOCATOR_OK) {
            fprintf(stderr, "prefill failed at %u\n", i);
            exit(1);
        }
        ids[i] = x.id;
    }
    for (uint32_t i = 0; i < total; i += 3) offset_allocator_free(a, ids[i]);
    free(ids);
    return a;
}

typedef struct malloc_state {
    size_t size;
} malloc_state;

static void malloc_pairs(void *arg) {
    malloc_state *s = arg;
    for (int i = 0; i < BATCH; i++) {
        void *p = malloc(s->size);
        escape(p);
        free(p);
    }
}

/* malloc's heap holding `live` blocks of 16 .. 512 bytes, a third freed. */
static void **malloc_with_live(uint32_t live, uint32_t *count) {
    uint32_t total = live + live / 2;
    void **blocks = malloc(total * sizeof *blocks);
    uint64_t random = 0xA110Cull;
    for (uint32_t i = 0; i < total; i++) blocks[i] = malloc(16u << (next_random(&random) % 6));
    for (uint32_t i = 0; i < total; i += 3) {
        free(blocks[i]);
        blocks[i] = NULL;
    }
    *count = total;
    return blocks;
}

static void malloc_release(void **blocks, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) free(blocks[i]);
    free(blocks);
}

static const uint64_t pair_sizes[] = {256, 4096, 65536, 1u << 20};
static const char *pair_size_names[] = {"256 B", "4 KiB", "64 KiB", "1 MiB"};
#define PAIR_SIZES 4

/* The 100-live and 1M-live rows of a size are sampled in alternating rounds,
 * so a burst of outside load (other builds on this machine) hits both alike. */
enum { ROUNDS = 5 };

static void bench_offset_allocator(row offset_rows[2][PAIR_SIZES]) {
    static const uint32_t live_counts[2] = {100, 1000000};
    static double ns[2][MAX_SAMPLES];
    int per_round = samples / ROUNDS;
    offset_allocator *allocators[2] = {offset_with_live(live_counts[0]), offset_with_live(live_counts[1])};
    for (int s = 0; s < PAIR_SIZES; s++) {
        for (int round = 0; round < ROUNDS; round++) {
            for (int l = 0; l < 2; l++) {
                offset_state state = {allocators[l], pair_sizes[s]};
                sample(offset_pairs, &state, ns[l] + round * per_round, per_round);
            }
        }
        for (int l = 0; l < 2; l++) {
            char name[96];
            snprintf(name, sizeof name, "offset allocator alloc+free %-6s  %7u live", pair_size_names[s],
                     live_counts[l]);
            offset_rows[l][s] = summarise(name, ns[l], per_round * ROUNDS);
        }
    }
    for (int l = 0; l < 2; l++) {
        for (int s = 0; s < PAIR_SIZES; s++) print_row(&offset_rows[l][s]);
        offset_allocator_destroy(allocators[l]);
    }
    for (int l = 0; l < 2; l++) {
        uint32_t count;
        void **blocks = malloc_with_live(live_counts[l], &count);
        for (int s = 0; s < PAIR_SIZES; s++) {
            char name[96];
            snprintf(name, sizeof name, "malloc+free                 %-6s  %7u live", pair_size_names[s],
                     live_counts[l]);
            malloc_state state = {pair_sizes[s]};
            measure(name, malloc_pairs, &state);
        }
        malloc_release(blocks, count);
    }
}

/* Churn: free a random live allocation, allocate a random size in its place. */
typedef struct churn_state {
    offset_allocator *allocator;
    offset_allocation_id *ids;
    uint32_t live;
    uint64_t random;
} churn_state;

static void offset_churn(void *arg) {
    churn_state *s = arg;
    for (int i = 0; i < BATCH; i++) {
        uint64_t r = next_random(&s->random);
        uint32_t index = (uint32_t)(r % s->live);
        offset_allocator_free(s->allocator, s->ids[index]);
        offset_allocation x;
        offset_allocator_allocate(s->allocator, UNIT << ((r >> 32) % 9), 0, &x);
        s->ids[index] = x.id;
    }
}

static void bench_offset_churn(void) {
    static const uint32_t live_counts[2] = {100, 1000000};
    for (int l = 0; l < 2; l++) {
        churn_state s = {offset_allocator_create(SPAN, UNIT), malloc(live_counts[l] * sizeof(offset_allocation_id)),
                         live_counts[l], 0xC0FFEEull};
        for (uint32_t i = 0; i < s.live; i++) {
            offset_allocation x;
            offset_allocator_allocate(s.allocator, UNIT << (next_random(&s.random) % 9), 0, &x);
            s.ids[i] = x.id;
        }
        char name[96];
        snprintf(name, sizeof name, "offset allocator free random+alloc random  %7u live", live_counts[l]);
        measure(name, offset_churn, &s);
        offset_allocator_destroy(s.allocator);
        free(s.ids);
    }
}

/* ---- record pool --------------------------------------------------------------- */

typedef struct pool_state {
    record_pool *pool;
    pthread_barrier_t *start;
    double *ns;
} pool_state;

static void pool_pairs(void *arg) {
    pool_state *s = arg;
    for (int i = 0; i < BATCH; i++) {
        void *record = record_pool_alloc(s->pool, 0);
        record_pool_free(s->pool, record);
    }
}

static void record_malloc_pairs(void *arg) {
    (void)arg;
    for (int i = 0; i < BATCH; i++) {
        void *p = malloc(64);
        escape(p);
        free(p);
    }
}

static void *pool_thread(void *arg) {
    pool_state *s = arg;
    pthread_barrier_wait(s->start);
    sample(s->pool ? pool_pairs : record_malloc_pairs, s, s->ns, samples);
    return NULL;
}

/* Both threads run the same pairs at once; the row summarises both threads'
 * batches together (ns per pair on each thread). */
static row bench_two_threads(record_pool *pool, const char *name) {
    static double ns[2 * MAX_SAMPLES];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    pool_state states[2] = {{pool, &start, ns}, {pool, &start, ns + samples}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, pool_thread, &states[i]);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
    row r = summarise(name, ns, 2 * samples);
    print_row(&r);
    return r;
}

static row bench_record_pool(void) {
    record_pool_config config = {.class_sizes = {64, 128, 256}, .class_count = 3};
    record_pool *pool = record_pool_create(&config);
    pool_state state = {.pool = pool};
    row single = measure("record pool alloc+free 64 B, thread cache, 1 thread", pool_pairs, &state);
    measure("malloc+free 64 B, 1 thread", record_malloc_pairs, NULL);
    bench_two_threads(pool, "record pool alloc+free 64 B, 2 threads at once (per thread)");
    bench_two_threads(NULL, "malloc+free 64 B, 2 threads at once (per thread)");
    record_pool_destroy(pool);
    return single;
}

/* ---- scratch arena ------------------------------------------------------------- */

static void scratch_frames(void *arg) {
    (void)arg;
    for (int i = 0; i < BATCH; i++) {
        scratch_frame frame = scratch_frame_begin();
        escape(scratch_alloc(&frame, 64, 8));
        escape(scratch_alloc(&frame, 256, 16));
        escape(scratch_alloc(&frame, 1024, 8));
        escape(scratch_alloc(&frame, 48, 8));
        scratch_frame_end(&frame);
    }
}

static void malloc_frames(void *arg) {
    (void)arg;
    for (int i = 0; i < BATCH; i++) {
        void *a = malloc(64), *b = malloc(256), *c = malloc(1024), *d = malloc(48);
        escape(a);
        escape(b);
        escape(c);
        escape(d);
        free(d);
        free(c);
        free(b);
        free(a);
    }
}

static void bench_scratch(void) {
    measure("scratch arena: open frame, 4 allocs, close (per frame)", scratch_frames, NULL);
    measure("malloc: 4 mallocs, 4 frees (per frame)", malloc_frames, NULL);
}

/* ---- main ---------------------------------------------------------------------- */

static void verdicts(row offset_rows[2][PAIR_SIZES], row pool) {
    printf("\nchecks against the targets (median):\n");
    double worst = 0, spread = 0, best_spread = 0;
    for (int s = 0; s < PAIR_SIZES; s++) {
        double small = offset_rows[0][s].median, large = offset_rows[1][s].median;
        if (large > worst) worst = large;
        if (small > worst) worst = small;
        double ratio = large > small ? large / small : small / large;
        if (ratio - 1 > spread) spread = ratio - 1;
        small = offset_rows[0][s].best, large = offset_rows[1][s].best;
        ratio = large > small ? large / small : small / large;
        if (ratio - 1 > best_spread) best_spread = ratio - 1;
    }
    printf("  offset allocator pair, slowest size:            %6.1f ns  (target <= 40)  %s\n", worst,
           worst <= 40 ? "met" : "MISSED");
    printf("  offset allocator 1M live vs 100 live, largest gap: %5.1f %%  (target <= 20)  %s\n", spread * 100,
           spread <= 0.20 ? "met" : "MISSED");
    printf("  (the same comparison on the fastest batches:        %5.1f %%)\n", best_spread * 100);
    printf("  record pool pair, 1 thread:                      %6.1f ns  (target <= 10)  %s\n", pool.median,
           pool.median <= 10 ? "met" : "MISSED");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) samples = 200;
    printf("allocator_bench: ns per operation over %d batches of %d: median, p99, fastest (an op is one pair or "
           "frame)\n\n",
           samples, BATCH);
    printf("  %-58s %8s %8s %8s\n", "workload", "median", "p99", "best");
    row offset_rows[2][PAIR_SIZES];
    bench_offset_allocator(offset_rows);
    bench_offset_churn();
    row pool = bench_record_pool();
    bench_scratch();
    verdicts(offset_rows, pool);
    return 0;
}
