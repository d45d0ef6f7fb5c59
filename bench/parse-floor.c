/*
 * parse-floor.c - the GMime work mailproc cannot avoid, and nothing else.
 *
 *     parse-floor MBOX
 *
 * Splits an mboxrd file the way `mailproc ingest --mbox` does (a line
 * starting "From " begins a message, the blank line before it is the
 * separator, one '>' comes off lines matching ^>+From ), and for each
 * message: parses it with GMime (GMIME_FORMAT_MESSAGE on a mem stream of
 * the message's bytes, the same parser options as parsers/message.c),
 * reads Subject, From and Message-ID, walks the MIME tree and decodes the
 * first text part with g_mime_text_part_get_text(), then frees it all.
 *
 * Prints "parse-floor: N messages in S s = R msg/s".  The time covers the
 * split, the parse and the decode; not reading the file from disk (it is
 * mapped, and the caller warms the cache).
 *
 * Build:
 *   cc -O2 -std=gnu11 -Wall -Wextra -Werror bench/parse-floor.c \
 *       $(pkg-config --cflags --libs gmime-3.0) -o build/bench/parse-floor
 */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static GMimeParserOptions *opts;
static size_t text_bytes;	/* keeps the work observable */

static GMimeTextPart *
first_text(GMimeObject *o, int depth)
{
	if (depth > 64 || o == NULL)
		return NULL;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++) {
			GMimeTextPart *t = first_text(
			    g_mime_multipart_get_part(mp, i), depth + 1);

			if (t)
				return t;
		}
		return NULL;
	}
	if (GMIME_IS_TEXT_PART(o))
		return GMIME_TEXT_PART(o);
	return NULL;
}

static int
one(const char *raw, size_t len)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *m;
	InternetAddressList *from;
	const char *subject, *mid;
	GMimeTextPart *tp;
	int ok = 0;

	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(parser, opts);
	if (m != NULL && g_mime_message_get_mime_part(m) != NULL) {
		subject = g_mime_message_get_subject(m);
		mid = g_mime_message_get_message_id(m);
		from = g_mime_message_get_from(m);
		if (from && internet_address_list_length(from) > 0) {
			InternetAddress *a = internet_address_list_get_address(
			    from, 0);

			if (INTERNET_ADDRESS_IS_MAILBOX(a))
				text_bytes += strlen(
				    internet_address_mailbox_get_addr(
				    INTERNET_ADDRESS_MAILBOX(a)));
		}
		text_bytes += (subject ? strlen(subject) : 0) +
		    (mid ? strlen(mid) : 0);
		tp = first_text(g_mime_message_get_mime_part(m), 0);
		if (tp) {
			char *text = g_mime_text_part_get_text(tp);

			if (text)
				text_bytes += strlen(text);
			g_free(text);
		}
		ok = 1;
	}
	if (m)
		g_object_unref(m);
	g_object_unref(parser);
	g_object_unref(stream);
	return ok;
}

int
main(int argc, char **argv)
{
	const char *fallback[] = { "utf-8", "windows-1252", NULL };
	GMappedFile *mf;
	GError *err = NULL;
	const char *p, *end;
	GString *cur;
	long count = 0, bad = 0;
	gint64 t0, t1;
	double secs;

	if (argc != 2) {
		fprintf(stderr, "usage: parse-floor MBOX\n");
		return 2;
	}
	g_mime_init();
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);

	mf = g_mapped_file_new(argv[1], FALSE, &err);
	if (mf == NULL) {
		fprintf(stderr, "parse-floor: %s\n", err->message);
		return 1;
	}
	p = g_mapped_file_get_contents(mf);
	end = p + g_mapped_file_get_length(mf);
	if (p == NULL || end - p < 5 || strncmp(p, "From ", 5) != 0) {
		fprintf(stderr, "parse-floor: %s: not an mbox file\n",
		    argv[1]);
		return 1;
	}
	cur = g_string_sized_new(8192);
	t0 = g_get_monotonic_time();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *q = p;

		if (end - p >= 5 && strncmp(p, "From ", 5) == 0) {
			if (count > 0) {
				if (cur->len && cur->str[cur->len - 1] == '\n')
					g_string_truncate(cur, cur->len - 1);
				bad += !one(cur->str, cur->len);
			}
			g_string_truncate(cur, 0);
			count++;
			p = next;
			continue;
		}
		while (q < next && *q == '>')
			q++;
		if (q > p && next - q >= 5 && strncmp(q, "From ", 5) == 0)
			p++;
		g_string_append_len(cur, p, (gssize)(next - p));
		p = next;
	}
	if (count > 0) {
		if (cur->len && cur->str[cur->len - 1] == '\n')
			g_string_truncate(cur, cur->len - 1);
		bad += !one(cur->str, cur->len);
	}
	t1 = g_get_monotonic_time();
	secs = (double)(t1 - t0) / 1e6;
	if (bad)
		fprintf(stderr, "parse-floor: %ld messages did not parse\n",
		    bad);
	printf("parse-floor: %ld messages in %.3f s = %.0f msg/s\n", count,
	    secs, secs > 0 ? (double)count / secs : 0.0);
	if (getenv("PARSE_FLOOR_VERBOSE"))
		fprintf(stderr, "parse-floor: %zu bytes of header and text\n",
		    text_bytes);
	g_string_free(cur, TRUE);
	g_mapped_file_unref(mf);
	g_mime_parser_options_free(opts);
	g_mime_shutdown();
	return bad ? 1 : 0;
}
