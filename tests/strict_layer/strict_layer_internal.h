/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_layer_internal.h: the records the strict layer keeps and the
 * functions its files share. Locking: the registry has one lock for its lists;
 * everything inside a strict_device is guarded by that device's mutex, held for
 * the whole of each intercepted call (simple beats fast in a test oracle).
 */
#ifndef STRICT_LAYER_INTERNAL_H
#define STRICT_LAYER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include "strict_device.h"
#include "strict_fake_hardware.h"
#include "strict_handle_map.h"

#define STRICT_EXPORT __attribute__((visibility("default")))

/* The loader writes its dispatch table pointer into the first word of every
 * dispatchable handle; instance, physical devices, device and queues share it. */
static inline void *strict_dispatch_key(const void *dispatchable_handle) { return *(void *const *)dispatchable_handle; }

typedef struct strict_instance_dispatch {
    PFN_vkGetInstanceProcAddr GetInstanceProcAddr;
    PFN_vkDestroyInstance DestroyInstance;
    PFN_vkEnumerateDeviceExtensionProperties EnumerateDeviceExtensionProperties;
    PFN_vkGetPhysicalDeviceProperties GetPhysicalDeviceProperties;
    PFN_vkGetPhysicalDeviceProperties2 GetPhysicalDeviceProperties2;
    PFN_vkGetPhysicalDeviceMemoryProperties GetPhysicalDeviceMemoryProperties;
    PFN_vkGetPhysicalDeviceFeatures GetPhysicalDeviceFeatures;
    PFN_vkGetPhysicalDeviceFeatures2 GetPhysicalDeviceFeatures2;
    PFN_vkGetPhysicalDeviceQueueFamilyProperties GetPhysicalDeviceQueueFamilyProperties;
    PFN_vkGetPhysicalDeviceQueueFamilyProperties2 GetPhysicalDeviceQueueFamilyProperties2;
    PFN_vkGetPhysicalDeviceImageFormatProperties GetPhysicalDeviceImageFormatProperties;
    PFN_vkGetPhysicalDeviceImageFormatProperties2 GetPhysicalDeviceImageFormatProperties2;
} strict_instance_dispatch;

/* The device extensions the layer offers whether or not the driver has them. */
typedef enum strict_emulated_extension {
    STRICT_EXTENSION_MEMORY_BUDGET = 1u << 0,
    STRICT_EXTENSION_DEBUG_MARKER = 1u << 1,
    STRICT_EXTENSION_MEMORY_PRIORITY = 1u << 2,
    STRICT_EXTENSION_PAGEABLE_DEVICE_LOCAL_MEMORY = 1u << 3,
} strict_emulated_extension;

#define STRICT_EMULATED_EXTENSION_COUNT 4u

typedef struct strict_physical_device {
    VkPhysicalDevice handle;
    bool usable; /* false when the driver has no host-visible type to play the fakes */
    strict_type_backing backing;
    uint32_t driver_extensions; /* strict_emulated_extension bits the driver has itself */
    /* Bytes allocated from each fake heap, by every device of this GPU. */
    _Atomic uint64_t heap_usage[STRICT_FAKE_HEAP_COUNT];
    struct strict_physical_device *next_in_instance;
} strict_physical_device;

typedef struct strict_instance {
    void *key;
    VkInstance handle;
    strict_instance_dispatch next;
    pthread_mutex_t physical_devices_lock;
    strict_physical_device *physical_devices;
    struct strict_instance *next_in_registry;
} strict_instance;

typedef struct strict_device_dispatch {
    PFN_vkGetDeviceProcAddr GetDeviceProcAddr;
    PFN_vkDestroyDevice DestroyDevice;
    PFN_vkAllocateMemory AllocateMemory;
    PFN_vkFreeMemory FreeMemory;
    PFN_vkMapMemory MapMemory;
    PFN_vkUnmapMemory UnmapMemory;
    PFN_vkFlushMappedMemoryRanges FlushMappedMemoryRanges;
    PFN_vkInvalidateMappedMemoryRanges InvalidateMappedMemoryRanges;
    PFN_vkCreateBuffer CreateBuffer;
    PFN_vkDestroyBuffer DestroyBuffer;
    PFN_vkCreateImage CreateImage;
    PFN_vkDestroyImage DestroyImage;
    PFN_vkBindBufferMemory BindBufferMemory;
    PFN_vkBindBufferMemory2 BindBufferMemory2;
    PFN_vkBindImageMemory BindImageMemory;
    PFN_vkBindImageMemory2 BindImageMemory2;
    PFN_vkGetBufferMemoryRequirements GetBufferMemoryRequirements;
    PFN_vkGetBufferMemoryRequirements2 GetBufferMemoryRequirements2;
    PFN_vkGetImageMemoryRequirements GetImageMemoryRequirements;
    PFN_vkGetImageMemoryRequirements2 GetImageMemoryRequirements2;
    PFN_vkGetDeviceBufferMemoryRequirements GetDeviceBufferMemoryRequirements;
    PFN_vkGetDeviceImageMemoryRequirements GetDeviceImageMemoryRequirements;
    PFN_vkGetMemoryHostPointerPropertiesEXT GetMemoryHostPointerPropertiesEXT;
    PFN_vkGetMemoryFdPropertiesKHR GetMemoryFdPropertiesKHR;
    PFN_vkGetDeviceMemoryCommitment GetDeviceMemoryCommitment;
    PFN_vkGetDeviceMemoryOpaqueCaptureAddress GetDeviceMemoryOpaqueCaptureAddress;
    PFN_vkGetMemoryFdKHR GetMemoryFdKHR;
    PFN_vkSetDeviceMemoryPriorityEXT SetDeviceMemoryPriorityEXT;
    PFN_vkSetPrivateData SetPrivateData;
    PFN_vkGetPrivateData GetPrivateData;
    PFN_vkQueueSubmit QueueSubmit;
    PFN_vkWaitForFences WaitForFences;
    PFN_vkGetFenceStatus GetFenceStatus;
    PFN_vkQueueWaitIdle QueueWaitIdle;
    PFN_vkDeviceWaitIdle DeviceWaitIdle;
    PFN_vkWaitSemaphores WaitSemaphores;
    PFN_vkGetSemaphoreCounterValue GetSemaphoreCounterValue;
    PFN_vkGetEventStatus GetEventStatus;
    PFN_vkDebugMarkerSetObjectNameEXT DebugMarkerSetObjectNameEXT;
    PFN_vkDebugMarkerSetObjectTagEXT DebugMarkerSetObjectTagEXT;
    PFN_vkCmdDebugMarkerBeginEXT CmdDebugMarkerBeginEXT;
    PFN_vkCmdDebugMarkerEndEXT CmdDebugMarkerEndEXT;
    PFN_vkCmdDebugMarkerInsertEXT CmdDebugMarkerInsertEXT;
} strict_device_dispatch;

typedef struct strict_resource strict_resource;

/* A live driver VkDeviceMemory. */
typedef struct strict_memory {
    VkDeviceMemory handle;
    uint32_t fake_type;
    VkDeviceSize size;
    float priority; /* VK_EXT_memory_priority: at allocation, then as last set */
    /* Mapping state, valid while mapped. */
    bool mapped;
    VkDeviceSize map_offset;
    VkDeviceSize map_size;
    void *app_pointer; /* what vkMapMemory returned to the caller */
    /* Non-coherent type only (strict_host_cache.c): the host's cache of the
     * mapped range, what it and the device last agreed on, and the driver's
     * mapping of offset 0. */
    void *shadow_block;
    uint8_t *snapshot;
    uint8_t *driver_base;
    /* Resources bound to it, unordered; untracked_binds when one was bound
     * without a record here (a plane, a resource made before this layer). */
    bool untracked_binds;
    strict_resource **bound;
    uint32_t bound_count;
    uint32_t bound_capacity;
} strict_memory;

/* What a sparse-resident image's binds are checked against. */
typedef struct strict_sparse_image {
    bool resident; /* created SPARSE_RESIDENCY in a format that may be */
    strict_sparse_image_layout layout;
    VkFormat format;
    VkExtent3D extent;
    uint32_t mip_levels;
    uint32_t array_layers;
} strict_sparse_image;

/* A buffer or image and where it is bound. */
struct strict_resource {
    uint64_t handle;
    strict_resource_shape shape;
    bool requirements_known;           /* false for disjoint images: per-plane requirements */
    VkMemoryRequirements requirements; /* the fake ones the caller was told */
    strict_memory *memory;             /* NULL while unbound */
    VkDeviceSize offset;
    uint32_t bound_index; /* position in memory->bound */
    /* Sparse resources: their SPARSE_* create flags (hidden from the driver),
     * the bytes the driver needs to bind the whole resource, and for images
     * made resident, their geometry. */
    VkFlags sparse_flags;
    VkDeviceSize driver_size;
    bool driver_bound; /* a whole sparse bind reached the driver: it cannot move */
    strict_sparse_image sparse_image;
};

typedef struct strict_fault {
    uint64_t calls_left; /* 0: none armed; 1: the next call fails */
    bool repeat;
} strict_fault;

typedef struct strict_device {
    void *key;
    VkDevice handle;
    strict_physical_device *physical;
    strict_device_dispatch next;
    /* Limits as reported to the caller. */
    VkDeviceSize atom_size;
    VkDeviceSize granularity;

    /* Read once at vkCreateDevice from the environment. */
    bool count_violations;
    bool forbid_aliasing; /* STRICT_DEVICE_FORBID_ALIASING=1: report overlaps */
    bool stale_reads;     /* STRICT_DEVICE_STALE_READS=1: see strict_host_cache.c */
    bool check_leaks;
    uint32_t enabled_extensions; /* strict_emulated_extension bits the caller enabled */

    pthread_mutex_t lock;
    strict_handle_map memories;
    strict_handle_map buffers;
    strict_handle_map images;
    StrictDeviceCounters counters;
    uint64_t violation_counts[STRICT_DEVICE_VIOLATION_KIND_COUNT];
    strict_fault allocate_fault;
    strict_fault map_fault;
    VkDeviceSize allocation_size_limit; /* 0: none */
    /* The last accepted sparse binds, a ring indexed by counters.sparse_binds. */
    StrictDeviceSparseBind sparse_history[STRICT_DEVICE_SPARSE_BIND_HISTORY];
    strict_handle_map markers; /* object handle -> strict_marker list (debug markers) */

    struct strict_device *next_in_registry;
} strict_device;

/* strict_registry.c */
void strict_registry_add_instance(strict_instance *instance);
strict_instance *strict_registry_remove_instance(void *key);
strict_instance *strict_registry_instance(const void *dispatchable_handle);
void strict_registry_add_device(strict_device *device);
strict_device *strict_registry_remove_device(void *key);
strict_device *strict_registry_device(const void *dispatchable_handle);
/* The record of a physical device, made on first use; NULL only when out of memory. */
strict_physical_device *strict_registry_physical_device(VkPhysicalDevice physical_device);
void strict_registry_free_physical_devices(strict_instance *instance);

/* strict_emulation.c: the emulated extensions, and what the driver sees of a
 * device that enables them. */
extern const VkExtensionProperties strict_emulated_extensions[STRICT_EMULATED_EXTENSION_COUNT];
/* The strict_emulated_extension bit of a name, 0 for any other extension. */
uint32_t strict_emulated_extension_bit(const char *name);
/* Whether calls of that emulated extension go on down to the driver. */
static inline bool strict_driver_has(const strict_physical_device *physical, uint32_t extension_bit) {
    return (physical->driver_extensions & extension_bit) != 0;
}

/* strict_chain.c: edits of a caller's pNext chain for one call down, undone
 * after it (the caller's structures, so chains in read-only memory cannot be
 * edited; no test makes one). */
#define STRICT_CHAIN_EDITS_MAX 16u
typedef struct strict_chain_edit {
    VkBaseOutStructure *owner[STRICT_CHAIN_EDITS_MAX]; /* whose pNext changed */
    VkBaseOutStructure *old_next[STRICT_CHAIN_EDITS_MAX];
    uint32_t count;
} strict_chain_edit;
/* Takes every structure of that type out of the chain after head; false when
 * out of edit slots. */
bool strict_chain_remove(strict_chain_edit *edit, void *head, VkStructureType type);
/* Links replacement in place of the first structure of that type after head
 * (the rest of the chain follows it); returns the structure replaced, or NULL
 * when there was none (or no edit slot). */
const void *strict_chain_replace(strict_chain_edit *edit, void *head, VkStructureType type, void *replacement);
void strict_chain_restore(strict_chain_edit *edit);
const void *strict_chain_find(const void *chain, VkStructureType type);

/* The VkDeviceCreateInfo the driver gets: the emulated extensions it lacks,
 * their feature structures and the sparse features taken out. */
typedef struct strict_driver_device_info {
    VkDeviceCreateInfo info;
    const char **names;
    VkPhysicalDeviceFeatures features;
    VkPhysicalDeviceFeatures2 features2;
    strict_chain_edit edit;
    uint32_t enabled_extensions; /* emulated ones the caller enabled */
} strict_driver_device_info;
bool strict_driver_device_info_make(strict_physical_device *physical, const VkDeviceCreateInfo *info,
                                    strict_driver_device_info *out);
/* Restores the caller's chain; call once the driver returned. */
void strict_driver_device_info_finish(strict_driver_device_info *made);

/* strict_violation.c: called with device->lock held. Aborts unless counting. */
void strict_violation(strict_device *device, StrictDeviceViolation kind, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
const char *strict_violation_rule_name(StrictDeviceViolation kind);
/* A problem of the layer's own (not of the caller), printed on stderr. */
void strict_layer_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* strict_faults.c: whether this call is the one a fault was armed for. */
bool strict_fault_fires(strict_fault *fault);
void strict_fault_arm(strict_fault *fault, uint64_t nth, VkBool32 repeat);

/* strict_binding.c */
void strict_memory_unbind_all(strict_memory *memory);
void strict_device_free_resources(strict_device *device);
/* A whole resource now bound at memory + offset: checked against its
 * neighbours there (overlap, granularity) and tracked. Lock held. */
void strict_track_whole_bind(strict_device *device, const char *function, uint32_t index, strict_resource *resource,
                             strict_memory *memory, VkDeviceSize offset);
void strict_untrack_bind(strict_resource *resource);

/* strict_sparse_resources.c: the SPARSE_* create flags the driver never sees. */
VkBufferCreateInfo strict_sparse_driver_buffer_info(const VkBufferCreateInfo *info);
VkImageCreateInfo strict_sparse_driver_image_info(const VkImageCreateInfo *info);
/* Fills a new resource's sparse fields; requirements are the fake ones. */
void strict_sparse_describe_buffer(strict_resource *resource, const VkBufferCreateInfo *info);
void strict_sparse_describe_image(strict_resource *resource, const VkImageCreateInfo *info);
/* The requirements a sparse resource was given at creation; false for others. */
bool strict_sparse_known_requirements(strict_device *device, strict_handle_map *map, uint64_t handle,
                                      VkMemoryRequirements *requirements);
/* Raises requirements (already fake) to what a resident image of info needs. */
void strict_sparse_image_requirements(const VkImageCreateInfo *info, VkMemoryRequirements *requirements);

/* strict_debug_marker.c: lock held. */
void strict_markers_forget(strict_device *device, uint64_t object);
void strict_markers_free(strict_device *device);
bool strict_markers_read(strict_device *device, VkDebugReportObjectTypeEXT type, uint64_t object,
                         StrictDeviceObjectMarker *out);

/* strict_memory.c */
void strict_device_free_memories(strict_device *device);
strict_memory *strict_find_memory(strict_device *device, VkDeviceMemory memory);

/* strict_mapping.c */
void strict_memory_drop_mapping(strict_device *device, strict_memory *memory);

/* strict_host_cache.c: the host's view of a non-coherent mapping. Lock held,
 * except for strict_host_cache_after_wait, which takes it. Offsets are the
 * memory's; [begin, end) is clipped to the mapped range. */
bool strict_host_cache_open(strict_memory *memory, uint8_t *driver_base, VkDeviceSize offset, VkDeviceSize size);
void strict_host_cache_close(strict_memory *memory);
void strict_host_cache_flush(strict_device *device, strict_memory *memory, VkDeviceSize begin, VkDeviceSize end);
void strict_host_cache_invalidate(strict_device *device, strict_memory *memory, VkDeviceSize begin, VkDeviceSize end);
/* The host has waited for the device: device writes reach clean lines. */
void strict_host_cache_after_wait(strict_device *device);
/* A resource bound at [begin, end) goes away, so the work that wrote it is
 * over: the same for its bytes, which the next wait would no longer look at. */
void strict_host_cache_resource_gone(strict_device *device, strict_memory *memory, VkDeviceSize begin,
                                     VkDeviceSize end);

/* strict_instance.c */
bool strict_driver_has_device_extension(VkPhysicalDevice physical_device, const char *name);
VKAPI_ATTR VkResult VKAPI_CALL strict_CreateInstance(const VkInstanceCreateInfo *info,
                                                     const VkAllocationCallbacks *allocator, VkInstance *instance);
VKAPI_ATTR void VKAPI_CALL strict_DestroyInstance(VkInstance instance, const VkAllocationCallbacks *allocator);
VKAPI_ATTR VkResult VKAPI_CALL strict_EnumerateDeviceExtensionProperties(VkPhysicalDevice physical_device,
                                                                         const char *layer_name, uint32_t *count,
                                                                         VkExtensionProperties *properties);

/* strict_device_lifetime.c */
VKAPI_ATTR VkResult VKAPI_CALL strict_CreateDevice(VkPhysicalDevice physical_device, const VkDeviceCreateInfo *info,
                                                   const VkAllocationCallbacks *allocator, VkDevice *device);
VKAPI_ATTR void VKAPI_CALL strict_DestroyDevice(VkDevice device, const VkAllocationCallbacks *allocator);
/* Fills device->next from the next GetDeviceProcAddr (strict_layer.c owns the name table). */
void strict_load_device_dispatch(strict_device *device, PFN_vkGetDeviceProcAddr next_gdpa);

/* Intercepts, looked up by name in strict_layer.c. */
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceProperties(VkPhysicalDevice physical_device,
                                                              VkPhysicalDeviceProperties *properties);
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceProperties2(VkPhysicalDevice physical_device,
                                                               VkPhysicalDeviceProperties2 *properties);
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceMemoryProperties(VkPhysicalDevice physical_device,
                                                                    VkPhysicalDeviceMemoryProperties *properties);
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceMemoryProperties2(VkPhysicalDevice physical_device,
                                                                     VkPhysicalDeviceMemoryProperties2 *properties);

/* strict_features.c */
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceFeatures(VkPhysicalDevice physical_device,
                                                            VkPhysicalDeviceFeatures *features);
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceFeatures2(VkPhysicalDevice physical_device,
                                                             VkPhysicalDeviceFeatures2 *features);
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceQueueFamilyProperties(VkPhysicalDevice physical_device,
                                                                         uint32_t *count,
                                                                         VkQueueFamilyProperties *properties);
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceQueueFamilyProperties2(VkPhysicalDevice physical_device,
                                                                          uint32_t *count,
                                                                          VkQueueFamilyProperties2 *properties);
VKAPI_ATTR VkResult VKAPI_CALL strict_GetPhysicalDeviceImageFormatProperties(
    VkPhysicalDevice physical_device, VkFormat format, VkImageType type, VkImageTiling tiling, VkImageUsageFlags usage,
    VkImageCreateFlags flags, VkImageFormatProperties *properties);
VKAPI_ATTR VkResult VKAPI_CALL strict_GetPhysicalDeviceImageFormatProperties2(
    VkPhysicalDevice physical_device, const VkPhysicalDeviceImageFormatInfo2 *info,
    VkImageFormatProperties2 *properties);
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceSparseImageFormatProperties(
    VkPhysicalDevice physical_device, VkFormat format, VkImageType type, VkSampleCountFlagBits samples,
    VkImageUsageFlags usage, VkImageTiling tiling, uint32_t *count, VkSparseImageFormatProperties *properties);
VKAPI_ATTR void VKAPI_CALL strict_GetPhysicalDeviceSparseImageFormatProperties2(
    VkPhysicalDevice physical_device, const VkPhysicalDeviceSparseImageFormatInfo2 *info, uint32_t *count,
    VkSparseImageFormatProperties2 *properties);

VKAPI_ATTR VkResult VKAPI_CALL strict_AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *info,
                                                     const VkAllocationCallbacks *allocator, VkDeviceMemory *memory);
VKAPI_ATTR void VKAPI_CALL strict_FreeMemory(VkDevice device, VkDeviceMemory memory,
                                             const VkAllocationCallbacks *allocator);
VKAPI_ATTR VkResult VKAPI_CALL strict_GetMemoryHostPointerPropertiesEXT(VkDevice device,
                                                                        VkExternalMemoryHandleTypeFlagBits handle_type,
                                                                        const void *host_pointer,
                                                                        VkMemoryHostPointerPropertiesEXT *properties);
VKAPI_ATTR VkResult VKAPI_CALL strict_GetMemoryFdPropertiesKHR(VkDevice device,
                                                               VkExternalMemoryHandleTypeFlagBits handle_type, int fd,
                                                               VkMemoryFdPropertiesKHR *properties);

VKAPI_ATTR VkResult VKAPI_CALL strict_MapMemory(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset,
                                                VkDeviceSize size, VkMemoryMapFlags flags, void **data);
VKAPI_ATTR void VKAPI_CALL strict_UnmapMemory(VkDevice device, VkDeviceMemory memory);
VKAPI_ATTR VkResult VKAPI_CALL strict_FlushMappedMemoryRanges(VkDevice device, uint32_t count,
                                                              const VkMappedMemoryRange *ranges);
VKAPI_ATTR VkResult VKAPI_CALL strict_InvalidateMappedMemoryRanges(VkDevice device, uint32_t count,
                                                                   const VkMappedMemoryRange *ranges);

VKAPI_ATTR VkResult VKAPI_CALL strict_CreateBuffer(VkDevice device, const VkBufferCreateInfo *info,
                                                   const VkAllocationCallbacks *allocator, VkBuffer *buffer);
VKAPI_ATTR void VKAPI_CALL strict_DestroyBuffer(VkDevice device, VkBuffer buffer,
                                                const VkAllocationCallbacks *allocator);
VKAPI_ATTR VkResult VKAPI_CALL strict_CreateImage(VkDevice device, const VkImageCreateInfo *info,
                                                  const VkAllocationCallbacks *allocator, VkImage *image);
VKAPI_ATTR void VKAPI_CALL strict_DestroyImage(VkDevice device, VkImage image, const VkAllocationCallbacks *allocator);
VKAPI_ATTR VkResult VKAPI_CALL strict_BindBufferMemory(VkDevice device, VkBuffer buffer, VkDeviceMemory memory,
                                                       VkDeviceSize offset);
VKAPI_ATTR VkResult VKAPI_CALL strict_BindBufferMemory2(VkDevice device, uint32_t count,
                                                        const VkBindBufferMemoryInfo *infos);
VKAPI_ATTR VkResult VKAPI_CALL strict_BindImageMemory(VkDevice device, VkImage image, VkDeviceMemory memory,
                                                      VkDeviceSize offset);
VKAPI_ATTR VkResult VKAPI_CALL strict_BindImageMemory2(VkDevice device, uint32_t count,
                                                       const VkBindImageMemoryInfo *infos);

VKAPI_ATTR void VKAPI_CALL strict_GetBufferMemoryRequirements(VkDevice device, VkBuffer buffer,
                                                              VkMemoryRequirements *requirements);
VKAPI_ATTR void VKAPI_CALL strict_GetBufferMemoryRequirements2(VkDevice device,
                                                               const VkBufferMemoryRequirementsInfo2 *info,
                                                               VkMemoryRequirements2 *requirements);
VKAPI_ATTR void VKAPI_CALL strict_GetImageMemoryRequirements(VkDevice device, VkImage image,
                                                             VkMemoryRequirements *requirements);
VKAPI_ATTR void VKAPI_CALL strict_GetImageMemoryRequirements2(VkDevice device,
                                                              const VkImageMemoryRequirementsInfo2 *info,
                                                              VkMemoryRequirements2 *requirements);
VKAPI_ATTR void VKAPI_CALL strict_GetDeviceBufferMemoryRequirements(VkDevice device,
                                                                    const VkDeviceBufferMemoryRequirements *info,
                                                                    VkMemoryRequirements2 *requirements);
VKAPI_ATTR void VKAPI_CALL strict_GetDeviceImageMemoryRequirements(VkDevice device,
                                                                   const VkDeviceImageMemoryRequirements *info,
                                                                   VkMemoryRequirements2 *requirements);

/* strict_sparse_resources.c */
VKAPI_ATTR void VKAPI_CALL strict_GetImageSparseMemoryRequirements(VkDevice device, VkImage image, uint32_t *count,
                                                                   VkSparseImageMemoryRequirements *requirements);
VKAPI_ATTR void VKAPI_CALL strict_GetImageSparseMemoryRequirements2(VkDevice device,
                                                                    const VkImageSparseMemoryRequirementsInfo2 *info,
                                                                    uint32_t *count,
                                                                    VkSparseImageMemoryRequirements2 *requirements);
VKAPI_ATTR void VKAPI_CALL
strict_GetDeviceImageSparseMemoryRequirements(VkDevice device, const VkDeviceImageMemoryRequirements *info,
                                              uint32_t *count, VkSparseImageMemoryRequirements2 *requirements);

/* strict_sparse_binding.c */
VKAPI_ATTR VkResult VKAPI_CALL strict_QueueBindSparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *infos,
                                                      VkFence fence);

/* strict_debug_marker.c */
VKAPI_ATTR VkResult VKAPI_CALL strict_DebugMarkerSetObjectNameEXT(VkDevice device,
                                                                  const VkDebugMarkerObjectNameInfoEXT *info);
VKAPI_ATTR VkResult VKAPI_CALL strict_DebugMarkerSetObjectTagEXT(VkDevice device,
                                                                 const VkDebugMarkerObjectTagInfoEXT *info);
VKAPI_ATTR void VKAPI_CALL strict_CmdDebugMarkerBeginEXT(VkCommandBuffer commands,
                                                         const VkDebugMarkerMarkerInfoEXT *info);
VKAPI_ATTR void VKAPI_CALL strict_CmdDebugMarkerEndEXT(VkCommandBuffer commands);
VKAPI_ATTR void VKAPI_CALL strict_CmdDebugMarkerInsertEXT(VkCommandBuffer commands,
                                                          const VkDebugMarkerMarkerInfoEXT *info);

/* strict_memory_queries.c */
VKAPI_ATTR void VKAPI_CALL strict_GetDeviceMemoryCommitment(VkDevice device, VkDeviceMemory memory,
                                                            VkDeviceSize *committed);
VKAPI_ATTR uint64_t VKAPI_CALL
strict_GetDeviceMemoryOpaqueCaptureAddress(VkDevice device, const VkDeviceMemoryOpaqueCaptureAddressInfo *info);
VKAPI_ATTR VkResult VKAPI_CALL strict_GetMemoryFdKHR(VkDevice device, const VkMemoryGetFdInfoKHR *info, int *fd);
VKAPI_ATTR void VKAPI_CALL strict_SetDeviceMemoryPriorityEXT(VkDevice device, VkDeviceMemory memory, float priority);
VKAPI_ATTR VkResult VKAPI_CALL strict_SetPrivateData(VkDevice device, VkObjectType type, uint64_t object,
                                                     VkPrivateDataSlot slot, uint64_t data);
VKAPI_ATTR void VKAPI_CALL strict_GetPrivateData(VkDevice device, VkObjectType type, uint64_t object,
                                                 VkPrivateDataSlot slot, uint64_t *data);

/* strict_host_waits.c: the calls that return once device work is done. */
VKAPI_ATTR VkResult VKAPI_CALL strict_WaitForFences(VkDevice device, uint32_t count, const VkFence *fences,
                                                    VkBool32 wait_all, uint64_t timeout);
VKAPI_ATTR VkResult VKAPI_CALL strict_GetFenceStatus(VkDevice device, VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL strict_QueueWaitIdle(VkQueue queue);
VKAPI_ATTR VkResult VKAPI_CALL strict_DeviceWaitIdle(VkDevice device);
VKAPI_ATTR VkResult VKAPI_CALL strict_WaitSemaphores(VkDevice device, const VkSemaphoreWaitInfo *info,
                                                     uint64_t timeout);
VKAPI_ATTR VkResult VKAPI_CALL strict_GetSemaphoreCounterValue(VkDevice device, VkSemaphore semaphore, uint64_t *value);
VKAPI_ATTR VkResult VKAPI_CALL strict_GetEventStatus(VkDevice device, VkEvent event);

/* strict_control.c: the TEST functions of strict_device.h. */
VKAPI_ATTR void VKAPI_CALL strict_GetCountersTEST(VkDevice device, StrictDeviceCounters *counters);
VKAPI_ATTR void VKAPI_CALL strict_InjectFaultTEST(VkDevice device, StrictDeviceFault kind, uint64_t nth,
                                                  VkBool32 repeat);
VKAPI_ATTR void VKAPI_CALL strict_SetAllocationSizeLimitTEST(VkDevice device, VkDeviceSize max_bytes);
VKAPI_ATTR VkBool32 VKAPI_CALL strict_IsDriverMemoryTEST(VkDevice device, VkDeviceMemory memory);
VKAPI_ATTR uint64_t VKAPI_CALL strict_GetViolationCountTEST(VkDevice device, StrictDeviceViolation kind);
VKAPI_ATTR void VKAPI_CALL strict_GetSparseBindsTEST(VkDevice device, uint32_t *count, StrictDeviceSparseBind *binds);
VKAPI_ATTR VkBool32 VKAPI_CALL strict_GetObjectMarkerTEST(VkDevice device, VkDebugReportObjectTypeEXT type,
                                                          uint64_t object, StrictDeviceObjectMarker *marker);
VKAPI_ATTR VkBool32 VKAPI_CALL strict_GetMemoryPriorityTEST(VkDevice device, VkDeviceMemory memory, float *priority);
VKAPI_ATTR VkBool32 VKAPI_CALL strict_GetBufferBindingTEST(VkDevice device, VkBuffer buffer, VkDeviceMemory *memory,
                                                           VkDeviceSize *offset);

#endif
