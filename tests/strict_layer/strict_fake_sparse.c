/* SPDX-License-Identifier: Apache-2.0 */
/* strict_fake_sparse.c: the sparse binding the fake hardware offers: features,
 * properties, the formats images may be sparse resident in, and where an
 * image's blocks lie. */
#include "strict_fake_hardware.h"

#define BLOCK ((VkDeviceSize)STRICT_DEVICE_SPARSE_BLOCK_SIZE)

void strict_fake_sparse_features(VkPhysicalDeviceFeatures *features) {
    features->sparseBinding = VK_TRUE;
    features->sparseResidencyBuffer = VK_TRUE;
    features->sparseResidencyImage2D = VK_TRUE;
}

void strict_fake_sparse_properties(VkPhysicalDeviceSparseProperties *properties) {
    /* Only what strict_fake_sparse_image_layout really does. */
    *properties = (VkPhysicalDeviceSparseProperties){.residencyStandard2DBlockShape = VK_TRUE};
}

typedef struct sparse_format {
    VkFormat format;
    uint32_t texel_bytes;
} sparse_format;

/* Uncompressed colour formats of one plane; enough for tests, honest for each. */
static const sparse_format sparse_formats[] = {
    {VK_FORMAT_R8_UNORM, 1},
    {VK_FORMAT_R8_UINT, 1},
    {VK_FORMAT_R8G8_UNORM, 2},
    {VK_FORMAT_R16_UINT, 2},
    {VK_FORMAT_R16_SFLOAT, 2},
    {VK_FORMAT_R8G8B8A8_UNORM, 4},
    {VK_FORMAT_R8G8B8A8_SRGB, 4},
    {VK_FORMAT_R8G8B8A8_UINT, 4},
    {VK_FORMAT_B8G8R8A8_UNORM, 4},
    {VK_FORMAT_B8G8R8A8_SRGB, 4},
    {VK_FORMAT_R32_UINT, 4},
    {VK_FORMAT_R32_SFLOAT, 4},
    {VK_FORMAT_R16G16B16A16_SFLOAT, 8},
    {VK_FORMAT_R16G16B16A16_UINT, 8},
    {VK_FORMAT_R32G32_UINT, 8},
    {VK_FORMAT_R32G32_SFLOAT, 8},
    {VK_FORMAT_R32G32B32A32_UINT, 16},
    {VK_FORMAT_R32G32B32A32_SFLOAT, 16},
};

static uint32_t texel_bytes(VkFormat format) {
    for (uint32_t i = 0; i < sizeof(sparse_formats) / sizeof(sparse_formats[0]); i++) {
        if (sparse_formats[i].format == format) return sparse_formats[i].texel_bytes;
    }
    return 0;
}

/* The standard 2D single-sample block shapes: 64 KiB of texels each. */
static VkExtent3D standard_granularity(uint32_t bytes) {
    switch (bytes) {
    case 1: return (VkExtent3D){256, 256, 1};
    case 2: return (VkExtent3D){256, 128, 1};
    case 4: return (VkExtent3D){128, 128, 1};
    case 8: return (VkExtent3D){128, 64, 1};
    default: return (VkExtent3D){64, 64, 1};
    }
}

bool strict_fake_sparse_residency_supported(VkFormat format, VkImageType type, VkSampleCountFlagBits samples,
                                            VkImageTiling tiling) {
    return type == VK_IMAGE_TYPE_2D && samples == VK_SAMPLE_COUNT_1_BIT && tiling == VK_IMAGE_TILING_OPTIMAL &&
           texel_bytes(format) != 0;
}

VkSparseImageFormatProperties strict_fake_sparse_format_properties(VkFormat format) {
    return (VkSparseImageFormatProperties){
        .aspectMask = VK_IMAGE_ASPECT_COLOR_BIT,
        .imageGranularity = standard_granularity(texel_bytes(format)),
        .flags = VK_SPARSE_IMAGE_FORMAT_SINGLE_MIPTAIL_BIT | VK_SPARSE_IMAGE_FORMAT_ALIGNED_MIP_SIZE_BIT,
    };
}

static uint32_t at_least_one(uint32_t value) { return value ? value : 1; }

VkExtent3D strict_fake_mip_extent(VkExtent3D extent, uint32_t level) {
    return (VkExtent3D){at_least_one(extent.width >> level), at_least_one(extent.height >> level),
                        at_least_one(extent.depth >> level)};
}

static uint32_t blocks_across(uint32_t texels, uint32_t block_texels) {
    return (texels + block_texels - 1) / block_texels;
}

VkDeviceSize strict_fake_sparse_region_bytes(const strict_sparse_image_layout *layout, VkExtent3D extent) {
    return (VkDeviceSize)blocks_across(extent.width, layout->granularity.width) *
           blocks_across(extent.height, layout->granularity.height) * BLOCK;
}

bool strict_fake_sparse_image_layout(const VkImageCreateInfo *info, strict_sparse_image_layout *layout) {
    if (!strict_fake_sparse_residency_supported(info->format, info->imageType, info->samples, info->tiling) ||
        info->extent.depth != 1)
        return false;
    uint32_t bytes = texel_bytes(info->format);
    VkExtent3D block = standard_granularity(bytes);
    /* ALIGNED_MIP_SIZE: the tail starts at the first level that is not whole blocks. */
    VkDeviceSize per_layer = 0;
    uint32_t level = 0;
    for (; level < info->mipLevels; level++) {
        VkExtent3D mip = strict_fake_mip_extent(info->extent, level);
        if (mip.width % block.width != 0 || mip.height % block.height != 0) break;
        per_layer += strict_fake_sparse_region_bytes(&(strict_sparse_image_layout){.granularity = block}, mip);
    }
    VkDeviceSize tail_bytes = 0;
    for (uint32_t tail = level; tail < info->mipLevels; tail++) {
        VkExtent3D mip = strict_fake_mip_extent(info->extent, tail);
        tail_bytes += (VkDeviceSize)mip.width * mip.height * bytes;
    }
    tail_bytes *= info->arrayLayers; /* SINGLE_MIPTAIL: one tail holds every layer's */
    layout->granularity = block;
    layout->mip_tail_first_lod = level;
    layout->mip_tail_offset = per_layer * info->arrayLayers;
    layout->mip_tail_size = (tail_bytes + BLOCK - 1) / BLOCK * BLOCK;
    layout->size = layout->mip_tail_offset + layout->mip_tail_size;
    return true;
}
