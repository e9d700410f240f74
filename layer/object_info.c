/* SPDX-License-Identifier: Apache-2.0 */
/*
 * object_info.c: the entry points that name a VkDeviceMemory without binding it:
 * debug names and tags, private data, commitment, priority, opaque capture
 * addresses, fd export.
 *
 * A layer handle must never reach the driver, which would read it as one of its
 * own objects. Where a call describes one app allocation (a name, private data)
 * the layer answers it itself; where the block's answer holds for the slice too
 * (the opaque address, plus the slice offset) the layer asks about the block.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct private_data_entry {
    uint64_t object;
    VkPrivateDataSlot slot;
    uint64_t data;
    struct private_data_entry *next;
};

/* A live layer handle named by a call, or NULL (driver handle, or logged misuse). */
static suballoc_memory *named_layer_memory(suballoc_device *device, const char *caller, uint64_t object,
                                           bool *invalid) {
    return layer_memory_of(device, caller, (VkDeviceMemory)object, invalid);
}

VKAPI_ATTR void VKAPI_CALL layer_GetDeviceMemoryCommitment(VkDevice handle, VkDeviceMemory memory,
                                                           VkDeviceSize *committed) {
    suballoc_device *device = DEVICE_OF(handle);
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, "vkGetDeviceMemoryCommitment", memory, &invalid);
    if (invalid) {
        *committed = 0;
        return;
    }
    if (record == NULL) {
        device->next.GetDeviceMemoryCommitment(handle, memory, committed);
        return;
    }
    *committed = record->size; /* lazily allocated memory is never sub-allocated: all of it is committed */
}

/* ---- debug names and tags ------------------------------------------------------------- */

/* The swap happens under the pool lock: the JSON dump reads names from another thread. */
static void set_name(suballoc_memory *record, const char *name) {
    char *copy = (name != NULL && name[0] != '\0') ? strdup(name) : NULL;
    pool_lock_acquire(&record->pool->lock);
    char *old = record->debug_name;
    record->debug_name = copy;
    pool_lock_release(&record->pool->lock);
    free(old);
}

/* A name or tag given to a layer handle stays with the layer: no tool below can
 * see a slice, and the driver must never see the handle. The layer keeps the
 * name for its leak reports. Returns false when the object is not a layer
 * handle and the call must go down (a name of pass-through memory is noted
 * for the JSON dump on the way). */
static bool keep_name_or_tag(suballoc_device *device, const char *caller, uint64_t object, bool is_name,
                             const char *name, VkResult *result) {
    bool invalid;
    suballoc_memory *record = named_layer_memory(device, caller, object, &invalid);
    if (invalid) {
        *result = VK_ERROR_UNKNOWN;
        return true;
    }
    if (record == NULL) {
        if (is_name && device->json != NULL) passthrough_set_name(&device->passthrough, (VkDeviceMemory)object, name);
        return false;
    }
    if (is_name) set_name(record, name);
    *result = VK_SUCCESS;
    return true;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_SetDebugUtilsObjectNameEXT(VkDevice handle,
                                                                const VkDebugUtilsObjectNameInfoEXT *info) {
    suballoc_device *device = DEVICE_OF(handle);
    VkResult result;
    if (info->objectType == VK_OBJECT_TYPE_DEVICE_MEMORY &&
        keep_name_or_tag(device, "vkSetDebugUtilsObjectNameEXT", info->objectHandle, true, info->pObjectName, &result))
        return result;
    RETURN_IF_NEXT_MISSING(device, device->next.SetDebugUtilsObjectNameEXT, "vkSetDebugUtilsObjectNameEXT", VK_SUCCESS);
    return device->next.SetDebugUtilsObjectNameEXT(handle, info);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_SetDebugUtilsObjectTagEXT(VkDevice handle,
                                                               const VkDebugUtilsObjectTagInfoEXT *info) {
    suballoc_device *device = DEVICE_OF(handle);
    VkResult result;
    if (info->objectType == VK_OBJECT_TYPE_DEVICE_MEMORY &&
        keep_name_or_tag(device, "vkSetDebugUtilsObjectTagEXT", info->objectHandle, false, NULL, &result))
        return result;
    RETURN_IF_NEXT_MISSING(device, device->next.SetDebugUtilsObjectTagEXT, "vkSetDebugUtilsObjectTagEXT", VK_SUCCESS);
    return device->next.SetDebugUtilsObjectTagEXT(handle, info);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_DebugMarkerSetObjectNameEXT(VkDevice handle,
                                                                 const VkDebugMarkerObjectNameInfoEXT *info) {
    suballoc_device *device = DEVICE_OF(handle);
    VkResult result;
    if (info->objectType == VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT &&
        keep_name_or_tag(device, "vkDebugMarkerSetObjectNameEXT", info->object, true, info->pObjectName, &result))
        return result;
    RETURN_IF_NEXT_MISSING(device, device->next.DebugMarkerSetObjectNameEXT, "vkDebugMarkerSetObjectNameEXT",
                           VK_ERROR_EXTENSION_NOT_PRESENT);
    return device->next.DebugMarkerSetObjectNameEXT(handle, info);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_DebugMarkerSetObjectTagEXT(VkDevice handle,
                                                                const VkDebugMarkerObjectTagInfoEXT *info) {
    suballoc_device *device = DEVICE_OF(handle);
    VkResult result;
    if (info->objectType == VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT &&
        keep_name_or_tag(device, "vkDebugMarkerSetObjectTagEXT", info->object, false, NULL, &result))
        return result;
    RETURN_IF_NEXT_MISSING(device, device->next.DebugMarkerSetObjectTagEXT, "vkDebugMarkerSetObjectTagEXT",
                           VK_ERROR_EXTENSION_NOT_PRESENT);
    return device->next.DebugMarkerSetObjectTagEXT(handle, info);
}

/* ---- private data on layer handles ------------------------------------------------------ */

static struct private_data_entry **find_entry(suballoc_device *device, uint64_t object, VkPrivateDataSlot slot) {
    struct private_data_entry **p = &device->private_data;
    while (*p != NULL && !((*p)->object == object && (*p)->slot == slot)) p = &(*p)->next;
    return p;
}

static VkResult set_private_data(suballoc_device *device, VkObjectType type, uint64_t object, VkPrivateDataSlot slot,
                                 uint64_t data, PFN_vkSetPrivateData next) {
    VkDevice handle = device->handle;
    RETURN_IF_NEXT_MISSING(device, next, "vkSetPrivateData", VK_ERROR_EXTENSION_NOT_PRESENT);
    if (type != VK_OBJECT_TYPE_DEVICE_MEMORY) return next(handle, type, object, slot, data);
    bool invalid;
    suballoc_memory *record = named_layer_memory(device, "vkSetPrivateData", object, &invalid);
    if (invalid) return VK_ERROR_UNKNOWN;
    if (record == NULL) return next(handle, type, object, slot, data);

    VkResult result = VK_SUCCESS;
    pthread_mutex_lock(&device->private_data_lock);
    struct private_data_entry **p = find_entry(device, object, slot);
    if (*p == NULL) *p = calloc(1, sizeof **p);
    if (*p == NULL) {
        result = VK_ERROR_OUT_OF_HOST_MEMORY;
    } else {
        (*p)->object = object;
        (*p)->slot = slot;
        (*p)->data = data;
        record->has_private_data = true;
    }
    pthread_mutex_unlock(&device->private_data_lock);
    return result;
}

static void get_private_data(suballoc_device *device, VkObjectType type, uint64_t object, VkPrivateDataSlot slot,
                             uint64_t *data, PFN_vkGetPrivateData next) {
    VkDevice handle = device->handle;
    if (next == NULL) *data = 0;
    RETURN_IF_NEXT_MISSING(device, next, "vkGetPrivateData");
    bool invalid = false;
    suballoc_memory *record =
        type == VK_OBJECT_TYPE_DEVICE_MEMORY ? named_layer_memory(device, "vkGetPrivateData", object, &invalid) : NULL;
    if (record == NULL && !invalid) {
        next(handle, type, object, slot, data);
        return;
    }
    *data = 0; /* the spec's answer for data never set */
    if (invalid) return;
    pthread_mutex_lock(&device->private_data_lock);
    struct private_data_entry *entry = *find_entry(device, object, slot);
    if (entry != NULL) *data = entry->data;
    pthread_mutex_unlock(&device->private_data_lock);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_SetPrivateData(VkDevice handle, VkObjectType type, uint64_t object,
                                                    VkPrivateDataSlot slot, uint64_t data) {
    suballoc_device *device = DEVICE_OF(handle);
    return set_private_data(device, type, object, slot, data, device->next.SetPrivateData);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_SetPrivateDataEXT(VkDevice handle, VkObjectType type, uint64_t object,
                                                       VkPrivateDataSlot slot, uint64_t data) {
    suballoc_device *device = DEVICE_OF(handle);
    return set_private_data(device, type, object, slot, data, device->next.SetPrivateDataEXT);
}

VKAPI_ATTR void VKAPI_CALL layer_GetPrivateData(VkDevice handle, VkObjectType type, uint64_t object,
                                                VkPrivateDataSlot slot, uint64_t *data) {
    suballoc_device *device = DEVICE_OF(handle);
    get_private_data(device, type, object, slot, data, device->next.GetPrivateData);
}

VKAPI_ATTR void VKAPI_CALL layer_GetPrivateDataEXT(VkDevice handle, VkObjectType type, uint64_t object,
                                                   VkPrivateDataSlot slot, uint64_t *data) {
    suballoc_device *device = DEVICE_OF(handle);
    get_private_data(device, type, object, slot, data, device->next.GetPrivateDataEXT);
}

void private_data_release_object(suballoc_device *device, uint64_t object) {
    pthread_mutex_lock(&device->private_data_lock);
    struct private_data_entry **p = &device->private_data;
    while (*p != NULL) {
        if ((*p)->object != object) {
            p = &(*p)->next;
            continue;
        }
        struct private_data_entry *gone = *p;
        *p = gone->next;
        free(gone);
    }
    pthread_mutex_unlock(&device->private_data_lock);
}

void private_data_release_all(suballoc_device *device) {
    struct private_data_entry *entry = device->private_data;
    while (entry != NULL) {
        struct private_data_entry *next = entry->next;
        free(entry);
        entry = next;
    }
    device->private_data = NULL;
}

/* ---- priority, capture address, export ------------------------------------------------- */

VKAPI_ATTR void VKAPI_CALL layer_SetDeviceMemoryPriorityEXT(VkDevice handle, VkDeviceMemory memory, float priority) {
    suballoc_device *device = DEVICE_OF(handle);
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, "vkSetDeviceMemoryPriorityEXT", memory, &invalid);
    if (invalid) return;
    if (record == NULL) {
        RETURN_IF_NEXT_MISSING(device, device->next.SetDeviceMemoryPriorityEXT, "vkSetDeviceMemoryPriorityEXT");
        device->next.SetDeviceMemoryPriorityEXT(handle, memory, priority);
        return;
    }
    /* A priority is a hint; changing a shared block's would move its neighbours too. */
    LOG_DEBUG(device, "vkSetDeviceMemoryPriorityEXT: memory 0x%llx shares a block; priority %.2f not applied",
              (unsigned long long)memory, (double)priority);
}

static uint64_t opaque_capture_address(suballoc_device *device, const VkDeviceMemoryOpaqueCaptureAddressInfo *info,
                                       PFN_vkGetDeviceMemoryOpaqueCaptureAddress next) {
    VkDevice handle = device->handle;
    RETURN_IF_NEXT_MISSING(device, next, "vkGetDeviceMemoryOpaqueCaptureAddress", 0);
    VkDeviceMemoryOpaqueCaptureAddressInfo block_info = *info;
    VkDeviceSize offset;
    if (memory_translate(device, "vkGetDeviceMemoryOpaqueCaptureAddress", info->memory, 0, 1, &block_info.memory,
                         &offset) != VK_SUCCESS)
        return 0;
    uint64_t base = next(handle, &block_info);
    return base == 0 ? 0 : base + offset;
}

VKAPI_ATTR uint64_t VKAPI_CALL
layer_GetDeviceMemoryOpaqueCaptureAddress(VkDevice handle, const VkDeviceMemoryOpaqueCaptureAddressInfo *info) {
    suballoc_device *device = DEVICE_OF(handle);
    return opaque_capture_address(device, info, device->next.GetDeviceMemoryOpaqueCaptureAddress);
}

VKAPI_ATTR uint64_t VKAPI_CALL
layer_GetDeviceMemoryOpaqueCaptureAddressKHR(VkDevice handle, const VkDeviceMemoryOpaqueCaptureAddressInfo *info) {
    suballoc_device *device = DEVICE_OF(handle);
    return opaque_capture_address(device, info, device->next.GetDeviceMemoryOpaqueCaptureAddressKHR);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_GetMemoryFdKHR(VkDevice handle, const VkMemoryGetFdInfoKHR *info, int *fd) {
    suballoc_device *device = DEVICE_OF(handle);
    bool invalid;
    suballoc_memory *record = layer_memory_of(device, "vkGetMemoryFdKHR", info->memory, &invalid);
    if (record == NULL && !invalid) {
        RETURN_IF_NEXT_MISSING(device, device->next.GetMemoryFdKHR, "vkGetMemoryFdKHR", VK_ERROR_EXTENSION_NOT_PRESENT);
        return device->next.GetMemoryFdKHR(handle, info, fd);
    }
    if (record != NULL)
        LOG_ERROR(device,
                  "vkGetMemoryFdKHR: memory 0x%llx was not allocated for export (no VkExportMemoryAllocateInfo)",
                  (unsigned long long)info->memory);
    return VK_ERROR_UNKNOWN;
}
