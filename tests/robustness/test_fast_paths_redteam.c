/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fast_paths_redteam: the quick paths of bind and map hold to the spec.
 *
 * Written from the outside (the Vulkan spec and engine patterns, not the
 * layer's code) against three behaviours:
 *   - vkBind{Buffer,Image}Memory trust the requirements the calling thread
 *     asked for that resource handle earlier. A handle value comes back after
 *     vkDestroy* (the driver's allocator hands the same address out again), a
 *     thread that asked may not be the thread that binds, the remembered
 *     answers are bounded (about 1,000 per thread), and one image has several
 *     planes. Whatever the layer remembers, a bind that the resource's own
 *     requirements allow must succeed and the GPU must read and write its bytes
 *     through it; one they do not allow must be refused with a VK_ERROR_* and a
 *     message, and never reach the driver.
 *   - vkMapMemory / vkUnmapMemory go quick once a slice is fixed (first bind or
 *     map) and its block mapped. Double maps, stray unmaps, ranges past
 *     allocationSize, VK_WHOLE_SIZE, maps on other threads than the bind,
 *     several threads mapping one block, frees of mapped memory and stale
 *     handles must behave as the spec and README say, every byte checked by a
 *     GPU copy.
 *   - The JSON dump's Type for memory that threads bound a buffer and an image
 *     into at once.
 *
 * Every case runs in its own child process, on its own instance and device,
 * so a crash fails that case alone and says so. The chain is read from
 * SUBALLOC_TEST_CHAIN: with the layer (plain, strict) misuse must be refused
 * by it; with the strict device alone (strict_only) the same misuse must be
 * counted as a violation by the strict device, which proves it is misuse, and
 * every valid call must pass there too. The strict device counts violations
 * (STRICT_DEVICE_VIOLATIONS=count, set here) so each case can say which rule
 * reached the driver. Arguments: substrings of case names to run (all when none).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "robust_gpu.h"

#define READBACK_SIZE (4u * 1024u * 1024u)
#define REUSE_TRIES 256u

/* ---- the context every case gets ------------------------------------------------------------ */

typedef robust_gpu context;

static VkDeviceSize round_up(VkDeviceSize value, VkDeviceSize to) { return (value + to - 1) / to * to; }

static void gpu_copy(context *c, VkBuffer from, VkDeviceSize from_offset, VkBuffer to, VkDeviceSize to_offset,
                     VkDeviceSize size) {
    VkBufferCopy region = {.srcOffset = from_offset, .dstOffset = to_offset, .size = size};
    vkCmdCopyBuffer(c->commands, from, to, 1, &region);
}

/* The GPU copies size bytes of buffer from offset into the readback buffer at 0; NULL on failure. */
static const unsigned char *gpu_read(context *c, VkBuffer buffer, VkDeviceSize offset, VkDeviceSize size,
                                     const char *what) {
    if (size > READBACK_SIZE || !robust_gpu_begin(c)) return NULL;
    gpu_copy(c, buffer, offset, c->readback, 0, size);
    return robust_gpu_submit(c, what) ? c->readback_bytes : NULL;
}

/* Whether the GPU reads pattern seed from buffer [offset, offset + size). */
static bool gpu_sees(context *c, VkBuffer buffer, VkDeviceSize offset, VkDeviceSize size, uint64_t seed,
                     const char *what) {
    const unsigned char *bytes = gpu_read(c, buffer, offset, size, what);
    if (bytes == NULL) return false;
    size_t wrong = robust_count_wrong(bytes, (size_t)size, seed);
    EXPECT(wrong == 0, "%s: the GPU read %zu of %llu bytes other than the host wrote", what, wrong,
           (unsigned long long)size);
    return wrong == 0;
}

/* ---- misuse: refused by the layer, or counted by the strict device alone ----------------------- */

/* A call the spec forbids. With the layer: refused (has_result: an error code),
 * reported, and nothing reached the driver. Without it: the strict device saw
 * `kind` (proof that the call is misuse). */
static void expect_refused(const context *c, const robust_watch *before, bool has_result, VkResult result, int kind,
                           const char *what) {
    if (c->layer && has_result)
        EXPECT(result < 0, "%s: the layer answered %s, not an error", what, robust_result_name(result));
    robust_expect_refused(c, before, kind, what);
}

/* ---- resources ------------------------------------------------------------------------------- */

static VkBuffer make_buffer(context *c, VkDeviceSize size) {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkResult result = robust_create_buffer(c->device, size, &buffer);
    EXPECT(result == VK_SUCCESS, "vkCreateBuffer(%llu) returned %s", (unsigned long long)size,
           robust_result_name(result));
    return buffer;
}

static VkMemoryRequirements buffer_needs(context *c, VkBuffer buffer) {
    VkMemoryRequirements needs;
    vkGetBufferMemoryRequirements(c->device, buffer, &needs);
    return needs;
}

static VkMemoryRequirements image_needs(context *c, VkImage image) {
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(c->device, image, &needs);
    return needs;
}

/* Maps [offset, WHOLE) and returns the pointer (NULL, failed, on error). */
static unsigned char *map_at(context *c, VkDeviceMemory memory, VkDeviceSize offset, const char *what) {
    void *data = NULL;
    VkResult result = vkMapMemory(c->device, memory, offset, VK_WHOLE_SIZE, 0, &data);
    EXPECT(result == VK_SUCCESS && data != NULL, "%s: vkMapMemory(offset %llu) returned %s", what,
           (unsigned long long)offset, robust_result_name(result));
    return result == VK_SUCCESS ? data : NULL;
}

/* Handles the driver hands out again: creates objects with `create` until one
 * has the value `wanted`; the others are destroyed. VK_NULL_HANDLE when none
 * within REUSE_TRIES. */
typedef VkResult (*create_fn)(context *c, const void *info, uint64_t *out);
typedef void (*destroy_fn)(context *c, uint64_t handle);

static VkResult create_buffer_fn(context *c, const void *info, uint64_t *out) {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkResult result = vkCreateBuffer(c->device, info, NULL, &buffer);
    *out = (uint64_t)buffer;
    return result;
}

static void destroy_buffer_fn(context *c, uint64_t handle) { vkDestroyBuffer(c->device, (VkBuffer)handle, NULL); }

static VkResult create_image_fn(context *c, const void *info, uint64_t *out) {
    VkImage image = VK_NULL_HANDLE;
    VkResult result = vkCreateImage(c->device, info, NULL, &image);
    *out = (uint64_t)image;
    return result;
}

static void destroy_image_fn(context *c, uint64_t handle) { vkDestroyImage(c->device, (VkImage)handle, NULL); }

static uint64_t create_with_handle(context *c, create_fn create, destroy_fn destroy, const void *info,
                                   uint64_t wanted) {
    uint64_t others[REUSE_TRIES], found = 0;
    uint32_t count = 0;
    while (count < REUSE_TRIES) {
        uint64_t handle = 0;
        if (create(c, info, &handle) != VK_SUCCESS) break;
        if (handle == wanted) {
            found = handle;
            break;
        }
        others[count++] = handle;
    }
    for (uint32_t i = 0; i < count; i++) destroy(c, others[i]);
    return found;
}

/* Destroys `old` and makes objects until one has its handle value, here or on a
 * thread of its own: then the thread that asked about `old` neither destroyed
 * it nor made the object that has its handle now. */
typedef struct recreate_job {
    context *c;
    create_fn create;
    destroy_fn destroy;
    const void *info;
    uint64_t old, found;
} recreate_job;

static void *recreate_main(void *arg) {
    recreate_job *job = arg;
    job->destroy(job->c, job->old);
    job->found = create_with_handle(job->c, job->create, job->destroy, job->info, job->old);
    return NULL;
}

static uint64_t recreate(context *c, bool elsewhere, create_fn create, destroy_fn destroy, const void *info,
                         uint64_t old) {
    recreate_job job = {.c = c, .create = create, .destroy = destroy, .info = info, .old = old};
    if (elsewhere) {
        pthread_t thread;
        pthread_create(&thread, NULL, recreate_main, &job);
        pthread_join(thread, NULL);
    } else {
        recreate_main(&job);
    }
    return job.found;
}

/* ---- requirements asked on another thread ------------------------------------------------------ */

typedef struct query_job {
    context *c;
    bool image;
    uint64_t handle;
    bool use2; /* vkGet*MemoryRequirements2 */
    VkMemoryRequirements needs;
} query_job;

static void *query_main(void *arg) {
    query_job *job = arg;
    if (job->use2) {
        VkMemoryRequirements2 out = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
        if (job->image) {
            VkImageMemoryRequirementsInfo2 info = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
                                                   .image = (VkImage)job->handle};
            vkGetImageMemoryRequirements2(job->c->device, &info, &out);
        } else {
            VkBufferMemoryRequirementsInfo2 info = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
                                                    .buffer = (VkBuffer)job->handle};
            vkGetBufferMemoryRequirements2(job->c->device, &info, &out);
        }
        job->needs = out.memoryRequirements;
    } else if (job->image) {
        vkGetImageMemoryRequirements(job->c->device, (VkImage)job->handle, &job->needs);
    } else {
        vkGetBufferMemoryRequirements(job->c->device, (VkBuffer)job->handle, &job->needs);
    }
    return NULL;
}

static VkMemoryRequirements query_on_thread(context *c, bool image, uint64_t handle, bool use2) {
    query_job job = {.c = c, .image = image, .handle = handle, .use2 = use2};
    pthread_t thread;
    pthread_create(&thread, NULL, query_main, &job);
    pthread_join(thread, NULL);
    return job.needs;
}

/* ==== bind cases ================================================================================ */

/* Who asked the reusing resource's requirements before the bind. */
typedef enum asker { ASKED_BY_NOBODY, ASKED_ON_ANOTHER_THREAD, ASKED_ON_THIS_THREAD, ASKER_COUNT } asker;
static const char *const asker_names[ASKER_COUNT] = {"nobody asked", "asked on another thread", "asked on this thread"};

/* A small buffer's requirements are asked, the buffer destroyed, and a buffer
 * 64 times larger made until it has the same handle. Binding it into memory
 * that only the small one fits must be refused; binding it into memory it fits
 * must work, and the GPU must read through it what the host wrote. */
static int reused_buffer_handle_is_held_to_its_own_size(context *c) {
    const VkDeviceSize small = 256, large = 64 * 1024;
    int reused = 0;
    /* What a large buffer needs, learned on another thread from a buffer of its own (kept to the end, so
     * that it cannot take the handle the case waits for). */
    VkBuffer probe = make_buffer(c, large);
    VkMemoryRequirements probe_needs = query_on_thread(c, false, (uint64_t)probe, false);
    for (int round = 0; round < 4 * ASKER_COUNT; round++) {
        asker who = (asker)(round % ASKER_COUNT);
        bool use2 = round % (2 * ASKER_COUNT) >= ASKER_COUNT;
        bool elsewhere = round >= 2 * ASKER_COUNT;
        char what[192];
        snprintf(what, sizeof what, "reused buffer handle (%s, %s, destroyed and made again on %s thread)",
                 asker_names[who], use2 ? "vkGetBufferMemoryRequirements2" : "vkGetBufferMemoryRequirements",
                 elsewhere ? "another" : "this");
        VkBuffer old = make_buffer(c, small);
        VkMemoryRequirements old_needs = buffer_needs(c, old);
        VkBufferCreateInfo info = robust_buffer_info(large);
        VkBuffer buffer = (VkBuffer)recreate(c, elsewhere, create_buffer_fn, destroy_buffer_fn, &info, (uint64_t)old);
        if (buffer == VK_NULL_HANDLE) {
            printf("    %s: the driver never handed the handle out again\n", what);
            continue;
        }
        reused++;
        VkMemoryRequirements needs = {0};
        if (who == ASKED_ON_ANOTHER_THREAD) needs = query_on_thread(c, false, (uint64_t)buffer, use2);
        else if (who == ASKED_ON_THIS_THREAD) needs = buffer_needs(c, buffer);
        else needs = probe_needs; /* nobody asks about this buffer */
        EXPECT(needs.size > old_needs.size, "%s: the large buffer needs %llu bytes, the small one %llu", what,
               (unsigned long long)needs.size, (unsigned long long)old_needs.size);
        /* Too small for the new buffer, large enough for the old one. */
        VkDeviceMemory tight = robust_gpu_allocate(c, round_up(old_needs.size, 4096), c->host_type);
        robust_watch before = robust_watch_now(c);
        VkResult result = vkBindBufferMemory(c->device, buffer, tight, 0);
        expect_refused(c, &before, true, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, what);
        vkFreeMemory(c->device, tight, NULL);
        /* Refused binds leave the buffer unbound (spec: a failed bind binds nothing). */
        before = robust_watch_now(c);
        VkDeviceMemory fits = robust_gpu_allocate(c, needs.size, c->host_type);
        result = vkBindBufferMemory(c->device, buffer, fits, 0);
        EXPECT(result == VK_SUCCESS, "%s: the valid bind returned %s", what, robust_result_name(result));
        unsigned char *bytes = result == VK_SUCCESS ? map_at(c, fits, 0, what) : NULL;
        if (bytes != NULL) {
            robust_fill(bytes, (size_t)large, 0xB0 + (uint64_t)round);
            gpu_sees(c, buffer, 0, large, 0xB0 + (uint64_t)round, what);
            vkUnmapMemory(c->device, fits);
        }
        robust_expect_clean(c, &before, what);
        vkDestroyBuffer(c->device, buffer, NULL);
        vkFreeMemory(c->device, fits, NULL);
    }
    vkDestroyBuffer(c->device, probe, NULL);
    printf("    %d of %d rounds got the destroyed buffer's handle again\n", reused, 4 * ASKER_COUNT);
    return reused == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

/* Two image shapes of one kind (same driver object size, so the handle comes
 * back): the first's requirements asked, the image destroyed, the second made
 * with its handle. Bound where only the first's requirements allow (past its
 * own alignment, or too small), the second must be refused; bound where it
 * fits, it must hold texels. */
typedef struct image_pair {
    const char *name;
    uint32_t old_side, new_side;
    VkImageTiling old_tiling, new_tiling;
} image_pair;

static int reused_image_handle_is_held_to_its_own_alignment_and_size(context *c) {
    static const image_pair pairs[] = {
        {"small optimal -> large optimal", 4, 128, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_TILING_OPTIMAL},
        {"small optimal -> linear", 16, 16, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_TILING_LINEAR},
        {"small linear -> large linear", 4, 128, VK_IMAGE_TILING_LINEAR, VK_IMAGE_TILING_LINEAR},
        {"linear -> large optimal", 16, 256, VK_IMAGE_TILING_LINEAR, VK_IMAGE_TILING_OPTIMAL},
    };
    int tried = 0;
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        for (int variant = 0; variant < 4; variant++) {
            bool cross_thread = variant % 2, elsewhere = variant >= 2;
            const image_pair *pair = &pairs[p];
            char what[192];
            snprintf(what, sizeof what, "reused image handle (%s, new one asked on %s thread, made on %s thread)",
                     pair->name, cross_thread ? "another" : "no", elsewhere ? "another" : "this");
            VkImageCreateInfo old_info = robust_transfer_image_info(pair->old_side, pair->old_tiling);
            VkImageCreateInfo info = robust_transfer_image_info(pair->new_side, pair->new_tiling);
            /* What the new image needs, from a twin asked on another thread (alive until the end). */
            VkImage twin;
            if (vkCreateImage(c->device, &info, NULL, &twin) != VK_SUCCESS) continue;
            VkMemoryRequirements twin_needs = query_on_thread(c, true, (uint64_t)twin, false);
            VkImage old;
            if (vkCreateImage(c->device, &old_info, NULL, &old) != VK_SUCCESS) continue;
            VkMemoryRequirements old_needs = image_needs(c, old);
            VkImage image = (VkImage)recreate(c, elsewhere, create_image_fn, destroy_image_fn, &info, (uint64_t)old);
            if (image == VK_NULL_HANDLE) {
                printf("    %s: the driver never handed the handle out again\n", what);
                vkDestroyImage(c->device, twin, NULL);
                continue;
            }
            /* This thread remembers the old image's answer under this handle; another thread asks about the
             * new image, or nobody does. */
            VkMemoryRequirements needs = cross_thread ? query_on_thread(c, true, (uint64_t)image, true) : twin_needs;
            vkDestroyImage(c->device, twin, NULL);
            VkDeviceSize offset = UINT64_MAX, memory_size = 0;
            int kind = -1;
            if (needs.alignment > old_needs.alignment && needs.size <= 64 * old_needs.alignment) {
                /* Aligned for the old image, not the new one, and room for both. */
                offset = old_needs.alignment;
                while (offset % needs.alignment == 0) offset += old_needs.alignment;
                memory_size = round_up(offset + needs.size, 4096);
                kind = STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT;
            } else if (needs.size > old_needs.size) {
                offset = 0;
                memory_size = old_needs.size;
                kind = STRICT_DEVICE_VIOLATION_BIND_RANGE;
            }
            if (kind < 0) {
                printf("    %s: the two images need the same (%llu bytes, %llu alignment): nothing to tell apart\n",
                       what, (unsigned long long)needs.size, (unsigned long long)needs.alignment);
                vkDestroyImage(c->device, image, NULL);
                continue;
            }
            tried++;
            printf("    %s: old %llu bytes / %llu aligned, new %llu / %llu; invalid bind at %llu of %llu\n", what,
                   (unsigned long long)old_needs.size, (unsigned long long)old_needs.alignment,
                   (unsigned long long)needs.size, (unsigned long long)needs.alignment, (unsigned long long)offset,
                   (unsigned long long)memory_size);
            VkDeviceMemory memory = robust_gpu_allocate(c, memory_size, c->host_type);
            robust_watch before = robust_watch_now(c);
            VkResult result = vkBindImageMemory(c->device, image, memory, offset);
            expect_refused(c, &before, true, result, kind, what);
            vkFreeMemory(c->device, memory, NULL);
            /* And where it does fit, at its own alignment past the start. */
            before = robust_watch_now(c);
            VkDeviceMemory fits = robust_gpu_allocate(c, needs.alignment + needs.size, c->host_type);
            result = vkBindImageMemory(c->device, image, fits, needs.alignment);
            EXPECT(result == VK_SUCCESS, "%s: the valid bind at %llu returned %s", what,
                   (unsigned long long)needs.alignment, robust_result_name(result));
            if (result == VK_SUCCESS)
                robust_image_round_trip(c, image, pair->new_side, VK_IMAGE_LAYOUT_UNDEFINED, 0x1A + p, what);
            robust_expect_clean(c, &before, what);
            vkDestroyImage(c->device, image, NULL);
            vkFreeMemory(c->device, fits, NULL);
        }
    }
    return tried == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

/* The same reuse for an app that does nothing wrong. With the strict device's
 * untiled images (set for this case before its device is made), a
 * 16x16 optimal image needs 64 KiB alignment for about 1 KiB, and a linear
 * image of that size 4 KiB alignment. This thread asks a linear image's
 * requirements and destroys it; an optimal image gets its handle; its
 * requirements are asked on a loader thread (or by nobody: the app knows them,
 * as with vkGetDeviceImageMemoryRequirements); memory of exactly its size is
 * allocated here and the image bound at offset 0. Nothing else was bound or
 * mapped there, so the bind is valid and must succeed on the image's own 64 KiB
 * alignment (the slice moves); the strict device below must see no misaligned
 * bind, and the image must hold texels. */
static int a_valid_bind_of_an_image_reusing_a_handle_lands_on_its_own_alignment(context *c) {
    enum { ROUNDS = 24 };
    static const uint32_t sides[] = {16, 128};
    int expressed = 0, reused = 0;
    for (size_t shape = 0; shape < 2 * sizeof sides / sizeof sides[0]; shape++) {
        /* Memory of the size this thread last asked about (the layer may align such an allocation for the
         * resource asked) where the image fits, else the image's own; or (odd shapes) memory as large as the
         * old image's alignment, whose slice is naturally aligned to it. */
        bool old_alignment_sized = shape % 2 == 1;
        for (int round = 0; round < ROUNDS; round++) {
            asker who = (asker)(round % ASKER_COUNT);
            int step = round % 12;
            bool bind2 = step >= ASKER_COUNT && step < 2 * ASKER_COUNT;
            bool elsewhere = round >= 12;
            uint32_t side = sides[shape / 2];
            char what[256];
            snprintf(what, sizeof what,
                     "valid reused-handle bind of a %ux%u image, round %d (%s, %s, made again on %s thread%s, memory "
                     "%s)",
                     side, side, round, asker_names[who], bind2 ? "vkBindImageMemory2" : "vkBindImageMemory",
                     elsewhere ? "another" : "this", step >= 6 ? ", pinned by a map" : "",
                     old_alignment_sized ? "of the old image's alignment" : "of the size last asked");
            VkImageCreateInfo linear_info = robust_transfer_image_info(side, VK_IMAGE_TILING_LINEAR);
            VkImageCreateInfo optimal_info = robust_transfer_image_info(side, VK_IMAGE_TILING_OPTIMAL);
            VkImage twin;
            if (vkCreateImage(c->device, &optimal_info, NULL, &twin) != VK_SUCCESS) return 1;
            VkMemoryRequirements twin_needs = query_on_thread(c, true, (uint64_t)twin, false);
            /* A neighbour, so that the slice does not start on a large power of two by chance. */
            VkDeviceMemory filler = robust_gpu_allocate(c, 4096 + 4096 * (VkDeviceSize)(round % 3), c->host_type);
            VkImage old;
            if (vkCreateImage(c->device, &linear_info, NULL, &old) != VK_SUCCESS) return 1;
            VkMemoryRequirements old_needs = image_needs(c, old);
            VkImage image =
                (VkImage)recreate(c, elsewhere, create_image_fn, destroy_image_fn, &optimal_info, (uint64_t)old);
            if (image == VK_NULL_HANDLE) {
                vkDestroyImage(c->device, twin, NULL);
                vkFreeMemory(c->device, filler, NULL);
                continue;
            }
            reused++;
            VkMemoryRequirements needs = twin_needs;
            if (who == ASKED_ON_ANOTHER_THREAD) needs = query_on_thread(c, true, (uint64_t)image, round % 2 == 1);
            else if (who == ASKED_ON_THIS_THREAD) needs = image_needs(c, image);
            vkDestroyImage(c->device, twin, NULL);
            if (needs.alignment > old_needs.alignment) expressed++;
            if (round == 0)
                printf("    linear %ux%u image: %llu bytes, %llu alignment; optimal: %llu bytes, %llu alignment\n",
                       side, side, (unsigned long long)old_needs.size, (unsigned long long)old_needs.alignment,
                       (unsigned long long)needs.size, (unsigned long long)needs.alignment);
            VkDeviceSize size = old_needs.size >= needs.size ? old_needs.size : needs.size;
            if (old_alignment_sized) size = old_needs.alignment;
            if (size < needs.size) {
                vkDestroyImage(c->device, image, NULL);
                vkFreeMemory(c->device, filler, NULL);
                continue;
            }
            VkDeviceMemory memory = robust_gpu_allocate(c, size, c->host_type);
            /* From round 6 on a map pins the slice first: README's Placement allows the layer to refuse an image
             * smaller than its alignment then (VK_ERROR_OUT_OF_DEVICE_MEMORY, reported), never to bind it off
             * its alignment. */
            bool pinned = step >= 6;
            if (pinned) {
                unsigned char *p = map_at(c, memory, 0, what);
                if (p != NULL) vkUnmapMemory(c->device, memory);
            }
            robust_watch before = robust_watch_now(c);
            VkResult result;
            if (bind2) {
                VkBindImageMemoryInfo bind = {
                    .sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO, .image = image, .memory = memory};
                result = vkBindImageMemory2(c->device, 1, &bind);
            } else {
                result = vkBindImageMemory(c->device, image, memory, 0);
            }
            uint64_t misaligned = robust_violations_since(c, &before, STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT);
            EXPECT(misaligned == 0, "%s: the bind reached the driver off the image's %llu-byte alignment (%s)", what,
                   (unsigned long long)needs.alignment, robust_result_name(result));
            /* The layer's own refusal: reported, and nothing reached the driver. */
            bool documented = pinned && c->layer && needs.size < needs.alignment &&
                              result == VK_ERROR_OUT_OF_DEVICE_MEMORY && misaligned == 0;
            if (documented) {
                EXPECT(robust_layer_message_count() > before.messages, "%s: the documented refusal was not reported",
                       what);
                printf("    %s: refused as README documents (slice pinned by a map)\n", what);
            } else {
                EXPECT(result == VK_SUCCESS, "%s: the valid bind returned %s", what, robust_result_name(result));
                if (result == VK_SUCCESS && misaligned == 0)
                    robust_image_round_trip(c, image, side, VK_IMAGE_LAYOUT_UNDEFINED, 0x0A11 + (uint64_t)round, what);
                robust_expect_clean(c, &before, what);
            }
            vkDestroyImage(c->device, image, NULL);
            vkFreeMemory(c->device, memory, NULL);
            vkFreeMemory(c->device, filler, NULL);
        }
    }
    printf("    %d of %d rounds reused the handle, %d with an image aligned more than the old one\n", reused,
           4 * ROUNDS, expressed);
    return expressed == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

/* A buffer's requirements asked, the buffer destroyed, images made until one
 * gets the buffer's handle (a driver may hand it out to any kind): the image
 * is bound by its own requirements. */
static int buffer_handle_reused_by_an_image_is_bound_by_the_images_requirements(context *c) {
    VkBuffer old = make_buffer(c, 64);
    VkMemoryRequirements old_needs = buffer_needs(c, old);
    vkDestroyBuffer(c->device, old, NULL);
    VkImageCreateInfo info = robust_transfer_image_info(64, VK_IMAGE_TILING_OPTIMAL);
    VkImage image = (VkImage)create_with_handle(c, create_image_fn, destroy_image_fn, &info, (uint64_t)old);
    if (image == VK_NULL_HANDLE) {
        printf("    this driver never gives an image a destroyed buffer's handle\n");
        return ROBUST_EXIT_SKIPPED;
    }
    VkMemoryRequirements needs = query_on_thread(c, true, (uint64_t)image, false);
    VkDeviceMemory memory = robust_gpu_allocate(c, round_up(old_needs.size, 256), c->host_type);
    robust_watch before = robust_watch_now(c);
    VkResult result = vkBindImageMemory(c->device, image, memory, 0);
    bool checked = needs.size > round_up(old_needs.size, 256);
    if (checked)
        expect_refused(c, &before, true, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, "image on a buffer's handle");
    vkDestroyImage(c->device, image, NULL);
    vkFreeMemory(c->device, memory, NULL);
    return checked ? 0 : ROBUST_EXIT_SKIPPED;
}

/* More resources asked than a thread remembers (3,000), then a large buffer
 * this thread never asked about, bound into memory too small for it: no
 * remembered answer of another handle may be taken for it. Then the oldest and
 * newest of the small ones bind where they fit, and one misaligned is refused. */
#define MANY_ASKED 3000u
static int remembered_requirements_never_serve_another_handle(context *c) {
    VkBuffer *small = calloc(MANY_ASKED, sizeof *small);
    if (small == NULL) return 1;
    VkMemoryRequirements small_needs = {0};
    for (uint32_t i = 0; i < MANY_ASKED; i++) {
        small[i] = make_buffer(c, 256);
        if (i % 2) {
            small_needs = buffer_needs(c, small[i]);
        } else {
            VkBufferMemoryRequirementsInfo2 info = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
                                                    .buffer = small[i]};
            VkMemoryRequirements2 out = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
            vkGetBufferMemoryRequirements2(c->device, &info, &out);
            small_needs = out.memoryRequirements;
        }
    }
    /* Large buffers asked on another thread only, each bound into a small memory. */
    const VkDeviceSize large_size = 256 * 1024;
    uint32_t large_count = 16;
    VkDeviceMemory tight = robust_gpu_allocate(c, round_up(small_needs.size, 4096), c->host_type);
    for (uint32_t i = 0; i < large_count; i++) {
        VkBuffer large = make_buffer(c, large_size);
        VkMemoryRequirements needs = query_on_thread(c, false, (uint64_t)large, i % 2 == 1);
        EXPECT(needs.size >= large_size, "the large buffer needs only %llu bytes", (unsigned long long)needs.size);
        robust_watch before = robust_watch_now(c);
        VkResult result = vkBindBufferMemory(c->device, large, tight, 0);
        char what[96];
        snprintf(what, sizeof what, "large buffer %u bound into %llu bytes after %u small ones were asked", i,
                 (unsigned long long)round_up(small_needs.size, 4096), MANY_ASKED);
        expect_refused(c, &before, true, result, STRICT_DEVICE_VIOLATION_BIND_RANGE, what);
        vkDestroyBuffer(c->device, large, NULL);
    }
    vkFreeMemory(c->device, tight, NULL);
    /* The small ones bind at their own alignment: the oldest asked (forgotten), the newest (remembered). */
    VkDeviceSize stride = round_up(small_needs.size, small_needs.alignment);
    uint32_t picks[] = {0, 1, 2, 3, MANY_ASKED / 2, MANY_ASKED - 4, MANY_ASKED - 3, MANY_ASKED - 2, MANY_ASKED - 1};
    uint32_t pick_count = sizeof picks / sizeof picks[0];
    VkDeviceMemory shared = robust_gpu_allocate(c, stride * (pick_count + 1), c->host_type);
    robust_watch before = robust_watch_now(c);
    for (uint32_t k = 0; k < pick_count; k++) {
        VkResult result = vkBindBufferMemory(c->device, small[picks[k]], shared, stride * (k + 1));
        EXPECT(result == VK_SUCCESS, "small buffer %u at %llu returned %s", picks[k],
               (unsigned long long)(stride * (k + 1)), robust_result_name(result));
    }
    unsigned char *bytes = map_at(c, shared, 0, "small buffers");
    if (bytes != NULL) {
        for (uint32_t k = 0; k < pick_count; k++) robust_fill(bytes + stride * (k + 1), 256, 0x5A11 + k);
        for (uint32_t k = 0; k < pick_count; k++) {
            char what[64];
            snprintf(what, sizeof what, "small buffer %u", picks[k]);
            gpu_sees(c, small[picks[k]], 0, 256, 0x5A11 + k, what);
        }
        vkUnmapMemory(c->device, shared);
    }
    robust_expect_clean(c, &before, "binding small buffers asked long ago and just now");
    if (small_needs.alignment > 1) {
        VkDeviceMemory other = robust_gpu_allocate(c, 4 * stride, c->host_type);
        before = robust_watch_now(c);
        VkResult result = vkBindBufferMemory(c->device, small[MANY_ASKED - 5], other, small_needs.alignment / 2);
        expect_refused(c, &before, true, result, STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT,
                       "a just-asked small buffer at half its alignment");
        before = robust_watch_now(c);
        result = vkBindBufferMemory(c->device, small[4], other, small_needs.alignment / 2);
        expect_refused(c, &before, true, result, STRICT_DEVICE_VIOLATION_BIND_ALIGNMENT,
                       "a small buffer asked 3,000 queries ago at half its alignment");
        for (uint32_t i = 0; i < MANY_ASKED; i++) vkDestroyBuffer(c->device, small[i], NULL);
        vkFreeMemory(c->device, other, NULL);
    } else {
        for (uint32_t i = 0; i < MANY_ASKED; i++) vkDestroyBuffer(c->device, small[i], NULL);
    }
    vkFreeMemory(c->device, shared, NULL);
    free(small);
    return 0;
}

/* One allocation: a whole buffer over it at 0, a linear image at an offset on
 * its own alignment, and a second buffer aliasing the image's bytes; the
 * requirements asked on a loader thread, the binds made on this one (through
 * vkBindBufferMemory2 and vkBindImageMemory2 in half the rounds). The host
 * writes texels through a map at the image's offset plus its subresource
 * layout; the GPU must read them from the image and from the aliasing buffer,
 * and the whole buffer must show every byte the host wrote. */
static int aliased_buffer_and_image_bind_at_their_own_offsets(context *c) {
    const uint32_t side = 32;
    int rounds = 0;
    for (int round = 0; round < 8; round++) {
        char what[96];
        snprintf(what, sizeof what, "aliasing round %d", round);
        bool bind2 = round % 2 == 1;
        VkImageCreateInfo info = robust_transfer_image_info(side, VK_IMAGE_TILING_LINEAR);
        VkImage image;
        if (vkCreateImage(c->device, &info, NULL, &image) != VK_SUCCESS) return ROBUST_EXIT_SKIPPED;
        VkMemoryRequirements image_req = query_on_thread(c, true, (uint64_t)image, round % 4 >= 2);
        VkDeviceSize granularity = c->vk.properties.limits.bufferImageGranularity;
        /* The image somewhere past the start, on its alignment (and a page of its own). */
        VkDeviceSize image_offset = round_up(4096 + 256 * (VkDeviceSize)round,
                                             image_req.alignment > granularity ? image_req.alignment : granularity);
        VkDeviceSize total = round_up(image_offset + image_req.size + 4096, 4096);
        VkBuffer whole = make_buffer(c, total), alias = make_buffer(c, image_req.size);
        VkMemoryRequirements whole_req = query_on_thread(c, false, (uint64_t)whole, false);
        VkMemoryRequirements alias_req = query_on_thread(c, false, (uint64_t)alias, true);
        if (image_offset % alias_req.alignment != 0) {
            printf("    %s: the image's offset %llu does not suit a buffer (alignment %llu)\n", what,
                   (unsigned long long)image_offset, (unsigned long long)alias_req.alignment);
            vkDestroyImage(c->device, image, NULL);
            vkDestroyBuffer(c->device, whole, NULL);
            vkDestroyBuffer(c->device, alias, NULL);
            continue;
        }
        uint32_t types = image_req.memoryTypeBits & whole_req.memoryTypeBits & alias_req.memoryTypeBits;
        EXPECT(types & (1u << c->host_type), "%s: the host-coherent type does not take all three", what);
        VkDeviceMemory memory = robust_gpu_allocate(c, whole_req.size > total ? whole_req.size : total, c->host_type);
        robust_watch before = robust_watch_now(c);
        VkResult r1, r2, r3;
        if (bind2) {
            VkBindBufferMemoryInfo buffers[2] = {
                {.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO,
                 .buffer = alias,
                 .memory = memory,
                 .memoryOffset = image_offset},
                {.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, .buffer = whole, .memory = memory},
            };
            VkBindImageMemoryInfo images = {.sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO,
                                            .image = image,
                                            .memory = memory,
                                            .memoryOffset = image_offset};
            r1 = vkBindImageMemory2(c->device, 1, &images);
            r2 = r3 = vkBindBufferMemory2(c->device, 2, buffers);
        } else {
            r1 = vkBindImageMemory(c->device, image, memory, image_offset);
            r2 = vkBindBufferMemory(c->device, whole, memory, 0);
            r3 = vkBindBufferMemory(c->device, alias, memory, image_offset);
        }
        EXPECT(r1 == VK_SUCCESS && r2 == VK_SUCCESS && r3 == VK_SUCCESS,
               "%s: binds at image offset %llu returned %s, %s, %s", what, (unsigned long long)image_offset,
               robust_result_name(r1), robust_result_name(r2), robust_result_name(r3));
        if (r1 == VK_SUCCESS && r2 == VK_SUCCESS && r3 == VK_SUCCESS) {
            rounds++;
            VkImageSubresource sub = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0};
            VkSubresourceLayout layout;
            vkGetImageSubresourceLayout(c->device, image, &sub, &layout);
            unsigned char *bytes = map_at(c, memory, 0, what);
            if (bytes != NULL) {
                uint64_t seed = 0xA11A5 + (uint64_t)round;
                robust_fill(bytes, (size_t)total, seed ^ 0xFFFF);
                /* Rows of the pattern `seed`, packed, at the image's layout. */
                size_t row_bytes = side * 4u;
                unsigned char *packed = malloc(row_bytes * side);
                robust_fill(packed, row_bytes * side, seed);
                for (uint32_t y = 0; y < side; y++)
                    memcpy(bytes + image_offset + layout.offset + y * layout.rowPitch, packed + y * row_bytes,
                           row_bytes);
                /* What the whole buffer must show: the host's bytes, everywhere. */
                unsigned char *expected = malloc((size_t)total);
                memcpy(expected, bytes, (size_t)total);
                VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                            .imageExtent = {side, side, 1}};
                VkImageMemoryBarrier to_src =
                    robust_colour_barrier(image, VK_IMAGE_LAYOUT_PREINITIALIZED, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                          VK_ACCESS_HOST_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT);
                VkDeviceSize image_out = 0, alias_out = round_up(row_bytes * side, 256),
                             whole_out = round_up(alias_out + image_req.size, 256);
                if (robust_gpu_begin(c)) {
                    vkCmdPipelineBarrier(c->commands, VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                                         NULL, 0, NULL, 1, &to_src);
                    region.bufferOffset = image_out;
                    vkCmdCopyImageToBuffer(c->commands, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, c->readback, 1,
                                           &region);
                    gpu_copy(c, alias, 0, c->readback, alias_out, image_req.size);
                    gpu_copy(c, whole, 0, c->readback, whole_out, total);
                    if (robust_gpu_submit(c, what)) {
                        size_t wrong = robust_count_wrong(c->readback_bytes + image_out, row_bytes * side, seed);
                        EXPECT(wrong == 0, "%s: the image at %llu read %zu texel bytes other than the host wrote there",
                               what, (unsigned long long)image_offset, wrong);
                        EXPECT(memcmp(c->readback_bytes + alias_out, expected + image_offset, (size_t)image_req.size) ==
                                   0,
                               "%s: the buffer aliasing the image at %llu reads other bytes", what,
                               (unsigned long long)image_offset);
                        EXPECT(memcmp(c->readback_bytes + whole_out, expected, (size_t)total) == 0,
                               "%s: the whole buffer reads other bytes than the host wrote", what);
                    }
                }
                free(packed);
                free(expected);
                vkUnmapMemory(c->device, memory);
            }
        }
        robust_expect_clean(c, &before, what);
        vkDestroyImage(c->device, image, NULL);
        vkDestroyBuffer(c->device, whole, NULL);
        vkDestroyBuffer(c->device, alias, NULL);
        vkFreeMemory(c->device, memory, NULL);
    }
    return rounds == 0 ? ROBUST_EXIT_SKIPPED : 0;
}

/* A disjoint two- or three-plane image: each plane has its own requirements,
 * asked with VkImagePlaneMemoryRequirementsInfo, all under one handle. The
 * smallest plane asked last must not stand for the largest at its bind. */
static int each_plane_of_a_disjoint_image_is_bound_by_its_own_requirements(context *c) {
    VkPhysicalDeviceSamplerYcbcrConversionFeatures ycbcr = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SAMPLER_YCBCR_CONVERSION_FEATURES};
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &ycbcr};
    vkGetPhysicalDeviceFeatures2(c->vk.physical, &features);
    const VkFormat format = VK_FORMAT_G8_B8R8_2PLANE_420_UNORM;
    VkFormatProperties properties;
    vkGetPhysicalDeviceFormatProperties(c->vk.physical, format, &properties);
    if (!ycbcr.samplerYcbcrConversion || !(properties.optimalTilingFeatures & VK_FORMAT_FEATURE_DISJOINT_BIT)) {
        printf("    the device has no disjoint multi-planar images (samplerYcbcrConversion %u, disjoint %s)\n",
               ycbcr.samplerYcbcrConversion,
               (properties.optimalTilingFeatures & VK_FORMAT_FEATURE_DISJOINT_BIT) ? "yes" : "no");
        return ROBUST_EXIT_SKIPPED;
    }
    /* A device with the feature on. */
    VkDevice device = VK_NULL_HANDLE;
    VkPhysicalDeviceSamplerYcbcrConversionFeatures enable = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SAMPLER_YCBCR_CONVERSION_FEATURES, .samplerYcbcrConversion = 1};
    VkResult result = test_vk_device_create(c->vk.physical, c->vk.queue_family, NULL, 0, &enable, &device);
    EXPECT(result == VK_SUCCESS, "vkCreateDevice with samplerYcbcrConversion returned %s", robust_result_name(result));
    if (result != VK_SUCCESS) return 1;
    VkImageCreateInfo info = robust_image_info(256, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_SAMPLED_BIT);
    info.format = format;
    info.flags = VK_IMAGE_CREATE_DISJOINT_BIT;
    VkImage image;
    result = vkCreateImage(device, &info, NULL, &image);
    EXPECT(result == VK_SUCCESS, "vkCreateImage (disjoint) returned %s", robust_result_name(result));
    if (result == VK_SUCCESS) {
        VkMemoryRequirements planes[2];
        for (uint32_t p = 0; p < 2; p++) {
            VkImagePlaneMemoryRequirementsInfo plane = {.sType = VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO,
                                                        .planeAspect = VK_IMAGE_ASPECT_PLANE_0_BIT << p};
            VkImageMemoryRequirementsInfo2 ask = {
                .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2, .pNext = &plane, .image = image};
            VkMemoryRequirements2 out = {.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
            vkGetImageMemoryRequirements2(device, &ask, &out);
            planes[p] = out.memoryRequirements;
        }
        printf("    plane 0: %llu bytes, plane 1: %llu bytes\n", (unsigned long long)planes[0].size,
               (unsigned long long)planes[1].size);
        uint32_t type = UINT32_MAX;
        for (uint32_t t = 0; t < c->vk.memory.memoryTypeCount && type == UINT32_MAX; t++)
            if (planes[0].memoryTypeBits & planes[1].memoryTypeBits & (1u << t)) type = t;
        VkDeviceMemory small = VK_NULL_HANDLE, big = VK_NULL_HANDLE;
        robust_allocate(device, planes[1].size, type, &small);
        robust_allocate(device, planes[0].size + planes[1].size + planes[0].alignment, type, &big);
        VkBindImagePlaneMemoryInfo plane0 = {.sType = VK_STRUCTURE_TYPE_BIND_IMAGE_PLANE_MEMORY_INFO,
                                             .planeAspect = VK_IMAGE_ASPECT_PLANE_0_BIT};
        VkBindImageMemoryInfo bind = {
            .sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO, .pNext = &plane0, .image = image, .memory = small};
        uint64_t messages = robust_layer_message_count();
        if (planes[0].size > planes[1].size) {
            result = vkBindImageMemory2(device, 1, &bind);
            if (c->layer) {
                EXPECT(result < 0, "plane 0 (%llu bytes) bound into plane 1's %llu bytes: %s",
                       (unsigned long long)planes[0].size, (unsigned long long)planes[1].size,
                       robust_result_name(result));
                EXPECT(robust_layer_message_count() > messages, "the refused plane bind was not reported");
            }
        }
        VkBindImagePlaneMemoryInfo plane1 = plane0;
        plane1.planeAspect = VK_IMAGE_ASPECT_PLANE_1_BIT;
        VkBindImageMemoryInfo valid[2] = {bind, bind};
        valid[0].memory = big;
        valid[0].memoryOffset = 0;
        valid[1].pNext = &plane1;
        valid[1].memory = big;
        valid[1].memoryOffset = round_up(planes[0].size, planes[1].alignment);
        result = vkBindImageMemory2(device, 2, valid);
        EXPECT(result == VK_SUCCESS, "both planes bound where they fit: %s", robust_result_name(result));
        vkDestroyImage(device, image, NULL);
        vkFreeMemory(device, small, NULL);
        vkFreeMemory(device, big, NULL);
    }
    vkDestroyDevice(device, NULL);
    return 0;
}

/* ==== map cases ================================================================================ */

/* Memory with a buffer bound over it whole and a neighbour in the same pool
 * already mapped: the slice is fixed and the block mapped, so maps go quick. */
typedef struct bound_memory {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
} bound_memory;

static bound_memory bound(context *c, VkDeviceSize size, uint32_t type) {
    bound_memory b = {.buffer = make_buffer(c, size), .size = size};
    VkMemoryRequirements needs = buffer_needs(c, b.buffer);
    b.memory = robust_gpu_allocate(c, needs.size > size ? needs.size : size, type);
    VkResult result = vkBindBufferMemory(c->device, b.buffer, b.memory, 0);
    EXPECT(result == VK_SUCCESS, "binding a %llu-byte buffer returned %s", (unsigned long long)size,
           robust_result_name(result));
    return b;
}

static void release(context *c, bound_memory *b) {
    vkDestroyBuffer(c->device, b->buffer, NULL);
    vkFreeMemory(c->device, b->memory, NULL);
    *b = (bound_memory){0};
}

static int mapping_mapped_memory_again_fails_and_keeps_the_first_mapping(context *c) {
    bound_memory neighbour = bound(c, 16384, c->host_type);
    unsigned char *n = map_at(c, neighbour.memory, 0, "neighbour");
    if (n != NULL) robust_fill(n, 16384, 0xE16);
    for (int round = 0; round < 16; round++) {
        char what[96];
        snprintf(what, sizeof what, "double map round %d", round);
        bound_memory b = bound(c, 8192, c->host_type);
        /* A first map and unmap, so that the next maps take the quick path. */
        robust_watch before = robust_watch_now(c);
        unsigned char *first = map_at(c, b.memory, 0, what);
        vkUnmapMemory(c->device, b.memory);
        VkDeviceSize offset = (VkDeviceSize)(round % 4) * 256;
        first = map_at(c, b.memory, offset, what);
        robust_expect_clean(c, &before, what);
        if (first == NULL) {
            release(c, &b);
            continue;
        }
        before = robust_watch_now(c);
        void *second = (void *)0x1;
        VkResult result = vkMapMemory(c->device, b.memory, (VkDeviceSize)(round % 3) * 256, VK_WHOLE_SIZE, 0, &second);
        expect_refused(c, &before, true, result, STRICT_DEVICE_VIOLATION_MAP_ALREADY_MAPPED, what);
        if (c->layer)
            EXPECT(result == VK_ERROR_MEMORY_MAP_FAILED,
                   "%s: the second map returned %s, not VK_ERROR_MEMORY_MAP_FAILED", what, robust_result_name(result));
        /* The first mapping still reaches the buffer. */
        before = robust_watch_now(c);
        robust_fill(first, (size_t)(8192 - offset), 0xD0 + (uint64_t)round);
        gpu_sees(c, b.buffer, offset, 8192 - offset, 0xD0 + (uint64_t)round, what);
        vkUnmapMemory(c->device, b.memory);
        /* Unmapped once, it maps again and still holds the bytes. */
        unsigned char *third = map_at(c, b.memory, offset, what);
        if (third != NULL) {
            EXPECT(robust_count_wrong(third, (size_t)(8192 - offset), 0xD0 + (uint64_t)round) == 0,
                   "%s: the map after the unmap shows other bytes", what);
            vkUnmapMemory(c->device, b.memory);
        }
        robust_expect_clean(c, &before, what);
        release(c, &b);
    }
    if (n != NULL) EXPECT(robust_count_wrong(n, 16384, 0xE16) == 0, "the neighbour's mapped bytes changed");
    vkUnmapMemory(c->device, neighbour.memory);
    release(c, &neighbour);
    return 0;
}

static int unmapping_unmapped_memory_warns_and_changes_no_mapping(context *c) {
    bound_memory a = bound(c, 8192, c->host_type), b = bound(c, 8192, c->host_type);
    unsigned char *pa = map_at(c, a.memory, 0, "a");
    vkUnmapMemory(c->device, a.memory);
    unsigned char *pb = map_at(c, b.memory, 0, "b");
    if (pb == NULL || pa == NULL) return 1;
    robust_fill(pb, 8192, 0xBB);
    for (int round = 0; round < 8; round++) {
        char what[96];
        snprintf(what, sizeof what, "stray unmap round %d", round);
        /* a is not mapped: the unmap warns and does nothing. */
        robust_watch before = robust_watch_now(c);
        vkUnmapMemory(c->device, a.memory);
        expect_refused(c, &before, false, VK_SUCCESS, STRICT_DEVICE_VIOLATION_UNMAP_NOT_MAPPED, what);
        /* b is still mapped: mapping it again must still fail. */
        before = robust_watch_now(c);
        void *again = NULL;
        VkResult result = vkMapMemory(c->device, b.memory, 0, VK_WHOLE_SIZE, 0, &again);
        expect_refused(c, &before, true, result, STRICT_DEVICE_VIOLATION_MAP_ALREADY_MAPPED,
                       "mapping b again after a stray unmap of a");
        /* a maps, once; b's mapping still reaches the GPU. */
        before = robust_watch_now(c);
        pa = map_at(c, a.memory, (VkDeviceSize)round * 512, what);
        if (pa != NULL) {
            robust_fill(pa, 8192 - (size_t)round * 512, 0xAA + (uint64_t)round);
            gpu_sees(c, a.buffer, (VkDeviceSize)round * 512, 8192 - (VkDeviceSize)round * 512, 0xAA + (uint64_t)round,
                     what);
            vkUnmapMemory(c->device, a.memory);
        }
        gpu_sees(c, b.buffer, 0, 8192, 0xBB, "b's mapping after stray unmaps");
        robust_expect_clean(c, &before, what);
    }
    /* Twice unmapped after a real unmap of b. */
    vkUnmapMemory(c->device, b.memory);
    robust_watch before = robust_watch_now(c);
    vkUnmapMemory(c->device, b.memory);
    expect_refused(c, &before, false, VK_SUCCESS, STRICT_DEVICE_VIOLATION_UNMAP_NOT_MAPPED, "b unmapped twice");
    before = robust_watch_now(c);
    pb = map_at(c, b.memory, 0, "b after a double unmap");
    if (pb != NULL) {
        EXPECT(robust_count_wrong(pb, 8192, 0xBB) == 0, "b's bytes changed across a double unmap");
        vkUnmapMemory(c->device, b.memory);
    }
    robust_expect_clean(c, &before, "b mapped after a double unmap");
    release(c, &a);
    release(c, &b);
    return 0;
}

/* allocationSize just above a whole number of atoms, so that the slice the
 * layer keeps is longer than the allocation: maps are held to allocationSize. */
static int map_ranges_are_held_to_allocation_size_not_the_slice(context *c) {
    uint32_t types[2] = {c->host_type, c->noncoherent_type};
    for (uint32_t t = 0; t < 2; t++) {
        uint32_t type = types[t];
        if (type == UINT32_MAX) continue;
        for (int round = 0; round < 4; round++) {
            const VkDeviceSize buffer_size = 4096;
            VkDeviceSize size = 4096 + 100 + 64 * (VkDeviceSize)round; /* allocationSize */
            char what[128];
            snprintf(what, sizeof what, "type %u, allocationSize %llu", type, (unsigned long long)size);
            VkBuffer buffer = make_buffer(c, buffer_size);
            VkMemoryRequirements needs = buffer_needs(c, buffer);
            if (needs.size > size) {
                vkDestroyBuffer(c->device, buffer, NULL);
                continue;
            }
            VkDeviceMemory memory = robust_gpu_allocate(c, size, type);
            /* The slice is fixed by the bind (odd rounds) or the first map (even). */
            robust_watch before = robust_watch_now(c);
            if (round % 2) {
                EXPECT(vkBindBufferMemory(c->device, buffer, memory, 0) == VK_SUCCESS, "%s: bind", what);
                unsigned char *p = map_at(c, memory, 0, what);
                if (p) vkUnmapMemory(c->device, memory);
            } else {
                unsigned char *p = map_at(c, memory, 0, what);
                if (p) vkUnmapMemory(c->device, memory);
                EXPECT(vkBindBufferMemory(c->device, buffer, memory, 0) == VK_SUCCESS, "%s: bind", what);
            }
            robust_expect_clean(c, &before, what);
            struct {
                VkDeviceSize offset, length;
                const char *name;
            } bad[] = {
                {0, size + 1, "one byte past allocationSize"},
                {0, round_up(size, c->atom), "up to the next atom"},
                {0, round_up(size, 4096), "up to the next 4 KiB"},
                {size, VK_WHOLE_SIZE, "at allocationSize, to the end"},
                {size, 1, "one byte at allocationSize"},
                {round_up(size, c->atom), VK_WHOLE_SIZE, "at the next atom, to the end"},
                {size - 1, 2, "across allocationSize"},
                {0, 0, "no bytes"},
                {256, UINT64_MAX - 128, "a range whose end overflows"},
                {UINT64_MAX - 8, 16, "an offset near UINT64_MAX"},
            };
            for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
                char rule[192];
                snprintf(rule, sizeof rule, "%s: mapping [%llu, +%llu) (%s)", what, (unsigned long long)bad[k].offset,
                         (unsigned long long)bad[k].length, bad[k].name);
                before = robust_watch_now(c);
                void *data = NULL;
                VkResult result = vkMapMemory(c->device, memory, bad[k].offset, bad[k].length, 0, &data);
                expect_refused(c, &before, true, result, STRICT_DEVICE_VIOLATION_MAP_RANGE, rule);
                if (c->layer)
                    EXPECT(result == VK_ERROR_MEMORY_MAP_FAILED, "%s: returned %s, not VK_ERROR_MEMORY_MAP_FAILED",
                           rule, robust_result_name(result));
                if (result == VK_SUCCESS) vkUnmapMemory(c->device, memory);
            }
            /* Valid: [size - 1, WHOLE) is the last byte, [0, size) the whole, [atom, WHOLE) the tail. The bytes
             * written through each must be where the buffer (the first 4096 bytes) has them. */
            before = robust_watch_now(c);
            unsigned char *whole = NULL;
            void *data = NULL;
            VkResult result = vkMapMemory(c->device, memory, 0, size, 0, &data);
            EXPECT(result == VK_SUCCESS, "%s: mapping exactly [0, allocationSize) returned %s", what,
                   robust_result_name(result));
            whole = data;
            if (whole != NULL) {
                robust_fill(whole, (size_t)size, 0x51CE + (uint64_t)round);
                if (type == c->noncoherent_type) {
                    VkMappedMemoryRange range = {
                        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
                    EXPECT(vkFlushMappedMemoryRanges(c->device, 1, &range) == VK_SUCCESS, "%s: flush", what);
                }
                vkUnmapMemory(c->device, memory);
                gpu_sees(c, buffer, 0, buffer_size, 0x51CE + (uint64_t)round, what);
            }
            /* Coherent: the last byte, an atom in, 8 bytes before the buffer's end; non-coherent memory is
             * flushed and invalidated by whole atoms, so there the offsets are on atoms. */
            bool coherent = type == c->host_type;
            VkDeviceSize tail_offsets[3] = {coherent ? size - 1 : (size - 1) / c->atom * c->atom, c->atom,
                                            coherent ? buffer_size - 8 : buffer_size - c->atom};
            unsigned char *pattern = malloc((size_t)size);
            robust_fill(pattern, (size_t)size, 0x51CE + (uint64_t)round);
            for (size_t k = 0; k < 3 && whole != NULL; k++) {
                VkDeviceSize offset = tail_offsets[k];
                result = vkMapMemory(c->device, memory, offset, VK_WHOLE_SIZE, 0, &data);
                EXPECT(result == VK_SUCCESS, "%s: mapping [%llu, WHOLE) returned %s", what, (unsigned long long)offset,
                       robust_result_name(result));
                if (result != VK_SUCCESS) continue;
                unsigned char *tail = data;
                VkMappedMemoryRange range = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                                             .memory = memory,
                                             .offset = offset,
                                             .size = VK_WHOLE_SIZE};
                if (!coherent)
                    EXPECT(vkInvalidateMappedMemoryRanges(c->device, 1, &range) == VK_SUCCESS, "%s: invalidate", what);
                /* tail[0] is byte `offset` of the memory. */
                size_t n = (size_t)(size - offset) < 16 ? (size_t)(size - offset) : 16;
                EXPECT(memcmp(tail, pattern + offset, n) == 0, "%s: [%llu, WHOLE) does not start at byte %llu", what,
                       (unsigned long long)offset, (unsigned long long)offset);
                /* Bytes written through it must be where the GPU reads them. */
                memset(tail, 0xC3 + (int)k, n);
                memset(pattern + offset, 0xC3 + (int)k, n);
                if (!coherent) EXPECT(vkFlushMappedMemoryRanges(c->device, 1, &range) == VK_SUCCESS, "%s: flush", what);
                vkUnmapMemory(c->device, memory);
                const unsigned char *gpu = gpu_read(c, buffer, 0, buffer_size, what);
                if (gpu != NULL)
                    EXPECT(memcmp(gpu, pattern, (size_t)buffer_size) == 0,
                           "%s: after writing through [%llu, WHOLE) the GPU reads other bytes", what,
                           (unsigned long long)offset);
            }
            free(pattern);
            robust_expect_clean(c, &before, what);
            vkDestroyBuffer(c->device, buffer, NULL);
            vkFreeMemory(c->device, memory, NULL);
        }
    }
    return 0;
}

/* ---- threads ---------------------------------------------------------------------------------- */

typedef enum thread_op { OP_BIND, OP_MAP_WRITE_UNMAP, OP_MAP_KEEP, OP_CHECK_UNMAP } thread_op;

typedef struct thread_job {
    context *c;
    thread_op op;
    bound_memory *b;
    uint64_t seed;
    VkDeviceSize offset;
    unsigned char *mapped;
    VkResult result;
} thread_job;

static void *thread_job_main(void *arg) {
    thread_job *job = arg;
    context *c = job->c;
    switch (job->op) {
    case OP_BIND: job->result = vkBindBufferMemory(c->device, job->b->buffer, job->b->memory, 0); break;
    case OP_MAP_WRITE_UNMAP:
    case OP_MAP_KEEP: {
        void *data = NULL;
        job->result = vkMapMemory(c->device, job->b->memory, job->offset, VK_WHOLE_SIZE, 0, &data);
        if (job->result != VK_SUCCESS) break;
        robust_fill(data, (size_t)(job->b->size - job->offset), job->seed);
        if (job->op == OP_MAP_KEEP) job->mapped = data;
        else vkUnmapMemory(c->device, job->b->memory);
        break;
    }
    case OP_CHECK_UNMAP:
        job->result = robust_count_wrong(job->mapped, (size_t)(job->b->size - job->offset), job->seed) == 0
                          ? VK_SUCCESS
                          : VK_ERROR_UNKNOWN;
        vkUnmapMemory(c->device, job->b->memory);
        break;
    }
    return NULL;
}

static VkResult run_on_thread(thread_job *job) {
    pthread_t thread;
    pthread_create(&thread, NULL, thread_job_main, job);
    pthread_join(thread, NULL);
    return job->result;
}

/* Each allocation: bound on one thread, mapped and written on a second,
 * (sometimes) kept mapped and unmapped on a third; the GPU reads the bytes. A
 * neighbour mapped on the main thread keeps the block mapped in half the rounds. */
static int a_map_on_another_thread_after_a_bind_reaches_the_bound_buffer(context *c) {
    bound_memory keeper = bound(c, 4096, c->host_type);
    unsigned char *kept = NULL;
    for (int round = 0; round < 48; round++) {
        char what[96];
        snprintf(what, sizeof what, "cross-thread round %d", round);
        if (round == 24) kept = map_at(c, keeper.memory, 0, "keeper");
        bool noncoherent = c->noncoherent_type != UINT32_MAX && round % 3 == 2;
        VkDeviceSize size = 4096 + 1024 * (VkDeviceSize)(round % 5);
        bound_memory b = {.buffer = make_buffer(c, size), .size = size};
        VkMemoryRequirements needs = buffer_needs(c, b.buffer);
        b.memory = robust_gpu_allocate(c, needs.size, noncoherent ? c->noncoherent_type : c->host_type);
        robust_watch before = robust_watch_now(c);
        thread_job bind_job = {.c = c, .op = OP_BIND, .b = &b};
        VkResult result = run_on_thread(&bind_job);
        EXPECT(result == VK_SUCCESS, "%s: the bind on thread 1 returned %s", what, robust_result_name(result));
        VkDeviceSize offset = noncoherent ? c->atom * (VkDeviceSize)(round % 4) : 64 * (VkDeviceSize)(round % 7);
        uint64_t seed = 0xC0550 + (uint64_t)round;
        bool keep = round % 2 == 0 && !noncoherent;
        thread_job map_job = {
            .c = c, .op = keep ? OP_MAP_KEEP : OP_MAP_WRITE_UNMAP, .b = &b, .seed = seed, .offset = offset};
        result = run_on_thread(&map_job);
        EXPECT(result == VK_SUCCESS, "%s: the map on thread 2 returned %s", what, robust_result_name(result));
        if (noncoherent && result == VK_SUCCESS) {
            /* Written and unmapped without a flush on thread 2: map again here and flush what it wrote. */
            unsigned char *p = map_at(c, b.memory, offset, what);
            if (p != NULL) {
                robust_fill(p, (size_t)(size - offset), seed);
                VkMappedMemoryRange range = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                                             .memory = b.memory,
                                             .offset = offset,
                                             .size = VK_WHOLE_SIZE};
                EXPECT(vkFlushMappedMemoryRanges(c->device, 1, &range) == VK_SUCCESS, "%s: flush", what);
                vkUnmapMemory(c->device, b.memory);
            }
        }
        if (result == VK_SUCCESS) gpu_sees(c, b.buffer, offset, size - offset, seed, what);
        if (keep && result == VK_SUCCESS) {
            thread_job check_job = map_job;
            check_job.op = OP_CHECK_UNMAP;
            result = run_on_thread(&check_job);
            EXPECT(result == VK_SUCCESS, "%s: the mapping kept from thread 2 read other bytes on thread 3", what);
            /* Unmapped on thread 3: it maps again here. */
            unsigned char *p = map_at(c, b.memory, 0, what);
            if (p) vkUnmapMemory(c->device, b.memory);
        }
        robust_expect_clean(c, &before, what);
        release(c, &b);
    }
    if (kept) vkUnmapMemory(c->device, keeper.memory);
    release(c, &keeper);
    return 0;
}

/* Four threads, 24 allocations each (every fourth non-coherent where the
 * device has such memory), all in the same few blocks: each bound by another
 * thread than the one that maps it, then 24 rounds in which every thread maps
 * its allocations at an offset, checks what the host and the GPU left there,
 * writes a pattern, flushes, and unmaps or keeps the mapping, while churning a
 * mapped allocation of its own in the same pool. Between rounds the GPU copies
 * every buffer out (every byte must be the last the host wrote) and fills a
 * piece of each (the next round's mapping must see it). */
#define MT_THREADS 4u
#define MT_PER_THREAD 24u
#define MT_COUNT (MT_THREADS * MT_PER_THREAD)
#define MT_ROUNDS 24u

typedef struct mt_alloc {
    bound_memory b;
    bool noncoherent;
    unsigned char *shadow; /* what the allocation must hold */
    unsigned char *mapped; /* kept mapping, from mapped_offset */
    VkDeviceSize mapped_offset;
} mt_alloc;

typedef struct mt_shared {
    context *c;
    mt_alloc allocs[MT_COUNT];
    pthread_barrier_t start, end;
    uint32_t round;
    bool stop;
    bool bind_phase;
} mt_shared;

typedef struct mt_worker {
    mt_shared *s;
    uint32_t index;
    robust_rng rng;
} mt_worker;

static void mt_sync(context *c, mt_alloc *a, VkDeviceSize offset, bool flush) {
    if (!a->noncoherent) return;
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = a->b.memory, .offset = offset, .size = VK_WHOLE_SIZE};
    VkResult result =
        flush ? vkFlushMappedMemoryRanges(c->device, 1, &range) : vkInvalidateMappedMemoryRanges(c->device, 1, &range);
    EXPECT(result == VK_SUCCESS, "%s returned %s", flush ? "flush" : "invalidate", robust_result_name(result));
}

static void mt_round(mt_worker *w) {
    mt_shared *s = w->s;
    context *c = s->c;
    for (uint32_t k = 0; k < MT_PER_THREAD; k++) {
        mt_alloc *a = &s->allocs[w->index * MT_PER_THREAD + k];
        VkDeviceSize size = a->b.size;
        unsigned char *at = a->mapped;
        VkDeviceSize offset = a->mapped_offset;
        if (at == NULL) {
            offset = robust_rng_below(&w->rng, 4) * c->atom;
            if (offset >= size) offset = 0;
            void *data = NULL;
            VkDeviceSize length = robust_rng_below(&w->rng, 2) ? VK_WHOLE_SIZE : size - offset;
            VkResult result = vkMapMemory(c->device, a->b.memory, offset, length, 0, &data);
            EXPECT(result == VK_SUCCESS, "thread %u, round %u: mapping allocation %u at %llu returned %s", w->index,
                   s->round, k, (unsigned long long)offset, robust_result_name(result));
            if (result != VK_SUCCESS) continue;
            at = data;
        }
        mt_sync(c, a, offset, false);
        size_t wrong = 0;
        for (VkDeviceSize i = offset; i < size; i++) wrong += at[i - offset] != a->shadow[i];
        EXPECT(wrong == 0,
               "thread %u, round %u: allocation %u (%s, mapped at %llu%s) shows %zu of %llu bytes other "
               "than the host and the GPU left there",
               w->index, s->round, k, a->noncoherent ? "non-coherent" : "coherent", (unsigned long long)offset,
               a->mapped ? ", kept" : "", wrong, (unsigned long long)(size - offset));
        uint64_t seed = ((uint64_t)s->round << 32) ^ ((uint64_t)w->index << 16) ^ k;
        robust_fill(at, (size_t)(size - offset), seed);
        memcpy(a->shadow + offset, at, (size_t)(size - offset));
        mt_sync(c, a, offset, true);
        if (robust_rng_below(&w->rng, 3) == 0) {
            a->mapped = at;
            a->mapped_offset = offset;
        } else {
            vkUnmapMemory(c->device, a->b.memory);
            a->mapped = NULL;
        }
        /* Churn in the same pool: allocate, map, write, and free, unmapped or not. */
        if (k % 4 == 0) {
            VkDeviceMemory churn = VK_NULL_HANDLE;
            uint32_t type = a->noncoherent ? c->noncoherent_type : c->host_type;
            if (robust_allocate(c->device, 2048 + 512 * robust_rng_below(&w->rng, 8), type, &churn) == VK_SUCCESS) {
                void *data = NULL;
                if (vkMapMemory(c->device, churn, 0, VK_WHOLE_SIZE, 0, &data) == VK_SUCCESS) {
                    memset(data, 0xEE, 2048);
                    if (robust_rng_below(&w->rng, 2)) vkUnmapMemory(c->device, churn);
                }
                vkFreeMemory(c->device, churn, NULL);
            }
        }
    }
}

static void *mt_main(void *arg) {
    mt_worker *w = arg;
    mt_shared *s = w->s;
    for (;;) {
        pthread_barrier_wait(&s->start);
        if (s->stop) break;
        if (s->bind_phase) {
            /* Bind the next thread's allocations. */
            uint32_t owner = (w->index + 1) % MT_THREADS;
            for (uint32_t k = 0; k < MT_PER_THREAD; k++) {
                mt_alloc *a = &s->allocs[owner * MT_PER_THREAD + k];
                VkResult result = vkBindBufferMemory(s->c->device, a->b.buffer, a->b.memory, 0);
                EXPECT(result == VK_SUCCESS, "thread %u: binding allocation %u of thread %u returned %s", w->index, k,
                       owner, robust_result_name(result));
            }
        } else {
            mt_round(w);
        }
        pthread_barrier_wait(&s->end);
    }
    return NULL;
}

static int threads_mapping_one_block_at_once_lose_no_byte(context *c) {
    mt_shared *s = calloc(1, sizeof *s);
    if (s == NULL) return 1;
    s->c = c;
    VkDeviceSize readback_offsets[MT_COUNT], total = 0;
    for (uint32_t i = 0; i < MT_COUNT; i++) {
        mt_alloc *a = &s->allocs[i];
        a->noncoherent = c->noncoherent_type != UINT32_MAX && i % 4 == 3;
        a->b.size = 2048 + 1024 * (VkDeviceSize)(i % 7);
        a->b.buffer = make_buffer(c, a->b.size);
        VkMemoryRequirements needs = buffer_needs(c, a->b.buffer);
        a->b.memory = robust_gpu_allocate(c, needs.size, a->noncoherent ? c->noncoherent_type : c->host_type);
        a->shadow = calloc(1, (size_t)a->b.size);
        readback_offsets[i] = total;
        total += round_up(a->b.size, 256);
    }
    /* The memory's first bytes are undefined until written: the first round writes all. */
    pthread_barrier_init(&s->start, NULL, MT_THREADS + 1);
    pthread_barrier_init(&s->end, NULL, MT_THREADS + 1);
    mt_worker workers[MT_THREADS];
    pthread_t threads[MT_THREADS];
    for (uint32_t t = 0; t < MT_THREADS; t++) {
        workers[t] = (mt_worker){.s = s, .index = t, .rng = {.state = 0x7E57 + t}};
        pthread_create(&threads[t], NULL, mt_main, &workers[t]);
    }
    s->bind_phase = true;
    pthread_barrier_wait(&s->start);
    pthread_barrier_wait(&s->end);
    s->bind_phase = false;
    /* Seed every shadow with what the memory holds now: map once on this thread (also a map before round 0). */
    for (uint32_t i = 0; i < MT_COUNT; i++) {
        mt_alloc *a = &s->allocs[i];
        unsigned char *p = map_at(c, a->b.memory, 0, "seeding");
        if (p == NULL) continue;
        robust_fill(p, (size_t)a->b.size, 0x5EED0000 + i);
        memcpy(a->shadow, p, (size_t)a->b.size);
        mt_sync(c, a, 0, true);
        vkUnmapMemory(c->device, a->b.memory);
    }
    robust_watch before = robust_watch_now(c);
    for (uint32_t round = 0; round < MT_ROUNDS && robust_failures() == 0; round++) {
        s->round = round;
        pthread_barrier_wait(&s->start);
        pthread_barrier_wait(&s->end);
        /* Every byte, as the GPU reads it. */
        if (!robust_gpu_begin(c)) break;
        for (uint32_t i = 0; i < MT_COUNT; i++)
            gpu_copy(c, s->allocs[i].b.buffer, 0, c->readback, readback_offsets[i], s->allocs[i].b.size);
        if (!robust_gpu_submit(c, "reading every allocation")) break;
        for (uint32_t i = 0; i < MT_COUNT; i++) {
            mt_alloc *a = &s->allocs[i];
            size_t wrong = 0;
            for (VkDeviceSize b = 0; b < a->b.size; b++)
                wrong += c->readback_bytes[readback_offsets[i] + b] != a->shadow[b];
            EXPECT(wrong == 0,
                   "round %u: the GPU read %zu of %llu bytes of allocation %u (%s) other than the host wrote", round,
                   wrong, (unsigned long long)a->b.size, i, a->noncoherent ? "non-coherent" : "coherent");
        }
        /* The GPU writes a piece of each; the next round's mapping must show it. */
        if (!robust_gpu_begin(c)) break;
        for (uint32_t i = 0; i < MT_COUNT; i++) {
            uint32_t value = 0x01010101u * ((round + i) % 251 + 1);
            VkDeviceSize at = 256 * ((round + i) % 4);
            vkCmdFillBuffer(c->commands, s->allocs[i].b.buffer, at, 512, value);
            memset(s->allocs[i].shadow + at, (int)(value & 0xFF), 512);
        }
        if (!robust_gpu_submit(c, "filling every allocation")) break;
    }
    s->stop = true;
    pthread_barrier_wait(&s->start);
    for (uint32_t t = 0; t < MT_THREADS; t++) pthread_join(threads[t], NULL);
    robust_expect_clean(c, &before, "four threads mapping one block");
    for (uint32_t i = 0; i < MT_COUNT; i++) {
        if (s->allocs[i].mapped && i % 2) vkUnmapMemory(c->device, s->allocs[i].b.memory);
        release(c, &s->allocs[i].b); /* the rest freed while mapped */
        free(s->allocs[i].shadow);
    }
    pthread_barrier_destroy(&s->start);
    pthread_barrier_destroy(&s->end);
    free(s);
    return 0;
}

/* Mapped memory freed without an unmap (the spec unmaps it), among others of
 * the same block kept mapped: their pointers keep working, the freed bytes go
 * to new allocations that map and work. */
static int freeing_mapped_memory_leaves_the_blocks_other_mappings_working(context *c) {
    enum { KEPT = 6, ROUNDS = 200 };
    bound_memory kept[KEPT];
    unsigned char *kept_at[KEPT];
    for (int i = 0; i < KEPT; i++) {
        kept[i] = bound(c, 4096, c->host_type);
        kept_at[i] = map_at(c, kept[i].memory, 0, "kept");
        if (kept_at[i] == NULL) return 1;
        robust_fill(kept_at[i], 4096, 0x4E97 + (uint64_t)i);
    }
    robust_watch before = robust_watch_now(c);
    for (int round = 0; round < ROUNDS && robust_failures() == 0; round++) {
        bound_memory fresh[3];
        for (int k = 0; k < 3; k++) {
            fresh[k] = bound(c, 2048 + 2048 * (VkDeviceSize)k, c->host_type);
            unsigned char *p = map_at(c, fresh[k].memory, 0, "fresh");
            if (p == NULL) continue;
            robust_fill(p, (size_t)fresh[k].size, (uint64_t)round * 8 + (uint64_t)k);
            gpu_sees(c, fresh[k].buffer, 0, fresh[k].size, (uint64_t)round * 8 + (uint64_t)k, "fresh allocation");
            if (k == 2) vkUnmapMemory(c->device, fresh[k].memory);
        }
        /* Two go mapped, one unmapped; in varying order. */
        for (int k = 0; k < 3; k++) release(c, &fresh[(k + round) % 3]);
        if (c->strict)
            EXPECT(robust_strict_counters(&c->dev).live_mappings > 0,
                   "round %d: no driver mapping is live while %d allocations are mapped", round, KEPT);
        int i = round % KEPT;
        robust_fill(kept_at[i], 4096, 0x4E97 + (uint64_t)i + (uint64_t)round * 16);
        char what[96];
        snprintf(what, sizeof what, "round %d: kept mapping %d after frees of mapped memory", round, i);
        gpu_sees(c, kept[i].buffer, 0, 4096, 0x4E97 + (uint64_t)i + (uint64_t)round * 16, what);
    }
    robust_expect_clean(c, &before, "frees of mapped memory");
    for (int i = 0; i < KEPT; i++) {
        if (i % 2) vkUnmapMemory(c->device, kept[i].memory);
        release(c, &kept[i]);
    }
    return 0;
}

/* A handle after vkFreeMemory, its record then reused by the next allocation
 * of the same size on the same thread. The stale handle in map, unmap, flush
 * and bind is refused with a message, and the live allocation is untouched:
 * still mapped (a second map of it fails), its bytes where the GPU reads them,
 * its buffer bindable. */
static int stale_handles_are_refused_and_leave_the_records_new_owner_alone(context *c) {
    if (!c->layer) {
        printf("    a stale handle reaching the driver is undefined behaviour: layer chains only\n");
        return ROBUST_EXIT_SKIPPED;
    }
    for (int round = 0; round < 12; round++) {
        char what[96];
        snprintf(what, sizeof what, "stale handle round %d", round);
        bool was_mapped_at_free = round % 3 == 0, was_bound = round % 2 == 0;
        bound_memory old = {.buffer = make_buffer(c, 8192), .size = 8192};
        old.memory = robust_gpu_allocate(c, buffer_needs(c, old.buffer).size, c->host_type);
        if (was_bound) EXPECT(vkBindBufferMemory(c->device, old.buffer, old.memory, 0) == VK_SUCCESS, "bind");
        unsigned char *p = map_at(c, old.memory, 0, what);
        if (p) robust_fill(p, 8192, 1);
        if (!was_mapped_at_free) vkUnmapMemory(c->device, old.memory);
        VkDeviceMemory stale = old.memory;
        vkDestroyBuffer(c->device, old.buffer, NULL);
        vkFreeMemory(c->device, stale, NULL);
        /* The next allocation of the same size: the record may come back under a new generation. */
        bound_memory now = bound(c, 8192, c->host_type);
        EXPECT(now.memory != stale, "%s: a new allocation got the freed handle's exact value", what);
        unsigned char *live = map_at(c, now.memory, 0, what);
        if (live == NULL) return 1;
        robust_fill(live, 8192, 0x57A1E + (uint64_t)round);

        robust_watch before = robust_watch_now(c);
        void *data = NULL;
        VkResult result = vkMapMemory(c->device, stale, 0, VK_WHOLE_SIZE, 0, &data);
        expect_refused(c, &before, true, result, -1, "mapping a stale handle");
        EXPECT(result == VK_ERROR_MEMORY_MAP_FAILED, "%s: mapping the stale handle returned %s", what,
               robust_result_name(result));
        before = robust_watch_now(c);
        vkUnmapMemory(c->device, stale);
        expect_refused(c, &before, false, VK_SUCCESS, -1, "unmapping a stale handle");
        VkMappedMemoryRange range = {
            .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = stale, .size = VK_WHOLE_SIZE};
        before = robust_watch_now(c);
        result = vkFlushMappedMemoryRanges(c->device, 1, &range);
        expect_refused(c, &before, true, result, -1, "flushing a stale handle");
        VkBuffer buffer = make_buffer(c, 4096);
        before = robust_watch_now(c);
        result = vkBindBufferMemory(c->device, buffer, stale, 0);
        expect_refused(c, &before, true, result, -1, "binding a buffer to a stale handle");
        VkImageCreateInfo info = robust_transfer_image_info(8, VK_IMAGE_TILING_OPTIMAL);
        VkImage image;
        if (vkCreateImage(c->device, &info, NULL, &image) == VK_SUCCESS) {
            image_needs(c, image);
            before = robust_watch_now(c);
            result = vkBindImageMemory(c->device, image, stale, 0);
            expect_refused(c, &before, true, result, -1, "binding an image to a stale handle");
            vkDestroyImage(c->device, image, NULL);
        }
        /* The live allocation: still mapped, its bytes intact and on the GPU, the refused buffer binds to it. */
        before = robust_watch_now(c);
        result = vkMapMemory(c->device, now.memory, 0, VK_WHOLE_SIZE, 0, &data);
        EXPECT(result == VK_ERROR_MEMORY_MAP_FAILED,
               "%s: the live allocation mapped again (%s) after a stale unmap: the stale handle unmapped it", what,
               robust_result_name(result));
        if (result == VK_SUCCESS) vkUnmapMemory(c->device, now.memory);
        before = robust_watch_now(c);
        EXPECT(robust_count_wrong(live, 8192, 0x57A1E + (uint64_t)round) == 0, "%s: the live mapping's bytes changed",
               what);
        gpu_sees(c, now.buffer, 0, 8192, 0x57A1E + (uint64_t)round, what);
        result = vkBindBufferMemory(c->device, buffer, now.memory, 4096);
        EXPECT(result == VK_SUCCESS, "%s: the buffer refused with the stale handle does not bind to live memory: %s",
               what, robust_result_name(result));
        if (result == VK_SUCCESS) {
            const unsigned char *gpu = gpu_read(c, buffer, 0, 4096, what);
            if (gpu != NULL)
                EXPECT(memcmp(gpu, live + 4096, 4096) == 0,
                       "%s: a buffer bound at 4096 of the live allocation reads other bytes than its mapping", what);
        }
        robust_expect_clean(c, &before, what);
        vkDestroyBuffer(c->device, buffer, NULL);
        vkUnmapMemory(c->device, now.memory);
        release(c, &now);
    }
    return 0;
}

/* ==== the JSON dump ============================================================================ */

#define DUMP_MEMORIES 48u

typedef enum dump_kind {
    DUMP_BUFFER,
    DUMP_IMAGE,
    DUMP_BOTH_ALIASED,
    DUMP_BOTH_APART,
    DUMP_NOTHING,
    DUMP_KINDS
} dump_kind;

typedef struct dump_shared {
    context *c;
    VkDeviceMemory memory[DUMP_MEMORIES];
    VkBuffer buffers[DUMP_MEMORIES];
    VkImage images[DUMP_MEMORIES];
    VkDeviceSize image_offset[DUMP_MEMORIES];
    _Atomic uint32_t arrived;
    _Atomic uint64_t bind_failures;
} dump_shared;

static dump_kind kind_of(uint32_t i) { return (dump_kind)(i % DUMP_KINDS); }

typedef struct dump_worker {
    dump_shared *s;
    bool images;
} dump_worker;

static void *dump_bind_main(void *arg) {
    dump_worker *w = arg;
    dump_shared *s = w->s;
    atomic_fetch_add(&s->arrived, 1);
    for (uint32_t spins = 0; atomic_load(&s->arrived) < 2; spins++)
        if (spins % 256 == 255) sched_yield();
    for (uint32_t i = 0; i < DUMP_MEMORIES; i++) {
        VkResult result = VK_SUCCESS;
        if (w->images && s->images[i] != VK_NULL_HANDLE)
            result = vkBindImageMemory(s->c->device, s->images[i], s->memory[i], s->image_offset[i]);
        else if (!w->images && s->buffers[i] != VK_NULL_HANDLE)
            result = vkBindBufferMemory(s->c->device, s->buffers[i], s->memory[i], 0);
        if (result != VK_SUCCESS) {
            atomic_fetch_add(&s->bind_failures, 1);
            fprintf(stderr, "dump: %s bind into memory %u returned %s\n", w->images ? "image" : "buffer", i,
                    robust_result_name(result));
        }
    }
    return NULL;
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)length + 1);
    if (text != NULL && fread(text, 1, (size_t)length, f) != (size_t)length) {
        free(text);
        text = NULL;
    }
    if (text != NULL) text[length] = '\0';
    fclose(f);
    return text;
}

/* The "Type" of the JSON object that holds "Name": "<name>"; "" when not found. */
static void type_named(const char *text, const char *name, char *out, size_t out_size) {
    out[0] = '\0';
    char needle[128];
    snprintf(needle, sizeof needle, "\"Name\": \"%s\"", name);
    const char *at = strstr(text, needle);
    if (at == NULL) return;
    const char *open = at;
    while (open > text && *open != '{') open--;
    const char *close = strchr(at, '}');
    const char *type = strstr(open, "\"Type\": \"");
    if (type == NULL || (close != NULL && type > close)) return;
    type += strlen("\"Type\": \"");
    size_t n = strcspn(type, "\"");
    if (n >= out_size) n = out_size - 1;
    memcpy(out, type, n);
    out[n] = '\0';
}

static int dump_names_what_threads_bound_into_each_allocation(context *c) {
    if (!c->layer) {
        printf("    the dump is the layer's: layer chains only\n");
        return ROBUST_EXIT_SKIPPED;
    }
    /* set_up made the instance before this case set the dump file: a second instance reads it. */
    char folder[] = "/tmp/fast_paths_dump.XXXXXX";
    if (mkdtemp(folder) == NULL) return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/dump.json", folder);
    setenv("VK_TRANSPARENT_SUBALLOC_STATS_JSON_FILE", path, 1);
    context d = {0};
    if (!robust_gpu_set_up(&d, READBACK_SIZE)) {
        robust_gpu_tear_down(&d);
        return 1;
    }
    PFN_vkSetDebugUtilsObjectNameEXT set_name =
        (PFN_vkSetDebugUtilsObjectNameEXT)vkGetInstanceProcAddr(d.vk.instance, "vkSetDebugUtilsObjectNameEXT");
    dump_shared *s = calloc(1, sizeof *s);
    s->c = &d;
    VkImageCreateInfo info = robust_transfer_image_info(16, VK_IMAGE_TILING_OPTIMAL);
    info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    for (int round = 0; round < 3; round++) {
        atomic_store(&s->arrived, 0);
        for (uint32_t i = 0; i < DUMP_MEMORIES; i++) {
            s->buffers[i] = VK_NULL_HANDLE;
            s->images[i] = VK_NULL_HANDLE;
            dump_kind kind = kind_of(i);
            VkMemoryRequirements buffer_req = {0}, image_req = {0};
            if (kind == DUMP_BUFFER || kind == DUMP_BOTH_ALIASED || kind == DUMP_BOTH_APART) {
                s->buffers[i] = make_buffer(&d, 1024);
                buffer_req = buffer_needs(&d, s->buffers[i]);
            }
            if (kind == DUMP_IMAGE || kind == DUMP_BOTH_ALIASED || kind == DUMP_BOTH_APART) {
                EXPECT(vkCreateImage(d.device, &info, NULL, &s->images[i]) == VK_SUCCESS, "vkCreateImage");
                image_req = image_needs(&d, s->images[i]);
            }
            VkDeviceSize granularity = d.vk.properties.limits.bufferImageGranularity;
            s->image_offset[i] =
                kind == DUMP_BOTH_APART
                    ? round_up(buffer_req.size, image_req.alignment > granularity ? image_req.alignment : granularity)
                    : 0;
            VkDeviceSize size = s->image_offset[i] + image_req.size;
            if (buffer_req.size > size) size = buffer_req.size;
            if (size == 0) size = 4096;
            s->memory[i] = robust_gpu_allocate(&d, size, d.host_type);
            char name[64];
            snprintf(name, sizeof name, "redteam %d.%u", round, i);
            VkDebugUtilsObjectNameInfoEXT naming = {.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
                                                    .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
                                                    .objectHandle = (uint64_t)s->memory[i],
                                                    .pObjectName = name};
            if (set_name != NULL) set_name(d.device, &naming);
        }
        dump_worker workers[2] = {{s, false}, {s, true}};
        pthread_t threads[2];
        for (int t = 0; t < 2; t++) pthread_create(&threads[t], NULL, dump_bind_main, &workers[t]);
        for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
        for (uint32_t i = 0; i < DUMP_MEMORIES; i++) {
            vkDestroyBuffer(d.device, s->buffers[i], NULL);
            vkDestroyImage(d.device, s->images[i], NULL);
        }
        /* Every memory stays live: the dump at vkDestroyDevice lists them. */
    }
    EXPECT(atomic_load(&s->bind_failures) == 0, "%llu binds failed",
           (unsigned long long)atomic_load(&s->bind_failures));
    robust_gpu_tear_down(&d);
    unsetenv("VK_TRANSPARENT_SUBALLOC_STATS_JSON_FILE");
    char *text = read_text(path);
    EXPECT(text != NULL, "no dump at %s", path);
    if (text != NULL) {
        uint32_t checked = 0, both_buffer = 0, both_image = 0;
        for (int round = 0; round < 3; round++) {
            for (uint32_t i = 0; i < DUMP_MEMORIES; i++) {
                char name[64], type[32];
                snprintf(name, sizeof name, "redteam %d.%u", round, i);
                type_named(text, name, type, sizeof type);
                dump_kind kind = kind_of(i);
                bool ok;
                const char *expected;
                switch (kind) {
                case DUMP_BUFFER:
                    expected = "BUFFER";
                    ok = strcmp(type, "BUFFER") == 0;
                    break;
                case DUMP_IMAGE:
                    expected = "IMAGE_UNKNOWN";
                    ok = strcmp(type, "IMAGE_UNKNOWN") == 0;
                    break;
                case DUMP_NOTHING:
                    expected = "UNKNOWN";
                    ok = strcmp(type, "UNKNOWN") == 0;
                    break;
                default:
                    expected = "BUFFER or IMAGE_UNKNOWN";
                    both_buffer += strcmp(type, "BUFFER") == 0;
                    both_image += strcmp(type, "IMAGE_UNKNOWN") == 0;
                    ok = strcmp(type, "BUFFER") == 0 || strcmp(type, "IMAGE_UNKNOWN") == 0;
                    break;
                }
                EXPECT(ok, "dump: \"%s\" (%s) has Type \"%s\", expected %s", name,
                       kind == DUMP_BOTH_ALIASED ? "buffer and image aliased"
                       : kind == DUMP_BOTH_APART ? "buffer and image apart"
                                                 : "one kind",
                       type, expected);
                checked++;
            }
        }
        printf("    %u allocations checked in the dump; those with both bound say BUFFER %u times, IMAGE_UNKNOWN %u\n",
               checked, both_buffer, both_image);
        free(text);
    }
    free(s);
    unlink(path);
    rmdir(folder);
    return 0;
}

/* ==== the table ================================================================================= */

static const robust_case cases[] = {
    {"a buffer reusing a destroyed buffer's handle is bound by its own size, whoever asked",
     reused_buffer_handle_is_held_to_its_own_size, NULL},
    {"an image reusing a destroyed image's handle is bound by its own alignment and size",
     reused_image_handle_is_held_to_its_own_alignment_and_size, NULL},
    {"a valid bind of an image reusing a destroyed image's handle lands on its own alignment",
     a_valid_bind_of_an_image_reusing_a_handle_lands_on_its_own_alignment, "STRICT_DEVICE_UNTILED_IMAGES=1"},
    {"an image given a destroyed buffer's handle is bound by the image's requirements",
     buffer_handle_reused_by_an_image_is_bound_by_the_images_requirements, NULL},
    {"remembered requirements never serve another handle, however many were asked",
     remembered_requirements_never_serve_another_handle, NULL},
    {"a buffer and an image aliased in one allocation bind at their own offsets and the GPU reads each there",
     aliased_buffer_and_image_bind_at_their_own_offsets, NULL},
    {"each plane of a disjoint image is bound by its own requirements",
     each_plane_of_a_disjoint_image_is_bound_by_its_own_requirements, NULL},
    {"mapping mapped memory again fails with VK_ERROR_MEMORY_MAP_FAILED and keeps the first mapping",
     mapping_mapped_memory_again_fails_and_keeps_the_first_mapping, NULL},
    {"unmapping memory that is not mapped warns and changes no mapping",
     unmapping_unmapped_memory_warns_and_changes_no_mapping, NULL},
    {"map ranges are held to allocationSize, not the slice, and VK_WHOLE_SIZE maps to its end",
     map_ranges_are_held_to_allocation_size_not_the_slice, NULL},
    {"a map on another thread than the bind reaches the bound buffer's bytes",
     a_map_on_another_thread_after_a_bind_reaches_the_bound_buffer, NULL},
    {"threads mapping allocations of one block at once lose no byte", threads_mapping_one_block_at_once_lose_no_byte,
     NULL},
    {"freeing mapped memory leaves the block's other mappings working",
     freeing_mapped_memory_leaves_the_blocks_other_mappings_working, NULL},
    {"stale handles are refused by map, unmap, flush and bind and leave the record's new owner alone",
     stale_handles_are_refused_and_leave_the_records_new_owner_alone, NULL},
    {"the JSON dump names what threads bound into each allocation at once",
     dump_names_what_threads_bound_into_each_allocation, NULL},
};

int main(int argc, char **argv) {
    return robust_run_cases("fast paths red team", cases, sizeof cases / sizeof cases[0], READBACK_SIZE, argc, argv);
}
