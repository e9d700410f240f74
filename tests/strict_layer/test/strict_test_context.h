/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_test_context.h: a Vulkan instance and device created through the
 * loader with the strict layer loaded, and small helpers the strict layer's
 * tests share. Helpers fail the running check test on any unexpected result.
 */
#ifndef STRICT_TEST_CONTEXT_H
#define STRICT_TEST_CONTEXT_H

#include <check.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "strict_device.h"
#include "test_vk.h"

typedef struct strict_test_context {
    VkInstance instance;
    VkPhysicalDevice physical_device;
    VkDevice device;
    uint32_t queue_family;
    VkQueue queue;
    VkCommandPool command_pool;
    PFN_vkStrictDeviceGetCountersTEST get_counters;
    PFN_vkStrictDeviceInjectFaultTEST inject_fault;
    PFN_vkStrictDeviceSetAllocationSizeLimitTEST set_allocation_size_limit;
    PFN_vkStrictDeviceIsDriverMemoryTEST is_driver_memory;
    PFN_vkStrictDeviceGetViolationCountTEST violation_count;
} strict_test_context;

/* Creates instance and device (Vulkan 1.3) with the given device extensions. */
void strict_test_open(strict_test_context *context, const char *const *extensions, uint32_t extension_count);
/* The same, with a chain of feature structures for VkDeviceCreateInfo::pNext. */
void strict_test_open_with_features(strict_test_context *context, const char *const *extensions,
                                    uint32_t extension_count, const void *features);
void strict_test_close(strict_test_context *context);

StrictDeviceCounters strict_test_counters(const strict_test_context *context);
uint64_t strict_test_violations(const strict_test_context *context);

VkDeviceMemory strict_test_allocate(const strict_test_context *context, VkDeviceSize size, uint32_t memory_type);
VkBuffer strict_test_buffer(const strict_test_context *context, VkDeviceSize size);
VkImage strict_test_image(const strict_test_context *context, VkImageTiling tiling, uint32_t side,
                          VkImageUsageFlags usage);
VkMemoryRequirements strict_test_buffer_requirements(const strict_test_context *context, VkBuffer buffer);
VkMemoryRequirements strict_test_image_requirements(const strict_test_context *context, VkImage image);

/* Records, submits and waits for one command buffer. */
void strict_test_copy_buffer(const strict_test_context *context, VkBuffer source, VkBuffer destination,
                             VkDeviceSize size);
void strict_test_fill_buffer(const strict_test_context *context, VkBuffer buffer, VkDeviceSize size, uint32_t value);

#endif
