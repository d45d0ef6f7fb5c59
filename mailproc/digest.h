/*
 * digest.h - `mailproc digest trial-queue|backlog` (SPEC 5, 9).
 */
#ifndef MP_DIGEST_H
#define MP_DIGEST_H

#include "mailproc/desk.h"

/*
 * Builds digest which ("trial-queue" or "backlog") for the current period
 * (the UTC date, or the ISO week) and queues it to its recipients once per
 * period; force queues it again.  dry_run queues nothing and records
 * nothing: *out is the message.  Otherwise *out is one line saying what
 * happened ("... queued as outbox N" or "already sent for PERIOD", which
 * is MP_OK too).  *out is owned by the caller.
 */
mp_status digest_run(desk *d, const char *which, int dry_run, int force,
    char **out);

#endif
