/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_sparse_binding.c: vkQueueBindSparse, emulated.
 *
 * Every bind of the call is checked first (memory, resource, alignment, range,
 * sparse blocks); one broken rule refuses the whole call and nothing is bound.
 * Then each bind is recorded, and a bind covering a whole resource is made
 * real with the driver's vkBind*Memory, so the resource works (the driver made
 * it plain). Last, one empty vkQueueSubmit per VkBindSparseInfo carries its
 * wait and signal semaphores, and the fence goes with the last one: work that
 * waits for them sees the binds. The binds take effect when the call returns,
 * not when the waits are met, which only work still using an earlier binding
 * of the same resource could tell; a resource is made real only once.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "strict_layer_internal.h"

#define FUNCTION "vkQueueBindSparse"

/* One element of the call, resolved against what the layer knows. */
typedef struct sparse_bind {
    StrictDeviceSparseBind record;
    strict_resource *resource;
    strict_memory *memory;
    VkSparseMemoryBindFlags flags;
    bool whole; /* covers the whole resource */
} sparse_bind;

static const char *const kind_names[] = {"buffer", "opaque image", "image"};

/* ---- reading the call ---- */

static uint32_t count_binds(uint32_t count, const VkBindSparseInfo *infos) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        for (uint32_t b = 0; b < infos[i].bufferBindCount; b++) total += infos[i].pBufferBinds[b].bindCount;
        for (uint32_t b = 0; b < infos[i].imageOpaqueBindCount; b++) total += infos[i].pImageOpaqueBinds[b].bindCount;
        for (uint32_t b = 0; b < infos[i].imageBindCount; b++) total += infos[i].pImageBinds[b].bindCount;
    }
    return total;
}

static sparse_bind opaque_bind(strict_device *device, StrictDeviceSparseBindKind kind, uint64_t resource,
                               const VkSparseMemoryBind *bind) {
    strict_handle_map *map = kind == STRICT_DEVICE_SPARSE_BIND_BUFFER ? &device->buffers : &device->images;
    sparse_bind out = {.record = {.kind = kind,
                                  .resource = resource,
                                  .memory = bind->memory,
                                  .memory_offset = bind->memoryOffset,
                                  .size = bind->size,
                                  .resource_offset = bind->resourceOffset},
                       .resource = strict_handle_map_find(map, resource),
                       .memory = strict_find_memory(device, bind->memory),
                       .flags = bind->flags};
    out.whole = out.resource && bind->resourceOffset == 0 && bind->size >= out.resource->requirements.size;
    return out;
}

static bool covers_level(VkOffset3D offset, VkExtent3D extent, VkExtent3D level) {
    return offset.x == 0 && offset.y == 0 && offset.z == 0 && extent.width == level.width &&
           extent.height == level.height && extent.depth == level.depth;
}

/* The image bind a driver could take whole: a single-level, single-layer image
 * without a mip tail, covered in one bind. */
static bool covers_image(const strict_resource *image, const VkSparseImageMemoryBind *bind) {
    const strict_sparse_image *sparse = &image->sparse_image;
    return sparse->mip_levels == 1 && sparse->array_layers == 1 && sparse->layout.mip_tail_size == 0 &&
           covers_level(bind->offset, bind->extent, sparse->extent);
}

static sparse_bind image_bind(strict_device *device, VkImage image, const VkSparseImageMemoryBind *bind) {
    sparse_bind out = {.record = {.kind = STRICT_DEVICE_SPARSE_BIND_IMAGE,
                                  .resource = (uint64_t)image,
                                  .memory = bind->memory,
                                  .memory_offset = bind->memoryOffset,
                                  .subresource = bind->subresource,
                                  .offset = bind->offset,
                                  .extent = bind->extent},
                       .resource = strict_handle_map_find(&device->images, (uint64_t)image),
                       .memory = strict_find_memory(device, bind->memory),
                       .flags = bind->flags};
    if (out.resource && out.resource->sparse_image.resident) {
        out.record.size = strict_fake_sparse_region_bytes(&out.resource->sparse_image.layout, bind->extent);
        out.whole = covers_image(out.resource, bind) && out.record.size >= out.resource->driver_size;
    }
    return out;
}

static uint32_t gather_info(strict_device *device, const VkBindSparseInfo *info, sparse_bind *out) {
    uint32_t n = 0;
    for (uint32_t b = 0; b < info->bufferBindCount; b++) {
        const VkSparseBufferMemoryBindInfo *group = &info->pBufferBinds[b];
        for (uint32_t i = 0; i < group->bindCount; i++)
            out[n++] =
                opaque_bind(device, STRICT_DEVICE_SPARSE_BIND_BUFFER, (uint64_t)group->buffer, &group->pBinds[i]);
    }
    for (uint32_t b = 0; b < info->imageOpaqueBindCount; b++) {
        const VkSparseImageOpaqueMemoryBindInfo *group = &info->pImageOpaqueBinds[b];
        for (uint32_t i = 0; i < group->bindCount; i++)
            out[n++] =
                opaque_bind(device, STRICT_DEVICE_SPARSE_BIND_IMAGE_OPAQUE, (uint64_t)group->image, &group->pBinds[i]);
    }
    for (uint32_t b = 0; b < info->imageBindCount; b++) {
        const VkSparseImageMemoryBindInfo *group = &info->pImageBinds[b];
        for (uint32_t i = 0; i < group->bindCount; i++) out[n++] = image_bind(device, group->image, &group->pBinds[i]);
    }
    return n;
}

/* ---- checks, in the order the rules are reported ---- */

/* Levels in the mip tail are bound through opaque binds. */
static bool binds_by_region(const strict_sparse_image *image, const VkImageSubresource *sub) {
    return sub->aspectMask == VK_IMAGE_ASPECT_COLOR_BIT && sub->mipLevel < image->layout.mip_tail_first_lod &&
           sub->arrayLayer < image->array_layers;
}

static bool check_resource(strict_device *device, const sparse_bind *bind, uint32_t index) {
    const strict_resource *resource = bind->resource;
    bool image_bind = bind->record.kind == STRICT_DEVICE_SPARSE_BIND_IMAGE;
    const char *problem = NULL;
    if (!resource) problem = "is not a resource of this device";
    else if (!resource->sparse_flags || !resource->requirements_known) problem = "was not created sparse";
    else if (bind->flags & VK_SPARSE_MEMORY_BIND_METADATA_BIT) problem = "has no metadata aspect";
    else if (image_bind && !resource->sparse_image.resident)
        problem = "is not sparse resident in a format the device offers";
    else if (image_bind && !binds_by_region(&resource->sparse_image, &bind->record.subresource))
        problem = "has no such colour subresource outside its mip tail";
    if (problem)
        strict_violation(device, STRICT_DEVICE_VIOLATION_SPARSE_RESOURCE, "%s[%u]: %s 0x%" PRIx64 " %s", FUNCTION,
                         index, kind_names[bind->record.kind], bind->record.resource, problem);
    return problem == NULL;
}

static bool check_memory(strict_device *device, const sparse_bind *bind, uint32_t index) {
    const StrictDeviceSparseBind *record = &bind->record;
    const strict_memory *memory = bind->memory;
    const VkMemoryRequirements *needs = &bind->resource->requirements;
    if (!(needs->memoryTypeBits & (1u << memory->fake_type))) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE,
                         "%s[%u]: 0x%" PRIx64 " allows memory types 0x%x, memory 0x%" PRIx64 " has type %u", FUNCTION,
                         index, record->resource, needs->memoryTypeBits, (uint64_t)record->memory, memory->fake_type);
        return false;
    }
    if (record->memory_offset % needs->alignment != 0) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT,
                         "%s[%u]: memoryOffset %" PRIu64 " of 0x%" PRIx64 " is not on its %" PRIu64 "-byte blocks",
                         FUNCTION, index, record->memory_offset, record->resource, needs->alignment);
        return false;
    }
    if (record->size > memory->size || record->memory_offset > memory->size - record->size) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_BIND_RANGE,
                         "%s[%u]: %" PRIu64 " bytes at memoryOffset %" PRIu64 ", memory 0x%" PRIx64 " has %" PRIu64,
                         FUNCTION, index, record->size, record->memory_offset, (uint64_t)record->memory, memory->size);
        return false;
    }
    return true;
}

static bool opaque_blocks_valid(const sparse_bind *bind) {
    const VkMemoryRequirements *needs = &bind->resource->requirements;
    VkDeviceSize offset = bind->record.resource_offset, size = bind->record.size;
    return size != 0 && offset % needs->alignment == 0 && size % needs->alignment == 0 && offset <= needs->size &&
           size <= needs->size - offset;
}

/* One axis of an image bind: on block boundaries, inside the level, and whole
 * blocks unless it reaches the level's edge. */
static bool axis_valid(int32_t offset, uint32_t extent, uint32_t block, uint32_t level) {
    if (offset < 0 || (uint32_t)offset % block != 0 || extent == 0 || (uint32_t)offset > level) return false;
    return extent <= level - (uint32_t)offset && (extent % block == 0 || (uint32_t)offset + extent == level);
}

static bool image_blocks_valid(const sparse_bind *bind) {
    const strict_sparse_image *image = &bind->resource->sparse_image;
    const StrictDeviceSparseBind *record = &bind->record;
    VkExtent3D level = strict_fake_mip_extent(image->extent, record->subresource.mipLevel);
    VkExtent3D block = image->layout.granularity;
    return axis_valid(record->offset.x, record->extent.width, block.width, level.width) &&
           axis_valid(record->offset.y, record->extent.height, block.height, level.height) && record->offset.z == 0 &&
           record->extent.depth == 1;
}

static bool check_blocks(strict_device *device, const sparse_bind *bind, uint32_t index) {
    const StrictDeviceSparseBind *record = &bind->record;
    if (record->kind != STRICT_DEVICE_SPARSE_BIND_IMAGE) {
        if (opaque_blocks_valid(bind)) return true;
        strict_violation(device, STRICT_DEVICE_VIOLATION_SPARSE_BLOCK,
                         "%s[%u]: %s 0x%" PRIx64 " bound at resourceOffset %" PRIu64 " size %" PRIu64
                         ": not whole %" PRIu64 "-byte blocks of its %" PRIu64 " bytes",
                         FUNCTION, index, kind_names[record->kind], record->resource, record->resource_offset,
                         record->size, bind->resource->requirements.alignment, bind->resource->requirements.size);
        return false;
    }
    if (image_blocks_valid(bind)) return true;
    strict_violation(device, STRICT_DEVICE_VIOLATION_SPARSE_BLOCK,
                     "%s[%u]: image 0x%" PRIx64 " level %u layer %u at (%d, %d, %d) extent %ux%ux%u: not whole "
                     "%ux%u blocks inside the level",
                     FUNCTION, index, record->resource, record->subresource.mipLevel, record->subresource.arrayLayer,
                     record->offset.x, record->offset.y, record->offset.z, record->extent.width, record->extent.height,
                     record->extent.depth, bind->resource->sparse_image.layout.granularity.width,
                     bind->resource->sparse_image.layout.granularity.height);
    return false;
}

/* Reports the first rule the bind breaks; true when it may be made. */
static bool check_sparse_bind(strict_device *device, const sparse_bind *bind, uint32_t index) {
    bool unbind = bind->record.memory == VK_NULL_HANDLE;
    if (!unbind && !bind->memory) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "%s[%u]: memory 0x%" PRIx64 " is not a live allocation of this device", FUNCTION, index,
                         (uint64_t)bind->record.memory);
        return false;
    }
    if (!check_resource(device, bind, index)) return false;
    if (!unbind && !check_memory(device, bind, index)) return false;
    return check_blocks(device, bind, index);
}

/* ---- making the binds ---- */

static VkResult driver_bind(strict_device *device, const sparse_bind *bind) {
    const StrictDeviceSparseBind *record = &bind->record;
    if (record->kind == STRICT_DEVICE_SPARSE_BIND_BUFFER)
        return device->next.BindBufferMemory(device->handle, (VkBuffer)record->resource, record->memory,
                                             record->memory_offset);
    return device->next.BindImageMemory(device->handle, (VkImage)record->resource, record->memory,
                                        record->memory_offset);
}

/* A whole bind becomes a real one, once per resource; true when it did. */
static bool back_whole_resource(strict_device *device, const sparse_bind *bind, uint32_t index) {
    strict_resource *resource = bind->resource;
    if (resource->driver_bound) {
        strict_layer_error("%s[%u]: cannot emulate moving 0x%" PRIx64 ": the driver keeps its first memory", FUNCTION,
                           index, bind->record.resource);
        return false;
    }
    VkResult result = driver_bind(device, bind);
    if (result != VK_SUCCESS) {
        strict_layer_error("%s[%u]: the driver refused to bind 0x%" PRIx64 " whole (VkResult %d)", FUNCTION, index,
                           bind->record.resource, (int)result);
        return false;
    }
    resource->driver_bound = true;
    strict_track_whole_bind(device, FUNCTION, index, resource, bind->memory, bind->record.memory_offset);
    return true;
}

static void make_bind(strict_device *device, sparse_bind *bind, uint32_t index) {
    if (bind->whole && bind->memory) bind->record.backed = back_whole_resource(device, bind, index);
    else if (bind->whole && bind->resource->memory)
        strict_untrack_bind(bind->resource); /* unbound: no longer checked for overlap */
    device->sparse_history[device->counters.sparse_binds % STRICT_DEVICE_SPARSE_BIND_HISTORY] = bind->record;
    device->counters.sparse_binds++;
}

/* All or nothing, as a refused call must change nothing. */
static bool check_and_make_all(strict_device *device, sparse_bind *binds, uint32_t count) {
    bool valid = true;
    for (uint32_t i = 0; i < count; i++) valid = check_sparse_bind(device, &binds[i], i) && valid;
    for (uint32_t i = 0; valid && i < count; i++) make_bind(device, &binds[i], i);
    return valid;
}

/* ---- semaphores and fence ---- */

static VkResult signal_through_driver(strict_device *device, VkQueue queue, uint32_t count,
                                      const VkBindSparseInfo *infos, VkFence fence) {
    if (count == 0) return fence ? device->next.QueueSubmit(queue, 0, NULL, fence) : VK_SUCCESS;
    uint32_t most_waits = 0;
    for (uint32_t i = 0; i < count; i++)
        most_waits = infos[i].waitSemaphoreCount > most_waits ? infos[i].waitSemaphoreCount : most_waits;
    VkSubmitInfo *submits = calloc(count, sizeof(*submits));
    VkTimelineSemaphoreSubmitInfo *timelines = calloc(count, sizeof(*timelines));
    VkPipelineStageFlags *stages = calloc(most_waits ? most_waits : 1, sizeof(*stages));
    VkResult result = VK_ERROR_OUT_OF_HOST_MEMORY;
    if (submits && timelines && stages) {
        for (uint32_t w = 0; w < most_waits; w++)
            stages[w] = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT; /* the binds wait for everything */
        for (uint32_t i = 0; i < count; i++) {
            const VkTimelineSemaphoreSubmitInfo *timeline =
                strict_chain_find(infos[i].pNext, VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
            if (timeline) {
                timelines[i] = *timeline;
                timelines[i].pNext = NULL; /* the rest of the chain is for binds, not submits */
            }
            submits[i] = (VkSubmitInfo){.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                                        .pNext = timeline ? &timelines[i] : NULL,
                                        .waitSemaphoreCount = infos[i].waitSemaphoreCount,
                                        .pWaitSemaphores = infos[i].pWaitSemaphores,
                                        .pWaitDstStageMask = stages,
                                        .signalSemaphoreCount = infos[i].signalSemaphoreCount,
                                        .pSignalSemaphores = infos[i].pSignalSemaphores};
        }
        result = device->next.QueueSubmit(queue, count, submits, fence);
    }
    free(submits);
    free(timelines);
    free(stages);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_QueueBindSparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *infos,
                                                      VkFence fence) {
    strict_device *device = strict_registry_device(queue); /* a queue shares its device's dispatch key */
    if (!device || (count && !infos)) return VK_ERROR_OUT_OF_HOST_MEMORY;
    uint32_t total = count_binds(count, infos);
    sparse_bind *binds = calloc(total ? total : 1, sizeof(*binds));
    if (!binds) return VK_ERROR_OUT_OF_HOST_MEMORY;
    pthread_mutex_lock(&device->lock);
    uint32_t gathered = 0;
    for (uint32_t i = 0; i < count; i++) gathered += gather_info(device, &infos[i], binds + gathered);
    bool valid = check_and_make_all(device, binds, gathered);
    pthread_mutex_unlock(&device->lock);
    free(binds);
    if (!valid) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    return signal_through_driver(device, queue, count, infos, fence);
}
