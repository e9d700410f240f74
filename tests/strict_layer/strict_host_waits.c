/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_host_waits.c: the calls that tell the host that device work is done.
 *
 * After each of them the host may read what that work wrote; on a
 * non-coherent mapping it sees it in every line it has not written itself
 * (strict_host_cache.c says why). Polling calls count only when they report
 * the work done.
 */
#include "strict_layer_internal.h"

static VkResult after(strict_device *device, VkResult result, VkResult done) {
    if (result == done) strict_host_cache_after_wait(device);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_WaitForFences(VkDevice handle, uint32_t count, const VkFence *fences,
                                                    VkBool32 wait_all, uint64_t timeout) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_DEVICE_LOST;
    return after(device, device->next.WaitForFences(handle, count, fences, wait_all, timeout), VK_SUCCESS);
}

VKAPI_ATTR VkResult VKAPI_CALL strict_GetFenceStatus(VkDevice handle, VkFence fence) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_DEVICE_LOST;
    return after(device, device->next.GetFenceStatus(handle, fence), VK_SUCCESS);
}

/* Queues share their device's dispatch key, so the device record is found from one. */
VKAPI_ATTR VkResult VKAPI_CALL strict_QueueWaitIdle(VkQueue queue) {
    strict_device *device = strict_registry_device(queue);
    if (!device) return VK_ERROR_DEVICE_LOST;
    return after(device, device->next.QueueWaitIdle(queue), VK_SUCCESS);
}

VKAPI_ATTR VkResult VKAPI_CALL strict_DeviceWaitIdle(VkDevice handle) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_DEVICE_LOST;
    return after(device, device->next.DeviceWaitIdle(handle), VK_SUCCESS);
}

VKAPI_ATTR VkResult VKAPI_CALL strict_WaitSemaphores(VkDevice handle, const VkSemaphoreWaitInfo *info,
                                                     uint64_t timeout) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_DEVICE_LOST;
    return after(device, device->next.WaitSemaphores(handle, info, timeout), VK_SUCCESS);
}

/* The caller compares the value with the one it waits for; any read may be the one. */
VKAPI_ATTR VkResult VKAPI_CALL strict_GetSemaphoreCounterValue(VkDevice handle, VkSemaphore semaphore,
                                                               uint64_t *value) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_DEVICE_LOST;
    return after(device, device->next.GetSemaphoreCounterValue(handle, semaphore, value), VK_SUCCESS);
}

VKAPI_ATTR VkResult VKAPI_CALL strict_GetEventStatus(VkDevice handle, VkEvent event) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_DEVICE_LOST;
    return after(device, device->next.GetEventStatus(handle, event), VK_EVENT_SET);
}
