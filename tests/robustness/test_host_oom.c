/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_host_oom: host memory runs out inside the layer's own bookkeeping.
 *
 * A sub-allocation from an existing block makes no driver call: the only host
 * memory it may need is the layer's (a memory record, and the block's offset
 * allocator nodes, which grow by doubling). Capping the process's address space
 * (RLIMIT_AS) just above what it uses makes that growth fail while the driver is
 * not involved at all. The rules:
 *   - the failing vkAllocateMemory returns VK_ERROR_OUT_OF_HOST_MEMORY;
 *   - every allocation made before still holds its bytes and still maps;
 *   - after some frees, allocations succeed again under the same cap;
 *   - once the cap is lifted, everything works as before and frees cleanly.
 * The test sets a block size (64 MiB: a first block of 8 MiB) whose one block holds
 * every slice the test makes, so no driver call happens under the cap.
 * Sanitizer runtimes reserve terabytes of shadow address space, which an
 * address-space cap breaks, so those builds skip this test (exit 77).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "robust_vk.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

#ifdef UNDER_SANITIZER
static const bool under_sanitizer = true;
#else
static const bool under_sanitizer = false;
#endif

#define SLICE_SIZE 64u
#define WARM_UP 1000u
#define MAX_ALLOCATIONS 120000u  /* more than the cap lets the first block's metadata reach */
#define HEADROOM (1024u * 1024u) /* address space granted above what the process uses */
#define REFILL 64u               /* frees, then allocations that must succeed under the cap */

typedef struct state {
    robust_vk vk;
    robust_device dev;
    uint32_t type;
    VkDeviceMemory *memory;
    uint32_t count;
} state;

static size_t address_space_in_use(void) {
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (statm == NULL) return 0;
    if (fscanf(statm, "%lu", &pages) != 1) pages = 0;
    fclose(statm);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static bool cap_address_space(struct rlimit *saved) {
    if (getrlimit(RLIMIT_AS, saved) != 0) return false;
    struct rlimit cap = *saved;
    cap.rlim_cur = address_space_in_use() + HEADROOM;
    return cap.rlim_cur > HEADROOM && (saved->rlim_max == RLIM_INFINITY || cap.rlim_cur <= saved->rlim_max) &&
           setrlimit(RLIMIT_AS, &cap) == 0;
}

/* One sub-allocation holding its own pattern. */
static VkResult allocate_slice(state *s, uint32_t index) {
    VkResult result = robust_allocate(s->dev.handle, SLICE_SIZE, s->type, &s->memory[index]);
    if (result != VK_SUCCESS) return result;
    void *data = NULL;
    result = vkMapMemory(s->dev.handle, s->memory[index], 0, VK_WHOLE_SIZE, 0, &data);
    EXPECT(result == VK_SUCCESS, "map of allocation %u returned %s", index, robust_result_name(result));
    if (result == VK_SUCCESS) {
        robust_fill(data, SLICE_SIZE, index);
        vkUnmapMemory(s->dev.handle, s->memory[index]);
    }
    return VK_SUCCESS;
}

static uint32_t count_damaged(state *s) {
    uint32_t damaged = 0;
    for (uint32_t i = 0; i < s->count; i++) {
        void *data = NULL;
        if (vkMapMemory(s->dev.handle, s->memory[i], 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS) {
            damaged++;
            continue;
        }
        damaged += robust_count_wrong(data, SLICE_SIZE, i) != 0;
        vkUnmapMemory(s->dev.handle, s->memory[i]);
    }
    return damaged;
}

/* Allocates until the layer runs out of host memory; returns the failing result. */
static VkResult allocate_until_failure(state *s) {
    while (s->count < MAX_ALLOCATIONS) {
        VkResult result = allocate_slice(s, s->count);
        if (result != VK_SUCCESS) return result;
        s->count++;
    }
    return VK_SUCCESS;
}

static void refill_under_the_cap(state *s) {
    uint32_t base = s->count - REFILL;
    for (uint32_t i = base; i < s->count; i++) vkFreeMemory(s->dev.handle, s->memory[i], NULL);
    for (uint32_t i = base; i < s->count; i++) {
        VkResult result = allocate_slice(s, i);
        EXPECT(result == VK_SUCCESS, "after frees, allocation %u under the cap returned %s", i,
               robust_result_name(result));
    }
}

static void run(state *s) {
    /* Before the cap: the block exists and is mapped, the record caches are filled. */
    VkResult result = VK_SUCCESS;
    while (s->count < WARM_UP && (result = allocate_slice(s, s->count)) == VK_SUCCESS) s->count++;
    EXPECT_OR_RETURN(result == VK_SUCCESS, "before any cap, allocation %u returned %s", s->count,
                     robust_result_name(result));

    struct rlimit saved;
    EXPECT_OR_RETURN(cap_address_space(&saved), "cannot cap the address space");
    result = allocate_until_failure(s);
    uint32_t reached = s->count;
    EXPECT(result == VK_ERROR_OUT_OF_HOST_MEMORY,
           "under the cap, allocation %u returned %s, not "
           "VK_ERROR_OUT_OF_HOST_MEMORY",
           reached, robust_result_name(result));
    EXPECT(count_damaged(s) == 0, "allocations made before the failure were damaged");
    if (s->count > REFILL) refill_under_the_cap(s);
    EXPECT(setrlimit(RLIMIT_AS, &saved) == 0, "cannot lift the cap");

    uint32_t target = s->count + 10000 < MAX_ALLOCATIONS ? s->count + 10000 : MAX_ALLOCATIONS;
    while (s->count < target && allocate_slice(s, s->count) == VK_SUCCESS) s->count++;
    EXPECT(s->count == target, "with the cap lifted, allocation %u failed", s->count);
    EXPECT(count_damaged(s) == 0, "allocations were damaged");
    printf("under a %u KiB address-space headroom the layer ran out of host memory after %u live allocations, "
           "answered %s, and recovered\n",
           HEADROOM / 1024, reached, robust_result_name(result));
}

int main(void) {
    if (under_sanitizer) {
        printf("skipped: an address-space cap breaks sanitizer runtimes\n");
        return ROBUST_EXIT_SKIPPED;
    }
    state s = {0};
    s.memory = calloc(MAX_ALLOCATIONS, sizeof *s.memory);
    if (s.memory == NULL || !robust_instance_create(&s.vk) || !robust_device_create(&s.vk, &s.dev)) return 1;
    s.type =
        robust_find_memory_type(&s.vk, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
    if (s.type == UINT32_MAX) return 1;
    run(&s);
    for (uint32_t i = 0; i < s.count; i++) vkFreeMemory(s.dev.handle, s.memory[i], NULL);
    robust_device_destroy(&s.dev);
    robust_instance_destroy(&s.vk);
    free(s.memory);
    printf("host_oom: %s\n", robust_failures() == 0 ? "passed" : "FAILED");
    return robust_failures() == 0 ? 0 : 1;
}
