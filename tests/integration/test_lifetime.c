/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_lifetime: driver blocks live no longer than they must. When the app frees
 * its allocations the layer gives emptied blocks back (keeping at most one empty
 * block per pool under the default policy), and an app that destroys its device
 * with allocations still live (some real ones do) gets them counted as leaked
 * while every block goes back to the driver.
 *
 * The driver's side is seen through the strict layer's counters; the leak case
 * leaves LeakSanitizer (sanitized builds) to notice blocks the layer forgot.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { COUNT = 2000, BYTES = 64 << 10 }; /* 125 MiB: several blocks in one pool */

static VkDeviceMemory memories[COUNT];

static const char *empty_block_policy(void) {
    const char *names[] = {"VK_TRANSPARENT_SUBALLOC_EMPTY_BLOCK_POLICY", "VK_SUBALLOC_EMPTY_BLOCK_POLICY"};
    for (size_t i = 0; i < 2; i++) {
        const char *value = getenv(names[i]);
        if (value && *value) return value;
    }
    return "keep_one";
}

/* The type with the largest heap: room for COUNT * BYTES. */
static uint32_t roomy_type(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = harness_memory_types(h, ~0u, 0, types);
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < count; i++) {
        VkDeviceSize heap = h->memory.memoryHeaps[h->memory.memoryTypes[types[i]].heapIndex].size;
        if (best == UINT32_MAX || heap > h->memory.memoryHeaps[h->memory.memoryTypes[best].heapIndex].size)
            best = types[i];
    }
    REQUIRE(best != UINT32_MAX, "a memory type");
    return best;
}

static void freed_blocks_go_back_to_the_driver_but_one_per_pool(harness *h) {
    if (!h->strict_counters || !h->layer) harness_skip("needs the layer above the strict layer's counters");
    const char *policy = empty_block_policy();
    if (strcmp(policy, "keep_all") == 0) harness_skip("EMPTY_BLOCK_POLICY keep_all keeps every block");
    uint32_t type = roomy_type(h);
    harness_rng rng = harness_rng_make(2000);
    for (uint32_t i = 0; i < COUNT; i++) VK_REQUIRE(harness_allocate_simple(h, BYTES, type, &memories[i]));
    StrictDeviceCounters full = harness_strict_counters(h);
    printf("  %u allocations of %u KiB: driver holds %" PRIu64 " allocations, %" PRIu64 " MiB\n", COUNT, BYTES >> 10,
           full.live_allocations, full.live_bytes >> 20);
    CHECK(full.live_allocations >= 1, "the driver holds the blocks");

    uint32_t order[COUNT];
    for (uint32_t i = 0; i < COUNT; i++) order[i] = i;
    harness_shuffle(&rng, order, COUNT);
    for (uint32_t i = 0; i < COUNT; i++) vkFreeMemory(h->device, memories[order[i]], NULL);
    StrictDeviceCounters empty = harness_strict_counters(h);
    printf("  all freed: driver holds %" PRIu64 " allocations, %" PRIu64 " MiB (policy %s)\n", empty.live_allocations,
           empty.live_bytes >> 20, policy);
    uint64_t allowed = strcmp(policy, "release") == 0 ? 0 : 1;
    CHECK(empty.live_allocations <= allowed,
          "policy %s keeps at most %" PRIu64 " empty block, the driver holds %" PRIu64, policy, allowed,
          empty.live_allocations);
    h->expect.passthrough = 0;
}

static void destroying_the_device_with_live_allocations_counts_them_as_leaked(harness *h) {
    if (!h->layer) harness_skip("without the layer the driver is left with the app's leak");
    if (h->validation) harness_skip("the validation layer rightly reports the leak");
    uint32_t type = roomy_type(h);
    for (uint32_t i = 0; i < 300; i++) VK_REQUIRE(harness_allocate_simple(h, 4096 + 64 * i, type, &memories[i]));
    for (uint32_t i = 0; i < 300; i += 3) vkFreeMemory(h->device, memories[i], NULL);
    /* The harness destroys the device with these live; the layer must say so. */
    h->expect.app_leaked = 200;
    h->expect.message_id_prefix = "TRANSPARENT-suballoc";
    h->expect.messages_at_least = 1;
}

int main(int argc, char **argv) {
#define CASE(name) \
    { #name, name }
    static const harness_case cases[] = {
        CASE(freed_blocks_go_back_to_the_driver_but_one_per_pool),
        CASE(destroying_the_device_with_live_allocations_counts_them_as_leaked),
    };
#undef CASE
    harness_device_request request = {0};
    return harness_main(argc, argv, &request, cases, sizeof cases / sizeof cases[0]);
}
