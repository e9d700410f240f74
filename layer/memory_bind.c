/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memory_bind.c: every bind of a resource to memory.
 *
 * The app binds at memoryOffset inside its allocation; the driver must see
 * (block, slice offset + memoryOffset). Before a bind into a layer handle
 * reaches the driver, the layer checks the memory type, the size, and the
 * alignment of the real offset against the resource's requirements: the ones
 * the calling thread's own query just returned (requirements_cache.c), else a
 * fresh answer from the driver, which alone may refuse a bind. A
 * slice nobody has used yet moves to a stronger alignment if it needs one; a
 * bind that would still be misaligned is refused and never reaches the driver.
 *
 * The usual bind needs none of that: an allocation made right after the
 * thread queried a resource was checked against that resource then
 * (memory_allocate.c), so its first bind at offset 0 only proves that it is
 * that resource, not destroyed since, on the memory's device.
 *
 * Arrays (bind2, sparse, video, acceleration structures) are copied to the
 * thread's scratch arena only when they hold a layer handle; otherwise they go
 * down untouched.
 */
#include <stddef.h>
#include <string.h>

#include "log.h"
#include "requirements_cache.h"
#include "scratch_arena.h"

#define HAS_LAYER_MEMORY(items, count, type) any_layer_memory((items), (count), sizeof(type), offsetof(type, memory))

static inline bool bind_fits(const suballoc_memory *record, VkDeviceSize offset,
                             const VkMemoryRequirements *requirements) {
    return resource_fits(record, offset, requirements->size, pow2_at_least(requirements->alignment),
                         requirements->memoryTypeBits);
}

/* Logs the first rule a refused bind breaks (bind_fits said no). */
static __attribute__((cold, noinline)) void report_refused_bind(suballoc_device *device, const char *caller,
                                                                const suballoc_memory *record, VkDeviceSize offset,
                                                                const VkMemoryRequirements *requirements) {
    unsigned long long handle = (unsigned long long)memory_handle_of(record);
    uint64_t alignment = pow2_at_least(requirements->alignment);
    if (!(requirements->memoryTypeBits & (1u << record->memory_type)))
        LOG_ERROR(device,
                  "%s: memory 0x%llx is of memory type %u, which the resource does not allow (memoryTypeBits 0x%x)",
                  caller, handle, record->memory_type, requirements->memoryTypeBits);
    else if (!is_aligned(offset, alignment))
        LOG_ERROR(device, "%s: memoryOffset %llu is not a multiple of the resource's alignment %llu", caller,
                  (unsigned long long)offset, (unsigned long long)alignment);
    else
        LOG_ERROR(device, "%s: %llu bytes at memoryOffset %llu do not fit in memory 0x%llx of %llu bytes", caller,
                  (unsigned long long)requirements->size, (unsigned long long)offset, handle,
                  (unsigned long long)record->size);
}

static bool bind_allowed(suballoc_device *device, const char *caller, const suballoc_memory *record,
                         VkDeviceSize offset, const VkMemoryRequirements *requirements) {
    if (likely(bind_fits(record, offset, requirements))) return true;
    report_refused_bind(device, caller, record, offset, requirements);
    return false;
}

/* Checks a bind of a resource of `kind` (MEMORY_BOUND_*) into memory at offset
 * against the resource's requirements and returns where the driver must bind it. */
static VkResult translate_bind(suballoc_device *device, const char *caller, uint8_t kind, VkDeviceMemory memory,
                               VkDeviceSize offset, const VkMemoryRequirements *requirements,
                               VkDeviceMemory *out_memory, VkDeviceSize *out_offset) {
    *out_memory = memory;
    *out_offset = offset;
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, caller, memory, &invalid);
    if (invalid) return VK_ERROR_UNKNOWN;
    if (record == NULL) return VK_SUCCESS;
    if (!bind_allowed(device, caller, record, offset, requirements)) return VK_ERROR_UNKNOWN;
    note_requirements(device, requirements);
    return slice_translate(device, caller, record, offset, pow2_at_least(requirements->alignment), kind, out_memory,
                           out_offset);
}

/* ---- requirements of the resource being bound ----------------------------------- */

/* What vkBind*Memory binds: a buffer, or an image (with its bind chain, which
 * may name one plane of a disjoint image). */
typedef struct bound_resource {
    VkObjectType type;
    uint64_t handle;
    const void *bind_chain;
} bound_resource;

static const VkBindImagePlaneMemoryInfo *plane_of(const void *bind_chain) {
    for (const VkBaseInStructure *s = bind_chain; s != NULL; s = s->pNext)
        if (s->sType == VK_STRUCTURE_TYPE_BIND_IMAGE_PLANE_MEMORY_INFO) return (const void *)s;
    return NULL;
}

/* A disjoint image binds each plane on its own: ask for that plane's requirements. */
static void image_plane_requirements(suballoc_device *device, VkImage image, const VkBindImagePlaneMemoryInfo *plane,
                                     VkMemoryRequirements *out) {
    PFN_vkGetImageMemoryRequirements2 get2 = device->next.GetImageMemoryRequirements2 != NULL
                                                 ? device->next.GetImageMemoryRequirements2
                                                 : device->next.GetImageMemoryRequirements2KHR;
    if (get2 == NULL) {
        device->next.GetImageMemoryRequirements(device->handle, image, out);
        return;
    }
    VkImagePlaneMemoryRequirementsInfo plane_info = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO,
        .planeAspect = plane->planeAspect,
    };
    VkImageMemoryRequirementsInfo2 info = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
        .pNext = &plane_info,
        .image = image,
    };
    VkMemoryRequirements2 requirements = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
    get2(device->handle, &info, &requirements);
    *out = requirements.memoryRequirements;
}

/* The driver's answer. Not kept: a resource is bound once, and keeping it
 * would push out an answer a later bind in the same scene still needs, whose
 * miss would push out the next one. */
static void ask_driver(suballoc_device *device, const bound_resource *r, VkMemoryRequirements *out) {
    const VkBindImagePlaneMemoryInfo *plane = r->type == VK_OBJECT_TYPE_IMAGE ? plane_of(r->bind_chain) : NULL;
    if (plane != NULL) {
        image_plane_requirements(device, (VkImage)r->handle, plane, out);
        return;
    }
    if (r->type == VK_OBJECT_TYPE_BUFFER)
        device->next.GetBufferMemoryRequirements(device->handle, (VkBuffer)r->handle, out);
    else device->next.GetImageMemoryRequirements(device->handle, (VkImage)r->handle, out);
}

/* A bind checked but not done yet: arrays (bind2) check every element before
 * any slice is pinned, so a refused call changes nothing, as the driver's. */
typedef struct planned_bind {
    suballoc_memory *record; /* NULL: driver memory, passed on as it is */
    uint64_t alignment;
    uint8_t kind;
} planned_bind;

/* The slow half of a bind's check: the thread's table did not have the
 * resource (or no longer trusts its answer), or that answer would refuse the
 * bind. Only the driver's own answer may refuse it. */
static __attribute__((noinline)) bool driver_allows_bind(suballoc_device *device, const char *caller,
                                                         const bound_resource *r, const suballoc_memory *record,
                                                         VkDeviceSize offset, VkMemoryRequirements *requirements) {
    ask_driver(device, r, requirements);
    if (!bind_allowed(device, caller, record, offset, requirements)) return false;
    note_requirements(device, requirements);
    return true;
}

/* Checks a bind of a buffer or image: the requirements come from the thread's
 * cache when it has them and they allow the bind (the usual create, query,
 * allocate, bind); otherwise from the driver. */
static VkResult plan_record_bind(suballoc_device *device, const char *caller, const bound_resource *r,
                                 suballoc_memory *record, VkDeviceSize offset, planned_bind *out) {
    out->kind = r->type == VK_OBJECT_TYPE_BUFFER ? MEMORY_BOUND_BUFFER : MEMORY_BOUND_IMAGE;
    out->record = record;
    if (record == NULL) return VK_SUCCESS;
    VkMemoryRequirements requirements;
    bool cacheable = r->bind_chain == NULL || plane_of(r->bind_chain) == NULL;
    if (unlikely(!cacheable || !requirements_cache_get(device, r->type, r->handle, &requirements) ||
                 !bind_fits(record, offset, &requirements)) &&
        !driver_allows_bind(device, caller, r, record, offset, &requirements))
        return VK_ERROR_UNKNOWN;
    out->alignment = pow2_at_least(requirements.alignment);
    return VK_SUCCESS;
}

static VkResult plan_resource_bind(suballoc_device *device, const char *caller, const bound_resource *r,
                                   VkDeviceMemory memory, VkDeviceSize offset, planned_bind *out) {
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, caller, memory, &invalid);
    if (invalid) return VK_ERROR_UNKNOWN;
    return plan_record_bind(device, caller, r, record, offset, out);
}

/* Pins the slice (moving it first if it may and must) and says where the driver binds. */
static VkResult do_planned_bind(suballoc_device *device, const char *caller, const planned_bind *plan,
                                VkDeviceMemory *memory, VkDeviceSize *offset) {
    if (plan->record == NULL) return VK_SUCCESS;
    return slice_translate(device, caller, plan->record, *offset, plan->alignment, plan->kind, memory, offset);
}

/* ---- bind 1 ------------------------------------------------------------------------ */

/* The usual bind, done inline: a resource this thread just queried, into a
 * slice that is (or may still move to be) aligned for it. Fixes the slice;
 * false sends the bind down the full path, which asks the driver and logs
 * why it refuses. */
static inline bool quick_bind(suballoc_memory *record, const cached_requirements *cached, uint8_t kind,
                              VkDeviceSize offset) {
    uint64_t alignment = (uint64_t)1 << cached->alignment_log2;
    return resource_fits(record, offset, cached->size, alignment, cached->memory_type_bits) &&
           slice_fix_placement(record, alignment, kind) == VK_SUCCESS;
}

/* Hands a single bind to the next layer. */
static inline VkResult bind_down(suballoc_device *device, VkDevice handle, VkObjectType type, uint64_t resource,
                                 VkDeviceMemory memory, VkDeviceSize offset) {
    return type == VK_OBJECT_TYPE_BUFFER ? device->next.BindBufferMemory(handle, (VkBuffer)resource, memory, offset)
                                         : device->next.BindImageMemory(handle, (VkImage)resource, memory, offset);
}

/* The full path of a single bind (checked, pinned, moved to block
 * coordinates), out of line and taking values, not pointers, so that the
 * quick one keeps everything in registers and hands the call on as a tail call. */
static __attribute__((noinline)) VkResult bind_slow(suballoc_device *device, VkDevice handle, const char *caller,
                                                    VkObjectType type, uint64_t resource, suballoc_memory *record,
                                                    VkDeviceMemory memory, VkDeviceSize offset) {
    bound_resource r = {type, resource, NULL};
    planned_bind plan;
    VkResult result = plan_record_bind(device, caller, &r, record, offset, &plan);
    if (result == VK_SUCCESS) result = do_planned_bind(device, caller, &plan, &memory, &offset);
    if (result != VK_SUCCESS) return result;
    return bind_down(device, handle, type, resource, memory, offset);
}

/* Every single bind the quickest path (below) does not take: driver memory,
 * a resource the thread queried among others, one nobody here queried, or a
 * bind to refuse and log. */
static __attribute__((noinline)) VkResult bind_general(VkDevice handle, const char *caller, VkObjectType type,
                                                       uint64_t resource, VkDeviceMemory memory, VkDeviceSize offset) {
    suballoc_device *device = DEVICE_OF(handle);
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, caller, memory, &invalid);
    if (invalid) return VK_ERROR_UNKNOWN;
    if (record == NULL) return bind_down(device, handle, type, resource, memory, offset);
    uint8_t kind = type == VK_OBJECT_TYPE_BUFFER ? MEMORY_BOUND_BUFFER : MEMORY_BOUND_IMAGE;
    const cached_requirements *cached = requirements_cache_find(device, type, resource);
    if (likely(cached != NULL && quick_bind(record, cached, kind, offset)))
        return bind_down(device, handle, type, resource, record->block->memory, record->offset + offset);
    return bind_slow(device, handle, caller, type, resource, record, memory, offset);
}

/* The quickest bind, and the usual one: the first bind into this memory,
 * at offset 0, of the resource the thread queried just before it allocated
 * the memory (its type, size and alignment were checked against the slice
 * then, and a slice still movable has not moved since), not destroyed since
 * (else its handle may name another resource now), on the memory's device.
 * Pins the slice and returns its device, or NULL for bind_general. No device
 * lookup and no call, so no register is saved. */
static inline suballoc_device *expected_bind(VkDevice handle, VkObjectType type, uint64_t resource,
                                             suballoc_memory *record, VkDeviceSize offset, uint8_t kind) {
    if (record == NULL || record->expected_resource != resource || offset != 0 ||
        record->expected_type != (uint8_t)type ||
        record->expected_destroys != atomic_load_explicit(record->expected_destroys_of, memory_order_relaxed))
        return NULL;
    suballoc_device *device = record->pool->device; /* a record's pool never changes */
    uint8_t state = SLICE_MOVABLE;
    if (device->dispatch_key != dispatch_key_of(handle) ||
        !atomic_compare_exchange_strong_explicit(&record->placement, &state, (uint8_t)(SLICE_FIXED | kind),
                                                 memory_order_acq_rel, memory_order_relaxed))
        return NULL;
    return device;
}

/* A single bind: the quickest path inline, as a tail call to the driver, the
 * rest out of line. Inline, so that type is a constant in each entry point. */
static inline VkResult bind_single(VkDevice handle, const char *caller, VkObjectType type, uint64_t resource,
                                   VkDeviceMemory memory, VkDeviceSize offset) {
    bool stale;
    suballoc_memory *record = memory_record_of(memory, &stale);
    uint8_t kind = type == VK_OBJECT_TYPE_BUFFER ? MEMORY_BOUND_BUFFER : MEMORY_BOUND_IMAGE;
    suballoc_device *device = expected_bind(handle, type, resource, record, offset, kind);
    if (likely(device != NULL)) return bind_down(device, handle, type, resource, record->block->memory, record->offset);
    return bind_general(handle, caller, type, resource, memory, offset);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindBufferMemory(VkDevice handle, VkBuffer buffer, VkDeviceMemory memory,
                                                      VkDeviceSize offset) {
    return bind_single(handle, "vkBindBufferMemory", VK_OBJECT_TYPE_BUFFER, (uint64_t)buffer, memory, offset);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindImageMemory(VkDevice handle, VkImage image, VkDeviceMemory memory,
                                                     VkDeviceSize offset) {
    return bind_single(handle, "vkBindImageMemory", VK_OBJECT_TYPE_IMAGE, (uint64_t)image, memory, offset);
}

/* ---- bind 2: all or nothing, as the driver would ------------------------------------ */

/* One element of a bind2 array: the resource, and where its memory and offset
 * live in the translated copy. */
typedef struct bind_element {
    bound_resource resource;
    VkDeviceMemory *memory;
    VkDeviceSize *offset;
} bind_element;

/* Gives every plan the largest alignment among the plans on its memory, so
 * the first pin moves the slice far enough for all of them (aliasing resources
 * bound in one array). A small open-addressed table keeps this linear. */
static VkResult share_alignment_per_record(scratch_frame *frame, planned_bind *plans, uint32_t count) {
    uint32_t capacity = 16;
    while (capacity < 2 * (uint64_t)count) capacity *= 2;
    planned_bind **first = scratch_alloc(frame, capacity * sizeof *first, _Alignof(planned_bind *));
    if (first == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    memset(first, 0, capacity * sizeof *first);
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < count; i++) {
            if (plans[i].record == NULL) continue;
            uint32_t slot = (uint32_t)(((uintptr_t)plans[i].record >> 4) * 2654435761u) & (capacity - 1);
            while (first[slot] != NULL && first[slot]->record != plans[i].record) slot = (slot + 1) & (capacity - 1);
            if (first[slot] == NULL) first[slot] = &plans[i];
            planned_bind *owner = first[slot];
            if (pass == 0 && plans[i].alignment > owner->alignment) owner->alignment = plans[i].alignment;
            if (pass == 1) plans[i].alignment = owner->alignment;
        }
    }
    return VK_SUCCESS;
}

/* Plans every element, then pins: a refused element leaves every slice as it was. */
static VkResult translate_bind_elements(suballoc_device *device, scratch_frame *frame, const char *caller,
                                        const bind_element *elements, uint32_t count) {
    planned_bind *plans = scratch_alloc(frame, count * sizeof *plans, _Alignof(planned_bind));
    if (plans == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkResult result = VK_SUCCESS;
    for (uint32_t i = 0; i < count && result == VK_SUCCESS; i++) {
        plans[i].record = NULL;
        if (is_layer_memory(*elements[i].memory))
            result = plan_resource_bind(device, caller, &elements[i].resource, *elements[i].memory, *elements[i].offset,
                                        &plans[i]);
    }
    if (result == VK_SUCCESS) result = share_alignment_per_record(frame, plans, count);
    for (uint32_t i = 0; i < count && result == VK_SUCCESS; i++)
        result = do_planned_bind(device, caller, &plans[i], elements[i].memory, elements[i].offset);
    return result;
}

/* Where a bind2 info struct keeps its fields: VkBindBufferMemoryInfo and
 * VkBindImageMemoryInfo differ only in the resource's type and name. */
typedef struct bind_info_layout {
    VkObjectType type;
    size_t size, resource, memory, offset;
} bind_info_layout;

#define BIND_INFO_LAYOUT(object_type, info_type, resource_member)                                          \
    {                                                                                                      \
        object_type, sizeof(info_type), offsetof(info_type, resource_member), offsetof(info_type, memory), \
            offsetof(info_type, memoryOffset)                                                              \
    }
static const bind_info_layout buffer_bind_info =
    BIND_INFO_LAYOUT(VK_OBJECT_TYPE_BUFFER, VkBindBufferMemoryInfo, buffer);
static const bind_info_layout image_bind_info = BIND_INFO_LAYOUT(VK_OBJECT_TYPE_IMAGE, VkBindImageMemoryInfo, image);

/* A copy of the infos (in the frame) with every layer handle translated, or an
 * error with no slice moved. */
static VkResult translate_bind_infos(suballoc_device *device, scratch_frame *frame, const char *caller,
                                     const bind_info_layout *layout, const void *infos, uint32_t count,
                                     const void **out_copy) {
    unsigned char *copy = scratch_alloc(frame, count * layout->size, _Alignof(VkBindBufferMemoryInfo));
    bind_element *elements = scratch_alloc(frame, count * sizeof *elements, _Alignof(bind_element));
    if (copy == NULL || elements == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    memcpy(copy, infos, count * layout->size);
    for (uint32_t i = 0; i < count; i++) {
        unsigned char *info = copy + (size_t)i * layout->size;
        bind_element *e = &elements[i];
        e->resource.type = layout->type;
        memcpy(&e->resource.handle, info + layout->resource, sizeof e->resource.handle);
        e->resource.bind_chain = ((const VkBaseInStructure *)info)->pNext;
        e->memory = (VkDeviceMemory *)(info + layout->memory);
        e->offset = (VkDeviceSize *)(info + layout->offset);
    }
    *out_copy = copy;
    return translate_bind_elements(device, frame, caller, elements, count);
}

static VkResult bind_buffers(suballoc_device *device, const char *caller, uint32_t count,
                             const VkBindBufferMemoryInfo *infos, PFN_vkBindBufferMemory2 next) {
    RETURN_IF_NEXT_MISSING(device, next, caller, VK_ERROR_EXTENSION_NOT_PRESENT);
    if (infos == NULL || !HAS_LAYER_MEMORY(infos, count, VkBindBufferMemoryInfo))
        return next(device->handle, count, infos);
    scratch_frame frame = scratch_frame_begin();
    const void *copy;
    VkResult result = translate_bind_infos(device, &frame, caller, &buffer_bind_info, infos, count, &copy);
    if (result == VK_SUCCESS) result = next(device->handle, count, copy);
    scratch_frame_end(&frame);
    return result;
}

static VkResult bind_images(suballoc_device *device, const char *caller, uint32_t count,
                            const VkBindImageMemoryInfo *infos, PFN_vkBindImageMemory2 next) {
    RETURN_IF_NEXT_MISSING(device, next, caller, VK_ERROR_EXTENSION_NOT_PRESENT);
    if (infos == NULL || !HAS_LAYER_MEMORY(infos, count, VkBindImageMemoryInfo))
        return next(device->handle, count, infos);
    scratch_frame frame = scratch_frame_begin();
    const void *copy;
    VkResult result = translate_bind_infos(device, &frame, caller, &image_bind_info, infos, count, &copy);
    if (result == VK_SUCCESS) result = next(device->handle, count, copy);
    scratch_frame_end(&frame);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindBufferMemory2(VkDevice handle, uint32_t count,
                                                       const VkBindBufferMemoryInfo *infos) {
    suballoc_device *device = DEVICE_OF(handle);
    return bind_buffers(device, "vkBindBufferMemory2", count, infos, device->next.BindBufferMemory2);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindBufferMemory2KHR(VkDevice handle, uint32_t count,
                                                          const VkBindBufferMemoryInfo *infos) {
    suballoc_device *device = DEVICE_OF(handle);
    return bind_buffers(device, "vkBindBufferMemory2KHR", count, infos, device->next.BindBufferMemory2KHR);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindImageMemory2(VkDevice handle, uint32_t count,
                                                      const VkBindImageMemoryInfo *infos) {
    suballoc_device *device = DEVICE_OF(handle);
    return bind_images(device, "vkBindImageMemory2", count, infos, device->next.BindImageMemory2);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindImageMemory2KHR(VkDevice handle, uint32_t count,
                                                         const VkBindImageMemoryInfo *infos) {
    suballoc_device *device = DEVICE_OF(handle);
    return bind_images(device, "vkBindImageMemory2KHR", count, infos, device->next.BindImageMemory2KHR);
}

/* ---- sparse binding ------------------------------------------------------------------ */

/* A translated copy of binds (into the frame) when any names a layer handle. */
static VkResult translate_sparse_binds(suballoc_device *device, scratch_frame *frame, uint8_t kind,
                                       const VkSparseMemoryBind **binds, uint32_t count, uint64_t alignment,
                                       uint32_t memory_type_bits) {
    if (!HAS_LAYER_MEMORY(*binds, count, VkSparseMemoryBind)) return VK_SUCCESS;
    VkSparseMemoryBind *copy = scratch_alloc(frame, count * sizeof *copy, _Alignof(VkSparseMemoryBind));
    if (copy == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    memcpy(copy, *binds, count * sizeof *copy);
    for (uint32_t i = 0; i < count; i++) {
        if (copy[i].memory == VK_NULL_HANDLE) continue; /* an unbind */
        VkMemoryRequirements requirements = {copy[i].size, alignment, memory_type_bits};
        VkResult result = translate_bind(device, "vkQueueBindSparse", kind, copy[i].memory, copy[i].memoryOffset,
                                         &requirements, &copy[i].memory, &copy[i].memoryOffset);
        if (result != VK_SUCCESS) return result;
    }
    *binds = copy;
    return VK_SUCCESS;
}

/* Bytes a sparse image bind covers: its extent in sparse blocks of the
 * granularity the driver reports for the bound aspect, each block `alignment`
 * bytes (the sparse block size). 0 when the driver reports no granularity. */
static uint64_t sparse_image_bind_bytes(const VkSparseImageMemoryBind *bind, const VkSparseImageMemoryRequirements *all,
                                        uint32_t count, uint64_t alignment) {
    for (uint32_t i = 0; i < count; i++) {
        const VkSparseImageFormatProperties *format = &all[i].formatProperties;
        if (!(format->aspectMask & bind->subresource.aspectMask)) continue;
        VkExtent3D g = format->imageGranularity;
        if (g.width == 0 || g.height == 0 || g.depth == 0) return 0;
        uint64_t blocks = (uint64_t)((bind->extent.width + g.width - 1) / g.width) *
                          ((bind->extent.height + g.height - 1) / g.height) *
                          ((bind->extent.depth + g.depth - 1) / g.depth);
        return blocks * alignment;
    }
    return 0;
}

static VkResult translate_sparse_image_binds(suballoc_device *device, scratch_frame *frame, VkImage image,
                                             const VkSparseImageMemoryBind **binds, uint32_t count,
                                             const VkMemoryRequirements *requirements) {
    if (!HAS_LAYER_MEMORY(*binds, count, VkSparseImageMemoryBind)) return VK_SUCCESS;
    VkSparseImageMemoryBind *copy = scratch_alloc(frame, count * sizeof *copy, _Alignof(VkSparseImageMemoryBind));
    if (copy == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    memcpy(copy, *binds, count * sizeof *copy);

    uint32_t sparse_count = 0;
    device->next.GetImageSparseMemoryRequirements(device->handle, image, &sparse_count, NULL);
    VkSparseImageMemoryRequirements *sparse =
        sparse_count > 0
            ? scratch_alloc(frame, sparse_count * sizeof *sparse, _Alignof(VkSparseImageMemoryRequirements))
            : NULL;
    if (sparse_count > 0 && sparse == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    if (sparse_count > 0) device->next.GetImageSparseMemoryRequirements(device->handle, image, &sparse_count, sparse);

    for (uint32_t i = 0; i < count; i++) {
        if (copy[i].memory == VK_NULL_HANDLE) continue;
        uint64_t bytes = sparse_image_bind_bytes(&copy[i], sparse, sparse_count, requirements->alignment);
        VkMemoryRequirements bind = {max_u64(bytes, requirements->alignment), requirements->alignment,
                                     requirements->memoryTypeBits};
        VkResult result = translate_bind(device, "vkQueueBindSparse", MEMORY_BOUND_IMAGE, copy[i].memory,
                                         copy[i].memoryOffset, &bind, &copy[i].memory, &copy[i].memoryOffset);
        if (result != VK_SUCCESS) return result;
    }
    *binds = copy;
    return VK_SUCCESS;
}

/* Copies an array of n structs of the given type into the frame. */
#define COPY_ARRAY(frame, out, in, n, type)                                       \
    do {                                                                          \
        (out) = NULL;                                                             \
        if ((n) == 0) break;                                                      \
        type *copy_ = scratch_alloc((frame), (n) * sizeof(type), _Alignof(type)); \
        if (copy_ == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;                    \
        memcpy(copy_, (in), (n) * sizeof(type));                                  \
        (out) = copy_;                                                            \
    } while (0)

static VkResult translate_bind_sparse_info(suballoc_device *device, scratch_frame *frame, VkBindSparseInfo *info) {
    VkSparseBufferMemoryBindInfo *buffers;
    COPY_ARRAY(frame, buffers, info->pBufferBinds, info->bufferBindCount, VkSparseBufferMemoryBindInfo);
    for (uint32_t b = 0; b < info->bufferBindCount; b++) {
        VkMemoryRequirements r;
        device->next.GetBufferMemoryRequirements(device->handle, buffers[b].buffer, &r);
        VkResult result = translate_sparse_binds(device, frame, MEMORY_BOUND_BUFFER, &buffers[b].pBinds,
                                                 buffers[b].bindCount, r.alignment, r.memoryTypeBits);
        if (result != VK_SUCCESS) return result;
    }
    info->pBufferBinds = buffers;

    VkSparseImageOpaqueMemoryBindInfo *opaque;
    COPY_ARRAY(frame, opaque, info->pImageOpaqueBinds, info->imageOpaqueBindCount, VkSparseImageOpaqueMemoryBindInfo);
    for (uint32_t b = 0; b < info->imageOpaqueBindCount; b++) {
        VkMemoryRequirements r;
        device->next.GetImageMemoryRequirements(device->handle, opaque[b].image, &r);
        VkResult result = translate_sparse_binds(device, frame, MEMORY_BOUND_IMAGE, &opaque[b].pBinds,
                                                 opaque[b].bindCount, r.alignment, r.memoryTypeBits);
        if (result != VK_SUCCESS) return result;
    }
    info->pImageOpaqueBinds = opaque;

    VkSparseImageMemoryBindInfo *images;
    COPY_ARRAY(frame, images, info->pImageBinds, info->imageBindCount, VkSparseImageMemoryBindInfo);
    for (uint32_t b = 0; b < info->imageBindCount; b++) {
        VkMemoryRequirements r;
        device->next.GetImageMemoryRequirements(device->handle, images[b].image, &r);
        VkResult result =
            translate_sparse_image_binds(device, frame, images[b].image, &images[b].pBinds, images[b].bindCount, &r);
        if (result != VK_SUCCESS) return result;
    }
    info->pImageBinds = images;
    return VK_SUCCESS;
}

static bool sparse_info_has_layer_memory(const VkBindSparseInfo *info) {
    for (uint32_t b = 0; b < info->bufferBindCount; b++)
        if (HAS_LAYER_MEMORY(info->pBufferBinds[b].pBinds, info->pBufferBinds[b].bindCount, VkSparseMemoryBind))
            return true;
    for (uint32_t b = 0; b < info->imageOpaqueBindCount; b++)
        if (HAS_LAYER_MEMORY(info->pImageOpaqueBinds[b].pBinds, info->pImageOpaqueBinds[b].bindCount,
                             VkSparseMemoryBind))
            return true;
    for (uint32_t b = 0; b < info->imageBindCount; b++)
        if (HAS_LAYER_MEMORY(info->pImageBinds[b].pBinds, info->pImageBinds[b].bindCount, VkSparseImageMemoryBind))
            return true;
    return false;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_QueueBindSparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *infos,
                                                     VkFence fence) {
    suballoc_device *device = DEVICE_OF(queue); /* a queue shares its device's dispatch key */
    bool translate = false;
    for (uint32_t i = 0; i < count && !translate; i++) translate = sparse_info_has_layer_memory(&infos[i]);
    if (!translate) return device->next.QueueBindSparse(queue, count, infos, fence);

    scratch_frame frame = scratch_frame_begin();
    VkBindSparseInfo *copy = scratch_alloc(&frame, count * sizeof *copy, _Alignof(VkBindSparseInfo));
    VkResult result = copy != NULL ? VK_SUCCESS : VK_ERROR_OUT_OF_HOST_MEMORY;
    if (copy != NULL) memcpy(copy, infos, count * sizeof *copy);
    for (uint32_t i = 0; i < count && result == VK_SUCCESS; i++)
        result = translate_bind_sparse_info(device, &frame, &copy[i]);
    if (result == VK_SUCCESS) result = device->next.QueueBindSparse(queue, count, copy, fence);
    scratch_frame_end(&frame);
    return result;
}

/* ---- video sessions ----------------------------------------------------------------- */

static VkResult video_requirements(suballoc_device *device, scratch_frame *frame, VkVideoSessionKHR session,
                                   uint32_t bind_index, VkMemoryRequirements *out) {
    uint32_t n = 0;
    if (device->next.GetVideoSessionMemoryRequirementsKHR == NULL) return VK_ERROR_UNKNOWN;
    device->next.GetVideoSessionMemoryRequirementsKHR(device->handle, session, &n, NULL);
    VkVideoSessionMemoryRequirementsKHR *all =
        scratch_alloc(frame, n * sizeof *all, _Alignof(VkVideoSessionMemoryRequirementsKHR));
    if (all == NULL && n > 0) return VK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t i = 0; i < n; i++)
        all[i] =
            (VkVideoSessionMemoryRequirementsKHR){.sType = VK_STRUCTURE_TYPE_VIDEO_SESSION_MEMORY_REQUIREMENTS_KHR};
    device->next.GetVideoSessionMemoryRequirementsKHR(device->handle, session, &n, all);
    for (uint32_t i = 0; i < n; i++) {
        if (all[i].memoryBindIndex != bind_index) continue;
        *out = all[i].memoryRequirements;
        return VK_SUCCESS;
    }
    LOG_ERROR(device, "vkBindVideoSessionMemoryKHR: the session has no memoryBindIndex %u", bind_index);
    return VK_ERROR_UNKNOWN;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindVideoSessionMemoryKHR(VkDevice handle, VkVideoSessionKHR session,
                                                               uint32_t count,
                                                               const VkBindVideoSessionMemoryInfoKHR *infos) {
    suballoc_device *device = DEVICE_OF(handle);
    RETURN_IF_NEXT_MISSING(device, device->next.BindVideoSessionMemoryKHR, "vkBindVideoSessionMemoryKHR",
                           VK_ERROR_EXTENSION_NOT_PRESENT);
    if (infos == NULL || !HAS_LAYER_MEMORY(infos, count, VkBindVideoSessionMemoryInfoKHR))
        return device->next.BindVideoSessionMemoryKHR(handle, session, count, infos);

    scratch_frame frame = scratch_frame_begin();
    VkBindVideoSessionMemoryInfoKHR *copy =
        scratch_alloc(&frame, count * sizeof *copy, _Alignof(VkBindVideoSessionMemoryInfoKHR));
    VkResult result = copy != NULL ? VK_SUCCESS : VK_ERROR_OUT_OF_HOST_MEMORY;
    if (copy != NULL) memcpy(copy, infos, count * sizeof *copy);
    for (uint32_t i = 0; i < count && result == VK_SUCCESS; i++) {
        if (!is_layer_memory(copy[i].memory)) continue;
        VkMemoryRequirements requirements;
        result = video_requirements(device, &frame, session, copy[i].memoryBindIndex, &requirements);
        requirements.size = copy[i].memorySize;
        if (result == VK_SUCCESS)
            result = translate_bind(device, "vkBindVideoSessionMemoryKHR", MEMORY_BOUND_OTHER, copy[i].memory,
                                    copy[i].memoryOffset, &requirements, &copy[i].memory, &copy[i].memoryOffset);
    }
    if (result == VK_SUCCESS) result = device->next.BindVideoSessionMemoryKHR(handle, session, count, copy);
    scratch_frame_end(&frame);
    return result;
}

/* ---- NV acceleration structures ------------------------------------------------------- */

VKAPI_ATTR VkResult VKAPI_CALL layer_BindAccelerationStructureMemoryNV(
    VkDevice handle, uint32_t count, const VkBindAccelerationStructureMemoryInfoNV *infos) {
    suballoc_device *device = DEVICE_OF(handle);
    RETURN_IF_NEXT_MISSING(device, device->next.BindAccelerationStructureMemoryNV,
                           "vkBindAccelerationStructureMemoryNV", VK_ERROR_EXTENSION_NOT_PRESENT);
    if (device->next.GetAccelerationStructureMemoryRequirementsNV == NULL) return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (infos == NULL || !HAS_LAYER_MEMORY(infos, count, VkBindAccelerationStructureMemoryInfoNV))
        return device->next.BindAccelerationStructureMemoryNV(handle, count, infos);

    scratch_frame frame = scratch_frame_begin();
    VkBindAccelerationStructureMemoryInfoNV *copy =
        scratch_alloc(&frame, count * sizeof *copy, _Alignof(VkBindAccelerationStructureMemoryInfoNV));
    VkResult result = copy != NULL ? VK_SUCCESS : VK_ERROR_OUT_OF_HOST_MEMORY;
    if (copy != NULL) memcpy(copy, infos, count * sizeof *copy);
    for (uint32_t i = 0; i < count && result == VK_SUCCESS; i++) {
        if (!is_layer_memory(copy[i].memory)) continue;
        VkAccelerationStructureMemoryRequirementsInfoNV query = {
            .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_MEMORY_REQUIREMENTS_INFO_NV,
            .type = VK_ACCELERATION_STRUCTURE_MEMORY_REQUIREMENTS_TYPE_OBJECT_NV,
            .accelerationStructure = copy[i].accelerationStructure,
        };
        VkMemoryRequirements2 requirements = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
        device->next.GetAccelerationStructureMemoryRequirementsNV(handle, &query, &requirements);
        result = translate_bind(device, "vkBindAccelerationStructureMemoryNV", MEMORY_BOUND_OTHER, copy[i].memory,
                                copy[i].memoryOffset, &requirements.memoryRequirements, &copy[i].memory,
                                &copy[i].memoryOffset);
    }
    if (result == VK_SUCCESS) result = device->next.BindAccelerationStructureMemoryNV(handle, count, copy);
    scratch_frame_end(&frame);
    return result;
}
