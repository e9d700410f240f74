/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats_dump_app: a small Vulkan app whose memory the layer's JSON dump must
 * show exactly. It writes what it left live (names, kinds, memory types, sizes)
 * to an expectations file that check_dump.py holds the dump to.
 *
 *   stats_dump_app named EXPECT.json     every memory type: allocations bound to a
 *                                        buffer, to an image, to nothing; named with
 *                                        debug utils and debug markers (odd bytes
 *                                        included), one passed to the driver, some
 *                                        freed; all the rest left live at vkDestroyDevice
 *   stats_dump_app interval DUMP.json    the dump rewritten while the app runs: a named
 *                                        allocation appears in it, then goes
 *   stats_dump_app threads N             N threads named suballoc-stats exist while
 *                                        a device lives (no thread without stats_interval)
 *   stats_dump_app exit EXPECT.json      allocations left live and no vkDestroyDevice,
 *                                        no vkDestroyInstance: the dump at exit
 *   stats_dump_app two EXPECT1 EXPECT2   two devices live at once, destroyed newest first
 *   stats_dump_app sizes EXPECT.json     five allocations of known sizes, two freed
 *                                        (pass-through mode: the bytes it counts)
 *
 * Messages from layers go to stderr as "stats_dump_app: message: ..." lines.
 * STATS_DUMP_APP_SETTING=NAME=VALUE chains one VkLayerSettingsCreateInfoEXT string
 * setting for the layer into vkCreateInstance (a settings source of its own).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "test_vk.h"
#include "vk_layer_settings_ext.h"

#define MAX_LIVE 256
#define WAIT_SECONDS 20

static void die(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "stats_dump_app: FAIL: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    exit(1);
}

#define VK_CHECK(call)                                                                                \
    do {                                                                                              \
        VkResult check_result_ = (call);                                                              \
        if (check_result_ != VK_SUCCESS) die("%s returned %s", #call, vk_result_name(check_result_)); \
    } while (0)

/* ---- the app ----------------------------------------------------------------------- */

typedef struct live_allocation {
    char name[256];     /* "" when unnamed */
    size_t name_length; /* names may hold NUL-free odd bytes */
    const char *kind;   /* what the dump must say: BUFFER, IMAGE_UNKNOWN, UNKNOWN */
    uint32_t memory_type;
    uint64_t size;
    bool dedicated; /* passed to the driver */
} live_allocation;

typedef struct app {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkPhysicalDeviceMemoryProperties memory;
    uint32_t api_version;
    bool debug_report;
    PFN_vkSetDebugUtilsObjectNameEXT set_name;
    live_allocation live[MAX_LIVE];
    uint32_t live_count;
} app;

typedef struct device {
    VkDevice handle;
    bool debug_marker;
    bool device_address;
    PFN_vkDebugMarkerSetObjectNameEXT marker_name;
} device;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)types, (void)user;
    const char *level = severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT     ? "error"
                        : severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT ? "warning"
                                                                                      : "info";
    fprintf(stderr, "stats_dump_app: message: %s: %s: %s\n", level, data->pMessageIdName ? data->pMessageIdName : "",
            data->pMessage);
    return VK_FALSE;
}

static void app_create(app *a) {
    memset(a, 0, sizeof *a);
    const char *debug_report[] = {VK_EXT_DEBUG_REPORT_EXTENSION_NAME};
    a->debug_report = test_vk_has_instance_extension(debug_report[0]); /* VK_EXT_debug_marker needs it */
    /* A layer setting given in code, when the test asks for one. */
    static char setting_name[128];
    static const char *setting_value;
    VkLayerSettingEXT setting = {"VK_LAYER_TRANSPARENT_suballoc", setting_name, VK_LAYER_SETTING_TYPE_STRING_EXT, 1,
                                 &setting_value};
    VkLayerSettingsCreateInfoEXT settings = {VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT, NULL, 1, &setting};
    const char *given = getenv("STATS_DUMP_APP_SETTING");
    const char *equals = given != NULL ? strchr(given, '=') : NULL;
    if (equals != NULL) {
        snprintf(setting_name, sizeof setting_name, "%.*s", (int)(equals - given), given);
        setting_value = equals + 1;
    }
    test_vk_instance_info info = {
        .application = "stats_dump_app",
        .api_version = VK_API_VERSION_1_2,
        .messenger = on_message,
        .types = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .extensions = debug_report,
        .extension_count = a->debug_report ? 1 : 0,
        .next = equals != NULL ? &settings : NULL,
    };
    test_vk_instance instance;
    VK_CHECK(test_vk_instance_create(&info, &instance));
    a->instance = instance.handle;
    a->messenger = instance.messenger;
    a->set_name = (PFN_vkSetDebugUtilsObjectNameEXT)vkGetInstanceProcAddr(a->instance, "vkSetDebugUtilsObjectNameEXT");
    uint32_t count = 1;
    VkResult result = vkEnumeratePhysicalDevices(a->instance, &count, &a->physical);
    if ((result != VK_SUCCESS && result != VK_INCOMPLETE) || count == 0) die("no Vulkan device");
    vkGetPhysicalDeviceMemoryProperties(a->physical, &a->memory);
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(a->physical, &properties);
    a->api_version = properties.apiVersion;
}

static void app_destroy(app *a) {
    test_vk_instance instance = {.handle = a->instance, .messenger = a->messenger};
    test_vk_instance_destroy(&instance);
}

static void device_create(app *a, device *d) {
    memset(d, 0, sizeof *d);
    const char *extensions[1];
    uint32_t extension_count = 0;
    if (a->debug_report && test_vk_has_device_extension(a->physical, VK_EXT_DEBUG_MARKER_EXTENSION_NAME)) {
        extensions[extension_count++] = VK_EXT_DEBUG_MARKER_EXTENSION_NAME;
        d->debug_marker = true;
    }
    VkPhysicalDeviceVulkan12Features has12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceFeatures2 has = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &has12};
    if (a->api_version >= VK_API_VERSION_1_2) vkGetPhysicalDeviceFeatures2(a->physical, &has);
    VkPhysicalDeviceVulkan12Features want12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                               .bufferDeviceAddress = has12.bufferDeviceAddress};
    d->device_address = has12.bufferDeviceAddress;
    VK_CHECK(test_vk_device_create(a->physical, 0, extensions, extension_count,
                                   a->api_version >= VK_API_VERSION_1_2 ? &want12 : NULL, &d->handle));
    if (d->debug_marker)
        d->marker_name =
            (PFN_vkDebugMarkerSetObjectNameEXT)vkGetDeviceProcAddr(d->handle, "vkDebugMarkerSetObjectNameEXT");
}

/* ---- allocations ---------------------------------------------------------------------- */

static VkDeviceMemory allocate(device *d, uint32_t type, uint64_t size, const void *next) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = next,
        .allocationSize = size,
        .memoryTypeIndex = type,
    };
    VkDeviceMemory memory;
    VK_CHECK(vkAllocateMemory(d->handle, &info, NULL, &memory));
    return memory;
}

typedef enum namer { BY_DEBUG_UTILS, BY_DEBUG_MARKER } namer;

static void name_memory(app *a, device *d, VkDeviceMemory memory, const char *name, namer how) {
    if (how == BY_DEBUG_MARKER && d->marker_name != NULL) {
        VkDebugMarkerObjectNameInfoEXT info = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_MARKER_OBJECT_NAME_INFO_EXT,
            .objectType = VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT,
            .object = (uint64_t)memory,
            .pObjectName = name,
        };
        VK_CHECK(d->marker_name(d->handle, &info));
        return;
    }
    VkDebugUtilsObjectNameInfoEXT info = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
        .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
        .objectHandle = (uint64_t)memory,
        .pObjectName = name,
    };
    VK_CHECK(a->set_name(d->handle, &info));
}

static void expect_live(app *a, const char *name, const char *kind, uint32_t type, uint64_t size, bool dedicated) {
    if (a->live_count == MAX_LIVE) die("too many live allocations for the expectations");
    live_allocation *l = &a->live[a->live_count++];
    snprintf(l->name, sizeof l->name, "%s", name != NULL ? name : "");
    l->name_length = strlen(l->name);
    l->kind = kind;
    l->memory_type = type;
    l->size = size;
    l->dedicated = dedicated;
}

static void write_expectations(const app *a, const char *path) {
    FILE *f = fopen(path, "w");
    if (f == NULL) die("cannot write %s", path);
    fprintf(f, "{\"memory_types\": %u, \"live\": [\n", a->memory.memoryTypeCount);
    for (uint32_t i = 0; i < a->live_count; i++) {
        const live_allocation *l = &a->live[i];
        fprintf(f, "  {\"name_hex\": \"");
        for (size_t k = 0; k < l->name_length; k++) fprintf(f, "%02x", (unsigned char)l->name[k]);
        fprintf(f,
                "\", \"named\": %s, \"type\": \"%s\", \"memory_type\": %u, \"size\": %" PRIu64
                ", \"dedicated\": %s}%s\n",
                l->name_length > 0 ? "true" : "false", l->kind, l->memory_type, l->size,
                l->dedicated ? "true" : "false", i + 1 < a->live_count ? "," : "");
    }
    fprintf(f, "]}\n");
    if (fclose(f) != 0) die("cannot write %s", path);
}

static VkBuffer make_buffer(device *d, uint64_t size) {
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer;
    VK_CHECK(vkCreateBuffer(d->handle, &info, NULL, &buffer));
    return buffer;
}

static VkImage make_image(device *d) {
    VkImageCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = VK_FORMAT_R8G8B8A8_UNORM,
        .extent = {64, 64, 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    VkImage image;
    VK_CHECK(vkCreateImage(d->handle, &info, NULL, &image));
    return image;
}

static bool lazily_allocated(const app *a, uint32_t type) {
    return a->memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT;
}

/* Names with every kind of byte a name may hold: the dump must stay valid JSON. */
static const char *const odd_names[] = {
    "quote \" and back\\slash",
    "new\nline, tab\t, bell\x07, escape\x1b, delete\x7f",
    "not UTF-8: \xff\xfe and a lone \xc0",
    "UTF-8: \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    "</script><!-- {\"Name\": [] } -->",
};

static void named_case(app *a, const char *expect_path) {
    device d;
    device_create(a, &d);
    VkBuffer buffers[VK_MAX_MEMORY_TYPES * 2];
    VkImage images[VK_MAX_MEMORY_TYPES];
    uint32_t buffer_count = 0, image_count = 0;
    char name[128];
    for (uint32_t t = 0; t < a->memory.memoryTypeCount; t++) {
        namer how = t % 2 ? BY_DEBUG_MARKER : BY_DEBUG_UTILS;
        bool lazy = lazily_allocated(a, t); /* passed to the driver by the layer, never bound here */
        /* Bound to a buffer, where the type allows one. */
        VkBuffer buffer = make_buffer(&d, 3000 + t);
        VkMemoryRequirements r;
        vkGetBufferMemoryRequirements(d.handle, buffer, &r);
        if (!lazy && (r.memoryTypeBits & (1u << t))) {
            VkDeviceMemory memory = allocate(&d, t, r.size, NULL);
            snprintf(name, sizeof name, "buffer in type %u", t);
            name_memory(a, &d, memory, name, how);
            VK_CHECK(vkBindBufferMemory(d.handle, buffer, memory, 0));
            expect_live(a, name, "BUFFER", t, r.size, false);
            buffers[buffer_count++] = buffer;
        } else {
            vkDestroyBuffer(d.handle, buffer, NULL);
        }
        /* Bound to an image, where the type allows one. */
        VkImage image = make_image(&d);
        vkGetImageMemoryRequirements(d.handle, image, &r);
        if (!lazy && (r.memoryTypeBits & (1u << t))) {
            VkDeviceMemory memory = allocate(&d, t, r.size, NULL);
            snprintf(name, sizeof name, "image in type %u", t);
            name_memory(a, &d, memory, name, how);
            VK_CHECK(vkBindImageMemory(d.handle, image, memory, 0));
            expect_live(a, name, "IMAGE_UNKNOWN", t, r.size, false);
            images[image_count++] = image;
        } else {
            vkDestroyImage(d.handle, image, NULL);
        }
        /* Bound to nothing: named, unnamed, renamed, and one freed (it must not show). */
        VkDeviceMemory unbound = allocate(&d, t, 5000, NULL);
        snprintf(name, sizeof name, "first name of type %u", t);
        name_memory(a, &d, unbound, name, how);
        snprintf(name, sizeof name, "unbound in type %u", t);
        name_memory(a, &d, unbound, name, how);
        expect_live(a, name, "UNKNOWN", t, 5000, lazy);
        allocate(&d, t, 777, NULL);
        expect_live(a, NULL, "UNKNOWN", t, 777, lazy);
        VkDeviceMemory freed = allocate(&d, t, 4096, NULL);
        name_memory(a, &d, freed, "freed before the end", BY_DEBUG_UTILS);
        vkFreeMemory(d.handle, freed, NULL);
    }
    /* Odd names, on the first type. */
    for (size_t i = 0; i < sizeof odd_names / sizeof odd_names[0]; i++) {
        VkDeviceMemory memory = allocate(&d, 0, 1024 * (i + 1), NULL);
        name_memory(a, &d, memory, odd_names[i], BY_DEBUG_UTILS);
        expect_live(a, odd_names[i], "UNKNOWN", 0, 1024 * (i + 1), false);
    }
    static char long_name[200];
    memset(long_name, 'L', sizeof long_name - 1);
    VkDeviceMemory long_named = allocate(&d, 0, 64, NULL);
    name_memory(a, &d, long_named, long_name, BY_DEBUG_UTILS);
    expect_live(a, long_name, "UNKNOWN", 0, 64, false);
    /* Dedicated to a buffer: the layer passes it to the driver. */
    VkBuffer dedicated_buffer = make_buffer(&d, 65536);
    VkMemoryRequirements r;
    vkGetBufferMemoryRequirements(d.handle, dedicated_buffer, &r);
    uint32_t dedicated_type = (uint32_t)__builtin_ctz(r.memoryTypeBits);
    VkMemoryDedicatedAllocateInfo dedicated = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
        .buffer = dedicated_buffer,
    };
    VkDeviceMemory dedicated_memory = allocate(&d, dedicated_type, r.size, &dedicated);
    name_memory(a, &d, dedicated_memory, "dedicated to a buffer", BY_DEBUG_UTILS);
    VK_CHECK(vkBindBufferMemory(d.handle, dedicated_buffer, dedicated_memory, 0));
    expect_live(a, "dedicated to a buffer", "UNKNOWN", dedicated_type, r.size, true);
    buffers[buffer_count++] = dedicated_buffer;
    /* With the device-address flag: a pool of its own (a VMA custom pool). */
    if (d.device_address) {
        VkMemoryAllocateFlagsInfo flags = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
            .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
        };
        VkDeviceMemory memory = allocate(&d, 0, 8192, &flags);
        name_memory(a, &d, memory, "with a device address", BY_DEBUG_UTILS);
        expect_live(a, "with a device address", "UNKNOWN", 0, 8192, false);
    }

    /* The resources go; their memory stays live: the layer finds it at vkDestroyDevice. */
    for (uint32_t i = 0; i < buffer_count; i++) vkDestroyBuffer(d.handle, buffers[i], NULL);
    for (uint32_t i = 0; i < image_count; i++) vkDestroyImage(d.handle, images[i], NULL);
    write_expectations(a, expect_path);
    vkDestroyDevice(d.handle, NULL);
}

/* ---- the dump while the app runs ------------------------------------------------------- */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t capacity = 1 << 16, length = 0;
    char *text = malloc(capacity);
    for (size_t n; text != NULL && (n = fread(text + length, 1, capacity - length - 1, f)) > 0;) {
        length += n;
        if (length + 1 == capacity) text = realloc(text, capacity *= 2);
    }
    fclose(f);
    if (text != NULL) text[length] = '\0';
    return text;
}

/* Waits until an interval dump that does (or does not) hold `name` is in place. */
static double wait_for_interval_dump(const char *path, const char *name, bool present) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        char *text = read_file(path);
        /* Written to a temporary file and renamed: a reader only ever sees whole dumps. */
        size_t length = text != NULL ? strlen(text) : 0;
        if (text != NULL && (length < 3 || text[0] != '{' || strcmp(text + length - 2, "}\n") != 0))
            die("read a partial dump from %s (%zu bytes)", path, length);
        bool interval = text != NULL && strstr(text, "\"WrittenAt\": \"interval\"") != NULL;
        bool has = text != NULL && strstr(text, name) != NULL;
        free(text);
        clock_gettime(CLOCK_MONOTONIC, &now);
        double waited = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) * 1e-9;
        if (interval && has == present) return waited;
        if (waited > WAIT_SECONDS)
            die("no interval dump %s '%s' in %s after %d s", present ? "with" : "without", name, path, WAIT_SECONDS);
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
}

static unsigned count_threads_named(const char *wanted) {
    DIR *tasks = opendir("/proc/self/task");
    if (tasks == NULL) die("cannot list /proc/self/task");
    unsigned count = 0;
    for (struct dirent *e; (e = readdir(tasks)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char path[300], name[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) continue;
        if (fgets(name, sizeof name, f) != NULL) name[strcspn(name, "\n")] = '\0';
        fclose(f);
        if (strcmp(name, wanted) == 0) count++;
    }
    closedir(tasks);
    return count;
}

/* Allocates, names, binds and frees for `seconds` while the dump thread reads
 * the same pools (ThreadSanitizer runs this test). */
static void churn(app *a, device *d, double seconds) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    VkBuffer buffer = make_buffer(d, 4096);
    VkMemoryRequirements r;
    vkGetBufferMemoryRequirements(d->handle, buffer, &r);
    uint32_t type = (uint32_t)__builtin_ctz(r.memoryTypeBits);
    unsigned rounds = 0;
    do {
        VkDeviceMemory memory[64];
        for (int i = 0; i < 64; i++) {
            memory[i] = allocate(d, type, r.size + 4096u * (unsigned)(i % 7), NULL);
            if (i % 2) name_memory(a, d, memory[i], i % 4 == 1 ? "churn" : "churn, renamed", BY_DEBUG_UTILS);
        }
        VK_CHECK(vkBindBufferMemory(d->handle, buffer, memory[rounds % 64], 0));
        vkDestroyBuffer(d->handle, buffer, NULL);
        buffer = make_buffer(d, 4096);
        for (int i = 0; i < 64; i++) vkFreeMemory(d->handle, memory[i], NULL);
        rounds++;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) * 1e-9 < seconds);
    vkDestroyBuffer(d->handle, buffer, NULL);
    printf("stats_dump_app: %u rounds of 64 allocations while the dump thread ran\n", rounds);
}

static void interval_case(app *a, const char *dump_path) {
    device d;
    device_create(a, &d);
    if (count_threads_named("suballoc-stats") != 1) die("expected one suballoc-stats thread with stats_interval set");
    VkDeviceMemory kept[8];
    for (int i = 0; i < 8; i++) kept[i] = allocate(&d, 0, 4096, NULL);
    VkDeviceMemory marker = allocate(&d, 0, 65536, NULL);
    name_memory(a, &d, marker, "interval marker", BY_DEBUG_UTILS);
    double waited = wait_for_interval_dump(dump_path, "interval marker", true);
    printf("stats_dump_app: the interval dump showed the live allocation after %.1f s\n", waited);
    churn(a, &d, 2.5);
    vkFreeMemory(d.handle, marker, NULL);
    waited = wait_for_interval_dump(dump_path, "interval marker", false);
    printf("stats_dump_app: a later interval dump showed it freed after %.1f s\n", waited);
    for (int i = 0; i < 8; i++) vkFreeMemory(d.handle, kept[i], NULL);
    vkDestroyDevice(d.handle, NULL);
    if (count_threads_named("suballoc-stats") != 0) die("the suballoc-stats thread outlived its device");
}

static void threads_case(app *a, unsigned expected) {
    device d;
    device_create(a, &d);
    VkDeviceMemory memory = allocate(&d, 0, 4096, NULL);
    unsigned seen = count_threads_named("suballoc-stats");
    printf("stats_dump_app: %u suballoc-stats thread%s while the device lives\n", seen, seen == 1 ? "" : "s");
    if (seen != expected) die("%u suballoc-stats threads, expected %u", seen, expected);
    vkFreeMemory(d.handle, memory, NULL);
    vkDestroyDevice(d.handle, NULL);
}

/* Leaves everything to the process's end, as many apps do. */
static void exit_case(app *a, const char *expect_path) {
    device d;
    device_create(a, &d);
    char name[64];
    for (uint32_t i = 0; i < 10; i++) {
        VkDeviceMemory memory = allocate(&d, 0, 4096 * (i + 1), NULL);
        snprintf(name, sizeof name, "live at exit %u", i);
        name_memory(a, &d, memory, name, BY_DEBUG_UTILS);
        expect_live(a, name, "UNKNOWN", 0, 4096 * (i + 1), false);
    }
    write_expectations(a, expect_path);
    exit(0);
}

static void two_devices_case(app *a, const char *first_path, const char *second_path) {
    device first, second;
    device_create(a, &first);
    device_create(a, &second);
    VkDeviceMemory m1 = allocate(&first, 0, 4096, NULL);
    name_memory(a, &first, m1, "on the first device", BY_DEBUG_UTILS);
    VkDeviceMemory m2 = allocate(&second, 0, 8192, NULL);
    name_memory(a, &second, m2, "on the second device", BY_DEBUG_UTILS);
    expect_live(a, "on the first device", "UNKNOWN", 0, 4096, false);
    write_expectations(a, first_path);
    a->live_count = 0;
    expect_live(a, "on the second device", "UNKNOWN", 0, 8192, false);
    write_expectations(a, second_path);
    vkDestroyDevice(second.handle, NULL); /* newest first: file names follow creation, not destruction */
    vkDestroyDevice(first.handle, NULL);
}

static void sizes_case(app *a, const char *expect_path) {
    device d;
    device_create(a, &d);
    static const uint64_t sizes[5] = {4096, 65536, 1 << 20, 12288, 300000};
    VkDeviceMemory memory[5];
    for (int i = 0; i < 5; i++) memory[i] = allocate(&d, 0, sizes[i], NULL);
    vkFreeMemory(d.handle, memory[1], NULL);
    vkFreeMemory(d.handle, memory[3], NULL);
    for (int i = 0; i < 5; i++)
        if (i != 1 && i != 3) expect_live(a, NULL, "UNKNOWN", 0, sizes[i], true);
    write_expectations(a, expect_path);
    vkDestroyDevice(d.handle, NULL);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3) {
        fprintf(stderr, "usage: stats_dump_app named|interval|threads|exit|two|sizes ARG...\n");
        return 2;
    }
    app a;
    app_create(&a);
    const char *scenario = argv[1];
    if (strcmp(scenario, "named") == 0) named_case(&a, argv[2]);
    else if (strcmp(scenario, "interval") == 0) interval_case(&a, argv[2]);
    else if (strcmp(scenario, "threads") == 0) threads_case(&a, (unsigned)atoi(argv[2]));
    else if (strcmp(scenario, "exit") == 0) exit_case(&a, argv[2]);
    else if (strcmp(scenario, "two") == 0 && argc == 4) two_devices_case(&a, argv[2], argv[3]);
    else if (strcmp(scenario, "sizes") == 0) sizes_case(&a, argv[2]);
    else die("unknown scenario '%s'", scenario);
    app_destroy(&a);
    printf("stats_dump_app: %s done\n", scenario);
    return 0;
}
