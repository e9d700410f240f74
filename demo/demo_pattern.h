/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo_pattern: the values the demo uploads and the results it expects.
 *
 * Every allocation gets its own pattern (the object id is hashed in), so a
 * result that landed in another allocation's memory cannot pass the check.
 * demo_transform must stay identical to shaders/transform_*.comp.
 */
#ifndef DEMO_PATTERN_H
#define DEMO_PATTERN_H

#include <stdint.h>

static inline uint32_t demo_pattern(uint32_t object, uint32_t index) {
    uint32_t x = object * 0x9E3779B9u ^ (index + 0x632BE5ABu) * 0x85EBCA6Bu;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

/* The salt the compute pass mixes in for one object. */
static inline uint32_t demo_salt(uint32_t object) { return object * 2u + 1u; }

static inline uint32_t demo_transform(uint32_t value, uint32_t index, uint32_t salt) {
    return (value ^ salt) * 0x9E3779B1u + index;
}

#endif
