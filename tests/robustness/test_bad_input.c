/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bad_input: the layer stays safe when the app misuses memory calls.
 *
 * Validation of the app's misuse is the validation layer's job. The rule here
 * is narrower: whatever the app passes, the layer answers with a VkResult (or,
 * for a void call, does nothing), says why through the app's debug-utils
 * messenger, never crashes, and never damages another allocation.
 *
 * Each row of the table below commits one misuse and names the result it must
 * get and whether the layer must report it. Every row runs in its own child
 * process, on its own instance and device, so a crash fails that row alone and
 * says so. Around each misuse the runner checks:
 *   - the VkResult of the misuse call is the row's;
 *   - the layer's message was (or, where the row says so, was not) delivered;
 *   - a sentinel allocation, filled before the misuse, still holds its bytes;
 *   - the layer still works: a fresh allocation maps, holds a pattern, frees.
 * In the strict chain the strict-device layer sits below: any bad call the layer
 * lets through to the "driver" aborts the child with a VIOLATION line, and
 * STRICT_DEVICE_CHECK_LEAKS=1 makes a block left behind at vkDestroyDevice one.
 *
 * A row may carry known_layer_bug: the layer fails it today (reported to the
 * lead). Such a row must still fail; when it starts passing the test fails too,
 * so that the mark is removed together with the bug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robust_vk.h"

#define SENTINEL_SIZE (64u * 1024u)
#define SENTINEL_SEED 0x5E471E1ull
#define CASE_SIZE (16u * 1024u)
#define FOREIGN_HANDLE ((VkDeviceMemory)0xdeadbeef000ull)

typedef struct context {
    robust_vk vk;
    robust_device dev;
    VkDevice device;
    uint32_t host_type;   /* host-visible and coherent */
    uint32_t device_type; /* not host-visible, or UINT32_MAX when the device has none */
    VkDeviceSize atom;    /* nonCoherentAtomSize */
    VkDeviceMemory sentinel;
    unsigned char *sentinel_bytes;
} context;

typedef enum message_rule {
    MESSAGE_REQUIRED, /* the layer must say why */
    MESSAGE_NONE,     /* a valid or harmless call: the layer stays silent */
} message_rule;

typedef struct misuse {
    const char *rule;               /* what the row proves */
    VkResult (*commit)(context *c); /* commits the misuse; VK_SUCCESS for a void call */
    VkResult expected;
    message_rule message;
    bool needs_strict;             /* needs the strict layer's memory types or counters */
    bool strict_counts_violations; /* the row expects the strict layer to see one */
    const char *known_layer_bug;
} misuse;

/* ---- helpers for the rows ------------------------------------------------------------- */

static VkDeviceMemory allocate_or_fail(context *c, VkDeviceSize size, uint32_t type) {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result = robust_allocate(c->device, size, type, &memory);
    EXPECT(result == VK_SUCCESS, "setup allocation of %llu bytes (type %u) returned %s", (unsigned long long)size, type,
           robust_result_name(result));
    return memory;
}

static void *map_or_fail(context *c, VkDeviceMemory memory) {
    void *data = NULL;
    VkResult result = vkMapMemory(c->device, memory, 0, VK_WHOLE_SIZE, 0, &data);
    EXPECT(result == VK_SUCCESS && data != NULL, "setup map returned %s", robust_result_name(result));
    return result == VK_SUCCESS ? data : NULL;
}

/* Maps memory, writes a pattern, reads it back, unmaps: the allocation is usable. */
static bool holds_a_pattern(context *c, VkDeviceMemory memory, VkDeviceSize size, uint64_t seed) {
    void *data = NULL;
    if (vkMapMemory(c->device, memory, 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS || data == NULL) return false;
    robust_fill(data, (size_t)size, seed);
    bool intact = robust_count_wrong(data, (size_t)size, seed) == 0;
    vkUnmapMemory(c->device, memory);
    return intact;
}

static VkDeviceMemory freed_memory(context *c) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    vkFreeMemory(c->device, memory, NULL);
    return memory;
}

static VkMappedMemoryRange range_of(VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size) {
    return (VkMappedMemoryRange){
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = memory,
        .offset = offset,
        .size = size,
    };
}

/* A mapped sub-allocation and one range on it, flushed or invalidated. */
static VkResult sync_range(context *c, bool flush, VkDeviceSize offset, VkDeviceSize size) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    map_or_fail(c, memory);
    VkMappedMemoryRange range = range_of(memory, offset, size);
    VkResult result =
        flush ? vkFlushMappedMemoryRanges(c->device, 1, &range) : vkInvalidateMappedMemoryRanges(c->device, 1, &range);
    vkUnmapMemory(c->device, memory);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult map_range(context *c, VkDeviceSize offset, VkDeviceSize size) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    void *data = NULL;
    VkResult result = vkMapMemory(c->device, memory, offset, size, 0, &data);
    if (result == VK_SUCCESS) vkUnmapMemory(c->device, memory);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

typedef struct bound_buffer {
    VkBuffer buffer;
    VkMemoryRequirements requirements;
} bound_buffer;

static bound_buffer buffer_or_fail(context *c, VkDeviceSize size) {
    bound_buffer b = {0};
    VkResult result = robust_create_buffer(c->device, size, &b.buffer);
    EXPECT(result == VK_SUCCESS, "setup vkCreateBuffer returned %s", robust_result_name(result));
    if (result == VK_SUCCESS) vkGetBufferMemoryRequirements(c->device, b.buffer, &b.requirements);
    return b;
}

/* Binds a fresh buffer of buffer_size at offset into a fresh allocation of memory_size. */
static VkResult bind_buffer_at(context *c, VkDeviceSize buffer_size, VkDeviceSize memory_size, VkDeviceSize offset) {
    bound_buffer b = buffer_or_fail(c, buffer_size);
    VkDeviceMemory memory = allocate_or_fail(c, memory_size, c->host_type);
    VkResult result = vkBindBufferMemory(c->device, b.buffer, memory, offset);
    vkDestroyBuffer(c->device, b.buffer, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

/* ---- allocation ------------------------------------------------------------------------ */

static VkResult allocate_zero_bytes(context *c) {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    return robust_allocate(c->device, 0, c->host_type, &memory);
}

static VkResult allocate_type_past_count(context *c) {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    return robust_allocate(c->device, CASE_SIZE, c->vk.memory.memoryTypeCount, &memory);
}

static VkResult allocate_type_uint32_max(context *c) {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    return robust_allocate(c->device, CASE_SIZE, UINT32_MAX, &memory);
}

static VkResult allocate_null_info(context *c) {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    return vkAllocateMemory(c->device, NULL, NULL, &memory);
}

static VkResult allocate_above_heap(context *c) {
    uint32_t heap = c->vk.memory.memoryTypes[c->host_type].heapIndex;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result = robust_allocate(c->device, c->vk.memory.memoryHeaps[heap].size + 4096, c->host_type, &memory);
    if (result == VK_SUCCESS) vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult allocate_uint64_max(context *c) {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result = robust_allocate(c->device, UINT64_MAX - 63, c->host_type, &memory);
    if (result == VK_SUCCESS) vkFreeMemory(c->device, memory, NULL);
    return result;
}

/* A structure no extension defines: the layer must not sub-allocate what it does
 * not understand, and the driver's own handle must work for the app. */
static VkResult allocate_unknown_pnext(context *c) {
    VkBaseInStructure unknown = {.sType = (VkStructureType)0x7ffe0001};
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = &unknown,
        .allocationSize = CASE_SIZE,
        .memoryTypeIndex = c->host_type,
    };
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result = vkAllocateMemory(c->device, &info, NULL, &memory);
    if (result != VK_SUCCESS) return result;
    if (robust_has_strict(&c->dev))
        EXPECT(c->dev.strict.is_driver_memory(c->device, memory), "the app did not get the driver's own handle");
    EXPECT(holds_a_pattern(c, memory, CASE_SIZE, 61), "the pass-through allocation does not hold its bytes");
    bound_buffer b = buffer_or_fail(c, 4096);
    EXPECT(vkBindBufferMemory(c->device, b.buffer, memory, 0) == VK_SUCCESS,
           "binding to the pass-through handle failed");
    vkDestroyBuffer(c->device, b.buffer, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

/* ---- free -------------------------------------------------------------------------------- */

static VkResult free_null(context *c) {
    vkFreeMemory(c->device, VK_NULL_HANDLE, NULL);
    return VK_SUCCESS;
}

/* The second free comes after the record was reused, most likely by `next`:
 * the stale handle must not free the new allocation. */
static VkResult double_free_suballocation(context *c) {
    VkDeviceMemory memory = freed_memory(c);
    VkDeviceMemory next = allocate_or_fail(c, CASE_SIZE, c->host_type);
    uint64_t before = robust_layer_message_count();
    vkFreeMemory(c->device, memory, NULL);
    EXPECT(robust_layer_message_count() > before, "the double free was not reported");
    EXPECT(holds_a_pattern(c, next, CASE_SIZE, 7), "the allocation made after the first free was damaged");
    before = robust_layer_message_count();
    vkFreeMemory(c->device, next, NULL);
    EXPECT(robust_layer_message_count() == before, "a valid free after the double free was reported");
    return VK_SUCCESS;
}

/* A dedicated allocation is always passed through, whatever the settings. */
static VkDeviceMemory passthrough_allocation(context *c, VkBuffer *buffer) {
    bound_buffer b = buffer_or_fail(c, CASE_SIZE);
    VkMemoryDedicatedAllocateInfo dedicated = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
        .buffer = b.buffer,
    };
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = &dedicated,
        .allocationSize = b.requirements.size,
        .memoryTypeIndex = c->host_type,
    };
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result = vkAllocateMemory(c->device, &info, NULL, &memory);
    EXPECT(result == VK_SUCCESS, "setup dedicated allocation returned %s", robust_result_name(result));
    *buffer = b.buffer;
    return memory;
}

static VkResult double_free_passthrough(context *c) {
    VkBuffer buffer;
    VkDeviceMemory memory = passthrough_allocation(c, &buffer);
    vkFreeMemory(c->device, memory, NULL);
    vkDestroyBuffer(c->device, buffer, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return VK_SUCCESS;
}

static VkResult free_foreign_handle(context *c) {
    vkFreeMemory(c->device, FOREIGN_HANDLE, NULL);
    return VK_SUCCESS;
}

/* A value inside the address range the layer's records live in, but far past
 * any record it handed out: garbage an app could hold in an uninitialised handle. */
static VkResult free_forged_handle_in_record_range(context *c) {
    VkDeviceMemory forged = (VkDeviceMemory)((uint64_t)c->sentinel + (256ull << 20));
    vkFreeMemory(c->device, forged, NULL);
    return VK_SUCCESS;
}

/* Values inside live records, not at their start: what corrupted handles look
 * like. Which bytes such a value lands on depends on the records' addresses, so
 * the row tries one per record of a few dozen live ones. */
#define INSIDE_RECORD_COUNT 32

static VkResult free_handles_inside_live_records(context *c) {
    VkDeviceMemory live[INSIDE_RECORD_COUNT];
    for (unsigned i = 0; i < INSIDE_RECORD_COUNT; i++) live[i] = allocate_or_fail(c, 4096, c->host_type);
    for (unsigned i = 0; i < INSIDE_RECORD_COUNT; i++) {
        uint64_t before = robust_layer_message_count();
        vkFreeMemory(c->device, (VkDeviceMemory)((uint64_t)live[i] + 64), NULL);
        EXPECT(robust_layer_message_count() > before, "freeing allocation %u's handle + 64 was not reported", i);
    }
    for (unsigned i = 0; i < INSIDE_RECORD_COUNT; i++) {
        EXPECT(holds_a_pattern(c, live[i], 4096, i), "allocation %u was damaged", i);
        vkFreeMemory(c->device, live[i], NULL);
    }
    return VK_SUCCESS;
}

static VkResult free_other_devices_memory(context *c) {
    robust_device other;
    EXPECT(robust_device_create(&c->vk, &other), "a second device could not be made");
    if (other.handle == VK_NULL_HANDLE) return VK_ERROR_INITIALIZATION_FAILED;
    VkDeviceMemory theirs = VK_NULL_HANDLE;
    EXPECT(robust_allocate(other.handle, CASE_SIZE, c->host_type, &theirs) == VK_SUCCESS, "setup on the second device");
    void *data = NULL;
    EXPECT(vkMapMemory(other.handle, theirs, 0, VK_WHOLE_SIZE, 0, &data) == VK_SUCCESS,
           "setup map on the second device");
    if (data != NULL) robust_fill(data, CASE_SIZE, 99);

    uint64_t before = robust_layer_message_count();
    vkFreeMemory(c->device, theirs, NULL);
    EXPECT(robust_layer_message_count() > before, "freeing another device's memory was not reported");

    if (data != NULL) EXPECT(robust_count_wrong(data, CASE_SIZE, 99) == 0, "the other device's allocation was damaged");
    vkUnmapMemory(other.handle, theirs);
    before = robust_layer_message_count();
    vkFreeMemory(other.handle, theirs, NULL);
    EXPECT(robust_layer_message_count() == before, "the owner's own free was reported as misuse");
    robust_device_destroy(&other);
    return VK_SUCCESS;
}

/* ---- map and unmap ------------------------------------------------------------------------ */

static VkResult map_twice(context *c) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    unsigned char *first = map_or_fail(c, memory);
    void *second = NULL;
    VkResult result = vkMapMemory(c->device, memory, 0, VK_WHOLE_SIZE, 0, &second);
    if (first != NULL) {
        robust_fill(first, CASE_SIZE, 3);
        EXPECT(robust_count_wrong(first, CASE_SIZE, 3) == 0, "the first mapping stopped working");
    }
    vkUnmapMemory(c->device, memory);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult map_not_host_visible(context *c) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->device_type);
    void *data = NULL;
    VkResult result = vkMapMemory(c->device, memory, 0, VK_WHOLE_SIZE, 0, &data);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult map_offset_at_end(context *c) { return map_range(c, CASE_SIZE, VK_WHOLE_SIZE); }

static VkResult map_size_past_end(context *c) { return map_range(c, 0, CASE_SIZE + 1); }

static VkResult map_zero_bytes(context *c) { return map_range(c, 0, 0); }

static VkResult map_end_overflows(context *c) { return map_range(c, 256, UINT64_MAX - 128); }

static VkResult map_without_pointer(context *c) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    VkResult result = vkMapMemory(c->device, memory, 0, VK_WHOLE_SIZE, 0, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult map_freed(context *c) {
    void *data = NULL;
    return vkMapMemory(c->device, freed_memory(c), 0, VK_WHOLE_SIZE, 0, &data);
}

static VkResult unmap_unmapped(context *c) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    vkUnmapMemory(c->device, memory);
    EXPECT(holds_a_pattern(c, memory, CASE_SIZE, 11), "the memory cannot be mapped after the stray unmap");
    vkFreeMemory(c->device, memory, NULL);
    return VK_SUCCESS;
}

static VkResult unmap_freed(context *c) {
    vkUnmapMemory(c->device, freed_memory(c));
    return VK_SUCCESS;
}

/* ---- flush and invalidate ----------------------------------------------------------------- */

static VkResult flush_unmapped(context *c) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    VkMappedMemoryRange range = range_of(memory, 0, VK_WHOLE_SIZE);
    VkResult result = vkFlushMappedMemoryRanges(c->device, 1, &range);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult invalidate_unmapped(context *c) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    VkMappedMemoryRange range = range_of(memory, 0, VK_WHOLE_SIZE);
    VkResult result = vkInvalidateMappedMemoryRanges(c->device, 1, &range);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult flush_size_past_end(context *c) { return sync_range(c, true, 0, CASE_SIZE + c->atom); }

static VkResult flush_offset_past_end(context *c) { return sync_range(c, true, CASE_SIZE + c->atom, VK_WHOLE_SIZE); }

static VkResult invalidate_size_past_end(context *c) { return sync_range(c, false, c->atom, CASE_SIZE); }

static VkResult invalidate_end_overflows(context *c) { return sync_range(c, false, c->atom, UINT64_MAX - 1); }

static VkResult flush_freed(context *c) {
    VkMappedMemoryRange range = range_of(freed_memory(c), 0, VK_WHOLE_SIZE);
    return vkFlushMappedMemoryRanges(c->device, 1, &range);
}

/* All or nothing: one bad range fails the call before any range goes down. */
static VkResult flush_batch_with_one_bad_range(context *c) {
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    map_or_fail(c, memory);
    VkMappedMemoryRange ranges[2] = {range_of(memory, 0, VK_WHOLE_SIZE), range_of(memory, 0, 2 * CASE_SIZE)};
    VkResult result = vkFlushMappedMemoryRanges(c->device, 2, ranges);
    vkUnmapMemory(c->device, memory);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

/* ---- bind ------------------------------------------------------------------------------------ */

static VkResult bind_misaligned(context *c) {
    bound_buffer probe = buffer_or_fail(c, 4096);
    VkDeviceSize alignment = probe.requirements.alignment;
    vkDestroyBuffer(c->device, probe.buffer, NULL);
    if (alignment < 2) return VK_ERROR_FEATURE_NOT_PRESENT; /* nothing can be misaligned */
    bound_buffer b = buffer_or_fail(c, 4096);
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, c->host_type);
    VkResult result = vkBindBufferMemory(c->device, b.buffer, memory, alignment / 2);
    EXPECT(vkBindBufferMemory(c->device, b.buffer, memory, 0) == VK_SUCCESS,
           "an aligned bind after the refused one failed");
    vkDestroyBuffer(c->device, b.buffer, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult bind_offset_past_end(context *c) { return bind_buffer_at(c, 256, CASE_SIZE, CASE_SIZE + 65536); }

static VkResult bind_buffer_too_big(context *c) { return bind_buffer_at(c, 4 * CASE_SIZE, CASE_SIZE, 0); }

/* The driver may give a new buffer a destroyed one's handle. The layer keeps
 * the requirements a thread asked for by handle; the new buffer, larger and
 * never queried, must still be checked against its own size. */
static VkResult bind_buffer_on_a_queried_buffers_old_handle(context *c) {
    bound_buffer small = {0};
    VkBuffer large = VK_NULL_HANDLE;
    for (int attempt = 0; attempt < 64 && large == VK_NULL_HANDLE; attempt++) {
        small = buffer_or_fail(c, 256); /* queried */
        vkDestroyBuffer(c->device, small.buffer, NULL);
        VkBuffer candidate;
        EXPECT(robust_create_buffer(c->device, 4 * CASE_SIZE, &candidate) == VK_SUCCESS, "setup vkCreateBuffer");
        if (candidate == small.buffer) large = candidate;
        else vkDestroyBuffer(c->device, candidate, NULL);
    }
    if (large == VK_NULL_HANDLE) return VK_ERROR_FEATURE_NOT_PRESENT; /* handles are never reused here */
    VkDeviceMemory memory = allocate_or_fail(c, small.requirements.size, c->host_type);
    VkResult result = vkBindBufferMemory(c->device, large, memory, 0);
    vkDestroyBuffer(c->device, large, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult bind_freed(context *c) {
    bound_buffer b = buffer_or_fail(c, 4096);
    VkResult result = vkBindBufferMemory(c->device, b.buffer, freed_memory(c), 0);
    vkDestroyBuffer(c->device, b.buffer, NULL);
    return result;
}

static VkResult bind2_one_misaligned(context *c) {
    bound_buffer good = buffer_or_fail(c, 4096), bad = buffer_or_fail(c, 4096);
    if (bad.requirements.alignment < 2) return VK_ERROR_FEATURE_NOT_PRESENT;
    VkDeviceMemory memory = allocate_or_fail(c, 4 * CASE_SIZE, c->host_type);
    VkBindBufferMemoryInfo binds[2] = {
        {.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO,
         .buffer = good.buffer,
         .memory = memory,
         .memoryOffset = 0},
        {.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO,
         .buffer = bad.buffer,
         .memory = memory,
         .memoryOffset = CASE_SIZE + bad.requirements.alignment / 2},
    };
    VkResult result = vkBindBufferMemory2(c->device, 2, binds);
    EXPECT(vkBindBufferMemory(c->device, good.buffer, memory, 0) == VK_SUCCESS,
           "the valid buffer of the refused batch cannot be bound afterwards");
    vkDestroyBuffer(c->device, good.buffer, NULL);
    vkDestroyBuffer(c->device, bad.buffer, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

static VkResult bind_image_misaligned(context *c) {
    VkImageCreateInfo info =
        robust_image_info(64, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT);
    VkImage image;
    EXPECT(vkCreateImage(c->device, &info, NULL, &image) == VK_SUCCESS, "setup vkCreateImage");
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(c->device, image, &requirements);
    if (requirements.alignment < 2) {
        vkDestroyImage(c->device, image, NULL);
        return VK_ERROR_FEATURE_NOT_PRESENT;
    }
    VkDeviceMemory memory = allocate_or_fail(c, requirements.size + requirements.alignment, c->host_type);
    VkResult result = vkBindImageMemory(c->device, image, memory, requirements.alignment / 2);
    vkDestroyImage(c->device, image, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

/* The usual sequence (create, query, allocate, bind at 0) with the wrong
 * VkDevice in the bind: the memory and the buffer belong to the context's
 * device, the call names a second one. The layer's quickest bind, which finds
 * no device by handle, must still see that the memory is not the named device's. */
static VkResult bind_through_another_device(context *c) {
    robust_device other;
    EXPECT(robust_device_create(&c->vk, &other), "a second device could not be made");
    if (other.handle == VK_NULL_HANDLE) return VK_ERROR_INITIALIZATION_FAILED;
    bound_buffer b = buffer_or_fail(c, 4096);
    VkDeviceMemory memory = allocate_or_fail(c, b.requirements.size, c->host_type);
    VkResult result = vkBindBufferMemory(other.handle, b.buffer, memory, 0);
    uint64_t before = robust_layer_message_count();
    EXPECT(vkBindBufferMemory(c->device, b.buffer, memory, 0) == VK_SUCCESS,
           "the bind through the owning device failed after the refused one");
    EXPECT(robust_layer_message_count() == before, "the owner's own bind was reported as misuse");
    vkDestroyBuffer(c->device, b.buffer, NULL);
    vkFreeMemory(c->device, memory, NULL);
    robust_device_destroy(&other);
    return result;
}

/* Lazily allocated memory is never sub-allocated, so the layer has no say: it
 * must hand the driver's verdict back unchanged (the strict layer refuses). */
static VkResult bind_buffer_to_disallowed_type(context *c) {
    uint32_t lazy = robust_find_memory_type(&c->vk, VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, 0);
    if (lazy == UINT32_MAX) return VK_ERROR_FEATURE_NOT_PRESENT;
    bound_buffer b = buffer_or_fail(c, 4096);
    EXPECT(!(b.requirements.memoryTypeBits & (1u << lazy)), "setup: buffers may use the lazily allocated type");
    VkDeviceMemory memory = allocate_or_fail(c, CASE_SIZE, lazy);
    uint64_t before = c->dev.strict.violation_count(c->device, STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE);
    VkResult result = vkBindBufferMemory(c->device, b.buffer, memory, 0);
    EXPECT(c->dev.strict.violation_count(c->device, STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE) == before + 1,
           "the bind did not reach the driver unchanged");
    vkDestroyBuffer(c->device, b.buffer, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return result;
}

/* ---- other entry points naming memory ------------------------------------------------------ */

static VkResult name_freed(context *c) {
    PFN_vkSetDebugUtilsObjectNameEXT set_name =
        (PFN_vkSetDebugUtilsObjectNameEXT)vkGetInstanceProcAddr(c->vk.instance, "vkSetDebugUtilsObjectNameEXT");
    if (set_name == NULL) return VK_ERROR_EXTENSION_NOT_PRESENT;
    VkDebugUtilsObjectNameInfoEXT info = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
        .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
        .objectHandle = (uint64_t)freed_memory(c),
        .pObjectName = "freed",
    };
    return set_name(c->device, &info);
}

static VkResult commitment_of_freed(context *c) {
    VkDeviceSize committed = 12345;
    vkGetDeviceMemoryCommitment(c->device, freed_memory(c), &committed);
    EXPECT(committed == 0, "the commitment of freed memory is %llu, not 0", (unsigned long long)committed);
    return VK_SUCCESS;
}

/* ---- device lifetime ------------------------------------------------------------------------- */

/* Leaks on a second device; the strict layer (STRICT_DEVICE_CHECK_LEAKS=1) aborts
 * if a block is left behind, LeakSanitizer sees the layer's own records. */
static VkResult destroy_device_with_live_allocations(context *c) {
    robust_device other;
    EXPECT(robust_device_create(&c->vk, &other), "a second device could not be made");
    if (other.handle == VK_NULL_HANDLE) return VK_ERROR_INITIALIZATION_FAILED;
    for (uint32_t i = 0; i < 16; i++) {
        VkDeviceMemory memory;
        EXPECT(robust_allocate(other.handle, CASE_SIZE << (i % 4), c->host_type, &memory) == VK_SUCCESS, "setup %u", i);
        void *data;
        if (i % 2 == 0)
            EXPECT(vkMapMemory(other.handle, memory, 0, VK_WHOLE_SIZE, 0, &data) == VK_SUCCESS, "map %u", i);
    }
    VkBufferCreateInfo buffer_info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = CASE_SIZE,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
    };
    VkBuffer buffer;
    EXPECT(vkCreateBuffer(other.handle, &buffer_info, NULL, &buffer) == VK_SUCCESS, "setup buffer");
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(other.handle, buffer, &requirements);
    VkMemoryDedicatedAllocateInfo dedicated = {.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
                                               .buffer = buffer};
    VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                 .pNext = &dedicated,
                                 .allocationSize = requirements.size,
                                 .memoryTypeIndex = c->host_type};
    VkDeviceMemory passthrough;
    EXPECT(vkAllocateMemory(other.handle, &info, NULL, &passthrough) == VK_SUCCESS, "setup dedicated allocation");
    vkDestroyBuffer(other.handle, buffer, NULL);
    if (robust_has_strict(&other))
        EXPECT(robust_strict_counters(&other).live_allocations >= 2, "setup: the driver holds %llu allocations",
               (unsigned long long)robust_strict_counters(&other).live_allocations);
    robust_device_destroy(&other);
    return VK_SUCCESS;
}

/* ---- the table ---------------------------------------------------------------------------- */

#define REFUSED_MAP VK_ERROR_MEMORY_MAP_FAILED
#define REFUSED_BIND VK_ERROR_UNKNOWN

/* ROW(rule, commit, expected VkResult, message rule[, .needs_strict = ..., ...]) */
#define ROW(rule_, commit_, expected_, message_, ...) \
    { .rule = (rule_), .commit = (commit_), .expected = (expected_), .message = (message_), __VA_ARGS__ }

static const misuse table[] = {
    /* allocation */
    ROW("allocating 0 bytes is refused", allocate_zero_bytes, VK_ERROR_OUT_OF_DEVICE_MEMORY, MESSAGE_REQUIRED),
    ROW("a memoryTypeIndex equal to memoryTypeCount is refused", allocate_type_past_count,
        VK_ERROR_OUT_OF_DEVICE_MEMORY, MESSAGE_REQUIRED),
    ROW("memoryTypeIndex UINT32_MAX is refused", allocate_type_uint32_max, VK_ERROR_OUT_OF_DEVICE_MEMORY,
        MESSAGE_REQUIRED),
    ROW("a NULL pAllocateInfo is refused", allocate_null_info, VK_ERROR_OUT_OF_DEVICE_MEMORY, MESSAGE_REQUIRED),
    /* lavapipe itself grants more than its heap and hands absurd sizes to malloc (which
     * AddressSanitizer aborts on); the strict device refuses both, as hardware does */
    ROW("a size above the heap is refused by the driver and nothing breaks", allocate_above_heap,
        VK_ERROR_OUT_OF_DEVICE_MEMORY, MESSAGE_NONE, .needs_strict = true),
    ROW("a size near UINT64_MAX is refused without overflow", allocate_uint64_max, VK_ERROR_OUT_OF_DEVICE_MEMORY,
        MESSAGE_NONE, .needs_strict = true),
    ROW("an unknown pNext structure passes through to a working driver handle", allocate_unknown_pnext, VK_SUCCESS,
        MESSAGE_NONE),
    /* free */
    ROW("freeing VK_NULL_HANDLE does nothing and says nothing", free_null, VK_SUCCESS, MESSAGE_NONE),
    ROW("a double free of a sub-allocation is refused, even after its record is reused", double_free_suballocation,
        VK_SUCCESS, MESSAGE_REQUIRED),
    ROW("a double free of a pass-through allocation never reaches the driver", double_free_passthrough, VK_SUCCESS,
        MESSAGE_REQUIRED),
    ROW("freeing a handle nobody made is refused", free_foreign_handle, VK_SUCCESS, MESSAGE_REQUIRED),
    ROW("freeing a forged handle inside the layer's record range is refused", free_forged_handle_in_record_range,
        VK_SUCCESS, MESSAGE_REQUIRED),
    ROW("freeing handles that point inside live records is refused", free_handles_inside_live_records, VK_SUCCESS,
        MESSAGE_REQUIRED),
    ROW("freeing another device's sub-allocation is refused and leaves it intact", free_other_devices_memory,
        VK_SUCCESS, MESSAGE_REQUIRED),
    /* map and unmap */
    ROW("mapping memory that is already mapped is refused", map_twice, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("mapping memory that is not host-visible is refused", map_not_host_visible, REFUSED_MAP, MESSAGE_REQUIRED,
        .needs_strict = true),
    ROW("mapping at an offset equal to the size is refused", map_offset_at_end, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("mapping past the end is refused", map_size_past_end, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("mapping 0 bytes is refused", map_zero_bytes, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("mapping a range whose end overflows is refused", map_end_overflows, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("mapping without a ppData pointer is refused", map_without_pointer, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("mapping freed memory is refused", map_freed, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("unmapping memory that is not mapped does nothing but warn", unmap_unmapped, VK_SUCCESS, MESSAGE_REQUIRED),
    ROW("unmapping freed memory does nothing but warn", unmap_freed, VK_SUCCESS, MESSAGE_REQUIRED),
    /* flush and invalidate */
    ROW("flushing memory that is not mapped is refused", flush_unmapped, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("invalidating memory that is not mapped is refused", invalidate_unmapped, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("flushing past the end is refused", flush_size_past_end, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("flushing from an offset past the end is refused", flush_offset_past_end, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("invalidating past the end is refused", invalidate_size_past_end, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("invalidating a range whose end overflows is refused", invalidate_end_overflows, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("flushing freed memory is refused", flush_freed, REFUSED_MAP, MESSAGE_REQUIRED),
    ROW("a flush batch with one bad range fails as a whole", flush_batch_with_one_bad_range, REFUSED_MAP,
        MESSAGE_REQUIRED),
    /* bind */
    ROW("binding a buffer at a misaligned offset is refused", bind_misaligned, REFUSED_BIND, MESSAGE_REQUIRED),
    ROW("binding at an offset past the end is refused", bind_offset_past_end, REFUSED_BIND, MESSAGE_REQUIRED),
    ROW("binding a buffer larger than the allocation is refused", bind_buffer_too_big, REFUSED_BIND, MESSAGE_REQUIRED),
    ROW("binding to freed memory is refused", bind_freed, REFUSED_BIND, MESSAGE_REQUIRED),
    ROW("a buffer on a destroyed, queried buffer's handle is checked against its own size",
        bind_buffer_on_a_queried_buffers_old_handle, REFUSED_BIND, MESSAGE_REQUIRED),
    ROW("vkBindBufferMemory2 with one misaligned entry binds nothing", bind2_one_misaligned, REFUSED_BIND,
        MESSAGE_REQUIRED),
    ROW("binding an image at a misaligned offset is refused", bind_image_misaligned, REFUSED_BIND, MESSAGE_REQUIRED),
    ROW("binding memory and a buffer of one device through another device is refused", bind_through_another_device,
        REFUSED_BIND, MESSAGE_REQUIRED),
    ROW("a bind to a memory type the buffer does not allow reaches the driver unchanged",
        bind_buffer_to_disallowed_type, VK_ERROR_OUT_OF_DEVICE_MEMORY, MESSAGE_NONE, .needs_strict = true,
        .strict_counts_violations = true),
    /* other entry points */
    ROW("naming freed memory is refused", name_freed, VK_ERROR_UNKNOWN, MESSAGE_REQUIRED),
    ROW("the commitment of freed memory is 0", commitment_of_freed, VK_SUCCESS, MESSAGE_REQUIRED),
    /* device lifetime */
    ROW("destroying a device with live allocations reports them and returns every block",
        destroy_device_with_live_allocations, VK_SUCCESS, MESSAGE_REQUIRED),
};

#define CASE_COUNT (sizeof table / sizeof table[0])

/* ---- one row, in a child process ---------------------------------------------------------- */

static bool set_up(context *c) {
    if (!robust_instance_create(&c->vk) || !robust_device_create(&c->vk, &c->dev)) return false;
    c->device = c->dev.handle;
    VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    c->host_type = robust_find_memory_type(&c->vk, host, VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT);
    c->device_type = robust_find_memory_type(
        &c->vk, 0, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT);
    c->atom = c->vk.properties.limits.nonCoherentAtomSize;
    if (c->host_type == UINT32_MAX) {
        fprintf(stderr, "no host-visible coherent memory type\n");
        return false;
    }
    c->sentinel = allocate_or_fail(c, SENTINEL_SIZE, c->host_type);
    c->sentinel_bytes = map_or_fail(c, c->sentinel);
    if (c->sentinel_bytes == NULL) return false;
    robust_fill(c->sentinel_bytes, SENTINEL_SIZE, SENTINEL_SEED);
    return robust_failures() == 0;
}

/* The layer kept every other allocation and still serves new ones. */
static void check_unharmed(context *c) {
    size_t wrong = robust_count_wrong(c->sentinel_bytes, SENTINEL_SIZE, SENTINEL_SEED);
    EXPECT(wrong == 0, "the sentinel allocation lost %zu of its %u bytes", wrong, SENTINEL_SIZE);
    uint64_t before = robust_layer_message_count();
    VkDeviceMemory probe = allocate_or_fail(c, CASE_SIZE, c->host_type);
    EXPECT(probe != VK_NULL_HANDLE && holds_a_pattern(c, probe, CASE_SIZE, 0x9806E),
           "a fresh allocation does not work");
    vkFreeMemory(c->device, probe, NULL);
    vkUnmapMemory(c->device, c->sentinel);
    vkFreeMemory(c->device, c->sentinel, NULL);
    EXPECT(robust_layer_message_count() == before, "valid calls after the misuse were reported");
}

static void check_message(const misuse *row, uint64_t before) {
    uint64_t seen = robust_layer_message_count() - before;
    char last[1024];
    robust_last_layer_message(last, sizeof last);
    if (row->message == MESSAGE_REQUIRED) EXPECT(seen > 0, "the layer sent no message to the app's messenger");
    else EXPECT(seen == 0, "the layer sent %llu unexpected messages, the last: %s", (unsigned long long)seen, last);
    if (seen > 0) printf("    layer said: %s\n", last);
}

/* Commits the row's misuse on a set-up context and checks what followed. */
static int check_row(const misuse *row, context *c) {
    if (row->needs_strict && !robust_has_strict(&c->dev)) return ROBUST_EXIT_SKIPPED;
    uint64_t before = robust_layer_message_count();
    VkResult result = row->commit(c);
    /* Rows answer VK_ERROR_FEATURE_NOT_PRESENT when the device cannot express their misuse. */
    if (result == VK_ERROR_FEATURE_NOT_PRESENT) return ROBUST_EXIT_SKIPPED;
    EXPECT(result == row->expected, "the call returned %s, not %s", robust_result_name(result),
           robust_result_name(row->expected));
    check_message(row, before);
    check_unharmed(c);
    if (robust_has_strict(&c->dev) && !row->strict_counts_violations)
        EXPECT(robust_strict_counters(&c->dev).violations == 0, "the strict layer saw a violation");
    return robust_failures() == 0 ? 0 : 1;
}

static int run_row(const void *arg) {
    const misuse *row = arg;
    /* The strict chain aborts on any violation; a row that commits one on purpose counts it. */
    if (row->strict_counts_violations) setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    context c = {0};
    int status = set_up(&c) ? check_row(row, &c) : 1;
    robust_device_destroy(&c.dev);
    robust_instance_destroy(&c.vk);
    return status;
}

/* ---- the parent: one child per row -------------------------------------------------------- */

int main(int argc, char **argv) {
    unsigned passed = 0, failed = 0, skipped = 0, known = 0;
    for (size_t i = 0; i < CASE_COUNT; i++) {
        const misuse *row = &table[i];
        if (!robust_case_selected(row->rule, argc, argv)) continue;
        printf("case: %s\n", row->rule);
        robust_outcome result = robust_run_in_child(run_row, row);
        if (row->known_layer_bug != NULL && result == ROBUST_FAILED) {
            printf("  KNOWN LAYER BUG, still failing: %s\n", row->known_layer_bug);
            known++;
        } else if (row->known_layer_bug != NULL && result == ROBUST_PASSED) {
            printf("  FAIL: passes now; remove its known_layer_bug mark\n");
            failed++;
        } else if (result == ROBUST_PASSED) {
            printf("  ok\n");
            passed++;
        } else if (result == ROBUST_SKIPPED) {
            printf("  skipped: this chain cannot express it\n");
            skipped++;
        } else {
            printf("  FAIL\n");
            failed++;
        }
    }
    printf("bad input: %u passed, %u failed, %u skipped, %u known layer bugs\n", passed, failed, skipped, known);
    return failed == 0 && passed > 0 ? 0 : 1;
}
