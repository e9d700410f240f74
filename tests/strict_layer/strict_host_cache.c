/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_host_cache.c: the host's cache over a mapping of the non-coherent
 * memory type, emulated on the driver's coherent memory.
 *
 * The caller of vkMapMemory gets a shadow of the mapped range (its "cache
 * lines"), and the layer keeps a snapshot beside it: what the shadow and
 * device memory last agreed on. Comparing the two tells, per
 * nonCoherentAtomSize set of bytes ("atom"), what the host wrote and what the
 * device wrote since, which is exactly what the spec's flush and invalidate
 * rules are stated in:
 *
 * - vkFlushMappedMemoryRanges writes back the atoms of the range the host
 *   wrote, and only those: "sets of nonCoherentAtomSize bytes where no bytes
 *   have been written by the host ... must not be flushed". Writing the whole
 *   range would overwrite device writes the host never touched.
 * - vkInvalidateMappedMemoryRanges reloads every atom of the range from the
 *   device. Unflushed host writes there are lost: the spec makes them
 *   undefined, and a real cache invalidate (ARM's DC IVAC) discards dirty
 *   lines. This is what catches a layer that stretches one sub-allocation's
 *   invalidate over a neighbour's unflushed writes.
 * - Unflushed host writes never reach the device on their own, not even at
 *   unmap ("may not ever be visible to the device"): the harshest legal
 *   choice, so that a flush lost or misplaced by a layer shows.
 * - Device writes reach atoms the host has not written once the host has
 *   waited for the device (a fence, a semaphore, an event, an idle queue or
 *   device): see strict_host_cache_after_wait. This is the one choice the spec
 *   leaves open that decides what real programs see: a host read without an
 *   invalidate may return stale data only if the CPU still holds that line.
 *   On the hardware that exposes non-coherent cached memory (ARM SoCs, Intel
 *   GPUs without a shared last-level cache) a CPU waiting on a fence rarely
 *   does, and programs that read back without invalidating (zink's texture
 *   readback through a staging buffer does) work there. So the layer models a
 *   host that keeps dirty lines until flushed but no clean line across a wait.
 *   STRICT_DEVICE_STALE_READS=1 keeps clean lines too, until an invalidate:
 *   also legal, and the way to prove that a layer forwards every invalidate.
 *
 * All with the device lock held. The caller's own writes to the shadow are
 * not synchronised with the layer: a host thread writing an atom while another
 * thread's wait returns for work that wrote the same atom races with the
 * device anyway.
 */
#include <stdlib.h>
#include <string.h>

#include "strict_layer_internal.h"

#define MAP_ALIGNMENT ((VkDeviceSize)STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT)

/* One atom of a mapping, clipped to the mapped range: [begin, end) in memory offsets. */
typedef struct atom_span {
    VkDeviceSize begin;
    VkDeviceSize end;
} atom_span;

static uint8_t *shadow_at(const strict_memory *memory, VkDeviceSize offset) {
    return (uint8_t *)memory->app_pointer + (offset - memory->map_offset);
}

static uint8_t *snapshot_at(const strict_memory *memory, VkDeviceSize offset) {
    return memory->snapshot + (offset - memory->map_offset);
}

static uint8_t *device_at(const strict_memory *memory, VkDeviceSize offset) { return memory->driver_base + offset; }

/* Calls visit for every atom of [begin, end) inside the mapping. */
static void for_each_atom(strict_memory *memory, VkDeviceSize atom, VkDeviceSize begin, VkDeviceSize end,
                          void (*visit)(strict_memory *memory, atom_span span)) {
    VkDeviceSize map_end = memory->map_offset + memory->map_size;
    if (begin < memory->map_offset) begin = memory->map_offset;
    if (end > map_end) end = map_end;
    while (begin < end) {
        VkDeviceSize next = (begin / atom + 1) * atom;
        atom_span span = {begin, next < end ? next : end};
        visit(memory, span);
        begin = span.end;
    }
}

static bool host_wrote(const strict_memory *memory, atom_span span) {
    return memcmp(shadow_at(memory, span.begin), snapshot_at(memory, span.begin), span.end - span.begin) != 0;
}

static bool device_wrote(const strict_memory *memory, atom_span span) {
    return memcmp(device_at(memory, span.begin), snapshot_at(memory, span.begin), span.end - span.begin) != 0;
}

/* From the device into the cache: the host now sees what the device holds. */
static void load(strict_memory *memory, atom_span span) {
    size_t length = (size_t)(span.end - span.begin);
    memcpy(shadow_at(memory, span.begin), device_at(memory, span.begin), length);
    memcpy(snapshot_at(memory, span.begin), device_at(memory, span.begin), length);
}

static void write_back_if_written(strict_memory *memory, atom_span span) {
    if (!host_wrote(memory, span)) return;
    size_t length = (size_t)(span.end - span.begin);
    memcpy(device_at(memory, span.begin), shadow_at(memory, span.begin), length);
    memcpy(snapshot_at(memory, span.begin), shadow_at(memory, span.begin), length);
}

static void evict_if_clean(strict_memory *memory, atom_span span) {
    if (device_wrote(memory, span) && !host_wrote(memory, span)) load(memory, span);
}

bool strict_host_cache_open(strict_memory *memory, uint8_t *driver_base, VkDeviceSize offset, VkDeviceSize size) {
    /* The shadow starts as many bytes into an aligned block as offset is past
     * an alignment boundary, so (pointer - offset) is aligned as the spec says. */
    VkDeviceSize lead = offset % MAP_ALIGNMENT;
    VkDeviceSize block_size = (lead + size + MAP_ALIGNMENT - 1) / MAP_ALIGNMENT * MAP_ALIGNMENT;
    if (block_size > SIZE_MAX) return false;
    void *block = aligned_alloc(MAP_ALIGNMENT, (size_t)block_size);
    uint8_t *snapshot = malloc(size ? (size_t)size : 1);
    if (!block || !snapshot) {
        free(block);
        free(snapshot);
        return false;
    }
    memory->driver_base = driver_base;
    memory->shadow_block = block;
    memory->snapshot = snapshot;
    memory->app_pointer = (uint8_t *)block + lead;
    memory->map_offset = offset;
    memory->map_size = size;
    /* Nothing is cached yet: the host first sees what the device holds. */
    atom_span whole = {offset, offset + size};
    load(memory, whole);
    return true;
}

void strict_host_cache_close(strict_memory *memory) {
    free(memory->shadow_block);
    free(memory->snapshot);
    memory->shadow_block = NULL;
    memory->snapshot = NULL;
    memory->driver_base = NULL;
}

void strict_host_cache_flush(strict_device *device, strict_memory *memory, VkDeviceSize begin, VkDeviceSize end) {
    for_each_atom(memory, device->atom_size, begin, end, write_back_if_written);
}

void strict_host_cache_invalidate(strict_device *device, strict_memory *memory, VkDeviceSize begin, VkDeviceSize end) {
    for_each_atom(memory, device->atom_size, begin, end, load);
}

/* The device writes only through resources, so only bound bytes are looked
 * at: a sub-allocating layer above maps blocks of many MiB that are mostly
 * free, and comparing all of them at every wait made programs that wait often
 * ten times slower. A memory with a bind this layer has no record of (an image
 * plane, a resource made before the layer) is looked at whole. */
static void evict_clean_lines(void *value, void *context) {
    strict_memory *memory = value;
    const strict_device *device = context;
    if (!memory->mapped || !memory->shadow_block) return;
    if (memory->untracked_binds) {
        for_each_atom(memory, device->atom_size, memory->map_offset, memory->map_offset + memory->map_size,
                      evict_if_clean);
        return;
    }
    for (uint32_t i = 0; i < memory->bound_count; i++) {
        const strict_resource *resource = memory->bound[i];
        for_each_atom(memory, device->atom_size, resource->offset, resource->offset + resource->requirements.size,
                      evict_if_clean);
    }
}

void strict_host_cache_after_wait(strict_device *device) {
    if (device->stale_reads) return;
    pthread_mutex_lock(&device->lock);
    strict_handle_map_for_each(&device->memories, evict_clean_lines, device);
    pthread_mutex_unlock(&device->lock);
}

void strict_host_cache_resource_gone(strict_device *device, strict_memory *memory, VkDeviceSize begin,
                                     VkDeviceSize end) {
    if (device->stale_reads || !memory->mapped || !memory->shadow_block) return;
    for_each_atom(memory, device->atom_size, begin, end, evict_if_clean);
}
