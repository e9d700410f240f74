/* SPDX-License-Identifier: Apache-2.0 */
/* strict_sparse_resources.c: sparse buffers and images. The driver makes
 * plain ones (it has no sparse binding); the caller is told what sparse ones
 * would need: whole 64 KiB blocks, and for resident images where each block
 * of each level lies (strict_fake_sparse.c). */
#include "strict_layer_internal.h"

VkBufferCreateInfo strict_sparse_driver_buffer_info(const VkBufferCreateInfo *info) {
    VkBufferCreateInfo driver = *info;
    driver.flags &= ~(VkBufferCreateFlags)STRICT_FAKE_SPARSE_BUFFER_FLAGS;
    return driver;
}

VkImageCreateInfo strict_sparse_driver_image_info(const VkImageCreateInfo *info) {
    VkImageCreateInfo driver = *info;
    driver.flags &= ~(VkImageCreateFlags)STRICT_FAKE_SPARSE_IMAGE_FLAGS;
    return driver;
}

void strict_sparse_describe_buffer(strict_resource *resource, const VkBufferCreateInfo *info) {
    resource->sparse_flags = info->flags & STRICT_FAKE_SPARSE_BUFFER_FLAGS;
}

void strict_sparse_image_requirements(const VkImageCreateInfo *info, VkMemoryRequirements *requirements) {
    strict_sparse_image_layout layout;
    if (!(info->flags & VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT) || !strict_fake_sparse_image_layout(info, &layout))
        return;
    /* The opaque range holds the layout, and the driver's whole image when it is bound at once. */
    if (layout.size > requirements->size) requirements->size = layout.size;
}

void strict_sparse_describe_image(strict_resource *resource, const VkImageCreateInfo *info) {
    resource->sparse_flags = info->flags & STRICT_FAKE_SPARSE_IMAGE_FLAGS;
    strict_sparse_image *image = &resource->sparse_image;
    image->resident =
        (info->flags & VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT) && strict_fake_sparse_image_layout(info, &image->layout);
    image->format = info->format;
    image->extent = info->extent;
    image->mip_levels = info->mipLevels;
    image->array_layers = info->arrayLayers;
    if (resource->requirements_known) strict_sparse_image_requirements(info, &resource->requirements);
}

bool strict_sparse_known_requirements(strict_device *device, strict_handle_map *map, uint64_t handle,
                                      VkMemoryRequirements *requirements) {
    pthread_mutex_lock(&device->lock);
    const strict_resource *resource = strict_handle_map_find(map, handle);
    bool known = resource && resource->sparse_flags && resource->requirements_known;
    if (known) *requirements = resource->requirements;
    pthread_mutex_unlock(&device->lock);
    return known;
}

/* ---- vkGet*SparseMemoryRequirements* ---- */

static VkSparseImageMemoryRequirements resident_requirements(VkFormat format,
                                                             const strict_sparse_image_layout *layout) {
    return (VkSparseImageMemoryRequirements){
        .formatProperties = strict_fake_sparse_format_properties(format),
        .imageMipTailFirstLod = layout->mip_tail_first_lod,
        .imageMipTailSize = layout->mip_tail_size,
        .imageMipTailOffset = layout->mip_tail_offset,
        .imageMipTailStride = 0, /* SINGLE_MIPTAIL: no per-layer tails */
    };
}

/* The one set of requirements a resident image has; false for any other image. */
static bool requirements_of_image(strict_device *device, VkImage image, VkSparseImageMemoryRequirements *out) {
    pthread_mutex_lock(&device->lock);
    const strict_resource *resource = strict_handle_map_find(&device->images, (uint64_t)image);
    bool resident = resource && resource->sparse_image.resident;
    if (resident) *out = resident_requirements(resource->sparse_image.format, &resource->sparse_image.layout);
    pthread_mutex_unlock(&device->lock);
    return resident;
}

/* The two-call protocol for a list of at most one: sets *count and says
 * whether the one is to be written. */
static bool answer_count(uint32_t *count, bool have_list, bool available) {
    uint32_t total = available ? 1 : 0;
    if (!have_list || *count > total) *count = total;
    return have_list && *count == 1;
}

VKAPI_ATTR void VKAPI_CALL strict_GetImageSparseMemoryRequirements(VkDevice handle, VkImage image, uint32_t *count,
                                                                   VkSparseImageMemoryRequirements *requirements) {
    strict_device *device = strict_registry_device(handle);
    VkSparseImageMemoryRequirements found;
    bool available = device && requirements_of_image(device, image, &found);
    if (answer_count(count, requirements != NULL, available)) requirements[0] = found;
}

VKAPI_ATTR void VKAPI_CALL strict_GetImageSparseMemoryRequirements2(VkDevice handle,
                                                                    const VkImageSparseMemoryRequirementsInfo2 *info,
                                                                    uint32_t *count,
                                                                    VkSparseImageMemoryRequirements2 *requirements) {
    strict_device *device = strict_registry_device(handle);
    VkSparseImageMemoryRequirements found;
    bool available = device && info && requirements_of_image(device, info->image, &found);
    if (answer_count(count, requirements != NULL, available)) requirements[0].memoryRequirements = found;
}

VKAPI_ATTR void VKAPI_CALL
strict_GetDeviceImageSparseMemoryRequirements(VkDevice handle, const VkDeviceImageMemoryRequirements *info,
                                              uint32_t *count, VkSparseImageMemoryRequirements2 *requirements) {
    (void)handle;
    strict_sparse_image_layout layout;
    const VkImageCreateInfo *create = info ? info->pCreateInfo : NULL;
    bool available = create && (create->flags & VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT) &&
                     strict_fake_sparse_image_layout(create, &layout);
    if (answer_count(count, requirements != NULL, available))
        requirements[0].memoryRequirements = resident_requirements(create->format, &layout);
}
