/* SPDX-License-Identifier: Apache-2.0 */
/*
 * placement.c: where a slice starts, so that no valid bind is ever refused.
 *
 * Alignment is unknown at vkAllocateMemory: the app binds a resource later, at
 * a memoryOffset that meets that resource's alignment, and the driver sees
 * slice offset + memoryOffset. Real engines allocate a slab before they query
 * any image, bind a buffer at 0, then an optimal image at a multiple of its
 * alignment (64 KiB on many GPUs); others alias an image and a buffer on the
 * same bytes. So the layer gives every slice natural alignment:
 *
 *     the largest power of two not above allocationSize,
 *     capped at the largest alignment any resource needs in that memory type,
 *     never below the type's base (map alignment, min_alignment setting).
 *
 * (Granularity and the non-coherent atom are the pool's unit: every slice starts
 * and ends on it anyway.) Why that is enough: a resource of alignment A bound at
 * offset o (a multiple of A) inside an allocation of size S, o + its size <= S.
 * If A <= S, A is at most the largest power of two not above S and at most the
 * cap, so the slice start is a multiple of A and so is start + o. If A > S, o
 * must be 0 and the resource is smaller than its own alignment; natural
 * alignment does not cover it, so two more rules do: the last requirements
 * query of the calling thread (apps query, then allocate exactly that size),
 * and, failing that, a slice nobody has bound or mapped yet moves at its first
 * bind (pools.c); a bind2 array plans all its elements before it pins any, and
 * gives resources sharing one memory the largest of their alignments
 * (memory_bind.c). What remains impossible: a resource whose alignment exceeds
 * its allocation's size, bound at 0 into memory that is already bound or
 * mapped and sits misaligned. The bind then fails with
 * VK_ERROR_OUT_OF_DEVICE_MEMORY and an error message; it never reaches the
 * driver misaligned.
 *
 * The cap is learned at vkCreateDevice from short-lived probe resources (core
 * 1.0 calls, valid for any device, each format checked first): buffers of every
 * usage, optimal colour, depth/stencil, multisampled, 3D, large and linear
 * images, and sparse ones where sparse binding is enabled. Any larger alignment
 * the driver reports later raises it for the slices that follow.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---- requirements the driver reported -------------------------------------------- */

/* What a thread's recent requirements queries said, by size: apps query, then
 * allocate exactly that size, often all the queries of a scene first and then
 * all the allocations. A direct-mapped table per thread; a query of a size
 * already there keeps the largest alignment and every memory type seen. */
typedef struct queried_size {
    const suballoc_device *device;
    uint64_t size;
    uint64_t alignment;
    uint32_t memory_type_bits;
} queried_size;

#define QUERIED_SIZES 256u

/* Initial-exec: the allocation path reads it on every call, and the general
 * TLS model would cost a __tls_get_addr call in a shared library. The table
 * itself is on the heap, made on a thread's first query, freed at its exit. */
static __thread queried_size *queried_sizes __attribute__((tls_model("initial-exec")));
static pthread_key_t queried_sizes_key;
static pthread_once_t queried_sizes_once = PTHREAD_ONCE_INIT;

static void make_queried_sizes_key(void) { pthread_key_create(&queried_sizes_key, free); }

static uint32_t queried_slot(uint64_t size) {
    return (uint32_t)((size * 0x9E3779B97F4A7C15ull) >> 56) & (QUERIED_SIZES - 1);
}

static void remember_query(const suballoc_device *device, uint64_t size, uint64_t alignment, uint32_t bits) {
    if (queried_sizes == NULL) {
        pthread_once(&queried_sizes_once, make_queried_sizes_key);
        queried_sizes = cache_lines_calloc(QUERIED_SIZES * sizeof *queried_sizes);
        if (queried_sizes == NULL) return; /* placement falls back to natural alignment */
        pthread_setspecific(queried_sizes_key, queried_sizes);
    }
    queried_size *slot = &queried_sizes[queried_slot(size)];
    if (slot->device == device && slot->size == size) {
        slot->alignment = max_u64(slot->alignment, alignment);
        slot->memory_type_bits |= bits;
        return;
    }
    *slot = (queried_size){device, size, alignment, bits};
}

/* The alignment the calling thread's queries reported for a resource of exactly
 * this size in this type, or 0 when none did. */
static uint64_t queried_alignment(const suballoc_device *device, uint32_t memory_type, uint64_t size) {
    if (queried_sizes == NULL) return 0;
    const queried_size *slot = &queried_sizes[queried_slot(size)];
    if (slot->device != device || slot->size != size || !(slot->memory_type_bits & (1u << memory_type))) return 0;
    return slot->alignment;
}

static void raise_max_alignment(suballoc_device *device, uint32_t memory_type_bits, uint64_t alignment) {
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++)
        if (memory_type_bits & (1u << t)) stats_raise_peak(&device->types[t].max_alignment, alignment);
}

void note_requirements(suballoc_device *device, const VkMemoryRequirements *requirements) {
    uint64_t alignment = pow2_at_least(requirements->alignment);
    raise_max_alignment(device, requirements->memoryTypeBits, alignment);
    remember_query(device, requirements->size, alignment, requirements->memoryTypeBits);
}

static uint64_t floor_pow2(uint64_t value) { return value == 0 ? 1 : 1ull << (63 - __builtin_clzll(value)); }

uint64_t slice_alignment(const suballoc_device *device, uint32_t memory_type, uint64_t size) {
    const memory_type_info *type = &device->types[memory_type];
    uint64_t queried = queried_alignment(device, memory_type, size);
    if (queried != 0) return max_u64(type->base_alignment, queried);
    uint64_t cap = atomic_load_explicit(&type->max_alignment, memory_order_relaxed);
    return max_u64(type->base_alignment, min_u64(floor_pow2(size), cap));
}

/* ---- probing the largest alignment at vkCreateDevice ------------------------------- */

static void probe_buffer(suballoc_device *device, VkDeviceSize size, VkBufferUsageFlags usage,
                         VkBufferCreateFlags flags) {
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .flags = flags,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer;
    if (device->next.CreateBuffer(device->handle, &info, NULL, &buffer) != VK_SUCCESS) return;
    VkMemoryRequirements requirements;
    device->next.GetBufferMemoryRequirements(device->handle, buffer, &requirements);
    raise_max_alignment(device, requirements.memoryTypeBits, pow2_at_least(requirements.alignment));
    device->next.DestroyBuffer(device->handle, buffer, NULL);
}

typedef struct image_probe {
    VkFormat format;
    VkImageType type;
    VkImageTiling tiling;
    VkImageUsageFlags usage;
    VkImageCreateFlags flags;
    uint32_t size; /* width and height (and depth for 3D), clamped to what the format allows */
} image_probe;

/* Creates the probe image at the largest sample count the format allows there,
 * and at one sample; skips what the device does not support. */
static void probe_image(suballoc_device *device, const image_probe *probe) {
    const instance_dispatch *next = &device->instance->next;
    VkImageFormatProperties limits;
    if (next->GetPhysicalDeviceImageFormatProperties(device->physical_device, probe->format, probe->type, probe->tiling,
                                                     probe->usage, probe->flags, &limits) != VK_SUCCESS)
        return;
    VkExtent3D extent = {
        min_u64(probe->size, limits.maxExtent.width),
        probe->type == VK_IMAGE_TYPE_1D ? 1 : min_u64(probe->size, limits.maxExtent.height),
        probe->type == VK_IMAGE_TYPE_3D ? min_u64(probe->size, limits.maxExtent.depth) : 1,
    };
    VkSampleCountFlagBits most = VK_SAMPLE_COUNT_1_BIT;
    if (probe->type == VK_IMAGE_TYPE_2D && probe->tiling == VK_IMAGE_TILING_OPTIMAL &&
        !(probe->flags & VK_IMAGE_CREATE_SPARSE_BINDING_BIT))
        for (uint32_t bit = VK_SAMPLE_COUNT_64_BIT; bit > VK_SAMPLE_COUNT_1_BIT; bit >>= 1)
            if (limits.sampleCounts & bit) {
                most = (VkSampleCountFlagBits)bit;
                break;
            }
    VkSampleCountFlagBits counts[2] = {VK_SAMPLE_COUNT_1_BIT, most};
    for (int i = 0; i < (most == VK_SAMPLE_COUNT_1_BIT ? 1 : 2); i++) {
        VkImageCreateInfo info = {
            .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
            .flags = probe->flags,
            .imageType = probe->type,
            .format = probe->format,
            .extent = extent,
            .mipLevels = 1,
            .arrayLayers = 1,
            .samples = counts[i],
            .tiling = probe->tiling,
            .usage = probe->usage,
            .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
            .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        };
        /* Multisampled images may not be storage or sparse-resident; colour ones keep the attachment usage. */
        if (counts[i] != VK_SAMPLE_COUNT_1_BIT) info.usage &= ~VK_IMAGE_USAGE_STORAGE_BIT;
        /* Keep under maxResourceSize, counting 16 bytes a texel, more than any probed format takes. */
        while ((uint64_t)info.extent.width * info.extent.height * info.extent.depth * 16 * counts[i] >
                   limits.maxResourceSize &&
               info.extent.width > 1) {
            info.extent.width /= 2;
            info.extent.height = max_u64(1, info.extent.height / 2);
            info.extent.depth = max_u64(1, info.extent.depth / 2);
        }
        VkImage image;
        if (device->next.CreateImage(device->handle, &info, NULL, &image) != VK_SUCCESS) continue;
        VkMemoryRequirements requirements;
        device->next.GetImageMemoryRequirements(device->handle, image, &requirements);
        raise_max_alignment(device, requirements.memoryTypeBits, pow2_at_least(requirements.alignment));
        device->next.DestroyImage(device->handle, image, NULL);
    }
}

static const VkFormat colour_formats[] = {
    VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R16G16B16A16_SFLOAT,  VK_FORMAT_R32G32B32A32_SFLOAT,
    VK_FORMAT_R8_UNORM,       VK_FORMAT_BC1_RGBA_UNORM_BLOCK, VK_FORMAT_ETC2_R8G8B8A8_UNORM_BLOCK,
};
static const VkFormat depth_formats[] = {
    VK_FORMAT_D16_UNORM,          VK_FORMAT_D32_SFLOAT,          VK_FORMAT_D24_UNORM_S8_UINT,
    VK_FORMAT_D32_SFLOAT_S8_UINT, VK_FORMAT_X8_D24_UNORM_PACK32, VK_FORMAT_S8_UINT,
};

#define COLOUR_USAGE                                                                                      \
    (VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT | \
     VK_IMAGE_USAGE_TRANSFER_DST_BIT)
#define TEXTURE_USAGE (VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT)
#define DEPTH_USAGE (VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT | VK_IMAGE_USAGE_SAMPLED_BIT)

static void probe_images(suballoc_device *device, const device_features *features) {
    for (size_t f = 0; f < sizeof colour_formats / sizeof colour_formats[0]; f++) {
        VkFormat format = colour_formats[f];
        const uint32_t sizes[] = {64, 1024, 8192}; /* some drivers align large images more */
        for (size_t s = 0; s < 3; s++) {
            probe_image(device,
                        &(image_probe){format, VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL, COLOUR_USAGE, 0, sizes[s]});
            probe_image(device,
                        &(image_probe){format, VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL, TEXTURE_USAGE, 0, sizes[s]});
            probe_image(device, &(image_probe){format, VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL,
                                               TEXTURE_USAGE | VK_IMAGE_USAGE_STORAGE_BIT, 0, sizes[s]});
        }
        probe_image(device, &(image_probe){format, VK_IMAGE_TYPE_3D, VK_IMAGE_TILING_OPTIMAL, TEXTURE_USAGE, 0, 128});
        probe_image(device, &(image_probe){format, VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_LINEAR,
                                           VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, 0, 1024});
        if (features->sparse_binding) {
            VkImageCreateFlags sparse = VK_IMAGE_CREATE_SPARSE_BINDING_BIT;
            if (features->sparse_residency_image_2d) sparse |= VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT;
            probe_image(device,
                        &(image_probe){format, VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL, TEXTURE_USAGE, sparse, 1024});
        }
    }
    for (size_t f = 0; f < sizeof depth_formats / sizeof depth_formats[0]; f++) {
        probe_image(device,
                    &(image_probe){depth_formats[f], VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL, DEPTH_USAGE, 0, 64});
        probe_image(device,
                    &(image_probe){depth_formats[f], VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL, DEPTH_USAGE, 0, 4096});
    }
}

static void probe_buffers(suballoc_device *device, const device_features *features) {
    VkBufferUsageFlags every_core_usage =
        VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
        VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |
        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT |
        VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT;
    if (features->buffer_device_address) every_core_usage |= VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
    for (VkBufferUsageFlags usage = 1; usage <= VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT; usage <<= 1)
        probe_buffer(device, 4096, usage, 0);
    probe_buffer(device, 4096, every_core_usage, 0);
    probe_buffer(device, 64ull << 20, every_core_usage, 0);
    if (features->sparse_binding) {
        VkBufferCreateFlags sparse = VK_BUFFER_CREATE_SPARSE_BINDING_BIT;
        if (features->sparse_residency_buffer) sparse |= VK_BUFFER_CREATE_SPARSE_RESIDENCY_BIT;
        probe_buffer(device, 16ull << 20, every_core_usage, sparse);
    }
}

void placement_probe_alignments(suballoc_device *device) {
    if (device->next.CreateBuffer == NULL || device->next.CreateImage == NULL || device->next.DestroyBuffer == NULL ||
        device->next.DestroyImage == NULL || device->instance->next.GetPhysicalDeviceImageFormatProperties == NULL)
        return; /* the caps stay at the base; the last-query and move rules still apply */
    probe_buffers(device, &device->features);
    probe_images(device, &device->features);
    for (uint32_t t = 0; t < device->memory.memoryTypeCount; t++)
        LOG_DEBUG(device, "memory type %u: resources need at most %llu-byte alignment", t,
                  (unsigned long long)atomic_load(&device->types[t].max_alignment));
}
