/* SPDX-License-Identifier: Apache-2.0 */
/* strict_features.c: the features, queue families and image formats the fake
 * device reports, with sparse binding and the emulated extensions' features. */
#include "strict_layer_internal.h"

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceFeatures(VkPhysicalDevice physical_device,
                                                            VkPhysicalDeviceFeatures *features) {
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance) return;
    instance->next.GetPhysicalDeviceFeatures(physical_device, features);
    strict_fake_sparse_features(features);
}

/* The feature structures of the emulated extensions; the driver left them alone. */
static void add_emulated_features(VkBaseOutStructure *chain) {
    for (VkBaseOutStructure *item = chain; item; item = item->pNext) {
        if (item->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT)
            ((VkPhysicalDeviceMemoryPriorityFeaturesEXT *)item)->memoryPriority = VK_TRUE;
        else if (item->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT)
            ((VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT *)item)->pageableDeviceLocalMemory = VK_TRUE;
    }
}

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceFeatures2(VkPhysicalDevice physical_device,
                                                             VkPhysicalDeviceFeatures2 *features) {
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance) return;
    if (instance->next.GetPhysicalDeviceFeatures2) instance->next.GetPhysicalDeviceFeatures2(physical_device, features);
    else instance->next.GetPhysicalDeviceFeatures(physical_device, &features->features);
    strict_fake_sparse_features(&features->features);
    add_emulated_features(features->pNext);
}

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceQueueFamilyProperties(VkPhysicalDevice physical_device,
                                                                         uint32_t *count,
                                                                         VkQueueFamilyProperties *properties) {
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance) {
        *count = 0;
        return;
    }
    instance->next.GetPhysicalDeviceQueueFamilyProperties(physical_device, count, properties);
    for (uint32_t i = 0; properties && i < *count; i++) properties[i].queueFlags |= VK_QUEUE_SPARSE_BINDING_BIT;
}

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceQueueFamilyProperties2(VkPhysicalDevice physical_device,
                                                                          uint32_t *count,
                                                                          VkQueueFamilyProperties2 *properties) {
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance || !instance->next.GetPhysicalDeviceQueueFamilyProperties2) {
        *count = 0;
        return;
    }
    instance->next.GetPhysicalDeviceQueueFamilyProperties2(physical_device, count, properties);
    for (uint32_t i = 0; properties && i < *count; i++)
        properties[i].queueFamilyProperties.queueFlags |= VK_QUEUE_SPARSE_BINDING_BIT;
}

/* ---- image formats: the driver answers for the image it will really make ---- */

static bool residency_refused(VkFormat format, VkImageType type, VkImageTiling tiling, VkImageCreateFlags flags) {
    return (flags & VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT) &&
           !strict_fake_sparse_residency_supported(format, type, VK_SAMPLE_COUNT_1_BIT, tiling);
}

VKAPI_ATTR VkResult VKAPI_CALL strict_GetPhysicalDeviceImageFormatProperties(
    VkPhysicalDevice physical_device, VkFormat format, VkImageType type, VkImageTiling tiling, VkImageUsageFlags usage,
    VkImageCreateFlags flags, VkImageFormatProperties *properties) {
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance) return VK_ERROR_INITIALIZATION_FAILED;
    if (residency_refused(format, type, tiling, flags)) return VK_ERROR_FORMAT_NOT_SUPPORTED;
    VkResult result = instance->next.GetPhysicalDeviceImageFormatProperties(
        physical_device, format, type, tiling, usage, flags & ~STRICT_FAKE_SPARSE_IMAGE_FLAGS, properties);
    /* Sparse residency is single-sample only. */
    if (result == VK_SUCCESS && (flags & VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT))
        properties->sampleCounts = VK_SAMPLE_COUNT_1_BIT;
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_GetPhysicalDeviceImageFormatProperties2(
    VkPhysicalDevice physical_device, const VkPhysicalDeviceImageFormatInfo2 *info,
    VkImageFormatProperties2 *properties) {
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance || !instance->next.GetPhysicalDeviceImageFormatProperties2) return VK_ERROR_INITIALIZATION_FAILED;
    if (residency_refused(info->format, info->type, info->tiling, info->flags)) return VK_ERROR_FORMAT_NOT_SUPPORTED;
    VkPhysicalDeviceImageFormatInfo2 driver_info = *info;
    driver_info.flags &= ~STRICT_FAKE_SPARSE_IMAGE_FLAGS;
    VkResult result = instance->next.GetPhysicalDeviceImageFormatProperties2(physical_device, &driver_info, properties);
    if (result == VK_SUCCESS && (info->flags & VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT))
        properties->imageFormatProperties.sampleCounts = VK_SAMPLE_COUNT_1_BIT;
    return result;
}

/* Residency needs a format and shape the fake hardware knows, and an image
 * the driver can make with that usage. */
static bool sparse_image_supported(strict_instance *instance, VkPhysicalDevice physical_device, VkFormat format,
                                   VkImageType type, VkSampleCountFlagBits samples, VkImageUsageFlags usage,
                                   VkImageTiling tiling) {
    if (!strict_fake_sparse_residency_supported(format, type, samples, tiling)) return false;
    VkImageFormatProperties driver;
    return instance->next.GetPhysicalDeviceImageFormatProperties(physical_device, format, type, tiling, usage, 0,
                                                                 &driver) == VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceSparseImageFormatProperties(
    VkPhysicalDevice physical_device, VkFormat format, VkImageType type, VkSampleCountFlagBits samples,
    VkImageUsageFlags usage, VkImageTiling tiling, uint32_t *count, VkSparseImageFormatProperties *properties) {
    strict_instance *instance = strict_registry_instance(physical_device);
    uint32_t available =
        instance && sparse_image_supported(instance, physical_device, format, type, samples, usage, tiling) ? 1 : 0;
    if (properties && *count && available) properties[0] = strict_fake_sparse_format_properties(format);
    *count = properties && *count < available ? *count : available;
}

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceSparseImageFormatProperties2(
    VkPhysicalDevice physical_device, const VkPhysicalDeviceSparseImageFormatInfo2 *info, uint32_t *count,
    VkSparseImageFormatProperties2 *properties) {
    strict_instance *instance = strict_registry_instance(physical_device);
    uint32_t available = instance && sparse_image_supported(instance, physical_device, info->format, info->type,
                                                            info->samples, info->usage, info->tiling)
                             ? 1
                             : 0;
    if (properties && *count && available)
        properties[0].properties = strict_fake_sparse_format_properties(info->format);
    *count = properties && *count < available ? *count : available;
}
