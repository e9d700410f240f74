/* SPDX-License-Identifier: Apache-2.0 */
/*
 * offset_allocator: O(1) allocation of unit ranges inside one span.
 *
 * The bin scale (read this once; everything else follows from it)
 * ----------------------------------------------------------------
 * A bin index is an 8-bit float: the high 5 bits are an exponent e, the low
 * 3 bits a mantissa m. The smallest region size a bin stands for is
 *
 *     e == 0:  m                       (bins 0..7 are exact: 0..7 units)
 *     e >= 1:  (8 + m) << (e - 1)      (an implicit leading one, then m)
 *
 * so every power-of-two octave [2^k, 2^(k+1)) is cut into 8 equal steps of
 * 2^(k-3). To convert a size u >= 8: let h be its highest set bit; then
 * e = h - 2 and m = the 3 bits just below bit h. Dropping the bits below m
 * rounds *down* (the bin whose size is <= u: where a free region of u units
 * is filed); adding one when any dropped bit is set rounds *up* (the first
 * bin whose every region holds u units: where a request of u units looks).
 * A carry out of m moves to the next exponent for free, because the bin
 * index is simply e * 8 + m.
 *
 * One step is 1/8 of the octave's start, so a request rounded up grows by
 * less than 12.5%: a request never fails while a free region 12.5% larger
 * (plus alignment slack) exists. 32-bit unit counts reach bin 239; 256 bins
 * leave room for the round-up of the largest counts.
 *
 * Finding the first non-empty bin at or above b: bins form 32 groups of 8.
 * leaf_masks[g] has one bit per non-empty bin of group g, top_mask one bit
 * per group with any non-empty bin. Mask off the bins below b in b's group
 * and take the lowest set bit; if none, mask off the groups up to b's in
 * top_mask and take the lowest group, then its lowest bin. Two ctz, no loop.
 *
 * Node records
 * ------------
 * Every allocation and every free region is a node in one array, addressed by
 * index (the managed span itself is never touched). Nodes are linked to their
 * address-order neighbours, for merging, and free nodes to the other free
 * nodes of their bin. The array grows by doubling when a split needs a node,
 * so metadata follows the number of live regions, never the span size; node
 * indices are recycled through a list of spare nodes.
 *
 * An allocation id is a node index with the node's generation in the high
 * bits the index does not need; a free bumps the generation, so freeing an
 * id twice (even after its node was reused) or freeing a made-up id fails.
 */
#include "offset_allocator.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_lines.h"

#define NO_NODE UINT32_MAX
#define BIN_GROUPS (OFFSET_ALLOCATOR_BIN_COUNT / 8u)
#define MANTISSA_BITS 3u
#define MANTISSA_MASK 7u
#define INITIAL_NODE_CAPACITY 64u

enum node_state { NODE_SPARE, NODE_FREE, NODE_USED };

typedef struct node {
    uint32_t offset;   /* units */
    uint32_t size;     /* units */
    uint32_t bin_prev; /* free nodes of the same bin; bin_next also chains spares */
    uint32_t bin_next;
    uint32_t addr_prev; /* neighbours in address order */
    uint32_t addr_next;
    uint32_t generation; /* bumped when an allocation is freed */
    uint32_t state;
} node;

struct offset_allocator {
    uint32_t unit_shift;
    uint32_t span_units;
    uint32_t free_units;
    uint32_t free_regions;
    uint32_t live_allocations;

    /* id = generation (high bits) | node index (low index_bits bits) */
    uint32_t index_bits;
    uint32_t index_mask;

    uint32_t top_mask;
    uint8_t leaf_masks[BIN_GROUPS];
    uint32_t bin_heads[OFFSET_ALLOCATOR_BIN_COUNT];

    node *nodes;
    uint32_t node_capacity;
    uint32_t nodes_touched; /* nodes [0, nodes_touched) have been used at least once */
    uint32_t spare_head;    /* recycled nodes */
    uint32_t spare_count;
};

/* ---- bin math ------------------------------------------------------------------ */

static uint32_t highest_bit(uint32_t value) { return 31u - (uint32_t)__builtin_clz(value); }

uint32_t offset_allocator_bin_round_down(uint32_t units) {
    if (units <= MANTISSA_MASK) return units;
    uint32_t high = highest_bit(units);
    uint32_t mantissa_shift = high - MANTISSA_BITS;
    uint32_t exponent = high - 2u;
    return (exponent << MANTISSA_BITS) | ((units >> mantissa_shift) & MANTISSA_MASK);
}

uint32_t offset_allocator_bin_round_up(uint32_t units) {
    uint32_t bin = offset_allocator_bin_round_down(units);
    if (units > MANTISSA_MASK) {
        uint32_t dropped = units & ((1u << (highest_bit(units) - MANTISSA_BITS)) - 1u);
        if (dropped) bin++;
    }
    return bin;
}

uint64_t offset_allocator_bin_to_units(uint32_t bin) {
    uint32_t exponent = bin >> MANTISSA_BITS;
    uint64_t mantissa = bin & MANTISSA_MASK;
    if (exponent == 0) return mantissa;
    return (8u + mantissa) << (exponent - 1u);
}

/* ---- bins and their masks ------------------------------------------------------ */

static void bin_insert(offset_allocator *a, uint32_t index) {
    node *n = &a->nodes[index];
    uint32_t bin = offset_allocator_bin_round_down(n->size);
    uint32_t head = a->bin_heads[bin];
    n->bin_prev = NO_NODE;
    n->bin_next = head;
    if (head != NO_NODE) {
        a->nodes[head].bin_prev = index;
    } else {
        a->leaf_masks[bin >> 3] |= (uint8_t)(1u << (bin & 7u));
        a->top_mask |= 1u << (bin >> 3);
    }
    a->bin_heads[bin] = index;
}

static void bin_remove(offset_allocator *a, uint32_t index) {
    node *n = &a->nodes[index];
    if (n->bin_prev != NO_NODE) {
        a->nodes[n->bin_prev].bin_next = n->bin_next;
    } else {
        uint32_t bin = offset_allocator_bin_round_down(n->size);
        a->bin_heads[bin] = n->bin_next;
        if (n->bin_next == NO_NODE) {
            uint32_t group = bin >> 3;
            a->leaf_masks[group] &= (uint8_t) ~(1u << (bin & 7u));
            if (a->leaf_masks[group] == 0) a->top_mask &= ~(1u << group);
        }
    }
    if (n->bin_next != NO_NODE) a->nodes[n->bin_next].bin_prev = n->bin_prev;
}

/* Head of the first non-empty bin at or above bin, or NO_NODE. */
static uint32_t first_region_at_or_above(const offset_allocator *a, uint32_t bin) {
    if (bin >= OFFSET_ALLOCATOR_BIN_COUNT) return NO_NODE;
    uint32_t group = bin >> 3;
    uint32_t leaf = a->leaf_masks[group] & (0xFFu << (bin & 7u));
    if (!leaf) {
        uint32_t higher_groups = group + 1u < BIN_GROUPS ? a->top_mask & (~0u << (group + 1u)) : 0u;
        if (!higher_groups) return NO_NODE;
        group = (uint32_t)__builtin_ctz(higher_groups);
        leaf = a->leaf_masks[group];
    }
    return a->bin_heads[(group << 3) | (uint32_t)__builtin_ctz(leaf)];
}

/* ---- node records -------------------------------------------------------------- */

static bool nodes_grow(offset_allocator *a) {
    uint64_t wanted = (uint64_t)a->node_capacity * 2u;
    if (wanted > a->span_units) wanted = a->span_units; /* every node covers >= 1 unit */
    if (wanted <= a->node_capacity) return false;
    node *grown = cache_lines_calloc((size_t)wanted * sizeof(node));
    if (!grown) return false;
    memcpy(grown, a->nodes, (size_t)a->node_capacity * sizeof(node));
    free(a->nodes);
    a->nodes = grown;
    a->node_capacity = (uint32_t)wanted;
    return true;
}

/* Makes sure `count` nodes can be taken without failing, before anything changes. */
static bool nodes_reserve(offset_allocator *a, uint32_t count) {
    while (a->spare_count + (a->node_capacity - a->nodes_touched) < count) {
        if (!nodes_grow(a)) return false;
    }
    return true;
}

static uint32_t node_take(offset_allocator *a) {
    uint32_t index;
    if (a->spare_head != NO_NODE) {
        index = a->spare_head;
        a->spare_head = a->nodes[index].bin_next;
        a->spare_count--;
    } else {
        index = a->nodes_touched++;
        a->nodes[index].generation = 0;
    }
    return index;
}

static void node_release(offset_allocator *a, uint32_t index) {
    node *n = &a->nodes[index];
    n->state = NODE_SPARE;
    n->bin_next = a->spare_head;
    a->spare_head = index;
    a->spare_count++;
}

static offset_allocation_id id_of(const offset_allocator *a, uint32_t index) {
    if (a->index_bits == 32u) return index;
    return (a->nodes[index].generation << a->index_bits) | index;
}

/* The node of a live allocation, or NO_NODE for anything else. */
static uint32_t live_node_of(const offset_allocator *a, offset_allocation_id id) {
    uint32_t index = id & a->index_mask;
    if (index >= a->nodes_touched) return NO_NODE;
    if (a->nodes[index].state != NODE_USED) return NO_NODE;
    if (id_of(a, index) != id) return NO_NODE;
    return index;
}

/* ---- create / destroy ---------------------------------------------------------- */

offset_allocator *offset_allocator_create(uint64_t span_bytes, uint64_t unit_bytes) {
    if (unit_bytes == 0 || (unit_bytes & (unit_bytes - 1u)) != 0) return NULL;
    uint32_t unit_shift = (uint32_t)__builtin_ctzll(unit_bytes);
    uint64_t span_units = span_bytes >> unit_shift;
    if (span_units == 0 || span_units > UINT32_MAX) return NULL;

    offset_allocator *a = cache_lines_calloc(sizeof *a);
    if (!a) return NULL;
    a->unit_shift = unit_shift;
    a->span_units = (uint32_t)span_units;
    /* Indices stay below span_units, so the all-ones index (and with it
     * OFFSET_ALLOCATION_NONE) is never a valid id. */
    a->index_bits = highest_bit(a->span_units) + 1u;
    a->index_mask = a->index_bits == 32u ? UINT32_MAX : (1u << a->index_bits) - 1u;
    memset(a->bin_heads, 0xFF, sizeof a->bin_heads);
    a->spare_head = NO_NODE;
    a->node_capacity = span_units < INITIAL_NODE_CAPACITY ? (uint32_t)span_units : INITIAL_NODE_CAPACITY;
    a->nodes = cache_lines_calloc((size_t)a->node_capacity * sizeof(node));
    if (!a->nodes) {
        free(a);
        return NULL;
    }

    uint32_t whole = node_take(a);
    a->nodes[whole] =
        (node){.offset = 0, .size = a->span_units, .addr_prev = NO_NODE, .addr_next = NO_NODE, .state = NODE_FREE};
    bin_insert(a, whole);
    a->free_units = a->span_units;
    a->free_regions = 1;
    return a;
}

void offset_allocator_destroy(offset_allocator *allocator) {
    if (!allocator) return;
    free(allocator->nodes);
    free(allocator);
}

/* ---- allocate ------------------------------------------------------------------ */

typedef struct placement {
    uint32_t region; /* the free node that is carved */
    uint32_t offset; /* aligned start, units */
} placement;

static bool region_fits(const offset_allocator *a, uint32_t index, uint32_t units, uint64_t align_units,
                        placement *out) {
    if (index == NO_NODE) return false;
    const node *n = &a->nodes[index];
    uint64_t start = (n->offset + align_units - 1u) & ~(align_units - 1u);
    if (start + units > (uint64_t)n->offset + n->size) return false;
    *out = (placement){.region = index, .offset = (uint32_t)start};
    return true;
}

/* Three O(1) tries. First the head of the bin the size itself falls in: its
 * regions are within 12.5% of the size and the rounded-up search would skip
 * them, yet one may fit (typically the hole a same-sized allocation left).
 * Then the bin search for the bare size (fits unless alignment padding gets
 * in the way), then for the size plus worst-case padding (always fits). */
static bool find_region(const offset_allocator *a, uint32_t units, uint64_t align_units, placement *out) {
    uint32_t up = offset_allocator_bin_round_up(units);
    uint32_t down = offset_allocator_bin_round_down(units);
    if (down != up && region_fits(a, a->bin_heads[down], units, align_units, out)) return true;
    if (region_fits(a, first_region_at_or_above(a, up), units, align_units, out)) return true;
    uint64_t worst = units + align_units - 1u;
    if (align_units == 1u || worst > UINT32_MAX) return false;
    uint32_t padded = first_region_at_or_above(a, offset_allocator_bin_round_up((uint32_t)worst));
    return region_fits(a, padded, units, align_units, out);
}

/* Splits a free piece off `index` in address order: before it or after it. */
static void split_free_piece(offset_allocator *a, uint32_t index, uint32_t offset, uint32_t size, bool before) {
    uint32_t piece = node_take(a);
    node *n = &a->nodes[index];
    node *p = &a->nodes[piece];
    p->offset = offset;
    p->size = size;
    p->state = NODE_FREE;
    if (before) {
        p->addr_prev = n->addr_prev;
        p->addr_next = index;
        if (n->addr_prev != NO_NODE) a->nodes[n->addr_prev].addr_next = piece;
        n->addr_prev = piece;
    } else {
        p->addr_prev = index;
        p->addr_next = n->addr_next;
        if (n->addr_next != NO_NODE) a->nodes[n->addr_next].addr_prev = piece;
        n->addr_next = piece;
    }
    bin_insert(a, piece);
    a->free_regions++;
}

static void carve(offset_allocator *a, const placement *p, uint32_t units) {
    uint32_t index = p->region;
    node *n = &a->nodes[index];
    uint32_t region_start = n->offset;
    uint32_t region_end = n->offset + n->size;
    bin_remove(a, index);
    a->free_regions--;
    n->offset = p->offset;
    n->size = units;
    n->state = NODE_USED;
    if (p->offset > region_start) split_free_piece(a, index, region_start, p->offset - region_start, true);
    if (p->offset + units < region_end)
        split_free_piece(a, index, p->offset + units, region_end - (p->offset + units), false);
    a->free_units -= units;
    a->live_allocations++;
}

offset_allocator_result offset_allocator_allocate(offset_allocator *allocator, uint64_t size, uint64_t alignment,
                                                  offset_allocation *out) {
    offset_allocator *a = allocator;
    if (!a || !out || size == 0 || (alignment & (alignment - 1u)) != 0) return OFFSET_ALLOCATOR_INVALID_ARGUMENT;
    uint64_t unit_mask = (1ull << a->unit_shift) - 1u;
    uint64_t units = (size >> a->unit_shift) + ((size & unit_mask) != 0);
    if (units > a->free_units) return OFFSET_ALLOCATOR_NO_SPACE;
    uint64_t align_units = alignment > unit_mask + 1u ? alignment >> a->unit_shift : 1u;

    placement p;
    if (!find_region(a, (uint32_t)units, align_units, &p)) return OFFSET_ALLOCATOR_NO_SPACE;
    const node *region = &a->nodes[p.region];
    uint32_t pieces = (p.offset > region->offset) + (p.offset + units < (uint64_t)region->offset + region->size);
    if (!nodes_reserve(a, pieces)) return OFFSET_ALLOCATOR_OUT_OF_MEMORY;

    carve(a, &p, (uint32_t)units);
    *out = (offset_allocation){
        .offset = (uint64_t)p.offset << a->unit_shift, .size = units << a->unit_shift, .id = id_of(a, p.region)};
    return OFFSET_ALLOCATOR_OK;
}

uint64_t offset_allocator_span_for(uint64_t size, uint64_t unit_bytes) {
    if (unit_bytes == 0 || (unit_bytes & (unit_bytes - 1u)) != 0 || size == 0) return 0;
    uint64_t units = (size + unit_bytes - 1u) / unit_bytes;
    if (units > UINT32_MAX) return 0;
    uint64_t span_units = offset_allocator_bin_to_units(offset_allocator_bin_round_up((uint32_t)units));
    if (span_units > UINT32_MAX) return 0;
    return span_units * unit_bytes;
}

/* ---- free ---------------------------------------------------------------------- */

/* Folds a free neighbour into `index` and gives the neighbour's node back. */
static void absorb_free_neighbour(offset_allocator *a, uint32_t index, uint32_t neighbour) {
    node *n = &a->nodes[index];
    node *m = &a->nodes[neighbour];
    bin_remove(a, neighbour);
    a->free_regions--;
    if (m->offset < n->offset) {
        n->offset = m->offset;
        n->addr_prev = m->addr_prev;
        if (m->addr_prev != NO_NODE) a->nodes[m->addr_prev].addr_next = index;
    } else {
        n->addr_next = m->addr_next;
        if (m->addr_next != NO_NODE) a->nodes[m->addr_next].addr_prev = index;
    }
    n->size += m->size;
    node_release(a, neighbour);
}

static bool is_free(const offset_allocator *a, uint32_t index) {
    return index != NO_NODE && a->nodes[index].state == NODE_FREE;
}

offset_allocator_result offset_allocator_free(offset_allocator *allocator, offset_allocation_id id) {
    offset_allocator *a = allocator;
    if (!a) return OFFSET_ALLOCATOR_INVALID_ARGUMENT;
    uint32_t index = live_node_of(a, id);
    if (index == NO_NODE) return OFFSET_ALLOCATOR_INVALID_HANDLE;

    node *n = &a->nodes[index];
    a->free_units += n->size;
    a->live_allocations--;
    n->generation++;
    n->state = NODE_FREE;
    if (is_free(a, n->addr_prev)) absorb_free_neighbour(a, index, n->addr_prev);
    if (is_free(a, n->addr_next)) absorb_free_neighbour(a, index, n->addr_next);
    bin_insert(a, index);
    a->free_regions++;
    return OFFSET_ALLOCATOR_OK;
}

/* ---- queries ------------------------------------------------------------------- */

uint64_t offset_allocator_allocation_size(const offset_allocator *allocator, offset_allocation_id id) {
    if (!allocator) return 0;
    uint32_t index = live_node_of(allocator, id);
    if (index == NO_NODE) return 0;
    return (uint64_t)allocator->nodes[index].size << allocator->unit_shift;
}

static uint32_t highest_nonempty_bin(const offset_allocator *a) {
    uint32_t group = highest_bit(a->top_mask);
    return (group << 3) | highest_bit(a->leaf_masks[group]);
}

void offset_allocator_get_report(const offset_allocator *allocator, offset_allocator_report *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!allocator) return;
    const offset_allocator *a = allocator;
    out->unit_bytes = 1ull << a->unit_shift;
    out->span_bytes = (uint64_t)a->span_units << a->unit_shift;
    out->free_bytes = (uint64_t)a->free_units << a->unit_shift;
    out->free_regions = a->free_regions;
    out->live_allocations = a->live_allocations;
    if (a->top_mask) out->largest_free_bytes = offset_allocator_bin_to_units(highest_nonempty_bin(a)) << a->unit_shift;
    out->metadata_bytes = sizeof *a + (uint64_t)a->node_capacity * sizeof(node);
}

static uint64_t saturating_shift(uint64_t value, uint32_t shift) {
    if (value > (UINT64_MAX >> shift)) return UINT64_MAX;
    return value << shift;
}

void offset_allocator_get_bin_report(const offset_allocator *allocator, offset_allocator_bin_report *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!allocator) return;
    const offset_allocator *a = allocator;
    for (uint32_t bin = 0; bin < OFFSET_ALLOCATOR_BIN_COUNT; bin++) {
        out->bin_size_bytes[bin] = saturating_shift(offset_allocator_bin_to_units(bin), a->unit_shift);
        for (uint32_t i = a->bin_heads[bin]; i != NO_NODE; i = a->nodes[i].bin_next) {
            out->free_bytes[bin] += (uint64_t)a->nodes[i].size << a->unit_shift;
            out->free_regions[bin]++;
        }
    }
}

/* ---- validation ---------------------------------------------------------------- */

static bool broken(char *why, size_t why_size, const char *format, ...) {
    if (why != NULL && why_size > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(why, why_size, format, args);
        va_end(args);
    }
    return false;
}

/* The regions in address order: they start at 0, follow each other without a
 * gap, link both ways, end at the span's end, and never leave two free ones
 * side by side. Counts what it walks. */
static bool address_order_holds(const offset_allocator *a, uint32_t *free_count, uint64_t *free_units,
                                uint32_t *used_count, char *why, size_t why_size) {
    uint32_t first = NO_NODE;
    for (uint32_t i = 0; i < a->nodes_touched && first == NO_NODE; i++)
        if (a->nodes[i].state != NODE_SPARE && a->nodes[i].addr_prev == NO_NODE) first = i;
    if (first == NO_NODE) return broken(why, why_size, "no region starts the span");
    uint64_t expected_offset = 0;
    uint32_t prev = NO_NODE, walked = 0;
    for (uint32_t i = first; i != NO_NODE; prev = i, i = a->nodes[i].addr_next) {
        const node *n = &a->nodes[i];
        if (++walked > a->nodes_touched) return broken(why, why_size, "the address list loops");
        if (n->state == NODE_SPARE) return broken(why, why_size, "spare node %u is in the address list", i);
        if (n->addr_prev != prev)
            return broken(why, why_size, "node %u links back to %u, not %u", i, n->addr_prev, prev);
        if (n->offset != expected_offset)
            return broken(why, why_size, "node %u starts at unit %u, not %llu", i, n->offset,
                          (unsigned long long)expected_offset);
        if (n->size == 0) return broken(why, why_size, "node %u is empty", i);
        if (n->state == NODE_FREE && prev != NO_NODE && a->nodes[prev].state == NODE_FREE)
            return broken(why, why_size, "free nodes %u and %u touch and were not merged", prev, i);
        if (n->state == NODE_FREE) {
            (*free_count)++;
            *free_units += n->size;
        } else {
            (*used_count)++;
        }
        expected_offset += n->size;
    }
    if (expected_offset != a->span_units)
        return broken(why, why_size, "the regions cover %llu units of %u", (unsigned long long)expected_offset,
                      a->span_units);
    return true;
}

/* Every bin's list holds free nodes of that bin, linked both ways; the masks
 * mark exactly the bins with a list. Counts the nodes filed. */
static bool bins_hold(const offset_allocator *a, uint32_t *filed, char *why, size_t why_size) {
    for (uint32_t bin = 0; bin < OFFSET_ALLOCATOR_BIN_COUNT; bin++) {
        bool leaf_bit = (a->leaf_masks[bin >> 3] >> (bin & 7u)) & 1u;
        bool top_bit = (a->top_mask >> (bin >> 3)) & 1u;
        uint32_t head = a->bin_heads[bin];
        if (leaf_bit != (head != NO_NODE))
            return broken(why, why_size, "bin %u: leaf bit %d, list %s", bin, leaf_bit,
                          head != NO_NODE ? "non-empty" : "empty");
        if (leaf_bit && !top_bit) return broken(why, why_size, "bin %u is filled but its group bit is clear", bin);
        uint32_t prev = NO_NODE;
        for (uint32_t i = head; i != NO_NODE; prev = i, i = a->nodes[i].bin_next) {
            const node *n = &a->nodes[i];
            if (++*filed > a->nodes_touched) return broken(why, why_size, "bin %u's list loops", bin);
            if (n->state != NODE_FREE) return broken(why, why_size, "bin %u holds node %u, which is not free", bin, i);
            if (n->bin_prev != prev) return broken(why, why_size, "bin %u: node %u links back wrongly", bin, i);
            if (offset_allocator_bin_round_down(n->size) != bin)
                return broken(why, why_size, "node %u of %u units is filed in bin %u", i, n->size, bin);
        }
    }
    for (uint32_t group = 0; group < BIN_GROUPS; group++)
        if (((a->top_mask >> group) & 1u) != (a->leaf_masks[group] != 0))
            return broken(why, why_size, "group %u's bit does not match its bins", group);
    return true;
}

bool offset_allocator_validate(const offset_allocator *allocator, char *why, size_t why_size) {
    const offset_allocator *a = allocator;
    if (a == NULL) return broken(why, why_size, "no allocator");
    uint32_t free_count = 0, used_count = 0, filed = 0;
    uint64_t free_units = 0;
    if (!address_order_holds(a, &free_count, &free_units, &used_count, why, why_size)) return false;
    if (!bins_hold(a, &filed, why, why_size)) return false;
    if (filed != free_count) return broken(why, why_size, "%u free regions, %u filed in bins", free_count, filed);
    if (free_count != a->free_regions)
        return broken(why, why_size, "free_regions says %u, %u found", a->free_regions, free_count);
    if (free_units != a->free_units)
        return broken(why, why_size, "free_units says %u, %llu found", a->free_units, (unsigned long long)free_units);
    if (used_count != a->live_allocations)
        return broken(why, why_size, "live_allocations says %u, %u found", a->live_allocations, used_count);
    if (free_count + used_count + a->spare_count != a->nodes_touched)
        return broken(why, why_size, "%u free + %u used + %u spare nodes, %u touched", free_count, used_count,
                      a->spare_count, a->nodes_touched);
    return true;
}
