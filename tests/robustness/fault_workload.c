/* SPDX-License-Identifier: Apache-2.0 */
/* fault_workload: a fault-tolerant app workload whose every byte is checked. */
#include "fault_workload.h"

#include <string.h>

/* The errors a call may answer a driver fault with. */
enum {
    MAY_OUT_OF_HOST = 1u << 0,
    MAY_OUT_OF_DEVICE = 1u << 1,
    MAY_MAP_FAIL = 1u << 2,
};
#define ALLOCATE_ERRORS (MAY_OUT_OF_HOST | MAY_OUT_OF_DEVICE)
#define BIND_ERRORS (MAY_OUT_OF_HOST | MAY_OUT_OF_DEVICE)
#define MAP_ERRORS (MAY_OUT_OF_HOST | MAY_MAP_FAIL)
#define SYNC_ERRORS (MAY_OUT_OF_HOST | MAY_OUT_OF_DEVICE)

static bool error_allowed(unsigned errors, VkResult result) {
    return (result == VK_ERROR_OUT_OF_HOST_MEMORY && (errors & MAY_OUT_OF_HOST)) ||
           (result == VK_ERROR_OUT_OF_DEVICE_MEMORY && (errors & MAY_OUT_OF_DEVICE)) ||
           (result == VK_ERROR_MEMORY_MAP_FAILED && (errors & MAY_MAP_FAIL));
}

/* Judges one result; true when the call must be retried (a one-shot fault hit it). */
static bool judge(workload *w, fault_policy policy, unsigned errors, const char *call, VkResult result) {
    w->calls++;
    if (result == VK_SUCCESS) return false;
    w->failed_calls++;
    EXPECT(policy != FAULT_POLICY_NONE, "%s returned %s with no fault armed (step %s)", call,
           robust_result_name(result), w->step_name);
    EXPECT(error_allowed(errors, result), "%s returned %s, which it may not return here (step %s)", call,
           robust_result_name(result), w->step_name);
    return policy == FAULT_POLICY_ONE_SHOT;
}

/* result = call; under a one-shot fault a failed call is made again and must succeed. */
#define ATTEMPT(result, w, policy, errors, call)                                                           \
    do {                                                                                                   \
        (result) = (call);                                                                                 \
        if (judge((w), (policy), (errors), #call, (result))) {                                             \
            (result) = (call);                                                                             \
            EXPECT((result) == VK_SUCCESS, "%s failed again once the fault was gone: %s (step %s)", #call, \
                   robust_result_name(result), (w)->step_name);                                            \
        }                                                                                                  \
    } while (0)

void workload_init(workload *w, const robust_vk *vk, VkDevice device, uint64_t seed, VkDeviceSize large_size) {
    memset(w, 0, sizeof *w);
    w->vk = vk;
    w->device = device;
    w->rng.state = seed | 1;
    w->large_size = large_size;
    w->next_seed = seed * 1000003u;
    w->step_name = "init";
    VkMemoryPropertyFlags skip = VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT;
    for (uint32_t t = 0; t < vk->memory.memoryTypeCount; t++)
        if (!(vk->memory.memoryTypes[t].propertyFlags & skip)) w->types[w->type_count++] = t;
}

/* ---- small helpers ------------------------------------------------------------------ */

static bool host_visible(const workload *w, uint32_t type) {
    return robust_type_has(w->vk, type, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
}

static bool coherent(const workload *w, uint32_t type) {
    return robust_type_has(w->vk, type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
}

/* A random usable type among type_bits, or UINT32_MAX. */
static uint32_t pick_type(workload *w, uint32_t type_bits, bool want_host_visible) {
    uint32_t candidates[VK_MAX_MEMORY_TYPES], n = 0;
    for (uint32_t i = 0; i < w->type_count; i++) {
        uint32_t t = w->types[i];
        if ((type_bits & (1u << t)) && (!want_host_visible || host_visible(w, t))) candidates[n++] = t;
    }
    return n == 0 ? UINT32_MAX : candidates[robust_rng_below(&w->rng, n)];
}

static VkDeviceSize align_up(VkDeviceSize value, VkDeviceSize alignment) {
    return alignment <= 1 ? value : (value + alignment - 1) / alignment * alignment;
}

static VkMappedMemoryRange whole_range(VkDeviceMemory memory) {
    return (VkMappedMemoryRange){
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
}

static workload_allocation *add_live(workload *w, VkDeviceMemory memory, VkDeviceSize size, uint32_t type) {
    workload_allocation *a = &w->live[w->live_count++];
    *a = (workload_allocation){.memory = memory, .size = size, .type = type};
    return a;
}

static void release(workload *w, workload_allocation *a) {
    if (a->mapped != NULL) vkUnmapMemory(w->device, a->memory);
    if (a->buffer != VK_NULL_HANDLE) vkDestroyBuffer(w->device, a->buffer, NULL);
    if (a->image != VK_NULL_HANDLE) vkDestroyImage(w->device, a->image, NULL);
    vkFreeMemory(w->device, a->memory, NULL);
}

static void forget(workload *w, workload_allocation *a) { *a = w->live[--w->live_count]; }

/* ---- mapping, writing, checking ------------------------------------------------------- */

static bool ensure_mapped(workload *w, workload_allocation *a, fault_policy policy) {
    if (a->mapped != NULL) return true;
    VkResult result;
    ATTEMPT(result, w, policy, MAP_ERRORS, vkMapMemory(w->device, a->memory, 0, VK_WHOLE_SIZE, 0, &a->mapped));
    if (result != VK_SUCCESS) a->mapped = NULL;
    return result == VK_SUCCESS;
}

static void write_pattern(workload *w, workload_allocation *a, fault_policy policy) {
    if (!host_visible(w, a->type) || !ensure_mapped(w, a, policy)) return;
    a->seed = w->next_seed++;
    robust_fill(a->mapped, (size_t)a->size, a->seed);
    a->written = true;
    if (!coherent(w, a->type)) {
        VkMappedMemoryRange range = whole_range(a->memory);
        VkResult result;
        ATTEMPT(result, w, policy, SYNC_ERRORS, vkFlushMappedMemoryRanges(w->device, 1, &range));
        a->written = result == VK_SUCCESS;
    }
    if (robust_rng_below(&w->rng, 2) == 0) {
        vkUnmapMemory(w->device, a->memory);
        a->mapped = NULL;
    }
}

/* False when the bytes could not be reached (a persistent map fault): check later. */
static bool verify(workload *w, workload_allocation *a, fault_policy policy) {
    if (!a->written) return true;
    if (!ensure_mapped(w, a, policy)) return false;
    if (!coherent(w, a->type)) {
        VkMappedMemoryRange range = whole_range(a->memory);
        VkResult result;
        ATTEMPT(result, w, policy, SYNC_ERRORS, vkInvalidateMappedMemoryRanges(w->device, 1, &range));
        if (result != VK_SUCCESS) return false;
    }
    size_t wrong = robust_count_wrong(a->mapped, (size_t)a->size, a->seed);
    EXPECT(wrong == 0, "%zu of %llu bytes of a type-%u allocation changed (step %s)", wrong,
           (unsigned long long)a->size, a->type, w->step_name);
    w->bytes_verified += a->size;
    return true;
}

/* ---- steps ---------------------------------------------------------------------------- */

/* The engine pattern: a buffer's requirements, exactly that much memory, bind, fill. */
static void step_buffer(workload *w, fault_policy policy) {
    w->step_name = "buffer";
    VkDeviceSize base = 256ull << robust_rng_below(&w->rng, 11);
    VkBuffer buffer;
    EXPECT(robust_create_buffer(w->device, base + robust_rng_below(&w->rng, base), &buffer) == VK_SUCCESS,
           "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(w->device, buffer, &req);
    uint32_t type = pick_type(w, req.memoryTypeBits, false);
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result;
    ATTEMPT(result, w, policy, ALLOCATE_ERRORS, robust_allocate(w->device, req.size, type, &memory));
    if (result != VK_SUCCESS) {
        vkDestroyBuffer(w->device, buffer, NULL);
        return;
    }
    workload_allocation *a = add_live(w, memory, req.size, type);
    ATTEMPT(result, w, policy, BIND_ERRORS, vkBindBufferMemory(w->device, buffer, memory, 0));
    if (result == VK_SUCCESS) a->buffer = buffer;
    else vkDestroyBuffer(w->device, buffer, NULL);
    write_pattern(w, a, policy);
}

/* Memory allocated first and bound later at an offset inside it: the layer may
 * have to move the slice to the buffer's alignment at the bind. */
static void step_raw_then_bind(workload *w, fault_policy policy) {
    w->step_name = "raw then bind";
    VkDeviceSize size = 4096 + robust_rng_below(&w->rng, 60 * 1024);
    uint32_t type = pick_type(w, UINT32_MAX, true);
    if (type == UINT32_MAX) return;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result;
    ATTEMPT(result, w, policy, ALLOCATE_ERRORS, robust_allocate(w->device, size, type, &memory));
    if (result != VK_SUCCESS) return;
    workload_allocation *a = add_live(w, memory, size, type);
    VkBuffer buffer;
    EXPECT(robust_create_buffer(w->device, size / 4, &buffer) == VK_SUCCESS, "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(w->device, buffer, &req);
    VkDeviceSize offset = align_up(size / 4, req.alignment);
    if (offset + req.size > size) offset = 0;
    result = VK_ERROR_FEATURE_NOT_PRESENT;
    if (req.memoryTypeBits & (1u << type))
        ATTEMPT(result, w, policy, BIND_ERRORS, vkBindBufferMemory(w->device, buffer, memory, offset));
    if (result == VK_SUCCESS) a->buffer = buffer;
    else vkDestroyBuffer(w->device, buffer, NULL);
    write_pattern(w, a, policy);
}

static void step_image(workload *w, fault_policy policy) {
    w->step_name = "image";
    uint32_t side = 16u << robust_rng_below(&w->rng, 4);
    VkImageCreateInfo info =
        robust_image_info(side, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT);
    VkImage image;
    EXPECT(vkCreateImage(w->device, &info, NULL, &image) == VK_SUCCESS, "vkCreateImage");
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(w->device, image, &req);
    uint32_t type = pick_type(w, req.memoryTypeBits, false);
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result;
    ATTEMPT(result, w, policy, ALLOCATE_ERRORS, robust_allocate(w->device, req.size, type, &memory));
    if (result != VK_SUCCESS) {
        vkDestroyImage(w->device, image, NULL);
        return;
    }
    workload_allocation *a = add_live(w, memory, req.size, type);
    ATTEMPT(result, w, policy, BIND_ERRORS, vkBindImageMemory(w->device, image, memory, 0));
    if (result == VK_SUCCESS) a->image = image;
    else vkDestroyImage(w->device, image, NULL);
}

/* Above the dedicated threshold: the layer passes it to the driver. */
static void step_large(workload *w, fault_policy policy) {
    w->step_name = "large";
    uint32_t type = pick_type(w, UINT32_MAX, true);
    if (type == UINT32_MAX) return;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result;
    ATTEMPT(result, w, policy, ALLOCATE_ERRORS, robust_allocate(w->device, w->large_size, type, &memory));
    if (result != VK_SUCCESS) return;
    write_pattern(w, add_live(w, memory, w->large_size, type), policy);
}

/* Unmap, map again, check, write anew. */
static void step_remap(workload *w, fault_policy policy) {
    w->step_name = "remap";
    if (w->live_count == 0) return;
    workload_allocation *a = &w->live[robust_rng_below(&w->rng, w->live_count)];
    if (!a->written) return;
    if (a->mapped != NULL) {
        vkUnmapMemory(w->device, a->memory);
        a->mapped = NULL;
    }
    if (verify(w, a, policy)) write_pattern(w, a, policy);
}

static void step_free(workload *w, fault_policy policy) {
    w->step_name = "free";
    if (w->live_count == 0) return;
    workload_allocation *a = &w->live[robust_rng_below(&w->rng, w->live_count)];
    if (!verify(w, a, policy)) return; /* unreachable now; checked at the end */
    release(w, a);
    forget(w, a);
}

void workload_run(workload *w, uint32_t steps, fault_policy policy) {
    for (uint32_t i = 0; i < steps; i++) {
        uint64_t dice = robust_rng_below(&w->rng, 100);
        if (w->live_count + 1 >= WORKLOAD_MAX_LIVE || (dice >= 78 && w->live_count > 4)) step_free(w, policy);
        else if (dice < 40) step_buffer(w, policy);
        else if (dice < 50) step_raw_then_bind(w, policy);
        else if (dice < 55) step_image(w, policy);
        else if (dice < 58) step_large(w, policy);
        else step_remap(w, policy);
    }
}

void workload_finish(workload *w) {
    w->step_name = "finish";
    while (w->live_count > 0) {
        workload_allocation *a = &w->live[w->live_count - 1];
        verify(w, a, FAULT_POLICY_NONE);
        release(w, a);
        w->live_count--;
    }
}
