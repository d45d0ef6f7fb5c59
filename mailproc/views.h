/*
 * views.h - what the read-only commands print: text tables and the stable
 * JSON shapes of SPEC 5.1.  Each returns the text to print, owned by the
 * caller (g_free()).
 */
#ifndef MP_VIEWS_H
#define MP_VIEWS_H

#include <stdint.h>

#include "mailproc/desk.h"

mp_status view_tickets(desk *d, const char *status, int json, char **out);
mp_status view_backlog(desk *d, const char *status, int json, char **out);
/* A ticket (TS-n) or backlog entry (IE-n).  MP_ERR_NOT_FOUND for an
 * unknown id. */
mp_status view_show(desk *d, const char *id, int json, char **out);
mp_status view_outbox(desk *d, int json, char **out);
mp_status view_outbox_one(desk *d, int64_t id, int raw, char **out);
mp_status view_quarantine(desk *d, char **out);
mp_status view_quarantine_one(desk *d, int64_t id, char **out);

#endif
