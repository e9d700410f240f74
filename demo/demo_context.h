/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo_context: the Vulkan instance, device and compute queue the demo runs on,
 * plus a debug-utils messenger that counts what validation layers report.
 */
#ifndef DEMO_CONTEXT_H
#define DEMO_CONTEXT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "vk_result_name.h"

typedef struct demo_context {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger; /* VK_NULL_HANDLE without VK_EXT_debug_utils */
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties properties;
    VkPhysicalDeviceMemoryProperties memory;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    atomic_uint problems; /* validation warnings and errors of any kind reported so far */
    bool verbose;         /* also print informational messages (layers' own reports) */
} demo_context;

/* Creates everything; on failure prints why and returns false. verbose: print
 * info-level debug-utils messages too, not only warnings and errors. */
bool demo_context_create(demo_context *ctx, uint32_t device_index, bool verbose);
void demo_context_destroy(demo_context *ctx);

/* A memory type among type_bits with all of `want`, else one with all of
 * `fallback`; UINT32_MAX when none fits. */
uint32_t demo_memory_type(const demo_context *ctx, uint32_t type_bits, VkMemoryPropertyFlags want,
                          VkMemoryPropertyFlags fallback);

/* Prints "suballoc-demo: <what> failed: <VkResult>" and exits with status 1. */
_Noreturn void demo_fail_vk(const char *what, VkResult result);

#define DEMO_CHECK(call)                                                   \
    do {                                                                   \
        VkResult demo_result_ = (call);                                    \
        if (demo_result_ != VK_SUCCESS) demo_fail_vk(#call, demo_result_); \
    } while (0)

#endif
