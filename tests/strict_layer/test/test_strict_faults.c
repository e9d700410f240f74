/* SPDX-License-Identifier: Apache-2.0 */
/* Failures on demand: the nth vkAllocateMemory or vkMapMemory fails with the
 * VkResult a real driver would give, once or from then on; a size limit and
 * the fake heap sizes refuse allocations like a full real heap. */
#include <stdlib.h>

#include "strict_test_context.h"
#include "strict_test_suites.h"

#define MiB (1024ull * 1024ull)

static strict_test_context context;

static void open_counting(void) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    strict_test_open(&context, NULL, 0);
}

static void close_context(void) {
    ck_assert_uint_eq(strict_test_violations(&context), 0);
    strict_test_close(&context);
}

static VkResult try_allocate(VkDeviceSize size, uint32_t type, VkDeviceMemory *memory) {
    VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, size, type};
    *memory = VK_NULL_HANDLE;
    return vkAllocateMemory(context.device, &info, NULL, memory);
}

/* Makes `calls` allocations, records which succeeded, frees them all. */
static void allocate_series(uint32_t calls, VkResult *results) {
    VkDeviceMemory memories[16];
    ck_assert_uint_le(calls, 16);
    for (uint32_t i = 0; i < calls; i++)
        results[i] = try_allocate(4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL, &memories[i]);
    for (uint32_t i = 0; i < calls; i++) {
        if (results[i] == VK_SUCCESS) vkFreeMemory(context.device, memories[i], NULL);
    }
}

START_TEST(an_allocation_fault_fails_exactly_the_nth_call) {
    context.inject_fault(context.device, STRICT_DEVICE_FAULT_ALLOCATE, 3, VK_FALSE);
    VkResult results[6];
    allocate_series(6, results);
    for (uint32_t i = 0; i < 6; i++) ck_assert_int_eq(results[i], i == 2 ? VK_ERROR_OUT_OF_DEVICE_MEMORY : VK_SUCCESS);
    StrictDeviceCounters counters = strict_test_counters(&context);
    ck_assert_uint_eq(counters.failed_allocations, 1);
    ck_assert_uint_eq(counters.total_allocations, 5);
}
END_TEST

START_TEST(a_repeating_allocation_fault_fails_every_call_until_cancelled) {
    context.inject_fault(context.device, STRICT_DEVICE_FAULT_ALLOCATE, 2, VK_TRUE);
    VkResult results[5];
    allocate_series(5, results);
    ck_assert_int_eq(results[0], VK_SUCCESS);
    for (uint32_t i = 1; i < 5; i++) ck_assert_int_eq(results[i], VK_ERROR_OUT_OF_DEVICE_MEMORY);

    context.inject_fault(context.device, STRICT_DEVICE_FAULT_ALLOCATE, 0, VK_FALSE);
    allocate_series(3, results);
    for (uint32_t i = 0; i < 3; i++) ck_assert_int_eq(results[i], VK_SUCCESS);
    ck_assert_uint_eq(strict_test_counters(&context).failed_allocations, 4);
}
END_TEST

START_TEST(a_cancelled_fault_never_fires) {
    context.inject_fault(context.device, STRICT_DEVICE_FAULT_ALLOCATE, 1, VK_FALSE);
    context.inject_fault(context.device, STRICT_DEVICE_FAULT_ALLOCATE, 0, VK_FALSE);
    VkResult results[3];
    allocate_series(3, results);
    for (uint32_t i = 0; i < 3; i++) ck_assert_int_eq(results[i], VK_SUCCESS);
}
END_TEST

START_TEST(a_map_fault_fails_exactly_the_nth_map_with_memory_map_failed) {
    VkDeviceMemory memory = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    context.inject_fault(context.device, STRICT_DEVICE_FAULT_MAP, 2, VK_FALSE);
    for (uint32_t call = 1; call <= 4; call++) {
        void *data = NULL;
        VkResult result = vkMapMemory(context.device, memory, 0, VK_WHOLE_SIZE, 0, &data);
        ck_assert_int_eq(result, call == 2 ? VK_ERROR_MEMORY_MAP_FAILED : VK_SUCCESS);
        if (result == VK_SUCCESS) vkUnmapMemory(context.device, memory);
    }
    StrictDeviceCounters counters = strict_test_counters(&context);
    ck_assert_uint_eq(counters.total_maps, 3);
    ck_assert_uint_eq(counters.live_mappings, 0);
    /* A map fault leaves allocations alone. */
    ck_assert_uint_eq(counters.failed_allocations, 0);
    vkFreeMemory(context.device, memory, NULL);
}
END_TEST

START_TEST(allocations_above_the_size_limit_fail_until_it_is_removed) {
    VkDeviceMemory memory;
    context.set_allocation_size_limit(context.device, 1 * MiB);
    ck_assert_int_eq(try_allocate(1 * MiB + 1, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL, &memory),
                     VK_ERROR_OUT_OF_DEVICE_MEMORY);
    ck_assert_int_eq(try_allocate(1 * MiB, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL, &memory), VK_SUCCESS);
    vkFreeMemory(context.device, memory, NULL);

    context.set_allocation_size_limit(context.device, 0);
    ck_assert_int_eq(try_allocate(2 * MiB, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL, &memory), VK_SUCCESS);
    vkFreeMemory(context.device, memory, NULL);
    ck_assert_uint_eq(strict_test_counters(&context).failed_allocations, 1);
}
END_TEST

START_TEST(a_full_heap_answers_out_of_device_memory_and_frees_make_room) {
    /* Type 3 lives in the 256 MiB heap. */
    const uint32_t bar = STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL_HOST_VISIBLE;
    VkDeviceMemory big, rest, extra;
    ck_assert_int_eq(try_allocate(200 * MiB, bar, &big), VK_SUCCESS);
    ck_assert_int_eq(try_allocate(56 * MiB + 1, bar, &extra), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    ck_assert_int_eq(try_allocate(56 * MiB, bar, &rest), VK_SUCCESS);
    ck_assert_int_eq(try_allocate(1, bar, &extra), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    /* Other heaps are unaffected. */
    ck_assert_int_eq(try_allocate(56 * MiB, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL, &extra), VK_SUCCESS);
    vkFreeMemory(context.device, extra, NULL);

    vkFreeMemory(context.device, big, NULL);
    ck_assert_int_eq(try_allocate(200 * MiB, bar, &big), VK_SUCCESS);
    vkFreeMemory(context.device, big, NULL);
    vkFreeMemory(context.device, rest, NULL);
    ck_assert_uint_eq(strict_test_counters(&context).failed_allocations, 2);
}
END_TEST

START_TEST(is_driver_memory_knows_live_driver_allocations_only) {
    VkDeviceMemory memory = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    ck_assert(context.is_driver_memory(context.device, memory));
    ck_assert(!context.is_driver_memory(context.device, VK_NULL_HANDLE));
    ck_assert(!context.is_driver_memory(context.device, (VkDeviceMemory)(uintptr_t)0x5afe0000u));
    vkFreeMemory(context.device, memory, NULL);
    ck_assert(!context.is_driver_memory(context.device, memory));
}
END_TEST

Suite *strict_faults_suite(void) {
    Suite *suite = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(tc, open_counting, close_context);
    tcase_add_test(tc, an_allocation_fault_fails_exactly_the_nth_call);
    tcase_add_test(tc, a_repeating_allocation_fault_fails_every_call_until_cancelled);
    tcase_add_test(tc, a_cancelled_fault_never_fires);
    tcase_add_test(tc, a_map_fault_fails_exactly_the_nth_map_with_memory_map_failed);
    tcase_add_test(tc, allocations_above_the_size_limit_fail_until_it_is_removed);
    tcase_add_test(tc, a_full_heap_answers_out_of_device_memory_and_frees_make_room);
    tcase_add_test(tc, is_driver_memory_knows_live_driver_allocations_only);
    suite_add_tcase(suite, tc);
    return suite;
}
