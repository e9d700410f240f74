/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_device.h: the test-only "strict device" layer, VK_LAYER_TEST_strict_device.
 *
 * Loaded BELOW the sub-allocation layer and above lavapipe, it makes the lenient
 * CPU driver look and behave like real GPU hardware, so that alignment,
 * granularity, non-coherent-atom and allocation-count bugs fail a test instead
 * of passing silently, while every valid program gets the results it gets on
 * the driver alone:
 *
 *   device  a discrete GPU named STRICT_DEVICE_NAME_PREFIX + the driver's name
 *   heaps   0: DEVICE_LOCAL, 2 GiB ("VRAM")
 *           1: host, 4 GiB
 *           2: DEVICE_LOCAL, 256 MiB (a small "BAR" heap)
 *   types   0: DEVICE_LOCAL                              heap 0
 *           1: HOST_VISIBLE | HOST_COHERENT              heap 1
 *           2: HOST_VISIBLE | HOST_CACHED (NOT coherent)  heap 1
 *           3: DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT heap 2
 *           4: DEVICE_LOCAL | LAZILY_ALLOCATED            heap 0 (transient images only)
 *   limits  maxMemoryAllocationCount 4096, bufferImageGranularity 1024,
 *           nonCoherentAtomSize 256, minMemoryMapAlignment 4096
 *   memory requirements: buffers aligned to 256, linear images to 4096;
 *           optimal images in whole tiles, aligned to one (as GPUs tile them):
 *           65536 bytes for images of 64 KiB or more, 256 for smaller ones.
 *           STRICT_DEVICE_UNTILED_IMAGES=1 aligns every optimal image to 65536
 *           at its untiled size instead: a small image smaller than its alignment.
 *
 * Emulated on top of the driver (lavapipe has none of it): the extensions
 * where the driver lacks them, sparse binding always:
 *   sparse binding  features sparseBinding, sparseResidencyBuffer and
 *           sparseResidencyImage2D; every queue family has SPARSE_BINDING. Sparse
 *           resources align to and bind in 64 KiB blocks; 2D single-sample optimal
 *           images of common colour formats may be sparse resident, with the
 *           standard block shapes and one mip tail (SINGLE_MIPTAIL, ALIGNED_MIP_SIZE)
 *           after the blocks of the whole levels. The driver never sees a sparse
 *           flag. vkQueueBindSparse checks and records every bind; a bind that
 *           covers a whole resource (from resourceOffset 0, or one image bind over
 *           the whole of a single-level, single-layer image without a mip tail) is
 *           made real with the driver's vkBind*Memory, so the resource works; any
 *           other bind is recorded only, and a resource bound piecewise has no
 *           memory on the driver. Each VkBindSparseInfo's wait and signal
 *           semaphores, and the fence, go to the driver in an empty vkQueueSubmit.
 *   VK_EXT_memory_budget (each fake heap's size as budget, its usage),
 *   VK_EXT_debug_marker (object names and tags recorded),
 *   VK_EXT_memory_priority (each allocation's priority recorded),
 *   VK_EXT_pageable_device_local_memory (vkSetDeviceMemoryPriorityEXT recorded).
 *   Their extension names, feature structures and allocation structures are
 *   taken out of what the driver sees.
 *
 * Every fake type is backed by the driver's single type. Type 2 is really
 * non-coherent: a mapping of it is a host cache over device memory; flush
 * writes back the atoms the host wrote, invalidate reloads its range, and
 * device writes reach the atoms the host has not written once the host has
 * waited for the device (fence, semaphore, event, idle), as on the hardware
 * that has such memory (strict_host_cache.c). STRICT_DEVICE_STALE_READS=1
 * makes device writes reach the host only through invalidate.
 *
 * A violation of the rules
 * it enforces prints "strict_device: VIOLATION: ..." on stderr and aborts, unless
 * STRICT_DEVICE_VIOLATIONS=count is set, in which case it is only counted (for the
 * strict layer's own tests).
 *
 * Tests reach the control functions below with vkGetDeviceProcAddr(device, name):
 * layers above pass names they do not know straight down, so this works through
 * the sub-allocation layer too. A NULL result means the strict layer is not loaded.
 */
#ifndef SUBALLOC_TESTS_STRICT_DEVICE_H
#define SUBALLOC_TESTS_STRICT_DEVICE_H

#include <stdint.h>
#include <vulkan/vulkan.h>

#define STRICT_DEVICE_LAYER_NAME "VK_LAYER_TEST_strict_device"

/* The device reports itself as a discrete GPU named this prefix followed by
 * the driver's own name, e.g. "Strict GPU on llvmpipe (LLVM 15.0.6, 256 bits)". */
#define STRICT_DEVICE_NAME_PREFIX "Strict GPU on "

#define STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL 0u
#define STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT 1u
#define STRICT_DEVICE_MEMORY_TYPE_HOST_CACHED_NONCOHERENT 2u
#define STRICT_DEVICE_MEMORY_TYPE_DEVICE_LOCAL_HOST_VISIBLE 3u
#define STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED 4u
#define STRICT_DEVICE_MEMORY_TYPE_COUNT 5u

#define STRICT_DEVICE_MAX_ALLOCATION_COUNT 4096u
#define STRICT_DEVICE_BUFFER_IMAGE_GRANULARITY 1024u
#define STRICT_DEVICE_NON_COHERENT_ATOM_SIZE 256u
#define STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT 4096u
#define STRICT_DEVICE_SPARSE_BLOCK_SIZE 65536u

typedef struct StrictDeviceCounters {
    uint64_t live_allocations; /* driver VkDeviceMemory objects alive now */
    uint64_t peak_live_allocations;
    uint64_t total_allocations;  /* successful vkAllocateMemory calls */
    uint64_t failed_allocations; /* refused: injected faults, heap full, size limit */
    uint64_t live_bytes;
    uint64_t peak_live_bytes;
    uint64_t live_mappings;
    uint64_t total_maps;           /* successful vkMapMemory calls */
    uint64_t violations;           /* rule violations seen (see header comment) */
    uint64_t sparse_binds;         /* VkSparse*MemoryBind elements vkQueueBindSparse accepted */
    uint64_t debug_marker_calls;   /* accepted vkDebugMarkerSetObjectName/TagEXT calls */
    uint64_t priority_changes;     /* accepted vkSetDeviceMemoryPriorityEXT calls */
    uint64_t requirements_queries; /* vkGet{Buffer,Image}MemoryRequirements{,2} calls, by resource */
} StrictDeviceCounters;

typedef enum StrictDeviceFault {
    STRICT_DEVICE_FAULT_ALLOCATE = 1, /* vkAllocateMemory -> VK_ERROR_OUT_OF_DEVICE_MEMORY */
    STRICT_DEVICE_FAULT_MAP = 2,      /* vkMapMemory -> VK_ERROR_MEMORY_MAP_FAILED */
} StrictDeviceFault;

/* Fills *counters for the device. */
typedef void(VKAPI_PTR *PFN_vkStrictDeviceGetCountersTEST)(VkDevice device, StrictDeviceCounters *counters);

/* Makes the nth call of that kind from now fail (nth = 1: the very next call);
 * with repeat, every call from the nth on fails. nth = 0 cancels the fault. */
typedef void(VKAPI_PTR *PFN_vkStrictDeviceInjectFaultTEST)(VkDevice device, StrictDeviceFault kind, uint64_t nth,
                                                           VkBool32 repeat);

/* Refuses (VK_ERROR_OUT_OF_DEVICE_MEMORY) every vkAllocateMemory above max_bytes,
 * as a fragmented real heap would; 0 removes the limit. */
typedef void(VKAPI_PTR *PFN_vkStrictDeviceSetAllocationSizeLimitTEST)(VkDevice device, VkDeviceSize max_bytes);

/* Whether memory is a live VkDeviceMemory this device's driver handed out. */
typedef VkBool32(VKAPI_PTR *PFN_vkStrictDeviceIsDriverMemoryTEST)(VkDevice device, VkDeviceMemory memory);

/* The rules the layer enforces. Each violation is reported once, under the first
 * rule the call breaks, on a stderr line "strict_device: VIOLATION: <rule>: ..."
 * where <rule> is the name in the comment. */
typedef enum StrictDeviceViolation {
    STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT = 0,      /* bind-alignment: offset % reported alignment */
    STRICT_DEVICE_VIOLATION_BIND_RANGE,              /* bind-range: offset + size past the allocation */
    STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE,        /* bind-memory-type: type not in memoryTypeBits */
    STRICT_DEVICE_VIOLATION_GRANULARITY,             /* buffer-image-granularity: a linear and an
                                                        optimal resource that do not overlap are
                                                        neighbours on one 1024-byte page of the
                                                        same memory (overlapping ones alias: legal) */
    STRICT_DEVICE_VIOLATION_OVERLAP,                 /* overlap: live bound resources overlap; only
                                                        with STRICT_DEVICE_FORBID_ALIASING=1, set by
                                                        programs that never alias on purpose (the
                                                        old STRICT_DEVICE_ALLOW_ALIASING=1 is no
                                                        longer needed, nor read) */
    STRICT_DEVICE_VIOLATION_MAPPED_RANGE_ALIGNMENT,  /* mapped-range-alignment: flush/invalidate
                                                        range not on nonCoherentAtomSize */
    STRICT_DEVICE_VIOLATION_MAPPED_RANGE_OUTSIDE,    /* mapped-range-outside-allocation */
    STRICT_DEVICE_VIOLATION_MAPPED_RANGE_NOT_MAPPED, /* mapped-range-not-mapped: memory not mapped,
                                                        or range outside the mapped range */
    STRICT_DEVICE_VIOLATION_MAP_ALREADY_MAPPED,      /* map-already-mapped */
    STRICT_DEVICE_VIOLATION_MAP_NOT_HOST_VISIBLE,    /* map-not-host-visible */
    STRICT_DEVICE_VIOLATION_MAP_RANGE,               /* map-range: offset/size outside the allocation */
    STRICT_DEVICE_VIOLATION_UNMAP_NOT_MAPPED,        /* unmap-not-mapped */
    STRICT_DEVICE_VIOLATION_ALLOCATION_COUNT,        /* allocation-count: a 4097th live allocation
                                                        (refused with VK_ERROR_TOO_MANY_OBJECTS) */
    STRICT_DEVICE_VIOLATION_MEMORY_TYPE_INDEX,       /* memory-type-index: no such fake type */
    STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY,          /* unknown-memory: a VkDeviceMemory this driver
                                                        never made or already freed (a layer handle
                                                        leaking down) in free, map, unmap, flush,
                                                        invalidate, bind, sparse bind, commitment,
                                                        opaque capture address, memory fd, priority,
                                                        private data or a debug-marker name or tag;
                                                        never passed on */
    STRICT_DEVICE_VIOLATION_LEAK_AT_DESTROY,         /* leak-at-destroy: driver allocations still live
                                                        at vkDestroyDevice; only checked with
                                                        STRICT_DEVICE_CHECK_LEAKS=1 */
    STRICT_DEVICE_VIOLATION_SPARSE_BLOCK,            /* sparse-block: a sparse bind's resourceOffset,
                                                        size, image offset or extent off the 64 KiB
                                                        block (shape), or past the resource */
    STRICT_DEVICE_VIOLATION_SPARSE_RESOURCE,         /* sparse-resource: a sparse bind of a resource
                                                        not created sparse (resident, for image binds),
                                                        unknown, or of a subresource it lacks or keeps
                                                        in its mip tail; or a vkBind*Memory of a
                                                        resource created sparse */
    STRICT_DEVICE_VIOLATION_KIND_COUNT
} StrictDeviceViolation;

/* How many violations of that rule the device has seen (0 for an unknown kind). */
typedef uint64_t(VKAPI_PTR *PFN_vkStrictDeviceGetViolationCountTEST)(VkDevice device, StrictDeviceViolation kind);

/* ---- what the emulated features saw ---- */

typedef enum StrictDeviceSparseBindKind {
    STRICT_DEVICE_SPARSE_BIND_BUFFER = 0,   /* VkSparseBufferMemoryBindInfo */
    STRICT_DEVICE_SPARSE_BIND_IMAGE_OPAQUE, /* VkSparseImageOpaqueMemoryBindInfo */
    STRICT_DEVICE_SPARSE_BIND_IMAGE,        /* VkSparseImageMemoryBindInfo */
} StrictDeviceSparseBindKind;

/* One accepted element of a vkQueueBindSparse call, as it reached this layer. */
typedef struct StrictDeviceSparseBind {
    StrictDeviceSparseBindKind kind;
    uint64_t resource;     /* the VkBuffer or VkImage */
    VkDeviceMemory memory; /* VK_NULL_HANDLE for an unbind */
    VkDeviceSize memory_offset;
    VkDeviceSize size;              /* bytes of memory the bind covers */
    VkDeviceSize resource_offset;   /* buffer and opaque binds */
    VkImageSubresource subresource; /* image binds */
    VkOffset3D offset;
    VkExtent3D extent;
    VkBool32 backed; /* made real: the whole resource bound on the driver */
} StrictDeviceSparseBind;

#define STRICT_DEVICE_SPARSE_BIND_HISTORY 64u

/* Copies the most recent accepted sparse binds (at most *count, and at most the
 * last STRICT_DEVICE_SPARSE_BIND_HISTORY), oldest first, and sets *count to how
 * many it copied. counters.sparse_binds has the total. */
typedef void(VKAPI_PTR *PFN_vkStrictDeviceGetSparseBindsTEST)(VkDevice device, uint32_t *count,
                                                              StrictDeviceSparseBind *binds);

#define STRICT_DEVICE_OBJECT_NAME_SIZE 64u

/* What VK_EXT_debug_marker set on one object. */
typedef struct StrictDeviceObjectMarker {
    char name[STRICT_DEVICE_OBJECT_NAME_SIZE]; /* the last name, truncated; "" when none */
    uint64_t tag_name;                         /* the last tag's name and size (0: none) */
    uint64_t tag_size;
    uint32_t name_calls;
    uint32_t tag_calls;
} StrictDeviceObjectMarker;

/* VK_FALSE when no name or tag was set on the object since it was made (a
 * memory, buffer or image forgets them when it goes). */
typedef VkBool32(VKAPI_PTR *PFN_vkStrictDeviceGetObjectMarkerTEST)(VkDevice device, VkDebugReportObjectTypeEXT type,
                                                                   uint64_t object, StrictDeviceObjectMarker *marker);

/* The priority of a live driver allocation: its VkMemoryPriorityAllocateInfoEXT
 * (0.5 without one), then the last vkSetDeviceMemoryPriorityEXT. VK_FALSE for
 * memory the driver never made. */
typedef VkBool32(VKAPI_PTR *PFN_vkStrictDeviceGetMemoryPriorityTEST)(VkDevice device, VkDeviceMemory memory,
                                                                     float *priority);

/* Where the driver has a buffer bound (by vkBindBufferMemory*, or a whole-buffer
 * sparse bind); VK_FALSE while it is unbound or unknown. */
typedef VkBool32(VKAPI_PTR *PFN_vkStrictDeviceGetBufferBindingTEST)(VkDevice device, VkBuffer buffer,
                                                                    VkDeviceMemory *memory, VkDeviceSize *offset);

#endif
