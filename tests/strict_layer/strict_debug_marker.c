/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_debug_marker.c: VK_EXT_debug_marker object names and tags.
 *
 * Recorded per object so a test can read back what reached the driver level;
 * passed on only when the driver has the extension itself. A DEVICE_MEMORY
 * object must be a live driver allocation: a layer above that named its own
 * handle would have the driver dereference it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strict_layer_internal.h"

/* The markers of one object handle, one per object type seen with it. */
typedef struct strict_marker {
    VkDebugReportObjectTypeEXT type;
    StrictDeviceObjectMarker marker;
    struct strict_marker *next;
} strict_marker;

static strict_marker *find_marker(strict_device *device, VkDebugReportObjectTypeEXT type, uint64_t object) {
    strict_marker *marker = strict_handle_map_find(&device->markers, object);
    while (marker && marker->type != type) marker = marker->next;
    return marker;
}

static strict_marker *marker_for(strict_device *device, VkDebugReportObjectTypeEXT type, uint64_t object) {
    strict_marker *marker = find_marker(device, type, object);
    if (marker) return marker;
    marker = calloc(1, sizeof(*marker));
    if (!marker) return NULL;
    marker->type = type;
    strict_marker *last = strict_handle_map_find(&device->markers, object);
    while (last && last->next) last = last->next;
    if (last) {
        last->next = marker;
    } else if (!strict_handle_map_insert(&device->markers, object, marker)) {
        free(marker);
        return NULL;
    }
    return marker;
}

static void free_list(strict_marker *marker) {
    while (marker) {
        strict_marker *next = marker->next;
        free(marker);
        marker = next;
    }
}

void strict_markers_forget(strict_device *device, uint64_t object) {
    if (object != 0) free_list(strict_handle_map_remove(&device->markers, object));
}

static void free_list_visit(void *value, void *context) {
    (void)context;
    free_list(value);
}

void strict_markers_free(strict_device *device) { strict_handle_map_for_each(&device->markers, free_list_visit, NULL); }

bool strict_markers_read(strict_device *device, VkDebugReportObjectTypeEXT type, uint64_t object,
                         StrictDeviceObjectMarker *out) {
    const strict_marker *marker = find_marker(device, type, object);
    if (marker) *out = marker->marker;
    return marker != NULL;
}

/* The marker to update, or NULL when the call is refused or cannot be recorded. */
static strict_marker *accept(strict_device *device, const char *function, VkDebugReportObjectTypeEXT type,
                             uint64_t object) {
    if (type == VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT && !strict_find_memory(device, (VkDeviceMemory)object)) {
        strict_violation(device, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,
                         "%s: 0x%" PRIx64 " is not a live allocation of this device", function, object);
        return NULL;
    }
    strict_marker *marker = object ? marker_for(device, type, object) : NULL;
    if (!marker) strict_layer_error("%s: cannot record a marker on object 0x%" PRIx64, function, object);
    else device->counters.debug_marker_calls++;
    return marker;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_DebugMarkerSetObjectNameEXT(VkDevice handle,
                                                                  const VkDebugMarkerObjectNameInfoEXT *info) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !info) return VK_ERROR_OUT_OF_HOST_MEMORY;
    pthread_mutex_lock(&device->lock);
    strict_marker *marker = accept(device, "vkDebugMarkerSetObjectNameEXT", info->objectType, info->object);
    if (marker) {
        snprintf(marker->marker.name, sizeof(marker->marker.name), "%s", info->pObjectName ? info->pObjectName : "");
        marker->marker.name_calls++;
    }
    pthread_mutex_unlock(&device->lock);
    if (!marker) return VK_ERROR_OUT_OF_HOST_MEMORY;
    if (strict_driver_has(device->physical, STRICT_EXTENSION_DEBUG_MARKER))
        return device->next.DebugMarkerSetObjectNameEXT(handle, info);
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL strict_DebugMarkerSetObjectTagEXT(VkDevice handle,
                                                                 const VkDebugMarkerObjectTagInfoEXT *info) {
    strict_device *device = strict_registry_device(handle);
    if (!device || !info) return VK_ERROR_OUT_OF_HOST_MEMORY;
    pthread_mutex_lock(&device->lock);
    strict_marker *marker = accept(device, "vkDebugMarkerSetObjectTagEXT", info->objectType, info->object);
    if (marker) {
        marker->marker.tag_name = info->tagName;
        marker->marker.tag_size = info->tagSize;
        marker->marker.tag_calls++;
    }
    pthread_mutex_unlock(&device->lock);
    if (!marker) return VK_ERROR_OUT_OF_HOST_MEMORY;
    if (strict_driver_has(device->physical, STRICT_EXTENSION_DEBUG_MARKER))
        return device->next.DebugMarkerSetObjectTagEXT(handle, info);
    return VK_SUCCESS;
}

/* ---- the extension's command-buffer markers: nothing to check, nothing for lavapipe ---- */

VKAPI_ATTR void VKAPI_CALL strict_CmdDebugMarkerBeginEXT(VkCommandBuffer commands,
                                                         const VkDebugMarkerMarkerInfoEXT *info) {
    strict_device *device = strict_registry_device(commands);
    if (device && strict_driver_has(device->physical, STRICT_EXTENSION_DEBUG_MARKER))
        device->next.CmdDebugMarkerBeginEXT(commands, info);
}

VKAPI_ATTR void VKAPI_CALL strict_CmdDebugMarkerEndEXT(VkCommandBuffer commands) {
    strict_device *device = strict_registry_device(commands);
    if (device && strict_driver_has(device->physical, STRICT_EXTENSION_DEBUG_MARKER))
        device->next.CmdDebugMarkerEndEXT(commands);
}

VKAPI_ATTR void VKAPI_CALL strict_CmdDebugMarkerInsertEXT(VkCommandBuffer commands,
                                                          const VkDebugMarkerMarkerInfoEXT *info) {
    strict_device *device = strict_registry_device(commands);
    if (device && strict_driver_has(device->physical, STRICT_EXTENSION_DEBUG_MARKER))
        device->next.CmdDebugMarkerInsertEXT(commands, info);
}
