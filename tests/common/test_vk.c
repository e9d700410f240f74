/* SPDX-License-Identifier: Apache-2.0 */
/* test_vk: instances, messengers, devices and extension lookups for the tests. */
#include "test_vk.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EXTENSIONS 32

static uint32_t loader_api_version(void) {
    uint32_t version = VK_API_VERSION_1_0;
    PFN_vkEnumerateInstanceVersion enumerate =
        (PFN_vkEnumerateInstanceVersion)vkGetInstanceProcAddr(NULL, "vkEnumerateInstanceVersion");
    if (enumerate != NULL) enumerate(&version);
    return version < VK_API_VERSION_1_3 ? version : VK_API_VERSION_1_3;
}

VkResult test_vk_instance_create(const test_vk_instance_info *info, test_vk_instance *out) {
    memset(out, 0, sizeof *out);
    if (info->extension_count + 1 > MAX_EXTENSIONS) return VK_ERROR_EXTENSION_NOT_PRESENT;
    const char *extensions[MAX_EXTENSIONS];
    uint32_t extension_count = 0;
    if (info->messenger != NULL) extensions[extension_count++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    for (uint32_t i = 0; i < info->extension_count; i++) extensions[extension_count++] = info->extensions[i];

    VkDebugUtilsMessengerCreateInfoEXT messenger = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .pNext = info->next,
        .messageSeverity = info->severities != 0 ? info->severities
                                                 : VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                                       VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = info->types != 0 ? info->types
                                        : VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                              VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                              VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = info->messenger,
        .pUserData = info->messenger_user,
    };
    out->api_version = info->api_version != 0 ? info->api_version : loader_api_version();
    VkApplicationInfo application = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = info->application,
        .apiVersion = out->api_version,
    };
    VkInstanceCreateInfo create = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = info->messenger != NULL ? (const void *)&messenger : info->next,
        .pApplicationInfo = &application,
        .enabledLayerCount = info->layer_count,
        .ppEnabledLayerNames = info->layers,
        .enabledExtensionCount = extension_count,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult result = vkCreateInstance(&create, NULL, &out->handle);
    if (result != VK_SUCCESS) {
        memset(out, 0, sizeof *out);
        return result;
    }
    if (info->messenger != NULL) {
        messenger.pNext = NULL;
        PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(out->handle, "vkCreateDebugUtilsMessengerEXT");
        result = create_messenger != NULL ? create_messenger(out->handle, &messenger, NULL, &out->messenger)
                                          : VK_ERROR_EXTENSION_NOT_PRESENT;
        if (result != VK_SUCCESS) {
            vkDestroyInstance(out->handle, NULL);
            memset(out, 0, sizeof *out);
        }
    }
    return result;
}

void test_vk_instance_destroy(test_vk_instance *instance) {
    if (instance->handle == VK_NULL_HANDLE) return;
    if (instance->messenger != VK_NULL_HANDLE) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            instance->handle, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy != NULL) destroy(instance->handle, instance->messenger, NULL);
    }
    vkDestroyInstance(instance->handle, NULL);
    memset(instance, 0, sizeof *instance);
}

bool test_vk_is_loader_message(const VkDebugUtilsMessengerCallbackDataEXT *data) {
    return data->pMessageIdName != NULL && strcmp(data->pMessageIdName, "Loader Message") == 0;
}

uint32_t test_vk_queue_family(VkPhysicalDevice physical, VkQueueFlags queue_flags) {
    VkQueueFamilyProperties families[16];
    uint32_t count = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &count, families);
    for (uint32_t i = 0; i < count; i++)
        if ((families[i].queueFlags & queue_flags) == queue_flags) return i;
    return UINT32_MAX;
}

bool test_vk_pick_physical_device(VkInstance instance, VkQueueFlags queue_flags, VkPhysicalDevice *physical,
                                  uint32_t *queue_family) {
    VkPhysicalDevice devices[16];
    uint32_t count = 16;
    VkResult result = vkEnumeratePhysicalDevices(instance, &count, devices);
    if (result != VK_SUCCESS && result != VK_INCOMPLETE) return false;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t family = test_vk_queue_family(devices[i], queue_flags);
        if (family == UINT32_MAX) continue;
        *physical = devices[i];
        *queue_family = family;
        return true;
    }
    return false;
}

VkResult test_vk_device_create(VkPhysicalDevice physical, uint32_t queue_family, const char *const *extensions,
                               uint32_t extension_count, const void *next, VkDevice *out) {
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = next,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
        .enabledExtensionCount = extension_count,
        .ppEnabledExtensionNames = extensions,
    };
    *out = VK_NULL_HANDLE;
    return vkCreateDevice(physical, &info, NULL, out);
}

static bool listed(const VkExtensionProperties *list, uint32_t count, const char *name) {
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(list[i].extensionName, name) == 0) return true;
    return false;
}

bool test_vk_has_instance_extension(const char *name) {
    uint32_t count = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &count, NULL) != VK_SUCCESS || count == 0) return false;
    VkExtensionProperties *list = calloc(count, sizeof *list);
    bool found = list != NULL && vkEnumerateInstanceExtensionProperties(NULL, &count, list) == VK_SUCCESS &&
                 listed(list, count, name);
    free(list);
    return found;
}

bool test_vk_has_device_extension(VkPhysicalDevice physical, const char *name) {
    uint32_t count = 0;
    if (vkEnumerateDeviceExtensionProperties(physical, NULL, &count, NULL) != VK_SUCCESS || count == 0) return false;
    VkExtensionProperties *list = calloc(count, sizeof *list);
    bool found = list != NULL && vkEnumerateDeviceExtensionProperties(physical, NULL, &count, list) == VK_SUCCESS &&
                 listed(list, count, name);
    free(list);
    return found;
}
