/*
 * message.h - raw RFC 5322 bytes in, a normalised message out.
 *
 * Pure: no I/O, no SQL, no clock.  Every string in an msg is valid UTF-8
 * without NUL or other control characters except LF (and TAB in text);
 * every address is a lower-cased bare address.  The whole msg is owned by
 * the caller: free it with msg_free().
 */
#ifndef MP_MESSAGE_H
#define MP_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "mailproc/status.h"

/* Bounds applied to input before and while it is parsed. */
typedef struct msg_limits {
	size_t max_bytes;	/* the whole message */
	size_t max_line;	/* one physical line, header or body */
	size_t max_header;	/* one header field, folded lines included */
	unsigned max_headers;	/* fields in one header block (the top-level
				 * header or that of one MIME part) */
	unsigned max_fields;	/* fields in all header blocks together */
	unsigned max_open_words;	/* RFC 2047 "=?" without a "?=" after
				 * it, in all header fields */
	size_t max_addr_bytes;	/* From, To, Cc, Bcc, Reply-To and Sender
				 * fields in all header blocks together */
	unsigned max_params;	/* parameters (';') of Content-Type and
				 * Content-Disposition fields, in all */
	unsigned max_parts;	/* MIME parts in the whole message */
	unsigned max_depth;	/* MIME nesting, message/rfc822 included */
	size_t max_text;	/* decoded body text kept (truncated beyond) */
	unsigned max_refs;	/* Message-IDs kept from References */
	unsigned max_addrs;	/* addresses kept from To plus Cc */
} msg_limits;

typedef struct msg_attachment {
	char *filename;		/* sanitised base name, or NULL */
	char *content_type;	/* "type/subtype", lower case */
	size_t size;		/* decoded size in bytes */
} msg_attachment;

/* A delivery-status report (RFC 3464) about one recipient. */
typedef struct msg_dsn {
	char *recipient;		/* Final-Recipient address, or NULL */
	char *status;			/* e.g. "5.1.1", or NULL */
	char *action;			/* e.g. "failed", or NULL */
	char *original_message_id;	/* from the returned headers, or NULL */
} msg_dsn;

typedef struct msg {
	char *subject;		/* decoded; NULL when absent */
	char *from;		/* bare address; NULL when absent */
	char *from_name;	/* decoded display name, or NULL */
	char **to;		/* NULL-terminated bare addresses */
	char **cc;		/* NULL-terminated bare addresses */
	char *message_id;	/* "<id>", or NULL when absent or unusable */
	char *in_reply_to;	/* "<id>", or NULL */
	char **references;	/* NULL-terminated "<id>"s, header order */
	int64_t date;		/* Date in seconds since the epoch, or -1 */
	const char *body_type;	/* "plain", "html", or NULL (static) */
	char *text;		/* whole body as plain text ("" when none) */
	char *new_text;		/* text without quotes and signature */
	char **attached_texts;	/* NULL-terminated body texts of attached
				 * message/rfc822 parts (at most 8) */
	msg_attachment *attachments;
	size_t n_attachments;
	int is_auto;		/* loop rules of SPEC 3 forbid a reply */
	const char *auto_reason; /* why is_auto is set (static), or NULL */
	char *auth_results;	/* topmost Authentication-Results, unfolded */
	msg_dsn *dsn;		/* set for a delivery-status report */
	char key[72];		/* "<message-id>" or "sha256:HEX" */
} msg;

/* Sets l to the defaults (25 MiB message, 1 MiB line, 64 KiB header
 * field, 1,000 header fields per header block and 10,000 in all, 100
 * encoded words without an end, 256 KiB of address fields, 5,000
 * parameters, 500 parts, depth 32, 1 MiB text). */
void msg_limits_default(msg_limits *l);

/* Initialises GMime; call once per process before msg_parse(). */
void msg_library_init(void);

/* Computes the deduplication key of raw bytes without parsing them: the
 * bracketed Message-ID when the top-level header has a usable one, else
 * "sha256:" and the hex digest of the bytes.  key must hold 72 bytes. */
void msg_key(const char *raw, size_t len, char key[static 72]);

/*
 * Parses raw (len bytes, need not be NUL-terminated) within lim.
 * On MP_OK *out is a new msg owned by the caller.  On MP_ERR_LIMIT (over a
 * bound) or MP_ERR_PARSE (not a message) *out is NULL and *reason is a
 * newly allocated one-line explanation (g_free()).
 */
mp_status msg_parse(const char *raw, size_t len, const msg_limits *lim,
    msg **out, char **reason);

void msg_free(msg *m);

/* Reads From (as a lower-cased bare address) and the decoded Subject from
 * the top-level header without parsing the message, for messages too big
 * or too broken to parse.  Either may be set to NULL.  Owned by the caller. */
void msg_peek(const char *raw, size_t len, char **from, char **subject);

/* Returns a copy of s made safe for one header line: valid UTF-8, control
 * characters (CR, LF, TAB included) replaced by spaces, runs of spaces
 * collapsed, trimmed, at most max bytes (cut at a character boundary).
 * NULL gives "".  Owned by the caller (g_free()). */
char *msg_header_safe(const char *s, size_t max);

/* Returns 1 when addr (a bare address) has a local part that never gets
 * automatic replies: mailer-daemon, postmaster, noreply and the like. */
int msg_addr_is_robot(const char *addr);

/* Returns the domain part of a bare address (borrowed), or "". */
const char *msg_addr_domain(const char *addr);

#endif
