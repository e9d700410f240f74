/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record_pool: fixed-size records for the layer's own bookkeeping, with a
 * per-thread cache per size class.
 *
 * Fast path: a thread pops from / pushes to its own cache, no lock, no atomics
 * beyond what thread-local storage costs. Slow path: an empty cache refills a
 * batch from the central free list of its class under a short lock; a cache
 * above its limit drains a batch back. A thread that exits hands its cache
 * back. A record may be freed on any thread.
 *
 * Records are carved from one range of address space the pool reserves up front
 * (and commits as it grows), so "is this 64-bit value one of my records?" is a
 * subtraction and a compare: no lock, no table. The Vulkan layer uses that to
 * tell its own VkDeviceMemory handles from the driver's.
 *
 * Every record is aligned to RECORD_POOL_RECORD_ALIGNMENT bytes, so callers may
 * keep a few tag bits in the low bits of a record's address.
 *
 * While a record is free the pool uses its first 8 bytes (a list link) and
 * nothing else: the rest keeps what its last user wrote, and the memory stays
 * readable until the pool is destroyed (the layer reads a freed record's
 * generation to catch stale handles).
 */
#ifndef SUBALLOC_RECORD_POOL_H
#define SUBALLOC_RECORD_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_POOL_RECORD_ALIGNMENT 64u
#define RECORD_POOL_MAX_CLASSES 8u

typedef struct record_pool record_pool; /* defined in record_pool.c */

typedef struct record_pool_config {
    /* Record sizes, ascending; each is rounded up to RECORD_POOL_RECORD_ALIGNMENT. */
    size_t class_sizes[RECORD_POOL_MAX_CLASSES];
    unsigned class_count;
    /* Address space reserved per class; 0 picks a default (large: it is only reserved). */
    size_t reserve_bytes_per_class;
    /* Per-thread cache tuning; 0 picks defaults. */
    unsigned batch_size;  /* records moved per refill / drain */
    unsigned cache_limit; /* a cache above this drains a batch */
} record_pool_config;

/* NULL on bad configuration or when the address space cannot be reserved.
 * Up to 32 pools alive at once get per-thread caches; pools beyond that still
 * work, through one locked cache each. */
record_pool *record_pool_create(const record_pool_config *config);
/* Releases every record at once; callers must not use any of them afterwards,
 * on any thread. Thread caches that still name this pool are dropped lazily. */
void record_pool_destroy(record_pool *pool);

/* Smallest class whose records hold size bytes, or -1 if none does. */
int record_pool_class_for_size(const record_pool *pool, size_t size);

/* A record of the class, or NULL when memory runs out (nothing else changes).
 * The contents of a fresh record are unspecified. */
void *record_pool_alloc(record_pool *pool, int size_class);

/* Returns a record; its class is found from its address. Anything that is not
 * the start of a record this pool handed out is refused (false, nothing
 * changes); NULL is accepted and ignored. A record freed twice is not caught
 * here: callers tag their records. */
bool record_pool_free(record_pool *pool, void *record);

/* O(1), lock-free: whether value lies inside the pool's reserved range. It says
 * nothing about whether the record is currently live. */
bool record_pool_owns(const record_pool *pool, uint64_t value);

/* O(1), lock-free: whether value is the address of a record this pool has
 * handed out at least once (live or freed since). Such memory stays readable
 * until the pool is destroyed, so a caller may look inside to check a tag;
 * any other value, even inside the reserved range, may be unmapped. */
bool record_pool_is_record(const record_pool *pool, uint64_t value);

/* Where one class's records lie, for a caller's own inline "is this a record"
 * test on a hot path: record_pool_is_record(value) for a value of the class's
 * range is exactly "value - base is a multiple of record_size below
 * *carved_bytes" (an acquire-free relaxed read is enough: a record is carved
 * before its address is handed out). Valid while the pool lives. */
typedef struct record_pool_span {
    uintptr_t base;
    size_t bytes; /* the class's reserved range: base .. base + bytes */
    size_t record_size;
    const _Atomic size_t *carved_bytes;
} record_pool_span;

/* false (and *out zeroed) for a NULL pool or a class it does not have. */
bool record_pool_class_span(const record_pool *pool, int size_class, record_pool_span *out);

/* Hands this thread's cached records back to the central lists now (threads do
 * this on exit by themselves), and the pool's shared cache, which serves
 * threads without a cache of their own. */
void record_pool_flush_thread_cache(record_pool *pool);

typedef struct record_pool_stats {
    /* Records out of the central lists: in use, or parked in a thread's cache.
     * Exact once the threads that used the pool have flushed or exited. */
    uint64_t live_records[RECORD_POOL_MAX_CLASSES];
    uint64_t committed_bytes;
    uint64_t reserved_bytes;
} record_pool_stats;

void record_pool_get_stats(const record_pool *pool, record_pool_stats *out);

#endif
