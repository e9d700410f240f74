/* SPDX-License-Identifier: Apache-2.0 */
/* The rules of the offset allocator, one test each. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "offset_allocator.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

/* Helpers used in long loops fail with ck_abort_msg rather than ck_assert:
 * check records every passing assertion, which is slow by the hundred thousand. */
static offset_allocation must_allocate(offset_allocator *a, uint64_t size, uint64_t alignment) {
    offset_allocation out;
    offset_allocator_result result = offset_allocator_allocate(a, size, alignment, &out);
    if (result != OFFSET_ALLOCATOR_OK)
        ck_abort_msg("allocate(%llu, %llu) = %d", (unsigned long long)size, (unsigned long long)alignment, (int)result);
    return out;
}

static void must_free(offset_allocator *a, offset_allocation_id id) {
    offset_allocator_result result = offset_allocator_free(a, id);
    if (result != OFFSET_ALLOCATOR_OK) ck_abort_msg("free(%u) = %d", id, (int)result);
}

static offset_allocator_report report_of(const offset_allocator *a) {
    offset_allocator_report r;
    offset_allocator_get_report(a, &r);
    return r;
}

/* A cheap xorshift, so sampled tests are repeatable. */
static uint64_t next_random(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* ---- the bin scale ------------------------------------------------------------- */

START_TEST(test_bins_below_eight_units_are_exact) {
    for (uint32_t units = 0; units < 8; units++) {
        ck_assert_uint_eq(offset_allocator_bin_round_down(units), units);
        ck_assert_uint_eq(offset_allocator_bin_round_up(units), units);
        ck_assert_uint_eq(offset_allocator_bin_to_units(units), units);
    }
}
END_TEST

/* A region is filed under the largest bin it fills; a request looks from the
 * first bin whose every region holds it. (Asserting only on failure keeps a
 * million samples fast: check records every passing assertion.) */
static void check_rounding(uint32_t units) {
    uint32_t down = offset_allocator_bin_round_down(units);
    uint32_t up = offset_allocator_bin_round_up(units);
    if (!(offset_allocator_bin_to_units(down) <= units && units < offset_allocator_bin_to_units(down + 1)))
        ck_abort_msg("a region of %u units must be filed under the largest bin it fills (got bin %u)", units, down);
    if (offset_allocator_bin_to_units(up) < units) ck_abort_msg("bin %u cannot hold %u units", up, units);
    if (up > 0 && offset_allocator_bin_to_units(up - 1) >= units)
        ck_abort_msg("request of %u units skipped a bin that fits it (bin %u)", units, up);
}

START_TEST(test_round_down_files_a_region_under_the_largest_bin_it_fills_and_round_up_finds_the_first_that_fits) {
    for (uint32_t units = 1; units < (1u << 17); units++) check_rounding(units);
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 1000000; i++) check_rounding((uint32_t)next_random(&state) | 1u);
    check_rounding(UINT32_MAX);
}
END_TEST

START_TEST(test_bin_sizes_grow_by_at_most_an_eighth) {
    for (uint32_t bin = 1; bin < OFFSET_ALLOCATOR_BIN_COUNT; bin++) {
        uint64_t here = offset_allocator_bin_to_units(bin), below = offset_allocator_bin_to_units(bin - 1);
        ck_assert_msg(here > below, "bin sizes must increase (bin %u)", bin);
        if (bin > 8) ck_assert_msg((here - below) * 8 <= below, "bin %u is more than 1/8 above bin %u", bin, bin - 1);
    }
}
END_TEST

START_TEST(test_every_32_bit_unit_count_has_a_bin) {
    ck_assert_uint_eq(offset_allocator_bin_round_down(UINT32_MAX), 239);
    ck_assert_uint_eq(offset_allocator_bin_round_up(UINT32_MAX), 240);
    ck_assert_uint_eq(offset_allocator_bin_to_units(240), 1ull << 32);
    ck_assert_uint_eq(offset_allocator_bin_round_up(1u << 31), offset_allocator_bin_round_down(1u << 31));
}
END_TEST

/* ---- creation and units -------------------------------------------------------- */

START_TEST(test_create_refuses_bad_arguments) {
    ck_assert_ptr_null(offset_allocator_create(MiB, 0));
    ck_assert_ptr_null(offset_allocator_create(MiB, 48)); /* unit not a power of two */
    ck_assert_ptr_null(offset_allocator_create(0, 256));
    ck_assert_ptr_null(offset_allocator_create(255, 256));              /* less than one unit */
    ck_assert_ptr_null(offset_allocator_create(1ull << 32, 1));         /* 2^32 units do not fit 32 bits */
    offset_allocator *largest = offset_allocator_create(UINT32_MAX, 1); /* 2^32 - 1 units do */
    ck_assert_ptr_nonnull(largest);
    offset_allocator_destroy(largest);
    offset_allocator_destroy(NULL);
}
END_TEST

START_TEST(test_a_4_GiB_span_with_256_byte_units_works_in_64_bit_bytes) {
    offset_allocator *a = offset_allocator_create(4 * GiB, 256);
    ck_assert_ptr_nonnull(a);
    offset_allocation low = must_allocate(a, 3 * GiB, 0);
    offset_allocation high = must_allocate(a, GiB, 0);
    ck_assert_uint_eq(low.offset, 0);
    ck_assert_uint_eq(high.offset, 3 * GiB);
    ck_assert_uint_eq(high.size, GiB);
    ck_assert_uint_eq(report_of(a).free_bytes, 0);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_a_span_far_larger_than_host_memory_costs_only_metadata) {
    /* Nothing is ever written to the managed span: 1 TiB of it costs nothing. */
    offset_allocator *a = offset_allocator_create(1024 * GiB, 512);
    ck_assert_ptr_nonnull(a);
    offset_allocation first = must_allocate(a, 600 * GiB, 0);
    offset_allocation second = must_allocate(a, 100 * GiB, GiB);
    ck_assert_uint_eq(first.offset, 0);
    ck_assert_uint_eq(second.offset, 600 * GiB);
    ck_assert_uint_lt(report_of(a).metadata_bytes, 64 * KiB);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_requests_are_rounded_up_to_whole_units) {
    offset_allocator *a = offset_allocator_create(MiB, 256);
    offset_allocation one_byte = must_allocate(a, 1, 0);
    offset_allocation just_over = must_allocate(a, 257, 0);
    ck_assert_uint_eq(one_byte.size, 256);
    ck_assert_uint_eq(just_over.size, 512);
    ck_assert_uint_eq(just_over.offset, 256);
    ck_assert_uint_eq(offset_allocator_allocation_size(a, just_over.id), 512);
    offset_allocator_destroy(a);
}
END_TEST

/* ---- allocation ---------------------------------------------------------------- */

START_TEST(test_offsets_are_aligned_as_asked) {
    offset_allocator *a = offset_allocator_create(64 * MiB, 16);
    for (uint64_t alignment = 1; alignment <= MiB; alignment *= 2) {
        must_allocate(a, 16, 0); /* knock the next free offset off any alignment */
        offset_allocation x = must_allocate(a, 100, alignment);
        ck_assert_msg(x.offset % alignment == 0, "offset %llu not aligned to %llu", (unsigned long long)x.offset,
                      (unsigned long long)alignment);
    }
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_alignment_at_or_below_the_unit_means_unit_aligned) {
    offset_allocator *a = offset_allocator_create(MiB, 256);
    must_allocate(a, 256, 0);
    ck_assert_uint_eq(must_allocate(a, 10, 0).offset, 256);
    ck_assert_uint_eq(must_allocate(a, 10, 1).offset, 512);
    ck_assert_uint_eq(must_allocate(a, 10, 64).offset, 768);
    ck_assert_uint_eq(must_allocate(a, 10, 256).offset, 1024);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_alignment_padding_goes_straight_back_to_the_free_lists) {
    offset_allocator *a = offset_allocator_create(MiB, 1);
    must_allocate(a, 1, 0);
    offset_allocation aligned = must_allocate(a, 1000, 4096);
    ck_assert_uint_eq(aligned.offset, 4096);
    offset_allocator_report r = report_of(a);
    ck_assert_uint_eq(r.free_bytes, MiB - 1 - 1000); /* the 4095 bytes of padding are free */
    ck_assert_uint_eq(r.free_regions, 2);
    offset_allocation in_padding = must_allocate(a, 4095, 0);
    ck_assert_uint_eq(in_padding.offset, 1);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_no_space_is_a_normal_result_that_changes_nothing) {
    offset_allocator *a = offset_allocator_create(MiB, 64);
    must_allocate(a, 512 * KiB, 0);
    offset_allocation held = must_allocate(a, 64, 0);
    (void)held;
    offset_allocator_report before = report_of(a);
    static offset_allocator_bin_report bins_before, bins_after;
    offset_allocator_get_bin_report(a, &bins_before);

    offset_allocation out;
    memset(&out, 0x5A, sizeof out);
    offset_allocation untouched = out;
    ck_assert_int_eq(offset_allocator_allocate(a, 600 * KiB, 0, &out), OFFSET_ALLOCATOR_NO_SPACE);
    ck_assert_int_eq(offset_allocator_allocate(a, 2 * MiB, 0, &out), OFFSET_ALLOCATOR_NO_SPACE);
    ck_assert_int_eq(offset_allocator_allocate(a, UINT64_MAX, 0, &out), OFFSET_ALLOCATOR_NO_SPACE);
    ck_assert_int_eq(offset_allocator_allocate(a, 256 * KiB, 1ull << 40, &out), OFFSET_ALLOCATOR_NO_SPACE);

    offset_allocator_report after = report_of(a);
    offset_allocator_get_bin_report(a, &bins_after);
    ck_assert_mem_eq(&before, &after, sizeof before);
    ck_assert_mem_eq(&bins_before, &bins_after, sizeof bins_before);
    ck_assert_mem_eq(&out, &untouched, sizeof out);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_bad_arguments_are_refused) {
    offset_allocator *a = offset_allocator_create(MiB, 64);
    offset_allocation out;
    ck_assert_int_eq(offset_allocator_allocate(a, 0, 0, &out), OFFSET_ALLOCATOR_INVALID_ARGUMENT);
    ck_assert_int_eq(offset_allocator_allocate(a, 64, 3, &out), OFFSET_ALLOCATOR_INVALID_ARGUMENT);
    ck_assert_int_eq(offset_allocator_allocate(a, 64, 0, NULL), OFFSET_ALLOCATOR_INVALID_ARGUMENT);
    ck_assert_int_eq(offset_allocator_allocate(NULL, 64, 0, &out), OFFSET_ALLOCATOR_INVALID_ARGUMENT);
    ck_assert_int_eq(offset_allocator_free(NULL, 0), OFFSET_ALLOCATOR_INVALID_ARGUMENT);
    ck_assert_uint_eq(offset_allocator_allocation_size(NULL, 0), 0);
    ck_assert_uint_eq(report_of(a).live_allocations, 0);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_a_request_succeeds_whenever_a_region_an_eighth_larger_plus_alignment_slack_is_free) {
    uint64_t state = 12345;
    for (int i = 0; i < 20000; i++) {
        uint64_t units = 1 + next_random(&state) % (1u << (1 + next_random(&state) % 24));
        uint64_t align_units = 1ull << (next_random(&state) % 12);
        uint64_t region =
            offset_allocator_bin_to_units(offset_allocator_bin_round_up((uint32_t)(units + align_units - 1)));
        /* One used unit first, so the only free region starts misaligned. */
        offset_allocator *a = offset_allocator_create(1 + region, 1);
        must_allocate(a, 1, 0);
        offset_allocation x = must_allocate(a, units, align_units);
        if (x.offset % align_units != 0) ck_abort_msg("misaligned offset %llu", (unsigned long long)x.offset);
        if (region * 8 > (units + align_units - 1) * 9)
            ck_abort_msg("slack above 1/8 for %llu units", (unsigned long long)units);
        offset_allocator_destroy(a);
    }
}
END_TEST

START_TEST(test_a_freed_region_between_two_bin_sizes_is_reused_for_the_same_size) {
    /* 700 units round up to bin 704 but are filed under bin 640: the bin
     * search alone would miss the exact fit. */
    offset_allocator *a = offset_allocator_create(1000, 1);
    must_allocate(a, 100, 0);
    offset_allocation middle = must_allocate(a, 700, 0);
    must_allocate(a, 200, 0);
    ck_assert_int_eq(offset_allocator_free(a, middle.id), OFFSET_ALLOCATOR_OK);
    offset_allocation again = must_allocate(a, 700, 0);
    ck_assert_uint_eq(again.offset, 100);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_the_whole_span_can_be_allocated_at_once) {
    offset_allocator *a = offset_allocator_create(UINT32_MAX, 1);
    offset_allocation all = must_allocate(a, UINT32_MAX, 0);
    ck_assert_uint_eq(all.offset, 0);
    ck_assert_uint_eq(report_of(a).free_regions, 0);
    ck_assert_uint_eq(report_of(a).largest_free_bytes, 0);
    offset_allocator_destroy(a);
}
END_TEST

/* ---- free ---------------------------------------------------------------------- */

START_TEST(test_free_merges_with_free_neighbours_on_both_sides_at_once) {
    offset_allocator *a = offset_allocator_create(3000, 1);
    offset_allocation left = must_allocate(a, 1000, 0), middle = must_allocate(a, 1000, 0),
                      right = must_allocate(a, 1000, 0);
    ck_assert_int_eq(offset_allocator_free(a, left.id), OFFSET_ALLOCATOR_OK);
    ck_assert_int_eq(offset_allocator_free(a, right.id), OFFSET_ALLOCATOR_OK);
    ck_assert_uint_eq(report_of(a).free_regions, 2);
    ck_assert_int_eq(offset_allocator_free(a, middle.id), OFFSET_ALLOCATOR_OK);
    offset_allocator_report r = report_of(a);
    ck_assert_uint_eq(r.free_regions, 1);
    ck_assert_uint_eq(r.free_bytes, 3000);
    ck_assert_uint_eq(must_allocate(a, 3000, 0).offset, 0);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_free_merges_with_a_free_neighbour_on_one_side) {
    offset_allocator *a = offset_allocator_create(4000, 1);
    offset_allocation first = must_allocate(a, 1000, 0), second = must_allocate(a, 1000, 0);
    offset_allocation third = must_allocate(a, 1000, 0);
    must_allocate(a, 1000, 0);
    ck_assert_int_eq(offset_allocator_free(a, first.id), OFFSET_ALLOCATOR_OK);
    ck_assert_int_eq(offset_allocator_free(a, second.id), OFFSET_ALLOCATOR_OK); /* joins its left neighbour */
    ck_assert_uint_eq(report_of(a).free_regions, 1);
    ck_assert_uint_eq(must_allocate(a, 2000, 0).offset, 0);
    ck_assert_int_eq(offset_allocator_free(a, third.id), OFFSET_ALLOCATOR_OK);
    offset_allocator_destroy(a);

    a = offset_allocator_create(3000, 1);
    first = must_allocate(a, 1000, 0);
    second = must_allocate(a, 1000, 0); /* the last 1000 stay free: a right neighbour */
    ck_assert_int_eq(offset_allocator_free(a, second.id), OFFSET_ALLOCATOR_OK);
    ck_assert_uint_eq(report_of(a).free_regions, 1);
    ck_assert_uint_eq(must_allocate(a, 2000, 0).offset, 1000);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_freeing_an_id_twice_is_refused_and_changes_nothing) {
    offset_allocator *a = offset_allocator_create(MiB, 64);
    offset_allocation x = must_allocate(a, 4096, 0);
    must_allocate(a, 4096, 0);
    ck_assert_int_eq(offset_allocator_free(a, x.id), OFFSET_ALLOCATOR_OK);
    offset_allocator_report before = report_of(a);
    ck_assert_int_eq(offset_allocator_free(a, x.id), OFFSET_ALLOCATOR_INVALID_HANDLE);
    offset_allocator_report after = report_of(a);
    ck_assert_mem_eq(&before, &after, sizeof before);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_a_stale_id_stays_refused_after_its_record_is_reused) {
    offset_allocator *a = offset_allocator_create(MiB, 64);
    offset_allocation old = must_allocate(a, 4096, 0);
    ck_assert_int_eq(offset_allocator_free(a, old.id), OFFSET_ALLOCATOR_OK);
    offset_allocation reused = must_allocate(a, 4096, 0); /* same node, same offset */
    ck_assert_uint_eq(reused.offset, old.offset);
    ck_assert_uint_ne(reused.id, old.id);
    ck_assert_int_eq(offset_allocator_free(a, old.id), OFFSET_ALLOCATOR_INVALID_HANDLE);
    ck_assert_uint_eq(offset_allocator_allocation_size(a, old.id), 0);
    ck_assert_uint_eq(offset_allocator_allocation_size(a, reused.id), 4096);
    ck_assert_int_eq(offset_allocator_free(a, reused.id), OFFSET_ALLOCATOR_OK);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_foreign_ids_are_refused) {
    offset_allocator *a = offset_allocator_create(MiB, 64);
    offset_allocator *other = offset_allocator_create(MiB, 64);
    offset_allocation mine = must_allocate(a, 64, 0);
    for (int i = 0; i < 5; i++) must_allocate(other, 64, 0);
    offset_allocation theirs = must_allocate(other, 64, 0);
    offset_allocator_report before = report_of(a);
    ck_assert_int_eq(offset_allocator_free(a, OFFSET_ALLOCATION_NONE), OFFSET_ALLOCATOR_INVALID_HANDLE);
    ck_assert_int_eq(offset_allocator_free(a, theirs.id), OFFSET_ALLOCATOR_INVALID_HANDLE);
    uint64_t state = 77;
    int tried = 0, refused = 0;
    for (int i = 0; i < 100000; i++) {
        offset_allocation_id id = (offset_allocation_id)next_random(&state);
        if (id == mine.id) continue;
        tried++;
        refused += offset_allocator_free(a, id) == OFFSET_ALLOCATOR_INVALID_HANDLE;
    }
    ck_assert_int_eq(refused, tried);
    offset_allocator_report after = report_of(a);
    ck_assert_mem_eq(&before, &after, sizeof before);
    ck_assert_int_eq(offset_allocator_free(a, mine.id), OFFSET_ALLOCATOR_OK);
    offset_allocator_destroy(a);
    offset_allocator_destroy(other);
}
END_TEST

/* ---- metadata ------------------------------------------------------------------ */

START_TEST(test_metadata_grows_with_live_allocations_not_with_the_span) {
    offset_allocator *a = offset_allocator_create(UINT32_MAX, 1);
    uint64_t empty = report_of(a).metadata_bytes;
    ck_assert_uint_lt(empty, 16 * KiB);
    enum { COUNT = 200000 };
    offset_allocation_id *ids = malloc(COUNT * sizeof *ids);
    for (int i = 0; i < COUNT; i++) ids[i] = must_allocate(a, 1000, 0).id;
    uint64_t full = report_of(a).metadata_bytes;
    ck_assert_uint_gt(full, empty);
    ck_assert_uint_le(full, empty + 2ull * COUNT * 64); /* a few dozen bytes per live allocation */
    for (int i = 0; i < COUNT; i++) must_free(a, ids[i]);
    for (int i = 0; i < COUNT; i++) ids[i] = must_allocate(a, 1000, 0).id;
    ck_assert_uint_eq(report_of(a).metadata_bytes, full); /* recycled, not grown */
    free(ids);
    offset_allocator_destroy(a);
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
/* In a child whose address space is capped just above what it uses, fill an
 * allocator until its node array cannot grow. */
static int run_until_host_memory_runs_out(void) {
    offset_allocator *a = offset_allocator_create(UINT32_MAX, 1);
    struct rlimit cap = {.rlim_cur = 0, .rlim_max = RLIM_INFINITY};
    long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (!statm || fscanf(statm, "%ld", &pages) != 1) return 10;
    fclose(statm);
    cap.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + 64 * MiB;
    if (setrlimit(RLIMIT_AS, &cap) != 0) return 11;
    for (uint32_t i = 0; i < UINT32_MAX / 2; i++) {
        offset_allocator_report before = report_of(a);
        offset_allocation out = {.offset = 7, .size = 7, .id = 7};
        offset_allocator_result result = offset_allocator_allocate(a, 1, 0, &out);
        if (result == OFFSET_ALLOCATOR_OK) continue;
        if (result != OFFSET_ALLOCATOR_OUT_OF_MEMORY) return 12;
        offset_allocator_report after = report_of(a);
        if (memcmp(&before, &after, sizeof before) != 0) return 13;
        if (out.offset != 7 || out.size != 7 || out.id != 7) return 14;
        return before.live_allocations > 100000 ? 0 : 15;
    }
    return 16;
}
#endif

START_TEST(test_running_out_of_host_memory_is_reported_and_changes_nothing) {
#ifdef UNDER_SANITIZER
    return; /* sanitizers reserve terabytes of shadow: an address-space cap breaks them */
#else
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) _exit(run_until_host_memory_runs_out());
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
#endif
}
END_TEST

/* ---- reports ------------------------------------------------------------------- */

START_TEST(test_report_counts_free_bytes_regions_and_live_allocations) {
    offset_allocator *a = offset_allocator_create(MiB, 64);
    offset_allocator_report r = report_of(a);
    ck_assert_uint_eq(r.span_bytes, MiB);
    ck_assert_uint_eq(r.unit_bytes, 64);
    ck_assert_uint_eq(r.free_bytes, MiB);
    ck_assert_uint_eq(r.largest_free_bytes, MiB);
    ck_assert_uint_eq(r.free_regions, 1);
    offset_allocation x = must_allocate(a, 100 * KiB, 0);
    must_allocate(a, 100 * KiB, 0);
    ck_assert_int_eq(offset_allocator_free(a, x.id), OFFSET_ALLOCATOR_OK);
    r = report_of(a);
    ck_assert_uint_eq(r.free_bytes, MiB - 100 * KiB);
    ck_assert_uint_eq(r.free_regions, 2);
    ck_assert_uint_eq(r.live_allocations, 1);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_largest_free_is_the_largest_request_sure_to_succeed) {
    offset_allocator *a = offset_allocator_create(1000, 1);
    must_allocate(a, 1, 0); /* 999 units stay free: bin 960 */
    offset_allocator_report r = report_of(a);
    ck_assert_uint_eq(r.largest_free_bytes, offset_allocator_bin_to_units(offset_allocator_bin_round_down(999)));
    ck_assert_uint_le(r.largest_free_bytes, 999);
    offset_allocation x = must_allocate(a, r.largest_free_bytes, 0);
    ck_assert_uint_eq(x.size, r.largest_free_bytes);
    offset_allocator_destroy(a);
}
END_TEST

START_TEST(test_bin_report_files_each_free_region_under_its_rounded_down_bin) {
    offset_allocator *a = offset_allocator_create(10000, 1);
    uint64_t gaps[] = {5, 100, 700, 1500};
    offset_allocation gap[4];
    uint64_t used = 0;
    for (int i = 0; i < 4; i++) {
        gap[i] = must_allocate(a, gaps[i], 0);
        must_allocate(a, 10, 0); /* keeps the gap from merging with what follows */
        used += 10;
    }
    for (int i = 0; i < 4; i++) ck_assert_int_eq(offset_allocator_free(a, gap[i].id), OFFSET_ALLOCATOR_OK);
    static offset_allocator_bin_report bins;
    offset_allocator_get_bin_report(a, &bins);
    uint64_t total = 0;
    uint32_t regions = 0;
    for (uint32_t bin = 0; bin < OFFSET_ALLOCATOR_BIN_COUNT; bin++) {
        ck_assert_uint_eq(bins.bin_size_bytes[bin], offset_allocator_bin_to_units(bin));
        total += bins.free_bytes[bin];
        regions += bins.free_regions[bin];
    }
    for (int i = 0; i < 4; i++)
        ck_assert_uint_ge(bins.free_regions[offset_allocator_bin_round_down((uint32_t)gaps[i])], 1);
    uint64_t tail = 10000 - (5 + 100 + 700 + 1500) - used;
    ck_assert_uint_eq(bins.free_regions[offset_allocator_bin_round_down((uint32_t)tail)], 1);
    ck_assert_uint_eq(total, report_of(a).free_bytes);
    ck_assert_uint_eq(regions, 5);
    offset_allocator_destroy(a);
}
END_TEST

static Suite *offset_allocator_suite(void) {
    Suite *s = suite_create("offset_allocator");
    TCase *bins = tcase_create("bin scale");
    tcase_add_test(bins, test_bins_below_eight_units_are_exact);
    tcase_add_test(
        bins, test_round_down_files_a_region_under_the_largest_bin_it_fills_and_round_up_finds_the_first_that_fits);
    tcase_add_test(bins, test_bin_sizes_grow_by_at_most_an_eighth);
    tcase_add_test(bins, test_every_32_bit_unit_count_has_a_bin);
    suite_add_tcase(s, bins);

    TCase *create = tcase_create("create and units");
    tcase_add_test(create, test_create_refuses_bad_arguments);
    tcase_add_test(create, test_a_4_GiB_span_with_256_byte_units_works_in_64_bit_bytes);
    tcase_add_test(create, test_a_span_far_larger_than_host_memory_costs_only_metadata);
    tcase_add_test(create, test_requests_are_rounded_up_to_whole_units);
    suite_add_tcase(s, create);

    TCase *allocate = tcase_create("allocate");
    tcase_add_test(allocate, test_offsets_are_aligned_as_asked);
    tcase_add_test(allocate, test_alignment_at_or_below_the_unit_means_unit_aligned);
    tcase_add_test(allocate, test_alignment_padding_goes_straight_back_to_the_free_lists);
    tcase_add_test(allocate, test_no_space_is_a_normal_result_that_changes_nothing);
    tcase_add_test(allocate, test_bad_arguments_are_refused);
    tcase_add_test(allocate, test_a_request_succeeds_whenever_a_region_an_eighth_larger_plus_alignment_slack_is_free);
    tcase_add_test(allocate, test_a_freed_region_between_two_bin_sizes_is_reused_for_the_same_size);
    tcase_add_test(allocate, test_the_whole_span_can_be_allocated_at_once);
    suite_add_tcase(s, allocate);

    TCase *release = tcase_create("free");
    tcase_add_test(release, test_free_merges_with_free_neighbours_on_both_sides_at_once);
    tcase_add_test(release, test_free_merges_with_a_free_neighbour_on_one_side);
    tcase_add_test(release, test_freeing_an_id_twice_is_refused_and_changes_nothing);
    tcase_add_test(release, test_a_stale_id_stays_refused_after_its_record_is_reused);
    tcase_add_test(release, test_foreign_ids_are_refused);
    suite_add_tcase(s, release);

    TCase *metadata = tcase_create("metadata");
    tcase_set_timeout(metadata, 60);
    tcase_add_test(metadata, test_metadata_grows_with_live_allocations_not_with_the_span);
    tcase_add_test(metadata, test_running_out_of_host_memory_is_reported_and_changes_nothing);
    suite_add_tcase(s, metadata);

    TCase *reports = tcase_create("reports");
    tcase_add_test(reports, test_report_counts_free_bytes_regions_and_live_allocations);
    tcase_add_test(reports, test_largest_free_is_the_largest_request_sure_to_succeed);
    tcase_add_test(reports, test_bin_report_files_each_free_region_under_its_rounded_down_bin);
    suite_add_tcase(s, reports);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(offset_allocator_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
