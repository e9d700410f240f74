/* SPDX-License-Identifier: Apache-2.0 */
/* VK_EXT_debug_marker, VK_EXT_memory_priority and
 * VK_EXT_pageable_device_local_memory, emulated: offered when enabled, what
 * they set is recorded, and memory the driver never made is refused. */
#include <stdlib.h>
#include <string.h>

#include "strict_test_context.h"
#include "strict_test_suites.h"

static strict_test_context context;
static PFN_vkDebugMarkerSetObjectNameEXT set_name;
static PFN_vkDebugMarkerSetObjectTagEXT set_tag;
static PFN_vkSetDeviceMemoryPriorityEXT set_priority;
static PFN_vkStrictDeviceGetObjectMarkerTEST get_marker;
static PFN_vkStrictDeviceGetMemoryPriorityTEST get_priority;

static const char *const extensions[] = {
    VK_EXT_DEBUG_MARKER_EXTENSION_NAME,
    VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME,
    VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME,
};

static PFN_vkVoidFunction device_function(const char *name) { return vkGetDeviceProcAddr(context.device, name); }

static void open_with_extensions(void) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    unsetenv("STRICT_DEVICE_CHECK_LEAKS");
    VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT,
        .pageableDeviceLocalMemory = VK_TRUE};
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT,
        .pNext = &pageable,
        .memoryPriority = VK_TRUE};
    strict_test_open_with_features(&context, extensions, 3, &priority);
    set_name = (PFN_vkDebugMarkerSetObjectNameEXT)device_function("vkDebugMarkerSetObjectNameEXT");
    set_tag = (PFN_vkDebugMarkerSetObjectTagEXT)device_function("vkDebugMarkerSetObjectTagEXT");
    set_priority = (PFN_vkSetDeviceMemoryPriorityEXT)device_function("vkSetDeviceMemoryPriorityEXT");
    get_marker = (PFN_vkStrictDeviceGetObjectMarkerTEST)device_function("vkStrictDeviceGetObjectMarkerTEST");
    get_priority = (PFN_vkStrictDeviceGetMemoryPriorityTEST)device_function("vkStrictDeviceGetMemoryPriorityTEST");
    ck_assert_ptr_nonnull(set_name);
    ck_assert_ptr_nonnull(set_tag);
    ck_assert_ptr_nonnull(set_priority);
    ck_assert_ptr_nonnull(get_marker);
    ck_assert_ptr_nonnull(get_priority);
}

static void close_context(void) { strict_test_close(&context); }

static const VkDeviceMemory stranger = (VkDeviceMemory)(uintptr_t)0x5afe0000u;

static VkResult name_object(VkDebugReportObjectTypeEXT type, uint64_t object, const char *name) {
    VkDebugMarkerObjectNameInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_MARKER_OBJECT_NAME_INFO_EXT,
                                           .objectType = type,
                                           .object = object,
                                           .pObjectName = name};
    return set_name(context.device, &info);
}

static VkResult tag_object(VkDebugReportObjectTypeEXT type, uint64_t object, uint64_t tag_name, const void *tag,
                           size_t size) {
    VkDebugMarkerObjectTagInfoEXT info = {.sType = VK_STRUCTURE_TYPE_DEBUG_MARKER_OBJECT_TAG_INFO_EXT,
                                          .objectType = type,
                                          .object = object,
                                          .tagName = tag_name,
                                          .tagSize = size,
                                          .pTag = tag};
    return set_tag(context.device, &info);
}

#define MEMORY_OBJECT VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT

static void assert_only_unknown_memory(uint64_t times) {
    ck_assert_uint_eq(context.violation_count(context.device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY), times);
    ck_assert_uint_eq(strict_test_violations(&context), times);
}

/* ---- offered only when enabled ---- */

START_TEST(emulated_functions_are_offered_only_when_their_extension_is_enabled) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    strict_test_open(&context, NULL, 0);
    ck_assert_ptr_null(device_function("vkDebugMarkerSetObjectNameEXT"));
    ck_assert_ptr_null(device_function("vkSetDeviceMemoryPriorityEXT"));
    strict_test_close(&context);

    open_with_extensions(); /* asserts they are offered now */
    ck_assert_ptr_nonnull(device_function("vkCmdDebugMarkerBeginEXT"));
    strict_test_close(&context);
}
END_TEST

START_TEST(emulated_features_are_reported) {
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1);
    strict_test_open(&context, NULL, 0);
    VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT};
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT, .pNext = &pageable};
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &priority};
    vkGetPhysicalDeviceFeatures2(context.physical_device, &features);
    ck_assert(priority.memoryPriority);
    ck_assert(pageable.pageableDeviceLocalMemory);
    strict_test_close(&context);
}
END_TEST

/* ---- debug markers ---- */

START_TEST(debug_marker_names_and_tags_on_live_memory_are_recorded) {
    VkDeviceMemory memory = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    uint32_t tag = 0x7A6u;
    ck_assert_int_eq(name_object(MEMORY_OBJECT, (uint64_t)memory, "vertex memory"), VK_SUCCESS);
    ck_assert_int_eq(tag_object(MEMORY_OBJECT, (uint64_t)memory, 42, &tag, sizeof tag), VK_SUCCESS);
    VkBuffer buffer = strict_test_buffer(&context, 256);
    ck_assert_int_eq(name_object(VK_DEBUG_REPORT_OBJECT_TYPE_BUFFER_EXT, (uint64_t)buffer, "a buffer"), VK_SUCCESS);

    StrictDeviceObjectMarker marker;
    ck_assert(get_marker(context.device, MEMORY_OBJECT, (uint64_t)memory, &marker));
    ck_assert_str_eq(marker.name, "vertex memory");
    ck_assert_uint_eq(marker.tag_name, 42);
    ck_assert_uint_eq(marker.tag_size, sizeof tag);
    ck_assert_uint_eq(marker.name_calls, 1);
    ck_assert_uint_eq(marker.tag_calls, 1);
    ck_assert(get_marker(context.device, VK_DEBUG_REPORT_OBJECT_TYPE_BUFFER_EXT, (uint64_t)buffer, &marker));
    ck_assert_str_eq(marker.name, "a buffer");
    /* The same handle as another type has no marker. */
    ck_assert(!get_marker(context.device, VK_DEBUG_REPORT_OBJECT_TYPE_IMAGE_EXT, (uint64_t)buffer, &marker));
    ck_assert_uint_eq(strict_test_counters(&context).debug_marker_calls, 3);
    ck_assert_uint_eq(strict_test_violations(&context), 0);

    /* Objects that go forget their markers. */
    vkDestroyBuffer(context.device, buffer, NULL);
    vkFreeMemory(context.device, memory, NULL);
    ck_assert(!get_marker(context.device, MEMORY_OBJECT, (uint64_t)memory, &marker));
    ck_assert(!get_marker(context.device, VK_DEBUG_REPORT_OBJECT_TYPE_BUFFER_EXT, (uint64_t)buffer, &marker));
}
END_TEST

START_TEST(debug_marker_names_and_tags_on_unknown_memory_are_refused) {
    uint32_t tag = 1;
    ck_assert_int_ne(name_object(MEMORY_OBJECT, (uint64_t)stranger, "stranger"), VK_SUCCESS);
    ck_assert_int_ne(tag_object(MEMORY_OBJECT, (uint64_t)stranger, 1, &tag, sizeof tag), VK_SUCCESS);
    assert_only_unknown_memory(2);
    StrictDeviceObjectMarker marker;
    ck_assert(!get_marker(context.device, MEMORY_OBJECT, (uint64_t)stranger, &marker));
    ck_assert_uint_eq(strict_test_counters(&context).debug_marker_calls, 0);
}
END_TEST

/* ---- priorities ---- */

START_TEST(allocation_priority_is_recorded_per_allocation) {
    VkMemoryPriorityAllocateInfoEXT high = {.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT,
                                            .priority = 0.75f};
    VkMemoryAllocateFlagsInfo flags = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO, .pNext = &high};
    VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                 .pNext = &flags,
                                 .allocationSize = 4096,
                                 .memoryTypeIndex = STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL};
    VkDeviceMemory prioritised;
    ck_assert_int_eq(vkAllocateMemory(context.device, &info, NULL, &prioritised), VK_SUCCESS);
    ck_assert_ptr_eq(flags.pNext, &high); /* the caller's chain is as it was */
    VkDeviceMemory plain = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    float priority = 0.0f;
    ck_assert(get_priority(context.device, prioritised, &priority));
    ck_assert_float_eq(priority, 0.75f);
    ck_assert(get_priority(context.device, plain, &priority));
    ck_assert_float_eq(priority, 0.5f);
    ck_assert(!get_priority(context.device, stranger, &priority));
    vkFreeMemory(context.device, prioritised, NULL);
    vkFreeMemory(context.device, plain, NULL);
    ck_assert_uint_eq(strict_test_violations(&context), 0);
}
END_TEST

START_TEST(a_priority_change_on_live_memory_is_recorded) {
    VkDeviceMemory memory = strict_test_allocate(&context, 4096, STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL);
    set_priority(context.device, memory, 0.25f);
    float priority = 0.0f;
    ck_assert(get_priority(context.device, memory, &priority));
    ck_assert_float_eq(priority, 0.25f);
    ck_assert_uint_eq(strict_test_counters(&context).priority_changes, 1);
    ck_assert_uint_eq(strict_test_violations(&context), 0);
    vkFreeMemory(context.device, memory, NULL);
}
END_TEST

START_TEST(a_priority_change_on_unknown_memory_is_refused) {
    set_priority(context.device, stranger, 0.25f);
    assert_only_unknown_memory(1);
    ck_assert_uint_eq(strict_test_counters(&context).priority_changes, 0);
}
END_TEST

Suite *strict_markers_suite(void) {
    Suite *suite = suite_create("markers");
    TCase *offered = tcase_create("offered");
    tcase_set_timeout(offered, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_test(offered, emulated_functions_are_offered_only_when_their_extension_is_enabled);
    tcase_add_test(offered, emulated_features_are_reported);
    suite_add_tcase(suite, offered);

    TCase *recorded = tcase_create("recorded");
    tcase_set_timeout(recorded, STRICT_TEST_TIMEOUT_SECONDS);
    tcase_add_checked_fixture(recorded, open_with_extensions, close_context);
    tcase_add_test(recorded, debug_marker_names_and_tags_on_live_memory_are_recorded);
    tcase_add_test(recorded, debug_marker_names_and_tags_on_unknown_memory_are_refused);
    tcase_add_test(recorded, allocation_priority_is_recorded_per_allocation);
    tcase_add_test(recorded, a_priority_change_on_live_memory_is_recorded);
    tcase_add_test(recorded, a_priority_change_on_unknown_memory_is_refused);
    suite_add_tcase(suite, recorded);
    return suite;
}
