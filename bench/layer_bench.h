/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer_bench.h: what the parts of layer_bench share: one "side" is an
 * instance and device, without the layer or with it in one mode.
 */
#ifndef SUBALLOC_LAYER_BENCH_H
#define SUBALLOC_LAYER_BENCH_H

#include <stdint.h>
#include <vulkan/vulkan.h>

#define SIDE_COUNT 3

typedef struct side {
    const char *label;
    const char *mode; /* the layer's mode setting, NULL = no layer */
    VkInstance instance;
    VkDevice device;
    uint32_t memory_type; /* host-visible, so map can be measured too */
    PFN_vkAllocateMemory allocate;
    PFN_vkFreeMemory free;
    PFN_vkMapMemory map;
    PFN_vkUnmapMemory unmap;
    PFN_vkBindBufferMemory bind;
    /* The timed loops: one copy per side (layer_bench.c). */
    void (*pair_loop)(const struct side *s, const VkMemoryAllocateInfo *info, uint32_t count);
    void (*bind_loop)(const struct side *s, const VkBuffer *buffers, const VkDeviceMemory *memory, uint32_t count);
    void (*map_loop)(const struct side *s, VkDeviceMemory memory, uint32_t count);
} side;

_Noreturn void fail(const char *what, VkResult result);
uint64_t now_ns(void);

/* The threads table: pairs per second at 1, 2, 4 and 8 threads, every side. */
#define THREAD_ROWS 4
typedef struct threads_result {
    uint32_t threads[THREAD_ROWS];
    double median[THREAD_ROWS][SIDE_COUNT];     /* pairs per second */
    double cores_busy[THREAD_ROWS][SIDE_COUNT]; /* the threads' CPU time / wall time */
} threads_result;
threads_result print_threads_table(side sides[SIDE_COUNT], uint32_t rounds);

#endif
