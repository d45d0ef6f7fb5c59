/*
 * fuzz-form - the implementation request form parser.  The input is the
 * texts array: texts separated by NUL bytes (a body, then the texts of
 * attached messages), so the fuzzer can vary their number too.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "parsers/form.h"

/* More than FORM_TEXTS_MAX, so the bound is exercised. */
#define TEXTS_MAX (FORM_TEXTS_MAX + 4)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_glib_setup();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *texts[TEXTS_MAX + 1];
	char *buf = fuzz_string(data, size);
	size_t n = 0, at = 0;
	form *f;

	while (n < TEXTS_MAX) {
		texts[n++] = buf + at;
		at += strlen(buf + at) + 1;
		if (at > size)
			break;
	}
	texts[n] = NULL;

	f = form_parse(texts);
	for (int i = 0; i < FORM_N_FIELDS; i++)
		if (f->value[i])
			(void)strlen(f->value[i]);
	for (size_t i = 0; i < f->n_invalid; i++)
		(void)strlen(f->invalid[i].reason);
	form_free(f);
	g_free(buf);
	return 0;
}
