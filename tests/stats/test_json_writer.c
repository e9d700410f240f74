/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_json_writer: the rules of layer/json_writer.c, one test per rule. The
 * escaper is what stands between a debug name holding anything at all and a
 * dump no JSON reader can open.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"

/* The escaped form of `length` bytes, as a NUL-terminated string. */
static const char *escaped(const char *text, size_t length) {
    static char out[4096];
    size_t n = json_escape(text, length, out, sizeof out - 1);
    ck_assert_uint_lt(n, sizeof out);
    out[n] = '\0';
    return out;
}

#define ESCAPED(literal) escaped((literal), sizeof(literal) - 1)

START_TEST(plain_ascii_stays_as_it_is) {
    ck_assert_str_eq(ESCAPED("buffer 12, image: A-Z_a-z/0-9 ~"), "buffer 12, image: A-Z_a-z/0-9 ~");
}
END_TEST

START_TEST(quote_and_backslash_are_escaped) { ck_assert_str_eq(ESCAPED("a\"b\\c"), "a\\\"b\\\\c"); }
END_TEST

START_TEST(control_bytes_get_short_or_unicode_escapes) {
    ck_assert_str_eq(ESCAPED("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
    ck_assert_str_eq(ESCAPED("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f");
    ck_assert_str_eq(escaped("a\0b", 3), "a\\u0000b"); /* a NUL inside a length-given text */
}
END_TEST

START_TEST(well_formed_utf8_is_kept) {
    ck_assert_str_eq(ESCAPED("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
                     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
}
END_TEST

START_TEST(each_stray_byte_becomes_one_replacement_character) {
    ck_assert_str_eq(ESCAPED("a\xff"
                             "b"),
                     "a\\ufffdb");
    ck_assert_str_eq(ESCAPED("\x80\xbf"), "\\ufffd\\ufffd");                       /* continuation bytes alone */
    ck_assert_str_eq(ESCAPED("\xc0\x80"), "\\ufffd\\ufffd");                       /* overlong NUL */
    ck_assert_str_eq(ESCAPED("\xe0\x80\x80"), "\\ufffd\\ufffd\\ufffd");            /* overlong 3-byte form */
    ck_assert_str_eq(ESCAPED("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");            /* a UTF-16 surrogate */
    ck_assert_str_eq(ESCAPED("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd"); /* above U+10FFFF */
    ck_assert_str_eq(ESCAPED("\xe2\x82"), "\\ufffd\\ufffd");                       /* cut short at the end */
    ck_assert_str_eq(ESCAPED("\xe2\x82z"), "\\ufffd\\ufffdz");                     /* cut short before ASCII */
}
END_TEST

START_TEST(escape_reports_the_room_it_needs) {
    char small[4];
    ck_assert_uint_eq(json_escape("\x01\x02", 2, small, sizeof small), 12);
    ck_assert_uint_eq(json_escape("", 0, small, sizeof small), 0);
}
END_TEST

START_TEST(writer_builds_nested_documents_with_commas_and_one_line_items) {
    json_writer w;
    json_writer_init(&w);
    json_begin_object(&w, false);
    json_key_string(&w, "API", "Vulkan");
    json_key(&w, "Flags");
    json_begin_array(&w, true);
    json_string(&w, "DEVICE_LOCAL");
    json_number(&w, 64);
    json_end_array(&w);
    json_key(&w, "Empty");
    json_begin_object(&w, false);
    json_end_object(&w);
    json_key(&w, "Items");
    json_begin_array(&w, false);
    json_begin_object(&w, true);
    json_key_number(&w, "Offset", 0);
    json_key_string(&w, "Name", "a\"b");
    json_end_object(&w);
    json_begin_object(&w, true);
    json_key_number(&w, "Offset", 18446744073709551615ull);
    json_key(&w, "Flag");
    json_bool(&w, true);
    json_end_object(&w);
    json_end_array(&w);
    json_end_object(&w);
    ck_assert(!w.failed);
    ck_assert_str_eq(w.text, "{\n"
                             "  \"API\": \"Vulkan\",\n"
                             "  \"Flags\": [\"DEVICE_LOCAL\", 64],\n"
                             "  \"Empty\": {},\n"
                             "  \"Items\": [\n"
                             "    {\"Offset\": 0, \"Name\": \"a\\\"b\"},\n"
                             "    {\"Offset\": 18446744073709551615, \"Flag\": true}\n"
                             "  ]\n"
                             "}\n");
    ck_assert_uint_eq(w.length, strlen(w.text));
    json_writer_free(&w);
}
END_TEST

START_TEST(writer_grows_past_its_first_buffer) {
    json_writer w;
    json_writer_init(&w);
    json_begin_array(&w, false);
    for (int i = 0; i < 20000; i++) json_string(&w, "\x01\x02\x03 grows");
    json_end_array(&w);
    ck_assert(!w.failed);
    ck_assert_uint_gt(w.length, 20000u * 20u);
    ck_assert_uint_eq(w.length, strlen(w.text));
    json_writer_free(&w);
}
END_TEST

START_TEST(unbalanced_ends_mark_the_writer_failed) {
    json_writer w;
    json_writer_init(&w);
    json_end_object(&w);
    ck_assert(w.failed);
    json_writer_free(&w);
    json_writer_init(&w);
    for (int i = 0; i <= JSON_WRITER_DEPTH_MAX; i++) json_begin_array(&w, false);
    ck_assert(w.failed);
    json_writer_free(&w);
}
END_TEST

static Suite *writer_suite(void) {
    Suite *s = suite_create("json_writer");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, plain_ascii_stays_as_it_is);
    tcase_add_test(tc, quote_and_backslash_are_escaped);
    tcase_add_test(tc, control_bytes_get_short_or_unicode_escapes);
    tcase_add_test(tc, well_formed_utf8_is_kept);
    tcase_add_test(tc, each_stray_byte_becomes_one_replacement_character);
    tcase_add_test(tc, escape_reports_the_room_it_needs);
    tcase_add_test(tc, writer_builds_nested_documents_with_commas_and_one_line_items);
    tcase_add_test(tc, writer_grows_past_its_first_buffer);
    tcase_add_test(tc, unbalanced_ends_mark_the_writer_failed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(writer_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
