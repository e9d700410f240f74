/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A deliberately simple model of a span, and a checker that drives the real
 * offset allocator and the model side by side.
 *
 * The model keeps the free intervals of the span in a sorted array and knows
 * nothing about bins: taking a range that is not entirely free, or giving back
 * one that overlaps free space, is an error it reports. The checker asks it
 * whether every answer of the real allocator is possible: an allocation lies
 * in free space, inside the span, aligned; NO_SPACE only when no free region
 * is large enough for the allocator's guarantee; reports match the model.
 *
 * Used by the randomized unit test and by the libFuzzer target.
 */
#ifndef SUBALLOC_OFFSET_ALLOCATOR_REFERENCE_H
#define SUBALLOC_OFFSET_ALLOCATOR_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offset_allocator.h"

/* ---- the model: free intervals of a span of units ------------------------------ */

typedef struct offset_reference offset_reference;

offset_reference *offset_reference_create(uint64_t span_units);
void offset_reference_destroy(offset_reference *reference);
/* Marks [start, start + length) used; false unless it was entirely free. */
bool offset_reference_take(offset_reference *reference, uint64_t start, uint64_t length);
/* Marks [start, start + length) free again; false if any of it was free or it
 * leaves the span. Merges with free neighbours. */
bool offset_reference_give_back(offset_reference *reference, uint64_t start, uint64_t length);
uint64_t offset_reference_free_units(const offset_reference *reference);
uint64_t offset_reference_largest_free(const offset_reference *reference);
size_t offset_reference_free_regions(const offset_reference *reference);
/* Free regions filed by the allocator's round-down bin, for comparing bin reports. */
void offset_reference_regions_per_bin(const offset_reference *reference, uint32_t regions[OFFSET_ALLOCATOR_BIN_COUNT]);

/* ---- the checker: real allocator + model ---------------------------------------- */

typedef struct offset_checker_allocation {
    offset_allocation_id id;
    uint64_t offset;
    uint64_t size;
} offset_checker_allocation;

typedef struct offset_checker {
    offset_allocator *allocator;
    offset_reference *model;
    uint64_t unit_bytes;
    uint64_t span_units;
    offset_checker_allocation *live;
    size_t live_count;
    size_t live_capacity;
    uint64_t no_space_results; /* how often NO_SPACE came back (and was allowed) */
    char message[256];
} offset_checker;

/* NULL if the allocator refuses the arguments or the host is out of memory. */
offset_checker *offset_checker_create(uint64_t span_bytes, uint64_t unit_bytes);
void offset_checker_destroy(offset_checker *checker);

/* Each returns NULL when the real allocator behaved as it must, else a message
 * (owned by the checker) that says what went wrong. */
const char *offset_checker_allocate(offset_checker *checker, uint64_t size, uint64_t alignment);
const char *offset_checker_free(offset_checker *checker, size_t live_index);
/* Frees an id that must be refused (unless it happens to be live: then no-op). */
const char *offset_checker_free_invalid(offset_checker *checker, offset_allocation_id id);
/* Compares the allocator's report and bin report with the model. */
const char *offset_checker_compare_reports(offset_checker *checker);
/* The allocator's own invariant check (offset_allocator_validate). */
const char *offset_checker_validate(offset_checker *checker);
/* Frees everything, then requires one free region of the full span, which a
 * whole-span allocation must get. */
const char *offset_checker_release_all(offset_checker *checker);

#endif
