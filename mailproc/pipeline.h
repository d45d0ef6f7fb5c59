/*
 * pipeline.h - one inbound message, from raw bytes to its outcome.
 *
 * The same pipeline serves `mailproc ingest` and the IMAP watcher.  The
 * caller owns the transaction (store_begin()/store_commit(), one per
 * message or per batch); the pipeline wraps each message in a savepoint,
 * so a message that fails leaves no trace but its outcome.
 */
#ifndef MP_PIPELINE_H
#define MP_PIPELINE_H

#include <stdint.h>

#include "mailproc/ahead.h"
#include "mailproc/desk.h"

/*
 * Processes raw (len bytes) as delivered to mailbox mb.  On MP_OK
 * *outcome is the line SPEC 9 prints ("TS-3 created", "duplicate",
 * "quarantined: REASON", ...), owned by the caller.  MP_ERR_TEMP means
 * nothing was recorded and the message must be offered again later; any
 * other failure has already been turned into a quarantine outcome.
 * retry_of is the quarantine row being retried, or 0.
 */
mp_status pipeline_message(desk *d, const cfg_mailbox *mb, const char *raw,
    size_t len, int64_t retry_of, char **outcome);

/* The same for an item parsed ahead (mailproc/ahead.h): its raw bytes and
 * the parse already done; takes its m and why. */
mp_status pipeline_message_parsed(desk *d, const cfg_mailbox *mb,
    ahead_item *it, char **outcome);

/* Holds raw in quarantine with reason without looking at it (a message
 * too big to download, say) and tells the administrator. */
mp_status pipeline_hold(desk *d, const cfg_mailbox *mb, const char *raw,
    size_t len, const char *reason, char **outcome);

/* Stores m (raw bytes kept) on ticket or entry id with body as its text,
 * its attachments, and its Message-ID in the thread index. */
mp_status pipeline_record(desk *d, const cfg_mailbox *mb, const char *id,
    const msg *m, const char *visibility, const char *body, const char *raw,
    size_t len);

/* Finds the ticket or entry (id starting with prefix, "TS-" or "IE-")
 * that m's In-Reply-To or References name (SPEC 3 threading); *id is ""
 * when none. */
mp_status pipeline_thread_find(desk *d, const msg *m, const char *prefix,
    char id[static 16]);

/* 1 when m's sender is authenticated staff (SPEC 2). */
int pipeline_sender_is_staff(const desk *d, const msg *m);

/* 1 when an automatic reply to m is allowed by the loop rules of SPEC 3
 * (the per-hour limit is applied later, per recipient). */
int pipeline_may_autoreply(const desk *d, const msg *m);

#endif
