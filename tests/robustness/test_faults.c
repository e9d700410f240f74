/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_faults: the layer survives every driver failure a realistic app can meet.
 *
 * Runs with the strict-device layer below the layer, which fails the k-th
 * vkAllocateMemory or vkMapMemory it receives on demand. Modes (argv[1]):
 *
 *   allocate    For every k the workload reaches, a fresh device whose k-th driver
 *   map         allocation (or map) fails, once and then again persistently from
 *               the k-th on. Every app call must return a VkResult the call may
 *               return; a call that failed must succeed once the fault is gone;
 *               every byte the app wrote must still be there; after the app frees
 *               everything the driver holds at most the one empty block per pool
 *               the layer may keep; and at vkDestroyDevice nothing is left
 *               (STRICT_DEVICE_CHECK_LEAKS=1 aborts otherwise). With
 *               empty_block_policy=release blocks come and go, so the sweep
 *               also fails the re-creation of blocks, and nothing may stay.
 *   size_limit  A driver that refuses allocations above a size: the layer halves its
 *               block size until blocks fit, below its smallest block it allocates
 *               the exact size, and the app's allocations still succeed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_workload.h"

#define STEPS_UNDER_FAULT 400u
#define STEPS_AFTER_FAULT 60u
#define WORKLOAD_SEED 20240611u
#define LARGE_SIZE (2u << 20) /* above the dedicated threshold the test sets (BLOCK_SIZE=1M: 512 KiB) */

/* ---- what was going on when the strict layer aborted ------------------------------------- */

static char activity[256] = "starting";
static const workload *current_workload;

static void write_string(const char *text) {
    ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
    (void)ignored;
}

static void report_abort(int signal_number) {
    write_string("test_faults: aborted during ");
    write_string(activity);
    if (current_workload != NULL) {
        write_string(", workload step ");
        write_string(current_workload->step_name);
    }
    write_string("\n");
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

/* ---- one run of the workload ------------------------------------------------------------ */

typedef struct run_counts {
    uint64_t driver_allocate_calls; /* vkAllocateMemory calls the strict layer received */
    uint64_t driver_map_calls;
    uint64_t app_failures;
    uint64_t bytes_verified;
} run_counts;

static uint64_t driver_calls(const StrictDeviceCounters *c, StrictDeviceFault kind) {
    return kind == STRICT_DEVICE_FAULT_ALLOCATE ? c->total_allocations + c->failed_allocations : c->total_maps;
}

/* The app has freed everything: the layer may keep one empty block per pool
 * (the default empty_block_policy), none when it releases them at once, and
 * any number under keep_all (then only vkDestroyDevice's leak check remains). */
static void check_nothing_held(const robust_device *dev, const workload *w) {
    const char *policy = getenv("VK_TRANSPARENT_SUBALLOC_EMPTY_BLOCK_POLICY");
    uint64_t may_keep = w->type_count;
    if (policy != NULL && strcmp(policy, "release") == 0) may_keep = 0;
    if (policy != NULL && strcmp(policy, "keep_all") == 0) may_keep = UINT64_MAX;
    StrictDeviceCounters c = robust_strict_counters(dev);
    EXPECT(c.live_allocations <= may_keep,
           "%s: the driver still holds %llu allocations after the app freed all (at most %llu empty blocks may stay)",
           activity, (unsigned long long)c.live_allocations, (unsigned long long)may_keep);
    EXPECT(c.violations == 0, "%s: the strict layer saw %llu violations", activity, (unsigned long long)c.violations);
}

/* Runs the workload with a fault armed at the nth call of kind (nth 0: none). */
static run_counts run_workload(const robust_vk *vk, StrictDeviceFault kind, uint64_t nth, fault_policy policy) {
    run_counts counts = {0};
    robust_device dev;
    if (!robust_device_create(vk, &dev) || !robust_has_strict(&dev)) {
        EXPECT(false, "%s: no device with the strict layer below", activity);
        return counts;
    }
    workload w;
    workload_init(&w, vk, dev.handle, WORKLOAD_SEED, LARGE_SIZE);
    current_workload = &w;
    if (nth > 0) dev.strict.inject_fault(dev.handle, kind, nth, policy == FAULT_POLICY_PERSISTENT);

    workload_run(&w, STEPS_UNDER_FAULT, nth > 0 ? policy : FAULT_POLICY_NONE);
    StrictDeviceCounters under_fault = robust_strict_counters(&dev);
    counts.driver_allocate_calls = driver_calls(&under_fault, STRICT_DEVICE_FAULT_ALLOCATE);
    counts.driver_map_calls = driver_calls(&under_fault, STRICT_DEVICE_FAULT_MAP);
    counts.app_failures = w.failed_calls;

    dev.strict.inject_fault(dev.handle, kind, 0, VK_FALSE); /* the fault is gone */
    uint64_t failures_before = w.failed_calls;
    workload_run(&w, STEPS_AFTER_FAULT, FAULT_POLICY_NONE);
    workload_finish(&w);
    EXPECT(w.failed_calls == failures_before, "%s: calls failed after the fault was gone", activity);
    counts.bytes_verified = w.bytes_verified;
    check_nothing_held(&dev, &w);
    current_workload = NULL;
    robust_device_destroy(&dev);
    return counts;
}

/* ---- the sweep --------------------------------------------------------------------------- */

static const char *kind_name(StrictDeviceFault kind) {
    return kind == STRICT_DEVICE_FAULT_ALLOCATE ? "vkAllocateMemory" : "vkMapMemory";
}

static void sweep(const robust_vk *vk, StrictDeviceFault kind, fault_policy policy, uint64_t reach) {
    const char *how = policy == FAULT_POLICY_ONE_SHOT ? "once" : "from then on";
    uint64_t app_failures = 0, runs_with_app_failure = 0;
    for (uint64_t k = 1; k <= reach; k++) {
        snprintf(activity, sizeof activity, "driver %s #%llu failing %s", kind_name(kind), (unsigned long long)k, how);
        uint64_t failures_before = robust_failures();
        run_counts counts = run_workload(vk, kind, k, policy);
        app_failures += counts.app_failures;
        runs_with_app_failure += counts.app_failures > 0;
        if (robust_failures() != failures_before) printf("  FAILED: %s\n", activity);
        /* The calls before the kth are those of the fault-free run, so the kth is reached. */
        if (kind == STRICT_DEVICE_FAULT_MAP)
            EXPECT(counts.app_failures > 0, "%s: the app never saw the failed map", activity);
    }
    printf("%s failing %s, k = 1..%llu: %llu runs passed the failure on to the app (%llu failed calls), the rest "
           "absorbed it\n",
           kind_name(kind), how, (unsigned long long)reach, (unsigned long long)runs_with_app_failure,
           (unsigned long long)app_failures);
}

static int fault_sweeps(const robust_vk *vk, StrictDeviceFault kind) {
    snprintf(activity, sizeof activity, "the fault-free run");
    run_counts clean = run_workload(vk, kind, 0, FAULT_POLICY_NONE);
    uint64_t reach = kind == STRICT_DEVICE_FAULT_ALLOCATE ? clean.driver_allocate_calls : clean.driver_map_calls;
    printf("fault-free run: %llu driver allocations, %llu driver maps, %llu bytes verified\n",
           (unsigned long long)clean.driver_allocate_calls, (unsigned long long)clean.driver_map_calls,
           (unsigned long long)clean.bytes_verified);
    EXPECT(reach >= 10, "the workload reaches only %llu driver calls of the kind: too few to sweep",
           (unsigned long long)reach);
    sweep(vk, kind, FAULT_POLICY_ONE_SHOT, reach);
    sweep(vk, kind, FAULT_POLICY_PERSISTENT, reach);
    return 0;
}

/* ---- the allocation-size limit ------------------------------------------------------------ */

#define MIB (1024ull * 1024ull)

/* Allocates count slices of size and writes each; returns how many succeeded. */
static uint32_t allocate_and_fill(robust_device *dev, uint32_t type, VkDeviceSize size, uint32_t count,
                                  VkDeviceMemory *out) {
    uint32_t made = 0;
    for (uint32_t i = 0; i < count; i++) {
        VkResult result = robust_allocate(dev->handle, size, type, &out[i]);
        EXPECT(result == VK_SUCCESS, "%s: allocation %u of %llu bytes returned %s", activity, i,
               (unsigned long long)size, robust_result_name(result));
        if (result != VK_SUCCESS) break;
        void *data;
        EXPECT(vkMapMemory(dev->handle, out[i], 0, VK_WHOLE_SIZE, 0, &data) == VK_SUCCESS, "%s: map %u", activity, i);
        robust_fill(data, (size_t)size, i);
        vkUnmapMemory(dev->handle, out[i]);
        made++;
    }
    return made;
}

static void check_and_free(robust_device *dev, VkDeviceSize size, uint32_t count, VkDeviceMemory *memory) {
    for (uint32_t i = 0; i < count; i++) {
        void *data;
        EXPECT(vkMapMemory(dev->handle, memory[i], 0, VK_WHOLE_SIZE, 0, &data) == VK_SUCCESS, "%s: map %u", activity,
               i);
        EXPECT(robust_count_wrong(data, (size_t)size, i) == 0, "%s: allocation %u lost bytes", activity, i);
        vkUnmapMemory(dev->handle, memory[i]);
        vkFreeMemory(dev->handle, memory[i], NULL);
    }
}

/* Blocks must shrink to the limit: a few driver allocations, not one per app allocation. */
static void blocks_shrink_to_a_limit(robust_device *dev, uint32_t type) {
    snprintf(activity, sizeof activity, "a 4 MiB allocation-size limit");
    enum { COUNT = 64 };
    VkDeviceMemory memory[COUNT];
    StrictDeviceCounters before = robust_strict_counters(dev);
    dev->strict.set_allocation_size_limit(dev->handle, 4 * MIB);
    uint32_t made = allocate_and_fill(dev, type, 256 * 1024, COUNT, memory);
    StrictDeviceCounters after = robust_strict_counters(dev);
    uint64_t blocks = after.live_allocations - before.live_allocations;
    printf("4 MiB limit: %u app allocations of 256 KiB on %llu driver allocations, %llu refused by the driver\n", made,
           (unsigned long long)blocks, (unsigned long long)(after.failed_allocations - before.failed_allocations));
    EXPECT(made == COUNT, "%s: only %u of %d allocations succeeded", activity, made, COUNT);
    EXPECT(blocks >= 4 && blocks <= 8, "%s: %llu driver allocations for 16 MiB: blocks did not shrink to 4 MiB",
           activity, (unsigned long long)blocks);
    EXPECT(after.failed_allocations > before.failed_allocations, "%s: the limit never refused a block", activity);
    check_and_free(dev, 256 * 1024, made, memory);
}

/* Below the smallest block the layer makes, each allocation gets exactly its size. */
static void exact_sizes_below_the_smallest_block(robust_device *dev, uint32_t type) {
    snprintf(activity, sizeof activity, "a 512 KiB allocation-size limit");
    enum { COUNT = 16 };
    VkDeviceMemory memory[COUNT];
    StrictDeviceCounters before = robust_strict_counters(dev);
    dev->strict.set_allocation_size_limit(dev->handle, 512 * 1024);
    uint32_t made = allocate_and_fill(dev, type, 256 * 1024, COUNT, memory);
    StrictDeviceCounters after = robust_strict_counters(dev);
    printf("512 KiB limit: %u app allocations of 256 KiB on %llu new driver allocations\n", made,
           (unsigned long long)(after.live_allocations - before.live_allocations));
    EXPECT(made == COUNT, "%s: only %u of %d allocations succeeded", activity, made, COUNT);
    EXPECT(after.live_allocations - before.live_allocations == COUNT,
           "%s: expected one exact-size driver allocation per app allocation", activity);

    VkDeviceMemory too_big;
    VkResult result = robust_allocate(dev->handle, MIB, type, &too_big);
    EXPECT(result == VK_ERROR_OUT_OF_DEVICE_MEMORY, "%s: 1 MiB, which the driver refuses, returned %s", activity,
           robust_result_name(result));
    dev->strict.set_allocation_size_limit(dev->handle, 0);
    result = robust_allocate(dev->handle, MIB, type, &too_big);
    EXPECT(result == VK_SUCCESS, "%s: once the limit is gone 1 MiB returned %s", activity, robust_result_name(result));
    if (result == VK_SUCCESS) vkFreeMemory(dev->handle, too_big, NULL);
    check_and_free(dev, 256 * 1024, made, memory);
}

static int size_limit(const robust_vk *vk) {
    uint32_t type =
        robust_find_memory_type(vk, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    EXPECT(type != UINT32_MAX, "no host-visible, coherent, not device-local memory type");
    void (*scenarios[])(robust_device *, uint32_t) = {blocks_shrink_to_a_limit, exact_sizes_below_the_smallest_block};
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0] && type != UINT32_MAX; i++) {
        robust_device dev; /* each on a fresh device: no block kept from before */
        if (!robust_device_create(vk, &dev) || !robust_has_strict(&dev)) {
            EXPECT(false, "no device with the strict layer below");
            return 1;
        }
        scenarios[i](&dev, type);
        EXPECT(robust_strict_counters(&dev).violations == 0, "the strict layer saw violations");
        robust_device_destroy(&dev);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    signal(SIGABRT, report_abort);
    signal(SIGSEGV, report_abort);
    robust_vk vk;
    if (!robust_instance_create(&vk)) return 1;
    if (strcmp(mode, "allocate") == 0) fault_sweeps(&vk, STRICT_DEVICE_FAULT_ALLOCATE);
    else if (strcmp(mode, "map") == 0) fault_sweeps(&vk, STRICT_DEVICE_FAULT_MAP);
    else if (strcmp(mode, "size_limit") == 0) size_limit(&vk);
    else EXPECT(false, "usage: test_faults allocate|map|size_limit (got '%s')", mode);
    robust_instance_destroy(&vk);
    uint64_t failures = robust_failures();
    printf("%s: %s\n", mode, failures == 0 ? "passed" : "FAILED");
    return failures == 0 ? 0 : 1;
}
