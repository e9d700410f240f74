/* SPDX-License-Identifier: Apache-2.0 */
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

/* Every next-layer function of functions.h; NULL where the chain lacks one.
 * Commands of instance extensions that take a device come from the instance
 * chain: the next vkGetDeviceProcAddr may not have them (VK_EXT_debug_utils
 * when the app did not enable it, yet calls it, as libplacebo does). */
static void load_dispatch(suballoc_device *device, PFN_vkGetDeviceProcAddr gdpa) {
    VkDevice h = device->handle;
    device_dispatch *d = &device->next;
    const suballoc_instance *instance = device->instance;
#define LOAD(name) d->name = (PFN_vk##name)gdpa(h, "vk" #name);
#define LOAD_FROM_INSTANCE(name)                                                              \
    d->name = (PFN_vk##name)instance->next.GetInstanceProcAddr(instance->handle, "vk" #name); \
    if (d->name == NULL) LOAD(name)
    DEVICE_COUNTED(LOAD)
    DEVICE_FUNCTIONS(LOAD)
    DEVICE_VIA_INSTANCE(LOAD_FROM_INSTANCE)
    DEVICE_CALLED(LOAD)
#undef LOAD
#undef LOAD_FROM_INSTANCE
    d->GetDeviceProcAddr = gdpa;
}

static bool device_supports_extension(suballoc_instance *instance, VkPhysicalDevice physical_device, const char *name) {
    uint32_t count = 0;
    if (instance->next.EnumerateDeviceExtensionProperties(physical_device, NULL, &count, NULL) != VK_SUCCESS)
        return false;
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

static void read_enabled_features(const VkDeviceCreateInfo *info, device_features *out) {
    const VkPhysicalDeviceFeatures *core = info->pEnabledFeatures;
    for (const VkBaseInStructure *s = info->pNext; s != NULL; s = s->pNext) {
        if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2)
            core = &((const VkPhysicalDeviceFeatures2 *)s)->features;
        else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_BUFFER_DEVICE_ADDRESS_FEATURES)
            out->buffer_device_address |= ((const VkPhysicalDeviceBufferDeviceAddressFeatures *)s)->bufferDeviceAddress;
        else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES)
            out->buffer_device_address |= ((const VkPhysicalDeviceVulkan12Features *)s)->bufferDeviceAddress;
    }
    if (core != NULL) {
        out->sparse_binding = core->sparseBinding;
        out->sparse_residency_buffer = core->sparseResidencyBuffer;
        out->sparse_residency_image_2d = core->sparseResidencyImage2D;
    }
}

static suballoc_device *device_new(suballoc_instance *instance, VkPhysicalDevice physical_device) {
    static _Atomic uint32_t next_serial = 1;
    suballoc_device *device = calloc(1, sizeof *device);
    if (device == NULL) return NULL;
    device->serial = atomic_fetch_add_explicit(&next_serial, 1, memory_order_relaxed);
    device->instance = instance;
    device->physical_device = physical_device;
    device->settings = &instance->settings;
    device->suballocate = instance->settings.mode == SUBALLOC_MODE_SUBALLOCATE;
    device->track_passthrough = device->suballocate || stats_wanted(&instance->settings);
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

    /* Everything that can fail happens before the next layer makes its device:
     * once it exists, the layer must not fail the call. */
    suballoc_device *device = device_new(instance, physical_device);
    if (device == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    if (!registry_reserve_device()) {
        device_delete(device);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    VkResult result = next_create(physical_device, info, allocator, out);
    if (result != VK_SUCCESS) {
        registry_cancel_device();
        device_delete(device);
        return result;
    }
    device->handle = *out;
    device->dispatch_key = dispatch_key_of(*out);
    load_dispatch(device, next_gdpa);
    read_memory_facts(device);
    read_enabled_features(info, &device->features);
    if (device->suballocate) placement_probe_alignments(device);
    stats_json_device_created(device);
    registry_add_device(device);
    LOG_INFO(device, "device \"%s\": %s, %u memory types, granularity %llu, atom %llu, driver allocation limit %u",
             device->name, device->suballocate ? "sub-allocating" : "pass-through mode", device->memory.memoryTypeCount,
             (unsigned long long)device->buffer_image_granularity, (unsigned long long)device->non_coherent_atom_size,
             device->driver_allocation_limit);
    return VK_SUCCESS;
}

static void free_leaked_passthrough(void *user, VkDeviceMemory memory, uint64_t size) {
    driver_free(user, memory, size);
}

/* Pass-through mode leaves the app's leaks to the driver, as no layer would. */
static void forget_passthrough(void *user, VkDeviceMemory memory, uint64_t size) {
    (void)user, (void)memory, (void)size;
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyDevice(VkDevice handle, const VkAllocationCallbacks *allocator) {
    if (handle == VK_NULL_HANDLE) return;
    suballoc_device *device = DEVICE_OF(handle);
    if (device == NULL) return;

#ifdef SUBALLOC_EXPENSIVE_CHECKS
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++)
        for (suballoc_pool *p = atomic_load(&device->types[t].pools); p != NULL; p = atomic_load(&p->next_in_type))
            pool_check_or_abort(p, "the app's last call before vkDestroyDevice");
#endif
    uint64_t leaked = stats_live_suballocations(device) + atomic_load(&device->counters.passthrough_live);
    stats_write(device, leaked);
    stats_json_device_destroying(device); /* the leaks are still in their blocks */
    if (leaked > 0)
        LOG_WARNING(device, "vkDestroyDevice: %llu app allocations were never freed%s", (unsigned long long)leaked,
                    device->suballocate ? "; the layer releases them" : "");
    device_release_pools(device);
    passthrough_set_drain(&device->passthrough, device->suballocate ? free_leaked_passthrough : forget_passthrough,
                          device);
    private_data_release_all(device);

    registry_remove_device(device);
    device->next.DestroyDevice(handle, allocator);
    device_delete(device);
}
