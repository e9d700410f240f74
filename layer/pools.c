/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pools.c: blocks of driver memory and the slices carved from them.
 *
 * A pool holds the blocks of one pool key (layer.h). Driver memory should stay
 * close to what the app uses, so a pool grows in proportion to itself: its first
 * block is 1 MiB, the next ones as large as the pool so far up to 4 MiB
 * (1, 1, 2, 4, 4, ...), and from 32 MiB on an eighth of what the pool holds, up
 * to the preferred size, which follows the heap (an eighth of a heap up to
 * 1 GiB, else 256 MiB). The part of the last block the app does not use yet is
 * then at most 4 MiB or an eighth of the pool, and 30,000 allocations still
 * need only a few dozen blocks. A block_size the user sets is every block's.
 *
 * Never worse than no layer, near a full heap too, because:
 *   - allocations of an eighth of the preferred block size or more go to the
 *     driver as they are (memory_allocate.c), so a big slice never strands the
 *     tail of a block;
 *   - when the heap's budget (VK_EXT_memory_budget, where the driver has it)
 *     has less room than two preferred blocks, new blocks are just big enough
 *     for the request, so no block tail holds memory the app could use;
 *   - when the driver refuses a block, the pool halves it down to the smallest
 *     that holds the request; then every empty block of the same heap goes back
 *     to the driver and the smallest is tried once more;
 *   - only then does the caller ask the driver for the exact size, which is what
 *     the app would have asked without the layer.
 *
 * Every slice starts on the pool's unit, which covers bufferImageGranularity and
 * nonCoherentAtomSize, and ends on it too, so neighbouring app allocations never
 * share a granularity page or a non-coherent atom.
 *
 * A key has up to one pool per core, its shards, for threads that allocate at
 * once (see "shards" below); a shard takes room another shard has before it
 * grows, so threads do not each keep a partly used block.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define MIB (1024ull * 1024ull)
#define GIB (1024ull * MIB)
#define SMALL_HEAP_SIZE (1 * GIB) /* heaps up to this get heap/8 blocks */
#define LARGE_HEAP_BLOCK_SIZE (256 * MIB)
#define MIN_BLOCK_SIZE (1 * MIB)
#define GROWTH_FRACTION 8           /* a new block = the pool's bytes / 8, */
#define EARLY_GROWTH_MIN (4 * MIB)  /* or, while that is small, up to the pool's bytes and */
#define EARLY_GROWTH_MAX (16 * MIB) /* the device's block bytes / 16, within these */
#define EARLY_GROWTH_DEVICE_FRACTION 16
#define DEDICATED_FRACTION 8   /* dedicated threshold = preferred / 8 */
#define STRIDE_FIT_FRACTION 16 /* a block holds whole slices of a request of 1/16 of it or more */
#define TIGHT_HEAP_BLOCKS 2    /* a heap with less room than 2 preferred blocks is tight */
#define KEPT_BLOCK_FRACTION 16 /* keep_one keeps a spare of at most the pool's bytes / 16 */
#define MIN_UNIT 64ull

/* ---- driver allocations, counted against the real limit ------------------------ */

VkResult driver_allocate(suballoc_device *device, const VkMemoryAllocateInfo *info, VkDeviceMemory *memory) {
    device_counters *c = &device->counters;
    uint64_t live = atomic_fetch_add(&c->driver_live, 1) + 1;
    if (live > device->driver_allocation_limit) {
        atomic_fetch_sub(&c->driver_live, 1);
        return VK_ERROR_TOO_MANY_OBJECTS;
    }
    VkResult result = device->next.AllocateMemory(device->handle, info, NULL, memory);
    if (result != VK_SUCCESS) {
        atomic_fetch_sub(&c->driver_live, 1);
        return result;
    }
    atomic_fetch_add(&c->driver_allocations, 1);
    stats_raise_peak(&c->driver_live_peak, live);
    uint64_t bytes = info->allocationSize;
    stats_raise_peak(&c->driver_bytes_peak, atomic_fetch_add(&c->driver_bytes, bytes) + bytes);
    return VK_SUCCESS;
}

void driver_free(suballoc_device *device, VkDeviceMemory memory, uint64_t size) {
    device->next.FreeMemory(device->handle, memory, NULL);
    atomic_fetch_sub(&device->counters.driver_live, 1);
    atomic_fetch_sub(&device->counters.driver_bytes, size);
}

/* ---- per-type policy ------------------------------------------------------------ */

static uint64_t preferred_block_size(const suballoc_device *device, uint32_t heap) {
    uint64_t heap_size = device->memory.memoryHeaps[heap].size;
    uint64_t size = device->settings->block_size;
    if (size == 0) size = heap_size <= SMALL_HEAP_SIZE ? heap_size / 8 : LARGE_HEAP_BLOCK_SIZE;
    if (heap_size >= MIN_BLOCK_SIZE) size = min_u64(size, heap_size);
    return max_u64(size, MIN_BLOCK_SIZE);
}

void device_init_memory_types(suballoc_device *device) {
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++) {
        memory_type_info *type = &device->types[t];
        const VkMemoryType *vk = &device->memory.memoryTypes[t];
        type->flags = vk->propertyFlags;
        type->heap = vk->heapIndex;
        type->suballocatable =
            !(vk->propertyFlags & (VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT));
        type->preferred_block_size = preferred_block_size(device, vk->heapIndex);
        type->dedicated_threshold = device->settings->dedicated_threshold != 0
                                        ? device->settings->dedicated_threshold
                                        : type->preferred_block_size / DEDICATED_FRACTION;
        uint64_t base = max_u64(MIN_UNIT, pow2_at_least(device->settings->min_alignment));
        if (vk->propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
            base = max_u64(base, pow2_at_least(device->min_memory_map_alignment));
        type->base_alignment = base;
        atomic_init(&type->max_alignment, base);
        atomic_init(&type->pools, NULL);
    }
}

/* The granule every slice starts and ends on. */
static uint64_t pool_unit(const suballoc_device *device, uint32_t memory_type) {
    uint64_t unit = max_u64(MIN_UNIT, pow2_at_least(device->buffer_image_granularity));
    if (device->types[memory_type].flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
        unit = max_u64(unit, pow2_at_least(device->non_coherent_atom_size));
    return unit;
}

/* ---- pools ----------------------------------------------------------------------- */

static bool same_key(const pool_key *a, const pool_key *b) {
    return a->memory_type == b->memory_type && a->flags == b->flags && a->device_mask == b->device_mask &&
           a->priority == b->priority && a->shard == b->shard;
}

_Static_assert(offsetof(suballoc_pool, lock) == CACHE_LINE_BYTES,
               "what pool lookups read fills the first cache line alone");

static suballoc_pool *find_pool(memory_type_info *type, const pool_key *key, _Atomic(suballoc_pool *) **tail) {
    _Atomic(suballoc_pool *) *link = &type->pools;
    for (suballoc_pool *p = atomic_load_explicit(link, memory_order_acquire); p != NULL;
         p = atomic_load_explicit(link, memory_order_acquire)) {
        if (same_key(&p->key, key)) return p;
        link = &p->next_in_type;
    }
    if (tail != NULL) *tail = link;
    return NULL;
}

static suballoc_pool *pool_new(suballoc_device *device, const pool_key *key) {
    /* On lines of its own: shards of one key are used by different cores. */
    suballoc_pool *pool = cache_lines_calloc(sizeof(suballoc_pool));
    if (pool == NULL) return NULL;
    pool->key = *key;
    pool->device = device;
    pool_lock_init(&pool->lock);
    pool->unit = pool_unit(device, key->memory_type);
    /* Guard bytes only where the host can write past a mapping, and check them. */
    if (device->settings->debug_margin != 0 &&
        (device->types[key->memory_type].flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
        pool->margin = align_up(device->settings->debug_margin, pool->unit);
    pool->block_size_cap = device->types[key->memory_type].preferred_block_size;
    atomic_init(&pool->next_in_type, NULL);
    return pool;
}

static suballoc_pool *pool_find_or_create(suballoc_device *device, const pool_key *key) {
    memory_type_info *type = &device->types[key->memory_type];
    suballoc_pool *pool = find_pool(type, key, NULL);
    if (pool != NULL) return pool;

    pthread_mutex_lock(&device->pools_lock);
    _Atomic(suballoc_pool *) *tail = NULL;
    pool = find_pool(type, key, &tail); /* another thread may have made it meanwhile */
    if (pool == NULL) {
        pool = pool_new(device, key);
        if (pool != NULL) atomic_store_explicit(tail, pool, memory_order_release);
    }
    pthread_mutex_unlock(&device->pools_lock);
    return pool;
}

/* ---- blocks ---------------------------------------------------------------------- */

static void block_link_front(suballoc_pool *pool, suballoc_block *block) {
    block->prev = NULL;
    block->next = pool->blocks;
    if (pool->blocks != NULL) pool->blocks->prev = block;
    pool->blocks = block;
}

static void block_unlink(suballoc_pool *pool, suballoc_block *block) {
    if (block->prev != NULL) block->prev->next = block->next;
    else pool->blocks = block->next;
    if (block->next != NULL) block->next->prev = block->prev;
}

/* Bytes the heap can still give, when the driver says (VK_EXT_memory_budget). */
static uint64_t heap_room(const suballoc_device *device, uint32_t heap) {
    if (!device->has_memory_budget) return UINT64_MAX;
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 properties = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                                    .pNext = &budget};
    device->instance->next.GetPhysicalDeviceMemoryProperties2(device->physical_device, &properties);
    uint64_t limit = budget.heapBudget[heap], used = budget.heapUsage[heap];
    return limit > used ? limit - used : 0;
}

static VkResult allocate_block_memory(suballoc_pool *pool, uint64_t size, VkDeviceMemory *memory) {
    VkMemoryPriorityAllocateInfoEXT priority = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT,
        .priority = pool->key.priority,
    };
    /* With bufferDeviceAddress enabled, every block can hold address buffers. */
    VkMemoryAllocateFlags device_address =
        pool->device->features.buffer_device_address ? VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT : 0;
    VkMemoryAllocateFlagsInfo flags = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
        .flags = pool->key.flags | device_address,
        .deviceMask = pool->key.device_mask,
    };
    const void *chain = NULL;
    if (pool->key.priority != 0.5f) {
        priority.pNext = chain;
        chain = &priority;
    }
    if (flags.flags != 0) {
        flags.pNext = chain;
        chain = &flags;
    }
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = chain,
        .allocationSize = size,
        .memoryTypeIndex = pool->key.memory_type,
    };
    return driver_allocate(pool->device, &info, memory);
}

/* The smallest block whose fresh allocator surely serves a slice of `reserved`
 * bytes: a fresh block's one free region starts at 0, aligned for anything. */
static uint64_t block_size_for(const suballoc_pool *pool, uint64_t reserved) {
    uint64_t span = offset_allocator_span_for(reserved, pool->unit);
    return align_up(span != 0 ? span : reserved, MIN_BLOCK_SIZE);
}

/* How large a young pool's blocks may grow before they are an eighth of it: a
 * busy device (many pools, each young) takes bigger steps, so its driver
 * allocations stay few; a small app keeps small ones, so its tails stay small. */
static uint64_t early_growth_limit(const suballoc_device *device) {
    uint64_t device_bytes = atomic_load_explicit(&device->counters.block_bytes, memory_order_relaxed);
    return min_u64(EARLY_GROWTH_MAX, max_u64(EARLY_GROWTH_MIN, device_bytes / EARLY_GROWTH_DEVICE_FRACTION));
}

/* What a pool counts as its own bytes when it grows early. A shard other than
 * the first exists because threads collided on a busy key: it starts where the
 * early steps do (EARLY_GROWTH_MIN), not at 1 MiB, so that every shard does not
 * spend driver allocations on 1, 1 and 2 MiB blocks again (mixed_30k_8_threads
 * took up to 62 of its 64 before, 58 to 63 now, with the smaller steps below). */
static uint64_t early_growth_base(const suballoc_pool *pool) {
    return pool->key.shard == 0 ? pool->block_bytes : max_u64(pool->block_bytes, EARLY_GROWTH_MIN);
}

/* The size the pool's next block gets: an eighth of the pool so far (a power of
 * two, at least 1 MiB), at most the preferred size or what the heap allows.
 * Early steps stop at EARLY_GROWTH_MAX, 16 MiB: at 32, a pool that had just
 * grown held a nearly empty 32 MiB block at the app's peak, and with two shards
 * of two memory types that was 6% of mixed_30k_8_threads on the strict device
 * in one run of two (1.16-1.19x against 1.10x). */
static uint64_t growth_size(const suballoc_pool *pool, uint64_t smallest, uint64_t stride) {
    const memory_type_info *type = &pool->device->types[pool->key.memory_type];
    /* A block_size the user chose is the size of every block. */
    uint64_t size = pool->device->settings->block_size;
    if (size == 0) {
        size = max_u64(pool->block_bytes / GROWTH_FRACTION,
                       min_u64(early_growth_base(pool), early_growth_limit(pool->device)));
        size = max_u64(MIN_BLOCK_SIZE, align_up(size, MIN_BLOCK_SIZE));
    }
    size = min_u64(size, pool->block_size_cap);
    size = max_u64(size, smallest);
    /* Near a full heap, a block's unused tail is memory the app could have had
     * without the layer: blocks are then made just big enough. */
    uint64_t room = heap_room(pool->device, type->heap);
    if (room < TIGHT_HEAP_BLOCKS * type->preferred_block_size) size = smallest;
    /* A whole number of slices like the one asking: apps that fill a heap with
     * equal allocations leave no tail too small for the next one. */
    if (size > smallest && stride * STRIDE_FIT_FRACTION >= size) size = max_u64(smallest, size - size % stride);
    return size;
}

/* Gives every empty block of the heap back to the driver, in every pool of the
 * device; the calling pool is locked, the others are locked here in turn. */
static void release_empty_blocks_of_heap(suballoc_pool *caller, uint32_t heap);

static bool is_out_of_memory(VkResult result) {
    return result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY;
}

/* Driver memory for a new block: the growth size, halved while the driver
 * refuses, then once more at the smallest size after the heap's empty blocks
 * went back. Pool locked. */
static VkResult allocate_growth(suballoc_pool *pool, uint64_t smallest, uint64_t stride, uint64_t *size,
                                VkDeviceMemory *memory) {
    suballoc_device *device = pool->device;
    *size = growth_size(pool, smallest, stride);
    for (;;) {
        VkResult result = allocate_block_memory(pool, *size, memory);
        if (result == VK_SUCCESS || !is_out_of_memory(result)) return result;
        if (*size / 2 < smallest) break;
        *size /= 2;
        pool->block_size_cap = max_u64(MIN_BLOCK_SIZE, *size); /* the heap is tight: stay small until a block goes */
        LOG_DEBUG(device, "memory type %u: block refused by the driver, trying %llu bytes", pool->key.memory_type,
                  (unsigned long long)*size);
    }
    release_empty_blocks_of_heap(pool, device->types[pool->key.memory_type].heap);
    *size = smallest;
    return allocate_block_memory(pool, *size, memory);
}

/* A new block big enough for one slice of `reserved` bytes, linked at the front.
 * Called with the pool locked. */
static VkResult pool_grow(suballoc_pool *pool, uint64_t reserved, uint64_t alignment, suballoc_block **out) {
    suballoc_device *device = pool->device;
    uint64_t size;
    VkDeviceMemory memory;
    VkResult result = allocate_growth(pool, block_size_for(pool, reserved), align_up(reserved, max_u64(alignment, 1)),
                                      &size, &memory);
    if (result != VK_SUCCESS) return result;

    suballoc_block *block = cache_lines_calloc(sizeof *block);
    offset_allocator *allocator = block != NULL ? offset_allocator_create(size, pool->unit) : NULL;
    if (allocator == NULL) {
        free(block);
        driver_free(device, memory, size);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    block->memory = memory;
    block->size = size;
    block->allocator = allocator;
    atomic_init(&block->mapped_base, NULL);
    block->pool = pool;
    block_link_front(pool, block);
    pool->block_count++;
    pool->empty_blocks++;
    pool->block_bytes += size;

    device_counters *c = &device->counters;
    stats_raise_peak(&c->blocks_peak, atomic_fetch_add(&c->blocks_live, 1) + 1);
    stats_raise_peak(&c->block_bytes_peak, atomic_fetch_add(&c->block_bytes, size) + size);
    LOG_DEBUG(device,
              "memory type %u, shard %u: new block of %llu bytes (%u blocks, %llu bytes, %llu requested by the app)",
              pool->key.memory_type, pool->key.shard, (unsigned long long)size, pool->block_count,
              (unsigned long long)pool->block_bytes, (unsigned long long)pool->counters.requested_bytes);
    *out = block;
    return VK_SUCCESS;
}

/* Takes an empty block out of its pool; the caller destroys it outside the lock. */
static void block_remove_empty_locked(suballoc_pool *pool, suballoc_block *block) {
    block_unlink(pool, block);
    pool->block_count--;
    pool->empty_blocks--;
    pool->block_bytes -= block->size;
    pool->block_size_cap = pool->device->types[pool->key.memory_type].preferred_block_size;
}

static void block_destroy(suballoc_device *device, suballoc_block *block) {
    driver_free(device, block->memory, block->size); /* unmaps it too */
    offset_allocator_destroy(block->allocator);
    atomic_fetch_sub(&device->counters.blocks_live, 1);
    atomic_fetch_sub(&device->counters.block_bytes, block->size);
    free(block);
}

/* ---- slices ---------------------------------------------------------------------- */

/* Room in one of the pool's blocks: VK_SUCCESS, VK_INCOMPLETE when no block
 * has it, or VK_ERROR_OUT_OF_HOST_MEMORY. Pool locked. */
static VkResult carve_existing_locked(suballoc_pool *pool, uint64_t reserved, uint64_t alignment,
                                      suballoc_block **out_block, offset_allocation *out) {
    for (suballoc_block *b = pool->blocks; b != NULL; b = b->next) {
        offset_allocator_result r = offset_allocator_allocate(b->allocator, reserved, alignment, out);
        if (r == OFFSET_ALLOCATOR_OK) {
            if (b != pool->blocks) { /* keep the block that has room where the next search starts */
                block_unlink(pool, b);
                block_link_front(pool, b);
            }
            *out_block = b;
            return VK_SUCCESS;
        }
        if (r == OFFSET_ALLOCATOR_OUT_OF_MEMORY) return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    return VK_INCOMPLETE;
}

/* Room in a new block, made for it. Pool locked. */
static VkResult carve_new_block_locked(suballoc_pool *pool, uint64_t reserved, uint64_t alignment,
                                       suballoc_block **out_block, offset_allocation *out) {
    suballoc_block *block;
    VkResult result = pool_grow(pool, reserved, alignment, &block);
    if (result != VK_SUCCESS) return result;
    if (offset_allocator_allocate(block->allocator, reserved, alignment, out) != OFFSET_ALLOCATOR_OK)
        return VK_ERROR_OUT_OF_HOST_MEMORY; /* node metadata; the empty block stays for later */
    *out_block = block;
    return VK_SUCCESS;
}

/* A slice as carved: the range the allocator gave, which holds the debug margin
 * (when there is one) before and after the app's bytes. */
typedef struct carved_slice {
    suballoc_block *block;
    offset_allocation range;
    uint64_t front; /* margin before the app's bytes: a multiple of the alignment */
} carved_slice;

typedef enum carve_growth { CARVE_EXISTING_ONLY, CARVE_OR_GROW } carve_growth;

/* The bytes a slice for `reserved` app bytes takes with its margins; sets its front margin. */
static uint64_t slice_span(const suballoc_pool *pool, uint64_t reserved, uint64_t alignment, carved_slice *out) {
    out->front = pool->margin == 0 ? 0 : align_up(pool->margin, max_u64(alignment, pool->unit));
    return out->front + reserved + pool->margin;
}

/* A slice for `reserved` app bytes and its margins, from the pool's blocks,
 * else (CARVE_OR_GROW) from a new one; VK_INCOMPLETE when only existing blocks
 * may serve and none has room. Pool locked. */
static VkResult carve_slice_locked(suballoc_pool *pool, uint64_t reserved, uint64_t alignment, carve_growth growth,
                                   carved_slice *out) {
    uint64_t span = slice_span(pool, reserved, alignment, out);
    VkResult result = carve_existing_locked(pool, span, alignment, &out->block, &out->range);
    if (result != VK_INCOMPLETE || growth == CARVE_EXISTING_ONLY) return result;
    return carve_new_block_locked(pool, span, alignment, &out->block, &out->range);
}

static void attach_locked(suballoc_pool *pool, suballoc_memory *record, const carved_slice *slice, uint64_t reserved) {
    suballoc_block *block = slice->block;
    if (block->live_count++ == 0) pool->empty_blocks--;
    record->block = block;
    record->allocation = slice->range.id;
    /* Atomic: slice_fix_placement reads it without the lock (relaxed, then checked by its CAS). */
    __atomic_store_n(&record->offset, slice->range.offset + slice->front, __ATOMIC_RELAXED);
    record->reserved = reserved;
    record->margin_front = (uint32_t)slice->front;
    record->margin_back = (uint32_t)(slice->range.size - slice->front - reserved);
    record->prev_in_block = NULL;
    record->next_in_block = block->live;
    if (block->live != NULL) block->live->prev_in_block = record;
    block->live = record;
}

static void unlink_record_locked(suballoc_block *block, suballoc_memory *record) {
    if (record->prev_in_block != NULL) record->prev_in_block->next_in_block = record->next_in_block;
    else block->live = record->next_in_block;
    if (record->next_in_block != NULL) record->next_in_block->prev_in_block = record->prev_in_block;
}

/* Gives a slice's range back to its block. Returns the block to destroy
 * (outside the lock) when it is now empty and the policy says so. */
static suballoc_block *release_range_locked(suballoc_pool *pool, suballoc_block *block, offset_allocation_id range) {
    offset_allocator_free(block->allocator, range);
    if (--block->live_count != 0) return NULL;

    pool->empty_blocks++;
    suballoc_empty_block_policy policy = pool->device->settings->empty_block_policy;
    /* keep_one keeps a spare so that an app freeing and allocating at a block's
     * edge does not call the driver each time; a big spare is idle memory, so it
     * is kept only while small: one of the first blocks, or small beside what
     * the pool holds. */
    bool spare_is_small = block->size <= EARLY_GROWTH_MIN || block->size * KEPT_BLOCK_FRACTION <= pool->block_bytes;
    bool release = policy == SUBALLOC_EMPTY_BLOCKS_RELEASE ||
                   (policy == SUBALLOC_EMPTY_BLOCKS_KEEP_ONE && (pool->empty_blocks > 1 || !spare_is_small));
    if (!release) return NULL;
    block_remove_empty_locked(pool, block);
    return block;
}

static void release_empty_blocks_locked(suballoc_pool *pool) {
    suballoc_block *block = pool->blocks;
    while (block != NULL && pool->empty_blocks > 0) {
        suballoc_block *next = block->next;
        if (block->live_count == 0) {
            block_remove_empty_locked(pool, block);
            block_destroy(pool->device, block);
        }
        block = next;
    }
}

static void release_empty_blocks_of_heap(suballoc_pool *caller, uint32_t heap) {
    suballoc_device *device = caller->device;
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++) {
        if (device->types[t].heap != heap) continue;
        for (suballoc_pool *p = atomic_load_explicit(&device->types[t].pools, memory_order_acquire); p != NULL;
             p = atomic_load_explicit(&p->next_in_type, memory_order_acquire)) {
            if (p != caller && !pool_lock_try(&p->lock)) continue; /* busy: it is not idle memory then */
            release_empty_blocks_locked(p);
            if (p != caller) pool_lock_release(&p->lock);
        }
    }
}

static suballoc_block *detach_locked(suballoc_pool *pool, suballoc_memory *record) {
    unlink_record_locked(record->block, record);
    return release_range_locked(pool, record->block, record->allocation);
}

/* ---- shards ------------------------------------------------------------------------ */

/* Threads that allocate at once would queue on one pool lock and bounce its
 * cache lines between cores (a second thread made allocation 3.7x slower). So a
 * key has up to one pool per core, its shards. Every thread starts on shard 0,
 * so a single-threaded app never pays for a second pool's partly used block; a
 * thread that finds its pool locked by another moves, for good, to a shard of
 * its own (round robin once every core has one). A slice is freed into the
 * shard it came from, whichever thread frees it. */
#define MAX_SHARDS 16u

static __thread uint32_t thread_shard __attribute__((tls_model("initial-exec")));
static __thread bool thread_shard_chosen __attribute__((tls_model("initial-exec")));
static _Atomic uint32_t shards_handed_out;
static uint32_t shard_count;
static pthread_once_t shard_count_once = PTHREAD_ONCE_INIT;

static void count_shards(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    shard_count = cores < 1 ? 1u : cores > (long)MAX_SHARDS ? MAX_SHARDS : (uint32_t)cores;
}

static uint32_t shards_per_key(void) {
    pthread_once(&shard_count_once, count_shards);
    return shard_count;
}

/* The shard a thread moves to after its first collision (it stays there). */
static uint32_t shard_after_collision(void) {
    if (thread_shard_chosen || shards_per_key() < 2) return thread_shard;
    thread_shard_chosen = true;
    /* The first thread to collide gets shard 1, the next stays on 0, ...: the
     * shards fill in turn, 0 included. */
    thread_shard = (1 + atomic_fetch_add_explicit(&shards_handed_out, 1, memory_order_relaxed)) % shard_count;
    return thread_shard;
}

/* Before a shard grows, room in another shard of its key: otherwise every
 * shard keeps a partly used block of its own, and threads cost memory
 * (mixed_30k_8_threads in memory_bench). Only shards this thread can lock at
 * once are looked at: the caller's pool stays locked, and a try-lock never
 * waits, so two threads doing this cannot deadlock, and a busy shard costs
 * nothing. Returns the shard with the slice carved, locked, or NULL. */
static suballoc_pool *carve_in_idle_sibling_locked(const suballoc_pool *pool, uint64_t reserved, uint64_t alignment,
                                                   carved_slice *slice) {
    pool_key key = pool->key;
    memory_type_info *type = &pool->device->types[key.memory_type];
    uint32_t shards = shards_per_key();
    for (uint32_t i = 1; i < shards; i++) {
        key.shard = (pool->key.shard + i) % shards;
        suballoc_pool *sibling = find_pool(type, &key, NULL);
        if (sibling == NULL || !pool_lock_try(&sibling->lock)) continue;
        if (carve_slice_locked(sibling, reserved, alignment, CARVE_EXISTING_ONLY, slice) == VK_SUCCESS) return sibling;
        pool_lock_release(&sibling->lock);
    }
    return NULL;
}

/* The calling thread's pool of key, locked. NULL when host memory runs out. */
static suballoc_pool *lock_thread_pool(suballoc_device *device, const pool_key *base_key) {
    pool_key key = *base_key;
    key.shard = thread_shard;
    suballoc_pool *pool = pool_find_or_create(device, &key);
    if (pool == NULL || pool_lock_try(&pool->lock)) return pool;
    key.shard = shard_after_collision();
    if (key.shard != pool->key.shard) {
        suballoc_pool *own = pool_find_or_create(device, &key);
        if (own != NULL) pool = own;
    }
    pool_lock_acquire(&pool->lock);
    return pool;
}

VkResult pool_allocate(suballoc_device *device, const pool_key *key, suballoc_memory *record, uint64_t size,
                       uint64_t alignment) {
    suballoc_pool *pool = lock_thread_pool(device, key);
    if (pool == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
    uint64_t reserved = align_up(size, pool->unit);
    carved_slice slice;
    VkResult result = carve_slice_locked(pool, reserved, alignment, CARVE_EXISTING_ONLY, &slice);
    if (result == VK_INCOMPLETE) {
        suballoc_pool *sibling = carve_in_idle_sibling_locked(pool, reserved, alignment, &slice);
        if (sibling != NULL) {
            pool_lock_release(&pool->lock);
            pool = sibling;
            result = VK_SUCCESS;
        } else { /* the pool is still locked, so its blocks still have no room: grow */
            result = carve_new_block_locked(pool, slice_span(pool, reserved, alignment, &slice), alignment,
                                            &slice.block, &slice.range);
        }
    }
    record->pool = pool;
    if (result == VK_SUCCESS) {
        attach_locked(pool, record, &slice, reserved);
        pool_counters *c = &pool->counters;
        c->allocations++;
        c->live_peak = max_u64(c->live_peak, ++c->live);
        c->requested_bytes += size;
        c->requested_bytes_peak = max_u64(c->requested_bytes_peak, c->requested_bytes);
    }
    pool_lock_release(&pool->lock);
    if (result == VK_SUCCESS) margins_fill(record);
    return result;
}

void pool_free(suballoc_memory *record) {
    suballoc_pool *pool = record->pool;
    pool_lock_acquire(&pool->lock);
    suballoc_block *release = detach_locked(pool, record);
    pool->counters.live--;
    pool->counters.requested_bytes -= record->size;
    pool_lock_release(&pool->lock);
    if (release != NULL) block_destroy(pool->device, release);
    EXPENSIVE_CHECK_POOL(pool, "vkFreeMemory");
}

/* Marks a slice fixed, noting bound, under the pool lock (so no mover is at
 * work): after its move, or where it is, still movable or fixed meanwhile by
 * another thread's lock-free first bind. */
static void mark_fixed_locked(suballoc_memory *record, bool moved, uint8_t bound) {
    uint8_t fixed = (uint8_t)(SLICE_FIXED | bound);
    if (moved) {
        atomic_store_explicit(&record->placement, fixed, memory_order_release);
        return;
    }
    uint8_t state = SLICE_MOVABLE;
    if (!atomic_compare_exchange_strong_explicit(&record->placement, &state, fixed, memory_order_acq_rel,
                                                 memory_order_acquire))
        atomic_fetch_or_explicit(&record->placement, bound, memory_order_relaxed);
}

/* Moves an unfixed slice that is not aligned enough to a new one that is, then
 * fixes it. Takes the pool lock: record->pool never changes, so a second thread
 * binding into the same allocation waits here and then sees the slice where
 * the first one left it. */
VkResult slice_fix_placement_slow(suballoc_memory *record, uint64_t alignment, uint8_t bound) {
    alignment = pow2_at_least(alignment);
    suballoc_pool *pool = record->pool;
    suballoc_block *release = NULL;
    VkResult result = VK_SUCCESS;
    bool moved = false;
    pool_lock_acquire(&pool->lock);
    uint8_t state = SLICE_MOVABLE;
    if (!is_aligned(record->offset, alignment) &&
        atomic_compare_exchange_strong_explicit(&record->placement, &state, SLICE_MOVING, memory_order_acquire,
                                                memory_order_acquire)) {
        /* Nobody has seen this slice's bytes yet, so it can move to where the
         * resource's alignment holds: carve the new slice and attach to it before
         * the old range goes back, so that a block holding both never looks empty. */
        carved_slice slice;
        result = carve_slice_locked(pool, record->reserved, alignment, CARVE_OR_GROW, &slice);
        if (result == VK_SUCCESS) {
            suballoc_block *old_block = record->block;
            offset_allocation_id old_range = record->allocation;
            unlink_record_locked(old_block, record);
            attach_locked(pool, record, &slice, record->reserved);
            moved = true;
            release = release_range_locked(pool, old_block, old_range);
            LOG_DEBUG(pool->device, "memory 0x%llx moved to block offset %llu for a %llu-byte alignment",
                      (unsigned long long)memory_handle_of(record), (unsigned long long)record->offset,
                      (unsigned long long)alignment);
        }
        /* A failed move leaves the slice where it was, still movable. */
        if (result != VK_SUCCESS) atomic_store_explicit(&record->placement, SLICE_MOVABLE, memory_order_release);
    }
    if (result == VK_SUCCESS && !is_aligned(record->offset, alignment)) result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    if (result == VK_SUCCESS) mark_fixed_locked(record, moved, bound);
    pool_lock_release(&pool->lock);
    if (release != NULL) block_destroy(pool->device, release);
    if (moved) margins_fill(record); /* outside the lock: it may map the block */
    return result;
}

VkResult block_map(suballoc_block *block, uint8_t **base) {
    uint8_t *mapped = atomic_load_explicit(&block->mapped_base, memory_order_acquire);
    if (mapped != NULL) {
        *base = mapped;
        return VK_SUCCESS;
    }
    suballoc_pool *pool = block->pool;
    suballoc_device *device = pool->device;
    VkResult result = VK_SUCCESS;
    pool_lock_acquire(&pool->lock);
    mapped = atomic_load_explicit(&block->mapped_base, memory_order_relaxed);
    if (mapped == NULL) {
        void *pointer = NULL;
        result = device->next.MapMemory(device->handle, block->memory, 0, VK_WHOLE_SIZE, 0, &pointer);
        if (result == VK_SUCCESS) {
            mapped = pointer;
            atomic_store_explicit(&block->mapped_base, mapped, memory_order_release);
        }
    }
    pool_lock_release(&pool->lock);
    *base = mapped;
    return result;
}

/* ---- the end of a device ------------------------------------------------------------ */

static uint64_t release_leaked_records(suballoc_device *device, suballoc_block *block) {
    uint64_t leaked = 0;
    suballoc_memory *record = block->live;
    while (record != NULL) {
        suballoc_memory *next = record->next_in_block;
        if (leaked < 8 || device->settings->log_level >= SUBALLOC_LOG_DEBUG)
            LOG_WARNING(device, "vkDestroyDevice: app allocation 0x%llx (%llu bytes%s%s) was never freed; releasing it",
                        (unsigned long long)memory_handle_of(record), (unsigned long long)record->size,
                        record->debug_name != NULL ? ", named " : "",
                        record->debug_name != NULL ? record->debug_name : "");
        margins_check(record, "vkDestroyDevice");
        record->block = NULL;
        memory_record_free(record);
        leaked++;
        record = next;
    }
    return leaked;
}

static uint64_t release_pool(suballoc_device *device, suballoc_pool *pool) {
    uint64_t leaked = 0;
    suballoc_block *block = pool->blocks;
    while (block != NULL) {
        suballoc_block *next = block->next;
        leaked += release_leaked_records(device, block);
        block_destroy(device, block);
        block = next;
    }
    free(pool);
    return leaked;
}

uint64_t device_release_pools(suballoc_device *device) {
    uint64_t leaked = 0;
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++) {
        suballoc_pool *pool = atomic_load(&device->types[t].pools);
        while (pool != NULL) {
            suballoc_pool *next = atomic_load(&pool->next_in_type);
            leaked += release_pool(device, pool);
            pool = next;
        }
        atomic_store(&device->types[t].pools, NULL);
    }
    return leaked;
}
