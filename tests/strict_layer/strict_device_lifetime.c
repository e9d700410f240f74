/* SPDX-License-Identifier: Apache-2.0 */
/* strict_device_lifetime.c: vkCreateDevice and vkDestroyDevice. */
#include <stdlib.h>
#include <string.h>

#include "strict_layer_internal.h"

static VkLayerDeviceCreateInfo *find_device_link(const VkDeviceCreateInfo *info) {
    const VkBaseInStructure *item = info->pNext;
    for (; item; item = item->pNext) {
        const VkLayerDeviceCreateInfo *link = (const VkLayerDeviceCreateInfo *)item;
        if (item->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && link->function == VK_LAYER_LINK_INFO)
            return (VkLayerDeviceCreateInfo *)link;
    }
    return NULL;
}

static bool env_is(const char *name, const char *value) {
    const char *set = getenv(name);
    return set && strcmp(set, value) == 0;
}

static VkPhysicalDeviceLimits reported_limits(strict_instance *instance, VkPhysicalDevice physical_device) {
    VkPhysicalDeviceProperties properties;
    instance->next.GetPhysicalDeviceProperties(physical_device, &properties);
    strict_fake_raise_limits(&properties.limits);
    return properties.limits;
}

static strict_device *new_device(VkDevice handle, strict_instance *instance, strict_physical_device *physical,
                                 PFN_vkGetDeviceProcAddr next_gdpa) {
    strict_device *device = calloc(1, sizeof(*device));
    if (!device) return NULL;
    device->handle = handle;
    device->key = strict_dispatch_key(handle);
    device->physical = physical;
    VkPhysicalDeviceLimits limits = reported_limits(instance, physical->handle);
    device->atom_size = limits.nonCoherentAtomSize;
    device->granularity = limits.bufferImageGranularity;
    device->count_violations = env_is("STRICT_DEVICE_VIOLATIONS", "count");
    device->forbid_aliasing = env_is("STRICT_DEVICE_FORBID_ALIASING", "1");
    device->stale_reads = env_is("STRICT_DEVICE_STALE_READS", "1");
    device->check_leaks = env_is("STRICT_DEVICE_CHECK_LEAKS", "1");
    pthread_mutex_init(&device->lock, NULL);
    strict_handle_map_init(&device->memories);
    strict_handle_map_init(&device->buffers);
    strict_handle_map_init(&device->images);
    strict_handle_map_init(&device->markers);
    strict_load_device_dispatch(device, next_gdpa);
    return device;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_CreateDevice(VkPhysicalDevice physical_device, const VkDeviceCreateInfo *info,
                                                   const VkAllocationCallbacks *allocator, VkDevice *out) {
    VkLayerDeviceCreateInfo *link = find_device_link(info);
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!link || !link->u.pLayerInfo || !instance) {
        strict_layer_error("vkCreateDevice: no loader link info or unknown instance");
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    strict_physical_device *physical = strict_registry_physical_device(physical_device);
    if (!physical) return VK_ERROR_OUT_OF_HOST_MEMORY;
    if (!physical->usable) return VK_ERROR_INITIALIZATION_FAILED;

    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkGetDeviceProcAddr next_gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
    PFN_vkCreateDevice next_create = (PFN_vkCreateDevice)next_gipa(instance->handle, "vkCreateDevice");
    if (!next_create) return VK_ERROR_INITIALIZATION_FAILED;
    /* The caller may enable what this layer emulates; the driver must not see it. */
    strict_driver_device_info driver;
    if (!strict_driver_device_info_make(physical, info, &driver)) return VK_ERROR_OUT_OF_HOST_MEMORY;

    link->u.pLayerInfo = link->u.pLayerInfo->pNext;
    VkResult result = next_create(physical_device, &driver.info, allocator, out);
    strict_driver_device_info_finish(&driver);
    if (result != VK_SUCCESS) return result;

    strict_device *device = new_device(*out, instance, physical, next_gdpa);
    if (!device) {
        PFN_vkDestroyDevice destroy = (PFN_vkDestroyDevice)next_gdpa(*out, "vkDestroyDevice");
        destroy(*out, allocator);
        *out = VK_NULL_HANDLE;
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    device->enabled_extensions = driver.enabled_extensions;
    strict_registry_add_device(device);
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL strict_DestroyDevice(VkDevice handle, const VkAllocationCallbacks *allocator) {
    if (!handle) return;
    strict_device *device = strict_registry_remove_device(strict_dispatch_key(handle));
    if (!device) return;
    pthread_mutex_lock(&device->lock);
    if (device->check_leaks && device->counters.live_allocations != 0)
        strict_violation(device, STRICT_DEVICE_VIOLATION_LEAK_AT_DESTROY,
                         "vkDestroyDevice with %llu driver allocations (%llu bytes) still live",
                         (unsigned long long)device->counters.live_allocations,
                         (unsigned long long)device->counters.live_bytes);
    /* Leaked driver memory stays leaked (a leak checker should see whose it
     * was); only the layer's own records go. */
    strict_device_free_resources(device);
    strict_device_free_memories(device);
    strict_markers_free(device);
    pthread_mutex_unlock(&device->lock);

    device->next.DestroyDevice(handle, allocator);
    strict_handle_map_free(&device->memories);
    strict_handle_map_free(&device->buffers);
    strict_handle_map_free(&device->images);
    strict_handle_map_free(&device->markers);
    pthread_mutex_destroy(&device->lock);
    free(device);
}
