/* SPDX-License-Identifier: Apache-2.0 */
/* Mapped memory behaves like the hardware the strict device pretends to be:
 * pointers honour minMemoryMapAlignment, and the host-cached type is really
 * non-coherent, with the host cache of strict_host_cache.c: only flushed
 * writes reach the device, a flush writes back only the atoms the host wrote,
 * an invalidate reloads its range, and device writes reach the atoms the host
 * has not written once it waited (or, with STRICT_DEVICE_STALE_READS=1, only
 * through an invalidate). Device contents are read with vkCmdCopyBuffer. */
#include <stdlib.h>
#include <string.h>

#include "strict_test_context.h"
#include "strict_test_suites.h"

#define SIZE 16384u
#define ATOM STRICT_DEVICE_NON_COHERENT_ATOM_SIZE

static strict_test_context context;

/* A buffer bound to memory of the type under test, and a coherent readback. */
static VkDeviceMemory subject_memory, readback_memory;
static VkBuffer subject, readback;
static unsigned char *readback_bytes;

static void open_with_buffers(void) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    unsetenv("STRICT_DEVICE_STALE_READS");
    strict_test_open(&context, NULL, 0);
    subject_memory = strict_test_allocate(&context, SIZE, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    subject = strict_test_buffer(&context, SIZE);
    ck_assert_int_eq(vkBindBufferMemory(context.device, subject, subject_memory, 0), VK_SUCCESS);
    readback_memory = strict_test_allocate(&context, SIZE, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    readback = strict_test_buffer(&context, SIZE);
    ck_assert_int_eq(vkBindBufferMemory(context.device, readback, readback_memory, 0), VK_SUCCESS);
    ck_assert_int_eq(vkMapMemory(context.device, readback_memory, 0, VK_WHOLE_SIZE, 0, (void **)&readback_bytes),
                     VK_SUCCESS);
    /* Known device contents to start from: zeros. */
    strict_test_fill_buffer(&context, subject, SIZE, 0);
}

static void open_with_stale_reads(void) {
    setenv("STRICT_DEVICE_STALE_READS", "1", 1);
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    strict_test_open(&context, NULL, 0);
    unsetenv("STRICT_DEVICE_STALE_READS");
    subject_memory = strict_test_allocate(&context, SIZE, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    subject = strict_test_buffer(&context, SIZE);
    ck_assert_int_eq(vkBindBufferMemory(context.device, subject, subject_memory, 0), VK_SUCCESS);
    readback_memory = strict_test_allocate(&context, SIZE, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    readback = strict_test_buffer(&context, SIZE);
    ck_assert_int_eq(vkBindBufferMemory(context.device, readback, readback_memory, 0), VK_SUCCESS);
    ck_assert_int_eq(vkMapMemory(context.device, readback_memory, 0, VK_WHOLE_SIZE, 0, (void **)&readback_bytes),
                     VK_SUCCESS);
    strict_test_fill_buffer(&context, subject, SIZE, 0);
}

static void close_all(void) {
    ck_assert_uint_eq(strict_test_violations(&context), 0);
    vkUnmapMemory(context.device, readback_memory);
    vkDestroyBuffer(context.device, subject, NULL);
    vkDestroyBuffer(context.device, readback, NULL);
    vkFreeMemory(context.device, subject_memory, NULL);
    vkFreeMemory(context.device, readback_memory, NULL);
    strict_test_close(&context);
}

static VkResult sync(PFN_vkFlushMappedMemoryRanges function, VkDeviceSize offset, VkDeviceSize size) {
    VkMappedMemoryRange range = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, subject_memory, offset, size};
    return function(context.device, 1, &range);
}

/* What the device holds now, seen through the readback buffer. */
static const unsigned char *device_contents(void) {
    strict_test_copy_buffer(&context, subject, readback, SIZE);
    return readback_bytes;
}

static void assert_bytes(const unsigned char *bytes, size_t from, size_t to, unsigned char value) {
    for (size_t i = from; i < to; i++)
        ck_assert_msg(bytes[i] == value, "byte %zu is 0x%02x, expected 0x%02x", i, bytes[i], value);
}

START_TEST(map_pointers_are_4096_aligned_relative_to_offset_zero) {
    const uint32_t host_types[] = {STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT,
                                   STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT,
                                   STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL_HOST_VISIBLE};
    const VkDeviceSize offsets[] = {0, 256, 4096 + 768};
    for (size_t t = 0; t < 3; t++) {
        VkDeviceMemory memory = strict_test_allocate(&context, SIZE, host_types[t]);
        for (size_t o = 0; o < 3; o++) {
            void *data = NULL;
            ck_assert_int_eq(vkMapMemory(context.device, memory, offsets[o], VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
            ck_assert_uint_eq(((uintptr_t)data - offsets[o]) % STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT, 0);
            vkUnmapMemory(context.device, memory);
        }
        vkFreeMemory(context.device, memory, NULL);
    }
}
END_TEST

START_TEST(unflushed_host_writes_never_reach_the_device) {
    unsigned char *host = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, subject_memory, 0, VK_WHOLE_SIZE, 0, (void **)&host), VK_SUCCESS);
    memset(host, 0xab, SIZE);
    ck_assert_int_eq(sync(vkFlushMappedMemoryRanges, ATOM, 2 * ATOM), VK_SUCCESS);
    vkUnmapMemory(context.device, subject_memory);

    const unsigned char *device = device_contents();
    assert_bytes(device, 0, ATOM, 0);
    assert_bytes(device, ATOM, 3 * ATOM, 0xab);
    assert_bytes(device, 3 * ATOM, SIZE, 0);
}
END_TEST

START_TEST(a_whole_size_flush_from_an_offset_reaches_the_end_of_the_mapping) {
    unsigned char *host = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, subject_memory, 4096, VK_WHOLE_SIZE, 0, (void **)&host), VK_SUCCESS);
    memset(host, 0xcd, SIZE - 4096);
    ck_assert_int_eq(sync(vkFlushMappedMemoryRanges, 8192, VK_WHOLE_SIZE), VK_SUCCESS);
    vkUnmapMemory(context.device, subject_memory);

    const unsigned char *device = device_contents();
    assert_bytes(device, 0, 8192, 0);
    assert_bytes(device, 8192, SIZE, 0xcd);
}
END_TEST

START_TEST(flushed_writes_survive_unmap_and_a_fresh_map_reads_them) {
    unsigned char *host = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, subject_memory, 0, VK_WHOLE_SIZE, 0, (void **)&host), VK_SUCCESS);
    memset(host, 0x5c, SIZE);
    ck_assert_int_eq(sync(vkFlushMappedMemoryRanges, 0, VK_WHOLE_SIZE), VK_SUCCESS);
    vkUnmapMemory(context.device, subject_memory);
    assert_bytes(device_contents(), 0, SIZE, 0x5c);

    ck_assert_int_eq(vkMapMemory(context.device, subject_memory, 0, VK_WHOLE_SIZE, 0, (void **)&host), VK_SUCCESS);
    assert_bytes(host, 0, SIZE, 0x5c);
    vkUnmapMemory(context.device, subject_memory);
}
END_TEST

START_TEST(device_writes_reach_atoms_the_host_did_not_write_once_it_has_waited) {
    unsigned char *host = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, subject_memory, 0, VK_WHOLE_SIZE, 0, (void **)&host), VK_SUCCESS);
    assert_bytes(host, 0, SIZE, 0);
    host[ATOM + 7] = 0xab; /* one byte of atom 1, not flushed */

    strict_test_fill_buffer(&context, subject, SIZE, 0x77777777u); /* submits and waits */
    assert_bytes(host, 0, ATOM, 0x77);
    assert_bytes(host, ATOM, ATOM + 7, 0);
    assert_bytes(host, ATOM + 7, ATOM + 8, 0xab);
    assert_bytes(host, ATOM + 8, 2 * ATOM, 0);
    assert_bytes(host, 2 * ATOM, SIZE, 0x77);

    /* The host's atom goes back whole, as the host sees it. */
    ck_assert_int_eq(sync(vkFlushMappedMemoryRanges, 0, VK_WHOLE_SIZE), VK_SUCCESS);
    const unsigned char *device = device_contents();
    assert_bytes(device, 0, ATOM, 0x77);
    assert_bytes(device, ATOM, ATOM + 7, 0);
    assert_bytes(device, ATOM + 7, ATOM + 8, 0xab);
    assert_bytes(device, ATOM + 8, 2 * ATOM, 0);
    assert_bytes(device, 2 * ATOM, SIZE, 0x77);
    vkUnmapMemory(context.device, subject_memory);
}
END_TEST

START_TEST(an_invalidate_discards_unflushed_host_writes_in_its_range_only) {
    unsigned char *host = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, subject_memory, 0, VK_WHOLE_SIZE, 0, (void **)&host), VK_SUCCESS);
    memset(host, 0xab, 4 * ATOM);
    ck_assert_int_eq(sync(vkInvalidateMappedMemoryRanges, ATOM, 2 * ATOM), VK_SUCCESS);
    assert_bytes(host, 0, ATOM, 0xab);
    assert_bytes(host, ATOM, 3 * ATOM, 0);
    assert_bytes(host, 3 * ATOM, 4 * ATOM, 0xab);

    ck_assert_int_eq(sync(vkFlushMappedMemoryRanges, 0, VK_WHOLE_SIZE), VK_SUCCESS);
    const unsigned char *device = device_contents();
    assert_bytes(device, 0, ATOM, 0xab);
    assert_bytes(device, ATOM, 3 * ATOM, 0);
    assert_bytes(device, 3 * ATOM, 4 * ATOM, 0xab);
    assert_bytes(device, 4 * ATOM, SIZE, 0);
    vkUnmapMemory(context.device, subject_memory);
}
END_TEST

START_TEST(with_stale_reads_device_writes_reach_the_host_only_through_invalidate) {
    unsigned char *host = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, subject_memory, 0, VK_WHOLE_SIZE, 0, (void **)&host), VK_SUCCESS);
    assert_bytes(host, 0, SIZE, 0);

    strict_test_fill_buffer(&context, subject, SIZE, 0x77777777u);
    assert_bytes(host, 0, SIZE, 0);

    ck_assert_int_eq(sync(vkInvalidateMappedMemoryRanges, 2 * ATOM, ATOM), VK_SUCCESS);
    assert_bytes(host, 0, 2 * ATOM, 0);
    assert_bytes(host, 2 * ATOM, 3 * ATOM, 0x77);
    assert_bytes(host, 3 * ATOM, SIZE, 0);

    ck_assert_int_eq(sync(vkInvalidateMappedMemoryRanges, 0, VK_WHOLE_SIZE), VK_SUCCESS);
    assert_bytes(host, 0, SIZE, 0x77);
    vkUnmapMemory(context.device, subject_memory);
}
END_TEST

START_TEST(a_flush_writes_back_only_the_atoms_the_host_wrote) {
    unsigned char *host = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, subject_memory, 0, VK_WHOLE_SIZE, 0, (void **)&host), VK_SUCCESS);
    /* The device writes everything; the host's stale view of it stays (stale reads). */
    strict_test_fill_buffer(&context, subject, SIZE, 0x77777777u);
    memset(host + 2 * ATOM, 0xab, ATOM);

    /* Flushing the whole mapping must not write the host's stale zeros back. */
    ck_assert_int_eq(sync(vkFlushMappedMemoryRanges, 0, VK_WHOLE_SIZE), VK_SUCCESS);
    const unsigned char *device = device_contents();
    assert_bytes(device, 0, 2 * ATOM, 0x77);
    assert_bytes(device, 2 * ATOM, 3 * ATOM, 0xab);
    assert_bytes(device, 3 * ATOM, SIZE, 0x77);
    vkUnmapMemory(context.device, subject_memory);
}
END_TEST

START_TEST(coherent_memory_sees_device_writes_without_invalidate) {
    strict_test_fill_buffer(&context, readback, SIZE, 0x3c3c3c3cu);
    assert_bytes(readback_bytes, 0, SIZE, 0x3c);
}
END_TEST

Suite *strict_mapping_suite(void) {
    Suite *suite = suite_create("mapping");
    TCase *tc = tcase_create("mapping");
    tcase_set_timeout(tc, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(tc, open_with_buffers, close_all);
    tcase_add_test(tc, map_pointers_are_4096_aligned_relative_to_offset_zero);
    tcase_add_test(tc, unflushed_host_writes_never_reach_the_device);
    tcase_add_test(tc, a_whole_size_flush_from_an_offset_reaches_the_end_of_the_mapping);
    tcase_add_test(tc, flushed_writes_survive_unmap_and_a_fresh_map_reads_them);
    tcase_add_test(tc, device_writes_reach_atoms_the_host_did_not_write_once_it_has_waited);
    tcase_add_test(tc, an_invalidate_discards_unflushed_host_writes_in_its_range_only);
    tcase_add_test(tc, coherent_memory_sees_device_writes_without_invalidate);
    suite_add_tcase(suite, tc);

    TCase *stale = tcase_create("stale reads");
    tcase_set_timeout(stale, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(stale, open_with_stale_reads, close_all);
    tcase_add_test(stale, with_stale_reads_device_writes_reach_the_host_only_through_invalidate);
    tcase_add_test(stale, a_flush_writes_back_only_the_atoms_the_host_wrote);
    suite_add_tcase(suite, stale);
    return suite;
}
