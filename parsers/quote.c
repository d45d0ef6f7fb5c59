/*
 * quote.c - the new text of a reply.
 *
 * Rules, in order (the "steps" of quote.h):
 *  1. CRLF and lone CR become LF.  Everything from the first of these
 *     lines on is cut:
 *     - a reply attribution, starting the line (leading blanks allowed),
 *       alone or joined with the next one or two lines by a space (never
 *       across a blank line), at most QUOTE_ATTR_MAX bytes:
 *         On\s.*\swrote:\s*$            Le\s.*\sa écrit\s?:\s*$
 *         Am\s.*\sschrieb\s.*:\s*$      Am\s.*\sschrieb:
 *         El\s.*\sescribió:\s*$         Il\s.*\sha scritto:\s*$
 *         Op\s.*\sschreef\s.*:\s*$      Em\s.*\sescreveu:\s*$
 *       (the blank before the colon of "a écrit" may be U+00A0 or U+202F,
 *       as French typography wants);
 *     - "-----Original Message-----": two or more dashes each side,
 *       blanks allowed, any case; also "Ursprüngliche Nachricht",
 *       "Message d'origine", "Mensaje original";
 *     - an Outlook header: a line starting "From:", "De :", "De:" or
 *       "Von:" (optionally bold, "*From:*") with a line starting "Sent:",
 *       "Date:", "Gesendet:", "Envoyé :" or "Enviado:" (optionally bold)
 *       among the next QUOTE_HDR_LINES lines; the cut starts at a line
 *       of ten or more underscores standing right before it (blank lines
 *       between allowed), else at the From line.  A From line right after
 *       a forward marker ("---------- Forwarded message ---------",
 *       "Begin forwarded message:", blank lines between allowed) heads
 *       forwarded content and is kept.
 *     An attribution that heads a '>' quote followed by more unquoted
 *     text is a bottom-post: its lines are dropped and nothing is cut.
 *  2. Lines whose first non-blank character is '>' are removed.
 *  3. Everything from the first line that is exactly "-- " or "--" is cut.
 *  4. Client footer lines are removed (line trimmed): "Sent from my X...",
 *     "Sent from Mail for Windows...", "Sent from Yahoo Mail...",
 *     "Get Outlook for iOS...", "Get Outlook for Android..." (any case),
 *     "Envoyé de mon X...", "Von meinem X gesendet...",
 *     "Enviado desde mi X..." (X: a non-blank character, or run of them).
 *  5. Tidy: trailing whitespace goes, runs of blank lines become one, no
 *     blank line first or last, no final newline.
 *
 * Work is linear in the input: each line is looked at a bounded number of
 * times and only short lines are ever copied for matching.
 */
#include "parsers/quote.h"

#include <string.h>

#include <glib.h>

#define QUOTE_ATTR_MAX	1000	/* longest attribution, joined */
#define QUOTE_ATTR_LINES 3	/* lines an attribution may span */
#define QUOTE_HDR_LINES	4	/* lines from From: to Sent:, at most */
#define QUOTE_RULE_MIN	10	/* underscores of an Outlook rule */

/* One line of a text buffer: s[0..n), no LF. */
struct line {
	const char	*s;
	size_t		 n;
};

/* Sets *l to the line at pos of buf (len bytes); returns the position of
 * the next line, or len + 1 past the last one. */
static size_t
line_at(const char *buf, size_t len, size_t pos, struct line *l)
{
	const char *nl;

	l->s = buf + pos;
	nl = memchr(l->s, '\n', len - pos);
	l->n = nl != NULL ? (size_t)(nl - l->s) : len - pos;
	return pos + l->n + 1;
}

/* \s of PCRE, in the ASCII range. */
static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static struct line
trim_left(struct line l)
{
	while (l.n > 0 && is_blank(*l.s)) {
		l.s++;
		l.n--;
	}
	return l;
}

static struct line
trim(struct line l)
{
	l = trim_left(l);
	while (l.n > 0 && is_space(l.s[l.n - 1]))
		l.n--;
	return l;
}

static int
is_empty(struct line l)
{
	return trim(l).n == 0;
}

static int
starts(struct line l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l.n >= n && memcmp(l.s, prefix, n) == 0;
}

static int
starts_ci(struct line l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l.n >= n && g_ascii_strncasecmp(l.s, prefix, n) == 0;
}

static int
ends(struct line l, const char *suffix)
{
	size_t n = strlen(suffix);

	return l.n >= n && memcmp(l.s + l.n - n, suffix, n) == 0;
}

/* Length of a blank that French typography puts before a colon at the end
 * of l: ASCII blank, U+00A0 or U+202F; 0 if none. */
static size_t
french_blank(struct line l)
{
	if (l.n >= 1 && is_space(l.s[l.n - 1]))
		return 1;
	if (ends(l, "\xc2\xa0"))
		return 2;
	if (ends(l, "\xe2\x80\xaf"))
		return 3;
	return 0;
}

/* ^LEAD\s.*\sTAIL\s*$, TAIL taken literally. */
static int
match_lead_tail(struct line l, const char *lead, const char *tail)
{
	size_t ll = strlen(lead), tl = strlen(tail);

	while (l.n > 0 && is_space(l.s[l.n - 1]))
		l.n--;
	if (l.n < ll + 2 + tl || !starts(l, lead) || !is_space(l.s[ll]))
		return 0;
	return ends(l, tail) && is_space(l.s[l.n - tl - 1]);
}

/* ^Le\s.*\sa écrit\s?:\s*$ */
static int
match_french(struct line l)
{
	static const char tail[] = "a \xc3\xa9" "crit";
	size_t tl = sizeof(tail) - 1;

	while (l.n > 0 && is_space(l.s[l.n - 1]))
		l.n--;
	if (l.n == 0 || l.s[l.n - 1] != ':')
		return 0;
	l.n--;
	l.n -= french_blank(l);
	if (l.n < 2 + 2 + tl || !starts(l, "Le") || !is_space(l.s[2]))
		return 0;
	return ends(l, tail) && is_space(l.s[l.n - tl - 1]);
}

/* ^LEAD\s.*\sVERB\s.*:\s*$, and with colon_ok also ^LEAD\s.*\sVERB: */
static int
match_lead_verb(struct line l, const char *lead, const char *verb,
    int colon_ok)
{
	size_t ll = strlen(lead), vl = strlen(verb), last, p, after;
	const char *hit;

	if (l.n < ll + 2 + vl || !starts(l, lead) || !is_space(l.s[ll]))
		return 0;
	last = l.n;
	while (last > 0 && is_space(l.s[last - 1]))
		last--;
	/* The verb's leading blank must come after the lead's. */
	for (p = ll + 2; p + vl <= l.n; p = (size_t)(hit - l.s) + 1) {
		hit = g_strstr_len(l.s + p, (gssize)(l.n - p), verb);
		if (hit == NULL)
			break;
		if (!is_space(hit[-1]))
			continue;
		after = (size_t)(hit - l.s) + vl;
		if (colon_ok && after < l.n && l.s[after] == ':')
			return 1;
		if (after < l.n && is_space(l.s[after]) && last > 0 &&
		    l.s[last - 1] == ':' && last - 1 > after)
			return 1;
	}
	return 0;
}

static int
match_attribution(struct line l)
{
	return match_lead_tail(l, "On", "wrote:") ||
	    match_french(l) ||
	    match_lead_verb(l, "Am", "schrieb", 1) ||
	    match_lead_tail(l, "El", "escribi\xc3\xb3:") ||
	    match_lead_tail(l, "Il", "ha scritto:") ||
	    match_lead_verb(l, "Op", "schreef", 0) ||
	    match_lead_tail(l, "Em", "escreveu:");
}

/* Whether the line at pos starts a reply attribution of up to
 * QUOTE_ATTR_LINES lines. */
static int
is_attribution(const char *buf, size_t len, size_t pos)
{
	static const char *const leads[] = {
		"On", "Le", "Am", "El", "Il", "Op", "Em",
	};
	char joined[QUOTE_ATTR_MAX];
	struct line l, one;
	const char *nl;
	size_t n = 0, i;
	int k, lead = 0;

	pos = line_at(buf, len, pos, &l);
	l = trim_left(l);
	for (i = 0; i < G_N_ELEMENTS(leads); i++)
		if (starts(l, leads[i]) && l.n > 2 && is_space(l.s[2]))
			lead = 1;
	if (!lead || l.n >= sizeof(joined))
		return 0;
	memcpy(joined, l.s, l.n);
	n = l.n;
	for (k = 1;; k++) {
		one.s = joined;
		one.n = n;
		if (match_attribution(one))
			return 1;
		if (k == QUOTE_ATTR_LINES || pos > len)
			return 0;
		/* Look no further than the room left: bounded work. */
		l.s = buf + pos;
		nl = memchr(l.s, '\n', MIN(len - pos, sizeof(joined) - n));
		if (nl == NULL && len - pos >= sizeof(joined) - n)
			return 0;
		l.n = nl != NULL ? (size_t)(nl - l.s) : len - pos;
		if (is_empty(l) || n + 1 + l.n >= sizeof(joined))
			return 0;
		joined[n++] = ' ';
		memcpy(joined + n, l.s, l.n);
		n += l.n;
		pos += l.n + 1;
	}
}

/* Matches one of labels at the start of trimmed l, optionally in bold
 * (*From:*): "X :" labels also take U+00A0 for the blank. */
static int
match_label(struct line l, const char *const *labels, size_t nlabels)
{
	size_t i, n;
	const char *lab;

	l = trim_left(l);
	if (l.n > 0 && l.s[0] == '*') {
		l.s++;
		l.n--;
	}
	for (i = 0; i < nlabels; i++) {
		lab = labels[i];
		n = strlen(lab);
		if (starts(l, lab))
			return 1;
		/* "De :" written with a no-break space */
		if (n >= 2 && lab[n - 2] == ' ' && lab[n - 1] == ':' &&
		    l.n >= n + 1 && memcmp(l.s, lab, n - 2) == 0 &&
		    memcmp(l.s + n - 2, "\xc2\xa0:", 3) == 0)
			return 1;
	}
	return 0;
}

static int
is_from(struct line l)
{
	static const char *const from[] = { "From:", "De :", "De:", "Von:" };

	return match_label(l, from, G_N_ELEMENTS(from));
}

static int
is_sent(struct line l)
{
	static const char *const sent[] = {
		"Sent:", "Date:", "Gesendet:", "Envoy\xc3\xa9 :", "Enviado:",
	};

	return match_label(l, sent, G_N_ELEMENTS(sent));
}

/* Whether a Sent:-like line is among the QUOTE_HDR_LINES lines from
 * pos on. */
static int
sent_follows(const char *buf, size_t len, size_t pos)
{
	struct line l;
	int k;

	for (k = 0; k < QUOTE_HDR_LINES && pos <= len; k++) {
		pos = line_at(buf, len, pos, &l);
		if (is_sent(l))
			return 1;
	}
	return 0;
}

/* Matches trimmed l against "--+ *LABEL *--+", LABEL in any ASCII case. */
static int
is_dashed(struct line l, const char *label)
{
	size_t d, n = strlen(label);

	l = trim(l);
	for (d = 0; d < l.n && l.s[d] == '-'; d++)
		;
	if (d < 2)
		return 0;
	l.s += d;
	l.n -= d;
	l = trim_left(l);
	if (!starts_ci(l, label))
		return 0;
	l.s += n;
	l.n -= n;
	l = trim_left(l);
	for (d = 0; d < l.n && l.s[d] == '-'; d++)
		;
	return d >= 2 && d == l.n;
}

static int
is_original(struct line l)
{
	static const char *const labels[] = {
		"Original Message", "Urspr\xc3\xbcngliche Nachricht",
		"Message d'origine", "Message d\xe2\x80\x99origine",
		"Mensaje original",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(labels); i++)
		if (is_dashed(l, labels[i]))
			return 1;
	return 0;
}

static int
is_forward(struct line l)
{
	l = trim(l);
	return is_dashed(l, "Forwarded message") ||
	    (l.n == strlen("Begin forwarded message:") &&
	    starts_ci(l, "Begin forwarded message:"));
}

static int
is_rule(struct line l)
{
	size_t i;

	l = trim(l);
	for (i = 0; i < l.n; i++)
		if (l.s[i] != '_')
			return 0;
	return l.n >= QUOTE_RULE_MIN;
}

#define QUOTE_SKIPS 16	/* bottom-posted attributions dropped, at most */

/* The attribution lines of a bottom-posted reply, to drop, not cut at. */
struct skips {
	size_t from[QUOTE_SKIPS], to[QUOTE_SKIPS];
	int n;
};

static int
is_quoted(struct line l)
{
	l = trim_left(l);
	return l.n > 0 && l.s[0] == '>';
}

/* An attribution at pos followed by '>' lines and then unquoted text is a
 * bottom-post: the author answered below the quote, and cutting there
 * would lose the answer.  Returns the end of the attribution lines when
 * that is so, else 0. */
static size_t
bottom_post(const char *buf, size_t len, size_t pos)
{
	struct line l;
	size_t next = pos, attr_end = 0;
	int quoted = 0;

	/* The attribution: lines up to the first quoted or blank one. */
	for (int k = 0; k < QUOTE_ATTR_LINES && next < len; k++) {
		size_t after = line_at(buf, len, next, &l);

		if (k > 0 && (is_empty(l) || is_quoted(l)))
			break;
		next = after;
		attr_end = next;
	}
	/* Then the quote, blank lines allowed. */
	while (next < len) {
		size_t after = line_at(buf, len, next, &l);

		if (is_quoted(l))
			quoted = 1;
		else if (!is_empty(l))
			break;
		next = after;
	}
	if (!quoted || next >= len)
		return 0;
	/* Text follows: unless it is only a signature. */
	line_at(buf, len, next, &l);
	if ((l.n == 3 && memcmp(l.s, "-- ", 3) == 0) ||
	    (l.n == 2 && memcmp(l.s, "--", 2) == 0))
		return 0;
	return attr_end;
}

/* Step 1: the offset where the history starts, or len.  Attributions of
 * bottom-posted replies are recorded in sk instead. */
static size_t
find_cut(const char *buf, size_t len, struct skips *sk)
{
	struct line l;
	size_t pos, next, rule_at = len, end;
	int after_fwd = 0, has_rule = 0;

	for (pos = 0; pos < len; pos = next) {
		next = line_at(buf, len, pos, &l);
		if (is_empty(l))
			continue;
		if (is_attribution(buf, len, pos)) {
			end = sk->n < QUOTE_SKIPS ? bottom_post(buf, len,
			    pos) : 0;
			if (end == 0)
				return pos;
			sk->from[sk->n] = pos;
			sk->to[sk->n++] = end;
			next = end;
			continue;
		}
		if (is_original(l))
			return pos;
		if (!after_fwd && is_from(l) && sent_follows(buf, len, next))
			return has_rule ? rule_at : pos;
		has_rule = is_rule(l);
		rule_at = pos;
		after_fwd = is_forward(l);
	}
	return len;
}

/* "PREFIX\S" */
static int
prefix_word(struct line l, const char *prefix, int ci)
{
	size_t n = strlen(prefix);

	if (!(ci ? starts_ci(l, prefix) : starts(l, prefix)))
		return 0;
	return l.n > n && !is_space(l.s[n]);
}

/* Step 4. */
static int
is_footer(struct line l)
{
	static const char *const ci[] = {
		"Sent from Mail for Windows", "Sent from Yahoo Mail",
		"Get Outlook for iOS", "Get Outlook for Android",
	};
	size_t i, n;

	l = trim(l);
	for (i = 0; i < G_N_ELEMENTS(ci); i++)
		if (starts_ci(l, ci[i]))
			return 1;
	if (prefix_word(l, "Sent from my ", 1) ||
	    prefix_word(l, "Envoy\xc3\xa9 de mon ", 0) ||
	    prefix_word(l, "Enviado desde mi ", 0))
		return 1;
	/* Von meinem \S+ gesendet */
	if (!prefix_word(l, "Von meinem ", 0))
		return 0;
	for (n = strlen("Von meinem "); n < l.n && !is_space(l.s[n]); n++)
		;
	l.s += n;
	l.n -= n;
	return starts(l, " gesendet");
}

/* Step 5, one line at a time: out is tidy after every call; *blank holds
 * a blank line that only a later line makes real. */
static void
tidy_add(GString *out, int *blank, struct line l)
{
	while (l.n > 0 && is_space(l.s[l.n - 1]))
		l.n--;
	if (l.n == 0) {
		*blank = out->len > 0;
		return;
	}
	if (out->len > 0)
		g_string_append(out, *blank ? "\n\n" : "\n");
	*blank = 0;
	g_string_append_len(out, l.s, l.n);
}

/* Copies text with LF line ends (CRLF and lone CR converted). */
static GString *
normalise(const char *text)
{
	GString *s;
	const char *p;

	s = g_string_sized_new(text != NULL ? strlen(text) : 0);
	for (p = text; p != NULL && *p != '\0'; p++) {
		if (*p != '\r')
			g_string_append_c(s, *p);
		else if (p[1] != '\n')
			g_string_append_c(s, '\n');
	}
	return s;
}

char *
quote_strip(const char *text)
{
	GString *in, *out;
	struct line l, first;
	struct skips sk = { .n = 0 };
	size_t pos, cut;
	int blank = 0;

	in = normalise(text);
	out = g_string_sized_new(in->len);
	cut = find_cut(in->str, in->len, &sk);
	for (pos = 0; pos < cut; ) {
		int skip = 0;

		for (int k = 0; k < sk.n; k++)
			if (pos >= sk.from[k] && pos < sk.to[k])
				skip = 1;
		pos = line_at(in->str, cut, pos, &l);
		if (skip)
			continue;
		first = trim_left(l);
		if (first.n > 0 && first.s[0] == '>')
			continue;
		if ((l.n == 3 && memcmp(l.s, "-- ", 3) == 0) ||
		    (l.n == 2 && memcmp(l.s, "--", 2) == 0))
			break;
		if (is_footer(l))
			continue;
		tidy_add(out, &blank, l);
	}
	g_string_free(in, TRUE);
	return g_string_free(out, FALSE);
}

char *
quote_tidy(const char *text)
{
	GString *in, *out;
	struct line l;
	size_t pos;
	int blank = 0;

	in = normalise(text);
	out = g_string_sized_new(in->len);
	for (pos = 0; pos < in->len; ) {
		pos = line_at(in->str, in->len, pos, &l);
		tidy_add(out, &blank, l);
	}
	g_string_free(in, TRUE);
	return g_string_free(out, FALSE);
}
