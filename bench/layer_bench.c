/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer_bench: what VK_LAYER_TRANSPARENT_suballoc costs per call, measured
 * through the real Vulkan loader, side by side with no layer in the same run.
 *
 * One process holds three VkInstances on the same physical device: one without
 * layers ("no layer"), one enabling the layer in passthrough mode (what the
 * layer costs when it only forwards), and one in suballocate mode. Rounds
 * alternate between them so that drift (turbo, other load) hits all alike.
 * Calls are timed in batches and divided, because the clock itself costs
 * about 30 ns. Device functions come from vkGetDeviceProcAddr, as engines
 * (and volk) call them.
 *
 * A second table has T threads (1, 2, 4, 8) on one device each replace one of
 * their 256 live allocations per step (layer_bench_threads.c).
 *
 * Usage: layer_bench [--rounds N] [--batch N] [--only calls|counted|threads] [--check]
 * The last lines say, for each target of the layer's cost, whether this run met it.
 * The layer is found through VK_LAYER_PATH, or else in <this program>/../json/explicit
 * (the build tree's manifest folder).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "layer_bench.h"

#define LAYER_NAME "VK_LAYER_TRANSPARENT_suballoc"
#define TARGET_NS 50.0 /* the goal for a pair served from an existing block */

typedef struct bench_config {
    uint32_t rounds;
    uint32_t batch;
    bool calls, threads; /* which tables to run */
    bool counted_only;   /* --only counted: the rows call_instructions.sh counts, no more */
    bool check;
} bench_config;

_Noreturn void fail(const char *what, VkResult result) {
    fprintf(stderr, "layer_bench: %s failed (VkResult %d)\n", what, (int)result);
    exit(1);
}

#define CHECK(call)                                                  \
    do {                                                             \
        VkResult check_result_ = (call);                             \
        if (check_result_ != VK_SUCCESS) fail(#call, check_result_); \
    } while (0)

uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- setup ------------------------------------------------------------ */

/* Points the loader at the build tree's manifest unless the user chose a path,
 * and makes sure nothing in the environment forces the layer on every instance. */
static void prepare_environment(void) {
    static const char *forcing[] = {"VK_INSTANCE_LAYERS", "VK_LOADER_LAYERS_ENABLE", "ENABLE_TRANSPARENT_SUBALLOC"};
    for (size_t i = 0; i < sizeof forcing / sizeof *forcing; i++) {
        if (getenv(forcing[i])) {
            fprintf(stderr, "layer_bench: ignoring %s (the no-layer instance must have no layer)\n", forcing[i]);
            unsetenv(forcing[i]);
        }
    }
    if (getenv("VK_LAYER_PATH")) return;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = '\0';
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/../json/explicit", exe);
    setenv("VK_LAYER_PATH", dir, 1);
}

static bool device_has_layer(VkPhysicalDevice physical) {
    uint32_t count = 0;
    vkEnumerateDeviceLayerProperties(physical, &count, NULL);
    VkLayerProperties props[64];
    if (count > 64) count = 64;
    vkEnumerateDeviceLayerProperties(physical, &count, props);
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(props[i].layerName, LAYER_NAME) == 0) return true;
    return false;
}

static void create_instance(side *s) {
    const char *layers[] = {LAYER_NAME};
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "layer_bench",
        .apiVersion = VK_API_VERSION_1_1,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
        .enabledLayerCount = s->mode ? 1 : 0,
        .ppEnabledLayerNames = layers,
    };
    /* The layer reads its settings once per instance; the environment wins over
     * any other source, so this pins the mode of this instance alone. */
    if (s->mode) setenv("VK_TRANSPARENT_SUBALLOC_MODE", s->mode, 1);
    VkResult result = vkCreateInstance(&info, NULL, &s->instance);
    unsetenv("VK_TRANSPARENT_SUBALLOC_MODE");
    if (result == VK_ERROR_LAYER_NOT_PRESENT) {
        fprintf(stderr, "layer_bench: the loader found no %s (VK_LAYER_PATH=%s); build the layer first\n", LAYER_NAME,
                getenv("VK_LAYER_PATH") ? getenv("VK_LAYER_PATH") : "");
        exit(1);
    }
    CHECK(result);
}

static uint32_t host_visible_type(VkPhysicalDevice physical) {
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(physical, &mem);
    VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t i = 0; i < mem.memoryTypeCount; i++)
        if ((mem.memoryTypes[i].propertyFlags & want) == want) return i;
    fprintf(stderr, "layer_bench: the device has no host-visible coherent memory type\n");
    exit(1);
}

static VkPhysicalDevice first_physical_device(VkInstance instance) {
    uint32_t count = 1;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    VkResult result = vkEnumeratePhysicalDevices(instance, &count, &physical);
    if ((result != VK_SUCCESS && result != VK_INCOMPLETE) || count == 0) {
        fprintf(stderr, "layer_bench: no Vulkan device (set VK_DRIVER_FILES to lavapipe's ICD manifest)\n");
        exit(1);
    }
    return physical;
}

static void create_device(side *s, VkPhysicalDeviceProperties *props) {
    VkPhysicalDevice physical = first_physical_device(s->instance);
    vkGetPhysicalDeviceProperties(physical, props);
    if (device_has_layer(physical) != (s->mode != NULL)) {
        fprintf(stderr, "layer_bench: the %s instance %s the layer; the comparison would be wrong\n", s->label,
                s->mode ? "lacks" : "has");
        exit(1);
    }
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
    };
    CHECK(vkCreateDevice(physical, &info, NULL, &s->device));
    s->memory_type = host_visible_type(physical);
    s->allocate = (PFN_vkAllocateMemory)vkGetDeviceProcAddr(s->device, "vkAllocateMemory");
    s->free = (PFN_vkFreeMemory)vkGetDeviceProcAddr(s->device, "vkFreeMemory");
    s->map = (PFN_vkMapMemory)vkGetDeviceProcAddr(s->device, "vkMapMemory");
    s->unmap = (PFN_vkUnmapMemory)vkGetDeviceProcAddr(s->device, "vkUnmapMemory");
    s->bind = (PFN_vkBindBufferMemory)vkGetDeviceProcAddr(s->device, "vkBindBufferMemory");
}

static void destroy_side(side *s) {
    vkDestroyDevice(s->device, NULL);
    vkDestroyInstance(s->instance, NULL);
}

/* ---- what one round measures ------------------------------------------ */

static VkDeviceMemory allocate_one(side *s, VkDeviceSize size) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = size,
        .memoryTypeIndex = s->memory_type,
    };
    VkDeviceMemory memory;
    CHECK(s->allocate(s->device, &info, NULL, &memory));
    return memory;
}

/* `batch` allocate+free pairs of *(VkDeviceSize *)arg bytes. */
static double round_alloc_free(side *s, uint32_t batch, void *arg) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = *(const VkDeviceSize *)arg,
        .memoryTypeIndex = s->memory_type,
    };
    uint64_t start = now_ns();
    s->pair_loop(s, &info, batch);
    return (double)(now_ns() - start) / batch;
}

/* ---- the timed loops, one copy per side ------------------------------------ */

static inline void allocate_and_free(const side *s, const VkMemoryAllocateInfo *info, uint32_t count) {
    VkDeviceMemory memory;
    for (uint32_t i = 0; i < count; i++) {
        VkResult result = s->allocate(s->device, info, NULL, &memory);
        if (result != VK_SUCCESS) fail("vkAllocateMemory in the timed loop", result);
        s->free(s->device, memory, NULL);
    }
}

static inline void bind_each(const side *s, const VkBuffer *buffers, const VkDeviceMemory *memory, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) {
        VkResult result = s->bind(s->device, buffers[i], memory[i], 0);
        if (result != VK_SUCCESS) fail("vkBindBufferMemory in the timed loop", result);
    }
}

static inline void map_unmap(const side *s, VkDeviceMemory memory, uint32_t count) {
    void *data;
    for (uint32_t i = 0; i < count; i++) {
        VkResult result = s->map(s->device, memory, 0, VK_WHOLE_SIZE, 0, &data);
        if (result != VK_SUCCESS) fail("vkMapMemory in the timed loop", result);
        s->unmap(s->device, memory);
    }
}

/* Functions of their own per side, so that callgrind counts each side's
 * instructions apart (bench/call_instructions.sh): deterministic, where the
 * timings of a shared machine are not. GCC would fold the identical copies
 * into one (identical code folding) unless told not to. */
#if defined(__GNUC__) && !defined(__clang__)
#define SIDE_LOOP __attribute__((noipa))
#else
#define SIDE_LOOP __attribute__((noinline))
#endif
#define SIDE_LOOPS(name)                                                                                         \
    static SIDE_LOOP void bind_loop_##name(const side *s, const VkBuffer *buffers, const VkDeviceMemory *memory, \
                                           uint32_t count) {                                                     \
        bind_each(s, buffers, memory, count);                                                                    \
    }                                                                                                            \
    static SIDE_LOOP void map_loop_##name(const side *s, VkDeviceMemory memory, uint32_t count) {                \
        map_unmap(s, memory, count);                                                                             \
    }                                                                                                            \
    static SIDE_LOOP void pair_loop_##name(const side *s, const VkMemoryAllocateInfo *info, uint32_t count) {    \
        allocate_and_free(s, info, count);                                                                       \
    }
SIDE_LOOPS(no_layer)
SIDE_LOOPS(passthrough)
SIDE_LOOPS(layer)

/* `batch` vkBindBufferMemory calls, each buffer into its own fresh allocation;
 * creating and destroying them is not timed. */
static double round_bind(side *s, uint32_t batch, void *arg) {
    (void)arg;
    VkBuffer *buffers = calloc(batch, sizeof *buffers);
    VkDeviceMemory *memory = calloc(batch, sizeof *memory);
    if (!buffers || !memory) fail("calloc", VK_ERROR_OUT_OF_HOST_MEMORY);
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = 256,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
    };
    for (uint32_t i = 0; i < batch; i++) {
        CHECK(vkCreateBuffer(s->device, &info, NULL, &buffers[i]));
        VkMemoryRequirements req;
        vkGetBufferMemoryRequirements(s->device, buffers[i], &req);
        memory[i] = allocate_one(s, req.size);
    }
    uint64_t start = now_ns();
    s->bind_loop(s, buffers, memory, batch);
    double ns = (double)(now_ns() - start) / batch;
    for (uint32_t i = 0; i < batch; i++) {
        vkDestroyBuffer(s->device, buffers[i], NULL);
        s->free(s->device, memory[i], NULL);
    }
    free(buffers);
    free(memory);
    return ns;
}

/* `batch` vkMapMemory+vkUnmapMemory pairs on one allocation (*arg). */
static double round_map(side *s, uint32_t batch, void *arg) {
    VkDeviceMemory memory = *(const VkDeviceMemory *)arg;
    uint64_t start = now_ns();
    s->map_loop(s, memory, batch);
    return (double)(now_ns() - start) / batch;
}

/* ---- live allocations around a row ------------------------------------ */

typedef struct live_set {
    VkDeviceMemory *memory;
    uint32_t count;
} live_set;

/* `count` live allocations of `size` with a hole after each (allocate twice as
 * many, free every other one), so that the allocator works amid free gaps. */
static live_set live_set_create(side *s, VkDeviceSize size, uint32_t count) {
    live_set set = {calloc(2 * (size_t)count, sizeof(VkDeviceMemory)), count};
    if (!set.memory) fail("calloc", VK_ERROR_OUT_OF_HOST_MEMORY);
    for (uint32_t i = 0; i < 2 * count; i++) set.memory[i] = allocate_one(s, size);
    for (uint32_t i = 0; i < count; i++) {
        s->free(s->device, set.memory[2 * i + 1], NULL);
        set.memory[i] = set.memory[2 * i];
    }
    return set;
}

static void live_set_destroy(side *s, live_set *set) {
    for (uint32_t i = 0; i < set->count; i++) s->free(s->device, set->memory[i], NULL);
    free(set->memory);
}

/* ---- rows and statistics ---------------------------------------------- */

typedef double (*round_fn)(side *s, uint32_t batch, void *arg);

typedef struct row_result {
    double median[SIDE_COUNT];
    double p99[SIDE_COUNT];
} row_result;

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Rounds alternate between the sides, each round starting with the next side. */
static row_result run_row(side sides[SIDE_COUNT], const bench_config *cfg, round_fn fn, void *args[SIDE_COUNT]) {
    double *samples[SIDE_COUNT];
    for (int k = 0; k < SIDE_COUNT; k++) {
        samples[k] = calloc(cfg->rounds, sizeof(double));
        if (!samples[k]) fail("calloc", VK_ERROR_OUT_OF_HOST_MEMORY);
        fn(&sides[k], cfg->batch, args[k]); /* warm-up: caches, first block */
    }
    for (uint32_t r = 0; r < cfg->rounds; r++)
        for (int k = 0; k < SIDE_COUNT; k++) {
            int i = (int)((r + (uint32_t)k) % SIDE_COUNT);
            samples[i][r] = fn(&sides[i], cfg->batch, args[i]);
        }
    row_result result;
    size_t p99 = (size_t)((cfg->rounds * 99u + 99u) / 100u) - 1u;
    for (int k = 0; k < SIDE_COUNT; k++) {
        qsort(samples[k], cfg->rounds, sizeof(double), compare_double);
        result.median[k] = samples[k][cfg->rounds / 2];
        result.p99[k] = samples[k][p99];
        free(samples[k]);
    }
    return result;
}

static void print_header(const side sides[SIDE_COUNT]) {
    printf("| operation (ns per call) |");
    for (int k = 0; k < SIDE_COUNT; k++) printf(" %s median | p99 |", sides[k].label);
    printf("\n|---|");
    for (int k = 0; k < SIDE_COUNT; k++) printf("---:|---:|");
    printf("\n");
}

static void print_row(const char *label, row_result r) {
    printf("| %s |", label);
    for (int k = 0; k < SIDE_COUNT; k++) printf(" %.1f | %.1f |", r.median[k], r.p99[k]);
    printf("\n");
    fflush(stdout);
}

static const char *size_label(VkDeviceSize size, char *buf, size_t len) {
    if (size >= 1024 * 1024) snprintf(buf, len, "%llu MiB", (unsigned long long)(size >> 20));
    else if (size >= 1024) snprintf(buf, len, "%llu KiB", (unsigned long long)(size >> 10));
    else snprintf(buf, len, "%llu B", (unsigned long long)size);
    return buf;
}

/* alloc+free pairs of `size` with `live` other allocations of that size held
 * (at least one, so that the layer serves the pairs from an existing block). */
static row_result alloc_free_row(side sides[SIDE_COUNT], const bench_config *cfg, VkDeviceSize size, uint32_t live) {
    live_set sets[SIDE_COUNT];
    void *args[SIDE_COUNT];
    for (int k = 0; k < SIDE_COUNT; k++) {
        sets[k] = live_set_create(&sides[k], size, live);
        args[k] = &size;
    }
    row_result r = run_row(sides, cfg, round_alloc_free, args);
    for (int k = 0; k < SIDE_COUNT; k++) live_set_destroy(&sides[k], &sets[k]);
    return r;
}

static row_result map_row(side sides[SIDE_COUNT], const bench_config *cfg) {
    VkDeviceMemory memory[SIDE_COUNT];
    void *args[SIDE_COUNT];
    for (int k = 0; k < SIDE_COUNT; k++) {
        memory[k] = allocate_one(&sides[k], 4096);
        args[k] = &memory[k];
    }
    row_result r = run_row(sides, cfg, round_map, args);
    for (int k = 0; k < SIDE_COUNT; k++) sides[k].free(sides[k].device, memory[k], NULL);
    return r;
}

/* ---- the tables and their targets ------------------------------------------ */

static const char *verdict(bool met) { return met ? "met" : "NOT met"; }

/* layer / no layer, medians of one row */
static double cost_ratio(row_result r) { return r.median[SIDE_COUNT - 1] / r.median[0]; }

/* The per-call table; prints its targets and says whether the alloc+free one was met. */
static bool run_calls_table(side sides[SIDE_COUNT], const bench_config *cfg) {
    print_header(sides);
    static const VkDeviceSize sizes[] = {256, 4096, 65536, 1048576};
    double worst_pair = 0;
    char label[96], size_text[32];
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        if (cfg->counted_only && sizes[i] != 4096) continue;
        row_result r = alloc_free_row(sides, cfg, sizes[i], 1);
        snprintf(label, sizeof label, "vkAllocateMemory+vkFreeMemory %s",
                 size_label(sizes[i], size_text, sizeof size_text));
        print_row(label, r);
        if (r.median[SIDE_COUNT - 1] > worst_pair) worst_pair = r.median[SIDE_COUNT - 1];
    }
    static const uint32_t live_counts[] = {100, 100000};
    for (size_t i = 0; !cfg->counted_only && i < sizeof live_counts / sizeof *live_counts; i++) {
        row_result r = alloc_free_row(sides, cfg, 4096, live_counts[i]);
        snprintf(label, sizeof label, "vkAllocateMemory+vkFreeMemory 4 KiB, %u live", live_counts[i]);
        print_row(label, r);
        if (r.median[SIDE_COUNT - 1] > worst_pair) worst_pair = r.median[SIDE_COUNT - 1];
    }
    void *no_args[SIDE_COUNT] = {NULL, NULL, NULL};
    row_result bind = run_row(sides, cfg, round_bind, no_args);
    print_row("vkBindBufferMemory", bind);
    row_result map = map_row(sides, cfg);
    print_row("vkMapMemory+vkUnmapMemory", map);

    bool pair_met = worst_pair <= TARGET_NS;
    printf("\n");
    if (!cfg->counted_only)
        printf("layer_bench: target: a layer alloc+free pair served from an existing block <= %.0f ns median "
               "(slowest row %.1f ns): %s\n",
               TARGET_NS, worst_pair, verdict(pair_met));
    printf("layer_bench: target: vkBindBufferMemory <= 1.5x no layer (%.2fx): %s\n", cost_ratio(bind),
           verdict(cost_ratio(bind) <= 1.5));
    printf("layer_bench: target: vkMapMemory+vkUnmapMemory <= 2x no layer (%.2fx): %s\n", cost_ratio(map),
           verdict(cost_ratio(map) <= 2.0));
    return pair_met;
}

static void print_thread_targets(threads_result t) {
    const int layer = SIDE_COUNT - 1;
    double scaling = t.median[1][layer] / t.median[0][layer]; /* row 1 is 2 threads, row 0 one */
    double slowest = 1e300;
    for (int row = 0; row < THREAD_ROWS; row++) {
        double ratio = t.median[row][layer] / t.median[row][0];
        if (ratio < slowest) slowest = ratio;
    }
    printf("\nlayer_bench: cores the threads kept busy (their CPU time / wall time), no layer, passthrough, layer:");
    for (int row = 0; row < THREAD_ROWS; row++)
        printf("%s %u threads %.2f %.2f %.2f", row == 0 ? "" : ";", t.threads[row], t.cores_busy[row][0],
               t.cores_busy[row][1], t.cores_busy[row][layer]);
    printf("\nlayer_bench: target: the layer at %u threads >= 1.6x its rate at %u (%.2fx): %s\n", t.threads[1],
           t.threads[0], scaling, verdict(scaling >= 1.6));
    printf("layer_bench: target: the layer >= no layer at every thread count (lowest layer/no layer %.2fx): %s\n",
           slowest, verdict(slowest >= 1.0));
}

/* ---- main --------------------------------------------------------------- */

static bool parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max) return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_args(int argc, char **argv, bench_config *cfg) {
    *cfg = (bench_config){
        .rounds = 201, .batch = 256, .calls = true, .threads = true, .counted_only = false, .check = false};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--check")) {
            cfg->check = true;
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            i++;
            cfg->counted_only = !strcmp(argv[i], "counted");
            cfg->calls = !strcmp(argv[i], "calls") || cfg->counted_only;
            cfg->threads = !strcmp(argv[i], "threads");
            if (!cfg->calls && !cfg->threads) return false;
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            if (!parse_u32(argv[++i], 1, 1000000, &cfg->rounds)) return false;
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            if (!parse_u32(argv[++i], 1, 1000000, &cfg->batch)) return false;
        } else {
            return false;
        }
    }
    return true;
}

static void print_device(const VkPhysicalDeviceProperties *props, const bench_config *cfg) {
    printf("layer_bench: device %s (Vulkan %u.%u.%u, driver version 0x%x, vendor 0x%04x), through the Vulkan loader\n",
           props->deviceName, VK_API_VERSION_MAJOR(props->apiVersion), VK_API_VERSION_MINOR(props->apiVersion),
           VK_API_VERSION_PATCH(props->apiVersion), props->driverVersion, props->vendorID);
    printf("layer_bench: %u rounds alternating between 3 instances; each round times a batch of %u calls "
           "and divides\n\n",
           cfg->rounds, cfg->batch);
}

int main(int argc, char **argv) {
    bench_config cfg;
    if (!parse_args(argc, argv, &cfg)) {
        fprintf(stderr,
                "usage: layer_bench [--rounds N] [--batch N] [--only calls|counted|threads] [--check]\n"
                "  --only   run only the per-call table, only its rows call_instructions.sh counts (alloc+free\n"
                "           4 KiB, bind, map+unmap), or only the threads table\n"
                "  --check  exit 1 when a layer alloc+free median is above %.0f ns\n",
                TARGET_NS);
        return 2;
    }
    prepare_environment();
    side sides[SIDE_COUNT] = {
        {.label = "no layer",
         .mode = NULL,
         .pair_loop = pair_loop_no_layer,
         .bind_loop = bind_loop_no_layer,
         .map_loop = map_loop_no_layer},
        {.label = "layer passthrough",
         .mode = "passthrough",
         .pair_loop = pair_loop_passthrough,
         .bind_loop = bind_loop_passthrough,
         .map_loop = map_loop_passthrough},
        {.label = "layer",
         .mode = "suballocate",
         .pair_loop = pair_loop_layer,
         .bind_loop = bind_loop_layer,
         .map_loop = map_loop_layer},
    };
    VkPhysicalDeviceProperties props;
    for (int k = 0; k < SIDE_COUNT; k++) {
        create_instance(&sides[k]);
        create_device(&sides[k], &props);
    }
    print_device(&props, &cfg);
    bool target_met = true;
    if (cfg.calls) target_met = run_calls_table(sides, &cfg);
    if (cfg.threads) {
        if (cfg.calls) printf("\n");
        print_thread_targets(print_threads_table(sides, cfg.rounds));
    }
    printf(
        "layer_bench: lavapipe's vkAllocateMemory is malloc; at 1 MiB glibc picks mmap or its heap by a moving\n"
        "layer_bench: threshold, so that row has no stable baseline. A real GPU pays a kernel call per allocation.\n");
    for (int k = 0; k < SIDE_COUNT; k++) destroy_side(&sides[k]);
    return cfg.check && !target_met ? 1 : 0;
}
