/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_writer.c: one JSON document in a growing buffer (see json_writer.h).
 */
#include "json_writer.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_CAPACITY 4096
#define KEY_MAX 256
#define INDENT_WIDTH 2

void json_writer_init(json_writer *w) { memset(w, 0, sizeof *w); }

void json_writer_free(json_writer *w) {
    free(w->text);
    json_writer_init(w);
}

/* Room for `more` bytes plus the terminating NUL. */
static bool reserve(json_writer *w, size_t more) {
    if (w->failed) return false;
    if (more > SIZE_MAX / 2 - w->length) {
        w->failed = true;
        return false;
    }
    size_t needed = w->length + more + 1;
    if (needed <= w->capacity) return true;
    size_t capacity = w->capacity != 0 ? w->capacity : INITIAL_CAPACITY;
    while (capacity < needed) capacity *= 2;
    char *text = realloc(w->text, capacity);
    if (text == NULL) {
        w->failed = true;
        return false;
    }
    w->text = text;
    w->capacity = capacity;
    return true;
}

static void append(json_writer *w, const char *bytes, size_t length) {
    if (!reserve(w, length)) return;
    memcpy(w->text + w->length, bytes, length);
    w->length += length;
    w->text[w->length] = '\0';
}

static void append_char(json_writer *w, char c) { append(w, &c, 1); }

static void new_line(json_writer *w, unsigned depth) {
    if (!reserve(w, 1 + (size_t)depth * INDENT_WIDTH)) return;
    w->text[w->length++] = '\n';
    memset(w->text + w->length, ' ', (size_t)depth * INDENT_WIDTH);
    w->length += (size_t)depth * INDENT_WIDTH;
    w->text[w->length] = '\0';
}

/* What goes before any value or key: the separator its container needs. */
static void before_item(json_writer *w) {
    if (w->after_key) { /* the value of a pair: the key wrote the separator */
        w->after_key = false;
        return;
    }
    if (w->depth == 0) return;
    unsigned level = w->depth - 1;
    if (w->has_items[level]) append_char(w, ',');
    if (w->one_line[level]) {
        if (w->has_items[level]) append_char(w, ' ');
    } else {
        new_line(w, w->depth);
    }
    w->has_items[level] = true;
}

static void begin(json_writer *w, char open, bool one_line) {
    before_item(w);
    append_char(w, open);
    if (w->depth >= JSON_WRITER_DEPTH_MAX) {
        w->failed = true; /* a programming error in the caller; never silently wrong */
        return;
    }
    /* A container inside a one-line container stays on that line. */
    bool inherited = w->depth > 0 && w->one_line[w->depth - 1];
    w->has_items[w->depth] = false;
    w->one_line[w->depth] = one_line || inherited;
    w->depth++;
}

static void end(json_writer *w, char close) {
    if (w->depth == 0) {
        w->failed = true;
        return;
    }
    w->depth--;
    if (w->has_items[w->depth] && !w->one_line[w->depth]) new_line(w, w->depth);
    append_char(w, close);
    if (w->depth == 0) append_char(w, '\n');
}

void json_begin_object(json_writer *w, bool one_line) { begin(w, '{', one_line); }
void json_end_object(json_writer *w) { end(w, '}'); }
void json_begin_array(json_writer *w, bool one_line) { begin(w, '[', one_line); }
void json_end_array(json_writer *w) { end(w, ']'); }

/* ---- strings -------------------------------------------------------------------- */

typedef struct sink {
    char *out;
    size_t size, used;
} sink;

static void put(sink *s, char c) {
    if (s->used < s->size) s->out[s->used] = c;
    s->used++;
}

static void put_text(sink *s, const char *text) {
    while (*text != '\0') put(s, *text++);
}

static void put_escape(sink *s, unsigned code) {
    char hex[8];
    snprintf(hex, sizeof hex, "\\u%04x", code);
    put_text(s, hex);
}

/* Length of the well-formed UTF-8 sequence at bytes[0] (Unicode table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *bytes, size_t available) {
    unsigned char lead = bytes[0];
    size_t length;
    unsigned char low = 0x80, high = 0xbf; /* allowed range of the second byte */
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
    } else {
        return 0;
    }
    if (available < length) return 0;
    if (bytes[1] < low || bytes[1] > high) return 0;
    for (size_t i = 2; i < length; i++)
        if (bytes[i] < 0x80 || bytes[i] > 0xbf) return 0;
    return length;
}

size_t json_escape(const char *text, size_t length, char *out, size_t out_size) {
    sink s = {out, out_size, 0};
    const unsigned char *bytes = (const unsigned char *)text;
    for (size_t i = 0; i < length;) {
        unsigned char c = bytes[i];
        if (c == '"' || c == '\\') {
            put(&s, '\\');
            put(&s, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\b': put_text(&s, "\\b"); break;
            case '\f': put_text(&s, "\\f"); break;
            case '\n': put_text(&s, "\\n"); break;
            case '\r': put_text(&s, "\\r"); break;
            case '\t': put_text(&s, "\\t"); break;
            default: put_escape(&s, c); break;
            }
        } else if (c < 0x80) {
            put(&s, (char)c);
        } else {
            size_t n = utf8_sequence(bytes + i, length - i);
            if (n == 0) {
                put_escape(&s, 0xfffd); /* one replacement per stray byte */
                i++;
                continue;
            }
            for (size_t k = 0; k < n; k++) put(&s, (char)bytes[i + k]);
            i += n;
            continue;
        }
        i++;
    }
    return s.used;
}

static void append_string_literal(json_writer *w, const char *text) {
    size_t length = text != NULL ? strlen(text) : 0;
    if (length > (SIZE_MAX - 8) / 6 || !reserve(w, length * 6 + 2)) { /* \uXXXX is the widest form of a byte */
        w->failed = true;
        return;
    }
    w->text[w->length++] = '"';
    w->length += json_escape(text != NULL ? text : "", length, w->text + w->length, w->capacity - w->length);
    w->text[w->length++] = '"';
    w->text[w->length] = '\0';
}

void json_string(json_writer *w, const char *text) {
    before_item(w);
    append_string_literal(w, text);
}

void json_key(json_writer *w, const char *key) {
    before_item(w);
    append_string_literal(w, key);
    append(w, ": ", 2);
    w->after_key = true;
}

void json_keyf(json_writer *w, const char *format, ...) {
    char key[KEY_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(key, sizeof key, format, args);
    va_end(args);
    json_key(w, key);
}

void json_number(json_writer *w, uint64_t value) {
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, value);
    before_item(w);
    append(w, digits, (size_t)n);
}

void json_bool(json_writer *w, bool value) {
    before_item(w);
    append(w, value ? "true" : "false", value ? 4 : 5);
}

void json_key_string(json_writer *w, const char *key, const char *text) {
    json_key(w, key);
    json_string(w, text);
}

void json_key_number(json_writer *w, const char *key, uint64_t value) {
    json_key(w, key);
    json_number(w, value);
}
