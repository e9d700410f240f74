/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_memory_queries.c: the other entry points that name a VkDeviceMemory.
 *
 * Lavapipe answers several of them without looking at the handle, so a layer
 * above that forgot to translate its own handle would pass unnoticed; here a
 * handle the driver never made is reported and never passed on.
 */
#include <inttypes.h>

#include "strict_layer_internal.h"

/* Reports memory the driver does not know; true when it is a live driver allocation. */
static bool is_known_memory(strict_device *device, const char *function, VkDeviceMemory memory) {
    pthread_mutex_lock(&device->lock);
    bool known = strict_find_memory(device, memory) != NULL;
    if (!known)
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "%s: 0x%" PRIx64 " is not a live allocation of this device", function, (uint64_t)memory);
    pthread_mutex_unlock(&device->lock);
    return known;
}

VKAPI_ATTR void VKAPI_CALL strict_GetDeviceMemoryCommitment(VkDevice handle, VkDeviceMemory memory,
                                                            VkDeviceSize *committed) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    if (is_known_memory(device, "vkGetDeviceMemoryCommitment", memory))
        device->next.GetDeviceMemoryCommitment(handle, memory, committed);
    else if (committed) *committed = 0;
}

VKAPI_ATTR uint64_t VKAPI_CALL
strict_GetDeviceMemoryOpaqueCaptureAddress(VkDevice handle, const VkDeviceMemoryOpaqueCaptureAddressInfo *info) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !info || !is_known_memory(device, "vkGetDeviceMemoryOpaqueCaptureAddress", info->memory)) return 0;
    return device->next.GetDeviceMemoryOpaqueCaptureAddress(handle, info);
}

VKAPI_ATTR VkResult VKAPI_CALL strict_GetMemoryFdKHR(VkDevice handle, const VkMemoryGetFdInfoKHR *info, int *fd) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !info || !is_known_memory(device, "vkGetMemoryFdKHR", info->memory))
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    return device->next.GetMemoryFdKHR(handle, info, fd);
}

/* VK_EXT_pageable_device_local_memory: recorded here, passed on when the driver has it. */
VKAPI_ATTR void VKAPI_CALL strict_SetDeviceMemoryPriorityEXT(VkDevice handle, VkDeviceMemory memory, float priority) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    pthread_mutex_lock(&device->lock);
    strict_memory *record = strict_find_memory(device, memory);
    if (record) {
        record->priority = priority;
        device->counters.priority_changes++;
    } else {
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "vkSetDeviceMemoryPriorityEXT: 0x%" PRIx64 " is not a live allocation of this device",
                         (uint64_t)memory);
    }
    pthread_mutex_unlock(&device->lock);
    if (record && strict_driver_has(device->physical, STRICT_EXTENSION_PAGEABLE_DEVICE_LOCAL_MEMORY))
        device->next.SetDeviceMemoryPriorityEXT(handle, memory, priority);
}

/* Private data names objects by type and 64-bit handle: only memory is ours to check. */
static bool private_data_object_is_valid(strict_device *device, const char *function, VkObjectType type,
                                         uint64_t object) {
    return type != VK_OBJECT_TYPE_DEVICE_MEMORY || is_known_memory(device, function, (VkDeviceMemory)object);
}

VKAPI_ATTR VkResult VKAPI_CALL strict_SetPrivateData(VkDevice handle, VkObjectType type, uint64_t object,
                                                     VkPrivateDataSlot slot, uint64_t data) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !private_data_object_is_valid(device, "vkSetPrivateData", type, object))
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    return device->next.SetPrivateData(handle, type, object, slot, data);
}

VKAPI_ATTR void VKAPI_CALL strict_GetPrivateData(VkDevice handle, VkObjectType type, uint64_t object,
                                                 VkPrivateDataSlot slot, uint64_t *data) {
    strict_device *device = strict_registry_device(handle);
    if (device && private_data_object_is_valid(device, "vkGetPrivateData", type, object))
        device->next.GetPrivateData(handle, type, object, slot, data);
    else if (data) *data = 0;
}
