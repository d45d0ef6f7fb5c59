/*
 * test-compose - outgoing messages written by mailproc/compose.c: every
 * line CRLF-terminated and within RFC 5322's limits, encoded words within
 * RFC 2047's, nothing from input able to add a header, and what goes out
 * reads back (through GMime, in parsers/message.c) as what went in.
 */
#include <glib.h>
#include <string.h>

#include "mailproc/compose.h"
#include "parsers/message.h"
#include "tests/unit/tap.h"

static const char *const one_to[] = { "jane@acme.example", NULL };

static char *
compose(const char *subject, const char *from_name, const char *text,
    const char *html, const char *const *to)
{
	compose_in in = { 0 };
	char *raw = NULL;
	size_t len = 0;

	in.from = "trialsupport@corp.example";
	in.from_name = from_name;
	in.to = to ? to : one_to;
	in.subject = subject;
	in.message_id = "<mp.1@corp.example>";
	in.in_reply_to = "<a@b.example>";
	in.references = (const char *const[]){ "<r1@x>", "<a@b.example>",
	    NULL };
	in.auto_submitted = "auto-replied";
	in.date = 1704708000;	/* Mon, 08 Jan 2024 10:00:00 +0000 */
	in.text = text;
	in.html = html;
	if (compose_message(&in, &raw, &len) != MP_OK)
		return NULL;
	if (strlen(raw) != len) {
		g_free(raw);
		return NULL;
	}
	return raw;
}

/* Every line ends in CRLF, none is longer than max, no bare CR or LF. */
static int
lines_ok(const char *raw, size_t max, const char *what)
{
	size_t col = 0;

	for (const char *p = raw; *p; p++) {
		if (*p == '\r') {
			if (p[1] != '\n')
				return ok(0, "%s: bare CR", what);
			col = 0;
			p++;
			continue;
		}
		if (*p == '\n')
			return ok(0, "%s: bare LF", what);
		if (++col > max)
			return ok(0, "%s: a line longer than %zu", what, max);
	}
	return ok(raw[0] && g_str_has_suffix(raw, "\r\n"),
	    "%s: CRLF lines of at most %zu characters", what, max);
}

/* Each encoded word at most 75 characters (RFC 2047 2). */
static int
words_ok(const char *raw, const char *what)
{
	const char *p = raw;
	int n = 0;

	while ((p = strstr(p, "=?utf-8?")) != NULL) {
		const char *end = strstr(p + 10, "?=");

		if (end == NULL || end + 2 - p > 75)
			return ok(0, "%s: encoded word too long or open", what);
		n++;
		p = end + 2;
	}
	return ok(1, "%s: %d encoded words, each <= 75", what, n);
}

static msg *
reparse(const char *raw)
{
	msg_limits lim;
	msg *m = NULL;
	char *reason = NULL;

	msg_limits_default(&lim);
	if (msg_parse(raw, strlen(raw), &lim, &m, &reason) != MP_OK) {
		printf("# parse: %s\n", reason ? reason : "?");
		g_free(reason);
		return NULL;
	}
	return m;
}

/* The header block only (up to the first empty line). */
static char *
headers_of(const char *raw)
{
	const char *end = strstr(raw, "\r\n\r\n");

	return g_strndup(raw, end ? (size_t)(end - raw) + 2 : strlen(raw));
}

static void
round_trip(const char *subject, const char *text, const char *what)
{
	char *raw = compose(subject, NULL, text, NULL, NULL);
	msg *m = raw ? reparse(raw) : NULL;
	char *label;

	ok(m != NULL, "%s: composes and parses", what);
	if (m == NULL) {
		g_free(raw);
		return;
	}
	label = g_strdup_printf("%s: subject reads back", what);
	is_str(m->subject, subject, label);
	g_free(label);
	label = g_strdup_printf("%s: text reads back", what);
	is_str(m->text, text, label);
	g_free(label);
	label = g_strdup_printf("%s lines", what);
	lines_ok(raw, 78 + 20, label);	/* folded headers, 76 body lines */
	words_ok(raw, label);
	g_free(label);
	msg_free(m);
	g_free(raw);
}

int
main(void)
{
	char *raw, *hdr, *long_text, *long_subject;
	msg *m;

	msg_library_init();

	/* A plain ASCII notice, header by header. */
	raw = compose("[TS-1] Re: Cannot connect", NULL, "Hello,\n\nThanks.\n",
	    NULL, NULL);
	ok(raw != NULL, "ascii notice composes");
	hdr = headers_of(raw);
	is_str(hdr,
	    "Date: Mon, 08 Jan 2024 10:00:00 +0000\r\n"
	    "From: trialsupport@corp.example\r\n"
	    "Reply-To: trialsupport@corp.example\r\n"
	    "Subject: [TS-1] Re: Cannot connect\r\n"
	    "To: jane@acme.example\r\n"
	    "Message-ID: <mp.1@corp.example>\r\n"
	    "In-Reply-To: <a@b.example>\r\n"
	    "References: <r1@x> <a@b.example>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n", "ascii headers");
	ok(g_str_has_suffix(raw, "\r\n\r\nHello,\r\n\r\nThanks.\r\n"),
	    "ascii body as 7bit with CRLF");
	g_free(hdr);
	g_free(raw);

	/* Round trips through the parser, in several scripts. */
	round_trip("Grüße aus München — die Anmeldung schlägt fehl",
	    "Hallo,\nes geht nicht: äöü ß = 100 %.\n", "german");
	round_trip("ログインできません（トライアル中）", "こんにちは。\n"
	    "トライアル中にログインできません。\n", "japanese");
	round_trip("Ошибка входа в систему при пробном периоде",
	    "Здравствуйте!\n", "russian");
	round_trip("emoji 🎉🎉 party", "🎉\n", "emoji");
	round_trip("literal =?utf-8?q?not_a_word?= in subject", "x\n",
	    "encoded-word look-alike");
	round_trip("trailing spaces", "line with trailing space \nend\t\n",
	    "trailing white space");

	/* Long ASCII subjects fold at spaces and read back unchanged. */
	long_subject = g_strnfill(30, 'x');
	{
		GString *s = g_string_new(NULL);

		for (int i = 0; i < 10; i++)
			g_string_append_printf(s, "%sword%d %s", i ? " " : "",
			    i, long_subject);
		round_trip(s->str, "x\n", "long ascii subject");
		g_string_free(s, TRUE);
	}
	g_free(long_subject);

	/* A long line: quoted-printable with soft breaks, read back. */
	long_text = g_strnfill(3000, 'a');
	round_trip("long line", long_text, "3000-character line");
	raw = compose("s", NULL, long_text, NULL, NULL);
	ok(raw && strstr(raw, "Content-Transfer-Encoding: quoted-printable"),
	    "a line over 998 characters goes out quoted-printable");
	g_free(raw);
	g_free(long_text);

	/* Mostly non-ASCII text goes out base64. */
	raw = compose("s", NULL, "日本語のテキストです。\n", NULL, NULL);
	ok(raw && strstr(raw, "Content-Transfer-Encoding: base64"),
	    "CJK text goes out base64");
	g_free(raw);

	/* Header injection: CR and LF from input never start a line. */
	raw = compose("hi\r\nBcc: victim@evil.example\nX-Injected: 1", NULL,
	    "x\n", NULL, NULL);
	hdr = raw ? headers_of(raw) : NULL;
	ok(hdr && !strstr(hdr, "\r\nBcc:") && !strstr(hdr, "\r\nX-Injected"),
	    "CRLF in the subject adds no header");
	g_free(hdr);
	g_free(raw);
	raw = compose("s", "Eve\r\nBcc: victim@evil.example", "x\n", NULL,
	    NULL);
	hdr = raw ? headers_of(raw) : NULL;
	ok(hdr && !strstr(hdr, "\r\nBcc:"), "CRLF in a display name adds no "
	    "header");
	ok(hdr && strstr(hdr, "From: \"Eve Bcc: victim@evil.example\" "
	    "<trialsupport@corp.example>\r\n"), "the name is one quoted string");
	g_free(hdr);
	g_free(raw);
	raw = compose("s", "Jürgen \"JB\" Bäcker", "x\n", NULL, NULL);
	m = raw ? reparse(raw) : NULL;
	is_str(m ? m->from_name : NULL, "Jürgen \"JB\" Bäcker",
	    "non-ASCII display name with quotes reads back");
	msg_free(m);
	g_free(raw);

	/* Addresses: quoted local parts, IDNA domains, refusals. */
	raw = compose("s", NULL, "x\n", NULL, (const char *const[]){
	    "a.b@x.example", "odd..dots@x.example", "user@bücher.example",
	    NULL });
	hdr = raw ? headers_of(raw) : NULL;
	ok(hdr && strstr(hdr, "To: a.b@x.example, \"odd..dots\"@x.example, "
	    "user@xn--bcher-kva.example\r\n"), "quoted local part, IDNA domain");
	g_free(hdr);
	g_free(raw);
	ok(compose("s", NULL, "x\n", NULL, (const char *const[]){
	    "a b@x.example", NULL }) == NULL, "an address with a space is "
	    "refused");
	ok(compose("s", NULL, "x\n", NULL, (const char *const[]){
	    "a@x.example\r\nBcc: v@e.example", NULL }) == NULL,
	    "an address with CRLF is refused");
	ok(compose("s", NULL, "x\n", NULL, (const char *const[]){
	    "no-at-sign", NULL }) == NULL, "an address without @ is refused");

	/* Many recipients fold after commas. */
	{
		const char *many[21];
		char *addrs[20];

		for (int i = 0; i < 20; i++)
			many[i] = addrs[i] = g_strdup_printf(
			    "recipient%02d@example.com", i);
		many[20] = NULL;
		raw = compose("s", NULL, "x\n", NULL, many);
		lines_ok(raw ? raw : "", 78, "20 recipients");
		m = raw ? reparse(raw) : NULL;
		is_int(m ? (long long)g_strv_length(m->to) : -1, 20,
		    "all 20 recipients read back");
		msg_free(m);
		g_free(raw);
		for (int i = 0; i < 20; i++)
			g_free(addrs[i]);
	}

	/* multipart/alternative: both parts, a boundary in neither. */
	raw = compose("digest", NULL, "plain text\n",
	    "<table><tr><td>Grüße</td></tr></table>\n", NULL);
	ok(raw && strstr(raw, "Content-Type: multipart/alternative; "
	    "boundary=\"=_mp_"), "multipart/alternative");
	m = raw ? reparse(raw) : NULL;
	is_str(m ? m->text : NULL, "plain text\n", "the plain part is the "
	    "body");
	if (raw) {
		const char *b = strstr(raw, "boundary=\"") + 10;
		char *boundary = g_strndup(b, strcspn(b, "\""));
		char *delim = g_strdup_printf("\r\n--%s\r\n", boundary);
		char *close = g_strdup_printf("\r\n--%s--\r\n", boundary);
		const char *first = strstr(raw, delim);

		ok(first && strstr(first + 1, delim) && g_str_has_suffix(raw,
		    close), "two delimiters and a close delimiter at the end");
		g_free(boundary);
		g_free(delim);
		g_free(close);
	}
	msg_free(m);
	g_free(raw);

	/* A message id that could break the header is refused. */
	{
		compose_in in = { 0 };
		char *r = NULL;
		size_t len;

		in.from = "a@b.example";
		in.to = one_to;
		in.subject = "s";
		in.message_id = "<x\r\nBcc: v@e.example>";
		in.text = "x\n";
		is_int(compose_message(&in, &r, &len), MP_ERR_INTERNAL,
		    "a Message-ID with CRLF is refused");
		g_free(r);
	}
	return tap_done();
}
