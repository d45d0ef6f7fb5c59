/*
 * backlog.c - Jointly-Managed Implementation Requests: intake, completion
 * by reply, and the backlog commands.
 *
 * Statuses (SPEC 1.2): incomplete -> requested -> triaged -> qualified |
 * disqualified -> assigned -> in_implementation -> live.
 *
 * Who is told of what (SPEC 9):
 *   intake, complete     backlog-ack to the sender and the AE,
 *                        backlog-new-team to teams.implementation
 *   intake, incomplete   backlog-incomplete to the sender and the AE,
 *                        backlog-new-team
 *   completing reply     backlog-ack and backlog-new-team
 *   /triage /qualify /disqualify       the CE and the AE
 *   /assign /handoff /live             the CE, the AE, the IE and the PM
 *   /signoff tdd /done /note           nobody (events)
 */
#include <string.h>

#include "mailproc/backlog.h"
#include "mailproc/clock.h"
#include "mailproc/commands.h"
#include "mailproc/notice.h"
#include "mailproc/pipeline.h"
#include "parsers/form.h"

#define TARGET_DAYS 30

const char *const backlog_requirements[] = {
	"technical-requirements", "timelines", "meeting-cadence", "staffing",
	"progress-reporting", "roles", "operations", "prerequisites",
	"scope-signoff", NULL,
};

int64_t
backlog_implementation_days(int64_t handoff_at, int64_t live_at)
{
	if (handoff_at < 0 || live_at < 0 || live_at < handoff_at)
		return -1;
	return (live_at - handoff_at) / 86400;
}

static void
set_str(char **field, const char *v)
{
	char *copy = g_strdup(v);

	g_free(*field);
	*field = copy;
}

/* ---- lists kept as comma-separated text ---- */

static int
list_has(const char *list, const char *item)
{
	char **parts = g_strsplit(list ? list : "", ",", -1);
	int has = g_strv_contains((const char *const *)parts, item);

	g_strfreev(parts);
	return has;
}

static void
list_add(char **list, const char *item)
{
	char *n;

	if (list_has(*list, item))
		return;
	n = *list && **list ? g_strdup_printf("%s,%s", *list, item) :
	    g_strdup(item);
	g_free(*list);
	*list = n;
}

/* ---- notices ---- */

/* Every backlog template gets the same variables, set from e. */
static tvars *
entry_vars(const desk *d, const store_entry *e)
{
	tvars *v = tvars_new();
	char **missing = g_strsplit(e->missing_fields ? e->missing_fields :
	    "", ",", -1);
	int64_t days = backlog_implementation_days(e->handoff_at, e->live_at);
	int done = 0;

	for (int k = 0; k < FORM_N_FIELDS; k++)
		tvars_set(v, form_keys[k], e->field[k] ? e->field[k] : "");
	tvars_set(v, "status", e->status);
	tvars_set(v, "ce", e->requested_by);
	tvars_set(v, "priority", e->priority ? e->priority : "");
	tvars_set(v, "size", e->size ? e->size : "");
	tvars_set(v, "risk", e->risk ? e->risk : "");
	tvars_set(v, "ie", e->ie ? e->ie : "");
	tvars_set(v, "pm", e->pm ? e->pm : "");
	tvars_set(v, "reason", e->reason ? e->reason : "");
	tvars_set(v, "tdd_signed_off", e->tdd_signed_off ? "yes" : "");
	tvars_setf(v, "target_days", "%d", TARGET_DAYS);
	if (days >= 0)
		tvars_setf(v, "implementation_days", "%" G_GINT64_FORMAT,
		    days);
	else
		tvars_set(v, "implementation_days", "");
	tvars_set(v, "over_target", days > TARGET_DAYS ? "yes" : "");
	tvars_set(v, "smb", list_has(e->flags, "smb") ? "yes" : "");
	tvars_list(v, "missing");
	for (int i = 0; missing[i]; i++) {
		for (int k = 0; k < FORM_N_FIELDS; k++) {
			if (*missing[i] && strcmp(missing[i], form_keys[k]) ==
			    0) {
				tvars *m = tvars_add(v, "missing");

				tvars_set(m, "label", form_labels[k]);
				tvars_set(m, "key", form_keys[k]);
			}
		}
	}
	tvars_list(v, "invalid");
	for (int i = 0; backlog_requirements[i]; i++)
		done += list_has(e->requirements, backlog_requirements[i]);
	tvars_setf(v, "checklist", "%d/9", done);
	g_strfreev(missing);
	(void)d;
	return v;
}

/* Queues template on entry e, in reply to m, to the addresses in who (a
 * string of letters: c = CE, a = AE, i = IE, p = PM, s = the sender). */
static mp_status
tell(desk *d, const cfg_mailbox *mb, const store_entry *e, const msg *m,
    const char *template, const char *who, tvars *v)
{
	notice_thread th = { e->id, e->root_message_id, e->subject };
	const char *to[8];
	int n = 0;

	for (const char *w = who; *w && n < 7; w++) {
		const char *a = *w == 'c' ? e->requested_by :
		    *w == 'a' ? e->field[FORM_AE] : *w == 'i' ? e->ie :
		    *w == 'p' ? e->pm : *w == 's' ? m->from : NULL;

		if (a)
			to[n++] = a;
	}
	to[n] = NULL;
	return notice_reply(d, mb, &th, m, template, to, v);
}

/* ---- fields ---- */

/* Recomputes missing_fields (required and absent, or invalid in f) and
 * the flags of e. */
static void
recompute(store_entry *e, const form *f)
{
	GString *missing = g_string_new(NULL);

	for (int k = 0; k < FORM_N_FIELDS; k++) {
		int bad = 0;

		for (size_t i = 0; f && i < f->n_invalid; i++)
			bad |= f->invalid[i].field == k;
		if ((k < FORM_ADDITIONAL_INFO && e->field[k] == NULL) || bad)
			g_string_append_printf(missing, "%s%s", missing->len ?
			    "," : "", form_keys[k]);
	}
	g_free(e->missing_fields);
	e->missing_fields = g_string_free(missing, FALSE);
	g_free(e->flags);
	e->flags = g_strdup(e->field[FORM_SEGMENT] &&
	    strcmp(e->field[FORM_SEGMENT], "SMB") == 0 ? "smb" : "");
}

/* Adds the invalid fields of f, with reasons, to the template variables. */
static void
invalid_vars(tvars *v, const form *f)
{
	tvars_list(v, "invalid");
	for (size_t i = 0; f && i < f->n_invalid; i++) {
		tvars *x = tvars_add(v, "invalid");

		tvars_set(x, "label", form_labels[f->invalid[i].field]);
		tvars_set(x, "reason", f->invalid[i].reason);
	}
}

static const char *const *
form_texts(const msg *m, int new_only, const char **buf, int max)
{
	int n = 0;

	buf[n++] = new_only ? m->new_text : m->text;
	for (int i = 0; !new_only && m->attached_texts[i] && n < max - 1; i++)
		buf[n++] = m->attached_texts[i];
	buf[n] = NULL;
	return buf;
}

/* Tells the sender (and the AE) what the state of the form is, and the
 * team of a new or newly complete request. */
static mp_status
announce(desk *d, const cfg_mailbox *mb, const store_entry *e, const msg *m,
    const form *f, int new_request)
{
	tvars *v = entry_vars(d, e);
	int complete = strcmp(e->status, "incomplete") != 0;
	mp_status rc = MP_OK;

	invalid_vars(v, f);
	tvars_set(v, "sender", m->from);
	if (pipeline_may_autoreply(d, m))
		rc = tell(d, mb, e, m, complete ? "backlog-ack" :
		    "backlog-incomplete", "sa", v);
	if (!rc && (new_request || complete))
		rc = notice_reply(d, mb, &(notice_thread){ e->id,
		    e->root_message_id, e->subject }, m, "backlog-new-team",
		    (const char *const *)d->cfg->team_implementation, v);
	tvars_free(v);
	return rc;
}

static mp_status
open_entry(desk *d, const cfg_mailbox *mb, const msg *m, const char *raw,
    size_t len, char **outcome, char **why)
{
	const char *texts[10];
	store_entry e = { 0 };
	int64_t now = clock_now();
	form *f;
	mp_status rc;

	if (!config_is_staff_domain(d->cfg, m->from)) {
		*why = g_strdup_printf("implementation requests are accepted "
		    "from staff_domains only, not from %s", m->from);
		return MP_ERR_REFUSED;
	}
	/* A forged staff From: gets what a customer gets (SPEC 2). */
	if (!pipeline_sender_is_staff(d, m)) {
		*why = g_strdup_printf("implementation requests are accepted "
		    "from authenticated staff only: %s has no passing "
		    "Authentication-Results from %s", m->from,
		    d->cfg->authserv_id ? d->cfg->authserv_id : "(none)");
		return MP_ERR_REFUSED;
	}
	f = form_parse(form_texts(m, 0, texts, 10));
	e.mailbox = mb->name;
	e.subject = m->subject ? m->subject : "(no subject)";
	e.root_message_id = m->message_id;
	e.requested_by = m->from;
	for (int k = 0; k < FORM_N_FIELDS; k++)
		e.field[k] = f->value[k];
	recompute(&e, f);
	e.status = *e.missing_fields ? "incomplete" : "requested";
	e.created_at = e.updated_at = now;
	e.handoff_at = e.live_at = -1;
	rc = store_entry_create(d->st, &e);
	if (!rc)
		rc = store_participant_add(d->st, e.id, m->from);
	if (!rc && e.field[FORM_AE])
		rc = store_participant_add(d->st, e.id, e.field[FORM_AE]);
	if (!rc)
		rc = pipeline_record(d, mb, e.id, m, "public", m->new_text, raw,
		    len);
	if (!rc)
		rc = store_event_add(d->st, e.id, now, m->from, "created",
		    e.status, m->message_id);
	if (!rc && *e.flags)
		rc = store_event_add(d->st, e.id, now, m->from, "flagged",
		    "smb: implementation services do not apply to the SMB "
		    "segment", m->message_id);
	if (!rc)
		rc = announce(d, mb, &e, m, f, 1);
	if (!rc)
		*outcome = g_strdup_printf("%s created", e.id);
	g_free(e.missing_fields);
	g_free(e.flags);
	form_free(f);
	return rc;
}

/* A reply on the entry's thread carrying form fields fills them in. */
static mp_status
fill_in(desk *d, const cfg_mailbox *mb, store_entry *e, const msg *m,
    const form *f)
{
	int64_t now = clock_now();
	int was_incomplete = strcmp(e->status, "incomplete") == 0;
	mp_status rc = MP_OK;

	for (int k = 0; k < FORM_N_FIELDS && !rc; k++) {
		char *detail;

		if (f->value[k] == NULL || g_strcmp0(f->value[k],
		    e->field[k]) == 0)
			continue;
		detail = g_strdup_printf("%s: %s -> %s", form_keys[k],
		    e->field[k] ? e->field[k] : "(none)", f->value[k]);
		rc = store_event_add(d->st, e->id, now, m->from,
		    "field_changed", detail, m->message_id);
		g_free(detail);
		set_str(&e->field[k], f->value[k]);
		if (k == FORM_AE && !rc)
			rc = store_participant_add(d->st, e->id, f->value[k]);
	}
	if (rc)
		return rc;
	recompute(e, f);
	if (was_incomplete && *e->missing_fields == '\0') {
		set_str(&e->status, "requested");
		rc = store_event_add(d->st, e->id, now, m->from, "completed",
		    NULL, m->message_id);
	}
	if (!rc && (was_incomplete || f->n_invalid))
		rc = announce(d, mb, e, m, f, 0);
	return rc;
}

/* ---- commands (SPEC 2, backlog rows) ---- */

static int
is_ie_or_pm(cmd_env *c)
{
	return config_has_role(c->d->cfg, c->sender, ROLE_IE) ||
	    config_has_role(c->d->cfg, c->sender, ROLE_PM);
}

/* Checks the role rule shared by most commands. */
static int
need_ie_or_pm(cmd_env *c, GPtrArray *p)
{
	if (is_ie_or_pm(c))
		return 1;
	commands_problem(p, "only an implementation engineer or project "
	    "manager (role ie or pm) may do this");
	return 0;
}

/* Splits "k=v k2=v2" into a table; returns 0 and a problem on a word
 * that is not key=value. */
static int
kv_parse(const char *args, GHashTable *kv, GPtrArray *p)
{
	char **words = g_strsplit_set(args, " \t", -1);
	int ok = 1;

	for (int i = 0; words[i]; i++) {
		char *eq = strchr(words[i], '=');

		if (*words[i] == '\0')
			continue;
		if (eq == NULL || eq == words[i] || eq[1] == '\0') {
			commands_problem(p, "'%s' is not key=value", words[i]);
			ok = 0;
			continue;
		}
		*eq = '\0';
		g_hash_table_replace(kv, g_ascii_strdown(words[i], -1),
		    g_strdup(eq + 1));
	}
	g_strfreev(words);
	return ok;
}

static int
one_of(const char *v, const char *const *allowed, char **out)
{
	for (int i = 0; allowed[i]; i++)
		if (g_ascii_strcasecmp(v, allowed[i]) == 0) {
			*out = (char *)allowed[i];
			return 1;
		}
	return 0;
}

static mp_status
tell_cmd(cmd_env *c, const char *template, const char *who)
{
	store_entry *e = c->item;
	tvars *v = entry_vars(c->d, e);
	mp_status rc = tell(c->d, c->mb, e, c->m, template, who, v);

	tvars_free(v);
	return rc;
}

static mp_status
cmd_triage(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	static const char *const prios[] = { "P1", "P2", "P3", "P4", NULL };
	static const char *const sizes[] = { "S", "M", "L", "XL", NULL };
	static const char *const risks[] = { "low", "medium", "high", NULL };
	store_entry *e = c->item;
	GHashTable *kv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	GHashTableIter it;
	gpointer k, val;
	char *prio = NULL, *size = NULL, *risk = NULL, *arr = NULL;
	guint before = p->len;
	mp_status rc = MP_OK;

	if (!need_ie_or_pm(c, p))
		goto done;
	if (strcmp(e->status, "incomplete") == 0) {
		commands_problem(p, "%s is incomplete (missing %s): the form "
		    "must be complete first", e->id, e->missing_fields);
		goto done;
	}
	if (strcmp(e->status, "requested") != 0 &&
	    strcmp(e->status, "triaged") != 0) {
		commands_problem(p, "%s is %s: only a requested entry can be "
		    "triaged", e->id, e->status);
		goto done;
	}
	if (!kv_parse(cm->args, kv, p))
		goto done;
	g_hash_table_iter_init(&it, kv);
	while (g_hash_table_iter_next(&it, &k, &val)) {
		if (strcmp(k, "priority") == 0) {
			if (!one_of(val, prios, &prio))
				commands_problem(p, "priority '%s' is not one "
				    "of P1, P2, P3, P4", (char *)val);
		} else if (strcmp(k, "size") == 0) {
			if (!one_of(val, sizes, &size))
				commands_problem(p, "size '%s' is not one of "
				    "S, M, L, XL", (char *)val);
		} else if (strcmp(k, "risk") == 0) {
			if (!one_of(val, risks, &risk))
				commands_problem(p, "risk '%s' is not one of "
				    "low, medium, high", (char *)val);
		} else if (strcmp(k, "arr") == 0) {
			const char *q = val;

			while (g_ascii_isdigit(*q))
				q++;
			if (*q || q == val || strlen(val) > 15)
				commands_problem(p, "arr '%s' is not a whole "
				    "number", (char *)val);
			else
				arr = val;
		} else {
			commands_problem(p, "unknown key '%s' (priority, size, "
			    "arr, risk)", (char *)k);
		}
	}
	if (prio == NULL && p->len == before)
		commands_problem(p, "needs priority=P1..P4");
	if (p->len > before)
		goto done;
	set_str(&e->priority, prio);
	if (size)
		set_str(&e->size, size);
	if (risk)
		set_str(&e->risk, risk);
	if (arr)
		set_str(&e->field[FORM_ARR], arr);
	set_str(&e->status, "triaged");
	{
		char *detail = g_strdup_printf("priority=%s%s%s%s%s%s%s",
		    prio, size ? " size=" : "", size ? size : "",
		    arr ? " arr=" : "", arr ? arr : "", risk ? " risk=" : "",
		    risk ? risk : "");

		rc = commands_event(c, "triaged", detail);
		g_free(detail);
	}
	if (!rc)
		rc = tell_cmd(c, "backlog-triaged", "ca");
done:
	g_hash_table_destroy(kv);
	return rc;
}

static mp_status
cmd_qualify(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	store_entry *e = c->item;
	mp_status rc;

	if (!need_ie_or_pm(c, p))
		return MP_OK;
	if (list_has(e->flags, "smb")) {
		commands_problem(p, "%s is in the SMB segment: implementation "
		    "services do not apply to SMB (use /disqualify)", e->id);
		return MP_OK;
	}
	if (strcmp(e->status, "triaged") != 0) {
		commands_problem(p, "%s is %s: it must be triaged first "
		    "(/triage priority=P1..P4)", e->id, e->status);
		return MP_OK;
	}
	set_str(&e->status, "qualified");
	rc = commands_event(c, "qualified", NULL);
	if (!rc)
		rc = tell_cmd(c, "backlog-qualified", "ca");
	return rc;
}

static mp_status
cmd_disqualify(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	store_entry *e = c->item;
	mp_status rc;

	if (!need_ie_or_pm(c, p))
		return MP_OK;
	if (*cm->args == '\0') {
		commands_problem(p, "needs a reason: /disqualify REASON");
		return MP_OK;
	}
	if (strcmp(e->status, "disqualified") == 0 ||
	    strcmp(e->status, "in_implementation") == 0 ||
	    strcmp(e->status, "live") == 0) {
		commands_problem(p, "%s is %s and cannot be disqualified",
		    e->id, e->status);
		return MP_OK;
	}
	set_str(&e->prev_status, e->status);
	set_str(&e->status, "disqualified");
	set_str(&e->reason, cm->args);
	rc = commands_event(c, "disqualified", cm->args);
	if (!rc)
		rc = tell_cmd(c, "backlog-disqualified", "ca");
	return rc;
}

static mp_status
cmd_assign(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	store_entry *e = c->item;
	GHashTable *kv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	const char *ie, *pm;
	guint before = p->len;
	mp_status rc = MP_OK;

	if (!need_ie_or_pm(c, p))
		goto done;
	if (strcmp(e->status, "qualified") != 0 &&
	    strcmp(e->status, "assigned") != 0) {
		commands_problem(p, "%s is %s: it must be qualified first",
		    e->id, e->status);
		goto done;
	}
	if (!kv_parse(cm->args, kv, p))
		goto done;
	ie = g_hash_table_lookup(kv, "ie");
	pm = g_hash_table_lookup(kv, "pm");
	if (g_hash_table_size(kv) != (guint)((ie != NULL) + (pm != NULL)))
		commands_problem(p, "only ie= and pm= can be assigned");
	if (ie == NULL && pm == NULL)
		commands_problem(p, "needs ie=ADDRESS and/or pm=ADDRESS");
	if (ie && !config_has_role(c->d->cfg, ie, ROLE_IE))
		commands_problem(p, "%s is not an implementation engineer "
		    "(not in [roles] ie)", ie);
	if (pm && !config_has_role(c->d->cfg, pm, ROLE_PM))
		commands_problem(p, "%s is not a project manager (not in "
		    "[roles] pm)", pm);
	if (p->len > before)
		goto done;
	if (ie) {
		char *a = g_ascii_strdown(ie, -1);

		g_free(e->ie);
		e->ie = a;
		rc = store_participant_add(c->d->st, e->id, a);
	}
	if (!rc && pm) {
		char *a = g_ascii_strdown(pm, -1);

		g_free(e->pm);
		e->pm = a;
		rc = store_participant_add(c->d->st, e->id, a);
	}
	set_str(&e->status, "assigned");
	if (!rc) {
		char *detail = g_strdup_printf("ie=%s pm=%s", e->ie ? e->ie :
		    "(none)", e->pm ? e->pm : "(none)");

		rc = commands_event(c, "assigned", detail);
		g_free(detail);
	}
	if (!rc)
		rc = tell_cmd(c, "backlog-assigned", "caip");
done:
	g_hash_table_destroy(kv);
	return rc;
}

static mp_status
cmd_signoff(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	store_entry *e = c->item;

	if (g_ascii_strcasecmp(cm->args, "tdd") != 0) {
		commands_problem(p, "only 'tdd' can be signed off: /signoff tdd");
		return MP_OK;
	}
	if (!config_has_role(c->d->cfg, c->sender, ROLE_IE)) {
		commands_problem(p, "only an implementation engineer (role ie) "
		    "may sign off the TDD");
		return MP_OK;
	}
	if (e->field[FORM_TDD_URL] == NULL) {
		commands_problem(p, "%s has no TDD link to sign off", e->id);
		return MP_OK;
	}
	e->tdd_signed_off = 1;
	return commands_event(c, "tdd_signed_off", e->field[FORM_TDD_URL]);
}

static mp_status
cmd_handoff(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	store_entry *e = c->item;
	GPtrArray *why = g_ptr_array_new_with_free_func(g_free);
	mp_status rc = MP_OK;

	if (!need_ie_or_pm(c, p))
		goto done;
	if (strcmp(e->status, "qualified") != 0 &&
	    strcmp(e->status, "assigned") != 0)
		g_ptr_array_add(why, g_strdup_printf("it is %s, not qualified",
		    e->status));
	if (e->ie == NULL)
		g_ptr_array_add(why, g_strdup("no IE is assigned (/assign "
		    "ie=ADDRESS)"));
	if (e->pm == NULL)
		g_ptr_array_add(why, g_strdup("no PM is assigned (/assign "
		    "pm=ADDRESS)"));
	if (!e->tdd_signed_off)
		g_ptr_array_add(why, g_strdup("the TDD is not signed off by "
		    "an IE (/signoff tdd)"));
	if (why->len) {
		char *all;

		g_ptr_array_add(why, NULL);
		all = g_strjoinv("; ", (char **)why->pdata);
		commands_problem(p, "%s cannot be handed off: %s", e->id, all);
		g_free(all);
		goto done;
	}
	set_str(&e->status, "in_implementation");
	e->handoff_at = clock_now();
	rc = commands_event(c, "handoff", NULL);
	if (!rc)
		rc = tell_cmd(c, "backlog-handoff", "caip");
done:
	g_ptr_array_free(why, TRUE);
	return rc;
}

static mp_status
cmd_done(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	store_entry *e = c->item;
	const char *key = NULL;

	if (!need_ie_or_pm(c, p))
		return MP_OK;
	for (int i = 0; backlog_requirements[i]; i++)
		if (g_ascii_strcasecmp(cm->args, backlog_requirements[i]) == 0)
			key = backlog_requirements[i];
	if (key == NULL) {
		char *all = g_strjoinv(", ", (char **)backlog_requirements);

		commands_problem(p, "'%s' is not a checklist item (%s)",
		    cm->args, all);
		g_free(all);
		return MP_OK;
	}
	if (strcmp(e->status, "disqualified") == 0) {
		commands_problem(p, "%s is disqualified", e->id);
		return MP_OK;
	}
	list_add(&e->requirements, key);
	return commands_event(c, "done", key);
}

static mp_status
cmd_live(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	store_entry *e = c->item;
	char detail[64];
	mp_status rc;

	if (!need_ie_or_pm(c, p))
		return MP_OK;
	if (strcmp(e->status, "in_implementation") != 0) {
		commands_problem(p, "%s is %s: only an entry in implementation "
		    "can go live (/handoff first)", e->id, e->status);
		return MP_OK;
	}
	set_str(&e->status, "live");
	e->live_at = clock_now();
	g_snprintf(detail, sizeof(detail), "%" G_GINT64_FORMAT " days",
	    backlog_implementation_days(e->handoff_at, e->live_at));
	rc = commands_event(c, "live", detail);
	if (!rc)
		rc = tell_cmd(c, "backlog-live", "caip");
	return rc;
}

static mp_status
cmd_reopen(cmd_env *c, const cmd *cm, GPtrArray *p)
{
	store_entry *e = c->item;

	if (strcmp(e->status, "disqualified") != 0) {
		commands_problem(p, "%s is not disqualified (it is %s)", e->id,
		    e->status);
		return MP_OK;
	}
	set_str(&e->status, e->prev_status ? e->prev_status : "requested");
	set_str(&e->reason, NULL);
	return commands_event(c, "reopened", e->status);
}

static const cmd_rule backlog_rules[] = {
	{ "triage", NULL, cmd_triage },
	{ "qualify", NULL, cmd_qualify },
	{ "disqualify", NULL, cmd_disqualify },
	{ "assign", NULL, cmd_assign },
	{ "signoff", NULL, cmd_signoff },
	{ "handoff", NULL, cmd_handoff },
	{ "done", NULL, cmd_done },
	{ "live", NULL, cmd_live },
	{ "note", NULL, commands_note },
	{ "reopen", NULL, cmd_reopen },
	{ NULL, NULL, NULL },
};

/* ---- messages on an entry's thread ---- */

static mp_status
entry_message(desk *d, const cfg_mailbox *mb, store_entry *e, const msg *m,
    const char *raw, size_t len, char **outcome)
{
	int staff = pipeline_sender_is_staff(d, m);
	cmd_block *b = staff ? cmd_parse(m->new_text) : NULL;
	const char *texts[3];
	char **problems = NULL;
	cmd_env env = { 0 };
	form *f = NULL;
	const char *visibility = "public";
	mp_status rc = MP_OK;

	if (b && (b->n > 0 || b->too_many)) {
		env.d = d;
		env.mb = mb;
		env.m = m;
		env.sender = m->from;
		env.rest = b->rest;
		env.id = e->id;
		env.item = e;
		rc = commands_run(&env, backlog_rules, b, &problems);
		if (rc)
			goto done;
		if (problems[0]) {
			notice_thread th = { e->id, e->root_message_id,
			    e->subject };

			rc = commands_refuse(&env, &th, b, problems, raw, len,
			    outcome);
			goto done;
		}
		visibility = "internal";
	} else if (staff) {
		/* Only authenticated staff change fields: a forged staff
		 * From: is a customer's reply, which changes nothing. */
		f = form_parse(form_texts(m, 1, texts, 3));
		if (f->n_found > 0)
			rc = fill_in(d, mb, e, m, f);
	}
	e->updated_at = clock_now();
	if (!rc)
		rc = store_entry_update(d->st, e);
	if (!rc)
		rc = pipeline_record(d, mb, e->id, m, visibility, b ? b->rest :
		    m->new_text, raw, len);
	if (!rc && (b == NULL || b->n == 0) && (f == NULL || f->n_found == 0))
		rc = store_event_add(d->st, e->id, clock_now(), m->from,
		    "message", NULL, m->message_id);
	if (!rc)
		*outcome = g_strdup_printf("%s updated", e->id);
done:
	form_free(f);
	g_strfreev(problems);
	cmd_block_free(b);
	return rc;
}

/* Finds the entry m belongs to, as tickets_handle does for tickets. */
static mp_status
find_entry(desk *d, const msg *m, store_entry **out)
{
	char id[16];
	mp_status rc;

	*out = NULL;
	rc = pipeline_thread_find(d, m, "IE-", id);
	if (rc)
		return rc;
	if (id[0])
		return store_entry_get(d->st, id, out);
	/* A subject tag joins only for participants and staff. */
	for (const char *p = m->subject ? strstr(m->subject, "[IE-") : NULL;
	    p; p = strstr(p + 1, "[IE-")) {
		const char *q = p + 4;
		int has = 0;

		while (g_ascii_isdigit(*q))
			q++;
		if (*q != ']' || q == p + 4 || q - p > 14)
			continue;
		g_strlcpy(id, p + 1, (size_t)(q - p));
		rc = store_participant_has(d->st, id, m->from, &has);
		if (rc)
			return rc;
		if (!has && !pipeline_sender_is_staff(d, m))
			return MP_OK;
		rc = store_entry_get(d->st, id, out);
		return rc == MP_ERR_NOT_FOUND ? MP_OK : rc;
	}
	return MP_OK;
}

mp_status
backlog_handle(desk *d, const cfg_mailbox *mb, const msg *m, const char *raw,
    size_t len, char **outcome, char **why)
{
	store_entry *e = NULL;
	mp_status rc = find_entry(d, m, &e);

	if (rc)
		return rc;
	if (e == NULL)
		return open_entry(d, mb, m, raw, len, outcome, why);
	rc = entry_message(d, mb, e, m, raw, len, outcome);
	store_entry_free(e);
	return rc;
}
