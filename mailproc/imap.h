/*
 * imap.h - the IMAP transport: one logged-in session on one folder.
 *
 * The module knows nothing about tickets: it hands raw messages and their
 * UIDs to a callback and marks UIDs processed when told to.  It is the only
 * place that includes libetpan.  Certificates are verified here with GnuTLS
 * after the TLS handshake and before LOGIN, because Debian's libetpan
 * verifies none.
 *
 * Every error string (*err) is owned by the caller, free it with g_free();
 * on MP_OK *err is left untouched.  Every network call is bounded by
 * timeout_s.  Failures of the link (connect, TLS, read, write, timeout,
 * protocol desynchronisation) return MP_ERR_TEMP and leave the session
 * broken: the caller closes it and opens a new one later.  A session is
 * used by one thread at a time.
 *
 * Set MAILPROC_DEBUG in the environment to log each state transition to
 * stderr as "mailproc: imap HOST:PORT USER: STATE -> STATE".
 */
#ifndef MP_IMAP_H
#define MP_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mailproc/status.h"

typedef struct imap_conf {
	const char *host; int port;
	const char *tls;          /* "implicit", "starttls" or "none" */
	const char *ca_file;      /* CA bundle to verify with, or NULL = system trust store (gnutls_x509_trust_list_add_system_trust) */
	const char *pin_sha256;   /* hex SHA-256 of the server's leaf certificate (DER); when set it replaces CA verification (a match is enough, a mismatch fails) */
	const char *user, *password;
	const char *folder;           /* e.g. "INBOX" */
	const char *processed_folder; /* or NULL */
	int timeout_s;                /* every network call: mailimap_set_timeout */
	size_t max_message_bytes;     /* larger messages are not downloaded */
	size_t fetch_chunk_bytes;     /* fetch bodies in batches of at most this many bytes (by RFC822.SIZE), e.g. 8 MiB */
} imap_conf;

typedef struct imap imap;

/*
 * Connects, verifies the certificate (host name checked against host; for
 * "none" no TLS at all), LOGINs, SELECTs folder.  MP_ERR_TEMP for network
 * failures and timeouts, MP_ERR_CONFIG for certificate/pin failure or
 * rejected login (with *err saying exactly what: "certificate for
 * 127.0.0.1 not trusted: ...", "pin mismatch: server has SHA-256 ..."),
 * an unknown tls value, a server without STARTTLS, or a folder that cannot
 * be selected; a login refused with [UNAVAILABLE] (RFC 5530: the server's
 * authentication backend is down) is MP_ERR_TEMP.  pin_sha256 may be
 * written with colons and in either case; timeout_s <= 0 means 60.
 * The strings of c are copied.  Ignores SIGPIPE process-wide when it still
 * has its default action (a dead link must not kill the process).
 * On MP_OK *out is owned by the caller: close it with imap_close().
 */
mp_status imap_open(const imap_conf *c, imap **out, char **err);

/* Logs out (waiting at most 5 s) when the link is healthy; on a broken
 * link closes the stream without a word.  m may be NULL. */
void imap_close(imap *m);

/* The folder's UIDVALIDITY from SELECT (non-zero). */
uint32_t imap_uidvalidity(const imap *m);

/* 1 when the server announced IDLE (RFC 2177) or MOVE (RFC 6851). */
int imap_has_idle(const imap *m);
int imap_has_move(const imap *m);

/*
 * Called once per message in UID order.  raw is NULL (and len 0) when
 * the message's RFC822.SIZE exceeds max_message_bytes: size says how big.
 * raw is borrowed, valid only during the call.  A non-OK return stops the
 * fetch and is returned by imap_fetch_new.
 */
typedef mp_status (*imap_message_cb)(void *ctx, uint32_t uid,
    const char *raw, size_t len, size_t size);

/*
 * Called when every message of one chunk has been handed to the message
 * callback, before the next chunk is requested: the moment to commit
 * what is in hand without holding it over a wait on the network.  A
 * non-OK return stops the fetch like the message callback's.
 */
typedef mp_status (*imap_chunk_cb)(void *ctx);

/* One message of a fetched chunk, for imap_chunk_start_cb: raw is NULL
 * for one that is over max_message_bytes after all. */
typedef struct imap_chunk_msg {
	uint32_t uid;
	const char *raw;
	size_t len;
} imap_chunk_msg;

/*
 * Called when a chunk has arrived, before its messages are handed to the
 * message callback one by one, in the same order: the moment to start
 * work on all of them (msgs and the bytes are valid during the call).
 */
typedef void (*imap_chunk_start_cb)(void *ctx, const imap_chunk_msg *msgs,
    size_t n);

/* The callbacks of imap_fetch_new(); only message is required. */
typedef struct imap_fetch_cbs {
	imap_message_cb message;
	imap_chunk_start_cb chunk_start;
	imap_chunk_cb chunk_done;
} imap_fetch_cbs;

/*
 * Fetches every message with UID > after_uid: first `UID FETCH after+1:*
 * (UID RFC822.SIZE)`, then `UID FETCH a:b (UID BODY.PEEK[])` in chunks
 * whose sizes add up to at most fetch_chunk_bytes (one message at least;
 * 0 means 8 MiB; max_message_bytes 0 means no limit).  Messages expunged
 * between the two steps are skipped.  cbs->chunk_start precedes and
 * cbs->chunk_done follows each chunk's messages.  Returns a callback's
 * status when it stops the fetch, MP_ERR_TEMP on link failure.
 */
mp_status imap_fetch_new(imap *m, uint32_t after_uid,
    const imap_fetch_cbs *cbs, void *ctx, char **err);

/*
 * After the caller committed: sets \Seen on uids and, when
 * processed_folder is set, moves them there (UID MOVE when the server has
 * MOVE, else UID COPY + \Deleted + UID EXPUNGE where UIDPLUS exists, else
 * UID COPY + \Deleted + EXPUNGE, which also expunges messages someone else
 * marked \Deleted).  UIDs already gone are no error, so a repeat is safe.  Creates processed_folder if it does not exist.
 * uids need not be sorted.  MP_ERR_TEMP when the server refuses or the
 * link fails: the caller may repeat the call.
 */
mp_status imap_mark_processed(imap *m, const uint32_t *uids, size_t n,
    char **err);

/*
 * Appends to uids (a GArray of uint32_t) the messages at or below upto
 * that are still waiting for imap_mark_processed(): with a
 * processed_folder every message still in the folder, else those without
 * \Seen.  A process killed between its commit and the marking leaves such
 * messages behind.  Over-size messages, left in the folder on purpose,
 * are not listed.  MP_ERR_TEMP when the link fails.
 */
mp_status imap_leftovers(imap *m, uint32_t upto, GArray *uids, char **err);

/*
 * Waits for new mail in the selected folder with IDLE (re-issued at the
 * latest after 28 minutes) for at most max_seconds.  Returns MP_OK with
 * *woken = 1 as soon as the server reports EXISTS (also when one arrived
 * since the last imap_fetch_new), with *woken = 0 when the time is up or
 * when wake_fd (may be -1; never read here) became readable, so the daemon
 * can interrupt a wait on SIGTERM.  Without IDLE returns MP_ERR_NOT_FOUND
 * at once so the caller polls.  MP_ERR_TEMP on link failure.
 */
mp_status imap_wait(imap *m, int max_seconds, int wake_fd, int *woken,
    char **err);

/* The SHA-256 of the server's leaf certificate (DER) as 64 lower-case hex
 * digits, for `mailproc check` to print; NULL for tls none.  Borrowed,
 * valid until imap_close(). */
const char *imap_peer_sha256(const imap *m);

#endif
