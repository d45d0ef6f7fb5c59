/*
 * compose.c - outgoing messages.
 */
#include <gmime/gmime.h>
#include <string.h>

#include "mailproc/compose.h"
#include "parsers/message.h"

/* References kept in a reply: the thread root and the most recent ones,
 * as RFC 5322 3.6.4 suggests when trimming. */
#define MAX_REFERENCES 10

char *
compose_message_id(const char *domain)
{
	guint32 a = g_random_int(), b = g_random_int(), c = g_random_int();

	return g_strdup_printf("<mp.%08x%08x%08x@%s>", a, b, c,
	    domain && *domain ? domain : "mailproc.invalid");
}

static GMimePart *
text_part(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	GMimeContentEncoding enc;

	g_mime_text_part_set_text(tp, text);
	g_mime_text_part_set_charset(tp, "utf-8");
	enc = g_mime_part_get_best_content_encoding(GMIME_PART(tp),
	    GMIME_ENCODING_CONSTRAINT_7BIT);
	g_mime_part_set_content_encoding(GMIME_PART(tp), enc);
	return GMIME_PART(tp);
}

/* Strips a bracketed id down to what GMime wants, or NULL if unusable. */
static char *
bare_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n < 3 || id[0] != '<' || id[n - 1] != '>')
		return NULL;
	for (size_t i = 1; i < n - 1; i++)
		if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f
		    || id[i] == '<' || id[i] == '>')
			return NULL;
	return g_strndup(id + 1, n - 2);
}

mp_status
compose_message(const compose_in *in, char **raw, size_t *len)
{
	GMimeMessage *m = g_mime_message_new(TRUE);
	GMimeObject *obj = GMIME_OBJECT(m);
	GMimeFormatOptions *fo = NULL;
	GMimeStream *mem = NULL;
	GByteArray *ba;
	GDateTime *dt;
	char *subject, *name, *id;
	mp_status rc = MP_OK;

	*raw = NULL;
	*len = 0;
	name = in->from_name ? msg_header_safe(in->from_name, 100) : NULL;
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, name,
	    in->from);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_REPLY_TO, name,
	    in->from);
	g_free(name);
	for (int i = 0; in->to && in->to[i]; i++)
		g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL,
		    in->to[i]);
	subject = msg_header_safe(in->subject, 400);
	g_mime_message_set_subject(m, subject, "utf-8");
	g_free(subject);
	dt = g_date_time_new_from_unix_utc(in->date);
	g_mime_message_set_date(m, dt);
	g_date_time_unref(dt);
	id = bare_id(in->message_id);
	if (id == NULL) {
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	g_mime_message_set_message_id(m, id);
	g_free(id);
	id = bare_id(in->in_reply_to);
	if (id) {
		char *v = g_strdup_printf("<%s>", id);

		g_mime_object_set_header(obj, "In-Reply-To", v, NULL);
		g_free(v);
		g_free(id);
	}
	if (in->references && in->references[0]) {
		GString *refs = g_string_new(NULL);
		int n = 0;

		while (in->references[n])
			n++;
		for (int i = 0; i < n; i++) {
			char *b;

			if (n > MAX_REFERENCES && i > 0 &&
			    i < n - MAX_REFERENCES + 1)
				continue;
			b = bare_id(in->references[i]);
			if (b == NULL)
				continue;
			g_string_append_printf(refs, "%s<%s>",
			    refs->len ? " " : "", b);
			g_free(b);
		}
		if (refs->len)
			g_mime_object_set_header(obj, "References", refs->str,
			    NULL);
		g_string_free(refs, TRUE);
	}
	if (in->auto_submitted)
		g_mime_object_set_header(obj, "Auto-Submitted",
		    in->auto_submitted, NULL);
	if (in->html) {
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype(
		    "alternative");
		GMimePart *t = text_part("plain", in->text);
		GMimePart *h = text_part("html", in->html);

		g_mime_multipart_add(alt, GMIME_OBJECT(t));
		g_mime_multipart_add(alt, GMIME_OBJECT(h));
		g_object_unref(t);
		g_object_unref(h);
		g_mime_message_set_mime_part(m, GMIME_OBJECT(alt));
		g_object_unref(alt);
	} else {
		GMimePart *t = text_part("plain", in->text);

		g_mime_message_set_mime_part(m, GMIME_OBJECT(t));
		g_object_unref(t);
	}
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	ba = g_byte_array_new();
	mem = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	if (g_mime_object_write_to_stream(obj, fo, mem) < 0) {
		g_byte_array_free(ba, TRUE);
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	*len = ba->len;
	g_byte_array_append(ba, (const guint8 *)"", 1);
	*raw = (char *)g_byte_array_free(ba, FALSE);
done:
	if (mem)
		g_object_unref(mem);
	if (fo)
		g_mime_format_options_free(fo);
	g_object_unref(m);
	return rc;
}
