/* SPDX-License-Identifier: Apache-2.0 */
/* Aliasing and neighbours: resources bound over the same bytes of one memory
 * are legal Vulkan and never reported (unless the program declares it never
 * aliases); a linear and an optimal resource that are neighbours on one
 * bufferImageGranularity page of the same memory are reported, as the spec's
 * buffer-image granularity rule says. */
#include <stdlib.h>

#include "strict_test_context.h"
#include "strict_test_suites.h"

#define MiB (1024ull * 1024ull)
#define PAGE STRICT_DEVICE_BUFFER_IMAGE_GRANULARITY

static strict_test_context context;

/* What a test made, destroyed by the fixture. */
enum { TRACKED = 16 };
static VkDeviceMemory tracked_memories[TRACKED];
static VkBuffer tracked_buffers[TRACKED];
static VkImage tracked_images[TRACKED];
static unsigned memory_count, buffer_count, image_count;

static VkDeviceMemory allocate(VkDeviceSize size) {
    ck_assert_uint_lt(memory_count, TRACKED);
    return tracked_memories[memory_count++] =
               strict_test_allocate(&context, size, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
}

static VkBuffer buffer_of(VkDeviceSize size) {
    ck_assert_uint_lt(buffer_count, TRACKED);
    return tracked_buffers[buffer_count++] = strict_test_buffer(&context, size);
}

static VkImage image_of(VkImageTiling tiling, uint32_t side) {
    ck_assert_uint_lt(image_count, TRACKED);
    return tracked_images[image_count++] =
               strict_test_image(&context, tiling, side, VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT);
}

static void open_with(const char *forbid_aliasing) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    if (forbid_aliasing) setenv("STRICT_DEVICE_FORBID_ALIASING", forbid_aliasing, 1);
    else unsetenv("STRICT_DEVICE_FORBID_ALIASING");
    strict_test_open(&context, NULL, 0);
}

static void open_default(void) { open_with(NULL); }

static void open_forbidding_aliasing(void) { open_with("1"); }

static void close_context(void) {
    for (unsigned i = 0; i < buffer_count; i++) vkDestroyBuffer(context.device, tracked_buffers[i], NULL);
    for (unsigned i = 0; i < image_count; i++) vkDestroyImage(context.device, tracked_images[i], NULL);
    for (unsigned i = 0; i < memory_count; i++) vkFreeMemory(context.device, tracked_memories[i], NULL);
    memory_count = buffer_count = image_count = 0;
    unsetenv("STRICT_DEVICE_FORBID_ALIASING");
    strict_test_close(&context);
}

static void assert_only_violation(StrictDeviceViolation kind, uint64_t times) {
    ck_assert_uint_eq(context.violation_count(context.device, kind), times);
    ck_assert_uint_eq(strict_test_violations(&context), times);
}

static void assert_no_violation(void) { ck_assert_uint_eq(strict_test_violations(&context), 0); }

static VkDeviceSize round_up(VkDeviceSize value, VkDeviceSize alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

static void bind_buffer(VkBuffer buffer, VkDeviceMemory memory, VkDeviceSize offset) {
    ck_assert_int_eq(vkBindBufferMemory(context.device, buffer, memory, offset), VK_SUCCESS);
}

static void bind_image(VkImage image, VkDeviceMemory memory, VkDeviceSize offset) {
    ck_assert_int_eq(vkBindImageMemory(context.device, image, memory, offset), VK_SUCCESS);
}

/* An optimal image of side x side texels at offset 0 of a fresh memory, and its size. */
static VkDeviceSize optimal_image_at_zero(VkDeviceMemory memory, uint32_t side) {
    VkImage image = image_of(VK_IMAGE_TILING_OPTIMAL, side);
    bind_image(image, memory, 0);
    return strict_test_image_requirements(&context, image).size;
}

/* ---- aliasing: the same bytes, on purpose ---- */

START_TEST(an_optimal_image_and_a_buffer_over_the_same_bytes_are_not_a_violation) {
    VkDeviceMemory memory = allocate(1 * MiB);
    VkDeviceSize image_size = optimal_image_at_zero(memory, 64);
    bind_buffer(buffer_of(image_size), memory, 0);
    assert_no_violation();
}
END_TEST

START_TEST(a_buffer_bound_inside_an_optimal_image_is_aliasing_not_a_granularity_violation) {
    VkDeviceMemory memory = allocate(1 * MiB);
    VkDeviceSize image_size = optimal_image_at_zero(memory, 64);
    ck_assert_uint_gt(image_size, 2 * PAGE);
    /* Starts inside the image and ends past it: partly over the same bytes. */
    bind_buffer(buffer_of(2 * PAGE), memory, round_up(image_size - PAGE, 256));
    assert_no_violation();
}
END_TEST

START_TEST(buffers_bound_over_each_other_are_not_a_violation_in_either_bind_form) {
    VkDeviceMemory memory = allocate(4096);
    bind_buffer(buffer_of(512), memory, 0);
    bind_buffer(buffer_of(512), memory, 256);
    VkBindBufferMemoryInfo binds[] = {
        {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, NULL, buffer_of(512), memory, 1024},
        {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, NULL, buffer_of(512), memory, 1024},
    };
    ck_assert_int_eq(vkBindBufferMemory2(context.device, 2, binds), VK_SUCCESS);
    assert_no_violation();
}
END_TEST

/* ---- neighbours: buffer-image granularity ---- */

START_TEST(linear_and_optimal_neighbours_on_one_page_are_reported_in_either_order) {
    VkImage first_image = image_of(VK_IMAGE_TILING_OPTIMAL, 8);
    VkImage second_image = image_of(VK_IMAGE_TILING_OPTIMAL, 8);
    VkDeviceSize image_size = strict_test_image_requirements(&context, first_image).size;
    VkDeviceSize buffer_offset = round_up(image_size, 256);
    /* The buffer starts right after the image, inside the image's last page. */
    ck_assert_uint_eq(buffer_offset / PAGE, (image_size - 1) / PAGE);

    VkDeviceMemory image_first = allocate(1 * MiB);
    bind_image(first_image, image_first, 0);
    bind_buffer(buffer_of(256), image_first, buffer_offset);
    assert_only_violation(STRICT_DEVICE_VIOLATION_GRANULARITY, 1);

    VkDeviceMemory buffer_first = allocate(1 * MiB);
    bind_buffer(buffer_of(256), buffer_first, buffer_offset);
    bind_image(second_image, buffer_first, 0);
    assert_only_violation(STRICT_DEVICE_VIOLATION_GRANULARITY, 2);
}
END_TEST

START_TEST(linear_and_optimal_neighbours_on_separate_pages_are_not_reported) {
    VkDeviceMemory memory = allocate(1 * MiB);
    VkDeviceSize image_size = optimal_image_at_zero(memory, 64);
    /* On the page after the image's last byte. */
    bind_buffer(buffer_of(256), memory, round_up(image_size, PAGE));
    /* Ending on the page before the next image: an optimal image starts on
     * its 64 KiB alignment, always a page of its own. */
    bind_buffer(buffer_of(PAGE), memory, 65536 - PAGE);
    bind_image(image_of(VK_IMAGE_TILING_OPTIMAL, 8), memory, 65536);
    assert_no_violation();
}
END_TEST

START_TEST(neighbours_of_the_same_kind_may_share_a_page) {
    VkDeviceMemory memory = allocate(1 * MiB);
    bind_buffer(buffer_of(256), memory, 0);
    bind_buffer(buffer_of(256), memory, 256);
    /* A linear image is linear too: next to a buffer on one page is fine. */
    VkImage linear = image_of(VK_IMAGE_TILING_LINEAR, 4);
    bind_image(linear, memory, 4096);
    VkDeviceSize linear_end = 4096 + strict_test_image_requirements(&context, linear).size;
    bind_buffer(buffer_of(256), memory, round_up(linear_end, 256));
    assert_no_violation();
}
END_TEST

START_TEST(resources_in_different_memory_objects_are_never_neighbours) {
    VkDeviceMemory buffers = allocate(PAGE);
    VkDeviceMemory images = allocate(1 * MiB);
    bind_buffer(buffer_of(256), buffers, PAGE - 256);
    optimal_image_at_zero(images, 64);
    assert_no_violation();
}
END_TEST

START_TEST(a_real_neighbour_is_reported_even_beside_an_alias) {
    VkDeviceMemory memory = allocate(1 * MiB);
    VkDeviceSize image_size = optimal_image_at_zero(memory, 8);
    ck_assert_uint_ne(image_size % PAGE, 0);
    bind_buffer(buffer_of(image_size), memory, 0);
    assert_no_violation();
    /* Right after the image, on its last page, not over it. */
    bind_buffer(buffer_of(256), memory, round_up(image_size, 256));
    assert_only_violation(STRICT_DEVICE_VIOLATION_GRANULARITY, 1);
}
END_TEST

/* ---- a program that says it never aliases ---- */

START_TEST(overlap_is_reported_when_the_program_says_it_never_aliases) {
    VkDeviceMemory memory = allocate(4096);
    bind_buffer(buffer_of(512), memory, 0);
    /* Still bound: the rule is the program's own, not Vulkan's. */
    bind_buffer(buffer_of(512), memory, 256);
    assert_only_violation(STRICT_DEVICE_VIOLATION_OVERLAP, 1);
}
END_TEST

START_TEST(overlap_within_one_bind_call_is_reported_when_the_program_says_it_never_aliases) {
    VkDeviceMemory memory = allocate(4096);
    VkBindBufferMemoryInfo binds[] = {
        {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, NULL, buffer_of(512), memory, 0},
        {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, NULL, buffer_of(512), memory, 0},
    };
    ck_assert_int_eq(vkBindBufferMemory2(context.device, 2, binds), VK_SUCCESS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_OVERLAP, 1);
}
END_TEST

Suite *strict_aliasing_suite(void) {
    Suite *suite = suite_create("aliasing");
    TCase *aliasing = tcase_create("aliasing");
    tcase_set_timeout(aliasing, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(aliasing, open_default, close_context);
    tcase_add_test(aliasing, an_optimal_image_and_a_buffer_over_the_same_bytes_are_not_a_violation);
    tcase_add_test(aliasing, a_buffer_bound_inside_an_optimal_image_is_aliasing_not_a_granularity_violation);
    tcase_add_test(aliasing, buffers_bound_over_each_other_are_not_a_violation_in_either_bind_form);
    suite_add_tcase(suite, aliasing);

    TCase *neighbours = tcase_create("neighbours");
    tcase_set_timeout(neighbours, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(neighbours, open_default, close_context);
    tcase_add_test(neighbours, linear_and_optimal_neighbours_on_one_page_are_reported_in_either_order);
    tcase_add_test(neighbours, linear_and_optimal_neighbours_on_separate_pages_are_not_reported);
    tcase_add_test(neighbours, neighbours_of_the_same_kind_may_share_a_page);
    tcase_add_test(neighbours, resources_in_different_memory_objects_are_never_neighbours);
    tcase_add_test(neighbours, a_real_neighbour_is_reported_even_beside_an_alias);
    suite_add_tcase(suite, neighbours);

    TCase *forbidden = tcase_create("forbidden");
    tcase_set_timeout(forbidden, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(forbidden, open_forbidding_aliasing, close_context);
    tcase_add_test(forbidden, overlap_is_reported_when_the_program_says_it_never_aliases);
    tcase_add_test(forbidden, overlap_within_one_bind_call_is_reported_when_the_program_says_it_never_aliases);
    suite_add_tcase(suite, forbidden);
    return suite;
}
