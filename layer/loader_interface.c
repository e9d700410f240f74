/*
 * loader_interface.c: how the Vulkan loader finds the layer's functions.
 *
 * The loader negotiates interface version 2 and then asks vkGetInstanceProcAddr /
 * vkGetDeviceProcAddr for every function. The layer answers with its own function
 * only for what it intercepts, and only where the next layer has that function
 * too; every other name gets the next layer's pointer, so calls the layer does
 * not need cost nothing.
 *
 * Instances and devices are found by their dispatch key (the loader's dispatch
 * table pointer stored at the start of every dispatchable handle) in small
 * tables that readers scan without a lock.
 */
#include <string.h>

#include "layer.h"

/* ---- registries ---------------------------------------------------------------- */

typedef struct registry {
    pthread_mutex_t lock; /* writers only */
    _Atomic(void *) keys[SUBALLOC_MAX_OBJECTS];
    _Atomic(void *) objects[SUBALLOC_MAX_OBJECTS];
} registry;

static registry instances = {.lock = PTHREAD_MUTEX_INITIALIZER};
static registry devices = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *registry_find(registry *r, void *key) {
    for (unsigned i = 0; i < SUBALLOC_MAX_OBJECTS; i++)
        if (atomic_load_explicit(&r->keys[i], memory_order_acquire) == key)
            return atomic_load_explicit(&r->objects[i], memory_order_acquire);
    return NULL;
}

static bool registry_add(registry *r, void *key, void *object) {
    bool added = false;
    pthread_mutex_lock(&r->lock);
    for (unsigned i = 0; i < SUBALLOC_MAX_OBJECTS && !added; i++) {
        if (atomic_load_explicit(&r->keys[i], memory_order_relaxed) != NULL) continue;
        atomic_store_explicit(&r->objects[i], object, memory_order_release);
        atomic_store_explicit(&r->keys[i], key, memory_order_release);
        added = true;
    }
    pthread_mutex_unlock(&r->lock);
    return added;
}

static void registry_remove(registry *r, void *object) {
    pthread_mutex_lock(&r->lock);
    for (unsigned i = 0; i < SUBALLOC_MAX_OBJECTS; i++) {
        if (atomic_load_explicit(&r->objects[i], memory_order_relaxed) != object) continue;
        atomic_store_explicit(&r->keys[i], NULL, memory_order_release);
        atomic_store_explicit(&r->objects[i], NULL, memory_order_release);
    }
    pthread_mutex_unlock(&r->lock);
}

suballoc_instance *instance_from_key(void *key) { return registry_find(&instances, key); }
suballoc_device *device_from_key(void *key) { return registry_find(&devices, key); }
bool registry_add_instance(suballoc_instance *instance) { return registry_add(&instances, instance->dispatch_key, instance); }
void registry_remove_instance(suballoc_instance *instance) { registry_remove(&instances, instance); }
bool registry_add_device(suballoc_device *device) { return registry_add(&devices, device->dispatch_key, device); }
void registry_remove_device(suballoc_device *device) { registry_remove(&devices, device); }

/* ---- name tables ----------------------------------------------------------------- */

typedef struct named_function {
    const char *name;
    PFN_vkVoidFunction function;
} named_function;

#define ENTRY(name) {"vk" #name, (PFN_vkVoidFunction)layer_##name}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetInstanceProcAddr(VkInstance instance, const char *name);
VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetDeviceProcAddr(VkDevice device, const char *name);

/* Functions that exist before any instance does, or that the layer always owns. */
static const named_function global_functions[] = {
    ENTRY(GetInstanceProcAddr),
    ENTRY(CreateInstance),
    ENTRY(DestroyInstance),
    ENTRY(CreateDevice),
    ENTRY(EnumerateInstanceExtensionProperties),
    ENTRY(EnumerateInstanceLayerProperties),
    ENTRY(EnumerateDeviceExtensionProperties),
    ENTRY(EnumerateDeviceLayerProperties),
};

/* Instance-level functions intercepted only where the next layer has them. */
static const named_function instance_functions[] = {
    ENTRY(GetPhysicalDeviceProperties),
    ENTRY(GetPhysicalDeviceProperties2),
    ENTRY(GetPhysicalDeviceProperties2KHR),
    ENTRY(CreateDebugUtilsMessengerEXT),
    ENTRY(DestroyDebugUtilsMessengerEXT),
};

/* What a device in pass-through mode still needs: counting and clean-up. */
static const named_function passthrough_device_functions[] = {
    ENTRY(GetDeviceProcAddr),
    ENTRY(DestroyDevice),
    ENTRY(AllocateMemory),
    ENTRY(FreeMemory),
};

/* Everything that carries a VkDeviceMemory or reports memory requirements. */
static const named_function device_functions[] = {
    ENTRY(MapMemory),
    ENTRY(UnmapMemory),
    ENTRY(MapMemory2KHR),
    ENTRY(UnmapMemory2KHR),
    ENTRY(FlushMappedMemoryRanges),
    ENTRY(InvalidateMappedMemoryRanges),
    ENTRY(GetDeviceMemoryCommitment),
    ENTRY(BindBufferMemory),
    ENTRY(BindImageMemory),
    ENTRY(BindBufferMemory2),
    ENTRY(BindBufferMemory2KHR),
    ENTRY(BindImageMemory2),
    ENTRY(BindImageMemory2KHR),
    ENTRY(GetBufferMemoryRequirements),
    ENTRY(GetImageMemoryRequirements),
    ENTRY(GetBufferMemoryRequirements2),
    ENTRY(GetBufferMemoryRequirements2KHR),
    ENTRY(GetImageMemoryRequirements2),
    ENTRY(GetImageMemoryRequirements2KHR),
    ENTRY(GetDeviceBufferMemoryRequirements),
    ENTRY(GetDeviceBufferMemoryRequirementsKHR),
    ENTRY(GetDeviceImageMemoryRequirements),
    ENTRY(GetDeviceImageMemoryRequirementsKHR),
    ENTRY(QueueBindSparse),
    ENTRY(SetDebugUtilsObjectNameEXT),
    ENTRY(SetDebugUtilsObjectTagEXT),
    ENTRY(DebugMarkerSetObjectNameEXT),
    ENTRY(DebugMarkerSetObjectTagEXT),
    ENTRY(SetPrivateData),
    ENTRY(SetPrivateDataEXT),
    ENTRY(GetPrivateData),
    ENTRY(GetPrivateDataEXT),
    ENTRY(SetDeviceMemoryPriorityEXT),
    ENTRY(GetDeviceMemoryOpaqueCaptureAddress),
    ENTRY(GetDeviceMemoryOpaqueCaptureAddressKHR),
    ENTRY(BindVideoSessionMemoryKHR),
    ENTRY(BindAccelerationStructureMemoryNV),
    ENTRY(GetMemoryFdKHR),
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static PFN_vkVoidFunction find_function(const named_function *table, size_t count, const char *name) {
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0) return table[i].function;
    return NULL;
}

PFN_vkVoidFunction layer_instance_function(const char *name) {
    PFN_vkVoidFunction f = find_function(global_functions, COUNT_OF(global_functions), name);
    return f != NULL ? f : find_function(instance_functions, COUNT_OF(instance_functions), name);
}

PFN_vkVoidFunction layer_device_function(const char *name) {
    PFN_vkVoidFunction f = find_function(passthrough_device_functions, COUNT_OF(passthrough_device_functions), name);
    return f != NULL ? f : find_function(device_functions, COUNT_OF(device_functions), name);
}

/* ---- vkGet*ProcAddr ------------------------------------------------------------ */

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetDeviceProcAddr(VkDevice device, const char *name) {
    if (device == VK_NULL_HANDLE || name == NULL) return NULL;
    suballoc_device *d = device_from_key(dispatch_key_of(device));
    if (d == NULL) return NULL;

    PFN_vkVoidFunction next = d->next.GetDeviceProcAddr(device, name);
    PFN_vkVoidFunction mine = find_function(passthrough_device_functions, COUNT_OF(passthrough_device_functions), name);
    if (mine == NULL && d->suballocate) mine = find_function(device_functions, COUNT_OF(device_functions), name);
    return (mine != NULL && next != NULL) ? mine : next;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetInstanceProcAddr(VkInstance instance, const char *name) {
    if (name == NULL) return NULL;
    PFN_vkVoidFunction mine = find_function(global_functions, COUNT_OF(global_functions), name);
    if (mine != NULL) return mine;
    if (instance == VK_NULL_HANDLE) return NULL;

    suballoc_instance *i = instance_from_key(dispatch_key_of(instance));
    if (i == NULL) return NULL;
    PFN_vkVoidFunction next = i->next.GetInstanceProcAddr(instance, name);
    mine = find_function(instance_functions, COUNT_OF(instance_functions), name);
    if (mine == NULL) mine = layer_device_function(name);
    return (mine != NULL && next != NULL) ? mine : next;
}

/* ---- exported symbols ------------------------------------------------------------ */

SUBALLOC_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *version) {
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
