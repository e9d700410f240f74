/* SPDX-License-Identifier: Apache-2.0 */
/* The rules of the record pool, one test each. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record_pool.h"

static record_pool *pool_with(size_t reserve_per_class, unsigned batch, unsigned limit) {
    record_pool_config config = {.class_sizes = {64, 128, 256},
                                 .class_count = 3,
                                 .reserve_bytes_per_class = reserve_per_class,
                                 .batch_size = batch,
                                 .cache_limit = limit};
    record_pool *pool = record_pool_create(&config);
    ck_assert_ptr_nonnull(pool);
    return pool;
}

static record_pool_stats stats_of(const record_pool *pool) {
    record_pool_stats stats;
    record_pool_get_stats(pool, &stats);
    return stats;
}

/* These fail with ck_abort_msg, not ck_assert: check records every passing
 * assertion, which is slow by the hundred thousand. */
static void *must_alloc(record_pool *pool, int size_class) {
    void *record = record_pool_alloc(pool, size_class);
    if (!record) ck_abort_msg("record_pool_alloc(class %d) returned NULL", size_class);
    return record;
}

static void must_free(record_pool *pool, void *record) {
    if (!record_pool_free(pool, record)) ck_abort_msg("record_pool_free refused a record it handed out");
}

/* ---- configuration ------------------------------------------------------------- */

START_TEST(test_create_refuses_bad_configurations) {
    ck_assert_ptr_null(record_pool_create(NULL));
    record_pool_config none = {.class_count = 0};
    ck_assert_ptr_null(record_pool_create(&none));
    record_pool_config too_many = {.class_sizes = {64}, .class_count = RECORD_POOL_MAX_CLASSES + 1};
    ck_assert_ptr_null(record_pool_create(&too_many));
    record_pool_config zero_size = {.class_sizes = {64, 0}, .class_count = 2};
    ck_assert_ptr_null(record_pool_create(&zero_size));
    record_pool_config descending = {.class_sizes = {256, 64}, .class_count = 2};
    ck_assert_ptr_null(record_pool_create(&descending));
}
END_TEST

START_TEST(test_records_are_64_byte_aligned_and_class_sizes_round_up_to_64) {
    record_pool_config config = {.class_sizes = {24, 65, 200}, .class_count = 3};
    record_pool *pool = record_pool_create(&config);
    ck_assert_ptr_nonnull(pool);
    ck_assert_int_eq(record_pool_class_for_size(pool, 64), 0);  /* 24 became 64 */
    ck_assert_int_eq(record_pool_class_for_size(pool, 128), 1); /* 65 became 128 */
    ck_assert_int_eq(record_pool_class_for_size(pool, 256), 2); /* 200 became 256 */
    for (int cls = 0; cls < 3; cls++) {
        char *previous = NULL;
        for (int i = 0; i < 1000; i++) {
            char *record = must_alloc(pool, cls);
            if ((uintptr_t)record % RECORD_POOL_RECORD_ALIGNMENT != 0) ck_abort_msg("record %p misaligned", record);
            if (previous && record > previous && (size_t)(record - previous) < (64u << cls))
                ck_abort_msg("records of class %d overlap", cls);
            memset(record, 0xEE, 64u << cls); /* the whole record is writable */
            previous = record;
        }
    }
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_class_for_size_picks_the_smallest_class_that_holds_the_size) {
    record_pool *pool = pool_with(0, 0, 0);
    ck_assert_int_eq(record_pool_class_for_size(pool, 0), 0);
    ck_assert_int_eq(record_pool_class_for_size(pool, 1), 0);
    ck_assert_int_eq(record_pool_class_for_size(pool, 64), 0);
    ck_assert_int_eq(record_pool_class_for_size(pool, 65), 1);
    ck_assert_int_eq(record_pool_class_for_size(pool, 256), 2);
    ck_assert_int_eq(record_pool_class_for_size(pool, 257), -1);
    ck_assert_int_eq(record_pool_class_for_size(NULL, 8), -1);
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_alloc_refuses_a_class_that_does_not_exist) {
    record_pool *pool = pool_with(0, 0, 0);
    ck_assert_ptr_null(record_pool_alloc(pool, -1));
    ck_assert_ptr_null(record_pool_alloc(pool, 3));
    ck_assert_ptr_null(record_pool_alloc(NULL, 0));
    record_pool_destroy(pool);
}
END_TEST

/* ---- ownership and free -------------------------------------------------------- */

START_TEST(test_owns_is_true_exactly_inside_the_reserved_range) {
    record_pool *pool = pool_with(1 << 20, 0, 0);
    uintptr_t lowest = UINTPTR_MAX;
    for (int cls = 0; cls < 3; cls++) {
        for (int i = 0; i < 100; i++) {
            void *record = must_alloc(pool, cls);
            ck_assert(record_pool_owns(pool, (uint64_t)(uintptr_t)record));
            if ((uintptr_t)record < lowest) lowest = (uintptr_t)record;
        }
    }
    uint64_t reserved = stats_of(pool).reserved_bytes;
    ck_assert_uint_eq(reserved, 3u << 20);
    ck_assert(!record_pool_owns(pool, lowest - 1));
    ck_assert(record_pool_owns(pool, lowest + reserved - 1));
    ck_assert(!record_pool_owns(pool, lowest + reserved));
    void *heap = malloc(64);
    int on_stack = 0;
    ck_assert(!record_pool_owns(pool, (uint64_t)(uintptr_t)heap));
    ck_assert(!record_pool_owns(pool, (uint64_t)(uintptr_t)&on_stack));
    ck_assert(!record_pool_owns(pool, 0));
    ck_assert(!record_pool_owns(pool, UINT64_MAX));
    ck_assert(!record_pool_owns(NULL, lowest));
    free(heap);
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_free_finds_the_class_from_the_address) {
    record_pool *pool = pool_with(0, 0, 0);
    void *small = must_alloc(pool, 0), *large = must_alloc(pool, 2);
    must_free(pool, small);
    must_free(pool, large);
    /* Each went back to its own class: the next alloc of each class gets it. */
    ck_assert_ptr_eq(must_alloc(pool, 2), large);
    ck_assert_ptr_eq(must_alloc(pool, 0), small);
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_a_freed_record_is_the_next_one_handed_out_on_the_same_thread) {
    record_pool *pool = pool_with(0, 0, 0);
    for (int i = 0; i < 1000; i++) {
        void *record = must_alloc(pool, 1);
        must_free(pool, record);
        ck_assert_ptr_eq(must_alloc(pool, 1), record);
        must_free(pool, record);
    }
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_free_refuses_what_is_not_a_record_of_the_pool) {
    record_pool *pool = pool_with(1 << 20, 0, 0);
    record_pool *other = pool_with(1 << 20, 0, 0);
    char *record = must_alloc(pool, 1); /* 128-byte class */
    char *theirs = must_alloc(other, 1);
    record_pool_flush_thread_cache(pool);
    record_pool_stats before = stats_of(pool);
    void *heap = malloc(128);
    ck_assert(!record_pool_free(pool, heap));
    ck_assert(!record_pool_free(pool, theirs));
    ck_assert(!record_pool_free(pool, record + 8));          /* inside a record */
    ck_assert(!record_pool_free(pool, record + 64));         /* 64-aligned, still inside */
    ck_assert(!record_pool_free(pool, record + 128 * 1000)); /* in range, never handed out */
    ck_assert(!record_pool_free(NULL, record));
    ck_assert(record_pool_free(pool, NULL)); /* like free(NULL) */
    record_pool_flush_thread_cache(pool);
    record_pool_stats after = stats_of(pool);
    ck_assert_mem_eq(&before, &after, sizeof before);
    must_free(pool, record);
    free(heap);
    record_pool_destroy(other);
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_is_record_accepts_only_the_start_of_a_record_handed_out_once) {
    record_pool *pool = pool_with(1 << 20, 0, 0);
    char *live = must_alloc(pool, 1);
    char *freed = must_alloc(pool, 1);
    must_free(pool, freed);
    ck_assert(record_pool_is_record(pool, (uint64_t)(uintptr_t)live));
    ck_assert(record_pool_is_record(pool, (uint64_t)(uintptr_t)freed)); /* still readable */
    ck_assert(!record_pool_is_record(pool, (uint64_t)(uintptr_t)(live + 64)));
    ck_assert(!record_pool_is_record(pool, (uint64_t)(uintptr_t)(live + 1)));
    ck_assert(!record_pool_is_record(pool, (uint64_t)(uintptr_t)(live + (512 << 10)))); /* reserved, not committed */
    ck_assert(!record_pool_is_record(pool, 0));
    ck_assert(!record_pool_is_record(NULL, (uint64_t)(uintptr_t)live));
    record_pool_destroy(pool);
}
END_TEST

/* What a hot path tests inline, from the span alone. */
static bool span_says_record(const record_pool_span *span, uint64_t value) {
    uint64_t offset = value - span->base;
    return offset < span->bytes && offset % span->record_size == 0 &&
           offset < atomic_load_explicit(span->carved_bytes, memory_order_relaxed);
}

START_TEST(test_a_class_span_agrees_with_is_record_for_every_value_in_and_around_the_class) {
    record_pool *pool = pool_with(1 << 20, 0, 0);
    for (int cls = 0; cls < 3; cls++) {
        char *first = must_alloc(pool, cls);
        for (int i = 0; i < 40; i++) { /* some live, some freed: both are records */
            char *record = must_alloc(pool, cls);
            if (i % 3 == 0) must_free(pool, record);
        }
        record_pool_span span;
        ck_assert(record_pool_class_span(pool, cls, &span));
        ck_assert_uint_eq(span.record_size, 64u << cls);
        ck_assert_uint_eq(span.bytes, 1u << 20);
        ck_assert(span_says_record(&span, (uint64_t)(uintptr_t)first));
        uint64_t carved = atomic_load(span.carved_bytes);
        ck_assert_uint_ge(carved, 27u * span.record_size); /* 41 handed out, up to 14 of them reused */
        for (uint64_t value = span.base - 256; value < span.base + carved + 4096; value += 8)
            if (span_says_record(&span, value) != record_pool_is_record(pool, value))
                ck_abort_msg("class %d: span and is_record disagree at base + %lld", cls,
                             (long long)(value - span.base));
    }
    record_pool_span none;
    ck_assert(!record_pool_class_span(pool, 3, &none));
    ck_assert(!record_pool_class_span(pool, -1, &none));
    ck_assert(!record_pool_class_span(NULL, 0, &none));
    ck_assert_uint_eq(none.bytes, 0);
    ck_assert(!span_says_record(&none, 0));
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_a_free_record_keeps_everything_but_its_first_8_bytes) {
    record_pool *pool = pool_with(0, 4, 4);
    enum { COUNT = 64 };
    unsigned char *records[COUNT];
    for (int i = 0; i < COUNT; i++) {
        records[i] = must_alloc(pool, 2);
        memset(records[i], 0x40 + i, 256);
    }
    for (int i = 0; i < COUNT; i++) must_free(pool, records[i]); /* through cache, drains, batches */
    record_pool_flush_thread_cache(pool);
    for (int i = 0; i < COUNT; i++)
        for (int byte = 8; byte < 256; byte++)
            if (records[i][byte] != 0x40 + i) ck_abort_msg("record %d byte %d was overwritten while free", i, byte);
    record_pool_destroy(pool);
}
END_TEST

/* ---- growth and running out ---------------------------------------------------- */

START_TEST(test_address_space_is_committed_in_chunks_as_the_pool_grows) {
    record_pool *pool = pool_with(64 << 20, 0, 0);
    record_pool_stats fresh = stats_of(pool);
    ck_assert_uint_eq(fresh.committed_bytes, 0);
    ck_assert_uint_eq(fresh.reserved_bytes, 3u * (64u << 20));
    must_alloc(pool, 0);
    uint64_t first = stats_of(pool).committed_bytes;
    ck_assert_uint_gt(first, 0);
    ck_assert_uint_le(first, 1u << 20);
    for (int i = 0; i < 100000; i++) must_alloc(pool, 0);
    uint64_t grown = stats_of(pool).committed_bytes;
    ck_assert_uint_ge(grown, 100001u * 64);
    ck_assert_uint_le(grown, 2 * 100001u * 64 + (1u << 20));
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_running_out_returns_null_and_changes_nothing) {
    record_pool *pool = pool_with(4096, 8, 16); /* 64 records of 64 bytes */
    void *records[64];
    for (int i = 0; i < 64; i++) records[i] = must_alloc(pool, 0);
    record_pool_stats before = stats_of(pool);
    ck_assert_ptr_null(record_pool_alloc(pool, 0));
    ck_assert_ptr_null(record_pool_alloc(pool, 0));
    record_pool_stats after = stats_of(pool);
    ck_assert_mem_eq(&before, &after, sizeof before);
    must_free(pool, records[17]);
    ck_assert_ptr_eq(must_alloc(pool, 0), records[17]);
    ck_assert_ptr_nonnull(record_pool_alloc(pool, 1)); /* other classes are unaffected */
    record_pool_destroy(pool);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

#ifndef UNDER_SANITIZER
static long data_segment_kib(void) {
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (status && fgets(line, sizeof line, status))
        if (sscanf(line, "VmData: %ld kB", &kib) == 1) break;
    if (status) fclose(status);
    return kib;
}

/* In a child whose data limit sits a few MiB above its use, allocate until
 * committing more of the (1 GiB) reservation fails. */
static int run_until_commit_fails(void) {
    record_pool_config config = {.class_sizes = {64}, .class_count = 1, .reserve_bytes_per_class = 1 << 30};
    record_pool *pool = record_pool_create(&config);
    long kib = data_segment_kib();
    if (!pool || kib < 0) return 10;
    struct rlimit limit = {.rlim_cur = (rlim_t)(kib + 4096) * 1024, .rlim_max = RLIM_INFINITY};
    if (setrlimit(RLIMIT_DATA, &limit) != 0) return 11;
    void *last = NULL;
    for (size_t count = 0;; count++) {
        record_pool_stats before, after;
        record_pool_get_stats(pool, &before);
        void *record = record_pool_alloc(pool, 0);
        if (record) {
            last = record;
            continue;
        }
        record_pool_get_stats(pool, &after);
        if (memcmp(&before, &after, sizeof before) != 0) return 12;
        if (count < 1000 || count * 64 >= (1u << 30)) return 13; /* it must be the commit that failed */
        if (!record_pool_free(pool, last) || record_pool_alloc(pool, 0) != last) return 14;
        return 0;
    }
}
#endif

START_TEST(test_failing_to_commit_memory_returns_null_and_changes_nothing) {
#ifdef UNDER_SANITIZER
    return; /* sanitizers map terabytes of shadow: a data limit breaks them */
#else
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) _exit(run_until_commit_fails());
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
#endif
}
END_TEST

/* ---- thread caches ------------------------------------------------------------- */

START_TEST(test_a_thread_cache_holds_at_most_its_limit_and_moves_whole_batches) {
    record_pool *pool = pool_with(0, 8, 16);
    enum { COUNT = 100 };
    void *records[COUNT];
    for (int i = 0; i < COUNT; i++) records[i] = must_alloc(pool, 0);
    /* 100 carved in batches of 8: 104 left the central lists. */
    ck_assert_uint_eq(stats_of(pool).live_records[0], 104);
    for (int i = 0; i < COUNT; i++) must_free(pool, records[i]);
    uint64_t cached = stats_of(pool).live_records[0];
    ck_assert_uint_gt(cached, 16 - 8);
    ck_assert_uint_le(cached, 16);
    record_pool_flush_thread_cache(pool);
    ck_assert_uint_eq(stats_of(pool).live_records[0], 0);
    record_pool_destroy(pool);
}
END_TEST

typedef struct worker {
    record_pool *pool;
    void **records;
    int count;
    int allocated;
} worker;

static void *allocate_all(void *arg) {
    worker *w = arg;
    for (int i = 0; i < w->count; i++) {
        w->records[i] = record_pool_alloc(w->pool, 0);
        if (!w->records[i]) break;
        w->allocated++;
    }
    return NULL;
}

static void *free_all(void *arg) {
    worker *w = arg;
    for (int i = 0; i < w->allocated; i++)
        if (!record_pool_free(w->pool, w->records[i])) return (void *)1;
    return NULL;
}

static void *allocate_then_free_all(void *arg) {
    allocate_all(arg);
    return free_all(arg);
}

static void run_thread(void *(*body)(void *), void *arg, void **result) {
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, body, arg), 0);
    ck_assert_int_eq(pthread_join(thread, result), 0);
}

START_TEST(test_a_record_may_be_freed_on_another_thread_than_the_one_that_allocated_it) {
    record_pool *pool = pool_with(0, 0, 0);
    void *records[5000];
    worker w = {.pool = pool, .records = records, .count = 5000};
    void *result = NULL;
    run_thread(allocate_all, &w, NULL);
    ck_assert_int_eq(w.allocated, 5000);
    run_thread(free_all, &w, &result);
    ck_assert_ptr_null(result);
    ck_assert_uint_eq(stats_of(pool).live_records[0], 0); /* both threads exited: nothing cached */
    record_pool_destroy(pool);
}
END_TEST

START_TEST(test_an_exiting_thread_hands_its_cache_back) {
    record_pool *pool = pool_with(4096, 8, 32); /* exactly 64 records of class 0 */
    void *records[64];
    worker w = {.pool = pool, .records = records, .count = 64};
    run_thread(allocate_then_free_all, &w, NULL);
    ck_assert_int_eq(w.allocated, 64);
    ck_assert_uint_eq(stats_of(pool).live_records[0], 0);
    for (int i = 0; i < 64; i++) must_alloc(pool, 0); /* all 64 are back, none stranded */
    record_pool_destroy(pool);
}
END_TEST

typedef struct stale_cache_test {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int step;
    record_pool *pool;
    bool got_own_record;
} stale_cache_test;

static void wait_for_step(stale_cache_test *t, int step) {
    pthread_mutex_lock(&t->lock);
    while (t->step < step) pthread_cond_wait(&t->changed, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

static void set_step(stale_cache_test *t, int step) {
    pthread_mutex_lock(&t->lock);
    t->step = step;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

static void *use_pool_then_its_successor(void *arg) {
    stale_cache_test *t = arg;
    pthread_mutex_lock(&t->lock);
    record_pool *first = t->pool;
    pthread_mutex_unlock(&t->lock);
    void *held[20];
    for (int i = 0; i < 20; i++) held[i] = record_pool_alloc(first, 0);
    for (int i = 0; i < 20; i++) record_pool_free(first, held[i]); /* now cached here */
    set_step(t, 1);
    wait_for_step(t, 2); /* the first pool is gone, a new one took its place */
    pthread_mutex_lock(&t->lock);
    record_pool *second = t->pool;
    pthread_mutex_unlock(&t->lock);
    bool own = true;
    for (int i = 0; i < 20; i++) {
        void *record = record_pool_alloc(second, 0);
        own = own && record && record_pool_owns(second, (uint64_t)(uintptr_t)record);
        record_pool_free(second, record);
    }
    t->got_own_record = own;
    return NULL; /* the exit destructor must not touch the first pool */
}

START_TEST(test_destroying_a_pool_while_another_thread_caches_its_records_is_safe) {
    stale_cache_test t = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    t.pool = pool_with(1 << 20, 0, 0);
    void *mine = must_alloc(t.pool, 0); /* this thread caches some too */
    must_free(t.pool, mine);
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, use_pool_then_its_successor, &t), 0);
    wait_for_step(&t, 1);
    record_pool_destroy(t.pool); /* unmaps what both threads still cache */
    pthread_mutex_lock(&t.lock);
    t.pool = pool_with(1 << 20, 0, 0);
    pthread_mutex_unlock(&t.lock);
    set_step(&t, 2);
    ck_assert_int_eq(pthread_join(thread, NULL), 0);
    ck_assert(t.got_own_record);
    void *record = must_alloc(t.pool, 0);
    ck_assert(record_pool_owns(t.pool, (uint64_t)(uintptr_t)record));
    record_pool_destroy(t.pool);
}
END_TEST

START_TEST(test_many_pools_can_live_at_once_and_come_and_go) {
    enum { ALIVE = 40, ROUNDS = 300 }; /* more pools than thread-cache slots */
    record_pool *pools[ALIVE];
    void *records[ALIVE];
    for (int i = 0; i < ALIVE; i++) {
        pools[i] = pool_with(1 << 16, 0, 0);
        records[i] = must_alloc(pools[i], i % 3);
    }
    for (int i = 0; i < ALIVE; i++)
        for (int j = 0; j < ALIVE; j++)
            ck_assert(record_pool_owns(pools[i], (uint64_t)(uintptr_t)records[j]) == (i == j));
    for (int round = 0; round < ROUNDS; round++) {
        int i = round % ALIVE;
        for (int k = 0; k < 50; k++) must_free(pools[i], must_alloc(pools[i], k % 3));
        must_free(pools[i], records[i]);
        record_pool_destroy(pools[i]);
        pools[i] = pool_with(1 << 16, 0, 0);
        records[i] = must_alloc(pools[i], i % 3);
        ck_assert(!record_pool_owns(pools[(i + 1) % ALIVE], (uint64_t)(uintptr_t)records[i]));
    }
    for (int i = 0; i < ALIVE; i++) {
        must_free(pools[i], records[i]);
        record_pool_flush_thread_cache(pools[i]);
        record_pool_stats stats = stats_of(pools[i]);
        ck_assert_uint_eq(stats.live_records[0] + stats.live_records[1] + stats.live_records[2], 0);
        record_pool_destroy(pools[i]);
    }
}
END_TEST

static Suite *record_pool_suite(void) {
    Suite *s = suite_create("record_pool");
    TCase *config = tcase_create("configuration");
    tcase_add_test(config, test_create_refuses_bad_configurations);
    tcase_add_test(config, test_records_are_64_byte_aligned_and_class_sizes_round_up_to_64);
    tcase_add_test(config, test_class_for_size_picks_the_smallest_class_that_holds_the_size);
    tcase_add_test(config, test_alloc_refuses_a_class_that_does_not_exist);
    suite_add_tcase(s, config);

    TCase *ownership = tcase_create("ownership and free");
    tcase_add_test(ownership, test_owns_is_true_exactly_inside_the_reserved_range);
    tcase_add_test(ownership, test_free_finds_the_class_from_the_address);
    tcase_add_test(ownership, test_a_freed_record_is_the_next_one_handed_out_on_the_same_thread);
    tcase_add_test(ownership, test_free_refuses_what_is_not_a_record_of_the_pool);
    tcase_add_test(ownership, test_is_record_accepts_only_the_start_of_a_record_handed_out_once);
    tcase_add_test(ownership, test_a_class_span_agrees_with_is_record_for_every_value_in_and_around_the_class);
    tcase_add_test(ownership, test_a_free_record_keeps_everything_but_its_first_8_bytes);
    suite_add_tcase(s, ownership);

    TCase *growth = tcase_create("growth");
    tcase_add_test(growth, test_address_space_is_committed_in_chunks_as_the_pool_grows);
    tcase_add_test(growth, test_running_out_returns_null_and_changes_nothing);
    tcase_add_test(growth, test_failing_to_commit_memory_returns_null_and_changes_nothing);
    suite_add_tcase(s, growth);

    TCase *threads = tcase_create("thread caches");
    tcase_set_timeout(threads, 60);
    tcase_add_test(threads, test_a_thread_cache_holds_at_most_its_limit_and_moves_whole_batches);
    tcase_add_test(threads, test_a_record_may_be_freed_on_another_thread_than_the_one_that_allocated_it);
    tcase_add_test(threads, test_an_exiting_thread_hands_its_cache_back);
    tcase_add_test(threads, test_destroying_a_pool_while_another_thread_caches_its_records_is_safe);
    tcase_add_test(threads, test_many_pools_can_live_at_once_and_come_and_go);
    suite_add_tcase(s, threads);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(record_pool_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
