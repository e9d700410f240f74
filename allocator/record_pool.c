/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record_pool: fixed-size records from reserved address space, served through
 * per-thread caches.
 *
 * Layout. One PROT_NONE mapping is reserved per pool and cut into one
 * power-of-two sub-range per class, so ownership is one subtract and one
 * compare, and a record's class is its offset shifted right. Each class
 * commits its sub-range from the front (mprotect) as it grows and carves
 * records off a bump pointer. Memory is never decommitted while the pool
 * lives: the layer reads fields of freed records to catch stale handles.
 *
 * Free records are linked through their first 8 bytes, and only those: the
 * rest of a freed record keeps what its last user wrote.
 *
 * Thread caches. Each thread has a table of pool caches indexed by the pool's
 * slot (a live pool owns one of CACHED_POOL_SLOTS slots); a pool cache holds a
 * short LIFO list per class and the id of the pool it was filled from. Pool
 * ids are never reused, so a cache still holding records of a destroyed pool
 * is recognised by its id and dropped without touching them. The fast path is
 * a thread-local load, an id compare and a list push or pop.
 *
 * Central lists. A class keeps full batches (exactly `batch` linked records,
 * their heads in an array) and one loose list for the odd-sized leftovers of
 * exiting threads. A refill pops one batch, a drain pushes one: O(1) under
 * the class lock. The batch array is sized when records are carved, so a
 * drain never allocates.
 *
 * Pools without a slot (more than CACHED_POOL_SLOTS alive), and threads past
 * their exit destructor, use one cache per pool under a mutex instead.
 */
#include "record_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "branch_hints.h"
#include "cache_lines.h"

#define CACHED_POOL_SLOTS 32u
#define DEFAULT_RESERVE_PER_CLASS ((size_t)1 << 30)
#define DEFAULT_BATCH 32u
#define DEFAULT_CACHE_LIMIT 64u
#define MIN_COMMIT_BYTES ((size_t)64 << 10)

typedef struct class_cache {
    void *head;
    uint32_t count;
} class_cache;

typedef struct pool_cache {
    uint64_t pool_id; /* 0: bound to no pool */
    class_cache classes[RECORD_POOL_MAX_CLASSES];
} pool_cache;

typedef struct thread_cache {
    pool_cache pools[CACHED_POOL_SLOTS];
} thread_cache;

typedef struct record_class {
    _Alignas(64) pthread_mutex_t lock;
    char *base;
    size_t record_size;
    /* record_size = odd << size_shift; "offset is a multiple of record_size" is
     * tested with the odd factor's inverse modulo 2^64 (no division). */
    uint32_t size_shift;
    uint64_t odd_inverse;
    uint64_t odd_limit;
    _Atomic size_t carved_bytes; /* written under lock; read by free's check */
    size_t committed_bytes;
    void **batches; /* heads of full batches */
    size_t batch_count;
    size_t batch_capacity;
    void *loose;
    size_t loose_count;
} record_class;

struct record_pool {
    uint64_t id;
    uint32_t slot;
    bool has_slot;
    unsigned class_count;
    unsigned batch;
    unsigned cache_limit;
    uintptr_t base;
    size_t reserved_bytes;
    size_t reserve_per_class;
    unsigned class_shift;
    pthread_mutex_t shared_lock;
    pool_cache shared_cache;
    record_class classes[RECORD_POOL_MAX_CLASSES];
};

/* ---- process-wide state -------------------------------------------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static record_pool *registry[CACHED_POOL_SLOTS];
static _Atomic uint64_t next_pool_id = 1;

static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static bool cache_key_ready;

/* Initial-exec: one pointer of static TLS keeps the fast path free of
 * __tls_get_addr when this code lives in a shared library. */
static __thread thread_cache *tls_cache __attribute__((tls_model("initial-exec")));

/* Where a thread's cache pointer points after its exit destructor ran: its ids
 * are all 0, so every lookup misses and takes the shared path. */
static thread_cache exited_cache;

/* ---- thread caches ------------------------------------------------------------- */

static void *cache_pop(class_cache *cc) {
    void *record = cc->head;
    cc->head = *(void **)record;
    cc->count--;
    return record;
}

static void cache_push(class_cache *cc, void *record) {
    *(void **)record = cc->head;
    cc->head = record;
    cc->count++;
}

/* Hands a whole list back to the class's loose list. */
static void cache_return_all(record_pool *pool, unsigned cls, class_cache *cc) {
    if (!cc->head) return;
    void *tail = cc->head;
    while (*(void **)tail) tail = *(void **)tail;
    record_class *c = &pool->classes[cls];
    pthread_mutex_lock(&c->lock);
    *(void **)tail = c->loose;
    c->loose = cc->head;
    c->loose_count += cc->count;
    pthread_mutex_unlock(&c->lock);
    cc->head = NULL;
    cc->count = 0;
}

static void pool_cache_return_all(record_pool *pool, pool_cache *pc) {
    for (unsigned cls = 0; cls < pool->class_count; cls++) cache_return_all(pool, cls, &pc->classes[cls]);
}

static void thread_cache_exit(void *value) {
    thread_cache *tc = value;
    tls_cache = &exited_cache;
    pthread_mutex_lock(&registry_lock);
    for (unsigned slot = 0; slot < CACHED_POOL_SLOTS; slot++) {
        record_pool *pool = registry[slot];
        if (pool && tc->pools[slot].pool_id == pool->id) pool_cache_return_all(pool, &tc->pools[slot]);
    }
    pthread_mutex_unlock(&registry_lock);
    free(tc);
}

static void cache_key_create(void) { cache_key_ready = pthread_key_create(&cache_key, thread_cache_exit) == 0; }

static thread_cache *thread_cache_get(void) {
    thread_cache *tc = tls_cache;
    if (tc) return tc == &exited_cache ? NULL : tc;
    pthread_once(&cache_key_once, cache_key_create);
    if (!cache_key_ready) return NULL;
    tc = cache_lines_calloc(sizeof *tc);
    if (!tc) return NULL;
    if (pthread_setspecific(cache_key, tc) != 0) {
        free(tc);
        return NULL;
    }
    tls_cache = tc;
    return tc;
}

/* This thread's cache for the pool, bound to it; NULL means "use the shared one". */
static pool_cache *thread_pool_cache(record_pool *pool) {
    if (!pool->has_slot) return NULL;
    thread_cache *tc = thread_cache_get();
    if (!tc) return NULL;
    pool_cache *pc = &tc->pools[pool->slot];
    if (pc->pool_id != pool->id) {
        /* Whatever is cached here belongs to a destroyed pool: forget it. */
        memset(pc, 0, sizeof *pc);
        pc->pool_id = pool->id;
    }
    return pc;
}

/* ---- central lists ------------------------------------------------------------- */

static size_t page_round_up(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + page - 1) & ~(page - 1);
}

/* Commits at least up to `end`, in growing steps. Under the class lock. */
static bool class_commit(record_pool *pool, record_class *c, size_t end) {
    if (end <= c->committed_bytes) return true;
    size_t step = c->committed_bytes / 2 > MIN_COMMIT_BYTES ? c->committed_bytes / 2 : MIN_COMMIT_BYTES;
    size_t wanted = page_round_up(end > c->committed_bytes + step ? end : c->committed_bytes + step);
    if (wanted > pool->reserve_per_class) wanted = pool->reserve_per_class;
    size_t minimum = page_round_up(end);
    while (mprotect(c->base + c->committed_bytes, wanted - c->committed_bytes, PROT_READ | PROT_WRITE) != 0) {
        if (wanted == minimum) return false;
        wanted = minimum;
    }
    c->committed_bytes = wanted;
    return true;
}

/* Makes room in the batch array for every batch the carved records could form. */
static bool class_reserve_batches(record_pool *pool, record_class *c, size_t carved_records) {
    size_t needed = carved_records / pool->batch + 1;
    if (needed <= c->batch_capacity) return true;
    size_t capacity = c->batch_capacity ? c->batch_capacity : 16;
    while (capacity < needed) capacity *= 2;
    void **grown = realloc(c->batches, capacity * sizeof *grown);
    if (!grown) return false;
    c->batches = grown;
    c->batch_capacity = capacity;
    return true;
}

/* Takes up to `batch` never-used records off the bump pointer. Under the
 * class lock; nothing changes when it fails. */
static size_t class_carve(record_pool *pool, record_class *c, char **first) {
    size_t carved = atomic_load_explicit(&c->carved_bytes, memory_order_relaxed);
    size_t available = (pool->reserve_per_class - carved) / c->record_size;
    size_t count = available < pool->batch ? available : pool->batch;
    if (count == 0) return 0;
    size_t end = carved + count * c->record_size;
    if (!class_reserve_batches(pool, c, end / c->record_size)) return 0;
    if (!class_commit(pool, c, end)) return 0;
    atomic_store_explicit(&c->carved_bytes, end, memory_order_relaxed);
    *first = c->base + carved;
    return count;
}

static void link_fresh_records(char *first, size_t count, size_t record_size) {
    for (size_t i = 0; i + 1 < count; i++) *(void **)(first + i * record_size) = first + (i + 1) * record_size;
    *(void **)(first + (count - 1) * record_size) = NULL;
}

/* Cuts up to `limit` records off the loose list. Under the class lock. */
static void *class_take_loose(record_class *c, unsigned limit, uint32_t *count) {
    void *head = c->loose;
    void *last = head;
    uint32_t taken = 1;
    while (taken < limit && *(void **)last) {
        last = *(void **)last;
        taken++;
    }
    c->loose = *(void **)last;
    c->loose_count -= taken;
    *(void **)last = NULL;
    *count = taken;
    return head;
}

/* Fills an empty class cache: a full batch, else loose records, else fresh ones. */
static bool cache_refill(record_pool *pool, unsigned cls, class_cache *cc) {
    record_class *c = &pool->classes[cls];
    pthread_mutex_lock(&c->lock);
    if (c->batch_count) {
        cc->head = c->batches[--c->batch_count];
        cc->count = pool->batch;
        pthread_mutex_unlock(&c->lock);
        return true;
    }
    if (c->loose) {
        cc->head = class_take_loose(c, pool->batch, &cc->count);
        pthread_mutex_unlock(&c->lock);
        return true;
    }
    char *first = NULL;
    size_t count = class_carve(pool, c, &first);
    pthread_mutex_unlock(&c->lock);
    if (count == 0) return false;
    link_fresh_records(first, count, c->record_size);
    cc->head = first;
    cc->count = (uint32_t)count;
    return true;
}

/* Moves one full batch from an over-full cache to the central list. */
static void cache_drain(record_pool *pool, unsigned cls, class_cache *cc) {
    void *head = cc->head;
    void *last = head;
    for (unsigned i = 1; i < pool->batch; i++) last = *(void **)last;
    cc->head = *(void **)last;
    cc->count -= pool->batch;
    *(void **)last = NULL;
    record_class *c = &pool->classes[cls];
    pthread_mutex_lock(&c->lock);
    c->batches[c->batch_count++] = head;
    pthread_mutex_unlock(&c->lock);
}

/* ---- create / destroy ---------------------------------------------------------- */

static bool config_is_valid(const record_pool_config *config) {
    if (!config || config->class_count == 0 || config->class_count > RECORD_POOL_MAX_CLASSES) return false;
    for (unsigned i = 0; i < config->class_count; i++) {
        if (config->class_sizes[i] == 0 || config->class_sizes[i] > ((size_t)1 << 30)) return false;
        if (i > 0 && config->class_sizes[i] < config->class_sizes[i - 1]) return false;
    }
    return config->reserve_bytes_per_class <= ((size_t)1 << 40);
}

static unsigned log2_ceil(size_t value) {
    unsigned shift = 0;
    while (((size_t)1 << shift) < value) shift++;
    return shift;
}

static uint64_t odd_inverse(uint64_t odd) {
    uint64_t inverse = odd; /* right to 3 bits; each step doubles the correct bits */
    for (int i = 0; i < 5; i++) inverse *= 2 - odd * inverse;
    return inverse;
}

static void class_init(record_class *c, char *base, size_t size) {
    pthread_mutex_init(&c->lock, NULL);
    c->base = base;
    c->record_size = (size + RECORD_POOL_RECORD_ALIGNMENT - 1) & ~(size_t)(RECORD_POOL_RECORD_ALIGNMENT - 1);
    c->size_shift = (uint32_t)__builtin_ctzll(c->record_size);
    uint64_t odd = c->record_size >> c->size_shift;
    c->odd_inverse = odd_inverse(odd);
    c->odd_limit = UINT64_MAX / odd;
    atomic_init(&c->carved_bytes, 0);
}

static void registry_add(record_pool *pool) {
    pthread_mutex_lock(&registry_lock);
    for (uint32_t slot = 0; slot < CACHED_POOL_SLOTS; slot++) {
        if (!registry[slot]) {
            registry[slot] = pool;
            pool->slot = slot;
            pool->has_slot = true;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

record_pool *record_pool_create(const record_pool_config *config) {
    if (!config_is_valid(config)) return NULL;
    size_t largest = (config->class_sizes[config->class_count - 1] + RECORD_POOL_RECORD_ALIGNMENT - 1) &
                     ~(size_t)(RECORD_POOL_RECORD_ALIGNMENT - 1);
    size_t reserve = config->reserve_bytes_per_class ? config->reserve_bytes_per_class : DEFAULT_RESERVE_PER_CLASS;
    if (reserve < largest) reserve = largest;
    if (reserve < (size_t)sysconf(_SC_PAGESIZE)) reserve = (size_t)sysconf(_SC_PAGESIZE);
    unsigned class_shift = log2_ceil(reserve);

    record_pool *pool = cache_lines_calloc(sizeof *pool);
    if (!pool) return NULL;
    pool->class_count = config->class_count;
    pool->reserve_per_class = (size_t)1 << class_shift;
    pool->class_shift = class_shift;
    pool->reserved_bytes = pool->reserve_per_class * config->class_count;
    void *base = mmap(NULL, pool->reserved_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        free(pool);
        return NULL;
    }
    pool->base = (uintptr_t)base;
    pool->batch = config->batch_size ? config->batch_size : DEFAULT_BATCH;
    pool->cache_limit = config->cache_limit ? config->cache_limit : DEFAULT_CACHE_LIMIT;
    if (pool->cache_limit < pool->batch) pool->cache_limit = pool->batch; /* a drain moves a full batch */
    pthread_mutex_init(&pool->shared_lock, NULL);
    for (unsigned i = 0; i < config->class_count; i++)
        class_init(&pool->classes[i], (char *)base + i * pool->reserve_per_class, config->class_sizes[i]);
    pool->id = atomic_fetch_add(&next_pool_id, 1);
    registry_add(pool);
    return pool;
}

void record_pool_destroy(record_pool *pool) {
    if (!pool) return;
    /* After this, exiting threads no longer find the pool; caches elsewhere
     * that still carry its id are dropped when their slot is next used. */
    pthread_mutex_lock(&registry_lock);
    if (pool->has_slot) registry[pool->slot] = NULL;
    pthread_mutex_unlock(&registry_lock);
    for (unsigned i = 0; i < pool->class_count; i++) {
        pthread_mutex_destroy(&pool->classes[i].lock);
        free(pool->classes[i].batches);
    }
    pthread_mutex_destroy(&pool->shared_lock);
    munmap((void *)pool->base, pool->reserved_bytes);
    free(pool);
}

/* ---- alloc / free -------------------------------------------------------------- */

int record_pool_class_for_size(const record_pool *pool, size_t size) {
    if (!pool) return -1;
    for (unsigned i = 0; i < pool->class_count; i++)
        if (size <= pool->classes[i].record_size) return (int)i;
    return -1;
}

static void *alloc_slow(record_pool *pool, unsigned cls) {
    pool_cache *pc = thread_pool_cache(pool);
    if (pc) {
        class_cache *cc = &pc->classes[cls];
        if (!cc->head && !cache_refill(pool, cls, cc)) return NULL;
        return cache_pop(cc);
    }
    void *record = NULL;
    pthread_mutex_lock(&pool->shared_lock);
    class_cache *cc = &pool->shared_cache.classes[cls];
    if (cc->head || cache_refill(pool, cls, cc)) record = cache_pop(cc);
    pthread_mutex_unlock(&pool->shared_lock);
    return record;
}

void *record_pool_alloc(record_pool *pool, int size_class) {
    if (unlikely(!pool || size_class < 0 || (unsigned)size_class >= pool->class_count)) return NULL;
    thread_cache *tc = tls_cache;
    if (likely(tc != NULL)) {
        pool_cache *pc = &tc->pools[pool->slot];
        if (likely(pc->pool_id == pool->id)) {
            class_cache *cc = &pc->classes[size_class];
            if (likely(cc->head != NULL)) return cache_pop(cc);
        }
    }
    return alloc_slow(pool, (unsigned)size_class);
}

/* The class of a record of this pool, or -1 for anything that is not the
 * start of a carved record. */
static int class_of_record(const record_pool *pool, const void *record) {
    uintptr_t offset = (uintptr_t)record - pool->base;
    if (unlikely(offset >= pool->reserved_bytes)) return -1;
    unsigned cls = (unsigned)(offset >> pool->class_shift);
    const record_class *c = &pool->classes[cls];
    uint64_t in_class = offset & (pool->reserve_per_class - 1);
    uint64_t low_bits = ((uint64_t)1 << c->size_shift) - 1;
    if (unlikely((in_class & low_bits) != 0)) return -1;
    if (unlikely((in_class >> c->size_shift) * c->odd_inverse > c->odd_limit)) return -1;
    if (unlikely(in_class >= atomic_load_explicit(&c->carved_bytes, memory_order_relaxed))) return -1;
    return (int)cls;
}

static void free_slow(record_pool *pool, unsigned cls, void *record) {
    pool_cache *pc = thread_pool_cache(pool);
    if (pc) {
        class_cache *cc = &pc->classes[cls];
        cache_push(cc, record);
        if (cc->count > pool->cache_limit) cache_drain(pool, cls, cc);
        return;
    }
    pthread_mutex_lock(&pool->shared_lock);
    class_cache *cc = &pool->shared_cache.classes[cls];
    cache_push(cc, record);
    if (cc->count > pool->cache_limit) cache_drain(pool, cls, cc);
    pthread_mutex_unlock(&pool->shared_lock);
}

bool record_pool_free(record_pool *pool, void *record) {
    if (!record) return true;
    if (unlikely(!pool)) return false;
    int cls = class_of_record(pool, record);
    if (unlikely(cls < 0)) return false;
    thread_cache *tc = tls_cache;
    if (likely(tc != NULL)) {
        pool_cache *pc = &tc->pools[pool->slot];
        if (likely(pc->pool_id == pool->id)) {
            class_cache *cc = &pc->classes[cls];
            cache_push(cc, record);
            if (unlikely(cc->count > pool->cache_limit)) cache_drain(pool, (unsigned)cls, cc);
            return true;
        }
    }
    free_slow(pool, (unsigned)cls, record);
    return true;
}

bool record_pool_owns(const record_pool *pool, uint64_t value) {
    return pool && value - (uint64_t)pool->base < (uint64_t)pool->reserved_bytes;
}

bool record_pool_is_record(const record_pool *pool, uint64_t value) {
    return pool && value <= UINTPTR_MAX && class_of_record(pool, (const void *)(uintptr_t)value) >= 0;
}

bool record_pool_class_span(const record_pool *pool, int size_class, record_pool_span *out) {
    *out = (record_pool_span){0};
    if (pool == NULL || size_class < 0 || (unsigned)size_class >= pool->class_count) return false;
    const record_class *c = &pool->classes[size_class];
    *out = (record_pool_span){
        .base = (uintptr_t)c->base,
        .bytes = pool->reserve_per_class,
        .record_size = c->record_size,
        .carved_bytes = &c->carved_bytes,
    };
    return true;
}

void record_pool_flush_thread_cache(record_pool *pool) {
    if (!pool) return;
    thread_cache *tc = tls_cache;
    if (pool->has_slot && tc && tc != &exited_cache && tc->pools[pool->slot].pool_id == pool->id)
        pool_cache_return_all(pool, &tc->pools[pool->slot]);
    /* The shared cache stands in for the caches of threads that have none. */
    pthread_mutex_lock(&pool->shared_lock);
    pool_cache_return_all(pool, &pool->shared_cache);
    pthread_mutex_unlock(&pool->shared_lock);
}

void record_pool_get_stats(const record_pool *pool, record_pool_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!pool) return;
    record_pool *p = (record_pool *)pool; /* locks are taken; the pool is logically const */
    out->reserved_bytes = p->reserved_bytes;
    for (unsigned i = 0; i < p->class_count; i++) {
        record_class *c = &p->classes[i];
        pthread_mutex_lock(&c->lock);
        size_t carved = atomic_load_explicit(&c->carved_bytes, memory_order_relaxed) / c->record_size;
        out->live_records[i] = carved - c->batch_count * p->batch - c->loose_count;
        out->committed_bytes += c->committed_bytes;
        pthread_mutex_unlock(&c->lock);
    }
}
