/*
 * ahead.h - parsing the next messages on a second thread.
 *
 * Parsing (GMime, charsets, HTML, quotes) is pure and takes about half of
 * the work of filing a message; the store's work must stay on one thread,
 * in order.  An ahead queue lets the thread that files messages hand the
 * next ones to a worker that parses them meanwhile, so that two cores
 * share the work.  Items come out in the order they went in, each with
 * what msg_parse() returned for it.
 */
#ifndef MP_AHEAD_H
#define MP_AHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/message.h"

typedef struct ahead ahead;

/* One message and its parse. */
typedef struct ahead_item {
	uint64_t tag;		/* the caller's: a UID, a position */
	char *raw;		/* a copy of the bytes pushed */
	size_t len;
	/* Set by the worker: what msg_parse() returned.  Not parsed (rc =
	 * MP_ERR_LIMIT, m NULL, why NULL) when len exceeds the byte limit
	 * given to ahead_new(): the pipeline says why. */
	mp_status rc;
	msg *m;
	char *why;
	int parsed;
} ahead_item;

/* Starts the worker.  lim must outlive the queue; messages longer than
 * max_bytes are not parsed. */
mp_status ahead_new(const msg_limits *lim, size_t max_bytes, ahead **out);

/* Appends a copy of raw for the worker.  Never blocks: the caller bounds
 * what it pushes with ahead_bytes(). */
void ahead_push(ahead *a, uint64_t tag, const char *raw, size_t len);

/* The oldest item, once parsed (waits for the worker), or NULL when the
 * queue is empty.  The caller owns it: ahead_item_free(). */
ahead_item *ahead_pop(ahead *a);

/* Bytes pushed and not yet popped. */
size_t ahead_bytes(ahead *a);

/* Drops every item not yet popped (waiting for the one being parsed). */
void ahead_clear(ahead *a);

/* Frees an item; its m and why when still set. */
void ahead_item_free(ahead_item *it);

/* Stops the worker and frees the queue. */
void ahead_free(ahead *a);

#endif
