/*
 * fuzz-commands - the slash-command block, the macro fields and the URL
 * check, all on the same text (a staff message's new text).
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "parsers/commands.h"

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
	cmd_block *b;
	macro_fields *f;

	b = cmd_parse(text);
	for (size_t i = 0; i < b->n; i++)
		(void)(strlen(b->cmds[i].name) + strlen(b->cmds[i].args));
	/* The workflow reads the macro from what follows the block. */
	f = macro_parse(b->rest);
	macro_fields_free(f);
	cmd_block_free(b);

	f = macro_parse(text);
	for (int i = 0; i < MACRO_N_FIELDS; i++)
		if (f->value[i])
			(void)url_is_http(f->value[i]);
	for (size_t i = 0; f->problems && f->problems[i]; i++)
		(void)strlen(f->problems[i]);
	macro_fields_free(f);

	(void)url_is_http(text);
	g_free(text);
	return 0;
}
