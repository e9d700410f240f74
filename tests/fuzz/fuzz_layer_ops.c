/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_layer_ops.c: the valid calls an input decodes to.
 *
 * Each is made on both sides with the same arguments and must return the same;
 * the parameters are chosen so that the call is valid for the app (valid
 * usage of the Vulkan spec, and the strict device's rules), whatever the bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_layer.h"

#define UNKNOWN_STRUCTURE_TYPE ((VkStructureType)1000999000) /* no extension has it */

static const char *const kind_names[FZ_KIND_COUNT] = {"plain", "dedicated", "export", "import"};

/* ---- resources ------------------------------------------------------------------------- */

static bool same_requirements(const VkMemoryRequirements *a, const VkMemoryRequirements *b) {
    return a->size == b->size && a->alignment == b->alignment && a->memoryTypeBits == b->memoryTypeBits;
}

bool fz_resource_create(int slot, fz_resource_kind kind, uint32_t width, uint32_t height, VkDeviceSize buffer_size,
                        const fz_allocation *for_allocation, bool device_address) {
    fz_resource *r = &st.resources[slot];
    *r = (fz_resource){.kind = kind, .allocation = -1};
    /* Memory made for export or import binds only resources made for that handle type. */
    VkExternalMemoryBufferCreateInfo external = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO};
    if (for_allocation != NULL && for_allocation->kind == FZ_EXPORT)
        external.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
    if (for_allocation != NULL && for_allocation->kind == FZ_IMPORT)
        external.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
    VkMemoryRequirements requirements[FZ_SIDES];
    VkResult result[FZ_SIDES];
    for (int s = 0; s < FZ_SIDES; s++) {
        fz_device *d = fz_dev(s);
        if (kind == FZ_BUFFER) {
            VkBufferCreateInfo info = {
                .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                .pNext = external.handleTypes != 0 ? &external : NULL,
                .size = buffer_size,
                .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                         VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                         (device_address ? VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT : 0),
            };
            VkBuffer buffer = VK_NULL_HANDLE;
            result[s] = d->fn.CreateBuffer(d->handle, &info, NULL, &buffer);
            r->handle[s] = (uint64_t)buffer;
            if (result[s] == VK_SUCCESS) d->fn.GetBufferMemoryRequirements(d->handle, buffer, &requirements[s]);
        } else {
            VkImageCreateInfo info = {
                .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                .imageType = VK_IMAGE_TYPE_2D,
                .format = VK_FORMAT_R8G8B8A8_UNORM,
                .extent = {width, height, 1},
                .mipLevels = 1,
                .arrayLayers = 1,
                .samples = VK_SAMPLE_COUNT_1_BIT,
                .tiling = kind == FZ_IMAGE_LINEAR ? VK_IMAGE_TILING_LINEAR : VK_IMAGE_TILING_OPTIMAL,
                .usage = kind == FZ_IMAGE_TRANSIENT
                             ? VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT
                             : VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
            };
            VkImage image = VK_NULL_HANDLE;
            result[s] = d->fn.CreateImage(d->handle, &info, NULL, &image);
            r->handle[s] = (uint64_t)image;
            if (result[s] == VK_SUCCESS) d->fn.GetImageMemoryRequirements(d->handle, image, &requirements[s]);
        }
    }
    fz_same_result(kind == FZ_BUFFER ? "vkCreateBuffer" : "vkCreateImage", result);
    if (result[FZ_LAYER] != VK_SUCCESS) return false;
    if (!same_requirements(&requirements[FZ_LAYER], &requirements[FZ_REFERENCE]))
        FINDING("memory requirements differ through the layer: size %llu alignment %llu bits 0x%x, without it %llu "
                "%llu 0x%x",
                (unsigned long long)requirements[0].size, (unsigned long long)requirements[0].alignment,
                requirements[0].memoryTypeBits, (unsigned long long)requirements[1].size,
                (unsigned long long)requirements[1].alignment, requirements[1].memoryTypeBits);
    r->requirements = requirements[FZ_LAYER];
    r->live = true;
    fz_note_query(r->requirements.size, r->requirements.alignment);
    return true;
}

void fz_resource_destroy(int slot) {
    fz_resource *r = &st.resources[slot];
    for (int s = 0; s < FZ_SIDES; s++) {
        fz_device *d = fz_dev(s);
        if (r->kind == FZ_BUFFER) d->fn.DestroyBuffer(d->handle, (VkBuffer)r->handle[s], NULL);
        else d->fn.DestroyImage(d->handle, (VkImage)r->handle[s], NULL);
    }
    if (r->allocation >= 0 && st.allocations[r->allocation].dedicated == slot)
        st.allocations[r->allocation].dedicated = -1;
    r->live = false;
}

static VkDeviceSize floor_pow2(VkDeviceSize value) {
    return value == 0 ? 0 : (VkDeviceSize)1 << (63 - __builtin_clzll(value));
}

/* Weakest alignment queried per size (hashed; a collision only makes the model
 * expect less of the layer); 0: never queried. */
#define QUERY_SLOTS 4096u
static VkDeviceSize queried[QUERY_SLOTS];

static uint32_t query_slot(VkDeviceSize size) {
    return (uint32_t)((size * 0x9E3779B97F4A7C15ull) >> 52) & (QUERY_SLOTS - 1);
}

void fz_note_query(VkDeviceSize size, VkDeviceSize alignment) {
    VkDeviceSize *slot = &queried[query_slot(size)];
    if (alignment == 0) alignment = 1;
    if (*slot == 0 || alignment < *slot) *slot = alignment;
}

void fz_forget_queries(void) { memset(queried, 0, sizeof queried); }

bool fz_layer_refuses(const fz_allocation *a, VkDeviceSize alignment) {
    return a->layer_handle && a->pinned && alignment > a->slice_alignment;
}

/* A new slice is aligned to the largest power of two not above its size, up to
 * the largest alignment a resource needs, unless a query of its size said
 * otherwise; host-visible ones to the map alignment at least. */
static void note_new_slice(fz_allocation *a) {
    VkDeviceSize natural = floor_pow2(a->size);
    if (natural > FZ_MAX_RESOURCE_ALIGNMENT) natural = FZ_MAX_RESOURCE_ALIGNMENT;
    VkDeviceSize by_query = queried[query_slot(a->size)];
    if (by_query != 0 && by_query < natural) natural = by_query;
    if (fz_host_visible(a->type) && natural < STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT)
        natural = STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT;
    a->slice_alignment = natural;
}

/* The first use moves the slice to its alignment if it needs more, and pins it. */
void fz_note_use(fz_allocation *a, VkDeviceSize alignment) {
    if (!a->layer_handle || a->pinned) return;
    if (alignment > a->slice_alignment) a->slice_alignment = alignment;
    a->pinned = true;
}

/* The end of the last resource bound to allocation index, for packed binds. */
static VkDeviceSize bound_end(int index) {
    VkDeviceSize end = 0;
    for (int i = 0; i < FZ_MAX_RESOURCES; i++) {
        const fz_resource *r = &st.resources[i];
        if (r->live && r->allocation == index && r->offset + r->requirements.size > end)
            end = r->offset + r->requirements.size;
    }
    return end;
}

bool fz_resource_offset(const fz_resource *r, const fz_allocation *a, int index, uint32_t pick, VkDeviceSize *offset) {
    VkDeviceSize alignment = r->requirements.alignment != 0 ? r->requirements.alignment : 1;
    if (!(r->requirements.memoryTypeBits & (1u << a->type)) || r->requirements.size > a->size) return false;
    if (fz_layer_refuses(a, alignment)) return false;
    VkDeviceSize slots = (a->size - r->requirements.size) / alignment + 1;
    switch (pick % 3) {
    case 0: *offset = 0; return true;
    case 1: /* after what is bound already: no aliasing */
        *offset = (bound_end(index) + alignment - 1) / alignment * alignment;
        return *offset + r->requirements.size <= a->size;
    default: *offset = (pick / 3) % slots * alignment; return true; /* anywhere: aliasing too */
    }
}

/* ---- allocate ---------------------------------------------------------------------------- */

static VkDeviceSize size_of_class(uint8_t size_class, uint32_t raw) {
    static const VkDeviceSize limits[4] = {256, 16 << 10, FZ_HOST_VISIBLE_MAX, FZ_SIZE_MAX};
    return 1 + raw % limits[size_class & 3];
}

/* The k-th type (wrapping) the bits allow. */
static uint32_t type_from_bits(uint32_t bits, uint8_t k) {
    uint32_t count = (uint32_t)__builtin_popcount(bits);
    if (count == 0) return UINT32_MAX;
    uint32_t skip = k % count;
    for (uint32_t t = 0; t < 32; t++)
        if ((bits & (1u << t)) && skip-- == 0) return t;
    return UINT32_MAX;
}

static int free_allocation_slot(void) {
    for (int i = 0; i < FZ_MAX_ALLOCATIONS; i++)
        if (!st.allocations[i].live) return i;
    return -1;
}

/* The host memory a host-pointer import uses, when the device takes it in that type. */
static bool host_memory_for_import(fz_allocation *a) {
    VkDeviceSize alignment = fz.enabled.host_pointer_alignment;
    a->size = (a->size + alignment - 1) / alignment * alignment;
    for (int s = 0; s < FZ_SIDES; s++) {
        a->host[s] = aligned_alloc(alignment, a->size);
        if (a->host[s] == NULL) return false;
        VkMemoryHostPointerPropertiesEXT properties = {.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT};
        fz_device *d = fz_dev(s);
        if (d->fn.GetMemoryHostPointerPropertiesEXT(d->handle, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
                                                    a->host[s], &properties) != VK_SUCCESS ||
            !(properties.memoryTypeBits & (1u << a->type)))
            return false;
    }
    return true;
}

static void release_host_memory(fz_allocation *a) {
    for (int s = 0; s < FZ_SIDES; s++) {
        free(a->host[s]);
        a->host[s] = NULL;
    }
}

/* What README promises goes to the driver unchanged. */
static bool must_pass_through(const fz_allocation *a, bool unknown) {
    VkMemoryPropertyFlags never = VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT;
    return a->kind != FZ_PLAIN || unknown || (fz.memory.memoryTypes[a->type].propertyFlags & never) ||
           a->size >= FZ_DEDICATED_THRESHOLD;
}

/* Which handle the layer gave: the driver's for everything it must not
 * sub-allocate, its own for every other allocation (no heap is ever full here). */
static void check_handle_kind(int index, bool unknown) {
    fz_allocation *a = &st.allocations[index];
    fz_device *layer = fz_dev(FZ_LAYER), *reference = fz_dev(FZ_REFERENCE);
    bool driver = layer->fn.StrictIsDriverMemory(layer->handle, a->memory[FZ_LAYER]);
    if (!reference->fn.StrictIsDriverMemory(reference->handle, a->memory[FZ_REFERENCE]))
        FINDING("the reference device's allocation is not the driver's (a fuzzer bug)");
    if (must_pass_through(a, unknown) && !driver)
        FINDING("a %s allocation of type %u%s was sub-allocated; it must go to the driver unchanged",
                kind_names[a->kind], a->type, unknown ? " with an unknown structure" : "");
    if (!must_pass_through(a, unknown) && driver)
        FINDING("a plain allocation of %llu bytes in type %u went to the driver", (unsigned long long)a->size, a->type);
    a->layer_handle = !driver;
}

void fz_op_allocate(fz_input *in) {
    uint8_t kind = fz_u8(in), type = fz_u8(in), size_class = fz_u8(in), chain = fz_u8(in), priority = fz_u8(in);
    uint32_t raw_size = fz_u32(in);
    int index = free_allocation_slot();
    if (index < 0) return;
    fz_allocation *a = &st.allocations[index];
    *a = (fz_allocation){.kind = (fz_kind)(kind % FZ_KIND_COUNT),
                         .type = type % STRICT_DEVICE_MEMORY_TYPE_COUNT,
                         .size = size_of_class(size_class, raw_size),
                         .dedicated = -1};
    if ((a->kind == FZ_EXPORT && !fz.enabled.external_memory_fd) ||
        (a->kind == FZ_IMPORT && !fz.enabled.external_memory_host))
        a->kind = FZ_PLAIN;
    bool unknown = chain & 16;
    /* Sizes the kinds allow: a host import is page-aligned, a dedicated buffer sets its own. */
    if (a->kind == FZ_IMPORT) a->size = 1 + raw_size % (64 << 10);
    if (a->kind == FZ_DEDICATED) a->size = 1 + raw_size % (FZ_HOST_VISIBLE_MAX / 2);

    /* The pNext chain, built back to front. */
    const void *next = NULL;
    VkBaseInStructure unknown_structure = {.sType = UNKNOWN_STRUCTURE_TYPE};
    if (unknown) next = &unknown_structure;
    VkMemoryAllocateFlagsInfo flags = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO, .pNext = next};
    VkMemoryPriorityAllocateInfoEXT priority_info = {.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT};
    VkMemoryDedicatedAllocateInfo dedicated = {.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO};
    VkExportMemoryAllocateInfo export_info = {.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
                                              .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
    VkImportMemoryHostPointerInfoEXT import_info = {.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
                                                    .handleType =
                                                        VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT};
    if (chain & 1) {
        if (chain & 2) flags.flags |= VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
        if (chain & 4) flags.flags |= VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT, flags.deviceMask = 1;
        a->device_address = chain & 2;
        next = &flags;
    }
    if ((chain & 8) && fz.enabled.memory_priority) {
        priority_info.pNext = next;
        priority_info.priority = (float)priority / 255.0f;
        next = &priority_info;
    }
    int resource = -1;
    switch (a->kind) {
    case FZ_PLAIN: break;
    case FZ_DEDICATED:
        resource = fz_free_resource_slot();
        if (resource < 0 || !fz_resource_create(resource, FZ_BUFFER, 0, 0, a->size, NULL, a->device_address)) return;
        a->size = st.resources[resource].requirements.size;
        a->type = type_from_bits(st.resources[resource].requirements.memoryTypeBits, type);
        if (a->type == UINT32_MAX) {
            fz_resource_destroy(resource);
            return;
        }
        dedicated.pNext = next;
        next = &dedicated;
        break;
    case FZ_EXPORT:
        export_info.pNext = next;
        next = &export_info;
        break;
    case FZ_IMPORT:
        a->type = STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT;
        if (!host_memory_for_import(a)) {
            release_host_memory(a);
            return;
        }
        import_info.pNext = next;
        next = &import_info;
        break;
    default: return;
    }
    if (fz_host_visible(a->type) && a->size > FZ_HOST_VISIBLE_MAX)
        a->size = 1 + raw_size % FZ_HOST_VISIBLE_MAX; /* plain, export */
    if (fz_trace_on)
        fz_trace("  allocate %d: %s, type %u, %llu bytes, chain 0x%02x, priority %u\n", index, kind_names[a->kind],
                 a->type, (unsigned long long)a->size, chain, priority);

    VkResult result[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) {
        dedicated.buffer = resource >= 0 ? (VkBuffer)st.resources[resource].handle[s] : VK_NULL_HANDLE;
        import_info.pHostPointer = a->host[s];
        VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                     .pNext = next,
                                     .allocationSize = a->size,
                                     .memoryTypeIndex = a->type};
        result[s] = fz_dev(s)->fn.AllocateMemory(fz_dev(s)->handle, &info, NULL, &a->memory[s]);
    }
    fz_same_result("vkAllocateMemory", result);
    fz_watch_valid("vkAllocateMemory", &w, false);
    if (result[FZ_LAYER] != VK_SUCCESS) {
        if (resource >= 0) fz_resource_destroy(resource);
        release_host_memory(a);
        return;
    }
    a->live = true;
    check_handle_kind(index, unknown);
    note_new_slice(a);
    if (fz_host_visible(a->type)) {
        a->atoms = (uint32_t)((a->size + FZ_ATOM - 1) / FZ_ATOM);
        a->host_view = calloc(a->atoms, sizeof *a->host_view);
        a->device_view = calloc(a->atoms, sizeof *a->device_view);
        if (a->host_view == NULL || a->device_view == NULL) abort();
    }
    if (resource < 0) return;

    /* A dedicated allocation binds its own resource at 0, and nothing else. */
    a->dedicated = resource;
    w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++)
        result[s] = fz_dev(s)->fn.BindBufferMemory(fz_dev(s)->handle, (VkBuffer)st.resources[resource].handle[s],
                                                   a->memory[s], 0);
    fz_same_result("vkBindBufferMemory of a dedicated allocation", result);
    fz_watch_valid("vkBindBufferMemory of a dedicated allocation", &w, false);
    if (result[FZ_LAYER] == VK_SUCCESS) st.resources[resource].allocation = index;
}

/* ---- free ---------------------------------------------------------------------------------- */

void fz_free_allocation(int index) {
    fz_allocation *a = &st.allocations[index];
    fz_check_contents(index, "before vkFreeMemory");
    for (int r = 0; r < FZ_MAX_RESOURCES; r++)
        if (st.resources[r].live && st.resources[r].allocation == index) fz_resource_destroy(r);
    if (fz_trace_on) fz_trace("  free %d%s\n", index, a->mapped ? " (mapped)" : "");
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) fz_dev(s)->fn.FreeMemory(fz_dev(s)->handle, a->memory[s], NULL);
    fz_watch_valid("vkFreeMemory", &w, false);
    fz_remember_stale(a->memory[FZ_LAYER], a->layer_handle);
    release_host_memory(a);
    free(a->host_view);
    free(a->device_view);
    *a = (fz_allocation){.dedicated = -1};
}

void fz_op_free(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), NULL);
    if (index >= 0) fz_free_allocation(index);
}

/* ---- map, unmap, flush, invalidate ------------------------------------------------------------ */

static bool mappable(const fz_allocation *a) { return fz_host_visible(a->type) && !a->mapped; }

static bool is_mapped(const fz_allocation *a) { return a->mapped; }

void fz_op_map(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), mappable);
    uint8_t offset_mode = fz_u8(in), size_mode = fz_u8(in);
    uint32_t raw_offset = fz_u32(in), raw_size = fz_u32(in);
    if (index < 0) return;
    fz_allocation *a = &st.allocations[index];
    VkDeviceSize offset = 0, size = VK_WHOLE_SIZE;
    if (offset_mode % 3 == 1) offset = raw_offset % a->atoms * FZ_ATOM;
    if (offset_mode % 3 == 2) offset = raw_offset % a->size;
    if (size_mode % 3 == 1) size = a->size - offset;
    if (size_mode % 3 == 2) size = 1 + raw_size % (a->size - offset);
    if (fz_trace_on) fz_trace("  map %d offset %llu size %lld\n", index, (unsigned long long)offset, (long long)size);

    VkResult result[FZ_SIDES];
    void *data[FZ_SIDES] = {NULL, NULL};
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++)
        result[s] = fz_dev(s)->fn.MapMemory(fz_dev(s)->handle, a->memory[s], offset, size, 0, &data[s]);
    fz_same_result("vkMapMemory", result);
    fz_watch_valid("vkMapMemory", &w, false);
    if (result[FZ_LAYER] != VK_SUCCESS) return;
    if (((uintptr_t)data[FZ_LAYER] - offset) % STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT != 0)
        FINDING("vkMapMemory through the layer returned %p for offset %llu: not minMemoryMapAlignment-aligned",
                data[FZ_LAYER], (unsigned long long)offset);
    fz_note_use(a, 1);
    a->mapped = true;
    a->map_offset = offset;
    a->map_end = size == VK_WHOLE_SIZE ? a->size : offset + size;
    for (int s = 0; s < FZ_SIDES; s++) a->data[s] = data[s];
    fz_check_contents(index, "after vkMapMemory");
}

static void unmap(int index) {
    fz_allocation *a = &st.allocations[index];
    fz_check_contents(index, "before vkUnmapMemory");
    if (fz_trace_on) fz_trace("  unmap %d\n", index);
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) fz_dev(s)->fn.UnmapMemory(fz_dev(s)->handle, a->memory[s]);
    fz_watch_valid("vkUnmapMemory", &w, false);
    a->mapped = false;
    /* Writes never flushed are undefined once unmapped: the layer keeps its
     * block mapped (they stay), a driver may drop them. */
    for (uint32_t atom = 0; atom < a->atoms; atom++)
        if (a->host_view[atom] != a->device_view[atom]) a->host_view[atom] = 0;
}

void fz_op_unmap(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), is_mapped);
    if (index >= 0) unmap(index);
}

/* A valid range of mapped allocation a, atom-aligned as the spec asks; false when none. */
static bool valid_range(const fz_allocation *a, uint16_t pick_offset, uint8_t pick_size, VkMappedMemoryRange *range) {
    VkDeviceSize first = (a->map_offset + FZ_ATOM - 1) / FZ_ATOM * FZ_ATOM;
    if (first >= a->map_end) return false;
    VkDeviceSize atoms = (a->map_end - first + FZ_ATOM - 1) / FZ_ATOM;
    VkDeviceSize offset = first + pick_offset % atoms * FZ_ATOM;
    bool end_ok = a->map_end % FZ_ATOM == 0 || a->map_end == a->size; /* where VK_WHOLE_SIZE may end */
    VkDeviceSize size;
    if (pick_size % 4 == 0 && end_ok) {
        size = VK_WHOLE_SIZE;
    } else {
        size = (VkDeviceSize)(1 + pick_size % 8) * FZ_ATOM;
        if (offset + size > a->map_end) {
            if (a->map_end != a->size) {
                size = (a->map_end - offset) / FZ_ATOM * FZ_ATOM;
                if (size == 0) return false;
            } else {
                size = a->size - offset; /* a range may end at the end of the allocation */
            }
        }
    }
    range->offset = offset;
    range->size = size;
    return true;
}

/* One to three ranges, from one or several mapped allocations, in one call. */
void fz_op_flush(fz_input *in, bool invalidate) {
    const char *name = invalidate ? "vkInvalidateMappedMemoryRanges" : "vkFlushMappedMemoryRanges";
    uint32_t count = 1 + fz_u8(in) % 3;
    VkMappedMemoryRange ranges[FZ_SIDES][3];
    int owners[3];
    uint32_t used = 0;
    for (uint32_t i = 0; i < count; i++) {
        int index = fz_pick_allocation(fz_u8(in), is_mapped);
        uint16_t pick_offset = fz_u16(in);
        uint8_t pick_size = fz_u8(in);
        VkMappedMemoryRange range = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
        if (index < 0 || !valid_range(&st.allocations[index], pick_offset, pick_size, &range)) continue;
        for (int s = 0; s < FZ_SIDES; s++) {
            ranges[s][used] = range;
            ranges[s][used].memory = st.allocations[index].memory[s];
        }
        if (fz_trace_on)
            fz_trace("  %s %d offset %llu size %lld\n", name, index, (unsigned long long)range.offset,
                     (long long)range.size);
        owners[used++] = index;
    }
    if (used == 0) return;
    VkResult result[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) {
        fz_device *d = fz_dev(s);
        result[s] = invalidate ? d->fn.InvalidateMappedMemoryRanges(d->handle, used, ranges[s])
                               : d->fn.FlushMappedMemoryRanges(d->handle, used, ranges[s]);
    }
    fz_same_result(name, result);
    fz_watch_valid(name, &w, false);
    for (uint32_t i = 0; i < used; i++)
        fz_model_flush(&st.allocations[owners[i]], ranges[FZ_LAYER][i].offset, ranges[FZ_LAYER][i].size, invalidate);
    for (uint32_t i = 0; i < used; i++) fz_check_contents(owners[i], name);
}

/* ---- binds ---------------------------------------------------------------------------------- */

static bool bindable(const fz_allocation *a) { return a->dedicated < 0 && a->kind != FZ_DEDICATED; }

/* A resource made for allocation index, and where it goes; false (and nothing
 * left behind) when it cannot be bound there validly. */
static bool prepare_bind(int index, uint8_t kind_pick, uint8_t width, uint8_t height, uint32_t size_pick,
                         uint32_t offset_pick, int *slot, VkDeviceSize *offset) {
    const fz_allocation *a = &st.allocations[index];
    fz_resource_kind kind = (fz_resource_kind)(kind_pick % FZ_RESOURCE_KIND_COUNT);
    if (a->kind == FZ_EXPORT || a->kind == FZ_IMPORT) kind = FZ_BUFFER; /* external images need more than a bind */
    *slot = fz_free_resource_slot();
    if (*slot < 0) return false;
    VkDeviceSize buffer_size = 1 + size_pick % a->size;
    bool device_address = a->device_address && (kind_pick & 0x80);
    if (!fz_resource_create(*slot, kind, 1 + width % 64, 1 + height % 64, buffer_size, a, device_address)) return false;
    if (!fz_resource_offset(&st.resources[*slot], a, index, offset_pick, offset)) {
        fz_resource_destroy(*slot);
        return false;
    }
    return true;
}

void fz_op_bind(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), bindable);
    uint8_t kind = fz_u8(in), width = fz_u8(in), height = fz_u8(in);
    uint32_t size_pick = fz_u32(in), offset_pick = fz_u32(in);
    int slot;
    VkDeviceSize offset;
    if (index < 0 || !prepare_bind(index, kind, width, height, size_pick, offset_pick, &slot, &offset)) return;
    fz_resource *r = &st.resources[slot];
    const fz_allocation *a = &st.allocations[index];
    if (fz_trace_on)
        fz_trace("  bind resource %d (kind %d, %llu bytes, alignment %llu) to %d at %llu\n", slot, r->kind,
                 (unsigned long long)r->requirements.size, (unsigned long long)r->requirements.alignment, index,
                 (unsigned long long)offset);
    VkResult result[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) {
        fz_device *d = fz_dev(s);
        result[s] = r->kind == FZ_BUFFER
                        ? d->fn.BindBufferMemory(d->handle, (VkBuffer)r->handle[s], a->memory[s], offset)
                        : d->fn.BindImageMemory(d->handle, (VkImage)r->handle[s], a->memory[s], offset);
    }
    const char *name = r->kind == FZ_BUFFER ? "vkBindBufferMemory" : "vkBindImageMemory";
    fz_same_result(name, result);
    fz_watch_valid(name, &w, false);
    if (result[FZ_LAYER] != VK_SUCCESS) {
        fz_resource_destroy(slot);
        return;
    }
    r->allocation = index;
    r->offset = offset;
    fz_note_use(&st.allocations[index], r->requirements.alignment);
}

/* One vkBindBufferMemory2 or vkBindImageMemory2 of up to four resources, each
 * into an allocation of its own choice: layer and driver handles side by side. */
void fz_op_bind2(fz_input *in) {
    bool images = fz_u8(in) & 1;
    uint32_t count = 1 + fz_u8(in) % 4, used = 0;
    int slots[4];
    VkBindBufferMemoryInfo buffers[FZ_SIDES][4];
    VkBindImageMemoryInfo image_binds[FZ_SIDES][4];
    VkDeviceSize offsets[4];
    int owners[4];
    for (uint32_t i = 0; i < count; i++) {
        int index = fz_pick_allocation(fz_u8(in), bindable);
        uint8_t kind = fz_u8(in), width = fz_u8(in), height = fz_u8(in);
        uint32_t size_pick = fz_u32(in), offset_pick = fz_u32(in);
        if (index < 0) continue;
        fz_allocation *a = &st.allocations[index];
        if (images && (a->kind == FZ_EXPORT || a->kind == FZ_IMPORT)) continue;
        kind = images ? (uint8_t)(1 + kind % 3) : (uint8_t)(FZ_BUFFER | (kind & 0x80));
        if (!prepare_bind(index, kind, width, height, size_pick, offset_pick, &slots[used], &offsets[used])) continue;
        for (int s = 0; s < FZ_SIDES; s++) {
            uint64_t handle = st.resources[slots[used]].handle[s];
            buffers[s][used] = (VkBindBufferMemoryInfo){.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO,
                                                        .buffer = (VkBuffer)handle,
                                                        .memory = a->memory[s],
                                                        .memoryOffset = offsets[used]};
            image_binds[s][used] = (VkBindImageMemoryInfo){.sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO,
                                                           .image = (VkImage)handle,
                                                           .memory = a->memory[s],
                                                           .memoryOffset = offsets[used]};
        }
        /* Mark it bound now, so the next element's "after what is bound" sees it,
         * and its slice pinned, as the layer pins it element by element. */
        st.resources[slots[used]].allocation = index;
        st.resources[slots[used]].offset = offsets[used];
        fz_note_use(a, st.resources[slots[used]].requirements.alignment);
        owners[used] = index;
        if (fz_trace_on)
            fz_trace("  bind2[%u] resource %d (kind %d, %llu bytes) to %d at %llu\n", used, slots[used],
                     st.resources[slots[used]].kind, (unsigned long long)st.resources[slots[used]].requirements.size,
                     index, (unsigned long long)offsets[used]);
        used++;
    }
    if (used == 0) return;
    const char *name = images ? "vkBindImageMemory2" : "vkBindBufferMemory2";
    VkResult result[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) {
        fz_device *d = fz_dev(s);
        result[s] = images ? d->fn.BindImageMemory2(d->handle, used, image_binds[s])
                           : d->fn.BindBufferMemory2(d->handle, used, buffers[s]);
    }
    fz_same_result(name, result);
    fz_watch_valid(name, &w, false);
    (void)owners;
    if (result[FZ_LAYER] != VK_SUCCESS)
        for (uint32_t i = 0; i < used; i++) fz_resource_destroy(slots[i]);
}

/* What the device sees of allocation index: a buffer over its whole atoms is
 * bound at 0 and copied on the device to readback memory, on both sides. What
 * the host wrote and flushed (or wrote, where coherent) must be there. */
void fz_device_check(int index) {
    fz_allocation *a = &st.allocations[index];
    VkDeviceSize bytes = a->size / FZ_ATOM * FZ_ATOM;
    if (a->device_view == NULL || a->kind == FZ_DEDICATED || bytes == 0 || bytes > FZ_READBACK_SIZE) return;
    int slot = fz_free_resource_slot();
    if (slot < 0 || !fz_resource_create(slot, FZ_BUFFER, 0, 0, bytes, a, false)) return;
    fz_resource *r = &st.resources[slot];
    if (!(r->requirements.memoryTypeBits & (1u << a->type)) || r->requirements.size > a->size ||
        fz_layer_refuses(a, r->requirements.alignment)) {
        fz_resource_destroy(slot);
        return;
    }
    if (fz_trace_on) fz_trace("  device check of %d (%llu bytes)\n", index, (unsigned long long)bytes);
    VkResult result[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++)
        result[s] = fz_dev(s)->fn.BindBufferMemory(fz_dev(s)->handle, (VkBuffer)r->handle[s], a->memory[s], 0);
    fz_same_result("vkBindBufferMemory for a device check", result);
    fz_watch_valid("vkBindBufferMemory for a device check", &w, false);
    if (result[FZ_LAYER] != VK_SUCCESS) {
        fz_resource_destroy(slot);
        return;
    }
    r->allocation = index;
    r->offset = 0;
    fz_note_use(a, r->requirements.alignment);
    uint8_t expected[FZ_ATOM];
    for (int s = 0; s < FZ_SIDES; s++) {
        if (!fz_device_copy(fz_dev(s), (VkBuffer)r->handle[s], bytes)) FINDING("a device copy failed");
        for (uint32_t atom = 0; atom < bytes / FZ_ATOM; atom++) {
            if (a->device_view[atom] == 0) continue;
            fz_atom_pattern(a->device_view[atom], expected);
            if (memcmp(fz_dev(s)->readback_data + (VkDeviceSize)atom * FZ_ATOM, expected, FZ_ATOM) != 0)
                FINDING("the device does not see what the host flushed to allocation %d (type %u, %llu bytes) at "
                        "offset %llu %s",
                        index, a->type, (unsigned long long)a->size, (unsigned long long)atom * FZ_ATOM,
                        s == FZ_LAYER ? "through the layer" : "on the reference device (a fuzzer bug)");
        }
    }
}

void fz_op_destroy_resource(fz_input *in) {
    int slot = fz_pick_resource(fz_u8(in));
    if (slot < 0) return;
    if (fz_trace_on) fz_trace("  destroy resource %d\n", slot);
    fz_watch w = fz_watch_begin();
    fz_resource_destroy(slot);
    fz_watch_valid("vkDestroyBuffer/vkDestroyImage", &w, false);
}

/* ---- names, tags, private data, priority, commitment, fd --------------------------------------- */

void fz_op_name(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), NULL);
    uint8_t what = fz_u8(in), length = fz_u8(in) % 24;
    char name[32];
    for (uint8_t i = 0; i < length; i++) name[i] = (char)(' ' + fz_u8(in) % 95);
    name[length] = '\0';
    uint64_t tag_name = fz_u64(in);
    uint8_t tag[16];
    size_t tag_size = 1 + fz_u8(in) % sizeof tag;
    for (size_t i = 0; i < tag_size; i++) tag[i] = fz_u8(in);
    if (index < 0) return;
    fz_allocation *a = &st.allocations[index];
    what %= fz.enabled.debug_marker ? 4 : 2;
    static const char *const names[] = {"vkSetDebugUtilsObjectNameEXT", "vkSetDebugUtilsObjectTagEXT",
                                        "vkDebugMarkerSetObjectNameEXT", "vkDebugMarkerSetObjectTagEXT"};
    if (fz_trace_on) fz_trace("  %s on %d: '%s'\n", names[what], index, name);
    VkResult result[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) {
        fz_device *d = fz_dev(s);
        uint64_t object = (uint64_t)a->memory[s];
        switch (what) {
        case 0: {
            VkDebugUtilsObjectNameInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
                                                  .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
                                                  .objectHandle = object,
                                                  .pObjectName = name}; /* NULL is valid, but lavapipe 22.3 fails it */
            result[s] = d->fn.SetDebugUtilsObjectNameEXT(d->handle, &info);
            break;
        }
        case 1: {
            VkDebugUtilsObjectTagInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_TAG_INFO_EXT,
                                                 .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
                                                 .objectHandle = object,
                                                 .tagName = tag_name,
                                                 .tagSize = tag_size,
                                                 .pTag = tag};
            result[s] = d->fn.SetDebugUtilsObjectTagEXT(d->handle, &info);
            break;
        }
        case 2: {
            VkDebugMarkerObjectNameInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_MARKER_OBJECT_NAME_INFO_EXT,
                                                   .objectType = VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT,
                                                   .object = object,
                                                   .pObjectName = name};
            result[s] = d->fn.DebugMarkerSetObjectNameEXT(d->handle, &info);
            break;
        }
        default: {
            VkDebugMarkerObjectTagInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_MARKER_OBJECT_TAG_INFO_EXT,
                                                  .objectType = VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT,
                                                  .object = object,
                                                  .tagName = tag_name,
                                                  .tagSize = tag_size,
                                                  .pTag = tag};
            result[s] = d->fn.DebugMarkerSetObjectTagEXT(d->handle, &info);
            break;
        }
        }
    }
    fz_same_result(names[what], result);
    fz_watch_valid(names[what], &w, false);
}

void fz_op_private_data(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), NULL);
    bool set = fz_u8(in) & 1;
    uint64_t value = fz_u64(in);
    if (index < 0) return;
    fz_allocation *a = &st.allocations[index];
    if (fz_trace_on) fz_trace("  %s private data on %d\n", set ? "set" : "get", index);
    fz_watch w = fz_watch_begin();
    if (set) {
        VkResult result[FZ_SIDES];
        for (int s = 0; s < FZ_SIDES; s++)
            result[s] = fz_dev(s)->fn.SetPrivateData(fz_dev(s)->handle, VK_OBJECT_TYPE_DEVICE_MEMORY,
                                                     (uint64_t)a->memory[s], fz_dev(s)->slot, value);
        fz_same_result("vkSetPrivateData", result);
        if (result[FZ_LAYER] == VK_SUCCESS) a->private_data = value;
    } else {
        for (int s = 0; s < FZ_SIDES; s++) {
            uint64_t got = ~a->private_data;
            fz_dev(s)->fn.GetPrivateData(fz_dev(s)->handle, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)a->memory[s],
                                         fz_dev(s)->slot, &got);
            if (got != a->private_data)
                FINDING("vkGetPrivateData %s returned 0x%llx; 0x%llx was set",
                        s == FZ_LAYER ? "through the layer" : "(reference)", (unsigned long long)got,
                        (unsigned long long)a->private_data);
        }
    }
    fz_watch_valid("vkSetPrivateData/vkGetPrivateData", &w, false);
}

void fz_op_priority(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), NULL);
    float priority = (float)fz_u8(in) / 255.0f;
    if (index < 0 || !fz.enabled.pageable_memory) return;
    if (fz_trace_on) fz_trace("  vkSetDeviceMemoryPriorityEXT %d %.2f\n", index, (double)priority);
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++)
        fz_dev(s)->fn.SetDeviceMemoryPriorityEXT(fz_dev(s)->handle, st.allocations[index].memory[s], priority);
    fz_watch_valid("vkSetDeviceMemoryPriorityEXT", &w, false);
}

static bool lazily_allocated(const fz_allocation *a) {
    return fz.memory.memoryTypes[a->type].propertyFlags & VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT;
}

void fz_op_commitment(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), lazily_allocated);
    if (index < 0) return;
    if (fz_trace_on) fz_trace("  vkGetDeviceMemoryCommitment %d\n", index);
    VkDeviceSize committed[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++)
        fz_dev(s)->fn.GetDeviceMemoryCommitment(fz_dev(s)->handle, st.allocations[index].memory[s], &committed[s]);
    fz_watch_valid("vkGetDeviceMemoryCommitment", &w, false);
    if (committed[FZ_LAYER] != committed[FZ_REFERENCE])
        FINDING("vkGetDeviceMemoryCommitment: %llu through the layer, %llu without it",
                (unsigned long long)committed[FZ_LAYER], (unsigned long long)committed[FZ_REFERENCE]);
}

static bool exported(const fz_allocation *a) { return a->kind == FZ_EXPORT; }

void fz_op_memory_fd(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), exported);
    if (index < 0) return;
    if (fz_trace_on) fz_trace("  vkGetMemoryFdKHR %d\n", index);
    VkResult result[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) {
        VkMemoryGetFdInfoKHR info = {.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
                                     .memory = st.allocations[index].memory[s],
                                     .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
        int fd = -1;
        result[s] = fz_dev(s)->fn.GetMemoryFdKHR(fz_dev(s)->handle, &info, &fd);
        if (fd >= 0) close(fd);
    }
    fz_same_result("vkGetMemoryFdKHR", result);
    fz_watch_valid("vkGetMemoryFdKHR", &w, false);
}

/* ---- device teardown with memory live ---------------------------------------------------------- */

/* The app destroys the device with its allocations live (some mapped, named,
 * with private data): the layer must give every block back. The reference
 * device only frees: it is not under test, and its heaps must not fill up.
 * A new device costs lavapipe tens of milliseconds, a hundred times a whole
 * input, so a teardown happens at most once every FZ_TEARDOWN_INPUTS inputs
 * (the first input replayed alone always may). */
void fz_op_teardown(fz_input *in) {
    (void)in;
    if (st.torn_down || st.inputs_since_teardown < FZ_TEARDOWN_INPUTS) return;
    st.torn_down = true;
    st.inputs_since_teardown = 0;
    if (fz_trace_on) fz_trace("  vkDestroyDevice with live memory\n");
    for (int r = 0; r < FZ_MAX_RESOURCES; r++)
        if (st.resources[r].live) fz_resource_destroy(r);
    for (int i = 0; i < FZ_MAX_ALLOCATIONS; i++) {
        fz_allocation *a = &st.allocations[i];
        if (!a->live) continue;
        fz_dev(FZ_REFERENCE)->fn.FreeMemory(fz_dev(FZ_REFERENCE)->handle, a->memory[FZ_REFERENCE], NULL);
    }
    fz_device_destroy(&fz.side[FZ_LAYER].device);
    fz_forget_queries();
    for (int i = 0; i < FZ_MAX_ALLOCATIONS; i++) {
        fz_allocation *a = &st.allocations[i];
        release_host_memory(a);
        free(a->host_view);
        free(a->device_view);
        *a = (fz_allocation){.dedicated = -1};
    }
    uint64_t left = fz_heap_usage(&fz, FZ_LAYER) - FZ_READBACK_SIZE; /* the other device's readback stays */
    if (left != 0)
        FINDING("vkDestroyDevice with live memory left %llu bytes of driver memory on the heaps",
                (unsigned long long)left);
    if (!fz_device_create(&fz, FZ_LAYER, &fz.side[FZ_LAYER].device)) FINDING("vkCreateDevice failed after a teardown");
}
