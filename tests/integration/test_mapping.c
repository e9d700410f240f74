/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mapping: vkMapMemory, vkUnmapMemory, vkFlushMappedMemoryRanges and
 * vkInvalidateMappedMemoryRanges behave for the app exactly as the spec says,
 * although with the layer many app allocations share one persistently mapped
 * driver block. Each rule is checked in every host-visible memory type a buffer
 * may use (lavapipe has one; the strict layer has three, one of them not coherent),
 * and what the host wrote is always read back by the GPU too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---------------------------------------------------------------- helpers */

typedef struct mapped_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size; /* of the buffer and the allocation */
    uint32_t type;
    bool coherent;
    uint8_t *data; /* while mapped */
} mapped_buffer;

/* The host-visible types a buffer may live in. */
static uint32_t host_visible_types(harness *h, uint32_t *types) {
    VkBuffer probe = harness_buffer_create(h, 256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, NULL);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, probe, &requirements);
    vkDestroyBuffer(h->device, probe, NULL);
    uint32_t count = harness_memory_types(h, requirements.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, types);
    REQUIRE(count > 0, "a buffer must have a host-visible memory type");
    return count;
}

/* A buffer of size bytes in its own allocation of type, bound at offset 0. */
static mapped_buffer make_buffer(harness *h, VkDeviceSize size, uint32_t type) {
    mapped_buffer b = {.size = size, .type = type};
    b.buffer = harness_buffer_create(h, size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, NULL);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, b.buffer, &requirements);
    REQUIRE(requirements.memoryTypeBits & (1u << type), "type %u allowed", type);
    b.size = requirements.size;
    b.coherent = harness_type_is(h, type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    VK_REQUIRE(harness_allocate_simple(h, b.size, type, &b.memory));
    VK_REQUIRE(vkBindBufferMemory(h->device, b.buffer, b.memory, 0));
    return b;
}

static void destroy_buffer(harness *h, mapped_buffer *b) {
    vkDestroyBuffer(h->device, b->buffer, NULL);
    vkFreeMemory(h->device, b->memory, NULL);
    memset(b, 0, sizeof *b);
}

static void map_whole(harness *h, mapped_buffer *b) {
    void *data;
    VK_REQUIRE(vkMapMemory(h->device, b->memory, 0, VK_WHOLE_SIZE, 0, &data));
    b->data = data;
}

static void unmap(harness *h, mapped_buffer *b) {
    vkUnmapMemory(h->device, b->memory);
    b->data = NULL;
}

static VkMappedMemoryRange range_of(const mapped_buffer *b, VkDeviceSize offset, VkDeviceSize size) {
    return (VkMappedMemoryRange){
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = b->memory,
        .offset = offset,
        .size = size,
    };
}

/* Host writes become device-visible: always legal, required where not coherent. */
static void flush_whole(harness *h, const mapped_buffer *b) {
    VkMappedMemoryRange range = range_of(b, 0, VK_WHOLE_SIZE);
    VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &range));
}

static void invalidate_whole(harness *h, const mapped_buffer *b) {
    VkMappedMemoryRange range = range_of(b, 0, VK_WHOLE_SIZE);
    VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &range));
}

/* The GPU copies b into a readback buffer: it must hold seed's pattern. */
static void check_on_gpu(harness *h, const mapped_buffer *b, VkDeviceSize bytes, uint32_t seed, const char *what) {
    harness_host_buffer readback;
    harness_host_buffer_create(h, bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    harness_copy_buffer(h, b->buffer, 0, readback.buffer, 0, bytes);
    harness_host_buffer_invalidate(h, &readback);
    CHECK(harness_check_pattern(readback.data, bytes, seed, what) == 0, "the GPU reads what the host wrote: %s", what);
    harness_host_buffer_destroy(h, &readback);
}

static const char *type_label(harness *h, uint32_t type) {
    static char label[64];
    snprintf(label, sizeof label, "type %u (%scoherent)", type,
             harness_type_is(h, type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) ? "" : "non-");
    return label;
}

/* ---------------------------------------------------------------- cases */

static void whole_size_mapping_covers_the_whole_allocation(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = host_visible_types(h, types);
    for (uint32_t t = 0; t < count; t++) {
        mapped_buffer b = make_buffer(h, (64 << 10) + 100, types[t]);
        map_whole(h, &b);
        harness_fill_pattern(b.data, b.size, 100 + t);
        flush_whole(h, &b);
        unmap(h, &b);
        map_whole(h, &b);
        invalidate_whole(h, &b);
        CHECK(harness_check_pattern(b.data, b.size, 100 + t, type_label(h, types[t])) == 0,
              "a second mapping shows every byte of the first");
        unmap(h, &b);
        check_on_gpu(h, &b, b.size, 100 + t, type_label(h, types[t]));
        destroy_buffer(h, &b);
    }
}

static void mapping_at_an_offset_points_at_that_offset(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = host_visible_types(h, types);
    VkDeviceSize map_alignment = h->properties.limits.minMemoryMapAlignment;
    for (uint32_t t = 0; t < count; t++) {
        /* A small neighbour first, so that with the layer this allocation does not start its block. */
        mapped_buffer neighbour = make_buffer(h, 100, types[t]);
        mapped_buffer b = make_buffer(h, 3 * 4096 + 64, types[t]);
        map_whole(h, &b);
        harness_fill_pattern(b.data, b.size, 200 + t);
        flush_whole(h, &b);
        unmap(h, &b);

        VkDeviceSize offsets[] = {0, 4, 100, 4096 + 12, b.size - 4};
        for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
            VkDeviceSize offset = offsets[i];
            void *data;
            VkDeviceSize size = i % 2 ? VK_WHOLE_SIZE : b.size - offset;
            VK_REQUIRE(vkMapMemory(h->device, b.memory, offset, size, 0, &data));
            CHECK(((uintptr_t)data - offset) % map_alignment == 0,
                  "pointer %p minus offset %" PRIu64 " is a multiple of minMemoryMapAlignment %" PRIu64, data,
                  (uint64_t)offset, (uint64_t)map_alignment);
            uint32_t expected = harness_pattern(200 + t, offset / 4);
            CHECK(memcmp(data, &expected, 4) == 0, "%s: the word at offset %" PRIu64 " is the first one mapped",
                  type_label(h, types[t]), (uint64_t)offset);
            vkUnmapMemory(h->device, b.memory);
        }
        destroy_buffer(h, &b);
        destroy_buffer(h, &neighbour);
    }
}

static void two_mapped_allocations_keep_independent_contents(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = host_visible_types(h, types);
    for (uint32_t t = 0; t < count; t++) {
        mapped_buffer a = make_buffer(h, 1000, types[t]);
        mapped_buffer b = make_buffer(h, 1000, types[t]);
        map_whole(h, &a);
        map_whole(h, &b);
        CHECK(a.data + a.size <= b.data || b.data + b.size <= a.data, "the two mappings do not overlap");
        harness_fill_pattern(a.data, a.size, 300 + t);
        harness_fill_pattern(b.data, b.size, 400 + t);
        CHECK(harness_check_pattern(a.data, a.size, 300 + t, "first") == 0, "writing the second kept the first");
        flush_whole(h, &a);

        /* Unmapping one must leave the other's mapping (maybe the same driver block) alive. */
        unmap(h, &a);
        harness_fill_pattern(b.data, b.size, 500 + t);
        flush_whole(h, &b);
        CHECK(harness_check_pattern(b.data, b.size, 500 + t, "second") == 0, "the second mapping survives");
        unmap(h, &b);
        check_on_gpu(h, &a, a.size, 300 + t, "first, after both unmapped");
        check_on_gpu(h, &b, b.size, 500 + t, "second, after both unmapped");
        destroy_buffer(h, &a);
        destroy_buffer(h, &b);
    }
}

static void unmap_and_map_again_keeps_contents(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = host_visible_types(h, types);
    for (uint32_t t = 0; t < count; t++) {
        mapped_buffer b = make_buffer(h, 8192, types[t]);
        for (uint32_t round = 0; round < 3; round++) {
            map_whole(h, &b);
            invalidate_whole(h, &b);
            if (round > 0)
                CHECK(harness_check_pattern(b.data, b.size, 600 + round - 1, type_label(h, types[t])) == 0,
                      "round %u sees what round %u wrote", round, round - 1);
            harness_fill_pattern(b.data, b.size, 600 + round);
            flush_whole(h, &b);
            unmap(h, &b);
        }
        check_on_gpu(h, &b, b.size, 602, type_label(h, types[t]));
        destroy_buffer(h, &b);
    }
}

static void freeing_mapped_memory_unmaps_it_and_spares_its_neighbours(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = host_visible_types(h, types);
    for (uint32_t t = 0; t < count; t++) {
        mapped_buffer a = make_buffer(h, 2048, types[t]);
        mapped_buffer b = make_buffer(h, 2048, types[t]);
        mapped_buffer c = make_buffer(h, 2048, types[t]);
        map_whole(h, &a);
        map_whole(h, &b);
        map_whole(h, &c);
        harness_fill_pattern(a.data, a.size, 700 + t);
        harness_fill_pattern(b.data, b.size, 710 + t);
        harness_fill_pattern(c.data, c.size, 720 + t);
        destroy_buffer(h, &b); /* freed while mapped: an implicit unmap */

        /* A newcomer (maybe in b's place) maps and writes; a and c keep theirs. */
        mapped_buffer d = make_buffer(h, 2048, types[t]);
        map_whole(h, &d);
        harness_fill_pattern(d.data, d.size, 730 + t);
        CHECK(harness_check_pattern(a.data, a.size, 700 + t, "a") == 0, "a's mapping outlives b's free");
        CHECK(harness_check_pattern(c.data, c.size, 720 + t, "c") == 0, "c's mapping outlives b's free");
        flush_whole(h, &a);
        flush_whole(h, &c);
        flush_whole(h, &d);
        check_on_gpu(h, &a, a.size, 700 + t, "a");
        check_on_gpu(h, &c, c.size, 720 + t, "c");
        check_on_gpu(h, &d, d.size, 730 + t, "d");
        /* c goes mapped too; d was never unmapped either. */
        destroy_buffer(h, &c);
        destroy_buffer(h, &d);
        unmap(h, &a);
        destroy_buffer(h, &a);
    }
}

/* Ranges in atoms: flushes and invalidates of parts of a mapping, VK_WHOLE_SIZE
 * from an offset, in both directions between host and GPU. */
static void flush_and_invalidate_ranges_carry_data_both_ways(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = host_visible_types(h, types);
    VkDeviceSize atom = h->properties.limits.nonCoherentAtomSize;
    bool saw_non_coherent = false;
    for (uint32_t t = 0; t < count; t++) {
        saw_non_coherent |= !harness_type_is(h, types[t], VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        mapped_buffer neighbour = make_buffer(h, 100, types[t]);
        mapped_buffer b = make_buffer(h, 16 * atom + 40, types[t]);
        map_whole(h, &b);
        harness_fill_pattern(b.data, b.size, 800 + t);
        VkMappedMemoryRange host_to_gpu[] = {range_of(&b, 0, 3 * atom), range_of(&b, 3 * atom, 5 * atom),
                                             range_of(&b, 8 * atom, VK_WHOLE_SIZE)};
        VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 3, host_to_gpu));
        check_on_gpu(h, &b, b.size, 800 + t, type_label(h, types[t]));

        VkCommandBuffer commands = harness_begin(h);
        vkCmdFillBuffer(commands, b.buffer, 2 * atom, 4 * atom, 0xC3C3C3C3u);
        harness_barrier(commands);
        harness_submit_and_wait(h, commands);
        VkMappedMemoryRange gpu_to_host[] = {range_of(&b, 2 * atom, 2 * atom), range_of(&b, 4 * atom, VK_WHOLE_SIZE)};
        VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 2, gpu_to_host));
        uint64_t wrong = 0;
        const uint32_t *words = (const uint32_t *)b.data;
        for (VkDeviceSize i = 0; i < b.size / 4; i++) {
            bool filled = i * 4 >= 2 * atom && i * 4 < 6 * atom;
            wrong += words[i] != (filled ? 0xC3C3C3C3u : harness_pattern(800 + t, i));
        }
        CHECK(wrong == 0, "%s: %" PRIu64 " words differ after the GPU fill and invalidate", type_label(h, types[t]),
              wrong);
        unmap(h, &b);

        /* Mapped from an offset: VK_WHOLE_SIZE means to the end of this allocation only. */
        void *data;
        VK_REQUIRE(vkMapMemory(h->device, b.memory, 4 * atom, VK_WHOLE_SIZE, 0, &data));
        harness_fill_pattern(data, b.size - 4 * atom, 900 + t);
        VkMappedMemoryRange tail = range_of(&b, 4 * atom, VK_WHOLE_SIZE);
        VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &tail));
        VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &tail));
        CHECK(harness_check_pattern(data, b.size - 4 * atom, 900 + t, "tail") == 0,
              "invalidating what was just flushed keeps it");
        vkUnmapMemory(h->device, b.memory);
        harness_host_buffer readback;
        harness_host_buffer_create(h, b.size - 4 * atom, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
        harness_copy_buffer(h, b.buffer, 4 * atom, readback.buffer, 0, b.size - 4 * atom);
        harness_host_buffer_invalidate(h, &readback);
        CHECK(harness_check_pattern(readback.data, b.size - 4 * atom, 900 + t, "tail on the GPU") == 0,
              "%s: a flush of VK_WHOLE_SIZE from an offset reaches the GPU", type_label(h, types[t]));
        harness_host_buffer_destroy(h, &readback);
        destroy_buffer(h, &b);
        destroy_buffer(h, &neighbour);
    }
    if (!saw_non_coherent) printf("  no non-coherent memory type here: ranges exercised on coherent memory\n");
}

/* Where sub-allocations share non-coherent cache lines, invalidating one would
 * throw away the other's unflushed writes. */
static void invalidating_one_allocation_keeps_a_neighbours_unflushed_writes(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = host_visible_types(h, types);
    uint32_t tested = 0;
    for (uint32_t t = 0; t < count; t++) {
        if (harness_type_is(h, types[t], VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) continue;
        tested++;
        mapped_buffer list[8];
        for (uint32_t i = 0; i < 8; i++) {
            list[i] = make_buffer(h, 100, types[t]);
            map_whole(h, &list[i]);
            harness_fill_pattern(list[i].data, list[i].size, 1000 + i);
            if (i % 2) invalidate_whole(h, &list[i]); /* drops its own writes, nobody else's */
        }
        for (uint32_t i = 0; i < 8; i += 2) {
            flush_whole(h, &list[i]);
            check_on_gpu(h, &list[i], list[i].size, 1000 + i, "an allocation next to an invalidated one");
        }
        for (uint32_t i = 0; i < 8; i++) destroy_buffer(h, &list[i]);
    }
    if (!tested) harness_skip("no non-coherent host-visible memory type (the strict layer has one)");
}

/* Two resources bound inside one allocation at non-zero offsets: the GPU copies
 * one into the other, a shader copies it on through classic descriptors, and the
 * host reads the result through the mapping. */
static void copies_between_resources_bound_at_offsets_read_back_right(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = host_visible_types(h, types);
    VkDescriptorSetLayoutBinding bindings[2] = {
        {0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
    };
    VkDescriptorSetLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 2,
        .pBindings = bindings,
    };
    VkDescriptorSetLayout set_layout;
    VK_REQUIRE(vkCreateDescriptorSetLayout(h->device, &layout_info, NULL, &set_layout));
    harness_pipeline copy;
    harness_compute_pipeline(h, "copy_by_descriptor", set_layout, sizeof(uint32_t), &copy);
    VkDescriptorPoolSize pool_size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 * VK_MAX_MEMORY_TYPES};
    VkDescriptorPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = VK_MAX_MEMORY_TYPES,
        .poolSizeCount = 1,
        .pPoolSizes = &pool_size,
    };
    VkDescriptorPool pool;
    VK_REQUIRE(vkCreateDescriptorPool(h->device, &pool_info, NULL, &pool));

    const VkDeviceSize bytes = 6000;
    for (uint32_t t = 0; t < count; t++) {
        VkBuffer buffers[3];
        VkMemoryRequirements requirements[3];
        VkDeviceSize offsets[3], end = 0;
        for (uint32_t i = 0; i < 3; i++) {
            buffers[i] = harness_buffer_create(h, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, NULL);
            vkGetBufferMemoryRequirements(h->device, buffers[i], &requirements[i]);
            offsets[i] = harness_align_up(end + 1 + 100 * i, requirements[i].alignment);
            end = offsets[i] + requirements[i].size;
        }
        VkDeviceMemory memory;
        VK_REQUIRE(harness_allocate_simple(h, end, types[t], &memory));
        for (uint32_t i = 0; i < 3; i++) VK_REQUIRE(vkBindBufferMemory(h->device, buffers[i], memory, offsets[i]));
        bool coherent = harness_type_is(h, types[t], VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);

        uint8_t *data;
        VK_REQUIRE(vkMapMemory(h->device, memory, 0, VK_WHOLE_SIZE, 0, (void **)&data));
        memset(data, 0, end);
        harness_fill_pattern(data + offsets[0], bytes, 1100 + t);
        VkMappedMemoryRange whole = {
            .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
        if (!coherent) VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &whole));

        VkDescriptorSetAllocateInfo set_info = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = pool,
            .descriptorSetCount = 1,
            .pSetLayouts = &set_layout,
        };
        VkDescriptorSet set;
        VK_REQUIRE(vkAllocateDescriptorSets(h->device, &set_info, &set));
        VkDescriptorBufferInfo from = {buffers[1], 0, VK_WHOLE_SIZE}, to = {buffers[2], 0, VK_WHOLE_SIZE};
        VkWriteDescriptorSet writes[2] = {
            {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, NULL, set, 0, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, NULL, &from,
             NULL},
            {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, NULL, set, 1, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, NULL, &to,
             NULL},
        };
        vkUpdateDescriptorSets(h->device, 2, writes, 0, NULL);

        VkCommandBuffer commands = harness_begin(h);
        VkBufferCopy region = {.size = bytes};
        vkCmdCopyBuffer(commands, buffers[0], buffers[1], 1, &region);
        harness_barrier(commands);
        uint32_t words = bytes / 4;
        vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, copy.pipeline);
        vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE, copy.layout, 0, 1, &set, 0, NULL);
        vkCmdPushConstants(commands, copy.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof words, &words);
        vkCmdDispatch(commands, 4, 1, 1);
        harness_barrier(commands);
        harness_submit_and_wait(h, commands);

        if (!coherent) VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &whole));
        for (uint32_t i = 0; i < 3; i++)
            CHECK(harness_check_pattern(data + offsets[i], bytes, 1100 + t, type_label(h, types[t])) == 0,
                  "buffer %u at offset %" PRIu64 " holds the pattern", i, (uint64_t)offsets[i]);
        vkUnmapMemory(h->device, memory);
        for (uint32_t i = 0; i < 3; i++) vkDestroyBuffer(h->device, buffers[i], NULL);
        vkFreeMemory(h->device, memory, NULL);
    }
    vkDestroyDescriptorPool(h->device, pool, NULL);
    harness_pipeline_destroy(h, &copy);
    vkDestroyDescriptorSetLayout(h->device, set_layout, NULL);
}

int main(int argc, char **argv) {
#define CASE(name) \
    { #name, name }
    static const harness_case cases[] = {
        CASE(whole_size_mapping_covers_the_whole_allocation),
        CASE(mapping_at_an_offset_points_at_that_offset),
        CASE(two_mapped_allocations_keep_independent_contents),
        CASE(unmap_and_map_again_keeps_contents),
        CASE(freeing_mapped_memory_unmaps_it_and_spares_its_neighbours),
        CASE(flush_and_invalidate_ranges_carry_data_both_ways),
        CASE(invalidating_one_allocation_keeps_a_neighbours_unflushed_writes),
        CASE(copies_between_resources_bound_at_offsets_read_back_right),
    };
#undef CASE
    harness_device_request request = {0};
    return harness_main(argc, argv, &request, cases, sizeof cases / sizeof cases[0]);
}
