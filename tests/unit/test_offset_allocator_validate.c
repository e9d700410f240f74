/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_offset_allocator_validate: offset_allocator_validate() holds after every
 * kind of operation, and catches each kind of corruption.
 *
 * The corruption cases reach inside: this file includes offset_allocator.c so
 * that it can break one invariant at a time and see the check name it. That is
 * the only way to prove the check can fail, since the public API never leaves
 * the allocator broken.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocator/offset_allocator.c"

static char why[256];

static bool valid(const offset_allocator *a) {
    why[0] = '\0';
    return offset_allocator_validate(a, why, sizeof why);
}

#define ASSERT_VALID(a) ck_assert_msg(valid(a), "invalid: %s", why)
#define ASSERT_BROKEN(a, words)                                                                    \
    do {                                                                                           \
        ck_assert_msg(!valid(a), "corruption went unnoticed");                                     \
        ck_assert_msg(strstr(why, (words)) != NULL, "reported '%s', expected '%s'", why, (words)); \
    } while (0)

static offset_allocation take(offset_allocator *a, uint64_t size, uint64_t alignment) {
    offset_allocation out;
    ck_assert_int_eq(offset_allocator_allocate(a, size, alignment, &out), OFFSET_ALLOCATOR_OK);
    return out;
}

/* Three allocations with a free region between the first two. */
static offset_allocator *three_with_a_hole(offset_allocation *kept) {
    offset_allocator *a = offset_allocator_create(1 << 20, 64);
    kept[0] = take(a, 1000, 0);
    offset_allocation hole = take(a, 5000, 0);
    kept[1] = take(a, 3000, 4096);
    ck_assert_int_eq(offset_allocator_free(a, hole.id), OFFSET_ALLOCATOR_OK);
    return a;
}

START_TEST(test_validate_holds_after_allocate_free_merge_and_alignment_padding) {
    offset_allocator *a = offset_allocator_create(1 << 20, 64);
    ASSERT_VALID(a);
    offset_allocation x = take(a, 100, 0), y = take(a, 70000, 65536), z = take(a, 64, 0);
    ASSERT_VALID(a);
    ck_assert_int_eq(offset_allocator_free(a, y.id), OFFSET_ALLOCATOR_OK);
    ASSERT_VALID(a);
    ck_assert_int_eq(offset_allocator_free(a, x.id), OFFSET_ALLOCATOR_OK);
    ck_assert_int_eq(offset_allocator_free(a, z.id), OFFSET_ALLOCATOR_OK);
    ASSERT_VALID(a);
    ck_assert_uint_eq(a->free_regions, 1);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_a_node_unlinked_from_its_neighbour_is_caught) {
    offset_allocation kept[2];
    offset_allocator *a = three_with_a_hole(kept);
    uint32_t index = kept[1].id & a->index_mask;
    a->nodes[index].addr_prev = NO_NODE - 1;
    ASSERT_BROKEN(a, "links back");
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_a_gap_between_regions_is_caught) {
    offset_allocation kept[2];
    offset_allocator *a = three_with_a_hole(kept);
    a->nodes[kept[1].id & a->index_mask].offset += 1;
    ASSERT_BROKEN(a, "starts at unit");
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_two_free_neighbours_left_unmerged_are_caught) {
    offset_allocation kept[2];
    offset_allocator *a = three_with_a_hole(kept);
    a->nodes[kept[0].id & a->index_mask].state = NODE_FREE; /* beside the hole, never merged */
    ASSERT_BROKEN(a, "were not merged");
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_a_free_region_in_the_wrong_bin_is_caught) {
    offset_allocation kept[2];
    offset_allocator *a = three_with_a_hole(kept);
    uint32_t hole = a->nodes[kept[0].id & a->index_mask].addr_next;
    a->nodes[hole].size -= 10; /* it no longer belongs in its bin; the span is no longer covered either */
    a->nodes[kept[1].id & a->index_mask].offset -= 10;
    a->nodes[kept[1].id & a->index_mask].size += 10;
    ASSERT_BROKEN(a, "is filed in bin");
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_a_bitmask_out_of_step_with_its_bins_is_caught) {
    offset_allocation kept[2];
    offset_allocator *a = three_with_a_hole(kept);
    a->leaf_masks[0] ^= 1; /* bin 0 is empty: now it says it is not */
    ASSERT_BROKEN(a, "bin 0: leaf bit");
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_counters_out_of_step_are_caught) {
    offset_allocation kept[2];
    offset_allocator *a = three_with_a_hole(kept);
    a->free_units += 1;
    ASSERT_BROKEN(a, "free_units says");
    a->free_units -= 1;
    a->live_allocations += 1;
    ASSERT_BROKEN(a, "live_allocations says");
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_a_fresh_span_of_span_for_bytes_serves_the_request_at_any_alignment) {
    uint64_t state = 0x5A5A5A5A5ull;
    for (int i = 0; i < 2000; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        uint64_t unit = 1ull << (state % 11);
        uint64_t size = 1 + (state >> 16) % (1u << (4 + state % 20));
        uint64_t span = offset_allocator_span_for(size, unit);
        ck_assert_uint_ge(span, size);
        offset_allocator *a = offset_allocator_create(span, unit);
        ck_assert_ptr_nonnull(a);
        offset_allocation out;
        ck_assert_msg(offset_allocator_allocate(a, size, 1ull << (state % 30), &out) == OFFSET_ALLOCATOR_OK,
                      "a fresh span of %llu bytes (unit %llu) refused %llu bytes", (unsigned long long)span,
                      (unsigned long long)unit, (unsigned long long)size);
        offset_allocator_destroy(a);
    }
}
END_TEST

int main(void) {
    Suite *suite = suite_create("offset_allocator_validate");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, test_validate_holds_after_allocate_free_merge_and_alignment_padding);
    tcase_add_test(tc, test_a_node_unlinked_from_its_neighbour_is_caught);
    tcase_add_test(tc, test_a_gap_between_regions_is_caught);
    tcase_add_test(tc, test_two_free_neighbours_left_unmerged_are_caught);
    tcase_add_test(tc, test_a_free_region_in_the_wrong_bin_is_caught);
    tcase_add_test(tc, test_a_bitmask_out_of_step_with_its_bins_is_caught);
    tcase_add_test(tc, test_counters_out_of_step_are_caught);
    tcase_add_test(tc, test_a_fresh_span_of_span_for_bytes_serves_the_request_at_any_alignment);
    suite_add_tcase(suite, tc);
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
