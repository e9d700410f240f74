/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_layer.h: what the layer fuzzer knows about the objects an input made,
 * and the checks every call goes through. See fuzz_layer.c for the whole picture.
 */
#ifndef FUZZ_LAYER_H
#define FUZZ_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_layer_world.h"

#define FZ_ATOM ((VkDeviceSize)STRICT_DEVICE_NON_COHERENT_ATOM_SIZE)
#define FZ_MAX_ALLOCATIONS 24
#define FZ_MAX_RESOURCES 32
#define FZ_MAX_STALE 16
#define FZ_HOST_VISIBLE_MAX ((VkDeviceSize)256 << 10) /* host-visible allocations: contents are modelled */
#define FZ_SIZE_MAX ((VkDeviceSize)4 << 20)
/* keep_one: after an input frees everything, each pool may keep one empty block;
 * there are at most 4 sub-allocatable types x 2 priority classes x with/without
 * a device mask. */
#define FZ_KEPT_BLOCKS_MAX 16u
#define FZ_PERSISTENT_ALLOCATIONS 1u /* the readback memory */
#define FZ_TEARDOWN_INPUTS 1000u
#define FZ_MAX_RESOURCE_ALIGNMENT ((VkDeviceSize)64 << 10) /* the strict device's optimal images */

/* ---- the input ---------------------------------------------------------------------- */

typedef struct fz_input {
    const uint8_t *data;
    size_t size, at;
} fz_input;

/* Bytes past the end read as 0, so every input decodes to something. */
uint8_t fz_u8(fz_input *in);
uint16_t fz_u16(fz_input *in);
uint32_t fz_u32(fz_input *in);
uint64_t fz_u64(fz_input *in);

/* ---- what the input made ------------------------------------------------------------- */

typedef enum fz_kind {
    FZ_PLAIN,     /* a chain of allocate flags, priority and maybe an unknown structure */
    FZ_DEDICATED, /* VkMemoryDedicatedAllocateInfo with a buffer made for it */
    FZ_EXPORT,    /* VkExportMemoryAllocateInfo, opaque fd */
    FZ_IMPORT,    /* VkImportMemoryHostPointerInfoEXT */
    FZ_KIND_COUNT
} fz_kind;

typedef struct fz_allocation {
    bool live;
    fz_kind kind;
    bool device_address; /* allocated with VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT */
    bool layer_handle;   /* the layer side's handle is the layer's own (sub-allocated) */
    uint32_t type;
    VkDeviceSize size;
    VkDeviceMemory memory[FZ_SIDES];
    void *host[FZ_SIDES]; /* the imported host memory */
    int dedicated;        /* the resource it was made for, or -1 */
    /* Mapping: data[side] points at byte map_offset of the allocation. */
    bool mapped;
    VkDeviceSize map_offset, map_end;
    uint8_t *data[FZ_SIDES];
    /* Contents, one stamp per nonCoherentAtomSize atom (0: unknown), as the host
     * sees them through the mapping and as the device holds them. They differ
     * only in the non-coherent type, until a flush or invalidate. */
    uint32_t atoms;
    uint32_t *host_view, *device_view; /* NULL unless host-visible */
    uint64_t private_data;
    /* What the layer's slice is aligned to at least: from its allocation, and
     * once its first bind or map pins it where it is. */
    VkDeviceSize slice_alignment;
    bool pinned;
} fz_allocation;

typedef enum fz_resource_kind {
    FZ_BUFFER,
    FZ_IMAGE_OPTIMAL,
    FZ_IMAGE_LINEAR,
    FZ_IMAGE_TRANSIENT, /* the only kind the lazily allocated type takes */
    FZ_RESOURCE_KIND_COUNT
} fz_resource_kind;

typedef struct fz_resource {
    bool live;
    fz_resource_kind kind;
    uint64_t handle[FZ_SIDES];
    VkMemoryRequirements requirements;
    int allocation; /* bound to, or -1 */
    VkDeviceSize offset;
} fz_resource;

typedef struct fz_state {
    bool misuse;
    bool torn_down; /* one device teardown per input: it costs milliseconds */
    uint32_t inputs_since_teardown;
    uint32_t call; /* calls decoded so far in this input, for reports */
    fz_allocation allocations[FZ_MAX_ALLOCATIONS];
    fz_resource resources[FZ_MAX_RESOURCES];
    /* Handles the layer side freed, for misuse: stale ones must be refused. */
    VkDeviceMemory stale[FZ_MAX_STALE];
    bool stale_layer[FZ_MAX_STALE];
    uint32_t stale_next, stale_count;
    uint32_t next_stamp;
} fz_state;

extern fz_world fz;
extern fz_state st;

static inline fz_device *fz_dev(int side) { return &fz.side[side].device; }

/* ---- checks --------------------------------------------------------------------------- */

/* Prints what went wrong, the layer's last message and the call number, and
 * aborts: libFuzzer keeps the input. */
void fz_finding(int line, const char *format, ...) __attribute__((format(printf, 2, 3), noreturn));
#define FINDING(...) fz_finding(__LINE__, __VA_ARGS__)

/* What the strict devices and the layer's messenger have seen, before a call. */
typedef struct fz_watch {
    uint64_t violations[FZ_SIDES];
    uint64_t unknown_memory;
    fz_messages messages;
} fz_watch;

fz_watch fz_watch_begin(void);
/* A valid call made on both sides: both strict devices saw the same number of
 * violations (the app's own aliasing), no layer handle reached the driver, and
 * the layer said nothing above info level unless allowed. */
void fz_watch_valid(const char *what, const fz_watch *watch, bool messages_allowed);
/* A misuse made on the layer side only, that the layer must catch: an error
 * result (where the call returns one), a message, nothing reaching the driver. */
void fz_watch_caught(const char *what, const fz_watch *watch, bool has_result, VkResult result);
/* A misuse the layer passes on as the driver alone would get it: only no layer
 * handle may reach the driver. */
void fz_watch_passed_on(const char *what, const fz_watch *watch);

void fz_same_result(const char *what, const VkResult result[FZ_SIDES]);

/* ---- shared helpers ------------------------------------------------------------------- */

bool fz_host_visible(uint32_t type);
bool fz_coherent(uint32_t type);
/* A live allocation chosen by pick (wrapping), matching the filter; -1 when none. */
int fz_pick_allocation(uint32_t pick, bool (*filter)(const fz_allocation *));
int fz_pick_resource(uint32_t pick);
int fz_free_resource_slot(void);

/* Contents: writes, checks and model updates (fuzz_layer.c). */
void fz_atom_pattern(uint32_t stamp, uint8_t out[FZ_ATOM]);
void fz_check_contents(int index, const char *when);
void fz_model_flush(fz_allocation *a, VkDeviceSize offset, VkDeviceSize size, bool invalidate);

/* Resources (fuzz_layer_ops.c): made on both sides with the same create info;
 * false when the sides disagree (a finding) or creation failed. */
bool fz_resource_create(int slot, fz_resource_kind kind, uint32_t width, uint32_t height, VkDeviceSize buffer_size,
                        const fz_allocation *for_allocation, bool device_address);
void fz_resource_destroy(int slot);
/* An offset in allocation a where the resource fits, chosen by pick; false when none. */
bool fz_resource_offset(const fz_resource *r, const fz_allocation *a, int index, uint32_t pick, VkDeviceSize *offset);

/* The layer's known limit (README, Reliability): once its slice is pinned, a
 * bind that needs more alignment than the slice has is refused, even where the
 * resource's alignment is larger than the whole allocation and offset 0 is
 * valid. Valid mode stays off it; fz_note_use records the pinning. */
bool fz_layer_refuses(const fz_allocation *a, VkDeviceSize alignment);
void fz_note_use(fz_allocation *a, VkDeviceSize alignment);
/* The layer places a new slice by the requirements queries of its size it saw
 * (placement.c): the fuzzer remembers the weakest alignment each size was
 * queried with, until the device goes. */
void fz_note_query(VkDeviceSize size, VkDeviceSize alignment);
void fz_forget_queries(void);

void fz_free_allocation(int index);
void fz_remember_stale(VkDeviceMemory memory, bool layer_handle);

/* The calls an input decodes to. */
void fz_op_allocate(fz_input *in);
void fz_op_free(fz_input *in);
void fz_op_map(fz_input *in);
void fz_op_unmap(fz_input *in);
void fz_op_write(fz_input *in);
void fz_op_flush(fz_input *in, bool invalidate);
void fz_op_check(fz_input *in);
void fz_device_check(int index);
void fz_op_bind(fz_input *in);
void fz_op_bind2(fz_input *in);
void fz_op_destroy_resource(fz_input *in);
void fz_op_name(fz_input *in);
void fz_op_private_data(fz_input *in);
void fz_op_priority(fz_input *in);
void fz_op_commitment(fz_input *in);
void fz_op_memory_fd(fz_input *in);
void fz_op_teardown(fz_input *in);
void fz_op_misuse(fz_input *in);

#endif
