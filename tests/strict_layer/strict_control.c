/* SPDX-License-Identifier: Apache-2.0 */
/* strict_control.c: the TEST entry points tests reach via vkGetDeviceProcAddr. */
#include "strict_layer_internal.h"

VKAPI_ATTR void VKAPI_CALL strict_GetCountersTEST(VkDevice handle, StrictDeviceCounters *counters) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !counters) {
        strict_layer_error("vkStrictDeviceGetCountersTEST: unknown device or NULL counters");
        return;
    }
    pthread_mutex_lock(&device->lock);
    *counters = device->counters;
    pthread_mutex_unlock(&device->lock);
}

VKAPI_ATTR void VKAPI_CALL strict_InjectFaultTEST(VkDevice handle, StrictDeviceFault kind, uint64_t nth,
                                                  VkBool32 repeat) {
    strict_device *device = strict_registry_device(handle);
    if (!device || (kind != STRICT_DEVICE_FAULT_ALLOCATE && kind != STRICT_DEVICE_FAULT_MAP)) {
        strict_layer_error("vkStrictDeviceInjectFaultTEST: unknown device or fault kind %d", (int)kind);
        return;
    }
    pthread_mutex_lock(&device->lock);
    strict_fault_arm(kind == STRICT_DEVICE_FAULT_ALLOCATE ? &device->allocate_fault : &device->map_fault, nth, repeat);
    pthread_mutex_unlock(&device->lock);
}

VKAPI_ATTR void VKAPI_CALL strict_SetAllocationSizeLimitTEST(VkDevice handle, VkDeviceSize max_bytes) {
    strict_device *device = strict_registry_device(handle);
    if (!device) {
        strict_layer_error("vkStrictDeviceSetAllocationSizeLimitTEST: unknown device");
        return;
    }
    pthread_mutex_lock(&device->lock);
    device->allocation_size_limit = max_bytes;
    pthread_mutex_unlock(&device->lock);
}

VKAPI_ATTR VkBool32 VKAPI_CALL strict_IsDriverMemoryTEST(VkDevice handle, VkDeviceMemory memory) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_FALSE;
    pthread_mutex_lock(&device->lock);
    VkBool32 known = strict_find_memory(device, memory) != NULL;
    pthread_mutex_unlock(&device->lock);
    return known;
}

VKAPI_ATTR uint64_t VKAPI_CALL strict_GetViolationCountTEST(VkDevice handle, StrictDeviceViolation kind) {
    strict_device *device = strict_registry_device(handle);
    if (!device || (unsigned)kind >= STRICT_DEVICE_VIOLATION_KIND_COUNT) return 0;
    pthread_mutex_lock(&device->lock);
    uint64_t count = device->violation_counts[kind];
    pthread_mutex_unlock(&device->lock);
    return count;
}

VKAPI_ATTR void VKAPI_CALL strict_GetSparseBindsTEST(VkDevice handle, uint32_t *count, StrictDeviceSparseBind *binds) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !count || (*count && !binds)) {
        strict_layer_error("vkStrictDeviceGetSparseBindsTEST: unknown device or NULL output");
        if (count) *count = 0;
        return;
    }
    pthread_mutex_lock(&device->lock);
    uint64_t total = device->counters.sparse_binds;
    uint64_t kept = total < STRICT_DEVICE_SPARSE_BIND_HISTORY ? total : STRICT_DEVICE_SPARSE_BIND_HISTORY;
    uint32_t copied = *count < kept ? *count : (uint32_t)kept;
    for (uint32_t i = 0; i < copied; i++)
        binds[i] = device->sparse_history[(total - copied + i) % STRICT_DEVICE_SPARSE_BIND_HISTORY];
    pthread_mutex_unlock(&device->lock);
    *count = copied;
}

VKAPI_ATTR VkBool32 VKAPI_CALL strict_GetObjectMarkerTEST(VkDevice handle, VkDebugReportObjectTypeEXT type,
                                                          uint64_t object, StrictDeviceObjectMarker *marker) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !marker) {
        strict_layer_error("vkStrictDeviceGetObjectMarkerTEST: unknown device or NULL marker");
        return VK_FALSE;
    }
    pthread_mutex_lock(&device->lock);
    bool found = strict_markers_read(device, type, object, marker);
    pthread_mutex_unlock(&device->lock);
    return found;
}

VKAPI_ATTR VkBool32 VKAPI_CALL strict_GetMemoryPriorityTEST(VkDevice handle, VkDeviceMemory memory, float *priority) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !priority) return VK_FALSE;
    pthread_mutex_lock(&device->lock);
    const strict_memory *record = strict_find_memory(device, memory);
    if (record) *priority = record->priority;
    pthread_mutex_unlock(&device->lock);
    return record != NULL;
}

VKAPI_ATTR VkBool32 VKAPI_CALL strict_GetBufferBindingTEST(VkDevice handle, VkBuffer buffer, VkDeviceMemory *memory,
                                                           VkDeviceSize *offset) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !memory || !offset) return VK_FALSE;
    pthread_mutex_lock(&device->lock);
    const strict_resource *resource = strict_handle_map_find(&device->buffers, (uint64_t)buffer);
    bool bound = resource && resource->memory;
    if (bound) {
        *memory = resource->memory->handle;
        *offset = resource->offset;
    }
    pthread_mutex_unlock(&device->lock);
    return bound;
}
