/*
 * notice.h - rendering a template into an outbox row.
 *
 * The outbox row is written in the caller's transaction.  Which templates
 * are internal, automatic or auto-submitted is decided here, from one
 * table, not by the caller: an internal template addressed to anyone
 * outside staff_domains becomes a failed row with an error and is never
 * sent (SPEC 3, internal stays internal).
 */
#ifndef MP_NOTICE_H
#define MP_NOTICE_H

#include <stdint.h>

#include "mailproc/desk.h"
#include "templates/render.h"

typedef struct notice {
	const char *template;		/* a name of SPEC 9 */
	const char *ticket;		/* "TS-n", "IE-n" or NULL */
	const char *from;		/* the mailbox address */
	const char *const *to;		/* bare addresses; own ones dropped */
	const char *in_reply_to;	/* "<id>" or NULL */
	const char *const *references;	/* "<id>"s or NULL */
	tvars *vars;			/* borrowed */
} notice;

/* Renders and queues n.  *id is the outbox row, or 0 when no recipient
 * was left (all own addresses, or over the automatic-reply limit). */
mp_status notice_queue(desk *d, const notice *n, int64_t *id, char **err);

/* The variables template name may use (NULL-terminated), or NULL when
 * name is not a template mailproc sends. */
const char *const *notice_template_vars(const char *name);
/* Every template name (NULL-terminated). */
const char *const *notice_template_names(void);

#endif
