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
	char **preview;			/* when set: the composed message is
					 * returned here (g_free()) and nothing
					 * is queued (a dry run) */
	size_t *preview_len;
} notice;

/* Renders and queues n.  *id is the outbox row, or 0 when no recipient
 * was left (all own addresses, or over the automatic-reply limit). */
mp_status notice_queue(desk *d, const notice *n, int64_t *id, char **err);

/* The thread a notice belongs to. */
typedef struct notice_thread {
	const char *id;			/* "TS-n" or "IE-n" */
	const char *root_message_id;	/* first message, or NULL */
	const char *subject;		/* the thread's subject */
} notice_thread;

/* Queues template for th, in reply to m (may be NULL): In-Reply-To m,
 * References the thread root and m, the subject variable set to the
 * thread subject without reply prefixes.  Failures are logged. */
mp_status notice_reply(desk *d, const cfg_mailbox *mb,
    const notice_thread *th, const msg *m, const char *template,
    const char *const *to, tvars *v);

/* Returns subject without leading "Re:", "Fwd:", "AW:", ... prefixes
 * (borrowed from subject). */
const char *notice_subject_base(const char *subject);

/* The variables template name may use (NULL-terminated), or NULL when
 * name is not a template mailproc sends. */
const char *const *notice_template_vars(const char *name);
/* Every template name (NULL-terminated). */
const char *const *notice_template_names(void);

#endif
