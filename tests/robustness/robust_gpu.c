/* SPDX-License-Identifier: Apache-2.0 */
#include "robust_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the device ----------------------------------------------------------------------- */

static bool make_commands(robust_gpu *c) {
    vkGetDeviceQueue(c->device, c->vk.queue_family, 0, &c->queue);
    VkCommandPoolCreateInfo pool = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                    .queueFamilyIndex = c->vk.queue_family};
    VkCommandBufferAllocateInfo allocate = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                            .commandBufferCount = 1};
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if (vkCreateCommandPool(c->device, &pool, NULL, &c->pool) != VK_SUCCESS) return false;
    allocate.commandPool = c->pool;
    return vkAllocateCommandBuffers(c->device, &allocate, &c->commands) == VK_SUCCESS &&
           vkCreateFence(c->device, &fence, NULL, &c->fence) == VK_SUCCESS;
}

static bool make_readback(robust_gpu *c, VkDeviceSize size) {
    c->readback_size = size;
    if (robust_create_buffer(c->device, size, &c->readback) != VK_SUCCESS) return false;
    VkMemoryRequirements needs;
    vkGetBufferMemoryRequirements(c->device, c->readback, &needs);
    void *data = NULL;
    if (robust_allocate(c->device, needs.size, c->host_type, &c->readback_memory) != VK_SUCCESS ||
        vkBindBufferMemory(c->device, c->readback, c->readback_memory, 0) != VK_SUCCESS ||
        vkMapMemory(c->device, c->readback_memory, 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS)
        return false;
    c->readback_bytes = data;
    return true;
}

bool robust_gpu_set_up(robust_gpu *c, VkDeviceSize readback_size) {
    if (!robust_instance_create(&c->vk) || !robust_device_create(&c->vk, &c->dev)) return false;
    c->device = c->dev.handle;
    const char *chain = getenv("SUBALLOC_TEST_CHAIN");
    c->layer = chain == NULL || strcmp(chain, "strict_only") != 0;
    c->strict = robust_has_strict(&c->dev);
    c->host_type =
        robust_find_memory_type(&c->vk, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT);
    c->noncoherent_type =
        robust_find_memory_type(&c->vk, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                VK_MEMORY_PROPERTY_HOST_COHERENT_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT |
                                    VK_MEMORY_PROPERTY_PROTECTED_BIT);
    c->atom = c->vk.properties.limits.nonCoherentAtomSize;
    if (c->host_type == UINT32_MAX) {
        fprintf(stderr, "no host-visible coherent memory type\n");
        return false;
    }
    return make_commands(c) && make_readback(c, readback_size);
}

void robust_gpu_tear_down(robust_gpu *c) {
    if (c->device != VK_NULL_HANDLE) {
        vkDeviceWaitIdle(c->device);
        vkDestroyFence(c->device, c->fence, NULL);
        vkDestroyCommandPool(c->device, c->pool, NULL);
        vkDestroyBuffer(c->device, c->readback, NULL);
        vkFreeMemory(c->device, c->readback_memory, NULL);
    }
    robust_device_destroy(&c->dev);
    robust_instance_destroy(&c->vk);
}

/* ---- the GPU ---------------------------------------------------------------------------- */

bool robust_gpu_begin(robust_gpu *c) {
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    return vkResetCommandBuffer(c->commands, 0) == VK_SUCCESS &&
           vkBeginCommandBuffer(c->commands, &begin) == VK_SUCCESS;
}

bool robust_gpu_submit(robust_gpu *c, const char *what) {
    VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(c->commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0,
                         NULL, 0, NULL);
    VkResult result = vkEndCommandBuffer(c->commands);
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &c->commands};
    if (result == VK_SUCCESS) result = vkQueueSubmit(c->queue, 1, &submit, c->fence);
    if (result == VK_SUCCESS) result = vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, UINT64_MAX);
    if (result == VK_SUCCESS) result = vkResetFences(c->device, 1, &c->fence);
    EXPECT(result == VK_SUCCESS, "%s: the GPU work returned %s", what, robust_result_name(result));
    return result == VK_SUCCESS;
}

VkImageMemoryBarrier robust_colour_barrier(VkImage image, VkImageLayout from, VkImageLayout to, VkAccessFlags src,
                                           VkAccessFlags dst) {
    return (VkImageMemoryBarrier){.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                                  .srcAccessMask = src,
                                  .dstAccessMask = dst,
                                  .oldLayout = from,
                                  .newLayout = to,
                                  .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                  .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                  .image = image,
                                  .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
}

/* ---- memory and images ------------------------------------------------------------------------------- */

VkDeviceMemory robust_gpu_allocate(robust_gpu *c, VkDeviceSize size, uint32_t type) {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result = robust_allocate(c->device, size, type, &memory);
    EXPECT(result == VK_SUCCESS, "vkAllocateMemory(%llu, type %u) returned %s", (unsigned long long)size, type,
           robust_result_name(result));
    return memory;
}

VkImageCreateInfo robust_transfer_image_info(uint32_t side, VkImageTiling tiling) {
    VkImageCreateInfo info =
        robust_image_info(side, tiling, VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT);
    if (tiling == VK_IMAGE_TILING_LINEAR) info.initialLayout = VK_IMAGE_LAYOUT_PREINITIALIZED;
    return info;
}

/* A host-visible buffer of bytes, bound and mapped; false (nothing left) on failure. */
static bool make_staging(robust_gpu *c, VkDeviceSize bytes, VkBuffer *buffer, VkDeviceMemory *memory, void **data) {
    *buffer = VK_NULL_HANDLE;
    *memory = VK_NULL_HANDLE;
    VkResult result = robust_create_buffer(c->device, bytes, buffer);
    VkMemoryRequirements needs;
    if (result == VK_SUCCESS) {
        vkGetBufferMemoryRequirements(c->device, *buffer, &needs);
        result = robust_allocate(c->device, needs.size, c->host_type, memory);
    }
    if (result == VK_SUCCESS) result = vkBindBufferMemory(c->device, *buffer, *memory, 0);
    if (result == VK_SUCCESS) result = vkMapMemory(c->device, *memory, 0, VK_WHOLE_SIZE, 0, data);
    EXPECT(result == VK_SUCCESS, "a staging buffer of %llu bytes: %s", (unsigned long long)bytes,
           robust_result_name(result));
    if (result == VK_SUCCESS) return true;
    vkDestroyBuffer(c->device, *buffer, NULL);
    vkFreeMemory(c->device, *memory, NULL);
    return false;
}

bool robust_image_round_trip(robust_gpu *c, VkImage image, uint32_t side, VkImageLayout from, uint64_t seed,
                             const char *what) {
    VkDeviceSize bytes = (VkDeviceSize)side * side * 4;
    VkBuffer staging;
    VkDeviceMemory memory;
    void *data;
    if (bytes > c->readback_size || !make_staging(c, bytes, &staging, &memory, &data)) return false;
    robust_fill(data, (size_t)bytes, seed);
    VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {side, side, 1}};
    VkImageMemoryBarrier to_dst =
        robust_colour_barrier(image, from, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT);
    VkImageMemoryBarrier to_src =
        robust_colour_barrier(image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                              VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    bool ok = robust_gpu_begin(c);
    if (ok) {
        vkCmdPipelineBarrier(c->commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL,
                             0, NULL, 1, &to_dst);
        vkCmdCopyBufferToImage(c->commands, staging, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
        vkCmdPipelineBarrier(c->commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0,
                             NULL, 1, &to_src);
        vkCmdCopyImageToBuffer(c->commands, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, c->readback, 1, &region);
        ok = robust_gpu_submit(c, what);
    }
    if (ok) {
        size_t wrong = robust_count_wrong(c->readback_bytes, (size_t)bytes, seed);
        EXPECT(wrong == 0, "%s: %zu of %llu texel bytes came back changed from the image", what, wrong,
               (unsigned long long)bytes);
        ok = wrong == 0;
    }
    vkUnmapMemory(c->device, memory);
    vkDestroyBuffer(c->device, staging, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return ok;
}

/* ---- valid calls and refused ones ---------------------------------------------------------- */

robust_watch robust_watch_now(const robust_gpu *c) {
    robust_watch w = {.messages = robust_layer_message_count()};
    if (c->strict)
        for (int k = 0; k < STRICT_DEVICE_VIOLATION_KIND_COUNT; k++)
            w.violations[k] = c->dev.strict.violation_count(c->device, (StrictDeviceViolation)k);
    return w;
}

uint64_t robust_violations_since(const robust_gpu *c, const robust_watch *before, int kind) {
    if (!c->strict) return 0;
    uint64_t total = 0;
    for (int k = 0; k < STRICT_DEVICE_VIOLATION_KIND_COUNT; k++)
        if (kind < 0 || k == kind)
            total += c->dev.strict.violation_count(c->device, (StrictDeviceViolation)k) - before->violations[k];
    return total;
}

void robust_expect_clean(const robust_gpu *c, const robust_watch *before, const char *what) {
    uint64_t messages = robust_layer_message_count() - before->messages;
    char last[1024];
    robust_last_layer_message(last, sizeof last);
    EXPECT(messages == 0, "%s: the layer sent %llu messages about valid calls (the last: %s)", what,
           (unsigned long long)messages, last);
    uint64_t violations = robust_violations_since(c, before, -1);
    EXPECT(violations == 0, "%s: the strict device saw %llu violations in valid calls", what,
           (unsigned long long)violations);
}

void robust_expect_refused(const robust_gpu *c, const robust_watch *before, int kind, const char *what) {
    if (c->layer) {
        EXPECT(robust_layer_message_count() > before->messages, "%s: the layer sent no message", what);
        uint64_t violations = robust_violations_since(c, before, -1);
        EXPECT(violations == 0, "%s: %llu violations reached the driver below the layer", what,
               (unsigned long long)violations);
    } else if (c->strict && kind >= 0) {
        EXPECT(robust_violations_since(c, before, kind) > 0,
               "%s: the strict device alone saw no violation of rule %d: the test's misuse is not one", what, kind);
    }
}

/* ---- the cases ------------------------------------------------------------------------------ */

typedef struct case_run {
    const robust_case *the_case;
    VkDeviceSize readback_size;
} case_run;

static int run_in_child(const void *arg) {
    const case_run *run = arg;
    if (run->the_case->env != NULL) putenv((char *)run->the_case->env);
    robust_gpu c = {0};
    int status = 1;
    if (robust_gpu_set_up(&c, run->readback_size)) {
        status = run->the_case->run(&c);
        if (status == ROBUST_EXIT_SKIPPED && robust_failures() > 0) status = 1;
    }
    robust_gpu_tear_down(&c);
    return robust_failures() > 0 ? 1 : status;
}

int robust_run_cases(const char *title, const robust_case *cases, size_t count, VkDeviceSize readback_size, int argc,
                     char **argv) {
    /* Every violation that reaches the strict device is counted, so a case can name it. */
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    unsigned passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < count; i++) {
        if (!robust_case_selected(cases[i].rule, argc, argv)) continue;
        printf("case: %s\n", cases[i].rule);
        case_run run = {&cases[i], readback_size};
        robust_outcome result = robust_run_in_child(run_in_child, &run);
        if (result == ROBUST_PASSED) {
            printf("  ok\n");
            passed++;
        } else if (result == ROBUST_SKIPPED) {
            printf("  skipped: this chain or device cannot express it\n");
            skipped++;
        } else {
            printf("  FAIL\n");
            failed++;
        }
    }
    printf("%s: %u passed, %u failed, %u skipped\n", title, passed, failed, skipped);
    return failed == 0 && passed > 0 ? 0 : 1;
}
