/* SPDX-License-Identifier: Apache-2.0 */
/*
 * suballoc-probe: the smallest Vulkan program that makes the loader build its
 * layer chains, for `suballoc-run --check`. It creates an instance and a
 * device on the first physical device, and prints on stdout what the loader
 * lists and which device it used:
 *
 *   listed <layer name>            one line per vkEnumerateInstanceLayerProperties entry
 *   device <device name>
 *
 * The caller sets VK_LOADER_DEBUG=layer and reads the chains the loader prints
 * on stderr. Exit status: 0 done, 1 no instance, 2 no physical device, 3 no device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <vulkan/vulkan.h>

#include "vk_result_name.h"

static void print_listed_layers(void) {
    uint32_t count = 0;
    if (vkEnumerateInstanceLayerProperties(&count, NULL) != VK_SUCCESS || count == 0) return;
    VkLayerProperties *layers = calloc(count, sizeof *layers);
    if (layers == NULL) return;
    if (vkEnumerateInstanceLayerProperties(&count, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < count; i++) printf("listed %s\n", layers[i].layerName);
    free(layers);
}

int main(void) {
    print_listed_layers();

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "suballoc-probe",
        .apiVersion = VK_API_VERSION_1_1,
    };
    VkInstanceCreateInfo instance_info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance instance;
    VkResult result = vkCreateInstance(&instance_info, NULL, &instance);
    if (result != VK_SUCCESS) {
        fprintf(stderr, "suballoc-probe: vkCreateInstance failed: %s\n", vk_result_name(result));
        return 1;
    }

    VkPhysicalDevice physical = VK_NULL_HANDLE;
    uint32_t count = 1;
    result = vkEnumeratePhysicalDevices(instance, &count, &physical);
    if ((result != VK_SUCCESS && result != VK_INCOMPLETE) || count == 0) {
        fprintf(stderr, "suballoc-probe: no Vulkan device (%s)\n", vk_result_name(result));
        vkDestroyInstance(instance, NULL);
        return 2;
    }
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(physical, &properties);

    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = 0,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo device_info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
    };
    VkDevice device;
    result = vkCreateDevice(physical, &device_info, NULL, &device);
    if (result != VK_SUCCESS) {
        fprintf(stderr, "suballoc-probe: vkCreateDevice on %s failed: %s\n", properties.deviceName,
                vk_result_name(result));
        vkDestroyInstance(instance, NULL);
        return 3;
    }
    printf("device %s\n", properties.deviceName);
    vkDestroyDevice(device, NULL);
    vkDestroyInstance(instance, NULL);
    return 0;
}
