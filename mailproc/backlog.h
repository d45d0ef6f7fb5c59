/*
 * backlog.h - the implementation backlog workflow (SPEC 1.2, 2, 9).
 */
#ifndef MP_BACKLOG_H
#define MP_BACKLOG_H

#include "mailproc/desk.h"

/* Applies message m to the entry it threads to, or opens a new entry from
 * the Jointly-Managed Implementation Request form it carries.  Runs in the
 * pipeline's savepoint.  *outcome is "IE-n created", "IE-n updated" or
 * "IE-n refused" (g_free()).  MP_ERR_REFUSED with *why set when the
 * message cannot open an entry (quarantined by the pipeline). */
mp_status backlog_handle(desk *d, const cfg_mailbox *mb, const msg *m,
    const char *raw, size_t len, char **outcome, char **why);

/* The checklist keys of SPEC 1.2, NULL-terminated. */
extern const char *const backlog_requirements[];

/* Whole days from handoff to live, or -1 when not live. */
int64_t backlog_implementation_days(int64_t handoff_at, int64_t live_at);

#endif
