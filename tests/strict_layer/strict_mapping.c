/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_mapping.c: vkMapMemory, vkUnmapMemory, flush and invalidate.
 *
 * The host-cached type is really non-coherent here: the caller gets a shadow
 * of the range, and flush, invalidate and the host's waits move bytes between
 * it and device memory as strict_host_cache.c describes. A layer above that
 * translates ranges wrongly loses data, and a test can see it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strict_layer_internal.h"

#define MAP_ALIGNMENT ((VkDeviceSize)STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT)

typedef struct size_text_buffer {
    char text[24];
} size_text_buffer;

/* Sizes in messages, with VK_WHOLE_SIZE by name. */
static size_text_buffer size_text(VkDeviceSize size) {
    size_text_buffer out;
    if (size == VK_WHOLE_SIZE) snprintf(out.text, sizeof(out.text), "VK_WHOLE_SIZE");
    else snprintf(out.text, sizeof(out.text), "%" PRIu64, size);
    return out;
}

static VkResult check_map(strict_device *device, strict_memory *record, VkDeviceMemory memory, VkDeviceSize offset,
                          VkDeviceSize size) {
    if (!record) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "vkMapMemory: 0x%" PRIx64 " is not a live allocation of this device", (uint64_t)memory);
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    if (!strict_fake_type_is_host_visible(record->fake_type)) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_MAP_NOT_HOST_VISIBLE,
                         "vkMapMemory: 0x%" PRIx64 " has memory type %u, which is not HOST_VISIBLE", (uint64_t)memory,
                         record->fake_type);
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    if (record->mapped) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_MAP_ALREADY_MAPPED,
                         "vkMapMemory: 0x%" PRIx64 " is already mapped at offset %" PRIu64 " size %" PRIu64,
                         (uint64_t)memory, record->map_offset, record->map_size);
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    if (offset >= record->size || (size != VK_WHOLE_SIZE && (size == 0 || size > record->size - offset))) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_MAP_RANGE,
                         "vkMapMemory: offset %" PRIu64 " size %s outside allocation 0x%" PRIx64 " of %" PRIu64
                         " bytes",
                         offset, size_text(size).text, (uint64_t)memory, record->size);
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    if (strict_fault_fires(&device->map_fault)) return VK_ERROR_MEMORY_MAP_FAILED;
    return VK_SUCCESS;
}

static VkResult map_coherent(strict_device *device, strict_memory *record, VkDeviceSize offset, VkDeviceSize size,
                             VkMemoryMapFlags flags) {
    void *pointer;
    VkResult result = device->next.MapMemory(device->handle, record->handle, offset, size, flags, &pointer);
    if (result != VK_SUCCESS) return result;
    /* Coherent memory cannot be shadowed, so the driver's pointer must already
     * honour the fake minMemoryMapAlignment (lavapipe's is page aligned). */
    if (((uintptr_t)pointer - offset) % MAP_ALIGNMENT != 0) {
        strict_layer_error("the driver mapped 0x%" PRIx64 " at %p, not %u-aligned at offset 0: "
                           "cannot fake minMemoryMapAlignment on this driver",
                           (uint64_t)record->handle, pointer, STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT);
        device->next.UnmapMemory(device->handle, record->handle);
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    record->app_pointer = pointer;
    return VK_SUCCESS;
}

static VkResult map_shadow(strict_device *device, strict_memory *record, VkDeviceSize offset, VkDeviceSize size,
                           VkMemoryMapFlags flags) {
    void *driver_base;
    VkResult result = device->next.MapMemory(device->handle, record->handle, 0, VK_WHOLE_SIZE, flags, &driver_base);
    if (result != VK_SUCCESS) return result;
    if (!strict_host_cache_open(record, driver_base, offset, size)) {
        device->next.UnmapMemory(device->handle, record->handle);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_MapMemory(VkDevice handle, VkDeviceMemory memory, VkDeviceSize offset,
                                                VkDeviceSize size, VkMemoryMapFlags flags, void **data) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !data) return VK_ERROR_MEMORY_MAP_FAILED;
    pthread_mutex_lock(&device->lock);
    strict_memory *record = strict_find_memory(device, memory);
    VkResult result = check_map(device, record, memory, offset, size);
    if (result == VK_SUCCESS) {
        VkDeviceSize mapped_size = size == VK_WHOLE_SIZE ? record->size - offset : size;
        if (strict_fake_type_is_host_coherent(record->fake_type))
            result = map_coherent(device, record, offset, size, flags);
        else result = map_shadow(device, record, offset, mapped_size, flags);
        if (result == VK_SUCCESS) {
            record->mapped = true;
            record->map_offset = offset;
            record->map_size = mapped_size;
            device->counters.live_mappings++;
            device->counters.total_maps++;
            *data = record->app_pointer;
        }
    }
    pthread_mutex_unlock(&device->lock);
    return result;
}

void strict_memory_drop_mapping(strict_device *device, strict_memory *memory) {
    /* Unflushed host writes are lost here, as they may be on hardware. */
    strict_host_cache_close(memory);
    memory->app_pointer = NULL;
    memory->mapped = false;
    device->counters.live_mappings--;
}

VKAPI_ATTR void VKAPI_CALL strict_UnmapMemory(VkDevice handle, VkDeviceMemory memory) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    pthread_mutex_lock(&device->lock);
    strict_memory *record = strict_find_memory(device, memory);
    if (!record) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "vkUnmapMemory: 0x%" PRIx64 " is not a live allocation of this device", (uint64_t)memory);
    } else if (!record->mapped) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNMAP_NOT_MAPPED, "vkUnmapMemory: 0x%" PRIx64 " is not mapped",
                         (uint64_t)memory);
    } else {
        strict_memory_drop_mapping(device, record);
        device->next.UnmapMemory(handle, memory);
    }
    pthread_mutex_unlock(&device->lock);
}

/* Reports the first rule a flush/invalidate range breaks; true when it breaks none. */
static bool range_is_valid(strict_device *device, const char *function, uint32_t index,
                           const VkMappedMemoryRange *range, const strict_memory *record) {
    VkDeviceSize offset = range->offset, size = range->size, atom = device->atom_size;
    if (!record) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "%s: pMemoryRanges[%u].memory 0x%" PRIx64 " is not a live allocation of this device", function,
                         index, (uint64_t)range->memory);
        return false;
    }
    if (!record->mapped) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_MAPPED_RANGE_NOT_MAPPED,
                         "%s: pMemoryRanges[%u].memory 0x%" PRIx64 " is not mapped", function, index,
                         (uint64_t)range->memory);
        return false;
    }
    bool reaches_end = offset <= record->size && size == record->size - offset;
    bool size_ok = size == VK_WHOLE_SIZE || size % atom == 0 || reaches_end;
    if (offset % atom != 0 || !size_ok) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_MAPPED_RANGE_ALIGNMENT,
                         "%s: pMemoryRanges[%u] offset %" PRIu64 " size %s not on nonCoherentAtomSize %" PRIu64,
                         function, index, offset, size_text(size).text, atom);
        return false;
    }
    if (offset > record->size || (size != VK_WHOLE_SIZE && size > record->size - offset)) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_MAPPED_RANGE_OUTSIDE,
                         "%s: pMemoryRanges[%u] offset %" PRIu64 " size %s past the end of 0x%" PRIx64 " (%" PRIu64
                         " bytes)",
                         function, index, offset, size_text(size).text, (uint64_t)range->memory, record->size);
        return false;
    }
    VkDeviceSize map_end = record->map_offset + record->map_size;
    if (offset < record->map_offset || offset >= map_end || (size != VK_WHOLE_SIZE && offset + size > map_end)) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_MAPPED_RANGE_NOT_MAPPED,
                         "%s: pMemoryRanges[%u] offset %" PRIu64 " size %s outside the mapped range [%" PRIu64
                         ", %" PRIu64 ")",
                         function, index, offset, size_text(size).text, record->map_offset, map_end);
        return false;
    }
    return true;
}

typedef enum sync_direction { SYNC_FLUSH, SYNC_INVALIDATE } sync_direction;

/* Moves the range's bytes between the host's cache and device memory. */
static void sync_shadow(strict_device *device, strict_memory *record, const VkMappedMemoryRange *range,
                        sync_direction direction) {
    if (!record->shadow_block) return;
    VkDeviceSize end =
        range->size == VK_WHOLE_SIZE ? record->map_offset + record->map_size : range->offset + range->size;
    if (direction == SYNC_FLUSH) strict_host_cache_flush(device, record, range->offset, end);
    else strict_host_cache_invalidate(device, record, range->offset, end);
}

static VkResult sync_ranges(VkDevice handle, uint32_t count, const VkMappedMemoryRange *ranges,
                            sync_direction direction) {
    const char *function = direction == SYNC_FLUSH ? "vkFlushMappedMemoryRanges" : "vkInvalidateMappedMemoryRanges";
    strict_device *device = strict_registry_device(handle);
    if (!device || (count && !ranges)) return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkMappedMemoryRange *valid = calloc(count ? count : 1, sizeof(*valid));
    if (!valid) return VK_ERROR_OUT_OF_HOST_MEMORY;

    pthread_mutex_lock(&device->lock);
    uint32_t valid_count = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (range_is_valid(device, function, i, &ranges[i], strict_find_memory(device, ranges[i].memory)))
            valid[valid_count++] = ranges[i];
    }
    /* Only ranges the driver can take go down: a broken one (counted above)
     * could name memory the driver never made. */
    VkResult result = VK_SUCCESS;
    if (direction == SYNC_FLUSH) {
        for (uint32_t i = 0; i < valid_count; i++)
            sync_shadow(device, strict_find_memory(device, valid[i].memory), &valid[i], SYNC_FLUSH);
        if (valid_count) result = device->next.FlushMappedMemoryRanges(handle, valid_count, valid);
    } else {
        if (valid_count) result = device->next.InvalidateMappedMemoryRanges(handle, valid_count, valid);
        for (uint32_t i = 0; result == VK_SUCCESS && i < valid_count; i++)
            sync_shadow(device, strict_find_memory(device, valid[i].memory), &valid[i], SYNC_INVALIDATE);
    }
    pthread_mutex_unlock(&device->lock);
    free(valid);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_FlushMappedMemoryRanges(VkDevice handle, uint32_t count,
                                                              const VkMappedMemoryRange *ranges) {
    return sync_ranges(handle, count, ranges, SYNC_FLUSH);
}

VKAPI_ATTR VkResult VKAPI_CALL strict_InvalidateMappedMemoryRanges(VkDevice handle, uint32_t count,
                                                                   const VkMappedMemoryRange *ranges) {
    return sync_ranges(handle, count, ranges, SYNC_INVALIDATE);
}
