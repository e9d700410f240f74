/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault_workload: a small, realistic app that keeps going when calls fail.
 *
 * It does what engines do with memory: query a buffer's requirements, allocate
 * exactly that, bind, map, write, flush; now and then a raw allocation bound
 * later at an aligned offset, an optimal image, a large allocation that the layer
 * passes through; and frees in random order, checking every byte first. The
 * sequence is fixed by the seed, so a sweep can fail the k-th driver call of the
 * very same run for every k.
 *
 * Every app call's VkResult is checked against what that call may return. Under
 * FAULT_POLICY_ONE_SHOT a failed call is retried at once and must then succeed
 * (the fault is gone); under FAULT_POLICY_PERSISTENT a failed step is skipped;
 * under FAULT_POLICY_NONE every call must succeed.
 */
#ifndef SUBALLOC_FAULT_WORKLOAD_H
#define SUBALLOC_FAULT_WORKLOAD_H

#include "robust_vk.h"

#define WORKLOAD_MAX_LIVE 512u

typedef enum fault_policy {
    FAULT_POLICY_NONE,       /* no fault is armed: every call succeeds */
    FAULT_POLICY_ONE_SHOT,   /* one call fails; its retry succeeds */
    FAULT_POLICY_PERSISTENT, /* calls may keep failing until the fault is cancelled */
} fault_policy;

typedef struct workload_allocation {
    VkDeviceMemory memory;
    VkBuffer buffer; /* or VK_NULL_HANDLE */
    VkImage image;   /* or VK_NULL_HANDLE */
    VkDeviceSize size;
    uint32_t type;
    uint64_t seed; /* of the pattern it holds, when written */
    bool written;
    void *mapped; /* the app's mapping, or NULL */
} workload_allocation;

typedef struct workload {
    const robust_vk *vk;
    VkDevice device;
    robust_rng rng;
    uint32_t types[VK_MAX_MEMORY_TYPES]; /* the types it allocates from */
    uint32_t type_count;
    VkDeviceSize large_size; /* above the layer's dedicated threshold: passed through */
    workload_allocation live[WORKLOAD_MAX_LIVE];
    uint32_t live_count;
    uint64_t next_seed;
    /* what happened */
    uint64_t calls;        /* app calls that can fail */
    uint64_t failed_calls; /* of those, how many did (before any retry) */
    uint64_t bytes_verified;
    const char *step_name; /* for the abort handler: what it was doing */
} workload;

/* Every memory type except lazily allocated and protected ones. */
void workload_init(workload *w, const robust_vk *vk, VkDevice device, uint64_t seed, VkDeviceSize large_size);
/* Runs `steps` random steps under the policy. */
void workload_run(workload *w, uint32_t steps, fault_policy policy);
/* Checks and frees everything still live (every call must succeed). */
void workload_finish(workload *w);

#endif
