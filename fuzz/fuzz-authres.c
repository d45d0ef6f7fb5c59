/*
 * fuzz-authres - the Authentication-Results check.  The input is
 * "value", "value\0authserv-id" or "value\0authserv-id\0from-domain";
 * what is not given is the test configuration's.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "parsers/authres.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_glib_setup();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_string(data, size);
	const char *part[3] = { NULL, "mx.corp.example", "corp.example" };
	size_t at = 0;

	for (int i = 0; i < 3 && at <= size; i++) {
		part[i] = buf + at;
		at += strlen(buf + at) + 1;
	}
	(void)authres_passes(part[0], part[1], part[2]);
	(void)authres_passes(part[0], NULL, part[2]);
	g_free(buf);
	return 0;
}
