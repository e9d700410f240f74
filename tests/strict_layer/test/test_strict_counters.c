/* SPDX-License-Identifier: Apache-2.0 */
/* The counters tests read: exact after every kind of call, per device, and
 * exact when many threads call at once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "strict_test_context.h"
#include "strict_test_suites.h"

static strict_test_context context;

static void open_counting(void) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    strict_test_open(&context, NULL, 0);
}

static void close_context(void) { strict_test_close(&context); }

typedef struct expected_counters {
    uint64_t live, peak_live, total, failed, live_bytes, peak_bytes, live_maps, total_maps;
} expected_counters;

static void assert_counters(expected_counters expected) {
    StrictDeviceCounters got = strict_test_counters(&context);
    ck_assert_uint_eq(got.live_allocations, expected.live);
    ck_assert_uint_eq(got.peak_live_allocations, expected.peak_live);
    ck_assert_uint_eq(got.total_allocations, expected.total);
    ck_assert_uint_eq(got.failed_allocations, expected.failed);
    ck_assert_uint_eq(got.live_bytes, expected.live_bytes);
    ck_assert_uint_eq(got.peak_live_bytes, expected.peak_bytes);
    ck_assert_uint_eq(got.live_mappings, expected.live_maps);
    ck_assert_uint_eq(got.total_maps, expected.total_maps);
    ck_assert_uint_eq(got.violations, 0);
}

static void *map(VkDeviceMemory memory) {
    void *data = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, memory, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    return data;
}

START_TEST(counters_follow_allocations_maps_and_frees) {
    assert_counters((expected_counters){0, 0, 0, 0, 0, 0, 0, 0});
    VkDeviceMemory a = strict_test_allocate(&context, 1000, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkDeviceMemory b = strict_test_allocate(&context, 3000, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    VkDeviceMemory c = strict_test_allocate(&context, 5000, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    assert_counters((expected_counters){3, 3, 3, 0, 9000, 9000, 0, 0});

    map(b);
    map(c);
    assert_counters((expected_counters){3, 3, 3, 0, 9000, 9000, 2, 2});

    vkFreeMemory(context.device, a, NULL);
    vkUnmapMemory(context.device, c);
    assert_counters((expected_counters){2, 3, 3, 0, 8000, 9000, 1, 2});

    /* Freeing mapped memory unmaps it. */
    vkFreeMemory(context.device, b, NULL);
    assert_counters((expected_counters){1, 3, 3, 0, 5000, 9000, 0, 2});

    VkDeviceMemory d = strict_test_allocate(&context, 10000, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    assert_counters((expected_counters){2, 3, 4, 0, 15000, 15000, 0, 2});

    context.inject_fault(context.device, STRICT_DEVICE_FAULT_ALLOCATE, 1, VK_FALSE);
    VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, 64, 0};
    VkDeviceMemory refused;
    ck_assert_int_eq(vkAllocateMemory(context.device, &info, NULL, &refused), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_counters((expected_counters){2, 3, 4, 1, 15000, 15000, 0, 2});

    vkFreeMemory(context.device, c, NULL);
    vkFreeMemory(context.device, d, NULL);
    assert_counters((expected_counters){0, 3, 4, 1, 0, 15000, 0, 2});
}
END_TEST

START_TEST(counters_belong_to_their_own_device) {
    strict_test_context other;
    strict_test_open(&other, NULL, 0);
    VkDeviceMemory here = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkDeviceMemory there1 = strict_test_allocate(&other, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkDeviceMemory there2 = strict_test_allocate(&other, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    ck_assert_uint_eq(strict_test_counters(&context).live_allocations, 1);
    ck_assert_uint_eq(strict_test_counters(&other).live_allocations, 2);
    /* Memory of one device is not the other's driver memory. */
    ck_assert(!context.is_driver_memory(context.device, there1));
    ck_assert(other.is_driver_memory(other.device, there1));

    vkFreeMemory(other.device, there1, NULL);
    vkFreeMemory(other.device, there2, NULL);
    strict_test_close(&other);
    vkFreeMemory(context.device, here, NULL);
    ck_assert_uint_eq(strict_test_counters(&context).total_allocations, 1);
}
END_TEST

enum { THREADS = 8, ROUNDS = 1000, BYTES = 4096 };

static void *allocate_bind_map_free(void *argument) {
    unsigned char tag = (unsigned char)(uintptr_t)argument;
    int failures = 0;
    for (int round = 0; round < ROUNDS; round++) {
        VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, BYTES,
                                     STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT};
        VkBufferCreateInfo buffer_info = {
            .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = BYTES, .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT};
        VkDeviceMemory memory;
        VkBuffer buffer;
        unsigned char *data;
        if (vkAllocateMemory(context.device, &info, NULL, &memory) != VK_SUCCESS) {
            failures++;
            continue;
        }
        failures += vkCreateBuffer(context.device, &buffer_info, NULL, &buffer) != VK_SUCCESS;
        failures += vkBindBufferMemory(context.device, buffer, memory, 0) != VK_SUCCESS;
        if (vkMapMemory(context.device, memory, 0, VK_WHOLE_SIZE, 0, (void **)&data) == VK_SUCCESS) {
            memset(data, tag, BYTES);
            VkMappedMemoryRange range = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, memory, 0, VK_WHOLE_SIZE};
            failures += vkFlushMappedMemoryRanges(context.device, 1, &range) != VK_SUCCESS;
            vkUnmapMemory(context.device, memory);
        } else {
            failures++;
        }
        vkDestroyBuffer(context.device, buffer, NULL);
        vkFreeMemory(context.device, memory, NULL);
    }
    return (void *)(uintptr_t)failures;
}

START_TEST(counters_stay_exact_when_many_threads_allocate_map_and_bind) {
    pthread_t threads[THREADS];
    for (uintptr_t t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&threads[t], NULL, allocate_bind_map_free, (void *)(t + 1)), 0);
    uintptr_t failures = 0;
    for (int t = 0; t < THREADS; t++) {
        void *result;
        pthread_join(threads[t], &result);
        failures += (uintptr_t)result;
    }
    ck_assert_uint_eq(failures, 0);
    StrictDeviceCounters got = strict_test_counters(&context);
    ck_assert_uint_eq(got.total_allocations, THREADS * ROUNDS);
    ck_assert_uint_eq(got.total_maps, THREADS * ROUNDS);
    ck_assert_uint_eq(got.live_allocations, 0);
    ck_assert_uint_eq(got.live_bytes, 0);
    ck_assert_uint_eq(got.live_mappings, 0);
    ck_assert_uint_ge(got.peak_live_allocations, 1);
    ck_assert_uint_le(got.peak_live_allocations, THREADS);
    ck_assert_uint_eq(got.peak_live_bytes, got.peak_live_allocations * BYTES);
    ck_assert_uint_eq(got.violations, 0);
}
END_TEST

Suite *strict_counters_suite(void) {
    Suite *suite = suite_create("counters");
    TCase *tc = tcase_create("counters");
    tcase_set_timeout(tc, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(tc, open_counting, close_context);
    tcase_add_test(tc, counters_follow_allocations_maps_and_frees);
    tcase_add_test(tc, counters_belong_to_their_own_device);
    suite_add_tcase(suite, tc);
    return suite;
}

Suite *strict_threads_suite(void) {
    Suite *suite = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(tc, open_counting, close_context);
    tcase_add_test(tc, counters_stay_exact_when_many_threads_allocate_map_and_bind);
    suite_add_tcase(suite, tc);
    return suite;
}
