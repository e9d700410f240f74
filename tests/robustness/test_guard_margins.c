/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_guard_margins: with debug_margin set, an app that writes past (or
 * before) one of its mappings is told which allocation did it, exactly once.
 *
 * Sixteen allocations of 4 KiB (a whole number of every pool's granule, so the
 * guard bytes start right at the end), each named with debug utils, mapped and
 * written in full; one of them is also written a few bytes beyond its end (or
 * just before its start). Unmapping and freeing check the guards: exactly one
 * error must come, and it must name that allocation and the side. A run with no
 * overrun must bring no message at all.
 *
 * The test sets VK_TRANSPARENT_SUBALLOC_DEBUG_MARGIN itself, before the
 * instance exists: the layer reads its settings once per instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robust_vk.h"

#define ALLOCATIONS 16u
#define SIZE 4096u
#define VICTIM 7u

typedef enum overrun { NO_OVERRUN, PAST_THE_END, BEFORE_THE_START } overrun;

/* EXPECT, then leave a function that returns a count. */
#define EXPECT_OR_RETURN_ZERO(cond, ...)                         \
    do {                                                         \
        if (!(cond)) {                                           \
            robust_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
            return 0;                                            \
        }                                                        \
    } while (0)

static void name_memory(VkInstance instance, VkDevice device, VkDeviceMemory memory, const char *name) {
    PFN_vkSetDebugUtilsObjectNameEXT set_name =
        (PFN_vkSetDebugUtilsObjectNameEXT)vkGetInstanceProcAddr(instance, "vkSetDebugUtilsObjectNameEXT");
    EXPECT_OR_RETURN(set_name != NULL, "no vkSetDebugUtilsObjectNameEXT");
    VkDebugUtilsObjectNameInfoEXT info = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
        .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
        .objectHandle = (uint64_t)memory,
        .pObjectName = name,
    };
    EXPECT(set_name(device, &info) == VK_SUCCESS, "naming %s", name);
}

/* Runs one round in memory of `type`; returns the layer messages it brought. */
static uint64_t round_in_type(const robust_vk *vk, const robust_device *dev, uint32_t type, overrun kind, char *last,
                              size_t last_size) {
    uint64_t before = robust_layer_message_count();
    VkDeviceMemory memory[ALLOCATIONS];
    for (uint32_t i = 0; i < ALLOCATIONS; i++) {
        EXPECT_OR_RETURN_ZERO(robust_allocate(dev->handle, SIZE, type, &memory[i]) == VK_SUCCESS, "allocation %u", i);
        char name[32];
        snprintf(name, sizeof name, "allocation %u", i);
        name_memory(vk->instance, dev->handle, memory[i], name);
    }
    bool coherent = robust_type_has(vk, type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    for (uint32_t i = 0; i < ALLOCATIONS; i++) {
        uint8_t *data;
        EXPECT_OR_RETURN_ZERO(vkMapMemory(dev->handle, memory[i], 0, VK_WHOLE_SIZE, 0, (void **)&data) == VK_SUCCESS,
                              "map %u", i);
        robust_fill(data, SIZE, i);
        if (i == VICTIM && kind == PAST_THE_END) memset(data + SIZE, 0x5E, 4); /* the bug: past the end */
        if (i == VICTIM && kind == BEFORE_THE_START) data[-2] = 0x5E;          /* the bug: before the start */
        if (!coherent) {
            VkMappedMemoryRange range = {
                .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory[i], .size = VK_WHOLE_SIZE};
            EXPECT(vkFlushMappedMemoryRanges(dev->handle, 1, &range) == VK_SUCCESS, "flush %u", i);
        }
        vkUnmapMemory(dev->handle, memory[i]);
    }
    for (uint32_t i = 0; i < ALLOCATIONS; i++) { /* the app's own bytes are intact: the guards held */
        uint8_t *data;
        EXPECT_OR_RETURN_ZERO(vkMapMemory(dev->handle, memory[i], 0, VK_WHOLE_SIZE, 0, (void **)&data) == VK_SUCCESS,
                              "map %u again", i);
        EXPECT(robust_count_wrong(data, SIZE, i) == 0, "allocation %u lost bytes", i);
        vkUnmapMemory(dev->handle, memory[i]);
        vkFreeMemory(dev->handle, memory[i], NULL);
    }
    robust_last_layer_message(last, last_size);
    return robust_layer_message_count() - before;
}

static void check_type(const robust_vk *vk, const robust_device *dev, uint32_t type) {
    char last[1024];
    uint64_t messages = round_in_type(vk, dev, type, NO_OVERRUN, last, sizeof last);
    EXPECT(messages == 0, "type %u: no overrun brought %llu messages, the last: %s", type, (unsigned long long)messages,
           last);

    messages = round_in_type(vk, dev, type, PAST_THE_END, last, sizeof last);
    EXPECT(messages == 1, "type %u: an overrun past one allocation brought %llu messages (expected 1)", type,
           (unsigned long long)messages);
    EXPECT(strstr(last, "\"allocation 7\"") != NULL && strstr(last, "past the end") != NULL,
           "type %u: the report names the wrong allocation or side: %s", type, last);

    messages = round_in_type(vk, dev, type, BEFORE_THE_START, last, sizeof last);
    EXPECT(messages == 1, "type %u: a write before one allocation brought %llu messages (expected 1)", type,
           (unsigned long long)messages);
    EXPECT(strstr(last, "\"allocation 7\"") != NULL && strstr(last, "before the start") != NULL,
           "type %u: the report names the wrong allocation or side: %s", type, last);
}

int main(void) {
    setenv("VK_TRANSPARENT_SUBALLOC_DEBUG_MARGIN", "256", 1);
    robust_vk vk;
    robust_device dev;
    if (!robust_instance_create(&vk) || !robust_device_create(&vk, &dev)) return 1;
    uint32_t checked = 0;
    for (uint32_t t = 0; t < vk.memory.memoryTypeCount; t++) {
        if (!robust_type_has(&vk, t, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) continue;
        check_type(&vk, &dev, t);
        checked++;
    }
    EXPECT(checked > 0, "no host-visible memory type");
    robust_device_destroy(&dev);
    robust_instance_destroy(&vk);
    printf("guard margins: %u host-visible types: %s\n", checked, robust_failures() == 0 ? "passed" : "FAILED");
    return robust_failures() == 0 ? 0 : 1;
}
