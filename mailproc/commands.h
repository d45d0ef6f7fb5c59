/*
 * commands.h - running a staff message's slash commands (SPEC 2).
 *
 * Each domain (tickets, backlog) gives a table of {name, alias, run}
 * rows.  commands_run() runs every command in order inside a savepoint;
 * each handler checks its command against the state the earlier ones left
 * and either records problems (changing nothing) or applies it.  When any
 * command had a problem the savepoint is rolled back: nothing is applied
 * and the caller replies once with every problem (SPEC 9).
 */
#ifndef MP_WORKFLOW_COMMANDS_H
#define MP_WORKFLOW_COMMANDS_H

#include <glib.h>

#include "mailproc/desk.h"
#include "mailproc/notice.h"
#include "parsers/commands.h"

typedef struct cmd_env {
	desk *d;
	const cfg_mailbox *mb;
	const msg *m;
	const char *sender;	/* the authenticated staff address */
	const char *rest;	/* the message text after the command block */
	const char *id;		/* "TS-n" or "IE-n" */
	void *item;		/* what the commands act on */
	int internal;		/* set by /note and /macro: rest is internal */
} cmd_env;

/* Checks and applies c.  Appends one string per problem to problems
 * (g_strdup'ed) and then must change nothing.  Returns a failure only when
 * the store fails. */
typedef mp_status (*cmd_fn)(cmd_env *e, const cmd *c, GPtrArray *problems);

typedef struct cmd_rule {
	const char *name;
	const char *alias;	/* or NULL */
	cmd_fn run;
} cmd_rule;

/* Runs block with rules (terminated by a row with name NULL).  *problems
 * is a NULL-terminated list, empty when everything was applied
 * (g_strfreev()). */
mp_status commands_run(cmd_env *e, const cmd_rule *rules,
    const cmd_block *block, char ***problems);

/* Records an event on e->id by the sender, carrying the message's id. */
mp_status commands_event(cmd_env *e, const char *action, const char *detail);

/* Appends a formatted problem to p. */
void commands_problem(GPtrArray *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* /note [text]: the command's argument and the text below the block are
 * an internal note on e->id (shared by tickets and backlog entries). */
mp_status commands_note(cmd_env *e, const cmd *c, GPtrArray *problems);

/* After commands_run() reported problems (and applied nothing): stores
 * the message as internal, records a commands_refused event and sends the
 * sender one command-error reply listing every problem.  *outcome is
 * "ID refused". */
mp_status commands_refuse(cmd_env *e, const notice_thread *th,
    const cmd_block *b, char **problems, const char *raw, size_t len,
    char **outcome);

/* Formats the command lines of block for a reply (g_free()). */
char *commands_echo(const cmd_block *block);

#endif
