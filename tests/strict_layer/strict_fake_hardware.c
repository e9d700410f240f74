/* SPDX-License-Identifier: Apache-2.0 */
/* strict_fake_hardware.c: the fake identity, heaps, types, limits and alignments. */
#include <stdlib.h>
#include <string.h>

#include "strict_fake_hardware.h"

#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)

static const VkMemoryHeap fake_heaps[STRICT_FAKE_HEAP_COUNT] = {
    {2 * GiB, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT},   /* "VRAM" */
    {4 * GiB, 0},                                 /* system memory */
    {256 * MiB, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT}, /* the small BAR heap */
};

static const VkMemoryType fake_types[STRICT_DEVICE_MEMORY_TYPE_COUNT] = {
    {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0},
    {VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 1},
    {VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 1},
    {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
     2},
    {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, 0},
};

#define ALL_TYPES ((1u << STRICT_DEVICE_MEMORY_TYPE_COUNT) - 1u)
#define LAZY_TYPE_BIT (1u << STRICT_DEVICE_MEMORY_TYPE_LAZILY_ALLOCATED)

static uint32_t first_type_with(const VkPhysicalDeviceMemoryProperties *driver, VkMemoryPropertyFlags needed) {
    for (uint32_t i = 0; i < driver->memoryTypeCount; i++) {
        if ((driver->memoryTypes[i].propertyFlags & needed) == needed) return i;
    }
    return UINT32_MAX;
}

bool strict_fake_choose_backing(const VkPhysicalDeviceMemoryProperties *driver, strict_type_backing *backing) {
    /* Host-visible fake types need a coherent host-visible driver type: the
     * layer alone decides what is non-coherent (it shadows that type). The
     * others take the driver's device-local type. */
    uint32_t host = first_type_with(driver, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    if (host == UINT32_MAX) return false;
    uint32_t device_local = first_type_with(driver, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (device_local == UINT32_MAX) device_local = host;
    for (uint32_t t = 0; t < STRICT_DEVICE_MEMORY_TYPE_COUNT; t++)
        backing->real_type[t] = strict_fake_type_is_host_visible(t) ? host : device_local;
    return true;
}

void strict_fake_memory_properties(VkPhysicalDeviceMemoryProperties *properties) {
    *properties = (VkPhysicalDeviceMemoryProperties){0};
    properties->memoryTypeCount = STRICT_DEVICE_MEMORY_TYPE_COUNT;
    for (uint32_t t = 0; t < STRICT_DEVICE_MEMORY_TYPE_COUNT; t++) properties->memoryTypes[t] = fake_types[t];
    properties->memoryHeapCount = STRICT_FAKE_HEAP_COUNT;
    for (uint32_t h = 0; h < STRICT_FAKE_HEAP_COUNT; h++) properties->memoryHeaps[h] = fake_heaps[h];
}

void strict_fake_identity(VkPhysicalDeviceProperties *properties) {
    /* A discrete GPU, because that is what the memory above pretends to be:
     * programs pick their paths by device type (zink, libplacebo and others
     * treat a CPU device as a software rasterizer, and zink takes a CPU device
     * only under LIBGL_ALWAYS_SOFTWARE). A name of its own, which keeps the
     * driver's after a prefix, so that a log or a device chosen by name says
     * which one it is. The driver's vendor, device and driver IDs stay: they
     * describe the compiler and its quirks, which are still the driver's. */
    properties->deviceType = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    char driver_name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    memcpy(driver_name, properties->deviceName, sizeof(driver_name));
    driver_name[sizeof(driver_name) - 1] = '\0';
    if (strncmp(driver_name, STRICT_DEVICE_NAME_PREFIX, strlen(STRICT_DEVICE_NAME_PREFIX)) == 0)
        return; /* already ours: a second strict layer, or a query through this one twice */
    /* The driver's name is cut short where prefix and name together would not fit. */
    size_t prefix = strlen(STRICT_DEVICE_NAME_PREFIX);
    size_t room = sizeof(properties->deviceName) - prefix - 1;
    size_t kept = strnlen(driver_name, room);
    memcpy(properties->deviceName, STRICT_DEVICE_NAME_PREFIX, prefix);
    memcpy(properties->deviceName + prefix, driver_name, kept);
    properties->deviceName[prefix + kept] = '\0';
}

static VkDeviceSize max_size(VkDeviceSize a, VkDeviceSize b) { return a > b ? a : b; }

void strict_fake_raise_limits(VkPhysicalDeviceLimits *limits) {
    /* Never below the driver's own value: the driver must stay satisfied too. */
    limits->maxMemoryAllocationCount = STRICT_DEVICE_MAX_ALLOCATION_COUNT;
    limits->bufferImageGranularity = max_size(limits->bufferImageGranularity, STRICT_DEVICE_BUFFER_IMAGE_GRANULARITY);
    limits->nonCoherentAtomSize = max_size(limits->nonCoherentAtomSize, STRICT_DEVICE_NON_COHERENT_ATOM_SIZE);
    if (limits->minMemoryMapAlignment < STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT)
        limits->minMemoryMapAlignment = STRICT_DEVICE_MIN_MEMORY_MAP_ALIGNMENT;
    limits->sparseAddressSpaceSize = max_size(limits->sparseAddressSpaceSize, STRICT_FAKE_SPARSE_ADDRESS_SPACE);
}

uint32_t strict_fake_heap_of_type(uint32_t fake_type) { return fake_types[fake_type].heapIndex; }

VkDeviceSize strict_fake_heap_size(uint32_t heap) { return fake_heaps[heap].size; }

bool strict_fake_type_is_host_visible(uint32_t fake_type) {
    return (fake_types[fake_type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
}

bool strict_fake_type_is_host_coherent(uint32_t fake_type) {
    return (fake_types[fake_type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
}

uint32_t strict_fake_type_bits(const strict_type_backing *backing, uint32_t driver_bits, uint32_t allowed) {
    uint32_t bits = 0;
    for (uint32_t t = 0; t < STRICT_DEVICE_MEMORY_TYPE_COUNT; t++) {
        if ((allowed & (1u << t)) && (driver_bits & (1u << backing->real_type[t]))) bits |= 1u << t;
    }
    return bits;
}

/* STRICT_DEVICE_UNTILED_IMAGES=1: every optimal image aligned to 64 KiB at its
 * untiled size, even a 256-byte one. Legal, and harsher than any tiled GPU: a
 * resource smaller than its alignment, the one case placement cannot always
 * serve (layer/placement.c), for the tests of that path. */
static bool untiled_images(void) {
    static int cached = -1;
    if (cached < 0) {
        const char *value = getenv("STRICT_DEVICE_UNTILED_IMAGES");
        cached = value != NULL && strcmp(value, "1") == 0;
    }
    return cached == 1;
}

static VkDeviceSize kind_alignment(strict_resource_kind kind) {
    switch (kind) {
    case STRICT_RESOURCE_BUFFER: return STRICT_FAKE_BUFFER_ALIGNMENT;
    case STRICT_RESOURCE_LINEAR_IMAGE: return STRICT_FAKE_LINEAR_IMAGE_ALIGNMENT;
    case STRICT_RESOURCE_OPTIMAL_IMAGE: return STRICT_FAKE_OPTIMAL_IMAGE_ALIGNMENT;
    }
    return STRICT_FAKE_OPTIMAL_IMAGE_ALIGNMENT;
}

void strict_fake_requirements(const strict_type_backing *backing, strict_resource_shape shape,
                              VkMemoryRequirements *requirements) {
    /* Both are powers of two, so the larger is a multiple of the smaller and an
     * offset aligned for the fake device is aligned for the driver as well. */
    if (shape.kind == STRICT_RESOURCE_OPTIMAL_IMAGE && !untiled_images()) {
        /* A GPU lays an optimal image out in whole tiles, as AMD's do: images of
         * 64 KiB or more in 64 KiB tiles, smaller ones in 256-byte tiles, and it
         * reports the size in whole tiles, aligned to one. Small tiles keep the
         * bufferImageGranularity rule alive: such an image may end mid-page. */
        VkDeviceSize tile = requirements->size >= STRICT_FAKE_OPTIMAL_IMAGE_ALIGNMENT
                                ? STRICT_FAKE_OPTIMAL_IMAGE_ALIGNMENT
                                : STRICT_FAKE_SMALL_IMAGE_TILE;
        requirements->alignment = max_size(requirements->alignment, tile);
        requirements->size = (requirements->size + tile - 1) / tile * tile;
    } else {
        requirements->alignment = max_size(requirements->alignment, kind_alignment(shape.kind));
    }
    if (shape.sparse) {
        const VkDeviceSize block = STRICT_DEVICE_SPARSE_BLOCK_SIZE;
        requirements->alignment = max_size(requirements->alignment, block);
        requirements->size = (requirements->size + block - 1) / block * block;
    }
    uint32_t allowed = shape.transient ? ALL_TYPES : ALL_TYPES & ~LAZY_TYPE_BIT;
    requirements->memoryTypeBits = strict_fake_type_bits(backing, requirements->memoryTypeBits, allowed);
}

strict_resource_shape strict_image_shape(const VkImageCreateInfo *info) {
    strict_resource_shape shape = {STRICT_RESOURCE_OPTIMAL_IMAGE, false, false};
    /* DRM-modifier tiling is opaque to us: treat it as optimal, the stricter case. */
    if (info->tiling == VK_IMAGE_TILING_LINEAR) shape.kind = STRICT_RESOURCE_LINEAR_IMAGE;
    shape.transient = (info->usage & VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT) != 0;
    shape.sparse = (info->flags & STRICT_FAKE_SPARSE_IMAGE_FLAGS) != 0;
    return shape;
}

strict_resource_shape strict_buffer_shape(const VkBufferCreateInfo *info) {
    strict_resource_shape shape = {STRICT_RESOURCE_BUFFER, false, false};
    shape.sparse = info && (info->flags & STRICT_FAKE_SPARSE_BUFFER_FLAGS) != 0;
    return shape;
}
