/*
 * json.h - a streaming JSON writer for the stable output shapes of SPEC 5.1.
 *
 * Keys are written in call order, so the shape of each document reads top
 * to bottom where it is built.  A NULL string is written as null: absent
 * values are null, never missing keys.
 */
#ifndef MP_JSON_H
#define MP_JSON_H

#include <stdint.h>

typedef struct json_out json_out;

/* Returns a new writer owned by the caller (json_finish() frees it). */
json_out *json_new(void);

void json_object_begin(json_out *j);
void json_object_end(json_out *j);
void json_array_begin(json_out *j);
void json_array_end(json_out *j);

/* Writes the key of the next member of the current object. */
void json_key(json_out *j, const char *key);

/* Writes s (valid UTF-8) as a string, or null when s is NULL. */
void json_string(json_out *j, const char *s);
void json_int(json_out *j, int64_t v);
void json_bool(json_out *j, int v);
void json_null(json_out *j);
/* Writes a time as a UTC ISO-8601 string, or null when t < 0. */
void json_time(json_out *j, int64_t t);
/* Writes already-serialised JSON text verbatim (a stored fragment). */
void json_raw(json_out *j, const char *text);

/* Frees j and returns the document, newline-terminated, owned by the
 * caller (g_free()). */
char *json_finish(json_out *j);

/* Appends s to out as a JSON string literal with quotes; NULL gives null.
 * out is a GString. */
void json_escape_append(void *gstring, const char *s);

#endif
