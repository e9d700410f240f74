/* SPDX-License-Identifier: Apache-2.0 */
/*
 * functions.h: the one list of the Vulkan functions the layer deals with.
 *
 * Each function is named once, in the list that says how the layer treats it.
 * Everything else is generated from these lists: the next-layer dispatch tables
 * (layer.h), how they are filled (instance.c, device.c), the prototypes of the
 * layer's own functions (layer.h) and the name tables vkGet*ProcAddr answer
 * from (loader_interface.c). A list entry is X(name), name without "vk".
 *
 * How the layer answers vkGet*ProcAddr for a name:
 *   LOADER_FUNCTIONS         always its own (the loader needs them before any
 *                            instance exists); no next pointer is kept.
 *   INSTANCE_OWN_FUNCTIONS   always its own for a known instance; next pointer
 *                            from the instance chain.
 *   INSTANCE_FUNCTIONS       its own where the next layer has the function too.
 *   INSTANCE_CALLED          never its own: the layer only calls them.
 *   DEVICE_COUNTED           its own where the next layer has it, in either mode
 *                            (pass-through mode still counts allocations).
 *   DEVICE_FUNCTIONS         its own where the next layer has it, when the
 *                            device sub-allocates: everything that carries a
 *                            VkDeviceMemory or reports memory requirements,
 *                            and the destruction of buffers and images (the
 *                            next one may get the handle, memory_allocate.c).
 *   DEVICE_VIA_INSTANCE      the same, for commands of instance extensions that
 *                            take a VkDevice (VK_EXT_debug_utils): their next
 *                            pointer comes from the instance chain, as the
 *                            loader and the Khronos layers fetch them, because
 *                            the next vkGetDeviceProcAddr may return NULL for
 *                            them while the app still calls them.
 *   DEVICE_CALLED            never its own: the layer only calls them.
 * "Where the next layer has it": the layer hands out its function only when
 * the next layer's vkGet*ProcAddr returns one for that name; otherwise it
 * returns what the next layer returned (NULL), as the loader would without it.
 */
#ifndef SUBALLOC_FUNCTIONS_H
#define SUBALLOC_FUNCTIONS_H

#define LOADER_FUNCTIONS(X)                 \
    X(GetInstanceProcAddr)                  \
    X(CreateInstance)                       \
    X(EnumerateInstanceExtensionProperties) \
    X(EnumerateInstanceLayerProperties)     \
    X(EnumerateDeviceLayerProperties)

#define INSTANCE_OWN_FUNCTIONS(X) \
    X(DestroyInstance)            \
    X(CreateDevice)               \
    X(EnumerateDeviceExtensionProperties)

#define INSTANCE_FUNCTIONS(X)          \
    X(GetPhysicalDeviceProperties)     \
    X(GetPhysicalDeviceProperties2)    \
    X(GetPhysicalDeviceProperties2KHR) \
    X(CreateDebugUtilsMessengerEXT)    \
    X(DestroyDebugUtilsMessengerEXT)

#define INSTANCE_CALLED(X)                   \
    X(GetPhysicalDeviceMemoryProperties)     \
    X(GetPhysicalDeviceMemoryProperties2)    \
    X(GetPhysicalDeviceMemoryProperties2KHR) \
    X(GetPhysicalDeviceFeatures)             \
    X(GetPhysicalDeviceFormatProperties)     \
    X(GetPhysicalDeviceImageFormatProperties)

#define DEVICE_COUNTED(X) \
    X(GetDeviceProcAddr)  \
    X(DestroyDevice)      \
    X(AllocateMemory)     \
    X(FreeMemory)

#define DEVICE_FUNCTIONS(X)                   \
    X(MapMemory)                              \
    X(UnmapMemory)                            \
    X(MapMemory2KHR)                          \
    X(UnmapMemory2KHR)                        \
    X(FlushMappedMemoryRanges)                \
    X(InvalidateMappedMemoryRanges)           \
    X(GetDeviceMemoryCommitment)              \
    X(BindBufferMemory)                       \
    X(BindImageMemory)                        \
    X(BindBufferMemory2)                      \
    X(BindBufferMemory2KHR)                   \
    X(BindImageMemory2)                       \
    X(BindImageMemory2KHR)                    \
    X(GetBufferMemoryRequirements)            \
    X(GetImageMemoryRequirements)             \
    X(GetBufferMemoryRequirements2)           \
    X(GetBufferMemoryRequirements2KHR)        \
    X(GetImageMemoryRequirements2)            \
    X(GetImageMemoryRequirements2KHR)         \
    X(GetDeviceBufferMemoryRequirements)      \
    X(GetDeviceBufferMemoryRequirementsKHR)   \
    X(GetDeviceImageMemoryRequirements)       \
    X(GetDeviceImageMemoryRequirementsKHR)    \
    X(QueueBindSparse)                        \
    X(DebugMarkerSetObjectNameEXT)            \
    X(DebugMarkerSetObjectTagEXT)             \
    X(SetPrivateData)                         \
    X(SetPrivateDataEXT)                      \
    X(GetPrivateData)                         \
    X(GetPrivateDataEXT)                      \
    X(SetDeviceMemoryPriorityEXT)             \
    X(GetDeviceMemoryOpaqueCaptureAddress)    \
    X(GetDeviceMemoryOpaqueCaptureAddressKHR) \
    X(BindVideoSessionMemoryKHR)              \
    X(BindAccelerationStructureMemoryNV)      \
    X(GetMemoryFdKHR)                         \
    X(DestroyBuffer)                          \
    X(DestroyImage)

#define DEVICE_VIA_INSTANCE(X)    \
    X(SetDebugUtilsObjectNameEXT) \
    X(SetDebugUtilsObjectTagEXT)

#define DEVICE_CALLED(X)                            \
    X(GetImageSparseMemoryRequirements)             \
    X(GetVideoSessionMemoryRequirementsKHR)         \
    X(GetAccelerationStructureMemoryRequirementsNV) \
    X(CreateBuffer)                                 \
    X(CreateImage)

#endif
