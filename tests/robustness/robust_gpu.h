/* SPDX-License-Identifier: Apache-2.0 */
/*
 * robust_gpu: what the red-team tests share on top of robust_vk: a device with
 * a queue, one command buffer and a host-visible readback buffer, so that a
 * case can have the GPU read and write what it bound; a watch on the layer's
 * messages and the strict device's violations, to tell a valid call from a
 * refused one; and the loop that runs each case in a child process.
 *
 * The chain is read from SUBALLOC_TEST_CHAIN: plain and strict have the
 * sub-allocation layer; strict_only is the strict device alone, where a
 * misuse must show as a violation the device counted (proof that it is one).
 */
#ifndef SUBALLOC_ROBUST_GPU_H
#define SUBALLOC_ROBUST_GPU_H

#include "robust_vk.h"

typedef struct robust_gpu {
    robust_vk vk;
    robust_device dev;
    VkDevice device;
    bool layer;                /* the sub-allocation layer is in the chain (plain, strict) */
    bool strict;               /* the strict device is in the chain */
    uint32_t host_type;        /* host-visible and coherent */
    uint32_t noncoherent_type; /* host-visible, not coherent; UINT32_MAX when none */
    VkDeviceSize atom;
    VkQueue queue;
    VkCommandPool pool;
    VkCommandBuffer commands;
    VkFence fence;
    VkBuffer readback; /* readback_size bytes, bound and mapped at readback_bytes */
    VkDeviceMemory readback_memory;
    unsigned char *readback_bytes;
    VkDeviceSize readback_size;
} robust_gpu;

/* False, with a message, when the device lacks what the cases need. Tear down
 * either way. */
bool robust_gpu_set_up(robust_gpu *c, VkDeviceSize readback_size);
void robust_gpu_tear_down(robust_gpu *c);

/* Resets and begins the command buffer. */
bool robust_gpu_begin(robust_gpu *c);
/* Ends the commands with a transfer-to-host barrier, submits them and waits;
 * a failure is counted, naming what. */
bool robust_gpu_submit(robust_gpu *c, const char *what);

/* A layout change of a whole single-level colour image. */
VkImageMemoryBarrier robust_colour_barrier(VkImage image, VkImageLayout from, VkImageLayout to, VkAccessFlags src,
                                           VkAccessFlags dst);

/* size bytes of memory type; a failure is counted (VK_NULL_HANDLE then). */
VkDeviceMemory robust_gpu_allocate(robust_gpu *c, VkDeviceSize size, uint32_t type);

/* A side x side RGBA8 image the GPU can copy to and from; a linear one starts
 * PREINITIALIZED, so the host may write it through a map. */
VkImageCreateInfo robust_transfer_image_info(uint32_t side, VkImageTiling tiling);

/* Uploads a pattern into a side x side RGBA8 image (in layout from) through a
 * staging buffer and copies it back out: true when every texel came back,
 * which proves the image is bound to memory that works. */
bool robust_image_round_trip(robust_gpu *c, VkImage image, uint32_t side, VkImageLayout from, uint64_t seed,
                             const char *what);

/* ---- valid calls and refused ones ------------------------------------------------ */

typedef struct robust_watch {
    uint64_t messages;
    uint64_t violations[STRICT_DEVICE_VIOLATION_KIND_COUNT];
} robust_watch;

robust_watch robust_watch_now(const robust_gpu *c);
/* Violations of rule kind (all rules when kind < 0) the strict device counted since. */
uint64_t robust_violations_since(const robust_gpu *c, const robust_watch *before, int kind);
/* A valid call: no layer message, nothing wrong reached the driver. */
void robust_expect_clean(const robust_gpu *c, const robust_watch *before, const char *what);
/* A call the spec forbids. With the layer: reported, and nothing reached the
 * driver. Without it: the strict device saw rule kind (proof that the call is
 * misuse; kind < 0: the device has no rule for it). The caller checks the
 * VkResult, whose rule differs by call. */
void robust_expect_refused(const robust_gpu *c, const robust_watch *before, int kind, const char *what);

/* ---- the cases ----------------------------------------------------------------- */

typedef struct robust_case {
    const char *rule; /* what the case proves: its name */
    int (*run)(robust_gpu *c);
    const char *env; /* NAME=value set in the child before set-up, or NULL */
} robust_case;

/* Runs each selected case (robust_case_selected) in a child process on a
 * fresh device with a readback buffer of readback_size bytes, prints a line
 * per case and a tally under title, and returns the process's exit status. */
int robust_run_cases(const char *title, const robust_case *cases, size_t count, VkDeviceSize readback_size, int argc,
                     char **argv);

#endif
