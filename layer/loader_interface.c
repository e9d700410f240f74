/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader_interface.c: how the Vulkan loader finds the layer's functions.
 *
 * The loader negotiates interface version 2 and then asks vkGetInstanceProcAddr /
 * vkGetDeviceProcAddr for every function. The layer answers with its own
 * function only for what it intercepts (functions.h lists them, by how they are
 * treated), and only where the next layer has that function too; every other
 * name gets the next layer's answer, so calls the layer does not need cost
 * nothing and a function the chain lacks stays NULL.
 */
#include <string.h>

#include "layer.h"

typedef struct named_function {
    const char *name;
    PFN_vkVoidFunction function;
} named_function;

#define NAMED(name) {"vk" #name, (PFN_vkVoidFunction)layer_##name},

/* Answered before any instance exists, and for every instance. */
static const named_function loader_functions[] = {LOADER_FUNCTIONS(NAMED) INSTANCE_OWN_FUNCTIONS(NAMED)};
static const named_function instance_functions[] = {INSTANCE_FUNCTIONS(NAMED)};
/* What a device in pass-through mode still needs: counting and clean-up. */
static const named_function counted_device_functions[] = {DEVICE_COUNTED(NAMED)};
/* Everything that carries a VkDeviceMemory or reports memory requirements. */
static const named_function device_functions[] = {DEVICE_FUNCTIONS(NAMED) DEVICE_VIA_INSTANCE(NAMED)};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static PFN_vkVoidFunction find_function(const named_function *table, size_t count, const char *name) {
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0) return table[i].function;
    return NULL;
}

/* The layer's own function for a device-level name, given the device's mode. */
static PFN_vkVoidFunction own_device_function(const char *name, bool suballocate) {
    PFN_vkVoidFunction mine = find_function(counted_device_functions, COUNT_OF(counted_device_functions), name);
    if (mine == NULL && suballocate) mine = find_function(device_functions, COUNT_OF(device_functions), name);
    return mine;
}

/* ---- vkGet*ProcAddr ------------------------------------------------------------ */

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetDeviceProcAddr(VkDevice device, const char *name) {
    if (device == VK_NULL_HANDLE || name == NULL) return NULL;
    suballoc_device *d = DEVICE_OF(device);
    if (d == NULL) return NULL;

    PFN_vkVoidFunction next = d->next.GetDeviceProcAddr(device, name);
    PFN_vkVoidFunction mine = own_device_function(name, d->suballocate);
    return (mine != NULL && next != NULL) ? mine : next;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetInstanceProcAddr(VkInstance instance, const char *name) {
    if (name == NULL) return NULL;
    PFN_vkVoidFunction mine = find_function(loader_functions, COUNT_OF(loader_functions), name);
    if (mine != NULL) return mine;
    if (instance == VK_NULL_HANDLE) return NULL;

    suballoc_instance *i = instance_from_key(dispatch_key_of(instance));
    if (i == NULL) return NULL;
    PFN_vkVoidFunction next = i->next.GetInstanceProcAddr(instance, name);
    mine = find_function(instance_functions, COUNT_OF(instance_functions), name);
    /* Device functions fetched through the instance: which device they will be
     * called on is not known yet, so hand out the layer's whenever devices of
     * this instance may sub-allocate; each checks its next pointer itself. */
    if (mine == NULL) mine = own_device_function(name, i->settings.mode == SUBALLOC_MODE_SUBALLOCATE);
    return (mine != NULL && next != NULL) ? mine : next;
}

/* ---- exported symbols ------------------------------------------------------------ */

SUBALLOC_EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *version) {
    if (version == NULL || version->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT) return VK_ERROR_INITIALIZATION_FAILED;
    if (version->loaderLayerInterfaceVersion < 2) return VK_ERROR_INITIALIZATION_FAILED;
    version->loaderLayerInterfaceVersion = 2;
    version->pfnGetInstanceProcAddr = layer_GetInstanceProcAddr;
    version->pfnGetDeviceProcAddr = layer_GetDeviceProcAddr;
    version->pfnGetPhysicalDeviceProcAddr = NULL;
    return VK_SUCCESS;
}

SUBALLOC_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char *name) {
    return layer_GetInstanceProcAddr(instance, name);
}

SUBALLOC_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char *name) {
    return layer_GetDeviceProcAddr(device, name);
}
