/*
 * notice.c - templates to outbox rows, with the loop and leak guards.
 */
#include <string.h>

#include "mailproc/clock.h"
#include "mailproc/log.h"
#include "mailproc/compose.h"
#include "mailproc/notice.h"
#include "parsers/message.h"

/* Variables every notice gets from notice_queue() itself. */
#define COMMON_VARS "ticket_id", "mailbox_address", "now"

/* Every backlog template gets the same variables (mailproc/backlog.c). */
#define BACKLOG_VARS COMMON_VARS, "subject", "customer_name", \
	"salesforce_url", "tdd_url", "deployment_type", "hosting_provider", \
	"additional_info", "segment", "ae", "arr", "expected_users", \
	"expected_repos", "code_hosts", "status", "ce", "priority", "size", \
	"risk", "ie", "pm", "reason", "tdd_signed_off", "target_days", \
	"implementation_days", "over_target", "smb", "checklist", "sender", \
	"missing", "missing.label", "missing.key", "invalid", \
	"invalid.label", "invalid.reason"

typedef struct template_rule {
	const char *name;
	int internal;		/* staff_domains only */
	int automatic;		/* counts toward max_autoreplies_per_hour */
	const char *auto_submitted;
	const char *vars[64];
} template_rule;

static const template_rule rules[] = {
	{ "ticket-ack", 0, 1, "auto-replied",
	    { COMMON_VARS, "subject", "requester", NULL } },
	{ "ticket-new-team", 1, 0, "auto-generated",
	    { COMMON_VARS, "subject", "requester", "requester_name", "body",
	    "auto_reason", "attachments", "attachments.filename",
	    "attachments.content_type", "attachments.size", NULL } },
	{ "ticket-reply", 0, 0, NULL,
	    { COMMON_VARS, "subject", "body", "author", NULL } },
	{ "ticket-update-owner", 1, 0, "auto-generated",
	    { COMMON_VARS, "subject", "from", "body", "owner", "status",
	    "reopened", "attachments", "attachments.filename",
	    "attachments.content_type", "attachments.size", NULL } },
	{ "ticket-assigned", 0, 1, "auto-generated",
	    { COMMON_VARS, "subject", "owner", NULL } },
	{ "ticket-transfer-request", 1, 0, "auto-generated",
	    { COMMON_VARS, "subject", "requester", "owner", "requested_by",
	    "customer_details", "issue_link", "summary", "consequences",
	    "time_considerations", "additional_information", NULL } },
	{ "ticket-transferred", 0, 1, "auto-generated",
	    { COMMON_VARS, "subject", "owner", "previous_owner", NULL } },
	{ "ticket-ended", 0, 1, "auto-generated",
	    { COMMON_VARS, "subject", "owner", NULL } },
	{ "command-error", 1, 0, "auto-replied",
	    { COMMON_VARS, "subject", "problems", "problems.problem",
	    "commands", NULL } },
	{ "backlog-ack", 1, 0, "auto-replied", { BACKLOG_VARS, NULL } },
	{ "backlog-incomplete", 1, 0, "auto-replied", { BACKLOG_VARS, NULL } },
	{ "backlog-new-team", 1, 0, "auto-generated", { BACKLOG_VARS, NULL } },
	{ "backlog-triaged", 1, 0, "auto-generated", { BACKLOG_VARS, NULL } },
	{ "backlog-qualified", 1, 0, "auto-generated", { BACKLOG_VARS, NULL } },
	{ "backlog-disqualified", 1, 0, "auto-generated",
	    { BACKLOG_VARS, NULL } },
	{ "backlog-assigned", 1, 0, "auto-generated", { BACKLOG_VARS, NULL } },
	{ "backlog-handoff", 1, 0, "auto-generated", { BACKLOG_VARS, NULL } },
	{ "backlog-live", 1, 0, "auto-generated", { BACKLOG_VARS, NULL } },
	{ "digest-trial-queue", 1, 0, "auto-generated",
	    { COMMON_VARS, "period", "stale_hours", "has_any", "open_count",
	    "waiting", "waiting.id", "waiting.subject", "waiting.requester",
	    "waiting.organisation", "waiting.age", "transfers",
	    "transfers.id", "transfers.subject", "transfers.owner",
	    "transfers.waited", "owners", "owners.owner", "owners.count",
	    "owners.tickets", "tickets.id", "tickets.subject",
	    "tickets.status", "tickets.age", "stale", "stale.id",
	    "stale.subject", "stale.owner", "stale.silent", NULL } },
	{ "digest-backlog", 1, 0, "auto-generated",
	    { COMMON_VARS, "period", "target_days", "has_any", "groups",
	    "groups.status", "groups.count", "groups.entries", "entries.id",
	    "entries.customer_name", "entries.priority", "entries.ce",
	    "entries.ie", "entries.pm", "entries.days", "entries.tdd",
	    "entries.checklist", "attention", "attention.id",
	    "attention.customer_name", "attention.status", "attention.ce",
	    "attention.days", "attention.missing", "implementing",
	    "implementing.id", "implementing.customer_name",
	    "implementing.ie", "implementing.pm", "implementing.days",
	    "implementing.over", "went_live", "went_live.id",
	    "went_live.customer_name", "went_live.days", "went_live.over",
	    NULL } },
	{ "quarantine-notice", 1, 0, "auto-generated",
	    { COMMON_VARS, "quarantine_id", "reason", "from", "subject",
	    "mailbox", "key", "size", NULL } },
};

const char *const *
notice_template_vars(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
		if (strcmp(rules[i].name, name) == 0)
			return rules[i].vars;
	return NULL;
}

const char *const *
notice_template_names(void)
{
	static const char *names[G_N_ELEMENTS(rules) + 1];

	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
		names[i] = rules[i].name;
	return names;
}

static const template_rule *
rule_of(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
		if (strcmp(rules[i].name, name) == 0)
			return &rules[i];
	return NULL;
}

static mp_status
template_get(desk *d, const char *name, tmpl **out, char **err)
{
	tmpl *t = g_hash_table_lookup(d->templates, name);
	mp_status rc;

	if (t) {
		*out = t;
		return MP_OK;
	}
	rc = tmpl_load((const char *const *)d->template_dirs, name, &t, err);
	if (rc)
		return rc;
	g_hash_table_insert(d->templates, g_strdup(name), t);
	*out = t;
	return MP_OK;
}

/* Keeps the recipients that may get this notice, each once. */
static mp_status
recipients(desk *d, const notice *n, const template_rule *r, GPtrArray *to)
{
	int64_t now = clock_now();

	for (int i = 0; n->to && n->to[i]; i++) {
		const char *a = n->to[i];
		int dup = 0, count = 0;
		mp_status rc;

		if (*a == '\0' || config_is_own_address(d->cfg, a))
			continue;
		for (guint k = 0; k < to->len && !dup; k++)
			dup = g_ascii_strcasecmp(to->pdata[k], a) == 0;
		if (dup)
			continue;
		if (r->automatic && !config_is_staff_domain(d->cfg, a)) {
			rc = store_autoreply_count(d->st, a, now - 3600,
			    &count);
			if (rc)
				return rc;
			if (count >= d->cfg->max_autoreplies_per_hour) {
				mp_log(LOG_INFO, "%s: %s not sent to %s: "
				    "max_autoreplies_per_hour (%d) reached",
				    n->ticket ? n->ticket : "-", n->template,
				    a, d->cfg->max_autoreplies_per_hour);
				continue;
			}
			rc = store_autoreply_add(d->st, a, now);
			if (rc)
				return rc;
		}
		g_ptr_array_add(to, (gpointer)a);
	}
	g_ptr_array_add(to, NULL);
	return MP_OK;
}

mp_status
notice_queue(desk *d, const notice *n, int64_t *id, char **err)
{
	const template_rule *r = rule_of(n->template);
	GPtrArray *to = g_ptr_array_new();
	store_outbox row = { 0 };
	compose_in in = { 0 };
	char *subject = NULL, *text = NULL, *html = NULL, *tagged = NULL;
	char now[21];
	tmpl *t;
	mp_status rc;

	*id = 0;
	*err = NULL;
	if (r == NULL) {
		*err = g_strdup_printf("no rule for template %s", n->template);
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	rc = recipients(d, n, r, to);
	if (rc || to->len == 1)
		goto done;
	rc = template_get(d, n->template, &t, err);
	if (rc)
		goto done;
	clock_format(clock_now(), now);
	tvars_set(n->vars, "ticket_id", n->ticket);
	tvars_set(n->vars, "mailbox_address", n->from);
	tvars_set(n->vars, "now", now);
	rc = tmpl_render(t, n->vars, &subject, &text, &html, err);
	if (rc)
		goto done;
	if (n->ticket) {
		char *tag = g_strdup_printf("[%s]", n->ticket);

		if (strstr(subject, tag) == NULL)
			tagged = g_strdup_printf("%s %s", tag, subject);
		g_free(tag);
	}

	row.ticket = (char *)n->ticket;
	row.template = (char *)n->template;
	row.to = (char **)to->pdata;
	row.subject = tagged ? tagged : subject;
	row.message_id = compose_message_id(msg_addr_domain(n->from));
	row.status = "queued";
	row.internal = r->internal;
	row.created_at = clock_now();
	row.next_at = row.created_at;
	for (guint i = 0; r->internal && !n->preview && i + 1 < to->len; i++) {
		if (!config_is_staff_domain(d->cfg, to->pdata[i])) {
			row.status = "failed";
			row.error = g_strdup_printf("refused: internal notice "
			    "addressed to %s, outside staff_domains",
			    (char *)to->pdata[i]);
			mp_log(LOG_ERROR, "%s: %s %s", n->ticket ?
			    n->ticket : "-", n->template, row.error);
			break;
		}
	}

	in.from = n->from;
	in.from_name = NULL;
	in.to = (const char *const *)to->pdata;
	in.subject = row.subject;
	in.message_id = row.message_id;
	in.in_reply_to = n->in_reply_to;
	in.references = n->references;
	in.auto_submitted = r->auto_submitted;
	in.date = clock_now();
	in.text = text;
	in.html = html;
	rc = compose_message(&in, &row.raw, &row.raw_len);
	if (rc)
		goto done;
	if (n->preview) {
		*n->preview = row.raw;
		*n->preview_len = row.raw_len;
		row.raw = NULL;
		goto done;
	}
	rc = store_outbox_add(d->st, &row);
	if (!rc && n->ticket)
		rc = store_thread_add(d->st, row.message_id, n->ticket);
	if (!rc)
		*id = row.id;
done:
	g_free(row.message_id);
	g_free(row.error);
	g_free(row.raw);
	g_free(subject);
	g_free(tagged);
	g_free(text);
	g_free(html);
	g_ptr_array_free(to, TRUE);
	return rc;
}

/* Returns subject without leading reply and forward prefixes ("Re:",
 * "Fwd:", "AW:", "Réf. :" ...), so templates can add their own once.
 * Borrowed from subject. */
const char *
notice_subject_base(const char *subject)
{
	static const char *const prefixes[] = { "re", "fw", "fwd", "aw",
	    "wg", "sv", "vs", "antw", "tr", "ref", "rif", "r", NULL };
	const char *p = subject;
	int again = 1;

	while (again) {
		again = 0;
		while (*p == ' ')
			p++;
		for (int i = 0; prefixes[i] && !again; i++) {
			size_t n = strlen(prefixes[i]);
			const char *q = p + n;

			if (g_ascii_strncasecmp(p, prefixes[i], n) != 0)
				continue;
			if (*q == '[') {	/* "Re[2]:" */
				while (g_ascii_isdigit(*++q))
					;
				if (*q == ']')
					q++;
			}
			while (*q == ' ' || *q == '.')
				q++;
			if (*q == ':') {
				p = q + 1;
				again = 1;
			}
		}
	}
	return *p ? p : subject;
}

mp_status
notice_reply(desk *d, const cfg_mailbox *mb, const notice_thread *th,
    const msg *m, const char *template, const char *const *to, tvars *v)
{
	const char *refs[4] = { NULL };
	notice n = { 0 };
	int64_t id;
	char *err = NULL;
	int k = 0;
	mp_status rc;

	if (th->root_message_id)
		refs[k++] = th->root_message_id;
	if (m && m->message_id && g_strcmp0(m->message_id,
	    th->root_message_id))
		refs[k++] = m->message_id;
	n.template = template;
	n.ticket = th->id;
	n.from = mb->address;
	n.to = to;
	n.in_reply_to = m ? m->message_id : th->root_message_id;
	n.references = refs;
	n.vars = v;
	tvars_set(v, "subject", notice_subject_base(th->subject ?
	    th->subject : ""));
	rc = notice_queue(d, &n, &id, &err);
	if (rc)
		mp_log(LOG_ERROR, "%s: %s not queued: %s", th->id,
		    template, err ? err : mp_status_str(rc));
	g_free(err);
	return rc;
}
