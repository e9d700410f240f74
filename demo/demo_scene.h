/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo_scene: the resources of a naive engine, each with its own
 * vkAllocateMemory: storage buffers, and storage images uploaded and read back
 * through their own staging buffers. Every value written is unique to its
 * allocation, and every result is checked.
 */
#ifndef DEMO_SCENE_H
#define DEMO_SCENE_H

#include "demo_context.h"

typedef enum demo_kind { DEMO_BUFFER, DEMO_IMAGE } demo_kind;

typedef struct demo_object {
    demo_kind kind;
    uint32_t id;            /* mixed into the pattern and the salt */
    uint32_t width, height; /* values: width x 1 for a buffer, texels for an image */
    VkBuffer buffer;        /* the storage buffer, or the image's staging buffer */
    VkDeviceMemory buffer_memory;
    VkImage image; /* images only */
    VkImageView view;
    VkDeviceMemory image_memory;
    VkDescriptorSet set; /* owned by the compute pass's pool */
} demo_object;

typedef struct demo_scene {
    demo_object *objects;
    uint32_t object_count;
    uint32_t buffer_count;     /* storage buffers */
    uint32_t image_count;      /* images, each with a staging buffer */
    uint32_t allocation_count; /* vkAllocateMemory calls made */
    VkDeviceSize bytes;        /* their sizes added up */
    uint64_t value_count;      /* 32-bit values uploaded and checked */
    bool host_coherent;        /* else the demo flushes and invalidates */
} demo_scene;

/* Creates, allocates and binds resources using exactly `allocations`
 * vkAllocateMemory calls (1 in 10 goes to an image or its staging buffer). */
bool demo_scene_create(demo_scene *scene, const demo_context *ctx, uint32_t allocations);

/* Writes every pattern through a fresh mapping of each allocation. */
void demo_scene_upload(const demo_scene *scene, const demo_context *ctx);

/* Reads every result back through mappings; returns the number of wrong values
 * and prints the first few. */
uint64_t demo_scene_verify(const demo_scene *scene, const demo_context *ctx);

/* Changes one result behind the GPU's back, to prove the check can fail. */
void demo_scene_inject_mismatch(const demo_scene *scene, const demo_context *ctx);

/* Destroys every resource and frees every allocation, in a shuffled order. */
void demo_scene_destroy(demo_scene *scene, const demo_context *ctx);

#endif
