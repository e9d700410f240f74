/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vk_ext_structs.h: extensions newer than the installed Vulkan headers (1.3.239)
 * that carry a VkDeviceMemory. An app built against newer headers may call them,
 * so the layer must translate them even when this build's headers predate them.
 * Each block vanishes once the headers define the extension themselves.
 */
#ifndef SUBALLOC_VK_EXT_STRUCTS_H
#define SUBALLOC_VK_EXT_STRUCTS_H

#include <vulkan/vulkan.h>

#ifndef VK_KHR_map_memory2
#define VK_KHR_map_memory2 1
#define VK_KHR_MAP_MEMORY_2_EXTENSION_NAME "VK_KHR_map_memory2"
#define VK_STRUCTURE_TYPE_MEMORY_MAP_INFO_KHR ((VkStructureType)1000271000)
#define VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO_KHR ((VkStructureType)1000271001)
typedef VkFlags VkMemoryUnmapFlagsKHR;

typedef struct VkMemoryMapInfoKHR {
    VkStructureType sType;
    const void *pNext;
    VkMemoryMapFlags flags;
    VkDeviceMemory memory;
    VkDeviceSize offset;
    VkDeviceSize size;
} VkMemoryMapInfoKHR;

typedef struct VkMemoryUnmapInfoKHR {
    VkStructureType sType;
    const void *pNext;
    VkMemoryUnmapFlagsKHR flags;
    VkDeviceMemory memory;
} VkMemoryUnmapInfoKHR;

typedef VkResult(VKAPI_PTR *PFN_vkMapMemory2KHR)(VkDevice device, const VkMemoryMapInfoKHR *pMemoryMapInfo,
                                                 void **ppData);
typedef VkResult(VKAPI_PTR *PFN_vkUnmapMemory2KHR)(VkDevice device, const VkMemoryUnmapInfoKHR *pMemoryUnmapInfo);
#endif

#endif
