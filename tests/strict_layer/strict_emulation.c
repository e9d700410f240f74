/* SPDX-License-Identifier: Apache-2.0 */
/* strict_emulation.c: the device extensions and features the layer offers on
 * top of the driver, and the VkDeviceCreateInfo the driver gets instead of the
 * caller's: without the emulated extensions it lacks, their feature
 * structures, or the sparse features (sparse binding is always emulated). */
#include <stdlib.h>
#include <string.h>

#include "strict_layer_internal.h"

const VkExtensionProperties strict_emulated_extensions[STRICT_EMULATED_EXTENSION_COUNT] = {
    {VK_EXT_MEMORY_BUDGET_EXTENSION_NAME, VK_EXT_MEMORY_BUDGET_SPEC_VERSION},
    {VK_EXT_DEBUG_MARKER_EXTENSION_NAME, VK_EXT_DEBUG_MARKER_SPEC_VERSION},
    {VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME, VK_EXT_MEMORY_PRIORITY_SPEC_VERSION},
    {VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_SPEC_VERSION},
};

uint32_t strict_emulated_extension_bit(const char *name) {
    for (uint32_t i = 0; i < STRICT_EMULATED_EXTENSION_COUNT; i++) {
        if (strcmp(name, strict_emulated_extensions[i].extensionName) == 0) return 1u << i;
    }
    return 0;
}

/* The feature structure of each emulated extension that has one. */
static const struct {
    uint32_t extension_bit;
    VkStructureType features;
} emulated_feature_structures[] = {
    {STRICT_EXTENSION_MEMORY_PRIORITY, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT},
    {STRICT_EXTENSION_PAGEABLE_DEVICE_LOCAL_MEMORY,
     VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT},
};

static bool keep_names_for_driver(strict_physical_device *physical, const VkDeviceCreateInfo *info,
                                  strict_driver_device_info *out) {
    out->names = calloc(info->enabledExtensionCount + 1, sizeof(*out->names));
    if (!out->names) return false;
    out->info.enabledExtensionCount = 0;
    for (uint32_t i = 0; i < info->enabledExtensionCount; i++) {
        const char *name = info->ppEnabledExtensionNames[i];
        uint32_t bit = strict_emulated_extension_bit(name);
        out->enabled_extensions |= bit;
        if (bit == 0 || strict_driver_has(physical, bit)) out->names[out->info.enabledExtensionCount++] = name;
    }
    out->info.ppEnabledExtensionNames = out->names;
    return true;
}

static void clear_sparse_features(VkPhysicalDeviceFeatures *features) {
    features->sparseBinding = VK_FALSE;
    features->sparseResidencyBuffer = VK_FALSE;
    features->sparseResidencyImage2D = VK_FALSE;
}

static bool hide_emulated_features(strict_physical_device *physical, strict_driver_device_info *out) {
    if (out->info.pEnabledFeatures) {
        out->features = *out->info.pEnabledFeatures;
        clear_sparse_features(&out->features);
        out->info.pEnabledFeatures = &out->features;
    }
    const VkPhysicalDeviceFeatures2 *features2 =
        strict_chain_find(out->info.pNext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
    if (features2) {
        out->features2 = *features2;
        clear_sparse_features(&out->features2.features);
        if (!strict_chain_replace(&out->edit, &out->info, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                  &out->features2))
            return false;
    }
    for (size_t i = 0; i < sizeof(emulated_feature_structures) / sizeof(emulated_feature_structures[0]); i++) {
        if (strict_driver_has(physical, emulated_feature_structures[i].extension_bit)) continue;
        if (!strict_chain_remove(&out->edit, &out->info, emulated_feature_structures[i].features)) return false;
    }
    return true;
}

bool strict_driver_device_info_make(strict_physical_device *physical, const VkDeviceCreateInfo *info,
                                    strict_driver_device_info *out) {
    memset(out, 0, sizeof(*out));
    out->info = *info;
    if (keep_names_for_driver(physical, info, out) && hide_emulated_features(physical, out)) return true;
    strict_driver_device_info_finish(out);
    return false;
}

void strict_driver_device_info_finish(strict_driver_device_info *made) {
    strict_chain_restore(&made->edit);
    free(made->names);
    made->names = NULL;
}
