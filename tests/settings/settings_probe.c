/* SPDX-License-Identifier: Apache-2.0 */
/*
 * settings_probe: tells from the outside whether the layer was on, and in which mode.
 *
 * It makes a few hundred small allocations on the first device, frees them,
 * destroys the device, and then reads the statistics line the layer appends
 * to its stats_file at vkDestroyDevice. No line means the layer was not in the
 * chain; the line's mode and counts say what it did. The probe only passes
 * when what it saw is what the test expected.
 *
 *   settings_probe --expect off|suballocate|passthrough --stats-file PATH
 *                  [--enable-layer]             ppEnabledLayerNames carries the layer
 *                  [--api NAME=TYPE:VALUE]...   a VkLayerSettingsCreateInfoEXT value
 *                                               (TYPE: string, u32, u64, i32, i64, f64, bool)
 *                  [--enable-settings-extension] also enable VK_EXT_layer_settings by name
 *                  [--allocations N]            default 300, 4 KiB each
 *                  [--expect-log TEXT]          vkCreateInstance's stderr must contain TEXT
 *                  [--expect-reported-limit N]  maxMemoryAllocationCount the app sees
 *                  [--check FIELD>=N]...        a stats field compared (>=, <= or ==)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "settings.h"
#include "test_vk.h"
#include "vk_layer_settings_ext.h"

#define MAX_API_SETTINGS 16
#define MAX_CHECKS 8
#define ALLOCATION_SIZE 4096

typedef enum expectation { EXPECT_OFF, EXPECT_SUBALLOCATE, EXPECT_PASSTHROUGH } expectation;

typedef union api_value {
    const char *string;
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    int64_t i64;
    double f64;
    VkBool32 boolean;
} api_value;

/* One comparison of a statistics field, e.g. blocks_peak>=2. */
typedef struct stat_check {
    char field[32];
    char op; /* '>' for >=, '<' for <=, '=' for == */
    uint64_t value;
} stat_check;

typedef struct options {
    expectation expect;
    const char *stats_file;
    bool enable_layer;
    bool enable_settings_extension;
    uint32_t allocations;
    const char *expect_log;
    int64_t expect_reported_limit; /* -1: not checked */
    uint32_t check_count;
    stat_check checks[MAX_CHECKS];
    uint32_t api_count;
    VkLayerSettingEXT api[MAX_API_SETTINGS];
    api_value api_values[MAX_API_SETTINGS];
    char api_names[MAX_API_SETTINGS][64];
} options;

static int fail(const char *format, const char *detail) {
    fprintf(stderr, "settings_probe: FAIL: ");
    fprintf(stderr, format, detail);
    fputc('\n', stderr);
    return EXIT_FAILURE;
}

/* ---- command line ------------------------------------------------------------- */

static bool parse_api_value(const char *type, const char *text, VkLayerSettingEXT *setting, api_value *value) {
    char *end = NULL;
    errno = 0;
    if (strcmp(type, "string") == 0) {
        value->string = text;
        setting->type = VK_LAYER_SETTING_TYPE_STRING_EXT;
        return true;
    }
    if (strcmp(type, "bool") == 0) {
        value->boolean = strcmp(text, "true") == 0 ? VK_TRUE : VK_FALSE;
        setting->type = VK_LAYER_SETTING_TYPE_BOOL32_EXT;
        return true;
    }
    if (strcmp(type, "f64") == 0) {
        value->f64 = strtod(text, &end);
        setting->type = VK_LAYER_SETTING_TYPE_FLOAT64_EXT;
    } else if (type[0] == 'u') {
        uint64_t v = strtoull(text, &end, 10);
        if (strcmp(type, "u32") == 0) value->u32 = (uint32_t)v, setting->type = VK_LAYER_SETTING_TYPE_UINT32_EXT;
        else if (strcmp(type, "u64") == 0) value->u64 = v, setting->type = VK_LAYER_SETTING_TYPE_UINT64_EXT;
        else return false;
    } else if (type[0] == 'i') {
        int64_t v = strtoll(text, &end, 10);
        if (strcmp(type, "i32") == 0) value->i32 = (int32_t)v, setting->type = VK_LAYER_SETTING_TYPE_INT32_EXT;
        else if (strcmp(type, "i64") == 0) value->i64 = v, setting->type = VK_LAYER_SETTING_TYPE_INT64_EXT;
        else return false;
    } else {
        return false;
    }
    return errno == 0 && end != NULL && *end == '\0' && end != text;
}

static bool add_check(options *o, const char *argument) {
    size_t field_length = strcspn(argument, "<>=");
    const char *op = argument + field_length;
    if (o->check_count == MAX_CHECKS || field_length == 0 || field_length >= sizeof o->checks[0].field ||
        op[0] == '\0' || op[1] != '=')
        return false;
    stat_check *c = &o->checks[o->check_count];
    snprintf(c->field, sizeof c->field, "%.*s", (int)field_length, argument);
    c->op = op[0];
    char *end = NULL;
    c->value = strtoull(op + 2, &end, 10);
    if (end == op + 2 || *end != '\0') return false;
    o->check_count++;
    return true;
}

/* NAME=TYPE:VALUE, e.g. mode=string:passthrough or block_size=u64:65536. */
static bool add_api_setting(options *o, const char *argument) {
    const char *equals = strchr(argument, '='), *colon = equals ? strchr(equals, ':') : NULL;
    if (o->api_count == MAX_API_SETTINGS || colon == NULL || (size_t)(equals - argument) >= sizeof o->api_names[0])
        return false;
    uint32_t i = o->api_count;
    char type[16];
    snprintf(o->api_names[i], sizeof o->api_names[i], "%.*s", (int)(equals - argument), argument);
    snprintf(type, sizeof type, "%.*s", (int)(colon - equals - 1), equals + 1);
    VkLayerSettingEXT *setting = &o->api[i];
    *setting = (VkLayerSettingEXT){.pLayerName = SUBALLOC_LAYER_NAME, .pSettingName = o->api_names[i], .valueCount = 1};
    if (!parse_api_value(type, colon + 1, setting, &o->api_values[i])) return false;
    setting->pValues = &o->api_values[i];
    o->api_count++;
    return true;
}

static bool parse_options(int argc, char **argv, options *o) {
    bool have_expect = false;
    *o = (options){.allocations = 300, .expect_reported_limit = -1};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--enable-layer") == 0) {
            o->enable_layer = true;
            continue;
        }
        if (strcmp(arg, "--enable-settings-extension") == 0) {
            o->enable_settings_extension = true;
            continue;
        }
        if (next == NULL) return false;
        i++;
        if (strcmp(arg, "--expect") == 0) {
            have_expect = true;
            if (strcmp(next, "off") == 0) o->expect = EXPECT_OFF;
            else if (strcmp(next, "suballocate") == 0) o->expect = EXPECT_SUBALLOCATE;
            else if (strcmp(next, "passthrough") == 0) o->expect = EXPECT_PASSTHROUGH;
            else return false;
        } else if (strcmp(arg, "--stats-file") == 0) {
            o->stats_file = next;
        } else if (strcmp(arg, "--allocations") == 0) {
            o->allocations = (uint32_t)strtoul(next, NULL, 10);
        } else if (strcmp(arg, "--expect-log") == 0) {
            o->expect_log = next;
        } else if (strcmp(arg, "--api") == 0) {
            if (!add_api_setting(o, next)) return false;
        } else if (strcmp(arg, "--check") == 0) {
            if (!add_check(o, next)) return false;
        } else if (strcmp(arg, "--expect-reported-limit") == 0) {
            o->expect_reported_limit = (int64_t)strtoull(next, NULL, 10);
        } else {
            return false;
        }
    }
    return have_expect && o->stats_file != NULL && o->allocations >= 8;
}

/* ---- stderr capture around vkCreateInstance ------------------------------------ */

typedef struct capture {
    int saved_fd;
    FILE *file;
} capture;

static bool capture_begin(capture *c) {
    fflush(stderr);
    c->file = tmpfile();
    c->saved_fd = dup(STDERR_FILENO);
    return c->file != NULL && c->saved_fd >= 0 && dup2(fileno(c->file), STDERR_FILENO) >= 0;
}

/* Restores stderr, echoes what was captured (the chain checker reads it too),
 * and returns whether it contained `needle`. */
static bool capture_end(capture *c, const char *needle) {
    fflush(stderr);
    dup2(c->saved_fd, STDERR_FILENO);
    close(c->saved_fd);
    static char text[1 << 20];
    rewind(c->file);
    size_t length = fread(text, 1, sizeof text - 1, c->file);
    text[length] = '\0';
    fclose(c->file);
    fputs(text, stderr);
    return strstr(text, needle) != NULL;
}

/* ---- the Vulkan work -------------------------------------------------------------- */

static const char *const decoy_mode = "passthrough";
static const char *const decoy_stats = "/nonexistent/decoy-stats.txt";

static VkResult create_instance(const options *o, VkInstance *instance) {
    /* Another layer's settings ride along: the layer must skip them, and would
     * visibly misbehave (mode, stats file) if it took them. */
    VkLayerSettingEXT settings[MAX_API_SETTINGS + 2];
    uint32_t count = 0;
    settings[count++] =
        (VkLayerSettingEXT){"VK_LAYER_KHRONOS_validation", "mode", VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &decoy_mode};
    for (uint32_t i = 0; i < o->api_count; i++) settings[count++] = o->api[i];
    settings[count++] = (VkLayerSettingEXT){"VK_LAYER_KHRONOS_validation", "stats_file",
                                            VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &decoy_stats};
    VkLayerSettingsCreateInfoEXT layer_settings = {VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT, NULL, count,
                                                   settings};

    const char *layer = SUBALLOC_LAYER_NAME;
    const char *extension = VK_EXT_LAYER_SETTINGS_EXTENSION_NAME;
    test_vk_instance_info info = {
        .application = "settings_probe",
        .api_version = VK_API_VERSION_1_1,
        .next = o->api_count > 0 ? &layer_settings : NULL,
        .layers = &layer,
        .layer_count = o->enable_layer ? 1 : 0,
        .extensions = &extension,
        .extension_count = o->enable_settings_extension ? 1 : 0,
    };
    test_vk_instance made;
    VkResult result = test_vk_instance_create(&info, &made);
    *instance = made.handle;
    return result;
}

static bool host_visible_type(VkPhysicalDevice gpu, uint32_t *type) {
    VkPhysicalDeviceMemoryProperties memory;
    vkGetPhysicalDeviceMemoryProperties(gpu, &memory);
    for (uint32_t i = 0; i < memory.memoryTypeCount; i++) {
        if (memory.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
            *type = i;
            return true;
        }
    }
    return false;
}

static bool reported_limit_is_expected(const options *o, VkPhysicalDevice gpu) {
    if (o->expect_reported_limit < 0) return true;
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(gpu, &properties);
    printf("settings_probe: maxMemoryAllocationCount %" PRIu32 "\n", properties.limits.maxMemoryAllocationCount);
    return properties.limits.maxMemoryAllocationCount == (uint64_t)o->expect_reported_limit;
}

static VkResult create_device(VkPhysicalDevice gpu, VkDevice *device) {
    return test_vk_device_create(gpu, 0, NULL, 0, NULL, device);
}

/* Allocates, writes through a mapping, and frees: what any app does. */
static bool exercise_memory(VkDevice device, uint32_t type, uint32_t count) {
    VkDeviceMemory *memory = calloc(count, sizeof *memory);
    bool ok = memory != NULL;
    uint32_t made = 0;
    for (; ok && made < count; made++) {
        VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                     .allocationSize = ALLOCATION_SIZE,
                                     .memoryTypeIndex = type};
        ok = vkAllocateMemory(device, &info, NULL, &memory[made]) == VK_SUCCESS;
        if (!ok) break;
        void *data = NULL;
        ok = vkMapMemory(device, memory[made], 0, VK_WHOLE_SIZE, 0, &data) == VK_SUCCESS;
        if (ok) memset(data, (int)(made & 0xff), ALLOCATION_SIZE), vkUnmapMemory(device, memory[made]);
    }
    while (made > 0) vkFreeMemory(device, memory[--made], NULL);
    free(memory);
    return ok;
}

/* ---- reading the layer's statistics ---------------------------------------------- */

static bool stat_field(const char *line, const char *key, uint64_t *value) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, " %s=", key);
    const char *at = strstr(line, pattern);
    return at != NULL && sscanf(at + strlen(pattern), "%" SCNu64, value) == 1;
}

static int check_stats(const options *o) {
    FILE *file = fopen(o->stats_file, "r");
    if (o->expect == EXPECT_OFF) {
        if (file != NULL) fclose(file);
        return file == NULL ? EXIT_SUCCESS
                            : fail("the layer wrote %s: it was on, but should have been off", o->stats_file);
    }
    if (file == NULL)
        return fail("no statistics in %s: the layer was not on (or did not get stats_file)", o->stats_file);
    char line[2048] = "", extra[16];
    bool one_line = fgets(line, sizeof line, file) != NULL && fgets(extra, sizeof extra, file) == NULL;
    fclose(file);
    printf("settings_probe: %s", line);
    if (!one_line || strncmp(line, "suballoc_stats ", 15) != 0)
        return fail("expected exactly one suballoc_stats line in %s", o->stats_file);

    const char *mode = o->expect == EXPECT_SUBALLOCATE ? " mode=suballocate " : " mode=passthrough ";
    if (strstr(line, mode) == NULL) return fail("the layer ran in the wrong mode, expected%s", mode);

    uint64_t app = 0, suballocated = 0, passthrough = 0, driver = 0, leaked = 1;
    if (!stat_field(line, "app_allocations", &app) || !stat_field(line, "suballocated", &suballocated) ||
        !stat_field(line, "passthrough", &passthrough) || !stat_field(line, "driver_allocations", &driver) ||
        !stat_field(line, "app_leaked", &leaked))
        return fail("%s", "the stats line lacks a field the probe needs");
    if (app != o->allocations || leaked != 0)
        return fail("%s", "app_allocations or app_leaked is not what the probe did");
    if (o->expect == EXPECT_SUBALLOCATE &&
        !(suballocated == app && passthrough == 0 && driver >= 1 && driver * 8 <= app))
        return fail("%s", "sub-allocation did not serve the small allocations from a few driver blocks");
    if (o->expect == EXPECT_PASSTHROUGH && !(passthrough == app && suballocated == 0 && driver == app))
        return fail("%s", "passthrough mode did not send every allocation to the driver");
    for (uint32_t i = 0; i < o->check_count; i++) {
        const stat_check *c = &o->checks[i];
        uint64_t value = 0;
        if (!stat_field(line, c->field, &value)) return fail("the stats line has no field %s", c->field);
        bool holds = c->op == '>' ? value >= c->value : c->op == '<' ? value <= c->value : value == c->value;
        if (!holds) return fail("the statistics do not satisfy %s", c->field);
    }
    return EXIT_SUCCESS;
}

/* ---- main ------------------------------------------------------------------------- */

static int run(const options *o) {
    VkInstance instance = VK_NULL_HANDLE;
    capture stderr_capture;
    bool capturing = o->expect_log != NULL && capture_begin(&stderr_capture);
    VkResult result = create_instance(o, &instance);
    bool log_seen = capturing && capture_end(&stderr_capture, o->expect_log);
    if (result != VK_SUCCESS) return fail("vkCreateInstance failed (%s)", vk_result_name(result));
    if (o->expect_log != NULL && !log_seen) return fail("vkCreateInstance did not report '%s'", o->expect_log);

    uint32_t count = 1;
    VkPhysicalDevice gpu = VK_NULL_HANDLE;
    VkResult enumerated = vkEnumeratePhysicalDevices(instance, &count, &gpu);
    VkDevice device = VK_NULL_HANDLE;
    uint32_t type = 0;
    int status = EXIT_FAILURE;
    if ((enumerated != VK_SUCCESS && enumerated != VK_INCOMPLETE) || count == 0)
        status = fail("%s", "no physical device");
    else if (!host_visible_type(gpu, &type)) status = fail("%s", "no host-visible memory type");
    else if (!reported_limit_is_expected(o, gpu))
        status = fail("%s", "maxMemoryAllocationCount is not the expected one");
    else if (create_device(gpu, &device) != VK_SUCCESS) status = fail("%s", "vkCreateDevice failed");
    else if (!exercise_memory(device, type, o->allocations)) status = fail("%s", "an allocation or map failed");
    else status = EXIT_SUCCESS;
    if (device != VK_NULL_HANDLE) vkDestroyDevice(device, NULL); /* the layer writes its stats line here */
    vkDestroyInstance(instance, NULL);
    return status == EXIT_SUCCESS ? check_stats(o) : status;
}

int main(int argc, char **argv) {
    options o;
    if (!parse_options(argc, argv, &o)) {
        fprintf(stderr,
                "usage: settings_probe --expect off|suballocate|passthrough --stats-file PATH [--enable-layer]\n"
                "       [--api NAME=TYPE:VALUE]... [--enable-settings-extension] [--allocations N (>= 8)]\n"
                "       [--expect-log TEXT] [--expect-reported-limit N] [--check FIELD>=N|FIELD<=N|FIELD==N]...\n");
        return 2;
    }
    if (remove(o.stats_file) != 0 && errno != ENOENT) return fail("cannot remove old %s", o.stats_file);
    return run(&o);
}
