/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_engine_patterns: what real engines do with vkAllocateMemory, written from
 * the Vulkan spec and from how VMA, zink and engine ports use memory, not from
 * the layer. Every pattern here is valid Vulkan; the "none" chain proves it, and
 * validation above the layer proves it again. Through the layer each must work
 * exactly as without it. The first argument picks a group:
 *
 *   layout    VMA's pattern: 2 MiB and 16 MiB blocks allocated before any image
 *             exists, a buffer bound at 0, then optimal colour, depth/stencil,
 *             multisampled and 3D images, linear images and buffers, each at the
 *             next multiple of its own reported alignment, linear and optimal
 *             neighbours on separate bufferImageGranularity pages. Allocation
 *             sizes that are not powers of two, tiny ones, ones smaller than a
 *             resource's alignment, every memory type a resource allows,
 *             non-coherent memory flushed and invalidated in atom-sized pieces,
 *             a scene loader's create-all/query-all/allocate-all/map/bind-all
 *             (vkBind*Memory2 included), memory mapped before images exist.
 *   aliasing  a buffer and an optimal image over the same bytes, buffers over the
 *             same range (run with STRICT_DEVICE_ALLOW_ALIASING=1: the strict
 *             device refuses overlap by default, aliasing is valid).
 *   threads   threads binding into shared allocations and writing through their
 *             persistent mapping while other threads allocate, map and free;
 *             threads racing to make the first binds into fresh allocations.
 *   workers   a job system's threads serving one device after another, freeing
 *             each other's allocations.
 *   freed     memory freed while resources are still bound, its bytes reused.
 *
 * Every byte of every resource is read back: buffers and linear images through
 * the mapping where the memory is host-visible, everything through GPU copies
 * (multisampled images through a resolve).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---------------------------------------------------------------- resources */

typedef enum kind {
    KIND_BUFFER,
    KIND_COLOR,         /* optimal 2D colour image */
    KIND_DEPTH_STENCIL, /* optimal depth (and stencil) image */
    KIND_MULTISAMPLE,   /* optimal 4x multisampled 2D array, read back through a resolve */
    KIND_RESOLVE,       /* the single-sample target of a KIND_MULTISAMPLE */
    KIND_3D,            /* optimal 3D image */
    KIND_LINEAR,        /* linear 2D colour image */
} kind;

typedef struct resource {
    kind kind;
    const char *label;
    VkBuffer buffer;
    VkImage image;
    VkFormat format;
    VkExtent3D extent;
    uint32_t layers;
    VkMemoryRequirements requirements;
    VkDeviceMemory memory; /* where it is bound; VK_NULL_HANDLE while unbound */
    VkDeviceSize offset;
    uint32_t seed;
    struct resource *resolve; /* KIND_MULTISAMPLE: its resolve target */
    uint8_t *host;            /* the mapping of memory at offset 0, when the case has one */
    bool preloaded;           /* a buffer whose contents the host wrote: read back only */
    VkDeviceSize up, down;    /* where its data sits in the staging buffer */
} resource;

static bool is_image(const resource *r) { return r->kind != KIND_BUFFER; }

/* Buffers and linear images are "linear" for bufferImageGranularity. */
static bool is_linear(const resource *r) { return r->kind == KIND_BUFFER || r->kind == KIND_LINEAR; }

static VkImageAspectFlags aspects(const resource *r) {
    if (r->kind != KIND_DEPTH_STENCIL) return VK_IMAGE_ASPECT_COLOR_BIT;
    bool stencil = r->format == VK_FORMAT_D16_UNORM_S8_UINT || r->format == VK_FORMAT_D24_UNORM_S8_UINT ||
                   r->format == VK_FORMAT_D32_SFLOAT_S8_UINT;
    return VK_IMAGE_ASPECT_DEPTH_BIT | (stencil ? VK_IMAGE_ASPECT_STENCIL_BIT : 0);
}

static VkDeviceSize texels(const resource *r) {
    return (VkDeviceSize)r->extent.width * r->extent.height * r->extent.depth * r->layers;
}

static VkDeviceSize depth_texel_bytes(VkFormat format) {
    return format == VK_FORMAT_D16_UNORM || format == VK_FORMAT_D16_UNORM_S8_UINT ? 2 : 4;
}

/* Bytes that travel through staging, per part (depth, stencil) and in all. */
static VkDeviceSize depth_part(const resource *r) {
    return harness_align_up(texels(r) * depth_texel_bytes(r->format), 4);
}

static VkDeviceSize data_bytes(const resource *r) {
    switch (r->kind) {
    case KIND_BUFFER: return r->extent.width;
    case KIND_DEPTH_STENCIL:
        return depth_part(r) + ((aspects(r) & VK_IMAGE_ASPECT_STENCIL_BIT) ? harness_align_up(texels(r), 4) : 0);
    default: return texels(r) * 4;
    }
}

static VkImageCreateInfo image_create_info(kind k, VkFormat format, VkExtent3D extent, uint32_t layers) {
    VkImageCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = k == KIND_3D ? VK_IMAGE_TYPE_3D : VK_IMAGE_TYPE_2D,
        .format = format,
        .extent = extent,
        .mipLevels = 1,
        .arrayLayers = layers,
        .samples = k == KIND_MULTISAMPLE ? VK_SAMPLE_COUNT_4_BIT : VK_SAMPLE_COUNT_1_BIT,
        .tiling = k == KIND_LINEAR ? VK_IMAGE_TILING_LINEAR : VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    if (k == KIND_DEPTH_STENCIL) info.usage |= VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT;
    if (k == KIND_MULTISAMPLE || k == KIND_RESOLVE || k == KIND_COLOR)
        info.usage |= VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT;
    return info;
}

/* Whether the device makes such an image at all (then the case leaves it out). */
static bool image_supported(harness *h, const VkImageCreateInfo *info) {
    VkImageFormatProperties properties;
    VkResult result = vkGetPhysicalDeviceImageFormatProperties(h->physical, info->format, info->imageType, info->tiling,
                                                               info->usage, info->flags, &properties);
    if (result != VK_SUCCESS) return false;
    return (properties.sampleCounts & info->samples) && properties.maxArrayLayers >= info->arrayLayers &&
           properties.maxExtent.width >= info->extent.width && properties.maxExtent.height >= info->extent.height &&
           properties.maxExtent.depth >= info->extent.depth;
}

/* The first depth format with a stencil aspect the device copies, else a plain depth one. */
static VkFormat depth_stencil_format(harness *h) {
    const VkFormat candidates[] = {VK_FORMAT_D32_SFLOAT_S8_UINT, VK_FORMAT_D24_UNORM_S8_UINT,
                                   VK_FORMAT_D16_UNORM_S8_UINT, VK_FORMAT_D32_SFLOAT, VK_FORMAT_D16_UNORM};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        VkImageCreateInfo info = image_create_info(KIND_DEPTH_STENCIL, candidates[i], (VkExtent3D){8, 8, 1}, 1);
        if (image_supported(h, &info)) return candidates[i];
    }
    return VK_FORMAT_UNDEFINED;
}

/* Makes the resource and asks its requirements; false (and nothing made) when the
 * device has no such image. */
static bool resource_make(harness *h, resource *r, kind k, const char *label, VkExtent3D extent, uint32_t layers,
                          VkBufferUsageFlags buffer_usage, uint32_t seed) {
    memset(r, 0, sizeof *r);
    r->kind = k;
    r->label = label;
    r->extent = extent;
    r->layers = layers;
    r->seed = seed;
    if (k == KIND_BUFFER) {
        r->buffer = harness_buffer_create(h, extent.width, buffer_usage, NULL);
        vkGetBufferMemoryRequirements(h->device, r->buffer, &r->requirements);
        return true;
    }
    r->format = k == KIND_DEPTH_STENCIL                      ? depth_stencil_format(h)
                : k == KIND_MULTISAMPLE || k == KIND_RESOLVE ? VK_FORMAT_R8G8B8A8_UNORM
                                                             : VK_FORMAT_R8G8B8A8_UINT;
    if (r->format == VK_FORMAT_UNDEFINED) return false;
    VkImageCreateInfo info = image_create_info(k, r->format, extent, layers);
    if (!image_supported(h, &info)) return false;
    VK_REQUIRE(vkCreateImage(h->device, &info, NULL, &r->image));
    vkGetImageMemoryRequirements(h->device, r->image, &r->requirements);
    return true;
}

static void resource_destroy(harness *h, resource *r) {
    if (r->buffer) vkDestroyBuffer(h->device, r->buffer, NULL);
    if (r->image) vkDestroyImage(h->device, r->image, NULL);
    r->buffer = VK_NULL_HANDLE;
    r->image = VK_NULL_HANDLE;
}

/* Binds at offset; a refused bind is a failure of the case (the spec says the
 * bind is valid, so the driver alone would take it), and the resource stays out
 * of the read-back. */
static bool resource_bind(harness *h, resource *r, VkDeviceMemory memory, uint32_t type, VkDeviceSize offset) {
    CHECK(offset % r->requirements.alignment == 0, "test bug: %s at %" PRIu64 " is not on its alignment %" PRIu64,
          r->label, offset, r->requirements.alignment);
    VkResult result = is_image(r) ? vkBindImageMemory(h->device, r->image, memory, offset)
                                  : vkBindBufferMemory(h->device, r->buffer, memory, offset);
    CHECK(result == VK_SUCCESS,
          "binding %s (size %" PRIu64 ", alignment %" PRIu64 ") at offset %" PRIu64 " of type %u returned %s", r->label,
          r->requirements.size, r->requirements.alignment, offset, type, vk_result_name(result));
    if (result != VK_SUCCESS) return false;
    r->memory = memory;
    r->offset = offset;
    return true;
}

/* ---------------------------------------------------------------- data */

/* Depth values every format stores exactly: D32_SFLOAT only takes [0, 1]. */
static uint32_t depth_value(VkFormat format, uint32_t seed, uint64_t i) {
    uint32_t p = harness_pattern(seed, i);
    switch (format) {
    case VK_FORMAT_D16_UNORM:
    case VK_FORMAT_D16_UNORM_S8_UINT: return p & 0xFFFFu;
    case VK_FORMAT_D24_UNORM_S8_UINT: return p & 0xFFFFFFu;
    default: {
        float f = (float)(p & 0xFFFFFFu) / 16777216.0f;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        return bits;
    }
    }
}

static void fill_depth(uint8_t *dst, const resource *r) {
    VkDeviceSize size = depth_texel_bytes(r->format);
    for (VkDeviceSize i = 0; i < texels(r); i++) {
        uint32_t v = depth_value(r->format, r->seed, i);
        memcpy(dst + i * size, &v, size);
    }
}

/* D24 leaves the top byte of each 32-bit texel undefined in a copy to a buffer. */
static uint64_t check_depth(const uint8_t *src, const resource *r) {
    VkDeviceSize size = depth_texel_bytes(r->format);
    uint32_t mask = r->format == VK_FORMAT_D24_UNORM_S8_UINT ? 0xFFFFFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
    uint64_t wrong = 0;
    for (VkDeviceSize i = 0; i < texels(r); i++) {
        uint32_t v = 0;
        memcpy(&v, src + i * size, size);
        if ((v & mask) == depth_value(r->format, r->seed, i)) continue;
        if (!wrong)
            fprintf(stderr, "  %s: depth texel %" PRIu64 " is %08x, not %08x\n", r->label, (uint64_t)i, v,
                    depth_value(r->format, r->seed, i));
        wrong++;
    }
    return wrong;
}

/* Each layer of a multisampled image is cleared to its own colour. */
static VkClearColorValue layer_colour(uint32_t seed, uint32_t layer) {
    uint32_t p = harness_pattern(seed, layer);
    VkClearColorValue colour;
    for (int c = 0; c < 4; c++) colour.float32[c] = (float)((p >> (8 * c)) & 0xFF) / 255.0f;
    return colour;
}

static uint64_t check_resolved(const uint8_t *src, const resource *ms) {
    uint64_t per_layer = (uint64_t)ms->extent.width * ms->extent.height;
    uint64_t wrong = 0;
    for (uint32_t layer = 0; layer < ms->layers; layer++) {
        uint32_t want = harness_pattern(ms->seed, layer);
        for (uint64_t i = 0; i < per_layer; i++) {
            uint32_t got;
            memcpy(&got, src + (layer * per_layer + i) * 4, 4);
            if (got == want) continue;
            if (!wrong)
                fprintf(stderr, "  %s: layer %u texel %" PRIu64 " is %08x, not %08x\n", ms->label, layer, i, got, want);
            wrong++;
        }
    }
    return wrong;
}

static void image_barrier(VkCommandBuffer commands, const resource *r, VkImageLayout from, VkImageLayout to,
                          VkAccessFlags dst_access, VkPipelineStageFlags dst_stage) {
    VkImageMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = from == VK_IMAGE_LAYOUT_UNDEFINED ? 0 : VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = dst_access,
        .oldLayout = from,
        .newLayout = to,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = r->image,
        .subresourceRange = {aspects(r), 0, 1, 0, r->layers},
    };
    VkPipelineStageFlags src_stage =
        from == VK_IMAGE_LAYOUT_UNDEFINED ? VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT : VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(commands, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &barrier);
}

static void transfer_barrier(VkCommandBuffer commands, const resource *r, VkImageLayout from, VkImageLayout to) {
    image_barrier(commands, r, from, to, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT);
}

/* Copies between the staging buffer at offset and the resource, one region per aspect. */
static void copy_image(VkCommandBuffer commands, VkBuffer staging, VkDeviceSize at, const resource *r, bool upload) {
    VkBufferImageCopy regions[2];
    uint32_t count = 0;
    VkImageAspectFlags all = aspects(r);
    VkImageAspectFlagBits each[2] = {VK_IMAGE_ASPECT_DEPTH_BIT, VK_IMAGE_ASPECT_STENCIL_BIT};
    if (all & VK_IMAGE_ASPECT_COLOR_BIT) each[0] = VK_IMAGE_ASPECT_COLOR_BIT;
    for (int a = 0; a < 2; a++) {
        if (!(all & each[a])) continue;
        regions[count++] = (VkBufferImageCopy){
            .bufferOffset = at + (each[a] == VK_IMAGE_ASPECT_STENCIL_BIT ? depth_part(r) : 0),
            .imageSubresource = {each[a], 0, 0, r->layers},
            .imageExtent = r->extent,
        };
    }
    if (upload)
        vkCmdCopyBufferToImage(commands, staging, r->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, count, regions);
    else vkCmdCopyImageToBuffer(commands, r->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, staging, count, regions);
}

static void fill_upload(uint8_t *dst, const resource *r) {
    if (r->kind == KIND_DEPTH_STENCIL) {
        fill_depth(dst, r);
        if (aspects(r) & VK_IMAGE_ASPECT_STENCIL_BIT) harness_fill_pattern(dst + depth_part(r), texels(r), r->seed + 1);
        return;
    }
    harness_fill_pattern(dst, data_bytes(r), r->seed);
}

static uint64_t check_download(const uint8_t *src, const resource *r) {
    switch (r->kind) {
    case KIND_DEPTH_STENCIL: {
        uint64_t wrong = check_depth(src, r);
        if (aspects(r) & VK_IMAGE_ASPECT_STENCIL_BIT)
            wrong += harness_check_pattern(src + depth_part(r), texels(r), r->seed + 1, r->label);
        return wrong;
    }
    case KIND_MULTISAMPLE: return check_resolved(src, r);
    default: return harness_check_pattern(src, data_bytes(r), r->seed, r->label);
    }
}

/* What a host read of the resource through its memory's mapping sees (buffers,
 * and linear images in the GENERAL layout). */
static uint64_t check_through_mapping(harness *h, const resource *r) {
    VkMappedMemoryRange whole = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = r->memory, .size = VK_WHOLE_SIZE};
    VkResult result = vkInvalidateMappedMemoryRanges(h->device, 1, &whole);
    CHECK(result == VK_SUCCESS, "invalidating %s's memory returned %s", r->label, vk_result_name(result));
    if (r->kind == KIND_BUFFER) return harness_check_pattern(r->host + r->offset, data_bytes(r), r->seed, r->label);
    VkImageSubresource subresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0};
    VkSubresourceLayout layout;
    vkGetImageSubresourceLayout(h->device, r->image, &subresource, &layout);
    uint64_t wrong = 0;
    for (uint32_t y = 0; y < r->extent.height; y++) {
        const uint32_t *row = (const uint32_t *)(r->host + r->offset + layout.offset + y * layout.rowPitch);
        for (uint32_t x = 0; x < r->extent.width; x++) {
            uint32_t want = harness_pattern(r->seed, (uint64_t)y * r->extent.width + x);
            if (row[x] == want) continue;
            if (!wrong)
                fprintf(stderr, "  %s through the mapping: texel (%u, %u) is %08x, not %08x\n", r->label, x, y, row[x],
                        want);
            wrong++;
        }
    }
    return wrong;
}

/* Writes every bound resource's pattern through the GPU (a multisampled image by
 * clears), reads everything back through one staging buffer, and compares every
 * byte; then what the host sees through mappings. Returns how many resources came
 * back wrong. Resources never bound are left out: their bind already failed. */
static uint32_t check_resources(harness *h, resource **list, uint32_t count, const char *what) {
    VkDeviceSize half = 0;
    for (uint32_t i = 0; i < count; i++) {
        resource *r = list[i];
        if (!r->memory || r->kind == KIND_RESOLVE) continue;
        r->up = half;
        half = harness_align_up(half + data_bytes(r), 16);
    }
    if (half == 0) return 0;
    harness_host_buffer staging;
    harness_host_buffer_create(h, 2 * half, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               &staging);
    for (uint32_t i = 0; i < count; i++) {
        resource *r = list[i];
        if (!r->memory || r->kind == KIND_RESOLVE) continue;
        r->down = r->up + half;
        if (!r->preloaded && r->kind != KIND_MULTISAMPLE) fill_upload(staging.data + r->up, r);
    }
    harness_host_buffer_flush(h, &staging);

    VkCommandBuffer commands = harness_begin(h);
    for (uint32_t i = 0; i < count; i++)
        if (list[i]->memory && is_image(list[i]))
            transfer_barrier(commands, list[i], VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
    for (uint32_t i = 0; i < count; i++) {
        resource *r = list[i];
        if (!r->memory || r->preloaded || r->kind == KIND_RESOLVE) continue;
        if (r->kind == KIND_BUFFER) {
            VkBufferCopy region = {.srcOffset = r->up, .dstOffset = 0, .size = data_bytes(r)};
            vkCmdCopyBuffer(commands, staging.buffer, r->buffer, 1, &region);
        } else if (r->kind == KIND_MULTISAMPLE) {
            for (uint32_t layer = 0; layer < r->layers; layer++) {
                VkClearColorValue colour = layer_colour(r->seed, layer);
                VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, layer, 1};
                vkCmdClearColorImage(commands, r->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &colour, 1, &range);
            }
        } else {
            copy_image(commands, staging.buffer, r->up, r, true);
        }
    }
    harness_barrier(commands);
    for (uint32_t i = 0; i < count; i++)
        if (list[i]->memory && is_image(list[i]) && list[i]->kind != KIND_RESOLVE)
            transfer_barrier(commands, list[i], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                             VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
    for (uint32_t i = 0; i < count; i++) {
        resource *r = list[i];
        if (!r->memory || r->kind != KIND_MULTISAMPLE || !r->resolve || !r->resolve->memory) continue;
        VkImageResolve region = {
            .srcSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, r->layers},
            .dstSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, r->layers},
            .extent = r->extent,
        };
        vkCmdResolveImage(commands, r->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, r->resolve->image,
                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
        transfer_barrier(commands, r->resolve, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
    }
    for (uint32_t i = 0; i < count; i++) {
        resource *r = list[i];
        if (!r->memory || r->kind == KIND_RESOLVE) continue;
        if (r->kind == KIND_BUFFER) {
            VkBufferCopy region = {.srcOffset = 0, .dstOffset = r->down, .size = data_bytes(r)};
            vkCmdCopyBuffer(commands, r->buffer, staging.buffer, 1, &region);
        } else if (r->kind == KIND_MULTISAMPLE) {
            if (r->resolve && r->resolve->memory) {
                resource shape = *r->resolve;
                copy_image(commands, staging.buffer, r->down, &shape, false);
            }
        } else {
            copy_image(commands, staging.buffer, r->down, r, false);
        }
    }
    /* Linear images are read by the host next: GENERAL is the layout for that. */
    for (uint32_t i = 0; i < count; i++)
        if (list[i]->memory && list[i]->kind == KIND_LINEAR && list[i]->host)
            image_barrier(commands, list[i], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_IMAGE_LAYOUT_GENERAL,
                          VK_ACCESS_HOST_READ_BIT, VK_PIPELINE_STAGE_HOST_BIT);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &staging);

    uint32_t wrong = 0;
    for (uint32_t i = 0; i < count; i++) {
        resource *r = list[i];
        if (!r->memory || r->kind == KIND_RESOLVE) continue;
        if (r->kind == KIND_MULTISAMPLE && !(r->resolve && r->resolve->memory)) continue;
        bool bad = check_download(staging.data + r->down, r) != 0;
        if (r->host && (r->kind == KIND_BUFFER || r->kind == KIND_LINEAR)) bad |= check_through_mapping(h, r) != 0;
        wrong += bad;
    }
    CHECK(wrong == 0, "%s: %u of %u resources came back wrong", what, wrong, count);
    harness_host_buffer_destroy(h, &staging);
    return wrong;
}

/* ---------------------------------------------------------------- slabs */

/* An app's own block, carved the way VMA carves it. */
typedef struct slab {
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint32_t type;
    uint8_t *host;         /* persistent mapping, when host-visible */
    VkDeviceSize cursor;   /* first free byte */
    bool any, last_linear; /* what the previous resource was */
} slab;

/* The next offset at or after from that is on r's alignment and, after a
 * resource of the other kind (linear / optimal), on a fresh granularity page. */
static VkDeviceSize next_offset(const harness *h, VkDeviceSize from, bool any, bool last_linear, const resource *r) {
    VkDeviceSize offset = from;
    if (any && last_linear != is_linear(r))
        offset = harness_align_up(offset, h->properties.limits.bufferImageGranularity);
    return harness_align_up(offset, r->requirements.alignment);
}

/* Places r in the slab where VMA would, and binds it there. */
static bool slab_place(harness *h, slab *s, resource *r) {
    if (!(r->requirements.memoryTypeBits & (1u << s->type))) return false;
    VkDeviceSize offset = next_offset(h, s->cursor, s->any, s->last_linear, r);
    REQUIRE(offset + r->requirements.size <= s->size, "test bug: %s does not fit the %" PRIu64 "-byte slab", r->label,
            s->size);
    printf("    type %u, %" PRIu64 " KiB slab: %s at %" PRIu64 " (size %" PRIu64 ", alignment %" PRIu64 ")\n", s->type,
           s->size >> 10, r->label, offset, r->requirements.size, r->requirements.alignment);
    if (!resource_bind(h, r, s->memory, s->type, offset)) return false;
    r->host = s->host;
    s->cursor = offset + r->requirements.size;
    s->any = true;
    s->last_linear = is_linear(r);
    return true;
}

/* Places r at the highest offset of the slab on its alignment where it fits, as
 * a top-down allocator (VMA's upper stack) does. */
static bool slab_place_at_end(harness *h, slab *s, resource *r) {
    if (!(r->requirements.memoryTypeBits & (1u << s->type))) return false;
    VkDeviceSize offset = (s->size - r->requirements.size) / r->requirements.alignment * r->requirements.alignment;
    VkDeviceSize lowest = next_offset(h, s->cursor, s->any, s->last_linear, r);
    REQUIRE(offset >= lowest, "test bug: %s does not fit the end of the slab", r->label);
    printf("    type %u, %" PRIu64 " KiB slab: %s at %" PRIu64 " (size %" PRIu64 ", alignment %" PRIu64 ")\n", s->type,
           s->size >> 10, r->label, offset, r->requirements.size, r->requirements.alignment);
    if (!resource_bind(h, r, s->memory, s->type, offset)) return false;
    r->host = s->host;
    s->cursor = s->size;
    return true;
}

/* The spec promises that the pointer vkMapMemory returns, less the offset, is a
 * multiple of minMemoryMapAlignment: apps use aligned SIMD copies on it. */
static void check_map_alignment(harness *h, const void *data, VkDeviceSize offset) {
    VkDeviceSize alignment = h->properties.limits.minMemoryMapAlignment;
    uintptr_t base = (uintptr_t)data - (uintptr_t)offset;
    CHECK(base % alignment == 0, "mapped pointer %p at offset %" PRIu64 " is not on minMemoryMapAlignment %" PRIu64,
          data, offset, alignment);
}

static uint8_t *map_if_host_visible(harness *h, VkDeviceMemory memory, uint32_t type) {
    if (!harness_type_is(h, type, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) return NULL;
    void *data;
    VkResult result = vkMapMemory(h->device, memory, 0, VK_WHOLE_SIZE, 0, &data);
    CHECK(result == VK_SUCCESS, "mapping type %u returned %s", type, vk_result_name(result));
    if (result != VK_SUCCESS) return NULL;
    check_map_alignment(h, data, 0);
    return data;
}

static void slab_allocate(harness *h, slab *s, VkDeviceSize size, uint32_t type) {
    memset(s, 0, sizeof *s);
    s->size = size;
    s->type = type;
    VkResult result = harness_allocate_simple(h, size, type, &s->memory);
    REQUIRE(result == VK_SUCCESS, "a %" PRIu64 "-byte slab of type %u: %s", size, type, vk_result_name(result));
    /* Mapped at once and for good, as VMA maps its blocks. */
    s->host = map_if_host_visible(h, s->memory, type);
}

static void slab_free(harness *h, slab *s) {
    if (s->memory) vkFreeMemory(h->device, s->memory, NULL); /* unmaps implicitly, as engines rely on */
    s->memory = VK_NULL_HANDLE;
}

/* ---------------------------------------------------------------- earlier allocations */

/* Small allocations an engine has made before (uniform and staging data), in
 * every type, from the physical device's list alone. With them live, a case's
 * allocations do not open fresh pools at block offset 0, where any placement
 * looks aligned by luck. */
enum { EARLIER = 3 };

typedef struct earlier {
    VkDeviceMemory memory[VK_MAX_MEMORY_TYPES][EARLIER];
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count;
} earlier;

static void earlier_allocate(harness *h, earlier *e) {
    static const VkDeviceSize sizes[EARLIER] = {100, 3000, 70000};
    memset(e, 0, sizeof *e);
    e->count = harness_memory_types(h, ~0u, 0, e->types);
    for (uint32_t t = 0; t < e->count; t++)
        for (uint32_t i = 0; i < EARLIER; i++)
            VK_REQUIRE(harness_allocate_simple(h, sizes[i], e->types[t], &e->memory[t][i]));
}

static void earlier_free(harness *h, earlier *e) {
    for (uint32_t t = 0; t < e->count; t++)
        for (uint32_t i = 0; i < EARLIER; i++) vkFreeMemory(h->device, e->memory[t][i], NULL);
    e->count = 0;
}

/* ---------------------------------------------------------------- slab case */

enum { SLAB_SMALL = 2 << 20, SLAB_LARGE = 16 << 20, SLAB_MAX_RESOURCES = 16 };

typedef struct slab_plan {
    resource items[SLAB_MAX_RESOURCES];
    resource *list[SLAB_MAX_RESOURCES];
    uint32_t count;
} slab_plan;

static resource *plan_add(harness *h, slab_plan *p, kind k, const char *label, VkExtent3D extent, uint32_t layers,
                          VkBufferUsageFlags usage) {
    REQUIRE(p->count < SLAB_MAX_RESOURCES, "test bug: too many resources");
    resource *r = &p->items[p->count];
    if (!resource_make(h, r, k, label, extent, layers, usage, 1000 * (p->count + 1) + (uint32_t)k)) {
        printf("  this device makes no %s; left out\n", label);
        return NULL;
    }
    p->list[p->count++] = r;
    return r;
}

static void plan_destroy(harness *h, slab_plan *p) {
    for (uint32_t i = 0; i < p->count; i++) resource_destroy(h, p->list[i]);
    p->count = 0;
}

/* The small slab: a buffer at 0, then a colour image, a buffer and a linear image
 * each on its own alignment, as a 2 MiB VMA block fills up. */
static void fill_small_slab(harness *h, slab *s, slab_plan *p) {
    const VkBufferUsageFlags vertex = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT;
    resource *first = plan_add(h, p, KIND_BUFFER, "buffer at 0", (VkExtent3D){3000, 1, 1}, 1, vertex);
    REQUIRE(first && slab_place(h, s, first), "a buffer at offset 0 of a fresh slab binds");
    resource *r;
    if ((r = plan_add(h, p, KIND_COLOR, "colour image after a buffer", (VkExtent3D){64, 64, 1}, 1, 0)))
        slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_BUFFER, "buffer after an image", (VkExtent3D){5004, 1, 1}, 1,
                      VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT)))
        slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_LINEAR, "linear image", (VkExtent3D){37, 23, 1}, 1, 0))) slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_COLOR, "colour image at the end", (VkExtent3D){32, 32, 1}, 1, 0)))
        slab_place_at_end(h, s, r);
}

/* The large slab: every kind of image engines make, between buffers. */
static void fill_large_slab(harness *h, slab *s, slab_plan *p) {
    const VkBufferUsageFlags storage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    resource *first = plan_add(h, p, KIND_BUFFER, "buffer at 0", (VkExtent3D){70000, 1, 1}, 1, storage);
    REQUIRE(first && slab_place(h, s, first), "a buffer at offset 0 of a fresh slab binds");
    resource *r;
    if ((r = plan_add(h, p, KIND_COLOR, "colour image", (VkExtent3D){64, 64, 1}, 1, 0))) slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_DEPTH_STENCIL, "depth/stencil image", (VkExtent3D){48, 40, 1}, 1, 0)))
        slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_BUFFER, "uniform buffer between images", (VkExtent3D){260, 1, 1}, 1,
                      VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT)))
        slab_place(h, s, r);
    resource *ms = plan_add(h, p, KIND_MULTISAMPLE, "4x multisampled image", (VkExtent3D){32, 32, 1}, 4, 0);
    if (ms) {
        slab_place(h, s, ms);
        resource *target = plan_add(h, p, KIND_RESOLVE, "resolve target", (VkExtent3D){32, 32, 1}, 4, 0);
        if (target) {
            slab_place(h, s, target);
            ms->resolve = target;
        }
    }
    if ((r = plan_add(h, p, KIND_3D, "3D image", (VkExtent3D){16, 16, 16}, 1, 0))) slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_LINEAR, "linear image", (VkExtent3D){61, 17, 1}, 1, 0))) slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_COLOR, "colour image after a linear image", (VkExtent3D){128, 8, 1}, 1, 0)))
        slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_BUFFER, "storage buffer", (VkExtent3D){12345 * 4, 1, 1}, 1, storage)))
        slab_place(h, s, r);
    if ((r = plan_add(h, p, KIND_COLOR, "colour image at the end", (VkExtent3D){16, 16, 1}, 1, 0)))
        slab_place_at_end(h, s, r);
}

static void vma_slabs_take_every_resource_at_its_own_alignment(harness *h) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    /* From the physical device alone: nothing has been asked of the device yet. */
    uint32_t count = harness_memory_types(h, ~0u, 0, types);
    static slab small[VK_MAX_MEMORY_TYPES], large[VK_MAX_MEMORY_TYPES];
    static earlier before;
    earlier_allocate(h, &before);
    for (uint32_t t = 0; t < count; t++) {
        slab_allocate(h, &small[t], SLAB_SMALL, types[t]);
        slab_allocate(h, &large[t], SLAB_LARGE, types[t]);
    }
    printf("  %u memory types, granularity %" PRIu64 "\n", count, h->properties.limits.bufferImageGranularity);
    for (uint32_t t = 0; t < count; t++) {
        static slab_plan plan;
        plan.count = 0;
        fill_small_slab(h, &small[t], &plan);
        fill_large_slab(h, &large[t], &plan);
        char what[64];
        snprintf(what, sizeof what, "slabs of type %u", types[t]);
        check_resources(h, plan.list, plan.count, what);
        plan_destroy(h, &plan);
    }
    for (uint32_t t = 0; t < count; t++) {
        slab_free(h, &small[t]);
        slab_free(h, &large[t]);
    }
    earlier_free(h, &before);
}

/* ---------------------------------------------------------------- sizes */

/* Memory types that both buffers and optimal colour images may use. */
static uint32_t buffer_and_image_types(harness *h, uint32_t *types) {
    resource b, i;
    resource_make(h, &b, KIND_BUFFER, "probe buffer", (VkExtent3D){256, 1, 1}, 1, 0, 0);
    REQUIRE(resource_make(h, &i, KIND_COLOR, "probe image", (VkExtent3D){16, 16, 1}, 1, 0, 0), "colour images");
    uint32_t bits = b.requirements.memoryTypeBits & i.requirements.memoryTypeBits;
    resource_destroy(h, &b);
    resource_destroy(h, &i);
    uint32_t count = harness_memory_types(h, bits, 0, types);
    REQUIRE(count > 0, "a memory type for both buffers and optimal images");
    return count;
}

/* Sizes no allocator would round to: each holds a buffer at 0 and an optimal
 * image at the highest offset on its alignment where it still fits. */
static void odd_sized_allocations_hold_resources_at_aligned_offsets(harness *h) {
    static earlier before;
    earlier_allocate(h, &before);
    static const VkDeviceSize sizes[] = {65537, 100000, 196613, 1000003, 3 * 1048576 + 7, 5000000};
    enum { SIZES = sizeof sizes / sizeof sizes[0] };
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = buffer_and_image_types(h, types);
    for (uint32_t t = 0; t < count; t++) {
        static resource items[2 * SIZES];
        resource *list[2 * SIZES];
        uint32_t used = 0;
        VkDeviceMemory memories[SIZES];
        for (uint32_t s = 0; s < SIZES; s++) {
            VK_REQUIRE(harness_allocate_simple(h, sizes[s], types[t], &memories[s]));
            uint8_t *host = map_if_host_visible(h, memories[s], types[t]);
            resource *b = &items[used];
            resource_make(h, b, KIND_BUFFER, "buffer at 0 of an odd-sized allocation", (VkExtent3D){1000 + 4 * s, 1, 1},
                          1, 0, 7000 + 10 * t + s);
            if (resource_bind(h, b, memories[s], types[t], 0)) b->host = host;
            list[used++] = b;
            resource *im = &items[used];
            REQUIRE(resource_make(h, im, KIND_COLOR, "image at the end of an odd-sized allocation",
                                  (VkExtent3D){16, 16, 1}, 1, 0, 8000 + 10 * t + s),
                    "colour images");
            list[used++] = im;
            VkDeviceSize lowest = next_offset(h, b->requirements.size, true, true, im);
            VkDeviceSize offset =
                (sizes[s] - im->requirements.size) / im->requirements.alignment * im->requirements.alignment;
            if (im->requirements.size > sizes[s] || offset < lowest) {
                printf("  %" PRIu64 " bytes: no room for an image after the buffer\n", sizes[s]);
                continue;
            }
            resource_bind(h, im, memories[s], types[t], offset);
        }
        check_resources(h, list, used, "odd-sized allocations");
        for (uint32_t i = 0; i < used; i++) resource_destroy(h, list[i]);
        for (uint32_t s = 0; s < SIZES; s++) vkFreeMemory(h->device, memories[s], NULL);
    }
    earlier_free(h, &before);
}

/* Allocations of a few bytes, many at once in every host-visible type: each
 * keeps exactly its own bytes through mapping, and through a buffer bound to it
 * when its size holds the buffer. */
static void tiny_allocations_keep_their_own_bytes(harness *h) {
    enum { TINY = 96 };
    static const VkDeviceSize sizes[] = {1, 2, 3, 4, 5, 7, 13, 64, 100, 255, 256, 257};
    enum { SIZES = sizeof sizes / sizeof sizes[0] };
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = harness_memory_types(h, ~0u, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, types);
    if (count == 0) harness_skip("no host-visible memory type");
    for (uint32_t t = 0; t < count; t++) {
        bool coherent = harness_type_is(h, types[t], VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        VkDeviceMemory memories[TINY];
        uint8_t *data[TINY];
        for (uint32_t i = 0; i < TINY; i++) {
            VkDeviceSize size = sizes[i % SIZES];
            VK_REQUIRE(harness_allocate_simple(h, size, types[t], &memories[i]));
            void *p;
            VK_REQUIRE(vkMapMemory(h->device, memories[i], 0, VK_WHOLE_SIZE, 0, &p));
            check_map_alignment(h, p, 0);
            data[i] = p;
            harness_fill_pattern(data[i], size, 9000 + 100 * t + i);
            VkMappedMemoryRange whole = {
                .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memories[i], .size = VK_WHOLE_SIZE};
            if (!coherent) VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &whole));
        }
        uint32_t wrong = 0;
        for (uint32_t i = 0; i < TINY; i++) {
            VkMappedMemoryRange whole = {
                .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memories[i], .size = VK_WHOLE_SIZE};
            if (!coherent) VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &whole));
            wrong += harness_check_pattern(data[i], sizes[i % SIZES], 9000 + 100 * t + i, "tiny allocation") != 0;
        }
        CHECK(wrong == 0, "type %u: %u of %u tiny allocations lost bytes", types[t], wrong, (unsigned)TINY);

        /* Small buffers in allocations of exactly their required size. */
        static resource items[SIZES];
        resource *list[SIZES];
        VkDeviceMemory own[SIZES];
        uint32_t used = 0;
        for (uint32_t s = 0; s < SIZES; s++) {
            resource *b = &items[used];
            resource_make(h, b, KIND_BUFFER, "tiny buffer", (VkExtent3D){(uint32_t)sizes[s], 1, 1}, 1, 0,
                          9500 + 100 * t + s);
            if (!(b->requirements.memoryTypeBits & (1u << types[t]))) {
                resource_destroy(h, b);
                continue;
            }
            VK_REQUIRE(harness_allocate_simple(h, b->requirements.size, types[t], &own[used]));
            if (resource_bind(h, b, own[used], types[t], 0)) b->host = map_if_host_visible(h, own[used], types[t]);
            list[used++] = b;
        }
        check_resources(h, list, used, "tiny buffers");
        for (uint32_t i = 0; i < used; i++) {
            resource_destroy(h, list[i]);
            vkFreeMemory(h->device, own[i], NULL);
        }
        for (uint32_t i = 0; i < TINY; i++) vkFreeMemory(h->device, memories[i], NULL);
    }
}

/* An allocation of exactly a resource's size may be smaller than its alignment
 * (a 16x16 image needs 1 KiB but 64 KiB alignment on many GPUs): at offset 0 it
 * is valid, and so is one a few bytes larger. */
static void allocations_smaller_than_the_alignment_hold_a_resource_at_zero(harness *h) {
    static earlier before;
    earlier_allocate(h, &before);
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = buffer_and_image_types(h, types);
    enum { PER_TYPE = 8 };
    for (uint32_t t = 0; t < count; t++) {
        static resource items[PER_TYPE];
        resource *list[PER_TYPE];
        VkDeviceMemory memories[PER_TYPE];
        uint32_t used = 0;
        for (uint32_t i = 0; i < PER_TYPE; i++) {
            resource *r = &items[used];
            uint32_t seed = 11000 + 100 * t + i;
            bool made;
            switch (i % 4) {
            case 0:
                made = resource_make(h, r, KIND_BUFFER, "small buffer", (VkExtent3D){4 + 12 * i, 1, 1}, 1,
                                     VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, seed);
                break;
            case 1: made = resource_make(h, r, KIND_COLOR, "small image", (VkExtent3D){4 + i, 4, 1}, 1, 0, seed); break;
            case 2:
                made = resource_make(h, r, KIND_LINEAR, "small linear image", (VkExtent3D){3 + i, 2, 1}, 1, 0, seed);
                break;
            default:
                made =
                    resource_make(h, r, KIND_DEPTH_STENCIL, "small depth image", (VkExtent3D){4, 4 + i, 1}, 1, 0, seed);
            }
            if (!made || !(r->requirements.memoryTypeBits & (1u << types[t]))) {
                resource_destroy(h, r);
                continue;
            }
            VkDeviceSize size = r->requirements.size + (i >= 4 ? 3 : 0);
            if (size < r->requirements.alignment)
                printf("  %s: %" PRIu64 " bytes, alignment %" PRIu64 "\n", r->label, size, r->requirements.alignment);
            VK_REQUIRE(harness_allocate_simple(h, size, types[t], &memories[used]));
            if (resource_bind(h, r, memories[used], types[t], 0))
                r->host = map_if_host_visible(h, memories[used], types[t]);
            list[used++] = r;
        }
        check_resources(h, list, used, "allocations smaller than the alignment");
        for (uint32_t i = 0; i < used; i++) {
            resource_destroy(h, list[i]);
            vkFreeMemory(h->device, memories[i], NULL);
        }
    }
    earlier_free(h, &before);
}

/* Every memory type in a resource's memoryTypeBits takes it, whatever the type's
 * flags: a transient attachment may sit in lazily allocated memory. */
static void every_memory_type_a_resource_allows_takes_it(harness *h) {
    static earlier before;
    earlier_allocate(h, &before);
    enum { KINDS = 5, MAX = KINDS * VK_MAX_MEMORY_TYPES };
    static resource items[MAX];
    resource *list[MAX];
    VkDeviceMemory memories[MAX];
    uint32_t used = 0, transient_bound = 0;
    for (uint32_t k = 0; k < KINDS; k++) {
        for (uint32_t type = 0; type < h->memory.memoryTypeCount; type++) {
            if (harness_type_is(h, type, VK_MEMORY_PROPERTY_PROTECTED_BIT)) continue;
            resource *r = &items[used];
            uint32_t seed = 12000 + 100 * k + type;
            bool made =
                k == 0   ? resource_make(h, r, KIND_BUFFER, "buffer", (VkExtent3D){777, 1, 1}, 1, 0, seed)
                : k == 1 ? resource_make(h, r, KIND_COLOR, "colour image", (VkExtent3D){20, 12, 1}, 1, 0, seed)
                : k == 2 ? resource_make(h, r, KIND_LINEAR, "linear image", (VkExtent3D){20, 12, 1}, 1, 0, seed)
                : k == 3 ? resource_make(h, r, KIND_DEPTH_STENCIL, "depth image", (VkExtent3D){20, 12, 1}, 1, 0, seed)
                         : false;
            if (k == 4) {
                /* A transient colour attachment: lazily allocated memory is for it. */
                memset(r, 0, sizeof *r);
                r->kind = KIND_COLOR;
                r->label = "transient attachment";
                VkImageCreateInfo info =
                    image_create_info(KIND_COLOR, VK_FORMAT_R8G8B8A8_UNORM, (VkExtent3D){64, 64, 1}, 1);
                info.usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT;
                made = image_supported(h, &info);
                if (made) {
                    VK_REQUIRE(vkCreateImage(h->device, &info, NULL, &r->image));
                    vkGetImageMemoryRequirements(h->device, r->image, &r->requirements);
                }
            }
            if (!made) continue;
            if (!(r->requirements.memoryTypeBits & (1u << type))) {
                resource_destroy(h, r);
                continue;
            }
            VK_REQUIRE(harness_allocate_simple(h, r->requirements.size, type, &memories[used]));
            if (!resource_bind(h, r, memories[used], type, 0)) {
                resource_destroy(h, r);
                vkFreeMemory(h->device, memories[used], NULL);
                continue;
            }
            if (k == 4) {
                /* Its contents never leave the attachment; what the app may ask of lazy memory is its commitment. */
                if (harness_type_is(h, type, VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT)) {
                    VkDeviceSize committed = UINT64_MAX;
                    vkGetDeviceMemoryCommitment(h->device, memories[used], &committed);
                    CHECK(committed <= r->requirements.size, "commitment of lazy memory: %" PRIu64 " of %" PRIu64,
                          committed, r->requirements.size);
                }
                transient_bound++;
                resource_destroy(h, r);
                vkFreeMemory(h->device, memories[used], NULL);
                continue;
            }
            r->host = map_if_host_visible(h, memories[used], type);
            list[used++] = r;
        }
    }
    printf("  %u resources in %u types, %u transient attachments bound\n", used, h->memory.memoryTypeCount,
           transient_bound);
    REQUIRE(used > 0, "some resource binds");
    check_resources(h, list, used, "every allowed memory type");
    for (uint32_t i = 0; i < used; i++) {
        resource_destroy(h, list[i]);
        vkFreeMemory(h->device, memories[i], NULL);
    }
    earlier_free(h, &before);
}

/* ---------------------------------------------------------------- non-coherent */

typedef struct noncoherent {
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint8_t *data;
    VkBuffer buffer;
    uint32_t seed;
} noncoherent;

static VkMappedMemoryRange range_of(VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size) {
    return (VkMappedMemoryRange){
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .offset = offset, .size = size};
}

/* Flushes (or invalidates) [0, size) in pieces of a few atoms; the last piece
 * ends at the allocation's end, which need not be an atom multiple. */
static void in_pieces(harness *h, const noncoherent *n, bool flush, VkDeviceSize atom) {
    VkMappedMemoryRange ranges[64];
    uint32_t count = 0;
    for (VkDeviceSize at = 0, step = atom; at < n->size && count < 64; at += step, step += atom) {
        VkDeviceSize size = at + step >= n->size ? n->size - at : step;
        ranges[count++] = range_of(n->memory, at, size);
        if (at + step >= n->size) break;
    }
    /* Every piece in its own call, the last ones together: both forms are common. */
    for (uint32_t i = 0; i + 2 < count; i++) {
        VkResult result = flush ? vkFlushMappedMemoryRanges(h->device, 1, &ranges[i])
                                : vkInvalidateMappedMemoryRanges(h->device, 1, &ranges[i]);
        CHECK(result == VK_SUCCESS, "%s [%" PRIu64 ", +%" PRIu64 ") returned %s", flush ? "flush" : "invalidate",
              ranges[i].offset, ranges[i].size, vk_result_name(result));
    }
    uint32_t rest = count < 2 ? count : 2;
    VkResult result = flush ? vkFlushMappedMemoryRanges(h->device, rest, &ranges[count - rest])
                            : vkInvalidateMappedMemoryRanges(h->device, rest, &ranges[count - rest]);
    CHECK(result == VK_SUCCESS, "%s of the last pieces returned %s", flush ? "flush" : "invalidate",
          vk_result_name(result));
}

/* Non-coherent memory, as a streaming engine uses it: host writes made visible
 * by flushes of atom-multiple sub-ranges, device writes by invalidates of them;
 * and an invalidate of one allocation never discards another's unflushed writes. */
static void noncoherent_sub_ranges_flush_and_invalidate_on_atoms(harness *h) {
    VkBuffer probe = harness_buffer_create(h, 256, 0, NULL);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, probe, &requirements);
    vkDestroyBuffer(h->device, probe, NULL);
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < h->memory.memoryTypeCount && type == UINT32_MAX; i++)
        if ((requirements.memoryTypeBits & (1u << i)) && harness_type_is(h, i, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            !harness_type_is(h, i, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            type = i;
    if (type == UINT32_MAX) harness_skip("no host-visible, non-coherent memory type for buffers");
    VkDeviceSize atom = h->properties.limits.nonCoherentAtomSize;
    printf("  type %u, nonCoherentAtomSize %" PRIu64 "\n", type, atom);

    enum { COUNT = 6 };
    static const VkDeviceSize sizes[COUNT] = {1000, 4096 + 100, 3 * 256 + 17, 65536 + 4, 300, 20000};
    noncoherent n[COUNT];
    harness_host_buffer staging;
    harness_host_buffer_create(h, 2 * 65536 + 8192, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               &staging);
    for (uint32_t i = 0; i < COUNT; i++) {
        n[i].size = sizes[i];
        n[i].seed = 13000 + i;
        VK_REQUIRE(harness_allocate_simple(h, n[i].size, type, &n[i].memory));
        /* Buffers whose size the allocation holds at 0 (requirements may round up). */
        n[i].buffer = harness_buffer_create(h, n[i].size / 4 * 4, 0, NULL);
        VkMemoryRequirements buffer_requirements;
        vkGetBufferMemoryRequirements(h->device, n[i].buffer, &buffer_requirements);
        REQUIRE(buffer_requirements.size <= n[i].size, "a %" PRIu64 "-byte buffer fits its allocation",
                n[i].size / 4 * 4);
        VK_REQUIRE(vkBindBufferMemory(h->device, n[i].buffer, n[i].memory, 0));
        void *p;
        VK_REQUIRE(vkMapMemory(h->device, n[i].memory, 0, VK_WHOLE_SIZE, 0, &p));
        n[i].data = p;
    }

    /* Host to device: write, flush in pieces, copy out on the GPU. */
    for (uint32_t i = 0; i < COUNT; i++) {
        harness_fill_pattern(n[i].data, n[i].size, n[i].seed);
        in_pieces(h, &n[i], true, atom);
    }
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < COUNT; i++) {
        harness_copy_buffer(h, n[i].buffer, 0, staging.buffer, 0, n[i].size / 4 * 4);
        harness_host_buffer_invalidate(h, &staging);
        wrong += harness_check_pattern(staging.data, n[i].size / 4 * 4, n[i].seed, "flushed in pieces") != 0;
    }
    CHECK(wrong == 0, "%u of %u allocations flushed in pieces reached the device wrong", wrong, (unsigned)COUNT);

    /* Device to host: the GPU writes, the host invalidates in pieces and reads. */
    wrong = 0;
    for (uint32_t i = 0; i < COUNT; i++) {
        harness_fill_pattern(staging.data, n[i].size / 4 * 4, n[i].seed + 50);
        harness_host_buffer_flush(h, &staging);
        harness_copy_buffer(h, staging.buffer, 0, n[i].buffer, 0, n[i].size / 4 * 4);
        in_pieces(h, &n[i], false, atom);
        wrong += harness_check_pattern(n[i].data, n[i].size / 4 * 4, n[i].seed + 50, "invalidated in pieces") != 0;
    }
    CHECK(wrong == 0, "%u of %u allocations invalidated in pieces read wrong", wrong, (unsigned)COUNT);

    /* Unflushed writes to each allocation, then every OTHER allocation invalidated
     * whole: the writes must survive until their own flush. */
    for (uint32_t i = 0; i < COUNT; i++) harness_fill_pattern(n[i].data, n[i].size, n[i].seed + 100);
    for (uint32_t i = 0; i < COUNT; i++) {
        for (uint32_t j = 0; j < COUNT; j++) {
            if (j == i) continue;
            VkMappedMemoryRange whole = range_of(n[j].memory, 0, VK_WHOLE_SIZE);
            /* Only j's own range; j's unflushed bytes are j's business, so refill them after. */
            VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &whole));
            harness_fill_pattern(n[j].data, n[j].size, n[j].seed + 100);
        }
        VkMappedMemoryRange whole = range_of(n[i].memory, 0, VK_WHOLE_SIZE);
        VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &whole));
        harness_copy_buffer(h, n[i].buffer, 0, staging.buffer, 0, n[i].size / 4 * 4);
        harness_host_buffer_invalidate(h, &staging);
        CHECK(harness_check_pattern(staging.data, n[i].size / 4 * 4, n[i].seed + 100,
                                    "unflushed writes next to invalidated neighbours") == 0,
              "allocation %u lost unflushed writes to its neighbours' invalidates", i);
    }

    /* A mapping that starts inside the allocation, flushed in atoms relative to the memory. */
    noncoherent *big = &n[3];
    vkUnmapMemory(h->device, big->memory);
    VkDeviceSize map_offset = 3 * atom;
    void *p;
    VK_REQUIRE(vkMapMemory(h->device, big->memory, map_offset, VK_WHOLE_SIZE, 0, &p));
    check_map_alignment(h, p, map_offset);
    uint8_t *window = p;
    harness_fill_pattern(window, big->size - map_offset, big->seed + 200);
    VkMappedMemoryRange pieces[2] = {range_of(big->memory, map_offset, 5 * atom),
                                     range_of(big->memory, map_offset + 5 * atom, VK_WHOLE_SIZE)};
    VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 2, pieces));
    VkDeviceSize bytes = (big->size - map_offset) / 4 * 4;
    harness_copy_buffer(h, big->buffer, map_offset, staging.buffer, 0, bytes);
    harness_host_buffer_invalidate(h, &staging);
    CHECK(harness_check_pattern(staging.data, bytes, big->seed + 200, "mapped at an offset") == 0,
          "writes through a mapping at offset %" PRIu64 " reach the device", map_offset);

    for (uint32_t i = 0; i < COUNT; i++) {
        vkDestroyBuffer(h->device, n[i].buffer, NULL);
        vkFreeMemory(h->device, n[i].memory, NULL);
    }
    harness_host_buffer_destroy(h, &staging);

    /* Allocations smaller than an atom, side by side: the host's unflushed bytes
     * in one stay what the host wrote while every other one is invalidated. */
    enum { TINY = 24 };
    VkDeviceMemory tiny[TINY];
    uint8_t *tiny_data[TINY];
    VkDeviceSize tiny_size[TINY];
    for (uint32_t i = 0; i < TINY; i++) {
        tiny_size[i] = 1 + (i * 37) % (atom > 1 ? atom - 1 : 1);
        VK_REQUIRE(harness_allocate_simple(h, tiny_size[i], type, &tiny[i]));
        void *mapped;
        VK_REQUIRE(vkMapMemory(h->device, tiny[i], 0, VK_WHOLE_SIZE, 0, &mapped));
        tiny_data[i] = mapped;
        harness_fill_pattern(tiny_data[i], tiny_size[i], 13500 + i);
        VkMappedMemoryRange whole = range_of(tiny[i], 0, VK_WHOLE_SIZE);
        VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &whole));
    }
    uint32_t lost = 0;
    for (uint32_t i = 0; i < TINY; i++) {
        harness_fill_pattern(tiny_data[i], tiny_size[i], 13600 + i); /* not flushed */
        for (uint32_t j = 0; j < TINY; j++) {
            if (j == i) continue;
            VkMappedMemoryRange whole = range_of(tiny[j], 0, VK_WHOLE_SIZE);
            VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &whole));
        }
        lost += harness_check_pattern(tiny_data[i], tiny_size[i], 13600 + i, "unflushed tiny allocation") != 0;
        VkMappedMemoryRange whole = range_of(tiny[i], 0, VK_WHOLE_SIZE);
        VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &whole));
    }
    CHECK(lost == 0, "%u of %u allocations smaller than an atom lost unflushed bytes to a neighbour's invalidate", lost,
          (unsigned)TINY);
    for (uint32_t i = 0; i < TINY; i++) vkFreeMemory(h->device, tiny[i], NULL);
}

/* ---------------------------------------------------------------- one call, many memories */

/* One vkBindBufferMemory2, one vkFlushMappedMemoryRanges and one
 * vkInvalidateMappedMemoryRanges over a thousand memories at once, plain ones
 * (four buffers sharing some), and dedicated ones that go to the driver as
 * they are, mixed in one array: engines batch exactly like this. */
static void one_call_binds_and_flushes_a_thousand_mixed_memories(harness *h) {
    enum { COUNT = 1000, SHARE = 4 };
    static earlier before;
    earlier_allocate(h, &before);
    h->expect.passthrough = COUNT / 10; /* the dedicated ones, and only they */
    static resource items[COUNT];
    static resource *list[COUNT];
    static VkDeviceMemory memories[COUNT];
    static VkBindBufferMemoryInfo binds[COUNT];
    static VkMappedMemoryRange ranges[COUNT];
    uint32_t memory_count = 0;
    /* A host-visible type, non-coherent where there is one, so the flushes matter. */
    resource probe;
    resource_make(h, &probe, KIND_BUFFER, "probe", (VkExtent3D){256, 1, 1}, 1, 0, 0);
    uint32_t type = harness_memory_type(h, probe.requirements.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    for (uint32_t i = 0; i < h->memory.memoryTypeCount; i++)
        if ((probe.requirements.memoryTypeBits & (1u << i)) &&
            harness_type_is(h, i, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            !harness_type_is(h, i, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            type = i;
    resource_destroy(h, &probe);
    REQUIRE(type != UINT32_MAX, "a host-visible type for buffers");
    printf("  type %u%s\n", type,
           harness_type_is(h, type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) ? "" : " (non-coherent)");

    uint8_t *hosts[COUNT];
    for (uint32_t i = 0; i < COUNT; i++) {
        resource *r = &items[i];
        resource_make(h, r, KIND_BUFFER, i % 10 == 9 ? "buffer in dedicated memory" : "buffer in plain memory",
                      (VkExtent3D){64 + 4 * (i % 97), 1, 1}, 1, 0, 80000 + i);
        list[i] = r;
        VkDeviceSize stride = harness_align_up(r->requirements.size, r->requirements.alignment);
        if (i % 10 == 9) {
            VkMemoryDedicatedAllocateInfo dedicated = {.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
                                                       .buffer = r->buffer};
            VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                         .pNext = &dedicated,
                                         .allocationSize = r->requirements.size,
                                         .memoryTypeIndex = type};
            VK_REQUIRE(harness_allocate(h, &info, &memories[memory_count]));
            r->memory = memories[memory_count++];
            r->offset = 0;
        } else if (i % 10 % SHARE == 0 || i % 10 == 8) {
            /* Room for this buffer and the next SHARE - 1 plain ones at their alignment. */
            VK_REQUIRE(harness_allocate_simple(h, SHARE * (stride + 4 * 97), type, &memories[memory_count]));
            r->memory = memories[memory_count++];
            r->offset = 0;
        } else {
            const resource *previous = &items[i - 1];
            r->memory = previous->memory;
            r->offset = harness_align_up(previous->offset + previous->requirements.size, r->requirements.alignment);
        }
        binds[i] = (VkBindBufferMemoryInfo){.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO,
                                            .buffer = r->buffer,
                                            .memory = r->memory,
                                            .memoryOffset = r->offset};
    }
    VkResult result = vkBindBufferMemory2(h->device, COUNT, binds);
    CHECK(result == VK_SUCCESS, "vkBindBufferMemory2 of %u buffers in %u memories returned %s", (unsigned)COUNT,
          memory_count, vk_result_name(result));
    if (result != VK_SUCCESS) {
        for (uint32_t i = 0; i < COUNT; i++) items[i].memory = VK_NULL_HANDLE; /* all undefined now */
    } else {
        for (uint32_t m = 0; m < memory_count; m++) {
            void *p;
            VK_REQUIRE(vkMapMemory(h->device, memories[m], 0, VK_WHOLE_SIZE, 0, &p));
            check_map_alignment(h, p, 0);
            hosts[m] = p;
            ranges[m] = range_of(memories[m], 0, VK_WHOLE_SIZE);
        }
        /* The host writes every buffer, one flush call makes all of it the device's. */
        for (uint32_t i = 0, m = 0; i < COUNT; i++) {
            while (memories[m] != items[i].memory) m++;
            items[i].host = hosts[m];
            items[i].preloaded = true;
            harness_fill_pattern(items[i].host + items[i].offset, data_bytes(&items[i]), items[i].seed);
        }
        result = vkFlushMappedMemoryRanges(h->device, memory_count, ranges);
        CHECK(result == VK_SUCCESS, "one flush of %u ranges returned %s", memory_count, vk_result_name(result));
        check_resources(h, list, COUNT, "a thousand buffers written by the host, one flush");
        /* The device writes every buffer, one invalidate call makes all of it the host's. */
        for (uint32_t i = 0; i < COUNT; i++) {
            items[i].preloaded = false;
            items[i].seed += 500000;
        }
        check_resources(h, list, COUNT, "a thousand buffers written by the device");
        result = vkInvalidateMappedMemoryRanges(h->device, memory_count, ranges);
        CHECK(result == VK_SUCCESS, "one invalidate of %u ranges returned %s", memory_count, vk_result_name(result));
        uint32_t wrong = 0;
        for (uint32_t i = 0; i < COUNT; i++)
            wrong += harness_check_pattern(items[i].host + items[i].offset, data_bytes(&items[i]), items[i].seed,
                                           "after one invalidate") != 0;
        CHECK(wrong == 0, "%u of %u buffers read wrong after one invalidate of all", wrong, (unsigned)COUNT);
    }
    for (uint32_t i = 0; i < COUNT; i++) resource_destroy(h, &items[i]);
    for (uint32_t m = 0; m < memory_count; m++) vkFreeMemory(h->device, memories[m], NULL);
    earlier_free(h, &before);
}

/* ---------------------------------------------------------------- freed while bound */

/* Engines free memory first and destroy the resources bound to it a frame
 * later (deferred deletion): valid, as long as the resources are not used
 * again. The bytes then go to new allocations and new resources, which must
 * work as if the old ones were gone. */
static void memory_freed_before_its_resources_are_destroyed(harness *h) {
    static earlier before;
    earlier_allocate(h, &before);
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = buffer_and_image_types(h, types);
    enum { ROUNDS = 3 };
    for (uint32_t t = 0; t < count; t++) {
        static resource old_items[ROUNDS][2];
        for (uint32_t round = 0; round < ROUNDS; round++) {
            resource fresh[2];
            uint32_t seed = 70000 + 100 * t + 10 * round;
            resource_make(h, &fresh[0], KIND_BUFFER, "buffer in reused bytes", (VkExtent3D){3000, 1, 1}, 1, 0, seed);
            REQUIRE(resource_make(h, &fresh[1], KIND_COLOR, "image in reused bytes", (VkExtent3D){32, 32, 1}, 1, 0,
                                  seed + 1),
                    "colour images");
            VkDeviceSize image_offset = next_offset(h, fresh[0].requirements.size, true, true, &fresh[1]);
            VkDeviceMemory memory;
            VK_REQUIRE(harness_allocate_simple(h, image_offset + fresh[1].requirements.size, types[t], &memory));
            resource_bind(h, &fresh[0], memory, types[t], 0);
            resource_bind(h, &fresh[1], memory, types[t], image_offset);
            fresh[0].host = map_if_host_visible(h, memory, types[t]);
            resource *list[] = {&fresh[0], &fresh[1]};
            check_resources(h, list, 2, "resources in bytes freed under live resources");
            /* Free now, destroy the resources only after the next rounds. */
            vkFreeMemory(h->device, memory, NULL);
            old_items[round][0] = fresh[0];
            old_items[round][1] = fresh[1];
        }
        for (uint32_t round = 0; round < ROUNDS; round++) {
            resource_destroy(h, &old_items[round][0]);
            resource_destroy(h, &old_items[round][1]);
        }
    }
    earlier_free(h, &before);
}

/* ---------------------------------------------------------------- batches */

/* A scene loader's order: create every resource, ask every requirement (half of
 * them through vkGet*MemoryRequirements2, as zink does), allocate one allocation
 * each, map the host-visible ones at once (VMA's MAPPED flag), and only then
 * bind: half one by one, half in one vkBind*Memory2 call per kind. */
static void create_all_query_all_allocate_all_map_then_bind_all(harness *h) {
    static earlier before;
    earlier_allocate(h, &before);
    enum { COUNT = 28 };
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t type_count = buffer_and_image_types(h, types);
    for (uint32_t t = 0; t < type_count; t++) {
        static resource items[COUNT];
        resource *list[COUNT];
        VkDeviceMemory memories[COUNT];
        uint8_t *hosts[COUNT];
        uint32_t used = 0;
        for (uint32_t i = 0; i < COUNT; i++) {
            resource *r = &items[used];
            uint32_t seed = 16000 + 100 * t + i;
            bool made;
            switch (i % 7) {
            case 0:
                made = resource_make(h, r, KIND_BUFFER, "buffer", (VkExtent3D){4000 + 4 * i, 1, 1}, 1, 0, seed);
                break;
            case 1:
                made = resource_make(h, r, KIND_COLOR, "colour image", (VkExtent3D){32, 16 + i, 1}, 1, 0, seed);
                break;
            case 2:
                made = resource_make(h, r, KIND_LINEAR, "linear image", (VkExtent3D){13 + i, 9, 1}, 1, 0, seed);
                break;
            case 3:
                made = resource_make(h, r, KIND_DEPTH_STENCIL, "depth image", (VkExtent3D){24, 24, 1}, 1, 0, seed);
                break;
            case 4: made = resource_make(h, r, KIND_3D, "3D image", (VkExtent3D){8, 8, 4 + i % 5}, 1, 0, seed); break;
            case 5:
                made = resource_make(h, r, KIND_BUFFER, "uniform buffer", (VkExtent3D){256 + 4 * i, 1, 1}, 1,
                                     VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, seed);
                break;
            default: made = resource_make(h, r, KIND_COLOR, "4x4 image", (VkExtent3D){4, 4, 1}, 1, 0, seed);
            }
            if (!made || !(r->requirements.memoryTypeBits & (1u << types[t]))) {
                resource_destroy(h, r);
                continue;
            }
            list[used++] = r;
        }
        /* Ask again, the other way, for every second one: a later query of another resource comes between. */
        for (uint32_t i = 1; i < used; i += 2) {
            resource *r = list[i];
            VkMemoryDedicatedRequirements dedicated = {.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS};
            VkMemoryRequirements2 requirements = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2,
                                                  .pNext = &dedicated};
            if (is_image(r)) {
                VkImageMemoryRequirementsInfo2 info = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
                                                       .image = r->image};
                vkGetImageMemoryRequirements2(h->device, &info, &requirements);
            } else {
                VkBufferMemoryRequirementsInfo2 info = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
                                                        .buffer = r->buffer};
                vkGetBufferMemoryRequirements2(h->device, &info, &requirements);
            }
            CHECK(memcmp(&requirements.memoryRequirements, &r->requirements, sizeof r->requirements) == 0,
                  "%s: the two requirement queries agree", r->label);
        }
        for (uint32_t i = 0; i < used; i++) {
            VK_REQUIRE(harness_allocate_simple(h, list[i]->requirements.size + i % 3, types[t], &memories[i]));
            hosts[i] = map_if_host_visible(h, memories[i], types[t]);
        }
        /* One by one for the first half. */
        uint32_t half = used / 2;
        for (uint32_t i = 0; i < half; i++)
            if (resource_bind(h, list[i], memories[i], types[t], 0)) list[i]->host = hosts[i];
        /* One call per kind for the rest. */
        VkBindBufferMemoryInfo buffer_binds[COUNT];
        VkBindImageMemoryInfo image_binds[COUNT];
        uint32_t buffers = 0, images = 0;
        for (uint32_t i = half; i < used; i++) {
            if (is_image(list[i]))
                image_binds[images++] = (VkBindImageMemoryInfo){
                    .sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO, .image = list[i]->image, .memory = memories[i]};
            else
                buffer_binds[buffers++] = (VkBindBufferMemoryInfo){.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO,
                                                                   .buffer = list[i]->buffer,
                                                                   .memory = memories[i]};
        }
        VkResult buffer_result = buffers ? vkBindBufferMemory2(h->device, buffers, buffer_binds) : VK_SUCCESS;
        VkResult image_result = images ? vkBindImageMemory2(h->device, images, image_binds) : VK_SUCCESS;
        CHECK(buffer_result == VK_SUCCESS, "type %u: vkBindBufferMemory2 of %u buffers returned %s", types[t], buffers,
              vk_result_name(buffer_result));
        CHECK(image_result == VK_SUCCESS, "type %u: vkBindImageMemory2 of %u images returned %s", types[t], images,
              vk_result_name(image_result));
        for (uint32_t i = half; i < used; i++) {
            /* After a failed batch every resource in it is undefined: leave them all out. */
            VkResult result = is_image(list[i]) ? image_result : buffer_result;
            if (result != VK_SUCCESS) continue;
            list[i]->memory = memories[i];
            list[i]->offset = 0;
            list[i]->host = hosts[i];
        }
        char what[64];
        snprintf(what, sizeof what, "batch-bound resources of type %u", types[t]);
        check_resources(h, list, used, what);
        for (uint32_t i = 0; i < used; i++) {
            resource_destroy(h, list[i]);
            vkFreeMemory(h->device, memories[i], NULL);
        }
    }
    earlier_free(h, &before);
}

/* Memory allocated and mapped on a fresh device before any image exists, then
 * an image bound at 0 (the allocation holds it, although it is smaller than the
 * image's alignment) or at the highest offset on its alignment. */
static void mapped_before_any_image_exists_then_images_bound(harness *h) {
    static earlier before;
    earlier_allocate(h, &before);
    static const VkDeviceSize sizes[] = {1024, 4096, 5000, 65536 + 256, 100000, 300000};
    enum { SIZES = sizeof sizes / sizeof sizes[0] };
    uint32_t types[VK_MAX_MEMORY_TYPES];
    /* From the physical device alone: nothing has been asked of the device yet. */
    uint32_t count = harness_memory_types(h, ~0u, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, types);
    if (count == 0) harness_skip("no host-visible memory type");
    static VkDeviceMemory memories[VK_MAX_MEMORY_TYPES][SIZES];
    static uint8_t *hosts[VK_MAX_MEMORY_TYPES][SIZES];
    for (uint32_t t = 0; t < count; t++)
        for (uint32_t s = 0; s < SIZES; s++) {
            VK_REQUIRE(harness_allocate_simple(h, sizes[s], types[t], &memories[t][s]));
            hosts[t][s] = map_if_host_visible(h, memories[t][s], types[t]);
            if (hosts[t][s]) memset(hosts[t][s], 0xA5, sizes[s]); /* touched: an engine fills it later */
        }
    for (uint32_t t = 0; t < count; t++) {
        static resource items[2 * SIZES];
        resource *list[2 * SIZES];
        uint32_t used = 0;
        static char labels[SIZES][2][64];
        for (uint32_t s = 0; s < SIZES; s++) {
            snprintf(labels[s][0], sizeof labels[s][0], "image at 0 of %" PRIu64 " mapped bytes", sizes[s]);
            snprintf(labels[s][1], sizeof labels[s][1], "image at the end of %" PRIu64 " mapped bytes", sizes[s]);
            resource *at_zero = &items[used];
            REQUIRE(
                resource_make(h, at_zero, KIND_COLOR, labels[s][0], (VkExtent3D){8, 8, 1}, 1, 0, 17000 + 100 * t + s),
                "colour images");
            if (!(at_zero->requirements.memoryTypeBits & (1u << types[t]))) {
                resource_destroy(h, at_zero);
                continue;
            }
            REQUIRE(at_zero->requirements.size <= sizes[s], "test bug: an 8x8 image fits %" PRIu64 " bytes", sizes[s]);
            resource_bind(h, at_zero, memories[t][s], types[t], 0);
            list[used++] = at_zero;
            resource *at_end = &items[used];
            REQUIRE(
                resource_make(h, at_end, KIND_COLOR, labels[s][1], (VkExtent3D){8, 8, 1}, 1, 0, 17500 + 100 * t + s),
                "colour images");
            list[used++] = at_end;
            VkDeviceSize offset = (sizes[s] - at_end->requirements.size) / at_end->requirements.alignment *
                                  at_end->requirements.alignment;
            if (offset < harness_align_up(at_zero->requirements.size, at_end->requirements.alignment)) continue;
            resource_bind(h, at_end, memories[t][s], types[t], offset);
        }
        check_resources(h, list, used, "images bound into memory mapped before they existed");
        for (uint32_t i = 0; i < used; i++) resource_destroy(h, list[i]);
    }
    for (uint32_t t = 0; t < count; t++)
        for (uint32_t s = 0; s < SIZES; s++) vkFreeMemory(h->device, memories[t][s], NULL);
    earlier_free(h, &before);
}

/* ---------------------------------------------------------------- aliasing */

/* The aliasing cases run with STRICT_DEVICE_VIOLATIONS=count, so that one
 * violation does not abort the program before the rest is seen; then every rule
 * is checked here, by name, while the device lives. */
static void check_no_strict_violations(harness *h) {
    PFN_vkStrictDeviceGetViolationCountTEST count =
        (PFN_vkStrictDeviceGetViolationCountTEST)vkGetDeviceProcAddr(h->device, "vkStrictDeviceGetViolationCountTEST");
    if (!count) return;
    static const char *names[STRICT_DEVICE_VIOLATION_KIND_COUNT] = {
        "bind-alignment",
        "bind-range",
        "bind-memory-type",
        "buffer-image-granularity",
        "overlap",
        "mapped-range-alignment",
        "mapped-range-outside-allocation",
        "mapped-range-not-mapped",
        "map-already-mapped",
        "map-not-host-visible",
        "map-range",
        "unmap-not-mapped",
        "allocation-count",
        "memory-type-index",
        "unknown-memory",
        "leak-at-destroy",
        "sparse-block",
        "sparse-resource",
    };
    for (uint32_t k = 0; k < STRICT_DEVICE_VIOLATION_KIND_COUNT; k++) {
        uint64_t n = count(h->device, (StrictDeviceViolation)k);
        CHECK(n == 0, "the strict device counted %" PRIu64 " %s violations", n, names[k]);
    }
}

/* The image's requirements are asked first, then a buffer of the same size is
 * made and asked, memory of that size allocated, and both bound at offset 0, as
 * render-graph engines alias transient resources. Each is used in its own time:
 * written and read back whole before the other is written. */
static void optimal_image_and_buffer_alias_the_same_bytes(harness *h) {
    static earlier before;
    earlier_allocate(h, &before);
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = buffer_and_image_types(h, types);
    VkDeviceMemory spacer[2 * VK_MAX_MEMORY_TYPES];
    uint32_t spacers = 0;
    for (uint32_t t = 0; t < count; t++) {
        for (int image_first = 0; image_first < 2; image_first++) {
            resource image, buffer;
            uint32_t seed = 14000 + 10 * t + (uint32_t)image_first;
            REQUIRE(resource_make(h, &image, KIND_COLOR, "aliased image", (VkExtent3D){64, 64, 1}, 1, 0, seed),
                    "colour images");
            resource_make(h, &buffer, KIND_BUFFER, "aliased buffer",
                          (VkExtent3D){(uint32_t)image.requirements.size, 1, 1}, 1, 0, seed + 5);
            VkDeviceSize size =
                image.requirements.size > buffer.requirements.size ? image.requirements.size : buffer.requirements.size;
            /* A small allocation just before, left live: the aliased one follows odd-sized neighbours. */
            REQUIRE(spacers < 2 * VK_MAX_MEMORY_TYPES, "test bug: too many spacers");
            VK_REQUIRE(harness_allocate_simple(h, 1000 + 8 * spacers, types[t], &spacer[spacers]));
            spacers++;
            VkDeviceMemory memory;
            VK_REQUIRE(harness_allocate_simple(h, size, types[t], &memory));
            /* Both binds are tried whatever the first returns: each failure is its own report. */
            resource *first = image_first ? &image : &buffer, *second = image_first ? &buffer : &image;
            bool first_bound = resource_bind(h, first, memory, types[t], 0);
            bool second_bound = resource_bind(h, second, memory, types[t], 0);
            bool bound = first_bound && second_bound;
            if (bound) {
                resource *only_image[] = {&image};
                check_resources(h, only_image, 1, "the image over the buffer's bytes");
                /* Now the buffer's turn: the image's contents become undefined, which is fine. */
                buffer.host = map_if_host_visible(h, memory, types[t]);
                resource *only_buffer[] = {&buffer};
                check_resources(h, only_buffer, 1, "the buffer over the image's bytes");
                /* And the host writes the buffer's bytes through the mapping. */
                if (buffer.host) {
                    buffer.seed += 1000;
                    harness_fill_pattern(buffer.host, data_bytes(&buffer), buffer.seed);
                    VkMappedMemoryRange whole = range_of(memory, 0, VK_WHOLE_SIZE);
                    VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &whole));
                    buffer.preloaded = true;
                    check_resources(h, only_buffer, 1, "the aliased buffer written through the mapping");
                }
            }
            resource_destroy(h, &image);
            resource_destroy(h, &buffer);
            vkFreeMemory(h->device, memory, NULL);
        }
    }
    for (uint32_t i = 0; i < spacers; i++) vkFreeMemory(h->device, spacer[i], NULL);
    earlier_free(h, &before);
    check_no_strict_violations(h);
}

/* Buffers over the same range and over half of it (suballocating engines view
 * one allocation through several buffers): a write through one is seen through
 * every other, and through the mapping. */
static void buffers_alias_the_same_range(harness *h) {
    VkBuffer probe = harness_buffer_create(h, 256, 0, NULL);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, probe, &requirements);
    vkDestroyBuffer(h->device, probe, NULL);
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = harness_memory_types(h, requirements.memoryTypeBits, 0, types);
    const uint32_t whole_bytes = 65536, half = 32768;
    harness_host_buffer staging;
    harness_host_buffer_create(h, whole_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               &staging);
    for (uint32_t t = 0; t < count; t++) {
        VkBuffer a = harness_buffer_create(h, whole_bytes, 0, NULL);
        VkBuffer b = harness_buffer_create(h, whole_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, NULL);
        VkBuffer c = harness_buffer_create(h, half, 0, NULL);
        VkMemoryRequirements ra, rc;
        vkGetBufferMemoryRequirements(h->device, a, &ra);
        vkGetBufferMemoryRequirements(h->device, c, &rc);
        VkDeviceSize c_offset = harness_align_up(half, rc.alignment);
        VkDeviceMemory memory;
        VK_REQUIRE(harness_allocate_simple(h, whole_bytes + 100, types[t], &memory));
        VkResult ba = vkBindBufferMemory(h->device, a, memory, 0);
        VkResult bb = vkBindBufferMemory(h->device, b, memory, 0);
        VkResult bc = vkBindBufferMemory(h->device, c, memory, c_offset);
        CHECK(ba == VK_SUCCESS && bb == VK_SUCCESS && bc == VK_SUCCESS,
              "type %u: binding buffers over one range returned %s, %s, %s", types[t], vk_result_name(ba),
              vk_result_name(bb), vk_result_name(bc));
        if (ba == VK_SUCCESS && bb == VK_SUCCESS && bc == VK_SUCCESS) {
            uint32_t seed = 15000 + t;
            /* Write through a, read through b. */
            harness_fill_pattern(staging.data, whole_bytes, seed);
            harness_host_buffer_flush(h, &staging);
            harness_copy_buffer(h, staging.buffer, 0, a, 0, whole_bytes);
            memset(staging.data, 0, whole_bytes);
            harness_host_buffer_flush(h, &staging);
            harness_copy_buffer(h, b, 0, staging.buffer, 0, whole_bytes);
            harness_host_buffer_invalidate(h, &staging);
            CHECK(harness_check_pattern(staging.data, whole_bytes, seed, "a written, b read") == 0,
                  "type %u: a write through one buffer is seen through its alias", types[t]);
            /* Write the second half through c, read the whole through a. */
            harness_fill_pattern(staging.data, half, seed + 1);
            harness_host_buffer_flush(h, &staging);
            harness_copy_buffer(h, staging.buffer, 0, c, 0,
                                whole_bytes - c_offset < half ? whole_bytes - c_offset : half);
            harness_copy_buffer(h, a, 0, staging.buffer, 0, whole_bytes);
            harness_host_buffer_invalidate(h, &staging);
            uint8_t *expected = malloc(whole_bytes);
            REQUIRE(expected, "memory for the expected bytes");
            harness_fill_pattern(expected, whole_bytes, seed);
            harness_fill_pattern(expected + c_offset, whole_bytes - c_offset, seed + 1);
            CHECK(memcmp(staging.data, expected, whole_bytes) == 0,
                  "type %u: c's write at offset %" PRIu64 " is seen through a", types[t], c_offset);
            /* And the host sees the same bytes through the mapping. */
            uint8_t *host = map_if_host_visible(h, memory, types[t]);
            if (host) {
                VkMappedMemoryRange whole = range_of(memory, 0, VK_WHOLE_SIZE);
                VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &whole));
                CHECK(memcmp(host, expected, whole_bytes) == 0, "type %u: the mapping shows what the buffers hold",
                      types[t]);
            }
            free(expected);
        }
        vkDestroyBuffer(h->device, a, NULL);
        vkDestroyBuffer(h->device, b, NULL);
        vkDestroyBuffer(h->device, c, NULL);
        vkFreeMemory(h->device, memory, NULL);
    }
    harness_host_buffer_destroy(h, &staging);
    check_no_strict_violations(h);
}

/* ---------------------------------------------------------------- threads */

enum {
    BINDERS = 4,
    CHURNERS = 2,
    SHARED = 3, /* shared allocations, each split into one region per binder */
    SHARED_BYTES = 4 << 20,
    PER_BINDER = 36,    /* resources each binder binds, a third of them images */
    OWN_PER_BINDER = 8, /* allocations each binder maps on its own */
    CHURN_LIVE = 16,
};

#ifndef ENGINE_CHURN_ITERATIONS
#define ENGINE_CHURN_ITERATIONS 1500
#endif

typedef struct thread_report {
    uint64_t errors;
    char first[256];
} thread_report;

__attribute__((format(printf, 2, 3))) static void report_error(thread_report *report, const char *format, ...) {
    if (report->errors++ == 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(report->first, sizeof report->first, format, args);
        va_end(args);
    }
}

typedef struct shared_state {
    harness *h;
    uint32_t type;      /* of the shared allocations: buffers and optimal images */
    uint32_t host_type; /* host-visible, for the threads' own allocations */
    VkDeviceMemory shared[SHARED];
    uint8_t *shared_host[SHARED]; /* mapped once, before the threads start */
    _Atomic uint64_t allocations; /* successful vkAllocateMemory calls of all threads */
} shared_state;

typedef struct binder {
    shared_state *state;
    uint32_t index;
    resource items[PER_BINDER];
    VkDeviceMemory own[OWN_PER_BINDER];
    VkDeviceSize own_size[OWN_PER_BINDER];
    thread_report report;
} binder;

typedef struct churner {
    shared_state *state;
    uint32_t index;
    thread_report report;
} churner;

static void *binder_main(void *argument) {
    binder *b = argument;
    shared_state *st = b->state;
    harness *h = st->h;
    VkDeviceSize region = SHARED_BYTES / BINDERS;
    VkDeviceSize cursor[SHARED];
    bool any[SHARED] = {false}, last_linear[SHARED] = {false};
    for (uint32_t s = 0; s < SHARED; s++) cursor[s] = region * b->index;
    for (uint32_t i = 0; i < PER_BINDER; i++) {
        resource *r = &b->items[i];
        memset(r, 0, sizeof *r);
        uint32_t seed = 20000 + 1000 * b->index + i;
        uint32_t s = i % SHARED;
        VkResult result;
        /* Made by hand: the harness helpers report with REQUIRE, which only the main thread may use. */
        r->seed = seed;
        if (i % 3 == 2) {
            r->kind = KIND_COLOR;
            r->label = "threaded image";
            r->format = VK_FORMAT_R8G8B8A8_UINT;
            r->extent = (VkExtent3D){8 + i % 9, 8, 1};
            r->layers = 1;
            VkImageCreateInfo info = image_create_info(KIND_COLOR, r->format, r->extent, 1);
            result = vkCreateImage(h->device, &info, NULL, &r->image);
            if (result == VK_SUCCESS) vkGetImageMemoryRequirements(h->device, r->image, &r->requirements);
        } else {
            r->kind = KIND_BUFFER;
            r->label = "threaded buffer";
            r->extent = (VkExtent3D){(uint32_t)(100 + 44 * i + 4 * b->index), 1, 1};
            r->layers = 1;
            VkBufferCreateInfo info = {
                .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                .size = r->extent.width,
                .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
            };
            result = vkCreateBuffer(h->device, &info, NULL, &r->buffer);
            if (result == VK_SUCCESS) vkGetBufferMemoryRequirements(h->device, r->buffer, &r->requirements);
        }
        if (result != VK_SUCCESS) {
            report_error(&b->report, "creating %s %u: %s", r->label, i, vk_result_name(result));
            continue;
        }
        VkDeviceSize offset = next_offset(h, cursor[s], any[s], last_linear[s], r);
        if (offset + r->requirements.size > region * (b->index + 1)) {
            report_error(&b->report, "test bug: region %u of shared allocation %u is full", b->index, s);
            continue;
        }
        result = is_image(r) ? vkBindImageMemory(h->device, r->image, st->shared[s], offset)
                             : vkBindBufferMemory(h->device, r->buffer, st->shared[s], offset);
        if (result != VK_SUCCESS) {
            report_error(&b->report, "binding %s %u at offset %" PRIu64 " of shared allocation %u returned %s",
                         r->label, i, offset, s, vk_result_name(result));
            continue;
        }
        r->memory = st->shared[s];
        r->offset = offset;
        cursor[s] = offset + r->requirements.size;
        any[s] = true;
        last_linear[s] = is_linear(r);
        /* Buffers get their bytes from the host, through the mapping made before the threads started. */
        if (r->kind == KIND_BUFFER && st->shared_host[s]) {
            r->host = st->shared_host[s];
            r->preloaded = true;
            harness_fill_pattern(r->host + offset, r->extent.width, seed);
        }
    }
    /* Allocations of its own, mapped, written and unmapped: a map on every thread. */
    for (uint32_t i = 0; i < OWN_PER_BINDER; i++) {
        b->own_size[i] = 1000 + 4096 * i + b->index;
        VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                     .allocationSize = b->own_size[i],
                                     .memoryTypeIndex = st->host_type};
        VkResult result = vkAllocateMemory(h->device, &info, NULL, &b->own[i]);
        if (result != VK_SUCCESS) {
            report_error(&b->report, "own allocation %u: %s", i, vk_result_name(result));
            b->own[i] = VK_NULL_HANDLE;
            continue;
        }
        atomic_fetch_add(&st->allocations, 1);
        void *p;
        result = vkMapMemory(h->device, b->own[i], 0, VK_WHOLE_SIZE, 0, &p);
        if (result != VK_SUCCESS) {
            report_error(&b->report, "mapping own allocation %u: %s", i, vk_result_name(result));
            continue;
        }
        harness_fill_pattern(p, b->own_size[i], 30000 + 100 * b->index + i);
        VkMappedMemoryRange whole = range_of(b->own[i], 0, VK_WHOLE_SIZE);
        if (!harness_type_is(h, st->host_type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            vkFlushMappedMemoryRanges(h->device, 1, &whole);
        vkUnmapMemory(h->device, b->own[i]);
    }
    return NULL;
}

/* Allocates, maps, writes, checks and frees as fast as it can, up to CHURN_LIVE live. */
static void *churner_main(void *argument) {
    churner *c = argument;
    shared_state *st = c->state;
    harness *h = st->h;
    bool coherent = harness_type_is(h, st->host_type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    VkDeviceMemory live[CHURN_LIVE] = {0};
    VkDeviceSize sizes[CHURN_LIVE] = {0};
    uint32_t seeds[CHURN_LIVE] = {0};
    harness_rng rng = {0x9E3779B9u * (c->index + 1)};
    for (uint32_t n = 0; n < ENGINE_CHURN_ITERATIONS; n++) {
        uint32_t slot = (uint32_t)harness_rng_below(&rng, CHURN_LIVE);
        if (live[slot]) {
            void *p;
            VkResult result = vkMapMemory(h->device, live[slot], 0, VK_WHOLE_SIZE, 0, &p);
            if (result == VK_SUCCESS) {
                VkMappedMemoryRange whole = range_of(live[slot], 0, VK_WHOLE_SIZE);
                if (!coherent) vkInvalidateMappedMemoryRanges(h->device, 1, &whole);
                if (harness_check_pattern(p, sizes[slot], seeds[slot], "churned allocation"))
                    report_error(&c->report, "allocation of %" PRIu64 " bytes lost its bytes", sizes[slot]);
                /* Every second one is freed still mapped: vkFreeMemory unmaps, and engines rely on it. */
                if (n % 2) vkUnmapMemory(h->device, live[slot]);
            } else {
                report_error(&c->report, "mapping a churned allocation: %s", vk_result_name(result));
            }
            vkFreeMemory(h->device, live[slot], NULL);
            live[slot] = VK_NULL_HANDLE;
            continue;
        }
        sizes[slot] = 1 + harness_rng_below(&rng, 200000);
        seeds[slot] = 40000 + 100000 * c->index + n;
        VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                     .allocationSize = sizes[slot],
                                     .memoryTypeIndex = st->host_type};
        VkResult result = vkAllocateMemory(h->device, &info, NULL, &live[slot]);
        if (result != VK_SUCCESS) {
            report_error(&c->report, "allocating %" PRIu64 " bytes: %s", sizes[slot], vk_result_name(result));
            live[slot] = VK_NULL_HANDLE;
            continue;
        }
        atomic_fetch_add(&st->allocations, 1);
        void *p;
        result = vkMapMemory(h->device, live[slot], 0, VK_WHOLE_SIZE, 0, &p);
        if (result != VK_SUCCESS) {
            report_error(&c->report, "mapping %" PRIu64 " bytes: %s", sizes[slot], vk_result_name(result));
            continue;
        }
        harness_fill_pattern(p, sizes[slot], seeds[slot]);
        VkMappedMemoryRange whole = range_of(live[slot], 0, VK_WHOLE_SIZE);
        if (!coherent) vkFlushMappedMemoryRanges(h->device, 1, &whole);
        vkUnmapMemory(h->device, live[slot]);
    }
    for (uint32_t slot = 0; slot < CHURN_LIVE; slot++)
        if (live[slot]) vkFreeMemory(h->device, live[slot], NULL);
    return NULL;
}

/* Binders bind buffers and images into the same allocations at their own
 * offsets (valid: only the resource is externally synchronized) and write them
 * through one persistent mapping, while churners allocate, map and free. */
static void threads_bind_into_shared_allocations_while_others_allocate(harness *h) {
    static shared_state st;
    static binder binders[BINDERS];
    static churner churners[CHURNERS];
    memset(&st, 0, sizeof st);
    st.h = h;
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = buffer_and_image_types(h, types);
    /* Shared allocations in a host-visible type where images may go, else the first one. */
    st.type = types[0];
    for (uint32_t i = count; i-- > 0;)
        if (harness_type_is(h, types[i], VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) st.type = types[i];
    st.host_type = harness_memory_type(h, ~0u, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    REQUIRE(st.host_type != UINT32_MAX, "a host-visible memory type");
    printf("  shared allocations of type %u, own allocations of type %u\n", st.type, st.host_type);
    for (uint32_t s = 0; s < SHARED; s++) {
        VK_REQUIRE(harness_allocate_simple(h, SHARED_BYTES, st.type, &st.shared[s]));
        st.shared_host[s] = map_if_host_visible(h, st.shared[s], st.type);
    }

    pthread_t threads[BINDERS + CHURNERS];
    for (uint32_t i = 0; i < BINDERS; i++) {
        memset(&binders[i], 0, sizeof binders[i]);
        binders[i].state = &st;
        binders[i].index = i;
        REQUIRE(pthread_create(&threads[i], NULL, binder_main, &binders[i]) == 0, "starting a thread");
    }
    for (uint32_t i = 0; i < CHURNERS; i++) {
        memset(&churners[i], 0, sizeof churners[i]);
        churners[i].state = &st;
        churners[i].index = i;
        REQUIRE(pthread_create(&threads[BINDERS + i], NULL, churner_main, &churners[i]) == 0, "starting a thread");
    }
    for (uint32_t i = 0; i < BINDERS + CHURNERS; i++) pthread_join(threads[i], NULL);
    h->app_allocations += atomic_load(&st.allocations);
    for (uint32_t i = 0; i < BINDERS; i++)
        CHECK(binders[i].report.errors == 0, "binder %u: %" PRIu64 " errors, first: %s", i, binders[i].report.errors,
              binders[i].report.first);
    for (uint32_t i = 0; i < CHURNERS; i++)
        CHECK(churners[i].report.errors == 0, "churner %u: %" PRIu64 " errors, first: %s", i, churners[i].report.errors,
              churners[i].report.first);

    /* Host writes through the shared mappings become the device's, then every byte comes back. */
    if (!harness_type_is(h, st.type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
        for (uint32_t s = 0; s < SHARED; s++)
            if (st.shared_host[s]) {
                VkMappedMemoryRange whole = range_of(st.shared[s], 0, VK_WHOLE_SIZE);
                VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &whole));
            }
    static resource *list[BINDERS * PER_BINDER];
    uint32_t used = 0;
    for (uint32_t i = 0; i < BINDERS; i++)
        for (uint32_t j = 0; j < PER_BINDER; j++) list[used++] = &binders[i].items[j];
    check_resources(h, list, used, "resources bound by threads into shared allocations");

    uint32_t wrong = 0;
    bool coherent = harness_type_is(h, st.host_type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    for (uint32_t i = 0; i < BINDERS; i++) {
        for (uint32_t j = 0; j < OWN_PER_BINDER; j++) {
            if (!binders[i].own[j]) continue;
            void *p;
            VK_REQUIRE(vkMapMemory(h->device, binders[i].own[j], 0, VK_WHOLE_SIZE, 0, &p));
            VkMappedMemoryRange whole = range_of(binders[i].own[j], 0, VK_WHOLE_SIZE);
            if (!coherent) VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &whole));
            wrong +=
                harness_check_pattern(p, binders[i].own_size[j], 30000 + 100 * i + j, "thread's own allocation") != 0;
            vkFreeMemory(h->device, binders[i].own[j], NULL);
        }
    }
    CHECK(wrong == 0, "%u allocations the threads mapped lost bytes", wrong);
    for (uint32_t i = 0; i < used; i++) resource_destroy(h, list[i]);
    for (uint32_t s = 0; s < SHARED; s++) vkFreeMemory(h->device, st.shared[s], NULL);
}

/* ---------------------------------------------------------------- first binds race */

enum { FRESH = 24, RACERS = 3 };

typedef struct race_state {
    harness *h;
    uint32_t type;
    VkDeviceMemory memories[FRESH];
    VkDeviceSize sizes[FRESH];
    resource items[FRESH][RACERS]; /* made and asked in the main thread, bound by racer k */
    pthread_barrier_t start;
    thread_report reports[RACERS];
} race_state;

typedef struct racer {
    race_state *state;
    uint32_t index;
} racer;

static void *racer_main(void *argument) {
    racer *me = argument;
    race_state *st = me->state;
    harness *h = st->h;
    pthread_barrier_wait(&st->start);
    for (uint32_t m = 0; m < FRESH; m++) {
        resource *r = &st->items[m][me->index];
        if (r->memory) continue; /* bound before the race */
        VkResult result = is_image(r) ? vkBindImageMemory(h->device, r->image, st->memories[m], r->offset)
                                      : vkBindBufferMemory(h->device, r->buffer, st->memories[m], r->offset);
        if (result != VK_SUCCESS)
            report_error(&st->reports[me->index],
                         "binding %s at %" PRIu64 " of fresh allocation %u (%" PRIu64 " bytes) returned %s", r->label,
                         r->offset, m, st->sizes[m], vk_result_name(result));
        else r->memory = st->memories[m];
    }
    return NULL;
}

/* Fresh allocations, never mapped, get their binds from three threads at once:
 * a buffer at 0, an optimal image and another buffer further in, at offsets
 * valid for each; in half of them the buffer at 0 is bound beforehand. Only the resource is externally synchronized
 * for a bind. (Not a map at the same time: vkMapMemory synchronizes the memory,
 * and then no other command may use it meanwhile, binds included; the
 * validation layer's thread checks say so.) The mapping comes afterwards. */
static void threads_race_to_bind_first_into_fresh_allocations(harness *h) {
    static earlier before;
    earlier_allocate(h, &before);
    static race_state st;
    memset(&st, 0, sizeof st);
    st.h = h;
    /* Allocated before anything is asked of the device, as a VMA block is: the
     * layer cannot know yet what will be bound. A host-visible type if any. */
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t count = harness_memory_types(h, ~0u, 0, types);
    REQUIRE(count > 0, "a memory type");
    st.type = types[0];
    for (uint32_t i = count; i-- > 0;)
        if (harness_type_is(h, types[i], VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) st.type = types[i];
    for (uint32_t m = 0; m < FRESH; m++) {
        st.sizes[m] = 200000 + 4 * m + 12; /* room for all three; not a power of two */
        VK_REQUIRE(harness_allocate_simple(h, st.sizes[m], st.type, &st.memories[m]));
    }
    for (uint32_t m = 0; m < FRESH; m++) {
        resource *r = st.items[m];
        uint32_t seed = 50000 + 10 * m;
        resource_make(h, &r[0], KIND_BUFFER, "racing buffer at 0", (VkExtent3D){1000 + 4 * m, 1, 1}, 1, 0, seed);
        REQUIRE(resource_make(h, &r[1], KIND_COLOR, "racing image", (VkExtent3D){16, 8 + m % 5, 1}, 1, 0, seed + 1),
                "colour images");
        resource_make(h, &r[2], KIND_BUFFER, "racing buffer after the image", (VkExtent3D){500 + 4 * m, 1, 1}, 1, 0,
                      seed + 2);
        if (!(r[0].requirements.memoryTypeBits & r[1].requirements.memoryTypeBits & (1u << st.type)))
            harness_skip("type %u takes no buffers and images", st.type);
        r[1].offset = next_offset(h, r[0].requirements.size, true, true, &r[1]);
        r[2].offset = next_offset(h, r[1].offset + r[1].requirements.size, true, false, &r[2]);
        REQUIRE(r[2].offset + r[2].requirements.size <= st.sizes[m], "test bug: the three fit %" PRIu64 " bytes",
                st.sizes[m]);
    }
    /* In every second allocation the buffer at 0 is bound before the race, as
     * an engine's first resource often is: the others then bind into a slice that
     * can no longer move, whatever the threads' order. */
    for (uint32_t m = 1; m < FRESH; m += 2) resource_bind(h, &st.items[m][0], st.memories[m], st.type, 0);
    REQUIRE(pthread_barrier_init(&st.start, NULL, RACERS) == 0, "a barrier");
    pthread_t threads[RACERS];
    racer racers[RACERS];
    for (uint32_t i = 0; i < RACERS; i++) {
        racers[i] = (racer){&st, i};
        REQUIRE(pthread_create(&threads[i], NULL, racer_main, &racers[i]) == 0, "starting a thread");
    }
    for (uint32_t i = 0; i < RACERS; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&st.start);
    for (uint32_t i = 0; i < RACERS; i++)
        CHECK(st.reports[i].errors == 0, "racer %u: %" PRIu64 " errors, first: %s", i, st.reports[i].errors,
              st.reports[i].first);
    static resource *list[FRESH * RACERS];
    uint32_t used = 0;
    for (uint32_t m = 0; m < FRESH; m++) {
        uint8_t *host = map_if_host_visible(h, st.memories[m], st.type);
        for (uint32_t k = 0; k < RACERS; k++) {
            st.items[m][k].host = host;
            list[used++] = &st.items[m][k];
        }
    }
    check_resources(h, list, used, "resources bound by racing threads");
    for (uint32_t i = 0; i < used; i++) resource_destroy(h, list[i]);
    for (uint32_t m = 0; m < FRESH; m++) vkFreeMemory(h->device, st.memories[m], NULL);
    earlier_free(h, &before);
}

/* ---------------------------------------------------------------- workers across devices */

enum { WORKERS = 4, DEVICE_ROUNDS = 4, HANDOFFS = 64 };

#ifndef ENGINE_WORKER_ITERATIONS
#define ENGINE_WORKER_ITERATIONS 600
#endif

/* One allocation handed from the worker that made it to the next one, which
 * checks and frees it: engines free on a different thread all the time
 * (deferred deletion, streaming threads). */
typedef struct handoff {
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint32_t seed;
} handoff;

typedef struct worker_pool {
    harness *h;
    VkDevice device; /* the device of this round */
    uint32_t type;
    bool coherent;
    bool stop;
    pthread_barrier_t round_start, round_end;
    pthread_mutex_t lock;
    handoff inbox[WORKERS][HANDOFFS]; /* inbox[w]: made by worker w - 1, freed by w */
    uint32_t inbox_count[WORKERS];
    thread_report reports[WORKERS];
} worker_pool;

typedef struct worker {
    worker_pool *pool;
    uint32_t index;
    uint32_t round;
} worker;

static bool worker_check_and_free(worker_pool *pool, thread_report *report, handoff *item) {
    void *p;
    VkResult result = vkMapMemory(pool->device, item->memory, 0, VK_WHOLE_SIZE, 0, &p);
    bool ok = result == VK_SUCCESS;
    if (!ok) report_error(report, "mapping a handed-over allocation: %s", vk_result_name(result));
    if (ok && !pool->coherent) {
        VkMappedMemoryRange whole = range_of(item->memory, 0, VK_WHOLE_SIZE);
        vkInvalidateMappedMemoryRanges(pool->device, 1, &whole);
    }
    if (ok && harness_check_pattern(p, item->size, item->seed, "handed-over allocation")) {
        report_error(report, "an allocation of %" PRIu64 " bytes lost its bytes on the way", item->size);
        ok = false;
    }
    vkFreeMemory(pool->device, item->memory, NULL); /* still mapped: the free unmaps */
    return ok;
}

static void *worker_main(void *argument) {
    worker *me = argument;
    worker_pool *pool = me->pool;
    thread_report *report = &pool->reports[me->index];
    uint32_t next = (me->index + 1) % WORKERS;
    harness_rng rng = {0xC0FFEEu + me->index};
    for (;;) {
        pthread_barrier_wait(&pool->round_start);
        if (pool->stop) return NULL;
        for (uint32_t n = 0; n < ENGINE_WORKER_ITERATIONS; n++) {
            /* Free what the previous worker handed over, if anything waits. */
            handoff item = {0};
            pthread_mutex_lock(&pool->lock);
            if (pool->inbox_count[me->index] && harness_rng_below(&rng, 2))
                item = pool->inbox[me->index][--pool->inbox_count[me->index]];
            pthread_mutex_unlock(&pool->lock);
            if (item.memory) {
                worker_check_and_free(pool, report, &item);
                continue;
            }
            item.size = 1 + harness_rng_below(&rng, 100000);
            item.seed = 60000 + 1000000 * me->index + 10000 * me->round + n;
            VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                         .allocationSize = item.size,
                                         .memoryTypeIndex = pool->type};
            VkResult result = vkAllocateMemory(pool->device, &info, NULL, &item.memory);
            if (result != VK_SUCCESS) {
                report_error(report, "allocating %" PRIu64 " bytes: %s", item.size, vk_result_name(result));
                continue;
            }
            void *p;
            result = vkMapMemory(pool->device, item.memory, 0, VK_WHOLE_SIZE, 0, &p);
            if (result != VK_SUCCESS) {
                report_error(report, "mapping %" PRIu64 " bytes: %s", item.size, vk_result_name(result));
                vkFreeMemory(pool->device, item.memory, NULL);
                continue;
            }
            harness_fill_pattern(p, item.size, item.seed);
            VkMappedMemoryRange whole = range_of(item.memory, 0, VK_WHOLE_SIZE);
            if (!pool->coherent) vkFlushMappedMemoryRanges(pool->device, 1, &whole);
            vkUnmapMemory(pool->device, item.memory);
            /* Hand it to the next worker; when its inbox is full, check and free it here. */
            pthread_mutex_lock(&pool->lock);
            bool handed = pool->inbox_count[next] < HANDOFFS;
            if (handed) pool->inbox[next][pool->inbox_count[next]++] = item;
            pthread_mutex_unlock(&pool->lock);
            if (!handed) worker_check_and_free(pool, report, &item);
        }
        pthread_barrier_wait(&pool->round_end);
        me->round++;
    }
}

/* A device with one queue of the harness's family and nothing else. */
static VkDevice plain_device(harness *h) {
    VkDevice device;
    VK_REQUIRE(test_vk_device_create(h->physical, h->queue_family, NULL, 0, NULL, &device));
    return device;
}

/* Worker threads (a job system's) outlive the devices they serve: the same
 * threads allocate, map and free on one device after another, each freeing
 * allocations another made. Leftovers are freed by the main thread before each
 * device goes. Runs without a stats file: it makes devices of its own. */
static void worker_threads_outlive_devices_and_free_each_others_allocations(harness *h) {
    static worker_pool pool;
    memset(&pool, 0, sizeof pool);
    pool.h = h;
    pool.type = harness_memory_type(h, ~0u, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    REQUIRE(pool.type != UINT32_MAX, "a host-visible memory type");
    pool.coherent = harness_type_is(h, pool.type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    REQUIRE(pthread_barrier_init(&pool.round_start, NULL, WORKERS + 1) == 0, "a barrier");
    REQUIRE(pthread_barrier_init(&pool.round_end, NULL, WORKERS + 1) == 0, "a barrier");
    pthread_mutex_init(&pool.lock, NULL);
    pthread_t threads[WORKERS];
    static worker workers[WORKERS];
    for (uint32_t i = 0; i < WORKERS; i++) {
        workers[i] = (worker){&pool, i, 0};
        REQUIRE(pthread_create(&threads[i], NULL, worker_main, &workers[i]) == 0, "starting a thread");
    }
    uint32_t leftovers_wrong = 0;
    for (uint32_t round = 0; round < DEVICE_ROUNDS; round++) {
        /* Alternately the harness's device and one of the case's own. */
        pool.device = round % 2 ? plain_device(h) : h->device;
        pthread_barrier_wait(&pool.round_start);
        pthread_barrier_wait(&pool.round_end);
        for (uint32_t w = 0; w < WORKERS; w++) {
            while (pool.inbox_count[w])
                leftovers_wrong +=
                    !worker_check_and_free(&pool, &pool.reports[w], &pool.inbox[w][--pool.inbox_count[w]]);
        }
        if (pool.device != h->device) vkDestroyDevice(pool.device, NULL);
    }
    pool.stop = true;
    pthread_barrier_wait(&pool.round_start);
    for (uint32_t i = 0; i < WORKERS; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&pool.round_start);
    pthread_barrier_destroy(&pool.round_end);
    pthread_mutex_destroy(&pool.lock);
    for (uint32_t i = 0; i < WORKERS; i++)
        CHECK(pool.reports[i].errors == 0, "worker %u: %" PRIu64 " errors, first: %s", i, pool.reports[i].errors,
              pool.reports[i].first);
    CHECK(leftovers_wrong == 0, "%u leftover allocations lost bytes", leftovers_wrong);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
#define CASE(name) \
    { #name, name }
    static const harness_case layout_cases[] = {
        CASE(vma_slabs_take_every_resource_at_its_own_alignment),
        CASE(odd_sized_allocations_hold_resources_at_aligned_offsets),
        CASE(tiny_allocations_keep_their_own_bytes),
        CASE(allocations_smaller_than_the_alignment_hold_a_resource_at_zero),
        CASE(every_memory_type_a_resource_allows_takes_it),
        CASE(noncoherent_sub_ranges_flush_and_invalidate_on_atoms),
        CASE(create_all_query_all_allocate_all_map_then_bind_all),
        CASE(mapped_before_any_image_exists_then_images_bound),
        CASE(one_call_binds_and_flushes_a_thousand_mixed_memories),
    };
    static const harness_case freed_cases[] = {
        CASE(memory_freed_before_its_resources_are_destroyed),
    };
    static const harness_case aliasing_cases[] = {
        CASE(optimal_image_and_buffer_alias_the_same_bytes),
        CASE(buffers_alias_the_same_range),
    };
    static const harness_case thread_cases[] = {
        CASE(threads_bind_into_shared_allocations_while_others_allocate),
        CASE(threads_race_to_bind_first_into_fresh_allocations),
    };
    static const harness_case worker_cases[] = {
        CASE(worker_threads_outlive_devices_and_free_each_others_allocations),
    };
#undef CASE
    const char *group = argc > 1 ? argv[1] : "";
    harness_device_request request = {0};
    /* harness_main reads the group name where a program name goes, then the case names. */
#define RUN(cases) harness_main(argc - 1, argv + 1, &request, cases, sizeof cases / sizeof cases[0])
    if (strcmp(group, "layout") == 0) return RUN(layout_cases);
    if (strcmp(group, "aliasing") == 0) return RUN(aliasing_cases);
    if (strcmp(group, "threads") == 0) return RUN(thread_cases);
    if (strcmp(group, "workers") == 0) return RUN(worker_cases);
    if (strcmp(group, "freed") == 0) return RUN(freed_cases);
#undef RUN
    fprintf(stderr, "usage: %s layout|aliasing|threads|workers|freed [case...]\n", argv[0]);
    return 2;
}
