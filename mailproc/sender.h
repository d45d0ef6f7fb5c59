/*
 * sender.h - draining the outbox over SMTP (SPEC 4).
 *
 * 2xx: the recipient is done.  4xx, connection failures and timeouts:
 * retried with backoff (1 minute, doubling, at most 4 hours) and given up
 * after 3 days.  5xx: failed for good, recorded on the ticket as a
 * delivery_failed event.  Each recipient is tracked on its own, so one
 * failing recipient does not hold back the others, and a retry goes only
 * to those still pending.  No transaction is held while talking SMTP.
 */
#ifndef MP_SENDER_H
#define MP_SENDER_H

#include "mailproc/desk.h"

typedef struct sender sender;

/* Prepares a sender for d's [smtp] (reads password_file).  MP_ERR_CONFIG
 * with *err when [smtp] url is missing or the password unreadable. */
mp_status sender_new(desk *d, sender **out, char **err);
void sender_free(sender *s);

/* Sends the rows due now, at most max.  *done counts rows attempted.
 * MP_ERR_TEMP when the server could not be reached (the caller waits
 * before trying again); store failures as they come.  An outcome the
 * store cannot take (busy or full) is kept in s and recorded first at
 * the next call, before anything is sent. */
mp_status sender_drain(sender *s, int max, int *done);

/* 1 when the last sender_drain() failed on the store, not the server. */
int sender_store_failed(const sender *s);

/* Connects and authenticates without sending, for `mailproc check`;
 * *what says what happened (g_free()). */
mp_status sender_probe(sender *s, char **what);

/* The delay before attempt n+1 after n failed attempts (seconds). */
int64_t sender_backoff(int attempts);

#endif
