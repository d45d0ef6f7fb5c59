/*
 * message.c - message normalisation with GMime.
 *
 * The raw bytes are checked against the limits before GMime sees them
 * (GMime's parser recurses per MIME level and holds the whole tree), then
 * the tree is walked once to pick the body and list the attachments.
 */
#include <gmime/gmime.h>
#include <string.h>

#include "parsers/html.h"
#include "parsers/message.h"
#include "parsers/quote.h"

#define MSG_ID_MAX 250

void
msg_limits_default(msg_limits *l)
{
	l->max_bytes = 25u << 20;
	l->max_line = 1u << 20;
	l->max_header = 64u << 10;
	l->max_headers = 1000;
	l->max_fields = 10000;
	l->max_open_words = 100;
	l->max_addr_bytes = 256u << 10;
	l->max_params = 5000;
	l->max_parts = 500;
	l->max_depth = 32;
	l->max_text = 1u << 20;
	l->max_refs = 100;
	l->max_addrs = 200;
}

static gpointer
gmime_init_once(gpointer unused)
{
	(void)unused;
	g_mime_init();
	return NULL;
}

void
msg_library_init(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, gmime_init_once, NULL);
}

/* ---- strings ---------------------------------------------------------- */

/* Returns valid UTF-8 for s (len bytes, -1 for NUL-terminated), owned by
 * the caller. */
static char *
utf8_valid(const char *s, gssize len)
{
	if (s == NULL)
		return NULL;
	if (len < 0)
		len = (gssize)strlen(s);
	return g_utf8_make_valid(s, len);
}

char *
msg_header_safe(const char *s, size_t max)
{
	GString *out;
	char *valid;
	int space = 1;

	if (s == NULL)
		return g_strdup("");
	valid = utf8_valid(s, -1);
	out = g_string_sized_new(strlen(valid));
	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
		    c == 0x2028 || c == 0x2029 || c == ' ') {
			if (!space)
				g_string_append_c(out, ' ');
			space = 1;
			continue;
		}
		space = 0;
		g_string_append_unichar(out, c);
	}
	if (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	if (out->len > max) {
		const char *end = g_utf8_find_prev_char(out->str,
		    out->str + max + 1);

		g_string_truncate(out, end ? (gsize)(end - out->str) : 0);
	}
	g_free(valid);
	return g_string_free(out, FALSE);
}

/* Normalises decoded body text: valid UTF-8, LF line ends, no NUL or other
 * control characters but TAB and LF, at most max bytes. */
static char *
text_clean(const char *s, size_t len, size_t max)
{
	char *valid = g_utf8_validate(s, (gssize)len, NULL) ?
	    g_strndup(s, len) : g_utf8_make_valid(s, (gssize)len);
	char *out = g_malloc(strlen(valid) + sizeof "\n[truncated]");
	const unsigned char *p;
	size_t n = 0;

	/* Byte by byte: every byte of a multi-byte sequence is >= 0x80, so
	 * only ASCII controls need looking at; the cut at max is made at the
	 * start of a character. */
	for (p = (const unsigned char *)valid; *p; p++) {
		if (n >= max && (*p & 0xc0) != 0x80) {
			memcpy(out + n, "\n[truncated]", sizeof "\n[truncated]");
			g_free(valid);
			return out;
		}
		if (*p == '\r') {
			if (p[1] != '\n')
				out[n++] = '\n';
			continue;
		}
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			continue;
		out[n++] = (char)*p;
	}
	out[n] = '\0';
	g_free(valid);
	return out;
}

int
msg_addr_is_robot(const char *addr)
{
	static const char *const robots[] = {
		"mailer-daemon", "postmaster", "noreply", "no-reply",
		"do-not-reply", "donotreply", "no_reply", NULL,
	};
	const char *at;
	size_t n;

	if (addr == NULL)
		return 0;
	at = strchr(addr, '@');
	n = at ? (size_t)(at - addr) : strlen(addr);
	for (int i = 0; robots[i]; i++)
		if (strlen(robots[i]) == n &&
		    g_ascii_strncasecmp(addr, robots[i], n) == 0)
			return 1;
	return 0;
}

const char *
msg_addr_domain(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : "";
}

/* Returns the lower-cased bare address of a mailbox, or NULL when it has
 * none or it cannot be a mail address (spaces, controls, no @). */
static char *
addr_bare(InternetAddressMailbox *mb)
{
	const char *a = internet_address_mailbox_get_addr(mb);
	char *lower;

	if (a == NULL || *a == '\0' || strchr(a, '@') == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' ||
		    *p == '"' || *p == ',')
			return NULL;
	if (!g_utf8_validate(a, -1, NULL) || strlen(a) > 254)
		return NULL;
	lower = g_utf8_strdown(a, -1);
	return lower;
}

/* Appends the bare addresses of list (groups flattened) to arr. */
static void
addrs_collect(InternetAddressList *list, GPtrArray *arr, unsigned max,
    int depth)
{
	int n = list ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n && arr->len < max; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (depth < 2)
				addrs_collect(internet_address_group_get_members(
				    INTERNET_ADDRESS_GROUP(ia)), arr, max,
				    depth + 1);
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			char *a = addr_bare(INTERNET_ADDRESS_MAILBOX(ia));

			if (a)
				g_ptr_array_add(arr, a);
		}
	}
}

static char **
addrs_strv(InternetAddressList *list, unsigned max)
{
	GPtrArray *arr = g_ptr_array_new();

	addrs_collect(list, arr, max, 0);
	g_ptr_array_add(arr, NULL);
	return (char **)g_ptr_array_free(arr, FALSE);
}

/* Returns "<id>" when id (without brackets) is usable in a header we write
 * back: printable ASCII without spaces or brackets, not too long. */
static char *
msgid_bracket(const char *id)
{
	size_t n;

	if (id == NULL)
		return NULL;
	n = strlen(id);
	if (n == 0 || n > MSG_ID_MAX)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>' ||
		    *p == '"' || *p == '\\')
			return NULL;
	return g_strdup_printf("<%s>", id);
}

/* ---- limits checked on the raw bytes ----------------------------------- */

/*
 * The structure scan.  GMime holds every header field and every MIME part
 * of a message in memory, at a few hundred bytes each, so their numbers
 * are bounded on the raw bytes before GMime sees them.  The scan follows
 * GMime's own reading (gmime-parser.c) and errs on the side of counting
 * more, never fewer:
 *  - a header block ends at a blank line or a boundary line, not at a
 *    line that is not a field (GMime reads on and drops such lines);
 *  - a field name may have blanks before its colon and bytes >= 0x80;
 *  - a line "--B" (then only white space) opens a part for every
 *    boundary B declared by any Content-Type field seen so far, and a
 *    header block follows it; a boundary parameter it cannot read for
 *    certain (RFC 2231, comments, encoded words, 8-bit bytes) makes
 *    every line starting with "--" count as one;
 *  - the body of a part whose Content-Type mentions "message" (rfc822,
 *    global, news) is another header block, and so is the body of every
 *    part of a message that mentions "digest" (whose parts default to
 *    message/rfc822).
 * Each header block counts as a MIME part.
 */
typedef struct scan {
	const msg_limits *lim;
	GHashTable *bounds;	/* boundaries without the "--" and without
				 * trailing white space */
	GString *key;		/* a line looked up in bounds */
	int any_dash;		/* every "--" line may be a boundary */
	int digest;		/* parts may default to message/rfc822 */
	int in_block;		/* inside a header block */
	int block_top;		/* ... the top-level one */
	int block_after_delim;	/* ... that follows a boundary line */
	int block_message;	/* ... whose Content-Type makes the body a
				 * message */
	unsigned blocks;	/* header blocks so far */
	unsigned fields;	/* fields in this block */
	unsigned fields_all;	/* fields in all blocks */
	size_t field;		/* bytes of the current field; 0: not a field */
	GString *ctype;		/* the current Content-Type value, or NULL */
	size_t fpos;		/* offset in the current field */
	size_t word_at[2];	/* offsets of its last two "=?" + 1 */
	unsigned words_open;	/* its "=?" with no "?=" after them yet */
	unsigned words_open_all; /* ... in all fields so far */
	int kind;		/* FIELD_* of the current field */
	size_t addr_bytes;	/* address fields so far */
	unsigned params;	/* ';' in Content-Type and -Disposition so far */
} scan;

/* Fields GMime parses further as it reads them (gmime-message.c: address
 * lists of every message, attached ones too; parameters of every part). */
enum { FIELD_OTHER, FIELD_ADDRESS, FIELD_PARAMS };

static int
field_kind(const char *name, size_t n)
{
	static const char *const addr[] = { "from", "sender", "reply-to", "to",
	    "cc", "bcc", NULL };

	for (int i = 0; addr[i]; i++)
		if (strlen(addr[i]) == n && g_ascii_strncasecmp(name, addr[i],
		    n) == 0)
			return FIELD_ADDRESS;
	if ((n == 12 && g_ascii_strncasecmp(name, "content-type", n) == 0) ||
	    (n == 19 && g_ascii_strncasecmp(name, "content-disposition",
	    n) == 0))
		return FIELD_PARAMS;
	return FIELD_OTHER;
}

static int
is_lwsp_or_ctl(char c)
{
	return (unsigned char)c <= ' ';
}

/* Returns the length of the field name of a header line (without the
 * blanks GMime allows before the colon), or 0 when GMime would not take
 * the line as a field: no colon, a control character or a blank inside
 * the name, or an empty name. */
static size_t
field_name(const char *p, size_t n)
{
	size_t i, name = 0;
	int blank = 0;

	for (i = 0; i < n && p[i] != ':'; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == ' ' || c == '\t')
			blank = 1;
		else if (blank || c < 0x20 || c == 0x7f)
			return 0;
		else
			name = i + 1;
	}
	return i < n ? name : 0;
}

/* Adds the boundary b (n bytes) to the set.  Its trailing white space
 * goes: boundary lines are compared without theirs (GMime allows white
 * space after the boundary), which makes "b" match "b " too. */
static void
scan_add_boundary(scan *s, const char *b, size_t n)
{
	while (n > 0 && is_lwsp_or_ctl(b[n - 1]))
		n--;
	if (n > 0)
		g_hash_table_add(s->bounds, g_strndup(b, n));
}

/* Reads the boundary parameters of an unfolded Content-Type value the way
 * GMime's loose parameter parser does; anything less certain sets
 * any_dash.  Also notes message and digest types. */
static void
scan_content_type(scan *s, const char *v, size_t n)
{
	char *lower = g_ascii_strdown(v, (gssize)n);
	const char *at = lower;

	if (strstr(lower, "message"))
		s->block_message = 1;
	if (strstr(lower, "digest"))
		s->digest = 1;
	while ((at = strstr(at, "boundary")) != NULL) {
		size_t i = (size_t)(at - lower), k = i + 8, j = i, e;
		const char *val;
		size_t vlen;

		at += 8;
		while (j > 0 && (lower[j - 1] == ' ' || lower[j - 1] == '\t'))
			j--;
		while (k < n && (lower[k] == ' ' || lower[k] == '\t'))
			k++;
		if (j == 0 || lower[j - 1] != ';' || k >= n || lower[k] != '=') {
			s->any_dash = 1;	/* boundary*0=, a comment, ... */
			continue;
		}
		k++;
		while (k < n && (v[k] == ' ' || v[k] == '\t'))
			k++;
		if (k < n && v[k] == '"') {
			const char *close = memchr(v + k + 1, '"', n - k - 1);

			if (close == NULL || memchr(v + k + 1, '\\',
			    (size_t)(close - v - k - 1))) {
				s->any_dash = 1;
				continue;
			}
			val = v + k + 1;
			vlen = (size_t)(close - val);
		} else {
			for (e = k; e < n && v[e] != ';'; e++)
				;
			while (e > k && is_lwsp_or_ctl(v[e - 1]))
				e--;
			val = v + k;
			vlen = e - k;
			if (memchr(val, '(', vlen) || memchr(val, '"', vlen)) {
				s->any_dash = 1;
				continue;
			}
		}
		for (size_t c = 0; c < vlen; c++)
			if ((unsigned char)val[c] >= 0x80 || (val[c] == '=' &&
			    c + 1 < vlen && val[c + 1] == '?'))
				s->any_dash = 1;
		scan_add_boundary(s, val, vlen);
	}
	g_free(lower);
}

/* Follows the RFC 2047 encoded-word starts of one line of a field.
 * GMime's decoder (loose mode) looks for the "?=" of every "=?X?B?" up to
 * the end of the field, so a field full of starts without an end costs
 * time quadratic in its length (50 such Subjects of 64 KiB: 7.5 s).
 * Counted: each "=?" that no "?=" follows at least 5 bytes later, the
 * nearest an encoded word can end. */
static void
scan_words(scan *s, const char *p, size_t n)
{
	if (s->kind == FIELD_ADDRESS)
		s->addr_bytes += n;
	else if (s->kind == FIELD_PARAMS)
		for (const char *q = p; (q = memchr(q, ';', (size_t)(p + n -
		    q))) != NULL; q++)
			s->params++;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t at = s->fpos + i + 1;

		if (p[i] == '=' && p[i + 1] == '?') {
			s->word_at[0] = s->word_at[1];
			s->word_at[1] = at;
			s->words_open++;
		} else if (p[i] == '?' && p[i + 1] == '=' && s->words_open) {
			s->words_open = 0;
			for (int k = 0; k < 2; k++)
				if (s->word_at[k] && s->word_at[k] + 5 > at)
					s->words_open++;
		}
	}
	s->fpos += n + 1;
}

static void
scan_field_end(scan *s)
{
	s->words_open_all += s->words_open;
	s->words_open = 0;
	s->word_at[0] = s->word_at[1] = 0;
	s->fpos = 0;
	s->kind = FIELD_OTHER;
	if (s->ctype) {
		scan_content_type(s, s->ctype->str, s->ctype->len);
		g_string_free(s->ctype, TRUE);
		s->ctype = NULL;
	}
	s->field = 0;
}

/* The bounds on what GMime parses further in header fields. */
static mp_status
scan_words_check(const scan *s, char **reason)
{
	const msg_limits *lim = s->lim;

	if (s->words_open_all > lim->max_open_words)
		*reason = g_strdup_printf("more than %u RFC 2047 encoded "
		    "words without an end in the header fields",
		    lim->max_open_words);
	else if (s->addr_bytes > lim->max_addr_bytes)
		*reason = g_strdup_printf("address fields (From, To, Cc, "
		    "...) longer than %zu bytes together",
		    lim->max_addr_bytes);
	else if (s->params > lim->max_params)
		*reason = g_strdup_printf("more than %u parameters in "
		    "Content-Type and Content-Disposition fields",
		    lim->max_params);
	else
		return MP_OK;
	return MP_ERR_LIMIT;
}

static mp_status
scan_block_start(scan *s, int top, int after_delim, char **reason)
{
	s->in_block = 1;
	s->block_top = top;
	s->block_after_delim = after_delim;
	s->block_message = 0;
	s->fields = 0;
	if (++s->blocks > s->lim->max_parts) {
		*reason = g_strdup_printf("more than %u MIME parts",
		    s->lim->max_parts);
		return MP_ERR_LIMIT;
	}
	return MP_OK;
}

/* Looks at a line p (n bytes) starting with "--": 0 when it is not a
 * boundary line, 1 when it opens a part, 2 when it closes a multipart. */
static int
scan_delimiter(scan *s, const char *p, size_t n)
{
	if (s->any_dash)
		return 1;
	while (n > 2 && is_lwsp_or_ctl(p[n - 1]))
		n--;
	g_string_truncate(s->key, 0);
	g_string_append_len(s->key, p + 2, (gssize)(n - 2));
	if (g_hash_table_contains(s->bounds, s->key->str))
		return 1;
	if (n < 4 || p[n - 1] != '-' || p[n - 2] != '-')
		return 0;
	n -= 2;
	while (n > 2 && is_lwsp_or_ctl(p[n - 1]))
		n--;
	g_string_truncate(s->key, n - 2);
	return g_hash_table_contains(s->bounds, s->key->str) ? 2 : 0;
}

/* One line of a header block (not blank, not a boundary). */
static mp_status
scan_header_line(scan *s, const char *p, size_t line, size_t bare,
    char **reason)
{
	const msg_limits *lim = s->lim;
	size_t name;

	if (p[0] == ' ' || p[0] == '\t') {
		if (s->field == 0)
			return MP_OK;	/* continues a line GMime drops */
		s->field += line;
		if (s->ctype)
			g_string_append_len(s->ctype, p, (gssize)bare);
		scan_words(s, p, bare);
	} else {
		scan_field_end(s);
		name = field_name(p, bare);
		if (name == 0)
			return MP_OK;
		if (++s->fields > lim->max_headers) {
			*reason = s->block_top ? g_strdup_printf("more than %u "
			    "header fields", lim->max_headers) :
			    g_strdup_printf("more than %u header fields in "
			    "one MIME part", lim->max_headers);
			return MP_ERR_LIMIT;
		}
		if (++s->fields_all > lim->max_fields) {
			*reason = g_strdup_printf("more than %u header fields "
			    "in all MIME parts", lim->max_fields);
			return MP_ERR_LIMIT;
		}
		s->field = line;
		s->kind = field_kind(p, name);
		scan_words(s, p, bare);
		if (name == 12 && g_ascii_strncasecmp(p, "content-type", 12) ==
		    0) {
			const char *colon = memchr(p, ':', bare);

			s->ctype = g_string_new_len(colon + 1,
			    (gssize)(bare - (size_t)(colon + 1 - p)));
		}
	}
	if (s->field > lim->max_header) {
		*reason = g_strdup_printf("a header field is longer than %zu "
		    "bytes", lim->max_header);
		return MP_ERR_LIMIT;
	}
	return MP_OK;
}

/* Checks line lengths, header fields (per header block and in all) and
 * MIME parts before GMime builds a tree; see "The structure scan". */
static mp_status
raw_check(const char *raw, size_t len, const msg_limits *lim, char **reason)
{
	const char *p = raw, *end = raw + len;
	scan s = { .lim = lim };
	mp_status st;
	int first = 1;

	s.bounds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s.key = g_string_new(NULL);

	st = scan_block_start(&s, 1, 0, reason);
	while (!st && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t bare = line;
		int delim = 0;

		if (bare > 0 && p[bare - 1] == '\r')
			bare--;
		if (line > lim->max_line) {
			*reason = g_strdup_printf("a line is longer than %zu "
			    "bytes", lim->max_line);
			st = MP_ERR_LIMIT;
			break;
		}
		if (first && (bare == 0 || field_name(p, bare) == 0)) {
			*reason = g_strdup("no header fields");
			st = MP_ERR_PARSE;
			break;
		}
		first = 0;
		if (bare >= 2 && p[0] == '-' && p[1] == '-')
			delim = scan_delimiter(&s, p, bare);
		if (delim) {
			scan_field_end(&s);
			s.in_block = 0;
			if (delim == 1)
				st = scan_block_start(&s, 0, 1, reason);
		} else if (s.in_block && bare == 0) {
			scan_field_end(&s);
			s.in_block = 0;
			if (s.block_message || (s.digest &&
			    s.block_after_delim))
				st = scan_block_start(&s, 0, 0, reason);
		} else if (s.in_block) {
			st = scan_header_line(&s, p, line, bare, reason);
		}
		if (!st)
			st = scan_words_check(&s, reason);
		p = nl ? nl + 1 : end;
	}
	if (!st && first) {
		*reason = g_strdup("no header fields");
		st = MP_ERR_PARSE;
	}
	scan_field_end(&s);
	if (!st)
		st = scan_words_check(&s, reason);
	g_hash_table_destroy(s.bounds);
	g_string_free(s.key, TRUE);
	return st;
}

void
msg_key(const char *raw, size_t len, char key[static 72])
{
	const char *p = raw, *end = raw + len;

	/* Scan only the top-level header, unfolding Message-ID. */
	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
	    p[1] == '\n')) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;

		if ((size_t)(end - p) > 11 &&
		    g_ascii_strncasecmp(p, "message-id:", 11) == 0) {
			GString *v = g_string_new_len(p + 11, next - p - 11);
			const char *q = next;
			char *lt, *gt;

			while (q < end && (*q == ' ' || *q == '\t')) {
				const char *n2 = memchr(q, '\n',
				    (size_t)(end - q));
				const char *nx = n2 ? n2 + 1 : end;

				g_string_append_len(v, q, nx - q);
				q = nx;
			}
			lt = strchr(v->str, '<');
			gt = lt ? strchr(lt, '>') : NULL;
			if (lt && gt) {
				char *id = g_strndup(lt + 1, gt - lt - 1);
				char *b = msgid_bracket(id);

				g_free(id);
				if (b && strlen(b) < 72) {
					g_strlcpy(key, b, 72);
					g_free(b);
					g_string_free(v, TRUE);
					return;
				}
				g_free(b);
			}
			g_string_free(v, TRUE);
			break;
		}
		p = next;
	}
	{
		char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
		    (const guchar *)raw, len);

		g_snprintf(key, 72, "sha256:%s", hex);
		g_free(hex);
	}
}

/* ---- body and attachments -------------------------------------------- */

/* Returns at most cap decoded bytes of a leaf part (transfer encoding
 * removed, as g_mime_data_wrapper_write_to_stream() does it); *cut is set
 * when there was more.  Only what is kept is decoded: a 25 MiB body whose
 * text is cut at 1 MiB anyway costs no 25 MiB copies. */
static GByteArray *
part_bytes(GMimePart *part, size_t cap, int *cut)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *src, *in;
	GByteArray *ba = g_byte_array_new();
	GMimeContentEncoding enc;
	char buf[16384];
	ssize_t got;

	*cut = 0;
	if (w == NULL || (src = g_mime_data_wrapper_get_stream(w)) == NULL)
		return ba;
	g_mime_stream_reset(src);
	enc = g_mime_data_wrapper_get_encoding(w);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);

		in = g_mime_stream_filter_new(src);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(in), f);
		g_object_unref(f);
	} else {
		in = g_object_ref(src);
	}
	while ((got = g_mime_stream_read(in, buf, sizeof buf)) > 0) {
		if (ba->len + (size_t)got > cap) {
			g_byte_array_append(ba, (guint8 *)buf,
			    (guint)(cap - ba->len));
			*cut = 1;
			break;
		}
		g_byte_array_append(ba, (guint8 *)buf, (guint)got);
	}
	g_object_unref(in);
	g_mime_stream_reset(src);
	return ba;
}

/* Shortens bytes cut off in the middle to a whole character or line of
 * charset: at the last LF, which no multi-byte sequence of UTF-8 or the
 * East Asian charsets contains, or to whole units of UTF-16 and -32. */
static void
cut_whole(GByteArray *ba, const char *charset)
{
	guint n = ba->len;

	if (charset && (strstr(charset, "16") || strstr(charset, "32") ||
	    g_ascii_strncasecmp(charset, "ucs", 3) == 0)) {
		n -= n % 4;
	} else {
		while (n > 0 && ba->data[n - 1] != '\n')
			n--;
	}
	g_byte_array_set_size(ba, n);
}

static int
utf8_ok(const char *s, size_t len)
{
	return g_utf8_validate(s, (gssize)len, NULL);
}

/* Removes the NUL bytes of s (n bytes, in place); returns the new length
 * and terminates s there. */
static size_t
drop_nul(char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] != '\0')
			s[k++] = s[i];
	s[k] = '\0';
	return k;
}

/* Converts bytes in charset (may be NULL or unknown) to UTF-8 without NUL
 * bytes (they would end the text early for every caller; text_clean()
 * drops control characters anyway).  Unknown or wrong charsets fall back
 * to UTF-8 when the bytes are valid UTF-8, else windows-1252, else
 * ISO-8859-1, which cannot fail.  NULs are dropped after a real charset
 * conversion (UTF-16 text is full of them) and before the fallbacks. */
static char *
to_utf8(const char *s, size_t len, const char *charset)
{
	char *out = NULL, *bytes;
	gsize written = 0;
	size_t n;

	/* An empty part has no buffer at all (s is NULL), and memchr() and
	 * g_convert() must not see a NULL pointer even for 0 bytes. */
	if (len == 0)
		return g_strdup("");
	/* Most mail is UTF-8 or ASCII already: no iconv round trip. */
	if ((charset == NULL || *charset == '\0' ||
	    g_ascii_strcasecmp(charset, "utf-8") == 0 ||
	    g_ascii_strcasecmp(charset, "us-ascii") == 0) && utf8_ok(s, len) &&
	    !memchr(s, 0, len))
		return g_strndup(s, len);
	if (charset && *charset) {
		const char *canon = g_mime_charset_iconv_name(charset);

		out = g_convert(s, (gssize)len, "UTF-8", canon, NULL,
		    &written, NULL);
		if (out && utf8_ok(out, drop_nul(out, written)))
			return out;
		g_free(out);
		out = NULL;
	}
	bytes = g_malloc(len + 1);
	memcpy(bytes, s, len);
	n = drop_nul(bytes, len);
	if (utf8_ok(bytes, n))
		return bytes;
	out = g_convert(bytes, (gssize)n, "UTF-8", "WINDOWS-1252", NULL, NULL,
	    NULL);
	if (out == NULL)
		out = g_convert(bytes, (gssize)n, "UTF-8", "ISO-8859-1", NULL,
		    NULL, NULL);
	g_free(bytes);
	return out;
}

typedef struct walk {
	const msg_limits *lim;
	GMimeObject *body;		/* chosen body part */
	GMimeObject *first_plain, *first_html;
	GPtrArray *leaves;		/* leaf GMimeObjects, document order */
	GHashTable *twins;		/* alternatives of the body: not attachments */
	unsigned depth_max;
	GMimeMessagePart *report_headers_msg;
	GPtrArray *embedded;		/* message/rfc822 parts, in order */
	GMimePart *report_status, *report_headers;
	int too_deep;
} walk;

static int
is_attachment_disposition(GMimeObject *o)
{
	const char *d = g_mime_object_get_disposition(o);

	return d && g_ascii_strcasecmp(d, "attachment") == 0;
}

/* Returns 1 when o (at depth) or anything in it, through attached
 * messages too, is deeper than max. */
static int
nested_deeper(GMimeObject *o, unsigned depth, unsigned max)
{
	if (depth > max)
		return 1;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);

		for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
			if (nested_deeper(g_mime_multipart_get_part(mp, i),
			    depth + 1, max))
				return 1;
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(o));
		GMimeObject *top = m ? g_mime_message_get_mime_part(m) : NULL;

		if (top && nested_deeper(top, depth + 1, max))
			return 1;
	}
	return 0;
}

static void
walk_tree(walk *w, GMimeObject *o, unsigned depth)
{
	GMimeContentType *ct;

	if (depth > w->lim->max_depth) {
		w->too_deep = 1;
		return;
	}
	if (depth > w->depth_max)
		w->depth_max = depth;
	ct = g_mime_object_get_content_type(o);
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n && !w->too_deep; i++)
			walk_tree(w, g_mime_multipart_get_part(mp, i),
			    depth + 1);
		return;
	}
	g_ptr_array_add(w->leaves, o);
	if (GMIME_IS_MESSAGE_PART(o)) {
		/* One attachment, but its depth counts: a message can be
		 * attached to itself over and over. */
		if (nested_deeper(o, depth, w->lim->max_depth)) {
			w->too_deep = 1;
			return;
		}
		/* The returned message of a report is looked into only for
		 * its Message-ID. */
		if (ct && g_mime_content_type_is_type(ct, "message", "rfc822")) {
			w->report_headers_msg = GMIME_MESSAGE_PART(o);
			g_ptr_array_add(w->embedded, o);
		}
		return;
	}
	if (!GMIME_IS_PART(o) || ct == NULL)
		return;
	if (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
	    g_mime_content_type_is_type(ct, "message",
	    "global-delivery-status"))
		w->report_status = GMIME_PART(o);
	else if (g_mime_content_type_is_type(ct, "text", "rfc822-headers"))
		w->report_headers = GMIME_PART(o);
	if (is_attachment_disposition(o) || g_mime_part_get_filename(
	    GMIME_PART(o)) != NULL)
		return;
	if (g_mime_content_type_is_type(ct, "text", "plain") &&
	    w->first_plain == NULL)
		w->first_plain = o;
	else if (g_mime_content_type_is_type(ct, "text", "html") &&
	    w->first_html == NULL)
		w->first_html = o;
}

/* Marks the text/plain and text/html leaves that are alternatives of the
 * chosen body: they are renderings of it, not attachments. */
static void
mark_twins(walk *w, GMimeObject *o, int in_alt_of_body)
{
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		int n = g_mime_multipart_get_count(mp);
		int alt = in_alt_of_body;

		if (!alt && g_mime_content_type_is_type(ct, "multipart",
		    "alternative")) {
			for (int i = 0; i < n; i++)
				if (g_mime_multipart_get_part(mp, i) == w->body)
					alt = 1;
		}
		for (int i = 0; i < n; i++)
			mark_twins(w, g_mime_multipart_get_part(mp, i), alt);
		return;
	}
	if (in_alt_of_body && GMIME_IS_PART(o)) {
		GMimeContentType *ct = g_mime_object_get_content_type(o);

		if (g_mime_content_type_is_type(ct, "text", "plain") ||
		    g_mime_content_type_is_type(ct, "text", "html"))
			g_hash_table_add(w->twins, o);
	}
}

/* Returns 1 when needle is o or one of its descendants. */
static int
contains(GMimeObject *o, GMimeObject *needle, int depth)
{
	if (o == needle)
		return 1;
	if (depth > 64 || !GMIME_IS_MULTIPART(o))
		return 0;
	for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(o));
	    i++)
		if (contains(g_mime_multipart_get_part(GMIME_MULTIPART(o), i),
		    needle, depth + 1))
			return 1;
	return 0;
}

static void
mark_twins_deep(walk *w, GMimeObject *o, int depth)
{
	if (!GMIME_IS_MULTIPART(o) || depth > 64)
		return;
	if (g_mime_content_type_is_type(g_mime_object_get_content_type(o),
	    "multipart", "alternative") && contains(o, w->body, 0)) {
		mark_twins(w, o, 1);
		return;
	}
	for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(o));
	    i++)
		mark_twins_deep(w, g_mime_multipart_get_part(
		    GMIME_MULTIPART(o), i), depth + 1);
}

static char *
filename_safe(const char *name)
{
	const char *base;
	char *clean;

	if (name == NULL)
		return NULL;
	base = name;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	clean = msg_header_safe(base, 255);
	if (*clean == '\0' || strcmp(clean, ".") == 0 ||
	    strcmp(clean, "..") == 0) {
		g_free(clean);
		return NULL;
	}
	return clean;
}

/* The decoded size of base64 content, counted rather than decoded (the
 * decoder, like GMime's, skips what is not in the alphabet): every four
 * characters of the alphabet are three bytes. */
static size_t
base64_size(GMimeStream *enc)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static unsigned char in[256];
	static gsize once;
	char buf[8192];
	size_t chars = 0;
	ssize_t got;

	if (g_once_init_enter(&once)) {
		for (const char *a = alphabet; *a; a++)
			in[(unsigned char)*a] = 1;
		g_once_init_leave(&once, 1);
	}
	if (enc == NULL || g_mime_stream_reset(enc) < 0)
		return 0;
	while ((got = g_mime_stream_read(enc, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < got; i++)
			chars += in[(unsigned char)buf[i]];
	g_mime_stream_reset(enc);
	return chars * 3 / 4;
}

static size_t
object_size(GMimeObject *o)
{
	GMimeStream *null;
	size_t n;

	if (GMIME_IS_PART(o)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));

		if (w == NULL)
			return 0;
		if (g_mime_data_wrapper_get_encoding(w) ==
		    GMIME_CONTENT_ENCODING_BASE64)
			return base64_size(g_mime_data_wrapper_get_stream(w));
		null = g_mime_stream_null_new();
		g_mime_data_wrapper_write_to_stream(w, null);
		n = (size_t)GMIME_STREAM_NULL(null)->written;
		g_object_unref(null);
		return n;
	}
	null = g_mime_stream_null_new();
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(o));

		if (m)
			g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL,
			    null);
	} else {
		g_mime_object_write_to_stream(o, NULL, null);
	}
	n = (size_t)GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);
	return n;
}

static char *
part_text(GMimePart *part, size_t max)
{
	const char *charset = g_mime_object_get_content_type_parameter(
	    GMIME_OBJECT(part), "charset");
	int cut;
	/* No charset takes more than 4 bytes for a character of the text,
	 * and text_clean() keeps at most max bytes of it. */
	GByteArray *ba = part_bytes(part, max * 4 + 64, &cut);
	char *utf8, *clean;

	if (cut)
		cut_whole(ba, charset);
	utf8 = to_utf8((const char *)ba->data, ba->len, charset);
	g_byte_array_free(ba, TRUE);
	if (utf8 == NULL)
		return g_strdup("");
	clean = text_clean(utf8, strlen(utf8), max);
	g_free(utf8);
	if (cut && !g_str_has_suffix(clean, "\n[truncated]")) {
		char *t = g_strconcat(clean, "\n[truncated]", NULL);

		g_free(clean);
		clean = t;
	}
	return clean;
}

/* Returns the first text/plain (html 0) or text/html (html 1) part under
 * o that is not an attachment, looking at most depth levels down. */
static GMimePart *
find_text(GMimeObject *o, int html, int depth)
{
	GMimeContentType *ct;

	if (o == NULL || depth < 0)
		return NULL;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);

		for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
			GMimePart *p = find_text(g_mime_multipart_get_part(mp,
			    i), html, depth - 1);

			if (p)
				return p;
		}
		return NULL;
	}
	if (!GMIME_IS_PART(o) || is_attachment_disposition(o))
		return NULL;
	ct = g_mime_object_get_content_type(o);
	if (g_mime_content_type_is_type(ct, "text", html ? "html" : "plain"))
		return GMIME_PART(o);
	return NULL;
}

/* The body text of each attached message (forwarded as an attachment),
 * as plain text; the messages inside it are not opened. */
static char **
embedded_texts(walk *w, const msg_limits *lim)
{
	GPtrArray *arr = g_ptr_array_new();

	for (guint i = 0; i < w->embedded->len && arr->len < 8; i++) {
		GMimeMessage *em = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(w->embedded->pdata[i]));
		GMimeObject *top = em ? g_mime_message_get_mime_part(em) : NULL;
		GMimePart *p;

		if (top == NULL)
			continue;
		if ((p = find_text(top, 0, (int)lim->max_depth)) != NULL) {
			g_ptr_array_add(arr, part_text(p, lim->max_text));
		} else if ((p = find_text(top, 1, (int)lim->max_depth)) !=
		    NULL) {
			char *h = part_text(p, lim->max_text * 4);

			g_ptr_array_add(arr, html_to_text(h, strlen(h),
			    lim->max_text));
			g_free(h);
		}
	}
	g_ptr_array_add(arr, NULL);
	return (char **)g_ptr_array_free(arr, FALSE);
}

/* ---- delivery-status reports ------------------------------------------ */

/* Returns the value of field name in a block of "Name: value" lines, with
 * an RFC 3464 "type;" prefix removed, owned by the caller, or NULL. */
static char *
report_field(const char *text, const char *name, int strip_type)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; ) {
		const char *nl = strchr(p, '\n');

		if (g_ascii_strncasecmp(p, name, n) == 0 && p[n] == ':') {
			char *v = g_strndup(p + n + 1, nl ? (size_t)(nl - p -
			    n - 1) : strlen(p + n + 1));
			char *semi = strip_type ? strchr(v, ';') : NULL;
			char *out = msg_header_safe(semi ? semi + 1 : v, 254);

			g_free(v);
			if (*out)
				return out;
			g_free(out);
			return NULL;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static char *
headers_message_id(const char *text)
{
	char *v = report_field(text, "Message-ID", 0);
	char *lt, *gt, *id = NULL;

	if (v == NULL)
		return NULL;
	lt = strchr(v, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt) {
		*gt = '\0';
		id = msgid_bracket(lt + 1);
	}
	g_free(v);
	return id;
}

static msg_dsn *
dsn_build(walk *w)
{
	msg_dsn *d;
	char *text;

	if (w->report_status == NULL)
		return NULL;
	d = g_new0(msg_dsn, 1);
	text = part_text(w->report_status, 64 << 10);
	d->recipient = report_field(text, "Final-Recipient", 1);
	if (d->recipient == NULL)
		d->recipient = report_field(text, "Original-Recipient", 1);
	if (d->recipient) {
		char *lower = g_utf8_strdown(d->recipient, -1);

		g_free(d->recipient);
		d->recipient = lower;
	}
	d->status = report_field(text, "Status", 0);
	d->action = report_field(text, "Action", 0);
	g_free(text);
	if (w->report_headers) {
		text = part_text(w->report_headers, 64 << 10);
		d->original_message_id = headers_message_id(text);
		g_free(text);
	} else if (w->report_headers_msg) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    w->report_headers_msg);

		if (m)
			d->original_message_id = msgid_bracket(
			    g_mime_message_get_message_id(m));
	}
	return d;
}

/* ---- the message ------------------------------------------------------ */

/* 1 when field name is present with a value other than "no". */
static int
header_not_no(GMimeObject *o, const char *name)
{
	const char *v = g_mime_object_get_header(o, name);
	char *t;
	int no;

	if (v == NULL)
		return 0;
	t = g_strstrip(g_strdup(v));
	no = g_ascii_strcasecmp(t, "no") == 0;
	g_free(t);
	return !no;
}

static const char *
auto_reason(GMimeMessage *m, const char *from)
{
	GMimeObject *o = GMIME_OBJECT(m);
	const char *v;

	v = g_mime_object_get_header(o, "Auto-Submitted");
	if (v) {
		char *t = g_strstrip(g_strdup(v));
		int no = g_ascii_strncasecmp(t, "no", 2) == 0 &&
		    (t[2] == '\0' || t[2] == ' ' || t[2] == ';' ||
		    t[2] == '(');

		g_free(t);
		if (!no)
			return "Auto-Submitted";
	}
	v = g_mime_object_get_header(o, "Precedence");
	if (v) {
		char *t = g_strstrip(g_ascii_strdown(v, -1));
		/* auto_reply: what some vacation responders send. */
		int bulk = strcmp(t, "bulk") == 0 || strcmp(t, "junk") == 0 ||
		    strcmp(t, "list") == 0 || strcmp(t, "auto_reply") == 0;

		g_free(t);
		if (bulk)
			return "Precedence";
	}
	if (g_mime_object_get_header(o, "List-Id"))
		return "List-Id";
	/* Not standard, but how responders older than RFC 3834 still mark
	 * their replies. */
	if (header_not_no(o, "X-Autoreply"))
		return "X-Autoreply";
	if (header_not_no(o, "X-Autorespond"))
		return "X-Autorespond";
	v = g_mime_object_get_header(o, "Return-Path");
	if (v) {
		char *t = g_strstrip(g_strdup(v));
		int null = strcmp(t, "<>") == 0 || *t == '\0';

		g_free(t);
		if (null)
			return "null return path";
	}
	if (msg_addr_is_robot(from))
		return "robot sender";
	return NULL;
}

/* Returns the raw (undecoded, folded) value of the topmost field name,
 * borrowed from m, or NULL. */
static const char *
raw_header(GMimeMessage *m, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int n = g_mime_header_list_get_count(hl);

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0)
			return g_mime_header_get_raw_value(h);
	}
	return NULL;
}

/* Returns the "<id>"s of a Message-ID list (In-Reply-To, References) in
 * order, skipping comments and unusable ids.  GMime's own parser drops
 * ids after long ones, so this one is ours.  When there are more than max,
 * the first (the thread root) and the most recent are kept. */
static char **
references_parse(const char *v, unsigned max)
{
	GPtrArray *arr = g_ptr_array_new_with_free_func(g_free);
	char **out;
	int depth = 0;

	for (const char *p = v; p && *p; p++) {
		const char *gt;
		char *id, *b;

		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		if (depth || *p != '<')
			continue;
		gt = strchr(p, '>');
		if (gt == NULL)
			break;
		id = g_strndup(p + 1, gt - p - 1);
		b = msgid_bracket(id);
		g_free(id);
		if (b)
			g_ptr_array_add(arr, b);
		p = gt;
	}
	if (arr->len > max && max > 1)
		g_ptr_array_remove_range(arr, 1, arr->len - max);
	else if (arr->len > max)
		g_ptr_array_set_size(arr, max);
	g_ptr_array_set_free_func(arr, NULL);
	g_ptr_array_add(arr, NULL);
	out = (char **)g_ptr_array_free(arr, FALSE);
	return out;
}

/* Decodes the bytes of one encoded word's text (RFC 2047 4.1, 4.2). */
static GByteArray *
encoded_word_bytes(char enc, const char *text, size_t n)
{
	GByteArray *ba = g_byte_array_new();

	if (enc == 'b' || enc == 'B') {
		char *t = g_strndup(text, n);
		gint state = 0;
		guint save = 0;
		guchar *buf = g_malloc(n + 3);
		gsize len = g_base64_decode_step(t, n, buf, &state, &save);

		g_byte_array_append(ba, buf, (guint)len);
		g_free(buf);
		g_free(t);
		return ba;
	}
	for (size_t i = 0; i < n; i++) {
		guint8 c = (guint8)text[i];

		if (c == '_')
			c = ' ';
		else if (c == '=' && i + 2 < n &&
		    g_ascii_isxdigit(text[i + 1]) &&
		    g_ascii_isxdigit(text[i + 2])) {
			c = (guint8)(g_ascii_xdigit_value(text[i + 1]) * 16 +
			    g_ascii_xdigit_value(text[i + 2]));
			i += 2;
		}
		g_byte_array_append(ba, &c, 1);
	}
	return ba;
}


/* Parses an encoded word "=?charset[*lang]?B|Q?text?=" at p.  Returns the
 * end of the word and sets *charset and *bytes, or returns NULL.
 * *no_word_before (NULL at first) keeps the decoding of a whole header
 * linear: a text that runs into white space or the end before its "?="
 * means that no word starting before that point can end either. */
static const char *
encoded_word(const char *p, char **charset, GByteArray **bytes,
    const char **no_word_before)
{
	const char *cs = p + 2, *q1, *q2, *end;
	char *star;

	if (p[0] != '=' || p[1] != '?')
		return NULL;
	q1 = strchr(cs, '?');
	if (q1 == NULL || q1 == cs || q1 - cs > 64 || q1[1] == '\0' ||
	    q1[2] != '?' || strchr("BbQq", q1[1]) == NULL)
		return NULL;
	q2 = q1 + 2;
	if (*no_word_before && q2 + 1 <= *no_word_before)
		return NULL;
	for (end = q2 + 1; *end && !(end[0] == '?' && end[1] == '='); end++)
		if (*end == ' ' || *end == '\t' || *end == '\r' ||
		    *end == '\n')
			break;
	if (*end != '?') {
		*no_word_before = end;
		return NULL;
	}
	*charset = g_strndup(cs, q1 - cs);
	star = strchr(*charset, '*');
	if (star)
		*star = '\0';
	*bytes = encoded_word_bytes(q1[1], q2 + 1, (size_t)(end - q2 - 1));
	return end + 2;
}

/* Decodes an unstructured header value (RFC 2047): adjacent encoded words
 * are joined before charset conversion (clients split multi-byte
 * characters across words, and GMime 3.2 mis-joins base64 words), the
 * whitespace between them is dropped, and raw 8-bit text is taken as UTF-8
 * or windows-1252. */
static char *
rfc2047_decode(const char *v)
{
	GString *out = g_string_new(NULL), *raw = g_string_new(NULL);
	GByteArray *pend = NULL;
	char *pend_cs = NULL;
	const char *p = v, *no_word_before = NULL;

	while (*p) {
		char *cs = NULL;
		GByteArray *bytes = NULL;
		const char *next = encoded_word(p, &cs, &bytes,
		    &no_word_before);

		if (next == NULL) {
			/* Unfold: a line break before white space goes. */
			if (*p != '\r' && *p != '\n')
				g_string_append_c(raw, *p);
			p++;
			continue;
		}
		if (raw->len) {
			/* Whitespace alone between two encoded words goes. */
			int blank = pend != NULL;

			for (gsize i = 0; i < raw->len && blank; i++)
				blank = raw->str[i] == ' ' ||
				    raw->str[i] == '\t';
			if (!blank) {
				char *u;

				if (pend) {
					u = to_utf8((char *)pend->data,
					    pend->len, pend_cs);
					g_string_append(out, u ? u : "");
					g_free(u);
					g_byte_array_free(pend, TRUE);
					g_free(pend_cs);
					pend = NULL;
					pend_cs = NULL;
				}
				u = to_utf8(raw->str, raw->len, NULL);
				g_string_append(out, u ? u : "");
				g_free(u);
			}
			g_string_truncate(raw, 0);
		}
		if (pend && g_ascii_strcasecmp(pend_cs, cs) == 0) {
			g_byte_array_append(pend, bytes->data, bytes->len);
			g_byte_array_free(bytes, TRUE);
			g_free(cs);
		} else {
			if (pend) {
				char *u = to_utf8((char *)pend->data,
				    pend->len, pend_cs);

				g_string_append(out, u ? u : "");
				g_free(u);
				g_byte_array_free(pend, TRUE);
				g_free(pend_cs);
			}
			pend = bytes;
			pend_cs = cs;
		}
		p = next;
	}
	if (pend) {
		char *u = to_utf8((char *)pend->data, pend->len, pend_cs);

		g_string_append(out, u ? u : "");
		g_free(u);
		g_byte_array_free(pend, TRUE);
		g_free(pend_cs);
	}
	/* Text after the last encoded word (or all of it, if none). */
	if (raw->len) {
		char *u = to_utf8(raw->str, raw->len, NULL);

		g_string_append(out, u ? u : "");
		g_free(u);
	}
	g_string_free(raw, TRUE);
	return g_string_free(out, FALSE);
}

static void
fill_header_fields(msg *m, GMimeMessage *gm, const msg_limits *lim)
{
	InternetAddressList *from = g_mime_message_get_from(gm);
	GDateTime *date;
	const char *v;
	char **irt;

	v = raw_header(gm, "Subject");
	if (v) {
		char *dec = rfc2047_decode(v);

		m->subject = msg_header_safe(dec, 998);
		g_free(dec);
	}
	for (int i = 0; from && i < internet_address_list_length(from); i++) {
		InternetAddress *ia = internet_address_list_get_address(from,
		    i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *mem =
			    internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia));

			if (internet_address_list_length(mem) == 0)
				continue;
			ia = internet_address_list_get_address(mem, 0);
			if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
				continue;
		}
		m->from = addr_bare(INTERNET_ADDRESS_MAILBOX(ia));
		if (m->from == NULL)
			continue;
		v = internet_address_get_name(ia);
		if (v && *v) {
			m->from_name = msg_header_safe(v, 200);
			if (*m->from_name == '\0') {
				g_free(m->from_name);
				m->from_name = NULL;
			}
		}
		break;
	}
	m->to = addrs_strv(g_mime_message_get_addresses(gm,
	    GMIME_ADDRESS_TYPE_TO), lim->max_addrs);
	m->cc = addrs_strv(g_mime_message_get_addresses(gm,
	    GMIME_ADDRESS_TYPE_CC), lim->max_addrs);
	m->message_id = msgid_bracket(g_mime_message_get_message_id(gm));
	irt = references_parse(raw_header(gm, "In-Reply-To"), 1);
	m->in_reply_to = irt[0] ? g_strdup(irt[0]) : NULL;
	g_strfreev(irt);
	m->references = references_parse(raw_header(gm, "References"),
	    lim->max_refs);
	date = g_mime_message_get_date(gm);
	m->date = -1;
	if (date) {
		gint64 t = g_date_time_to_unix(date);

		/* GMime turns an unparsable Date into the epoch. */
		if (t > 0)
			m->date = t;
	}
	m->auto_reason = auto_reason(gm, m->from);
	m->is_auto = m->auto_reason != NULL;
	/* Whole, never cut: a cut can turn "header.d=corp.example.evil.test"
	 * into an aligned "header.d=corp.example".  The header-field bound
	 * limits its size, and authres_passes() refuses long values. */
	v = raw_header(gm, "Authentication-Results");
	m->auth_results = v ? msg_header_safe(v, G_MAXSIZE) : NULL;
}

static void
fill_body(msg *m, walk *w, const msg_limits *lim)
{
	char *raw_text = NULL;

	if (w->first_plain) {
		w->body = w->first_plain;
		m->body_type = "plain";
		m->text = part_text(GMIME_PART(w->body), lim->max_text);
	} else if (w->first_html) {
		w->body = w->first_html;
		m->body_type = "html";
		raw_text = part_text(GMIME_PART(w->body), lim->max_text * 4);
		m->text = html_to_text(raw_text, strlen(raw_text),
		    lim->max_text);
		g_free(raw_text);
	} else {
		m->text = g_strdup("");
	}
	m->new_text = quote_strip(m->text);
}

static void
fill_attachments(msg *m, walk *w)
{
	GArray *arr = g_array_new(FALSE, TRUE, sizeof(msg_attachment));

	for (guint i = 0; i < w->leaves->len; i++) {
		GMimeObject *o = w->leaves->pdata[i];
		msg_attachment a = { 0 };
		const char *name = NULL;
		char *type;

		if (o == w->body || g_hash_table_contains(w->twins, o))
			continue;
		if (GMIME_IS_PART(o))
			name = g_mime_part_get_filename(GMIME_PART(o));
		else
			name = g_mime_object_get_content_disposition_parameter(
			    o, "filename");
		a.filename = filename_safe(name);
		type = g_mime_content_type_get_mime_type(
		    g_mime_object_get_content_type(o));
		a.content_type = g_ascii_strdown(type, -1);
		g_free(type);
		a.size = object_size(o);
		g_array_append_val(arr, a);
	}
	m->n_attachments = arr->len;
	m->attachments = (msg_attachment *)g_array_free(arr, FALSE);
}

mp_status
msg_parse(const char *raw, size_t len, const msg_limits *lim, msg **out,
    char **reason)
{
	GMimeParserOptions *opts = NULL;
	GMimeStream *stream = NULL;
	GByteArray *bytes = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *gm = NULL;
	const char *fallback[] = { "utf-8", "windows-1252", NULL };
	walk w = { 0 };
	msg *m = NULL;
	mp_status st;

	*out = NULL;
	*reason = NULL;
	if (len > lim->max_bytes) {
		*reason = g_strdup_printf("message of %zu bytes exceeds "
		    "max_message_bytes (%zu)", len, lim->max_bytes);
		return MP_ERR_LIMIT;
	}
	st = raw_check(raw, len, lim, reason);
	if (st)
		return st;

	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	/* GMime reads raw in place: g_mime_stream_mem_new_with_buffer()
	 * would copy it.  The array is only read, and let go of below
	 * without freeing raw. */
	bytes = g_byte_array_new_take((guint8 *)raw, len);
	stream = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	gm = g_mime_parser_construct_message(parser, opts);
	if (gm == NULL || g_mime_message_get_mime_part(gm) == NULL) {
		*reason = g_strdup("not a MIME message");
		st = MP_ERR_PARSE;
		goto done;
	}

	w.lim = lim;
	w.leaves = g_ptr_array_new();
	w.twins = g_hash_table_new(NULL, NULL);
	w.embedded = g_ptr_array_new();
	walk_tree(&w, g_mime_message_get_mime_part(gm), 0);
	if (w.too_deep) {
		*reason = g_strdup_printf("MIME parts nested deeper than %u",
		    lim->max_depth);
		st = MP_ERR_LIMIT;
		goto done;
	}

	m = g_new0(msg, 1);
	fill_header_fields(m, gm, lim);
	fill_body(m, &w, lim);
	if (w.body)
		mark_twins_deep(&w, g_mime_message_get_mime_part(gm), 0);
	fill_attachments(m, &w);
	m->dsn = dsn_build(&w);
	m->attached_texts = embedded_texts(&w, lim);
	msg_key(raw, len, m->key);
	*out = m;
	m = NULL;
	st = MP_OK;
done:
	if (w.leaves)
		g_ptr_array_free(w.leaves, TRUE);
	if (w.twins)
		g_hash_table_destroy(w.twins);
	if (w.embedded)
		g_ptr_array_free(w.embedded, TRUE);
	if (gm)
		g_object_unref(gm);
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	if (bytes)
		g_byte_array_free(bytes, FALSE);
	if (opts)
		g_mime_parser_options_free(opts);
	msg_free(m);
	return st;
}

void
msg_peek(const char *raw, size_t len, char **from, char **subject)
{
	const char *p = raw, *end = raw + len;

	*from = *subject = NULL;
	while (p < end && *p != '\n' && *p != '\r') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		char **dst = NULL;
		size_t skip = 0;

		if ((size_t)(end - p) > 5 && g_ascii_strncasecmp(p, "from:",
		    5) == 0 && *from == NULL) {
			dst = from;
			skip = 5;
		} else if ((size_t)(end - p) > 8 && g_ascii_strncasecmp(p,
		    "subject:", 8) == 0 && *subject == NULL) {
			dst = subject;
			skip = 8;
		}
		if (dst) {
			GString *v = g_string_new_len(p + skip,
			    MIN(next - p - (gssize)skip, 4096));
			const char *q = next;
			char *dec;

			while (q < end && (*q == ' ' || *q == '\t') &&
			    v->len < 4096) {
				const char *n2 = memchr(q, '\n',
				    (size_t)(end - q));
				const char *nx = n2 ? n2 + 1 : end;

				g_string_append_len(v, q, MIN(nx - q, 4096));
				q = nx;
			}
			dec = rfc2047_decode(v->str);
			g_string_free(v, TRUE);
			if (dst == subject) {
				*subject = msg_header_safe(dec, 998);
			} else {
				char *lt = strrchr(dec, '<');
				char *gt = lt ? strchr(lt, '>') : NULL;
				char *a = lt && gt ? g_strndup(lt + 1, gt - lt -
				    1) : g_strdup(g_strstrip(dec));

				if (strchr(a, '@') && !strpbrk(a, " \t\"<>,"))
					*from = g_ascii_strdown(a, -1);
				g_free(a);
			}
			g_free(dec);
		}
		p = next;
	}
}

void
msg_free(msg *m)
{
	if (m == NULL)
		return;
	g_free(m->subject);
	g_free(m->from);
	g_free(m->from_name);
	g_strfreev(m->to);
	g_strfreev(m->cc);
	g_free(m->message_id);
	g_free(m->in_reply_to);
	g_strfreev(m->references);
	g_free(m->text);
	g_free(m->new_text);
	g_strfreev(m->attached_texts);
	for (size_t i = 0; i < m->n_attachments; i++) {
		g_free(m->attachments[i].filename);
		g_free(m->attachments[i].content_type);
	}
	g_free(m->attachments);
	g_free(m->auth_results);
	if (m->dsn) {
		g_free(m->dsn->recipient);
		g_free(m->dsn->status);
		g_free(m->dsn->action);
		g_free(m->dsn->original_message_id);
		g_free(m->dsn);
	}
	g_free(m);
}
