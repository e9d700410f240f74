/*
 * test_dispatch: the layer costs nothing for calls it does not need.
 *
 * Three devices on one physical device, in one process: one without the layer,
 * one with it, one with it in pass-through mode (all through the real loader,
 * the layer enabled in code). vkGetDeviceProcAddr of a function the layer does
 * not intercept must give the very pointer the device without the layer gets
 * (the next layer's, here the driver's); an intercepted one must differ; a
 * function the driver does not have must stay NULL, not become a layer stub.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#include "vk_layer_settings_ext.h"

#define LAYER_NAME "VK_LAYER_TRANSPARENT_suballoc"

typedef struct chain {
    VkInstance instance;
    VkDevice device;
} chain;

static chain without_layer, with_layer, passthrough_mode;

static chain make_chain(bool layer, const char *mode) {
    chain c = {0};
    const char *layers[] = {LAYER_NAME};
    VkLayerSettingEXT setting = {LAYER_NAME, "mode", VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &mode};
    VkLayerSettingsCreateInfoEXT settings = {
        .sType = VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT,
        .settingCount = 1,
        .pSettings = &setting,
    };
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3};
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = mode != NULL ? &settings : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = layer ? 1 : 0,
        .ppEnabledLayerNames = layers,
    };
    ck_assert_int_eq(vkCreateInstance(&info, NULL, &c.instance), VK_SUCCESS);

    uint32_t count = 1;
    VkPhysicalDevice physical;
    VkResult enumerated = vkEnumeratePhysicalDevices(c.instance, &count, &physical);
    ck_assert(enumerated == VK_SUCCESS || enumerated == VK_INCOMPLETE);
    ck_assert_uint_ge(count, 1);
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo device_info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
    };
    ck_assert_int_eq(vkCreateDevice(physical, &device_info, NULL, &c.device), VK_SUCCESS);
    return c;
}

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
    "vkCreateBuffer", "vkDestroyBuffer", "vkCreateImage", "vkQueueSubmit", "vkCmdDraw",
    "vkCmdDispatch", "vkCmdCopyBuffer", "vkCreateComputePipelines", "vkWaitForFences",
};

/* Functions carrying VkDeviceMemory or memory requirements. (vkDestroyDevice is
 * intercepted too, but the loader always answers it with its own trampoline.) */
static const char *const intercepted[] = {
    "vkAllocateMemory", "vkFreeMemory", "vkMapMemory", "vkUnmapMemory", "vkFlushMappedMemoryRanges",
    "vkBindBufferMemory", "vkBindImageMemory2", "vkGetBufferMemoryRequirements",
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
        if (counted)
            ck_assert_msg(layered != direct, "%s must still be counted in pass-through mode", name);
        else
            ck_assert_msg(layered == direct, "%s goes through the layer in pass-through mode", name);
    }
}
END_TEST

static Suite *dispatch_suite(void) {
    Suite *suite = suite_create("dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, functions_the_layer_does_not_need_come_straight_from_the_next_layer);
    tcase_add_test(tc, memory_functions_go_through_the_layer);
    tcase_add_test(tc, a_function_the_driver_lacks_stays_null);
    tcase_add_test(tc, passthrough_mode_intercepts_only_allocate_and_free);
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
