/* SPDX-License-Identifier: Apache-2.0 */
/* strict_violation.c: how a broken rule is reported. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "strict_layer_internal.h"

static const char *const rule_names[STRICT_DEVICE_VIOLATION_KIND_COUNT] = {
    [STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT] = "bind-alignment",
    [STRICT_DEVICE_VIOLATION_BIND_RANGE] = "bind-range",
    [STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE] = "bind-memory-type",
    [STRICT_DEVICE_VIOLATION_GRANULARITY] = "buffer-image-granularity",
    [STRICT_DEVICE_VIOLATION_OVERLAP] = "overlap",
    [STRICT_DEVICE_VIOLATION_MAPPED_RANGE_ALIGNMENT] = "mapped-range-alignment",
    [STRICT_DEVICE_VIOLATION_MAPPED_RANGE_OUTSIDE] = "mapped-range-outside-allocation",
    [STRICT_DEVICE_VIOLATION_MAPPED_RANGE_NOT_MAPPED] = "mapped-range-not-mapped",
    [STRICT_DEVICE_VIOLATION_MAP_ALREADY_MAPPED] = "map-already-mapped",
    [STRICT_DEVICE_VIOLATION_MAP_NOT_HOST_VISIBLE] = "map-not-host-visible",
    [STRICT_DEVICE_VIOLATION_MAP_RANGE] = "map-range",
    [STRICT_DEVICE_VIOLATION_UNMAP_NOT_MAPPED] = "unmap-not-mapped",
    [STRICT_DEVICE_VIOLATION_ALLOCATION_COUNT] = "allocation-count",
    [STRICT_DEVICE_VIOLATION_MEMORY_TYPE_INDEX] = "memory-type-index",
    [STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY] = "unknown-memory",
    [STRICT_DEVICE_VIOLATION_LEAK_AT_DESTROY] = "leak-at-destroy",
    [STRICT_DEVICE_VIOLATION_SPARSE_BLOCK] = "sparse-block",
    [STRICT_DEVICE_VIOLATION_SPARSE_RESOURCE] = "sparse-resource",
};

const char *strict_violation_rule_name(StrictDeviceViolation kind) {
    if ((unsigned)kind >= STRICT_DEVICE_VIOLATION_KIND_COUNT) return "unknown-rule";
    return rule_names[kind];
}

void strict_violation(strict_device *device, StrictDeviceViolation kind, const char *format, ...) {
    /* One write per line, so lines from several threads do not interleave. */
    char details[512];
    va_list args;
    va_start(args, format);
    vsnprintf(details, sizeof(details), format, args);
    va_end(args);
    fprintf(stderr, "strict_device: VIOLATION: %s: %s\n", strict_violation_rule_name(kind), details);
    fflush(stderr);

    if (!device->count_violations) abort();
    device->counters.violations++;
    device->violation_counts[kind]++;
}

void strict_layer_error(const char *format, ...) {
    char details[512];
    va_list args;
    va_start(args, format);
    vsnprintf(details, sizeof(details), format, args);
    va_end(args);
    fprintf(stderr, "strict_device: ERROR: %s\n", details);
}
