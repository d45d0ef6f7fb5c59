/*
 * test-smtp - the SMTP transport against a real server on loopback.
 *
 * Starts tests/system/smtpd.py (under MP_TOP) on free 127.0.0.1 ports,
 * drives its fault modes through DIR/mode, and stops every server it
 * started by PID on every exit path.  Skips when python3-aiosmtpd or
 * openssl is missing.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "mailproc/smtp.h"
#include "tests/unit/tap.h"

#define PYTHON		"/usr/bin/python3"
#define MAX_SERVERS	4
#define READY_MS	10000
#define STOP_MS		3000

typedef struct server {
	pid_t	 pid;		/* 0 once stopped */
	char	*dir;
	int	 port;
} server;

static server servers[MAX_SERVERS];
static int nservers;
static char *tmp;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Stops srv: SIGTERM, then SIGKILL after STOP_MS.  Returns the seconds
 * it took to go away. */
static double
server_stop(server *srv)
{
	double t0 = now();
	int st;

	if (srv->pid <= 0)
		return 0;
	kill(srv->pid, SIGTERM);
	for (int i = 0; i < STOP_MS / 10; i++) {
		if (waitpid(srv->pid, &st, WNOHANG) == srv->pid)
			goto done;
		sleep_ms(10);
	}
	kill(srv->pid, SIGKILL);
	waitpid(srv->pid, &st, 0);
done:
	srv->pid = 0;
	return now() - t0;
}

static void
stop_all(void)
{
	for (int i = 0; i < nservers; i++)
		server_stop(&servers[i]);
}

/* Async-signal-safe: kill(2) and _exit(2) only. */
static void
on_signal(int sig)
{
	for (int i = 0; i < nservers; i++)
		if (servers[i].pid > 0)
			kill(servers[i].pid, SIGTERM);
	_exit(128 + sig);
}

/* Starts smtpd.py in a new directory tmp/name with the extra arguments
 * (NULL-terminated).  Returns the server, or NULL with a diagnostic. */
static server *
server_start(const char *name, const char *const *extra)
{
	const char *top = getenv("MP_TOP") ? getenv("MP_TOP") : ".";
	char *script = g_build_filename(top, "tests/system/smtpd.py", NULL);
	char *ready, *portfile, *text = NULL, *log;
	const char *argv[16];
	server *srv = NULL;
	int n = 0, st, fd;
	pid_t pid;

	if (nservers == MAX_SERVERS)
		goto done;
	srv = &servers[nservers];
	srv->dir = g_build_filename(tmp, name, NULL);
	g_mkdir(srv->dir, 0700);
	argv[n++] = PYTHON;
	argv[n++] = script;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--dir";
	argv[n++] = srv->dir;
	argv[n++] = "--lifetime";
	argv[n++] = "120";
	for (int i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	ready = g_build_filename(srv->dir, "ready", NULL);
	portfile = g_build_filename(srv->dir, "port", NULL);
	log = g_build_filename(srv->dir, "smtpd.log", NULL);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(PYTHON, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0) {
		printf("# fork: %s\n", strerror(errno));
		g_free(srv->dir);
		srv->dir = NULL;
		srv = NULL;
		goto free;
	}
	srv->pid = pid;
	nservers++;
	for (int i = 0; i < READY_MS / 20; i++) {
		if (g_file_test(ready, G_FILE_TEST_EXISTS))
			break;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			srv->pid = 0;
			break;
		}
		sleep_ms(20);
	}
	if (srv->pid == 0 || !g_file_get_contents(portfile, &text, NULL,
	    NULL) || (srv->port = atoi(text)) <= 0) {
		printf("# smtpd.py %s did not become ready; see %s\n", name,
		    log);
		server_stop(srv);
		srv = NULL;
	}
free:
	g_free(text);
	g_free(ready);
	g_free(portfile);
	g_free(log);
done:
	g_free(script);
	return srv;
}

/* Sets the server's fault mode; renamed into place so that it is never
 * read half-written. */
static void
set_mode(server *srv, const char *mode)
{
	char *path = g_build_filename(srv->dir, "mode", NULL);
	char *t = g_build_filename(srv->dir, ".mode", NULL);

	g_file_set_contents(t, mode, -1, NULL);
	g_rename(t, path);
	g_free(path);
	g_free(t);
}

/* Returns the contents of srv->dir/name (g_free()), or NULL. */
static char *
slurp(server *srv, const char *name, size_t *len)
{
	char *path = g_build_filename(srv->dir, name, NULL);
	char *text = NULL;
	gsize n = 0;

	if (!g_file_get_contents(path, &text, &n, NULL))
		text = NULL;
	if (len)
		*len = n;
	g_free(path);
	return text;
}

static int
stored(server *srv)
{
	GDir *d = g_dir_open(srv->dir, 0, NULL);
	const char *name;
	int n = 0;

	while (d && (name = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(name, ".json") && name[0] != '.')
			n++;
	if (d)
		g_dir_close(d);
	return n;
}

static int
connections(server *srv)
{
	char *text = slurp(srv, "connections", NULL);
	int n = text ? atoi(text) : 0;

	g_free(text);
	return n;
}

/* Whether message number n was stored byte for byte as raw. */
static int
stored_exactly(server *srv, int n, const char *raw)
{
	char name[32];
	char *got;
	size_t len;
	int same;

	snprintf(name, sizeof(name), "%06d.eml", n);
	got = slurp(srv, name, &len);
	same = got && len == strlen(raw) && memcmp(got, raw, len) == 0;
	if (!same)
		printf("# %s: %zu bytes, want %zu\n", name, got ? len : 0,
		    strlen(raw));
	g_free(got);
	return same;
}

static int
json_has(server *srv, int n, const char *needle)
{
	char name[32];
	char *text;
	int has;

	snprintf(name, sizeof(name), "%06d.json", n);
	text = slurp(srv, name, NULL);
	has = text && strstr(text, needle);
	if (!has)
		printf("# %s: %s lacks %s\n", name, text ? text : "(none)",
		    needle);
	g_free(text);
	return has;
}

static smtp *
handle(const char *url, int starttls, const char *ca, const char *user,
    const char *password, int timeout_s)
{
	smtp_conf c = { url, user, password, ca, starttls, timeout_s };
	smtp *s = NULL;
	char *err = NULL;

	if (smtp_new(&c, &s, &err))
		printf("# smtp_new %s: %s\n", url, err);
	g_free(err);
	return s;
}

/* Sends and checks the status; r says the rest. */
static void
send_to(smtp *s, const char *from, const char *rcpt, const char *raw,
    smtp_result *r)
{
	mp_status rc;

	memset(r, 0, sizeof(*r));
	r->outcome = -1;
	rc = s ? smtp_send(s, from, rcpt, raw, strlen(raw), r) :
	    MP_ERR_INTERNAL;
	if (rc)
		printf("# smtp_send %s: %s\n", rcpt, mp_status_str(rc));
}

static int
is_result(const smtp_result *r, smtp_outcome o, long code, const char *name)
{
	int good = r->outcome == o && (code < 0 || r->code == code);

	if (!ok(good, "%s", name))
		printf("#   got: outcome %d code %ld \"%s\", want: outcome %d "
		    "code %ld\n", r->outcome, r->code, r->detail, o, code);
	return good;
}

static int
make_cert(const char *name)
{
	char *key = g_strdup_printf("%s/%s-key.pem", tmp, name);
	char *cert = g_strdup_printf("%s/%s-cert.pem", tmp, name);
	const char *argv[] = { "openssl", "req", "-x509", "-newkey",
	    "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext",
	    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1",
	    "-keyout", key, "-out", cert, NULL };
	int st = -1, good;

	good = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
	    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
	    NULL, NULL, NULL, &st, NULL) && st == 0;
	g_free(key);
	g_free(cert);
	return good;
}

static void
rm_tree(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			rm_tree(p);
		else
			g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(path);
}

static const char msg_a[] =
    "From: Desk <desk@x.example>\r\n"
    "To: a@x.example\r\n"
    "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
    "Message-ID: <a@x.example>\r\n"
    "\r\n"
    ".a line that starts with a dot\r\n"
    ".\r\n"
    "..\r\n"
    "a lone dot above must not end the message\r\n"
    "caf\xc3\xa9 8-bit text\r\n";
static const char msg_b[] = "Subject: b\r\n\r\nsecond\r\n";
static const char msg_c[] = "Subject: c\r\n\r\nthird\r\n";

/* The plain server: delivery, reuse, every fault mode, hang, loss. */
static void
test_plain(void)
{
	const char *const noargs[] = { NULL };
	server *srv = server_start("plain", noargs);
	smtp *s = NULL, *fresh = NULL, *quick = NULL;
	smtp_result r;
	char url[64], *err = NULL;
	smtp_conf c = { 0 };
	double t0, dt;
	int before, conns;

	if (!ok(srv != NULL, "plain smtpd.py starts"))
		return;
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", srv->port);

	c.url = "http://127.0.0.1/";
	c.timeout_s = 5;
	is_int(smtp_new(&c, &s, &err), MP_ERR_CONFIG, "http:// is refused");
	ok(s == NULL && err && strstr(err, "http://"), "...and says why");
	g_free(err);
	c.url = "smtp://mail.example.org:25";
	is_int(smtp_new(&c, &s, &err), MP_ERR_CONFIG,
	    "plain text to a non-loopback host is refused");
	g_free(err);
	c.url = url;
	c.timeout_s = 0;
	is_int(smtp_new(&c, &s, &err), MP_ERR_CONFIG, "timeout 0 is refused");
	g_free(err);

	s = handle(url, 0, NULL, NULL, NULL, 5);
	ok(s != NULL, "smtp_new on loopback");
	send_to(s, "sender@x.example", "a@x.example", msg_a, &r);
	is_result(&r, SMTP_SENT, 250, "one message is sent");
	ok(strstr(r.detail, "250") != NULL, "detail is the server's reply: %s",
	    r.detail);
	ok(stored_exactly(srv, 1, msg_a),
	    "it arrives byte for byte (dot-stuffed and unstuffed)");
	ok(json_has(srv, 1, "\"mail_from\": \"sender@x.example\""),
	    "the envelope sender is the from given");
	ok(json_has(srv, 1, "\"rcpt_tos\": [\"a@x.example\"]"),
	    "the one recipient is the envelope recipient");
	send_to(s, "sender@x.example", "b@x.example", msg_b, &r);
	is_result(&r, SMTP_SENT, 250, "second message");
	send_to(s, "", "c@x.example", msg_c, &r);
	is_result(&r, SMTP_SENT, 250, "third message, null sender");
	ok(stored_exactly(srv, 3, msg_c), "third arrives exactly");
	ok(json_has(srv, 3, "\"mail_from\": \"<>\""),
	    "an empty from is the null reverse-path");
	is_int(connections(srv), 1, "three messages over one connection");

	set_mode(srv, "rcpt bad@x.example 550\n");
	before = stored(srv);
	send_to(s, "sender@x.example", "bad@x.example", msg_b, &r);
	is_result(&r, SMTP_PERMFAIL, 550, "RCPT 550 is a permanent failure");
	ok(strstr(r.detail, "550") && strstr(r.detail, "mode file"),
	    "detail is the server's reply: %s", r.detail);
	send_to(s, "sender@x.example", "good@x.example", msg_b, &r);
	is_result(&r, SMTP_SENT, 250, "the next send after a failure works");
	is_int(stored(srv), before + 1, "only the good one was stored");

	set_mode(srv, "rcpt * 451\n");
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_TEMPFAIL, 451, "RCPT 451 is a temporary failure");

	set_mode(srv, "data 554\n");
	before = stored(srv);
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_PERMFAIL, 554, "end of DATA 554 is permanent");
	ok(strstr(r.detail, "554") != NULL,
	    "detail has the reply although libcurl's error is empty: %s",
	    r.detail);
	set_mode(srv, "data 451\n");
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_TEMPFAIL, 451, "end of DATA 451 is temporary");
	set_mode(srv, "mail 553\n");
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_PERMFAIL, 553, "MAIL 553 is permanent");
	is_int(stored(srv), before, "refused messages are not stored");
	set_mode(srv, "");
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_SENT, 250, "accepted again once the mode is empty");

	/* A handle that never connected: nothing may reach the server. */
	fresh = handle(url, 0, NULL, NULL, NULL, 5);
	conns = connections(srv);
	before = stored(srv);
	send_to(fresh, "sender@x.example", "a b@x.example", msg_b, &r);
	is_result(&r, SMTP_PERMFAIL, 0, "a recipient with a space is refused");
	send_to(fresh, "sender@x.example", "a@x.example>\r\nRCPT TO:<c@x",
	    msg_b, &r);
	is_result(&r, SMTP_PERMFAIL, 0, "a recipient with CRLF is refused");
	send_to(fresh, "sender@x.example", "<a@x.example>", msg_b, &r);
	is_result(&r, SMTP_PERMFAIL, 0, "a bracketed recipient is refused");
	send_to(fresh, "sender@x.example", "", msg_b, &r);
	is_result(&r, SMTP_PERMFAIL, 0, "an empty recipient is refused");
	send_to(fresh, "s@x.example\n", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_PERMFAIL, 0, "a sender with LF is refused");
	ok(connections(srv) == conns && stored(srv) == before,
	    "...all without connecting");
	smtp_free(fresh);

	fresh = handle(url, 1, NULL, NULL, NULL, 5);
	send_to(fresh, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_TEMPFAIL, -1,
	    "required STARTTLS on a server without it fails");
	ok(strstr(r.detail, "STARTTLS") != NULL && stored(srv) == before,
	    "...sends nothing and says why: %s", r.detail);
	smtp_free(fresh);

	is_int(smtp_probe(s, &r), MP_OK, "probe returns OK");
	is_result(&r, SMTP_SENT, 250, "probe: a working relay");
	fresh = handle(url, 0, NULL, "mp", "secret", 5);
	smtp_probe(fresh, &r);
	is_result(&r, SMTP_PERMFAIL, -1,
	    "probe: a user is set but the server offers no AUTH");
	ok(strstr(r.detail, "AUTH") != NULL, "...and says so: %s", r.detail);
	smtp_free(fresh);

	/* Mid-session: the connection is open, the next command hangs. */
	quick = handle(url, 0, NULL, NULL, NULL, 2);
	send_to(quick, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_SENT, 250, "timeout-2 handle connected");
	set_mode(srv, "hang\n");
	t0 = now();
	send_to(quick, "sender@x.example", "a@x.example", msg_b, &r);
	dt = now() - t0;
	is_result(&r, SMTP_TEMPFAIL, -1, "a server that stops answering is "
	    "temporary");
	ok(dt >= 1.5 && dt < 10, "...after the 2 s timeout (%.2f s): %s",
	    dt, r.detail);
	smtp_free(quick);
	/* A new connection that is never greeted. */
	quick = handle(url, 0, NULL, NULL, NULL, 2);
	t0 = now();
	send_to(quick, "sender@x.example", "a@x.example", msg_b, &r);
	dt = now() - t0;
	is_result(&r, SMTP_TEMPFAIL, 0, "a server that never greets is "
	    "temporary, code 0");
	ok(dt >= 1.5 && dt < 10, "...after the 2 s timeout (%.2f s): %s",
	    dt, r.detail);
	t0 = now();
	smtp_free(quick);
	ok(now() - t0 < 3, "smtp_free after a hang returns at once");
	set_mode(srv, "");

	dt = server_stop(srv);
	ok(dt < 1, "smtpd.py stops on SIGTERM within 1 s (%.2f s)", dt);
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_TEMPFAIL, 0, "server gone: temporary, code 0");
	ok(r.detail[0] != '\0', "...with a detail: %s", r.detail);
	smtp_probe(s, &r);
	is_result(&r, SMTP_TEMPFAIL, 0, "probe: server gone");
	smtp_free(s);
}

/* A server that closes idle sessions with a 421, as Postfix does: the
 * next send must reconnect by itself, not fail. */
static void
test_idle(void)
{
	const char *const idle[] = { "--idle-timeout", "1", NULL };
	server *srv = server_start("idle", idle);
	smtp *s = NULL;
	smtp_result r;
	char url[64];

	if (!ok(srv != NULL, "idle-timeout smtpd.py starts"))
		return;
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", srv->port);
	s = handle(url, 0, NULL, NULL, NULL, 5);
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_SENT, 250, "sent before the idle timeout");
	sleep_ms(1500);
	send_to(s, "sender@x.example", "a@x.example", msg_c, &r);
	is_result(&r, SMTP_SENT, 250, "sent after the server said 421 and "
	    "closed the idle connection");
	is_int(connections(srv), 2, "...on a second connection");
	ok(stored(srv) == 2 && stored_exactly(srv, 2, msg_c),
	    "...once, exactly");
	smtp_free(s);
	ok(server_stop(srv) < 1, "idle server stops within 1 s");
}

/* STARTTLS with verification and AUTH, and implicit TLS. */
static void
test_tls(void)
{
	char *cert = g_strdup_printf("%s/good-cert.pem", tmp);
	char *key = g_strdup_printf("%s/good-key.pem", tmp);
	char *other = g_strdup_printf("%s/other-cert.pem", tmp);
	const char *const starttls[] = { "--tls-cert", cert, "--tls-key", key,
	    "--auth", "mp:secret", NULL };
	const char *const implicit[] = { "--tls-cert", cert, "--tls-key", key,
	    "--implicit-tls", "--idle-timeout", "1", NULL };
	server *srv = NULL, *imp = NULL;
	smtp *s = NULL;
	smtp_result r;
	char url[64];
	int before;

	if (!ok(make_cert("good") && make_cert("other"),
	    "self-signed certificates made"))
		goto done;
	srv = server_start("starttls", starttls);
	if (!ok(srv != NULL, "STARTTLS smtpd.py starts"))
		goto done;
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", srv->port);

	s = handle(url, 1, cert, "mp", "secret", 5);
	send_to(s, "sender@x.example", "a@x.example", msg_a, &r);
	is_result(&r, SMTP_SENT, 250, "STARTTLS, verified, AUTH: sent");
	ok(stored_exactly(srv, 1, msg_a), "...arrives exactly");
	ok(json_has(srv, 1, "\"tls\": true") &&
	    json_has(srv, 1, "\"auth\": \"mp\""), "...over TLS, logged in");
	is_int(smtp_probe(s, &r), MP_OK, "probe over STARTTLS returns OK");
	is_result(&r, SMTP_SENT, 250, "probe: STARTTLS and AUTH work");
	smtp_free(s);

	before = stored(srv);
	s = handle(url, 1, other, "mp", "secret", 5);
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_TEMPFAIL, -1,
	    "an unverifiable certificate is a temporary failure");
	ok(strstr(r.detail, "certificate") != NULL,
	    "...naming the certificate: %s (code %ld)", r.detail, r.code);
	is_int(stored(srv), before, "...and nothing was sent");
	smtp_probe(s, &r);
	is_result(&r, SMTP_TEMPFAIL, -1, "probe: unverifiable certificate");
	smtp_free(s);

	s = handle(url, 1, cert, "mp", "wrong", 5);
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_TEMPFAIL, 535,
	    "a refused login is temporary (configuration, not message)");
	smtp_free(s);

	/* Plain text to a server that wants AUTH after TLS: libcurl skips
	 * AUTH, MAIL gets 530. */
	s = handle(url, 0, NULL, "mp", "secret", 5);
	send_to(s, "sender@x.example", "a@x.example", msg_b, &r);
	is_result(&r, SMTP_TEMPFAIL, 530, "530 authentication required is "
	    "temporary");
	is_int(stored(srv), before, "nothing stored by the failures");
	smtp_free(s);
	s = NULL;

	imp = server_start("implicit", implicit);
	if (!ok(imp != NULL, "implicit-TLS smtpd.py starts"))
		goto done;
	snprintf(url, sizeof(url), "smtps://127.0.0.1:%d", imp->port);
	s = handle(url, 0, cert, NULL, NULL, 5);
	send_to(s, "sender@x.example", "a@x.example", msg_c, &r);
	is_result(&r, SMTP_SENT, 250, "implicit TLS, verified: sent");
	ok(stored_exactly(imp, 1, msg_c) && json_has(imp, 1, "\"tls\": true"),
	    "...arrives exactly, over TLS");
	/* The server drops the idle session after 1 s, as real ones do
	 * after minutes; the next send must reconnect by itself. */
	sleep_ms(1500);
	send_to(s, "sender@x.example", "a@x.example", msg_c, &r);
	is_result(&r, SMTP_SENT, 250, "a send after the server closed the "
	    "idle connection reconnects");
	is_int(connections(imp), 2, "...on a second connection");
	smtp_free(s);
	s = handle(url, 0, other, NULL, NULL, 5);
	send_to(s, "sender@x.example", "a@x.example", msg_c, &r);
	is_result(&r, SMTP_TEMPFAIL, 0,
	    "implicit TLS, unverifiable: temporary, code 0");
	is_int(stored(imp), 2, "...nothing sent");
	smtp_free(s);
	s = NULL;
done:
	smtp_free(s);
	if (srv)
		ok(server_stop(srv) < 1, "STARTTLS server stops within 1 s");
	if (imp)
		ok(server_stop(imp) < 1, "implicit server stops within 1 s");
	g_free(cert);
	g_free(key);
	g_free(other);
}

int
main(void)
{
	double t0 = now();

	signal(SIGPIPE, SIG_IGN);
	if (access(PYTHON, X_OK) != 0 || system(PYTHON
	    " -c 'import aiosmtpd' >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP %s cannot import aiosmtpd "
		    "(apt-get install python3-aiosmtpd)\n", PYTHON);
		return 0;
	}
	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP openssl is missing\n");
		return 0;
	}
	if ((tmp = g_dir_make_tmp("mp-smtp-XXXXXX", NULL)) == NULL) {
		printf("1..0 # SKIP no temporary directory\n");
		return 0;
	}
	atexit(stop_all);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	smtp_global_init();

	test_plain();
	test_idle();
	test_tls();

	stop_all();
	smtp_global_cleanup();
	rm_tree(tmp);
	g_free(tmp);
	for (int i = 0; i < nservers; i++)
		g_free(servers[i].dir);
	printf("# %.2f s\n", now() - t0);
	return tap_done();
}
