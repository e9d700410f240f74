/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pool_lock: the lock a pool holds around its offset allocators.
 *
 * Its critical sections are a few dozen nanoseconds, and a pthread mutex
 * lock/unlock pair cost a third of an allocate+free pair through the layer
 * (perf, lavapipe). This lock takes one atomic exchange to enter and a plain
 * release store to leave. A waiter spins briefly, then yields, then sleeps, so
 * a pool held across a slow driver call (a new block) does not burn a core.
 */
#ifndef SUBALLOC_POOL_LOCK_H
#define SUBALLOC_POOL_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

typedef struct pool_lock {
    atomic_bool held;
} pool_lock;

#define POOL_LOCK_SPINS 64
#define POOL_LOCK_YIELDS 64

static inline void pool_lock_init(pool_lock *lock) { atomic_init(&lock->held, false); }

static inline void pool_lock_pause(unsigned attempt) {
    if (attempt < POOL_LOCK_SPINS) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else if (attempt < POOL_LOCK_SPINS + POOL_LOCK_YIELDS) {
        sched_yield();
    } else {
        struct timespec nap = {0, 50 * 1000};
        nanosleep(&nap, NULL);
    }
}

static inline void pool_lock_acquire(pool_lock *lock) {
    if (!atomic_exchange_explicit(&lock->held, true, memory_order_acquire)) return;
    for (unsigned attempt = 0;; attempt++) {
        pool_lock_pause(attempt);
        if (!atomic_load_explicit(&lock->held, memory_order_relaxed) &&
            !atomic_exchange_explicit(&lock->held, true, memory_order_acquire))
            return;
    }
}

/* For a thread that already holds another pool's lock: never waits, so two such
 * threads cannot deadlock. */
static inline bool pool_lock_try(pool_lock *lock) {
    return !atomic_load_explicit(&lock->held, memory_order_relaxed) &&
           !atomic_exchange_explicit(&lock->held, true, memory_order_acquire);
}

static inline void pool_lock_release(pool_lock *lock) {
    atomic_store_explicit(&lock->held, false, memory_order_release);
}

#endif
