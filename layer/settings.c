/* SPDX-License-Identifier: Apache-2.0 */
/*
 * settings.c: reads the layer's settings from the environment, vk_layer_settings.txt
 * and VkLayerSettingsCreateInfoEXT (see settings.h for the rules).
 *
 * Every setting is one row of `specs`: its name, the kind of value it takes,
 * what it accepts, and how to read and write its field. The three sources all
 * end in set_value(), so a value means the same wherever it is typed, and a
 * bad one is reported the same way. Pure C: no Vulkan call, no allocation
 * except the settings file's text, safe on any input (it is fuzzed).
 */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vk_layer_settings_ext.h"

extern char **environ;

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

#define ENV_PREFIX_VENDOR "VK_TRANSPARENT_SUBALLOC_"
#define ENV_PREFIX_SHORT "VK_SUBALLOC_"
#define SETTINGS_FILE_NAME "vk_layer_settings.txt"
#define SETTINGS_FILE_MAX (1u << 20) /* a settings file is a few lines; refuse anything huge */
#define CREATE_INFO_CHAIN_MAX 1024   /* guards against a looped pNext chain */
#define REPORT_MAX 1024
#define QUOTE_MAX 96 /* how much of a bad value a report repeats */
#define VALUE_TEXT_MAX 64
#define STATS_INTERVAL_MAX 86400 /* a day: a longer period is a typo */

const char *const suballoc_setting_names[] = {
    "mode",
    "block_size",
    "dedicated_threshold",
    "min_alignment",
    "reported_allocation_limit",
    "empty_block_policy",
    "log_level",
    "log_file",
    "stats_file",
    "stats_json_file",
    "stats_interval",
    "debug_margin",
    NULL,
};

/* ---- the table of settings ---------------------------------------------------- */

typedef enum value_kind {
    VALUE_WORD,  /* one of `words`; the index is the enum value */
    VALUE_SIZE,  /* bytes, K/M/G suffixes */
    VALUE_COUNT, /* a plain number */
    VALUE_PATH,  /* a file name; empty means "none" */
} value_kind;

typedef struct setting_spec {
    const char *name;
    value_kind kind;
    const char *const *words;
    uint64_t min, max; /* numbers: the accepted range, besides 0 when zero_allowed */
    bool zero_allowed; /* 0 means "automatic" or "none" */
    bool power_of_two;
    const char *accepts; /* what the report tells the user */
    uint64_t (*get)(const suballoc_settings *settings);
    void (*set)(suballoc_settings *settings, uint64_t value);
    size_t path_offset; /* VALUE_PATH: where the char[SUBALLOC_PATH_MAX] lives */
} setting_spec;

#define NUMBER_FIELD(field, type)                                                                        \
    static uint64_t get_##field(const suballoc_settings *settings) { return (uint64_t)settings->field; } \
    static void set_##field(suballoc_settings *settings, uint64_t value) { settings->field = (type)value; }

NUMBER_FIELD(mode, suballoc_mode)
NUMBER_FIELD(block_size, uint64_t)
NUMBER_FIELD(dedicated_threshold, uint64_t)
NUMBER_FIELD(min_alignment, uint64_t)
NUMBER_FIELD(reported_allocation_limit, uint32_t)
NUMBER_FIELD(empty_block_policy, suballoc_empty_block_policy)
NUMBER_FIELD(log_level, suballoc_log_level)
NUMBER_FIELD(stats_interval, uint32_t)
NUMBER_FIELD(debug_margin, uint32_t)

static const char *const mode_words[] = {"suballocate", "passthrough", NULL};
static const char *const empty_block_words[] = {"release", "keep_one", "keep_all", NULL};
static const char *const log_level_words[] = {"error", "warning", "info", "debug", NULL};

#define SIZE_SUFFIXES "; suffix K, M or G (1K = 1024)"

static const setting_spec specs[] = {
    {.name = "mode",
     .kind = VALUE_WORD,
     .words = mode_words,
     .accepts = "suballocate or passthrough",
     .get = get_mode,
     .set = set_mode},
    {.name = "block_size",
     .kind = VALUE_SIZE,
     .min = 1 * MIB,
     .max = 16 * GIB,
     .zero_allowed = true,
     .accepts = "0 (automatic, heap-aware) or 1M to 16G bytes" SIZE_SUFFIXES,
     .get = get_block_size,
     .set = set_block_size},
    {.name = "dedicated_threshold",
     .kind = VALUE_SIZE,
     .min = 1,
     .max = 16 * GIB,
     .zero_allowed = true,
     .accepts = "0 (automatic: an eighth of a block) or 1 to 16G bytes" SIZE_SUFFIXES,
     .get = get_dedicated_threshold,
     .set = set_dedicated_threshold},
    {.name = "min_alignment",
     .kind = VALUE_SIZE,
     .min = 1,
     .max = 16 * MIB,
     .zero_allowed = true,
     .power_of_two = true,
     .accepts = "0 (none) or a power of two from 1 to 16M bytes" SIZE_SUFFIXES,
     .get = get_min_alignment,
     .set = set_min_alignment},
    {.name = "reported_allocation_limit",
     .kind = VALUE_COUNT,
     .min = 1,
     .max = UINT32_MAX,
     .zero_allowed = true,
     .accepts = "0 (the driver's own value) or 1 to 4294967295, shown while sub-allocating",
     .get = get_reported_allocation_limit,
     .set = set_reported_allocation_limit},
    {.name = "empty_block_policy",
     .kind = VALUE_WORD,
     .words = empty_block_words,
     .accepts = "release, keep_one or keep_all",
     .get = get_empty_block_policy,
     .set = set_empty_block_policy},
    {.name = "log_level",
     .kind = VALUE_WORD,
     .words = log_level_words,
     .accepts = "error, warning, info or debug",
     .get = get_log_level,
     .set = set_log_level},
    {.name = "log_file",
     .kind = VALUE_PATH,
     .accepts = "a file name (empty: stderr)",
     .path_offset = offsetof(suballoc_settings, log_file)},
    {.name = "stats_file",
     .kind = VALUE_PATH,
     .accepts = "a file name (empty: no statistics file)",
     .path_offset = offsetof(suballoc_settings, stats_file)},
    {.name = "stats_json_file",
     .kind = VALUE_PATH,
     .accepts = "a file name (empty: no JSON dump)",
     .path_offset = offsetof(suballoc_settings, stats_json_file)},
    {.name = "stats_interval",
     .kind = VALUE_COUNT,
     .min = 1,
     .max = STATS_INTERVAL_MAX,
     .zero_allowed = true,
     .accepts = "0 (dump only at the end) or 1 to 86400 seconds between JSON dumps",
     .get = get_stats_interval,
     .set = set_stats_interval},
    {.name = "debug_margin",
     .kind = VALUE_SIZE,
     .min = 1,
     .max = 4096,
     .zero_allowed = true,
     .power_of_two = true,
     .accepts = "0 (off) or a power of two from 1 to 4096 bytes" SIZE_SUFFIXES,
     .get = get_debug_margin,
     .set = set_debug_margin},
};

#define SPEC_COUNT (sizeof specs / sizeof specs[0])
_Static_assert(SPEC_COUNT + 1 == sizeof suballoc_setting_names / sizeof suballoc_setting_names[0],
               "every setting in the table is listed in suballoc_setting_names, in the same order");

void suballoc_settings_defaults(suballoc_settings *out) {
    memset(out, 0, sizeof *out);
    out->mode = SUBALLOC_MODE_SUBALLOCATE;
    out->empty_block_policy = SUBALLOC_EMPTY_BLOCKS_KEEP_ONE;
    out->log_level = SUBALLOC_LOG_WARNING;
    out->reported_allocation_limit = UINT32_MAX; /* the app may hold as many allocations as it likes */
}

/* ---- text spans --------------------------------------------------------------- */

/* A piece of text that need not be NUL-terminated. */
typedef struct span {
    const char *text;
    size_t length;
} span;

static span span_of(const char *text) { return (span){text, strlen(text)}; }

static span trim(span s) {
    while (s.length > 0 && isspace((unsigned char)s.text[0])) s.text++, s.length--;
    while (s.length > 0 && isspace((unsigned char)s.text[s.length - 1])) s.length--;
    return s;
}

static bool span_equals(span s, const char *word) {
    return strlen(word) == s.length && memcmp(s.text, word, s.length) == 0;
}

static bool span_equals_ignoring_case(span s, const char *word) {
    if (strlen(word) != s.length) return false;
    for (size_t i = 0; i < s.length; i++)
        if (tolower((unsigned char)s.text[i]) != word[i]) return false;
    return true;
}

static bool span_starts_with(span s, const char *prefix) {
    size_t n = strlen(prefix);
    return s.length >= n && memcmp(s.text, prefix, n) == 0;
}

/* Copies at most QUOTE_MAX bytes of s for a report, control bytes made visible. */
static void quote(char *out, size_t out_size, span s) {
    size_t n = 0;
    for (size_t i = 0; i < s.length && n + 4 < out_size && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s.text[i];
        out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (s.length > QUOTE_MAX && n + 4 < out_size) out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = '\0';
}

/* ---- reports ------------------------------------------------------------------ */

typedef struct reporter {
    suballoc_settings_report_fn fn;
    void *user;
} reporter;

static void report(const reporter *to, suballoc_log_level level, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void report(const reporter *to, suballoc_log_level level, const char *format, ...) {
    if (to->fn == NULL) return;
    char message[REPORT_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    to->fn(to->user, level, message);
}

static void write_value_text(const suballoc_settings *settings, const setting_spec *spec, char *out, size_t out_size);

static void report_bad_value(const reporter *to, const suballoc_settings *settings, const setting_spec *spec,
                             const char *origin, span value, const char *problem) {
    char quoted[QUOTE_MAX + 8], shown[QUOTE_MAX + 12] = "", kept[VALUE_TEXT_MAX];
    if (value.text != NULL) { /* NULL: the problem is not the value's text */
        quote(quoted, sizeof quoted, value);
        snprintf(shown, sizeof shown, "'%s' ", quoted);
    }
    write_value_text(settings, spec, kept, sizeof kept);
    report(to, SUBALLOC_LOG_WARNING, "setting %s (%s): %s%s; accepted: %s; keeping %s", spec->name, origin, shown,
           problem, spec->accepts, kept[0] != '\0' ? kept : "(empty)");
}

static void report_unknown_name(const reporter *to, const char *origin, span name) {
    char quoted[QUOTE_MAX + 8], known[512] = "";
    quote(quoted, sizeof quoted, name);
    for (size_t i = 0; i < SPEC_COUNT; i++) {
        size_t used = strlen(known);
        snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", specs[i].name);
    }
    report(to, SUBALLOC_LOG_WARNING, "unknown setting '%s' (%s) ignored; known settings: %s", quoted, origin, known);
}

/* ---- values ------------------------------------------------------------------- */

static const setting_spec *find_spec(span name) {
    for (size_t i = 0; i < SPEC_COUNT; i++)
        if (span_equals(name, specs[i].name)) return &specs[i];
    return NULL;
}

static char *path_field(suballoc_settings *settings, const setting_spec *spec) {
    return (char *)settings + spec->path_offset;
}

static const char *path_field_const(const suballoc_settings *settings, const setting_spec *spec) {
    return (const char *)settings + spec->path_offset;
}

/* Decimal digits, then (when suffixes are allowed) one of K, M, G in either case.
 * Saturates instead of wrapping, so a huge value reads as out of range. */
static bool parse_number(span s, bool allow_suffix, uint64_t *out) {
    size_t i = 0;
    uint64_t value = 0;
    if (s.length == 0 || !isdigit((unsigned char)s.text[0])) return false;
    for (; i < s.length && isdigit((unsigned char)s.text[i]); i++) {
        unsigned digit = (unsigned)(s.text[i] - '0');
        value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
    }
    unsigned shift = 0;
    if (allow_suffix && i < s.length) {
        switch (s.text[i]) {
        case 'K':
        case 'k': shift = 10; break;
        case 'M':
        case 'm': shift = 20; break;
        case 'G':
        case 'g': shift = 30; break;
        default: return false;
        }
        i++;
    }
    if (i != s.length) return false;
    *out = value > (UINT64_MAX >> shift) ? UINT64_MAX : value << shift;
    return true;
}

bool suballoc_parse_size(const char *text, uint64_t *bytes) { return parse_number(span_of(text), true, bytes); }

static const char *number_problem(const setting_spec *spec, uint64_t value) {
    if (value == 0) return spec->zero_allowed ? NULL : "is out of range";
    if (value < spec->min || value > spec->max) return "is out of range";
    if (spec->power_of_two && (value & (value - 1)) != 0) return "is not a power of two";
    return NULL;
}

static bool set_number(suballoc_settings *settings, const setting_spec *spec, span value, const char *origin,
                       const reporter *to) {
    uint64_t number;
    bool is_size = spec->kind == VALUE_SIZE;
    if (!parse_number(value, is_size, &number)) {
        report_bad_value(to, settings, spec, origin, value, is_size ? "is not a size" : "is not a whole number");
        return false;
    }
    const char *problem = number_problem(spec, number);
    if (problem != NULL) {
        report_bad_value(to, settings, spec, origin, value, problem);
        return false;
    }
    spec->set(settings, number);
    return true;
}

static bool set_word(suballoc_settings *settings, const setting_spec *spec, span value, const char *origin,
                     const reporter *to) {
    for (uint64_t i = 0; spec->words[i] != NULL; i++) {
        if (span_equals_ignoring_case(value, spec->words[i])) {
            spec->set(settings, i);
            return true;
        }
    }
    report_bad_value(to, settings, spec, origin, value, "is not one of the accepted words");
    return false;
}

static bool set_path(suballoc_settings *settings, const setting_spec *spec, span value, const char *origin,
                     const reporter *to) {
    if (value.length >= SUBALLOC_PATH_MAX) {
        report_bad_value(to, settings, spec, origin, value, "is too long (at most 4095 bytes)");
        return false;
    }
    if (memchr(value.text, '\0', value.length) != NULL) {
        report_bad_value(to, settings, spec, origin, value, "contains a NUL byte");
        return false;
    }
    char *field = path_field(settings, spec);
    memcpy(field, value.text, value.length);
    field[value.length] = '\0';
    return true;
}

/* Every source ends here: a value means the same wherever it was typed. */
static bool set_value(suballoc_settings *settings, const setting_spec *spec, span value, const char *origin,
                      const reporter *to) {
    value = trim(value);
    switch (spec->kind) {
    case VALUE_WORD: return set_word(settings, spec, value, origin, to);
    case VALUE_SIZE:
    case VALUE_COUNT: return set_number(settings, spec, value, origin, to);
    case VALUE_PATH: return set_path(settings, spec, value, origin, to);
    }
    return false;
}

static bool set_by_name(suballoc_settings *settings, span name, span value, const char *origin, const reporter *to) {
    const setting_spec *spec = find_spec(name);
    if (spec == NULL) {
        report_unknown_name(to, origin, name);
        return false;
    }
    return set_value(settings, spec, value, origin, to);
}

bool suballoc_settings_set_text(suballoc_settings *settings, const char *name, const char *value, const char *origin,
                                suballoc_settings_report_fn report_fn, void *report_user) {
    reporter to = {report_fn, report_user};
    return set_by_name(settings, span_of(name), span_of(value), origin, &to);
}

/* ---- printing values ---------------------------------------------------------- */

static void write_size(uint64_t bytes, char *out, size_t out_size) {
    static const struct {
        char suffix;
        unsigned shift;
    } units[] = {{'G', 30}, {'M', 20}, {'K', 10}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t unit = (uint64_t)1 << units[i].shift;
        if (bytes != 0 && bytes % unit == 0) {
            snprintf(out, out_size, "%" PRIu64 "%c", bytes / unit, units[i].suffix);
            return;
        }
    }
    snprintf(out, out_size, "%" PRIu64, bytes);
}

static void write_value_text(const suballoc_settings *settings, const setting_spec *spec, char *out, size_t out_size) {
    switch (spec->kind) {
    case VALUE_WORD: {
        uint64_t index = spec->get(settings), count = 0;
        while (spec->words[count] != NULL) count++;
        if (index < count) snprintf(out, out_size, "%s", spec->words[index]);
        else snprintf(out, out_size, "(invalid %" PRIu64 ")", index);
        return;
    }
    case VALUE_SIZE: write_size(spec->get(settings), out, out_size); return;
    case VALUE_COUNT: snprintf(out, out_size, "%" PRIu64, spec->get(settings)); return;
    case VALUE_PATH: snprintf(out, out_size, "%s", path_field_const(settings, spec)); return;
    }
}

bool suballoc_settings_value_text(const suballoc_settings *settings, const char *name, char *out, size_t out_size) {
    const setting_spec *spec = find_spec(span_of(name));
    if (spec == NULL || out_size == 0) return false;
    write_value_text(settings, spec, out, out_size);
    return true;
}

/* ---- source: vk_layer_settings.txt -------------------------------------------- */

static void apply_file_line(suballoc_settings *settings, span line, const char *file_name, size_t line_number,
                            const reporter *to) {
    const char *comment = memchr(line.text, '#', line.length);
    if (comment != NULL) line.length = (size_t)(comment - line.text);
    const char *equals = memchr(line.text, '=', line.length);
    span key = trim((span){line.text, equals != NULL ? (size_t)(equals - line.text) : line.length});
    if (!span_starts_with(key, SUBALLOC_SETTINGS_FILE_PREFIX)) return; /* blank, or another layer's */

    char origin[SUBALLOC_PATH_MAX + 32], quoted[QUOTE_MAX + 8];
    snprintf(origin, sizeof origin, "%s line %zu", file_name, line_number);
    if (equals == NULL) {
        quote(quoted, sizeof quoted, key);
        report(to, SUBALLOC_LOG_WARNING, "%s: '%s' has no '= value'; ignored", origin, quoted);
        return;
    }
    size_t prefix_length = strlen(SUBALLOC_SETTINGS_FILE_PREFIX);
    span name = {key.text + prefix_length, key.length - prefix_length};
    span value = {equals + 1, (size_t)(line.text + line.length - (equals + 1))};
    set_by_name(settings, name, value, origin, to);
}

void suballoc_settings_apply_file_text(suballoc_settings *settings, const char *text, size_t length,
                                       const char *file_name, suballoc_settings_report_fn report_fn,
                                       void *report_user) {
    reporter to = {report_fn, report_user};
    const char *end = text + length;
    size_t line_number = 0;
    for (const char *line = text; line < end;) {
        const char *newline = memchr(line, '\n', (size_t)(end - line));
        const char *line_end = newline != NULL ? newline : end;
        apply_file_line(settings, (span){line, (size_t)(line_end - line)}, file_name, ++line_number, &to);
        line = newline != NULL ? newline + 1 : end;
    }
}

static bool is_regular_file(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

/* vkconfig's location: written while Vulkan Configurator overrides layers. */
static bool vkconfig_settings_file(char *path, size_t path_size) {
    const char *data_home = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (data_home != NULL && data_home[0] != '\0')
        n = snprintf(path, path_size, "%s/vulkan/settings.d/" SETTINGS_FILE_NAME, data_home);
    else if (home != NULL && home[0] != '\0')
        n = snprintf(path, path_size, "%s/.local/share/vulkan/settings.d/" SETTINGS_FILE_NAME, home);
    else return false;
    return n > 0 && (size_t)n < path_size && is_regular_file(path);
}

/* VK_LAYER_SETTINGS_PATH names the file or its folder; when it exists it is
 * the choice, even if the folder holds no settings file (as in the Khronos layers). */
static bool env_settings_file(char *path, size_t path_size) {
    const char *env = getenv("VK_LAYER_SETTINGS_PATH");
    struct stat info;
    if (env == NULL || env[0] == '\0' || stat(env, &info) != 0) return false;
    int n = S_ISDIR(info.st_mode) ? snprintf(path, path_size, "%s/" SETTINGS_FILE_NAME, env)
                                  : snprintf(path, path_size, "%s", env);
    return n > 0 && (size_t)n < path_size;
}

bool suballoc_settings_find_file(char *path, size_t path_size) {
    if (vkconfig_settings_file(path, path_size)) return true;
    if (env_settings_file(path, path_size)) return true;
    int n = snprintf(path, path_size, "%s", SETTINGS_FILE_NAME);
    return n > 0 && (size_t)n < path_size && is_regular_file(path);
}

/* The whole file, NUL-terminated, or NULL when it cannot be read (a missing
 * file is normal and silent). */
static char *read_settings_file(const char *path, size_t *length, const reporter *to) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        if (errno != ENOENT)
            report(to, SUBALLOC_LOG_WARNING, "cannot read settings file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(SETTINGS_FILE_MAX + 1);
    size_t used = text != NULL ? fread(text, 1, SETTINGS_FILE_MAX + 1, file) : 0;
    bool failed = text == NULL || ferror(file);
    fclose(file);
    if (failed || used > SETTINGS_FILE_MAX) {
        report(to, SUBALLOC_LOG_WARNING, "settings file %s %s; ignored", path,
               failed ? "could not be read" : "is larger than 1 MiB");
        free(text);
        return NULL;
    }
    text[used] = '\0';
    *length = used;
    return text;
}

static void apply_settings_file(suballoc_settings *settings, const reporter *to) {
    char path[SUBALLOC_PATH_MAX];
    if (!suballoc_settings_find_file(path, sizeof path)) return;
    size_t length = 0;
    char *text = read_settings_file(path, &length, to);
    if (text == NULL) return;
    report(to, SUBALLOC_LOG_DEBUG, "reading settings file %s", path);
    suballoc_settings_apply_file_text(settings, text, length, path, to->fn, to->user);
    free(text);
}

/* ---- source: VkLayerSettingsCreateInfoEXT ------------------------------------- */

#define API_ORIGIN "VkLayerSettingsCreateInfoEXT"

/* The setting's first value as text, so it goes through the same checks as
 * typed text; `buffer` holds numbers. False (reported) when there is none. */
static bool api_value_text(const VkLayerSettingEXT *setting, const setting_spec *spec,
                           const suballoc_settings *settings, char *buffer, size_t buffer_size, span *value,
                           const reporter *to) {
    const char *problem = NULL;
    if (setting->valueCount == 0 || setting->pValues == NULL) problem = "the value is missing";
    if (problem == NULL) {
        switch (setting->type) {
        case VK_LAYER_SETTING_TYPE_BOOL32_EXT:
            snprintf(buffer, buffer_size, "%s", *(const VkBool32 *)setting->pValues ? "true" : "false");
            break;
        case VK_LAYER_SETTING_TYPE_INT32_EXT:
            snprintf(buffer, buffer_size, "%" PRId32, *(const int32_t *)setting->pValues);
            break;
        case VK_LAYER_SETTING_TYPE_INT64_EXT:
            snprintf(buffer, buffer_size, "%" PRId64, *(const int64_t *)setting->pValues);
            break;
        case VK_LAYER_SETTING_TYPE_UINT32_EXT:
            snprintf(buffer, buffer_size, "%" PRIu32, *(const uint32_t *)setting->pValues);
            break;
        case VK_LAYER_SETTING_TYPE_UINT64_EXT:
            snprintf(buffer, buffer_size, "%" PRIu64, *(const uint64_t *)setting->pValues);
            break;
        case VK_LAYER_SETTING_TYPE_FLOAT32_EXT:
        case VK_LAYER_SETTING_TYPE_FLOAT64_EXT: {
            double number = setting->type == VK_LAYER_SETTING_TYPE_FLOAT32_EXT ? *(const float *)setting->pValues
                                                                               : *(const double *)setting->pValues;
            /* A whole number in range prints as one, anything else as what it is. */
            if (number >= 0 && number < 18446744073709551616.0 && number == (double)(uint64_t)number)
                snprintf(buffer, buffer_size, "%" PRIu64, (uint64_t)number);
            else snprintf(buffer, buffer_size, "%g", number);
            break;
        }
        case VK_LAYER_SETTING_TYPE_STRING_EXT: {
            const char *text = *(const char *const *)setting->pValues;
            if (text == NULL) {
                problem = "the string is NULL";
                break;
            }
            *value = span_of(text);
            return true;
        }
        default: problem = "the VkLayerSettingTypeEXT is unknown"; break;
        }
    }
    if (problem != NULL) {
        report_bad_value(to, settings, spec, API_ORIGIN, (span){NULL, 0}, problem);
        return false;
    }
    *value = span_of(buffer);
    return true;
}

static void apply_api_setting(suballoc_settings *settings, const VkLayerSettingEXT *setting, bool *given,
                              const reporter *to) {
    if (setting->pLayerName == NULL || strcmp(setting->pLayerName, SUBALLOC_LAYER_NAME) != 0) return;
    if (setting->pSettingName == NULL) {
        report(to, SUBALLOC_LOG_WARNING, API_ORIGIN ": a setting for " SUBALLOC_LAYER_NAME " has no name; ignored");
        return;
    }
    const setting_spec *spec = find_spec(span_of(setting->pSettingName));
    if (spec == NULL) {
        report_unknown_name(to, API_ORIGIN, span_of(setting->pSettingName));
        return;
    }
    size_t index = (size_t)(spec - specs);
    if (given[index]) return; /* the first value given wins */
    given[index] = true;

    char buffer[64];
    span value;
    if (api_value_text(setting, spec, settings, buffer, sizeof buffer, &value, to))
        set_value(settings, spec, value, API_ORIGIN, to);
}

void suballoc_settings_apply_create_info(suballoc_settings *settings, const void *pnext_chain,
                                         suballoc_settings_report_fn report_fn, void *report_user) {
    reporter to = {report_fn, report_user};
    bool given[SPEC_COUNT] = {false};
    const VkBaseInStructure *link = pnext_chain;
    for (unsigned hops = 0; link != NULL && hops < CREATE_INFO_CHAIN_MAX; link = link->pNext, hops++) {
        if (link->sType != VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT) continue;
        const VkLayerSettingsCreateInfoEXT *info = (const VkLayerSettingsCreateInfoEXT *)link;
        if (info->settingCount > 0 && info->pSettings == NULL) {
            report(&to, SUBALLOC_LOG_WARNING, API_ORIGIN ": settingCount is %" PRIu32 " but pSettings is NULL; ignored",
                   info->settingCount);
            continue;
        }
        for (uint32_t i = 0; i < info->settingCount; i++) apply_api_setting(settings, &info->pSettings[i], given, &to);
    }
}

/* ---- source: the environment -------------------------------------------------- */

/* VK_TRANSPARENT_SUBALLOC_<NAME>, else VK_SUBALLOC_<NAME>; an empty one counts as unset. */
static const char *env_value(const setting_spec *spec, char *variable, size_t variable_size) {
    static const char *const prefixes[] = {ENV_PREFIX_VENDOR, ENV_PREFIX_SHORT};
    for (size_t p = 0; p < 2; p++) {
        int n = snprintf(variable, variable_size, "%s%s", prefixes[p], spec->name);
        if (n < 0 || (size_t)n >= variable_size) continue;
        for (char *c = variable + strlen(prefixes[p]); *c != '\0'; c++) *c = (char)toupper((unsigned char)*c);
        const char *value = getenv(variable);
        if (value != NULL && value[0] != '\0') return value;
    }
    return NULL;
}

static bool names_a_setting(span upper_name) {
    for (size_t i = 0; i < SPEC_COUNT; i++) {
        const char *name = specs[i].name;
        if (strlen(name) != upper_name.length) continue;
        size_t k = 0;
        while (k < upper_name.length && upper_name.text[k] == toupper((unsigned char)name[k])) k++;
        if (k == upper_name.length) return true;
    }
    return false;
}

/* A misspelt variable would otherwise be ignored without a word. */
static void report_unknown_environment(const reporter *to) {
    static const char *const prefixes[] = {ENV_PREFIX_VENDOR, ENV_PREFIX_SHORT};
    for (char **entry = environ; entry != NULL && *entry != NULL; entry++) {
        const char *equals = strchr(*entry, '=');
        span variable = {*entry, equals != NULL ? (size_t)(equals - *entry) : strlen(*entry)};
        for (size_t p = 0; p < 2; p++) {
            if (!span_starts_with(variable, prefixes[p])) continue;
            size_t prefix_length = strlen(prefixes[p]);
            span name = {variable.text + prefix_length, variable.length - prefix_length};
            if (!names_a_setting(name)) {
                char quoted[QUOTE_MAX + 8];
                quote(quoted, sizeof quoted, variable);
                report(
                    to, SUBALLOC_LOG_WARNING,
                    "environment variable %s names no setting; ignored (settings: %s<SETTING>"
                    " or %s<SETTING>, <SETTING> one of MODE, BLOCK_SIZE, DEDICATED_THRESHOLD, MIN_ALIGNMENT,"
                    " REPORTED_ALLOCATION_LIMIT, EMPTY_BLOCK_POLICY, LOG_LEVEL, LOG_FILE, STATS_FILE, STATS_JSON_FILE,"
                    " STATS_INTERVAL)",
                    quoted, ENV_PREFIX_VENDOR, ENV_PREFIX_SHORT);
            }
            break; /* VK_SUBALLOC_ is not a prefix of VK_TRANSPARENT_SUBALLOC_, so one match is all */
        }
    }
}

void suballoc_settings_apply_environment(suballoc_settings *settings, suballoc_settings_report_fn report_fn,
                                         void *report_user) {
    reporter to = {report_fn, report_user};
    for (size_t i = 0; i < SPEC_COUNT; i++) {
        char variable[96], origin[128];
        const char *value = env_value(&specs[i], variable, sizeof variable);
        if (value == NULL) continue;
        snprintf(origin, sizeof origin, "environment variable %s", variable);
        set_value(settings, &specs[i], span_of(value), origin, &to);
    }
    report_unknown_environment(&to);
}

/* ---- privileged processes ------------------------------------------------------ */

/* A setuid, setgid or file-capability program (the kernel's AT_SECURE) runs
 * with more rights than the user who started it, and that user writes the
 * environment and the files found through it or in the working directory: a
 * log_file named there would be created with the program's rights. So such a
 * process takes its settings from the app (VkLayerSettingsCreateInfoEXT) only,
 * as the loader reads its own paths with secure_getenv. */
static bool process_is_privileged(void) { return getauxval(AT_SECURE) != 0; }

static void report_privileged_once(const reporter *to) {
    static atomic_flag said = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set(&said)) return;
    report(to, SUBALLOC_LOG_DEBUG,
           "the process runs with elevated privileges (AT_SECURE): no setting is read from the "
           "environment or from a settings file, only from VkLayerSettingsCreateInfoEXT");
}

/* ---- all three, lowest precedence first --------------------------------------- */

void suballoc_settings_load(suballoc_settings *out, const VkInstanceCreateInfo *instance_info,
                            suballoc_settings_report_fn report_fn, void *report_user) {
    reporter to = {report_fn, report_user};
    suballoc_settings_defaults(out);
    if (instance_info != NULL) suballoc_settings_apply_create_info(out, instance_info->pNext, report_fn, report_user);
    if (process_is_privileged()) {
        report_privileged_once(&to);
        return;
    }
    apply_settings_file(out, &to);
    suballoc_settings_apply_environment(out, report_fn, report_user);
}
