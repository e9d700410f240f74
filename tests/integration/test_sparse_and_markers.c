/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sparse_and_markers: the entry points that carry a VkDeviceMemory but
 * that lavapipe lacks: vkQueueBindSparse (buffer, opaque image and image
 * binds), vkDebugMarkerSetObjectName/TagEXT, vkSetDeviceMemoryPriorityEXT, and
 * allocations with VkMemoryPriorityAllocateInfoEXT. The strict layer emulates
 * them and records what reaches it, so a case sees where the layer sent each
 * handle; a layer handle reaching it would be refused as unknown memory and end
 * the run. In chains without the strict layer the features are missing and the
 * cases say so and skip (the validation chains do offer VK_EXT_debug_marker).
 *
 * The first argument picks a group of cases:
 *   pools     on the harness's device, whose request includes VK_EXT_memory_priority:
 *             its statistics line counts the blocks;
 *   features  cases that need sparse binding, VK_EXT_debug_marker or
 *             VK_EXT_pageable_device_local_memory, which a harness request cannot
 *             ask for: each makes an app of its own (instance, messenger, device).
 *             Its device adds a statistics line per case, so this group runs
 *             without a statistics file and counts through the strict layer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define LAYER_MESSAGE_ID "TRANSPARENT-suballoc"
#define WAIT_NS (10ull * 1000 * 1000 * 1000) /* a fence nobody signals fails the case, not the run */

/* ---------------------------------------------------------------- an app with the features */

typedef struct feature_request {
    bool sparse;
    bool debug_marker;
    bool pageable_memory;
} feature_request;

typedef struct feature_app {
    harness h; /* the harness's, pointed at this app's instance and device */
    VkDebugUtilsMessengerEXT messenger;
    bool sparse_image; /* sparseResidencyImage2D */
    PFN_vkDebugMarkerSetObjectNameEXT set_object_name;
    PFN_vkDebugMarkerSetObjectTagEXT set_object_tag;
    PFN_vkSetDeviceMemoryPriorityEXT set_memory_priority;
    /* The strict layer's records; NULL when it is not in the chain. */
    PFN_vkStrictDeviceGetSparseBindsTEST strict_sparse_binds;
    PFN_vkStrictDeviceGetObjectMarkerTEST strict_object_marker;
    PFN_vkStrictDeviceGetMemoryPriorityTEST strict_memory_priority;
    PFN_vkStrictDeviceGetBufferBindingTEST strict_buffer_binding;
    /* Messages from this app's instance: errors of the layer may be expected. */
    bool layer_errors_expected;
    uint64_t layer_errors;
    char last_layer_error[512];
    uint64_t unexpected_messages;
} feature_app;

static VKAPI_ATTR VkBool32 VKAPI_CALL app_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                  VkDebugUtilsMessageTypeFlagsEXT types,
                                                  const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    feature_app *app = user;
    const char *id = data->pMessageIdName ? data->pMessageIdName : "-";
    if (types == VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT && test_vk_is_loader_message(data)) return VK_FALSE;
    bool error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    if (error && app->layer_errors_expected && strncmp(id, LAYER_MESSAGE_ID, strlen(LAYER_MESSAGE_ID)) == 0) {
        app->layer_errors++;
        snprintf(app->last_layer_error, sizeof app->last_layer_error, "%s", data->pMessage ? data->pMessage : "");
        printf("  expected message: %s\n", app->last_layer_error);
        return VK_FALSE;
    }
    fprintf(stderr, "%s message [%s]: %s\n", error ? "ERROR" : "WARNING", id, data->pMessage ? data->pMessage : "");
    app->unexpected_messages++;
    return VK_FALSE;
}

/* VK_EXT_debug_marker needs VK_EXT_debug_report on the instance. */
static void create_app_instance(const harness *outer, feature_app *app) {
    const char *debug_report[] = {VK_EXT_DEBUG_REPORT_EXTENSION_NAME};
    test_vk_instance_info info = {
        .application = "suballoc-sparse-and-markers",
        .api_version = outer->api_version,
        .messenger = app_message,
        .messenger_user = app,
        .extensions = debug_report,
        .extension_count = test_vk_has_instance_extension(VK_EXT_DEBUG_REPORT_EXTENSION_NAME) ? 1 : 0,
    };
    test_vk_instance instance;
    VK_REQUIRE(test_vk_instance_create(&info, &instance));
    app->h.instance = instance.handle;
    app->messenger = instance.messenger;
}

/* The same GPU the harness picked, seen from this app's instance. */
static VkPhysicalDevice same_physical_device(const harness *outer, VkInstance instance) {
    VkPhysicalDevice devices[16];
    uint32_t count = 16;
    VkResult result = vkEnumeratePhysicalDevices(instance, &count, devices);
    REQUIRE(result == VK_SUCCESS || result == VK_INCOMPLETE, "physical devices: %s", vk_result_name(result));
    for (uint32_t i = 0; i < count; i++) {
        VkPhysicalDeviceProperties properties;
        vkGetPhysicalDeviceProperties(devices[i], &properties);
        if (strcmp(properties.deviceName, outer->properties.deviceName) == 0) return devices[i];
    }
    REQUIRE(false, "the harness's device '%s' is not seen by a second instance", outer->properties.deviceName);
    return VK_NULL_HANDLE;
}

static void destroy_app_instance(feature_app *app) {
    test_vk_instance instance = {.handle = app->h.instance, .messenger = app->messenger};
    test_vk_instance_destroy(&instance);
}

typedef struct app_features {
    VkPhysicalDeviceFeatures2 core;
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority;
    VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable;
} app_features;

/* The features structure chain, with the extension structures the device has. */
static void link_app_features(app_features *f, bool pageable) {
    f->core.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    f->priority.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT;
    f->pageable.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT;
    f->core.pNext = pageable ? &f->priority : NULL;
    f->priority.pNext = &f->pageable;
    f->pageable.pNext = NULL;
}

/* Says why the device cannot run the case, or NULL when it can. */
static const char *missing_feature(const feature_request *want, const app_features *has, bool has_marker,
                                   bool has_pageable, VkQueueFlags queue_flags) {
    if (want->sparse && !(has->core.features.sparseBinding && has->core.features.sparseResidencyBuffer))
        return "no sparseBinding and sparseResidencyBuffer (lavapipe has none; the strict layer emulates them)";
    if (want->sparse && !(queue_flags & VK_QUEUE_SPARSE_BINDING_BIT)) return "the queue family cannot bind sparse";
    if (want->debug_marker && !has_marker)
        return "no VK_EXT_debug_marker (lavapipe lacks it; the strict layer emulates it)";
    if (want->pageable_memory && !(has_pageable && has->pageable.pageableDeviceLocalMemory))
        return "no VK_EXT_pageable_device_local_memory (lavapipe lacks it; the strict layer emulates it)";
    return NULL;
}

static VkQueueFlags family_flags(VkPhysicalDevice physical, uint32_t family) {
    VkQueueFamilyProperties families[16];
    uint32_t count = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &count, families);
    return family < count ? families[family].queueFlags : 0;
}

static PFN_vkVoidFunction device_function(const feature_app *app, const char *name) {
    return vkGetDeviceProcAddr(app->h.device, name);
}

static void load_app_functions(feature_app *app) {
    app->set_object_name = (PFN_vkDebugMarkerSetObjectNameEXT)device_function(app, "vkDebugMarkerSetObjectNameEXT");
    app->set_object_tag = (PFN_vkDebugMarkerSetObjectTagEXT)device_function(app, "vkDebugMarkerSetObjectTagEXT");
    app->set_memory_priority = (PFN_vkSetDeviceMemoryPriorityEXT)device_function(app, "vkSetDeviceMemoryPriorityEXT");
    app->h.strict_counters = (PFN_vkStrictDeviceGetCountersTEST)device_function(app, "vkStrictDeviceGetCountersTEST");
    app->h.strict_is_driver_memory =
        (PFN_vkStrictDeviceIsDriverMemoryTEST)device_function(app, "vkStrictDeviceIsDriverMemoryTEST");
    app->strict_sparse_binds =
        (PFN_vkStrictDeviceGetSparseBindsTEST)device_function(app, "vkStrictDeviceGetSparseBindsTEST");
    app->strict_object_marker =
        (PFN_vkStrictDeviceGetObjectMarkerTEST)device_function(app, "vkStrictDeviceGetObjectMarkerTEST");
    app->strict_memory_priority =
        (PFN_vkStrictDeviceGetMemoryPriorityTEST)device_function(app, "vkStrictDeviceGetMemoryPriorityTEST");
    app->strict_buffer_binding =
        (PFN_vkStrictDeviceGetBufferBindingTEST)device_function(app, "vkStrictDeviceGetBufferBindingTEST");
}

static void create_app_device(feature_app *app, const feature_request *want, app_features *wanted) {
    const char *extensions[3];
    uint32_t extension_count = 0;
    if (want->debug_marker) extensions[extension_count++] = VK_EXT_DEBUG_MARKER_EXTENSION_NAME;
    if (want->pageable_memory) {
        /* VK_EXT_pageable_device_local_memory needs VK_EXT_memory_priority. */
        extensions[extension_count++] = VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME;
        extensions[extension_count++] = VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME;
    }
    VK_REQUIRE(test_vk_device_create(app->h.physical, app->h.queue_family, extensions, extension_count, &wanted->core,
                                     &app->h.device));
    vkGetDeviceQueue(app->h.device, app->h.queue_family, 0, &app->h.queue);
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = app->h.queue_family,
    };
    VK_REQUIRE(vkCreateCommandPool(app->h.device, &pool, NULL, &app->h.command_pool));
    load_app_functions(app);
}

/* What the app's physical device has of the request: NULL, or why it cannot run the case. */
static const char *query_features(const feature_app *app, const feature_request *want, app_features *has) {
    VkPhysicalDevice physical = app->h.physical;
    bool has_marker = test_vk_has_device_extension(physical, VK_EXT_DEBUG_MARKER_EXTENSION_NAME);
    bool has_pageable = test_vk_has_device_extension(physical, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME) &&
                        test_vk_has_device_extension(physical, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
    link_app_features(has, has_pageable);
    vkGetPhysicalDeviceFeatures2(app->h.physical, &has->core);
    return missing_feature(want, has, has_marker, has_pageable, family_flags(app->h.physical, app->h.queue_family));
}

/* Makes the app, or skips the case (saying why) when the chain lacks a feature. */
static void app_open(const harness *outer, feature_app *app, feature_request want) {
    memset(app, 0, sizeof *app);
    app->h = *outer;
    app->h.app_allocations = 0;
    memset(&app->h.enabled, 0, sizeof app->h.enabled);
    create_app_instance(outer, app);
    app->h.physical = same_physical_device(outer, app->h.instance);
    vkGetPhysicalDeviceProperties(app->h.physical, &app->h.properties);
    vkGetPhysicalDeviceMemoryProperties(app->h.physical, &app->h.memory);
    app_features has = {0};
    const char *missing = query_features(app, &want, &has);
    if (missing) {
        destroy_app_instance(app);
        harness_skip("%s", missing);
    }

    app_features wanted = {0};
    link_app_features(&wanted, want.pageable_memory);
    wanted.core.features.sparseBinding = want.sparse;
    wanted.core.features.sparseResidencyBuffer = want.sparse;
    app->sparse_image = want.sparse && has.core.features.sparseResidencyImage2D;
    wanted.core.features.sparseResidencyImage2D = app->sparse_image;
    wanted.priority.memoryPriority = want.pageable_memory;
    wanted.pageable.pageableDeviceLocalMemory = want.pageable_memory;
    create_app_device(app, &want, &wanted);
}

static void app_close(feature_app *app) {
    vkDeviceWaitIdle(app->h.device);
    vkDestroyCommandPool(app->h.device, app->h.command_pool, NULL);
    vkDestroyDevice(app->h.device, NULL);
    destroy_app_instance(app);
    CHECK(app->unexpected_messages == 0, "%" PRIu64 " unexpected warning/error messages", app->unexpected_messages);
}

/* ---------------------------------------------------------------- resources and data */

static VkBuffer sparse_buffer(feature_app *app, VkDeviceSize size, VkBufferCreateFlags extra_flags) {
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .flags = VK_BUFFER_CREATE_SPARSE_BINDING_BIT | extra_flags,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer;
    VK_REQUIRE(vkCreateBuffer(app->h.device, &info, NULL, &buffer));
    return buffer;
}

static VkBuffer plain_buffer(feature_app *app, VkDeviceSize size) {
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer;
    VK_REQUIRE(vkCreateBuffer(app->h.device, &info, NULL, &buffer));
    return buffer;
}

static VkMemoryRequirements buffer_requirements(feature_app *app, VkBuffer buffer) {
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(app->h.device, buffer, &requirements);
    return requirements;
}

/* Memory for a resource, of the first type it allows without host access. */
static VkDeviceMemory allocate_for(feature_app *app, const VkMemoryRequirements *requirements, VkDeviceSize size) {
    uint32_t type = harness_memory_type(&app->h, requirements->memoryTypeBits, 0);
    REQUIRE(type != UINT32_MAX, "a memory type for the resource");
    VkDeviceMemory memory;
    VK_REQUIRE(harness_allocate_simple(&app->h, size, type, &memory));
    return memory;
}

static uint64_t dedicated_threshold(void) {
    const char *names[] = {"VK_TRANSPARENT_SUBALLOC_DEDICATED_THRESHOLD", "VK_SUBALLOC_DEDICATED_THRESHOLD"};
    for (size_t i = 0; i < 2; i++) {
        const char *value = getenv(names[i]);
        if (value && *value) return strtoull(value, NULL, 0);
    }
    return 0;
}

/* Memory the layer passes through: larger than its dedicated threshold. */
static VkDeviceMemory allocate_passthrough(feature_app *app, const VkMemoryRequirements *requirements) {
    uint64_t threshold = dedicated_threshold();
    REQUIRE(!app->h.layer || threshold != 0, "tests/integration/CMakeLists.txt sets a dedicated threshold");
    return allocate_for(app, requirements, (threshold ? threshold : 4u << 20) + requirements->size);
}

static uint32_t fill_word(uint32_t seed) { return harness_pattern(seed, 0xF111u); }

/* Its first half copied from a pattern, its second half filled on the GPU, all
 * read back through another allocation's mapping. */
static void check_buffer_holds_data(feature_app *app, VkBuffer buffer, VkDeviceSize size, uint32_t seed,
                                    const char *what) {
    harness *h = &app->h;
    VkDeviceSize half = size / 2;
    harness_host_buffer source, readback;
    harness_host_buffer_create(h, half, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &source);
    harness_host_buffer_create(h, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    harness_fill_pattern(source.data, half, seed);
    harness_host_buffer_flush(h, &source);
    VkCommandBuffer commands = harness_begin(h);
    VkBufferCopy in = {.size = half};
    vkCmdCopyBuffer(commands, source.buffer, buffer, 1, &in);
    vkCmdFillBuffer(commands, buffer, half, size - half, fill_word(seed));
    harness_barrier(commands);
    VkBufferCopy out = {.size = size};
    vkCmdCopyBuffer(commands, buffer, readback.buffer, 1, &out);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &readback);
    CHECK(harness_check_pattern(readback.data, half, seed, what) == 0, "%s: the copied half reads back", what);
    const uint32_t *filled = (const uint32_t *)(readback.data + half);
    uint64_t right = 0;
    for (VkDeviceSize i = 0; i < (size - half) / 4; i++) right += filled[i] == fill_word(seed);
    CHECK(right == (size - half) / 4, "%s: %" PRIu64 " of %" PRIu64 " filled words read back", what, right,
          (uint64_t)(size - half) / 4);
    harness_host_buffer_destroy(h, &source);
    harness_host_buffer_destroy(h, &readback);
}

/* A plain buffer holding a pattern, to prove a neighbour's work stays out of it. */
typedef struct witness {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint32_t seed;
} witness;

static witness witness_make(feature_app *app, VkDeviceSize size, uint32_t seed) {
    witness w = {.buffer = plain_buffer(app, size), .size = size, .seed = seed};
    VkMemoryRequirements requirements = buffer_requirements(app, w.buffer);
    w.memory = allocate_for(app, &requirements, requirements.size);
    VK_REQUIRE(vkBindBufferMemory(app->h.device, w.buffer, w.memory, 0));
    harness_host_buffer source;
    harness_host_buffer_create(&app->h, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &source);
    harness_fill_pattern(source.data, size, seed);
    harness_host_buffer_flush(&app->h, &source);
    harness_copy_buffer(&app->h, source.buffer, 0, w.buffer, 0, size);
    harness_host_buffer_destroy(&app->h, &source);
    return w;
}

static void witness_check_and_destroy(feature_app *app, witness *w, const char *what) {
    harness_host_buffer readback;
    harness_host_buffer_create(&app->h, w->size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    harness_copy_buffer(&app->h, w->buffer, 0, readback.buffer, 0, w->size);
    harness_host_buffer_invalidate(&app->h, &readback);
    CHECK(harness_check_pattern(readback.data, w->size, w->seed, what) == 0, "%s is untouched", what);
    harness_host_buffer_destroy(&app->h, &readback);
    vkDestroyBuffer(app->h.device, w->buffer, NULL);
    vkFreeMemory(app->h.device, w->memory, NULL);
}

static VkImage sparse_image(feature_app *app, uint32_t side, VkImageCreateFlags flags) {
    VkImageCreateInfo info = harness_image_info(side);
    info.flags = flags;
    VkImage image;
    VK_REQUIRE(vkCreateImage(app->h.device, &info, NULL, &image));
    return image;
}

/* A pattern goes into the image and comes back out through another allocation's mapping. */
static void check_image_holds_data(feature_app *app, VkImage image, uint32_t side, uint32_t seed, const char *what) {
    harness *h = &app->h;
    VkDeviceSize bytes = (VkDeviceSize)side * side * 4;
    harness_host_buffer source, readback;
    harness_host_buffer_create(h, bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &source);
    harness_host_buffer_create(h, bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback);
    harness_fill_pattern(source.data, bytes, seed);
    harness_host_buffer_flush(h, &source);
    VkCommandBuffer commands = harness_begin(h);
    VkBufferImageCopy region = {
        .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
        .imageExtent = {side, side, 1},
    };
    harness_image_layout(commands, image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
    vkCmdCopyBufferToImage(commands, source.buffer, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    harness_image_layout(commands, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
    vkCmdCopyImageToBuffer(commands, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, readback.buffer, 1, &region);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
    harness_host_buffer_invalidate(h, &readback);
    CHECK(harness_check_pattern(readback.data, bytes, seed, what) == 0, "%s holds the bytes written to it", what);
    harness_host_buffer_destroy(h, &source);
    harness_host_buffer_destroy(h, &readback);
}

/* ---------------------------------------------------------------- what the strict layer saw */

static bool strict_present(const feature_app *app) { return app->strict_sparse_binds != NULL; }

/* A sub-allocation has a layer handle: the driver never saw it. */
static bool is_suballocation(const feature_app *app, VkDeviceMemory memory) {
    return !harness_is_driver_memory(&app->h, memory);
}

static StrictDeviceSparseBind last_sparse_bind(const feature_app *app, uint32_t back) {
    StrictDeviceSparseBind binds[8] = {0};
    uint32_t count = back + 1;
    app->strict_sparse_binds(app->h.device, &count, binds);
    REQUIRE(count == back + 1, "the strict layer recorded %u sparse binds, the case needs %u", count, back + 1);
    return binds[0];
}

/* Where the strict layer sees a buffer bound, and that memory's priority. */
static VkDeviceMemory driver_memory_of(const feature_app *app, VkBuffer buffer, VkDeviceSize *offset) {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize where = 0;
    CHECK(app->strict_buffer_binding(app->h.device, buffer, &memory, &where), "the driver has the buffer bound");
    if (offset) *offset = where;
    return memory;
}

/* Where the driver has offset 0 of an app's memory: a small buffer bound there
 * says. Call after the sparse binds: a first bind may still move a slice. */
static VkDeviceMemory driver_place_of(feature_app *app, VkDeviceMemory app_memory, VkDeviceSize *offset) {
    VkBuffer probe = plain_buffer(app, 256);
    VK_REQUIRE(vkBindBufferMemory(app->h.device, probe, app_memory, 0));
    VkDeviceMemory memory = driver_memory_of(app, probe, offset);
    vkDestroyBuffer(app->h.device, probe, NULL);
    return memory;
}

/* Checks one recorded bind: it names the driver memory under the app's, at the
 * app's offset from where the app's memory starts there; the layer's own
 * handle never reaches the driver, a pass-through one goes down unchanged. */
static void check_translated(feature_app *app, const StrictDeviceSparseBind *bind, VkDeviceMemory app_memory,
                             VkDeviceSize app_offset, const char *what) {
    VkDeviceSize start = 0;
    VkDeviceMemory under = driver_place_of(app, app_memory, &start);
    CHECK(harness_is_driver_memory(&app->h, bind->memory), "%s: the driver got memory it made", what);
    CHECK(bind->memory == under && bind->memory_offset == start + app_offset,
          "%s: bound at %" PRIu64 ", the app's offset %" PRIu64 " lies at %" PRIu64 " of the driver's memory", what,
          bind->memory_offset, app_offset, start + app_offset);
    if (is_suballocation(app, app_memory))
        CHECK(bind->memory != app_memory, "%s: the layer's handle never reaches the driver", what);
    else
        CHECK(bind->memory == app_memory && bind->memory_offset == app_offset,
              "%s: a pass-through memory goes down as the app gave it", what);
}

/* ---------------------------------------------------------------- sparse binding */

static VkFence new_fence(feature_app *app) {
    VkFenceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    VK_REQUIRE(vkCreateFence(app->h.device, &info, NULL, &fence));
    return fence;
}

/* vkQueueBindSparse with a fence, waited for. */
static VkResult bind_sparse_and_wait(feature_app *app, const VkBindSparseInfo *info) {
    VkFence fence = new_fence(app);
    VkResult result = vkQueueBindSparse(app->h.queue, 1, info, fence);
    if (result == VK_SUCCESS) result = vkWaitForFences(app->h.device, 1, &fence, VK_TRUE, WAIT_NS);
    vkDestroyFence(app->h.device, fence, NULL);
    return result;
}

static VkResult bind_buffer_sparse(feature_app *app, VkBuffer buffer, const VkSparseMemoryBind *bind) {
    VkSparseBufferMemoryBindInfo buffer_bind = {buffer, 1, bind};
    VkBindSparseInfo info = {
        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
        .bufferBindCount = 1,
        .pBufferBinds = &buffer_bind,
    };
    return bind_sparse_and_wait(app, &info);
}

static void a_sparse_buffer_bound_at_an_offset_of_a_suballocation_holds_its_data(harness *outer) {
    feature_app app;
    app_open(outer, &app, (feature_request){.sparse = true});
    VkBuffer buffer = sparse_buffer(&app, 256 << 10, 0);
    VkMemoryRequirements needs = buffer_requirements(&app, buffer);
    witness before = witness_make(&app, 4096, 71);
    VkDeviceMemory memory = allocate_for(&app, &needs, needs.alignment + needs.size);
    witness after = witness_make(&app, 4096, 72);
    if (app.h.layer && strict_present(&app))
        CHECK(is_suballocation(&app, memory), "the app's memory is a sub-allocation");

    VkSparseMemoryBind bind = {.size = needs.size, .memory = memory, .memoryOffset = needs.alignment};
    VK_REQUIRE(bind_buffer_sparse(&app, buffer, &bind));
    check_buffer_holds_data(&app, buffer, 256 << 10, 70, "the sparse buffer");
    if (strict_present(&app)) {
        StrictDeviceSparseBind seen = last_sparse_bind(&app, 0);
        CHECK(seen.kind == STRICT_DEVICE_SPARSE_BIND_BUFFER && seen.resource == (uint64_t)buffer,
              "the strict layer saw the buffer bind");
        check_translated(&app, &seen, memory, needs.alignment, "the buffer bind");
        CHECK(seen.memory_offset % needs.alignment == 0, "the block offset %" PRIu64 " is on a sparse block",
              seen.memory_offset);
        CHECK(seen.size == needs.size && seen.backed, "the whole buffer is bound on the driver");
    }
    witness_check_and_destroy(&app, &before, "an allocation made before");
    witness_check_and_destroy(&app, &after, "an allocation made after");
    vkDestroyBuffer(app.h.device, buffer, NULL);
    vkFreeMemory(app.h.device, memory, NULL);
    app_close(&app);
}

static void an_opaque_image_bind_at_an_offset_of_a_suballocation_holds_its_data(harness *outer) {
    feature_app app;
    app_open(outer, &app, (feature_request){.sparse = true});
    VkImage image = sparse_image(&app, 128, VK_IMAGE_CREATE_SPARSE_BINDING_BIT);
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(app.h.device, image, &needs);
    witness before = witness_make(&app, 4096, 81); /* so the image's memory does not start its block */
    VkDeviceMemory memory = allocate_for(&app, &needs, needs.alignment + needs.size);

    VkSparseMemoryBind bind = {.size = needs.size, .memory = memory, .memoryOffset = needs.alignment};
    VkSparseImageOpaqueMemoryBindInfo opaque = {image, 1, &bind};
    VkBindSparseInfo info = {
        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
        .imageOpaqueBindCount = 1,
        .pImageOpaqueBinds = &opaque,
    };
    VK_REQUIRE(bind_sparse_and_wait(&app, &info));
    check_image_holds_data(&app, image, 128, 80, "the opaquely bound image");
    if (strict_present(&app)) {
        StrictDeviceSparseBind seen = last_sparse_bind(&app, 0);
        CHECK(seen.kind == STRICT_DEVICE_SPARSE_BIND_IMAGE_OPAQUE && seen.resource == (uint64_t)image,
              "the strict layer saw the opaque image bind");
        check_translated(&app, &seen, memory, needs.alignment, "the opaque image bind");
        CHECK(seen.backed, "the whole image is bound on the driver");
    }
    witness_check_and_destroy(&app, &before, "an allocation made before");
    vkDestroyImage(app.h.device, image, NULL);
    vkFreeMemory(app.h.device, memory, NULL);
    app_close(&app);
}

static void an_image_region_bind_at_an_offset_of_a_suballocation_holds_its_data(harness *outer) {
    feature_app app;
    app_open(outer, &app, (feature_request){.sparse = true});
    if (!app.sparse_image) {
        app_close(&app);
        harness_skip("no sparseResidencyImage2D");
    }
    const uint32_t side = 256;
    VkImage image = sparse_image(&app, side, VK_IMAGE_CREATE_SPARSE_BINDING_BIT | VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT);
    VkSparseImageMemoryRequirements sparse;
    uint32_t count = 1;
    vkGetImageSparseMemoryRequirements(app.h.device, image, &count, &sparse);
    REQUIRE(count == 1 && sparse.imageMipTailFirstLod >= 1, "level 0 is bound by region, not in a mip tail");
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(app.h.device, image, &needs);
    witness before = witness_make(&app, 4096, 91);
    VkDeviceMemory memory = allocate_for(&app, &needs, needs.alignment + needs.size);

    VkSparseImageMemoryBind bind = {
        .subresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0},
        .extent = {side, side, 1},
        .memory = memory,
        .memoryOffset = needs.alignment,
    };
    VkSparseImageMemoryBindInfo region = {image, 1, &bind};
    VkBindSparseInfo info = {.sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO, .imageBindCount = 1, .pImageBinds = &region};
    VK_REQUIRE(bind_sparse_and_wait(&app, &info));
    check_image_holds_data(&app, image, side, 90, "the image bound by region");
    if (strict_present(&app)) {
        StrictDeviceSparseBind seen = last_sparse_bind(&app, 0);
        CHECK(seen.kind == STRICT_DEVICE_SPARSE_BIND_IMAGE && seen.resource == (uint64_t)image,
              "the strict layer saw the image bind");
        check_translated(&app, &seen, memory, needs.alignment, "the image bind");
        CHECK(seen.backed, "the whole image is bound on the driver");
    }
    witness_check_and_destroy(&app, &before, "an allocation made before");
    vkDestroyImage(app.h.device, image, NULL);
    vkFreeMemory(app.h.device, memory, NULL);
    app_close(&app);
}

static VkSemaphore new_semaphore(feature_app *app) {
    VkSemaphoreCreateInfo info = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    VkSemaphore semaphore;
    VK_REQUIRE(vkCreateSemaphore(app->h.device, &info, NULL, &semaphore));
    return semaphore;
}

/* Runs the buffer's first use after a semaphore the bind signals. */
static void fill_after(feature_app *app, VkSemaphore bound, VkBuffer buffer, VkDeviceSize size, uint32_t word) {
    VkCommandBuffer commands = harness_begin(&app->h);
    vkCmdFillBuffer(commands, buffer, 0, size, word);
    VK_REQUIRE(vkEndCommandBuffer(commands));
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .waitSemaphoreCount = 1,
        .pWaitSemaphores = &bound,
        .pWaitDstStageMask = &stage,
        .commandBufferCount = 1,
        .pCommandBuffers = &commands,
    };
    VkFence fence = new_fence(app);
    VK_REQUIRE(vkQueueSubmit(app->h.queue, 1, &submit, fence));
    VK_REQUIRE(vkWaitForFences(app->h.device, 1, &fence, VK_TRUE, WAIT_NS)); /* the bind signalled it */
    vkDestroyFence(app->h.device, fence, NULL);
    vkFreeCommandBuffers(app->h.device, app->h.command_pool, 1, &commands);
}

/* Three buffers in one call: one into a sub-allocation, one into memory that
 * passed through, and one split between the two. */
static void one_sparse_bind_call_mixes_suballocated_and_passthrough_memory(harness *outer) {
    feature_app app;
    app_open(outer, &app, (feature_request){.sparse = true});
    VkDeviceSize size = 128 << 10;
    VkBuffer whole_in_sub = sparse_buffer(&app, size, 0);
    VkBuffer whole_in_pass = sparse_buffer(&app, size, 0);
    VkBuffer split = sparse_buffer(&app, size, VK_BUFFER_CREATE_SPARSE_RESIDENCY_BIT);
    VkMemoryRequirements needs = buffer_requirements(&app, whole_in_sub);
    VkDeviceSize block = needs.alignment;
    REQUIRE(needs.size == size && size == 2 * block, "a %" PRIu64 "-byte buffer is two sparse blocks", size);
    witness before = witness_make(&app, 4096, 102);
    VkDeviceMemory sub = allocate_for(&app, &needs, 4 * block);
    VkDeviceMemory pass = allocate_passthrough(&app, &needs);
    if (app.h.layer && strict_present(&app))
        CHECK(is_suballocation(&app, sub) && !is_suballocation(&app, pass), "one sub-allocation, one pass-through");

    VkSparseMemoryBind sub_bind = {.size = size, .memory = sub, .memoryOffset = block};
    VkSparseMemoryBind pass_bind = {.size = size, .memory = pass, .memoryOffset = 2 * block};
    VkSparseMemoryBind split_binds[2] = {
        {.resourceOffset = 0, .size = block, .memory = sub, .memoryOffset = 3 * block},
        {.resourceOffset = block, .size = block, .memory = pass, .memoryOffset = 0},
    };
    VkSparseBufferMemoryBindInfo buffers[3] = {
        {whole_in_sub, 1, &sub_bind}, {whole_in_pass, 1, &pass_bind}, {split, 2, split_binds}};
    VkSemaphore bound = new_semaphore(&app);
    VkBindSparseInfo info = {
        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
        .bufferBindCount = 3,
        .pBufferBinds = buffers,
        .signalSemaphoreCount = 1,
        .pSignalSemaphores = &bound,
    };
    VK_REQUIRE(vkQueueBindSparse(app.h.queue, 1, &info, VK_NULL_HANDLE));
    fill_after(&app, bound, whole_in_sub, size, 0xB0B0B0B0u);
    vkDestroySemaphore(app.h.device, bound, NULL);
    check_buffer_holds_data(&app, whole_in_sub, size, 100, "the buffer in the sub-allocation");
    check_buffer_holds_data(&app, whole_in_pass, size, 101, "the buffer in the pass-through memory");

    if (strict_present(&app)) {
        StrictDeviceSparseBind in_sub = last_sparse_bind(&app, 3), in_pass = last_sparse_bind(&app, 2);
        StrictDeviceSparseBind split_sub = last_sparse_bind(&app, 1), split_pass = last_sparse_bind(&app, 0);
        check_translated(&app, &in_sub, sub, block, "the whole bind into the sub-allocation");
        check_translated(&app, &in_pass, pass, 2 * block, "the whole bind into the pass-through memory");
        check_translated(&app, &split_sub, sub, 3 * block, "the split bind's sub-allocated block");
        check_translated(&app, &split_pass, pass, 0, "the split bind's pass-through block");
        CHECK(split_sub.memory == in_sub.memory && split_sub.memory_offset == in_sub.memory_offset + 2 * block,
              "both binds into the sub-allocation land at their distance in one driver memory");
        CHECK(in_sub.backed && in_pass.backed && !split_sub.backed && !split_pass.backed,
              "whole buffers are bound on the driver, the split one only recorded");
    }
    witness_check_and_destroy(&app, &before, "an allocation made before");
    vkDestroyBuffer(app.h.device, whole_in_sub, NULL);
    vkDestroyBuffer(app.h.device, whole_in_pass, NULL);
    vkDestroyBuffer(app.h.device, split, NULL);
    vkFreeMemory(app.h.device, sub, NULL);
    vkFreeMemory(app.h.device, pass, NULL);
    app_close(&app);
}

static void a_misaligned_sparse_memory_offset_is_refused_before_the_driver(harness *outer) {
    if (!outer->layer) harness_skip("only the layer refuses it; the strict layer alone would stop the run");
    feature_app app;
    app_open(outer, &app, (feature_request){.sparse = true});
    VkBuffer buffer = sparse_buffer(&app, 64 << 10, 0);
    VkMemoryRequirements needs = buffer_requirements(&app, buffer);
    VkDeviceMemory memory = allocate_for(&app, &needs, 2 * needs.alignment + needs.size);
    uint64_t binds_before = strict_present(&app) ? harness_strict_counters(&app.h).sparse_binds : 0;

    VkSparseMemoryBind bind = {.size = needs.size, .memory = memory, .memoryOffset = 256};
    VkSparseBufferMemoryBindInfo buffer_bind = {buffer, 1, &bind};
    VkBindSparseInfo info = {
        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
        .bufferBindCount = 1,
        .pBufferBinds = &buffer_bind,
    };
    VkFence fence = new_fence(&app);
    app.layer_errors_expected = true;
    VkResult result = vkQueueBindSparse(app.h.queue, 1, &info, fence);
    app.layer_errors_expected = false;
    CHECK(result < 0, "a memoryOffset off the %" PRIu64 "-byte blocks is refused, not %s", needs.alignment,
          vk_result_name(result));
    CHECK(app.layer_errors >= 1 && strstr(app.last_layer_error, "vkQueueBindSparse") &&
              strstr(app.last_layer_error, "memoryOffset"),
          "the layer says why: '%s'", app.last_layer_error);
    CHECK(vkGetFenceStatus(app.h.device, fence) == VK_NOT_READY, "a refused call signals no fence");
    if (strict_present(&app))
        CHECK(harness_strict_counters(&app.h).sparse_binds == binds_before, "nothing reached the strict layer");

    /* The same bind on the block boundary goes through. */
    bind.memoryOffset = needs.alignment;
    VK_REQUIRE(vkQueueBindSparse(app.h.queue, 1, &info, fence));
    VK_REQUIRE(vkWaitForFences(app.h.device, 1, &fence, VK_TRUE, WAIT_NS));
    check_buffer_holds_data(&app, buffer, 64 << 10, 110, "the buffer bound after the refusal");
    vkDestroyFence(app.h.device, fence, NULL);
    vkDestroyBuffer(app.h.device, buffer, NULL);
    vkFreeMemory(app.h.device, memory, NULL);
    app_close(&app);
}

/* A region bind covers extent / granularity sparse blocks: one that runs past
 * the end of its sub-allocation would land on the neighbours' slices. */
static void an_image_region_bind_past_the_end_of_its_suballocation_is_refused(harness *outer) {
    if (!outer->layer) harness_skip("only the layer refuses it; the strict layer alone would stop the run");
    feature_app app;
    app_open(outer, &app, (feature_request){.sparse = true});
    if (!app.sparse_image) {
        app_close(&app);
        harness_skip("no sparseResidencyImage2D");
    }
    const uint32_t side = 256;
    VkImage image = sparse_image(&app, side, VK_IMAGE_CREATE_SPARSE_BINDING_BIT | VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT);
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(app.h.device, image, &needs);
    REQUIRE(needs.size >= 4 * needs.alignment, "level 0 spans several sparse blocks");
    witness neighbour = witness_make(&app, 4096, 121);
    VkDeviceMemory memory = allocate_for(&app, &needs, 2 * needs.alignment); /* room for two blocks only */
    witness after = witness_make(&app, 4096, 122);
    uint64_t binds_before = strict_present(&app) ? harness_strict_counters(&app.h).sparse_binds : 0;

    VkSparseImageMemoryBind bind = {
        .subresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0},
        .extent = {side, side, 1},
        .memory = memory,
        .memoryOffset = 0,
    };
    VkSparseImageMemoryBindInfo region = {image, 1, &bind};
    VkBindSparseInfo info = {.sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO, .imageBindCount = 1, .pImageBinds = &region};
    app.layer_errors_expected = true;
    VkResult result = vkQueueBindSparse(app.h.queue, 1, &info, VK_NULL_HANDLE);
    app.layer_errors_expected = false;
    CHECK(result < 0, "a %ux%u region in %" PRIu64 " bytes is refused, not %s", side, side, 2 * needs.alignment,
          vk_result_name(result));
    CHECK(app.layer_errors >= 1 && strstr(app.last_layer_error, "vkQueueBindSparse") &&
              strstr(app.last_layer_error, "do not fit"),
          "the layer says why: '%s'", app.last_layer_error);
    if (strict_present(&app))
        CHECK(harness_strict_counters(&app.h).sparse_binds == binds_before, "nothing reached the strict layer");
    witness_check_and_destroy(&app, &neighbour, "the allocation before");
    witness_check_and_destroy(&app, &after, "the allocation after");
    vkDestroyImage(app.h.device, image, NULL);
    vkFreeMemory(app.h.device, memory, NULL);
    app_close(&app);
}

/* ---------------------------------------------------------------- debug markers and priority */

/* One sub-allocation and one pass-through memory, each with a buffer bound. */
typedef struct memory_pair {
    VkBuffer buffers[2];
    VkDeviceMemory memories[2]; /* [0] sub-allocated (where the layer is), [1] passed through */
} memory_pair;

static memory_pair memory_pair_make(feature_app *app) {
    memory_pair pair;
    for (int i = 0; i < 2; i++) pair.buffers[i] = plain_buffer(app, 4096);
    VkMemoryRequirements needs = buffer_requirements(app, pair.buffers[0]);
    pair.memories[0] = allocate_for(app, &needs, 64 << 10);
    pair.memories[1] = allocate_passthrough(app, &needs);
    for (int i = 0; i < 2; i++) VK_REQUIRE(vkBindBufferMemory(app->h.device, pair.buffers[i], pair.memories[i], 0));
    if (app->h.layer && strict_present(app))
        CHECK(is_suballocation(app, pair.memories[0]) && !is_suballocation(app, pair.memories[1]),
              "one sub-allocation, one pass-through");
    return pair;
}

static void memory_pair_destroy(feature_app *app, memory_pair *pair) {
    for (int i = 0; i < 2; i++) {
        vkDestroyBuffer(app->h.device, pair->buffers[i], NULL);
        vkFreeMemory(app->h.device, pair->memories[i], NULL);
    }
}

static const char *const pair_names[2] = {"sub-allocated memory", "pass-through memory"};

static void debug_marker_names_stay_with_the_layer_for_suballocations_and_reach_the_driver_for_passthrough(
    harness *outer) {
    feature_app app;
    app_open(outer, &app, (feature_request){.debug_marker = true});
    REQUIRE(app.set_object_name && app.set_object_tag, "VK_EXT_debug_marker functions are offered");
    memory_pair pair = memory_pair_make(&app);
    for (int i = 0; i < 2; i++) {
        VkDebugMarkerObjectNameInfoEXT name = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_MARKER_OBJECT_NAME_INFO_EXT,
            .objectType = VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT,
            .object = (uint64_t)pair.memories[i],
            .pObjectName = pair_names[i],
        };
        VK_REQUIRE(app.set_object_name(app.h.device, &name));
        uint64_t tag = 0x7A60u + (uint64_t)i;
        VkDebugMarkerObjectTagInfoEXT tag_info = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_MARKER_OBJECT_TAG_INFO_EXT,
            .objectType = VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT,
            .object = (uint64_t)pair.memories[i],
            .tagName = 7,
            .tagSize = sizeof tag,
            .pTag = &tag,
        };
        VK_REQUIRE(app.set_object_tag(app.h.device, &tag_info));
    }
    for (int i = 0; i < 2; i++) check_buffer_holds_data(&app, pair.buffers[i], 4096, 120 + (uint32_t)i, pair_names[i]);

    if (app.strict_object_marker) {
        StrictDeviceObjectMarker seen;
        bool passthrough_named = app.strict_object_marker(app.h.device, VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT,
                                                          (uint64_t)pair.memories[1], &seen);
        CHECK(passthrough_named && strcmp(seen.name, pair_names[1]) == 0 && seen.tag_size == sizeof(uint64_t),
              "the driver holds the pass-through memory's name and tag");
        bool suballocation_named = app.strict_object_marker(app.h.device, VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT,
                                                            (uint64_t)pair.memories[0], &seen);
        uint64_t calls = harness_strict_counters(&app.h).debug_marker_calls;
        if (app.h.layer) {
            CHECK(!suballocation_named && calls == 2,
                  "the layer keeps the sub-allocation's name and tag: the driver "
                  "saw %" PRIu64 " marker calls, the pass-through memory's two",
                  calls);
        } else {
            CHECK(suballocation_named && calls == 4, "without the layer every name and tag reaches the driver");
        }
    }
    memory_pair_destroy(&app, &pair);
    app_close(&app);
}

static void memory_priority_changes_reach_the_driver_only_for_its_own_memory(harness *outer) {
    feature_app app;
    app_open(outer, &app, (feature_request){.pageable_memory = true});
    REQUIRE(app.set_memory_priority, "vkSetDeviceMemoryPriorityEXT is offered");
    memory_pair pair = memory_pair_make(&app);
    app.set_memory_priority(app.h.device, pair.memories[0], 0.875f);
    app.set_memory_priority(app.h.device, pair.memories[1], 0.125f);
    for (int i = 0; i < 2; i++) check_buffer_holds_data(&app, pair.buffers[i], 4096, 130 + (uint32_t)i, pair_names[i]);

    if (strict_present(&app)) {
        float priority = -1.0f;
        CHECK(app.strict_memory_priority(app.h.device, pair.memories[1], &priority) && priority == 0.125f,
              "the pass-through memory's priority reached the driver (%.3f)", (double)priority);
        /* The sub-allocation's block is shared: its priority is the pool's, unchanged. */
        VkDeviceMemory block = driver_memory_of(&app, pair.buffers[0], NULL);
        float expected = app.h.layer ? 0.5f : 0.875f;
        CHECK(app.strict_memory_priority(app.h.device, block, &priority) && priority == expected,
              "the driver memory under the sub-allocation has priority %.3f, not %.3f", (double)priority,
              (double)expected);
        uint64_t changes = harness_strict_counters(&app.h).priority_changes;
        CHECK(changes == (app.h.layer ? 1u : 2u), "the driver saw %" PRIu64 " priority changes", changes);
    }
    memory_pair_destroy(&app, &pair);
    app_close(&app);
}

/* ---------------------------------------------------------------- pools by priority (harness device) */

/* A priority is a hint with two classes in the layer: up to the default, and above
 * it. An allocation lies in driver memory of at least its own priority; the two
 * classes never share a driver allocation; equal priorities share their block. */
static void allocations_on_either_side_of_the_default_priority_use_separate_pools(harness *h) {
    if (!h->enabled.memory_priority)
        harness_skip("no VK_EXT_memory_priority (lavapipe lacks it; the strict layer emulates it)");
    PFN_vkStrictDeviceGetMemoryPriorityTEST strict_priority =
        (PFN_vkStrictDeviceGetMemoryPriorityTEST)vkGetDeviceProcAddr(h->device, "vkStrictDeviceGetMemoryPriorityTEST");
    PFN_vkStrictDeviceGetBufferBindingTEST strict_binding =
        (PFN_vkStrictDeviceGetBufferBindingTEST)vkGetDeviceProcAddr(h->device, "vkStrictDeviceGetBufferBindingTEST");
    enum { COUNT = 4 };
    const float priorities[COUNT] = {0.25f, 0.75f, 0.25f, 0.75f};
    VkBuffer buffers[COUNT];
    VkDeviceMemory memories[COUNT];
    VkDeviceMemory under[COUNT] = {0};
    for (uint32_t i = 0; i < COUNT; i++) {
        VkBufferCreateInfo buffer_info = {
            .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
            .size = 4096,
            .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
            .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        };
        VK_REQUIRE(vkCreateBuffer(h->device, &buffer_info, NULL, &buffers[i]));
        VkMemoryRequirements needs;
        vkGetBufferMemoryRequirements(h->device, buffers[i], &needs);
        VkMemoryPriorityAllocateInfoEXT priority = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT,
            .priority = priorities[i],
        };
        VkMemoryAllocateInfo info = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
            .pNext = &priority,
            .allocationSize = 64 << 10,
            .memoryTypeIndex = harness_memory_type(h, needs.memoryTypeBits, 0),
        };
        VK_REQUIRE(harness_allocate(h, &info, &memories[i]));
        VK_REQUIRE(vkBindBufferMemory(h->device, buffers[i], memories[i], 0));
    }
    if (strict_priority && strict_binding) {
        for (uint32_t i = 0; i < COUNT; i++) {
            VkDeviceSize offset;
            float seen = -1.0f;
            CHECK(strict_binding(h->device, buffers[i], &under[i], &offset), "buffer %u is bound on the driver", i);
            bool known = strict_priority(h->device, under[i], &seen);
            CHECK(known && (h->layer ? seen >= priorities[i] : seen == priorities[i]),
                  "allocation %u at priority %.2f lies in driver memory of priority %.2f", i, (double)priorities[i],
                  (double)seen);
        }
        CHECK(under[0] != under[1], "different priorities never share a driver allocation");
        if (h->layer) CHECK(under[0] == under[2] && under[1] == under[3], "equal priorities share their pool's block");
    }
    for (uint32_t i = 0; i < COUNT; i++) {
        vkDestroyBuffer(h->device, buffers[i], NULL);
        vkFreeMemory(h->device, memories[i], NULL);
    }
    if (h->layer) {
        h->expect.suballocated_at_least = COUNT;
        h->expect.passthrough = 0;
        h->expect.blocks_peak_at_least = 2;
    }
}

/* ---------------------------------------------------------------- groups */

#define CASE(name) \
    { #name, name }
static const harness_case pool_cases[] = {
    CASE(allocations_on_either_side_of_the_default_priority_use_separate_pools),
};

static const harness_case feature_cases[] = {
    CASE(a_sparse_buffer_bound_at_an_offset_of_a_suballocation_holds_its_data),
    CASE(an_opaque_image_bind_at_an_offset_of_a_suballocation_holds_its_data),
    CASE(an_image_region_bind_at_an_offset_of_a_suballocation_holds_its_data),
    CASE(one_sparse_bind_call_mixes_suballocated_and_passthrough_memory),
    CASE(a_misaligned_sparse_memory_offset_is_refused_before_the_driver),
    CASE(an_image_region_bind_past_the_end_of_its_suballocation_is_refused),
    CASE(debug_marker_names_stay_with_the_layer_for_suballocations_and_reach_the_driver_for_passthrough),
    CASE(memory_priority_changes_reach_the_driver_only_for_its_own_memory),
};
#undef CASE

int main(int argc, char **argv) {
    const char *group = argc > 1 ? argv[1] : "";
    harness_device_request request = {.memory_priority = true};
    /* harness_main reads the group name where a program name goes, then the case names. */
#define RUN(cases) harness_main(argc - 1, argv + 1, &request, cases, sizeof cases / sizeof cases[0])
    if (strcmp(group, "pools") == 0) return RUN(pool_cases);
    if (strcmp(group, "features") == 0) return RUN(feature_cases);
#undef RUN
    fprintf(stderr, "usage: %s pools|features [case...]\n", argv[0]);
    return 2;
}
