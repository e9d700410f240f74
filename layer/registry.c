/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.c: from a dispatchable handle to the layer's instance or device.
 *
 * Every call the layer intercepts starts here, on every thread, so reads take
 * no lock: an open-addressing hash table keyed by the dispatch key (the
 * loader's dispatch-table pointer stored at the start of every dispatchable
 * handle), with linear probing, read with acquire loads. Writers (create and
 * destroy, rare) hold a mutex.
 *
 * No fixed cap: when the table would pass three quarters full it is rebuilt
 * twice as large and the new one is published. A reader may still be probing
 * the old one, so old tables are kept until the registry holds no object at
 * all: then no valid call can be reading any table (a call on an object races
 * with its destruction only in an invalid app).
 *
 * A removed entry becomes a tombstone so that probes for other keys still walk
 * past it; a tombstone with an empty slot after it is cleared at once, since no
 * probe path can cross it, and inserts reuse tombstones on their path.
 *
 * vkCreateInstance / vkCreateDevice reserve room before they call down the
 * chain, so that once the next layer has made its object, registering it
 * cannot fail and nothing has to be undone behind the loader's back.
 *
 * A thread that calls into a device keeps calling into the same one, so it
 * remembers its last device lookup, tagged with the registry's epoch: any
 * insert or remove bumps the epoch, and a remembered answer from an older
 * epoch is looked up again. The hot path is then one thread-local compare.
 */
#include <stdlib.h>

#include "layer.h"

#define TOMBSTONE ((void *)1)
#define MIN_CAPACITY 16u

typedef struct registry_slot {
    _Atomic(void *) key;
    _Atomic(void *) object;
} registry_slot;

typedef struct registry_table {
    uint32_t capacity; /* a power of two */
    struct registry_table *retired_next;
    registry_slot slots[];
} registry_table;

typedef struct registry {
    pthread_mutex_t lock; /* writers only */
    _Atomic(registry_table *) table;
    _Atomic uint64_t *epoch; /* bumped by every insert and remove, after the table changed */
    uint32_t live;           /* keys present */
    uint32_t used;           /* live keys and tombstones: slots that are not empty */
    uint32_t reserved;       /* inserts promised to creates in progress */
    registry_table *retired;
} registry;

static _Atomic uint64_t instance_epoch = 1;
_Atomic uint64_t device_registry_epoch = 1;
static registry instances = {.lock = PTHREAD_MUTEX_INITIALIZER, .epoch = &instance_epoch};
static registry devices = {.lock = PTHREAD_MUTEX_INITIALIZER, .epoch = &device_registry_epoch};

__thread remembered_device last_device_lookup __attribute__((tls_model("initial-exec")));

static uint32_t home_slot(const void *key, uint32_t capacity) {
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    return (uint32_t)(h >> 32) & (capacity - 1);
}

static void *registry_find(registry *r, const void *key) {
    registry_table *t = atomic_load_explicit(&r->table, memory_order_acquire);
    if (t == NULL || key == NULL) return NULL;
    uint32_t mask = t->capacity - 1;
    for (uint32_t i = home_slot(key, t->capacity);; i = (i + 1) & mask) {
        void *k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
        if (k == key) return atomic_load_explicit(&t->slots[i].object, memory_order_acquire);
        if (k == NULL) return NULL; /* the table is never full, so every probe ends */
    }
}

static registry_table *table_new(uint32_t capacity) {
    registry_table *t = calloc(1, sizeof *t + (size_t)capacity * sizeof t->slots[0]);
    if (t != NULL) t->capacity = capacity;
    return t;
}

/* Puts key in the first tombstone or empty slot of its path. Lock held, room checked. */
static void insert_locked(registry *r, registry_table *t, void *key, void *object) {
    uint32_t mask = t->capacity - 1;
    uint32_t i = home_slot(key, t->capacity);
    for (;; i = (i + 1) & mask) {
        void *k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
        if (k == NULL || k == TOMBSTONE) break;
    }
    if (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed) == NULL) r->used++;
    atomic_store_explicit(&t->slots[i].object, object, memory_order_release);
    atomic_store_explicit(&t->slots[i].key, key, memory_order_release);
    r->live++;
}

/* Makes sure `extra` more keys fit under three quarters load. Lock held. */
static bool ensure_room_locked(registry *r, uint32_t extra) {
    registry_table *old = atomic_load_explicit(&r->table, memory_order_relaxed);
    uint64_t needed = (uint64_t)r->used + extra;
    if (old != NULL && needed * 4 <= (uint64_t)old->capacity * 3) return true;

    uint64_t capacity = MIN_CAPACITY;
    while (((uint64_t)r->live + extra) * 4 > capacity * 2) capacity *= 2; /* half full after the rebuild */
    if (capacity > UINT32_MAX / 2) return false;
    registry_table *fresh = table_new((uint32_t)capacity);
    if (fresh == NULL) return false;
    r->live = r->used = 0;
    if (old != NULL) {
        for (uint32_t i = 0; i < old->capacity; i++) {
            void *k = atomic_load_explicit(&old->slots[i].key, memory_order_relaxed);
            if (k != NULL && k != TOMBSTONE)
                insert_locked(r, fresh, k, atomic_load_explicit(&old->slots[i].object, memory_order_relaxed));
        }
        old->retired_next = r->retired;
        r->retired = old;
    }
    atomic_store_explicit(&r->table, fresh, memory_order_release);
    return true;
}

static bool registry_reserve(registry *r) {
    pthread_mutex_lock(&r->lock);
    bool ok = ensure_room_locked(r, r->reserved + 1);
    if (ok) r->reserved++;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static void registry_cancel(registry *r) {
    pthread_mutex_lock(&r->lock);
    r->reserved--;
    pthread_mutex_unlock(&r->lock);
}

static void registry_insert_reserved(registry *r, void *key, void *object) {
    pthread_mutex_lock(&r->lock);
    r->reserved--;
    insert_locked(r, atomic_load_explicit(&r->table, memory_order_relaxed), key, object);
    atomic_fetch_add_explicit(r->epoch, 1, memory_order_release);
    pthread_mutex_unlock(&r->lock);
}

/* Clears tombstones that end a probe run: no probe path crosses them. */
static void clear_run_end_locked(registry *r, registry_table *t, uint32_t i) {
    uint32_t mask = t->capacity - 1;
    while (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed) == TOMBSTONE &&
           atomic_load_explicit(&t->slots[(i + 1) & mask].key, memory_order_relaxed) == NULL) {
        atomic_store_explicit(&t->slots[i].key, NULL, memory_order_release);
        r->used--;
        i = (i - 1) & mask;
    }
}

static void free_retired_locked(registry *r) {
    while (r->retired != NULL) {
        registry_table *next = r->retired->retired_next;
        free(r->retired);
        r->retired = next;
    }
}

static void registry_remove(registry *r, const void *key) {
    pthread_mutex_lock(&r->lock);
    registry_table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
    if (t != NULL) {
        uint32_t mask = t->capacity - 1;
        for (uint32_t i = home_slot(key, t->capacity);; i = (i + 1) & mask) {
            void *k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
            if (k == NULL) break;
            if (k != key) continue;
            atomic_store_explicit(&t->slots[i].key, TOMBSTONE, memory_order_release);
            r->live--;
            clear_run_end_locked(r, t, i);
            break;
        }
    }
    atomic_fetch_add_explicit(r->epoch, 1, memory_order_release);
    if (r->live == 0) free_retired_locked(r);
    pthread_mutex_unlock(&r->lock);
}

/* ---- the two registries ----------------------------------------------------------- */

suballoc_instance *instance_from_key(void *key) { return registry_find(&instances, key); }
/* The epoch is read before the table: a lookup that races a change is
 * remembered under the older epoch, so the next call looks again. */
suballoc_device *device_lookup(void *key) {
    uint64_t epoch = atomic_load_explicit(&device_registry_epoch, memory_order_acquire);
    suballoc_device *device = registry_find(&devices, key);
    last_device_lookup = (remembered_device){key, device, epoch};
    return device;
}

bool registry_reserve_instance(void) { return registry_reserve(&instances); }
void registry_cancel_instance(void) { registry_cancel(&instances); }
void registry_add_instance(suballoc_instance *instance) {
    registry_insert_reserved(&instances, instance->dispatch_key, instance);
}
void registry_remove_instance(suballoc_instance *instance) { registry_remove(&instances, instance->dispatch_key); }

bool registry_reserve_device(void) { return registry_reserve(&devices); }
void registry_cancel_device(void) { registry_cancel(&devices); }
void registry_add_device(suballoc_device *device) { registry_insert_reserved(&devices, device->dispatch_key, device); }
void registry_remove_device(suballoc_device *device) { registry_remove(&devices, device->dispatch_key); }
