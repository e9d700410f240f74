/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_engine_contexts: many live Vulkan contexts in one process, as test
 * runners, browsers and middleware that make one context per window or per
 * plugin have: 100 live VkInstances at once, then 70 live VkDevices at once
 * (one on each of 70 of the instances; and, in a second run, 70 on one
 * instance). Vulkan sets no limit
 * on either, and lavapipe alone makes them all; a layer must not add one.
 *
 * Every device allocates, binds, maps, copies on the GPU and frees a little
 * while all the others are alive, and its bytes are checked: a layer that mixed
 * up its per-device state would show it here. The harness keeps one instance,
 * so this program has its own small plumbing: a debug-utils messenger on every
 * instance fails the test on any warning or error (validation's included), and
 * where the sub-allocation layer is in the chain its statistics file must have
 * one line per device, none of them with a leak.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "test_vk.h"

enum { INSTANCES = 100, DEVICES = 70, COPY_BYTES = 4096 };

#define STATS_FILE_ENV "VK_TRANSPARENT_SUBALLOC_STATS_FILE"

static uint64_t failures;
static _Atomic uint64_t messages;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: FAILED %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            failures++;                                                       \
        }                                                                     \
    } while (0)

/* What a crash inside vkCreateInstance / vkCreateDevice was doing (a layer that
 * aborts takes the process with it; the log must still say where). */
static volatile sig_atomic_t creating_what, creating_index = -1;

static void say_where(int signal_number) {
    char line[96];
    const char *what = creating_what == 1 ? "instance" : creating_what == 2 ? "device" : "nothing";
    int n = snprintf(line, sizeof line, "test_engine_contexts: signal %d while creating %s %d (counting from 1)\n",
                     signal_number, what, (int)creating_index + 1);
    if (n > 0) (void)!write(STDERR_FILENO, line, (size_t)n);
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)user;
    /* The loader reports its own choices (layers from the environment): not a fault. */
    if (types == VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT && test_vk_is_loader_message(data)) return VK_FALSE;
    if (atomic_fetch_add(&messages, 1) < 10)
        fprintf(stderr, "%s message [%s]: %s\n",
                (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "ERROR" : "WARNING",
                data->pMessageIdName ? data->pMessageIdName : "-", data->pMessage ? data->pMessage : "");
    return VK_FALSE;
}

/* ---------------------------------------------------------------- the validation layer's map */

/* The Khronos validation layer installed here (1.3.239) keeps every VkInstance
 * and VkDevice in one process-wide std::unordered_map, layer_data_map. Every
 * entry point of the layer reads it without a lock (GetLayerDataPtr), while
 * vkCreateInstance, vkCreateDevice and their destroys insert and erase; an
 * insert that grows the table rehashes it under the readers' feet, and they
 * crash (KhronosGroup/Vulkan-ValidationLayers#4391, open in 2023). Seen here as
 * a SIGSEGV in the validation layer's vkGetDeviceQueue while another thread
 * was inside its vkCreateInstance/vkCreateDevice, in std::unordered_map's
 * rehash; with the validation layer alone, without this project's layer, the
 * rule "concurrent" crashed the same way (3 runs in about 310 on a loaded
 * machine). The loader already serializes the creates with one another, so
 * serializing them again would not help: the creates and destroys must
 * exclude every other call into the validation layer.
 *
 * So where the validation layer is in the chain (and only there), creating or
 * destroying an instance or a device takes this lock exclusively and every
 * other Vulkan call takes it shared. The chains without it (plain, strict)
 * keep the creates racing the other threads' calls, which is what this rule
 * is for. */
static pthread_rwlock_t validation_map_lock;
static bool validation_in_chain;

static void validation_lock_init(void) {
    const char *layers[] = {getenv("VK_INSTANCE_LAYERS"), getenv("VK_LOADER_LAYERS_ENABLE")};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        if (layers[i] && strstr(layers[i], "VK_LAYER_KHRONOS_validation")) validation_in_chain = true;
    pthread_rwlockattr_t attributes;
    pthread_rwlockattr_init(&attributes);
    /* The reader thread calls all the time: the creates must not starve. */
    pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&validation_map_lock, &attributes);
    pthread_rwlockattr_destroy(&attributes);
}

/* Around any call but the four below. Never nested. */
static void calls_begin(void) {
    if (validation_in_chain) pthread_rwlock_rdlock(&validation_map_lock);
}
/* Around vkCreateInstance, vkDestroyInstance, vkCreateDevice, vkDestroyDevice. */
static void create_or_destroy_begin(void) {
    if (validation_in_chain) pthread_rwlock_wrlock(&validation_map_lock);
}
static void calls_end(void) {
    if (validation_in_chain) pthread_rwlock_unlock(&validation_map_lock);
}

/* ---------------------------------------------------------------- instances */

typedef struct context {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
} context;

static bool instance_create(context *c) {
    test_vk_instance_info info = {
        .application = "suballoc-engine-contexts",
        .api_version = VK_API_VERSION_1_2,
        .messenger = on_message,
    };
    test_vk_instance instance;
    create_or_destroy_begin();
    VkResult result = test_vk_instance_create(&info, &instance);
    calls_end();
    c->instance = instance.handle;
    c->messenger = instance.messenger;
    if (result != VK_SUCCESS) {
        fprintf(stderr, "vkCreateInstance or its debug-utils messenger returned %s\n", vk_result_name(result));
        return false;
    }
    return true;
}

static void instance_destroy(context *c) {
    test_vk_instance instance = {.handle = c->instance, .messenger = c->messenger};
    create_or_destroy_begin();
    test_vk_instance_destroy(&instance);
    calls_end();
    c->instance = VK_NULL_HANDLE;
    c->messenger = VK_NULL_HANDLE;
}

/* ---------------------------------------------------------------- devices */

typedef struct device {
    VkDevice device;
    VkQueue queue;
    VkCommandPool pool;
    VkDeviceMemory source, target, extra; /* extra stays unbound: an allocation in passing */
    VkBuffer source_buffer, target_buffer;
    uint8_t *source_data, *target_data;
    bool coherent;
    uint32_t type;
    uint32_t seed;
} device;

static uint32_t pattern(uint32_t seed, uint32_t i) {
    uint32_t x = seed * 0x9E3779B9u ^ (i + 1) * 0x85EBCA6Bu;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    return x;
}

static VkBuffer make_buffer(VkDevice d, VkBufferUsageFlags usage) {
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = COPY_BYTES,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer = VK_NULL_HANDLE;
    VkResult result = vkCreateBuffer(d, &info, NULL, &buffer);
    CHECK(result == VK_SUCCESS, "vkCreateBuffer: %s", vk_result_name(result));
    return buffer;
}

/* A device on the instance's first device with a compute queue, with two buffers
 * bound into host-visible memory at offsets that are not 0, both mapped.
 * Called between calls_begin() and calls_end(). */
static bool device_create_calls(VkInstance instance, device *dv, uint32_t seed) {
    memset(dv, 0, sizeof *dv);
    dv->seed = seed;
    VkPhysicalDevice physical;
    uint32_t family;
    if (!test_vk_pick_physical_device(instance, VK_QUEUE_COMPUTE_BIT, &physical, &family)) {
        fprintf(stderr, "no Vulkan device with a compute queue\n");
        return false;
    }
    calls_end();
    create_or_destroy_begin();
    VkResult result = test_vk_device_create(physical, family, NULL, 0, NULL, &dv->device);
    calls_end();
    calls_begin();
    if (result != VK_SUCCESS) {
        dv->device = VK_NULL_HANDLE;
        fprintf(stderr, "vkCreateDevice returned %s\n", vk_result_name(result));
        return false;
    }
    VkDevice d = dv->device;
    vkGetDeviceQueue(d, family, 0, &dv->queue);
    VkCommandPoolCreateInfo pool = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = family};
    result = vkCreateCommandPool(d, &pool, NULL, &dv->pool);
    CHECK(result == VK_SUCCESS, "vkCreateCommandPool: %s", vk_result_name(result));

    dv->source_buffer = make_buffer(d, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    dv->target_buffer = make_buffer(d, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(d, dv->source_buffer, &requirements);
    VkPhysicalDeviceMemoryProperties memory;
    vkGetPhysicalDeviceMemoryProperties(physical, &memory);
    uint32_t type = UINT32_MAX;
    for (uint32_t want = 0; want < 2 && type == UINT32_MAX; want++) {
        VkMemoryPropertyFlags flags =
            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | (want == 0 ? VK_MEMORY_PROPERTY_HOST_COHERENT_BIT : 0);
        for (uint32_t i = 0; i < memory.memoryTypeCount && type == UINT32_MAX; i++)
            if ((requirements.memoryTypeBits & (1u << i)) && (memory.memoryTypes[i].propertyFlags & flags) == flags)
                type = i;
    }
    if (type == UINT32_MAX) {
        fprintf(stderr, "no host-visible memory type for buffers\n");
        return false;
    }
    dv->coherent = memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    dv->type = type;
    /* Each buffer one alignment step in, so the offsets are really used. */
    VkDeviceSize offset = requirements.alignment;
    VkDeviceSize size = offset + requirements.size + 100;
    VkMemoryAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size, .memoryTypeIndex = type};
    VkResult r1 = vkAllocateMemory(d, &allocate, NULL, &dv->source);
    VkResult r2 = vkAllocateMemory(d, &allocate, NULL, &dv->target);
    allocate.allocationSize = 1000 + seed;
    VkResult r3 = vkAllocateMemory(d, &allocate, NULL, &dv->extra);
    CHECK(r1 == VK_SUCCESS && r2 == VK_SUCCESS && r3 == VK_SUCCESS, "device %u: vkAllocateMemory: %s %s %s", seed,
          vk_result_name(r1), vk_result_name(r2), vk_result_name(r3));
    if (r1 != VK_SUCCESS || r2 != VK_SUCCESS || r3 != VK_SUCCESS) return false;
    r1 = vkBindBufferMemory(d, dv->source_buffer, dv->source, offset);
    r2 = vkBindBufferMemory(d, dv->target_buffer, dv->target, offset);
    CHECK(r1 == VK_SUCCESS && r2 == VK_SUCCESS, "device %u: vkBindBufferMemory: %s %s", seed, vk_result_name(r1),
          vk_result_name(r2));
    void *source_data = NULL, *target_data = NULL;
    r1 = vkMapMemory(d, dv->source, offset, COPY_BYTES, 0, &source_data);
    r2 = vkMapMemory(d, dv->target, 0, VK_WHOLE_SIZE, 0, &target_data);
    CHECK(r1 == VK_SUCCESS && r2 == VK_SUCCESS, "device %u: vkMapMemory: %s %s", seed, vk_result_name(r1),
          vk_result_name(r2));
    if (r1 != VK_SUCCESS || r2 != VK_SUCCESS) return false;
    dv->source_data = source_data;
    dv->target_data = (uint8_t *)target_data + offset;
    uint32_t *words = (uint32_t *)dv->source_data;
    for (uint32_t i = 0; i < COPY_BYTES / 4; i++) words[i] = pattern(seed, i);
    memset(dv->target_data, 0, COPY_BYTES);
    if (!dv->coherent) {
        VkMappedMemoryRange ranges[2] = {
            {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
             .memory = dv->source,
             .size = VK_WHOLE_SIZE,
             .offset = offset},
            {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = dv->target, .size = VK_WHOLE_SIZE},
        };
        CHECK(vkFlushMappedMemoryRanges(d, 2, ranges) == VK_SUCCESS, "flush");
    }
    return true;
}

static bool device_create(VkInstance instance, device *dv, uint32_t seed) {
    calls_begin();
    bool ok = device_create_calls(instance, dv, seed);
    calls_end();
    return ok;
}

/* While every other device lives: a GPU copy from one mapped buffer to the other,
 * and the bytes compared through the second mapping. */
static void device_check_calls(device *dv) {
    VkDevice d = dv->device;
    VkCommandBufferAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = dv->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkCommandBuffer commands;
    VkResult result = vkAllocateCommandBuffers(d, &allocate, &commands);
    CHECK(result == VK_SUCCESS, "vkAllocateCommandBuffers: %s", vk_result_name(result));
    if (result != VK_SUCCESS) return;
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    vkBeginCommandBuffer(commands, &begin);
    VkBufferCopy region = {.size = COPY_BYTES};
    vkCmdCopyBuffer(commands, dv->source_buffer, dv->target_buffer, 1, &region);
    VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL,
                         0, NULL);
    vkEndCommandBuffer(commands);
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &commands};
    result = vkQueueSubmit(dv->queue, 1, &submit, VK_NULL_HANDLE);
    if (result == VK_SUCCESS) result = vkQueueWaitIdle(dv->queue);
    CHECK(result == VK_SUCCESS, "device %u: submit: %s", dv->seed, vk_result_name(result));
    vkFreeCommandBuffers(d, dv->pool, 1, &commands);
    if (!dv->coherent) {
        VkMappedMemoryRange range = {
            .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = dv->target, .size = VK_WHOLE_SIZE};
        vkInvalidateMappedMemoryRanges(d, 1, &range);
    }
    const uint32_t *words = (const uint32_t *)dv->target_data;
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < COPY_BYTES / 4; i++) wrong += words[i] != pattern(dv->seed, i);
    CHECK(wrong == 0, "device %u: %u of %u words copied wrong", dv->seed, wrong, COPY_BYTES / 4);
}

static void device_check(device *dv) {
    calls_begin();
    device_check_calls(dv);
    calls_end();
}

static void device_destroy(device *dv) {
    VkDevice d = dv->device;
    if (!d) return;
    calls_begin();
    vkDeviceWaitIdle(d);
    if (dv->source_buffer) vkDestroyBuffer(d, dv->source_buffer, NULL);
    if (dv->target_buffer) vkDestroyBuffer(d, dv->target_buffer, NULL);
    if (dv->source) vkUnmapMemory(d, dv->source); /* one explicit unmap, one implicit in the free */
    if (dv->source) vkFreeMemory(d, dv->source, NULL);
    if (dv->target) vkFreeMemory(d, dv->target, NULL);
    if (dv->extra) vkFreeMemory(d, dv->extra, NULL);
    if (dv->pool) vkDestroyCommandPool(d, dv->pool, NULL);
    calls_end();
    create_or_destroy_begin();
    vkDestroyDevice(d, NULL);
    calls_end();
    dv->device = VK_NULL_HANDLE;
}

/* ---------------------------------------------------------------- the rules */

static context contexts[INSTANCES];
static device devices[DEVICES];
static uint64_t devices_made;

/* Makes DEVICES live devices, on instance_of(i), checks each while all live, destroys them. */
static void seventy_live_devices(const char *what, bool one_instance) {
    uint32_t made = 0;
    for (uint32_t i = 0; i < DEVICES; i++) {
        VkInstance instance = contexts[one_instance ? 0 : i].instance;
        if (!instance) continue;
        creating_what = 2;
        creating_index = (sig_atomic_t)i;
        bool ok = device_create(instance, &devices[i], i + (one_instance ? 1000 : 0));
        creating_what = 0;
        if (devices[i].device) devices_made++;
        CHECK(ok, "%s: device %u of %u (%u live) could not be made and used", what, i + 1, (unsigned)DEVICES, made);
        if (ok) made++;
    }
    for (uint32_t i = 0; i < DEVICES; i++)
        if (devices[i].device && devices[i].source_data) device_check(&devices[i]);
    for (uint32_t i = 0; i < DEVICES; i++) device_destroy(&devices[i]);
    printf("  %s: %u of %u devices live at once\n", what, made, (unsigned)DEVICES);
    CHECK(made == DEVICES, "%s: only %u of %u devices", what, made, (unsigned)DEVICES);
}

/* Rule "churn": instances and devices made and destroyed one after another,
 * many times: the loader hands out the same addresses again, and whatever the
 * layer keyed on a handle must have gone with its object. */
enum { CHURN_ROUNDS = 80 }; /* more than any fixed table of 64 */

static void churn(void) {
    uint32_t done = 0;
    for (uint32_t i = 0; i < CHURN_ROUNDS; i++) {
        context c = {0};
        creating_what = 1;
        creating_index = (sig_atomic_t)i;
        bool ok = instance_create(&c);
        creating_what = 0;
        CHECK(ok, "churn round %u: an instance", i + 1);
        if (!ok) continue;
        device dv;
        creating_what = 2;
        ok = device_create(c.instance, &dv, 5000 + i);
        creating_what = 0;
        if (dv.device) devices_made++;
        CHECK(ok, "churn round %u: a device", i + 1);
        if (ok) {
            device_check(&dv);
            done++;
        }
        device_destroy(&dv);
        instance_destroy(&c);
    }
    printf("  %u of %u rounds of instance + device + work + destroy\n", done, (unsigned)CHURN_ROUNDS);
}

/* Rule "concurrent": threads make instances and devices at the same time (both
 * calls are thread-safe), keep them all live, use them, and destroy them at the
 * same time, while another thread allocates on a device made before: lookups
 * must hold while whatever the layer keeps per object grows and shrinks. */
#ifndef ENGINE_PER_MAKER
#define ENGINE_PER_MAKER 20 /* 80 live instances, made 4 at a time */
#endif
enum { MAKERS = 4, PER_MAKER = ENGINE_PER_MAKER };

typedef struct maker {
    uint32_t index;
    context contexts[PER_MAKER];
    device devices[PER_MAKER];
    uint32_t made, devices_created;
    char error[160];
    pthread_barrier_t *start;
} maker;

static void *maker_main(void *argument) {
    maker *m = argument;
    pthread_barrier_wait(m->start);
    for (uint32_t i = 0; i < PER_MAKER; i++) {
        if (!instance_create(&m->contexts[i])) {
            snprintf(m->error, sizeof m->error, "instance %u could not be made", i);
            break;
        }
        bool ok = device_create(m->contexts[i].instance, &m->devices[i], 10000 + 100 * m->index + i);
        if (m->devices[i].device) m->devices_created++;
        if (!ok) {
            snprintf(m->error, sizeof m->error, "device %u could not be made", i);
            break;
        }
        m->made++;
    }
    for (uint32_t i = 0; i < m->made; i++) device_check(&m->devices[i]);
    pthread_barrier_wait(m->start); /* all live at once, then all go at once */
    for (uint32_t i = 0; i <= m->made && i < PER_MAKER; i++) {
        device_destroy(&m->devices[i]);
        instance_destroy(&m->contexts[i]);
    }
    return NULL;
}

typedef struct reader {
    device *dv;
    _Atomic bool stop;
    uint64_t rounds, wrong;
} reader;

/* Allocates, maps, writes, checks and frees on one device until the makers are done. */
static void *reader_main(void *argument) {
    reader *r = argument;
    VkDevice d = r->dv->device;
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = 4096, .memoryTypeIndex = r->dv->type};
    while (!atomic_load(&r->stop)) {
        VkDeviceMemory memory;
        info.allocationSize = 64 + (r->rounds % 64) * 64;
        calls_begin();
        if (vkAllocateMemory(d, &info, NULL, &memory) != VK_SUCCESS) {
            calls_end();
            r->wrong++;
            break;
        }
        void *p;
        if (vkMapMemory(d, memory, 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS) {
            uint32_t *words = p;
            for (uint32_t i = 0; i < info.allocationSize / 4; i++) words[i] = pattern((uint32_t)r->rounds, i);
            for (uint32_t i = 0; i < info.allocationSize / 4; i++)
                r->wrong += words[i] != pattern((uint32_t)r->rounds, i);
        } else {
            r->wrong++;
        }
        vkFreeMemory(d, memory, NULL);
        calls_end();
        r->rounds++;
    }
    return NULL;
}

static void concurrent(void) {
    context base = {0};
    device base_device;
    CHECK(instance_create(&base), "the reader's instance");
    if (!base.instance) return;
    bool ok = device_create(base.instance, &base_device, 9999);
    if (base_device.device) devices_made++;
    CHECK(ok, "the reader's device");
    if (!ok) {
        device_destroy(&base_device);
        instance_destroy(&base);
        return;
    }
    static reader r;
    r.dv = &base_device;
    atomic_store(&r.stop, false);
    pthread_t reader_thread;
    CHECK(pthread_create(&reader_thread, NULL, reader_main, &r) == 0, "starting the reader");
    static maker makers[MAKERS];
    pthread_t threads[MAKERS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, MAKERS);
    for (uint32_t i = 0; i < MAKERS; i++) {
        memset(&makers[i], 0, sizeof makers[i]);
        makers[i].index = i;
        makers[i].start = &start;
        CHECK(pthread_create(&threads[i], NULL, maker_main, &makers[i]) == 0, "starting a maker");
    }
    uint32_t made = 0;
    for (uint32_t i = 0; i < MAKERS; i++) {
        pthread_join(threads[i], NULL);
        made += makers[i].made;
        CHECK(makers[i].error[0] == 0, "maker %u: %s", i, makers[i].error);
        devices_made += makers[i].devices_created;
    }
    pthread_barrier_destroy(&start);
    atomic_store(&r.stop, true);
    pthread_join(reader_thread, NULL);
    printf("  %u of %u instances with a device made by %u threads at once; the reader did %" PRIu64 " rounds\n", made,
           (unsigned)(MAKERS * PER_MAKER), (unsigned)MAKERS, r.rounds);
    CHECK(made == MAKERS * PER_MAKER, "every maker made all its instances and devices");
    CHECK(r.wrong == 0, "the reader saw %" PRIu64 " failures or wrong words", r.wrong);
    device_destroy(&base_device);
    instance_destroy(&base);
}

/* Where the layer is in the chain and keeps statistics: one line per device, no leak. */
static void check_stats_file(void) {
    const char *chain = getenv("SUBALLOC_TEST_CHAIN");
    bool layer = chain && (strcmp(chain, "plain") == 0 || strcmp(chain, "strict") == 0 ||
                           strncmp(chain, "validation_", 11) == 0);
    const char *path = getenv(STATS_FILE_ENV);
    if (!layer || !path || !*path) return;
    FILE *file = fopen(path, "r");
    CHECK(file, "the layer wrote no statistics to %s", path);
    if (!file) return;
    char line[2048];
    uint64_t lines = 0, leaks = 0;
    while (fgets(line, sizeof line, file)) {
        lines++;
        if (!strstr(line, " app_leaked=0 ")) leaks++;
    }
    fclose(file);
    CHECK(lines == devices_made, "%" PRIu64 " statistics lines for %" PRIu64 " devices", lines, devices_made);
    CHECK(leaks == 0, "%" PRIu64 " devices report leaked allocations", leaks);
}

/* One rule per run, so that a crash in one does not hide the others:
 *   instances   100 live instances, then a device on each of 70 of them;
 *   devices     70 live devices on one instance;
 *   churn       instance + device + work + destroy, 80 times over;
 *   concurrent  threads making, using and destroying instances and devices at
 *               once while another thread allocates. */
int main(int argc, char **argv) {
    const char *rule = argc > 1 ? argv[1] : "";
    bool many_instances = strcmp(rule, "instances") == 0;
    bool known =
        many_instances || strcmp(rule, "devices") == 0 || strcmp(rule, "churn") == 0 || strcmp(rule, "concurrent") == 0;
    if (!known) {
        fprintf(stderr, "usage: %s instances|devices|churn|concurrent\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    validation_lock_init();
    signal(SIGABRT, say_where);
    signal(SIGSEGV, say_where);
    const char *path = getenv(STATS_FILE_ENV);
    if (path && *path) remove(path);
    printf("chain %s, rule %s\n", getenv("SUBALLOC_TEST_CHAIN") ? getenv("SUBALLOC_TEST_CHAIN") : "none", rule);

    if (strcmp(rule, "churn") == 0 || strcmp(rule, "concurrent") == 0) {
        if (strcmp(rule, "churn") == 0) churn();
        else concurrent();
        check_stats_file();
        uint64_t seen = atomic_load(&messages);
        CHECK(seen == 0, "%" PRIu64 " warning/error messages", seen);
        printf("%s\n", failures ? "FAILED" : "passed");
        return failures ? 1 : 0;
    }

    uint32_t wanted = many_instances ? INSTANCES : 1, live = 0;
    for (uint32_t i = 0; i < wanted; i++) {
        creating_what = 1;
        creating_index = (sig_atomic_t)i;
        bool ok = instance_create(&contexts[i]);
        creating_what = 0;
        CHECK(ok, "instance %u of %u (%u live) could not be made", i + 1, wanted, live);
        if (ok) live++;
    }
    printf("  %u of %u instances live at once\n", live, wanted);

    if (many_instances) seventy_live_devices("one device on each of 70 live instances", false);
    else seventy_live_devices("70 devices on one instance", true);

    for (uint32_t i = 0; i < wanted; i++) instance_destroy(&contexts[i]);
    check_stats_file();
    uint64_t seen = atomic_load(&messages);
    CHECK(seen == 0, "%" PRIu64 " warning/error messages", seen);
    printf("%s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
