/*
 * sender.c - the outbox drain.
 */
#include <string.h>

#include "mailproc/clock.h"
#include "mailproc/log.h"
#include "mailproc/sender.h"
#include "mailproc/smtp.h"

#define GIVE_UP_AFTER (3 * 24 * 3600)
#define BACKOFF_FIRST 60
#define BACKOFF_MAX (4 * 3600)

/* The outcome of one attempt on an outbox row, to record. */
typedef struct mark {
	int64_t id;
	char *ticket;		/* NULL: no ticket to tell */
	char *message_id;
	char *status;
	char *error;
	int64_t next_at;
	int64_t now;
	char **delivered;	/* NULL-terminated */
	char *event_detail;	/* a delivery_failed event, or NULL */
} mark;

struct sender {
	desk *d;
	smtp *smtp;
	char *password;
	/* Outcomes of deliveries the store could not take (busy or full):
	 * recorded before anything more is sent, so a row the server has
	 * is not sent again every time the sender retries. */
	GPtrArray *marks;
	int store_failed;	/* the last drain failed on the store */
};

static void
mark_free(gpointer p)
{
	mark *k = p;

	g_free(k->ticket);
	g_free(k->message_id);
	g_free(k->status);
	g_free(k->error);
	g_strfreev(k->delivered);
	g_free(k->event_detail);
	g_free(k);
}

int64_t
sender_backoff(int attempts)
{
	int64_t delay = BACKOFF_FIRST;

	for (int i = 1; i < attempts && delay < BACKOFF_MAX; i++)
		delay *= 2;
	return delay < BACKOFF_MAX ? delay : BACKOFF_MAX;
}

/* Reads the first line of a password file (owned by the caller). */
static mp_status
read_password(const char *path, char **out, char **err)
{
	char *text = NULL;
	GError *gerr = NULL;

	*out = NULL;
	if (path == NULL)
		return MP_OK;
	if (!g_file_get_contents(path, &text, NULL, &gerr)) {
		*err = g_strdup_printf("cannot read password_file %s: %s", path,
		    gerr->message);
		g_error_free(gerr);
		return MP_ERR_CONFIG;
	}
	text[strcspn(text, "\r\n")] = '\0';
	*out = text;
	return MP_OK;
}

mp_status
sender_new(desk *d, sender **out, char **err)
{
	const config *c = d->cfg;
	sender *s = g_new0(sender, 1);
	smtp_conf sc = { 0 };
	mp_status rc;

	*out = NULL;
	*err = NULL;
	s->d = d;
	s->marks = g_ptr_array_new_with_free_func(mark_free);
	/* An outcome lost with the machine's power only means a notice
	 * sent again, so the sender's commits need no fsync each: they
	 * survive a crash of mailproc, and sending stays fast. */
	if (d->st && (rc = store_sync_relaxed(d->st)) != MP_OK) {
		*err = g_strdup_printf("store: %s", store_errmsg(d->st));
		goto fail;
	}
	if (c->smtp.url == NULL) {
		*err = g_strdup_printf("%s: [smtp] url is not set: mailproc "
		    "cannot send", c->path);
		rc = MP_ERR_CONFIG;
		goto fail;
	}
	rc = read_password(c->smtp.password_file, &s->password, err);
	if (rc)
		goto fail;
	sc.url = c->smtp.url;
	sc.user = c->smtp.user;
	sc.password = s->password;
	sc.ca_file = c->smtp.ca_file;
	sc.starttls = c->smtp.tls && strcmp(c->smtp.tls, "starttls") == 0;
	sc.timeout_s = 30;
	smtp_global_init();
	rc = smtp_new(&sc, &s->smtp, err);
	if (rc)
		goto fail;
	*out = s;
	return MP_OK;
fail:
	sender_free(s);
	return rc;
}

void
sender_free(sender *s)
{
	if (s == NULL)
		return;
	smtp_free(s->smtp);
	if (s->marks && s->marks->len)
		mp_log(LOG_WARNING, "sender: %u delivered notices could not be "
		    "marked sent in the store; they will be sent again",
		    s->marks->len);
	if (s->marks)
		g_ptr_array_free(s->marks, TRUE);
	if (s->password)
		memset(s->password, 0, strlen(s->password));
	g_free(s->password);
	g_free(s);
}

static int
in_list(char **list, const char *a)
{
	for (int i = 0; list && list[i]; i++)
		if (g_ascii_strcasecmp(list[i], a) == 0)
			return 1;
	return 0;
}

/* The envelope sender: [smtp] bounce_address, else the From of the row's
 * mailbox (the first mailbox). */
static const char *
envelope_from(const desk *d)
{
	if (d->cfg->smtp.bounce_address)
		return d->cfg->smtp.bounce_address;
	return d->cfg->mailboxes[0].address;
}

/* Records the kept outcomes, oldest first, in one transaction; on a
 * failure they are all kept for the next try. */
static mp_status
record_kept(sender *s)
{
	desk *d = s->d;
	mp_status rc;

	if (s->marks->len == 0)
		return MP_OK;
	rc = store_begin(d->st);
	for (guint i = 0; !rc && i < s->marks->len; i++) {
		const mark *k = g_ptr_array_index(s->marks, i);

		rc = store_outbox_mark(d->st, k->id, k->status, k->error,
		    k->next_at, k->now, (const char *const *)k->delivered);
		if (!rc && k->event_detail && k->ticket)
			rc = store_event_add(d->st, k->ticket, k->now, NULL,
			    "delivery_failed", k->event_detail,
			    k->message_id);
	}
	if (!rc)
		rc = store_commit(d->st);
	if (rc) {
		store_rollback(d->st);
		s->store_failed = 1;
		mp_log(LOG_WARNING, "outbox: %u delivery outcomes cannot be "
		    "recorded now (%s); kept until they can", s->marks->len,
		    store_errmsg(d->st));
		return rc;
	}
	g_ptr_array_set_size(s->marks, 0);
	return MP_OK;
}

/* Records the outcome of one attempt on row o at once, after any kept
 * before it: a crash between the server's reply and this commit is the
 * only way a notice goes out twice.  A failure to record is returned and
 * the outcome stays kept for the next drain. */
static mp_status
record(sender *s, const store_outbox *o, const char *status,
    const char *error, int64_t next_at, char **delivered,
    const char *event_detail)
{
	mark *k = g_new0(mark, 1);

	k->id = o->id;
	k->ticket = g_strdup(o->ticket);
	k->message_id = g_strdup(o->message_id);
	k->status = g_strdup(status);
	k->error = g_strdup(error);
	k->next_at = next_at;
	k->now = clock_now();
	k->delivered = g_strdupv(delivered);
	k->event_detail = g_strdup(event_detail);
	g_ptr_array_add(s->marks, k);
	return record_kept(s);
}

/* Sends row o to its pending recipients.  *unreachable is set when the
 * server could not be reached at all. */
static mp_status
send_row(sender *s, const store_outbox *o, int *unreachable)
{
	desk *d = s->d;
	GPtrArray *done = g_ptr_array_new_with_free_func(g_free);
	GString *perm = g_string_new(NULL), *temp = g_string_new(NULL);
	int pending = 0;
	int64_t now = clock_now();
	const char *status;
	char *error = NULL;
	mp_status rc = MP_OK;

	*unreachable = 0;
	for (int i = 0; o->delivered[i]; i++)
		g_ptr_array_add(done, g_strdup(o->delivered[i]));
	for (int i = 0; o->to[i]; i++) {
		smtp_result r = { 0 };

		if (in_list(o->delivered, o->to[i]))
			continue;
		if (*unreachable) {
			pending++;
			continue;
		}
		/* The guard again, at the last moment (SPEC 3). */
		if (o->internal && !config_is_staff_domain(d->cfg, o->to[i])) {
			g_string_append_printf(perm, "%s%s: refused, internal "
			    "notice outside staff_domains", perm->len ? "; " :
			    "", o->to[i]);
			g_ptr_array_add(done, g_strdup(o->to[i]));
			continue;
		}
		rc = smtp_send(s->smtp, envelope_from(d), o->to[i], o->raw,
		    o->raw_len, &r);
		if (rc)
			goto done;
		switch (r.outcome) {
		case SMTP_SENT:
			g_ptr_array_add(done, g_strdup(o->to[i]));
			mp_log(LOG_INFO, "%s: outbox %" G_GINT64_FORMAT
			    " %s %s sent to %s", o->ticket ? o->ticket : "-",
			    o->id, o->template, o->message_id, o->to[i]);
			break;
		case SMTP_PERMFAIL:
			g_ptr_array_add(done, g_strdup(o->to[i]));
			g_string_append_printf(perm, "%s%s: %s", perm->len ?
			    "; " : "", o->to[i], r.detail);
			break;
		case SMTP_TEMPFAIL:
			pending++;
			g_string_append_printf(temp, "%s%s: %s", temp->len ?
			    "; " : "", o->to[i], r.detail);
			if (r.code == 0)
				*unreachable = 1;
			break;
		}
	}
	g_ptr_array_add(done, NULL);
	if (pending == 0) {
		status = perm->len ? "failed" : "sent";
		rc = record(s, o, status, perm->len ? perm->str : NULL, now,
		    (char **)done->pdata, perm->len ? perm->str : NULL);
	} else if (now - o->created_at >= GIVE_UP_AFTER) {
		error = g_strdup_printf("gave up after 3 days: %s%s%s",
		    temp->str, perm->len ? "; " : "", perm->str);
		rc = record(s, o, "failed", error, now, (char **)done->pdata,
		    error);
	} else {
		error = g_strdup_printf("%s%s%s", temp->str, perm->len ?
		    "; " : "", perm->str);
		rc = record(s, o, "queued", error, now +
		    sender_backoff(o->attempts + 1), (char **)done->pdata,
		    NULL);
	}
	if (pending || perm->len)
		mp_log(LOG_WARNING, "%s: outbox %" G_GINT64_FORMAT " %s %s: %s",
		    o->ticket ? o->ticket : "-", o->id, o->message_id,
		    pending ? "will retry" : "failed", error ? error :
		    perm->str);
done:
	g_free(error);
	g_string_free(perm, TRUE);
	g_string_free(temp, TRUE);
	g_ptr_array_free(done, TRUE);
	return rc;
}

mp_status
sender_drain(sender *s, int max, int *done)
{
	store_outbox **rows = NULL;
	mp_status rc;
	int unreachable = 0;

	*done = 0;
	s->store_failed = 0;
	rc = record_kept(s);
	if (rc)
		return rc;
	rc = store_outbox_due(s->d->st, clock_now(), max, &rows);
	if (rc) {
		store_outbox_list_free(rows);
		s->store_failed = 1;
		return rc;
	}
	for (size_t i = 0; !rc && rows[i] && !unreachable; i++) {
		rc = send_row(s, rows[i], &unreachable);
		(*done)++;
	}
	store_outbox_list_free(rows);
	if (!rc)
		rc = record_kept(s);
	if (!rc && unreachable)
		rc = MP_ERR_TEMP;
	return rc;
}

int
sender_store_failed(const sender *s)
{
	return s != NULL && s->store_failed;
}

mp_status
sender_probe(sender *s, char **what)
{
	smtp_result r = { 0 };
	mp_status rc = smtp_probe(s->smtp, &r);

	if (rc)
		return rc;
	*what = g_strdup(r.detail);
	return r.outcome == SMTP_SENT ? MP_OK : r.outcome == SMTP_TEMPFAIL ?
	    MP_ERR_TEMP : MP_ERR_REFUSED;
}
