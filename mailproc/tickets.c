/*
 * tickets.c - trial-support tickets: threading, new tickets, customer
 * follow-ups, staff correspondence.
 *
 * Who is told of what (SPEC 9):
 *   new ticket          ticket-ack to the requester (unless loop rules
 *                       forbid), ticket-new-team to teams.trial_support
 *   customer follow-up  ticket-update-owner to the owner, or the team
 *   staff reply         ticket-reply with the new text to the external
 *                       participants, unless /note or /macro make it
 *                       internal
 *   /start              ticket-assigned to the requester
 *   /transfer           ticket-transfer-request to support engineering
 *   SE /take, /transfer ADDRESS
 *                       ticket-transferred to the new owner, the
 *                       previous owner and the requester
 *   /end                ticket-ended to the requester
 *   refused commands    command-error to the sender
 */
#include <stdlib.h>
#include <string.h>

#include "mailproc/clock.h"
#include "mailproc/commands.h"
#include "mailproc/json.h"
#include "mailproc/notice.h"
#include "mailproc/pipeline.h"
#include "mailproc/tickets.h"

/* Returns n when subject holds the tag "[TS-n]", else 0. */
static long
subject_tag(const char *subject)
{
	for (const char *p = subject ? strstr(subject, "[TS-") : NULL; p;
	    p = strstr(p + 1, "[TS-")) {
		char *end;
		long n;

		if (!g_ascii_isdigit(p[4]))
			continue;
		n = strtol(p + 4, &end, 10);
		if (*end == ']' && n > 0 && end - (p + 4) <= 9)
			return n;
	}
	return 0;
}

/* Finds the ticket m belongs to: by In-Reply-To/References first, then by
 * subject tag when the sender is a participant or staff (SPEC 3). */
static mp_status
find_ticket(desk *d, const msg *m, int staff, store_ticket **out,
    int *by_reference)
{
	char id[16];
	long tag;
	mp_status rc;

	*out = NULL;
	*by_reference = 0;
	rc = pipeline_thread_find(d, m, "TS-", id);
	if (rc)
		return rc;
	if (id[0]) {
		*by_reference = 1;
		return store_ticket_get(d->st, id, out);
	}
	tag = subject_tag(m->subject);
	if (tag > 0) {
		store_ticket *t = NULL;
		int participant = 0;

		g_snprintf(id, sizeof(id), "TS-%ld", tag);
		rc = store_ticket_get(d->st, id, &t);
		if (rc == MP_ERR_NOT_FOUND)
			return MP_OK;
		if (rc)
			return rc;
		rc = store_participant_has(d->st, id, m->from, &participant);
		if (rc || !(participant || staff ||
		    g_strcmp0(t->owner, m->from) == 0)) {
			store_ticket_free(t);
			return rc;
		}
		*out = t;
	}
	return MP_OK;
}

static void
set_str(char **field, const char *v)
{
	g_free(*field);
	*field = g_strdup(v);
}

static void
attachment_vars(tvars *v, const msg *m)
{
	tvars_list(v, "attachments");
	for (size_t i = 0; i < m->n_attachments; i++) {
		tvars *a = tvars_add(v, "attachments");

		tvars_set(a, "filename", m->attachments[i].filename ?
		    m->attachments[i].filename : "(no name)");
		tvars_set(a, "content_type", m->attachments[i].content_type);
		tvars_setf(a, "size", "%zu", m->attachments[i].size);
	}
}

/* Queues a notice threaded on ticket t in reply to m. */
static mp_status
tell(desk *d, const cfg_mailbox *mb, const store_ticket *t, const msg *m,
    const char *template, const char *const *to, tvars *v)
{
	notice_thread th = { t->id, t->root_message_id, t->subject };

	return notice_reply(d, mb, &th, m, template, to, v);
}

static mp_status
open_ticket(desk *d, const cfg_mailbox *mb, const msg *m, const char *raw,
    size_t len, char **outcome)
{
	store_ticket t = { 0 };
	int64_t now = clock_now();
	tvars *v = NULL;
	mp_status rc;

	t.mailbox = mb->name;
	t.status = "waiting";
	t.priority = "normal";
	t.subject = m->subject ? m->subject : "(no subject)";
	t.requester = m->from;
	t.root_message_id = m->message_id;
	t.created_at = t.updated_at = now;
	t.staff_at = -1;
	rc = store_ticket_create(d->st, &t);
	if (rc)
		return rc;
	rc = store_participant_add(d->st, t.id, m->from);
	for (int pass = 0; !rc && pass < 2; pass++) {
		char **list = pass ? m->cc : m->to;

		for (int i = 0; !rc && list[i]; i++)
			if (!config_is_own_address(d->cfg, list[i]) &&
			    !config_is_staff_domain(d->cfg, list[i]))
				rc = store_participant_add(d->st, t.id,
				    list[i]);
	}
	if (!rc)
		rc = pipeline_record(d, mb, t.id, m, "public", m->new_text, raw, len);
	if (!rc)
		rc = store_event_add(d->st, t.id, now, m->from, "created",
		    t.subject, m->message_id);
	if (rc)
		return rc;

	if (pipeline_may_autoreply(d, m)) {
		const char *to[] = { m->from, NULL };

		v = tvars_new();
		tvars_set(v, "requester", m->from);
		rc = tell(d, mb, &t, m, "ticket-ack", to, v);
		tvars_free(v);
		if (rc)
			return rc;
	}
	v = tvars_new();
	tvars_set(v, "requester", m->from);
	tvars_set(v, "requester_name", m->from_name ? m->from_name : "");
	tvars_set(v, "body", m->new_text);
	tvars_set(v, "auto_reason", m->auto_reason ? m->auto_reason : "");
	attachment_vars(v, m);
	rc = tell(d, mb, &t, m, "ticket-new-team",
	    (const char *const *)d->cfg->team_trial_support, v);
	tvars_free(v);
	if (rc)
		return rc;
	*outcome = g_strdup_printf("%s created", t.id);
	return MP_OK;
}

static mp_status
customer_reply(desk *d, const cfg_mailbox *mb, store_ticket *t, const msg *m,
    int by_reference, const char *raw, size_t len, char **outcome)
{
	int64_t now = clock_now();
	int reopened = 0;
	tvars *v;
	mp_status rc;

	if (by_reference && !config_is_own_address(d->cfg, m->from)) {
		rc = store_participant_add(d->st, t->id, m->from);
		if (rc)
			return rc;
	}
	rc = pipeline_record(d, mb, t->id, m, "public", m->new_text, raw, len);
	if (!rc)
		rc = store_event_add(d->st, t->id, now, m->from,
		    "customer_reply", NULL, m->message_id);
	if (rc)
		return rc;
	if (strcmp(t->status, "ended") == 0) {
		set_str(&t->status, t->owner ? "in_progress" : "waiting");
		reopened = 1;
		rc = store_event_add(d->st, t->id, now, m->from, "reopened",
		    t->status, m->message_id);
		if (rc)
			return rc;
	}
	t->updated_at = now;
	rc = store_ticket_update(d->st, t);
	if (rc)
		return rc;

	v = tvars_new();
	tvars_set(v, "from", m->from);
	tvars_set(v, "body", m->new_text);
	tvars_set(v, "owner", t->owner ? t->owner : "");
	tvars_set(v, "status", t->status);
	tvars_set(v, "reopened", reopened ? "yes" : "");
	attachment_vars(v, m);
	if (t->owner) {
		const char *to[] = { t->owner, NULL };

		rc = tell(d, mb, t, m, "ticket-update-owner", to, v);
	} else {
		rc = tell(d, mb, t, m, "ticket-update-owner",
		    (const char *const *)d->cfg->team_trial_support, v);
	}
	tvars_free(v);
	if (rc)
		return rc;
	*outcome = g_strdup_printf("%s updated", t->id);
	return MP_OK;
}

/* ---- staff commands (SPEC 2) -------------------------------------------- */

#define MACRO_NAME "customer-support-ticket-request"

static int
is_open(const store_ticket *t)
{
	return strcmp(t->status, "ended") != 0;
}


/* Makes who the owner and tells the new owner, the previous one and the
 * requester (SE /take, /transfer ADDRESS). */
static mp_status
hand_over(cmd_env *e, const char *who)
{
	store_ticket *t = e->item;
	char *previous = t->owner ? g_strdup(t->owner) : NULL;
	const char *to[] = { who, previous ? previous : t->requester,
	    t->requester, NULL };
	tvars *v = tvars_new();
	mp_status rc;

	set_str(&t->owner, who);
	set_str(&t->status, "in_progress");
	rc = commands_event(e, "transferred", who);
	tvars_set(v, "owner", who);
	tvars_set(v, "previous_owner", previous ? previous : "");
	if (!rc)
		rc = tell(e->d, e->mb, t, e->m, "ticket-transferred", to, v);
	tvars_free(v);
	g_free(previous);
	return rc;
}

static mp_status
cmd_start(cmd_env *e, const cmd *c, GPtrArray *p)
{
	store_ticket *t = e->item;
	const char *role = config_role_name(e->d->cfg, e->sender);
	const char *to[] = { t->requester, NULL };
	tvars *v;
	mp_status rc;

	if (*c->args) {
		commands_problem(p, "takes no arguments (got '%s')", c->args);
		return MP_OK;
	}
	if (!is_open(t)) {
		commands_problem(p, "%s is ended; /reopen it first", t->id);
		return MP_OK;
	}
	if (strcmp(t->status, "transfer_requested") == 0) {
		if (strcmp(role, "se") != 0) {
			commands_problem(p, "%s waits for support engineering: only a "
			    "support engineer (role se) can take it", t->id);
			return MP_OK;
		}
		return hand_over(e, e->sender);
	}
	if (t->owner && strcmp(t->owner, e->sender) == 0)
		return MP_OK;		/* already yours: a no-op */
	if (t->owner) {
		commands_problem(p, "%s is owned by %s; the owner can /transfer it",
		    t->id, t->owner);
		return MP_OK;
	}
	set_str(&t->owner, e->sender);
	set_str(&t->status, "in_progress");
	rc = commands_event(e, "assigned", e->sender);
	if (rc)
		return rc;
	v = tvars_new();
	tvars_set(v, "owner", e->sender);
	rc = tell(e->d, e->mb, t, e->m, "ticket-assigned", to, v);
	tvars_free(v);
	return rc;
}

/* Returns the fields of the newest macro note of t as parsed again from
 * its text, or NULL when t has none. */
static mp_status
latest_macro(cmd_env *e, macro_fields **out)
{
	store_ticket *t = e->item;
	store_note **notes = NULL;
	mp_status rc = store_notes(e->d->st, t->id, &notes);
	const char *body = NULL;

	*out = NULL;
	for (size_t i = 0; !rc && notes[i]; i++)
		if (notes[i]->macro && strcmp(notes[i]->macro, MACRO_NAME) == 0)
			body = notes[i]->body;
	if (body)
		*out = macro_parse(body);
	store_note_list_free(notes);
	return rc;
}

static mp_status
cmd_macro(cmd_env *e, const cmd *c, GPtrArray *p)
{
	store_ticket *t = e->item;
	macro_fields *f;
	store_note n = { 0 };
	GString *json;
	mp_status rc;

	if (g_ascii_strcasecmp(c->args, MACRO_NAME) != 0 &&
	    g_ascii_strcasecmp(c->args, "cstr") != 0) {
		commands_problem(p, "unknown macro '%s' (known: %s, alias cstr)",
		    c->args, MACRO_NAME);
		return MP_OK;
	}
	f = macro_parse(e->rest);
	if (f->problems[0]) {
		for (int i = 0; f->problems[i]; i++)
			commands_problem(p, "%s", f->problems[i]);
		macro_fields_free(f);
		return MP_OK;
	}
	e->internal = 1;
	json = g_string_new("{");
	for (int k = 0; k < MACRO_N_FIELDS; k++) {
		g_string_append_printf(json, "%s\"%s\": ", k ? ", " : "",
		    macro_keys[k]);
		json_escape_append(json, f->value[k]);
	}
	g_string_append_c(json, '}');
	n.at = clock_now();
	n.author = (char *)e->sender;
	n.macro = MACRO_NAME;
	n.fields_json = json->str;
	n.body = (char *)e->rest;
	n.message_id = e->m->message_id;
	rc = store_note_add(e->d->st, t->id, &n);
	if (!rc)
		rc = commands_event(e, "macro", MACRO_NAME);
	g_string_free(json, TRUE);
	macro_fields_free(f);
	return rc;
}

static mp_status
cmd_transfer(cmd_env *e, const cmd *c, GPtrArray *p)
{
	store_ticket *t = e->item;
	int owner = t->owner && strcmp(t->owner, e->sender) == 0;
	int ce = strcmp(config_role_name(e->d->cfg, e->sender), "ce") == 0;
	macro_fields *f = NULL;
	tvars *v;
	mp_status rc;

	if (!owner && !ce) {
		commands_problem(p, "only the owner%s%s%s or a customer engineer can "
		    "transfer %s", t->owner ? " (" : "", t->owner ? t->owner :
		    "", t->owner ? ")" : "", t->id);
		return MP_OK;
	}
	if (!is_open(t)) {
		commands_problem(p, "%s is ended; /reopen it first", t->id);
		return MP_OK;
	}
	rc = latest_macro(e, &f);
	if (rc)
		return rc;
	if (f == NULL || f->problems[0]) {
		commands_problem(p, "%s needs a complete Customer Support Ticket "
		    "Request first: send /macro cstr with its fields", t->id);
		macro_fields_free(f);
		return MP_OK;
	}
	if (*c->args) {
		char *who = g_ascii_strdown(c->args, -1);

		if (!config_has_role(e->d->cfg, who, ROLE_SE)) {
			commands_problem(p, "%s is not a support engineer (not in "
			    "[roles] se)", who);
			rc = MP_OK;
		} else {
			rc = hand_over(e, who);
		}
		g_free(who);
		macro_fields_free(f);
		return rc;
	}
	if (strcmp(t->status, "transfer_requested") == 0) {
		commands_problem(p, "%s already waits for support engineering", t->id);
		macro_fields_free(f);
		return MP_OK;
	}
	set_str(&t->status, "transfer_requested");
	rc = commands_event(e, "transfer_requested", NULL);
	v = tvars_new();
	tvars_set(v, "requester", t->requester);
	tvars_set(v, "owner", t->owner ? t->owner : "");
	tvars_set(v, "requested_by", e->sender);
	for (int k = 0; k < MACRO_N_FIELDS; k++)
		tvars_set(v, macro_keys[k], f->value[k] ? f->value[k] : "-");
	if (!rc)
		rc = tell(e->d, e->mb, t, e->m, "ticket-transfer-request",
		    (const char *const *)e->d->cfg->team_support_engineering,
		    v);
	tvars_free(v);
	macro_fields_free(f);
	return rc;
}

static mp_status
cmd_end(cmd_env *e, const cmd *c, GPtrArray *p)
{
	store_ticket *t = e->item;
	const char *to[] = { t->requester, NULL };
	tvars *v;
	mp_status rc;

	if (*c->args) {
		commands_problem(p, "takes no arguments (got '%s')", c->args);
		return MP_OK;
	}
	if (t->owner == NULL) {
		commands_problem(p, "%s has no owner: /start it first", t->id);
		return MP_OK;
	}
	if (strcmp(t->owner, e->sender) != 0) {
		commands_problem(p, "only the owner (%s) can end %s", t->owner, t->id);
		return MP_OK;
	}
	if (!is_open(t)) {
		commands_problem(p, "%s is already ended", t->id);
		return MP_OK;
	}
	set_str(&t->prev_status, t->status);
	set_str(&t->status, "ended");
	rc = commands_event(e, "ended", NULL);
	if (rc)
		return rc;
	v = tvars_new();
	tvars_set(v, "owner", t->owner);
	rc = tell(e->d, e->mb, t, e->m, "ticket-ended", to, v);
	tvars_free(v);
	return rc;
}

static mp_status
cmd_reopen(cmd_env *e, const cmd *c, GPtrArray *p)
{
	store_ticket *t = e->item;

	if (is_open(t)) {
		commands_problem(p, "%s is not ended (it is %s)", t->id, t->status);
		return MP_OK;
	}
	set_str(&t->status, t->prev_status && strcmp(t->prev_status,
	    "ended") != 0 ? t->prev_status : t->owner ? "in_progress" :
	    "waiting");
	return commands_event(e, "reopened", t->status);
}

static mp_status
cmd_priority(cmd_env *e, const cmd *c, GPtrArray *p)
{
	static const char *const levels[] = { "low", "normal", "high",
	    "urgent", NULL };
	store_ticket *t = e->item;

	for (int i = 0; levels[i]; i++)
		if (g_ascii_strcasecmp(c->args, levels[i]) == 0) {
			set_str(&t->priority, levels[i]);
			return commands_event(e, "priority", levels[i]);
		}
	commands_problem(p, "'%s' is not a priority (low, normal, high, urgent)",
	    c->args);
	return MP_OK;
}

static const cmd_rule ticket_rules[] = {
	{ "start", "take", cmd_start },
	{ "note", NULL, commands_note },
	{ "macro", NULL, cmd_macro },
	{ "transfer", NULL, cmd_transfer },
	{ "end", NULL, cmd_end },
	{ "reopen", NULL, cmd_reopen },
	{ "priority", NULL, cmd_priority },
	{ NULL, NULL, NULL },
};

/* Relays text to the ticket's external participants. */
static mp_status
relay(desk *d, const cfg_mailbox *mb, store_ticket *t, const msg *m,
    const char *text)
{
	char **parts = NULL;
	GPtrArray *to;
	mp_status rc = store_participants(d->st, t->id, &parts);

	if (rc)
		return rc;
	to = g_ptr_array_new();
	for (int i = 0; parts[i]; i++)
		if (!config_is_staff_domain(d->cfg, parts[i]))
			g_ptr_array_add(to, parts[i]);
	g_ptr_array_add(to, NULL);
	if (*text && to->len > 1) {
		tvars *v = tvars_new();

		tvars_set(v, "body", text);
		tvars_set(v, "author", m->from);
		rc = tell(d, mb, t, m, "ticket-reply",
		    (const char *const *)to->pdata, v);
		tvars_free(v);
	}
	g_ptr_array_free(to, TRUE);
	g_strfreev(parts);
	return rc;
}

/* A message from authenticated staff on ticket t: commands, then
 * correspondence (SPEC 1.1, 2, 9). */
static mp_status
staff_message(desk *d, const cfg_mailbox *mb, store_ticket *t, const msg *m,
    const char *raw, size_t len, char **outcome)
{
	cmd_block *b = cmd_parse(m->new_text);
	cmd_env e = { 0 };
	char **problems = NULL;
	int64_t now = clock_now();
	const char *visibility;
	mp_status rc = MP_OK;

	e.d = d;
	e.mb = mb;
	e.m = m;
	e.sender = m->from;
	e.rest = b->rest;
	e.id = t->id;
	e.item = t;
	if (b->n > 0 || b->too_many) {
		rc = commands_run(&e, ticket_rules, b, &problems);
		if (rc)
			goto done;
		if (problems[0]) {
			notice_thread th = { t->id, t->root_message_id,
			    t->subject };

			rc = commands_refuse(&e, &th, b, problems, raw, len,
			    outcome);
			goto done;
		}
	}
	visibility = e.internal || *b->rest == '\0' ? "internal" : "public";
	t->updated_at = now;
	t->staff_at = now;
	rc = store_ticket_update(d->st, t);
	if (!rc)
		rc = pipeline_record(d, mb, t->id, m, visibility, b->rest, raw,
		    len);
	if (!rc && strcmp(visibility, "public") == 0)
		rc = store_event_add(d->st, t->id, now, m->from,
		    "correspondence", NULL, m->message_id);
	if (!rc && strcmp(visibility, "public") == 0)
		rc = relay(d, mb, t, m, b->rest);
	if (!rc)
		*outcome = g_strdup_printf("%s updated", t->id);
done:
	g_strfreev(problems);
	cmd_block_free(b);
	return rc;
}

mp_status
tickets_handle(desk *d, const cfg_mailbox *mb, const msg *m, const char *raw,
    size_t len, char **outcome)
{
	int staff = pipeline_sender_is_staff(d, m);
	store_ticket *t = NULL;
	int by_reference = 0;
	mp_status rc;

	rc = find_ticket(d, m, staff, &t, &by_reference);
	if (rc)
		return rc;
	if (t == NULL)
		return open_ticket(d, mb, m, raw, len, outcome);
	if (staff)
		rc = staff_message(d, mb, t, m, raw, len, outcome);
	else
		rc = customer_reply(d, mb, t, m, by_reference, raw, len,
		    outcome);
	store_ticket_free(t);
	return rc;
}
