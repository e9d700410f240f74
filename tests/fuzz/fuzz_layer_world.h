/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_layer_world: the Vulkan objects the layer fuzzer keeps for its whole run.
 *
 * Two instances on lavapipe through the real loader, each above the strict
 * device (five hardware-shaped memory types, a violation check on every call):
 *   FZ_LAYER      app -> VK_LAYER_TRANSPARENT_suballoc -> strict device -> driver
 *   FZ_REFERENCE  app -> strict device -> driver (what the driver alone answers)
 * and, on the layer's instance, a second device whose only use is to be the
 * wrong device for the first one's handles.
 *
 * Creating instances and devices costs milliseconds; an input costs
 * microseconds. So they are made once, in LLVMFuzzerInitialize, and each input
 * leaves them as it found them.
 */
#ifndef FUZZ_LAYER_WORLD_H
#define FUZZ_LAYER_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "strict_device.h"

enum { FZ_LAYER = 0, FZ_REFERENCE = 1, FZ_SIDES = 2 };

/* The layer's dedicated_threshold in this run: the same number twice. */
#define FZ_DEDICATED_THRESHOLD ((VkDeviceSize)128 << 10)
#define FZ_DEDICATED_THRESHOLD_TEXT "128K"

/* The device functions an input calls, fetched once per device. */
typedef struct fz_functions {
    PFN_vkAllocateMemory AllocateMemory;
    PFN_vkFreeMemory FreeMemory;
    PFN_vkMapMemory MapMemory;
    PFN_vkUnmapMemory UnmapMemory;
    PFN_vkFlushMappedMemoryRanges FlushMappedMemoryRanges;
    PFN_vkInvalidateMappedMemoryRanges InvalidateMappedMemoryRanges;
    PFN_vkCreateBuffer CreateBuffer;
    PFN_vkDestroyBuffer DestroyBuffer;
    PFN_vkCreateImage CreateImage;
    PFN_vkDestroyImage DestroyImage;
    PFN_vkGetBufferMemoryRequirements GetBufferMemoryRequirements;
    PFN_vkGetImageMemoryRequirements GetImageMemoryRequirements;
    PFN_vkBindBufferMemory BindBufferMemory;
    PFN_vkBindImageMemory BindImageMemory;
    PFN_vkBindBufferMemory2 BindBufferMemory2;
    PFN_vkBindImageMemory2 BindImageMemory2;
    PFN_vkGetDeviceMemoryCommitment GetDeviceMemoryCommitment;
    PFN_vkSetDebugUtilsObjectNameEXT SetDebugUtilsObjectNameEXT;
    PFN_vkSetDebugUtilsObjectTagEXT SetDebugUtilsObjectTagEXT;
    PFN_vkDebugMarkerSetObjectNameEXT DebugMarkerSetObjectNameEXT; /* NULL without VK_EXT_debug_marker */
    PFN_vkDebugMarkerSetObjectTagEXT DebugMarkerSetObjectTagEXT;
    PFN_vkCreatePrivateDataSlot CreatePrivateDataSlot;
    PFN_vkDestroyPrivateDataSlot DestroyPrivateDataSlot;
    PFN_vkSetPrivateData SetPrivateData;
    PFN_vkGetPrivateData GetPrivateData;
    PFN_vkSetDeviceMemoryPriorityEXT SetDeviceMemoryPriorityEXT;               /* NULL without pageable memory */
    PFN_vkGetMemoryFdKHR GetMemoryFdKHR;                                       /* NULL without external memory fd */
    PFN_vkGetMemoryHostPointerPropertiesEXT GetMemoryHostPointerPropertiesEXT; /* NULL without it */
    PFN_vkStrictDeviceGetCountersTEST StrictGetCounters;
    PFN_vkStrictDeviceGetViolationCountTEST StrictViolationCount;
    PFN_vkStrictDeviceIsDriverMemoryTEST StrictIsDriverMemory;
} fz_functions;

/* Where a device copy of an allocation lands for the fuzzer to read: host-coherent
 * memory of FZ_READBACK_SIZE bytes, at or above the layer's dedicated threshold,
 * so that it is the driver's own on both sides. */
#define FZ_READBACK_SIZE ((VkDeviceSize)256 << 10)

typedef struct fz_device {
    VkDevice handle;
    fz_functions fn;
    VkPrivateDataSlot slot;
    VkQueue queue;
    VkCommandPool command_pool;
    VkCommandBuffer commands;
    VkBuffer readback;
    VkDeviceMemory readback_memory;
    const uint8_t *readback_data;
} fz_device;

typedef struct fz_side {
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDebugUtilsMessengerEXT messenger;
    fz_device device;
} fz_side;

/* What both devices enabled: an input uses a feature only where both have it. */
typedef struct fz_enabled {
    bool debug_marker;
    bool memory_priority;
    bool pageable_memory;
    bool external_memory_fd;
    bool external_memory_host;
    VkDeviceSize host_pointer_alignment;
} fz_enabled;

typedef struct fz_world {
    fz_side side[FZ_SIDES];
    fz_device other; /* a second device through the layer */
    fz_enabled enabled;
    VkPhysicalDeviceMemoryProperties memory; /* the strict device's five types */
} fz_world;

/* Sets the environment (layer folders, driver, strict device counting) and
 * creates everything; false, with a message, when the chains are not as above. */
bool fz_world_init(fz_world *world);

/* Destroys and creates one device of a side (FZ_LAYER's main device or the
 * reference), keeping its instance. */
void fz_device_destroy(fz_device *device);
bool fz_device_create(fz_world *world, int side, fz_device *out);

/* Copies size bytes of buffer on the device into the readback memory, and waits. */
bool fz_device_copy(fz_device *device, VkBuffer buffer, VkDeviceSize size);

/* Bytes the strict device says the heaps of a side's physical device hold now,
 * summed over heaps (VK_EXT_memory_budget, which the strict device emulates). */
uint64_t fz_heap_usage(const fz_world *world, int side);

/* Messages the layer sent (pMessageIdName "TRANSPARENT-suballoc"), counted by
 * severity since the start; the last one is kept for reports. */
typedef struct fz_messages {
    uint64_t errors;
    uint64_t warnings;
    uint64_t other;
} fz_messages;

fz_messages fz_layer_messages(void);
const char *fz_last_layer_message(void);

/* Whether to print each call (FUZZ_LAYER_TRACE=1), and the printer. */
extern bool fz_trace_on;
void fz_trace(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
