/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_placement: where a sub-allocation lands inside a driver block must satisfy
 * every resource the app may bind to it, although the layer learns what will be
 * bound only later (alignment is unknown at vkAllocateMemory time), and linear
 * and optimal resources of different app allocations must not share a
 * bufferImageGranularity page.
 *
 * Lavapipe forgives all of this (alignment 64, granularity 64); the strict layer
 * (optimal images aligned to 64 KiB, granularity 1 KiB) aborts on a violation
 * that reaches it, and validation below the layer reports one. Every resource
 * also carries data through the GPU, which must come back intact.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { MAX_ITEMS = 64 };

typedef struct item {
    bool is_image;
    VkBuffer buffer;
    VkImage image;
    uint32_t side; /* images are side x side RGBA8 */
    VkDeviceSize bytes;
    VkDeviceMemory memory;
    VkDeviceSize offset; /* where it is bound in memory */
    bool shares_memory;  /* bound into a slab the case frees itself */
    uint32_t seed;
    VkDeviceSize staging_offset;
} item;

static VkBufferCreateInfo buffer_info(VkDeviceSize size) {
    return (VkBufferCreateInfo){
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
}

static VkMemoryRequirements image_requirements(harness *h, uint32_t side) {
    VkImage image;
    VkImageCreateInfo info = harness_image_info(side);
    VK_REQUIRE(vkCreateImage(h->device, &info, NULL, &image));
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(h->device, image, &requirements);
    vkDestroyImage(h->device, image, NULL);
    return requirements;
}

static VkMemoryRequirements buffer_requirements(harness *h, VkDeviceSize size) {
    VkBuffer buffer;
    VkBufferCreateInfo info = buffer_info(size);
    VK_REQUIRE(vkCreateBuffer(h->device, &info, NULL, &buffer));
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, buffer, &requirements);
    vkDestroyBuffer(h->device, buffer, NULL);
    return requirements;
}

/* Types both images and buffers may use: placement matters where both meet. */
static uint32_t shared_types(harness *h, uint32_t *types) {
    uint32_t bits = image_requirements(h, 16).memoryTypeBits & buffer_requirements(h, 256).memoryTypeBits;
    uint32_t count = harness_memory_types(h, bits, 0, types);
    REQUIRE(count > 0, "a memory type for both buffers and optimal images");
    return count;
}

/* ---------------------------------------------------------------- items */

static void bind_item(harness *h, item *it) {
    if (it->is_image) VK_REQUIRE(vkBindImageMemory(h->device, it->image, it->memory, it->offset));
    else VK_REQUIRE(vkBindBufferMemory(h->device, it->buffer, it->memory, it->offset));
}

/* An item in its own allocation of type, created and bound the usual way. */
static void make_item(harness *h, item *it, bool is_image, uint32_t type, uint32_t seed) {
    memset(it, 0, sizeof *it);
    it->is_image = is_image;
    it->seed = seed;
    VkMemoryRequirements requirements;
    if (is_image) {
        it->side = 4 + seed % 13;
        it->bytes = (VkDeviceSize)it->side * it->side * 4;
        VkImageCreateInfo info = harness_image_info(it->side);
        VK_REQUIRE(vkCreateImage(h->device, &info, NULL, &it->image));
        vkGetImageMemoryRequirements(h->device, it->image, &requirements);
    } else {
        it->bytes = 68 + 4 * (seed % 50); /* odd sizes: ends fall mid-page */
        VkBufferCreateInfo info = buffer_info(it->bytes);
        VK_REQUIRE(vkCreateBuffer(h->device, &info, NULL, &it->buffer));
        vkGetBufferMemoryRequirements(h->device, it->buffer, &requirements);
    }
    VK_REQUIRE(harness_allocate_simple(h, requirements.size, type, &it->memory));
    bind_item(h, it);
}

static void destroy_items(harness *h, item *items, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) {
        vkDestroyImage(h->device, items[i].image, NULL);
        vkDestroyBuffer(h->device, items[i].buffer, NULL);
        if (!items[i].shares_memory) vkFreeMemory(h->device, items[i].memory, NULL);
    }
}

static void image_barriers(VkCommandBuffer commands, item *items, uint32_t count, VkImageLayout from,
                           VkImageLayout to) {
    for (uint32_t i = 0; i < count; i++) {
        if (!items[i].is_image) continue;
        VkImageMemoryBarrier barrier = {
            .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
            .oldLayout = from,
            .newLayout = to,
            .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .image = items[i].image,
            .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
        };
        vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0,
                             NULL, 1, &barrier);
    }
}

static void copy_item(VkCommandBuffer commands, VkBuffer staging, item *it, bool upload) {
    if (it->is_image) {
        VkBufferImageCopy region = {
            .bufferOffset = it->staging_offset,
            .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
            .imageExtent = {it->side, it->side, 1},
        };
        if (upload)
            vkCmdCopyBufferToImage(commands, staging, it->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
        else vkCmdCopyImageToBuffer(commands, it->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, staging, 1, &region);
        return;
    }
    VkBufferCopy region = {
        .srcOffset = upload ? it->staging_offset : 0, .dstOffset = upload ? 0 : it->staging_offset, .size = it->bytes};
    vkCmdCopyBuffer(commands, upload ? staging : it->buffer, upload ? it->buffer : staging, 1, &region);
}

/* Every item gets its pattern by copy, all are read back by copy into a second
 * half of the staging buffer, and every byte is compared. */
static void check_items_on_gpu(harness *h, item *items, uint32_t count, const char *what) {
    VkDeviceSize half = 0;
    for (uint32_t i = 0; i < count; i++) {
        items[i].staging_offset = half;
        half = harness_align_up(half + items[i].bytes, 16);
    }
    harness_host_buffer staging;
    harness_host_buffer_create(h, 2 * half, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               &staging);
    for (uint32_t i = 0; i < count; i++)
        harness_fill_pattern(staging.data + items[i].staging_offset, items[i].bytes, items[i].seed);
    harness_host_buffer_flush(h, &staging);

    VkCommandBuffer commands = harness_begin(h);
    image_barriers(commands, items, count, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
    for (uint32_t i = 0; i < count; i++) copy_item(commands, staging.buffer, &items[i], true);
    harness_barrier(commands);
    image_barriers(commands, items, count, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
    for (uint32_t i = 0; i < count; i++) items[i].staging_offset += half;
    for (uint32_t i = 0; i < count; i++) copy_item(commands, staging.buffer, &items[i], false);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &staging);

    uint32_t wrong = 0;
    for (uint32_t i = 0; i < count; i++)
        wrong += harness_check_pattern(staging.data + items[i].staging_offset, items[i].bytes, items[i].seed,
                                       items[i].is_image ? "image" : "buffer") != 0;
    CHECK(wrong == 0, "%s: %u of %u resources came back wrong", what, wrong, count);
    harness_host_buffer_destroy(h, &staging);
}

/* ---------------------------------------------------------------- cases */

/* Small odd-sized buffers and images alternate in every shared type: each image
 * must land on its (large) alignment, and no linear and optimal resource of
 * neighbouring allocations may share a granularity page. */
static void images_and_buffers_alternating_keep_alignment_and_granularity(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = shared_types(h, types);
    for (uint32_t t = 0; t < count; t++) {
        item items[MAX_ITEMS];
        for (uint32_t i = 0; i < MAX_ITEMS; i++) make_item(h, &items[i], i % 2 == 1, types[t], 100 * t + i);
        check_items_on_gpu(h, items, MAX_ITEMS, "alternating buffers and images");
        destroy_items(h, items, MAX_ITEMS);
    }
}

/* Vulkan 1.3 apps may learn requirements without a resource: allocate from
 * vkGetDevice*MemoryRequirements, create and bind afterwards, never asking again. */
static void requirements_from_the_device_queries_alone_are_enough(harness *h) {
    if (h->properties.apiVersion < VK_API_VERSION_1_3 || h->api_version < VK_API_VERSION_1_3)
        harness_skip("vkGetDevice*MemoryRequirements need Vulkan 1.3");
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = shared_types(h, types);
    for (uint32_t t = 0; t < count; t++) {
        item items[16];
        for (uint32_t i = 0; i < 16; i++) {
            item *it = &items[i];
            memset(it, 0, sizeof *it);
            it->is_image = i % 2 == 0;
            it->seed = 2000 + 100 * t + i;
            it->side = 8 + i;
            it->bytes = it->is_image ? (VkDeviceSize)it->side * it->side * 4 : 100 + 4 * i;
            VkImageCreateInfo image = harness_image_info(it->side);
            VkBufferCreateInfo buffer = buffer_info(it->bytes);
            VkDeviceImageMemoryRequirements image_query = {.sType = VK_STRUCTURE_TYPE_DEVICE_IMAGE_MEMORY_REQUIREMENTS,
                                                           .pCreateInfo = &image};
            VkDeviceBufferMemoryRequirements buffer_query = {
                .sType = VK_STRUCTURE_TYPE_DEVICE_BUFFER_MEMORY_REQUIREMENTS, .pCreateInfo = &buffer};
            VkMemoryRequirements2 requirements = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
            if (it->is_image) vkGetDeviceImageMemoryRequirements(h->device, &image_query, &requirements);
            else vkGetDeviceBufferMemoryRequirements(h->device, &buffer_query, &requirements);
            REQUIRE(requirements.memoryRequirements.memoryTypeBits & (1u << types[t]), "type %u allowed", types[t]);
            VK_REQUIRE(harness_allocate_simple(h, requirements.memoryRequirements.size, types[t], &it->memory));
            if (it->is_image) VK_REQUIRE(vkCreateImage(h->device, &image, NULL, &it->image));
            else VK_REQUIRE(vkCreateBuffer(h->device, &buffer, NULL, &it->buffer));
            bind_item(h, it);
        }
        check_items_on_gpu(h, items, 16, "requirements from the device queries");
        destroy_items(h, items, 16);
    }
}

/* The hardest case for a layer: memory allocated on a fresh device before any
 * image exists or any requirement was asked, then an image bound to it. The
 * sub-allocation must already sit where an optimal image may go. */
static void memory_allocated_before_any_image_exists_takes_an_image(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    /* Types and sizes from the physical device only: no device query yet. */
    uint32_t count = harness_memory_types(h, ~0u, 0, types);
    VkDeviceMemory neighbours[VK_MAX_MEMORY_TYPES], memories[VK_MAX_MEMORY_TYPES];
    const VkDeviceSize size = 1 << 20; /* comfortably more than a 32x32 image needs */
    for (uint32_t t = 0; t < count; t++) {
        VK_REQUIRE(harness_allocate_simple(h, 100, types[t], &neighbours[t]));
        VK_REQUIRE(harness_allocate_simple(h, size, types[t], &memories[t]));
    }
    item items[VK_MAX_MEMORY_TYPES];
    uint32_t used = 0;
    for (uint32_t t = 0; t < count; t++) {
        VkImageCreateInfo info = harness_image_info(32);
        VkImage image;
        VK_REQUIRE(vkCreateImage(h->device, &info, NULL, &image));
        VkMemoryRequirements requirements;
        vkGetImageMemoryRequirements(h->device, image, &requirements);
        if (!(requirements.memoryTypeBits & (1u << types[t]))) { /* this type takes no images */
            vkDestroyImage(h->device, image, NULL);
            vkFreeMemory(h->device, memories[t], NULL);
            continue;
        }
        REQUIRE(requirements.size <= size, "a 32x32 image fits in 1 MiB");
        items[used] = (item){.is_image = true,
                             .image = image,
                             .side = 32,
                             .bytes = 32 * 32 * 4,
                             .memory = memories[t],
                             .seed = 3000 + t};
        bind_item(h, &items[used]);
        used++;
    }
    REQUIRE(used > 0, "some type takes images");
    check_items_on_gpu(h, items, used, "images bound to memory allocated before any image existed");
    destroy_items(h, items, used);
    for (uint32_t t = 0; t < count; t++) vkFreeMemory(h->device, neighbours[t], NULL);
}

/* VMA's pattern (zink's and many ports' too): a slab allocated before any image
 * was queried, a buffer bound at 0, then optimal images each at the next offset
 * that meets its own alignment, on a granularity page of its own. Valid, so the
 * layer must take every bind: the slab cannot move once the buffer is bound. */
static void a_slab_takes_a_buffer_at_zero_then_images_at_their_own_alignment(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = harness_memory_types(h, ~0u, 0, types);
    const VkDeviceSize slab_size = 2u << 20;
    const VkDeviceSize granularity = h->properties.limits.bufferImageGranularity;
    for (uint32_t t = 0; t < count; t++) {
        VkDeviceMemory neighbour, slab; /* a neighbour first, so the slab is not simply a block's start */
        VK_REQUIRE(harness_allocate_simple(h, 100, types[t], &neighbour));
        VK_REQUIRE(harness_allocate_simple(h, slab_size, types[t], &slab));
        item items[8];
        uint32_t used = 0;
        VkDeviceSize end = 0;
        for (uint32_t i = 0; i < 8; i++) {
            item *it = &items[used];
            memset(it, 0, sizeof *it);
            it->is_image = i > 0;
            it->seed = 4000 + 10 * t + i;
            it->memory = slab;
            it->shares_memory = true;
            VkMemoryRequirements requirements;
            if (it->is_image) {
                it->side = 16 << (i % 4); /* 16..128: alignments differ on real drivers */
                it->bytes = (VkDeviceSize)it->side * it->side * 4;
                VkImageCreateInfo info = harness_image_info(it->side);
                VK_REQUIRE(vkCreateImage(h->device, &info, NULL, &it->image));
                vkGetImageMemoryRequirements(h->device, it->image, &requirements);
            } else {
                it->bytes = 1000;
                VkBufferCreateInfo info = buffer_info(it->bytes);
                VK_REQUIRE(vkCreateBuffer(h->device, &info, NULL, &it->buffer));
                vkGetBufferMemoryRequirements(h->device, it->buffer, &requirements);
            }
            VkDeviceSize offset = harness_align_up(harness_align_up(end, granularity), requirements.alignment);
            if (!(requirements.memoryTypeBits & (1u << types[t])) || offset + requirements.size > slab_size) {
                vkDestroyImage(h->device, it->image, NULL);
                vkDestroyBuffer(h->device, it->buffer, NULL);
                continue;
            }
            it->offset = offset;
            bind_item(h, it);
            end = offset + requirements.size;
            used++;
        }
        if (used > 0) check_items_on_gpu(h, items, used, "a buffer and images placed in one slab");
        destroy_items(h, items, used);
        vkFreeMemory(h->device, slab, NULL);
        vkFreeMemory(h->device, neighbour, NULL);
    }
}

/* After an image's requirements were queried, memory of exactly that size takes
 * a buffer at 0 first and then the image over the same bytes (aliasing). */
static void a_buffer_and_an_image_alias_memory_sized_for_the_image(harness *h) {
    VkImageCreateInfo image_create = harness_image_info(64);
    VkImage image;
    VK_REQUIRE(vkCreateImage(h->device, &image_create, NULL, &image));
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(h->device, image, &requirements);
    uint32_t type = harness_memory_type(h, requirements.memoryTypeBits & buffer_requirements(h, 256).memoryTypeBits, 0);
    if (type == UINT32_MAX) {
        vkDestroyImage(h->device, image, NULL);
        harness_skip("no memory type takes both buffers and optimal images");
    }
    VkDeviceMemory memory;
    VK_REQUIRE(harness_allocate_simple(h, requirements.size, type, &memory));
    item buffer = {
        .is_image = false, .bytes = requirements.size, .memory = memory, .shares_memory = true, .seed = 5000};
    VkBufferCreateInfo buffer_create = buffer_info(requirements.size);
    VK_REQUIRE(vkCreateBuffer(h->device, &buffer_create, NULL, &buffer.buffer));
    bind_item(h, &buffer);
    check_items_on_gpu(h, &buffer, 1, "the buffer before the image joins it");
    item aliased = {.is_image = true,
                    .image = image,
                    .side = 64,
                    .bytes = 64 * 64 * 4,
                    .memory = memory,
                    .shares_memory = true,
                    .seed = 5001};
    bind_item(h, &aliased);
    check_items_on_gpu(h, &aliased, 1, "the image aliasing the buffer");
    destroy_items(h, &buffer, 1);
    destroy_items(h, &aliased, 1);
    vkFreeMemory(h->device, memory, NULL);
}

/* A scene load: create every buffer, query each, allocate each, then bind them
 * all. The layer checks each bind against what this thread's query returned
 * (a table of 1,024 answers), so it asks the driver again only for the odd
 * answer its table could not keep (before its hash was mixed, 36 of these
 * 256 binds asked). */
static void binds_after_a_scene_of_queries_ask_the_driver_again_rarely(harness *h) {
    if (!h->layer || h->strict_counters == NULL) harness_skip("needs the layer above the strict device");
    enum { COUNT = 256 };
    VkBuffer *buffers = calloc(COUNT, sizeof *buffers);
    VkDeviceMemory *memory = calloc(COUNT, sizeof *memory);
    REQUIRE(buffers != NULL && memory != NULL, "out of host memory");
    VkBufferCreateInfo create = buffer_info(256);
    for (int i = 0; i < COUNT; i++) VK_REQUIRE(vkCreateBuffer(h->device, &create, NULL, &buffers[i]));
    for (int i = 0; i < COUNT; i++) {
        VkMemoryRequirements requirements;
        vkGetBufferMemoryRequirements(h->device, buffers[i], &requirements);
        uint32_t type = harness_memory_type(h, requirements.memoryTypeBits, 0);
        VK_REQUIRE(harness_allocate_simple(h, requirements.size, type, &memory[i]));
    }
    uint64_t before = harness_strict_counters(h).requirements_queries;
    for (int i = 0; i < COUNT; i++) VK_REQUIRE(vkBindBufferMemory(h->device, buffers[i], memory[i], 0));
    uint64_t asked = harness_strict_counters(h).requirements_queries - before;
    printf("%d binds asked the driver for requirements %" PRIu64 " times\n", COUNT, asked);
    CHECK(asked <= COUNT / 20, "%d binds asked the driver %" PRIu64 " times, more than one in 20", COUNT, asked);
    for (int i = 0; i < COUNT; i++) {
        vkDestroyBuffer(h->device, buffers[i], NULL);
        vkFreeMemory(h->device, memory[i], NULL);
    }
    free(buffers);
    free(memory);
}

int main(int argc, char **argv) {
#define CASE(name) \
    { #name, name }
    static const harness_case cases[] = {
        CASE(images_and_buffers_alternating_keep_alignment_and_granularity),
        CASE(requirements_from_the_device_queries_alone_are_enough),
        CASE(memory_allocated_before_any_image_exists_takes_an_image),
        CASE(a_slab_takes_a_buffer_at_zero_then_images_at_their_own_alignment),
        CASE(a_buffer_and_an_image_alias_memory_sized_for_the_image),
        CASE(binds_after_a_scene_of_queries_ask_the_driver_again_rarely),
    };
#undef CASE
    harness_device_request request = {0};
    return harness_main(argc, argv, &request, cases, sizeof cases / sizeof cases[0]);
}
