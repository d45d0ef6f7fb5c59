/*
 * daemon.c - the watcher and sender threads, signals and reloads.
 *
 * Each watcher is a state machine (connect, fetch, wait, backoff); it
 * commits groups of messages, their outbox rows and the UID checkpoint
 * in one transaction each, and only then flags and moves the messages on
 * the server.  Signals reach the threads through a pipe that becomes
 * readable when they must stop: they commit what is in hand and return.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <string.h>
#include <unistd.h>

#include "mailproc/clock.h"
#include "mailproc/log.h"
#include "mailproc/daemon.h"
#include "mailproc/desk.h"
#include "mailproc/imap.h"
#include "mailproc/pipeline.h"
#include "mailproc/sender.h"

#define BACKOFF_MIN 1
#define BACKOFF_MAX 300
#define FETCH_CHUNK (8u << 20)
#define SEND_BATCH 100
#define GROUP_MESSAGES 64
#define GROUP_MS 100

typedef enum {
	W_CONNECT,
	W_FETCH,
	W_WAIT,
	W_BACKOFF,
	W_DONE,
} watch_state;

static const char *const watch_state_names[] = {
	[W_CONNECT] = "connect",
	[W_FETCH] = "fetch",
	[W_WAIT] = "wait",
	[W_BACKOFF] = "backoff",
	[W_DONE] = "done",
};

/* What every thread of one run shares. */
typedef struct run {
	config *cfg;
	const char *db_path;
	int once;
	int stop_pipe[2];	/* readable once the threads must stop */
	int wake_pipe[2];	/* a byte: the outbox has new rows */
	atomic_int stopping;
	atomic_int watchers_left;	/* --once: watchers still fetching */
	atomic_int failed;	/* 1: a thread could not start; 2: --once
				 * could not reach a server */
} run;

typedef struct watcher {
	run *r;
	const cfg_mailbox *mb;
	desk *d;
	imap *conn;
	watch_state state;
	uint32_t uidvalidity;
	uint32_t last_uid;	/* the committed checkpoint */
	GArray *done_uids;	/* committed, to flag and move */
	/* The open group: processed in the current transaction. */
	unsigned group_n;
	uint32_t group_last;
	int64_t group_since;	/* monotonic, at its first message */
	GArray *group_uids;	/* to flag and move once committed */
	GPtrArray *group_log;	/* their log lines, written once committed */
	ahead *ah;		/* parses the fetched chunk ahead, or NULL */
	int backoff;
	char *password;
} watcher;

static int signal_pipe[2] = { -1, -1 };
static atomic_int ready_sent;

/* Sends a state line to systemd's notification socket ($NOTIFY_SOCKET,
 * sd_notify(3)); nothing when not run by systemd with Type=notify. */
static void
notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (path == NULL || (*path != '/' && *path != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';		/* abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) +
	    n) < 0) {
		/* systemd will notice the missing ping. */
	}
	close(fd);
}

/* The watchdog interval systemd asked for, halved, in microseconds; 0
 * when there is none. */
static int64_t
watchdog_usec(void)
{
	const char *v = getenv("WATCHDOG_USEC");
	long long n = v ? g_ascii_strtoll(v, NULL, 10) : 0;

	return n > 0 ? n / 2 : 0;
}

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	if (write(signal_pipe[1], &c, 1) < 0) {
		/* Nothing to do in a handler: the pipe is full of signals. */
	}
	errno = saved;
}

static void
set_state(watcher *w, watch_state s)
{
	mp_log(LOG_DEBUG, "%s: %s -> %s", w->mb->name,
		    watch_state_names[w->state], watch_state_names[s]);
	w->state = s;
}

/* Sleeps up to seconds, waking early when the run stops. */
static void
nap(run *r, int seconds)
{
	struct pollfd p = { .fd = r->stop_pipe[0], .events = POLLIN };

	if (!atomic_load(&r->stopping))
		poll(&p, 1, seconds * 1000);
}

static void
wake_sender(run *r)
{
	char c = 1;

	if (write(r->wake_pipe[1], &c, 1) < 0) {
		/* Full: the sender will wake anyway. */
	}
}

/* Reads a password file's first line (owned by the caller). */
static char *
password_of(const char *path, char **err)
{
	char *text = NULL;
	GError *gerr = NULL;

	if (path == NULL)
		return g_strdup("");
	if (!g_file_get_contents(path, &text, NULL, &gerr)) {
		*err = g_strdup_printf("cannot read password_file %s: %s",
		    path, gerr->message);
		g_error_free(gerr);
		return NULL;
	}
	text[strcspn(text, "\r\n")] = '\0';
	return text;
}

static void
imap_conf_of(const watcher *w, imap_conf *ic)
{
	const cfg_imap *c = &w->mb->imap;

	memset(ic, 0, sizeof(*ic));
	ic->host = c->host;
	ic->port = c->port;
	ic->tls = c->tls;
	ic->ca_file = c->ca_file;
	ic->pin_sha256 = c->pin_sha256;
	ic->user = c->user;
	ic->password = w->password;
	ic->folder = c->folder;
	ic->processed_folder = c->processed_folder;
	ic->timeout_s = c->timeout_seconds;
	ic->max_message_bytes = w->r->cfg->max_message_bytes;
	ic->fetch_chunk_bytes = FETCH_CHUNK;
}

/* An over-size message is held in quarantine by its size alone: it is not
 * downloaded, and it stays in the folder for an administrator. */
static mp_status
quarantine_oversize(watcher *w, uint32_t uid, size_t size, char **outcome)
{
	char *marker = g_strdup_printf("(not downloaded: %zu bytes; left in "
	    "IMAP folder %s with UIDVALIDITY %u, UID %u)\r\n", size,
	    w->mb->imap.folder, w->uidvalidity, uid);
	char *reason = g_strdup_printf("message of %zu bytes exceeds "
	    "max_message_bytes (%zu); left on the server, UID %u", size,
	    w->r->cfg->max_message_bytes, uid);
	mp_status rc = pipeline_hold(w->d, w->mb, marker, strlen(marker),
	    reason, outcome);

	g_free(marker);
	g_free(reason);
	return rc;
}

/* Ends the open group: rolls it back and says which UIDs go again. */
static void
group_abort(watcher *w, uint32_t failed, mp_status rc)
{
	store *st = w->d->st;

	if (w->group_n)
		mp_log(LOG_WARNING, "%s: UID %u not processed (%s: %s); it "
		    "and the %u processed before it in the same transaction "
		    "will be fetched again", w->mb->name, failed,
		    mp_status_str(rc), store_errmsg(st), w->group_n);
	else
		mp_log(LOG_WARNING, "%s: UID %u not processed (%s: %s); it "
		    "will be fetched again", w->mb->name, failed,
		    mp_status_str(rc), store_errmsg(st));
	store_rollback(st);
	w->group_n = 0;
	g_array_set_size(w->group_uids, 0);
	g_ptr_array_set_size(w->group_log, 0);
}

/* Commits the open group with its checkpoint; only then are its messages
 * logged, queued for flagging and moving, and the sender woken. */
static mp_status
group_commit(watcher *w)
{
	store *st = w->d->st;
	mp_status rc;

	if (w->group_n == 0)
		return MP_OK;
	rc = store_imap_set(st, w->mb->name, w->uidvalidity, w->group_last);
	if (!rc)
		rc = store_commit(st);
	if (rc) {
		group_abort(w, w->group_last, rc);
		return rc;
	}
	for (guint i = 0; i < w->group_log->len; i++)
		mp_log(LOG_INFO, "%s", (char *)g_ptr_array_index(w->group_log,
		    i));
	g_array_append_vals(w->done_uids, w->group_uids->data,
	    w->group_uids->len);
	w->last_uid = w->group_last;
	w->group_n = 0;
	g_array_set_size(w->group_uids, 0);
	g_ptr_array_set_size(w->group_log, 0);
	wake_sender(w->r);
	return MP_OK;
}

/*
 * The fetch callback.  Messages are committed in groups, each one
 * transaction with the checkpoint of its last UID, so that a commit's
 * fsync is paid once per group: a group ends at GROUP_MESSAGES messages,
 * after GROUP_MS, at the end of each fetched chunk (never held over a
 * network wait) and when the run stops.  A failure rolls the whole group
 * back and the fetch starts again after the last committed UID.
 */
static mp_status
on_message(void *ctx, uint32_t uid, const char *raw, size_t len, size_t size)
{
	watcher *w = ctx;
	store *st = w->d->st;
	char *outcome = NULL;
	char key[72] = "-";
	mp_status rc = MP_OK;

	if (w->group_n == 0) {
		if ((rc = store_begin(st)) != MP_OK) {
			mp_log(LOG_WARNING, "%s: UID %u not processed (%s: %s); "
			    "it will be fetched again", w->mb->name, uid,
			    mp_status_str(rc), store_errmsg(st));
			return rc;
		}
		w->group_since = g_get_monotonic_time();
	}
	if (raw) {
		ahead_item *it = w->ah ? ahead_pop(w->ah) : NULL;

		if (it != NULL && it->tag == uid)
			rc = pipeline_message_parsed(w->d, w->mb, it,
			    &outcome);
		else {
			/* Out of step with the chunk: parse in line. */
			if (it != NULL)
				ahead_clear(w->ah);
			rc = pipeline_message(w->d, w->mb, raw, len, 0,
			    &outcome);
		}
		ahead_item_free(it);
	} else
		rc = quarantine_oversize(w, uid, size, &outcome);
	if (rc) {
		g_free(outcome);
		group_abort(w, uid, rc);
		return rc;
	}
	if (raw)
		msg_key(raw, len, key);
	g_ptr_array_add(w->group_log, g_strdup_printf("%s: UID %u %s: %s",
	    w->mb->name, uid, key, outcome));
	g_free(outcome);
	if (raw)	/* over-size ones stay where they are */
		g_array_append_val(w->group_uids, uid);
	w->group_n++;
	w->group_last = uid;
	if (w->group_n >= GROUP_MESSAGES || g_get_monotonic_time() -
	    w->group_since >= GROUP_MS * 1000)
		rc = group_commit(w);
	/* SIGTERM: commit what is in hand, then stop. */
	if (!rc && atomic_load(&w->r->stopping)) {
		rc = group_commit(w);
		if (!rc)
			rc = MP_ERR_REFUSED;
	}
	return rc;
}

/* A chunk has arrived: the worker parses its messages while the store
 * files them one by one. */
static void
on_chunk_start(void *ctx, const imap_chunk_msg *msgs, size_t n)
{
	watcher *w = ctx;

	if (w->ah == NULL)
		return;
	ahead_clear(w->ah);
	for (size_t i = 0; i < n; i++)
		if (msgs[i].raw != NULL)
			ahead_push(w->ah, msgs[i].uid, msgs[i].raw,
			    msgs[i].len);
}

static mp_status
on_chunk(void *ctx)
{
	return group_commit(ctx);
}

static const imap_fetch_cbs fetch_cbs = {
	.message = on_message,
	.chunk_start = on_chunk_start,
	.chunk_done = on_chunk,
};

static void
disconnect(watcher *w)
{
	imap_close(w->conn);
	w->conn = NULL;
}

/* Flags (and moves) what a killed run committed but did not get to mark:
 * without this those messages would stay in the folder for good, since
 * the next fetch starts after the checkpoint. */
static void
mark_leftovers(watcher *w)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	char *err = NULL;
	mp_status rc;

	rc = imap_leftovers(w->conn, w->last_uid, uids, &err);
	if (!rc && uids->len) {
		rc = imap_mark_processed(w->conn, (uint32_t *)(void *)
		    uids->data, uids->len, &err);
		if (!rc)
			mp_log(LOG_INFO, "%s: %u messages processed before "
			    "a restart were still waiting in %s: marked now",
			    w->mb->name, uids->len, w->mb->imap.folder);
	}
	if (rc)
		mp_log(LOG_WARNING, "%s: marking messages left from an "
		    "earlier run failed: %s (they stay processed in the "
		    "store)", w->mb->name, err ? err : mp_status_str(rc));
	g_free(err);
	g_array_free(uids, TRUE);
}

static void
step_connect(watcher *w)
{
	imap_conf ic;
	uint32_t stored_validity = 0;
	char *err = NULL;
	mp_status rc;

	imap_conf_of(w, &ic);
	rc = imap_open(&ic, &w->conn, &err);
	if (rc) {
		mp_log(LOG_WARNING, "%s: cannot connect to %s:%d as %s: %s; "
		    "retrying in %d s", w->mb->name, ic.host, ic.port,
		    ic.user ? ic.user : "-", err ? err : mp_status_str(rc),
		    w->backoff);
		g_free(err);
		set_state(w, W_BACKOFF);
		return;
	}
	w->uidvalidity = imap_uidvalidity(w->conn);
	rc = store_imap_get(w->d->st, w->mb->name, &stored_validity,
	    &w->last_uid);
	if (rc) {
		mp_log(LOG_WARNING, "%s: cannot read the UID checkpoint (%s: "
		    "%s); retrying in %d s", w->mb->name, mp_status_str(rc),
		    store_errmsg(w->d->st), w->backoff);
		disconnect(w);
		set_state(w, W_BACKOFF);
		return;
	}
	if (stored_validity && stored_validity != w->uidvalidity) {
		mp_log(LOG_WARNING, "%s: UIDVALIDITY of %s changed "
		    "from %u to %u: the folder was recreated; fetching it "
		    "again from the start (Message-ID keys keep this free of "
		    "duplicates)", w->mb->name, w->mb->imap.folder,
		    stored_validity, w->uidvalidity);
		w->last_uid = 0;
	}
	mark_leftovers(w);
	w->backoff = BACKOFF_MIN;
	/* Ready once the first mailbox is logged in (Type=notify). */
	if (atomic_exchange(&ready_sent, 1) == 0)
		notify("READY=1\nSTATUS=connected, processing mail");
	set_state(w, W_FETCH);
}

static void
step_fetch(watcher *w)
{
	char *err = NULL;
	mp_status rc;

	g_array_set_size(w->done_uids, 0);
	rc = imap_fetch_new(w->conn, w->last_uid, &fetch_cbs, w, &err);
	if (w->ah)
		ahead_clear(w->ah);	/* what a failed fetch left */
	/* What is in hand was processed whole: a link failure came later. */
	if (group_commit(w) && !rc)
		rc = MP_ERR_TEMP;
	if (w->done_uids->len) {
		char *merr = NULL;

		if (imap_mark_processed(w->conn, (uint32_t *)(void *)
		    w->done_uids->data, w->done_uids->len, &merr))
			mp_log(LOG_WARNING, "%s: flagging/moving %u processed "
			    "messages failed: %s (they stay processed in the "
			    "store)", w->mb->name, w->done_uids->len,
			    merr ? merr : "unknown error");
		g_free(merr);
	}
	if (rc == MP_ERR_REFUSED && atomic_load(&w->r->stopping)) {
		set_state(w, W_DONE);
	} else if (rc) {
		mp_log(LOG_WARNING, "%s: fetch failed: %s; reconnecting",
		    w->mb->name, err ? err : mp_status_str(rc));
		disconnect(w);
		set_state(w, W_BACKOFF);
	} else if (w->r->once) {
		set_state(w, W_DONE);
	} else {
		set_state(w, W_WAIT);
	}
	g_free(err);
}

static void
step_wait(watcher *w)
{
	int woken = 0;
	char *err = NULL;
	mp_status rc;

	rc = imap_wait(w->conn, w->mb->imap.poll_seconds, w->r->stop_pipe[0],
	    &woken, &err);
	if (rc == MP_ERR_NOT_FOUND) {
		/* No IDLE on this server: poll. */
		nap(w->r, w->mb->imap.poll_seconds);
		rc = MP_OK;
	}
	if (atomic_load(&w->r->stopping)) {
		set_state(w, W_DONE);
	} else if (rc) {
		mp_log(LOG_WARNING, "%s: connection lost while waiting: %s; "
		    "reconnecting", w->mb->name, err ? err :
		    mp_status_str(rc));
		disconnect(w);
		set_state(w, W_CONNECT);
	} else {
		set_state(w, W_FETCH);
	}
	g_free(err);
}

static void
step_backoff(watcher *w)
{
	/* Capped exponential backoff with jitter (up to a quarter more). */
	int jitter = g_random_int_range(0, w->backoff / 4 + 1);

	nap(w->r, w->backoff + jitter);
	w->backoff = MIN(w->backoff * 2, BACKOFF_MAX);
	/* --once gives up after about a minute of failed attempts. */
	if (w->r->once && w->backoff > 32) {
		mp_log(LOG_ERROR, "%s: giving up for this run: the server "
		    "could not be reached", w->mb->name);
		atomic_store(&w->r->failed, 2);
		set_state(w, W_DONE);
	} else {
		set_state(w, atomic_load(&w->r->stopping) ? W_DONE :
		    W_CONNECT);
	}
}

static gpointer
watcher_main(gpointer p)
{
	watcher *w = p;
	char *err = NULL;

	w->password = password_of(w->mb->imap.password_file, &err);
	if (w->password == NULL) {
		mp_log(LOG_ERROR, "%s: %s", w->mb->name, err);
		g_free(err);
		atomic_store(&w->r->failed, 1);
		goto done;
	}
	if (desk_open_shared(w->r->cfg, w->r->db_path, &w->d, &err)) {
		mp_log(LOG_ERROR, "%s: %s", w->mb->name, err);
		g_free(err);
		atomic_store(&w->r->failed, 1);
		goto done;
	}
	w->done_uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	w->group_uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	w->group_log = g_ptr_array_new_with_free_func(g_free);
	if (ahead_new(&w->d->limits, w->r->cfg->max_message_bytes, &w->ah))
		w->ah = NULL;	/* no thread: parse in line */
	w->backoff = BACKOFF_MIN;
	w->state = W_CONNECT;
	while (w->state != W_DONE) {
		if (atomic_load(&w->r->stopping) && w->state != W_FETCH) {
			set_state(w, W_DONE);
			break;
		}
		switch (w->state) {
		case W_CONNECT: step_connect(w); break;
		case W_FETCH: step_fetch(w); break;
		case W_WAIT: step_wait(w); break;
		case W_BACKOFF: step_backoff(w); break;
		case W_DONE: break;
		}
	}
done:
	disconnect(w);
	if (w->done_uids)
		g_array_free(w->done_uids, TRUE);
	if (w->group_uids)
		g_array_free(w->group_uids, TRUE);
	if (w->group_log)
		g_ptr_array_free(w->group_log, TRUE);
	ahead_free(w->ah);
	desk_close(w->d);
	if (w->password)
		memset(w->password, 0, strlen(w->password));
	g_free(w->password);
	atomic_fetch_sub(&w->r->watchers_left, 1);
	wake_sender(w->r);
	return NULL;
}

/* The sender: drains the outbox whenever a watcher commits, at least
 * every 5 seconds, and backs off while the server is unreachable. */
static gpointer
sender_main(gpointer p)
{
	run *r = p;
	desk *d = NULL;
	sender *s = NULL;
	char *err = NULL;
	int backoff = BACKOFF_MIN;

	if (desk_open_shared(r->cfg, r->db_path, &d, &err) ||
	    sender_new(d, &s, &err)) {
		mp_log(LOG_ERROR, "sender: %s", err);
		g_free(err);
		atomic_store(&r->failed, 1);
		goto done;
	}
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = r->stop_pipe[0], .events = POLLIN },
			{ .fd = r->wake_pipe[0], .events = POLLIN },
		};
		int done = 0, wait_ms = 5000;
		/* Read before draining: a watcher that commits and finishes
		 * during the drain must still get one more drain (--once). */
		int watchers_done = atomic_load(&r->watchers_left) == 0;
		mp_status rc = sender_drain(s, SEND_BATCH, &done);
		char buf[64];

		if (rc && sender_store_failed(s)) {
			/* Busy or full: no reason to wait on the server. */
			mp_log(LOG_WARNING, "sender: the store is unavailable "
			    "(%s: %s); retrying in 1 s", mp_status_str(rc),
			    store_errmsg(d->st));
			wait_ms = 1000;
		} else if (rc == MP_ERR_TEMP) {
			mp_log(LOG_WARNING, "sender: SMTP server unreachable; "
			    "retrying in %d s", backoff);
			wait_ms = backoff * 1000;
			backoff = MIN(backoff * 2, BACKOFF_MAX);
		} else if (rc) {
			mp_log(LOG_ERROR, "sender: %s (%s)",
			    mp_status_str(rc), store_errmsg(d->st));
			wait_ms = 1000;
		} else {
			backoff = BACKOFF_MIN;
			if (done == SEND_BATCH)
				continue;	/* more may be due */
			/* --once: stop when the watchers are done and
			 * nothing more is due now. */
			if (r->once && watchers_done)
				break;
		}
		if (atomic_load(&r->stopping))
			break;
		if (r->once && rc == MP_ERR_TEMP && backoff > 32)
			break;	/* the outbox keeps the rest */
		poll(fds, 2, wait_ms);
		if (fds[1].revents & POLLIN)
			while (read(r->wake_pipe[0], buf, sizeof(buf)) > 0)
				;
	}
done:
	sender_free(s);
	desk_close(d);
	return NULL;
}

static int
pipe_nonblock(int fds[2])
{
	if (pipe(fds) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

/* Runs the threads of one configuration until they stop.  *sig is the
 * signal that stopped them (SIGHUP: reload), 0 when --once finished. */
static mp_status
run_once_config(config *cfg, const char *db_path, int once, int *sig)
{
	run r = { .cfg = cfg, .db_path = db_path, .once = once };
	watcher *ws = g_new0(watcher, cfg->n_mailboxes);
	GThread **threads = g_new0(GThread *, cfg->n_mailboxes + 1);
	unsigned char c;
	mp_status rc = MP_OK;

	*sig = 0;
	/* Create and migrate the store here, once: threads that open a new
	 * store at the same moment race on its journal mode and schema, and
	 * the loser would stop the run. */
	{
		desk *first = NULL;
		char *err = NULL;

		if (desk_open_shared(cfg, db_path, &first, &err)) {
			mp_log(LOG_ERROR, "%s", err ? err : "cannot open the "
			    "store");
			g_free(err);
			g_free(ws);
			g_free(threads);
			return MP_ERR_CONFIG;
		}
		desk_close(first);
	}
	if (pipe_nonblock(r.stop_pipe) || pipe_nonblock(r.wake_pipe)) {
		mp_log(LOG_ERROR, "cannot make pipes: %s",
		    g_strerror(errno));
		g_free(ws);
		g_free(threads);
		return MP_ERR_INTERNAL;
	}
	atomic_store(&r.watchers_left, (int)cfg->n_mailboxes);
	for (size_t i = 0; i < cfg->n_mailboxes; i++) {
		ws[i].r = &r;
		ws[i].mb = &cfg->mailboxes[i];
		threads[i] = g_thread_new(cfg->mailboxes[i].name, watcher_main,
		    &ws[i]);
	}
	threads[cfg->n_mailboxes] = g_thread_new("sender", sender_main, &r);
	mp_log(LOG_INFO, "running: %zu mailbox%s, store %s",
	    cfg->n_mailboxes, cfg->n_mailboxes == 1 ? "" : "es",
	    db_path ? db_path : cfg->store_path);
	/* Wait for a signal, or (--once) for the sender to finish; ping the
	 * watchdog on the way. */
	for (;;) {
		struct pollfd p = { .fd = signal_pipe[0], .events = POLLIN };
		int64_t wd = watchdog_usec(), now = g_get_monotonic_time();
		static int64_t last_ping;

		if (wd && now - last_ping >= wd) {
			notify("WATCHDOG=1");
			last_ping = now;
		}

		if (once && atomic_load(&r.watchers_left) == 0) {
			/* The sender stops by itself once nothing is due. */
			g_thread_join(threads[cfg->n_mailboxes]);
			threads[cfg->n_mailboxes] = NULL;
			break;
		}
		if (poll(&p, 1, 200) > 0 && read(signal_pipe[0], &c, 1) == 1) {
			*sig = c;
			break;
		}
	}
	atomic_store(&r.stopping, 1);
	if (write(r.stop_pipe[1], "x", 1) < 0)
		rc = MP_ERR_INTERNAL;
	for (size_t i = 0; i <= cfg->n_mailboxes; i++)
		if (threads[i])
			g_thread_join(threads[i]);
	/* 1: a thread could not start (configuration); 2: --once could not
	 * reach a server (temporary). */
	if (atomic_load(&r.failed))
		rc = atomic_load(&r.failed) == 2 ? MP_ERR_TEMP : MP_ERR_CONFIG;
	for (int i = 0; i < 2; i++) {
		close(r.stop_pipe[i]);
		close(r.wake_pipe[i]);
	}
	g_free(ws);
	g_free(threads);
	return rc;
}

mp_status
daemon_run(config *cfg, const char *config_path, const char *db_path,
    int once)
{
	struct sigaction sa = { 0 };
	mp_status rc = MP_OK;
	int sig = 0;

	if (pipe_nonblock(signal_pipe) != 0) {
		config_free(cfg);
		return MP_ERR_INTERNAL;
	}
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (;;) {
		rc = run_once_config(cfg, db_path, once, &sig);
		if (sig != SIGHUP)
			break;
		notify("RELOADING=1");
		{
			config *fresh = NULL;
			char *err = NULL;

			if (config_load(config_path, &fresh, &err)) {
				mp_log(LOG_ERROR, "SIGHUP: %s; keeping the "
				    "running configuration", err);
				g_free(err);
			} else {
				mp_log(LOG_INFO, "SIGHUP: configuration "
				    "and templates reloaded");
				config_free(cfg);
				cfg = fresh;
			}
		}
		notify("READY=1");
	}
	notify("STOPPING=1");
	if (sig)
		mp_log(LOG_INFO, "%s: stopped", strsignal(sig));
	config_free(cfg);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	return sig == SIGTERM || sig == SIGINT ? MP_OK : rc;
}

mp_status
daemon_check_servers(config *cfg)
{
	mp_status worst = MP_OK;

	for (size_t i = 0; i < cfg->n_mailboxes; i++) {
		const cfg_mailbox *mb = &cfg->mailboxes[i];
		run r = { .cfg = cfg };
		watcher w = { .r = &r, .mb = mb };
		imap_conf ic;
		imap *conn = NULL;
		char *err = NULL;
		mp_status rc;

		w.password = password_of(mb->imap.password_file, &err);
		if (w.password == NULL) {
			printf("FAIL imap %s: %s\n", mb->name, err);
			g_free(err);
			worst = MP_ERR_CONFIG;
			continue;
		}
		imap_conf_of(&w, &ic);
		ic.timeout_s = 15;
		rc = imap_open(&ic, &conn, &err);
		if (rc) {
			printf("FAIL imap %s: %s:%d user %s: %s\n", mb->name,
			    ic.host, ic.port, ic.user ? ic.user : "-",
			    err ? err : mp_status_str(rc));
			worst = worst ? worst : rc;
		} else {
			printf("ok   imap %s: %s:%d user %s, folder %s, "
			    "UIDVALIDITY %u, %s%s%s\n", mb->name, ic.host,
			    ic.port, ic.user ? ic.user : "-", ic.folder,
			    imap_uidvalidity(conn), imap_has_idle(conn) ?
			    "IDLE" : "no IDLE (polling)",
			    imap_peer_sha256(conn) ? ", certificate SHA-256 " :
			    "", imap_peer_sha256(conn) ?
			    imap_peer_sha256(conn) : "");
		}
		imap_close(conn);
		g_free(err);
		memset(w.password, 0, strlen(w.password));
		g_free(w.password);
	}
	{
		desk d = { .cfg = cfg, .borrowed_cfg = 1 };
		sender *s = NULL;
		char *err = NULL, *what = NULL;
		mp_status rc = sender_new(&d, &s, &err);

		if (!rc)
			rc = sender_probe(s, &what);
		if (rc) {
			printf("FAIL smtp %s: %s\n", cfg->smtp.url ?
			    cfg->smtp.url : "(no url)", err ? err : what ?
			    what : mp_status_str(rc));
			worst = worst ? worst : rc;
		} else {
			printf("ok   smtp %s: %s\n", cfg->smtp.url, what);
		}
		g_free(err);
		g_free(what);
		sender_free(s);
	}
	return worst;
}
