/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bind_after_query_redteam: vkBindBufferMemory / vkBindImageMemory after
 * "create, ask requirements on this thread, allocate, bind at 0" hold to the spec.
 *
 * Written from the outside (the Vulkan spec and engine patterns, not the
 * layer's code). The layer's quickest bind trusts what the thread just asked;
 * these cases bend that sequence: one query and several allocations, another
 * resource bound first over the same bytes, the query, allocation and bind on
 * three threads, handles the driver hands out again (between the allocation
 * and the bind, on other threads, across buffers and images, across devices,
 * and after the handle was destroyed 2^k times), the resource bound twice,
 * memory freed and allocated again, and two threads making the first binds of
 * one allocation at once. Every bind the driver alone accepts must work, and
 * the GPU must read and write the resource's bytes exactly where the app put
 * them (checked through a map of the memory, and the neighbours' bytes must
 * stay); every bind that must be refused (too large, past the end, misaligned,
 * freed memory, another device's memory, a type outside memoryTypeBits) must
 * get an error and a message from the layer and never reach the driver.
 *
 * Every case runs in its own child process on its own instance and device. The
 * chain is SUBALLOC_TEST_CHAIN: plain and strict have the layer; strict_only
 * (the strict device alone) proves each misuse is one (the device counts it)
 * and each valid call valid. STRICT_DEVICE_VIOLATIONS=count is set here.
 * Arguments: substrings of case names to run (all when none).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robust_gpu.h"

#define READBACK_SIZE (1024u * 1024u)
#define REUSE_TRIES 256u
#define REFUSED_BIND VK_ERROR_UNKNOWN

/* ---- the context every case gets ------------------------------------------------------------ */

typedef robust_gpu context;

/* ---- the GPU -------------------------------------------------------------------------------- */

/* ---- misuse: refused by the layer, or counted by the strict device alone ----------------------- */

/* A bind the spec forbids. With the layer: VK_ERROR_UNKNOWN, a message, and
 * nothing reached the driver. Without it: the strict device saw `kind` (proof
 * that the call is misuse; kind < 0: it has no rule for it). */
static void expect_refused(const context *c, const robust_watch *before, VkResult result, int kind, const char *what) {
    if (c->layer)
        EXPECT(result == REFUSED_BIND, "%s: the layer answered %s, not VK_ERROR_UNKNOWN", what,
               robust_result_name(result));
    else if (c->strict && kind >= 0)
        EXPECT(result != VK_SUCCESS, "%s: the strict device alone bound it (%s)", what, robust_result_name(result));
    robust_expect_refused(c, before, kind, what);
}

/* README (Placement) allows the layer one refusal of a valid bind: a resource
 * smaller than its own alignment, bound at 0 into memory whose slice a bind or
 * map pinned first: VK_ERROR_OUT_OF_DEVICE_MEMORY with a message, never a
 * misaligned bind. Whether result is that. */
static bool documented_refusal(const context *c, const robust_watch *before, VkResult result,
                               const VkMemoryRequirements *needs, bool pinned) {
    return c->layer && pinned && needs->size < needs->alignment && result == VK_ERROR_OUT_OF_DEVICE_MEMORY &&
           robust_layer_message_count() > before->messages && robust_violations_since(c, before, -1) == 0;
}

/* ---- resources ------------------------------------------------------------------------------- */

typedef enum kind { KIND_BUFFER, KIND_LINEAR, KIND_OPTIMAL, KIND_COUNT } kind;
static const char *const kind_names[KIND_COUNT] = {"buffer", "linear image", "optimal image"};

typedef struct resource {
    kind kind;
    uint64_t handle;
    VkDeviceSize bytes; /* a buffer's size */
    uint32_t side;      /* an image's width and height */
    bool host_layout;   /* a linear image moved to GENERAL already */
} resource;

/* A buffer of `size` bytes, or an image `size` texels wide. */
static VkResult create_raw(VkDevice device, kind k, uint32_t size, uint64_t *out) {
    *out = 0;
    if (k == KIND_BUFFER) {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkResult result = robust_create_buffer(device, size, &buffer);
        *out = (uint64_t)buffer;
        return result;
    }
    VkImageCreateInfo info =
        robust_transfer_image_info(size, k == KIND_LINEAR ? VK_IMAGE_TILING_LINEAR : VK_IMAGE_TILING_OPTIMAL);
    VkImage image = VK_NULL_HANDLE;
    VkResult result = vkCreateImage(device, &info, NULL, &image);
    *out = (uint64_t)image;
    return result;
}

static void destroy_raw(VkDevice device, kind k, uint64_t handle) {
    if (k == KIND_BUFFER) vkDestroyBuffer(device, (VkBuffer)handle, NULL);
    else vkDestroyImage(device, (VkImage)handle, NULL);
}

static resource resource_of(kind k, uint32_t size, uint64_t handle) {
    resource r = {.kind = k, .handle = handle};
    if (k == KIND_BUFFER) r.bytes = size;
    else r.side = size;
    return r;
}

static resource make(context *c, kind k, uint32_t size) {
    uint64_t handle = 0;
    VkResult result = create_raw(c->device, k, size, &handle);
    EXPECT(result == VK_SUCCESS, "creating a %s (%u) returned %s", kind_names[k], size, robust_result_name(result));
    return resource_of(k, size, handle);
}

static void destroy(context *c, resource *r) {
    if (r->handle != 0) destroy_raw(c->device, r->kind, r->handle);
    r->handle = 0;
}

static VkMemoryRequirements query_raw(VkDevice device, kind k, uint64_t handle) {
    VkMemoryRequirements needs = {0};
    if (k == KIND_BUFFER) vkGetBufferMemoryRequirements(device, (VkBuffer)handle, &needs);
    else vkGetImageMemoryRequirements(device, (VkImage)handle, &needs);
    return needs;
}

static VkMemoryRequirements query(context *c, const resource *r) { return query_raw(c->device, r->kind, r->handle); }

static VkResult bind_raw(VkDevice device, kind k, uint64_t handle, VkDeviceMemory memory, VkDeviceSize offset) {
    if (k == KIND_BUFFER) return vkBindBufferMemory(device, (VkBuffer)handle, memory, offset);
    return vkBindImageMemory(device, (VkImage)handle, memory, offset);
}

static VkResult bind(context *c, const resource *r, VkDeviceMemory memory, VkDeviceSize offset) {
    return bind_raw(c->device, r->kind, r->handle, memory, offset);
}

static unsigned char *map_whole(context *c, VkDeviceMemory memory, const char *what) {
    void *data = NULL;
    VkResult result = vkMapMemory(c->device, memory, 0, VK_WHOLE_SIZE, 0, &data);
    EXPECT(result == VK_SUCCESS && data != NULL, "%s: vkMapMemory returned %s", what, robust_result_name(result));
    return result == VK_SUCCESS ? data : NULL;
}

/* ---- where a bound resource really is ------------------------------------------------------------ */

/* Checks that r, bound at `offset` of memory whose whole mapping is `map`
 * (`size` bytes), reads and writes its bytes there and nowhere else in that
 * memory:
 *   buffer  the GPU reads what the host wrote at offset; then it writes a
 *           pattern, which the host must see at offset and nowhere else;
 *   linear  the host writes texels at offset + the subresource layout, the
 *           GPU must read them from the image; then the GPU writes texels,
 *           the host must see them there and nothing else changed;
 *   optimal a GPU upload and read back, which must change bytes inside
 *           [offset, offset + needs.size) and none outside. */
static void verify_placement(context *c, resource *r, unsigned char *map, VkDeviceSize size, VkDeviceSize offset,
                             const VkMemoryRequirements *needs, uint64_t seed, const char *what) {
    if (map == NULL) return;
    unsigned char *before = malloc((size_t)size), *expected = malloc((size_t)size);
    if (before == NULL || expected == NULL) {
        free(before);
        free(expected);
        return;
    }
    robust_fill(map, (size_t)size, seed);
    memcpy(before, map, (size_t)size);
    memcpy(expected, map, (size_t)size);
    if (r->kind == KIND_BUFFER) {
        VkDeviceSize bytes = r->bytes;
        VkBufferCopy out = {.srcOffset = 0, .dstOffset = 0, .size = bytes};
        if (robust_gpu_begin(c)) {
            vkCmdCopyBuffer(c->commands, (VkBuffer)r->handle, c->readback, 1, &out);
            if (robust_gpu_submit(c, what))
                EXPECT(memcmp(c->readback_bytes, map + offset, (size_t)bytes) == 0,
                       "%s: the GPU reads other bytes through the %s than the host wrote at its offset %llu", what,
                       kind_names[r->kind], (unsigned long long)offset);
        }
        robust_fill(c->readback_bytes, (size_t)bytes, seed ^ 0x5EED);
        memcpy(expected + offset, c->readback_bytes, (size_t)bytes);
        VkBufferCopy in = {.srcOffset = 0, .dstOffset = 0, .size = bytes};
        if (robust_gpu_begin(c)) {
            vkCmdCopyBuffer(c->commands, c->readback, (VkBuffer)r->handle, 1, &in);
            if (robust_gpu_submit(c, what)) {
                EXPECT(memcmp(map + offset, expected + offset, (size_t)bytes) == 0,
                       "%s: the GPU's write through the %s is not at its offset %llu", what, kind_names[r->kind],
                       (unsigned long long)offset);
                EXPECT(memcmp(map, expected, (size_t)size) == 0,
                       "%s: the GPU's write through the %s changed bytes of the memory outside it", what,
                       kind_names[r->kind]);
            }
        }
    } else if (r->kind == KIND_LINEAR) {
        VkImage image = (VkImage)r->handle;
        uint32_t side = r->side;
        size_t row_bytes = side * 4u;
        VkImageSubresource sub = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0};
        VkSubresourceLayout layout;
        vkGetImageSubresourceLayout(c->device, image, &sub, &layout);
        unsigned char *packed = malloc(row_bytes * side);
        robust_fill(packed, row_bytes * side, seed ^ 0x7E7);
        for (uint32_t y = 0; y < side; y++)
            memcpy(map + offset + layout.offset + y * layout.rowPitch, packed + y * row_bytes, row_bytes);
        memcpy(expected, map, (size_t)size);
        VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                    .imageExtent = {side, side, 1}};
        VkImageMemoryBarrier to_general = robust_colour_barrier(
            image, r->host_layout ? VK_IMAGE_LAYOUT_GENERAL : VK_IMAGE_LAYOUT_PREINITIALIZED, VK_IMAGE_LAYOUT_GENERAL,
            VK_ACCESS_HOST_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
        r->host_layout = true;
        if (robust_gpu_begin(c)) {
            vkCmdPipelineBarrier(c->commands, VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0,
                                 NULL, 1, &to_general);
            vkCmdCopyImageToBuffer(c->commands, image, VK_IMAGE_LAYOUT_GENERAL, c->readback, 1, &region);
            if (robust_gpu_submit(c, what)) {
                size_t wrong = robust_count_wrong(c->readback_bytes, row_bytes * side, seed ^ 0x7E7);
                EXPECT(wrong == 0,
                       "%s: the GPU read %zu texel bytes of the linear image other than the host wrote at its "
                       "offset %llu",
                       what, wrong, (unsigned long long)offset);
            }
        }
        /* The GPU writes texels; the host must find them at the image's place. */
        robust_fill(c->readback_bytes, row_bytes * side, seed ^ 0x3A3);
        for (uint32_t y = 0; y < side; y++)
            memcpy(expected + offset + layout.offset + y * layout.rowPitch, c->readback_bytes + y * row_bytes,
                   row_bytes);
        VkImageMemoryBarrier after_read =
            robust_colour_barrier(image, VK_IMAGE_LAYOUT_GENERAL, VK_IMAGE_LAYOUT_GENERAL, VK_ACCESS_TRANSFER_READ_BIT,
                                  VK_ACCESS_TRANSFER_WRITE_BIT);
        if (robust_gpu_begin(c)) {
            vkCmdPipelineBarrier(c->commands, VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0,
                                 NULL, 1, &after_read);
            vkCmdCopyBufferToImage(c->commands, c->readback, image, VK_IMAGE_LAYOUT_GENERAL, 1, &region);
            if (robust_gpu_submit(c, what)) {
                bool rows_ok = true;
                for (uint32_t y = 0; y < side; y++) {
                    VkDeviceSize at = offset + layout.offset + y * layout.rowPitch;
                    rows_ok = rows_ok && memcmp(map + at, expected + at, row_bytes) == 0;
                }
                EXPECT(rows_ok, "%s: the GPU's texels are not at the linear image's offset %llu in the memory", what,
                       (unsigned long long)offset);
                bool all_ok = memcmp(map, expected, (size_t)size) == 0;
                EXPECT(!rows_ok || all_ok, "%s: the GPU's write to the linear image changed bytes outside its rows",
                       what);
            }
        }
        free(packed);
    } else {
        robust_image_round_trip(c, (VkImage)r->handle, r->side, VK_IMAGE_LAYOUT_UNDEFINED, seed ^ 0x0B7, what);
        VkDeviceSize end = offset + needs->size < size ? offset + needs->size : size;
        size_t changed_inside = 0, changed_outside = 0;
        for (VkDeviceSize i = 0; i < size; i++) {
            if (map[i] == before[i]) continue;
            if (i >= offset && i < end) changed_inside++;
            else changed_outside++;
        }
        EXPECT(changed_inside > 0, "%s: the optimal image's upload changed no byte at its offset %llu", what,
               (unsigned long long)offset);
        EXPECT(changed_outside == 0, "%s: the optimal image's upload changed %zu bytes outside [%llu, %llu)", what,
               changed_outside, (unsigned long long)offset, (unsigned long long)end);
    }
    free(before);
    free(expected);
}

/* Neighbours: allocations in the same pool, filled by the host, that no bind
 * or GPU write of the case may change. */
typedef struct guard {
    VkDeviceMemory memory;
    unsigned char *bytes;
    VkDeviceSize size;
    uint64_t seed;
} guard;

static guard guard_make(context *c, VkDeviceSize size, uint64_t seed) {
    guard g = {.memory = robust_gpu_allocate(c, size, c->host_type), .size = size, .seed = seed};
    if (g.memory != VK_NULL_HANDLE) g.bytes = map_whole(c, g.memory, "a neighbour");
    if (g.bytes != NULL) robust_fill(g.bytes, (size_t)size, seed);
    return g;
}

static void guard_check(context *c, guard *g, const char *what) {
    (void)c;
    if (g->bytes == NULL) return;
    size_t wrong = robust_count_wrong(g->bytes, (size_t)g->size, g->seed);
    EXPECT(wrong == 0, "%s: %zu bytes of a neighbouring allocation changed", what, wrong);
}

static void guard_free(context *c, guard *g) {
    guard_check(c, g, "at its free");
    if (g->memory != VK_NULL_HANDLE) vkFreeMemory(c->device, g->memory, NULL);
    *g = (guard){0};
}

/* ---- threads ---------------------------------------------------------------------------------- */

typedef enum job_kind { JOB_QUERY, JOB_ALLOCATE, JOB_BIND, JOB_RECREATE } job_kind;

typedef struct job {
    job_kind kind;
    context *c;
    VkDevice device; /* JOB_RECREATE: where the new resource is made */
    resource *r;
    VkDeviceSize size;
    bool map; /* JOB_ALLOCATE: map and unmap it, which pins its slice */
    VkDeviceMemory memory;
    VkDeviceSize offset;
    VkMemoryRequirements needs;
    VkResult result;
    /* JOB_RECREATE: destroy r (on c->device), then make new_kind/new_size resources until one gets its handle */
    kind new_kind;
    uint32_t new_size;
    uint64_t found;
} job;

static uint64_t create_with_handle(VkDevice device, kind k, uint32_t size, uint64_t wanted) {
    uint64_t others[REUSE_TRIES], found = 0;
    uint32_t count = 0;
    while (count < REUSE_TRIES) {
        uint64_t handle = 0;
        if (create_raw(device, k, size, &handle) != VK_SUCCESS) break;
        if (handle == wanted) {
            found = handle;
            break;
        }
        others[count++] = handle;
    }
    for (uint32_t i = 0; i < count; i++) destroy_raw(device, k, others[i]);
    return found;
}

static void run_job(job *j) {
    switch (j->kind) {
    case JOB_QUERY: j->needs = query(j->c, j->r); break;
    case JOB_ALLOCATE:
        j->result = robust_allocate(j->c->device, j->size, j->c->host_type, &j->memory);
        if (j->result == VK_SUCCESS && j->map) {
            void *data = NULL;
            if (vkMapMemory(j->c->device, j->memory, 0, VK_WHOLE_SIZE, 0, &data) == VK_SUCCESS)
                vkUnmapMemory(j->c->device, j->memory);
        }
        break;
    case JOB_BIND: j->result = bind(j->c, j->r, j->memory, j->offset); break;
    case JOB_RECREATE: {
        uint64_t old = j->r->handle;
        destroy(j->c, j->r);
        j->found = create_with_handle(j->device, j->new_kind, j->new_size, old);
        break;
    }
    }
}

static void *job_main(void *arg) {
    run_job(arg);
    return NULL;
}

/* Runs the job on a thread of its own (a new thread each time) and waits. */
static void elsewhere(job *j) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, job_main, j) != 0) {
        run_job(j);
        return;
    }
    pthread_join(thread, NULL);
}

static VkMemoryRequirements query_elsewhere(context *c, resource *r) {
    job j = {.kind = JOB_QUERY, .c = c, .r = r};
    elsewhere(&j);
    return j.needs;
}

/* ==== cases ===================================================================================== */

/* One resource asked once, then several allocations on the same thread: too
 * small by one byte, exactly its size (twice, one pinned by a map first), and
 * larger. Each invalid bind (too small, misaligned, past the end, an offset
 * whose end wraps around) must be refused; the valid one, into the second
 * exact-size allocation whose slice a map pinned, must land there. Other
 * resources of the same kind bind into the other allocations, also at offsets. */
static int one_query_then_several_allocations(context *c) {
    static const struct {
        kind k;
        uint32_t size;
    } shapes[] = {
        {KIND_BUFFER, 48 * 1024}, {KIND_BUFFER, 1000}, {KIND_OPTIMAL, 128},
        {KIND_OPTIMAL, 16},       {KIND_LINEAR, 64},   {KIND_LINEAR, 16},
    };
    int valid_binds = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int pin = 0; pin < 2; pin++) {
            char what[160];
            snprintf(what, sizeof what, "%s %u, one query then five allocations (the exact one %s)",
                     kind_names[shapes[s].k], shapes[s].size, pin ? "pinned by a map" : "untouched");
            guard before_g = guard_make(c, 8192, 0x6A1 + s);
            resource r = make(c, shapes[s].k, shapes[s].size);
            resource twin = make(c, shapes[s].k, shapes[s].size);
            VkMemoryRequirements needs = query(c, &r);
            VkDeviceSize a = needs.alignment;
            /* Five allocations right after the one query, as an engine that sizes a pool from it. */
            VkDeviceMemory small = robust_gpu_allocate(c, needs.size - 1, c->host_type);
            VkDeviceMemory exact1 = robust_gpu_allocate(c, needs.size, c->host_type);
            VkDeviceMemory exact2 = robust_gpu_allocate(c, needs.size, c->host_type);
            VkDeviceSize large_size = needs.size + 3 * a;
            VkDeviceMemory large = robust_gpu_allocate(c, large_size, c->host_type);
            VkDeviceMemory last = robust_gpu_allocate(c, needs.size, c->host_type);
            guard after_g = guard_make(c, 8192, 0x6B1 + s);
            if (s == 0 && pin == 0)
                printf("    %s: %llu bytes, alignment %llu\n", what, (unsigned long long)needs.size,
                       (unsigned long long)a);
            unsigned char *pinned_map = NULL;
            if (pin) pinned_map = map_whole(c, exact2, what);

            robust_watch w = robust_watch_now(c);
            VkResult result = bind(c, &r, small, 0);
            expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, "one byte too small");
            if (a > 1) {
                w = robust_watch_now(c);
                result = bind(c, &r, large, a / 2);
                expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT, "half its alignment");
            }
            w = robust_watch_now(c);
            result = bind(c, &r, large, 4 * a);
            expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, "past the end by one alignment");
            w = robust_watch_now(c);
            result = bind(c, &r, large, (UINT64_MAX / a) * a);
            expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, "an offset whose end wraps around");
            w = robust_watch_now(c);
            result = bind(c, &r, exact1, a);
            expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, "exact memory at one alignment");

            /* The valid binds. */
            w = robust_watch_now(c);
            result = bind(c, &r, exact2, 0);
            if (documented_refusal(c, &w, result, &needs, pin)) {
                printf("    %s: refused as README documents (slice pinned by a map)\n", what);
            } else {
                EXPECT(result == VK_SUCCESS, "%s: the valid bind into the second exact allocation returned %s", what,
                       robust_result_name(result));
                if (result == VK_SUCCESS) {
                    valid_binds++;
                    unsigned char *map = pinned_map ? pinned_map : map_whole(c, exact2, what);
                    verify_placement(c, &r, map, needs.size, 0, &needs, 0x100 + s * 2 + (uint64_t)pin, what);
                }
                robust_expect_clean(c, &w, what);
            }
            /* Another resource like it, never asked on this thread, at 3 alignments into the large memory. */
            VkMemoryRequirements twin_needs = query_elsewhere(c, &twin);
            w = robust_watch_now(c);
            result = bind(c, &twin, large, 3 * a);
            EXPECT(result == VK_SUCCESS, "%s: the twin at %llu of %llu returned %s", what, (unsigned long long)(3 * a),
                   (unsigned long long)large_size, robust_result_name(result));
            if (result == VK_SUCCESS) {
                valid_binds++;
                verify_placement(c, &twin, map_whole(c, large, what), large_size, 3 * a, &twin_needs,
                                 0x200 + s * 2 + (uint64_t)pin, what);
            }
            robust_expect_clean(c, &w, what);
            guard_check(c, &before_g, what);
            guard_check(c, &after_g, what);
            destroy(c, &r);
            destroy(c, &twin);
            VkDeviceMemory all[] = {small, exact1, exact2, large, last};
            for (size_t m = 0; m < sizeof all / sizeof all[0]; m++) vkFreeMemory(c->device, all[m], NULL);
            guard_free(c, &before_g);
            guard_free(c, &after_g);
        }
    }
    return valid_binds == 0 ? 1 : 0;
}

/* The queried resource's memory gets another resource first, at offset 0
 * (aliasing, legal), then the queried one at 0: both must bind and each must
 * be where the app put it. Every pair of kinds where the first fits. */
static int another_resource_bound_first_at_offset_zero(context *c) {
    static const uint32_t sizes[KIND_COUNT] = {16 * 1024, 64, 64};
    static const uint32_t small_sizes[KIND_COUNT] = {256, 16, 8};
    int pairs = 0;
    for (int q = 0; q < KIND_COUNT; q++) {
        for (int f = 0; f < KIND_COUNT; f++) {
            for (int shape = 0; shape < 2; shape++) {
                char what[200];
                uint32_t qsize = shape ? small_sizes[q] : sizes[q];
                snprintf(what, sizeof what, "%s %u asked, %s bound first at 0", kind_names[q], qsize, kind_names[f]);
                guard g1 = guard_make(c, 4096, 0xF1 + (uint64_t)q);
                resource queried = make(c, (kind)q, qsize);
                resource first = make(c, (kind)f, shape ? small_sizes[f] : sizes[f]);
                VkMemoryRequirements first_needs = query_elsewhere(c, &first);
                VkMemoryRequirements needs = query(c, &queried);
                VkDeviceMemory memory = robust_gpu_allocate(c, needs.size, c->host_type);
                guard g2 = guard_make(c, 4096, 0xF2 + (uint64_t)f);
                bool fits = first_needs.size <= needs.size;
                if (!fits) {
                    destroy(c, &queried);
                    destroy(c, &first);
                    vkFreeMemory(c->device, memory, NULL);
                    guard_free(c, &g1);
                    guard_free(c, &g2);
                    continue;
                }
                pairs++;
                robust_watch w = robust_watch_now(c);
                VkResult r1 = bind(c, &first, memory, 0);
                VkResult r2 = bind(c, &queried, memory, 0);
                EXPECT(r1 == VK_SUCCESS, "%s: the first bind returned %s", what, robust_result_name(r1));
                bool documented = r1 == VK_SUCCESS && documented_refusal(c, &w, r2, &needs, true);
                if (documented) {
                    /* README: the slice of "a size the calling thread just asked" gets that resource's
                     * alignment; the allocation here is exactly the queried one's size, asked last. */
                    EXPECT(false,
                           "%s: the queried resource (%llu bytes, alignment %llu) was refused with "
                           "VK_ERROR_OUT_OF_DEVICE_MEMORY although its memory was allocated right after its query "
                           "on this thread",
                           what, (unsigned long long)needs.size, (unsigned long long)needs.alignment);
                } else {
                    EXPECT(r2 == VK_SUCCESS, "%s: the queried resource's bind returned %s", what,
                           robust_result_name(r2));
                }
                unsigned char *map = map_whole(c, memory, what);
                if (r1 == VK_SUCCESS)
                    verify_placement(c, &first, map, needs.size, 0, &first_needs, 0x300 + pairs, what);
                if (r2 == VK_SUCCESS) verify_placement(c, &queried, map, needs.size, 0, &needs, 0x400 + pairs, what);
                if (!documented) robust_expect_clean(c, &w, what);
                guard_check(c, &g1, what);
                guard_check(c, &g2, what);
                destroy(c, &queried);
                destroy(c, &first);
                vkFreeMemory(c->device, memory, NULL);
                guard_free(c, &g1);
                guard_free(c, &g2);
            }
        }
    }
    printf("    %d pairs bound\n", pairs);
    return pairs == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

/* The query on one thread, the allocation on a second, the bind on a third:
 * nothing this thread remembers helps. Too small, misaligned and past the end
 * are refused; exact and offset binds land where the app put them. The
 * allocating thread maps the memory (pinning its slice) in half the rounds. */
static int query_allocate_and_bind_on_three_threads(context *c) {
    static const struct {
        kind k;
        uint32_t size;
    } shapes[] = {{KIND_BUFFER, 20000}, {KIND_OPTIMAL, 128}, {KIND_OPTIMAL, 16}, {KIND_LINEAR, 32}};
    int valid = 0, documented = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int round = 0; round < 4; round++) {
            bool pin = round % 2 == 1, at_offset = round >= 2;
            char what[160];
            snprintf(what, sizeof what, "%s %u on three threads (%s, bound at %s)", kind_names[shapes[s].k],
                     shapes[s].size, pin ? "pinned by a map" : "untouched", at_offset ? "an offset" : "0");
            guard g = guard_make(c, 4096, 0x333 + s);
            resource r = make(c, shapes[s].k, shapes[s].size);
            VkMemoryRequirements needs = query_elsewhere(c, &r);
            VkDeviceSize a = needs.alignment, offset = at_offset ? 2 * a : 0;
            job small = {.kind = JOB_ALLOCATE, .c = c, .size = offset + needs.size - 1, .map = pin};
            job fits = {.kind = JOB_ALLOCATE, .c = c, .size = offset + needs.size, .map = pin};
            elsewhere(&small);
            elsewhere(&fits);
            EXPECT(small.result == VK_SUCCESS && fits.result == VK_SUCCESS, "%s: allocations returned %s, %s", what,
                   robust_result_name(small.result), robust_result_name(fits.result));
            robust_watch w = robust_watch_now(c);
            job b = {.kind = JOB_BIND, .c = c, .r = &r, .memory = small.memory, .offset = offset};
            elsewhere(&b);
            expect_refused(c, &w, b.result, STRICT_DEVICE_VIOLATION_BIND_RANGE, "one byte short, on a third thread");
            if (a > 1) {
                w = robust_watch_now(c);
                b.memory = fits.memory;
                b.offset = offset + a / 2;
                elsewhere(&b);
                expect_refused(c, &w, b.result, STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT,
                               "half an alignment off, on a third thread");
            }
            w = robust_watch_now(c);
            b.memory = fits.memory;
            b.offset = offset + a;
            elsewhere(&b);
            expect_refused(c, &w, b.result, STRICT_DEVICE_VIOLATION_BIND_RANGE,
                           "one alignment past its place, on a third thread");
            w = robust_watch_now(c);
            b.offset = offset;
            elsewhere(&b);
            if (documented_refusal(c, &w, b.result, &needs, pin && offset == 0)) {
                documented++;
            } else {
                EXPECT(b.result == VK_SUCCESS, "%s: the valid bind returned %s", what, robust_result_name(b.result));
                if (b.result == VK_SUCCESS) {
                    valid++;
                    verify_placement(c, &r, map_whole(c, fits.memory, what), offset + needs.size, offset, &needs,
                                     0x500 + s * 4 + (uint64_t)round, what);
                }
                robust_expect_clean(c, &w, what);
            }
            guard_check(c, &g, what);
            destroy(c, &r);
            vkFreeMemory(c->device, small.memory, NULL);
            vkFreeMemory(c->device, fits.memory, NULL);
            guard_free(c, &g);
        }
    }
    printf("    %d valid binds landed; %d refused as README documents (pinned, smaller than its alignment)\n", valid,
           documented);
    return valid == 0 ? 1 : 0;
}

/* Asked, memory allocated for it, then on another thread the resource is
 * destroyed and a new one of the same kind made with its handle; this thread
 * binds the new one into the memory made for the old one. */
typedef struct reuse_pair {
    const char *name;
    kind old_kind, new_kind;
    uint32_t old_size, new_size;
} reuse_pair;

static const reuse_pair reuse_pairs[] = {
    {"small buffer -> large buffer", KIND_BUFFER, KIND_BUFFER, 256, 64 * 1024},
    {"small optimal -> large optimal", KIND_OPTIMAL, KIND_OPTIMAL, 4, 128},
    {"small linear -> large linear", KIND_LINEAR, KIND_LINEAR, 4, 128},
    {"linear -> optimal of its size", KIND_LINEAR, KIND_OPTIMAL, 16, 16},
    {"optimal -> linear of its size", KIND_OPTIMAL, KIND_LINEAR, 16, 16},
    {"small buffer -> large optimal", KIND_BUFFER, KIND_OPTIMAL, 256, 128},
    {"small optimal -> large buffer", KIND_OPTIMAL, KIND_BUFFER, 4, 256 * 1024},
    {"small linear -> large buffer", KIND_LINEAR, KIND_BUFFER, 4, 256 * 1024},
};

/* One pair: true when the handle came back and the binds were checked. */
static bool reuse_round(context *c, const reuse_pair *p, bool made_elsewhere, bool asked_elsewhere, uint64_t seed) {
    char what[200];
    snprintf(what, sizeof what, "%s, made again on %s thread between allocation and bind, new one asked %s", p->name,
             made_elsewhere ? "another" : "this", asked_elsewhere ? "on another thread" : "by nobody");
    /* The new kind's needs, from a twin kept alive so that it cannot take the handle. */
    resource twin = make(c, p->new_kind, p->new_size);
    VkMemoryRequirements new_needs = query_elsewhere(c, &twin);
    guard g = guard_make(c, 4096, seed);
    resource old = make(c, p->old_kind, p->old_size);
    VkMemoryRequirements old_needs = query(c, &old);
    VkDeviceMemory tight = robust_gpu_allocate(c, old_needs.size, c->host_type);
    job j = {
        .kind = JOB_RECREATE, .c = c, .device = c->device, .r = &old, .new_kind = p->new_kind, .new_size = p->new_size};
    if (made_elsewhere) elsewhere(&j);
    else run_job(&j);
    bool reused = j.found != 0;
    if (reused) {
        resource fresh = resource_of(p->new_kind, p->new_size, j.found);
        if (asked_elsewhere) new_needs = query_elsewhere(c, &fresh);
        robust_watch w = robust_watch_now(c);
        VkResult result = bind(c, &fresh, tight, 0);
        if (new_needs.size > old_needs.size) {
            expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, what);
        } else {
            /* It fits: a valid bind, on its own alignment (the slice may move: nothing pinned it). */
            EXPECT(result == VK_SUCCESS,
                   "%s: the valid bind of the new %s (%llu bytes, alignment %llu) into %llu "
                   "bytes returned %s",
                   what, kind_names[p->new_kind], (unsigned long long)new_needs.size,
                   (unsigned long long)new_needs.alignment, (unsigned long long)old_needs.size,
                   robust_result_name(result));
            if (result == VK_SUCCESS)
                verify_placement(c, &fresh, map_whole(c, tight, what), old_needs.size, 0, &new_needs, seed, what);
            robust_expect_clean(c, &w, what);
        }
        if (result != VK_SUCCESS) {
            /* Where it fits, at its own alignment past the start. */
            VkDeviceSize size = new_needs.alignment + new_needs.size;
            VkDeviceMemory fits = robust_gpu_allocate(c, size, c->host_type);
            w = robust_watch_now(c);
            result = bind(c, &fresh, fits, new_needs.alignment);
            EXPECT(result == VK_SUCCESS, "%s: the valid bind at %llu returned %s", what,
                   (unsigned long long)new_needs.alignment, robust_result_name(result));
            if (result == VK_SUCCESS)
                verify_placement(c, &fresh, map_whole(c, fits, what), size, new_needs.alignment, &new_needs, seed + 1,
                                 what);
            robust_expect_clean(c, &w, what);
            destroy(c, &fresh);
            vkFreeMemory(c->device, fits, NULL);
        } else {
            destroy(c, &fresh);
        }
    }
    guard_check(c, &g, what);
    destroy(c, &twin);
    vkFreeMemory(c->device, tight, NULL);
    guard_free(c, &g);
    return reused;
}

static int a_handle_reused_between_allocation_and_bind_is_held_to_the_new_resource(context *c) {
    int checked = 0, tried = 0;
    for (size_t p = 0; p < 5; p++)
        for (int v = 0; v < 4; v++) {
            tried++;
            checked += reuse_round(c, &reuse_pairs[p], v % 2 == 1, v >= 2, 0x700 + p * 4 + (uint64_t)v);
        }
    printf("    %d of %d rounds got the destroyed resource's handle again\n", checked, tried);
    return checked == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

enum { CROSS_MANY = 128, CROSS_TRIES = 512 };

typedef struct cross_job {
    VkDevice device;
    const reuse_pair *p;
    const uint64_t *olds;
    uint64_t news[CROSS_TRIES];
    int made, match;
} cross_job;

static void *cross_destroy_main(void *arg) {
    cross_job *x = arg;
    for (int i = 0; i < CROSS_MANY; i++) destroy_raw(x->device, x->p->old_kind, x->olds[i]);
    return NULL;
}

static void cross_create(cross_job *x) {
    x->made = 0;
    x->match = -1;
    while (x->made < CROSS_TRIES && x->match < 0) {
        if (create_raw(x->device, x->p->new_kind, x->p->new_size, &x->news[x->made]) != VK_SUCCESS) break;
        for (int i = 0; i < CROSS_MANY; i++)
            if (x->news[x->made] == x->olds[i]) x->match = x->made;
        x->made++;
    }
}

/* Buffers and images take each other's handles only when the host allocator
 * gives the same address to objects of different sizes: many of one kind are
 * made and asked, the allocation made, all destroyed (on this thread or
 * another: the creating thread's heap), and the other kind made here until one
 * has a handle of the first kind. */
static int a_buffer_handle_taken_by_an_image_or_back_is_held_to_the_new_resource(context *c) {
    enum { MANY = CROSS_MANY };
    int checked = 0;
    for (int variant = 0; variant < 6; variant++) {
        const reuse_pair *p = &reuse_pairs[5 + variant % 3];
        bool destroyed_elsewhere = variant >= 3;
        char what[200];
        snprintf(what, sizeof what, "%s (cross kind, destroyed on %s thread between allocation and bind)", p->name,
                 destroyed_elsewhere ? "another" : "this");
        resource twin = make(c, p->new_kind, p->new_size);
        VkMemoryRequirements new_needs = query_elsewhere(c, &twin);
        uint64_t olds[MANY];
        VkMemoryRequirements old_needs = {0};
        for (int i = 0; i < MANY; i++) {
            resource r = make(c, p->old_kind, p->old_size);
            olds[i] = r.handle;
            old_needs = query(c, &r);
        }
        VkDeviceMemory tight = robust_gpu_allocate(c, old_needs.size, c->host_type);
        cross_job *xp = calloc(1, sizeof *xp);
        if (xp == NULL) return 1;
        cross_job x0 = {.device = c->device, .p = p, .olds = olds};
        *xp = x0;
        if (destroyed_elsewhere) {
            pthread_t thread;
            pthread_create(&thread, NULL, cross_destroy_main, xp);
            pthread_join(thread, NULL);
        } else {
            cross_destroy_main(xp);
        }
        cross_create(xp);
        cross_job x = *xp;
        free(xp);
        int made = x.made, match = x.match;
        uint64_t *news = x.news;
        if (match >= 0) {
            checked++;
            resource fresh = resource_of(p->new_kind, p->new_size, news[match]);
            robust_watch w = robust_watch_now(c);
            VkResult result = bind(c, &fresh, tight, 0);
            EXPECT(new_needs.size > old_needs.size, "setup: the new resource is not larger");
            expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, what);
            VkDeviceMemory fits = robust_gpu_allocate(c, new_needs.size, c->host_type);
            w = robust_watch_now(c);
            result = bind(c, &fresh, fits, 0);
            EXPECT(result == VK_SUCCESS, "%s: the valid bind returned %s", what, robust_result_name(result));
            if (result == VK_SUCCESS)
                verify_placement(c, &fresh, map_whole(c, fits, what), new_needs.size, 0, &new_needs,
                                 0x800 + (uint64_t)variant, what);
            robust_expect_clean(c, &w, what);
            destroy_raw(c->device, p->new_kind, news[match]);
            news[match] = 0;
            vkFreeMemory(c->device, fits, NULL);
        } else {
            printf("    %s: no %s got a destroyed %s's handle in %d tries\n", what, kind_names[p->new_kind],
                   kind_names[p->old_kind], made);
        }
        for (int i = 0; i < made; i++)
            if (news[i] != 0) destroy_raw(c->device, p->new_kind, news[i]);
        destroy(c, &twin);
        vkFreeMemory(c->device, tight, NULL);
    }
    return checked == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

/* The answer asked for a small buffer must never serve a large buffer with its
 * handle, however many times the handle was destroyed since: a per-handle
 * count that wraps would make it look fresh again after 2^k destroys. */
static int a_handle_destroyed_two_to_the_k_times_never_revives_its_old_answer(context *c) {
    const uint32_t small_size = 256, large_size = 64 * 1024;
    resource small = make(c, KIND_BUFFER, small_size);
    VkMemoryRequirements small_needs = query(c, &small);
    VkDeviceMemory tight = robust_gpu_allocate(c, small_needs.size, c->host_type);
    uint64_t h = small.handle;
    int checked = 0;
    uint64_t misses = 0;
    for (int k = 0; k <= 16; k++) {
        uint64_t destroys = 1ull << k;
        /* The small buffer at h was asked (on this thread) last; destroy it and then h 2^k - 1 more times. */
        destroy(c, &small);
        for (uint64_t i = 1; i < destroys; i++) {
            uint64_t handle = 0;
            if (create_raw(c->device, KIND_BUFFER, large_size, &handle) != VK_SUCCESS) break;
            if (handle != h) misses++;
            destroy_raw(c->device, KIND_BUFFER, handle);
        }
        uint64_t found = create_with_handle(c->device, KIND_BUFFER, large_size, h);
        if (found == 0) break;
        resource large = resource_of(KIND_BUFFER, large_size, found);
        char what[96];
        snprintf(what, sizeof what, "a large buffer on a handle destroyed %llu times since the small one's query",
                 (unsigned long long)destroys);
        robust_watch w = robust_watch_now(c);
        VkResult result = bind(c, &large, tight, 0);
        expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, what);
        checked++;
        destroy(c, &large);
        /* A small one at h again, asked again. */
        found = create_with_handle(c->device, KIND_BUFFER, small_size, h);
        if (found == 0) break;
        small = resource_of(KIND_BUFFER, small_size, found);
        query(c, &small);
    }
    printf("    %d counts checked (up to 2^16 destroys); %llu creations got another handle\n", checked,
           (unsigned long long)misses);
    destroy(c, &small);
    vkFreeMemory(c->device, tight, NULL);
    return checked == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

/* The queried resource bound, then bound again into other memory (invalid:
 * a resource binds once). Whatever the answer, the resource already in that
 * memory, the first memory's bytes and the neighbours must stay intact; the
 * second memory is fresh (its first bind is the invalid one) in half the rounds. */
static int binding_the_queried_resource_twice_corrupts_no_other(context *c) {
    static const struct {
        kind k;
        uint32_t size;
    } shapes[] = {{KIND_BUFFER, 8192}, {KIND_OPTIMAL, 16}, {KIND_OPTIMAL, 64}, {KIND_LINEAR, 16}};
    int rounds = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int fresh = 0; fresh < 2; fresh++) {
            char what[160];
            snprintf(what, sizeof what, "%s %u bound twice (the second memory %s)", kind_names[shapes[s].k],
                     shapes[s].size, fresh ? "fresh" : "holding another buffer");
            guard g1 = guard_make(c, 4096, 0x901 + s);
            resource r = make(c, shapes[s].k, shapes[s].size);
            VkMemoryRequirements needs = query(c, &r);
            VkDeviceMemory first = robust_gpu_allocate(c, needs.size, c->host_type);
            const VkDeviceSize second_size = 131072;
            VkDeviceMemory second = robust_gpu_allocate(c, second_size, c->host_type);
            guard g2 = guard_make(c, 4096, 0x911 + s);
            resource other = make(c, KIND_BUFFER, 4096);
            VkMemoryRequirements other_needs = query(c, &other);
            VkResult result = bind(c, &r, first, 0);
            EXPECT(result == VK_SUCCESS, "%s: the first bind returned %s", what, robust_result_name(result));
            unsigned char *first_map = map_whole(c, first, what);
            if (result == VK_SUCCESS) verify_placement(c, &r, first_map, needs.size, 0, &needs, 0x920 + s, what);
            VkDeviceSize other_offset = 65536;
            if (!fresh) {
                EXPECT(bind(c, &other, second, other_offset) == VK_SUCCESS, "%s: binding the other buffer", what);
            }
            /* Snapshot of the first memory (the resource's own bytes there may go on being used). */
            unsigned char *snapshot = malloc((size_t)needs.size);
            if (first_map && snapshot) memcpy(snapshot, first_map, (size_t)needs.size);
            VkResult twice = bind(c, &r, second, 0);
            printf("    %s: the second bind returned %s\n", what, robust_result_name(twice));
            if (fresh) {
                /* Its first valid bind, wherever the invalid one moved the slice. */
                VkResult later = bind(c, &other, second, other_offset);
                EXPECT(later == VK_SUCCESS, "%s: the other buffer's bind after the invalid one returned %s", what,
                       robust_result_name(later));
            }
            unsigned char *second_map = map_whole(c, second, what);
            resource check = other;
            verify_placement(c, &check, second_map, second_size, other_offset, &other_needs, 0x930 + s, what);
            if (first_map && snapshot)
                EXPECT(memcmp(first_map, snapshot, (size_t)needs.size) == 0,
                       "%s: the first memory's bytes changed at the second bind", what);
            guard_check(c, &g1, what);
            guard_check(c, &g2, what);
            free(snapshot);
            /* Free the first memory while the resource still lives; then more allocations of its size must be
             * whole and apart. */
            vkUnmapMemory(c->device, first);
            vkFreeMemory(c->device, first, NULL);
            guard g3 = guard_make(c, needs.size, 0x941 + s);
            verify_placement(c, &check, second_map, second_size, other_offset, &other_needs, 0x950 + s, what);
            guard_check(c, &g3, what);
            destroy(c, &r);
            destroy(c, &other);
            vkFreeMemory(c->device, second, NULL);
            guard_free(c, &g1);
            guard_free(c, &g2);
            guard_free(c, &g3);
            rounds++;
        }
    }
    return rounds == 0 ? 1 : 0;
}

/* A second device (its own instance) on the same thread: memory allocated
 * there right after a query here, handles reused across the devices, and
 * binds naming the wrong device. */
static int a_second_device_never_borrows_this_devices_answers(context *c) {
    context d = {0};
    if (!robust_gpu_set_up(&d, READBACK_SIZE)) {
        robust_gpu_tear_down(&d);
        return 1;
    }
    int reused = 0;
    for (int round = 0; round < 6; round++) {
        char what[200];
        /* 1. Asked here, destroyed here, made there on its handle, bound there into memory sized by the answer
         * here (allocated there right after the query here). */
        bool image = round % 2 == 1;
        kind k = image ? KIND_OPTIMAL : KIND_BUFFER;
        uint32_t small_size = image ? 4 : 256, large_size = image ? 128 : 64 * 1024;
        snprintf(what, sizeof what, "a large %s on the second device on a small one's handle from the first",
                 kind_names[k]);
        resource twin = make(&d, k, large_size);
        VkMemoryRequirements large_needs = query_elsewhere(&d, &twin);
        resource small = make(c, k, small_size);
        VkMemoryRequirements small_needs = query(c, &small);
        VkDeviceMemory there = robust_gpu_allocate(&d, small_needs.size, d.host_type);
        uint64_t h = small.handle;
        destroy(c, &small);
        uint64_t found = create_with_handle(d.device, k, large_size, h);
        if (found != 0) {
            reused++;
            resource large = resource_of(k, large_size, found);
            robust_watch w = robust_watch_now(&d);
            VkResult result = bind(&d, &large, there, 0);
            expect_refused(&d, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, what);
            VkDeviceMemory fits = robust_gpu_allocate(&d, large_needs.size, d.host_type);
            w = robust_watch_now(&d);
            result = bind(&d, &large, fits, 0);
            EXPECT(result == VK_SUCCESS, "%s: the valid bind returned %s", what, robust_result_name(result));
            if (result == VK_SUCCESS)
                verify_placement(&d, &large, map_whole(&d, fits, what), large_needs.size, 0, &large_needs,
                                 0xA00 + (uint64_t)round, what);
            robust_expect_clean(&d, &w, what);
            destroy(&d, &large);
            vkFreeMemory(d.device, fits, NULL);
        }
        destroy(&d, &twin);
        vkFreeMemory(d.device, there, NULL);

        /* 2. Asked here, memory allocated there right after; the bind names the wrong device or memory. */
        resource r = make(c, k, large_size);
        VkMemoryRequirements needs = query(c, &r);
        VkDeviceMemory theirs = robust_gpu_allocate(&d, needs.size, d.host_type);
        VkDeviceMemory ours = robust_gpu_allocate(c, needs.size, c->host_type);
        snprintf(what, sizeof what, "this device's %s bound into the second device's memory", kind_names[k]);
        robust_watch w = robust_watch_now(c);
        VkResult result = bind(c, &r, theirs, 0);
        expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY, what);
        snprintf(what, sizeof what, "this device's %s and memory bound through the second device", kind_names[k]);
        w = robust_watch_now(&d);
        result = bind_raw(d.device, k, r.handle, ours, 0);
        expect_refused(&d, &w, result, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY, what);
        snprintf(what, sizeof what, "this device's %s bound into its own memory after the refusals", kind_names[k]);
        w = robust_watch_now(c);
        result = bind(c, &r, ours, 0);
        EXPECT(result == VK_SUCCESS, "%s: returned %s", what, robust_result_name(result));
        if (result == VK_SUCCESS)
            verify_placement(c, &r, map_whole(c, ours, what), needs.size, 0, &needs, 0xA10 + (uint64_t)round, what);
        robust_expect_clean(c, &w, what);
        destroy(c, &r);
        vkFreeMemory(c->device, ours, NULL);
        vkFreeMemory(d.device, theirs, NULL);
    }
    robust_gpu_tear_down(&d);
    printf("    %d of 6 rounds got the first device's handle on the second\n", reused);
    return 0;
}

/* Asked, allocated, freed, allocated again (smaller, then of its size: the
 * freed record comes back under another generation), then the old handle
 * bound: refused; the smaller new one: refused; the new one of its size: valid
 * and where the app put it. On this thread and with the free and the new
 * allocations on another. */
static int memory_freed_and_allocated_again_after_the_query_holds_each_handle_to_its_own(context *c) {
    static const struct {
        kind k;
        uint32_t size;
    } shapes[] = {{KIND_BUFFER, 16384}, {KIND_OPTIMAL, 64}, {KIND_OPTIMAL, 16}, {KIND_LINEAR, 32}};
    int checked = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int v = 0; v < 4; v++) {
            bool other_thread = v % 2 == 1, pin = v >= 2;
            char what[160];
            snprintf(what, sizeof what, "%s %u, memory freed and allocated again on %s thread%s",
                     kind_names[shapes[s].k], shapes[s].size, other_thread ? "another" : "this",
                     pin ? ", the new memory mapped" : "");
            guard g = guard_make(c, 4096, 0xB01 + s);
            resource r = make(c, shapes[s].k, shapes[s].size);
            VkMemoryRequirements needs = query(c, &r);
            VkDeviceMemory old = robust_gpu_allocate(c, needs.size, c->host_type);
            VkDeviceMemory stale = old;
            job smaller = {.kind = JOB_ALLOCATE, .c = c, .size = needs.size / 2, .map = pin};
            job again = {.kind = JOB_ALLOCATE, .c = c, .size = needs.size, .map = pin};
            vkFreeMemory(c->device, old, NULL);
            if (other_thread) elsewhere(&smaller);
            else run_job(&smaller);
            /* The driver alone may hand the freed handle out again; the layer's handles carry a generation. */
            EXPECT(!c->layer || stale != smaller.memory, "%s: the new allocation got the freed handle's value", what);
            robust_watch w = robust_watch_now(c);
            VkResult result;
            if (stale != smaller.memory) {
                result = bind(c, &r, stale, 0);
                expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY, "the freed memory");
            }
            w = robust_watch_now(c);
            result = bind(c, &r, smaller.memory, 0);
            expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, "the smaller memory on the record");
            vkFreeMemory(c->device, smaller.memory, NULL);
            if (other_thread) elsewhere(&again);
            else run_job(&again);
            EXPECT(!c->layer || stale != again.memory, "%s: the new allocation got the freed handle's value", what);
            if (stale != again.memory) {
                w = robust_watch_now(c);
                result = bind(c, &r, stale, 0);
                expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_UNKNOWN_MEMORY, "the freed memory again");
            }
            w = robust_watch_now(c);
            result = bind(c, &r, again.memory, 0);
            if (documented_refusal(c, &w, result, &needs, pin && other_thread)) {
                printf("    %s: refused as README documents (mapped on another thread first)\n", what);
            } else {
                EXPECT(result == VK_SUCCESS, "%s: the valid bind returned %s", what, robust_result_name(result));
                if (result == VK_SUCCESS) {
                    checked++;
                    verify_placement(c, &r, map_whole(c, again.memory, what), needs.size, 0, &needs,
                                     0xB10 + s * 4 + (uint64_t)v, what);
                }
                robust_expect_clean(c, &w, what);
            }
            guard_check(c, &g, what);
            destroy(c, &r);
            vkFreeMemory(c->device, again.memory, NULL);
            guard_free(c, &g);
        }
    }
    return checked == 0 ? 1 : 0;
}

/* Two threads make the first binds of one new allocation at once, a buffer and
 * an optimal image both at offset 0 (aliasing), each asked on its own thread
 * just before (or by the allocating thread before the allocation). Both must
 * bind, on their alignments, and each must work where the app put it. */
typedef struct race {
    context *c;
    resource *r;
    VkDeviceMemory memory;
    bool ask;
    _Atomic uint32_t *arrived;
    VkResult result;
    VkMemoryRequirements needs;
} race;

static void *race_main(void *arg) {
    race *x = arg;
    if (x->ask) x->needs = query(x->c, x->r);
    atomic_fetch_add(x->arrived, 1);
    for (uint32_t spins = 0; atomic_load(x->arrived) < 2; spins++)
        if (spins % 64 == 63) sched_yield();
    x->result = bind(x->c, x->r, x->memory, 0);
    return NULL;
}

static int concurrent_first_binds_of_a_buffer_and_an_image_both_land_at_the_start(context *c) {
    enum { ROUNDS = 48 };
    int both = 0, documented = 0;
    guard g = guard_make(c, 4096, 0xC01);
    for (int round = 0; round < ROUNDS; round++) {
        bool main_asks = round % 2 == 0;
        uint32_t side = round % 4 < 2 ? 16 : 64;
        char what[160];
        snprintf(what, sizeof what, "round %d: a %ux%u image and a buffer raced, asked %s", round, side, side,
                 main_asks ? "before the allocation on the allocating thread" : "on the binding threads");
        resource image = make(c, KIND_OPTIMAL, side);
        resource buffer = make(c, KIND_BUFFER, side * side * 2);
        VkMemoryRequirements image_needs = {0}, buffer_needs = {0};
        if (main_asks) {
            buffer_needs = query(c, &buffer);
            image_needs = query(c, &image);
        }
        VkDeviceSize size = main_asks ? image_needs.size : 0;
        if (!main_asks) {
            /* The size from a twin asked elsewhere: this thread asks nothing. */
            resource twin = make(c, KIND_OPTIMAL, side);
            size = query_elsewhere(c, &twin).size;
            destroy(c, &twin);
        }
        VkDeviceMemory memory = robust_gpu_allocate(c, size, c->host_type);
        _Atomic uint32_t arrived = 0;
        race xs[2] = {{c, &buffer, memory, !main_asks, &arrived, VK_SUCCESS, buffer_needs},
                      {c, &image, memory, !main_asks, &arrived, VK_SUCCESS, image_needs}};
        robust_watch w = robust_watch_now(c);
        pthread_t threads[2];
        for (int t = 0; t < 2; t++) pthread_create(&threads[t], NULL, race_main, &xs[t]);
        for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
        buffer_needs = xs[0].needs;
        image_needs = xs[1].needs;
        EXPECT(buffer_needs.size <= size, "setup: the buffer (%llu) is larger than the image (%llu)",
               (unsigned long long)buffer_needs.size, (unsigned long long)size);
        EXPECT(xs[0].result == VK_SUCCESS, "%s: the buffer's bind returned %s", what, robust_result_name(xs[0].result));
        bool image_documented =
            !main_asks && xs[0].result == VK_SUCCESS && documented_refusal(c, &w, xs[1].result, &image_needs, true);
        if (image_documented) {
            documented++;
        } else {
            EXPECT(xs[1].result == VK_SUCCESS, "%s: the image's bind (%llu bytes, alignment %llu) returned %s", what,
                   (unsigned long long)image_needs.size, (unsigned long long)image_needs.alignment,
                   robust_result_name(xs[1].result));
            robust_expect_clean(c, &w, what);
        }
        uint64_t misaligned = robust_violations_since(c, &w, STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT);
        EXPECT(misaligned == 0, "%s: a bind reached the driver off its alignment", what);
        unsigned char *map = map_whole(c, memory, what);
        if (xs[1].result == VK_SUCCESS) verify_placement(c, &image, map, size, 0, &image_needs, 0xC10 + round, what);
        if (xs[0].result == VK_SUCCESS) verify_placement(c, &buffer, map, size, 0, &buffer_needs, 0xC80 + round, what);
        both += xs[0].result == VK_SUCCESS && xs[1].result == VK_SUCCESS;
        guard_check(c, &g, what);
        destroy(c, &image);
        destroy(c, &buffer);
        vkFreeMemory(c->device, memory, NULL);
    }
    guard_free(c, &g);
    printf("    %d of %d rounds bound both; %d image binds refused as README documents (buffer first, asked "
           "elsewhere)\n",
           both, ROUNDS, documented);
    return both == 0 ? 1 : 0;
}

/* A host-visible memory type outside a resource's memoryTypeBits, after the
 * usual sequence: refused. Only devices with such a type can express it. */
static int a_memory_type_outside_memory_type_bits_is_refused(context *c) {
    int checked = 0;
    for (int k = 0; k < KIND_COUNT; k++) {
        resource r = make(c, (kind)k, k == KIND_BUFFER ? 4096 : 16);
        VkMemoryRequirements needs = query(c, &r);
        for (uint32_t t = 0; t < c->vk.memory.memoryTypeCount; t++) {
            VkMemoryPropertyFlags flags = c->vk.memory.memoryTypes[t].propertyFlags;
            if ((needs.memoryTypeBits & (1u << t)) ||
                (flags & (VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT)))
                continue;
            VkDeviceMemory memory = VK_NULL_HANDLE;
            if (robust_allocate(c->device, needs.size, t, &memory) != VK_SUCCESS) continue;
            char what[96];
            snprintf(what, sizeof what, "a %s into memory type %u (allowed 0x%x)", kind_names[k], t,
                     needs.memoryTypeBits);
            robust_watch w = robust_watch_now(c);
            VkResult result = bind(c, &r, memory, 0);
            expect_refused(c, &w, result, STRICT_DEVICE_VIOLATION_BIND_MEMORY_TYPE, what);
            vkFreeMemory(c->device, memory, NULL);
            checked++;
            break;
        }
        destroy(c, &r);
    }
    if (checked == 0) printf("    every resource here takes every sub-allocated memory type\n");
    return checked == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

/* ==== the table ================================================================================= */

static const robust_case cases[] = {
    {"one query then several allocations: each bind is held to the resource's own size, alignment and range",
     one_query_then_several_allocations, NULL},
    {"one query then several allocations, untiled images: each bind is held to the resource's own size, alignment "
     "and range",
     one_query_then_several_allocations, "STRICT_DEVICE_UNTILED_IMAGES=1"},
    {"another resource bound first at offset 0 of the queried one's memory leaves both where the app put them",
     another_resource_bound_first_at_offset_zero, NULL},
    {"another resource bound first at offset 0, untiled images: both bind where the app put them",
     another_resource_bound_first_at_offset_zero, "STRICT_DEVICE_UNTILED_IMAGES=1"},
    {"a query, allocation and bind on three threads bind valid resources where they belong and refuse the rest",
     query_allocate_and_bind_on_three_threads, NULL},
    {"a query, allocation and bind on three threads, untiled images: valid binds land, the rest are refused",
     query_allocate_and_bind_on_three_threads, "STRICT_DEVICE_UNTILED_IMAGES=1"},
    {"a handle reused between allocation and bind, here or on another thread, is held to the new resource",
     a_handle_reused_between_allocation_and_bind_is_held_to_the_new_resource, NULL},
    {"a buffer's handle taken by an image, or an image's by a buffer, is held to the new resource",
     a_buffer_handle_taken_by_an_image_or_back_is_held_to_the_new_resource, NULL},
    {"a handle destroyed 2^k times since its query never revives the old answer",
     a_handle_destroyed_two_to_the_k_times_never_revives_its_old_answer, NULL},
    {"binding the queried resource a second time corrupts no other resource, memory or neighbour",
     binding_the_queried_resource_twice_corrupts_no_other, NULL},
    {"a second device never borrows this device's answers, memory or handles",
     a_second_device_never_borrows_this_devices_answers, NULL},
    {"memory freed and allocated again after the query holds the old and new handles to their own",
     memory_freed_and_allocated_again_after_the_query_holds_each_handle_to_its_own, NULL},
    {"concurrent first binds of a buffer and an image at offset 0 both land at the start, untiled images",
     concurrent_first_binds_of_a_buffer_and_an_image_both_land_at_the_start, "STRICT_DEVICE_UNTILED_IMAGES=1"},
    {"concurrent first binds of a buffer and an image at offset 0 both land at the start",
     concurrent_first_binds_of_a_buffer_and_an_image_both_land_at_the_start, NULL},
    {"a memory type outside memoryTypeBits is refused after the usual sequence",
     a_memory_type_outside_memory_type_bits_is_refused, NULL},
};

int main(int argc, char **argv) {
    return robust_run_cases("bind after query red team", cases, sizeof cases / sizeof cases[0], READBACK_SIZE, argc,
                            argv);
}
