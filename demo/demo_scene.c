/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo_scene: resource creation, uploads, checks and teardown, done the naive
 * way on purpose (one vkAllocateMemory per resource, a map per upload) since
 * that is the kind of app the layer exists for.
 */
#include "demo_scene.h"

#include "demo_pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_IMAGE_FORMAT VK_FORMAT_R32_UINT

static uint32_t mix32(uint32_t x) { return demo_pattern(x, 0xA5A5A5A5u); }

/* Object j is an image when the running share of images steps up at j: spreads
 * exactly image_count images evenly over the objects. */
static bool object_is_image(uint64_t j, uint64_t image_count, uint64_t object_count) {
    return (j + 1) * image_count / object_count != j * image_count / object_count;
}

static uint32_t choose_memory_type(const demo_context *ctx, uint32_t type_bits, VkMemoryPropertyFlags want,
                                   VkMemoryPropertyFlags fallback) {
    uint32_t type = demo_memory_type(ctx, type_bits, want, fallback);
    if (type == UINT32_MAX) {
        fprintf(stderr, "suballoc-demo: no memory type with flags 0x%x for a resource (type bits 0x%x)\n",
                (unsigned)fallback, (unsigned)type_bits);
        exit(1);
    }
    return type;
}

static VkDeviceMemory allocate(demo_scene *scene, const demo_context *ctx, VkMemoryRequirements req, uint32_t type) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = type,
    };
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result = vkAllocateMemory(ctx->device, &info, NULL, &memory);
    if (result != VK_SUCCESS) {
        fprintf(stderr,
                "suballoc-demo: vkAllocateMemory #%u (%llu bytes) failed: %s; this device allows %u live "
                "allocations (run the demo through suballoc-run to lift that)\n",
                scene->allocation_count + 1, (unsigned long long)req.size, vk_result_name(result),
                ctx->properties.limits.maxMemoryAllocationCount);
        exit(1);
    }
    scene->allocation_count++;
    scene->bytes += req.size;
    return memory;
}

static void create_host_buffer(demo_scene *scene, const demo_context *ctx, demo_object *o, VkBufferUsageFlags usage) {
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = (VkDeviceSize)o->width * o->height * sizeof(uint32_t),
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    DEMO_CHECK(vkCreateBuffer(ctx->device, &info, NULL, &o->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, o->buffer, &req);
    VkMemoryPropertyFlags visible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    uint32_t type =
        choose_memory_type(ctx, req.memoryTypeBits, visible | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, visible);
    if (!(ctx->memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
        scene->host_coherent = false;
    o->buffer_memory = allocate(scene, ctx, req, type);
    DEMO_CHECK(vkBindBufferMemory(ctx->device, o->buffer, o->buffer_memory, 0));
}

static void create_image(demo_scene *scene, const demo_context *ctx, demo_object *o) {
    VkImageCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = DEMO_IMAGE_FORMAT,
        .extent = {o->width, o->height, 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    DEMO_CHECK(vkCreateImage(ctx->device, &info, NULL, &o->image));
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(ctx->device, o->image, &req);
    uint32_t type = choose_memory_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    o->image_memory = allocate(scene, ctx, req, type);
    DEMO_CHECK(vkBindImageMemory(ctx->device, o->image, o->image_memory, 0));

    VkImageViewCreateInfo view = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
        .image = o->image,
        .viewType = VK_IMAGE_VIEW_TYPE_2D,
        .format = DEMO_IMAGE_FORMAT,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
    };
    DEMO_CHECK(vkCreateImageView(ctx->device, &view, NULL, &o->view));
    create_host_buffer(scene, ctx, o, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT);
}

static bool image_format_supported(const demo_context *ctx) {
    VkFormatProperties props;
    vkGetPhysicalDeviceFormatProperties(ctx->physical, DEMO_IMAGE_FORMAT, &props);
    VkFormatFeatureFlags need =
        VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT | VK_FORMAT_FEATURE_TRANSFER_SRC_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT;
    return (props.optimalTilingFeatures & need) == need;
}

bool demo_scene_create(demo_scene *scene, const demo_context *ctx, uint32_t allocations) {
    memset(scene, 0, sizeof *scene);
    scene->host_coherent = true;
    scene->image_count = allocations / 20;
    if (scene->image_count && !image_format_supported(ctx)) {
        fprintf(stderr, "suballoc-demo: %s cannot use r32ui storage images; the demo needs them\n",
                ctx->properties.deviceName);
        return false;
    }
    scene->buffer_count = allocations - 2 * scene->image_count;
    scene->object_count = scene->buffer_count + scene->image_count;
    scene->objects = calloc(scene->object_count, sizeof *scene->objects);
    if (!scene->objects) {
        fprintf(stderr, "suballoc-demo: out of host memory for %u objects\n", scene->object_count);
        return false;
    }
    for (uint32_t j = 0; j < scene->object_count; j++) {
        demo_object *o = &scene->objects[j];
        uint32_t h = mix32(j);
        o->id = j;
        if (object_is_image(j, scene->image_count, scene->object_count)) {
            o->kind = DEMO_IMAGE;
            o->width = 16u << (h % 3); /* 16..64 texels */
            o->height = 16u << ((h >> 8) % 3);
            create_image(scene, ctx, o);
        } else {
            o->kind = DEMO_BUFFER;
            o->width = 64u << (h % 6); /* 256 B .. 8 KiB */
            o->height = 1;
            create_host_buffer(scene, ctx, o, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
        }
        scene->value_count += (uint64_t)o->width * o->height;
    }
    return true;
}

static uint32_t *map_values(const demo_context *ctx, VkDeviceMemory memory) {
    void *data = NULL;
    DEMO_CHECK(vkMapMemory(ctx->device, memory, 0, VK_WHOLE_SIZE, 0, &data));
    return data;
}

static VkMappedMemoryRange whole(VkDeviceMemory memory) {
    return (VkMappedMemoryRange){
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = memory,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };
}

void demo_scene_upload(const demo_scene *scene, const demo_context *ctx) {
    for (uint32_t j = 0; j < scene->object_count; j++) {
        const demo_object *o = &scene->objects[j];
        uint32_t *values = map_values(ctx, o->buffer_memory);
        uint32_t count = o->width * o->height;
        for (uint32_t i = 0; i < count; i++) values[i] = demo_pattern(o->id, i);
        if (!scene->host_coherent) {
            VkMappedMemoryRange range = whole(o->buffer_memory);
            DEMO_CHECK(vkFlushMappedMemoryRanges(ctx->device, 1, &range));
        }
        vkUnmapMemory(ctx->device, o->buffer_memory);
    }
}

static uint64_t check_object(const demo_object *o, const uint32_t *values, uint64_t reported) {
    uint64_t wrong = 0;
    uint32_t count = o->width * o->height;
    uint32_t salt = demo_salt(o->id);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t expected = demo_transform(demo_pattern(o->id, i), i, salt);
        if (values[i] == expected) continue;
        if (reported + wrong < 5)
            fprintf(stderr, "suballoc-demo: mismatch in %s #%u (%ux%u), value %u: expected 0x%08x, got 0x%08x\n",
                    o->kind == DEMO_IMAGE ? "image" : "buffer", o->id, o->width, o->height, i, expected, values[i]);
        wrong++;
    }
    return wrong;
}

uint64_t demo_scene_verify(const demo_scene *scene, const demo_context *ctx) {
    uint64_t wrong = 0;
    for (uint32_t j = 0; j < scene->object_count; j++) {
        const demo_object *o = &scene->objects[j];
        uint32_t *values = map_values(ctx, o->buffer_memory);
        if (!scene->host_coherent) {
            VkMappedMemoryRange range = whole(o->buffer_memory);
            DEMO_CHECK(vkInvalidateMappedMemoryRanges(ctx->device, 1, &range));
        }
        wrong += check_object(o, values, wrong);
        vkUnmapMemory(ctx->device, o->buffer_memory);
    }
    return wrong;
}

void demo_scene_inject_mismatch(const demo_scene *scene, const demo_context *ctx) {
    const demo_object *o = &scene->objects[scene->object_count / 2];
    uint32_t *values = map_values(ctx, o->buffer_memory);
    values[0] ^= 1u;
    if (!scene->host_coherent) {
        VkMappedMemoryRange range = whole(o->buffer_memory);
        DEMO_CHECK(vkFlushMappedMemoryRanges(ctx->device, 1, &range));
    }
    vkUnmapMemory(ctx->device, o->buffer_memory);
}

static void destroy_object(const demo_context *ctx, demo_object *o) {
    vkDestroyImageView(ctx->device, o->view, NULL);
    vkDestroyImage(ctx->device, o->image, NULL);
    vkDestroyBuffer(ctx->device, o->buffer, NULL);
    vkFreeMemory(ctx->device, o->image_memory, NULL);
    vkFreeMemory(ctx->device, o->buffer_memory, NULL);
}

void demo_scene_destroy(demo_scene *scene, const demo_context *ctx) {
    uint32_t n = scene->object_count;
    uint32_t *order = malloc((size_t)n * sizeof *order);
    for (uint32_t j = 0; order && j < n; j++) order[j] = j;
    /* Shuffled, so frees hit the middle of blocks, as in an engine streaming assets. */
    uint32_t state = 0x2545F491u;
    for (uint32_t j = n; order && j > 1; j--) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        uint32_t k = state % j;
        uint32_t t = order[j - 1];
        order[j - 1] = order[k];
        order[k] = t;
    }
    for (uint32_t j = 0; j < n; j++) destroy_object(ctx, &scene->objects[order ? order[j] : j]);
    free(order);
    free(scene->objects);
    memset(scene, 0, sizeof *scene);
}
