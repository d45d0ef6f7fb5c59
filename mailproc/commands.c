/*
 * commands.c - the all-or-nothing command runner.
 */
#include <stdarg.h>
#include <string.h>

#include "mailproc/clock.h"
#include "mailproc/notice.h"
#include "mailproc/pipeline.h"

#include "mailproc/commands.h"

static const cmd_rule *
rule_of(const cmd_rule *rules, const char *name)
{
	for (int i = 0; rules[i].name; i++)
		if (strcmp(rules[i].name, name) == 0 ||
		    (rules[i].alias && strcmp(rules[i].alias, name) == 0))
			return &rules[i];
	return NULL;
}

mp_status
commands_run(cmd_env *e, const cmd_rule *rules, const cmd_block *block,
    char ***problems)
{
	GPtrArray *p = g_ptr_array_new();
	mp_status rc;

	*problems = NULL;
	rc = store_savepoint(e->d->st);
	if (rc) {
		g_ptr_array_free(p, TRUE);
		return rc;
	}
	if (block->too_many)
		g_ptr_array_add(p, g_strdup_printf("more than %d commands in "
		    "one message", CMD_MAX));
	for (size_t i = 0; i < block->n && !rc; i++) {
		const cmd *c = &block->cmds[i];
		const cmd_rule *r = rule_of(rules, c->name);
		guint before = p->len;

		if (r == NULL) {
			g_ptr_array_add(p, g_strdup_printf("/%s: unknown "
			    "command", c->name));
			continue;
		}
		rc = r->run(e, c, p);
		/* Name the command in front of each of its problems. */
		for (guint k = before; k < p->len; k++) {
			char *s = g_strdup_printf("/%s: %s", c->name,
			    (char *)p->pdata[k]);

			g_free(p->pdata[k]);
			p->pdata[k] = s;
		}
	}
	if (rc || p->len > 0)
		store_rollback_savepoint(e->d->st);
	else
		rc = store_release(e->d->st);
	g_ptr_array_add(p, NULL);
	*problems = (char **)g_ptr_array_free(p, FALSE);
	return rc;
}

char *
commands_echo(const cmd_block *block)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < block->n; i++)
		g_string_append_printf(s, "  /%s%s%s\n", block->cmds[i].name,
		    *block->cmds[i].args ? " " : "", block->cmds[i].args);
	return g_string_free(s, FALSE);
}

mp_status
commands_event(cmd_env *e, const char *action, const char *detail)
{
	return store_event_add(e->d->st, e->id, clock_now(), e->sender, action,
	    detail, e->m->message_id);
}

void
commands_problem(GPtrArray *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(p, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

mp_status
commands_note(cmd_env *e, const cmd *c, GPtrArray *p)
{
	store_note n = { 0 };
	char *body;
	mp_status rc;

	body = g_strdup_printf("%s%s%s", c->args, *c->args && *e->rest ?
	    "\n\n" : "", e->rest);
	if (*body == '\0') {
		commands_problem(p, "has no text: write the note after /note "
		    "or below the commands");
		g_free(body);
		return MP_OK;
	}
	e->internal = 1;
	n.at = clock_now();
	n.author = (char *)e->sender;
	n.body = body;
	n.message_id = e->m->message_id;
	rc = store_note_add(e->d->st, e->id, &n);
	if (!rc)
		rc = commands_event(e, "note", NULL);
	g_free(body);
	return rc;
}

mp_status
commands_refuse(cmd_env *e, const notice_thread *th, const cmd_block *b,
    char **problems, const char *raw, size_t len, char **outcome)
{
	const char *to[] = { e->sender, NULL };
	char *joined, *echo;
	tvars *v;
	mp_status rc;

	rc = pipeline_record(e->d, e->mb, th->id, e->m, "internal", b->rest,
	    raw, len);
	joined = g_strjoinv("; ", problems);
	if (!rc)
		rc = commands_event(e, "commands_refused", joined);
	g_free(joined);
	v = tvars_new();
	tvars_list(v, "problems");
	for (int i = 0; problems[i]; i++)
		tvars_set(tvars_add(v, "problems"), "problem", problems[i]);
	echo = commands_echo(b);
	tvars_set(v, "commands", echo);
	g_free(echo);
	if (!rc)
		rc = notice_reply(e->d, e->mb, th, e->m, "command-error", to, v);
	tvars_free(v);
	if (!rc)
		*outcome = g_strdup_printf("%s refused", th->id);
	return rc;
}
