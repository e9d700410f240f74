/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_settings: libFuzzer target over the settings parser (layer/settings.c).
 *
 * The first input byte picks what the rest is fed to: the text of a
 * vk_layer_settings.txt, one "name\nvalue" pair as the environment or a tool
 * would give it, or the size parser alone. Whatever the input, the parser must
 * not crash (ASan/UBSan watch), every report must be a bounded string, the
 * settings must stay inside their documented ranges, and every value must
 * print and read back to itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

static void require(int condition) {
    if (!condition) abort();
}

static void check_report(void *user, suballoc_log_level level, const char *message) {
    (void)user;
    require(level <= SUBALLOC_LOG_DEBUG);
    require(message != NULL && memchr(message, '\0', 1024) != NULL);
}

static void check_ranges(const suballoc_settings *s) {
    require(s->mode == SUBALLOC_MODE_SUBALLOCATE || s->mode == SUBALLOC_MODE_PASSTHROUGH);
    require(s->block_size == 0 || (s->block_size >= 1 * MIB && s->block_size <= 16 * GIB));
    require(s->dedicated_threshold <= 16 * GIB);
    require((s->min_alignment & (s->min_alignment - 1)) == 0 && s->min_alignment <= 16 * MIB);
    require(s->empty_block_policy <= SUBALLOC_EMPTY_BLOCKS_KEEP_ALL);
    require(s->log_level <= SUBALLOC_LOG_DEBUG);
    require(memchr(s->log_file, '\0', sizeof s->log_file) != NULL);
    require(memchr(s->stats_file, '\0', sizeof s->stats_file) != NULL);
    require(memchr(s->stats_json_file, '\0', sizeof s->stats_json_file) != NULL);
    require(s->stats_interval <= 86400);
}

static int same_settings(const suballoc_settings *a, const suballoc_settings *b) {
    return a->mode == b->mode && a->block_size == b->block_size && a->dedicated_threshold == b->dedicated_threshold &&
           a->min_alignment == b->min_alignment && a->reported_allocation_limit == b->reported_allocation_limit &&
           a->empty_block_policy == b->empty_block_policy && a->log_level == b->log_level &&
           strcmp(a->log_file, b->log_file) == 0 && strcmp(a->stats_file, b->stats_file) == 0 &&
           strcmp(a->stats_json_file, b->stats_json_file) == 0 && a->stats_interval == b->stats_interval;
}

/* Printing a value and reading it back gives the same settings. */
static void check_round_trip(const suballoc_settings *s) {
    suballoc_settings copy;
    memcpy(&copy, s, sizeof copy);
    for (const char *const *name = suballoc_setting_names; *name != NULL; name++) {
        static char text[SUBALLOC_PATH_MAX];
        require(suballoc_settings_value_text(s, *name, text, sizeof text));
        require(suballoc_settings_set_text(&copy, *name, text, "round trip", check_report, NULL));
    }
    require(same_settings(s, &copy));
}

/* "name\nvalue", NUL-terminated copies. */
static void set_one(suballoc_settings *s, const char *text, size_t size) {
    char *copy = malloc(size + 1);
    if (copy == NULL) return;
    memcpy(copy, text, size);
    copy[size] = '\0';
    char *value = strchr(copy, '\n');
    if (value != NULL) *value++ = '\0';
    suballoc_settings_set_text(s, copy, value != NULL ? value : "", "fuzz", check_report, NULL);
    free(copy);
}

static void parse_size_only(const char *text, size_t size) {
    char *copy = malloc(size + 1);
    if (copy == NULL) return;
    memcpy(copy, text, size);
    copy[size] = '\0';
    uint64_t bytes = 0;
    (void)suballoc_parse_size(copy, &bytes);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const char *text = (const char *)data + 1;
    size_t length = size - 1;
    suballoc_settings s;
    suballoc_settings_defaults(&s);
    switch (data[0] % 3) {
    case 0: suballoc_settings_apply_file_text(&s, text, length, "fuzz.txt", check_report, NULL); break;
    case 1: set_one(&s, text, length); break;
    default: parse_size_only(text, length); break;
    }
    check_ranges(&s);
    check_round_trip(&s);
    return 0;
}
