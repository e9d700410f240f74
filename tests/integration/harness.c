/* SPDX-License-Identifier: Apache-2.0 */
/* harness: instance, messenger, device per case, memory helpers, statistics. */
#include "harness.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SUBALLOC_SHADER_DIR
#error "SUBALLOC_SHADER_DIR must name the folder of the compiled shaders"
#endif

#define STATS_FILE_ENV "VK_TRANSPARENT_SUBALLOC_STATS_FILE"

/* ---------------------------------------------------------------- results */

static jmp_buf case_exit;
static bool case_running;
static bool case_skipped;
static uint64_t failures;                                /* in the running case */
static uint64_t messages_seen;                           /* unexpected warning and error messages, whole program */
static const harness_expectations *message_expectations; /* of the running case */
static uint64_t expected_messages_seen;

void harness_fail(const char *file, int line, const char *condition, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "%s:%d: FAILED %s: ", file, line, condition);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    failures++;
}

void harness_abort_case(void) {
    if (!case_running) exit(1);
    longjmp(case_exit, 1);
}

void harness_skip(const char *format, ...) {
    va_list args;
    va_start(args, format);
    printf("  skipped: ");
    vprintf(format, args);
    putchar('\n');
    va_end(args);
    case_skipped = true;
    harness_abort_case();
}

/* ---------------------------------------------------------------- messenger */

static VKAPI_ATTR VkBool32 VKAPI_CALL record_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)user;
    /* The loader reports its own choices (e.g. layers added from the environment): not a fault. */
    if (types == VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT && test_vk_is_loader_message(data)) return VK_FALSE;
    bool error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    const char *expected = message_expectations ? message_expectations->message_id_prefix : NULL;
    if (!error && expected && data->pMessageIdName && strncmp(data->pMessageIdName, expected, strlen(expected)) == 0) {
        if (expected_messages_seen++ < 3) fprintf(stderr, "expected message: %s\n", data->pMessage);
        return VK_FALSE;
    }
    fprintf(stderr, "%s message [%s]: %s\n", error ? "ERROR" : "WARNING",
            data->pMessageIdName ? data->pMessageIdName : "-", data->pMessage ? data->pMessage : "");
    messages_seen++;
    return VK_FALSE;
}

/* ---------------------------------------------------------------- chain */

static void read_chain(harness *h) {
    const char *chain = getenv("SUBALLOC_TEST_CHAIN");
    h->chain = chain && *chain ? chain : "none";
    h->layer =
        strcmp(h->chain, "plain") == 0 || strcmp(h->chain, "strict") == 0 || strncmp(h->chain, "validation_", 11) == 0;
    h->validation = strncmp(h->chain, "validation_", 11) == 0;
    bool known = strcmp(h->chain, "none") == 0 || strcmp(h->chain, "strict_only") == 0 || h->layer;
    if (!known) {
        fprintf(stderr, "harness: unknown SUBALLOC_TEST_CHAIN '%s'\n", h->chain);
        exit(2);
    }
}

/* ---------------------------------------------------------------- instance */

static void create_instance(harness *h) {
    test_vk_instance_info info = {
        .application = "suballoc-integration-test",
        .messenger = record_message, /* also catches messages of vkCreateInstance itself */
    };
    test_vk_instance instance;
    VkResult result = test_vk_instance_create(&info, &instance);
    if (result != VK_SUCCESS) {
        fprintf(stderr, "harness: vkCreateInstance or its debug-utils messenger failed: %s\n", vk_result_name(result));
        exit(1);
    }
    h->instance = instance.handle;
    h->messenger = instance.messenger;
    h->api_version = instance.api_version;
}

static void destroy_instance(harness *h) {
    test_vk_instance instance = {h->instance, h->messenger, h->api_version};
    test_vk_instance_destroy(&instance);
}

static void pick_physical_device(harness *h) {
    if (!test_vk_pick_physical_device(h->instance, VK_QUEUE_COMPUTE_BIT, &h->physical, &h->queue_family)) {
        fprintf(stderr, "harness: no Vulkan physical device with a compute queue\n");
        exit(1);
    }
    vkGetPhysicalDeviceProperties(h->physical, &h->properties);
    vkGetPhysicalDeviceMemoryProperties(h->physical, &h->memory);
    if (h->properties.apiVersion < VK_API_VERSION_1_2) {
        fprintf(stderr, "harness: '%s' is Vulkan %u.%u; the tests need 1.2\n", h->properties.deviceName,
                VK_API_VERSION_MAJOR(h->properties.apiVersion), VK_API_VERSION_MINOR(h->properties.apiVersion));
        exit(1);
    }
    if (h->api_version < VK_API_VERSION_1_2) {
        fprintf(stderr, "harness: the loader offers Vulkan 1.%u; the tests need 1.2\n",
                VK_API_VERSION_MINOR(h->api_version));
        exit(1);
    }
}

/* ---------------------------------------------------------------- device */

typedef struct feature_chain {
    VkPhysicalDeviceFeatures2 features;
    VkPhysicalDeviceVulkan12Features v12;
    VkPhysicalDeviceVulkan13Features v13;
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority;
} feature_chain;

/* Links the structures this device can take: 1.3 ones only on 1.3, priority only with its extension. */
static void link_features(feature_chain *chain, bool v13, bool priority) {
    chain->features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    chain->v12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
    chain->v13.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES;
    chain->priority.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT;
    chain->features.pNext = &chain->v12;
    void **tail = &chain->v12.pNext;
    if (v13) {
        *tail = &chain->v13;
        tail = &chain->v13.pNext;
    }
    if (priority) {
        *tail = &chain->priority;
        tail = &chain->priority.pNext;
    }
    *tail = NULL;
}

static void create_device(harness *h, const harness_device_request *request) {
    const char *extensions[8];
    uint32_t extension_count = 0;
    harness_enabled *on = &h->enabled;
    memset(on, 0, sizeof *on);
    if (request->external_memory_fd &&
        test_vk_has_device_extension(h->physical, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME)) {
        extensions[extension_count++] = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
        on->external_memory_fd = true;
    }
    if (request->external_memory_host &&
        test_vk_has_device_extension(h->physical, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME)) {
        extensions[extension_count++] = VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME;
        on->external_memory_host = true;
    }
    bool priority_extension =
        request->memory_priority && test_vk_has_device_extension(h->physical, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
    bool v13 = h->properties.apiVersion >= VK_API_VERSION_1_3 && h->api_version >= VK_API_VERSION_1_3;

    feature_chain supported = {0}, wanted = {0};
    link_features(&supported, v13, priority_extension);
    link_features(&wanted, v13, priority_extension);
    vkGetPhysicalDeviceFeatures2(h->physical, &supported.features);

    on->buffer_device_address = request->buffer_device_address && supported.v12.bufferDeviceAddress;
    on->buffer_device_address_capture_replay = on->buffer_device_address &&
                                               request->buffer_device_address_capture_replay &&
                                               supported.v12.bufferDeviceAddressCaptureReplay;
    on->private_data = v13 && request->private_data && supported.v13.privateData;
    on->memory_priority = priority_extension && supported.priority.memoryPriority;
    if (on->memory_priority) extensions[extension_count++] = VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME;
    else link_features(&wanted, v13, false);

    wanted.v12.bufferDeviceAddress = on->buffer_device_address;
    wanted.v12.bufferDeviceAddressCaptureReplay = on->buffer_device_address_capture_replay;
    wanted.v13.privateData = on->private_data;
    wanted.priority.memoryPriority = on->memory_priority;

    VK_REQUIRE(
        test_vk_device_create(h->physical, h->queue_family, extensions, extension_count, &wanted.features, &h->device));
    vkGetDeviceQueue(h->device, h->queue_family, 0, &h->queue);
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = h->queue_family,
    };
    VK_REQUIRE(vkCreateCommandPool(h->device, &pool, NULL, &h->command_pool));

    /* Layers above pass names they do not know down, so these reach the strict layer. */
    h->strict_counters =
        (PFN_vkStrictDeviceGetCountersTEST)vkGetDeviceProcAddr(h->device, "vkStrictDeviceGetCountersTEST");
    h->strict_is_driver_memory =
        (PFN_vkStrictDeviceIsDriverMemoryTEST)vkGetDeviceProcAddr(h->device, "vkStrictDeviceIsDriverMemoryTEST");
    /* The properties the app sees on this chain, the layer's raised limit included. */
    vkGetPhysicalDeviceProperties(h->physical, &h->properties);
    vkGetPhysicalDeviceMemoryProperties(h->physical, &h->memory);
}

static void destroy_device(harness *h) {
    if (!h->device) return;
    vkDeviceWaitIdle(h->device);
    if (h->command_pool) vkDestroyCommandPool(h->device, h->command_pool, NULL);
    vkDestroyDevice(h->device, NULL);
    h->device = VK_NULL_HANDLE;
    h->command_pool = VK_NULL_HANDLE;
    h->strict_counters = NULL;
    h->strict_is_driver_memory = NULL;
}

/* ---------------------------------------------------------------- statistics */

static uint64_t stats_lines_seen;

static bool parse_stats_field(harness_stats *stats, const char *key, const char *value) {
    struct {
        const char *name;
        uint64_t *field;
    } fields[] = {
        {"app_allocations", &stats->app_allocations},
        {"app_live_peak", &stats->app_live_peak},
        {"app_leaked", &stats->app_leaked},
        {"suballocated", &stats->suballocated},
        {"passthrough", &stats->passthrough},
        {"driver_allocations", &stats->driver_allocations},
        {"driver_live_peak", &stats->driver_live_peak},
        {"blocks_peak", &stats->blocks_peak},
        {"bytes_requested_peak", &stats->bytes_requested_peak},
        {"bytes_in_blocks_peak", &stats->bytes_in_blocks_peak},
    };
    if (strcmp(key, "mode") == 0) {
        snprintf(stats->mode, sizeof stats->mode, "%s", value);
        return true;
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (strcmp(key, fields[i].name) != 0) continue;
        char *end;
        errno = 0;
        *fields[i].field = strtoull(value, &end, 10);
        return errno == 0 && end != value && *end == '\0';
    }
    return true; /* fields added later are no error */
}

/* Splits 'suballoc_stats device="..." key=value ...'; false on a malformed line. */
static bool parse_stats_line(char *line, harness_stats *stats) {
    memset(stats, 0, sizeof *stats);
    if (strncmp(line, "suballoc_stats ", 15) != 0) return false;
    char *cursor = line + 15;
    char *quoted_end = strstr(cursor, "\" ");
    if (strncmp(cursor, "device=\"", 8) == 0 && quoted_end) cursor = quoted_end + 2;
    for (char *token = strtok(cursor, " \n"); token; token = strtok(NULL, " \n")) {
        char *equals = strchr(token, '=');
        if (!equals) return false;
        *equals = '\0';
        if (!parse_stats_field(stats, token, equals + 1)) return false;
    }
    stats->present = true;
    return true;
}

/* Reads the line appended by the device just destroyed, if one was. */
static void read_new_stats_line(harness *h) {
    memset(&h->stats, 0, sizeof h->stats);
    const char *path = getenv(STATS_FILE_ENV);
    if (!path || !*path) return;
    FILE *file = fopen(path, "r");
    if (!file) return;
    char line[1024], last[1024] = "";
    uint64_t lines = 0;
    while (fgets(line, sizeof line, file)) {
        lines++;
        memcpy(last, line, sizeof last);
    }
    fclose(file);
    if (lines == stats_lines_seen) return;
    CHECK(lines == stats_lines_seen + 1, "one vkDestroyDevice appended %" PRIu64 " stats lines",
          lines - stats_lines_seen);
    stats_lines_seen = lines;
    CHECK(parse_stats_line(last, &h->stats), "malformed stats line: %s", last);
}

static void check_stats(harness *h) {
    const harness_stats *s = &h->stats;
    if (!h->layer) {
        CHECK(!s->present, "a stats line appeared although chain '%s' has no sub-allocation layer", h->chain);
        return;
    }
    const char *path = getenv(STATS_FILE_ENV);
    if (!path || !*path) return;
    REQUIRE(s->present, "the layer wrote no stats line to %s at vkDestroyDevice", path);
    CHECK(s->app_allocations == h->app_allocations, "layer counted %" PRIu64 " app allocations, the case made %" PRIu64,
          s->app_allocations, h->app_allocations);
    CHECK(s->app_leaked == (uint64_t)h->expect.app_leaked,
          "layer reports %" PRIu64 " leaked app allocations, not %" PRId64, s->app_leaked, h->expect.app_leaked);
    CHECK(s->suballocated + s->passthrough == s->app_allocations,
          "suballocated %" PRIu64 " + passthrough %" PRIu64 " != app allocations %" PRIu64, s->suballocated,
          s->passthrough, s->app_allocations);
    const harness_expectations *e = &h->expect;
    if (e->passthrough >= 0)
        CHECK(s->passthrough == (uint64_t)e->passthrough, "passthrough = %" PRIu64 ", expected %" PRId64,
              s->passthrough, e->passthrough);
    if (e->suballocated_at_least >= 0)
        CHECK(s->suballocated >= (uint64_t)e->suballocated_at_least,
              "suballocated = %" PRIu64 ", expected at least %" PRId64, s->suballocated, e->suballocated_at_least);
    if (e->driver_live_peak_below >= 0)
        CHECK(s->driver_live_peak < (uint64_t)e->driver_live_peak_below,
              "driver_live_peak = %" PRIu64 ", expected below %" PRId64, s->driver_live_peak,
              e->driver_live_peak_below);
    if (e->blocks_peak_at_least >= 0)
        CHECK(s->blocks_peak >= (uint64_t)e->blocks_peak_at_least,
              "blocks_peak = %" PRIu64 ", expected at least %" PRId64, s->blocks_peak, e->blocks_peak_at_least);
    printf("  stats: app_allocations=%" PRIu64 " suballocated=%" PRIu64 " passthrough=%" PRIu64
           " driver_allocations=%" PRIu64 " driver_live_peak=%" PRIu64 " blocks_peak=%" PRIu64 "\n",
           s->app_allocations, s->suballocated, s->passthrough, s->driver_allocations, s->driver_live_peak,
           s->blocks_peak);
}

static void remove_stale_stats_file(void) {
    const char *path = getenv(STATS_FILE_ENV);
    if (path && *path && remove(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "harness: cannot remove old stats file %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* ---------------------------------------------------------------- cases */

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static bool selected(int argc, char **argv, const char *name) {
    if (argc <= 1) return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return true;
    return false;
}

static void start_case(harness *h, const harness_device_request *request, const harness_case *c) {
    create_device(h, request);
    c->run(h);
}

static void finish_case(harness *h, const harness_device_request *request, const harness_case *c) {
    (void)request;
    (void)c;
    check_stats(h);
}

/* Runs step where REQUIRE and harness_skip may leave it early. */
static void guarded(harness *h, const harness_device_request *request, const harness_case *c,
                    void (*step)(harness *, const harness_device_request *, const harness_case *)) {
    case_running = true;
    if (setjmp(case_exit) == 0) step(h, request, c);
    case_running = false;
}

/* Runs one case on a fresh device; true when it passed or was skipped. */
static bool run_case(harness *h, const harness_device_request *request, const harness_case *c) {
    printf("[ RUN  ] %s\n", c->name);
    fflush(stdout);
    double start = seconds_now();
    failures = 0;
    case_skipped = false;
    uint64_t messages_before = messages_seen;
    h->app_allocations = 0;
    h->expect = (harness_expectations){.passthrough = -1,
                                       .suballocated_at_least = -1,
                                       .driver_live_peak_below = -1,
                                       .blocks_peak_at_least = -1,
                                       .app_leaked = 0,
                                       .message_id_prefix = NULL,
                                       .messages_at_least = 0};
    message_expectations = &h->expect;
    expected_messages_seen = 0;

    guarded(h, request, c, start_case);
    bool skipped = case_skipped;
    destroy_device(h);
    read_new_stats_line(h);
    if (!skipped && failures == 0) guarded(h, request, c, finish_case);
    CHECK(expected_messages_seen >= (uint64_t)h->expect.messages_at_least,
          "%" PRIu64 " messages '%s...' came, expected at least %" PRId64, expected_messages_seen,
          h->expect.message_id_prefix ? h->expect.message_id_prefix : "", h->expect.messages_at_least);
    message_expectations = NULL;
    uint64_t messages = messages_seen - messages_before;
    if (messages) harness_fail(__FILE__, __LINE__, "no messages", "%" PRIu64 " warning/error messages", messages);

    const char *verdict = failures ? "FAIL" : skipped ? "SKIP" : " OK ";
    printf("[ %s ] %s (%.0f ms)\n", verdict, c->name, (seconds_now() - start) * 1000.0);
    fflush(stdout);
    return failures == 0;
}

int harness_main(int argc, char **argv, const harness_device_request *request, const harness_case *cases,
                 size_t case_count) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < case_count; i++) puts(cases[i].name);
        return 0;
    }
    static harness h; /* static: cases may keep large things in it */
    read_chain(&h);
    remove_stale_stats_file();
    create_instance(&h);
    if (messages_seen) {
        fprintf(stderr, "harness: messages while creating the instance\n");
        return 1;
    }
    pick_physical_device(&h);
    printf("chain %s, device %s, API %u.%u\n", h.chain, h.properties.deviceName,
           VK_API_VERSION_MAJOR(h.properties.apiVersion), VK_API_VERSION_MINOR(h.properties.apiVersion));

    size_t ran = 0, failed = 0;
    for (size_t i = 0; i < case_count; i++) {
        if (!selected(argc, argv, cases[i].name)) continue;
        ran++;
        if (!run_case(&h, request, &cases[i])) failed++;
    }
    uint64_t messages_before = messages_seen;
    destroy_instance(&h);
    if (messages_seen != messages_before) {
        fprintf(stderr, "FAILED: messages while destroying the instance\n");
        failed++;
    }
    if (ran == 0) {
        fprintf(stderr, "no case matched the command line\n");
        return 2;
    }
    printf("%zu of %zu cases passed\n", ran - failed, ran);
    return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- memory */

uint32_t harness_memory_types(const harness *h, uint32_t type_bits, VkMemoryPropertyFlags required, uint32_t *out) {
    VkMemoryPropertyFlags special = VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT;
    uint32_t count = 0;
    for (uint32_t i = 0; i < h->memory.memoryTypeCount; i++) {
        VkMemoryPropertyFlags flags = h->memory.memoryTypes[i].propertyFlags;
        if (!(type_bits & (1u << i)) || (flags & required) != required) continue;
        if (flags & special & ~required) continue;
        out[count++] = i;
    }
    return count;
}

uint32_t harness_memory_type(const harness *h, uint32_t type_bits, VkMemoryPropertyFlags required) {
    uint32_t types[VK_MAX_MEMORY_TYPES];
    return harness_memory_types(h, type_bits, required, types) ? types[0] : UINT32_MAX;
}

bool harness_type_is(const harness *h, uint32_t type, VkMemoryPropertyFlags flags) {
    return (h->memory.memoryTypes[type].propertyFlags & flags) == flags;
}

VkResult harness_allocate(harness *h, const VkMemoryAllocateInfo *info, VkDeviceMemory *memory) {
    VkResult result = vkAllocateMemory(h->device, info, NULL, memory);
    if (result == VK_SUCCESS) h->app_allocations++;
    return result;
}

VkResult harness_allocate_simple(harness *h, VkDeviceSize size, uint32_t type, VkDeviceMemory *memory) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = size,
        .memoryTypeIndex = type,
    };
    return harness_allocate(h, &info, memory);
}

bool harness_is_driver_memory(const harness *h, VkDeviceMemory memory) {
    return h->strict_is_driver_memory(h->device, memory) == VK_TRUE;
}

StrictDeviceCounters harness_strict_counters(const harness *h) {
    StrictDeviceCounters counters = {0};
    h->strict_counters(h->device, &counters);
    return counters;
}

VkDeviceSize harness_align_up(VkDeviceSize value, VkDeviceSize alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

static uint32_t host_buffer_type(const harness *h, uint32_t type_bits) {
    uint32_t coherent =
        harness_memory_type(h, type_bits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    return coherent != UINT32_MAX ? coherent : harness_memory_type(h, type_bits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
}

void harness_host_buffer_create(harness *h, VkDeviceSize size, VkBufferUsageFlags usage, harness_host_buffer *out) {
    memset(out, 0, sizeof *out);
    out->size = size;
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_REQUIRE(vkCreateBuffer(h->device, &info, NULL, &out->buffer));
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(h->device, out->buffer, &requirements);
    out->type = host_buffer_type(h, requirements.memoryTypeBits);
    REQUIRE(out->type != UINT32_MAX, "no host-visible memory type for a buffer");
    out->coherent = harness_type_is(h, out->type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);

    bool address = usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
    VkMemoryAllocateFlagsInfo flags = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
        .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
    };
    VkMemoryAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = address ? &flags : NULL,
        .allocationSize = requirements.size,
        .memoryTypeIndex = out->type,
    };
    VK_REQUIRE(harness_allocate(h, &allocate, &out->memory));
    VK_REQUIRE(vkBindBufferMemory(h->device, out->buffer, out->memory, 0));
    void *data;
    VK_REQUIRE(vkMapMemory(h->device, out->memory, 0, VK_WHOLE_SIZE, 0, &data));
    out->data = data;
    if (address) {
        VkBufferDeviceAddressInfo where = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
                                           .buffer = out->buffer};
        out->address = vkGetBufferDeviceAddress(h->device, &where);
    }
}

void harness_host_buffer_destroy(harness *h, harness_host_buffer *buffer) {
    if (buffer->memory) {
        vkUnmapMemory(h->device, buffer->memory);
        vkFreeMemory(h->device, buffer->memory, NULL);
    }
    vkDestroyBuffer(h->device, buffer->buffer, NULL);
    memset(buffer, 0, sizeof *buffer);
}

static VkMappedMemoryRange whole_range(const harness_host_buffer *buffer) {
    return (VkMappedMemoryRange){
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = buffer->memory,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };
}

void harness_host_buffer_flush(harness *h, const harness_host_buffer *buffer) {
    if (buffer->coherent) return;
    VkMappedMemoryRange range = whole_range(buffer);
    VK_REQUIRE(vkFlushMappedMemoryRanges(h->device, 1, &range));
}

void harness_host_buffer_invalidate(harness *h, const harness_host_buffer *buffer) {
    if (buffer->coherent) return;
    VkMappedMemoryRange range = whole_range(buffer);
    VK_REQUIRE(vkInvalidateMappedMemoryRanges(h->device, 1, &range));
}

/* ---------------------------------------------------------------- work */

VkCommandBuffer harness_begin(harness *h) {
    VkCommandBufferAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = h->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkCommandBuffer commands;
    VK_REQUIRE(vkAllocateCommandBuffers(h->device, &info, &commands));
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_REQUIRE(vkBeginCommandBuffer(commands, &begin));
    return commands;
}

void harness_submit_and_wait(harness *h, VkCommandBuffer commands) {
    VK_REQUIRE(vkEndCommandBuffer(commands));
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    VK_REQUIRE(vkCreateFence(h->device, &fence_info, NULL, &fence));
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &commands,
    };
    VkResult result = vkQueueSubmit(h->queue, 1, &submit, fence);
    if (result == VK_SUCCESS) result = vkWaitForFences(h->device, 1, &fence, VK_TRUE, UINT64_MAX);
    vkDestroyFence(h->device, fence, NULL);
    vkFreeCommandBuffers(h->device, h->command_pool, 1, &commands);
    REQUIRE(result == VK_SUCCESS, "submitting work failed: %s", vk_result_name(result));
}

void harness_barrier(VkCommandBuffer commands) {
    VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
    };
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                         VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0,
                         NULL);
}

void harness_copy_buffer(harness *h, VkBuffer src, VkDeviceSize src_offset, VkBuffer dst, VkDeviceSize dst_offset,
                         VkDeviceSize size) {
    VkCommandBuffer commands = harness_begin(h);
    VkBufferCopy region = {.srcOffset = src_offset, .dstOffset = dst_offset, .size = size};
    vkCmdCopyBuffer(commands, src, dst, 1, &region);
    harness_barrier(commands);
    harness_submit_and_wait(h, commands);
}

static uint32_t *read_spirv(const char *name, size_t *bytes) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.spv", SUBALLOC_SHADER_DIR, name);
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "harness: cannot open shader %s: %s\n", path, strerror(errno));
        return NULL;
    }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    uint32_t *code = size > 0 && size % 4 == 0 ? malloc((size_t)size) : NULL;
    if (code && fread(code, 1, (size_t)size, file) != (size_t)size) {
        free(code);
        code = NULL;
    }
    fclose(file);
    if (!code) fprintf(stderr, "harness: %s is not a SPIR-V module\n", path);
    *bytes = (size_t)size;
    return code;
}

void harness_compute_pipeline(harness *h, const char *spirv_name, VkDescriptorSetLayout set_layout,
                              uint32_t push_constant_bytes, harness_pipeline *out) {
    size_t bytes;
    uint32_t *code = read_spirv(spirv_name, &bytes);
    REQUIRE(code, "shader %s must load", spirv_name);
    VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = bytes,
        .pCode = code,
    };
    VkShaderModule module;
    VkResult result = vkCreateShaderModule(h->device, &module_info, NULL, &module);
    free(code);
    VK_REQUIRE(result);

    VkPushConstantRange push = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = push_constant_bytes};
    VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = set_layout ? 1 : 0,
        .pSetLayouts = &set_layout,
        .pushConstantRangeCount = push_constant_bytes ? 1 : 0,
        .pPushConstantRanges = &push,
    };
    VK_REQUIRE(vkCreatePipelineLayout(h->device, &layout_info, NULL, &out->layout));
    VkComputePipelineCreateInfo pipeline_info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = module,
                  .pName = "main"},
        .layout = out->layout,
    };
    result = vkCreateComputePipelines(h->device, VK_NULL_HANDLE, 1, &pipeline_info, NULL, &out->pipeline);
    vkDestroyShaderModule(h->device, module, NULL);
    VK_REQUIRE(result);
}

void harness_pipeline_destroy(harness *h, harness_pipeline *pipeline) {
    vkDestroyPipeline(h->device, pipeline->pipeline, NULL);
    vkDestroyPipelineLayout(h->device, pipeline->layout, NULL);
    memset(pipeline, 0, sizeof *pipeline);
}

/* ---------------------------------------------------------------- patterns */

void harness_fill_pattern(void *dst, VkDeviceSize bytes, uint32_t seed) {
    uint32_t *words = dst;
    for (VkDeviceSize i = 0; i < bytes / 4; i++) words[i] = harness_pattern(seed, i);
    for (VkDeviceSize i = bytes / 4 * 4; i < bytes; i++) /* a ragged tail gets bytes of the next word */
        ((uint8_t *)dst)[i] = (uint8_t)(harness_pattern(seed, bytes / 4) >> (8 * (i % 4)));
}

uint64_t harness_check_pattern(const void *src, VkDeviceSize bytes, uint32_t seed, const char *label) {
    const uint32_t *words = src;
    uint64_t wrong = 0;
    VkDeviceSize first = bytes;
    for (VkDeviceSize i = 0; i < bytes / 4; i++) {
        if (words[i] == harness_pattern(seed, i)) continue;
        if (first == bytes) first = i * 4;
        wrong += 4;
    }
    for (VkDeviceSize i = bytes / 4 * 4; i < bytes; i++) {
        if (((const uint8_t *)src)[i] == (uint8_t)(harness_pattern(seed, bytes / 4) >> (8 * (i % 4)))) continue;
        if (first == bytes) first = i;
        wrong++;
    }
    if (wrong)
        fprintf(stderr, "  %s: %" PRIu64 " of %" PRIu64 " bytes wrong, first at byte %" PRIu64 "\n", label, wrong,
                (uint64_t)bytes, (uint64_t)first);
    return wrong;
}

harness_rng harness_rng_make(uint64_t default_seed) {
    const char *text = getenv("SUBALLOC_TEST_SEED");
    uint64_t seed = text && *text ? strtoull(text, NULL, 0) : default_seed;
    printf("  random seed %" PRIu64 " (SUBALLOC_TEST_SEED to change)\n", seed);
    return (harness_rng){seed ? seed : 1};
}

uint64_t harness_rng_next(harness_rng *rng) {
    rng->state ^= rng->state >> 12;
    rng->state ^= rng->state << 25;
    rng->state ^= rng->state >> 27;
    return rng->state * 0x2545F4914F6CDD1Dull;
}

uint64_t harness_rng_below(harness_rng *rng, uint64_t bound) { return bound ? harness_rng_next(rng) % bound : 0; }

void harness_shuffle(harness_rng *rng, uint32_t *items, uint32_t count) {
    for (uint32_t i = count; i > 1; i--) {
        uint32_t j = (uint32_t)harness_rng_below(rng, i);
        uint32_t t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}

VkBuffer harness_buffer_create(harness *h, VkDeviceSize size, VkBufferUsageFlags extra_usage, const void *next) {
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .pNext = next,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT | extra_usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer;
    VK_REQUIRE(vkCreateBuffer(h->device, &info, NULL, &buffer));
    return buffer;
}

VkImageCreateInfo harness_image_info(uint32_t side) {
    return (VkImageCreateInfo){
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = VK_FORMAT_R8G8B8A8_UINT,
        .extent = {side, side, 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
}

void harness_image_layout(VkCommandBuffer commands, VkImage image, VkImageLayout from, VkImageLayout to) {
    VkImageMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .oldLayout = from,
        .newLayout = to,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
    };
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL,
                         1, &barrier);
}
