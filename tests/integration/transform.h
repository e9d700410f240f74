/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transform: what the compute shaders in shaders/ do to each word, computed on
 * the host, so a test knows every byte the GPU must have produced.
 */
#ifndef SUBALLOC_INTEGRATION_TRANSFORM_H
#define SUBALLOC_INTEGRATION_TRANSFORM_H

#include <stdint.h>

/* shaders/transform_by_address.comp: word i of a buffer. */
static inline uint32_t transform_by_address(uint32_t word, uint32_t index) {
    return (word ^ 0xA5A5A5A5u) * 0x01000193u + index;
}

/* shaders/transform_by_descriptor.comp: word i of a buffer. */
static inline uint32_t transform_by_descriptor(uint32_t word, uint32_t index) { return ~word * 0x2C1B3C6Du + index; }

/* The push constants of transform_by_address.comp. */
typedef struct transform_push {
    uint64_t chunks;      /* device address of a transform_chunk table */
    uint32_t first_chunk; /* the dispatch's workgroup 0 handles this chunk */
    uint32_t chunk_count; /* chunks in the table */
} transform_push;

/* One entry of the table: a run of words in one buffer (std430 layout). */
typedef struct transform_chunk {
    uint64_t address; /* device address of the chunk's first word */
    uint32_t word_count;
    uint32_t first_index; /* index of that word within its buffer */
} transform_chunk;

#endif
