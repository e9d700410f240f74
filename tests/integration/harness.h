/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness: the small amount of Vulkan plumbing every integration test shares.
 *
 * A test program is a list of named cases. The harness makes one instance (with a
 * debug-utils messenger that fails the case on any warning or error message, from
 * validation or from the layer), then for each case a fresh device, runs the case,
 * destroys the device and checks the layer's statistics line for that device.
 * Each case therefore proves its rule on its own device and its own numbers.
 *
 * The environment says which chain the test runs in (SUBALLOC_TEST_CHAIN, set by
 * tests/integration/CMakeLists.txt): a case asserts the layer's effect only when
 * the layer is there, and the strict layer's counters only when it is there.
 */
#ifndef SUBALLOC_INTEGRATION_HARNESS_H
#define SUBALLOC_INTEGRATION_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "strict_device.h"
#include "test_vk.h"

/* ---------------------------------------------------------------- results */

/* Record a failure and go on: the case reports every broken rule it sees. */
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) harness_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)

/* Record a failure and leave the case: what follows depends on it. */
#define REQUIRE(cond, ...)                                        \
    do {                                                          \
        if (!(cond)) {                                            \
            harness_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
            harness_abort_case();                                 \
        }                                                         \
    } while (0)

/* A Vulkan call that must succeed for the case to make sense. */
#define VK_REQUIRE(call)                                                                                        \
    do {                                                                                                        \
        VkResult vk_require_result_ = (call);                                                                   \
        REQUIRE(vk_require_result_ == VK_SUCCESS, "%s returned %s", #call, vk_result_name(vk_require_result_)); \
    } while (0)

void harness_fail(const char *file, int line, const char *condition, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
_Noreturn void harness_abort_case(void);
/* Leaves the case without failing it: the device lacks what the case needs. */
_Noreturn void harness_skip(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- setup */

/* What a device needs: features and extensions are enabled when the physical
 * device has them, and the case learns which (harness.enabled). */
typedef struct harness_device_request {
    bool buffer_device_address;
    bool buffer_device_address_capture_replay;
    bool private_data;
    bool memory_priority;      /* VK_EXT_memory_priority */
    bool external_memory_fd;   /* VK_KHR_external_memory_fd */
    bool external_memory_host; /* VK_EXT_external_memory_host */
} harness_device_request;

typedef struct harness_enabled {
    bool buffer_device_address;
    bool buffer_device_address_capture_replay;
    bool private_data;
    bool memory_priority;
    bool external_memory_fd;
    bool external_memory_host;
} harness_enabled;

/* The layer's statistics line for one device (see the layer's STATS_FILE). */
typedef struct harness_stats {
    bool present;
    char mode[32];
    uint64_t app_allocations, app_live_peak, app_leaked;
    uint64_t suballocated, passthrough;
    uint64_t driver_allocations, driver_live_peak, blocks_peak;
    uint64_t bytes_requested_peak, bytes_in_blocks_peak;
} harness_stats;

/* What the running case promises about its device's statistics; checked after
 * vkDestroyDevice when the layer is in the chain. -1 leaves a number unchecked. */
typedef struct harness_expectations {
    int64_t passthrough; /* exactly this many pass-through allocations */
    int64_t suballocated_at_least;
    int64_t driver_live_peak_below;
    int64_t blocks_peak_at_least;
    int64_t app_leaked; /* exactly this many left live at vkDestroyDevice (default 0) */
    /* Warnings whose message id name starts with this are expected, not failures;
     * at least messages_at_least of them must come (checked in every chain). */
    const char *message_id_prefix;
    int64_t messages_at_least;
} harness_expectations;

typedef struct harness {
    /* chain, from SUBALLOC_TEST_CHAIN */
    const char *chain;
    bool layer;      /* VK_LAYER_TRANSPARENT_suballoc is in the chain */
    bool validation; /* VK_LAYER_KHRONOS_validation is in the chain */

    VkInstance instance;
    uint32_t api_version;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties properties;
    VkPhysicalDeviceMemoryProperties memory;

    VkDevice device;
    uint32_t queue_family;
    VkQueue queue;
    VkCommandPool command_pool;
    harness_enabled enabled;

    /* The strict layer's control functions; NULL when it is not in the chain. */
    PFN_vkStrictDeviceGetCountersTEST strict_counters;
    PFN_vkStrictDeviceIsDriverMemoryTEST strict_is_driver_memory;

    uint64_t app_allocations; /* successful harness_allocate calls on this device */
    harness_expectations expect;
    harness_stats stats; /* of the previous device, after its destruction */
} harness;

typedef struct harness_case {
    const char *name;
    void (*run)(harness *h);
} harness_case;

/* Runs every case (or those named on the command line) and returns the exit status. */
int harness_main(int argc, char **argv, const harness_device_request *request, const harness_case *cases,
                 size_t case_count);

/* ---------------------------------------------------------------- memory */

/* Memory types a resource with type_bits may use that have every flag of
 * required, skipping lazily allocated and protected types unless required.
 * Writes their indices to out[VK_MAX_MEMORY_TYPES] and returns how many. */
uint32_t harness_memory_types(const harness *h, uint32_t type_bits, VkMemoryPropertyFlags required, uint32_t *out);
/* The first such type, or UINT32_MAX. */
uint32_t harness_memory_type(const harness *h, uint32_t type_bits, VkMemoryPropertyFlags required);
bool harness_type_is(const harness *h, uint32_t type, VkMemoryPropertyFlags flags);

/* vkAllocateMemory, counted so the case can compare with the layer's numbers. */
VkResult harness_allocate(harness *h, const VkMemoryAllocateInfo *info, VkDeviceMemory *memory);
VkResult harness_allocate_simple(harness *h, VkDeviceSize size, uint32_t type, VkDeviceMemory *memory);

/* Whether the strict layer says memory is a driver handle (call only with it). */
bool harness_is_driver_memory(const harness *h, VkDeviceMemory memory);
StrictDeviceCounters harness_strict_counters(const harness *h);

/* A buffer in its own host-visible allocation, mapped for the case's lifetime:
 * staging, readback and tables. Coherent types are preferred. */
typedef struct harness_host_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint32_t type;
    bool coherent;
    uint8_t *data;
    VkDeviceAddress address; /* when made with SHADER_DEVICE_ADDRESS usage */
} harness_host_buffer;

void harness_host_buffer_create(harness *h, VkDeviceSize size, VkBufferUsageFlags usage, harness_host_buffer *out);
void harness_host_buffer_destroy(harness *h, harness_host_buffer *buffer);
/* Makes host writes visible to the device / device writes visible to the host. */
void harness_host_buffer_flush(harness *h, const harness_host_buffer *buffer);
void harness_host_buffer_invalidate(harness *h, const harness_host_buffer *buffer);

VkDeviceSize harness_align_up(VkDeviceSize value, VkDeviceSize alignment);

/* ---------------------------------------------------------------- work */

/* A one-time command buffer, recorded by the case and run to completion. */
VkCommandBuffer harness_begin(harness *h);
void harness_submit_and_wait(harness *h, VkCommandBuffer commands);

/* A full barrier: everything before is visible to everything after, host included. */
void harness_barrier(VkCommandBuffer commands);

/* A buffer for transfers (plus extra_usage), its create info chaining next. */
VkBuffer harness_buffer_create(harness *h, VkDeviceSize size, VkBufferUsageFlags extra_usage, const void *next);
/* A side x side RGBA8 (UINT) 2D image with optimal tiling for transfers: one level, one layer. */
VkImageCreateInfo harness_image_info(uint32_t side);
/* A transfer-to-transfer layout transition of a one-level colour image. */
void harness_image_layout(VkCommandBuffer commands, VkImage image, VkImageLayout from, VkImageLayout to);

/* Copies src to dst on the GPU and waits. */
void harness_copy_buffer(harness *h, VkBuffer src, VkDeviceSize src_offset, VkBuffer dst, VkDeviceSize dst_offset,
                         VkDeviceSize size);

/* A compute pipeline from <shader dir>/<name>.spv with one optional set layout. */
typedef struct harness_pipeline {
    VkPipeline pipeline;
    VkPipelineLayout layout;
} harness_pipeline;

void harness_compute_pipeline(harness *h, const char *spirv_name, VkDescriptorSetLayout set_layout,
                              uint32_t push_constant_bytes, harness_pipeline *out);
void harness_pipeline_destroy(harness *h, harness_pipeline *pipeline);

/* ---------------------------------------------------------------- patterns */

/* A word that depends on both seed and index, so every buffer's contents are its own. */
static inline uint32_t harness_pattern(uint32_t seed, uint64_t index) {
    uint64_t x = ((uint64_t)seed << 32 | (uint32_t)index) ^ (index >> 32) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    return (uint32_t)x;
}

void harness_fill_pattern(void *dst, VkDeviceSize bytes, uint32_t seed);
/* Bytes that differ from the pattern; the first difference is printed under label. */
uint64_t harness_check_pattern(const void *src, VkDeviceSize bytes, uint32_t seed, const char *label);

/* A small deterministic random generator (xorshift64*), seedable from SUBALLOC_TEST_SEED. */
typedef struct harness_rng {
    uint64_t state;
} harness_rng;

harness_rng harness_rng_make(uint64_t default_seed);
uint64_t harness_rng_next(harness_rng *rng);
uint64_t harness_rng_below(harness_rng *rng, uint64_t bound);
void harness_shuffle(harness_rng *rng, uint32_t *items, uint32_t count);

#endif
