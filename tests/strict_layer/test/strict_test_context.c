/* SPDX-License-Identifier: Apache-2.0 */
/* strict_test_context.c: instance, device and helpers for the strict layer's tests. */
#include "strict_test_context.h"

#include <string.h>

#define CHECK_VK(call)                                                                                            \
    do {                                                                                                          \
        VkResult check_vk_result_ = (call);                                                                       \
        ck_assert_msg(check_vk_result_ == VK_SUCCESS, "%s returned %s", #call, vk_result_name(check_vk_result_)); \
    } while (0)

static PFN_vkVoidFunction device_function(VkDevice device, const char *name) {
    PFN_vkVoidFunction function = vkGetDeviceProcAddr(device, name);
    ck_assert_msg(function != NULL, "%s not found: is VK_LAYER_TEST_strict_device loaded?", name);
    return function;
}

static void load_control_functions(strict_test_context *context) {
    VkDevice device = context->device;
    context->get_counters = (PFN_vkStrictDeviceGetCountersTEST)device_function(device, "vkStrictDeviceGetCountersTEST");
    context->inject_fault = (PFN_vkStrictDeviceInjectFaultTEST)device_function(device, "vkStrictDeviceInjectFaultTEST");
    context->set_allocation_size_limit = (PFN_vkStrictDeviceSetAllocationSizeLimitTEST)device_function(
        device, "vkStrictDeviceSetAllocationSizeLimitTEST");
    context->is_driver_memory =
        (PFN_vkStrictDeviceIsDriverMemoryTEST)device_function(device, "vkStrictDeviceIsDriverMemoryTEST");
    context->violation_count =
        (PFN_vkStrictDeviceGetViolationCountTEST)device_function(device, "vkStrictDeviceGetViolationCountTEST");
}

void strict_test_open(strict_test_context *context, const char *const *extensions, uint32_t extension_count) {
    strict_test_open_with_features(context, extensions, extension_count, NULL);
}

void strict_test_open_with_features(strict_test_context *context, const char *const *extensions,
                                    uint32_t extension_count, const void *features) {
    memset(context, 0, sizeof(*context));
    test_vk_instance_info instance_info = {.application = "test_strict_device", .api_version = VK_API_VERSION_1_3};
    test_vk_instance instance;
    CHECK_VK(test_vk_instance_create(&instance_info, &instance));
    context->instance = instance.handle;
    ck_assert_msg(test_vk_pick_physical_device(context->instance, VK_QUEUE_TRANSFER_BIT, &context->physical_device,
                                               &context->queue_family),
                  "no Vulkan device with a queue family that can transfer");
    CHECK_VK(test_vk_device_create(context->physical_device, context->queue_family, extensions, extension_count,
                                   features, &context->device));
    vkGetDeviceQueue(context->device, context->queue_family, 0, &context->queue);

    VkCommandPoolCreateInfo pool_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                         .queueFamilyIndex = context->queue_family};
    CHECK_VK(vkCreateCommandPool(context->device, &pool_info, NULL, &context->command_pool));
    load_control_functions(context);
}

void strict_test_close(strict_test_context *context) {
    vkDestroyCommandPool(context->device, context->command_pool, NULL);
    vkDestroyDevice(context->device, NULL);
    vkDestroyInstance(context->instance, NULL);
    memset(context, 0, sizeof(*context));
}

StrictDeviceCounters strict_test_counters(const strict_test_context *context) {
    StrictDeviceCounters counters;
    memset(&counters, 0xff, sizeof(counters));
    context->get_counters(context->device, &counters);
    return counters;
}

uint64_t strict_test_violations(const strict_test_context *context) { return strict_test_counters(context).violations; }

VkDeviceMemory strict_test_allocate(const strict_test_context *context, VkDeviceSize size, uint32_t memory_type) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size, .memoryTypeIndex = memory_type};
    VkDeviceMemory memory = VK_NULL_HANDLE;
    CHECK_VK(vkAllocateMemory(context->device, &info, NULL, &memory));
    return memory;
}

VkBuffer strict_test_buffer(const strict_test_context *context, VkDeviceSize size) {
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = size,
                               .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                                        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    VkBuffer buffer = VK_NULL_HANDLE;
    CHECK_VK(vkCreateBuffer(context->device, &info, NULL, &buffer));
    return buffer;
}

VkImage strict_test_image(const strict_test_context *context, VkImageTiling tiling, uint32_t side,
                          VkImageUsageFlags usage) {
    VkImageCreateInfo info = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                              .imageType = VK_IMAGE_TYPE_2D,
                              .format = VK_FORMAT_R8G8B8A8_UNORM,
                              .extent = {side, side, 1},
                              .mipLevels = 1,
                              .arrayLayers = 1,
                              .samples = VK_SAMPLE_COUNT_1_BIT,
                              .tiling = tiling,
                              .usage = usage,
                              .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
    VkImage image = VK_NULL_HANDLE;
    CHECK_VK(vkCreateImage(context->device, &info, NULL, &image));
    return image;
}

VkMemoryRequirements strict_test_buffer_requirements(const strict_test_context *context, VkBuffer buffer) {
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(context->device, buffer, &requirements);
    return requirements;
}

VkMemoryRequirements strict_test_image_requirements(const strict_test_context *context, VkImage image) {
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(context->device, image, &requirements);
    return requirements;
}

typedef void (*RecordCommands)(VkCommandBuffer commands, const void *data);

static void submit_and_wait(const strict_test_context *context, RecordCommands record, const void *data) {
    VkCommandBufferAllocateInfo allocate_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                                 .commandPool = context->command_pool,
                                                 .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                                 .commandBufferCount = 1};
    VkCommandBuffer commands;
    CHECK_VK(vkAllocateCommandBuffers(context->device, &allocate_info, &commands));
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    CHECK_VK(vkBeginCommandBuffer(commands, &begin));
    record(commands, data);
    /* Make the transfer's writes visible to host reads after the wait. */
    VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL,
                         0, NULL);
    CHECK_VK(vkEndCommandBuffer(commands));
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &commands};
    CHECK_VK(vkQueueSubmit(context->queue, 1, &submit, VK_NULL_HANDLE));
    CHECK_VK(vkQueueWaitIdle(context->queue));
    vkFreeCommandBuffers(context->device, context->command_pool, 1, &commands);
}

typedef struct copy_request {
    VkBuffer source, destination;
    VkDeviceSize size;
} copy_request;

static void record_copy(VkCommandBuffer commands, const void *data) {
    const copy_request *copy = data;
    VkBufferCopy region = {0, 0, copy->size};
    vkCmdCopyBuffer(commands, copy->source, copy->destination, 1, &region);
}

void strict_test_copy_buffer(const strict_test_context *context, VkBuffer source, VkBuffer destination,
                             VkDeviceSize size) {
    copy_request copy = {source, destination, size};
    submit_and_wait(context, record_copy, &copy);
}

typedef struct fill_request {
    VkBuffer buffer;
    VkDeviceSize size;
    uint32_t value;
} fill_request;

static void record_fill(VkCommandBuffer commands, const void *data) {
    const fill_request *fill = data;
    vkCmdFillBuffer(commands, fill->buffer, 0, fill->size, fill->value);
}

void strict_test_fill_buffer(const strict_test_context *context, VkBuffer buffer, VkDeviceSize size, uint32_t value) {
    fill_request fill = {buffer, size, value};
    submit_and_wait(context, record_fill, &fill);
}
