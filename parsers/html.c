/*
 * html.c - HTML mail bodies to readable plain text.
 *
 * libxml2's recovering HTML parser builds a tree; one iterative walk renders
 * it line by line.  Finished lines go to a sink that applies the final
 * clean-up as it goes (trailing blanks, one blank line at most, none at
 * either end) and stops at max_out, so the result is always a clean prefix
 * of the unbounded rendering and no step holds more than about max_out
 * bytes of output.
 *
 * Rendering rules:
 *  - script, style, head, title and comments render nothing.
 *  - In normal text, runs of space, tab, CR, LF, FF and U+00A0 are one
 *    space; none at the start or end of a line.
 *  - br ends the line; on an empty line it makes an empty line.
 *  - div, tr, li, hr, pre, dt, dd, address, section, article, header,
 *    footer, center start and end a line.
 *  - p, h1-h6, ul, ol, dl, table, blockquote have one blank line before and
 *    after; a list inside a list only starts and ends a line.
 *  - li: "- " (ul, or no list) or "N. " (ol, from 1 or start=), indented two
 *    spaces per enclosing list beyond the first; its further lines are
 *    indented to its text.
 *  - The cells (td, th) of one row are joined by one TAB; empty leading
 *    cells vanish, empty inner ones keep their TAB.
 *  - a: "text <URL>" for http:, https: and mailto: hrefs whose text differs
 *    from the href (and from the href without "mailto:"), "URL" when the
 *    text is empty, "text" otherwise.
 *  - img: its alt text.
 *  - pre keeps its spaces and line breaks (its first newline is dropped,
 *    as in browsers); U+00A0 becomes a space there too.
 *  - blockquote prefixes its lines with "> " per level; its blank lines
 *    are the bare markers (">", "> >").
 *  - Elements nested deeper than HTML_DEPTH_MAX render as plain inline
 *    containers (still dropping script/style/head/title, still honouring
 *    br and img alt).
 *  - Only the first HTML_ELEMENTS_MAX elements are parsed: the text ends
 *    where the next one would start.
 */
#include "parsers/html.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>

#define HTML_DEPTH_MAX	256		/* deeper: flattened */
#define HTML_CAPTURE_MAX 65536		/* link text kept, bytes */
#define HTML_START_MAX	1000000000L	/* bound of <ol start=> */
#define HTML_ELEMENTS_MAX 50000	/* elements parsed; the rest goes */

enum kind {
	K_INLINE,		/* no line structure */
	K_DROP,			/* content not rendered */
	K_BR,			/* line break */
	K_IMG,			/* alt text */
	K_LINE,			/* starts and ends a line */
	K_PARA,			/* one blank line before and after */
};

enum role {
	R_NONE,
	R_A,
	R_CELL,
	R_LI,
	R_OL,
	R_PRE,
	R_QUOTE,
	R_TR,
	R_UL,
};

static const struct tag {
	const char	*name;
	unsigned char	 kind;
	unsigned char	 role;
} tags[] = {			/* sorted by name, for bsearch() */
	{ "a",		K_INLINE,	R_A },
	{ "address",	K_LINE,		R_NONE },
	{ "article",	K_LINE,		R_NONE },
	{ "blockquote",	K_PARA,		R_QUOTE },
	{ "br",		K_BR,		R_NONE },
	{ "center",	K_LINE,		R_NONE },
	{ "dd",		K_LINE,		R_NONE },
	{ "div",	K_LINE,		R_NONE },
	{ "dl",		K_PARA,		R_NONE },
	{ "dt",		K_LINE,		R_NONE },
	{ "footer",	K_LINE,		R_NONE },
	{ "h1",		K_PARA,		R_NONE },
	{ "h2",		K_PARA,		R_NONE },
	{ "h3",		K_PARA,		R_NONE },
	{ "h4",		K_PARA,		R_NONE },
	{ "h5",		K_PARA,		R_NONE },
	{ "h6",		K_PARA,		R_NONE },
	{ "head",	K_DROP,		R_NONE },
	{ "header",	K_LINE,		R_NONE },
	{ "hr",		K_LINE,		R_NONE },
	{ "img",	K_IMG,		R_NONE },
	{ "li",		K_LINE,		R_LI },
	{ "ol",		K_PARA,		R_OL },
	{ "p",		K_PARA,		R_NONE },
	{ "pre",	K_LINE,		R_PRE },
	{ "script",	K_DROP,		R_NONE },
	{ "section",	K_LINE,		R_NONE },
	{ "style",	K_DROP,		R_NONE },
	{ "table",	K_PARA,		R_NONE },
	{ "td",		K_INLINE,	R_CELL },
	{ "th",		K_INLINE,	R_CELL },
	{ "title",	K_DROP,		R_NONE },
	{ "tr",		K_LINE,		R_TR },
	{ "ul",		K_PARA,		R_UL },
};

/* What an open element must undo or finish when it closes. */
struct frame {
	const struct tag *tag;		/* NULL: no rendering rule */
	int	 kind;			/* nested lists are K_LINE */
	size_t	 cap_start;		/* R_A: its text's offset */
	int	 cells;			/* R_TR: outer row's cells */
};

struct render {
	/* The sink: the cleaned output. */
	GString	*out;
	size_t	 max_out;
	int	 full;			/* out is final: stop */
	size_t	 nlines;		/* text lines in out */
	int	 blank;			/* a blank line is pending */
	int	 blank_depth;		/* ... at this quote depth */
	int	 prev_depth;		/* last line's quote depth */

	/* The line being built: indentation, marker, text; no "> ". */
	GString	*line;
	size_t	 line_max;		/* bytes kept of one line */
	int	 started;		/* the line holds text */
	int	 line_depth;		/* quote depth at its start */
	int	 lost;			/* text lost past line_max */
	int	 ws;			/* a space is due before text */
	int	 tabs;			/* cell TABs due before text */
	int	 blank_req;		/* a blank line is due */
	int	 blank_req_depth;	/* ... at this quote depth */

	/* Context. */
	int	 quote;			/* open blockquotes */
	int	 pre;			/* open pre elements */
	int	 items;			/* open li elements */
	int	 nlists;		/* open ul/ol elements */
	struct {
		int	 ordered;
		long	 next;		/* next ol number */
	}	 lists[HTML_DEPTH_MAX];
	int	 cells;			/* cells so far in this row */
	char	 marker[32];		/* li marker due at next line */
	int	 marker_set;
	GString	*cap;			/* text of open anchors */
	int	 anchors;		/* open a elements */
	int	 cap_over;		/* cap overflowed */
	struct frame frames[HTML_DEPTH_MAX];
};

/* Marks (node->_private) the p elements libxml2 implies around text that
 * is in no element, as in a fragment starting with text: they are no
 * paragraphs of the author's. */
static const char implied_p = 'p';

/* The startElement of the parser: a p is implied when its start tag is
 * not the last '<' before the parser's position (a '<' inside an
 * attribute value of a real <p> makes it count as implied: harmless). */
static void
sax_start_element(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	htmlParserCtxtPtr ctxt = ctx;
	const xmlChar *p, *base;
	size_t *elements = ctxt->_private;

	/* libxml2 holds the whole tree, 300-400 bytes an element with its
	 * text: 4 MiB of "<b>x</b>" would take 160 MB, 50,000 elements take
	 * 20 MB.  The text before the cut is kept. */
	if (++*elements > HTML_ELEMENTS_MAX) {
		xmlStopParser(ctxt);
		return;
	}
	xmlSAX2StartElement(ctx, name, atts);
	if (!xmlStrEqual(name, (const xmlChar *)"p") || ctxt->node == NULL ||
	    ctxt->input == NULL || ctxt->input->cur == NULL)
		return;
	base = ctxt->input->base;
	p = ctxt->input->cur;
	while (p > base && *p != '<')
		p--;
	if (*p == '<' && (p[1] == 'p' || p[1] == 'P') &&
	    (p[2] == '>' || p[2] == '/' || g_ascii_isspace(p[2])))
		return;
	ctxt->node->_private = (void *)&implied_p;
}

static int
tag_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct tag *)elem)->name);
}

/* The rule of element n; libxml2 gives names in lower case. */
static const struct tag *
tag_find(const xmlNode *n)
{
	if (n->name == NULL || n->_private == &implied_p)
		return NULL;
	return bsearch(n->name, tags, G_N_ELEMENTS(tags), sizeof(tags[0]),
	    tag_cmp);
}

/* Length of the whitespace character at s[i] (0 if none): the collapsing
 * set of normal text, U+00A0 included. */
static size_t
ws_len(const char *s, size_t n, size_t i)
{
	switch (s[i]) {
	case ' ':
	case '\t':
	case '\r':
	case '\n':
	case '\f':
		return 1;
	case '\xc2':
		return i + 1 < n && s[i + 1] == '\xa0' ? 2 : 0;
	default:
		return 0;
	}
}

static void
append_blank(GString *out, int depth)
{
	int d;

	for (d = 0; d < depth; d++)
		g_string_append(out, d ? " >" : ">");
}

/* The bound was passed by the line that starts at base (its separator
 * included) and whose text starts at at (after indentation): cut at
 * max_out on a character boundary, dropping the line whole when none of
 * its text fits. */
static void
sink_truncate(struct render *r, size_t base, size_t at)
{
	GString *o = r->out;
	size_t cut = r->max_out;

	while (cut > at && ((unsigned char)o->str[cut] & 0xc0) == 0x80)
		cut--;
	if (cut <= at)
		cut = base;
	while (cut > 0 && (o->str[cut - 1] == ' ' || o->str[cut - 1] == '\t'))
		cut--;
	g_string_truncate(o, cut);
	r->full = 1;
}

static void
sink_blank(struct render *r, int depth)
{
	if (r->nlines == 0)
		return;
	if (!r->blank || depth < r->blank_depth)
		r->blank_depth = depth;
	r->blank = 1;
}

/* Takes one finished line of quote depth depth; lost says text past the
 * line bound was dropped, so the bound is reached. */
static void
sink_line(struct render *r, int depth, const char *s, size_t n, int lost)
{
	size_t base, at;
	int d;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 && lost)
		r->full = 1;	/* its text lies past the bound */
	if (n == 0) {
		sink_blank(r, depth);
		return;
	}
	if (r->full)
		return;
	base = r->out->len;
	if (r->nlines > 0) {
		g_string_append_c(r->out, '\n');
		if (r->blank) {
			d = MIN(MIN(r->blank_depth, r->prev_depth), depth);
			append_blank(r->out, d);
			g_string_append_c(r->out, '\n');
		}
	}
	r->blank = 0;
	for (d = 0; d < depth; d++)
		g_string_append(r->out, "> ");
	at = r->out->len + strspn(s, " \t");
	g_string_append_len(r->out, s, n);
	r->nlines++;
	r->prev_depth = depth;
	if (r->out->len > r->max_out)
		sink_truncate(r, base, at);
	else if (lost)
		r->full = 1;
}

/* Appends to the line within line_max; remembers dropped text. */
static void
line_add(struct render *r, const char *s, size_t n)
{
	size_t room, i;

	room = r->line->len < r->line_max ? r->line_max - r->line->len : 0;
	if (n > room) {
		for (i = room; i < n && !r->lost; i++)
			if (s[i] != ' ' && s[i] != '\t')
				r->lost = 1;
		n = room;
	}
	g_string_append_len(r->line, s, n);
}

static void
line_end(struct render *r)
{
	if (r->started)
		sink_line(r, r->line_depth, r->line->str, r->line->len,
		    r->lost);
	g_string_truncate(r->line, 0);
	r->started = 0;
	r->lost = 0;
	r->ws = 0;
	r->tabs = 0;
}

/* Asks for a blank line before the next text, at the current depth. */
static void
blank_request(struct render *r)
{
	if (!r->blank_req || r->quote < r->blank_req_depth)
		r->blank_req_depth = r->quote;
	r->blank_req = 1;
}

static void
blank_flush(struct render *r)
{
	if (r->blank_req)
		sink_blank(r, r->blank_req_depth);
	r->blank_req = 0;
}

static void
line_begin(struct render *r)
{
	int indent, i;

	blank_flush(r);
	r->line_depth = r->quote;
	if (r->marker_set)
		indent = r->nlists > 0 ? 2 * (r->nlists - 1) : 0;
	else
		indent = 2 * r->items;
	for (i = 0; i < indent; i++)
		line_add(r, " ", 1);
	if (r->marker_set)
		line_add(r, r->marker, strlen(r->marker));
	r->marker_set = 0;
	r->started = 1;
	r->ws = 0;
	r->tabs = 0;
}

/* A line break: ends the line, or makes an empty one. */
static void
line_break(struct render *r)
{
	if (r->started) {
		line_end(r);
		return;
	}
	blank_flush(r);
	sink_blank(r, r->quote);
}

/* Appends s as text, after the space or cell TABs that are due. */
static void
put_bytes(struct render *r, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (!r->started)
		line_begin(r);
	else if (r->tabs > 0)
		for (; r->tabs > 0; r->tabs--)
			line_add(r, "\t", 1);
	else if (r->ws)
		line_add(r, " ", 1);
	r->tabs = 0;
	r->ws = 0;
	line_add(r, s, n);
}

static void
cap_add(struct render *r, const char *s, size_t n)
{
	if (r->anchors == 0)
		return;
	if (r->cap->len + n > HTML_CAPTURE_MAX) {
		r->cap_over = 1;
		return;
	}
	g_string_append_len(r->cap, s, n);
}

/* Records a space in the anchor text, one per run. */
static void
cap_ws(struct render *r)
{
	if (r->anchors > 0 && r->cap->len > 0 &&
	    r->cap->str[r->cap->len - 1] != ' ')
		cap_add(r, " ", 1);
}

static void
put_text(struct render *r, const char *s, size_t n)
{
	size_t i = 0, j, w;

	while (i < n) {
		if ((w = ws_len(s, n, i)) > 0) {
			if (r->started)
				r->ws = 1;
			cap_ws(r);
			i += w;
			continue;
		}
		for (j = i + 1; j < n && ws_len(s, n, j) == 0; j++)
			;
		put_bytes(r, s + i, j - i);
		cap_add(r, s + i, j - i);
		i = j;
	}
}

static void
put_pre(struct render *r, const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		if (s[i] == '\r' || s[i] == '\n') {
			if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
			line_break(r);
			cap_ws(r);
			i++;
			continue;
		}
		if (ws_len(s, n, i) == 2) {
			put_bytes(r, " ", 1);
			cap_add(r, " ", 1);
			i += 2;
			continue;
		}
		for (j = i + 1; j < n && s[j] != '\r' && s[j] != '\n' &&
		    ws_len(s, n, j) != 2; j++)
			;
		put_bytes(r, s + i, j - i);
		cap_add(r, s + i, j - i);
		i = j;
	}
}

static int
has_prefix_ci(const char *s, const char *prefix)
{
	return g_ascii_strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Renders the end of anchor n, whose text starts at f->cap_start. */
static void
link_close(struct render *r, xmlNode *n, const struct frame *f)
{
	xmlChar *href;
	char *url = NULL;
	const char *text;
	size_t tlen, ulen, i;
	int differs;

	r->anchors--;
	href = xmlGetProp(n, (const xmlChar *)"href");
	if (href == NULL)
		goto done;
	/* As URL parsers do: no surrounding whitespace, no tab/CR/LF. */
	url = g_malloc(strlen((char *)href) + 1);
	for (ulen = 0, i = 0; href[i] != '\0'; i++)
		if (href[i] != '\t' && href[i] != '\r' && href[i] != '\n')
			url[ulen++] = (char)href[i];
	url[ulen] = '\0';
	g_strstrip(url);
	ulen = strlen(url);
	if (!has_prefix_ci(url, "http://") && !has_prefix_ci(url, "https://") &&
	    !has_prefix_ci(url, "mailto:"))
		goto done;

	text = r->cap->str + f->cap_start;
	tlen = r->cap->len - f->cap_start;
	while (tlen > 0 && *text == ' ') {
		text++;
		tlen--;
	}
	while (tlen > 0 && text[tlen - 1] == ' ')
		tlen--;
	if (tlen == 0 && !r->cap_over) {
		put_bytes(r, url, ulen);
		goto done;
	}
	differs = r->cap_over ||
	    !((tlen == ulen && memcmp(text, url, ulen) == 0) ||
	    (has_prefix_ci(url, "mailto:") && tlen == ulen - 7 &&
	    memcmp(text, url + 7, tlen) == 0));
	if (!differs)
		goto done;
	if (r->started) {
		r->tabs = 0;
		r->ws = 1;
	}
	put_bytes(r, "<", 1);
	line_add(r, url, ulen);
	line_add(r, ">", 1);

done:
	if (r->anchors == 0) {
		g_string_truncate(r->cap, 0);
		r->cap_over = 0;
	}
	xmlFree(href);
	g_free(url);
}

static void
img_alt(struct render *r, xmlNode *n)
{
	xmlChar *alt;

	alt = xmlGetProp(n, (const xmlChar *)"alt");
	if (alt != NULL)
		put_text(r, (const char *)alt, strlen((const char *)alt));
	xmlFree(alt);
}

static long
ol_start(xmlNode *n)
{
	xmlChar *v;
	char *end;
	long start = 1;

	v = xmlGetProp(n, (const xmlChar *)"start");
	if (v == NULL)
		return 1;
	start = strtol((const char *)v, &end, 10);
	if (end == (char *)v)
		start = 1;
	start = CLAMP(start, -HTML_START_MAX, HTML_START_MAX);
	xmlFree(v);
	return start;
}

/* Opens element n at depth; returns 1 when its children are to be
 * rendered (element_close() then follows), 0 when it is done. */
static int
element_open(struct render *r, xmlNode *n, size_t depth)
{
	const struct tag *t = tag_find(n);
	struct frame *f;

	if (t != NULL && t->kind == K_DROP)
		return 0;
	if (t != NULL && t->kind == K_BR) {
		line_break(r);
		return 0;
	}
	if (t != NULL && t->kind == K_IMG) {
		img_alt(r, n);
		return 0;
	}
	if (depth >= HTML_DEPTH_MAX)
		return 1;

	f = &r->frames[depth];
	memset(f, 0, sizeof(*f));
	f->tag = t;
	if (t == NULL)
		return 1;
	f->kind = t->kind;
	if ((t->role == R_UL || t->role == R_OL) && r->nlists > 0)
		f->kind = K_LINE;
	if (f->kind == K_LINE || f->kind == K_PARA)
		line_end(r);
	if (f->kind == K_PARA)
		blank_request(r);

	switch (t->role) {
	case R_A:
		f->cap_start = r->cap->len;
		r->anchors++;
		break;
	case R_CELL:
		if (r->cells++ > 0)
			r->tabs++;
		break;
	case R_LI:
		r->items++;
		if (r->nlists > 0 && r->lists[r->nlists - 1].ordered)
			g_snprintf(r->marker, sizeof(r->marker), "%ld. ",
			    r->lists[r->nlists - 1].next++);
		else
			g_strlcpy(r->marker, "- ", sizeof(r->marker));
		r->marker_set = 1;
		break;
	case R_OL:
	case R_UL:
		r->lists[r->nlists].ordered = t->role == R_OL;
		r->lists[r->nlists].next = t->role == R_OL ? ol_start(n) : 1;
		r->nlists++;
		break;
	case R_PRE:
		r->pre++;
		break;
	case R_QUOTE:
		r->quote++;
		break;
	case R_TR:
		f->cells = r->cells;
		r->cells = 0;
		break;
	}
	return 1;
}

static void
element_close(struct render *r, xmlNode *n, size_t depth)
{
	struct frame *f;

	if (depth >= HTML_DEPTH_MAX)
		return;
	f = &r->frames[depth];
	if (f->tag == NULL)
		return;
	if (f->kind == K_LINE || f->kind == K_PARA)
		line_end(r);
	switch (f->tag->role) {
	case R_A:
		link_close(r, n, f);
		break;
	case R_LI:
		r->items--;
		r->marker_set = 0;
		break;
	case R_OL:
	case R_UL:
		r->nlists--;
		break;
	case R_PRE:
		r->pre--;
		break;
	case R_QUOTE:
		r->quote--;
		break;
	case R_TR:
		r->cells = f->cells;
		break;
	}
	if (f->kind == K_PARA)
		blank_request(r);
}

static void
text_node(struct render *r, xmlNode *n, size_t depth)
{
	const char *s = (const char *)n->content;
	size_t len;

	if (s == NULL)
		return;
	len = strlen(s);
	if (r->pre == 0) {
		put_text(r, s, len);
		return;
	}
	/* A newline right after <pre> is markup, not text (HTML 4.01
	 * B.3.1; browsers agree). */
	if (n->prev == NULL && depth > 0 && depth - 1 < HTML_DEPTH_MAX &&
	    r->frames[depth - 1].tag != NULL &&
	    r->frames[depth - 1].tag->role == R_PRE) {
		if (len > 0 && s[0] == '\r') {
			s++;
			len--;
		}
		if (len > 0 && s[0] == '\n') {
			s++;
			len--;
		}
	}
	put_pre(r, s, len);
}

/* Renders the tree below doc without recursion; stops once out is final. */
static void
walk(struct render *r, xmlDoc *doc)
{
	xmlNode *n = doc->children;
	size_t depth = 0;

	while (n != NULL && !r->full) {
		switch (n->type) {
		case XML_ELEMENT_NODE:
			if (!element_open(r, n, depth))
				break;
			if (n->children != NULL) {
				depth++;
				n = n->children;
				continue;
			}
			element_close(r, n, depth);
			break;
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			text_node(r, n, depth);
			break;
		default:
			break;
		}
		while (n != NULL && n->next == NULL) {
			if (depth == 0) {
				n = NULL;
				break;
			}
			n = n->parent;
			depth--;
			element_close(r, n, depth);
		}
		if (n != NULL)
			n = n->next;
	}
}

static void
render_free(struct render *r)
{
	if (r == NULL)
		return;
	if (r->out != NULL)
		g_string_free(r->out, TRUE);
	g_string_free(r->line, TRUE);
	g_string_free(r->cap, TRUE);
	g_free(r);
}

char *
html_to_text(const char *html, size_t len, size_t max_out)
{
	static gsize xml_ready;
	htmlParserCtxtPtr ctxt = NULL;
	xmlDoc *doc = NULL;
	struct render *r = NULL;
	char *valid = NULL, *res = NULL;
	const char *end;
	size_t elements = 0;

	if (html == NULL || len == 0 || max_out == 0)
		goto done;
	/* Room for g_utf8_make_valid() to grow it within libxml2's int. */
	if (len > INT_MAX / 3)
		len = INT_MAX / 3;
	/* Invalid bytes and NULs become U+FFFD, so libxml2 neither stops
	 * nor guesses another charset halfway. */
	valid = g_utf8_make_valid(html, (gssize)len);

	/* libxml2 2.9 wants its first initialisation done by one thread. */
	if (g_once_init_enter(&xml_ready)) {
		xmlInitParser();
		g_once_init_leave(&xml_ready, 1);
	}
	ctxt = htmlNewParserCtxt();
	if (ctxt == NULL)
		goto done;
	/* Keep every blank text node: spacing between inline elements. */
	ctxt->sax->ignorableWhitespace = xmlSAX2Characters;
	ctxt->sax->startElement = sax_start_element;
	ctxt->_private = &elements;
	/* XML_PARSE_HUGE: without it libxml2 stops reading at depth 256 and
	 * loses the rest of the document; the walk needs no depth limit. */
	doc = htmlCtxtReadMemory(ctxt, valid, (int)strlen(valid), NULL,
	    "UTF-8", HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
	    HTML_PARSE_NOWARNING | HTML_PARSE_NONET | XML_PARSE_HUGE);
	if (doc == NULL)
		goto done;

	r = g_new0(struct render, 1);
	r->out = g_string_new(NULL);
	r->line = g_string_new(NULL);
	r->cap = g_string_new(NULL);
	r->max_out = max_out;
	r->line_max = max_out < SIZE_MAX - 64 ? max_out + 64 : SIZE_MAX;
	walk(r, doc);
	line_end(r);
	res = g_string_free(r->out, FALSE);
	r->out = NULL;

done:
	if (res == NULL)
		res = g_strdup("");
	/* libxml2 emits UTF-8 only; keep the promise even if it did not. */
	if (!g_utf8_validate(res, -1, &end))
		res[end - res] = '\0';
	render_free(r);
	xmlFreeDoc(doc);
	if (ctxt != NULL)
		htmlFreeParserCtxt(ctxt);
	g_free(valid);
	return res;
}
