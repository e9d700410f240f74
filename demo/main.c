/* SPDX-License-Identifier: Apache-2.0 */
/*
 * suballoc-demo: a naive Vulkan "engine" that makes one vkAllocateMemory per
 * buffer and per image, tens of thousands of them, uploads through mappings,
 * runs a compute pass over everything and checks every result.
 *
 * Run it through the layer with `suballoc-run -- suballoc-demo`; without the
 * layer it is an ordinary Vulkan app (and fails on drivers whose
 * maxMemoryAllocationCount is below --count).
 */
#include "demo_compute.h"
#include "demo_scene.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_ALLOCATIONS 50000u
#define MAX_ALLOCATIONS 10000000u

typedef struct demo_options {
    uint32_t allocations;
    uint32_t device_index;
    uint32_t hold_seconds;
    bool inject_mismatch;
    bool verbose;
} demo_options;

static void usage(FILE *out) {
    fprintf(out,
            "Usage: suballoc-demo [--count N] [--device I] [--hold S] [--inject-mismatch] [--verbose]\n"
            "\n"
            "A naive Vulkan engine: N vkAllocateMemory calls, one per buffer and per image\n"
            "(1 in 10 for r32ui storage images and their staging buffers), uploads through\n"
            "mappings, one compute dispatch per resource, readback, and a check of every value.\n"
            "Prints \"results verified\" and exits 0, or exits 1 on any wrong value or error.\n"
            "\n"
            "  --count N          vkAllocateMemory calls to make (default %u, 1..%u)\n"
            "  --device I         use the I-th Vulkan device (default 0)\n"
            "  --hold S           keep everything live S seconds after the check, before freeing\n"
            "                     (time for a look: the layer's stats_interval dump, a debugger)\n"
            "  --inject-mismatch  change one result behind the GPU's back: the check must fail\n"
            "  --verbose          also print informational messages from layers (debug utils)\n"
            "  -h, --help         show this help\n"
            "\n"
            "Run it through the layer: suballoc-run -- suballoc-demo\n",
            DEFAULT_ALLOCATIONS, MAX_ALLOCATIONS);
}

static bool parse_count(const char *text, uint32_t min, uint32_t max, uint32_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max) return false;
    *out = (uint32_t)v;
    return true;
}

/* Returns 0 to run, else the exit status (help printed, or a bad option). */
static int parse_options(int argc, char **argv, demo_options *opt) {
    *opt = (demo_options){.allocations = DEFAULT_ALLOCATIONS};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(arg, "--inject-mismatch")) {
            opt->inject_mismatch = true;
        } else if (!strcmp(arg, "--verbose")) {
            opt->verbose = true;
        } else if (!strcmp(arg, "--count") && has_value) {
            if (!parse_count(argv[++i], 1, MAX_ALLOCATIONS, &opt->allocations)) {
                fprintf(stderr, "suballoc-demo: --count needs a number from 1 to %u, not '%s'\n", MAX_ALLOCATIONS,
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(arg, "--hold") && has_value) {
            if (!parse_count(argv[++i], 0, 3600, &opt->hold_seconds)) {
                fprintf(stderr, "suballoc-demo: --hold needs seconds from 0 to 3600, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(arg, "--device") && has_value) {
            if (!parse_count(argv[++i], 0, 1000, &opt->device_index)) {
                fprintf(stderr, "suballoc-demo: --device needs a device index, not '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "suballoc-demo: unknown or incomplete option '%s' (see --help)\n", arg);
            return 2;
        }
    }
    return 0;
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) * 1e-9;
}

static double lap(struct timespec *start) {
    double s = seconds_since(start);
    clock_gettime(CLOCK_MONOTONIC, start);
    return s;
}

static void print_device(const demo_context *ctx) {
    uint32_t v = ctx->properties.apiVersion;
    printf("suballoc-demo: device %s (Vulkan %u.%u.%u), maxMemoryAllocationCount %u\n", ctx->properties.deviceName,
           VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v),
           ctx->properties.limits.maxMemoryAllocationCount);
}

static int run(const demo_options *opt, demo_context *ctx) {
    demo_scene scene;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (!demo_scene_create(&scene, ctx, opt->allocations)) return 1;
    printf("suballoc-demo: %u vkAllocateMemory calls, one per resource: %u storage buffers, %u storage images "
           "+ %u staging buffers, %.1f MiB (%.2f s)\n",
           scene.allocation_count, scene.buffer_count, scene.image_count, scene.image_count,
           (double)scene.bytes / (1024.0 * 1024.0), lap(&t));
    demo_scene_upload(&scene, ctx);
    printf("suballoc-demo: uploaded %llu values through %u mappings (%.2f s)\n", (unsigned long long)scene.value_count,
           scene.object_count, lap(&t));
    demo_compute_counts counts = demo_compute_run(&scene, ctx);
    printf("suballoc-demo: compute pass: %u dispatches, %u image copies (%.2f s)\n", counts.dispatches, counts.copies,
           lap(&t));
    if (opt->inject_mismatch) demo_scene_inject_mismatch(&scene, ctx);
    uint64_t wrong = demo_scene_verify(&scene, ctx);
    double verify_s = lap(&t);
    uint32_t allocations = scene.allocation_count;
    uint64_t values = scene.value_count;
    if (opt->hold_seconds) {
        printf("suballoc-demo: holding %u allocations live for %u s\n", allocations, opt->hold_seconds);
        nanosleep(&(struct timespec){.tv_sec = opt->hold_seconds}, NULL);
    }
    demo_scene_destroy(&scene, ctx);
    if (wrong) {
        fprintf(stderr, "suballoc-demo: %llu of %llu values wrong: results NOT verified\n", (unsigned long long)wrong,
                (unsigned long long)values);
        return 1;
    }
    printf("suballoc-demo: %u allocations freed in random order; results verified (check %.2f s)\n", allocations,
           verify_s);
    return 0;
}

int main(int argc, char **argv) {
    /* Progress lines show up as they happen, also through a pipe (tee, ctest). */
    setvbuf(stdout, NULL, _IOLBF, 0);
    demo_options opt;
    int status = parse_options(argc, argv, &opt);
    if (status) return status < 0 ? 0 : status;
    demo_context ctx;
    if (!demo_context_create(&ctx, opt.device_index, opt.verbose)) return 1;
    print_device(&ctx);
    status = run(&opt, &ctx);
    demo_context_destroy(&ctx);
    unsigned problems = atomic_load(&ctx.problems);
    if (problems) {
        fprintf(stderr, "suballoc-demo: %u validation warnings or errors (see above): failing\n", problems);
        return 1;
    }
    return status;
}
