/*
 * device.c: creating a device (its dispatch, its memory facts) and destroying
 * it (every block back to the driver, leaks reported, statistics written).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static VkLayerDeviceCreateInfo *find_link_info(const VkDeviceCreateInfo *info) {
    for (const VkBaseInStructure *s = info->pNext; s != NULL; s = s->pNext) {
        if (s->sType != VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO) continue;
        VkLayerDeviceCreateInfo *link = (VkLayerDeviceCreateInfo *)s;
        if (link->function == VK_LAYER_LINK_INFO) return link;
    }
    return NULL;
}

static void load_dispatch(suballoc_device *device, PFN_vkGetDeviceProcAddr gdpa) {
    VkDevice h = device->handle;
    device_dispatch *d = &device->next;
    d->GetDeviceProcAddr = gdpa;
#define LOAD(name) d->name = (PFN_vk##name)gdpa(h, "vk" #name)
#define LOAD_AS(name, type) d->name = (type)gdpa(h, "vk" #name)
    LOAD(DestroyDevice);
    LOAD(AllocateMemory);
    LOAD(FreeMemory);
    LOAD(MapMemory);
    LOAD(UnmapMemory);
    LOAD(MapMemory2KHR);
    LOAD(UnmapMemory2KHR);
    LOAD(FlushMappedMemoryRanges);
    LOAD(InvalidateMappedMemoryRanges);
    LOAD(GetDeviceMemoryCommitment);
    LOAD(BindBufferMemory);
    LOAD(BindImageMemory);
    LOAD(BindBufferMemory2);
    LOAD_AS(BindBufferMemory2KHR, PFN_vkBindBufferMemory2);
    LOAD(BindImageMemory2);
    LOAD_AS(BindImageMemory2KHR, PFN_vkBindImageMemory2);
    LOAD(GetBufferMemoryRequirements);
    LOAD(GetImageMemoryRequirements);
    LOAD(GetBufferMemoryRequirements2);
    LOAD_AS(GetBufferMemoryRequirements2KHR, PFN_vkGetBufferMemoryRequirements2);
    LOAD(GetImageMemoryRequirements2);
    LOAD_AS(GetImageMemoryRequirements2KHR, PFN_vkGetImageMemoryRequirements2);
    LOAD(GetDeviceBufferMemoryRequirements);
    LOAD_AS(GetDeviceBufferMemoryRequirementsKHR, PFN_vkGetDeviceBufferMemoryRequirements);
    LOAD(GetDeviceImageMemoryRequirements);
    LOAD_AS(GetDeviceImageMemoryRequirementsKHR, PFN_vkGetDeviceImageMemoryRequirements);
    LOAD(QueueBindSparse);
    LOAD(GetImageSparseMemoryRequirements);
    LOAD(SetDebugUtilsObjectNameEXT);
    LOAD(SetDebugUtilsObjectTagEXT);
    LOAD(DebugMarkerSetObjectNameEXT);
    LOAD(DebugMarkerSetObjectTagEXT);
    LOAD(SetPrivateData);
    LOAD_AS(SetPrivateDataEXT, PFN_vkSetPrivateData);
    LOAD(GetPrivateData);
    LOAD_AS(GetPrivateDataEXT, PFN_vkGetPrivateData);
    LOAD(SetDeviceMemoryPriorityEXT);
    LOAD(GetDeviceMemoryOpaqueCaptureAddress);
    LOAD_AS(GetDeviceMemoryOpaqueCaptureAddressKHR, PFN_vkGetDeviceMemoryOpaqueCaptureAddress);
    LOAD(BindVideoSessionMemoryKHR);
    LOAD(GetVideoSessionMemoryRequirementsKHR);
    LOAD(BindAccelerationStructureMemoryNV);
    LOAD(GetAccelerationStructureMemoryRequirementsNV);
    LOAD(GetMemoryFdKHR);
#undef LOAD
#undef LOAD_AS
}

static bool device_supports_extension(suballoc_instance *instance, VkPhysicalDevice physical_device, const char *name) {
    uint32_t count = 0;
    if (instance->next.EnumerateDeviceExtensionProperties(physical_device, NULL, &count, NULL) != VK_SUCCESS) return false;
    VkExtensionProperties *all = calloc(count, sizeof *all);
    if (all == NULL) return false;
    bool found = false;
    if (instance->next.EnumerateDeviceExtensionProperties(physical_device, NULL, &count, all) == VK_SUCCESS)
        for (uint32_t i = 0; i < count && !found; i++) found = strcmp(all[i].extensionName, name) == 0;
    free(all);
    return found;
}

/* The device's memory facts, through the layers below (a test layer may reshape them). */
static void read_memory_facts(suballoc_device *device) {
    suballoc_instance *instance = device->instance;
    VkPhysicalDeviceProperties properties;
    instance->next.GetPhysicalDeviceProperties(device->physical_device, &properties);
    instance->next.GetPhysicalDeviceMemoryProperties(device->physical_device, &device->memory);
    snprintf(device->name, sizeof device->name, "%s", properties.deviceName);
    device->buffer_image_granularity = properties.limits.bufferImageGranularity;
    device->non_coherent_atom_size = properties.limits.nonCoherentAtomSize;
    device->min_memory_map_alignment = properties.limits.minMemoryMapAlignment;
    device->driver_allocation_limit = properties.limits.maxMemoryAllocationCount;
    /* The budget query is vkGetPhysicalDeviceMemoryProperties2: core from Vulkan 1.1,
     * so only an instance of 1.1 or later may be asked it. */
    device->has_memory_budget = instance->api_version >= VK_API_VERSION_1_1 &&
                                instance->next.GetPhysicalDeviceMemoryProperties2 != NULL &&
                                device_supports_extension(instance, device->physical_device, "VK_EXT_memory_budget");
    device_init_memory_types(device);
}

static suballoc_device *device_new(suballoc_instance *instance, VkPhysicalDevice physical_device) {
    suballoc_device *device = calloc(1, sizeof *device);
    if (device == NULL) return NULL;
    device->instance = instance;
    device->physical_device = physical_device;
    device->settings = &instance->settings;
    device->suballocate = instance->settings.mode == SUBALLOC_MODE_SUBALLOCATE;
    pthread_mutex_init(&device->pools_lock, NULL);
    pthread_mutex_init(&device->private_data_lock, NULL);
    if (!passthrough_set_init(&device->passthrough)) {
        passthrough_set_destroy(&device->passthrough);
        free(device);
        return NULL;
    }
    return device;
}

static void device_delete(suballoc_device *device) {
    passthrough_set_destroy(&device->passthrough);
    pthread_mutex_destroy(&device->pools_lock);
    pthread_mutex_destroy(&device->private_data_lock);
    free(device);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_CreateDevice(VkPhysicalDevice physical_device, const VkDeviceCreateInfo *info,
                                                   const VkAllocationCallbacks *allocator, VkDevice *out) {
    suballoc_instance *instance = instance_from_key(dispatch_key_of(physical_device));
    VkLayerDeviceCreateInfo *link = find_link_info(info);
    if (instance == NULL || link == NULL || link->u.pLayerInfo == NULL) return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkGetDeviceProcAddr next_gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
    PFN_vkCreateDevice next_create = (PFN_vkCreateDevice)next_gipa(instance->handle, "vkCreateDevice");
    if (next_create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
    link->u.pLayerInfo = link->u.pLayerInfo->pNext;

    suballoc_device *device = device_new(instance, physical_device);
    if (device == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkResult result = next_create(physical_device, info, allocator, out);
    if (result != VK_SUCCESS) {
        device_delete(device);
        return result;
    }
    device->handle = *out;
    device->dispatch_key = dispatch_key_of(*out);
    load_dispatch(device, next_gdpa);
    read_memory_facts(device);
    if (!registry_add_device(device)) {
        LOG_ERROR(device, "more than %d live devices; refusing another", SUBALLOC_MAX_OBJECTS);
        device->next.DestroyDevice(*out, allocator);
        device_delete(device);
        *out = VK_NULL_HANDLE;
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    LOG_INFO(device, "device \"%s\": %s, %u memory types, granularity %llu, atom %llu, driver allocation limit %u",
             device->name, device->suballocate ? "sub-allocating" : "pass-through mode", device->memory.memoryTypeCount,
             (unsigned long long)device->buffer_image_granularity, (unsigned long long)device->non_coherent_atom_size,
             device->driver_allocation_limit);
    return VK_SUCCESS;
}

static void free_leaked_passthrough(void *user, VkDeviceMemory memory) {
    driver_free(user, memory);
}

static uint64_t count_live_suballocations(suballoc_device *device) {
    uint64_t live = 0;
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++)
        for (suballoc_pool *p = atomic_load(&device->types[t].pools); p != NULL; p = atomic_load(&p->next_in_type)) {
            pool_lock_acquire(&p->lock);
            live += p->counters.live;
            pool_lock_release(&p->lock);
        }
    return live;
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyDevice(VkDevice handle, const VkAllocationCallbacks *allocator) {
    if (handle == VK_NULL_HANDLE) return;
    suballoc_device *device = device_from_key(dispatch_key_of(handle));
    if (device == NULL) return;

    uint64_t leaked = count_live_suballocations(device) + atomic_load(&device->counters.passthrough_live);
    stats_write(device, leaked);
    if (leaked > 0)
        LOG_WARNING(device, "vkDestroyDevice: %llu app allocations were never freed%s", (unsigned long long)leaked,
                    device->suballocate ? "; the layer releases them" : "");
    device_release_pools(device);
    passthrough_set_drain(&device->passthrough, free_leaked_passthrough, device);
    private_data_release_all(device);

    registry_remove_device(device);
    device->next.DestroyDevice(handle, allocator);
    device_delete(device);
}
