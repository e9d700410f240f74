/* SPDX-License-Identifier: Apache-2.0 */
/* strict_properties.c: what the fake device says about itself: type, name,
 * limits and sparse properties, memory heaps and types (with
 * VK_EXT_memory_budget), and memory requirements. */
#include <string.h>

#include "strict_layer_internal.h"

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceProperties(VkPhysicalDevice physical_device,
                                                              VkPhysicalDeviceProperties *properties) {
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance) return;
    instance->next.GetPhysicalDeviceProperties(physical_device, properties);
    strict_fake_identity(properties);
    strict_fake_raise_limits(&properties->limits);
    strict_fake_sparse_properties(&properties->sparseProperties);
}

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceProperties2(VkPhysicalDevice physical_device,
                                                               VkPhysicalDeviceProperties2 *properties) {
    strict_instance *instance = strict_registry_instance(physical_device);
    if (!instance) return;
    if (instance->next.GetPhysicalDeviceProperties2)
        instance->next.GetPhysicalDeviceProperties2(physical_device, properties);
    else instance->next.GetPhysicalDeviceProperties(physical_device, &properties->properties);
    strict_fake_identity(&properties->properties);
    strict_fake_raise_limits(&properties->properties.limits);
    strict_fake_sparse_properties(&properties->properties.sparseProperties);
}

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceMemoryProperties(VkPhysicalDevice physical_device,
                                                                    VkPhysicalDeviceMemoryProperties *properties) {
    (void)physical_device;
    strict_fake_memory_properties(properties);
}

static void fill_budget(VkPhysicalDevice physical_device, VkPhysicalDeviceMemoryBudgetPropertiesEXT *budget) {
    memset(budget->heapBudget, 0, sizeof(budget->heapBudget));
    memset(budget->heapUsage, 0, sizeof(budget->heapUsage));
    strict_physical_device *physical = strict_registry_physical_device(physical_device);
    for (uint32_t heap = 0; heap < STRICT_FAKE_HEAP_COUNT; heap++) {
        budget->heapBudget[heap] = strict_fake_heap_size(heap);
        budget->heapUsage[heap] = physical ? atomic_load(&physical->heap_usage[heap]) : 0;
    }
}

VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceMemoryProperties2(VkPhysicalDevice physical_device,
                                                                     VkPhysicalDeviceMemoryProperties2 *properties) {
    /* Every field is fake, so nothing goes down to the driver. */
    strict_fake_memory_properties(&properties->memoryProperties);
    for (VkBaseOutStructure *item = properties->pNext; item; item = item->pNext) {
        if (item->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT)
            fill_budget(physical_device, (VkPhysicalDeviceMemoryBudgetPropertiesEXT *)item);
    }
}

static const strict_resource_shape buffer_shape = {STRICT_RESOURCE_BUFFER, false, false};

static strict_resource_shape known_image_shape(strict_device *device, VkImage image) {
    pthread_mutex_lock(&device->lock);
    strict_resource *resource = strict_handle_map_find(&device->images, (uint64_t)image);
    /* An image we never saw created is treated as optimal: the strictest case. */
    strict_resource_shape strictest = {STRICT_RESOURCE_OPTIMAL_IMAGE, false, false};
    strict_resource_shape shape = resource ? resource->shape : strictest;
    pthread_mutex_unlock(&device->lock);
    return shape;
}

static void count_requirements_query(strict_device *device) {
    pthread_mutex_lock(&device->lock);
    device->counters.requirements_queries++;
    pthread_mutex_unlock(&device->lock);
}

VKAPI_ATTR void VKAPI_CALL strict_GetBufferMemoryRequirements(VkDevice handle, VkBuffer buffer,
                                                              VkMemoryRequirements *requirements) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    count_requirements_query(device);
    if (strict_sparse_known_requirements(device, &device->buffers, (uint64_t)buffer, requirements)) return;
    device->next.GetBufferMemoryRequirements(handle, buffer, requirements);
    strict_fake_requirements(&device->physical->backing, buffer_shape, requirements);
}

VKAPI_ATTR void VKAPI_CALL strict_GetBufferMemoryRequirements2(VkDevice handle,
                                                               const VkBufferMemoryRequirementsInfo2 *info,
                                                               VkMemoryRequirements2 *requirements) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    count_requirements_query(device);
    device->next.GetBufferMemoryRequirements2(handle, info, requirements);
    if (strict_sparse_known_requirements(device, &device->buffers, (uint64_t)info->buffer,
                                         &requirements->memoryRequirements))
        return;
    strict_fake_requirements(&device->physical->backing, buffer_shape, &requirements->memoryRequirements);
}

VKAPI_ATTR void VKAPI_CALL strict_GetImageMemoryRequirements(VkDevice handle, VkImage image,
                                                             VkMemoryRequirements *requirements) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    count_requirements_query(device);
    if (strict_sparse_known_requirements(device, &device->images, (uint64_t)image, requirements)) return;
    device->next.GetImageMemoryRequirements(handle, image, requirements);
    strict_fake_requirements(&device->physical->backing, known_image_shape(device, image), requirements);
}

VKAPI_ATTR void VKAPI_CALL strict_GetImageMemoryRequirements2(VkDevice handle,
                                                              const VkImageMemoryRequirementsInfo2 *info,
                                                              VkMemoryRequirements2 *requirements) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    count_requirements_query(device);
    device->next.GetImageMemoryRequirements2(handle, info, requirements);
    if (strict_sparse_known_requirements(device, &device->images, (uint64_t)info->image,
                                         &requirements->memoryRequirements))
        return;
    strict_fake_requirements(&device->physical->backing, known_image_shape(device, info->image),
                             &requirements->memoryRequirements);
}

VKAPI_ATTR void VKAPI_CALL strict_GetDeviceBufferMemoryRequirements(VkDevice handle,
                                                                    const VkDeviceBufferMemoryRequirements *info,
                                                                    VkMemoryRequirements2 *requirements) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    /* The driver is asked about the buffer it would really make: not sparse. */
    VkBufferCreateInfo create = strict_sparse_driver_buffer_info(info->pCreateInfo);
    VkDeviceBufferMemoryRequirements driver_info = *info;
    driver_info.pCreateInfo = &create;
    device->next.GetDeviceBufferMemoryRequirements(handle, &driver_info, requirements);
    strict_fake_requirements(&device->physical->backing, strict_buffer_shape(info->pCreateInfo),
                             &requirements->memoryRequirements);
}

VKAPI_ATTR void VKAPI_CALL strict_GetDeviceImageMemoryRequirements(VkDevice handle,
                                                                   const VkDeviceImageMemoryRequirements *info,
                                                                   VkMemoryRequirements2 *requirements) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    VkImageCreateInfo create = strict_sparse_driver_image_info(info->pCreateInfo);
    VkDeviceImageMemoryRequirements driver_info = *info;
    driver_info.pCreateInfo = &create;
    device->next.GetDeviceImageMemoryRequirements(handle, &driver_info, requirements);
    strict_fake_requirements(&device->physical->backing, strict_image_shape(info->pCreateInfo),
                             &requirements->memoryRequirements);
    strict_sparse_image_requirements(info->pCreateInfo, &requirements->memoryRequirements);
}
