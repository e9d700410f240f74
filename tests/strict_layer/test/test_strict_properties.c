/* SPDX-License-Identifier: Apache-2.0 */
/* What the strict device reports: the identity, limits, heaps, types and
 * memory requirements that strict_device.h promises, in every query form. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strict_test_context.h"
#include "strict_test_suites.h"

#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)

static strict_test_context context;

static void open_plain(void) { strict_test_open(&context, NULL, 0); }

static void close_context(void) { strict_test_close(&context); }

static void assert_hardware_limits(const VkPhysicalDeviceLimits *limits) {
    ck_assert_uint_eq(limits->maxMemoryAllocationCount, 4096);
    ck_assert_uint_eq(limits->bufferImageGranularity, 1024);
    ck_assert_uint_eq(limits->nonCoherentAtomSize, 256);
    ck_assert_uint_eq(limits->minMemoryMapAlignment, 4096);
}

START_TEST(limits_are_those_of_strict_hardware_in_both_query_forms) {
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(context.physical_device, &properties);
    assert_hardware_limits(&properties.limits);

    VkPhysicalDeviceProperties2 properties2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    vkGetPhysicalDeviceProperties2(context.physical_device, &properties2);
    assert_hardware_limits(&properties2.properties.limits);
}
END_TEST

static void assert_strict_identity(const VkPhysicalDeviceProperties *properties) {
    ck_assert_int_eq(properties->deviceType, VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU);
    size_t prefix = strlen(STRICT_DEVICE_NAME_PREFIX);
    ck_assert_int_eq(strncmp(properties->deviceName, STRICT_DEVICE_NAME_PREFIX, prefix), 0);
    /* The driver's own name follows, once. */
    ck_assert_uint_gt(strlen(properties->deviceName), prefix);
    ck_assert_ptr_null(strstr(properties->deviceName + prefix, STRICT_DEVICE_NAME_PREFIX));
}

START_TEST(the_device_is_a_discrete_gpu_with_a_name_of_its_own_in_both_query_forms) {
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(context.physical_device, &properties);
    assert_strict_identity(&properties);

    VkPhysicalDeviceProperties2 properties2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    vkGetPhysicalDeviceProperties2(context.physical_device, &properties2);
    assert_strict_identity(&properties2.properties);
    ck_assert_str_eq(properties.deviceName, properties2.properties.deviceName);
}
END_TEST

static void assert_header_memory_layout(const VkPhysicalDeviceMemoryProperties *memory) {
    static const VkMemoryHeap heaps[] = {
        {2 * GiB, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT},
        {4 * GiB, 0},
        {256 * MiB, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT},
    };
    static const VkMemoryType types[] = {
        {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0},
        {VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 1},
        {VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 1},
        {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
             VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
         2},
        {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, 0},
    };
    ck_assert_uint_eq(memory->memoryHeapCount, 3);
    for (uint32_t h = 0; h < 3; h++) {
        ck_assert_uint_eq(memory->memoryHeaps[h].size, heaps[h].size);
        ck_assert_uint_eq(memory->memoryHeaps[h].flags, heaps[h].flags);
    }
    ck_assert_uint_eq(memory->memoryTypeCount, STRICT_DEVICE_MEMORY_TYPE_COUNT);
    for (uint32_t t = 0; t < STRICT_DEVICE_MEMORY_TYPE_COUNT; t++) {
        ck_assert_uint_eq(memory->memoryTypes[t].propertyFlags, types[t].propertyFlags);
        ck_assert_uint_eq(memory->memoryTypes[t].heapIndex, types[t].heapIndex);
    }
}

START_TEST(memory_heaps_and_types_are_the_headers_layout_in_both_query_forms) {
    VkPhysicalDeviceMemoryProperties memory;
    vkGetPhysicalDeviceMemoryProperties(context.physical_device, &memory);
    assert_header_memory_layout(&memory);

    VkPhysicalDeviceMemoryProperties2 memory2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
    vkGetPhysicalDeviceMemoryProperties2(context.physical_device, &memory2);
    assert_header_memory_layout(&memory2.memoryProperties);
}
END_TEST

#define ALL_BUT_LAZY 0x0fu
#define ALL_TYPES 0x1fu

static void assert_requirements(const VkMemoryRequirements *got, VkDeviceSize alignment, uint32_t type_bits,
                                VkDeviceSize size) {
    ck_assert_uint_eq(got->alignment, alignment);
    ck_assert_uint_eq(got->memoryTypeBits, type_bits);
    ck_assert_uint_eq(got->size, size);
}

/* The three ways to ask: for the object, *2 for the object, and (1.3) for a create info. */
static void assert_buffer_requirements_everywhere(const VkBufferCreateInfo *info, VkDeviceSize alignment,
                                                  uint32_t type_bits) {
    VkBuffer buffer;
    ck_assert_int_eq(vkCreateBuffer(context.device, info, NULL, &buffer), VK_SUCCESS);
    VkMemoryRequirements plain = strict_test_buffer_requirements(&context, buffer);
    ck_assert_uint_ge(plain.size, info->size);
    assert_requirements(&plain, alignment, type_bits, plain.size);

    VkBufferMemoryRequirementsInfo2 object_info = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
                                                   .buffer = buffer};
    VkMemoryRequirements2 object2 = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
    vkGetBufferMemoryRequirements2(context.device, &object_info, &object2);
    assert_requirements(&object2.memoryRequirements, alignment, type_bits, plain.size);

    VkDeviceBufferMemoryRequirements create_info = {.sType = VK_STRUCTURE_TYPE_DEVICE_BUFFER_MEMORY_REQUIREMENTS,
                                                    .pCreateInfo = info};
    VkMemoryRequirements2 from_info = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
    vkGetDeviceBufferMemoryRequirements(context.device, &create_info, &from_info);
    assert_requirements(&from_info.memoryRequirements, alignment, type_bits, plain.size);
    vkDestroyBuffer(context.device, buffer, NULL);
}

static void assert_image_requirements_everywhere(const VkImageCreateInfo *info, VkDeviceSize alignment,
                                                 uint32_t type_bits) {
    VkImage image;
    ck_assert_int_eq(vkCreateImage(context.device, info, NULL, &image), VK_SUCCESS);
    VkMemoryRequirements plain = strict_test_image_requirements(&context, image);
    ck_assert_uint_gt(plain.size, 0);
    assert_requirements(&plain, alignment, type_bits, plain.size);

    VkImageMemoryRequirementsInfo2 object_info = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
                                                  .image = image};
    VkMemoryRequirements2 object2 = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
    vkGetImageMemoryRequirements2(context.device, &object_info, &object2);
    assert_requirements(&object2.memoryRequirements, alignment, type_bits, plain.size);

    VkDeviceImageMemoryRequirements create_info = {.sType = VK_STRUCTURE_TYPE_DEVICE_IMAGE_MEMORY_REQUIREMENTS,
                                                   .pCreateInfo = info};
    VkMemoryRequirements2 from_info = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
    vkGetDeviceImageMemoryRequirements(context.device, &create_info, &from_info);
    assert_requirements(&from_info.memoryRequirements, alignment, type_bits, plain.size);
    vkDestroyImage(context.device, image, NULL);
}

START_TEST(buffers_align_to_256_and_may_use_every_type_but_the_lazy_one) {
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = 100,
                               .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT};
    assert_buffer_requirements_everywhere(&info, 256, ALL_BUT_LAZY);
}
END_TEST

static VkImageCreateInfo sized_image_info(VkImageTiling tiling, VkImageUsageFlags usage, uint32_t side) {
    return (VkImageCreateInfo){.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                               .imageType = VK_IMAGE_TYPE_2D,
                               .format = VK_FORMAT_R8G8B8A8_UNORM,
                               .extent = {side, side, 1},
                               .mipLevels = 1,
                               .arrayLayers = 1,
                               .samples = VK_SAMPLE_COUNT_1_BIT,
                               .tiling = tiling,
                               .usage = usage};
}

static VkImageCreateInfo image_info(VkImageTiling tiling, VkImageUsageFlags usage) {
    return sized_image_info(tiling, usage, 16);
}

/* 128x128 RGBA8 is 64 KiB: large images come in 64 KiB tiles. */
START_TEST(optimal_images_of_64_KiB_or_more_align_to_64_KiB) {
    VkImageCreateInfo info = sized_image_info(VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_SAMPLED_BIT, 130);
    assert_image_requirements_everywhere(&info, 65536, ALL_BUT_LAZY);
}
END_TEST

START_TEST(smaller_optimal_images_come_in_256_byte_tiles) {
    VkImageCreateInfo info = sized_image_info(VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_SAMPLED_BIT, 5);
    assert_image_requirements_everywhere(&info, 256, ALL_BUT_LAZY);
}
END_TEST

/* Tiled hardware reports whole tiles: the size is a multiple of the alignment. */
START_TEST(optimal_image_sizes_are_whole_tiles) {
    static const uint32_t sides[] = {1, 5, 17, 100, 130, 300};
    for (size_t i = 0; i < sizeof sides / sizeof *sides; i++) {
        VkImageCreateInfo info = sized_image_info(VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_SAMPLED_BIT, sides[i]);
        VkImage image;
        ck_assert_int_eq(vkCreateImage(context.device, &info, NULL, &image), VK_SUCCESS);
        VkMemoryRequirements needs;
        vkGetImageMemoryRequirements(context.device, image, &needs);
        vkDestroyImage(context.device, image, NULL);
        ck_assert_msg(needs.size % needs.alignment == 0 && needs.size >= (VkDeviceSize)sides[i] * sides[i] * 4,
                      "%ux%u: size %llu, alignment %llu", sides[i], sides[i], (unsigned long long)needs.size,
                      (unsigned long long)needs.alignment);
    }
}
END_TEST

START_TEST(linear_images_align_to_4_KiB) {
    VkImageCreateInfo info = image_info(VK_IMAGE_TILING_LINEAR, VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
    assert_image_requirements_everywhere(&info, 4096, ALL_BUT_LAZY);
}
END_TEST

START_TEST(only_transient_attachments_may_use_the_lazy_type) {
    VkImageCreateInfo info = image_info(VK_IMAGE_TILING_OPTIMAL,
                                        VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT);
    assert_image_requirements_everywhere(&info, 256, ALL_TYPES);
}
END_TEST

/* Device contents written by the GPU in memory of the given type come back
 * intact through a host-coherent readback buffer. */
static void assert_type_holds_device_writes(uint32_t type) {
    const VkDeviceSize size = 4096;
    VkDeviceMemory memory = strict_test_allocate(&context, size, type);
    ck_assert(context.is_driver_memory(context.device, memory));
    VkBuffer buffer = strict_test_buffer(&context, size);
    ck_assert_int_eq(vkBindBufferMemory(context.device, buffer, memory, 0), VK_SUCCESS);

    VkDeviceMemory readback_memory = strict_test_allocate(&context, size, STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);
    VkBuffer readback = strict_test_buffer(&context, size);
    ck_assert_int_eq(vkBindBufferMemory(context.device, readback, readback_memory, 0), VK_SUCCESS);

    uint32_t pattern = 0x5a000000u | type;
    strict_test_fill_buffer(&context, buffer, size, pattern);
    strict_test_copy_buffer(&context, buffer, readback, size);
    uint32_t *words;
    ck_assert_int_eq(vkMapMemory(context.device, readback_memory, 0, VK_WHOLE_SIZE, 0, (void **)&words), VK_SUCCESS);
    for (uint32_t i = 0; i < size / 4; i++) ck_assert_uint_eq(words[i], pattern);
    vkUnmapMemory(context.device, readback_memory);

    vkDestroyBuffer(context.device, readback, NULL);
    vkDestroyBuffer(context.device, buffer, NULL);
    vkFreeMemory(context.device, readback_memory, NULL);
    vkFreeMemory(context.device, memory, NULL);
}

START_TEST(every_buffer_memory_type_is_backed_by_real_driver_memory) {
    for (uint32_t type = 0; type < STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED; type++)
        assert_type_holds_device_writes(type);
    ck_assert_uint_eq(strict_test_violations(&context), 0);
}
END_TEST

START_TEST(the_lazy_type_backs_a_transient_attachment) {
    VkImage image = strict_test_image(&context, VK_IMAGE_TILING_OPTIMAL, 16,
                                      VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT);
    VkMemoryRequirements needs = strict_test_image_requirements(&context, image);
    VkDeviceMemory memory = strict_test_allocate(&context, needs.size, STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED);
    ck_assert(context.is_driver_memory(context.device, memory));
    ck_assert_int_eq(vkBindImageMemory(context.device, image, memory, 0), VK_SUCCESS);
    ck_assert_uint_eq(strict_test_violations(&context), 0);
    vkDestroyImage(context.device, image, NULL);
    vkFreeMemory(context.device, memory, NULL);
}
END_TEST

static bool lists_extension(const VkExtensionProperties *list, uint32_t count, const char *name) {
    for (uint32_t i = 0; i < count; i++) {
        if (strcmp(list[i].extensionName, name) == 0) return true;
    }
    return false;
}

static const char *const emulated_extensions[] = {
    VK_EXT_MEMORY_BUDGET_EXTENSION_NAME,
    VK_EXT_DEBUG_MARKER_EXTENSION_NAME,
    VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME,
    VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME,
};
#define EMULATED_COUNT (sizeof(emulated_extensions) / sizeof(emulated_extensions[0]))

START_TEST(emulated_extensions_are_offered_by_the_device_and_by_the_layer) {
    VkExtensionProperties list[256];
    uint32_t count = 256;
    ck_assert_int_eq(vkEnumerateDeviceExtensionProperties(context.physical_device, NULL, &count, list), VK_SUCCESS);
    for (size_t i = 0; i < EMULATED_COUNT; i++)
        ck_assert_msg(lists_extension(list, count, emulated_extensions[i]), "the device lacks %s",
                      emulated_extensions[i]);

    count = 256;
    ck_assert_int_eq(
        vkEnumerateDeviceExtensionProperties(context.physical_device, STRICT_DEVICE_LAYER_NAME, &count, list),
        VK_SUCCESS);
    ck_assert_uint_eq(count, EMULATED_COUNT);
    for (size_t i = 0; i < EMULATED_COUNT; i++)
        ck_assert_msg(lists_extension(list, count, emulated_extensions[i]), "the layer lacks %s",
                      emulated_extensions[i]);
}
END_TEST

static VkPhysicalDeviceMemoryBudgetPropertiesEXT read_budget(void) {
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 memory2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                                 .pNext = &budget};
    vkGetPhysicalDeviceMemoryProperties2(context.physical_device, &memory2);
    return budget;
}

START_TEST(memory_budget_reports_each_fake_heap_and_its_usage) {
    strict_test_close(&context);
    const char *budget_extension = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
    strict_test_open(&context, &budget_extension, 1);

    VkPhysicalDeviceMemoryBudgetPropertiesEXT before = read_budget();
    ck_assert_uint_eq(before.heapBudget[0], 2 * GiB);
    ck_assert_uint_eq(before.heapBudget[1], 4 * GiB);
    ck_assert_uint_eq(before.heapBudget[2], 256 * MiB);
    ck_assert_uint_eq(before.heapBudget[3], 0);

    VkDeviceMemory bar = strict_test_allocate(&context, 3 * MiB, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL_HOST_VISIBLE);
    VkDeviceMemory host = strict_test_allocate(&context, 5 * MiB, STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT);
    VkPhysicalDeviceMemoryBudgetPropertiesEXT during = read_budget();
    ck_assert_uint_eq(during.heapUsage[0], before.heapUsage[0]);
    ck_assert_uint_eq(during.heapUsage[1], before.heapUsage[1] + 5 * MiB);
    ck_assert_uint_eq(during.heapUsage[2], before.heapUsage[2] + 3 * MiB);

    vkFreeMemory(context.device, bar, NULL);
    vkFreeMemory(context.device, host, NULL);
    VkPhysicalDeviceMemoryBudgetPropertiesEXT after = read_budget();
    for (uint32_t h = 0; h < 3; h++) ck_assert_uint_eq(after.heapUsage[h], before.heapUsage[h]);
}
END_TEST

/* Imports of host memory (what media and GL-on-Vulkan apps send) are offered
 * the fake host-coherent type, and memory of that type really is the app's. */
START_TEST(imported_host_memory_gets_the_host_coherent_type_and_is_shared) {
    strict_test_close(&context);
    const char *import_extension = VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME;
    strict_test_open(&context, &import_extension, 1);
    PFN_vkGetMemoryHostPointerPropertiesEXT get_properties =
        (PFN_vkGetMemoryHostPointerPropertiesEXT)vkGetDeviceProcAddr(context.device,
                                                                     "vkGetMemoryHostPointerPropertiesEXT");
    ck_assert_ptr_nonnull(get_properties);

    const VkDeviceSize size = 65536;
    uint32_t *host = aligned_alloc(65536, size);
    memset(host, 0, size);
    VkMemoryHostPointerPropertiesEXT properties = {.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT};
    ck_assert_int_eq(
        get_properties(context.device, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, host, &properties),
        VK_SUCCESS);
    ck_assert_uint_eq(properties.memoryTypeBits, 1u << STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT);

    VkImportMemoryHostPointerInfoEXT import = {.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
                                               .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
                                               .pHostPointer = host};
    VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                 .pNext = &import,
                                 .allocationSize = size,
                                 .memoryTypeIndex = STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT};
    VkDeviceMemory memory;
    ck_assert_int_eq(vkAllocateMemory(context.device, &info, NULL, &memory), VK_SUCCESS);
    VkBuffer buffer = strict_test_buffer(&context, size);
    ck_assert_int_eq(vkBindBufferMemory(context.device, buffer, memory, 0), VK_SUCCESS);
    strict_test_fill_buffer(&context, buffer, size, 0x12345678u);
    for (VkDeviceSize i = 0; i < size / 4; i++) ck_assert_uint_eq(host[i], 0x12345678u);
    ck_assert_uint_eq(strict_test_violations(&context), 0);

    vkDestroyBuffer(context.device, buffer, NULL);
    vkFreeMemory(context.device, memory, NULL);
    free(host);
}
END_TEST

START_TEST(control_functions_are_found_by_name_and_unknown_names_are_not) {
    /* strict_test_open already required the five control functions. */
    ck_assert_ptr_null(vkGetDeviceProcAddr(context.device, "vkStrictDeviceNoSuchFunctionTEST"));
    ck_assert_ptr_nonnull(vkGetDeviceProcAddr(context.device, "vkAllocateMemory"));
}
END_TEST

Suite *strict_properties_suite(void) {
    Suite *suite = suite_create("properties");
    TCase *tc = tcase_create("reported");
    tcase_set_timeout(tc, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(tc, open_plain, close_context);
    tcase_add_test(tc, limits_are_those_of_strict_hardware_in_both_query_forms);
    tcase_add_test(tc, the_device_is_a_discrete_gpu_with_a_name_of_its_own_in_both_query_forms);
    tcase_add_test(tc, memory_heaps_and_types_are_the_headers_layout_in_both_query_forms);
    tcase_add_test(tc, buffers_align_to_256_and_may_use_every_type_but_the_lazy_one);
    tcase_add_test(tc, optimal_images_of_64_KiB_or_more_align_to_64_KiB);
    tcase_add_test(tc, smaller_optimal_images_come_in_256_byte_tiles);
    tcase_add_test(tc, optimal_image_sizes_are_whole_tiles);
    tcase_add_test(tc, linear_images_align_to_4_KiB);
    tcase_add_test(tc, only_transient_attachments_may_use_the_lazy_type);
    tcase_add_test(tc, every_buffer_memory_type_is_backed_by_real_driver_memory);
    tcase_add_test(tc, the_lazy_type_backs_a_transient_attachment);
    tcase_add_test(tc, emulated_extensions_are_offered_by_the_device_and_by_the_layer);
    tcase_add_test(tc, memory_budget_reports_each_fake_heap_and_its_usage);
    tcase_add_test(tc, imported_host_memory_gets_the_host_coherent_type_and_is_shared);
    tcase_add_test(tc, control_functions_are_found_by_name_and_unknown_names_are_not);
    suite_add_tcase(suite, tc);
    return suite;
}
