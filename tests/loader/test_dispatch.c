/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_dispatch: the layer costs nothing for calls it does not need.
 *
 * Three devices on one physical device, in one process: one without the layer,
 * one with it, one with it in pass-through mode (all through the real loader,
 * the layer enabled in code). vkGetDeviceProcAddr of a function the layer does
 * not intercept must give the very pointer the device without the layer gets
 * (the next layer's, here the driver's); an intercepted one must differ; a
 * function the driver does not have must stay NULL, not become a layer stub.
 *
 * Real programs also fetch commands through the instance: libplacebo (so mpv
 * and ffmpeg) calls vkSetDebugUtilsObjectNameEXT from vkGetInstanceProcAddr
 * without enabling VK_EXT_debug_utils. With the layer such a call must give what
 * it gives without it. And nothing limits how many instances and devices live.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#include "test_vk.h"
#include "vk_ext_structs.h"
#include "vk_layer_settings_ext.h"

#define LAYER_NAME "VK_LAYER_TRANSPARENT_suballoc"

typedef struct chain {
    VkInstance instance;
    VkDevice device;
} chain;

static chain without_layer, with_layer, passthrough_mode;

static chain make_chain_with(bool layer, const char *mode, bool debug_utils) {
    chain c = {0};
    const char *extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    const char *layers[] = {LAYER_NAME};
    VkLayerSettingEXT setting = {LAYER_NAME, "mode", VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &mode};
    VkLayerSettingsCreateInfoEXT settings = {
        .sType = VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT,
        .settingCount = 1,
        .pSettings = &setting,
    };
    test_vk_instance_info info = {
        .api_version = VK_API_VERSION_1_3,
        .next = mode != NULL ? &settings : NULL,
        .layers = layers,
        .layer_count = layer ? 1 : 0,
        .extensions = extensions,
        .extension_count = debug_utils ? 1 : 0,
    };
    test_vk_instance instance;
    ck_assert_int_eq(test_vk_instance_create(&info, &instance), VK_SUCCESS);
    c.instance = instance.handle;
    VkPhysicalDevice physical;
    uint32_t family;
    ck_assert(test_vk_pick_physical_device(c.instance, 0, &physical, &family));
    ck_assert_int_eq(test_vk_device_create(physical, family, NULL, 0, NULL, &c.device), VK_SUCCESS);
    return c;
}

static chain make_chain(bool layer, const char *mode) { return make_chain_with(layer, mode, false); }

static void destroy_chain(chain *c) {
    vkDestroyDevice(c->device, NULL);
    vkDestroyInstance(c->instance, NULL);
}

static void setup(void) {
    without_layer = make_chain(false, NULL);
    with_layer = make_chain(true, NULL);
    passthrough_mode = make_chain(true, "passthrough");
}

static void teardown(void) {
    destroy_chain(&passthrough_mode);
    destroy_chain(&with_layer);
    destroy_chain(&without_layer);
}

static PFN_vkVoidFunction proc(const chain *c, const char *name) { return vkGetDeviceProcAddr(c->device, name); }

/* Functions nothing about memory: the layer must not stand in between. */
static const char *const untouched[] = {
    "vkCreateBuffer",           "vkCreateImage",   "vkQueueSubmit", "vkCmdDraw", "vkCmdDispatch", "vkCmdCopyBuffer",
    "vkCreateComputePipelines", "vkWaitForFences",
};

/* Functions carrying VkDeviceMemory or memory requirements, and the
 * destruction of buffers and images: the next one may get the handle, whose
 * requirements the layer must stop trusting. (vkDestroyDevice is intercepted
 * too, but the loader always answers it with its own trampoline.) */
static const char *const intercepted[] = {
    "vkAllocateMemory",          "vkFreeMemory",       "vkMapMemory",        "vkUnmapMemory",
    "vkFlushMappedMemoryRanges", "vkBindBufferMemory", "vkBindImageMemory2", "vkGetBufferMemoryRequirements",
    "vkDestroyBuffer",           "vkDestroyImage",
};

START_TEST(functions_the_layer_does_not_need_come_straight_from_the_next_layer) {
    for (size_t i = 0; i < sizeof untouched / sizeof untouched[0]; i++) {
        PFN_vkVoidFunction direct = proc(&without_layer, untouched[i]);
        ck_assert_msg(direct != NULL, "%s missing without the layer", untouched[i]);
        ck_assert_msg(proc(&with_layer, untouched[i]) == direct, "%s goes through the layer", untouched[i]);
    }
}
END_TEST

START_TEST(memory_functions_go_through_the_layer) {
    for (size_t i = 0; i < sizeof intercepted / sizeof intercepted[0]; i++) {
        PFN_vkVoidFunction direct = proc(&without_layer, intercepted[i]);
        PFN_vkVoidFunction layered = proc(&with_layer, intercepted[i]);
        ck_assert_msg(layered != NULL, "%s missing with the layer", intercepted[i]);
        ck_assert_msg(layered != direct, "%s is not intercepted", intercepted[i]);
    }
}
END_TEST

START_TEST(a_function_the_driver_lacks_stays_null) {
    /* Lavapipe 22.3 has neither; the layer intercepts both where they exist. */
    const char *absent[] = {"vkMapMemory2KHR", "vkBindVideoSessionMemoryKHR", "vkBindAccelerationStructureMemoryNV"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        if (proc(&without_layer, absent[i]) != NULL) continue; /* a driver that has it: nothing to prove */
        ck_assert_msg(proc(&with_layer, absent[i]) == NULL, "%s became a layer stub", absent[i]);
    }
}
END_TEST

START_TEST(passthrough_mode_intercepts_only_allocate_and_free) {
    for (size_t i = 0; i < sizeof intercepted / sizeof intercepted[0]; i++) {
        const char *name = intercepted[i];
        bool counted = strcmp(name, "vkAllocateMemory") == 0 || strcmp(name, "vkFreeMemory") == 0;
        PFN_vkVoidFunction direct = proc(&without_layer, name);
        PFN_vkVoidFunction layered = proc(&passthrough_mode, name);
        if (counted) ck_assert_msg(layered != direct, "%s must still be counted in pass-through mode", name);
        else ck_assert_msg(layered == direct, "%s goes through the layer in pass-through mode", name);
    }
}
END_TEST

/* What vkSetDebugUtilsObjectNameEXT, fetched through the device (as libplacebo
 * does) or the instance, returns for a name on the device and on a memory
 * allocation; false when the function is not handed out at all. */
static bool name_objects(const chain *c, bool through_device, VkResult *device_result, VkResult *memory_result) {
    const char *fn = "vkSetDebugUtilsObjectNameEXT";
    PFN_vkSetDebugUtilsObjectNameEXT set_name =
        (PFN_vkSetDebugUtilsObjectNameEXT)(through_device ? vkGetDeviceProcAddr(c->device, fn)
                                                          : vkGetInstanceProcAddr(c->instance, fn));
    if (set_name == NULL) return false;
    VkMemoryAllocateInfo allocate = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = 4096};
    VkDeviceMemory memory;
    ck_assert_int_eq(vkAllocateMemory(c->device, &allocate, NULL, &memory), VK_SUCCESS);
    VkDebugUtilsObjectNameInfoEXT name = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
        .objectType = VK_OBJECT_TYPE_DEVICE,
        .objectHandle = (uint64_t)(uintptr_t)c->device,
        .pObjectName = "device named by libplacebo's pattern",
    };
    *device_result = set_name(c->device, &name);
    name.objectType = VK_OBJECT_TYPE_DEVICE_MEMORY;
    name.objectHandle = (uint64_t)memory;
    name.pObjectName = "memory named by libplacebo's pattern";
    *memory_result = set_name(c->device, &name);
    vkFreeMemory(c->device, memory, NULL);
    return true;
}

static void debug_utils_names_match(bool enable_extension) {
    chain direct = make_chain_with(false, NULL, enable_extension);
    chain layered = make_chain_with(true, NULL, enable_extension);
    for (int through_device = 0; through_device < 2; through_device++) {
        VkResult device_direct, memory_direct, device_layered, memory_layered;
        bool direct_has = name_objects(&direct, through_device, &device_direct, &memory_direct);
        bool layered_has = name_objects(&layered, through_device, &device_layered, &memory_layered);
        ck_assert_msg(layered_has == direct_has, "vkGet%sProcAddr gives %s with the layer, %s without",
                      through_device ? "Device" : "Instance", layered_has ? "a function" : "NULL",
                      direct_has ? "a function" : "NULL");
        if (!direct_has) continue;
        ck_assert_int_eq(device_layered, device_direct);
        ck_assert_int_eq(memory_layered, memory_direct);
    }
    destroy_chain(&layered);
    destroy_chain(&direct);
}

START_TEST(a_debug_utils_name_on_an_instance_with_the_extension_is_answered_as_without_the_layer) {
    debug_utils_names_match(true);
}
END_TEST

START_TEST(a_debug_utils_name_without_the_extension_is_answered_as_without_the_layer) {
    debug_utils_names_match(false);
}
END_TEST

START_TEST(a_device_function_fetched_through_the_instance_never_calls_a_missing_next) {
    /* vkMapMemory2KHR is newer than this loader: vkGetInstanceProcAddr reaches
     * the layer. Lavapipe 22.3 lacks it, so the layer's function must answer a
     * call for driver memory itself rather than call a NULL next pointer. */
    PFN_vkMapMemory2KHR map2 = (PFN_vkMapMemory2KHR)vkGetInstanceProcAddr(with_layer.instance, "vkMapMemory2KHR");
    if (map2 == NULL || vkGetDeviceProcAddr(with_layer.device, "vkMapMemory2KHR") != NULL)
        return; /* nothing to prove */
    VkMemoryAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = 1u << 30, /* above the dedicated threshold: the driver's own handle */
    };
    VkDeviceMemory memory;
    ck_assert_int_eq(vkAllocateMemory(with_layer.device, &allocate, NULL, &memory), VK_SUCCESS);
    VkMemoryMapInfoKHR info = {.sType = VK_STRUCTURE_TYPE_MEMORY_MAP_INFO_KHR, .memory = memory, .size = VK_WHOLE_SIZE};
    void *data = NULL;
    ck_assert_int_eq(map2(with_layer.device, &info, &data), VK_ERROR_EXTENSION_NOT_PRESENT);
    vkFreeMemory(with_layer.device, memory, NULL);
}
END_TEST

/* lavapipe alone makes 100 live instances and 70 live devices; the layer must not
 * cap either (middleware and test runners make one per context). */
#define MANY_INSTANCES 100
#define MANY_DEVICES 70

START_TEST(a_hundred_instances_and_seventy_devices_live_at_once) {
    static chain many[MANY_INSTANCES];
    for (int round = 0; round < 2; round++) { /* twice: the registry empties and fills again */
        for (int i = 0; i < MANY_INSTANCES; i++) {
            if (i < MANY_DEVICES) {
                many[i] = make_chain(true, NULL);
                continue;
            }
            const char *layers[] = {LAYER_NAME};
            VkInstanceCreateInfo info = {
                .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                .enabledLayerCount = 1,
                .ppEnabledLayerNames = layers,
            };
            ck_assert_int_eq(vkCreateInstance(&info, NULL, &many[i].instance), VK_SUCCESS);
            many[i].device = VK_NULL_HANDLE;
        }
        for (int i = 0; i < MANY_DEVICES; i++) { /* every device sub-allocates and frees */
            VkMemoryAllocateInfo allocate = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = 256};
            VkDeviceMemory memory;
            ck_assert_int_eq(vkAllocateMemory(many[i].device, &allocate, NULL, &memory), VK_SUCCESS);
            void *data;
            ck_assert_int_eq(vkMapMemory(many[i].device, memory, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
            ((volatile unsigned char *)data)[255] = (unsigned char)i;
            vkUnmapMemory(many[i].device, memory);
            vkFreeMemory(many[i].device, memory, NULL);
        }
        for (int i = MANY_INSTANCES - 1; i >= 0; i--) {
            if (many[i].device != VK_NULL_HANDLE) vkDestroyDevice(many[i].device, NULL);
            vkDestroyInstance(many[i].instance, NULL);
        }
    }
}
END_TEST

static Suite *dispatch_suite(void) {
    Suite *suite = suite_create("dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300); /* a hundred instances twice: slow under the sanitizers */
    tcase_add_test(tc, functions_the_layer_does_not_need_come_straight_from_the_next_layer);
    tcase_add_test(tc, memory_functions_go_through_the_layer);
    tcase_add_test(tc, a_function_the_driver_lacks_stays_null);
    tcase_add_test(tc, passthrough_mode_intercepts_only_allocate_and_free);
    tcase_add_test(tc, a_debug_utils_name_on_an_instance_with_the_extension_is_answered_as_without_the_layer);
    tcase_add_test(tc, a_debug_utils_name_without_the_extension_is_answered_as_without_the_layer);
    tcase_add_test(tc, a_device_function_fetched_through_the_instance_never_calls_a_missing_next);
    tcase_add_test(tc, a_hundred_instances_and_seventy_devices_live_at_once);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void) {
    SRunner *runner = srunner_create(dispatch_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
