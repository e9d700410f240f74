/* strict_control.c: the TEST entry points tests reach via vkGetDeviceProcAddr. */
#include "strict_layer_internal.h"

VKAPI_ATTR void VKAPI_CALL strict_GetCountersTEST(VkDevice handle, StrictDeviceCounters *counters)
{
    StrictDevice *device = strict_registry_device(handle);
    if (!device || !counters) {
        strict_layer_error("vkStrictDeviceGetCountersTEST: unknown device or NULL counters");
        return;
    }
    pthread_mutex_lock(&device->lock);
    *counters = device->counters;
    pthread_mutex_unlock(&device->lock);
}

VKAPI_ATTR void VKAPI_CALL strict_InjectFaultTEST(VkDevice handle, StrictDeviceFault kind, uint64_t nth,
                                                  VkBool32 repeat)
{
    StrictDevice *device = strict_registry_device(handle);
    if (!device || (kind != STRICT_DEVICE_FAULT_ALLOCATE && kind != STRICT_DEVICE_FAULT_MAP)) {
        strict_layer_error("vkStrictDeviceInjectFaultTEST: unknown device or fault kind %d", (int)kind);
        return;
    }
    pthread_mutex_lock(&device->lock);
    strict_fault_arm(kind == STRICT_DEVICE_FAULT_ALLOCATE ? &device->allocate_fault : &device->map_fault, nth,
                     repeat);
    pthread_mutex_unlock(&device->lock);
}

VKAPI_ATTR void VKAPI_CALL strict_SetAllocationSizeLimitTEST(VkDevice handle, VkDeviceSize max_bytes)
{
    StrictDevice *device = strict_registry_device(handle);
    if (!device) {
        strict_layer_error("vkStrictDeviceSetAllocationSizeLimitTEST: unknown device");
        return;
    }
    pthread_mutex_lock(&device->lock);
    device->allocation_size_limit = max_bytes;
    pthread_mutex_unlock(&device->lock);
}

VKAPI_ATTR VkBool32 VKAPI_CALL strict_IsDriverMemoryTEST(VkDevice handle, VkDeviceMemory memory)
{
    StrictDevice *device = strict_registry_device(handle);
    if (!device)
        return VK_FALSE;
    pthread_mutex_lock(&device->lock);
    VkBool32 known = strict_find_memory(device, memory) != NULL;
    pthread_mutex_unlock(&device->lock);
    return known;
}

VKAPI_ATTR uint64_t VKAPI_CALL strict_GetViolationCountTEST(VkDevice handle, StrictDeviceViolation kind)
{
    StrictDevice *device = strict_registry_device(handle);
    if (!device || (unsigned)kind >= STRICT_DEVICE_VIOLATION_KIND_COUNT)
        return 0;
    pthread_mutex_lock(&device->lock);
    uint64_t count = device->violation_counts[kind];
    pthread_mutex_unlock(&device->lock);
    return count;
}
