/*
 * compose.h - building outgoing RFC 5322 messages with GMime.
 *
 * Nothing from input reaches a header raw: every string is passed through
 * msg_header_safe() and addresses must be bare addresses.
 */
#ifndef MP_COMPOSE_H
#define MP_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "mailproc/status.h"

typedef struct compose_in {
	const char *from;		/* bare address (also Reply-To) */
	const char *from_name;		/* display name, or NULL */
	const char *const *to;		/* NULL-terminated bare addresses */
	const char *subject;
	const char *message_id;		/* "<id>" */
	const char *in_reply_to;	/* "<id>" or NULL */
	const char *const *references;	/* NULL-terminated "<id>"s, or NULL */
	const char *auto_submitted;	/* "auto-replied", "auto-generated", NULL */
	int64_t date;
	const char *text;		/* plain-text body, LF line ends */
	const char *html;		/* HTML alternative, or NULL */
} compose_in;

/* Serialises the message with CRLF line ends into *raw (g_free()). */
mp_status compose_message(const compose_in *in, char **raw, size_t *len);

/* Returns a new unique "<...@domain>" Message-ID (g_free()). */
char *compose_message_id(const char *domain);

#endif
