/*
 * json.c - pretty-printing JSON writer.
 */
#include <glib.h>
#include <inttypes.h>

#include "mailproc/clock.h"
#include "mailproc/json.h"

#define JSON_MAX_DEPTH 32

struct json_out {
	GString *s;
	int depth;
	int count[JSON_MAX_DEPTH];	/* members written at each depth */
	int after_key;
};

json_out *
json_new(void)
{
	json_out *j = g_new0(json_out, 1);

	j->s = g_string_sized_new(1024);
	return j;
}

static void
indent(json_out *j)
{
	g_string_append_c(j->s, '\n');
	for (int i = 0; i < j->depth; i++)
		g_string_append(j->s, "  ");
}

/* Puts the separator and indentation in front of a value or key. */
static void
before_value(json_out *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0) {
		if (j->count[j->depth]++ > 0)
			g_string_append_c(j->s, ',');
		indent(j);
	}
}

static void
open(json_out *j, char c)
{
	before_value(j);
	g_string_append_c(j->s, c);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->count[j->depth] = 0;
}

static void
close(json_out *j, char c)
{
	int had = j->count[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		indent(j);
	g_string_append_c(j->s, c);
}

void json_object_begin(json_out *j) { open(j, '{'); }
void json_object_end(json_out *j) { close(j, '}'); }
void json_array_begin(json_out *j) { open(j, '['); }
void json_array_end(json_out *j) { close(j, ']'); }

void
json_escape_append(void *gstring, const char *s)
{
	GString *out = gstring;

	if (s == NULL) {
		g_string_append(out, "null");
		return;
	}
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': g_string_append(out, "\\\""); break;
		case '\\': g_string_append(out, "\\\\"); break;
		case '\n': g_string_append(out, "\\n"); break;
		case '\r': g_string_append(out, "\\r"); break;
		case '\t': g_string_append(out, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
	g_string_append_c(out, '"');
}

void
json_key(json_out *j, const char *key)
{
	before_value(j);
	json_escape_append(j->s, key);
	g_string_append(j->s, ": ");
	j->after_key = 1;
}

void
json_string(json_out *j, const char *s)
{
	before_value(j);
	json_escape_append(j->s, s);
}

void
json_int(json_out *j, int64_t v)
{
	before_value(j);
	g_string_append_printf(j->s, "%" PRId64, v);
}

void
json_bool(json_out *j, int v)
{
	before_value(j);
	g_string_append(j->s, v ? "true" : "false");
}

void
json_null(json_out *j)
{
	before_value(j);
	g_string_append(j->s, "null");
}

void
json_time(json_out *j, int64_t t)
{
	char buf[21];

	if (t < 0) {
		json_null(j);
		return;
	}
	clock_format(t, buf);
	json_string(j, buf);
}

void
json_raw(json_out *j, const char *text)
{
	before_value(j);
	g_string_append(j->s, text ? text : "null");
}

char *
json_finish(json_out *j)
{
	g_string_append_c(j->s, '\n');
	char *out = g_string_free(j->s, FALSE);
	g_free(j);
	return out;
}
