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

typedef struct StrictTestContext {
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
} StrictTestContext;

/* Creates instance and device (Vulkan 1.3) with the given device extensions. */
void strict_test_open(StrictTestContext *context, const char *const *extensions, uint32_t extension_count);
/* The same, with a chain of feature structures for VkDeviceCreateInfo::pNext. */
void strict_test_open_with_features(StrictTestContext *context, const char *const *extensions,
                                    uint32_t extension_count, const void *features);
void strict_test_close(StrictTestContext *context);

StrictDeviceCounters strict_test_counters(const StrictTestContext *context);
uint64_t strict_test_violations(const StrictTestContext *context);

VkDeviceMemory strict_test_allocate(const StrictTestContext *context, VkDeviceSize size, uint32_t memory_type);
VkBuffer strict_test_buffer(const StrictTestContext *context, VkDeviceSize size);
VkImage strict_test_image(const StrictTestContext *context, VkImageTiling tiling, uint32_t side,
                          VkImageUsageFlags usage);
VkMemoryRequirements strict_test_buffer_requirements(const StrictTestContext *context, VkBuffer buffer);
VkMemoryRequirements strict_test_image_requirements(const StrictTestContext *context, VkImage image);

/* Records, submits and waits for one command buffer. */
void strict_test_copy_buffer(const StrictTestContext *context, VkBuffer source, VkBuffer destination,
                             VkDeviceSize size);
void strict_test_fill_buffer(const StrictTestContext *context, VkBuffer buffer, VkDeviceSize size, uint32_t value);

#endif
