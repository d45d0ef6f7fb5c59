/*
 * smtp.h - the SMTP transport: hands one rendered message to one relay.
 *
 * It knows nothing about tickets or the outbox: it takes raw message bytes,
 * an envelope sender and one recipient, and says what the server did with
 * them.  The only module that includes curl.
 *
 * An smtp handle owns one connection to the relay and reuses it for every
 * send; when a send fails the connection is dropped and the next send
 * reconnects by itself.  A handle is not thread-safe: one thread per handle.
 * Call smtp_global_init() once at start-up, before any thread exists, and
 * ignore SIGPIPE process-wide (the transport asks libcurl not to touch
 * signals, so a dead peer would otherwise kill the process).
 */
#ifndef MP_SMTP_H
#define MP_SMTP_H

#include <stddef.h>

#include "mailproc/status.h"

/*
 * url: smtp://host:port, or smtps://host:port for implicit TLS.
 * user, password: AUTH credentials, or NULL for no AUTH.
 * ca_file: the CA bundle to verify the server with, or NULL for the system
 *   store.  Peers are always verified, host name included.
 * starttls: for smtp:// only: 1 requires STARTTLS (no mail goes out in
 *   plain text), 0 is plain text, allowed to loopback hosts only.
 * timeout_s: 1..3600 seconds; bounds connecting, the whole transfer, each
 *   reply (also to QUIT), and a transfer that stalls.
 */
typedef struct smtp_conf {
	const char *url;
	const char *user;
	const char *password;
	const char *ca_file;
	int starttls;
	int timeout_s;
} smtp_conf;

typedef struct smtp smtp;

/* Initialises libcurl.  Call once at start-up, before any thread starts. */
void smtp_global_init(void);
/* Releases what smtp_global_init() took; call at exit, after smtp_free(). */
void smtp_global_cleanup(void);

/* Creates a handle for c; connects lazily, on the first send or probe.  The
 * strings of c are copied.  MP_ERR_CONFIG when c is unusable (not an smtp://
 * or smtps:// URL, plain text to a host that is not loopback, timeout out of
 * range), MP_ERR_INTERNAL when libcurl cannot be set up.  On failure *out is
 * NULL and *err an explanation (g_free()). */
mp_status smtp_new(const smtp_conf *c, smtp **out, char **err);
/* Closes the connection (QUIT, waiting at most timeout_s) and frees s.
 * NULL is allowed. */
void smtp_free(smtp *s);

typedef enum {
	SMTP_SENT,	/* the server took responsibility for the message */
	SMTP_TEMPFAIL,	/* not sent; the same send may work later */
	SMTP_PERMFAIL,	/* not sent; refused for this message */
} smtp_outcome;

typedef struct smtp_result {
	smtp_outcome outcome;
	long code;		/* the last reply code; 0: no reply at all */
	char detail[256];	/* one printable line: the server's reply,
				 * else the local or libcurl error */
} smtp_result;

/*
 * Sends raw (len bytes, CRLF line ends, not dot-stuffed) from the envelope
 * sender from ("" for the null reverse-path <>) to the one recipient rcpt.
 * Both are bare addresses: one containing a control character, a space,
 * '<' or '>', or longer than 254 bytes, is refused with SMTP_PERMFAIL
 * (code 0) without connecting.
 *
 * Outcome: a 2xx end of DATA is SMTP_SENT; a 5xx reply to MAIL, RCPT or
 * DATA is SMTP_PERMFAIL; everything else is SMTP_TEMPFAIL: 4xx, connection
 * failures, timeouts, TLS failures (including an unverifiable certificate:
 * nothing is sent then), and a refused greeting, STARTTLS or AUTH, or a
 * 530 (authentication or STARTTLS required), even though those are 5xx:
 * they are about our configuration, not this message.
 *
 * When the reused connection turns out to have been closed by the server
 * (it failed before any reply but 421), the send is made once more on a
 * new connection, so a call takes at most twice timeout_s.
 *
 * Returns MP_OK whenever a result was obtained, whatever the outcome; any
 * other status is a local failure (MP_ERR_INTERNAL: out of memory), and *r
 * then says SMTP_TEMPFAIL.  raw, from and rcpt are borrowed for the
 * duration of the call.
 */
mp_status smtp_send(smtp *s, const char *from, const char *rcpt,
    const char *raw, size_t len, smtp_result *r);

/*
 * Opens a new connection, with TLS and AUTH as configured, asks NOOP and
 * closes it, sending no mail; for `mailproc check`.  Fills *r like
 * smtp_send(), SMTP_SENT meaning the relay works; a user was configured
 * but the server offered no AUTH is SMTP_PERMFAIL, because libcurl would
 * silently send without logging in.  The sending connection is not used or
 * disturbed.  Returns like smtp_send().
 */
mp_status smtp_probe(smtp *s, smtp_result *r);

#endif
