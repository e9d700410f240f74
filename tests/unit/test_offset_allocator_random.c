/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Randomized tests of the offset allocator against the reference model:
 * millions of mixed allocate/free operations over several seeds, unit sizes
 * and span sizes; every answer is checked (see offset_allocator_reference.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "offset_allocator.h"
#include "offset_allocator_reference.h"

enum { SEEDS = 8, OPERATIONS_PER_SEED = 250000, RECENT_FREES = 16 };

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t next_random(rng *r) {
    r->state ^= r->state << 13;
    r->state ^= r->state >> 7;
    r->state ^= r->state << 17;
    return r->state;
}

static uint64_t random_below(rng *r, uint64_t bound) { return bound ? next_random(r) % bound : 0; }

/* Mostly small, some medium, a few large enough to fill the span quickly. */
static uint64_t random_size(rng *r, uint64_t span_bytes) {
    uint64_t kind = random_below(r, 100);
    if (kind < 50) return 1 + random_below(r, 4096);
    if (kind < 85) return 4096 + random_below(r, 256 * 1024);
    if (kind < 98) return 1 + random_below(r, span_bytes / 8);
    return kind == 98 ? 0 : span_bytes + random_below(r, 1000); /* refused, and too large */
}

static uint64_t random_alignment(rng *r) {
    uint64_t kind = random_below(r, 100);
    if (kind < 55) return 0;
    if (kind == 99) return 3 + 2 * random_below(r, 100); /* not a power of two: refused */
    return 1ull << random_below(r, 17);
}

/* Aborts only on failure: check records every passing assertion, which would
 * cost more than the operations themselves. */
#define CHECK(call)                                                                                           \
    do {                                                                                                      \
        const char *error_ = (call);                                                                          \
        if (error_) ck_abort_msg("seed %llu, operation %d: %s", (unsigned long long)seed, operation, error_); \
    } while (0)

START_TEST(test_random_operations_agree_with_the_reference_model_and_freeing_all_restores_the_span) {
    static const uint64_t units[] = {1, 4, 64, 256};
    uint64_t seed = 0x5EED0000ull + (uint64_t)_i * 7919u;
    rng r = {seed};
    uint64_t unit = units[_i % 4];
    uint64_t span_units = (1ull << 12) + random_below(&r, 1ull << 22);
    offset_checker *checker = offset_checker_create(span_units * unit, unit);
    ck_assert_ptr_nonnull(checker);

    offset_allocation_id recently_freed[RECENT_FREES] = {0};
    size_t target_live = 64;
    int operation = 0;
    for (; operation < OPERATIONS_PER_SEED; operation++) {
        if (operation % 10000 == 0) target_live = 16 + random_below(&r, 4000);
        bool grow = random_below(&r, 100) < (checker->live_count < target_live ? 70u : 30u);
        if (grow || checker->live_count == 0) {
            CHECK(offset_checker_allocate(checker, random_size(&r, span_units * unit), random_alignment(&r)));
        } else {
            size_t index = (size_t)random_below(&r, checker->live_count);
            recently_freed[operation % RECENT_FREES] = checker->live[index].id;
            CHECK(offset_checker_free(checker, index));
        }
        if (random_below(&r, 100) == 0) {
            CHECK(offset_checker_free_invalid(checker, recently_freed[random_below(&r, RECENT_FREES)]));
            CHECK(offset_checker_free_invalid(checker, (offset_allocation_id)next_random(&r)));
        }
        if (operation % 1009 == 0) CHECK(offset_checker_compare_reports(checker));
        if (operation % 1009 == 0) CHECK(offset_checker_validate(checker));
    }
    CHECK(offset_checker_compare_reports(checker));
    CHECK(offset_checker_validate(checker));
    CHECK(offset_checker_release_all(checker));
    CHECK(offset_checker_validate(checker));
    ck_assert_msg(checker->no_space_results > 0, "seed %llu never filled the span: NO_SPACE went untested",
                  (unsigned long long)seed);
    offset_checker_destroy(checker);
}
END_TEST

START_TEST(test_space_given_exceeds_the_request_by_at_most_an_eighth_plus_alignment_padding) {
    uint64_t seed = 0xB0B0ull + (uint64_t)_i;
    rng r = {seed};
    uint64_t unit = 1ull << random_below(&r, 9);
    uint64_t span = (64ull << 20) / unit * unit;
    offset_allocator *a = offset_allocator_create(span, unit);
    offset_allocation_id live[512];
    size_t live_count = 0;
    int granted = 0;
    for (int operation = 0; operation < 50000; operation++) {
        if (live_count == 512 || (live_count > 0 && random_below(&r, 2) == 0)) {
            size_t index = (size_t)random_below(&r, live_count);
            if (offset_allocator_free(a, live[index]) != OFFSET_ALLOCATOR_OK) ck_abort_msg("free of a live id failed");
            live[index] = live[--live_count];
            continue;
        }
        uint64_t request = 1 + random_below(&r, 1ull << (1 + random_below(&r, 20)));
        uint64_t alignment = random_below(&r, 2) ? 1ull << random_below(&r, 16) : 0;
        offset_allocator_report before, after;
        offset_allocator_get_report(a, &before);
        offset_allocation x;
        if (offset_allocator_allocate(a, request, alignment, &x) != OFFSET_ALLOCATOR_OK) continue;
        offset_allocator_get_report(a, &after);
        uint64_t given = before.free_bytes - after.free_bytes;
        uint64_t allowed = request + request / 8 + (unit - 1); /* the last unit is partly unused */
        if (given > allowed)
            ck_abort_msg("seed %llu: %llu bytes given for a request of %llu", (unsigned long long)seed,
                         (unsigned long long)given, (unsigned long long)request);
        if (given != x.size) ck_abort_msg("seed %llu: alignment padding was not returned", (unsigned long long)seed);
        live[live_count++] = x.id;
        granted++;
    }
    ck_assert_int_gt(granted, 10000);
    offset_allocator_destroy(a);
}
END_TEST

static Suite *random_suite(void) {
    Suite *s = suite_create("offset_allocator_random");
    TCase *differential = tcase_create("differential");
    tcase_set_timeout(differential, 300);
    tcase_add_loop_test(differential,
                        test_random_operations_agree_with_the_reference_model_and_freeing_all_restores_the_span, 0,
                        SEEDS);
    suite_add_tcase(s, differential);
    TCase *properties = tcase_create("properties");
    tcase_set_timeout(properties, 120);
    tcase_add_loop_test(properties, test_space_given_exceeds_the_request_by_at_most_an_eighth_plus_alignment_padding, 0,
                        4);
    suite_add_tcase(s, properties);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(random_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
