/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scratch_arena: per-thread bump memory for the temporaries of one call.
 *
 * An intercepted Vulkan call that must translate an app's array (bind infos,
 * sparse binds, flush ranges) opens a frame, bump-allocates its copies, and
 * closes the frame when it returns: the reset is O(1), whatever was allocated.
 * Frames nest (a frame remembers the bump position it started at) and close
 * in reverse order. A request that does not fit the arena's chunk falls back
 * to the heap and is still released when its frame closes; the chunk grows
 * (up to 1 MiB) once no frame is open, so a thread's usual peak stays on the
 * fast path.
 *
 * Each thread has its own arena, created on first use and released when the
 * thread exits, so no call here takes a lock.
 */
#ifndef SUBALLOC_SCRATCH_ARENA_H
#define SUBALLOC_SCRATCH_ARENA_H

#include <stddef.h>

typedef struct scratch_frame {
    void *arena;          /* the thread's arena; NULL when it could not be made */
    size_t start;         /* bump position when the frame opened */
    void *heap_fallbacks; /* the arena's newest oversized block when the frame
                             opened: the ones after it are this frame's */
    unsigned depth;       /* 1 for the outermost frame; 0 once closed */
} scratch_frame;

/* Opens a frame on this thread's arena. */
scratch_frame scratch_frame_begin(void);

/* size bytes aligned to align (a power of two, at most 4096; 0 means 1).
 * Valid until the frame closes. NULL when the host is out of memory, and for
 * misuse: a bad alignment, a closed frame, or a frame that is not the
 * innermost open one (its memory would vanish when the inner frame closes). */
void *scratch_alloc(scratch_frame *frame, size_t size, size_t align);

/* Releases everything allocated in the frame (and in frames opened after it).
 * Closing a frame that is already closed does nothing. */
void scratch_frame_end(scratch_frame *frame);

/* What the calling thread's arena holds now (all zero if it has none). */
typedef struct scratch_arena_stats {
    size_t chunk_bytes; /* the bump chunk */
    size_t used_bytes;  /* bump position */
    size_t heap_blocks; /* oversized blocks held by open frames */
    size_t heap_bytes;
    unsigned open_frames;
} scratch_arena_stats;

void scratch_arena_get_stats(scratch_arena_stats *out);

/* Arenas alive in the process (one per thread that used one and has not exited). */
size_t scratch_arena_live_count(void);

#endif
