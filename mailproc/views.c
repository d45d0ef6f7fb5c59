/*
 * views.c - listings and the JSON shapes of SPEC 5.1.
 */
#include <string.h>

#include "mailproc/backlog.h"
#include "mailproc/clock.h"
#include "mailproc/json.h"
#include "mailproc/views.h"

static void
ticket_summary_json(json_out *j, const store_ticket *t)
{
	json_key(j, "id"); json_string(j, t->id);
	json_key(j, "kind"); json_string(j, "ticket");
	json_key(j, "mailbox"); json_string(j, t->mailbox);
	json_key(j, "status"); json_string(j, t->status);
	json_key(j, "priority"); json_string(j, t->priority);
	json_key(j, "subject"); json_string(j, t->subject);
	json_key(j, "requester"); json_string(j, t->requester);
	json_key(j, "owner"); json_string(j, t->owner);
	json_key(j, "created_at"); json_time(j, t->created_at);
	json_key(j, "updated_at"); json_time(j, t->updated_at);
}

mp_status
view_tickets(desk *d, const char *status, int json, char **out)
{
	store_ticket **list = NULL;
	mp_status rc = store_ticket_list(d->st, status, &list);

	*out = NULL;
	if (rc)
		goto done;
	if (json) {
		json_out *j = json_new();

		json_array_begin(j);
		for (size_t i = 0; list[i]; i++) {
			json_object_begin(j);
			ticket_summary_json(j, list[i]);
			json_object_end(j);
		}
		json_array_end(j);
		*out = json_finish(j);
	} else {
		GString *s = g_string_new(NULL);

		for (size_t i = 0; list[i]; i++) {
			char at[21];

			clock_format(list[i]->created_at, at);
			g_string_append_printf(s, "%-8s %-18s %-8s %s  %-30s "
			    "%s\n", list[i]->id, list[i]->status,
			    list[i]->priority, at, list[i]->requester,
			    list[i]->subject);
		}
		if (s->len == 0)
			g_string_append(s, "no tickets\n");
		*out = g_string_free(s, FALSE);
	}
done:
	store_ticket_list_free(list);
	return rc;
}

static void
notes_json(json_out *j, store_note **notes)
{
	json_array_begin(j);
	for (size_t i = 0; notes[i]; i++) {
		json_object_begin(j);
		json_key(j, "author"); json_string(j, notes[i]->author);
		json_key(j, "macro"); json_string(j, notes[i]->macro);
		json_key(j, "fields"); json_raw(j, notes[i]->fields_json);
		json_key(j, "body"); json_string(j, notes[i]->body);
		json_object_end(j);
	}
	json_array_end(j);
}

static void
events_json(json_out *j, store_event **events)
{
	json_array_begin(j);
	for (size_t i = 0; events[i]; i++) {
		json_object_begin(j);
		json_key(j, "at"); json_time(j, events[i]->at);
		json_key(j, "actor"); json_string(j, events[i]->actor);
		json_key(j, "action"); json_string(j, events[i]->action);
		json_key(j, "detail"); json_string(j, events[i]->detail);
		json_object_end(j);
	}
	json_array_end(j);
}

static void
events_text(GString *s, store_event **events)
{
	char at[21];

	g_string_append(s, "\nEvents:\n");
	for (size_t i = 0; events[i]; i++) {
		clock_format(events[i]->at, at);
		g_string_append_printf(s, "  %s  %-16s %s%s%s\n", at,
		    events[i]->action, events[i]->actor ? events[i]->actor :
		    "-", events[i]->detail ? "  " : "",
		    events[i]->detail ? events[i]->detail : "");
	}
}

static void
show_json(json_out *j, const store_ticket *t, char **parts,
    store_message **msgs, store_note **notes, store_event **events)
{
	json_object_begin(j);
	json_key(j, "id"); json_string(j, t->id);
	json_key(j, "kind"); json_string(j, "ticket");
	json_key(j, "mailbox"); json_string(j, t->mailbox);
	json_key(j, "status"); json_string(j, t->status);
	json_key(j, "priority"); json_string(j, t->priority);
	json_key(j, "subject"); json_string(j, t->subject);
	json_key(j, "requester"); json_string(j, t->requester);
	json_key(j, "participants");
	json_array_begin(j);
	for (size_t i = 0; parts[i]; i++)
		json_string(j, parts[i]);
	json_array_end(j);
	json_key(j, "owner"); json_string(j, t->owner);
	json_key(j, "created_at"); json_time(j, t->created_at);
	json_key(j, "updated_at"); json_time(j, t->updated_at);
	json_key(j, "messages");
	json_array_begin(j);
	for (size_t i = 0; msgs[i]; i++) {
		store_message *m = msgs[i];

		json_object_begin(j);
		json_key(j, "message_id"); json_string(j, m->message_id);
		json_key(j, "from"); json_string(j, m->from);
		json_key(j, "date"); json_time(j, m->date);
		json_key(j, "visibility"); json_string(j, m->visibility);
		json_key(j, "body"); json_string(j, m->body);
		json_key(j, "attachments");
		json_array_begin(j);
		for (size_t k = 0; k < m->n_attachments; k++) {
			json_object_begin(j);
			json_key(j, "filename");
			json_string(j, m->attachments[k].filename);
			json_key(j, "content_type");
			json_string(j, m->attachments[k].content_type);
			json_key(j, "size");
			json_int(j, m->attachments[k].size);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "notes");
	notes_json(j, notes);
	json_key(j, "events");
	events_json(j, events);
	json_object_end(j);
}

static void
show_text(GString *s, const store_ticket *t, char **parts,
    store_message **msgs, store_note **notes, store_event **events)
{
	char at[21];

	g_string_append_printf(s, "%s  %s  priority %s\n", t->id, t->status,
	    t->priority);
	g_string_append_printf(s, "Subject:      %s\n", t->subject);
	g_string_append_printf(s, "Requester:    %s\n", t->requester);
	g_string_append_printf(s, "Owner:        %s\n", t->owner ? t->owner :
	    "(none)");
	g_string_append(s, "Participants:");
	for (size_t i = 0; parts[i]; i++)
		g_string_append_printf(s, " %s", parts[i]);
	clock_format(t->created_at, at);
	g_string_append_printf(s, "\nCreated:      %s\n", at);
	for (size_t i = 0; msgs[i]; i++) {
		clock_format(msgs[i]->date, at);
		g_string_append_printf(s, "\n--- %s %s from %s (%s)\n%s\n",
		    msgs[i]->visibility, at, msgs[i]->from,
		    msgs[i]->message_id ? msgs[i]->message_id : "no id",
		    msgs[i]->body);
		for (size_t k = 0; k < msgs[i]->n_attachments; k++)
			g_string_append_printf(s, "    [attachment: %s, %s, "
			    "%" G_GINT64_FORMAT " bytes]\n",
			    msgs[i]->attachments[k].filename ?
			    msgs[i]->attachments[k].filename : "(no name)",
			    msgs[i]->attachments[k].content_type,
			    msgs[i]->attachments[k].size);
	}
	for (size_t i = 0; notes[i]; i++)
		g_string_append_printf(s, "\n--- note by %s%s%s\n%s\n",
		    notes[i]->author, notes[i]->macro ? ", macro " : "",
		    notes[i]->macro ? notes[i]->macro : "",
		    notes[i]->body ? notes[i]->body : "");
	events_text(s, events);
}

/* ---- backlog entries ---- */

static const char *const entry_keys[STORE_ENTRY_FIELDS] = {
	"customer_name", "salesforce_url", "tdd_url", "deployment_type",
	"hosting_provider", "additional_info", "segment", "ae", "arr",
	"expected_users", "expected_repos", "code_hosts",
};

/* Writes a comma-separated stored list as a JSON array. */
static void
csv_json(json_out *j, const char *csv)
{
	char **parts = g_strsplit(csv ? csv : "", ",", -1);

	json_array_begin(j);
	for (int i = 0; parts[i]; i++)
		if (*parts[i])
			json_string(j, parts[i]);
	json_array_end(j);
	g_strfreev(parts);
}

static int
csv_has(const char *csv, const char *item)
{
	char **parts = g_strsplit(csv ? csv : "", ",", -1);
	int has = g_strv_contains((const char *const *)parts, item);

	g_strfreev(parts);
	return has;
}

static void
entry_field_json(json_out *j, const store_entry *e, int k)
{
	json_key(j, entry_keys[k]);
	if (k == STORE_ENTRY_ARR && e->field[k])
		json_int(j, g_ascii_strtoll(e->field[k], NULL, 10));
	else
		json_string(j, e->field[k]);
}

static void
entry_json(json_out *j, const store_entry *e, store_note **notes,
    store_event **events)
{
	int64_t days = backlog_implementation_days(e->handoff_at, e->live_at);

	json_object_begin(j);
	json_key(j, "id"); json_string(j, e->id);
	json_key(j, "kind"); json_string(j, "backlog");
	json_key(j, "status"); json_string(j, e->status);
	for (int k = 0; k <= STORE_ENTRY_ARR; k++)
		entry_field_json(j, e, k);
	json_key(j, "requested_by"); json_string(j, e->requested_by);
	json_key(j, "priority"); json_string(j, e->priority);
	json_key(j, "size"); json_string(j, e->size);
	json_key(j, "risk"); json_string(j, e->risk);
	json_key(j, "ie"); json_string(j, e->ie);
	json_key(j, "pm"); json_string(j, e->pm);
	json_key(j, "tdd_signed_off"); json_bool(j, e->tdd_signed_off);
	json_key(j, "missing_fields"); csv_json(j, e->missing_fields);
	json_key(j, "flags"); csv_json(j, e->flags);
	json_key(j, "requirements");
	json_object_begin(j);
	for (int i = 0; backlog_requirements[i]; i++) {
		json_key(j, backlog_requirements[i]);
		json_bool(j, csv_has(e->requirements, backlog_requirements[i]));
	}
	json_object_end(j);
	json_key(j, "created_at"); json_time(j, e->created_at);
	json_key(j, "handoff_at"); json_time(j, e->handoff_at);
	json_key(j, "live_at"); json_time(j, e->live_at);
	json_key(j, "implementation_days");
	if (days >= 0)
		json_int(j, days);
	else
		json_null(j);
	if (notes) {
		json_key(j, "notes");
		notes_json(j, notes);
		json_key(j, "events");
		events_json(j, events);
	}
	json_object_end(j);
}

mp_status
view_backlog(desk *d, const char *status, int json, char **out)
{
	store_entry **list = NULL;
	mp_status rc = store_entry_list(d->st, status, &list);

	*out = NULL;
	if (rc)
		goto done;
	if (json) {
		json_out *j = json_new();

		json_array_begin(j);
		for (size_t i = 0; list[i]; i++)
			entry_json(j, list[i], NULL, NULL);
		json_array_end(j);
		*out = json_finish(j);
	} else {
		GString *s = g_string_new(NULL);

		for (size_t i = 0; list[i]; i++) {
			store_entry *e = list[i];
			char at[21];

			clock_format(e->created_at, at);
			g_string_append_printf(s, "%-8s %-18s %-4s %s  %-28s "
			    "%s%s%s\n", e->id, e->status, e->priority ?
			    e->priority : "-", at, e->requested_by,
			    e->field[0] ? e->field[0] : "(no customer name)",
			    *e->flags ? "  [" : "", *e->flags ? e->flags : "");
			if (*e->flags)
				g_string_insert_c(s, s->len - 1, ']');
		}
		if (s->len == 0)
			g_string_append(s, "no backlog entries\n");
		*out = g_string_free(s, FALSE);
	}
done:
	store_entry_list_free(list);
	return rc;
}

static void
entry_text(GString *s, const store_entry *e, store_note **notes,
    store_event **events)
{
	static const char *const labels[STORE_ENTRY_FIELDS] = {
		"Customer Name", "Salesforce", "TDD", "Deployment",
		"Hosting", "Additional", "Segment", "AE", "ARR", "Users",
		"Repos", "Code hosts",
	};
	int64_t days = backlog_implementation_days(e->handoff_at, e->live_at);

	g_string_append_printf(s, "%s  %s  priority %s\n", e->id, e->status,
	    e->priority ? e->priority : "-");
	g_string_append_printf(s, "%-14s %s\n", "Requested by:",
	    e->requested_by);
	for (int k = 0; k < STORE_ENTRY_FIELDS; k++)
		if (e->field[k])
			g_string_append_printf(s, "%-14s %s\n", labels[k],
			    e->field[k]);
	if (*e->missing_fields)
		g_string_append_printf(s, "%-14s %s\n", "Missing:",
		    e->missing_fields);
	if (*e->flags)
		g_string_append_printf(s, "%-14s %s\n", "Flags:", e->flags);
	g_string_append_printf(s, "%-14s %s / %s, TDD %s\n", "IE / PM:",
	    e->ie ? e->ie : "-", e->pm ? e->pm : "-", e->tdd_signed_off ?
	    "signed off" : "not signed off");
	g_string_append_printf(s, "%-14s %s\n", "Checklist:",
	    *e->requirements ? e->requirements : "(nothing done)");
	if (days >= 0)
		g_string_append_printf(s, "%-14s %" G_GINT64_FORMAT " days "
		    "(target 30)\n", "Implementation", days);
	for (size_t i = 0; notes[i]; i++)
		g_string_append_printf(s, "\n--- note by %s\n%s\n",
		    notes[i]->author, notes[i]->body ? notes[i]->body : "");
	events_text(s, events);
}

static mp_status
show_entry(desk *d, const char *id, int json, char **out)
{
	store_entry *e = NULL;
	store_note **notes = NULL;
	store_event **events = NULL;
	mp_status rc;

	rc = store_entry_get(d->st, id, &e);
	if (!rc)
		rc = store_notes(d->st, id, &notes);
	if (!rc)
		rc = store_events(d->st, id, &events);
	if (!rc && json) {
		json_out *j = json_new();

		entry_json(j, e, notes, events);
		*out = json_finish(j);
	} else if (!rc) {
		GString *s = g_string_new(NULL);

		entry_text(s, e, notes, events);
		*out = g_string_free(s, FALSE);
	}
	store_entry_free(e);
	store_note_list_free(notes);
	store_event_list_free(events);
	return rc;
}

mp_status
view_show(desk *d, const char *id, int json, char **out)
{
	store_ticket *t = NULL;
	char **parts = NULL;
	store_message **msgs = NULL;
	store_note **notes = NULL;
	store_event **events = NULL;
	mp_status rc;

	*out = NULL;
	if (g_str_has_prefix(id, "IE-"))
		return show_entry(d, id, json, out);
	rc = store_ticket_get(d->st, id, &t);
	if (!rc)
		rc = store_participants(d->st, id, &parts);
	if (!rc)
		rc = store_messages(d->st, id, &msgs);
	if (!rc)
		rc = store_notes(d->st, id, &notes);
	if (!rc)
		rc = store_events(d->st, id, &events);
	if (rc)
		goto done;
	if (json) {
		json_out *j = json_new();

		show_json(j, t, parts, msgs, notes, events);
		*out = json_finish(j);
	} else {
		GString *s = g_string_new(NULL);

		show_text(s, t, parts, msgs, notes, events);
		*out = g_string_free(s, FALSE);
	}
done:
	store_ticket_free(t);
	g_strfreev(parts);
	store_message_list_free(msgs);
	store_note_list_free(notes);
	store_event_list_free(events);
	return rc;
}

mp_status
view_outbox(desk *d, int json, char **out)
{
	store_outbox **list = NULL;
	mp_status rc = store_outbox_list(d->st, &list);

	*out = NULL;
	if (rc)
		goto done;
	if (json) {
		json_out *j = json_new();

		json_array_begin(j);
		for (size_t i = 0; list[i]; i++) {
			store_outbox *o = list[i];

			json_object_begin(j);
			json_key(j, "id"); json_int(j, o->id);
			json_key(j, "ticket"); json_string(j, o->ticket);
			json_key(j, "template"); json_string(j, o->template);
			json_key(j, "to");
			json_array_begin(j);
			for (size_t k = 0; o->to[k]; k++)
				json_string(j, o->to[k]);
			json_array_end(j);
			json_key(j, "subject"); json_string(j, o->subject);
			json_key(j, "status"); json_string(j, o->status);
			json_key(j, "attempts"); json_int(j, o->attempts);
			json_key(j, "message_id");
			json_string(j, o->message_id);
			json_key(j, "error"); json_string(j, o->error);
			json_object_end(j);
		}
		json_array_end(j);
		*out = json_finish(j);
	} else {
		GString *s = g_string_new(NULL);

		for (size_t i = 0; list[i]; i++) {
			store_outbox *o = list[i];
			char *to = g_strjoinv(",", o->to);

			g_string_append_printf(s, "%4" G_GINT64_FORMAT "  %-6s "
			    "%-7s %-24s %-30s %s%s%s\n", o->id, o->status,
			    o->ticket ? o->ticket : "-", o->template, to,
			    o->subject, o->error ? "  ERROR: " : "",
			    o->error ? o->error : "");
			g_free(to);
		}
		if (s->len == 0)
			g_string_append(s, "outbox is empty\n");
		*out = g_string_free(s, FALSE);
	}
done:
	store_outbox_list_free(list);
	return rc;
}

mp_status
view_outbox_one(desk *d, int64_t id, int raw, char **out)
{
	store_outbox *o = NULL;
	mp_status rc = store_outbox_get(d->st, id, &o);

	*out = NULL;
	if (rc)
		return rc;
	if (raw) {
		*out = g_strndup(o->raw, o->raw_len);
	} else {
		char *to = g_strjoinv(", ", o->to);
		char created[21];

		clock_format(o->created_at, created);
		*out = g_strdup_printf("Outbox:    %" G_GINT64_FORMAT "\n"
		    "Ticket:    %s\nTemplate:  %s\nTo:        %s\n"
		    "Subject:   %s\nStatus:    %s (%d attempts)\n"
		    "Error:     %s\nQueued:    %s\nMessage-ID: %s\n",
		    o->id, o->ticket ? o->ticket : "-", o->template, to,
		    o->subject, o->status, o->attempts,
		    o->error ? o->error : "-", created, o->message_id);
		g_free(to);
	}
	store_outbox_free(o);
	return MP_OK;
}

mp_status
view_quarantine(desk *d, char **out)
{
	store_quarantine **list = NULL;
	mp_status rc = store_quarantine_list(d->st, &list);
	GString *s;

	*out = NULL;
	if (rc)
		return rc;
	s = g_string_new(NULL);
	for (size_t i = 0; list[i]; i++) {
		char at[21];

		clock_format(list[i]->at, at);
		g_string_append_printf(s, "%4" G_GINT64_FORMAT "  %-8s %s  "
		    "%-12s %s  %s\n", list[i]->id, list[i]->status, at,
		    list[i]->mailbox, list[i]->from ? list[i]->from : "-",
		    list[i]->reason);
	}
	if (s->len == 0)
		g_string_append(s, "quarantine is empty\n");
	store_quarantine_list_free(list);
	*out = g_string_free(s, FALSE);
	return MP_OK;
}

mp_status
view_quarantine_one(desk *d, int64_t id, char **out)
{
	store_quarantine *q = NULL;
	mp_status rc = store_quarantine_get(d->st, id, &q);
	char at[21];

	*out = NULL;
	if (rc)
		return rc;
	clock_format(q->at, at);
	*out = g_strdup_printf("Quarantine: %" G_GINT64_FORMAT "\n"
	    "Status:     %s\nMailbox:    %s\nReceived:   %s\nKey:        %s\n"
	    "From:       %s\nSubject:    %s\nReason:     %s\nSize:       %zu"
	    "\n", q->id, q->status, q->mailbox, at, q->key,
	    q->from ? q->from : "-", q->subject ? q->subject : "-", q->reason,
	    q->raw_len);
	store_quarantine_free(q);
	return MP_OK;
}
