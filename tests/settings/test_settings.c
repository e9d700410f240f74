/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_settings: the rules of layer/settings.c, one test per rule.
 *
 * Each test runs in its own process (check forks), inside a fresh temporary
 * folder that is also its working directory and $HOME, with every variable the
 * settings code reads cleared first, so no test sees the machine's own setup.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings.h"
#include "vk_layer_settings_ext.h"

extern char **environ;

/* ---- fixture: a private folder, a clean environment, captured reports --------- */

static char scratch[256];

typedef struct reports {
    int count;
    char all[8192]; /* every message, one per line */
} reports;

static void collect(void *user, suballoc_log_level level, const char *message) {
    reports *r = user;
    if (level > SUBALLOC_LOG_WARNING) return; /* debug notes are not complaints */
    r->count++;
    size_t used = strlen(r->all);
    snprintf(r->all + used, sizeof r->all - used, "%s\n", message);
}

static void unset_prefixed(const char *prefix) {
    for (bool again = true; again;) {
        again = false;
        for (char **e = environ; *e != NULL; e++) {
            if (strncmp(*e, prefix, strlen(prefix)) != 0) continue;
            char name[256];
            size_t n = strcspn(*e, "=");
            snprintf(name, sizeof name, "%.*s", (int)n, *e);
            unsetenv(name);
            again = true; /* environ changed under us: rescan */
            break;
        }
    }
}

static void setup(void) {
    snprintf(scratch, sizeof scratch, "%s/test_settings.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(scratch));
    ck_assert_int_eq(chdir(scratch), 0);
    setenv("HOME", scratch, 1);
    unsetenv("XDG_DATA_HOME");
    unsetenv("VK_LAYER_SETTINGS_PATH");
    unset_prefixed("VK_TRANSPARENT_SUBALLOC_");
    unset_prefixed("VK_SUBALLOC_");
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *walk) {
    (void)info, (void)flag, (void)walk;
    return remove(path);
}

static void teardown(void) {
    if (chdir("/") != 0) return;
    nftw(scratch, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void make_folder(const char *path) { ck_assert_int_eq(mkdir(path, 0700), 0); }

static void apply_text(suballoc_settings *s, const char *text, reports *r) {
    suballoc_settings_apply_file_text(s, text, strlen(text), "vk_layer_settings.txt", collect, r);
}

static VkLayerSettingEXT string_setting(const char *layer, const char *name, const char *const *value) {
    return (VkLayerSettingEXT){layer, name, VK_LAYER_SETTING_TYPE_STRING_EXT, 1, value};
}

static VkLayerSettingsCreateInfoEXT create_info(const VkLayerSettingEXT *settings, uint32_t count, const void *next) {
    return (VkLayerSettingsCreateInfoEXT){VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT, next, count, settings};
}

/* ---- defaults ----------------------------------------------------------------- */

START_TEST(defaults_are_the_documented_ones) {
    suballoc_settings s;
    memset(&s, 0x5a, sizeof s);
    suballoc_settings_defaults(&s);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE);
    ck_assert_uint_eq(s.block_size, 0);
    ck_assert_uint_eq(s.dedicated_threshold, 0);
    ck_assert_uint_eq(s.min_alignment, 0);
    ck_assert_uint_eq(s.reported_allocation_limit, UINT32_MAX);
    ck_assert_int_eq(s.empty_block_policy, SUBALLOC_EMPTY_BLOCKS_KEEP_ONE);
    ck_assert_int_eq(s.log_level, SUBALLOC_LOG_WARNING);
    ck_assert_str_eq(s.log_file, "");
    ck_assert_str_eq(s.stats_file, "");
    ck_assert_str_eq(s.stats_json_file, "");
    ck_assert_uint_eq(s.stats_interval, 0);
}
END_TEST

START_TEST(load_with_nothing_set_gives_the_defaults_and_no_report) {
    suballoc_settings loaded, defaults;
    reports r = {0};
    suballoc_settings_defaults(&defaults);
    suballoc_settings_load(&loaded, NULL, collect, &r);
    ck_assert_int_eq(memcmp(&loaded, &defaults, sizeof loaded), 0);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

/* ---- sizes -------------------------------------------------------------------- */

START_TEST(size_is_plain_decimal_bytes) {
    uint64_t v = 1;
    ck_assert(suballoc_parse_size("4096", &v));
    ck_assert_uint_eq(v, 4096);
    ck_assert(suballoc_parse_size("0", &v));
    ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(size_suffixes_are_binary_and_either_case) {
    uint64_t v = 0;
    ck_assert(suballoc_parse_size("1K", &v));
    ck_assert_uint_eq(v, 1024);
    ck_assert(suballoc_parse_size("3k", &v));
    ck_assert_uint_eq(v, 3072);
    ck_assert(suballoc_parse_size("64M", &v));
    ck_assert_uint_eq(v, 64ull << 20);
    ck_assert(suballoc_parse_size("2g", &v));
    ck_assert_uint_eq(v, 2ull << 30);
}
END_TEST

START_TEST(size_rejects_anything_but_digits_and_one_suffix) {
    static const char *const bad[] = {"",    "K",   "12Q", "1.5M", "-1", "+1", "0x10",
                                      "1 K", "1KB", "1MM", "1e6",  " 1", "1T"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 77;
        ck_assert_msg(!suballoc_parse_size(bad[i], &v), "'%s' was taken as a size", bad[i]);
        ck_assert_uint_eq(v, 77);
    }
}
END_TEST

START_TEST(size_too_big_for_64_bits_saturates_instead_of_wrapping) {
    uint64_t v = 0;
    ck_assert(suballoc_parse_size("18446744073709551616", &v));
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert(suballoc_parse_size("17179869184G", &v)); /* 2^64 bytes */
    ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

/* ---- values: what each setting accepts --------------------------------------- */

START_TEST(good_value_is_taken_silently) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(suballoc_settings_set_text(&s, "block_size", "64M", "test", collect, &r));
    ck_assert_uint_eq(s.block_size, 64ull << 20);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(bad_value_is_reported_once_with_name_and_accepted_range) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(!suballoc_settings_set_text(&s, "block_size", "64Q", "test", collect, &r));
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "block_size"));
    ck_assert_ptr_nonnull(strstr(r.all, "'64Q'"));
    ck_assert_ptr_nonnull(strstr(r.all, "1M to 16G"));
}
END_TEST

START_TEST(bad_value_keeps_the_default) {
    suballoc_settings s, defaults;
    reports r = {0};
    suballoc_settings_defaults(&s);
    suballoc_settings_defaults(&defaults);
    suballoc_settings_set_text(&s, "block_size", "lots", "test", collect, &r);
    suballoc_settings_set_text(&s, "mode", "fast", "test", collect, &r);
    suballoc_settings_set_text(&s, "reported_allocation_limit", "-1", "test", collect, &r);
    ck_assert_int_eq(r.count, 3);
    ck_assert_int_eq(memcmp(&s, &defaults, sizeof s), 0);
    ck_assert_ptr_nonnull(strstr(r.all, "keeping 0"));
    ck_assert_ptr_nonnull(strstr(r.all, "keeping suballocate"));
}
END_TEST

START_TEST(size_outside_its_range_is_reported_as_out_of_range) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(!suballoc_settings_set_text(&s, "block_size", "1023K", "test", collect, &r));
    ck_assert(!suballoc_settings_set_text(&s, "block_size", "17G", "test", collect, &r));
    ck_assert(!suballoc_settings_set_text(&s, "dedicated_threshold", "99999999999999999999999", "test", collect, &r));
    ck_assert_int_eq(r.count, 3);
    ck_assert_ptr_nonnull(strstr(r.all, "out of range"));
    ck_assert_uint_eq(s.block_size, 0);
    ck_assert(suballoc_settings_set_text(&s, "block_size", "1M", "test", collect, &r));
    ck_assert_uint_eq(s.block_size, 1ull << 20);
    ck_assert(suballoc_settings_set_text(&s, "block_size", "16G", "test", collect, &r));
    ck_assert_uint_eq(s.block_size, 16ull << 30);
}
END_TEST

START_TEST(min_alignment_must_be_a_power_of_two) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(!suballoc_settings_set_text(&s, "min_alignment", "3K", "test", collect, &r));
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "min_alignment"));
    ck_assert_ptr_nonnull(strstr(r.all, "not a power of two"));
    ck_assert_uint_eq(s.min_alignment, 0);
    ck_assert(suballoc_settings_set_text(&s, "min_alignment", "4K", "test", collect, &r));
    ck_assert_uint_eq(s.min_alignment, 4096);
}
END_TEST

START_TEST(allocation_limit_is_a_32_bit_count_without_suffix) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(suballoc_settings_set_text(&s, "reported_allocation_limit", "4294967295", "test", collect, &r));
    ck_assert_uint_eq(s.reported_allocation_limit, 4294967295u);
    ck_assert(!suballoc_settings_set_text(&s, "reported_allocation_limit", "4294967296", "test", collect, &r));
    ck_assert(!suballoc_settings_set_text(&s, "reported_allocation_limit", "4K", "test", collect, &r));
    ck_assert_uint_eq(s.reported_allocation_limit, 4294967295u);
    ck_assert_int_eq(r.count, 2);
    ck_assert_ptr_nonnull(strstr(r.all, "1 to 4294967295"));
}
END_TEST

START_TEST(words_are_matched_ignoring_case) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(suballoc_settings_set_text(&s, "mode", "PassThrough", "test", collect, &r));
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert(suballoc_settings_set_text(&s, "empty_block_policy", "KEEP_ALL", "test", collect, &r));
    ck_assert_int_eq(s.empty_block_policy, SUBALLOC_EMPTY_BLOCKS_KEEP_ALL);
    ck_assert(suballoc_settings_set_text(&s, "log_level", "debug", "test", collect, &r));
    ck_assert_int_eq(s.log_level, SUBALLOC_LOG_DEBUG);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(unknown_word_is_reported_with_every_accepted_word) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(!suballoc_settings_set_text(&s, "empty_block_policy", "keep_two", "test", collect, &r));
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "release, keep_one or keep_all"));
    ck_assert_int_eq(s.empty_block_policy, SUBALLOC_EMPTY_BLOCKS_KEEP_ONE);
}
END_TEST

START_TEST(blanks_around_a_value_are_ignored) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(suballoc_settings_set_text(&s, "mode", " \tpassthrough  ", "test", collect, &r));
    ck_assert(suballoc_settings_set_text(&s, "stats_file", "  /tmp/stats.txt ", "test", collect, &r));
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_str_eq(s.stats_file, "/tmp/stats.txt");
}
END_TEST

START_TEST(path_too_long_is_reported_and_not_truncated) {
    suballoc_settings s;
    reports r = {0};
    static char long_path[SUBALLOC_PATH_MAX + 10];
    memset(long_path, 'a', sizeof long_path - 1);
    suballoc_settings_defaults(&s);
    ck_assert(!suballoc_settings_set_text(&s, "log_file", long_path, "test", collect, &r));
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "too long"));
    ck_assert_str_eq(s.log_file, "");
}
END_TEST

START_TEST(empty_path_switches_the_file_off) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    suballoc_settings_set_text(&s, "stats_file", "stats.txt", "test", collect, &r);
    ck_assert(suballoc_settings_set_text(&s, "stats_file", "", "test", collect, &r));
    ck_assert_str_eq(s.stats_file, "");
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(stats_json_file_takes_a_path_and_empty_switches_it_off) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(suballoc_settings_set_text(&s, "stats_json_file", " /tmp/dump file.json ", "test", collect, &r));
    ck_assert_str_eq(s.stats_json_file, "/tmp/dump file.json");
    ck_assert(suballoc_settings_set_text(&s, "stats_json_file", "", "test", collect, &r));
    ck_assert_str_eq(s.stats_json_file, "");
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(stats_json_file_too_long_is_reported_in_one_line) {
    suballoc_settings s;
    reports r = {0};
    static char long_path[SUBALLOC_PATH_MAX + 10];
    memset(long_path, 'd', sizeof long_path - 1);
    suballoc_settings_defaults(&s);
    ck_assert(!suballoc_settings_set_text(&s, "stats_json_file", long_path, "test", collect, &r));
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "setting stats_json_file (test)"));
    ck_assert_ptr_nonnull(strstr(r.all, "too long"));
    ck_assert_ptr_eq(strchr(r.all, '\n'), r.all + strlen(r.all) - 1); /* one line */
    ck_assert_str_eq(s.stats_json_file, "");
}
END_TEST

START_TEST(stats_interval_is_whole_seconds_up_to_a_day) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(suballoc_settings_set_text(&s, "stats_interval", "5", "test", collect, &r));
    ck_assert_uint_eq(s.stats_interval, 5);
    ck_assert(suballoc_settings_set_text(&s, "stats_interval", "86400", "test", collect, &r));
    ck_assert_uint_eq(s.stats_interval, 86400);
    ck_assert(suballoc_settings_set_text(&s, "stats_interval", "0", "test", collect, &r));
    ck_assert_uint_eq(s.stats_interval, 0);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(stats_interval_bad_values_are_reported_in_one_line_each) {
    static const char *const bad[] = {"soon", "-1", "1.5", "2s", "1K", "86401", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        suballoc_settings s;
        reports r = {0};
        suballoc_settings_defaults(&s);
        s.stats_interval = 7;
        ck_assert_msg(!suballoc_settings_set_text(&s, "stats_interval", bad[i], "test", collect, &r), "took '%s'",
                      bad[i]);
        ck_assert_int_eq(r.count, 1);
        ck_assert_ptr_nonnull(strstr(r.all, "setting stats_interval (test)"));
        ck_assert_ptr_nonnull(strstr(r.all, "0 (dump only at the end) or 1 to 86400 seconds"));
        ck_assert_ptr_nonnull(strstr(r.all, "keeping 7"));
        ck_assert_ptr_eq(strchr(r.all, '\n'), r.all + strlen(r.all) - 1);
        ck_assert_uint_eq(s.stats_interval, 7);
    }
}
END_TEST

START_TEST(unknown_setting_is_reported_with_the_known_ones) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    ck_assert(!suballoc_settings_set_text(&s, "blocksize", "64M", "test", collect, &r));
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "'blocksize'"));
    ck_assert_ptr_nonnull(strstr(r.all, "block_size"));
}
END_TEST

START_TEST(every_listed_name_is_a_setting_the_code_reads) {
    int count = 0;
    for (const char *const *name = suballoc_setting_names; *name != NULL; name++, count++) {
        suballoc_settings s;
        char text[SUBALLOC_PATH_MAX];
        suballoc_settings_defaults(&s);
        ck_assert_msg(suballoc_settings_value_text(&s, *name, text, sizeof text), "%s has no value", *name);
        /* Its own default, read back, is accepted: names and parser agree. */
        ck_assert_msg(suballoc_settings_set_text(&s, *name, text, "test", NULL, NULL), "%s refuses '%s'", *name, text);
    }
    ck_assert_int_eq(count, 12);
}
END_TEST

START_TEST(value_text_writes_sizes_with_the_largest_exact_suffix) {
    suballoc_settings s;
    char text[64];
    suballoc_settings_defaults(&s);
    s.block_size = 64ull << 20;
    s.dedicated_threshold = 1536;
    s.min_alignment = 1ull << 30;
    ck_assert(suballoc_settings_value_text(&s, "block_size", text, sizeof text));
    ck_assert_str_eq(text, "64M");
    ck_assert(suballoc_settings_value_text(&s, "dedicated_threshold", text, sizeof text));
    ck_assert_str_eq(text, "1536");
    ck_assert(suballoc_settings_value_text(&s, "min_alignment", text, sizeof text));
    ck_assert_str_eq(text, "1G");
    ck_assert(suballoc_settings_value_text(&s, "mode", text, sizeof text));
    ck_assert_str_eq(text, "suballocate");
    ck_assert(!suballoc_settings_value_text(&s, "nope", text, sizeof text));
}
END_TEST

/* ---- vk_layer_settings.txt text ------------------------------------------------ */

START_TEST(file_reads_keys_under_the_layer_prefix) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    apply_text(&s, "transparent_suballoc.mode = passthrough\ntransparent_suballoc.block_size=8M\n", &r);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_uint_eq(s.block_size, 8ull << 20);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(file_skips_other_layers_keys_silently) {
    suballoc_settings s, defaults;
    reports r = {0};
    suballoc_settings_defaults(&s);
    suballoc_settings_defaults(&defaults);
    apply_text(&s,
               "khronos_validation.enables = VK_VALIDATION_FEATURE_ENABLE_BEST_PRACTICES_EXT\n"
               "mode = passthrough\n"
               "lunarg_api_dump.output_range = 0-0\n"
               "transparent_suballocX.mode = passthrough\n",
               &r);
    ck_assert_int_eq(memcmp(&s, &defaults, sizeof s), 0);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(file_comments_and_blank_lines_are_ignored) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    apply_text(&s,
               "# transparent_suballoc.mode = bogus\n"
               "\n   \n"
               "transparent_suballoc.mode = passthrough   # for the A/B run\n"
               "#transparent_suballoc.block_size = 1\n",
               &r);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_uint_eq(s.block_size, 0);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(file_key_given_twice_takes_the_last_value) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    apply_text(&s, "transparent_suballoc.block_size = 1M\ntransparent_suballoc.block_size = 2M\n", &r);
    ck_assert_uint_eq(s.block_size, 2ull << 20);
}
END_TEST

START_TEST(file_bad_line_is_reported_with_its_line_number) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    apply_text(&s, "# settings\ntransparent_suballoc.mode = passthrough\ntransparent_suballoc.min_alignment = 48\n",
               &r);
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "line 3"));
    ck_assert_ptr_nonnull(strstr(r.all, "min_alignment"));
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH); /* the good line still counts */
}
END_TEST

START_TEST(file_unknown_key_under_the_prefix_is_reported) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    apply_text(&s, "transparent_suballoc.blocksize = 8M\n", &r);
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "unknown setting 'blocksize'"));
}
END_TEST

START_TEST(file_key_without_value_is_reported) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    apply_text(&s, "transparent_suballoc.mode passthrough\n", &r);
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "no '= value'"));
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE);
}
END_TEST

START_TEST(file_with_crlf_line_ends_reads_the_same) {
    suballoc_settings s;
    reports r = {0};
    suballoc_settings_defaults(&s);
    apply_text(&s, "transparent_suballoc.mode = passthrough\r\ntransparent_suballoc.log_file = log.txt\r\n", &r);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_str_eq(s.log_file, "log.txt");
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(file_text_is_read_only_up_to_its_length) {
    suballoc_settings s;
    reports r = {0};
    const char text[] = "transparent_suballoc.mode = passthroughJUNK";
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_file_text(&s, text, strlen(text) - 4, "f", collect, &r);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

/* ---- VkLayerSettingsCreateInfoEXT ---------------------------------------------- */

START_TEST(api_string_value_is_read) {
    suballoc_settings s;
    reports r = {0};
    const char *passthrough = "passthrough", *stats = "/tmp/s.txt";
    VkLayerSettingEXT settings[] = {string_setting(SUBALLOC_LAYER_NAME, "mode", &passthrough),
                                    string_setting(SUBALLOC_LAYER_NAME, "stats_file", &stats)};
    VkLayerSettingsCreateInfoEXT info = create_info(settings, 2, NULL);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_create_info(&s, &info, collect, &r);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_str_eq(s.stats_file, "/tmp/s.txt");
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(api_numbers_of_every_integer_and_float_type_are_read) {
    suballoc_settings s;
    reports r = {0};
    const uint64_t u64 = 8ull << 20;
    const uint32_t u32 = 4096;
    const int32_t i32 = 1024;
    const int64_t i64 = 100000;
    const double f64 = 2097152.0;
    VkLayerSettingEXT settings[] = {
        {SUBALLOC_LAYER_NAME, "block_size", VK_LAYER_SETTING_TYPE_UINT64_EXT, 1, &u64},
        {SUBALLOC_LAYER_NAME, "min_alignment", VK_LAYER_SETTING_TYPE_UINT32_EXT, 1, &u32},
        {SUBALLOC_LAYER_NAME, "dedicated_threshold", VK_LAYER_SETTING_TYPE_INT32_EXT, 1, &i32},
        {SUBALLOC_LAYER_NAME, "reported_allocation_limit", VK_LAYER_SETTING_TYPE_INT64_EXT, 1, &i64},
    };
    VkLayerSettingEXT later[] = {{SUBALLOC_LAYER_NAME, "block_size", VK_LAYER_SETTING_TYPE_FLOAT64_EXT, 1, &f64}};
    VkLayerSettingsCreateInfoEXT info = create_info(settings, 4, NULL);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_create_info(&s, &info, collect, &r);
    ck_assert_uint_eq(s.block_size, 8ull << 20);
    ck_assert_uint_eq(s.min_alignment, 4096);
    ck_assert_uint_eq(s.dedicated_threshold, 1024);
    ck_assert_uint_eq(s.reported_allocation_limit, 100000);
    VkLayerSettingsCreateInfoEXT float_info = create_info(later, 1, NULL);
    suballoc_settings_apply_create_info(&s, &float_info, collect, &r);
    ck_assert_uint_eq(s.block_size, 2ull << 20);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(api_settings_of_other_layers_are_skipped) {
    suballoc_settings s, defaults;
    reports r = {0};
    const char *passthrough = "passthrough";
    VkLayerSettingEXT settings[] = {string_setting("VK_LAYER_KHRONOS_validation", "mode", &passthrough),
                                    string_setting(NULL, "mode", &passthrough),
                                    string_setting("VK_LAYER_TRANSPARENT_suballocX", "mode", &passthrough),
                                    string_setting("VK_LAYER_KHRONOS_validation", "validate_sync", &passthrough)};
    VkLayerSettingsCreateInfoEXT info = create_info(settings, 4, NULL);
    suballoc_settings_defaults(&s);
    suballoc_settings_defaults(&defaults);
    suballoc_settings_apply_create_info(&s, &info, collect, &r);
    ck_assert_int_eq(memcmp(&s, &defaults, sizeof s), 0);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(api_negative_or_fractional_numbers_are_reported) {
    suballoc_settings s;
    reports r = {0};
    const int32_t negative = -4096;
    const float fraction = 1.5f;
    const double not_a_number = 0.0 / 0.0;
    VkLayerSettingEXT settings[] = {
        {SUBALLOC_LAYER_NAME, "block_size", VK_LAYER_SETTING_TYPE_INT32_EXT, 1, &negative},
        {SUBALLOC_LAYER_NAME, "min_alignment", VK_LAYER_SETTING_TYPE_FLOAT32_EXT, 1, &fraction},
        {SUBALLOC_LAYER_NAME, "dedicated_threshold", VK_LAYER_SETTING_TYPE_FLOAT64_EXT, 1, &not_a_number},
    };
    VkLayerSettingsCreateInfoEXT info = create_info(settings, 3, NULL);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_create_info(&s, &info, collect, &r);
    ck_assert_int_eq(r.count, 3);
    ck_assert_ptr_nonnull(strstr(r.all, "'-4096'"));
    ck_assert_uint_eq(s.block_size, 0);
    ck_assert_uint_eq(s.min_alignment, 0);
    ck_assert_uint_eq(s.dedicated_threshold, 0);
}
END_TEST

START_TEST(api_wrong_type_for_a_word_setting_is_reported) {
    suballoc_settings s;
    reports r = {0};
    const VkBool32 yes = VK_TRUE;
    const uint32_t one = 1;
    VkLayerSettingEXT settings[] = {
        {SUBALLOC_LAYER_NAME, "mode", VK_LAYER_SETTING_TYPE_BOOL32_EXT, 1, &yes},
        {SUBALLOC_LAYER_NAME, "log_level", VK_LAYER_SETTING_TYPE_UINT32_EXT, 1, &one},
    };
    VkLayerSettingsCreateInfoEXT info = create_info(settings, 2, NULL);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_create_info(&s, &info, collect, &r);
    ck_assert_int_eq(r.count, 2);
    ck_assert_ptr_nonnull(strstr(r.all, "suballocate or passthrough"));
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE);
    ck_assert_int_eq(s.log_level, SUBALLOC_LOG_WARNING);
}
END_TEST

START_TEST(api_first_value_given_for_a_setting_wins) {
    suballoc_settings s;
    reports r = {0};
    const char *first = "passthrough", *second = "suballocate";
    VkLayerSettingEXT a[] = {string_setting(SUBALLOC_LAYER_NAME, "mode", &first)};
    VkLayerSettingEXT b[] = {string_setting(SUBALLOC_LAYER_NAME, "mode", &second)};
    VkLayerSettingsCreateInfoEXT later = create_info(b, 1, NULL);
    VkLayerSettingsCreateInfoEXT earlier = create_info(a, 1, &later);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_create_info(&s, &earlier, collect, &r);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
}
END_TEST

START_TEST(api_other_structures_in_the_chain_are_passed_over) {
    suballoc_settings s;
    reports r = {0};
    const char *passthrough = "passthrough";
    VkLayerSettingEXT settings[] = {string_setting(SUBALLOC_LAYER_NAME, "mode", &passthrough)};
    VkLayerSettingsCreateInfoEXT info = create_info(settings, 1, NULL);
    VkValidationFeaturesEXT other = {.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT, .pNext = &info};
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_create_info(&s, &other, collect, &r);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(api_missing_pointers_are_reported_not_followed) {
    suballoc_settings s, defaults;
    reports r = {0};
    const char *null_string = NULL;
    VkLayerSettingEXT settings[] = {
        {SUBALLOC_LAYER_NAME, NULL, VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &null_string},
        {SUBALLOC_LAYER_NAME, "mode", VK_LAYER_SETTING_TYPE_STRING_EXT, 1, NULL},
        {SUBALLOC_LAYER_NAME, "log_level", VK_LAYER_SETTING_TYPE_STRING_EXT, 0, &null_string},
        {SUBALLOC_LAYER_NAME, "log_file", VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &null_string},
        {SUBALLOC_LAYER_NAME, "stats_file", (VkLayerSettingTypeEXT)99, 1, &null_string},
    };
    VkLayerSettingsCreateInfoEXT broken = create_info(NULL, 3, NULL);
    VkLayerSettingsCreateInfoEXT info = create_info(settings, 5, &broken);
    suballoc_settings_defaults(&s);
    suballoc_settings_defaults(&defaults);
    suballoc_settings_apply_create_info(&s, &info, collect, &r);
    ck_assert_int_eq(r.count, 6);
    ck_assert_int_eq(memcmp(&s, &defaults, sizeof s), 0);
}
END_TEST

START_TEST(api_unknown_setting_for_this_layer_is_reported) {
    suballoc_settings s;
    reports r = {0};
    const char *value = "1";
    VkLayerSettingEXT settings[] = {string_setting(SUBALLOC_LAYER_NAME, "enable", &value)};
    VkLayerSettingsCreateInfoEXT info = create_info(settings, 1, NULL);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_create_info(&s, &info, collect, &r);
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "unknown setting 'enable'"));
}
END_TEST

/* ---- environment ---------------------------------------------------------------- */

START_TEST(env_vendor_prefix_is_read) {
    suballoc_settings s;
    reports r = {0};
    setenv("VK_TRANSPARENT_SUBALLOC_BLOCK_SIZE", "32M", 1);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_environment(&s, collect, &r);
    ck_assert_uint_eq(s.block_size, 32ull << 20);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(env_short_prefix_is_read) {
    suballoc_settings s;
    reports r = {0};
    setenv("VK_SUBALLOC_EMPTY_BLOCK_POLICY", "release", 1);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_environment(&s, collect, &r);
    ck_assert_int_eq(s.empty_block_policy, SUBALLOC_EMPTY_BLOCKS_RELEASE);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(env_vendor_prefix_beats_short_prefix) {
    suballoc_settings s;
    setenv("VK_TRANSPARENT_SUBALLOC_MODE", "passthrough", 1);
    setenv("VK_SUBALLOC_MODE", "suballocate", 1);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_environment(&s, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
}
END_TEST

START_TEST(env_empty_variable_counts_as_unset) {
    suballoc_settings s;
    reports r = {0};
    setenv("VK_TRANSPARENT_SUBALLOC_MODE", "", 1);
    setenv("VK_SUBALLOC_MODE", "passthrough", 1);
    setenv("VK_SUBALLOC_LOG_LEVEL", "", 1);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_environment(&s, collect, &r);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_int_eq(s.log_level, SUBALLOC_LOG_WARNING);
    ck_assert_int_eq(r.count, 0);
}
END_TEST

START_TEST(env_bare_vk_setting_name_is_not_read) {
    suballoc_settings s;
    setenv("VK_MODE", "passthrough", 1);
    setenv("VK_BLOCK_SIZE", "8M", 1);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_environment(&s, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE);
    ck_assert_uint_eq(s.block_size, 0);
}
END_TEST

START_TEST(env_variable_naming_no_setting_is_reported) {
    suballoc_settings s;
    reports r = {0};
    setenv("VK_SUBALLOC_BLOCKSIZE", "8M", 1);
    setenv("VK_TRANSPARENT_SUBALLOC_mode", "passthrough", 1);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_environment(&s, collect, &r);
    ck_assert_int_eq(r.count, 2);
    ck_assert_ptr_nonnull(strstr(r.all, "VK_SUBALLOC_BLOCKSIZE"));
    ck_assert_ptr_nonnull(strstr(r.all, "VK_TRANSPARENT_SUBALLOC_mode"));
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE);
}
END_TEST

START_TEST(env_bad_value_names_the_variable) {
    suballoc_settings s;
    reports r = {0};
    setenv("VK_SUBALLOC_LOG_LEVEL", "loud", 1);
    suballoc_settings_defaults(&s);
    suballoc_settings_apply_environment(&s, collect, &r);
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "VK_SUBALLOC_LOG_LEVEL"));
    ck_assert_ptr_nonnull(strstr(r.all, "error, warning, info or debug"));
}
END_TEST

/* ---- precedence: environment > file > VkLayerSettingsCreateInfoEXT -------------- */

static const char *const api_passthrough_text = "passthrough";

static VkInstanceCreateInfo instance_with_api_mode(VkLayerSettingsCreateInfoEXT *info, VkLayerSettingEXT *setting,
                                                   const char *const *mode) {
    *setting = string_setting(SUBALLOC_LAYER_NAME, "mode", mode);
    *info = create_info(setting, 1, NULL);
    return (VkInstanceCreateInfo){.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pNext = info};
}

START_TEST(file_beats_api) {
    suballoc_settings s;
    VkLayerSettingsCreateInfoEXT info;
    VkLayerSettingEXT setting;
    VkInstanceCreateInfo instance = instance_with_api_mode(&info, &setting, &api_passthrough_text);
    write_file("vk_layer_settings.txt", "transparent_suballoc.mode = suballocate\n");
    suballoc_settings_load(&s, &instance, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE);
}
END_TEST

START_TEST(environment_beats_file) {
    suballoc_settings s;
    write_file("vk_layer_settings.txt", "transparent_suballoc.mode = passthrough\n");
    setenv("VK_SUBALLOC_MODE", "suballocate", 1);
    suballoc_settings_load(&s, NULL, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE);
}
END_TEST

START_TEST(environment_beats_api) {
    suballoc_settings s;
    VkLayerSettingsCreateInfoEXT info;
    VkLayerSettingEXT setting;
    VkInstanceCreateInfo instance = instance_with_api_mode(&info, &setting, &api_passthrough_text);
    setenv("VK_TRANSPARENT_SUBALLOC_MODE", "suballocate", 1);
    suballoc_settings_load(&s, &instance, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE);
}
END_TEST

START_TEST(api_applies_when_nothing_else_sets_it) {
    suballoc_settings s;
    VkLayerSettingsCreateInfoEXT info;
    VkLayerSettingEXT setting;
    VkInstanceCreateInfo instance = instance_with_api_mode(&info, &setting, &api_passthrough_text);
    write_file("vk_layer_settings.txt", "transparent_suballoc.block_size = 1M\n");
    suballoc_settings_load(&s, &instance, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
    ck_assert_uint_eq(s.block_size, 1ull << 20);
}
END_TEST

START_TEST(bad_value_in_a_higher_source_keeps_the_lower_sources_value) {
    suballoc_settings s;
    reports r = {0};
    write_file("vk_layer_settings.txt", "transparent_suballoc.block_size = 2M\n");
    setenv("VK_SUBALLOC_BLOCK_SIZE", "2 megabytes", 1);
    suballoc_settings_load(&s, NULL, collect, &r);
    ck_assert_uint_eq(s.block_size, 2ull << 20);
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_nonnull(strstr(r.all, "keeping 2M"));
}
END_TEST

/* ---- where vk_layer_settings.txt is found ---------------------------------------- */

START_TEST(settings_path_may_name_the_file) {
    char path[SUBALLOC_PATH_MAX], expected[512];
    suballoc_settings s;
    snprintf(expected, sizeof expected, "%s/custom.txt", scratch);
    write_file(expected, "transparent_suballoc.mode = passthrough\n");
    setenv("VK_LAYER_SETTINGS_PATH", expected, 1);
    ck_assert(suballoc_settings_find_file(path, sizeof path));
    ck_assert_str_eq(path, expected);
    suballoc_settings_load(&s, NULL, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
}
END_TEST

START_TEST(settings_path_may_name_the_folder) {
    char path[SUBALLOC_PATH_MAX], folder[512], expected[600];
    suballoc_settings s;
    snprintf(folder, sizeof folder, "%s/conf", scratch);
    snprintf(expected, sizeof expected, "%s/vk_layer_settings.txt", folder);
    make_folder(folder);
    write_file(expected, "transparent_suballoc.mode = passthrough\n");
    setenv("VK_LAYER_SETTINGS_PATH", folder, 1);
    ck_assert(suballoc_settings_find_file(path, sizeof path));
    ck_assert_str_eq(path, expected);
    suballoc_settings_load(&s, NULL, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
}
END_TEST

START_TEST(working_directory_file_is_read_when_nothing_points_elsewhere) {
    char path[SUBALLOC_PATH_MAX];
    ck_assert(!suballoc_settings_find_file(path, sizeof path));
    write_file("vk_layer_settings.txt", "transparent_suballoc.mode = passthrough\n");
    ck_assert(suballoc_settings_find_file(path, sizeof path));
    ck_assert_str_eq(path, "vk_layer_settings.txt");
}
END_TEST

START_TEST(vkconfig_file_in_xdg_data_home_comes_first) {
    char path[SUBALLOC_PATH_MAX], data_home[512], expected[700], other[600];
    suballoc_settings s;
    snprintf(data_home, sizeof data_home, "%s/data", scratch);
    snprintf(other, sizeof other, "%s/other.txt", scratch);
    snprintf(expected, sizeof expected, "%s/vulkan/settings.d/vk_layer_settings.txt", data_home);
    make_folder(data_home);
    ck_assert_int_eq(system("mkdir -p data/vulkan/settings.d"), 0);
    write_file(expected, "transparent_suballoc.mode = passthrough\n");
    write_file(other, "transparent_suballoc.mode = suballocate\n");
    write_file("vk_layer_settings.txt", "transparent_suballoc.mode = suballocate\n");
    setenv("XDG_DATA_HOME", data_home, 1);
    setenv("VK_LAYER_SETTINGS_PATH", other, 1);
    ck_assert(suballoc_settings_find_file(path, sizeof path));
    ck_assert_str_eq(path, expected);
    suballoc_settings_load(&s, NULL, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_PASSTHROUGH);
}
END_TEST

START_TEST(vkconfig_file_under_home_when_xdg_data_home_is_unset) {
    char path[SUBALLOC_PATH_MAX], expected[700];
    snprintf(expected, sizeof expected, "%s/.local/share/vulkan/settings.d/vk_layer_settings.txt", scratch);
    ck_assert_int_eq(system("mkdir -p .local/share/vulkan/settings.d"), 0);
    write_file(expected, "transparent_suballoc.mode = passthrough\n");
    ck_assert(suballoc_settings_find_file(path, sizeof path));
    ck_assert_str_eq(path, expected);
}
END_TEST

START_TEST(existing_settings_path_folder_is_chosen_even_without_a_file) {
    char path[SUBALLOC_PATH_MAX], folder[512];
    suballoc_settings s;
    snprintf(folder, sizeof folder, "%s/empty", scratch);
    make_folder(folder);
    write_file("vk_layer_settings.txt", "transparent_suballoc.mode = passthrough\n");
    setenv("VK_LAYER_SETTINGS_PATH", folder, 1);
    ck_assert(suballoc_settings_find_file(path, sizeof path));
    ck_assert_ptr_nonnull(strstr(path, "/empty/vk_layer_settings.txt"));
    suballoc_settings_load(&s, NULL, NULL, NULL);
    ck_assert_int_eq(s.mode, SUBALLOC_MODE_SUBALLOCATE); /* the working directory's file is not read */
}
END_TEST

START_TEST(missing_settings_path_falls_back_to_the_working_directory) {
    char path[SUBALLOC_PATH_MAX];
    setenv("VK_LAYER_SETTINGS_PATH", "/nonexistent/settings/folder", 1);
    write_file("vk_layer_settings.txt", "transparent_suballoc.mode = passthrough\n");
    ck_assert(suballoc_settings_find_file(path, sizeof path));
    ck_assert_str_eq(path, "vk_layer_settings.txt");
}
END_TEST

START_TEST(unreadable_settings_file_is_reported_not_fatal) {
    suballoc_settings s, defaults;
    reports r = {0};
    char folder[512];
    /* A folder named like the file: it exists but cannot be read as one. */
    snprintf(folder, sizeof folder, "%s/conf", scratch);
    make_folder(folder);
    ck_assert_int_eq(system("mkdir conf/vk_layer_settings.txt"), 0);
    setenv("VK_LAYER_SETTINGS_PATH", folder, 1);
    suballoc_settings_defaults(&defaults);
    suballoc_settings_load(&s, NULL, collect, &r);
    ck_assert_int_eq(memcmp(&s, &defaults, sizeof s), 0);
    ck_assert_int_eq(r.count, 1);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------ */

static void add(Suite *suite, const char *name, const TTest *test) {
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test);
    suite_add_tcase(suite, tc);
}

#define ADD(suite, test) add(suite, #test, test)

static Suite *settings_suite(void) {
    Suite *s = suite_create("settings");
    ADD(s, defaults_are_the_documented_ones);
    ADD(s, load_with_nothing_set_gives_the_defaults_and_no_report);
    ADD(s, size_is_plain_decimal_bytes);
    ADD(s, size_suffixes_are_binary_and_either_case);
    ADD(s, size_rejects_anything_but_digits_and_one_suffix);
    ADD(s, size_too_big_for_64_bits_saturates_instead_of_wrapping);
    ADD(s, good_value_is_taken_silently);
    ADD(s, bad_value_is_reported_once_with_name_and_accepted_range);
    ADD(s, bad_value_keeps_the_default);
    ADD(s, size_outside_its_range_is_reported_as_out_of_range);
    ADD(s, min_alignment_must_be_a_power_of_two);
    ADD(s, allocation_limit_is_a_32_bit_count_without_suffix);
    ADD(s, words_are_matched_ignoring_case);
    ADD(s, unknown_word_is_reported_with_every_accepted_word);
    ADD(s, blanks_around_a_value_are_ignored);
    ADD(s, path_too_long_is_reported_and_not_truncated);
    ADD(s, empty_path_switches_the_file_off);
    ADD(s, stats_json_file_takes_a_path_and_empty_switches_it_off);
    ADD(s, stats_json_file_too_long_is_reported_in_one_line);
    ADD(s, stats_interval_is_whole_seconds_up_to_a_day);
    ADD(s, stats_interval_bad_values_are_reported_in_one_line_each);
    ADD(s, unknown_setting_is_reported_with_the_known_ones);
    ADD(s, every_listed_name_is_a_setting_the_code_reads);
    ADD(s, value_text_writes_sizes_with_the_largest_exact_suffix);
    ADD(s, file_reads_keys_under_the_layer_prefix);
    ADD(s, file_skips_other_layers_keys_silently);
    ADD(s, file_comments_and_blank_lines_are_ignored);
    ADD(s, file_key_given_twice_takes_the_last_value);
    ADD(s, file_bad_line_is_reported_with_its_line_number);
    ADD(s, file_unknown_key_under_the_prefix_is_reported);
    ADD(s, file_key_without_value_is_reported);
    ADD(s, file_with_crlf_line_ends_reads_the_same);
    ADD(s, file_text_is_read_only_up_to_its_length);
    ADD(s, api_string_value_is_read);
    ADD(s, api_numbers_of_every_integer_and_float_type_are_read);
    ADD(s, api_settings_of_other_layers_are_skipped);
    ADD(s, api_negative_or_fractional_numbers_are_reported);
    ADD(s, api_wrong_type_for_a_word_setting_is_reported);
    ADD(s, api_first_value_given_for_a_setting_wins);
    ADD(s, api_other_structures_in_the_chain_are_passed_over);
    ADD(s, api_missing_pointers_are_reported_not_followed);
    ADD(s, api_unknown_setting_for_this_layer_is_reported);
    ADD(s, env_vendor_prefix_is_read);
    ADD(s, env_short_prefix_is_read);
    ADD(s, env_vendor_prefix_beats_short_prefix);
    ADD(s, env_empty_variable_counts_as_unset);
    ADD(s, env_bare_vk_setting_name_is_not_read);
    ADD(s, env_variable_naming_no_setting_is_reported);
    ADD(s, env_bad_value_names_the_variable);
    ADD(s, file_beats_api);
    ADD(s, environment_beats_file);
    ADD(s, environment_beats_api);
    ADD(s, api_applies_when_nothing_else_sets_it);
    ADD(s, bad_value_in_a_higher_source_keeps_the_lower_sources_value);
    ADD(s, settings_path_may_name_the_file);
    ADD(s, settings_path_may_name_the_folder);
    ADD(s, working_directory_file_is_read_when_nothing_points_elsewhere);
    ADD(s, vkconfig_file_in_xdg_data_home_comes_first);
    ADD(s, vkconfig_file_under_home_when_xdg_data_home_is_unset);
    ADD(s, existing_settings_path_folder_is_chosen_even_without_a_file);
    ADD(s, missing_settings_path_falls_back_to_the_working_directory);
    ADD(s, unreadable_settings_file_is_reported_not_fatal);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(settings_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
