/*
 * compose.c - outgoing messages, written directly as RFC 5322 text.
 *
 * A notice is a handful of headers and one or two UTF-8 text parts, so it
 * is written here rather than built as a GMime object tree: building and
 * serialising the tree cost more than parsing the incoming message (see
 * bench/README.md).  What GMime did for us is done here, deliberately and
 * visibly: RFC 2047 encoded words for non-ASCII phrases (never splitting a
 * UTF-8 sequence), header folding, quoted-printable or base64 bodies with
 * CRLF line ends, and a boundary that occurs in no part.
 */
#include <glib.h>
#include <string.h>
#include <time.h>

#include "mailproc/compose.h"
#include "parsers/message.h"

/* References kept in a reply: the thread root and the most recent ones,
 * as RFC 5322 3.6.4 suggests when trimming. */
#define MAX_REFERENCES 10
/* RFC 5322 2.1.1: lines SHOULD be at most 78 characters. */
#define FOLD_AT 78
/* RFC 2047 2: an encoded word is at most 75 characters. */
#define EW_MAX 75
/* RFC 2045 6.7 and 6.8: encoded lines are at most 76 characters. */
#define ENC_LINE 76
/* RFC 5322 2.1.1: a line MUST be at most 998 characters. */
#define LINE_MAX_7BIT 998

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends the four base64 characters of p's first min(k, 3) bytes, with
 * '=' padding when k < 3. */
static void
b64_quantum(GString *out, const unsigned char *p, size_t k)
{
	unsigned v = (unsigned)p[0] << 16;

	if (k > 1)
		v |= (unsigned)p[1] << 8;
	if (k > 2)
		v |= p[2];
	g_string_append_c(out, b64[v >> 18 & 63]);
	g_string_append_c(out, b64[v >> 12 & 63]);
	g_string_append_c(out, k > 1 ? b64[v >> 6 & 63] : '=');
	g_string_append_c(out, k > 2 ? b64[v & 63] : '=');
}

/* The first eight hex digits are the time in seconds: ids made close in
 * time sort together, so the store's indexes on Message-ID grow at one
 * end instead of touching a random page for each notice.  64 random bits
 * follow. */
char *
compose_message_id(const char *domain)
{
	guint32 a = (guint32)(g_get_real_time() / G_USEC_PER_SEC);
	guint32 b = g_random_int(), c = g_random_int();

	return g_strdup_printf("<mp.%08x%08x%08x@%s>", a, b, c,
	    domain && *domain ? domain : "mailproc.invalid");
}

/* Returns 1 when id is "<...>" with nothing but visible ASCII inside. */
static int
id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n < 3 || id[0] != '<' || id[n - 1] != '>')
		return 0;
	for (size_t i = 1; i < n - 1; i++)
		if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f
		    || id[i] == '<' || id[i] == '>')
			return 0;
	return 1;
}

/* ---- headers ---- */

/* Column of the end of out (characters since the last CRLF). */
static size_t
column(const GString *out)
{
	size_t i = out->len;

	while (i > 0 && out->str[i - 1] != '\n')
		i--;
	return out->len - i;
}

/* Appends one token, folding before it when the line would grow past
 * FOLD_AT.  sep is what separates it from the previous token (" " or
 * ", "); its trailing space becomes the fold's leading white space. */
static void
fold_token(GString *out, const char *sep, const char *tok, size_t len,
    size_t name_len)
{
	size_t col = column(out);
	size_t seplen = strlen(sep);

	if (col > name_len + 2 && col + seplen + len > FOLD_AT) {
		if (seplen > 1)
			g_string_append_len(out, sep, (gssize)seplen - 1);
		g_string_append(out, "\r\n ");
	} else {
		g_string_append(out, sep);
	}
	g_string_append_len(out, tok, (gssize)len);
}

/* RFC 2047 5(3): the characters a Q-encoded word may carry as they are in
 * any header context (phrase included). */
static int
q_plain(unsigned char c)
{
	return g_ascii_isalnum(c) || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

/* Length of the UTF-8 sequence starting at p (1 for a stray byte). */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	size_t n = *p < 0xc0 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;

	return n > left ? left : n;
}

/* Appends s[0..len) as RFC 2047 encoded words of at most EW_MAX
 * characters, separated by folding white space, never splitting a UTF-8
 * sequence.  Base64 when most of it is not ASCII, else Q. */
static void
encode_words(GString *out, const char *sep, const char *s, size_t len,
    size_t name_len)
{
	/* "=?utf-8?b?" and "?=" leave 63 characters: 15 base64 quads. */
	const size_t b64_bytes = (EW_MAX - 12) / 4 * 3;
	const unsigned char *p = (const unsigned char *)s;
	GString *w = g_string_new(NULL);
	size_t high = 0;
	int base64;

	for (size_t i = 0; i < len; i++)
		high += p[i] >= 0x80;
	base64 = high * 3 > len;
	while (len > 0) {
		size_t take = 0;

		g_string_assign(w, base64 ? "=?utf-8?b?" : "=?utf-8?q?");
		while (take < len) {
			size_t n = utf8_len(p + take, len - take);
			size_t before = w->len;

			if (base64) {
				if (take > 0 && take + n > b64_bytes)
					break;
				take += n;
				continue;
			}
			for (size_t i = 0; i < n; i++) {
				unsigned char c = p[take + i];

				if (c == ' ')
					g_string_append_c(w, '_');
				else if (q_plain(c))
					g_string_append_c(w, (char)c);
				else
					g_string_append_printf(w, "=%02X", c);
			}
			if (take > 0 && w->len + 2 > EW_MAX) {
				g_string_truncate(w, before);
				break;
			}
			take += n;
		}
		for (size_t i = 0; base64 && i < take; i += 3)
			b64_quantum(w, p + i, take - i);
		g_string_append(w, "?=");
		fold_token(out, sep, w->str, w->len, name_len);
		sep = " ";
		p += take;
		len -= take;
	}
	g_string_free(w, TRUE);
}

/* A word that must be encoded: not ASCII, or it would read as the start
 * of an encoded word. */
static int
word_needs_encoding(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)w[i] >= 0x80 || (unsigned char)w[i] < 0x20 ||
		    w[i] == 0x7f || (w[i] == '=' && i + 1 < n &&
		    w[i + 1] == '?'))
			return 1;
	return 0;
}

/* Appends "Name: value" for unstructured text (RFC 5322 3.2.5), folded,
 * with every run of words that needs it as encoded words.  value has
 * been through msg_header_safe(): single spaces, no controls. */
static void
header_text(GString *out, const char *name, const char *value)
{
	size_t name_len = strlen(name);
	const char *p = value;

	g_string_append_printf(out, "%s:", name);
	while (*p) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (word_needs_encoding(p, n)) {
			/* The run of words that need encoding, with the
			 * spaces between them inside the encoded text. */
			const char *q = p + n;

			while (*q == ' ') {
				const char *e = strchr(q + 1, ' ');
				size_t m = e ? (size_t)(e - q - 1) :
				    strlen(q + 1);

				if (!word_needs_encoding(q + 1, m))
					break;
				q += 1 + m;
			}
			encode_words(out, " ", p, (size_t)(q - p), name_len);
			p = q;
		} else {
			fold_token(out, " ", p, n, name_len);
			p += n;
		}
		while (*p == ' ')
			p++;
	}
	g_string_append(out, "\r\n");
}

/* RFC 5322 3.2.3 atext, for a local part that needs no quotes. */
static int
atext(unsigned char c)
{
	return g_ascii_isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~",
	    c) != NULL;
}

/* Appends addr as an addr-spec: the local part quoted when it is not a
 * dot-atom, the domain in IDNA form.  Returns 0 for an address that has
 * no place in a header (no @, white space or controls). */
static int
addr_spec(GString *out, const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	const char *d;
	int dot_atom = 1;
	char *ascii;

	if (at == NULL || at == addr || at[1] == '\0' ||
	    !g_utf8_validate(addr, -1, NULL))
		return 0;
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return 0;
	for (d = at + 1; *d; d++)
		if (strchr("()<>,;:\\\"", *d))
			return 0;
	for (const char *p = addr; p < at; p++)
		if (!(atext((unsigned char)*p) || (*p == '.' && p > addr &&
		    p + 1 < at && p[1] != '.')))
			dot_atom = 0;
	if (dot_atom) {
		g_string_append_len(out, addr, at - addr);
	} else {
		g_string_append_c(out, '"');
		for (const char *p = addr; p < at; p++) {
			if (*p == '"' || *p == '\\')
				g_string_append_c(out, '\\');
			g_string_append_c(out, *p);
		}
		g_string_append_c(out, '"');
	}
	g_string_append_c(out, '@');
	ascii = g_hostname_to_ascii(at + 1);
	if (ascii == NULL)
		return 0;
	g_string_append(out, ascii);
	g_free(ascii);
	return 1;
}

/* Appends "Name: [display] <addr>".  The display name goes out as a
 * quoted string when it is ASCII, as encoded words otherwise. */
static int
header_mailbox(GString *out, const char *name, const char *display,
    const char *addr)
{
	g_string_append_printf(out, "%s: ", name);
	if (display && *display) {
		if (word_needs_encoding(display, strlen(display))) {
			encode_words(out, "", display, strlen(display),
			    strlen(name));
		} else {
			g_string_append_c(out, '"');
			for (const char *p = display; *p; p++) {
				if (*p == '"' || *p == '\\')
					g_string_append_c(out, '\\');
				g_string_append_c(out, *p);
			}
			g_string_append_c(out, '"');
		}
		g_string_append(out, " <");
		if (!addr_spec(out, addr))
			return 0;
		g_string_append_c(out, '>');
	} else if (!addr_spec(out, addr)) {
		return 0;
	}
	g_string_append(out, "\r\n");
	return 1;
}

static int
header_addr_list(GString *out, const char *name, const char *const *addrs)
{
	GString *one = g_string_new(NULL);
	size_t name_len = strlen(name);
	int ok = 1;

	g_string_append_printf(out, "%s:", name);
	for (int i = 0; ok && addrs[i]; i++) {
		g_string_truncate(one, 0);
		ok = addr_spec(one, addrs[i]);
		fold_token(out, i ? ", " : " ", one->str, one->len, name_len);
	}
	g_string_append(out, "\r\n");
	g_string_free(one, TRUE);
	return ok;
}

static void
header_date(GString *out, int64_t when)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	g_string_append_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d "
	    "+0000\r\n", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
header_references(GString *out, const char *const *refs)
{
	int n = 0, first = 1;

	while (refs[n])
		n++;
	for (int i = 0; i < n; i++) {
		if (n > MAX_REFERENCES && i > 0 && i < n - MAX_REFERENCES + 1)
			continue;
		if (!id_ok(refs[i]))
			continue;
		if (first)
			g_string_append(out, "References:");
		fold_token(out, " ", refs[i], strlen(refs[i]),
		    strlen("References"));
		first = 0;
	}
	if (!first)
		g_string_append(out, "\r\n");
}

/* ---- bodies ---- */

typedef enum { ENC_7BIT, ENC_QP, ENC_BASE64 } body_enc;

static const char *const enc_names[] = { "7bit", "quoted-printable",
    "base64" };

/* 7bit when it is ASCII with lines of legal length, base64 when most of
 * it is not ASCII (CJK text), quoted-printable otherwise. */
static body_enc
best_encoding(const char *text)
{
	size_t high = 0, line = 0, len = 0, longest = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		len++;
		high += *p >= 0x80 || (*p < 0x20 && *p != '\n' && *p != '\t');
		line = *p == '\n' ? 0 : line + 1;
		if (line > longest)
			longest = line;
	}
	/* 7bit text has to end with a line end, which would add one. */
	if (high == 0 && longest <= LINE_MAX_7BIT &&
	    (len == 0 || text[len - 1] == '\n'))
		return ENC_7BIT;
	return high * 6 > len ? ENC_BASE64 : ENC_QP;
}

static void
body_7bit(GString *out, const char *text)
{
	const char *p = text, *nl;

	while ((nl = strchr(p, '\n')) != NULL) {
		g_string_append_len(out, p, nl - p);
		g_string_append(out, "\r\n");
		p = nl + 1;
	}
	g_string_append(out, p);
}

/* RFC 2045 6.7, with soft breaks before ENC_LINE.  Written into one
 * buffer of the worst-case size: three bytes for each input byte, three
 * for each soft break, the final break. */
static void
body_qp(GString *out, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(text), col = 0;
	char *buf = g_malloc(len * 3 + (len * 3 / (ENC_LINE - 3) + 1) * 3 + 4);
	char *o = buf;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		int last = p[1] == '\n' || p[1] == '\0';
		size_t n;

		if (*p == '\n') {
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
			continue;
		}
		/* White space at the end of a line would be lost. */
		n = ((*p >= 33 && *p <= 126 && *p != '=') ||
		    ((*p == ' ' || *p == '\t') && !last)) ? 1 : 3;
		/* Leave room for the soft break "=" unless the line ends
		 * right after this character. */
		if (col + n > ENC_LINE - 1 && !(col + n <= ENC_LINE && last)) {
			memcpy(o, "=\r\n", 3);
			o += 3;
			col = 0;
		}
		if (n == 1) {
			*o++ = (char)*p;
		} else {
			*o++ = '=';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
		col += n;
	}
	if (col > 0) {	/* a soft break: the text has no final line end */
		memcpy(o, "=\r\n", 3);
		o += 3;
	}
	g_string_append_len(out, buf, o - buf);
	g_free(buf);
}

static void
body_base64(GString *out, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text), col = 0;
	GString *crlf = g_string_sized_new(len + len / 40);

	body_7bit(crlf, text);	/* canonical form: CRLF line ends */
	p = (const unsigned char *)crlf->str;
	len = crlf->len;
	for (size_t i = 0; i < len; i += 3) {
		b64_quantum(out, p + i, len - i);
		col += 4;
		if (col >= ENC_LINE) {
			g_string_append(out, "\r\n");
			col = 0;
		}
	}
	if (col > 0)
		g_string_append(out, "\r\n");
	g_string_free(crlf, TRUE);
}

/* Appends a text part's headers and body; text ends up ending in CRLF. */
static void
text_part(GString *out, const char *subtype, const char *text)
{
	body_enc enc = best_encoding(text);

	g_string_append_printf(out, "Content-Type: text/%s; charset=utf-8\r\n",
	    subtype);
	if (enc != ENC_7BIT)	/* RFC 2045 6.1: 7bit is the default */
		g_string_append_printf(out, "Content-Transfer-Encoding: %s\r\n",
		    enc_names[enc]);
	g_string_append(out, "\r\n");
	switch (enc) {
	case ENC_7BIT:
		body_7bit(out, text);
		break;
	case ENC_QP:
		body_qp(out, text);
		break;
	case ENC_BASE64:
		body_base64(out, text);
		break;
	}
}

/* ---- the message ---- */

mp_status
compose_message(const compose_in *in, char **raw, size_t *len)
{
	GString *out = g_string_sized_new(1024 + strlen(in->text) * 2 +
	    (in->html ? strlen(in->html) * 2 : 0));
	char *subject, *name;
	int ok;

	*raw = NULL;
	*len = 0;
	if (!id_ok(in->message_id)) {
		g_string_free(out, TRUE);
		return MP_ERR_INTERNAL;
	}
	header_date(out, in->date);
	name = in->from_name ? msg_header_safe(in->from_name, 100) : NULL;
	ok = header_mailbox(out, "From", name, in->from) &&
	    header_mailbox(out, "Reply-To", name, in->from);
	g_free(name);
	subject = msg_header_safe(in->subject, 400);
	header_text(out, "Subject", subject);
	g_free(subject);
	if (ok && in->to && in->to[0])
		ok = header_addr_list(out, "To", in->to);
	if (!ok) {
		g_string_free(out, TRUE);
		return MP_ERR_PARSE;
	}
	g_string_append_printf(out, "Message-ID: %s\r\n", in->message_id);
	if (id_ok(in->in_reply_to))
		g_string_append_printf(out, "In-Reply-To: %s\r\n",
		    in->in_reply_to);
	if (in->references)
		header_references(out, in->references);
	if (in->auto_submitted)
		g_string_append_printf(out, "Auto-Submitted: %s\r\n",
		    in->auto_submitted);
	g_string_append(out, "MIME-Version: 1.0\r\n");
	if (in->html) {
		GString *plain = g_string_new(NULL), *html = g_string_new(NULL);
		char b[40];

		text_part(plain, "plain", in->text);
		text_part(html, "html", in->html);
		/* Encoded parts cannot hold "=_"; a 7bit one might hold
		 * anything, so look. */
		do
			g_snprintf(b, sizeof b, "=_mp_%08x%08x",
			    g_random_int(), g_random_int());
		while (strstr(plain->str, b) || strstr(html->str, b));
		g_string_append_printf(out, "Content-Type: multipart/"
		    "alternative; boundary=\"%s\"\r\n\r\n--%s\r\n", b, b);
		g_string_append_len(out, plain->str, (gssize)plain->len);
		g_string_append_printf(out, "\r\n--%s\r\n", b);
		g_string_append_len(out, html->str, (gssize)html->len);
		g_string_append_printf(out, "\r\n--%s--\r\n", b);
		g_string_free(plain, TRUE);
		g_string_free(html, TRUE);
	} else {
		text_part(out, "plain", in->text);
	}
	*len = out->len;
	*raw = g_string_free(out, FALSE);
	return MP_OK;
}
