/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_layer: libFuzzer target for the layer itself, through the real loader.
 *
 * An input decodes to a sequence of Vulkan calls on device memory: allocations
 * of random sizes, types and pNext chains (plain, allocate flags, priority,
 * dedicated, export, host-pointer import, an unknown structure), frees, maps,
 * host writes, flushes and invalidates, binds of buffers and images (aliasing
 * included, bind2 arrays mixing layer and driver handles), names, tags,
 * private data, priorities, commitment, fd export, and a device teardown with
 * memory still live. The first byte picks the mode:
 *
 *   valid   (even)  every call is valid. Each is made twice: through the layer
 *                   and on a reference device without it (fuzz_layer_world.h),
 *                   and must return the same; both strict devices must count
 *                   the same violations (only the app's own aliasing), no layer
 *                   handle may reach the driver, the layer may say nothing above
 *                   info, and what the host wrote through a mapping must read
 *                   back as a model of coherent and non-coherent memory says.
 *   misuse  (odd)   the same, with invalid calls mixed in on the layer side only
 *                   (stale, forged and other-device handles, double maps, bad
 *                   ranges, misaligned binds, ...): the layer must answer each
 *                   with an error and a message, and let nothing reach the driver.
 *
 * The instances and devices persist across inputs; each input frees what it
 * made, and then the layer may keep only one empty block per pool.
 * FUZZ_LAYER_TRACE=1 prints every call, to turn a finding into a test.
 */
#include "fuzz_layer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CALLS 128

fz_world fz;
fz_state st;

/* ---- input ----------------------------------------------------------------------------- */

uint8_t fz_u8(fz_input *in) { return in->at < in->size ? in->data[in->at++] : 0; }

uint16_t fz_u16(fz_input *in) {
    uint16_t low = fz_u8(in);
    return (uint16_t)(low | (uint16_t)fz_u8(in) << 8);
}

uint32_t fz_u32(fz_input *in) {
    uint32_t low = fz_u16(in);
    return low | (uint32_t)fz_u16(in) << 16;
}

uint64_t fz_u64(fz_input *in) {
    uint64_t low = fz_u32(in);
    return low | (uint64_t)fz_u32(in) << 32;
}

/* ---- checks ---------------------------------------------------------------------------- */

void fz_finding(int line, const char *format, ...) {
    char what[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    fprintf(stderr, "fuzz_layer: FINDING (fuzz_layer check at line %d, %s mode, call %u): %s\n", line,
            st.misuse ? "misuse" : "valid", st.call, what);
    fprintf(stderr, "fuzz_layer: the layer's last message: %s\n", fz_last_layer_message());
    fflush(stderr);
    abort();
}

static uint64_t violations(int side) {
    StrictDeviceCounters counters;
    fz_dev(side)->fn.StrictGetCounters(fz_dev(side)->handle, &counters);
    return counters.violations;
}

static uint64_t unknown_memory(void) {
    return fz_dev(FZ_LAYER)->fn.StrictViolationCount(fz_dev(FZ_LAYER)->handle, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY);
}

fz_watch fz_watch_begin(void) {
    fz_watch w = {.unknown_memory = unknown_memory(), .messages = fz_layer_messages()};
    for (int s = 0; s < FZ_SIDES; s++) w.violations[s] = violations(s);
    return w;
}

static uint64_t loud_messages(fz_messages m) { return m.errors + m.warnings; }

static void no_layer_handle_below(const char *what, const fz_watch *w) {
    if (unknown_memory() != w->unknown_memory)
        FINDING("%s: a VkDeviceMemory the driver never made reached it from the layer (strict unknown-memory)", what);
}

void fz_watch_valid(const char *what, const fz_watch *w, bool messages_allowed) {
    no_layer_handle_below(what, w);
    uint64_t layer = violations(FZ_LAYER) - w->violations[FZ_LAYER];
    uint64_t reference = violations(FZ_REFERENCE) - w->violations[FZ_REFERENCE];
    if (layer != reference)
        FINDING("%s: the strict device counted %llu violations through the layer, %llu without it", what,
                (unsigned long long)layer, (unsigned long long)reference);
    if (!messages_allowed && loud_messages(fz_layer_messages()) != loud_messages(w->messages))
        FINDING("%s: a valid call made the layer warn or fail", what);
}

void fz_watch_caught(const char *what, const fz_watch *w, bool has_result, VkResult result) {
    no_layer_handle_below(what, w);
    if (has_result && result == VK_SUCCESS) FINDING("%s: the layer returned VK_SUCCESS for a misuse", what);
    if (violations(FZ_LAYER) != w->violations[FZ_LAYER])
        FINDING("%s: the misuse reached the driver (the strict device counted a violation)", what);
    if (loud_messages(fz_layer_messages()) == loud_messages(w->messages))
        FINDING("%s: the layer caught the misuse without a message", what);
}

void fz_watch_passed_on(const char *what, const fz_watch *w) { no_layer_handle_below(what, w); }

void fz_same_result(const char *what, const VkResult result[FZ_SIDES]) {
    if (result[FZ_LAYER] != result[FZ_REFERENCE])
        FINDING("%s: the layer returned %d, the driver alone %d", what, result[FZ_LAYER], result[FZ_REFERENCE]);
}

/* ---- picking ----------------------------------------------------------------------------- */

bool fz_host_visible(uint32_t type) {
    return fz.memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
}

bool fz_coherent(uint32_t type) {
    return fz.memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
}

int fz_pick_allocation(uint32_t pick, bool (*filter)(const fz_allocation *)) {
    for (uint32_t i = 0; i < FZ_MAX_ALLOCATIONS; i++) {
        int index = (int)((pick + i) % FZ_MAX_ALLOCATIONS);
        const fz_allocation *a = &st.allocations[index];
        if (a->live && (filter == NULL || filter(a))) return index;
    }
    return -1;
}

int fz_pick_resource(uint32_t pick) {
    for (uint32_t i = 0; i < FZ_MAX_RESOURCES; i++) {
        int index = (int)((pick + i) % FZ_MAX_RESOURCES);
        if (st.resources[index].live) return index;
    }
    return -1;
}

int fz_free_resource_slot(void) {
    for (int i = 0; i < FZ_MAX_RESOURCES; i++)
        if (!st.resources[i].live) return i;
    return -1;
}

void fz_remember_stale(VkDeviceMemory memory, bool layer_handle) {
    st.stale[st.stale_next] = memory;
    st.stale_layer[st.stale_next] = layer_handle;
    st.stale_next = (st.stale_next + 1) % FZ_MAX_STALE;
    if (st.stale_count < FZ_MAX_STALE) st.stale_count++;
}

/* ---- contents ------------------------------------------------------------------------------ */

/* The bytes of one atom stamped `stamp`: every atom of every write is its own. */
void fz_atom_pattern(uint32_t stamp, uint8_t out[FZ_ATOM]) {
    for (uint32_t i = 0; i < FZ_ATOM / 4; i++) {
        uint32_t word = (stamp * 2654435761u) ^ (i * 0x85ebca6bu) ^ 0x5bd1e995u;
        memcpy(out + 4 * i, &word, 4);
    }
}

/* The part of atom `atom` inside allocation a, when all of it lies in the mapping. */
static bool atom_in_mapping(const fz_allocation *a, uint32_t atom, VkDeviceSize *begin, VkDeviceSize *length) {
    VkDeviceSize start = (VkDeviceSize)atom * FZ_ATOM;
    VkDeviceSize end = start + FZ_ATOM < a->size ? start + FZ_ATOM : a->size;
    if (start < a->map_offset || end > a->map_end) return false;
    *begin = start;
    *length = end - start;
    return true;
}

void fz_check_contents(int index, const char *when) {
    const fz_allocation *a = &st.allocations[index];
    if (!a->mapped || a->host_view == NULL) return;
    uint8_t expected[FZ_ATOM];
    for (uint32_t atom = 0; atom < a->atoms; atom++) {
        VkDeviceSize begin, length;
        if (a->host_view[atom] == 0 || !atom_in_mapping(a, atom, &begin, &length)) continue;
        fz_atom_pattern(a->host_view[atom], expected);
        for (int s = 0; s < FZ_SIDES; s++)
            if (memcmp(a->data[s] + (begin - a->map_offset), expected, length) != 0)
                FINDING("%s: allocation %d (type %u, %llu bytes) lost what the host wrote at offset %llu %s", when,
                        index, a->type, (unsigned long long)a->size, (unsigned long long)begin,
                        s == FZ_LAYER ? "through the layer" : "on the reference device (a fuzzer bug)");
    }
}

/* Writes new stamps into atoms [first, first + count) that lie in the mapping. */
static void write_atoms(fz_allocation *a, uint32_t first, uint32_t count) {
    uint8_t bytes[FZ_ATOM];
    for (uint32_t atom = first; atom < first + count && atom < a->atoms; atom++) {
        VkDeviceSize begin, length;
        if (!atom_in_mapping(a, atom, &begin, &length)) continue;
        uint32_t stamp = ++st.next_stamp;
        if (stamp == 0) stamp = ++st.next_stamp;
        fz_atom_pattern(stamp, bytes);
        for (int s = 0; s < FZ_SIDES; s++) memcpy(a->data[s] + (begin - a->map_offset), bytes, length);
        a->host_view[atom] = stamp;
        if (fz_coherent(a->type)) a->device_view[atom] = stamp;
    }
}

/* A flush copies the host's view of the range's atoms to the device, an
 * invalidate the device's to the host; coherent memory has one view. */
void fz_model_flush(fz_allocation *a, VkDeviceSize offset, VkDeviceSize size, bool invalidate) {
    if (a->host_view == NULL || fz_coherent(a->type)) return;
    VkDeviceSize end = size == VK_WHOLE_SIZE ? a->map_end : offset + size;
    for (VkDeviceSize atom = offset / FZ_ATOM; atom * FZ_ATOM < end && atom < a->atoms; atom++) {
        if (invalidate) a->host_view[atom] = a->device_view[atom];
        else a->device_view[atom] = a->host_view[atom];
    }
}

/* Host writes of atoms [first, first + count), flushed at once when asked. */
void fz_op_write(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), NULL);
    uint16_t first = fz_u16(in);
    uint8_t count = fz_u8(in), flush = fz_u8(in);
    if (index < 0 || !st.allocations[index].mapped) return;
    fz_allocation *a = &st.allocations[index];
    first = (uint16_t)(first % a->atoms);
    count = (uint8_t)(1 + count % 8);
    if (fz_trace_on)
        fz_trace("  write allocation %d atoms %u+%u%s\n", index, first, count, flush & 1 ? ", flushed" : "");
    write_atoms(a, first, count);
    if (!(flush & 1)) return;

    /* The flush covers whole atoms in the mapping: from the first whole one. */
    VkDeviceSize begin = (VkDeviceSize)first * FZ_ATOM, end = begin + (VkDeviceSize)count * FZ_ATOM;
    if (begin < a->map_offset) begin = (a->map_offset + FZ_ATOM - 1) / FZ_ATOM * FZ_ATOM;
    if (end >= a->size) end = a->size;
    if (end > a->map_end) end = a->map_end / FZ_ATOM * FZ_ATOM;
    if (begin >= end) return;
    VkResult result[FZ_SIDES];
    fz_watch w = fz_watch_begin();
    for (int s = 0; s < FZ_SIDES; s++) {
        VkMappedMemoryRange range = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                                     .memory = a->memory[s],
                                     .offset = begin,
                                     .size = end - begin};
        result[s] = fz_dev(s)->fn.FlushMappedMemoryRanges(fz_dev(s)->handle, 1, &range);
    }
    fz_same_result("vkFlushMappedMemoryRanges after a write", result);
    fz_watch_valid("vkFlushMappedMemoryRanges after a write", &w, false);
    fz_model_flush(a, begin, end - begin, false);
}

/* What the host sees through the mapping; now and then what the device sees. */
void fz_op_check(fz_input *in) {
    int index = fz_pick_allocation(fz_u8(in), NULL);
    bool device = (fz_u8(in) & 3) == 0;
    if (index < 0) return;
    fz_check_contents(index, "a check of the mapping");
    if (device) fz_device_check(index);
}

/* ---- between inputs ------------------------------------------------------------------------ */

static void free_everything(void) {
    for (int r = 0; r < FZ_MAX_RESOURCES; r++)
        if (st.resources[r].live) fz_resource_destroy(r);
    for (int i = 0; i < FZ_MAX_ALLOCATIONS; i++)
        if (st.allocations[i].live) fz_free_allocation(i);
}

/* After an input, the reference holds nothing, and the layer only the empty
 * blocks its pools keep. More would be a leak that grows input after input. */
static void check_clean(void) {
    StrictDeviceCounters layer, reference;
    fz_dev(FZ_LAYER)->fn.StrictGetCounters(fz_dev(FZ_LAYER)->handle, &layer);
    fz_dev(FZ_REFERENCE)->fn.StrictGetCounters(fz_dev(FZ_REFERENCE)->handle, &reference);
    if (reference.live_allocations != FZ_PERSISTENT_ALLOCATIONS)
        FINDING("the reference device holds %llu allocations after the input (a fuzzer bug)",
                (unsigned long long)reference.live_allocations);
    if (layer.live_allocations > FZ_KEPT_BLOCKS_MAX + FZ_PERSISTENT_ALLOCATIONS)
        FINDING("the layer holds %llu driver allocations with no app allocation live (at most %u empty blocks)",
                (unsigned long long)layer.live_allocations - FZ_PERSISTENT_ALLOCATIONS, FZ_KEPT_BLOCKS_MAX);
    if (layer.live_mappings > layer.live_allocations)
        FINDING("the layer holds %llu driver mappings for %llu driver allocations",
                (unsigned long long)layer.live_mappings, (unsigned long long)layer.live_allocations);
}

/* ---- entry points ---------------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    st.inputs_since_teardown = FZ_TEARDOWN_INPUTS; /* a replayed input may tear down at once */
    if (!fz_world_init(&fz)) {
        fprintf(stderr, "fuzz_layer: cannot set up the layer chains; nothing to fuzz\n");
        exit(1);
    }
    return 0;
}

typedef void (*op_fn)(fz_input *in);

static void op_invalidate(fz_input *in) { fz_op_flush(in, true); }

static void op_flush(fz_input *in) { fz_op_flush(in, false); }

/* Allocation and binding come up most, so inputs build something to work on. */
static const op_fn ops[] = {
    fz_op_allocate,
    fz_op_allocate,
    fz_op_allocate,
    fz_op_free,
    fz_op_free,
    fz_op_map,
    fz_op_map,
    fz_op_unmap,
    fz_op_write,
    fz_op_write,
    op_flush,
    op_invalidate,
    fz_op_check,
    fz_op_bind,
    fz_op_bind,
    fz_op_bind2,
    fz_op_destroy_resource,
    fz_op_name,
    fz_op_private_data,
    fz_op_priority,
    fz_op_commitment,
    fz_op_memory_fd,
    fz_op_teardown,
    fz_op_misuse,
    fz_op_misuse,
};
#define OP_COUNT (sizeof ops / sizeof ops[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    fz_input in = {data, size, 1};
    st.misuse = data[0] & 1;
    st.torn_down = false;
    if (st.inputs_since_teardown < FZ_TEARDOWN_INPUTS) st.inputs_since_teardown++;
    st.call = 0;
    st.stale_count = st.stale_next = 0;
    if (fz_trace_on) fz_trace("input of %zu bytes, %s mode\n", size, st.misuse ? "misuse" : "valid");
    while (in.at < in.size && st.call < MAX_CALLS) {
        st.call++;
        ops[fz_u8(&in) % OP_COUNT](&in);
    }
    free_everything();
    check_clean();
    return 0;
}
