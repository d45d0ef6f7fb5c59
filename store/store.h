/*
 * store.h - the SQLite store: the only module with SQL.
 *
 * One writer transaction per inbound message or batch: callers bracket
 * their changes with store_begin()/store_commit() and each message with a
 * savepoint, so a message that fails rolls back alone.  Busy and full
 * databases report MP_ERR_TEMP (retry later); anything else unexpected is
 * MP_ERR_INTERNAL.  store_errmsg() says what SQLite said.
 *
 * Ownership: rows returned by store_*_get/list are owned by the caller and
 * freed with the matching store_*_free(); string arguments are borrowed.
 */
#ifndef MP_STORE_H
#define MP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mailproc/status.h"

typedef struct store store;

/* ---- opening and transactions ---- */

/* Opens (creating) the database at path in WAL mode with busy_ms of
 * busy_timeout, and migrates the schema.  MP_ERR_TEMP when it is locked
 * or cannot be opened now, MP_ERR_CONFIG when it is newer than this
 * program. *out is NULL on failure and *err an explanation (g_free()). */
mp_status store_open(const char *path, int busy_ms, store **out, char **err);
void store_close(store *s);
/* The last SQLite error message (borrowed). */
const char *store_errmsg(store *s);
/* The schema version this program writes. */
int store_schema_version(void);

/* Commits on this connection are no longer flushed to disk one by one
 * (synchronous = NORMAL in WAL mode): they survive a crash of the program,
 * but the last ones may be lost with the machine's power. */
mp_status store_sync_relaxed(store *s);

mp_status store_begin(store *s);	/* BEGIN IMMEDIATE */
mp_status store_commit(store *s);
void store_rollback(store *s);
mp_status store_savepoint(store *s);	/* one level, per message */
mp_status store_release(store *s);
void store_rollback_savepoint(store *s);

/* ---- processed-message keys (exactly once, per mailbox) ---- */

/* Sets *seen to 1 when key was processed in mailbox. */
mp_status store_processed_has(store *s, const char *mailbox, const char *key,
    int *seen);
mp_status store_processed_add(store *s, const char *mailbox, const char *key,
    const char *outcome, int64_t at);
mp_status store_processed_remove(store *s, const char *mailbox,
    const char *key);

/* ---- tickets and backlog entries ---- */

typedef struct store_ticket {
	char id[16];		/* "TS-n" */
	char *mailbox;
	char *status;
	char *prev_status;	/* status before ended, for /reopen */
	char *priority;
	char *subject;
	char *requester;
	char *owner;		/* NULL when unowned */
	char *root_message_id;	/* first message, for References */
	int64_t created_at;
	int64_t updated_at;
	int64_t staff_at;	/* last staff response, -1 when none */
} store_ticket;

/* Creates a ticket from t (id ignored) and writes its new id into t->id. */
mp_status store_ticket_create(store *s, store_ticket *t);
/* Writes every field of t back. */
mp_status store_ticket_update(store *s, const store_ticket *t);
/* MP_ERR_NOT_FOUND when there is no such ticket. */
mp_status store_ticket_get(store *s, const char *id, store_ticket **out);
/* Lists tickets (status NULL for all) in id order; *out is a
 * NULL-terminated array freed with store_ticket_list_free(). */
mp_status store_ticket_list(store *s, const char *status,
    store_ticket ***out);
void store_ticket_free(store_ticket *t);
void store_ticket_list_free(store_ticket **list);

/* The form fields of an entry, in the order of parsers/form.h. */
#define STORE_ENTRY_FIELDS 12
#define STORE_ENTRY_ARR 8	/* stored as an integer */

typedef struct store_entry {
	char id[16];		/* "IE-n" */
	char *mailbox;
	char *status;
	char *prev_status;	/* before disqualified, for /reopen */
	char *subject;
	char *root_message_id;
	char *requested_by;
	char *field[STORE_ENTRY_FIELDS];	/* NULL when absent */
	char *priority;		/* P1..P4, NULL until /triage */
	char *size;
	char *risk;
	char *ie;
	char *pm;
	int tdd_signed_off;
	char *missing_fields;	/* comma-separated keys */
	char *flags;		/* comma-separated */
	char *requirements;	/* comma-separated keys done */
	char *reason;		/* of a disqualification */
	int64_t created_at;
	int64_t updated_at;
	int64_t handoff_at;	/* -1 until handoff */
	int64_t live_at;	/* -1 until live */
} store_entry;

mp_status store_entry_create(store *s, store_entry *e);
mp_status store_entry_update(store *s, const store_entry *e);
mp_status store_entry_get(store *s, const char *id, store_entry **out);
mp_status store_entry_list(store *s, const char *status, store_entry ***out);
void store_entry_free(store_entry *e);
void store_entry_list_free(store_entry **list);

/* ---- participants and thread index ---- */

mp_status store_participant_add(store *s, const char *ticket,
    const char *addr);
mp_status store_participant_has(store *s, const char *ticket,
    const char *addr, int *has);
/* NULL-terminated list in the order added (g_strfreev()). */
mp_status store_participants(store *s, const char *ticket, char ***out);

/* Records that message_id (with brackets) belongs to ticket. */
mp_status store_thread_add(store *s, const char *message_id,
    const char *ticket);
/* Finds the ticket whose id starts with prefix ("TS-", "IE-") that one of
 * ids (NULL-terminated) belongs to; the first match in ids order wins.
 * *ticket is "" when none. */
mp_status store_thread_find(store *s, const char *prefix,
    const char *const *ids, char ticket[static 16]);

/* ---- messages, events, notes ---- */

typedef struct store_attachment {
	char *filename;
	char *content_type;
	int64_t size;
} store_attachment;

typedef struct store_message {
	int64_t id;
	char *ticket;
	char *mailbox;
	char *message_id;	/* "<id>" or NULL */
	char *from;
	int64_t date;
	char *visibility;	/* "public" or "internal" */
	char *body;
	store_attachment *attachments;
	size_t n_attachments;
	const char *raw;	/* only filled by store_message_raw() */
	size_t raw_len;
} store_message;

mp_status store_message_add(store *s, const store_message *m,
    const char *raw, size_t raw_len);
/* NULL-terminated, in arrival order; free with store_message_list_free(). */
mp_status store_messages(store *s, const char *ticket, store_message ***out);
void store_message_list_free(store_message **list);

typedef struct store_event {
	int64_t at;
	char *actor;
	char *action;
	char *detail;
	char *message_id;
} store_event;

mp_status store_event_add(store *s, const char *ticket, int64_t at,
    const char *actor, const char *action, const char *detail,
    const char *message_id);
mp_status store_events(store *s, const char *ticket, store_event ***out);
void store_event_list_free(store_event **list);

typedef struct store_note {
	int64_t at;
	char *author;
	char *macro;		/* macro name, or NULL for a plain note */
	char *fields_json;	/* a JSON object text, or NULL */
	char *body;
	char *message_id;
} store_note;

mp_status store_note_add(store *s, const char *ticket, const store_note *n);
mp_status store_notes(store *s, const char *ticket, store_note ***out);
void store_note_list_free(store_note **list);

/* ---- outbox ---- */

typedef struct store_outbox {
	int64_t id;
	char *ticket;		/* "TS-n", "IE-n" or NULL */
	char *template;
	char **to;		/* NULL-terminated bare addresses */
	char *subject;
	char *message_id;	/* "<id>" */
	char *status;		/* queued, sent, failed */
	int attempts;
	char *error;		/* NULL when none */
	int internal;		/* 1: only staff_domains may receive it */
	int64_t created_at;
	int64_t next_at;	/* next attempt */
	int64_t sent_at;	/* -1 until sent */
	char **delivered;	/* NULL-terminated: recipients done with
				 * (sent, or failed for good) */
	char *raw;		/* the RFC 5322 message, CRLF */
	size_t raw_len;
} store_outbox;

/* Adds a row (id, attempts ignored) and sets o->id. */
mp_status store_outbox_add(store *s, store_outbox *o);
/* Lists every row without raw bytes, in id order. */
mp_status store_outbox_list(store *s, store_outbox ***out);
/* One row with its raw bytes. */
mp_status store_outbox_get(store *s, int64_t id, store_outbox **out);
/* Rows queued and due at now, oldest first, at most limit, with raw. */
mp_status store_outbox_due(store *s, int64_t now, int limit,
    store_outbox ***out);
/* Records an attempt: status, error (may be NULL), the next attempt time
 * and, when not NULL, the recipients now done with. */
mp_status store_outbox_mark(store *s, int64_t id, const char *status,
    const char *error, int64_t next_at, int64_t now,
    const char *const *delivered);
/* Finds the ticket of a sent notice by its Message-ID; "" when unknown. */
mp_status store_outbox_find_ticket(store *s, const char *message_id,
    char ticket[static 16], int *known);
void store_outbox_free(store_outbox *o);
void store_outbox_list_free(store_outbox **list);

/* ---- digests ---- */

/* Sets *sent when digest name was queued for period (e.g. "2024-01-08",
 * "2024-W02"). */
mp_status store_digest_sent(store *s, const char *name, const char *period,
    int *sent);
mp_status store_digest_record(store *s, const char *name, const char *period,
    int64_t outbox_id, int64_t at);

/* ---- IMAP checkpoints ---- */

/* The UIDVALIDITY and the last processed UID of mailbox (0, 0 when it
 * was never fetched). */
mp_status store_imap_get(store *s, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid);
mp_status store_imap_set(store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid);

/* ---- automatic-reply counter (sliding window) ---- */

mp_status store_autoreply_count(store *s, const char *addr, int64_t since,
    int *count);
mp_status store_autoreply_add(store *s, const char *addr, int64_t at);

/* ---- quarantine ---- */

typedef struct store_quarantine {
	int64_t id;
	char *mailbox;
	char *key;
	char *reason;
	char *from;
	char *subject;
	char *status;		/* "held" or "released" */
	int64_t at;
	char *raw;
	size_t raw_len;
} store_quarantine;

mp_status store_quarantine_add(store *s, store_quarantine *q);
mp_status store_quarantine_list(store *s, store_quarantine ***out);
mp_status store_quarantine_get(store *s, int64_t id, store_quarantine **out);
/* Sets the status and, when reason is not NULL, the reason. */
mp_status store_quarantine_set_status(store *s, int64_t id,
    const char *status, const char *reason);
void store_quarantine_free(store_quarantine *q);
void store_quarantine_list_free(store_quarantine **list);

#endif
