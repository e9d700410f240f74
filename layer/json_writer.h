/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_writer: builds one JSON document in memory, for the statistics dump.
 *
 * Plain C, no Vulkan: values are appended in document order and the writer
 * puts in the commas, the colons and the indentation. Every string goes
 * through the escaper, which turns any byte sequence into valid JSON text:
 * quotes, backslashes and control bytes are escaped, well-formed UTF-8 is kept
 * as it is, and each byte that is not part of well-formed UTF-8 becomes
 * U+FFFD, so a debug name holding anything at all cannot break the file.
 *
 * Running out of memory marks the writer failed; later calls do nothing and
 * the caller throws the document away.
 */
#ifndef SUBALLOC_JSON_WRITER_H
#define SUBALLOC_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_WRITER_DEPTH_MAX 16

typedef struct json_writer {
    char *text; /* NUL-terminated while not failed */
    size_t length, capacity;
    bool failed;
    unsigned depth;
    bool has_items[JSON_WRITER_DEPTH_MAX]; /* a comma goes before the next item */
    bool one_line[JSON_WRITER_DEPTH_MAX];  /* this container is written on one line */
    bool after_key;                        /* the next value completes a "key": pair */
} json_writer;

void json_writer_init(json_writer *w);
void json_writer_free(json_writer *w);

/* A container on one line ({"Offset": 0, "Size": 64}) when one_line, else one item a line. */
void json_begin_object(json_writer *w, bool one_line);
void json_end_object(json_writer *w);
void json_begin_array(json_writer *w, bool one_line);
void json_end_array(json_writer *w);

void json_key(json_writer *w, const char *key);
void json_keyf(json_writer *w, const char *format, ...) __attribute__((format(printf, 2, 3)));
void json_string(json_writer *w, const char *text);
void json_number(json_writer *w, uint64_t value);
void json_bool(json_writer *w, bool value);

/* "key": value in one call. */
void json_key_string(json_writer *w, const char *key, const char *text);
void json_key_number(json_writer *w, const char *key, uint64_t value);

/* Appends text (length bytes) to out as the inside of a JSON string literal,
 * without the quotes. Returns the bytes written, or the bytes it would need
 * when out_size is too small (out then holds nothing useful). Exposed for tests. */
size_t json_escape(const char *text, size_t length, char *out, size_t out_size);

#endif
