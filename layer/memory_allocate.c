/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memory_allocate.c: vkAllocateMemory / vkFreeMemory, and the requirements queries.
 *
 * Only a "plain" allocation is sub-allocated: a memory type that is neither
 * lazily allocated nor protected, a size under the dedicated threshold, and a
 * pNext chain holding nothing but allocate flags (without capture/replay) and a
 * priority. Anything else (dedicated, export, import, opaque capture address,
 * a structure the layer does not know) goes to the driver as it is.
 *
 * Where a slice starts is placement.c's business; this file watches the
 * requirements queries for it.
 */
#include "log.h"
#include "requirements_cache.h"

/* ---- requirements queries: passed on, and noted for placement ----------------------- */

/* The driver may give the next buffer or image a destroyed one's handle: the
 * requirements every thread keeps for that handle must not answer for it
 * (requirements_cache.h). Counted before the driver frees the handle. */
VKAPI_ATTR void VKAPI_CALL layer_DestroyBuffer(VkDevice handle, VkBuffer buffer,
                                               const VkAllocationCallbacks *allocator) {
    suballoc_device *device = DEVICE_OF(handle);
    if (buffer != VK_NULL_HANDLE) requirements_cache_note_destroy((uint64_t)buffer);
    device->next.DestroyBuffer(handle, buffer, allocator);
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyImage(VkDevice handle, VkImage image, const VkAllocationCallbacks *allocator) {
    suballoc_device *device = DEVICE_OF(handle);
    if (image != VK_NULL_HANDLE) requirements_cache_note_destroy((uint64_t)image);
    device->next.DestroyImage(handle, image, allocator);
}

VKAPI_ATTR void VKAPI_CALL layer_GetBufferMemoryRequirements(VkDevice handle, VkBuffer buffer,
                                                             VkMemoryRequirements *out) {
    suballoc_device *device = DEVICE_OF(handle);
    device->next.GetBufferMemoryRequirements(handle, buffer, out);
    note_requirements(device, out);
    requirements_cache_put(device, VK_OBJECT_TYPE_BUFFER, (uint64_t)buffer, out);
}

VKAPI_ATTR void VKAPI_CALL layer_GetImageMemoryRequirements(VkDevice handle, VkImage image, VkMemoryRequirements *out) {
    suballoc_device *device = DEVICE_OF(handle);
    device->next.GetImageMemoryRequirements(handle, image, out);
    note_requirements(device, out);
    requirements_cache_put(device, VK_OBJECT_TYPE_IMAGE, (uint64_t)image, out);
}

/* The *2 forms, core and KHR, share one shape: call the next layer's, then note,
 * and keep the answer for the resource's bind (remember, a statement). */
#define NOTE_REQUIREMENTS_2(name, info_type, remember)                                                            \
    VKAPI_ATTR void VKAPI_CALL layer_##name(VkDevice handle, const info_type *info, VkMemoryRequirements2 *out) { \
        suballoc_device *device = DEVICE_OF(handle);                                                              \
        if (device->next.name == NULL) out->memoryRequirements = (VkMemoryRequirements){0};                       \
        RETURN_IF_NEXT_MISSING(device, device->next.name, "vk" #name);                                            \
        device->next.name(handle, info, out);                                                                     \
        note_requirements(device, &out->memoryRequirements);                                                      \
        remember;                                                                                                 \
    }

/* One plane of a disjoint image has requirements of its own: those are not kept. */
static void remember_image(suballoc_device *device, const VkImageMemoryRequirementsInfo2 *info,
                           const VkMemoryRequirements *requirements) {
    for (const VkBaseInStructure *s = info->pNext; s != NULL; s = s->pNext)
        if (s->sType == VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO) return;
    requirements_cache_put(device, VK_OBJECT_TYPE_IMAGE, (uint64_t)info->image, requirements);
}

#define REMEMBER_BUFFER \
    requirements_cache_put(device, VK_OBJECT_TYPE_BUFFER, (uint64_t)info->buffer, &out->memoryRequirements)
#define REMEMBER_IMAGE remember_image(device, info, &out->memoryRequirements)
#define NO_RESOURCE ((void)0) /* a query by create info: no resource to remember */

NOTE_REQUIREMENTS_2(GetBufferMemoryRequirements2, VkBufferMemoryRequirementsInfo2, REMEMBER_BUFFER)
NOTE_REQUIREMENTS_2(GetBufferMemoryRequirements2KHR, VkBufferMemoryRequirementsInfo2, REMEMBER_BUFFER)
NOTE_REQUIREMENTS_2(GetImageMemoryRequirements2, VkImageMemoryRequirementsInfo2, REMEMBER_IMAGE)
NOTE_REQUIREMENTS_2(GetImageMemoryRequirements2KHR, VkImageMemoryRequirementsInfo2, REMEMBER_IMAGE)
NOTE_REQUIREMENTS_2(GetDeviceBufferMemoryRequirements, VkDeviceBufferMemoryRequirements, NO_RESOURCE)
NOTE_REQUIREMENTS_2(GetDeviceBufferMemoryRequirementsKHR, VkDeviceBufferMemoryRequirements, NO_RESOURCE)
NOTE_REQUIREMENTS_2(GetDeviceImageMemoryRequirements, VkDeviceImageMemoryRequirements, NO_RESOURCE)
NOTE_REQUIREMENTS_2(GetDeviceImageMemoryRequirementsKHR, VkDeviceImageMemoryRequirements, NO_RESOURCE)

/* ---- which allocations to sub-allocate -------------------------------------------- */

static bool plan_suballocation(const suballoc_device *device, const VkMemoryAllocateInfo *info, pool_key *key) {
    const memory_type_info *type = &device->types[info->memoryTypeIndex];
    if (!device->suballocate || !type->suballocatable || info->allocationSize >= type->dedicated_threshold)
        return false;

    *key = (pool_key){.memory_type = info->memoryTypeIndex, .priority = 0.5f};
    for (const VkBaseInStructure *s = info->pNext; s != NULL; s = s->pNext) {
        if (s->sType == VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO) {
            const VkMemoryAllocateFlagsInfo *flags = (const void *)s;
            if (flags->flags & VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT) return false;
            key->flags = flags->flags & (VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT | VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT);
            key->device_mask = (flags->flags & VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT) ? flags->deviceMask : 0;
            /* With bufferDeviceAddress enabled every block has the flag (pools.c),
             * so allocations with and without it share blocks. */
            if (device->features.buffer_device_address) key->flags &= ~VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
        } else if (s->sType == VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT) {
            float priority = ((const VkMemoryPriorityAllocateInfoEXT *)s)->priority;
            if (!(priority >= 0.0f && priority <= 1.0f)) return false; /* NaN or out of range: the driver's call */
            /* A priority is a residency hint, and every pool costs a partly used
             * block: two classes, each block at the top of its class, so that no
             * allocation lies in memory of lower priority than it asked for. */
            key->priority = priority > 0.5f ? 1.0f : 0.5f;
        } else {
            return false; /* dedicated, export, import, capture address, or unknown */
        }
    }
    return true;
}

/* The thread's last query names the resource the app is about to bind here
 * (create, query, allocate, bind): when its type, size and alignment fit the
 * slice as placed, its bind needs no lookup (memory_bind.c). */
static void expect_last_queried(const suballoc_device *device, suballoc_memory *record) {
    const cached_requirements *last = &requirements_last;
    uint64_t alignment = (uint64_t)1 << last->alignment_log2;
    bool fits = last->device_serial == device->serial &&
                resource_fits(record, 0, last->size, alignment, last->memory_type_bits) &&
                is_aligned(record->offset, alignment); /* the bind at 0 lands at the slice's start */
    record->expected_resource = fits ? last->handle : 0;
    record->expected_destroys_of = requirements_cache_destroys_of(last->handle);
    record->expected_destroys = last->destroys;
    record->expected_type = fits ? last->type : 0; /* never VK_OBJECT_TYPE_BUFFER or _IMAGE */
}

static VkResult suballocate(suballoc_device *device, const VkMemoryAllocateInfo *info, const pool_key *key,
                            VkDeviceMemory *out) {
    suballoc_memory *record = memory_record_alloc();
    if (record == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    record->memory_type = info->memoryTypeIndex;
    record->size = info->allocationSize;
    uint64_t alignment = slice_alignment(device, info->memoryTypeIndex, info->allocationSize);
    VkResult result = pool_allocate(device, key, record, info->allocationSize, alignment);
    if (result != VK_SUCCESS) {
        memory_record_free(record);
        return result;
    }
    expect_last_queried(device, record);
    *out = memory_handle_of(record);
    return VK_SUCCESS;
}

static VkResult allocate_passthrough(suballoc_device *device, const VkMemoryAllocateInfo *info, VkDeviceMemory *out) {
    VkResult result = driver_allocate(device, info, out);
    if (result != VK_SUCCESS) return result;
    if (!passthrough_set_insert(&device->passthrough, *out, info->allocationSize, info->memoryTypeIndex)) {
        driver_free(device, *out, info->allocationSize);
        *out = VK_NULL_HANDLE;
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    device_counters *c = &device->counters;
    atomic_fetch_add(&c->passthrough, 1);
    uint64_t bytes = atomic_fetch_add(&c->passthrough_bytes, info->allocationSize) + info->allocationSize;
    stats_raise_peak(&c->passthrough_bytes_peak, bytes);
    stats_raise_peak(&c->passthrough_live_peak, atomic_fetch_add(&c->passthrough_live, 1) + 1);
    return VK_SUCCESS;
}

/* What the driver itself would crash on or reject by spec; everything else it sees. */
static bool allocate_info_usable(suballoc_device *device, const VkMemoryAllocateInfo *info, VkDeviceMemory *out) {
    if (info == NULL || out == NULL) {
        LOG_ERROR(device, "vkAllocateMemory: pAllocateInfo and pMemory must not be NULL");
        return false;
    }
    if (info->memoryTypeIndex >= device->memory.memoryTypeCount) {
        LOG_ERROR(device, "vkAllocateMemory: memoryTypeIndex %u is not below memoryTypeCount %u", info->memoryTypeIndex,
                  device->memory.memoryTypeCount);
        return false;
    }
    if (info->allocationSize == 0) {
        LOG_ERROR(device, "vkAllocateMemory: allocationSize is 0 (it must be greater than 0)");
        return false;
    }
    return true;
}

/* Pass-through mode is the baseline of an A/B comparison: it only counts. */
static VkResult allocate_in_passthrough_mode(suballoc_device *device, const VkMemoryAllocateInfo *info,
                                             VkDeviceMemory *out) {
    VkResult result = device->next.AllocateMemory(device->handle, info, NULL, out);
    if (result != VK_SUCCESS) return result;
    device_counters *c = &device->counters;
    atomic_fetch_add_explicit(&c->passthrough, 1, memory_order_relaxed);
    stats_raise_peak(&c->passthrough_live_peak,
                     atomic_fetch_add_explicit(&c->passthrough_live, 1, memory_order_relaxed) + 1);
    /* Bytes need the size at free time: kept only when someone reads the statistics. */
    if (device->track_passthrough &&
        passthrough_set_insert(&device->passthrough, *out, info->allocationSize, info->memoryTypeIndex)) {
        uint64_t bytes = atomic_fetch_add(&c->passthrough_bytes, info->allocationSize) + info->allocationSize;
        stats_raise_peak(&c->passthrough_bytes_peak, bytes);
    }
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_AllocateMemory(VkDevice handle, const VkMemoryAllocateInfo *info,
                                                    const VkAllocationCallbacks *allocator, VkDeviceMemory *out) {
    (void)allocator; /* host allocation callbacks cover host memory; the layer's is its own */
    suballoc_device *device = DEVICE_OF(handle);
    if (!device->suballocate) return allocate_in_passthrough_mode(device, info, out);
    if (!allocate_info_usable(device, info, out)) return VK_ERROR_OUT_OF_DEVICE_MEMORY;

    pool_key key;
    if (plan_suballocation(device, info, &key)) {
        VkResult result = suballocate(device, info, &key, out);
        if (result != VK_ERROR_OUT_OF_DEVICE_MEMORY) return result;
        /* No block could be had: the exact size may still fit where a block does not. */
        LOG_DEBUG(device, "vkAllocateMemory: no block for %llu bytes of type %u; asking the driver for exactly that",
                  (unsigned long long)info->allocationSize, info->memoryTypeIndex);
    }
    return allocate_passthrough(device, info, out);
}

VKAPI_ATTR void VKAPI_CALL layer_FreeMemory(VkDevice handle, VkDeviceMemory memory,
                                            const VkAllocationCallbacks *allocator) {
    (void)allocator;
    if (memory == VK_NULL_HANDLE) return;
    suballoc_device *device = DEVICE_OF(handle);
    if (!device->suballocate) {
        uint64_t size; /* out of the set before the driver can hand the handle out again */
        if (device->track_passthrough && passthrough_set_remove(&device->passthrough, memory, &size))
            atomic_fetch_sub(&device->counters.passthrough_bytes, size);
        device->next.FreeMemory(handle, memory, NULL);
        atomic_fetch_sub_explicit(&device->counters.passthrough_live, 1, memory_order_relaxed);
        return;
    }
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, "vkFreeMemory", memory, &invalid);
    if (invalid) return;
    if (record != NULL) {
        if (record->has_private_data) private_data_release_object(device, (uint64_t)memory);
        margins_check(record, "vkFreeMemory");
        pool_free(record); /* an app mapping ends with it; the block stays mapped */
        memory_record_free(record);
        return;
    }

    uint64_t size;
    if (!passthrough_set_remove(&device->passthrough, memory, &size)) {
        LOG_ERROR(device, "vkFreeMemory: memory 0x%llx is not a live allocation of this device (freed twice?); ignored",
                  (unsigned long long)memory);
        return;
    }
    driver_free(device, memory, size);
    device_counters *c = &device->counters;
    atomic_fetch_sub(&c->passthrough_live, 1);
    atomic_fetch_sub(&c->passthrough_bytes, size);
}
