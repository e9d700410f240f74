/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_many_allocations: a naive engine's memory use, checked byte for byte.
 *
 * More than 20,000 live allocations (one per buffer or image, as apps that never
 * heard of sub-allocation make them), of mixed sizes from 64 B to 8 MiB, in every
 * memory type each resource allows; some allocations hold several resources at
 * non-zero offsets. Unique patterns go in through mappings (or staging copies for
 * memory the host cannot see), a compute shader transforms every buffer (by buffer
 * device address, and some through classic descriptor sets), images travel by
 * copies, and every byte is compared with what the host computed. Half of the
 * allocations are then freed in random order, new ones fill the holes, everything
 * is checked again, and the rest is freed in random order.
 *
 * With the layer, the driver must have seen only a handful of allocations.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "transform.h"

enum {
    TARGET_ALLOCATIONS = 20480,
    COMPOSITE_ALLOCATIONS = 512, /* buffer + optimal image + buffer in one allocation */
    IMAGE_ALLOCATIONS = 512,
    DESCRIPTOR_ALLOCATIONS = 256,
    REUSE_ALLOCATIONS = 4096,  /* allocated into the holes of the freed half */
    RESERVED_ALLOCATIONS = 16, /* staging and tables, under the app's limit too */
    MAX_RESOURCES = (TARGET_ALLOCATIONS + 2 * COMPOSITE_ALLOCATIONS + REUSE_ALLOCATIONS),
    MAX_ALLOCATIONS = TARGET_ALLOCATIONS + REUSE_ALLOCATIONS,
    CHUNK_WORDS = 16384, /* one shader workgroup transforms 64 KiB */
    DRIVER_ALLOCATIONS_BELOW = 64,
};

#define IMAGE_FORMAT VK_FORMAT_R8G8B8A8_UINT

typedef enum resource_kind {
    BUFFER_BY_ADDRESS,    /* transformed by transform_by_address.comp */
    BUFFER_BY_DESCRIPTOR, /* transformed by transform_by_descriptor.comp */
    IMAGE,                /* uploaded and read back by copies */
} resource_kind;

typedef struct resource {
    resource_kind kind;
    VkBuffer buffer;
    VkImage image;
    VkExtent2D extent;
    VkDeviceSize offset; /* in its allocation */
    VkDeviceSize bytes;  /* of data: the buffer's size, or texels * 4 */
    VkDeviceAddress address;
    uint32_t seed;
    uint32_t allocation;
    bool uploaded;    /* its pattern is on the GPU */
    bool transformed; /* the shader has run over it */
    VkDeviceSize staging_offset;
} resource;

typedef struct allocation {
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint32_t type;
    bool host_visible, coherent;
    uint32_t first_resource, resource_count;
    bool live;
} allocation;

typedef struct world {
    harness *h;
    harness_rng rng;
    resource resources[MAX_RESOURCES];
    allocation allocations[MAX_ALLOCATIONS];
    uint32_t resource_count, allocation_count;
    uint32_t next_seed;
    harness_pipeline by_address, by_descriptor;
    VkDescriptorSetLayout set_layout;
    VkDescriptorPool descriptor_pool;
    VkDeviceSize granularity;
} world;

static world w;

/* ---------------------------------------------------------------- sizes */

static VkDeviceSize log_uniform(VkDeviceSize low, VkDeviceSize high) {
    double u = (double)harness_rng_below(&w.rng, 1u << 20) / (double)(1u << 20);
    VkDeviceSize size = (VkDeviceSize)((double)low * exp2(u * log2((double)high / (double)low)));
    return size / 16 * 16 < low ? low : size / 16 * 16;
}

enum { SMALLEST_BUFFER = 64, LARGEST_BUFFER = 8 << 20 };

/* Mostly small, as engines allocate: the total stays a few hundred MiB. */
static VkDeviceSize random_buffer_size(void) {
    uint64_t r = harness_rng_below(&w.rng, 1000);
    if (r < 750) return log_uniform(SMALLEST_BUFFER, 4096);
    if (r < 975) return log_uniform(4096, 64 << 10);
    if (r < 999) return log_uniform(64 << 10, 1 << 20);
    return log_uniform(1 << 20, LARGEST_BUFFER);
}

/* ---------------------------------------------------------------- creation */

static VkBuffer create_buffer(VkDeviceSize size, bool by_address) {
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT | (by_address ? VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT : 0),
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer;
    VK_REQUIRE(vkCreateBuffer(w.h->device, &info, NULL, &buffer));
    return buffer;
}

static VkImage create_image(VkExtent2D extent) {
    VkImageCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = IMAGE_FORMAT,
        .extent = {extent.width, extent.height, 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    VkImage image;
    VK_REQUIRE(vkCreateImage(w.h->device, &info, NULL, &image));
    return image;
}

static resource *new_buffer_resource(resource_kind kind, VkDeviceSize size, VkMemoryRequirements *requirements) {
    REQUIRE(w.resource_count < MAX_RESOURCES, "resource table full");
    resource *r = &w.resources[w.resource_count++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->bytes = size;
    r->seed = ++w.next_seed;
    r->buffer = create_buffer(size, kind == BUFFER_BY_ADDRESS);
    vkGetBufferMemoryRequirements(w.h->device, r->buffer, requirements);
    return r;
}

static resource *new_image_resource(VkMemoryRequirements *requirements) {
    REQUIRE(w.resource_count < MAX_RESOURCES, "resource table full");
    resource *r = &w.resources[w.resource_count++];
    memset(r, 0, sizeof *r);
    r->kind = IMAGE;
    r->extent.width = 4 + (uint32_t)harness_rng_below(&w.rng, 61);
    r->extent.height = 4 + (uint32_t)harness_rng_below(&w.rng, 61);
    r->bytes = (VkDeviceSize)r->extent.width * r->extent.height * 4;
    r->seed = ++w.next_seed;
    r->image = create_image(r->extent);
    vkGetImageMemoryRequirements(w.h->device, r->image, requirements);
    return r;
}

/* Rotates through every type the resources allow, so each type gets its share. */
static uint32_t rotate_type(uint32_t type_bits, uint32_t nth) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = harness_memory_types(w.h, type_bits, 0, types);
    REQUIRE(count > 0, "no memory type for type bits 0x%x", type_bits);
    return types[nth % count];
}

static void allocate_and_bind(uint32_t first_resource, uint32_t resource_count, VkDeviceSize size, uint32_t type_bits,
                              bool device_address) {
    REQUIRE(w.allocation_count < MAX_ALLOCATIONS, "allocation table full");
    uint32_t index = w.allocation_count++;
    allocation *a = &w.allocations[index];
    memset(a, 0, sizeof *a);
    a->size = size;
    a->type = rotate_type(type_bits, index);
    a->host_visible = harness_type_is(w.h, a->type, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    a->coherent = harness_type_is(w.h, a->type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    a->first_resource = first_resource;
    a->resource_count = resource_count;

    VkMemoryAllocateFlagsInfo flags = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
        .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
    };
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = device_address ? &flags : NULL,
        .allocationSize = size,
        .memoryTypeIndex = a->type,
    };
    VkResult result = harness_allocate(w.h, &info, &a->memory);
    REQUIRE(result == VK_SUCCESS, "allocation %u (%" PRIu64 " bytes, type %u) failed: %s", index, (uint64_t)size,
            a->type, vk_result_name(result));
    a->live = true;

    for (uint32_t i = 0; i < resource_count; i++) {
        resource *r = &w.resources[first_resource + i];
        r->allocation = index;
        if (r->kind == IMAGE) {
            VK_REQUIRE(vkBindImageMemory(w.h->device, r->image, a->memory, r->offset));
            continue;
        }
        VK_REQUIRE(vkBindBufferMemory(w.h->device, r->buffer, a->memory, r->offset));
        if (r->kind == BUFFER_BY_ADDRESS) {
            VkBufferDeviceAddressInfo where = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
                                               .buffer = r->buffer};
            r->address = vkGetBufferDeviceAddress(w.h->device, &where);
            REQUIRE(r->address != 0, "a buffer device address");
        }
    }
}

static void make_single_buffer(resource_kind kind, VkDeviceSize size) {
    VkMemoryRequirements requirements;
    uint32_t first = w.resource_count;
    new_buffer_resource(kind, size, &requirements);
    allocate_and_bind(first, 1, requirements.size, requirements.memoryTypeBits, kind == BUFFER_BY_ADDRESS);
}

static void make_single_image(void) {
    VkMemoryRequirements requirements;
    uint32_t first = w.resource_count;
    new_image_resource(&requirements);
    allocate_and_bind(first, 1, requirements.size, requirements.memoryTypeBits, false);
}

/* Where the next resource may start: its own alignment, and a fresh granularity
 * page when it is linear after optimal or optimal after linear. */
static VkDeviceSize place_after(VkDeviceSize end, VkDeviceSize alignment, bool changes_tiling) {
    VkDeviceSize start = harness_align_up(end, alignment);
    return changes_tiling ? harness_align_up(start, w.granularity) : start;
}

/* A buffer, an optimal image and a buffer in one allocation, none at offset 0. */
static void make_composite(void) {
    VkMemoryRequirements first_req, image_req, last_req;
    uint32_t first = w.resource_count;
    resource *a = new_buffer_resource(BUFFER_BY_ADDRESS, log_uniform(64, 4096), &first_req);
    resource *image = new_image_resource(&image_req);
    resource *b = new_buffer_resource(BUFFER_BY_ADDRESS, log_uniform(64, 4096), &last_req);

    a->offset = first_req.alignment * (1 + harness_rng_below(&w.rng, 4));
    image->offset = place_after(a->offset + first_req.size, image_req.alignment, true);
    b->offset = place_after(image->offset + image_req.size, last_req.alignment, true);
    VkDeviceSize size = b->offset + last_req.size;
    uint32_t type_bits = first_req.memoryTypeBits & image_req.memoryTypeBits & last_req.memoryTypeBits;
    allocate_and_bind(first, 3, size, type_bits, true);
}

typedef enum allocation_plan {
    PLAN_ADDRESS_BUFFER,
    PLAN_COMPOSITE,
    PLAN_IMAGE,
    PLAN_DESCRIPTOR_BUFFER,
} allocation_plan;

/* The first allocations, their kinds shuffled so pools see them mixed. */
static void create_everything(uint32_t allocation_target) {
    uint32_t buffers = allocation_target - COMPOSITE_ALLOCATIONS - IMAGE_ALLOCATIONS - DESCRIPTOR_ALLOCATIONS;
    uint32_t *plan = malloc(sizeof *plan * allocation_target);
    REQUIRE(plan, "memory for the plan");
    uint32_t n = 0;
    for (uint32_t i = 0; i < buffers; i++) plan[n++] = PLAN_ADDRESS_BUFFER;
    for (uint32_t i = 0; i < COMPOSITE_ALLOCATIONS; i++) plan[n++] = PLAN_COMPOSITE;
    for (uint32_t i = 0; i < IMAGE_ALLOCATIONS; i++) plan[n++] = PLAN_IMAGE;
    for (uint32_t i = 0; i < DESCRIPTOR_ALLOCATIONS; i++) plan[n++] = PLAN_DESCRIPTOR_BUFFER;
    harness_shuffle(&w.rng, plan + 2, n - 2);

    /* The first two are address buffers at both ends of the size range, always. */
    make_single_buffer(BUFFER_BY_ADDRESS, SMALLEST_BUFFER);
    make_single_buffer(BUFFER_BY_ADDRESS, LARGEST_BUFFER);
    for (uint32_t i = 2; i < n; i++) {
        switch ((allocation_plan)plan[i]) {
        case PLAN_ADDRESS_BUFFER: make_single_buffer(BUFFER_BY_ADDRESS, random_buffer_size()); break;
        case PLAN_COMPOSITE: make_composite(); break;
        case PLAN_IMAGE: make_single_image(); break;
        case PLAN_DESCRIPTOR_BUFFER: make_single_buffer(BUFFER_BY_DESCRIPTOR, random_buffer_size()); break;
        }
    }
    free(plan);
}

/* ---------------------------------------------------------------- expectations */

static uint32_t expected_word(const resource *r, uint32_t index) {
    uint32_t word = harness_pattern(r->seed, index);
    if (!r->transformed) return word;
    return r->kind == BUFFER_BY_ADDRESS ? transform_by_address(word, index) : transform_by_descriptor(word, index);
}

static uint64_t compare(const resource *r, const uint8_t *data) {
    const uint32_t *words = (const uint32_t *)data;
    uint64_t wrong = 0;
    uint32_t first = UINT32_MAX;
    for (uint32_t i = 0; i < r->bytes / 4; i++) {
        if (words[i] == expected_word(r, i)) continue;
        if (first == UINT32_MAX) first = i;
        wrong += 4;
    }
    static unsigned reported;
    if (wrong && ++reported <= 10)
        fprintf(stderr,
                "  resource seed %u (kind %d, %" PRIu64 " bytes at offset %" PRIu64
                " of allocation %u, type %u): %" PRIu64 " bytes wrong from word %u: 0x%08x, expected 0x%08x\n",
                r->seed, (int)r->kind, (uint64_t)r->bytes, (uint64_t)r->offset, r->allocation,
                w.allocations[r->allocation].type, wrong, first, words[first], expected_word(r, first));
    return wrong;
}

/* ---------------------------------------------------------------- host access */

static bool through_staging(const resource *r) {
    return r->kind == IMAGE || !w.allocations[r->allocation].host_visible;
}

static void write_or_check_mapped(const allocation *a, bool writing, uint64_t *wrong) {
    void *mapped;
    VK_REQUIRE(vkMapMemory(w.h->device, a->memory, 0, VK_WHOLE_SIZE, 0, &mapped));
    VkMappedMemoryRange whole = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = a->memory, .size = VK_WHOLE_SIZE};
    if (!writing && !a->coherent) VK_REQUIRE(vkInvalidateMappedMemoryRanges(w.h->device, 1, &whole));
    for (uint32_t i = 0; i < a->resource_count; i++) {
        resource *r = &w.resources[a->first_resource + i];
        if (r->kind == IMAGE) continue;
        uint8_t *data = (uint8_t *)mapped + r->offset;
        if (!writing) {
            *wrong += compare(r, data);
        } else if (!r->uploaded) {
            harness_fill_pattern(data, r->bytes, r->seed);
            r->uploaded = true;
        }
    }
    if (writing && !a->coherent) VK_REQUIRE(vkFlushMappedMemoryRanges(w.h->device, 1, &whole));
    vkUnmapMemory(w.h->device, a->memory);
}

/* Writes the pattern of every host-visible buffer not yet written. */
static void write_through_mappings(void) {
    for (uint32_t i = 0; i < w.allocation_count; i++)
        if (w.allocations[i].live && w.allocations[i].host_visible)
            write_or_check_mapped(&w.allocations[i], true, NULL);
}

static uint64_t check_through_mappings(void) {
    uint64_t wrong = 0;
    for (uint32_t i = 0; i < w.allocation_count; i++)
        if (w.allocations[i].live && w.allocations[i].host_visible)
            write_or_check_mapped(&w.allocations[i], false, &wrong);
    return wrong;
}

/* ---------------------------------------------------------------- GPU work */

/* Gives every live resource that travels by copy a slot; returns the bytes needed. */
static VkDeviceSize assign_staging(void) {
    VkDeviceSize size = 0;
    for (uint32_t i = 0; i < w.resource_count; i++) {
        resource *r = &w.resources[i];
        if (!w.allocations[r->allocation].live || !through_staging(r)) continue;
        r->staging_offset = size;
        size = harness_align_up(size + r->bytes, 16);
    }
    return size ? size : 16;
}

static void image_barrier(VkCommandBuffer commands, VkImageLayout from, VkImageLayout to, bool only_new) {
    enum { BATCH = 256 };
    VkImageMemoryBarrier barriers[BATCH];
    uint32_t count = 0;
    for (uint32_t i = 0; i <= w.resource_count; i++) {
        bool flush = i == w.resource_count || count == BATCH;
        if (flush && count) {
            vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                                 VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL, count, barriers);
            count = 0;
        }
        if (i == w.resource_count) break;
        resource *r = &w.resources[i];
        if (r->kind != IMAGE || !w.allocations[r->allocation].live || (only_new && r->uploaded)) continue;
        barriers[count++] = (VkImageMemoryBarrier){
            .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
            .oldLayout = from,
            .newLayout = to,
            .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .image = r->image,
            .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
        };
    }
}

static VkBufferImageCopy image_region(const resource *r) {
    return (VkBufferImageCopy){
        .bufferOffset = r->staging_offset,
        .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
        .imageExtent = {r->extent.width, r->extent.height, 1},
    };
}

/* Patterns of resources not yet on the GPU go to the staging buffer and are copied in. */
static void record_uploads(VkCommandBuffer commands, harness_host_buffer *staging) {
    image_barrier(commands, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, true);
    for (uint32_t i = 0; i < w.resource_count; i++) {
        resource *r = &w.resources[i];
        if (!w.allocations[r->allocation].live || !through_staging(r) || r->uploaded) continue;
        harness_fill_pattern(staging->data + r->staging_offset, r->bytes, r->seed);
        if (r->kind == IMAGE) {
            VkBufferImageCopy region = image_region(r);
            vkCmdCopyBufferToImage(commands, staging->buffer, r->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                                   &region);
        } else {
            VkBufferCopy region = {.srcOffset = r->staging_offset, .size = r->bytes};
            vkCmdCopyBuffer(commands, staging->buffer, r->buffer, 1, &region);
        }
    }
    harness_host_buffer_flush(w.h, staging);
    harness_barrier(commands);
    image_barrier(commands, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, true);
}

/* Every live buffer the shader has not seen yet, in 64 KiB chunks: returns how many. */
static uint32_t fill_chunk_table(transform_chunk *table, uint32_t capacity) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < w.resource_count; i++) {
        resource *r = &w.resources[i];
        if (r->kind != BUFFER_BY_ADDRESS || !w.allocations[r->allocation].live || r->transformed) continue;
        uint32_t words = (uint32_t)(r->bytes / 4);
        for (uint32_t first = 0; first < words; first += CHUNK_WORDS) {
            if (count == capacity) return count;
            table[count++] = (transform_chunk){
                .address = r->address + (VkDeviceAddress)first * 4,
                .word_count = words - first < CHUNK_WORDS ? words - first : CHUNK_WORDS,
                .first_index = first,
            };
        }
    }
    return count;
}

static uint32_t count_chunks(void) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < w.resource_count; i++) {
        resource *r = &w.resources[i];
        if (r->kind == BUFFER_BY_ADDRESS && w.allocations[r->allocation].live && !r->transformed)
            count += (uint32_t)((r->bytes / 4 + CHUNK_WORDS - 1) / CHUNK_WORDS);
    }
    return count;
}

static void record_transform_by_address(VkCommandBuffer commands, harness_host_buffer *table) {
    uint32_t capacity = (uint32_t)(table->size / sizeof(transform_chunk));
    uint32_t chunks = fill_chunk_table((transform_chunk *)table->data, capacity);
    REQUIRE(chunks == count_chunks(), "chunk table holds every chunk");
    harness_host_buffer_flush(w.h, table);
    vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, w.by_address.pipeline);
    uint32_t most = w.h->properties.limits.maxComputeWorkGroupCount[0];
    for (uint32_t first = 0; first < chunks; first += most) {
        transform_push push = {.chunks = table->address, .first_chunk = first, .chunk_count = chunks};
        vkCmdPushConstants(commands, w.by_address.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
        vkCmdDispatch(commands, chunks - first < most ? chunks - first : most, 1, 1);
    }
}

/* Classic descriptors: one set per buffer, written at record time. */
static void record_transform_by_descriptor(VkCommandBuffer commands) {
    vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, w.by_descriptor.pipeline);
    for (uint32_t i = 0; i < w.resource_count; i++) {
        resource *r = &w.resources[i];
        if (r->kind != BUFFER_BY_DESCRIPTOR || !w.allocations[r->allocation].live || r->transformed) continue;
        VkDescriptorSetAllocateInfo info = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = w.descriptor_pool,
            .descriptorSetCount = 1,
            .pSetLayouts = &w.set_layout,
        };
        VkDescriptorSet set;
        VK_REQUIRE(vkAllocateDescriptorSets(w.h->device, &info, &set));
        VkDescriptorBufferInfo buffer = {.buffer = r->buffer, .range = VK_WHOLE_SIZE};
        VkWriteDescriptorSet write = {
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &buffer,
        };
        vkUpdateDescriptorSets(w.h->device, 1, &write, 0, NULL);
        vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE, w.by_descriptor.layout, 0, 1, &set, 0, NULL);
        uint32_t words = (uint32_t)(r->bytes / 4);
        vkCmdPushConstants(commands, w.by_descriptor.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof words, &words);
        vkCmdDispatch(commands, words / 64 < 16 ? words / 64 + 1 : 16, 1, 1);
    }
}

static void record_readbacks(VkCommandBuffer commands, harness_host_buffer *staging) {
    for (uint32_t i = 0; i < w.resource_count; i++) {
        resource *r = &w.resources[i];
        if (!w.allocations[r->allocation].live || !through_staging(r)) continue;
        if (r->kind == IMAGE) {
            VkBufferImageCopy region = image_region(r);
            vkCmdCopyImageToBuffer(commands, r->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, staging->buffer, 1,
                                   &region);
        } else {
            VkBufferCopy region = {.dstOffset = r->staging_offset, .size = r->bytes};
            vkCmdCopyBuffer(commands, r->buffer, staging->buffer, 1, &region);
        }
    }
    harness_barrier(commands);
}

static uint64_t check_staging(harness_host_buffer *staging) {
    harness_host_buffer_invalidate(w.h, staging);
    uint64_t wrong = 0;
    for (uint32_t i = 0; i < w.resource_count; i++) {
        resource *r = &w.resources[i];
        if (w.allocations[r->allocation].live && through_staging(r))
            wrong += compare(r, staging->data + r->staging_offset);
    }
    return wrong;
}

static void mark_gpu_work_done(void) {
    for (uint32_t i = 0; i < w.resource_count; i++) {
        resource *r = &w.resources[i];
        if (!w.allocations[r->allocation].live) continue;
        r->uploaded = true;
        if (r->kind != IMAGE) r->transformed = true;
    }
}

/* One submission: upload what is new, transform it, read back everything that
 * the host cannot map; then every live byte is compared. Returns wrong bytes. */
static uint64_t gpu_pass(bool transform) {
    write_through_mappings();
    harness_host_buffer staging, table;
    harness_host_buffer_create(w.h, assign_staging(),
                               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, &staging);
    uint32_t chunks = transform ? count_chunks() : 0;
    harness_host_buffer_create(w.h, (chunks ? chunks : 1) * sizeof(transform_chunk),
                               VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT, &table);

    VkCommandBuffer commands = harness_begin(w.h);
    record_uploads(commands, &staging);
    if (transform) {
        record_transform_by_address(commands, &table);
        record_transform_by_descriptor(commands);
        harness_barrier(commands);
    }
    record_readbacks(commands, &staging);
    harness_submit_and_wait(w.h, commands);
    if (transform) {
        mark_gpu_work_done();
        VK_REQUIRE(vkResetDescriptorPool(w.h->device, w.descriptor_pool, 0));
    }

    uint64_t wrong = check_staging(&staging) + check_through_mappings();
    harness_host_buffer_destroy(w.h, &table);
    harness_host_buffer_destroy(w.h, &staging);
    return wrong;
}

/* ---------------------------------------------------------------- freeing */

static void free_allocation(uint32_t index) {
    allocation *a = &w.allocations[index];
    for (uint32_t i = 0; i < a->resource_count; i++) {
        resource *r = &w.resources[a->first_resource + i];
        vkDestroyBuffer(w.h->device, r->buffer, NULL);
        vkDestroyImage(w.h->device, r->image, NULL);
    }
    vkFreeMemory(w.h->device, a->memory, NULL);
    a->live = false;
}

/* Frees count live allocations (all when count is larger) in random order. */
static void free_in_random_order(uint32_t count) {
    uint32_t *order = malloc(sizeof *order * w.allocation_count);
    REQUIRE(order, "memory for the order");
    uint32_t live = 0;
    for (uint32_t i = 0; i < w.allocation_count; i++)
        if (w.allocations[i].live) order[live++] = i;
    harness_shuffle(&w.rng, order, live);
    for (uint32_t i = 0; i < live && i < count; i++) free_allocation(order[i]);
    free(order);
}

/* ---------------------------------------------------------------- setup */

static void create_pipelines(void) {
    harness_compute_pipeline(w.h, "transform_by_address", VK_NULL_HANDLE, sizeof(transform_push), &w.by_address);
    VkDescriptorSetLayoutBinding binding = {
        .binding = 0,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .descriptorCount = 1,
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
    VkDescriptorSetLayoutCreateInfo layout = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 1,
        .pBindings = &binding,
    };
    VK_REQUIRE(vkCreateDescriptorSetLayout(w.h->device, &layout, NULL, &w.set_layout));
    harness_compute_pipeline(w.h, "transform_by_descriptor", w.set_layout, sizeof(uint32_t), &w.by_descriptor);
    VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, DESCRIPTOR_ALLOCATIONS};
    VkDescriptorPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = DESCRIPTOR_ALLOCATIONS,
        .poolSizeCount = 1,
        .pPoolSizes = &size,
    };
    VK_REQUIRE(vkCreateDescriptorPool(w.h->device, &pool, NULL, &w.descriptor_pool));
}

static void destroy_pipelines(void) {
    vkDestroyDescriptorPool(w.h->device, w.descriptor_pool, NULL);
    harness_pipeline_destroy(w.h, &w.by_descriptor);
    harness_pipeline_destroy(w.h, &w.by_address);
    vkDestroyDescriptorSetLayout(w.h->device, w.set_layout, NULL);
}

/* A valid app stays under the limit it is told; with the layer that limit is raised. */
static uint32_t allocation_target(const harness *h) {
    uint32_t limit = h->properties.limits.maxMemoryAllocationCount;
    uint32_t room = limit > RESERVED_ALLOCATIONS ? limit - RESERVED_ALLOCATIONS : 0;
    if (h->layer)
        CHECK(room >= TARGET_ALLOCATIONS, "with the layer the app may hold %u allocations (limit %u)",
              TARGET_ALLOCATIONS, limit);
    uint32_t target = room < TARGET_ALLOCATIONS ? room : TARGET_ALLOCATIONS;
    if (target < TARGET_ALLOCATIONS)
        printf("  the driver allows %u allocations: this chain holds %u live\n", limit, target);
    return target;
}

static uint64_t live_allocations(void) {
    uint64_t live = 0;
    for (uint32_t i = 0; i < w.allocation_count; i++) live += w.allocations[i].live;
    return live;
}

static uint64_t live_bytes(void) {
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < w.allocation_count; i++)
        if (w.allocations[i].live) bytes += w.allocations[i].size;
    return bytes;
}

static uint64_t small_allocations(void) {
    uint64_t small = 0;
    for (uint32_t i = 0; i < w.allocation_count; i++) small += w.allocations[i].size < (1u << 20);
    return small;
}

static void check_driver_allocation_count(const char *when) {
    if (!w.h->strict_counters || !w.h->layer) return;
    StrictDeviceCounters counters = harness_strict_counters(w.h);
    printf("  %s: %" PRIu64 " app allocations live, driver %" PRIu64 " live, peak %" PRIu64 "\n", when,
           live_allocations(), counters.live_allocations, counters.peak_live_allocations);
    CHECK(counters.peak_live_allocations < DRIVER_ALLOCATIONS_BELOW,
          "the driver saw a peak of %" PRIu64 " live allocations", counters.peak_live_allocations);
}

/* ---------------------------------------------------------------- the case */

static void twenty_thousand_live_allocations_keep_every_byte(harness *h) {
    memset(&w, 0, sizeof w);
    w.h = h;
    w.rng = harness_rng_make(20000);
    w.granularity = h->properties.limits.bufferImageGranularity;
    REQUIRE(h->enabled.buffer_device_address, "the device must offer bufferDeviceAddress");
    create_pipelines();

    uint32_t target = allocation_target(h);
    create_everything(target);
    printf("  %u allocations live, %u resources, %.1f MiB\n", w.allocation_count, w.resource_count,
           (double)live_bytes() / (1 << 20));
    CHECK(gpu_pass(true) == 0, "every byte of every resource after the compute pass");
    check_driver_allocation_count("all created");

    free_in_random_order(w.allocation_count / 2);
    uint32_t reuse = target / 5 < REUSE_ALLOCATIONS ? target / 5 : REUSE_ALLOCATIONS;
    for (uint32_t i = 0; i < reuse; i++) make_single_buffer(BUFFER_BY_ADDRESS, random_buffer_size());
    printf("  after freeing half and refilling: %" PRIu64 " allocations live\n", live_allocations());
    CHECK(gpu_pass(true) == 0, "survivors kept their bytes, newcomers got theirs");
    check_driver_allocation_count("refilled");

    free_in_random_order(UINT32_MAX);
    destroy_pipelines();
    if (h->layer) {
        /* Large ones may pass through by size; everything under 1 MiB is sub-allocated. */
        h->expect.suballocated_at_least = (int64_t)small_allocations();
        h->expect.driver_live_peak_below = DRIVER_ALLOCATIONS_BELOW;
    }
}

int main(int argc, char **argv) {
    static const harness_case cases[] = {
        {"twenty_thousand_live_allocations_keep_every_byte", twenty_thousand_live_allocations_keep_every_byte},
    };
    harness_device_request request = {.buffer_device_address = true};
    return harness_main(argc, argv, &request, cases, sizeof cases / sizeof cases[0]);
}
