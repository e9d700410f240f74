/* SPDX-License-Identifier: Apache-2.0 */
/*
 * offset_allocator: an O(1) allocator of ranges inside one contiguous span.
 *
 * It hands out offsets, never pointers: the span it manages may be GPU memory
 * the CPU cannot touch, so every piece of bookkeeping lives in separate node
 * records addressed by index.
 *
 * Sizes and offsets in this API are 64-bit bytes. Inside, the span is counted in
 * 32-bit "units" whose size the caller picks per instance (a 4 GiB block with
 * 256-byte units needs 2^24 units), so every request is rounded up to whole units.
 *
 * Free regions are filed in 256 size bins that follow an 8-bit float scale
 * (5-bit exponent, 3-bit mantissa). A two-level bitmask (one bit per group of
 * 8 bins, then one bit per bin) finds the first non-empty bin at or above a
 * size with two count-trailing-zero instructions, so allocate and free never
 * loop over free regions. The bin math is explained once, in offset_allocator.c.
 *
 * Not thread-safe: callers lock around an instance (the layer locks per pool).
 */
#ifndef SUBALLOC_OFFSET_ALLOCATOR_H
#define SUBALLOC_OFFSET_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFFSET_ALLOCATOR_BIN_COUNT 256u

/* Handle of one live allocation: the index of its node record. */
typedef uint32_t offset_allocation_id;
#define OFFSET_ALLOCATION_NONE UINT32_MAX

typedef enum offset_allocator_result {
    OFFSET_ALLOCATOR_OK = 0,
    OFFSET_ALLOCATOR_NO_SPACE,         /* no free region fits: a normal result */
    OFFSET_ALLOCATOR_OUT_OF_MEMORY,    /* node metadata could not grow (host OOM) */
    OFFSET_ALLOCATOR_INVALID_ARGUMENT, /* size 0, alignment not a power of two, ... */
    OFFSET_ALLOCATOR_INVALID_HANDLE,   /* free of a foreign or already freed id */
} offset_allocator_result;

typedef struct offset_allocation {
    uint64_t offset;         /* bytes from the start of the span, aligned as asked */
    uint64_t size;           /* bytes reserved: the request rounded up to units */
    offset_allocation_id id; /* pass to offset_allocator_free */
} offset_allocation;

typedef struct offset_allocator offset_allocator; /* defined in offset_allocator.c */

/* Creates an allocator for a span of span_bytes, counted in units of unit_bytes
 * (a power of two). span_bytes / unit_bytes must be 1 .. UINT32_MAX; a partial
 * unit at the end of the span is not used.
 * Returns NULL on bad arguments or when the host is out of memory. */
offset_allocator *offset_allocator_create(uint64_t span_bytes, uint64_t unit_bytes);
void offset_allocator_destroy(offset_allocator *allocator);

/* Reserves size bytes whose offset is a multiple of alignment (a power of two;
 * 0 or 1 mean "unit aligned"). Padding needed for alignment goes back to the
 * free lists at once. On anything but OK, *out and the allocator are unchanged.
 * Guarantee: it succeeds whenever some free region holds the request in units
 * plus (alignment in units - 1), rounded up to its bin (less than 12.5% more). */
offset_allocator_result offset_allocator_allocate(offset_allocator *allocator, uint64_t size, uint64_t alignment,
                                                  offset_allocation *out);

/* The smallest span (bytes, a whole number of units) whose fresh allocator
 * surely serves one request of size bytes at any alignment: a fresh span is one
 * free region at offset 0, found when its bin is at or above the request's
 * rounded-up bin. 0 when no 32-bit unit count can promise it. */
uint64_t offset_allocator_span_for(uint64_t size, uint64_t unit_bytes);

/* Returns a region, merging it with free neighbours on both sides.
 * A foreign or already freed id is detected and refused (the id carries a
 * generation, so a stale id stays refused after its record is reused, up to
 * generation wrap-around); the allocator is then unchanged. */
offset_allocator_result offset_allocator_free(offset_allocator *allocator, offset_allocation_id id);

/* Size in bytes reserved for a live allocation (0 for an id that is not live). */
uint64_t offset_allocator_allocation_size(const offset_allocator *allocator, offset_allocation_id id);

/* Checks every invariant (VMA's Validate(), mimalloc's expensive asserts): the
 * regions tile the span in address order with links both ways, no two free
 * regions touch, each free region sits in its bin's list and only there, the
 * bitmasks say which bins hold regions, and the counters match. O(regions).
 * Returns true when all hold; otherwise writes the first broken rule to why
 * (if not NULL) and returns false. */
bool offset_allocator_validate(const offset_allocator *allocator, char *why, size_t why_size);

typedef struct offset_allocator_report {
    uint64_t span_bytes;
    uint64_t unit_bytes;
    uint64_t free_bytes; /* total free */
    /* Largest single free region, rounded down to its bin: the largest request
     * (without alignment) that is sure to succeed. */
    uint64_t largest_free_bytes;
    uint32_t free_regions;
    uint32_t live_allocations;
    uint64_t metadata_bytes; /* host memory the allocator itself holds */
} offset_allocator_report;

void offset_allocator_get_report(const offset_allocator *allocator, offset_allocator_report *out);

/* Free bytes and free regions filed in each bin, for statistics. */
typedef struct offset_allocator_bin_report {
    uint64_t bin_size_bytes[OFFSET_ALLOCATOR_BIN_COUNT]; /* smallest region filed in the bin */
    uint64_t free_bytes[OFFSET_ALLOCATOR_BIN_COUNT];
    uint32_t free_regions[OFFSET_ALLOCATOR_BIN_COUNT];
} offset_allocator_bin_report;

void offset_allocator_get_bin_report(const offset_allocator *allocator, offset_allocator_bin_report *out);

/* The bin math, exposed for tests: unit count -> bin index, and a bin's
 * smallest region in units (64-bit: the round-up of the largest 32-bit counts
 * lands in bin 240, which stands for 2^32 units). */
uint32_t offset_allocator_bin_round_up(uint32_t units);
uint32_t offset_allocator_bin_round_down(uint32_t units);
uint64_t offset_allocator_bin_to_units(uint32_t bin);

#endif
