/*
 * pipeline.c - dedupe, parse, route, quarantine.
 */
#include <string.h>

#include "mailproc/backlog.h"
#include "mailproc/clock.h"
#include "mailproc/log.h"
#include "mailproc/notice.h"
#include "mailproc/pipeline.h"
#include "mailproc/tickets.h"
#include "parsers/authres.h"

mp_status
pipeline_thread_find(desk *d, const msg *m, const char *prefix,
    char id[static 16])
{
	const char *ids[130];
	int n = 0;

	if (m->in_reply_to)
		ids[n++] = m->in_reply_to;
	for (int i = 0; m->references[i] && n < 129; i++)
		ids[n++] = m->references[i];
	ids[n] = NULL;
	return store_thread_find(d->st, prefix, ids, id);
}

int
pipeline_sender_is_staff(const desk *d, const msg *m)
{
	if (m->from == NULL || !config_is_staff_domain(d->cfg, m->from))
		return 0;
	if (!d->cfg->require_authenticated_staff)
		return 1;
	return authres_passes(m->auth_results, d->cfg->authserv_id,
	    msg_addr_domain(m->from));
}

int
pipeline_may_autoreply(const desk *d, const msg *m)
{
	return m->from != NULL && !m->is_auto &&
	    !config_is_own_address(d->cfg, m->from);
}

mp_status
pipeline_record(desk *d, const cfg_mailbox *mb, const char *id, const msg *m,
    const char *visibility, const char *body, const char *raw, size_t len)
{
	store_message sm = { 0 };
	store_attachment *att = g_new0(store_attachment, m->n_attachments + 1);
	mp_status rc;

	for (size_t i = 0; i < m->n_attachments; i++) {
		att[i].filename = m->attachments[i].filename;
		att[i].content_type = m->attachments[i].content_type;
		att[i].size = (int64_t)m->attachments[i].size;
	}
	sm.ticket = (char *)id;
	sm.mailbox = mb->name;
	sm.message_id = m->message_id;
	sm.from = m->from;
	sm.date = m->date >= 0 ? m->date : clock_now();
	sm.visibility = (char *)visibility;
	sm.body = (char *)body;
	sm.attachments = att;
	sm.n_attachments = m->n_attachments;
	rc = store_message_add(d->st, &sm, raw, len);
	g_free(att);
	if (!rc)
		rc = store_thread_add(d->st, m->message_id, id);
	return rc;
}

/* Holds raw in quarantine (or updates the row being retried), marks the
 * key processed and tells the administrator. */
static mp_status
quarantine(desk *d, const cfg_mailbox *mb, const char *raw, size_t len,
    const char *key, const char *reason, const msg *m, int64_t retry_of)
{
	store_quarantine q = { 0 };
	char *peek_from = NULL, *peek_subject = NULL;
	mp_status rc;

	if (m) {
		q.from = m->from;
		q.subject = m->subject;
	} else {
		msg_peek(raw, len, &peek_from, &peek_subject);
		q.from = peek_from;
		q.subject = peek_subject;
	}
	if (retry_of > 0) {
		q.id = retry_of;
		rc = store_quarantine_set_status(d->st, retry_of, "held",
		    reason);
	} else {
		q.mailbox = mb->name;
		q.key = (char *)key;
		q.reason = (char *)reason;
		q.at = clock_now();
		q.raw = (char *)raw;
		q.raw_len = len;
		rc = store_quarantine_add(d->st, &q);
	}
	if (rc)
		goto done;
	rc = store_processed_add(d->st, mb->name, key, "quarantined",
	    clock_now());
	if (rc)
		goto done;
	mp_log(LOG_WARNING, "%s: quarantined %s as #%" G_GINT64_FORMAT
	    ": %s", mb->name, key, q.id, reason);
	if (d->cfg->admin) {
		tvars *v = tvars_new();
		const char *to[] = { d->cfg->admin, NULL };
		notice n = { .template = "quarantine-notice", .from =
		    mb->address, .to = to, .vars = v };
		int64_t id;
		char *err = NULL;

		tvars_setf(v, "quarantine_id", "%" G_GINT64_FORMAT, q.id);
		tvars_set(v, "reason", reason);
		tvars_set(v, "from", q.from ? q.from : "(unknown)");
		tvars_set(v, "subject", q.subject ? q.subject : "(unknown)");
		tvars_set(v, "mailbox", mb->name);
		tvars_set(v, "key", key);
		tvars_setf(v, "size", "%zu", len);
		rc = notice_queue(d, &n, &id, &err);
		if (rc)
			mp_log(LOG_ERROR, "%s: quarantine notice for #%"
			    G_GINT64_FORMAT " not queued: %s", mb->name,
			    q.id, err ? err : mp_status_str(rc));
		g_free(err);
		tvars_free(v);
		/* A broken template must not lose the message itself. */
		if (rc && rc != MP_ERR_TEMP)
			rc = MP_OK;
	}
done:
	g_free(peek_from);
	g_free(peek_subject);
	return rc;
}

/* Records a delivery-status report on the ticket of the notice it is
 * about.  *outcome is NULL when no notice is known. */
static mp_status
bounce(desk *d, const msg *m, char **outcome)
{
	const char *ids[66];
	char ticket[16];
	int n = 0, known = 0;
	mp_status rc;

	*outcome = NULL;
	if (m->dsn->original_message_id)
		ids[n++] = m->dsn->original_message_id;
	if (m->in_reply_to)
		ids[n++] = m->in_reply_to;
	for (int i = 0; m->references[i] && n < 65; i++)
		ids[n++] = m->references[i];
	ids[n] = NULL;
	for (int i = 0; ids[i]; i++) {
		rc = store_outbox_find_ticket(d->st, ids[i], ticket, &known);
		if (rc)
			return rc;
		if (known && ticket[0]) {
			char *detail = g_strdup_printf("%s %s%s%s",
			    m->dsn->recipient ? m->dsn->recipient :
			    "(unknown recipient)", m->dsn->status ?
			    m->dsn->status : "(no status)", m->dsn->action ?
			    " " : "", m->dsn->action ? m->dsn->action : "");

			rc = store_event_add(d->st, ticket, clock_now(),
			    m->from, "delivery_failed", detail, m->message_id);
			g_free(detail);
			if (rc)
				return rc;
			*outcome = g_strdup_printf("%s bounce", ticket);
			return MP_OK;
		}
	}
	return MP_OK;
}

static mp_status
route(desk *d, const cfg_mailbox *mb, const msg *m, const char *raw,
    size_t len, char **outcome, char **why)
{
	mp_status rc;

	if (m->dsn) {
		rc = bounce(d, m, outcome);
		if (!rc && *outcome == NULL) {
			*why = g_strdup("delivery-status report about no "
			    "known notice");
			return MP_ERR_REFUSED;
		}
		return rc;
	}
	if (m->from == NULL) {
		*why = g_strdup("no usable From address");
		return MP_ERR_REFUSED;
	}
	if (mb->kind == MAILBOX_TRIAL_SUPPORT)
		return tickets_handle(d, mb, m, raw, len, outcome);
	return backlog_handle(d, mb, m, raw, len, outcome, why);
}

mp_status
pipeline_hold(desk *d, const cfg_mailbox *mb, const char *raw, size_t len,
    const char *reason, char **outcome)
{
	char key[72];
	mp_status rc;

	*outcome = NULL;
	msg_key(raw, len, key);
	rc = store_savepoint(d->st);
	if (rc)
		return rc;
	rc = quarantine(d, mb, raw, len, key, reason, NULL, 0);
	if (!rc)
		rc = store_release(d->st);
	if (rc) {
		store_rollback_savepoint(d->st);
		return rc;
	}
	*outcome = g_strdup_printf("quarantined: %s", reason);
	return MP_OK;
}

/* pipeline_message() with an optional parse done beforehand (pre). */
static mp_status
process(desk *d, const cfg_mailbox *mb, const char *raw, size_t len,
    int64_t retry_of, ahead_item *pre, char **outcome)
{
	char key[72];
	char *why = NULL;
	msg *m = NULL;
	int seen = 0;
	mp_status rc;

	*outcome = NULL;
	msg_key(raw, len, key);
	rc = store_savepoint(d->st);
	if (rc)
		return rc;
	rc = store_processed_has(d->st, mb->name, key, &seen);
	if (rc)
		goto fail;
	if (seen && retry_of == 0) {
		*outcome = g_strdup("duplicate");
		return store_release(d->st);
	}
	if (seen) {
		rc = store_processed_remove(d->st, mb->name, key);
		if (rc)
			goto fail;
	}
	if (len > d->cfg->max_message_bytes) {
		why = g_strdup_printf("message of %zu bytes exceeds "
		    "max_message_bytes (%zu)", len, d->cfg->max_message_bytes);
		goto quarantined;
	}
	if (pre != NULL) {
		rc = pre->rc;
		m = pre->m;
		why = pre->why;
		pre->m = NULL;
		pre->why = NULL;
	} else
		rc = msg_parse(raw, len, &d->limits, &m, &why);
	if (rc)
		goto quarantined;
	rc = route(d, mb, m, raw, len, outcome, &why);
	if (rc == MP_ERR_TEMP)
		goto fail;
	if (rc) {
		/* Undo what the workflow did before it failed. */
		store_rollback_savepoint(d->st);
		g_free(*outcome);
		*outcome = NULL;
		if (why == NULL)
			why = g_strdup_printf("internal error: %s (%s)",
			    mp_status_str(rc), store_errmsg(d->st));
		rc = store_savepoint(d->st);
		if (rc)
			goto fail;
		goto quarantined;
	}
	rc = store_processed_add(d->st, mb->name, key, *outcome, clock_now());
	if (rc)
		goto fail;
	if (retry_of > 0) {
		rc = store_quarantine_set_status(d->st, retry_of, "released",
		    NULL);
		if (rc)
			goto fail;
	}
	rc = store_release(d->st);
	if (rc)
		goto fail;
	msg_free(m);
	return MP_OK;

quarantined:
	rc = quarantine(d, mb, raw, len, key, why, m, retry_of);
	if (rc)
		goto fail;
	rc = store_release(d->st);
	if (rc)
		goto fail;
	*outcome = g_strdup_printf("quarantined: %s", why);
	g_free(why);
	msg_free(m);
	return MP_OK;

fail:
	store_rollback_savepoint(d->st);
	g_free(*outcome);
	*outcome = NULL;
	g_free(why);
	msg_free(m);
	return mp_status_is_temporary(rc) ? MP_ERR_TEMP : rc;
}

mp_status
pipeline_message(desk *d, const cfg_mailbox *mb, const char *raw, size_t len,
    int64_t retry_of, char **outcome)
{
	return process(d, mb, raw, len, retry_of, NULL, outcome);
}

mp_status
pipeline_message_parsed(desk *d, const cfg_mailbox *mb, ahead_item *it,
    char **outcome)
{
	return process(d, mb, it->raw, it->len, 0, it, outcome);
}
