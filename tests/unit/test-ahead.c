/*
 * test-ahead.c - the parse worker: items come back in order, each with
 * its own parse, over the byte limit unparsed, and a cleared queue drops
 * what was not popped.
 */
#include <string.h>

#include <glib.h>

#include "mailproc/ahead.h"
#include "tests/unit/tap.h"

#define N 300

static char *
message(int i)
{
	return g_strdup_printf("From: c%d@x.example\r\nTo: t@corp.example\r\n"
	    "Subject: message %d\r\nMessage-ID: <m%d@x.example>\r\n\r\n"
	    "Body of %d.\r\n", i, i, i, i);
}

int
main(void)
{
	msg_limits lim;
	ahead *a = NULL;
	ahead_item *it;
	int in_order = 1, parsed = 1, copies = 1;

	msg_library_init();
	msg_limits_default(&lim);
	is_int(ahead_new(&lim, 4096, &a), MP_OK, "the worker starts");
	ok(ahead_pop(a) == NULL, "an empty queue pops nothing");

	for (int i = 0; i < N; i++) {
		char *raw = message(i);

		ahead_push(a, (uint64_t)i, raw, strlen(raw));
		memset(raw, 'x', strlen(raw));	/* the queue holds a copy */
		g_free(raw);
	}
	ok(ahead_bytes(a) > 0, "pushed bytes are counted");
	for (int i = 0; i < N; i++) {
		char *want = g_strdup_printf("message %d", i);
		char *raw = message(i);

		it = ahead_pop(a);
		if (it == NULL || it->tag != (uint64_t)i)
			in_order = 0;
		else if (it->rc != MP_OK || it->m == NULL ||
		    g_strcmp0(it->m->subject, want) != 0)
			parsed = 0;
		else if (it->len != strlen(raw) || memcmp(it->raw, raw,
		    it->len) != 0)
			copies = 0;
		ahead_item_free(it);
		g_free(raw);
		g_free(want);
	}
	ok(in_order, "%d items come back in the order pushed", N);
	ok(parsed, "each with its own parse");
	ok(copies, "each with a copy of its bytes");
	is_int((long long)ahead_bytes(a), 0, "nothing left counted");
	ok(ahead_pop(a) == NULL, "and nothing left to pop");

	{
		GString *big = g_string_new(NULL);

		g_string_append(big, "From: big@x.example\r\nSubject: big\r\n"
		    "\r\n");
		while (big->len <= 4096)
			g_string_append(big, "0123456789abcdef\r\n");
		ahead_push(a, 7, big->str, big->len);
		it = ahead_pop(a);
		ok(it != NULL && it->tag == 7 && it->rc == MP_ERR_LIMIT &&
		    it->m == NULL, "over the byte limit: not parsed, "
		    "MP_ERR_LIMIT");
		ahead_item_free(it);
		g_string_free(big, TRUE);
	}

	for (int i = 0; i < 50; i++) {
		char *raw = message(i);

		ahead_push(a, (uint64_t)i, raw, strlen(raw));
		g_free(raw);
	}
	ahead_clear(a);
	is_int((long long)ahead_bytes(a), 0, "clear drops what was queued");
	ok(ahead_pop(a) == NULL, "... and nothing pops after it");
	{
		char *raw = message(99);

		ahead_push(a, 99, raw, strlen(raw));
		it = ahead_pop(a);
		ok(it != NULL && it->tag == 99 && it->rc == MP_OK,
		    "the queue works after a clear");
		ahead_item_free(it);
		g_free(raw);
	}

	/* Freed with work still queued: the worker stops, nothing leaks. */
	for (int i = 0; i < 20; i++) {
		char *raw = message(i);

		ahead_push(a, (uint64_t)i, raw, strlen(raw));
		g_free(raw);
	}
	ahead_free(a);
	ok(1, "freed with items still queued");
	return tap_done();
}
