/*
 * tickets.c - trial-support tickets: threading, new tickets, customer
 * follow-ups, staff correspondence.
 *
 * Who is told of what (SPEC 9):
 *   new ticket          ticket-ack to the requester (unless loop rules
 *                       forbid), ticket-new-team to teams.trial_support
 *   customer follow-up  ticket-update-owner to the owner, or the team
 *   staff reply         ticket-reply with the new text to the external
 *                       participants
 */
#include <stdlib.h>
#include <string.h>

#include "mailproc/clock.h"
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
	const char *ids[130];
	char id[16];
	int n = 0;
	long tag;
	mp_status rc;

	*out = NULL;
	*by_reference = 0;
	if (m->in_reply_to)
		ids[n++] = m->in_reply_to;
	for (int i = m->references ? 0 : -1; i >= 0 && m->references[i] &&
	    n < 129; i++)
		ids[n++] = m->references[i];
	ids[n] = NULL;
	rc = store_thread_find(d->st, "TS-", ids, id);
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

/* Stores m on ticket t with its attachments and thread entry. */
static mp_status
record_message(desk *d, const cfg_mailbox *mb, const store_ticket *t,
    const msg *m, const char *visibility, const char *raw, size_t len)
{
	store_message sm = { 0 };
	store_attachment *att = g_new0(store_attachment, m->n_attachments + 1);
	mp_status rc;

	for (size_t i = 0; i < m->n_attachments; i++) {
		att[i].filename = m->attachments[i].filename;
		att[i].content_type = m->attachments[i].content_type;
		att[i].size = (int64_t)m->attachments[i].size;
	}
	sm.ticket = (char *)t->id;
	sm.mailbox = mb->name;
	sm.message_id = m->message_id;
	sm.from = m->from;
	sm.date = m->date >= 0 ? m->date : clock_now();
	sm.visibility = (char *)visibility;
	sm.body = m->new_text;
	sm.attachments = att;
	sm.n_attachments = m->n_attachments;
	rc = store_message_add(d->st, &sm, raw, len);
	g_free(att);
	if (!rc)
		rc = store_thread_add(d->st, m->message_id, t->id);
	return rc;
}

/* Queues a notice threaded on ticket t in reply to m. */
static mp_status
tell(desk *d, const cfg_mailbox *mb, const store_ticket *t, const msg *m,
    const char *template, const char *const *to, tvars *v)
{
	const char *refs[4] = { NULL };
	notice n = { 0 };
	int64_t id;
	char *err = NULL;
	int k = 0;
	mp_status rc;

	if (t->root_message_id)
		refs[k++] = t->root_message_id;
	if (m->message_id && g_strcmp0(m->message_id, t->root_message_id))
		refs[k++] = m->message_id;
	n.template = template;
	n.ticket = t->id;
	n.from = mb->address;
	n.to = to;
	n.in_reply_to = m->message_id;
	n.references = refs;
	n.vars = v;
	tvars_set(v, "subject", t->subject);
	rc = notice_queue(d, &n, &id, &err);
	if (rc)
		g_printerr("mailproc: %s: %s not queued: %s\n", t->id,
		    template, err ? err : mp_status_str(rc));
	g_free(err);
	return rc;
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
		rc = record_message(d, mb, &t, m, "public", raw, len);
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
	rc = record_message(d, mb, t, m, "public", raw, len);
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

/* Relays a staff member's new text to the ticket's external
 * participants (SPEC 1.1 correspondence). */
static mp_status
staff_reply(desk *d, const cfg_mailbox *mb, store_ticket *t, const msg *m,
    const char *raw, size_t len, char **outcome)
{
	int64_t now = clock_now();
	char **parts = NULL;
	GPtrArray *to;
	mp_status rc;

	rc = record_message(d, mb, t, m, "public", raw, len);
	if (!rc)
		rc = store_event_add(d->st, t->id, now, m->from,
		    "correspondence", NULL, m->message_id);
	if (rc)
		return rc;
	t->updated_at = now;
	t->staff_at = now;
	rc = store_ticket_update(d->st, t);
	if (!rc)
		rc = store_participants(d->st, t->id, &parts);
	if (rc)
		return rc;
	to = g_ptr_array_new();
	for (int i = 0; parts[i]; i++)
		if (!config_is_staff_domain(d->cfg, parts[i]))
			g_ptr_array_add(to, parts[i]);
	g_ptr_array_add(to, NULL);
	if (m->new_text[0] && to->len > 1) {
		tvars *v = tvars_new();

		tvars_set(v, "body", m->new_text);
		tvars_set(v, "author", m->from);
		rc = tell(d, mb, t, m, "ticket-reply",
		    (const char *const *)to->pdata, v);
		tvars_free(v);
	}
	g_ptr_array_free(to, TRUE);
	g_strfreev(parts);
	if (rc)
		return rc;
	*outcome = g_strdup_printf("%s updated", t->id);
	return MP_OK;
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
		rc = staff_reply(d, mb, t, m, raw, len, outcome);
	else
		rc = customer_reply(d, mb, t, m, by_reference, raw, len,
		    outcome);
	store_ticket_free(t);
	return rc;
}
