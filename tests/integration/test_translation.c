/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_translation: every entry point that takes a VkDeviceMemory accepts the
 * handle the app got, whatever the layer made of it. Handles of sub-allocations
 * are the layer's own; if one reached the driver unchanged the driver would
 * dereference it (lavapipe writes debug names and private data into the object),
 * and validation below the layer would name it an invalid handle.
 *
 * Map, unmap, flush, invalidate and vkBindBufferMemory/vkBindImageMemory are
 * exercised everywhere else; here: the *2 binds, debug-utils names and tags,
 * private data, opaque capture addresses and vkFreeMemory(VK_NULL_HANDLE).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static VkImage create_image(harness *h, uint32_t side) {
    VkImageCreateInfo info = harness_image_info(side);
    VkImage image;
    VK_REQUIRE(vkCreateImage(h->device, &info, NULL, &image));
    return image;
}

/* A small plain allocation of the first type buffers may use, with a buffer bound. */
typedef struct bound_memory {
    VkBuffer buffer;
    VkDeviceMemory memory;
} bound_memory;

static bound_memory make_bound_memory(harness *h, const void *allocate_next, VkBufferUsageFlags extra_usage) {
    bound_memory b;
    b.buffer = harness_buffer_create(h, 4096, extra_usage, NULL);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, b.buffer, &requirements);
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = allocate_next,
        .allocationSize = requirements.size,
        .memoryTypeIndex = harness_memory_type(h, requirements.memoryTypeBits, 0),
    };
    VK_REQUIRE(harness_allocate(h, &info, &b.memory));
    VK_REQUIRE(vkBindBufferMemory(h->device, b.buffer, b.memory, 0));
    return b;
}

static void destroy_bound_memory(harness *h, bound_memory *b) {
    vkDestroyBuffer(h->device, b->buffer, NULL);
    vkFreeMemory(h->device, b->memory, NULL);
}

/* The GPU writes the buffer and reads it back: the memory still works. */
static void check_memory_still_works(harness *h, const bound_memory *b, uint32_t value) {
    harness_host_buffer readback;
    harness_host_buffer_create(h, 4096, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    VkCommandBuffer commands = harness_begin(h);
    vkCmdFillBuffer(commands, b->buffer, 0, 4096, value);
    harness_barrier(commands);
    VkBufferCopy region = {.size = 4096};
    vkCmdCopyBuffer(commands, b->buffer, readback.buffer, 1, &region);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &readback);
    uint32_t right = 0;
    for (uint32_t i = 0; i < 1024; i++) right += ((uint32_t *)readback.data)[i] == value;
    CHECK(right == 1024, "the memory still works: %u of 1024 words right", right);
    harness_host_buffer_destroy(h, &readback);
}

/* ---------------------------------------------------------------- cases */

/* Two buffers and an image bound by one vkBindBufferMemory2 / vkBindImageMemory2
 * each, at non-zero offsets of one allocation, in every type all three allow. */
static void bind_memory2_binds_resources_at_offsets_of_one_allocation(harness *h) {
    const VkDeviceSize bytes = 16 * 16 * 4;
    VkBuffer probe = harness_buffer_create(h, bytes, 0, NULL);
    VkImage image_probe = create_image(h, 16);
    VkMemoryRequirements buffer_req, image_req;
    vkGetBufferMemoryRequirements(h->device, probe, &buffer_req);
    vkGetImageMemoryRequirements(h->device, image_probe, &image_req);
    vkDestroyBuffer(h->device, probe, NULL);
    vkDestroyImage(h->device, image_probe, NULL);
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = harness_memory_types(h, buffer_req.memoryTypeBits & image_req.memoryTypeBits, 0, types);
    REQUIRE(count > 0, "a type for buffers and images");
    VkDeviceSize granularity = h->properties.limits.bufferImageGranularity;

    for (uint32_t t = 0; t < count; t++) {
        VkBuffer source = harness_buffer_create(h, bytes, 0, NULL),
                 destination = harness_buffer_create(h, bytes, 0, NULL);
        VkImage image = create_image(h, 16);
        VkDeviceSize source_at = buffer_req.alignment;
        VkDeviceSize destination_at = harness_align_up(source_at + buffer_req.size + 1, buffer_req.alignment);
        VkDeviceSize image_at =
            harness_align_up(harness_align_up(destination_at + buffer_req.size, granularity), image_req.alignment);
        VkDeviceMemory memory;
        VK_REQUIRE(harness_allocate_simple(h, image_at + image_req.size, types[t], &memory));
        VkBindBufferMemoryInfo buffer_binds[2] = {
            {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, NULL, source, memory, source_at},
            {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, NULL, destination, memory, destination_at},
        };
        VK_REQUIRE(vkBindBufferMemory2(h->device, 2, buffer_binds));
        VkBindImageMemoryInfo image_bind = {VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO, NULL, image, memory, image_at};
        VK_REQUIRE(vkBindImageMemory2(h->device, 1, &image_bind));

        /* pattern -> source -> image -> destination -> readback */
        uint32_t words[16 * 16];
        harness_fill_pattern(words, bytes, 40 + t);
        harness_host_buffer readback;
        harness_host_buffer_create(h, bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
        VkCommandBuffer commands = harness_begin(h);
        vkCmdUpdateBuffer(commands, source, 0, bytes, words);
        harness_image_layout(commands, image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
        harness_barrier(commands);
        VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                    .imageExtent = {16, 16, 1}};
        vkCmdCopyBufferToImage(commands, source, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
        harness_image_layout(commands, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                             VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
        vkCmdCopyImageToBuffer(commands, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, destination, 1, &region);
        harness_barrier(commands);
        VkBufferCopy copy = {.size = bytes};
        vkCmdCopyBuffer(commands, destination, readback.buffer, 1, &copy);
        harness_barrier(commands);
        harness_submit_and_wait(h, commands);
        harness_host_buffer_invalidate(h, &readback);
        CHECK(harness_check_pattern(readback.data, bytes, 40 + t, "through buffer, image and buffer") == 0,
              "type %u: resources bound by the *2 calls hold the data", types[t]);

        harness_host_buffer_destroy(h, &readback);
        vkDestroyBuffer(h->device, source, NULL);
        vkDestroyBuffer(h->device, destination, NULL);
        vkDestroyImage(h->device, image, NULL);
        vkFreeMemory(h->device, memory, NULL);
    }
}

static void debug_utils_names_and_tags_on_memory_are_accepted(harness *h) {
    PFN_vkSetDebugUtilsObjectNameEXT set_name =
        (PFN_vkSetDebugUtilsObjectNameEXT)vkGetDeviceProcAddr(h->device, "vkSetDebugUtilsObjectNameEXT");
    PFN_vkSetDebugUtilsObjectTagEXT set_tag =
        (PFN_vkSetDebugUtilsObjectTagEXT)vkGetDeviceProcAddr(h->device, "vkSetDebugUtilsObjectTagEXT");
    REQUIRE(set_name && set_tag, "VK_EXT_debug_utils object functions are offered");
    bound_memory list[4];
    for (uint32_t i = 0; i < 4; i++) {
        list[i] = make_bound_memory(h, NULL, 0);
        char name[64];
        snprintf(name, sizeof name, "integration test memory %u", i);
        VkDebugUtilsObjectNameInfoEXT name_info = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
            .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
            .objectHandle = (uint64_t)list[i].memory,
            .pObjectName = name,
        };
        VK_REQUIRE(set_name(h->device, &name_info));
        uint64_t tag = 0x7A67000 + i;
        VkDebugUtilsObjectTagInfoEXT tag_info = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_TAG_INFO_EXT,
            .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
            .objectHandle = (uint64_t)list[i].memory,
            .tagName = 1,
            .tagSize = sizeof tag,
            .pTag = &tag,
        };
        VK_REQUIRE(set_tag(h->device, &tag_info));
    }
    for (uint32_t i = 0; i < 4; i++) {
        check_memory_still_works(h, &list[i], 0xDEB00000u + i);
        /* Renamed, not unnamed: lavapipe (Mesa 22.3) answers a NULL name with OUT_OF_HOST_MEMORY. */
        VkDebugUtilsObjectNameInfoEXT renamed = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
            .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
            .objectHandle = (uint64_t)list[i].memory,
            .pObjectName = "renamed",
        };
        VK_REQUIRE(set_name(h->device, &renamed));
        destroy_bound_memory(h, &list[i]);
    }
}

/* Private data is per object: neighbours in one driver block keep their own values. */
static void private_data_on_memory_is_kept_per_allocation(harness *h) {
    if (!h->enabled.private_data) harness_skip("no privateData feature (Vulkan 1.3)");
    VkPrivateDataSlotCreateInfo slot_info = {.sType = VK_STRUCTURE_TYPE_PRIVATE_DATA_SLOT_CREATE_INFO};
    VkPrivateDataSlot slot;
    VK_REQUIRE(vkCreatePrivateDataSlot(h->device, &slot_info, NULL, &slot));
    enum { COUNT = 8 };
    bound_memory list[COUNT];
    for (uint32_t i = 0; i < COUNT; i++) {
        list[i] = make_bound_memory(h, NULL, 0);
        VK_REQUIRE(
            vkSetPrivateData(h->device, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)list[i].memory, slot, 0xDA7A0000u + i));
    }
    for (uint32_t i = 0; i < COUNT; i++) {
        uint64_t value = 0;
        vkGetPrivateData(h->device, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)list[i].memory, slot, &value);
        CHECK(value == 0xDA7A0000u + i, "allocation %u reads back private data 0x%" PRIx64 ", not its own 0x%x", i,
              value, 0xDA7A0000u + i);
    }
    for (uint32_t i = 0; i < COUNT; i++) {
        check_memory_still_works(h, &list[i], 0x9A7A0000u + i);
        destroy_bound_memory(h, &list[i]);
    }
    vkDestroyPrivateDataSlot(h->device, slot, NULL);
}

static void opaque_capture_address_of_memory_is_available(harness *h) {
    if (!h->enabled.buffer_device_address_capture_replay) harness_skip("no bufferDeviceAddressCaptureReplay");
    VkMemoryAllocateFlagsInfo flags = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
        .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT | VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT,
    };
    bound_memory b = make_bound_memory(h, &flags, VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT);
    VkDeviceMemoryOpaqueCaptureAddressInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_MEMORY_OPAQUE_CAPTURE_ADDRESS_INFO,
        .memory = b.memory,
    };
    uint64_t first = vkGetDeviceMemoryOpaqueCaptureAddress(h->device, &info);
    uint64_t again = vkGetDeviceMemoryOpaqueCaptureAddress(h->device, &info);
    CHECK(first == again, "the capture address of one allocation is stable");
    check_memory_still_works(h, &b, 0xCA9u);
    destroy_bound_memory(h, &b);
}

static void freeing_a_null_handle_does_nothing(harness *h) {
    bound_memory b = make_bound_memory(h, NULL, 0);
    vkFreeMemory(h->device, VK_NULL_HANDLE, NULL);
    check_memory_still_works(h, &b, 0x0u);
    vkFreeMemory(h->device, VK_NULL_HANDLE, NULL);
    destroy_bound_memory(h, &b);
    if (h->layer) h->expect.passthrough = 0;
}

int main(int argc, char **argv) {
#define CASE(name) \
    { #name, name }
    static const harness_case cases[] = {
        CASE(bind_memory2_binds_resources_at_offsets_of_one_allocation),
        CASE(debug_utils_names_and_tags_on_memory_are_accepted),
        CASE(private_data_on_memory_is_kept_per_allocation),
        CASE(opaque_capture_address_of_memory_is_available),
        CASE(freeing_a_null_handle_does_nothing),
    };
#undef CASE
    harness_device_request request = {
        .buffer_device_address = true,
        .buffer_device_address_capture_replay = true,
        .private_data = true,
    };
    return harness_main(argc, argv, &request, cases, sizeof cases / sizeof cases[0]);
}
