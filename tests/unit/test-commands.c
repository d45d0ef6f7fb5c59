/*
 * test-commands - the command block and macro parsers.
 */
#include <glib.h>

#include "parsers/commands.h"
#include "tests/unit/tap.h"

static const struct {
	const char *name, *text, *cmds, *rest;
} blocks[] = {
	{ "one command", "/start", "start()", "" },
	{ "command and text", "/start\n\nHi Jane", "start()", "Hi Jane" },
	{ "arguments trimmed", "  /transfer   sam@corp.example  \n", 
	    "transfer(sam@corp.example)", "" },
	{ "names lower-cased", "/START\n/Note", "start() note()", "" },
	{ "blank lines between and before", "\n\n/macro cstr\n\n/transfer\n"
	    "Customer details: x", "macro(cstr) transfer()",
	    "Customer details: x" },
	{ "text first: no block", "Hello\n/start", "", "Hello\n/start" },
	{ "a path is not a command", "/usr/bin is missing", "",
	    "/usr/bin is missing" },
	{ "a dashed name is", "/x-y z", "x-y(z)", "" },
	{ "slash alone is text", "/\n/start", "", "/\n/start" },
	{ "slash digit is text", "/1 is odd", "", "/1 is odd" },
	{ "rest keeps paragraphs", "/note\nline 1\n\n\n\nline 2  ",
	    "note()", "line 1\n\nline 2" },
	{ "empty text", "", "", "" },
	{ "CR-free input only", "/priority high\nok", "priority(high)",
	    "ok" },
};

static char *
cmds_str(const cmd_block *b)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < b->n; i++)
		g_string_append_printf(s, "%s%s(%s)", i ? " " : "",
		    b->cmds[i].name, b->cmds[i].args);
	return g_string_free(s, FALSE);
}

static const struct {
	const char *name, *text;
	const char *want[MACRO_N_FIELDS];
	int problems;
} macros[] = {
	{ "all fields", "Customer details: ACME\nIssue link: "
	    "https://x.example/1\nSummary: s\nConsequences: c\n"
	    "Time considerations: t\nAdditional information: a",
	    { "ACME", "https://x.example/1", "s", "c", "t", "a" }, 0 },
	{ "case, bullets, bold, wrapping", "- **customer DETAILS:** ACME\n"
	    "* Issue Link: <https://x.example/1>\n1. summary: line one\n"
	    "   line two\n\xe2\x80\xa2 Consequences of not acting: c\n"
	    "Time considerations: t",
	    { "ACME", "https://x.example/1", "line one line two", "c", "t",
	    NULL }, 0 },
	{ "HTML link text", "Customer details: A\nIssue link: SUP-1 "
	    "<https://j.example/SUP-1>\nSummary: s\nConsequences: c\n"
	    "Time considerations: t",
	    { "A", "https://j.example/SUP-1", "s", "c", "t", NULL }, 0 },
	{ "missing fields", "Customer details: ACME",
	    { "ACME", NULL, NULL, NULL, NULL, NULL }, 4 },
	{ "bad link", "Customer details: A\nIssue link: ftp://x.example\n"
	    "Summary: s\nConsequences: c\nTime considerations: t",
	    { "A", "ftp://x.example", "s", "c", "t", NULL }, 1 },
	{ "javascript link", "Customer details: A\nIssue link: "
	    "javascript:alert(1)\nSummary: s\nConsequences: c\n"
	    "Time considerations: t",
	    { "A", "javascript:alert(1)", "s", "c", "t", NULL }, 1 },
	{ "unknown label", "Customer details: A\nIssue link: https://x.e/1\n"
	    "Sumary: s\nConsequences: c\nTime considerations: t",
	    { "A", "https://x.e/1", NULL, "c", "t", NULL }, 2 },
	{ "stray line", "hello\nCustomer details: A\nIssue link: "
	    "https://x.e/1\nSummary: s\nConsequences: c\n"
	    "Time considerations: t",
	    { "A", "https://x.e/1", "s", "c", "t", NULL }, 1 },
	{ "CRLF and header injection stay values",
	    "Customer details: A\r\nBcc: evil@x.example\nIssue link: "
	    "https://x.e/1\nSummary: s\nConsequences: c\n"
	    "Time considerations: t",
	    { "A", "https://x.e/1", "s", "c", "t", NULL }, 1 },
};

int
main(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(blocks); i++) {
		cmd_block *b = cmd_parse(blocks[i].text);
		char *got = cmds_str(b);

		is_str(got, blocks[i].cmds, blocks[i].name);
		is_str(b->rest, blocks[i].rest, "  ... rest");
		g_free(got);
		cmd_block_free(b);
	}
	{
		GString *many = g_string_new(NULL);
		cmd_block *b;

		for (int i = 0; i < CMD_MAX + 5; i++)
			g_string_append(many, "/note\n");
		b = cmd_parse(many->str);
		ok(b->too_many && b->n == CMD_MAX, "commands are bounded");
		cmd_block_free(b);
		g_string_free(many, TRUE);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(macros); i++) {
		macro_fields *f = macro_parse(macros[i].text);
		int np = 0;

		for (int k = 0; k < MACRO_N_FIELDS; k++) {
			char *name = g_strdup_printf("%s: %s", macros[i].name,
			    macro_keys[k]);

			is_str(f->value[k], macros[i].want[k], name);
			g_free(name);
		}
		while (f->problems[np])
			np++;
		if (!is_int(np, macros[i].problems, "  ... problems"))
			for (int k = 0; f->problems[k]; k++)
				printf("#   %s\n", f->problems[k]);
		macro_fields_free(f);
	}
	is_int(url_is_http("https://example.com/a?b=c"), 1, "https URL");
	is_int(url_is_http("http://x"), 1, "http URL");
	is_int(url_is_http("https://"), 0, "no host");
	is_int(url_is_http("https://a b"), 0, "space");
	is_int(url_is_http("HTTPS://EXAMPLE.COM"), 1, "upper case scheme");
	is_int(url_is_http("mailto:a@b"), 0, "mailto");
	return tap_done();
}
