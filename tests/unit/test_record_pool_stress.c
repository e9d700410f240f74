/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multi-threaded stress of the record pool: several threads allocate, free,
 * and hand records to each other to free, millions of times. Every record
 * carries a stamp (owner, state) past its first 8 bytes, so a record handed to
 * two owners at once, or freed while free, is caught; ThreadSanitizer (CI runs
 * the "threads" label under it) catches any unsynchronised hand-over.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record_pool.h"

enum { THREADS = 4, HELD_MAX = 256, MAILBOX = 1024 };

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
enum { OPERATIONS_PER_THREAD = 300000 };
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
enum { OPERATIONS_PER_THREAD = 300000 };
#else
enum { OPERATIONS_PER_THREAD = 1000000 };
#endif
#else
enum { OPERATIONS_PER_THREAD = 1000000 };
#endif

#define STAMP_LIVE 0x4C495645u
#define STAMP_FREE 0x46524545u

/* Lives after the 8 bytes the pool may use while the record is free. */
typedef struct stamp {
    void *pool_link;
    uint32_t state;
    uint32_t owner;
    uint64_t serial;
} stamp;

typedef struct mailbox {
    pthread_mutex_t lock;
    void *records[MAILBOX];
    int count;
} mailbox;

typedef struct stress {
    record_pool *pool;
    mailbox boxes[THREADS];
    _Atomic int errors;
    _Atomic int cross_thread_frees;
} stress;

typedef struct stress_thread {
    stress *shared;
    uint32_t index;
    uint64_t random;
} stress_thread;

static uint64_t next_random(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static void take_ownership(stress_thread *self, stamp *s, uint64_t serial) {
    if (s->state == STAMP_LIVE) atomic_fetch_add(&self->shared->errors, 1); /* handed out twice */
    s->state = STAMP_LIVE;
    s->owner = self->index;
    s->serial = serial;
}

static void release(stress_thread *self, stamp *s) {
    if (s->state != STAMP_LIVE) atomic_fetch_add(&self->shared->errors, 1);
    s->state = STAMP_FREE;
    if (!record_pool_owns(self->shared->pool, (uint64_t)(uintptr_t)s) || !record_pool_free(self->shared->pool, s))
        atomic_fetch_add(&self->shared->errors, 1);
}

/* Passes a record to another thread's mailbox; false if it is full. */
static bool post(stress *shared, uint32_t to, void *record) {
    mailbox *box = &shared->boxes[to];
    pthread_mutex_lock(&box->lock);
    bool posted = box->count < MAILBOX;
    if (posted) box->records[box->count++] = record;
    pthread_mutex_unlock(&box->lock);
    return posted;
}

static void free_mail(stress_thread *self) {
    mailbox *box = &self->shared->boxes[self->index];
    void *records[MAILBOX];
    pthread_mutex_lock(&box->lock);
    int count = box->count;
    memcpy(records, box->records, (size_t)count * sizeof records[0]);
    box->count = 0;
    pthread_mutex_unlock(&box->lock);
    for (int i = 0; i < count; i++) release(self, records[i]);
    atomic_fetch_add(&self->shared->cross_thread_frees, count);
}

static void *stress_body(void *arg) {
    stress_thread *self = arg;
    stamp *held[HELD_MAX];
    int held_count = 0;
    for (uint64_t op = 0; op < OPERATIONS_PER_THREAD; op++) {
        uint64_t r = next_random(&self->random);
        if (held_count < HELD_MAX && (held_count == 0 || (r & 1))) {
            stamp *s = record_pool_alloc(self->shared->pool, (int)((r >> 8) % 3));
            if (!s) {
                atomic_fetch_add(&self->shared->errors, 1);
                break;
            }
            take_ownership(self, s, op);
            held[held_count++] = s;
        } else {
            int index = (int)((r >> 16) % (uint64_t)held_count);
            stamp *s = held[index];
            held[index] = held[--held_count];
            if (s->owner != self->index) atomic_fetch_add(&self->shared->errors, 1);
            uint32_t to = (uint32_t)((r >> 32) % THREADS);
            bool cross = to != self->index && (r >> 40) % 4 == 0;
            if (!cross || !post(self->shared, to, s)) release(self, s);
        }
        if (op % 64 == 0) free_mail(self);
    }
    while (held_count) release(self, held[--held_count]);
    return NULL;
}

START_TEST(test_threads_allocating_and_freeing_across_threads_never_share_a_record) {
    record_pool_config config = {.class_sizes = {64, 128, 192}, .class_count = 3, .batch_size = 16, .cache_limit = 48};
    stress shared = {.pool = record_pool_create(&config)};
    ck_assert_ptr_nonnull(shared.pool);
    for (int i = 0; i < THREADS; i++) pthread_mutex_init(&shared.boxes[i].lock, NULL);
    pthread_t threads[THREADS];
    stress_thread state[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        state[i] = (stress_thread){.shared = &shared, .index = i, .random = 0x51CE0000ull + i * 7919u};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, stress_body, &state[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    /* Mail posted after its addressee's last look is freed here. */
    for (uint32_t i = 0; i < THREADS; i++) {
        stress_thread late = {.shared = &shared, .index = i};
        free_mail(&late);
    }
    ck_assert_int_eq(atomic_load(&shared.errors), 0);
    ck_assert_int_gt(atomic_load(&shared.cross_thread_frees), OPERATIONS_PER_THREAD / 100);
    record_pool_flush_thread_cache(shared.pool);
    record_pool_stats stats;
    record_pool_get_stats(shared.pool, &stats);
    for (int cls = 0; cls < 3; cls++) ck_assert_uint_eq(stats.live_records[cls], 0);
    record_pool_destroy(shared.pool);
}
END_TEST

/* Each thread keeps creating, using and destroying its own pools while the
 * others do the same: slots are reused under everyone's feet, and every
 * thread's cache keeps going stale. */
static void *pool_churn_body(void *arg) {
    _Atomic int *errors = arg;
    record_pool_config config = {.class_sizes = {64, 128}, .class_count = 2, .reserve_bytes_per_class = 1 << 20};
    for (int round = 0; round < 200; round++) {
        record_pool *pool = record_pool_create(&config);
        if (!pool) {
            atomic_fetch_add(errors, 1);
            continue;
        }
        void *records[100];
        for (int i = 0; i < 100; i++) {
            records[i] = record_pool_alloc(pool, i & 1);
            if (!records[i] || !record_pool_owns(pool, (uint64_t)(uintptr_t)records[i])) atomic_fetch_add(errors, 1);
            else memset(records[i], round & 0xFF, 64);
        }
        for (int i = 0; i < 100; i++)
            if (records[i] && !record_pool_free(pool, records[i])) atomic_fetch_add(errors, 1);
        record_pool_destroy(pool);
    }
    return NULL;
}

START_TEST(test_pools_created_and_destroyed_on_many_threads_at_once_stay_separate) {
    _Atomic int errors = 0;
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) ck_assert_int_eq(pthread_create(&threads[i], NULL, pool_churn_body, &errors), 0);
    for (int i = 0; i < THREADS; i++) ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    ck_assert_int_eq(atomic_load(&errors), 0);
}
END_TEST

static Suite *stress_suite(void) {
    Suite *s = suite_create("record_pool_stress");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_threads_allocating_and_freeing_across_threads_never_share_a_record);
    tcase_add_test(tc, test_pools_created_and_destroyed_on_many_threads_at_once_stay_separate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(stress_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
