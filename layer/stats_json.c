/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats_json.c: the device's blocks and every allocation in them, written as the
 * JSON that Vulkan Memory Allocator's vmaBuildStatsString(detailedMap = VK_TRUE)
 * writes, so VMA's GpuMemDumpVis and suballoc-picture can draw it.
 *
 * When: at vkDestroyDevice, before leaked allocations are released; at normal
 * process exit for devices never destroyed; and every stats_interval seconds
 * from a thread of the device's own, started only when that setting is set.
 * With stats_json_file unset none of this exists: no state, no thread.
 *
 * Where: the first device that writes a file name gets exactly that name; the
 * n-th gets "-n" before the extension (dump.json, dump-2.json, ...). Each write
 * goes to a new temporary file in the same folder, then rename() puts it in
 * place, so a reader never sees half a dump.
 *
 * What, in VMA's terms: a block is a VMA block, a slice an allocation (Size is
 * the bytes the slice holds in its block: the app's allocationSize rounded up
 * to the pool's granule), the gaps between slices are FREE suballocations,
 * pass-through memory is a dedicated allocation. Blocks of the default pool of
 * a type (no allocate flags, default priority) are DefaultPools; pools made for
 * allocate flags or a priority are CustomPools. Type says what the app bound:
 * BUFFER, IMAGE_UNKNOWN (the layer does not keep how an image was created, so
 * tiling is unknown), UNKNOWN when nothing was bound, or for pass-through memory, whose
 * binds go to the driver without a look. Usage (the resource's usage flags) is
 * unknown for the same reason: always 0.
 *
 * Threads: the snapshot takes each pool's lock while it copies that pool, and
 * the pass-through set's lock while it copies that; the JSON is built and
 * written with no lock held. Records are read only under their pool's lock,
 * which is also where names change (object_info.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json_writer.h"
#include "log.h"

#define NO_NAME UINT32_MAX
#define EXIT_LOCK_ATTEMPTS 1000 /* 1 ms apart: a pool held a second at exit is skipped */
#define TEMP_NAME_ATTEMPTS 16
#define THREAD_NAME "suballoc-stats"

typedef enum dump_reason { DUMP_AT_DESTROY, DUMP_AT_INTERVAL, DUMP_AT_EXIT } dump_reason;
static const char *const reason_names[] = {"vkDestroyDevice", "interval", "exit"};

struct stats_json_state {
    suballoc_device *device;
    char path[SUBALLOC_PATH_MAX + 16];
    uint32_t number;   /* this device is the number-th to write the file name */
    uint32_t interval; /* seconds; 0 = no thread */
    VkPhysicalDeviceProperties properties;
    pid_t pid;            /* of the process that made the device */
    pthread_mutex_t lock; /* stopping, thread_running */
    pthread_cond_t wake;
    bool stopping, thread_running;
    pthread_t thread;
    bool error_reported;           /* one message per device for a file that cannot be written */
    struct stats_json_state *next; /* in `registered` */
};

/* Devices the dump at exit covers, and how many devices each file name has had. */
typedef struct used_path {
    char *path;
    uint32_t devices;
    struct used_path *next;
} used_path;

static pthread_mutex_t registered_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stats_json_state *registered;
static used_path *used_paths;
static pthread_once_t exit_handler_once = PTHREAD_ONCE_INIT;
static pid_t exit_handler_pid;

/* ---- a copy of the device's state ---------------------------------------------- */

typedef struct slice_view {
    uint64_t offset, size;
    uint32_t name; /* offset in snapshot.names, or NO_NAME */
    uint8_t bound; /* MEMORY_BOUND_* */
} slice_view;

typedef struct block_view {
    uint64_t size;
    uint32_t first_slice, slice_count;
    bool mapped;
} block_view;

typedef struct pool_view {
    pool_key key;
    uint32_t first_block, block_count;
} pool_view;

typedef struct dedicated_view {
    uint64_t size;
    uint32_t memory_type;
    uint32_t name;
} dedicated_view;

typedef struct snapshot {
    pool_view *pools;
    block_view *blocks;
    slice_view *slices;
    dedicated_view *dedicated;
    char *names;
    uint32_t pool_count, pool_capacity, block_count, block_capacity, slice_count, slice_capacity, dedicated_count,
        dedicated_capacity;
    size_t names_length, names_capacity;
    bool failed;     /* out of host memory: nothing is written */
    bool incomplete; /* a pool stayed locked at exit and is missing */
} snapshot;

/* Room for one more element of a growing array; NULL (and failed) when the host is out of memory. */
static void *grow(snapshot *s, void **array, uint32_t *count, uint32_t *capacity, size_t element) {
    if (s->failed) return NULL;
    if (*count == *capacity) {
        uint32_t more = *capacity != 0 ? *capacity * 2 : 64;
        void *bigger = more > *capacity ? realloc(*array, (size_t)more * element) : NULL;
        if (bigger == NULL) {
            s->failed = true;
            return NULL;
        }
        *array = bigger;
        *capacity = more;
    }
    return (char *)*array + (size_t)(*count)++ * element;
}

#define GROW(s, array, count, capacity) \
    ((__typeof__((s)->array))grow((s), (void **)&(s)->array, &(s)->count, &(s)->capacity, sizeof *(s)->array))

static uint32_t keep_name(snapshot *s, const char *name) {
    if (name == NULL || s->failed) return NO_NAME;
    size_t length = strlen(name) + 1;
    if (s->names_length + length > UINT32_MAX) return NO_NAME;
    if (s->names_length + length > s->names_capacity) {
        size_t capacity = s->names_capacity != 0 ? s->names_capacity : 4096;
        while (capacity < s->names_length + length) capacity *= 2;
        char *bigger = realloc(s->names, capacity);
        if (bigger == NULL) {
            s->failed = true;
            return NO_NAME;
        }
        s->names = bigger;
        s->names_capacity = capacity;
    }
    memcpy(s->names + s->names_length, name, length);
    uint32_t at = (uint32_t)s->names_length;
    s->names_length += length;
    return at;
}

static const char *name_at(const snapshot *s, uint32_t at) { return at == NO_NAME ? NULL : s->names + at; }

static void snapshot_free(snapshot *s) {
    free(s->pools);
    free(s->blocks);
    free(s->slices);
    free(s->dedicated);
    free(s->names);
    memset(s, 0, sizeof *s);
}

/* At exit another thread may hold a pool forever (it called exit from a
 * callback the layer made under the lock): wait a while, then leave it out. */
static bool lock_pool(suballoc_pool *pool, dump_reason reason) {
    if (reason != DUMP_AT_EXIT) {
        pool_lock_acquire(&pool->lock);
        return true;
    }
    for (unsigned attempt = 0; attempt < EXIT_LOCK_ATTEMPTS; attempt++) {
        if (pool_lock_try(&pool->lock)) return true;
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    }
    return false;
}

static int by_offset(const void *a, const void *b) {
    const slice_view *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Copies one pool's blocks and slices, the pool locked. */
static void snapshot_pool(snapshot *s, suballoc_pool *pool, dump_reason reason) {
    if (!lock_pool(pool, reason)) {
        s->incomplete = true;
        return;
    }
    pool_view *p = GROW(s, pools, pool_count, pool_capacity);
    if (p != NULL) *p = (pool_view){.key = pool->key, .first_block = s->block_count};
    for (suballoc_block *b = pool->blocks; b != NULL && p != NULL; b = b->next) {
        block_view *v = GROW(s, blocks, block_count, block_capacity);
        if (v == NULL) break;
        *v = (block_view){.size = b->size,
                          .first_slice = s->slice_count,
                          .mapped = atomic_load_explicit(&b->mapped_base, memory_order_relaxed) != NULL};
        for (suballoc_memory *r = b->live; r != NULL; r = r->next_in_block) {
            slice_view *slice = GROW(s, slices, slice_count, slice_capacity);
            if (slice == NULL) break;
            /* The guard margins (debug_margin) are the slice's too: not free space. */
            *slice =
                (slice_view){.offset = r->offset - r->margin_front,
                             .size = r->margin_front + r->reserved + r->margin_back,
                             .name = keep_name(s, r->debug_name),
                             .bound = atomic_load_explicit(&r->placement, memory_order_relaxed) & MEMORY_BOUND_MASK};
        }
        v->slice_count = s->slice_count - v->first_slice;
        p->block_count++; /* p and v stay valid: only the slices grew meanwhile */
    }
    pool_lock_release(&pool->lock);
}

static void snapshot_dedicated(void *user, VkDeviceMemory memory, const passthrough_entry *entry) {
    (void)memory;
    snapshot *s = user;
    dedicated_view *d = GROW(s, dedicated, dedicated_count, dedicated_capacity);
    if (d != NULL) *d = (dedicated_view){.size = entry->size, .memory_type = entry->memory_type, .name = NO_NAME};
    if (d != NULL && entry->name != NULL) s->dedicated[s->dedicated_count - 1].name = keep_name(s, entry->name);
}

static void take_snapshot(suballoc_device *device, dump_reason reason, snapshot *s) {
    memset(s, 0, sizeof *s);
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++)
        for (suballoc_pool *p = atomic_load(&device->types[t].pools); p != NULL; p = atomic_load(&p->next_in_type))
            snapshot_pool(s, p, reason);
    if (device->track_passthrough) passthrough_set_visit(&device->passthrough, snapshot_dedicated, s);
    for (uint32_t b = 0; b < s->block_count && !s->failed; b++)
        if (s->blocks[b].slice_count > 1) /* qsort must not see the NULL array of a dump without slices */
            qsort(s->slices + s->blocks[b].first_slice, s->blocks[b].slice_count, sizeof(slice_view), by_offset);
}

/* ---- statistics in VMA's shape ---------------------------------------------------- */

typedef struct detailed_stats {
    uint64_t block_count, block_bytes, allocation_count, allocation_bytes, unused_range_count;
    uint64_t allocation_min, allocation_max, unused_min, unused_max;
} detailed_stats;

static void stats_init(detailed_stats *d) {
    *d = (detailed_stats){.allocation_min = UINT64_MAX, .unused_min = UINT64_MAX};
}

static void add_block(detailed_stats *d, uint64_t size) {
    d->block_count++;
    d->block_bytes += size;
}

static void add_allocation(detailed_stats *d, uint64_t size) {
    d->allocation_count++;
    d->allocation_bytes += size;
    d->allocation_min = min_u64(d->allocation_min, size);
    d->allocation_max = max_u64(d->allocation_max, size);
}

static void add_unused(detailed_stats *d, uint64_t size) {
    d->unused_range_count++;
    d->unused_min = min_u64(d->unused_min, size);
    d->unused_max = max_u64(d->unused_max, size);
}

static void merge(detailed_stats *into, const detailed_stats *from) {
    into->block_count += from->block_count;
    into->block_bytes += from->block_bytes;
    into->allocation_count += from->allocation_count;
    into->allocation_bytes += from->allocation_bytes;
    into->unused_range_count += from->unused_range_count;
    into->allocation_min = min_u64(into->allocation_min, from->allocation_min);
    into->allocation_max = max_u64(into->allocation_max, from->allocation_max);
    into->unused_min = min_u64(into->unused_min, from->unused_min);
    into->unused_max = max_u64(into->unused_max, from->unused_max);
}

/* Calls fn for every range of the block in offset order, free gaps included. */
typedef void (*range_fn)(void *user, uint64_t offset, uint64_t size, const slice_view *slice);

static void walk_block(const snapshot *s, const block_view *b, range_fn fn, void *user) {
    uint64_t cursor = 0;
    for (uint32_t i = 0; i < b->slice_count; i++) {
        const slice_view *slice = &s->slices[b->first_slice + i];
        if (slice->offset > cursor) fn(user, cursor, slice->offset - cursor, NULL);
        fn(user, slice->offset, slice->size, slice);
        cursor = max_u64(cursor, slice->offset + slice->size);
    }
    if (cursor < b->size) fn(user, cursor, b->size - cursor, NULL);
}

static void count_range(void *user, uint64_t offset, uint64_t size, const slice_view *slice) {
    (void)offset;
    if (slice != NULL) add_allocation(user, size);
    else add_unused(user, size);
}

static void type_stats(const snapshot *s, uint32_t type, detailed_stats *out) {
    stats_init(out);
    for (uint32_t p = 0; p < s->pool_count; p++) {
        if (s->pools[p].key.memory_type != type) continue;
        for (uint32_t b = 0; b < s->pools[p].block_count; b++) {
            const block_view *block = &s->blocks[s->pools[p].first_block + b];
            add_block(out, block->size);
            walk_block(s, block, count_range, out);
        }
    }
    for (uint32_t d = 0; d < s->dedicated_count; d++) {
        if (s->dedicated[d].memory_type != type) continue;
        add_block(out, s->dedicated[d].size);
        add_allocation(out, s->dedicated[d].size);
    }
}

/* VMA writes the extremes only when there are two things to compare. */
static void write_stats(json_writer *w, const detailed_stats *d) {
    json_begin_object(w, false);
    json_key_number(w, "BlockCount", d->block_count);
    json_key_number(w, "BlockBytes", d->block_bytes);
    json_key_number(w, "AllocationCount", d->allocation_count);
    json_key_number(w, "AllocationBytes", d->allocation_bytes);
    json_key_number(w, "UnusedRangeCount", d->unused_range_count);
    if (d->allocation_count > 1) {
        json_key_number(w, "AllocationSizeMin", d->allocation_min);
        json_key_number(w, "AllocationSizeMax", d->allocation_max);
    }
    if (d->unused_range_count > 1) {
        json_key_number(w, "UnusedRangeSizeMin", d->unused_min);
        json_key_number(w, "UnusedRangeSizeMax", d->unused_max);
    }
    json_end_object(w);
}

/* ---- the document -------------------------------------------------------------------- */

static void write_flag_names(json_writer *w, uint32_t flags, const uint32_t *bits, const char *const *names,
                             size_t count) {
    json_begin_array(w, true);
    for (size_t i = 0; i < count; i++) {
        if (!(flags & bits[i])) continue;
        json_string(w, names[i]);
        flags &= ~bits[i];
    }
    if (flags != 0) json_number(w, flags); /* bits without a name, as VMA writes them */
    json_end_array(w);
}

static void write_heap_flags(json_writer *w, VkMemoryHeapFlags flags) {
    static const uint32_t bits[] = {VK_MEMORY_HEAP_DEVICE_LOCAL_BIT, VK_MEMORY_HEAP_MULTI_INSTANCE_BIT};
    static const char *const names[] = {"DEVICE_LOCAL", "MULTI_INSTANCE"};
    write_flag_names(w, flags, bits, names, 2);
}

static void write_type_flags(json_writer *w, VkMemoryPropertyFlags flags) {
    static const uint32_t bits[] = {
        VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,       VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
        VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT,    VK_MEMORY_PROPERTY_PROTECTED_BIT,
        VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD, VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD,
    };
    static const char *const names[] = {"DEVICE_LOCAL",        "HOST_VISIBLE",       "HOST_COHERENT",
                                        "HOST_CACHED",         "LAZILY_ALLOCATED",   "PROTECTED",
                                        "DEVICE_COHERENT_AMD", "DEVICE_UNCACHED_AMD"};
    write_flag_names(w, flags, bits, names, sizeof bits / sizeof bits[0]);
}

static void write_general(json_writer *w, const struct stats_json_state *state, const snapshot *s, dump_reason reason) {
    const suballoc_device *device = state->device;
    const VkPhysicalDeviceProperties *p = &state->properties;
    json_key(w, "General");
    json_begin_object(w, false);
    json_key_string(w, "API", "Vulkan");
    json_key(w, "apiVersion");
    char version[32];
    snprintf(version, sizeof version, "%u.%u.%u", VK_API_VERSION_MAJOR(p->apiVersion),
             VK_API_VERSION_MINOR(p->apiVersion), VK_API_VERSION_PATCH(p->apiVersion));
    json_string(w, version);
    json_key_string(w, "GPU", device->name);
    json_key_number(w, "deviceType", (uint64_t)p->deviceType);
    json_key_number(w, "maxMemoryAllocationCount", device->driver_allocation_limit);
    json_key_number(w, "bufferImageGranularity", device->buffer_image_granularity);
    json_key_number(w, "nonCoherentAtomSize", device->non_coherent_atom_size);
    json_key_number(w, "memoryHeapCount", device->memory.memoryHeapCount);
    json_key_number(w, "memoryTypeCount", device->memory.memoryTypeCount);
    /* The layer's own facts; GpuMemDumpVis reads only API and GPU here. */
    json_key_string(w, "Layer", SUBALLOC_LAYER_NAME);
    json_key_string(w, "LayerMode", device->suballocate ? "suballocate" : "passthrough");
    json_key_number(w, "LayerDevice", state->number);
    json_key_string(w, "WrittenAt", reason_names[reason]);
    if (s->incomplete) {
        json_key(w, "Incomplete");
        json_bool(w, true);
    }
    json_end_object(w);
}

/* The driver's budget where VK_EXT_memory_budget answers (never at exit: the
 * driver may be gone), else the heap's size and what this device holds in it. */
static void heap_budget(const suballoc_device *device, dump_reason reason, uint32_t heap, uint64_t held,
                        uint64_t *budget, uint64_t *usage) {
    *budget = device->memory.memoryHeaps[heap].size;
    *usage = held;
    if (!device->has_memory_budget || reason == DUMP_AT_EXIT) return;
    VkPhysicalDeviceMemoryBudgetPropertiesEXT b = {.sType =
                                                       VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 properties = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                                    .pNext = &b};
    device->instance->next.GetPhysicalDeviceMemoryProperties2(device->physical_device, &properties);
    *budget = b.heapBudget[heap];
    *usage = b.heapUsage[heap];
}

static void write_memory_info(json_writer *w, const suballoc_device *device, dump_reason reason,
                              const detailed_stats *types) {
    json_key(w, "MemoryInfo");
    json_begin_object(w, false);
    for (uint32_t h = 0; h < device->memory.memoryHeapCount; h++) {
        detailed_stats heap;
        stats_init(&heap);
        for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++)
            if (device->memory.memoryTypes[t].heapIndex == h) merge(&heap, &types[t]);
        uint64_t budget, usage;
        heap_budget(device, reason, h, heap.block_bytes, &budget, &usage);
        json_keyf(w, "Heap %u", h);
        json_begin_object(w, false);
        json_key(w, "Flags");
        write_heap_flags(w, device->memory.memoryHeaps[h].flags);
        json_key_number(w, "Size", device->memory.memoryHeaps[h].size);
        json_key(w, "Budget");
        json_begin_object(w, false);
        json_key_number(w, "BudgetBytes", budget);
        json_key_number(w, "UsageBytes", usage);
        json_end_object(w);
        json_key(w, "Stats");
        write_stats(w, &heap);
        json_key(w, "MemoryPools");
        json_begin_object(w, false);
        for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++) {
            if (device->memory.memoryTypes[t].heapIndex != h) continue;
            json_keyf(w, "Type %u", t);
            json_begin_object(w, false);
            json_key(w, "Flags");
            write_type_flags(w, device->memory.memoryTypes[t].propertyFlags);
            json_key(w, "Stats");
            write_stats(w, &types[t]);
            json_end_object(w);
        }
        json_end_object(w);
        json_end_object(w);
    }
    json_end_object(w);
}

static const char *type_name(uint8_t bound) {
    if (bound & MEMORY_BOUND_IMAGE) return "IMAGE_UNKNOWN";
    if (bound & MEMORY_BOUND_BUFFER) return "BUFFER";
    return "UNKNOWN";
}

typedef struct block_writer {
    json_writer *w;
    const snapshot *s;
} block_writer;

static void write_range(void *user, uint64_t offset, uint64_t size, const slice_view *slice) {
    block_writer *b = user;
    json_begin_object(b->w, true);
    json_key_number(b->w, "Offset", offset);
    json_key_string(b->w, "Type", slice != NULL ? type_name(slice->bound) : "FREE");
    json_key_number(b->w, "Size", size);
    if (slice != NULL) {
        json_key_number(b->w, "Usage", 0);
        const char *name = name_at(b->s, slice->name);
        if (name != NULL) json_key_string(b->w, "Name", name);
    }
    json_end_object(b->w);
}

static bool is_default_pool(const pool_key *key) {
    return key->flags == 0 && key->device_mask == 0 && key->priority == 0.5f;
}

static void write_block(json_writer *w, const snapshot *s, const block_view *block, uint32_t index) {
    detailed_stats d;
    stats_init(&d);
    walk_block(s, block, count_range, &d);
    json_keyf(w, "%u", index);
    json_begin_object(w, false);
    json_key_number(w, "MapRefCount", block->mapped ? 1 : 0);
    json_key_number(w, "TotalBytes", block->size);
    json_key_number(w, "UnusedBytes", block->size - d.allocation_bytes);
    json_key_number(w, "Allocations", d.allocation_count);
    json_key_number(w, "UnusedRanges", d.unused_range_count);
    json_key(w, "Suballocations");
    json_begin_array(w, false);
    walk_block(s, block, write_range, &(block_writer){w, s});
    json_end_array(w);
    json_end_object(w);
}

/* The blocks of the pools of one type that match (default ones, or one custom
 * pool): a key has a pool per shard (pools.c), all shown as one. */
static void write_blocks(json_writer *w, const snapshot *s, uint32_t type, const pool_view *only) {
    json_begin_object(w, false);
    uint32_t index = 0;
    for (uint32_t p = 0; p < s->pool_count; p++) {
        const pool_view *pool = &s->pools[p];
        if (only != NULL ? pool != only : (pool->key.memory_type != type || !is_default_pool(&pool->key))) continue;
        for (uint32_t i = 0; i < pool->block_count; i++) write_block(w, s, &s->blocks[pool->first_block + i], index++);
    }
    json_end_object(w);
}

static void write_dedicated(json_writer *w, const snapshot *s, uint32_t type) {
    json_begin_array(w, false);
    for (uint32_t d = 0; d < s->dedicated_count; d++) {
        if (s->dedicated[d].memory_type != type) continue;
        json_begin_object(w, true);
        json_key_string(w, "Type", "UNKNOWN");
        json_key_number(w, "Size", s->dedicated[d].size);
        json_key_number(w, "Usage", 0);
        const char *name = name_at(s, s->dedicated[d].name);
        if (name != NULL) json_key_string(w, "Name", name);
        json_end_object(w);
    }
    json_end_array(w);
}

static void pool_description(const pool_key *key, uint32_t id, char *out, size_t size) {
    int n = snprintf(out, size, "%u -", id);
    if (key->flags & VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT)
        n += snprintf(out + n, size - (size_t)n, " device address,");
    if (key->flags & VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT)
        n += snprintf(out + n, size - (size_t)n, " device mask 0x%x,", key->device_mask);
    if (key->priority != 0.5f) n += snprintf(out + n, size - (size_t)n, " priority %.3f,", (double)key->priority);
    if (n > 0 && out[n - 1] == ',') out[n - 1] = '\0';
}

static void write_pools(json_writer *w, const suballoc_device *device, const snapshot *s) {
    json_key(w, "DefaultPools");
    json_begin_object(w, false);
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++) {
        json_keyf(w, "Type %u", t);
        json_begin_object(w, false);
        json_key_number(w, "PreferredBlockSize", device->types[t].preferred_block_size);
        json_key(w, "Blocks");
        write_blocks(w, s, t, NULL);
        json_key(w, "DedicatedAllocations");
        write_dedicated(w, s, t);
        json_end_object(w);
    }
    json_end_object(w);

    json_key(w, "CustomPools");
    json_begin_object(w, false);
    uint32_t id = 0;
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++) {
        bool any = false;
        for (uint32_t p = 0; p < s->pool_count; p++) {
            const pool_view *pool = &s->pools[p];
            if (pool->key.memory_type != t || is_default_pool(&pool->key)) continue;
            if (!any) {
                json_keyf(w, "Type %u", t);
                json_begin_array(w, false);
                any = true;
            }
            char name[128];
            pool_description(&pool->key, ++id, name, sizeof name);
            json_begin_object(w, false);
            json_key_string(w, "Name", name);
            json_key_number(w, "PreferredBlockSize", device->types[t].preferred_block_size);
            json_key(w, "Blocks");
            write_blocks(w, s, t, pool);
            json_key(w, "DedicatedAllocations");
            json_begin_array(w, false);
            json_end_array(w);
            json_end_object(w);
        }
        if (any) json_end_array(w);
    }
    json_end_object(w);
}

static bool build_document(const struct stats_json_state *state, const snapshot *s, dump_reason reason,
                           json_writer *w) {
    const suballoc_device *device = state->device;
    detailed_stats types[VK_MAX_MEMORY_TYPES], total;
    stats_init(&total);
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++) {
        type_stats(s, t, &types[t]);
        merge(&total, &types[t]);
    }
    json_begin_object(w, false);
    write_general(w, state, s, reason);
    json_key(w, "Total");
    write_stats(w, &total);
    write_memory_info(w, device, reason, types);
    write_pools(w, device, s);
    json_end_object(w);
    return !w->failed && w->depth == 0;
}

/* ---- the file ---------------------------------------------------------------------- */

/* 0, or the errno of what failed. The temporary file is new (O_EXCL), in the
 * target's folder, never a link (O_NOFOLLOW), closed on exec. */
static int write_atomically(const char *path, const char *text, size_t length) {
    static _Atomic uint32_t sequence;
    char temp[SUBALLOC_PATH_MAX + 64];
    int fd = -1;
    for (unsigned attempt = 0; attempt < TEMP_NAME_ATTEMPTS && fd < 0; attempt++) {
        int n = snprintf(temp, sizeof temp, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&sequence, 1));
        if (n < 0 || (size_t)n >= sizeof temp) return ENAMETOOLONG;
        fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno != EEXIST) return errno;
    }
    if (fd < 0) return EEXIST;
    for (size_t done = 0; done < length;) {
        ssize_t n = write(fd, text + done, length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int error = n < 0 ? errno : EIO;
            close(fd);
            unlink(temp);
            return error;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0 || rename(temp, path) != 0) {
        int error = errno;
        unlink(temp);
        return error;
    }
    return 0;
}

static void report_error(struct stats_json_state *state, dump_reason reason, const char *what) {
    if (state->error_reported) return;
    state->error_reported = true;
    /* At exit the app's messengers and the instance may be gone: stderr only. */
    if (reason == DUMP_AT_EXIT) fprintf(stderr, "suballoc: error: stats_json_file: %s\n", what);
    else LOG_ERROR(state->device, "stats_json_file: %s", what);
}

static void write_dump(struct stats_json_state *state, dump_reason reason) {
    snapshot s;
    json_writer w;
    json_writer_init(&w);
    take_snapshot(state->device, reason, &s);
    bool built = !s.failed && build_document(state, &s, reason, &w);
    snapshot_free(&s);
    if (!built) {
        json_writer_free(&w);
        report_error(state, reason, "out of host memory while building the dump; nothing written");
        return;
    }
    int error = write_atomically(state->path, w.text, w.length);
    json_writer_free(&w);
    if (error != 0) {
        char what[SUBALLOC_PATH_MAX + 128];
        snprintf(what, sizeof what, "cannot write '%s': %s", state->path, strerror(error));
        report_error(state, reason, what);
    }
}

/* ---- the interval thread ----------------------------------------------------------- */

static void *interval_main(void *user) {
    struct stats_json_state *state = user;
    pthread_mutex_lock(&state->lock);
    while (!state->stopping) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += state->interval;
        while (!state->stopping && pthread_cond_timedwait(&state->wake, &state->lock, &deadline) != ETIMEDOUT) {}
        if (state->stopping) break;
        pthread_mutex_unlock(&state->lock);
        write_dump(state, DUMP_AT_INTERVAL);
        pthread_mutex_lock(&state->lock);
    }
    pthread_mutex_unlock(&state->lock);
    return NULL;
}

/* The thread takes no signal meant for the app. */
static bool start_thread(struct stats_json_state *state) {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    bool started = pthread_create(&state->thread, NULL, interval_main, state) == 0;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (started) pthread_setname_np(state->thread, THREAD_NAME); /* named before vkCreateDevice returns */
    state->thread_running = started;
    return started;
}

/* Safe to call twice and from two threads: one of them joins. */
static void stop_thread(struct stats_json_state *state) {
    pthread_mutex_lock(&state->lock);
    bool running = state->thread_running;
    state->thread_running = false;
    state->stopping = true;
    pthread_cond_broadcast(&state->wake);
    pthread_mutex_unlock(&state->lock);
    /* A forked child has no such thread to wait for. */
    if (running && getpid() == state->pid) pthread_join(state->thread, NULL);
}

/* ---- registration, and the dump at exit --------------------------------------------- */

static void write_all_at_exit(void) {
    if (getpid() != exit_handler_pid) return; /* a forked child: the parent writes its own */
    pthread_mutex_lock(&registered_lock);
    for (struct stats_json_state *s = registered; s != NULL; s = s->next) {
        stop_thread(s);
        write_dump(s, DUMP_AT_EXIT);
    }
    pthread_mutex_unlock(&registered_lock);
}

static void install_exit_handler(void) {
    exit_handler_pid = getpid();
    if (atexit(write_all_at_exit) != 0) exit_handler_pid = 0; /* no handler: never matches a pid */
}

/* How many devices have written `path` in this process, this one included. Lock held. */
static uint32_t count_path_locked(const char *path) {
    for (used_path *u = used_paths; u != NULL; u = u->next)
        if (strcmp(u->path, path) == 0) return ++u->devices;
    used_path *u = calloc(1, sizeof *u);
    char *copy = strdup(path);
    if (u == NULL || copy == NULL) {
        free(u);
        free(copy);
        return 1;
    }
    *u = (used_path){.path = copy, .devices = 1, .next = used_paths};
    used_paths = u;
    return 1;
}

/* dump.json for the first device, dump-2.json for the second: the number goes
 * before the extension of the file's own name, if it has one. */
static bool numbered_path(const char *path, uint32_t number, char *out, size_t size) {
    if (number <= 1) return (size_t)snprintf(out, size, "%s", path) < size;
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base) dot = path + strlen(path);
    int n = snprintf(out, size, "%.*s-%u%s", (int)(dot - path), path, number, dot);
    return n > 0 && (size_t)n < size;
}

void stats_json_device_created(suballoc_device *device) {
    const suballoc_settings *settings = device->settings;
    if (settings->stats_json_file[0] == '\0') return;
    struct stats_json_state *state = calloc(1, sizeof *state);
    if (state == NULL) {
        LOG_ERROR(device, "stats_json_file: out of host memory; this device writes no dump");
        return;
    }
    state->device = device;
    state->interval = settings->stats_interval;
    state->pid = getpid();
    device->instance->next.GetPhysicalDeviceProperties(device->physical_device, &state->properties);
    pthread_mutex_init(&state->lock, NULL);
    pthread_condattr_t attributes; /* the interval is a duration: immune to clock changes */
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&state->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_once(&exit_handler_once, install_exit_handler);

    pthread_mutex_lock(&registered_lock);
    state->number = count_path_locked(settings->stats_json_file);
    bool named = numbered_path(settings->stats_json_file, state->number, state->path, sizeof state->path);
    if (named) {
        state->next = registered;
        registered = state;
    }
    pthread_mutex_unlock(&registered_lock);
    if (!named) {
        LOG_ERROR(device, "stats_json_file: '%s' with the device number %u is too long; this device writes no dump",
                  settings->stats_json_file, state->number);
        pthread_cond_destroy(&state->wake);
        pthread_mutex_destroy(&state->lock);
        free(state);
        return;
    }
    device->json = state;
    if (state->interval > 0 && !start_thread(state))
        LOG_ERROR(device, "stats_interval: cannot start the dump thread; the dump is written at the end only");
    LOG_INFO(device, "device \"%s\": JSON dump in %s%s", device->name, state->path,
             state->interval > 0 ? ", also every stats_interval seconds" : "");
}

void stats_json_device_destroying(suballoc_device *device) {
    struct stats_json_state *state = device->json;
    if (state == NULL) return;
    /* Out of the exit list first: a dump at exit running now finishes before this goes on. */
    pthread_mutex_lock(&registered_lock);
    for (struct stats_json_state **p = &registered; *p != NULL; p = &(*p)->next) {
        if (*p != state) continue;
        *p = state->next;
        break;
    }
    pthread_mutex_unlock(&registered_lock);
    stop_thread(state);
    write_dump(state, DUMP_AT_DESTROY);
    pthread_cond_destroy(&state->wake);
    pthread_mutex_destroy(&state->lock);
    device->json = NULL;
    free(state);
}
