/*
 * scratch_arena: per-thread bump memory for the temporaries of one call.
 *
 * An intercepted Vulkan call that must translate an app's array (bind infos,
 * sparse binds, flush ranges) opens a frame, bump-allocates its copies, and
 * closes the frame when it returns: the reset is O(1), whatever was allocated.
 * Frames nest (a frame remembers the bump position it started at). A request
 * larger than the arena's chunk falls back to the heap and is still released
 * when its frame closes.
 *
 * Each thread has its own arena, created on first use and released when the
 * thread exits, so no call here takes a lock.
 */
#ifndef SUBALLOC_SCRATCH_ARENA_H
#define SUBALLOC_SCRATCH_ARENA_H

#include <stddef.h>

typedef struct scratch_frame {
    void *arena;          /* the thread's arena */
    size_t start;         /* bump position when the frame opened */
    void *heap_fallbacks; /* oversized blocks to free when the frame closes */
} scratch_frame;

/* Opens a frame on this thread's arena. */
scratch_frame scratch_frame_begin(void);

/* size bytes aligned to align (a power of two, at most 4096); NULL only when
 * the host is out of memory. Valid until the frame closes. */
void *scratch_alloc(scratch_frame *frame, size_t size, size_t align);

/* Releases everything allocated in the frame (and in frames opened after it). */
void scratch_frame_end(scratch_frame *frame);

#endif
