/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.c: what the layer did for one device, written when the device goes.
 *
 * Counters on the allocation path live in each pool, under the pool's lock, so
 * the fast path pays for no shared atomics; they are summed here. A peak summed
 * over pools is the sum of each pool's own peak: exact when one pool is used
 * (the usual case), an upper bound otherwise.
 *
 * The stats_file setting receives one line per device, appended:
 *   suballoc_stats device="..." mode=... app_allocations=N app_live_peak=N app_leaked=N
 *   suballocated=N passthrough=N driver_allocations=N driver_live_peak=N blocks_peak=N
 *   bytes_requested_peak=N bytes_in_blocks_peak=N driver_bytes_peak=N bytes_passthrough_peak=N driver_live=N
 * bytes_requested_peak counts sub-allocated bytes only, the ones blocks hold;
 * driver_bytes_peak counts every driver allocation the layer made, blocks and
 * pass-through alike (what the device's heaps really held); bytes_passthrough_peak
 * the bytes the driver holds for the app directly. driver_live is the driver
 * allocations live when the line is written: at vkDestroyDevice, what the app
 * leaked plus the blocks. In pass-through mode the driver's bytes are the
 * app's, counted only while statistics go somewhere (stats_wanted): a free
 * must then find its size in the pass-through set.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "output_file.h"

void stats_raise_peak(_Atomic uint64_t *peak, uint64_t value) {
    uint64_t seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (seen < value &&
           !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed, memory_order_relaxed)) {}
}

static pool_counters sum_pools(const suballoc_device *device) {
    pool_counters sum = {0};
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++) {
        for (suballoc_pool *p = atomic_load(&device->types[t].pools); p != NULL; p = atomic_load(&p->next_in_type)) {
            pool_lock_acquire(&p->lock);
            sum.allocations += p->counters.allocations;
            sum.live += p->counters.live;
            sum.live_peak += p->counters.live_peak;
            sum.requested_bytes += p->counters.requested_bytes;
            sum.requested_bytes_peak += p->counters.requested_bytes_peak;
            pool_lock_release(&p->lock);
        }
    }
    return sum;
}

uint64_t stats_live_suballocations(const suballoc_device *device) { return sum_pools(device).live; }

bool stats_wanted(const suballoc_settings *settings) {
    return settings->stats_file[0] != '\0' || settings->stats_json_file[0] != '\0' ||
           settings->log_level >= SUBALLOC_LOG_INFO;
}

void stats_write(const suballoc_device *device, uint64_t leaked_allocations) {
    pool_counters pools = sum_pools(device);
    const device_counters *c = &device->counters;
    unsigned long long passthrough = atomic_load(&c->passthrough);
    /* In pass-through mode every app allocation is a driver allocation and the
     * layer makes none of its own, so it does not count them twice. */
    unsigned long long driver_allocations = device->suballocate ? atomic_load(&c->driver_allocations) : passthrough;
    unsigned long long driver_live_peak =
        device->suballocate ? atomic_load(&c->driver_live_peak) : atomic_load(&c->passthrough_live_peak);
    unsigned long long driver_live =
        device->suballocate ? atomic_load(&c->driver_live) : atomic_load(&c->passthrough_live);
    unsigned long long passthrough_bytes_peak = atomic_load(&c->passthrough_bytes_peak);
    unsigned long long driver_bytes_peak =
        device->suballocate ? atomic_load(&c->driver_bytes_peak) : passthrough_bytes_peak;
    char line[1024];
    snprintf(line, sizeof line,
             "suballoc_stats device=\"%s\" mode=%s app_allocations=%llu app_live_peak=%llu app_leaked=%llu "
             "suballocated=%llu passthrough=%llu driver_allocations=%llu driver_live_peak=%llu blocks_peak=%llu "
             "bytes_requested_peak=%llu bytes_in_blocks_peak=%llu driver_bytes_peak=%llu bytes_passthrough_peak=%llu "
             "driver_live=%llu",
             device->name, device->suballocate ? "suballocate" : "passthrough",
             (unsigned long long)pools.allocations + passthrough,
             (unsigned long long)(pools.live_peak + atomic_load(&c->passthrough_live_peak)),
             (unsigned long long)leaked_allocations, (unsigned long long)pools.allocations, passthrough,
             driver_allocations, driver_live_peak, (unsigned long long)atomic_load(&c->blocks_peak),
             (unsigned long long)pools.requested_bytes_peak, (unsigned long long)atomic_load(&c->block_bytes_peak),
             driver_bytes_peak, passthrough_bytes_peak, driver_live);
    LOG_INFO(device, "%s", line);

    const char *path = device->settings->stats_file;
    if (path[0] == '\0') return;
    FILE *file = output_file_append(path);
    if (file == NULL) {
        LOG_ERROR(device, "cannot open stats_file '%s': %s", path, output_file_error(errno));
        return;
    }
    fprintf(file, "%s\n", line);
    fclose(file);
}
