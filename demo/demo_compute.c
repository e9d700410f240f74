/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo_compute: pipelines, descriptor sets and the one command buffer of the
 * demo's compute pass. Everything it creates it destroys before returning.
 */
#include "demo_compute.h"

#include "demo_pattern.h"
#include "transform_buffer.spv.h"
#include "transform_image.spv.h"

#include <stdlib.h>

#define BATCH 256 /* descriptor sets allocated and written per call */

typedef struct push_constants {
    uint32_t count;
    uint32_t salt;
} push_constants;

typedef struct kind_pipeline {
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
} kind_pipeline;

typedef struct compute_pass {
    kind_pipeline kinds[2]; /* indexed by demo_kind */
    VkDescriptorPool pool;
    VkCommandPool command_pool;
    VkCommandBuffer commands;
    VkFence done;
} compute_pass;

static VkDescriptorType descriptor_type(demo_kind kind) {
    return kind == DEMO_IMAGE ? VK_DESCRIPTOR_TYPE_STORAGE_IMAGE : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
}

static kind_pipeline create_pipeline(const demo_context *ctx, demo_kind kind, const uint32_t *code, size_t size) {
    kind_pipeline k;
    VkDescriptorSetLayoutBinding binding = {0, descriptor_type(kind), 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL};
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 1,
        .pBindings = &binding,
    };
    DEMO_CHECK(vkCreateDescriptorSetLayout(ctx->device, &set_info, NULL, &k.set_layout));
    VkPushConstantRange push = {VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push_constants)};
    VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &k.set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &push,
    };
    DEMO_CHECK(vkCreatePipelineLayout(ctx->device, &layout_info, NULL, &k.layout));
    VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = size,
        .pCode = code,
    };
    VkShaderModule module;
    DEMO_CHECK(vkCreateShaderModule(ctx->device, &module_info, NULL, &module));
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = module,
                  .pName = "main"},
        .layout = k.layout,
    };
    DEMO_CHECK(vkCreateComputePipelines(ctx->device, VK_NULL_HANDLE, 1, &info, NULL, &k.pipeline));
    vkDestroyShaderModule(ctx->device, module, NULL);
    return k;
}

static void create_pass(compute_pass *pass, const demo_context *ctx, const demo_scene *scene) {
    pass->kinds[DEMO_BUFFER] = create_pipeline(ctx, DEMO_BUFFER, transform_buffer_spv, sizeof transform_buffer_spv);
    pass->kinds[DEMO_IMAGE] = create_pipeline(ctx, DEMO_IMAGE, transform_image_spv, sizeof transform_image_spv);

    VkDescriptorPoolSize sizes[2] = {
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, scene->buffer_count ? scene->buffer_count : 1},
        {VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, scene->image_count ? scene->image_count : 1},
    };
    VkDescriptorPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = scene->object_count,
        .poolSizeCount = 2,
        .pPoolSizes = sizes,
    };
    DEMO_CHECK(vkCreateDescriptorPool(ctx->device, &pool_info, NULL, &pass->pool));

    VkCommandPoolCreateInfo command_pool_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .queueFamilyIndex = ctx->queue_family,
    };
    DEMO_CHECK(vkCreateCommandPool(ctx->device, &command_pool_info, NULL, &pass->command_pool));
    VkCommandBufferAllocateInfo command_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = pass->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    DEMO_CHECK(vkAllocateCommandBuffers(ctx->device, &command_info, &pass->commands));
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    DEMO_CHECK(vkCreateFence(ctx->device, &fence_info, NULL, &pass->done));
}

static void destroy_pass(compute_pass *pass, const demo_context *ctx) {
    vkDestroyFence(ctx->device, pass->done, NULL);
    vkDestroyCommandPool(ctx->device, pass->command_pool, NULL);
    vkDestroyDescriptorPool(ctx->device, pass->pool, NULL);
    for (int k = 0; k < 2; k++) {
        vkDestroyPipeline(ctx->device, pass->kinds[k].pipeline, NULL);
        vkDestroyPipelineLayout(ctx->device, pass->kinds[k].layout, NULL);
        vkDestroyDescriptorSetLayout(ctx->device, pass->kinds[k].set_layout, NULL);
    }
}

/* Allocates and writes the descriptor sets of objects [first, first + n). */
static void write_sets(const compute_pass *pass, const demo_context *ctx, demo_object *objects, uint32_t n) {
    VkDescriptorSetLayout layouts[BATCH];
    VkDescriptorSet sets[BATCH];
    VkWriteDescriptorSet writes[BATCH];
    VkDescriptorBufferInfo buffers[BATCH];
    VkDescriptorImageInfo images[BATCH];
    for (uint32_t i = 0; i < n; i++) layouts[i] = pass->kinds[objects[i].kind].set_layout;
    VkDescriptorSetAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = pass->pool,
        .descriptorSetCount = n,
        .pSetLayouts = layouts,
    };
    DEMO_CHECK(vkAllocateDescriptorSets(ctx->device, &info, sets));
    for (uint32_t i = 0; i < n; i++) {
        demo_object *o = &objects[i];
        o->set = sets[i];
        buffers[i] = (VkDescriptorBufferInfo){o->buffer, 0, VK_WHOLE_SIZE};
        images[i] = (VkDescriptorImageInfo){VK_NULL_HANDLE, o->view, VK_IMAGE_LAYOUT_GENERAL};
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = o->set,
            .descriptorCount = 1,
            .descriptorType = descriptor_type(o->kind),
            .pImageInfo = o->kind == DEMO_IMAGE ? &images[i] : NULL,
            .pBufferInfo = o->kind == DEMO_BUFFER ? &buffers[i] : NULL,
        };
    }
    vkUpdateDescriptorSets(ctx->device, n, writes, 0, NULL);
}

/* Moves every image of the scene from one layout to another. */
static void transition_images(VkCommandBuffer cb, const demo_scene *scene, VkImageLayout from, VkImageLayout to,
                              VkPipelineStageFlags src_stage, VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                              VkAccessFlags dst_access) {
    if (scene->image_count == 0) return;
    VkImageMemoryBarrier *barriers = calloc(scene->image_count, sizeof *barriers);
    if (!barriers) demo_fail_vk("calloc for image barriers", VK_ERROR_OUT_OF_HOST_MEMORY);
    uint32_t n = 0;
    for (uint32_t j = 0; j < scene->object_count; j++) {
        if (scene->objects[j].kind != DEMO_IMAGE) continue;
        barriers[n++] = (VkImageMemoryBarrier){
            .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
            .srcAccessMask = src_access,
            .dstAccessMask = dst_access,
            .oldLayout = from,
            .newLayout = to,
            .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .image = scene->objects[j].image,
            .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
        };
    }
    vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 0, NULL, 0, NULL, n, barriers);
    free(barriers);
}

/* Staging buffer <-> image copies of every image; returns how many. */
static uint32_t copy_images(VkCommandBuffer cb, const demo_scene *scene, bool to_image) {
    uint32_t copies = 0;
    for (uint32_t j = 0; j < scene->object_count; j++) {
        const demo_object *o = &scene->objects[j];
        if (o->kind != DEMO_IMAGE) continue;
        VkBufferImageCopy region = {
            .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
            .imageExtent = {o->width, o->height, 1},
        };
        if (to_image) vkCmdCopyBufferToImage(cb, o->buffer, o->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
        else vkCmdCopyImageToBuffer(cb, o->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, o->buffer, 1, &region);
        copies++;
    }
    return copies;
}

static uint32_t record_dispatches(VkCommandBuffer cb, const compute_pass *pass, const demo_scene *scene) {
    for (uint32_t j = 0; j < scene->object_count; j++) {
        const demo_object *o = &scene->objects[j];
        const kind_pipeline *k = &pass->kinds[o->kind];
        push_constants push = {o->width * o->height, demo_salt(o->id)};
        vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline);
        vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0, 1, &o->set, 0, NULL);
        vkCmdPushConstants(cb, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
        if (o->kind == DEMO_IMAGE) vkCmdDispatch(cb, (o->width + 7) / 8, (o->height + 7) / 8, 1);
        else vkCmdDispatch(cb, (o->width + 63) / 64, 1, 1);
    }
    return scene->object_count;
}

static demo_compute_counts record(const compute_pass *pass, const demo_scene *scene) {
    VkCommandBuffer cb = pass->commands;
    demo_compute_counts counts = {0, 0};
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    DEMO_CHECK(vkBeginCommandBuffer(cb, &begin));
    /* Host writes made before vkQueueSubmit are visible to the device without a barrier. */
    transition_images(cb, scene, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                      VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_WRITE_BIT);
    counts.copies += copy_images(cb, scene, true);
    transition_images(cb, scene, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_GENERAL,
                      VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    counts.dispatches = record_dispatches(cb, pass, scene);
    transition_images(cb, scene, VK_IMAGE_LAYOUT_GENERAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_READ_BIT);
    counts.copies += copy_images(cb, scene, false);
    VkMemoryBarrier to_host = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, NULL, 0, NULL);
    DEMO_CHECK(vkEndCommandBuffer(cb));
    return counts;
}

demo_compute_counts demo_compute_run(demo_scene *scene, const demo_context *ctx) {
    compute_pass pass;
    create_pass(&pass, ctx, scene);
    for (uint32_t first = 0; first < scene->object_count; first += BATCH) {
        uint32_t n = scene->object_count - first < BATCH ? scene->object_count - first : BATCH;
        write_sets(&pass, ctx, &scene->objects[first], n);
    }
    demo_compute_counts counts = record(&pass, scene);
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &pass.commands,
    };
    DEMO_CHECK(vkQueueSubmit(ctx->queue, 1, &submit, pass.done));
    DEMO_CHECK(vkWaitForFences(ctx->device, 1, &pass.done, VK_TRUE, UINT64_MAX));
    destroy_pass(&pass, ctx);
    return counts;
}
