/* SPDX-License-Identifier: Apache-2.0 */
/*
 * settings: what a user can change about the layer, and where it is read from.
 *
 * Read once per VkInstance from three sources; a source higher in this list wins
 * (the Khronos layer-settings precedence):
 *   1. environment: VK_TRANSPARENT_SUBALLOC_<SETTING>, then VK_SUBALLOC_<SETTING>
 *      (upper case; the bare VK_<SETTING> form is never read);
 *   2. vk_layer_settings.txt, key transparent_suballoc.<setting>, found where the
 *      Khronos layers find it: vkconfig's $XDG_DATA_HOME (or ~/.local/share)
 *      /vulkan/settings.d/vk_layer_settings.txt when it exists, else
 *      VK_LAYER_SETTINGS_PATH (a file, or a folder holding the file), else the
 *      working directory. Only the first one found is read;
 *   3. VkLayerSettingsCreateInfoEXT chained into VkInstanceCreateInfo, layer name
 *      "VK_LAYER_TRANSPARENT_suballoc", setting name <setting>.
 * A bad value is reported once, naming the setting and what it accepts, and
 * ignored: the setting keeps what a lower source gave it, else its default.
 * A typo never stops the app.
 * A privileged process (setuid, setgid, capabilities: AT_SECURE) reads source 3
 * only: the user who starts it owns the environment and the files.
 */
#ifndef SUBALLOC_SETTINGS_H
#define SUBALLOC_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#define SUBALLOC_LAYER_NAME "VK_LAYER_TRANSPARENT_suballoc"
#define SUBALLOC_SETTINGS_FILE_PREFIX "transparent_suballoc."
#define SUBALLOC_PATH_MAX 4096

typedef enum suballoc_mode {
    SUBALLOC_MODE_SUBALLOCATE = 0, /* "suballocate": serve plain allocations from blocks */
    SUBALLOC_MODE_PASSTHROUGH,     /* "passthrough": every allocation goes to the driver */
} suballoc_mode;

typedef enum suballoc_log_level {
    SUBALLOC_LOG_ERROR = 0, /* "error" */
    SUBALLOC_LOG_WARNING,   /* "warning" (default) */
    SUBALLOC_LOG_INFO,      /* "info" */
    SUBALLOC_LOG_DEBUG,     /* "debug" */
} suballoc_log_level;

typedef enum suballoc_empty_block_policy {
    SUBALLOC_EMPTY_BLOCKS_RELEASE = 0, /* "release": an empty block goes back to the driver at once */
    SUBALLOC_EMPTY_BLOCKS_KEEP_ONE,    /* "keep_one" (default): a pool keeps at most one empty block */
    SUBALLOC_EMPTY_BLOCKS_KEEP_ALL,    /* "keep_all": empty blocks are kept until the device goes */
} suballoc_empty_block_policy;

typedef struct suballoc_settings {
    suballoc_mode mode;                 /* mode, default suballocate */
    uint64_t block_size;                /* block_size, bytes; 0 = heap-aware, growing */
    uint64_t dedicated_threshold;       /* dedicated_threshold, bytes; 0 = automatic (an eighth of a block) */
    uint64_t min_alignment;             /* min_alignment, bytes, power of two; default 0 (none) */
    uint32_t reported_allocation_limit; /* reported_allocation_limit, default 4294967295; 0 = the driver's value */
    suballoc_empty_block_policy empty_block_policy; /* empty_block_policy, default keep_one */
    suballoc_log_level log_level;                   /* log_level, default warning */
    char log_file[SUBALLOC_PATH_MAX];               /* log_file; empty = stderr */
    char stats_file[SUBALLOC_PATH_MAX];             /* stats_file; empty = no statistics file */
    char stats_json_file[SUBALLOC_PATH_MAX];        /* stats_json_file; empty = no JSON dump */
    uint32_t stats_interval; /* stats_interval, seconds between JSON dumps; 0 = only at the end */
    uint32_t debug_margin;   /* debug_margin, bytes, power of two; 0 = off: guard bytes around each slice */
} suballoc_settings;

/* Receives one message per bad value found while loading. */
typedef void (*suballoc_settings_report_fn)(void *user, suballoc_log_level level, const char *message);

/* The documented defaults. */
void suballoc_settings_defaults(suballoc_settings *out);

/* Fills *out from the three sources above over the defaults. instance_info may
 * be NULL (tests); report may be NULL. Never fails: bad values keep defaults. */
void suballoc_settings_load(suballoc_settings *out, const VkInstanceCreateInfo *instance_info,
                            suballoc_settings_report_fn report, void *report_user);

/* The names of every setting the code reads, NULL-terminated, for the test that
 * checks the manifest describes exactly these. */
extern const char *const suballoc_setting_names[];

/* ---- The parts of suballoc_settings_load, for tests, the fuzzer and tools ---- */

/* Sets setting `name` (no prefix, e.g. "block_size") from text as a user types
 * it; surrounding blanks are ignored. `origin` says where the text came from,
 * for the report. A bad name or value is reported and changes nothing; returns
 * whether the value was taken. */
bool suballoc_settings_set_text(suballoc_settings *settings, const char *name, const char *value, const char *origin,
                                suballoc_settings_report_fn report, void *report_user);

/* Applies the `transparent_suballoc.<setting> = value` lines of a
 * vk_layer_settings.txt text of `length` bytes (no terminating NUL needed).
 * '#' starts a comment; other layers' keys are skipped; a key given twice
 * takes its last value. file_name is only used in reports. */
void suballoc_settings_apply_file_text(suballoc_settings *settings, const char *text, size_t length,
                                       const char *file_name, suballoc_settings_report_fn report, void *report_user);

/* Applies this layer's values from every VkLayerSettingsCreateInfoEXT in a
 * pNext chain (the first value given for a setting wins, as in the Khronos
 * layers); other layers' settings are skipped. */
void suballoc_settings_apply_create_info(suballoc_settings *settings, const void *pnext_chain,
                                         suballoc_settings_report_fn report, void *report_user);

/* Applies VK_TRANSPARENT_SUBALLOC_<SETTING>, else VK_SUBALLOC_<SETTING>, for
 * each setting, and reports variables with those prefixes that name no setting. */
void suballoc_settings_apply_environment(suballoc_settings *settings, suballoc_settings_report_fn report,
                                         void *report_user);

/* The vk_layer_settings.txt path the lookup above picks; false when none applies. */
bool suballoc_settings_find_file(char *path, size_t path_size);

/* Parses a byte count: decimal digits with an optional K, M or G suffix
 * (binary: 1K = 1024). Values too large for 64 bits saturate at UINT64_MAX. */
bool suballoc_parse_size(const char *text, uint64_t *bytes);

/* Writes setting `name`'s value as a user would type it (sizes with the
 * largest exact suffix). False for an unknown name. */
bool suballoc_settings_value_text(const suballoc_settings *settings, const char *name, char *out, size_t out_size);

#endif
