/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_vk: the Vulkan plumbing every test program shares: an instance with a
 * debug-utils messenger, a physical device and queue family, a device with one
 * queue, extension lookups, and VkResult names (vk_result_name, from common/).
 * Each harness (tests/integration/harness.c, tests/robustness/robust_vk.c,
 * tests/strict_layer/test/strict_test_context.c) and each program with its own
 * contexts builds on it, so they create their objects one way.
 */
#ifndef SUBALLOC_TEST_VK_H
#define SUBALLOC_TEST_VK_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "vk_result_name.h"

/* What an instance is made with. Zero fields take the defaults. */
typedef struct test_vk_instance_info {
    const char *application; /* pApplicationName */
    uint32_t api_version;    /* 0: the highest the loader offers, at most Vulkan 1.3 */
    /* A debug-utils messenger on the instance, also chained into
     * vkCreateInstance so it sees that call's messages; NULL: no messenger and
     * no VK_EXT_debug_utils. */
    PFN_vkDebugUtilsMessengerCallbackEXT messenger;
    void *messenger_user;
    VkDebugUtilsMessageSeverityFlagsEXT severities; /* 0: warnings and errors */
    VkDebugUtilsMessageTypeFlagsEXT types;          /* 0: general, validation and performance */
    const char *const *extensions;                  /* more instance extensions */
    uint32_t extension_count;
    const char *const *layers; /* ppEnabledLayerNames */
    uint32_t layer_count;
    const void *next; /* more structures for VkInstanceCreateInfo::pNext */
} test_vk_instance_info;

typedef struct test_vk_instance {
    VkInstance handle;
    VkDebugUtilsMessengerEXT messenger; /* VK_NULL_HANDLE without one */
    uint32_t api_version;               /* what the instance was made with */
} test_vk_instance;

/* Makes the instance and its messenger; on failure nothing is left and out is zero. */
VkResult test_vk_instance_create(const test_vk_instance_info *info, test_vk_instance *out);
void test_vk_instance_destroy(test_vk_instance *instance);

/* The loader's own reports ("Loader Message"), which are about the
 * environment (a layer added by VK_INSTANCE_LAYERS), not about the program. */
bool test_vk_is_loader_message(const VkDebugUtilsMessengerCallbackDataEXT *data);

/* The first physical device with a queue family that has every flag of
 * queue_flags (0: any family), and that family. False when there is none. */
bool test_vk_pick_physical_device(VkInstance instance, VkQueueFlags queue_flags, VkPhysicalDevice *physical,
                                  uint32_t *queue_family);
/* The first queue family of physical with every flag of queue_flags, or UINT32_MAX. */
uint32_t test_vk_queue_family(VkPhysicalDevice physical, VkQueueFlags queue_flags);

/* A device with one queue of queue_family, the given extensions, and next
 * (feature structures) chained into VkDeviceCreateInfo. */
VkResult test_vk_device_create(VkPhysicalDevice physical, uint32_t queue_family, const char *const *extensions,
                               uint32_t extension_count, const void *next, VkDevice *out);

bool test_vk_has_instance_extension(const char *name);
bool test_vk_has_device_extension(VkPhysicalDevice physical, const char *name);

#endif
