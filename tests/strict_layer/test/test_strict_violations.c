/* SPDX-License-Identifier: Apache-2.0 */
/* Every rule the strict device enforces: breaking it on purpose is reported
 * exactly once, under its own rule, and valid use is never reported. */
#include <signal.h>
#include <stdlib.h>

#include "strict_test_context.h"
#include "strict_test_suites.h"

#define MiB (1024ull * 1024ull)

static strict_test_context context;

/* What a test made, destroyed by the fixture so leak checkers stay quiet
 * (many tests stop right after the misuse they commit). */
enum { TRACKED = 64 };
static VkDeviceMemory tracked_memories[TRACKED];
static VkBuffer tracked_buffers[TRACKED];
static VkImage tracked_images[TRACKED];
static unsigned memory_count, buffer_count, image_count;

static VkDeviceMemory allocate(VkDeviceSize size, uint32_t type) {
    ck_assert_uint_lt(memory_count, TRACKED);
    return tracked_memories[memory_count++] = strict_test_allocate(&context, size, type);
}

static VkBuffer buffer_of(VkDeviceSize size) {
    ck_assert_uint_lt(buffer_count, TRACKED);
    return tracked_buffers[buffer_count++] = strict_test_buffer(&context, size);
}

static VkImage image_of(VkImageTiling tiling, uint32_t side, VkImageUsageFlags usage) {
    ck_assert_uint_lt(image_count, TRACKED);
    return tracked_images[image_count++] = strict_test_image(&context, tiling, side, usage);
}

static void destroy_tracked(void) {
    for (unsigned i = 0; i < buffer_count; i++) vkDestroyBuffer(context.device, tracked_buffers[i], NULL);
    for (unsigned i = 0; i < image_count; i++) vkDestroyImage(context.device, tracked_images[i], NULL);
    for (unsigned i = 0; i < memory_count; i++) vkFreeMemory(context.device, tracked_memories[i], NULL);
    memory_count = buffer_count = image_count = 0;
}

static void open_counting(void) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    unsetenv("STRICT_DEVICE_FORBID_ALIASING");
    unsetenv("STRICT_DEVICE_CHECK_LEAKS");
    strict_test_open(&context, NULL, 0);
}

static void close_context(void) {
    destroy_tracked();
    strict_test_close(&context);
}

static void assert_only_violation(StrictDeviceViolation kind, uint64_t times) {
    ck_assert_uint_eq(context.violation_count(context.device, kind), times);
    ck_assert_uint_eq(strict_test_violations(&context), times);
}

static VkDeviceSize round_up(VkDeviceSize value, VkDeviceSize alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

static VkResult bind_buffer(VkBuffer buffer, VkDeviceMemory memory, VkDeviceSize offset) {
    return vkBindBufferMemory(context.device, buffer, memory, offset);
}

static VkResult bind_image(VkImage image, VkDeviceMemory memory, VkDeviceSize offset) {
    return vkBindImageMemory(context.device, image, memory, offset);
}

static VkMappedMemoryRange mapped_range(VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size) {
    return (VkMappedMemoryRange){VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, memory, offset, size};
}

static VkResult flush(VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size) {
    VkMappedMemoryRange range = mapped_range(memory, offset, size);
    return vkFlushMappedMemoryRanges(context.device, 1, &range);
}

static VkResult invalidate(VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size) {
    VkMappedMemoryRange range = mapped_range(memory, offset, size);
    return vkInvalidateMappedMemoryRanges(context.device, 1, &range);
}

static void *map(VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size) {
    void *data = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, memory, offset, size, 0, &data), VK_SUCCESS);
    return data;
}

/* ---- valid use ---- */

static void bind_resources_by_the_rules(VkDeviceMemory memory) {
    VkBuffer small = strict_test_buffer(&context, 100);
    VkBuffer next = strict_test_buffer(&context, 300);
    ck_assert_int_eq(bind_buffer(small, memory, 0), VK_SUCCESS);
    ck_assert_int_eq(bind_buffer(next, memory, 256), VK_SUCCESS);

    /* An optimal image on its 64 KiB boundary, a buffer ending in the page
     * before it and another starting on the page after it. */
    VkImage optimal = strict_test_image(&context, VK_IMAGE_TILING_OPTIMAL, 16, VK_IMAGE_USAGE_SAMPLED_BIT);
    VkMemoryRequirements optimal_needs = strict_test_image_requirements(&context, optimal);
    VkBuffer before = strict_test_buffer(&context, 256);
    VkBuffer after = strict_test_buffer(&context, 256);
    VkBindImageMemoryInfo image_bind = {VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO, NULL, optimal, memory, 65536};
    ck_assert_int_eq(vkBindImageMemory2(context.device, 1, &image_bind), VK_SUCCESS);
    VkBindBufferMemoryInfo buffer_binds[] = {
        {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, NULL, before, memory, 65536 - 1024},
        {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, NULL, after, memory, round_up(65536 + optimal_needs.size, 1024)},
    };
    ck_assert_int_eq(vkBindBufferMemory2(context.device, 2, buffer_binds), VK_SUCCESS);

    /* Linear next to linear needs no granularity gap. */
    VkImage linear = strict_test_image(&context, VK_IMAGE_TILING_LINEAR, 16, VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
    VkMemoryRequirements linear_needs = strict_test_image_requirements(&context, linear);
    VkBuffer beside = strict_test_buffer(&context, 256);
    ck_assert_int_eq(bind_image(linear, memory, 131072), VK_SUCCESS);
    ck_assert_int_eq(bind_buffer(beside, memory, round_up(131072 + linear_needs.size, 256)), VK_SUCCESS);

    vkDestroyBuffer(context.device, small, NULL);
    /* Its place is free again. */
    VkBuffer reuse = strict_test_buffer(&context, 100);
    ck_assert_int_eq(bind_buffer(reuse, memory, 0), VK_SUCCESS);
    vkDestroyBuffer(context.device, reuse, NULL);
    vkDestroyBuffer(context.device, next, NULL);
    vkDestroyBuffer(context.device, before, NULL);
    vkDestroyBuffer(context.device, after, NULL);
    vkDestroyBuffer(context.device, beside, NULL);
    vkDestroyImage(context.device, optimal, NULL);
    vkDestroyImage(context.device, linear, NULL);
}

static void map_and_sync_by_the_rules(void) {
    /* 1000 bytes: not a multiple of the atom, so a range may end at the end. */
    VkDeviceMemory odd = strict_test_allocate(&context, 1000, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    map(odd, 256, VK_WHOLE_SIZE);
    ck_assert_int_eq(flush(odd, 256, 512), VK_SUCCESS);
    ck_assert_int_eq(flush(odd, 768, 1000 - 768), VK_SUCCESS);
    ck_assert_int_eq(invalidate(odd, 512, VK_WHOLE_SIZE), VK_SUCCESS);
    vkUnmapMemory(context.device, odd);
    map(odd, 0, 512);
    ck_assert_int_eq(flush(odd, 0, 512), VK_SUCCESS);
    vkUnmapMemory(context.device, odd);

    /* Freeing memory that is still mapped unmaps it. */
    VkDeviceMemory coherent = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    map(coherent, 0, VK_WHOLE_SIZE);
    ck_assert_int_eq(flush(coherent, 0, VK_WHOLE_SIZE), VK_SUCCESS);
    vkFreeMemory(context.device, coherent, NULL);
    vkFreeMemory(context.device, odd, NULL);
    vkFreeMemory(context.device, VK_NULL_HANDLE, NULL);
}

START_TEST(valid_use_reports_no_violation) {
    VkDeviceMemory memory = strict_test_allocate(&context, 1 * MiB, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    bind_resources_by_the_rules(memory);
    map_and_sync_by_the_rules();

    /* Memory freed with a resource still bound forgets the binding. */
    VkBuffer orphan = strict_test_buffer(&context, 256);
    ck_assert_int_eq(bind_buffer(orphan, memory, 0), VK_SUCCESS);
    vkFreeMemory(context.device, memory, NULL);
    VkDeviceMemory again = strict_test_allocate(&context, 1 * MiB, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    VkBuffer fresh = strict_test_buffer(&context, 256);
    ck_assert_int_eq(bind_buffer(fresh, again, 0), VK_SUCCESS);
    vkDestroyBuffer(context.device, orphan, NULL);
    vkDestroyBuffer(context.device, fresh, NULL);
    vkFreeMemory(context.device, again, NULL);

    ck_assert_uint_eq(strict_test_violations(&context), 0);
}
END_TEST

/* ---- binds ---- */

START_TEST(bind_off_the_reported_alignment_is_refused) {
    VkDeviceMemory memory = allocate(4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkBuffer buffer = buffer_of(256);
    /* 64 satisfies lavapipe, not the 256 the strict device reported. */
    ck_assert_int_eq(bind_buffer(buffer, memory, 64), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_only_violation(STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT, 1);
}
END_TEST

START_TEST(image_bind_off_its_64_KiB_alignment_is_refused) {
    VkDeviceMemory memory = allocate(256 * 1024, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkImage image = image_of(VK_IMAGE_TILING_OPTIMAL, 128, VK_IMAGE_USAGE_SAMPLED_BIT); /* 64 KiB: 64 KiB tiles */
    VkBindImageMemoryInfo bind = {VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO, NULL, image, memory, 4096};
    ck_assert_int_eq(vkBindImageMemory2(context.device, 1, &bind), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_only_violation(STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT, 1);
}
END_TEST

START_TEST(bind_past_the_end_of_the_allocation_is_refused) {
    VkDeviceMemory memory = allocate(1024, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkBuffer buffer = buffer_of(1024);
    ck_assert_int_eq(bind_buffer(buffer, memory, 256), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_only_violation(STRICT_DEVICE_VIOLATION_BIND_RANGE, 1);
}
END_TEST

START_TEST(bind_to_a_memory_type_outside_memoryTypeBits_is_refused) {
    VkDeviceMemory lazy = allocate(4096, STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED);
    VkBuffer buffer = buffer_of(256);
    ck_assert_int_eq(bind_buffer(buffer, lazy, 0), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_only_violation(STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE, 1);
}
END_TEST

/* ---- flush and invalidate ---- */

START_TEST(flush_offset_off_the_atom_is_reported) {
    VkDeviceMemory memory = allocate(1 * MiB, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    map(memory, 0, VK_WHOLE_SIZE);
    flush(memory, 128, 256);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAPPED_RANGE_ALIGNMENT, 1);
}
END_TEST

START_TEST(invalidate_size_off_the_atom_short_of_the_end_is_reported) {
    VkDeviceMemory memory = allocate(1 * MiB, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    map(memory, 0, VK_WHOLE_SIZE);
    invalidate(memory, 0, 100);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAPPED_RANGE_ALIGNMENT, 1);
}
END_TEST

START_TEST(flush_past_the_end_of_the_allocation_is_reported) {
    VkDeviceMemory memory = allocate(1 * MiB, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    map(memory, 0, VK_WHOLE_SIZE);
    flush(memory, 0, 1 * MiB + 256);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAPPED_RANGE_OUTSIDE, 1);
}
END_TEST

START_TEST(invalidate_starting_past_the_end_of_the_allocation_is_reported) {
    VkDeviceMemory memory = allocate(1 * MiB, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    map(memory, 0, VK_WHOLE_SIZE);
    invalidate(memory, 2 * MiB, VK_WHOLE_SIZE);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAPPED_RANGE_OUTSIDE, 1);
}
END_TEST

START_TEST(flush_of_unmapped_memory_is_reported) {
    VkDeviceMemory memory = allocate(4096, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    flush(memory, 0, VK_WHOLE_SIZE);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAPPED_RANGE_NOT_MAPPED, 1);
}
END_TEST

START_TEST(flush_outside_the_mapped_range_is_reported) {
    VkDeviceMemory memory = allocate(16384, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    map(memory, 0, 4096);
    flush(memory, 8192, 256);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAPPED_RANGE_NOT_MAPPED, 1);
}
END_TEST

START_TEST(one_bad_range_among_good_ones_is_reported_once) {
    VkDeviceMemory memory = allocate(16384, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    map(memory, 0, VK_WHOLE_SIZE);
    VkMappedMemoryRange ranges[] = {
        mapped_range(memory, 0, 256),
        mapped_range(memory, 300, 256),
        mapped_range(memory, 1024, VK_WHOLE_SIZE),
    };
    vkFlushMappedMemoryRanges(context.device, 3, ranges);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAPPED_RANGE_ALIGNMENT, 1);
}
END_TEST

/* ---- map and unmap ---- */

START_TEST(mapping_mapped_memory_is_refused_and_the_first_mapping_survives) {
    VkDeviceMemory memory = allocate(4096, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    unsigned char *first = map(memory, 0, VK_WHOLE_SIZE);
    void *second = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, memory, 0, VK_WHOLE_SIZE, 0, &second), VK_ERROR_MEMORY_MAP_FAILED);
    first[4095] = 7;
    ck_assert_uint_eq(first[4095], 7);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAP_ALREADY_MAPPED, 1);
}
END_TEST

START_TEST(mapping_device_local_only_memory_is_refused) {
    VkDeviceMemory memory = allocate(4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    void *data = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, memory, 0, VK_WHOLE_SIZE, 0, &data), VK_ERROR_MEMORY_MAP_FAILED);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAP_NOT_HOST_VISIBLE, 1);
}
END_TEST

START_TEST(mapping_past_the_end_is_refused) {
    VkDeviceMemory memory = allocate(4096, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    void *data = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, memory, 4096, VK_WHOLE_SIZE, 0, &data), VK_ERROR_MEMORY_MAP_FAILED);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MAP_RANGE, 1);
}
END_TEST

START_TEST(unmapping_unmapped_memory_is_reported) {
    VkDeviceMemory memory = allocate(4096, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    map(memory, 0, VK_WHOLE_SIZE);
    vkUnmapMemory(context.device, memory);
    vkUnmapMemory(context.device, memory);
    assert_only_violation(STRICT_DEVICE_VIOLATION_UNMAP_NOT_MAPPED, 1);
}
END_TEST

/* ---- allocation ---- */

START_TEST(a_4097th_live_allocation_is_refused_with_too_many_objects) {
    static VkDeviceMemory memories[STRICT_DEVICE_MAX_ALLOCATION_COUNT];
    for (uint32_t i = 0; i < STRICT_DEVICE_MAX_ALLOCATION_COUNT; i++)
        memories[i] = strict_test_allocate(&context, 256, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    ck_assert_uint_eq(strict_test_violations(&context), 0);

    VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, 256,
                                 STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL};
    VkDeviceMemory one_too_many = VK_NULL_HANDLE;
    ck_assert_int_eq(vkAllocateMemory(context.device, &info, NULL, &one_too_many), VK_ERROR_TOO_MANY_OBJECTS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_ALLOCATION_COUNT, 1);
    ck_assert_uint_eq(strict_test_counters(&context).live_allocations, STRICT_DEVICE_MAX_ALLOCATION_COUNT);

    /* Below the limit again, allocation works again. */
    vkFreeMemory(context.device, memories[0], NULL);
    memories[0] = strict_test_allocate(&context, 256, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    for (uint32_t i = 0; i < STRICT_DEVICE_MAX_ALLOCATION_COUNT; i++) vkFreeMemory(context.device, memories[i], NULL);
    assert_only_violation(STRICT_DEVICE_VIOLATION_ALLOCATION_COUNT, 1);
}
END_TEST

START_TEST(a_memory_type_index_past_the_fake_types_is_refused) {
    VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, 4096, STRICT_DEVICE_MEMORY_TYPE_COUNT};
    VkDeviceMemory memory = VK_NULL_HANDLE;
    ck_assert_int_eq(vkAllocateMemory(context.device, &info, NULL, &memory), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_only_violation(STRICT_DEVICE_VIOLATION_MEMORY_TYPE_INDEX, 1);
}
END_TEST

/* ---- handles the driver never made ---- */

START_TEST(a_strangers_memory_handle_never_reaches_the_driver) {
    /* What a layer above would leak if it passed its own handle down. */
    VkDeviceMemory stranger = (VkDeviceMemory)(uintptr_t)0x5afe0000u;
    VkBuffer buffer = buffer_of(256);
    void *data = NULL;
    ck_assert(!context.is_driver_memory(context.device, stranger));
    ck_assert_int_eq(vkMapMemory(context.device, stranger, 0, VK_WHOLE_SIZE, 0, &data), VK_ERROR_MEMORY_MAP_FAILED);
    ck_assert_int_eq(bind_buffer(buffer, stranger, 0), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    flush(stranger, 0, VK_WHOLE_SIZE);
    vkUnmapMemory(context.device, stranger);
    vkFreeMemory(context.device, stranger, NULL);
    assert_only_violation(STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY, 5);
}
END_TEST

START_TEST(memory_queries_refuse_a_strangers_handle_and_answer_for_real_memory) {
    strict_test_close(&context);
    VkPhysicalDeviceVulkan13Features private_data = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                                     .privateData = VK_TRUE};
    strict_test_open_with_features(&context, NULL, 0, &private_data);
    VkPrivateDataSlotCreateInfo slot_info = {.sType = VK_STRUCTURE_TYPE_PRIVATE_DATA_SLOT_CREATE_INFO};
    VkPrivateDataSlot slot;
    ck_assert_int_eq(vkCreatePrivateDataSlot(context.device, &slot_info, NULL, &slot), VK_SUCCESS);

    VkDeviceMemory real = allocate(65536, STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED);
    VkDeviceSize committed = 1;
    vkGetDeviceMemoryCommitment(context.device, real, &committed);
    uint64_t data = 0;
    ck_assert_int_eq(vkSetPrivateData(context.device, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)real, slot, 42),
                     VK_SUCCESS);
    vkGetPrivateData(context.device, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)real, slot, &data);
    ck_assert_uint_eq(data, 42);
    ck_assert_uint_eq(strict_test_violations(&context), 0);

    VkDeviceMemory stranger = (VkDeviceMemory)(uintptr_t)0x5afe0000u;
    vkGetDeviceMemoryCommitment(context.device, stranger, &committed);
    ck_assert_uint_eq(committed, 0);
    VkDeviceMemoryOpaqueCaptureAddressInfo address_info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_MEMORY_OPAQUE_CAPTURE_ADDRESS_INFO, .memory = stranger};
    ck_assert_uint_eq(vkGetDeviceMemoryOpaqueCaptureAddress(context.device, &address_info), 0);
    ck_assert_int_ne(vkSetPrivateData(context.device, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)stranger, slot, 7),
                     VK_SUCCESS);
    data = 1;
    vkGetPrivateData(context.device, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)stranger, slot, &data);
    ck_assert_uint_eq(data, 0);
    assert_only_violation(STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY, 4);

    destroy_tracked();
    vkDestroyPrivateDataSlot(context.device, slot, NULL);
}
END_TEST

START_TEST(freeing_memory_twice_is_reported_once) {
    VkDeviceMemory memory = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    vkFreeMemory(context.device, memory, NULL);
    vkFreeMemory(context.device, memory, NULL);
    assert_only_violation(STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY, 1);
}
END_TEST

/* ---- without STRICT_DEVICE_VIOLATIONS=count the test process dies ---- */

START_TEST(a_violation_aborts_unless_counting_is_asked_for) {
    unsetenv("STRICT_DEVICE_VIOLATIONS");
    strict_test_open(&context, NULL, 0);
    VkDeviceMemory memory = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    void *data = NULL;
    vkMapMemory(context.device, memory, 0, VK_WHOLE_SIZE, 0, &data);
    ck_abort_msg("mapping device-local memory did not abort");
}
END_TEST

START_TEST(allocations_live_at_destroy_abort_when_leak_checking_is_asked_for) {
    unsetenv("STRICT_DEVICE_VIOLATIONS");
    setenv("STRICT_DEVICE_CHECK_LEAKS", "1", 1);
    strict_test_open(&context, NULL, 0);
    strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    strict_test_close(&context);
    ck_abort_msg("destroying a device with a live allocation did not abort");
}
END_TEST

START_TEST(no_leak_at_destroy_passes_leak_checking) {
    unsetenv("STRICT_DEVICE_VIOLATIONS");
    setenv("STRICT_DEVICE_CHECK_LEAKS", "1", 1);
    strict_test_open(&context, NULL, 0);
    VkDeviceMemory memory = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    vkFreeMemory(context.device, memory, NULL);
    strict_test_close(&context);
}
END_TEST

Suite *strict_violations_suite(void) {
    Suite *suite = suite_create("violations");
    TCase *counted = tcase_create("counted");
    tcase_set_timeout(counted, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(counted, open_counting, close_context);
    tcase_add_test(counted, valid_use_reports_no_violation);
    tcase_add_test(counted, bind_off_the_reported_alignment_is_refused);
    tcase_add_test(counted, image_bind_off_its_64_KiB_alignment_is_refused);
    tcase_add_test(counted, bind_past_the_end_of_the_allocation_is_refused);
    tcase_add_test(counted, bind_to_a_memory_type_outside_memoryTypeBits_is_refused);
    tcase_add_test(counted, flush_offset_off_the_atom_is_reported);
    tcase_add_test(counted, invalidate_size_off_the_atom_short_of_the_end_is_reported);
    tcase_add_test(counted, flush_past_the_end_of_the_allocation_is_reported);
    tcase_add_test(counted, invalidate_starting_past_the_end_of_the_allocation_is_reported);
    tcase_add_test(counted, flush_of_unmapped_memory_is_reported);
    tcase_add_test(counted, flush_outside_the_mapped_range_is_reported);
    tcase_add_test(counted, one_bad_range_among_good_ones_is_reported_once);
    tcase_add_test(counted, mapping_mapped_memory_is_refused_and_the_first_mapping_survives);
    tcase_add_test(counted, mapping_device_local_only_memory_is_refused);
    tcase_add_test(counted, mapping_past_the_end_is_refused);
    tcase_add_test(counted, unmapping_unmapped_memory_is_reported);
    tcase_add_test(counted, a_4097th_live_allocation_is_refused_with_too_many_objects);
    tcase_add_test(counted, a_memory_type_index_past_the_fake_types_is_refused);
    tcase_add_test(counted, a_strangers_memory_handle_never_reaches_the_driver);
    tcase_add_test(counted, memory_queries_refuse_a_strangers_handle_and_answer_for_real_memory);
    tcase_add_test(counted, freeing_memory_twice_is_reported_once);
    suite_add_tcase(suite, counted);

    TCase *fatal = tcase_create("fatal");
    tcase_set_timeout(fatal, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_test_raise_signal(fatal, a_violation_aborts_unless_counting_is_asked_for, SIGABRT);
    tcase_add_test_raise_signal(fatal, allocations_live_at_destroy_abort_when_leak_checking_is_asked_for, SIGABRT);
    tcase_add_test(fatal, no_leak_at_destroy_passes_leak_checking);
    suite_add_tcase(suite, fatal);
    return suite;
}
