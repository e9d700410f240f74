/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_layer_world.c: the fuzzer's instances, devices and message counter. */
#include "fuzz_layer_world.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_layer_settings_ext.h"

#define SUBALLOC_LAYER "VK_LAYER_TRANSPARENT_suballoc"
#define MESSAGE_ID "TRANSPARENT-suballoc"

extern char **environ;

bool fz_trace_on;

void fz_trace(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
}

/* ---- environment ------------------------------------------------------------------- */

/* Unsets every variable starting with prefix: a developer's shell must not
 * change what the fuzzer tests (the layer reads its settings from there first). */
static void unset_prefixed(const char *prefix) {
    for (bool again = true; again;) {
        again = false;
        for (char **entry = environ; entry != NULL && *entry != NULL; entry++) {
            if (strncmp(*entry, prefix, strlen(prefix)) != 0) continue;
            char name[256];
            size_t length = strcspn(*entry, "=");
            if (length >= sizeof name) continue;
            memcpy(name, *entry, length);
            name[length] = '\0';
            unsetenv(name);
            again = true; /* environ changed under the loop */
            break;
        }
    }
}

static void set_environment(void) {
    /* The layer's folder first: the loader orders the chain by VK_LAYER_PATH. */
    setenv("VK_LAYER_PATH", FUZZ_LAYER_DIR ":" FUZZ_STRICT_LAYER_DIR, 1);
    if (FUZZ_ICD[0] != '\0') {
        setenv("VK_DRIVER_FILES", FUZZ_ICD, 1);
        setenv("VK_ICD_FILENAMES", FUZZ_ICD, 1);
    }
    setenv("STRICT_DEVICE_VIOLATIONS", "count", 1); /* the fuzzer reads counts; an abort would hide which call */
    setenv("STRICT_DEVICE_UNTILED_IMAGES", "1", 1); /* small images aligned beyond their size: slices must move */
    setenv("NODEVICE_SELECT", "1", 1);              /* Mesa's implicit layer adds nothing here */
    setenv("LP_NUM_THREADS", "0", 1);               /* nothing is drawn: no rasterizer threads */
    setenv("XDG_DATA_HOME", "/nonexistent/fuzz_layer", 1); /* no vkconfig settings file */
    static const char *const unset[] = {
        "VK_INSTANCE_LAYERS",     "VK_LOADER_LAYERS_ENABLE",      "VK_LOADER_LAYERS_DISABLE", "VK_ADD_LAYER_PATH",
        "VK_LAYER_SETTINGS_PATH", "STRICT_DEVICE_ALLOW_ALIASING", "STRICT_DEVICE_CHECK_LEAKS"};
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) unsetenv(unset[i]);
    unset_prefixed("VK_SUBALLOC_");
    unset_prefixed("VK_TRANSPARENT_SUBALLOC_");
}

/* ---- messages ----------------------------------------------------------------------- */

static fz_messages messages;
static char last_message[1024];

static VKAPI_ATTR VkBool32 VKAPI_CALL count_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                    VkDebugUtilsMessageTypeFlagsEXT types,
                                                    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)types;
    (void)user;
    if (data->pMessageIdName == NULL || strcmp(data->pMessageIdName, MESSAGE_ID) != 0) return VK_FALSE;
    if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) messages.errors++;
    else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) messages.warnings++;
    else messages.other++;
    snprintf(last_message, sizeof last_message, "%s", data->pMessage != NULL ? data->pMessage : "");
    if (fz_trace_on) fz_trace("    layer: %s\n", last_message);
    return VK_FALSE;
}

fz_messages fz_layer_messages(void) { return messages; }

const char *fz_last_layer_message(void) { return last_message; }

static VkDebugUtilsMessengerCreateInfoEXT messenger_info(void) {
    return (VkDebugUtilsMessengerCreateInfoEXT){
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity =
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT |
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = count_message,
    };
}

/* ---- instances ---------------------------------------------------------------------- */

static bool instance_has_extension(const char *name) {
    uint32_t count = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &count, NULL) != VK_SUCCESS) return false;
    VkExtensionProperties *all = calloc(count, sizeof *all);
    bool found = false;
    if (all != NULL && vkEnumerateInstanceExtensionProperties(NULL, &count, all) == VK_SUCCESS)
        for (uint32_t i = 0; i < count && !found; i++) found = strcmp(all[i].extensionName, name) == 0;
    free(all);
    return found;
}

static bool create_instance(fz_side *side, bool with_layer) {
    const char *layers[] = {SUBALLOC_LAYER, STRICT_DEVICE_LAYER_NAME};
    const char *extensions[2] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_DEBUG_REPORT_EXTENSION_NAME};
    /* Small blocks, so that a few allocations fill one; plain allocations from
     * FZ_DEDICATED_THRESHOLD up go to the driver. */
    const char *block_size = "1M", *threshold = FZ_DEDICATED_THRESHOLD_TEXT;
    VkLayerSettingEXT setting[] = {
        {SUBALLOC_LAYER, "block_size", VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &block_size},
        {SUBALLOC_LAYER, "dedicated_threshold", VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &threshold},
    };
    VkLayerSettingsCreateInfoEXT settings = {
        .sType = VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT, .settingCount = 2, .pSettings = setting};
    VkDebugUtilsMessengerCreateInfoEXT messenger = messenger_info();
    messenger.pNext = with_layer ? &settings : NULL;
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "fuzz_layer",
                             .apiVersion = VK_API_VERSION_1_3};
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = &messenger,
        .pApplicationInfo = &app,
        .enabledLayerCount = with_layer ? 2 : 1,
        .ppEnabledLayerNames = with_layer ? layers : layers + 1,
        .enabledExtensionCount = instance_has_extension(VK_EXT_DEBUG_REPORT_EXTENSION_NAME) ? 2 : 1,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult result = vkCreateInstance(&info, NULL, &side->instance);
    if (result != VK_SUCCESS) {
        fprintf(stderr, "fuzz_layer: vkCreateInstance (%s) returned %d\n", with_layer ? "layer" : "reference", result);
        return false;
    }
    PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
        (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(side->instance, "vkCreateDebugUtilsMessengerEXT");
    messenger.pNext = NULL;
    if (create_messenger == NULL || create_messenger(side->instance, &messenger, NULL, &side->messenger) != VK_SUCCESS)
        return false;
    uint32_t count = 1;
    result = vkEnumeratePhysicalDevices(side->instance, &count, &side->physical);
    return (result == VK_SUCCESS || result == VK_INCOMPLETE) && count == 1;
}

/* ---- devices -------------------------------------------------------------------------- */

static bool device_has_extension(VkPhysicalDevice physical, const char *name) {
    uint32_t count = 0;
    if (vkEnumerateDeviceExtensionProperties(physical, NULL, &count, NULL) != VK_SUCCESS) return false;
    VkExtensionProperties *all = calloc(count, sizeof *all);
    bool found = false;
    if (all != NULL && vkEnumerateDeviceExtensionProperties(physical, NULL, &count, all) == VK_SUCCESS)
        for (uint32_t i = 0; i < count && !found; i++) found = strcmp(all[i].extensionName, name) == 0;
    free(all);
    return found;
}

/* What both physical devices offer, so both devices are made alike. */
static void choose_enabled(fz_world *world) {
    fz_enabled *e = &world->enabled;
    VkPhysicalDevice a = world->side[FZ_LAYER].physical, b = world->side[FZ_REFERENCE].physical;
#define BOTH(name) (device_has_extension(a, name) && device_has_extension(b, name))
    e->debug_marker =
        BOTH(VK_EXT_DEBUG_MARKER_EXTENSION_NAME) && instance_has_extension(VK_EXT_DEBUG_REPORT_EXTENSION_NAME);
    e->memory_priority = BOTH(VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
    e->pageable_memory = e->memory_priority && BOTH(VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME);
    e->external_memory_fd = BOTH(VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME);
    e->external_memory_host = BOTH(VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
#undef BOTH
    if (e->external_memory_host) {
        VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT};
        VkPhysicalDeviceProperties2 properties = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                                  .pNext = &host};
        vkGetPhysicalDeviceProperties2(a, &properties);
        e->host_pointer_alignment = host.minImportedHostPointerAlignment;
        e->external_memory_host = host.minImportedHostPointerAlignment != 0;
    }
}

static void load_functions(VkDevice device, fz_functions *fn) {
#define LOAD(name) fn->name = (PFN_vk##name)vkGetDeviceProcAddr(device, "vk" #name);
    LOAD(AllocateMemory)
    LOAD(FreeMemory)
    LOAD(MapMemory)
    LOAD(UnmapMemory)
    LOAD(FlushMappedMemoryRanges)
    LOAD(InvalidateMappedMemoryRanges)
    LOAD(CreateBuffer)
    LOAD(DestroyBuffer)
    LOAD(CreateImage)
    LOAD(DestroyImage)
    LOAD(GetBufferMemoryRequirements)
    LOAD(GetImageMemoryRequirements)
    LOAD(BindBufferMemory)
    LOAD(BindImageMemory)
    LOAD(BindBufferMemory2)
    LOAD(BindImageMemory2)
    LOAD(GetDeviceMemoryCommitment)
    LOAD(SetDebugUtilsObjectNameEXT)
    LOAD(SetDebugUtilsObjectTagEXT)
    LOAD(DebugMarkerSetObjectNameEXT)
    LOAD(DebugMarkerSetObjectTagEXT)
    LOAD(CreatePrivateDataSlot)
    LOAD(DestroyPrivateDataSlot)
    LOAD(SetPrivateData)
    LOAD(GetPrivateData)
    LOAD(SetDeviceMemoryPriorityEXT)
    LOAD(GetMemoryFdKHR)
    LOAD(GetMemoryHostPointerPropertiesEXT)
#undef LOAD
    fn->StrictGetCounters =
        (PFN_vkStrictDeviceGetCountersTEST)vkGetDeviceProcAddr(device, "vkStrictDeviceGetCountersTEST");
    fn->StrictViolationCount =
        (PFN_vkStrictDeviceGetViolationCountTEST)vkGetDeviceProcAddr(device, "vkStrictDeviceGetViolationCountTEST");
    fn->StrictIsDriverMemory =
        (PFN_vkStrictDeviceIsDriverMemoryTEST)vkGetDeviceProcAddr(device, "vkStrictDeviceIsDriverMemoryTEST");
}

/* A queue, a command buffer and mapped host-coherent readback memory. */
static bool create_readback(fz_device *d) {
    vkGetDeviceQueue(d->handle, 0, 0, &d->queue);
    VkCommandPoolCreateInfo pool = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT};
    if (vkCreateCommandPool(d->handle, &pool, NULL, &d->command_pool) != VK_SUCCESS) return false;
    VkCommandBufferAllocateInfo commands = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                            .commandPool = d->command_pool,
                                            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                            .commandBufferCount = 1};
    VkBufferCreateInfo buffer = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                                 .size = FZ_READBACK_SIZE,
                                 .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    VkMemoryAllocateInfo memory = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                   .allocationSize = FZ_READBACK_SIZE,
                                   .memoryTypeIndex = STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT};
    void *data = NULL;
    if (vkAllocateCommandBuffers(d->handle, &commands, &d->commands) != VK_SUCCESS ||
        vkCreateBuffer(d->handle, &buffer, NULL, &d->readback) != VK_SUCCESS ||
        d->fn.AllocateMemory(d->handle, &memory, NULL, &d->readback_memory) != VK_SUCCESS ||
        vkBindBufferMemory(d->handle, d->readback, d->readback_memory, 0) != VK_SUCCESS ||
        d->fn.MapMemory(d->handle, d->readback_memory, 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS)
        return false;
    d->readback_data = data;
    return true;
}

bool fz_device_create(fz_world *world, int side, fz_device *out) {
    const fz_enabled *e = &world->enabled;
    const char *extensions[8];
    uint32_t count = 0;
    if (e->debug_marker) extensions[count++] = VK_EXT_DEBUG_MARKER_EXTENSION_NAME;
    if (e->memory_priority) extensions[count++] = VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME;
    if (e->pageable_memory) extensions[count++] = VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME;
    if (e->external_memory_fd) extensions[count++] = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
    if (e->external_memory_host) extensions[count++] = VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME;

    VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT,
        .pageableDeviceLocalMemory = VK_TRUE};
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT,
        .pNext = e->pageable_memory ? &pageable : NULL,
        .memoryPriority = VK_TRUE};
    VkPhysicalDeviceVulkan13Features v13 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                            .pNext = e->memory_priority ? &priority : NULL,
                                            .privateData = VK_TRUE};
    /* Device addresses on: the layer then gives every block the address flag. */
    VkPhysicalDeviceVulkan12Features v12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, .pNext = &v13, .bufferDeviceAddress = VK_TRUE};
    float queue_priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1, .pQueuePriorities = &queue_priority};
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &v12,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
        .enabledExtensionCount = count,
        .ppEnabledExtensionNames = extensions,
    };
    *out = (fz_device){0};
    VkResult result = vkCreateDevice(world->side[side].physical, &info, NULL, &out->handle);
    if (result != VK_SUCCESS) {
        fprintf(stderr, "fuzz_layer: vkCreateDevice returned %d\n", result);
        return false;
    }
    load_functions(out->handle, &out->fn);
    if (out->fn.StrictGetCounters == NULL || out->fn.StrictViolationCount == NULL ||
        out->fn.StrictIsDriverMemory == NULL) {
        fprintf(stderr, "fuzz_layer: the strict device layer is not in the chain\n");
        return false;
    }
    VkPrivateDataSlotCreateInfo slot = {.sType = VK_STRUCTURE_TYPE_PRIVATE_DATA_SLOT_CREATE_INFO};
    return out->fn.CreatePrivateDataSlot(out->handle, &slot, NULL, &out->slot) == VK_SUCCESS && create_readback(out);
}

void fz_device_destroy(fz_device *device) {
    if (device->handle == VK_NULL_HANDLE) return;
    VkDevice d = device->handle;
    device->fn.DestroyPrivateDataSlot(d, device->slot, NULL);
    vkDestroyCommandPool(d, device->command_pool, NULL);
    vkDestroyBuffer(d, device->readback, NULL);
    device->fn.FreeMemory(d, device->readback_memory, NULL);
    vkDestroyDevice(d, NULL);
    *device = (fz_device){0};
}

bool fz_device_copy(fz_device *device, VkBuffer buffer, VkDeviceSize size) {
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (vkResetCommandBuffer(device->commands, 0) != VK_SUCCESS ||
        vkBeginCommandBuffer(device->commands, &begin) != VK_SUCCESS)
        return false;
    VkBufferCopy region = {0, 0, size};
    vkCmdCopyBuffer(device->commands, buffer, device->readback, 1, &region);
    VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(device->commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier,
                         0, NULL, 0, NULL);
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &device->commands};
    return vkEndCommandBuffer(device->commands) == VK_SUCCESS &&
           vkQueueSubmit(device->queue, 1, &submit, VK_NULL_HANDLE) == VK_SUCCESS &&
           vkQueueWaitIdle(device->queue) == VK_SUCCESS;
}

uint64_t fz_heap_usage(const fz_world *world, int side) {
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 properties = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                                    .pNext = &budget};
    vkGetPhysicalDeviceMemoryProperties2(world->side[side].physical, &properties);
    uint64_t sum = 0;
    for (uint32_t h = 0; h < properties.memoryProperties.memoryHeapCount; h++) sum += budget.heapUsage[h];
    return sum;
}

/* The chains are what the fuzzer claims: a small plain allocation through the
 * layer is the layer's handle, and the driver's without it. */
static bool chains_are_right(fz_world *world) {
    VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                 .allocationSize = 4096,
                                 .memoryTypeIndex = STRICT_DEVICE_MEMORY_TYPE_HOST_COHERENT};
    bool driver[FZ_SIDES] = {true, false};
    for (int s = 0; s < FZ_SIDES; s++) {
        fz_device *d = &world->side[s].device;
        VkDeviceMemory memory;
        if (d->fn.AllocateMemory(d->handle, &info, NULL, &memory) != VK_SUCCESS) return false;
        driver[s] = d->fn.StrictIsDriverMemory(d->handle, memory);
        d->fn.FreeMemory(d->handle, memory, NULL);
    }
    if (driver[FZ_LAYER] || !driver[FZ_REFERENCE]) {
        fprintf(stderr, "fuzz_layer: the layer is %s the reference chain and %s the layer chain\n",
                driver[FZ_REFERENCE] ? "not in" : "in", driver[FZ_LAYER] ? "not in" : "in");
        return false;
    }
    return true;
}

bool fz_world_init(fz_world *world) {
    *world = (fz_world){0};
    const char *trace = getenv("FUZZ_LAYER_TRACE");
    fz_trace_on = trace != NULL && strcmp(trace, "1") == 0;
    set_environment();
    if (!create_instance(&world->side[FZ_LAYER], true) || !create_instance(&world->side[FZ_REFERENCE], false))
        return false;
    vkGetPhysicalDeviceMemoryProperties(world->side[FZ_LAYER].physical, &world->memory);
    if (world->memory.memoryTypeCount != STRICT_DEVICE_MEMORY_TYPE_COUNT) {
        fprintf(stderr, "fuzz_layer: %u memory types; the strict device has %u\n", world->memory.memoryTypeCount,
                STRICT_DEVICE_MEMORY_TYPE_COUNT);
        return false;
    }
    choose_enabled(world);
    return fz_device_create(world, FZ_LAYER, &world->side[FZ_LAYER].device) &&
           fz_device_create(world, FZ_REFERENCE, &world->side[FZ_REFERENCE].device) &&
           fz_device_create(world, FZ_LAYER, &world->other) && chains_are_right(world);
}
