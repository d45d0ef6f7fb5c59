/*
 * desk.h - what the workflow needs at hand: configuration, store,
 * templates, limits.  One desk per process; the daemon rebuilds its
 * configuration and template cache on SIGHUP.
 */
#ifndef MP_DESK_H
#define MP_DESK_H

#include <glib.h>

#include "mailproc/config.h"
#include "parsers/message.h"
#include "store/store.h"

typedef struct desk {
	config *cfg;			/* owned unless borrowed_cfg */
	int borrowed_cfg;
	store *st;			/* owned */
	char *template_dirs[3];		/* operator dir, shipped dir, NULL */
	GHashTable *templates;		/* name -> tmpl *, loaded on demand */
	msg_limits limits;
} desk;

/* Opens the store of cfg (or db_path when not NULL); takes cfg on
 * success, leaves it to the caller on failure. */
mp_status desk_open(config *cfg, const char *db_path, desk **out,
    char **err);
/* The same, but cfg stays the caller's (one desk per daemon thread, all
 * sharing one read-only configuration). */
mp_status desk_open_shared(config *cfg, const char *db_path, desk **out,
    char **err);
void desk_close(desk *d);

/* The shipped template directory (compiled in, or MAILPROC_TEMPLATES). */
const char *desk_shipped_templates(void);

#endif
