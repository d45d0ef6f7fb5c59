/*
 * tickets.h - the trial-support workflow (SPEC 1.1, 3).
 */
#ifndef MP_TICKETS_H
#define MP_TICKETS_H

#include "mailproc/desk.h"

/* Applies message m (raw bytes kept) to the ticket it threads to, or
 * opens a new one.  Runs inside the pipeline's savepoint.  *outcome is
 * "TS-n created", "TS-n updated" or "TS-n refused" (g_free()). */
mp_status tickets_handle(desk *d, const cfg_mailbox *mb, const msg *m,
    const char *raw, size_t len, char **outcome);

#endif
