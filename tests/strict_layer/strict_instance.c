/* SPDX-License-Identifier: Apache-2.0 */
/* strict_instance.c: instance creation, destruction, and the device
 * extension list (the layer adds the ones it emulates). */
#include <stdlib.h>
#include <string.h>

#include "strict_layer_internal.h"

static VkLayerInstanceCreateInfo *find_instance_link(const VkInstanceCreateInfo *info) {
    const VkBaseInStructure *item = info->pNext;
    for (; item; item = item->pNext) {
        const VkLayerInstanceCreateInfo *link = (const VkLayerInstanceCreateInfo *)item;
        if (item->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && link->function == VK_LAYER_LINK_INFO)
            return (VkLayerInstanceCreateInfo *)link;
    }
    return NULL;
}

static void load_instance_dispatch(strict_instance *instance, PFN_vkGetInstanceProcAddr gipa) {
    VkInstance handle = instance->handle;
    strict_instance_dispatch *next = &instance->next;
    next->GetInstanceProcAddr = gipa;
    next->DestroyInstance = (PFN_vkDestroyInstance)gipa(handle, "vkDestroyInstance");
    next->EnumerateDeviceExtensionProperties =
        (PFN_vkEnumerateDeviceExtensionProperties)gipa(handle, "vkEnumerateDeviceExtensionProperties");
    next->GetPhysicalDeviceProperties =
        (PFN_vkGetPhysicalDeviceProperties)gipa(handle, "vkGetPhysicalDeviceProperties");
    next->GetPhysicalDeviceProperties2 =
        (PFN_vkGetPhysicalDeviceProperties2)gipa(handle, "vkGetPhysicalDeviceProperties2");
    if (!next->GetPhysicalDeviceProperties2)
        next->GetPhysicalDeviceProperties2 =
            (PFN_vkGetPhysicalDeviceProperties2)gipa(handle, "vkGetPhysicalDeviceProperties2KHR");
    next->GetPhysicalDeviceMemoryProperties =
        (PFN_vkGetPhysicalDeviceMemoryProperties)gipa(handle, "vkGetPhysicalDeviceMemoryProperties");
    next->GetPhysicalDeviceFeatures = (PFN_vkGetPhysicalDeviceFeatures)gipa(handle, "vkGetPhysicalDeviceFeatures");
    next->GetPhysicalDeviceFeatures2 = (PFN_vkGetPhysicalDeviceFeatures2)gipa(handle, "vkGetPhysicalDeviceFeatures2");
    if (!next->GetPhysicalDeviceFeatures2)
        next->GetPhysicalDeviceFeatures2 =
            (PFN_vkGetPhysicalDeviceFeatures2)gipa(handle, "vkGetPhysicalDeviceFeatures2KHR");
    next->GetPhysicalDeviceQueueFamilyProperties =
        (PFN_vkGetPhysicalDeviceQueueFamilyProperties)gipa(handle, "vkGetPhysicalDeviceQueueFamilyProperties");
    next->GetPhysicalDeviceQueueFamilyProperties2 =
        (PFN_vkGetPhysicalDeviceQueueFamilyProperties2)gipa(handle, "vkGetPhysicalDeviceQueueFamilyProperties2");
    if (!next->GetPhysicalDeviceQueueFamilyProperties2)
        next->GetPhysicalDeviceQueueFamilyProperties2 =
            (PFN_vkGetPhysicalDeviceQueueFamilyProperties2)gipa(handle, "vkGetPhysicalDeviceQueueFamilyProperties2KHR");
    next->GetPhysicalDeviceImageFormatProperties =
        (PFN_vkGetPhysicalDeviceImageFormatProperties)gipa(handle, "vkGetPhysicalDeviceImageFormatProperties");
    next->GetPhysicalDeviceImageFormatProperties2 =
        (PFN_vkGetPhysicalDeviceImageFormatProperties2)gipa(handle, "vkGetPhysicalDeviceImageFormatProperties2");
    if (!next->GetPhysicalDeviceImageFormatProperties2)
        next->GetPhysicalDeviceImageFormatProperties2 =
            (PFN_vkGetPhysicalDeviceImageFormatProperties2)gipa(handle, "vkGetPhysicalDeviceImageFormatProperties2KHR");
}

VKAPI_ATTR VkResult VKAPI_CALL strict_CreateInstance(const VkInstanceCreateInfo *info,
                                                     const VkAllocationCallbacks *allocator, VkInstance *out) {
    VkLayerInstanceCreateInfo *link = find_instance_link(info);
    if (!link || !link->u.pLayerInfo) {
        strict_layer_error("vkCreateInstance: no loader link info; is the layer loaded by the Vulkan loader?");
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkCreateInstance next_create = (PFN_vkCreateInstance)next_gipa(VK_NULL_HANDLE, "vkCreateInstance");
    if (!next_create) return VK_ERROR_INITIALIZATION_FAILED;

    strict_instance *instance = calloc(1, sizeof(*instance));
    if (!instance) return VK_ERROR_OUT_OF_HOST_MEMORY;

    /* The next element of the chain reads the link after ours. */
    link->u.pLayerInfo = link->u.pLayerInfo->pNext;
    VkResult result = next_create(info, allocator, out);
    if (result != VK_SUCCESS) {
        free(instance);
        return result;
    }
    instance->handle = *out;
    instance->key = strict_dispatch_key(*out);
    pthread_mutex_init(&instance->physical_devices_lock, NULL);
    load_instance_dispatch(instance, next_gipa);
    strict_registry_add_instance(instance);
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL strict_DestroyInstance(VkInstance handle, const VkAllocationCallbacks *allocator) {
    if (!handle) return;
    strict_instance *instance = strict_registry_remove_instance(strict_dispatch_key(handle));
    if (!instance) return;
    instance->next.DestroyInstance(handle, allocator);
    strict_registry_free_physical_devices(instance);
    pthread_mutex_destroy(&instance->physical_devices_lock);
    free(instance);
}

/* The usual two-call protocol: count when properties is NULL, else copy what fits. */
static VkResult copy_extensions(const VkExtensionProperties *list, uint32_t count, uint32_t *out_count,
                                VkExtensionProperties *out) {
    if (!out) {
        *out_count = count;
        return VK_SUCCESS;
    }
    uint32_t copied = *out_count < count ? *out_count : count;
    memcpy(out, list, copied * sizeof(*list));
    *out_count = copied;
    return copied < count ? VK_INCOMPLETE : VK_SUCCESS;
}

static bool has_extension(const VkExtensionProperties *list, uint32_t count, const char *name) {
    for (uint32_t i = 0; i < count; i++) {
        if (strcmp(list[i].extensionName, name) == 0) return true;
    }
    return false;
}

/* The driver's list, with room for the layer's extensions after it. */
static VkExtensionProperties *driver_extensions(strict_instance *instance, VkPhysicalDevice physical_device,
                                                uint32_t *count) {
    *count = 0;
    if (instance->next.EnumerateDeviceExtensionProperties(physical_device, NULL, count, NULL) != VK_SUCCESS)
        return NULL;
    VkExtensionProperties *list = calloc(*count + STRICT_EMULATED_EXTENSION_COUNT, sizeof(*list));
    if (!list) return NULL;
    VkResult result = instance->next.EnumerateDeviceExtensionProperties(physical_device, NULL, count, list);
    if (result != VK_SUCCESS && result != VK_INCOMPLETE) {
        free(list);
        return NULL;
    }
    return list;
}

bool strict_driver_has_device_extension(VkPhysicalDevice physical_device, const char *name) {
    strict_instance *instance = strict_registry_instance(physical_device);
    uint32_t count;
    VkExtensionProperties *list = instance ? driver_extensions(instance, physical_device, &count) : NULL;
    bool found = list && has_extension(list, count, name);
    free(list);
    return found;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_EnumerateDeviceExtensionProperties(VkPhysicalDevice physical_device,
                                                                         const char *layer_name, uint32_t *count,
                                                                         VkExtensionProperties *properties) {
    if (layer_name && strcmp(layer_name, STRICT_DEVICE_LAYER_NAME) == 0)
        return copy_extensions(strict_emulated_extensions, STRICT_EMULATED_EXTENSION_COUNT, count, properties);

    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance) return VK_ERROR_INITIALIZATION_FAILED;
    if (layer_name)
        return instance->next.EnumerateDeviceExtensionProperties(physical_device, layer_name, count, properties);

    uint32_t driver_count;
    VkExtensionProperties *list = driver_extensions(instance, physical_device, &driver_count);
    if (!list) return VK_ERROR_OUT_OF_HOST_MEMORY;
    uint32_t total = driver_count;
    for (uint32_t i = 0; i < STRICT_EMULATED_EXTENSION_COUNT; i++) {
        if (!has_extension(list, driver_count, strict_emulated_extensions[i].extensionName))
            list[total++] = strict_emulated_extensions[i];
    }
    VkResult result = copy_extensions(list, total, count, properties);
    free(list);
    return result;
}
