/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_first_bind_race: the first bind or map of an allocation, made by several
 * threads at once, fixes the allocation's bytes once for everyone: what the host
 * wrote through vkMapMemory is what the GPU reads through a buffer bound to the
 * same memory, whichever thread came first.
 *
 * Vulkan lets threads bind resources into one VkDeviceMemory at once (memory is
 * not externally synchronised for binds), and lets one thread map it while
 * others bind. The layer may move an allocation's slice to a more aligned place
 * at its first bind when nothing was bound or mapped yet; a bind that needs no
 * move, or a map, fixes the slice where it is. Each round here allocates
 * sixteen small host-visible allocations, each smaller than the alignment of a small
 * optimal image where the device allows it (the strict device with
 * STRICT_DEVICE_UNTILED_IMAGES=1: 1 KiB images aligned to 64 KiB), so that an
 * image's first bind must move the slice, and then, released together:
 *   - the mapper maps every allocation (at offset 0 or at an atom further),
 *     writes a pattern of its own, flushes where the type is not coherent, and
 *     keeps or unmaps the mapping;
 *   - the buffer binder binds a buffer over the whole allocation at offset 0,
 *     one vkBindBufferMemory per allocation or one vkBindBufferMemory2 array
 *     over all sixteen;
 *   - the image binder binds an optimal image at offset 0 of every allocation
 *     (aliasing the buffer, which is valid), with vkBindImageMemory or
 *     vkBindImageMemory2;
 *   - the array binder binds vkBindImageMemory2 arrays of three images over two
 *     allocations, two of them aliased in the same allocation;
 *   - the churner, in the same pool, allocates sixteen allocations of its own,
 *     binds an image at 0 of each first (nothing else touches them: these binds
 *     must succeed, and may move the slice), maps them and writes its own
 *     pattern, checks it at the end and frees them: a slice that a move hands
 *     out twice shows up in its bytes or in the others'.
 * The five threads start together (spinning, not woken one by one by a
 * barrier); in two rounds of three they meet again before each allocation, so
 * that they reach it at once, else each goes through them in an order of its
 * own. The program prints how many image binds came before any map or buffer
 * bind of their memory (those need a move) and how many overlapped one. The thread
 * that allocates sometimes asks first for a buffer's or an image's requirements
 * of that size (the layer uses what the allocating thread asked), else for
 * nothing that matches.
 *
 * Afterwards the GPU copies every buffer into a readback buffer, and the bytes
 * must be the mapper's pattern; then a second pattern written through the kept
 * mapping (or a new one, which must still show the first pattern) must reach the
 * GPU the same way.
 *
 * Every bind and map must succeed, except the one refusal README's Placement
 * documents: an image whose alignment exceeds the whole allocation's size, bound
 * at 0 into memory already pinned by a buffer bind or a map, may get
 * VK_ERROR_OUT_OF_DEVICE_MEMORY. It is tolerated only when the image's
 * alignment does exceed the allocation's size and a buffer bind or a map of that
 * memory had begun before the refused call returned; a refusal with neither
 * fails. ThreadSanitizer (CI's "threads" label) must report nothing.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robust_vk.h"

#define MEMORIES 16u
#define SIZE_CHOICES 4u
#define DEFAULT_ROUNDS 1500u
#define ARRAY_IMAGES 3u /* per vkBindImageMemory2 array of the array binder: memories i, i + 1, i */
#define PAIRS (MEMORIES / 2u)

typedef enum role { ROLE_MAPPER, ROLE_BUFFERS, ROLE_IMAGES, ROLE_IMAGE_ARRAYS, ROLE_CHURNER, ROLES } role;

/* What the allocating thread asked just before allocating. */
typedef enum hint { HINT_UNRELATED, HINT_BUFFER_OF_SIZE, HINT_IMAGE } hint;

typedef struct round_plan {
    uint64_t number;
    uint32_t type;
    VkDeviceSize size;       /* of every allocation and buffer */
    VkDeviceSize map_offset; /* where the mapper maps and writes from */
    bool keep_mapped;        /* the mapper leaves its mapping for the checks */
    bool free_mapped;        /* the checks leave the mapping to vkFreeMemory's implicit unmap */
    bool buffer_array;       /* one vkBindBufferMemory2 over every memory */
    bool image_bind2;        /* the image binder goes through vkBindImageMemory2 */
    bool lockstep;           /* every thread visits the memories in the same order */
    hint hint;
} round_plan;

typedef struct shared {
    const robust_vk *vk;
    VkDevice device;
    VkQueue queue;
    VkMemoryRequirements image_needs; /* learned on a thread that never allocates */
    uint32_t types[VK_MAX_MEMORY_TYPES];
    uint32_t type_count;
    VkDeviceSize sizes[SIZE_CHOICES];
    VkDeviceSize atom_offset; /* a map offset that is a whole number of atoms */
    uint64_t rounds;
    bool stop; /* written before `ready`: the workers leave */
    pthread_barrier_t ready, go, done;
    _Atomic uint32_t arrived;              /* after `go`, the workers spin until all are here */
    _Atomic uint32_t arrived_at[MEMORIES]; /* and in lockstep rounds before each memory */

    /* This round: written by the main thread before `ready`, by the workers
     * between `go` and `done`, read by the main thread after `done`. */
    round_plan plan;
    VkDeviceMemory memory[MEMORIES];
    VkBuffer buffers[MEMORIES];
    bool buffer_bound[MEMORIES];
    bool written[MEMORIES];
    unsigned char *mapped[MEMORIES]; /* the mapper's pointer (at map_offset), when kept */
    VkImage images[MEMORIES];
    VkImage array_images[PAIRS][ARRAY_IMAGES];
    /* Set just before, and just after, the calls that pin a memory where it is. */
    _Atomic bool map_started[MEMORIES], buffer_bind_started[MEMORIES];
    _Atomic bool map_returned[MEMORIES], buffer_bind_returned[MEMORIES];

    _Atomic uint64_t maps, buffer_binds, image_binds, documented_refusals;
    /* Image bind calls that overlapped a map or buffer bind of their memory: real races. */
    _Atomic uint64_t contended_image_binds;
    /* Image bind calls that began before any map or buffer bind of their memory. */
    _Atomic uint64_t first_image_binds;
} shared;

typedef struct worker {
    shared *shared;
    role role;
    /* The churner's own allocations of the round, each with an image bound first. */
    VkDeviceMemory own[MEMORIES];
    VkImage own_images[MEMORIES];
    unsigned char *own_mapped[MEMORIES];
} worker;

static VkImageCreateInfo small_image(void) {
    return robust_image_info(16, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT);
}

static uint64_t pattern_seed(uint64_t round, uint32_t memory, uint32_t which) {
    return (round << 8) | ((uint64_t)memory << 1) | which;
}

static bool coherent(const shared *s) {
    return robust_type_has(s->vk, s->plan.type, VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
}

/* The k-th allocation a thread visits: in lockstep rounds the same for every
 * thread (so that they meet on each memory), else each role has its own order. */
static uint32_t visit(const shared *s, role r, uint32_t k) {
    static const uint32_t steps[ROLES] = {1, 3, 5, 7, 9}; /* odd: each visits all of them */
    if (s->plan.lockstep) return (uint32_t)((s->plan.number + k) % MEMORIES);
    return (uint32_t)((s->plan.number + 2u * r + (uint64_t)k * steps[r]) % MEMORIES);
}

static void sync_mapped(shared *s, VkDeviceMemory memory, VkDeviceSize offset, bool flush, const char *who) {
    if (coherent(s)) return;
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .offset = offset, .size = VK_WHOLE_SIZE};
    VkResult result =
        flush ? vkFlushMappedMemoryRanges(s->device, 1, &range) : vkInvalidateMappedMemoryRanges(s->device, 1, &range);
    EXPECT(result == VK_SUCCESS, "%s: %s returned %s", who, flush ? "flush" : "invalidate", robust_result_name(result));
}

/* ---- the racing threads ------------------------------------------------------------------ */

/* Whether the layer may refuse this image bind (README, Placement): the image's
 * alignment exceeds the allocation, and one of its memories was being pinned by
 * a buffer bind or a map before the refused call returned. */
static bool pin_begun(shared *s, const uint32_t *memories, uint32_t count) {
    for (uint32_t i = 0; i < count; i++)
        if (atomic_load(&s->map_started[memories[i]]) || atomic_load(&s->buffer_bind_started[memories[i]])) return true;
    return false;
}

static bool refusal_documented(shared *s, const uint32_t *memories, uint32_t count) {
    return s->image_needs.alignment > s->plan.size && pin_begun(s, memories, count);
}

/* Whether a map or buffer bind of one of the memories has begun and not returned. */
static bool pin_in_flight(shared *s, const uint32_t *memories, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) {
        uint32_t m = memories[i];
        if ((atomic_load(&s->map_started[m]) && !atomic_load(&s->map_returned[m])) ||
            (atomic_load(&s->buffer_bind_started[m]) && !atomic_load(&s->buffer_bind_returned[m])))
            return true;
    }
    return false;
}

/* What was under way on an image bind's memories when the call began. */
typedef struct before_bind {
    bool pin_begun, pin_in_flight;
} before_bind;

static before_bind look_before(shared *s, const uint32_t *memories, uint32_t count) {
    return (before_bind){pin_begun(s, memories, count), pin_in_flight(s, memories, count)};
}

static void check_image_bind(shared *s, VkResult result, before_bind before, const uint32_t *memories, uint32_t count,
                             const char *how) {
    atomic_fetch_add(&s->image_binds, count);
    if (before.pin_in_flight || pin_in_flight(s, memories, count) ||
        (!before.pin_begun && pin_begun(s, memories, count)))
        atomic_fetch_add(&s->contended_image_binds, 1);
    if (!before.pin_begun) atomic_fetch_add(&s->first_image_binds, 1);
    if (result == VK_SUCCESS) return;
    if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY && refusal_documented(s, memories, count)) {
        atomic_fetch_add(&s->documented_refusals, 1);
        return;
    }
    EXPECT(false,
           "round %llu: %s of %u image(s) at offset 0 of memory %u (%llu bytes, type %u; images need %llu-byte "
           "alignment) returned %s; map begun: %d, buffer bind begun: %d",
           (unsigned long long)s->plan.number, how, count, memories[0], (unsigned long long)s->plan.size, s->plan.type,
           (unsigned long long)s->image_needs.alignment, robust_result_name(result),
           (int)atomic_load(&s->map_started[memories[0]]), (int)atomic_load(&s->buffer_bind_started[memories[0]]));
}

static VkImage make_image(shared *s, const char *who) {
    VkImageCreateInfo info = small_image();
    VkImage image = VK_NULL_HANDLE;
    VkResult result = vkCreateImage(s->device, &info, NULL, &image);
    EXPECT(result == VK_SUCCESS, "%s: vkCreateImage returned %s", who, robust_result_name(result));
    if (result != VK_SUCCESS) return VK_NULL_HANDLE;
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(s->device, image, &needs);
    EXPECT(needs.size <= s->plan.size && (needs.memoryTypeBits & (1u << s->plan.type)),
           "%s: the image (%llu bytes, types 0x%x) does not fit %llu bytes of type %u", who,
           (unsigned long long)needs.size, needs.memoryTypeBits, (unsigned long long)s->plan.size, s->plan.type);
    return image;
}

static void map_and_write(shared *s, uint32_t i) {
    const round_plan *p = &s->plan;
    atomic_store(&s->map_started[i], true);
    void *data = NULL;
    VkResult result = vkMapMemory(s->device, s->memory[i], p->map_offset, VK_WHOLE_SIZE, 0, &data);
    atomic_store(&s->map_returned[i], true);
    EXPECT(result == VK_SUCCESS, "round %llu: vkMapMemory of memory %u returned %s", (unsigned long long)p->number, i,
           robust_result_name(result));
    if (result != VK_SUCCESS) return;
    atomic_fetch_add(&s->maps, 1);
    robust_fill(data, (size_t)(p->size - p->map_offset), pattern_seed(p->number, i, 0));
    sync_mapped(s, s->memory[i], p->map_offset, true, "mapper");
    s->written[i] = true;
    if (p->keep_mapped) s->mapped[i] = data;
    else vkUnmapMemory(s->device, s->memory[i]);
}

static void prepare_buffers(shared *s) {
    for (uint32_t i = 0; i < MEMORIES; i++) {
        VkResult result = robust_create_buffer(s->device, s->plan.size, &s->buffers[i]);
        EXPECT(result == VK_SUCCESS, "vkCreateBuffer returned %s", robust_result_name(result));
        if (result != VK_SUCCESS) {
            s->buffers[i] = VK_NULL_HANDLE;
            continue;
        }
        VkMemoryRequirements needs;
        vkGetBufferMemoryRequirements(s->device, s->buffers[i], &needs);
        EXPECT(needs.size <= s->plan.size && (needs.memoryTypeBits & (1u << s->plan.type)),
               "a buffer of %llu bytes needs %llu bytes, types 0x%x (type %u)", (unsigned long long)s->plan.size,
               (unsigned long long)needs.size, needs.memoryTypeBits, s->plan.type);
    }
}

/* The buffer binder's k-th step: one vkBindBufferMemory, or (at the first step)
 * one vkBindBufferMemory2 array over every memory in the binder's order. */
static void bind_buffers(shared *s, uint32_t k, uint32_t i) {
    const round_plan *p = &s->plan;
    if (p->buffer_array) {
        if (k != 0) return;
        VkBindBufferMemoryInfo infos[MEMORIES];
        for (uint32_t n = 0; n < MEMORIES; n++) {
            uint32_t m = visit(s, ROLE_BUFFERS, n);
            infos[n] = (VkBindBufferMemoryInfo){
                .sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, .buffer = s->buffers[m], .memory = s->memory[m]};
            atomic_store(&s->buffer_bind_started[m], true);
        }
        VkResult result = vkBindBufferMemory2(s->device, MEMORIES, infos);
        for (uint32_t m = 0; m < MEMORIES; m++) atomic_store(&s->buffer_bind_returned[m], true);
        EXPECT(result == VK_SUCCESS, "round %llu: vkBindBufferMemory2 of %u buffers returned %s",
               (unsigned long long)p->number, MEMORIES, robust_result_name(result));
        for (uint32_t m = 0; m < MEMORIES; m++) s->buffer_bound[m] = result == VK_SUCCESS;
        if (result == VK_SUCCESS) atomic_fetch_add(&s->buffer_binds, MEMORIES);
        return;
    }
    atomic_store(&s->buffer_bind_started[i], true);
    VkResult result = vkBindBufferMemory(s->device, s->buffers[i], s->memory[i], 0);
    atomic_store(&s->buffer_bind_returned[i], true);
    EXPECT(result == VK_SUCCESS, "round %llu: vkBindBufferMemory into memory %u returned %s",
           (unsigned long long)p->number, i, robust_result_name(result));
    s->buffer_bound[i] = result == VK_SUCCESS;
    if (result == VK_SUCCESS) atomic_fetch_add(&s->buffer_binds, 1);
}

static void prepare_images(shared *s) {
    for (uint32_t i = 0; i < MEMORIES; i++) s->images[i] = make_image(s, "image binder");
}

static void bind_image(shared *s, uint32_t i) {
    before_bind before = look_before(s, &i, 1);
    VkResult result;
    if (s->plan.image_bind2) {
        VkBindImageMemoryInfo info = {
            .sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO, .image = s->images[i], .memory = s->memory[i]};
        result = vkBindImageMemory2(s->device, 1, &info);
    } else {
        result = vkBindImageMemory(s->device, s->images[i], s->memory[i], 0);
    }
    check_image_bind(s, result, before, &i, 1, s->plan.image_bind2 ? "vkBindImageMemory2" : "vkBindImageMemory");
}

static void prepare_image_arrays(shared *s) {
    for (uint32_t pair = 0; pair < PAIRS; pair++)
        for (uint32_t j = 0; j < ARRAY_IMAGES; j++) s->array_images[pair][j] = make_image(s, "array binder");
}

/* One vkBindImageMemory2 array: images at 0 of memories 2 pair, 2 pair + 1 and
 * again 2 pair (aliased with the first). */
static void bind_image_array(shared *s, uint32_t pair) {
    uint32_t memories[ARRAY_IMAGES] = {2 * pair, 2 * pair + 1, 2 * pair};
    VkBindImageMemoryInfo infos[ARRAY_IMAGES];
    for (uint32_t j = 0; j < ARRAY_IMAGES; j++)
        infos[j] = (VkBindImageMemoryInfo){.sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO,
                                           .image = s->array_images[pair][j],
                                           .memory = s->memory[memories[j]]};
    before_bind before = look_before(s, memories, ARRAY_IMAGES);
    VkResult result = vkBindImageMemory2(s->device, ARRAY_IMAGES, infos);
    check_image_bind(s, result, before, memories, ARRAY_IMAGES, "a vkBindImageMemory2 array");
}

/* The churner's k-th step, in the same pool while the others race: allocate,
 * bind an image at 0 first (nothing else touches this memory: it must bind, and
 * may move the slice), then map and write a pattern of its own. Slices that the
 * others' moves hand out twice show up in its bytes or in theirs. */
static void churn(worker *w, uint32_t k) {
    shared *s = w->shared;
    const round_plan *p = &s->plan;
    uint64_t seed = pattern_seed(p->number, MEMORIES + k, 0);
    VkResult result = robust_allocate(s->device, p->size, p->type, &w->own[k]);
    EXPECT(result == VK_SUCCESS, "round %llu: the churner's vkAllocateMemory returned %s",
           (unsigned long long)p->number, robust_result_name(result));
    if (result != VK_SUCCESS) {
        w->own[k] = VK_NULL_HANDLE;
        return;
    }
    w->own_images[k] = make_image(s, "churner");
    result = vkBindImageMemory(s->device, w->own_images[k], w->own[k], 0);
    EXPECT(result == VK_SUCCESS, "round %llu: the churner's image bind into fresh memory returned %s",
           (unsigned long long)p->number, robust_result_name(result));
    void *data = NULL;
    result = vkMapMemory(s->device, w->own[k], 0, VK_WHOLE_SIZE, 0, &data);
    EXPECT(result == VK_SUCCESS, "round %llu: the churner's vkMapMemory returned %s", (unsigned long long)p->number,
           robust_result_name(result));
    if (result != VK_SUCCESS) return;
    robust_fill(data, (size_t)p->size, seed);
    w->own_mapped[k] = data;
}

/* Still in the race: the churner's bytes are its own; then it frees them. */
static void churn_end(worker *w) {
    shared *s = w->shared;
    const round_plan *p = &s->plan;
    for (uint32_t k = 0; k < MEMORIES; k++) {
        if (w->own_mapped[k] != NULL) {
            size_t wrong =
                robust_count_wrong(w->own_mapped[k], (size_t)p->size, pattern_seed(p->number, MEMORIES + k, 0));
            EXPECT(wrong == 0, "round %llu: %zu of %llu bytes of the churner's allocation %u changed",
                   (unsigned long long)p->number, wrong, (unsigned long long)p->size, k);
            vkUnmapMemory(s->device, w->own[k]);
        }
        vkDestroyImage(s->device, w->own_images[k], NULL);
        vkFreeMemory(s->device, w->own[k], NULL);
        w->own[k] = VK_NULL_HANDLE;
        w->own_images[k] = VK_NULL_HANDLE;
        w->own_mapped[k] = NULL;
    }
}

/* A barrier wakes its threads one by one, tens of microseconds apart, time for
 * one thread to get through many calls alone: the workers spin instead, at the
 * start and, in lockstep rounds, before each memory. */
static void meet(_Atomic uint32_t *arrived) {
    atomic_fetch_add(arrived, 1);
    for (uint32_t spins = 0; atomic_load(arrived) < ROLES; spins++)
        if (spins % 256 == 255) sched_yield(); /* more threads than cores: let the late ones run */
}

static void race(worker *w) {
    shared *s = w->shared;
    bool pair_done[PAIRS] = {false};
    meet(&s->arrived);
    for (uint32_t k = 0; k < MEMORIES; k++) {
        uint32_t i = visit(s, w->role, k);
        if (s->plan.lockstep) meet(&s->arrived_at[i]);
        switch (w->role) {
        case ROLE_MAPPER: map_and_write(s, i); break;
        case ROLE_BUFFERS: bind_buffers(s, k, i); break;
        case ROLE_IMAGES: bind_image(s, i); break;
        case ROLE_IMAGE_ARRAYS:
            if (!pair_done[i / 2]) bind_image_array(s, i / 2);
            pair_done[i / 2] = true;
            break;
        case ROLE_CHURNER: churn(w, k); break;
        case ROLES: break;
        }
    }
    if (w->role == ROLE_CHURNER) churn_end(w);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    shared *s = w->shared;
    for (;;) {
        pthread_barrier_wait(&s->ready);
        if (s->stop) break;
        switch (w->role) {
        case ROLE_MAPPER: break;
        case ROLE_BUFFERS: prepare_buffers(s); break;
        case ROLE_IMAGES: prepare_images(s); break;
        case ROLE_IMAGE_ARRAYS: prepare_image_arrays(s); break;
        case ROLE_CHURNER: break;
        case ROLES: break;
        }
        pthread_barrier_wait(&s->go);
        race(w);
        pthread_barrier_wait(&s->done);
    }
    return NULL;
}

/* ---- the main thread: plan, allocate, check ------------------------------------------------- */

typedef struct readback {
    VkDeviceMemory memory;
    VkBuffer buffer;
    const unsigned char *bytes;
    VkCommandPool pool;
    VkCommandBuffer commands;
    VkFence fence;
} readback;

static bool readback_create(shared *s, readback *r) {
    VkDevice d = s->device;
    VkDeviceSize bytes = MEMORIES * s->sizes[SIZE_CHOICES - 1];
    uint32_t type =
        robust_find_memory_type(s->vk, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
    if (type == UINT32_MAX || robust_create_buffer(d, bytes, &r->buffer) != VK_SUCCESS) return false;
    VkMemoryRequirements needs;
    vkGetBufferMemoryRequirements(d, r->buffer, &needs);
    if (!(needs.memoryTypeBits & (1u << type)) || robust_allocate(d, needs.size, type, &r->memory) != VK_SUCCESS ||
        vkBindBufferMemory(d, r->buffer, r->memory, 0) != VK_SUCCESS)
        return false;
    void *data;
    if (vkMapMemory(d, r->memory, 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS) return false;
    r->bytes = data;
    VkCommandPoolCreateInfo pool = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                    .queueFamilyIndex = s->vk->queue_family};
    if (vkCreateCommandPool(d, &pool, NULL, &r->pool) != VK_SUCCESS) return false;
    VkCommandBufferAllocateInfo allocate = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                            .commandPool = r->pool,
                                            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                            .commandBufferCount = 1};
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    return vkAllocateCommandBuffers(d, &allocate, &r->commands) == VK_SUCCESS &&
           vkCreateFence(d, &fence, NULL, &r->fence) == VK_SUCCESS;
}

static void readback_destroy(shared *s, readback *r) {
    VkDevice d = s->device;
    vkDestroyFence(d, r->fence, NULL);
    vkDestroyCommandPool(d, r->pool, NULL);
    vkDestroyBuffer(d, r->buffer, NULL);
    vkFreeMemory(d, r->memory, NULL);
}

/* The GPU copies every bound buffer whole into the readback buffer. */
static bool copy_buffers_out(shared *s, readback *r) {
    VkDeviceSize stride = s->sizes[SIZE_CHOICES - 1];
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (vkResetCommandBuffer(r->commands, 0) != VK_SUCCESS || vkBeginCommandBuffer(r->commands, &begin) != VK_SUCCESS)
        return false;
    for (uint32_t i = 0; i < MEMORIES; i++) {
        if (!s->buffer_bound[i]) continue;
        VkBufferCopy region = {.srcOffset = 0, .dstOffset = i * stride, .size = s->plan.size};
        vkCmdCopyBuffer(r->commands, s->buffers[i], r->buffer, 1, &region);
    }
    VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(r->commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0,
                         NULL, 0, NULL);
    if (vkEndCommandBuffer(r->commands) != VK_SUCCESS) return false;
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &r->commands};
    VkResult result = vkQueueSubmit(s->queue, 1, &submit, r->fence);
    if (result == VK_SUCCESS) result = vkWaitForFences(s->device, 1, &r->fence, VK_TRUE, UINT64_MAX);
    if (result == VK_SUCCESS) result = vkResetFences(s->device, 1, &r->fence);
    EXPECT(result == VK_SUCCESS, "round %llu: the copy returned %s", (unsigned long long)s->plan.number,
           robust_result_name(result));
    return result == VK_SUCCESS;
}

/* Whether the bytes the GPU read from memory i, from map_offset on, are pattern `which`. */
static void expect_gpu_saw(shared *s, const readback *r, uint32_t i, uint32_t which, const char *when) {
    const round_plan *p = &s->plan;
    const unsigned char *bytes = r->bytes + i * s->sizes[SIZE_CHOICES - 1] + p->map_offset;
    size_t length = (size_t)(p->size - p->map_offset);
    size_t wrong = robust_count_wrong(bytes, length, pattern_seed(p->number, i, which));
    EXPECT(wrong == 0,
           "round %llu, %s: the GPU read %zu of %zu bytes of memory %u other than the host wrote (%llu bytes, type "
           "%u, mapped at %llu, %s, buffers %s, hint %d)",
           (unsigned long long)p->number, when, wrong, length, i, (unsigned long long)p->size, p->type,
           (unsigned long long)p->map_offset, p->keep_mapped ? "kept mapped" : "unmapped",
           p->buffer_array ? "in one array" : "one by one", (int)p->hint);
}

/* After the race: the GPU sees the mapper's bytes; then bytes written through
 * the kept mapping (or a new one, which still shows the mapper's) reach it too. */
static void check_round(shared *s, readback *r) {
    const round_plan *p = &s->plan;
    size_t length = (size_t)(p->size - p->map_offset);
    if (!copy_buffers_out(s, r)) return;
    for (uint32_t i = 0; i < MEMORIES; i++)
        if (s->buffer_bound[i] && s->written[i]) expect_gpu_saw(s, r, i, 0, "after the race");

    for (uint32_t i = 0; i < MEMORIES; i++) {
        unsigned char *at = s->mapped[i];
        if (at == NULL) {
            void *data = NULL;
            VkResult result = vkMapMemory(s->device, s->memory[i], 0, VK_WHOLE_SIZE, 0, &data);
            EXPECT(result == VK_SUCCESS, "round %llu: the second vkMapMemory of memory %u returned %s",
                   (unsigned long long)p->number, i, robust_result_name(result));
            if (result != VK_SUCCESS) continue;
            sync_mapped(s, s->memory[i], 0, false, "second map");
            at = (unsigned char *)data + p->map_offset;
            s->mapped[i] = at;
            if (s->written[i]) {
                size_t wrong = robust_count_wrong(at, length, pattern_seed(p->number, i, 0));
                EXPECT(wrong == 0, "round %llu: a second map of memory %u shows %zu of %zu bytes changed",
                       (unsigned long long)p->number, i, wrong, length);
            }
        }
        robust_fill(at, length, pattern_seed(p->number, i, 1));
        sync_mapped(s, s->memory[i], p->map_offset, true, "second write");
    }
    if (!copy_buffers_out(s, r)) return;
    for (uint32_t i = 0; i < MEMORIES; i++)
        if (s->buffer_bound[i] && s->mapped[i] != NULL) expect_gpu_saw(s, r, i, 1, "written after the race");
}

static void end_round(shared *s) {
    for (uint32_t i = 0; i < MEMORIES; i++) {
        vkDestroyBuffer(s->device, s->buffers[i], NULL);
        vkDestroyImage(s->device, s->images[i], NULL);
        if (s->mapped[i] != NULL && !s->plan.free_mapped) vkUnmapMemory(s->device, s->memory[i]);
        vkFreeMemory(s->device, s->memory[i], NULL); /* unmaps what is still mapped */
    }
    for (uint32_t pair = 0; pair < PAIRS; pair++)
        for (uint32_t j = 0; j < ARRAY_IMAGES; j++) vkDestroyImage(s->device, s->array_images[pair][j], NULL);
}

static round_plan plan_round(const shared *s, uint64_t round) {
    robust_rng rng = {.state = round * 0x9E3779B97F4A7C15ull + 1};
    round_plan p = {
        .number = round,
        .type = s->types[round % s->type_count],
        .size = s->sizes[(round / s->type_count) % SIZE_CHOICES],
        .keep_mapped = robust_rng_below(&rng, 2) == 0,
        .free_mapped = robust_rng_below(&rng, 2) == 0,
        .buffer_array = robust_rng_below(&rng, 3) == 0,
        .image_bind2 = robust_rng_below(&rng, 2) == 0,
        .hint = (hint)robust_rng_below(&rng, 3),
        .lockstep = robust_rng_below(&rng, 3) != 0,
    };
    if (robust_rng_below(&rng, 3) == 0 && s->atom_offset < p.size) p.map_offset = s->atom_offset;
    return p;
}

/* The round's allocations, each made after the query the plan names. */
static bool allocate_round(shared *s) {
    const round_plan *p = &s->plan;
    VkBuffer buffer;
    VkImage image;
    VkMemoryRequirements asked;
    switch (p->hint) {
    case HINT_UNRELATED:
    case HINT_BUFFER_OF_SIZE:
        if (robust_create_buffer(s->device, p->hint == HINT_UNRELATED ? 3 * p->size + 12 : p->size, &buffer) !=
            VK_SUCCESS)
            return false;
        vkGetBufferMemoryRequirements(s->device, buffer, &asked);
        vkDestroyBuffer(s->device, buffer, NULL);
        break;
    case HINT_IMAGE: {
        VkImageCreateInfo info = small_image();
        if (vkCreateImage(s->device, &info, NULL, &image) != VK_SUCCESS) return false;
        vkGetImageMemoryRequirements(s->device, image, &asked);
        vkDestroyImage(s->device, image, NULL);
        break;
    }
    }
    for (uint32_t i = 0; i < MEMORIES; i++)
        if (robust_allocate(s->device, p->size, p->type, &s->memory[i]) != VK_SUCCESS) return false;
    return true;
}

static void reset_round(shared *s) {
    memset(s->memory, 0, sizeof s->memory);
    memset(s->buffers, 0, sizeof s->buffers);
    memset(s->buffer_bound, 0, sizeof s->buffer_bound);
    memset(s->written, 0, sizeof s->written);
    memset(s->mapped, 0, sizeof s->mapped);
    memset(s->images, 0, sizeof s->images);
    memset(s->array_images, 0, sizeof s->array_images);
    atomic_store(&s->arrived, 0);
    for (uint32_t i = 0; i < MEMORIES; i++) {
        atomic_store(&s->arrived_at[i], 0);
        atomic_store(&s->map_returned[i], false);
        atomic_store(&s->buffer_bind_returned[i], false);
        atomic_store(&s->map_started[i], false);
        atomic_store(&s->buffer_bind_started[i], false);
    }
}

/* ---- what the device offers, learned on a thread that never allocates -------------------- */

static VkDeviceSize round_up(VkDeviceSize value, VkDeviceSize to) { return (value + to - 1) / to * to; }

static void *learn_main(void *arg) {
    shared *s = arg;
    VkImageCreateInfo info = small_image();
    VkImage image;
    VkBuffer buffer;
    if (vkCreateImage(s->device, &info, NULL, &image) != VK_SUCCESS) return NULL;
    vkGetImageMemoryRequirements(s->device, image, &s->image_needs);
    vkDestroyImage(s->device, image, NULL);
    if (robust_create_buffer(s->device, 4096, &buffer) != VK_SUCCESS) return NULL;
    VkMemoryRequirements buffer_needs;
    vkGetBufferMemoryRequirements(s->device, buffer, &buffer_needs);
    vkDestroyBuffer(s->device, buffer, NULL);
    uint32_t both = s->image_needs.memoryTypeBits & buffer_needs.memoryTypeBits;
    for (uint32_t t = 0; t < s->vk->memory.memoryTypeCount; t++)
        if ((both & (1u << t)) && robust_type_has(s->vk, t, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            !robust_type_has(s->vk, t, VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT))
            s->types[s->type_count++] = t;
    /* Allocations the image fits, from exactly its size up; where the device
     * aligns images more than that, every one is below the image's alignment. */
    VkDeviceSize base = round_up(s->image_needs.size, 1024);
    VkDeviceSize multiples[SIZE_CHOICES] = {1, 3, 4, 40};
    for (uint32_t k = 0; k < SIZE_CHOICES; k++) s->sizes[k] = base * multiples[k];
    s->atom_offset = round_up(256, s->vk->properties.limits.nonCoherentAtomSize);
    return NULL;
}

int main(void) {
    robust_vk vk;
    robust_device dev;
    if (!robust_instance_create(&vk) || !robust_device_create(&vk, &dev)) return 1;
    shared s = {.vk = &vk, .device = dev.handle, .rounds = robust_env_u64("ROBUST_FIRST_BIND_ROUNDS", DEFAULT_ROUNDS)};
    vkGetDeviceQueue(s.device, vk.queue_family, 0, &s.queue);
    pthread_t learner;
    pthread_create(&learner, NULL, learn_main, &s);
    pthread_join(learner, NULL);
    EXPECT(s.type_count > 0, "no host-visible memory type takes both the image and the buffer");
    readback r = {0};
    bool have_readback = s.type_count > 0 && readback_create(&s, &r);
    EXPECT(have_readback, "could not make the readback buffer");
    if (!have_readback) return 1;
    printf("images need %llu bytes, %llu-byte alignment; allocations of %llu to %llu bytes in %u type(s)\n",
           (unsigned long long)s.image_needs.size, (unsigned long long)s.image_needs.alignment,
           (unsigned long long)s.sizes[0], (unsigned long long)s.sizes[SIZE_CHOICES - 1], s.type_count);

    pthread_barrier_init(&s.ready, NULL, ROLES + 1);
    pthread_barrier_init(&s.go, NULL, ROLES + 1);
    pthread_barrier_init(&s.done, NULL, ROLES + 1);
    worker workers[ROLES];
    pthread_t threads[ROLES];
    for (uint32_t t = 0; t < ROLES; t++) {
        workers[t] = (worker){.shared = &s, .role = (role)t};
        pthread_create(&threads[t], NULL, worker_main, &workers[t]);
    }
    /* Until the first round that fails: its output is the reproduction. */
    uint64_t round = 0;
    for (; round < s.rounds && robust_failures() == 0; round++) {
        reset_round(&s);
        s.plan = plan_round(&s, round);
        bool allocated = allocate_round(&s);
        EXPECT(allocated, "round %llu: allocating %u x %llu bytes of type %u failed", (unsigned long long)round,
               MEMORIES, (unsigned long long)s.plan.size, s.plan.type);
        if (allocated) {
            pthread_barrier_wait(&s.ready);
            pthread_barrier_wait(&s.go);
            pthread_barrier_wait(&s.done);
            check_round(&s, &r);
        }
        end_round(&s);
    }
    s.stop = true;
    pthread_barrier_wait(&s.ready);
    for (uint32_t t = 0; t < ROLES; t++) pthread_join(threads[t], NULL);

    uint64_t refusals = atomic_load(&s.documented_refusals), layer_messages = robust_layer_message_count();
    printf("%llu rounds: %llu maps, %llu buffer binds, %llu image binds; of the image bind calls %llu came before "
           "any map or buffer bind of their memory, %llu overlapped one; %llu refusals as documented, %llu layer "
           "messages\n",
           (unsigned long long)round, (unsigned long long)atomic_load(&s.maps),
           (unsigned long long)atomic_load(&s.buffer_binds), (unsigned long long)atomic_load(&s.image_binds),
           (unsigned long long)atomic_load(&s.first_image_binds),
           (unsigned long long)atomic_load(&s.contended_image_binds), (unsigned long long)refusals,
           (unsigned long long)layer_messages);
    EXPECT(atomic_load(&s.maps) == round * MEMORIES, "not every map succeeded");
    EXPECT(atomic_load(&s.buffer_binds) == round * MEMORIES, "not every buffer bind succeeded");
    EXPECT(layer_messages <= refusals, "the layer reported %llu messages for %llu refusals",
           (unsigned long long)layer_messages, (unsigned long long)refusals);
    if (robust_has_strict(&dev)) {
        StrictDeviceCounters c = robust_strict_counters(&dev);
        EXPECT(c.violations == 0, "the strict layer saw %llu violations", (unsigned long long)c.violations);
    }
    readback_destroy(&s, &r);
    pthread_barrier_destroy(&s.ready);
    pthread_barrier_destroy(&s.go);
    pthread_barrier_destroy(&s.done);
    robust_device_destroy(&dev);
    robust_instance_destroy(&vk);
    printf("first bind race: %s\n", robust_failures() == 0 ? "passed" : "FAILED");
    return robust_failures() == 0 ? 0 : 1;
}
