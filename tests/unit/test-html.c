/*
 * test-html.c - html_to_text() against its rendering rules, and the HTML
 * replies of real clients through html_to_text() and quote_strip().
 */
#include <string.h>

#include <glib.h>
#include <libxml/parser.h>

#include "parsers/html.h"
#include "parsers/quote.h"
#include "tests/unit/tap.h"

#define OUT_MAX	(1024 * 1024)

struct row {
	const char	*name;
	const char	*input;
	const char	*expected;
};

static const struct row rows[] = {
	{ "empty input", "", "" },
	{ "plain text", "Hello world", "Hello world" },
	{ "whitespace runs and no-break spaces collapse",
	    "  a \t b\n\n c&nbsp;&nbsp;d \xc2\xa0 ", "a b c d" },
	{ "head, title, style, script and comments dropped",
	    "<html><head><title>T</title><style>p{color:red}</style></head>"
	    "<body><script>var x = 1;</script>Hi<!-- hidden --> there"
	    "<style>.x{}</style></body></html>",
	    "Hi there" },
	{ "br breaks lines, two make a blank line",
	    "a<br>b<br><br>c<br>", "a\nb\n\nc" },
	{ "div starts and ends a line, empty div with br is a blank line",
	    "<div>a</div><div>b</div>text<div><br></div><div>c</div>",
	    "a\nb\ntext\n\nc" },
	{ "line elements",
	    "x<hr>y<section>s</section><article>a</article><header>h</header>"
	    "<footer>f</footer><address>ad</address><center>c</center>z",
	    "x\ny\ns\na\nh\nf\nad\nc\nz" },
	{ "dl is a paragraph, dt and dd are lines",
	    "x<dl><dt>term</dt><dd>definition</dd></dl>z",
	    "x\n\nterm\ndefinition\n\nz" },
	{ "paragraphs and headings get one blank line",
	    "<p>one</p><p>two</p>three<h1>Title</h1><h6>Small</h6>end",
	    "one\n\ntwo\n\nthree\n\nTitle\n\nSmall\n\nend" },
	{ "blank lines never repeat, none first or last",
	    "<br><p></p><p>a</p><br><br><br><p>b</p><br><br>", "a\n\nb" },
	{ "ul items", "<p>Items:</p><ul><li>one</li><li>two</li></ul>after",
	    "Items:\n\n- one\n- two\n\nafter" },
	{ "ol items", "<ol><li>a</li><li>b</li></ol>", "1. a\n2. b" },
	{ "ol start attribute", "<ol start=\"7\"><li>a</li><li>b</li></ol>",
	    "7. a\n8. b" },
	{ "nested lists indent two spaces per level",
	    "<ul><li>a<ul><li>b</li><li>c<ol><li>x</li></ol></li></ul></li>"
	    "<li>d<ol><li>e</li></ol></li></ul>",
	    "- a\n  - b\n  - c\n    1. x\n- d\n  1. e" },
	{ "li outside a list", "<li>x</li><li>y</li>", "- x\n- y" },
	{ "li continuation lines align with the item text",
	    "<ul><li>first<br>second</li></ul>", "- first\n  second" },
	{ "table cells joined by one TAB",
	    "<table><tr><th>Name</th><th>Qty</th></tr>"
	    "<tr><td>Apple</td><td> 3 </td></tr></table>",
	    "Name\tQty\nApple\t3" },
	{ "empty cells: no leading or trailing TAB",
	    "<table><tr><td></td><td>b</td><td></td><td>d</td><td></td></tr>"
	    "</table>",
	    "b\t\td" },
	{ "table is a paragraph",
	    "before<table><tr><td>a</td><td>b</td></tr></table>after",
	    "before\n\na\tb\n\nafter" },
	{ "link text differs from href",
	    "See <a href=\"https://x.example/a?b=1&amp;c=2\">the page</a>.",
	    "See the page <https://x.example/a?b=1&c=2>." },
	{ "link text equals href",
	    "<a href=\"https://x.example/\"> https://x.example/ </a>",
	    "https://x.example/" },
	{ "mailto text equals the address",
	    "<a href=\"mailto:bob@x.example\">bob@x.example</a>",
	    "bob@x.example" },
	{ "mailto with a name, any case of scheme",
	    "<a href=\"MAILTO:bob@x.example\">Bob</a> and "
	    "<a href=\"HTTP://x.example/\">X</a>",
	    "Bob <MAILTO:bob@x.example> and X <HTTP://x.example/>" },
	{ "other hrefs render the text only",
	    "<a href=\"javascript:go()\">Go</a> <a href=\"/rel\">rel</a> "
	    "<a name=\"top\">anchor</a> <a href=\"ftp://x.example/\">ftp</a>",
	    "Go rel anchor ftp" },
	{ "link with empty text renders the bare URL",
	    "see <a href=\"https://x.example/t\"></a> now",
	    "see https://x.example/t now" },
	{ "link around an image uses its alt as text",
	    "<a href=\"https://x.example/\"><img src=\"logo.png\" alt=\"ACME\">"
	    "</a>",
	    "ACME <https://x.example/>" },
	{ "img alt, or nothing",
	    "a<img src=\"x.png\">b <img alt=\"[logo]\"> c", "ab [logo] c" },
	{ "pre keeps whitespace and line breaks",
	    "<p>code:</p><pre>\nint  x;\n\tif (x)\n   y();\n</pre>done",
	    "code:\n\nint  x;\n\tif (x)\n   y();\ndone" },
	{ "pre blank lines follow the final clean-up",
	    "<pre>a   \n\n\n\nb\xc2\xa0\xc2\xa0" "c</pre>", "a\n\nb  c" },
	{ "entities",
	    "&lt;b&gt; &amp; &eacute; &#8364; &#x41; &quot;q&quot; "
	    "a&nbsp;b &unknown;",
	    "<b> & \xc3\xa9 \xe2\x82\xac A \"q\" a b &unknown;" },
	{ "blockquote prefixes lines, blank lines inside become >",
	    "<p>intro</p><blockquote><p>a</p><p>b</p></blockquote><p>end</p>",
	    "intro\n\n> a\n>\n> b\n\nend" },
	{ "nested blockquotes",
	    "<blockquote>x<blockquote>y<br><br>w</blockquote>z</blockquote>",
	    "> x\n>\n> > y\n> >\n> > w\n>\n> z" },
	{ "sibling blockquotes are separated by an unquoted blank line",
	    "<blockquote>a</blockquote><blockquote>b</blockquote>",
	    "> a\n\n> b" },
	{ "list and pre inside a blockquote",
	    "<blockquote><ul><li>a</li></ul><pre> x\n y</pre></blockquote>",
	    "> - a\n>\n>  x\n>  y" },
	{ "malformed HTML: unclosed tags",
	    "<div><p>Hello <b>world<p>next<div>x<table><tr><td>c1<td>c2",
	    "Hello world\n\nnext\n\nx\n\nc1\tc2" },
	{ "stray closing tags and attributes without quotes",
	    "</p></div>a<br/>b<p class=x>c</span></b>", "a\nb\n\nc" },
	{ "fragment starting with text: no implied paragraph",
	    "Hello<br>world<div>x</div>&nbsp;y<div>z</div>",
	    "Hello\nworld\nx\ny\nz" },
	{ "text after </head>: no implied paragraph",
	    "<html><head><title>t</title></head>text<div>x</div></html>",
	    "text\nx" },
	{ "space between inline elements kept",
	    "<b>a</b> <i>b</i> <img alt=\"c\"> <img alt=\"d\"><span>e</span>",
	    "a b c de" },
	{ "CRLF line ends",
	    "<p>a\r\nb</p>\r\n<pre>x\r\ny\r\n</pre>", "a b\n\nx\ny" },
	{ "Outlook HTML reply",
	    "<html><head><style>p.MsoNormal{margin:0}</style></head><body>"
	    "<div>Thanks, will do.</div><div><br></div>"
	    "<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">"
	    "<div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri\" "
	    "color=\"#000000\"><b>From:</b> Bob &lt;bob@x.example&gt;<br>"
	    "<b>Sent:</b> Monday, January 8, 2024 10:02 AM<br>"
	    "<b>To:</b> Alice &lt;alice@y.example&gt;<br>"
	    "<b>Subject:</b> Re: hi</font><div>&nbsp;</div></div>"
	    "<div><p class=\"MsoNormal\">old text<o:p></o:p></p></div>"
	    "</body></html>",
	    "Thanks, will do.\n\nFrom: Bob <bob@x.example>\n"
	    "Sent: Monday, January 8, 2024 10:02 AM\n"
	    "To: Alice <alice@y.example>\nSubject: Re: hi\n\nold text" },
};

/* HTML replies of real clients: html_to_text(), then quote_strip(). */
static const struct row replies[] = {
	{ "Gmail reply",
	    "<div dir=\"ltr\">Thanks!</div><br><div class=\"gmail_quote\">"
	    "<div class=\"gmail_attr\">On Mon, Jan 8, 2024 at 10:02 AM Bob "
	    "&lt;bob@x.example&gt; wrote:<br></div><blockquote "
	    "class=\"gmail_quote\">old</blockquote></div>",
	    "Thanks!" },
	{ "Outlook reply (divRplyFwdMsg after hr)",
	    "<div>Thanks, will do.</div><hr tabindex=\"-1\">"
	    "<div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>From:</b> Bob "
	    "&lt;bob@x.example&gt;<br><b>Sent:</b> Monday, January 8, 2024 "
	    "10:02 AM<br><b>To:</b> Alice<br><b>Subject:</b> Re: hi</div>"
	    "<div>old text</div>",
	    "Thanks, will do." },
	{ "Apple Mail reply (attribution inside blockquote type=cite)",
	    "<html><head><meta http-equiv=\"content-type\" "
	    "content=\"text/html; charset=utf-8\"></head><body dir=\"auto\">"
	    "Sounds good.<br><br><div dir=\"ltr\">Sent from my iPhone</div>"
	    "<div dir=\"ltr\"><br><blockquote type=\"cite\">On Jan 8, 2024, "
	    "at 10:02, Bob &lt;bob@x.example&gt; wrote:<br><br></blockquote>"
	    "</div><blockquote type=\"cite\"><div dir=\"ltr\">old</div>"
	    "</blockquote></body></html>",
	    "Sounds good." },
	{ "Thunderbird reply (moz-cite-prefix, signature)",
	    "<p>Thanks, Bob.</p><pre class=\"moz-signature\" cols=\"72\">-- \n"
	    "Alice</pre><div class=\"moz-cite-prefix\">On 1/8/24 10:02 AM, "
	    "Bob wrote:<br></div><blockquote type=\"cite\" "
	    "cite=\"mid:1@x.example\"><p>old</p></blockquote>",
	    "Thanks, Bob." },
	{ "Thunderbird bottom-post without attribution",
	    "<blockquote type=\"cite\">Can you ship?</blockquote>"
	    "<p>Yes, tomorrow.</p>",
	    "Yes, tomorrow." },
	{ "Gmail reply with a link and a list",
	    "<div dir=\"ltr\"><div>Done:</div><ul><li>the <a "
	    "href=\"https://x.example/t/1\">ticket</a></li></ul></div><br>"
	    "<div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">"
	    "On Mon, Jan 8, 2024 at 10:02 AM Bob Example &lt;"
	    "bob.example@x.example&gt;<br>wrote:<br></div><blockquote>old"
	    "</blockquote></div>",
	    "Done:\n\n- the ticket <https://x.example/t/1>" },
};

/* The rendering as the intermediate step of the client replies. */
static const struct row replies_text[] = {
	{ "Gmail reply renders",
	    NULL,
	    "Thanks!\n\nOn Mon, Jan 8, 2024 at 10:02 AM Bob <bob@x.example> "
	    "wrote:\n\n> old" },
	{ "Outlook reply renders",
	    NULL,
	    "Thanks, will do.\nFrom: Bob <bob@x.example>\n"
	    "Sent: Monday, January 8, 2024 10:02 AM\nTo: Alice\n"
	    "Subject: Re: hi\nold text" },
	{ "Apple Mail reply renders",
	    NULL,
	    "Sounds good.\n\nSent from my iPhone\n\n> On Jan 8, 2024, at "
	    "10:02, Bob <bob@x.example> wrote:\n\n> old" },
	{ "Thunderbird reply renders",
	    NULL,
	    "Thanks, Bob.\n\n--\nAlice\nOn 1/8/24 10:02 AM, Bob wrote:\n\n"
	    "> old" },
};

struct bounded {
	const char	*name;
	const char	*input;
	size_t		 max_out;
	const char	*expected;
};

static const struct bounded bounded[] = {
	{ "max_out 0", "abc", 0, "" },
	{ "bound inside a word", "abcdef", 4, "abcd" },
	{ "bound exactly at the end", "abcdef", 6, "abcdef" },
	{ "no split UTF-8 character", "aa\xc3\xa9z", 3, "aa" },
	{ "no split 4-byte character", "a\xf0\x9f\x98\x80z", 4, "a" },
	{ "no trailing space after the cut", "ab cd", 3, "ab" },
	{ "no dangling blank line or quote marker",
	    "<p>a</p><blockquote>b</blockquote>", 5, "a" },
	{ "cut inside a later line", "<p>one</p><p>two three</p>", 9,
	    "one\n\ntwo" },
	{ "a line cut inside its indentation is dropped",
	    "<ul><li>a<br>bcd</li></ul>", 6, "- a" },
	{ "huge pre line is cut, later lines are not added",
	    "<pre>abc                                        d\nnext</pre>", 10,
	    "abc" },
};

static void
run_rows(void)
{
	size_t i;
	char *got;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		got = html_to_text(rows[i].input, strlen(rows[i].input),
		    OUT_MAX);
		is_str(got, rows[i].expected, rows[i].name);
		g_free(got);
	}
}

static void
run_replies(void)
{
	size_t i;
	char *text, *got;

	G_STATIC_ASSERT(G_N_ELEMENTS(replies_text) <= G_N_ELEMENTS(replies));
	for (i = 0; i < G_N_ELEMENTS(replies); i++) {
		text = html_to_text(replies[i].input, strlen(replies[i].input),
		    OUT_MAX);
		if (i < G_N_ELEMENTS(replies_text))
			is_str(text, replies_text[i].expected,
			    replies_text[i].name);
		got = quote_strip(text);
		is_str(got, replies[i].expected, replies[i].name);
		g_free(got);
		g_free(text);
	}
}

static void
run_bounded(void)
{
	size_t i;
	char *got;

	for (i = 0; i < G_N_ELEMENTS(bounded); i++) {
		got = html_to_text(bounded[i].input, strlen(bounded[i].input),
		    bounded[i].max_out);
		is_str(got, bounded[i].expected, bounded[i].name);
		g_free(got);
	}
}

static char *
nest(const char *open, const char *text, const char *close, int times)
{
	GString *s = g_string_new(NULL);
	int i;

	for (i = 0; i < times; i++)
		g_string_append(s, open);
	g_string_append(s, text);
	for (i = 0; i < times; i++)
		g_string_append(s, close);
	return g_string_free(s, FALSE);
}

/* 300 nested blockquotes: the quote depth stops at the depth cap, and the
 * text below it is still rendered, with the capped prefix. */
static void
run_deep_quotes(void)
{
	char *html, *got, *prefix, *want;
	const char *p;
	int n, i;

	html = nest("<blockquote><div>", "x<br>y", "</div></blockquote>", 300);
	got = html_to_text(html, strlen(html), OUT_MAX);
	for (n = 0, p = got; *p == '>' && p[1] == ' '; p += 2)
		n++;
	prefix = g_strnfill(2 * (gsize)n, ' ');
	for (i = 0; i < n; i++)
		prefix[2 * i] = '>';
	want = g_strconcat(prefix, "x\n", prefix, "y", NULL);
	ok(n >= 100 && n <= 128 && strcmp(got, want) == 0,
	    "300 nested blockquotes: capped quote depth (%d), text kept", n);
	g_free(want);
	g_free(prefix);
	g_free(got);
	g_free(html);
}

static void
run_special(void)
{
	static const char bad[] = "caf\xe9 \xff\xfe ok \xc3";
	static const char nul[] = "a\0b";
	static const char empty[] = "<!-- only a comment --><script>x</script>";
	char *html, *got, *deep;

	got = html_to_text(NULL, 0, OUT_MAX);
	is_str(got, "", "NULL input gives an empty string");
	g_free(got);

	got = html_to_text("abcdef", 3, OUT_MAX);
	is_str(got, "abc", "len is honoured (no NUL needed)");
	g_free(got);

	got = html_to_text(empty, strlen(empty), OUT_MAX);
	is_str(got, "", "document without text");
	g_free(got);

	deep = nest("<div>", "deep text", "</div>", 300);
	html = g_strconcat(deep, "after", NULL);
	got = html_to_text(html, strlen(html), OUT_MAX);
	is_str(got, "deep text\nafter", "300 nested divs");
	g_free(got);
	g_free(html);
	g_free(deep);

	run_deep_quotes();

	html = nest("<span><b>", "flat", "</b></span>", 24000);
	got = html_to_text(html, strlen(html), OUT_MAX);
	is_str(got, "flat", "48000 nested inline elements");
	g_free(got);
	g_free(html);

	/* libxml2's tree is bounded: the text ends at the 50,001st. */
	deep = nest("<i>", "", "</i>", 60000);
	html = g_strconcat("<p>start</p>", deep, "<p>end</p>", NULL);
	got = html_to_text(html, strlen(html), OUT_MAX);
	is_str(got, "start", "60000 elements: the text ends at 50000");
	g_free(got);
	g_free(html);
	g_free(deep);

	got = html_to_text(bad, sizeof(bad) - 1, OUT_MAX);
	ok(g_utf8_validate(got, -1, NULL), "invalid UTF-8 input: valid output");
	is_str(got, "caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd ok \xef\xbf\xbd",
	    "invalid UTF-8 input: bytes become U+FFFD");
	g_free(got);

	got = html_to_text(nul, sizeof(nul) - 1, OUT_MAX);
	is_str(got, "a\xef\xbf\xbd" "b", "NUL byte becomes U+FFFD");
	g_free(got);
}

int
main(void)
{
	run_rows();
	run_replies();
	run_bounded();
	run_special();
	xmlCleanupParser();
	return tap_done();
}
