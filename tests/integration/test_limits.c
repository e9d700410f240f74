/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_limits: the allocation count limit stops being the app's problem, and
 * the layer never refuses what the driver alone would have given.
 *
 * With the layer the app is told a raised maxMemoryAllocationCount and may hold
 * more live allocations than the driver really allows (the strict layer enforces
 * 4096 and aborts on the 4097th), while the driver sees a handful. Big requests
 * (half of a small heap, 1 GiB) succeed as they would without the layer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum {
    BEYOND_DRIVER_LIMIT = 6000, /* live app allocations with the layer (strict's real limit: 4096) */
    SMALL_BYTES = 256,
    RESERVED = 16, /* the test's own staging allocations */
    DRIVER_ALLOCATIONS_BELOW = 64,
};

#define REPORTED_LIMIT_DEFAULT 4294967295u

static uint32_t reported_limit_setting(void) {
    const char *names[] = {"VK_TRANSPARENT_SUBALLOC_REPORTED_ALLOCATION_LIMIT",
                           "VK_SUBALLOC_REPORTED_ALLOCATION_LIMIT"};
    for (size_t i = 0; i < 2; i++) {
        const char *value = getenv(names[i]);
        if (value && *value) return (uint32_t)strtoul(value, NULL, 0);
    }
    return REPORTED_LIMIT_DEFAULT;
}

/* ---------------------------------------------------------------- reported limit */

static void the_layer_reports_a_raised_allocation_limit(harness *h) {
    VkPhysicalDeviceProperties one;
    vkGetPhysicalDeviceProperties(h->physical, &one);
    VkPhysicalDeviceVulkan11Properties v11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES};
    VkPhysicalDeviceProperties2 two = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &v11};
    vkGetPhysicalDeviceProperties2(h->physical, &two);
    uint32_t limit = one.limits.maxMemoryAllocationCount;
    printf("  maxMemoryAllocationCount %u\n", limit);

    CHECK(two.properties.limits.maxMemoryAllocationCount == limit,
          "vkGetPhysicalDeviceProperties2 says %u, vkGetPhysicalDeviceProperties %u",
          two.properties.limits.maxMemoryAllocationCount, limit);
    CHECK(v11.maxMemoryAllocationSize > 0, "the rest of the pNext chain is still filled in");
    if (h->layer)
        CHECK(limit == reported_limit_setting(), "with the layer the app is told %u, not %u", reported_limit_setting(),
              limit);
    else if (h->strict_counters)
        CHECK(limit == STRICT_DEVICE_MAX_ALLOCATION_COUNT, "the strict device alone reports its real limit %u, not %u",
              STRICT_DEVICE_MAX_ALLOCATION_COUNT, limit);
}

/* ---------------------------------------------------------------- beyond the limit */

typedef struct small {
    VkBuffer buffer;
    VkDeviceMemory memory;
    uint32_t type;
} small;

static small smalls[BEYOND_DRIVER_LIMIT];

/* As many as a valid app may hold: 6000 with the layer, fewer where the driver says so. */
static uint32_t how_many(const harness *h) {
    uint32_t limit = h->properties.limits.maxMemoryAllocationCount;
    if (h->layer) {
        if (h->strict_counters)
            CHECK(BEYOND_DRIVER_LIMIT > STRICT_DEVICE_MAX_ALLOCATION_COUNT, "the test goes beyond the real limit");
        return BEYOND_DRIVER_LIMIT;
    }
    return limit - RESERVED < BEYOND_DRIVER_LIMIT ? limit - RESERVED : BEYOND_DRIVER_LIMIT;
}

/* Every small allocation gets its pattern: through its mapping where the host
 * can see it, by vkCmdUpdateBuffer where it cannot. */
static void write_patterns(harness *h, uint32_t count) {
    VkCommandBuffer commands = harness_begin(h);
    uint32_t words[SMALL_BYTES / 4];
    for (uint32_t i = 0; i < count; i++) {
        small *s = &smalls[i];
        if (!harness_type_is(h, s->type, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) {
            harness_fill_pattern(words, SMALL_BYTES, 5000 + i);
            vkCmdUpdateBuffer(commands, s->buffer, 0, SMALL_BYTES, words);
            continue;
        }
        void *data;
        VK_REQUIRE(vkMapMemory(h->device, s->memory, 0, VK_WHOLE_SIZE, 0, &data));
        harness_fill_pattern(data, SMALL_BYTES, 5000 + i);
        VkMappedMemoryRange range = {
            .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = s->memory, .size = VK_WHOLE_SIZE};
        if (!harness_type_is(h, s->type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &range));
        vkUnmapMemory(h->device, s->memory);
    }
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
}

static void check_patterns(harness *h, uint32_t count) {
    harness_host_buffer readback;
    harness_host_buffer_create(h, (VkDeviceSize)count * SMALL_BYTES, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    VkCommandBuffer commands = harness_begin(h);
    for (uint32_t i = 0; i < count; i++) {
        VkBufferCopy region = {.dstOffset = (VkDeviceSize)i * SMALL_BYTES, .size = SMALL_BYTES};
        vkCmdCopyBuffer(commands, smalls[i].buffer, readback.buffer, 1, &region);
    }
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &readback);
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < count; i++)
        wrong += harness_check_pattern(readback.data + (size_t)i * SMALL_BYTES, SMALL_BYTES, 5000 + i, "small") != 0;
    CHECK(wrong == 0, "%u of %u live allocations lost their bytes", wrong, count);
    harness_host_buffer_destroy(h, &readback);
}

static void the_app_holds_more_live_allocations_than_the_driver_allows(harness *h) {
    harness_rng rng = harness_rng_make(6000);
    uint32_t count = how_many(h);
    for (uint32_t i = 0; i < count; i++) {
        small *s = &smalls[i];
        s->buffer = harness_buffer_create(h, SMALL_BYTES, 0, NULL);
        VkMemoryRequirements requirements;
        vkGetBufferMemoryRequirements(h->device, s->buffer, &requirements);
        uint32_t types[VK_MAX_MEMORY_TYPES];
        uint32_t n = harness_memory_types(h, requirements.memoryTypeBits, 0, types);
        s->type = types[i % n];
        VkResult result = harness_allocate_simple(h, requirements.size, s->type, &s->memory);
        REQUIRE(result == VK_SUCCESS, "live allocation %u of %u: %s", i + 1, count, vk_result_name(result));
        VK_REQUIRE(vkBindBufferMemory(h->device, s->buffer, s->memory, 0));
    }
    printf("  %u live app allocations\n", count);
    write_patterns(h, count);
    check_patterns(h, count);
    if (h->strict_counters && h->layer) {
        StrictDeviceCounters counters = harness_strict_counters(h);
        printf("  the driver holds %" PRIu64 " (peak %" PRIu64 ")\n", counters.live_allocations,
               counters.peak_live_allocations);
        CHECK(counters.peak_live_allocations < DRIVER_ALLOCATIONS_BELOW, "the driver saw %" PRIu64 " live allocations",
              counters.peak_live_allocations);
    }

    uint32_t *order = malloc(sizeof *order * count);
    REQUIRE(order, "memory for the order");
    for (uint32_t i = 0; i < count; i++) order[i] = i;
    harness_shuffle(&rng, order, count);
    for (uint32_t i = 0; i < count; i++) {
        vkDestroyBuffer(h->device, smalls[order[i]].buffer, NULL);
        vkFreeMemory(h->device, smalls[order[i]].memory, NULL);
    }
    free(order);
    if (h->layer) {
        h->expect.suballocated_at_least = count;
        h->expect.driver_live_peak_below = DRIVER_ALLOCATIONS_BELOW;
    }
}

/* ---------------------------------------------------------------- big requests */

/* One allocation of size in type, a buffer over all of it, and the GPU writing
 * and reading its first and last pages. */
static void check_big_allocation(harness *h, VkDeviceSize size, uint32_t type) {
    VkBuffer buffer = harness_buffer_create(h, size, 0, NULL);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, buffer, &requirements);
    REQUIRE(requirements.memoryTypeBits & (1u << type), "a buffer may use type %u", type);
    VkDeviceMemory memory;
    VkResult result = harness_allocate_simple(h, requirements.size, type, &memory);
    REQUIRE(result == VK_SUCCESS, "%" PRIu64 " MiB in type %u: %s", (uint64_t)(requirements.size >> 20), type,
            vk_result_name(result));
    VK_REQUIRE(vkBindBufferMemory(h->device, buffer, memory, 0));

    harness_host_buffer readback;
    harness_host_buffer_create(h, 8192, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    VkCommandBuffer commands = harness_begin(h);
    vkCmdFillBuffer(commands, buffer, 0, 4096, 0x11111111u);
    vkCmdFillBuffer(commands, buffer, size - 4096, 4096, 0x22222222u);
    harness_barrier(commands);
    VkBufferCopy regions[2] = {{0, 0, 4096}, {size - 4096, 4096, 4096}};
    vkCmdCopyBuffer(commands, buffer, readback.buffer, 2, regions);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &readback);
    uint32_t right = 0;
    for (uint32_t i = 0; i < 2048; i++)
        right += ((uint32_t *)readback.data)[i] == (i < 1024 ? 0x11111111u : 0x22222222u);
    CHECK(right == 2048, "first and last page of the big allocation: %u of 2048 words right", right);
    harness_host_buffer_destroy(h, &readback);
    vkDestroyBuffer(h->device, buffer, NULL);
    vkFreeMemory(h->device, memory, NULL);
}

/* The buffer-capable type whose heap is smallest (or largest). */
static uint32_t type_by_heap_size(harness *h, bool smallest) {
    VkBuffer probe = harness_buffer_create(h, 256, 0, NULL);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, probe, &requirements);
    vkDestroyBuffer(h->device, probe, NULL);
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = harness_memory_types(h, requirements.memoryTypeBits, 0, types);
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < count; i++) {
        VkDeviceSize heap = h->memory.memoryHeaps[h->memory.memoryTypes[types[i]].heapIndex].size;
        VkDeviceSize best_heap =
            best == UINT32_MAX ? 0 : h->memory.memoryHeaps[h->memory.memoryTypes[best].heapIndex].size;
        if (best == UINT32_MAX || (smallest ? heap < best_heap : heap > best_heap)) best = types[i];
    }
    REQUIRE(best != UINT32_MAX, "a memory type for buffers");
    return best;
}

static VkDeviceSize heap_of(harness *h, uint32_t type) {
    return h->memory.memoryHeaps[h->memory.memoryTypes[type].heapIndex].size;
}

/* With blocks already carved from a small heap, half of that heap in one
 * allocation still succeeds: blocks there must stay small. */
static void half_of_a_small_heap_in_one_allocation_succeeds(harness *h) {
    uint32_t type = type_by_heap_size(h, true);
    VkDeviceSize heap = heap_of(h, type);
    if (heap > (1ull << 30)) harness_skip("no heap of 1 GiB or less (the strict layer has a 256 MiB one)");
    VkDeviceMemory memories[64];
    for (uint32_t i = 0; i < 64; i++) VK_REQUIRE(harness_allocate_simple(h, 4096, type, &memories[i]));
    check_big_allocation(h, heap / 2, type);
    for (uint32_t i = 0; i < 64; i++) vkFreeMemory(h->device, memories[i], NULL);
}

static void one_gibibyte_in_one_allocation_succeeds(harness *h) {
    uint32_t type = type_by_heap_size(h, false);
    if (heap_of(h, type) < (2ull << 30)) harness_skip("no heap of 2 GiB or more");
    VkDeviceMemory small_one;
    VK_REQUIRE(harness_allocate_simple(h, 4096, type, &small_one)); /* so a pool exists already */
    check_big_allocation(h, 1ull << 30, type);
    vkFreeMemory(h->device, small_one, NULL);
}

int main(int argc, char **argv) {
#define CASE(name) \
    { #name, name }
    static const harness_case cases[] = {
        CASE(the_layer_reports_a_raised_allocation_limit),
        CASE(the_app_holds_more_live_allocations_than_the_driver_allows),
        CASE(half_of_a_small_heap_in_one_allocation_succeeds),
        CASE(one_gibibyte_in_one_allocation_succeeds),
    };
#undef CASE
    harness_device_request request = {0};
    return harness_main(argc, argv, &request, cases, sizeof cases / sizeof cases[0]);
}
