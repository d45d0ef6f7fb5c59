/*
 * form.c - finding and checking the Jointly-Managed Implementation
 * Request form.
 *
 * Each text is read line by line (LF, CRLF or a lone CR ends a line).
 * A line is, in this order:
 *  - skipped when longer than FORM_LINE_MAX bytes (it ends an open value);
 *  - stripped of its quote markers (any run of '>' and spaces), keeping
 *    the depth; a change of depth ends an open value;
 *  - blank: ends the open value;
 *  - a stop line: ends it.  Stop lines are the form's title, a signature
 *    separator "-- ", forward and reply markers (Gmail, Outlook, Apple
 *    Mail, Thunderbird, "... wrote:"), the header lines of a forwarded
 *    message (From:, Sent:, To:, ...), separator rules and client footers
 *    ("Sent from my iPhone");
 *  - a label line: "Label: value", "Label<TAB>value" (a table row),
 *    "| Label | value |", or a known label alone (an empty table cell),
 *    after a bullet ("-", "*", "+", "•", "1.", "1)") and with bold
 *    markers ("**", "__") anywhere around the label.  It ends the open
 *    value, however it is indented, and opens its field (but for a label
 *    alone, whose value is empty);
 *  - anything else (an indented line, or one that starts no known label):
 *    continues the open value, if any, joined by a space.
 * The first non-empty occurrence of a field wins; values are checked only
 * once every text has been read.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "parsers/commands.h"
#include "parsers/form.h"

#define LABEL_MAX	60	/* a normalised label, in bytes */
#define LABEL_RAW_MAX	100	/* a label as written, notes and bold included */
#define QUOTE_MAX	80	/* characters of a bad value quoted in a reason */
#define ARR_MAX		1000000000000000ULL	/* 10^15 dollars */

const char *const form_keys[FORM_N_FIELDS] = {
	"customer_name", "salesforce_url", "tdd_url", "deployment_type",
	"hosting_provider", "additional_info", "segment", "ae", "arr",
	"expected_users", "expected_repos", "code_hosts",
};

const char *const form_labels[FORM_N_FIELDS] = {
	"Customer Name", "Link to Salesforce Opportunity", "Link to TDD",
	"Expected Deployment Type", "Expected Hosting Provider",
	"Additional Information", "Segment", "AE", "ARR", "Expected Users",
	"Expected Repos", "Code Hosts",
};

/*
 * Label spellings, normalised: lower case, single spaces, no bold markers,
 * no "(...)" notes, no spaces around '/', no trailing '.'.  Matched whole,
 * never as a prefix, so prose such as "Notes from the call: ..." is text.
 */
static const struct {
	const char *label;
	int field;
} label_map[] = {
	{ "customer name", FORM_CUSTOMER_NAME },
	{ "customer", FORM_CUSTOMER_NAME },
	{ "customer name/company", FORM_CUSTOMER_NAME },
	{ "customer/company", FORM_CUSTOMER_NAME },
	{ "company name", FORM_CUSTOMER_NAME },
	{ "account name", FORM_CUSTOMER_NAME },
	{ "account", FORM_CUSTOMER_NAME },

	{ "link to salesforce opportunity", FORM_SALESFORCE_URL },
	{ "link to the salesforce opportunity", FORM_SALESFORCE_URL },
	{ "salesforce opportunity", FORM_SALESFORCE_URL },
	{ "salesforce opportunity link", FORM_SALESFORCE_URL },
	{ "sfdc opportunity", FORM_SALESFORCE_URL },
	{ "sfdc opportunity link", FORM_SALESFORCE_URL },
	{ "link to sfdc opportunity", FORM_SALESFORCE_URL },
	{ "link to sfdc", FORM_SALESFORCE_URL },
	{ "link to salesforce", FORM_SALESFORCE_URL },
	{ "salesforce link", FORM_SALESFORCE_URL },
	{ "salesforce url", FORM_SALESFORCE_URL },
	{ "salesforce", FORM_SALESFORCE_URL },
	{ "sfdc link", FORM_SALESFORCE_URL },
	{ "sfdc url", FORM_SALESFORCE_URL },
	{ "sfdc opp", FORM_SALESFORCE_URL },
	{ "sfdc", FORM_SALESFORCE_URL },
	{ "opportunity link", FORM_SALESFORCE_URL },
	{ "opportunity url", FORM_SALESFORCE_URL },
	{ "link to opportunity", FORM_SALESFORCE_URL },
	{ "opportunity", FORM_SALESFORCE_URL },

	{ "link to tdd", FORM_TDD_URL },
	{ "link to the tdd", FORM_TDD_URL },
	{ "tdd", FORM_TDD_URL },
	{ "tdd link", FORM_TDD_URL },
	{ "tdd url", FORM_TDD_URL },
	{ "link to technical design document", FORM_TDD_URL },
	{ "link to the technical design document", FORM_TDD_URL },
	{ "technical design document", FORM_TDD_URL },
	{ "technical design doc", FORM_TDD_URL },

	{ "expected deployment type", FORM_DEPLOYMENT_TYPE },
	{ "expected deployment", FORM_DEPLOYMENT_TYPE },
	{ "deployment type", FORM_DEPLOYMENT_TYPE },
	{ "deployment", FORM_DEPLOYMENT_TYPE },

	{ "expected hosting provider", FORM_HOSTING_PROVIDER },
	{ "expected hosting", FORM_HOSTING_PROVIDER },
	{ "hosting provider", FORM_HOSTING_PROVIDER },
	{ "hosting", FORM_HOSTING_PROVIDER },
	{ "cloud provider", FORM_HOSTING_PROVIDER },
	{ "expected cloud provider", FORM_HOSTING_PROVIDER },

	{ "additional information", FORM_ADDITIONAL_INFO },
	{ "additional info", FORM_ADDITIONAL_INFO },
	{ "additional notes", FORM_ADDITIONAL_INFO },
	{ "notes", FORM_ADDITIONAL_INFO },

	{ "segment", FORM_SEGMENT },
	{ "customer segment", FORM_SEGMENT },
	{ "sales segment", FORM_SEGMENT },

	{ "ae", FORM_AE },
	{ "ae email", FORM_AE },
	{ "ae e-mail", FORM_AE },
	{ "ae address", FORM_AE },
	{ "account executive", FORM_AE },
	{ "account executive email", FORM_AE },

	{ "arr", FORM_ARR },
	{ "expected arr", FORM_ARR },
	{ "annual recurring revenue", FORM_ARR },

	{ "expected users", FORM_EXPECTED_USERS },
	{ "expected user count", FORM_EXPECTED_USERS },
	{ "expected number of users", FORM_EXPECTED_USERS },
	{ "users", FORM_EXPECTED_USERS },
	{ "user count", FORM_EXPECTED_USERS },
	{ "number of users", FORM_EXPECTED_USERS },
	{ "# of users", FORM_EXPECTED_USERS },
	{ "# users", FORM_EXPECTED_USERS },

	{ "expected repos", FORM_EXPECTED_REPOS },
	{ "expected repositories", FORM_EXPECTED_REPOS },
	{ "expected repo count", FORM_EXPECTED_REPOS },
	{ "repos", FORM_EXPECTED_REPOS },
	{ "repositories", FORM_EXPECTED_REPOS },
	{ "repo count", FORM_EXPECTED_REPOS },
	{ "number of repos", FORM_EXPECTED_REPOS },
	{ "number of repositories", FORM_EXPECTED_REPOS },
	{ "# of repos", FORM_EXPECTED_REPOS },
	{ "# of repositories", FORM_EXPECTED_REPOS },
	{ "# repos", FORM_EXPECTED_REPOS },

	{ "code hosts", FORM_CODE_HOSTS },
	{ "code host", FORM_CODE_HOSTS },
	{ "code hosting", FORM_CODE_HOSTS },
};

/* Lines that end a value: what starts a forward, a reply's quoted part,
 * a forwarded header block or a client footer (case-insensitive prefixes
 * of a line's text). */
static const char *const stop_prefixes[] = {
	"begin forwarded message", "forwarded message",
	"from:", "sent:", "to:", "cc:", "bcc:", "subject:", "date:",
	"reply-to:", "sent from my ", "sent from outlook", "get outlook for",
};

/* Bullets, followed by white space ("\xe2\x80\xa2" and the other non-ASCII
 * marks may also touch the text). */
static const char *const bullets[] = {
	"-", "*", "+",
	"\xe2\x80\xa2",		/* U+2022 bullet */
	"\xe2\x97\xa6",		/* U+25E6 white bullet */
	"\xe2\x96\xaa",		/* U+25AA small square */
	"\xe2\x80\xa3",		/* U+2023 triangular bullet */
	"\xe2\x80\x93",		/* U+2013 en dash */
	"\xc2\xb7",		/* U+00B7 middle dot */
	"\xef\x82\xb7",		/* U+F0B7 Word's Symbol-font bullet */
};

static const struct {
	const char *in, *out;
} segments[] = {
	{ "smb", "SMB" },
	{ "mm", "MM" },
	{ "mid-market", "MM" },
	{ "mid market", "MM" },
	{ "midmarket", "MM" },
	{ "enterprise", "Enterprise" },
	{ "ent", "Enterprise" },
	{ "strategic", "Strategic" },
};

/* What one text's reading has found so far, and the value being read. */
struct scan {
	char *found[FORM_N_FIELDS];	/* squeezed text; first one wins */
	int open;			/* field being read, or -1 */
	GString *pend;			/* its text so far */
	int depth;			/* quote depth of its first line */
};

/* Returns s as one line of valid UTF-8: white space and control
 * characters made single spaces, trimmed, at most FORM_VALUE_MAX bytes
 * (cut at a character boundary).  Owned by the caller. */
static char *
squeeze(const char *s)
{
	char *valid = g_utf8_make_valid(s, -1);
	GString *out = g_string_new(NULL);
	int space = 0;

	for (const char *p = valid; *p && out->len <= FORM_VALUE_MAX;
	    p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || c == 0x7f || g_unichar_isspace(c) ||
		    c == 0xa0 || c == 0x200b || c == 0xfeff) {
			space = out->len > 0;
			continue;
		}
		if (space)
			g_string_append_c(out, ' ');
		space = 0;
		g_string_append_len(out, p, g_utf8_next_char(p) - p);
	}
	if (out->len > FORM_VALUE_MAX) {
		size_t n = FORM_VALUE_MAX;

		while (n > 0 && ((unsigned char)out->str[n] & 0xc0) == 0x80)
			n--;
		g_string_truncate(out, n);
		while (out->len > 0 && out->str[out->len - 1] == ' ')
			g_string_truncate(out, out->len - 1);
	}
	g_free(valid);
	return g_string_free(out, FALSE);
}

/* Ends the value being read, keeping it when it is the field's first
 * non-empty one. */
static void
close_value(struct scan *s)
{
	char *v;

	if (s->open < 0)
		return;
	v = squeeze(s->pend->str);
	if (*v != '\0' && s->found[s->open] == NULL) {
		s->found[s->open] = v;
		v = NULL;
	}
	g_free(v);
	g_string_free(s->pend, TRUE);
	s->pend = NULL;
	s->open = -1;
}

/* Appends a continuation line to the value being read; past the cap the
 * rest is dropped, so pend stays within FORM_VALUE_MAX + FORM_LINE_MAX. */
static void
continue_value(struct scan *s, const char *text)
{
	if (s->pend->len > FORM_VALUE_MAX)
		return;
	if (s->pend->len > 0)
		g_string_append_c(s->pend, ' ');
	g_string_append(s->pend, text);
}

/* Returns 1 when s (a line's text, lower or upper case) is the form's
 * title: "Jointly-Managed Implementation Request", maybe bold, a heading,
 * or followed by more words. */
static int
is_title(const char *s)
{
	static const char title[] = "jointly managed implementation request";
	size_t i = 0;

	while (*s && !g_ascii_isalnum(*s))
		s++;
	for (; *s && i < sizeof(title) - 1; s++) {
		char c = g_ascii_tolower(*s);

		if (c == '-' || c == '_')
			c = ' ';
		if (c == '*')
			continue;
		if (c == ' ' && i > 0 && title[i - 1] == ' ')
			continue;
		if (c != title[i])
			return 0;
		i++;
	}
	return i == sizeof(title) - 1;
}

/* Returns 1 when s (a line's text, trimmed) ends the value being read. */
static int
is_stop(const char *s)
{
	const char *t = s;
	size_t n = strlen(s);

	if (strcmp(s, "--") == 0 || is_title(s))
		return 1;
	/* "-----Original Message-----", "---------- Forwarded message",
	 * "________________________________", "=====", "|---|---|" */
	if (strspn(s, "-_=~") >= 3 || strspn(s, "-_=~*| :") == n)
		return 1;
	while (*t == '*')	/* "*From:* Jamie" (Outlook's bold, as text) */
		t++;
	for (size_t i = 0; i < G_N_ELEMENTS(stop_prefixes); i++)
		if (g_ascii_strncasecmp(t, stop_prefixes[i],
		    strlen(stop_prefixes[i])) == 0)
			return 1;
	/* "On Mon, 8 Jan 2024 at 10:02, Jamie <j@corp.example> wrote:",
	 * its wrapped second line, and German clients' "schrieb:". */
	if ((n >= 6 && g_ascii_strcasecmp(s + n - 6, "wrote:") == 0) ||
	    (n >= 8 && g_ascii_strcasecmp(s + n - 8, "schrieb:") == 0))
		return 1;
	return 0;
}

/* Returns s past one list bullet or number and the white space after it,
 * or s itself when it starts with none. */
static const char *
skip_bullet(const char *s)
{
	const char *p = s;

	for (size_t i = 0; i < G_N_ELEMENTS(bullets); i++) {
		size_t n = strlen(bullets[i]);

		if (strncmp(s, bullets[i], n) != 0)
			continue;
		if (s[n] == ' ' || s[n] == '\t')
			p = s + n;
		else if ((unsigned char)*s >= 0x80)
			p = s + n;
		break;
	}
	if (p == s && g_ascii_isdigit(*s)) {
		const char *q = s;

		while (g_ascii_isdigit(*q) && q - s < 3)
			q++;
		if ((*q == '.' || *q == ')') && (q[1] == ' ' || q[1] == '\t'))
			p = q + 1;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Normalises the n bytes of a label as written (see label_map) and returns
 * its field, or -1 when it is no known label.  *bold_open is set when the
 * label opens a bold run it does not close ("**Customer Name:**": the
 * closing marker is on the value's side of the colon).
 */
static int
label_field(const char *p, size_t n, int *bold_open)
{
	char buf[LABEL_MAX + 1];
	size_t len = 0;
	int space = 0, paren = 0, runs = 0, in_run = 0, field = -1;

	*bold_open = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c == '*' || c == '_') {
			runs += !in_run;
			in_run = 1;
			continue;
		}
		in_run = 0;
		if (paren) {
			paren += c == '(' ? 1 : c == ')' ? -1 : 0;
			continue;
		}
		if (c == '(') {
			paren = 1;
			continue;
		}
		if (c == ' ' || c == '\t') {
			space = len > 0;
			continue;
		}
		if (!g_ascii_isalnum(c) && strchr("-/#.&'", c) == NULL)
			return -1;
		if (c == '/')	/* "Customer name / Company" */
			space = 0;
		if (space && buf[len - 1] != '/') {
			if (len >= LABEL_MAX)
				return -1;
			buf[len++] = ' ';
		}
		space = 0;
		if (len >= LABEL_MAX)
			return -1;
		buf[len++] = g_ascii_tolower(c);
	}
	while (len > 0 && buf[len - 1] == '.')
		len--;
	buf[len] = '\0';
	for (size_t i = 0; i < G_N_ELEMENTS(label_map); i++)
		if (strcmp(buf, label_map[i].label) == 0) {
			field = label_map[i].field;
			break;
		}
	*bold_open = runs % 2;
	return field;
}

/*
 * Reads s (a line's text, trimmed) as a label line.  Returns 0 when it is
 * none; 1 with *field and *value (owned by the caller, maybe "") for
 * "Label: value"; 2 with *field for a known label alone.
 */
static int
parse_label(const char *s, int *field, char **value)
{
	const char *p, *sep, *v;
	int bold_open, pipe = 0;
	char *val;
	size_t n;

	*value = NULL;
	if (*s == '|') {	/* a Markdown table row */
		pipe = 1;
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	p = skip_bullet(s);
	sep = p + strcspn(p, pipe ? ":\t|" : ":\t");
	if (sep == p || (size_t)(sep - p) > LABEL_RAW_MAX)
		return 0;
	*field = label_field(p, sep - p, &bold_open);
	if (*field < 0)
		return 0;
	if (*sep == '\0')
		return 2;
	v = sep + 1;
	while (*v == ' ' || *v == '\t' || (*sep != ':' && *v == ':'))
		v++;
	if (bold_open && (*v == '*' || *v == '_')) {	/* "**Label:** v" */
		while (*v == '*' || *v == '_')
			v++;
		while (*v == ' ' || *v == '\t')
			v++;
		bold_open = 0;
	}
	val = g_strdup(v);
	n = strlen(val);
	if (bold_open || pipe) {	/* "**Label: value**", "value |" */
		while (n > 0 && strchr(pipe ? "| \t" : "*_ \t", val[n - 1]))
			n--;
		val[n] = '\0';
	}
	/* "**bold value**" */
	if (n >= 5 && (strncmp(val, "**", 2) == 0 ||
	    strncmp(val, "__", 2) == 0) && strncmp(val + n - 2, val, 2) == 0) {
		memmove(val, val + 2, n - 4);
		val[n - 4] = '\0';
	}
	*value = val;
	return 1;
}

/* Reads one line (NUL-terminated, at most FORM_LINE_MAX bytes, changed in
 * place). */
static void
scan_line(struct scan *s, char *line)
{
	unsigned char *u = (unsigned char *)line;
	char *q = line, *value = NULL;
	size_t n;
	int depth = 0, field, kind;

	for (size_t i = 0; u[i]; i++) {
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			u[i] = ' ';
		else if (u[i] == 0xc2 && u[i + 1] == 0xa0)	/* U+00A0 */
			u[i] = u[i + 1] = ' ';
	}
	n = strlen(line);
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	for (;;) {
		char *r = q;

		while (*r == ' ' || *r == '\t')
			r++;
		if (*r != '>')
			break;
		depth++;
		q = r + 1;
		if (*q == ' ')
			q++;
	}
	while (*q == ' ' || *q == '\t')
		q++;
	if (s->open >= 0 && depth != s->depth)
		close_value(s);
	if (*q == '\0' || is_stop(q)) {
		close_value(s);
		return;
	}
	kind = parse_label(q, &field, &value);
	if (kind != 0) {
		close_value(s);
		if (kind == 1) {
			s->open = field;
			s->pend = g_string_new(value);
			s->depth = depth;
		}
	} else if (s->open >= 0)
		continue_value(s, q);
	g_free(value);
}

/* Reads the first FORM_LINES_MAX lines of text into s. */
static void
scan_text(struct scan *s, const char *text)
{
	char *line = g_malloc(FORM_LINE_MAX + 1);
	const char *p = text;

	for (int nlines = 0; *p != '\0' && nlines < FORM_LINES_MAX;
	    nlines++) {
		size_t n = strcspn(p, "\r\n");
		const char *next = p + n;

		if (next[0] == '\r' && next[1] == '\n')
			next += 2;
		else if (next[0] != '\0')
			next++;
		if (n > FORM_LINE_MAX)
			close_value(s);
		else {
			memcpy(line, p, n);
			line[n] = '\0';
			scan_line(s, line);
		}
		p = next;
	}
	close_value(s);
	g_free(line);
}

/* Returns at most QUOTE_MAX characters of v (valid UTF-8), with "..."
 * when cut.  Owned by the caller. */
static char *
quote(const char *v)
{
	const char *end;

	if (g_utf8_strlen(v, -1) <= QUOTE_MAX)
		return g_strdup(v);
	end = g_utf8_offset_to_pointer(v, QUOTE_MAX);
	return g_strdup_printf("%.*s...", (int)(end - v), v);
}

/* Returns "Label 'value' what", one line, owned by the caller. */
static char *
reason(int field, const char *v, const char *what)
{
	char *q = quote(v);
	char *r = g_strdup_printf("%s '%s' %s", form_labels[field], q, what);

	g_free(q);
	return r;
}

/* Returns the http(s) URL of "URL", "<URL>", "text <URL>" (an HTML link
 * made text) or "[text](URL)" (Markdown), or NULL.  Owned by the caller. */
static char *
link_url(const char *v)
{
	const char *lt, *gt, *md;
	char *u;

	for (lt = strchr(v, '<'); lt != NULL; lt = strchr(lt + 1, '<')) {
		if ((gt = strchr(lt, '>')) == NULL)
			break;
		u = g_strndup(lt + 1, gt - lt - 1);
		if (url_is_http(u))
			return u;
		g_free(u);
	}
	if ((md = strstr(v, "](")) != NULL &&
	    (gt = strchr(md + 2, ')')) != NULL) {
		u = g_strndup(md + 2, gt - md - 2);
		if (url_is_http(u))
			return u;
		g_free(u);
	}
	return url_is_http(v) ? g_strdup(v) : NULL;
}

/* Returns the segment's canonical name (static), or NULL. */
static const char *
segment_of(const char *v)
{
	char *l = g_ascii_strdown(v, -1);
	size_t n = strlen(l);
	const char *out = NULL;

	while (n > 0 && l[n - 1] == '.')
		l[--n] = '\0';
	for (size_t i = 0; i < G_N_ELEMENTS(segments); i++)
		if (strcmp(l, segments[i].in) == 0) {
			out = segments[i].out;
			break;
		}
	g_free(l);
	return out;
}

/* Returns 1 when a is one bare address: a dot-atom local part of at most
 * 64 bytes (RFC 5321 4.5.3.1.1), '@', and a domain of two or more
 * letter-digit-hyphen labels. */
static int
addr_ok(const char *a)
{
	const char *at = strchr(a, '@'), *p, *label;

	if (at == NULL || at == a || at - a > 64 || strchr(at + 1, '@') ||
	    strlen(at + 1) > 253 || a[0] == '.' || at[-1] == '.')
		return 0;
	for (p = a; p < at; p++)
		if ((!g_ascii_isalnum(*p) &&
		    strchr("!#$%&'*+/=?^_`{|}~.-", *p) == NULL) ||
		    (p[0] == '.' && p[1] == '.'))
			return 0;
	label = at + 1;
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || p - label > 63 || *label == '-' ||
			    p[-1] == '-')
				return 0;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!g_ascii_isalnum(*p) && *p != '-')
			return 0;
	}
	return strchr(at + 1, '.') != NULL;
}

/* Returns the lower-cased bare address of "addr", "Name <addr>" or
 * "Name <mailto:addr>", or NULL.  Owned by the caller. */
static char *
ae_address(const char *v)
{
	const char *lt = strchr(v, '<'), *gt;
	char *a, *t, *out = NULL;

	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL || gt[1] != '\0' || strchr(lt + 1, '<'))
			return NULL;
		a = g_strndup(lt + 1, gt - lt - 1);
	} else
		a = g_strdup(v);
	t = g_strstrip(a);
	if (g_ascii_strncasecmp(t, "mailto:", 7) == 0)
		t += 7;
	if (addr_ok(t))
		out = g_ascii_strdown(t, -1);
	g_free(a);
	return out;
}

/* Returns 1 and moves *p past word (case-insensitive) when *p starts with
 * it and no letter follows. */
static int
word(const char **p, const char *w)
{
	size_t n = strlen(w);

	if (g_ascii_strncasecmp(*p, w, n) != 0 || g_ascii_isalpha((*p)[n]))
		return 0;
	*p += n;
	while (**p == ' ')
		*p += 1;
	return 1;
}

/*
 * Returns the whole US dollars of an amount such as "250000", "250,000",
 * "$250k", "250K", "1.2M", "~$1.2 million" or "$1,200,000 USD/yr" as
 * decimal digits (cents rounded), or NULL when v is no such amount or
 * more than ARR_MAX.  Owned by the caller.
 */
static char *
arr_digits(const char *v)
{
	const char *p = v;
	uint64_t whole = 0, frac = 0, scale = 1, mult = 1;
	int ndig = 0, nfrac = 0, group = -1;

	if (*p == '~')
		p++;
	while (*p == ' ')
		p++;
	if (!word(&p, "us$") && !word(&p, "usd") && *p == '$')
		p++;
	while (*p == ' ')
		p++;
	if (!g_ascii_isdigit(*p))
		return NULL;
	for (;; p++) {
		if (g_ascii_isdigit(*p)) {
			if (++ndig > 15)
				return NULL;
			whole = whole * 10 + (uint64_t)(*p - '0');
			if (group >= 0)
				group++;
		} else if (*p == ',' && g_ascii_isdigit(p[1])) {
			/* thousands separators: "1,200,000", not "1,2" */
			if (group >= 0 ? group != 3 : ndig > 3)
				return NULL;
			group = 0;
		} else
			break;
	}
	if (group >= 0 && group != 3)
		return NULL;
	if (*p == '.' && g_ascii_isdigit(p[1]))
		for (p++; g_ascii_isdigit(*p); p++) {
			if (++nfrac > 6)
				return NULL;
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	while (*p == ' ')
		p++;
	if (word(&p, "million") || word(&p, "mm") || word(&p, "mn") ||
	    word(&p, "m"))
		mult = 1000000;
	else if (word(&p, "thousand") || word(&p, "k"))
		mult = 1000;
	(void)(word(&p, "usd") || word(&p, "dollars"));
	(void)(word(&p, "/yr") || word(&p, "/year") || word(&p, "per year") ||
	    word(&p, "a year"));
	if (*p != '\0' || whole > ARR_MAX / mult)
		return NULL;
	return g_strdup_printf("%" G_GUINT64_FORMAT,
	    whole * mult + (frac * mult + scale / 2) / scale);
}

/* Returns field's normalised value of v (squeezed, not empty), or NULL
 * with *why set to a reason (both owned by the caller). */
static char *
check(int field, const char *v, char **why)
{
	const char *seg;
	char *out = NULL;

	*why = NULL;
	switch (field) {
	case FORM_SALESFORCE_URL:
	case FORM_TDD_URL:
		if ((out = link_url(v)) == NULL)
			*why = reason(field, v, "is not an http(s) URL");
		break;
	case FORM_SEGMENT:
		if ((seg = segment_of(v)) != NULL)
			out = g_strdup(seg);
		else
			*why = reason(field, v,
			    "is not one of SMB, MM, Enterprise, Strategic");
		break;
	case FORM_AE:
		if ((out = ae_address(v)) == NULL)
			*why = reason(field, v, "is not one mail address");
		break;
	case FORM_ARR:
		if ((out = arr_digits(v)) == NULL)
			*why = reason(field, v, "is not an amount such as "
			    "250000, $250k or 1.2M");
		break;
	default:
		out = g_strdup(v);
		break;
	}
	return out;
}

form *
form_parse(const char *const *texts)
{
	form *f = g_new0(form, 1);
	GArray *bad = g_array_new(FALSE, TRUE, sizeof(form_invalid));
	struct scan s = { .open = -1 };

	for (size_t i = 0; texts != NULL && i < FORM_TEXTS_MAX &&
	    texts[i] != NULL; i++)
		scan_text(&s, texts[i]);
	for (int k = 0; k < FORM_N_FIELDS; k++) {
		form_invalid b = { k, NULL };

		if (s.found[k] == NULL) {
			f->missing[k] = k < FORM_N_REQUIRED;
			continue;
		}
		f->n_found++;
		f->value[k] = check(k, s.found[k], &b.reason);
		if (b.reason != NULL)
			g_array_append_val(bad, b);
		g_free(s.found[k]);
	}
	f->n_invalid = bad->len;
	f->invalid = (form_invalid *)g_array_free(bad, bad->len == 0);
	return f;
}

void
form_free(form *f)
{
	if (f == NULL)
		return;
	for (int k = 0; k < FORM_N_FIELDS; k++)
		g_free(f->value[k]);
	for (size_t i = 0; i < f->n_invalid; i++)
		g_free(f->invalid[i].reason);
	g_free(f->invalid);
	g_free(f);
}
