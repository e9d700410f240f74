/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_layer_misuse.c: invalid calls, made on the layer side only (misuse mode).
 *
 * Each names sub-allocated memory, so the layer is the only one that can
 * catch it: a stale handle (freed; forged from a live one with another
 * generation or a neighbouring slot), a handle of another device, a second
 * map, a range or bind outside the allocation, a misaligned bind, an fd of
 * memory never made for export, a bad allocate. The layer must answer each
 * with an error (where the call returns one) and a message, and let nothing
 * reach the driver. Afterwards the app's state must be as before: the
 * following valid calls and the contents checks see to that.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_layer.h"

static bool layer_handle(const fz_allocation *a) { return a->layer_handle; }

static bool layer_mapped(const fz_allocation *a) { return a->layer_handle && a->mapped; }

static bool layer_unmapped_host_visible(const fz_allocation *a) {
    return a->layer_handle && !a->mapped && fz_host_visible(a->type);
}

static bool layer_not_host_visible(const fz_allocation *a) { return a->layer_handle && !fz_host_visible(a->type); }

/* Coherent: a stray byte flushed changes nothing the contents model tracks. */
static bool layer_mapped_coherent(const fz_allocation *a) {
    return a->layer_handle && a->mapped && fz_coherent(a->type);
}

static bool layer_unmapped(const fz_allocation *a) { return a->layer_handle && !a->mapped; }

static bool layer_bindable(const fz_allocation *a) { return a->layer_handle && a->kind == FZ_PLAIN; }

static bool is_live_handle(VkDeviceMemory memory) {
    for (int i = 0; i < FZ_MAX_ALLOCATIONS; i++)
        if (st.allocations[i].live && st.allocations[i].memory[FZ_LAYER] == memory) return true;
    return false;
}

/* A value the layer must refuse: a stale handle it gave out, or one forged from
 * a live handle. Freed driver handles only where driver_ok (a free: the layer
 * knows the app's pass-through allocations; elsewhere the driver would get it). */
static bool bad_handle(fz_input *in, bool driver_ok, VkDeviceMemory *out) {
    uint8_t pick = fz_u8(in), how = fz_u8(in);
    if ((how & 1) && st.stale_count > 0) {
        uint32_t i = pick % st.stale_count;
        if ((st.stale_layer[i] || driver_ok) && !is_live_handle(st.stale[i])) {
            *out = st.stale[i];
            return true;
        }
    }
    int index = fz_pick_allocation(pick, layer_handle);
    if (index < 0) return false;
    uint64_t live = (uint64_t)st.allocations[index].memory[FZ_LAYER];
    uint64_t forged = (how & 2) ? live + 64u * (1u + how % 4u)                       /* a neighbouring slot */
                                : (live & ~63ull) | ((live + 1u + how % 62u) & 63u); /* another generation */
    if (is_live_handle((VkDeviceMemory)forged)) return false;
    *out = (VkDeviceMemory)forged;
    return true;
}

static fz_device *layer(void) { return fz_dev(FZ_LAYER); }

/* A buffer on the layer side only, and what it needs. */
static bool layer_buffer(VkDeviceSize size, VkBuffer *buffer, VkMemoryRequirements *requirements) {
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = size,
                               .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    if (layer()->fn.CreateBuffer(layer()->handle, &info, NULL, buffer) != VK_SUCCESS) return false;
    layer()->fn.GetBufferMemoryRequirements(layer()->handle, *buffer, requirements);
    fz_note_query(requirements->size, requirements->alignment);
    return true;
}

/* ---- with a stale or forged handle ------------------------------------------------------- */

static void with_bad_handle(fz_input *in, uint8_t what) {
    VkDeviceMemory memory;
    if (!bad_handle(in, what == 0, &memory)) return;
    fz_device *d = layer();
    VkResult result = VK_SUCCESS;
    bool has_result = true;
    const char *name;
    fz_watch w = fz_watch_begin();
    switch (what) {
    case 0:
        name = "vkFreeMemory of a stale handle";
        d->fn.FreeMemory(d->handle, memory, NULL);
        has_result = false;
        break;
    case 1: {
        name = "vkMapMemory of a stale handle";
        void *data = NULL;
        result = d->fn.MapMemory(d->handle, memory, 0, VK_WHOLE_SIZE, 0, &data);
        break;
    }
    case 2:
        name = "vkUnmapMemory of a stale handle";
        d->fn.UnmapMemory(d->handle, memory);
        has_result = false;
        break;
    case 3:
    case 4: {
        VkMappedMemoryRange range = {
            .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
        name = what == 3 ? "vkFlushMappedMemoryRanges of a stale handle"
                         : "vkInvalidateMappedMemoryRanges of a stale handle";
        result = what == 3 ? d->fn.FlushMappedMemoryRanges(d->handle, 1, &range)
                           : d->fn.InvalidateMappedMemoryRanges(d->handle, 1, &range);
        break;
    }
    case 5:
    case 6: {
        /* Alone, or after a valid element of a bind2 array: all or nothing. */
        name = what == 5 ? "vkBindBufferMemory of a stale handle" : "vkBindBufferMemory2 with a stale handle";
        VkBuffer buffers[2] = {VK_NULL_HANDLE, VK_NULL_HANDLE};
        VkMemoryRequirements requirements;
        if (!layer_buffer(256, &buffers[0], &requirements) || !layer_buffer(256, &buffers[1], &requirements)) {
            d->fn.DestroyBuffer(d->handle, buffers[0], NULL);
            return;
        }
        int good = fz_pick_allocation(fz_u8(in), layer_bindable);
        if (what == 5 || good < 0 || requirements.size > st.allocations[good].size ||
            !(requirements.memoryTypeBits & (1u << st.allocations[good].type))) {
            result = d->fn.BindBufferMemory(d->handle, buffers[0], memory, 0);
        } else {
            VkBindBufferMemoryInfo infos[2] = {
                {.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO,
                 .buffer = buffers[1],
                 .memory = st.allocations[good].memory[FZ_LAYER]},
                {.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, .buffer = buffers[0], .memory = memory},
            };
            result = d->fn.BindBufferMemory2(d->handle, 2, infos);
            /* The layer translates element by element: the valid one pinned its
             * slice before the stale one failed the call (noted in README). */
            fz_note_use(&st.allocations[good], requirements.alignment);
        }
        if (fz_trace_on) fz_trace("  misuse: %s (0x%llx)\n", name, (unsigned long long)memory);
        fz_watch_caught(name, &w, true, result);
        d->fn.DestroyBuffer(d->handle, buffers[0], NULL);
        d->fn.DestroyBuffer(d->handle, buffers[1], NULL);
        return;
    }
    case 7: {
        name = "vkSetDebugUtilsObjectNameEXT of a stale handle";
        VkDebugUtilsObjectNameInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
                                              .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
                                              .objectHandle = (uint64_t)memory,
                                              .pObjectName = "stale"};
        result = d->fn.SetDebugUtilsObjectNameEXT(d->handle, &info);
        break;
    }
    case 8: {
        name = "vkSetDebugUtilsObjectTagEXT of a stale handle";
        uint32_t tag = 7;
        VkDebugUtilsObjectTagInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_TAG_INFO_EXT,
                                             .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
                                             .objectHandle = (uint64_t)memory,
                                             .tagName = 1,
                                             .tagSize = sizeof tag,
                                             .pTag = &tag};
        result = d->fn.SetDebugUtilsObjectTagEXT(d->handle, &info);
        break;
    }
    case 9: {
        if (!fz.enabled.debug_marker) return;
        name = "vkDebugMarkerSetObjectNameEXT of a stale handle";
        VkDebugMarkerObjectNameInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_MARKER_OBJECT_NAME_INFO_EXT,
                                               .objectType = VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT,
                                               .object = (uint64_t)memory,
                                               .pObjectName = "stale"};
        result = d->fn.DebugMarkerSetObjectNameEXT(d->handle, &info);
        break;
    }
    case 10:
        name = "vkSetPrivateData of a stale handle";
        result = d->fn.SetPrivateData(d->handle, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)memory, d->slot, 42);
        break;
    case 11: {
        name = "vkGetPrivateData of a stale handle";
        uint64_t data = 42;
        d->fn.GetPrivateData(d->handle, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)memory, d->slot, &data);
        if (data != 0) FINDING("%s: returned 0x%llx; nothing can be set on it", name, (unsigned long long)data);
        has_result = false;
        break;
    }
    case 12: {
        name = "vkGetDeviceMemoryCommitment of a stale handle";
        VkDeviceSize committed = 42;
        d->fn.GetDeviceMemoryCommitment(d->handle, memory, &committed);
        if (committed != 0) FINDING("%s: returned %llu", name, (unsigned long long)committed);
        has_result = false;
        break;
    }
    default:
        if (!fz.enabled.pageable_memory) return;
        name = "vkSetDeviceMemoryPriorityEXT of a stale handle";
        d->fn.SetDeviceMemoryPriorityEXT(d->handle, memory, 1.0f);
        has_result = false;
        break;
    }
    if (fz_trace_on) fz_trace("  misuse: %s (0x%llx)\n", name, (unsigned long long)memory);
    fz_watch_caught(name, &w, has_result, result);
}

/* ---- with a live sub-allocation ----------------------------------------------------------- */

static void map_misuse(fz_input *in, uint8_t what) {
    uint8_t pick = fz_u8(in), variant = fz_u8(in);
    uint16_t extra = fz_u16(in);
    bool (*filter)(const fz_allocation *) = what == 0   ? layer_mapped
                                            : what == 1 ? layer_not_host_visible
                                                        : layer_unmapped_host_visible;
    int index = fz_pick_allocation(pick, filter);
    if (index < 0) return;
    fz_allocation *a = &st.allocations[index];
    VkDeviceSize offset = 0, size = VK_WHOLE_SIZE;
    const char *name = what == 0   ? "vkMapMemory of mapped memory"
                       : what == 1 ? "vkMapMemory of memory that is not host-visible"
                       : what == 2 ? "vkMapMemory of a range outside the allocation"
                                   : "vkMapMemory with ppData NULL";
    if (what == 2) {
        switch (variant % 3) {
        case 0: offset = a->size + extra; break;
        case 1: offset = extra % a->size, size = a->size - offset + 1 + variant; break;
        default: size = 0; break;
        }
    }
    void *data = NULL;
    if (fz_trace_on) fz_trace("  misuse: %s (allocation %d)\n", name, index);
    fz_watch w = fz_watch_begin();
    VkResult result =
        layer()->fn.MapMemory(layer()->handle, a->memory[FZ_LAYER], offset, size, 0, what == 3 ? NULL : &data);
    fz_watch_caught(name, &w, true, result);
    if (what == 0) fz_check_contents(index, "after a refused second vkMapMemory");
}

static void sync_misuse(fz_input *in, uint8_t what) {
    bool (*const filters[])(const fz_allocation *) = {layer_unmapped, layer_unmapped_host_visible, layer_mapped,
                                                      layer_mapped_coherent};
    int index = fz_pick_allocation(fz_u8(in), filters[what]);
    uint8_t variant = fz_u8(in);
    if (index < 0) return;
    fz_allocation *a = &st.allocations[index];
    VkDeviceSize end = (a->size + FZ_ATOM - 1) / FZ_ATOM * FZ_ATOM;
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = a->memory[FZ_LAYER], .size = VK_WHOLE_SIZE};
    const char *name;
    fz_watch w = fz_watch_begin();
    if (what == 0) {
        name = "vkUnmapMemory of memory not mapped";
        if (fz_trace_on) fz_trace("  misuse: %s (allocation %d)\n", name, index);
        layer()->fn.UnmapMemory(layer()->handle, a->memory[FZ_LAYER]);
        fz_watch_caught(name, &w, false, VK_SUCCESS);
        return;
    }
    if (what == 1) {
        name = "vkFlushMappedMemoryRanges of memory not mapped";
    } else if (what == 2) {
        name = "vkInvalidateMappedMemoryRanges of a range outside the allocation";
        if (variant & 1) range.offset = end + FZ_ATOM * (variant >> 1), range.size = FZ_ATOM;
        else range.size = end + FZ_ATOM;
    } else {
        /* The spec wants atom-aligned offsets; the layer does not check, the
         * driver alone would get it as it is. */
        name = "vkFlushMappedMemoryRanges at an offset off the atom";
        VkDeviceSize first = (a->map_offset + FZ_ATOM - 1) / FZ_ATOM * FZ_ATOM;
        range.offset = first + 1 + variant % (FZ_ATOM - 1);
        range.size = 1;
        if (range.offset + 1 > a->map_end) return;
        if (fz_trace_on) fz_trace("  misuse: %s (allocation %d)\n", name, index);
        (void)layer()->fn.FlushMappedMemoryRanges(layer()->handle, 1, &range);
        fz_watch_passed_on(name, &w);
        return;
    }
    if (fz_trace_on) fz_trace("  misuse: %s (allocation %d)\n", name, index);
    VkResult result = what == 2 ? layer()->fn.InvalidateMappedMemoryRanges(layer()->handle, 1, &range)
                                : layer()->fn.FlushMappedMemoryRanges(layer()->handle, 1, &range);
    fz_watch_caught(name, &w, true, result);
    fz_check_contents(index, name);
}

static void bind_misuse(fz_input *in, bool past_end) {
    int index = fz_pick_allocation(fz_u8(in), layer_bindable);
    uint32_t pick = fz_u32(in);
    if (index < 0) return;
    const fz_allocation *a = &st.allocations[index];
    VkBuffer buffer;
    VkMemoryRequirements r;
    if (!layer_buffer(1 + pick % a->size, &buffer, &r)) return;
    VkDeviceSize alignment = r.alignment, offset = 0;
    bool usable = alignment > 1 && r.size <= a->size && (r.memoryTypeBits & (1u << a->type));
    if (usable && past_end) {
        offset = (a->size - r.size + alignment) / alignment * alignment; /* aligned, one alignment too far */
    } else if (usable) {
        offset = (pick >> 8) % (a->size / alignment + 1) * alignment + 1 + pick % (alignment - 1);
        usable = offset + r.size <= a->size; /* wrong in nothing but its alignment */
    }
    if (!usable) {
        layer()->fn.DestroyBuffer(layer()->handle, buffer, NULL);
        return;
    }
    const char *name = past_end ? "vkBindBufferMemory past the end" : "vkBindBufferMemory at a misaligned offset";
    if (fz_trace_on) fz_trace("  misuse: %s (allocation %d, offset %llu)\n", name, index, (unsigned long long)offset);
    fz_watch w = fz_watch_begin();
    VkResult result = layer()->fn.BindBufferMemory(layer()->handle, buffer, a->memory[FZ_LAYER], offset);
    fz_watch_caught(name, &w, true, result);
    layer()->fn.DestroyBuffer(layer()->handle, buffer, NULL);
}

/* A live sub-allocation used on another device of the same instance. */
static void other_device_misuse(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), layer_handle);
    uint8_t what = fz_u8(in) % 3;
    if (index < 0) return;
    fz_device *other = &fz.other;
    VkDeviceMemory memory = st.allocations[index].memory[FZ_LAYER];
    StrictDeviceCounters before, after;
    other->fn.StrictGetCounters(other->handle, &before);
    fz_messages messages = fz_layer_messages();
    VkResult result = VK_ERROR_UNKNOWN;
    static const char *const names[] = {"vkMapMemory on another device", "vkFreeMemory on another device",
                                        "vkFlushMappedMemoryRanges on another device"};
    if (fz_trace_on) fz_trace("  misuse: %s (allocation %d)\n", names[what], index);
    if (what == 0) {
        void *data;
        result = other->fn.MapMemory(other->handle, memory, 0, VK_WHOLE_SIZE, 0, &data);
    } else if (what == 1) {
        other->fn.FreeMemory(other->handle, memory, NULL);
    } else {
        VkMappedMemoryRange range = {
            .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
        result = other->fn.FlushMappedMemoryRanges(other->handle, 1, &range);
    }
    other->fn.StrictGetCounters(other->handle, &after);
    if (result == VK_SUCCESS) FINDING("%s: the layer returned VK_SUCCESS", names[what]);
    if (after.violations != before.violations) FINDING("%s: it reached the other device's driver", names[what]);
    fz_messages now = fz_layer_messages();
    if (now.errors + now.warnings == messages.errors + messages.warnings)
        FINDING("%s: the layer said nothing", names[what]);
}

static void allocate_misuse(fz_input *in) {
    uint8_t variant = fz_u8(in);
    VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = 4096};
    const char *name;
    if (variant & 1) {
        name = "vkAllocateMemory of a memory type the device does not have";
        info.memoryTypeIndex = STRICT_DEVICE_MEMORY_TYPE_COUNT + variant / 2;
    } else {
        name = "vkAllocateMemory of 0 bytes";
        info.allocationSize = 0;
        info.memoryTypeIndex = variant / 2 % STRICT_DEVICE_MEMORY_TYPE_COUNT;
    }
    if (fz_trace_on) fz_trace("  misuse: %s\n", name);
    VkDeviceMemory memory = VK_NULL_HANDLE;
    fz_watch w = fz_watch_begin();
    VkResult result = layer()->fn.AllocateMemory(layer()->handle, &info, NULL, &memory);
    fz_watch_caught(name, &w, true, result);
}

static void fd_misuse(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), layer_handle);
    if (index < 0 || !fz.enabled.external_memory_fd) return;
    const char *name = "vkGetMemoryFdKHR of memory not made for export";
    if (fz_trace_on) fz_trace("  misuse: %s (allocation %d)\n", name, index);
    VkMemoryGetFdInfoKHR info = {.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
                                 .memory = st.allocations[index].memory[FZ_LAYER],
                                 .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
    int fd = -1;
    fz_watch w = fz_watch_begin();
    VkResult result = layer()->fn.GetMemoryFdKHR(layer()->handle, &info, &fd);
    fz_watch_caught(name, &w, true, result);
    if (fd >= 0) FINDING("%s: the layer handed out fd %d", name, fd);
}

void fz_op_misuse(fz_input *in) {
    if (!st.misuse) return;
    uint8_t what = fz_u8(in) % 25;
    if (what < 14) with_bad_handle(in, what);
    else if (what < 18) map_misuse(in, (uint8_t)(what - 14));
    else if (what < 22) sync_misuse(in, (uint8_t)(what - 18));
    else if (what == 22) bind_misuse(in, fz_u8(in) & 1);
    else if (what == 23) other_device_misuse(in);
    else if (fz_u8(in) & 1) allocate_misuse(in);
    else fd_misuse(in);
}
