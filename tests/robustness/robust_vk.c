/* SPDX-License-Identifier: Apache-2.0 */
/* robust_vk: instance with a counting messenger, devices, memory and patterns. */
#include "robust_vk.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- failures ---------------------------------------------------------------- */

static _Atomic uint64_t failures;

void robust_fail(const char *file, int line, const char *condition, const char *format, ...) {
    char details[512];
    va_list args;
    va_start(args, format);
    vsnprintf(details, sizeof details, format, args);
    va_end(args);
    /* One write per line: lines from several threads stay whole. */
    fprintf(stderr, "%s:%d: FAILED (%s): %s\n", file, line, condition, details);
    fflush(stderr);
    atomic_fetch_add(&failures, 1);
}

uint64_t robust_failures(void) { return atomic_load(&failures); }

/* ---- layer messages ------------------------------------------------------------ */

static pthread_mutex_t messages_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t layer_messages, other_messages;
static char last_layer_message[1024];

static bool from_layer(const VkDebugUtilsMessengerCallbackDataEXT *data) {
    const char *id = data->pMessageIdName;
    return id != NULL && strncmp(id, ROBUST_LAYER_MESSAGE_ID, strlen(ROBUST_LAYER_MESSAGE_ID)) == 0;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL count_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                    VkDebugUtilsMessageTypeFlagsEXT types,
                                                    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)severity;
    (void)types;
    (void)user;
    pthread_mutex_lock(&messages_lock);
    if (from_layer(data)) {
        layer_messages++;
        snprintf(last_layer_message, sizeof last_layer_message, "%s", data->pMessage ? data->pMessage : "");
    } else {
        other_messages++;
    }
    pthread_mutex_unlock(&messages_lock);
    return VK_FALSE;
}

uint64_t robust_layer_message_count(void) {
    pthread_mutex_lock(&messages_lock);
    uint64_t count = layer_messages;
    pthread_mutex_unlock(&messages_lock);
    return count;
}

void robust_last_layer_message(char *out, size_t out_size) {
    pthread_mutex_lock(&messages_lock);
    snprintf(out, out_size, "%s", last_layer_message);
    pthread_mutex_unlock(&messages_lock);
}

uint64_t robust_other_message_count(void) {
    pthread_mutex_lock(&messages_lock);
    uint64_t count = other_messages;
    pthread_mutex_unlock(&messages_lock);
    return count;
}

/* ---- instance and devices -------------------------------------------------------- */

bool robust_instance_create(robust_vk *vk) {
    *vk = (robust_vk){0};
    test_vk_instance_info info = {
        .application = "suballoc robustness test",
        .api_version = VK_API_VERSION_1_1,
        .messenger = count_message,
        .severities = VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
    };
    test_vk_instance instance;
    VkResult result = test_vk_instance_create(&info, &instance);
    if (result != VK_SUCCESS) {
        fprintf(stderr, "robust: vkCreateInstance or its debug-utils messenger returned %s\n", vk_result_name(result));
        return false;
    }
    vk->instance = instance.handle;
    vk->messenger = instance.messenger;
    if (!test_vk_pick_physical_device(vk->instance, 0, &vk->physical, &vk->queue_family)) {
        fprintf(stderr, "robust: no physical device\n");
        robust_instance_destroy(vk);
        return false;
    }
    vkGetPhysicalDeviceProperties(vk->physical, &vk->properties);
    vkGetPhysicalDeviceMemoryProperties(vk->physical, &vk->memory);
    return true;
}

void robust_instance_destroy(robust_vk *vk) {
    test_vk_instance instance = {.handle = vk->instance, .messenger = vk->messenger};
    test_vk_instance_destroy(&instance);
    *vk = (robust_vk){0};
}

static void find_strict_functions(robust_device *device) {
    VkDevice d = device->handle;
    robust_strict *s = &device->strict;
    s->get_counters = (PFN_vkStrictDeviceGetCountersTEST)vkGetDeviceProcAddr(d, "vkStrictDeviceGetCountersTEST");
    s->inject_fault = (PFN_vkStrictDeviceInjectFaultTEST)vkGetDeviceProcAddr(d, "vkStrictDeviceInjectFaultTEST");
    s->set_allocation_size_limit = (PFN_vkStrictDeviceSetAllocationSizeLimitTEST)vkGetDeviceProcAddr(
        d, "vkStrictDeviceSetAllocationSizeLimitTEST");
    s->is_driver_memory =
        (PFN_vkStrictDeviceIsDriverMemoryTEST)vkGetDeviceProcAddr(d, "vkStrictDeviceIsDriverMemoryTEST");
    s->violation_count =
        (PFN_vkStrictDeviceGetViolationCountTEST)vkGetDeviceProcAddr(d, "vkStrictDeviceGetViolationCountTEST");
}

bool robust_device_create(const robust_vk *vk, robust_device *out) {
    *out = (robust_device){0};
    VkResult result = test_vk_device_create(vk->physical, vk->queue_family, NULL, 0, NULL, &out->handle);
    if (result != VK_SUCCESS) {
        fprintf(stderr, "robust: vkCreateDevice returned %s\n", vk_result_name(result));
        return false;
    }
    find_strict_functions(out);
    return true;
}

void robust_device_destroy(robust_device *device) {
    if (device->handle != VK_NULL_HANDLE) vkDestroyDevice(device->handle, NULL);
    *device = (robust_device){0};
}

bool robust_has_strict(const robust_device *device) {
    const robust_strict *s = &device->strict;
    return s->get_counters && s->inject_fault && s->set_allocation_size_limit && s->is_driver_memory &&
           s->violation_count;
}

StrictDeviceCounters robust_strict_counters(const robust_device *device) {
    StrictDeviceCounters counters = {0};
    if (device->strict.get_counters != NULL) device->strict.get_counters(device->handle, &counters);
    return counters;
}

/* ---- memory ---------------------------------------------------------------------- */

uint32_t robust_find_memory_type(const robust_vk *vk, VkMemoryPropertyFlags required, VkMemoryPropertyFlags refused) {
    for (uint32_t t = 0; t < vk->memory.memoryTypeCount; t++) {
        VkMemoryPropertyFlags flags = vk->memory.memoryTypes[t].propertyFlags;
        if ((flags & required) == required && (flags & refused) == 0) return t;
    }
    return UINT32_MAX;
}

bool robust_type_has(const robust_vk *vk, uint32_t type, VkMemoryPropertyFlags flags) {
    return type < vk->memory.memoryTypeCount && (vk->memory.memoryTypes[type].propertyFlags & flags) == flags;
}

VkResult robust_allocate(VkDevice device, VkDeviceSize size, uint32_t type, VkDeviceMemory *out) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = size,
        .memoryTypeIndex = type,
    };
    return vkAllocateMemory(device, &info, NULL, out);
}

VkBufferCreateInfo robust_buffer_info(VkDeviceSize size) {
    return (VkBufferCreateInfo){
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
}

VkResult robust_create_buffer(VkDevice device, VkDeviceSize size, VkBuffer *out) {
    VkBufferCreateInfo info = robust_buffer_info(size);
    return vkCreateBuffer(device, &info, NULL, out);
}

VkImageCreateInfo robust_image_info(uint32_t side, VkImageTiling tiling, VkImageUsageFlags usage) {
    return (VkImageCreateInfo){
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = VK_FORMAT_R8G8B8A8_UNORM,
        .extent = {side, side, 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = tiling,
        .usage = usage,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
}

/* ---- byte patterns ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

static uint64_t pattern_word(uint64_t seed, uint64_t index) { return mix64(seed * 0x9E3779B97F4A7C15ull + index + 1); }

void robust_fill(void *dst, size_t bytes, uint64_t seed) {
    unsigned char *out = dst;
    size_t words = bytes / 8;
    for (size_t i = 0; i < words; i++) {
        uint64_t w = pattern_word(seed, i);
        memcpy(out + i * 8, &w, 8);
    }
    uint64_t tail = pattern_word(seed, words);
    memcpy(out + words * 8, &tail, bytes % 8);
}

size_t robust_count_wrong(const void *src, size_t bytes, uint64_t seed) {
    const unsigned char *in = src;
    size_t words = bytes / 8, wrong = 0;
    for (size_t i = 0; i <= words; i++) {
        uint64_t expected = pattern_word(seed, i);
        size_t n = i < words ? 8 : bytes % 8;
        if (n == 0) break;
        if (memcmp(in + i * 8, &expected, n) == 0) continue;
        const unsigned char *e = (const unsigned char *)&expected;
        for (size_t b = 0; b < n; b++) wrong += in[i * 8 + b] != e[b];
    }
    return wrong;
}

uint64_t robust_rng_next(robust_rng *rng) {
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

uint64_t robust_rng_below(robust_rng *rng, uint64_t bound) { return bound == 0 ? 0 : robust_rng_next(rng) % bound; }

uint64_t robust_env_u64(const char *name, uint64_t fallback) {
    const char *text = getenv(name);
    if (text == NULL || *text == '\0') return fallback;
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    return *end == '\0' ? (uint64_t)value : fallback;
}

robust_outcome robust_run_in_child(int (*run)(const void *arg), const void *arg) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return ROBUST_FAILED;
    }
    if (pid == 0) {
        int status = run(arg);
        fflush(stdout);
        fflush(stderr);
        exit(status); /* exit, not _exit: LeakSanitizer checks the child too */
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) return ROBUST_FAILED;
    if (WIFSIGNALED(status)) {
        printf("    the child died of signal %d (%s)\n", WTERMSIG(status), strsignal(WTERMSIG(status)));
        return ROBUST_FAILED;
    }
    int code = WEXITSTATUS(status);
    return code == 0 ? ROBUST_PASSED : code == ROBUST_EXIT_SKIPPED ? ROBUST_SKIPPED : ROBUST_FAILED;
}

bool robust_case_selected(const char *rule, int argc, char **argv) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; i++)
        if (strstr(rule, argv[i]) != NULL) return true;
    return false;
}
