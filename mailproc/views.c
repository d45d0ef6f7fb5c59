/*
 * views.c - listings and the JSON shapes of SPEC 5.1.
 */
#include <string.h>

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
	json_key(j, "events");
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
	g_string_append(s, "\nEvents:\n");
	for (size_t i = 0; events[i]; i++) {
		clock_format(events[i]->at, at);
		g_string_append_printf(s, "  %s  %-16s %s%s%s\n", at,
		    events[i]->action, events[i]->actor ? events[i]->actor :
		    "-", events[i]->detail ? "  " : "",
		    events[i]->detail ? events[i]->detail : "");
	}
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
