/*
 * fuzz.h - what the libFuzzer targets share.
 *
 * Each fuzz-*.c defines LLVMFuzzerTestOneInput() over one parser and frees
 * everything it gets back, so that LeakSanitizer's reports are the
 * parser's own leaks.
 */
#ifndef MP_FUZZ_H
#define MP_FUZZ_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * GLib's slice allocator would hide leaks and overruns from the
 * sanitizers: make it plain malloc before any GLib call reads it.
 */
static inline void
fuzz_glib_setup(void)
{
	setenv("G_SLICE", "always-malloc", 0);
	setenv("G_DEBUG", "gc-friendly", 0);
}

/* Returns a copy of data with a NUL after it (g_free()), embedded NULs
 * kept: the parsers that take C strings get a heap block of exactly the
 * input's size, so ASan sees any read past its end. */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = g_malloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
