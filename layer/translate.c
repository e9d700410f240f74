/* SPDX-License-Identifier: Apache-2.0 */
/*
 * translate.c: from the app's VkDeviceMemory to where its bytes really are.
 *
 * Entry points call here, and only here, to learn whether a handle is the
 * layer's, whether it is still live and of this device, and which (block
 * memory, offset) the driver must see for it. Below this file the pools and
 * the records know nothing of entry points.
 */
#include <string.h>

#include "log.h"

void report_unusable_memory(suballoc_device *device, const char *caller, VkDeviceMemory memory, bool stale) {
    if (stale)
        LOG_ERROR(device,
                  "%s: memory 0x%llx is not a live allocation (already freed, or never allocated); the call is ignored",
                  caller, (unsigned long long)memory);
    else
        LOG_ERROR(device, "%s: memory 0x%llx belongs to another VkDevice; the call is ignored", caller,
                  (unsigned long long)memory);
}

void report_unmovable(suballoc_device *device, const char *caller, const suballoc_memory *record, uint64_t alignment) {
    LOG_ERROR(device,
              "%s: memory 0x%llx sits at block offset %llu, which is not aligned to the %llu bytes this use "
              "needs, and it is already bound or mapped so it cannot move; allocate it again after querying "
              "this resource's requirements",
              caller, (unsigned long long)memory_handle_of(record), (unsigned long long)record->offset,
              (unsigned long long)alignment);
}

VkResult memory_translate(suballoc_device *device, const char *caller, VkDeviceMemory memory, VkDeviceSize offset,
                          uint64_t alignment, VkDeviceMemory *out_memory, VkDeviceSize *out_offset) {
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, caller, memory, &invalid);
    if (invalid) return VK_ERROR_UNKNOWN;
    if (record == NULL) {
        *out_memory = memory;
        *out_offset = offset;
        return VK_SUCCESS;
    }
    return slice_translate(device, caller, record, offset, alignment, 0, out_memory, out_offset);
}

bool any_layer_memory(const void *items, uint32_t count, size_t stride, size_t member_offset) {
    const unsigned char *bytes = items;
    for (uint32_t i = 0; i < count; i++) {
        VkDeviceMemory memory;
        memcpy(&memory, bytes + (size_t)i * stride + member_offset, sizeof memory);
        bool stale;
        if (memory_record_of(memory, &stale) != NULL || stale) return true;
    }
    return false;
}

bool is_layer_memory(VkDeviceMemory memory) {
    bool stale;
    return memory_record_of(memory, &stale) != NULL || stale;
}
