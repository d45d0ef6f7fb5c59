/*
 * fuzz-quote - the reply and quote stripper: quote_strip() and
 * quote_tidy() on any text.
 */
#include "fuzz/fuzz.h"
#include "parsers/quote.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_glib_setup();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);

	g_free(quote_strip(text));
	g_free(quote_tidy(text));
	g_free(text);
	return 0;
}
