/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scratch_arena: one bump chunk per thread, plus a stack of heap blocks for
 * what does not fit. Frames record the bump position and the newest heap block
 * when they open; closing a frame restores both.
 *
 * A pthread key's destructor releases the arena when its thread exits; the
 * thread-local pointer is initial-exec so that opening a frame costs no
 * __tls_get_addr call inside the layer's shared library.
 */
#include "scratch_arena.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "branch_hints.h"
#include "cache_lines.h"

#define INITIAL_CHUNK_BYTES ((size_t)64 << 10)
#define MAX_CHUNK_BYTES ((size_t)1 << 20)
#define MAX_ALIGN ((size_t)4096)

typedef struct heap_block {
    struct heap_block *next; /* older block */
    size_t bytes;
} heap_block;

typedef struct scratch_arena {
    char *base;
    size_t capacity;
    size_t pos;
    unsigned depth;   /* open frames */
    heap_block *heap; /* newest first */
    size_t heap_blocks;
    size_t heap_bytes;
    size_t peak_demand; /* bytes the chunk would have needed; grows it at depth 0 */
} scratch_arena;

static __thread scratch_arena *tls_arena __attribute__((tls_model("initial-exec")));

static pthread_once_t arena_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t arena_key;
static bool arena_key_ready;
static _Atomic size_t live_arenas;

/* ---- the thread's arena -------------------------------------------------------- */

static void heap_pop(scratch_arena *a) {
    heap_block *block = a->heap;
    a->heap = block->next;
    a->heap_blocks--;
    a->heap_bytes -= block->bytes;
    free(block);
}

static void arena_release(void *value) {
    scratch_arena *a = value;
    tls_arena = NULL;
    while (a->heap) heap_pop(a);
    free(a->base);
    free(a);
    atomic_fetch_sub(&live_arenas, 1);
}

static void arena_key_create(void) { arena_key_ready = pthread_key_create(&arena_key, arena_release) == 0; }

static scratch_arena *arena_create(void) {
    pthread_once(&arena_key_once, arena_key_create);
    if (!arena_key_ready) return NULL; /* nothing would release it */
    scratch_arena *a = cache_lines_calloc(sizeof *a);
    if (!a) return NULL;
    a->base = aligned_alloc(MAX_ALIGN, INITIAL_CHUNK_BYTES);
    if (!a->base || pthread_setspecific(arena_key, a) != 0) {
        free(a->base);
        free(a);
        return NULL;
    }
    a->capacity = INITIAL_CHUNK_BYTES;
    atomic_fetch_add(&live_arenas, 1);
    tls_arena = a;
    return a;
}

/* With no frame open nothing in the chunk is live, so it may be replaced by a
 * bigger one that holds the peak the last frames asked for. */
static void arena_grow_if_needed(scratch_arena *a) {
    if (a->peak_demand <= a->capacity || a->capacity >= MAX_CHUNK_BYTES) return;
    size_t capacity = a->capacity;
    while (capacity < a->peak_demand && capacity < MAX_CHUNK_BYTES) capacity *= 2;
    char *bigger = aligned_alloc(MAX_ALIGN, capacity);
    if (!bigger) return;
    free(a->base);
    a->base = bigger;
    a->capacity = capacity;
    a->peak_demand = 0;
}

/* ---- frames -------------------------------------------------------------------- */

scratch_frame scratch_frame_begin(void) {
    scratch_arena *a = tls_arena;
    if (!a) a = arena_create();
    if (!a) return (scratch_frame){0};
    a->depth++;
    return (scratch_frame){.arena = a, .start = a->pos, .heap_fallbacks = a->heap, .depth = a->depth};
}

static void *heap_alloc(scratch_arena *a, size_t size, size_t align) {
    size_t header = (sizeof(heap_block) + align - 1) & ~(align - 1);
    if (size > SIZE_MAX - header - MAX_ALIGN) return NULL;
    size_t demand = ((a->pos + align - 1) & ~(align - 1)) + size;
    if (demand > a->peak_demand) a->peak_demand = demand;
    void *memory = NULL;
    size_t block_align = align > alignof(max_align_t) ? align : alignof(max_align_t);
    if (posix_memalign(&memory, block_align, header + size) != 0) return NULL;
    heap_block *block = memory;
    block->next = a->heap;
    block->bytes = header + size;
    a->heap = block;
    a->heap_blocks++;
    a->heap_bytes += block->bytes;
    return (char *)memory + header;
}

void *scratch_alloc(scratch_frame *frame, size_t size, size_t align) {
    if (!frame || !frame->arena) return NULL;
    scratch_arena *a = frame->arena;
    if (frame->depth != a->depth || frame->depth == 0) return NULL; /* not the innermost, or closed */
    if (align == 0) align = 1;
    if ((align & (align - 1)) != 0 || align > MAX_ALIGN) return NULL;
    size_t start = (a->pos + align - 1) & ~(align - 1);
    if (likely(start <= a->capacity && size <= a->capacity - start)) {
        a->pos = start + size;
        return a->base + start;
    }
    return heap_alloc(a, size, align);
}

void scratch_frame_end(scratch_frame *frame) {
    if (!frame || !frame->arena) return;
    scratch_arena *a = frame->arena;
    if (frame->depth == 0 || frame->depth > a->depth) return; /* already closed */
    a->depth = frame->depth - 1;
    a->pos = frame->start;
    while (a->heap && a->heap != frame->heap_fallbacks) heap_pop(a);
    if (a->depth == 0) arena_grow_if_needed(a);
    frame->depth = 0;
}

/* ---- statistics ---------------------------------------------------------------- */

void scratch_arena_get_stats(scratch_arena_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    const scratch_arena *a = tls_arena;
    if (!a) return;
    out->chunk_bytes = a->capacity;
    out->used_bytes = a->pos;
    out->heap_blocks = a->heap_blocks;
    out->heap_bytes = a->heap_bytes;
    out->open_frames = a->depth;
}

size_t scratch_arena_live_count(void) { return atomic_load(&live_arenas); }
