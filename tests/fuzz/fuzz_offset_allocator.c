/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the input is a span and a sequence of allocate / free /
 * bogus-free operations; every answer of the offset allocator is checked
 * against the reference model (tests/unit/offset_allocator_reference.h), and
 * offset_allocator_validate() runs after every operation.
 *
 * Input layout: [unit shift][span: 3 bytes][span width] then operations, each
 * an opcode byte followed by its operands; a short read ends the sequence.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "offset_allocator.h"
#include "offset_allocator_reference.h"

typedef struct reader {
    const uint8_t *data;
    size_t size;
    size_t at;
} reader;

static bool read_bytes(reader *r, unsigned count, uint64_t *out) {
    if (r->size - r->at < count) return false;
    uint64_t value = 0;
    for (unsigned i = 0; i < count; i++) value = value << 8 | r->data[r->at++];
    *out = value;
    return true;
}

static void require(const char *error, size_t operation) {
    if (!error) return;
    fprintf(stderr, "operation %zu: %s\n", operation, error);
    abort();
}

/* Sizes spread over many octaves: a mantissa scaled by a power of two. */
static uint64_t decode_size(uint64_t bits) {
    uint64_t mantissa = bits & 0xFFF;
    unsigned shift = (unsigned)(bits >> 12) % 28;
    return (mantissa << shift) >> 4; /* 0 happens: the allocator must refuse it */
}

static uint64_t decode_alignment(uint64_t bits) {
    if (bits < 128) return 0;
    if (bits == 255) return 48; /* not a power of two */
    return 1ull << (bits % 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size, 0};
    uint64_t unit_shift, span_bits, width;
    if (!read_bytes(&r, 1, &unit_shift) || !read_bytes(&r, 3, &span_bits) || !read_bytes(&r, 1, &width)) return 0;
    uint64_t unit = 1ull << (unit_shift % 9);
    uint64_t span_units = 1 + span_bits % (1ull << (1 + width % 24));
    offset_checker *checker = offset_checker_create(span_units * unit, unit);
    if (!checker) abort(); /* valid arguments: only host OOM could refuse them */

    offset_allocation_id last_freed = OFFSET_ALLOCATION_NONE;
    size_t operation = 0;
    for (uint64_t opcode; read_bytes(&r, 1, &opcode); operation++) {
        uint64_t a, b;
        switch (opcode % 4) {
        case 0:
        case 1:
            if (!read_bytes(&r, 2, &a) || !read_bytes(&r, 1, &b)) break;
            require(offset_checker_allocate(checker, decode_size(a | (opcode >> 2) << 16), decode_alignment(b)),
                    operation);
            break;
        case 2:
            if (!read_bytes(&r, 2, &a) || checker->live_count == 0) break;
            last_freed = checker->live[a % checker->live_count].id;
            require(offset_checker_free(checker, a % checker->live_count), operation);
            break;
        default:
            if (!read_bytes(&r, 4, &a)) break;
            require(offset_checker_free_invalid(checker, (opcode & 4) ? last_freed : (offset_allocation_id)a),
                    operation);
            break;
        }
        require(offset_checker_validate(checker), operation);
        if (operation % 32 == 0) require(offset_checker_compare_reports(checker), operation);
    }
    require(offset_checker_compare_reports(checker), operation);
    require(offset_checker_release_all(checker), operation);
    offset_checker_destroy(checker);
    return 0;
}
