/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer.h: the whole design of VK_LAYER_TRANSPARENT_suballoc in one header.
 *
 * An app calls vkAllocateMemory once per resource. The layer answers a "plain"
 * allocation with a slice of a large driver allocation (a block) and gives the
 * app a handle of its own: the address of a memory record. Everything else
 * (dedicated, exported, imported, lazily allocated, huge, or carrying any pNext
 * structure the layer does not know) goes to the driver unchanged, and the app
 * gets the driver's own handle.
 *
 *   device ──< memory type ──< pool (type, allocate flags, device mask, priority)
 *                                 └──< block: one driver VkDeviceMemory, carved by an
 *                                       offset_allocator, mapped once when first needed
 *                                          └──< memory record = the app's VkDeviceMemory
 *
 * Telling the two kinds of handle apart is O(1), inline and lock-free: every
 * record lives in the address range reserved by the process-wide record pool
 * (memory_record_of), and a handle carries a 6-bit generation in its low bits
 * so a stale handle (double free) is caught even after its record is reused.
 *
 * Every entry point that carries a VkDeviceMemory translates a layer handle to
 * (block memory, block offset + app offset) before it reaches the driver. A
 * bind is checked against the requirements the calling thread last asked for
 * that resource (requirements_cache.h), or, for the resource queried just
 * before the allocation, was checked at the allocation; a map of a fixed
 * slice is a few loads: both have a quick inline path and a full one that
 * asks, moves and logs.
 *
 * Locking: a pool's mutex covers its blocks, their offset allocators, its live
 * lists and its counters. Nothing else on the allocation path locks: the device
 * is found by a thread-local compare (else a scan of an atomic table), pools
 * are published append-only, and records come from per-thread caches.
 */
#ifndef SUBALLOC_LAYER_H
#define SUBALLOC_LAYER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include "branch_hints.h"
#include "cache_lines.h"
#include "functions.h"
#include "offset_allocator.h"
#include "pool_lock.h"
#include "settings.h"
#include "vk_ext_structs.h"

/* ---- small helpers ------------------------------------------------------------- */

static inline uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) & ~(alignment - 1);
}
static inline uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
/* For a power-of-two alignment: a mask, where % would cost a division on the hot path. */
static inline bool is_aligned(uint64_t value, uint64_t alignment) { return (value & (alignment - 1)) == 0; }
static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
/* Alignments are powers of two, but drivers may report 0 for "anything goes". */
static inline uint64_t pow2_at_least(uint64_t value) {
    if (value <= 1) return 1;
    return 1ull << (64 - __builtin_clzll(value - 1));
}

#define SUBALLOC_EXPORT __attribute__((visibility("default")))

/* ---- dispatch: the next layer's functions, fetched once ------------------------- */

/* A member per function of functions.h that the layer calls down the chain. */
#define DISPATCH_MEMBER(name) PFN_vk##name name;

typedef struct instance_dispatch {
    PFN_vkGetInstanceProcAddr GetInstanceProcAddr;
    INSTANCE_OWN_FUNCTIONS(DISPATCH_MEMBER)
    INSTANCE_FUNCTIONS(DISPATCH_MEMBER)
    INSTANCE_CALLED(DISPATCH_MEMBER)
} instance_dispatch;

typedef struct device_dispatch {
    DEVICE_COUNTED(DISPATCH_MEMBER)
    DEVICE_FUNCTIONS(DISPATCH_MEMBER)
    DEVICE_VIA_INSTANCE(DISPATCH_MEMBER)
    DEVICE_CALLED(DISPATCH_MEMBER)
} device_dispatch;

/* ---- instance ------------------------------------------------------------------ */

/* A debug-utils messenger the app made: the layer's messages go to it. */
typedef struct app_messenger {
    VkDebugUtilsMessengerEXT handle;
    VkDebugUtilsMessengerCreateInfoEXT info;
    struct app_messenger *next;
} app_messenger;

typedef struct suballoc_instance {
    VkInstance handle;
    void *dispatch_key;
    instance_dispatch next;
    uint32_t api_version; /* what the app asked for */
    suballoc_settings settings;
    pthread_mutex_t messengers_lock;
    app_messenger *messengers;
    /* Messengers chained into VkInstanceCreateInfo: used only while the
     * instance is being created, as the spec says. */
    const VkInstanceCreateInfo *creating_info;
} suballoc_instance;

/* ---- device, pools, blocks, records --------------------------------------------- */

typedef struct suballoc_device suballoc_device;
typedef struct suballoc_pool suballoc_pool;
typedef struct suballoc_block suballoc_block;

/* Everything that makes two allocations unable to share a driver allocation.
 * Only what really cannot share splits a pool: a priority is a hint, so it has
 * two classes; the device-address flag splits nothing once the device has the
 * feature (every block then has the flag). */
typedef struct pool_key {
    uint32_t memory_type;
    VkMemoryAllocateFlags flags; /* DEVICE_MASK, and DEVICE_ADDRESS without the feature */
    uint32_t device_mask;        /* 0 unless flags has DEVICE_MASK */
    float priority;              /* 0.5 for priorities up to the default, 1.0 above it */
    uint32_t shard;              /* which of the key's pools: threads that collide spread out (pools.c) */
} pool_key;

/* The app's VkDeviceMemory for a sub-allocation. Records are 64-byte aligned
 * slots of the record pool; the pool owns the first 8 bytes while a record is
 * free, so the fields a stale-handle check reads come after them. */
typedef struct suballoc_memory {
    void *reserved_for_record_pool;
    uint8_t generation; /* bumped on free; low 6 bits are in the handle */
    bool live;
    bool mapped;           /* the app has it mapped (the block stays mapped regardless) */
    bool has_private_data; /* private data was set on its handle */
    /* SLICE_* (whether the slice may still move, pools.c) in the low bits, and
     * MEMORY_BOUND_* bits (what the app bound to it, for the JSON dump) above:
     * one byte, so that a first bind fixes the slice and notes the kind in one
     * compare-and-swap. */
    _Atomic uint8_t placement;
    uint32_t memory_type;
    offset_allocation_id allocation; /* (guarded by pool, as below) */
    suballoc_pool *pool;             /* set at allocation, never changes: the lock that guards the fields below */
    suballoc_block *block;           /* block, allocation and offset change only while the slice moves (pool locked) */
    uint64_t offset;                 /* byte offset of the app's bytes inside the block */
    uint64_t size;                   /* the app's allocationSize */
    uint32_t margin_front;           /* debug_margin guard bytes just before offset, and just after offset + reserved */
    uint32_t margin_back;
    /* Everything a bind, map or unmap reads lies above, in the record's first cache line. */
    uint64_t reserved; /* bytes the slice occupies (size rounded to granules) */
    struct suballoc_memory *prev_in_block, *next_in_block;
    char *debug_name; /* from vkSetDebugUtilsObjectNameEXT, for leak reports; set under the pool lock */
    /* The resource the app most likely binds here first: the calling thread's
     * last requirements query before the allocation, when it fits the slice
     * as placed (memory type, size, alignment); else 0. memory_bind.c's
     * quickest path binds it without looking anything up. */
    uint64_t expected_resource;
    const _Atomic uint32_t *expected_destroys_of; /* its handle's destroy count (requirements_cache.h) */
    uint32_t expected_destroys;                   /* ... as it was at the query */
    uint8_t expected_type;                        /* VK_OBJECT_TYPE_BUFFER or _IMAGE */
} suballoc_memory;

/* A slice may move until the app first binds or maps it; then it is fixed for
 * good. A mover holds the pool lock and claims the slice (MOVABLE -> MOVING)
 * before it changes block, allocation or offset. */
#define SLICE_MOVABLE 0u
#define SLICE_MOVING 1u
#define SLICE_FIXED 2u
#define SLICE_STATE_MASK 3u

/* What the app bound to a fixed slice (suballoc_memory.placement's high bits). */
#define MEMORY_BOUND_BUFFER 4u
#define MEMORY_BOUND_IMAGE 8u
#define MEMORY_BOUND_OTHER 16u /* video sessions, acceleration structures */
#define MEMORY_BOUND_MASK (MEMORY_BOUND_BUFFER | MEMORY_BOUND_IMAGE | MEMORY_BOUND_OTHER)

struct suballoc_block {
    VkDeviceMemory memory; /* the driver's */
    uint64_t size;
    offset_allocator *allocator;
    _Atomic(uint8_t *) mapped_base; /* one persistent driver mapping, made on first need */
    uint32_t live_count;
    suballoc_pool *pool;
    suballoc_block *prev, *next;
    suballoc_memory *live; /* the app allocations carved from it */
};

/* Counters kept under the pool lock, summed when statistics are written. */
typedef struct pool_counters {
    uint64_t allocations; /* served from this pool, ever */
    uint64_t live;
    uint64_t live_peak;
    uint64_t requested_bytes; /* app bytes live */
    uint64_t requested_bytes_peak;
} pool_counters;

struct suballoc_pool {
    /* Set before the pool is published and never written after: every
     * allocation's pool lookup walks the type's list past other threads'
     * shards and reads these, so they have a cache line of their own. Beside
     * the lock, each read missed as often as the shard's owner wrote it: two
     * threads ran no faster than one in about one layer_bench run in three. */
    pool_key key;
    suballoc_device *device;
    uint64_t unit;   /* offset allocator unit: the end granule of every slice */
    uint64_t margin; /* debug_margin guard bytes on each side of a slice (host-visible types); 0 = none */
    _Atomic(suballoc_pool *) next_in_type; /* published append-only */
    /* What the pool's users write, from here on. */
    _Alignas(CACHE_LINE_BYTES) pool_lock lock;
    uint64_t block_bytes;    /* the size of its blocks together: the next block is an eighth of it */
    uint64_t block_size_cap; /* the preferred size, lower while the heap refuses blocks */
    suballoc_block *blocks;  /* most recently useful first */
    uint32_t block_count;
    uint32_t empty_blocks;
    pool_counters counters;
};

typedef struct memory_type_info {
    VkMemoryPropertyFlags flags;
    uint32_t heap;
    bool suballocatable; /* not lazily allocated, not protected */
    uint64_t preferred_block_size;
    uint64_t base_alignment; /* map alignment and min_alignment: every slice starts on it */
    uint64_t dedicated_threshold;
    /* Largest alignment any resource that may live in this type needs: probed at
     * vkCreateDevice, raised by every larger one the driver reports later. It caps
     * a slice's natural alignment (placement.c). */
    _Atomic uint64_t max_alignment;
    _Atomic(suballoc_pool *) pools; /* the first is the default pool once made */
} memory_type_info;

/* A driver allocation the app holds directly (pass-through), so that frees of
 * foreign or stale handles can be refused, leaks released at the end, and the
 * JSON dump can list it. */
typedef struct passthrough_entry {
    uint64_t size;
    uint32_t memory_type;
    char *name; /* the app's debug name, if it gave one */
} passthrough_entry;

typedef struct passthrough_set {
    pthread_mutex_t lock;
    VkDeviceMemory *slots; /* open addressing; VK_NULL_HANDLE = empty, 1 = deleted */
    passthrough_entry *entries;
    uint32_t capacity, count, tombstones;
} passthrough_set;

typedef struct device_counters {
    _Atomic uint64_t passthrough; /* app allocations given to the driver */
    _Atomic uint64_t passthrough_live;
    _Atomic uint64_t passthrough_live_peak;
    _Atomic uint64_t passthrough_bytes; /* live */
    _Atomic uint64_t passthrough_bytes_peak;
    _Atomic uint64_t driver_allocations; /* vkAllocateMemory calls that succeeded */
    _Atomic uint64_t driver_live;
    _Atomic uint64_t driver_live_peak;
    _Atomic uint64_t driver_bytes; /* live, blocks and pass-through alike */
    _Atomic uint64_t driver_bytes_peak;
    _Atomic uint64_t blocks_live;
    _Atomic uint64_t blocks_peak;
    _Atomic uint64_t block_bytes; /* live */
    _Atomic uint64_t block_bytes_peak;
} device_counters;

/* Features the app enabled that change what the layer may do. */
typedef struct device_features {
    bool sparse_binding;
    bool sparse_residency_buffer;
    bool sparse_residency_image_2d;
    bool buffer_device_address;
} device_features;

struct suballoc_device {
    VkDevice handle;
    uint32_t serial; /* 1, 2, ... in creation order, never reused (a device's address may be) */
    void *dispatch_key;
    VkPhysicalDevice physical_device;
    suballoc_instance *instance;
    device_dispatch next;
    const suballoc_settings *settings; /* the instance's */
    bool suballocate;                  /* settings mode, decided once */
    bool track_passthrough;            /* keep pass-through memory in the set (always when sub-allocating) */
    bool has_memory_budget;
    device_features features;
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];

    VkPhysicalDeviceMemoryProperties memory;
    memory_type_info types[VK_MAX_MEMORY_TYPES];
    uint64_t buffer_image_granularity;
    uint64_t non_coherent_atom_size;
    uint64_t min_memory_map_alignment;
    uint32_t driver_allocation_limit; /* the real maxMemoryAllocationCount */

    pthread_mutex_t pools_lock; /* creating pools only */
    passthrough_set passthrough;
    device_counters counters;

    pthread_mutex_t private_data_lock; /* private data set on layer handles */
    struct private_data_entry *private_data;

    struct stats_json_state *json; /* NULL unless stats_json_file is set (stats_json.c) */
};

/* ---- registries (registry.c) ------------------------------------------------------ */

static inline void *dispatch_key_of(const void *dispatchable) { return *(void *const *)dispatchable; }

/* Lock-free lookups; NULL for a handle the layer never saw. */
suballoc_instance *instance_from_key(void *key);
/* The calling thread's last device lookup, valid while the registry's epoch
 * (bumped by every create and destroy) is the one it was made in. */
typedef struct remembered_device {
    const void *key;
    suballoc_device *device;
    uint64_t epoch; /* 0: none yet */
} remembered_device;
extern __thread remembered_device last_device_lookup __attribute__((tls_model("initial-exec")));
extern _Atomic uint64_t device_registry_epoch;
/* The registry's answer, remembered for the next call. */
suballoc_device *device_lookup(void *key);
/* Inline: a thread keeps calling into the same device, so every call starts
 * with one thread-local compare. */
static inline suballoc_device *device_from_key(void *key) {
    if (likely(last_device_lookup.key == key &&
               last_device_lookup.epoch == atomic_load_explicit(&device_registry_epoch, memory_order_acquire)))
        return last_device_lookup.device;
    return device_lookup(key);
}
#define DEVICE_OF(handle) device_from_key(dispatch_key_of(handle))

/* Create calls reserve a slot before calling down the chain, so that adding the
 * object the next layer made cannot fail; a failed create cancels its reservation. */
bool registry_reserve_instance(void);
void registry_cancel_instance(void);
void registry_add_instance(suballoc_instance *instance);
void registry_remove_instance(suballoc_instance *instance);
bool registry_reserve_device(void);
void registry_cancel_device(void);
void registry_add_device(suballoc_device *device);
void registry_remove_device(suballoc_device *device);

/* ---- records and handles (memory_handles.c) ------------------------------------------ */

/* A layer handle is a record's address with a generation in the low bits. */
#define MEMORY_HANDLE_GENERATION_MASK 63u
#define MEMORY_RECORD_BYTES 128u /* a power of two: "is this a record" is a mask */

/* Where memory records lie (record_pool_class_span): every value in
 * base .. base + bytes is a layer handle, live or stale, and never a driver's.
 * All zero when the records could not be reserved. Set once, before any handle. */
typedef struct memory_record_range {
    uintptr_t base;
    size_t bytes;
    const _Atomic size_t *carved_bytes;
} memory_record_range;
extern memory_record_range memory_records;

bool memory_records_init(void);
suballoc_memory *memory_record_alloc(void);
void memory_record_free(suballoc_memory *record);
static inline VkDeviceMemory memory_handle_of(const suballoc_memory *record) {
    return (VkDeviceMemory)((uint64_t)(uintptr_t)record | (record->generation & MEMORY_HANDLE_GENERATION_MASK));
}
/* The record behind a layer handle; NULL for a driver handle. *stale is set when
 * the value is a layer handle that is not live (freed, double free) or is not
 * a record's start (forged, or an offset into one): not safe to read as a record.
 * Inline: every call on memory starts here. */
static inline suballoc_memory *memory_record_of(VkDeviceMemory memory, bool *stale) {
    uint64_t value = (uint64_t)memory;
    uint64_t offset = (value & ~(uint64_t)MEMORY_HANDLE_GENERATION_MASK) - memory_records.base;
    *stale = false;
    if (offset >= memory_records.bytes) return NULL;
    if (unlikely((offset & (MEMORY_RECORD_BYTES - 1)) != 0 ||
                 offset >= atomic_load_explicit(memory_records.carved_bytes, memory_order_relaxed))) {
        *stale = true;
        return NULL;
    }
    suballoc_memory *record = (suballoc_memory *)(uintptr_t)(value & ~(uint64_t)MEMORY_HANDLE_GENERATION_MASK);
    if (unlikely(!record->live ||
                 (record->generation & MEMORY_HANDLE_GENERATION_MASK) != (value & MEMORY_HANDLE_GENERATION_MASK))) {
        *stale = true;
        return NULL;
    }
    return record;
}

/* Whether a resource of size bytes, alignment (a power of two) and memory
 * types type_bits may be bound into record at offset. Inline: every bind into
 * a layer handle asks, and so does an allocation made right after a query. */
static inline bool resource_fits(const suballoc_memory *record, uint64_t offset, uint64_t size, uint64_t alignment,
                                 uint32_t type_bits) {
    return (type_bits >> record->memory_type & 1u) && is_aligned(offset, alignment) && offset <= record->size &&
           size <= record->size - offset;
}

/* ---- translation (translate.c): entry points ask here, and only here ------------------- */

/* Whether memory is a layer handle, live or stale. */
bool is_layer_memory(VkDeviceMemory memory);
/* Logs why memory cannot be used in a call on device (stale, or another device's). */
void report_unusable_memory(suballoc_device *device, const char *caller, VkDeviceMemory memory, bool stale);
/* The record behind a layer handle for a call on device: a stale handle, or one of
 * another device, is logged (naming caller) and sets *invalid. NULL for a driver handle.
 * Inline: every call on memory starts here, and the valid case is a few loads. */
static inline suballoc_memory *layer_memory_of(suballoc_device *device, const char *caller, VkDeviceMemory memory,
                                               bool *invalid) {
    suballoc_memory *record = memory_record_of(memory, invalid);
    if (likely(!*invalid && (record == NULL || record->pool->device == device))) return record;
    report_unusable_memory(device, caller, memory, *invalid);
    *invalid = true;
    return NULL;
}
/* Where a layer handle's bytes really are: (block memory, slice offset + offset),
 * pinning the slice (aligned as asked, a power of two) first. Driver handles come back as they are. */
VkResult memory_translate(suballoc_device *device, const char *caller, VkDeviceMemory memory, VkDeviceSize offset,
                          uint64_t alignment, VkDeviceMemory *out_memory, VkDeviceSize *out_offset);
/* Whether any of count structs (stride bytes apart, memory member at member_offset)
 * names a layer handle, live or stale: the fast path passes the array on untouched. */
bool any_layer_memory(const void *items, uint32_t count, size_t stride, size_t member_offset);

/* ---- pass-through allocations (passthrough_set.c) ------------------------------------ */

bool passthrough_set_init(passthrough_set *set);
void passthrough_set_destroy(passthrough_set *set);
bool passthrough_set_insert(passthrough_set *set, VkDeviceMemory memory, uint64_t size, uint32_t memory_type);
bool passthrough_set_remove(passthrough_set *set, VkDeviceMemory memory, uint64_t *size);
/* Keeps the app's debug name of a member (a copy; NULL or "" clears it); false
 * when memory is not a member. */
bool passthrough_set_name(passthrough_set *set, VkDeviceMemory memory, const char *name);
/* Calls fn for each member and empties the set. */
void passthrough_set_drain(passthrough_set *set, void (*fn)(void *user, VkDeviceMemory memory, uint64_t size),
                           void *user);
/* Calls fn for each member, the set locked; fn must not call into the set. */
void passthrough_set_visit(passthrough_set *set,
                           void (*fn)(void *user, VkDeviceMemory memory, const passthrough_entry *entry), void *user);

/* ---- guard margins (guard_margins.c) ----------------------------------------------- */

/* With the debug_margin setting, guard bytes lie before and after every slice of
 * a host-visible pool. Fill writes their pattern (after a slice is carved or
 * moved); check compares it, reports damage as an error naming the allocation
 * and the side, and writes the pattern again. Both do nothing without margins. */
void margins_fill(suballoc_memory *record);
void margins_check_guarded(suballoc_memory *record, const char *when);
/* Inline, so that unmap and free pay one test when margins are off. */
static inline void margins_check(suballoc_memory *record, const char *when) {
    if (record->margin_front != 0 || record->margin_back != 0) margins_check_guarded(record, when);
}

/* ---- invariants (pool_validate.c) ------------------------------------------------ */

/* Whether a pool's bookkeeping holds; why says what broke. */
bool pool_validate(suballoc_pool *pool, char *why, size_t why_size);
/* Logs what broke and aborts: the sanitizer build's check after every free. */
void pool_check_or_abort(suballoc_pool *pool, const char *after);
#ifdef SUBALLOC_EXPENSIVE_CHECKS
#define EXPENSIVE_CHECK_POOL(pool, after) pool_check_or_abort((pool), (after))
#else
#define EXPENSIVE_CHECK_POOL(pool, after) ((void)0)
#endif

/* ---- pools and blocks (pools.c) ------------------------------------------------- */

void device_init_memory_types(suballoc_device *device);
/* Carves a slice for record (size/alignment in bytes) from the calling thread's
 * pool of key (key->shard is ignored). VK_SUCCESS, or the error of the last
 * driver call when no block could be had. */
VkResult pool_allocate(suballoc_device *device, const pool_key *key, suballoc_memory *record, uint64_t size,
                       uint64_t alignment);
void pool_free(suballoc_memory *record);
/* slice_fix_placement's own half: the slice may have to move, or another
 * thread is moving it (takes the pool lock). */
VkResult slice_fix_placement_slow(suballoc_memory *record, uint64_t alignment, uint8_t bound);
/* Pins a slice where it is for a use that needs alignment (a power of two),
 * first moving it if nobody has bound or mapped it yet, and notes the
 * MEMORY_BOUND_* kinds in bound (0 for a map).
 * VK_ERROR_OUT_OF_DEVICE_MEMORY when it is pinned already and misaligned for
 * the new use. Inline: placement already used the alignment the app queried,
 * so a first bind or map is usually one compare-and-swap (no lock), and every
 * later one a load. The offset read before a successful swap is the slice's
 * current one: a mover claims the slice (MOVABLE -> MOVING) before it changes
 * it, and a moved slice never becomes movable again. */
static inline VkResult slice_fix_placement(suballoc_memory *record, uint64_t alignment, uint8_t bound) {
    uint8_t state = atomic_load_explicit(&record->placement, memory_order_acquire);
    if (likely((state & SLICE_STATE_MASK) == SLICE_FIXED)) {
        if (!is_aligned(record->offset, alignment)) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
        if ((state & bound) != bound) atomic_fetch_or_explicit(&record->placement, bound, memory_order_relaxed);
        return VK_SUCCESS;
    }
    if (state == SLICE_MOVABLE && is_aligned(__atomic_load_n(&record->offset, __ATOMIC_RELAXED), alignment) &&
        atomic_compare_exchange_strong_explicit(&record->placement, &state, (uint8_t)(SLICE_FIXED | bound),
                                                memory_order_acq_rel, memory_order_acquire))
        return VK_SUCCESS;
    return slice_fix_placement_slow(record, alignment, bound);
}

/* Logs why a slice cannot serve a use that needs alignment (translate.c). */
__attribute__((cold, noinline)) void report_unmovable(suballoc_device *device, const char *caller,
                                                      const suballoc_memory *record, uint64_t alignment);
/* memory_translate for a record already looked up, noting the MEMORY_BOUND_*
 * kinds in bound. Inline: every bind and map of a layer handle ends here. */
static inline VkResult slice_translate(suballoc_device *device, const char *caller, suballoc_memory *record,
                                       VkDeviceSize offset, uint64_t alignment, uint8_t bound,
                                       VkDeviceMemory *out_memory, VkDeviceSize *out_offset) {
    VkResult result = slice_fix_placement(record, alignment, bound);
    if (unlikely(result != VK_SUCCESS)) {
        report_unmovable(device, caller, record, alignment);
        return result;
    }
    *out_memory = record->block->memory;
    *out_offset = record->offset + offset;
    return VK_SUCCESS;
}
/* The block's persistent mapping, made on first use. */
VkResult block_map(suballoc_block *block, uint8_t **base);
/* Returns every block and every leaked record of the device. */
uint64_t device_release_pools(suballoc_device *device);
/* Driver allocation bookkeeping shared by blocks and pass-through. */
VkResult driver_allocate(suballoc_device *device, const VkMemoryAllocateInfo *info, VkDeviceMemory *memory);
void driver_free(suballoc_device *device, VkDeviceMemory memory, uint64_t size);

/* ---- placement rules (placement.c) ------------------------------------------------ */

/* Learns, with short-lived probe resources, the largest alignment any resource may
 * need in each memory type of a new device. */
void placement_probe_alignments(suballoc_device *device);
/* The start alignment a new slice of this type and size gets. */
uint64_t slice_alignment(const suballoc_device *device, uint32_t memory_type, uint64_t size);
/* Records requirements the driver reported for resources that may use these types. */
void note_requirements(suballoc_device *device, const VkMemoryRequirements *requirements);

/* ---- statistics (stats.c) ------------------------------------------------------- */

void stats_raise_peak(_Atomic uint64_t *peak, uint64_t value);
/* Sub-allocations the app holds on the device now, summed over its pools. */
uint64_t stats_live_suballocations(const suballoc_device *device);
void stats_write(const suballoc_device *device, uint64_t leaked_allocations);
/* Whether the device's statistics go anywhere (a file, a dump, or the log at
 * info): pass-through mode then keeps its allocations in the set to count bytes. */
bool stats_wanted(const suballoc_settings *settings);

/* ---- the JSON dump (stats_json.c) ------------------------------------------------ */

/* A new device with stats_json_file set: registered for the dump at exit, and
 * given its interval thread when stats_interval is set. */
void stats_json_device_created(suballoc_device *device);
/* vkDestroyDevice, before leaked allocations are released: stops the thread and
 * writes the device's last dump. */
void stats_json_device_destroying(suballoc_device *device);

/* ---- object information (object_info.c) ----------------------------------------- */

void private_data_release_object(suballoc_device *device, uint64_t object);
void private_data_release_all(suballoc_device *device);

/* ---- the layer's entry points ------------------------------------------------------ */

/* One declaration per function of functions.h the layer answers with its own,
 * typed by the Vulkan header's PFN so a definition that strays from the API does
 * not compile. They live in: instance.c (instance level), device.c (create and
 * destroy), memory_allocate.c (allocate, free, requirements), memory_map.c,
 * memory_bind.c, object_info.c (names, tags, private data and the rest). */
#define DECLARE_LAYER_FUNCTION(name) extern __typeof__(*(PFN_vk##name)0) layer_##name;
LOADER_FUNCTIONS(DECLARE_LAYER_FUNCTION)
INSTANCE_OWN_FUNCTIONS(DECLARE_LAYER_FUNCTION)
INSTANCE_FUNCTIONS(DECLARE_LAYER_FUNCTION)
DEVICE_COUNTED(DECLARE_LAYER_FUNCTION)
DEVICE_FUNCTIONS(DECLARE_LAYER_FUNCTION)
DEVICE_VIA_INSTANCE(DECLARE_LAYER_FUNCTION)

#endif
