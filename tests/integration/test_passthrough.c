/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_passthrough: what the layer must hand straight to the driver, it does, and
 * the app gets the driver's own, working handle; what it may sub-allocate, it does,
 * keeping incompatible allocations in separate pools.
 *
 * "Driver handle" is proven from outside the layer: by the strict layer below it
 * (vkStrictDeviceIsDriverMemoryTEST) when it is in the chain, else by the stats
 * line's passthrough count for the case's device. "Working" means it binds, maps
 * and a GPU copy reads back what the host wrote.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "transform.h"

enum { WINDOW = 64 << 10 }; /* the part of a large buffer a round trip checks, at each end */

/* ---------------------------------------------------------------- helpers */

static VkMemoryRequirements buffer_requirements(harness *h, VkBuffer buffer) {
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, buffer, &requirements);
    return requirements;
}

/* A host-visible type the buffer allows; the case cannot map without one. */
static uint32_t mappable_type(harness *h, uint32_t type_bits) {
    uint32_t type = harness_memory_type(h, type_bits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    if (type == UINT32_MAX) harness_skip("no host-visible memory type for this buffer");
    return type;
}

static void expect_driver_handle(harness *h, VkDeviceMemory memory, const char *what) {
    if (h->strict_is_driver_memory)
        CHECK(harness_is_driver_memory(h, memory), "%s must be the driver's own VkDeviceMemory", what);
}

static uint64_t wrong_words(const uint8_t *data, VkDeviceSize bytes, uint32_t seed, uint64_t first_word) {
    const uint32_t *words = (const uint32_t *)data;
    uint64_t wrong = 0;
    for (VkDeviceSize i = 0; i < bytes / 4; i++) wrong += words[i] != harness_pattern(seed, first_word + i);
    return wrong;
}

/* The GPU copies the first and last WINDOW bytes of buffer into a readback
 * buffer; they must hold seed's pattern. */
static void check_on_gpu(harness *h, VkBuffer buffer, VkDeviceSize size, uint32_t seed, const char *what) {
    VkDeviceSize window = size < WINDOW ? size : WINDOW;
    harness_host_buffer readback;
    harness_host_buffer_create(h, 2 * window, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    VkCommandBuffer commands = harness_begin(h);
    VkBufferCopy regions[2] = {{0, 0, window}, {size - window, window, window}};
    vkCmdCopyBuffer(commands, buffer, readback.buffer, 2, regions);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &readback);
    uint64_t wrong = wrong_words(readback.data, window, seed, 0) +
                     wrong_words(readback.data + window, window, seed, (size - window) / 4);
    CHECK(wrong == 0, "%s: the GPU read %" PRIu64 " wrong words of what the host wrote", what, wrong);
    harness_host_buffer_destroy(h, &readback);
}

/* Maps memory, writes seed's pattern over size bytes, unmaps; the GPU must see it. */
static void check_map_and_copy(harness *h, VkBuffer buffer, VkDeviceMemory memory, uint32_t type, VkDeviceSize size,
                               uint32_t seed, const char *what) {
    void *data;
    VK_REQUIRE(vkMapMemory(h->device, memory, 0, VK_WHOLE_SIZE, 0, &data));
    harness_fill_pattern(data, size, seed);
    if (!harness_type_is(h, type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) {
        VkMappedMemoryRange range = {
            .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
        VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &range));
    }
    vkUnmapMemory(h->device, memory);
    check_on_gpu(h, buffer, size, seed, what);
}

static void *chain_allocate_flags(VkMemoryAllocateFlagsInfo *flags, VkMemoryAllocateFlags which, const void *next) {
    *flags = (VkMemoryAllocateFlagsInfo){
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
        .pNext = next,
        .flags = which,
        .deviceMask = (which & VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT) ? 1u : 0u,
    };
    return flags;
}

/* A buffer of size in its own allocation with pNext, which must pass through:
 * a driver handle, bound, mapped and copied. */
static void buffer_round_trip(harness *h, VkDeviceSize size, const void *allocate_next, bool dedicated,
                              const char *what) {
    VkBuffer buffer = harness_buffer_create(h, size, 0, NULL);
    VkMemoryRequirements requirements = buffer_requirements(h, buffer);
    VkMemoryDedicatedAllocateInfo dedication = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
        .pNext = allocate_next,
        .buffer = buffer,
    };
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = dedicated ? &dedication : allocate_next,
        .allocationSize = requirements.size,
        .memoryTypeIndex = mappable_type(h, requirements.memoryTypeBits),
    };
    VkDeviceMemory memory;
    VK_REQUIRE(harness_allocate(h, &info, &memory));
    expect_driver_handle(h, memory, what);
    VK_REQUIRE(vkBindBufferMemory(h->device, buffer, memory, 0));
    check_map_and_copy(h, buffer, memory, info.memoryTypeIndex, size, 0xD0 + (uint32_t)size, what);
    vkDestroyBuffer(h->device, buffer, NULL);
    vkFreeMemory(h->device, memory, NULL);
}

/* ---------------------------------------------------------------- pass-through cases */

static void dedicated_buffer_allocation_gets_a_driver_handle(harness *h) {
    buffer_round_trip(h, 256 << 10, NULL, true, "dedicated buffer memory");
    h->expect.passthrough = 1;
}

static void dedicated_image_allocation_gets_a_driver_handle(harness *h) {
    VkImageCreateInfo image_info = harness_image_info(64);
    VkImage image;
    VK_REQUIRE(vkCreateImage(h->device, &image_info, NULL, &image));
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(h->device, image, &requirements);
    VkMemoryDedicatedAllocateInfo dedication = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
        .image = image,
    };
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = &dedication,
        .allocationSize = requirements.size,
        .memoryTypeIndex = harness_memory_type(h, requirements.memoryTypeBits, 0),
    };
    VkDeviceMemory memory;
    VK_REQUIRE(harness_allocate(h, &info, &memory));
    expect_driver_handle(h, memory, "dedicated image memory");
    VK_REQUIRE(vkBindImageMemory(h->device, image, memory, 0));

    /* Upload a pattern, read it back: the image really lives in that memory. */
    const VkDeviceSize bytes = 64 * 64 * 4;
    harness_host_buffer staging;
    harness_host_buffer_create(h, 2 * bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               &staging);
    harness_fill_pattern(staging.data, bytes, 77);
    harness_host_buffer_flush(h, &staging);
    VkCommandBuffer commands = harness_begin(h);
    VkImageMemoryBarrier to_dst = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
    };
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0,
                         NULL, 1, &to_dst);
    VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1}, .imageExtent = {64, 64, 1}};
    vkCmdCopyBufferToImage(commands, staging.buffer, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    VkImageMemoryBarrier to_src = to_dst;
    to_src.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    to_src.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
    to_src.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    to_src.newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL,
                         1, &to_src);
    region.bufferOffset = bytes;
    vkCmdCopyImageToBuffer(commands, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, staging.buffer, 1, &region);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &staging);
    CHECK(harness_check_pattern(staging.data + bytes, bytes, 77, "image read back") == 0,
          "the dedicated image keeps what was uploaded");

    harness_host_buffer_destroy(h, &staging);
    vkDestroyImage(h->device, image, NULL);
    vkFreeMemory(h->device, memory, NULL);
    h->expect.passthrough = 1;
}

/* Whether buffers of usage can be exported/imported as handle_type on this device. */
static VkExternalMemoryProperties external_buffer_properties(harness *h, VkExternalMemoryHandleTypeFlagBits type) {
    VkPhysicalDeviceExternalBufferInfo info = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .handleType = type,
    };
    VkExternalBufferProperties properties = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES};
    vkGetPhysicalDeviceExternalBufferProperties(h->physical, &info, &properties);
    return properties.externalMemoryProperties;
}

/* Exports an opaque fd, then imports it as a second allocation: both are driver
 * handles, the fd works, and the two see the same bytes. */
static void exported_and_imported_fd_allocations_get_driver_handles(harness *h) {
    const VkExternalMemoryHandleTypeFlagBits fd_type = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
    if (!h->enabled.external_memory_fd) harness_skip("no VK_KHR_external_memory_fd");
    VkExternalMemoryProperties external = external_buffer_properties(h, fd_type);
    if (!(external.externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT) ||
        !(external.externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT))
        harness_skip("opaque fds are not exportable and importable for buffers");
    bool dedicated_only = external.externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT;

    const VkDeviceSize size = 128 << 10;
    VkExternalMemoryBufferCreateInfo external_info = {
        .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
        .handleTypes = fd_type,
    };
    VkBuffer exporter = harness_buffer_create(h, size, 0, &external_info);
    VkMemoryRequirements requirements = buffer_requirements(h, exporter);
    VkMemoryDedicatedAllocateInfo dedication = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
        .buffer = exporter,
    };
    VkExportMemoryAllocateInfo export_info = {
        .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
        .pNext = dedicated_only ? &dedication : NULL,
        .handleTypes = fd_type,
    };
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = &export_info,
        .allocationSize = requirements.size,
        .memoryTypeIndex = mappable_type(h, requirements.memoryTypeBits),
    };
    VkDeviceMemory exported;
    VK_REQUIRE(harness_allocate(h, &info, &exported));
    expect_driver_handle(h, exported, "exportable memory");
    VK_REQUIRE(vkBindBufferMemory(h->device, exporter, exported, 0));
    check_map_and_copy(h, exporter, exported, info.memoryTypeIndex, size, 4242, "exportable memory");

    /* An extension entry point the layer never intercepts works on the handle. */
    PFN_vkGetMemoryFdKHR get_fd = (PFN_vkGetMemoryFdKHR)vkGetDeviceProcAddr(h->device, "vkGetMemoryFdKHR");
    REQUIRE(get_fd, "vkGetMemoryFdKHR is offered");
    VkMemoryGetFdInfoKHR fd_info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
        .memory = exported,
        .handleType = fd_type,
    };
    int fd = -1;
    VK_REQUIRE(get_fd(h->device, &fd_info, &fd));
    REQUIRE(fd >= 0, "vkGetMemoryFdKHR returns a file descriptor");

    VkBuffer importer = harness_buffer_create(h, size, 0, &external_info);
    VkMemoryDedicatedAllocateInfo import_dedication = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
        .buffer = importer,
    };
    VkImportMemoryFdInfoKHR import_info = {
        .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
        .pNext = dedicated_only ? &import_dedication : NULL,
        .handleType = fd_type,
        .fd = fd, /* owned by the driver from a successful import on */
    };
    info.pNext = &import_info;
    VkDeviceMemory imported;
    VkResult result = harness_allocate(h, &info, &imported);
    if (result != VK_SUCCESS) close(fd);
    VK_REQUIRE(result);
    expect_driver_handle(h, imported, "imported fd memory");
    VK_REQUIRE(vkBindBufferMemory(h->device, importer, imported, 0));
    check_on_gpu(h, importer, size, 4242, "the imported fd shows the exported bytes");

    vkDestroyBuffer(h->device, importer, NULL);
    vkFreeMemory(h->device, imported, NULL);
    vkDestroyBuffer(h->device, exporter, NULL);
    vkFreeMemory(h->device, exported, NULL);
    h->expect.passthrough = 2;
}

static void imported_host_pointer_gets_a_driver_handle(harness *h) {
    const VkExternalMemoryHandleTypeFlagBits host_type = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
    if (!h->enabled.external_memory_host) harness_skip("no VK_EXT_external_memory_host");
    VkPhysicalDeviceExternalMemoryHostPropertiesEXT host_properties = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT,
    };
    VkPhysicalDeviceProperties2 properties = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                              .pNext = &host_properties};
    vkGetPhysicalDeviceProperties2(h->physical, &properties);
    VkDeviceSize alignment = host_properties.minImportedHostPointerAlignment;
    const VkDeviceSize size = harness_align_up(96 << 10, alignment);
    uint8_t *host = aligned_alloc(alignment, size);
    REQUIRE(host, "host memory to import");
    harness_fill_pattern(host, size, 3131);

    PFN_vkGetMemoryHostPointerPropertiesEXT pointer_properties =
        (PFN_vkGetMemoryHostPointerPropertiesEXT)vkGetDeviceProcAddr(h->device, "vkGetMemoryHostPointerPropertiesEXT");
    REQUIRE(pointer_properties, "vkGetMemoryHostPointerPropertiesEXT is offered");
    VkMemoryHostPointerPropertiesEXT pointer = {.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT};
    VK_REQUIRE(pointer_properties(h->device, host_type, host, &pointer));

    VkExternalMemoryBufferCreateInfo external_info = {
        .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
        .handleTypes = host_type,
    };
    VkBuffer buffer = harness_buffer_create(h, size, 0, &external_info);
    VkMemoryRequirements requirements = buffer_requirements(h, buffer);
    uint32_t type = harness_memory_type(h, requirements.memoryTypeBits & pointer.memoryTypeBits, 0);
    REQUIRE(type != UINT32_MAX, "a memory type for the host pointer (buffer 0x%x, pointer 0x%x)",
            requirements.memoryTypeBits, pointer.memoryTypeBits);
    VkImportMemoryHostPointerInfoEXT import_info = {
        .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
        .handleType = host_type,
        .pHostPointer = host,
    };
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = &import_info,
        .allocationSize = size,
        .memoryTypeIndex = type,
    };
    VkDeviceMemory memory;
    VK_REQUIRE(harness_allocate(h, &info, &memory));
    expect_driver_handle(h, memory, "imported host memory");
    VK_REQUIRE(vkBindBufferMemory(h->device, buffer, memory, 0));
    check_on_gpu(h, buffer, size, 3131, "the GPU reads the imported host pointer");

    /* And the host sees what the GPU writes there. */
    VkCommandBuffer commands = harness_begin(h);
    vkCmdFillBuffer(commands, buffer, 4096, 4096, 0x5A5A5A5Au);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    uint32_t filled = 0;
    for (size_t i = 4096 / 4; i < 8192 / 4; i++) filled += ((uint32_t *)host)[i] == 0x5A5A5A5Au;
    CHECK(filled == 1024, "the host pointer shows the GPU's fill (%u of 1024 words)", filled);

    vkDestroyBuffer(h->device, buffer, NULL);
    vkFreeMemory(h->device, memory, NULL);
    free(host);
    h->expect.passthrough = 1;
}

static void opaque_capture_address_allocation_gets_a_driver_handle(harness *h) {
    if (!h->enabled.buffer_device_address_capture_replay) harness_skip("no bufferDeviceAddressCaptureReplay");
    VkMemoryOpaqueCaptureAddressAllocateInfo capture = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO,
        .opaqueCaptureAddress = 0, /* capture, not replay */
    };
    VkMemoryAllocateFlagsInfo flags;
    chain_allocate_flags(
        &flags, VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT | VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT, &capture);
    buffer_round_trip(h, 64 << 10, &flags, false, "opaque-capture-address memory");
    h->expect.passthrough = 1;
}

/* A structure from the future: the layer cannot know what it changes, so it must not touch the allocation. */
typedef struct future_structure {
    VkStructureType sType;
    const void *pNext;
    uint64_t payload;
} future_structure;

static void unknown_structure_in_pnext_passes_through(harness *h) {
    if (h->validation) harness_skip("the validation layer rightly rejects an unknown structure");
    future_structure future = {.sType = (VkStructureType)1000999000, .payload = 42};
    buffer_round_trip(h, 64 << 10, &future, false, "memory with an unknown pNext structure");
    h->expect.passthrough = 1;
}

static uint64_t dedicated_threshold(void) {
    const char *names[] = {"VK_TRANSPARENT_SUBALLOC_DEDICATED_THRESHOLD", "VK_SUBALLOC_DEDICATED_THRESHOLD"};
    for (size_t i = 0; i < 2; i++) {
        const char *value = getenv(names[i]);
        if (value && *value) return strtoull(value, NULL, 0);
    }
    return 0;
}

static void allocation_above_dedicated_threshold_passes_through(harness *h) {
    uint64_t threshold = dedicated_threshold();
    if (h->layer && threshold == 0) harness_skip("set VK_TRANSPARENT_SUBALLOC_DEDICATED_THRESHOLD to test this");
    VkDeviceSize size = (threshold ? threshold : 4u << 20) + (64 << 10);
    buffer_round_trip(h, size, NULL, false, "memory above the dedicated threshold");
    h->expect.passthrough = 1;
}

static void lazily_allocated_memory_passes_through(harness *h) {
    VkImageCreateInfo image_info = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = VK_FORMAT_R8G8B8A8_UNORM,
        .extent = {256, 256, 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    VkImage image;
    VK_REQUIRE(vkCreateImage(h->device, &image_info, NULL, &image));
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(h->device, image, &requirements);
    uint32_t type = harness_memory_type(h, requirements.memoryTypeBits, VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT);
    if (type == UINT32_MAX) {
        vkDestroyImage(h->device, image, NULL);
        harness_skip("no lazily allocated memory type (the strict layer has one)");
    }
    VkDeviceMemory memory;
    VK_REQUIRE(harness_allocate_simple(h, requirements.size, type, &memory));
    expect_driver_handle(h, memory, "lazily allocated memory");
    VK_REQUIRE(vkBindImageMemory(h->device, image, memory, 0));
    VkDeviceSize committed = UINT64_MAX;
    vkGetDeviceMemoryCommitment(h->device, memory, &committed);
    CHECK(committed <= requirements.size, "commitment %" PRIu64 " is at most the allocation's size", committed);
    vkDestroyImage(h->device, image, NULL);
    vkFreeMemory(h->device, memory, NULL);
    h->expect.passthrough = 1;
}

/* ---------------------------------------------------------------- sub-allocation and pools */

typedef struct small_allocation {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceAddress address;
    uint32_t seed;
    bool by_address;
} small_allocation;

enum { SMALL_SIZE = 1024, MAX_SMALL = 1024 };

/* count buffers, one per allocation, each with the pNext its index asks for. */
typedef const void *(*allocate_next_fn)(uint32_t index, VkMemoryAllocateFlagsInfo *scratch, bool *by_address);

static void make_small_allocations(harness *h, small_allocation *list, uint32_t count, uint32_t type_rotation,
                                   allocate_next_fn next_for) {
    uint32_t driver_handles = 0;
    for (uint32_t i = 0; i < count; i++) {
        small_allocation *s = &list[i];
        VkMemoryAllocateFlagsInfo scratch;
        const void *next = next_for(i, &scratch, &s->by_address);
        s->buffer = harness_buffer_create(
            h, SMALL_SIZE,
            s->by_address ? VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT : 0, NULL);
        VkMemoryRequirements requirements = buffer_requirements(h, s->buffer);
        uint32_t types[VK_MAX_MEMORY_TYPES];
        uint32_t n = harness_memory_types(h, requirements.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, types);
        REQUIRE(n > 0, "a host-visible type for a small buffer");
        VkMemoryAllocateInfo info = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
            .pNext = next,
            .allocationSize = requirements.size,
            .memoryTypeIndex = types[(i / type_rotation) % n],
        };
        VK_REQUIRE(harness_allocate(h, &info, &s->memory));
        driver_handles += h->strict_is_driver_memory && harness_is_driver_memory(h, s->memory);
        VK_REQUIRE(vkBindBufferMemory(h->device, s->buffer, s->memory, 0));
        void *data;
        VK_REQUIRE(vkMapMemory(h->device, s->memory, 0, VK_WHOLE_SIZE, 0, &data));
        s->seed = 900000 + i;
        harness_fill_pattern(data, SMALL_SIZE, s->seed);
        if (!harness_type_is(h, info.memoryTypeIndex, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) {
            VkMappedMemoryRange range = {
                .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = s->memory, .size = VK_WHOLE_SIZE};
            VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &range));
        }
        vkUnmapMemory(h->device, s->memory);
        if (s->by_address) {
            VkBufferDeviceAddressInfo where = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
                                               .buffer = s->buffer};
            s->address = vkGetBufferDeviceAddress(h->device, &where);
        }
    }
    if (h->layer)
        CHECK(driver_handles == 0, "%u of %u small plain allocations are driver allocations, not sub-allocated",
              driver_handles, count);
}

/* Runs the address shader over the by_address ones, copies all to one readback
 * buffer and checks every word: transformed where addressed, untouched elsewhere. */
static void check_small_allocations(harness *h, small_allocation *list, uint32_t count) {
    harness_host_buffer readback, table;
    harness_host_buffer_create(h, (VkDeviceSize)count * SMALL_SIZE, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    harness_host_buffer_create(h, (VkDeviceSize)count * sizeof(transform_chunk),
                               VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT, &table);
    uint32_t chunks = 0;
    for (uint32_t i = 0; i < count; i++)
        if (list[i].by_address)
            ((transform_chunk *)table.data)[chunks++] =
                (transform_chunk){.address = list[i].address, .word_count = SMALL_SIZE / 4};
    harness_host_buffer_flush(h, &table);

    harness_pipeline pipeline = {0};
    VkCommandBuffer commands = harness_begin(h);
    if (chunks) {
        harness_compute_pipeline(h, "transform_by_address", VK_NULL_HANDLE, sizeof(transform_push), &pipeline);
        transform_push push = {.chunks = table.address, .chunk_count = chunks};
        vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline);
        vkCmdPushConstants(commands, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
        vkCmdDispatch(commands, chunks, 1, 1);
        harness_barrier(commands);
    }
    for (uint32_t i = 0; i < count; i++) {
        VkBufferCopy region = {.dstOffset = (VkDeviceSize)i * SMALL_SIZE, .size = SMALL_SIZE};
        vkCmdCopyBuffer(commands, list[i].buffer, readback.buffer, 1, &region);
    }
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &readback);

    uint64_t wrong = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint32_t *words = (const uint32_t *)(readback.data + (size_t)i * SMALL_SIZE);
        for (uint32_t k = 0; k < SMALL_SIZE / 4; k++) {
            uint32_t expected = harness_pattern(list[i].seed, k);
            if (list[i].by_address) expected = transform_by_address(expected, k);
            wrong += words[k] != expected;
        }
    }
    CHECK(wrong == 0, "%" PRIu64 " wrong words in %u small allocations", wrong, count);
    if (chunks) harness_pipeline_destroy(h, &pipeline);
    harness_host_buffer_destroy(h, &table);
    harness_host_buffer_destroy(h, &readback);
    for (uint32_t i = 0; i < count; i++) {
        vkDestroyBuffer(h->device, list[i].buffer, NULL);
        vkFreeMemory(h->device, list[i].memory, NULL);
    }
}

static const void *no_next(uint32_t index, VkMemoryAllocateFlagsInfo *scratch, bool *by_address) {
    (void)index;
    (void)scratch;
    *by_address = false;
    return NULL;
}

static uint32_t host_visible_type_count(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    return harness_memory_types(h, ~0u, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, types);
}

static small_allocation smalls[MAX_SMALL];

static void plain_allocations_are_suballocated(harness *h) {
    make_small_allocations(h, smalls, MAX_SMALL, 1, no_next);
    check_small_allocations(h, smalls, MAX_SMALL);
    if (h->strict_counters && h->layer)
        CHECK(harness_strict_counters(h).peak_live_allocations < 16, "the driver saw fewer than 16 allocations");
    h->expect.passthrough = 0;
    h->expect.suballocated_at_least = MAX_SMALL;
    h->expect.driver_live_peak_below = 16;
}

/* Every other allocation asks for device addresses. On a device with the feature
 * every block has the flag, so both kinds share blocks (validation below the layer
 * checks that each bind lands in memory made with the flag), and the addresses
 * must work in a shader. */
static const void *every_other_device_address(uint32_t index, VkMemoryAllocateFlagsInfo *scratch, bool *by_address) {
    *by_address = index % 2 == 1;
    return *by_address ? chain_allocate_flags(scratch, VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT, NULL) : NULL;
}

static void device_address_allocations_share_blocks_made_with_the_flag_and_work_in_a_shader(harness *h) {
    if (!h->enabled.buffer_device_address) harness_skip("no bufferDeviceAddress");
    make_small_allocations(h, smalls, 256, 2, every_other_device_address);
    check_small_allocations(h, smalls, 256);
    if (h->strict_counters && h->layer)
        CHECK(harness_strict_counters(h).peak_live_allocations <= host_visible_type_count(h) + 2,
              "with and without the flag, one block per memory type holds them");
    h->expect.passthrough = 0;
    h->expect.suballocated_at_least = 256;
    h->expect.blocks_peak_at_least = host_visible_type_count(h);
}

static const void *every_other_device_mask(uint32_t index, VkMemoryAllocateFlagsInfo *scratch, bool *by_address) {
    *by_address = false;
    return index % 2 ? chain_allocate_flags(scratch, VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT, NULL) : NULL;
}

static void device_mask_allocations_are_pooled_apart_and_work(harness *h) {
    make_small_allocations(h, smalls, 256, 2, every_other_device_mask);
    check_small_allocations(h, smalls, 256);
    h->expect.passthrough = 0;
    h->expect.suballocated_at_least = 256;
    h->expect.blocks_peak_at_least = 2 * host_visible_type_count(h);
}

static const void *three_priorities(uint32_t index, VkMemoryAllocateFlagsInfo *scratch, bool *by_address) {
    static VkMemoryPriorityAllocateInfoEXT priorities[3] = {
        {VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT, NULL, 0.0f},
        {VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT, NULL, 0.5f},
        {VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT, NULL, 1.0f},
    };
    (void)scratch;
    *by_address = false;
    return &priorities[index % 3];
}

/* Priorities up to the default share blocks; those above it get blocks of their own. */
static void priority_allocations_are_pooled_in_two_classes_and_work(harness *h) {
    if (!h->enabled.memory_priority) harness_skip("no VK_EXT_memory_priority");
    make_small_allocations(h, smalls, 288, 3, three_priorities);
    check_small_allocations(h, smalls, 288);
    h->expect.passthrough = 0;
    h->expect.suballocated_at_least = 288;
    h->expect.blocks_peak_at_least = 2 * host_visible_type_count(h);
}

int main(int argc, char **argv) {
#define CASE(name) \
    { #name, name }
    static const harness_case cases[] = {
        CASE(dedicated_buffer_allocation_gets_a_driver_handle),
        CASE(dedicated_image_allocation_gets_a_driver_handle),
        CASE(exported_and_imported_fd_allocations_get_driver_handles),
        CASE(imported_host_pointer_gets_a_driver_handle),
        CASE(opaque_capture_address_allocation_gets_a_driver_handle),
        CASE(unknown_structure_in_pnext_passes_through),
        CASE(allocation_above_dedicated_threshold_passes_through),
        CASE(lazily_allocated_memory_passes_through),
        CASE(plain_allocations_are_suballocated),
        CASE(device_address_allocations_share_blocks_made_with_the_flag_and_work_in_a_shader),
        CASE(device_mask_allocations_are_pooled_apart_and_work),
        CASE(priority_allocations_are_pooled_in_two_classes_and_work),
    };
#undef CASE
    harness_device_request request = {
        .buffer_device_address = true,
        .buffer_device_address_capture_replay = true,
        .memory_priority = true,
        .external_memory_fd = true,
        .external_memory_host = true,
    };
    return harness_main(argc, argv, &request, cases, sizeof cases / sizeof cases[0]);
}
