/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memory_map.c: mapping, unmapping, flushing and invalidating app allocations.
 *
 * A block is mapped once, the first time any of its slices is, and stays mapped
 * until it goes back to the driver: one app's vkUnmapMemory or vkFreeMemory must
 * never pull the mapping from under another app allocation in the same block.
 * vkMapMemory hands out block base + slice offset + offset; slices start on
 * minMemoryMapAlignment, so the pointer is as aligned as the driver's own.
 *
 * Flush and invalidate ranges move to block coordinates. A range that reaches
 * the end of the app allocation (VK_WHOLE_SIZE, or offset + size == its size) is
 * stretched to the end of the slice, which lies on nonCoherentAtomSize, so the
 * driver always sees atom-aligned ranges and never one that spills into a
 * neighbour's atoms.
 */
#include <stddef.h>
#include <string.h>

#include "log.h"
#include "scratch_arena.h"

static inline bool map_allowed(const suballoc_device *device, const suballoc_memory *record, VkDeviceSize offset,
                               VkDeviceSize size, void **data) {
    return data != NULL && (device->types[record->memory_type].flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
           !record->mapped && offset < record->size &&
           (size == VK_WHOLE_SIZE || (size != 0 && size <= record->size - offset));
}

/* Logs the first rule a refused map breaks (map_allowed said no). */
static __attribute__((cold, noinline)) VkResult refuse_map(suballoc_device *device, const char *caller,
                                                           const suballoc_memory *record, VkDeviceSize offset,
                                                           VkDeviceSize size, void **data) {
    unsigned long long handle = (unsigned long long)memory_handle_of(record);
    if (data == NULL) LOG_ERROR(device, "%s: ppData must not be NULL", caller);
    else if (!(device->types[record->memory_type].flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
        LOG_ERROR(device, "%s: memory 0x%llx is of memory type %u, which is not host-visible", caller, handle,
                  record->memory_type);
    else if (record->mapped) LOG_ERROR(device, "%s: memory 0x%llx is already mapped; unmap it first", caller, handle);
    else
        LOG_ERROR(device, "%s: range (offset %llu, size %llu) is outside memory 0x%llx of %llu bytes", caller,
                  (unsigned long long)offset, (unsigned long long)size, handle, (unsigned long long)record->size);
    return VK_ERROR_MEMORY_MAP_FAILED;
}

/* The full map: checks and logs, pins the slice (its first use), and maps the
 * block on first need. Every later map takes quick_map: a few loads and one
 * store, no lock, no driver call. */
static __attribute__((noinline)) VkResult map_slice(suballoc_device *device, const char *caller,
                                                    suballoc_memory *record, VkDeviceSize offset, VkDeviceSize size,
                                                    void **data) {
    if (unlikely(!map_allowed(device, record, offset, size, data)))
        return refuse_map(device, caller, record, offset, size, data);
    VkDeviceMemory block_memory;
    VkDeviceSize block_offset;
    VkResult result = slice_translate(device, caller, record, offset, 1, 0, &block_memory, &block_offset);
    if (result != VK_SUCCESS) return result;
    uint8_t *base;
    result = block_map(record->block, &base);
    if (result != VK_SUCCESS) return result;
    record->mapped = true;
    *data = base + block_offset;
    return VK_SUCCESS;
}

/* The usual map, done inline: a slice mapped before, or bound (its block is
 * mapped, it is fixed). false sends the map down the full path. */
static inline bool quick_map(const suballoc_device *device, suballoc_memory *record, VkDeviceSize offset,
                             VkDeviceSize size, void **data) {
    if (!map_allowed(device, record, offset, size, data)) return false;
    uint8_t placement = atomic_load_explicit(&record->placement, memory_order_acquire);
    if ((placement & SLICE_STATE_MASK) != SLICE_FIXED) return false;
    uint8_t *base = atomic_load_explicit(&record->block->mapped_base, memory_order_acquire);
    if (base == NULL) return false;
    record->mapped = true;
    *data = base + record->offset + offset;
    return true;
}

static __attribute__((cold, noinline)) void report_not_mapped(suballoc_device *device, const char *caller,
                                                              const suballoc_memory *record) {
    LOG_WARNING(device, "%s: memory 0x%llx is not mapped", caller, (unsigned long long)memory_handle_of(record));
}

static inline void unmap_slice(suballoc_device *device, const char *caller, suballoc_memory *record) {
    if (unlikely(!record->mapped)) report_not_mapped(device, caller, record);
    else margins_check(record, caller);
    record->mapped = false;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_MapMemory(VkDevice handle, VkDeviceMemory memory, VkDeviceSize offset,
                                               VkDeviceSize size, VkMemoryMapFlags flags, void **data) {
    suballoc_device *device = DEVICE_OF(handle);
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, "vkMapMemory", memory, &invalid);
    if (invalid) return VK_ERROR_MEMORY_MAP_FAILED;
    if (record == NULL) return device->next.MapMemory(handle, memory, offset, size, flags, data);
    if (likely(quick_map(device, record, offset, size, data))) return VK_SUCCESS;
    return map_slice(device, "vkMapMemory", record, offset, size, data);
}

VKAPI_ATTR void VKAPI_CALL layer_UnmapMemory(VkDevice handle, VkDeviceMemory memory) {
    suballoc_device *device = DEVICE_OF(handle);
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, "vkUnmapMemory", memory, &invalid);
    if (invalid) return;
    if (record == NULL) {
        device->next.UnmapMemory(handle, memory);
        return;
    }
    unmap_slice(device, "vkUnmapMemory", record);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_MapMemory2KHR(VkDevice handle, const VkMemoryMapInfoKHR *info, void **data) {
    suballoc_device *device = DEVICE_OF(handle);
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, "vkMapMemory2KHR", info->memory, &invalid);
    if (invalid) return VK_ERROR_MEMORY_MAP_FAILED;
    if (record == NULL) {
        RETURN_IF_NEXT_MISSING(device, device->next.MapMemory2KHR, "vkMapMemory2KHR", VK_ERROR_EXTENSION_NOT_PRESENT);
        return device->next.MapMemory2KHR(handle, info, data);
    }
    if (info->pNext != NULL) {
        /* e.g. a placed mapping: a slice of a shared block cannot be mapped at a chosen address */
        LOG_ERROR(device, "vkMapMemory2KHR: pNext structures (sType %d) are not supported on sub-allocated memory",
                  (int)((const VkBaseInStructure *)info->pNext)->sType);
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    return map_slice(device, "vkMapMemory2KHR", record, info->offset, info->size, data);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_UnmapMemory2KHR(VkDevice handle, const VkMemoryUnmapInfoKHR *info) {
    suballoc_device *device = DEVICE_OF(handle);
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, "vkUnmapMemory2KHR", info->memory, &invalid);
    if (invalid) return VK_ERROR_MEMORY_MAP_FAILED;
    if (record == NULL) {
        RETURN_IF_NEXT_MISSING(device, device->next.UnmapMemory2KHR, "vkUnmapMemory2KHR",
                               VK_ERROR_EXTENSION_NOT_PRESENT);
        return device->next.UnmapMemory2KHR(handle, info);
    }
    unmap_slice(device, "vkUnmapMemory2KHR", record);
    return VK_SUCCESS;
}

/* ---- flush / invalidate -------------------------------------------------------------- */

static VkResult translate_range(suballoc_device *device, const char *caller, VkMappedMemoryRange *range) {
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, caller, range->memory, &invalid);
    if (invalid) return VK_ERROR_MEMORY_MAP_FAILED;
    if (record == NULL) return VK_SUCCESS;

    unsigned long long handle = (unsigned long long)range->memory;
    if (!record->mapped) {
        LOG_ERROR(device, "%s: memory 0x%llx is not mapped", caller, handle);
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    VkDeviceSize offset = range->offset, size = range->size;
    bool to_end = size == VK_WHOLE_SIZE || (offset <= record->size && size == record->size - offset);
    if (offset > record->size || (!to_end && size > record->size - offset)) {
        LOG_ERROR(device, "%s: range (offset %llu, size %llu) is outside memory 0x%llx of %llu bytes", caller,
                  (unsigned long long)offset, (unsigned long long)size, handle, (unsigned long long)record->size);
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    range->memory = record->block->memory;
    range->offset = record->offset + offset;
    range->size = to_end ? record->reserved - offset : size;
    return VK_SUCCESS;
}

static VkResult sync_ranges(suballoc_device *device, const char *caller, uint32_t count,
                            const VkMappedMemoryRange *ranges, PFN_vkFlushMappedMemoryRanges next) {
    VkDevice handle = device->handle;
    if (count == 0 || ranges == NULL ||
        !any_layer_memory(ranges, count, sizeof *ranges, offsetof(VkMappedMemoryRange, memory)))
        return next(handle, count, ranges);

    scratch_frame frame = scratch_frame_begin();
    VkMappedMemoryRange *copy = scratch_alloc(&frame, count * sizeof *copy, _Alignof(VkMappedMemoryRange));
    VkResult result = copy != NULL ? VK_SUCCESS : VK_ERROR_OUT_OF_HOST_MEMORY;
    if (copy != NULL) memcpy(copy, ranges, count * sizeof *copy);
    for (uint32_t i = 0; i < count && result == VK_SUCCESS; i++) result = translate_range(device, caller, &copy[i]);
    if (result == VK_SUCCESS) result = next(handle, count, copy);
    scratch_frame_end(&frame);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_FlushMappedMemoryRanges(VkDevice handle, uint32_t count,
                                                             const VkMappedMemoryRange *ranges) {
    suballoc_device *device = DEVICE_OF(handle);
    return sync_ranges(device, "vkFlushMappedMemoryRanges", count, ranges, device->next.FlushMappedMemoryRanges);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_InvalidateMappedMemoryRanges(VkDevice handle, uint32_t count,
                                                                  const VkMappedMemoryRange *ranges) {
    suballoc_device *device = DEVICE_OF(handle);
    return sync_ranges(device, "vkInvalidateMappedMemoryRanges", count, ranges,
                       device->next.InvalidateMappedMemoryRanges);
}
