/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strict_fake_hardware.h: the hardware the strict layer pretends to be.
 *
 * Pure functions over plain structures (no dispatch, no locks): the fake memory
 * heaps and types of strict_device.h, the limits it raises, and how a driver's
 * memory requirements become the fake ones.
 */
#ifndef STRICT_FAKE_HARDWARE_H
#define STRICT_FAKE_HARDWARE_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "strict_device.h"

#define STRICT_FAKE_HEAP_COUNT 3u

#define STRICT_FAKE_BUFFER_ALIGNMENT 256u
#define STRICT_FAKE_LINEAR_IMAGE_ALIGNMENT 4096u
#define STRICT_FAKE_OPTIMAL_IMAGE_ALIGNMENT 65536u /* and tile, for images of 64 KiB or more */
#define STRICT_FAKE_SMALL_IMAGE_TILE 256u          /* tile and alignment of smaller optimal images */

/* What decides a resource's fake alignment and allowed memory types. */
typedef enum strict_resource_kind {
    STRICT_RESOURCE_BUFFER,
    STRICT_RESOURCE_LINEAR_IMAGE,
    STRICT_RESOURCE_OPTIMAL_IMAGE,
} strict_resource_kind;

typedef struct strict_resource_shape {
    strict_resource_kind kind;
    bool transient; /* image usage has TRANSIENT_ATTACHMENT: may use the lazy type */
    bool sparse;    /* created with a SPARSE_* flag: binds in whole sparse blocks */
} strict_resource_shape;

/* The driver memory type that backs each fake type. */
typedef struct strict_type_backing {
    uint32_t real_type[STRICT_DEVICE_MEMORY_TYPE_COUNT];
} strict_type_backing;

/* Chooses, for every fake type, a driver type able to play it (host-visible
 * where the fake type is). False when the driver has no host-visible type. */
bool strict_fake_choose_backing(const VkPhysicalDeviceMemoryProperties *driver, strict_type_backing *backing);

/* Device type and name: a discrete GPU named STRICT_DEVICE_NAME_PREFIX + the driver's name. */
void strict_fake_identity(VkPhysicalDeviceProperties *properties);
void strict_fake_memory_properties(VkPhysicalDeviceMemoryProperties *properties);
void strict_fake_raise_limits(VkPhysicalDeviceLimits *limits);

uint32_t strict_fake_heap_of_type(uint32_t fake_type);
VkDeviceSize strict_fake_heap_size(uint32_t heap);
bool strict_fake_type_is_host_visible(uint32_t fake_type);
bool strict_fake_type_is_host_coherent(uint32_t fake_type);

/* Turns the driver's requirements into the fake ones, in place: alignment
 * raised to the kind's (to the sparse block for sparse resources, whose size
 * becomes whole blocks), memoryTypeBits rewritten to fake type indices. */
void strict_fake_requirements(const strict_type_backing *backing, strict_resource_shape shape,
                              VkMemoryRequirements *requirements);

/* Fake types whose backing driver type is in driver_bits, limited to allowed. */
uint32_t strict_fake_type_bits(const strict_type_backing *backing, uint32_t driver_bits, uint32_t allowed);

strict_resource_shape strict_image_shape(const VkImageCreateInfo *info);
strict_resource_shape strict_buffer_shape(const VkBufferCreateInfo *info);

/* ---- sparse binding (strict_fake_sparse.c) ---- */

#define STRICT_FAKE_SPARSE_ADDRESS_SPACE (1ull << 40)
#define STRICT_FAKE_SPARSE_BUFFER_FLAGS \
    (VK_BUFFER_CREATE_SPARSE_BINDING_BIT | VK_BUFFER_CREATE_SPARSE_RESIDENCY_BIT | VK_BUFFER_CREATE_SPARSE_ALIASED_BIT)
#define STRICT_FAKE_SPARSE_IMAGE_FLAGS \
    (VK_IMAGE_CREATE_SPARSE_BINDING_BIT | VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT | VK_IMAGE_CREATE_SPARSE_ALIASED_BIT)

/* Where a sparse-resident image's blocks lie in its opaque range: the blocks of
 * every whole level, layer by layer, then one mip tail for all layers. */
typedef struct strict_sparse_image_layout {
    VkExtent3D granularity;      /* texels per block (the standard 2D shapes) */
    uint32_t mip_tail_first_lod; /* the image's mipLevels when it has no tail */
    VkDeviceSize mip_tail_offset;
    VkDeviceSize mip_tail_size; /* 0 without a tail */
    VkDeviceSize size;          /* the whole opaque range */
} strict_sparse_image_layout;

void strict_fake_sparse_features(VkPhysicalDeviceFeatures *features);
void strict_fake_sparse_properties(VkPhysicalDeviceSparseProperties *properties);
/* Whether images of this kind may be sparse resident: 2D, one sample, optimal, a known colour format. */
bool strict_fake_sparse_residency_supported(VkFormat format, VkImageType type, VkSampleCountFlagBits samples,
                                            VkImageTiling tiling);
VkSparseImageFormatProperties strict_fake_sparse_format_properties(VkFormat format);
/* False when the image cannot be sparse resident. */
bool strict_fake_sparse_image_layout(const VkImageCreateInfo *info, strict_sparse_image_layout *layout);
/* The extent of one mip level. */
VkExtent3D strict_fake_mip_extent(VkExtent3D extent, uint32_t level);
/* Bytes of memory an image bind of that extent covers: its blocks, partial ones whole. */
VkDeviceSize strict_fake_sparse_region_bytes(const strict_sparse_image_layout *layout, VkExtent3D extent);

#endif
