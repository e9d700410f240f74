/* SPDX-License-Identifier: Apache-2.0 */
/* The rules of the per-thread scratch arena, one test each. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scratch_arena.h"

static scratch_arena_stats arena_stats(void) {
    scratch_arena_stats stats;
    scratch_arena_get_stats(&stats);
    return stats;
}

static void *must_alloc(scratch_frame *frame, size_t size, size_t align) {
    void *p = scratch_alloc(frame, size, align);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(test_allocations_are_aligned_disjoint_and_writable) {
    scratch_frame frame = scratch_frame_begin();
    enum { COUNT = 200 };
    unsigned char *blocks[COUNT];
    size_t sizes[COUNT];
    for (int i = 0; i < COUNT; i++) {
        size_t align = (size_t)1 << (i % 13); /* 1 .. 4096 */
        sizes[i] = 1 + (size_t)(i * 37 % 300);
        blocks[i] = must_alloc(&frame, sizes[i], align);
        ck_assert_uint_eq((uintptr_t)blocks[i] % align, 0);
        memset(blocks[i], i, sizes[i]);
    }
    for (int i = 0; i < COUNT; i++)
        for (size_t b = 0; b < sizes[i]; b++)
            if (blocks[i][b] != i) ck_abort_msg("block %d was overwritten by another allocation", i);
    scratch_frame_end(&frame);
}
END_TEST

START_TEST(test_closing_a_frame_resets_the_arena_to_where_the_frame_opened) {
    scratch_frame frame = scratch_frame_begin();
    void *first = must_alloc(&frame, 100, 8);
    for (int i = 0; i < 100; i++) must_alloc(&frame, 200, 16);
    ck_assert_uint_gt(arena_stats().used_bytes, 20000);
    scratch_frame_end(&frame);
    ck_assert_uint_eq(arena_stats().used_bytes, 0);
    scratch_frame again = scratch_frame_begin();
    ck_assert_ptr_eq(must_alloc(&again, 100, 8), first); /* the same memory, reused */
    scratch_frame_end(&again);
}
END_TEST

START_TEST(test_frames_nest_and_an_inner_frame_leaves_the_outer_ones_allocations_alone) {
    scratch_frame outer = scratch_frame_begin();
    unsigned char *kept = must_alloc(&outer, 64, 8);
    memset(kept, 0xAB, 64);
    size_t outer_used = arena_stats().used_bytes;
    for (int round = 0; round < 3; round++) {
        scratch_frame inner = scratch_frame_begin();
        ck_assert_uint_eq(arena_stats().open_frames, 2);
        unsigned char *temp = must_alloc(&inner, 512, 8);
        memset(temp, 0xCD, 512);
        scratch_frame_end(&inner);
        ck_assert_uint_eq(arena_stats().used_bytes, outer_used);
    }
    for (int b = 0; b < 64; b++) ck_assert_uint_eq(kept[b], 0xAB);
    ck_assert_ptr_nonnull(scratch_alloc(&outer, 8, 8)); /* the outer frame is innermost again */
    scratch_frame_end(&outer);
    ck_assert_uint_eq(arena_stats().open_frames, 0);
}
END_TEST

START_TEST(test_an_oversized_request_falls_back_to_the_heap_and_is_released_with_its_frame) {
    scratch_frame frame = scratch_frame_begin();
    size_t chunk = arena_stats().chunk_bytes;
    unsigned char *big = must_alloc(&frame, chunk * 4, 4096);
    ck_assert_uint_eq((uintptr_t)big % 4096, 0);
    memset(big, 0x11, chunk * 4);
    ck_assert_uint_eq(arena_stats().heap_blocks, 1);
    ck_assert_uint_ge(arena_stats().heap_bytes, chunk * 4);
    must_alloc(&frame, 32, 8); /* small ones still come from the chunk */
    ck_assert_uint_eq(arena_stats().heap_blocks, 1);
    scratch_frame_end(&frame);
    ck_assert_uint_eq(arena_stats().heap_blocks, 0);
    ck_assert_uint_eq(arena_stats().heap_bytes, 0);
}
END_TEST

START_TEST(test_a_thread_whose_calls_outgrow_the_chunk_gets_a_bigger_one) {
    scratch_frame frame = scratch_frame_begin();
    size_t chunk = arena_stats().chunk_bytes;
    must_alloc(&frame, chunk / 2, 8);
    must_alloc(&frame, chunk, 8); /* does not fit: heap */
    ck_assert_uint_eq(arena_stats().heap_blocks, 1);
    scratch_frame_end(&frame);
    ck_assert_uint_gt(arena_stats().chunk_bytes, chunk);
    frame = scratch_frame_begin();
    must_alloc(&frame, chunk / 2, 8);
    must_alloc(&frame, chunk, 8);
    ck_assert_uint_eq(arena_stats().heap_blocks, 0); /* the same call now fits */
    scratch_frame_end(&frame);
}
END_TEST

START_TEST(test_closing_an_outer_frame_releases_the_inner_frames_too) {
    scratch_frame outer = scratch_frame_begin();
    must_alloc(&outer, 100, 8);
    must_alloc(&outer, 1 << 22, 8);
    scratch_frame inner = scratch_frame_begin();
    must_alloc(&inner, 100, 8);
    must_alloc(&inner, 1 << 22, 8);
    ck_assert_uint_eq(arena_stats().heap_blocks, 2);
    scratch_frame_end(&outer); /* inner was never closed */
    scratch_arena_stats stats = arena_stats();
    ck_assert_uint_eq(stats.heap_blocks, 0);
    ck_assert_uint_eq(stats.used_bytes, 0);
    ck_assert_uint_eq(stats.open_frames, 0);
    scratch_frame_end(&inner); /* already closed: nothing happens */
    ck_assert_uint_eq(arena_stats().open_frames, 0);
}
END_TEST

START_TEST(test_misuse_is_refused_not_corrupting) {
    scratch_frame frame = scratch_frame_begin();
    ck_assert_ptr_null(scratch_alloc(&frame, 16, 3));    /* not a power of two */
    ck_assert_ptr_null(scratch_alloc(&frame, 16, 8192)); /* above the 4096 limit */
    ck_assert_ptr_null(scratch_alloc(NULL, 16, 8));
    ck_assert_ptr_null(scratch_alloc(&frame, SIZE_MAX, 8)); /* cannot exist */
    ck_assert_ptr_nonnull(scratch_alloc(&frame, 16, 0));    /* 0 means 1 */
    ck_assert_ptr_nonnull(scratch_alloc(&frame, 0, 8));     /* empty, but a valid pointer */
    scratch_frame inner = scratch_frame_begin();
    ck_assert_ptr_null(scratch_alloc(&frame, 16, 8)); /* not the innermost frame */
    scratch_frame_end(&inner);
    scratch_frame_end(&frame);
    ck_assert_ptr_null(scratch_alloc(&frame, 16, 8)); /* closed */
    scratch_frame_end(&frame);                        /* twice: nothing happens */
    scratch_frame_end(NULL);
    ck_assert_uint_eq(arena_stats().open_frames, 0);
    ck_assert_uint_eq(arena_stats().used_bytes, 0);
}
END_TEST

static void *use_arena_then_exit(void *arg) {
    scratch_frame frame = scratch_frame_begin();
    scratch_alloc(&frame, 1000, 8);
    scratch_alloc(&frame, 1 << 21, 8); /* a heap block left open on purpose */
    *(size_t *)arg = scratch_arena_live_count();
    return NULL; /* exits with the frame open: the arena and the block go anyway */
}

START_TEST(test_each_thread_has_its_own_arena_released_when_the_thread_exits) {
    scratch_frame mine = scratch_frame_begin();
    void *my_block = must_alloc(&mine, 64, 8);
    size_t before = scratch_arena_live_count();
    size_t during = 0;
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, use_arena_then_exit, &during), 0);
    ck_assert_int_eq(pthread_join(thread, NULL), 0);
    ck_assert_uint_eq(during, before + 1);
    ck_assert_uint_eq(scratch_arena_live_count(), before);
    ck_assert_ptr_nonnull(my_block);
    ck_assert_uint_eq(arena_stats().open_frames, 1); /* the other thread never touched this one */
    scratch_frame_end(&mine);
}
END_TEST

static Suite *scratch_suite(void) {
    Suite *s = suite_create("scratch_arena");
    TCase *frames = tcase_create("frames");
    tcase_add_test(frames, test_allocations_are_aligned_disjoint_and_writable);
    tcase_add_test(frames, test_closing_a_frame_resets_the_arena_to_where_the_frame_opened);
    tcase_add_test(frames, test_frames_nest_and_an_inner_frame_leaves_the_outer_ones_allocations_alone);
    tcase_add_test(frames, test_an_oversized_request_falls_back_to_the_heap_and_is_released_with_its_frame);
    tcase_add_test(frames, test_a_thread_whose_calls_outgrow_the_chunk_gets_a_bigger_one);
    tcase_add_test(frames, test_closing_an_outer_frame_releases_the_inner_frames_too);
    tcase_add_test(frames, test_misuse_is_refused_not_corrupting);
    suite_add_tcase(s, frames);
    TCase *threads = tcase_create("threads");
    tcase_add_test(threads, test_each_thread_has_its_own_arena_released_when_the_thread_exits);
    suite_add_tcase(s, threads);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(scratch_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
