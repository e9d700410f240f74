/* SPDX-License-Identifier: Apache-2.0 */
/* The model and the checker described in offset_allocator_reference.h. */
#include "offset_allocator_reference.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- model ----------------------------------------------------------------------- */

typedef struct interval {
    uint64_t start;
    uint64_t length;
} interval;

struct offset_reference {
    uint64_t span;
    interval *free; /* sorted by start, never adjacent, never empty */
    size_t count;
    size_t capacity;
    uint64_t free_total;
};

offset_reference *offset_reference_create(uint64_t span_units) {
    offset_reference *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->capacity = 64;
    r->free = malloc(r->capacity * sizeof *r->free);
    if (!r->free) {
        free(r);
        return NULL;
    }
    r->span = span_units;
    if (span_units) {
        r->free[0] = (interval){0, span_units};
        r->count = 1;
    }
    r->free_total = span_units;
    return r;
}

void offset_reference_destroy(offset_reference *reference) {
    if (!reference) return;
    free(reference->free);
    free(reference);
}

/* Number of intervals whose start is <= x (so x's interval, if any, is that minus one). */
static size_t count_starting_at_or_before(const offset_reference *r, uint64_t x) {
    size_t low = 0, high = r->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (r->free[mid].start <= x) low = mid + 1;
        else high = mid;
    }
    return low;
}

static bool insert_at(offset_reference *r, size_t index, interval value) {
    if (r->count == r->capacity) {
        interval *grown = realloc(r->free, r->capacity * 2 * sizeof *grown);
        if (!grown) return false;
        r->free = grown;
        r->capacity *= 2;
    }
    memmove(&r->free[index + 1], &r->free[index], (r->count - index) * sizeof *r->free);
    r->free[index] = value;
    r->count++;
    return true;
}

static void remove_at(offset_reference *r, size_t index) {
    memmove(&r->free[index], &r->free[index + 1], (r->count - index - 1) * sizeof *r->free);
    r->count--;
}

static bool in_span(const offset_reference *r, uint64_t start, uint64_t length) {
    return length > 0 && start <= r->span && length <= r->span - start;
}

bool offset_reference_take(offset_reference *r, uint64_t start, uint64_t length) {
    if (!in_span(r, start, length)) return false;
    size_t before = count_starting_at_or_before(r, start);
    if (before == 0) return false;
    size_t i = before - 1;
    interval found = r->free[i];
    uint64_t end = start + length, found_end = found.start + found.length;
    if (end > found_end) return false;
    if (start > found.start && end < found_end) {
        r->free[i].length = start - found.start;
        if (!insert_at(r, i + 1, (interval){end, found_end - end})) return false;
    } else if (start > found.start) {
        r->free[i].length = start - found.start;
    } else if (end < found_end) {
        r->free[i] = (interval){end, found_end - end};
    } else {
        remove_at(r, i);
    }
    r->free_total -= length;
    return true;
}

bool offset_reference_give_back(offset_reference *r, uint64_t start, uint64_t length) {
    if (!in_span(r, start, length)) return false;
    uint64_t end = start + length;
    size_t next = count_starting_at_or_before(r, start);
    bool has_prev = next > 0, has_next = next < r->count;
    if (has_prev && r->free[next - 1].start + r->free[next - 1].length > start) return false;
    if (has_next && r->free[next].start < end) return false;
    bool join_prev = has_prev && r->free[next - 1].start + r->free[next - 1].length == start;
    bool join_next = has_next && r->free[next].start == end;
    if (join_prev && join_next) {
        r->free[next - 1].length += length + r->free[next].length;
        remove_at(r, next);
    } else if (join_prev) {
        r->free[next - 1].length += length;
    } else if (join_next) {
        r->free[next].start = start;
        r->free[next].length += length;
    } else if (!insert_at(r, next, (interval){start, length})) {
        return false;
    }
    r->free_total += length;
    return true;
}

uint64_t offset_reference_free_units(const offset_reference *r) { return r->free_total; }

uint64_t offset_reference_largest_free(const offset_reference *r) {
    uint64_t largest = 0;
    for (size_t i = 0; i < r->count; i++)
        if (r->free[i].length > largest) largest = r->free[i].length;
    return largest;
}

size_t offset_reference_free_regions(const offset_reference *r) { return r->count; }

void offset_reference_regions_per_bin(const offset_reference *r, uint32_t regions[OFFSET_ALLOCATOR_BIN_COUNT]) {
    memset(regions, 0, OFFSET_ALLOCATOR_BIN_COUNT * sizeof regions[0]);
    for (size_t i = 0; i < r->count; i++) regions[offset_allocator_bin_round_down((uint32_t)r->free[i].length)]++;
}

/* ---- checker --------------------------------------------------------------------- */

static const char *fail(offset_checker *c, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(c->message, sizeof c->message, format, args);
    va_end(args);
    return c->message;
}

offset_checker *offset_checker_create(uint64_t span_bytes, uint64_t unit_bytes) {
    offset_checker *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->allocator = offset_allocator_create(span_bytes, unit_bytes);
    if (!c->allocator) {
        free(c);
        return NULL;
    }
    c->unit_bytes = unit_bytes;
    c->span_units = span_bytes / unit_bytes;
    c->model = offset_reference_create(c->span_units);
    if (!c->model) {
        offset_checker_destroy(c);
        return NULL;
    }
    return c;
}

void offset_checker_destroy(offset_checker *c) {
    if (!c) return;
    offset_allocator_destroy(c->allocator);
    offset_reference_destroy(c->model);
    free(c->live);
    free(c);
}

static bool remember(offset_checker *c, offset_allocation a) {
    if (c->live_count == c->live_capacity) {
        size_t capacity = c->live_capacity ? c->live_capacity * 2 : 256;
        offset_checker_allocation *grown = realloc(c->live, capacity * sizeof *grown);
        if (!grown) return false;
        c->live = grown;
        c->live_capacity = capacity;
    }
    c->live[c->live_count++] = (offset_checker_allocation){a.id, a.offset, a.size};
    return true;
}

static bool reports_equal(const offset_allocator_report *a, const offset_allocator_report *b) {
    return memcmp(a, b, sizeof *a) == 0;
}

/* The allocator promises success whenever a free region holds the request plus
 * worst-case alignment padding, rounded up to its bin. */
static uint64_t guaranteed_fit_units(uint64_t units, uint64_t align_units) {
    uint64_t worst = units + align_units - 1;
    if (worst > UINT32_MAX) return UINT64_MAX;
    return offset_allocator_bin_to_units(offset_allocator_bin_round_up((uint32_t)worst));
}

static const char *check_no_space(offset_checker *c, uint64_t units, uint64_t align_units,
                                  const offset_allocator_report *before) {
    offset_allocator_report after;
    offset_allocator_get_report(c->allocator, &after);
    if (!reports_equal(before, &after)) return fail(c, "NO_SPACE changed the allocator");
    uint64_t largest = offset_reference_largest_free(c->model);
    uint64_t needed = guaranteed_fit_units(units, align_units);
    if (largest >= needed)
        return fail(c,
                    "NO_SPACE for %" PRIu64 " units aligned to %" PRIu64 " while a free region of %" PRIu64
                    " units exists (guarantee: %" PRIu64 ")",
                    units, align_units, largest, needed);
    c->no_space_results++;
    return NULL;
}

static const char *check_granted(offset_checker *c, uint64_t size, uint64_t alignment, offset_allocation a) {
    uint64_t units = (size + c->unit_bytes - 1) / c->unit_bytes;
    if (a.size != units * c->unit_bytes)
        return fail(c, "size %" PRIu64 " granted for %" PRIu64 " bytes: expected whole units only", a.size, size);
    if (alignment > 1 && a.offset % alignment != 0)
        return fail(c, "offset %" PRIu64 " not aligned to %" PRIu64, a.offset, alignment);
    if (a.offset % c->unit_bytes != 0) return fail(c, "offset %" PRIu64 " not on a unit", a.offset);
    if (!offset_reference_take(c->model, a.offset / c->unit_bytes, units))
        return fail(c, "allocation [%" PRIu64 ", +%" PRIu64 ") overlaps used space or leaves the span", a.offset,
                    a.size);
    if (offset_allocator_allocation_size(c->allocator, a.id) != a.size)
        return fail(c, "allocation_size of a fresh id is wrong");
    if (!remember(c, a)) return fail(c, "checker out of memory");
    return NULL;
}

const char *offset_checker_allocate(offset_checker *c, uint64_t size, uint64_t alignment) {
    offset_allocator_report before;
    offset_allocator_get_report(c->allocator, &before);
    offset_allocation a;
    memset(&a, 0xA5, sizeof a);
    offset_allocator_result result = offset_allocator_allocate(c->allocator, size, alignment, &a);
    bool bad_argument = size == 0 || (alignment & (alignment - 1)) != 0;
    if (bad_argument)
        return result == OFFSET_ALLOCATOR_INVALID_ARGUMENT ? NULL : fail(c, "bad arguments were accepted");
    uint64_t units = size / c->unit_bytes + (size % c->unit_bytes != 0);
    uint64_t align_units = alignment > c->unit_bytes ? alignment / c->unit_bytes : 1;
    switch (result) {
    case OFFSET_ALLOCATOR_OK: return check_granted(c, size, alignment, a);
    case OFFSET_ALLOCATOR_NO_SPACE: return check_no_space(c, units, align_units, &before);
    default: return fail(c, "allocate(%" PRIu64 ", %" PRIu64 ") returned %d", size, alignment, (int)result);
    }
}

const char *offset_checker_free(offset_checker *c, size_t index) {
    if (index >= c->live_count) return fail(c, "checker: no live allocation %zu", index);
    offset_checker_allocation a = c->live[index];
    c->live[index] = c->live[--c->live_count];
    offset_allocator_result result = offset_allocator_free(c->allocator, a.id);
    if (result != OFFSET_ALLOCATOR_OK) return fail(c, "free of a live id returned %d", (int)result);
    if (!offset_reference_give_back(c->model, a.offset / c->unit_bytes, a.size / c->unit_bytes))
        return fail(c, "model: [%" PRIu64 ", +%" PRIu64 ") was not in use", a.offset, a.size);
    if (offset_allocator_allocation_size(c->allocator, a.id) != 0) return fail(c, "a freed id still has a size");
    return NULL;
}

const char *offset_checker_free_invalid(offset_checker *c, offset_allocation_id id) {
    for (size_t i = 0; i < c->live_count; i++)
        if (c->live[i].id == id) return NULL;
    offset_allocator_report before, after;
    offset_allocator_get_report(c->allocator, &before);
    offset_allocator_result result = offset_allocator_free(c->allocator, id);
    offset_allocator_get_report(c->allocator, &after);
    if (result != OFFSET_ALLOCATOR_INVALID_HANDLE) return fail(c, "free of dead id %u returned %d", id, (int)result);
    if (!reports_equal(&before, &after)) return fail(c, "a refused free changed the allocator");
    return NULL;
}

static const char *compare_bins(offset_checker *c, const offset_allocator_report *report) {
    offset_allocator_bin_report bins;
    uint32_t expected[OFFSET_ALLOCATOR_BIN_COUNT];
    offset_allocator_get_bin_report(c->allocator, &bins);
    offset_reference_regions_per_bin(c->model, expected);
    uint64_t free_bytes = 0;
    for (uint32_t bin = 0; bin < OFFSET_ALLOCATOR_BIN_COUNT; bin++) {
        if (bins.free_regions[bin] != expected[bin])
            return fail(c, "bin %u holds %u regions, model says %u", bin, bins.free_regions[bin], expected[bin]);
        if (bins.free_bytes[bin] < (uint64_t)bins.free_regions[bin] * bins.bin_size_bytes[bin])
            return fail(c, "bin %u holds a region smaller than the bin", bin);
        free_bytes += bins.free_bytes[bin];
    }
    if (free_bytes != report->free_bytes) return fail(c, "bin report and report disagree on free bytes");
    return NULL;
}

const char *offset_checker_validate(offset_checker *c) {
    char why[192];
    if (offset_allocator_validate(c->allocator, why, sizeof why)) return NULL;
    snprintf(c->message, sizeof c->message, "offset_allocator_validate: %s", why);
    return c->message;
}

const char *offset_checker_compare_reports(offset_checker *c) {
    offset_allocator_report report;
    offset_allocator_get_report(c->allocator, &report);
    uint64_t largest = offset_reference_largest_free(c->model);
    uint64_t largest_binned =
        largest ? offset_allocator_bin_to_units(offset_allocator_bin_round_down((uint32_t)largest)) : 0;
    if (report.free_bytes != offset_reference_free_units(c->model) * c->unit_bytes)
        return fail(c, "report: %" PRIu64 " bytes free, model: %" PRIu64 " units", report.free_bytes,
                    offset_reference_free_units(c->model));
    if (report.free_regions != offset_reference_free_regions(c->model))
        return fail(c, "report: %u free regions, model: %zu (neighbours not merged?)", report.free_regions,
                    offset_reference_free_regions(c->model));
    if (report.largest_free_bytes != largest_binned * c->unit_bytes)
        return fail(c, "report: largest %" PRIu64 " bytes, model: %" PRIu64 " units", report.largest_free_bytes,
                    largest);
    if (report.live_allocations != c->live_count)
        return fail(c, "report: %u live, checker: %zu", report.live_allocations, c->live_count);
    return compare_bins(c, &report);
}

const char *offset_checker_release_all(offset_checker *c) {
    const char *error = NULL;
    while (c->live_count && !error) error = offset_checker_free(c, c->live_count - 1);
    if (!error) error = offset_checker_compare_reports(c);
    if (error) return error;
    offset_allocator_report report;
    offset_allocator_get_report(c->allocator, &report);
    if (report.free_regions != 1 || report.free_bytes != c->span_units * c->unit_bytes)
        return fail(c, "after freeing everything: %u regions, %" PRIu64 " bytes free", report.free_regions,
                    report.free_bytes);
    offset_allocation whole;
    if (offset_allocator_allocate(c->allocator, c->span_units * c->unit_bytes, 0, &whole) != OFFSET_ALLOCATOR_OK ||
        whole.offset != 0)
        return fail(c, "the whole span cannot be allocated after freeing everything");
    if (offset_allocator_free(c->allocator, whole.id) != OFFSET_ALLOCATOR_OK) return fail(c, "whole-span free failed");
    return NULL;
}
