/*
 * fuzz-html - HTML bodies to text: html_to_text() on the exact input
 * bytes (no NUL after them), with a small and the message normaliser's
 * output bound.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "parsers/html.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_glib_setup();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	text = html_to_text((const char *)data, size, 1u << 20);
	if (!g_utf8_validate(text, -1, NULL))
		abort();
	g_free(text);
	/* A tight bound must cut at a character boundary. */
	text = html_to_text((const char *)data, size, 64);
	if (strlen(text) > 64 || !g_utf8_validate(text, -1, NULL))
		abort();
	g_free(text);
	return 0;
}
