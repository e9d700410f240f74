/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vk_layer_settings_ext.h: VK_EXT_layer_settings (spec version 2), for headers
 * that predate it (the installed 1.3.239 headers do).
 *
 * An app configures a layer in code by chaining VkLayerSettingsCreateInfoEXT
 * into VkInstanceCreateInfo. The layer reads it, so it needs the structures even
 * when built against older headers. The block vanishes once the headers define
 * the extension themselves, so newer headers take over without a clash.
 */
#ifndef SUBALLOC_VK_LAYER_SETTINGS_EXT_H
#define SUBALLOC_VK_LAYER_SETTINGS_EXT_H

#include <vulkan/vulkan.h>

#ifndef VK_EXT_layer_settings
#define VK_EXT_layer_settings 1
#define VK_EXT_LAYER_SETTINGS_SPEC_VERSION 2
#define VK_EXT_LAYER_SETTINGS_EXTENSION_NAME "VK_EXT_layer_settings"
#define VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT ((VkStructureType)1000496000)

typedef enum VkLayerSettingTypeEXT {
    VK_LAYER_SETTING_TYPE_BOOL32_EXT = 0,
    VK_LAYER_SETTING_TYPE_INT32_EXT = 1,
    VK_LAYER_SETTING_TYPE_INT64_EXT = 2,
    VK_LAYER_SETTING_TYPE_UINT32_EXT = 3,
    VK_LAYER_SETTING_TYPE_UINT64_EXT = 4,
    VK_LAYER_SETTING_TYPE_FLOAT32_EXT = 5,
    VK_LAYER_SETTING_TYPE_FLOAT64_EXT = 6,
    VK_LAYER_SETTING_TYPE_STRING_EXT = 7,
    VK_LAYER_SETTING_TYPE_MAX_ENUM_EXT = 0x7FFFFFFF
} VkLayerSettingTypeEXT;

/* pValues points to valueCount values of the type: VkBool32, int32_t, int64_t,
 * uint32_t, uint64_t, float, double, or const char * (one string per value). */
typedef struct VkLayerSettingEXT {
    const char *pLayerName;
    const char *pSettingName;
    VkLayerSettingTypeEXT type;
    uint32_t valueCount;
    const void *pValues;
} VkLayerSettingEXT;

typedef struct VkLayerSettingsCreateInfoEXT {
    VkStructureType sType;
    const void *pNext;
    uint32_t settingCount;
    const VkLayerSettingEXT *pSettings;
} VkLayerSettingsCreateInfoEXT;
#endif

#endif
