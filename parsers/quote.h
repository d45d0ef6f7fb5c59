/*
 * quote.h - the new text of a reply: no quoted history, attribution,
 * signature or client footer.
 *
 * The rules, in the order they apply, are listed at the top of quote.c;
 * the fixture corpus depends on them, so change them only together with
 * tests/unit/test-quote.c.
 */
#ifndef MP_QUOTE_H
#define MP_QUOTE_H

/* Returns the new text of a message body: the author's own words, without quoted history,
 * reply attributions, signature and client footers.  text is UTF-8 plain text with LF or
 * CRLF line ends. Returns a newly allocated string (g_free()), never NULL. Pure. */
char *quote_strip(const char *text);
/* Normalises text the same way as step 5 below without stripping anything. */
char *quote_tidy(const char *text);

#endif
