/* SPDX-License-Identifier: Apache-2.0 */
/*
 * robust_vk: the Vulkan plumbing the robustness tests share.
 *
 * Unlike the integration harness, whose messenger fails a case on any warning,
 * these tests provoke the layer's messages on purpose: the messenger here only
 * counts the layer's messages (pMessageIdName starting "TRANSPARENT-suballoc")
 * and keeps the last one, so a case can assert that its misuse was reported.
 *
 * The strict-device layer's control functions are looked up through the chain
 * (the sub-allocation layer passes unknown names down); they are NULL when the
 * strict layer is not loaded.
 */
#ifndef SUBALLOC_ROBUST_VK_H
#define SUBALLOC_ROBUST_VK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "strict_device.h"
#include "test_vk.h"

#define ROBUST_LAYER_MESSAGE_ID "TRANSPARENT-suballoc"

/* ---- failures ---------------------------------------------------------------- */

/* Counts a failure, prints where and why, and goes on. */
#define EXPECT(cond, ...)                                                 \
    do {                                                                  \
        if (!(cond)) robust_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)

/* The same, then leaves the calling function: what follows depends on it. */
#define EXPECT_OR_RETURN(cond, ...)                              \
    do {                                                         \
        if (!(cond)) {                                           \
            robust_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
            return;                                              \
        }                                                        \
    } while (0)

void robust_fail(const char *file, int line, const char *condition, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
uint64_t robust_failures(void);
/* The project's one VkResult name table (common/vk_result_name.c). */
#define robust_result_name vk_result_name

/* ---- layer messages ------------------------------------------------------------ */

/* Messages the layer sent to this process's messenger so far. */
uint64_t robust_layer_message_count(void);
/* Copies the last one (empty when none) into out. */
void robust_last_layer_message(char *out, size_t out_size);
/* Other messages (the loader's, a validation layer's) seen so far. */
uint64_t robust_other_message_count(void);

/* ---- instance and devices -------------------------------------------------------- */

typedef struct robust_strict {
    PFN_vkStrictDeviceGetCountersTEST get_counters;
    PFN_vkStrictDeviceInjectFaultTEST inject_fault;
    PFN_vkStrictDeviceSetAllocationSizeLimitTEST set_allocation_size_limit;
    PFN_vkStrictDeviceIsDriverMemoryTEST is_driver_memory;
    PFN_vkStrictDeviceGetViolationCountTEST violation_count;
} robust_strict;

typedef struct robust_vk {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties properties;
    VkPhysicalDeviceMemoryProperties memory;
    uint32_t queue_family;
} robust_vk;

typedef struct robust_device {
    VkDevice handle;
    robust_strict strict; /* all NULL unless the strict layer is in the chain */
} robust_device;

/* An instance (Vulkan 1.1, VK_EXT_debug_utils) with the counting messenger, and
 * its first physical device. False, with a message, when there is none. */
bool robust_instance_create(robust_vk *vk);
void robust_instance_destroy(robust_vk *vk);

/* A device with one queue of the first family. */
bool robust_device_create(const robust_vk *vk, robust_device *out);
void robust_device_destroy(robust_device *device);
bool robust_has_strict(const robust_device *device);
StrictDeviceCounters robust_strict_counters(const robust_device *device);

/* ---- memory ---------------------------------------------------------------------- */

/* The first memory type with all of `required` and none of `refused`, or UINT32_MAX. */
uint32_t robust_find_memory_type(const robust_vk *vk, VkMemoryPropertyFlags required, VkMemoryPropertyFlags refused);
bool robust_type_has(const robust_vk *vk, uint32_t type, VkMemoryPropertyFlags flags);

VkResult robust_allocate(VkDevice device, VkDeviceSize size, uint32_t type, VkDeviceMemory *out);

/* A buffer of `size` bytes usable for transfers: its create info, and one made. */
VkBufferCreateInfo robust_buffer_info(VkDeviceSize size);
VkResult robust_create_buffer(VkDevice device, VkDeviceSize size, VkBuffer *out);

/* A square 2D RGBA8 single-sample image, one mip and one layer, `side` texels wide. */
VkImageCreateInfo robust_image_info(uint32_t side, VkImageTiling tiling, VkImageUsageFlags usage);

/* ---- byte patterns ------------------------------------------------------------------ */

/* Bytes that depend on seed and position, so every allocation's content is its own. */
void robust_fill(void *dst, size_t bytes, uint64_t seed);
/* How many bytes differ from the pattern (0 when intact). */
size_t robust_count_wrong(const void *src, size_t bytes, uint64_t seed);

/* xorshift64*, for workloads that must be the same on every run. */
typedef struct robust_rng {
    uint64_t state;
} robust_rng;

uint64_t robust_rng_next(robust_rng *rng);
uint64_t robust_rng_below(robust_rng *rng, uint64_t bound);

/* An unsigned number from the environment, or fallback when unset or not a number. */
uint64_t robust_env_u64(const char *name, uint64_t fallback);

/* ---- one case a child process --------------------------------------------------------- */

/* The exit status of a case that the chain or device cannot express. */
#define ROBUST_EXIT_SKIPPED 77

typedef enum robust_outcome { ROBUST_PASSED, ROBUST_FAILED, ROBUST_SKIPPED } robust_outcome;

/* Runs run(arg) in a forked child, so that a crash fails that case alone (and
 * says which signal): 0 passes, ROBUST_EXIT_SKIPPED skips, anything else fails. */
robust_outcome robust_run_in_child(int (*run)(const void *arg), const void *arg);
/* Whether a case named rule runs: every case with no arguments, else those
 * whose name holds one of them. */
bool robust_case_selected(const char *rule, int argc, char **argv);

#endif
