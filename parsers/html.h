/*
 * html.h - HTML mail bodies to readable plain text.
 *
 * The rendering rules (blocks, lists, tables, links, quotes, clean-up) are
 * listed at the top of html.c; fixtures and the quote stripper depend on
 * them, so change them only together with tests/unit/test-html.c.
 */
#ifndef MP_HTML_H
#define MP_HTML_H

#include <stddef.h>

/* Converts an HTML document (UTF-8 bytes, len may include no NUL) to readable
 * plain text.  Returns a newly allocated NUL-terminated valid UTF-8 string owned by the
 * caller (free with g_free()), never NULL (an empty string for empty input or unparsable
 * input). Pure: no I/O. Bounded: output at most max_out bytes (truncate cleanly at a UTF-8
 * boundary), tree depth handled iteratively or with a depth cap of 256 (deeper content is still rendered as text, flattened). */
char *html_to_text(const char *html, size_t len, size_t max_out);

#endif
