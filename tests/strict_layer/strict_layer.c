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

typedef struct NamedFunction {
    const char *name;
    PFN_vkVoidFunction function;
} NamedFunction;

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL strict_GetInstanceProcAddr(VkInstance instance, const char *name);
VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL strict_GetDeviceProcAddr(VkDevice device, const char *name);

#define FN(name) ((PFN_vkVoidFunction)(name))

static const NamedFunction instance_functions[] = {
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
};

/* A device-level intercept and the slot of StrictDeviceDispatch that holds the
 * next function it calls. Aliases follow their core name, so a core name the
 * driver answers wins and an extension alias fills the slot only otherwise. */
typedef struct DeviceFunction {
    const char *name;
    PFN_vkVoidFunction function;
    size_t next_slot;
} DeviceFunction;

#define NO_SLOT SIZE_MAX
#define SLOT(member) offsetof(StrictDeviceDispatch, member)

static const DeviceFunction device_functions[] = {
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
    {"vkGetBufferMemoryRequirements2KHR", FN(strict_GetBufferMemoryRequirements2),
     SLOT(GetBufferMemoryRequirements2)},
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
    {"vkSetDeviceMemoryPriorityEXT", FN(strict_SetDeviceMemoryPriorityEXT), SLOT(SetDeviceMemoryPriorityEXT)},
    {"vkSetPrivateData", FN(strict_SetPrivateData), SLOT(SetPrivateData)},
    {"vkSetPrivateDataEXT", FN(strict_SetPrivateData), SLOT(SetPrivateData)},
    {"vkGetPrivateData", FN(strict_GetPrivateData), SLOT(GetPrivateData)},
    {"vkGetPrivateDataEXT", FN(strict_GetPrivateData), SLOT(GetPrivateData)},
    /* The control functions of strict_device.h: ours alone, nothing below. */
    {"vkStrictDeviceGetCountersTEST", FN(strict_GetCountersTEST), NO_SLOT},
    {"vkStrictDeviceInjectFaultTEST", FN(strict_InjectFaultTEST), NO_SLOT},
    {"vkStrictDeviceSetAllocationSizeLimitTEST", FN(strict_SetAllocationSizeLimitTEST), NO_SLOT},
    {"vkStrictDeviceIsDriverMemoryTEST", FN(strict_IsDriverMemoryTEST), NO_SLOT},
    {"vkStrictDeviceGetViolationCountTEST", FN(strict_GetViolationCountTEST), NO_SLOT},
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static PFN_vkVoidFunction read_slot(const StrictDeviceDispatch *dispatch, size_t slot)
{
    PFN_vkVoidFunction function;
    memcpy(&function, (const char *)dispatch + slot, sizeof(function));
    return function;
}

void strict_load_device_dispatch(StrictDevice *device, PFN_vkGetDeviceProcAddr next_gdpa)
{
    for (size_t i = 0; i < COUNT_OF(device_functions); i++) {
        size_t slot = device_functions[i].next_slot;
        if (slot == NO_SLOT || read_slot(&device->next, slot))
            continue;
        PFN_vkVoidFunction next = next_gdpa(device->handle, device_functions[i].name);
        memcpy((char *)&device->next + slot, &next, sizeof(next));
    }
    /* The link's GetDeviceProcAddr is the one to use even if the driver's
     * answer for its own name differs. */
    device->next.GetDeviceProcAddr = next_gdpa;
}

static PFN_vkVoidFunction find_instance_function(const char *name)
{
    for (size_t i = 0; i < COUNT_OF(instance_functions); i++) {
        if (strcmp(name, instance_functions[i].name) == 0)
            return instance_functions[i].function;
    }
    return NULL;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL strict_GetInstanceProcAddr(VkInstance instance, const char *name)
{
    if (!name)
        return NULL;
    PFN_vkVoidFunction ours = find_instance_function(name);
    if (ours || !instance)
        return ours;
    StrictInstance *record = strict_registry_instance(instance);
    return record ? record->next.GetInstanceProcAddr(instance, name) : NULL;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL strict_GetDeviceProcAddr(VkDevice handle, const char *name)
{
    StrictDevice *device = strict_registry_device(handle);
    if (!device || !name)
        return NULL;
    for (size_t i = 0; i < COUNT_OF(device_functions); i++) {
        if (strcmp(name, device_functions[i].name) != 0)
            continue;
        size_t slot = device_functions[i].next_slot;
        /* Never offer an entry point the driver does not have. */
        if (slot != NO_SLOT && !read_slot(&device->next, slot))
            return NULL;
        return device_functions[i].function;
    }
    return device->next.GetDeviceProcAddr(handle, name);
}

STRICT_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *version)
{
    if (!version || version->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT || version->loaderLayerInterfaceVersion < 2)
        return VK_ERROR_INITIALIZATION_FAILED;
    version->loaderLayerInterfaceVersion = 2;
    version->pfnGetInstanceProcAddr = strict_GetInstanceProcAddr;
    version->pfnGetDeviceProcAddr = strict_GetDeviceProcAddr;
    version->pfnGetPhysicalDeviceProcAddr = NULL;
    return VK_SUCCESS;
}
