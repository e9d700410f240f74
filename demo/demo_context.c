/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo_context: instance and device setup for the demo, written like an
 * ordinary app: it knows nothing about the layer.
 */
#include "demo_context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void demo_fail_vk(const char *what, VkResult result) {
    fprintf(stderr, "suballoc-demo: %s failed: %s (%d)\n", what, vk_result_name(result), (int)result);
    exit(1);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL report_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    demo_context *ctx = user;
    bool is_error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    bool from_loader = data->pMessageIdName && strcmp(data->pMessageIdName, "Loader Message") == 0;
    /* The loader's warnings (e.g. "VK_INSTANCE_LAYERS adds a layer") are about the
     * environment, not about this app. */
    if (from_loader && !is_error) return VK_FALSE;
    bool is_warning = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
    if (is_error || (is_warning && (types & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT)))
        atomic_fetch_add(&ctx->problems, 1);
    fprintf(stderr, "suballoc-demo: %s: [%s] %s\n",
            is_error     ? "error"
            : is_warning ? "warning"
                         : "info",
            data->pMessageIdName ? data->pMessageIdName : "-", data->pMessage ? data->pMessage : "");
    return VK_FALSE;
}

static bool instance_has_extension(const char *name) {
    uint32_t count = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &count, NULL) != VK_SUCCESS || count == 0) return false;
    VkExtensionProperties *props = calloc(count, sizeof *props);
    bool found = false;
    if (props && vkEnumerateInstanceExtensionProperties(NULL, &count, props) == VK_SUCCESS) {
        for (uint32_t i = 0; i < count && !found; i++) found = strcmp(props[i].extensionName, name) == 0;
    }
    free(props);
    return found;
}

static VkDebugUtilsMessengerCreateInfoEXT messenger_info(demo_context *ctx) {
    return (VkDebugUtilsMessengerCreateInfoEXT){
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                           (ctx->verbose ? VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT : 0),
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = report_message,
        .pUserData = ctx,
    };
}

static bool create_instance(demo_context *ctx) {
    bool debug_utils = instance_has_extension(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    const char *extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkDebugUtilsMessengerCreateInfoEXT messenger = messenger_info(ctx);
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "suballoc-demo",
        .apiVersion = VK_API_VERSION_1_1,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = debug_utils ? &messenger : NULL,
        .pApplicationInfo = &app,
        .enabledExtensionCount = debug_utils ? 1 : 0,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult result = vkCreateInstance(&info, NULL, &ctx->instance);
    if (result != VK_SUCCESS) {
        fprintf(stderr, "suballoc-demo: vkCreateInstance failed: %s (is a Vulkan driver installed?)\n",
                vk_result_name(result));
        return false;
    }
    if (debug_utils) {
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(ctx->instance, "vkCreateDebugUtilsMessengerEXT");
        if (create) DEMO_CHECK(create(ctx->instance, &messenger, NULL, &ctx->messenger));
    }
    return true;
}

static bool pick_physical_device(demo_context *ctx, uint32_t device_index) {
    uint32_t count = 0;
    DEMO_CHECK(vkEnumeratePhysicalDevices(ctx->instance, &count, NULL));
    if (device_index >= count) {
        fprintf(stderr, "suballoc-demo: no Vulkan device #%u (found %u)\n", device_index, count);
        return false;
    }
    VkPhysicalDevice *devices = calloc(count, sizeof *devices);
    if (!devices) demo_fail_vk("calloc", VK_ERROR_OUT_OF_HOST_MEMORY);
    VkResult result = vkEnumeratePhysicalDevices(ctx->instance, &count, devices);
    if (result != VK_SUCCESS && result != VK_INCOMPLETE) demo_fail_vk("vkEnumeratePhysicalDevices", result);
    ctx->physical = devices[device_index];
    free(devices);
    vkGetPhysicalDeviceProperties(ctx->physical, &ctx->properties);
    vkGetPhysicalDeviceMemoryProperties(ctx->physical, &ctx->memory);
    return true;
}

static bool pick_compute_queue(demo_context *ctx) {
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &count, NULL);
    VkQueueFamilyProperties families[64];
    if (count > 64) count = 64;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &count, families);
    for (uint32_t i = 0; i < count; i++) {
        if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            ctx->queue_family = i;
            return true;
        }
    }
    fprintf(stderr, "suballoc-demo: %s has no compute queue\n", ctx->properties.deviceName);
    return false;
}

bool demo_context_create(demo_context *ctx, uint32_t device_index, bool verbose) {
    memset(ctx, 0, sizeof *ctx);
    atomic_init(&ctx->problems, 0);
    ctx->verbose = verbose;
    if (!create_instance(ctx) || !pick_physical_device(ctx, device_index) || !pick_compute_queue(ctx)) return false;
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = ctx->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
    };
    DEMO_CHECK(vkCreateDevice(ctx->physical, &info, NULL, &ctx->device));
    vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    return true;
}

void demo_context_destroy(demo_context *ctx) {
    if (ctx->device) vkDestroyDevice(ctx->device, NULL);
    if (ctx->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy) destroy(ctx->instance, ctx->messenger, NULL);
    }
    if (ctx->instance) vkDestroyInstance(ctx->instance, NULL);
    ctx->device = VK_NULL_HANDLE;
    ctx->messenger = VK_NULL_HANDLE;
    ctx->instance = VK_NULL_HANDLE; /* problems stays readable: destruction can report more */
}

uint32_t demo_memory_type(const demo_context *ctx, uint32_t type_bits, VkMemoryPropertyFlags want,
                          VkMemoryPropertyFlags fallback) {
    const VkMemoryPropertyFlags tries[2] = {want, fallback};
    for (int t = 0; t < 2; t++) {
        for (uint32_t i = 0; i < ctx->memory.memoryTypeCount; i++) {
            VkMemoryPropertyFlags flags = ctx->memory.memoryTypes[i].propertyFlags;
            if ((type_bits & (1u << i)) && (flags & tries[t]) == tries[t]) return i;
        }
    }
    return UINT32_MAX;
}
