/* SPDX-License-Identifier: Apache-2.0 */
/* strict_memory.c: vkAllocateMemory and vkFreeMemory on the fake types:
 * allocation count, heap sizes, size limit and injected faults, and each
 * allocation's VK_EXT_memory_priority priority. */
#include <stdlib.h>

#include "strict_layer_internal.h"

strict_memory *strict_find_memory(strict_device *device, VkDeviceMemory memory) {
    return strict_handle_map_find(&device->memories, (uint64_t)memory);
}

static bool reserve_heap(strict_physical_device *physical, uint32_t heap, VkDeviceSize size) {
    VkDeviceSize heap_size = strict_fake_heap_size(heap);
    uint64_t used = atomic_load(&physical->heap_usage[heap]);
    do {
        if (size > heap_size - used) return false;
    } while (!atomic_compare_exchange_weak(&physical->heap_usage[heap], &used, used + size));
    return true;
}

static void release_heap(strict_physical_device *physical, uint32_t fake_type, VkDeviceSize size) {
    atomic_fetch_sub(&physical->heap_usage[strict_fake_heap_of_type(fake_type)], size);
}

/* Every reason a real device would refuse the allocation before trying it. */
static VkResult admit_allocation(strict_device *device, const VkMemoryAllocateInfo *info) {
    uint32_t type = info->memoryTypeIndex;
    if (type >= STRICT_DEVICE_MEMORY_TYPE_COUNT) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_MEMORY_TYPE_INDEX,
                         "vkAllocateMemory: memoryTypeIndex %u, the device has %u types", type,
                         STRICT_DEVICE_MEMORY_TYPE_COUNT);
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    if (device->counters.live_allocations >= STRICT_DEVICE_MAX_ALLOCATION_COUNT) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_ALLOCATION_COUNT,
                         "vkAllocateMemory: %llu allocations live, maxMemoryAllocationCount is %u",
                         (unsigned long long)device->counters.live_allocations, STRICT_DEVICE_MAX_ALLOCATION_COUNT);
        return VK_ERROR_TOO_MANY_OBJECTS;
    }
    if (strict_fault_fires(&device->allocate_fault)) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    if (device->allocation_size_limit && info->allocationSize > device->allocation_size_limit)
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    if (!reserve_heap(device->physical, strict_fake_heap_of_type(type), info->allocationSize))
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    return VK_SUCCESS;
}

static void count_allocation(StrictDeviceCounters *counters, VkDeviceSize size) {
    counters->total_allocations++;
    counters->live_allocations++;
    if (counters->live_allocations > counters->peak_live_allocations)
        counters->peak_live_allocations = counters->live_allocations;
    counters->live_bytes += size;
    if (counters->live_bytes > counters->peak_live_bytes) counters->peak_live_bytes = counters->live_bytes;
}

static float priority_of(const VkMemoryAllocateInfo *info) {
    const VkMemoryPriorityAllocateInfoEXT *priority =
        strict_chain_find(info->pNext, VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT);
    return priority ? priority->priority : 0.5f; /* the spec's default */
}

/* The driver gets its own memory type, and no priority it cannot take. */
static VkResult call_driver(strict_device *device, const VkMemoryAllocateInfo *info,
                            const VkAllocationCallbacks *allocator, VkDeviceMemory *out) {
    VkMemoryAllocateInfo driver_info = *info;
    driver_info.memoryTypeIndex = device->physical->backing.real_type[info->memoryTypeIndex];
    strict_chain_edit edit = {.count = 0};
    VkResult result = VK_ERROR_OUT_OF_HOST_MEMORY;
    if (strict_driver_has(device->physical, STRICT_EXTENSION_MEMORY_PRIORITY) ||
        strict_chain_remove(&edit, &driver_info, VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT))
        result = device->next.AllocateMemory(device->handle, &driver_info, allocator, out);
    strict_chain_restore(&edit);
    return result;
}

/* Called with the heap already reserved; gives it back on failure. */
static VkResult driver_allocate(strict_device *device, const VkMemoryAllocateInfo *info,
                                const VkAllocationCallbacks *allocator, VkDeviceMemory *out) {
    strict_memory *record = calloc(1, sizeof(*record));
    VkResult result = VK_ERROR_OUT_OF_HOST_MEMORY;
    if (record) result = call_driver(device, info, allocator, out);
    if (result == VK_SUCCESS && !strict_handle_map_insert(&device->memories, (uint64_t)*out, record)) {
        device->next.FreeMemory(device->handle, *out, allocator);
        result = VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    if (result != VK_SUCCESS) {
        free(record);
        release_heap(device->physical, info->memoryTypeIndex, info->allocationSize);
        return result;
    }
    record->handle = *out;
    record->fake_type = info->memoryTypeIndex;
    record->size = info->allocationSize;
    record->priority = priority_of(info);
    count_allocation(&device->counters, info->allocationSize);
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_AllocateMemory(VkDevice handle, const VkMemoryAllocateInfo *info,
                                                     const VkAllocationCallbacks *allocator, VkDeviceMemory *out) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !info || !out) return VK_ERROR_OUT_OF_HOST_MEMORY;
    pthread_mutex_lock(&device->lock);
    VkResult result = admit_allocation(device, info);
    if (result == VK_SUCCESS) result = driver_allocate(device, info, allocator, out);
    if (result != VK_SUCCESS) device->counters.failed_allocations++;
    pthread_mutex_unlock(&device->lock);
    return result;
}

static void forget_memory(strict_device *device, strict_memory *memory) {
    if (memory->mapped) strict_memory_drop_mapping(device, memory);
    strict_memory_unbind_all(memory);
    release_heap(device->physical, memory->fake_type, memory->size);
    device->counters.live_allocations--;
    device->counters.live_bytes -= memory->size;
    free(memory->bound);
    free(memory);
}

VKAPI_ATTR void VKAPI_CALL strict_FreeMemory(VkDevice handle, VkDeviceMemory memory,
                                             const VkAllocationCallbacks *allocator) {
    strict_device *device = strict_registry_device(handle);
    if (!device || memory == VK_NULL_HANDLE) return;
    pthread_mutex_lock(&device->lock);
    strict_memory *record = strict_handle_map_remove(&device->memories, (uint64_t)memory);
    if (!record) {
        /* Passing it on would make the driver dereference a stranger's handle. */
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "vkFreeMemory: 0x%llx is not a live allocation of this device", (unsigned long long)memory);
    } else {
        device->next.FreeMemory(handle, memory, allocator);
        forget_memory(device, record);
        strict_markers_forget(device, (uint64_t)memory);
    }
    pthread_mutex_unlock(&device->lock);
}

static void forget_memory_at_destroy(void *value, void *context) { forget_memory(context, value); }

void strict_device_free_memories(strict_device *device) {
    strict_handle_map_for_each(&device->memories, forget_memory_at_destroy, device);
}

/* Imported host memory is plain system memory: offer the host-coherent type. */
#define HOST_POINTER_TYPES (1u << STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT)
#define IMPORTABLE_TYPES \
    (((1u << STRICT_DEVICE_MEMORY_TYPE_COUNT) - 1u) & ~(1u << STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED))

VKAPI_ATTR VkResult VKAPI_CALL strict_GetMemoryHostPointerPropertiesEXT(VkDevice handle,
                                                                        VkExternalMemoryHandleTypeFlagBits handle_type,
                                                                        const void *host_pointer,
                                                                        VkMemoryHostPointerPropertiesEXT *properties) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkResult result = device->next.GetMemoryHostPointerPropertiesEXT(handle, handle_type, host_pointer, properties);
    if (result == VK_SUCCESS)
        properties->memoryTypeBits =
            strict_fake_type_bits(&device->physical->backing, properties->memoryTypeBits, HOST_POINTER_TYPES);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_GetMemoryFdPropertiesKHR(VkDevice handle,
                                                               VkExternalMemoryHandleTypeFlagBits handle_type, int fd,
                                                               VkMemoryFdPropertiesKHR *properties) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkResult result = device->next.GetMemoryFdPropertiesKHR(handle, handle_type, fd, properties);
    if (result == VK_SUCCESS)
        properties->memoryTypeBits =
            strict_fake_type_bits(&device->physical->backing, properties->memoryTypeBits, IMPORTABLE_TYPES);
    return result;
}
