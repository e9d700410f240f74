/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_layer.c: the loader interface of VK_LAYER_TEST_strict_device.
 *
 * Loader/layer interface version 2: the loader asks for our
 * vkGetInstanceProcAddr and vkGetDeviceProcAddr through
 * vkNegotiateLoaderLayerInterfaceVersion, the only exported symbol.
 */
#include <stddef.h>
#include <string.h>

#include "strict_layer_internal.h"

typedef struct named_function {
    const char *name;
    PFN_vkVoidFunction function;
} named_function;

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL strict_GetInstanceProcAddr(VkInstance instance, const char *name);
VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL strict_GetDeviceProcAddr(VkDevice device, const char *name);

#define FN(name) ((PFN_vkVoidFunction)(name))

static const named_function instance_functions[] = {
    {"vkGetInstanceProcAddr", FN(strict_GetInstanceProcAddr)},
    {"vkGetDeviceProcAddr", FN(strict_GetDeviceProcAddr)},
    {"vkCreateInstance", FN(strict_CreateInstance)},
    {"vkDestroyInstance", FN(strict_DestroyInstance)},
    {"vkCreateDevice", FN(strict_CreateDevice)},
    {"vkEnumerateDeviceExtensionProperties", FN(strict_EnumerateDeviceExtensionProperties)},
    {"vkGetPhysicalDeviceProperties", FN(strict_GetPhysicalDeviceProperties)},
    {"vkGetPhysicalDeviceProperties2", FN(strict_GetPhysicalDeviceProperties2)},
    {"vkGetPhysicalDeviceProperties2KHR", FN(strict_GetPhysicalDeviceProperties2)},
    {"vkGetPhysicalDeviceMemoryProperties", FN(strict_GetPhysicalDeviceMemoryProperties)},
    {"vkGetPhysicalDeviceMemoryProperties2", FN(strict_GetPhysicalDeviceMemoryProperties2)},
    {"vkGetPhysicalDeviceMemoryProperties2KHR", FN(strict_GetPhysicalDeviceMemoryProperties2)},
    {"vkGetPhysicalDeviceFeatures", FN(strict_GetPhysicalDeviceFeatures)},
    {"vkGetPhysicalDeviceFeatures2", FN(strict_GetPhysicalDeviceFeatures2)},
    {"vkGetPhysicalDeviceFeatures2KHR", FN(strict_GetPhysicalDeviceFeatures2)},
    {"vkGetPhysicalDeviceQueueFamilyProperties", FN(strict_GetPhysicalDeviceQueueFamilyProperties)},
    {"vkGetPhysicalDeviceQueueFamilyProperties2", FN(strict_GetPhysicalDeviceQueueFamilyProperties2)},
    {"vkGetPhysicalDeviceQueueFamilyProperties2KHR", FN(strict_GetPhysicalDeviceQueueFamilyProperties2)},
    {"vkGetPhysicalDeviceImageFormatProperties", FN(strict_GetPhysicalDeviceImageFormatProperties)},
    {"vkGetPhysicalDeviceImageFormatProperties2", FN(strict_GetPhysicalDeviceImageFormatProperties2)},
    {"vkGetPhysicalDeviceImageFormatProperties2KHR", FN(strict_GetPhysicalDeviceImageFormatProperties2)},
    {"vkGetPhysicalDeviceSparseImageFormatProperties", FN(strict_GetPhysicalDeviceSparseImageFormatProperties)},
    {"vkGetPhysicalDeviceSparseImageFormatProperties2", FN(strict_GetPhysicalDeviceSparseImageFormatProperties2)},
    {"vkGetPhysicalDeviceSparseImageFormatProperties2KHR", FN(strict_GetPhysicalDeviceSparseImageFormatProperties2)},
};

/* A device-level intercept and the slot of strict_device_dispatch that holds the
 * next function it calls. Aliases follow their core name, so a core name the
 * driver answers wins and an extension alias fills the slot only otherwise.
 * A function of an extension the layer emulates is offered when the caller
 * enabled the extension, whether the driver has it or not; one with no
 * function is not intercepted, only fetched for the layer's own calls. */
typedef struct device_function {
    const char *name;
    PFN_vkVoidFunction function;
    size_t next_slot;
    uint32_t emulated_extension; /* a strict_emulated_extension bit, or 0 */
} device_function;

#define NO_SLOT SIZE_MAX
/* The last two fields of a table entry. */
#define SLOT(member) offsetof(strict_device_dispatch, member), 0
#define OURS_ALONE NO_SLOT, 0
#define EMULATED(member, extension) offsetof(strict_device_dispatch, member), (extension)

static const device_function device_functions[] = {
    {"vkGetDeviceProcAddr", FN(strict_GetDeviceProcAddr), SLOT(GetDeviceProcAddr)},
    {"vkDestroyDevice", FN(strict_DestroyDevice), SLOT(DestroyDevice)},
    {"vkAllocateMemory", FN(strict_AllocateMemory), SLOT(AllocateMemory)},
    {"vkFreeMemory", FN(strict_FreeMemory), SLOT(FreeMemory)},
    {"vkMapMemory", FN(strict_MapMemory), SLOT(MapMemory)},
    {"vkUnmapMemory", FN(strict_UnmapMemory), SLOT(UnmapMemory)},
    {"vkFlushMappedMemoryRanges", FN(strict_FlushMappedMemoryRanges), SLOT(FlushMappedMemoryRanges)},
    {"vkInvalidateMappedMemoryRanges", FN(strict_InvalidateMappedMemoryRanges), SLOT(InvalidateMappedMemoryRanges)},
    {"vkCreateBuffer", FN(strict_CreateBuffer), SLOT(CreateBuffer)},
    {"vkDestroyBuffer", FN(strict_DestroyBuffer), SLOT(DestroyBuffer)},
    {"vkCreateImage", FN(strict_CreateImage), SLOT(CreateImage)},
    {"vkDestroyImage", FN(strict_DestroyImage), SLOT(DestroyImage)},
    {"vkBindBufferMemory", FN(strict_BindBufferMemory), SLOT(BindBufferMemory)},
    {"vkBindBufferMemory2", FN(strict_BindBufferMemory2), SLOT(BindBufferMemory2)},
    {"vkBindBufferMemory2KHR", FN(strict_BindBufferMemory2), SLOT(BindBufferMemory2)},
    {"vkBindImageMemory", FN(strict_BindImageMemory), SLOT(BindImageMemory)},
    {"vkBindImageMemory2", FN(strict_BindImageMemory2), SLOT(BindImageMemory2)},
    {"vkBindImageMemory2KHR", FN(strict_BindImageMemory2), SLOT(BindImageMemory2)},
    {"vkGetBufferMemoryRequirements", FN(strict_GetBufferMemoryRequirements), SLOT(GetBufferMemoryRequirements)},
    {"vkGetBufferMemoryRequirements2", FN(strict_GetBufferMemoryRequirements2), SLOT(GetBufferMemoryRequirements2)},
    {"vkGetBufferMemoryRequirements2KHR", FN(strict_GetBufferMemoryRequirements2), SLOT(GetBufferMemoryRequirements2)},
    {"vkGetImageMemoryRequirements", FN(strict_GetImageMemoryRequirements), SLOT(GetImageMemoryRequirements)},
    {"vkGetImageMemoryRequirements2", FN(strict_GetImageMemoryRequirements2), SLOT(GetImageMemoryRequirements2)},
    {"vkGetImageMemoryRequirements2KHR", FN(strict_GetImageMemoryRequirements2), SLOT(GetImageMemoryRequirements2)},
    {"vkGetDeviceBufferMemoryRequirements", FN(strict_GetDeviceBufferMemoryRequirements),
     SLOT(GetDeviceBufferMemoryRequirements)},
    {"vkGetDeviceBufferMemoryRequirementsKHR", FN(strict_GetDeviceBufferMemoryRequirements),
     SLOT(GetDeviceBufferMemoryRequirements)},
    {"vkGetDeviceImageMemoryRequirements", FN(strict_GetDeviceImageMemoryRequirements),
     SLOT(GetDeviceImageMemoryRequirements)},
    {"vkGetDeviceImageMemoryRequirementsKHR", FN(strict_GetDeviceImageMemoryRequirements),
     SLOT(GetDeviceImageMemoryRequirements)},
    {"vkGetMemoryHostPointerPropertiesEXT", FN(strict_GetMemoryHostPointerPropertiesEXT),
     SLOT(GetMemoryHostPointerPropertiesEXT)},
    {"vkGetMemoryFdPropertiesKHR", FN(strict_GetMemoryFdPropertiesKHR), SLOT(GetMemoryFdPropertiesKHR)},
    {"vkGetDeviceMemoryCommitment", FN(strict_GetDeviceMemoryCommitment), SLOT(GetDeviceMemoryCommitment)},
    {"vkGetDeviceMemoryOpaqueCaptureAddress", FN(strict_GetDeviceMemoryOpaqueCaptureAddress),
     SLOT(GetDeviceMemoryOpaqueCaptureAddress)},
    {"vkGetDeviceMemoryOpaqueCaptureAddressKHR", FN(strict_GetDeviceMemoryOpaqueCaptureAddress),
     SLOT(GetDeviceMemoryOpaqueCaptureAddress)},
    {"vkGetMemoryFdKHR", FN(strict_GetMemoryFdKHR), SLOT(GetMemoryFdKHR)},
    {"vkSetDeviceMemoryPriorityEXT", FN(strict_SetDeviceMemoryPriorityEXT),
     EMULATED(SetDeviceMemoryPriorityEXT, STRICT_EXTENSION_PAGEABLE_DEVICE_LOCAL_MEMORY)},
    {"vkDebugMarkerSetObjectNameEXT", FN(strict_DebugMarkerSetObjectNameEXT),
     EMULATED(DebugMarkerSetObjectNameEXT, STRICT_EXTENSION_DEBUG_MARKER)},
    {"vkDebugMarkerSetObjectTagEXT", FN(strict_DebugMarkerSetObjectTagEXT),
     EMULATED(DebugMarkerSetObjectTagEXT, STRICT_EXTENSION_DEBUG_MARKER)},
    {"vkCmdDebugMarkerBeginEXT", FN(strict_CmdDebugMarkerBeginEXT),
     EMULATED(CmdDebugMarkerBeginEXT, STRICT_EXTENSION_DEBUG_MARKER)},
    {"vkCmdDebugMarkerEndEXT", FN(strict_CmdDebugMarkerEndEXT),
     EMULATED(CmdDebugMarkerEndEXT, STRICT_EXTENSION_DEBUG_MARKER)},
    {"vkCmdDebugMarkerInsertEXT", FN(strict_CmdDebugMarkerInsertEXT),
     EMULATED(CmdDebugMarkerInsertEXT, STRICT_EXTENSION_DEBUG_MARKER)},
    /* Sparse binding is the layer's own, never the driver's. */
    {"vkQueueBindSparse", FN(strict_QueueBindSparse), OURS_ALONE},
    {"vkGetImageSparseMemoryRequirements", FN(strict_GetImageSparseMemoryRequirements), OURS_ALONE},
    {"vkGetImageSparseMemoryRequirements2", FN(strict_GetImageSparseMemoryRequirements2), OURS_ALONE},
    {"vkGetImageSparseMemoryRequirements2KHR", FN(strict_GetImageSparseMemoryRequirements2), OURS_ALONE},
    {"vkGetDeviceImageSparseMemoryRequirements", FN(strict_GetDeviceImageSparseMemoryRequirements), OURS_ALONE},
    {"vkGetDeviceImageSparseMemoryRequirementsKHR", FN(strict_GetDeviceImageSparseMemoryRequirements), OURS_ALONE},
    {"vkQueueSubmit", NULL, SLOT(QueueSubmit)},
    /* The host's waits for the device: non-coherent mappings see device writes after them. */
    {"vkWaitForFences", FN(strict_WaitForFences), SLOT(WaitForFences)},
    {"vkGetFenceStatus", FN(strict_GetFenceStatus), SLOT(GetFenceStatus)},
    {"vkQueueWaitIdle", FN(strict_QueueWaitIdle), SLOT(QueueWaitIdle)},
    {"vkDeviceWaitIdle", FN(strict_DeviceWaitIdle), SLOT(DeviceWaitIdle)},
    {"vkWaitSemaphores", FN(strict_WaitSemaphores), SLOT(WaitSemaphores)},
    {"vkWaitSemaphoresKHR", FN(strict_WaitSemaphores), SLOT(WaitSemaphores)},
    {"vkGetSemaphoreCounterValue", FN(strict_GetSemaphoreCounterValue), SLOT(GetSemaphoreCounterValue)},
    {"vkGetSemaphoreCounterValueKHR", FN(strict_GetSemaphoreCounterValue), SLOT(GetSemaphoreCounterValue)},
    {"vkGetEventStatus", FN(strict_GetEventStatus), SLOT(GetEventStatus)},
    {"vkSetPrivateData", FN(strict_SetPrivateData), SLOT(SetPrivateData)},
    {"vkSetPrivateDataEXT", FN(strict_SetPrivateData), SLOT(SetPrivateData)},
    {"vkGetPrivateData", FN(strict_GetPrivateData), SLOT(GetPrivateData)},
    {"vkGetPrivateDataEXT", FN(strict_GetPrivateData), SLOT(GetPrivateData)},
    /* The control functions of strict_device.h: ours alone, nothing below. */
    {"vkStrictDeviceGetCountersTEST", FN(strict_GetCountersTEST), OURS_ALONE},
    {"vkStrictDeviceInjectFaultTEST", FN(strict_InjectFaultTEST), OURS_ALONE},
    {"vkStrictDeviceSetAllocationSizeLimitTEST", FN(strict_SetAllocationSizeLimitTEST), OURS_ALONE},
    {"vkStrictDeviceIsDriverMemoryTEST", FN(strict_IsDriverMemoryTEST), OURS_ALONE},
    {"vkStrictDeviceGetViolationCountTEST", FN(strict_GetViolationCountTEST), OURS_ALONE},
    {"vkStrictDeviceGetSparseBindsTEST", FN(strict_GetSparseBindsTEST), OURS_ALONE},
    {"vkStrictDeviceGetObjectMarkerTEST", FN(strict_GetObjectMarkerTEST), OURS_ALONE},
    {"vkStrictDeviceGetMemoryPriorityTEST", FN(strict_GetMemoryPriorityTEST), OURS_ALONE},
    {"vkStrictDeviceGetBufferBindingTEST", FN(strict_GetBufferBindingTEST), OURS_ALONE},
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static PFN_vkVoidFunction read_slot(const strict_device_dispatch *dispatch, size_t slot) {
    PFN_vkVoidFunction function;
    memcpy(&function, (const char *)dispatch + slot, sizeof(function));
    return function;
}

void strict_load_device_dispatch(strict_device *device, PFN_vkGetDeviceProcAddr next_gdpa) {
    for (size_t i = 0; i < COUNT_OF(device_functions); i++) {
        size_t slot = device_functions[i].next_slot;
        if (slot == NO_SLOT || read_slot(&device->next, slot)) continue;
        PFN_vkVoidFunction next = next_gdpa(device->handle, device_functions[i].name);
        memcpy((char *)&device->next + slot, &next, sizeof(next));
    }
    /* The link's GetDeviceProcAddr is the one to use even if the driver's
     * answer for its own name differs. */
    device->next.GetDeviceProcAddr = next_gdpa;
}

static PFN_vkVoidFunction find_instance_function(const char *name) {
    for (size_t i = 0; i < COUNT_OF(instance_functions); i++) {
        if (strcmp(name, instance_functions[i].name) == 0) return instance_functions[i].function;
    }
    return NULL;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL strict_GetInstanceProcAddr(VkInstance instance, const char *name) {
    if (!name) return NULL;
    PFN_vkVoidFunction ours = find_instance_function(name);
    if (ours || !instance) return ours;
    strict_instance *record = strict_registry_instance(instance);
    return record ? record->next.GetInstanceProcAddr(instance, name) : NULL;
}

/* Never an entry point the driver does not have, unless the layer emulates it. */
static bool offered(const strict_device *device, const device_function *function) {
    if (function->emulated_extension) return (device->enabled_extensions & function->emulated_extension) != 0;
    return function->next_slot == NO_SLOT || read_slot(&device->next, function->next_slot);
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL strict_GetDeviceProcAddr(VkDevice handle, const char *name) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !name) return NULL;
    for (size_t i = 0; i < COUNT_OF(device_functions); i++) {
        if (strcmp(name, device_functions[i].name) != 0) continue;
        if (!device_functions[i].function) break;
        return offered(device, &device_functions[i]) ? device_functions[i].function : NULL;
    }
    return device->next.GetDeviceProcAddr(handle, name);
}

STRICT_EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *version) {
    if (!version || version->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT || version->loaderLayerInterfaceVersion < 2)
        return VK_ERROR_INITIALIZATION_FAILED;
    version->loaderLayerInterfaceVersion = 2;
    version->pfnGetInstanceProcAddr = strict_GetInstanceProcAddr;
    version->pfnGetDeviceProcAddr = strict_GetDeviceProcAddr;
    version->pfnGetPhysicalDeviceProcAddr = NULL;
    return VK_SUCCESS;
}
