/* SPDX-License-Identifier: Apache-2.0 */
/* Sparse binding, emulated on a driver that has none: what the device reports,
 * that whole binds really bind and every bind is recorded, that semaphores and
 * fence are honoured, and that each rule of a sparse bind is enforced. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "strict_test_context.h"
#include "strict_test_suites.h"

#define KiB 1024ull
#define BLOCK ((VkDeviceSize)STRICT_DEVICE_SPARSE_BLOCK_SIZE)

static strict_test_context context;
static PFN_vkStrictDeviceGetSparseBindsTEST get_sparse_binds;
static PFN_vkStrictDeviceGetBufferBindingTEST get_buffer_binding;

/* What a test made, destroyed by the fixture so leak checkers stay quiet. */
enum { TRACKED = 32 };
static VkDeviceMemory tracked_memories[TRACKED];
static VkBuffer tracked_buffers[TRACKED];
static VkImage tracked_images[TRACKED];
static unsigned memory_count, buffer_count, image_count;

static void open_sparse_device_with(const char *forbid_aliasing) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    if (forbid_aliasing) setenv("STRICT_DEVICE_FORBID_ALIASING", forbid_aliasing, 1);
    else unsetenv("STRICT_DEVICE_FORBID_ALIASING");
    unsetenv("STRICT_DEVICE_CHECK_LEAKS");
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    features.features.sparseBinding = VK_TRUE;
    features.features.sparseResidencyBuffer = VK_TRUE;
    features.features.sparseResidencyImage2D = VK_TRUE;
    strict_test_open_with_features(&context, NULL, 0, &features);
    get_sparse_binds =
        (PFN_vkStrictDeviceGetSparseBindsTEST)vkGetDeviceProcAddr(context.device, "vkStrictDeviceGetSparseBindsTEST");
    get_buffer_binding = (PFN_vkStrictDeviceGetBufferBindingTEST)vkGetDeviceProcAddr(
        context.device, "vkStrictDeviceGetBufferBindingTEST");
    ck_assert_ptr_nonnull(get_sparse_binds);
    ck_assert_ptr_nonnull(get_buffer_binding);
    unsetenv("STRICT_DEVICE_FORBID_ALIASING");
}

static void open_sparse_device(void) { open_sparse_device_with(NULL); }

static void close_sparse_device(void) {
    for (unsigned i = 0; i < buffer_count; i++) vkDestroyBuffer(context.device, tracked_buffers[i], NULL);
    for (unsigned i = 0; i < image_count; i++) vkDestroyImage(context.device, tracked_images[i], NULL);
    for (unsigned i = 0; i < memory_count; i++) vkFreeMemory(context.device, tracked_memories[i], NULL);
    memory_count = buffer_count = image_count = 0;
    strict_test_close(&context);
}

static VkDeviceMemory allocate(VkDeviceSize size, uint32_t type) {
    ck_assert_uint_lt(memory_count, TRACKED);
    return tracked_memories[memory_count++] = strict_test_allocate(&context, size, type);
}

static VkBuffer sparse_buffer(VkDeviceSize size, VkBufferCreateFlags flags) {
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .flags = flags,
                               .size = size,
                               .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    VkBuffer buffer;
    ck_assert_int_eq(vkCreateBuffer(context.device, &info, NULL, &buffer), VK_SUCCESS);
    ck_assert_uint_lt(buffer_count, TRACKED);
    return tracked_buffers[buffer_count++] = buffer;
}

static VkImageCreateInfo image_info(uint32_t side, uint32_t levels, VkImageCreateFlags flags) {
    return (VkImageCreateInfo){.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                               .flags = flags,
                               .imageType = VK_IMAGE_TYPE_2D,
                               .format = VK_FORMAT_R8G8B8A8_UNORM,
                               .extent = {side, side, 1},
                               .mipLevels = levels,
                               .arrayLayers = 1,
                               .samples = VK_SAMPLE_COUNT_1_BIT,
                               .tiling = VK_IMAGE_TILING_OPTIMAL,
                               .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                               .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
}

static VkImage sparse_image(uint32_t side, uint32_t levels, VkImageCreateFlags flags) {
    VkImageCreateInfo info = image_info(side, levels, flags);
    VkImage image;
    ck_assert_int_eq(vkCreateImage(context.device, &info, NULL, &image), VK_SUCCESS);
    ck_assert_uint_lt(image_count, TRACKED);
    return tracked_images[image_count++] = image;
}

#define RESIDENT_IMAGE (VK_IMAGE_CREATE_SPARSE_BINDING_BIT | VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT)

static VkSparseMemoryBind memory_bind(VkDeviceSize resource_offset, VkDeviceSize size, VkDeviceMemory memory,
                                      VkDeviceSize memory_offset) {
    return (VkSparseMemoryBind){resource_offset, size, memory, memory_offset, 0};
}

static VkResult bind_buffer_sparse(VkBuffer buffer, const VkSparseMemoryBind *binds, uint32_t count, VkFence fence) {
    VkSparseBufferMemoryBindInfo buffer_binds = {buffer, count, binds};
    VkBindSparseInfo info = {
        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO, .bufferBindCount = 1, .pBufferBinds = &buffer_binds};
    return vkQueueBindSparse(context.queue, 1, &info, fence);
}

static VkResult bind_image_opaque(VkImage image, VkSparseMemoryBind bind) {
    VkSparseImageOpaqueMemoryBindInfo opaque = {image, 1, &bind};
    VkBindSparseInfo info = {
        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO, .imageOpaqueBindCount = 1, .pImageOpaqueBinds = &opaque};
    return vkQueueBindSparse(context.queue, 1, &info, VK_NULL_HANDLE);
}

static VkResult bind_image_region(VkImage image, VkSparseImageMemoryBind bind) {
    VkSparseImageMemoryBindInfo region = {image, 1, &bind};
    VkBindSparseInfo info = {.sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO, .imageBindCount = 1, .pImageBinds = &region};
    return vkQueueBindSparse(context.queue, 1, &info, VK_NULL_HANDLE);
}

static VkSparseImageMemoryBind region_bind(uint32_t level, VkOffset3D offset, VkExtent3D extent, VkDeviceMemory memory,
                                           VkDeviceSize memory_offset) {
    return (VkSparseImageMemoryBind){{VK_IMAGE_ASPECT_COLOR_BIT, level, 0}, offset, extent, memory, memory_offset, 0};
}

static uint32_t recorded_binds(StrictDeviceSparseBind *binds, uint32_t capacity) {
    uint32_t count = capacity;
    get_sparse_binds(context.device, &count, binds);
    return count;
}

static void assert_only_violation(StrictDeviceViolation kind, uint64_t times) {
    ck_assert_uint_eq(context.violation_count(context.device, kind), times);
    ck_assert_uint_eq(strict_test_violations(&context), times);
}

static void wait_idle(void) { ck_assert_int_eq(vkQueueWaitIdle(context.queue), VK_SUCCESS); }

/* ---- what the device reports ---- */

START_TEST(sparse_binding_is_reported_in_features_queue_families_and_properties) {
    VkPhysicalDeviceFeatures features;
    vkGetPhysicalDeviceFeatures(context.physical_device, &features);
    VkPhysicalDeviceFeatures2 features2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    vkGetPhysicalDeviceFeatures2(context.physical_device, &features2);
    for (int form = 0; form < 2; form++) {
        const VkPhysicalDeviceFeatures *f = form ? &features2.features : &features;
        ck_assert(f->sparseBinding && f->sparseResidencyBuffer && f->sparseResidencyImage2D);
        ck_assert(!f->sparseResidencyAliased && !f->sparseResidencyImage3D);
    }
    VkQueueFamilyProperties families[8];
    uint32_t count = 8;
    vkGetPhysicalDeviceQueueFamilyProperties(context.physical_device, &count, families);
    ck_assert_uint_ge(count, 1);
    for (uint32_t i = 0; i < count; i++) ck_assert(families[i].queueFlags & VK_QUEUE_SPARSE_BINDING_BIT);
    VkQueueFamilyProperties2 families2[8];
    for (uint32_t i = 0; i < 8; i++)
        families2[i] = (VkQueueFamilyProperties2){.sType = VK_STRUCTURE_TYPE_QUEUE_FAMILY_PROPERTIES_2};
    count = 8;
    vkGetPhysicalDeviceQueueFamilyProperties2(context.physical_device, &count, families2);
    for (uint32_t i = 0; i < count; i++)
        ck_assert(families2[i].queueFamilyProperties.queueFlags & VK_QUEUE_SPARSE_BINDING_BIT);
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(context.physical_device, &properties);
    ck_assert_uint_ge(properties.limits.sparseAddressSpaceSize, 1ull << 40);
    ck_assert(properties.sparseProperties.residencyStandard2DBlockShape);
    ck_assert(!properties.sparseProperties.residencyNonResidentStrict);
}
END_TEST

START_TEST(sparse_buffers_bind_in_whole_64_KiB_blocks) {
    VkBuffer buffer = sparse_buffer(100000, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkMemoryRequirements needs = strict_test_buffer_requirements(&context, buffer);
    ck_assert_uint_eq(needs.alignment, BLOCK);
    ck_assert_uint_eq(needs.size, 2 * BLOCK);
    ck_assert_uint_eq(needs.memoryTypeBits & (1u << STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED), 0);

    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .flags = VK_BUFFER_CREATE_SPARSE_BINDING_BIT,
                               .size = 100000,
                               .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    VkDeviceBufferMemoryRequirements query = {.sType = VK_STRUCTURE_TYPE_DEVICE_BUFFER_MEMORY_REQUIREMENTS,
                                              .pCreateInfo = &info};
    VkMemoryRequirements2 from_info = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
    vkGetDeviceBufferMemoryRequirements(context.device, &query, &from_info);
    ck_assert_uint_eq(from_info.memoryRequirements.alignment, BLOCK);
    ck_assert_uint_eq(from_info.memoryRequirements.size, 2 * BLOCK);

    /* A plain buffer keeps its plain requirements. */
    VkBuffer plain = sparse_buffer(100000, 0);
    ck_assert_uint_eq(strict_test_buffer_requirements(&context, plain).alignment, 256);
}
END_TEST

START_TEST(resident_images_report_standard_blocks_and_one_mip_tail) {
    VkSparseImageFormatProperties formats[2];
    uint32_t count = 2;
    vkGetPhysicalDeviceSparseImageFormatProperties(context.physical_device, VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_TYPE_2D,
                                                   VK_SAMPLE_COUNT_1_BIT, VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                                   VK_IMAGE_TILING_OPTIMAL, &count, formats);
    ck_assert_uint_eq(count, 1);
    ck_assert_uint_eq(formats[0].imageGranularity.width, 128);
    ck_assert_uint_eq(formats[0].imageGranularity.height, 128);
    count = 2;
    vkGetPhysicalDeviceSparseImageFormatProperties(context.physical_device, VK_FORMAT_D32_SFLOAT, VK_IMAGE_TYPE_2D,
                                                   VK_SAMPLE_COUNT_1_BIT, VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                                   VK_IMAGE_TILING_OPTIMAL, &count, formats);
    ck_assert_uint_eq(count, 0);

    /* 512, 256 and 128 texels are whole 128x128 blocks: 16 + 4 + 1 of them; 64 and below form the tail. */
    VkImage image = sparse_image(512, 5, RESIDENT_IMAGE);
    VkSparseImageMemoryRequirements sparse[2];
    count = 2;
    vkGetImageSparseMemoryRequirements(context.device, image, &count, sparse);
    ck_assert_uint_eq(count, 1);
    ck_assert_uint_eq(sparse[0].imageMipTailFirstLod, 3);
    ck_assert_uint_eq(sparse[0].imageMipTailOffset, 21 * BLOCK);
    ck_assert_uint_eq(sparse[0].imageMipTailSize, BLOCK);
    VkMemoryRequirements needs = strict_test_image_requirements(&context, image);
    ck_assert_uint_eq(needs.alignment, BLOCK);
    ck_assert_uint_ge(needs.size, 22 * BLOCK);
    ck_assert_uint_eq(needs.size % BLOCK, 0);

    /* The same answer from the create info alone. */
    VkImageCreateInfo info = image_info(512, 5, RESIDENT_IMAGE);
    VkDeviceImageMemoryRequirements query = {.sType = VK_STRUCTURE_TYPE_DEVICE_IMAGE_MEMORY_REQUIREMENTS,
                                             .pCreateInfo = &info};
    VkSparseImageMemoryRequirements2 from_info = {.sType = VK_STRUCTURE_TYPE_SPARSE_IMAGE_MEMORY_REQUIREMENTS_2};
    count = 1;
    vkGetDeviceImageSparseMemoryRequirements(context.device, &query, &count, &from_info);
    ck_assert_uint_eq(count, 1);
    ck_assert_uint_eq(from_info.memoryRequirements.imageMipTailOffset, 21 * BLOCK);

    /* An image that is only sparse bound has no sparse-image requirements. */
    VkImage bound_only = sparse_image(128, 1, VK_IMAGE_CREATE_SPARSE_BINDING_BIT);
    vkGetImageSparseMemoryRequirements(context.device, bound_only, &count, NULL);
    ck_assert_uint_eq(count, 0);
}
END_TEST

/* ---- binds ---- */

START_TEST(a_whole_buffer_bind_really_binds_and_is_recorded) {
    const VkDeviceSize size = 2 * BLOCK;
    VkBuffer buffer = sparse_buffer(size, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkDeviceMemory memory = allocate(3 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    ck_assert_int_eq(vkCreateFence(context.device, &fence_info, NULL, &fence), VK_SUCCESS);
    VkSparseMemoryBind bind = memory_bind(0, size, memory, BLOCK);
    ck_assert_int_eq(bind_buffer_sparse(buffer, &bind, 1, fence), VK_SUCCESS);
    ck_assert_int_eq(vkWaitForFences(context.device, 1, &fence, VK_TRUE, UINT64_MAX), VK_SUCCESS);
    vkDestroyFence(context.device, fence, NULL);

    /* The GPU writes it, and the words come back through a host-visible buffer. */
    VkDeviceMemory host_memory = allocate(size, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    VkBuffer readback = sparse_buffer(size, 0);
    ck_assert_int_eq(vkBindBufferMemory(context.device, readback, host_memory, 0), VK_SUCCESS);
    strict_test_fill_buffer(&context, buffer, size, 0x5A4B3C2Du);
    strict_test_copy_buffer(&context, buffer, readback, size);
    uint32_t *words = NULL;
    ck_assert_int_eq(vkMapMemory(context.device, host_memory, 0, VK_WHOLE_SIZE, 0, (void **)&words), VK_SUCCESS);
    for (VkDeviceSize i = 0; i < size / 4; i++) ck_assert_uint_eq(words[i], 0x5A4B3C2Du);
    vkUnmapMemory(context.device, host_memory);

    StrictDeviceSparseBind recorded[4];
    ck_assert_uint_eq(recorded_binds(recorded, 4), 1);
    ck_assert_int_eq(recorded[0].kind, STRICT_DEVICE_SPARSE_BIND_BUFFER);
    ck_assert_uint_eq(recorded[0].resource, (uint64_t)buffer);
    ck_assert_uint_eq((uint64_t)recorded[0].memory, (uint64_t)memory);
    ck_assert_uint_eq(recorded[0].memory_offset, BLOCK);
    ck_assert_uint_eq(recorded[0].size, size);
    ck_assert(recorded[0].backed);
    VkDeviceMemory where = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    ck_assert(get_buffer_binding(context.device, buffer, &where, &offset));
    ck_assert_uint_eq((uint64_t)where, (uint64_t)memory);
    ck_assert_uint_eq(offset, BLOCK);
    ck_assert_uint_eq(strict_test_counters(&context).sparse_binds, 1);
    ck_assert_uint_eq(strict_test_violations(&context), 0);
}
END_TEST

static VkSemaphore new_semaphore(void) {
    VkSemaphoreCreateInfo info = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    VkSemaphore semaphore;
    ck_assert_int_eq(vkCreateSemaphore(context.device, &info, NULL, &semaphore), VK_SUCCESS);
    return semaphore;
}

START_TEST(a_sparse_bind_waits_for_and_signals_its_semaphores) {
    VkBuffer buffer = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkDeviceMemory memory = allocate(BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkSemaphore before = new_semaphore(), after = new_semaphore();
    VkSubmitInfo signal_before = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .signalSemaphoreCount = 1, .pSignalSemaphores = &before};
    ck_assert_int_eq(vkQueueSubmit(context.queue, 1, &signal_before, VK_NULL_HANDLE), VK_SUCCESS);

    VkSparseMemoryBind bind = memory_bind(0, BLOCK, memory, 0);
    VkSparseBufferMemoryBindInfo buffer_binds = {buffer, 1, &bind};
    VkBindSparseInfo info = {.sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
                             .waitSemaphoreCount = 1,
                             .pWaitSemaphores = &before,
                             .bufferBindCount = 1,
                             .pBufferBinds = &buffer_binds,
                             .signalSemaphoreCount = 1,
                             .pSignalSemaphores = &after};
    ck_assert_int_eq(vkQueueBindSparse(context.queue, 1, &info, VK_NULL_HANDLE), VK_SUCCESS);

    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    ck_assert_int_eq(vkCreateFence(context.device, &fence_info, NULL, &fence), VK_SUCCESS);
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
    VkSubmitInfo wait_after = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                               .waitSemaphoreCount = 1,
                               .pWaitSemaphores = &after,
                               .pWaitDstStageMask = &stage};
    ck_assert_int_eq(vkQueueSubmit(context.queue, 1, &wait_after, fence), VK_SUCCESS);
    /* A semaphore the bind never signalled would leave this waiting forever. */
    ck_assert_int_eq(vkWaitForFences(context.device, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000), VK_SUCCESS);

    /* A call with no bind infos still signals its fence. */
    ck_assert_int_eq(vkResetFences(context.device, 1, &fence), VK_SUCCESS);
    ck_assert_int_eq(vkQueueBindSparse(context.queue, 0, NULL, fence), VK_SUCCESS);
    ck_assert_int_eq(vkWaitForFences(context.device, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000), VK_SUCCESS);

    wait_idle();
    vkDestroyFence(context.device, fence, NULL);
    vkDestroySemaphore(context.device, before, NULL);
    vkDestroySemaphore(context.device, after, NULL);
    ck_assert_uint_eq(strict_test_violations(&context), 0);
}
END_TEST

START_TEST(binds_of_part_of_a_resource_are_recorded_but_not_backed) {
    VkBuffer buffer =
        sparse_buffer(2 * BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT | VK_BUFFER_CREATE_SPARSE_RESIDENCY_BIT);
    VkDeviceMemory first = allocate(BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkDeviceMemory second = allocate(2 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkSparseMemoryBind binds[2] = {memory_bind(0, BLOCK, first, 0), memory_bind(BLOCK, BLOCK, second, BLOCK)};
    ck_assert_int_eq(bind_buffer_sparse(buffer, binds, 2, VK_NULL_HANDLE), VK_SUCCESS);
    /* An unbind is recorded too. */
    VkSparseMemoryBind unbind = memory_bind(BLOCK, BLOCK, VK_NULL_HANDLE, 0);
    ck_assert_int_eq(bind_buffer_sparse(buffer, &unbind, 1, VK_NULL_HANDLE), VK_SUCCESS);
    wait_idle();

    StrictDeviceSparseBind recorded[4];
    ck_assert_uint_eq(recorded_binds(recorded, 4), 3);
    ck_assert_uint_eq((uint64_t)recorded[0].memory, (uint64_t)first);
    ck_assert_uint_eq(recorded[1].resource_offset, BLOCK);
    ck_assert_uint_eq((uint64_t)recorded[1].memory, (uint64_t)second);
    ck_assert_uint_eq((uint64_t)recorded[2].memory, 0);
    for (int i = 0; i < 3; i++) ck_assert(!recorded[i].backed);
    VkDeviceMemory where;
    VkDeviceSize offset;
    ck_assert(!get_buffer_binding(context.device, buffer, &where, &offset));
    /* Asking for fewer gives the most recent. */
    ck_assert_uint_eq(recorded_binds(recorded, 1), 1);
    ck_assert_uint_eq((uint64_t)recorded[0].memory, 0);
    ck_assert_uint_eq(strict_test_violations(&context), 0);
}
END_TEST

START_TEST(whole_opaque_and_image_binds_really_bind_images) {
    VkDeviceMemory memory = allocate(8 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkImage opaque = sparse_image(128, 1, VK_IMAGE_CREATE_SPARSE_BINDING_BIT);
    VkMemoryRequirements opaque_needs = strict_test_image_requirements(&context, opaque);
    ck_assert_uint_eq(opaque_needs.alignment, BLOCK);
    ck_assert_int_eq(bind_image_opaque(opaque, memory_bind(0, opaque_needs.size, memory, 0)), VK_SUCCESS);

    /* 256x256 texels of 4 bytes: 2x2 blocks, no mip tail. */
    VkImage resident = sparse_image(256, 1, RESIDENT_IMAGE);
    VkSparseImageMemoryBind whole = region_bind(0, (VkOffset3D){0, 0, 0}, (VkExtent3D){256, 256, 1}, memory, 4 * BLOCK);
    ck_assert_int_eq(bind_image_region(resident, whole), VK_SUCCESS);
    wait_idle();

    StrictDeviceSparseBind recorded[2];
    ck_assert_uint_eq(recorded_binds(recorded, 2), 2);
    ck_assert_int_eq(recorded[0].kind, STRICT_DEVICE_SPARSE_BIND_IMAGE_OPAQUE);
    ck_assert(recorded[0].backed);
    ck_assert_int_eq(recorded[1].kind, STRICT_DEVICE_SPARSE_BIND_IMAGE);
    ck_assert_uint_eq(recorded[1].size, 4 * BLOCK);
    ck_assert_uint_eq(recorded[1].extent.width, 256);
    ck_assert(recorded[1].backed);
    ck_assert_uint_eq(strict_test_violations(&context), 0);
}
END_TEST

/* ---- each rule ---- */

START_TEST(a_sparse_bind_of_unknown_memory_is_refused_and_binds_nothing) {
    VkBuffer buffer = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkDeviceMemory stranger = (VkDeviceMemory)(uintptr_t)0x5afe0000u;
    VkSparseMemoryBind bind = memory_bind(0, BLOCK, stranger, 0);
    ck_assert_int_ne(bind_buffer_sparse(buffer, &bind, 1, VK_NULL_HANDLE), VK_SUCCESS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY, 1);
    ck_assert_uint_eq(strict_test_counters(&context).sparse_binds, 0);
}
END_TEST

START_TEST(a_sparse_bind_off_the_block_alignment_is_refused) {
    VkBuffer buffer = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkDeviceMemory memory = allocate(2 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkSparseMemoryBind bind = memory_bind(0, BLOCK, memory, 256);
    ck_assert_int_ne(bind_buffer_sparse(buffer, &bind, 1, VK_NULL_HANDLE), VK_SUCCESS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT, 1);
}
END_TEST

START_TEST(a_sparse_bind_past_the_end_of_the_memory_is_refused) {
    VkBuffer buffer = sparse_buffer(2 * BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkDeviceMemory memory = allocate(2 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkSparseMemoryBind bind = memory_bind(0, 2 * BLOCK, memory, BLOCK);
    ck_assert_int_ne(bind_buffer_sparse(buffer, &bind, 1, VK_NULL_HANDLE), VK_SUCCESS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_BIND_RANGE, 1);
}
END_TEST

START_TEST(a_sparse_bind_to_a_memory_type_the_resource_does_not_allow_is_refused) {
    VkBuffer buffer = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkDeviceMemory lazy = allocate(BLOCK, STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED);
    VkSparseMemoryBind bind = memory_bind(0, BLOCK, lazy, 0);
    ck_assert_int_ne(bind_buffer_sparse(buffer, &bind, 1, VK_NULL_HANDLE), VK_SUCCESS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE, 1);
}
END_TEST

START_TEST(sparse_binds_off_the_resources_blocks_are_refused) {
    VkBuffer buffer =
        sparse_buffer(2 * BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT | VK_BUFFER_CREATE_SPARSE_RESIDENCY_BIT);
    VkDeviceMemory memory = allocate(4 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkSparseMemoryBind off_block = memory_bind(4096, BLOCK, memory, 0);
    VkSparseMemoryBind part_block = memory_bind(0, BLOCK / 2, memory, 0);
    VkSparseMemoryBind past_end = memory_bind(BLOCK, 2 * BLOCK, memory, 0);
    ck_assert_int_ne(bind_buffer_sparse(buffer, &off_block, 1, VK_NULL_HANDLE), VK_SUCCESS);
    ck_assert_int_ne(bind_buffer_sparse(buffer, &part_block, 1, VK_NULL_HANDLE), VK_SUCCESS);
    ck_assert_int_ne(bind_buffer_sparse(buffer, &past_end, 1, VK_NULL_HANDLE), VK_SUCCESS);

    VkImage image = sparse_image(256, 1, RESIDENT_IMAGE);
    VkSparseImageMemoryBind off_grid = region_bind(0, (VkOffset3D){64, 0, 0}, (VkExtent3D){128, 128, 1}, memory, 0);
    VkSparseImageMemoryBind outside = region_bind(0, (VkOffset3D){128, 0, 0}, (VkExtent3D){256, 128, 1}, memory, 0);
    ck_assert_int_ne(bind_image_region(image, off_grid), VK_SUCCESS);
    ck_assert_int_ne(bind_image_region(image, outside), VK_SUCCESS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_SPARSE_BLOCK, 5);
    ck_assert_uint_eq(strict_test_counters(&context).sparse_binds, 0);
}
END_TEST

START_TEST(sparse_binds_of_resources_not_made_for_them_are_refused) {
    VkDeviceMemory memory = allocate(4 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkBuffer plain = sparse_buffer(BLOCK, 0);
    VkSparseMemoryBind bind = memory_bind(0, BLOCK, memory, 0);
    ck_assert_int_ne(bind_buffer_sparse(plain, &bind, 1, VK_NULL_HANDLE), VK_SUCCESS);
    /* An image bind needs a resident image, and a level outside the mip tail. */
    VkImage bound_only = sparse_image(128, 1, VK_IMAGE_CREATE_SPARSE_BINDING_BIT);
    VkSparseImageMemoryBind region = region_bind(0, (VkOffset3D){0, 0, 0}, (VkExtent3D){128, 128, 1}, memory, 0);
    ck_assert_int_ne(bind_image_region(bound_only, region), VK_SUCCESS);
    VkImage tailed = sparse_image(128, 2, RESIDENT_IMAGE);
    VkSparseImageMemoryBind in_tail = region_bind(1, (VkOffset3D){0, 0, 0}, (VkExtent3D){64, 64, 1}, memory, 0);
    ck_assert_int_ne(bind_image_region(tailed, in_tail), VK_SUCCESS);
    /* And a sparse resource is never bound like a plain one. */
    VkBuffer sparse = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    ck_assert_int_ne(vkBindBufferMemory(context.device, sparse, memory, 0), VK_SUCCESS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_SPARSE_RESOURCE, 4);
}
END_TEST

START_TEST(one_bad_bind_refuses_the_whole_call) {
    VkBuffer good = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkBuffer bad = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkDeviceMemory memory = allocate(2 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkSparseMemoryBind good_bind = memory_bind(0, BLOCK, memory, 0);
    VkSparseMemoryBind bad_bind = memory_bind(0, BLOCK, memory, 512);
    VkSparseBufferMemoryBindInfo both[2] = {{good, 1, &good_bind}, {bad, 1, &bad_bind}};
    VkBindSparseInfo info = {.sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO, .bufferBindCount = 2, .pBufferBinds = both};
    ck_assert_int_ne(vkQueueBindSparse(context.queue, 1, &info, VK_NULL_HANDLE), VK_SUCCESS);
    assert_only_violation(STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT, 1);
    ck_assert_uint_eq(strict_test_counters(&context).sparse_binds, 0);
    VkDeviceMemory where;
    VkDeviceSize offset;
    ck_assert(!get_buffer_binding(context.device, good, &where, &offset));
}
END_TEST

START_TEST(whole_sparse_binds_are_checked_for_overlap_when_the_program_never_aliases) {
    strict_test_close(&context);
    open_sparse_device_with("1");
    VkDeviceMemory memory = allocate(2 * BLOCK, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    VkBuffer plain = sparse_buffer(4096, 0);
    ck_assert_int_eq(vkBindBufferMemory(context.device, plain, memory, BLOCK + 1024), VK_SUCCESS);
    VkBuffer sparse = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkSparseMemoryBind bind = memory_bind(0, BLOCK, memory, BLOCK);
    /* Legal Vulkan this program says it never does: reported, still bound. */
    ck_assert_int_eq(bind_buffer_sparse(sparse, &bind, 1, VK_NULL_HANDLE), VK_SUCCESS);
    wait_idle();
    assert_only_violation(STRICT_DEVICE_VIOLATION_OVERLAP, 1);
}
END_TEST

/* Without STRICT_DEVICE_VIOLATIONS=count a layer handle leaking into a sparse
 * bind ends the process before the driver sees it. */
START_TEST(a_sparse_bind_of_unknown_memory_aborts_unless_counting) {
    unsetenv("STRICT_DEVICE_VIOLATIONS");
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    features.features.sparseBinding = VK_TRUE;
    strict_test_open_with_features(&context, NULL, 0, &features);
    VkBuffer buffer = sparse_buffer(BLOCK, VK_BUFFER_CREATE_SPARSE_BINDING_BIT);
    VkSparseMemoryBind bind = memory_bind(0, BLOCK, (VkDeviceMemory)(uintptr_t)0x5afe0000u, 0);
    bind_buffer_sparse(buffer, &bind, 1, VK_NULL_HANDLE);
    ck_abort_msg("a sparse bind of unknown memory did not abort");
}
END_TEST

Suite *strict_sparse_suite(void) {
    Suite *suite = suite_create("sparse");
    TCase *reported = tcase_create("reported");
    tcase_set_timeout(reported, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(reported, open_sparse_device, close_sparse_device);
    tcase_add_test(reported, sparse_binding_is_reported_in_features_queue_families_and_properties);
    tcase_add_test(reported, sparse_buffers_bind_in_whole_64_KiB_blocks);
    tcase_add_test(reported, resident_images_report_standard_blocks_and_one_mip_tail);
    suite_add_tcase(suite, reported);

    TCase *binds = tcase_create("binds");
    tcase_set_timeout(binds, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(binds, open_sparse_device, close_sparse_device);
    tcase_add_test(binds, a_whole_buffer_bind_really_binds_and_is_recorded);
    tcase_add_test(binds, a_sparse_bind_waits_for_and_signals_its_semaphores);
    tcase_add_test(binds, binds_of_part_of_a_resource_are_recorded_but_not_backed);
    tcase_add_test(binds, whole_opaque_and_image_binds_really_bind_images);
    suite_add_tcase(suite, binds);

    TCase *rules = tcase_create("rules");
    tcase_set_timeout(rules, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(rules, open_sparse_device, close_sparse_device);
    tcase_add_test(rules, a_sparse_bind_of_unknown_memory_is_refused_and_binds_nothing);
    tcase_add_test(rules, a_sparse_bind_off_the_block_alignment_is_refused);
    tcase_add_test(rules, a_sparse_bind_past_the_end_of_the_memory_is_refused);
    tcase_add_test(rules, a_sparse_bind_to_a_memory_type_the_resource_does_not_allow_is_refused);
    tcase_add_test(rules, sparse_binds_off_the_resources_blocks_are_refused);
    tcase_add_test(rules, sparse_binds_of_resources_not_made_for_them_are_refused);
    tcase_add_test(rules, one_bad_bind_refuses_the_whole_call);
    tcase_add_test(rules, whole_sparse_binds_are_checked_for_overlap_when_the_program_never_aliases);
    suite_add_tcase(suite, rules);

    TCase *fatal = tcase_create("fatal");
    tcase_set_timeout(fatal, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_test_raise_signal(fatal, a_sparse_bind_of_unknown_memory_aborts_unless_counting, SIGABRT);
    suite_add_tcase(suite, fatal);
    return suite;
}
