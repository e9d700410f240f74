/* SPDX-License-Identifier: Apache-2.0 */
/*
 * instance.c: instance creation, the settings it reads, and the instance-level
 * functions the layer changes: the reported maxMemoryAllocationCount, and the
 * app's debug-utils messengers (where the layer's messages go).
 */
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "log.h"

#define LAYER_SETTINGS_EXTENSION_NAME "VK_EXT_layer_settings"
#define LAYER_SETTINGS_SPEC_VERSION 2

static const VkLayerProperties layer_properties = {
    .layerName = SUBALLOC_LAYER_NAME,
    .specVersion = VK_HEADER_VERSION_COMPLETE,
    .implementationVersion = 1,
    .description = "Transparent device-memory sub-allocation",
};

static const VkExtensionProperties layer_instance_extensions[] = {
    {LAYER_SETTINGS_EXTENSION_NAME, LAYER_SETTINGS_SPEC_VERSION},
};

static VkLayerInstanceCreateInfo *find_link_info(const VkInstanceCreateInfo *info) {
    for (const VkBaseInStructure *s = info->pNext; s != NULL; s = s->pNext) {
        if (s->sType != VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO) continue;
        VkLayerInstanceCreateInfo *link = (VkLayerInstanceCreateInfo *)s;
        if (link->function == VK_LAYER_LINK_INFO) return link;
    }
    return NULL;
}

/* The layer implements VK_EXT_layer_settings itself; the layers below may not. */
static uint32_t strip_own_extensions(const VkInstanceCreateInfo *info, const char **kept) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < info->enabledExtensionCount; i++)
        if (strcmp(info->ppEnabledExtensionNames[i], LAYER_SETTINGS_EXTENSION_NAME) != 0)
            kept[count++] = info->ppEnabledExtensionNames[i];
    return count;
}

/* Every next-layer function of functions.h; NULL where the chain lacks one. */
static void load_dispatch(suballoc_instance *instance, PFN_vkGetInstanceProcAddr gipa) {
    VkInstance h = instance->handle;
    instance_dispatch *d = &instance->next;
    d->GetInstanceProcAddr = gipa;
#define LOAD(name) d->name = (PFN_vk##name)gipa(h, "vk" #name);
    INSTANCE_OWN_FUNCTIONS(LOAD)
    INSTANCE_FUNCTIONS(LOAD)
    INSTANCE_CALLED(LOAD)
#undef LOAD
    /* The KHR name where the 1.1 one is missing (a 1.0 instance). */
    if (d->GetPhysicalDeviceMemoryProperties2 == NULL)
        d->GetPhysicalDeviceMemoryProperties2 = d->GetPhysicalDeviceMemoryProperties2KHR;
}

static suballoc_instance *instance_new(const VkInstanceCreateInfo *info) {
    suballoc_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) return NULL;
    pthread_mutex_init(&instance->messengers_lock, NULL);
    instance->api_version = (info->pApplicationInfo != NULL && info->pApplicationInfo->apiVersion != 0)
                                ? info->pApplicationInfo->apiVersion
                                : VK_API_VERSION_1_0;
    instance->creating_info = info;
    /* Loaded in place: a report of a bad value already honours the log_level and
     * log_file settings read before it. */
    suballoc_settings_load(&instance->settings, info, layer_log_settings_report, instance);
    return instance;
}

static void instance_delete(suballoc_instance *instance) {
    app_messenger *m = instance->messengers;
    while (m != NULL) {
        app_messenger *next = m->next;
        free(m);
        m = next;
    }
    pthread_mutex_destroy(&instance->messengers_lock);
    free(instance);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_CreateInstance(const VkInstanceCreateInfo *info,
                                                    const VkAllocationCallbacks *allocator, VkInstance *out) {
    VkLayerInstanceCreateInfo *link = find_link_info(info);
    if (link == NULL || link->u.pLayerInfo == NULL) return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkCreateInstance next_create = (PFN_vkCreateInstance)next_gipa(VK_NULL_HANDLE, "vkCreateInstance");
    if (next_create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
    link->u.pLayerInfo = link->u.pLayerInfo->pNext; /* the next layer finds its own link */

    suballoc_instance *instance = instance_new(info);
    if (instance == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    if (instance->settings.mode == SUBALLOC_MODE_SUBALLOCATE && !memory_records_init()) {
        LAYER_LOG(instance, SUBALLOC_LOG_ERROR,
                  "cannot reserve address space for memory records; passing every allocation to the driver");
        instance->settings.mode = SUBALLOC_MODE_PASSTHROUGH;
    }

    /* Everything that can fail happens before the next layer makes its instance:
     * once it exists, the loader owns its clean-up, and the layer must not fail. */
    const char **extensions = malloc((info->enabledExtensionCount + 1) * sizeof *extensions);
    if (extensions == NULL || !registry_reserve_instance()) {
        free(extensions);
        instance_delete(instance);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    VkInstanceCreateInfo next_info = *info;
    next_info.enabledExtensionCount = strip_own_extensions(info, extensions);
    next_info.ppEnabledExtensionNames = extensions;
    VkResult result = next_create(&next_info, allocator, out);
    free(extensions);
    instance->creating_info = NULL;
    if (result != VK_SUCCESS) {
        registry_cancel_instance();
        instance_delete(instance);
        return result;
    }

    instance->handle = *out;
    instance->dispatch_key = dispatch_key_of(*out);
    load_dispatch(instance, next_gipa);
    registry_add_instance(instance);
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyInstance(VkInstance handle, const VkAllocationCallbacks *allocator) {
    if (handle == VK_NULL_HANDLE) return;
    suballoc_instance *instance = instance_from_key(dispatch_key_of(handle));
    if (instance == NULL) return;
    instance->creating_info = NULL;
    registry_remove_instance(instance);
    instance->next.DestroyInstance(handle, allocator);
    instance_delete(instance);
}

/* ---- the reported allocation limit ----------------------------------------------- */

static void raise_allocation_limit(const suballoc_instance *instance, VkPhysicalDeviceProperties *properties) {
    const suballoc_settings *s = &instance->settings;
    if (s->mode == SUBALLOC_MODE_SUBALLOCATE && s->reported_allocation_limit != 0)
        properties->limits.maxMemoryAllocationCount = s->reported_allocation_limit;
}

VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceProperties(VkPhysicalDevice physical_device,
                                                             VkPhysicalDeviceProperties *properties) {
    suballoc_instance *instance = instance_from_key(dispatch_key_of(physical_device));
    instance->next.GetPhysicalDeviceProperties(physical_device, properties);
    raise_allocation_limit(instance, properties);
}

VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceProperties2(VkPhysicalDevice physical_device,
                                                              VkPhysicalDeviceProperties2 *properties) {
    suballoc_instance *instance = instance_from_key(dispatch_key_of(physical_device));
    instance->next.GetPhysicalDeviceProperties2(physical_device, properties);
    raise_allocation_limit(instance, &properties->properties);
}

VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceProperties2KHR(VkPhysicalDevice physical_device,
                                                                 VkPhysicalDeviceProperties2 *properties) {
    suballoc_instance *instance = instance_from_key(dispatch_key_of(physical_device));
    instance->next.GetPhysicalDeviceProperties2KHR(physical_device, properties);
    raise_allocation_limit(instance, &properties->properties);
}

/* ---- the app's messengers --------------------------------------------------------- */

VKAPI_ATTR VkResult VKAPI_CALL layer_CreateDebugUtilsMessengerEXT(VkInstance handle,
                                                                  const VkDebugUtilsMessengerCreateInfoEXT *info,
                                                                  const VkAllocationCallbacks *allocator,
                                                                  VkDebugUtilsMessengerEXT *out) {
    suballoc_instance *instance = instance_from_key(dispatch_key_of(handle));
    VkResult result = instance->next.CreateDebugUtilsMessengerEXT(handle, info, allocator, out);
    if (result != VK_SUCCESS) return result;

    app_messenger *m = calloc(1, sizeof *m);
    if (m == NULL) return VK_SUCCESS; /* the app's messenger works; it just won't hear the layer */
    m->handle = *out;
    m->info = *info;
    m->info.pNext = NULL;
    pthread_mutex_lock(&instance->messengers_lock);
    m->next = instance->messengers;
    instance->messengers = m;
    pthread_mutex_unlock(&instance->messengers_lock);
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyDebugUtilsMessengerEXT(VkInstance handle, VkDebugUtilsMessengerEXT messenger,
                                                               const VkAllocationCallbacks *allocator) {
    suballoc_instance *instance = instance_from_key(dispatch_key_of(handle));
    pthread_mutex_lock(&instance->messengers_lock);
    for (app_messenger **p = &instance->messengers; *p != NULL; p = &(*p)->next) {
        if ((*p)->handle != messenger) continue;
        app_messenger *gone = *p;
        *p = gone->next;
        free(gone);
        break;
    }
    pthread_mutex_unlock(&instance->messengers_lock);
    instance->next.DestroyDebugUtilsMessengerEXT(handle, messenger, allocator);
}

/* ---- enumeration --------------------------------------------------------------- */

static VkResult copy_out(const void *items, uint32_t available, size_t item_size, uint32_t *count, void *out) {
    if (out == NULL) {
        *count = available;
        return VK_SUCCESS;
    }
    uint32_t n = *count < available ? *count : available;
    if (n > 0) memcpy(out, items, n * item_size);
    *count = n;
    return n < available ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateInstanceLayerProperties(uint32_t *count, VkLayerProperties *properties) {
    return copy_out(&layer_properties, 1, sizeof layer_properties, count, properties);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateDeviceLayerProperties(VkPhysicalDevice physical_device, uint32_t *count,
                                                                    VkLayerProperties *properties) {
    (void)physical_device;
    return copy_out(&layer_properties, 1, sizeof layer_properties, count, properties);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateInstanceExtensionProperties(const char *layer_name, uint32_t *count,
                                                                          VkExtensionProperties *properties) {
    if (layer_name == NULL || strcmp(layer_name, SUBALLOC_LAYER_NAME) != 0) return VK_ERROR_LAYER_NOT_PRESENT;
    return copy_out(layer_instance_extensions, 1, sizeof layer_instance_extensions[0], count, properties);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateDeviceExtensionProperties(VkPhysicalDevice physical_device,
                                                                        const char *layer_name, uint32_t *count,
                                                                        VkExtensionProperties *properties) {
    if (layer_name != NULL && strcmp(layer_name, SUBALLOC_LAYER_NAME) == 0)
        return copy_out(NULL, 0, 0, count, properties);
    suballoc_instance *instance = instance_from_key(dispatch_key_of(physical_device));
    if (instance == NULL) return VK_ERROR_INITIALIZATION_FAILED;
    return instance->next.EnumerateDeviceExtensionProperties(physical_device, layer_name, count, properties);
}
