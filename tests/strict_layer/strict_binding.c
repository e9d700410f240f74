/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_binding.c: buffers, images and their binds.
 *
 * Each bind is checked against what the fake device told the caller about that
 * resource: memory type, alignment, range, and against the resources already
 * bound to the same VkDeviceMemory: bufferImageGranularity between neighbours
 * (aliasing is legal), and overlap only for programs that forbid it. Sparse
 * resources are made plain for the driver and bound by vkQueueBindSparse only
 * (strict_sparse_binding.c), which tracks whole binds here too. What is bound
 * where also tells the host cache which bytes the device may have written.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "strict_layer_internal.h"

static strict_resource *new_resource(uint64_t handle, strict_resource_shape shape) {
    strict_resource *resource = calloc(1, sizeof(*resource));
    if (resource) {
        resource->handle = handle;
        resource->shape = shape;
    }
    return resource;
}

static VkDeviceSize end_of(const strict_resource *resource) { return resource->offset + resource->requirements.size; }

static void detach(strict_resource *resource) {
    strict_memory *memory = resource->memory;
    uint32_t index = resource->bound_index;
    memory->bound[index] = memory->bound[--memory->bound_count];
    memory->bound[index]->bound_index = index;
    resource->memory = NULL;
}

static bool attach(strict_resource *resource, strict_memory *memory, VkDeviceSize offset) {
    if (resource->memory) detach(resource);
    if (memory->bound_count == memory->bound_capacity) {
        uint32_t capacity = memory->bound_capacity ? memory->bound_capacity * 2 : 8;
        strict_resource **bound = realloc(memory->bound, capacity * sizeof(*bound));
        if (!bound) return false;
        memory->bound = bound;
        memory->bound_capacity = capacity;
    }
    resource->bound_index = memory->bound_count;
    memory->bound[memory->bound_count++] = resource;
    resource->memory = memory;
    resource->offset = offset;
    return true;
}

void strict_memory_unbind_all(strict_memory *memory) {
    for (uint32_t i = 0; i < memory->bound_count; i++) memory->bound[i]->memory = NULL;
    memory->bound_count = 0;
}

static void free_resource(void *value, void *context) {
    (void)context;
    strict_resource *resource = value;
    if (resource->memory) detach(resource);
    free(resource);
}

void strict_device_free_resources(strict_device *device) {
    strict_handle_map_for_each(&device->buffers, free_resource, NULL);
    strict_handle_map_for_each(&device->images, free_resource, NULL);
}

/* ---- creation and destruction ---- */

static VkResult remember_resource(strict_device *device, strict_handle_map *map, strict_resource *resource) {
    pthread_mutex_lock(&device->lock);
    bool stored = resource && strict_handle_map_insert(map, resource->handle, resource);
    pthread_mutex_unlock(&device->lock);
    if (stored) return VK_SUCCESS;
    free(resource);
    return VK_ERROR_OUT_OF_HOST_MEMORY;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_CreateBuffer(VkDevice handle, const VkBufferCreateInfo *info,
                                                   const VkAllocationCallbacks *allocator, VkBuffer *buffer) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkBufferCreateInfo driver_info = strict_sparse_driver_buffer_info(info);
    VkResult result = device->next.CreateBuffer(handle, &driver_info, allocator, buffer);
    if (result != VK_SUCCESS) return result;
    strict_resource *resource = new_resource((uint64_t)*buffer, strict_buffer_shape(info));
    if (resource) {
        /* Learn now what the caller will be told, to check its bind later. */
        device->next.GetBufferMemoryRequirements(handle, *buffer, &resource->requirements);
        resource->driver_size = resource->requirements.size;
        strict_fake_requirements(&device->physical->backing, resource->shape, &resource->requirements);
        resource->requirements_known = true;
        strict_sparse_describe_buffer(resource, info);
    }
    result = remember_resource(device, &device->buffers, resource);
    if (result != VK_SUCCESS) device->next.DestroyBuffer(handle, *buffer, allocator);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_CreateImage(VkDevice handle, const VkImageCreateInfo *info,
                                                  const VkAllocationCallbacks *allocator, VkImage *image) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkImageCreateInfo driver_info = strict_sparse_driver_image_info(info);
    VkResult result = device->next.CreateImage(handle, &driver_info, allocator, image);
    if (result != VK_SUCCESS) return result;
    strict_resource *resource = new_resource((uint64_t)*image, strict_image_shape(info));
    /* A disjoint image has one set of requirements per plane, asked at bind. */
    if (resource && !(info->flags & VK_IMAGE_CREATE_DISJOINT_BIT)) {
        device->next.GetImageMemoryRequirements(handle, *image, &resource->requirements);
        resource->driver_size = resource->requirements.size;
        strict_fake_requirements(&device->physical->backing, resource->shape, &resource->requirements);
        resource->requirements_known = true;
    }
    if (resource) strict_sparse_describe_image(resource, info);
    result = remember_resource(device, &device->images, resource);
    if (result != VK_SUCCESS) device->next.DestroyImage(handle, *image, allocator);
    return result;
}

static void forget_resource(strict_device *device, strict_handle_map *map, uint64_t handle) {
    pthread_mutex_lock(&device->lock);
    strict_resource *resource = strict_handle_map_remove(map, handle);
    if (resource && resource->memory)
        strict_host_cache_resource_gone(device, resource->memory, resource->offset, end_of(resource));
    if (resource) free_resource(resource, NULL);
    strict_markers_forget(device, handle);
    pthread_mutex_unlock(&device->lock);
}

VKAPI_ATTR void VKAPI_CALL strict_DestroyBuffer(VkDevice handle, VkBuffer buffer,
                                                const VkAllocationCallbacks *allocator) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    forget_resource(device, &device->buffers, (uint64_t)buffer);
    device->next.DestroyBuffer(handle, buffer, allocator);
}

VKAPI_ATTR void VKAPI_CALL strict_DestroyImage(VkDevice handle, VkImage image, const VkAllocationCallbacks *allocator) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return;
    forget_resource(device, &device->images, (uint64_t)image);
    device->next.DestroyImage(handle, image, allocator);
}

/* ---- bind checks ---- */

typedef struct bind_request {
    const char *function;
    uint32_t index; /* position in a *2 call's array */
    uint64_t resource_handle;
    strict_resource *resource; /* NULL for a resource created before us */
    VkDeviceMemory memory_handle;
    strict_memory *memory;
    VkDeviceSize offset;
    bool skip; /* swapchain-image binds: no memory to check */
    bool have_requirements;
    VkMemoryRequirements requirements;
    bool track; /* whole-resource binds are tracked for overlap */
} bind_request;

static bool is_linear(strict_resource_shape shape) { return shape.kind != STRICT_RESOURCE_OPTIMAL_IMAGE; }

static bool overlaps(const bind_request *bind, const strict_resource *other) {
    return other->offset < bind->offset + bind->requirements.size && bind->offset < end_of(other);
}

static const strict_resource *first_overlap(const bind_request *bind) {
    for (uint32_t i = 0; i < bind->memory->bound_count; i++) {
        const strict_resource *other = bind->memory->bound[i];
        if (other != bind->resource && overlaps(bind, other)) return other;
    }
    return NULL;
}

/*
 * The spec's buffer-image granularity rule ("Resource Memory Association"):
 * of two resources in the same VkDeviceMemory, one linear (a buffer or a
 * linear image) and one not, with resource A at the lower offset and B at the
 * higher, the page of A's last byte must come before the page of B's first
 * byte, pages being bufferImageGranularity bytes. It is about neighbours: two
 * resources over the same bytes are aliased on purpose (legal, the program
 * owns the consequences), not placed too close, so they are not checked.
 */
static bool too_close(VkDeviceSize lower_end, VkDeviceSize higher_start, VkDeviceSize granularity) {
    VkDeviceSize lower_end_page = (lower_end - 1) & ~(granularity - 1);
    VkDeviceSize higher_start_page = higher_start & ~(granularity - 1);
    return !(lower_end_page < higher_start_page);
}

static const strict_resource *first_granularity_conflict(const bind_request *bind, VkDeviceSize granularity) {
    for (uint32_t i = 0; i < bind->memory->bound_count; i++) {
        const strict_resource *other = bind->memory->bound[i];
        if (other == bind->resource || is_linear(other->shape) == is_linear(bind->resource->shape)) continue;
        if (overlaps(bind, other)) continue;
        bool other_is_lower = other->offset < bind->offset;
        if (other_is_lower ? too_close(end_of(other), bind->offset, granularity)
                           : too_close(bind->offset + bind->requirements.size, other->offset, granularity))
            return other;
    }
    return NULL;
}

/* Legal Vulkan that only a program's own declaration makes wrong: with
 * STRICT_DEVICE_FORBID_ALIASING=1 the program says it never aliases, so an
 * overlap can only be a layer above placing two of its resources on the
 * same bytes. Reported, but still bound. */
static void check_neighbours(strict_device *device, const bind_request *bind) {
    const strict_resource *other = device->forbid_aliasing ? first_overlap(bind) : NULL;
    if (other) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_OVERLAP,
                         "%s[%u]: 0x%" PRIx64 " at [%" PRIu64 ", %" PRIu64 ") overlaps 0x%" PRIx64 " at [%" PRIu64
                         ", %" PRIu64 ") in memory 0x%" PRIx64 " (STRICT_DEVICE_FORBID_ALIASING=1)",
                         bind->function, bind->index, bind->resource_handle, bind->offset,
                         bind->offset + bind->requirements.size, other->handle, other->offset, end_of(other),
                         (uint64_t)bind->memory_handle);
        return;
    }
    VkDeviceSize granularity = device->granularity;
    other = first_granularity_conflict(bind, granularity);
    if (other) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_GRANULARITY,
                         "%s[%u]: %s 0x%" PRIx64 " at [%" PRIu64 ", %" PRIu64 ") and %s 0x%" PRIx64 " at [%" PRIu64
                         ", %" PRIu64 ") in memory 0x%" PRIx64 " are neighbours on one %" PRIu64 "-byte page",
                         bind->function, bind->index, is_linear(bind->resource->shape) ? "linear" : "optimal",
                         bind->resource_handle, bind->offset, bind->offset + bind->requirements.size,
                         is_linear(other->shape) ? "linear" : "optimal", other->handle, other->offset, end_of(other),
                         (uint64_t)bind->memory_handle, granularity);
    }
}

/* Reports the first rule the bind breaks; true when the driver may take it. */
static bool check_bind(strict_device *device, const bind_request *bind) {
    if (bind->skip) return true;
    if (!bind->memory) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "%s[%u]: memory 0x%" PRIx64 " is not a live allocation of this device", bind->function,
                         bind->index, (uint64_t)bind->memory_handle);
        return false;
    }
    if (bind->resource && bind->resource->sparse_flags) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_SPARSE_RESOURCE,
                         "%s[%u]: 0x%" PRIx64 " was created sparse: only vkQueueBindSparse may bind it", bind->function,
                         bind->index, bind->resource_handle);
        return false;
    }
    if (!bind->have_requirements) return true;
    const VkMemoryRequirements *needs = &bind->requirements;
    if (!(needs->memoryTypeBits & (1u << bind->memory->fake_type))) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE,
                         "%s[%u]: 0x%" PRIx64 " allows memory types 0x%x, memory 0x%" PRIx64 " has type %u",
                         bind->function, bind->index, bind->resource_handle, needs->memoryTypeBits,
                         (uint64_t)bind->memory_handle, bind->memory->fake_type);
        return false;
    }
    if (bind->offset % needs->alignment != 0) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT,
                         "%s[%u]: 0x%" PRIx64 " bound at offset %" PRIu64 ", its alignment is %" PRIu64, bind->function,
                         bind->index, bind->resource_handle, bind->offset, needs->alignment);
        return false;
    }
    if (needs->size > bind->memory->size || bind->offset > bind->memory->size - needs->size) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_BIND_RANGE,
                         "%s[%u]: 0x%" PRIx64 " needs %" PRIu64 " bytes at offset %" PRIu64 ", memory 0x%" PRIx64
                         " has %" PRIu64,
                         bind->function, bind->index, bind->resource_handle, needs->size, bind->offset,
                         (uint64_t)bind->memory_handle, bind->memory->size);
        return false;
    }
    if (bind->track) check_neighbours(device, bind);
    return true;
}

static void record_bind(const bind_request *bind) {
    if (bind->skip || !bind->memory) return;
    if (!bind->track || !bind->resource) {
        bind->memory->untracked_binds = true;
        return;
    }
    if (!attach(bind->resource, bind->memory, bind->offset)) {
        bind->memory->untracked_binds = true;
        strict_layer_error("out of host memory: 0x%" PRIx64 " is bound but not tracked", bind->resource_handle);
    }
}

void strict_track_whole_bind(strict_device *device, const char *function, uint32_t index, strict_resource *resource,
                             strict_memory *memory, VkDeviceSize offset) {
    bind_request bind = {.function = function,
                         .index = index,
                         .resource_handle = resource->handle,
                         .resource = resource,
                         .memory_handle = memory->handle,
                         .memory = memory,
                         .offset = offset,
                         .have_requirements = true,
                         .requirements = resource->requirements,
                         .track = true};
    check_neighbours(device, &bind);
    record_bind(&bind);
}

void strict_untrack_bind(strict_resource *resource) {
    if (resource->memory) detach(resource);
}

static bind_request buffer_bind(strict_device *device, const char *function, uint32_t index, VkBuffer buffer,
                                VkDeviceMemory memory, VkDeviceSize offset) {
    bind_request bind = {.function = function,
                         .index = index,
                         .resource_handle = (uint64_t)buffer,
                         .memory_handle = memory,
                         .offset = offset};
    bind.resource = strict_handle_map_find(&device->buffers, (uint64_t)buffer);
    bind.memory = strict_find_memory(device, memory);
    if (bind.resource && bind.resource->requirements_known) {
        bind.have_requirements = true;
        bind.requirements = bind.resource->requirements;
        bind.track = true;
    }
    return bind;
}

static VkMemoryRequirements plane_requirements(strict_device *device, VkImage image, const strict_resource *resource,
                                               VkImageAspectFlagBits plane) {
    VkImagePlaneMemoryRequirementsInfo plane_info = {VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO, NULL,
                                                     plane};
    VkImageMemoryRequirementsInfo2 info = {VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2, &plane_info, image};
    VkMemoryRequirements2 requirements = {VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2, NULL, {0}};
    device->next.GetImageMemoryRequirements2(device->handle, &info, &requirements);
    strict_fake_requirements(&device->physical->backing, resource->shape, &requirements.memoryRequirements);
    return requirements.memoryRequirements;
}

static bind_request image_bind(strict_device *device, const char *function, uint32_t index, VkImage image,
                               VkDeviceMemory memory, VkDeviceSize offset, const void *chain) {
    bind_request bind = {.function = function,
                         .index = index,
                         .resource_handle = (uint64_t)image,
                         .memory_handle = memory,
                         .offset = offset};
    bind.resource = strict_handle_map_find(&device->images, (uint64_t)image);
    bind.memory = strict_find_memory(device, memory);
    const VkBindImagePlaneMemoryInfo *plane = strict_chain_find(chain, VK_STRUCTURE_TYPE_BIND_IMAGE_PLANE_MEMORY_INFO);
    if (memory == VK_NULL_HANDLE && strict_chain_find(chain, VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_SWAPCHAIN_INFO_KHR)) {
        bind.skip = true;
    } else if (bind.resource && plane) {
        /* Planes are checked one by one but not tracked for overlap. */
        bind.have_requirements = true;
        bind.requirements = plane_requirements(device, image, bind.resource, plane->planeAspect);
    } else if (bind.resource && bind.resource->requirements_known) {
        bind.have_requirements = true;
        bind.requirements = bind.resource->requirements;
        bind.track = true;
    }
    return bind;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_BindBufferMemory(VkDevice handle, VkBuffer buffer, VkDeviceMemory memory,
                                                       VkDeviceSize offset) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_OUT_OF_HOST_MEMORY;
    pthread_mutex_lock(&device->lock);
    bind_request bind = buffer_bind(device, "vkBindBufferMemory", 0, buffer, memory, offset);
    VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    if (check_bind(device, &bind)) result = device->next.BindBufferMemory(handle, buffer, memory, offset);
    if (result == VK_SUCCESS) record_bind(&bind);
    pthread_mutex_unlock(&device->lock);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_BindImageMemory(VkDevice handle, VkImage image, VkDeviceMemory memory,
                                                      VkDeviceSize offset) {
    strict_device *device = strict_registry_device(handle);
    if (!device) return VK_ERROR_OUT_OF_HOST_MEMORY;
    pthread_mutex_lock(&device->lock);
    bind_request bind = image_bind(device, "vkBindImageMemory", 0, image, memory, offset, NULL);
    VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    if (check_bind(device, &bind)) result = device->next.BindImageMemory(handle, image, memory, offset);
    if (result == VK_SUCCESS) record_bind(&bind);
    pthread_mutex_unlock(&device->lock);
    return result;
}

/* The *2 forms: each element is checked after the ones before it are
 * attached, so binds within one call are checked against each other too; the
 * array goes down whole or not at all, and a refused one attaches nothing. */
static bool check_and_attach_all(strict_device *device, bind_request *binds, uint32_t count) {
    bool valid = true;
    for (uint32_t i = 0; i < count; i++) {
        if (check_bind(device, &binds[i])) record_bind(&binds[i]);
        else valid = false;
    }
    return valid;
}

static void detach_all(bind_request *binds, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) {
        if (binds[i].resource && binds[i].resource->memory) detach(binds[i].resource);
    }
}

VKAPI_ATTR VkResult VKAPI_CALL strict_BindBufferMemory2(VkDevice handle, uint32_t count,
                                                        const VkBindBufferMemoryInfo *infos) {
    strict_device *device = strict_registry_device(handle);
    bind_request *binds = calloc(count ? count : 1, sizeof(*binds));
    if (!device || !binds || (count && !infos)) {
        free(binds);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    pthread_mutex_lock(&device->lock);
    for (uint32_t i = 0; i < count; i++)
        binds[i] =
            buffer_bind(device, "vkBindBufferMemory2", i, infos[i].buffer, infos[i].memory, infos[i].memoryOffset);
    VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    if (check_and_attach_all(device, binds, count)) result = device->next.BindBufferMemory2(handle, count, infos);
    if (result != VK_SUCCESS) detach_all(binds, count);
    pthread_mutex_unlock(&device->lock);
    free(binds);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_BindImageMemory2(VkDevice handle, uint32_t count,
                                                       const VkBindImageMemoryInfo *infos) {
    strict_device *device = strict_registry_device(handle);
    bind_request *binds = calloc(count ? count : 1, sizeof(*binds));
    if (!device || !binds || (count && !infos)) {
        free(binds);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    pthread_mutex_lock(&device->lock);
    for (uint32_t i = 0; i < count; i++)
        binds[i] = image_bind(device, "vkBindImageMemory2", i, infos[i].image, infos[i].memory, infos[i].memoryOffset,
                              infos[i].pNext);
    VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    if (check_and_attach_all(device, binds, count)) result = device->next.BindImageMemory2(handle, count, infos);
    if (result != VK_SUCCESS) detach_all(binds, count);
    pthread_mutex_unlock(&device->lock);
    free(binds);
    return result;
}
