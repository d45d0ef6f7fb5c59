/*
 * main.c - the mailproc command line (SPEC 5).
 *
 * Subcommands are rows of one table; each returns an mp_status, and
 * mp_status_exit_code() turns it into the exit code.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailproc/clock.h"
#include "mailproc/daemon.h"
#include "mailproc/desk.h"
#include "mailproc/log.h"
#include "mailproc/digest.h"
#include "mailproc/notice.h"
#include "mailproc/sender.h"
#include "templates/render.h"
#include "mailproc/pipeline.h"
#include "mailproc/views.h"

#define DEFAULT_CONFIG "/etc/mailproc/mailproc.conf"
/* Messages per transaction in ingest: every one is committed before the
 * outcome lines are printed, and a rerun after a crash is deduplicated. */
#define INGEST_BATCH 256
/* How far the parse worker may run ahead of filing in an mbox. */
#define AHEAD_MESSAGES 64
#define AHEAD_BYTES (32u << 20)

typedef struct cli {
	const char *config_path;
	const char *db_path;
	int argc;
	char **argv;		/* the subcommand's arguments */
} cli;

static void
die_msg(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
die_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("mailproc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static mp_status
open_desk(const cli *c, desk **d)
{
	config *cfg = NULL;
	char *err = NULL;
	mp_status rc;

	rc = config_load(c->config_path, &cfg, &err);
	if (rc) {
		die_msg("%s", err);
		g_free(err);
		return rc;
	}
	rc = desk_open(cfg, c->db_path, d, &err);
	if (rc) {
		die_msg("%s", err ? err : mp_status_str(rc));
		g_free(err);
		config_free(cfg);
	}
	return rc;
}

static void
print_out(char *text)
{
	fputs(text, stdout);
	g_free(text);
}

/* ---- ingest ---- */

typedef struct ingest {
	desk *d;
	const cfg_mailbox *mb;
	GPtrArray *pending;	/* outcome lines of the open transaction */
	int in_tx;
	mp_status failed;
	ahead *ah;		/* --mbox: the parse worker, or NULL */
	unsigned queued;	/* pushed to ah, not yet filed */
} ingest;

static mp_status
ingest_flush(ingest *in)
{
	mp_status rc = MP_OK;

	if (in->in_tx) {
		rc = store_commit(in->d->st);
		in->in_tx = 0;
		if (rc) {
			store_rollback(in->d->st);
			die_msg("store: commit failed: %s; %u messages of "
			    "this batch not recorded, feed them again",
			    store_errmsg(in->d->st), in->pending->len);
			g_ptr_array_set_size(in->pending, 0);
			return rc;
		}
	}
	for (guint i = 0; i < in->pending->len; i++)
		puts(in->pending->pdata[i]);
	fflush(stdout);
	g_ptr_array_set_size(in->pending, 0);
	return rc;
}

/* Opens the batch's transaction when none is open. */
static mp_status
ingest_begin(ingest *in, const char *where)
{
	mp_status rc;

	if (in->failed)
		return in->failed;
	if (in->in_tx)
		return MP_OK;
	rc = store_begin(in->d->st);
	if (rc) {
		die_msg("store: %s: cannot start a transaction: %s", where,
		    store_errmsg(in->d->st));
		return in->failed = rc;
	}
	in->in_tx = 1;
	return MP_OK;
}

/* Keeps a message's outcome for the commit, or stops on its failure. */
static mp_status
ingest_filed(ingest *in, mp_status rc, char *outcome, const char *where)
{
	if (rc) {
		die_msg("%s: not processed (%s: %s); nothing recorded for it",
		    where, mp_status_str(rc), store_errmsg(in->d->st));
		ingest_flush(in);
		return in->failed = rc;
	}
	g_ptr_array_add(in->pending, outcome);
	if (in->pending->len >= INGEST_BATCH)
		return in->failed = ingest_flush(in);
	return MP_OK;
}

static mp_status
ingest_one(ingest *in, const char *raw, size_t len, const char *where)
{
	char *outcome = NULL;
	mp_status rc = ingest_begin(in, where);

	if (rc)
		return rc;
	rc = pipeline_message(in->d, in->mb, raw, len, 0, &outcome);
	return ingest_filed(in, rc, outcome, where);
}

/* Files the oldest message of the parse-ahead queue. */
static mp_status
ingest_next(ingest *in)
{
	ahead_item *it = ahead_pop(in->ah);
	char where[64], *outcome = NULL;
	mp_status rc;

	if (it == NULL)
		return MP_OK;
	in->queued--;
	g_snprintf(where, sizeof(where), "message %" G_GUINT64_FORMAT,
	    it->tag);
	rc = ingest_begin(in, where);
	if (!rc) {
		rc = pipeline_message_parsed(in->d, in->mb, it, &outcome);
		rc = ingest_filed(in, rc, outcome, where);
	}
	ahead_item_free(it);
	return rc;
}

/* Message number n of an mbox: parsed on the worker while the messages
 * before it are filed; at most AHEAD_MESSAGES or AHEAD_BYTES ahead. */
static mp_status
ingest_queue(ingest *in, long n, const char *raw, size_t len)
{
	mp_status rc = MP_OK;

	if (in->ah == NULL) {
		char where[64];

		g_snprintf(where, sizeof(where), "message %ld", n);
		return ingest_one(in, raw, len, where);
	}
	ahead_push(in->ah, (uint64_t)n, raw, len);
	in->queued++;
	while (!rc && (in->queued > AHEAD_MESSAGES ||
	    ahead_bytes(in->ah) > AHEAD_BYTES))
		rc = ingest_next(in);
	return rc;
}

/* Splits an mboxrd file into messages: "From " lines start a message and
 * ">From " (any number of '>') loses one '>'. */
static mp_status
ingest_mbox(ingest *in, const char *path)
{
	GMappedFile *mf;
	GError *err = NULL;
	const char *p, *end;
	GString *cur = NULL;
	long count = 0;
	mp_status rc = MP_OK;

	mf = g_mapped_file_new(path, FALSE, &err);
	if (mf == NULL) {
		die_msg("%s: cannot read mbox: %s", path, err->message);
		g_error_free(err);
		return MP_ERR_IO;
	}
	p = g_mapped_file_get_contents(mf);
	end = p + g_mapped_file_get_length(mf);
	if (p == NULL || (end - p >= 5 && strncmp(p, "From ", 5) != 0)) {
		die_msg("%s:1: not an mbox file (no 'From ' line)", path);
		g_mapped_file_unref(mf);
		return p == NULL ? MP_OK : MP_ERR_USAGE;
	}
	if (ahead_new(&in->d->limits, in->d->cfg->max_message_bytes, &in->ah))
		in->ah = NULL;		/* no thread: parse in line */
	cur = g_string_sized_new(8192);
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *q = p;

		if (end - p >= 5 && strncmp(p, "From ", 5) == 0) {
			if (count > 0) {
				/* The blank line before "From " is the
				 * separator, not part of the message. */
				if (cur->len && cur->str[cur->len - 1] == '\n')
					g_string_truncate(cur, cur->len - 1);
				rc = ingest_queue(in, count, cur->str,
				    cur->len);
			}
			g_string_truncate(cur, 0);
			count++;
			p = next;
			continue;
		}
		while (q < next && *q == '>')
			q++;
		if (q > p && next - q >= 5 && strncmp(q, "From ", 5) == 0)
			p++;
		g_string_append_len(cur, p, next - p);
		p = next;
	}
	if (!rc && count > 0) {
		if (cur->len && cur->str[cur->len - 1] == '\n')
			g_string_truncate(cur, cur->len - 1);
		rc = ingest_queue(in, count, cur->str, cur->len);
	}
	while (!rc && in->queued)
		rc = ingest_next(in);
	ahead_free(in->ah);
	in->ah = NULL;
	in->queued = 0;
	g_string_free(cur, TRUE);
	g_mapped_file_unref(mf);
	return rc;
}

static mp_status
ingest_file(ingest *in, const char *path)
{
	char *data = NULL;
	gsize len = 0;
	GError *err = NULL;
	mp_status rc;

	if (strcmp(path, "-") == 0) {
		GString *s = g_string_new(NULL);
		char buf[65536];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			g_string_append_len(s, buf, n);
		if (ferror(stdin)) {
			die_msg("standard input: %s", strerror(errno));
			g_string_free(s, TRUE);
			return MP_ERR_TEMP;
		}
		len = s->len;
		data = g_string_free(s, FALSE);
	} else if (!g_file_get_contents(path, &data, &len, &err)) {
		die_msg("%s: cannot read: %s", path, err->message);
		g_error_free(err);
		return MP_ERR_IO;
	}
	rc = ingest_one(in, data, len, path);
	g_free(data);
	return rc;
}

static mp_status
cmd_ingest(cli *c)
{
	const char *mailbox = NULL, *mbox = NULL;
	GPtrArray *files = g_ptr_array_new();
	ingest in = { 0 };
	desk *d = NULL;
	mp_status rc = MP_OK;

	for (int i = 0; i < c->argc; i++) {
		const char *a = c->argv[i];

		if (strcmp(a, "--mailbox") == 0 && i + 1 < c->argc)
			mailbox = c->argv[++i];
		else if (g_str_has_prefix(a, "--mailbox="))
			mailbox = a + 10;
		else if (strcmp(a, "--mbox") == 0 && i + 1 < c->argc)
			mbox = c->argv[++i];
		else if (a[0] == '-' && a[1] != '\0') {
			die_msg("ingest: unknown option %s", a);
			rc = MP_ERR_USAGE;
			goto done;
		} else
			g_ptr_array_add(files, (gpointer)a);
	}
	if (mailbox == NULL) {
		die_msg("ingest: --mailbox NAME is required");
		rc = MP_ERR_USAGE;
		goto done;
	}
	rc = open_desk(c, &d);
	if (rc)
		goto done;
	in.d = d;
	in.mb = config_mailbox(d->cfg, mailbox);
	if (in.mb == NULL) {
		die_msg("ingest: %s: no [mailbox.%s] in %s", mailbox, mailbox,
		    d->cfg->path);
		rc = MP_ERR_USAGE;
		goto done;
	}
	in.pending = g_ptr_array_new_with_free_func(g_free);
	if (mbox)
		rc = ingest_mbox(&in, mbox);
	else if (files->len == 0)
		rc = ingest_file(&in, "-");
	for (guint i = 0; !rc && i < files->len; i++)
		rc = ingest_file(&in, files->pdata[i]);
	{
		mp_status frc = ingest_flush(&in);

		if (!rc)
			rc = frc;
	}
done:
	if (in.pending)
		g_ptr_array_free(in.pending, TRUE);
	g_ptr_array_free(files, TRUE);
	desk_close(d);
	return rc;
}

/* ---- listings ---- */

static int
has_flag(cli *c, const char *flag)
{
	for (int i = 0; i < c->argc; i++)
		if (strcmp(c->argv[i], flag) == 0)
			return 1;
	return 0;
}

static const char *
flag_value(cli *c, const char *flag)
{
	for (int i = 0; i + 1 < c->argc; i++)
		if (strcmp(c->argv[i], flag) == 0)
			return c->argv[i + 1];
	return NULL;
}

static mp_status
check_args(cli *c, const char *const *flags, const char *const *valued,
    int positional, const char *cmd)
{
	int pos = 0;

	for (int i = 0; i < c->argc; i++) {
		int known = 0;

		for (int k = 0; valued && valued[k] && !known; k++)
			if (strcmp(c->argv[i], valued[k]) == 0) {
				known = 1;
				if (++i >= c->argc) {
					die_msg("%s: %s needs a value", cmd,
					    valued[k]);
					return MP_ERR_USAGE;
				}
			}
		for (int k = 0; flags && flags[k] && !known; k++)
			known = strcmp(c->argv[i], flags[k]) == 0;
		if (known)
			continue;
		if (c->argv[i][0] == '-') {
			die_msg("%s: unknown option %s", cmd, c->argv[i]);
			return MP_ERR_USAGE;
		}
		if (++pos > positional) {
			die_msg("%s: unexpected argument %s", cmd,
			    c->argv[i]);
			return MP_ERR_USAGE;
		}
	}
	return MP_OK;
}

static mp_status
cmd_tickets(cli *c)
{
	static const char *const flags[] = { "--json", NULL };
	static const char *const valued[] = { "--status", NULL };
	desk *d = NULL;
	char *out = NULL;
	mp_status rc = check_args(c, flags, valued, 0, "tickets");

	if (!rc)
		rc = open_desk(c, &d);
	if (!rc)
		rc = view_tickets(d, flag_value(c, "--status"),
		    has_flag(c, "--json"), &out);
	if (!rc)
		print_out(out);
	else if (d)
		die_msg("tickets: %s", store_errmsg(d->st));
	desk_close(d);
	return rc;
}

static mp_status
cmd_backlog(cli *c)
{
	static const char *const flags[] = { "--json", NULL };
	static const char *const valued[] = { "--status", NULL };
	desk *d = NULL;
	char *out = NULL;
	mp_status rc = check_args(c, flags, valued, 0, "backlog");

	if (!rc)
		rc = open_desk(c, &d);
	if (!rc)
		rc = view_backlog(d, flag_value(c, "--status"),
		    has_flag(c, "--json"), &out);
	if (!rc)
		print_out(out);
	else if (d)
		die_msg("backlog: %s", store_errmsg(d->st));
	desk_close(d);
	return rc;
}

static const char *
first_positional(cli *c)
{
	for (int i = 0; i < c->argc; i++)
		if (c->argv[i][0] != '-')
			return c->argv[i];
	return NULL;
}

static mp_status
cmd_show(cli *c)
{
	static const char *const flags[] = { "--json", NULL };
	const char *id;
	desk *d = NULL;
	char *out = NULL;
	mp_status rc = check_args(c, flags, NULL, 1, "show");

	if (rc)
		return rc;
	id = first_positional(c);
	if (id == NULL) {
		die_msg("show: which ticket? (e.g. mailproc show TS-1)");
		return MP_ERR_USAGE;
	}
	rc = open_desk(c, &d);
	if (!rc)
		rc = view_show(d, id, has_flag(c, "--json"), &out);
	if (!rc)
		print_out(out);
	else if (rc == MP_ERR_NOT_FOUND)
		die_msg("no such %s: %s", g_str_has_prefix(id, "IE-") ?
		    "backlog entry" : "ticket", id);
	else if (d)
		die_msg("show %s: %s", id, store_errmsg(d->st));
	desk_close(d);
	return rc;
}

static int
parse_id(const char *s, int64_t *id)
{
	char *end;

	if (s == NULL)
		return -1;
	*id = g_ascii_strtoll(s, &end, 10);
	return *end == '\0' && end != s && *id > 0 ? 0 : -1;
}

static mp_status
cmd_outbox(cli *c)
{
	static const char *const flags[] = { "--json", "--raw", NULL };
	desk *d = NULL;
	char *out = NULL;
	mp_status rc = check_args(c, flags, NULL, 2, "outbox");
	const char *sub = first_positional(c);
	int64_t id = 0;

	if (rc)
		return rc;
	if (sub && strcmp(sub, "show") == 0) {
		const char *n = NULL;

		for (int i = 0; i < c->argc; i++)
			if (c->argv[i] != sub && c->argv[i][0] != '-')
				n = c->argv[i];
		if (parse_id(n, &id)) {
			die_msg("outbox show: needs a row number, e.g. "
			    "'outbox show 3'");
			return MP_ERR_USAGE;
		}
	} else if (sub) {
		die_msg("outbox: unknown subcommand %s (try: outbox show N)",
		    sub);
		return MP_ERR_USAGE;
	}
	rc = open_desk(c, &d);
	if (!rc && id)
		rc = view_outbox_one(d, id, has_flag(c, "--raw"), &out);
	else if (!rc)
		rc = view_outbox(d, has_flag(c, "--json"), &out);
	if (!rc)
		print_out(out);
	else if (rc == MP_ERR_NOT_FOUND)
		die_msg("no such outbox row: %" G_GINT64_FORMAT, id);
	else if (d)
		die_msg("outbox: %s", store_errmsg(d->st));
	desk_close(d);
	return rc;
}

static mp_status
quarantine_retry(desk *d, int64_t id)
{
	store_quarantine *q = NULL;
	const cfg_mailbox *mb;
	char *outcome = NULL;
	mp_status rc;

	rc = store_quarantine_get(d->st, id, &q);
	if (rc == MP_ERR_NOT_FOUND) {
		die_msg("no such quarantined message: %" G_GINT64_FORMAT, id);
		return rc;
	}
	if (rc)
		return rc;
	mb = config_mailbox(d->cfg, q->mailbox);
	if (mb == NULL) {
		die_msg("quarantine retry %" G_GINT64_FORMAT ": mailbox %s is "
		    "no longer configured", id, q->mailbox);
		store_quarantine_free(q);
		return MP_ERR_CONFIG;
	}
	rc = store_begin(d->st);
	if (!rc)
		rc = pipeline_message(d, mb, q->raw, q->raw_len, id, &outcome);
	if (!rc)
		rc = store_commit(d->st);
	if (rc) {
		store_rollback(d->st);
		die_msg("quarantine retry %" G_GINT64_FORMAT ": %s (%s)", id,
		    mp_status_str(rc), store_errmsg(d->st));
	} else {
		puts(outcome);
	}
	g_free(outcome);
	store_quarantine_free(q);
	return rc;
}

static mp_status
cmd_quarantine(cli *c)
{
	const char *sub = c->argc > 0 ? c->argv[0] : "list";
	desk *d = NULL;
	char *out = NULL;
	int64_t id = 0;
	mp_status rc;

	if (strcmp(sub, "list") == 0 ? c->argc > 1 :
	    (strcmp(sub, "show") == 0 || strcmp(sub, "retry") == 0) ?
	    (c->argc != 2 || parse_id(c->argv[1], &id)) : 1) {
		die_msg("quarantine: usage: quarantine [list | show N | "
		    "retry N]");
		return MP_ERR_USAGE;
	}
	rc = open_desk(c, &d);
	if (rc)
		return rc;
	if (strcmp(sub, "list") == 0)
		rc = view_quarantine(d, &out);
	else if (strcmp(sub, "show") == 0)
		rc = view_quarantine_one(d, id, &out);
	else
		rc = quarantine_retry(d, id);
	if (!rc && out)
		print_out(out);
	else if (rc == MP_ERR_NOT_FOUND && strcmp(sub, "show") == 0)
		die_msg("no such quarantined message: %" G_GINT64_FORMAT, id);
	desk_close(d);
	return rc;
}

/* ---- the daemon, sending, checking ---- */

static mp_status
cmd_run(cli *c)
{
	static const char *const flags[] = { "--once", NULL };
	config *cfg = NULL;
	char *err = NULL;
	mp_status rc = check_args(c, flags, NULL, 0, "run");

	if (rc)
		return rc;
	rc = config_load(c->config_path, &cfg, &err);
	if (rc) {
		die_msg("%s", err);
		g_free(err);
		return rc;
	}
	return daemon_run(cfg, c->config_path, c->db_path,
	    has_flag(c, "--once"));
}

static mp_status
cmd_send(cli *c)
{
	desk *d = NULL;
	sender *s = NULL;
	char *err = NULL;
	int done = 0, total = 0;
	mp_status rc = check_args(c, NULL, NULL, 0, "send");

	if (!rc)
		rc = open_desk(c, &d);
	if (!rc) {
		rc = sender_new(d, &s, &err);
		if (rc)
			die_msg("send: %s", err);
	}
	/* Drain what is due now; rows that failed again wait for later. */
	while (!rc) {
		rc = sender_drain(s, 100, &done);
		total += done;
		if (done < 100)
			break;
	}
	if (rc == MP_ERR_TEMP && !sender_store_failed(s))
		die_msg("send: the SMTP server could not be reached; the "
		    "outbox keeps the rest for later");
	else if (rc && d && err == NULL)
		die_msg("send: %s (%s)", mp_status_str(rc),
		    store_errmsg(d->st));
	if (!rc)
		printf("%d outbox row%s attempted\n", total, total == 1 ? "" :
		    "s");
	g_free(err);
	sender_free(s);
	desk_close(d);
	return rc;
}

/* Loads and checks every template against the variables it may use. */
static mp_status
check_templates(const config *cfg)
{
	const char *dirs[3] = { cfg->templates_dir, desk_shipped_templates(),
	    NULL };
	const char *const *dirp = cfg->templates_dir ? dirs : dirs + 1;
	const char *const *names = notice_template_names();
	mp_status worst = MP_OK;
	int n = 0;

	for (int i = 0; names[i]; i++) {
		tmpl *t = NULL;
		char *err = NULL;

		if (tmpl_load(dirp, names[i], &t, &err) == MP_OK)
			tmpl_check(t, notice_template_vars(names[i]), &err);
		if (err) {
			printf("FAIL template %s: %s\n", names[i], err);
			worst = MP_ERR_CONFIG;
		} else {
			n++;
		}
		g_free(err);
		tmpl_free(t);
	}
	if (worst == MP_OK)
		printf("ok   templates: %d checked\n", n);
	return worst;
}

static mp_status
cmd_check(cli *c)
{
	config *cfg = NULL;
	char *err = NULL;
	mp_status rc = check_args(c, NULL, NULL, 0, "check");
	mp_status servers;

	if (rc)
		return rc;
	rc = config_load(c->config_path, &cfg, &err);
	if (rc) {
		printf("FAIL configuration %s\n", err);
		g_free(err);
		return rc;
	}
	printf("ok   configuration %s: %zu mailbox%s\n", c->config_path,
	    cfg->n_mailboxes, cfg->n_mailboxes == 1 ? "" : "es");
	rc = check_templates(cfg);
	servers = daemon_check_servers(cfg);
	config_free(cfg);
	if (rc)
		return rc;
	/* A server that does not answer is a runtime failure (exit 1),
	 * one that refuses our certificate or login a configuration one. */
	return servers == MP_ERR_CONFIG ? MP_ERR_CONFIG : servers ?
	    MP_ERR_INTERNAL : MP_OK;
}

static mp_status
cmd_digest(cli *c)
{
	static const char *const flags[] = { "--dry-run", "--force", NULL };
	const char *which = first_positional(c);
	desk *d = NULL;
	char *out = NULL;
	mp_status rc = check_args(c, flags, NULL, 1, "digest");

	if (rc)
		return rc;
	if (which == NULL || (strcmp(which, "trial-queue") != 0 &&
	    strcmp(which, "backlog") != 0)) {
		die_msg("digest: which? trial-queue or backlog");
		return MP_ERR_USAGE;
	}
	rc = open_desk(c, &d);
	if (rc)
		return rc;
	rc = digest_run(d, which, has_flag(c, "--dry-run"),
	    has_flag(c, "--force"), &out);
	if (rc)
		die_msg("digest: %s", out);
	else if (has_flag(c, "--dry-run"))
		fwrite(out, 1, strlen(out), stdout);
	else
		puts(out);
	g_free(out);
	desk_close(d);
	return rc;
}

/* ---- dispatch ---- */

static const struct command {
	const char *name;
	mp_status (*run)(cli *);
	const char *usage;
} commands[] = {
	{ "ingest", cmd_ingest,
	    "ingest --mailbox NAME [FILE...|-] | --mbox FILE" },
	{ "tickets", cmd_tickets, "tickets [--status S] [--json]" },
	{ "backlog", cmd_backlog, "backlog [--status S] [--json]" },
	{ "show", cmd_show, "show ID [--json]" },
	{ "outbox", cmd_outbox, "outbox [--json] | outbox show N [--raw]" },
	{ "quarantine", cmd_quarantine, "quarantine [list|show N|retry N]" },
	{ "run", cmd_run, "run [--once]" },
	{ "send", cmd_send, "send" },
	{ "check", cmd_check, "check" },
	{ "digest", cmd_digest, "digest trial-queue|backlog [--dry-run] [--force]" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: mailproc [-v] [-c FILE] [--db FILE] COMMAND [ARGS]\n"
	    "commands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(f, "  mailproc %s\n", commands[i].usage);
}

int
main(int argc, char **argv)
{
	cli c = { .config_path = DEFAULT_CONFIG };
	const struct command *cmd = NULL;
	char **rest = g_new0(char *, argc + 1);
	int n = 0;
	mp_status rc;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) &&
		    i + 1 < argc)
			c.config_path = argv[++i];
		else if (g_str_has_prefix(a, "--config="))
			c.config_path = a + 9;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			log_set_debug(1);
		else if (strcmp(a, "--db") == 0 && i + 1 < argc)
			c.db_path = argv[++i];
		else if (g_str_has_prefix(a, "--db="))
			c.db_path = a + 5;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			g_free(rest);
			return 0;
		} else if (cmd == NULL && a[0] != '-') {
			for (size_t k = 0; k < G_N_ELEMENTS(commands); k++)
				if (strcmp(commands[k].name, a) == 0)
					cmd = &commands[k];
			if (cmd == NULL) {
				die_msg("unknown command '%s'", a);
				usage(stderr);
				g_free(rest);
				return mp_status_exit_code(MP_ERR_USAGE);
			}
		} else if (cmd == NULL) {
			die_msg("unknown option '%s'", a);
			usage(stderr);
			g_free(rest);
			return mp_status_exit_code(MP_ERR_USAGE);
		} else
			rest[n++] = argv[i];
	}
	if (cmd == NULL) {
		usage(stderr);
		g_free(rest);
		return mp_status_exit_code(MP_ERR_USAGE);
	}
	if (clock_init()) {
		die_msg("MAILPROC_NOW='%s' is not an ISO-8601 time such as "
		    "2024-01-08T09:00:00Z", getenv("MAILPROC_NOW"));
		g_free(rest);
		return mp_status_exit_code(MP_ERR_CONFIG);
	}
	msg_library_init();
	c.argc = n;
	c.argv = rest;
	rc = cmd->run(&c);
	g_free(rest);
	fflush(stdout);
	return mp_status_exit_code(rc);
}
