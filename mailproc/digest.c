/*
 * digest.c - the daily trial-support queue digest and the weekly backlog
 * digest (SPEC 1, 5, 9).
 *
 * The data is gathered here into template variables; what the digest
 * looks like is entirely the templates' business (digest-trial-queue,
 * digest-backlog, each with an HTML alternative).
 */
#include <stdio.h>
#include <string.h>

#include "mailproc/backlog.h"
#include "mailproc/clock.h"
#include "mailproc/digest.h"
#include "mailproc/notice.h"

#define TARGET_DAYS 30

/* "3d 4h", "5h 12m", "12m": how long seconds is, for people. */
static char *
age(int64_t seconds)
{
	int64_t m = seconds / 60, h = m / 60, d = h / 24;

	if (seconds < 0)
		seconds = 0;
	if (d > 0)
		return g_strdup_printf("%" G_GINT64_FORMAT "d %" G_GINT64_FORMAT
		    "h", d, h % 24);
	if (h > 0)
		return g_strdup_printf("%" G_GINT64_FORMAT "h %" G_GINT64_FORMAT
		    "m", h, m % 60);
	return g_strdup_printf("%" G_GINT64_FORMAT "m", m);
}

static void
set_age(tvars *v, const char *name, int64_t seconds)
{
	char *a = age(seconds);

	tvars_set(v, name, a);
	g_free(a);
}

/* The period a digest covers: the UTC date, or the ISO week. */
static char *
period_of(const char *which, int64_t now)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(now);
	char *p = strcmp(which, "backlog") == 0 ?
	    g_date_time_format(dt, "%G-W%V") : g_date_time_format(dt, "%F");

	g_date_time_unref(dt);
	return p;
}

/* When the ISO week of now began (Monday 00:00 UTC). */
static int64_t
week_start(int64_t now)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(now);
	int dow = g_date_time_get_day_of_week(dt);	/* 1 = Monday */
	GDateTime *day = g_date_time_new_utc(g_date_time_get_year(dt),
	    g_date_time_get_month(dt), g_date_time_get_day_of_month(dt), 0, 0,
	    0);
	int64_t start = g_date_time_to_unix(day) - (int64_t)(dow - 1) * 86400;

	g_date_time_unref(day);
	g_date_time_unref(dt);
	return start;
}

/* The time ticket id last entered transfer_requested, or -1. */
static int64_t
transfer_time(desk *d, const char *id)
{
	store_event **ev = NULL;
	int64_t at = -1;

	if (store_events(d->st, id, &ev) == MP_OK)
		for (size_t i = 0; ev[i]; i++)
			if (strcmp(ev[i]->action, "transfer_requested") == 0)
				at = ev[i]->at;
	store_event_list_free(ev);
	return at;
}

static mp_status
trial_queue_vars(desk *d, int64_t now, tvars *v)
{
	store_ticket **t = NULL;
	GPtrArray *owners = g_ptr_array_new();	/* borrowed from t */
	int64_t stale = (int64_t)d->cfg->stale_hours * 3600;
	int open = 0, any = 0;
	mp_status rc = store_ticket_list(d->st, NULL, &t);

	if (rc)
		goto done;
	tvars_list(v, "waiting");
	tvars_list(v, "transfers");
	tvars_list(v, "owners");
	tvars_list(v, "stale");
	/* Oldest first: the list is in id order, which is creation order. */
	for (size_t i = 0; t[i]; i++) {
		store_ticket *k = t[i];
		tvars *x;
		int64_t since;

		if (strcmp(k->status, "ended") == 0)
			continue;
		open++;
		if (strcmp(k->status, "waiting") == 0) {
			x = tvars_add(v, "waiting");
			tvars_set(x, "id", k->id);
			tvars_set(x, "subject", k->subject);
			tvars_set(x, "requester", k->requester);
			tvars_set(x, "organisation", msg_addr_domain(
			    k->requester));
			set_age(x, "age", now - k->created_at);
		}
		if (strcmp(k->status, "transfer_requested") == 0) {
			int64_t at = transfer_time(d, k->id);

			x = tvars_add(v, "transfers");
			tvars_set(x, "id", k->id);
			tvars_set(x, "subject", k->subject);
			tvars_set(x, "owner", k->owner ? k->owner : "-");
			set_age(x, "waited", now - (at >= 0 ? at :
			    k->updated_at));
		}
		if (k->owner && !g_ptr_array_find_with_equal_func(owners,
		    k->owner, g_str_equal, NULL))
			g_ptr_array_add(owners, k->owner);
		since = k->staff_at >= 0 ? k->staff_at : k->created_at;
		if (now - since > stale) {
			x = tvars_add(v, "stale");
			tvars_set(x, "id", k->id);
			tvars_set(x, "subject", k->subject);
			tvars_set(x, "owner", k->owner ? k->owner :
			    "(unowned)");
			set_age(x, "silent", now - since);
		}
	}
	/* Each owner's open tickets, owners in the order first seen. */
	for (guint i = 0; i < owners->len; i++) {
		tvars *o = tvars_add(v, "owners");
		int n = 0;

		tvars_set(o, "owner", owners->pdata[i]);
		tvars_list(o, "tickets");
		for (size_t k = 0; t[k]; k++) {
			tvars *y;

			if (g_strcmp0(t[k]->owner, owners->pdata[i]) != 0 ||
			    strcmp(t[k]->status, "ended") == 0)
				continue;
			y = tvars_add(o, "tickets");
			tvars_set(y, "id", t[k]->id);
			tvars_set(y, "subject", t[k]->subject);
			tvars_set(y, "status", t[k]->status);
			set_age(y, "age", now - t[k]->created_at);
			n++;
		}
		tvars_setf(o, "count", "%d", n);
	}
	any = open > 0;
	tvars_setf(v, "open_count", "%d", open);
	tvars_set(v, "has_any", any ? "yes" : "");
	tvars_setf(v, "stale_hours", "%d", d->cfg->stale_hours);
done:
	g_ptr_array_free(owners, TRUE);
	store_ticket_list_free(t);
	return rc;
}

static int
checklist_done(const char *csv)
{
	int n = 0;
	char **parts = g_strsplit(csv ? csv : "", ",", -1);

	for (int i = 0; backlog_requirements[i]; i++)
		n += g_strv_contains((const char *const *)parts,
		    backlog_requirements[i]);
	g_strfreev(parts);
	return n;
}

static mp_status
backlog_vars(desk *d, int64_t now, tvars *v)
{
	static const char *const order[] = { "incomplete", "requested",
	    "triaged", "qualified", "assigned", "in_implementation", "live",
	    "disqualified", NULL };
	int64_t since = week_start(now);
	store_entry **e = NULL;
	int any = 0;
	mp_status rc = store_entry_list(d->st, NULL, &e);

	if (rc)
		return rc;
	tvars_list(v, "groups");
	tvars_list(v, "attention");
	tvars_list(v, "implementing");
	tvars_list(v, "went_live");
	for (int s = 0; order[s]; s++) {
		tvars *g = NULL;
		int n = 0;

		for (size_t i = 0; e[i]; i++) {
			tvars *x;

			if (strcmp(e[i]->status, order[s]) != 0)
				continue;
			/* Live entries are listed only in the week they went
			 * live (below). */
			if (strcmp(order[s], "live") == 0)
				continue;
			if (g == NULL) {
				g = tvars_add(v, "groups");
				tvars_set(g, "status", order[s]);
				tvars_list(g, "entries");
			}
			x = tvars_add(g, "entries");
			tvars_set(x, "id", e[i]->id);
			tvars_set(x, "customer_name", e[i]->field[0] ?
			    e[i]->field[0] : "(no name yet)");
			tvars_set(x, "priority", e[i]->priority ?
			    e[i]->priority : "-");
			tvars_set(x, "ce", e[i]->requested_by);
			tvars_set(x, "ie", e[i]->ie ? e[i]->ie : "-");
			tvars_set(x, "pm", e[i]->pm ? e[i]->pm : "-");
			tvars_setf(x, "days", "%" G_GINT64_FORMAT,
			    (now - e[i]->created_at) / 86400);
			tvars_set(x, "tdd", e[i]->tdd_signed_off ? "signed off" :
			    "not signed off");
			tvars_setf(x, "checklist", "%d/9",
			    checklist_done(e[i]->requirements));
			n++;
		}
		if (g)
			tvars_setf(g, "count", "%d", n);
		any |= n > 0;
	}
	for (size_t i = 0; e[i]; i++) {
		store_entry *x = e[i];
		tvars *y;

		if (strcmp(x->status, "incomplete") == 0 ||
		    strcmp(x->status, "requested") == 0) {
			y = tvars_add(v, "attention");
			tvars_set(y, "id", x->id);
			tvars_set(y, "customer_name", x->field[0] ? x->field[0] :
			    "(no name yet)");
			tvars_set(y, "status", strcmp(x->status, "requested") ?
			    "incomplete" : "waiting for triage");
			tvars_set(y, "ce", x->requested_by);
			tvars_set(y, "missing", x->missing_fields);
			tvars_setf(y, "days", "%" G_GINT64_FORMAT,
			    (now - x->created_at) / 86400);
		}
		if (strcmp(x->status, "in_implementation") == 0) {
			int64_t days = (now - x->handoff_at) / 86400;

			y = tvars_add(v, "implementing");
			tvars_set(y, "id", x->id);
			tvars_set(y, "customer_name", x->field[0]);
			tvars_set(y, "ie", x->ie ? x->ie : "-");
			tvars_set(y, "pm", x->pm ? x->pm : "-");
			tvars_setf(y, "days", "%" G_GINT64_FORMAT, days);
			tvars_set(y, "over", days > TARGET_DAYS ? "yes" : "");
		}
		if (strcmp(x->status, "live") == 0 && x->live_at >= since &&
		    x->live_at <= now) {
			int64_t days = backlog_implementation_days(
			    x->handoff_at, x->live_at);

			y = tvars_add(v, "went_live");
			tvars_set(y, "id", x->id);
			tvars_set(y, "customer_name", x->field[0]);
			tvars_setf(y, "days", "%" G_GINT64_FORMAT, days);
			tvars_set(y, "over", days > TARGET_DAYS ? "yes" : "");
			any = 1;
		}
	}
	tvars_set(v, "has_any", any ? "yes" : "");
	tvars_setf(v, "target_days", "%d", TARGET_DAYS);
	store_entry_list_free(e);
	return MP_OK;
}

mp_status
digest_run(desk *d, const char *which, int dry_run, int force, char **out)
{
	int backlog = strcmp(which, "backlog") == 0;
	const char *name = backlog ? "digest-backlog" : "digest-trial-queue";
	const cfg_mailbox *mb = config_mailbox_of_kind(d->cfg, backlog ?
	    MAILBOX_IMPLEMENTATION : MAILBOX_TRIAL_SUPPORT);
	char **to = backlog ? d->cfg->digest_backlog :
	    d->cfg->digest_trial_queue;
	int64_t now = clock_now();
	char *period = period_of(which, now), *raw = NULL, *err = NULL;
	size_t raw_len = 0;
	notice n = { 0 };
	tvars *v = tvars_new();
	int64_t id = 0;
	int sent = 0;
	mp_status rc;

	*out = NULL;
	if (mb == NULL) {
		*out = g_strdup_printf("no %s mailbox is configured to send "
		    "the %s digest from", backlog ? "implementation" :
		    "trial-support", which);
		rc = MP_ERR_CONFIG;
		goto done;
	}
	if (!dry_run && (to == NULL || to[0] == NULL)) {
		*out = g_strdup_printf("[digest.%s] recipients is empty",
		    which);
		rc = MP_ERR_CONFIG;
		goto done;
	}
	if (!dry_run && !force) {
		rc = store_digest_sent(d->st, name, period, &sent);
		if (rc)
			goto done;
		if (sent) {
			*out = g_strdup_printf("already sent for %s", period);
			goto done;
		}
	}
	tvars_set(v, "period", period);
	rc = backlog ? backlog_vars(d, now, v) : trial_queue_vars(d, now, v);
	if (rc)
		goto done;
	n.template = name;
	n.from = mb->address;
	n.to = (const char *const *)(to && to[0] ? to : (char *[]){
	    "no-recipients-configured@invalid", NULL });
	n.vars = v;
	if (dry_run) {
		n.preview = &raw;
		n.preview_len = &raw_len;
		rc = notice_queue(d, &n, &id, &err);
		if (!rc)
			*out = raw ? g_strndup(raw, raw_len) : g_strdup("");
		goto done;
	}
	rc = store_begin(d->st);
	if (!rc)
		rc = notice_queue(d, &n, &id, &err);
	if (!rc)
		rc = store_digest_record(d->st, name, period, id, now);
	if (!rc)
		rc = store_commit(d->st);
	if (rc) {
		store_rollback(d->st);
		goto done;
	}
	*out = g_strdup_printf("%s digest for %s queued as outbox %"
	    G_GINT64_FORMAT, which, period, id);
done:
	if (rc && *out == NULL)
		*out = g_strdup_printf("%s digest: %s", which, err ? err :
		    store_errmsg(d->st));
	g_free(err);
	g_free(raw);
	g_free(period);
	tvars_free(v);
	return rc;
}
